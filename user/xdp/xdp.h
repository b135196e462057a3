/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The XDP fast path from user space: its pinned maps (maps.c, maps_read.c),
 * the maps kept in step with the service commands (sync.c) and the
 * "viplb xdp" commands (cmd.c).
 *
 * The maps are the XDP program's whole configuration.  A service is
 * written whole (xdp_svc_put): its backends keep their ids, new ones get
 * free ids, and its Maglev ring is rebuilt by include/viplb/maglev.h over
 * the backends sorted as the module sorts them, into a free range of the
 * slot pool that the service entry then names.  Other services are not
 * touched.
 */
#ifndef VIPLB_USER_XDP_H
#define VIPLB_USER_XDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <viplb/xdp.h>

#include "parse.h"
#include "service.h"
#include "util.h"

/* A range of a slot pool's elements. */
struct pool_range {
	__u32 off;
	__u32 len;
};

/*
 * The slot pool rings are written to (see maps.c): the current one, or
 * during a restore the new generation's.
 */
struct xdp_pool {
	int fd;		/* -1: not known yet (pool_load()) */
	__u32 idx;	/* its element of pools */
	__u32 size;	/* its elements */
	struct viplb_xdp_slots *mem;	/* mmapped */
	/*
	 * The ranges in use, sorted: the rings vips named when this process
	 * loaded it, and those it allocated since.  A range this process
	 * frees is not reused by it: a packet may still be reading it.
	 */
	struct pool_range *used;
	size_t nr_used, cap_used;
};

/* File descriptors of the XDP maps, and the backends map mmapped. */
struct xdp_maps {
	int vip_gen;
	int vips; /* the current generation's, from vip_gen */
	int pools;
	int backends;
	int flows;
	int svc_stats;
	int be_stats;
	int stats;
	int config;
	int tx_ports;
	int vlans;
	int rr_next;
	int svcs; /* -1: pinned by an older viplb, without it */
	struct viplb_xdp_backend *be; /* VIPLB_XDP_MAX_BACKENDS entries */
	int nr_cpus;
	/*
	 * What this process knows of the ids, so that writing n services
	 * costs O(n), not O(n^2): the service ids in use (read from vips
	 * once, on the first allocation, then kept up to date; NULL until
	 * then), and an id below which no backend id is free.  No other
	 * process writes meanwhile: writers hold the lock of xdp_lock().
	 */
	unsigned char *svc_used; /* VIPLB_XDP_MAX_SERVICES flags */
	__u32 nr_svc_used;
	/* Of them, the generation a restore replaces (xdp_svc_replace()). */
	__u32 svc_ids_aside;
	__u32 be_free_hint;
	/* xdp_svc_put()'s flags of the backend ids it has given out. */
	unsigned char *be_taken;
	struct xdp_pool pool;
	/*
	 * While a restore writes its generation aside: the pool is the new
	 * generation's, sized for it; with @pool_grow, twice that (a put
	 * that did not fit).
	 */
	bool replacing;
	bool pool_grow;
};

/* Pinned too, but optional: an older viplb's set of maps has none. */
#define XDP_MAP_SVCS "svcs"
/* Optional too: viplbd's tcp checks sent outside the stack. */
#define XDP_MAP_HC_PROBES "hc_probes"
#define XDP_MAP_HC_RESULTS "hc_results"
#define XDP_MAP_OPTIONAL_NAMES \
	{ XDP_MAP_SVCS, XDP_MAP_HC_PROBES, XDP_MAP_HC_RESULTS }

/* What an older viplb pinned in vip_gen's place (vips itself). */
#define XDP_MAP_OLD_VIPS "vips"
/* And in pools' place: a map of one inner map per ring. */
#define XDP_MAP_OLD_RINGS "rings"

/* Map names, as pinned (also the BPF object's map names). */
#define XDP_MAP_NAMES                                                      \
	{ "vip_gen", "pools", "backends", "flows", "svc_stats", "be_stats", \
	  "stats", "config", "tx_ports", "vlans", "rr_next" }

/*
 * Set up m from map fds already in it (-1 for absent), e.g. from a loaded
 * skeleton: mmaps the backends map.  The fds stay the caller's.  Returns
 * 0 or a negative errno.
 */
int xdp_maps_init(struct xdp_maps *m);
/*
 * Open every map pinned in dir; -errno if any is missing.  The vlans map
 * is refreshed from the netns's devices (xdp_vlans_sync()) on the way.
 */
