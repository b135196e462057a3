// SPDX-License-Identifier: GPL-2.0
/*
 * The services read back from table "inet viplb" (layout in nft.h): the
 * comment of each service chain sN is the save line of its service, and
 * the comment of each element (N . j) of set backends_G (G: N's group)
 * the line of its backend j, both parsed by the restore grammar.  The
 * counters are the elements' of the counting sets, keyed by the service's
 * key and the backend's address and port: connections, packets and bytes
 * in and out (a service's own elements hold the packets and bytes none of
 * its backends' do: its total is theirs and its own).  A counter without an
 * element is 0.  Of two epochs (epoch.c), the one with the newest chains
 * is read.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "errors.h"
#include "nft.h"
#include "util.h"

#define MSG(t) ((NFNL_SUBSYS_NFTABLES << 8) | (t))

#define NO_SERVICE ((size_t)-1)

/* An element of set backends: backend @be of service chain s@svc. */
struct be_elem {
	uint32_t svc, be;
	char *line;
};

struct fetch {
	struct lb_service_list *list;
	/* The list position of the service of chain sN, by N. */
	size_t *pos;
	size_t nr_pos;
	struct be_elem *bes;
	size_t nr_bes, cap_bes;
	/* The counting set being read: its family, kind and what it counts. */
	int fam, kind, what;
	/* The epoch read, and the highest handle of its chains seen. */
	int epoch;
	uint64_t newest;
	const char *cmd;
	int err;
};

/* Forget the services read: they were of an older epoch. */
static void forget(struct fetch *f)
{
	size_t i;

	free_services(f->list);
	memset(f->list, 0, sizeof(*f->list));
	for (i = 0; i < f->nr_pos; i++)
		f->pos[i] = NO_SERVICE;
}

/*
 * Whether non-base chain @name (handle @h) is of the newest epoch seen
 * so far; a newer one than before discards what was read.
 */
static bool newest_epoch(struct fetch *f, const char *name, uint64_t h)
{
	int e = nft_epoch_of(name);

	if (h > f->newest) {
		if (e != f->epoch)
			forget(f);
		f->epoch = e;
		f->newest = h;
	}
	return e == f->epoch;
}

static void bad(struct fetch *f, const char *obj, const char *comment)
{
	errmsg("%s: %s of table inet %s has a comment this viplb cannot read: `%s'",
	       f->cmd, obj, NFT_TABLE, quote_arg(comment));
	f->err = -EBADMSG;
}

/* A line of a chain or element comment as a command; 0 or -1. */
static int parse_line(const char *comment, struct config_cmd *cmd)
{
	char *argv[LINE_MAX_ARGS], line[NFT_USERDATA_MAXLEN + 1];
	int argc;

	snprintf(line, sizeof(line), "%s", comment);
	argc = tokenize_line(line, argv, LINE_MAX_ARGS);
	return argc <= 0 || parse_config_cmd(argc, argv, cmd) ? -1 : 0;
}

/* One chain: a service chain sN's comment, its service, into the list. */
static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct fetch *f = data;
	const char *comment = NULL, *name, *why;
	struct config_cmd cmd;
	struct nftnl_chain *c;
	const void *ud;
	uint32_t len;
	size_t n, i;

	if (f->err)
		return MNL_CB_OK;
	c = nftnl_chain_alloc();
	if (!c) {
		f->err = -ENOMEM;
		return MNL_CB_OK;
	}
	if (nftnl_chain_nlmsg_parse(nlh, c) < 0 ||
	    !nft_of_table(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE),
			  nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY)))
		goto out;
	name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);
	if (nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM) || !nft_chain_ours(name) ||
	    !newest_epoch(f, name,
			  nftnl_chain_get_u64(c, NFTNL_CHAIN_HANDLE)))
		goto out;
	ud = nftnl_chain_get_data(c, NFTNL_CHAIN_USERDATA, &len);
	comment = ud ? nft_udata_comment(ud, len) : NULL;
	if (!comment)
		goto out;
	if (!nft_service_chain(name, &n) || parse_line(comment, &cmd) || cmd.op != OP_SVC_ADD ||
	    nft_model_apply(f->list, &cmd, true, &why)) {
		char obj[NFT_CHAIN_MAXNAMELEN + 8];

		snprintf(obj, sizeof(obj), "chain %s", name);
		bad(f, obj, comment);
		goto out;
	}
	if (n >= f->nr_pos) {
		size_t *p = realloc(f->pos, (n + 1) * 2 * sizeof(*p));

		if (!p) {
			f->err = -ENOMEM;
			goto out;
		}
		for (i = f->nr_pos; i < (n + 1) * 2; i++)
			p[i] = NO_SERVICE;
		f->pos = p;
		f->nr_pos = (n + 1) * 2;
	}
	f->pos[n] = f->list->nr - 1;
