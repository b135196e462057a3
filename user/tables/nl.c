// SPDX-License-Identifier: GPL-2.0
/*
 * The rule tables over generic netlink: the VIPLB_CMD_RULES_GET dump of a
 * table, and the transaction that replaces tables whole.  See tables.h and
 * the "Rule tables" part of include/uapi/linux/viplb.h.
 *
 * A dump is one message per chain, each followed by one message per rule
 * of the chain.  Every message carries the table's generation; if it
 * changes in the middle of the dump, or the dump is interrupted, the dump
 * starts over.
 *
 * Loading is one transaction of scope VIPLB_TXN_RULES (lib/txn.h) of
 * RULES_TABLE, RULES_CHAIN (built-in chains, then user chains by name)
 * and RULES_RULE messages; message i of the load is item i here, which
 * maps a kernel error back to its table, chain and rule.  On any error
 * the socket is closed by the caller, which aborts the transaction: the
 * live tables never change halfway.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/genetlink.h>
#include <libmnl/libmnl.h>

#include "nl.h"
#include "tables.h"
#include "txn.h"
#include "util.h"

#define DUMP_TRIES 5
#define DUMP_EBADMSG 1

/* What one dump message says. */
struct rules_msg {
	const struct nlattr *tb[VIPLB_RULES_A_MAX + 1];
};

static int rules_attr(const struct nlattr *attr, void *data)
{
	struct rules_msg *m = data;
	unsigned int type = mnl_attr_get_type(attr);

	if (type <= VIPLB_RULES_A_MAX)
		m->tb[type] = attr;
	return MNL_CB_OK;
}

static int outer_attr(const struct nlattr *attr, void *data)
{
	const struct nlattr **rules = data;

	if (mnl_attr_get_type(attr) == VIPLB_A_RULES)
		*rules = attr;
	return MNL_CB_OK;
}

static bool valid(const struct nlattr *a, enum mnl_attr_data_type type)
{
	return a && mnl_attr_validate(a, type) >= 0;
}

/* A NUL-terminated chain name that fits. */
static bool copy_name(char *dst, const struct nlattr *a)
{
	if (!valid(a, MNL_TYPE_NUL_STRING) ||
	    mnl_attr_get_payload_len(a) > VIPLB_CHAIN_NAME_MAX)
		return false;
	snprintf(dst, VIPLB_CHAIN_NAME_MAX, "%s", mnl_attr_get_str(a));
	return true;
}

static uint64_t get_u64(const struct nlattr *a)
{
	return valid(a, MNL_TYPE_U64) ? mnl_attr_get_u64(a) : 0;
}

static int dump_chain(struct rt_dump_state *st, const struct rules_msg *m)
{
	char name[VIPLB_CHAIN_NAME_MAX];
	struct rt_chain *c;

	if (!copy_name(name, m->tb[VIPLB_RULES_A_CHAIN]))
		return -1;
	c = rt_find_chain(st->t, name);
	if (!c) {
		if (rt_builtin_hook(st->t->id, name) != RT_USER_CHAIN)
			return -1;
		c = rt_add_chain(st->t, name);
		if (!c)
			return -ENOMEM;
	}
	if (c->hook != RT_USER_CHAIN) {
		if (!valid(m->tb[VIPLB_RULES_A_POLICY], MNL_TYPE_U32))
			return -1;
		c->policy = mnl_attr_get_u32(m->tb[VIPLB_RULES_A_POLICY]);
		if (c->policy != VIPLB_V_ACCEPT && c->policy != VIPLB_V_DROP)
			return -1;
		c->pkts = get_u64(m->tb[VIPLB_RULES_A_PKTS]);
		c->bytes = get_u64(m->tb[VIPLB_RULES_A_BYTES]);
	} else if (valid(m->tb[VIPLB_RULES_A_REFS], MNL_TYPE_U32)) {
		c->refs = mnl_attr_get_u32(m->tb[VIPLB_RULES_A_REFS]);
	}
	st->chain = c;
	return 0;
}

