// SPDX-License-Identifier: GPL-2.0
/*
 * viplb's rule tables (viplb-tables, viplb-save, viplb-restore) on
 * nf_tables: the datapath of user/tables/ when the module is not used
 * (rt_datapath, tables.h).  Each rule table is an nf_tables table of
 * viplb's own, never iptables-nft's:
 *
 *   table ip viplb_filter, table ip6 viplb_filter (type filter)
 *     INPUT, FORWARD, OUTPUT      priority filter (0)
 *   table ip viplb_nat, table ip6 viplb_nat (type nat)
 *     PREROUTING, OUTPUT          priority dstnat (-100)
 *     INPUT, POSTROUTING          priority srcnat (100)
 *   user chains under their own names
 *
 * These are iptables' priorities, as the module's rule tables; the
 * services table "inet viplb" hooks one below (-101, 99), so services
 * still come before the nat rules.  A built-in chain's policy is the base
 * chain's policy and its counters the chain's counters.
 *
 * Each rule is its matches, one counter, then its target, as nf_tables
 * expressions (xlate() below).  Its userdata comment is the rule as
 * "viplb-save" prints it, without "-A CHAIN ": read back, that text is
 * parsed again, translated again, and the result must be the rule's
 * expressions, or the rule was changed outside viplb and reading the
 * table fails, naming it.  So viplb-save prints what the module's
 * datapath prints for the same rules, and never something the kernel
 * does not do.
 *
 * A load is one batch, which the kernel applies whole or not at all,
 * tagged with the ruleset generation the tables were read at (a change
 * in between fails it, and the command reads again).  A table that
 * exists is changed in place (load_in_place()): its kept rules are not
 * touched and keep their counters and nth position (-Z resets counters
 * after the batch, zero_rules()).  Else it is added
 * (so that the delete cannot fail), deleted and added again whole, the
 * counters starting at the values read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_conntrack_tuple_common.h>
#include <linux/netfilter/nfnetlink.h>

#include "nft.h"
#include "nl.h"
#include "tables.h"
#include "util.h"

#define MSG(t) ((NFNL_SUBSYS_NFTABLES << 8) | (t))

#define PRIO_FILTER 0
#define PRIO_DSTNAT (-100)
#define PRIO_SRCNAT 100

/* A rule's text: one userdata attribute (2-byte header, NUL included). */
#define TEXT_MAX (NFT_USERDATA_MAXLEN - 3)

/* nft's type of a port (inet_service), and of two concatenated. */
#define TYPE_INET_SERVICE 13
#define TYPE_BITS 6

/* conntrack state bits as "ct state" has them (NF_CT_STATE_*). */
#define CT_INVALID 1U
#define CT_ESTABLISHED 2U
#define CT_RELATED 4U
#define CT_NEW 8U
#define CT_UNTRACKED 64U

/* The byte of the TCP flags in the TCP header. */
#define TCP_FLAGS_OFF 13

static const char *table_name(uint32_t id)
{
	return id == VIPLB_RTABLE_NAT ? "viplb_nat" : "viplb_filter";
}

static uint16_t nf_family(uint16_t af)
{
	return af == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
}

static int hook_prio(uint32_t id, int hook)
{
	if (id != VIPLB_RTABLE_NAT)
		return PRIO_FILTER;
	return hook == VIPLB_HOOK_PREROUTING || hook == VIPLB_HOOK_OUTPUT ?
		       PRIO_DSTNAT :
		       PRIO_SRCNAT;
}

/* Translation */

/* What xlate() builds: the rule, and the anonymous set of a multiport. */
struct xlate {
	struct nftnl_rule *r;
	uint16_t af;
	uint32_t id; /* the table */
	struct nftnl_set *set; /* NULL when only checking */
	bool want_set;
	uint32_t set_id;
};

static uint32_t cmp_op(const struct rt_rule *r, uint32_t m)
{
	return (r->spec.invert & m) ? NFT_CMP_NEQ : NFT_CMP_EQ;
}

static void x_addr(struct xlate *x, const struct rt_rule *r, bool src)
{
	const struct viplb_rule_spec *s = &r->spec;
	uint32_t m = src ? VIPLB_M_SRC : VIPLB_M_DST;
	const __be32 *a = src ? s->src : s->dst;
	const __be32 *mask = src ? s->src_mask : s->dst_mask;
	uint32_t len = x->af == AF_INET6 ? 16 : 4, off, i;
	__be32 val[4], zero[4] = { 0 };
	bool full = true;

	if (x->af == AF_INET6)
		off = src ? 8 : 24;
	else
		off = src ? 12 : 16;
	for (i = 0; i < len / 4; i++) {
		val[i] = a[i] & mask[i];
		full &= mask[i] == 0xffffffff;
	}
	nft_add_payload(x->r, NFT_PAYLOAD_NETWORK_HEADER, off, len, NFT_REG_1);
	if (!full)
		nft_add_bitwise(x->r, NFT_REG_1, mask, zero, len);
	nft_add_cmp(x->r, NFT_REG_1, cmp_op(r, m), val, len);
}

/* -i, -o: the whole name, or "eth+" as the prefix "eth". */
static void x_ifname(struct xlate *x, const struct rt_rule *r, bool in)
{
	const char *name = in ? r->spec.iif : r->spec.oif;
	uint32_t m = in ? VIPLB_M_IIF : VIPLB_M_OIF;
	size_t n = strnlen(name, IFNAMSIZ);
	char buf[IFNAMSIZ] = { 0 };

	memcpy(buf, name, n);
	if (n && name[n - 1] == '+') {
		/* "+" alone matches every name: no expression. */
		if (n == 1)
			return;
		n--;
	} else {
		n = IFNAMSIZ;
	}
	nft_add_meta(x->r, in ? NFT_META_IIFNAME : NFT_META_OIFNAME, NFT_REG_1);
	nft_add_cmp(x->r, NFT_REG_1, cmp_op(r, m), buf, n);
}

/* reg 1 in [lo, hi] (network byte order, len bytes), or not with inv. */
static void x_range(struct xlate *x, bool inv, const void *lo, const void *hi,
		    uint32_t len)
{
	struct nftnl_expr *e;

	if (!memcmp(lo, hi, len)) {
		nft_add_cmp(x->r, NFT_REG_1, inv ? NFT_CMP_NEQ : NFT_CMP_EQ, lo,
			    len);
		return;
	}
	e = nft_add_expr(x->r, "range");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_OP,
			   inv ? NFT_RANGE_NEQ : NFT_RANGE_EQ);
	nftnl_expr_set(e, NFTNL_EXPR_RANGE_FROM_DATA, lo, len);
	nftnl_expr_set(e, NFTNL_EXPR_RANGE_TO_DATA, hi, len);
}

/* --sport, --dport: one port, or an inclusive range. */
static void x_port(struct xlate *x, const struct rt_rule *r, bool src)
{
	const uint16_t *p = src ? r->spec.sport : r->spec.dport;
	uint32_t m = src ? VIPLB_M_SPORT : VIPLB_M_DPORT;
	uint16_t lo = htons(p[0]), hi = htons(p[1]);

	nft_add_payload(x->r, NFT_PAYLOAD_TRANSPORT_HEADER, src ? 0 : 2, 2,
			NFT_REG_1);
	x_range(x, r->spec.invert & m, &lo, &hi, 2);
}

/* --syn, --tcp-flags: (flags & mask) == cmp. */
static void x_tcp_flags(struct xlate *x, const struct rt_rule *r)
{
	uint8_t mask, cmp, zero = 0;
	uint32_t bit;

	rt_tcp_flags(&r->spec, &mask, &cmp, &bit);
	nft_add_payload(x->r, NFT_PAYLOAD_TRANSPORT_HEADER, TCP_FLAGS_OFF, 1,
			NFT_REG_1);
	nft_add_bitwise(x->r, NFT_REG_1, &mask, &zero, 1);
	nft_add_cmp(x->r, NFT_REG_1, cmp_op(r, bit), &cmp, 1);
}

