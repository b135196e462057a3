/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pure parsing for the viplb command: protocols, VIP:PORT, ADDR[:PORT],
 * numbers, keywords, batch lines and whole service/backend commands.
 * Nothing here talks to the kernel, so it can be unit tested on any host.
 *
 * Functions return 0 on success and -1 on error; the error message (without
 * the "viplb: " prefix) is then available from parse_error().  A command
 * word missing altogether ("viplb backend") returns PARSE_USAGE instead,
 * after which the usage is shown.
 */
#ifndef VIPLB_USER_PARSE_H
#define VIPLB_USER_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#define PARSE_USAGE (-2)

/* Longest argument accepted anywhere (address, number, keyword, path). */
#define ARG_MAX_LEN 255
/* Most tokens on one batch line. */
#define LINE_MAX_ARGS 64
/* Big enough for "[IPv6]:port" and for "IPv4:port". */
#define ADDRPORT_STRLEN (INET6_ADDRSTRLEN + 8)

union inet_addr {
	struct in_addr v4;
	struct in6_addr v6;
	unsigned char raw[16];
};

/* A service is keyed by (af, proto, addr, port); port in host order. */
struct svc_key {
	uint16_t af;
	uint8_t proto;
	union inet_addr addr;
	uint16_t port;
};

/* A backend is keyed by (addr, port) inside its service. */
struct be_key {
	union inet_addr addr;
	uint16_t port;
};

enum cmd_op {
	OP_NONE,
	OP_SVC_ADD,
	OP_SVC_SET,
	OP_SVC_DEL,
	OP_SVC_SHOW,
	OP_SVC_LOOKUP,
	OP_BE_ADD,
	OP_BE_SET,
	OP_BE_DEL,
	OP_FLUSH,
	OP_STATS_ZERO,
};

/* Bits of struct config_cmd.has: which optional values were given. */
#define HAS_KEY (1U << 0)
#define HAS_SCHED (1U << 1)
#define HAS_MODE (1U << 2)
#define HAS_TABLE_SIZE (1U << 3)
#define HAS_FLAGS (1U << 4)
#define HAS_WEIGHT (1U << 5)
#define HAS_SRC (1U << 6)
#define HAS_DPORT (1U << 7)
#define HAS_FLUSH (1U << 8)

/* The client side of a flow, for service lookup. */
struct flow_src {
	union inet_addr addr;
	uint16_t port;
};

/* One parsed service, backend or stats zero command (or flush). */
struct config_cmd {
	enum cmd_op op;
	unsigned int has;
	struct svc_key svc;
	uint32_t sched;
	uint32_t mode;
	uint32_t table_size; /* HAS_TABLE_SIZE: 0 is "table-size auto" */
	uint32_t flags;
	struct be_key be;
	uint32_t weight;
	struct flow_src src; /* service lookup: the client */
	uint16_t dport; /* service lookup: destination port, HAS_DPORT */
	unsigned int line; /* batch/restore line number, 0 for argv */
};

/* The index of @s in @names[0..n) (exact match; NULLs skipped), or -1. */
int parse_match(const char *s, const char *const *names, size_t n);
const char *parse_error(void);
/*
 * Set the message parse_error() returns, for parsers built on these
 * (lib/health.c).  Returns -1.
 */
int parse_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Report parse_error(); returns CMD_USAGE after PARSE_USAGE, else 1. */
int parse_failed(int ret);
/*
 * Quote a user-supplied value for a message: printable characters only,
 * and values over 64 characters cut to their first 60 and "...".
 */
const char *quote_arg(const char *s);

int parse_proto(const char *s, uint8_t *proto);
int parse_vip(const char *s, struct svc_key *key);
int parse_backend(const char *s, const struct svc_key *svc, struct be_key *be);
/* "IPV4:PORT" or "[IPV6]:PORT", the port required, in svc's family. */
int parse_source(const char *s, const struct svc_key *svc,
		 struct flow_src *src);
int parse_port(const char *s, uint16_t *port);
int parse_uint(const char *s, unsigned long max, unsigned long *val);
int parse_sched(const char *s, uint32_t *sched);
int parse_mode(const char *s, uint32_t *mode);
int parse_weight(const char *s, uint32_t *weight);
int parse_table_size(const char *s, uint32_t *size);

/*
 * Split a batch line in place into whitespace-separated tokens; '#' starts
 * a comment that runs to the end of the line.  Returns the number of tokens
 * (0 for a blank or comment line) or -1 if there are more than max.
 */
int tokenize_line(char *line, char **argv, int max);

/*
 * Parse "service COMMAND ..." / "backend COMMAND ..." / "flush" argument
 * vectors, without the object word: argv[0] is the command ("add" ...).
 * OP_SVC_SHOW may come back without HAS_KEY (show everything).
 * OP_SVC_LOOKUP always has HAS_KEY and HAS_SRC, and HAS_DPORT only for
 * a VIP of port 0.
 */
int parse_service_cmd(int argc, char **argv, struct config_cmd *cmd);
int parse_backend_cmd(int argc, char **argv, struct config_cmd *cmd);
/* Optional "PROTO VIP:PORT" of show and stats; ctx names the command. */
int parse_show_args(int argc, char **argv, const char *ctx,
		    struct config_cmd *cmd);
/*
 * "stats [PROTO VIP:PORT]" (OP_SVC_SHOW) or "stats zero [PROTO VIP:PORT]"
 * (OP_STATS_ZERO), without the object word; either may come back without
 * HAS_KEY (every service).
 */
int parse_stats_cmd(int argc, char **argv, struct config_cmd *cmd);
/*
 * Parse one line of a restore file, argv[0] being the object: service or
 * backend add/set/del, or flush.  Anything else (show, lookup, stats zero,
 * backend del ... flush) is an error.
 */
int parse_config_cmd(int argc, char **argv, struct config_cmd *cmd);

const char *proto_name(uint8_t proto);
const char *sched_name(uint32_t sched);
const char *mode_name(uint32_t mode);
/* "none", "flow", "conntrack" for enum viplb_pin; NULL if unknown. */
const char *pin_name(uint32_t pin);
unsigned int addr_len(uint16_t af);
/* "192.0.2.10:80" or "[2001:db8::1]:80" */
char *format_addrport(char *buf, size_t len, uint16_t af,
		      const union inet_addr *a, uint16_t port);
/* "192.0.2.10" or "2001:db8::1" */
char *format_addr(char *buf, size_t len, uint16_t af, const union inet_addr *a);
/* What a command attempts, e.g. "service add tcp 192.0.2.10:80". */
char *format_cmd(char *buf, size_t len, const struct config_cmd *cmd);
/* A batch's: the first command's, then " and N more" if there are more. */
char *format_cmds(char *buf, size_t len, const struct config_cmd *cmds,
		  size_t n);
/* The batch line that recreates a command, as "viplb save" writes it. */
char *format_cmd_line(char *buf, size_t len, const struct config_cmd *cmd);

#endif /* VIPLB_USER_PARSE_H */