static int dump_rule(struct rt_dump_state *st, const struct rules_msg *m)
{
	const struct nlattr *a;
	char chain[VIPLB_CHAIN_NAME_MAX];
	struct rt_rule r;
	int ret;

	memset(&r, 0, sizeof(r));
	if (!copy_name(chain, m->tb[VIPLB_RULES_A_CHAIN]) || !st->chain ||
	    strcmp(chain, st->chain->name))
		return -1;
	a = m->tb[VIPLB_RULES_A_SPEC];
	if (mnl_attr_get_payload_len(a) != sizeof(r.spec))
		return -1;
	memcpy(&r.spec, mnl_attr_get_payload(a), sizeof(r.spec));
	a = m->tb[VIPLB_RULES_A_TARGET];
	if (a && !copy_name(r.target, a))
		return -1;
	a = m->tb[VIPLB_RULES_A_COMMENT];
	if (a) {
		if (!valid(a, MNL_TYPE_NUL_STRING) ||
		    mnl_attr_get_payload_len(a) > VIPLB_COMMENT_MAX)
			return -1;
		r.comment = (char *)mnl_attr_get_str(a);
	}
	/* Kept as it is: rt_match_order() decodes it, and checks it. */
	a = m->tb[VIPLB_RULES_A_MATCH_ORDER];
	if (a) {
		if (mnl_attr_get_payload_len(a) > VIPLB_MATCH_ORDER_MAX)
			return -1;
		r.order_len = mnl_attr_get_payload_len(a);
		memcpy(r.order, mnl_attr_get_payload(a), r.order_len);
	}
	if (!valid(m->tb[VIPLB_RULES_A_HANDLE], MNL_TYPE_U64))
		return -1;
	r.handle = mnl_attr_get_u64(m->tb[VIPLB_RULES_A_HANDLE]);
	r.has_handle = true;
	r.pkts = get_u64(m->tb[VIPLB_RULES_A_PKTS]);
	r.bytes = get_u64(m->tb[VIPLB_RULES_A_BYTES]);
	if (rt_check_spec(st->t->af, &r))
		return -1;
	/* Copies the comment. */
	ret = rt_insert_rule(st->chain, st->chain->nr_rules, &r);
	return ret ? -ENOMEM : 0;
}

int rt_dump_msg(const struct nlmsghdr *nlh, void *data)
{
	struct rt_dump_state *st = data;
	const struct nlattr *rules = NULL;
	struct rules_msg m = { 0 };
	uint32_t gen;
	int ret;

	if (st->bad)
		return 0;
	if (mnl_attr_parse(nlh, sizeof(struct genlmsghdr), outer_attr, &rules) <
		    0 ||
	    !rules || mnl_attr_parse_nested(rules, rules_attr, &m) < 0)
		goto bad;
	if (!valid(m.tb[VIPLB_RULES_A_AF], MNL_TYPE_U16) ||
	    !valid(m.tb[VIPLB_RULES_A_TABLE], MNL_TYPE_U32) ||
	    !valid(m.tb[VIPLB_RULES_A_GEN], MNL_TYPE_U32) ||
	    mnl_attr_get_u16(m.tb[VIPLB_RULES_A_AF]) != st->t->af ||
	    mnl_attr_get_u32(m.tb[VIPLB_RULES_A_TABLE]) != st->t->id)
		goto bad;
	gen = mnl_attr_get_u32(m.tb[VIPLB_RULES_A_GEN]);
	if (st->t->has_gen && gen != st->t->gen)
		st->gen_changed = true;
	st->t->gen = gen;
	st->t->has_gen = true;
	if (m.tb[VIPLB_RULES_A_SPEC])
		ret = dump_rule(st, &m);
	else
		ret = dump_chain(st, &m);
	if (ret == -ENOMEM)
		return -ENOMEM;
	if (!ret)
		return 0;
bad:
	st->bad = true;
	return 0;
}

