// SPDX-License-Identifier: GPL-2.0
/*
 * The batch that makes table "inet viplb" hold a list of services.  If
 * the table has our base chains, in place (epoch.c): flush them, delete
 * what is left of the epoch not in use, add that epoch's chains, maps,
 * elements and the base chains' rules.  Else add the table (so that the
 * delete cannot fail), delete it, and add it again whole, in epoch 0.
 * No service: the table is deleted.  Layout in nft.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <linux/viplb.h>
#include <viplb/maglev.h>

#include "nft.h"

/* nft's datatype ids, for the key types "nft list" prints. */
#define TYPE_BITS 6
#define TYPE_MARK 19
#define TYPE_IPADDR 7
#define TYPE_IP6ADDR 8
#define TYPE_INET_PROTOCOL 12
#define TYPE_INET_SERVICE 13

/* Hook priorities: just before the NAT core's, as the module's hooks. */
#define PRIO_DSTNAT (-100 - 1)
#define PRIO_SRCNAT (100 - 1)
/* Counting: right after destination NAT, as the module counts. */
#define PRIO_COUNT (-100 + 1)

const char *const nft_count_chains[NFT_NR_COUNT_CHAINS] = {
	[NFT_COUNT_CHAIN_ORIG] = "count_orig",
	[NFT_COUNT_CHAIN_REPLY] = "count_reply",
	[NFT_COUNT_CHAIN_NEW] = "count_new",
};

const struct nft_base_chain nft_base_chains[NFT_NR_BASE] = {
	{ "prerouting", "nat", NF_INET_PRE_ROUTING, PRIO_DSTNAT },
	{ "output", "nat", NF_INET_LOCAL_OUT, PRIO_DSTNAT },
	{ "postrouting", "nat", NF_INET_POST_ROUTING, PRIO_SRCNAT },
	{ "count_pre", "filter", NF_INET_PRE_ROUTING, PRIO_COUNT },
	{ "count_out", "filter", NF_INET_LOCAL_OUT, PRIO_COUNT },
};

/*
 * A message of set elements is flushed past this many bytes of them: its
 * nest must stay under 64 KiB.
 */
#define ELEMS_MSG_BYTES 32768
/* What one element adds to a message, besides its key, data and comment. */
#define ELEM_OVERHEAD 128

#define NAME_LEN 32

/* The directions of a conntrack entry (NFTA_CT_DIRECTION). */
#define CT_DIR_ORIGINAL 0
#define CT_DIR_REPLY 1

#define MSG(t) ((NFNL_SUBSYS_NFTABLES << 8) | (t))

/* The 32-bit registers, from 0. */
#define R(n) (NFT_REG32_00 + (n))

/* Per family: how its addresses load. */
struct fam {
	uint8_t nfproto;
	uint32_t addr_type, addr_len;
	uint32_t saddr_off, daddr_off;
	uint32_t ct_dst, ct_src;
	char tag; /* of its sets' names: '4' or '6' */
};

static const struct fam fams[2] = {
	{ NFPROTO_IPV4, TYPE_IPADDR, 4, 12, 16, NFT_CT_DST_IP, NFT_CT_SRC_IP,
	  '4' },
	{ NFPROTO_IPV6, TYPE_IP6ADDR, 16, 8, 24, NFT_CT_DST_IP6, NFT_CT_SRC_IP6,
	  '6' },
};

static int fam_index(uint16_t af)
{
	return af == AF_INET6;
}

/*
 * The counting sets, per family, kind and what they count (and the set of
 * each kind's keys), keyed by what conntrack says of a packet's
 * connection: its original destination (the service: daddr . l4proto
 * [. dport]) and, for a backend, the source of its replies (where it was
 * DNATed to).  A kind's fields, in key order after daddr . l4proto:
 */
#define F_DPORT 1 /* ct original proto-dst */
#define F_RSADDR 2 /* ct reply saddr */
#define F_RSPORT 4 /* ct reply proto-src */

static const struct count_kind {
	const char *name;
	unsigned int fields;
} kinds[NFT_COUNT_KINDS] = {
	[NFT_COUNT_BE] = { "be", F_DPORT | F_RSADDR | F_RSPORT },
	[NFT_COUNT_SVC] = { "svc", F_DPORT },
	[NFT_COUNT_ANYBE] = { "anybe", F_RSADDR | F_RSPORT },
	[NFT_COUNT_ANYADDR] = { "anyaddr", F_RSADDR },
	[NFT_COUNT_ANYSVC] = { "anysvc", 0 },
};

/* The table's sets, by number. */
enum {
	SET_SVC, /* + 2 * family + any: svc4, any4, svc6, any6 */
	SET_SNAT = SET_SVC + 4, /* snat4, snatany4, snat6, snatany6 */
	/* + family: vips4, vips6, the served services' addresses */
	SET_VIPS = SET_SNAT + 4,
	SET_GUARD = SET_VIPS + 2, /* + family * NFT_COUNT_KINDS + kind */
	SET_COUNT = SET_GUARD + 2 * NFT_COUNT_KINDS,
	/* + count_set(family, kind, what) */
	/*
	 * Per group of services: + slots_set() (per family and map kind),
	 * then + backends_set()
	 */
	SET_SLOTS = SET_COUNT + 2 * NFT_COUNT_KINDS * NFT_COUNT_WHATS,
};

static unsigned int count_set(int fam, int kind, int what)
{
	return SET_COUNT + (fam * NFT_COUNT_KINDS + kind) * NFT_COUNT_WHATS +
	       what;
}

static unsigned int guard_set(int fam, int kind)
{
	return SET_GUARD + fam * NFT_COUNT_KINDS + kind;
}

void nft_count_set_name(char *buf, size_t len, int fam, int kind, int what,
			int epoch)
{
	static const char *const whats[NFT_COUNT_WHATS] = {
		[NFT_COUNT_IN] = "in",
		[NFT_COUNT_OUT] = "out",
		[NFT_COUNT_CONNS] = "conns",
	};

	snprintf(buf, len, "%s_%s%c%s", kinds[kind].name,
		 what < 0 ? "keys" : whats[what], fams[fam].tag,
		 nft_epoch_sfx(epoch));
}

void nft_backends_set_name(char *buf, size_t len, size_t group, int epoch)
{
	snprintf(buf, len, "backends_%zu%s", group, nft_epoch_sfx(epoch));
}

/*
 * The kernel checks each element of a map against every rule that looks
 * it up, finds a set by name in a list, and dumps a set's elements in
 * rounds that each walk it from the start: the slots and the backends
 * go in sets of about sqrt(services) services each (at least 64).
 */
size_t nft_group_size(size_t nr_services)
{
	size_t r = 1;

	while (r * r < nr_services)
		r++;
	return r < 64 ? 64 : r;
}

