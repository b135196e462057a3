// SPDX-License-Identifier: GPL-2.0
/*
 * The batch that replaces table "inet viplb" by a list of services: add
 * the table (so that the delete cannot fail), delete it, add it again
 * with its chains, maps, elements and rules (unless there is no service).
 * Layout in nft.h.
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

/* Set elements per message: their nest must stay under 64 KiB. */
#define ELEMS_PER_MSG 256

#define NAME_LEN 32

/* The original direction of a conntrack entry (NFTA_CT_DIRECTION). */
#define CT_DIR_ORIGINAL 0
#define CT_DIR_REPLY 1

#define MSG(t) ((NFNL_SUBSYS_NFTABLES << 8) | (t))

struct builder {
	struct nft_batch *b;
	uint32_t set_id;
	int err;
};

static void chain_name(char *buf, size_t i)
{
	snprintf(buf, NAME_LEN, "s%zu", i);
}

static void be_chain_name(char *buf, size_t i, size_t j)
{
	snprintf(buf, NAME_LEN, "s%zub%zu", i, j);
}

static void count_name(char *buf, size_t i)
{
	snprintf(buf, NAME_LEN, "s%zuc", i);
}

static void slots_name(char *buf, size_t i)
{
	snprintf(buf, NAME_LEN, "s%zuslots", i);
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
 * A chain: a base chain if @hook >= 0, of type nat (or filter if @prio is
 * PRIO_COUNT); @comment, if any, as its comment.
 */
static void put_chain(struct builder *bd, const char *name, int hook, int prio,
		      const char *comment)
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
	if (hook >= 0) {
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE,
				    prio == PRIO_COUNT ? "filter" : "nat");
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

/*
 * A set, or with @map a verdict map, keyed by @klen bytes of type @ktype,
 * in host byte order if @host (so that "nft list" prints it right).
 */
static void put_set(struct builder *bd, const char *name, uint32_t ktype,
		    uint32_t klen, bool map, bool host)
{
	struct nftnl_set *s = set_alloc(name);
	struct nftnl_udata_buf *ud;
	struct nlmsghdr *nlh;

	if (!s) {
		bd->err = -ENOMEM;
		return;
	}
	if (host) {
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
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, ktype);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, klen);
	nftnl_set_set_u32(s, NFTNL_SET_ID, ++bd->set_id);
	if (map) {
		nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, sizeof(uint32_t));
	}
	nlh = msg(bd, NFT_MSG_NEWSET, NLM_F_CREATE, 1024);
	if (nlh) {
		nftnl_set_nlmsg_build_payload(nlh, s);
		nft_batch_done(bd->b, nlh);
	}
	nftnl_set_free(s);
}

/*
 * Elements are queued in a set object and sent ELEMS_PER_MSG at a time;
 * elem_flush() sends the rest.
 */
struct elems {
	struct builder *bd;
	const char *set;
	struct nftnl_set *s;
	unsigned int n;
};

static void elem_flush(struct elems *e)
{
	struct nlmsghdr *nlh;

	if (!e->s)
		return;
	nlh = e->n ? msg(e->bd, NFT_MSG_NEWSETELEM, NLM_F_CREATE,
			 (size_t)e->n * 160 + 512) :
		     NULL;
	if (nlh) {
		nftnl_set_elems_nlmsg_build_payload(nlh, e->s);
		nft_batch_done(e->bd->b, nlh);
	}
	nftnl_set_free(e->s);
	e->s = NULL;
	e->n = 0;
}

