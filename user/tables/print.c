// SPDX-License-Identifier: GPL-2.0
/*
 * Output of the rule tables in iptables' formats: iptables-save lines
 * (-S and viplb-save), the -L table with its -n, -v, -x and
 * --line-numbers variants, the one-line form -v prints for rule commands,
 * and JSON.  See tables.h.
 *
 * The text is byte for byte what iptables 1.8.9 prints for the same
 * rule, with these exceptions: without -n, addresses other than
 * "anywhere" stay numeric (no DNS, /etc/hosts or /etc/networks lookups);
 * "! -i +" and "! -o +" (which match nothing) print, where iptables-save
 * drops them.  Port and protocol names come from /etc/services and
 * /etc/protocols, as in iptables.
 *
 * Matches print in the order they were written, and -m state as -m
 * state, from the rule's VIPLB_RULES_A_MATCH_ORDER (see tables.h); a rule
 * without it (loaded by an older client) prints in a fixed order:
 * comment, tcp/udp, multiport, conntrack, mark, statistic.
 *
 * A tcp or udp match with no option of its own ("-p tcp -m tcp") is kept
 * as a source port range 0:65535, which iptables prints as the bare match.
 *
 * This file prints whole rules, chains and tables; print_values.c formats
 * the names, addresses, ports and states in them (print_int.h).
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "print.h"
#include "print_int.h"
#include "tables.h"

/* iptables-save lines */

static const char *neg(const struct viplb_rule_spec *s, uint32_t bit)
{
	return (s->invert & bit) ? " !" : "";
}

/* The whole range, not negated: the bare tcp or udp match. */
static bool bare_port_match(const struct viplb_rule_spec *s, uint32_t bit,
			    const uint16_t range[2])
{
	return !(s->invert & bit) && range[0] == 0 && range[1] == 65535;
}

static void save_range(struct rt_text *tx, const char *opt,
		       const uint16_t range[2])
{
	rtpr_tx_add(tx, " %s %u", opt, range[0]);
	if (range[1] != range[0])
		rtpr_tx_add(tx, ":%u", range[1]);
}

/*
 * The options of -m conntrack besides --ctstate, in xt_conntrack's order:
 * "--ctproto 6" in save lines (pfx "--"), "ctproto 6" in -L.
 */
static void tx_conntrack(struct rt_text *tx, uint16_t af,
			 const struct viplb_rule_spec *s, const char *pfx,
			 bool numeric)
{
	static const char *const tuple[VIPLB_CT_TUPLES] = {
		"orig", "orig", "repl", "repl"
	};
	unsigned int m = s->ct_match, inv = s->ct_invert, i;
	static const __be32 zero[4];

	if (m & VIPLB_CT_PROTO)
		rtpr_tx_add(tx, "%s %sctproto %u",
			    (inv & VIPLB_CT_PROTO) ? " !" : "", pfx,
			    s->ct_proto);
	for (i = 0; i < VIPLB_CT_TUPLES; i++) {
		unsigned int bit = VIPLB_CT_ORIGSRC << i;

		if (!(m & bit))
			continue;
		rtpr_tx_add(tx, "%s %sct%s%s ", (inv & bit) ? " !" : "", pfx,
			    tuple[i], i % 2 ? "dst" : "src");
		if (!numeric && !memcmp(s->ct_addr[i], zero, sizeof(zero))) {
			rtpr_tx_add(tx, "anywhere");
			continue;
		}
		rtpr_tx_addr(tx, af, s->ct_addr[i]);
		rtpr_tx_mask(tx, af, s->ct_mask[i], true);
	}
	for (i = 0; i < VIPLB_CT_TUPLES; i++) {
		unsigned int bit = VIPLB_CT_ORIGSRC_PORT << i;

		if (!(m & bit))
			continue;
		rtpr_tx_add(tx, "%s %sct%s%sport %u", (inv & bit) ? " !" : "",
			    pfx, tuple[i], i % 2 ? "dst" : "src",
			    s->ct_port[i][0]);
		if (s->ct_port[i][1] != s->ct_port[i][0])
			rtpr_tx_add(tx, ":%u", s->ct_port[i][1]);
	}
	if (m & VIPLB_CT_STATUS) {
		rtpr_tx_add(tx, "%s %sctstatus ",
			    (inv & VIPLB_CT_STATUS) ? " !" : "", pfx);
		rtpr_tx_ctstatus(tx, s->ct_status);
	}
	if (m & VIPLB_CT_EXPIRE) {
		rtpr_tx_add(tx, "%s %sctexpire %u",
			    (inv & VIPLB_CT_EXPIRE) ? " !" : "", pfx,
			    s->ct_expire[0]);
		if (s->ct_expire[1] != s->ct_expire[0])
			rtpr_tx_add(tx, ":%u", s->ct_expire[1]);
	}
	if (m & VIPLB_CT_DIR)
		rtpr_tx_add(tx, " %sctdir %s", pfx,
			    (inv & VIPLB_CT_DIR) ? "REPLY" : "ORIGINAL");
}

