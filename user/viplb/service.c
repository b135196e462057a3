// SPDX-License-Identifier: GPL-2.0
/*
 * viplb service ..., viplb backend ..., show, stats, stats zero and flush:
 * parse, then hand the command to the target layer (target.h), which
 * chooses the datapath.  service lookup asks the module's scheduler.
 * show says who serves each service (target_served()).
 */
#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "parse.h"
#include "print.h"
#include "service.h"
#include "target.h"
#include "viplb.h"

static int run_config(const struct config_cmd *cmd)
{
	return target_apply(cmd) ? 1 : 0;
}

/*
 * Ask the kernel which backend the service's scheduler picks for the flow.
 * No backend is an answer, not an error.
 */
static int run_lookup(const struct config_cmd *cmd)
{
	struct lookup_reply r;

	if (target_lookup(cmd, &r))
		return 1;
	print_lookup(&r);
	return 0;
}

/* show, stats, service show: ctx is the command for messages. */
static int show(const struct config_cmd *cmd, const char *ctx, bool with_stats)
{
	struct lb_service_list list;
	const struct svc_key *key = NULL;
	char what[128], ap[ADDRPORT_STRLEN];
	const char *served;
	bool text;
	size_t i;

	snprintf(what, sizeof(what), "%s", ctx);
	if (cmd->has & HAS_KEY) {
		key = &cmd->svc;
		snprintf(what, sizeof(what), "%s %s %s", ctx,
			 proto_name(key->proto),
			 format_addrport(ap, sizeof(ap), key->af, &key->addr,
					 key->port));
	}
	if (target_fetch(key, with_stats, what, &list))
		return 1;
	open_json_array(NULL);
	for (i = 0; i < list.nr; i++) {
		served = target_served(&list.svcs[i], &text);
		print_service(&list.svcs[i], with_stats, served, text);
	}
	close_json_array();
	free_services(&list);
	return 0;
}

int do_service(int argc, char **argv)
{
	struct config_cmd cmd;
	int ret;

	ret = parse_service_cmd(argc, argv, &cmd);
	if (ret)
		return parse_failed(ret);
	if (cmd.op == OP_SVC_SHOW)
		return show(&cmd, "service show", false);
	if (cmd.op == OP_SVC_LOOKUP)
		return run_lookup(&cmd);
	return run_config(&cmd);
}

int do_backend(int argc, char **argv)
{
	struct config_cmd cmd;
	int ret;

	ret = parse_backend_cmd(argc, argv, &cmd);
	if (ret)
		return parse_failed(ret);
	return run_config(&cmd);
}

int do_show(int argc, char **argv)
{
	struct config_cmd cmd;
	int ret;

	ret = parse_show_args(argc, argv, "show", &cmd);
	if (ret)
		return parse_failed(ret);
	return show(&cmd, "show", false);
}

int do_stats(int argc, char **argv)
{
	struct config_cmd cmd;
	int ret;

	ret = parse_stats_cmd(argc, argv, &cmd);
	if (ret)
		return parse_failed(ret);
	if (cmd.op == OP_STATS_ZERO)
		return run_config(&cmd);
	return show(&cmd, "stats", true);
}

int do_flush(int argc, char **argv)
{
	struct config_cmd cmd = { .op = OP_FLUSH };

	if (argc > 0) {
		errmsg("unexpected argument `%s' for flush",
		       quote_arg(argv[0]));
		return 1;
	}
	return run_config(&cmd);
}
