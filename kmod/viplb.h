/* SPDX-License-Identifier: GPL-2.0 */
/*
 * viplb: internal declarations shared by the module's files.
 *
 * Locking: each network namespace has one struct viplb_net.  Its mutex
 * serialises every configuration change and every netlink reader that walks
 * the configuration.  The datapath reads vn->cfg under rcu_read_lock() only.
 * Objects reachable from the live configuration are unlinked with the _rcu
 * list helpers and freed after a grace period.
 */
#ifndef _VIPLB_H
#define _VIPLB_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/netfilter.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/u64_stats_sync.h>
#include <net/genetlink.h>
#include <net/netns/generic.h>
#include <uapi/linux/viplb.h>
#include <viplb/hash.h>

#define VIPLB_SVC_HASH_BITS 12
#define VIPLB_MAX_BACKENDS 4096

/* Per-CPU counters of a service or backend, summed on read. */
struct viplb_pcpu_stats {
	u64_stats_t conns;
	u64_stats_t pkts_in;
	u64_stats_t pkts_out;
	u64_stats_t bytes_in;
	u64_stats_t bytes_out;
	struct u64_stats_sync syncp;
};

struct viplb_stats_sum {
	u64 conns;
	u64 pkts_in;
	u64 pkts_out;
	u64 bytes_in;
	u64 bytes_out;
	u64 active;
	u64 rejected;
	u64 untracked;
};

enum {
	VIPLB_RATE_CPS,
	VIPLB_RATE_PPS_IN,
	VIPLB_RATE_PPS_OUT,
	VIPLB_RATE_BPS_IN,
	VIPLB_RATE_BPS_OUT,
	VIPLB_RATE_NUM,
};

/* Baseline of "stats zero" and the rate estimator; under the netns mutex. */
struct viplb_stats_est {
	/* subtracted from the counters; NULL until the first zeroing */
	struct viplb_stats_sum *base;
	u64 last[VIPLB_RATE_NUM];	/* counters at the last estimate */
	u64 avg[VIPLB_RATE_NUM];	/* EWMA of per-second rates, << 10 */
	unsigned long last_time;	/* jiffies at the last estimate */
};

/*
 * The counters of a service or backend.  A restore's new object takes
 * over those of the live one it replaces (same key), so that counts, the
 * "stats zero" baseline, rates and lc's active flows carry on: both
 * objects hold a reference until freed.
 */
struct viplb_counters {
	refcount_t ref;
	atomic_t active;		/* flows, see flow.c */
	struct viplb_pcpu_stats __percpu *stats; /* in a block: service.c */
	/* Services only, and rare (no backend, flow table full): not per CPU. */
	atomic64_t rejected;
	atomic64_t untracked;
	struct viplb_stats_est est;	/* under the netns mutex */
};

struct viplb_svc_key {
	union nf_inet_addr addr;
	__be16 port;
	u8 proto;
	u8 af;
};

struct viplb_backend {
	struct list_head list;		/* in viplb_service.backends, RCU */
	refcount_t ref;			/* the service's, plus one per flow */
	union nf_inet_addr addr;
	__be16 port;
	u32 weight;
	u32 flags;
	s64 wrr_cur;			/* wrr state, under sched_lock */
	struct viplb_counters *cnt;
	struct viplb_stats_block *cnt_block; /* where cnt->stats is */
	struct viplb_route __rcu *route; /* dr/tun: cached, see xmit.c */
	struct rcu_head rcu;
};

/* What the datapath reads to schedule a service: see sched.c. */
struct viplb_sched_data {
	struct rcu_head rcu;
	u32 sched;			/* enum viplb_sched at build time */
	u32 n;				/* backends in @be */
	u32 m;				/* Maglev table size, 0 if none */
	u8 *table8;			/* m slots, each an index into @be: */
	u16 *table16;			/* in u8 if n < U8_MAX, else in u16 */
	u32 *table;			/* if n < U16_MAX, else in u32 */
	u32 n_up;			/* backends of weight > 0 */
	struct viplb_backend **up;	/* those, in @be order */
	struct viplb_backend *be[];	/* sorted by (addr, port); then @up */
};

