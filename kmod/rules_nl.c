// SPDX-License-Identifier: GPL-2.0
/*
 * viplb: generic netlink commands of the rule tables: loading a table
 * inside a transaction (RULES_TABLE, RULES_CHAIN, RULES_RULE) and dumping
 * one (RULES_GET).  See the UAPI header for the message layouts.
 */
#include "rules.h"
#include <net/genetlink.h>
#include <net/sock.h>

static const struct nla_policy rules_policy[VIPLB_RULES_A_MAX + 1] = {
	[0] = { .strict_start_type = 1 },
	[VIPLB_RULES_A_PAD] = { .type = NLA_REJECT },
	[VIPLB_RULES_A_AF] = { .type = NLA_U16 },
	[VIPLB_RULES_A_TABLE] = NLA_POLICY_MAX(NLA_U32, VIPLB_RTABLE_MAX),
	[VIPLB_RULES_A_GEN] = { .type = NLA_U32 },
	[VIPLB_RULES_A_CHAIN] = { .type = NLA_NUL_STRING,
				  .len = VIPLB_CHAIN_NAME_MAX - 1 },
	[VIPLB_RULES_A_POLICY] =
		NLA_POLICY_RANGE(NLA_U32, VIPLB_V_ACCEPT, VIPLB_V_DROP),
	[VIPLB_RULES_A_SPEC] =
		NLA_POLICY_EXACT_LEN(sizeof(struct viplb_rule_spec)),
	[VIPLB_RULES_A_TARGET] = { .type = NLA_NUL_STRING,
				   .len = VIPLB_CHAIN_NAME_MAX - 1 },
	[VIPLB_RULES_A_COMMENT] = { .type = NLA_NUL_STRING,
				    .len = VIPLB_COMMENT_MAX - 1 },
	[VIPLB_RULES_A_HANDLE] = { .type = NLA_U64 },
	[VIPLB_RULES_A_PKTS] = { .type = NLA_U64 },
	[VIPLB_RULES_A_BYTES] = { .type = NLA_U64 },
	[VIPLB_RULES_A_REFS] = { .type = NLA_REJECT },
	[VIPLB_RULES_A_MATCH_ORDER] = { .type = NLA_BINARY,
					.len = VIPLB_MATCH_ORDER_MAX },
};

const struct nla_policy viplb_rules_cmd_policy[VIPLB_A_RULES + 1] = {
	[VIPLB_A_RULES] = NLA_POLICY_NESTED(rules_policy),
};

/* Parses the nest and the (family, table) every rules message names. */
static int parse_rules_nest(const struct nlattr *nest, struct nlattr **tb,
			    u8 *afi, u8 *table, struct netlink_ext_ack *extack)
{
	int err;
	u16 af;

	if (!nest) {
		NL_SET_ERR_MSG(extack, "missing rules attribute");
		return -EINVAL;
	}
	err = nla_parse_nested(tb, VIPLB_RULES_A_MAX, nest, rules_policy,
			       extack);
	if (err)
		return err;
	if (!tb[VIPLB_RULES_A_AF] || !tb[VIPLB_RULES_A_TABLE]) {
		NL_SET_ERR_MSG_ATTR(extack, nest,
				    "rules af and table are required");
		return -EINVAL;
	}
	af = nla_get_u16(tb[VIPLB_RULES_A_AF]);
	if (af != AF_INET && af != AF_INET6) {
		NL_SET_ERR_MSG_ATTR(extack, tb[VIPLB_RULES_A_AF],
				    "rules af must be AF_INET or AF_INET6");
		return -EAFNOSUPPORT;
	}
	*afi = af == AF_INET6;
	*table = nla_get_u32(tb[VIPLB_RULES_A_TABLE]);
	return 0;
}