uint32_t nft_count_key(int kind, const struct lb_service *s,
		       const struct lb_backend *be, uint8_t *key)
{
	uint32_t alen = addr_len(s->key.af), len = 0;
	unsigned int fields = kinds[kind].fields;
	uint16_t port;

	memset(key, 0, NFT_KEY_MAX);
	memcpy(key, &s->key.addr, alen);
	len = alen;
	key[len] = s->key.proto;
	len += 4;
	if (fields & F_DPORT) {
		port = htons(s->key.port);
		memcpy(key + len, &port, 2);
		len += 4;
	}
	if (fields & F_RSADDR) {
		memcpy(key + len, &be->key.addr, alen);
		len += alen;
	}
	if (fields & F_RSPORT) {
		port = htons(nft_backend_port(s, be));
		memcpy(key + len, &port, 2);
		len += 4;
	}
	return len;
}

uint16_t nft_backend_port(const struct lb_service *s,
			  const struct lb_backend *be)
{
	return be->key.port ? be->key.port : s->key.port;
}

int nft_count_kind(const struct lb_service *s, const struct lb_backend *be)
{
	if (s->key.port)
		return be ? NFT_COUNT_BE : NFT_COUNT_SVC;
	if (!be)
		return NFT_COUNT_ANYSVC;
	return be->key.port ? NFT_COUNT_ANYBE : NFT_COUNT_ANYADDR;
}

/* A set's definition: name, key and data types and lengths. */
struct set_def {
	char name[NAME_LEN];
	uint32_t ktype, klen;
	uint32_t dtype, dlen; /* dlen 0: a set, dtype NFT_DATA_VERDICT: vmap */
	bool host; /* key in host byte order */
	/*
	 * Elements with a counter, added by the rules that update them (a
	 * dynamic set): an element exists once counted, or once carried
	 * over.  The kernel makes elements with counters slowly (a per-CPU
	 * allocation or two each): the rest of a restore costs less.
	 */
	bool counter;
};

struct elems {
	struct nftnl_set *s;
	size_t bytes;
};

struct builder {
	struct nft_batch *b;
	struct set_def *sets;
	struct elems *elems;
	size_t nr_sets;
	size_t group; /* services per slots map */
	/* Per service: its slots (nft_slots()), how many. */
	uint32_t **slots;
	uint32_t *nr_slots;
	uint32_t set_id;
	/* Per family: the served services' addresses (collect_vips()). */
	uint8_t *vips[2];
	size_t nr_vips[2];
	/* The epoch written, and whether the base chains are kept. */
	int epoch;
	bool in_place;
	/* The names of the counting chains (nft_count_chains), in that epoch. */
	char count[NFT_NR_COUNT_CHAINS][NAME_LEN];
	int err;
};

static void chain_name(const struct builder *bd, char *buf, size_t i)
{
	snprintf(buf, NAME_LEN, "s%zu%s", i, nft_epoch_sfx(bd->epoch));
}

/*
 * The slot maps: slot . the service's key : the backend's address and
 * port, or address (SLOTS_ANYADDR: a port-0 service's backends without a
 * port); a port-0 service's key has no port (SLOTS_ANY*).
 */
enum { SLOTS_PORT, SLOTS_ANYPORT, SLOTS_ANYADDR, SLOTS_KINDS };

static const char *const slots_names[SLOTS_KINDS] = { "slots", "anyslots",
						       "addrslots" };

/* The length of the data of a slot map: addr [. port]. */
static uint32_t slots_dlen(const struct fam *f, int k)
{
	return f->addr_len + (k == SLOTS_ANYADDR ? 0 : 4);
}

/* A group's sets: its slot maps, then its set of backends. */
#define GROUP_SETS (2 * SLOTS_KINDS + 1)

/* The slots map of kind @k of service @i, of family @f. */
static size_t slots_set(const struct builder *bd, size_t i, int f, int k)
{
	return SET_SLOTS + i / bd->group * GROUP_SETS + f * SLOTS_KINDS + k;
}

/* The set backends_G of service @i's group G. */
static size_t backends_set(const struct builder *bd, size_t i)
{
	return SET_SLOTS + i / bd->group * GROUP_SETS + 2 * SLOTS_KINDS;
}

static bool is_backends_set(size_t i)
{
	return i >= SET_SLOTS && (i - SET_SLOTS) % GROUP_SETS == 2 * SLOTS_KINDS;
}

/* Messages */

static struct nlmsghdr *msg(struct builder *bd, uint16_t type, uint16_t flags,
			    size_t len)
{
	struct nlmsghdr *nlh;

	if (bd->err)
		return NULL;
	nlh = nft_batch_msg(bd->b, MSG(type), flags, len);
	if (!nlh)
		bd->err = -ENOMEM;
	return nlh;
}

static void put_table(struct builder *bd, uint16_t type, uint16_t flags)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!t) {
		bd->err = -ENOMEM;
		return;
	}
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, NFT_TABLE);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nlh = msg(bd, type, flags, 256);
	if (nlh) {
		nftnl_table_nlmsg_build_payload(nlh, t);
		nft_batch_done(bd->b, nlh);
	}
	nftnl_table_free(t);
}

/*
 * Chain @name: the base chain @base if not NULL; @comment, if any, as its
 * comment.
 */
static void put_chain(struct builder *bd, const char *name,
		      const struct nft_base_chain *base, const char *comment)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nftnl_udata_buf *ud = NULL;
	struct nlmsghdr *nlh;

	if (!c) {
		bd->err = -ENOMEM;
		return;
	}
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, NFT_TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	if (base) {
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, base->hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, base->prio);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, base->type);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	if (comment) {
		ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
		if (!ud || !nftnl_udata_put_strz(ud, NFTNL_UDATA_CHAIN_COMMENT,
						 comment)) {
			bd->err = ud ? -E2BIG : -ENOMEM;
			goto out;
		}
		nftnl_chain_set_data(c, NFTNL_CHAIN_USERDATA,
				     nftnl_udata_buf_data(ud),
				     nftnl_udata_buf_len(ud));
	}
	nlh = msg(bd, NFT_MSG_NEWCHAIN, NLM_F_CREATE, 1024);
	if (nlh) {
		nftnl_chain_nlmsg_build_payload(nlh, c);
		nft_batch_done(bd->b, nlh);
	}
out:
	if (ud)
		nftnl_udata_buf_free(ud);
	nftnl_chain_free(c);
}

static struct nftnl_set *set_alloc(const char *name)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		return NULL;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NFT_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	return s;
}

/* nft's byte order of a key in host order (its BYTEORDER_HOST_ENDIAN). */
#define BYTEORDER_HOST 1

