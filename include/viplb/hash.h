/* SPDX-License-Identifier: GPL-2.0 */
/*
 * viplb: the flow hash, shared verbatim by the kernel module, the XDP
 * program and the user tools, so that all three pick the same backend for
 * the same flow.
 *
 * Only <linux/types.h> is used: no libc, no kernel helpers, no BPF
 * helpers.  Every function is static __always_inline and every loop runs a
 * fixed number of times, so the BPF verifier accepts the code.
 *
 * The algorithm (viplb_hash32) is a MurmurHash3-style hash over 32-bit
 * words, written for viplb:
 *
 *	h = seed
 *	for each word k:
 *		k *= 0xcc9e2d51; k = rol32(k, 15); k *= 0x1b873593
 *		h ^= k; h = rol32(h, 13); h = h * 5 + 0xe6546b64
 *	h ^= 4 * number of words
 *	h ^= h >> 16; h *= 0x85ebca6b		(fmix32: every input bit
 *	h ^= h >> 13; h *= 0xc2b2ae35		 affects every output bit)
 *	h ^= h >> 16
 *
 * This is exactly MurmurHash3_x86_32 of the little-endian bytes of the
 * words, so the published MurmurHash3 test vectors check it.
 *
 * Hashed values are numbers, not memory: an address word or a port is
 * taken as the big-endian number it encodes (i.e. after ntohl/ntohs), so
 * the hash of a flow is the same on every host, whatever its byte order.
 */
#ifndef _VIPLB_HASH_H
#define _VIPLB_HASH_H

#include <linux/types.h>

#ifndef __KERNEL__
/*
 * Outside the kernel, <linux/stddef.h> may have defined __always_inline as
 * plain __inline__, which does not force inlining.  Use the kernel's
 * definition, which is also what glibc's <sys/cdefs.h> (which #undefs it
 * first) and libbpf's <bpf/bpf_helpers.h> (#ifndef) mean by it.
 * checkpatch flags the line itself, as it does in compiler_types.h.
 */
#undef __always_inline
#define __always_inline inline __attribute__((__always_inline__))
#endif

#ifdef __CHECKER__
#define __viplb_force __attribute__((force))
#else
#define __viplb_force
#endif

/* Seed of viplb_flow_hash().  Fixed: changing it remaps every flow. */
#define VIPLB_FLOW_HASH_SEED	0x76697031U	/* "vip1" */
/* Seed of viplb_src_hash() (the sh scheduler). */
#define VIPLB_SRC_HASH_SEED	0x73726331U	/* "src1" */

/* Values of struct viplb_flow_tuple.af: the same as AF_INET, AF_INET6. */
#define VIPLB_FLOW_AF_INET	2
#define VIPLB_FLOW_AF_INET6	10

/**
 * struct viplb_flow_tuple - a flow, as hashed and as a flow table key
 * @saddr: source address; IPv4 in saddr[0], saddr[1..3] zero
 * @daddr: destination address; IPv4 in daddr[0], daddr[1..3] zero
 * @sport: source port (0 for protocols without ports)
 * @dport: destination port
 * @proto: IPPROTO_TCP, IPPROTO_UDP ...
 * @af: VIPLB_FLOW_AF_INET or VIPLB_FLOW_AF_INET6
 * @pad: always zero
 *
 * This is also the key of the XDP program's LRU flow map, so it has no
 * holes: every byte is a field, and the fill helpers below write them all.
 */
struct viplb_flow_tuple {
	__be32 saddr[4];
	__be32 daddr[4];
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 af;
	__u16 pad;
};

_Static_assert(sizeof(struct viplb_flow_tuple) == 40,
	       "struct viplb_flow_tuple must have no holes");

/* rol32 for 0 < r < 32. */
static __always_inline __u32 viplb_rol32(__u32 x, unsigned int r)
{
	return (x << r) | (x >> (32 - r));
}

/**
 * viplb_be32_val() - the number a big-endian 32-bit field encodes
 * @x: the field
 *
 * Return: @x in host byte order (ntohl without any library).
 */
static __always_inline __u32 viplb_be32_val(__be32 x)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return __builtin_bswap32((__viplb_force __u32)x);
#else
	return (__viplb_force __u32)x;
#endif
}

/**
 * viplb_be16_val() - the number a big-endian 16-bit field encodes
 * @x: the field
 *
 * Return: @x in host byte order (ntohs without any library).
 */
static __always_inline __u16 viplb_be16_val(__be16 x)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return __builtin_bswap16((__viplb_force __u16)x);
#else
	return (__viplb_force __u16)x;
#endif
}

/**
 * viplb_hash_step() - mix one word into the running hash state
 * @h: the state
 * @k: the word
 *
 * Return: the new state.
 */
