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

static ssize_t find_backend(const struct lb_service *s, const struct be_key *k)
{
	size_t i;

	for (i = 0; i < s->nr_backends; i++)
		if (s->backends[i].key.port == k->port &&
		    !memcmp(&s->backends[i].key.addr, &k->addr,
			    addr_len(s->key.af)))
			return i;
	return -1;
}

static struct lb_service *add_service(struct lb_service_list *list,
				      const struct svc_key *key)
{
	struct lb_service *s;

	if (grow_array(list->svcs, list->nr, list->cap, 16))
		return NULL;
	s = &list->svcs[list->nr++];
	memset(s, 0, sizeof(*s));
	s->key = *key;
	s->sched = VIPLB_SCHED_MAGLEV;
	s->mode = VIPLB_MODE_NAT;
	s->table_size = 0;	/* automatic */
	return s;
}

static int add_backend(struct lb_service *s, const struct config_cmd *cmd)
{
	struct lb_backend *be;

	if (find_backend(s, &cmd->be) >= 0)
		return -EEXIST;
	if (grow_array(s->backends, s->nr_backends, s->cap_backends, 8))
		return -ENOMEM;
	be = &s->backends[s->nr_backends++];
	memset(be, 0, sizeof(*be));
	be->key = cmd->be;
	be->weight = cmd->has & HAS_WEIGHT ? cmd->weight : VIPLB_WEIGHT_DEFAULT;
	return 0;
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
	ssize_t b;
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
		if (cmd->has & HAS_SCHED)
			s->sched = cmd->sched;
		if (cmd->has & HAS_MODE)
			s->mode = cmd->mode;
		if (cmd->has & HAS_TABLE_SIZE)
			s->table_size = cmd->table_size;
		if (cmd->has & HAS_FLAGS)
			s->flags = cmd->flags;
		return refused(s, xdp, why);
	case OP_SVC_DEL:
		free(s->backends);
		*s = list->svcs[--list->nr];
		service_list_changed(list);
		return 0;
	case OP_STATS_ZERO:
		zero_stats(s);
		return 0;
	case OP_BE_ADD:
		return add_backend(s, cmd);
	case OP_BE_SET:
		b = find_backend(s, &cmd->be);
		if (b < 0)
			return -ENOENT;
		if (cmd->has & HAS_WEIGHT)
			s->backends[b].weight = cmd->weight;
		return 0;
	case OP_BE_DEL:
		b = find_backend(s, &cmd->be);
		if (b < 0)
			return -ENOENT;
		s->backends[b] = s->backends[--s->nr_backends];
		return 0;
	default:
		return -EINVAL;
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
