// SPDX-License-Identifier: GPL-2.0
/*
 * The iptables command-line syntax of viplb-tables and of viplb-restore
 * lines, parsed into struct rt_cmd.  See tables.h.
 *
 * Options are scanned as getopt_long() scans iptables' options: short
 * options may be bundled ("-nvL"), a required argument may be glued to
 * its option ("-tnat", "--dport=22"), and a long option may be shortened
 * to any unique prefix of the options in use.  As in iptables, the
 * options of a match or target exist only once it is loaded: with -m, or
 * for tcp and udp implicitly by -p, or with -j.  "!" before an option
 * negates it.  Each value is checked here, with the rule as a whole
 * (protocol needed by ports, targets allowed in the table and chain) at
 * the end, so that nothing reaches the kernel that iptables would refuse.
 *
 * Everything the kernel module cannot do is refused with a message naming
 * the option or value, never ignored; so is what it would do otherwise
 * than iptables: a match after -m statistic (the module evaluates
 * statistic last, iptables in order).  The order the matches were loaded
 * in, and -m state versus -m conntrack, go to the kernel as the rule's
 * VIPLB_RULES_A_MATCH_ORDER (format in tables.h) for the listings.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "parse.h"
#include "tables.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Where an option comes from: the base command or a match or target. */
enum rt_mod {
	MOD_GENERAL,
	MOD_TCP,
	MOD_UDP,
	MOD_MULTIPORT,
	MOD_CONNTRACK,
	MOD_STATE,
	MOD_STATISTIC,
	MOD_COMMENT,
	MOD_MARK,
	MOD_REJECT,
	MOD_DNAT,
	MOD_SNAT,
	MOD_MASQUERADE,
	MOD_REDIRECT,
	MOD_MARK_TARGET,
	MOD_OTHER, /* iptables extensions viplb does not have */
	NR_MODS
};

#define FIRST_TARGET_MOD MOD_REJECT

static const char *const mod_names[NR_MODS] = {
	[MOD_TCP] = "tcp",
	[MOD_UDP] = "udp",
	[MOD_MULTIPORT] = "multiport",
	[MOD_CONNTRACK] = "conntrack",
	[MOD_STATE] = "state",
	[MOD_STATISTIC] = "statistic",
	[MOD_COMMENT] = "comment",
	[MOD_MARK] = "mark",
	[MOD_REJECT] = "REJECT",
	[MOD_DNAT] = "DNAT",
	[MOD_SNAT] = "SNAT",
	[MOD_MASQUERADE] = "MASQUERADE",
	[MOD_REDIRECT] = "REDIRECT",
	[MOD_MARK_TARGET] = "MARK",
};

/* The kind of a match module in VIPLB_RULES_A_MATCH_ORDER. */
static const uint8_t mod_order_kinds[FIRST_TARGET_MOD] = {
	[MOD_TCP] = RT_ORDER_TCP,
	[MOD_UDP] = RT_ORDER_UDP,
	[MOD_MULTIPORT] = RT_ORDER_MULTIPORT,
	[MOD_CONNTRACK] = RT_ORDER_CONNTRACK,
	[MOD_STATE] = RT_ORDER_STATE,
	[MOD_STATISTIC] = RT_ORDER_STATISTIC,
	[MOD_COMMENT] = RT_ORDER_COMMENT,
	[MOD_MARK] = RT_ORDER_MARK,
};

enum rt_opt_id {
	O_APPEND,
	O_CHECK,
	O_DELETE,
	O_REPLACE,
	O_INSERT,
	O_LIST,
	O_LIST_RULES,
	O_FLUSH,
	O_ZERO,
	O_NEW_CHAIN,
	O_DELETE_CHAIN,
	O_POLICY,
	O_RENAME,
	O_HELP,
	O_VERSION,
	O_TABLE,
	O_IPV4,
	O_IPV6,
	O_NUMERIC,
	O_VERBOSE,
	O_EXACT,
	O_LINE_NUMBERS,
	O_PROTO,
	O_SOURCE,
	O_DEST,
	O_IN,
	O_OUT,
	O_JUMP,
	O_GOTO,
	O_MATCH,
	O_COUNTERS,
	O_WAIT,
	O_WAIT_INTERVAL,
	O_JSON,
	O_PRETTY,
	O_OFFLINE,
	O_SPORT,
	O_DPORT,
	O_SYN,
	O_TCP_FLAGS,
	O_SPORTS,
	O_DPORTS,
	O_PORTS,
	O_CTSTATE,
	O_STATE,
	O_MODE,
	O_PROBABILITY,
	O_EVERY,
	O_PACKET,
	O_COMMENT,
	O_MARK,
	O_REJECT_WITH,
	O_TO_DEST,
	O_TO_SRC,
	O_TO_PORTS,
	O_RANDOM,
	O_RANDOM_FULLY,
	O_PERSISTENT,
	O_SET_XMARK,
	O_SET_MARK,
	O_AND_MARK,
	O_OR_MARK,
	O_XOR_MARK,
	O_UNSUPPORTED,
	NR_OPTS
};

enum { ARG_NONE, ARG_REQUIRED, ARG_OPTIONAL };

#define OPTF_INVERT 1 /* "!" may come before it */

struct rt_optdef {
	const char *name; /* long name, without "--" */
	char short_name; /* 0 if none */
	uint8_t arg;
	uint8_t mod;
	uint8_t id;
	uint8_t flags;
};

