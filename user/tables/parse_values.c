// SPDX-License-Identifier: GPL-2.0
/*
 * The values of viplb-tables' options: numbers, protocols, ports,
 * addresses and NAT ranges, interfaces, states, marks, TCP flags, reject
 * types and policies, each checked as iptables checks it.  Part of the
 * parser (parse.c, parse_int.h).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "parse.h"
#include "parse_int.h"
#include "tables.h"
#include "util.h"

/* Numbers */

/* An unsigned number in C syntax (0x.., 0.., decimal), as iptables. */
bool rtp_parse_number(const char *s, unsigned long long max,
		      unsigned long long *val)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return false;
	*val = v;
	return true;
}

/* Decimal digits only. */
bool rtp_parse_decimal(const char *s, unsigned long long max,
		       unsigned long long *val)
{
	unsigned long long v;
	const char *c;
	char *end;

	if (!*s)
		return false;
	for (c = s; *c; c++)
		if (!isdigit((unsigned char)*c))
			return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || v > max)
		return false;
	*val = v;
	return true;
}

int rtp_parse_rulenum(const char *s, unsigned int *num)
{
	unsigned long long v;

	if (!rtp_parse_decimal(s, INT_MAX, &v) || v == 0)
		return rt_param("bad rule number " RT_Q, quote_arg(s));
	*num = v;
	return 0;
}

/* Protocols */

/* Names iptables knows without /etc/protocols. */
static const struct {
	const char *name;
	uint8_t proto;
} builtin_protos[] = {
	{ "tcp", IPPROTO_TCP },	      { "sctp", IPPROTO_SCTP },
	{ "udp", IPPROTO_UDP },	      { "udplite", IPPROTO_UDPLITE },
	{ "icmp", IPPROTO_ICMP },     { "ipv6-icmp", IPPROTO_ICMPV6 },
	{ "icmpv6", IPPROTO_ICMPV6 }, { "esp", IPPROTO_ESP },
	{ "ah", IPPROTO_AH },	      { "ipv6-mh", IPPROTO_MH },
	{ "mh", IPPROTO_MH },	      { "all", 0 },
};

int rtp_parse_protocol(const char *s, uint8_t *proto)
{
	char name[64];
	unsigned long long v;
	struct protoent *pe;
	size_t i;

	if (rtp_parse_number(s, 255, &v)) {
		*proto = v;
		return 0;
	}
	if (strlen(s) >= sizeof(name))
		goto bad;
	for (i = 0; s[i]; i++)
		name[i] = tolower((unsigned char)s[i]);
	name[i] = '\0';
	/* iptables' own names first: /etc/protocols agrees, and is slow. */
	for (i = 0; i < ARRAY_SIZE(builtin_protos); i++) {
		if (!strcmp(name, builtin_protos[i].name)) {
			*proto = builtin_protos[i].proto;
			return 0;
		}
	}
	pe = getprotobyname(name);
	if (pe && pe->p_proto >= 0 && pe->p_proto <= 255) {
		*proto = pe->p_proto;
		return 0;
	}
bad:
	return rt_param("unknown protocol " RT_Q, quote_arg(s));
}

/* "tcp" or "udp" for service names, NULL for other protocols. */
const char *rtp_port_proto(const struct viplb_rule_spec *spec)
{
	if (!(spec->match & VIPLB_M_PROTO) || (spec->invert & VIPLB_M_PROTO))
		return NULL;
	if (spec->proto == IPPROTO_TCP)
		return "tcp";
	if (spec->proto == IPPROTO_UDP)
		return "udp";
	return NULL;
}

/*
 * The protocol of -m multiport, as xt_multiport: tcp, udp, udplite, sctp
 * or dccp (their ports are at the same offsets), else NULL.
 */
const char *rtp_mport_proto(const struct viplb_rule_spec *spec)
{
	if (!(spec->match & VIPLB_M_PROTO) || (spec->invert & VIPLB_M_PROTO))
		return NULL;
	return rt_port_proto_name(spec->proto);
}

/* Ports */

