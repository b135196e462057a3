// SPDX-License-Identifier: GPL-2.0
/*
 * Expression builders shared by the services table (ruleset.c) and the
 * rule tables (rules.c): each appends one nf_tables expression to a rule.
 * An allocation failure drops the expression and sets nft_expr_nomem,
 * which a builder that cares checks once the rule is complete.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/udata.h>
#include <linux/netfilter/nf_tables.h>

#include "nft.h"

bool nft_expr_nomem;

struct nftnl_expr *nft_add_expr(struct nftnl_rule *r, const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	if (e)
		nftnl_rule_add_expr(r, e);
	else
		nft_expr_nomem = true;
	return e;
}

void nft_add_meta(struct nftnl_rule *r, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = nft_add_expr(r, "meta");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
}

void nft_add_payload(struct nftnl_rule *r, uint32_t base, uint32_t off,
		     uint32_t len, uint32_t dreg)
{
	struct nftnl_expr *e = nft_add_expr(r, "payload");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
}

void nft_add_ct(struct nftnl_rule *r, uint32_t key, int dir, uint32_t dreg)
{
	struct nftnl_expr *e = nft_add_expr(r, "ct");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	if (dir >= 0)
		nftnl_expr_set_u8(e, NFTNL_EXPR_CT_DIR, dir);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, dreg);
}

void nft_add_cmp(struct nftnl_rule *r, uint32_t sreg, uint32_t op,
		 const void *data, uint32_t len)
{
	struct nftnl_expr *e = nft_add_expr(r, "cmp");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
}

void nft_add_cmp_eq(struct nftnl_rule *r, uint32_t sreg, const void *data,
		    uint32_t len)
{
	nft_add_cmp(r, sreg, NFT_CMP_EQ, data, len);
}

/* A lookup of the key in @sreg in @set; NULL if out of memory. */
static struct nftnl_expr *add_lookup(struct nftnl_rule *r, uint32_t sreg,
				     const char *set)
{
	struct nftnl_expr *e = nft_add_expr(r, "lookup");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg);
		nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	}
	return e;
}

void nft_add_lookup(struct nftnl_rule *r, uint32_t sreg, const char *set,
		    bool vmap)
{
	struct nftnl_expr *e = add_lookup(r, sreg, set);

	if (e && vmap)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
}

void nft_add_lookup_not(struct nftnl_rule *r, uint32_t sreg, const char *set)
{
	struct nftnl_expr *e = add_lookup(r, sreg, set);

	if (e)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS,
				   NFT_LOOKUP_F_INV);
}

void nft_add_lookup_data(struct nftnl_rule *r, uint32_t sreg, const char *map,
			 uint32_t dreg)
{
	struct nftnl_expr *e = add_lookup(r, sreg, map);

	if (e)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, dreg);
}

void nft_add_update(struct nftnl_rule *r, uint32_t sreg, const char *set)
{
	struct nftnl_expr *e = nft_add_expr(r, "dynset");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, sreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
	nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, set);
}

void nft_add_imm(struct nftnl_rule *r, uint32_t dreg, const void *data,
		 uint32_t len)
{
	struct nftnl_expr *e = nft_add_expr(r, "immediate");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, dreg);
	nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, len);
}

void nft_add_counter(struct nftnl_rule *r, uint64_t pkts, uint64_t bytes)
{
	struct nftnl_expr *e = nft_add_expr(r, "counter");

	if (!e)
		return;
	nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_PACKETS, pkts);
	nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_BYTES, bytes);
}

void nft_add_bitwise(struct nftnl_rule *r, uint32_t reg, const void *mask,
		     const void *xor, uint32_t len)
{
	struct nftnl_expr *e = nft_add_expr(r, "bitwise");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, xor, len);
}

void nft_add_verdict(struct nftnl_rule *r, int verdict, const char *chain)
{
	struct nftnl_expr *e = nft_add_expr(r, "immediate");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, verdict);
	if (chain)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
}

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
	const char **comment = data;
	const char *v = nftnl_udata_get(attr);
	uint8_t len = nftnl_udata_len(attr);

	/* NFTNL_UDATA_{CHAIN,RULE,SET_ELEM}_COMMENT alike */
	if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT && len &&
	    v[len - 1] == '\0')
		*comment = v;
	return 0;
}

const char *nft_udata_comment(const void *ud, uint32_t len)
{
	const char *comment = NULL;

	nftnl_udata_parse(ud, len, comment_cb, &comment);
	return comment;
}