static int cmp_range(const void *a, const void *b)
{
	const uint16_t *x = a, *y = b;

	return x[0] != y[0] ? x[0] - y[0] : x[1] - y[1];
}

/* The multiport ranges sorted, overlapping and adjacent ones merged. */
static size_t merged_ranges(const struct viplb_rule_spec *s,
			    uint16_t out[VIPLB_MPORTS_MAX][2])
{
	uint16_t tmp[VIPLB_MPORTS_MAX][2];
	size_t i, n = 0;

	memcpy(tmp, s->mports, sizeof(tmp));
	qsort(tmp, s->n_mports, sizeof(tmp[0]), cmp_range);
	for (i = 0; i < s->n_mports; i++) {
		if (n && (uint32_t)out[n - 1][1] + 1 >= tmp[i][0]) {
			if (tmp[i][1] > out[n - 1][1])
				out[n - 1][1] = tmp[i][1];
			continue;
		}
		out[n][0] = tmp[i][0];
		out[n++][1] = tmp[i][1];
	}
	return n;
}

static int set_elem(struct nftnl_set *set, const void *key, const void *end,
		    uint32_t len, uint32_t flags)
{
	struct nftnl_set_elem *el = nftnl_set_elem_alloc();

	if (!el)
		return -ENOMEM;
	nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, key, len);
	if (end)
		nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY_END, end, len);
	if (flags)
		nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_FLAGS, flags);
	nftnl_set_elem_add(set, el);
	return 0;
}

/* A concatenated "port . port" key: each field padded to 4 bytes. */
static void concat_key(uint8_t key[8], uint16_t a, uint16_t b)
{
	uint16_t ba = htons(a), bb = htons(b);

	memset(key, 0, 8);
	memcpy(key, &ba, 2);
	memcpy(key + 4, &bb, 2);
}

/*
 * The anonymous interval set of a multiport match: its ports, or for
 * --ports (either port) "sport . dport" pairs, each range beside any port.
 */
static int mports_set(struct xlate *x, const struct rt_rule *r, bool both)
{
	uint16_t ranges[VIPLB_MPORTS_MAX][2];
	size_t i, n = merged_ranges(&r->spec, ranges);
	struct nftnl_set *s = nftnl_set_alloc();
	uint32_t flags = NFT_SET_ANONYMOUS | NFT_SET_CONSTANT |
			 NFT_SET_INTERVAL;

	if (!s)
		return -ENOMEM;
	x->set = s;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table_name(x->id));
	nftnl_set_set_str(s, NFTNL_SET_NAME, "__set%d");
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, nf_family(x->af));
	nftnl_set_set_u32(s, NFTNL_SET_ID, x->set_id);
	if (both) {
		static const uint8_t fields[] = { 2, 2 };
		uint8_t key[8], end[8];

		nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags | NFT_SET_CONCAT);
		nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE,
				  TYPE_INET_SERVICE << TYPE_BITS |
					  TYPE_INET_SERVICE);
		nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 8);
		nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, fields,
				   sizeof(fields));
		for (i = 0; i < n; i++) {
			concat_key(key, ranges[i][0], 0);
			concat_key(end, ranges[i][1], 0xffff);
			if (set_elem(s, key, end, 8, 0))
				return -ENOMEM;
			concat_key(key, 0, ranges[i][0]);
			concat_key(end, 0xffff, ranges[i][1]);
			if (set_elem(s, key, end, 8, 0))
				return -ENOMEM;
		}
		return 0;
	}
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, TYPE_INET_SERVICE);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 2);
	/* Interval starts, each closed by an end one past its last port. */
	for (i = 0; i < n; i++) {
		uint16_t lo = htons(ranges[i][0]), next;

		if (set_elem(s, &lo, NULL, 2, 0))
			return -ENOMEM;
		if (ranges[i][1] == 0xffff)
			continue;
		next = htons(ranges[i][1] + 1);
		if (set_elem(s, &next, NULL, 2, NFT_SET_ELEM_INTERVAL_END))
			return -ENOMEM;
	}
	return 0;
}

static int x_mports(struct xlate *x, const struct rt_rule *r)
{
	bool both = r->spec.mport_flags ==
		    (VIPLB_MPORT_SRC | VIPLB_MPORT_DST);
	struct nftnl_expr *e;
	uint32_t sreg = NFT_REG_1;

	if (both) {
		/* The kernel names 32-bit register 0 NFT_REG_1 in dumps. */
		nft_add_payload(x->r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2,
				NFT_REG_1);
		nft_add_payload(x->r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2,
				NFT_REG32_01);
	} else {
		nft_add_payload(x->r, NFT_PAYLOAD_TRANSPORT_HEADER,
				(r->spec.mport_flags & VIPLB_MPORT_SRC) ? 0 : 2,
				2, NFT_REG_1);
	}
	e = nft_add_expr(x->r, "lookup");
	if (!e)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, "__set%d");
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, x->set_id);
	if (r->spec.invert & VIPLB_M_MPORTS)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS,
				   NFT_LOOKUP_F_INV);
	return x->want_set ? mports_set(x, r, both) : 0;
}

static uint32_t ct_bits(uint8_t states)
{
	uint32_t bits = 0;

	if (states & VIPLB_CTSTATE_INVALID)
		bits |= CT_INVALID;
	if (states & VIPLB_CTSTATE_NEW)
		bits |= CT_NEW;
	if (states & VIPLB_CTSTATE_ESTABLISHED)
		bits |= CT_ESTABLISHED;
	if (states & VIPLB_CTSTATE_RELATED)
		bits |= CT_RELATED;
	if (states & VIPLB_CTSTATE_UNTRACKED)
		bits |= CT_UNTRACKED;
	return bits;
}

/*
 * --ctstate, --state: one of the states, (state & bits) != 0.  SNAT and
 * DNAT (alone, rt_nft_refusal()) are bits of "ct status".
 */
static void x_ctstate(struct xlate *x, const struct rt_rule *r)
{
	uint32_t bits = ct_bits(r->spec.ctstate), zero = 0, key = NFT_CT_STATE;
	bool inv = r->spec.invert & VIPLB_M_CTSTATE;

	if (r->spec.ctstate & (VIPLB_CTSTATE_SNAT | VIPLB_CTSTATE_DNAT)) {
		key = NFT_CT_STATUS;
		bits = rt_nft_nat_status(r->spec.ctstate);
	}
	nft_add_ct(x->r, key, -1, NFT_REG_1);
	nft_add_bitwise(x->r, NFT_REG_1, &bits, &zero, 4);
	nft_add_cmp(x->r, NFT_REG_1, inv ? NFT_CMP_EQ : NFT_CMP_NEQ, &zero, 4);
}

/*
 * The options of -m conntrack besides --ctstate.  A packet without a
 * conntrack entry matches none of these "ct" expressions; rt_nft_refusal()
 * refuses the rules in which xt_conntrack would match it.  --ctexpire's
 * seconds (of nf_ct_expires() / HZ) are the ms of "ct expiration" from
 * N * 1000 to M * 1000 + 999.
 */
