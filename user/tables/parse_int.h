/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private to the iptables-syntax parser of viplb-tables, parse.c and
 * parse_*.c: nothing else includes it (the parser's API is in tables.h).
 * The option and module numbers, the option definitions, the parser's
 * state, and the functions one of those files gives the others, named
 * rtp_*.
 */
#ifndef VIPLB_USER_TABLES_PARSE_INT_H
#define VIPLB_USER_TABLES_PARSE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "tables.h"

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
	O_CTPROTO,
	/* In the order of enum viplb_ct_tuple. */
	O_CTORIGSRC,
	O_CTORIGDST,
	O_CTREPLSRC,
	O_CTREPLDST,
	O_CTORIGSRCPORT,
	O_CTORIGDSTPORT,
	O_CTREPLSRCPORT,
	O_CTREPLDSTPORT,
	O_CTSTATUS,
	O_CTEXPIRE,
	O_CTDIR,
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

/* parse.c: the module names, for -m and messages, and their order kinds. */
extern const char *const rtp_mod_names[NR_MODS];
extern const uint8_t rtp_mod_order_kinds[FIRST_TARGET_MOD];

/*
 * parse_values.c: the value parsers return 0 or RT_EPARAM (rt_param()),
 * the bool ones true for a good value, with no message.
 */
bool rtp_parse_number(const char *s, unsigned long long max,
		      unsigned long long *val);
bool rtp_parse_decimal(const char *s, unsigned long long max,
		       unsigned long long *val);
int rtp_parse_rulenum(const char *s, unsigned int *num);
int rtp_parse_protocol(const char *s, uint8_t *proto);
/* "tcp" or "udp" for service names, NULL for other protocols. */
const char *rtp_port_proto(const struct viplb_rule_spec *spec);
/* The protocol of -m multiport (with ports), or NULL. */
const char *rtp_mport_proto(const struct viplb_rule_spec *spec);
/* rtp_parse_port_range()'s proto for service names of any protocol. */
#define RTP_ANY_PROTO ""
int rtp_parse_port_range(const char *s, const char *proto, uint16_t range[2]);
int rtp_parse_mports(const char *s, const char *proto,
		     struct viplb_rule_spec *spec);
int rtp_parse_addr_mask(uint16_t af, const char *s, __be32 addr[4],
			__be32 mask[4]);
/* The same, the address kept as written (not masked), as xt_conntrack. */
int rtp_parse_host_mask(uint16_t af, const char *s, __be32 addr[4],
			__be32 mask[4]);
int rtp_parse_nat_ports(const char *s, const char *whole,
			struct viplb_rule_spec *spec);
int rtp_parse_nat_range(uint16_t af, const char *s,
			struct viplb_rule_spec *spec);
int rtp_parse_iface(const char *s, char name[VIPLB_IFNAME_MAX]);
int rtp_parse_ctstates(const char *s, bool nat_states, uint8_t *states);
int rtp_parse_ctstatus(const char *s, uint8_t *status);
int rtp_parse_u32_range(const char *s, uint32_t range[2]);
int rtp_parse_mark(const char *s, bool mask_ok, uint32_t *val, uint32_t *mask);
int rtp_parse_tcp_flags(const char *s, unsigned int *flags);
int rtp_parse_reject(uint16_t af, const char *s, uint32_t *type);

/* parse_options.c: the arguments after an option, and the option itself. */
const char *rtp_next_plain_arg(struct parser *p);
const char *rtp_next_required_arg(struct parser *p);
int rtp_handle_option(struct parser *p, const struct rt_optdef *d,
		      const char *name, const char *arg);

/* parse_checks.c: the checks once every argument is parsed. */
int rtp_finish(struct parser *p);

#endif /* VIPLB_USER_TABLES_PARSE_INT_H */