/* Add key @key (@klen bytes), mapped to "goto @chain" if @chain. */
static void elem_add(struct elems *e, const void *key, uint32_t klen,
		     const char *chain)
{
	struct nftnl_set_elem *el;

	if (e->bd->err)
		return;
	if (!e->s) {
		e->s = set_alloc(e->set);
		if (!e->s) {
			e->bd->err = -ENOMEM;
			return;
		}
	}
	el = nftnl_set_elem_alloc();
	if (!el) {
		e->bd->err = -ENOMEM;
		return;
	}
	nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, key, klen);
	if (chain) {
		nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_VERDICT, NFT_GOTO);
		nftnl_set_elem_set_str(el, NFTNL_SET_ELEM_CHAIN, chain);
	}
	nftnl_set_elem_add(e->s, el);
	if (++e->n == ELEMS_PER_MSG)
		elem_flush(e);
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

	nlh = msg(bd, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, 4096);
	if (nlh) {
		nftnl_rule_nlmsg_build_payload(nlh, r);
		nft_batch_done(bd->b, nlh);
	}
	nftnl_rule_free(r);
}

/* The table's own chains, sets and rules */

static uint32_t concat_type(uint32_t a, uint32_t b, uint32_t c)
{
	uint32_t t = (a << TYPE_BITS) | b;

	return c ? (t << TYPE_BITS) | c : t;
}

/* Per family: how its addresses load, what its maps are called. */
struct fam {
	uint8_t nfproto;
	uint32_t addr_type, addr_len;
	uint32_t saddr_off, daddr_off;
	uint32_t ct_dst;
	const char *svc, *any, *snat, *snat_any, *cnt, *cnt_any;
	uint32_t ct_src;
};

static const struct fam fams[2] = {
	{ NFPROTO_IPV4, TYPE_IPADDR, 4, 12, 16, NFT_CT_DST_IP, "svc4", "any4",
	  "snat4", "snatany4", "cnt4", "cntany4", NFT_CT_SRC_IP },
	{ NFPROTO_IPV6, TYPE_IP6ADDR, 16, 8, 24, NFT_CT_DST_IP6, "svc6", "any6",
	  "snat6", "snatany6", "cnt6", "cntany6", NFT_CT_SRC_IP6 },
};

static const struct fam *fam_of(uint16_t af)
{
	return af == AF_INET6 ? &fams[1] : &fams[0];
}

/* 32-bit registers after @len bytes of address from NFT_REG32_00. */
static uint32_t reg_after(uint32_t len)
{
	return NFT_REG32_00 + len / 4;
}

static struct nftnl_rule *fam_rule(const char *chain, const struct fam *f)
{
	struct nftnl_rule *r = rule_alloc(chain);

	if (!r)
		return NULL;
	nft_add_meta(r, NFT_META_NFPROTO, NFT_REG32_00);
	nft_add_cmp_eq(r, NFT_REG32_00, &f->nfproto, 1);
	return r;
}

/* daddr . l4proto [. dport] vmap @svc / @any, in a nat base chain. */
static void put_dispatch(struct builder *bd, const char *chain)
{
	struct nftnl_rule *r;
	int i, any;

	for (i = 0; i < 2; i++) {
		const struct fam *f = &fams[i];

		for (any = 0; any < 2; any++) {
			r = fam_rule(chain, f);
			if (!r) {
				bd->err = -ENOMEM;
				return;
			}
			nft_add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, f->daddr_off,
				    f->addr_len, NFT_REG32_00);
			nft_add_meta(r, NFT_META_L4PROTO, reg_after(f->addr_len));
			if (!any)
				nft_add_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2,
					    2, reg_after(f->addr_len) + 1);
			nft_add_lookup(r, NFT_REG32_00, any ? f->any : f->svc,
				   true);
			put_rule(bd, r);
		}
	}
}

/*
 * By the connection's original destination: with @snat, in postrouting,
 * ct original daddr . l4proto [. proto-dst] @snat / @snatany masquerade;
 * else, in a counting chain, the same key vmap @cnt / @cntany.
 */