static bool port_value(const char *s, const char *proto, uint16_t *port)
{
	unsigned long long v;
	struct servent *se;

	if (rtp_parse_number(s, 65535, &v)) {
		*port = v;
		return true;
	}
	if (!proto || !*s)
		return false;
	se = getservbyname(s, *proto ? proto : NULL);
	if (!se)
		return false;
	*port = ntohs(se->s_port);
	return true;
}

static int parse_one_port(const char *s, const char *proto, uint16_t *port)
{
	if (!port_value(s, proto, port))
		return rt_param("bad port " RT_Q, quote_arg(s));
	return 0;
}

/* --sport and --dport: "P", "P:Q", ":Q", "P:" or ":". */
int rtp_parse_port_range(const char *s, const char *proto, uint16_t range[2])
{
	char buf[128];
	char *colon;
	int ret;

	if (strlen(s) >= sizeof(buf))
		return rt_param("bad port " RT_Q, quote_arg(s));
	strcpy(buf, s);
	colon = strchr(buf, ':');
	if (!colon) {
		ret = parse_one_port(buf, proto, &range[0]);
		range[1] = range[0];
		return ret;
	}
	*colon = '\0';
	range[0] = 0;
	range[1] = 65535;
	if (*buf && parse_one_port(buf, proto, &range[0]))
		return RT_EPARAM;
	if (colon[1] && parse_one_port(colon + 1, proto, &range[1]))
		return RT_EPARAM;
	if (range[0] > range[1])
		return rt_param("bad port range " RT_Q " (min > max)",
				quote_arg(s));
	return 0;
}

/* -m multiport: up to 15 ports, a range "P:Q" (P < Q) counting two. */
int rtp_parse_mports(const char *s, const char *proto,
		     struct viplb_rule_spec *spec)
{
	char buf[512], *item, *next, *colon;
	unsigned int slots = 0;
	uint16_t lo, hi;

	if (strlen(s) >= sizeof(buf))
		return rt_param("too many ports in " RT_Q, quote_arg(s));
	strcpy(buf, s);
	for (item = buf; item; item = next) {
		next = strchr(item, ',');
		if (next)
			*next++ = '\0';
		colon = strchr(item, ':');
		if (colon)
			*colon = '\0';
		if (parse_one_port(item, proto, &lo))
			return RT_EPARAM;
		hi = lo;
		if (colon) {
			if (parse_one_port(colon + 1, proto, &hi))
				return RT_EPARAM;
			if (lo >= hi) {
				*colon = ':';
				return rt_param("bad port range " RT_Q
						" (min >= max)",
						quote_arg(item));
			}
		}
		slots += colon ? 2 : 1;
		if (slots > VIPLB_MPORTS_MAX)
			return rt_param("too many ports in " RT_Q
					" (at most 15, a range counts as two)",
					quote_arg(s));
		spec->mports[spec->n_mports][0] = lo;
		spec->mports[spec->n_mports][1] = hi;
		spec->n_mports++;
	}
	return 0;
}

/* Addresses */

/* IPv4 as iptables reads it: 1 to 4 decimal bytes, missing ones 0. */
static bool parse_ipv4(const char *s, uint32_t *addr)
{
	unsigned long long v;
	char buf[INET_ADDRSTRLEN], *part, *next;
	uint32_t a = 0;
	int n = 0;

	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	for (part = buf; part; part = next) {
		next = strchr(part, '.');
		if (next)
			*next++ = '\0';
		if (n == 4 || !rtp_parse_decimal(part, 255, &v))
			return false;
		a |= v << (24 - 8 * n++);
	}
	*addr = a;
	return true;
}

static void prefix_mask(uint16_t af, unsigned int len, __be32 mask[4])
{
	unsigned int i, bits = af == AF_INET ? 32 : 128;

	memset(mask, 0, 16);
	for (i = 0; i < bits / 32; i++) {
		unsigned int n = len > 32 * i ? len - 32 * i : 0;

		if (n >= 32)
			mask[i] = htonl(0xffffffff);
		else if (n)
			mask[i] = htonl(~0U << (32 - n));
	}
}