int rt_dump_table(struct nl_sock *nl, uint16_t af, uint32_t id,
		  struct rt_table *t, struct nl_error *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct rt_dump_state st;
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	int tries, ret;
	bool intr;

	for (tries = 0; tries < DUMP_TRIES; tries++) {
		if (rt_table_init(t, af, id)) {
			memset(err, 0, sizeof(*err));
			err->error = ENOMEM;
			err->syscall = "dump";
			return -1;
		}
		memset(&st, 0, sizeof(st));
		st.t = t;
		nlh = nl_msg_start(nl, buf, VIPLB_CMD_RULES_GET, NLM_F_DUMP);
		nest = mnl_attr_nest_start(nlh, VIPLB_A_RULES);
		mnl_attr_put_u16(nlh, VIPLB_RULES_A_AF, af);
		mnl_attr_put_u32(nlh, VIPLB_RULES_A_TABLE, id);
		mnl_attr_nest_end(nlh, nest);
		ret = nl_request(nl, nlh, rt_dump_msg, &st, err, &intr);
		if (ret) {
			rt_table_free(t);
			return -1;
		}
		if (st.bad) {
			rt_table_free(t);
			memset(err, 0, sizeof(*err));
			err->error = EBADMSG;
			err->syscall = "reading the rules dump";
			return -1;
		}
		if (!intr && !st.gen_changed)
			return 0;
		rt_table_free(t);
	}
	memset(err, 0, sizeof(*err));
	err->error = EAGAIN;
	err->syscall = "dump (the rules kept changing)";
	return -1;
}

/* Loading */

/* What each message of a load was, to name it in errors. */
struct load_item {
	const struct rt_table *table;
	const struct rt_chain *chain;
	const struct rt_rule *rule;
	size_t rule_num;
};

struct load {
	struct txn *txn;
	struct load_item *items; /* item i is command i of the transaction */
	size_t nr;
	size_t cap;
};

static void put_key(struct nlmsghdr *nlh, const struct rt_table *t)
{
	mnl_attr_put_u16(nlh, VIPLB_RULES_A_AF, t->af);
	mnl_attr_put_u32(nlh, VIPLB_RULES_A_TABLE, t->id);
}

static void put_table(struct nlmsghdr *nlh, const struct rt_table *t)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, VIPLB_A_RULES);

	put_key(nlh, t);
	if (t->has_gen)
		mnl_attr_put_u32(nlh, VIPLB_RULES_A_GEN, t->gen);
	mnl_attr_nest_end(nlh, nest);
}

static void put_chain(struct nlmsghdr *nlh, const struct rt_table *t,
		      const struct rt_chain *c)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, VIPLB_A_RULES);

	put_key(nlh, t);
	mnl_attr_put_strz(nlh, VIPLB_RULES_A_CHAIN, c->name);
	if (c->hook != RT_USER_CHAIN) {
		mnl_attr_put_u32(nlh, VIPLB_RULES_A_POLICY, c->policy);
		if (c->set_counters) {
			mnl_attr_put_u64(nlh, VIPLB_RULES_A_PKTS, c->pkts);
			mnl_attr_put_u64(nlh, VIPLB_RULES_A_BYTES, c->bytes);
		}
	}
	mnl_attr_nest_end(nlh, nest);
}

static void put_rule(struct nlmsghdr *nlh, const struct rt_table *t,
		     const struct rt_chain *c, const struct rt_rule *r)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, VIPLB_A_RULES);

	put_key(nlh, t);
	mnl_attr_put_strz(nlh, VIPLB_RULES_A_CHAIN, c->name);
	mnl_attr_put(nlh, VIPLB_RULES_A_SPEC, sizeof(r->spec), &r->spec);
	if (r->spec.verdict == VIPLB_V_JUMP || r->spec.verdict == VIPLB_V_GOTO)
		mnl_attr_put_strz(nlh, VIPLB_RULES_A_TARGET, r->target);
	if (r->comment)
		mnl_attr_put_strz(nlh, VIPLB_RULES_A_COMMENT, r->comment);
	if (r->order_len)
		mnl_attr_put(nlh, VIPLB_RULES_A_MATCH_ORDER, r->order_len,
			     r->order);
	/* Both: the live rule's nth position with new counters (-Z). */
	if (r->has_handle)
		mnl_attr_put_u64(nlh, VIPLB_RULES_A_HANDLE, r->handle);
	if (r->set_counters) {
		mnl_attr_put_u64(nlh, VIPLB_RULES_A_PKTS, r->pkts);
		mnl_attr_put_u64(nlh, VIPLB_RULES_A_BYTES, r->bytes);
	}
	mnl_attr_nest_end(nlh, nest);
}

