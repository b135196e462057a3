/* SPDX-License-Identifier: GPL-2.0 */
/*
 * viplb: Maglev lookup tables, shared verbatim by the kernel module, the
 * XDP program and the user tools.
 *
 * This follows "Maglev: A Fast and Reliable Software Network Load
 * Balancer" (NSDI'16), section 3.4 and Pseudocode 1.  The table has M
 * slots, M prime.  Backend i has a permutation of the slots
 *
 *	permutation[i][j] = (offset + j * skip) mod M
 *	offset = h1(backend) mod M
 *	skip   = h2(backend) mod (M - 1) + 1
 *
 * where h1 and h2 are viplb_hash32() over (address words, port) with the
 * fixed seeds VIPLB_MAGLEV_SEED1 and VIPLB_MAGLEV_SEED2.  As M is prime
 * and 1 <= skip < M, each permutation visits every slot exactly once.
 *
 * The table is filled in rounds.  In the paper every backend, in index
 * order, claims the next slot of its permutation that is still free,
 * once per round.  viplb adds weights: in each round every backend of
 * weight w > 0 earns w credit, and claims one slot for every w_max credit
 * it holds (w_max is the largest weight), paying w_max for it.  Since
 * w <= w_max a backend claims at most once per round, the heaviest
 * backends claim every round, and with equal weights this is exactly the
 * paper's algorithm.  A backend of weight 0 earns nothing and never gets
 * a slot.  Backend i of weight w ends up with about M * w / sum(weights)
 * slots.  The k-th claim of a backend of weight w falls in round
 * ceil(k * w_max / w) - 1, so scaling every weight by the same factor
 * (weights {2, 4} or {1, 2}) gives the same table.
 *
 * The table depends on the ORDER of the backends, not only on their set:
 * within a round a lower index claims first, so an earlier backend wins
 * the slots two backends both reach in the same round.  Reordering keeps
 * each backend's share but moves some slots.  Every builder of a table
 * that must agree with another (module, XDP, user) must therefore pass
 * the backends in the same order.
 *
 * Nothing here allocates: the caller passes the table and the per-backend
 * scratch array.  With close weights the rounds are walked one by one,
 * O(n) each; otherwise the claims are taken in (round, index) order from
 * a binary heap of the backends keyed by the round of each one's next
 * claim, which fills the same table.  Cost: O(min(8 M, M log n)) whatever
 * the weights, plus O(M log M) expected probes.
 *
 * Table size: a service's M is either set explicitly or chosen from its
 * number of backends by viplb_maglev_auto_size(), the one function every
 * datapath and tool calls for it.
 *
 * Only viplb_maglev_slot() and viplb_maglev_lookup() are meant for BPF;
 * the builders loop over caller-given counts.
 */
#ifndef _VIPLB_MAGLEV_H
#define _VIPLB_MAGLEV_H

#include <viplb/hash.h>

/* Fixed seeds of h1 (offset) and h2 (skip). */
#define VIPLB_MAGLEV_SEED1	0x6d61676cU	/* "magl" */
#define VIPLB_MAGLEV_SEED2	0x65763136U	/* "ev16" */

/* A table slot that no backend owns. */
#define VIPLB_MAGLEV_NONE	0xffffffffU

/* Return values of viplb_maglev_populate(). */
#define VIPLB_MAGLEV_OK		0
#define VIPLB_MAGLEV_EMPTY	(-1)	/* no backend has weight > 0 */
#define VIPLB_MAGLEV_INVALID	(-2)	/* M not prime, or bad offset/skip */

/**
 * struct viplb_maglev_backend - one backend while a table is built
 * @offset: first slot of the permutation, < M
 * @skip: step of the permutation, 1..M-1
 * @next: the next slot of the permutation to try (populate state)
 * @weight: weight; 0 means no slots
 * @credit: credit left after the last claim, < @weight (populate state)
 * @round: the round of the next claim (populate state)
 * @heap: populate's heap of backend indices, one element per backend
 *	(b[j].heap is element j, not a property of backend j)
 *
 * Set @offset, @skip and @weight with viplb_maglev_backend_init() or
 * viplb_maglev_backend_set(); viplb_maglev_populate() resets the rest.
 */
struct viplb_maglev_backend {
	__u32 offset;
	__u32 skip;
	__u32 next;
	__u32 weight;
	__u32 credit;
	__u32 round;
	__u32 heap;
};

/**
 * viplb_maglev_backend_hash() - hash a backend's address and port
 * @addr: address, four words; IPv4 in addr[0], addr[1..3] zero
 * @port: port
 * @seed: VIPLB_MAGLEV_SEED1 or VIPLB_MAGLEV_SEED2
 *
 * Return: viplb_hash32() of the five words addr[0..3], port, each taken as
 * the number it encodes.
 */
