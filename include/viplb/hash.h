/* SPDX-License-Identifier: GPL-2.0 */
/*
 * viplb: the hashes shared verbatim by the kernel module, the XDP program
 * and the user tools, so that all of them pick the same backend for the
 * same flow.
 *
 * Only <linux/types.h> is used: no libc, no kernel helpers, no BPF
 * helpers.  Every function is static __always_inline and every loop runs a
 * fixed number of times, so the BPF verifier accepts the code.
 *
 * Two hashes live here:
 *
 *  - The scheduling hashes, viplb_flow_hash() (maglev) and
 *    viplb_src_hash() (sh), are the kernel's jhash() (Bob Jenkins'
 *    lookup3, <linux/jhash.h>) over the bytes that nf_tables' "hash"
 *    expression reads from its registers: saddr . daddr . l4proto .
 *    sport . dport, the protocol and each port zero-padded to 4 bytes
 *    (sh: saddr alone).  So nf_tables computes the same hash with
 *    "jhash ... mod M seed S", and the slot of a table of M slots is
 *    reciprocal_scale(hash, M), as nft's modulus is (viplb_maglev_slot()).
 *    The key is bytes in network order, so a hash is the same on every
 *    little-endian host; jhash() reads the words of a key in the CPU's
 *    order, so a big-endian host gets other values (as nf_tables does).
 *
 *  - viplb_hash32(), a MurmurHash3-style hash over 32-bit words, for the
 *    Maglev permutations (include/viplb/maglev.h):
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
 *    This is exactly MurmurHash3_x86_32 of the little-endian bytes of the
 *    words, so the published MurmurHash3 test vectors check it.  Its words
 *    are numbers: an address word or a port is taken as the big-endian
 *    number it encodes (after ntohl/ntohs), whatever the host.
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

/*
 * Seeds of viplb_flow_hash() and viplb_src_hash(), and of the nf_tables
 * rules that compute them.  Fixed: changing one remaps every flow.
 */
#define VIPLB_FLOW_HASH_SEED	0x76697031U	/* "vip1" */
#define VIPLB_SRC_HASH_SEED	0x73726331U	/* "src1" */

/* The largest scheduling key: two IPv6 addresses and three words. */
#define VIPLB_HASH_KEY_WORDS	11

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

/*
 * The kernel's jhash() mixing steps (__jhash_mix and __jhash_final of
 * <linux/jhash.h>).
 */
#define VIPLB_JHASH_INITVAL	0xdeadbeefU

static __always_inline void viplb_jhash_mix(__u32 *a, __u32 *b, __u32 *c)
{
	*a -= *c;
	*a ^= viplb_rol32(*c, 4);
	*c += *b;
	*b -= *a;
	*b ^= viplb_rol32(*a, 6);
	*a += *c;
	*c -= *b;
	*c ^= viplb_rol32(*b, 8);
	*b += *a;
	*a -= *c;
	*a ^= viplb_rol32(*c, 16);
	*c += *b;
	*b -= *a;
	*b ^= viplb_rol32(*a, 19);
	*a += *c;
	*c -= *b;
	*c ^= viplb_rol32(*b, 4);
	*b += *a;
}

static __always_inline __u32 viplb_jhash_final(__u32 a, __u32 b, __u32 c)
{
	c ^= b;
	c -= viplb_rol32(b, 14);
	a ^= c;
	a -= viplb_rol32(c, 11);
	b ^= a;
	b -= viplb_rol32(a, 25);
	c ^= b;
	c -= viplb_rol32(b, 16);
	a ^= c;
	a -= viplb_rol32(c, 4);
	b ^= a;
	b -= viplb_rol32(a, 14);
	c ^= b;
	c -= viplb_rol32(b, 24);
	return c;
}

/*
 * A word of the key as jhash()'s tail reads it: its bytes as a
 * little-endian number (the loop above the tail reads words in the CPU's
 * order, which is the same on a little-endian host).
 */
static __always_inline __u32 viplb_jhash_tail_word(__u32 w)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return w;
#else
	return __builtin_bswap32(w);
#endif
}

/**
 * viplb_jhash_words() - the kernel's jhash() of a key of whole words
 * @k: the key's words, as they lie in memory
 * @nwords: how many (1..VIPLB_HASH_KEY_WORDS); a constant where BPF calls
 * @seed: the seed (jhash()'s initval)
 *
 * Return: jhash(k, 4 * nwords, seed), which is also what nf_tables' hash
 * expression computes over the same bytes before it scales the result.
 */