int xdp_maps_open(struct xdp_maps *m, const char *dir);
/*
 * served.c: who serves a service, the one rule "viplb show" and "viplb xdp
 * stats" print.  XDP serves dr and tun services of sched maglev, sh, rr or
 * wrr (the program passes the others: bpf/viplb.bpf.c, step 3); the
 * module, when loaded, serves the rest; else nothing does.
 */
bool xdp_serves(const struct lb_service *svc);
/*
 * "xdp", "module" or "none", given whether each is there; without the
 * module, what xdp_passed_to says if set (the target layer sets it).
 */
const char *xdp_served_by(const struct lb_service *svc, bool module,
			  bool xdp);
/* Who serves a service XDP passes when the module is not loaded. */
extern const char *(*xdp_passed_to)(const struct lb_service *svc);

/* Unmap; with close_fds, close the fds too. */
void xdp_maps_release(struct xdp_maps *m, bool close_fds);

/*
 * "flows N": the flows map's max_entries for N flows, and N for a map's
 * max_entries and flags.  See xdp_flows_map_size() in maps.c.
 */
__u32 xdp_flows_map_size(__u32 flows);
__u32 xdp_flows_capacity(__u32 max_entries, __u32 map_flags);

/*
 * Write a service and all its backends (replacing what the maps hold for
 * its key).  Backends that disappear keep serving their pinned flows,
 * unless flush_removed.  Returns 0 or a negative errno (-EAFNOSUPPORT for
 * a backend of another family than the VIP, -ENOSPC when out of ids,
 * -EINVAL for a bad table size).
 */
int xdp_svc_put(struct xdp_maps *m, const struct lb_service *svc,
		bool flush_removed);
/*
 * Replace every service by those of @list, all at once for the program:
 * a new generation of vips is written aside, under ids the current one
 * does not use, then swapped in (see maps.c).  The backends of the old
 * generation are retired if their service stays (its pinned flows go on
 * there), freed if not.  Returns 0 or a negative errno: -ENOSPC, with
 * nothing changed, when the two generations do not fit in the backend
 * ids at once; after another error the old generation stays in force.
 */
int xdp_svc_replace(struct xdp_maps *m, const struct lb_service_list *list);
/* Delete a service and its backends; -ENOENT if absent. */
int xdp_svc_del(struct xdp_maps *m, const struct svc_key *key);
/* Delete every service and backend (one pass over the backends). */
int xdp_svc_flush(struct xdp_maps *m);
/* Read one service (key) or every service (key NULL), sorted by key. */
int xdp_svc_read(struct xdp_maps *m, const struct svc_key *key,
		 struct lb_service_list *list, bool with_stats);
/* Zero the counters of one service and its backends, or of all (NULL). */
int xdp_stats_zero(struct xdp_maps *m, const struct svc_key *key);
/*
 * vlan.c: the vlans map made the netns's VLAN devices (ifindex -> lower
 * device, tag), by an rtnetlink dump.  0 or a negative errno.
 */
int xdp_vlans_sync(struct xdp_maps *m);
/*
 * An RTM_NEWLINK message: if it is a VLAN device whose lower device is in
 * this netns, its ifindex and vlans entry, and true.
 */
struct nlmsghdr;
bool xdp_vlan_of_link(const struct nlmsghdr *nlh, __u32 *ifindex,
		      struct viplb_xdp_vlan *v);
/* Sum the per-CPU global counters. */
int xdp_stats_read(struct xdp_maps *m, struct viplb_xdp_stats *st);
/* Name of a global counter, for output. */
const char *xdp_stat_name(unsigned int i);

/*
 * Apply a parsed service/backend/flush/stats-zero command to the maps
 * alone, as the module would (used when the module is not loaded).
 * Returns 0, or -1 after printing an error naming the command.
 */
int xdp_apply_cmd(struct xdp_maps *m, const struct config_cmd *cmd);
/*
 * Run a restore's commands on a model in memory, from an empty config,
 * with the limits of the maps: 0 with the services it builds in @out (if
 * not NULL), or -1 after printing the first error (with its line), the
 * maps untouched.
 */
int xdp_restore_build(const struct config_cmd *cmds, size_t n,
		      struct lb_service_list *out);

/*
 * neigh.c: make the neighbour table hold a managed entry for the next hop
 * of every dr and tun backend in the maps, and drop the entries it made
 * that no backend needs any more (all of them if m is NULL: the last
 * detach).  Problems are warnings, once.
 */