/* One match of save_matches(), of kind k (enum rt_order_kind). */
static void save_match(struct rt_text *tx, uint16_t af,
		       const struct rt_rule *r, uint8_t k)
{
	const struct viplb_rule_spec *s = &r->spec;
	uint8_t mask, cmp;
	uint32_t bit;

	switch (k) {
	case RT_ORDER_COMMENT:
		rtpr_tx_add(tx, " -m comment --comment ");
		rtpr_tx_quoted(tx, r->comment);
		break;
	case RT_ORDER_TCP:
	case RT_ORDER_UDP:
		rtpr_tx_add(tx, " -m %s", k == RT_ORDER_UDP ? "udp" : "tcp");
		if ((s->match & VIPLB_M_SPORT) &&
		    !bare_port_match(s, VIPLB_M_SPORT, s->sport)) {
			rtpr_tx_add(tx, "%s", neg(s, VIPLB_M_SPORT));
			save_range(tx, "--sport", s->sport);
		}
		if (s->match & VIPLB_M_DPORT) {
			rtpr_tx_add(tx, "%s", neg(s, VIPLB_M_DPORT));
			save_range(tx, "--dport", s->dport);
		}
		if (rt_tcp_flags(s, &mask, &cmp, &bit)) {
			rtpr_tx_add(tx, "%s --tcp-flags ", neg(s, bit));
			rtpr_tx_tcp_flags(tx, mask);
			rtpr_tx_add(tx, " ");
			rtpr_tx_tcp_flags(tx, cmp);
		}
		break;
	case RT_ORDER_MULTIPORT:
		rtpr_tx_add(tx, " -m multiport%s --%s ", neg(s, VIPLB_M_MPORTS),
			    rtpr_mports_kind(s->mport_flags));
		rtpr_tx_mports(tx, s, true);
		break;
	case RT_ORDER_CONNTRACK:
	case RT_ORDER_STATE:
		rtpr_tx_add(tx, " -m %s",
			    k == RT_ORDER_STATE ? "state" : "conntrack");
		if (s->match & VIPLB_M_CTSTATE) {
			rtpr_tx_add(tx, "%s --%s ", neg(s, VIPLB_M_CTSTATE),
				    k == RT_ORDER_STATE ? "state" : "ctstate");
			rtpr_tx_ctstates(tx, s->ctstate);
		}
		if (s->match & VIPLB_M_CONNTRACK)
			tx_conntrack(tx, af, s, "--", true);
		break;
	case RT_ORDER_MARK:
		rtpr_tx_add(tx, " -m mark%s --mark 0x%x", neg(s, VIPLB_M_MARK),
			    s->mark);
		if (s->mark_mask != 0xffffffff)
			rtpr_tx_add(tx, "/0x%x", s->mark_mask);
		break;
	case RT_ORDER_STATISTIC:
		if (s->stat_mode == VIPLB_STAT_RANDOM)
			rtpr_tx_add(
				tx,
				" -m statistic --mode random%s --probability %.11f",
				neg(s, VIPLB_M_STATISTIC),
				rtpr_probability(s->stat_prob));
		else
			rtpr_tx_add(
				tx,
				" -m statistic --mode nth%s --every %u --packet %u",
				neg(s, VIPLB_M_STATISTIC), s->stat_every,
				s->stat_packet);
		break;
	}
}

