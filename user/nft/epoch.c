// SPDX-License-Identifier: GPL-2.0
/*
 * The two copies, or epochs, of table inet viplb's sets and non-base
 * chains: a write with no packet lost.  Epoch 0 has the names of nft.h,
 * epoch 1 the same names ending in "_b".  The base chains are never
 * deleted while the table has services.  A write is two batches:
 *
 *   1. flush the base chains; delete what is left of the other epoch;
 *      add the other epoch's sets, chains and elements, and the base
 *      chains' rules that use them (ruleset.c);
 *   2. once every packet that entered a chain before batch 1 has left
 *      it (an RCU grace period: apply.c), delete the first epoch's sets
 *      and chains, if the ruleset is still the one batch 1 made (else
 *      they stay, and the next write deletes them).
 *
 * Why: a packet runs a chain's rules of the generation it read on entry,
 * but looks up set elements in the generation current at the lookup.
 * Deleting a map deactivates its elements in the next generation, and a
 * deleted and re-added base chain puts two nat chains on one hook for one
 * commit, the new one first: a packet that crosses the commit between
 * them, or between its chain's entry and a map lookup, is not translated.
 * Batch 1 leaves every map the old rules look up untouched, and batch 2
 * deletes them once no rule of either generation uses them.
 *
 * Of two epochs in the table (between the batches, or after a write that
 * stopped there), the one in use is the one added last: its chains have
 * the higher handles.  A table with a non-base chain that is not ours
 * (nft_chain_ours()) is written whole, as before.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "nft.h"

#define MSG(t) ((NFNL_SUBSYS_NFTABLES << 8) | (t))

/* Reads of chains and sets, until both are of one generation. */
#define READ_TRIES 5

static const char *const sfx[2] = { "", "_b" };

const char *nft_epoch_sfx(int epoch)
{
	return sfx[epoch];
}

int nft_epoch_of(const char *name)
{
	size_t n = strlen(name), s = strlen(sfx[1]);

	return n > s && !strcmp(name + n - s, sfx[1]);
}

/* The length of @name without its epoch's suffix. */
static size_t base_len(const char *name)
{
	return strlen(name) - strlen(sfx[nft_epoch_of(name)]);
}

bool nft_service_chain(const char *name, size_t *n)
{
	size_t len = base_len(name), i;
	uint64_t v = 0;

	if (len < 2 || name[0] != 's')
		return false;
	for (i = 1; i < len; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(name[i] - '0');
		if (v > UINT32_MAX)
			return false;
	}
	*n = v;
	return true;
}

bool nft_chain_ours(const char *name)
{
	size_t len = base_len(name), i, n;

	for (i = 0; i < NFT_NR_COUNT_CHAINS; i++)
		if (len == strlen(nft_count_chains[i]) &&
		    !strncmp(name, nft_count_chains[i], len))
			return true;
	return nft_service_chain(name, &n);
}

void nft_objs_free(struct nft_objs *o)
{
	int e;

	size_t i;

	for (e = 0; e < 2; e++) {
		for (i = 0; i < o->nr_chains[e]; i++)
			free(o->chains[e][i].name);
		for (i = 0; i < o->nr_sets[e]; i++)
			free(o->sets[e][i].name);
		free(o->chains[e]);
		free(o->sets[e]);
	}
	memset(o, 0, sizeof(*o));
}

static int obj_add(struct nft_obj **v, size_t *nr, const char *name, bool vmap)
{
	struct nft_obj *p = realloc(*v, (*nr + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	*v = p;
	p[*nr] = (struct nft_obj){ .name = strdup(name), .vmap = vmap };
	if (!p[*nr].name)
		return -ENOMEM;
	(*nr)++;
	return 0;
}

/* Whether base chain @c is one of ours, as ruleset.c makes it. */
static bool base_ours(struct nftnl_chain *c, unsigned int *which)
{
	const char *name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);
	const char *type = nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE);
	unsigned int i;

	for (i = 0; i < NFT_NR_BASE; i++) {
		const struct nft_base_chain *b = &nft_base_chains[i];

		if (strcmp(name, b->name))
			continue;
		*which = i;
		return type && !strcmp(type, b->type) &&
		       nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM) == b->hook &&
		       nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO) == b->prio &&
		       nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY) &&
		       nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY) == NF_ACCEPT;
	}
	return false;
}

struct reading {
	struct nft_objs *o;
	unsigned int bases; /* bit i: nft_base_chains[i] seen, and right */
	bool foreign; /* a chain ruleset.c does not make */
	uint64_t newest[2]; /* per epoch, the highest handle of its chains */
	int err;
};

bool nft_of_table(const char *table, uint32_t family)
{
	return family == NFPROTO_INET && table && !strcmp(table, NFT_TABLE);
}

static void seen(struct reading *r, const char *name, uint64_t handle)
{
	int e = nft_epoch_of(name);

	if (handle > r->newest[e])
		r->newest[e] = handle;
}

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct reading *r = data;
	struct nftnl_chain *c = nftnl_chain_alloc();
	const char *name;
	unsigned int which;
	uint64_t handle;
	int e;

	if (!c) {
		r->err = -ENOMEM;
		return MNL_CB_OK;
	}
	if (nftnl_chain_nlmsg_parse(nlh, c) < 0 ||
	    !nft_of_table(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE),
		      nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY)))
		goto out;
	r->o->table = true;
	name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);
	handle = nftnl_chain_get_u64(c, NFTNL_CHAIN_HANDLE);
	if (nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM)) {
		if (base_ours(c, &which))
			r->bases |= 1u << which;
		else
			r->foreign = true;
		goto out;
	}
	/* (someone else's chain: the table is written whole, as before) */
	if (!nft_chain_ours(name))
		r->foreign = true;
	else
		seen(r, name, handle);
	e = nft_epoch_of(name);
	if (obj_add(&r->o->chains[e], &r->o->nr_chains[e], name, false))
		r->err = -ENOMEM;
