// SPDX-License-Identifier: GPL-2.0
/*
 * viplb: the rule tables of the "small iptables": loading a table in a
 * transaction, the checks iptables makes at load time (jumps, loops,
 * nesting, where each target may be used), per-packet evaluation, and
 * the netfilter hooks of the filter and nat tables.
 */
#include "rules.h"
#include <linux/bsearch.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netdevice.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/tcp.h>
#include <net/ipv6.h>
#include <net/netfilter/ipv4/nf_reject.h>
#include <net/netfilter/ipv6/nf_reject.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_nat.h>
#include <net/netfilter/nf_nat_masquerade.h>
#include <net/netfilter/nf_nat_redirect.h>
#include <viplb/chain_name.h>

#define NAME_HASH_SIZE 1024

const char *const viplb_hook_names[__VIPLB_HOOK_MAX] = {
	[VIPLB_HOOK_PREROUTING] = "PREROUTING",
	[VIPLB_HOOK_INPUT] = "INPUT",
	[VIPLB_HOOK_FORWARD] = "FORWARD",
	[VIPLB_HOOK_OUTPUT] = "OUTPUT",
	[VIPLB_HOOK_POSTROUTING] = "POSTROUTING",
};

#define HOOK_BIT(h) (1U << (h))

/* The built-in chains of each table, as in iptables. */
static const u32 rtable_hooks[VIPLB_NUM_RTABLES] = {
	[VIPLB_RTABLE_FILTER] = HOOK_BIT(VIPLB_HOOK_INPUT) |
				HOOK_BIT(VIPLB_HOOK_FORWARD) |
				HOOK_BIT(VIPLB_HOOK_OUTPUT),
	[VIPLB_RTABLE_NAT] =
		HOOK_BIT(VIPLB_HOOK_PREROUTING) | HOOK_BIT(VIPLB_HOOK_INPUT) |
		HOOK_BIT(VIPLB_HOOK_OUTPUT) | HOOK_BIT(VIPLB_HOOK_POSTROUTING),
};

bool viplb_rtable_has_hook(u8 table, u32 hook)
{
	return hook < __VIPLB_HOOK_MAX &&
	       (rtable_hooks[table] & HOOK_BIT(hook));
}

/* A handle of a live rule, for carrying its state into the new table. */
struct handle_ent {
	u64 handle;
	struct viplb_rule_state *st;
	bool taken;
};

/* A table being loaded: arrays grow as messages arrive. */
struct viplb_table_build {
	struct viplb_table *t;
	u32 cap_chains;
	u32 cap_rules;
	u32 max_chains;	/* net.viplb.max_chains, at most VIPLB_CHAINS_MAX */
	u32 max_rules;	/* net.viplb.max_rules, at most VIPLB_RULES_MAX */
	u32 name_hash[NAME_HASH_SIZE]; /* chain index + 1, 0 ends */
	struct handle_ent *handles; /* live rules by handle, or NULL */
	u32 n_handles;
	struct viplb_table *final; /* checked and compiled, at prepare */
};

/* Rule state */

static struct viplb_rule_state *state_alloc(u64 handle)
{
	struct viplb_rule_state *st;
	int cpu;

	st = kzalloc(sizeof(*st), GFP_KERNEL_ACCOUNT);
	if (!st)
		return NULL;
	st->cnt =
		alloc_percpu_gfp(struct viplb_rule_counter, GFP_KERNEL_ACCOUNT);
	if (!st->cnt) {
		kfree(st);
		return NULL;
	}
	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(st->cnt, cpu)->syncp);
	refcount_set(&st->ref, 1);
	st->handle = handle;
	return st;
}

static void state_put(struct viplb_rule_state *st)
{
	if (st && refcount_dec_and_test(&st->ref)) {
		free_percpu(st->cnt);
		kfree(st);
	}
}

void viplb_rule_state_read(const struct viplb_rule_state *st, u64 *pkts,
			   u64 *bytes)
{
	int cpu;

	*pkts = st->pkts0;
	*bytes = st->bytes0;
	for_each_possible_cpu(cpu) {
		const struct viplb_rule_counter *c = per_cpu_ptr(st->cnt, cpu);
		unsigned int start;
		u64 p, b;

		do {
			start = u64_stats_fetch_begin(&c->syncp);
			p = u64_stats_read(&c->pkts);
			b = u64_stats_read(&c->bytes);
		} while (u64_stats_fetch_retry(&c->syncp, start));
		*pkts += p;
		*bytes += b;
	}
}

static void state_count(struct viplb_rule_state *st, unsigned int len)
{
	struct viplb_rule_counter *c = this_cpu_ptr(st->cnt);

	u64_stats_update_begin(&c->syncp);
	u64_stats_inc(&c->pkts);
	u64_stats_add(&c->bytes, len);
	u64_stats_update_end(&c->syncp);
}

/* Tables */

/* Process context: a table of VIPLB_RULES_MAX rules takes a while. */
static void table_free(struct viplb_table *t)
{
	u32 i;

	if (!t)
		return;
	for (i = 0; i < t->n_rules; i++) {
		state_put(t->rules[i].st);
		kfree(t->rules[i].comment);
		if (!(i & 1023))
			cond_resched();
	}
	for (i = 0; i < t->n_chains; i++) {
		state_put(t->chains[i].pst);
		if (!(i & 1023))
			cond_resched();
	}
	kvfree(t->hot);
	kvfree(t->rules);
	kvfree(t->chains);
	kfree(t);
}

/* The bit of table @tb of family @afi in a viplb_rules_commit() mask. */
static unsigned int table_bit(int afi, int tb)
{
	return 1U << (afi * VIPLB_NUM_RTABLES + tb);
}

/* Frees @rs and its tables, but those whose bit is set in @kept. */
void viplb_ruleset_free_except(struct viplb_ruleset *rs, unsigned int kept)
{
	int afi, tb;

	if (!rs)
		return;
	for (afi = 0; afi < 2; afi++)
		for (tb = 0; tb < VIPLB_NUM_RTABLES; tb++)
			if (!(kept & table_bit(afi, tb)))
				table_free(rs->t[afi][tb]);
	kfree(rs);
}

void viplb_ruleset_free(struct viplb_ruleset *rs)
{
	viplb_ruleset_free_except(rs, 0);
}

static void build_free(struct viplb_table_build *b)
{
	if (!b)
		return;
	table_free(b->t);
	table_free(b->final);
	kvfree(b->handles);
	kfree(b);
}

struct viplb_rules_txn *viplb_rules_txn_alloc(void)
{
	return kzalloc(sizeof(struct viplb_rules_txn), GFP_KERNEL_ACCOUNT);
}

void viplb_rules_txn_free(struct viplb_rules_txn *rt)
{
	int afi, tb;

	if (!rt)
		return;
	for (afi = 0; afi < 2; afi++)
		for (tb = 0; tb < VIPLB_NUM_RTABLES; tb++)
			build_free(rt->b[afi][tb]);
	kfree(rt->next);
	kfree(rt);
}

static struct viplb_table *live_table(struct viplb_net *vn, u8 afi, u8 table)
{
	struct viplb_ruleset *rs = viplb_live_rules(vn);

	return rs ? rs->t[afi][table] : NULL;
}

