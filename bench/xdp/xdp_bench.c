// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_bench: nanoseconds per packet of the XDP program, measured with
 * BPF_PROG_TEST_RUN "repeat" on one CPU, with 1, 1,000 and 10,000
 * services; map memory at 10,000 services; ring update time.
 *
 * Forwarding paths rewrite the packet, so a plain repeat would feed the
 * program its own output.  They run with BPF_F_TEST_XDP_LIVE_FRAMES, which
 * starts every iteration from the original frame and really transmits
 * the result (XDP_TX on a veth whose peer has GRO on, in a private netns).
 * The per-path counters must then show that every iteration took the
 * path measured.  A program that only returns XDP_TX, run the same way,
 * gives the floor of the method.  The non-VIP pass does not change the
 * packet and does not need the stack's reception cost: plain repeat.
 *
 *   "lru miss" forwards through the ring every time: its backend has
 *   weight 0 in the backends map (so no flow is pinned) while the ring,
 *   written here, still names it.  It is the miss path without the
 *   flows-map insert.
 *
 * The floor is measured again before and after each row's live runs,
 * and the lower of the two shown beside them, so that a change of the
 * host's load between rows shows.
 * "setup" is the time xdp_svc_put() took to write all the services of
 * the row from an empty map set (3 backends each, default table size:
 * mostly building the 65537-slot Maglev tables).
 *
 * With -l N, instead: the flows map as viplb makes it (one LRU for all
 * CPUs, N + 128 entries per CPU: xdp_flows_map_size()) beside per-CPU
 * LRUs (BPF_F_NO_COMMON_LRU) and a common LRU of exactly N: which flows
 * stay pinned as new ones come, from one CPU or from all, and ns per
 * packet of a miss (which inserts) and of a hit.  Each flow is one
 * BPF_PROG_TEST_RUN without repeat (a repeated packet is one flow), so
 * the floor of that method is shown too.  See lru_bench().
 *
 * Usage: xdp_bench [-r REPEAT] [-n "1 1000 10000"] [-o FILE] [-l FLOWS]
 * Needs root.  Takes about half a minute and 3 GB at 10,000 services;
 * -l 65536 about ten seconds.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <linux/viplb.h>
#include <viplb/hash.h>
#include <viplb/xdp.h>

#include "service.h"
#include "viplb.skel.h"
#include "xdp.h"

static int ifindex;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc)
		fprintf(stderr, "xdp_bench: failed: %s\n", cmd);
	return rc;
}

static int net_setup(void)
{
	FILE *f;

	if (unshare(CLONE_NEWNET))
		return -1;
	if (sh("ip link set lo up") ||
	    sh("ip link add v0 address 02:00:00:00:00:a0 type veth peer name v1") ||
	    sh("ip link set v0 up && ip link set v1 up") ||
	    sh("ethtool -K v1 gro on >/dev/null") ||
	    sh("ip addr add 198.51.100.1/24 dev v0") ||
	    sh("ip neigh add 198.51.100.11 lladdr 02:00:00:00:01:11 dev v0 nud permanent") ||
	    sh("ip neigh add 198.51.100.12 lladdr 02:00:00:00:01:12 dev v0 nud permanent") ||
	    sh("ip neigh add 198.51.100.13 lladdr 02:00:00:00:01:13 dev v0 nud permanent"))
		return -1;
	f = fopen("/proc/sys/net/ipv4/ip_forward", "w");
	if (!f || fputs("1", f) < 0 || fclose(f))
		return -1;
	ifindex = if_nametoindex("v0");
	return ifindex ? 0 : -1;
}