out:
	nftnl_chain_free(c);
	return MNL_CB_OK;
}

/* The service of chain sN, or NULL. */
static struct lb_service *service_of(struct fetch *f, uint32_t n)
{
	if (n >= f->nr_pos || f->pos[n] == NO_SERVICE)
		return NULL;
	return &f->list->svcs[f->pos[n]];
}

static int counter_cb(struct nftnl_expr *e, void *data)
{
	uint64_t *pb = data;

	if (!strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter")) {
		pb[0] = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
		pb[1] = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
	}
	return 0;
}

/* An element of set backends, kept for backends_apply(). */
static void keep_be_elem(struct fetch *f, struct nftnl_set_elem *el,
			 const uint32_t *key)
{
	const char *comment = NULL;
	struct be_elem *c;
	const void *ud;
	uint32_t len;

	ud = nftnl_set_elem_get(el, NFTNL_SET_ELEM_USERDATA, &len);
	if (ud)
		comment = nft_udata_comment(ud, len);
	if (!comment) {
		bad(f, "an element of set backends", "");
		return;
	}
	if (grow_array(f->bes, f->nr_bes, f->cap_bes, 64)) {
		f->err = -ENOMEM;
		return;
	}
	c = &f->bes[f->nr_bes];
	c->svc = key[0];
	c->be = key[1];
	c->line = strdup(comment);
	if (!c->line) {
		f->err = -ENOMEM;
		return;
	}
	f->nr_bes++;
}

/* A counting element: its packets and bytes to its service or backend. */
static void count_elem(struct fetch *f, const uint8_t *key, uint32_t klen,
		       const uint64_t *pb)
{
	uint16_t af = f->fam ? AF_INET6 : AF_INET;
	uint32_t alen = addr_len(af);
	const struct lb_backend *be = NULL;
	uint8_t other[NFT_KEY_MAX];
	struct svc_key sk = { .af = af };
	struct lb_service *s;
	struct lb_stats *st;
	uint16_t port;
	size_t j;

	if (klen < alen + 4)
		return;
	memcpy(&sk.addr, key, alen);
	sk.proto = key[alen];
	if (f->kind == NFT_COUNT_BE || f->kind == NFT_COUNT_SVC) {
		memcpy(&port, key + alen + 4, 2);
		sk.port = ntohs(port);
	}
	s = service_find(f->list, &sk);
	if (!s)
		return;
	st = &s->stats;
	if (f->kind != NFT_COUNT_SVC && f->kind != NFT_COUNT_ANYSVC) {
		for (j = 0; j < s->nr_backends; j++) {
			be = &s->backends[j];
			if (nft_count_kind(s, be) == f->kind &&
			    nft_count_key(f->kind, s, be, other) == klen &&
			    !memcmp(other, key, klen))
				break;
		}
		if (j == s->nr_backends)
			return;
		st = &s->backends[j].stats;
	}
	if (f->what == NFT_COUNT_CONNS) {
		st->conns = pb[0];
	} else if (f->what == NFT_COUNT_OUT) {
		st->pkts_out = pb[0];
		st->bytes_out = pb[1];
	} else {
		st->pkts_in = pb[0];
		st->bytes_in = pb[1];
	}
}

/* The elements of one set (f->kind: which, see nft_fetch()). */
#define KIND_BACKENDS (-1)

static int elem_cb(const struct nlmsghdr *nlh, void *data)
{
	struct fetch *f = data;
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *el;
	struct nftnl_set *set;
	uint64_t pb[2];
	const void *key;
	uint32_t klen, k[2];

	if (f->err)
		return MNL_CB_OK;
	set = nftnl_set_alloc();
	if (!set) {
		f->err = -ENOMEM;
		return MNL_CB_OK;
	}
	if (nftnl_set_elems_nlmsg_parse(nlh, set) < 0)
		goto out;
	it = nftnl_set_elems_iter_create(set);
	if (!it) {
		f->err = -ENOMEM;
		goto out;
	}
	while (!f->err && (el = nftnl_set_elems_iter_next(it))) {
		key = nftnl_set_elem_get(el, NFTNL_SET_ELEM_KEY, &klen);
		if (!key)
			continue;
		pb[0] = pb[1] = 0;
		nftnl_set_elem_expr_foreach(el, counter_cb, pb);
		if (f->kind == KIND_BACKENDS && klen == 8) {
			memcpy(k, key, 8);
			keep_be_elem(f, el, k);
		} else if (f->kind >= 0 && klen <= NFT_KEY_MAX) {
			count_elem(f, key, klen, pb);
		}
	}
	nftnl_set_elems_iter_destroy(it);
out:
	nftnl_set_free(set);
	return MNL_CB_OK;
}