/* Grows an array of @size-byte elements to hold at least @need. */
static int grow(void **arr, u32 *cap, u32 need, size_t size)
{
	u32 ncap = max_t(u32, *cap ? *cap * 2 : 16, need);
	void *p;

	if (need <= *cap)
		return 0;
	p = kvrealloc(*arr, (size_t)*cap * size, (size_t)ncap * size,
		      GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

static u32 name_hash(const char *name)
{
	return full_name_hash(NULL, name, strlen(name)) % NAME_HASH_SIZE;
}

static struct viplb_chain *build_find_chain(struct viplb_table_build *b,
					    const char *name, u32 *idx)
{
	u32 i = b->name_hash[name_hash(name)];

	while (i) {
		struct viplb_chain *c = &b->t->chains[i - 1];

		if (!strcmp(c->name, name)) {
			if (idx)
				*idx = i - 1;
			return c;
		}
		i = c->hash_next;
	}
	return NULL;
}

static struct viplb_chain *build_add_chain(struct viplb_table_build *b,
					   const char *name, s32 hook)
{
	struct viplb_table *t = b->t;
	struct viplb_chain *c;
	u32 h;

	if (grow((void **)&t->chains, &b->cap_chains, t->n_chains + 1,
		 sizeof(*t->chains)))
		return NULL;
	c = &t->chains[t->n_chains];
	memset(c, 0, sizeof(*c));
	strscpy(c->name, name, sizeof(c->name));
	c->hook = hook;
	c->policy = VIPLB_V_ACCEPT;
	h = name_hash(name);
	c->hash_next = b->name_hash[h];
	b->name_hash[h] = ++t->n_chains;
	return c;
}

/* Starts (or restarts) loading table @table of family @afi. */
int viplb_rules_load_table(struct viplb_net *vn, u8 afi, u8 table,
			   struct netlink_ext_ack *extack)
{
	struct viplb_rules_txn *rt = vn->txn.rules;
	struct viplb_table *live = live_table(vn, afi, table);
	struct viplb_table_build *b;
	u32 hook;

	build_free(rt->b[afi][table]);
	rt->b[afi][table] = NULL;
	b = kzalloc(sizeof(*b), GFP_KERNEL_ACCOUNT);
	if (!b)
		return -ENOMEM;
	b->t = kzalloc(sizeof(*b->t), GFP_KERNEL_ACCOUNT);
	if (!b->t)
		goto nomem;
	b->t->afi = afi;
	b->t->table = table;
	b->max_chains = min_t(u32, READ_ONCE(vn->limits.max_chains),
			      VIPLB_CHAINS_MAX);
	b->max_rules = min_t(u32, READ_ONCE(vn->limits.max_rules),
			     VIPLB_RULES_MAX);
	for (hook = 0; hook < __VIPLB_HOOK_MAX; hook++) {
		struct viplb_chain *c;

		b->t->builtin[hook] = U32_MAX;
		if (!viplb_rtable_has_hook(table, hook))
			continue;
		b->t->builtin[hook] = b->t->n_chains;
		c = build_add_chain(b, viplb_hook_names[hook], hook);
		if (!c)
			goto nomem;
		if (live) {
			c->pst = live->chains[live->builtin[hook]].pst;
			refcount_inc(&c->pst->ref);
		} else {
			c->pst = state_alloc(0);
			if (!c->pst)
				goto nomem;
		}
	}
	rt->b[afi][table] = b;
	return 0;

nomem:
	build_free(b);
	NL_SET_ERR_MSG(extack, "out of memory");
	return -ENOMEM;
}

struct viplb_table_build *viplb_rules_build(struct viplb_net *vn, u8 afi,
					    u8 table)
{
	return vn->txn.rules ? vn->txn.rules->b[afi][table] : NULL;
}

static struct viplb_rule_state *state_with_counters(u64 handle, const u64 *pkts,
						    const u64 *bytes)
{
	struct viplb_rule_state *st = state_alloc(handle);

	if (st) {
		st->pkts0 = pkts ? *pkts : 0;
		st->bytes0 = bytes ? *bytes : 0;
	}
	return st;
}

int viplb_rules_load_chain(struct viplb_table_build *b, const char *name,
			   const u32 *policy, const u64 *pkts, const u64 *bytes,
			   const struct nlattr *attr,
			   struct netlink_ext_ack *extack)
{
	struct viplb_chain *c = build_find_chain(b, name, NULL);

	if (c && c->hook < 0) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "chain already exists");
		return -EEXIST;
	}
	if (!c) {
		if (policy || pkts || bytes) {
			NL_SET_ERR_MSG_ATTR(
				extack, attr,
				"only built-in chains have a policy and policy counters");
			return -EINVAL;
		}
		if (!viplb_chain_name_ok(name)) {
			NL_SET_ERR_MSG_ATTR(
				extack, attr,
				"bad chain name: empty, a target's name, starting with - or !, or with a blank, quote or control character");
			return -EINVAL;
		}
		if (b->t->n_chains >= b->max_chains) {
			NL_SET_ERR_MSG_ATTR(
				extack, attr,
				"the table's cap net.viplb.max_chains is reached");
			return -ENOSPC;
		}
		if (!build_add_chain(b, name, -1)) {
			NL_SET_ERR_MSG(extack, "out of memory");
			return -ENOMEM;
		}
		return 0;
	}
	if (policy) {
		if (*policy == VIPLB_V_DROP &&
		    b->t->table != VIPLB_RTABLE_FILTER) {
			NL_SET_ERR_MSG_ATTR(
				extack, attr,
				"a DROP policy is only allowed in the filter table");
			return -EINVAL;
		}
		c->policy = *policy;
	}
	if (pkts || bytes) {
		struct viplb_rule_state *st =
			state_with_counters(0, pkts, bytes);

		if (!st) {
			NL_SET_ERR_MSG(extack, "out of memory");
			return -ENOMEM;
		}
		state_put(c->pst);
		c->pst = st;
	}
	return 0;
}

static int handle_cmp(const void *a, const void *b)
{
	const struct handle_ent *x = a, *y = b;

	if (x->handle != y->handle)
		return x->handle < y->handle ? -1 : 1;
	return 0;
}

/* Indexes the live table's rules by handle, once per loaded table. */
static int build_index_handles(struct viplb_net *vn,
			       struct viplb_table_build *b)
{
	struct viplb_table *live = live_table(vn, b->t->afi, b->t->table);
	u32 i;

	if (b->handles || !live || !live->n_rules)
		return 0;
	b->handles = kvmalloc_array(live->n_rules, sizeof(*b->handles),
				    GFP_KERNEL_ACCOUNT);
	if (!b->handles)
		return -ENOMEM;
	for (i = 0; i < live->n_rules; i++) {
		b->handles[i].handle = live->rules[i].st->handle;
		b->handles[i].st = live->rules[i].st;
		b->handles[i].taken = false;
	}
	b->n_handles = live->n_rules;
	sort(b->handles, b->n_handles, sizeof(*b->handles), handle_cmp, NULL);
	return 0;
}

/* Like NL_SET_ERR_MSG_ATTR, for a message chosen at run time. */
static void set_err(struct netlink_ext_ack *extack, const struct nlattr *attr,
		    const char *why)
{
	if (extack) {
		extack->_msg = why;
		extack->bad_attr = attr;
	}
}

static bool is_zero(const void *p, size_t len)
{
	return !memchr_inv(p, 0, len);
}

static bool addr_ok(const __be32 *a, u8 afi)
{
	return afi || is_zero(&a[1], 3 * sizeof(*a));
}

static bool ifname_ok(const char *name)
{
	size_t len = strnlen(name, VIPLB_IFNAME_MAX);

	return len > 0 && len < VIPLB_IFNAME_MAX &&
	       is_zero(name + len, VIPLB_IFNAME_MAX - len);
}

static bool l4_proto_with_ports(const struct viplb_rule_spec *s)
{
	return (s->match & VIPLB_M_PROTO) && !(s->invert & VIPLB_M_PROTO) &&
	       (s->proto == IPPROTO_TCP || s->proto == IPPROTO_UDP);
}

/* As xt_multiport: the protocols whose ports are where tcp has them. */
static bool l4_proto_with_mports(const struct viplb_rule_spec *s)
{
	return (s->match & VIPLB_M_PROTO) && !(s->invert & VIPLB_M_PROTO) &&
	       (s->proto == IPPROTO_TCP || s->proto == IPPROTO_UDP ||
		s->proto == IPPROTO_UDPLITE || s->proto == IPPROTO_SCTP ||
		s->proto == IPPROTO_DCCP);
}

/* The fields of -m conntrack besides --ctstate (VIPLB_M_CONNTRACK). */
static const char *check_conntrack(const struct viplb_rule_spec *s, u8 afi)
{
	u32 i;

	if (!(s->match & VIPLB_M_CONNTRACK) != !s->ct_match)
		return "conntrack options without the conntrack match";
	if (s->ct_match & ~__VIPLB_CT_ALL)
		return "unknown conntrack option bits";
	if (s->ct_invert & ~s->ct_match)
		return "invert bits set for absent conntrack options";
	if (s->ct_pad)
		return "conntrack padding not zero";
	if (s->invert & VIPLB_M_CONNTRACK)
		return "conntrack options are negated one by one (ct_invert)";
	if ((s->ct_match & VIPLB_CT_PROTO) ? !s->ct_proto : s->ct_proto)
		return "bad conntrack protocol";
	if (s->ct_status & ~__VIPLB_CTSTATUS_ALL ||
	    (!(s->ct_match & VIPLB_CT_STATUS) && s->ct_status))
		return "bad conntrack status mask";
	if ((s->ct_match & VIPLB_CT_EXPIRE) ?
		    s->ct_expire[0] > s->ct_expire[1] :
		    s->ct_expire[0] || s->ct_expire[1])
		return "bad conntrack expiry range";
	for (i = 0; i < VIPLB_CT_TUPLES; i++) {
		if (!addr_ok(s->ct_addr[i], afi) ||
		    !addr_ok(s->ct_mask[i], afi))
			return "IPv4 address with bytes past the first word";
		if (!(s->ct_match & (VIPLB_CT_ORIGSRC << i)) &&
		    (!is_zero(s->ct_addr[i], sizeof(s->ct_addr[i])) ||
		     !is_zero(s->ct_mask[i], sizeof(s->ct_mask[i]))))
			return "conntrack address set without its option";
		if ((s->ct_match & (VIPLB_CT_ORIGSRC_PORT << i)) ?
			    s->ct_port[i][0] > s->ct_port[i][1] :
			    s->ct_port[i][0] || s->ct_port[i][1])
			return "bad conntrack port range";
	}
	return NULL;
}

