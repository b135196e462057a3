/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The "small iptables" of viplb: rule tables held in memory, the
 * iptables-syntax parser, the printers (-L, -S, save) and the netlink side.
 *
 * A table is read whole from the kernel (VIPLB_CMD_RULES_GET), edited in
 * memory and written back whole in one transaction; see
 * include/uapi/linux/viplb.h.  Without the module, the same happens on
 * nf_tables through rt_datapath (below; user/nft/rules.c).  Nothing in
 * model.c, parse*.c or print*.c talks to the kernel, so they run offline
 * too.
 *
 * Functions that can fail return 0, RT_EFAIL or RT_EPARAM; the message
 * (without the program name) is then in rt_error().  RT_EPARAM marks a
 * parameter problem, for which iptables exits with status 2.
 */
#ifndef VIPLB_USER_TABLES_H
#define VIPLB_USER_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/viplb.h>

#define RT_EFAIL (-1)
#define RT_EPARAM (-2)

/* Longest text of one rule in any output format, with a wide margin. */
#define RT_TEXT_MAX 4096
/* Longest comment, without the NUL. */
#define RT_COMMENT_LEN (VIPLB_COMMENT_MAX - 1)
/* Longest chain name, without the NUL. */
#define RT_CHAIN_LEN (VIPLB_CHAIN_NAME_MAX - 1)

/*
 * How the matches of a rule were written: the bytes of
 * VIPLB_RULES_A_MATCH_ORDER.  The kernel stores them and dumps them back
 * unchanged without reading them; the format is user space's own:
 *
 *   byte 0       RT_ORDER_VERSION
 *   bytes 1..N   one enum rt_order_kind per match of the rule, in the
 *                order iptables keeps (and prints) them: the order they
 *                were loaded, by -m or, for tcp and udp, implicitly by
 *                the first of their options after -p
 *
 * A rule has one instance at most of each match, so N <= RT_ORDER_KINDS.
 * The kinds must be exactly the rule's matches: TCP or UDP (the one of
 * its -p) when the spec has VIPLB_M_SPORT, VIPLB_M_DPORT, VIPLB_M_SYN or
 * VIPLB_M_TCP_FLAGS,
 * MULTIPORT for VIPLB_M_MPORTS, CONNTRACK ("-m conntrack") for
 * VIPLB_M_CTSTATE and VIPLB_M_CONNTRACK, or STATE ("-m state --state") for
 * VIPLB_M_CTSTATE alone, MARK for VIPLB_M_MARK,
 * STATISTIC for VIPLB_M_STATISTIC and COMMENT when the rule has a
 * comment, each once.  A rule without matches has no attribute.
 *
 * A rule without the attribute (loaded by an older client), or whose
 * bytes do not follow this format (another version, an unknown kind, a
 * kind twice, kinds that are not the rule's matches), prints in a fixed
 * order: comment, tcp or udp, multiport, conntrack (never state), mark,
 * statistic.
 */
#define RT_ORDER_VERSION 1

enum rt_order_kind {
	RT_ORDER_TCP = 1,
	RT_ORDER_UDP = 2,
	RT_ORDER_MULTIPORT = 3,
	RT_ORDER_CONNTRACK = 4,
	RT_ORDER_STATE = 5,
	RT_ORDER_MARK = 6,
	RT_ORDER_STATISTIC = 7,
	RT_ORDER_COMMENT = 8,
};

/* TCP flag bits as in the TCP header (--tcp-flags, --syn). */
#define RT_TCPF_FIN 0x01
#define RT_TCPF_SYN 0x02
#define RT_TCPF_RST 0x04
#define RT_TCPF_PSH 0x08
#define RT_TCPF_ACK 0x10
#define RT_TCPF_URG 0x20

/* Matches of a rule: tcp/udp, multiport, ctstate, mark, statistic, comment */
#define RT_ORDER_KINDS 6

struct rt_rule {
	struct viplb_rule_spec spec;
	char target[VIPLB_CHAIN_NAME_MAX]; /* chain of a JUMP or GOTO */
	char *comment; /* NULL if none; owned */
	/* VIPLB_RULES_A_MATCH_ORDER as parsed or dumped, sent unchanged. */
	uint8_t order[VIPLB_MATCH_ORDER_MAX];
	uint8_t order_len; /* 0: no attribute */
	uint64_t handle; /* when has_handle: the live rule it continues */
	uint64_t pkts;
	uint64_t bytes;
	bool has_handle;
	/* Send pkts and bytes; with the handle, the rule keeps its nth state. */
	bool set_counters;
	unsigned int line; /* viplb-restore line that made it, or 0 */
};

