// SPDX-License-Identifier: GPL-2.0
/*
 * The viplb command grammar (user/lib/parse.c) and its command files
 * (user/lib/cmdfile.c).
 *
 * The whole input is a restore file for restore_parse() (through
 * fmemopen(), as viplb restore reads a file).  Then each line is split
 * with tokenize_line() and given to every command parser: as a restore
 * line (parse_config_cmd()), and without its first word as the arguments
 * of "service", "backend", "stats" and "show"; each token also goes to
 * the value parsers.
 *
 * Every command accepted must survive a round trip: format_cmd_line()
 * writes the batch line that recreates it ("viplb save" for restore
 * commands), and that line, parsed again the way the CLI would, must give
 * the same struct config_cmd and the same line.  A mismatch aborts.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <libmnl/libmnl.h>

#include "cmdfile.h"
#include "common.h"
#include "parse.h"
#include "service.h"

/* Longer lines add nothing but time. */
#define MAX_INPUT (64 * 1024)
/* format_cmd_line() output: two addresses, a source, options. */
#define LINE_BUF 1024

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_init();
	return 0;
}

static const char *op_name(enum cmd_op op)
{
	static const char *const names[] = {
		"OP_NONE",     "OP_SVC_ADD",	"OP_SVC_SET",	 "OP_SVC_DEL",
		"OP_SVC_SHOW", "OP_SVC_LOOKUP", "OP_BE_ADD",	 "OP_BE_SET",
		"OP_BE_DEL",   "OP_FLUSH",	"OP_STATS_ZERO",
	};

	return (unsigned int)op < sizeof(names) / sizeof(names[0]) ? names[op] :
								     "?";
}

/* The first field that differs, or NULL. */
static const char *cmd_diff(const struct config_cmd *a,
			    const struct config_cmd *b)
{
	if (a->op != b->op)
		return "op";
	if (a->has != b->has)
		return "has";
	if (a->svc.af != b->svc.af)
		return "svc.af";
	if (a->svc.proto != b->svc.proto)
		return "svc.proto";
	if (memcmp(&a->svc.addr, &b->svc.addr, sizeof(a->svc.addr)))
		return "svc.addr";
	if (a->svc.port != b->svc.port)
		return "svc.port";
	if (a->sched != b->sched)
		return "sched";
	if (a->mode != b->mode)
		return "mode";
	if (a->table_size != b->table_size)
		return "table_size";
	if (a->flags != b->flags)
		return "flags";
	if (memcmp(&a->be.addr, &b->be.addr, sizeof(a->be.addr)))
		return "be.addr";
	if (a->be.port != b->be.port)
		return "be.port";
	if (a->weight != b->weight)
		return "weight";
	if (memcmp(&a->src.addr, &b->src.addr, sizeof(a->src.addr)))
		return "src.addr";
	if (a->src.port != b->src.port)
		return "src.port";
	if (a->dport != b->dport)
		return "dport";
	return NULL;
}

/*
 * Parse a line the way it would be used again: restore commands as
 * restore lines, the others as the CLI dispatches its first word.
 */
static int reparse(bool restore, int argc, char **argv, struct config_cmd *cmd)
{
	if (restore)
		return parse_config_cmd(argc, argv, cmd);
	if (argc < 1)
		return -1;
	if (!strcmp(argv[0], "service"))
		return parse_service_cmd(argc - 1, argv + 1, cmd);
	if (!strcmp(argv[0], "backend"))
		return parse_backend_cmd(argc - 1, argv + 1, cmd);
	if (!strcmp(argv[0], "stats"))
		return parse_stats_cmd(argc - 1, argv + 1, cmd);
	return parse_config_cmd(argc, argv, cmd);
}

/* The request the command sends, built as the CLI builds it. */
static void build_request(const struct config_cmd *cmd)
{
	static char buf[16384] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *genl;

	nlh->nlmsg_type = 0x20;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = config_cmd_genl(cmd);
	config_cmd_put(nlh, cmd);
	if (nlh->nlmsg_len > sizeof(buf))
		fuzz_fail("request of %u bytes", nlh->nlmsg_len);
}

static void round_trip(const char *parser, bool restore,
		       const struct config_cmd *cmd)
{
	char line[LINE_BUF], again[LINE_BUF], tok[LINE_BUF];
	char *argv[LINE_MAX_ARGS];
	struct config_cmd cmd2;
	const char *diff;
	int argc;

	format_cmd(line, sizeof(line), cmd);
	format_cmd_line(line, sizeof(line), cmd);
	if (strlen(line) >= sizeof(line) - 1)
		fuzz_fail("%s: format_cmd_line() filled its buffer: %s", parser,
			  line);
	memcpy(tok, line, sizeof(tok));
	argc = tokenize_line(tok, argv, LINE_MAX_ARGS);
	if (argc < 0)
		fuzz_fail("%s: `%s' does not tokenize: %s", parser, line,
			  parse_error());
	if (reparse(restore, argc, argv, &cmd2))
		fuzz_fail(
			"%s accepted a command (%s) whose line `%s' fails: %s",
			parser, op_name(cmd->op), line, parse_error());
	diff = cmd_diff(cmd, &cmd2);
	if (diff)
		fuzz_fail("%s: `%s' parses back with another %s (%s)", parser,
			  line, diff, op_name(cmd->op));
	format_cmd_line(again, sizeof(again), &cmd2);
	if (strcmp(line, again))
		fuzz_fail("%s: `%s' formats again as `%s'", parser, line,
			  again);
}

static void accepted(const char *parser, bool restore,
		     const struct config_cmd *cmd)
{
	round_trip(parser, restore, cmd);
	build_request(cmd);
}