/* Checks the matches of a rule: the message's extack names the field. */
static int check_matches(const struct viplb_rule_spec *s, u8 afi,
			 const struct nlattr *attr,
			 struct netlink_ext_ack *extack)
{
	const char *why = NULL;
	u32 i, nports = 0;

	if (s->match & ~__VIPLB_M_ALL)
		why = "unknown match bits";
	else if (s->invert & ~s->match)
		why = "invert bits set for absent matches";
	else if (!(s->match & VIPLB_M_PROTO) && s->proto)
		why = "proto set without the proto match";
	else if (!addr_ok(s->src, afi) || !addr_ok(s->src_mask, afi) ||
		 !addr_ok(s->dst, afi) || !addr_ok(s->dst_mask, afi))
		why = "IPv4 address with bytes past the first word";
	else if (!(s->match & VIPLB_M_SRC) &&
		 !is_zero(s->src, sizeof(s->src) * 2))
		why = "source address set without the source match";
	else if (!(s->match & VIPLB_M_DST) &&
		 !is_zero(s->dst, sizeof(s->dst) * 2))
		why = "destination address set without the destination match";
	else if ((s->match & VIPLB_M_IIF) ? !ifname_ok(s->iif) :
					    !is_zero(s->iif, sizeof(s->iif)))
		why = "bad input interface name";
	else if ((s->match & VIPLB_M_OIF) ? !ifname_ok(s->oif) :
					    !is_zero(s->oif, sizeof(s->oif)))
		why = "bad output interface name";
	if (why)
		goto bad;
	for (i = 0; i < 4; i++) {
		if ((s->src[i] & ~s->src_mask[i]) ||
		    (s->dst[i] & ~s->dst_mask[i])) {
			why = "address has bits outside its mask";
			goto bad;
		}
	}
	if ((s->match & (VIPLB_M_SPORT | VIPLB_M_DPORT)) &&
	    !l4_proto_with_ports(s))
		why = "port matches need protocol tcp or udp";
	else if ((s->match & VIPLB_M_MPORTS) && !l4_proto_with_mports(s))
		why = "multiport needs protocol tcp, udp, udplite, sctp or dccp";
	else if ((s->match & VIPLB_M_TCP_FLAGS) ?
			 !l4_proto_with_ports(s) || s->proto != IPPROTO_TCP ||
				 (s->match & VIPLB_M_SYN) :
			 s->tcp_flags_mask || s->tcp_flags_cmp)
		why = "--tcp-flags needs protocol tcp and no --syn";
	else if ((s->match & VIPLB_M_SYN) &&
		 (!l4_proto_with_ports(s) || s->proto != IPPROTO_TCP))
		why = "--syn needs protocol tcp";
	else if ((s->match & VIPLB_M_SPORT) ? s->sport[0] > s->sport[1] :
					      s->sport[0] || s->sport[1])
		why = "bad source port range";
	else if ((s->match & VIPLB_M_DPORT) ? s->dport[0] > s->dport[1] :
					      s->dport[0] || s->dport[1])
		why = "bad destination port range";
	if (why)
		goto bad;
	if (s->match & VIPLB_M_MPORTS) {
		if (!s->n_mports || s->n_mports > VIPLB_MPORTS_MAX ||
		    !s->mport_flags ||
		    s->mport_flags & ~(VIPLB_MPORT_SRC | VIPLB_MPORT_DST)) {
			why = "bad multiport count or direction";
			goto bad;
		}
		for (i = 0; i < s->n_mports; i++) {
			if (s->mports[i][0] > s->mports[i][1]) {
				why = "bad multiport range";
				goto bad;
			}
			nports += s->mports[i][0] == s->mports[i][1] ? 1 : 2;
		}
		if (nports > VIPLB_MPORTS_MAX) {
			why = "multiport takes at most 15 ports (a range counts as two)";
			goto bad;
		}
	} else if (s->n_mports || s->mport_flags ||
		   !is_zero(s->mports, sizeof(s->mports))) {
		why = "multiport fields set without the multiport match";
		goto bad;
	}
	if ((s->match & VIPLB_M_CTSTATE) ?
		    !s->ctstate || s->ctstate & ~__VIPLB_CTSTATE_ALL :
		    s->ctstate)
		why = "bad conntrack state mask";
	else if (!(s->match & VIPLB_M_MARK) && (s->mark || s->mark_mask))
		why = "mark set without the mark match";
	else
		why = check_conntrack(s, afi);
	if (why)
		goto bad;
	if (s->match & VIPLB_M_STATISTIC) {
		if (s->stat_mode == VIPLB_STAT_RANDOM) {
			if (s->stat_prob > 0x80000000U || s->stat_every ||
			    s->stat_packet)
				why = "bad random probability";
		} else if (s->stat_mode == VIPLB_STAT_NTH) {
			if (!s->stat_every || s->stat_packet >= s->stat_every ||
			    s->stat_prob)
				why = "nth needs every >= 1 and packet < every";
		} else {
			why = "bad statistic mode";
		}
	} else if (s->stat_mode || s->stat_prob || s->stat_every ||
		   s->stat_packet) {
		why = "statistic fields set without the statistic match";
	}
	if (!why)
		return 0;
bad:
	set_err(extack, attr, why);
	return -EINVAL;
}

/* The ICMP-only reject types exist in one family each, as in iptables. */
static bool reject_in_family(const struct viplb_rule_spec *s, u8 afi)
{
	switch (s->reject_with) {
	case VIPLB_REJECT_PROTO_UNREACH:
	case VIPLB_REJECT_NET_PROHIBITED:
	case VIPLB_REJECT_HOST_PROHIBITED:
		return !afi;
	case VIPLB_REJECT_POLICY_FAIL:
	case VIPLB_REJECT_REJECT_ROUTE:
		return afi;
	}
	return true;
}

/* Checks the target of a rule that does not depend on other rules. */
static int check_target(const struct viplb_rule_spec *s, u8 afi, u8 table,
			const struct nlattr *attr,
			struct netlink_ext_ack *extack)
{
	bool nat = s->verdict >= VIPLB_V_DNAT && s->verdict <= VIPLB_V_REDIRECT;
	const char *why = NULL;

