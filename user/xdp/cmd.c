// SPDX-License-Identifier: GPL-2.0
/*
 * viplb xdp ...: load, attach, inspect and probe the XDP fast path.
 *
 * The first attach loads the programs (libbpf skeleton: open, size the
 * flows map, load), pins them and their maps in this netns's directory
 * (see pin.c) and copies the module's services in; later attaches reuse
 * the pinned programs.  Each device gets the XDP program (a pinned link)
 * and, first, the TC program at its clsact ingress (a filter of viplb's
 * own priority and handle), which sends what XDP passes for want of a
 * neighbour entry.  The last detach removes the directory.  Attach and
 * detach hold the viplb directory's lock and this netns's (pin.c).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/stat.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <linux/viplb.h>

#include "errors.h"
#include "nl.h"
#include "parse.h"
#include "print.h"
#include "service.h"
#include "viplb.skel.h"
#include "xdp.h"

/* Only libbpf's warnings (verifier logs of a failed load among them). */
static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level != LIBBPF_WARN)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* attach */

struct attach_args {
	const char *dev;
	unsigned int ifindex;
	__u32 flags; /* XDP_FLAGS_* */
	unsigned long flows;
	struct viplb_xdp_config cfg; /* tunsrc given on the command line */
};

static int parse_attach(int argc, char **argv, struct attach_args *a)
{
	int i;

	memset(a, 0, sizeof(*a));
	a->flows = VIPLB_XDP_FLOWS_DEFAULT;
	if (argc < 1) {
		errmsg("xdp attach: missing device (xdp attach DEV [mode native|generic|auto] [flows N] [tunsrc ADDR])");
		return -1;
	}
	a->dev = argv[0];
	a->ifindex = if_nametoindex(a->dev);
	if (!a->ifindex) {
		errmsg("xdp attach: no device `%s'", quote_arg(a->dev));
		return -1;
	}
	for (i = 1; i < argc; i += 2) {
		const char *kw = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		struct in6_addr a6;
		struct in_addr a4;

		if (!v) {
			errmsg("xdp attach: `%s' needs a value", quote_arg(kw));
			return -1;
		}
		if (!strcmp(kw, "mode")) {
			if (!strcmp(v, "native"))
				a->flags = XDP_FLAGS_DRV_MODE;
			else if (!strcmp(v, "generic"))
				a->flags = XDP_FLAGS_SKB_MODE;
			else if (!strcmp(v, "auto"))
				a->flags = 0;
			else {
				errmsg("xdp attach: invalid mode `%s' (use native, generic, auto)",
				       quote_arg(v));
				return -1;
			}
		} else if (!strcmp(kw, "flows")) {
			if (parse_uint(v, 1UL << 28, &a->flows) || !a->flows) {
				errmsg("xdp attach: invalid flows `%s' (use 1..268435456)",
				       quote_arg(v));
				return -1;
			}
		} else if (!strcmp(kw, "tunsrc")) {
			if (inet_pton(AF_INET, v, &a4) == 1) {
				a->cfg.tun_src4 = a4.s_addr;
			} else if (inet_pton(AF_INET6, v, &a6) == 1) {
				memcpy(a->cfg.tun_src6, &a6, 16);
			} else {
				errmsg("xdp attach: invalid tunsrc `%s' (use an IPv4 or IPv6 address)",
				       quote_arg(v));
				return -1;
			}
		} else {
			errmsg("xdp attach: unknown argument `%s' (use mode, flows, tunsrc)",
			       quote_arg(kw));
			return -1;
		}
	}
	return 0;
}

static bool v6_zero(const __be32 *a)
{
	return !(a[0] | a[1] | a[2] | a[3]);
}

/* Outer sources of tun not set yet: the device's first addresses. */
static void default_tun_src(struct viplb_xdp_config *cfg, const char *dev)
{
	struct ifaddrs *ifa, *i;

	if (getifaddrs(&ifa))
		return;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, dev))
			continue;
		if (i->ifa_addr->sa_family == AF_INET && !cfg->tun_src4) {
			cfg->tun_src4 =
				((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr;
		} else if (i->ifa_addr->sa_family == AF_INET6 &&
			   v6_zero(cfg->tun_src6)) {
			const struct in6_addr *a =
				&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;

			if (!IN6_IS_ADDR_LINKLOCAL(a))
				memcpy(cfg->tun_src6, a, 16);
		}
	}
	freeifaddrs(ifa);
}

