// SPDX-License-Identifier: GPL-2.0
/*
 * viplb-tables (viplb tables, viplb6-tables) and viplb-save (viplb
 * tables-save, viplb6-save): the iptables and iptables-save commands of
 * viplb's rule tables.  See tables.h.
 *
 * Every command reads the whole table from the kernel (with its
 * generation), works on it in memory and, if it changed anything, sends
 * the table back whole in one transaction that carries the generation it
 * read and the handle of every rule it kept (so they keep their
 * counters and their nth position; -Z sends the handle with zero
 * counters).  If the table changed in between, the commit fails with
 * EAGAIN and the command starts over from a new dump, up to EDIT_TRIES
 * times.
 *
 * The hidden option --offline FILE reads the table from a save-format
 * file instead of the kernel and prints the edited table in save format
 * instead of sending it: a debugging aid, used by the host tests.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "nl.h"
#include "parse.h"
#include "print.h"
#include "tables.h"
#include "errors.h"

#ifndef VIPLB_VERSION
#define VIPLB_VERSION "0.1.0"
#endif

#define EDIT_TRIES 5

const struct rt_datapath *rt_datapath;

bool rt_open(struct nl_sock **nl)
{
	*nl = NULL;
	if (rt_datapath)
		return true;
	*nl = nl_get();
	return *nl;
}

int rt_get_table(struct nl_sock *nl, uint16_t af, uint32_t id,
		 struct rt_table *t, struct nl_error *err)
{
	if (rt_datapath)
		return rt_datapath->dump(af, id, t, err);
	return rt_dump_table(nl, af, id, t, err);
}

int rt_put_tables(struct nl_sock *nl, struct rt_table *const *tables,
		  size_t n, int wait, struct nl_error *err,
		  struct rt_load_fail *fail)
{
	if (rt_datapath)
		return rt_datapath->load(tables, n, err, fail);
	return rt_load_tables(nl, tables, n, wait, err, fail);
}

void rt_report(const char *prog, unsigned int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report_error(prog, line, fmt, ap);
	va_end(ap);
}

void rt_report_nl(const char *prog, unsigned int line, const char *what,
		  const struct nl_error *err)
{
	const char *s = strerror(err->error);

	if (err->syscall)
		rt_report(prog, line, "%s: %s: %s", what, err->syscall, s);
	else if (err->msg[0])
		rt_report(prog, line, "%s: %s (kernel: %s)", what, s, err->msg);
	else
		rt_report(prog, line, "%s: %s", what, s);
}

/* iptables' exit status for an error of rt_*(). */
static int exit_status(int ret)
{
	return ret == RT_EPARAM ? 2 : 1;
}

static const char tables_usage[] =
	"Usage: %s -[ACD] chain rule-specification [options]\n"
	"       %s -I chain [rulenum] rule-specification [options]\n"
	"       %s -R chain rulenum rule-specification [options]\n"
	"       %s -D chain rulenum [options]\n"
	"       %s -[LS] [chain [rulenum]] [options]\n"
	"       %s -[FZ] [chain] [options]\n"
	"       %s -[NX] chain\n"
	"       %s -E old-chain-name new-chain-name\n"
	"       %s -P chain target [options]\n"
	"       %s -h (print this help information)\n"
	"\n"
	"Commands: -A -C -D -I -R -L -S -F -Z -N -X -P -E, as iptables.\n"
	"Options:  -4 -6 -t filter|nat -p -s -d -i -o -j -g -m -n -v -x\n"
	"          --line-numbers -w [seconds] --json --pretty\n"
	"Matches:  tcp udp (--sport --dport --syn --tcp-flags), multiport,\n"
	"          conntrack, state, statistic, comment, mark\n"
	"Targets:  ACCEPT DROP RETURN REJECT DNAT SNAT MASQUERADE REDIRECT\n"
	"          MARK, and user chains\n"
	"See viplb-tables(8).\n";

static void usage(const char *prog)
{
	printf(tables_usage, prog, prog, prog, prog, prog, prog, prog, prog,
	       prog, prog);
}

