// SPDX-License-Identifier: GPL-2.0
/*
 * Pure parsing for the viplb command.  See parse.h.
 *
 * Keywords are matched exactly: no prefixes, no case folding.  Every error
 * message quotes the offending value (truncated, see quote_arg()) and, where
 * there is a fixed set of choices, lists them.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/viplb.h>

#include <viplb/maglev.h>

#include "errors.h"
#include "parse.h"
#include "util.h"

static char errbuf[512];

static const char *const sched_names[] = {
	[VIPLB_SCHED_RR] = "rr",	 [VIPLB_SCHED_WRR] = "wrr",
	[VIPLB_SCHED_LC] = "lc",	 [VIPLB_SCHED_SH] = "sh",
	[VIPLB_SCHED_MAGLEV] = "maglev",
};

static const char *const mode_names[] = {
	[VIPLB_MODE_NAT] = "nat",
	[VIPLB_MODE_DR] = "dr",
	[VIPLB_MODE_TUN] = "tun",
};

static const char *const pin_names[] = {
	[VIPLB_PIN_NONE] = "none",
	[VIPLB_PIN_FLOW] = "flow",
	[VIPLB_PIN_CONNTRACK] = "conntrack",
};

#define VIP_SYNTAX "IPV4:PORT or [IPV6]:PORT"
#define BACKEND_SYNTAX "IPV4[:PORT], IPV6 or [IPV6][:PORT]"
#define SOURCE_SYNTAX "IPV4:PORT or [IPV6]:PORT"
#define TABLE_SIZE_HINT "use auto or a prime in 251..131071, e.g. 65537"

int parse_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	return -1;
}

/* Like parse_fail(), for errors after which the usage should be shown. */
#define usage_fail(...) (parse_fail(__VA_ARGS__), PARSE_USAGE)

const char *parse_error(void)
{
	return errbuf;
}

int parse_failed(int ret)
{
	errmsg("%s", errbuf);
	return ret == PARSE_USAGE ? CMD_USAGE : 1;
}

const char *quote_arg(const char *s)
{
	/* A few rotating buffers, so one message can quote several values. */
	static char bufs[4][72];
	static unsigned int next;
	char *b = bufs[next++ % ARRAY_SIZE(bufs)];
	size_t i, len = strnlen(s, 65);

	/* Keep values up to 64 characters whole; cut longer ones to 60. */
	if (len > 64)
		len = 60;
	for (i = 0; i < len; i++)
		b[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	strcpy(b + i, s[i] ? "..." : "");
	return b;
}

static int check_len(const char *what, const char *s)
{
	size_t len = strnlen(s, ARG_MAX_LEN + 1);

	if (len > ARG_MAX_LEN)
		return parse_fail("%s `%s' is too long (max %d characters)", what,
			    quote_arg(s), ARG_MAX_LEN);
	return 0;
}

static const char *choices(const char *const *names, size_t n)
{
	static char buf[128];
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < n; i++)
		off += snprintf(buf + off, sizeof(buf) - off, "%s%s",
				i ? ", " : "", names[i]);
	return buf;
}

int parse_match(const char *s, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (names[i] && !strcmp(s, names[i]))
			return i;
	return -1;
}

/* Strict decimal: digits only, no sign, no blanks, no base prefixes. */
static int str_to_ulong(const char *s, unsigned long max, unsigned long *val)
{
	unsigned long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (max - (*s - '0')) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	*val = v;
	return 0;
}

int parse_uint(const char *s, unsigned long max, unsigned long *val)
{
	if (check_len("number", s))
		return -1;
	if (str_to_ulong(s, max, val))
		return parse_fail("invalid number `%s' (use 0..%lu)", quote_arg(s),
			    max);
	return 0;
}

int parse_port(const char *s, uint16_t *port)
{
	unsigned long v;

	if (check_len("port", s))
		return -1;
	if (str_to_ulong(s, 65535, &v))
		return parse_fail("invalid port `%s' (use 0..65535)", quote_arg(s));
	*port = v;
	return 0;
}

