// SPDX-License-Identifier: GPL-2.0
/*
 * The XDP maps kept in step with the service commands: copies of the
 * module's services (the mirror), and commands, restores and reads on the
 * maps alone when the module is not loaded.  Which of these a command
 * takes is decided by the target layer (user/target/target.c), which also
 * takes the write lock (pin.c).
 *
 * The maps are pinned in this netns's directory (pin.c): the maps (by
 * name), the program ("prog") and one XDP link per device ("link_IFINDEX").
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errors.h"
#include "nl.h"
#include "xdp.h"

int xdp_open_maps(struct xdp_maps *m, const char *what)
{
	int err;

	if (xdp_pin_dir_check(what))
		return -1;
	err = xdp_maps_open(m, xdp_pin_dir());

	if (err == -ENOENT && xdp_pinned_by_old())
		errmsg("%s: the XDP state in %s was made by an older viplb (no vip_gen or no pools map): detach it from every device (viplb xdp detach DEV) and attach again",
		       what, xdp_pin_dir());
	else if (err)
		errmsg("%s: cannot open the XDP maps in %s: %s", what,
		       xdp_pin_dir(), strerror(-err));
	return err ? -1 : 0;
}

/* Copy the module's services (one, or all if key is NULL) into the maps. */
int xdp_copy_from_module(struct xdp_maps *m, const struct svc_key *key,
			 bool flush_removed, const char *what)
{
	struct lb_service_list list;
	struct nl_sock *nl;
	size_t i;
	int err = 0;

	nl = nl_get();
	if (!nl)
		return -1;
	if (fetch_services(nl, key, what, &list))
		return -1;
	for (i = 0; !err && i < list.nr; i++)
		err = xdp_svc_put(m, &list.svcs[i], flush_removed);
	free_services(&list);
	if (err) {
		errmsg("%s: updating the XDP maps: %s", what, strerror(-err));
		return -1;
	}
	return 0;
}

int xdp_mirror(const struct config_cmd *cmd)
{
	struct xdp_maps m;
	char what[256];
	int err = 0;

	format_cmd(what, sizeof(what), cmd);
	if (xdp_open_maps(&m, what))
		return -1;
	switch (cmd->op) {
	case OP_FLUSH:
		err = xdp_svc_flush(&m);
		break;
	case OP_SVC_DEL:
		err = xdp_svc_del(&m, &cmd->svc);
		if (err == -ENOENT)
			err = 0;
		break;
	case OP_STATS_ZERO:
		err = xdp_stats_zero(&m, cmd->has & HAS_KEY ? &cmd->svc : NULL);
		if (err == -ENOENT)
			err = 0;
		break;
	default:
		/* The module is the reference: copy its view of the service. */
		err = xdp_copy_from_module(&m, &cmd->svc,
					   cmd->op == OP_BE_DEL &&
						   (cmd->has & HAS_FLUSH),
					   what) ?
			      -EIO :
			      0;
		if (!err)
			xdp_neigh_sync(&m);
		xdp_maps_release(&m, true);
		return err ? -1 : 0;
	}
	if (!err)
		xdp_neigh_sync(&m);
	xdp_maps_release(&m, true);
	if (err) {
		errmsg("%s: updating the XDP maps: %s", what, strerror(-err));
		return -1;
	}
	return 0;
}

/* Order of service keys, for has_key()'s binary search. */
static int cmp_key(const void *a, const void *b)
{
	const struct svc_key *x = *(const struct svc_key *const *)a;
	const struct svc_key *y = *(const struct svc_key *const *)b;
	int d;

	if (x->af != y->af)
		return x->af < y->af ? -1 : 1;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	d = memcmp(&x->addr, &y->addr, addr_len(x->af));
	return d < 0 ? -1 : d > 0;
}

/* The keys of a list, sorted by cmp_key(); NULL if out of memory. */
static const struct svc_key **sorted_keys(const struct lb_service_list *list)
{
	const struct svc_key **keys;
	size_t i;

	keys = calloc(list->nr ? list->nr : 1, sizeof(*keys));
	if (!keys)
		return NULL;
	for (i = 0; i < list->nr; i++)
		keys[i] = &list->svcs[i].key;
	qsort(keys, list->nr, sizeof(*keys), cmp_key);
	return keys;
}