static void x_conntrack(struct xlate *x, const struct rt_rule *r)
{
	const struct viplb_rule_spec *s = &r->spec;
	uint32_t m = s->ct_match, inv = s->ct_invert, zero = 0, i, v[2];
	uint32_t len = x->af == AF_INET6 ? 16 : 4;
	__be32 val[4], zero4[4] = { 0 };
	uint16_t port[2];
	uint8_t dir;

	if (m & VIPLB_CT_PROTO) {
		nft_add_ct(x->r, NFT_CT_PROTOCOL, -1, NFT_REG_1);
		nft_add_cmp(x->r, NFT_REG_1,
			    inv & VIPLB_CT_PROTO ? NFT_CMP_NEQ : NFT_CMP_EQ,
			    &s->ct_proto, 1);
	}
	for (i = 0; i < VIPLB_CT_TUPLES; i++) {
		bool dst = i == VIPLB_CT_ORIG_DST || i == VIPLB_CT_REPL_DST;
		uint32_t bit = VIPLB_CT_ORIGSRC << i, key, j;

		if (!(m & bit))
			continue;
		if (x->af == AF_INET6)
			key = dst ? NFT_CT_DST_IP6 : NFT_CT_SRC_IP6;
		else
			key = dst ? NFT_CT_DST_IP : NFT_CT_SRC_IP;
		for (j = 0; j < 4; j++)
			val[j] = s->ct_addr[i][j] & s->ct_mask[i][j];
		dir = i < VIPLB_CT_REPL_SRC ? IP_CT_DIR_ORIGINAL :
					      IP_CT_DIR_REPLY;
		nft_add_ct(x->r, key, dir, NFT_REG_1);
		nft_add_bitwise(x->r, NFT_REG_1, s->ct_mask[i], zero4, len);
		nft_add_cmp(x->r, NFT_REG_1,
			    inv & bit ? NFT_CMP_NEQ : NFT_CMP_EQ, val, len);
	}
	for (i = 0; i < VIPLB_CT_TUPLES; i++) {
		bool dst = i == VIPLB_CT_ORIG_DST || i == VIPLB_CT_REPL_DST;
		uint32_t bit = VIPLB_CT_ORIGSRC_PORT << i;

		if (!(m & bit))
			continue;
		dir = i < VIPLB_CT_REPL_SRC ? IP_CT_DIR_ORIGINAL :
					      IP_CT_DIR_REPLY;
		nft_add_ct(x->r, dst ? NFT_CT_PROTO_DST : NFT_CT_PROTO_SRC,
			   dir, NFT_REG_1);
		port[0] = htons(s->ct_port[i][0]);
		port[1] = htons(s->ct_port[i][1]);
		x_range(x, inv & bit, &port[0], &port[1], 2);
	}
	if (m & VIPLB_CT_STATUS) {
		v[0] = s->ct_status; /* the kernel's IPS_* bits */
		nft_add_ct(x->r, NFT_CT_STATUS, -1, NFT_REG_1);
		nft_add_bitwise(x->r, NFT_REG_1, &v[0], &zero, 4);
		nft_add_cmp(x->r, NFT_REG_1,
			    inv & VIPLB_CT_STATUS ? NFT_CMP_EQ : NFT_CMP_NEQ,
			    &zero, 4);
	}
	if (m & VIPLB_CT_EXPIRE) {
		struct nftnl_expr *e;

		nft_add_ct(x->r, NFT_CT_EXPIRATION, -1, NFT_REG_1);
		e = nft_add_expr(x->r, "byteorder");
		if (!e)
			return;
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_OP,
				   NFT_BYTEORDER_HTON);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_LEN, 4);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SIZE, 4);
		rt_nft_expire_ms(s->ct_expire, v);
		v[0] = htonl(v[0]);
		v[1] = htonl(v[1]);
		x_range(x, inv & VIPLB_CT_EXPIRE, &v[0], &v[1], 4);
	}
	if (m & VIPLB_CT_DIR) {
		/* --ctdir ORIGINAL, and inverted REPLY */
		dir = inv & VIPLB_CT_DIR ? IP_CT_DIR_REPLY : IP_CT_DIR_ORIGINAL;
		nft_add_ct(x->r, NFT_CT_DIRECTION, -1, NFT_REG_1);
		nft_add_cmp(x->r, NFT_REG_1, NFT_CMP_EQ, &dir, 1);
	}
}

static void x_mark(struct xlate *x, const struct rt_rule *r)
{
	uint32_t zero = 0;

	nft_add_meta(x->r, NFT_META_MARK, NFT_REG_1);
	nft_add_bitwise(x->r, NFT_REG_1, &r->spec.mark_mask, &zero, 4);
	nft_add_cmp(x->r, NFT_REG_1, cmp_op(r, VIPLB_M_MARK), &r->spec.mark, 4);
}

/*
 * nth: "numgen inc mod every", the packet-th of each every matches, as
 * xt_statistic.  random: (random & 0x7fffffff) < prob, as xt_statistic,
 * compared in network byte order.
 */
static void x_statistic(struct xlate *x, const struct rt_rule *r)
{
	bool inv = r->spec.invert & VIPLB_M_STATISTIC;
	struct nftnl_expr *e;
	uint32_t mask = htonl(0x7fffffff), zero = 0, prob;

	if (r->spec.stat_mode == VIPLB_STAT_NTH) {
		e = nft_add_expr(x->r, "numgen");
		if (!e)
			return;
		nftnl_expr_set_u32(e, NFTNL_EXPR_NG_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NG_MODULUS,
				   r->spec.stat_every);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NG_TYPE, NFT_NG_INCREMENTAL);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NG_OFFSET, 0);
		nft_add_cmp(x->r, NFT_REG_1, cmp_op(r, VIPLB_M_STATISTIC),
			    &r->spec.stat_packet, 4);
		return;
	}
	nft_add_meta(x->r, NFT_META_PRANDOM, NFT_REG_1);
	e = nft_add_expr(x->r, "byteorder");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_OP, NFT_BYTEORDER_HTON);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_LEN, 4);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SIZE, 4);
	nft_add_bitwise(x->r, NFT_REG_1, &mask, &zero, 4);
	prob = htonl(r->spec.stat_prob);
	nft_add_cmp(x->r, NFT_REG_1, inv ? NFT_CMP_GTE : NFT_CMP_LT, &prob, 4);
}

static int x_match(struct xlate *x, const struct rt_rule *r, uint8_t kind)
{
	switch (kind) {
	case RT_ORDER_TCP:
	case RT_ORDER_UDP:
		if (r->spec.match & VIPLB_M_SPORT)
			x_port(x, r, true);
		if (r->spec.match & VIPLB_M_DPORT)
			x_port(x, r, false);
		if (r->spec.match & (VIPLB_M_SYN | VIPLB_M_TCP_FLAGS))
			x_tcp_flags(x, r);
		return 0;
	case RT_ORDER_MULTIPORT:
		return x_mports(x, r);
	case RT_ORDER_CONNTRACK:
	case RT_ORDER_STATE:
		if (r->spec.match & VIPLB_M_CTSTATE)
			x_ctstate(x, r);
		if (r->spec.match & VIPLB_M_CONNTRACK)
			x_conntrack(x, r);
		return 0;
	case RT_ORDER_MARK:
		x_mark(x, r);
		return 0;
	case RT_ORDER_STATISTIC:
		x_statistic(x, r);
		return 0;
	default: /* comment: the rule's text has it */
		return 0;
	}
}

static uint32_t reject_code(uint16_t af, uint32_t with)
{
	static const uint8_t icmp[] = {
		[VIPLB_REJECT_PORT_UNREACH] = 3, /* ICMP_PORT_UNREACH */
		[VIPLB_REJECT_HOST_UNREACH] = 1, /* ICMP_HOST_UNREACH */
		[VIPLB_REJECT_ADMIN_PROHIBITED] = 13, /* ICMP_PKT_FILTERED */
		[VIPLB_REJECT_NET_UNREACH] = 0, /* ICMP_NET_UNREACH */
		[VIPLB_REJECT_PROTO_UNREACH] = 2, /* ICMP_PROT_UNREACH */
		[VIPLB_REJECT_NET_PROHIBITED] = 9, /* ICMP_NET_ANO */
		[VIPLB_REJECT_HOST_PROHIBITED] = 10, /* ICMP_HOST_ANO */
	};
	static const uint8_t icmp6[] = {
		[VIPLB_REJECT_PORT_UNREACH] = 4, /* ICMPV6_PORT_UNREACH */
		[VIPLB_REJECT_HOST_UNREACH] = 3, /* ICMPV6_ADDR_UNREACH */
		[VIPLB_REJECT_ADMIN_PROHIBITED] = 1, /* ICMPV6_ADM_PROHIBITED */
		[VIPLB_REJECT_NET_UNREACH] = 0, /* ICMPV6_NOROUTE */
		[VIPLB_REJECT_POLICY_FAIL] = 5, /* ICMPV6_POLICY_FAIL */
		[VIPLB_REJECT_REJECT_ROUTE] = 6, /* ICMPV6_REJECT_ROUTE */
	};

	if (af == AF_INET6)
		return with < ARRAY_SIZE(icmp6) ? icmp6[with] : 0;
	return with < ARRAY_SIZE(icmp) ? icmp[with] : 0;
}