/*
 * Pin the maps of XDP_MAP_NAMES and XDP_MAP_OPTIONAL_NAMES; not vips,
 * the first generation's only (the program and user space find the
 * current one through vip_gen).
 */
static int pin_map(struct bpf_object *obj, const char *name)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, name);
	char path[256];

	if (!map)
		return -ENOENT;
	xdp_pin_path(path, sizeof(path), name);
	return bpf_map__pin(map, path);
}

static int pin_maps(struct bpf_object *obj)
{
	static const char *const names[] = XDP_MAP_NAMES;
	static const char *const optional[] = XDP_MAP_OPTIONAL_NAMES;
	size_t i;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(names) && !err; i++)
		err = pin_map(obj, names[i]);
	for (i = 0; i < ARRAY_SIZE(optional) && !err; i++)
		err = pin_map(obj, optional[i]);
	return err;
}

/*
 * Whether this kernel lets XDP programs call bpf_xdp_adjust_meta(): a
 * four-instruction program that calls it, loaded.  Some kernels refuse
 * it with a message that libbpf_probe_bpf_helper() takes for support.
 */
bool xdp_meta_supported(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_2 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_xdp_adjust_meta },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0,
		  .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd;

	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "viplb_meta", "GPL", insns,
			   ARRAY_SIZE(insns), NULL);
	if (fd >= 0) {
		close(fd);
		return true;
	}
	/* Any other error (no privilege) is the real load's to report. */
	return errno != EINVAL;
}

struct viplb *xdp_skel_open(void)
{
	struct viplb *skel = viplb__open();

	if (skel)
		skel->rodata->xdp_meta_ok = xdp_meta_supported();
	return skel;
}

/* Load the program, pin it and its maps; returns the program fd. */
static int load_and_pin(const struct attach_args *a)
{
	struct viplb *skel;
	char path[256];
	int err, fd = -1;

	skel = xdp_skel_open();
	if (!skel) {
		errmsg("xdp attach: opening the BPF object: %s",
		       strerror(errno));
		return -1;
	}
	err = bpf_map__set_max_entries(skel->maps.flows,
				       xdp_flows_map_size(a->flows));
	if (!err)
		err = viplb__load(skel);
	if (err) {
		errmsg("xdp attach: loading the XDP program: %s",
		       strerror(-err));
		goto out;
	}
	err = pin_maps(skel->obj);
	xdp_pin_path(path, sizeof(path), "prog");
	if (!err)
		err = bpf_program__pin(skel->progs.viplb_xdp, path);
	xdp_pin_path(path, sizeof(path), "tc_prog");
	if (!err)
		err = bpf_program__pin(skel->progs.viplb_tc, path);
	if (err) {
		errmsg("xdp attach: pinning in %s: %s", xdp_pin_dir(),
		       strerror(-err));
		goto out; /* the caller unpins */
	}
	fd = dup(bpf_program__fd(skel->progs.viplb_xdp));
out:
	viplb__destroy(skel);
	return fd;
}

static void unpin_all(void)
{
	static const char *const names[] = XDP_MAP_NAMES;
	static const char *const optional[] = XDP_MAP_OPTIONAL_NAMES;
	char path[256];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		xdp_pin_path(path, sizeof(path), names[i]);
		unlink(path);
	}
	for (i = 0; i < ARRAY_SIZE(optional); i++) {
		xdp_pin_path(path, sizeof(path), optional[i]);
		unlink(path);
	}
	/* An older viplb's state, detached by this one. */
	xdp_pin_path(path, sizeof(path), XDP_MAP_OLD_VIPS);
	unlink(path);
	xdp_pin_path(path, sizeof(path), XDP_MAP_OLD_RINGS);
	unlink(path);
	xdp_pin_path(path, sizeof(path), "prog");
	unlink(path);
	xdp_pin_path(path, sizeof(path), "tc_prog");
	unlink(path);
	rmdir(xdp_pin_dir());
	rmdir(xdp_pin_root()); /* fails while another netns uses it */
}

