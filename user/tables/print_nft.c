// SPDX-License-Identifier: GPL-2.0
/*
 * The rule tables in nf_tables terms: what the nf_tables datapath cannot
 * do (rt_nft_refusal(), which user/nft/rules.c asks before translating a
 * rule), and the tables in "nft -f" syntax (viplb-save --nft), the same
 * expressions as user/nft/rules.c loads, in nft's words.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "print_int.h"
#include "tables.h"
#include "util.h"

/*
 * --ctstate with other -m conntrack options: without a conntrack entry,
 * xt_conntrack matches when the state does (INVALID, UNTRACKED, or a
 * negated state); nf_tables' ct expressions never match then.
 */
static bool ct_state_without_entry(const struct viplb_rule_spec *s)
{
	return (s->match & VIPLB_M_CTSTATE) &&
	       ((s->invert & VIPLB_M_CTSTATE) ||
		(s->ctstate &
		 (VIPLB_CTSTATE_INVALID | VIPLB_CTSTATE_UNTRACKED)));
}

const char *rt_nft_refusal(const struct rt_table *t, const struct rt_rule *r)
{
	const struct viplb_rule_spec *s = &r->spec;
	uint8_t nat_states = VIPLB_CTSTATE_SNAT | VIPLB_CTSTATE_DNAT;

	(void)t;
	if ((s->ctstate & nat_states) &&
	    ((s->ctstate & ~nat_states) || (s->invert & VIPLB_M_CTSTATE)))
		return "nf_tables: --ctstate SNAT or DNAT works there only without other states and without \"!\"";
	if (s->nat_flags & VIPLB_NAT_F_PORT_OFFSET)
		return "nf_tables: a DNAT port offset (\"/N\") has no nf_tables form";
	if ((s->match & VIPLB_M_CONNTRACK) && ct_state_without_entry(s))
		return "nf_tables: -m conntrack options besides a --ctstate that matches packets without conntrack (INVALID, UNTRACKED or \"!\") have no nf_tables form";
	if ((r->spec.match & r->spec.invert & VIPLB_M_IIF) &&
	    !strcmp(r->spec.iif, "+"))
		return "\"! -i +\" (no input interface) has no nf_tables form";
	if ((r->spec.match & r->spec.invert & VIPLB_M_OIF) &&
	    !strcmp(r->spec.oif, "+"))
		return "\"! -o +\" (no output interface) has no nf_tables form";
	return NULL;
}

/* The "ct status" bits of --ctstate SNAT and DNAT. */
uint32_t rt_nft_nat_status(uint8_t ctstate)
{
	return (ctstate & VIPLB_CTSTATE_SNAT ? RT_NFT_CT_STATUS_SNAT : 0) |
	       (ctstate & VIPLB_CTSTATE_DNAT ? RT_NFT_CT_STATUS_DNAT : 0);
}

/* The ms of "ct expiration" in which --ctexpire's seconds hold. */
void rt_nft_expire_ms(const uint32_t secs[2], uint32_t ms[2])
{
	uint64_t lo = (uint64_t)secs[0] * 1000,
		 hi = ((uint64_t)secs[1] + 1) * 1000 - 1;

	ms[0] = lo > UINT32_MAX ? UINT32_MAX : lo;
	ms[1] = hi > UINT32_MAX ? UINT32_MAX : hi;
}

static const char *nft_table_name(uint32_t id)
{
	return id == VIPLB_RTABLE_NAT ? "viplb_nat" : "viplb_filter";
}

/*
 * A chain name, bare: nft (1.0) reads no quoted chain names, so a user
 * chain named like one of its keywords ("input") does not load there.
 */
static void tx_name(struct rt_text *tx, const char *name)
{
	rtpr_tx_add(tx, "%s", name);
}

/* A string for nft, which has no escapes: double quotes become single. */
static void tx_string(struct rt_text *tx, const char *s)
{
	rtpr_tx_add(tx, "\"");
	for (; *s; s++)
		rtpr_tx_add(tx, "%c", *s == '"' ? '\'' : *s);
	rtpr_tx_add(tx, "\"");
}

static const char *neq(const struct rt_rule *r, uint32_t m)
{
	return (r->spec.invert & m) ? "!= " : "";
}

