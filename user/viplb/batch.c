// SPDX-License-Identifier: GPL-2.0
/*
 * viplb -b FILE, viplb save and viplb restore.
 *
 * -b runs the lines of a file one after the other, each like a command
 * line and each acknowledged, over one netlink socket; it stops at the
 * first error.
 *
 * restore parses the whole file first (restore_parse() of lib/cmdfile.h,
 * no kernel involved) and sends nothing if any line is wrong.  Its health
 * lines are checked like the others, then left to viplbd: one file
 * serves both.  The target layer
 * then applies it: in the module as one transaction (lib/txn.h), so that
 * an error anywhere leaves the live configuration untouched.
 *
 * save writes the configuration as a restore file in which every setting
 * is explicit, so that save | restore | save is byte-identical.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/viplb.h>

#include "cmdfile.h"
#include "errors.h"
#include "parse.h"
#include "service.h"
#include "target.h"
#include "viplb.h"

int run_batch(const char *file)
{
	char *argv[LINE_MAX_ARGS], *buf = NULL;
	unsigned int lineno = 0;
	size_t cap = 0;
	int argc, ret;
	FILE *f;

	f = cmdfile_open(file);
	if (!f)
		return 1;
	in_batch = true;
	while ((ret = cmdfile_next(f, file, &buf, &cap, &lineno, &argc, argv)) >
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
	cmdfile_close(f);
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

int do_save(int argc, char **argv)
{
	struct lb_service_list list;
	size_t i;
	int ret = 0;

	if (argc > 0) {
		errmsg("unexpected argument `%s' for save", quote_arg(argv[0]));
		return 1;
	}
	if (target_fetch(NULL, false, "save", &list))
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

int do_restore(int argc, char **argv)
{
	struct restore_cmds r = { 0 };
	const char *file = "-";
	int ret = 1;
	FILE *f;

	if (argc > 1) {
		errmsg("unexpected argument `%s' for restore",
		       quote_arg(argv[1]));
		return 1;
	}
	if (argc == 1)
		file = argv[0];
	f = cmdfile_open(file);
	if (!f)
		return 1;
	if (!restore_parse(f, file, &r))
		ret = target_restore(r.cmds, r.nr) ? 1 : 0;
	cmdfile_close(f);
	restore_free(&r);
	return ret;
}