static uint32_t nat_flags(const struct viplb_rule_spec *s)
{
	uint32_t f = 0;

	if (s->nat_flags & VIPLB_NAT_F_RANDOM)
		f |= NF_NAT_RANGE_PROTO_RANDOM;
	if (s->nat_flags & VIPLB_NAT_F_RANDOM_FULLY)
		f |= NF_NAT_RANGE_PROTO_RANDOM_FULLY;
	if (s->nat_flags & VIPLB_NAT_F_PERSISTENT)
		f |= NF_NAT_RANGE_PERSISTENT;
	return f;
}

/* The port range of a NAT target into registers 3 and 4 (if a range). */
static bool nat_ports(struct xlate *x, const struct viplb_rule_spec *s)
{
	uint16_t lo = htons(s->nat_port_min), hi = htons(s->nat_port_max);

	if (!(s->nat_flags & VIPLB_NAT_F_PORTS))
		return false;
	nft_add_imm(x->r, NFT_REG_3, &lo, 2);
	if (hi != lo)
		nft_add_imm(x->r, NFT_REG_4, &hi, 2);
	return true;
}

static void x_nat(struct xlate *x, const struct rt_rule *r)
{
	const struct viplb_rule_spec *s = &r->spec;
	uint32_t len = x->af == AF_INET6 ? 16 : 4;
	uint32_t flags = nat_flags(s);
	bool addr = s->nat_flags & VIPLB_NAT_F_ADDR;
	bool range = addr && memcmp(s->nat_min, s->nat_max, len);
	struct nftnl_expr *e;
	bool ports;

	if (addr) {
		nft_add_imm(x->r, NFT_REG_1, s->nat_min, len);
		if (range)
			nft_add_imm(x->r, NFT_REG_2, s->nat_max, len);
		flags |= NF_NAT_RANGE_MAP_IPS;
	}
	ports = nat_ports(x, s);
	if (ports)
		flags |= NF_NAT_RANGE_PROTO_SPECIFIED;
	e = nft_add_expr(x->r, "nat");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE,
			   s->verdict == VIPLB_V_DNAT ? NFT_NAT_DNAT :
							NFT_NAT_SNAT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, nf_family(x->af));
	if (addr) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MAX,
				   range ? NFT_REG_2 : NFT_REG_1);
	}
	if (ports) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_3);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MAX,
				   s->nat_port_max != s->nat_port_min ?
					   NFT_REG_4 :
					   NFT_REG_3);
	}
	if (flags)
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FLAGS, flags);
}

/* MASQUERADE and REDIRECT: ports and flags only. */
static void x_masq_redir(struct xlate *x, const struct rt_rule *r)
{
	const struct viplb_rule_spec *s = &r->spec;
	bool masq = s->verdict == VIPLB_V_MASQUERADE;
	uint32_t flags = nat_flags(s);
	struct nftnl_expr *e;
	bool ports = nat_ports(x, s);

	if (ports)
		flags |= NF_NAT_RANGE_PROTO_SPECIFIED;
	e = nft_add_expr(x->r, masq ? "masq" : "redir");
	if (!e)
		return;
	if (ports) {
		nftnl_expr_set_u32(e,
				   masq ? NFTNL_EXPR_MASQ_REG_PROTO_MIN :
					  NFTNL_EXPR_REDIR_REG_PROTO_MIN,
				   NFT_REG_3);
		nftnl_expr_set_u32(e,
				   masq ? NFTNL_EXPR_MASQ_REG_PROTO_MAX :
					  NFTNL_EXPR_REDIR_REG_PROTO_MAX,
				   s->nat_port_max != s->nat_port_min ?
					   NFT_REG_4 :
					   NFT_REG_3);
	}
	if (flags)
		nftnl_expr_set_u32(e,
				   masq ? NFTNL_EXPR_MASQ_FLAGS :
					  NFTNL_EXPR_REDIR_FLAGS,
				   flags);
}

static void x_target(struct xlate *x, const struct rt_rule *r)
{
	const struct viplb_rule_spec *s = &r->spec;
	struct nftnl_expr *e;
	uint32_t mask;

	switch (s->verdict) {
	case VIPLB_V_ACCEPT:
		nft_add_verdict(x->r, NF_ACCEPT, NULL);
		break;
	case VIPLB_V_DROP:
		nft_add_verdict(x->r, NF_DROP, NULL);
		break;
	case VIPLB_V_RETURN:
		nft_add_verdict(x->r, NFT_RETURN, NULL);
		break;
	case VIPLB_V_JUMP:
		nft_add_verdict(x->r, NFT_JUMP, r->target);
		break;
	case VIPLB_V_GOTO:
		nft_add_verdict(x->r, NFT_GOTO, r->target);
		break;
	case VIPLB_V_REJECT:
		e = nft_add_expr(x->r, "reject");
		if (!e)
			break;
		if (s->reject_with == VIPLB_REJECT_TCP_RESET) {
			nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE,
					   NFT_REJECT_TCP_RST);
			break;
		}
		nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE,
				   NFT_REJECT_ICMP_UNREACH);
		nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE,
				  reject_code(x->af, s->reject_with));
		break;
	case VIPLB_V_DNAT:
	case VIPLB_V_SNAT:
		x_nat(x, r);
		break;
	case VIPLB_V_MASQUERADE:
	case VIPLB_V_REDIRECT:
		x_masq_redir(x, r);
		break;
	case VIPLB_V_MARK:
		/* mark = (mark & ~mask) ^ value, as MARK --set-xmark */
		mask = ~s->set_mark_mask;
		nft_add_meta(x->r, NFT_META_MARK, NFT_REG_1);
		nft_add_bitwise(x->r, NFT_REG_1, &mask, &s->set_mark, 4);
		e = nft_add_expr(x->r, "meta");
		if (!e)
			break;
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_MARK);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, NFT_REG_1);
		break;
	default: /* no target */
		break;
	}
}

/*
 * The expressions of rule r into x->r: matches in the order the rule
 * keeps them (the order iptables evaluates them, which matters for nth),
 * the counter, the target.  NULL, or why it cannot be done.
 */
static const char *xlate(struct xlate *x, const struct rt_table *t,
			 const struct rt_rule *r)
{
	uint8_t kinds[RT_ORDER_KINDS];
	size_t i, n;
	const char *why = rt_nft_refusal(t, r);

	if (why)
		return why;
	nft_expr_nomem = false;
	if (r->spec.match & VIPLB_M_IIF)
		x_ifname(x, r, true);
	if (r->spec.match & VIPLB_M_OIF)
		x_ifname(x, r, false);
	if (r->spec.match & VIPLB_M_PROTO) {
		nft_add_meta(x->r, NFT_META_L4PROTO, NFT_REG_1);
		nft_add_cmp(x->r, NFT_REG_1, cmp_op(r, VIPLB_M_PROTO),
			    &r->spec.proto, 1);
	}
	if (r->spec.match & VIPLB_M_SRC)
		x_addr(x, r, true);
	if (r->spec.match & VIPLB_M_DST)
		x_addr(x, r, false);
	n = rt_match_order(r, kinds);
	for (i = 0; i < n; i++)
		if (x_match(x, r, kinds[i]))
			nft_expr_nomem = true;
	nft_add_counter(x->r, r->pkts, r->bytes);
	x_target(x, r);
	return nft_expr_nomem ? strerror(ENOMEM) : NULL;
}

/*
 * What the last read of each table found in the kernel: its chains and,
 * in order, its rules' handles and texts, at ruleset generation gen.  A
 * load of that table at that generation changes it in place.
 */
struct seen_chain {
	char name[VIPLB_CHAIN_NAME_MAX];
	uint32_t policy; /* built-in chains: VIPLB_V_* */
	bool kept; /* by the load being built */
};

