// SPDX-License-Identifier: GPL-2.0
/*
 * The target layer: the module or nf_tables, each with or without XDP.
 * See target.h.  The module's side is here too: one acknowledged request
 * per command, and a restore as one kernel transaction (lib/txn.h).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <libmnl/libmnl.h>

#include <linux/viplb.h>

#include "errors.h"
#include "nft.h"
#include "nl.h"
#include "tables.h"
#include "target.h"
#include "txn.h"
#include "util.h"
#include "xdp.h"

enum datapath {
	DATAPATH_AUTO,
	DATAPATH_MODULE,
	DATAPATH_NFT,
};

static enum datapath datapath;

/*
 * The services nf_tables holds, read once until a command changes them:
 * with XDP attached and no module, a nat service in the maps is served
 * only once a command has written it to nf_tables too (not yet, for
 * one, right after the module was unloaded).
 */
static struct lb_service_list nft_now;
static bool nft_now_read;

static void nft_now_forget(void)
{
	free_services(&nft_now);
	memset(&nft_now, 0, sizeof(nft_now));
	nft_now_read = false;
}

static bool nft_holds(const struct lb_service *svc)
{
	if (!nft_serves(svc))
		return false;
	if (!nft_now_read) {
		nft_now_read = true;
		if (nft_fetch(NULL, false, "reading nf_tables", &nft_now))
			memset(&nft_now, 0, sizeof(nft_now));
	}
	return nft_model_find(&nft_now, &svc->key);
}

/* Who serves what XDP passes when the module is not loaded. */
static const char *passed_to(const struct lb_service *svc)
{
	if (datapath == DATAPATH_MODULE)
		return "none";
	return nft_holds(svc) ? "nft" : "none";
}

int target_init(const char *name)
{
	const char *from = "-d/--datapath";

	if (!name || !*name) {
		name = getenv("VIPLB_DATAPATH");
		from = "VIPLB_DATAPATH";
	}
	if (!name || !*name)
		datapath = DATAPATH_AUTO;
	else if (!strcmp(name, "module"))
		datapath = DATAPATH_MODULE;
	else if (!strcmp(name, "nft"))
		datapath = DATAPATH_NFT;
	else {
		errmsg("unknown datapath `%s' for %s (use module or nft)",
		       quote_arg(name), from);
		return -1;
	}
	xdp_passed_to = passed_to;
	return 0;
}

/*
 * Whether modprobe's configuration keeps viplb from loading on demand:
 * "blacklist viplb" (the genetlink family's alias then loads nothing) or
 * "install viplb /bin/false" (or /bin/true), in a *.conf of the
 * directories modprobe reads.
 */
static bool module_blacklisted(void)
{
	static const char *const dirs[] = { "/etc/modprobe.d",
					    "/run/modprobe.d",
					    "/usr/local/lib/modprobe.d",
					    "/lib/modprobe.d",
					    "/usr/lib/modprobe.d" };
	char path[PATH_MAX], line[512], cmd[16], name[64], prog[64];
	bool found = false;
	struct dirent *de;
	size_t i, len;
	DIR *d;
	FILE *f;

	for (i = 0; !found && i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		d = opendir(dirs[i]);
		if (!d)
			continue;
		while (!found && (de = readdir(d))) {
			len = strlen(de->d_name);
			if (len < 5 || strcmp(de->d_name + len - 5, ".conf"))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dirs[i],
				 de->d_name);
			f = fopen(path, "r");
			if (!f)
				continue;
			while (!found && fgets(line, sizeof(line), f)) {
				int n = sscanf(line, "%15s %63s %63s", cmd, name,
					       prog);

				if (n < 2 || strcmp(name, "viplb"))
					continue;
				found = !strcmp(cmd, "blacklist") ||
					(n == 3 && !strcmp(cmd, "install") &&
					 (!strcmp(prog, "/bin/false") ||
					  !strcmp(prog, "/bin/true")));
			}
			fclose(f);
		}
		closedir(d);
	}
	return found;
}

/*
 * Whether a tool's lookup of the genetlink family would load viplb.ko:
 * module loading is on, the running kernel's modules.dep lists it, and
 * modprobe's configuration does not keep it from loading on demand.
 */
static bool module_loadable(void)
{
	char path[320], line[1024];
	struct utsname u;
	bool found = false;
	FILE *f;

	f = fopen("/proc/sys/kernel/modules_disabled", "r");
	if (f) {
		found = fgetc(f) == '1';
		fclose(f);
		if (found)
			return false;
	}
	if (uname(&u))
		return false;
	snprintf(path, sizeof(path), "/lib/modules/%s/modules.dep", u.release);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':'), *base;

		if (!colon)
			continue;
		*colon = '\0';
		base = strrchr(line, '/');
		base = base ? base + 1 : line;
		/* viplb.ko, or compressed: viplb.ko.xz and the like */
		found = !strncmp(base, "viplb.ko", 8) &&
			(!base[8] || base[8] == '.');
	}
	fclose(f);
	return found && !module_blacklisted();
}

