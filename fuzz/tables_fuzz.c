// SPDX-License-Identifier: GPL-2.0
/*
 * The iptables front end (user/tables): viplb-restore --test and the
 * iptables command line.
 *
 * The first byte of the input selects, the rest is text:
 *
 *   bit 1 (0x02)  AF_INET6, else AF_INET
 *   bit 0 (0x01)  command lines parse for the nat table, else filter
 *   bit 2 (0x04)  command lines parse as restore lines (no -t, no
 *                 listing), else as viplb-tables arguments
 *
 * so the digits '0'..'7' name every choice: '4' is IPv4 restore lines for
 * filter, '6' the same for IPv6.
 *
 * The text goes whole to rt_restore_check() (viplb-restore --test on a
 * buffer, no kernel), in the family of bit 1.  Then each line is split at
 * blanks into an argument vector ('' is an empty argument) for
 * rt_parse_args(), and each command parsed is applied to tables in memory
 * (rt_apply(), as viplb-tables --offline does) and freed.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common.h"
#include "tables.h"

#define MAX_INPUT (64 * 1024)
/* Arguments of one line, at most. */
#define MAX_ARGS 256

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_init();
	return 0;
}

/* Tables the command lines edit: [IPv6][table]. */
struct tables {
	struct rt_table t[2][VIPLB_RTABLE_MAX + 1];
	bool init[2][VIPLB_RTABLE_MAX + 1];
};

static struct rt_table *table_for(struct tables *ts, uint16_t af, uint32_t id)
{
	int v6 = af == AF_INET6;

	if ((af != AF_INET && af != AF_INET6) || id > VIPLB_RTABLE_MAX)
		fuzz_fail("rt_parse_args() gave family %u, table %u", af, id);
	if (!ts->init[v6][id]) {
		if (rt_table_init(&ts->t[v6][id], af, id))
			return NULL;
		ts->init[v6][id] = true;
	}
	return &ts->t[v6][id];
}

static void one_line(char *line, const struct rt_parse_env *env,
		     struct tables *ts, unsigned int lineno)
{
	char *argv[MAX_ARGS + 1], *p = line;
	struct rt_table *t;
	struct rt_cmd cmd;
	int argc = 0;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (!*p || argc == MAX_ARGS)
			break;
		argv[argc++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
		if (*p)
			*p++ = '\0';
		if (!strcmp(argv[argc - 1], "''"))
			argv[argc - 1][0] = '\0';
	}
	argv[argc] = NULL;

	if (rt_parse_args(argc, argv, env, &cmd)) {
		/* A failed parse leaves nothing to free, or the rule. */
		rt_cmd_free(&cmd);
		return;
	}
	cmd.line = lineno;
	cmd.rule.line = lineno;
	t = table_for(ts, cmd.af, cmd.table);
	if (t)
		rt_apply(t, &cmd, false);
	rt_cmd_free(&cmd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rt_parse_env env;
	struct tables ts;
	unsigned int lineno = 0;
	char *buf, *line, *nl;
	uint8_t sel;
	size_t len, i, j;

	if (size < 1 || size > MAX_INPUT)
		return 0;
	sel = data[0];
	data++;
	len = size - 1;

	memset(&env, 0, sizeof(env));
	env.af = sel & 2 ? AF_INET6 : AF_INET;
	env.table = sel & 1 ? VIPLB_RTABLE_NAT : VIPLB_RTABLE_FILTER;
	env.restore = sel & 4;

	rt_restore_check("viplb-restore", env.af, (const char *)data, len);

	buf = malloc(len + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, len);
	buf[len] = '\0';
	memset(&ts, 0, sizeof(ts));
	for (line = buf; line < buf + len; line = nl + 1) {
		nl = memchr(line, '\n', buf + len - line);
		if (!nl)
			nl = buf + len;
		*nl = '\0';
		one_line(line, &env, &ts, ++lineno);
	}
	for (i = 0; i < 2; i++)
		for (j = 0; j <= VIPLB_RTABLE_MAX; j++)
			if (ts.init[i][j])
				rt_table_free(&ts.t[i][j]);
	free(buf);
	return 0;
}
