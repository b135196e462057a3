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
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "print.h"
#include "tables.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The one-line form of rule commands, not the -L table. */
#define FMT_NOTABLE (1U << 8)

static void tx_add(struct rt_text *tx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void tx_add(struct rt_text *tx, const char *fmt, ...)
{
	size_t room = sizeof(tx->s) - tx->len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tx->s + tx->len, room, fmt, ap);
	va_end(ap);
	/* Cannot happen with the sizes used; never overrun anyway. */
	if (n < 0)
		n = 0;
	tx->len += (size_t)n < room ? (size_t)n : room - 1;
}

static void tx_reset(struct rt_text *tx)
{
	tx->len = 0;
	tx->s[0] = '\0';
}

/* Names */

static const char *const verdict_names[] = {
	[VIPLB_V_NONE] = "",
	[VIPLB_V_ACCEPT] = "ACCEPT",
	[VIPLB_V_DROP] = "DROP",
	[VIPLB_V_RETURN] = "RETURN",
	[VIPLB_V_REJECT] = "REJECT",
	[VIPLB_V_DNAT] = "DNAT",
	[VIPLB_V_SNAT] = "SNAT",
	[VIPLB_V_MASQUERADE] = "MASQUERADE",
	[VIPLB_V_REDIRECT] = "REDIRECT",
	[VIPLB_V_MARK] = "MARK",
};

static const char *target_name(const struct rt_rule *r)
{
	uint32_t v = r->spec.verdict;

	if (v == VIPLB_V_JUMP || v == VIPLB_V_GOTO)
		return r->target;
	return v < ARRAY_SIZE(verdict_names) && verdict_names[v] ?
		       verdict_names[v] :
		       "?";
}

static const char *reject_name(uint16_t af, uint32_t type)
{
	static const char *const v4[] = {
		[VIPLB_REJECT_PORT_UNREACH] = "icmp-port-unreachable",
		[VIPLB_REJECT_HOST_UNREACH] = "icmp-host-unreachable",
		[VIPLB_REJECT_ADMIN_PROHIBITED] = "icmp-admin-prohibited",
		[VIPLB_REJECT_NET_UNREACH] = "icmp-net-unreachable",
		[VIPLB_REJECT_TCP_RESET] = "tcp-reset",
	};
	static const char *const v6[] = {
		[VIPLB_REJECT_PORT_UNREACH] = "icmp6-port-unreachable",
		[VIPLB_REJECT_HOST_UNREACH] = "icmp6-addr-unreachable",
		[VIPLB_REJECT_ADMIN_PROHIBITED] = "icmp6-adm-prohibited",
		[VIPLB_REJECT_NET_UNREACH] = "icmp6-no-route",
		[VIPLB_REJECT_TCP_RESET] = "tcp-reset",
	};

	if (type >= ARRAY_SIZE(v4))
		return "?";
	return af == AF_INET ? v4[type] : v6[type];
}

/* iptables' own protocol names, used when /etc/protocols has none. */
static const char *builtin_proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_SCTP:
		return "sctp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_UDPLITE:
		return "udplite";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "ipv6-icmp";
	case IPPROTO_ESP:
		return "esp";
	case IPPROTO_AH:
		return "ah";
	case IPPROTO_MH:
		return "ipv6-mh";
	case 0:
		return "all";
	}
	return NULL;
}

/*
 * Name lookups in /etc/protocols and /etc/services read the file each
 * time: remember the answers, "" for none, for listings of many rules.
 */
static char *proto_names[256];
static char **port_names[2]; /* tcp, udp: 65536 entries each */

static const char *etc_proto_name(uint8_t proto)
{
	struct protoent *pe;

	if (!proto_names[proto]) {
		pe = getprotobynumber(proto);
		proto_names[proto] = strdup(pe && pe->p_name ? pe->p_name : "");
		if (!proto_names[proto])
			return NULL;
	}
	return *proto_names[proto] ? proto_names[proto] : NULL;
}

static const char *etc_port_name(uint16_t port, const char *proto)
{
	char ***cache = &port_names[strcmp(proto, "tcp") ? 1 : 0];
	struct servent *se;

	if (!*cache) {
		*cache = calloc(65536, sizeof(**cache));
		if (!*cache)
			return NULL;
	}
	if (!(*cache)[port]) {
		se = getservbyport(htons(port), proto);
		(*cache)[port] = strdup(se && se->s_name ? se->s_name : "");
		if (!(*cache)[port])
			return NULL;
	}
	return *(*cache)[port] ? (*cache)[port] : NULL;
}

