// SPDX-License-Identifier: GPL-2.0
/*
 * Rule tables in memory and the editing commands of iptables applied to
 * them (-A -I -R -D -C -F -Z -N -X -P -E and restore's chain lines).  See
 * tables.h.
 *
 * A table keeps its chains in one array, built-in chains first in hook
 * order, and a hash index of their names: restore files may hold
 * thousands of chains.  Listing and loading order (built-ins, then user
 * chains sorted by strcmp(), as iptables-save prints them) comes from
 * rt_chain_order().
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "parse.h"
#include "tables.h"
#include "util.h"

static char errbuf[512];

static void set_error(const char *fmt, va_list ap)
{
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
}

const char *rt_error(void)
{
	return errbuf;
}

int rt_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_error(fmt, ap);
	va_end(ap);
	return RT_EFAIL;
}

int rt_param(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_error(fmt, ap);
	va_end(ap);
	return RT_EPARAM;
}

static int no_memory(void)
{
	return rt_fail("%s", strerror(ENOMEM));
}

/* Tables and their built-in chains */

static const char *const table_names[] = {
	[VIPLB_RTABLE_FILTER] = "filter",
	[VIPLB_RTABLE_NAT] = "nat",
};

static const char *const hook_names[] = {
	[VIPLB_HOOK_PREROUTING] = "PREROUTING",
	[VIPLB_HOOK_INPUT] = "INPUT",
	[VIPLB_HOOK_FORWARD] = "FORWARD",
	[VIPLB_HOOK_OUTPUT] = "OUTPUT",
	[VIPLB_HOOK_POSTROUTING] = "POSTROUTING",
};

static const int filter_hooks[] = { VIPLB_HOOK_INPUT, VIPLB_HOOK_FORWARD,
				    VIPLB_HOOK_OUTPUT };
static const int nat_hooks[] = { VIPLB_HOOK_PREROUTING, VIPLB_HOOK_INPUT,
				 VIPLB_HOOK_OUTPUT, VIPLB_HOOK_POSTROUTING };

static size_t table_hooks(uint32_t id, const int **hooks)
{
	if (id == VIPLB_RTABLE_NAT) {
		*hooks = nat_hooks;
		return ARRAY_SIZE(nat_hooks);
	}
	*hooks = filter_hooks;
	return ARRAY_SIZE(filter_hooks);
}

const char *rt_table_name(uint32_t id)
{
	return id < ARRAY_SIZE(table_names) ? table_names[id] : "?";
}

int rt_table_by_name(const char *name, uint32_t *id)
{
	static const char *const other[] = { "mangle", "raw", "security" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(table_names); i++) {
		if (!strcmp(name, table_names[i])) {
			*id = i;
			return 0;
		}
	}
	for (i = 0; i < ARRAY_SIZE(other); i++)
		if (!strcmp(name, other[i]))
			return rt_param("unsupported table " RT_Q
					" (use filter or nat)",
					quote_arg(name));
	return rt_param("unknown table " RT_Q " (use filter or nat)",
			quote_arg(name));
}

const char *rt_family_name(uint16_t af)
{
	return af == AF_INET6 ? "ipv6" : "ipv4";
}

int rt_builtin_hook(uint32_t id, const char *name)
{
	const int *hooks;
	size_t i, n = table_hooks(id, &hooks);

	for (i = 0; i < n; i++)
		if (!strcmp(name, hook_names[hooks[i]]))
			return hooks[i];
	return RT_USER_CHAIN;
}

/* The chain name index */

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static void index_put(struct rt_table *t, size_t idx)
{
	size_t mask = t->index_size - 1;
	size_t slot = name_hash(t->chains[idx].name) & mask;

	while (t->index[slot])
		slot = (slot + 1) & mask;
	t->index[slot] = idx + 1;
}

/* Rebuild the index, at most half full; returns -1 on ENOMEM. */
static int index_rebuild(struct rt_table *t)
{
	size_t size = 16, i;
	uint32_t *index;

	while (size < 2 * (t->nr_chains + 1))
		size *= 2;
	index = calloc(size, sizeof(*index));
	if (!index)
		return -1;
	free(t->index);
	t->index = index;
	t->index_size = size;
	t->index_stale = false;
	for (i = 0; i < t->nr_chains; i++)
		index_put(t, i);
	return 0;
}

struct rt_chain *rt_find_chain(struct rt_table *t, const char *name)
{
	size_t mask, slot;
	uint32_t v;

