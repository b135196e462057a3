// SPDX-License-Identifier: GPL-2.0
/*
 * The rule tables in nf_tables terms: what the nf_tables datapath cannot
 * do (rt_nft_refusal(), which user/nft/rules.c asks before translating a
 * rule), and the tables in "nft -f" syntax (viplb-save --nft), the same
 * expressions as user/nft/rules.c loads, in nft's words.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "print_int.h"
#include "tables.h"

const char *rt_nft_refusal(const struct rt_table *t, const struct rt_rule *r)
{
	(void)t;
	if ((r->spec.match & r->spec.invert & VIPLB_M_IIF) &&
	    !strcmp(r->spec.iif, "+"))
		return "\"! -i +\" (no input interface) has no nf_tables form";
	if ((r->spec.match & r->spec.invert & VIPLB_M_OIF) &&
	    !strcmp(r->spec.oif, "+"))
		return "\"! -o +\" (no output interface) has no nf_tables form";
	return NULL;
}