/* Create set @def, which will hold @size elements. */
static void put_set(struct builder *bd, const struct set_def *def,
		    uint32_t size)
{
	struct nftnl_set *s = set_alloc(def->name);
	struct nftnl_udata_buf *ud;
	struct nlmsghdr *nlh;

	if (!s) {
		bd->err = -ENOMEM;
		return;
	}
	if (def->host) {
		ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
		if (!ud) {
			nftnl_set_free(s);
			bd->err = -ENOMEM;
			return;
		}
		nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER,
				    BYTEORDER_HOST);
		nftnl_set_set_data(s, NFTNL_SET_USERDATA,
				   nftnl_udata_buf_data(ud),
				   nftnl_udata_buf_len(ud));
		nftnl_udata_buf_free(ud);
	}
	/* The counter of the elements the rules add. */
	if (def->counter) {
		struct nftnl_expr *ctr = nftnl_expr_alloc("counter");

		if (!ctr) {
			nftnl_set_free(s);
			bd->err = -ENOMEM;
			return;
		}
		nftnl_set_add_expr(s, ctr);
	}
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, def->ktype);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, def->klen);
	nftnl_set_set_u32(s, NFTNL_SET_ID, ++bd->set_id);
	/*
	 * A hint, so that the kernel sizes the hash table once; for a set
	 * with counters, the most elements the rules may add.
	 */
	if (size)
		nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, size);
	if (def->counter)
		nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_EVAL);
	if (def->dlen) {
		nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, def->dtype);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, def->dlen);
	}
	nlh = msg(bd, NFT_MSG_NEWSET, NLM_F_CREATE, 1024);
	if (nlh) {
		nftnl_set_nlmsg_build_payload(nlh, s);
		nft_batch_done(bd->b, nlh);
	}
	nftnl_set_free(s);
}

/*
 * Elements are queued per set and sent ELEMS_MSG_BYTES at a time;
 * elem_flush() sends a set's queue.
 */
static void elem_flush(struct builder *bd, unsigned int set)
{
	struct elems *e = &bd->elems[set];
	struct nlmsghdr *nlh;

	if (!e->s)
		return;
	nlh = msg(bd, NFT_MSG_NEWSETELEM, NLM_F_CREATE, e->bytes + 512);
	if (nlh) {
		nftnl_set_elems_nlmsg_build_payload(nlh, e->s);
		nft_batch_done(bd->b, nlh);
	}
	nftnl_set_free(e->s);
	e->s = NULL;
	e->bytes = 0;
}

/* One element of the optional parts of elem_add(). */
struct elem_opt {
	const char *chain; /* a vmap's "goto chain" */
	const void *data; /* a map's data (its set's dlen bytes) */
	uint64_t pkts, bytes; /* of its counter (sets with counters) */
	const char *comment;
};

/* Add key @key (the set's klen bytes), with @opt if not NULL. */
static void elem_add(struct builder *bd, unsigned int set, const void *key,
		     const struct elem_opt *opt)
{
	const struct set_def *def = &bd->sets[set];
	struct elems *e = &bd->elems[set];
	struct nftnl_udata_buf *ud;
	struct nftnl_set_elem *el;
	struct nftnl_expr *ctr;
	size_t bytes = def->klen + def->dlen + ELEM_OVERHEAD;

	if (bd->err)
		return;
	if (!e->s) {
		e->s = set_alloc(def->name);
		if (!e->s) {
			bd->err = -ENOMEM;
			return;
		}
	}
	el = nftnl_set_elem_alloc();
	if (!el) {
		bd->err = -ENOMEM;
		return;
	}
	nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, key, def->klen);
	if (opt && opt->chain) {
		nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_VERDICT, NFT_GOTO);
		nftnl_set_elem_set_str(el, NFTNL_SET_ELEM_CHAIN, opt->chain);
		bytes += strlen(opt->chain);
	}
	if (opt && opt->data)
		nftnl_set_elem_set(el, NFTNL_SET_ELEM_DATA, opt->data,
				   def->dlen);
	if (def->counter) {
		ctr = nftnl_expr_alloc("counter");
		if (!ctr) {
			nftnl_set_elem_free(el);
			bd->err = -ENOMEM;
			return;
		}
		nftnl_expr_set_u64(ctr, NFTNL_EXPR_CTR_PACKETS, opt->pkts);
		nftnl_expr_set_u64(ctr, NFTNL_EXPR_CTR_BYTES, opt->bytes);
		nftnl_set_elem_add_expr(el, ctr);
	}
	if (opt && opt->comment) {
		ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
		if (!ud ||
		    !nftnl_udata_put_strz(ud, NFTNL_UDATA_SET_ELEM_COMMENT,
					  opt->comment)) {
			if (ud)
				nftnl_udata_buf_free(ud);
			nftnl_set_elem_free(el);
			bd->err = ud ? -E2BIG : -ENOMEM;
			return;
		}
		nftnl_set_elem_set(el, NFTNL_SET_ELEM_USERDATA,
				   nftnl_udata_buf_data(ud),
				   nftnl_udata_buf_len(ud));
		bytes += nftnl_udata_buf_len(ud);
		nftnl_udata_buf_free(ud);
	}
	nftnl_set_elem_add(e->s, el);
	e->bytes += bytes;
	if (e->bytes >= ELEMS_MSG_BYTES)
		elem_flush(bd, set);
}

/* A counter carried over: an element of a set with counters, unless 0. */
static void counter_add(struct builder *bd, unsigned int set, const void *key,
			uint64_t pkts, uint64_t bytes)
{
	struct elem_opt opt = { .pkts = pkts, .bytes = bytes };

	if (pkts || bytes)
		elem_add(bd, set, key, &opt);
}

/* Expressions */

static struct nftnl_rule *rule_alloc(const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (!r)
		return NULL;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NFT_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	return r;
}

/* ct original KEY (an address or proto-dst) into @dreg. */
static void add_ct_orig(struct nftnl_rule *r, uint32_t key, uint32_t dreg)
{
	nft_add_ct(r, key, CT_DIR_ORIGINAL, dreg);
}

static void put_rule(struct builder *bd, struct nftnl_rule *r)
{
	struct nlmsghdr *nlh;

	if (nft_expr_nomem)
		bd->err = -ENOMEM;
	nlh = msg(bd, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, 4096);
	if (nlh) {
		nftnl_rule_nlmsg_build_payload(nlh, r);
		nft_batch_done(bd->b, nlh);
	}
	nftnl_rule_free(r);
}

/* The table's own chains, sets and rules */

/* The type id of a concatenation of @n types. */
static uint32_t concat_type(const uint32_t *types, int n)
{
	uint32_t t = 0;
	int i;

	for (i = 0; i < n; i++)
		t = (t << TYPE_BITS) | types[i];
	return t;
}

/* Set @d: @name in the epoch written, key of @nk types @kt, @klen bytes. */
static void set_def(const struct builder *bd, struct set_def *d,
		    const char *name, const uint32_t *kt, int nk, uint32_t klen)
{
	snprintf(d->name, sizeof(d->name), "%s%s", name,
		 nft_epoch_sfx(bd->epoch));
	d->ktype = concat_type(kt, nk);
	d->klen = klen;
}

