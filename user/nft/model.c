// SPDX-License-Identifier: GPL-2.0
/*
 * What a command does to the services, in memory, as the module does it:
 * the defaults of a new service, exists/absent errors, and what the
 * nf_tables datapath refuses (lc; dr and tun without XDP).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <linux/viplb.h>
#include <viplb/maglev.h>

#include "nft.h"
#include "util.h"

struct lb_service *nft_model_find(struct lb_service_list *list,
				  const struct svc_key *key)
{
	return service_find(list, key);
}

static struct lb_service *add_service(struct lb_service_list *list,
				      const struct svc_key *key)
{
	struct lb_service *s;

	if (grow_array(list->svcs, list->nr, list->cap, 16))
		return NULL;
	s = &list->svcs[list->nr++];
	service_init(s, key);
	return s;
}

static void zero_stats(struct lb_service *s)
{
	size_t i;

	memset(&s->stats, 0, sizeof(s->stats));
	for (i = 0; i < s->nr_backends; i++)
		memset(&s->backends[i].stats, 0, sizeof(s->backends[i].stats));
}

/* What nf_tables cannot serve: lc always, dr and tun without XDP. */
static int refused(const struct lb_service *s, bool xdp, const char **why)
{
	if (s->sched == VIPLB_SCHED_LC) {
		*why = "sched lc needs the module: nf_tables cannot count each backend's connections";
		return -EOPNOTSUPP;
	}
	if (s->mode != VIPLB_MODE_NAT && !xdp) {
		*why = s->mode == VIPLB_MODE_DR ?
			       "mode dr needs the module or XDP attached: nf_tables serves mode nat only" :
			       "mode tun needs the module or XDP attached: nf_tables serves mode nat only";
		return -EOPNOTSUPP;
	}
	return 0;
}

int nft_model_apply(struct lb_service_list *list, const struct config_cmd *cmd,
		    bool xdp, const char **why)
{
	struct lb_service *s = NULL;
	size_t i;

	*why = NULL;
	if (cmd->op == OP_FLUSH) {
		free_services(list);
		return 0;
	}
	if (cmd->op == OP_STATS_ZERO && !(cmd->has & HAS_KEY)) {
		for (i = 0; i < list->nr; i++)
			zero_stats(&list->svcs[i]);
		return 0;
	}
	s = nft_model_find(list, &cmd->svc);
	if (cmd->op == OP_SVC_ADD) {
		if (s)
			return -EEXIST;
		s = add_service(list, &cmd->svc);
		if (!s)
			return -ENOMEM;
	} else if (!s) {
		/* With XDP, the maps hold the services nf_tables does not. */
		return cmd->op == OP_STATS_ZERO && xdp ? 0 : -ENOENT;
	}
	switch (cmd->op) {
	case OP_SVC_ADD:
	case OP_SVC_SET:
		service_edit(s, cmd);
		return refused(s, xdp, why);
	case OP_SVC_DEL:
		free(s->backends);
		*s = list->svcs[--list->nr];
		service_list_changed(list);
		return 0;
	case OP_STATS_ZERO:
		zero_stats(s);
		return 0;
	default:
		return service_edit(s, cmd);
	}
}

static int cmp_svc(const void *a, const void *b)
{
	const struct svc_key *x = &((const struct lb_service *)a)->key;
	const struct svc_key *y = &((const struct lb_service *)b)->key;
	int c;

	if (x->af != y->af)
		return x->af < y->af ? -1 : 1;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	c = memcmp(&x->addr, &y->addr, addr_len(x->af));
	if (c)
		return c;
	return x->port < y->port ? -1 : x->port > y->port;
}

static int cmp_be(const void *a, const void *b)
{
	const struct lb_backend *x = a, *y = b;

	return viplb_maglev_backend_order(&x->key.addr, htons(x->key.port),
					  &y->key.addr, htons(y->key.port));
}

void nft_model_sort(struct lb_service_list *list)
{
	size_t i;

	if (list->nr)
		qsort(list->svcs, list->nr, sizeof(*list->svcs), cmp_svc);
	service_list_changed(list);
	for (i = 0; i < list->nr; i++)
		if (list->svcs[i].nr_backends)
			qsort(list->svcs[i].backends, list->svcs[i].nr_backends,
			      sizeof(*list->svcs[i].backends), cmp_be);
}
