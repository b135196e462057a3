/* SPDX-License-Identifier: GPL-2.0 */
/*
 * viplb: the rule tables of the "small iptables" (filter and nat), shared
 * by rules.c (storage, checks, evaluation, hooks) and rules_nl.c (netlink).
 *
 * A table is immutable once live: every change builds a new table in a
 * transaction and swaps it in (see the UAPI header).  The rules of all
 * chains sit in one array, each chain owning a contiguous range of it.
 * What must survive an edit (counters, nth-match state) lives in a
 * refcounted struct viplb_rule_state that the new table shares.
 */
#ifndef _VIPLB_RULES_H
#define _VIPLB_RULES_H

#include "viplb.h"
#include <linux/u64_stats_sync.h>

#define VIPLB_NUM_RTABLES (VIPLB_RTABLE_MAX + 1)

struct viplb_rule_counter {
	u64_stats_t pkts;
	u64_stats_t bytes;
	struct u64_stats_sync syncp;
};

/* Counters and match state of a rule, or of a built-in chain's policy. */
struct viplb_rule_state {
	refcount_t ref; /* one per table holding it */
	u64 handle; /* unique in the netns; 0 for policies */
	atomic_t nth; /* -m statistic --mode nth counter */
	u64 pkts0; /* initial counters (restore -c) */
	u64 bytes0;
	struct viplb_rule_counter __percpu *cnt;
};

/*
 * What every packet reaching a rule reads first, in an array of its own
 * (20 bytes a rule): a rule is passed over when
 *	(saddr & src_mask) != src, or (daddr & dst_mask) != dst,
 *	or (proto ^ @proto) & proto_mask
 * Absent and negated matches get a zero mask here, and are left to
 * rule_match() with the rest; so are IPv6 addresses.
 */
struct viplb_rule_hot {
	__be32 src;
	__be32 src_mask;
	__be32 dst;
	__be32 dst_mask;
	u8 proto;
	u8 proto_mask;
};

struct viplb_rule {
	struct viplb_rule_spec spec;
	u32 chain; /* chain holding the rule */
	u32 target; /* chain of a JUMP or GOTO */
	u8 iif_len; /* bytes compared (wildcard: prefix) */
	u8 oif_len;
	bool iif_wild;
	bool oif_wild;
	struct viplb_rule_state *st;
	char *comment; /* NULL if none */
	u32 cold; /* matches hot_scan() does not settle */
	u8 order_len; /* bytes of @order */
	u8 order[VIPLB_MATCH_ORDER_MAX]; /* VIPLB_RULES_A_MATCH_ORDER */
};

struct viplb_chain {
	char name[VIPLB_CHAIN_NAME_MAX];
	u32 first; /* rules[first .. first + n - 1] */
	u32 n;
	s32 hook; /* enum viplb_hook, -1: a user chain */
	u32 policy; /* built-in chains: ACCEPT or DROP */
	u32 refs; /* rules jumping or going here */
	u32 hash_next; /* while loading: name hash chain */
	struct viplb_rule_state *pst; /* built-in chains: policy counters */
};

struct viplb_table {
	u8 afi; /* 0: IPv4, 1: IPv6 */
	u8 table; /* enum viplb_rtable */
	bool busy; /* has rules, user chains or DROP */
	u32 n_chains;
	u32 n_rules;
	u32 builtin[__VIPLB_HOOK_MAX]; /* chain index per hook, or U32_MAX */
	struct viplb_chain *chains;
	struct viplb_rule *rules;
	struct viplb_rule_hot *hot; /* one per rule, same order */
};

/* Everything the datapath reads; replaced whole by a rules commit. */
struct viplb_ruleset {
	struct viplb_table *t[2][VIPLB_NUM_RTABLES]; /* NULL: never loaded */
};

struct viplb_table_build;

/* What a transaction of scope VIPLB_TXN_RULES holds. */
struct viplb_rules_txn {
	struct viplb_table_build *b[2][VIPLB_NUM_RTABLES];
	bool check_gen;
	u32 gen;
	struct viplb_ruleset *next; /* made by viplb_rules_prepare() */
};

static inline struct viplb_ruleset *viplb_live_rules(struct viplb_net *vn)
{
	return rcu_dereference_protected(vn->rules, lockdep_is_held(&vn->lock));
}

/* A rule that a RULES_RULE message appends to a chain being loaded. */
struct viplb_rule_load {
	const char *chain; /* the chain it goes in */
	const struct viplb_rule_spec *spec;
	const char *target; /* the chain of a JUMP or GOTO, else NULL */
	const char *comment; /* NULL if none */
	const u64 *handle; /* the live rule it replaces, or NULL: a new one */
	const u64 *pkts; /* initial counters, or NULL */
	const u64 *bytes;
	const struct nlattr *order; /* VIPLB_RULES_A_MATCH_ORDER, or NULL */
	const struct nlattr *spec_attr; /* VIPLB_RULES_A_SPEC, for errors */
};

/* rules.c */
extern const char *const viplb_hook_names[__VIPLB_HOOK_MAX];
bool viplb_rtable_has_hook(u8 table, u32 hook);
struct viplb_rules_txn *viplb_rules_txn_alloc(void);
void viplb_rules_txn_free(struct viplb_rules_txn *rt);
int viplb_rules_load_table(struct viplb_net *vn, u8 afi, u8 table,
			   struct netlink_ext_ack *extack);
struct viplb_table_build *viplb_rules_build(struct viplb_net *vn, u8 afi,
					    u8 table);
int viplb_rules_load_chain(struct viplb_table_build *b, const char *name,
			   const u32 *policy, const u64 *pkts, const u64 *bytes,
			   const struct nlattr *attr,
			   struct netlink_ext_ack *extack);
int viplb_rules_load_rule(struct viplb_net *vn, struct viplb_table_build *b,
			  const struct viplb_rule_load *rl,
			  struct netlink_ext_ack *extack);
int viplb_rules_prepare(struct viplb_net *vn, struct netlink_ext_ack *extack);
struct viplb_ruleset *viplb_rules_commit(struct net *net, struct viplb_net *vn,
					 unsigned int *kept);
void viplb_ruleset_free(struct viplb_ruleset *rs);
void viplb_ruleset_free_except(struct viplb_ruleset *rs, unsigned int kept);
void viplb_rules_hooks_release(struct net *net, struct viplb_net *vn);
void viplb_rule_state_read(const struct viplb_rule_state *st, u64 *pkts,
			   u64 *bytes);

#endif /* _VIPLB_RULES_H */
