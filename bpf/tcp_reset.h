/* SPDX-License-Identifier: GPL-2.0 */
/*
 * XDP: a SYN-ACK turned, in place, into the reset the kernel would have
 * sent for it (RFC 9293 3.10.7.1: SEQ = SEG.ACK, RST alone), to go back
 * out with XDP_TX.  viplb's replies to viplbd's checks (health.h) and
 * the bench's floor prober (bench/syn_floor_xdp.bpf.c) share it.
 */
#ifndef VIPLB_BPF_TCP_RESET_H
#define VIPLB_BPF_TCP_RESET_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "csum.h"

/* The reset: IPv4 and TCP headers, no options. */
#define TCP_RESET_LEN (sizeof(struct iphdr) + sizeof(struct tcphdr))
/* The IP header's furthest offset: Ethernet and one 802.1Q tag. */
#define TCP_RESET_L3_MAX (ETH_HLEN + 4)

/* A reset's TCP header behind its pseudo-header (RFC 9293 3.1). */
struct tcp_reset_pseudo {
	__be32 saddr;
	__be32 daddr;
	__u8 zero;
	__u8 proto;
	__be16 len;
	struct tcphdr th;
};

/*
 * Turns the SYN-ACK of @ctx, its IP header at @l3_off, into its reset, in
 * place: addresses and ports swapped, SEQ = @seq, options and data cut
 * off.  The link layer (tag included) is kept, its addresses swapped.
 * Returns 0, or -1 if the frame could not be cut.
 */
static __always_inline int tcp_reset_synack(struct xdp_md *ctx, __u32 l3_off,
					    __be32 seq)
{
	unsigned char mac[ETH_ALEN];
	void *data, *data_end;
	struct ethhdr *eth;
	struct tcphdr *th;
	struct iphdr *iph;
	struct tcp_reset_pseudo ph;
	__be32 addr;
	__u32 off;
	int extra;

	asm volatile("" : "+r"(l3_off));
	if (l3_off > TCP_RESET_L3_MAX)
		return -1;
	extra = (int)(ctx->data_end - ctx->data) - (int)(l3_off + TCP_RESET_LEN);
	if (extra > 0 && bpf_xdp_adjust_tail(ctx, -extra))
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	off = l3_off;
	asm volatile("" : "+r"(off));
	if (off > TCP_RESET_L3_MAX ||
	    data + off + TCP_RESET_LEN > data_end ||
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
	iph->tot_len = bpf_htons(TCP_RESET_LEN);
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
	((__u16 *)&ph.th)[6] = bpf_htons(5 << 12 | 0x04);
	ph.th.check = csum_fold(csum_add_words(&ph, sizeof(ph) / 2, 0));
	__builtin_memcpy(th, &ph.th, sizeof(*th));
	return 0;
}

#endif /* VIPLB_BPF_TCP_RESET_H */
