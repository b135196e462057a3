// SPDX-License-Identifier: GPL-2.0
/*
 * The values of a rule as iptables prints them, appended to a struct
 * rt_text: target, reject, protocol and port names (from /etc/protocols
 * and /etc/services, remembered), addresses and masks, NAT ranges,
 * states, multiport lists and quoted strings.  Used by print.c.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "print_int.h"
#include "tables.h"
#include "util.h"

void rtpr_tx_add(struct rt_text *tx, const char *fmt, ...)
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

void rtpr_tx_reset(struct rt_text *tx)
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

const char *rtpr_target_name(const struct rt_rule *r)
{
	uint32_t v = r->spec.verdict;

	if (v == VIPLB_V_JUMP || v == VIPLB_V_GOTO)
		return r->target;
	return v < ARRAY_SIZE(verdict_names) && verdict_names[v] ?
		       verdict_names[v] :
		       "?";
}

const char *rtpr_reject_name(uint16_t af, uint32_t type)
{
	static const char *const v4[] = {
		[VIPLB_REJECT_PORT_UNREACH] = "icmp-port-unreachable",
		[VIPLB_REJECT_HOST_UNREACH] = "icmp-host-unreachable",
		[VIPLB_REJECT_ADMIN_PROHIBITED] = "icmp-admin-prohibited",
		[VIPLB_REJECT_NET_UNREACH] = "icmp-net-unreachable",
		[VIPLB_REJECT_TCP_RESET] = "tcp-reset",
		[VIPLB_REJECT_PROTO_UNREACH] = "icmp-proto-unreachable",
		[VIPLB_REJECT_NET_PROHIBITED] = "icmp-net-prohibited",
		[VIPLB_REJECT_HOST_PROHIBITED] = "icmp-host-prohibited",
	};
	static const char *const v6[] = {
		[VIPLB_REJECT_PORT_UNREACH] = "icmp6-port-unreachable",
		[VIPLB_REJECT_HOST_UNREACH] = "icmp6-addr-unreachable",
		[VIPLB_REJECT_ADMIN_PROHIBITED] = "icmp6-adm-prohibited",
		[VIPLB_REJECT_NET_UNREACH] = "icmp6-no-route",
		[VIPLB_REJECT_TCP_RESET] = "tcp-reset",
		[VIPLB_REJECT_POLICY_FAIL] = "icmp6-policy-fail",
		[VIPLB_REJECT_REJECT_ROUTE] = "icmp6-reject-route",
	};
	const char *name = NULL;

	if (af == AF_INET && type < ARRAY_SIZE(v4))
		name = v4[type];
	else if (af != AF_INET && type < ARRAY_SIZE(v6))
		name = v6[type];
	return name ? name : "?";
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
const char *rtpr_proto_name(uint8_t proto, unsigned int fmt, char *buf,
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

const char *rtpr_spec_proto_str(const struct viplb_rule_spec *s)
{
	return rt_port_proto_name(s->proto);
}

/* A port, by its /etc/services name unless numeric. */
void rtpr_tx_port(struct rt_text *tx, uint16_t port, const char *proto,
		  bool numeric)
{
	const char *name = !numeric && proto ? etc_port_name(port, proto) :
					       NULL;

	if (name)
		rtpr_tx_add(tx, "%s", name);
	else
		rtpr_tx_add(tx, "%u", port);
}

/* Addresses */

int rtpr_mask_len(uint16_t af, const __be32 mask[4])
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

void rtpr_tx_addr(struct rt_text *tx, uint16_t af, const __be32 a[4])
{
	char buf[INET6_ADDRSTRLEN];

	if (!inet_ntop(af, a, buf, sizeof(buf)))
		snprintf(buf, sizeof(buf), "?");
	rtpr_tx_add(tx, "%s", buf);
}

/* "/LEN" or "/MASK"; in -L a host mask prints nothing. */
void rtpr_tx_mask(struct rt_text *tx, uint16_t af, const __be32 mask[4],
		  bool host_bare)
{
	int len = rtpr_mask_len(af, mask);

	if (len == (af == AF_INET ? 32 : 128) && host_bare)
		return;
	if (len >= 0) {
		rtpr_tx_add(tx, "/%d", len);
		return;
	}
	rtpr_tx_add(tx, "/");
	rtpr_tx_addr(tx, af, mask);
}

static bool all_zero(const __be32 a[4])
{
	return !a[0] && !a[1] && !a[2] && !a[3];
}

/* An address column of -L. */
void rtpr_list_addr(char *buf, size_t len, uint16_t af, const __be32 a[4],
		    const __be32 mask[4], bool numeric)
{
	struct rt_text tx;

	rtpr_tx_reset(&tx);
	/* IPv4 looks at the mask, IPv6 at the address, as iptables. */
	if (!numeric && (af == AF_INET ? all_zero(mask) : all_zero(a))) {
		rtpr_tx_add(&tx, "anywhere");
	} else {
		rtpr_tx_addr(&tx, af, a);
		rtpr_tx_mask(&tx, af, mask, true);
	}
	snprintf(buf, len, "%s", tx.s);
}