struct viplb_service {
	struct hlist_node hnode;	/* in viplb_config.table, RCU */
	refcount_t ref;			/* the config's, plus one per flow */
	struct list_head list;		/* in viplb_config.services, RCU */
	struct viplb_svc_key key;
	u32 sched;
	u32 mode;
	u32 table_size;			/* Maglev M as set, 0: automatic */
	u32 slots;			/* Maglev slots counted in its config */
	u32 flags;
	struct list_head backends;
	unsigned int n_backends;
	bool dirty;			/* sd needs a rebuild (transactions) */
	struct viplb_sched_data __rcu *sd;
	spinlock_t sched_lock;		/* wrr state */
	atomic_t rr_pos;
	struct viplb_counters *cnt;
	struct viplb_stats_block *cnt_block; /* where cnt->stats is */
	/* where its backends' next counters go, see service.c */
	struct viplb_stats_block *stats_block;
	struct rcu_head rcu;
};

/* A whole configuration; a restore builds a new one and swaps it in. */
/* Per-netns caps and switches: the net.viplb.* sysctls (limits.c). */
struct viplb_limits {
	u32 max_services;
	u32 max_backends;		/* in all services together */
	u32 max_table_slots;		/* Maglev slots, all tables together */
	u32 max_flows;			/* nat flows; dr/tun flows */
	u32 max_rules;			/* per rule table */
	u32 max_chains;			/* per rule table */
	u32 run_estimation;		/* 0: the rate estimator stops */
};

struct viplb_config {
	const struct viplb_limits *limits; /* its netns's caps */
	struct list_head services;	/* creation order, for dumps */
	unsigned int n_services;
	unsigned int n_backends;	/* in all services */
	u64 n_slots;			/* sum of the services' @slots */
	unsigned int n_af[2];		/* services per family: v4, v6 */
	unsigned int n_nat[2];		/* of which nat (see hooks.c) */
	unsigned int n_snat[2];		/* of which nat with the snat flag */
	unsigned int n_fwd[2];		/* of which dr or tun */
	bool deferred;			/* a transaction: rebuild at commit */
	/* where the estimator's walk goes on, or NULL: see stats.c */
	struct viplb_service *est_next;
	struct hlist_head table[1 << VIPLB_SVC_HASH_BITS];
};

struct viplb_ruleset;
struct viplb_rules_txn;

/* The open transaction of a netns, if any: see txn.c.  Under its lock. */
struct viplb_txn {
	bool open;			/* a transaction is open */
	u32 scope;			/* enum viplb_txn_scope */
	struct viplb_config *cfg;	/* its services, or NULL */
	struct viplb_rules_txn *rules;	/* its rule tables, or NULL */
	u32 portid;			/* netlink socket owning it: */
	struct sock *sk;		/* its portid and socket (held) */
	bool failed;			/* a command inside it failed */
	u32 ops;			/* commands applied to it */
};

struct viplb_net {
	struct mutex lock;		/* serialises configuration changes */
	struct viplb_config __rcu *cfg;	/* live configuration */
	struct viplb_txn txn;		/* the open transaction, if any */
	u32 generation;			/* bumped on each live change */
	bool nat_hooks[2];		/* nat hooks registered: v4, v6 */
	bool fwd_hooks[2];		/* dr/tun hooks registered: v4, v6 */
	struct viplb_ruleset __rcu *rules; /* live rule tables, see rules.c */
	u32 rules_gen;			/* bumped on each rules commit */
	u64 rule_handle_next;		/* last rule handle given */
	bool rules_hooks[2][2];		/* [family][table] hooks registered */
	struct delayed_work est_work;	/* rate estimator */
	struct net *net;
	struct viplb_flows *flows;	/* flow accounting, see flow.c */
	struct viplb_limits limits;	/* caps, see limits.c */
	struct ctl_table_header *sysctl; /* net.viplb */
};

/* One struct nf_hook_ops of a static table (hooks.c, rules.c). */
#define VIPLB_HOOK_OP(fn, fam, num, prio) \
	{ .hook = fn, .pf = fam, .hooknum = num, .priority = prio }

/* The id of struct viplb_net, given by pernet.c's pernet_operations. */
extern unsigned int viplb_net_id;

static inline struct viplb_net *viplb_pernet(const struct net *net)
{
	return net_generic(net, viplb_net_id);
}

