// SPDX-License-Identifier: GPL-2.0
/*
 * viplb -b FILE, viplb save and viplb restore.
 *
 * -b runs the lines of a file one after the other, each like a command
 * line and each acknowledged, over one netlink socket; it stops at the
 * first error.
 *
 * restore parses the whole file first and sends nothing if any line is
 * wrong.  It then opens a kernel transaction (VIPLB_CMD_TXN_BEGIN, waiting
 * for its ACK so nothing can reach the live configuration if it fails),
 * streams every command in large batches without NLM_F_ACK (the kernel
 * answers only errors), and commits with VIPLB_CMD_TXN_COMMIT carrying the
 * number of commands sent (VIPLB_A_TXN_OPS), so that a command lost or
 * refused before reaching viplb also fails the commit.  Request i
 * has sequence number base + i, which maps a kernel error back to its
 * line.  Errors arrive in order, so the first one seen is the first bad
 * line; once one is seen nothing more is sent.  If anything fails, the
 * socket is closed, which aborts the transaction, and the live
 * configuration is untouched.
 *
 * save writes the configuration as a restore file in which every setting
 * is explicit, so that save | restore | save is byte-identical.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <libmnl/libmnl.h>

#include <linux/viplb.h>

#include "nl.h"
#include "parse.h"
#include "service.h"
#include "viplb.h"
#include "xdp.h"

static FILE *open_input(const char *file)
{
	FILE *f;

	if (!strcmp(file, "-"))
		return stdin;
	f = fopen(file, "r");
	if (!f)
		errmsg("cannot open `%s': %s", quote_arg(file),
		       strerror(errno));
	return f;
}

static void close_input(FILE *f)
{
	if (f != stdin)
		fclose(f);
}

/*
 * Read the next non-blank line of f into *argc/argv, counting lines in
 * *lineno.  Returns 1 for a line, 0 at the end, -1 on error (reported).
 */
static int next_line(FILE *f, const char *file, char **buf, size_t *cap,
		     unsigned int *lineno, int *argc, char **argv)
{
	ssize_t n;

	for (;;) {
		n = getline(buf, cap, f);
		if (n < 0) {
			if (ferror(f)) {
				errmsg("reading `%s': %s", quote_arg(file),
				       strerror(errno));
				return -1;
			}
			return 0;
		}
		++*lineno;
		if (strlen(*buf) != (size_t)n) {
			cur_line = *lineno;
			errmsg("NUL character in line");
			return -1;
		}
		*argc = tokenize_line(*buf, argv, LINE_MAX_ARGS);
		if (*argc < 0) {
			cur_line = *lineno;
			errmsg("%s", parse_error());
			return -1;
		}
		if (*argc > 0)
			return 1;
	}
}

int run_batch(const char *file)
{
	char *argv[LINE_MAX_ARGS], *buf = NULL;
	unsigned int lineno = 0;
	size_t cap = 0;
	int argc, ret;
	FILE *f;

	f = open_input(file);
	if (!f)
		return 1;
	in_batch = true;
	while ((ret = next_line(f, file, &buf, &cap, &lineno, &argc, argv)) >
	       0) {
		cur_line = lineno;
		if (!strcmp(argv[0], "restore")) {
			errmsg("`restore' not allowed in a batch file (use viplb restore FILE)");
			ret = -1;
			break;
		}
		if (run_command(argc, argv)) {
			ret = -1;
			break;
		}
		cur_line = 0;
	}
	in_batch = false;
	cur_line = 0;
	free(buf);
	close_input(f);
	return ret < 0 ? 1 : 0;
}

/* save */

/* Whether this tool can write svc back as batch lines without loss. */
static bool savable(const struct lb_service *svc)
{
	char ap[ADDRPORT_STRLEN];
	size_t i;

	format_addrport(ap, sizeof(ap), svc->key.af, &svc->key.addr,
			svc->key.port);
	if (!proto_name(svc->key.proto) || !sched_name(svc->sched) ||
	    !mode_name(svc->mode) || (svc->flags & ~__VIPLB_SVC_F_ALL)) {
		errmsg("save: service %s has a protocol, sched, mode or flag this viplb does not know (newer module?)",
		       ap);
		return false;
	}
	for (i = 0; i < svc->nr_backends; i++) {
		if (svc->backends[i].flags) {
			errmsg("save: a backend of service %s has flags this viplb does not know (newer module?)",
			       ap);
			return false;
		}
	}
	return true;
}

static void save_service(const struct lb_service *svc, FILE *fp)
{
	struct config_cmd cmd = {
		.op = OP_SVC_ADD,
		.has = HAS_KEY | HAS_SCHED | HAS_MODE | HAS_TABLE_SIZE |
		       HAS_FLAGS,
		.svc = svc->key,
		.sched = svc->sched,
		.mode = svc->mode,
		.table_size = svc->table_size,
		.flags = svc->flags,
	};
	char line[512];
	size_t i;

	fprintf(fp, "%s\n", format_cmd_line(line, sizeof(line), &cmd));
	cmd.op = OP_BE_ADD;
	cmd.has = HAS_KEY | HAS_WEIGHT;
	for (i = 0; i < svc->nr_backends; i++) {
		cmd.be = svc->backends[i].key;
		cmd.weight = svc->backends[i].weight;
		fprintf(fp, "%s\n", format_cmd_line(line, sizeof(line), &cmd));
	}
}

