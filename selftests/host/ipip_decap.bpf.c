// SPDX-License-Identifier: GPL-2.0
/*
 * Test helper, for xdp_onearm_test.sh: what the ipip or ip6tnl device of
 * a tun real server does, for a host kernel that has neither.  An IPIP
 * (IPv4 in IPv4) or IP6IP6 packet loses its outer header and goes on to
 * the stack as the inner packet; anything else goes on untouched.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

/* The length of the outer header to strip, or 0. */
static __always_inline int outer_len(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6h;
	struct iphdr *iph;

	if ((void *)(eth + 1) > data_end)
		return 0;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		iph = (void *)(eth + 1);
		if ((void *)(iph + 1) > data_end)
			return 0;
		return iph->ihl == 5 && iph->protocol == IPPROTO_IPIP ?
			       sizeof(*iph) : 0;
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		ip6h = (void *)(eth + 1);
		if ((void *)(ip6h + 1) > data_end)
			return 0;
		return ip6h->nexthdr == IPPROTO_IPV6 ? sizeof(*ip6h) : 0;
	}
	return 0;
}

SEC("xdp")
int ipip_decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr eth, *new_eth;
	int len = outer_len(data, data_end);

	if (!len)
		return XDP_PASS;
	/* The Ethernet header moves over the outer header; same type. */
	__builtin_memcpy(&eth, data, sizeof(eth));
	if (bpf_xdp_adjust_head(ctx, len))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	new_eth = data;
	if ((void *)(new_eth + 1) > data_end)
		return XDP_DROP;
	__builtin_memcpy(new_eth, &eth, sizeof(eth));
	return XDP_PASS;
}

/*
 * For the bridge's port facing a native-mode XDP device: a veth flushes
 * the frames XDP_TX sends it only if the peer has an XDP program.
 */
SEC("xdp/pass")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}
