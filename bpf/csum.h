/* SPDX-License-Identifier: GPL-2.0 */
/*
 * viplb XDP: Internet checksums (RFC 1071) of the headers the program
 * writes.  IPv6 has no header checksum, and neither dr nor tun touches a
 * TCP or UDP checksum: dr keeps the addresses, tun wraps the packet whole.
 */
#ifndef VIPLB_BPF_CSUM_H
#define VIPLB_BPF_CSUM_H

#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* Folds a 32-bit one's complement sum into 16 bits and complements it. */
static __always_inline __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* The one's complement sum of @words 16-bit words at @p, onto @sum. */
static __always_inline __u32 csum_add_words(const void *p, int words,
					    __u32 sum)
{
	const __u16 *w = p;
	int i;

#pragma unroll
	for (i = 0; i < words; i++)
		sum += w[i];
	return sum;
}

/* The header checksum of an IPv4 header without options. */
static __always_inline __u16 ipv4_header_csum(const struct iphdr *iph)
{
	const __u16 *word = (const __u16 *)iph;
	__u32 sum = 0;
	int i;

#pragma unroll
	for (i = 0; i < (int)sizeof(*iph) / 2; i++)
		if (i != 5) /* the checksum field itself */
			sum += word[i];
	return csum_fold(sum);
}

/*
 * Decrements the TTL and updates the checksum incrementally (RFC 1624):
 * the 16-bit word holding the TTL drops by 0x0100 in network order, so
 * its complement, the checksum, grows by as much.  The end-around carry
 * also turns 0xffff into 0, the form a full computation gives.
 */
static __always_inline void ipv4_decrement_ttl(struct iphdr *iph)
{
	__u32 check = iph->check;

	check += bpf_htons(0x0100);
	iph->check = (__u16)(check + (check >= 0xffff));
	iph->ttl--;
}

#endif /* VIPLB_BPF_CSUM_H */