static __always_inline __u32 viplb_hash_step(__u32 h, __u32 k)
{
	k *= 0xcc9e2d51U;
	k = viplb_rol32(k, 15);
	k *= 0x1b873593U;
	h ^= k;
	h = viplb_rol32(h, 13);
	return h * 5 + 0xe6546b64U;
}

/**
 * viplb_hash_final() - finish a hash
 * @h: the state after the last viplb_hash_step()
 * @nwords: how many words were mixed in
 *
 * Return: the hash value.
 */
static __always_inline __u32 viplb_hash_final(__u32 h, __u32 nwords)
{
	h ^= nwords * 4;
	h ^= h >> 16;
	h *= 0x85ebca6bU;
	h ^= h >> 13;
	h *= 0xc2b2ae35U;
	h ^= h >> 16;
	return h;
}

/**
 * viplb_hash32() - hash an array of 32-bit words
 * @words: the words, as numbers (host byte order)
 * @nwords: how many; must be a constant where BPF calls this
 * @seed: the seed
 *
 * Return: the hash value (see the algorithm at the top of this file).
 */
static __always_inline __u32 viplb_hash32(const __u32 *words, __u32 nwords,
					  __u32 seed)
{
	__u32 h = seed;
	__u32 i;

	for (i = 0; i < nwords; i++)
		h = viplb_hash_step(h, words[i]);
	return viplb_hash_final(h, nwords);
}

/**
 * viplb_flow_hash() - the flow hash
 * @t: the flow
 *
 * Hashes ten words with seed VIPLB_FLOW_HASH_SEED: saddr[0..3],
 * daddr[0..3], (sport << 16 | dport) and (af << 8 | proto), every field
 * taken as the number it encodes.  @t->pad is not hashed.
 *
 * Return: the hash value, the same in the module, in XDP and in user space.
 */
static __always_inline __u32 viplb_flow_hash(const struct viplb_flow_tuple *t)
{
	__u32 h = VIPLB_FLOW_HASH_SEED;
	int i;

	for (i = 0; i < 4; i++)
		h = viplb_hash_step(h, viplb_be32_val(t->saddr[i]));
	for (i = 0; i < 4; i++)
		h = viplb_hash_step(h, viplb_be32_val(t->daddr[i]));
	h = viplb_hash_step(h, (__u32)viplb_be16_val(t->sport) << 16 |
			       viplb_be16_val(t->dport));
	h = viplb_hash_step(h, (__u32)t->af << 8 | t->proto);
	return viplb_hash_final(h, 10);
}

/**
 * viplb_src_hash() - hash of the source address only (sh scheduler)
 * @t: the flow
 *
 * Hashes saddr[0..3] with seed VIPLB_SRC_HASH_SEED.  Ports, protocol and
 * family are ignored, so every flow of one client maps alike.
 *
 * Return: the hash value.
 */
static __always_inline __u32 viplb_src_hash(const struct viplb_flow_tuple *t)
{
	__u32 h = VIPLB_SRC_HASH_SEED;
	int i;

	for (i = 0; i < 4; i++)
		h = viplb_hash_step(h, viplb_be32_val(t->saddr[i]));
	return viplb_hash_final(h, 4);
}

/**
 * viplb_flow_tuple_v4() - fill a tuple for an IPv4 flow
 * @t: the tuple; every byte of it is written
 * @saddr: source address
 * @daddr: destination address
 * @sport: source port
 * @dport: destination port
 * @proto: IP protocol
 */
static __always_inline void viplb_flow_tuple_v4(struct viplb_flow_tuple *t,
						__be32 saddr, __be32 daddr,
						__be16 sport, __be16 dport,
						__u8 proto)
{
	int i;

	t->saddr[0] = saddr;
	t->daddr[0] = daddr;
	for (i = 1; i < 4; i++) {
		t->saddr[i] = 0;
		t->daddr[i] = 0;
	}
	t->sport = sport;
	t->dport = dport;
	t->proto = proto;
	t->af = VIPLB_FLOW_AF_INET;
	t->pad = 0;
}

/**
 * viplb_flow_tuple_v6() - fill a tuple for an IPv6 flow
 * @t: the tuple; every byte of it is written
 * @saddr: source address, four words
 * @daddr: destination address, four words
 * @sport: source port
 * @dport: destination port
 * @proto: IP protocol (the upper-layer protocol)
 */
static __always_inline void viplb_flow_tuple_v6(struct viplb_flow_tuple *t,
						const __be32 *saddr,
						const __be32 *daddr,
						__be16 sport, __be16 dport,
						__u8 proto)
{
	int i;

	for (i = 0; i < 4; i++) {
		t->saddr[i] = saddr[i];
		t->daddr[i] = daddr[i];
	}
	t->sport = sport;
	t->dport = dport;
	t->proto = proto;
	t->af = VIPLB_FLOW_AF_INET6;
	t->pad = 0;
}

#endif /* _VIPLB_HASH_H */