/* -s and -d: ADDR[/LEN|/MASK] of the family, the address masked. */
int rtp_parse_host_mask(uint16_t af, const char *s, __be32 addr[4],
			__be32 mask[4])
{
	char buf[INET6_ADDRSTRLEN + 64], *slash;
	unsigned long long len;
	uint32_t a4;

	if (strchr(s, ','))
		return rt_param("unsupported address list " RT_Q
				" (give one address per rule)",
				quote_arg(s));
	if (strlen(s) >= sizeof(buf))
		return rt_param("bad address " RT_Q, quote_arg(s));
	strcpy(buf, s);
	memset(addr, 0, 16);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	if (af == AF_INET) {
		if (!parse_ipv4(buf, &a4))
			goto bad_addr;
		addr[0] = htonl(a4);
	} else if (inet_pton(AF_INET6, buf, addr) != 1) {
		goto bad_addr;
	}
	if (!slash) {
		prefix_mask(af, af == AF_INET ? 32 : 128, mask);
	} else if (rtp_parse_decimal(slash, af == AF_INET ? 32 : 128, &len)) {
		prefix_mask(af, len, mask);
	} else if (af == AF_INET && strchr(slash, '.') &&
		   parse_ipv4(slash, &a4)) {
		memset(mask, 0, 16);
		mask[0] = htonl(a4);
	} else if (af == AF_INET6 && strchr(slash, ':') &&
		   inet_pton(AF_INET6, slash, mask) == 1) {
	} else {
		return rt_param("bad mask " RT_Q " in " RT_Q, quote_arg(slash),
				quote_arg(s));
	}
	return 0;

bad_addr:
	return rt_param("bad address " RT_Q, quote_arg(s));
}

int rtp_parse_addr_mask(uint16_t af, const char *s, __be32 addr[4],
			__be32 mask[4])
{
	int i, ret = rtp_parse_host_mask(af, s, addr, mask);

	for (i = 0; i < 4; i++)
		addr[i] &= mask[i];
	return ret;
}

/* An address of a NAT range: exact syntax, no host names. */
static bool nat_addr(uint16_t af, const char *s, __be32 addr[4])
{
	memset(addr, 0, 16);
	return inet_pton(af, s, addr) == 1;
}

static int addr_cmp(const __be32 a[4], const __be32 b[4])
{
	return memcmp(a, b, 16);
}

/*
 * "P" or "P-Q" of NAT targets (ports may be service names), in whole; for
 * DNAT also "P-Q/B" (port B and up map to P and up, B may be a name).
 */
int rtp_parse_nat_ports(const char *s, const char *whole,
			struct viplb_rule_spec *spec)
{
	char buf[128], *dash, *slash;

	if (strchr(s, ':'))
		return rt_param("bad port range " RT_Q " (use P-Q)",
				quote_arg(s));
	if (strlen(s) >= sizeof(buf))
		return rt_param("bad port " RT_Q, quote_arg(s));
	strcpy(buf, s);
	/*
	 * As iptables: one number or service name (which may hold a dash:
	 * "ftp-data"), else a range of two numbers ("ftp-ssh" is neither).
	 */
	if (port_value(buf, RTP_ANY_PROTO, &spec->nat_port_min)) {
		spec->nat_port_max = spec->nat_port_min;
	} else {
		dash = strchr(buf, '-');
		if (!dash)
			return rt_param("bad port " RT_Q, quote_arg(s));
		*dash++ = '\0';
		slash = strchr(dash, '/');
		if (slash)
			*slash++ = '\0';
		if (!port_value(buf, NULL, &spec->nat_port_min) ||
		    !port_value(dash, NULL, &spec->nat_port_max))
			return rt_param("bad port range " RT_Q, quote_arg(s));
		if (slash && spec->verdict != VIPLB_V_DNAT)
			return rt_param("a port offset (" RT_Q
					") is for DNAT only",
					quote_arg(s));
		if (slash &&
		    (!port_value(slash, RTP_ANY_PROTO, &spec->nat_port_base) ||
		     !spec->nat_port_base))
			return rt_param("bad base port " RT_Q " in " RT_Q,
					quote_arg(slash), quote_arg(whole));
		if (slash)
			spec->nat_flags |= VIPLB_NAT_F_PORT_OFFSET;
	}
	if (spec->nat_port_min > spec->nat_port_max)
		return rt_param("bad port range " RT_Q " (min > max)",
				quote_arg(s));
	spec->nat_flags |= VIPLB_NAT_F_PORTS;
	return 0;
}