/* The definitions of the table's sets (nft.h). */
static void define_sets(struct builder *bd)
{
	static const char *const svc[4] = { "svc4", "any4", "svc6", "any6" };
	static const char *const snat[4] = { "snat4", "snatany4", "snat6",
					     "snatany6" };
	uint32_t t[6];
	int f, any, k, dir, n;
	size_t i;

	for (f = 0; f < 2; f++) {
		const struct fam *fm = &fams[f];
		char name[NAME_LEN];

		snprintf(name, sizeof(name), "vips%c", fm->tag);
		set_def(bd, &bd->sets[SET_VIPS + f], name, &fm->addr_type, 1,
			fm->addr_len);
		for (any = 0; any < 2; any++) {
			struct set_def *d = &bd->sets[SET_SVC + 2 * f + any];

			t[0] = fm->addr_type;
			t[1] = TYPE_INET_PROTOCOL;
			t[2] = TYPE_INET_SERVICE;
			set_def(bd, d, svc[2 * f + any], t, any ? 2 : 3,
				fm->addr_len + (any ? 4 : 8));
			d->dtype = NFT_DATA_VERDICT;
			d->dlen = sizeof(uint32_t);
			set_def(bd, &bd->sets[SET_SNAT + 2 * f + any],
				snat[2 * f + any], t, any ? 2 : 3,
				fm->addr_len + (any ? 4 : 8));
		}
		for (k = 0; k < NFT_COUNT_KINDS; k++) {
			unsigned int fl = kinds[k].fields;
			uint32_t len = fm->addr_len + 4;

			n = 0;
			t[n++] = fm->addr_type;
			t[n++] = TYPE_INET_PROTOCOL;
			if (fl & F_DPORT) {
				t[n++] = TYPE_INET_SERVICE;
				len += 4;
			}
			if (fl & F_RSADDR) {
				t[n++] = fm->addr_type;
				len += fm->addr_len;
			}
			if (fl & F_RSPORT) {
				t[n++] = TYPE_INET_SERVICE;
				len += 4;
			}
			for (dir = -1; dir < NFT_COUNT_WHATS; dir++) {
				unsigned int set;

				set = dir < 0 ? guard_set(f, k) :
						count_set(f, k, dir);

				/* (epoch 0's name: set_def() adds) */
				nft_count_set_name(name, sizeof(name), f, k,
						   dir, 0);
				set_def(bd, &bd->sets[set], name, t, n, len);
			}
		}
	}
	for (i = SET_COUNT; i < SET_SLOTS; i++)
		bd->sets[i].counter = true;
	for (i = SET_SLOTS; i < bd->nr_sets; i++) {
		size_t g = (i - SET_SLOTS) / GROUP_SETS;
		int k = (i - SET_SLOTS) % GROUP_SETS % SLOTS_KINDS;
		const struct fam *fm =
			&fams[(i - SET_SLOTS) % GROUP_SETS / SLOTS_KINDS % 2];
		char name[NAME_LEN];

		if (is_backends_set(i)) {
			t[0] = TYPE_MARK;
			t[1] = TYPE_MARK;
			nft_backends_set_name(name, sizeof(name), g, 0);
			set_def(bd, &bd->sets[i], name, t, 2, 8);
			bd->sets[i].host = true;
			continue;
		}
		n = 0;
		t[n++] = TYPE_MARK;
		t[n++] = fm->addr_type;
		t[n++] = TYPE_INET_PROTOCOL;
		if (k == SLOTS_PORT)
			t[n++] = TYPE_INET_SERVICE;
		snprintf(name, sizeof(name), "%s%c_%zu", slots_names[k],
			 fm->tag, g);
		set_def(bd, &bd->sets[i], name, t, n,
			4 + fm->addr_len + 4 + (k == SLOTS_PORT ? 4 : 0));
		n = 0;
		t[n++] = fm->addr_type;
		if (k != SLOTS_ANYADDR)
			t[n++] = TYPE_INET_SERVICE;
		bd->sets[i].dtype = concat_type(t, n);
		bd->sets[i].dlen = slots_dlen(fm, k);
	}
}

/* The slot map kind of backend @be of service @s. */
static int slots_kind(const struct lb_service *s, const struct lb_backend *be)
{
	if (s->key.port)
		return SLOTS_PORT;
	return be->key.port ? SLOTS_ANYPORT : SLOTS_ANYADDR;
}

static int cmp_addr4(const void *a, const void *b)
{
	return memcmp(a, b, 4);
}

static int cmp_addr6(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

/*
 * The addresses of the services of family @f that nf_tables serves, each
 * once, in @bd->vips[f] (@bd->nr_vips[f] of them, packed).  0 or -ENOMEM.
 */
static int collect_vips(struct builder *bd, const struct lb_service_list *list,
			int f)
{
	uint32_t alen = fams[f].addr_len;
	size_t i, n = 0, u = 0;
	uint8_t *a;

	a = malloc(list->nr * alen + 1);
	if (!a)
		return -ENOMEM;
	for (i = 0; i < list->nr; i++) {
		const struct lb_service *s = &list->svcs[i];

		if (fam_index(s->key.af) == f && nft_serves(s))
			memcpy(a + alen * n++, &s->key.addr, alen);
	}
	if (n)
		qsort(a, n, alen, f ? cmp_addr6 : cmp_addr4);
	for (i = 0; i < n; i++)
		if (!u || memcmp(a + alen * (u - 1), a + alen * i, alen))
			memmove(a + alen * u++, a + alen * i, alen);
	bd->vips[f] = a;
	bd->nr_vips[f] = u;
	return 0;
}

/* How many elements each set gets: the kernel's size hints. */
static int count_elems(struct builder *bd, const struct lb_service_list *list,
		       uint64_t *nr)
{
	size_t i, j;
	uint32_t k;

	memset(nr, 0, bd->nr_sets * sizeof(*nr));
	nr[SET_VIPS] = bd->nr_vips[0];
	nr[SET_VIPS + 1] = bd->nr_vips[1];
	for (i = 0; i < list->nr; i++) {
		const struct lb_service *s = &list->svcs[i];
		int f = fam_index(s->key.af);

		nr[backends_set(bd, i)] += s->nr_backends;
		if (!nft_serves(s))
			continue;
		nr[SET_SVC + 2 * f + !s->key.port]++;
		if (s->flags & VIPLB_SVC_F_SNAT)
			nr[SET_SNAT + 2 * f + !s->key.port]++;
		bd->slots[i] = nft_slots(s, &bd->nr_slots[i]);
		if (!bd->slots[i])
			return -ENOMEM;
		for (k = 0; k < bd->nr_slots[i]; k++) {
			const struct lb_backend *be =
				&s->backends[bd->slots[i][k]];

			nr[slots_set(bd, i, f, slots_kind(s, be))]++;
		}
		for (j = 0; j <= s->nr_backends; j++) {
			int kind = nft_count_kind(s, j ? &s->backends[j - 1] :
							 NULL);

			nr[guard_set(f, kind)]++;
			nr[count_set(f, kind, NFT_COUNT_IN)]++;
			nr[count_set(f, kind, NFT_COUNT_OUT)]++;
			nr[count_set(f, kind, NFT_COUNT_CONNS)]++;
		}
	}
	return 0;
}

static struct nftnl_rule *fam_rule(const char *chain, const struct fam *f)
{
	struct nftnl_rule *r = rule_alloc(chain);

	if (!r)
		return NULL;
	nft_add_meta(r, NFT_META_NFPROTO, R(0));
	nft_add_cmp_eq(r, R(0), &f->nfproto, 1);
	return r;
}

/* daddr . l4proto [. dport] vmap @svc / @any, in a nat base chain. */
static void put_dispatch(struct builder *bd, const char *chain)
{
	struct nftnl_rule *r;
	int i, any;

	for (i = 0; i < 2; i++) {
		const struct fam *f = &fams[i];
		uint32_t after = R(f->addr_len / 4);

		for (any = 0; any < 2; any++) {
			r = fam_rule(chain, f);
			if (!r) {
				bd->err = -ENOMEM;
				return;
			}
			nft_add_payload(r, NFT_PAYLOAD_NETWORK_HEADER,
					f->daddr_off, f->addr_len, R(0));
			nft_add_meta(r, NFT_META_L4PROTO, after);
			if (!any)
				nft_add_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER,
						2, 2, after + 1);
			nft_add_lookup(r, R(0),
				       bd->sets[SET_SVC + 2 * i + any].name,
				       true);
			put_rule(bd, r);
		}
	}
}

