// SPDX-License-Identifier: GPL-2.0
/*
 * The target layer: the module, the module and XDP, or XDP alone.  See
 * target.h.  The module's side is here too: one acknowledged request per
 * command, and a restore as one kernel transaction (lib/txn.h).
 */
#include <errno.h>
#include <string.h>
#include <libmnl/libmnl.h>

#include <linux/viplb.h>

#include "errors.h"
#include "nl.h"
#include "target.h"
#include "txn.h"
#include "xdp.h"

enum target target_get(void)
{
	bool xdp = xdp_attached();

	if (module_loaded())
		return xdp ? TARGET_MODULE_XDP : TARGET_MODULE;
	return xdp ? TARGET_XDP : TARGET_MODULE;
}

/* Send one command to the module and wait for its ACK. */
static int module_apply(const struct config_cmd *cmd)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], what[256];
	struct nl_error err;
	struct nlmsghdr *nlh;
	struct nl_sock *nl;

	nl = nl_get();
	if (!nl)
		return -1;
	nlh = nl_msg_start(nl, buf, config_cmd_genl(cmd), 0);
	config_cmd_put(nlh, cmd);
	if (nl_request(nl, nlh, NULL, NULL, &err, NULL)) {
		nl_report(format_cmd(what, sizeof(what), cmd), &err);
		return -1;
	}
	return 0;
}

/*
 * The XDP maps' write lock, for the rest of the process (a batch takes it
 * once), before anything the command changes is read.
 */
static int lock_maps(const struct config_cmd *cmd)
{
	char what[256];

	return xdp_lock(format_cmd(what, sizeof(what), cmd), false);
}

int target_apply(const struct config_cmd *cmd)
{
	switch (target_get()) {
	case TARGET_XDP:
		return lock_maps(cmd) || xdp_apply(cmd) ? -1 : 0;
	case TARGET_MODULE_XDP:
		return lock_maps(cmd) || module_apply(cmd) || xdp_mirror(cmd) ?
			       -1 :
			       0;
	default:
		return module_apply(cmd);
	}
}

static void report_begin(const struct nl_error *err)
{
	if (!err->syscall && err->error == EBUSY)
		nl_report(
			"restore: another restore is in progress in this network namespace",
			err);
	else
		nl_report("restore: starting the transaction", err);
}

/*
 * The commands in one transaction: all or nothing.  An error names the
 * line of the first command the kernel refused.
 */
static int module_restore(const struct config_cmd *cmds, size_t n)
{
	struct nl_error err;
	struct nlmsghdr *nlh;
	bool lost = false;
	struct nl_sock *nl;
	struct txn *t;
	char what[256];
	size_t i, bad;
	int ret = -1;

	nl = nl_get();
	if (!nl)
		return -1;
	t = txn_begin(nl, 0, -1, &err);
	if (!t) {
		report_begin(&err);
		return -1;
	}
	for (i = 0; i < n; i++) {
		nlh = txn_msg(t, config_cmd_genl(&cmds[i]));
		config_cmd_put(nlh, &cmds[i]);
		/*
		 * Stop at the first refusal: the transaction is poisoned, and
		 * closing the socket aborts it.
		 */
		if (txn_add(t, &err) || txn_failed(t, &bad, &err))
			goto report;
	}
	ret = txn_commit(t, &err, &lost);
report:
	if (txn_failed(t, &bad, &err)) {
		cur_line = cmds[bad].line;
		nl_report(format_cmd(what, sizeof(what), &cmds[bad]), &err);
		cur_line = 0;
		ret = -1;
	} else if (ret) {
		nl_report(
			lost ? "restore: commit (some kernel replies were lost)" :
			       "restore: commit",
			&err);
		ret = -1;
	}
	txn_free(t);
	return ret;
}

int target_restore(const struct config_cmd *cmds, size_t n)
{
	enum target to = target_get();

	if (to != TARGET_MODULE && xdp_lock("restore", false))
		return -1;
	if (to == TARGET_XDP)
		return xdp_restore(cmds, n);
	if (module_restore(cmds, n))
		return -1;
	return to == TARGET_MODULE_XDP ? xdp_mirror_all() : 0;
}

int target_fetch(const struct svc_key *key, bool with_stats, const char *what,
		 struct lb_service_list *list)
{
	struct nl_sock *nl;

	if (target_get() == TARGET_XDP)
		return xdp_fetch(key, with_stats, what, list);
	nl = nl_get();
	if (!nl)
		return -1;
	return fetch_services(nl, key, what, list);
}