/* The protocol as iptables prints it in each format. */
static const char *proto_name(uint8_t proto, unsigned int fmt, char *buf,
			      size_t len)
{
	const char *name;

	if ((fmt & RT_FMT_NUMERIC) && !(fmt & FMT_NOTABLE)) {
		snprintf(buf, len, "%u", proto);
		return buf;
	}
	if (proto == 0)
		return "all";
	if (!(fmt & RT_FMT_NUMERIC)) {
		name = etc_proto_name(proto);
		if (name)
			return name;
	}
	name = builtin_proto_name(proto);
	if (name)
		return name;
	snprintf(buf, len, "%u", proto);
	return buf;
}

static const char *spec_proto_str(const struct viplb_rule_spec *s)
{
	return s->proto == IPPROTO_TCP ? "tcp" :
	       s->proto == IPPROTO_UDP ? "udp" :
					 NULL;
}

/* A port, by its /etc/services name unless numeric. */
static void tx_port(struct rt_text *tx, uint16_t port, const char *proto,
		    bool numeric)
{
	const char *name = !numeric && proto ? etc_port_name(port, proto) :
					       NULL;

	if (name)
		tx_add(tx, "%s", name);
	else
		tx_add(tx, "%u", port);
}

/* Addresses */

/* Prefix length of a contiguous mask, or -1. */
static int mask_len(uint16_t af, const __be32 mask[4])
{
	unsigned int words = af == AF_INET ? 1 : 4, i;
	int len = 0;
	bool ended = false;

	for (i = 0; i < words; i++) {
		uint32_t m = ntohl(mask[i]);
		int bit;

		for (bit = 31; bit >= 0; bit--) {
			bool set = m & (1U << bit);

			if (set && ended)
				return -1;
			if (!set)
				ended = true;
			else
				len++;
		}
	}
	return len;
}

static void tx_addr(struct rt_text *tx, uint16_t af, const __be32 a[4])
{
	char buf[INET6_ADDRSTRLEN];

	if (!inet_ntop(af, a, buf, sizeof(buf)))
		snprintf(buf, sizeof(buf), "?");
	tx_add(tx, "%s", buf);
}

/* "/LEN" or "/MASK"; in -L a host mask prints nothing. */
static void tx_mask(struct rt_text *tx, uint16_t af, const __be32 mask[4],
		    bool host_bare)
{
	int len = mask_len(af, mask);

	if (len == (af == AF_INET ? 32 : 128) && host_bare)
		return;
	if (len >= 0) {
		tx_add(tx, "/%d", len);
		return;
	}
	tx_add(tx, "/");
	tx_addr(tx, af, mask);
}

static bool all_zero(const __be32 a[4])
{
	return !a[0] && !a[1] && !a[2] && !a[3];
}

/* An address column of -L. */
static void list_addr(char *buf, size_t len, uint16_t af, const __be32 a[4],
		      const __be32 mask[4], bool numeric)
{
	struct rt_text tx;

	tx_reset(&tx);
	/* IPv4 looks at the mask, IPv6 at the address, as iptables. */
	if (!numeric && (af == AF_INET ? all_zero(mask) : all_zero(a))) {
		tx_add(&tx, "anywhere");
	} else {
		tx_addr(&tx, af, a);
		tx_mask(&tx, af, mask, true);
	}
	snprintf(buf, len, "%s", tx.s);
}

/* NAT ranges: "A[-B][:P[-Q]]", IPv6 in brackets when ports follow. */
static void tx_nat_range(struct rt_text *tx, uint16_t af,
			 const struct viplb_rule_spec *s)
{
	bool addr = s->nat_flags & VIPLB_NAT_F_ADDR;
	bool ports = s->nat_flags & VIPLB_NAT_F_PORTS;
	bool brackets = af == AF_INET6 && addr && ports;

	if (addr) {
		if (brackets)
			tx_add(tx, "[");
		tx_addr(tx, af, s->nat_min);
		if (memcmp(s->nat_min, s->nat_max, sizeof(s->nat_min))) {
			tx_add(tx, "-");
			tx_addr(tx, af, s->nat_max);
		}
		if (brackets)
			tx_add(tx, "]");
	}
	if (ports) {
		tx_add(tx, ":%u", s->nat_port_min);
		if (s->nat_port_max != s->nat_port_min)
			tx_add(tx, "-%u", s->nat_port_max);
	}
}