/* The matches in the order they were written (see tables.h). */
static void save_matches(struct rt_text *tx, uint16_t af,
			 const struct rt_rule *r)
{
	uint8_t kinds[RT_ORDER_KINDS];
	size_t n = rt_match_order(r, kinds), i;

	for (i = 0; i < n; i++)
		save_match(tx, af, r, kinds[i]);
}

static void save_nat_flags(struct rt_text *tx, uint32_t flags)
{
	if (flags & VIPLB_NAT_F_RANDOM)
		rtpr_tx_add(tx, " --random");
	if (flags & VIPLB_NAT_F_RANDOM_FULLY)
		rtpr_tx_add(tx, " --random-fully");
	if (flags & VIPLB_NAT_F_PERSISTENT)
		rtpr_tx_add(tx, " --persistent");
}

static void save_target(struct rt_text *tx, uint16_t af,
			const struct viplb_rule_spec *s,
			const struct rt_rule *r)
{
	if (s->verdict == VIPLB_V_NONE)
		return;
	rtpr_tx_add(tx, " -%c %s", s->verdict == VIPLB_V_GOTO ? 'g' : 'j',
		    rtpr_target_name(r));
	switch (s->verdict) {
	case VIPLB_V_REJECT:
		rtpr_tx_add(tx, " --reject-with %s",
			    rtpr_reject_name(af, s->reject_with));
		break;
	case VIPLB_V_DNAT:
	case VIPLB_V_SNAT:
		rtpr_tx_add(tx, " --to-%s ",
			    s->verdict == VIPLB_V_DNAT ? "destination" :
							 "source");
		rtpr_tx_nat_range(tx, af, s);
		save_nat_flags(tx, s->nat_flags);
		break;
	case VIPLB_V_MASQUERADE:
	case VIPLB_V_REDIRECT:
		if (s->nat_flags & VIPLB_NAT_F_PORTS) {
			rtpr_tx_add(tx, " --to-ports ");
			rtpr_tx_nat_ports(tx, s);
		}
		save_nat_flags(tx, s->nat_flags);
		break;
	case VIPLB_V_MARK:
		rtpr_tx_add(tx, " --set-xmark 0x%x/0x%x", s->set_mark,
			    s->set_mark_mask);
		break;
	}
}

static void save_addr(struct rt_text *tx, const struct viplb_rule_spec *s,
		      uint16_t af, uint32_t bit, const char *opt,
		      const __be32 a[4], const __be32 mask[4])
{
	if (!(s->match & bit))
		return;
	rtpr_tx_add(tx, "%s %s ", neg(s, bit), opt);
	rtpr_tx_addr(tx, af, a);
	rtpr_tx_mask(tx, af, mask, false);
}

static void save_iface(struct rt_text *tx, const struct viplb_rule_spec *s,
		       uint32_t bit, const char *opt, const char *name)
{
	if (!(s->match & bit))
		return;
	/* iptables-save omits "-i +", which matches every interface. */
	if (!strcmp(name, "+") && !(s->invert & bit))
		return;
	rtpr_tx_add(tx, "%s %s %s", neg(s, bit), opt, name);
}

