// SPDX-License-Identifier: GPL-2.0
/*
 * Service, backend, flush and stats-zero commands applied to the XDP maps
 * alone, as the module would apply them: used when the module is not
 * loaded.  A service is read back, changed in memory and written whole.
 * A restore is first run whole on a model in memory, so that a file with
 * an error changes nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <linux/viplb.h>

#include <viplb/maglev.h>

#include "errors.h"
#include "util.h"
#include "xdp.h"

/*
 * What a service, backend add/set/del or service set command does to the
 * service s.  *flush: a backend del with flush.  0 or a negative errno.
 */
static int edit_service(struct lb_service *s, const struct config_cmd *cmd,
			bool *flush)
{
	int err = service_edit(s, cmd);

	*flush = !err && cmd->op == OP_BE_DEL && (cmd->has & HAS_FLUSH);
	/* lc counts each backend's connections: only the module can. */
	if (!err && (cmd->op == OP_SVC_ADD || cmd->op == OP_SVC_SET) &&
	    s->sched == VIPLB_SCHED_LC)
		return -EOPNOTSUPP;
	return err;
}

static int apply(struct xdp_maps *m, const struct config_cmd *cmd)
{
	struct lb_service_list list = { 0 };
	struct lb_service fresh, *s;
	bool flush;
	int err;

	switch (cmd->op) {
	case OP_FLUSH:
		return xdp_svc_flush(m);
	case OP_STATS_ZERO:
		return xdp_stats_zero(m, cmd->has & HAS_KEY ? &cmd->svc : NULL);
	case OP_SVC_DEL:
		return xdp_svc_del(m, &cmd->svc);
	case OP_SVC_ADD:
		err = xdp_svc_read(m, &cmd->svc, &list, false);
		free_services(&list);
		if (err != -ENOENT)
			return err ? err : -EEXIST;
		service_init(&fresh, &cmd->svc);
		s = &fresh;
		break;
	default:
		err = xdp_svc_read(m, &cmd->svc, &list, false);
		if (err)
			return err;
		s = &list.svcs[0];
		break;
	}
	err = edit_service(s, cmd, &flush);
	if (!err)
		err = xdp_svc_put(m, s, flush);
	if (s == &fresh)
		free(fresh.backends);
	free_services(&list);
	return err;
}

static void report(const struct config_cmd *cmd, int err)
{
	char what[256];

	format_cmd(what, sizeof(what), cmd);
	if (err == -EOPNOTSUPP)
		errmsg("%s: sched lc needs the module: XDP alone cannot count each backend's connections",
		       what);
	else
		errmsg("%s: %s (xdp maps)", what, strerror(-err));
}

int xdp_apply_cmd(struct xdp_maps *m, const struct config_cmd *cmd)
{
	int err = apply(m, cmd);

	if (err) {
		report(cmd, err);
		return -1;
	}
	return 0;
}

/*
 * A restore checked in memory: the services it builds from nothing, each
 * with the backends it retired (deleted without flush: they keep their
 * ids, see xdp_svc_put()), and the ids all of them take.
 */
struct model_svc {
	struct lb_service s;
	struct be_key *retired;
	size_t nr_retired;
	int next; /* hash chain, -1 at its end */
	bool dead;
};

#define MODEL_BUCKETS 4096

struct model {
	struct model_svc *svcs;
	size_t nr, cap;
	int head[MODEL_BUCKETS];
	size_t nr_live; /* services: one id each */
	size_t nr_be_ids; /* backends, live and retired */
};

static unsigned int model_hash(const struct svc_key *k)
{
	const unsigned char *p = (const unsigned char *)&k->addr;
	unsigned int h = 2166136261u ^ k->af ^ (k->proto << 8) ^
			 ((unsigned int)k->port << 16);
	size_t i;

	for (i = 0; i < addr_len(k->af); i++)
		h = (h ^ p[i]) * 16777619u;
	return h % MODEL_BUCKETS;
}

static bool same_svc(const struct svc_key *a, const struct svc_key *b)
{
	return a->af == b->af && a->proto == b->proto && a->port == b->port &&
	       !memcmp(&a->addr, &b->addr, addr_len(a->af));
}

static struct model_svc *model_find(struct model *md, const struct svc_key *k)
{
	int i;

	for (i = md->head[model_hash(k)]; i >= 0; i = md->svcs[i].next)
		if (!md->svcs[i].dead && same_svc(&md->svcs[i].s.key, k))
			return &md->svcs[i];
	return NULL;
}

static void model_drop(struct model *md, struct model_svc *ms)
{
	md->nr_live--;
	md->nr_be_ids -= ms->s.nr_backends + ms->nr_retired;
	ms->dead = true;
	free(ms->s.backends);
	free(ms->retired);
	ms->s.backends = NULL;
	ms->retired = NULL;
}