struct seen_rule {
	uint64_t handle;
	size_t chain; /* index in chains */
	char *text;
	bool kept; /* by the load being built */
};

struct seen {
	bool valid;
	uint32_t gen;
	struct seen_chain *chains;
	size_t nr_chains, cap_chains;
	struct seen_rule *rules;
	size_t nr_rules, cap_rules;
};

static struct seen seen_tables[2][VIPLB_RTABLE_MAX + 1];

static struct seen *seen_of(uint16_t af, uint32_t id)
{
	return &seen_tables[af == AF_INET6][id];
}

static void seen_reset(struct seen *s)
{
	size_t i;

	for (i = 0; i < s->nr_rules; i++)
		free(s->rules[i].text);
	free(s->rules);
	free(s->chains);
	memset(s, 0, sizeof(*s));
}

static long seen_chain(const struct seen *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nr_chains; i++)
		if (!strcmp(s->chains[i].name, name))
			return i;
	return -1;
}

/* Loading */

/* What each message of a load was, to name it in errors. */
struct load_item {
	uint32_t seq;
	const struct rt_table *table;
	const struct rt_chain *chain;
	const struct rt_rule *rule;
	size_t rule_num;
};

/* A rule kept in place whose counters -Z zeroes, after the batch. */
struct zero_item {
	const struct rt_table *table;
	const struct rt_chain *chain;
	const struct rt_rule *rule;
	size_t rule_num;
};

struct load {
	struct nft_batch *b;
	struct load_item *items;
	size_t nr, cap;
	struct zero_item *zeroes;
	size_t nr_zeroes, cap_zeroes;
	uint32_t set_id;
	int err;
};

/* Queue a message; the caller builds its payload and calls done. */
static struct nlmsghdr *load_msg(struct load *l, uint16_t type,
				 uint16_t flags, size_t len,
				 const struct load_item *it)
{
	struct nlmsghdr *nlh;

	if (l->err)
		return NULL;
	if (grow_array(l->items, l->nr, l->cap, 256)) {
		l->err = -ENOMEM;
		return NULL;
	}
	nlh = nft_batch_msg_af(l->b, MSG(type), nf_family(it->table->af),
			       flags, len);
	if (!nlh) {
		l->err = -ENOMEM;
		return NULL;
	}
	l->items[l->nr] = *it;
	l->items[l->nr++].seq = nlh->nlmsg_seq;
	return nlh;
}

static void load_table_msg(struct load *l, const struct rt_table *t,
			   uint16_t type)
{
	struct load_item it = { .table = t };
	struct nftnl_table *nt = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!nt) {
		l->err = -ENOMEM;
		return;
	}
	nftnl_table_set_str(nt, NFTNL_TABLE_NAME, table_name(t->id));
	nftnl_table_set_u32(nt, NFTNL_TABLE_FAMILY, nf_family(t->af));
	nlh = load_msg(l, type, type == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0,
		       256, &it);
	if (nlh) {
		nftnl_table_nlmsg_build_payload(nlh, nt);
		nft_batch_done(l->b, nlh);
	}
	nftnl_table_free(nt);
}

static void load_chain(struct load *l, const struct rt_table *t,
		       const struct rt_chain *c)
{
	struct load_item it = { .table = t, .chain = c };
	struct nftnl_chain *nc = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	if (!nc) {
		l->err = -ENOMEM;
		return;
	}
	nftnl_chain_set_str(nc, NFTNL_CHAIN_TABLE, table_name(t->id));
	nftnl_chain_set_str(nc, NFTNL_CHAIN_NAME, c->name);
	nftnl_chain_set_u32(nc, NFTNL_CHAIN_FAMILY, nf_family(t->af));
	if (c->hook != RT_USER_CHAIN) {
		nftnl_chain_set_u32(nc, NFTNL_CHAIN_HOOKNUM, c->hook);
		nftnl_chain_set_s32(nc, NFTNL_CHAIN_PRIO,
				    hook_prio(t->id, c->hook));
		nftnl_chain_set_str(nc, NFTNL_CHAIN_TYPE,
				    t->id == VIPLB_RTABLE_NAT ? "nat" :
								"filter");
		nftnl_chain_set_u32(nc, NFTNL_CHAIN_POLICY,
				    c->policy == VIPLB_V_DROP ? NF_DROP :
								NF_ACCEPT);
		nftnl_chain_set_u64(nc, NFTNL_CHAIN_PACKETS, c->pkts);
		nftnl_chain_set_u64(nc, NFTNL_CHAIN_BYTES, c->bytes);
	}
	nlh = load_msg(l, NFT_MSG_NEWCHAIN, NLM_F_CREATE, 1024, &it);
	if (nlh) {
		nftnl_chain_nlmsg_build_payload(nlh, nc);
		nft_batch_done(l->b, nlh);
	}
	nftnl_chain_free(nc);
}

/* The rule's text, "viplb-save" without "-A CHAIN ", into @buf. */
static const char *rule_text(const struct rt_table *t, const struct rt_chain *c,
			     const struct rt_rule *r, struct rt_text *tx)
{
	size_t skip = strlen("-A ") + strlen(c->name);

	rt_text_rule(tx, t, c, r, false);
	if (tx->len > skip && tx->s[skip] == ' ')
		skip++;
	return tx->s + (tx->len >= skip ? skip : tx->len);
}

static char too_long[128];

/*
 * One rule, and first its multiport set: appended to its chain, or
 * inserted before the rule of handle @before if not 0, or in place of
 * the rule of handle @replace if not 0.  Why it was refused, or NULL.
 */
static const char *load_rule(struct load *l, const struct rt_table *t,
			     const struct rt_chain *c, const struct rt_rule *r,
			     size_t num, uint64_t before, uint64_t replace)
{
	struct load_item it = {
		.table = t, .chain = c, .rule = r, .rule_num = num
	};
	struct xlate x = { .af = t->af, .id = t->id, .want_set = true };
	struct nftnl_udata_buf *ud;
	struct nlmsghdr *nlh;
	struct rt_text tx;
	const char *why = NULL, *text = rule_text(t, c, r, &tx);

	if (strlen(text) > TEXT_MAX) {
		snprintf(too_long, sizeof(too_long),
			 "the rule is %zu characters long in iptables form; nf_tables keeps at most %d with a rule",
			 strlen(text), TEXT_MAX);
		return too_long;
	}
	x.r = nftnl_rule_alloc();
	ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	if (!x.r || !ud) {
		l->err = -ENOMEM;
		goto out;
	}
	x.set_id = ++l->set_id;
	nftnl_rule_set_str(x.r, NFTNL_RULE_TABLE, table_name(t->id));
	nftnl_rule_set_str(x.r, NFTNL_RULE_CHAIN, c->name);
	nftnl_rule_set_u32(x.r, NFTNL_RULE_FAMILY, nf_family(t->af));
	why = xlate(&x, t, r);
	if (why) {
		if (nft_expr_nomem)
			l->err = -ENOMEM;
		goto out;
	}
	nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, text);
	nftnl_rule_set_data(x.r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud),
			    nftnl_udata_buf_len(ud));
	if (before)
		nftnl_rule_set_u64(x.r, NFTNL_RULE_POSITION, before);
	if (replace)
		nftnl_rule_set_u64(x.r, NFTNL_RULE_HANDLE, replace);
	if (x.set) {
		nlh = load_msg(l, NFT_MSG_NEWSET, NLM_F_CREATE, 1024, &it);
		if (nlh) {
			nftnl_set_nlmsg_build_payload(nlh, x.set);
			nft_batch_done(l->b, nlh);
		}
		nlh = load_msg(l, NFT_MSG_NEWSETELEM, NLM_F_CREATE, 4096, &it);
		if (nlh) {
			nftnl_set_elems_nlmsg_build_payload(nlh, x.set);
			nft_batch_done(l->b, nlh);
		}
	}
	nlh = load_msg(l, NFT_MSG_NEWRULE,
		       replace	       ? NLM_F_REPLACE :
		       before	       ? NLM_F_CREATE :
					 NLM_F_CREATE | NLM_F_APPEND,
		       4096, &it);
	if (nlh) {
		nftnl_rule_nlmsg_build_payload(nlh, x.r);
		nft_batch_done(l->b, nlh);
	}