void rt_text_rule(struct rt_text *tx, const struct rt_table *t,
		  const struct rt_chain *c, const struct rt_rule *r,
		  bool counters)
{
	const struct viplb_rule_spec *s = &r->spec;
	char buf[16];

	rtpr_tx_reset(tx);
	rtpr_tx_add(tx, "-A %s", c->name);
	save_addr(tx, s, t->af, VIPLB_M_SRC, "-s", s->src, s->src_mask);
	save_addr(tx, s, t->af, VIPLB_M_DST, "-d", s->dst, s->dst_mask);
	save_iface(tx, s, VIPLB_M_IIF, "-i", s->iif);
	save_iface(tx, s, VIPLB_M_OIF, "-o", s->oif);
	if (s->match & VIPLB_M_PROTO)
		rtpr_tx_add(tx, "%s -p %s", neg(s, VIPLB_M_PROTO),
			    rtpr_proto_name(s->proto, 0, buf, sizeof(buf)));
	save_matches(tx, t->af, r);
	/* -S -v: the counters go before the target, as in iptables. */
	if (counters)
		rtpr_tx_add(tx, " -c %" PRIu64 " %" PRIu64, r->pkts, r->bytes);
	save_target(tx, t->af, s, r);
}

static const char *policy_name(uint32_t policy)
{
	return policy == VIPLB_V_DROP ? "DROP" : "ACCEPT";
}

static void print_rule_text(FILE *fp, const struct rt_table *t,
			    const struct rt_chain *c, const struct rt_rule *r,
			    bool counters)
{
	struct rt_text tx;

	rt_text_rule(&tx, t, c, r, counters);
	fprintf(fp, "%s\n", tx.s);
}

static void print_chain_rules(FILE *fp, const struct rt_table *t,
			      const struct rt_chain *c, bool counters)
{
	size_t i;

	for (i = 0; i < c->nr_rules; i++)
		print_rule_text(fp, t, c, &c->rules[i], counters);
}

static void print_chain_decl(FILE *fp, const struct rt_chain *c, bool counters)
{
	if (c->hook == RT_USER_CHAIN) {
		fprintf(fp, "-N %s\n", c->name);
		return;
	}
	fprintf(fp, "-P %s %s", c->name, policy_name(c->policy));
	if (counters)
		fprintf(fp, " -c %" PRIu64 " %" PRIu64, c->pkts, c->bytes);
	fputc('\n', fp);
}

void rt_print_rules(FILE *fp, const struct rt_table *t,
		    const struct rt_chain *c, unsigned int rulenum,
		    bool counters)
{
	size_t *order, i;

	if (c && rulenum) {
		if (rulenum <= c->nr_rules)
			print_rule_text(fp, t, c, &c->rules[rulenum - 1],
					counters);
		return;
	}
	if (c) {
		print_chain_decl(fp, c, counters);
		print_chain_rules(fp, t, c, counters);
		return;
	}
	order = rt_chain_order(t);
	if (!order)
		return;
	for (i = 0; i < t->nr_chains; i++)
		print_chain_decl(fp, &t->chains[order[i]], counters);
	for (i = 0; i < t->nr_chains; i++)
		print_chain_rules(fp, t, &t->chains[order[i]], counters);
	free(order);
}

void rt_print_save(FILE *fp, const struct rt_table *t, bool counters)
{
	size_t *order, i;
	const struct rt_chain *c;

	order = rt_chain_order(t);
	if (!order)
		return;
	fprintf(fp, "*%s\n", rt_table_name(t->id));
	for (i = 0; i < t->nr_chains; i++) {
		c = &t->chains[order[i]];
		if (c->hook == RT_USER_CHAIN)
			fprintf(fp, ":%s - [0:0]\n", c->name);
		else
			fprintf(fp, ":%s %s [%" PRIu64 ":%" PRIu64 "]\n",
				c->name, policy_name(c->policy), c->pkts,
				c->bytes);
	}
	for (i = 0; i < t->nr_chains; i++) {
		size_t j;

		c = &t->chains[order[i]];
		for (j = 0; j < c->nr_rules; j++) {
			if (counters)
				fprintf(fp, "[%" PRIu64 ":%" PRIu64 "] ",
					c->rules[j].pkts, c->rules[j].bytes);
			print_rule_text(fp, t, c, &c->rules[j], false);
		}
	}
	fprintf(fp, "COMMIT\n");
	free(order);
}

/* -L */