static const struct rt_optdef opts[] = {
	/* Commands and general options: always there. */
	{ "append", 'A', ARG_REQUIRED, MOD_GENERAL, O_APPEND, 0 },
	{ "check", 'C', ARG_REQUIRED, MOD_GENERAL, O_CHECK, 0 },
	{ "delete", 'D', ARG_REQUIRED, MOD_GENERAL, O_DELETE, 0 },
	{ "replace", 'R', ARG_REQUIRED, MOD_GENERAL, O_REPLACE, 0 },
	{ "insert", 'I', ARG_REQUIRED, MOD_GENERAL, O_INSERT, 0 },
	{ "list", 'L', ARG_OPTIONAL, MOD_GENERAL, O_LIST, 0 },
	{ "list-rules", 'S', ARG_OPTIONAL, MOD_GENERAL, O_LIST_RULES, 0 },
	{ "flush", 'F', ARG_OPTIONAL, MOD_GENERAL, O_FLUSH, 0 },
	{ "zero", 'Z', ARG_OPTIONAL, MOD_GENERAL, O_ZERO, 0 },
	{ "new-chain", 'N', ARG_REQUIRED, MOD_GENERAL, O_NEW_CHAIN, 0 },
	{ "delete-chain", 'X', ARG_OPTIONAL, MOD_GENERAL, O_DELETE_CHAIN, 0 },
	{ "policy", 'P', ARG_REQUIRED, MOD_GENERAL, O_POLICY, 0 },
	{ "rename-chain", 'E', ARG_REQUIRED, MOD_GENERAL, O_RENAME, 0 },
	{ "help", 'h', ARG_NONE, MOD_GENERAL, O_HELP, 0 },
	{ "version", 'V', ARG_NONE, MOD_GENERAL, O_VERSION, 0 },
	{ "table", 't', ARG_REQUIRED, MOD_GENERAL, O_TABLE, 0 },
	{ "ipv4", '4', ARG_NONE, MOD_GENERAL, O_IPV4, 0 },
	{ "ipv6", '6', ARG_NONE, MOD_GENERAL, O_IPV6, 0 },
	{ "numeric", 'n', ARG_NONE, MOD_GENERAL, O_NUMERIC, 0 },
	{ "verbose", 'v', ARG_NONE, MOD_GENERAL, O_VERBOSE, 0 },
	{ "exact", 'x', ARG_NONE, MOD_GENERAL, O_EXACT, 0 },
	{ "line-numbers", 0, ARG_NONE, MOD_GENERAL, O_LINE_NUMBERS, 0 },
	{ "protocol", 'p', ARG_REQUIRED, MOD_GENERAL, O_PROTO, OPTF_INVERT },
	{ "source", 's', ARG_REQUIRED, MOD_GENERAL, O_SOURCE, OPTF_INVERT },
	{ "src", 0, ARG_REQUIRED, MOD_GENERAL, O_SOURCE, OPTF_INVERT },
	{ "destination", 'd', ARG_REQUIRED, MOD_GENERAL, O_DEST, OPTF_INVERT },
	{ "dst", 0, ARG_REQUIRED, MOD_GENERAL, O_DEST, OPTF_INVERT },
	{ "in-interface", 'i', ARG_REQUIRED, MOD_GENERAL, O_IN, OPTF_INVERT },
	{ "out-interface", 'o', ARG_REQUIRED, MOD_GENERAL, O_OUT, OPTF_INVERT },
	{ "jump", 'j', ARG_REQUIRED, MOD_GENERAL, O_JUMP, 0 },
	{ "goto", 'g', ARG_REQUIRED, MOD_GENERAL, O_GOTO, 0 },
	{ "match", 'm', ARG_REQUIRED, MOD_GENERAL, O_MATCH, 0 },
	{ "set-counters", 'c', ARG_REQUIRED, MOD_GENERAL, O_COUNTERS, 0 },
	{ "wait", 'w', ARG_OPTIONAL, MOD_GENERAL, O_WAIT, 0 },
	{ "wait-interval", 'W', ARG_REQUIRED, MOD_GENERAL, O_WAIT_INTERVAL, 0 },
	{ "json", 0, ARG_NONE, MOD_GENERAL, O_JSON, 0 },
	{ "pretty", 0, ARG_NONE, MOD_GENERAL, O_PRETTY, 0 },
	{ "offline", 0, ARG_REQUIRED, MOD_GENERAL, O_OFFLINE, 0 },
	{ "fragment", 'f', ARG_NONE, MOD_GENERAL, O_UNSUPPORTED, OPTF_INVERT },
	{ "modprobe", 'M', ARG_REQUIRED, MOD_GENERAL, O_UNSUPPORTED, 0 },
	/* -m tcp, and -p tcp implicitly */
	{ "source-port", 0, ARG_REQUIRED, MOD_TCP, O_SPORT, OPTF_INVERT },
	{ "sport", 0, ARG_REQUIRED, MOD_TCP, O_SPORT, OPTF_INVERT },
	{ "destination-port", 0, ARG_REQUIRED, MOD_TCP, O_DPORT, OPTF_INVERT },
	{ "dport", 0, ARG_REQUIRED, MOD_TCP, O_DPORT, OPTF_INVERT },
	{ "syn", 0, ARG_NONE, MOD_TCP, O_SYN, OPTF_INVERT },
	{ "tcp-flags", 0, ARG_REQUIRED, MOD_TCP, O_TCP_FLAGS, OPTF_INVERT },
	{ "tcp-option", 0, ARG_REQUIRED, MOD_TCP, O_UNSUPPORTED, OPTF_INVERT },
	/* -m udp, and -p udp implicitly */
	{ "source-port", 0, ARG_REQUIRED, MOD_UDP, O_SPORT, OPTF_INVERT },
	{ "sport", 0, ARG_REQUIRED, MOD_UDP, O_SPORT, OPTF_INVERT },
	{ "destination-port", 0, ARG_REQUIRED, MOD_UDP, O_DPORT, OPTF_INVERT },
	{ "dport", 0, ARG_REQUIRED, MOD_UDP, O_DPORT, OPTF_INVERT },
	/* -m multiport */
	{ "source-ports", 0, ARG_REQUIRED, MOD_MULTIPORT, O_SPORTS,
	  OPTF_INVERT },
	{ "sports", 0, ARG_REQUIRED, MOD_MULTIPORT, O_SPORTS, OPTF_INVERT },
	{ "destination-ports", 0, ARG_REQUIRED, MOD_MULTIPORT, O_DPORTS,
	  OPTF_INVERT },
	{ "dports", 0, ARG_REQUIRED, MOD_MULTIPORT, O_DPORTS, OPTF_INVERT },
	{ "ports", 0, ARG_REQUIRED, MOD_MULTIPORT, O_PORTS, OPTF_INVERT },
	/* -m conntrack: only --ctstate */
	{ "ctstate", 0, ARG_REQUIRED, MOD_CONNTRACK, O_CTSTATE, OPTF_INVERT },
	{ "ctproto", 0, ARG_REQUIRED, MOD_CONNTRACK, O_UNSUPPORTED,
	  OPTF_INVERT },
	{ "ctorigsrc", 0, ARG_REQUIRED, MOD_CONNTRACK, O_UNSUPPORTED,
	  OPTF_INVERT },
	{ "ctorigdst", 0, ARG_REQUIRED, MOD_CONNTRACK, O_UNSUPPORTED,
	  OPTF_INVERT },
	{ "ctreplsrc", 0, ARG_REQUIRED, MOD_CONNTRACK, O_UNSUPPORTED,
	  OPTF_INVERT },
	{ "ctrepldst", 0, ARG_REQUIRED, MOD_CONNTRACK, O_UNSUPPORTED,
	  OPTF_INVERT },
	{ "ctorigsrcport", 0, ARG_REQUIRED, MOD_CONNTRACK, O_UNSUPPORTED,
	  OPTF_INVERT },
	{ "ctorigdstport", 0, ARG_REQUIRED, MOD_CONNTRACK, O_UNSUPPORTED,
	  OPTF_INVERT },
	{ "ctreplsrcport", 0, ARG_REQUIRED, MOD_CONNTRACK, O_UNSUPPORTED,
	  OPTF_INVERT },
	{ "ctrepldstport", 0, ARG_REQUIRED, MOD_CONNTRACK, O_UNSUPPORTED,
	  OPTF_INVERT },
	{ "ctstatus", 0, ARG_REQUIRED, MOD_CONNTRACK, O_UNSUPPORTED,
	  OPTF_INVERT },
	{ "ctexpire", 0, ARG_REQUIRED, MOD_CONNTRACK, O_UNSUPPORTED,
	  OPTF_INVERT },
	{ "ctdir", 0, ARG_REQUIRED, MOD_CONNTRACK, O_UNSUPPORTED, 0 },
	/* -m state */
	{ "state", 0, ARG_REQUIRED, MOD_STATE, O_STATE, OPTF_INVERT },
	/* -m statistic */
	{ "mode", 0, ARG_REQUIRED, MOD_STATISTIC, O_MODE, 0 },
	{ "probability", 0, ARG_REQUIRED, MOD_STATISTIC, O_PROBABILITY,
	  OPTF_INVERT },
	{ "every", 0, ARG_REQUIRED, MOD_STATISTIC, O_EVERY, OPTF_INVERT },
	{ "packet", 0, ARG_REQUIRED, MOD_STATISTIC, O_PACKET, 0 },
	/* -m comment */
	{ "comment", 0, ARG_REQUIRED, MOD_COMMENT, O_COMMENT, 0 },
	/* -m mark */
	{ "mark", 0, ARG_REQUIRED, MOD_MARK, O_MARK, OPTF_INVERT },
	/* -j REJECT */
	{ "reject-with", 0, ARG_REQUIRED, MOD_REJECT, O_REJECT_WITH, 0 },
	/* -j DNAT */
	{ "to-destination", 0, ARG_REQUIRED, MOD_DNAT, O_TO_DEST, 0 },
	{ "random", 0, ARG_NONE, MOD_DNAT, O_RANDOM, 0 },
	{ "persistent", 0, ARG_NONE, MOD_DNAT, O_PERSISTENT, 0 },
	/* -j SNAT */
	{ "to-source", 0, ARG_REQUIRED, MOD_SNAT, O_TO_SRC, 0 },
	{ "random", 0, ARG_NONE, MOD_SNAT, O_RANDOM, 0 },
	{ "random-fully", 0, ARG_NONE, MOD_SNAT, O_RANDOM_FULLY, 0 },
	{ "persistent", 0, ARG_NONE, MOD_SNAT, O_PERSISTENT, 0 },
	/* -j MASQUERADE */
	{ "to-ports", 0, ARG_REQUIRED, MOD_MASQUERADE, O_TO_PORTS, 0 },
	{ "random", 0, ARG_NONE, MOD_MASQUERADE, O_RANDOM, 0 },
	{ "random-fully", 0, ARG_NONE, MOD_MASQUERADE, O_RANDOM_FULLY, 0 },
	/* -j REDIRECT */
	{ "to-ports", 0, ARG_REQUIRED, MOD_REDIRECT, O_TO_PORTS, 0 },
	{ "random", 0, ARG_NONE, MOD_REDIRECT, O_RANDOM, 0 },
	/* -j MARK */
	{ "set-xmark", 0, ARG_REQUIRED, MOD_MARK_TARGET, O_SET_XMARK, 0 },
	{ "set-mark", 0, ARG_REQUIRED, MOD_MARK_TARGET, O_SET_MARK, 0 },
	{ "and-mark", 0, ARG_REQUIRED, MOD_MARK_TARGET, O_AND_MARK, 0 },
	{ "or-mark", 0, ARG_REQUIRED, MOD_MARK_TARGET, O_OR_MARK, 0 },
	{ "xor-mark", 0, ARG_REQUIRED, MOD_MARK_TARGET, O_XOR_MARK, 0 },
	/* Options of other iptables extensions, named in errors only. */
	{ "icmp-type", 0, ARG_REQUIRED, MOD_OTHER, O_UNSUPPORTED, 0 },
	{ "icmpv6-type", 0, ARG_REQUIRED, MOD_OTHER, O_UNSUPPORTED, 0 },
};