	if (s->verdict > VIPLB_V_MAX)
		why = "unknown verdict";
	else if (table == VIPLB_RTABLE_NAT &&
		 (s->verdict == VIPLB_V_DROP || s->verdict == VIPLB_V_REJECT))
		why = "the nat table is not for filtering: no DROP or REJECT";
	else if (table != VIPLB_RTABLE_NAT && nat)
		why = "NAT targets belong in the nat table";
	else if (s->verdict != VIPLB_V_REJECT && s->reject_with)
		why = "reject type set on a rule that does not REJECT";
	else if (s->verdict == VIPLB_V_REJECT &&
		 s->reject_with > VIPLB_REJECT_MAX)
		why = "unknown reject type";
	else if (s->verdict == VIPLB_V_REJECT && !reject_in_family(s, afi))
		why = "reject type of the other family";
	else if (s->verdict == VIPLB_V_REJECT &&
		 s->reject_with == VIPLB_REJECT_TCP_RESET &&
		 (!l4_proto_with_ports(s) || s->proto != IPPROTO_TCP))
		why = "tcp-reset needs protocol tcp";
	else if (s->verdict != VIPLB_V_MARK &&
		 (s->set_mark || s->set_mark_mask))
		why = "mark values set on a rule that does not MARK";
	if (why)
		goto bad;
	if (!nat) {
		if (s->nat_flags || !is_zero(s->nat_min, sizeof(s->nat_min)) ||
		    !is_zero(s->nat_max, sizeof(s->nat_max)) ||
		    s->nat_port_min || s->nat_port_max || s->nat_port_base)
			why = "NAT fields set on a rule without a NAT target";
		goto out;
	}
	if (s->nat_flags & ~__VIPLB_NAT_F_ALL)
		why = "unknown NAT flags";
	else if ((s->verdict == VIPLB_V_DNAT || s->verdict == VIPLB_V_SNAT) &&
		 !(s->nat_flags & (VIPLB_NAT_F_ADDR | VIPLB_NAT_F_PORTS)))
		why = "DNAT and SNAT need an address or a port range";
	else if ((s->verdict == VIPLB_V_MASQUERADE ||
		  s->verdict == VIPLB_V_REDIRECT) &&
		 (s->nat_flags & VIPLB_NAT_F_ADDR))
		why = "MASQUERADE and REDIRECT take ports only";
	else if ((s->nat_flags & VIPLB_NAT_F_ADDR) ?
			 !addr_ok(s->nat_min, afi) ||
				 !addr_ok(s->nat_max, afi) ||
				 memcmp(s->nat_min, s->nat_max,
					sizeof(s->nat_min)) > 0 :
			 !is_zero(s->nat_min, sizeof(s->nat_min) * 2))
		why = "bad NAT address range";
	else if ((s->nat_flags & VIPLB_NAT_F_PORTS) ?
			 !l4_proto_with_ports(s) ||
				 s->nat_port_min > s->nat_port_max :
			 s->nat_port_min || s->nat_port_max)
		why = "a NAT port range needs protocol tcp or udp and min <= max";
	else if ((s->nat_flags & VIPLB_NAT_F_PORT_OFFSET) ?
			 s->verdict != VIPLB_V_DNAT ||
				 !(s->nat_flags & VIPLB_NAT_F_PORTS) ||
				 !s->nat_port_base :
			 s->nat_port_base)
		why = "a port offset needs DNAT, a port range and a base port";
out:
	if (!why)
		return 0;
bad:
	set_err(extack, attr, why);
	return -EINVAL;
}

int viplb_rules_load_rule(struct viplb_net *vn, struct viplb_table_build *b,
			  const struct viplb_rule_load *rl,
			  struct netlink_ext_ack *extack)
{
	const struct viplb_rule_spec *spec = rl->spec;
	const u64 *pkts = rl->pkts, *bytes = rl->bytes;
	struct viplb_table *t = b->t;
	bool jump = spec->verdict == VIPLB_V_JUMP ||
		    spec->verdict == VIPLB_V_GOTO;
	struct viplb_chain *tc = NULL;
	struct viplb_rule_state *st;
	struct viplb_rule *r;
	u32 ci, ti = 0;
	int err;

	if (!build_find_chain(b, rl->chain, &ci)) {
		NL_SET_ERR_MSG(extack, "the rule's chain does not exist");
		return -ENOENT;
	}
	if (t->n_rules >= b->max_rules) {
		NL_SET_ERR_MSG(extack,
			       "the table's cap net.viplb.max_rules is reached");
		return -ENOSPC;
	}
	err = check_matches(spec, t->afi, rl->spec_attr, extack);
	if (!err)
		err = check_target(spec, t->afi, t->table, rl->spec_attr,
				   extack);
	if (err)
		return err;
	if (jump != !!rl->target) {
		NL_SET_ERR_MSG(
			extack,
			"a target chain goes with JUMP and GOTO, and only with them");
		return -EINVAL;
	}
	if (jump) {
		tc = build_find_chain(b, rl->target, &ti);
		if (!tc || tc->hook >= 0) {
			NL_SET_ERR_MSG(
				extack,
				"jump or goto to a chain that is not a user chain of this table");
			return -ENOENT;
		}
	}
	if (rl->handle) {
		struct handle_ent key = { .handle = *rl->handle }, *e;

		err = build_index_handles(vn, b);
		if (err)
			return err;
		e = b->handles ? bsearch(&key, b->handles, b->n_handles,
					 sizeof(*e), handle_cmp) :
				 NULL;
		if (!e) {
			NL_SET_ERR_MSG(extack,
				       "no live rule of this table has this handle");
			return -ENOENT;
		}
		if (e->taken) {
			NL_SET_ERR_MSG(extack, "handle given twice");
			return -EINVAL;
		}
		e->taken = true;
		if (pkts || bytes) {
			/* New counters, the same nth position. */
			st = state_with_counters(*rl->handle, pkts, bytes);
			if (!st)
				return -ENOMEM;
			atomic_set(&st->nth, atomic_read(&e->st->nth));
		} else {
			st = e->st;
			refcount_inc(&st->ref);
		}
	} else {
		st = state_with_counters(++vn->rule_handle_next, pkts, bytes);
		if (!st)
			return -ENOMEM;
		atomic_set(&st->nth, spec->stat_every ? spec->stat_every - 1 -
								spec->stat_packet :
							0);
	}
	err = grow((void **)&t->rules, &b->cap_rules, t->n_rules + 1,
		   sizeof(*t->rules));
	if (err) {
		state_put(st);
		return err;
	}
	r = &t->rules[t->n_rules];
	memset(r, 0, sizeof(*r));
	r->spec = *spec;
	r->chain = ci;
	r->target = ti;
	r->st = st;
	if (spec->match & VIPLB_M_IIF) {
		r->iif_len = strlen(spec->iif);
		r->iif_wild = spec->iif[r->iif_len - 1] == '+';
		r->iif_len -= r->iif_wild;
	}
	if (spec->match & VIPLB_M_OIF) {
		r->oif_len = strlen(spec->oif);
		r->oif_wild = spec->oif[r->oif_len - 1] == '+';
		r->oif_len -= r->oif_wild;
	}
	if (rl->order) {
		r->order_len = nla_len(rl->order);
		memcpy(r->order, nla_data(rl->order), r->order_len);
	}
	if (rl->comment) {
		r->comment = kstrdup(rl->comment, GFP_KERNEL_ACCOUNT);
		if (!r->comment) {
			state_put(st);
			return -ENOMEM;
		}
	}
	t->n_rules++;
	if (tc)
		tc->refs++;
	return 0;
}

/* Load-time checks */

enum { DFS_NEW, DFS_OPEN, DFS_DONE };

struct dfs_frame {
	u32 chain;
	u32 pos; /* next rule to look at */
};

/*
 * Finds loops among chains (-ELOOP), computes how deep the jumps from
 * each chain nest, and the built-in chains each chain is reachable from.
 * Rules are already sorted by chain.  An iterative depth-first search,
 * so that a long run of chains cannot overflow the kernel stack.
 */
static int table_check_graph(struct viplb_table *t, u32 *reach,
			     struct netlink_ext_ack *extack)
{
	u32 n = t->n_chains, sp, i, n_post = 0;
	struct dfs_frame *stack;
	u32 *height, *post;
	u8 *mark;
	int err = 0;

	mark = kvcalloc(n, sizeof(*mark), GFP_KERNEL_ACCOUNT);
	height = kvcalloc(n, sizeof(*height), GFP_KERNEL_ACCOUNT);
	post = kvcalloc(n, sizeof(*post), GFP_KERNEL_ACCOUNT);
	stack = kvcalloc(n, sizeof(*stack), GFP_KERNEL_ACCOUNT);
	if (!mark || !height || !post || !stack) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (mark[i] != DFS_NEW)
			continue;
		sp = 0;
		stack[sp++] = (struct dfs_frame){ i, t->chains[i].first };
		mark[i] = DFS_OPEN;
		while (sp) {
			struct dfs_frame *f = &stack[sp - 1];
			struct viplb_chain *c = &t->chains[f->chain];
			struct viplb_rule *r;
			u32 h;

			if (f->pos == c->first + c->n) {
				mark[f->chain] = DFS_DONE;
				post[n_post++] = f->chain;
				sp--;
				continue;
			}
			r = &t->rules[f->pos++];
			if (r->spec.verdict != VIPLB_V_JUMP &&
			    r->spec.verdict != VIPLB_V_GOTO)
				continue;
			if (mark[r->target] == DFS_OPEN) {
				NL_SET_ERR_MSG(
					extack,
					"loop: a chain jumps (maybe indirectly) to itself");
				err = -ELOOP;
				goto out;
			}
			if (mark[r->target] == DFS_NEW) {
				/* Revisit this rule once the target is done. */
				f->pos--;
				mark[r->target] = DFS_OPEN;
				stack[sp++] = (struct dfs_frame){
					r->target, t->chains[r->target].first
				};
				continue;
			}
			h = height[r->target] +
			    (r->spec.verdict == VIPLB_V_JUMP);
			height[f->chain] = max(height[f->chain], h);
		}
	}
	for (i = 0; i < __VIPLB_HOOK_MAX; i++) {
		if (t->builtin[i] == U32_MAX)
			continue;
		if (height[t->builtin[i]] > VIPLB_JUMP_DEPTH_MAX) {
			NL_SET_ERR_MSG(
				extack,
				"jumps nest deeper than VIPLB_JUMP_DEPTH_MAX");
			err = -ELOOP;
			goto out;
		}
		reach[t->builtin[i]] |= HOOK_BIT(i);
	}
	/* Reverse postorder: every chain before the chains it reaches. */
	while (n_post--) {
		struct viplb_chain *c = &t->chains[post[n_post]];

		for (i = c->first; i < c->first + c->n; i++) {
			struct viplb_rule *r = &t->rules[i];

			if (r->spec.verdict == VIPLB_V_JUMP ||
			    r->spec.verdict == VIPLB_V_GOTO)
				reach[r->target] |= reach[post[n_post]];
		}
	}