	if (t->index_stale || !t->index) {
		if (index_rebuild(t)) {
			/* No memory for the index: search the array. */
			for (slot = 0; slot < t->nr_chains; slot++)
				if (!strcmp(t->chains[slot].name, name))
					return &t->chains[slot];
			return NULL;
		}
	}
	mask = t->index_size - 1;
	for (slot = name_hash(name) & mask; (v = t->index[slot]);
	     slot = (slot + 1) & mask)
		if (!strcmp(t->chains[v - 1].name, name))
			return &t->chains[v - 1];
	return NULL;
}

static struct rt_chain *new_chain(struct rt_table *t, const char *name,
				  int hook)
{
	struct rt_chain *c;

	if (grow_array(t->chains, t->nr_chains, t->cap_chains, 16))
		return NULL;
	c = &t->chains[t->nr_chains++];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->hook = hook;
	c->policy = VIPLB_V_ACCEPT;
	if (!t->index_stale && t->index &&
	    2 * (t->nr_chains + 1) <= t->index_size)
		index_put(t, t->nr_chains - 1);
	else
		t->index_stale = true;
	return c;
}

int rt_table_init(struct rt_table *t, uint16_t af, uint32_t id)
{
	const int *hooks;
	size_t i, n = table_hooks(id, &hooks);

	memset(t, 0, sizeof(*t));
	t->af = af;
	t->id = id;
	t->index_stale = true;
	for (i = 0; i < n; i++) {
		if (!new_chain(t, hook_names[hooks[i]], hooks[i])) {
			rt_table_free(t);
			return no_memory();
		}
	}
	return 0;
}

bool rt_table_empty(const struct rt_table *t)
{
	size_t i;

	for (i = 0; i < t->nr_chains; i++)
		if (t->chains[i].hook == RT_USER_CHAIN ||
		    t->chains[i].nr_rules ||
		    t->chains[i].policy != VIPLB_V_ACCEPT)
			return false;
	return true;
}

void rt_rule_free(struct rt_rule *r)
{
	free(r->comment);
	r->comment = NULL;
}

static void chain_free(struct rt_chain *c)
{
	size_t i;

	for (i = 0; i < c->nr_rules; i++)
		rt_rule_free(&c->rules[i]);
	free(c->rules);
	c->rules = NULL;
	c->nr_rules = c->cap_rules = 0;
}

void rt_table_free(struct rt_table *t)
{
	size_t i;

	for (i = 0; i < t->nr_chains; i++)
		chain_free(&t->chains[i]);
	free(t->chains);
	free(t->index);
	t->chains = NULL;
	t->index = NULL;
	t->nr_chains = t->cap_chains = t->index_size = 0;
}

struct rt_chain *rt_add_chain(struct rt_table *t, const char *name)
{
	return new_chain(t, name, RT_USER_CHAIN);
}

static void remove_chain(struct rt_table *t, struct rt_chain *c)
{
	size_t idx = c - t->chains;

	chain_free(c);
	memmove(c, c + 1, (t->nr_chains - idx - 1) * sizeof(*c));
	t->nr_chains--;
	t->index_stale = true;
}

static const struct rt_table *sort_table;

static int cmp_chain_idx(const void *a, const void *b)
{
	const struct rt_chain *ca = &sort_table->chains[*(const size_t *)a];
	const struct rt_chain *cb = &sort_table->chains[*(const size_t *)b];

	if ((ca->hook == RT_USER_CHAIN) != (cb->hook == RT_USER_CHAIN))
		return ca->hook == RT_USER_CHAIN ? 1 : -1;
	if (ca->hook != RT_USER_CHAIN)
		return ca - cb; /* built-ins stay in hook order */
	return strcmp(ca->name, cb->name);
}

size_t *rt_chain_order(const struct rt_table *t)
{
	size_t *order = malloc((t->nr_chains + 1) * sizeof(*order));
	size_t i;

	if (!order)
		return NULL;
	for (i = 0; i < t->nr_chains; i++)
		order[i] = i;
	sort_table = t;
	qsort(order, t->nr_chains, sizeof(*order), cmp_chain_idx);
	sort_table = NULL;
	return order;
}

static bool is_jump(const struct rt_rule *r)
{
	return r->spec.verdict == VIPLB_V_JUMP ||
	       r->spec.verdict == VIPLB_V_GOTO;
}