void xdp_neigh_sync(struct xdp_maps *m);
/* NDA_PROTOCOL of the entries xdp_neigh_sync() makes ("proto 245"). */
#define VIPLB_NEIGH_PROTO 245

/*
 * pin.c: where the pinned state lives, its locks, stale directories.
 *
 * The host's bpffs: /sys/fs/bpf in the mount namespace of pid 1, as a
 * path this process can open ("/proc/1/root/sys/fs/bpf" from another
 * mount namespace, as under "ip netns exec").
 */
const char *xdp_bpffs(void);
/* A path of that namespace as its own processes see it: /sys/fs/bpf/... */
const char *xdp_host_path(const char *path);
/* Its viplb directory, which holds one directory per netns. */
const char *xdp_pin_root(void);
/* Whether a bpffs is mounted there. */
bool xdp_bpffs_mounted(void);
/* Mount one there if there is none.  0 or -1 (reported, naming @what). */
int xdp_bpffs_mount(const char *what);
/*
 * The pinned state directory of this netns, keyed by its netns cookie,
 * or NULL if the cookie cannot be read (xdp_pin_dir_check() says why).
 */
const char *xdp_pin_dir(void);
/* 0 if xdp_pin_dir() is known, else -1 after an error naming @what. */
int xdp_pin_dir_check(const char *what);
/* A path in xdp_pin_dir(). */
void xdp_pin_path(char *buf, size_t len, const char *name);
/* Whether XDP is attached in this netns (its maps are pinned). */
bool xdp_attached(void);
/*
 * Whether the maps pinned here are an older viplb's (vips pinned, no
 * vip_gen), which this one cannot use: they must be detached first.
 */
bool xdp_pinned_by_old(void);
/*
 * The write lock of this netns's state: an exclusive flock on its
 * directory (created first if @create), held until xdp_unlock() or the
 * process ends; a no-op while held.  Every command that writes the maps
 * takes it before reading what it will change.  0 or -1 (reported).
 */
int xdp_lock(const char *what, bool create);
void xdp_unlock(void);
/*
 * The lock of the viplb directory, for creating and removing netns
 * directories (attach, detach, stale ones); taken before xdp_lock(), so
 * it first drops a held xdp_lock().
 */
int xdp_lock_root(const char *what);
void xdp_unlock_root(void);
/*
 * Remove the directories of other netns that have no XDP link attached
 * to a device any more (their netns was deleted without a detach), and
 * those of the old scheme (netns-INODE) in the same state.  Takes the
 * viplb directory's lock unless held; if !@wait, does nothing when busy.
 */
void xdp_remove_stale(bool wait);

/* sync.c: the maps alone, and the maps kept in step with the module. */

/* xdp_maps_open() of this netns's maps; -1 after an error naming @what. */
int xdp_open_maps(struct xdp_maps *m, const char *what);
/*
 * Copy the module's services (one, or all if @key is NULL) into the maps.
 * 0 or -1 (reported, naming @what).
 */
int xdp_copy_from_module(struct xdp_maps *m, const struct svc_key *key,
			 bool flush_removed, const char *what);
/*
 * After a command the module accepted: copy the affected service(s) from
 * the module to the XDP maps.  Returns 0 or -1 (reported).
 */
int xdp_mirror(const struct config_cmd *cmd);
/* After a restore the module accepted: the XDP maps follow.  0 or -1. */
int xdp_mirror_all(void);
/*
 * A restore without the module: built whole in memory first
 * (xdp_restore_build(): an error changes nothing), then written as a new
 * generation and switched in at once (xdp_svc_replace()).  0 or -1
 * (reported).
 */
int xdp_restore(const struct config_cmd *cmds, size_t n);
/* A command without the module: the XDP maps alone.  0 or -1. */
int xdp_apply(const struct config_cmd *cmd);
/* Services from the maps (one, or all if @key is NULL).  0 or -1. */
int xdp_fetch(const struct svc_key *key, bool with_stats, const char *what,
	      struct lb_service_list *list);

/* cmd.c: viplb xdp ... */
int do_xdp(int argc, char **argv);
/* Whether the kernel lets XDP call bpf_xdp_adjust_meta(). */
bool xdp_meta_supported(void);
struct viplb;
/* The skeleton opened, its load-time settings made for this kernel. */
struct viplb *xdp_skel_open(void);

#endif /* VIPLB_USER_XDP_H */