static void model_free(struct model *md)
{
	size_t i;

	for (i = 0; i < md->nr; i++)
		if (!md->svcs[i].dead)
			model_drop(md, &md->svcs[i]);
	free(md->svcs);
}

static int model_add(struct model *md, const struct svc_key *key)
{
	unsigned int h = model_hash(key);
	struct model_svc *ms;

	if (grow_array(md->svcs, md->nr, md->cap, 64))
		return -ENOMEM;
	ms = &md->svcs[md->nr];
	memset(ms, 0, sizeof(*ms));
	service_init(&ms->s, key);
	ms->next = md->head[h];
	md->head[h] = md->nr++;
	md->nr_live++;
	return 0;
}

static ssize_t find_retired(const struct model_svc *ms, const struct be_key *k,
			    uint16_t af)
{
	size_t i;

	for (i = 0; i < ms->nr_retired; i++)
		if (ms->retired[i].port == k->port &&
		    !memcmp(&ms->retired[i].addr, &k->addr, addr_len(af)))
			return i;
	return -1;
}

/* One command of the restore on the model, with xdp_svc_put()'s limits. */
static int model_apply(struct model *md, const struct config_cmd *cmd)
{
	struct model_svc *ms;
	ssize_t r;
	bool flush;
	int err;

	if (cmd->op == OP_FLUSH) {
		model_free(md);
		memset(md, 0, sizeof(*md));
		memset(md->head, -1, sizeof(md->head));
		return 0;
	}
	ms = model_find(md, &cmd->svc);
	if (cmd->op == OP_SVC_ADD) {
		if (ms)
			return -EEXIST;
		if (md->nr_live == VIPLB_XDP_VIPS_MAX)
			return -ENOSPC;
		err = model_add(md, &cmd->svc);
		if (err)
			return err;
		ms = &md->svcs[md->nr - 1];
	} else if (!ms) {
		return -ENOENT;
	}
	if (cmd->op == OP_SVC_DEL) {
		model_drop(md, ms);
		return 0;
	}
	err = edit_service(&ms->s, cmd, &flush);
	if (err)
		return err;
	if (!viplb_maglev_is_prime(service_table_m(&ms->s)))
		return -EINVAL;
	r = cmd->op == OP_BE_ADD || cmd->op == OP_BE_DEL ?
		    find_retired(ms, &cmd->be, ms->s.key.af) : -1;
	if (cmd->op == OP_BE_ADD) {
		/* Added back, it takes its retired id again. */
		if (r >= 0) {
			ms->retired[r] = ms->retired[--ms->nr_retired];
			return 0;
		}
		/* A ring indexes VIPLB_XDP_SLOT_NONE - 1 backends at most. */
		if (md->nr_be_ids == VIPLB_XDP_MAX_BACKENDS ||
		    ms->s.nr_backends >= VIPLB_XDP_SLOT_NONE)
			return -ENOSPC;
		md->nr_be_ids++;
	} else if (cmd->op == OP_BE_DEL) {
		if (flush) {
			md->nr_be_ids--;
		} else {
			void *p = realloc(ms->retired, (ms->nr_retired + 1) *
							       sizeof(*ms->retired));

			if (!p)
				return -ENOMEM;
			ms->retired = p;
			ms->retired[ms->nr_retired++] = cmd->be;
		}
	}
	return 0;
}

/* The model's services, moved into @out. */
static int model_take(struct model *md, struct lb_service_list *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	out->svcs = calloc(md->nr_live ? md->nr_live : 1, sizeof(*out->svcs));
	if (!out->svcs)
		return -ENOMEM;
	out->cap = md->nr_live;
	for (i = 0; i < md->nr; i++) {
		if (md->svcs[i].dead)
			continue;
		out->svcs[out->nr++] = md->svcs[i].s;
		md->svcs[i].s.backends = NULL;
	}
	return 0;
}

int xdp_restore_build(const struct config_cmd *cmds, size_t n,
		      struct lb_service_list *out)
{
	struct model md = { 0 };
	int err = 0;
	size_t i;

	memset(md.head, -1, sizeof(md.head));
	for (i = 0; i < n && !err; i++) {
		err = model_apply(&md, &cmds[i]);
		if (err) {
			cur_line = cmds[i].line;
			report(&cmds[i], err);
			cur_line = 0;
		}
	}
	if (!err && out) {
		err = model_take(&md, out);
		if (err)
			errmsg("restore: %s", strerror(-err));
	}
	model_free(&md);
	return err ? -1 : 0;
}