/* Whether forwarding is on for lo ("net/ipv4" or "net/ipv6"); true if unknown. */
static bool lo_forwarding(const char *proto)
{
	char path[64], c = '1';
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/%s/conf/lo/forwarding", proto);
	f = fopen(path, "r");
	if (!f)
		return true;
	if (fread(&c, 1, 1, f) != 1)
		c = '1';
	fclose(f);
	return c != '0';
}

/*
 * XDP's route lookups are made from lo, and bpf_fib_lookup() wants
 * forwarding on there (viplb.8, THE XDP FAST PATH): turn it on.  It
 * forwards nothing that comes from the network.  0, or -1 (reported).
 */
static int lo_forwarding_on(const char *proto)
{
	char path[64];
	FILE *f;

	if (lo_forwarding(proto))
		return 0;
	snprintf(path, sizeof(path), "/proc/sys/%s/conf/lo/forwarding", proto);
	f = fopen(path, "w");
	if (f) {
		bool ok = fputs("1\n", f) != EOF;

		if (!fclose(f) && ok)
			return 0;
	}
	errmsg("xdp attach: writing 1 to %s: %s", path, strerror(errno));
	return -1;
}

/*
 * The TC program's filter on a device's clsact ingress: a priority and
 * handle of viplb's own.  Priority 1 so that it runs before the filters
 * users add (their default priorities are higher numbers), which it does
 * not disturb: a packet without its metadata goes on to the next filter.
 * The handle is 245, as the neighbour entries' protocol.
 */
#define TC_PRIO 1
#define TC_HANDLE 245

#define TC_HOOK(name, dev_index)                                            \
	LIBBPF_OPTS(bpf_tc_hook, name, .ifindex = (dev_index),               \
		    .attach_point = BPF_TC_INGRESS)

/*
 * The id of the program at viplb's filter on @ifindex, or 0 if none.
 * libbpf would print the kernel's "not found" as a warning: not here.
 */
static __u32 tc_filter_prog(unsigned int ifindex)
{
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = TC_HANDLE, .priority = TC_PRIO);
	TC_HOOK(hook, ifindex);
	libbpf_print_fn_t print = libbpf_set_print(NULL);
	int err;

	err = bpf_tc_query(&hook, &q);
	libbpf_set_print(print);
	return err ? 0 : q.prog_id;
}

/* Whether program @id is a viplb_tc (of this load or an earlier one). */
static bool is_viplb_tc(__u32 id)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	bool ours;
	int fd;

	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return false;
	ours = !bpf_obj_get_info_by_fd(fd, &info, &len) &&
	       !strcmp(info.name, "viplb_tc");
	close(fd);
	return ours;
}

/*
 * Attach the pinned TC program to @ifindex's clsact ingress, creating the
 * qdisc if there is none; a viplb_tc already there (left by a netns
 * state since removed) is replaced.  0 or -1 (reported).  No tc_prog
 * pinned means a program pinned by an older viplb, which never passes a
 * packet for TC: then nothing is attached.
 */
static int tc_attach(unsigned int ifindex, const char *dev)
{
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE,
		    .priority = TC_PRIO);
	TC_HOOK(hook, ifindex);
	libbpf_print_fn_t print;
	char path[256];
	__u32 id;
	int fd, err;

	xdp_pin_path(path, sizeof(path), "tc_prog");
	fd = bpf_obj_get(path);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0) {
		errmsg("xdp attach: opening %s: %s", path, strerror(errno));
		return -1;
	}
	/* Quiet: a clsact qdisc already there is fine. */
	print = libbpf_set_print(NULL);
	err = bpf_tc_hook_create(&hook);
	libbpf_set_print(print);
	if (err && err != -EEXIST) {
		errmsg("xdp attach: adding a clsact qdisc to `%s': %s", dev,
		       strerror(-err));
		close(fd);
		return -1;
	}
	id = tc_filter_prog(ifindex);
	if (id && !is_viplb_tc(id)) {
		errmsg("xdp attach: `%s' has a tc filter of its own at ingress priority %u handle %#x, which viplb needs",
		       dev, TC_PRIO, TC_HANDLE);
		close(fd);
		return -1;
	}
	opts.prog_fd = fd;
	opts.flags = id ? BPF_TC_F_REPLACE : 0;
	err = bpf_tc_attach(&hook, &opts);
	close(fd);
	if (err == -EEXIST || err == -EINVAL) {
		errmsg("xdp attach: adding a tc filter (ingress priority %u handle %#x) to `%s': %s: ingress priority %u seems taken by a filter of another kind, protocol or handle, and viplb needs it",
		       TC_PRIO, TC_HANDLE, dev, strerror(-err), TC_PRIO);
		return -1;
	}
	if (err) {
		errmsg("xdp attach: adding a tc filter (ingress priority %u handle %#x) to `%s': %s",
		       TC_PRIO, TC_HANDLE, dev, strerror(-err));
		return -1;
	}
	return 0;
}