/* Port after "ADDR:" inside the larger argument whole, for the message. */
static int parse_port_in(const char *s, const char *what, const char *whole,
			 uint16_t *port)
{
	unsigned long v;

	if (str_to_ulong(s, 65535, &v))
		return parse_fail("invalid port `%s' in %s `%s' (use 0..65535)",
			    quote_arg(s), what, quote_arg(whole));
	*port = v;
	return 0;
}

int parse_proto(const char *s, uint8_t *proto)
{
	if (check_len("protocol", s))
		return -1;
	if (!strcmp(s, "tcp"))
		*proto = IPPROTO_TCP;
	else if (!strcmp(s, "udp"))
		*proto = IPPROTO_UDP;
	else
		return parse_fail("invalid protocol `%s' (use tcp, udp)",
			    quote_arg(s));
	return 0;
}

static unsigned int count_char(const char *s, char c)
{
	unsigned int n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

/*
 * Split "ADDR[:PORT]" or "[ADDR][:PORT]" in s into an address string in
 * host (size hostlen) and a pointer to the port text (NULL if none).
 * Returns the address family the text looks like, or -1 if it is not even
 * shaped like an address.  The address itself is validated by the caller.
 */
static int split_addrport(const char *s, char *host, size_t hostlen,
			  const char **port)
{
	const char *end;
	size_t len;

	*port = NULL;
	if (s[0] == '[') {
		end = strchr(s, ']');
		if (!end)
			return -1;
		len = end - (s + 1);
		if (len >= hostlen)
			return -1;
		memcpy(host, s + 1, len);
		host[len] = '\0';
		if (end[1] == ':')
			*port = end + 2;
		else if (end[1])
			return -1;
		return AF_INET6;
	}
	if (count_char(s, ':') >= 2) {
		/* A bare IPv6 address: it cannot carry a port. */
		if (strlen(s) >= hostlen)
			return -1;
		strcpy(host, s);
		return AF_INET6;
	}
	end = strchr(s, ':');
	len = end ? (size_t)(end - s) : strlen(s);
	if (len >= hostlen)
		return -1;
	memcpy(host, s, len);
	host[len] = '\0';
	if (end)
		*port = end + 1;
	return AF_INET;
}

int parse_vip(const char *s, struct svc_key *key)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port;
	int af;

	if (check_len("VIP", s))
		return -1;
	if (s[0] == '[' && !strchr(s, ']'))
		return parse_fail("invalid VIP `%s': missing `]' (use " VIP_SYNTAX
			    ")",
			    quote_arg(s));
	af = split_addrport(s, host, sizeof(host), &port);
	if (af == AF_INET6 && s[0] != '[')
		return parse_fail(
			"invalid VIP `%s': write an IPv6 VIP as [IPV6]:PORT",
			quote_arg(s));
	if (af < 0 || inet_pton(af, host, &key->addr) != 1)
		return parse_fail("invalid VIP `%s' (use " VIP_SYNTAX ")",
			    quote_arg(s));
	if (!port)
		return parse_fail("missing port in VIP `%s' (use " VIP_SYNTAX
			    ", port 0 for every port)",
			    quote_arg(s));
	if (parse_port_in(port, "VIP", s, &key->port))
		return -1;
	key->af = af;
	return 0;
}

int parse_backend(const char *s, const struct svc_key *svc, struct be_key *be)
{
	char host[INET6_ADDRSTRLEN + 1], vip[ADDRPORT_STRLEN];
	const char *port;
	int af;

	if (check_len("backend", s))
		return -1;
	af = split_addrport(s, host, sizeof(host), &port);
	if (af < 0 || inet_pton(af, host, &be->addr) != 1)
		return parse_fail("invalid backend `%s' (use " BACKEND_SYNTAX ")",
			    quote_arg(s));
	if (af != svc->af)
		return parse_fail(
			"address family of backend `%s' does not match VIP `%s'",
			quote_arg(s),
			format_addrport(vip, sizeof(vip), svc->af, &svc->addr,
					svc->port));
	if (!port)
		be->port = svc->port;
	else if (parse_port_in(port, "backend", s, &be->port))
		return -1;
	return 0;
}