/*
 * postrouting: ct original daddr . l4proto [. proto-dst] @snat /
 * @snatany masquerade.
 */
static void put_snat(struct builder *bd)
{
	struct nftnl_rule *r;
	int i, any;

	for (i = 0; i < 2; i++) {
		const struct fam *f = &fams[i];
		uint32_t after = R(f->addr_len / 4);

		for (any = 0; any < 2; any++) {
			r = fam_rule("postrouting", f);
			if (!r) {
				bd->err = -ENOMEM;
				return;
			}
			add_ct_orig(r, f->ct_dst, R(0));
			nft_add_meta(r, NFT_META_L4PROTO, after);
			if (!any)
				add_ct_orig(r, NFT_CT_PROTO_DST, after + 1);
			nft_add_lookup(r, R(0),
				       bd->sets[SET_SNAT + 2 * i + any].name,
				       false);
			nft_add_expr(r, "masq");
			put_rule(bd, r);
		}
	}
}

/*
 * Counting chain @chain: per family and kind in order of precedence
 * (nft.h), load the key (the conntrack entry's original daddr . l4proto
 * [. proto-dst] [. reply saddr [. reply proto-src]]) and look it up in
 * the set of keys: a hit counts the packet in @what's set (and with
 * @conns, a backend's connection) and accepts.
 */
static void put_count(struct builder *bd, const char *chain, int what,
		      bool conns)
{
	static const int order[NFT_COUNT_KINDS] = {
		NFT_COUNT_BE, NFT_COUNT_SVC, NFT_COUNT_ANYBE,
		NFT_COUNT_ANYADDR, NFT_COUNT_ANYSVC
	};
	struct nftnl_rule *r;
	int i, k;

	for (i = 0; i < 2; i++) {
		const struct fam *f = &fams[i];

		for (k = 0; k < NFT_COUNT_KINDS; k++) {
			unsigned int fl = kinds[order[k]].fields;
			uint32_t reg = R(f->addr_len / 4);

			r = fam_rule(chain, f);
			if (!r) {
				bd->err = -ENOMEM;
				return;
			}
			add_ct_orig(r, f->ct_dst, R(0));
			nft_add_meta(r, NFT_META_L4PROTO, reg++);
			if (fl & F_DPORT)
				add_ct_orig(r, NFT_CT_PROTO_DST, reg++);
			if (fl & F_RSADDR) {
				nft_add_ct(r, f->ct_src, CT_DIR_REPLY, reg);
				reg += f->addr_len / 4;
			}
			if (fl & F_RSPORT)
				nft_add_ct(r, NFT_CT_PROTO_SRC, CT_DIR_REPLY,
					   reg++);
			nft_add_lookup(r, R(0),
				       bd->sets[guard_set(i, order[k])].name,
				       false);
			nft_add_update(r, R(0),
				       bd->sets[count_set(i, order[k], what)]
					       .name);
			/* (a service's connections: put_pick()) */
			if (conns && (fl & F_RSADDR)) {
				unsigned int set = count_set(i, order[k],
							     NFT_COUNT_CONNS);

				nft_add_update(r, R(0), bd->sets[set].name);
			}
			nft_add_verdict(r, NF_ACCEPT, NULL);
			put_rule(bd, r);
		}
	}
}

/*
 * count_pre and count_out: the first packet of a connection (its
 * conntrack entry not yet confirmed) goto count_new, else by its
 * direction to count_orig or count_reply.
 */
static void put_count_base(struct builder *bd, const char *chain)
{
	static const uint32_t confirmed = IPS_CONFIRMED, zero;
	struct nftnl_rule *r;
	uint8_t dir;
	int f;

	/*
	 * A connection to none of the services' addresses is accepted at
	 * once: the director's own traffic (its health checks, BGP, ssh)
	 * would otherwise miss in every counting set, five lookups of
	 * conntrack keys a packet.
	 */
	for (f = 0; f < 2; f++) {
		r = fam_rule(chain, &fams[f]);
		if (!r) {
			bd->err = -ENOMEM;
			return;
		}
		add_ct_orig(r, fams[f].ct_dst, R(0));
		nft_add_lookup_not(r, R(0), bd->sets[SET_VIPS + f].name);
		nft_add_verdict(r, NF_ACCEPT, NULL);
		put_rule(bd, r);
	}
	r = rule_alloc(chain);
	if (!r) {
		bd->err = -ENOMEM;
		return;
	}
	nft_add_ct(r, NFT_CT_STATUS, -1, R(0));
	nft_add_bitwise(r, R(0), &confirmed, &zero, sizeof(confirmed));
	nft_add_cmp_eq(r, R(0), &zero, sizeof(zero));
	nft_add_verdict(r, NFT_GOTO, bd->count[NFT_COUNT_CHAIN_NEW]);
	put_rule(bd, r);
	for (dir = CT_DIR_ORIGINAL; dir <= CT_DIR_REPLY; dir++) {
		r = rule_alloc(chain);
		if (!r) {
			bd->err = -ENOMEM;
			return;
		}
		nft_add_ct(r, NFT_CT_DIRECTION, -1, R(0));
		nft_add_cmp_eq(r, R(0), &dir, 1);
		nft_add_verdict(r, NFT_GOTO,
				bd->count[dir ? NFT_COUNT_CHAIN_REPLY :
						NFT_COUNT_CHAIN_ORIG]);
		put_rule(bd, r);
	}
}