struct rt_chain {
	char name[VIPLB_CHAIN_NAME_MAX];
	int hook; /* enum viplb_hook, or RT_USER_CHAIN */
	uint32_t policy; /* built-in chains: VIPLB_V_ACCEPT or VIPLB_V_DROP */
	uint64_t pkts; /* built-in chains: policy counters */
	uint64_t bytes;
	bool set_counters; /* send pkts and bytes */
	uint32_t refs; /* user chains: rules jumping here, as dumped */
	unsigned int line; /* viplb-restore line that declared it, or 0 */
	struct rt_rule *rules;
	size_t nr_rules;
	size_t cap_rules;
};

#define RT_USER_CHAIN (-1)

struct rt_table {
	uint16_t af;
	uint32_t id; /* enum viplb_rtable */
	uint32_t gen; /* when has_gen: the generation dumped */
	bool has_gen;
	struct rt_chain *chains; /* built-in chains first, in hook order */
	size_t nr_chains;
	size_t cap_chains;
	/* Hash index of chain names: slot -> chain index + 1, 0 if free. */
	uint32_t *index;
	size_t index_size;
	bool index_stale;
};

/* Commands of an iptables command line (struct rt_cmd.cmds). */
enum rt_cmd_bits {
	RT_CMD_APPEND = 1U << 0,
	RT_CMD_INSERT = 1U << 1,
	RT_CMD_REPLACE = 1U << 2,
	RT_CMD_DELETE = 1U << 3, /* by rule spec, or by number if rulenum */
	RT_CMD_CHECK = 1U << 4,
	RT_CMD_LIST = 1U << 5,
	RT_CMD_LIST_RULES = 1U << 6,
	RT_CMD_FLUSH = 1U << 7,
	RT_CMD_ZERO = 1U << 8,
	RT_CMD_NEW_CHAIN = 1U << 9,
	RT_CMD_DEL_CHAIN = 1U << 10,
	RT_CMD_POLICY = 1U << 11,
	RT_CMD_RENAME = 1U << 12,
	RT_CMD_DECLARE = 1U << 13, /* viplb-restore ":CHAIN POLICY [p:b]" */
};

/* Options of an iptables command line (struct rt_cmd.opts). */
enum rt_opt_bits {
	RT_OPT_NUMERIC = 1U << 0,
	RT_OPT_VERBOSE = 1U << 1,
	RT_OPT_EXACT = 1U << 2,
	RT_OPT_LINE_NUMBERS = 1U << 3,
	RT_OPT_SOURCE = 1U << 4,
	RT_OPT_DEST = 1U << 5,
	RT_OPT_PROTO = 1U << 6,
	RT_OPT_JUMP = 1U << 7, /* -j or -g */
	RT_OPT_IN = 1U << 8,
	RT_OPT_OUT = 1U << 9,
	RT_OPT_COUNTERS = 1U << 10, /* -c PKTS BYTES */
	RT_OPT_MATCH = 1U << 11, /* -m and match options */
	RT_OPT_TABLE = 1U << 12,
	RT_OPT_FAMILY = 1U << 13, /* -4 or -6 */
	RT_OPT_WAIT = 1U << 14,
	RT_OPT_WAIT_INTERVAL = 1U << 15,
	RT_OPT_JSON = 1U << 16,
	RT_OPT_PRETTY = 1U << 17,
};

/* One parsed iptables command line, or one line of a restore file. */
struct rt_cmd {
	unsigned int cmds; /* RT_CMD_* */
	unsigned int opts; /* RT_OPT_* */
	bool help;
	bool version;
	uint16_t af;
	uint32_t table;
	char chain[VIPLB_CHAIN_NAME_MAX]; /* "" if none */
	char new_name[VIPLB_CHAIN_NAME_MAX]; /* -E */
	unsigned int rulenum; /* 0 if none */
	uint32_t policy; /* -P and ":CHAIN": VIPLB_V_NONE for "-" */
	struct rt_rule rule; /* rule commands; owns rule.comment */
	unsigned int wait; /* -w seconds, 0 for "forever" */
	const char *offline; /* hidden --offline FILE: the state file */
	unsigned int line; /* restore file line, 0 on the command line */
};

/* What rt_parse_args() parses. */
struct rt_parse_env {
	bool restore; /* a restore file line: no -t, no listing */
	uint16_t af; /* initial family; -4/-6 switch it unless restore */
	uint32_t table; /* the table of a restore line */
};