/*
 * Remove viplb's TC filter from @ifindex, if it is there.  The clsact
 * qdisc stays: viplb cannot tell whether it made it, nor whether other
 * filters (egress ones too) use it, and an empty one costs little.
 */
static void tc_detach(unsigned int ifindex, const char *dev)
{
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE,
		    .priority = TC_PRIO);
	TC_HOOK(hook, ifindex);
	__u32 id = tc_filter_prog(ifindex);
	int err;

	if (!id || !is_viplb_tc(id))
		return;
	err = bpf_tc_detach(&hook, &opts);
	if (err)
		errmsg("xdp detach: removing the tc filter from `%s': %s", dev,
		       strerror(-err));
}

static int xdp_attach(int argc, char **argv)
{
	LIBBPF_OPTS(bpf_link_create_opts, lopts);
	struct viplb_xdp_config cfg;
	struct attach_args a;
	char path[256], link[64];
	bool fresh = false;
	struct xdp_maps m;
	__u32 zero = 0;
	int prog, fd;

	if (parse_attach(argc, argv, &a) || xdp_pin_dir_check("xdp attach") ||
	    lo_forwarding_on("net/ipv4") || lo_forwarding_on("net/ipv6") ||
	    xdp_bpffs_mount("xdp attach") || xdp_lock_root("xdp attach"))
		return 1;
	/* A new netns may not inherit anything: the dead ones' state goes. */
	xdp_remove_stale(true);
	if (xdp_lock("xdp attach", true))
		goto unlock;
	snprintf(link, sizeof(link), "link_%u", a.ifindex);
	xdp_pin_path(path, sizeof(path), link);
	if (!access(path, F_OK)) {
		errmsg("xdp attach: already attached to `%s' (xdp detach %s first)",
		       a.dev, a.dev);
		goto unlock;
	}
	xdp_pin_path(path, sizeof(path), "prog");
	prog = bpf_obj_get(path);
	if (prog < 0) {
		prog = load_and_pin(&a);
		if (prog < 0) {
			unpin_all();
			goto unlock;
		}
		fresh = true;
	}
	if (xdp_open_maps(&m, "xdp attach"))
		goto fail;
	if (bpf_map_lookup_elem(m.config, &zero, &cfg))
		memset(&cfg, 0, sizeof(cfg));
	if (a.cfg.tun_src4)
		cfg.tun_src4 = a.cfg.tun_src4;
	if (!v6_zero(a.cfg.tun_src6))
		memcpy(cfg.tun_src6, a.cfg.tun_src6, 16);
	default_tun_src(&cfg, a.dev);
	if (bpf_map_update_elem(m.config, &zero, &cfg, BPF_ANY) ||
	    bpf_map_update_elem(m.tx_ports, &a.ifindex, &a.ifindex, BPF_ANY)) {
		errmsg("xdp attach: writing the XDP maps: %s", strerror(errno));
		goto fail_maps;
	}
	if (fresh && module_loaded() &&
	    xdp_copy_from_module(&m, NULL, false, "xdp attach"))
		goto fail_maps;

	/* TC first: XDP may pass packets for it from its first one on. */
	if (tc_attach(a.ifindex, a.dev)) {
		bpf_map_delete_elem(m.tx_ports, &a.ifindex);
		goto fail_maps;
	}
	lopts.flags = a.flags;
	fd = bpf_link_create(prog, a.ifindex, BPF_XDP, &lopts);
	if (fd < 0) {
		errmsg("xdp attach: attaching to `%s': %s", a.dev,
		       strerror(errno));
		tc_detach(a.ifindex, a.dev);
		bpf_map_delete_elem(m.tx_ports, &a.ifindex);
		goto fail_maps;
	}
	xdp_pin_path(path, sizeof(path), link);
	if (bpf_obj_pin(fd, path)) {
		errmsg("xdp attach: pinning %s: %s", path, strerror(errno));
		close(fd);
		tc_detach(a.ifindex, a.dev);
		goto fail_maps;
	}
	close(fd);
	/* The module's services, copied in: their next hops get resolved. */
	if (fresh)
		xdp_neigh_sync(&m);
	xdp_maps_release(&m, true);
	close(prog);
	xdp_unlock_root();
	return 0;

fail_maps:
	xdp_maps_release(&m, true);
fail:
	close(prog);
	if (fresh)
		unpin_all();
unlock:
	xdp_unlock_root();
	return 1;
}