static int rules_table(struct viplb_net *vn, struct genl_info *info)
{
	struct nlattr *tb[VIPLB_RULES_A_MAX + 1];
	u8 afi, table;
	int err;

	err = parse_rules_nest(info->attrs[VIPLB_A_RULES], tb, &afi, &table,
			       info->extack);
	if (err)
		return err;
	if (tb[VIPLB_RULES_A_GEN]) {
		u32 gen = nla_get_u32(tb[VIPLB_RULES_A_GEN]);

		if (vn->txn.rules->check_gen && vn->txn.rules->gen != gen) {
			NL_SET_ERR_MSG_ATTR(
				info->extack, tb[VIPLB_RULES_A_GEN],
				"two generations in one transaction");
			return -EINVAL;
		}
		vn->txn.rules->check_gen = true;
		vn->txn.rules->gen = gen;
	}
	return viplb_rules_load_table(vn, afi, table, info->extack);
}

int viplb_nl_rules_table(struct sk_buff *skb, struct genl_info *info)
{
	return viplb_txn_apply(info, VIPLB_TXN_RULES, rules_table);
}

/* The table being loaded that a CHAIN or RULE message names. */
static struct viplb_table_build *
msg_build(struct viplb_net *vn, struct genl_info *info, struct nlattr **tb)
{
	struct viplb_table_build *b;
	u8 afi, table;
	int err;

	err = parse_rules_nest(info->attrs[VIPLB_A_RULES], tb, &afi, &table,
			       info->extack);
	if (err)
		return ERR_PTR(err);
	if (!tb[VIPLB_RULES_A_CHAIN]) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VIPLB_A_RULES],
				    "missing chain name");
		return ERR_PTR(-EINVAL);
	}
	b = viplb_rules_build(vn, afi, table);
	if (!b) {
		NL_SET_ERR_MSG_ATTR(
			info->extack, tb[VIPLB_RULES_A_TABLE],
			"table not started with RULES_TABLE in this transaction");
		return ERR_PTR(-EINVAL);
	}
	return b;
}

static const u64 *opt_u64(const struct nlattr *attr, u64 *val)
{
	if (!attr)
		return NULL;
	*val = nla_get_u64(attr);
	return val;
}

static int rules_chain(struct viplb_net *vn, struct genl_info *info)
{
	struct nlattr *tb[VIPLB_RULES_A_MAX + 1];
	struct viplb_table_build *b;
	u64 pkts, bytes;
	u32 policy;

	b = msg_build(vn, info, tb);
	if (IS_ERR(b))
		return PTR_ERR(b);
	if (tb[VIPLB_RULES_A_POLICY])
		policy = nla_get_u32(tb[VIPLB_RULES_A_POLICY]);
	return viplb_rules_load_chain(b, nla_data(tb[VIPLB_RULES_A_CHAIN]),
				      tb[VIPLB_RULES_A_POLICY] ? &policy : NULL,
				      opt_u64(tb[VIPLB_RULES_A_PKTS], &pkts),
				      opt_u64(tb[VIPLB_RULES_A_BYTES], &bytes),
				      tb[VIPLB_RULES_A_CHAIN], info->extack);
}

int viplb_nl_rules_chain(struct sk_buff *skb, struct genl_info *info)
{
	return viplb_txn_apply(info, VIPLB_TXN_RULES, rules_chain);
}