static int put_base(struct builder *bd, const struct lb_service_list *list)
{
	uint64_t *nr = calloc(bd->nr_sets, sizeof(*nr));
	size_t i;

	if (!nr || count_elems(bd, list, nr)) {
		free(nr);
		return -ENOMEM;
	}

	for (i = 0; !bd->in_place && i < NFT_NR_BASE; i++)
		put_chain(bd, nft_base_chains[i].name, &nft_base_chains[i],
			  NULL);
	for (i = 0; i < NFT_NR_COUNT_CHAINS; i++)
		put_chain(bd, bd->count[i], NULL, NULL);
	/* (a slots map no service uses is left out) */
	for (i = 0; i < bd->nr_sets; i++)
		if (i < SET_SLOTS || nr[i] || is_backends_set(i))
			put_set(bd, &bd->sets[i],
				nr[i] > UINT32_MAX ? UINT32_MAX : nr[i]);
	free(nr);
	return 0;
}

/* A service's key as its map key: daddr . l4proto [. dport], padded. */
static void svc_map_key(const struct lb_service *s, uint8_t *key)
{
	uint32_t alen = addr_len(s->key.af);
	uint16_t port = htons(s->key.port);

	memset(key, 0, NFT_KEY_MAX);
	memcpy(key, &s->key.addr, alen);
	key[alen] = s->key.proto;
	if (s->key.port)
		memcpy(key + alen + 4, &port, 2);
}

/* Slots */

/*
 * rr and wrr: each backend's share of the slots, in @w: rr one for
 * each backend of weight > 0, wrr their weights, scaled down if
 * their sum passes VIPLB_TABLE_SIZE_MAX, then divided by their gcd.  The
 * number of slots, 0 if no backend has a weight.
 */
static uint32_t shares(const struct lb_service *s, uint32_t *w)
{
	uint64_t sum = 0, live = 0;
	uint32_t g = 0, a, b, t;
	size_t i;

	for (i = 0; i < s->nr_backends; i++) {
		w[i] = s->backends[i].weight;
		if (s->sched == VIPLB_SCHED_RR && w[i])
			w[i] = 1;
		sum += w[i];
		live += !!w[i];
	}
	if (sum > VIPLB_TABLE_SIZE_MAX)
		for (i = 0; i < s->nr_backends; i++)
			if (w[i])
				w[i] = 1 +
				       (uint64_t)w[i] *
					       (VIPLB_TABLE_SIZE_MAX - live) /
					       sum;
	for (i = 0; i < s->nr_backends; i++) {
		for (a = g, b = w[i]; b; t = a % b, a = b, b = t)
			;
		g = a;
	}
	sum = 0;
	for (i = 0; g && i < s->nr_backends; i++) {
		w[i] /= g;
		sum += w[i];
	}
	return sum;
}

/*
 * The slot table of a service: backend index per slot, interleaved for
 * rr/wrr (pass k gives a slot to every backend of share > k), the Maglev
 * table of include/viplb/maglev.h for maglev and sh.  Its size in *n, 0
 * if no backend has a weight.
 */
uint32_t *nft_slots(const struct lb_service *s, uint32_t *n)
{
	uint32_t *w, *slots = NULL, k, len, max = 0;
	struct viplb_maglev_backend *mb;
	size_t i;

	*n = 0;
	/* sh indexes the Maglev table too, as in the module and XDP. */
	if (s->sched == VIPLB_SCHED_MAGLEV || s->sched == VIPLB_SCHED_SH) {
		uint32_t m = service_table_m(s);

		mb = calloc(s->nr_backends + 1, sizeof(*mb));
		slots = malloc(m * sizeof(*slots));
		if (!mb || !slots)
			goto fail_mb;
		for (i = 0; i < s->nr_backends; i++) {
			__be32 addr[4] = { 0 };

			memcpy(addr, &s->backends[i].key.addr,
			       addr_len(s->key.af));
			viplb_maglev_backend_init(
				&mb[i], addr, htons(s->backends[i].key.port),
				s->backends[i].weight, m);
		}
		if (viplb_maglev_populate(slots, m, mb, s->nr_backends) ==
		    VIPLB_MAGLEV_OK)
			*n = m;
		free(mb);
		return slots;
fail_mb:
		free(mb);
		free(slots);
		return NULL;
	}
	w = calloc(s->nr_backends + 1, sizeof(*w));
	if (!w)
		return NULL;
	len = shares(s, w);
	slots = malloc((len + 1) * sizeof(*slots));
	if (!slots) {
		free(w);
		return NULL;
	}
	for (i = 0; i < s->nr_backends; i++)
		if (w[i] > max)
			max = w[i];
	for (k = 0; k < max; k++)
		for (i = 0; i < s->nr_backends; i++)
			if (w[i] > k)
				slots[(*n)++] = i;
	free(w);
	return slots;
}

/*
 * The scheduler's slot number into R(0), from the registers from R(0) it
 * loads (sh: saddr; maglev: saddr . daddr . l4proto . sport . dport):
 * lookup.c computes the same.
 */
static void add_sched(struct nftnl_rule *r, const struct lb_service *s,
		      uint32_t n, bool rules)
{
	const struct fam *f = &fams[fam_index(s->key.af)];
	struct nftnl_expr *e;
	uint32_t len;

	/*
	 * (rr and wrr with @rules, one for the backends with a port and
	 * one for those without, pick by the maglev hash: each rule must
	 * find the same slot)
	 */
	if ((s->sched == VIPLB_SCHED_RR || s->sched == VIPLB_SCHED_WRR) &&
	    !rules) {
		e = nft_add_expr(r, "numgen");
		if (!e)
			return;
		nftnl_expr_set_u32(e, NFTNL_EXPR_NG_DREG, R(0));
		nftnl_expr_set_u32(e, NFTNL_EXPR_NG_TYPE, NFT_NG_INCREMENTAL);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NG_MODULUS, n);
		return;
	}
	if (s->sched == VIPLB_SCHED_SH) {
		nft_add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, f->saddr_off,
				f->addr_len, R(0));
		len = f->addr_len;
	} else {
		/* maglev: viplb_flow_key() of include/viplb/hash.h */
		uint32_t reg = R(2 * f->addr_len / 4);

		nft_add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, f->saddr_off,
				2 * f->addr_len, R(0));
		nft_add_meta(r, NFT_META_L4PROTO, reg);
		nft_add_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2, reg + 1);
		nft_add_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, reg + 2);
		len = 2 * f->addr_len + 12;
	}
	e = nft_add_expr(r, "hash");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_TYPE, NFT_HASH_JENKINS);
	nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_SREG, R(0));
	nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_DREG, R(0));
	nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_MODULUS, n);
	nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_SEED,
			   s->sched == VIPLB_SCHED_SH ? VIPLB_SRC_HASH_SEED :
							VIPLB_FLOW_HASH_SEED);
}