int do_save(int argc, char **argv)
{
	struct lb_service_list list;
	struct nl_sock *nl;
	size_t i;
	int ret = 0;

	if (argc >= 1 && !strcmp(argv[0], "help")) {
		print_usage(stdout, "save");
		return 0;
	}
	if (argc > 0) {
		errmsg("unexpected argument `%s' for save", quote_arg(argv[0]));
		return 1;
	}
	nl = nl_get();
	if (!nl || fetch_services(nl, NULL, "save", &list))
		return 1;
	for (i = 0; i < list.nr; i++)
		if (!savable(&list.svcs[i]))
			ret = 1;
	if (!ret)
		for (i = 0; i < list.nr; i++)
			save_service(&list.svcs[i], stdout);
	free_services(&list);
	return ret;
}

/* restore */

struct restore {
	struct config_cmd *cmds;
	size_t nr;
	size_t cap;
	uint32_t base_seq;
	bool failed;
	size_t failed_idx;
	struct nl_error first;
};

static int read_restore_file(const char *file, struct restore *r)
{
	char *argv[LINE_MAX_ARGS], *buf = NULL;
	unsigned int lineno = 0;
	struct config_cmd *p;
	size_t cap = 0;
	int argc, ret;
	FILE *f;

	f = open_input(file);
	if (!f)
		return -1;
	while ((ret = next_line(f, file, &buf, &cap, &lineno, &argc, argv)) >
	       0) {
		if (r->nr == r->cap) {
			r->cap = r->cap ? 2 * r->cap : 1024;
			p = realloc(r->cmds, r->cap * sizeof(*p));
			if (!p) {
				errmsg("restore: %s", strerror(ENOMEM));
				ret = -1;
				break;
			}
			r->cmds = p;
		}
		if (parse_config_cmd(argc, argv, &r->cmds[r->nr])) {
			cur_line = lineno;
			errmsg("%s", parse_error());
			ret = -1;
			break;
		}
		r->cmds[r->nr++].line = lineno;
	}
	free(buf);
	close_input(f);
	return ret;
}

/* A kernel error to one of the batched commands: keep the first. */
static void restore_error(const struct nl_error *err, void *data)
{
	struct restore *r = data;
	size_t idx = (uint32_t)(err->seq - r->base_seq);

	if (idx >= r->nr || (r->failed && idx >= r->failed_idx))
		return;
	r->failed = true;
	r->failed_idx = idx;
	r->first = *err;
}

static int txn_begin(struct nl_sock *nl)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nl_error err;
	struct nlmsghdr *nlh;

	nlh = nl_msg_start(nl, buf, VIPLB_CMD_TXN_BEGIN, 0);
	if (!nl_request(nl, nlh, NULL, NULL, &err, NULL))
		return 0;
	if (!err.syscall && err.error == EBUSY)
		nl_report(
			"restore: another restore is in progress in this network namespace",
			&err);
	else
		nl_report("restore: starting the transaction", &err);
	return -1;
}

static int send_restore(struct nl_sock *nl, struct restore *r)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nl_batch *b;
	struct nl_error err;
	struct nlmsghdr *nlh;
	char what[256];
	bool lost = false;
	int ret = -1;
	size_t i;

	b = nl_batch_new(nl);
	if (!b) {
		errmsg("restore: %s", strerror(ENOMEM));
		return -1;
	}
	for (i = 0; i < r->nr; i++) {
		nlh = nl_batch_msg(nl, b, config_cmd_genl(&r->cmds[i]), 0);
		if (i == 0)
			r->base_seq = nlh->nlmsg_seq;
		config_cmd_put(nlh, &r->cmds[i]);
		if (nl_batch_add(nl, b, restore_error, r, &err))
			goto report;
		/*
		 * The transaction is poisoned: the commit would fail, so
		 * stop here; closing the socket aborts the transaction.
		 */
		if (r->failed)
			goto report;
	}
	/* Collect errors before the commit, so its ACK has room. */
	if (nl_batch_send(nl, b, restore_error, r, &err))
		goto report;
	/* Sent alone: a drain must not swallow its ACK. */
	nlh = nl_msg_start(nl, buf, VIPLB_CMD_TXN_COMMIT, NLM_F_ACK);
	/* The kernel checks it applied exactly as many commands. */
	mnl_attr_put_u32(nlh, VIPLB_A_TXN_OPS, r->nr);
	if (nl_send(nl, nlh, &err) ||
	    nl_wait(nl, nlh->nlmsg_seq, restore_error, r, &err, &lost))
		goto report;
	ret = 0;
report:
	if (r->failed) {
		const struct config_cmd *cmd = &r->cmds[r->failed_idx];

		cur_line = cmd->line;
		nl_report(format_cmd(what, sizeof(what), cmd), &r->first);
		cur_line = 0;
		ret = -1;
	} else if (ret) {
		nl_report(
			lost ? "restore: commit (some kernel replies were lost)" :
			       "restore: commit",
			&err);
	}
	nl_batch_free(b);
	return ret;
}

int do_restore(int argc, char **argv)
{
	struct restore r = { 0 };
	const char *file = "-";
	struct nl_sock *nl;
	int ret = 1;

	if (argc >= 1 && !strcmp(argv[0], "help")) {
		print_usage(stdout, "restore");
		return 0;
	}
	if (argc > 1) {
		errmsg("unexpected argument `%s' for restore",
		       quote_arg(argv[1]));
		return 1;
	}
	if (argc == 1)
		file = argv[0];
	if (read_restore_file(file, &r))
		goto out;
	cur_line = 0;
	if (!module_loaded() && xdp_attached()) {
		ret = xdp_restore(r.cmds, r.nr) ? 1 : 0;
		goto out;
	}
	nl = nl_get();
	if (!nl || txn_begin(nl))
		goto out;
	if (send_restore(nl, &r))
		goto out;
	ret = xdp_mirror_all() ? 1 : 0;
out:
	free(r.cmds);
	return ret;
}