static void put_by_orig(struct builder *bd, const char *chain, bool snat)
{
	struct nftnl_rule *r;
	const char *set;
	int i, any;

	for (i = 0; i < 2; i++) {
		const struct fam *f = &fams[i];

		for (any = 0; any < 2; any++) {
			r = fam_rule(chain, f);
			if (!r) {
				bd->err = -ENOMEM;
				return;
			}
			add_ct_orig(r, f->ct_dst, NFT_REG32_00);
			nft_add_meta(r, NFT_META_L4PROTO, reg_after(f->addr_len));
			if (!any)
				add_ct_orig(r, NFT_CT_PROTO_DST,
					    reg_after(f->addr_len) + 1);
			if (snat)
				set = any ? f->snat_any : f->snat;
			else
				set = any ? f->cnt_any : f->cnt;
			nft_add_lookup(r, NFT_REG32_00, set, !snat);
			if (snat)
				nft_add_expr(r, "masq");
			put_rule(bd, r);
		}
	}
}

static void put_base(struct builder *bd)
{
	int i;

	put_chain(bd, "prerouting", NF_INET_PRE_ROUTING, PRIO_DSTNAT, NULL);
	put_chain(bd, "output", NF_INET_LOCAL_OUT, PRIO_DSTNAT, NULL);
	put_chain(bd, "postrouting", NF_INET_POST_ROUTING, PRIO_SRCNAT, NULL);
	put_chain(bd, "count_pre", NF_INET_PRE_ROUTING, PRIO_COUNT, NULL);
	put_chain(bd, "count_out", NF_INET_LOCAL_OUT, PRIO_COUNT, NULL);
	for (i = 0; i < 2; i++) {
		const struct fam *f = &fams[i];
		uint32_t t3 = concat_type(f->addr_type, TYPE_INET_PROTOCOL,
					  TYPE_INET_SERVICE);
		uint32_t t2 = concat_type(f->addr_type, TYPE_INET_PROTOCOL, 0);

		put_set(bd, f->svc, t3, f->addr_len + 8, true, false);
		put_set(bd, f->any, t2, f->addr_len + 4, true, false);
		put_set(bd, f->snat, t3, f->addr_len + 8, false, false);
		put_set(bd, f->snat_any, t2, f->addr_len + 4, false, false);
		put_set(bd, f->cnt, t3, f->addr_len + 8, true, false);
		put_set(bd, f->cnt_any, t2, f->addr_len + 4, true, false);
	}
}

/* A service's key as its map key: daddr . l4proto [. dport], padded. */
static uint32_t svc_map_key(const struct lb_service *s, uint8_t *key)
{
	uint32_t alen = addr_len(s->key.af);
	uint16_t port = htons(s->key.port);

	memset(key, 0, 24);
	memcpy(key, &s->key.addr, alen);
	key[alen] = s->key.proto;
	if (!s->key.port)
		return alen + 4;
	memcpy(key + alen + 4, &port, 2);
	return alen + 8;
}

/* Slots */

/*
 * rr, wrr and sh: each backend's share of the slots, in @w: rr one for
 * each backend of weight > 0, wrr and sh their weights, scaled down if
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
 * rr/wrr/sh (pass k gives a slot to every backend of share > k), the
 * Maglev table of include/viplb/maglev.h for maglev.  Its size in *n, 0
 * if no backend has a weight.
 */