static void ip_csum(unsigned char *ip)
{
	uint32_t sum = 0;
	int i;

	ip[10] = ip[11] = 0;
	for (i = 0; i < 20; i += 2)
		sum += ip[i] << 8 | ip[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ip[10] = ~sum >> 8;
	ip[11] = ~sum & 0xff;
}

/* Ethernet + IPv4 + TCP SYN, 64 bytes of payload, to VIP:port. */
static size_t packet(unsigned char *b, const char *dst, uint16_t dport)
{
	unsigned char *ip = b + 14, *tcp = ip + 20;
	size_t len = 14 + 20 + 20 + 64;

	memset(b, 0, len);
	memcpy(b, "\x02\x00\x00\x00\x00\xa0\x02\x00\x00\x00\x0c\x01", 12);
	b[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (len - 14) >> 8;
	ip[3] = (len - 14) & 0xff;
	ip[6] = 0x40;
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	inet_pton(AF_INET, "203.0.113.50", ip + 12);
	inet_pton(AF_INET, dst, ip + 16);
	ip_csum(ip);
	tcp[0] = 0x9c;
	tcp[1] = 0x40;
	tcp[2] = dport >> 8;
	tcp[3] = dport & 0xff;
	tcp[12] = 0x50;
	tcp[13] = 0x02;
	return len;
}

/* ns per packet; *retval the action of the last run. */
static double run(int prog, const unsigned char *pkt, size_t len, int repeat,
		  bool live, __u32 *retval)
{
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt,
		    .data_size_in = len, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = repeat);
	unsigned char out[256];

	if (live) {
		opts.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
		opts.batch_size = 64;
	} else {
		opts.data_out = out;
		opts.data_size_out = sizeof(out);
	}
	if (bpf_prog_test_run_opts(prog, &opts)) {
		fprintf(stderr, "xdp_bench: BPF_PROG_TEST_RUN: %s\n",
			strerror(errno));
		return -1;
	}
	*retval = opts.retval;
	return opts.duration;
}

static int xdp_tx_prog(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0,
		  .imm = XDP_TX },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "xdp_tx_floor", "GPL", insns,
			     2, NULL);
}

static __u64 counter(struct xdp_maps *m, int i)
{
	struct viplb_xdp_stats st;

	return xdp_stats_read(m, &st) ? 0 : st.c[i];
}

static void zero_counters(struct xdp_maps *m)
{
	struct viplb_xdp_stats *v = calloc(m->nr_cpus, sizeof(*v));
	__u32 zero = 0;

	bpf_map_update_elem(m->stats, &zero, v, 0);
	free(v);
}

static void flush_flows(struct xdp_maps *m)
{
	struct viplb_flow_tuple key;

	while (!bpf_map_get_next_key(m->flows, NULL, &key))
		bpf_map_delete_elem(m->flows, &key);
}

/* Sum of the "memlock" of every map of the program, rings included. */
static unsigned long long map_memory(void)
{
	unsigned long long total = 0, v;
	__u32 id = 0;
	char path[64], line[256];

	while (!bpf_map_get_next_id(id, &id)) {
		struct bpf_map_info info = { 0 };
		__u32 len = sizeof(info);
		int fd = bpf_map_get_fd_by_id(id);
		FILE *f;

		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &info, &len) ||
		    (strncmp(info.name, "viplb_ring", 10) &&
		     strcmp(info.name, "vips") &&
		     strcmp(info.name, "vip_gen") &&
		     strcmp(info.name, "rings") &&
		     strcmp(info.name, "backends") &&
		     strcmp(info.name, "flows") &&
		     strcmp(info.name, "svc_stats") &&
		     strcmp(info.name, "be_stats") &&
		     strcmp(info.name, "stats") && strcmp(info.name, "config") &&
		     strcmp(info.name, "tx_ports"))) {
			close(fd);
			continue;
		}
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "memlock: %llu", &v) == 1)
				total += v;
		if (f)
			fclose(f);
		close(fd);
	}
	return total;
}

static const struct be_spec {
	const char *addr;
	uint32_t weight;
} bes[] = { { "198.51.100.11", 1 }, { "198.51.100.12", 1 },
	    { "198.51.100.13", 1 } };