static void tx_nat_ports(struct rt_text *tx, const struct viplb_rule_spec *s)
{
	tx_add(tx, "%u", s->nat_port_min);
	if (s->nat_port_max != s->nat_port_min)
		tx_add(tx, "-%u", s->nat_port_max);
}

/* States in the order iptables prints them. */
static void tx_ctstates(struct rt_text *tx, uint8_t states)
{
	static const struct {
		uint8_t bit;
		const char *name;
	} names[] = {
		{ VIPLB_CTSTATE_INVALID, "INVALID" },
		{ VIPLB_CTSTATE_NEW, "NEW" },
		{ VIPLB_CTSTATE_RELATED, "RELATED" },
		{ VIPLB_CTSTATE_ESTABLISHED, "ESTABLISHED" },
		{ VIPLB_CTSTATE_UNTRACKED, "UNTRACKED" },
	};
	const char *sep = "";
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (states & names[i].bit) {
			tx_add(tx, "%s%s", sep, names[i].name);
			sep = ",";
		}
	}
}

static const char *mports_kind(uint8_t flags)
{
	return flags == VIPLB_MPORT_SRC ? "sports" :
	       flags == VIPLB_MPORT_DST ? "dports" :
					  "ports";
}

static void tx_mports(struct rt_text *tx, const struct viplb_rule_spec *s,
		      bool numeric)
{
	const char *proto = spec_proto_str(s);
	unsigned int i;

	for (i = 0; i < s->n_mports && i < VIPLB_MPORTS_MAX; i++) {
		if (i)
			tx_add(tx, ",");
		tx_port(tx, s->mports[i][0], proto, numeric);
		if (s->mports[i][1] != s->mports[i][0]) {
			tx_add(tx, ":");
			tx_port(tx, s->mports[i][1], proto, numeric);
		}
	}
}

static double probability(uint32_t prob)
{
	return (double)prob / 2147483648.0;
}

/* A string as iptables-save quotes it. */
static void tx_quoted(struct rt_text *tx, const char *s)
{
	const char *c;

	if (*s &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyz"
		      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == strlen(s)) {
		tx_add(tx, "%s", s);
		return;
	}
	tx_add(tx, "\"");
	for (c = s; *c; c++) {
		if (*c == '"' || *c == '\\' || *c == '\'')
			tx_add(tx, "\\");
		tx_add(tx, "%c", *c);
	}
	tx_add(tx, "\"");
}

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
	tx_add(tx, " %s %u", opt, range[0]);
	if (range[1] != range[0])
		tx_add(tx, ":%u", range[1]);
}

/* One match of save_matches(), of kind k (enum rt_order_kind). */
static void save_match(struct rt_text *tx, const struct rt_rule *r, uint8_t k)
{
	const struct viplb_rule_spec *s = &r->spec;

	switch (k) {
	case RT_ORDER_COMMENT:
		tx_add(tx, " -m comment --comment ");
		tx_quoted(tx, r->comment);
		break;
	case RT_ORDER_TCP:
	case RT_ORDER_UDP:
		tx_add(tx, " -m %s", k == RT_ORDER_UDP ? "udp" : "tcp");
		if ((s->match & VIPLB_M_SPORT) &&
		    !bare_port_match(s, VIPLB_M_SPORT, s->sport)) {
			tx_add(tx, "%s", neg(s, VIPLB_M_SPORT));
			save_range(tx, "--sport", s->sport);
		}
		if (s->match & VIPLB_M_DPORT) {
			tx_add(tx, "%s", neg(s, VIPLB_M_DPORT));
			save_range(tx, "--dport", s->dport);
		}
		if (s->match & VIPLB_M_SYN)
			tx_add(tx, "%s --tcp-flags FIN,SYN,RST,ACK SYN",
			       neg(s, VIPLB_M_SYN));
		break;
	case RT_ORDER_MULTIPORT:
		tx_add(tx, " -m multiport%s --%s ", neg(s, VIPLB_M_MPORTS),
		       mports_kind(s->mport_flags));
		tx_mports(tx, s, true);
		break;
	case RT_ORDER_CONNTRACK:
	case RT_ORDER_STATE:
		tx_add(tx,
		       k == RT_ORDER_STATE ? " -m state%s --state " :
					     " -m conntrack%s --ctstate ",
		       neg(s, VIPLB_M_CTSTATE));
		tx_ctstates(tx, s->ctstate);
		break;
	case RT_ORDER_MARK:
		tx_add(tx, " -m mark%s --mark 0x%x", neg(s, VIPLB_M_MARK),
		       s->mark);
		if (s->mark_mask != 0xffffffff)
			tx_add(tx, "/0x%x", s->mark_mask);
		break;
	case RT_ORDER_STATISTIC:
		if (s->stat_mode == VIPLB_STAT_RANDOM)
			tx_add(tx,
			       " -m statistic --mode random%s --probability %.11f",
			       neg(s, VIPLB_M_STATISTIC),
			       probability(s->stat_prob));
		else
			tx_add(tx,
			       " -m statistic --mode nth%s --every %u --packet %u",
			       neg(s, VIPLB_M_STATISTIC), s->stat_every,
			       s->stat_packet);
		break;
	}
}