/* "A[-B]" of a NAT range, into nat_min and nat_max. */
static int parse_nat_addrs(uint16_t af, char *s, const char *whole,
			   struct viplb_rule_spec *spec)
{
	char *dash = strchr(s, '-');

	if (dash)
		*dash++ = '\0';
	if (!nat_addr(af, s, spec->nat_min) ||
	    (dash && !nat_addr(af, dash, spec->nat_max)))
		return rt_param("bad address in " RT_Q, quote_arg(whole));
	if (!dash)
		memcpy(spec->nat_max, spec->nat_min, 16);
	if (addr_cmp(spec->nat_min, spec->nat_max) > 0)
		return rt_param("bad address range in " RT_Q " (min > max)",
				quote_arg(whole));
	spec->nat_flags |= VIPLB_NAT_F_ADDR;
	return 0;
}

/*
 * --to-destination and --to-source: IPv4 "[A[-B]][:P[-Q]]"; IPv6
 * "A[-B]", "[A[-B]]", "[A[-B]]:P[-Q]" or ":P[-Q]".
 */
int rtp_parse_nat_range(uint16_t af, const char *s,
			struct viplb_rule_spec *spec)
{
	char buf[2 * INET6_ADDRSTRLEN + 64], *ports = NULL, *addrs = buf;
	char *end;

	if (strlen(s) >= sizeof(buf) || !*s)
		return rt_param("bad range " RT_Q, quote_arg(s));
	strcpy(buf, s);
	if (af == AF_INET) {
		ports = strchr(buf, ':');
		if (ports)
			*ports++ = '\0';
	} else if (buf[0] == '[') {
		end = strchr(buf, ']');
		if (!end || (end[1] && end[1] != ':'))
			return rt_param("bad range " RT_Q, quote_arg(s));
		*end = '\0';
		addrs = buf + 1;
		if (end[1] == ':')
			ports = end + 2;
	} else if (buf[0] == ':' && buf[1] != ':') {
		addrs = buf + 1 + strlen(buf + 1); /* "" */
		ports = buf + 1;
	}
	if (*addrs && parse_nat_addrs(af, addrs, s, spec))
		return RT_EPARAM;
	if (ports && rtp_parse_nat_ports(ports, s, spec))
		return RT_EPARAM;
	if (!spec->nat_flags)
		return rt_param("bad range " RT_Q, quote_arg(s));
	return 0;
}

/* Other values */

int rtp_parse_iface(const char *s, char name[VIPLB_IFNAME_MAX])
{
	size_t len = strlen(s);

	if (!len)
		return rt_param("bad interface name \"\"");
	if (len >= VIPLB_IFNAME_MAX)
		return rt_param("interface name " RT_Q
				" too long (must be shorter than %d)",
				quote_arg(s), VIPLB_IFNAME_MAX);
	memcpy(name, s, len + 1);
	return 0;
}

/* --ctstate (nat_states: SNAT and DNAT too) and --state. */
int rtp_parse_ctstates(const char *s, bool nat_states, uint8_t *states)
{
	static const struct {
		const char *name;
		uint8_t bit;
	} names[] = {
		{ "INVALID", VIPLB_CTSTATE_INVALID },
		{ "NEW", VIPLB_CTSTATE_NEW },
		{ "ESTABLISHED", VIPLB_CTSTATE_ESTABLISHED },
		{ "RELATED", VIPLB_CTSTATE_RELATED },
		{ "UNTRACKED", VIPLB_CTSTATE_UNTRACKED },
		{ "SNAT", VIPLB_CTSTATE_SNAT },
		{ "DNAT", VIPLB_CTSTATE_DNAT },
	};
	char buf[256], *item, *next;
	size_t i, n = ARRAY_SIZE(names) - (nat_states ? 0 : 2);

	if (strlen(s) >= sizeof(buf))
		return rt_param("bad state " RT_Q, quote_arg(s));
	strcpy(buf, s);
	*states = 0;
	for (item = buf; item; item = next) {
		next = strchr(item, ',');
		if (next)
			*next++ = '\0';
		for (i = 0; i < n; i++)
			if (!strcasecmp(item, names[i].name))
				break;
		if (i == n)
			return rt_param("bad state " RT_Q, quote_arg(item));
		*states |= names[i].bit;
	}
	return 0;
}