static void tx_addr_match(struct rt_text *tx, const struct rt_table *t,
			  const struct rt_rule *r, bool src)
{
	const struct viplb_rule_spec *s = &r->spec;
	const char *fam = t->af == AF_INET6 ? "ip6" : "ip";
	const __be32 *a = src ? s->src : s->dst;
	const __be32 *mask = src ? s->src_mask : s->dst_mask;
	uint32_t m = src ? VIPLB_M_SRC : VIPLB_M_DST;
	int len = rtpr_mask_len(t->af, mask);
	int full = t->af == AF_INET6 ? 128 : 32;

	rtpr_tx_add(tx, "%s %s ", fam, src ? "saddr" : "daddr");
	if (len > 0) {
		rtpr_tx_add(tx, "%s", neq(r, m));
		rtpr_tx_addr(tx, t->af, a);
		if (len != full)
			rtpr_tx_add(tx, "/%d", len);
	} else {
		rtpr_tx_add(tx, "& ");
		rtpr_tx_addr(tx, t->af, mask);
		rtpr_tx_add(tx, " %s ", (r->spec.invert & m) ? "!=" : "==");
		rtpr_tx_addr(tx, t->af, a);
	}
	rtpr_tx_add(tx, " ");
}

static void tx_ifname(struct rt_text *tx, const struct rt_rule *r, bool in)
{
	const char *name = in ? r->spec.iif : r->spec.oif;
	size_t n = strnlen(name, VIPLB_IFNAME_MAX);

	if (!strcmp(name, "+"))
		return;
	rtpr_tx_add(tx, "%s %s\"%.*s%s\" ", in ? "iifname" : "oifname",
		    neq(r, in ? VIPLB_M_IIF : VIPLB_M_OIF),
		    (int)(n && name[n - 1] == '+' ? n - 1 : n), name,
		    n && name[n - 1] == '+' ? "*" : "");
}

static void tx_ports(struct rt_text *tx, const struct rt_rule *r, bool src)
{
	const uint16_t *p = src ? r->spec.sport : r->spec.dport;

	rtpr_tx_add(tx, "%s %s %s%u", rtpr_spec_proto_str(&r->spec),
		    src ? "sport" : "dport",
		    neq(r, src ? VIPLB_M_SPORT : VIPLB_M_DPORT), p[0]);
	if (p[1] != p[0])
		rtpr_tx_add(tx, "-%u", p[1]);
	rtpr_tx_add(tx, " ");
}

static void tx_mports(struct rt_text *tx, const struct rt_rule *r)
{
	const struct viplb_rule_spec *s = &r->spec;
	const char *proto = rtpr_spec_proto_str(s);
	bool both = s->mport_flags == (VIPLB_MPORT_SRC | VIPLB_MPORT_DST);
	unsigned int i;

	if (both)
		rtpr_tx_add(tx, "%s sport . %s dport ", proto, proto);
	else
		rtpr_tx_add(tx, "%s %s ", proto,
			    s->mport_flags == VIPLB_MPORT_SRC ? "sport" :
								"dport");
	rtpr_tx_add(tx, "%s{ ", neq(r, VIPLB_M_MPORTS));
	for (i = 0; i < s->n_mports && i < VIPLB_MPORTS_MAX; i++) {
		char port[16];

		if (s->mports[i][1] != s->mports[i][0])
			snprintf(port, sizeof(port), "%u-%u", s->mports[i][0],
				 s->mports[i][1]);
		else
			snprintf(port, sizeof(port), "%u", s->mports[i][0]);
		if (both)
			rtpr_tx_add(tx, "%s%s . 0-65535, 0-65535 . %s",
				    i ? ", " : "", port, port);
		else
			rtpr_tx_add(tx, "%s%s", i ? ", " : "", port);
	}
	rtpr_tx_add(tx, " } ");
}