/* The value parsers of parse.h on one token. */
static void values(const char *tok)
{
	struct svc_key v4 = { .af = AF_INET, .proto = IPPROTO_TCP };
	struct svc_key v6 = { .af = AF_INET6, .proto = IPPROTO_UDP };
	struct svc_key key;
	struct flow_src src;
	struct be_key be;
	unsigned long ul;
	uint32_t u32;
	uint16_t port;
	uint8_t proto;

	quote_arg(tok);
	parse_proto(tok, &proto);
	parse_port(tok, &port);
	parse_uint(tok, 65535, &ul);
	parse_uint(tok, ~0UL, &ul);
	parse_sched(tok, &u32);
	parse_mode(tok, &u32);
	parse_weight(tok, &u32);
	parse_table_size(tok, &u32);
	memset(&key, 0, sizeof(key));
	if (!parse_vip(tok, &key)) {
		parse_backend(tok, &key, &be);
		parse_source(tok, &key, &src);
	}
	parse_backend(tok, &v4, &be);
	parse_backend(tok, &v6, &be);
	parse_source(tok, &v4, &src);
	parse_source(tok, &v6, &src);
}

/*
 * All the parsers on one line.  Returns 1 and the restore command in *rc
 * if parse_config_cmd() takes the line, 0 for a blank or comment line or
 * a good health line, -1 otherwise.
 */
static int one_line(char *line, struct config_cmd *rc)
{
	char *argv[LINE_MAX_ARGS + 1];
	struct config_cmd cmd;
	int argc, i, ret = -1;

	argc = tokenize_line(line, argv, LINE_MAX_ARGS);
	if (argc <= 0)
		return argc;
	for (i = 0; i < argc; i++)
		values(argv[i]);

	/* A health line is viplbd's: restore takes it, with no command. */
	if (!strcmp(argv[0], "health")) {
		struct health_check hc;

		return parse_health(argc, argv, &hc) ? -1 : 0;
	}
	if (!parse_config_cmd(argc, argv, rc)) {
		accepted("parse_config_cmd", true, rc);
		ret = 1;
	}
	/* As the CLI: argv[0] is the object word, the rest its arguments. */
	if (!parse_service_cmd(argc - 1, argv + 1, &cmd))
		accepted("parse_service_cmd", false, &cmd);
	if (!parse_backend_cmd(argc - 1, argv + 1, &cmd))
		accepted("parse_backend_cmd", false, &cmd);
	if (!parse_stats_cmd(argc - 1, argv + 1, &cmd))
		accepted("parse_stats_cmd", false, &cmd);
	if (!parse_show_args(argc - 1, argv + 1, "show", &cmd))
		accepted("parse_show_args", false, &cmd);
	return ret;
}

/*
 * The commands of a whole restore file, or NULL if restore_parse() refuses
 * it; *nr is how many.  The caller frees them.
 */
static struct config_cmd *restore_file(const uint8_t *data, size_t size,
				       size_t *nr)
{
	struct restore_cmds r = { 0 };
	char *copy;
	size_t i;
	FILE *f;

	/* fmemopen() of 0 bytes fails; an empty file is still a file. */
	*nr = 0;
	copy = malloc(size + 1);
	if (!copy)
		return NULL;
	memcpy(copy, data, size);
	f = fmemopen(copy, size ? size : 1, "r");
	if (!f) {
		free(copy);
		return NULL;
	}
	if (!size)
		fseek(f, 0, SEEK_END);
	if (!restore_parse(f, "fuzz", &r)) {
		/* Every command of a good file is a restore command. */
		for (i = 0; i < r.nr; i++) {
			if (r.cmds[i].op == OP_NONE ||
			    r.cmds[i].op == OP_SVC_SHOW ||
			    r.cmds[i].op == OP_SVC_LOOKUP ||
			    r.cmds[i].op == OP_STATS_ZERO)
				fuzz_fail("restore_parse() gave %s on line %u",
					  op_name(r.cmds[i].op),
					  r.cmds[i].line);
			accepted("restore_parse", true, &r.cmds[i]);
		}
		*nr = r.nr;
	} else {
		free(r.cmds);
		r.cmds = NULL;
	}
	free(r.checks);
	fclose(f);
	free(copy);
	return r.cmds;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_cmd *cmds, cmd;
	char *buf, *line, *nl;
	size_t nr, n = 0;
	unsigned int lineno = 0;
	const char *diff;
	int ret;

	if (size > MAX_INPUT)
		return 0;
	cmds = restore_file(data, size, &nr);

	buf = malloc(size + 1);
	if (!buf) {
		free(cmds);
		return 0;
	}
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (line = buf; line < buf + size; line = nl + 1) {
		nl = memchr(line, '\n', buf + size - line);
		if (!nl)
			nl = buf + size;
		*nl = '\0';
		lineno++;
		/* Up to a NUL byte, as a C string. */
		ret = one_line(line, &cmd);
		if (!cmds || !ret)
			continue;
		/* A file restore takes is its lines, one by one. */
		if (ret < 0 || n == nr)
			fuzz_fail("line %u: restore_parse() took the file, "
				  "parse_config_cmd() %s",
				  lineno,
				  ret < 0 ? "refuses the line" :
					    "finds more commands");
		diff = cmd_diff(&cmds[n], &cmd);
		if (diff || cmds[n].line != lineno)
			fuzz_fail("line %u: restore_parse() gave another %s "
				  "(line %u)",
				  lineno, diff ? diff : "line", cmds[n].line);
		n++;
	}
	if (cmds && n != nr)
		fuzz_fail("restore_parse() found %zu commands, the lines %zu",
			  nr, n);
	free(cmds);
	free(buf);
	return 0;
}