static int cmp_be_elem(const void *a, const void *b)
{
	const struct be_elem *x = a, *y = b;

	if (x->svc != y->svc)
		return x->svc < y->svc ? -1 : 1;
	return x->be < y->be ? -1 : x->be > y->be;
}

/* The backends, each at its place in its service (its j). */
static void backends_apply(struct fetch *f)
{
	struct config_cmd cmd;
	struct lb_service *s;
	const char *why;
	size_t i;

	if (f->nr_bes)
		qsort(f->bes, f->nr_bes, sizeof(*f->bes), cmp_be_elem);
	for (i = 0; !f->err && i < f->nr_bes; i++) {
		const struct be_elem *c = &f->bes[i];

		s = service_of(f, c->svc);
		if (!s || c->be != s->nr_backends ||
		    parse_line(c->line, &cmd) || cmd.op != OP_BE_ADD ||
		    nft_model_find(f->list, &cmd.svc) != s ||
		    nft_model_apply(f->list, &cmd, true, &why)) {
			bad(f, "an element of set backends", c->line);
			break;
		}
	}
}

/* A service's totals: its own counters and its backends'. */
static void add_backends(struct lb_service *s)
{
	size_t j;

	for (j = 0; j < s->nr_backends; j++) {
		s->stats.pkts_in += s->backends[j].stats.pkts_in;
		s->stats.pkts_out += s->backends[j].stats.pkts_out;
		s->stats.bytes_in += s->backends[j].stats.bytes_in;
		s->stats.bytes_out += s->backends[j].stats.bytes_out;
	}
}

/* The counters of the sets: 0 or -errno. */
static int fetch_stats(struct fetch *f)
{
	char name[NFT_SET_MAXNAMELEN];
	int err = 0;
	size_t i;

	for (f->fam = 0; !err && !f->err && f->fam < 2; f->fam++)
		for (f->kind = 0; !err && f->kind < NFT_COUNT_KINDS; f->kind++)
			for (f->what = 0; !err && f->what < NFT_COUNT_WHATS;
			     f->what++) {
				nft_count_set_name(name, sizeof(name), f->fam,
						   f->kind, f->what, f->epoch);
				err = nft_dump_elems(name, elem_cb, f);
			}
	for (i = 0; !err && i < f->list->nr; i++)
		add_backends(&f->list->svcs[i]);
	return err;
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
	service_list_changed(list);
	return 0;
}

/*
 * The elements of the sets backends_G, one a group of services, into
 * @f->bes; or of the one set backends of a table written before the
 * groups.  0 or -errno (-ENOENT: a set is gone, the epoch with it).
 */
static int read_backends(struct fetch *f)
{
	size_t g, size = nft_group_size(f->list->nr);
	char name[NFT_SET_MAXNAMELEN];
	int err = 0;

	f->kind = KIND_BACKENDS;
	for (g = 0; !err && !f->err && g * size < f->list->nr; g++) {
		nft_backends_set_name(name, sizeof(name), g, f->epoch);
		err = nft_dump_elems(name, elem_cb, f);
		if (err == -ENOENT && !g) {
			snprintf(name, sizeof(name), "backends%s",
				 nft_epoch_sfx(f->epoch));
			return nft_dump_elems(name, elem_cb, f);
		}
	}
	return err;
}

/* The services of the table into @f->list: 0 or -errno. */
static int fetch_once(struct fetch *f, bool with_stats)
{
	size_t i;
	int err;

	memset(f->list, 0, sizeof(*f->list));
	err = nft_dump(MSG(NFT_MSG_GETCHAIN), chain_cb, f);
	/* No table, or a table without services: no set. */
	if (!err && !f->err && f->list->nr) {
		err = read_backends(f);
		if (!err && !f->err)
			backends_apply(f);
		if (!err && !f->err && with_stats)
			err = fetch_stats(f);
	}
	for (i = 0; i < f->nr_bes; i++)
		free(f->bes[i].line);
	free(f->bes);
	free(f->pos);
	return err;
}

/* Reads that found an epoch's sets gone (a write in between), retried. */
#define FETCH_TRIES 5

int nft_fetch(const struct svc_key *key, bool with_stats, const char *what,
	      struct lb_service_list *list)
{
	struct fetch f;
	int err, tries;

	for (tries = 0;; tries++) {
		f = (struct fetch){ .list = list, .cmd = what };
		err = fetch_once(&f, with_stats);
		if (err != -ENOENT || f.err || tries == FETCH_TRIES - 1)
			break;
		free_services(list);
	}
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
