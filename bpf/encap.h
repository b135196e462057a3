/* SPDX-License-Identifier: GPL-2.0 */
/*
 * viplb XDP: what the forwarding modes do to a packet.
 *
 * Both act as a router forwarding the packet, as the module's dr and tun
 * transmitters do: the TTL (hop limit) is decremented first.
 *
 * dr   the IP packet is unchanged (but for the TTL); the caller rewrites
 *      the MAC addresses towards the backend.
 * tun  the packet is wrapped in an outer IPv4 (IPIP) or IPv6 (IP6IP6)
 *      header to the backend.  The outer header copies the inner TOS
 *      (traffic class and flow label) and the decremented TTL (hop limit);
 *      an IPv4 outer header also copies the DF bit and the ID.  The
 *      Ethernet header, and its VLAN tag if any, moves to the new front.
 *
 * Then the frame gets the VLAN tag its egress wants (vlan_set()).
 */
#ifndef VIPLB_BPF_ENCAP_H
#define VIPLB_BPF_ENCAP_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "csum.h"
#include "parsing.h"

#define IPV4_DF 0x4000

/* Largest link-layer header: Ethernet and one VLAN tag. */
#define L2_MAX_LEN (sizeof(struct ethhdr) + sizeof(struct vlan_tag))

/* dr: decrement the TTL or hop limit of the packet in place. */
static __always_inline int dr_rewrite(struct xdp_md *ctx,
				      const struct packet *pkt)
{
	if (pkt->af == VIPLB_FLOW_AF_INET) {
		struct iphdr *iph = l3_header(ctx, pkt, sizeof(*iph));

		if (!iph)
			return -1;
		ipv4_decrement_ttl(iph);
	} else {
		struct ipv6hdr *ip6h = l3_header(ctx, pkt, sizeof(*ip6h));

		if (!ip6h)
			return -1;
		ip6h->hop_limit--;
	}
	return 0;
}

/*
 * Makes room for an outer header of @hlen bytes and moves the link-layer
 * header to the new front.  L2_MAX_LEN bytes are always moved: without a
 * VLAN tag the last four are scratch that the outer header overwrites.
 * Returns the new data pointer, or NULL.
 */
static __always_inline void *push_outer(struct xdp_md *ctx, int hlen)
{
	void *data, *data_end;

	if (bpf_xdp_adjust_head(ctx, -hlen))
		return NULL;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + hlen + L2_MAX_LEN > data_end)
		return NULL;
	__builtin_memcpy(data, data + hlen, L2_MAX_LEN);
	return data;
}

/* tun, IPv4: IPIP from @src to the backend @dst. */
static __always_inline int encap_ipip(struct xdp_md *ctx,
				      const struct packet *pkt, __be32 src,
				      __be32 dst)
{
	const int hlen = sizeof(struct iphdr);
	struct iphdr *outer, *inner;

	if (!push_outer(ctx, hlen))
		return -1;
	outer = l3_header(ctx, pkt, 2 * hlen);
	if (!outer)
		return -1;
	inner = outer + 1;

	ipv4_decrement_ttl(inner);
	outer->version = 4;
	outer->ihl = sizeof(*outer) / 4;
	outer->tos = inner->tos;
	outer->tot_len = bpf_htons(pkt->ip_len + hlen);
	outer->id = inner->id;
	outer->frag_off = inner->frag_off & bpf_htons(IPV4_DF);
	outer->ttl = inner->ttl;
	outer->protocol = IPPROTO_IPIP;
	outer->saddr = src;
	outer->daddr = dst;
	outer->check = 0;
	outer->check = ipv4_header_csum(outer);
	return 0;
}

/* tun, IPv6: IP6IP6 from @src to the backend @dst. */
static __always_inline int encap_ip6ip6(struct xdp_md *ctx,
					const struct packet *pkt,
					const __be32 *src, const __be32 *dst)
{
	const int hlen = sizeof(struct ipv6hdr);
	struct ipv6hdr *outer, *inner;

	if (!push_outer(ctx, hlen))
		return -1;
	outer = l3_header(ctx, pkt, 2 * hlen);
	if (!outer)
		return -1;
	inner = outer + 1;

	inner->hop_limit--;
	/* Version, traffic class and flow label: the inner packet's. */
	*(__be32 *)outer = *(__be32 *)inner;
	outer->payload_len = bpf_htons(pkt->ip_len);
	outer->nexthdr = IPPROTO_IPV6;
	outer->hop_limit = inner->hop_limit;
	__builtin_memcpy(&outer->saddr, src, sizeof(outer->saddr));
	__builtin_memcpy(&outer->daddr, dst, sizeof(outer->daddr));
	return 0;
}

#define VLAN_VID_MASK 0x0fff

/*
 * Gives the frame the VLAN tag its egress wants: none (@want false), or
 * (@proto, @vid).  A tag of that VLAN is kept as it came, priority bits
 * included; another VLAN's is rewritten (priority 0), a missing one
 * pushed, an unwanted one popped.  The MAC addresses are left for the
 * caller to write: only the bytes after them are moved or written.
 */
static __always_inline int vlan_set(struct xdp_md *ctx, bool tagged,
				    bool want, __be16 proto, __u16 vid)
{
	void *data, *data_end;
	struct vlan_tag *tag;
	struct ethhdr *eth;

	/* Pop: the tag's inner type lands where h_proto was. */
	if (tagged && !want)
		return bpf_xdp_adjust_head(ctx, sizeof(*tag)) ? -1 : 0;
	if (!want)
		return 0;
	/* Push: the old h_proto lands where the tag's inner type goes. */
	if (!tagged && bpf_xdp_adjust_head(ctx, -(int)sizeof(*tag)))
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	tag = (void *)(eth + 1);
	if ((void *)(tag + 1) > data_end)
		return -1;
	if (tagged && eth->h_proto == proto &&
	    (bpf_ntohs(tag->tci) & VLAN_VID_MASK) == vid)
		return 0;
	eth->h_proto = proto;
	tag->tci = bpf_htons(vid & VLAN_VID_MASK);
	return 0;
}

#endif /* VIPLB_BPF_ENCAP_H */
