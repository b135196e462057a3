// SPDX-License-Identifier: GPL-2.0
/*
 * viplb-restore (viplb tables-restore, viplb6-restore): iptables-restore
 * for viplb's rule tables.  See tables.h.
 *
 * The input is read whole into memory and checked line by line before
 * anything else happens, so a syntax error anywhere changes nothing.  Then
 * the tables named in it are read from the kernel (for --noflush, and for
 * the policies of built-in chains the file does not set, which
 * iptables-restore keeps), the lines are applied to them in memory, and
 * every table of the file goes to the kernel in one transaction: one
 * commit for the whole file.  If a table changed in the meantime the
 * commit fails with EAGAIN and everything after the syntax check starts
 * over.
 *
 * Lines are tokenized as iptables-restore does: a double quote starts or
 * ends a quoted part of a token (inside it a backslash takes the next
 * character as is), and a closing quote ends the token.
 *
 * --test applies the file without sending it (reading the kernel's tables
 * only for --noflush); the hidden --print, with --test, then prints the
 * resulting tables in save format: a debugging aid, used by the host
 * tests to compare with iptables-save.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "errors.h"
#include "nl.h"
#include "parse.h"
#include "tables.h"
#include "util.h"

#ifndef VIPLB_VERSION
#define VIPLB_VERSION "0.1.0"
#endif

#define EDIT_TRIES 5
#define NR_TABLES (VIPLB_RTABLE_MAX + 1)

struct restore_opts {
	uint16_t af;
	bool counters; /* -c */
	bool noflush; /* -n */
	bool test; /* -t */
	bool print; /* --print */
	bool one_table; /* -T */
	uint32_t table;
	int wait; /* -w: -1 none, 0 forever */
};

/* The input, whole. */
struct input {
	char *text;
	size_t len;
};


/* Per table: what the kernel has, and what the file makes of it. */
struct table_state {
	bool needed; /* named in the file (and chosen by -T) */
	bool dumped;
	struct rt_table base; /* as dumped (or empty offline) */
	bool touched; /* loaded by this pass */
	struct rt_table cur;
};

struct restore {
	const char *prog;
	const struct restore_opts *o;
	struct table_state tables[NR_TABLES];
	struct rt_tokens tok;
	bool apply; /* this pass applies lines, else syntax only */
};