/* Errors (model.c). */
const char *rt_error(void);
int rt_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int rt_param(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A value for a message: quote_arg() of parse.h, in double quotes. */
#define RT_Q "\"%s\""

/* Tables and chains (model.c). */
const char *rt_table_name(uint32_t id);
/* filter or nat; an error names unsupported iptables tables. */
int rt_table_by_name(const char *name, uint32_t *id);
const char *rt_family_name(uint16_t af);
/* The built-in chain called name in table id, or RT_USER_CHAIN. */
int rt_builtin_hook(uint32_t id, const char *name);

int rt_table_init(struct rt_table *t, uint16_t af, uint32_t id);
void rt_table_free(struct rt_table *t);
struct rt_chain *rt_find_chain(struct rt_table *t, const char *name);
/* Add an empty user chain; pointers to chains are invalid afterwards. */
struct rt_chain *rt_add_chain(struct rt_table *t, const char *name);
/* Chains in listing order: built-ins by hook, then user chains by name. */
size_t *rt_chain_order(const struct rt_table *t);
/* Nothing to hook: no rule, no user chain, every policy ACCEPT. */
bool rt_table_empty(const struct rt_table *t);
/* Recount refs of every user chain from the rules (offline use). */
void rt_update_refs(struct rt_table *t);

void rt_rule_free(struct rt_rule *r);
/*
 * The matches of r in the order to print them (enum rt_order_kind),
 * decoded from r->order, or the fixed order if it is absent or does not
 * fit r; returns how many.
 */
/* tcp, udp, udplite, sctp, dccp (the protocols with ports), or NULL. */
const char *rt_port_proto_name(uint8_t proto);
/*
 * The flags a rule's tcp match compares, (flags & mask) == cmp, for --syn
 * and --tcp-flags alike, with the match bit of the rule; false if none.
 */
bool rt_tcp_flags(const struct viplb_rule_spec *s, uint8_t *mask,
		  uint8_t *cmp, uint32_t *bit);
size_t rt_match_order(const struct rt_rule *r, uint8_t kinds[RT_ORDER_KINDS]);
/* Insert a copy of r at pos (0-based); returns -1 on ENOMEM. */
int rt_insert_rule(struct rt_chain *c, size_t pos, const struct rt_rule *r);

/*
 * Apply an editing command (-A -I -R -D -F -Z -N -X -P -E, and restore's
 * chain lines; noflush: a redeclared user chain is emptied, not an
 * error).  -C fails if the rule is absent; listing changes nothing.
 */
int rt_apply(struct rt_table *t, const struct rt_cmd *cmd, bool noflush);

/* Parsing (parse.c and parse_*.c). */
int rt_parse_args(int argc, char **argv, const struct rt_parse_env *env,
		  struct rt_cmd *cmd);
void rt_cmd_free(struct rt_cmd *cmd);
/* Whether this viplb can print every field of a dumped rule. */
int rt_check_spec(uint16_t af, const struct rt_rule *r);
/* Chain names a new chain may have (-N, -E, restore ":NAME"). */
int rt_check_new_chain_name(const char *name);
int rt_parse_policy(const char *s, uint32_t table, uint32_t *policy);

/* Output (print.c, print_values.c). */
enum rt_fmt_bits {
	RT_FMT_NUMERIC = 1U << 0, /* -n */
	RT_FMT_VERBOSE = 1U << 1, /* -v: counters and interfaces */
	RT_FMT_EXACT = 1U << 2, /* -x */
	RT_FMT_LINE_NUMBERS = 1U << 3, /* --line-numbers */
};

struct rt_text {
	char s[RT_TEXT_MAX];
	size_t len;
};

/* "-A CHAIN ..." as iptables-save writes it; "-c P B" if counters. */
void rt_text_rule(struct rt_text *tx, const struct rt_table *t,
		  const struct rt_chain *c, const struct rt_rule *r,
		  bool counters);
/* -S [CHAIN [N]]: every chain if c is NULL. */
void rt_print_rules(FILE *fp, const struct rt_table *t,
		    const struct rt_chain *c, unsigned int rulenum,
		    bool counters);
/* -L [CHAIN [N]]. */
void rt_print_list(FILE *fp, const struct rt_table *t, const struct rt_chain *c,
		   unsigned int rulenum, unsigned int fmt);
/* The one-line form iptables -v prints for -A, -I, -R, -D and -C. */
void rt_print_rule_verbose(FILE *fp, const struct rt_table *t,
			   const struct rt_rule *r);
/* "*table" ... "COMMIT", without the comment lines. */
void rt_print_save(FILE *fp, const struct rt_table *t, bool counters);
/* -L as JSON through print.h. */
void rt_print_json(const struct rt_table *t, const struct rt_chain *c,
		   unsigned int rulenum);

/* Netlink (nl.c). */
struct nl_sock;
struct nl_error;

/* Dump table (af, id) into t; returns 0 or -1 with *err set. */
int rt_dump_table(struct nl_sock *nl, uint16_t af, uint32_t id,
		  struct rt_table *t, struct nl_error *err);

/*
 * What rt_dump_table() has read so far.  rt_dump_msg() is its reply
 * parser (nl_data_cb, data a struct rt_dump_state): one message of the
 * dump into t.  A malformed message sets bad; a generation other than
 * the first sets gen_changed.  0, or -ENOMEM.  Exported for
 * fuzz/print_fuzz.c.
 */
struct rt_dump_state {
	struct rt_table *t;
	struct rt_chain *chain; /* the chain the next rules belong to */
	bool gen_changed;
	bool bad;
};

struct nlmsghdr;
int rt_dump_msg(const struct nlmsghdr *nlh, void *data);

/* Where a load failed: the table, chain and rule being sent. */
struct rt_load_fail {
	const struct rt_table *table;
	const struct rt_chain *chain; /* NULL for the table itself */
	const struct rt_rule *rule; /* NULL for a chain */
	size_t rule_num; /* 1-based number of rule in chain */
	bool commit; /* the commit failed */
	bool begin; /* the transaction could not start */
	/* The rule cannot be loaded into this datapath: why (no errno). */
	const char *why;
};

/*
 * Replace tables[0..n-1] in one transaction.  wait: seconds to wait
 * while another transaction is open (-1: none, 0: forever).  Returns 0
 * or -1 with *err and *fail set; err->error is EAGAIN if a table changed
 * since it was dumped.
 */
int rt_load_tables(struct nl_sock *nl, struct rt_table *const *tables, size_t n,
		   int wait, struct nl_error *err, struct rt_load_fail *fail);

/*
 * Where the rule tables live.  The module (generic netlink, nl.c) unless
 * rt_datapath is set: the viplb command sets it from its target layer to
 * nf_tables (user/nft/rules.c) when that is the datapath.  dump and load
 * keep the contracts of rt_dump_table() and rt_load_tables().
 */
struct rt_datapath {
	const char *name; /* for messages: "nf_tables" */
	int (*dump)(uint16_t af, uint32_t id, struct rt_table *t,
		    struct nl_error *err);
	int (*load)(struct rt_table *const *tables, size_t n,
		    struct nl_error *err, struct rt_load_fail *fail);
};

extern const struct rt_datapath *rt_datapath;

/* rt_dump_table() or rt_datapath's dump (nl unused then, may be NULL). */
int rt_get_table(struct nl_sock *nl, uint16_t af, uint32_t id,
		 struct rt_table *t, struct nl_error *err);
/* rt_load_tables() or rt_datapath's load. */
int rt_put_tables(struct nl_sock *nl, struct rt_table *const *tables,
		  size_t n, int wait, struct nl_error *err,
		  struct rt_load_fail *fail);
/* The module's socket (NULL, reported, if it is absent), or none needed. */
bool rt_open(struct nl_sock **nl);

/*
 * nf_tables syntax (print_nft.c): why rule r of chain c cannot be
 * expressed there, or NULL; the table as "nft -f" reads it.
 */
const char *rt_nft_refusal(const struct rt_table *t, const struct rt_rule *r);
/* "ct status" bits of --ctstate SNAT and DNAT (IPS_SRC_NAT, IPS_DST_NAT). */
#define RT_NFT_CT_STATUS_SNAT 0x10U
#define RT_NFT_CT_STATUS_DNAT 0x20U
uint32_t rt_nft_nat_status(uint8_t ctstate);
/* The ms of nf_tables' "ct expiration" in which --ctexpire's seconds hold. */
void rt_nft_expire_ms(const uint32_t secs[2], uint32_t ms[2]);
void rt_print_nft(FILE *fp, const struct rt_table *t);

/* A line split as iptables-restore splits it (restore.c). */
struct rt_tokens {
	char **argv;
	size_t cap;
	char *buf;
	size_t buf_size;
	int argc;
};

/* 0, or RT_EFAIL/RT_EPARAM with rt_error(); argv ends with a NULL. */
int rt_tokenize(struct rt_tokens *t, const char *line, size_t len);
void rt_tokens_free(struct rt_tokens *t);

/* Commands (tables.c, restore.c); argv[0] is the first argument. */
int tables_main(const char *prog, uint16_t af, int argc, char **argv);
int tables_save_main(const char *prog, uint16_t af, int argc, char **argv);
int tables_restore_main(const char *prog, uint16_t af, int argc, char **argv);
/*
 * viplb-restore --test on @len bytes of @text (no NUL needed): every line
 * checked and applied to empty tables, no kernel involved.  Returns the
 * exit status (0, 1, or 2 for a parameter problem), errors reported.
 */
int rt_restore_check(const char *prog, uint16_t af, const char *text,
		     size_t len);
/* Program name for messages, and "line N: " for restore. */
void rt_report(const char *prog, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A kernel or system error, with the kernel's extack message. */
void rt_report_nl(const char *prog, unsigned int line, const char *what,
		  const struct nl_error *err);
/* Read a save-format state file (hidden --offline of viplb-tables). */
int rt_read_state(const char *prog, const char *file, uint16_t af, uint32_t id,
		  struct rt_table *t);

#endif /* VIPLB_USER_TABLES_H */
