/* SPDX-License-Identifier: GPL-2.0 */
/*
 * viplb XDP: the replies to viplbd's tcp checks that it sent outside the
 * stack (include/viplb/xdp.h, hc_probes).  A reply that answers a check
 * in flight exactly never reaches the stack: its result goes to viplbd in
 * hc_results, and a SYN-ACK is answered here with the reset the kernel
 * would have sent for it (RFC 9293 3.10.7.1: SEQ = SEG.ACK, RST alone),
 * so that the backend drops its half-open connection.  IPv4 only.
 */
#ifndef VIPLB_BPF_HEALTH_H
#define VIPLB_BPF_HEALTH_H

#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include <viplb/xdp.h>

#include "parsing.h"
#include "tcp_reset.h"

_Static_assert(sizeof(struct ethhdr) + sizeof(struct vlan_tag) == TCP_RESET_L3_MAX,
	       "tcp_reset_synack() takes the frames parse_packet() does");

#define HC_TCP_FIN 0x01
#define HC_TCP_SYN 0x02
#define HC_TCP_RST 0x04
#define HC_TCP_ACK 0x10

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VIPLB_XDP_HC_PROBES);
	__type(key, struct viplb_xdp_hc_key);
	__type(value, struct viplb_xdp_hc_probe);
} hc_probes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, VIPLB_XDP_HC_RESULTS);
} hc_results SEC(".maps");

/*
 * A parsed IPv4 TCP packet that may answer one of viplbd's checks: XDP_TX
 * (a SYN-ACK, now its reset), XDP_DROP (a reset: a refusal), or
 * XDP_PASS for anything else, which goes on untouched.
 */
static __always_inline int hc_reply(struct xdp_md *ctx,
				    const struct packet *pkt)
{
	struct viplb_xdp_hc_result *r;
	struct viplb_xdp_hc_probe *probe;
	struct viplb_xdp_hc_key key;
	struct tcphdr *th;
	struct iphdr *iph;
	__u8 flags;
	__be32 ack;
	bool synack;

	iph = l3_header(ctx, pkt, TCP_RESET_LEN);
	if (!iph)
		return XDP_PASS;
	th = (void *)(iph + 1);
	flags = ((__u8 *)th)[13] & (HC_TCP_FIN | HC_TCP_SYN | HC_TCP_RST |
				    HC_TCP_ACK);
	synack = flags == (HC_TCP_SYN | HC_TCP_ACK);
	if (!synack && flags != (HC_TCP_RST | HC_TCP_ACK))
		return XDP_PASS;
	key.backend = iph->saddr;
	key.local = iph->daddr;
	key.backend_port = th->source;
	key.local_port = th->dest;
	ack = th->ack_seq;
	probe = bpf_map_lookup_elem(&hc_probes, &key);
	if (!probe || probe->ack != ack)
		return XDP_PASS;
	r = bpf_ringbuf_reserve(&hc_results, sizeof(*r), 0);
	if (!r)
		return XDP_PASS; /* viplbd reads it from its raw socket */
	r->key = key;
	r->reply = synack ? VIPLB_XDP_HC_SYNACK : VIPLB_XDP_HC_RST;
	r->ack = ack;
	r->rtt_ns = bpf_ktime_get_ns() - probe->sent_ns;
	bpf_ringbuf_submit(r, 0);
	bpf_map_delete_elem(&hc_probes, &key);
	if (!synack)
		return XDP_DROP;
	return tcp_reset_synack(ctx, pkt->l3_off, ack) ? XDP_DROP : XDP_TX;
}

#endif /* VIPLB_BPF_HEALTH_H */
