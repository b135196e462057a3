// SPDX-License-Identifier: GPL-2.0
/*
 * Commands and restores on nf_tables: read the services (with their
 * counters, which the new table carries over), change them in memory,
 * write the whole table in one batch.  A restore starts from no service.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include <linux/membarrier.h>
#include <linux/viplb.h>

#include "errors.h"
#include "nft.h"
#include "util.h"

bool nft_serves(const struct lb_service *svc)
{
	return svc->mode == VIPLB_MODE_NAT && svc->sched != VIPLB_SCHED_LC;
}

/* Writes that found the table changed since it was read, and retried. */
#define WRITE_TRIES 5

/*
 * Batch 1 of a write (epoch.c): @list into the table, as @o found it, if
 * the ruleset is still at that generation (else -ERESTART).
 */
static int write_table(const struct lb_service_list *list,
		       const struct nft_objs *o)
{
	struct nft_batch *b = nft_batch_new();
	int err;

	if (!b)
		return -ENOMEM;
	err = nft_batch_genid(b, o->genid);
	if (!err)
		err = nft_ruleset_build(b, list, o);
	if (!err)
		err = nft_batch_send(b);
	nft_batch_free(b);
	return err;
}

/*
 * Wait until every packet that entered a chain before batch 1's commit
 * has left it.  A packet runs the rules of the generation it entered
 * with, but looks up set elements in the current one: one that entered
 * before batch 1 and reaches its map lookup after batch 2 (a vCPU or a
 * softirq held up for the milliseconds between them) finds the old
 * epoch's maps deleted, and is not translated.  The hooks run each
 * packet in an RCU read-side section, and MEMBARRIER_CMD_GLOBAL waits
 * for an RCU grace period (synchronize_rcu()).  Where the kernel does
 * not offer it (nohz_full), 100 ms instead.
 */
static void wait_for_readers(void)
{
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0))
		usleep(100000);
}

/*
 * Batch 2: delete the epoch the table used before, if batch 1's commit
 * (which made the generation after @o's) is still the last.  A failure
 * leaves it unused, and the next write deletes it: not reported.
 */
static void drop_epoch(const struct nft_objs *o)
{
	struct nft_batch *b = nft_batch_new();
	uint32_t gen = o->genid + 1;

	wait_for_readers();

	/* (the kernel skips 0, which means "any") */
	if (!gen)
		gen = 1;
	if (b && !nft_batch_genid(b, gen) && !nft_epoch_delete(b, o, o->live))
		nft_batch_send(b);
	nft_batch_free(b);
}

/* Write @list as the whole table.  0 or -1 (reported, naming @what). */
static int commit(struct lb_service_list *list, const char *what)
{
	struct nft_objs o;
	int err, tries;

	nft_model_sort(list);
	for (tries = 0; tries < WRITE_TRIES; tries++) {
		err = nft_objs_read(&o);
		if (err)
			break;
		err = write_table(list, &o);
		if (!err && o.in_place && list->nr)
			drop_epoch(&o);
		nft_objs_free(&o);
		if (err != -ERESTART)
			break;
	}
	if (err) {
		errmsg("%s: %s (nf_tables)", what, strerror(-err));
		return -1;
	}
	return 0;
}

static void report(const struct config_cmd *cmd, int err, const char *why)
{
	char what[256];

	format_cmd(what, sizeof(what), cmd);
	if (why)
		errmsg("%s: %s", what, why);
	else
		errmsg("%s: %s (nf_tables)", what, strerror(-err));
}

int nft_apply_many(const struct config_cmd *cmds, size_t n, bool xdp,
		   bool *ok)
{
	struct lb_service_list list;
	size_t i, nr_ok = 0;
	char what[256];
	const char *why;
	int err, ret;

	format_cmds(what, sizeof(what), cmds, n);
	memset(ok, 0, n * sizeof(*ok));
	if (nft_fetch(NULL, true, what, &list))
		return -1;
	for (i = 0; i < n; i++) {
		err = nft_model_apply(&list, &cmds[i], xdp, &why);
		if (err)
			report(&cmds[i], err, why);
		ok[i] = !err;
		nr_ok += !err;
	}
	ret = nr_ok ? commit(&list, what) : -1;
	free_services(&list);
	if (ret)
		memset(ok, 0, n * sizeof(*ok));
	return ret || nr_ok < n ? -1 : 0;
}

int nft_apply(const struct config_cmd *cmd, bool xdp)
{
	char what[256];
	bool ok;
	int err;

	if (nft_apply_many(cmd, 1, xdp, &ok))
		return -1;
	/* The backend is out of the table: now its connections go. */
	if (cmd->op == OP_BE_DEL && (cmd->has & HAS_FLUSH)) {
		err = nft_ct_flush(&cmd->svc, &cmd->be);
		if (err) {
			format_cmd(what, sizeof(what), cmd);
			errmsg("%s: deleting its conntrack entries: %s", what,
			       strerror(-err));
			return -1;
		}
	}
	return 0;
}

int nft_restore(const struct config_cmd *cmds, size_t n, bool xdp)
{
	struct lb_service_list list = { 0 };
	const char *why;
	int err, ret;
	size_t i;

	for (i = 0; i < n; i++) {
		err = nft_model_apply(&list, &cmds[i], xdp, &why);
		if (err) {
			cur_line = cmds[i].line;
			report(&cmds[i], err, why);
			cur_line = 0;
			free_services(&list);
			return -1;
		}
	}
	ret = commit(&list, "restore");
	free_services(&list);
	return ret;
}

/* A copy of @s at the end of @list, with the counters @cur has for it. */
static int copy_service(struct lb_service_list *list,
			const struct lb_service *s, struct lb_service_list *cur)
{
	struct lb_service *d, *old = nft_model_find(cur, &s->key);
	size_t i, j;

	if (grow_array(list->svcs, list->nr, list->cap, 16))
		return -ENOMEM;
	d = &list->svcs[list->nr];
	*d = *s;
	d->backends = calloc(s->nr_backends + 1, sizeof(*d->backends));
	if (!d->backends)
		return -ENOMEM;
	list->nr++;
	d->cap_backends = s->nr_backends;
	memset(&d->stats, 0, sizeof(d->stats));
	for (i = 0; i < s->nr_backends; i++) {
		d->backends[i] = s->backends[i];
		memset(&d->backends[i].stats, 0, sizeof(d->backends[i].stats));
	}
	if (!old)
		return 0;
	d->stats = old->stats;
	for (i = 0; i < d->nr_backends; i++)
		for (j = 0; j < old->nr_backends; j++)
			if (!memcmp(&d->backends[i].key, &old->backends[j].key,
				    sizeof(old->backends[j].key)))
				d->backends[i].stats = old->backends[j].stats;
	return 0;
}

int nft_replace(const struct lb_service_list *src, const char *what)
{
	struct lb_service_list cur, next = { 0 };
	int err = 0, ret = -1;
	size_t i;

	if (nft_fetch(NULL, true, what, &cur))
		return -1;
	for (i = 0; !err && i < src->nr; i++)
		if (nft_serves(&src->svcs[i]))
			err = copy_service(&next, &src->svcs[i], &cur);
	if (err)
		errmsg("%s: %s", what, strerror(-err));
	else
		ret = commit(&next, what);
	free_services(&next);
	free_services(&cur);
	return ret;
}