static uint32_t count_refs(const struct rt_table *t, const char *name)
{
	uint32_t refs = 0;
	size_t i, j;

	for (i = 0; i < t->nr_chains; i++)
		for (j = 0; j < t->chains[i].nr_rules; j++)
			refs += is_jump(&t->chains[i].rules[j]) &&
				!strcmp(t->chains[i].rules[j].target, name);
	return refs;
}

void rt_update_refs(struct rt_table *t)
{
	struct rt_chain *target;
	size_t i, j;

	for (i = 0; i < t->nr_chains; i++)
		t->chains[i].refs = 0;
	for (i = 0; i < t->nr_chains; i++) {
		for (j = 0; j < t->chains[i].nr_rules; j++) {
			const struct rt_rule *r = &t->chains[i].rules[j];

			if (!is_jump(r))
				continue;
			target = rt_find_chain(t, r->target);
			if (target)
				target->refs++;
		}
	}
}

/* Rules */

static int copy_rule(struct rt_rule *dst, const struct rt_rule *src)
{
	*dst = *src;
	if (src->comment) {
		dst->comment = strdup(src->comment);
		if (!dst->comment)
			return -1;
	}
	return 0;
}

/* Match order (see tables.h) */

/* The match slot of a kind: tcp and udp, conntrack and state share one. */
static unsigned int order_slot(uint8_t kind)
{
	switch (kind) {
	case RT_ORDER_TCP:
	case RT_ORDER_UDP:
		return 0;
	case RT_ORDER_MULTIPORT:
		return 1;
	case RT_ORDER_CONNTRACK:
	case RT_ORDER_STATE:
		return 2;
	case RT_ORDER_MARK:
		return 3;
	case RT_ORDER_STATISTIC:
		return 4;
	case RT_ORDER_COMMENT:
		return 5;
	}
	return RT_ORDER_KINDS;
}

/* The matches r has, in the fixed order; returns how many. */
const char *rt_port_proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_UDPLITE:
		return "udplite";
	case IPPROTO_SCTP:
		return "sctp";
	case IPPROTO_DCCP:
		return "dccp";
	}
	return NULL;
}

bool rt_tcp_flags(const struct viplb_rule_spec *s, uint8_t *mask,
		  uint8_t *cmp, uint32_t *bit)
{
	if (s->match & VIPLB_M_SYN) {
		*mask = RT_TCPF_FIN | RT_TCPF_SYN | RT_TCPF_RST | RT_TCPF_ACK;
		*cmp = RT_TCPF_SYN;
		*bit = VIPLB_M_SYN;
		return true;
	}
	*mask = s->tcp_flags_mask;
	*cmp = s->tcp_flags_cmp;
	*bit = VIPLB_M_TCP_FLAGS;
	return s->match & VIPLB_M_TCP_FLAGS;
}

static size_t default_order(const struct rt_rule *r, uint8_t *kinds)
{
	const struct viplb_rule_spec *s = &r->spec;
	size_t n = 0;

	if (r->comment)
		kinds[n++] = RT_ORDER_COMMENT;
	if (s->match & (VIPLB_M_SPORT | VIPLB_M_DPORT | VIPLB_M_SYN |
			 VIPLB_M_TCP_FLAGS))
		kinds[n++] = s->proto == IPPROTO_UDP ? RT_ORDER_UDP :
						       RT_ORDER_TCP;
	if (s->match & VIPLB_M_MPORTS)
		kinds[n++] = RT_ORDER_MULTIPORT;
	if (s->match & (VIPLB_M_CTSTATE | VIPLB_M_CONNTRACK))
		kinds[n++] = RT_ORDER_CONNTRACK;
	if (s->match & VIPLB_M_MARK)
		kinds[n++] = RT_ORDER_MARK;
	if (s->match & VIPLB_M_STATISTIC)
		kinds[n++] = RT_ORDER_STATISTIC;
	return n;
}

size_t rt_match_order(const struct rt_rule *r, uint8_t kinds[RT_ORDER_KINDS])
{
	uint8_t want[RT_ORDER_KINDS];
	unsigned int slot, seen = 0;
	size_t n = default_order(r, want), i, j;

	memcpy(kinds, want, n);
	if (r->order_len < 1 || r->order_len > VIPLB_MATCH_ORDER_MAX ||
	    r->order[0] != RT_ORDER_VERSION || r->order_len - 1U != n)
		return n;
	for (i = 0; i < n; i++) {
		uint8_t k = r->order[i + 1];

		slot = order_slot(k);
		if (slot == RT_ORDER_KINDS || (seen & (1U << slot)))
			return n;
		seen |= 1U << slot;
		/* The kind of that slot the rule has (tcp or udp...). */
		for (j = 0; j < n && order_slot(want[j]) != slot; j++)
			;
		if (j == n || (want[j] != k && slot != 2))
			return n;
	}
	memcpy(kinds, r->order + 1, n);
	return n;
}