/* The ifindexes with a pinned link, in *out (caller frees). */
static int list_links(unsigned int **out, size_t *nr)
{
	unsigned int *v = NULL, idx;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	*out = NULL;
	*nr = 0;
	d = opendir(xdp_pin_dir());
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (sscanf(de->d_name, "link_%u", &idx) != 1)
			continue;
		if (n == cap) {
			void *p;

			cap = cap ? 2 * cap : 8;
			p = realloc(v, cap * sizeof(*v));
			if (!p)
				break;
			v = p;
		}
		v[n++] = idx;
	}
	closedir(d);
	*out = v;
	*nr = n;
	return 0;
}

static int xdp_detach(int argc, char **argv)
{
	char path[256], link[64];
	unsigned int ifindex, *links;
	struct xdp_maps m;
	size_t nlinks;
	int fd;

	if (argc != 1) {
		errmsg("xdp detach: use xdp detach DEV");
		return 1;
	}
	ifindex = if_nametoindex(argv[0]);
	if (!ifindex) {
		errmsg("xdp detach: no device `%s'", quote_arg(argv[0]));
		return 1;
	}
	if (xdp_pin_dir_check("xdp detach"))
		return 1;
	snprintf(link, sizeof(link), "link_%u", ifindex);
	xdp_pin_path(path, sizeof(path), link);
	if (!access(path, F_OK) &&
	    (xdp_lock_root("xdp detach") || xdp_lock("xdp detach", false)))
		return 1;
	fd = bpf_obj_get(path);
	if (fd < 0) {
		errmsg("xdp detach: viplb XDP is not attached to `%s'",
		       quote_arg(argv[0]));
		xdp_unlock_root();
		return 1;
	}
	if (bpf_link_detach(fd))
		errmsg("xdp detach: detaching from `%s': %s", argv[0],
		       strerror(errno));
	close(fd);
	unlink(path);
	/* After XDP: no packet is passed for it any more. */
	tc_detach(ifindex, argv[0]);
	if (!xdp_maps_open(&m, xdp_pin_dir())) {
		bpf_map_delete_elem(m.tx_ports, &ifindex);
		xdp_maps_release(&m, true);
	}
	list_links(&links, &nlinks);
	free(links);
	if (!nlinks) {
		/* The neighbour entries viplb made go with the maps. */
		xdp_neigh_sync(NULL);
		unpin_all();
	}
	xdp_unlock();
	xdp_unlock_root();
	return 0;
}

static const char *attach_mode_name(__u8 mode)
{
	switch (mode) {
	case XDP_ATTACHED_DRV:
		return "native";
	case XDP_ATTACHED_SKB:
		return "generic";
	case XDP_ATTACHED_HW:
		return "offload";
	case XDP_ATTACHED_MULTI:
		return "multi";
	}
	return "none";
}

static void print_addr_field(const char *key, const char *fmt, int af,
			     const void *a)
{
	char buf[INET6_ADDRSTRLEN];

	if (af == AF_INET ? !*(const __be32 *)a : v6_zero(a)) {
		print_null(PRINT_JSON, key, NULL);
		return;
	}
	inet_ntop(af, a, buf, sizeof(buf));
	print_string(PRINT_ANY, key, fmt, buf);
}