static __always_inline __u32 viplb_jhash_words(const __u32 *k, __u32 nwords,
					       __u32 seed)
{
	__u32 a, b, c, rest, i = 0;

	a = b = c = VIPLB_JHASH_INITVAL + 4 * nwords + seed;
	while (nwords - i > 3) {
		a += k[i];
		b += k[i + 1];
		c += k[i + 2];
		viplb_jhash_mix(&a, &b, &c);
		i += 3;
	}
	rest = nwords - i;
	if (!rest)
		return c;
	if (rest > 2)
		c += viplb_jhash_tail_word(k[i + 2]);
	if (rest > 1)
		b += viplb_jhash_tail_word(k[i + 1]);
	a += viplb_jhash_tail_word(k[i]);
	return viplb_jhash_final(a, b, c);
}

/*
 * A word in memory whose first bytes are @x's (a protocol number, or a
 * port in network order) and whose other bytes are zero: how nf_tables
 * pads a 1- or 2-byte value in a 4-byte register.
 */
static __always_inline __u32 viplb_reg_word8(__u8 x)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return x;
#else
	return (__u32)x << 24;
#endif
}

static __always_inline __u32 viplb_reg_word16(__be16 x)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (__viplb_force __u16)x;
#else
	return (__u32)(__viplb_force __u16)x << 16;
#endif
}

/**
 * viplb_flow_key() - the key of the flow hash, as nf_tables' registers hold it
 * @t: the flow
 * @k: VIPLB_HASH_KEY_WORDS words, filled from the start
 *
 * saddr . daddr . l4proto . sport . dport: the addresses as they are on
 * the wire (1 word each for IPv4, 4 for IPv6), then three zero-padded
 * words.
 *
 * Return: the number of words, 5 (IPv4) or 11 (IPv6).
 */
static __always_inline __u32 viplb_flow_key(const struct viplb_flow_tuple *t,
					    __u32 *k)
{
	__u32 n = t->af == VIPLB_FLOW_AF_INET6 ? 4 : 1;
	__u32 i;

	for (i = 0; i < 4; i++) {
		if (i < n) {
			k[i] = (__viplb_force __u32)t->saddr[i];
			k[n + i] = (__viplb_force __u32)t->daddr[i];
		}
	}
	k[2 * n] = viplb_reg_word8(t->proto);
	k[2 * n + 1] = viplb_reg_word16(t->sport);
	k[2 * n + 2] = viplb_reg_word16(t->dport);
	return 2 * n + 3;
}

/**
 * viplb_flow_hash() - the flow hash (the maglev scheduler)
 * @t: the flow
 *
 * jhash() with seed VIPLB_FLOW_HASH_SEED of viplb_flow_key(): what the
 * nf_tables rule "jhash ip saddr . ip daddr . meta l4proto . th sport .
 * th dport seed 0x76697031" computes.  @t->pad is not hashed.
 *
 * Return: the hash value, the same in the module, in XDP, in nf_tables
 * and in user space.
 */
static __always_inline __u32 viplb_flow_hash(const struct viplb_flow_tuple *t)
{
	__u32 k[VIPLB_HASH_KEY_WORDS];

	/* A constant length in each branch, so that the compiler unrolls
	 * viplb_jhash_words() for each (a variable one leaves a loop).
	 */
	if (t->af == VIPLB_FLOW_AF_INET6) {
		viplb_flow_key(t, k);
		return viplb_jhash_words(k, 11, VIPLB_FLOW_HASH_SEED);
	}
	viplb_flow_key(t, k);
	return viplb_jhash_words(k, 5, VIPLB_FLOW_HASH_SEED);
}

/**
 * viplb_src_hash() - hash of the source address only (the sh scheduler)
 * @t: the flow
 *
 * jhash() with seed VIPLB_SRC_HASH_SEED of the source address as it is on
 * the wire ("jhash ip saddr seed 0x73726331").  Ports and protocol are
 * ignored, so every flow of one client maps alike.
 *
 * Return: the hash value.
 */
static __always_inline __u32 viplb_src_hash(const struct viplb_flow_tuple *t)
{
	const __u32 *s = (const __u32 *)t->saddr;

	if (t->af == VIPLB_FLOW_AF_INET6)
		return viplb_jhash_words(s, 4, VIPLB_SRC_HASH_SEED);
	return viplb_jhash_words(s, 1, VIPLB_SRC_HASH_SEED);
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
