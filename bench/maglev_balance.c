// SPDX-License-Identifier: GPL-2.0
/*
 * maglev_balance: how well the shared Maglev builder (include/viplb/maglev.h)
 * balances at the automatic table size, and how many flows move when a
 * backend is added, with and without a change of M.  Prints Markdown for
 * bench/results/memory.md.  Build and run (bench/memory.sh does):
 *
 *	cc -O2 -Iinclude -Iinclude/uapi -o build/maglev_balance \
 *	   bench/maglev_balance.c && build/maglev_balance
 *
 * Balance: for n backends and M = viplb_maglev_auto_size(n), 100 sets of
 * random weights (1..100) and one of equal weights; a backend's share is
 * its slots / M divided by weight / sum(weights).  Reported: the largest
 * and smallest share over every backend of the 100 sets, and the mean of
 * each set's max/min.
 *
 * Disruption: n backends of weight 1, then backend n + 1 added; the
 * fraction of 1,000,000 random flow hashes whose backend changes (the
 * least possible is 1 / (n + 1), the flows the new backend takes).
 *
 * "maglev_balance time": the builder's own time per table (the rebuild
 * that every backend change of a Maglev service costs the module), best
 * of 5 runs of 20 builds, for M = 65537 and 1021 slots; memory.sh runs
 * it on the host and in the test VM, whose ratio is TCG's slowdown on the
 * module's own code.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/viplb.h>
#include <viplb/maglev.h>

#define NMAX 4096
#define FLOWS 1000000

static __u32 t1[VIPLB_TABLE_SIZE_MAX], t2[VIPLB_TABLE_SIZE_MAX];
static struct viplb_maglev_backend mb[NMAX + 1];

/* Backend k, 198.51.100.x / 203.0.113.x ports, sorted as the tools sort. */
static void build(__u32 *t, __u32 m, __u32 n, const __u32 *w)
{
	__be32 addr[4] = { 0 };
	__u32 k;

	for (k = 0; k < n; k++) {
		addr[0] = htonl(0xc6336400 | (k % 200 + 1));
		viplb_maglev_backend_init(&mb[k], addr, htons(8000 + k / 200),
					  w ? w[k] : 1, m);
	}
	if (viplb_maglev_populate(t, m, mb, n) != VIPLB_MAGLEV_OK) {
		fprintf(stderr, "populate failed: M %u n %u\n", m, n);
		exit(1);
	}
}

static void balance(__u32 n)
{
	static __u32 w[NMAX], cnt[NMAX];
	__u32 m = viplb_maglev_auto_size(n), set, k, i;
	double hi = 0, lo = 1e9, ratio_sum = 0, eq_hi = 0, eq_lo = 1e9;

	for (set = 0; set <= 100; set++) {
		double sum = 0, shi = 0, slo = 1e9, share;

		for (k = 0; k < n; k++) {
			w[k] = set < 100 ? 1 + rand() % 100 : 1;
			sum += w[k];
			cnt[k] = 0;
		}
		build(t1, m, n, w);
		for (i = 0; i < m; i++)
			cnt[t1[i]]++;
		for (k = 0; k < n; k++) {
			share = (double)cnt[k] / m / (w[k] / sum);
			shi = share > shi ? share : shi;
			slo = share < slo ? share : slo;
		}
		if (set == 100) {
			eq_hi = shi;
			eq_lo = slo;
			break;
		}
		hi = shi > hi ? shi : hi;
		lo = slo < lo ? slo : lo;
		ratio_sum += shi / slo;
	}
	printf("| %u | %u | %.1f | %.3f | %.3f | %.3f | %.3f / %.3f |\n", n, m,
	       (double)m / n, lo, hi, ratio_sum / 100, eq_lo, eq_hi);
}

static void disruption(__u32 n)
{
	__u32 m1 = viplb_maglev_auto_size(n), m2 = viplb_maglev_auto_size(n + 1);
	__u32 f, h, moved = 0;

	build(t1, m1, n, NULL);
	/* Backend n sorts last: indices 0..n-1 stay the same backends. */
	build(t2, m2, n + 1, NULL);
	for (f = 0; f < FLOWS; f++) {
		h = (__u32)rand() << 16 ^ (__u32)rand();
		if (viplb_maglev_lookup(t1, m1, h) !=
		    viplb_maglev_lookup(t2, m2, h))
			moved++;
	}
	printf("| %u → %u | %u → %u | %s | %.2f%% | %.2f%% |\n", n, n + 1, m1,
	       m2, m1 == m2 ? "no" : "yes", 100.0 * moved / FLOWS,
	       100.0 / (n + 1));
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Best of 5 runs of 20 builds of M slots, n backends, one of weight heavy. */
static void build_time(__u32 m, __u32 n, __u32 heavy)
{
	static __u32 w[NMAX];
	double best = 1e18, t;
	int run, i;

	for (i = 0; i < (int)n; i++)
		w[i] = 1;
	w[0] = heavy;
	for (run = 0; run < 5; run++) {
		t = now_ns();
		for (i = 0; i < 20; i++)
			build(t1, m, n, w);
		t = (now_ns() - t) / 20;
		best = t < best ? t : best;
	}
	printf("maglev_build_ns m=%u n=%u heavy=%u %.0f\n", m, n, heavy, best);
}

int main(int argc, char **argv)
{
	static const __u32 ns[] = { 1, 2, 3, 5, 6, 10, 11, 20, 40, 81, 100,
				    163, 327, 655, 1000 };
	static const __u32 dn[] = { 2, 5, 7, 10, 20, 40, 81, 100, 163, 327,
				    655 };
	unsigned int i;

	if (argc > 1 && !strcmp(argv[1], "time")) {
		build_time(65537, 10, 1);
		build_time(65537, 4096, 65535);
		build_time(1021, 10, 1);
		return 0;
	}
	srand(1);
	printf("| backends n | auto M | M / n | min share | max share | mean max/min per set | equal weights min / max |\n");
	printf("|---|---|---|---|---|---|---|\n");
	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		balance(ns[i]);
	printf("\n| backends | M | M changes | flows moved | least possible |\n");
	printf("|---|---|---|---|---|\n");
	for (i = 0; i < sizeof(dn) / sizeof(dn[0]); i++)
		disruption(dn[i]);
	return 0;
}