static bool same_order(const struct rt_rule *a, const struct rt_rule *b)
{
	uint8_t ka[RT_ORDER_KINDS], kb[RT_ORDER_KINDS];
	size_t na = rt_match_order(a, ka), nb = rt_match_order(b, kb);

	return na == nb && !memcmp(ka, kb, na);
}

/* The same rule for -D and -C: iptables compares matches in order. */
static bool same_rule(const struct rt_rule *a, const struct rt_rule *b)
{
	if (memcmp(&a->spec, &b->spec, sizeof(a->spec)) ||
	    !a->comment != !b->comment ||
	    (a->comment && strcmp(a->comment, b->comment)) || !same_order(a, b))
		return false;
	return !is_jump(a) || !strcmp(a->target, b->target);
}

int rt_insert_rule(struct rt_chain *c, size_t pos, const struct rt_rule *r)
{
	if (grow_array(c->rules, c->nr_rules, c->cap_rules, 8))
		return -1;
	memmove(&c->rules[pos + 1], &c->rules[pos],
		(c->nr_rules - pos) * sizeof(*c->rules));
	if (copy_rule(&c->rules[pos], r)) {
		memmove(&c->rules[pos], &c->rules[pos + 1],
			(c->nr_rules - pos) * sizeof(*c->rules));
		return -1;
	}
	c->nr_rules++;
	return 0;
}

static void remove_rule(struct rt_chain *c, size_t pos)
{
	rt_rule_free(&c->rules[pos]);
	memmove(&c->rules[pos], &c->rules[pos + 1],
		(c->nr_rules - pos - 1) * sizeof(*c->rules));
	c->nr_rules--;
}

static void flush_chain(struct rt_chain *c)
{
	chain_free(c);
}

/* Zero counters; a live rule keeps its handle, so its nth position. */
static void zero_rule(struct rt_rule *r)
{
	r->set_counters = true;
	r->pkts = 0;
	r->bytes = 0;
}

static void zero_chain(struct rt_chain *c, unsigned int rulenum)
{
	size_t i;

	if (rulenum) {
		zero_rule(&c->rules[rulenum - 1]);
		return;
	}
	for (i = 0; i < c->nr_rules; i++)
		zero_rule(&c->rules[i]);
	if (c->hook != RT_USER_CHAIN) {
		c->pkts = 0;
		c->bytes = 0;
		c->set_counters = true;
	}
}

static long find_rule(const struct rt_chain *c, const struct rt_rule *r)
{
	size_t i;

	for (i = 0; i < c->nr_rules; i++)
		if (same_rule(&c->rules[i], r))
			return i;
	return -1;
}

/* Editing commands */

static int no_chain(const struct rt_table *t, const char *name)
{
	return rt_fail("no chain " RT_Q " in table %s", quote_arg(name),
		       rt_table_name(t->id));
}

static int get_chain(struct rt_table *t, const char *name, struct rt_chain **c)
{
	*c = rt_find_chain(t, name);
	return *c ? 0 : no_chain(t, name);
}

/* A jump or goto must name an existing user chain. */
static int check_target(struct rt_table *t, const struct rt_rule *r)
{
	struct rt_chain *c;

	if (!is_jump(r))
		return 0;
	c = rt_find_chain(t, r->target);
	if (!c)
		return rt_param("no chain or target " RT_Q " in table %s",
				quote_arg(r->target), rt_table_name(t->id));
	if (c->hook != RT_USER_CHAIN)
		return rt_param("cannot %s built-in chain " RT_Q,
				r->spec.verdict == VIPLB_V_GOTO ? "goto" :
								  "jump to",
				c->name);
	return 0;
}

/* The new rule of -A, -I and -R: no handle, counters only if given. */
static int add_rule(struct rt_chain *c, size_t pos, const struct rt_cmd *cmd)
{
	struct rt_rule r = cmd->rule;

	r.has_handle = false;
	r.handle = 0;
	r.line = cmd->line;
	if (!r.set_counters)
		r.pkts = r.bytes = 0;
	return rt_insert_rule(c, pos, &r) ? no_memory() : 0;
}