int parse_source(const char *s, const struct svc_key *svc, struct flow_src *src)
{
	char host[INET6_ADDRSTRLEN + 1], vip[ADDRPORT_STRLEN];
	const char *port;
	int af;

	if (check_len("source", s))
		return -1;
	memset(src, 0, sizeof(*src));
	af = split_addrport(s, host, sizeof(host), &port);
	if (af == AF_INET6 && s[0] != '[')
		return parse_fail(
			"invalid source `%s': write an IPv6 source as [IPV6]:PORT",
			quote_arg(s));
	if (af < 0 || inet_pton(af, host, &src->addr) != 1)
		return parse_fail("invalid source `%s' (use " SOURCE_SYNTAX ")",
			    quote_arg(s));
	if (af != svc->af)
		return parse_fail(
			"address family of source `%s' does not match VIP `%s'",
			quote_arg(s),
			format_addrport(vip, sizeof(vip), svc->af, &svc->addr,
					svc->port));
	if (!port)
		return parse_fail("missing port in source `%s' (use " SOURCE_SYNTAX
			    ")",
			    quote_arg(s));
	return parse_port_in(port, "source", s, &src->port);
}

int parse_sched(const char *s, uint32_t *sched)
{
	int i;

	if (check_len("sched", s))
		return -1;
	i = parse_match(s, sched_names, ARRAY_SIZE(sched_names));
	if (i < 0)
		return parse_fail("invalid sched `%s' (use %s)", quote_arg(s),
			    choices(sched_names, ARRAY_SIZE(sched_names)));
	*sched = i;
	return 0;
}

int parse_mode(const char *s, uint32_t *mode)
{
	int i;

	if (check_len("mode", s))
		return -1;
	i = parse_match(s, mode_names, ARRAY_SIZE(mode_names));
	if (i < 0)
		return parse_fail("invalid mode `%s' (use %s)", quote_arg(s),
			    choices(mode_names, ARRAY_SIZE(mode_names)));
	*mode = i;
	return 0;
}

int parse_weight(const char *s, uint32_t *weight)
{
	unsigned long v;

	if (check_len("weight", s))
		return -1;
	if (str_to_ulong(s, VIPLB_WEIGHT_MAX, &v))
		return parse_fail("invalid weight `%s' (use 0..%d)", quote_arg(s),
			    VIPLB_WEIGHT_MAX);
	*weight = v;
	return 0;
}

int parse_table_size(const char *s, uint32_t *size)
{
	unsigned long v;

	if (check_len("table-size", s))
		return -1;
	if (!strcmp(s, "auto")) {
		*size = 0;
		return 0;
	}
	if (str_to_ulong(s, 0xffffffffUL, &v) || v < VIPLB_TABLE_SIZE_MIN ||
	    v > VIPLB_TABLE_SIZE_MAX)
		return parse_fail("invalid table-size `%s' (" TABLE_SIZE_HINT ")",
			    quote_arg(s));
	if (!viplb_maglev_is_prime(v))
		return parse_fail(
			"invalid table-size `%s': not a prime (" TABLE_SIZE_HINT
			")",
			quote_arg(s));
	*size = v;
	return 0;
}

int tokenize_line(char *line, char **argv, int max)
{
	int argc = 0;
	char *p = line;

	for (;;) {
		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			break;
		if (argc == max)
			return parse_fail("too many arguments (max %d)", max);
		argv[argc++] = p;
		while (*p && *p != '#' && !isspace((unsigned char)*p))
			p++;
		if (*p == '#') {
			*p = '\0';
			break;
		}
		if (*p)
			*p++ = '\0';
	}
	return argc;
}

const char *proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	}
	return NULL;
}

const char *sched_name(uint32_t sched)
{
	return sched < ARRAY_SIZE(sched_names) ? sched_names[sched] : NULL;
}

const char *mode_name(uint32_t mode)
{
	return mode < ARRAY_SIZE(mode_names) ? mode_names[mode] : NULL;
}

const char *pin_name(uint32_t pin)
{
	return pin < ARRAY_SIZE(pin_names) ? pin_names[pin] : NULL;
}