static int xdp_show(int argc, char **argv)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info), zero = 0;
	struct lb_service_list list;
	struct viplb_xdp_config cfg;
	unsigned int *links;
	struct xdp_maps m;
	size_t nlinks, i, nbe = 0;
	char name[IF_NAMESIZE];
	unsigned int ids_live = 0, ids_retired = 0;

	if (argc) {
		errmsg("xdp show: unexpected argument `%s'", quote_arg(argv[0]));
		return 1;
	}
	if (xdp_pin_dir_check("xdp show"))
		return 1;
	/* Not to be shown again: the state of deleted netns. */
	xdp_remove_stale(false);
	open_json_object(NULL);
	list_links(&links, &nlinks);
	open_json_array("devices");
	for (i = 0; i < nlinks; i++) {
		LIBBPF_OPTS(bpf_xdp_query_opts, q);
		__u32 tc;

		bpf_xdp_query(links[i], 0, &q);
		open_json_object(NULL);
		print_string(PRINT_ANY, "dev", "xdp dev %s",
			     if_indextoname(links[i], name) ? name : "?");
		print_uint(PRINT_ANY, "ifindex", " ifindex %u", links[i]);
		print_string(PRINT_ANY, "mode", " mode %s",
			     attach_mode_name(q.attach_mode));
		print_uint(PRINT_ANY, "prog_id", " prog %u", q.prog_id);
		tc = tc_filter_prog(links[i]);
		if (tc && is_viplb_tc(tc))
			print_uint(PRINT_ANY, "tc_prog_id", " tc prog %u", tc);
		else
			print_null(PRINT_ANY, "tc_prog_id", " tc none");
		print_fp("\n");
		close_json_object();
	}
	close_json_array();
	free(links);
	if (!xdp_attached()) {
		print_null(PRINT_ANY, "pinned", "xdp not attached\n");
		close_json_object();
		return 0;
	}
	if (xdp_open_maps(&m, "xdp show")) {
		close_json_object();
		return 1;
	}
	/* Where the host sees it, the same from every mount namespace. */
	print_string(PRINT_ANY, "pinned", "pinned %s",
		     xdp_host_path(xdp_pin_dir()));
	if (!bpf_obj_get_info_by_fd(m.flows, &info, &len))
		print_uint(PRINT_ANY, "flows_max", " flows %u",
			   xdp_flows_capacity(info.max_entries,
					      info.map_flags));
	if (!xdp_svc_read(&m, NULL, &list, false)) {
		for (i = 0; i < list.nr; i++)
			nbe += list.svcs[i].nr_backends;
		print_uint(PRINT_ANY, "services", " services %u",
			   (unsigned int)list.nr);
		print_uint(PRINT_ANY, "backends", " backends %u",
			   (unsigned int)nbe);
		free_services(&list);
	}
	/* Every backend id taken: live ones are the backends above. */
	for (i = 0; i < VIPLB_XDP_MAX_BACKENDS; i++) {
		if (m.be[i].state == VIPLB_XDP_BE_LIVE)
			ids_live++;
		else if (m.be[i].state == VIPLB_XDP_BE_RETIRED)
			ids_retired++;
	}
	/* The kernel's answer, as xdp_skel_open() gave it to the program. */
	print_string(PRINT_ANY, "neigh_meta", " neigh_meta %s",
		     xdp_meta_supported() ? "on" : "off");
	print_uint(PRINT_ANY, "ids_live", " ids live %u", ids_live);
	print_uint(PRINT_ANY, "ids_retired", " retired %u", ids_retired);
	if (!bpf_map_lookup_elem(m.config, &zero, &cfg)) {
		print_addr_field("tunsrc4", " tunsrc %s", AF_INET,
				 &cfg.tun_src4);
		print_addr_field("tunsrc6", " tunsrc %s", AF_INET6,
				 cfg.tun_src6);
	}
	print_fp("\n");
	close_json_object();
	xdp_maps_release(&m, true);
	return 0;
}