static int rule_index(const struct rt_chain *c, unsigned int rulenum,
		      const char *what)
{
	if (rulenum > c->nr_rules)
		return rt_fail("index of %s too big: chain " RT_Q
			       " has %zu rule%s",
			       what, c->name, c->nr_rules,
			       c->nr_rules == 1 ? "" : "s");
	return 0;
}

static int bad_rule(void)
{
	return rt_fail("bad rule (does a matching rule exist in that chain?)");
}

static int delete_chain(struct rt_table *t, struct rt_chain *c)
{
	uint32_t refs;

	if (c->hook != RT_USER_CHAIN)
		return rt_fail("cannot delete built-in chain " RT_Q, c->name);
	refs = count_refs(t, c->name);
	if (refs)
		return rt_fail("cannot delete chain " RT_Q
			       ": %u rule%s jump%s to it",
			       c->name, refs, refs == 1 ? "" : "s",
			       refs == 1 ? "s" : "");
	if (c->nr_rules)
		return rt_fail("cannot delete chain " RT_Q ": it is not empty",
			       c->name);
	return 0;
}

static int delete_chains(struct rt_table *t, const char *name)
{
	struct rt_chain *c;
	size_t *order, i;
	int ret = 0;

	if (*name) {
		ret = get_chain(t, name, &c);
		if (!ret)
			ret = delete_chain(t, c);
		if (!ret)
			remove_chain(t, c);
		return ret;
	}
	/* Every user chain, all or none, checked in name order. */
	order = rt_chain_order(t);
	if (!order)
		return no_memory();
	for (i = 0; i < t->nr_chains && !ret; i++)
		if (t->chains[order[i]].hook == RT_USER_CHAIN)
			ret = delete_chain(t, &t->chains[order[i]]);
	free(order);
	if (ret)
		return ret;
	for (i = t->nr_chains; i-- > 0;)
		if (t->chains[i].hook == RT_USER_CHAIN)
			remove_chain(t, &t->chains[i]);
	return 0;
}

static int rename_chain(struct rt_table *t, const char *old,
			const char *new_name)
{
	struct rt_chain *c;
	size_t i, j;
	int ret;

	ret = get_chain(t, old, &c);
	if (ret)
		return ret;
	if (c->hook != RT_USER_CHAIN)
		return rt_fail("cannot rename built-in chain " RT_Q, c->name);
	if (rt_find_chain(t, new_name) ||
	    rt_builtin_hook(t->id, new_name) != RT_USER_CHAIN)
		return rt_fail("chain " RT_Q " already exists",
			       quote_arg(new_name));
	/* Jumps follow the chain, as in iptables. */
	for (i = 0; i < t->nr_chains; i++) {
		for (j = 0; j < t->chains[i].nr_rules; j++) {
			struct rt_rule *r = &t->chains[i].rules[j];

			if (is_jump(r) && !strcmp(r->target, old))
				snprintf(r->target, sizeof(r->target), "%s",
					 new_name);
		}
	}
	snprintf(c->name, sizeof(c->name), "%s", new_name);
	t->index_stale = true;
	return 0;
}

/* A restore file's ":NAME POLICY [PKTS:BYTES]" line. */
static int declare_chain(struct rt_table *t, const struct rt_cmd *cmd,
			 bool noflush)
{
	struct rt_chain *c = rt_find_chain(t, cmd->chain);

	if (c && c->hook != RT_USER_CHAIN) {
		/* "-" keeps a built-in chain's policy and counters. */
		if (cmd->policy == VIPLB_V_NONE)
			return 0;
		c->policy = cmd->policy;
		c->pkts = cmd->rule.pkts;
		c->bytes = cmd->rule.bytes;
		c->set_counters = true;
		c->line = cmd->line;
		return 0;
	}
	if (cmd->policy != VIPLB_V_NONE)
		return rt_fail("cannot set a policy on user chain " RT_Q
			       " (use \"-\")",
			       quote_arg(cmd->chain));
	if (c) {
		/* iptables-restore --noflush empties a redeclared chain. */
		if (!noflush)
			return rt_param("chain " RT_Q " already exists",
					quote_arg(cmd->chain));
		flush_chain(c);
		return 0;
	}
	c = rt_add_chain(t, cmd->chain);
	if (!c)
		return no_memory();
	c->line = cmd->line;
	return 0;
}