static int rules_rule(struct viplb_net *vn, struct genl_info *info)
{
	struct nlattr *tb[VIPLB_RULES_A_MAX + 1];
	struct viplb_rule_load rl = {};
	struct viplb_rule_spec spec;
	struct viplb_table_build *b;
	u64 handle, pkts, bytes;

	b = msg_build(vn, info, tb);
	if (IS_ERR(b))
		return PTR_ERR(b);
	if (!tb[VIPLB_RULES_A_SPEC]) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VIPLB_A_RULES],
				    "missing rule spec");
		return -EINVAL;
	}
	memcpy(&spec, nla_data(tb[VIPLB_RULES_A_SPEC]), sizeof(spec));
	rl.chain = nla_data(tb[VIPLB_RULES_A_CHAIN]);
	rl.spec = &spec;
	if (tb[VIPLB_RULES_A_TARGET])
		rl.target = nla_data(tb[VIPLB_RULES_A_TARGET]);
	if (tb[VIPLB_RULES_A_COMMENT])
		rl.comment = nla_data(tb[VIPLB_RULES_A_COMMENT]);
	rl.handle = opt_u64(tb[VIPLB_RULES_A_HANDLE], &handle);
	rl.pkts = opt_u64(tb[VIPLB_RULES_A_PKTS], &pkts);
	rl.bytes = opt_u64(tb[VIPLB_RULES_A_BYTES], &bytes);
	rl.order = tb[VIPLB_RULES_A_MATCH_ORDER];
	rl.spec_attr = tb[VIPLB_RULES_A_SPEC];
	return viplb_rules_load_rule(vn, b, &rl, info->extack);
}

int viplb_nl_rules_rule(struct sk_buff *skb, struct genl_info *info)
{
	return viplb_txn_apply(info, VIPLB_TXN_RULES, rules_rule);
}

/* Dump */

struct rules_dump_ctx {
	bool started;
	u8 afi;
	u8 table;
	u32 chain; /* next chain */
	u32 rule; /* 0: chain header next, else rule + 1 */
};

/* Starts a dump message holding the (family, table, gen, chain) prefix. */
static struct nlattr *msg_start(struct sk_buff *skb,
				struct netlink_callback *cb,
				const struct rules_dump_ctx *ctx, u32 gen,
				const char *chain, void **hdr)
{
	struct nlattr *nest;

	*hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			   &viplb_genl_family, NLM_F_MULTI,
			   VIPLB_CMD_RULES_GET);
	if (!*hdr)
		return NULL;
	genl_dump_check_consistent(cb, *hdr);
	nest = nla_nest_start(skb, VIPLB_A_RULES);
	if (!nest ||
	    nla_put_u16(skb, VIPLB_RULES_A_AF, ctx->afi ? AF_INET6 : AF_INET) ||
	    nla_put_u32(skb, VIPLB_RULES_A_TABLE, ctx->table) ||
	    nla_put_u32(skb, VIPLB_RULES_A_GEN, gen) ||
	    nla_put_string(skb, VIPLB_RULES_A_CHAIN, chain)) {
		genlmsg_cancel(skb, *hdr);
		return NULL;
	}
	return nest;
}

static int put_counters(struct sk_buff *skb, const struct viplb_rule_state *st)
{
	u64 pkts = 0, bytes = 0;

	if (st)
		viplb_rule_state_read(st, &pkts, &bytes);
	if (nla_put_u64_64bit(skb, VIPLB_RULES_A_PKTS, pkts,
			      VIPLB_RULES_A_PAD) ||
	    nla_put_u64_64bit(skb, VIPLB_RULES_A_BYTES, bytes,
			      VIPLB_RULES_A_PAD))
		return -EMSGSIZE;
	return 0;
}