static int xdp_stats(int argc, char **argv)
{
	struct lb_service_list list;
	struct viplb_xdp_stats st;
	struct xdp_maps m;
	unsigned int i;
	int err;

	if (argc) {
		errmsg("xdp stats: unexpected argument `%s'",
		       quote_arg(argv[0]));
		return 1;
	}
	if (xdp_pin_dir_check("xdp stats"))
		return 1;
	if (!xdp_attached()) {
		errmsg("xdp stats: viplb XDP is not attached in this netns");
		return 1;
	}
	if (xdp_open_maps(&m, "xdp stats"))
		return 1;
	err = xdp_stats_read(&m, &st);
	if (!err)
		err = xdp_svc_read(&m, NULL, &list, true);
	xdp_maps_release(&m, true);
	if (err) {
		errmsg("xdp stats: reading the XDP maps: %s", strerror(-err));
		return 1;
	}
	open_json_object(NULL);
	open_json_object("counters");
	print_fp("xdp");
	for (i = 0; i < __VIPLB_XDP_ST_MAX; i++) {
		char fmt[64];

		snprintf(fmt, sizeof(fmt), " %s %%" PRIu64, xdp_stat_name(i));
		print_u64(PRINT_ANY, xdp_stat_name(i), fmt, st.c[i]);
		if (i == VIPLB_XDP_ST_LRU_MISS || i == VIPLB_XDP_ST_TTL)
			print_fp("\n   ");
	}
	print_fp("\n");
	close_json_object();
	/* XDP's route lookups are made from lo (viplb.8, THE XDP FAST PATH). */
	if (!lo_forwarding("net/ipv4"))
		errmsg("xdp stats: net.ipv4.conf.lo.forwarding is 0: IPv4 dr and tun packets are passed (fib_fwd_disabled)");
	if (!lo_forwarding("net/ipv6"))
		errmsg("xdp stats: net.ipv6.conf.lo.forwarding is 0: IPv6 dr and tun packets are passed (fib_fwd_disabled)");
	open_json_array("services");
	for (i = 0; i < list.nr; i++)
		print_service(&list.svcs[i], true,
			      xdp_served_by(&list.svcs[i], module_loaded(),
					    true),
			      true);
	close_json_array();
	close_json_object();
	free_services(&list);
	return 0;
}

/* lookup: the real program on a synthesized packet */

static int lookup_prog = -1;
static struct xdp_maps lookup_maps;

/* Builds Ethernet + IP + TCP/UDP for the flow, after the probe. */
static size_t build_probe(unsigned char *buf, const struct config_cmd *cmd)
{
	struct viplb_xdp_probe *probe = (void *)buf;
	unsigned char *p = buf + sizeof(*probe);
	uint16_t dport = cmd->has & HAS_DPORT ? cmd->dport : cmd->svc.port;
	size_t l4len = cmd->svc.proto == IPPROTO_TCP ? sizeof(struct tcphdr) :
						       sizeof(struct udphdr);
	struct ethhdr *eth = (void *)p;
	size_t iplen;

	memset(buf, 0, 256);
	probe->magic = VIPLB_XDP_PROBE_MAGIC;
	p += sizeof(*eth);
	if (cmd->svc.af == AF_INET) {
		struct iphdr *iph = (void *)p;

		eth->h_proto = htons(ETH_P_IP);
		iplen = sizeof(*iph) + l4len;
		iph->version = 4;
		iph->ihl = 5;
		iph->ttl = 64;
		iph->tot_len = htons(iplen);
		iph->protocol = cmd->svc.proto;
		memcpy(&iph->saddr, &cmd->src.addr, 4);
		memcpy(&iph->daddr, &cmd->svc.addr, 4);
		p += sizeof(*iph);
	} else {
		struct ipv6hdr *ip6h = (void *)p;

		eth->h_proto = htons(ETH_P_IPV6);
		iplen = sizeof(*ip6h) + l4len;
		ip6h->version = 6;
		ip6h->hop_limit = 64;
		ip6h->payload_len = htons(l4len);
		ip6h->nexthdr = cmd->svc.proto;
		memcpy(&ip6h->saddr, &cmd->src.addr, 16);
		memcpy(&ip6h->daddr, &cmd->svc.addr, 16);
		p += sizeof(*ip6h);
	}
	if (cmd->svc.proto == IPPROTO_TCP) {
		struct tcphdr *th = (void *)p;

		th->source = htons(cmd->src.port);
		th->dest = htons(dport);
		th->doff = 5;
		th->syn = 1;
	} else {
		struct udphdr *uh = (void *)p;

		uh->source = htons(cmd->src.port);
		uh->dest = htons(dport);
		uh->len = htons(sizeof(*uh));
	}
	return sizeof(*probe) + sizeof(*eth) + iplen;
}