/* Targets of -j: verdict and the module holding their options. */
static const struct {
	const char *name;
	uint32_t verdict;
	uint8_t mod; /* MOD_GENERAL: no options */
} targets[] = {
	{ "ACCEPT", VIPLB_V_ACCEPT, MOD_GENERAL },
	{ "DROP", VIPLB_V_DROP, MOD_GENERAL },
	{ "RETURN", VIPLB_V_RETURN, MOD_GENERAL },
	{ "REJECT", VIPLB_V_REJECT, MOD_REJECT },
	{ "DNAT", VIPLB_V_DNAT, MOD_DNAT },
	{ "SNAT", VIPLB_V_SNAT, MOD_SNAT },
	{ "MASQUERADE", VIPLB_V_MASQUERADE, MOD_MASQUERADE },
	{ "REDIRECT", VIPLB_V_REDIRECT, MOD_REDIRECT },
	{ "MARK", VIPLB_V_MARK, MOD_MARK_TARGET },
};

/* iptables targets viplb does not have (Debian 12's xtables). */
static const char *const other_targets[] = {
	"AUDIT",       "CHECKSUM",    "CLASSIFY",  "CLUSTERIP", "CONNMARK",
	"CONNSECMARK", "CT",	      "DNPT",	   "DSCP",	"ECN",
	"HL",	       "HMARK",	      "IDLETIMER", "LED",	"LOG",
	"NETMAP",      "NFLOG",	      "NFQUEUE",   "NOTRACK",	"QUEUE",
	"RATEEST",     "SECMARK",     "SET",	   "SNPT",	"SYNPROXY",
	"TCPMSS",      "TCPOPTSTRIP", "TEE",	   "TOS",	"TPROXY",
	"TRACE",       "TTL",	      "ULOG",	   "ERROR",
};

struct reject_name {
	const char *name;
	const char *alias;
	int type; /* enum viplb_reject, or -1: not supported */
};

static const struct reject_name reject4[] = {
	{ "icmp-net-unreachable", "net-unreach", VIPLB_REJECT_NET_UNREACH },
	{ "icmp-host-unreachable", "host-unreach", VIPLB_REJECT_HOST_UNREACH },
	{ "icmp-proto-unreachable", "proto-unreach", -1 },
	{ "icmp-port-unreachable", "port-unreach", VIPLB_REJECT_PORT_UNREACH },
	{ "icmp-net-prohibited", "net-prohib", -1 },
	{ "icmp-host-prohibited", "host-prohib", -1 },
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
	{ "icmp6-policy-fail", "policy-fail", -1 },
	{ "icmp6-reject-route", "reject-route", -1 },
};

/* TCP flag bits as in the TCP header, for --tcp-flags. */
#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_PSH 0x08
#define TCPF_ACK 0x10
#define TCPF_URG 0x20

struct parser {
	const struct rt_parse_env *env;
	struct rt_cmd *cmd;
	int argc;
	char **argv;
	int next; /* index of the next argv element */
	uint16_t af;
	uint16_t switch_af; /* set when -4/-6 ask for the other family */
	bool invert; /* a "!" waits for its option */
	unsigned int mods; /* loaded modules, 1 << MOD_* */
	int target_mod; /* module of the -j target, MOD_GENERAL if none */
	char cmd_name[24]; /* first command's option, for messages */
	const char *policy; /* -P's policy, checked once -t is known */
	uint8_t seen[NR_OPTS];
	/* Matches in the order they were loaded (enum rt_order_kind). */
	uint8_t order[FIRST_TARGET_MOD];
	unsigned int n_order;
	/* Tracked for the final checks. */
	bool has_mport_opt;
	bool has_syn_opt;
	bool stat_prob;
	bool stat_every;
	bool stat_packet;
	bool nat_range;
	int mark_op; /* O_SET_XMARK... or 0 */
};

/* Numbers */