/* A counter: "%5llu " with K, M, G, T suffixes, or exact "%8llu ". */
static void tx_num(struct rt_text *tx, uint64_t n, unsigned int fmt)
{
	static const char suffix[] = "KMGT";
	bool table = !(fmt & FMT_NOTABLE);
	int i;

	if (fmt & RT_FMT_EXACT) {
		rtpr_tx_add(tx, table ? "%8" PRIu64 " " : "%" PRIu64 " ", n);
		return;
	}
	if (n <= 99999) {
		rtpr_tx_add(tx, table ? "%5" PRIu64 " " : "%" PRIu64 " ", n);
		return;
	}
	/* Rounded as iptables does, wrapping near 2^64 as it does. */
	for (i = 0; i < 3; i++) {
		n = (n + 500) / 1000;
		if (n <= 9999)
			break;
	}
	if (i == 3)
		n = (n + 500) / 1000;
	rtpr_tx_add(tx, table ? "%4" PRIu64 "%c " : "%" PRIu64 "%c ", n,
		    suffix[i]);
}

static void list_ports(struct rt_text *tx, const char *name,
		       const struct viplb_rule_spec *s, uint32_t bit,
		       const uint16_t range[2], bool numeric)
{
	const char *proto = rtpr_spec_proto_str(s);
	const char *inv = (s->invert & bit) ? "!" : "";

	if (range[0] == range[1]) {
		rtpr_tx_add(tx, " %s:%s", name, inv);
		rtpr_tx_port(tx, range[0], proto, numeric);
		return;
	}
	rtpr_tx_add(tx, " %ss:%s", name, inv);
	rtpr_tx_port(tx, range[0], proto, numeric);
	rtpr_tx_add(tx, ":");
	rtpr_tx_port(tx, range[1], proto, numeric);
}

/* One match of list_matches(), of kind k (enum rt_order_kind). */
static void list_match(struct rt_text *tx, uint16_t af,
		       const struct rt_rule *r, uint8_t k, bool numeric)
{
	const struct viplb_rule_spec *s = &r->spec;
	const char *inv;
	uint8_t mask, cmp;
	uint32_t bit;

	switch (k) {
	case RT_ORDER_COMMENT:
		rtpr_tx_add(tx, " /* %s */", r->comment);
		break;
	case RT_ORDER_TCP:
	case RT_ORDER_UDP:
		rtpr_tx_add(tx, " %s", k == RT_ORDER_UDP ? "udp" : "tcp");
		if ((s->match & VIPLB_M_SPORT) &&
		    !bare_port_match(s, VIPLB_M_SPORT, s->sport))
			list_ports(tx, "spt", s, VIPLB_M_SPORT, s->sport,
				   numeric);
		if (s->match & VIPLB_M_DPORT)
			list_ports(tx, "dpt", s, VIPLB_M_DPORT, s->dport,
				   numeric);
		if (rt_tcp_flags(s, &mask, &cmp, &bit)) {
			rtpr_tx_add(tx, " flags:%s",
				    (s->invert & bit) ? "!" : "");
			if (numeric) {
				rtpr_tx_add(tx, "0x%02X/0x%02X", mask, cmp);
			} else {
				rtpr_tx_tcp_flags(tx, mask);
				rtpr_tx_add(tx, "/");
				rtpr_tx_tcp_flags(tx, cmp);
			}
		}
		break;
	case RT_ORDER_MULTIPORT:
		rtpr_tx_add(tx, " multiport %s %s",
			    rtpr_mports_kind(s->mport_flags),
			    (s->invert & VIPLB_M_MPORTS) ? " !" : "");
		rtpr_tx_mports(tx, s, numeric);
		break;
	case RT_ORDER_CONNTRACK:
	case RT_ORDER_STATE:
		if (s->match & VIPLB_M_CTSTATE) {
			rtpr_tx_add(tx, "%s %s ",
				    (s->invert & VIPLB_M_CTSTATE) ? " !" : "",
				    k == RT_ORDER_STATE ? "state" : "ctstate");
			rtpr_tx_ctstates(tx, s->ctstate);
		}
		if (s->match & VIPLB_M_CONNTRACK)
			tx_conntrack(tx, af, s, "", numeric);
		break;
	case RT_ORDER_MARK:
		rtpr_tx_add(tx, " mark match %s0x%x",
			    (s->invert & VIPLB_M_MARK) ? "! " : "", s->mark);
		if (s->mark_mask != 0xffffffff)
			rtpr_tx_add(tx, "/0x%x", s->mark_mask);
		break;
	case RT_ORDER_STATISTIC:
		inv = (s->invert & VIPLB_M_STATISTIC) ? " !" : "";
		if (s->stat_mode == VIPLB_STAT_RANDOM)
			rtpr_tx_add(
				tx,
				" statistic mode random%s probability %.11f",
				inv, rtpr_probability(s->stat_prob));
		else
			rtpr_tx_add(tx, " statistic mode nth%s every %u", inv,
				    s->stat_every);
		/* As libxt_statistic: packet 0 only in save lines. */
		if (s->stat_mode == VIPLB_STAT_NTH && s->stat_packet)
			rtpr_tx_add(tx, " packet %u", s->stat_packet);
		break;
	}
}