/* Load the table: from the kernel, or from the --offline file. */
static int load_table(const char *prog, const struct rt_cmd *cmd,
		      struct rt_table *t)
{
	struct nl_error err;
	struct nl_sock *nl;
	char what[64];

	if (cmd->offline)
		return rt_read_state(prog, cmd->offline, cmd->af, cmd->table,
				     t);
	if (!rt_open(&nl))
		return -1;
	if (!rt_get_table(nl, cmd->af, cmd->table, t, &err))
		return 0;
	snprintf(what, sizeof(what), "reading the %s table",
		 rt_table_name(cmd->table));
	rt_report_nl(prog, 0, what, &err);
	return -1;
}

static unsigned int list_format(const struct rt_cmd *cmd)
{
	unsigned int fmt = 0;

	if (cmd->opts & RT_OPT_NUMERIC)
		fmt |= RT_FMT_NUMERIC;
	if (cmd->opts & RT_OPT_VERBOSE)
		fmt |= RT_FMT_VERBOSE;
	if (cmd->opts & RT_OPT_EXACT)
		fmt |= RT_FMT_EXACT;
	if (cmd->opts & RT_OPT_LINE_NUMBERS)
		fmt |= RT_FMT_LINE_NUMBERS;
	return fmt;
}

static int list(const char *prog, const struct rt_cmd *cmd, struct rt_table *t)
{
	struct rt_chain *c = NULL;

	if (*cmd->chain) {
		c = rt_find_chain(t, cmd->chain);
		if (!c) {
			rt_report(prog, 0, "no chain " RT_Q " in table %s",
				  quote_arg(cmd->chain), rt_table_name(t->id));
			return 1;
		}
	}
	if (cmd->cmds & RT_CMD_LIST_RULES)
		rt_print_rules(stdout, t, c, cmd->rulenum,
			       cmd->opts & RT_OPT_VERBOSE);
	else if (print_is_json())
		rt_print_json(t, c, cmd->rulenum);
	else
		rt_print_list(stdout, t, c, cmd->rulenum, list_format(cmd));
	return 0;
}

/* What iptables -v says before a command. */
static void verbose_before(const struct rt_cmd *cmd, struct rt_table *t)
{
	const char *what = (cmd->cmds & RT_CMD_FLUSH) ? "Flushing" :
			   (cmd->cmds & RT_CMD_ZERO)  ? "Zeroing" :
							"Deleting";
	size_t *order, i;

	if (cmd->cmds & (RT_CMD_APPEND | RT_CMD_INSERT | RT_CMD_REPLACE |
			 RT_CMD_CHECK) ||
	    ((cmd->cmds & RT_CMD_DELETE) && !cmd->rulenum)) {
		rt_print_rule_verbose(stdout, t, &cmd->rule);
		return;
	}
	if (!(cmd->cmds & (RT_CMD_FLUSH | RT_CMD_ZERO | RT_CMD_DEL_CHAIN)))
		return;
	if (*cmd->chain) {
		printf("%s chain `%s'\n", what, cmd->chain);
		return;
	}
	order = rt_chain_order(t);
	for (i = 0; order && i < t->nr_chains; i++) {
		const struct rt_chain *c = &t->chains[order[i]];

		if (!(cmd->cmds & RT_CMD_DEL_CHAIN) || c->hook == RT_USER_CHAIN)
			printf("%s chain `%s'\n", what, c->name);
	}
	free(order);
}

static void report_load(const char *prog, const struct rt_load_fail *fail,
			const struct nl_error *err)
{
	char what[128];

	if (fail->begin && !err->syscall && err->error == EBUSY)
		snprintf(
			what, sizeof(what),
			"another transaction is in progress in this network namespace (-w waits for it)");
	else if (fail->begin)
		snprintf(what, sizeof(what), "starting the transaction");
	else if (fail->rule && fail->why) {
		rt_report(prog, 0, "rule %zu of chain %s: %s", fail->rule_num,
			  fail->chain->name, fail->why);
		return;
	} else if (fail->rule)
		snprintf(what, sizeof(what), "rule %zu of chain %s",
			 fail->rule_num, fail->chain->name);
	else if (fail->chain)
		snprintf(what, sizeof(what), "chain %s", fail->chain->name);
	else if (fail->table)
		snprintf(what, sizeof(what), "table %s",
			 rt_table_name(fail->table->id));
	else
		snprintf(what, sizeof(what), "commit");
	rt_report_nl(prog, 0, what, err);
}