uint32_t *nft_slots(const struct lb_service *s, uint32_t *n)
{
	uint32_t *w, *slots = NULL, k, len, max = 0;
	struct viplb_maglev_backend *mb;
	size_t i;

	*n = 0;
	if (s->sched == VIPLB_SCHED_MAGLEV) {
		uint32_t m = s->table_size;

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

/* The scheduler's slot number into NFT_REG32_00. */
static void add_sched(struct nftnl_rule *r, const struct lb_service *s,
		      uint32_t n)
{
	const struct fam *f = fam_of(s->key.af);
	struct nftnl_expr *e;
	uint32_t len;

	if (s->sched == VIPLB_SCHED_RR || s->sched == VIPLB_SCHED_WRR) {
		e = nft_add_expr(r, "numgen");
		if (!e)
			return;
		nftnl_expr_set_u32(e, NFTNL_EXPR_NG_DREG, NFT_REG32_00);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NG_TYPE, NFT_NG_INCREMENTAL);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NG_MODULUS, n);
		return;
	}
	if (s->sched == VIPLB_SCHED_SH) {
		nft_add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, f->saddr_off,
			    f->addr_len, NFT_REG32_00);
		len = f->addr_len;
	} else {
		/* maglev: saddr . daddr . l4proto . sport . dport */
		uint32_t reg = NFT_REG32_00 + 2 * f->addr_len / 4;

		nft_add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, f->saddr_off,
			    2 * f->addr_len, NFT_REG32_00);
		nft_add_meta(r, NFT_META_L4PROTO, reg);
		nft_add_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2, reg + 1);
		nft_add_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, reg + 2);
		len = 2 * f->addr_len + 12;
	}
	e = nft_add_expr(r, "hash");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_TYPE, NFT_HASH_JENKINS);
	nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_SREG, NFT_REG32_00);
	nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_DREG, NFT_REG32_00);
	nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_MODULUS, n);
	nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_SEED, NFT_HASH_SEED);
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

/* The chain of backend @j of service @i: a counter and its DNAT. */
static void put_backend_rule(struct builder *bd, const struct lb_service *s,
			     size_t i, size_t j)
{
	const struct lb_backend *be = &s->backends[j];
	const struct fam *f = fam_of(s->key.af);
	uint16_t port = htons(be->key.port);
	char name[NAME_LEN];
	struct nftnl_rule *r;
	struct nftnl_expr *e;

	be_chain_name(name, i, j);
	r = rule_alloc(name);
	if (!r) {
		bd->err = -ENOMEM;
		return;
	}
	nft_add_counter(r, be->stats.conns, 0);
	nft_add_imm(r, NFT_REG32_00, &be->key.addr, f->addr_len);
	if (be->key.port)
		nft_add_imm(r, reg_after(f->addr_len), &port, 2);
	e = nft_add_expr(r, "nat");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, f->nfproto);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN,
				   NFT_REG32_00);
		if (be->key.port)
			nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN,
					   reg_after(f->addr_len));
	}
	put_rule(bd, r);
}

/*
 * The counting chain of service @i: packets and bytes in (original
 * direction) and out (reply), of the service, then of each backend (by
 * the reply's source): two rules each, in that order (fetch.c).
 */
static void put_count(struct builder *bd, const struct lb_service *s, size_t i)
{
	const struct fam *f = fam_of(s->key.af);
	char name[NAME_LEN];
	struct nftnl_rule *r;
	uint8_t dir;
	size_t j;

	count_name(name, i);
	for (j = 0; j <= s->nr_backends; j++) {
		const struct lb_backend *be = j ? &s->backends[j - 1] : NULL;
		const struct lb_stats *st = be ? &be->stats : &s->stats;
		uint16_t port = be ? htons(be->key.port) : 0;

		for (dir = CT_DIR_ORIGINAL; dir <= CT_DIR_REPLY; dir++) {
			r = rule_alloc(name);
			if (!r) {
				bd->err = -ENOMEM;
				return;
			}
			if (be) {
				nft_add_ct(r, f->ct_src, CT_DIR_REPLY,
				       NFT_REG32_00);
				nft_add_cmp_eq(r, NFT_REG32_00, &be->key.addr,
					   f->addr_len);
				if (be->key.port) {
					/* (so that nft prints a port) */
					nft_add_meta(r, NFT_META_L4PROTO,
						 NFT_REG32_00);
					nft_add_cmp_eq(r, NFT_REG32_00,
						   &s->key.proto, 1);
					nft_add_ct(r, NFT_CT_PROTO_SRC,
					       CT_DIR_REPLY, NFT_REG32_00);
					nft_add_cmp_eq(r, NFT_REG32_00, &port, 2);
				}
			}
			nft_add_ct(r, NFT_CT_DIRECTION, -1, NFT_REG32_00);
			nft_add_cmp_eq(r, NFT_REG32_00, &dir, 1);
			if (dir == CT_DIR_ORIGINAL)
				nft_add_counter(r, st->pkts_in, st->bytes_in);
			else
				nft_add_counter(r, st->pkts_out, st->bytes_out);
			put_rule(bd, r);
		}
	}
}