/* The service's key, daddr . l4proto [. dport], into R1... */
static void add_svc_key(struct nftnl_rule *r, const struct lb_service *s)
{
	const struct fam *f = &fams[fam_index(s->key.af)];
	uint32_t reg = R(1 + f->addr_len / 4);

	nft_add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, f->daddr_off,
			f->addr_len, R(1));
	nft_add_meta(r, NFT_META_L4PROTO, reg);
	if (s->key.port)
		nft_add_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, reg + 1);
}

/* No backend of weight > 0: refuse new connections as the module does. */
static void add_reject(struct nftnl_rule *r, uint8_t proto)
{
	struct nftnl_expr *e = nft_add_expr(r, "reject");

	if (!e)
		return;
	if (proto == IPPROTO_TCP) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE,
				   NFT_REJECT_TCP_RST);
		nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, 0);
	} else {
		nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE,
				   NFT_REJECT_ICMPX_UNREACH);
		nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE,
				  NFT_REJECT_ICMPX_PORT_UNREACH);
	}
}

/* DNAT to the address in @reg and, with @port, the port after it. */
static void add_dnat(struct nftnl_rule *r, const struct fam *f, uint32_t reg,
		     bool port)
{
	struct nftnl_expr *e = nft_add_expr(r, "nat");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, f->nfproto);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, reg);
	if (port)
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN,
				   reg + f->addr_len / 4);
}

/* The counting elements of service @s (@j 0) or of its backend j - 1. */
static void put_count_elems(struct builder *bd, const struct lb_service *s,
			    size_t j, const struct lb_stats *st)
{
	const struct lb_backend *be = j ? &s->backends[j - 1] : NULL;
	int f = fam_index(s->key.af), k = nft_count_kind(s, be);
	uint8_t key[NFT_KEY_MAX], other[NFT_KEY_MAX];
	uint32_t len = nft_count_key(k, s, be, key);
	size_t i;

	/* Two backends the same to conntrack: the first one counts. */
	for (i = 0; be && i < j - 1; i++)
		if (nft_count_kind(s, &s->backends[i]) == k &&
		    nft_count_key(k, s, &s->backends[i], other) == len &&
		    !memcmp(key, other, len))
			return;
	elem_add(bd, guard_set(f, k), key, NULL);
	counter_add(bd, count_set(f, k, NFT_COUNT_IN), key, st->pkts_in,
		    st->bytes_in);
	counter_add(bd, count_set(f, k, NFT_COUNT_OUT), key, st->pkts_out,
		    st->bytes_out);
	counter_add(bd, count_set(f, k, NFT_COUNT_CONNS), key, st->conns, 0);
}

/*
 * What the service counts itself: its connections, and the packets and
 * bytes of connections to none of its backends (one deleted without
 * flush), its total less theirs (fetch.c adds them back).
 */
static void own_stats(const struct lb_service *s, struct lb_stats *st)
{
	uint64_t pi = 0, po = 0, bi = 0, bo = 0;
	size_t j;

	for (j = 0; j < s->nr_backends; j++) {
		pi += s->backends[j].stats.pkts_in;
		po += s->backends[j].stats.pkts_out;
		bi += s->backends[j].stats.bytes_in;
		bo += s->backends[j].stats.bytes_out;
	}
	memset(st, 0, sizeof(*st));
	st->pkts_in = s->stats.pkts_in > pi ? s->stats.pkts_in - pi : 0;
	st->pkts_out = s->stats.pkts_out > po ? s->stats.pkts_out - po : 0;
	st->bytes_in = s->stats.bytes_in > bi ? s->stats.bytes_in - bi : 0;
	st->bytes_out = s->stats.bytes_out > bo ? s->stats.bytes_out - bo : 0;
	st->conns = s->stats.conns;
}

/* The data of the slots of backend @j of service @s: addr [. port]. */
static void slot_data(const struct lb_service *s, size_t j, uint8_t *data)
{
	const struct lb_backend *be = &s->backends[j];
	uint32_t alen = addr_len(s->key.af);
	uint16_t port = htons(nft_backend_port(s, be));

	memset(data, 0, NFT_KEY_MAX);
	memcpy(data, &be->key.addr, alen);
	if (slots_kind(s, be) != SLOTS_ANYADDR)
		memcpy(data + alen, &port, 2);
}

/*
 * The slots of service @i: slot . its key : the backend's address and
 * port (its own, else the service's), or address (slots_kind()), added
 * if @add.  Which kinds of map it has, a bit each, in *kinds, and how
 * many slots in *n.
 */
static void put_slots(struct builder *bd, const struct lb_service *s, size_t i,
		      bool add, unsigned int *kinds, uint32_t *n)
{
	int f = fam_index(s->key.af);
	uint32_t *tab = bd->slots[i], k;
	uint8_t key[4 + NFT_KEY_MAX], data[NFT_KEY_MAX];
	struct elem_opt opt = { .data = data };

	*kinds = 0;
	*n = bd->nr_slots[i];
	svc_map_key(s, key + 4);
	for (k = 0; k < *n; k++) {
		int kind = slots_kind(s, &s->backends[tab[k]]);

		*kinds |= 1 << kind;
		if (!add)
			continue;
		slot_data(s, tab[k], data);
		memcpy(key, &k, 4);
		elem_add(bd, slots_set(bd, i, f, kind), key, &opt);
	}
}

/*
 * The rule of service @i's chain that DNATs to a backend of slot map kind
 * @kind (registers from R0; F the family, K the service's key, B the
 * backend's address [and port], as in the counting sets):
 *
 *   the slot into R0; K (daddr . l4proto [. dport]) into R1...;
 *   [update @svc_connsF / @anysvc_connsF { K }: the service's conns;]
 *   lookup @slotsF_G (slot . K) -> B, after K; dnat B
 *
 * A port-0 service with backends with and without a port has a rule for
 * each (the first counts the service's connection; rr and wrr then pick
 * by a hash, add_sched()).
 */
static void put_pick(struct builder *bd, const struct lb_service *s, size_t i,
		     uint32_t n, int kind, bool count_svc, bool rules)
{
	const struct fam *f = &fams[fam_index(s->key.af)];
	int fi = fam_index(s->key.af);
	uint32_t b = R(1 + f->addr_len / 4 + 1 + !!s->key.port);
	char name[NAME_LEN];
	struct nftnl_rule *r;

	chain_name(bd, name, i);
	r = fam_rule(name, f);
	if (!r) {
		bd->err = -ENOMEM;
		return;
	}
	add_sched(r, s, n, rules);
	add_svc_key(r, s);
	if (count_svc)
		nft_add_update(r, R(1),
			       bd->sets[count_set(fi, nft_count_kind(s, NULL),
						  NFT_COUNT_CONNS)]
				       .name);
	nft_add_lookup_data(r, R(0), bd->sets[slots_set(bd, i, fi, kind)].name,
			    b);
	add_dnat(r, f, b, kind != SLOTS_ANYADDR);
	put_rule(bd, r);
}