static void list_matches(struct rt_text *tx, uint16_t af,
			 const struct rt_rule *r, bool numeric)
{
	uint8_t kinds[RT_ORDER_KINDS];
	size_t n = rt_match_order(r, kinds), i;

	for (i = 0; i < n; i++)
		list_match(tx, af, r, kinds[i], numeric);
}

static void list_nat_flags(struct rt_text *tx, uint32_t flags)
{
	if (flags & VIPLB_NAT_F_RANDOM)
		rtpr_tx_add(tx, " random");
	if (flags & VIPLB_NAT_F_RANDOM_FULLY)
		rtpr_tx_add(tx, " random-fully");
	if (flags & VIPLB_NAT_F_PERSISTENT)
		rtpr_tx_add(tx, " persistent");
}

static void list_mark_target(struct rt_text *tx, uint32_t v, uint32_t m)
{
	if (m == 0xffffffff)
		rtpr_tx_add(tx, " MARK set 0x%x", v);
	else if (v == 0)
		rtpr_tx_add(tx, " MARK and 0x%x", ~m);
	else if (v == m)
		rtpr_tx_add(tx, " MARK or 0x%x", v);
	else if (m == 0)
		rtpr_tx_add(tx, " MARK xor 0x%x", v);
	else
		rtpr_tx_add(tx, " MARK xset 0x%x/0x%x", v, m);
}

static void list_target(struct rt_text *tx, uint16_t af,
			const struct viplb_rule_spec *s)
{
	switch (s->verdict) {
	case VIPLB_V_REJECT:
		rtpr_tx_add(tx, " reject-with %s",
			    rtpr_reject_name(af, s->reject_with));
		break;
	case VIPLB_V_DNAT:
	case VIPLB_V_SNAT:
		rtpr_tx_add(tx, " to:");
		rtpr_tx_nat_range(tx, af, s);
		list_nat_flags(tx, s->nat_flags);
		break;
	case VIPLB_V_MASQUERADE:
		if (s->nat_flags & VIPLB_NAT_F_PORTS) {
			rtpr_tx_add(tx, " masq ports: ");
			rtpr_tx_nat_ports(tx, s);
		}
		list_nat_flags(tx, s->nat_flags);
		break;
	case VIPLB_V_REDIRECT:
		if (s->nat_flags & VIPLB_NAT_F_PORTS) {
			rtpr_tx_add(tx, " redir ports ");
			rtpr_tx_nat_ports(tx, s);
		}
		list_nat_flags(tx, s->nat_flags);
		break;
	case VIPLB_V_MARK:
		list_mark_target(tx, s->set_mark, s->set_mark_mask);
		break;
	}
}