static __always_inline __u32 viplb_maglev_backend_hash(const __be32 *addr,
						       __be16 port,
						       __u32 seed)
{
	__u32 h = seed;
	int i;

	for (i = 0; i < 4; i++)
		h = viplb_hash_step(h, viplb_be32_val(addr[i]));
	h = viplb_hash_step(h, viplb_be16_val(port));
	return viplb_hash_final(h, 5);
}

/**
 * viplb_maglev_backend_set() - set a backend's permutation explicitly
 * @b: the backend
 * @offset: first slot, < M
 * @skip: step, 1..M-1
 * @weight: weight
 *
 * For tests (the paper's Table 1) and for callers with their own hashes.
 */
static inline void viplb_maglev_backend_set(struct viplb_maglev_backend *b,
					    __u32 offset, __u32 skip,
					    __u32 weight)
{
	b->offset = offset;
	b->skip = skip;
	b->next = offset;
	b->weight = weight;
	b->credit = 0;
	b->round = 0;
	b->heap = 0;
}

/**
 * viplb_maglev_backend_init() - set a backend's permutation from its hash
 * @b: the backend
 * @addr: address, four words; IPv4 in addr[0], addr[1..3] zero
 * @port: port
 * @weight: weight
 * @m: table size, a prime >= 2
 */
static inline void viplb_maglev_backend_init(struct viplb_maglev_backend *b,
					     const __be32 *addr, __be16 port,
					     __u32 weight, __u32 m)
{
	__u32 h1 = viplb_maglev_backend_hash(addr, port, VIPLB_MAGLEV_SEED1);
	__u32 h2 = viplb_maglev_backend_hash(addr, port, VIPLB_MAGLEV_SEED2);

	viplb_maglev_backend_set(b, h1 % m, h2 % (m - 1) + 1, weight);
}

/**
 * viplb_maglev_is_prime() - whether a table size is usable
 * @m: the table size
 *
 * Return: true if @m is prime.  Trial division, at most sqrt(@m) steps.
 */
static inline int viplb_maglev_is_prime(__u32 m)
{
	__u32 d;

	if (m < 2)
		return 0;
	for (d = 2; d <= m / d; d++)
		if (m % d == 0)
			return 0;
	return 1;
}

/* Slots per backend that viplb_maglev_auto_size() aims for, at least. */
#define VIPLB_MAGLEV_SLOTS_PER_BACKEND	100

/**
 * viplb_maglev_auto_size() - the table size of a service with no explicit one
 * @n: its number of backends, those of weight 0 included
 *
 * The smallest prime of a fixed list that is at least
 * VIPLB_MAGLEV_SLOTS_PER_BACKEND * @n, or the largest of the list: 251
 * for up to 2 backends, 1021 for 6 to 10, 65537 for 328 to 655, 131071
 * from 656 on.  The list lies within VIPLB_TABLE_SIZE_MIN..MAX and each
 * size about doubles the one before, so a table stays within a factor of
 * about 2 of 100 slots per backend (max/min share within a few percent of
 * the weights, see bench/results/memory.md).  M is a function of @n alone
 * so that the module, XDP, nf_tables and "viplb restore" all choose the
 * same M for the same backends: it grows as backends are added and
 * shrinks again as they are removed (a change of M moves most new flows'
 * slots; established flows keep their backend).  Draining a backend
 * (weight 0) does not change @n.
 *
 * Return: the table size, a prime.
 */
static inline __u32 viplb_maglev_auto_size(__u32 n)
{
	static const __u32 sizes[10] = {
		251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65537, 131071
	};
	__u64 want = (__u64)n * VIPLB_MAGLEV_SLOTS_PER_BACKEND;
	__u32 i;

	for (i = 0; i < 9; i++)
		if (sizes[i] >= want)
			break;
	return sizes[i];
}

/**
 * viplb_maglev_backend_order() - the order in which backends are passed
 * @a_addr16: the first backend's address, 16 bytes in network order (IPv4
 *            in the first 4, the other 12 zero)
 * @a_port: its port, in network order
 * @b_addr16: the second backend's address, as @a_addr16
 * @b_port: its port, in network order
 *
 * The table depends on the order of the backends (see the top of this
 * file), so every builder that must agree with another sorts them by
 * this: by the 16 address bytes, then by the 2 port bytes, compared as
 * memcmp() compares them (unsigned bytes, first byte first).  A plain
 * loop, so that the kernel, BPF and user space all build it.
 *
 * Return: < 0, 0 or > 0 as backend a sorts before, with or after backend b.
 */