static void tx_ctstate(struct rt_text *tx, const struct rt_rule *r)
{
	static const struct rtpr_bit_name names[] = {
		{ VIPLB_CTSTATE_INVALID, "invalid" },
		{ VIPLB_CTSTATE_ESTABLISHED, "established" },
		{ VIPLB_CTSTATE_RELATED, "related" },
		{ VIPLB_CTSTATE_NEW, "new" },
		{ VIPLB_CTSTATE_UNTRACKED, "untracked" },
	};

	rtpr_tx_add(tx, "ct state & (");
	rtpr_tx_bit_names(tx, r->spec.ctstate, names, ARRAY_SIZE(names),
			  " | ");
	rtpr_tx_add(tx, ") %s 0 ",
		    (r->spec.invert & VIPLB_M_CTSTATE) ? "==" : "!=");
}

/* "ct status" names of the --ctstatus bits and of SNAT, DNAT. */
static void tx_ct_status(struct rt_text *tx, uint32_t bits, bool inv)
{
	static const struct rtpr_bit_name names[] = {
		{ VIPLB_CTSTATUS_EXPECTED, "expected" },
		{ VIPLB_CTSTATUS_SEEN_REPLY, "seen-reply" },
		{ VIPLB_CTSTATUS_ASSURED, "assured" },
		{ VIPLB_CTSTATUS_CONFIRMED, "confirmed" },
		{ RT_NFT_CT_STATUS_SNAT, "snat" },
		{ RT_NFT_CT_STATUS_DNAT, "dnat" },
	};

	if (!bits) {
		rtpr_tx_add(tx, "ct status & 0x0 %s 0 ", inv ? "==" : "!=");
		return;
	}
	rtpr_tx_add(tx, "ct status & (");
	rtpr_tx_bit_names(tx, bits, names, ARRAY_SIZE(names), " | ");
	rtpr_tx_add(tx, ") %s 0 ", inv ? "==" : "!=");
}

/* nft's parser takes "ct expiration" ms up to here (nft 1.0.6). */
#define NFT_TEXT_MS_MAX 42949672U

/*
 * The -m conntrack options besides --ctstate, as x_conntrack() of
 * user/nft/rules.c loads them.  Past what nft's parser takes in ms, the
 * --ctexpire bounds print in whole seconds.
 */
static void tx_conntrack_nft(struct rt_text *tx, const struct rt_table *t,
			     const struct viplb_rule_spec *s)
{
	static const char *const dir[VIPLB_CT_TUPLES] = {
		"original", "original", "reply", "reply"
	};
	unsigned int m = s->ct_match, inv = s->ct_invert, i, j;
	const char *ip = t->af == AF_INET6 ? "ip6" : "ip";
	uint32_t ms[2];
	__be32 val[4];

	if (m & VIPLB_CT_PROTO)
		rtpr_tx_add(tx, "ct protocol %s%u ",
			    inv & VIPLB_CT_PROTO ? "!= " : "", s->ct_proto);
	for (i = 0; i < VIPLB_CT_TUPLES; i++) {
		unsigned int bit = VIPLB_CT_ORIGSRC << i;

		if (!(m & bit))
			continue;
		for (j = 0; j < 4; j++)
			val[j] = s->ct_addr[i][j] & s->ct_mask[i][j];
		rtpr_tx_add(tx, "ct %s %s %s & ", dir[i], ip,
			    i % 2 ? "daddr" : "saddr");
		rtpr_tx_addr(tx, t->af, s->ct_mask[i]);
		rtpr_tx_add(tx, " %s ", inv & bit ? "!=" : "==");
		rtpr_tx_addr(tx, t->af, val);
		rtpr_tx_add(tx, " ");
	}
	for (i = 0; i < VIPLB_CT_TUPLES; i++) {
		unsigned int bit = VIPLB_CT_ORIGSRC_PORT << i;

		if (!(m & bit))
			continue;
		rtpr_tx_add(tx, "ct %s %s %s%u", dir[i],
			    i % 2 ? "proto-dst" : "proto-src",
			    inv & bit ? "!= " : "", s->ct_port[i][0]);
		if (s->ct_port[i][1] != s->ct_port[i][0])
			rtpr_tx_add(tx, "-%u", s->ct_port[i][1]);
		rtpr_tx_add(tx, " ");
	}
	if (m & VIPLB_CT_STATUS)
		tx_ct_status(tx, s->ct_status, inv & VIPLB_CT_STATUS);
	if (m & VIPLB_CT_EXPIRE) {
		rt_nft_expire_ms(s->ct_expire, ms);
		rtpr_tx_add(tx, "ct expiration %s",
			    inv & VIPLB_CT_EXPIRE ? "!= " : "");
		if (ms[1] <= NFT_TEXT_MS_MAX)
			rtpr_tx_add(tx, "%ums-%ums ", ms[0], ms[1]);
		else
			rtpr_tx_add(tx, "%us-%us ", ms[0] / 1000,
				    ms[1] / 1000);
	}
	if (m & VIPLB_CT_DIR)
		rtpr_tx_add(tx, "ct direction %s ",
			    inv & VIPLB_CT_DIR ? "reply" : "original");
}