static inline struct viplb_config *viplb_live_config(struct viplb_net *vn)
{
	return rcu_dereference_protected(vn->cfg, lockdep_is_held(&vn->lock));
}

/* The address family of a hook's protocol family (IPv4 or IPv6 only). */
static inline u8 viplb_pf_to_af(u8 pf)
{
	return pf == NFPROTO_IPV4 ? AF_INET : AF_INET6;
}

static inline int viplb_af_index(u8 af)
{
	return af == AF_INET6;
}

/* What services need of the datapath; see hooks.c. */
enum {
	VIPLB_NEED_NAT = 1,		/* nat services */
	VIPLB_NEED_FWD = 2,		/* dr or tun services */
	VIPLB_NEED_SNAT = 4,		/* nat services with the snat flag */
};

/*
 * Does the live configuration have nat services with the snat flag in
 * the family of hook protocol family @pf?  Context: rcu_read_lock().
 */
static inline bool viplb_config_has_snat(struct viplb_net *vn, u8 pf)
{
	const struct viplb_config *cfg = rcu_dereference(vn->cfg);

	return cfg &&
	       READ_ONCE(cfg->n_snat[viplb_af_index(viplb_pf_to_af(pf))]);
}

/* pernet.c */
int viplb_pernet_init(void);
void viplb_pernet_exit(void);

/* service.c */
struct viplb_config *viplb_config_alloc(const struct viplb_limits *limits);
void viplb_config_free(struct viplb_config *cfg);
struct viplb_service *viplb_service_find(const struct viplb_config *cfg,
					 const struct viplb_svc_key *key);
struct viplb_service *viplb_service_alloc(const struct viplb_svc_key *key);
void viplb_config_adopt_counters(struct viplb_config *cfg,
				 const struct viplb_config *live);
void viplb_service_link(struct viplb_config *cfg, struct viplb_service *svc);
unsigned int viplb_service_needs(u32 mode, u32 flags);
void viplb_service_set_mode(struct viplb_config *cfg,
			    struct viplb_service *svc, u32 mode, u32 flags);
void viplb_service_unlink(struct viplb_config *cfg, struct viplb_service *svc);
void viplb_service_put(struct viplb_service *svc);
struct viplb_backend *viplb_backend_find(const struct viplb_service *svc,
					 const union nf_inet_addr *addr,
					 __be16 port);
struct viplb_backend *viplb_backend_alloc(struct viplb_service *svc);
void viplb_backend_link(struct viplb_config *cfg, struct viplb_service *svc,
			struct viplb_backend *be);
void viplb_backend_unlink(struct viplb_config *cfg, struct viplb_service *svc,
			  struct viplb_backend *be);
void viplb_backend_put(struct viplb_backend *be);
void viplb_objects_drain(void);

/* txn.c */
bool viplb_txn_owned(const struct viplb_net *vn, const struct genl_info *info);
void viplb_txn_account(struct viplb_net *vn, int err);
typedef int (*viplb_txn_fn)(struct viplb_net *vn, struct genl_info *info);
int viplb_txn_apply(struct genl_info *info, u32 scope, viplb_txn_fn fn);
int viplb_txn_begin(struct viplb_net *vn, u32 scope, struct genl_info *info);
int viplb_txn_commit(struct viplb_net *vn, struct genl_info *info);
int viplb_txn_abort(struct viplb_net *vn, struct genl_info *info);
void viplb_txn_release(struct viplb_net *vn);

/* sched.c */
u32 viplb_service_table_m(const struct viplb_service *svc, u32 n);
int viplb_sched_rebuild(struct viplb_service *svc,
			const struct viplb_backend *exclude);
void viplb_sched_release(struct viplb_service *svc);
struct viplb_backend *viplb_sched_find(const struct viplb_sched_data *sd,
				       const union nf_inet_addr *addr,
				       __be16 port);
/* Does the scheduler pick the same backend for a flow every time? */
static inline bool viplb_sched_stateless(u32 sched)
{
	return sched == VIPLB_SCHED_MAGLEV || sched == VIPLB_SCHED_SH;
}

struct viplb_backend *viplb_sched_pick(struct viplb_service *svc,
				       const struct viplb_flow_tuple *t,
				       bool peek);