static void list_iface(struct rt_text *tx, const struct viplb_rule_spec *s,
		       uint32_t bit, const char *name, bool in,
		       unsigned int fmt)
{
	char buf[VIPLB_IFNAME_MAX + 2];
	bool notable = fmt & FMT_NOTABLE;

	snprintf(buf, sizeof(buf), "%s%s", (s->invert & bit) ? "!" : "",
		 (s->match & bit)	? name :
		 (fmt & RT_FMT_NUMERIC) ? "*" :
					  "any");
	if (notable)
		rtpr_tx_add(tx, "%s %s ", in ? "in" : "out", buf);
	else
		rtpr_tx_add(tx, in ? " %-6s " : "%-6s ", buf);
}

/* One rule as a line of the -L table (or of the one-line form). */
static void list_rule(struct rt_text *tx, const struct rt_table *t,
		      const struct rt_rule *r, unsigned int num,
		      unsigned int fmt)
{
	const struct viplb_rule_spec *s = &r->spec;
	bool notable = fmt & FMT_NOTABLE, numeric = fmt & RT_FMT_NUMERIC;
	char buf[INET6_ADDRSTRLEN * 2 + 8], pbuf[16];

	rtpr_tx_reset(tx);
	if (fmt & RT_FMT_LINE_NUMBERS)
		rtpr_tx_add(tx, "%-4u ", num);
	if ((fmt & RT_FMT_VERBOSE) && !notable) {
		tx_num(tx, r->pkts, fmt);
		tx_num(tx, r->bytes, fmt);
	}
	rtpr_tx_add(tx, notable ? "%s " : "%-9s ", rtpr_target_name(r));
	rtpr_tx_add(tx, notable ? "%c%s " : "%c%-4s ",
		    (s->invert & VIPLB_M_PROTO) ? '!' : ' ',
		    rtpr_proto_name((s->match & VIPLB_M_PROTO) ? s->proto : 0,
				    fmt, pbuf, sizeof(pbuf)));
	rtpr_tx_add(tx, notable ? "opt -- " : "-- ");
	if ((fmt & RT_FMT_VERBOSE) || notable) {
		list_iface(tx, s, VIPLB_M_IIF, s->iif, true, fmt);
		list_iface(tx, s, VIPLB_M_OIF, s->oif, false, fmt);
	}
	rtpr_list_addr(buf, sizeof(buf), t->af, s->src, s->src_mask, numeric);
	rtpr_tx_add(tx, notable ? "%c%s " : "%c%-19s ",
		    (s->invert & VIPLB_M_SRC) ? '!' : ' ', buf);
	rtpr_list_addr(buf, sizeof(buf), t->af, s->dst, s->dst_mask, numeric);
	rtpr_tx_add(tx, notable ? "%c-> %s" : "%c%-19s ",
		    (s->invert & VIPLB_M_DST) ? '!' : ' ', buf);
	if (notable)
		rtpr_tx_add(tx, "  ");
	if (s->verdict == VIPLB_V_GOTO)
		rtpr_tx_add(tx, "[goto] ");
	list_matches(tx, t->af, r, numeric);
	list_target(tx, t->af, s);
}

static void list_header(FILE *fp, const struct rt_chain *c, unsigned int fmt)
{
	struct rt_text tx;

	rtpr_tx_reset(&tx);
	if (c->hook == RT_USER_CHAIN) {
		fprintf(fp, "Chain %s (%u references)\n", c->name, c->refs);
	} else {
		fprintf(fp, "Chain %s (policy %s", c->name,
			policy_name(c->policy));
		if (fmt & RT_FMT_VERBOSE) {
			tx_num(&tx, c->pkts, fmt | FMT_NOTABLE);
			rtpr_tx_add(&tx, "packets, ");
			tx_num(&tx, c->bytes, fmt | FMT_NOTABLE);
			fprintf(fp, " %sbytes", tx.s);
		}
		fprintf(fp, ")\n");
	}
	if (fmt & RT_FMT_LINE_NUMBERS)
		fputs("num  ", fp);
	if (fmt & RT_FMT_VERBOSE)
		fputs((fmt & RT_FMT_EXACT) ? "    pkts      bytes " :
					     " pkts bytes ",
		      fp);
	fputs("target     prot opt ", fp);
	if (fmt & RT_FMT_VERBOSE)
		fputs("in     out     ", fp);
	fputs("source               destination         \n", fp);
}

