// SPDX-License-Identifier: GPL-2.0
/*
 * The services read back from table "inet viplb": each chain's comment is
 * the save line of its service or backend (ruleset.c), parsed by the
 * restore grammar; the counters of the service and backend chains give
 * the connections each was chosen for.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "errors.h"
#include "nft.h"
#include "util.h"

#define MSG(t) ((NFNL_SUBSYS_NFTABLES << 8) | (t))

/*
 * A chain's service (index in the list) and backend (-1: none; COUNTING:
 * the service's counting chain, whose rules seen so far are @nrules).
 */
#define COUNTING (-2)

struct owner {
	char name[NFT_CHAIN_MAXNAMELEN];
	size_t svc;
	ssize_t be;
	size_t nrules;
};

struct fetch {
	struct lb_service_list *list;
	struct owner *owners;
	size_t nr_owners, cap_owners;
	const char *what;
	int err;
};

static int add_owner(struct fetch *f, const char *name, size_t svc, ssize_t be)
{
	if (grow_array(f->owners, f->nr_owners, f->cap_owners, 64))
		return -ENOMEM;
	snprintf(f->owners[f->nr_owners].name, sizeof(f->owners->name), "%s",
		 name);
	f->owners[f->nr_owners].svc = svc;
	f->owners[f->nr_owners].nrules = 0;
	f->owners[f->nr_owners++].be = be;
	return 0;
}

/* One chain: its comment, a service or backend line, into the list. */
static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct fetch *f = data;
	char *argv[LINE_MAX_ARGS], line[NFT_USERDATA_MAXLEN + 1];
	const char *comment = NULL, *name, *why;
	struct config_cmd cmd;
	struct nftnl_chain *c;
	struct lb_service *s;
	const void *ud;
	uint32_t len;
	int argc;

	if (f->err)
		return MNL_CB_OK;
	c = nftnl_chain_alloc();
	if (!c) {
		f->err = -ENOMEM;
		return MNL_CB_OK;
	}
	if (nftnl_chain_nlmsg_parse(nlh, c) < 0 ||
	    nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY) != NFPROTO_INET ||
	    strcmp(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE), NFT_TABLE))
		goto out;
	name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);
	ud = nftnl_chain_get_data(c, NFTNL_CHAIN_USERDATA, &len);
	comment = ud ? nft_udata_comment(ud, len) : NULL;
	if (!comment)
		goto out;
	snprintf(line, sizeof(line), "%s", comment);
	argc = tokenize_line(line, argv, LINE_MAX_ARGS);
	if (argc <= 0 || parse_config_cmd(argc, argv, &cmd) ||
	    (cmd.op != OP_SVC_ADD && cmd.op != OP_BE_ADD) ||
	    nft_model_apply(f->list, &cmd, true, &why)) {
		errmsg("%s: chain %s of table inet %s has a comment this viplb cannot read: `%s'",
		       f->what, name, NFT_TABLE, quote_arg(comment));
		f->err = -EBADMSG;
		goto out;
	}
	s = nft_model_find(f->list, &cmd.svc);
	f->err = add_owner(f, name, s - f->list->svcs,
			   cmd.op == OP_BE_ADD ? (ssize_t)s->nr_backends - 1 :
						 -1);
	/* Its counting chain: the name with a "c" (ruleset.c). */
	if (!f->err && cmd.op == OP_SVC_ADD) {
		snprintf(line, sizeof(line), "%sc", name);
		f->err = add_owner(f, line, s - f->list->svcs, COUNTING);
	}
out:
	nftnl_chain_free(c);
	return MNL_CB_OK;
}

static int cmp_owner(const void *a, const void *b)
{
	return strcmp(((const struct owner *)a)->name,
		      ((const struct owner *)b)->name);
}

/* After the chains: the owners sorted by name, for find_owner(). */
static struct owner *find_owner(struct fetch *f, const char *name)
{
	struct owner key;

	snprintf(key.name, sizeof(key.name), "%s", name);
	return bsearch(&key, f->owners, f->nr_owners, sizeof(*f->owners),
		       cmp_owner);
}

/*
 * Rule @k of a counting chain: packets and bytes in (even @k) or out (odd)
 * of the service (@k < 2) or of backend k / 2 - 1.
 */
static void count_rule(struct lb_service *s, size_t k, struct nftnl_expr *e)
{
	uint64_t pkts = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
	uint64_t bytes = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
	struct lb_stats *st;

	if (k / 2 > s->nr_backends)
		return;
	st = k < 2 ? &s->stats : &s->backends[k / 2 - 1].stats;
	if (k % 2) {
		st->pkts_out = pkts;
		st->bytes_out = bytes;
	} else {
		st->pkts_in = pkts;
		st->bytes_in = bytes;
	}
}

/*
 * The first counter of a service or backend chain: its connections; the
 * counters of a counting chain: packets and bytes.
 */
static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct fetch *f = data;
	struct nftnl_expr_iter *it;
	struct nftnl_rule *r;
	struct nftnl_expr *e;
	struct lb_service *s;
	struct owner *o;

	r = nftnl_rule_alloc();
	if (!r) {
		f->err = -ENOMEM;
		return MNL_CB_OK;
	}
	if (nftnl_rule_nlmsg_parse(nlh, r) < 0 ||
	    nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY) != NFPROTO_INET ||
	    strcmp(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), NFT_TABLE))
		goto out;
	o = find_owner(f, nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
	if (!o)
		goto out;
	it = nftnl_expr_iter_create(r);
	if (!it)
		goto out;
	while ((e = nftnl_expr_iter_next(it))) {
		if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter"))
			continue;
		s = &f->list->svcs[o->svc];
		if (o->be == COUNTING)
			count_rule(s, o->nrules++, e);
		else if (o->be < 0)
			s->stats.conns =
				nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
		else
			s->backends[o->be].stats.conns =
				nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
		break;
	}
	nftnl_expr_iter_destroy(it);
out:
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

/* Keep only the service of @key; -ENOENT if absent. */
static int keep_one(struct lb_service_list *list, const struct svc_key *key)
{
	struct lb_service *s = nft_model_find(list, key), one;
	size_t i;

	if (!s)
		return -ENOENT;
	one = *s;
	for (i = 0; i < list->nr; i++)
		if (&list->svcs[i] != s)
			free(list->svcs[i].backends);
	list->svcs[0] = one;
	list->nr = 1;
	return 0;
}

int nft_fetch(const struct svc_key *key, bool with_stats, const char *what,
	      struct lb_service_list *list)
{
	struct fetch f = { .list = list, .what = what };
	int err;

	memset(list, 0, sizeof(*list));
	err = nft_dump(MSG(NFT_MSG_GETCHAIN), chain_cb, &f);
	if (!err && !f.err && with_stats) {
		if (f.nr_owners)
			qsort(f.owners, f.nr_owners, sizeof(*f.owners),
			      cmp_owner);
		err = nft_dump(MSG(NFT_MSG_GETRULE), rule_cb, &f);
	}
	free(f.owners);
	if (!err && !f.err && key)
		err = keep_one(list, key);
	if (err || f.err) {
		if (err == -ENOENT && key)
			errmsg("%s: no such service (nf_tables)", what);
		else if (err)
			errmsg("%s: reading table inet %s: %s", what, NFT_TABLE,
			       strerror(-err));
		free_services(list);
		return -1;
	}
	return 0;
}