/* Whether the sorted keys hold this key. */
static bool has_key(const struct svc_key **keys, size_t nr,
		    const struct svc_key *key)
{
	return bsearch(&key, keys, nr, sizeof(*keys), cmp_key) != NULL;
}

int xdp_mirror_all(void)
{
	const struct svc_key **keys = NULL;
	struct lb_service_list mod, xdp = { 0 };
	struct nl_sock *nl;
	struct xdp_maps m;
	size_t i;
	int err = 0;

	nl = nl_get();
	if (!nl || xdp_open_maps(&m, "restore"))
		return -1;
	if (fetch_services(nl, NULL, "restore", &mod)) {
		xdp_maps_release(&m, true);
		return -1;
	}
	/* At once, as the module switched; else service by service. */
	err = xdp_svc_replace(&m, &mod);
	if (err != -ENOSPC)
		goto done;
	errmsg("restore: warning: the XDP maps cannot hold both configurations at once: they switch service by service");
	err = xdp_svc_read(&m, NULL, &xdp, false);
	keys = err ? NULL : sorted_keys(&mod);
	if (!err && !keys)
		err = -ENOMEM;
	for (i = 0; !err && i < xdp.nr; i++)
		if (!has_key(keys, mod.nr, &xdp.svcs[i].key))
			err = xdp_svc_del(&m, &xdp.svcs[i].key);
	for (i = 0; !err && i < mod.nr; i++)
		err = xdp_svc_put(&m, &mod.svcs[i], false);
	free(keys);
	free_services(&xdp);
done:
	if (!err)
		xdp_neigh_sync(&m);
	free_services(&mod);
	xdp_maps_release(&m, true);
	if (err) {
		errmsg("restore: updating the XDP maps: %s", strerror(-err));
		return -1;
	}
	return 0;
}

/* What a failed xdp_svc_replace() of a restore says. */
static void replace_failed(int err)
{
	if (err == -ENOSPC)
		errmsg("restore: the XDP maps cannot hold the old and the new configuration at once (%d backend ids for both): nothing changed; flush first",
		       VIPLB_XDP_MAX_BACKENDS);
	else
		errmsg("restore: updating the XDP maps: %s", strerror(-err));
}

/*
 * The file's services, built in memory (which checks it whole), then
 * switched in at once: a new generation of the maps (xdp_svc_replace()).
 */
int xdp_restore(const struct config_cmd *cmds, size_t n)
{
	struct lb_service_list list;
	struct xdp_maps m;
	int err;

	if (xdp_restore_build(cmds, n, &list))
		return -1;
	if (xdp_open_maps(&m, "restore")) {
		free_services(&list);
		return -1;
	}
	err = xdp_svc_replace(&m, &list);
	if (err)
		replace_failed(err);
	else
		xdp_neigh_sync(&m);
	free_services(&list);
	xdp_maps_release(&m, true);
	return err ? -1 : 0;
}

int xdp_apply(const struct config_cmd *cmd)
{
	struct xdp_maps m;
	char what[256];
	int ret;

	if (xdp_open_maps(&m, format_cmd(what, sizeof(what), cmd)))
		return -1;
	ret = xdp_apply_cmd(&m, cmd);
	if (!ret)
		xdp_neigh_sync(&m);
	xdp_maps_release(&m, true);
	return ret;
}

int xdp_fetch(const struct svc_key *key, bool with_stats, const char *what,
	      struct lb_service_list *list)
{
	struct xdp_maps m;
	int err;

	if (xdp_open_maps(&m, what))
		return -1;
	err = xdp_svc_read(&m, key, list, with_stats);
	xdp_maps_release(&m, true);
	if (err) {
		errmsg("%s: reading the XDP maps: %s", what, strerror(-err));
		return -1;
	}
	return 0;
}