/*
 * Queue one message of the load, remembering what it was.  Returns 0, or
 * -1 with *err set.
 */
static int send_item(struct load *l, const struct rt_table *t,
		     const struct rt_chain *c, const struct rt_rule *r,
		     size_t num, struct nl_error *err)
{
	if (grow_array(l->items, l->nr, l->cap, 256)) {
		memset(err, 0, sizeof(*err));
		err->error = ENOMEM;
		err->syscall = "building the load";
		return -1;
	}
	l->items[l->nr++] = (struct load_item){ t, c, r, num };
	return txn_add(l->txn, err);
}

/* Whether the kernel refused a message: stop sending, the load failed. */
static bool refused(const struct load *l)
{
	struct nl_error err;
	size_t idx;

	return txn_failed(l->txn, &idx, &err);
}

static int send_table(struct load *l, const struct rt_table *t,
		      struct nl_error *err)
{
	struct nlmsghdr *nlh;
	size_t *order, i, j;
	int ret = -1;

	order = rt_chain_order(t);
	if (!order) {
		memset(err, 0, sizeof(*err));
		err->error = ENOMEM;
		err->syscall = "building the load";
		return -1;
	}
	nlh = txn_msg(l->txn, VIPLB_CMD_RULES_TABLE);
	put_table(nlh, t);
	if (send_item(l, t, NULL, NULL, 0, err))
		goto out;
	for (i = 0; i < t->nr_chains && !refused(l); i++) {
		const struct rt_chain *c = &t->chains[order[i]];

		nlh = txn_msg(l->txn, VIPLB_CMD_RULES_CHAIN);
		put_chain(nlh, t, c);
		if (send_item(l, t, c, NULL, 0, err))
			goto out;
	}
	for (i = 0; i < t->nr_chains && !refused(l); i++) {
		const struct rt_chain *c = &t->chains[order[i]];

		for (j = 0; j < c->nr_rules && !refused(l); j++) {
			nlh = txn_msg(l->txn, VIPLB_CMD_RULES_RULE);
			put_rule(nlh, t, c, &c->rules[j]);
			if (send_item(l, t, c, &c->rules[j], j + 1, err))
				goto out;
		}
	}
	ret = 0;
out:
	free(order);
	return ret;
}

int rt_load_tables(struct nl_sock *nl, struct rt_table *const *tables, size_t n,
		   int wait, struct nl_error *err, struct rt_load_fail *fail)
{
	struct load l = { 0 };
	size_t i, idx;
	int ret = -1;

	memset(fail, 0, sizeof(*fail));
	l.txn = txn_begin(nl, VIPLB_TXN_RULES, wait, err);
	if (!l.txn) {
		fail->begin = !err->syscall || err->error != ENOMEM;
		return -1;
	}
	for (i = 0; i < n && !refused(&l); i++)
		if (send_table(&l, tables[i], err))
			goto out;
	if (!refused(&l)) {
		ret = txn_commit(l.txn, err, NULL);
		fail->commit = ret == -2;
	}
out:
	if (txn_failed(l.txn, &idx, err)) {
		const struct load_item *it = &l.items[idx];

		fail->table = it->table;
		fail->chain = it->chain;
		fail->rule = it->rule;
		fail->rule_num = it->rule_num;
		ret = -1;
	}
	txn_free(l.txn);
	free(l.items);
	return ret ? -1 : 0;
}