static inline int viplb_maglev_backend_order(const void *a_addr16,
					     __be16 a_port,
					     const void *b_addr16,
					     __be16 b_port)
{
	const __u8 *a = (const __u8 *)a_addr16;
	const __u8 *b = (const __u8 *)b_addr16;
	int i;

	for (i = 0; i < 16; i++)
		if (a[i] != b[i])
			return a[i] - b[i];
	return (int)viplb_be16_val(a_port) - (int)viplb_be16_val(b_port);
}

/*
 * Called every VIPLB_MAGLEV_YIELD_CLAIMS claims of viplb_maglev_populate():
 * a builder that may sleep defines it first (the module: cond_resched()),
 * so that a large table does not hog the CPU.
 */
#ifndef VIPLB_MAGLEV_YIELD
#define VIPLB_MAGLEV_YIELD() do { } while (0)
#endif
#define VIPLB_MAGLEV_YIELD_CLAIMS	4096

/* The slot after @slot in a permutation of step @skip; no overflow. */
static inline __u32 viplb_maglev_advance(__u32 slot, __u32 skip, __u32 m)
{
	return slot >= m - skip ? slot - (m - skip) : slot + skip;
}

/* Whether backend @i claims before backend @j: by (round, index). */
static inline int viplb_maglev_before(const struct viplb_maglev_backend *b,
				      __u32 i, __u32 j)
{
	return b[i].round < b[j].round || (b[i].round == b[j].round && i < j);
}

/* Moves heap element @pos down to its place in the heap of @len. */
static inline void viplb_maglev_sift(struct viplb_maglev_backend *b,
				     __u32 pos, __u32 len)
{
	__u32 top = b[pos].heap, child;

	while ((child = 2 * pos + 1) < len) {
		if (child + 1 < len &&
		    viplb_maglev_before(b, b[child + 1].heap, b[child].heap))
			child++;
		if (!viplb_maglev_before(b, b[child].heap, top))
			break;
		b[pos].heap = b[child].heap;
		pos = child;
	}
	b[pos].heap = top;
}

/*
 * Sets the round of @be's next claim, after a claim in round @round, or
 * before the first when @first.  Returns 0 if that round is >= @m: the
 * heaviest backends claim every round, so the table is full by round
 * m - 1 and the backend never claims again.
 */
static inline int viplb_maglev_next_round(struct viplb_maglev_backend *be,
					  __u32 wmax, __u32 round, int first,
					  __u32 m)
{
	/* Rounds until the credit reaches wmax again: ceil(need / w). */
	__u32 need = wmax - be->credit;
	__u32 delta = need / be->weight + (need % be->weight != 0);
	__u32 base = first ? 0 : round + 1;

	/* The credit left over: delta * w - need, in [0, w). */
	be->credit = need % be->weight ? be->weight - need % be->weight : 0;
	if (delta - 1 >= m - base)
		return 0;
	be->round = base + delta - 1;
	return 1;
}

/* Claims the next free slot of @b[i]'s permutation. */
static inline void viplb_maglev_claim(__u32 *table, __u32 m,
				      struct viplb_maglev_backend *b, __u32 i)
{
	struct viplb_maglev_backend *be = &b[i];
	__u32 slot = be->next;

	/* A full permutation: a free slot is always found. */
	while (table[slot] != VIPLB_MAGLEV_NONE)
		slot = viplb_maglev_advance(slot, be->skip, m);
	table[slot] = i;
	be->next = viplb_maglev_advance(slot, be->skip, m);
}

/* Fills the table round by round, every backend in index order. */
static inline int viplb_maglev_walk(__u32 *table, __u32 m,
				    struct viplb_maglev_backend *b, __u32 n,
				    __u32 wmax)
{
	__u32 filled = 0, i;

	for (;;) {
		for (i = 0; i < n; i++) {
			struct viplb_maglev_backend *be = &b[i];

			/*
			 * Earn weight; claim once credit reaches wmax.  As
			 * credit < wmax and weight <= wmax, this is at most
			 * one claim per round.  Written not to overflow.
			 */
			if (!be->weight || be->credit < wmax - be->weight) {
				be->credit += be->weight;
				continue;
			}
			be->credit -= wmax - be->weight;
			viplb_maglev_claim(table, m, b, i);
			if (++filled == m)
				return VIPLB_MAGLEV_OK;
			if (!(filled % VIPLB_MAGLEV_YIELD_CLAIMS))
				VIPLB_MAGLEV_YIELD();
		}
	}
}