/* Service @i: its chains (with their comments), slots and rules. */
static void put_service(struct builder *bd, const struct lb_service *s,
			size_t i)
{
	const struct fam *f = fam_of(s->key.af);
	char name[NAME_LEN], slots[NAME_LEN], cname[NAME_LEN], line[512];
	struct config_cmd cmd;
	struct elems el = { .bd = bd };
	struct nftnl_rule *r;
	uint8_t key[24];
	uint32_t *tab, n, k, klen;
	size_t j;

	chain_name(name, i);
	slots_name(slots, i);
	service_add_cmd(s, &cmd);
	put_chain(bd, name, -1, 0, format_cmd_line(line, sizeof(line), &cmd));
	for (j = 0; j < s->nr_backends; j++) {
		char be[NAME_LEN];

		backend_add_cmd(s, j, &cmd);
		be_chain_name(be, i, j);
		put_chain(bd, be, -1, 0,
			  format_cmd_line(line, sizeof(line), &cmd));
	}
	/* Recorded, not served (XDP serves dr and tun). */
	if (!nft_serves(s))
		return;

	klen = svc_map_key(s, key);
	el.set = s->key.port ? f->svc : f->any;
	elem_add(&el, key, klen, name);
	elem_flush(&el);
	count_name(cname, i);
	put_chain(bd, cname, -1, 0, NULL);
	el.set = s->key.port ? f->cnt : f->cnt_any;
	elem_add(&el, key, klen, cname);
	elem_flush(&el);
	put_count(bd, s, i);
	if (s->flags & VIPLB_SVC_F_SNAT) {
		el.set = s->key.port ? f->snat : f->snat_any;
		elem_add(&el, key, klen, NULL);
		elem_flush(&el);
	}

	tab = nft_slots(s, &n);
	if (!tab) {
		bd->err = -ENOMEM;
		return;
	}
	r = rule_alloc(name);
	if (!r) {
		free(tab);
		bd->err = -ENOMEM;
		return;
	}
	nft_add_counter(r, s->stats.conns, 0);
	if (n) {
		put_set(bd, slots, TYPE_MARK, sizeof(uint32_t), true, true);
		el.set = slots;
		for (k = 0; k < n; k++) {
			char be[NAME_LEN];

			be_chain_name(be, i, tab[k]);
			elem_add(&el, &k, sizeof(k), be);
		}
		elem_flush(&el);
		add_sched(r, s, n);
		nft_add_lookup(r, NFT_REG32_00, slots, true);
	} else {
		add_reject(r, s->key.proto);
	}
	free(tab);
	put_rule(bd, r);
	for (j = 0; j < s->nr_backends; j++)
		put_backend_rule(bd, s, i, j);
}

int nft_ruleset_build(struct nft_batch *b, const struct lb_service_list *list)
{
	struct builder bd = { .b = b };
	size_t i;

	put_table(&bd, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	put_table(&bd, NFT_MSG_DELTABLE, 0);
	/*
	 * No service, no table: its hooks would turn conntrack on in the
	 * netns for nothing.
	 */
	if (!list->nr)
		return bd.err;
	put_table(&bd, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	put_base(&bd);
	for (i = 0; i < list->nr; i++)
		put_service(&bd, &list->svcs[i], i);
	put_dispatch(&bd, "prerouting");
	put_dispatch(&bd, "output");
	put_by_orig(&bd, "postrouting", true);
	put_by_orig(&bd, "count_pre", false);
	put_by_orig(&bd, "count_out", false);
	return bd.err;
}