static void service(struct lb_service *s, struct lb_backend *b, uint16_t port)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	s->key.af = AF_INET;
	s->key.proto = IPPROTO_TCP;
	inet_pton(AF_INET, "192.0.2.10", &s->key.addr);
	s->key.port = port;
	s->mode = VIPLB_MODE_DR;
	s->sched = VIPLB_SCHED_MAGLEV;
	s->table_size = VIPLB_TABLE_SIZE_DEFAULT;
	s->backends = b;
	s->nr_backends = 3;
	for (i = 0; i < 3; i++) {
		memset(&b[i], 0, sizeof(b[i]));
		inet_pton(AF_INET, bes[i].addr, &b[i].key.addr);
		b[i].key.port = port;
		b[i].weight = bes[i].weight;
	}
}

/*
 * Loads the program: flows_max, if not 0, sizes the flows map, and
 * flows_flags, if not -1, replaces its flags.  Writes the tun source.
 */
static struct viplb *load(struct xdp_maps *m, __u32 flows_max,
			  long flows_flags)
{
	struct viplb_xdp_config cfg = { .tun_src4 = inet_addr("198.51.100.1") };
	struct viplb *skel;
	__u32 zero = 0;

	skel = viplb__open();
	if (skel && flows_max)
		bpf_map__set_max_entries(skel->maps.flows, flows_max);
	if (skel && flows_flags >= 0)
		bpf_map__set_map_flags(skel->maps.flows, flows_flags);
	if (!skel || viplb__load(skel)) {
		fprintf(stderr, "xdp_bench: cannot load the program\n");
		viplb__destroy(skel);
		return NULL;
	}
	m->vip_gen = bpf_map__fd(skel->maps.vip_gen);
	m->vips = bpf_map__fd(skel->maps.vips);
	m->rings = bpf_map__fd(skel->maps.rings);
	m->backends = bpf_map__fd(skel->maps.backends);
	m->flows = bpf_map__fd(skel->maps.flows);
	m->svc_stats = bpf_map__fd(skel->maps.svc_stats);
	m->be_stats = bpf_map__fd(skel->maps.be_stats);
	m->stats = bpf_map__fd(skel->maps.stats);
	m->config = bpf_map__fd(skel->maps.config);
	m->tx_ports = bpf_map__fd(skel->maps.tx_ports);
	m->vlans = bpf_map__fd(skel->maps.vlans);
	if (xdp_maps_init(m)) {
		viplb__destroy(skel);
		return NULL;
	}
	bpf_map_update_elem(m->config, &zero, &cfg, 0);
	return skel;
}

/*
 * The flows map (-l N): per-CPU LRUs (BPF_F_NO_COMMON_LRU) against a
 * common LRU, each sized for N flows, with the real program on a dr
 * service of 3 backends.  Flow i is 203.0.113.(1 + i / 60000), source
 * port 1024 + i % 60000, to 192.0.2.10:80.  Each flow is one
 * BPF_PROG_TEST_RUN of one packet (repeat 1: a repeated packet would be
 * one flow), on the CPU given, and counted by the program's lru_hit and
 * lru_miss.
 */
struct lru_variant {
	const char *name;
	long flags;
	__u32 max;	/* max_entries */
};

static int pin_cpu(int cpu)
{
	cpu_set_t cpus;

	CPU_ZERO(&cpus);
	CPU_SET(cpu, &cpus);
	return sched_setaffinity(0, sizeof(cpus), &cpus);
}

static void set_flow(unsigned char *b, unsigned int i)
{
	unsigned char *ip = b + 14, *tcp = ip + 20;
	unsigned int sport = 1024 + i % 60000;

	ip[15] = 1 + i / 60000;
	ip_csum(ip);
	tcp[0] = sport >> 8;
	tcp[1] = sport & 0xff;
}