/* TCP flags in nft's words: "syn", "(fin | syn | rst | ack)", "0x0". */
static void tx_nft_tcp_flags(struct rt_text *tx, uint8_t flags)
{
	static const struct rtpr_bit_name names[] = {
		{ RT_TCPF_FIN, "fin" }, { RT_TCPF_SYN, "syn" },
		{ RT_TCPF_RST, "rst" }, { RT_TCPF_PSH, "psh" },
		{ RT_TCPF_ACK, "ack" }, { RT_TCPF_URG, "urg" },
	};
	bool many = flags & (flags - 1);

	if (!flags) {
		rtpr_tx_add(tx, "0x0");
		return;
	}
	rtpr_tx_add(tx, many ? "(" : "");
	rtpr_tx_bit_names(tx, flags, names, ARRAY_SIZE(names), " | ");
	rtpr_tx_add(tx, many ? ")" : "");
}

static void tx_match(struct rt_text *tx, const struct rt_table *t,
		     const struct rt_rule *r, uint8_t kind)
{
	const struct viplb_rule_spec *s = &r->spec;
	uint8_t mask, cmp;
	uint32_t bit;
	bool inv;

	switch (kind) {
	case RT_ORDER_TCP:
	case RT_ORDER_UDP:
		if (s->match & VIPLB_M_SPORT)
			tx_ports(tx, r, true);
		if (s->match & VIPLB_M_DPORT)
			tx_ports(tx, r, false);
		if (rt_tcp_flags(s, &mask, &cmp, &bit)) {
			rtpr_tx_add(tx, "tcp flags & ");
			tx_nft_tcp_flags(tx, mask);
			rtpr_tx_add(tx, " %s ", (s->invert & bit) ? "!=" : "==");
			tx_nft_tcp_flags(tx, cmp);
			rtpr_tx_add(tx, " ");
		}
		break;
	case RT_ORDER_MULTIPORT:
		tx_mports(tx, r);
		break;
	case RT_ORDER_CONNTRACK:
	case RT_ORDER_STATE:
		if ((s->match & VIPLB_M_CTSTATE) &&
		    (s->ctstate & (VIPLB_CTSTATE_SNAT | VIPLB_CTSTATE_DNAT)))
			tx_ct_status(tx, rt_nft_nat_status(s->ctstate),
				     s->invert & VIPLB_M_CTSTATE);
		else if (s->match & VIPLB_M_CTSTATE)
			tx_ctstate(tx, r);
		if (s->match & VIPLB_M_CONNTRACK)
			tx_conntrack_nft(tx, t, s);
		break;
	case RT_ORDER_MARK:
		rtpr_tx_add(tx, "meta mark & 0x%08x %s 0x%08x ", s->mark_mask,
			    (s->invert & VIPLB_M_MARK) ? "!=" : "==", s->mark);
		break;
	case RT_ORDER_STATISTIC:
		inv = s->invert & VIPLB_M_STATISTIC;
		if (s->stat_mode == VIPLB_STAT_NTH)
			rtpr_tx_add(tx, "numgen inc mod %u %s%u ", s->stat_every,
				    inv ? "!= " : "", s->stat_packet);
		else
			rtpr_tx_add(tx, "meta random & 2147483647 %s %u ",
				    inv ? ">=" : "<", s->stat_prob);
		break;
	default:
		break;
	}
}