static void list_chain(FILE *fp, const struct rt_table *t,
		       const struct rt_chain *c, unsigned int fmt)
{
	struct rt_text tx;
	size_t i;

	list_header(fp, c, fmt);
	for (i = 0; i < c->nr_rules; i++) {
		list_rule(&tx, t, &c->rules[i], i + 1, fmt);
		fprintf(fp, "%s\n", tx.s);
	}
}

void rt_print_list(FILE *fp, const struct rt_table *t, const struct rt_chain *c,
		   unsigned int rulenum, unsigned int fmt)
{
	struct rt_text tx;
	size_t *order, i;

	if (c && rulenum) {
		if (rulenum <= c->nr_rules) {
			list_rule(&tx, t, &c->rules[rulenum - 1], rulenum, fmt);
			fprintf(fp, "%s\n", tx.s);
		}
		return;
	}
	if (c) {
		list_chain(fp, t, c, fmt);
		return;
	}
	order = rt_chain_order(t);
	if (!order)
		return;
	for (i = 0; i < t->nr_chains; i++) {
		if (i)
			fputc('\n', fp);
		list_chain(fp, t, &t->chains[order[i]], fmt);
	}
	free(order);
}

void rt_print_rule_verbose(FILE *fp, const struct rt_table *t,
			   const struct rt_rule *r)
{
	struct rt_text tx;

	list_rule(&tx, t, r, 0, FMT_NOTABLE | RT_FMT_NUMERIC);
	fprintf(fp, "%s\n", tx.s);
}

/* JSON */

static void json_chain(const struct rt_table *t, const struct rt_chain *c,
		       unsigned int rulenum)
{
	struct rt_text tx;
	size_t i;

	open_json_object(NULL);
	print_string(PRINT_JSON, "name", NULL, c->name);
	if (c->hook == RT_USER_CHAIN) {
		print_null(PRINT_JSON, "policy", NULL);
		print_uint(PRINT_JSON, "references", NULL, c->refs);
	} else {
		print_string(PRINT_JSON, "policy", NULL,
			     policy_name(c->policy));
		print_u64(PRINT_JSON, "packets", NULL, c->pkts);
		print_u64(PRINT_JSON, "bytes", NULL, c->bytes);
	}
	open_json_array("rules");
	for (i = 0; i < c->nr_rules; i++) {
		const struct rt_rule *r = &c->rules[i];

		if (rulenum && i + 1 != rulenum)
			continue;
		rt_text_rule(&tx, t, c, r, false);
		open_json_object(NULL);
		print_uint(PRINT_JSON, "num", NULL, i + 1);
		print_string(PRINT_JSON, "rule", NULL, tx.s);
		print_u64(PRINT_JSON, "packets", NULL, r->pkts);
		print_u64(PRINT_JSON, "bytes", NULL, r->bytes);
		if (r->has_handle)
			print_u64(PRINT_JSON, "handle", NULL, r->handle);
		else
			print_null(PRINT_JSON, "handle", NULL);
		close_json_object();
	}
	close_json_array();
	close_json_object();
}

void rt_print_json(const struct rt_table *t, const struct rt_chain *c,
		   unsigned int rulenum)
{
	size_t *order, i;

	open_json_object(NULL);
	print_string(PRINT_JSON, "family", NULL, rt_family_name(t->af));
	print_string(PRINT_JSON, "table", NULL, rt_table_name(t->id));
	if (t->has_gen)
		print_uint(PRINT_JSON, "generation", NULL, t->gen);
	open_json_array("chains");
	if (c) {
		json_chain(t, c, rulenum);
	} else {
		order = rt_chain_order(t);
		for (i = 0; order && i < t->nr_chains; i++)
			json_chain(t, &t->chains[order[i]], 0);
		free(order);
	}
	close_json_array();
	close_json_object();
}