static int read_input(const char *prog, const char *file, struct input *in)
{
	FILE *f = stdin;
	size_t cap = 0, n;
	char *p;

	memset(in, 0, sizeof(*in));
	if (strcmp(file, "-")) {
		f = fopen(file, "r");
		if (!f) {
			rt_report(prog, 0, "cannot open " RT_Q ": %s",
				  quote_arg(file), strerror(errno));
			return -1;
		}
	}
	for (;;) {
		if (cap - in->len < 65536) {
			cap = cap ? 2 * cap : 1 << 20;
			p = realloc(in->text, cap + 1);
			if (!p) {
				rt_report(prog, 0, "%s", strerror(ENOMEM));
				goto err;
			}
			in->text = p;
		}
		n = fread(in->text + in->len, 1, cap - in->len, f);
		in->len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		rt_report(prog, 0, "reading " RT_Q ": %s", quote_arg(file),
			  strerror(errno));
		goto err;
	}
	in->text[in->len] = '\0';
	if (f != stdin)
		fclose(f);
	return 0;
err:
	if (f != stdin)
		fclose(f);
	free(in->text);
	return -1;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

static int push_token(struct rt_tokens *t, char *tok)
{
	/* Room for the token and the NULL after it. */
	if (grow_array(t->argv, (size_t)t->argc + 1, t->cap, 64))
		return rt_fail("%s", strerror(ENOMEM));
	t->argv[t->argc++] = tok;
	t->argv[t->argc] = NULL;
	return 0;
}

/* Split one line (len bytes, no newline) as iptables-restore does. */
int rt_tokenize(struct rt_tokens *t, const char *line, size_t len)
{
	bool quoted = false, in_token = false;
	size_t i;
	char *out;

	if (len + 2 > t->buf_size) {
		char *buf = realloc(t->buf, len + 2);

		if (!buf)
			return rt_fail("%s", strerror(ENOMEM));
		t->buf = buf;
		t->buf_size = len + 2;
	}
	t->argc = 0;
	out = t->buf;
	for (i = 0; i < len; i++) {
		char c = line[i];

		if (quoted) {
			if (c == '\\' && i + 1 < len) {
				*out++ = line[++i];
			} else if (c == '"') {
				/* A closing quote ends the token. */
				quoted = false;
				*out++ = '\0';
				in_token = false;
			} else {
				*out++ = c;
			}
			continue;
		}
		if (c == '"') {
			if (!in_token && push_token(t, out))
				return RT_EFAIL;
			in_token = true;
			quoted = true;
		} else if (is_blank(c)) {
			if (in_token)
				*out++ = '\0';
			in_token = false;
		} else {
			if (!in_token && push_token(t, out))
				return RT_EFAIL;
			in_token = true;
			*out++ = c;
		}
	}
	if (quoted)
		return rt_param("unterminated quoted string");
	if (in_token)
		*out = '\0';
	return 0;
}

void rt_tokens_free(struct rt_tokens *t)
{
	free(t->argv);
	free(t->buf);
	memset(t, 0, sizeof(*t));
}

/* One decimal counter, up to the character stop. */
static const char *parse_counter(const char *s, char stop, uint64_t *val)
{
	uint64_t v = 0;
	const char *c;

	for (c = s; *c >= '0' && *c <= '9'; c++) {
		if (v > (UINT64_MAX - (uint64_t)(*c - '0')) / 10)
			return NULL;
		v = v * 10 + (uint64_t)(*c - '0');
	}
	if (c == s || *c != stop)
		return NULL;
	*val = v;
	return c + 1;
}

/* "[PKTS:BYTES]" */
static bool parse_counters(const char *s, uint64_t *pkts, uint64_t *bytes)
{
	if (*s++ != '[')
		return false;
	s = parse_counter(s, ':', pkts);
	if (s)
		s = parse_counter(s, ']', bytes);
	return s && !*s;
}

static int parse_table_line(const struct rt_tokens *t, uint32_t *id)
{
	if (t->argc != 1)
		return rt_param("bad argument " RT_Q, quote_arg(t->argv[1]));
	if (!t->argv[0][1])
		return rt_param("table name missing after \"*\"");
	return rt_table_by_name(t->argv[0] + 1, id);
}

/* ":NAME POLICY [PKTS:BYTES]" */
static int parse_chain_line(const struct restore *r, uint32_t table,
			    const struct rt_tokens *t, struct rt_cmd *cmd)
{
	const char *name = t->argv[0] + 1;
	bool builtin = rt_builtin_hook(table, name) != RT_USER_CHAIN;
	uint64_t pkts = 0, bytes = 0;
	int ret;

	memset(cmd, 0, sizeof(*cmd));
	cmd->cmds = RT_CMD_DECLARE;
	cmd->af = r->o->af;
	cmd->table = table;
	if (t->argc < 2)
		return rt_param("chain " RT_Q
				" needs a policy (\"-\" for none)",
				quote_arg(name));
	if (t->argc > 3)
		return rt_param("bad argument " RT_Q, quote_arg(t->argv[3]));
	ret = builtin ? 0 : rt_check_new_chain_name(name);
	if (ret)
		return ret;
	strcpy(cmd->chain, name);
	cmd->policy = VIPLB_V_NONE;
	if (strcmp(t->argv[1], "-")) {
		ret = rt_parse_policy(t->argv[1], table, &cmd->policy);
		if (ret)
			return ret;
	}
	if (t->argc == 3 && !parse_counters(t->argv[2], &pkts, &bytes))
		return rt_param("bad counters " RT_Q " for chain " RT_Q,
				quote_arg(t->argv[2]), quote_arg(name));
	if (r->o->counters && builtin && cmd->policy != VIPLB_V_NONE &&
	    t->argc != 3)
		return rt_param("counters missing for chain " RT_Q,
				quote_arg(name));
	/* A policy without -c zeroes its counters, as iptables-restore. */
	if (r->o->counters) {
		cmd->rule.pkts = pkts;
		cmd->rule.bytes = bytes;
	}
	return 0;
}

/* "[PKTS:BYTES] -A ..." and other commands. */
static int parse_command_line(const struct restore *r, uint32_t table,
			      struct rt_tokens *t, struct rt_cmd *cmd)
{
	struct rt_parse_env env = {
		.restore = true,
		.af = r->o->af,
		.table = table,
	};
	uint64_t pkts = 0, bytes = 0;
	bool prefix = false;
	int ret, skip = 0;

	if (t->argv[0][0] == '[') {
		if (!parse_counters(t->argv[0], &pkts, &bytes))
			return rt_param("bad counters " RT_Q,
					quote_arg(t->argv[0]));
		prefix = true;
		skip = 1;
	}
	ret = rt_parse_args(t->argc - skip, t->argv + skip, &env, cmd);
	if (ret)
		return ret;
	if (cmd->help || cmd->version)
		return rt_param("-h and -V cannot be used in a restore file");
	if (prefix &&
	    !(cmd->cmds & (RT_CMD_APPEND | RT_CMD_INSERT | RT_CMD_REPLACE)))
		return rt_param("counters are only for -A, -I and -R");
	/* The "[PKTS:BYTES]" prefix counts with -c only. */
	if (prefix && r->o->counters && !cmd->rule.set_counters) {
		cmd->rule.pkts = pkts;
		cmd->rule.bytes = bytes;
		cmd->rule.set_counters = true;
	}
	return 0;
}

/* Start a table section: the table from the kernel, or emptied. */
static int begin_table(struct restore *r, uint32_t id)
{
	struct table_state *ts = &r->tables[id];
	size_t i;

	if (ts->touched && r->o->noflush)
		return 0;
	if (ts->touched)
		rt_table_free(&ts->cur);
	if (r->o->noflush) {
		/* The dump is used once per pass: move it. */
		ts->cur = ts->base;
		memset(&ts->base, 0, sizeof(ts->base));
		ts->dumped = false;
		ts->touched = true;
		return 0;
	}
	if (rt_table_init(&ts->cur, r->o->af, id))
		return RT_EFAIL;
	ts->touched = true;
	/* Policies the file does not set stay, as in iptables-restore. */
	ts->cur.gen = ts->base.gen;
	ts->cur.has_gen = ts->base.has_gen;
	for (i = 0; i < ts->cur.nr_chains && i < ts->base.nr_chains; i++)
		if (ts->base.chains[i].hook == ts->cur.chains[i].hook)
			ts->cur.chains[i].policy = ts->base.chains[i].policy;
	return 0;
}

/*
 * One pass over the input: syntax only (r->apply false), or applying each
 * line to the tables.  Returns 0, or an error reported with its line.
 */
static int run_lines(struct restore *r, const struct input *in)
{
	const char *line = in->text, *end;
	unsigned int lineno = 0, table_line = 0;
	bool in_table = false, selected = false;
	uint32_t table = 0;
	struct rt_cmd cmd;
	int ret = 0;

	for (; line < in->text + in->len && !ret; line = end + 1) {
		end = memchr(line, '\n', in->text + in->len - line);
		if (!end)
			end = in->text + in->len;
		lineno++;
		if (memchr(line, '\0', end - line)) {
			ret = rt_param("NUL character in line");
			break;
		}
		if (line[0] == '#')
			continue;
		ret = rt_tokenize(&r->tok, line, end - line);
		if (ret || r->tok.argc == 0)
			continue;
		if (r->tok.argv[0][0] == '*' && line[0] == '*') {
			if (in_table) {
				ret = rt_param("COMMIT expected before " RT_Q,
					       quote_arg(r->tok.argv[0]));
				break;
			}
			ret = parse_table_line(&r->tok, &table);
			if (ret)
				break;
			in_table = true;
			table_line = lineno;
			selected = !r->o->one_table || table == r->o->table;
			if (r->apply && selected)
				ret = begin_table(r, table);
			continue;
		}
		if (!in_table) {
			ret = rt_fail("no table: " RT_Q
				      " before \"*filter\" or \"*nat\"",
				      quote_arg(r->tok.argv[0]));
			break;
		}
		if (!strcmp(r->tok.argv[0], "COMMIT")) {
			if (r->tok.argc != 1)
				ret = rt_param("bad argument " RT_Q,
					       quote_arg(r->tok.argv[1]));
			in_table = false;
			continue;
		}
		memset(&cmd, 0, sizeof(cmd));
		if (line[0] == ':' && r->tok.argv[0][0] == ':')
			ret = parse_chain_line(r, table, &r->tok, &cmd);
		else
			ret = parse_command_line(r, table, &r->tok, &cmd);
		if (!ret && r->apply && selected) {
			cmd.line = lineno;
			cmd.rule.line = lineno;
			ret = rt_apply(&r->tables[table].cur, &cmd,
				       r->o->noflush);
		}
		rt_cmd_free(&cmd);
	}
	if (ret) {
		rt_report(r->prog, lineno, "%s", rt_error());
		return ret;
	}
	if (in_table) {
		rt_report(r->prog, lineno,
			  "COMMIT expected (table from line %u)", table_line);
		return RT_EFAIL;
	}
	return 0;
}

/* Which tables the input names (after its syntax check). */
static void find_tables(struct restore *r, const struct input *in)
{
	const char *line = in->text, *end;
	uint32_t id;

	for (; line < in->text + in->len; line = end + 1) {
		end = memchr(line, '\n', in->text + in->len - line);
		if (!end)
			end = in->text + in->len;
		if (line[0] != '*' || rt_tokenize(&r->tok, line, end - line) ||
		    r->tok.argc != 1 || parse_table_line(&r->tok, &id))
			continue;
		if (!r->o->one_table || id == r->o->table)
			r->tables[id].needed = true;
	}
}

static void free_states(struct restore *r)
{
	size_t i;

	for (i = 0; i < NR_TABLES; i++) {
		if (r->tables[i].dumped)
			rt_table_free(&r->tables[i].base);
		if (r->tables[i].touched)
			rt_table_free(&r->tables[i].cur);
		r->tables[i].dumped = r->tables[i].touched = false;
	}
}

/* Read the tables the input needs from the kernel (or start empty). */
static int base_tables(struct restore *r, bool offline, struct nl_sock *nl)
{
	struct nl_error err;
	char what[64];
	uint32_t i;

	for (i = 0; i < NR_TABLES; i++) {
		struct table_state *ts = &r->tables[i];

		if (!ts->needed)
			continue;
		if (offline) {
			if (rt_table_init(&ts->base, r->o->af, i)) {
				rt_report(r->prog, 0, "%s", rt_error());
				return -1;
			}
		} else if (rt_get_table(nl, r->o->af, i, &ts->base, &err)) {
			snprintf(what, sizeof(what), "reading the %s table",
				 rt_table_name(i));
			rt_report_nl(r->prog, 0, what, &err);
			return -1;
		}
		ts->dumped = true;
	}
	return 0;
}

static void report_load(const struct restore *r,
			const struct rt_load_fail *fail,
			const struct nl_error *err)
{
	unsigned int line = 0;
	char what[128];

	if (fail->begin && !err->syscall && err->error == EBUSY) {
		snprintf(
			what, sizeof(what),
			"another transaction is in progress in this network namespace (-w waits for it)");
	} else if (fail->begin) {
		snprintf(what, sizeof(what), "starting the transaction");
	} else if (fail->rule) {
		line = fail->rule->line;
		snprintf(what, sizeof(what), "rule %zu of chain %s (table %s)",
			 fail->rule_num, fail->chain->name,
			 rt_table_name(fail->table->id));
		if (fail->why) {
			rt_report(r->prog, line, "%s: %s", what, fail->why);
			return;
		}
	} else if (fail->chain) {
		line = fail->chain->line;
		snprintf(what, sizeof(what), "chain %s (table %s)",
			 fail->chain->name, rt_table_name(fail->table->id));
	} else if (fail->table) {
		snprintf(what, sizeof(what), "table %s",
			 rt_table_name(fail->table->id));
	} else {
		snprintf(what, sizeof(what), "commit");
	}
	rt_report_nl(r->prog, line, what, err);
}

/* Send every table the file loaded; 1: changed meanwhile, try again. */
static int send_tables(struct restore *r, struct nl_sock *nl, bool last_try)
{
	struct rt_table *tables[NR_TABLES];
	struct rt_load_fail fail;
	struct nl_error err;
	size_t n = 0, i;

	for (i = 0; i < NR_TABLES; i++)
		if (r->tables[i].touched)
			tables[n++] = &r->tables[i].cur;
	if (!n)
		return 0;
	if (!rt_put_tables(nl, tables, n, r->o->wait, &err, &fail))
		return 0;
	if (fail.commit && !err.syscall && err.error == EAGAIN && !last_try)
		return 1;
	report_load(r, &fail, &err);
	return -1;
}

static void print_tables(struct restore *r)
{
	size_t i;

	for (i = 0; i < NR_TABLES; i++)
		if (r->tables[i].touched)
			rt_print_save(stdout, &r->tables[i].cur,
				      r->o->counters);
}

/*
 * As iptables-restore: 2 for a parameter problem in a line (a bad or
 * unsupported option or value), 1 for other errors.
 */
static int exit_status(int ret)
{
	return ret == RT_EPARAM ? 2 : ret ? 1 : 0;
}

static int restore(const char *prog, const struct restore_opts *o,
		   const struct input *in)
{
	struct restore r = { .prog = prog, .o = o };
	struct nl_sock *nl = NULL;
	bool offline = o->test && !o->noflush;
	int tries, ret;

	/* Syntax first: nothing is read or sent for a bad file. */
	ret = exit_status(run_lines(&r, in));
	if (ret)
		goto out;
	ret = 1;
	find_tables(&r, in);
	if (!offline && !rt_open(&nl))
		goto out;
	for (tries = 0; tries < EDIT_TRIES; tries++) {
		free_states(&r);
		if (base_tables(&r, offline, nl))
			goto out;
		r.apply = true;
		ret = exit_status(run_lines(&r, in));
		if (ret)
			goto out;
		if (o->test) {
			if (o->print)
				print_tables(&r);
			ret = 0;
			goto out;
		}
		ret = send_tables(&r, nl, tries == EDIT_TRIES - 1);
		if (ret <= 0) {
			ret = ret ? 1 : 0;
			goto out;
		}
		ret = 1;
	}
out:
	free_states(&r);
	free(r.tok.argv);
	free(r.tok.buf);
	return ret;
}

int rt_restore_check(const char *prog, uint16_t af, const char *text,
		     size_t len)
{
	struct restore_opts o = { .af = af, .test = true, .wait = -1 };
	/* Only read: lines are tokenized in a scratch copy. */
	struct input in = { .text = (char *)text, .len = len };

	return restore(prog, &o, &in);
}

enum { OPT_PRINT = 256 };

static const struct option restore_opts_long[] = {
	{ "counters", no_argument, NULL, 'c' },
	{ "noflush", no_argument, NULL, 'n' },
	{ "test", no_argument, NULL, 't' },
	{ "table", required_argument, NULL, 'T' },
	{ "wait", optional_argument, NULL, 'w' },
	{ "wait-interval", required_argument, NULL, 'W' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "modprobe", required_argument, NULL, 'M' },
	{ "ipv4", no_argument, NULL, '4' },
	{ "ipv6", no_argument, NULL, '6' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "print", no_argument, NULL, OPT_PRINT },
	{ NULL, 0, NULL, 0 },
};

static void restore_usage(const char *prog)
{
	printf("Usage: %s [-c] [-n] [-t] [-T filter|nat] [-w [SECONDS]] [-4|-6] [FILE]\n"
	       "    -c, --counters  restore the [PKTS:BYTES] counters\n"
	       "    -n, --noflush   add to the tables instead of replacing them\n"
	       "    -t, --test      check the file, change nothing\n"
	       "    -T, --table     restore only this table\n"
	       "    -w, --wait      wait for another transaction to end\n",
	       prog);
}

int tables_restore_main(const char *prog, uint16_t af, int argc, char **argv)
{
	struct restore_opts o = { .af = af, .wait = -1 };
	unsigned long long v;
	const char *file = "-";
	struct input in;
	char *end;
	int opt, ret;

	argv--;
	argc++;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+cntT:w::W:vM:46hV",
				  restore_opts_long, NULL)) != -1) {
		switch (opt) {
		case 'c':
			o.counters = true;
			break;
		case 'n':
			o.noflush = true;
			break;
		case 't':
			o.test = true;
			break;
		case 'T':
			if (rt_table_by_name(optarg, &o.table)) {
				rt_report(prog, 0, "%s", rt_error());
				return 2;
			}
			o.one_table = true;
			break;
		case 'w':
			o.wait = 0;
			if (!optarg)
				break;
			errno = 0;
			v = strtoull(optarg, &end, 10);
			if (errno || *end || !*optarg || v > 1000000) {
				rt_report(prog, 0, "bad wait time " RT_Q,
					  quote_arg(optarg));
				return 2;
			}
			o.wait = v;
			break;
		case 'W':
			/* iptables' lock polling interval: nothing to poll. */
			errno = 0;
			v = strtoull(optarg, &end, 10);
			if (errno || *end || !*optarg) {
				rt_report(prog, 0, "bad wait interval " RT_Q,
					  quote_arg(optarg));
				return 2;
			}
			break;
		case '4':
			o.af = AF_INET;
			break;
		case '6':
			o.af = AF_INET6;
			break;
		case OPT_PRINT:
			o.print = true;
			break;
		case 'h':
			restore_usage(prog);
			return 0;
		case 'V':
			printf("%s v%s\n", prog, VIPLB_VERSION);
			return 0;
		case 'v':
		case 'M':
			rt_report(prog, 0, "unsupported option " RT_Q,
				  quote_arg(argv[optind - 1]));
			return 1;
		default:
			rt_report(prog, 0, "unknown option " RT_Q,
				  quote_arg(argv[optind - 1]));
			return 1;
		}
	}
	if (o.print && !o.test) {
		rt_report(prog, 0, "--print needs --test");
		return 1;
	}
	if (optind < argc)
		file = argv[optind++];
	if (optind < argc) {
		rt_report(prog, 0, "bad argument " RT_Q,
			  quote_arg(argv[optind]));
		return 1;
	}
	if (read_input(prog, file, &in))
		return 1;
	ret = restore(prog, &o, &in);
	free(in.text);
	return ret;
}

/* The table of a save-format file, for viplb-tables --offline. */
int rt_read_state(const char *prog, const char *file, uint16_t af, uint32_t id,
		  struct rt_table *t)
{
	struct restore_opts o = {
		.af = af,
		.counters = true,
		.one_table = true,
		.table = id,
		.wait = -1,
	};
	struct restore r = { .prog = prog, .o = &o };
	struct input in;
	int ret = -1;

	if (read_input(prog, file, &in))
		return -1;
	if (run_lines(&r, &in))
		goto out;
	find_tables(&r, &in);
	if (base_tables(&r, true, NULL))
		goto out;
	r.apply = true;
	if (run_lines(&r, &in))
		goto out;
	if (r.tables[id].touched) {
		*t = r.tables[id].cur;
		r.tables[id].touched = false;
	} else if (rt_table_init(t, af, id)) {
		rt_report(prog, 0, "%s", rt_error());
		goto out;
	}
	rt_update_refs(t);
	ret = 0;
out:
	free_states(&r);
	free(r.tok.argv);
	free(r.tok.buf);
	free(in.text);
	return ret;
}