/* An unsigned number in C syntax (0x.., 0.., decimal), as iptables. */
static bool parse_number(const char *s, unsigned long long max,
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
static bool parse_decimal(const char *s, unsigned long long max,
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

static int parse_rulenum(const char *s, unsigned int *num)
{
	unsigned long long v;

	if (!parse_decimal(s, INT_MAX, &v) || v == 0)
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

static int parse_protocol(const char *s, uint8_t *proto)
{
	char name[64];
	unsigned long long v;
	struct protoent *pe;
	size_t i;

	if (parse_number(s, 255, &v)) {
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
static const char *port_proto(const struct viplb_rule_spec *spec)
{
	if (!(spec->match & VIPLB_M_PROTO) || (spec->invert & VIPLB_M_PROTO))
		return NULL;
	if (spec->proto == IPPROTO_TCP)
		return "tcp";
	if (spec->proto == IPPROTO_UDP)
		return "udp";
	return NULL;
}

/* Ports */

static bool port_value(const char *s, const char *proto, uint16_t *port)
{
	unsigned long long v;
	struct servent *se;

	if (parse_number(s, 65535, &v)) {
		*port = v;
		return true;
	}
	if (!proto || !*s)
		return false;
	se = getservbyname(s, proto);
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
static int parse_port_range(const char *s, const char *proto, uint16_t range[2])
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
static int parse_mports(const char *s, const char *proto,
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
		if (n == 4 || !parse_decimal(part, 255, &v))
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
static int parse_addr_mask(uint16_t af, const char *s, __be32 addr[4],
			   __be32 mask[4])
{
	char buf[INET6_ADDRSTRLEN + 64], *slash;
	unsigned long long len;
	uint32_t a4;
	int i;

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
	} else if (parse_decimal(slash, af == AF_INET ? 32 : 128, &len)) {
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
	for (i = 0; i < 4; i++)
		addr[i] &= mask[i];
	return 0;

bad_addr:
	return rt_param("bad address " RT_Q, quote_arg(s));
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

/* "P" or "P-Q" of NAT targets (ports may be service names), in whole. */
static int parse_nat_ports(const char *s, const char *whole, const char *proto,
			   struct viplb_rule_spec *spec)
{
	char buf[128], *dash;

	if (strchr(s, '/'))
		return rt_param("unsupported port offset in " RT_Q,
				quote_arg(s));
	if (strchr(s, ':'))
		return rt_param("bad port range " RT_Q " (use P-Q)",
				quote_arg(s));
	if (strlen(s) >= sizeof(buf))
		return rt_param("bad port " RT_Q, quote_arg(s));
	strcpy(buf, s);
	dash = strchr(buf, '-');
	if (dash)
		*dash++ = '\0';
	if (parse_one_port(buf, proto, &spec->nat_port_min))
		return RT_EPARAM;
	spec->nat_port_max = spec->nat_port_min;
	if (dash && parse_one_port(dash, proto, &spec->nat_port_max))
		return RT_EPARAM;
	if (spec->nat_port_min > spec->nat_port_max)
		return rt_param("bad port range " RT_Q " (min > max)",
				quote_arg(s));
	/* iptables takes it; the module does not. */
	if (!spec->nat_port_min)
		return rt_param("unsupported NAT port 0 in " RT_Q,
				quote_arg(whole));
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
static int parse_nat_range(uint16_t af, const char *s, const char *proto,
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
	if (ports && parse_nat_ports(ports, s, proto, spec))
		return RT_EPARAM;
	if (!spec->nat_flags)
		return rt_param("bad range " RT_Q, quote_arg(s));
	return 0;
}

/* Other values */

static int parse_iface(const char *s, char name[VIPLB_IFNAME_MAX])
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

static int parse_ctstates(const char *s, uint8_t *states)
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
	};
	char buf[256], *item, *next;
	size_t i;

	if (strlen(s) >= sizeof(buf))
		return rt_param("bad state " RT_Q, quote_arg(s));
	strcpy(buf, s);
	*states = 0;
	for (item = buf; item; item = next) {
		next = strchr(item, ',');
		if (next)
			*next++ = '\0';
		for (i = 0; i < ARRAY_SIZE(names); i++)
			if (!strcasecmp(item, names[i].name))
				break;
		if (i < ARRAY_SIZE(names)) {
			*states |= names[i].bit;
			continue;
		}
		if (!strcasecmp(item, "SNAT") || !strcasecmp(item, "DNAT"))
			return rt_param("unsupported state " RT_Q,
					quote_arg(item));
		return rt_param("bad state " RT_Q, quote_arg(item));
	}
	return 0;
}

/* MARK values: "V" or "V/M" (M defaults to all ones). */
static int parse_mark(const char *s, bool mask_ok, uint32_t *val,
		      uint32_t *mask)
{
	char buf[64], *slash;
	unsigned long long v, m = 0xffffffff;

	if (strlen(s) >= sizeof(buf))
		goto bad;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash) {
		*slash++ = '\0';
		if (!mask_ok || !parse_number(slash, 0xffffffff, &m))
			goto bad;
	}
	if (!parse_number(buf, 0xffffffff, &v))
		goto bad;
	*val = v;
	*mask = m;
	return 0;
bad:
	return rt_param("bad mark " RT_Q, quote_arg(s));
}

static int parse_tcp_flags(const char *s, unsigned int *flags)
{
	static const struct {
		const char *name;
		unsigned int bits;
	} names[] = {
		{ "FIN", TCPF_FIN }, { "SYN", TCPF_SYN }, { "RST", TCPF_RST },
		{ "PSH", TCPF_PSH }, { "ACK", TCPF_ACK }, { "URG", TCPF_URG },
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

static int parse_reject(uint16_t af, const char *s, uint32_t *type)
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

static bool is_target_name(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(targets); i++)
		if (!strcmp(name, targets[i].name))
			return true;
	for (i = 0; i < ARRAY_SIZE(other_targets); i++)
		if (!strcmp(name, other_targets[i]))
			return true;
	return false;
}

static int check_chain_len(const char *name)
{
	if (strlen(name) > RT_CHAIN_LEN)
		return rt_param("chain name " RT_Q
				" too long (must be under %d chars)",
				quote_arg(name), VIPLB_CHAIN_NAME_MAX);
	return 0;
}

int rt_check_new_chain_name(const char *name)
{
	const char *c;

	if (!*name)
		return rt_param("empty chain name");
	if (check_chain_len(name))
		return RT_EPARAM;
	if (name[0] == '-' || name[0] == '!')
		return rt_param("chain name " RT_Q " may not start with \"%c\"",
				quote_arg(name), name[0]);
	for (c = name; *c; c++)
		if (isspace((unsigned char)*c))
			return rt_param("bad chain name " RT_Q,
					quote_arg(name));
	if (is_target_name(name))
		return rt_param("chain name " RT_Q
				" may not clash with a target name",
				quote_arg(name));
	return 0;
}

/* Option lookup */

static bool mod_active(const struct parser *p, uint8_t mod)
{
	if (mod == MOD_GENERAL)
		return true;
	if (mod >= FIRST_TARGET_MOD && mod < MOD_OTHER)
		return p->target_mod == mod;
	return mod < MOD_OTHER && (p->mods & (1U << mod));
}

/* Exact name, else a unique prefix among the active options. */
static const struct rt_optdef *find_active(const struct parser *p,
					   const char *name, size_t len,
					   bool *ambiguous)
{
	const struct rt_optdef *found = NULL;
	size_t i;

	*ambiguous = false;
	for (i = 0; i < ARRAY_SIZE(opts); i++)
		if (mod_active(p, opts[i].mod) && strlen(opts[i].name) == len &&
		    !strncmp(opts[i].name, name, len))
			return &opts[i];
	for (i = 0; i < ARRAY_SIZE(opts); i++) {
		if (!mod_active(p, opts[i].mod) ||
		    strncmp(opts[i].name, name, len))
			continue;
		if (found && found->id != opts[i].id) {
			*ambiguous = true;
			return NULL;
		}
		found = &opts[i];
	}
	return found;
}

/* Why an option is not available: which module would give it. */
static int option_unavailable(const char *name, size_t len)
{
	char needs[128] = "";
	size_t i, off = 0;

	for (i = 0; i < ARRAY_SIZE(opts); i++) {
		const struct rt_optdef *d = &opts[i];

		if (strlen(d->name) != len || strncmp(d->name, name, len))
			continue;
		if (d->id == O_UNSUPPORTED || d->mod == MOD_OTHER)
			return rt_param("unsupported option \"--%.*s\"",
					(int)len, name);
		off += snprintf(needs + off, sizeof(needs) - off, "%s%s %s",
				off ? " or " : "",
				d->mod >= FIRST_TARGET_MOD ? "-j" :
				d->mod <= MOD_UDP	   ? "-p" :
							     "-m",
				mod_names[d->mod]);
		if (off >= sizeof(needs))
			break;
	}
	if (*needs)
		return rt_param("option \"--%.*s\" needs %s", (int)len, name,
				needs);
	return rt_param("unknown option \"--%.*s\"", (int)len, name);
}

static const struct rt_optdef *find_long(struct parser *p, const char *name,
					 size_t len)
{
	const struct rt_optdef *d;
	bool ambiguous;
	int mod;

	d = find_active(p, name, len, &ambiguous);
	if (!d && !ambiguous) {
		/* -p tcp and -p udp load their match on first use. */
		const char *proto = port_proto(&p->cmd->rule.spec);

		mod = !proto ? -1 : !strcmp(proto, "tcp") ? MOD_TCP : MOD_UDP;
		if (mod >= 0 && !(p->mods & (1U << mod))) {
			p->mods |= 1U << mod;
			d = find_active(p, name, len, &ambiguous);
			if (d)
				p->order[p->n_order++] = mod_order_kinds[mod];
			else
				p->mods &= ~(1U << mod);
		}
	}
	if (ambiguous) {
		rt_param("ambiguous option \"--%.*s\"", (int)len, name);
		return NULL;
	}
	if (!d)
		option_unavailable(name, len);
	return d;
}

static const struct rt_optdef *find_short(char c)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(opts); i++)
		if (opts[i].short_name == c)
			return &opts[i];
	return NULL;
}

/* Commands */

/* The argument after the current one if it is not an option. */
static const char *next_plain_arg(struct parser *p)
{
	const char *a;

	if (p->next >= p->argc)
		return NULL;
	a = p->argv[p->next];
	if (a[0] == '-' || a[0] == '!')
		return NULL;
	p->next++;
	return a;
}

static const char *next_required_arg(struct parser *p)
{
	if (p->next >= p->argc)
		return NULL;
	return p->argv[p->next++];
}

static int set_chain(char *dst, const char *name)
{
	if (check_chain_len(name))
		return RT_EPARAM;
	strcpy(dst, name);
	return 0;
}

static int set_command(struct parser *p, unsigned int bit, const char *name)
{
	unsigned int both = p->cmd->cmds | bit;

	if (p->cmd->cmds && both != (RT_CMD_LIST | RT_CMD_ZERO) &&
	    both != (RT_CMD_LIST_RULES | RT_CMD_ZERO))
		return rt_param("cannot use %s with %s", name, p->cmd_name);
	if (p->env->restore && (bit & (RT_CMD_LIST | RT_CMD_LIST_RULES)))
		return rt_param("%s cannot be used in a restore file", name);
	if (!p->cmd->cmds)
		snprintf(p->cmd_name, sizeof(p->cmd_name), "%s", name);
	p->cmd->cmds = both;
	return 0;
}

static int command_option(struct parser *p, const struct rt_optdef *d,
			  const char *name, const char *arg)
{
	static const unsigned int bits[] = {
		[O_APPEND] = RT_CMD_APPEND,
		[O_CHECK] = RT_CMD_CHECK,
		[O_DELETE] = RT_CMD_DELETE,
		[O_REPLACE] = RT_CMD_REPLACE,
		[O_INSERT] = RT_CMD_INSERT,
		[O_LIST] = RT_CMD_LIST,
		[O_LIST_RULES] = RT_CMD_LIST_RULES,
		[O_FLUSH] = RT_CMD_FLUSH,
		[O_ZERO] = RT_CMD_ZERO,
		[O_NEW_CHAIN] = RT_CMD_NEW_CHAIN,
		[O_DELETE_CHAIN] = RT_CMD_DEL_CHAIN,
		[O_POLICY] = RT_CMD_POLICY,
		[O_RENAME] = RT_CMD_RENAME,
	};
	struct rt_cmd *cmd = p->cmd;
	const char *more;
	int ret;

	ret = set_command(p, bits[d->id], name);
	if (ret)
		return ret;
	if (arg) {
		/* -L -Z: both may name the chain, but only the same one. */
		if (*cmd->chain && strcmp(cmd->chain, arg))
			return rt_param(
				"cannot use %s with %s on another chain", name,
				p->cmd_name);
		ret = set_chain(cmd->chain, arg);
		if (ret)
			return ret;
	}
	switch (d->id) {
	case O_REPLACE:
		more = next_required_arg(p);
		if (!more)
			return rt_param("%s requires a rule number", name);
		return parse_rulenum(more, &cmd->rulenum);
	case O_DELETE:
	case O_INSERT:
	case O_LIST:
	case O_LIST_RULES:
	case O_ZERO:
		if (!arg)
			return 0;
		more = next_plain_arg(p);
		return more ? parse_rulenum(more, &cmd->rulenum) : 0;
	case O_POLICY:
		p->policy = next_required_arg(p);
		if (!p->policy)
			return rt_param("%s requires a chain and a policy",
					name);
		return 0;
	case O_RENAME:
		more = next_required_arg(p);
		if (!more)
			return rt_param(
				"%s requires old-chain-name and new-chain-name",
				name);
		ret = rt_check_new_chain_name(more);
		return ret ? ret : set_chain(cmd->new_name, more);
	case O_NEW_CHAIN:
		return rt_check_new_chain_name(arg);
	}
	return 0;
}

/* Rule options */

static int set_target(struct parser *p, const char *name, bool go)
{
	struct rt_rule *r = &p->cmd->rule;
	size_t i;

	if (!*name)
		return rt_param("empty target name");
	for (i = 0; i < ARRAY_SIZE(targets) && !go; i++) {
		if (!strcmp(name, targets[i].name)) {
			r->spec.verdict = targets[i].verdict;
			p->target_mod = targets[i].mod;
			return 0;
		}
	}
	if (is_target_name(name)) {
		if (go)
			return rt_param("goto " RT_Q " is not a chain",
					quote_arg(name));
		return rt_param("unsupported target " RT_Q, quote_arg(name));
	}
	if (check_chain_len(name))
		return RT_EPARAM;
	strcpy(r->target, name);
	r->spec.verdict = go ? VIPLB_V_GOTO : VIPLB_V_JUMP;
	return 0;
}

static int load_match(struct parser *p, const char *name)
{
	size_t m;

	for (m = MOD_TCP; m < FIRST_TARGET_MOD; m++)
		if (!strcmp(name, mod_names[m]))
			break;
	if (m == FIRST_TARGET_MOD)
		return rt_param("unsupported match " RT_Q, quote_arg(name));
	/* Also a second tcp match after -p tcp --dport loaded one. */
	if (p->mods & (1U << m))
		return rt_param(
			"unsupported: more than one \"-m %s\" in a rule", name);
	if ((m == MOD_STATE && (p->mods & (1U << MOD_CONNTRACK))) ||
	    (m == MOD_CONNTRACK && (p->mods & (1U << MOD_STATE))))
		return rt_param(
			"unsupported: both -m state and -m conntrack in a rule");
	p->mods |= 1U << m;
	p->order[p->n_order++] = mod_order_kinds[m];
	return 0;
}

static void set_match(struct viplb_rule_spec *spec, uint32_t bit, bool inv)
{
	spec->match |= bit;
	if (inv)
		spec->invert |= bit;
}

static int port_option(struct parser *p, const char *arg, bool inv,
		       uint32_t bit, uint16_t range[2])
{
	struct viplb_rule_spec *spec = &p->cmd->rule.spec;
	const char *proto = (p->mods & (1U << MOD_TCP)) ? "tcp" : "udp";

	if (parse_port_range(arg, proto, range))
		return RT_EPARAM;
	/* The whole range matches every port: nothing to match. */
	if (range[0] == 0 && range[1] == 65535 && !inv) {
		range[1] = 0;
		return 0;
	}
	set_match(spec, bit, inv);
	return 0;
}

static int tcp_flags_option(struct parser *p, const char *arg, bool inv)
{
	unsigned int mask, comp;
	const char *second = next_required_arg(p);

	if (!second)
		return rt_param("--tcp-flags requires two arguments");
	if (parse_tcp_flags(arg, &mask) || parse_tcp_flags(second, &comp))
		return RT_EPARAM;
	/* Only what --syn means: SYN set, ACK RST FIN clear. */
	if (mask != (TCPF_FIN | TCPF_SYN | TCPF_RST | TCPF_ACK) ||
	    comp != TCPF_SYN)
		return rt_param("unsupported option \"--tcp-flags\"");
	set_match(&p->cmd->rule.spec, VIPLB_M_SYN, inv);
	return 0;
}

static int statistic_option(struct parser *p, int id, const char *arg, bool inv)
{
	struct viplb_rule_spec *spec = &p->cmd->rule.spec;
	unsigned long long v;
	double prob;
	char *end;

	switch (id) {
	case O_MODE:
		if (!strcmp(arg, "random"))
			spec->stat_mode = VIPLB_STAT_RANDOM;
		else if (!strcmp(arg, "nth"))
			spec->stat_mode = VIPLB_STAT_NTH;
		else
			return rt_param("bad statistic mode " RT_Q,
					quote_arg(arg));
		break;
	case O_PROBABILITY:
		errno = 0;
		prob = strtod(arg, &end);
		if (!*arg || isspace((unsigned char)*arg) || *end || errno ||
		    !isfinite(prob) || prob < 0 || prob > 1)
			return rt_param("bad probability " RT_Q " (use 0..1)",
					quote_arg(arg));
		/* As libxt_statistic rounds it. */
		spec->stat_prob = lround(prob * 0x80000000);
		p->stat_prob = true;
		break;
	case O_EVERY:
		if (!parse_number(arg, 0xffffffff, &v) || v == 0)
			return rt_param("bad value " RT_Q
					" for --every (use 1..4294967295)",
					quote_arg(arg));
		spec->stat_every = v;
		p->stat_every = true;
		break;
	case O_PACKET:
		if (!parse_number(arg, 0xffffffff, &v))
			return rt_param("bad value " RT_Q " for --packet",
					quote_arg(arg));
		spec->stat_packet = v;
		p->stat_packet = true;
		break;
	}
	if (inv)
		spec->invert |= VIPLB_M_STATISTIC;
	spec->match |= VIPLB_M_STATISTIC;
	return 0;
}

static int mark_target_option(struct parser *p, int id, const char *arg)
{
	struct viplb_rule_spec *spec = &p->cmd->rule.spec;
	uint32_t v, m;

	if (p->mark_op)
		return rt_param(
			"only one of --set-xmark, --set-mark, --and-mark, --or-mark and --xor-mark may be given");
	if (parse_mark(arg, id == O_SET_XMARK || id == O_SET_MARK, &v, &m))
		return RT_EPARAM;
	p->mark_op = id;
	switch (id) {
	case O_SET_XMARK: /* mark = (mark & ~m) ^ v */
		spec->set_mark = v;
		spec->set_mark_mask = m;
		break;
	case O_SET_MARK: /* bits of m cleared, then v set */
		spec->set_mark = v;
		spec->set_mark_mask = m | v;
		break;
	case O_AND_MARK:
		spec->set_mark = 0;
		spec->set_mark_mask = ~v;
		break;
	case O_OR_MARK:
		spec->set_mark = v;
		spec->set_mark_mask = v;
		break;
	case O_XOR_MARK:
		spec->set_mark = v;
		spec->set_mark_mask = 0;
		break;
	}
	return 0;
}

static int counters_option(struct parser *p, const char *name, const char *arg)
{
	const char *bytes = next_required_arg(p);
	unsigned long long pk, by;

	if (!p->env->restore)
		return rt_param("unsupported option " RT_Q, name);
	if (!bytes)
		return rt_param("%s requires packet and byte counters", name);
	if (!parse_decimal(arg, UINT64_MAX, &pk) ||
	    !parse_decimal(bytes, UINT64_MAX, &by))
		return rt_param("bad counters " RT_Q " " RT_Q, quote_arg(arg),
				quote_arg(bytes));
	p->cmd->rule.pkts = pk;
	p->cmd->rule.bytes = by;
	p->cmd->rule.set_counters = true;
	return 0;
}

static int family_option(struct parser *p, uint16_t af, const char *name)
{
	p->cmd->opts |= RT_OPT_FAMILY;
	if (af == p->af)
		return 0;
	if (p->env->restore)
		return rt_param("%s does not match the family of this restore",
				name);
	if (p->env->af != p->af)
		return rt_param("-4 and -6 cannot be used together");
	p->switch_af = af;
	return RT_EFAIL; /* parse again in the other family */
}

/* Options that may be given once only. */
static int once(struct parser *p, const struct rt_optdef *d, const char *name)
{
	/* -j and -g are one option. */
	int id = d->id == O_GOTO ? O_JUMP : d->id;

	if (id == O_VERBOSE || id == O_MATCH || id == O_IPV4 || id == O_IPV6 ||
	    id <= O_RENAME)
		return 0;
	if (p->seen[id]++) {
		if (d->id == O_GOTO || d->id == O_JUMP)
			return rt_param("multiple -j or -g flags not allowed");
		return rt_param("option " RT_Q " may be given only once", name);
	}
	return 0;
}

static int handle_option(struct parser *p, const struct rt_optdef *d,
			 const char *name, const char *arg)
{
	struct rt_cmd *cmd = p->cmd;
	struct rt_rule *r = &cmd->rule;
	struct viplb_rule_spec *spec = &r->spec;
	bool inv = p->invert;
	unsigned long long v;
	int ret;

	p->invert = false;
	if (inv && !(d->flags & OPTF_INVERT))
		return rt_param("\"!\" is not allowed before " RT_Q, name);
	if (arg && !strcmp(arg, "!") && (d->flags & OPTF_INVERT))
		return rt_param("\"!\" must come before the option: use "
				"\"! %s VALUE\"",
				name);
	ret = once(p, d, name);
	if (ret)
		return ret;
	if (d->id <= O_RENAME)
		return command_option(p, d, name, arg);
	switch (d->id) {
	case O_HELP:
		cmd->help = true;
		return 0;
	case O_VERSION:
		cmd->version = true;
		return 0;
	case O_TABLE:
		if (p->env->restore)
			return rt_param("%s cannot be used in a restore file",
					name);
		cmd->opts |= RT_OPT_TABLE;
		return rt_table_by_name(arg, &cmd->table);
	case O_IPV4:
		return family_option(p, AF_INET, name);
	case O_IPV6:
		return family_option(p, AF_INET6, name);
	case O_NUMERIC:
		cmd->opts |= RT_OPT_NUMERIC;
		return 0;
	case O_VERBOSE:
		cmd->opts |= RT_OPT_VERBOSE;
		return 0;
	case O_EXACT:
		cmd->opts |= RT_OPT_EXACT;
		return 0;
	case O_LINE_NUMBERS:
		cmd->opts |= RT_OPT_LINE_NUMBERS;
		return 0;
	case O_JSON:
		cmd->opts |= RT_OPT_JSON;
		return 0;
	case O_PRETTY:
		cmd->opts |= RT_OPT_PRETTY;
		return 0;
	case O_OFFLINE:
		cmd->offline = arg;
		return 0;
	case O_WAIT:
		cmd->opts |= RT_OPT_WAIT;
		if (arg && !parse_decimal(arg, UINT_MAX, &v))
			return rt_param("bad wait time " RT_Q, quote_arg(arg));
		cmd->wait = arg ? v : 0;
		return 0;
	case O_WAIT_INTERVAL:
		cmd->opts |= RT_OPT_WAIT_INTERVAL;
		if (!parse_decimal(arg, ULONG_MAX, &v))
			return rt_param("bad wait interval " RT_Q,
					quote_arg(arg));
		return 0;
	case O_COUNTERS:
		cmd->opts |= RT_OPT_COUNTERS;
		return counters_option(p, name, arg);
	case O_PROTO:
		cmd->opts |= RT_OPT_PROTO;
		ret = parse_protocol(arg, &spec->proto);
		if (ret)
			return ret;
		if (spec->proto == 0 && inv)
			return rt_param("rule would never match protocol");
		if (spec->proto)
			set_match(spec, VIPLB_M_PROTO, inv);
		return 0;
	case O_SOURCE:
	case O_DEST: {
		bool src = d->id == O_SOURCE;
		__be32 *a = src ? spec->src : spec->dst;
		__be32 *m = src ? spec->src_mask : spec->dst_mask;
		static const __be32 zero[4];

		cmd->opts |= src ? RT_OPT_SOURCE : RT_OPT_DEST;
		ret = parse_addr_mask(p->af, arg, a, m);
		if (ret)
			return ret;
		/* 0/0 matches everything; "! -s 0/0" matches nothing. */
		if (!memcmp(m, zero, sizeof(zero)) && !inv)
			return 0;
		set_match(spec, src ? VIPLB_M_SRC : VIPLB_M_DST, inv);
		return 0;
	}
	case O_IN:
	case O_OUT:
		cmd->opts |= d->id == O_IN ? RT_OPT_IN : RT_OPT_OUT;
		ret = parse_iface(arg, d->id == O_IN ? spec->iif : spec->oif);
		if (ret)
			return ret;
		set_match(spec, d->id == O_IN ? VIPLB_M_IIF : VIPLB_M_OIF, inv);
		return 0;
	case O_JUMP:
	case O_GOTO:
		cmd->opts |= RT_OPT_JUMP;
		return set_target(p, arg, d->id == O_GOTO);
	case O_MATCH:
		cmd->opts |= RT_OPT_MATCH;
		return load_match(p, arg);
	case O_SPORT:
		return port_option(p, arg, inv, VIPLB_M_SPORT, spec->sport);
	case O_DPORT:
		return port_option(p, arg, inv, VIPLB_M_DPORT, spec->dport);
	case O_SYN:
	case O_TCP_FLAGS:
		if (p->has_syn_opt)
			return rt_param(
				"only one of --syn and --tcp-flags allowed");
		p->has_syn_opt = true;
		if (d->id == O_TCP_FLAGS)
			return tcp_flags_option(p, arg, inv);
		set_match(spec, VIPLB_M_SYN, inv);
		return 0;
	case O_SPORTS:
	case O_DPORTS:
	case O_PORTS:
		if (p->has_mport_opt)
			return rt_param(
				"only one of --sports, --dports and --ports per -m multiport");
		p->has_mport_opt = true;
		ret = parse_mports(arg, port_proto(spec), spec);
		if (ret)
			return ret;
		spec->mport_flags = d->id == O_SPORTS ? VIPLB_MPORT_SRC :
				    d->id == O_DPORTS ? VIPLB_MPORT_DST :
							VIPLB_MPORT_SRC |
								VIPLB_MPORT_DST;
		set_match(spec, VIPLB_M_MPORTS, inv);
		return 0;
	case O_CTSTATE:
	case O_STATE:
		ret = parse_ctstates(arg, &spec->ctstate);
		if (ret)
			return ret;
		set_match(spec, VIPLB_M_CTSTATE, inv);
		return 0;
	case O_MODE:
	case O_PROBABILITY:
	case O_EVERY:
	case O_PACKET:
		return statistic_option(p, d->id, arg, inv);
	case O_COMMENT:
		if (strlen(arg) > RT_COMMENT_LEN)
			return rt_param("comment " RT_Q
					" too long (max %d bytes)",
					quote_arg(arg), RT_COMMENT_LEN);
		r->comment = strdup(arg);
		return r->comment ? 0 : rt_fail("%s", strerror(ENOMEM));
	case O_MARK:
		ret = parse_mark(arg, true, &spec->mark, &spec->mark_mask);
		if (ret)
			return ret;
		set_match(spec, VIPLB_M_MARK, inv);
		return 0;
	case O_REJECT_WITH:
		return parse_reject(p->af, arg, &spec->reject_with);
	case O_TO_DEST:
	case O_TO_SRC:
		p->nat_range = true;
		return parse_nat_range(p->af, arg, port_proto(spec), spec);
	case O_TO_PORTS:
		return parse_nat_ports(arg, arg, port_proto(spec), spec);
	case O_RANDOM:
		spec->nat_flags |= VIPLB_NAT_F_RANDOM;
		return 0;
	case O_RANDOM_FULLY:
		spec->nat_flags |= VIPLB_NAT_F_RANDOM_FULLY;
		return 0;
	case O_PERSISTENT:
		spec->nat_flags |= VIPLB_NAT_F_PERSISTENT;
		return 0;
	case O_SET_XMARK:
	case O_SET_MARK:
	case O_AND_MARK:
	case O_OR_MARK:
	case O_XOR_MARK:
		return mark_target_option(p, d->id, arg);
	}
	return rt_param("unsupported option " RT_Q, name);
}

/* One argv element holding "--name[=value]". */
static int long_option(struct parser *p, const char *word)
{
	const char *name = word + 2, *eq = strchr(name, '='), *arg = NULL;
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct rt_optdef *d;
	char spelled[72];

	d = find_long(p, name, len);
	if (!d)
		return RT_EPARAM;
	snprintf(spelled, sizeof(spelled), "--%s", d->name);
	if (d->arg == ARG_NONE && eq)
		return rt_param("option " RT_Q " takes no argument", spelled);
	if (eq) {
		arg = eq + 1;
	} else if (d->arg == ARG_REQUIRED) {
		arg = next_required_arg(p);
		if (!arg)
			return rt_param("option " RT_Q " requires an argument",
					spelled);
	} else if (d->arg == ARG_OPTIONAL) {
		arg = next_plain_arg(p);
	}
	return handle_option(p, d, spelled, arg);
}

/* One argv element holding short options, "-nvL" or "-tnat". */
static int short_options(struct parser *p, const char *word)
{
	const struct rt_optdef *d;
	const char *s, *arg;
	char spelled[3] = "-?";
	bool rest;
	int ret;

	for (s = word + 1; *s; s++) {
		spelled[1] = *s;
		d = find_short(*s);
		if (!d) {
			if (isprint((unsigned char)*s))
				return rt_param("unknown option " RT_Q,
						spelled);
			return rt_param("unknown option in " RT_Q,
					quote_arg(word));
		}
		arg = NULL;
		rest = d->arg != ARG_NONE && s[1];
		if (rest) {
			arg = s + 1; /* the rest of the word */
		} else if (d->arg == ARG_REQUIRED) {
			arg = next_required_arg(p);
			if (!arg)
				return rt_param("option " RT_Q
						" requires an argument",
						spelled);
		} else if (d->arg == ARG_OPTIONAL) {
			arg = next_plain_arg(p);
		}
		if (d->id == O_UNSUPPORTED)
			return rt_param("unsupported option " RT_Q, spelled);
		ret = handle_option(p, d, spelled, arg);
		if (ret || rest)
			return ret;
	}
	return 0;
}

/* Final checks */

/* Options each command allows: the -n, -v ... table of iptables. */
static int check_legal(const struct parser *p)
{
	static const struct {
		unsigned int opt;
		const char *name;
		unsigned int cmds; /* commands allowing it */
	} legal[] = {
#define RULE_CMDS                                                         \
	(RT_CMD_APPEND | RT_CMD_INSERT | RT_CMD_REPLACE | RT_CMD_DELETE | \
	 RT_CMD_CHECK)
		{ RT_OPT_NUMERIC, "-n", RT_CMD_LIST },
		{ RT_OPT_EXACT, "-x", RT_CMD_LIST },
		{ RT_OPT_LINE_NUMBERS, "--line-numbers", RT_CMD_LIST },
		{ RT_OPT_JSON, "--json", RT_CMD_LIST },
		{ RT_OPT_PRETTY, "--pretty", RT_CMD_LIST },
		{ RT_OPT_SOURCE, "-s", RULE_CMDS },
		{ RT_OPT_DEST, "-d", RULE_CMDS },
		{ RT_OPT_PROTO, "-p", RULE_CMDS },
		{ RT_OPT_JUMP, "-j", RULE_CMDS },
		{ RT_OPT_IN, "-i", RULE_CMDS },
		{ RT_OPT_OUT, "-o", RULE_CMDS },
		{ RT_OPT_MATCH, "-m", RULE_CMDS },
		{ RT_OPT_COUNTERS, "-c",
		  RT_CMD_APPEND | RT_CMD_INSERT | RT_CMD_REPLACE |
			  RT_CMD_POLICY },
#undef RULE_CMDS
	};
	const struct rt_cmd *cmd = p->cmd;
	unsigned int cmds = cmd->cmds;
	size_t i;

	/* Deleting by number takes no rule. */
	if ((cmds & RT_CMD_DELETE) && cmd->rulenum)
		cmds = 0;
	for (i = 0; i < ARRAY_SIZE(legal); i++) {
		bool match_opts = legal[i].opt == RT_OPT_MATCH &&
				  (p->mods || p->target_mod);

		if (!(cmd->opts & legal[i].opt) && !match_opts)
			continue;
		if (!(cmds & legal[i].cmds))
			return rt_param("option " RT_Q
					" cannot be used with %s",
					legal[i].name, p->cmd_name);
	}
	if ((cmd->opts & RT_OPT_WAIT_INTERVAL) && !(cmd->opts & RT_OPT_WAIT))
		return rt_param("--wait-interval only makes sense with --wait");
	if (p->env->restore &&
	    (cmd->opts & (RT_OPT_WAIT | RT_OPT_WAIT_INTERVAL | RT_OPT_JSON |
			  RT_OPT_PRETTY)))
		return rt_param(
			"-w, -W, --json and --pretty cannot be used in a restore file");
	if (p->env->restore && cmd->offline)
		return rt_param("--offline cannot be used in a restore file");
	return 0;
}

static bool is_proto(const struct viplb_rule_spec *spec, uint8_t proto)
{
	return (spec->match & VIPLB_M_PROTO) &&
	       !(spec->invert & VIPLB_M_PROTO) && spec->proto == proto;
}

static bool tcp_or_udp(const struct viplb_rule_spec *spec)
{
	return is_proto(spec, IPPROTO_TCP) || is_proto(spec, IPPROTO_UDP);
}

/*
 * iptables runs a rule's matches in order, viplb the statistic match
 * last: they agree only if nothing that filters comes after statistic.
 */
static int check_statistic_last(const struct parser *p)
{
	unsigned int i;
	bool stat = false;

	for (i = 0; i < p->n_order; i++) {
		if (p->order[i] == RT_ORDER_STATISTIC)
			stat = true;
		else if (stat && p->order[i] != RT_ORDER_COMMENT)
			return rt_param(
				"-m statistic must come after the rule's other matches (viplb evaluates it last)");
	}
	return 0;
}

/* VIPLB_RULES_A_MATCH_ORDER of the rule (format in tables.h). */
static void set_order(const struct parser *p, struct rt_rule *r)
{
	r->order_len = 0;
	if (!p->n_order || p->n_order > RT_ORDER_KINDS)
		return;
	r->order[0] = RT_ORDER_VERSION;
	memcpy(r->order + 1, p->order, p->n_order);
	r->order_len = p->n_order + 1;
}

static int check_matches(struct parser *p)
{
	const struct viplb_rule_spec *spec = &p->cmd->rule.spec;
	const struct rt_rule *r = &p->cmd->rule;
	const char *chain = p->cmd->chain;
	int ret;

	if ((p->mods & (1U << MOD_TCP)) && !is_proto(spec, IPPROTO_TCP))
		return rt_param("-m tcp needs -p tcp");
	if ((p->mods & (1U << MOD_UDP)) && !is_proto(spec, IPPROTO_UDP))
		return rt_param("-m udp needs -p udp");
	/* A bare -m tcp: every source port, as iptables keeps it. */
	if ((p->mods & (1U << MOD_TCP | 1U << MOD_UDP)) &&
	    !(spec->match & (VIPLB_M_SPORT | VIPLB_M_DPORT | VIPLB_M_SYN))) {
		p->cmd->rule.spec.match |= VIPLB_M_SPORT;
		p->cmd->rule.spec.sport[1] = 65535;
	}
	if (p->mods & (1U << MOD_MULTIPORT)) {
		if (!tcp_or_udp(spec))
			return rt_param("-m multiport needs -p tcp or -p udp");
		if (!p->has_mport_opt)
			return rt_param(
				"-m multiport needs --sports, --dports or --ports");
	}
	if ((p->mods & (1U << MOD_CONNTRACK)) &&
	    !(spec->match & VIPLB_M_CTSTATE))
		return rt_param("-m conntrack needs --ctstate");
	if ((p->mods & (1U << MOD_STATE)) && !(spec->match & VIPLB_M_CTSTATE))
		return rt_param("-m state needs --state");
	if ((p->mods & (1U << MOD_COMMENT)) && !r->comment)
		return rt_param("-m comment needs --comment");
	if ((p->mods & (1U << MOD_MARK)) && !(spec->match & VIPLB_M_MARK))
		return rt_param("-m mark needs --mark");
	if (p->mods & (1U << MOD_STATISTIC)) {
		if (!spec->stat_mode)
			return rt_param("-m statistic needs --mode");
		if (spec->stat_mode == VIPLB_STAT_RANDOM &&
		    (!p->stat_prob || p->stat_every || p->stat_packet))
			return rt_param(
				"--mode random needs --probability (and no --every, --packet)");
		if (spec->stat_mode == VIPLB_STAT_NTH &&
		    (!p->stat_every || !p->stat_packet || p->stat_prob))
			return rt_param(
				"--mode nth needs --every and --packet (and no --probability)");
		if (spec->stat_mode == VIPLB_STAT_NTH &&
		    spec->stat_packet >= spec->stat_every)
			return rt_param(
				"--packet must be between 0 and --every minus 1");
	}
	ret = check_statistic_last(p);
	if (ret)
		return ret;
	/* As iptables, by chain name only. */
	if ((spec->match & VIPLB_M_OIF) &&
	    (!strcmp(chain, "INPUT") || !strcmp(chain, "PREROUTING")))
		return rt_param("cannot use -o with %s", chain);
	if ((spec->match & VIPLB_M_IIF) &&
	    (!strcmp(chain, "OUTPUT") || !strcmp(chain, "POSTROUTING")))
		return rt_param("cannot use -i with %s", chain);
	return 0;
}

/* The chain a target is used from, if it is built-in: allowed? */
static bool hook_allowed(uint32_t table, const char *chain, unsigned int hooks)
{
	int hook = rt_builtin_hook(table, chain);

	return hook == RT_USER_CHAIN || (hooks & (1U << hook));
}

static int check_target(const struct parser *p)
{
	const struct viplb_rule_spec *spec = &p->cmd->rule.spec;
	uint32_t table = p->cmd->table;
	const char *chain = p->cmd->chain;
	const char *name = p->target_mod ? mod_names[p->target_mod] : "DROP";
	bool nat_target = spec->verdict >= VIPLB_V_DNAT &&
			  spec->verdict <= VIPLB_V_REDIRECT;

	if (table == VIPLB_RTABLE_NAT &&
	    (spec->verdict == VIPLB_V_DROP || spec->verdict == VIPLB_V_REJECT))
		return rt_param(
			"the \"nat\" table is not intended for filtering, the use of %s is therefore inhibited",
			name);
	if (nat_target && table != VIPLB_RTABLE_NAT)
		return rt_param("target %s can only be used in the nat table",
				name);
	switch (spec->verdict) {
	case VIPLB_V_REJECT:
		if (spec->reject_with == VIPLB_REJECT_TCP_RESET &&
		    !is_proto(spec, IPPROTO_TCP))
			return rt_param("--reject-with tcp-reset needs -p tcp");
		break;
	case VIPLB_V_DNAT:
	case VIPLB_V_REDIRECT:
		if (!hook_allowed(table, chain,
				  1U << VIPLB_HOOK_PREROUTING |
					  1U << VIPLB_HOOK_OUTPUT))
			return rt_param(
				"target %s can only be used from PREROUTING and OUTPUT",
				name);
		break;
	case VIPLB_V_SNAT:
		if (!hook_allowed(table, chain,
				  1U << VIPLB_HOOK_INPUT |
					  1U << VIPLB_HOOK_POSTROUTING))
			return rt_param(
				"target SNAT can only be used from INPUT and POSTROUTING");
		break;
	case VIPLB_V_MASQUERADE:
		if (!hook_allowed(table, chain, 1U << VIPLB_HOOK_POSTROUTING))
			return rt_param(
				"target MASQUERADE can only be used from POSTROUTING");
		break;
	case VIPLB_V_MARK:
		if (!p->mark_op)
			return rt_param(
				"MARK needs one of --set-xmark, --set-mark, --and-mark, --or-mark, --xor-mark");
		break;
	}
	if ((spec->verdict == VIPLB_V_DNAT || spec->verdict == VIPLB_V_SNAT) &&
	    !p->nat_range)
		return rt_param("%s needs %s", name,
				spec->verdict == VIPLB_V_DNAT ?
					"--to-destination" :
					"--to-source");
	if ((spec->nat_flags & VIPLB_NAT_F_PORTS) && !tcp_or_udp(spec))
		return rt_param("%s with ports needs -p tcp or -p udp", name);
	return 0;
}

static int finish(struct parser *p)
{
	struct rt_cmd *cmd = p->cmd;
	int ret;

	if (p->invert)
		return rt_param("nothing appropriate following \"!\"");
	if (cmd->help || cmd->version)
		return 0;
	if (!cmd->cmds)
		return rt_param("no command specified");
	ret = check_legal(p);
	if (ret)
		return ret;
	if (p->policy) {
		ret = rt_parse_policy(p->policy, cmd->table, &cmd->policy);
		if (ret)
			return ret;
	}
	if (!(cmd->cmds & (RT_CMD_APPEND | RT_CMD_INSERT | RT_CMD_REPLACE |
			   RT_CMD_DELETE | RT_CMD_CHECK)) ||
	    ((cmd->cmds & RT_CMD_DELETE) && cmd->rulenum))
		return 0;
	ret = check_matches(p);
	if (ret)
		return ret;
	set_order(p, &cmd->rule);
	return check_target(p);
}

static int parse_once(struct parser *p)
{
	const char *a;
	int ret;

	while (p->next < p->argc) {
		a = p->argv[p->next++];
		if (!strcmp(a, "!")) {
			if (p->invert)
				return rt_param(
					"multiple consecutive \"!\" not allowed");
			p->invert = true;
			continue;
		}
		if (a[0] == '-' && a[1] == '-' && a[2])
			ret = long_option(p, a);
		else if (a[0] == '-' && a[1] && a[1] != '-')
			ret = short_options(p, a);
		else
			ret = rt_param("bad argument " RT_Q, quote_arg(a));
		if (ret)
			return ret;
	}
	return finish(p);
}

void rt_cmd_free(struct rt_cmd *cmd)
{
	rt_rule_free(&cmd->rule);
}

static void cmd_init(struct rt_cmd *cmd, const struct rt_parse_env *env,
		     uint16_t af)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->af = af;
	cmd->table = env->table;
	cmd->policy = VIPLB_V_NONE;
}

int rt_parse_args(int argc, char **argv, const struct rt_parse_env *env,
		  struct rt_cmd *cmd)
{
	struct parser p = {
		.env = env,
		.cmd = cmd,
		.argc = argc,
		.argv = argv,
		.af = env->af,
	};
	int ret;

	cmd_init(cmd, env, p.af);
	ret = parse_once(&p);
	if (ret == RT_EFAIL && p.switch_af) {
		/* -4 or -6 came after family-dependent values: again. */
		uint16_t af = p.switch_af;

		rt_cmd_free(cmd);
		memset(&p, 0, sizeof(p));
		p.env = env;
		p.cmd = cmd;
		p.argc = argc;
		p.argv = argv;
		p.af = af;
		cmd_init(cmd, env, af);
		ret = parse_once(&p);
	}
	if (ret)
		return ret;
	return 0;
}

/* Dumped rules */

int rt_check_spec(uint16_t af, const struct rt_rule *r)
{
	const struct viplb_rule_spec *s = &r->spec;
	bool ok = true;

	ok &= !(s->match & ~__VIPLB_M_ALL) && !(s->invert & ~s->match);
	ok &= s->verdict <= VIPLB_V_MAX;
	ok &= s->reject_with <= VIPLB_REJECT_MAX;
	ok &= !(s->nat_flags & ~__VIPLB_NAT_F_ALL);
	ok &= !(s->ctstate & ~__VIPLB_CTSTATE_ALL);
	ok &= s->n_mports <= VIPLB_MPORTS_MAX;
	ok &= memchr(s->iif, 0, sizeof(s->iif)) &&
	      memchr(s->oif, 0, sizeof(s->oif));
	if (s->match & VIPLB_M_MPORTS)
		ok &= s->n_mports > 0 && s->mport_flags >= 1 &&
		      s->mport_flags <= 3;
	if (s->match & VIPLB_M_STATISTIC)
		ok &= s->stat_mode == VIPLB_STAT_RANDOM ||
		      s->stat_mode == VIPLB_STAT_NTH;
	if (s->verdict == VIPLB_V_JUMP || s->verdict == VIPLB_V_GOTO)
		ok &= r->target[0] != '\0';
	ok &= af == AF_INET || af == AF_INET6;
	if (!ok)
		return rt_fail(
			"the kernel sent a rule this viplb cannot show (newer module?)");
	return 0;
}