out:
	kvfree(mark);
	kvfree(height);
	kvfree(post);
	kvfree(stack);
	return err;
}

/* The built-in chains from which each target may be reached. */
static u32 target_hooks(u32 verdict)
{
	switch (verdict) {
	case VIPLB_V_DNAT:
	case VIPLB_V_REDIRECT:
		return HOOK_BIT(VIPLB_HOOK_PREROUTING) |
		       HOOK_BIT(VIPLB_HOOK_OUTPUT);
	case VIPLB_V_SNAT:
		return HOOK_BIT(VIPLB_HOOK_INPUT) |
		       HOOK_BIT(VIPLB_HOOK_POSTROUTING);
	case VIPLB_V_MASQUERADE:
		return HOOK_BIT(VIPLB_HOOK_POSTROUTING);
	default:
		return ~0U;
	}
}

/* Splits a rule's address and protocol matches between hot and cold. */
static void rule_hot_init(struct viplb_rule *r, struct viplb_rule_hot *h,
			  u8 afi)
{
	const struct viplb_rule_spec *s = &r->spec;
	u32 plain = s->match & ~s->invert;

	r->cold = s->match;
	if (plain & VIPLB_M_PROTO) {
		h->proto = s->proto;
		h->proto_mask = 0xff;
		r->cold &= ~VIPLB_M_PROTO;
	}
	if (afi)
		return;
	if (plain & VIPLB_M_SRC) {
		h->src = s->src[0];
		h->src_mask = s->src_mask[0];
		r->cold &= ~VIPLB_M_SRC;
	}
	if (plain & VIPLB_M_DST) {
		h->dst = s->dst[0];
		h->dst_mask = s->dst_mask[0];
		r->cold &= ~VIPLB_M_DST;
	}
}

/*
 * Compiles a loaded table: sorts the rules by chain (keeping their order
 * within each chain) and runs the checks that need the whole table.
 */
static int table_finish(struct viplb_table_build *b,
			struct netlink_ext_ack *extack)
{
	struct viplb_table *t = b->t;
	struct viplb_rule *sorted = NULL;
	u32 *reach = NULL, *next;
	u32 i;
	int err = -ENOMEM;

	next = kvcalloc(t->n_chains, sizeof(*next), GFP_KERNEL_ACCOUNT);
	reach = kvcalloc(t->n_chains, sizeof(*reach), GFP_KERNEL_ACCOUNT);
	if (t->n_rules)
		sorted = kvmalloc_array(t->n_rules, sizeof(*sorted),
					GFP_KERNEL_ACCOUNT);
	if (!next || !reach || (t->n_rules && !sorted))
		goto out;
	for (i = 0; i < t->n_rules; i++)
		t->chains[t->rules[i].chain].n++;
	for (i = 1; i < t->n_chains; i++)
		t->chains[i].first =
			t->chains[i - 1].first + t->chains[i - 1].n;
	for (i = 0; i < t->n_chains; i++)
		next[i] = t->chains[i].first;
	for (i = 0; i < t->n_rules; i++)
		sorted[next[t->rules[i].chain]++] = t->rules[i];
	kvfree(t->rules);
	t->rules = sorted;
	sorted = NULL;
	if (t->n_rules) {
		t->hot = kvcalloc(t->n_rules, sizeof(*t->hot),
				  GFP_KERNEL_ACCOUNT);
		if (!t->hot)
			goto out;
	}
	for (i = 0; i < t->n_rules; i++)
		rule_hot_init(&t->rules[i], &t->hot[i], t->afi);

	err = table_check_graph(t, reach, extack);
	if (err)
		goto out;
	for (i = 0; i < t->n_rules; i++) {
		struct viplb_rule *r = &t->rules[i];

		if (reach[r->chain] & ~target_hooks(r->spec.verdict)) {
			NL_SET_ERR_MSG(extack,
				       "a NAT target is reachable from a built-in chain where it cannot work (DNAT, REDIRECT: PREROUTING, OUTPUT; SNAT: INPUT, POSTROUTING; MASQUERADE: POSTROUTING)");
			err = -EINVAL;
			goto out;
		}
	}
	t->busy = t->n_rules > 0;
	for (i = 0; i < t->n_chains; i++)
		if (t->chains[i].hook < 0 ||
		    t->chains[i].policy != VIPLB_V_ACCEPT)
			t->busy = true;
	b->final = t;
	b->t = NULL;
out:
	kvfree(next);
	kvfree(reach);
	kvfree(sorted);
	return err;
}

/* Packet evaluation */

struct rules_pkt {
	union nf_inet_addr src;
	union nf_inet_addr dst;
	u8 proto;
	bool ports; /* sport and dport are valid */
	u8 tcp_flags; /* byte 13 of the TCP header */
	u16 sport;
	u16 dport;
};

static void parse_pkt(const struct sk_buff *skb, u8 afi, struct rules_pkt *p)
{
	unsigned int thoff;
	bool first = true;
	__be16 ports[2];
	u8 flags;

	memset(p, 0, sizeof(*p));
	if (!afi) {
		const struct iphdr *iph = ip_hdr(skb);

		p->src.ip = iph->saddr;
		p->dst.ip = iph->daddr;
		p->proto = iph->protocol;
		first = !(ntohs(iph->frag_off) & IP_OFFSET);
		thoff = skb_network_offset(skb) + iph->ihl * 4;
	} else {
		const struct ipv6hdr *ip6h = ipv6_hdr(skb);
		int fflags = 0;
		unsigned int off = 0;
		int proto;
		u16 fragoff = 0;

		p->src.in6 = ip6h->saddr;
		p->dst.in6 = ip6h->daddr;
		proto = ipv6_find_hdr(skb, &off, -1, &fragoff, &fflags);
		if (proto < 0)
			return;
		p->proto = proto;
		first = !fragoff;
		thoff = off;
	}
	/* udplite, sctp and dccp have their ports where tcp has them. */
	if (!first ||
	    (p->proto != IPPROTO_TCP && p->proto != IPPROTO_UDP &&
	     p->proto != IPPROTO_UDPLITE && p->proto != IPPROTO_SCTP &&
	     p->proto != IPPROTO_DCCP))
		return;
	if (skb_copy_bits(skb, thoff, ports, sizeof(ports)))
		return;
	p->sport = ntohs(ports[0]);
	p->dport = ntohs(ports[1]);
	p->ports = true;
	if (p->proto == IPPROTO_TCP &&
	    !skb_copy_bits(skb, thoff + 13, &flags, 1))
		p->tcp_flags = flags;
}

static bool rule_addr_match(const union nf_inet_addr *a, const __be32 *want,
			    const __be32 *mask, u8 afi)
{
	int i;

	for (i = 0; i < (afi ? 4 : 1); i++)
		if ((a->ip6[i] & mask[i]) != want[i])
			return false;
	return true;
}

static bool ifname_match(const struct net_device *dev, const char *want, u8 len,
			 bool wild)
{
	const char *name = dev ? dev->name : "";

	if (wild)
		return !strncmp(name, want, len);
	return !strncmp(name, want, IFNAMSIZ);
}

static bool port_in(u16 port, const u16 *range)
{
	return port >= range[0] && port <= range[1];
}

static bool mports_match(const struct viplb_rule_spec *s,
			 const struct rules_pkt *p)
{
	u32 i;

	for (i = 0; i < s->n_mports; i++) {
		if ((s->mport_flags & VIPLB_MPORT_SRC) &&
		    port_in(p->sport, s->mports[i]))
			return true;
		if ((s->mport_flags & VIPLB_MPORT_DST) &&
		    port_in(p->dport, s->mports[i]))
			return true;
	}
	return false;
}