unsigned int addr_len(uint16_t af)
{
	return af == AF_INET6 ? 16 : 4;
}

char *format_addr(char *buf, size_t len, uint16_t af, const union inet_addr *a)
{
	if (!inet_ntop(af, a, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

char *format_addrport(char *buf, size_t len, uint16_t af,
		      const union inet_addr *a, uint16_t port)
{
	char host[INET6_ADDRSTRLEN];

	format_addr(host, sizeof(host), af, a);
	if (af == AF_INET6)
		snprintf(buf, len, "[%s]:%u", host, port);
	else
		snprintf(buf, len, "%s:%u", host, port);
	return buf;
}

static const char *op_words(enum cmd_op op)
{
	switch (op) {
	case OP_SVC_ADD:
		return "service add";
	case OP_SVC_SET:
		return "service set";
	case OP_SVC_DEL:
		return "service del";
	case OP_SVC_SHOW:
		return "service show";
	case OP_SVC_LOOKUP:
		return "service lookup";
	case OP_BE_ADD:
		return "backend add";
	case OP_BE_SET:
		return "backend set";
	case OP_BE_DEL:
		return "backend del";
	case OP_FLUSH:
		return "flush";
	case OP_STATS_ZERO:
		return "stats zero";
	case OP_NONE:
		break;
	}
	return "?";
}

static bool op_is_backend(enum cmd_op op)
{
	return op == OP_BE_ADD || op == OP_BE_SET || op == OP_BE_DEL;
}

/* Appends to buf at *off, never overflowing; output is truncated instead. */
__attribute__((format(printf, 4, 5))) static void
append(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += n;
}

static void append_key(char *buf, size_t len, size_t *off,
		       const struct config_cmd *cmd)
{
	char s[ADDRPORT_STRLEN];
	const char *proto = proto_name(cmd->svc.proto);

	if (proto)
		append(buf, len, off, " %s", proto);
	else
		append(buf, len, off, " %u", cmd->svc.proto);
	append(buf, len, off, " %s",
	       format_addrport(s, sizeof(s), cmd->svc.af, &cmd->svc.addr,
			       cmd->svc.port));
	if (op_is_backend(cmd->op))
		append(buf, len, off, " %s",
		       format_addrport(s, sizeof(s), cmd->svc.af, &cmd->be.addr,
				       cmd->be.port));
	if (cmd->has & HAS_SRC)
		append(buf, len, off, " from %s",
		       format_addrport(s, sizeof(s), cmd->svc.af,
				       &cmd->src.addr, cmd->src.port));
	if (cmd->has & HAS_DPORT)
		append(buf, len, off, " dport %u", cmd->dport);
}

char *format_cmd(char *buf, size_t len, const struct config_cmd *cmd)
{
	size_t off = 0;

	buf[0] = '\0';
	append(buf, len, &off, "%s", op_words(cmd->op));
	if (cmd->has & HAS_KEY)
		append_key(buf, len, &off, cmd);
	return buf;
}

char *format_cmds(char *buf, size_t len, const struct config_cmd *cmds,
		  size_t n)
{
	size_t off;

	format_cmd(buf, len, &cmds[0]);
	off = strlen(buf);
	if (n > 1)
		append(buf, len, &off, " and %zu more", n - 1);
	return buf;
}

char *format_cmd_line(char *buf, size_t len, const struct config_cmd *cmd)
{
	size_t off = 0;

	format_cmd(buf, len, cmd);
	off = strlen(buf);
	if (cmd->has & HAS_SCHED) {
		if (sched_name(cmd->sched))
			append(buf, len, &off, " sched %s",
			       sched_name(cmd->sched));
		else
			append(buf, len, &off, " sched %u", cmd->sched);
	}
	if (cmd->has & HAS_MODE) {
		if (mode_name(cmd->mode))
			append(buf, len, &off, " mode %s",
			       mode_name(cmd->mode));
		else
			append(buf, len, &off, " mode %u", cmd->mode);
	}
	if (cmd->has & HAS_TABLE_SIZE && !cmd->table_size)
		append(buf, len, &off, " table-size auto");
	else if (cmd->has & HAS_TABLE_SIZE)
		append(buf, len, &off, " table-size %u", cmd->table_size);
	if (cmd->has & HAS_FLAGS) {
		if (cmd->flags & VIPLB_SVC_F_SNAT)
			append(buf, len, &off, " snat");
		else if (cmd->op == OP_SVC_SET)
			append(buf, len, &off, " nosnat");
	}
	if (cmd->has & HAS_WEIGHT)
		append(buf, len, &off, " weight %u", cmd->weight);
	if (cmd->has & HAS_FLUSH)
		append(buf, len, &off, " flush");
	return buf;
}

/* Pull the next positional argument, or fail with "OBJ CMD: missing WHAT". */
static const char *next_arg(int *argc, char ***argv, const char *ctx,
			    const char *what)
{
	const char *s;

	if (*argc == 0) {
		parse_fail("%s: missing %s", ctx, what);
		return NULL;
	}
	s = **argv;
	(*argc)--;
	(*argv)++;
	return s;
}

static int parse_key(int *argc, char ***argv, const char *ctx,
		     struct config_cmd *cmd)
{
	const char *s;

	s = next_arg(argc, argv, ctx, "PROTO");
	if (!s || parse_proto(s, &cmd->svc.proto))
		return -1;
	s = next_arg(argc, argv, ctx, "VIP:PORT");
	if (!s || parse_vip(s, &cmd->svc))
		return -1;
	cmd->has |= HAS_KEY;
	return 0;
}

/* Value after keyword kw, with the valid choices for the message. */
static const char *kw_value(int *argc, char ***argv, const char *ctx,
			    const char *kw, const char *hint)
{
	if (*argc == 0) {
		parse_fail("%s: missing value after `%s' (%s)", ctx, kw, hint);
		return NULL;
	}
	(*argc)--;
	return *(*argv)++;
}

static int once(unsigned int *has, unsigned int bit, const char *kw,
		const char *ctx)
{
	if (*has & bit)
		return parse_fail("duplicate keyword `%s' for %s", kw, ctx);
	*has |= bit;
	return 0;
}

static int parse_svc_opts(int argc, char **argv, const char *ctx,
			  struct config_cmd *cmd)
{
	const char *kw, *v;

	while (argc > 0) {
		kw = *argv++;
		argc--;
		if (!strcmp(kw, "sched")) {
			v = kw_value(&argc, &argv, ctx, kw,
				     "use rr, wrr, lc, sh, maglev");
			if (!v || once(&cmd->has, HAS_SCHED, kw, ctx) ||
			    parse_sched(v, &cmd->sched))
				return -1;
		} else if (!strcmp(kw, "mode")) {
			v = kw_value(&argc, &argv, ctx, kw, "use nat, dr, tun");
			if (!v || once(&cmd->has, HAS_MODE, kw, ctx) ||
			    parse_mode(v, &cmd->mode))
				return -1;
		} else if (!strcmp(kw, "table-size")) {
			v = kw_value(&argc, &argv, ctx, kw, TABLE_SIZE_HINT);
			if (!v || once(&cmd->has, HAS_TABLE_SIZE, kw, ctx) ||
			    parse_table_size(v, &cmd->table_size))
				return -1;
		} else if (!strcmp(kw, "snat") ||
			   (cmd->op == OP_SVC_SET && !strcmp(kw, "nosnat"))) {
			if (cmd->has & HAS_FLAGS)
				return parse_fail(
					"duplicate or conflicting keyword `%s' for %s",
					kw, ctx);
			cmd->has |= HAS_FLAGS;
			cmd->flags = kw[0] == 's' ? VIPLB_SVC_F_SNAT : 0;
		} else {
			return parse_fail("unknown keyword `%s' for %s",
				    quote_arg(kw), ctx);
		}
	}
	return 0;
}

static int no_more(int argc, char **argv, const char *ctx)
{
	if (argc > 0)
		return parse_fail("unexpected argument `%s' for %s",
			    quote_arg(argv[0]), ctx);
	return 0;
}

/* "from SRC:SPORT [dport PORT]" of service lookup, after the key. */
static int parse_lookup_opts(int argc, char **argv, const char *ctx,
			     struct config_cmd *cmd)
{
	char vip[ADDRPORT_STRLEN];
	const char *kw, *v;

	while (argc > 0) {
		kw = *argv++;
		argc--;
		if (!strcmp(kw, "from")) {
			v = kw_value(&argc, &argv, ctx, kw,
				     "use " SOURCE_SYNTAX);
			if (!v || once(&cmd->has, HAS_SRC, kw, ctx) ||
			    parse_source(v, &cmd->svc, &cmd->src))
				return -1;
		} else if (!strcmp(kw, "dport")) {
			v = kw_value(&argc, &argv, ctx, kw, "use 0..65535");
			if (!v || once(&cmd->has, HAS_DPORT, kw, ctx) ||
			    parse_port(v, &cmd->dport))
				return -1;
		} else {
			return parse_fail("unknown keyword `%s' for %s",
				    quote_arg(kw), ctx);
		}
	}
	if (!(cmd->has & HAS_SRC))
		return parse_fail(
			"%s: missing source (use from IPV4:PORT or from [IPV6]:PORT)",
			ctx);
	if ((cmd->has & HAS_DPORT) && cmd->svc.port)
		return parse_fail("%s: `dport' is only for a VIP of port 0, not `%s'",
			    ctx,
			    format_addrport(vip, sizeof(vip), cmd->svc.af,
					    &cmd->svc.addr, cmd->svc.port));
	return 0;
}

int parse_show_args(int argc, char **argv, const char *ctx,
		    struct config_cmd *cmd)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->op = OP_SVC_SHOW;
	if (argc == 0)
		return 0;
	if (parse_key(&argc, &argv, ctx, cmd))
		return -1;
	return no_more(argc, argv, ctx);
}

int parse_service_cmd(int argc, char **argv, struct config_cmd *cmd)
{
	const char *ctx;

	memset(cmd, 0, sizeof(*cmd));
	if (argc == 0) {
		cmd->op = OP_SVC_SHOW;
		return 0;
	}
	if (!strcmp(argv[0], "add"))
		cmd->op = OP_SVC_ADD;
	else if (!strcmp(argv[0], "set"))
		cmd->op = OP_SVC_SET;
	else if (!strcmp(argv[0], "del"))
		cmd->op = OP_SVC_DEL;
	else if (!strcmp(argv[0], "show"))
		cmd->op = OP_SVC_SHOW;
	else if (!strcmp(argv[0], "lookup"))
		cmd->op = OP_SVC_LOOKUP;
	else
		return parse_fail(
			"unknown command `%s' for service (use add, set, del, show, lookup, help)",
			quote_arg(argv[0]));
	ctx = op_words(cmd->op);
	argc--;
	argv++;

	if (cmd->op == OP_SVC_SHOW)
		return parse_show_args(argc, argv, ctx, cmd);
	if (parse_key(&argc, &argv, ctx, cmd))
		return -1;
	if (cmd->op == OP_SVC_DEL)
		return no_more(argc, argv, ctx);
	if (cmd->op == OP_SVC_LOOKUP)
		return parse_lookup_opts(argc, argv, ctx, cmd);
	if (parse_svc_opts(argc, argv, ctx, cmd))
		return -1;
	if (cmd->op == OP_SVC_SET && !(cmd->has & ~HAS_KEY))
		return parse_fail(
			"%s: nothing to change (use sched, mode, table-size, snat, nosnat)",
			ctx);
	return 0;
}

int parse_backend_cmd(int argc, char **argv, struct config_cmd *cmd)
{
	const char *ctx, *s, *kw, *v;

	memset(cmd, 0, sizeof(*cmd));
	if (argc == 0)
		return usage_fail(
			"backend: missing command (use add, set, del, help)");
	if (!strcmp(argv[0], "add"))
		cmd->op = OP_BE_ADD;
	else if (!strcmp(argv[0], "set"))
		cmd->op = OP_BE_SET;
	else if (!strcmp(argv[0], "del"))
		cmd->op = OP_BE_DEL;
	else
		return parse_fail(
			"unknown command `%s' for backend (use add, set, del, help)",
			quote_arg(argv[0]));
	ctx = op_words(cmd->op);
	argc--;
	argv++;

	if (parse_key(&argc, &argv, ctx, cmd))
		return -1;
	s = next_arg(&argc, &argv, ctx, "ADDR[:PORT]");
	if (!s || parse_backend(s, &cmd->svc, &cmd->be))
		return -1;
	while (argc > 0) {
		kw = *argv++;
		argc--;
		if (cmd->op == OP_BE_DEL && !strcmp(kw, "flush")) {
			if (once(&cmd->has, HAS_FLUSH, kw, ctx))
				return -1;
		} else if (cmd->op != OP_BE_DEL && !strcmp(kw, "weight")) {
			v = kw_value(&argc, &argv, ctx, kw, "use 0..65535");
			if (!v || once(&cmd->has, HAS_WEIGHT, kw, ctx) ||
			    parse_weight(v, &cmd->weight))
				return -1;
		} else {
			return parse_fail("unknown keyword `%s' for %s",
				    quote_arg(kw), ctx);
		}
	}
	if (cmd->op == OP_BE_SET && !(cmd->has & HAS_WEIGHT))
		return parse_fail("%s: missing weight (use weight N)", ctx);
	return 0;
}

int parse_stats_cmd(int argc, char **argv, struct config_cmd *cmd)
{
	uint8_t proto;

	if (argc > 0 && !strcmp(argv[0], "zero")) {
		memset(cmd, 0, sizeof(*cmd));
		cmd->op = OP_STATS_ZERO;
		argc--;
		argv++;
		if (argc == 0)
			return 0;
		if (parse_key(&argc, &argv, "stats zero", cmd))
			return -1;
		return no_more(argc, argv, "stats zero");
	}
	/* Anything else is the optional key of the stats listing. */
	if (argc > 0 && parse_proto(argv[0], &proto))
		return parse_fail(
			"unknown command or protocol `%s' for stats (use zero, help, tcp, udp)",
			quote_arg(argv[0]));
	return parse_show_args(argc, argv, "stats", cmd);
}

int parse_config_cmd(int argc, char **argv, struct config_cmd *cmd)
{
	static const char *const others[] = { "show", "stats", "save",
					      "restore", "help" };
	int ret;

	memset(cmd, 0, sizeof(*cmd));
	if (argc == 0)
		return parse_fail("missing command");
	if (!strcmp(argv[0], "flush")) {
		cmd->op = OP_FLUSH;
		return no_more(argc - 1, argv + 1, "flush");
	}
	if (!strcmp(argv[0], "service")) {
		if (argc >= 2 &&
		    (!strcmp(argv[1], "show") || !strcmp(argv[1], "lookup") ||
		     !strcmp(argv[1], "help")))
			return parse_fail("`service %s' not allowed in restore",
				    argv[1]);
		if (argc == 1)
			return parse_fail("`service show' not allowed in restore");
		ret = parse_service_cmd(argc - 1, argv + 1, cmd);
		return ret ? -1 : 0;
	}
	if (!strcmp(argv[0], "backend")) {
		if (argc >= 2 && !strcmp(argv[1], "help"))
			return parse_fail("`backend help' not allowed in restore");
		ret = parse_backend_cmd(argc - 1, argv + 1, cmd);
		if (ret)
			return -1;
		/* The transaction starts empty: it has no flows to drop. */
		if (cmd->has & HAS_FLUSH)
			return parse_fail(
				"`backend del ... flush' not allowed in restore (use it with -b)");
		return 0;
	}
	if (!strcmp(argv[0], "stats") && argc >= 2 && !strcmp(argv[1], "zero"))
		return parse_fail(
			"`stats zero' not allowed in restore (use it with -b)");
	if (parse_match(argv[0], others, ARRAY_SIZE(others)) >= 0)
		return parse_fail(
			"`%s' not allowed in restore (use service, backend, flush)",
			argv[0]);
	return parse_fail("unknown object `%s' (use service, backend, flush)",
		    quote_arg(argv[0]));
}
