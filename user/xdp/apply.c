// SPDX-License-Identifier: GPL-2.0
/*
 * Service, backend, flush and stats-zero commands applied to the XDP maps
 * alone, as the module would apply them: used when the module is not
 * loaded.  A service is read back, changed in memory and written whole.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/viplb.h>

#include "errors.h"
#include "xdp.h"

static struct lb_backend *find_backend(struct lb_service *s,
				       const struct be_key *k, uint16_t af)
{
	size_t i;

	for (i = 0; i < s->nr_backends; i++)
		if (s->backends[i].key.port == k->port &&
		    !memcmp(&s->backends[i].key.addr, &k->addr, addr_len(af)))
			return &s->backends[i];
	return NULL;
}

static int apply(struct xdp_maps *m, const struct config_cmd *cmd)
{
	struct lb_service_list list = { 0 };
	struct lb_service fresh = { 0 }, *s;
	struct lb_backend *be;
	bool flush = false;
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
		s = &fresh;
		s->key = cmd->svc;
		s->sched = VIPLB_SCHED_MAGLEV;
		s->mode = VIPLB_MODE_NAT;
		s->table_size = VIPLB_TABLE_SIZE_DEFAULT;
		break;
	default:
		err = xdp_svc_read(m, &cmd->svc, &list, false);
		if (err)
			return err;
		s = &list.svcs[0];
		break;
	}

	if (cmd->op == OP_SVC_ADD || cmd->op == OP_SVC_SET) {
		if (cmd->has & HAS_SCHED)
			s->sched = cmd->sched;
		if (cmd->has & HAS_MODE)
			s->mode = cmd->mode;
		if (cmd->has & HAS_TABLE_SIZE)
			s->table_size = cmd->table_size;
		if (cmd->has & HAS_FLAGS)
			s->flags = cmd->flags;
	}
	be = cmd->op >= OP_BE_ADD && cmd->op <= OP_BE_DEL ?
		     find_backend(s, &cmd->be, s->key.af) :
		     NULL;
	err = 0;
	switch (cmd->op) {
	case OP_BE_ADD:
		if (be) {
			err = -EEXIST;
			break;
		}
		if (s->nr_backends == s->cap_backends) {
			size_t cap = s->cap_backends ? 2 * s->cap_backends : 8;
			void *p = realloc(s->backends,
					  cap * sizeof(*s->backends));

			if (!p) {
				err = -ENOMEM;
				break;
			}
			s->backends = p;
			s->cap_backends = cap;
		}
		be = &s->backends[s->nr_backends++];
		memset(be, 0, sizeof(*be));
		be->key = cmd->be;
		be->weight = cmd->has & HAS_WEIGHT ? cmd->weight :
						     VIPLB_WEIGHT_DEFAULT;
		break;
	case OP_BE_SET:
		if (!be)
			err = -ENOENT;
		else if (cmd->has & HAS_WEIGHT)
			be->weight = cmd->weight;
		break;
	case OP_BE_DEL:
		if (!be) {
			err = -ENOENT;
			break;
		}
		*be = s->backends[--s->nr_backends];
		flush = cmd->has & HAS_FLUSH;
		break;
	default:
		break;
	}
	if (!err)
		err = xdp_svc_put(m, s, flush);
	if (s == &fresh)
		free(fresh.backends);
	free_services(&list);
	return err;
}

int xdp_apply_cmd(struct xdp_maps *m, const struct config_cmd *cmd)
{
	char what[256];
	int err = apply(m, cmd);

	if (err) {
		errmsg("%s: %s (xdp maps)", format_cmd(what, sizeof(what), cmd),
		       strerror(-err));
		return -1;
	}
	return 0;
}