/* One chain message; @c is NULL for a built-in chain of an unloaded table. */
static int fill_chain(struct sk_buff *skb, struct netlink_callback *cb,
		      const struct rules_dump_ctx *ctx, u32 gen,
		      const char *name, const struct viplb_chain *c)
{
	struct nlattr *nest;
	void *hdr;

	nest = msg_start(skb, cb, ctx, gen, name, &hdr);
	if (!nest)
		return -EMSGSIZE;
	if (c && c->hook < 0) {
		if (nla_put_u32(skb, VIPLB_RULES_A_REFS, c->refs))
			goto cancel;
	} else {
		if (nla_put_u32(skb, VIPLB_RULES_A_POLICY,
				c ? c->policy : VIPLB_V_ACCEPT) ||
		    put_counters(skb, c ? c->pst : NULL))
			goto cancel;
	}
	nla_nest_end(skb, nest);
	genlmsg_end(skb, hdr);
	return 0;
cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

static int fill_rule(struct sk_buff *skb, struct netlink_callback *cb,
		     const struct rules_dump_ctx *ctx, u32 gen,
		     const struct viplb_table *t, const struct viplb_rule *r)
{
	const char *chain = t->chains[r->chain].name;
	struct nlattr *nest;
	void *hdr;

	nest = msg_start(skb, cb, ctx, gen, chain, &hdr);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put(skb, VIPLB_RULES_A_SPEC, sizeof(r->spec), &r->spec) ||
	    ((r->spec.verdict == VIPLB_V_JUMP ||
	      r->spec.verdict == VIPLB_V_GOTO) &&
	     nla_put_string(skb, VIPLB_RULES_A_TARGET,
			    t->chains[r->target].name)) ||
	    (r->comment &&
	     nla_put_string(skb, VIPLB_RULES_A_COMMENT, r->comment)) ||
	    (r->order_len && nla_put(skb, VIPLB_RULES_A_MATCH_ORDER,
				     r->order_len, r->order)) ||
	    nla_put_u64_64bit(skb, VIPLB_RULES_A_HANDLE, r->st->handle,
			      VIPLB_RULES_A_PAD) ||
	    put_counters(skb, r->st)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	genlmsg_end(skb, hdr);
	return 0;
}

/* A never-loaded table: its built-in chains, empty, with policy ACCEPT. */
static int dump_unloaded(struct sk_buff *skb, struct netlink_callback *cb,
			 struct rules_dump_ctx *ctx, u32 gen)
{
	u32 hook, i = 0;

	for (hook = 0; hook < __VIPLB_HOOK_MAX; hook++) {
		if (!viplb_rtable_has_hook(ctx->table, hook))
			continue;
		if (i++ < ctx->chain)
			continue;
		if (fill_chain(skb, cb, ctx, gen, viplb_hook_names[hook], NULL))
			break;
		ctx->chain++;
	}
	return skb->len;
}

int viplb_nl_rules_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct rules_dump_ctx *ctx = (struct rules_dump_ctx *)cb->ctx;
	struct viplb_net *vn = viplb_pernet(sock_net(skb->sk));
	const struct viplb_ruleset *rs;
	const struct viplb_table *t;
	int ret;

	BUILD_BUG_ON(sizeof(*ctx) > sizeof(cb->ctx));
	if (!ctx->started) {
		struct nlattr *tb[VIPLB_RULES_A_MAX + 1];
		int err;

		err = viplb_nl_check_version(nlmsg_data(cb->nlh), cb->extack);
		if (err)
			return err;
		err = parse_rules_nest(
			genl_dumpit_info(cb)->attrs[VIPLB_A_RULES], tb,
			&ctx->afi, &ctx->table, cb->extack);
		if (err)
			return err;
		ctx->started = true;
	}

	mutex_lock(&vn->lock);
	cb->seq = vn->rules_gen + 1;
	rs = viplb_live_rules(vn);
	t = rs ? rs->t[ctx->afi][ctx->table] : NULL;
	if (!t) {
		ret = dump_unloaded(skb, cb, ctx, vn->rules_gen);
		goto out;
	}
	for (; ctx->chain < t->n_chains; ctx->chain++, ctx->rule = 0) {
		const struct viplb_chain *c = &t->chains[ctx->chain];

		if (!ctx->rule) {
			if (fill_chain(skb, cb, ctx, vn->rules_gen, c->name, c))
				break;
			ctx->rule = 1;
		}
		for (; ctx->rule <= c->n; ctx->rule++) {
			if (fill_rule(skb, cb, ctx, vn->rules_gen, t,
				      &t->rules[c->first + ctx->rule - 1]))
				goto full;
		}
	}
full:
	ret = skb->len;
out:
	mutex_unlock(&vn->lock);
	return ret;
}