/* The module, unless nft is forced or it is neither loaded nor loadable. */
static bool use_module(void)
{
	switch (datapath) {
	case DATAPATH_MODULE:
		return true;
	case DATAPATH_NFT:
		return false;
	default:
		return module_loaded() || module_loadable();
	}
}

enum target target_get(void)
{
	bool xdp = xdp_attached();
	bool module = use_module();

	if (module)
		return xdp ? TARGET_MODULE_XDP : TARGET_MODULE;
	return xdp ? TARGET_NFT_XDP : TARGET_NFT;
}

void target_tables(void)
{
	rt_datapath = use_module() ? NULL : &nft_rules_datapath;
}

const char *target_served(const struct lb_service *svc, bool *text)
{
	switch (target_get()) {
	case TARGET_MODULE:
		*text = false;
		return "module";
	case TARGET_MODULE_XDP:
		*text = true;
		return xdp_served_by(svc, true, true);
	case TARGET_NFT:
		*text = false;
		return nft_serves(svc) ? "nft" : "none";
	default:
		*text = true;
		return xdp_serves(svc) ? "xdp" :
		       nft_holds(svc)  ? "nft" :
					 "none";
	}
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

/*
 * With XDP attached, its maps hold every service (as without nf_tables);
 * nf_tables then follows the nat services they hold.
 */
static int nft_follow_xdp(const char *what)
{
	struct lb_service_list x;
	int ret;

	if (xdp_fetch(NULL, false, what, &x))
		return -1;
	ret = nft_replace(&x, what);
	free_services(&x);
	return ret;
}

/*
 * Services on nf_tables that the maps lack (configured before XDP was
 * attached) go into the maps first, so that nf_tables, which follows the
 * maps, keeps them.
 */
static int adopt_nft(const char *what)
{
	struct lb_service_list n, x;
	struct config_cmd c;
	int ret = 0;
	size_t i, j;

	if (nft_fetch(NULL, false, what, &n))
		return -1;
	if (!n.nr || xdp_fetch(NULL, false, what, &x)) {
		ret = n.nr ? -1 : 0;
		free_services(&n);
		return ret;
	}
	for (i = 0; !ret && i < n.nr; i++) {
		const struct lb_service *s = &n.svcs[i];

		if (nft_model_find(&x, &s->key))
			continue;
		service_add_cmd(s, &c);
		ret = xdp_apply(&c);
		for (j = 0; !ret && j < s->nr_backends; j++) {
			backend_add_cmd(s, j, &c);
			ret = xdp_apply(&c);
		}
	}
	free_services(&x);
	free_services(&n);
	return ret;
}

int target_follow(const char *what)
{
	if (target_get() != TARGET_NFT_XDP)
		return 0;
	nft_now_forget();
	if (xdp_lock(what, false) || adopt_nft(what))
		return -1;
	return nft_follow_xdp(what);
}

static int nft_xdp_apply(const struct config_cmd *cmd)
{
	char what[256];

	format_cmd(what, sizeof(what), cmd);
	if (lock_maps(cmd) || adopt_nft(what) || xdp_apply(cmd))
		return -1;
	if (cmd->op == OP_STATS_ZERO)
		return nft_apply(cmd, true);
	if (nft_follow_xdp(what))
		return -1;
	/* The maps dropped the backend's flows; conntrack holds nat's. */
	if (cmd->op == OP_BE_DEL && (cmd->has & HAS_FLUSH) &&
	    nft_ct_flush(&cmd->svc, &cmd->be)) {
		errmsg("%s: deleting its conntrack entries failed", what);
		return -1;
	}
	return 0;
}

int target_apply(const struct config_cmd *cmd)
{
	nft_now_forget();
	switch (target_get()) {
	case TARGET_NFT:
		return nft_apply(cmd, false);
	case TARGET_NFT_XDP:
		return nft_xdp_apply(cmd);
	case TARGET_MODULE_XDP:
		return lock_maps(cmd) || module_apply(cmd) || xdp_mirror(cmd) ?
			       -1 :
			       0;
	default:
		return module_apply(cmd);
	}
}

/*
 * Backends' settings (OP_BE_SET) with XDP attached over nf_tables: each
 * into the maps, then nf_tables follows them once, instead of one
 * whole-table write a command.  A command the maps refuse is reported and
 * left out; if the table cannot follow, none counts as written (the
 * caller retries).
 */
static int nft_xdp_apply_many(const struct config_cmd *cmds, size_t n,
			      bool *ok)
{
	size_t i, nr_ok = 0;
	char what[256];

	memset(ok, 0, n * sizeof(*ok));
	format_cmds(what, sizeof(what), cmds, n);
	if (lock_maps(&cmds[0]) || adopt_nft(what))
		return -1;
	for (i = 0; i < n; i++) {
		ok[i] = !xdp_apply(&cmds[i]);
		nr_ok += ok[i];
	}
	if (nr_ok && nft_follow_xdp(what)) {
		memset(ok, 0, n * sizeof(*ok));
		return -1;
	}
	return nr_ok == n ? 0 : -1;
}

int target_apply_many(const struct config_cmd *cmds, size_t n, bool *ok)
{
	size_t i, nr_ok = 0;

	if (!n)
		return 0;
	nft_now_forget();
	if (target_get() == TARGET_NFT)
		return nft_apply_many(cmds, n, false, ok);
	for (i = 0; i < n && cmds[i].op == OP_BE_SET; i++)
		;
	if (i == n && target_get() == TARGET_NFT_XDP)
		return nft_xdp_apply_many(cmds, n, ok);
	for (i = 0; i < n; i++) {
		ok[i] = !target_apply(&cmds[i]);
		nr_ok += ok[i];
	}
	return nr_ok == n ? 0 : -1;
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

	nft_now_forget();
	switch (to) {
	case TARGET_NFT:
		return nft_restore(cmds, n, false);
	case TARGET_NFT_XDP:
		/* The maps first: they check it all, and hold it all. */
		if (xdp_lock("restore", false) || xdp_restore(cmds, n))
			return -1;
		return nft_follow_xdp("restore");
	case TARGET_MODULE_XDP:
		if (xdp_lock("restore", false) || module_restore(cmds, n))
			return -1;
		return xdp_mirror_all();
	default:
		return module_restore(cmds, n);
	}
}

static bool same_key(const struct svc_key *a, const struct svc_key *b)
{
	return a->af == b->af && a->proto == b->proto && a->port == b->port &&
	       !memcmp(&a->addr, &b->addr, addr_len(a->af));
}

/*
 * What nf_tables adds to the maps' services in @list (of @key, or all):
 * the counters of those it serves, and those the maps lack (configured
 * before XDP was attached, adopted by the next command).
 */
static int nft_merge(const struct svc_key *key, const char *what,
		     struct lb_service_list *list)
{
	struct lb_service_list x;
	size_t i, j, k;

	if (nft_fetch(NULL, true, what, &x))
		return -1;
	for (i = 0; i < x.nr; i++) {
		struct lb_service *t = &x.svcs[i];
		struct lb_service *s = nft_model_find(list, &t->key);

		if (key && !same_key(key, &t->key))
			continue;
		if (!s) {
			if (grow_array(list->svcs, list->nr, list->cap, 16)) {
				errmsg("%s: %s", what, strerror(ENOMEM));
				free_services(&x);
				return -1;
			}
			list->svcs[list->nr++] = *t;
			t->backends = NULL;
			t->nr_backends = 0;
			continue;
		}
		if (!nft_serves(s))
			continue;
		s->stats = t->stats;
		for (j = 0; j < s->nr_backends; j++)
			for (k = 0; k < t->nr_backends; k++)
				if (!memcmp(&s->backends[j].key,
					    &t->backends[k].key,
					    sizeof(t->backends[k].key)))
					s->backends[j].stats =
						t->backends[k].stats;
	}
	free_services(&x);
	nft_model_sort(list);
	return 0;
}

int target_generation(uint32_t *gen)
{
	if (target_get() != TARGET_NFT)
		return -1;
	return nft_genid(gen) ? -1 : 0;
}

int target_fetch(const struct svc_key *key, bool with_stats, const char *what,
		 struct lb_service_list *list)
{
	struct nl_sock *nl;

	switch (target_get()) {
	case TARGET_NFT_XDP:
		if (xdp_fetch(key, with_stats, what, list))
			return -1;
		if (nft_merge(key, what, list)) {
			free_services(list);
			return -1;
		}
		return 0;
	case TARGET_NFT:
		return nft_fetch(key, with_stats, what, list);
	default:
		nl = nl_get();
		if (!nl)
			return -1;
		return fetch_services(nl, key, what, list);
	}
}

int target_lookup(const struct config_cmd *cmd, struct lookup_reply *r)
{
	struct nl_sock *nl;
	char what[256];

	switch (target_get()) {
	case TARGET_NFT:
		return nft_lookup(cmd, r);
	case TARGET_NFT_XDP:
		errmsg("%s: with XDP attached, use viplb xdp lookup (the program answers for dr and tun)",
		       format_cmd(what, sizeof(what), cmd));
		return -1;
	default:
		nl = nl_get();
		if (!nl)
			return -1;
		return lookup_service(nl, cmd, r);
	}
}
