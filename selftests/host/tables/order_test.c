// SPDX-License-Identifier: GPL-2.0
/*
 * The match order of viplb's iptables front end (VIPLB_RULES_A_MATCH_ORDER,
 * format in user/tables/tables.h), where the save-format files of tables_test.sh
 * cannot reach: the bytes the parser makes, how dumped bytes that are
 * missing or wrong print (the fixed order), -C against rules with and
 * without them, and -Z keeping a rule's handle; and restore files checked
 * from memory (rt_restore_check(), no kernel).  Built and run by
 * tables_test.sh, linked with the user tools' tables and lib archives.
 *
 * Prints one line per check, "ok" or "not ok", and exits 1 if any
 * failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tables.h"

static int failed;
static int checks;

static void check(bool ok, const char *what, const char *got)
{
	checks++;
	if (ok) {
		printf("ok - %s\n", what);
		return;
	}
	failed++;
	printf("not ok - %s\n", what);
	if (got)
		printf("#   got: %s\n", got);
}

/* Parse "-A INPUT ..." (words separated by spaces, '' empty) into cmd. */
static int parse(const char *line, struct rt_cmd *cmd)
{
	struct rt_parse_env env = {
		.af = AF_INET,
		.table = VIPLB_RTABLE_FILTER,
	};
	char buf[512], *argv[64], *w;
	int argc = 0, ret;

	snprintf(buf, sizeof(buf), "%s", line);
	for (w = strtok(buf, " "); w && argc < 63; w = strtok(NULL, " "))
		argv[argc++] = strcmp(w, "''") ? w : w + 2;
	argv[argc] = NULL;
	ret = rt_parse_args(argc, argv, &env, cmd);
	if (ret)
		printf("#   %s: %s\n", line, rt_error());
	return ret;
}

static struct rt_table table;

static const char *text(const struct rt_rule *r)
{
	static struct rt_text tx;

	rt_text_rule(&tx, &table, rt_find_chain(&table, "INPUT"), r, false);
	return tx.s;
}

/* The rule of line printed with the order bytes order[0..len-1]. */
static void check_bytes(const char *line, const uint8_t *order, size_t len,
			const char *want, const char *what)
{
	struct rt_cmd cmd;
	const char *got;

	if (parse(line, &cmd)) {
		check(false, what, "parse error");
		return;
	}
	memcpy(cmd.rule.order, order, len);
	cmd.rule.order_len = len;
	got = text(&cmd.rule);
	check(!strcmp(got, want), what, got);
	rt_cmd_free(&cmd);
}

static void check_encoding(const char *line, const uint8_t *want, size_t len,
			   const char *what)
{
	struct rt_cmd cmd;
	char got[64] = "";
	size_t i, off = 0;

	if (parse(line, &cmd)) {
		check(false, what, "parse error");
		return;
	}
	for (i = 0; i < cmd.rule.order_len; i++)
		off += snprintf(got + off, sizeof(got) - off, "%s%u",
				i ? "," : "", cmd.rule.order[i]);
	check(cmd.rule.order_len == len && !memcmp(cmd.rule.order, want, len),
	      what, got);
	rt_cmd_free(&cmd);
}

/* Apply line to a copy of the table; returns rt_apply()'s result. */
static int apply(struct rt_table *t, const char *line)
{
	struct rt_cmd cmd;
	int ret;

	if (parse(line, &cmd))
		return -100;
	ret = rt_apply(t, &cmd, false);
	rt_cmd_free(&cmd);
	return ret;
}

static void check_apply(const char *line, int want, const char *what)
{
	char got[16];
	int ret = apply(&table, line);

	snprintf(got, sizeof(got), "%d", ret);
	check(ret == want, what, got);
}

/* A restore file checked from memory: @want is the exit status. */
static void check_restore(const char *text, int want, const char *what)
{
	char got[16];
	int ret = rt_restore_check("order_test", AF_INET, text, strlen(text));

	snprintf(got, sizeof(got), "%d", ret);
	check(ret == want, what, got);
}