/* Fills the table claim by claim, from a heap keyed by (round, index). */
static inline int viplb_maglev_heap(__u32 *table, __u32 m,
				    struct viplb_maglev_backend *b, __u32 n,
				    __u32 wmax)
{
	__u32 filled = 0, len = 0, i;

	for (i = 0; i < n; i++)
		if (b[i].weight && viplb_maglev_next_round(&b[i], wmax, 0, 1, m))
			b[len++].heap = i;
	for (i = len / 2; i-- > 0;)
		viplb_maglev_sift(b, i, len);

	for (;;) {
		struct viplb_maglev_backend *be = &b[b[0].heap];

		viplb_maglev_claim(table, m, b, b[0].heap);
		if (++filled == m)
			return VIPLB_MAGLEV_OK;
		/* The heaviest backend claims every round: len stays > 0. */
		if (!viplb_maglev_next_round(be, wmax, be->round, 0, m))
			b[0].heap = b[--len].heap;
		viplb_maglev_sift(b, 0, len);
		if (!(filled % VIPLB_MAGLEV_YIELD_CLAIMS))
			VIPLB_MAGLEV_YIELD();
	}
}

/**
 * viplb_maglev_populate() - fill a Maglev table
 * @table: the table, @m entries; on return table[slot] is a backend index
 * @m: table size, a prime
 * @b: the backends, each set up by viplb_maglev_backend_init() or
 *     viplb_maglev_backend_set(); their populate state is overwritten
 * @n: how many backends
 *
 * Pseudocode 1 of the paper, with weights (see the top of this file).
 * The result depends only on @m and on the ordered list of (offset, skip,
 * weight).
 *
 * Return: VIPLB_MAGLEV_OK (every slot holds a backend index < @n);
 * VIPLB_MAGLEV_EMPTY if no backend has a weight > 0, or
 * VIPLB_MAGLEV_INVALID if @m is not prime or a backend's offset or skip is
 * out of range.  On error every slot is VIPLB_MAGLEV_NONE.
 */
static inline int viplb_maglev_populate(__u32 *table, __u32 m,
					struct viplb_maglev_backend *b,
					__u32 n)
{
	__u64 sum = 0;
	__u32 wmax = 0, i;

	for (i = 0; i < m; i++)
		table[i] = VIPLB_MAGLEV_NONE;
	if (!viplb_maglev_is_prime(m))
		return VIPLB_MAGLEV_INVALID;

	for (i = 0; i < n; i++) {
		if (b[i].offset >= m || b[i].skip == 0 || b[i].skip >= m)
			return VIPLB_MAGLEV_INVALID;
		b[i].next = b[i].offset;
		b[i].credit = 0;
		if (b[i].weight > wmax)
			wmax = b[i].weight;
	}
	if (!wmax)
		return VIPLB_MAGLEV_EMPTY;

	/*
	 * Walking the rounds costs n per round, and the table is full after
	 * about M * wmax / sum(weights) rounds; the heap costs log n per
	 * claim.  Both fill the same table: walk when the weights are
	 * close (at most 8 * M credit updates), else take the heap.
	 */
	for (i = 0; i < n; i++)
		sum += b[i].weight;
	if ((__u64)wmax * n <= 8 * sum)
		return viplb_maglev_walk(table, m, b, n, wmax);
	return viplb_maglev_heap(table, m, b, n, wmax);
}

/**
 * viplb_maglev_slot() - the slot a hash falls in
 * @hash: a flow hash (viplb_flow_hash() or viplb_src_hash())
 * @m: table size
 *
 * reciprocal_scale(): the hash's share of 2^32 times @m, as nf_tables'
 * "jhash ... mod M" scales it, so nf_tables can index the same table.
 *
 * Return: the index into the table, for callers (such as BPF, with the
 * table in a map) that read the slot themselves.
 */
static __always_inline __u32 viplb_maglev_slot(__u32 hash, __u32 m)
{
	return (__u32)(((__u64)hash * m) >> 32);
}

/**
 * viplb_maglev_lookup() - the backend of a hash
 * @table: a table filled by viplb_maglev_populate()
 * @m: its size
 * @hash: a flow hash
 *
 * In BPF, @table may be a map value holding the whole table: the verifier
 * does not bound the slot, so it is checked against @m in a way the
 * compiler cannot drop; @m must be a constant, or a value the program has
 * bounded by the size of the map value.
 *
 * Return: the backend index, or VIPLB_MAGLEV_NONE for an empty table.
 */
static __always_inline __u32 viplb_maglev_lookup(const __u32 *table, __u32 m,
						 __u32 hash)
{
	__u32 slot = viplb_maglev_slot(hash, m);

#ifdef __bpf__
	asm volatile("" : "+r"(slot));
	if (slot >= m)
		return VIPLB_MAGLEV_NONE;
#endif
	return table[slot];
}

#endif /* _VIPLB_MAGLEV_H */