/* NAT ranges: "A[-B][:P[-Q]]", IPv6 in brackets when ports follow. */
void rtpr_tx_nat_range(struct rt_text *tx, uint16_t af,
		       const struct viplb_rule_spec *s)
{
	bool addr = s->nat_flags & VIPLB_NAT_F_ADDR;
	bool ports = s->nat_flags & VIPLB_NAT_F_PORTS;
	bool brackets = af == AF_INET6 && addr && ports;

	if (addr) {
		if (brackets)
			rtpr_tx_add(tx, "[");
		rtpr_tx_addr(tx, af, s->nat_min);
		if (memcmp(s->nat_min, s->nat_max, sizeof(s->nat_min))) {
			rtpr_tx_add(tx, "-");
			rtpr_tx_addr(tx, af, s->nat_max);
		}
		if (brackets)
			rtpr_tx_add(tx, "]");
	}
	if (ports) {
		rtpr_tx_add(tx, ":");
		rtpr_tx_nat_ports(tx, s);
	}
}

void rtpr_tx_nat_ports(struct rt_text *tx, const struct viplb_rule_spec *s)
{
	rtpr_tx_add(tx, "%u", s->nat_port_min);
	if (s->nat_port_max != s->nat_port_min)
		rtpr_tx_add(tx, "-%u", s->nat_port_max);
	if (s->nat_flags & VIPLB_NAT_F_PORT_OFFSET)
		rtpr_tx_add(tx, "/%u", s->nat_port_base);
}

void rtpr_tx_bit_names(struct rt_text *tx, uint32_t bits,
		       const struct rtpr_bit_name *names, size_t n,
		       const char *sep)
{
	const char *s = "";
	size_t i;

	for (i = 0; i < n; i++) {
		if (bits & names[i].bit) {
			rtpr_tx_add(tx, "%s%s", s, names[i].name);
			s = sep;
		}
	}
}

/* TCP flags as iptables prints them: "FIN,SYN", "NONE". */
void rtpr_tx_tcp_flags(struct rt_text *tx, uint8_t flags)
{
	static const struct rtpr_bit_name names[] = {
		{ RT_TCPF_FIN, "FIN" }, { RT_TCPF_SYN, "SYN" },
		{ RT_TCPF_RST, "RST" }, { RT_TCPF_PSH, "PSH" },
		{ RT_TCPF_ACK, "ACK" }, { RT_TCPF_URG, "URG" },
	};

	if (!flags)
		rtpr_tx_add(tx, "NONE");
	rtpr_tx_bit_names(tx, flags, names, ARRAY_SIZE(names), ",");
}

/* States in the order iptables prints them. */
void rtpr_tx_ctstates(struct rt_text *tx, uint8_t states)
{
	static const struct rtpr_bit_name names[] = {
		{ VIPLB_CTSTATE_INVALID, "INVALID" },
		{ VIPLB_CTSTATE_NEW, "NEW" },
		{ VIPLB_CTSTATE_RELATED, "RELATED" },
		{ VIPLB_CTSTATE_ESTABLISHED, "ESTABLISHED" },
		{ VIPLB_CTSTATE_UNTRACKED, "UNTRACKED" },
		{ VIPLB_CTSTATE_SNAT, "SNAT" },
		{ VIPLB_CTSTATE_DNAT, "DNAT" },
	};

	rtpr_tx_bit_names(tx, states, names, ARRAY_SIZE(names), ",");
}

/* --ctstatus in the order iptables prints it; no bit is NONE. */
void rtpr_tx_ctstatus(struct rt_text *tx, uint8_t status)
{
	static const struct rtpr_bit_name names[] = {
		{ VIPLB_CTSTATUS_EXPECTED, "EXPECTED" },
		{ VIPLB_CTSTATUS_SEEN_REPLY, "SEEN_REPLY" },
		{ VIPLB_CTSTATUS_ASSURED, "ASSURED" },
		{ VIPLB_CTSTATUS_CONFIRMED, "CONFIRMED" },
	};

	if (!status)
		rtpr_tx_add(tx, "NONE");
	rtpr_tx_bit_names(tx, status, names, ARRAY_SIZE(names), ",");
}

const char *rtpr_mports_kind(uint8_t flags)
{
	return flags == VIPLB_MPORT_SRC ? "sports" :
	       flags == VIPLB_MPORT_DST ? "dports" :
					  "ports";
}

void rtpr_tx_mports(struct rt_text *tx, const struct viplb_rule_spec *s,
		    bool numeric)
{
	const char *proto = rtpr_spec_proto_str(s);
	unsigned int i;

	for (i = 0; i < s->n_mports && i < VIPLB_MPORTS_MAX; i++) {
		if (i)
			rtpr_tx_add(tx, ",");
		rtpr_tx_port(tx, s->mports[i][0], proto, numeric);
		if (s->mports[i][1] != s->mports[i][0]) {
			rtpr_tx_add(tx, ":");
			rtpr_tx_port(tx, s->mports[i][1], proto, numeric);
		}
	}
}

double rtpr_probability(uint32_t prob)
{
	return (double)prob / 2147483648.0;
}

/* A string as iptables-save quotes it. */
void rtpr_tx_quoted(struct rt_text *tx, const char *s)
{
	const char *c;

	if (*s &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyz"
		      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == strlen(s)) {
		rtpr_tx_add(tx, "%s", s);
		return;
	}
	rtpr_tx_add(tx, "\"");
	for (c = s; *c; c++) {
		if (*c == '"' || *c == '\\' || *c == '\'')
			rtpr_tx_add(tx, "\\");
		rtpr_tx_add(tx, "%c", *c);
	}
	rtpr_tx_add(tx, "\"");
}