/* The matches in the order they were written (see tables.h). */
static void save_matches(struct rt_text *tx, const struct rt_rule *r)
{
	uint8_t kinds[RT_ORDER_KINDS];
	size_t n = rt_match_order(r, kinds), i;

	for (i = 0; i < n; i++)
		save_match(tx, r, kinds[i]);
}

static void save_nat_flags(struct rt_text *tx, uint32_t flags)
{
	if (flags & VIPLB_NAT_F_RANDOM)
		tx_add(tx, " --random");
	if (flags & VIPLB_NAT_F_RANDOM_FULLY)
		tx_add(tx, " --random-fully");
	if (flags & VIPLB_NAT_F_PERSISTENT)
		tx_add(tx, " --persistent");
}

static void save_target(struct rt_text *tx, uint16_t af,
			const struct viplb_rule_spec *s,
			const struct rt_rule *r)
{
	if (s->verdict == VIPLB_V_NONE)
		return;
	tx_add(tx, " -%c %s", s->verdict == VIPLB_V_GOTO ? 'g' : 'j',
	       target_name(r));
	switch (s->verdict) {
	case VIPLB_V_REJECT:
		tx_add(tx, " --reject-with %s",
		       reject_name(af, s->reject_with));
		break;
	case VIPLB_V_DNAT:
	case VIPLB_V_SNAT:
		tx_add(tx, " --to-%s ",
		       s->verdict == VIPLB_V_DNAT ? "destination" : "source");
		tx_nat_range(tx, af, s);
		save_nat_flags(tx, s->nat_flags);
		break;
	case VIPLB_V_MASQUERADE:
	case VIPLB_V_REDIRECT:
		if (s->nat_flags & VIPLB_NAT_F_PORTS) {
			tx_add(tx, " --to-ports ");
			tx_nat_ports(tx, s);
		}
		save_nat_flags(tx, s->nat_flags);
		break;
	case VIPLB_V_MARK:
		tx_add(tx, " --set-xmark 0x%x/0x%x", s->set_mark,
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
	tx_add(tx, "%s %s ", neg(s, bit), opt);
	tx_addr(tx, af, a);
	tx_mask(tx, af, mask, false);
}

static void save_iface(struct rt_text *tx, const struct viplb_rule_spec *s,
		       uint32_t bit, const char *opt, const char *name)
{
	if (!(s->match & bit))
		return;
	/* iptables-save omits "-i +", which matches every interface. */
	if (!strcmp(name, "+") && !(s->invert & bit))
		return;
	tx_add(tx, "%s %s %s", neg(s, bit), opt, name);
}

void rt_text_rule(struct rt_text *tx, const struct rt_table *t,
		  const struct rt_chain *c, const struct rt_rule *r,
		  bool counters)
{
	const struct viplb_rule_spec *s = &r->spec;
	char buf[16];

	tx_reset(tx);
	tx_add(tx, "-A %s", c->name);
	save_addr(tx, s, t->af, VIPLB_M_SRC, "-s", s->src, s->src_mask);
	save_addr(tx, s, t->af, VIPLB_M_DST, "-d", s->dst, s->dst_mask);
	save_iface(tx, s, VIPLB_M_IIF, "-i", s->iif);
	save_iface(tx, s, VIPLB_M_OIF, "-o", s->oif);
	if (s->match & VIPLB_M_PROTO)
		tx_add(tx, "%s -p %s", neg(s, VIPLB_M_PROTO),
		       proto_name(s->proto, 0, buf, sizeof(buf)));
	save_matches(tx, r);
	/* -S -v: the counters go before the target, as in iptables. */
	if (counters)
		tx_add(tx, " -c %" PRIu64 " %" PRIu64, r->pkts, r->bytes);
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
		tx_add(tx, table ? "%8" PRIu64 " " : "%" PRIu64 " ", n);
		return;
	}
	if (n <= 99999) {
		tx_add(tx, table ? "%5" PRIu64 " " : "%" PRIu64 " ", n);
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
	tx_add(tx, table ? "%4" PRIu64 "%c " : "%" PRIu64 "%c ", n, suffix[i]);
}

static void list_ports(struct rt_text *tx, const char *name,
		       const struct viplb_rule_spec *s, uint32_t bit,
		       const uint16_t range[2], bool numeric)
{
	const char *proto = spec_proto_str(s);
	const char *inv = (s->invert & bit) ? "!" : "";

	if (range[0] == range[1]) {
		tx_add(tx, " %s:%s", name, inv);
		tx_port(tx, range[0], proto, numeric);
		return;
	}
	tx_add(tx, " %ss:%s", name, inv);
	tx_port(tx, range[0], proto, numeric);
	tx_add(tx, ":");
	tx_port(tx, range[1], proto, numeric);
}

/* One match of list_matches(), of kind k (enum rt_order_kind). */
static void list_match(struct rt_text *tx, const struct rt_rule *r, uint8_t k,
		       bool numeric)
{
	const struct viplb_rule_spec *s = &r->spec;
	const char *inv;

	switch (k) {
	case RT_ORDER_COMMENT:
		tx_add(tx, " /* %s */", r->comment);
		break;
	case RT_ORDER_TCP:
	case RT_ORDER_UDP:
		tx_add(tx, " %s", k == RT_ORDER_UDP ? "udp" : "tcp");
		if ((s->match & VIPLB_M_SPORT) &&
		    !bare_port_match(s, VIPLB_M_SPORT, s->sport))
			list_ports(tx, "spt", s, VIPLB_M_SPORT, s->sport,
				   numeric);
		if (s->match & VIPLB_M_DPORT)
			list_ports(tx, "dpt", s, VIPLB_M_DPORT, s->dport,
				   numeric);
		if (s->match & VIPLB_M_SYN)
			tx_add(tx, " flags:%s%s",
			       (s->invert & VIPLB_M_SYN) ? "!" : "",
			       numeric ? "0x17/0x02" : "FIN,SYN,RST,ACK/SYN");
		break;
	case RT_ORDER_MULTIPORT:
		tx_add(tx, " multiport %s %s", mports_kind(s->mport_flags),
		       (s->invert & VIPLB_M_MPORTS) ? " !" : "");
		tx_mports(tx, s, numeric);
		break;
	case RT_ORDER_CONNTRACK:
	case RT_ORDER_STATE:
		tx_add(tx, "%s %s ", (s->invert & VIPLB_M_CTSTATE) ? " !" : "",
		       k == RT_ORDER_STATE ? "state" : "ctstate");
		tx_ctstates(tx, s->ctstate);
		break;
	case RT_ORDER_MARK:
		tx_add(tx, " mark match %s0x%x",
		       (s->invert & VIPLB_M_MARK) ? "! " : "", s->mark);
		if (s->mark_mask != 0xffffffff)
			tx_add(tx, "/0x%x", s->mark_mask);
		break;
	case RT_ORDER_STATISTIC:
		inv = (s->invert & VIPLB_M_STATISTIC) ? " !" : "";
		if (s->stat_mode == VIPLB_STAT_RANDOM)
			tx_add(tx, " statistic mode random%s probability %.11f",
			       inv, probability(s->stat_prob));
		else
			tx_add(tx, " statistic mode nth%s every %u", inv,
			       s->stat_every);
		/* As libxt_statistic: packet 0 only in save lines. */
		if (s->stat_mode == VIPLB_STAT_NTH && s->stat_packet)
			tx_add(tx, " packet %u", s->stat_packet);
		break;
	}
}

static void list_matches(struct rt_text *tx, const struct rt_rule *r,
			 bool numeric)
{
	uint8_t kinds[RT_ORDER_KINDS];
	size_t n = rt_match_order(r, kinds), i;

	for (i = 0; i < n; i++)
		list_match(tx, r, kinds[i], numeric);
}

static void list_nat_flags(struct rt_text *tx, uint32_t flags)
{
	if (flags & VIPLB_NAT_F_RANDOM)
		tx_add(tx, " random");
	if (flags & VIPLB_NAT_F_RANDOM_FULLY)
		tx_add(tx, " random-fully");
	if (flags & VIPLB_NAT_F_PERSISTENT)
		tx_add(tx, " persistent");
}

static void list_mark_target(struct rt_text *tx, uint32_t v, uint32_t m)
{
	if (m == 0xffffffff)
		tx_add(tx, " MARK set 0x%x", v);
	else if (v == 0)
		tx_add(tx, " MARK and 0x%x", ~m);
	else if (v == m)
		tx_add(tx, " MARK or 0x%x", v);
	else if (m == 0)
		tx_add(tx, " MARK xor 0x%x", v);
	else
		tx_add(tx, " MARK xset 0x%x/0x%x", v, m);
}

static void list_target(struct rt_text *tx, uint16_t af,
			const struct viplb_rule_spec *s)
{
	switch (s->verdict) {
	case VIPLB_V_REJECT:
		tx_add(tx, " reject-with %s", reject_name(af, s->reject_with));
		break;
	case VIPLB_V_DNAT:
	case VIPLB_V_SNAT:
		tx_add(tx, " to:");
		tx_nat_range(tx, af, s);
		list_nat_flags(tx, s->nat_flags);
		break;
	case VIPLB_V_MASQUERADE:
		if (s->nat_flags & VIPLB_NAT_F_PORTS) {
			tx_add(tx, " masq ports: ");
			tx_nat_ports(tx, s);
		}
		list_nat_flags(tx, s->nat_flags);
		break;
	case VIPLB_V_REDIRECT:
		if (s->nat_flags & VIPLB_NAT_F_PORTS) {
			tx_add(tx, " redir ports ");
			tx_nat_ports(tx, s);
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
		tx_add(tx, "%s %s ", in ? "in" : "out", buf);
	else
		tx_add(tx, in ? " %-6s " : "%-6s ", buf);
}

/* One rule as a line of the -L table (or of the one-line form). */
static void list_rule(struct rt_text *tx, const struct rt_table *t,
		      const struct rt_rule *r, unsigned int num,
		      unsigned int fmt)
{
	const struct viplb_rule_spec *s = &r->spec;
	bool notable = fmt & FMT_NOTABLE, numeric = fmt & RT_FMT_NUMERIC;
	char buf[INET6_ADDRSTRLEN * 2 + 8], pbuf[16];

	tx_reset(tx);
	if (fmt & RT_FMT_LINE_NUMBERS)
		tx_add(tx, "%-4u ", num);
	if ((fmt & RT_FMT_VERBOSE) && !notable) {
		tx_num(tx, r->pkts, fmt);
		tx_num(tx, r->bytes, fmt);
	}
	tx_add(tx, notable ? "%s " : "%-9s ", target_name(r));
	tx_add(tx, notable ? "%c%s " : "%c%-4s ",
	       (s->invert & VIPLB_M_PROTO) ? '!' : ' ',
	       proto_name((s->match & VIPLB_M_PROTO) ? s->proto : 0, fmt, pbuf,
			  sizeof(pbuf)));
	tx_add(tx, notable ? "opt -- " : "-- ");
	if ((fmt & RT_FMT_VERBOSE) || notable) {
		list_iface(tx, s, VIPLB_M_IIF, s->iif, true, fmt);
		list_iface(tx, s, VIPLB_M_OIF, s->oif, false, fmt);
	}
	list_addr(buf, sizeof(buf), t->af, s->src, s->src_mask, numeric);
	tx_add(tx, notable ? "%c%s " : "%c%-19s ",
	       (s->invert & VIPLB_M_SRC) ? '!' : ' ', buf);
	list_addr(buf, sizeof(buf), t->af, s->dst, s->dst_mask, numeric);
	tx_add(tx, notable ? "%c-> %s" : "%c%-19s ",
	       (s->invert & VIPLB_M_DST) ? '!' : ' ', buf);
	if (notable)
		tx_add(tx, "  ");
	if (s->verdict == VIPLB_V_GOTO)
		tx_add(tx, "[goto] ");
	list_matches(tx, r, numeric);
	list_target(tx, t->af, s);
}

static void list_header(FILE *fp, const struct rt_chain *c, unsigned int fmt)
{
	struct rt_text tx;

	tx_reset(&tx);
	if (c->hook == RT_USER_CHAIN) {
		fprintf(fp, "Chain %s (%u references)\n", c->name, c->refs);
	} else {
		fprintf(fp, "Chain %s (policy %s", c->name,
			policy_name(c->policy));
		if (fmt & RT_FMT_VERBOSE) {
			tx_num(&tx, c->pkts, fmt | FMT_NOTABLE);
			tx_add(&tx, "packets, ");
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