out:
	nftnl_chain_free(c);
	return MNL_CB_OK;
}

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct reading *r = data;
	struct nftnl_set *s = nftnl_set_alloc();
	const char *name;
	bool vmap;
	int e;

	if (!s) {
		r->err = -ENOMEM;
		return MNL_CB_OK;
	}
	if (nftnl_set_nlmsg_parse(nlh, s) < 0 ||
	    !nft_of_table(nftnl_set_get_str(s, NFTNL_SET_TABLE),
		      nftnl_set_get_u32(s, NFTNL_SET_FAMILY)))
		goto out;
	name = nftnl_set_get_str(s, NFTNL_SET_NAME);
	/* (anonymous sets go with their rules) */
	if (nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS)
		goto out;
	vmap = nftnl_set_is_set(s, NFTNL_SET_DATA_TYPE) &&
	       nftnl_set_get_u32(s, NFTNL_SET_DATA_TYPE) == NFT_DATA_VERDICT;
	e = nft_epoch_of(name);
	if (obj_add(&r->o->sets[e], &r->o->nr_sets[e], name, vmap))
		r->err = -ENOMEM;
out:
	nftnl_set_free(s);
	return MNL_CB_OK;
}

int nft_objs_read(struct nft_objs *o)
{
	struct reading r;
	uint32_t after;
	int tries, ret;

	for (tries = 0; tries < READ_TRIES; tries++) {
		memset(o, 0, sizeof(*o));
		r = (struct reading){ .o = o };
		ret = nft_genid(&o->genid);
		if (!ret)
			ret = nft_dump(MSG(NFT_MSG_GETCHAIN), chain_cb, &r);
		if (!ret && !r.err)
			ret = nft_dump(MSG(NFT_MSG_GETSET), set_cb, &r);
		if (!ret && !r.err)
			ret = nft_genid(&after);
		if (r.err) {
			nft_objs_free(o);
			return r.err;
		}
		/* EINTR: the ruleset changed during a dump. */
		if (ret && ret != -EINTR) {
			nft_objs_free(o);
			return ret;
		}
		if (!ret && after == o->genid)
			break;
		nft_objs_free(o);
	}
	if (tries == READ_TRIES)
		return -EAGAIN;
	o->live = r.newest[1] > r.newest[0];
	o->in_place = o->table && !r.foreign &&
		      r.bases == (1u << NFT_NR_BASE) - 1;
	return 0;
}

/*
 * By name: the batch's generation (nft_batch_genid()) makes sure that
 * the name is still the object read.  The kernel finds a chain by name
 * in a hash table, but by handle in a list: by handle, deleting a copy
 * of 10,000 services would take a second.
 */
static int del_by_name(struct nft_batch *b, bool chain, const char *name)
{
	struct nlmsghdr *nlh;

	nlh = nft_batch_msg(b, MSG(chain ? NFT_MSG_DELCHAIN : NFT_MSG_DELSET),
			    0, 256);
	if (!nlh)
		return -ENOMEM;
	if (chain) {
		struct nftnl_chain *c = nftnl_chain_alloc();

		if (!c)
			return -ENOMEM;
		nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, NFT_TABLE);
		nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
		nftnl_chain_nlmsg_build_payload(nlh, c);
		nftnl_chain_free(c);
	} else {
		struct nftnl_set *s = nftnl_set_alloc();

		if (!s)
			return -ENOMEM;
		nftnl_set_set_str(s, NFTNL_SET_TABLE, NFT_TABLE);
		nftnl_set_set_str(s, NFTNL_SET_NAME, name);
		nftnl_set_nlmsg_build_payload(nlh, s);
		nftnl_set_free(s);
	}
	nft_batch_done(b, nlh);
	return 0;
}

int nft_epoch_delete(struct nft_batch *b, const struct nft_objs *o, int e)
{
	size_t i;
	int err = 0;

	/*
	 * The verdict maps first (their elements hold the service chains),
	 * then the chains (their rules hold the other sets), then the rest.
	 */
	for (i = 0; !err && i < o->nr_sets[e]; i++)
		if (o->sets[e][i].vmap)
			err = del_by_name(b, false, o->sets[e][i].name);
	for (i = 0; !err && i < o->nr_chains[e]; i++)
		err = del_by_name(b, true, o->chains[e][i].name);
	for (i = 0; !err && i < o->nr_sets[e]; i++)
		if (!o->sets[e][i].vmap)
			err = del_by_name(b, false, o->sets[e][i].name);
	return err;
}

int nft_base_flush(struct nft_batch *b)
{
	struct nlmsghdr *nlh;
	unsigned int i;

	for (i = 0; i < NFT_NR_BASE; i++) {
		struct nftnl_rule *r = nftnl_rule_alloc();

		if (!r)
			return -ENOMEM;
		nlh = nft_batch_msg(b, MSG(NFT_MSG_DELRULE), 0, 256);
		if (!nlh) {
			nftnl_rule_free(r);
			return -ENOMEM;
		}
		nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NFT_TABLE);
		nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, nft_base_chains[i].name);
		nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
		nftnl_rule_nlmsg_build_payload(nlh, r);
		nftnl_rule_free(r);
		nft_batch_done(b, nlh);
	}
	return 0;
}