static int xdp_lookup(int argc, char **argv)
{
	unsigned char in[256], out[256];
	struct viplb_xdp_probe probe;
	struct lookup_reply r = { 0 };
	struct config_cmd cmd;
	struct xdp_maps *m;
	char path[256], what[256];
	struct xdp_md ctx = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	size_t len;
	int prog, ret;

	ret = parse_service_cmd(argc, argv, &cmd);
	if (ret)
		return parse_failed(ret);
	if (cmd.op != OP_SVC_LOOKUP) {
		errmsg("xdp: unknown command `%s' (use attach, detach, show, stats, lookup)",
		       quote_arg(argv[0]));
		return 1;
	}
	snprintf(what, sizeof(what), "xdp %s", format_cmd(path, 200, &cmd));
	/* Opened once per process: a batch (-b) of lookups reuses them. */
	if (lookup_prog < 0) {
		if (xdp_pin_dir_check(what))
			return 1;
		xdp_pin_path(path, sizeof(path), "prog");
		lookup_prog = bpf_obj_get(path);
		if (lookup_prog < 0) {
			errmsg("%s: viplb XDP is not attached in this netns",
			       what);
			return 1;
		}
		if (xdp_open_maps(&lookup_maps, what)) {
			close(lookup_prog);
			lookup_prog = -1;
			return 1;
		}
	}
	prog = lookup_prog;
	m = &lookup_maps;
	len = build_probe(in, &cmd);
	ctx.data = sizeof(probe);
	ctx.data_end = len;
	opts.data_in = in;
	opts.data_size_in = len;
	opts.data_out = out;
	opts.data_size_out = sizeof(out);
	opts.ctx_in = &ctx;
	opts.ctx_size_in = sizeof(ctx);
	ret = bpf_prog_test_run_opts(prog, &opts);
	if (ret) {
		errmsg("%s: BPF_PROG_TEST_RUN: %s", what, strerror(errno));
		return 1;
	}
	memcpy(&probe, out, sizeof(probe));

	r.key = cmd.svc;
	r.src = cmd.src;
	r.dport = cmd.has & HAS_DPORT ? cmd.dport : cmd.svc.port;
	r.pin = probe.pin;
	switch (probe.result) {
	case VIPLB_XDP_PROBE_NOT_VIP:
		errmsg("%s: %s (xdp maps)", what, strerror(ENOENT));
		return 1;
	case VIPLB_XDP_PROBE_BACKEND:
		if (probe.backend < VIPLB_XDP_MAX_BACKENDS) {
			const struct viplb_xdp_backend *e = &m->be[probe.backend];

			r.has_backend = true;
			memcpy(&r.be.key.addr, e->addr, sizeof(e->addr));
			r.be.key.port = ntohs(e->port);
			r.be.weight = e->weight;
		}
		print_lookup(&r);
		return 0;
	case VIPLB_XDP_PROBE_NO_BACKEND:
		print_lookup(&r);
		return 0;
	case VIPLB_XDP_PROBE_PASSED:
		errmsg("%s: passed to the stack at XDP (%s): the module serves this service",
		       what, xdp_stat_name(probe.stat));
		return 1;
	}
	errmsg("%s: the XDP program did not look the packet up (%s)", what,
	       xdp_stat_name(probe.stat) ? xdp_stat_name(probe.stat) : "?");
	return 1;
}

int do_xdp(int argc, char **argv)
{
	libbpf_set_print(libbpf_print);
	if (argc < 1) {
		errmsg("xdp: missing command (use attach, detach, show, stats, lookup, help)");
		return CMD_USAGE;
	}
	if (!strcmp(argv[0], "attach"))
		return xdp_attach(argc - 1, argv + 1);
	if (!strcmp(argv[0], "detach"))
		return xdp_detach(argc - 1, argv + 1);
	if (!strcmp(argv[0], "show"))
		return xdp_show(argc - 1, argv + 1);
	if (!strcmp(argv[0], "stats"))
		return xdp_stats(argc - 1, argv + 1);
	if (!strcmp(argv[0], "lookup"))
		return xdp_lookup(argc, argv);
	errmsg("xdp: unknown command `%s' (use attach, detach, show, stats, lookup, help)",
	       quote_arg(argv[0]));
	return 1;
}