out:
	if (ud)
		nftnl_udata_buf_free(ud);
	if (x.set)
		nftnl_set_free(x.set);
	if (x.r)
		nftnl_rule_free(x.r);
	return l->err ? NULL : why;
}

/* Refused: say which rule, and why. */
static const char *refuse(struct rt_load_fail *fail, const struct rt_table *t,
			  const struct rt_chain *c, size_t j, const char *why)
{
	fail->table = t;
	fail->chain = c;
	fail->rule = &c->rules[j];
	fail->rule_num = j + 1;
	fail->why = why;
	return why;
}

/* The table whole: add it, delete it, add it again with everything. */
static const char *load_whole(struct load *l, const struct rt_table *t,
			      const size_t *order, struct rt_load_fail *fail)
{
	const char *why = NULL;
	size_t i, j;

	load_table_msg(l, t, NFT_MSG_NEWTABLE);
	load_table_msg(l, t, NFT_MSG_DELTABLE);
	/*
	 * Nothing to hook: deleted, not written (its base chains would turn
	 * conntrack on for nothing), as the module unhooks an empty table;
	 * read back, a missing table is that empty table.
	 */
	if (rt_table_empty(t))
		return NULL;
	load_table_msg(l, t, NFT_MSG_NEWTABLE);
	for (i = 0; i < t->nr_chains; i++)
		load_chain(l, t, &t->chains[order[i]]);
	for (i = 0; i < t->nr_chains && !why && !l->err; i++) {
		const struct rt_chain *c = &t->chains[order[i]];

		for (j = 0; j < c->nr_rules && !why && !l->err; j++) {
			why = load_rule(l, t, c, &c->rules[j], j + 1, 0, 0);
			if (why)
				refuse(fail, t, c, j, why);
		}
	}
	return why;
}

static void del_rule(struct load *l, const struct rt_table *t,
		     const struct seen *s, const struct seen_rule *sr)
{
	struct load_item it = { .table = t };
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh;

	if (!r) {
		l->err = -ENOMEM;
		return;
	}
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table_name(t->id));
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, s->chains[sr->chain].name);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, nf_family(t->af));
	nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, sr->handle);
	nlh = load_msg(l, NFT_MSG_DELRULE, 0, 512, &it);
	if (nlh) {
		nftnl_rule_nlmsg_build_payload(nlh, r);
		nft_batch_done(l->b, nlh);
	}
	nftnl_rule_free(r);
}

static void del_chain(struct load *l, const struct rt_table *t,
		      const char *name)
{
	struct load_item it = { .table = t };
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	if (!c) {
		l->err = -ENOMEM;
		return;
	}
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table_name(t->id));
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, nf_family(t->af));
	nlh = load_msg(l, NFT_MSG_DELCHAIN, 0, 512, &it);
	if (nlh) {
		nftnl_chain_nlmsg_build_payload(nlh, c);
		nft_batch_done(l->b, nlh);
	}
	nftnl_chain_free(c);
}

/*
 * The seen rule that rule r of chain c keeps in place, or NULL: a rule
 * still holding the handle it was read with, in the same chain, with the
 * same text, its counters untouched or zeroed (-Z), after the last one
 * kept (a kept rule cannot move).
 */
static struct seen_rule *kept_rule(struct seen *s, const struct rt_table *t,
				   const struct rt_chain *c,
				   const struct rt_rule *r, size_t *after)
{
	struct rt_text tx;
	size_t k;

	if (!r->has_handle || (r->set_counters && (r->pkts || r->bytes)))
		return NULL;
	for (k = *after; k < s->nr_rules; k++) {
		struct seen_rule *sr = &s->rules[k];

		if (sr->handle != r->handle)
			continue;
		if (strcmp(s->chains[sr->chain].name, c->name) ||
		    strcmp(sr->text, rule_text(t, c, r, &tx)))
			return NULL;
		*after = k + 1;
		return sr;
	}
	return NULL;
}

static int zero_later(struct load *l, const struct rt_table *t,
		      const struct rt_chain *c, size_t j)
{
	if (grow_array(l->zeroes, l->nr_zeroes, l->cap_zeroes, 16)) {
		l->err = -ENOMEM;
		return -1;
	}
	l->zeroes[l->nr_zeroes++] = (struct zero_item){ t, c, &c->rules[j],
							j + 1 };
	return 0;
}

/*
 * The table changed in place, as it was read (s): new and changed
 * chains added, the rules no longer there deleted, new rules inserted
 * before the next rule kept, chains no longer there deleted.  Rules kept
 * keep their counters and their nth position, as with the module.
 */
static const char *load_in_place(struct load *l, const struct rt_table *t,
				 const size_t *order, struct seen *s,
				 struct rt_load_fail *fail)
{
	/* Per rule j of chain order[i]: the handle it keeps, or 0. */
	uint64_t **keep = calloc(t->nr_chains, sizeof(*keep));
	const char *why = NULL;
	size_t i, j, k;

	if (!keep) {
		l->err = -ENOMEM;
		return NULL;
	}
	for (i = 0; i < s->nr_chains; i++)
		s->chains[i].kept = false;
	for (i = 0; i < s->nr_rules; i++)
		s->rules[i].kept = false;
	for (i = 0; i < t->nr_chains && !l->err; i++) {
		const struct rt_chain *c = &t->chains[order[i]];
		size_t after = 0;

		keep[i] = calloc(c->nr_rules + 1, sizeof(**keep));
		if (!keep[i]) {
			l->err = -ENOMEM;
			break;
		}
		for (j = 0; j < c->nr_rules; j++) {
			struct seen_rule *sr =
				kept_rule(s, t, c, &c->rules[j], &after);

			if (sr) {
				sr->kept = true;
				keep[i][j] = sr->handle;
			}
			if (sr && c->rules[j].set_counters &&
			    zero_later(l, t, c, j))
				break;
		}
	}
	for (i = 0; i < t->nr_chains; i++) {
		const struct rt_chain *c = &t->chains[order[i]];
		long sc = seen_chain(s, c->name);

		if (sc >= 0)
			s->chains[sc].kept = true;
		if (sc < 0 || c->set_counters ||
		    (c->hook != RT_USER_CHAIN && c->policy != s->chains[sc].policy))
			load_chain(l, t, c);
	}
	for (k = 0; k < s->nr_rules; k++)
		if (!s->rules[k].kept)
			del_rule(l, t, s, &s->rules[k]);
	for (i = 0; i < t->nr_chains && !why && !l->err; i++) {
		const struct rt_chain *c = &t->chains[order[i]];
		uint64_t *before = calloc(c->nr_rules + 1, sizeof(*before));

		if (!before) {
			l->err = -ENOMEM;
			break;
		}
		/* before[j]: the next rule kept after rule j, 0 if none. */
		for (j = c->nr_rules; j-- > 0;)
			before[j] = keep[i][j + 1] ?: before[j + 1];
		/* New rules: in order, each before it (or appended). */
		for (j = 0; j < c->nr_rules && !why && !l->err; j++) {
			if (keep[i][j])
				continue;
			why = load_rule(l, t, c, &c->rules[j], j + 1, before[j],
					0);
			if (why)
				refuse(fail, t, c, j, why);
		}
		free(before);
	}
	for (i = 0; i < s->nr_chains; i++)
		if (!s->chains[i].kept)
			del_chain(l, t, s->chains[i].name);
	for (i = 0; i < t->nr_chains; i++)
		free(keep[i]);
	free(keep);
	return why;
}

/*
 * In place if the table was read at this generation, exists, and is not
 * emptied; else whole (a new table; an emptied one is deleted).
 * In place, a base chain is never deleted: a packet runs either its old
 * rules or its new ones.  Deleted and added again, it would be on its
 * hook twice for one commit, the new one first, and a packet crossing
 * the commit between the two would run neither's rules.
 */