/* Flows [from, from + n) once each on cpu, newest first if reverse; ns. */
static double flows_run(int prog, unsigned char *pkt, size_t len, int cpu,
			unsigned int from, unsigned int n, bool reverse)
{
	double total = 0, t;
	unsigned int k;
	__u32 ret;

	if (pin_cpu(cpu))
		return -1;
	for (k = 0; k < n; k++) {
		set_flow(pkt, reverse ? from + n - 1 - k : from + k);
		t = run(prog, pkt, len, 1, false, &ret);
		if (t < 0)
			return -1;
		total += t;
	}
	return total;
}

/* Flows of [from, from + n) in the map, asked without touching the LRU. */
static unsigned int flows_present(int fd, unsigned int from, unsigned int n)
{
	struct viplb_flow_tuple t;
	struct viplb_xdp_flow v;
	unsigned int i, found = 0;

	for (i = from; i < from + n; i++) {
		viplb_flow_tuple_v4(&t, htonl(0xcb007100 | (1 + i / 60000)),
				    inet_addr("192.0.2.10"),
				    htons(1024 + i % 60000), htons(80),
				    IPPROTO_TCP);
		found += !bpf_map_lookup_elem(fd, &t, &v);
	}
	return found;
}

static unsigned int flows_entries(int fd)
{
	struct viplb_flow_tuple key, next;
	unsigned int n = 0;

	if (bpf_map_get_next_key(fd, NULL, &next))
		return 0;
	do {
		key = next;
		n++;
	} while (!bpf_map_get_next_key(fd, &key, &next));
	return n;
}

struct lru_ctx {
	struct viplb *skel;
	struct xdp_maps m;
	int prog;
	unsigned char pkt[256];
	size_t len;
};

static int lru_load(struct lru_ctx *c, const struct lru_variant *v)
{
	struct lb_backend b[3];
	struct lb_service s;

	c->skel = load(&c->m, v->max, v->flags);
	if (!c->skel)
		return -1;
	c->prog = bpf_program__fd(c->skel->progs.viplb_xdp);
	service(&s, b, 80);
	c->len = packet(c->pkt, "192.0.2.10", 80);
	return xdp_svc_put(&c->m, &s, false);
}

static void lru_unload(struct lru_ctx *c)
{
	xdp_maps_release(&c->m, false);
	viplb__destroy(c->skel);
}

struct lru_thread {
	pthread_t tid;
	const struct lru_ctx *c;
	int cpu;
	unsigned int from, n;
	double ns;
};

static void *lru_thread(void *arg)
{
	struct lru_thread *t = arg;
	unsigned char pkt[256];

	memcpy(pkt, t->c->pkt, sizeof(pkt));
	t->ns = flows_run(t->c->prog, pkt, t->c->len, t->cpu, t->from, t->n,
			  false);
	return NULL;
}

/* n new flows on each CPU at once, from flow from; mean ns per packet. */
static double flows_parallel(const struct lru_ctx *c, int ncpus,
			     unsigned int from, unsigned int n)
{
	struct lru_thread t[2];
	double ns = 0;
	int i;

	if (ncpus < 2)
		return -1;
	for (i = 0; i < 2; i++) {
		t[i] = (struct lru_thread){ .c = c, .cpu = i,
					    .from = from + i * n, .n = n };
		if (pthread_create(&t[i].tid, NULL, lru_thread, &t[i]))
			return -1;
	}
	for (i = 0; i < 2; i++) {
		pthread_join(t[i].tid, NULL);
		if (t[i].ns < 0)
			return -1;
		ns += t[i].ns;
	}
	return ns / (2 * n);
}

/* Flows [0, n), 100 from each CPU in turn. */
static int flows_spread(struct lru_ctx *c, unsigned int n, int ncpus)
{
	unsigned int i, chunk;

	for (i = 0; i < n; i += chunk) {
		chunk = n - i < 100 ? n - i : 100;
		if (flows_run(c->prog, c->pkt, c->len, i / 100 % ncpus, i,
			      chunk, false) < 0)
			return -1;
	}
	return 0;
}