/* Did a present match fail, given whether it hit and its "!"? */
static bool missed(u32 inv, u32 flag, bool hit)
{
	return hit == !!(inv & flag);
}

/* The states of a packet, as xt_conntrack: SNAT and DNAT add to one. */
static u8 ctstate_of(const struct sk_buff *skb)
{
	enum ip_conntrack_info ctinfo;
	struct nf_conn *ct = nf_ct_get(skb, &ctinfo);
	u8 state;

	if (!ct)
		return ctinfo == IP_CT_UNTRACKED ? VIPLB_CTSTATE_UNTRACKED :
						   VIPLB_CTSTATE_INVALID;
	switch (ctinfo) {
	case IP_CT_NEW:
		state = VIPLB_CTSTATE_NEW;
		break;
	case IP_CT_RELATED:
	case IP_CT_RELATED_REPLY:
		state = VIPLB_CTSTATE_RELATED;
		break;
	default:
		state = VIPLB_CTSTATE_ESTABLISHED;
		break;
	}
	if (test_bit(IPS_SRC_NAT_BIT, &ct->status))
		state |= VIPLB_CTSTATE_SNAT;
	if (test_bit(IPS_DST_NAT_BIT, &ct->status))
		state |= VIPLB_CTSTATE_DNAT;
	return state;
}

static bool ct_addr_match(const union nf_inet_addr *a, const __be32 *want,
			  const __be32 *mask, u8 afi)
{
	int i;

	for (i = 0; i < (afi ? 4 : 1); i++)
		if ((a->ip6[i] ^ want[i]) & mask[i])
			return false;
	return true;
}

/*
 * The options of -m conntrack besides --ctstate, as xt_conntrack
 * revision 3.  Without a conntrack entry they match only when the rule
 * has --ctstate too (which matched, as it is checked first).
 */
static bool ct_options_match(const struct viplb_rule_spec *s,
			     const struct sk_buff *skb, u8 afi)
{
	const struct nf_conntrack_tuple *t[VIPLB_CT_TUPLES];
	u32 m = s->ct_match, inv = s->ct_invert, i;
	enum ip_conntrack_info ctinfo;
	const struct nf_conn *ct;
	unsigned long expires;
	u16 port;

	BUILD_BUG_ON((u32)VIPLB_CTSTATUS_EXPECTED != (u32)IPS_EXPECTED ||
		     (u32)VIPLB_CTSTATUS_SEEN_REPLY != (u32)IPS_SEEN_REPLY ||
		     (u32)VIPLB_CTSTATUS_ASSURED != (u32)IPS_ASSURED ||
		     (u32)VIPLB_CTSTATUS_CONFIRMED != (u32)IPS_CONFIRMED);
	ct = nf_ct_get(skb, &ctinfo);
	if (!ct)
		return s->match & VIPLB_M_CTSTATE;
	if ((m & VIPLB_CT_DIR) &&
	    missed(inv, VIPLB_CT_DIR,
		   CTINFO2DIR(ctinfo) == IP_CT_DIR_ORIGINAL))
		return false;
	if ((m & VIPLB_CT_PROTO) &&
	    missed(inv, VIPLB_CT_PROTO, nf_ct_protonum(ct) == s->ct_proto))
		return false;
	t[VIPLB_CT_ORIG_SRC] = &ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple;
	t[VIPLB_CT_ORIG_DST] = t[VIPLB_CT_ORIG_SRC];
	t[VIPLB_CT_REPL_SRC] = &ct->tuplehash[IP_CT_DIR_REPLY].tuple;
	t[VIPLB_CT_REPL_DST] = t[VIPLB_CT_REPL_SRC];
	for (i = 0; i < VIPLB_CT_TUPLES; i++) {
		bool dst = i == VIPLB_CT_ORIG_DST || i == VIPLB_CT_REPL_DST;
		u32 abit = VIPLB_CT_ORIGSRC << i;
		u32 pbit = VIPLB_CT_ORIGSRC_PORT << i;

		if ((m & abit) &&
		    missed(inv, abit,
			   ct_addr_match(dst ? &t[i]->dst.u3 : &t[i]->src.u3,
					 s->ct_addr[i], s->ct_mask[i], afi)))
			return false;
		/* ->u.all: the port of every protocol that has ports */
		port = ntohs(dst ? t[i]->dst.u.all : t[i]->src.u.all);
		if ((m & pbit) && missed(inv, pbit, port_in(port, s->ct_port[i])))
			return false;
	}
	if ((m & VIPLB_CT_STATUS) &&
	    missed(inv, VIPLB_CT_STATUS, ct->status & s->ct_status))
		return false;
	if (m & VIPLB_CT_EXPIRE) {
		expires = nf_ct_expires(ct) / HZ;
		if (missed(inv, VIPLB_CT_EXPIRE,
			   expires >= s->ct_expire[0] &&
				   expires <= s->ct_expire[1]))
			return false;
	}
	return true;
}

/* The nth counter steps on every packet that reaches it, as xt_statistic. */
static bool nth_match(struct viplb_rule_state *st, u32 every)
{
	int old, new;

	do {
		old = atomic_read(&st->nth);
		new = old == every - 1 ? 0 : old + 1;
	} while (atomic_cmpxchg(&st->nth, old, new) != old);
	return new == 0;
}

/*
 * Returns the first rule in [@pos, @end) that the hot fields do not rule
 * out, or @end.  IPv6 tables: the addresses' masks are zero.
 */
static u32 hot_scan(const struct viplb_rule_hot *h, u32 pos, u32 end,
		    const struct rules_pkt *p)
{
	u32 saddr = (__force u32)p->src.ip, daddr = (__force u32)p->dst.ip;
	u8 proto = p->proto;

	for (; pos < end; pos++) {
		const struct viplb_rule_hot *e = &h[pos];

		if (!(((saddr & (__force u32)e->src_mask) ^
		       (__force u32)e->src) |
		      ((daddr & (__force u32)e->dst_mask) ^
		       (__force u32)e->dst) |
		      ((proto ^ e->proto) & e->proto_mask)))
			break;
	}
	return pos;
}

/*
 * The rest of the matches (@r->cold), after hot_scan(), in a fixed order; the
 * stateful statistic match comes last.
 */
static bool rule_match(const struct viplb_rule *r, const struct rules_pkt *p,
		       const struct sk_buff *skb,
		       const struct nf_hook_state *state, u8 afi)
{
	const struct viplb_rule_spec *s = &r->spec;
	u32 m = r->cold, inv = s->invert;
	bool hit;

	if (!m)
		return true;
	if ((m & VIPLB_M_PROTO) &&
	    missed(inv, VIPLB_M_PROTO, p->proto == s->proto))
		return false;
	if ((m & VIPLB_M_SRC) &&
	    missed(inv, VIPLB_M_SRC,
		   rule_addr_match(&p->src, s->src, s->src_mask, afi)))
		return false;
	if ((m & VIPLB_M_DST) &&
	    missed(inv, VIPLB_M_DST,
		   rule_addr_match(&p->dst, s->dst, s->dst_mask, afi)))
		return false;
	if ((m & VIPLB_M_IIF) &&
	    missed(inv, VIPLB_M_IIF,
		   ifname_match(state->in, s->iif, r->iif_len, r->iif_wild)))
		return false;
	if ((m & VIPLB_M_OIF) &&
	    missed(inv, VIPLB_M_OIF,
		   ifname_match(state->out, s->oif, r->oif_len, r->oif_wild)))
		return false;
	/* As xt_tcpudp: no port match at all on a non-first fragment. */
	if ((m &
	     (VIPLB_M_SPORT | VIPLB_M_DPORT | VIPLB_M_MPORTS | VIPLB_M_SYN |
	      VIPLB_M_TCP_FLAGS)) &&
	    !p->ports)
		return false;
	if ((m & VIPLB_M_SPORT) &&
	    missed(inv, VIPLB_M_SPORT, port_in(p->sport, s->sport)))
		return false;
	if ((m & VIPLB_M_DPORT) &&
	    missed(inv, VIPLB_M_DPORT, port_in(p->dport, s->dport)))
		return false;
	if ((m & VIPLB_M_SYN) &&
	    missed(inv, VIPLB_M_SYN,
		   (p->tcp_flags & (TCPHDR_SYN | TCPHDR_RST | TCPHDR_ACK |
				    TCPHDR_FIN)) == TCPHDR_SYN))
		return false;
	if ((m & VIPLB_M_TCP_FLAGS) &&
	    missed(inv, VIPLB_M_TCP_FLAGS,
		   (p->tcp_flags & s->tcp_flags_mask) == s->tcp_flags_cmp))
		return false;
	if ((m & VIPLB_M_MPORTS) &&
	    missed(inv, VIPLB_M_MPORTS, mports_match(s, p)))
		return false;
	if ((m & VIPLB_M_CTSTATE) &&
	    missed(inv, VIPLB_M_CTSTATE, ctstate_of(skb) & s->ctstate))
		return false;
	if ((m & VIPLB_M_CONNTRACK) && !ct_options_match(s, skb, afi))
		return false;
	if ((m & VIPLB_M_MARK) &&
	    missed(inv, VIPLB_M_MARK, (skb->mark & s->mark_mask) == s->mark))
		return false;
	if (m & VIPLB_M_STATISTIC) {
		if (s->stat_mode == VIPLB_STAT_RANDOM)
			hit = (get_random_u32() & 0x7fffffff) < s->stat_prob;
		else
			hit = nth_match(r->st, s->stat_every);
		if (hit == !!(inv & VIPLB_M_STATISTIC))
			return false;
	}
	return true;
}