/* --ctstatus: NONE (no bit) or some of the others. */
int rtp_parse_ctstatus(const char *s, uint8_t *status)
{
	static const struct {
		const char *name;
		uint8_t bit;
	} names[] = {
		{ "NONE", 0 },
		{ "EXPECTED", VIPLB_CTSTATUS_EXPECTED },
		{ "SEEN_REPLY", VIPLB_CTSTATUS_SEEN_REPLY },
		{ "ASSURED", VIPLB_CTSTATUS_ASSURED },
		{ "CONFIRMED", VIPLB_CTSTATUS_CONFIRMED },
	};
	char buf[256], *item, *next;
	size_t i;

	if (strlen(s) >= sizeof(buf))
		return rt_param("bad ctstatus " RT_Q, quote_arg(s));
	strcpy(buf, s);
	*status = 0;
	for (item = buf; item; item = next) {
		next = strchr(item, ',');
		if (next)
			*next++ = '\0';
		for (i = 0; i < ARRAY_SIZE(names); i++)
			if (!strcasecmp(item, names[i].name))
				break;
		if (i == ARRAY_SIZE(names))
			return rt_param("bad ctstatus " RT_Q, quote_arg(item));
		*status |= names[i].bit;
	}
	return 0;
}

/*
 * --ctexpire: "N", "N:M", ":M", "N:" or ":" of 32-bit numbers.  As the
 * newer iptables (Debian's 1.8.9 takes it), N > M is refused.
 */
int rtp_parse_u32_range(const char *s, uint32_t range[2])
{
	char buf[64], *colon;
	unsigned long long lo = 0, hi = UINT32_MAX;

	if (strlen(s) >= sizeof(buf))
		goto bad;
	strcpy(buf, s);
	colon = strchr(buf, ':');
	if (colon)
		*colon++ = '\0';
	if ((*buf || !colon) && !rtp_parse_number(buf, UINT32_MAX, &lo))
		goto bad;
	if (!colon)
		hi = lo;
	else if (*colon && !rtp_parse_number(colon, UINT32_MAX, &hi))
		goto bad;
	if (lo > hi)
		return rt_param("bad range " RT_Q " (min > max)", quote_arg(s));
	range[0] = lo;
	range[1] = hi;
	return 0;
bad:
	return rt_param("bad value " RT_Q, quote_arg(s));
}

/* MARK values: "V" or "V/M" (M defaults to all ones). */
int rtp_parse_mark(const char *s, bool mask_ok, uint32_t *val, uint32_t *mask)
{
	char buf[64], *slash;
	unsigned long long v, m = 0xffffffff;

	if (strlen(s) >= sizeof(buf))
		goto bad;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash) {
		*slash++ = '\0';
		if (!mask_ok || !rtp_parse_number(slash, 0xffffffff, &m))
			goto bad;
	}
	if (!rtp_parse_number(buf, 0xffffffff, &v))
		goto bad;
	*val = v;
	*mask = m;
	return 0;
bad:
	return rt_param("bad mark " RT_Q, quote_arg(s));
}