int viplb_config_rebuild_dirty(struct viplb_config *cfg);
int viplb_service_changed(struct viplb_config *cfg, struct viplb_service *svc,
			  const struct viplb_backend *exclude,
			  struct netlink_ext_ack *extack);

/* stats.c */
void viplb_stats_add(struct viplb_pcpu_stats __percpu *stats, bool conn,
		     bool reply, unsigned int bytes);
void viplb_stats_reject(struct viplb_counters *cnt);
void viplb_stats_untracked(struct viplb_counters *cnt);
void viplb_stats_read(const struct viplb_counters *cnt,
		      struct viplb_stats_sum *sum);
void viplb_stats_view(const struct viplb_counters *cnt,
		      struct viplb_stats_sum *sum, u64 *rates);
int viplb_stats_zero_prepare(struct viplb_service *svc);
void viplb_stats_zero(struct viplb_service *svc);
void viplb_est_init_counters(struct viplb_counters *cnt);
void viplb_est_start(struct viplb_net *vn);
void viplb_est_init(struct viplb_net *vn);
void viplb_est_stop(struct viplb_net *vn);

/* hooks.c */
int viplb_nat_fns_register(struct net *net, int afi,
			   const struct nf_hook_ops *ops, unsigned int n);
void viplb_nat_fns_unregister(struct net *net, int afi,
			      const struct nf_hook_ops *ops, unsigned int n);
int viplb_hooks_prepare_af(struct net *net, struct viplb_net *vn, int afi,
			   unsigned int need);
int viplb_hooks_prepare(struct net *net, struct viplb_net *vn,
			const struct viplb_config *cfg);
int viplb_hooks_sync(struct net *net, struct viplb_net *vn);
void viplb_hooks_release(struct net *net, struct viplb_net *vn);
struct viplb_service *viplb_service_lookup_rcu(struct viplb_net *vn, u8 af,
					       u8 proto,
					       const union nf_inet_addr *addr,
					       __be16 port);

/* flow.c */
struct nf_conn;
int viplb_flows_init(struct viplb_net *vn);
void viplb_flows_exit(struct viplb_net *vn);
void viplb_flow_track_nat(struct viplb_net *vn, struct nf_conn *ct,
			  struct viplb_service *svc, struct viplb_backend *be);
struct viplb_backend *viplb_fwd_flow_get(struct viplb_net *vn,
					 const struct viplb_flow_tuple *t,
					 bool fin);
struct viplb_backend *viplb_fwd_flow_peek(struct viplb_net *vn,
					  const struct viplb_flow_tuple *t);
void viplb_flows_flush_backend(struct viplb_net *vn,
			       const struct viplb_service *svc,
			       const struct viplb_backend *be);
void viplb_fwd_flow_add(struct viplb_net *vn, const struct viplb_flow_tuple *t,
			struct viplb_service *svc, struct viplb_backend *be);
int viplb_fwd_table_alloc(struct viplb_net *vn);
bool viplb_nat_flows_active(struct viplb_net *vn);

/* icmp.c */
unsigned int viplb_icmp_error(struct viplb_net *vn, struct sk_buff *skb,
			      const struct nf_hook_state *state);

/* xmit.c */
void viplb_route_release(struct viplb_backend *be);
unsigned int viplb_xmit(struct net *net, struct sk_buff *skb, u8 af,
			u32 mode, struct viplb_backend *be, bool ttl_done);

/* limits.c */
int viplb_limits_net_init(struct net *net, struct viplb_net *vn);
void viplb_limits_net_exit(struct viplb_net *vn);

/* netlink.c */
extern struct genl_family viplb_genl_family;
int viplb_genl_init(void);
void viplb_genl_exit(void);
int viplb_nl_check_version(const struct genlmsghdr *hdr,
			   struct netlink_ext_ack *extack);

/* rules_nl.c */
extern const struct nla_policy viplb_rules_cmd_policy[VIPLB_A_RULES + 1];
int viplb_nl_rules_table(struct sk_buff *skb, struct genl_info *info);
int viplb_nl_rules_chain(struct sk_buff *skb, struct genl_info *info);
int viplb_nl_rules_rule(struct sk_buff *skb, struct genl_info *info);
int viplb_nl_rules_dump(struct sk_buff *skb, struct netlink_callback *cb);

#endif /* _VIPLB_H */