static void rule_reject(const struct viplb_rule_spec *s, struct sk_buff *skb,
			const struct nf_hook_state *state)
{
	static const u8 icmp4[] = {
		[VIPLB_REJECT_PORT_UNREACH] = ICMP_PORT_UNREACH,
		[VIPLB_REJECT_HOST_UNREACH] = ICMP_HOST_UNREACH,
		[VIPLB_REJECT_ADMIN_PROHIBITED] = ICMP_PKT_FILTERED,
		[VIPLB_REJECT_NET_UNREACH] = ICMP_NET_UNREACH,
		[VIPLB_REJECT_PROTO_UNREACH] = ICMP_PROT_UNREACH,
		[VIPLB_REJECT_NET_PROHIBITED] = ICMP_NET_ANO,
		[VIPLB_REJECT_HOST_PROHIBITED] = ICMP_HOST_ANO,
	};
	static const u8 icmp6[] = {
		[VIPLB_REJECT_PORT_UNREACH] = ICMPV6_PORT_UNREACH,
		[VIPLB_REJECT_HOST_UNREACH] = ICMPV6_ADDR_UNREACH,
		[VIPLB_REJECT_ADMIN_PROHIBITED] = ICMPV6_ADM_PROHIBITED,
		[VIPLB_REJECT_NET_UNREACH] = ICMPV6_NOROUTE,
		[VIPLB_REJECT_POLICY_FAIL] = ICMPV6_POLICY_FAIL,
		[VIPLB_REJECT_REJECT_ROUTE] = ICMPV6_REJECT_ROUTE,
	};
	bool v6 = state->pf == NFPROTO_IPV6;

	if (s->reject_with == VIPLB_REJECT_TCP_RESET) {
		if (v6)
			nf_send_reset6(state->net, state->sk, skb, state->hook);
		else
			nf_send_reset(state->net, state->sk, skb, state->hook);
	} else if (v6) {
		nf_send_unreach6(state->net, skb, icmp6[s->reject_with],
				 state->hook);
	} else {
		nf_send_unreach(skb, icmp4[s->reject_with], state->hook);
	}
}

static unsigned int rule_nat(const struct viplb_rule_spec *s,
			     struct sk_buff *skb,
			     const struct nf_hook_state *state)
{
	bool v6 = state->pf == NFPROTO_IPV6;
	struct nf_nat_range2 range = {};
	enum ip_conntrack_info ctinfo;
	struct nf_conn *ct;

	if (s->nat_flags & VIPLB_NAT_F_ADDR) {
		range.flags |= NF_NAT_RANGE_MAP_IPS;
		memcpy(&range.min_addr, s->nat_min, sizeof(range.min_addr));
		memcpy(&range.max_addr, s->nat_max, sizeof(range.max_addr));
	}
	if (s->nat_flags & VIPLB_NAT_F_PORTS) {
		range.flags |= NF_NAT_RANGE_PROTO_SPECIFIED;
		range.min_proto.all = htons(s->nat_port_min);
		range.max_proto.all = htons(s->nat_port_max);
	}
	if (s->nat_flags & VIPLB_NAT_F_PORT_OFFSET) {
		range.flags |= NF_NAT_RANGE_PROTO_OFFSET;
		range.base_proto.all = htons(s->nat_port_base);
	}
	if (s->nat_flags & VIPLB_NAT_F_RANDOM)
		range.flags |= NF_NAT_RANGE_PROTO_RANDOM;
	if (s->nat_flags & VIPLB_NAT_F_RANDOM_FULLY)
		range.flags |= NF_NAT_RANGE_PROTO_RANDOM_FULLY;
	if (s->nat_flags & VIPLB_NAT_F_PERSISTENT)
		range.flags |= NF_NAT_RANGE_PERSISTENT;

	switch (s->verdict) {
	case VIPLB_V_MASQUERADE:
		if (v6)
			return nf_nat_masquerade_ipv6(skb, &range, state->out);
		return nf_nat_masquerade_ipv4(skb, state->hook, &range,
					      state->out);
	case VIPLB_V_REDIRECT:
		if (v6)
			return nf_nat_redirect_ipv6(skb, &range, state->hook);
		return nf_nat_redirect_ipv4(skb, &range, state->hook);
	default:
		ct = nf_ct_get(skb, &ctinfo);
		if (!ct)
			return NF_ACCEPT;
		return nf_nat_setup_info(ct, &range,
					 s->verdict == VIPLB_V_DNAT ?
						 NF_NAT_MANIP_DST :
						 NF_NAT_MANIP_SRC);
	}
}

struct jump_frame {
	u32 pos; /* the rule after the jump */
	u32 end; /* the end of that chain */
};

/* Runs the built-in chain of @hook, as ipt_do_table does. */
static unsigned int table_run(const struct viplb_table *t, u32 hook,
			      struct sk_buff *skb,
			      const struct nf_hook_state *state)
{
	struct jump_frame stack[VIPLB_JUMP_DEPTH_MAX];
	const struct viplb_chain *bc = &t->chains[t->builtin[hook]];
	u32 pos = bc->first, end = bc->first + bc->n, sp = 0;
	struct rules_pkt p;

	parse_pkt(skb, t->afi, &p);
	for (;;) {
		const struct viplb_rule *r;
		const struct viplb_chain *c;

		if (pos == end) {
			if (!sp) {
				state_count(bc->pst, skb->len);
				return bc->policy == VIPLB_V_DROP ? NF_DROP :
								    NF_ACCEPT;
			}
			sp--;
			pos = stack[sp].pos;
			end = stack[sp].end;
			continue;
		}
		pos = hot_scan(t->hot, pos, end, &p);
		if (pos == end)
			continue;
		r = &t->rules[pos++];
		if (!rule_match(r, &p, skb, state, t->afi))
			continue;
		state_count(r->st, skb->len);
		switch (r->spec.verdict) {
		case VIPLB_V_NONE:
			break;
		case VIPLB_V_ACCEPT:
			return NF_ACCEPT;
		case VIPLB_V_DROP:
			return NF_DROP;
		case VIPLB_V_RETURN:
			pos = end;
			break;
		case VIPLB_V_MARK:
			skb->mark = (skb->mark & ~r->spec.set_mark_mask) ^
				    r->spec.set_mark;
			break;
		case VIPLB_V_REJECT:
			rule_reject(&r->spec, skb, state);
			return NF_DROP;
		case VIPLB_V_JUMP:
			/* The load-time check bounds the depth. */
			if (WARN_ON_ONCE(sp == VIPLB_JUMP_DEPTH_MAX))
				return NF_DROP;
			stack[sp].pos = pos;
			stack[sp].end = end;
			sp++;
			fallthrough;
		case VIPLB_V_GOTO:
			c = &t->chains[r->target];
			pos = c->first;
			end = c->first + c->n;
			break;
		default:
			return rule_nat(&r->spec, skb, state);
		}
	}
}

static unsigned int table_hook(struct sk_buff *skb,
			       const struct nf_hook_state *state, u8 table)
{
	struct viplb_net *vn = viplb_pernet(state->net);
	int afi = state->pf == NFPROTO_IPV6;
	const struct viplb_ruleset *rs;
	const struct viplb_table *t;
	unsigned int verdict;

	rs = rcu_dereference(vn->rules);
	t = rs ? rs->t[afi][table] : NULL;
	if (!t || t->builtin[state->hook] == U32_MAX)
		return NF_ACCEPT;
	/* Per-CPU counters: stay on this CPU (LOCAL_OUT can run in process
	 * context).
	 */
	local_bh_disable();
	verdict = table_run(t, state->hook, skb, state);
	local_bh_enable();
	return verdict;
}