/*
 * Service @i: its chain, with its save line as comment, and the element
 * (i . j) of set backends for each backend j, with its line as comment.
 * A service nf_tables serves gets its dispatch element, counting
 * elements, slots and rules (put_pick(), or with no backend of weight >
 * 0: K into R1...; update @svc_connsF { K }; reject).
 */
static void put_service(struct builder *bd, const struct lb_service *s,
			size_t i)
{
	int fi = fam_index(s->key.af), k;
	char name[NAME_LEN], line[512];
	uint8_t mkey[NFT_KEY_MAX];
	struct config_cmd cmd;
	struct elem_opt opt;
	struct nftnl_rule *r;
	struct lb_stats own;
	unsigned int kinds;
	uint32_t key[2], n;
	bool first = true;
	size_t j;

	chain_name(bd, name, i);
	service_add_cmd(s, &cmd);
	put_chain(bd, name, NULL, format_cmd_line(line, sizeof(line), &cmd));
	key[0] = i;
	for (j = 0; j < s->nr_backends; j++) {
		backend_add_cmd(s, j, &cmd);
		opt = (struct elem_opt){
			.comment = format_cmd_line(line, sizeof(line), &cmd),
		};
		key[1] = j;
		elem_add(bd, backends_set(bd, i), key, &opt);
	}
	/* Recorded, not served (XDP serves dr and tun). */
	if (!nft_serves(s))
		return;

	svc_map_key(s, mkey);
	opt = (struct elem_opt){ .chain = name };
	elem_add(bd, SET_SVC + 2 * fi + !s->key.port, mkey, &opt);
	if (s->flags & VIPLB_SVC_F_SNAT)
		elem_add(bd, SET_SNAT + 2 * fi + !s->key.port, mkey, NULL);
	own_stats(s, &own);
	put_count_elems(bd, s, 0, &own);
	for (j = 0; j < s->nr_backends; j++)
		put_count_elems(bd, s, j + 1, &s->backends[j].stats);

	/* (the slots come after all the rules: nft_ruleset_build()) */
	put_slots(bd, s, i, false, &kinds, &n);
	for (k = 0; k < SLOTS_KINDS; k++) {
		if (kinds & (1 << k)) {
			put_pick(bd, s, i, n, k, first,
				 kinds != (1U << k));
			first = false;
		}
	}
	if (kinds)
		return;
	r = fam_rule(name, &fams[fi]);
	if (!r) {
		bd->err = -ENOMEM;
		return;
	}
	add_svc_key(r, s);
	nft_add_update(r, R(1),
		       bd->sets[count_set(fi, nft_count_kind(s, NULL),
					  NFT_COUNT_CONNS)]
			       .name);
	add_reject(r, s->key.proto);
	put_rule(bd, r);
}

int nft_ruleset_build(struct nft_batch *b, const struct lb_service_list *list,
		      const struct nft_objs *o)
{
	struct builder *bd = calloc(1, sizeof(*bd));
	size_t i;
	int err, f;

	if (!bd)
		return -ENOMEM;
	bd->b = b;
	nft_expr_nomem = false;
	/*
	 * No service, no table: its hooks would turn conntrack on in the
	 * netns for nothing.
	 */
	bd->in_place = o && o->in_place && list->nr;
	if (bd->in_place) {
		bd->epoch = !o->live;
		bd->err = nft_base_flush(b);
		if (!bd->err)
			bd->err = nft_epoch_delete(b, o, bd->epoch);
	} else {
		put_table(bd, NFT_MSG_NEWTABLE, NLM_F_CREATE);
		put_table(bd, NFT_MSG_DELTABLE, 0);
	}
	if (!list->nr)
		goto out;
	for (i = 0; i < NFT_NR_COUNT_CHAINS; i++)
		snprintf(bd->count[i], NAME_LEN, "%s%s", nft_count_chains[i],
			 nft_epoch_sfx(bd->epoch));
	bd->group = nft_group_size(list->nr);
	bd->nr_sets = SET_SLOTS + ((list->nr + bd->group - 1) / bd->group) *
					  GROUP_SETS;
	bd->sets = calloc(bd->nr_sets, sizeof(*bd->sets));
	bd->elems = calloc(bd->nr_sets, sizeof(*bd->elems));
	bd->slots = calloc(list->nr, sizeof(*bd->slots));
	bd->nr_slots = calloc(list->nr, sizeof(*bd->nr_slots));
	if (!bd->sets || !bd->elems || !bd->slots || !bd->nr_slots) {
		bd->err = -ENOMEM;
		goto out;
	}
	define_sets(bd);
	if (collect_vips(bd, list, 0) || collect_vips(bd, list, 1)) {
		bd->err = -ENOMEM;
		goto out;
	}
	if (!bd->in_place)
		put_table(bd, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	if (!bd->err)
		bd->err = put_base(bd, list);
	for (i = 0; i < list->nr; i++)
		put_service(bd, &list->svcs[i], i);
	for (f = 0; f < 2; f++)
		for (i = 0; i < bd->nr_vips[f]; i++)
			elem_add(bd, SET_VIPS + f,
				 bd->vips[f] + i * fams[f].addr_len, NULL);
	/*
	 * The slots after the rules that look them up: a rule that looks up
	 * a map checks every element already in it.
	 */
	for (i = 0; i < list->nr; i++) {
		unsigned int kinds;
		uint32_t n;

		if (nft_serves(&list->svcs[i]))
			put_slots(bd, &list->svcs[i], i, true, &kinds, &n);
	}
	for (i = 0; i < bd->nr_sets; i++)
		elem_flush(bd, i);
	put_dispatch(bd, "prerouting");
	put_dispatch(bd, "output");
	put_snat(bd);
	put_count_base(bd, "count_pre");
	put_count_base(bd, "count_out");
	put_count(bd, bd->count[NFT_COUNT_CHAIN_NEW], NFT_COUNT_IN, true);
	put_count(bd, bd->count[NFT_COUNT_CHAIN_ORIG], NFT_COUNT_IN, false);
	put_count(bd, bd->count[NFT_COUNT_CHAIN_REPLY], NFT_COUNT_OUT, false);
out:
	for (i = 0; bd->elems && i < bd->nr_sets; i++)
		if (bd->elems[i].s)
			nftnl_set_free(bd->elems[i].s);
	for (i = 0; bd->slots && i < list->nr; i++)
		free(bd->slots[i]);
	free(bd->slots);
	free(bd->nr_slots);
	free(bd->vips[0]);
	free(bd->vips[1]);
	free(bd->elems);
	free(bd->sets);
	err = bd->err;
	free(bd);
	return err;
}