static const char *load_table(struct load *l, const struct rt_table *t,
			      struct rt_load_fail *fail)
{
	struct seen *s = seen_of(t->af, t->id);
	size_t *order = rt_chain_order(t);
	const char *why;

	if (!order) {
		l->err = -ENOMEM;
		return NULL;
	}
	if (s->valid && t->has_gen && s->gen == t->gen && s->nr_chains &&
	    !rt_table_empty(t))
		why = load_in_place(l, t, order, s, fail);
	else
		why = load_whole(l, t, order, fail);
	free(order);
	return why;
}

/*
 * Zero the counters of the rules -Z kept in place, now that the batch is
 * in: NFT_MSG_GETRULE_RESET, which leaves the rule (its nth position)
 * alone.  A kernel without it (before Linux 6.3 or so) gets a second
 * batch that replaces each rule by itself, new counters and all.
 */
static int zero_rules(struct load *l, struct rt_load_fail *fail)
{
	struct nft_batch *b;
	size_t i;
	int ret = 0;

	for (i = 0; i < l->nr_zeroes && !ret; i++) {
		const struct zero_item *z = &l->zeroes[i];

		ret = nft_rule_reset(nf_family(z->table->af),
				     table_name(z->table->id), z->chain->name,
				     z->rule->handle);
		if (ret) {
			fail->table = z->table;
			fail->chain = z->chain;
			fail->rule = z->rule;
			fail->rule_num = z->rule_num;
		}
	}
	if (ret != -EOPNOTSUPP && ret != -EINVAL)
		return ret;
	b = nft_batch_new();
	if (!b)
		return -ENOMEM;
	nft_batch_free(l->b);
	l->b = b;
	for (i = 0; i < l->nr_zeroes && !l->err; i++) {
		const struct zero_item *z = &l->zeroes[i];

		load_rule(l, z->table, z->chain, z->rule, z->rule_num, 0,
			  z->rule->handle);
	}
	return l->err ? l->err : nft_batch_send(l->b);
}

static int nft_rules_load(struct rt_table *const *tables, size_t n,
			  struct nl_error *err, struct rt_load_fail *fail)
{
	struct load l = { 0 };
	uint32_t seq = 0, gen = 0;
	bool have_gen = false;
	size_t i;
	int ret;

	memset(fail, 0, sizeof(*fail));
	memset(err, 0, sizeof(*err));
	/* Every table read must be of one generation, still the current. */
	for (i = 0; i < n; i++) {
		if (!tables[i]->has_gen)
			continue;
		if (have_gen && tables[i]->gen != gen) {
			err->error = EAGAIN;
			fail->commit = true;
			return -1;
		}
		gen = tables[i]->gen;
		have_gen = true;
	}
	l.b = nft_batch_new();
	if (!l.b)
		l.err = -ENOMEM;
	else if (have_gen)
		l.err = nft_batch_genid(l.b, gen);
	for (i = 0; i < n && !l.err && !fail->why; i++)
		load_table(&l, tables[i], fail);
	if (fail->why) {
		err->error = EOPNOTSUPP;
		ret = -1;
		goto out;
	}
	ret = l.err ? l.err : nft_batch_send_at(l.b, &seq);
	if (!ret && l.nr_zeroes) {
		ret = zero_rules(&l, fail);
		if (ret) {
			err->error = -ret;
			err->syscall = "zeroing the counters";
			ret = -1;
			goto out;
		}
	}
	if (ret == -ERESTART) {
		/* Changed since it was read: the caller reads it again. */
		err->error = EAGAIN;
		fail->commit = true;
		ret = -1;
	} else if (ret) {
		err->error = -ret;
		if (l.err)
			err->syscall = "building the nf_tables batch";
		fail->commit = true;
		for (i = 0; i < l.nr; i++) {
			if (l.items[i].seq != seq)
				continue;
			fail->commit = false;
			fail->table = l.items[i].table;
			fail->chain = l.items[i].chain;
			fail->rule = l.items[i].rule;
			fail->rule_num = l.items[i].rule_num;
		}
		ret = -1;
	}
out:
	nft_batch_free(l.b);
	free(l.items);
	free(l.zeroes);
	return ret;
}

/* Reading back */

struct dump {
	struct rt_table *t;
	struct seen *seen;
	const char *table;
	uint16_t family;
	struct rt_tokens tok;
	char why[512]; /* the first problem found */
	int err;
};

/* Remember a chain of the table, for a load in place. */
static int see_chain(struct dump *d, const struct rt_chain *c)
{
	struct seen *s = d->seen;
	struct seen_chain *sc;

	if (grow_array(s->chains, s->nr_chains, s->cap_chains, 16))
		return -ENOMEM;
	sc = &s->chains[s->nr_chains++];
	memset(sc, 0, sizeof(*sc));
	snprintf(sc->name, sizeof(sc->name), "%s", c->name);
	sc->policy = c->policy;
	return 0;
}

/* And a rule, with the text it was checked against. */
static int see_rule(struct dump *d, const struct rt_chain *c, uint64_t handle,
		    const char *text)
{
	struct seen *s = d->seen;
	struct seen_rule *sr;
	long chain = seen_chain(s, c->name);

	if (chain < 0)
		return 0; /* a chain without its own message: not kept */
	if (grow_array(s->rules, s->nr_rules, s->cap_rules, 64))
		return -ENOMEM;
	sr = &s->rules[s->nr_rules];
	sr->text = strdup(text);
	if (!sr->text)
		return -ENOMEM;
	sr->handle = handle;
	sr->chain = chain;
	sr->kept = false;
	s->nr_rules++;
	return 0;
}

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	struct nftnl_chain *nc = nftnl_chain_alloc();
	struct rt_chain *c;
	const char *name;

	if (!nc)
		return MNL_CB_ERROR;
	if (nftnl_chain_nlmsg_parse(nlh, nc) < 0 ||
	    strcmp(nftnl_chain_get_str(nc, NFTNL_CHAIN_TABLE) ?: "", d->table))
		goto out;
	name = nftnl_chain_get_str(nc, NFTNL_CHAIN_NAME);
	if (!name || d->err || d->why[0])
		goto out;
	c = rt_find_chain(d->t, name);
	if (!c && rt_builtin_hook(d->t->id, name) == RT_USER_CHAIN &&
	    strlen(name) < VIPLB_CHAIN_NAME_MAX) {
		c = rt_add_chain(d->t, name);
		if (!c || see_chain(d, c))
			d->err = -ENOMEM;
		goto out;
	}
	if (!c || c->hook == RT_USER_CHAIN ||
	    !nftnl_chain_is_set(nc, NFTNL_CHAIN_HOOKNUM) ||
	    nftnl_chain_get_u32(nc, NFTNL_CHAIN_HOOKNUM) != (uint32_t)c->hook) {
		snprintf(d->why, sizeof(d->why),
			 "chain %s of nf_tables table %s %s is not one viplb made",
			 name, d->family == NFPROTO_IPV6 ? "ip6" : "ip",
			 d->table);
		goto out;
	}
	c->policy = nftnl_chain_get_u32(nc, NFTNL_CHAIN_POLICY) == NF_DROP ?
			    VIPLB_V_DROP :
			    VIPLB_V_ACCEPT;
	c->pkts = nftnl_chain_get_u64(nc, NFTNL_CHAIN_PACKETS);
	c->bytes = nftnl_chain_get_u64(nc, NFTNL_CHAIN_BYTES);
	if (see_chain(d, c))
		d->err = -ENOMEM;
out:
	nftnl_chain_free(nc);
	return MNL_CB_OK;
}

/* The expression as libnftnl prints it. */
static void expr_str(char *buf, size_t len, const struct nftnl_expr *e)
{
	nftnl_expr_snprintf(buf, len, e, NFTNL_OUTPUT_DEFAULT, 0);
}

/*
 * Whether @got (dumped) has the expressions of @want (translated again),
 * but for the counters' values and the names anonymous sets got; its
 * counter's values into *pkts and *bytes.
 */