int main(void)
{
	static const char ct_tcp[] =
		"-A INPUT -p tcp -m conntrack --ctstate NEW -m tcp --dport 22";
	static const char fixed[] =
		"-A INPUT -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW";
	static const char st_tcp[] =
		"-A INPUT -p tcp -m state --state NEW -m tcp --dport 22";
	static const uint8_t v1_ct_tcp[] = { RT_ORDER_VERSION,
					     RT_ORDER_CONNTRACK, RT_ORDER_TCP };
	struct rt_chain *c;
	struct rt_cmd cmd;
	int ret;

	if (rt_table_init(&table, AF_INET, VIPLB_RTABLE_FILTER))
		return 1;

	/* The bytes of parsed rules. */
	check_encoding("-A INPUT -p tcp -m conntrack --ctstate NEW --dport 22",
		       v1_ct_tcp, sizeof(v1_ct_tcp),
		       "encoding: -p tcp -m conntrack --dport (implicit tcp)");
	check_encoding(
		"-A INPUT -m comment --comment x -m state --state NEW -m mark --mark 1 -m statistic --mode random --probability 0.5",
		(const uint8_t[]){ 1, RT_ORDER_COMMENT, RT_ORDER_STATE,
				   RT_ORDER_MARK, RT_ORDER_STATISTIC },
		5, "encoding: comment, state, mark, statistic");
	check_encoding(
		"-A INPUT -p udp -m multiport --dports 1,2 -m udp --sport 3",
		(const uint8_t[]){ 1, RT_ORDER_MULTIPORT, RT_ORDER_UDP }, 3,
		"encoding: multiport, udp");
	check_encoding("-A INPUT -p tcp -s 192.0.2.1 -j DROP",
		       (const uint8_t[]){ 0 }, 0,
		       "encoding: no matches, no attribute");

	/* Printing dumped bytes. */
	check_bytes(ct_tcp, v1_ct_tcp, sizeof(v1_ct_tcp), ct_tcp,
		    "print: conntrack, tcp as written");
	check_bytes(ct_tcp, (const uint8_t[]){ 0 }, 0, fixed,
		    "print: no attribute, fixed order");
	check_bytes(ct_tcp,
		    (const uint8_t[]){ 1, RT_ORDER_STATE, RT_ORDER_TCP }, 3,
		    st_tcp, "print: -m state");
	check_bytes(ct_tcp, (const uint8_t[]){ 2, RT_ORDER_CONNTRACK, 1 }, 3,
		    fixed, "print: another version, fixed order");
	check_bytes(ct_tcp, (const uint8_t[]){ 1, RT_ORDER_CONNTRACK, 9 }, 3,
		    fixed, "print: unknown kind, fixed order");
	check_bytes(ct_tcp, (const uint8_t[]){ 1, RT_ORDER_CONNTRACK, 0 }, 3,
		    fixed, "print: kind 0, fixed order");
	check_bytes(ct_tcp,
		    (const uint8_t[]){ 1, RT_ORDER_CONNTRACK, RT_ORDER_UDP }, 3,
		    fixed, "print: udp for a tcp rule, fixed order");
	check_bytes(ct_tcp,
		    (const uint8_t[]){ 1, RT_ORDER_STATE, RT_ORDER_CONNTRACK },
		    3, fixed, "print: state and conntrack, fixed order");
	check_bytes(ct_tcp, (const uint8_t[]){ 1, RT_ORDER_TCP, RT_ORDER_TCP },
		    3, fixed, "print: a kind twice, fixed order");
	check_bytes(ct_tcp, (const uint8_t[]){ 1, RT_ORDER_CONNTRACK }, 2,
		    fixed, "print: a match missing, fixed order");
	check_bytes(ct_tcp,
		    (const uint8_t[]){ 1, RT_ORDER_CONNTRACK, RT_ORDER_TCP,
				       RT_ORDER_MARK },
		    4, fixed, "print: a match too many, fixed order");
	check_bytes(ct_tcp,
		    (const uint8_t[VIPLB_MATCH_ORDER_MAX]){
			    1, RT_ORDER_CONNTRACK, RT_ORDER_TCP },
		    VIPLB_MATCH_ORDER_MAX, fixed,
		    "print: 16 bytes, trailing zeros, fixed order");
	check_bytes(ct_tcp, (const uint8_t[]){ 1 }, 1, fixed,
		    "print: the version alone, fixed order");
	check_bytes("-A INPUT -j DROP", (const uint8_t[]){ 1 }, 1,
		    "-A INPUT -j DROP", "print: no matches, the version alone");
	check_bytes("-A INPUT -m comment --comment x -m mark --mark 1",
		    (const uint8_t[]){ 1, RT_ORDER_MARK, RT_ORDER_COMMENT }, 3,
		    "-A INPUT -m mark --mark 0x1 -m comment --comment x",
		    "print: mark, comment");

	/* -C compares the order, as iptables compares matches in order. */
	c = rt_find_chain(&table, "INPUT");
	if (parse(ct_tcp, &cmd) || rt_apply(&table, &cmd, false))
		return 1;
	rt_cmd_free(&cmd);
	check_apply("-C INPUT -p tcp -m conntrack --ctstate NEW --dport 22", 0,
		    "-C: the same order");
	check_apply("-C INPUT -p tcp --dport 22 -m conntrack --ctstate NEW",
		    RT_EFAIL, "-C: another order is another rule");
	check_apply("-C INPUT -p tcp -m state --state NEW --dport 22", RT_EFAIL,
		    "-C: -m state is not -m conntrack");
	/* A rule without the attribute is its fixed order. */
	c->rules[0].order_len = 0;
	check_apply("-C INPUT -p tcp --dport 22 -m conntrack --ctstate NEW", 0,
		    "-C: no attribute matches the fixed order");
	check_apply("-C INPUT -p tcp -m conntrack --ctstate NEW --dport 22",
		    RT_EFAIL, "-C: no attribute is not another order");
	check_apply("-A INPUT -m comment --comment ''", 0,
		    "-A: an empty comment");
	check_apply("-C INPUT", RT_EFAIL, "-C: an empty comment is a comment");

	/* -Z keeps the handle (so the nth position) and sends zeros. */
	c = rt_find_chain(&table, "INPUT");
	c->rules[0].has_handle = true;
	c->rules[0].handle = 42;
	c->rules[0].pkts = 5;
	c->rules[0].bytes = 6;
	ret = apply(&table, "-Z INPUT");
	c = rt_find_chain(&table, "INPUT");
	check(!ret && c->rules[0].has_handle && c->rules[0].handle == 42 &&
		      c->rules[0].set_counters && !c->rules[0].pkts &&
		      !c->rules[0].bytes,
	      "-Z: the rule keeps its handle, with zero counters", NULL);
	c->rules[0].set_counters = false;
	c->rules[0].pkts = 7;
	ret = apply(&table, "-Z INPUT 1");
	c = rt_find_chain(&table, "INPUT");
	check(!ret && c->rules[0].has_handle && c->rules[0].set_counters &&
		      !c->rules[0].pkts,
	      "-Z INPUT 1: the same", NULL);
	ret = apply(&table, "-R INPUT 1 -p tcp --dport 22 -j ACCEPT");
	c = rt_find_chain(&table, "INPUT");
	check(!ret && !c->rules[0].has_handle,
	      "-R: a new rule, without the handle", NULL);

	rt_table_free(&table);
	printf("# %d of %d order checks failed\n", failed, checks);
	/* Restore files from memory, the parser's seam for fuzzing. */
	check_restore("*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n",
		      0, "rt_restore_check: a good file");
	check_restore("*filter\n-A INPUT -p tcp --dport ssh-x -j ACCEPT\nCOMMIT\n",
		      2, "rt_restore_check: a bad value is a parameter problem");
	check_restore("*filter\n-A INPUT -j ACCEPT\n", 1,
		      "rt_restore_check: COMMIT missing");

	return failed ? 1 : 0;
}