/*
 * Each variant, on a fresh map each time:
 *  - 1024 early flows then K new ones, from CPU 0: how many early ones
 *    are still pinned, counted by lru_hit when they are sent again
 *    (newest first) and by lookups from here, which leave the LRU alone;
 *  - N flows, 100 from each CPU in turn: how many are still pinned; and
 *    1024 flows pinned on CPU 0, sent again from the last CPU;
 *  - ns per packet of misses and hits, the map not full, then full, and
 *    of misses on two CPUs at once.
 * Returns 1 if a path counter differs from the packets sent.
 */
static int lru_bench(FILE *out, int floor_prog, unsigned int n)
{
	const unsigned int early = 1024, m = n / 4;
	int ncpus = libbpf_num_possible_cpus();
	struct lru_variant var[] = {
		{ "per-CPU LRUs (NO_COMMON_LRU), N", BPF_F_NO_COMMON_LRU, n },
		{ "common LRU, N", 0, n },
		{ "common LRU, N + 128 per CPU (viplb)", 0,
		  xdp_flows_map_size(n) },
	};
	const int nvar = ARRAY_SIZE(var);
	/*
	 * Per variant: miss (not full), hit, miss (full, evicts), hit, and
	 * misses (full) on two CPUs at once.
	 */
	double best[3][5], floor_ns = 1e12, t;
	const unsigned int ks[] = { n / 2, n, 2 * n };
	struct utsname uts;
	struct lru_ctx c;
	bool exact = true;
	__u64 hit, miss;
	int v, r, k;

	uname(&uts);
	fprintf(out, "# The flows map: per-CPU LRUs against a common LRU\n\n");
	fprintf(out, "N = %u flows, %d possible CPUs, Linux %s; the real program, one BPF_PROG_TEST_RUN per packet.\n\n",
		n, ncpus, uts.release);

	fprintf(out, "## Retention: %u early flows, then K new flows, all from CPU 0\n\n",
		early);
	fprintf(out, "| flows map | K | early flows still pinned (lru_hit) | by lookup | entries in the map |\n");
	fprintf(out, "| --- | ---: | ---: | ---: | ---: |\n");
	for (v = 0; v < nvar; v++) {
		for (k = 0; k < (int)ARRAY_SIZE(ks); k++) {
			unsigned int pinned, entries;

			if (lru_load(&c, &var[v]))
				return 1;
			if (flows_run(c.prog, c.pkt, c.len, 0, 0, early + ks[k],
				      false) < 0)
				return 1;
			pinned = flows_present(c.m.flows, 0, early);
			entries = flows_entries(c.m.flows);
			zero_counters(&c.m);
			flows_run(c.prog, c.pkt, c.len, 0, 0, early, true);
			hit = counter(&c.m, VIPLB_XDP_ST_LRU_HIT);
			miss = counter(&c.m, VIPLB_XDP_ST_LRU_MISS);
			if (hit + miss != early)
				exact = false;
			fprintf(out, "| %s | %u | %llu | %u | %u |\n",
				var[v].name, ks[k], (unsigned long long)hit,
				pinned, entries);
			fflush(out);
			lru_unload(&c);
		}
	}

	fprintf(out, "\n## N flows, 100 from each CPU in turn; then %u flows inserted on CPU 0 sent again from CPU %d\n\n",
		early, ncpus - 1);
	fprintf(out, "| flows map | of N flows, still pinned (lru_hit) | by lookup | entries | cross-CPU lru_hit of %u |\n",
		early);
	fprintf(out, "| --- | ---: | ---: | ---: | ---: |\n");
	for (v = 0; v < nvar; v++) {
		unsigned int pinned, entries;
		__u64 cross;

		if (lru_load(&c, &var[v]))
			return 1;
		if (flows_spread(&c, n, ncpus) < 0)
			return 1;
		pinned = flows_present(c.m.flows, 0, n);
		entries = flows_entries(c.m.flows);
		zero_counters(&c.m);
		flows_run(c.prog, c.pkt, c.len, 0, 0, n, true);
		hit = counter(&c.m, VIPLB_XDP_ST_LRU_HIT);
		if (hit + counter(&c.m, VIPLB_XDP_ST_LRU_MISS) != n)
			exact = false;
		lru_unload(&c);

		/* Inserted on CPU 0, looked up from the other CPU. */
		if (lru_load(&c, &var[v]))
			return 1;
		flows_run(c.prog, c.pkt, c.len, 0, 0, early, false);
		zero_counters(&c.m);
		flows_run(c.prog, c.pkt, c.len, ncpus - 1, 0, early, false);
		cross = counter(&c.m, VIPLB_XDP_ST_LRU_HIT);
		if (cross + counter(&c.m, VIPLB_XDP_ST_LRU_MISS) != early)
			exact = false;
		lru_unload(&c);
		fprintf(out, "| %s | %llu | %u | %u | %llu |\n", var[v].name,
			(unsigned long long)hit, pinned, entries,
			(unsigned long long)cross);
		fflush(out);
	}

	/* Cost: the variants in turn, five rounds, the best of each. */
	for (v = 0; v < nvar; v++)
		for (k = 0; k < 5; k++)
			best[v][k] = 1e12;
	for (r = 0; r < 5; r++) {
		for (v = 0; v < nvar; v++) {
			__u64 want[5] = { m, m, m, m, 2 * m }, got[5];
			double ns[5];

			if (lru_load(&c, &var[v]))
				return 1;
			zero_counters(&c.m);
			ns[0] = flows_run(c.prog, c.pkt, c.len, 0, 0, m, false);
			got[0] = counter(&c.m, VIPLB_XDP_ST_LRU_MISS);
			zero_counters(&c.m);
			ns[1] = flows_run(c.prog, c.pkt, c.len, 0, 0, m, false);
			got[1] = counter(&c.m, VIPLB_XDP_ST_LRU_HIT);
			/* Fill the map: every later insert evicts. */
			flows_run(c.prog, c.pkt, c.len, 0, m, n, false);
			zero_counters(&c.m);
			ns[2] = flows_run(c.prog, c.pkt, c.len, 0, m + n, m,
					  false);
			got[2] = counter(&c.m, VIPLB_XDP_ST_LRU_MISS);
			zero_counters(&c.m);
			ns[3] = flows_run(c.prog, c.pkt, c.len, 0, m + n, m,
					  false);
			got[3] = counter(&c.m, VIPLB_XDP_ST_LRU_HIT);
			/* Fill the last CPU's share too (per-CPU LRUs). */
			flows_run(c.prog, c.pkt, c.len, ncpus - 1, 2 * m + n, n,
				  false);
			zero_counters(&c.m);
			ns[4] = flows_parallel(&c, ncpus, 2 * m + 2 * n, m) * m;
			got[4] = counter(&c.m, VIPLB_XDP_ST_LRU_MISS);
			lru_unload(&c);
			for (k = 0; k < 5; k++) {
				if (got[k] != want[k] || ns[k] < 0)
					exact = false;
				if (ns[k] / m < best[v][k])
					best[v][k] = ns[k] / m;
			}
		}
		t = flows_run(floor_prog, c.pkt, c.len, 0, 0, m, false);
		if (t / m < floor_ns)
			floor_ns = t / m;
	}
	fprintf(out, "\n## ns per packet, on CPU 0 (the last column: CPUs 0 and 1), %u flows each, best of 5 rounds\n\n",
		m);
	fprintf(out, "| flows map | miss + insert (map not full) | hit | miss + insert (map full: evicts) | hit | miss + insert (full), CPUs 0 and 1 at once |\n");
	fprintf(out, "| --- | ---: | ---: | ---: | ---: | ---: |\n");
	for (v = 0; v < nvar; v++)
		fprintf(out, "| %s | %.0f | %.0f | %.0f | %.0f | %.0f |\n",
			var[v].name, best[v][0], best[v][1], best[v][2],
			best[v][3], best[v][4]);
	fprintf(out, "\nfloor of the method (a program that only returns XDP_TX, one run per packet): %.0f ns\n",
		floor_ns);
	fprintf(out, "\nPer-path counters (lru_miss, lru_hit) %s the number of packets%s.\n",
		exact ? "equal" : "DO NOT equal",
		exact ? ": every packet took the path measured" : "");
	return exact ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *counts = "1 1000 10000", *outfile = NULL;
	int repeat = 1000000, opt, floor_prog, prog, n, have = 0;
	struct lb_backend b[3];
	struct lb_service s;
	struct xdp_maps m;
	struct viplb *skel;
	unsigned char pkt[256];
	cpu_set_t cpus;
	double floor_ns, t, setup = 0;
	char *list, *tok;
	FILE *out = stdout;
	__u32 ret;
	unsigned long lru_flows = 0;
	bool exact = true;
	size_t len;

	while ((opt = getopt(argc, argv, "r:n:o:l:")) != -1) {
		switch (opt) {
		case 'r':
			repeat = atoi(optarg);
			break;
		case 'n':
			counts = optarg;
			break;
		case 'o':
			outfile = optarg;
			break;
		case 'l':
			lru_flows = strtoul(optarg, NULL, 0);
			if (lru_flows < 4096 || lru_flows > 4000000) {
				fprintf(stderr, "xdp_bench: -l takes 4096 to 4000000 flows\n");
				return 2;
			}
			break;
		default:
			fprintf(stderr, "usage: xdp_bench [-r REPEAT] [-n COUNTS] [-o FILE] [-l FLOWS]\n");
			return 2;
		}
	}
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus) || net_setup()) {
		fprintf(stderr, "xdp_bench: setup failed (root? veth? ethtool?)\n");
		return 1;
	}
	floor_prog = xdp_tx_prog();
	if (outfile && !(out = fopen(outfile, "w"))) {
		perror(outfile);
		return 1;
	}
	if (lru_flows) {
		opt = lru_bench(out, floor_prog, lru_flows);
		if (out != stdout)
			fclose(out);
		return opt;
	}
	skel = load(&m, xdp_flows_map_size(VIPLB_XDP_FLOWS_DEFAULT), -1);
	if (!skel)
		return 1;
	prog = bpf_program__fd(skel->progs.viplb_xdp);
	len = packet(pkt, "192.0.2.10", 1);
	floor_ns = run(floor_prog, pkt, len, repeat, true, &ret);

	fprintf(out, "# XDP fast path, ns per packet (BPF_PROG_TEST_RUN, %d repeats, CPU 0)\n\n",
		repeat);
	fprintf(out, "floor of the method (a program that only returns XDP_TX, live frames): %.0f ns\n\n",
		floor_ns);
	fprintf(out, "| services | XDP_TX floor (live) | lru hit (live) | lru miss via ring (live) | non-VIP pass | ring update | setup | map memory |\n");
	fprintf(out, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");

	list = strdup(counts);
	for (tok = strtok(list, " ,"); tok; tok = strtok(NULL, " ,")) {
		double hit, miss, pass, upd = 0, row_floor;
		__u64 c_hit, c_miss, c_pass;
		int i, k;

		n = atoi(tok);
		if (n < 1 || n > VIPLB_XDP_VIPS_MAX - 1)
			continue;
		t = now();
		for (; have < n; have++) {
			service(&s, b, have + 1);
			if (xdp_svc_put(&m, &s, false)) {
				fprintf(stderr, "xdp_bench: service %d failed\n",
					have + 1);
				return 1;
			}
		}
		setup += now() - t;
		fprintf(stderr, "xdp_bench: %d services ready (%.1f s in all)\n",
			n, setup);
		/* The last service is the one measured. */
		len = packet(pkt, "192.0.2.10", n);

		/* Ring update time: a weight change rewrites one ring. */
		service(&s, b, n);
		t = now();
		for (k = 0; k < 10; k++) {
			b[0].weight = 1 + k % 2 * 2;
			xdp_svc_put(&m, &s, false);
		}
		upd = (now() - t) / 10;
		b[0].weight = 1;
		xdp_svc_put(&m, &s, false);

		/* The floor, now. */
		row_floor = run(floor_prog, pkt, len, repeat, true, &ret);

		/* LRU hit: pin the flow once, then measure. */
		flush_flows(&m);
		run(prog, pkt, len, 1, true, &ret);
		zero_counters(&m);
		hit = run(prog, pkt, len, repeat, true, &ret);
		c_hit = counter(&m, VIPLB_XDP_ST_LRU_HIT);

		/* Ring path every time: backends weight 0, ring unchanged. */
		flush_flows(&m);
		for (i = 0; i < VIPLB_XDP_MAX_BACKENDS; i++)
			if (m.be[i].state == VIPLB_XDP_BE_LIVE &&
			    m.be[i].port == htons(n))
				m.be[i].weight = 0;
		zero_counters(&m);
		miss = run(prog, pkt, len, repeat, true, &ret);
		c_miss = counter(&m, VIPLB_XDP_ST_LRU_MISS);
		t = run(floor_prog, pkt, len, repeat, true, &ret);
		if (t < row_floor)
			row_floor = t;
		for (i = 0; i < VIPLB_XDP_MAX_BACKENDS; i++)
			if (m.be[i].state == VIPLB_XDP_BE_LIVE &&
			    m.be[i].port == htons(n))
				m.be[i].weight = 1;

		/* Not a VIP: passed, packet unchanged, plain repeat. */
		len = packet(pkt, "192.0.2.99", 80);
		zero_counters(&m);
		pass = run(prog, pkt, len, repeat, false, &ret);
		c_pass = counter(&m, VIPLB_XDP_ST_NOT_VIP);

		fprintf(stderr,
			"xdp_bench: %d services: hit %.1f ns (%llu hits), miss %.1f ns (%llu misses), pass %.1f ns (%llu passes)\n",
			n, hit, (unsigned long long)c_hit, miss,
			(unsigned long long)c_miss, pass,
			(unsigned long long)c_pass);
		if (c_hit != (__u64)repeat || c_miss != (__u64)repeat ||
		    c_pass != (__u64)repeat) {
			fprintf(stderr, "xdp_bench: a path counter differs from the repeat count\n");
			exact = false;
		}
		fprintf(out, "| %d | %.0f | %.0f | %.0f | %.0f | %.2f ms | %.1f s | %.1f MiB |\n",
			n, row_floor, hit, miss, pass, upd * 1e3, setup,
			map_memory() / 1048576.0);
		fflush(out);
	}
	fprintf(out, "\nPer-path counters (lru_hit, lru_miss, pass_not_vip) %s the repeat count%s.\n",
		exact ? "equal" : "DO NOT equal",
		exact ? ": every iteration took the path measured" : "");
	fprintf(out, "\nns per packet of a dr service (TCP SYN, 118 bytes) of 3 backends, the last\n"
		"service written. \"live\" runs use BPF_F_TEST_XDP_LIVE_FRAMES (every\n"
		"iteration starts from the original frame and is really sent with\n"
		"XDP_TX on a veth): compare them with the XDP_TX floor of the same row,\n"
		"a program that only returns XDP_TX run the same way. \"non-VIP pass\"\n"
		"runs a plain repeat (the packet is not changed). \"ring update\": one\n"
		"weight change (xdp_svc_put(): a new 65537-slot Maglev table built and\n"
		"swapped in). \"setup\": writing all the services of the row from\n"
		"empty. \"map memory\": the memlock of every map of the program, rings\n"
		"included.\n");
	if (out != stdout)
		fclose(out);
	free(list);
	xdp_maps_release(&m, false);
	viplb__destroy(skel);
	return 0;
}