static unsigned int filter_hook(void *priv, struct sk_buff *skb,
				const struct nf_hook_state *state)
{
	return table_hook(skb, state, VIPLB_RTABLE_FILTER);
}

/* A NAT lookup function: the NAT core calls it for new connections only. */
static unsigned int nat_hook(void *priv, struct sk_buff *skb,
			     const struct nf_hook_state *state)
{
	return table_hook(skb, state, VIPLB_RTABLE_NAT);
}

/*
 * Hook priorities are iptables' own: filter at NF_IP_PRI_FILTER, after
 * conntrack and destination NAT, so filter rules see translated
 * destinations; nat through the NAT core at NF_IP_PRI_NAT_DST (before
 * routing, and for local output) and NF_IP_PRI_NAT_SRC (after routing,
 * and for local input).  The VIP services' own NAT lookups sit one below,
 * so a VIP service is matched before the nat chains (see hooks.c).
 */
static const struct nf_hook_ops filter_ops[2][3] = {
	{
		VIPLB_HOOK_OP(filter_hook, NFPROTO_IPV4, NF_INET_LOCAL_IN,
			      NF_IP_PRI_FILTER),
		VIPLB_HOOK_OP(filter_hook, NFPROTO_IPV4, NF_INET_FORWARD,
			      NF_IP_PRI_FILTER),
		VIPLB_HOOK_OP(filter_hook, NFPROTO_IPV4, NF_INET_LOCAL_OUT,
			      NF_IP_PRI_FILTER),
	},
	{
		VIPLB_HOOK_OP(filter_hook, NFPROTO_IPV6, NF_INET_LOCAL_IN,
			      NF_IP6_PRI_FILTER),
		VIPLB_HOOK_OP(filter_hook, NFPROTO_IPV6, NF_INET_FORWARD,
			      NF_IP6_PRI_FILTER),
		VIPLB_HOOK_OP(filter_hook, NFPROTO_IPV6, NF_INET_LOCAL_OUT,
			      NF_IP6_PRI_FILTER),
	},
};

static const struct nf_hook_ops nat_ops[2][4] = {
	{
		VIPLB_HOOK_OP(nat_hook, NFPROTO_IPV4, NF_INET_PRE_ROUTING,
			      NF_IP_PRI_NAT_DST),
		VIPLB_HOOK_OP(nat_hook, NFPROTO_IPV4, NF_INET_LOCAL_IN,
			      NF_IP_PRI_NAT_SRC),
		VIPLB_HOOK_OP(nat_hook, NFPROTO_IPV4, NF_INET_LOCAL_OUT,
			      NF_IP_PRI_NAT_DST),
		VIPLB_HOOK_OP(nat_hook, NFPROTO_IPV4, NF_INET_POST_ROUTING,
			      NF_IP_PRI_NAT_SRC),
	},
	{
		VIPLB_HOOK_OP(nat_hook, NFPROTO_IPV6, NF_INET_PRE_ROUTING,
			      NF_IP6_PRI_NAT_DST),
		VIPLB_HOOK_OP(nat_hook, NFPROTO_IPV6, NF_INET_LOCAL_IN,
			      NF_IP6_PRI_NAT_SRC),
		VIPLB_HOOK_OP(nat_hook, NFPROTO_IPV6, NF_INET_LOCAL_OUT,
			      NF_IP6_PRI_NAT_DST),
		VIPLB_HOOK_OP(nat_hook, NFPROTO_IPV6, NF_INET_POST_ROUTING,
			      NF_IP6_PRI_NAT_SRC),
	},
};

static int table_hooks_register(struct net *net, int afi, int table)
{
	u8 pf = afi ? NFPROTO_IPV6 : NFPROTO_IPV4;
	int err;

	/* Conntrack: for the nat table, and for ctstate in filter. */
	err = nf_ct_netns_get(net, pf);
	if (err)
		return err;
	if (table == VIPLB_RTABLE_FILTER) {
		err = nf_register_net_hooks(net, filter_ops[afi],
					    ARRAY_SIZE(filter_ops[afi]));
		if (err)
			nf_ct_netns_put(net, pf);
		return err;
	}
	err = viplb_nat_fns_register(net, afi, nat_ops[afi],
				     ARRAY_SIZE(nat_ops[afi]));
	if (err)
		nf_ct_netns_put(net, pf);
	return err;
}

static void table_hooks_unregister(struct net *net, int afi, int table)
{
	if (table == VIPLB_RTABLE_FILTER)
		nf_unregister_net_hooks(net, filter_ops[afi],
					ARRAY_SIZE(filter_ops[afi]));
	else
		viplb_nat_fns_unregister(net, afi, nat_ops[afi],
					 ARRAY_SIZE(nat_ops[afi]));
	nf_ct_netns_put(net, afi ? NFPROTO_IPV6 : NFPROTO_IPV4);
}

/*
 * Makes the registered hooks those of the busy tables of @rs: registers
 * the missing ones when @add, unregisters the extra ones when !@add.
 */
static int rules_hooks_sync(struct net *net, struct viplb_net *vn,
			    const struct viplb_ruleset *rs, bool add)
{
	int afi, tb, err;

	for (afi = 0; afi < 2; afi++) {
		for (tb = 0; tb < VIPLB_NUM_RTABLES; tb++) {
			bool want = rs && rs->t[afi][tb] &&
				    rs->t[afi][tb]->busy;

			if (want == vn->rules_hooks[afi][tb] || want != add)
				continue;
			if (want) {
				err = table_hooks_register(net, afi, tb);
				if (err)
					return err;
			} else {
				table_hooks_unregister(net, afi, tb);
			}
			vn->rules_hooks[afi][tb] = want;
		}
	}
	return 0;
}

void viplb_rules_hooks_release(struct net *net, struct viplb_net *vn)
{
	rules_hooks_sync(net, vn, NULL, false);
}

/*
 * Checks and compiles every table loaded in the transaction and registers
 * the hooks they need.  On failure the live rules and hooks are as they
 * were.  Caller holds vn->lock.
 */
int viplb_rules_prepare(struct viplb_net *vn, struct netlink_ext_ack *extack)
{
	struct viplb_rules_txn *rt = vn->txn.rules;
	struct viplb_ruleset *live = viplb_live_rules(vn), *next;
	int afi, tb, err;

	if (rt->check_gen && rt->gen != vn->rules_gen) {
		NL_SET_ERR_MSG(
			extack,
			"the rules changed since they were read; try again");
		return -EAGAIN;
	}
	next = kzalloc(sizeof(*next), GFP_KERNEL_ACCOUNT);
	if (!next)
		return -ENOMEM;
	rt->next = next;
	for (afi = 0; afi < 2; afi++) {
		for (tb = 0; tb < VIPLB_NUM_RTABLES; tb++) {
			struct viplb_table_build *b = rt->b[afi][tb];

			if (!b) {
				next->t[afi][tb] = live ? live->t[afi][tb] :
							  NULL;
				continue;
			}
			err = table_finish(b, extack);
			if (err)
				return err;
			next->t[afi][tb] = b->final;
		}
	}
	err = rules_hooks_sync(vn->net, vn, next, true);
	if (err) {
		rules_hooks_sync(vn->net, vn, live, false);
		NL_SET_ERR_MSG(extack, "cannot register netfilter hooks");
	}
	return err;
}

/*
 * Swaps in the ruleset made by viplb_rules_prepare() and returns the one
 * it replaces, which the caller frees after a grace period with
 * viplb_ruleset_free_except(old, *kept): *kept marks the tables that the
 * new ruleset took over.  The old ruleset is left as it was, since
 * packets may still be walking it.
 */
struct viplb_ruleset *viplb_rules_commit(struct net *net, struct viplb_net *vn,
					 unsigned int *kept)
{
	struct viplb_rules_txn *rt = vn->txn.rules;
	struct viplb_ruleset *old = viplb_live_rules(vn);
	struct viplb_ruleset *next = rt->next;
	int afi, tb;

	BUILD_BUG_ON(2 * VIPLB_NUM_RTABLES > 32);
	rcu_assign_pointer(vn->rules, next);
	rt->next = NULL;
	vn->rules_gen++;
	*kept = 0;
	for (afi = 0; afi < 2; afi++) {
		for (tb = 0; tb < VIPLB_NUM_RTABLES; tb++) {
			if (rt->b[afi][tb])
				rt->b[afi][tb]->final = NULL;
			else
				*kept |= table_bit(afi, tb);
		}
	}
	rules_hooks_sync(net, vn, next, false);
	return old;
}