static int flush_or_zero(struct rt_table *t, const struct rt_cmd *cmd,
			 bool zero)
{
	struct rt_chain *c;
	size_t i;
	int ret;

	if (!*cmd->chain) {
		for (i = 0; i < t->nr_chains; i++) {
			if (zero)
				zero_chain(&t->chains[i], 0);
			else
				flush_chain(&t->chains[i]);
		}
		return 0;
	}
	ret = get_chain(t, cmd->chain, &c);
	if (ret)
		return ret;
	if (!zero) {
		flush_chain(c);
		return 0;
	}
	if (cmd->rulenum) {
		ret = rule_index(c, cmd->rulenum, "zeroing");
		if (ret)
			return ret;
	}
	zero_chain(c, cmd->rulenum);
	return 0;
}

static int rule_command(struct rt_table *t, const struct rt_cmd *cmd)
{
	struct rt_chain *c;
	long idx;
	int ret;

	ret = get_chain(t, cmd->chain, &c);
	if (ret)
		return ret;
	if (cmd->cmds & (RT_CMD_APPEND | RT_CMD_INSERT | RT_CMD_REPLACE)) {
		ret = check_target(t, &cmd->rule);
		if (ret)
			return ret;
	}
	switch (cmd->cmds & ~RT_CMD_ZERO) {
	case RT_CMD_APPEND:
		return add_rule(c, c->nr_rules, cmd);
	case RT_CMD_INSERT:
		/* -I CHAIN N may insert right after the last rule. */
		if (cmd->rulenum > c->nr_rules + 1)
			return rule_index(c, cmd->rulenum, "insertion");
		return add_rule(c, cmd->rulenum ? cmd->rulenum - 1 : 0, cmd);
	case RT_CMD_REPLACE:
		ret = rule_index(c, cmd->rulenum, "replacement");
		if (ret)
			return ret;
		remove_rule(c, cmd->rulenum - 1);
		return add_rule(c, cmd->rulenum - 1, cmd);
	case RT_CMD_DELETE:
		if (cmd->rulenum) {
			ret = rule_index(c, cmd->rulenum, "deletion");
			if (ret)
				return ret;
			remove_rule(c, cmd->rulenum - 1);
			return 0;
		}
		idx = find_rule(c, &cmd->rule);
		if (idx < 0)
			return bad_rule();
		remove_rule(c, idx);
		return 0;
	case RT_CMD_CHECK:
		return find_rule(c, &cmd->rule) < 0 ? bad_rule() : 0;
	}
	return 0;
}

int rt_apply(struct rt_table *t, const struct rt_cmd *cmd, bool noflush)
{
	struct rt_chain *c;
	int ret;

	if (cmd->cmds & (RT_CMD_APPEND | RT_CMD_INSERT | RT_CMD_REPLACE |
			 RT_CMD_DELETE | RT_CMD_CHECK))
		return rule_command(t, cmd);
	if (cmd->cmds & RT_CMD_FLUSH)
		return flush_or_zero(t, cmd, false);
	/* -L -Z and -S -Z zero after listing; listing changes nothing. */
	if (cmd->cmds & RT_CMD_ZERO)
		return flush_or_zero(t, cmd, true);
	if (cmd->cmds & RT_CMD_NEW_CHAIN) {
		if (rt_find_chain(t, cmd->chain) ||
		    rt_builtin_hook(t->id, cmd->chain) != RT_USER_CHAIN)
			return rt_fail("chain " RT_Q " already exists",
				       quote_arg(cmd->chain));
		return rt_add_chain(t, cmd->chain) ? 0 : no_memory();
	}
	if (cmd->cmds & RT_CMD_DEL_CHAIN)
		return delete_chains(t, cmd->chain);
	if (cmd->cmds & RT_CMD_RENAME)
		return rename_chain(t, cmd->chain, cmd->new_name);
	if (cmd->cmds & RT_CMD_POLICY) {
		c = rt_find_chain(t, cmd->chain);
		if (!c || c->hook == RT_USER_CHAIN)
			return rt_fail("no built-in chain " RT_Q " in table %s",
				       quote_arg(cmd->chain),
				       rt_table_name(t->id));
		c->policy = cmd->policy;
		if (cmd->opts & RT_OPT_COUNTERS) {
			c->pkts = cmd->rule.pkts;
			c->bytes = cmd->rule.bytes;
			c->set_counters = true;
		}
		return 0;
	}
	if (cmd->cmds & RT_CMD_DECLARE) {
		ret = declare_chain(t, cmd, noflush);
		return ret;
	}
	return 0;
}