int rtp_parse_tcp_flags(const char *s, unsigned int *flags)
{
	static const struct {
		const char *name;
		unsigned int bits;
	} names[] = {
		{ "FIN", RT_TCPF_FIN }, { "SYN", RT_TCPF_SYN }, { "RST", RT_TCPF_RST },
		{ "PSH", RT_TCPF_PSH }, { "ACK", RT_TCPF_ACK }, { "URG", RT_TCPF_URG },
		{ "ALL", 0x3f },     { "NONE", 0 },
	};
	char buf[128], *item, *next;
	size_t i;

	if (strlen(s) >= sizeof(buf))
		return rt_param("bad TCP flags " RT_Q, quote_arg(s));
	strcpy(buf, s);
	*flags = 0;
	for (item = buf; item; item = next) {
		next = strchr(item, ',');
		if (next)
			*next++ = '\0';
		for (i = 0; i < ARRAY_SIZE(names); i++)
			if (!strcasecmp(item, names[i].name))
				break;
		if (i == ARRAY_SIZE(names))
			return rt_param("bad TCP flag " RT_Q, quote_arg(item));
		*flags |= names[i].bits;
	}
	return 0;
}

struct reject_name {
	const char *name;
	const char *alias;
	int type; /* enum viplb_reject, or -1: not supported */
};

static const struct reject_name reject4[] = {
	{ "icmp-net-unreachable", "net-unreach", VIPLB_REJECT_NET_UNREACH },
	{ "icmp-host-unreachable", "host-unreach", VIPLB_REJECT_HOST_UNREACH },
	{ "icmp-proto-unreachable", "proto-unreach",
	  VIPLB_REJECT_PROTO_UNREACH },
	{ "icmp-port-unreachable", "port-unreach", VIPLB_REJECT_PORT_UNREACH },
	{ "icmp-net-prohibited", "net-prohib", VIPLB_REJECT_NET_PROHIBITED },
	{ "icmp-host-prohibited", "host-prohib", VIPLB_REJECT_HOST_PROHIBITED },
	{ "tcp-reset", "tcp-rst", VIPLB_REJECT_TCP_RESET },
	{ "icmp-admin-prohibited", "admin-prohib",
	  VIPLB_REJECT_ADMIN_PROHIBITED },
};

static const struct reject_name reject6[] = {
	{ "icmp6-no-route", "no-route", VIPLB_REJECT_NET_UNREACH },
	{ "icmp6-adm-prohibited", "adm-prohibited",
	  VIPLB_REJECT_ADMIN_PROHIBITED },
	{ "icmp6-addr-unreachable", "addr-unreach", VIPLB_REJECT_HOST_UNREACH },
	{ "icmp6-port-unreachable", "port-unreach", VIPLB_REJECT_PORT_UNREACH },
	{ "tcp-reset", NULL, VIPLB_REJECT_TCP_RESET },
	{ "icmp6-policy-fail", "policy-fail", VIPLB_REJECT_POLICY_FAIL },
	{ "icmp6-reject-route", "reject-route", VIPLB_REJECT_REJECT_ROUTE },
};

int rtp_parse_reject(uint16_t af, const char *s, uint32_t *type)
{
	const struct reject_name *names = af == AF_INET ? reject4 : reject6;
	size_t i, n = af == AF_INET ? ARRAY_SIZE(reject4) : ARRAY_SIZE(reject6);

	for (i = 0; i < n; i++) {
		if (strcmp(s, names[i].name) &&
		    (!names[i].alias || strcmp(s, names[i].alias)))
			continue;
		if (names[i].type < 0)
			return rt_param("unsupported reject type " RT_Q,
					quote_arg(s));
		*type = names[i].type;
		return 0;
	}
	return rt_param("bad reject type " RT_Q, quote_arg(s));
}

int rt_parse_policy(const char *s, uint32_t table, uint32_t *policy)
{
	if (!strcmp(s, "ACCEPT")) {
		*policy = VIPLB_V_ACCEPT;
		return 0;
	}
	if (!strcmp(s, "DROP")) {
		if (table == VIPLB_RTABLE_NAT)
			return rt_param(
				"the \"nat\" table is not intended for filtering, the use of DROP is therefore inhibited");
		*policy = VIPLB_V_DROP;
		return 0;
	}
	return rt_param("bad policy " RT_Q " (use ACCEPT or DROP)",
			quote_arg(s));
}