static const char *nft_reject(uint16_t af, uint32_t with)
{
	static const char *const v4[] = {
		[VIPLB_REJECT_PORT_UNREACH] = "icmp port-unreachable",
		[VIPLB_REJECT_HOST_UNREACH] = "icmp host-unreachable",
		[VIPLB_REJECT_ADMIN_PROHIBITED] = "icmp admin-prohibited",
		[VIPLB_REJECT_NET_UNREACH] = "icmp net-unreachable",
		[VIPLB_REJECT_TCP_RESET] = "tcp reset",
		[VIPLB_REJECT_PROTO_UNREACH] = "icmp prot-unreachable",
		[VIPLB_REJECT_NET_PROHIBITED] = "icmp net-prohibited",
		[VIPLB_REJECT_HOST_PROHIBITED] = "icmp host-prohibited",
	};
	static const char *const v6[] = {
		[VIPLB_REJECT_PORT_UNREACH] = "icmpv6 port-unreachable",
		[VIPLB_REJECT_HOST_UNREACH] = "icmpv6 addr-unreachable",
		[VIPLB_REJECT_ADMIN_PROHIBITED] = "icmpv6 admin-prohibited",
		[VIPLB_REJECT_NET_UNREACH] = "icmpv6 no-route",
		[VIPLB_REJECT_TCP_RESET] = "tcp reset",
		[VIPLB_REJECT_POLICY_FAIL] = "icmpv6 policy-fail",
		[VIPLB_REJECT_REJECT_ROUTE] = "icmpv6 reject-route",
	};
	const char *name = NULL;

	if (af == AF_INET6 && with < ARRAY_SIZE(v6))
		name = v6[with];
	else if (af != AF_INET6 && with < ARRAY_SIZE(v4))
		name = v4[with];
	return name ? name : "?";
}

static void tx_nat_flags(struct rt_text *tx, const struct viplb_rule_spec *s)
{
	const char *sep = " ";

	if (s->nat_flags & VIPLB_NAT_F_RANDOM) {
		rtpr_tx_add(tx, "%srandom", sep);
		sep = ",";
	}
	if (s->nat_flags & VIPLB_NAT_F_RANDOM_FULLY) {
		rtpr_tx_add(tx, "%sfully-random", sep);
		sep = ",";
	}
	if (s->nat_flags & VIPLB_NAT_F_PERSISTENT)
		rtpr_tx_add(tx, "%spersistent", sep);
}

/* "A[-B][:P[-Q]]"; IPv6 addresses in brackets each when ports follow. */
static void tx_nat_range(struct rt_text *tx, uint16_t af,
			 const struct viplb_rule_spec *s)
{
	bool brackets = af == AF_INET6 && (s->nat_flags & VIPLB_NAT_F_PORTS);

	if (s->nat_flags & VIPLB_NAT_F_ADDR) {
		rtpr_tx_add(tx, brackets ? "[" : "");
		rtpr_tx_addr(tx, af, s->nat_min);
		rtpr_tx_add(tx, brackets ? "]" : "");
		if (memcmp(s->nat_min, s->nat_max, sizeof(s->nat_min))) {
			rtpr_tx_add(tx, brackets ? "-[" : "-");
			rtpr_tx_addr(tx, af, s->nat_max);
			rtpr_tx_add(tx, brackets ? "]" : "");
		}
	}
	if (s->nat_flags & VIPLB_NAT_F_PORTS) {
		rtpr_tx_add(tx, ":");
		rtpr_tx_nat_ports(tx, s);
	}
}

static void tx_target(struct rt_text *tx, const struct rt_table *t,
		      const struct rt_rule *r)
{
	const struct viplb_rule_spec *s = &r->spec;

	switch (s->verdict) {
	case VIPLB_V_ACCEPT:
		rtpr_tx_add(tx, " accept");
		break;
	case VIPLB_V_DROP:
		rtpr_tx_add(tx, " drop");
		break;
	case VIPLB_V_RETURN:
		rtpr_tx_add(tx, " return");
		break;
	case VIPLB_V_JUMP:
	case VIPLB_V_GOTO:
		rtpr_tx_add(tx, s->verdict == VIPLB_V_JUMP ? " jump " :
							      " goto ");
		tx_name(tx, r->target);
		break;
	case VIPLB_V_REJECT:
		rtpr_tx_add(tx, " reject with %s",
			    nft_reject(t->af, s->reject_with));
		break;
	case VIPLB_V_DNAT:
	case VIPLB_V_SNAT:
		rtpr_tx_add(tx, " %s to ",
			    s->verdict == VIPLB_V_DNAT ? "dnat" : "snat");
		tx_nat_range(tx, t->af, s);
		tx_nat_flags(tx, s);
		break;
	case VIPLB_V_MASQUERADE:
	case VIPLB_V_REDIRECT:
		rtpr_tx_add(tx, s->verdict == VIPLB_V_MASQUERADE ?
					" masquerade" :
					" redirect");
		if (s->nat_flags & VIPLB_NAT_F_PORTS) {
			rtpr_tx_add(tx, " to :");
			rtpr_tx_nat_ports(tx, s);
		}
		tx_nat_flags(tx, s);
		break;
	case VIPLB_V_MARK:
		rtpr_tx_add(tx, " meta mark set meta mark & 0x%08x ^ 0x%08x",
			    ~s->set_mark_mask, s->set_mark);
		break;
	default:
		break;
	}
}

