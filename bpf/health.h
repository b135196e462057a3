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

#include "csum.h"
#include "parsing.h"

#define HC_TCP_FIN 0x01
#define HC_TCP_SYN 0x02
#define HC_TCP_RST 0x04
#define HC_TCP_ACK 0x10
/* The reset: IPv4 and TCP headers, no options. */
#define HC_RESET_LEN (sizeof(struct iphdr) + sizeof(struct tcphdr))

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

/* A reset's TCP header behind its pseudo-header (RFC 9293 3.1). */
struct hc_pseudo {
	__be32 saddr;
	__be32 daddr;
	__u8 zero;
	__u8 proto;
	__be16 len;
	struct tcphdr th;
};

/* The one's complement sum of @words 16-bit words at @p, onto @sum. */
static __always_inline __u32 hc_sum(const void *p, int words, __u32 sum)
{
	const __u16 *w = p;
	int i;

#pragma unroll
	for (i = 0; i < words; i++)
		sum += w[i];
	return sum;
}

/*
 * Turns the SYN-ACK of @ctx, its IP header at @l3_off, into its reset, in
 * place: addresses and ports swapped, SEQ = @seq, options and data cut
 * off.  The link layer (tag included) is kept, its addresses swapped.
 * Returns 0, or -1 if the frame could not be cut.
 */
static __always_inline int hc_reset(struct xdp_md *ctx, __u32 l3_off,
				    __be32 seq)
{
	unsigned char mac[ETH_ALEN];
	void *data, *data_end;
	struct ethhdr *eth;
	struct tcphdr *th;
	struct iphdr *iph;
	struct hc_pseudo ph;
	__be32 addr;
	__u32 off;
	int extra;

	asm volatile("" : "+r"(l3_off));
	if (l3_off > sizeof(struct ethhdr) + sizeof(struct vlan_tag))
		return -1;
	extra = (int)(ctx->data_end - ctx->data) - (int)(l3_off + HC_RESET_LEN);
	if (extra > 0 && bpf_xdp_adjust_tail(ctx, -extra))
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	off = l3_off;
	asm volatile("" : "+r"(off));
	if (off > sizeof(struct ethhdr) + sizeof(struct vlan_tag) ||
	    data + off + HC_RESET_LEN > data_end ||
	    data + sizeof(*eth) > data_end)
		return -1;
	eth = data;
	iph = data + off;
	th = (void *)(iph + 1);

	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);

	addr = iph->saddr;
	iph->saddr = iph->daddr;
	iph->daddr = addr;
	iph->tos = 0;
	iph->tot_len = bpf_htons(HC_RESET_LEN);
	iph->id = 0;
	iph->frag_off = bpf_htons(0x4000); /* DF */
	iph->ttl = 64;
	iph->check = ipv4_header_csum(iph);

	/* The TCP header, checksummed on the stack with its pseudo-header. */
	ph.saddr = iph->saddr;
	ph.daddr = iph->daddr;
	ph.zero = 0;
	ph.proto = IPPROTO_TCP;
	ph.len = bpf_htons(sizeof(ph.th));
	__builtin_memset(&ph.th, 0, sizeof(ph.th));
	ph.th.source = th->dest;
	ph.th.dest = th->source;
	ph.th.seq = seq;
	/* Data offset 5 words, flags RST alone. */
	((__u16 *)&ph.th)[6] = bpf_htons(5 << 12 | HC_TCP_RST);
	ph.th.check = csum_fold(hc_sum(&ph, sizeof(ph) / 2, 0));
	__builtin_memcpy(th, &ph.th, sizeof(*th));
	return 0;
}

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

	iph = l3_header(ctx, pkt, HC_RESET_LEN);
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
	return hc_reset(ctx, pkt->l3_off, ack) ? XDP_DROP : XDP_TX;
}

#endif /* VIPLB_BPF_HEALTH_H */
