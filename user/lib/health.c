// SPDX-License-Identifier: GPL-2.0
/* Health lines: parsing.  See health.h. */
#include <string.h>

#include "health.h"
#include "util.h"

static const char *const type_names[] = {
	[HEALTH_TCP] = "tcp",
	[HEALTH_HTTP] = "http",
	[HEALTH_UDP] = "udp",
	[HEALTH_EXEC] = "exec",
};

#define CTX "health"
/* Durations: 1ms .. 1h. */
#define DURATION_MAX_MS 3600000UL
#define DURATION_HINT "use e.g. 200ms, 2s or 1m, up to 1h"

const char *health_type_name(enum health_type type)
{
	return type < ARRAY_SIZE(type_names) ? type_names[type] : "?";
}

/* "200ms", "2s", "1m", or a bare number of seconds. */
static int parse_duration(const char *kw, const char *s, unsigned int *ms)
{
	static const struct {
		const char *suffix;
		unsigned long ms;
	} units[] = { { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "", 1000 } };
	char num[16];
	unsigned long v;
	size_t i, n = strspn(s, "0123456789");

	for (i = 0; i < ARRAY_SIZE(units); i++)
		if (!strcmp(s + n, units[i].suffix))
			break;
	if (!n || n >= sizeof(num) || i == ARRAY_SIZE(units))
		return parse_fail("invalid duration `%s' for `%s' (%s)",
				  quote_arg(s), kw, DURATION_HINT);
	memcpy(num, s, n);
	num[n] = '\0';
	if (parse_uint(num, DURATION_MAX_MS, &v) || !v ||
	    v > DURATION_MAX_MS / units[i].ms)
		return parse_fail("invalid duration `%s' for `%s' (%s)",
				  quote_arg(s), kw, DURATION_HINT);
	*ms = v * units[i].ms;
	return 0;
}

static int parse_count(const char *kw, const char *s, unsigned long max,
		       unsigned int *val)
{
	unsigned long v;

	if (parse_uint(s, max, &v) || !v)
		return parse_fail("invalid count `%s' for `%s' (use 1..%lu)",
				  quote_arg(s), kw, max);
	*val = v;
	return 0;
}

/* A text value (path, body, payload): printable, no '#'. */
static int parse_text(const char *kw, const char *s, char *out)
{
	if (strlen(s) > ARG_MAX_LEN)
		return parse_fail("value `%s' for `%s' is too long (max %d characters)",
				  quote_arg(s), kw, ARG_MAX_LEN);
	strcpy(out, s);
	return 0;
}

static int parse_check_type(int *argc, char ***argv, struct health_check *hc)
{
	const char *t;
	int i;

	if (*argc == 0)
		return parse_fail("health: missing check type after `check' (use tcp, http PATH, udp, exec PROGRAM)");
	t = **argv;
	(*argc)--;
	(*argv)++;
	i = parse_match(t, type_names, ARRAY_SIZE(type_names));
	if (i < 0)
		return parse_fail("health: unknown check type `%s' (use tcp, http PATH, udp, exec PROGRAM)",
				  quote_arg(t));
	hc->type = i;
	if (hc->type != HEALTH_HTTP && hc->type != HEALTH_EXEC)
		return 0;
	if (*argc == 0)
		return parse_fail("health: missing %s after `check %s'",
				  hc->type == HEALTH_HTTP ? "PATH" : "PROGRAM",
				  t);
	t = **argv;
	(*argc)--;
	(*argv)++;
	if (hc->type == HEALTH_HTTP && t[0] != '/')
		return parse_fail("health: invalid http path `%s' (it starts with /)",
				  quote_arg(t));
	if (hc->type == HEALTH_EXEC && t[0] != '/')
		return parse_fail("health: invalid program `%s' (use an absolute path)",
				  quote_arg(t));
	return parse_text("check", t, hc->arg);
}

/* Keywords after "check ...": their bit in @seen, for duplicates. */
static const char *const option_names[] = {
	"connect", "port",  "expect", "body",	"send", "interval",
	"timeout", "rise",  "fall",   "flap",	"window", "hold",
};

static int parse_option(const char *kw, const char *v,
			struct health_check *hc)
{
	unsigned long n;