static void tx_rule(struct rt_text *tx, const struct rt_table *t,
		    const struct rt_rule *r)
{
	const struct viplb_rule_spec *s = &r->spec;
	uint8_t kinds[RT_ORDER_KINDS];
	size_t i, n;

	rtpr_tx_reset(tx);
	if (s->match & VIPLB_M_IIF)
		tx_ifname(tx, r, true);
	if (s->match & VIPLB_M_OIF)
		tx_ifname(tx, r, false);
	if (s->match & VIPLB_M_PROTO)
		rtpr_tx_add(tx, "meta l4proto %s%u ", neq(r, VIPLB_M_PROTO),
			    s->proto);
	if (s->match & VIPLB_M_SRC)
		tx_addr_match(tx, t, r, true);
	if (s->match & VIPLB_M_DST)
		tx_addr_match(tx, t, r, false);
	n = rt_match_order(r, kinds);
	for (i = 0; i < n; i++)
		tx_match(tx, t, r, kinds[i]);
	rtpr_tx_add(tx, "counter packets %llu bytes %llu",
		    (unsigned long long)r->pkts, (unsigned long long)r->bytes);
	tx_target(tx, t, r);
	if (r->comment) {
		rtpr_tx_add(tx, " comment ");
		tx_string(tx, r->comment);
	}
}

static const char *const hook_names[] = {
	[VIPLB_HOOK_PREROUTING] = "prerouting",
	[VIPLB_HOOK_INPUT] = "input",
	[VIPLB_HOOK_FORWARD] = "forward",
	[VIPLB_HOOK_OUTPUT] = "output",
	[VIPLB_HOOK_POSTROUTING] = "postrouting",
};

/*
 * The table as "nft -f" reads it: every chain declared first (so that
 * jumps may name chains declared later), then each chain's rules.
 */
void rt_print_nft(FILE *fp, const struct rt_table *t)
{
	const char *fam = t->af == AF_INET6 ? "ip6" : "ip";
	size_t *order = rt_chain_order(t), i, j;
	struct rt_text tx;
	bool nat = t->id == VIPLB_RTABLE_NAT;

	if (!order)
		return;
	fprintf(fp, "table %s %s {\n", fam, nft_table_name(t->id));
	for (i = 0; i < t->nr_chains; i++) {
		const struct rt_chain *c = &t->chains[order[i]];
		int prio = 0;

		rtpr_tx_reset(&tx);
		tx_name(&tx, c->name);
		fprintf(fp, "%s\tchain %s {\n", i ? "\n" : "", tx.s);
		if (c->hook != RT_USER_CHAIN) {
			if (nat)
				prio = c->hook == VIPLB_HOOK_PREROUTING ||
						       c->hook == VIPLB_HOOK_OUTPUT ?
					       -100 :
					       100;
			fprintf(fp,
				"\t\ttype %s hook %s priority %d; policy %s;\n",
				nat ? "nat" : "filter", hook_names[c->hook],
				prio,
				c->policy == VIPLB_V_DROP ? "drop" : "accept");
		}
		for (j = 0; j < c->nr_rules; j++) {
			tx_rule(&tx, t, &c->rules[j]);
			fprintf(fp, "\t\t%s\n", tx.s);
		}
		fprintf(fp, "\t}\n");
	}
	fprintf(fp, "}\n");
	free(order);
}
