// SPDX-License-Identifier: GPL-2.0
/*
 * service lookup on nf_tables: the backend a new flow gets, computed as
 * the kernel computes it for sh and maglev.  nft's hash expression is
 * reciprocal_scale(jhash(key, len, seed), modulus) over the registers the
 * rule loaded (ruleset.c, add_sched()): viplb_flow_hash() or
 * viplb_src_hash() and viplb_maglev_slot() of include/viplb, the same
 * functions as the module's and XDP's.  rr and wrr follow a counter in
 * the kernel: they have no answer here.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <linux/viplb.h>
#include <viplb/hash.h>
#include <viplb/maglev.h>

#include "errors.h"
#include "nft.h"

/* The flow as the module and XDP hash it. */
static void lookup_tuple(const struct lb_service *s, const struct flow_src *src,
			 uint16_t dport, struct viplb_flow_tuple *t)
{
	__be32 sa[4] = { 0 }, da[4] = { 0 };

	memcpy(sa, &src->addr, addr_len(s->key.af));
	memcpy(da, &s->key.addr, addr_len(s->key.af));
	if (s->key.af == AF_INET6)
		viplb_flow_tuple_v6(t, sa, da, htons(src->port), htons(dport),
				    s->key.proto);
	else
		viplb_flow_tuple_v4(t, sa[0], da[0], htons(src->port),
				    htons(dport), s->key.proto);
}

int nft_lookup(const struct config_cmd *cmd, struct lookup_reply *r)
{
	struct lb_service_list list;
	const struct lb_service *s;
	struct viplb_flow_tuple t;
	uint32_t *slots, n, h;
	char what[256];

	format_cmd(what, sizeof(what), cmd);
	if (nft_fetch(&cmd->svc, false, what, &list))
		return -1;
	s = &list.svcs[0];
	if (s->sched != VIPLB_SCHED_SH && s->sched != VIPLB_SCHED_MAGLEV) {
		errmsg("%s: sched %s on nf_tables follows a counter in the kernel: only sh and maglev have an answer",
		       what, sched_name(s->sched));
		free_services(&list);
		return -1;
	}
	memset(r, 0, sizeof(*r));
	r->got = true;
	r->key = cmd->svc;
	r->src = cmd->src;
	r->dport = cmd->has & HAS_DPORT ? cmd->dport : cmd->svc.port;
	r->pin = VIPLB_PIN_NONE;
	slots = nft_slots(s, &n);
	if (!slots) {
		errmsg("%s: %s", what, strerror(ENOMEM));
		free_services(&list);
		return -1;
	}
	if (n) {
		lookup_tuple(s, &cmd->src, r->dport, &t);
		h = s->sched == VIPLB_SCHED_SH ? viplb_src_hash(&t) :
						 viplb_flow_hash(&t);
		h = viplb_maglev_slot(h, n);
		r->has_backend = true;
		r->be = s->backends[slots[h]];
	}
	free(slots);
	free_services(&list);
	return 0;
}