	if (!strcmp(kw, "connect")) {
		hc->has_connect = true;
		return parse_backend(v, &hc->svc, &hc->connect);
	}
	if (!strcmp(kw, "port")) {
		if (parse_port(v, &hc->port) || !hc->port)
			return parse_fail("invalid port `%s' for `port' (use 1..65535)",
					  quote_arg(v));
		return 0;
	}
	if (!strcmp(kw, "expect")) {
		if (parse_uint(v, 599, &n) || n < 100)
			return parse_fail("invalid status `%s' for `expect' (use 100..599)",
					  quote_arg(v));
		hc->expect = n;
		return 0;
	}
	if (!strcmp(kw, "body"))
		return parse_text(kw, v, hc->body);
	if (!strcmp(kw, "send"))
		return parse_text(kw, v, hc->send);
	if (!strcmp(kw, "interval"))
		return parse_duration(kw, v, &hc->interval_ms);
	if (!strcmp(kw, "timeout"))
		return parse_duration(kw, v, &hc->timeout_ms);
	if (!strcmp(kw, "rise"))
		return parse_count(kw, v, 100, &hc->rise);
	if (!strcmp(kw, "fall"))
		return parse_count(kw, v, 100, &hc->fall);
	if (!strcmp(kw, "flap"))
		return parse_count(kw, v, HEALTH_MAX_FLAP - 1, &hc->flap);
	if (!strcmp(kw, "window"))
		return parse_duration(kw, v, &hc->window_ms);
	return parse_duration(kw, v, &hc->hold_ms); /* hold */
}

/* Options that only some check types take. */
static int check_option_type(const char *kw, const struct health_check *hc)
{
	if ((!strcmp(kw, "expect") || !strcmp(kw, "body")) &&
	    hc->type != HEALTH_HTTP)
		return parse_fail("health: `%s' is for http checks, not %s", kw,
				  health_type_name(hc->type));
	if (!strcmp(kw, "send") && hc->type != HEALTH_UDP)
		return parse_fail("health: `send' is for udp checks, not %s",
				  health_type_name(hc->type));
	return 0;
}

int parse_health(int argc, char **argv, struct health_check *hc)
{
	unsigned int seen = 0;
	const char *kw;
	int i;

	memset(hc, 0, sizeof(*hc));
	argc--;
	argv++;
	if (argc < 2)
		return parse_fail("health: missing %s (health PROTO VIP:PORT ... check TYPE ...)",
				  argc ? "VIP:PORT" : "PROTO");
	if (parse_proto(argv[0], &hc->svc.proto) ||
	    parse_vip(argv[1], &hc->svc))
		return -1;
	argc -= 2;
	argv += 2;
	if (argc && !strcmp(argv[0], "backend")) {
		if (argc < 2)
			return parse_fail("health: missing ADDR[:PORT] after `backend'");
		if (parse_backend(argv[1], &hc->svc, &hc->backend))
			return -1;
		hc->has_backend = true;
		argc -= 2;
		argv += 2;
	}
	if (!argc || strcmp(argv[0], "check"))
		return parse_fail("health: expected `check' %s`%s'",
				  argc ? "instead of " : "at the end, after ",
				  quote_arg(argc ? argv[0] : argv[-1]));
	argc--;
	argv++;
	if (parse_check_type(&argc, &argv, hc))
		return -1;

	hc->expect = 200;
	strcpy(hc->send, "viplb-health");
	hc->interval_ms = 2000;
	hc->timeout_ms = 1000;
	hc->rise = 2;
	hc->fall = 3;
	hc->flap = 6;
	hc->window_ms = 60000;
	hc->hold_ms = 30000;
	while (argc > 0) {
		kw = argv[0];
		i = parse_match(kw, option_names, ARRAY_SIZE(option_names));
		if (i < 0)
			return parse_fail("health: unknown keyword `%s' (use connect, port, expect, body, send, interval, timeout, rise, fall, flap, window, hold)",
					  quote_arg(kw));
		if (seen & (1U << i))
			return parse_fail("duplicate keyword `%s' for health",
					  kw);
		seen |= 1U << i;
		if (argc < 2)
			return parse_fail("health: missing value after `%s'",
					  kw);
		if (check_option_type(kw, hc) || parse_option(kw, argv[1], hc))
			return -1;
		argc -= 2;
		argv += 2;
	}
	if (hc->timeout_ms > hc->interval_ms)
		return parse_fail("health: timeout %ums is longer than interval %ums",
				  hc->timeout_ms, hc->interval_ms);
	return 0;
}

bool health_same(const struct health_check *a, const struct health_check *b)
{
	struct health_check x = *a, y = *b;

	x.line = 0;
	y.line = 0;
	return !memcmp(&x, &y, sizeof(x));
}