/* Send the edited table; 1 if it changed meanwhile (try again). */
static int store_table(const char *prog, const struct rt_cmd *cmd,
		       struct rt_table *t, bool last_try)
{
	struct rt_table *tables[] = { t };
	struct rt_load_fail fail;
	struct nl_error err;
	struct nl_sock *nl;
	int wait = (cmd->opts & RT_OPT_WAIT) ? (int)cmd->wait : -1;

	if (!rt_open(&nl))
		return -1;
	if (!rt_put_tables(nl, tables, 1, wait, &err, &fail))
		return 0;
	if (fail.commit && !err.syscall && err.error == EAGAIN && !last_try)
		return 1;
	report_load(prog, &fail, &err);
	return -1;
}

static int run(const char *prog, const struct rt_cmd *cmd)
{
	bool listing = cmd->cmds & (RT_CMD_LIST | RT_CMD_LIST_RULES);
	bool editing = cmd->cmds &
		       ~(RT_CMD_LIST | RT_CMD_LIST_RULES | RT_CMD_CHECK);
	struct rt_table t;
	int tries, ret;

	for (tries = 0; tries < EDIT_TRIES; tries++) {
		if (load_table(prog, cmd, &t))
			return 1;
		if (tries == 0 && listing) {
			ret = list(prog, cmd, &t);
			if (ret || !editing) {
				rt_table_free(&t);
				return ret;
			}
		}
		if (tries == 0 && (cmd->opts & RT_OPT_VERBOSE))
			verbose_before(cmd, &t);
		ret = rt_apply(&t, cmd, false);
		if (ret) {
			rt_report(prog, 0, "%s", rt_error());
			rt_table_free(&t);
			return exit_status(ret);
		}
		/* Offline, show the result instead of storing it. */
		if (cmd->offline)
			rt_print_save(stdout, &t, true);
		if (!editing || cmd->offline) {
			rt_table_free(&t);
			return 0;
		}
		ret = store_table(prog, cmd, &t, tries == EDIT_TRIES - 1);
		rt_table_free(&t);
		if (ret <= 0)
			return ret ? 1 : 0;
	}
	return 1;
}

int tables_main(const char *prog, uint16_t af, int argc, char **argv)
{
	struct rt_parse_env env = {
		.af = af,
		.table = VIPLB_RTABLE_FILTER,
	};
	struct rt_cmd cmd;
	int ret;

	ret = rt_parse_args(argc, argv, &env, &cmd);
	if (ret) {
		rt_report(prog, 0, "%s", rt_error());
		rt_cmd_free(&cmd);
		return exit_status(ret);
	}
	if (cmd.help) {
		usage(prog);
	} else if (cmd.version) {
		printf("%s v%s\n", prog, VIPLB_VERSION);
	} else {
		if (cmd.opts & RT_OPT_JSON)
			print_init(stdout, true, cmd.opts & RT_OPT_PRETTY);
		ret = run(prog, &cmd);
	}
	rt_cmd_free(&cmd);
	return ret;
}

/* viplb-save */

enum { OPT_NFT = 256 };