static bool same_exprs(struct nftnl_rule *got, struct nftnl_rule *want,
		       uint64_t *pkts, uint64_t *bytes)
{
	struct nftnl_expr_iter *ig = nftnl_expr_iter_create(got);
	struct nftnl_expr_iter *iw = nftnl_expr_iter_create(want);
	struct nftnl_expr *g, *w;
	char a[512], b[512];
	bool same = ig && iw;

	while (same) {
		g = nftnl_expr_iter_next(ig);
		w = nftnl_expr_iter_next(iw);
		if (!g || !w) {
			same = !g && !w;
			break;
		}
		if (strcmp(nftnl_expr_get_str(g, NFTNL_EXPR_NAME),
			   nftnl_expr_get_str(w, NFTNL_EXPR_NAME))) {
			same = false;
		} else if (!strcmp(nftnl_expr_get_str(g, NFTNL_EXPR_NAME),
				   "counter")) {
			*pkts = nftnl_expr_get_u64(g, NFTNL_EXPR_CTR_PACKETS);
			*bytes = nftnl_expr_get_u64(g, NFTNL_EXPR_CTR_BYTES);
		} else if (!strcmp(nftnl_expr_get_str(g, NFTNL_EXPR_NAME),
				   "lookup")) {
			same = nftnl_expr_get_u32(g, NFTNL_EXPR_LOOKUP_SREG) ==
				       nftnl_expr_get_u32(
					       w, NFTNL_EXPR_LOOKUP_SREG) &&
			       nftnl_expr_get_u32(g, NFTNL_EXPR_LOOKUP_FLAGS) ==
				       nftnl_expr_get_u32(
					       w, NFTNL_EXPR_LOOKUP_FLAGS);
		} else {
			expr_str(a, sizeof(a), g);
			expr_str(b, sizeof(b), w);
			same = !strcmp(a, b);
		}
	}
	if (ig)
		nftnl_expr_iter_destroy(ig);
	if (iw)
		nftnl_expr_iter_destroy(iw);
	return same;
}

/* Translate @r again, through the netlink encoding as the kernel reads it. */
static struct nftnl_rule *translate_again(const struct rt_table *t,
					  const struct rt_rule *r)
{
	static char buf[16384];
	struct xlate x = { .af = t->af, .id = t->id };
	struct nftnl_rule *again = NULL;
	struct nlmsghdr *nlh;

	x.r = nftnl_rule_alloc();
	if (!x.r || xlate(&x, t, r))
		goto out;
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWRULE, nf_family(t->af), 0,
				    0);
	nftnl_rule_nlmsg_build_payload(nlh, x.r);
	again = nftnl_rule_alloc();
	if (again && nftnl_rule_nlmsg_parse(nlh, again) < 0) {
		nftnl_rule_free(again);
		again = NULL;
	}
out:
	if (x.r)
		nftnl_rule_free(x.r);
	return again;
}

/* The rule back from its text; 0, or -1 with d->why set. */
static int rule_from_text(struct dump *d, struct rt_chain *c,
			  struct nftnl_rule *nr, const char *text)
{
	struct rt_parse_env env = {
		.restore = true,
		.af = d->t->af,
		.table = d->t->id,
	};
	char line[RT_TEXT_MAX + 64];
	struct nftnl_rule *want = NULL;
	struct rt_cmd cmd;
	int len, ret = -1;

	memset(&cmd, 0, sizeof(cmd));
	len = snprintf(line, sizeof(line), "-A %s %s", c->name, text);
	if (rt_tokenize(&d->tok, line, len) ||
	    rt_parse_args(d->tok.argc, d->tok.argv, &env, &cmd) ||
	    cmd.cmds != RT_CMD_APPEND)
		goto out;
	want = translate_again(d->t, &cmd.rule);
	if (!want ||
	    !same_exprs(nr, want, &cmd.rule.pkts, &cmd.rule.bytes))
		goto out;
	cmd.rule.handle = nftnl_rule_get_u64(nr, NFTNL_RULE_HANDLE);
	cmd.rule.has_handle = true;
	cmd.rule.line = 0;
	if (rt_insert_rule(c, c->nr_rules, &cmd.rule) ||
	    see_rule(d, c, cmd.rule.handle, text))
		d->err = -ENOMEM;
	ret = 0;
out:
	if (want)
		nftnl_rule_free(want);
	rt_cmd_free(&cmd);
	return ret;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	struct nftnl_rule *nr = nftnl_rule_alloc();
	const char *chain, *text = NULL;
	struct rt_chain *c;
	uint32_t len;
	const void *u;

	if (!nr)
		return MNL_CB_ERROR;
	if (nftnl_rule_nlmsg_parse(nlh, nr) < 0 ||
	    strcmp(nftnl_rule_get_str(nr, NFTNL_RULE_TABLE) ?: "", d->table) ||
	    d->err || d->why[0])
		goto out;
	chain = nftnl_rule_get_str(nr, NFTNL_RULE_CHAIN);
	c = chain ? rt_find_chain(d->t, chain) : NULL;
	u = nftnl_rule_get_data(nr, NFTNL_RULE_USERDATA, &len);
	if (u)
		text = nft_udata_comment(u, len);
	if (!c || !text || rule_from_text(d, c, nr, text)) {
		snprintf(d->why, sizeof(d->why),
			 "rule %zu (handle %llu) of chain %s in nf_tables table %s %s was not written by viplb or was changed since",
			 c ? c->nr_rules + 1 : 0,
			 (unsigned long long)nftnl_rule_get_u64(
				 nr, NFTNL_RULE_HANDLE),
			 chain ?: "?",
			 d->family == NFPROTO_IPV6 ? "ip6" : "ip", d->table);
	}
out:
	nftnl_rule_free(nr);
	return MNL_CB_OK;
}

static char dump_why[512];

#define DUMP_TRIES 5

static int nft_rules_dump(uint16_t af, uint32_t id, struct rt_table *t,
			  struct nl_error *err)
{
	struct dump d = {
		.t = t,
		.seen = seen_of(af, id),
		.table = table_name(id),
		.family = nf_family(af),
	};
	int ret;

	uint32_t gen, gen_after;
	int tries;

	memset(err, 0, sizeof(*err));
	/* Chains and rules are two dumps: of one generation, or again. */
	for (tries = 0; tries < DUMP_TRIES; tries++) {
		if (rt_table_init(t, af, id)) {
			err->error = ENOMEM;
			err->syscall = "dump";
			return -1;
		}
		d.err = 0;
		d.why[0] = '\0';
		seen_reset(d.seen);
		ret = nft_genid(&gen);
		if (!ret)
			ret = nft_dump_af(MSG(NFT_MSG_GETCHAIN), d.family,
					  chain_cb, &d);
		if (!ret && !d.err && !d.why[0])
			ret = nft_dump_af(MSG(NFT_MSG_GETRULE), d.family,
					  rule_cb, &d);
		if (!ret)
			ret = nft_genid(&gen_after);
		/* EINTR: the ruleset changed during a dump (NLM_F_DUMP_INTR). */
		if ((ret && ret != -EINTR) || d.err || (!ret && gen == gen_after))
			break;
		rt_table_free(t);
	}
	rt_tokens_free(&d.tok);
	if (tries == DUMP_TRIES)
		ret = -EAGAIN;
	t->gen = gen;
	t->has_gen = true;
	if (!ret && d.err)
		ret = d.err;
	if (ret) {
		err->error = -ret;
		err->syscall = "reading nf_tables";
	} else if (d.why[0]) {
		snprintf(dump_why, sizeof(dump_why), "%s", d.why);
		err->error = EBADMSG;
		err->syscall = dump_why;
		ret = -1;
	} else {
		rt_update_refs(t);
		d.seen->valid = true;
		d.seen->gen = gen;
		return 0;
	}
	seen_reset(d.seen);
	rt_table_free(t);
	return -1;
}

const struct rt_datapath nft_rules_datapath = {
	.name = "nf_tables",
	.dump = nft_rules_dump,
	.load = nft_rules_load,
};
