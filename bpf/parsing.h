/* SPDX-License-Identifier: GPL-2.0 */
/*
 * viplb XDP: packet parsing.  Ethernet with at most one 802.1Q tag, then
 * IPv4 without options or IPv6 without extension headers, then TCP or UDP.
 * Anything else is left to the stack, with the reason in the return value.
 */
#ifndef VIPLB_BPF_PARSING_H
#define VIPLB_BPF_PARSING_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include <viplb/hash.h>
#include <viplb/xdp.h>

/* Returned by parse_packet() for a packet XDP may balance. */
#define PARSE_OK (-1)

#define IPV4_MF 0x2000
#define IPV4_OFFSET 0x1fff

/* The 802.1Q tag that follows the MAC addresses (not in the UAPI). */
struct vlan_tag {
	__be16 tci;
	__be16 encap_proto;
};

/**
 * struct packet - a parsed packet
 * @l3_off: offset of the IP header (14, or 18 with a VLAN tag)
 * @af: VIPLB_FLOW_AF_INET or VIPLB_FLOW_AF_INET6
 * @ip_len: length of the IP packet, from its header
 * @tuple: the flow, also the key of the flows map
 */
struct packet {
	__u32 l3_off;
	__u8 af;
	__u32 ip_len;
	struct viplb_flow_tuple tuple;
};

/**
 * l3_header() - the IP header of a parsed packet
 * @ctx: the XDP context
 * @pkt: the packet
 * @size: bytes of header the caller reads
 *
 * The offset is bounded where the verifier sees it: it may have been
 * spilled to the stack, which loses its two possible values.
 *
 * Return: the header, or NULL if @size bytes are not in the packet.
 */
static __always_inline void *l3_header(struct xdp_md *ctx,
				       const struct packet *pkt, __u32 size)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 off = pkt->l3_off;

	asm volatile("" : "+r"(off));
	if (off > sizeof(struct ethhdr) + sizeof(struct vlan_tag))
		return NULL;
	if (data + off + size > data_end)
		return NULL;
	return data + off;
}

/*
 * An IP length as a bounded number: the verifier of older kernels (6.1)
 * does not bound the result of a byte swap, and refuses to add a number
 * it cannot bound to a packet pointer.
 */
static __always_inline __u32 bounded_len(__u32 len)
{
	asm volatile("" : "+r"(len));
	return len & 0xffff;
}

/* Reads the ports of a TCP or UDP header at @l4; false if truncated. */
static __always_inline bool parse_ports(void *l4, void *data_end, __u8 proto,
					struct packet *pkt)
{
	if (proto == IPPROTO_TCP) {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > data_end)
			return false;
		pkt->tuple.sport = th->source;
		pkt->tuple.dport = th->dest;
		return true;
	}
	if (proto == IPPROTO_UDP) {
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) > data_end)
			return false;
		pkt->tuple.sport = uh->source;
		pkt->tuple.dport = uh->dest;
		return true;
	}
	return false;
}

static __always_inline int parse_ipv4(void *data, void *data_end,
				      struct packet *pkt)
{
	struct iphdr *iph = data + pkt->l3_off;

	if ((void *)(iph + 1) > data_end || iph->version != 4)
		return VIPLB_XDP_ST_ERROR;
	if (iph->ihl != 5)
		return VIPLB_XDP_ST_IP_OPTIONS;
	if (iph->frag_off & bpf_htons(IPV4_MF | IPV4_OFFSET))
		return VIPLB_XDP_ST_FRAGMENT;
	if (iph->protocol != IPPROTO_TCP && iph->protocol != IPPROTO_UDP)
		return VIPLB_XDP_ST_NOT_L4;
	pkt->ip_len = bounded_len(bpf_ntohs(iph->tot_len));
	if (pkt->ip_len < sizeof(*iph) ||
	    (void *)iph + pkt->ip_len > data_end)
		return VIPLB_XDP_ST_ERROR;
	pkt->af = VIPLB_FLOW_AF_INET;
	viplb_flow_tuple_v4(&pkt->tuple, iph->saddr, iph->daddr, 0, 0,
			    iph->protocol);
	if (!parse_ports(iph + 1, data_end, iph->protocol, pkt))
		return VIPLB_XDP_ST_ERROR;
	return PARSE_OK;
}

static __always_inline int parse_ipv6(void *data, void *data_end,
				      struct packet *pkt)
{
	struct ipv6hdr *ip6h = data + pkt->l3_off;
	__u32 payload_len;

	if ((void *)(ip6h + 1) > data_end || ip6h->version != 6)
		return VIPLB_XDP_ST_ERROR;
	/* Extension headers (fragments included) and ICMPv6/ND: the stack. */
	if (ip6h->nexthdr != IPPROTO_TCP && ip6h->nexthdr != IPPROTO_UDP)
		return VIPLB_XDP_ST_NOT_L4;
	payload_len = bounded_len(bpf_ntohs(ip6h->payload_len));
	if ((void *)(ip6h + 1) + payload_len > data_end)
		return VIPLB_XDP_ST_ERROR;
	pkt->ip_len = sizeof(*ip6h) + payload_len;
	pkt->af = VIPLB_FLOW_AF_INET6;
	viplb_flow_tuple_v6(&pkt->tuple, ip6h->saddr.in6_u.u6_addr32,
			    ip6h->daddr.in6_u.u6_addr32, 0, 0, ip6h->nexthdr);
	if (!parse_ports(ip6h + 1, data_end, ip6h->nexthdr, pkt))
		return VIPLB_XDP_ST_ERROR;
	return PARSE_OK;
}

/**
 * parse_packet() - parse a received frame
 * @ctx: the XDP context
 * @pkt: filled for a TCP or UDP packet
 *
 * Return: PARSE_OK, or the enum viplb_xdp_stat reason to pass the packet.
 */
static __always_inline int parse_packet(struct xdp_md *ctx, struct packet *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__be16 proto;

	if ((void *)(eth + 1) > data_end)
		return VIPLB_XDP_ST_NOT_IP;
	proto = eth->h_proto;
	pkt->l3_off = sizeof(*eth);
	if (proto == bpf_htons(ETH_P_8021Q)) {
		struct vlan_tag *tag = (void *)(eth + 1);

		if ((void *)(tag + 1) > data_end)
			return VIPLB_XDP_ST_NOT_IP;
		proto = tag->encap_proto;
		pkt->l3_off += sizeof(*tag);
	}
	if (proto == bpf_htons(ETH_P_IP))
		return parse_ipv4(data, data_end, pkt);
	if (proto == bpf_htons(ETH_P_IPV6))
		return parse_ipv6(data, data_end, pkt);
	return VIPLB_XDP_ST_NOT_IP;
}

#endif /* VIPLB_BPF_PARSING_H */