static const struct option save_opts[] = {
	{ "counters", no_argument, NULL, 'c' },
	{ "nft", no_argument, NULL, OPT_NFT },
	{ "table", required_argument, NULL, 't' },
	{ "file", required_argument, NULL, 'f' },
	{ "ipv4", no_argument, NULL, '4' },
	{ "ipv6", no_argument, NULL, '6' },
	{ "modprobe", required_argument, NULL, 'M' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/*
 * --nft: the table for "nft -f", which replaces the table of that name
 * (add, delete, then the table whole: nft runs a file as one batch).
 */
static void save_nft(FILE *fp, const char *prog, const struct rt_table *t)
{
	const char *fam = t->af == AF_INET6 ? "ip6" : "ip";
	const char *name = t->id == VIPLB_RTABLE_NAT ? "viplb_nat" :
						       "viplb_filter";

	fprintf(fp, "# Generated by %s v%s (nft -f syntax)\n", prog,
		VIPLB_VERSION);
	fprintf(fp, "table %s %s\ndelete table %s %s\n", fam, name, fam, name);
	/* As the nf_tables datapath, no table at all rather than an empty one. */
	if (!rt_table_empty(t))
		rt_print_nft(fp, t);
}

static void save_table(FILE *fp, const char *prog, const struct rt_table *t,
		       bool counters)
{
	char date[64];
	time_t now = time(NULL);

	/* ctime() format, as iptables-save. */
	snprintf(date, sizeof(date), "%s", ctime(&now));
	date[strcspn(date, "\n")] = '\0';
	fprintf(fp, "# Generated by %s v%s on %s\n", prog, VIPLB_VERSION, date);
	rt_print_save(fp, t, counters);
	fprintf(fp, "# Completed on %s\n", date);
}

int tables_save_main(const char *prog, uint16_t af, int argc, char **argv)
{
	const char *file = NULL;
	bool counters = false, one = false, nft = false;
	struct rt_table t;
	struct nl_error err;
	struct nl_sock *nl;
	uint32_t id = 0, i;
	FILE *fp = stdout;
	char what[64];
	int opt, ret = 0;

	/* argv[0] is the first argument: give getopt a program name. */
	argv--;
	argc++;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+ct:f:46M:hV", save_opts,
				  NULL)) != -1) {
		switch (opt) {
		case 'c':
			counters = true;
			break;
		case OPT_NFT:
			nft = true;
			break;
		case 't':
			if (rt_table_by_name(optarg, &id)) {
				rt_report(prog, 0, "%s", rt_error());
				return 2;
			}
			one = true;
			break;
		case 'f':
			file = optarg;
			break;
		case '4':
			af = AF_INET;
			break;
		case '6':
			af = AF_INET6;
			break;
		case 'h':
			printf("Usage: %s [-c] [-t filter|nat] [-f FILE] [-4|-6] [--nft]\n",
			       prog);
			return 0;
		case 'V':
			printf("%s v%s\n", prog, VIPLB_VERSION);
			return 0;
		case 'M':
			rt_report(prog, 0, "unsupported option \"-M\"");
			return 2;
		default:
			rt_report(prog, 0, "unknown option " RT_Q,
				  quote_arg(argv[optind - 1]));
			return 2;
		}
	}
	if (optind < argc) {
		rt_report(prog, 0, "bad argument " RT_Q,
			  quote_arg(argv[optind]));
		return 2;
	}
	if (!rt_open(&nl))
		return 1;
	if (file) {
		fp = fopen(file, "w");
		if (!fp) {
			rt_report(prog, 0, "cannot open " RT_Q ": %s",
				  quote_arg(file), strerror(errno));
			return 1;
		}
	}
	for (i = 0; i <= VIPLB_RTABLE_MAX && !ret; i++) {
		if (one && i != id)
			continue;
		if (rt_get_table(nl, af, i, &t, &err)) {
			snprintf(what, sizeof(what), "reading the %s table",
				 rt_table_name(i));
			rt_report_nl(prog, 0, what, &err);
			ret = 1;
			break;
		}
		if (nft)
			save_nft(fp, prog, &t);
		else
			save_table(fp, prog, &t, counters);
		rt_table_free(&t);
	}
	if (fp != stdout && (fclose(fp) || ret)) {
		if (!ret)
			rt_report(prog, 0, "writing " RT_Q ": %s",
				  quote_arg(file), strerror(errno));
		ret = 1;
	}
	return ret;
}
