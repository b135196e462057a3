// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_bench: nanoseconds per packet of the XDP program, with 1 and 10,000
 * services, beside Katran's balancer if its object is given (-k); map
 * memory, setup and ring update time at 10,000 services.
 *
 * Method: a plain BPF_PROG_TEST_RUN repeat of wrap.bpf.c's viplb_wrap,
 * which writes the original frame back before every iteration and
 * tail-calls the program measured, so that a program that rewrites or
 * encapsulates the packet takes the same path every time.  (Live frames,
 * BPF_F_TEST_XDP_LIVE_FRAMES, do not restore the packet bytes between
 * iterations: an encapsulating program sees its own output.)  The
 * wrapper's own cost is measured by tail-calling viplb_floor (returns
 * XDP_TX) on the same frame, and net = wrapped - floor.
 *
 * Paths: dr and tun, IPv4 and IPv6, each with a flows-map hit (the same
 * flow every iteration, pinned by one run first) and a miss (the wrapper
 * gives each iteration a new source port and address: a miss, a ring
 * lookup and an insert into a full LRU); for tun a miss without the
 * insert too ("no pin": viplb's backends at weight 0, Katran above its
 * flood guard's 125,000 new flows a second); and a packet to no VIP.
 * After every run viplb's counters must show one XDP action and one
 * path counter (lru_hit, lru_miss or pass_not_vip) per iteration, and
 * Katran's its own (packets of the VIP; lru misses): otherwise the bench
 * fails.
 *
 * The figures are interleaved: each of ROUNDS rounds runs every figure
 * once (REPEAT iterations), in turn, so that a change of the host's load
 * touches them all; min and median over the rounds are shown.  Katran's
 * fallback LRU is as large as viplb's flows map (-L).  With 1
 * service, the maps hold only the service of the figure run; with 10,000,
 * the 4 measured services and 9,996 others (dr, 3 backends, default
 * table size).  Katran runs at 1 VIP, tun (IPIP, IP6IP6) only.
 *
 * With -l N, instead: the flows map as viplb makes it (one LRU for all
 * CPUs, N + 128 entries per CPU: xdp_flows_map_size()) beside per-CPU
 * LRUs (BPF_F_NO_COMMON_LRU) and a common LRU of exactly N: which flows
 * stay pinned as new ones come, from one CPU or from all, and ns per
 * packet of a miss (which inserts) and of a hit.  Each flow is one
 * BPF_PROG_TEST_RUN without repeat (a repeated packet is one flow), so
 * the floor of that method is shown too.  See lru_bench().
 *
 * Usage: xdp_bench [-r REPEAT] [-R ROUNDS] [-n "1 10000"] [-k KATRAN_OBJ]
 *                  [-L FLOWS] [-S FLOWS] [-f NAME] [-o FILE] [-l FLOWS]
 * -f runs only the figures whose name contains NAME (and the floors).
 * -L: the flows viplb's flows map holds (default VIPLB_XDP_FLOWS_DEFAULT;
 * the map has xdp_flows_map_size() entries); Katran's fallback LRU gets
 * as many entries.  -S FLOWS adds the tun v4 figures of both programs
 * again, interleaved with the others, each loaded a second time with
 * LRUs of FLOWS flows ("small LRU"): what the LRU's size costs.
 * Needs root.  About 3 GB of memory at 10,000 services.
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
#include "wrap.skel.h"
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
	    sh("ip neigh add 198.51.100.13 lladdr 02:00:00:00:01:13 dev v0 nud permanent") ||
	    sh("ip addr add 2001:db8:b::1/64 dev v0 nodad") ||
	    sh("ip neigh add 2001:db8:b::11 lladdr 02:00:00:00:01:11 dev v0 nud permanent") ||
	    sh("ip neigh add 2001:db8:b::12 lladdr 02:00:00:00:01:12 dev v0 nud permanent") ||
	    sh("ip neigh add 2001:db8:b::13 lladdr 02:00:00:00:01:13 dev v0 nud permanent"))
		return -1;
	f = fopen("/proc/sys/net/ipv4/ip_forward", "w");
	if (!f || fputs("1", f) < 0 || fclose(f))
		return -1;
	f = fopen("/proc/sys/net/ipv6/conf/all/forwarding", "w");
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

/* Ethernet + IPv4|IPv6 + TCP ACK, 64 bytes of payload, to VIP:80. */
static size_t ack_frame(unsigned char *b, int af, const char *dst,
			__u32 *saddr_off, __u32 *sport_off)
{
	size_t l3 = af == AF_INET ? 20 : 40, len = 14 + l3 + 20 + 64;
	unsigned char *ip = b + 14, *tcp = ip + l3;

	memset(b, 0, len);
	memcpy(b, "\x02\x00\x00\x00\x00\xa0\x02\x00\x00\x00\x0c\x01", 12);
	if (af == AF_INET) {
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
		*saddr_off = 14 + 15;
	} else {
		b[12] = 0x86;
		b[13] = 0xdd;
		ip[0] = 0x60;
		ip[5] = 20 + 64;
		ip[6] = IPPROTO_TCP;
		ip[7] = 64;
		inet_pton(AF_INET6, "2001:db8:c::50", ip + 8);
		inet_pton(AF_INET6, dst, ip + 24);
		*saddr_off = 14 + 8 + 15;
	}
	*sport_off = 14 + l3;
	tcp[0] = 0x9c;
	tcp[1] = 0x40;
	tcp[3] = 80;
	tcp[12] = 0x50;
	tcp[13] = 0x10;
	return len;
}

/* Ethernet + IPv4 + TCP SYN, 64 bytes of payload, to VIP:port. */
static size_t packet(unsigned char *b, const char *dst, uint16_t dport)
{
	__u32 saddr_off, sport_off;
	size_t len = ack_frame(b, AF_INET, dst, &saddr_off, &sport_off);
	unsigned char *tcp = b + sport_off;

	tcp[2] = dport >> 8;
	tcp[3] = dport & 0xff;
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

/* Sum of the "memlock" of every map of the program, slot pools included. */
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
		    (strcmp(info.name, "viplb_pool") &&
		     strcmp(info.name, "vips") &&
		     strcmp(info.name, "vip_gen") &&
		     strcmp(info.name, "pools") &&
		     strcmp(info.name, "backends") &&
		     strcmp(info.name, "flows") &&
		     strcmp(info.name, "svc_stats") &&
		     strcmp(info.name, "be_stats") &&
		     strcmp(info.name, "stats") && strcmp(info.name, "config") &&
		     strcmp(info.name, "tx_ports") &&
		     strcmp(info.name, "rr_next") &&
		     strcmp(info.name, "vlans") && strcmp(info.name, "svcs") &&
		     strcmp(info.name, "nh_cache"))) {
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
	m->pools = bpf_map__fd(skel->maps.pools);
	m->backends = bpf_map__fd(skel->maps.backends);
	m->flows = bpf_map__fd(skel->maps.flows);
	m->svc_stats = bpf_map__fd(skel->maps.svc_stats);
	m->be_stats = bpf_map__fd(skel->maps.be_stats);
	m->stats = bpf_map__fd(skel->maps.stats);
	m->config = bpf_map__fd(skel->maps.config);
	m->tx_ports = bpf_map__fd(skel->maps.tx_ports);
	m->vlans = bpf_map__fd(skel->maps.vlans);
	m->rr_next = bpf_map__fd(skel->maps.rr_next);
	m->svcs = bpf_map__fd(skel->maps.svcs);
	inet_pton(AF_INET6, "2001:db8:b::1", cfg.tun_src6);
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

/*
 * The wrapped method (see the top of this file).
 */


struct wrapper {
	struct wrap *skel;
	int prog, floor, target;
};

static int wrapper_load(struct wrapper *w)
{
	w->skel = wrap__open_and_load();
	if (!w->skel) {
		fprintf(stderr, "xdp_bench: cannot load the wrapper\n");
		return -1;
	}
	w->prog = bpf_program__fd(w->skel->progs.viplb_wrap);
	w->floor = bpf_program__fd(w->skel->progs.viplb_floor);
	w->target = bpf_map__fd(w->skel->maps.target);
	return 0;
}

/*
 * MISS_NOPIN: a miss whose backend has weight 0 (draining) while the
 * ring still names it: no flow is pinned, the miss path without the
 * insert, as Katran's above its flood guard's 125,000 new flows/s.
 */
enum path_kind { HIT, MISS, MISS_NOPIN, PASS };

/**
 * struct figure - one figure: a program on a frame, on a path
 * @name: as printed
 * @katran: Katran's program, else viplb's (or the floor, @floor)
 * @floor: the wrapper alone
 * @af, @vip: the frame's family and destination
 * @kind: the path; MISS: a new flow every iteration
 * @mode: viplb's service of the figure (dr or tun), for 1 service
 * @small: the program with the small LRUs (-S), 1 service only
 * @ns: wrapped ns per packet of each round
 */
struct figure {
	const char *name;
	bool katran, floor;
	int af;
	const char *vip;
	enum path_kind kind;
	int mode;
	bool small;
	double ns[64];
	double net_min, net_med;
	bool exact;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void min_med(const double *v, int n, double *min, double *med)
{
	double s[64];

	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	*min = s[0];
	*med = s[n / 2];
}

/* Katran's object, loaded and configured for one v4 and one v6 VIP. */
struct katran {
	struct bpf_object *obj;
	int prog, stats;
};

/* Katran's map values (katran/lib/bpf/balancer_structs.h), for its maps. */
struct k_vip_def {
	__be32 addr[4];
	__u16 port;
	__u8 proto;
};

struct k_vip_meta {
	__u32 flags;
	__u32 vip_num;
};

struct k_real_def {
	__be32 addr[4];
	__u8 flags;
};

struct k_stats {
	__u64 v1, v2;
};

#define K_RING_SIZE 65537
#define K_MAX_VIPS 512
#define K_F_IPV6 1
#define K_LRU_CNTRS 0

/*
 * Katran's fallback LRU (fallback_cache, one LRU for all CPUs, as viplb's
 * flows map) gets @lru_entries, viplb's flows map's size: the cost of a
 * miss grows with the LRU (its buckets and entries leave the caches), so
 * both must have the same.
 */
static int katran_load(struct katran *k, const char *path, __u32 lru_entries)
{
	struct k_vip_def v4 = { .port = htons(80), .proto = IPPROTO_TCP };
	struct k_vip_def v6 = v4;
	struct k_vip_meta m4 = { 0, 0 }, m6 = { 0, 1 };
	struct k_real_def r4 = { 0 }, r6 = { .flags = K_F_IPV6 };
	__u64 mac = 0;
	__u32 key, real, zero = 0;
	int vips, reals, rings, ctl;

	struct bpf_map *lru;

	k->obj = bpf_object__open_file(path, NULL);
	lru = k->obj ? bpf_object__find_map_by_name(k->obj, "fallback_cache") :
		       NULL;
	if (!lru || bpf_map__set_max_entries(lru, lru_entries) ||
	    bpf_object__load(k->obj)) {
		fprintf(stderr, "xdp_bench: cannot load Katran's %s with a %u-entry fallback_cache\n",
			path, lru_entries);
		return -1;
	}
	k->prog = bpf_program__fd(bpf_object__next_program(k->obj, NULL));
	vips = bpf_object__find_map_fd_by_name(k->obj, "vip_map");
	reals = bpf_object__find_map_fd_by_name(k->obj, "reals");
	rings = bpf_object__find_map_fd_by_name(k->obj, "ch_rings");
	ctl = bpf_object__find_map_fd_by_name(k->obj, "ctl_array");
	k->stats = bpf_object__find_map_fd_by_name(k->obj, "stats");
	if (k->prog < 0 || vips < 0 || reals < 0 || rings < 0 || ctl < 0 ||
	    k->stats < 0) {
		fprintf(stderr, "xdp_bench: Katran's object lacks a map\n");
		return -1;
	}
	inet_pton(AF_INET, "192.0.2.11", v4.addr);
	inet_pton(AF_INET6, "2001:db8:a::11", v6.addr);
	inet_pton(AF_INET, "198.51.100.11", r4.addr);
	inet_pton(AF_INET6, "2001:db8:b::11", r6.addr);
	memcpy(&mac, "\x02\x00\x00\x00\x01\x11", 6);
	real = 1;
	if (bpf_map_update_elem(vips, &v4, &m4, 0) ||
	    bpf_map_update_elem(vips, &v6, &m6, 0) ||
	    bpf_map_update_elem(reals, &real, &r4, 0) ||
	    bpf_map_update_elem(ctl, &zero, &mac, 0))
		goto fail;
	real = 2;
	if (bpf_map_update_elem(reals, &real, &r6, 0))
		goto fail;
	/* One real per VIP: every slot of VIP 0's ring is 1, of VIP 1's 2. */
	for (key = 0; key < 2 * K_RING_SIZE; key++) {
		real = key < K_RING_SIZE ? 1 : 2;
		if (bpf_map_update_elem(rings, &key, &real, 0))
			goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "xdp_bench: Katran's maps: %s\n", strerror(errno));
	return -1;
}

static void katran_zero(struct katran *k)
{
	int ncpu = libbpf_num_possible_cpus();
	struct k_stats *v = calloc(ncpu, sizeof(*v));
	__u32 key;

	for (key = 0; v && key < 2 * K_MAX_VIPS; key++)
		bpf_map_update_elem(k->stats, &key, v, 0);
	free(v);
}

/* Katran's counter @key, v1 or v2, summed over the CPUs. */
static __u64 katran_counter(struct katran *k, __u32 key, bool v2)
{
	int ncpu = libbpf_num_possible_cpus(), i;
	struct k_stats *v = calloc(ncpu, sizeof(*v));
	__u64 sum = 0;

	if (v && !bpf_map_lookup_elem(k->stats, &key, v))
		for (i = 0; i < ncpu; i++)
			sum += v2 ? v[i].v2 : v[i].v1;
	free(v);
	return sum;
}

/* One wrapped run of @target on the figure's frame; ns per packet. */
static double wrapped_run(struct wrapper *w, int target, struct figure *f,
			  int repeat, __u32 *retval)
{
	struct wrap__bss *bss = w->skel->bss;
	unsigned char frame[256];
	__u32 zero = 0;
	size_t len;

	len = ack_frame(frame, f->af, f->vip, &bss->saddr_off,
			&bss->sport_off);
	memcpy(bss->frame, frame, len);
	bss->frame_len = len;
	bss->flow_step = f->kind == MISS || f->kind == MISS_NOPIN;
	/*
	 * Counter 0 is the one flow of the hits; a miss run takes the next
	 * ones, up to 2^23, after which the flows repeat.
	 */
	if (!bss->flow_step)
		bss->flow_seq = 0;
	else if (!bss->flow_seq || bss->flow_seq + repeat >= 1U << 23)
		bss->flow_seq = 1;
	if (bpf_map_update_elem(w->target, &zero, &target, 0)) {
		fprintf(stderr, "xdp_bench: tail call target: %s\n",
			strerror(errno));
		return -1;
	}
	return run(w->prog, frame, len, repeat, false, retval);
}

static const char *const vips4[] = { "192.0.2.10", "192.0.2.11" };
static const char *const vips6[] = { "2001:db8:a::10", "2001:db8:a::11" };
static const char *const bes6[] = { "2001:db8:b::11", "2001:db8:b::12",
				    "2001:db8:b::13" };

/* The measured service of family @af in mode @mode (dr or tun). */
static void measured_service(struct lb_service *s, struct lb_backend *b,
			     int af, int mode)
{
	int tun = mode == VIPLB_MODE_TUN;
	size_t i;

	service(s, b, 80);
	s->mode = mode;
	s->key.af = af;
	if (af == AF_INET6) {
		inet_pton(AF_INET6, vips6[tun], &s->key.addr);
		for (i = 0; i < 3; i++)
			inet_pton(AF_INET6, bes6[i], &b[i].key.addr);
	} else {
		inet_pton(AF_INET, vips4[tun], &s->key.addr);
	}
	for (i = 0; i < 3; i++)
		b[i].key.port = 0;
}

/* The weight of the measured service's backends, in place. */
static int set_weights(struct xdp_maps *m, int af, int mode, __u32 weight)
{
	struct viplb_xdp_service val;
	struct viplb_xdp_vip_key key = { .port = htons(80),
					 .proto = IPPROTO_TCP };
	struct lb_backend b[3];
	struct lb_service s;
	__u32 i;

	measured_service(&s, b, af, mode);
	memcpy(key.addr, &s.key.addr, af == AF_INET ? 4 : 16);
	key.af = af == AF_INET ? VIPLB_FLOW_AF_INET : VIPLB_FLOW_AF_INET6;
	if (bpf_map_lookup_elem(m->vips, &key, &val))
		return -1;
	for (i = 0; i < VIPLB_XDP_MAX_BACKENDS; i++)
		if (m->be[i].state == VIPLB_XDP_BE_LIVE &&
		    m->be[i].svc_id == val.id)
			m->be[i].weight = weight;
	return 0;
}

static int put_measured(struct xdp_maps *m, int af, int mode)
{
	struct lb_backend b[3];
	struct lb_service s;
	int err;

	measured_service(&s, b, af, mode);
	err = xdp_svc_put(m, &s, false);
	if (err)
		fprintf(stderr, "xdp_bench: service: %s\n", strerror(-err));
	return err;
}

/* Katran's VIP packets, total packets and LRU misses. */
static void katran_counters(struct katran *k, int af, __u64 *got)
{
	got[0] = katran_counter(k, af == AF_INET ? 0 : 1, false);
	got[1] = katran_counter(k, K_MAX_VIPS + K_LRU_CNTRS, false);
	got[2] = katran_counter(k, K_MAX_VIPS + K_LRU_CNTRS, true);
}

/*
 * Katran's runs.  Its flood guard skips the LRU insert once more than
 * 125,000 new flows came in the last second; its counters (zeroed here)
 * hold the guard's state.  A miss runs in parts of K_RUN_MAX iterations,
 * the counters zeroed before each, so that every miss inserts, as
 * viplb's do; a "no pin" miss turns the guard on first (K_RUN_MAX + 5,000
 * new flows), so that none does.  ns per packet; counters in @got.
 */
#define K_RUN_MAX 100000

static double katran_run(struct figure *f, int repeat, struct wrapper *w,
			 struct katran *k, __u64 *got, __u32 *ret)
{
	__u64 part[3], before[3];
	double ns, total = 0;
	int n, done;

	katran_zero(k);
	if (f->kind == HIT) {
		/* Pinned with the guard off; then counted from 0. */
		if (wrapped_run(w, k->prog, f, 1, ret) < 0)
			return -1;
		katran_zero(k);
	}
	if (f->kind == MISS_NOPIN &&
	    wrapped_run(w, k->prog, f, K_RUN_MAX + 5000, ret) < 0)
		return -1;
	if (f->kind != MISS) {
		katran_counters(k, f->af, before);
		ns = wrapped_run(w, k->prog, f, repeat, ret);
		katran_counters(k, f->af, got);
		for (n = 0; n < 3; n++)
			got[n] -= before[n];
		return ns;
	}
	got[0] = got[1] = got[2] = 0;
	for (done = 0; done < repeat; done += n) {
		n = repeat - done < K_RUN_MAX ? repeat - done : K_RUN_MAX;
		katran_zero(k);
		ns = wrapped_run(w, k->prog, f, n, ret);
		if (ns < 0)
			return -1;
		total += ns * n;
		katran_counters(k, f->af, part);
		got[0] += part[0];
		got[1] += part[1];
		got[2] += part[2];
	}
	return total / repeat;
}

/*
 * -S FLOWS: a second viplb program whose flows map holds FLOWS flows, and
 * a second Katran whose fallback LRU has as many entries, for the "small
 * LRU" figures (1 service), interleaved with the others.
 */
static struct {
	unsigned long flows;	/* 0: no -S */
	__u32 entries;
	struct viplb *skel;
	struct xdp_maps m;
	int prog;
	struct katran kat, *k;
} small;

/*
 * One figure's run of one round: the program on the path, then the
 * counters checked against @repeat.  For a hit the flow is pinned by one
 * run first.
 */
static int figure_run(struct figure *f, int round, int repeat,
		      struct wrapper *w, struct xdp_maps *m, int prog,
		      struct katran *k, bool only_one)
{
	__u32 ret, want = f->kind == PASS ? XDP_PASS : XDP_TX;
	__u64 got[3] = { 0 }, rep = repeat;
	int target;
	double ns;

	if (f->small) {
		m = &small.m;
		prog = small.prog;
		k = small.k;
	}
	target = f->floor ? w->floor : prog;

	if (f->katran) {
		ns = katran_run(f, repeat, w, k, got, &ret);
	} else {
		if (!f->floor && only_one &&
		    (xdp_svc_flush(m) ||
		     put_measured(m, f->af, f->mode ? f->mode : VIPLB_MODE_DR)))
			return -1;
		/* Pins the flow (again, if its backend id changed). */
		if (f->kind == HIT && !f->floor &&
		    wrapped_run(w, target, f, 1, &ret) < 0)
			return -1;
		if (!f->floor)
			zero_counters(m);
		if (f->kind == MISS_NOPIN &&
		    set_weights(m, f->af, f->mode, 0))
			return -1;
		ns = wrapped_run(w, target, f, repeat, &ret);
		if (f->kind == MISS_NOPIN &&
		    set_weights(m, f->af, f->mode, 1))
			return -1;
	}
	if (ns < 0)
		return -1;
	f->ns[round] = ns;
	if (ret != want) {
		fprintf(stderr, "xdp_bench: %s: action %u, not %u\n", f->name,
			ret, want);
		f->exact = false;
	}
	if (f->floor)
		return 0;
	if (f->katran) {
		if (got[0] != rep || got[1] != rep ||
		    got[2] != (f->kind == HIT ? 0 : rep))
			f->exact = false;
	} else {
		got[0] = counter(m, want);
		got[1] = counter(m, f->kind == HIT ? VIPLB_XDP_ST_LRU_HIT :
				 f->kind == PASS ? VIPLB_XDP_ST_NOT_VIP :
				 VIPLB_XDP_ST_LRU_MISS);
		if (got[0] != rep || got[1] != rep)
			f->exact = false;
	}
	if (!f->exact)
		fprintf(stderr, "xdp_bench: %s: counters %llu %llu %llu for %d iterations\n",
			f->name, (unsigned long long)got[0],
			(unsigned long long)got[1], (unsigned long long)got[2],
			repeat);
	return 0;
}

#define FIG(n, kat, fl, a, v, k, md) \
	{ .name = n, .katran = kat, .floor = fl, .af = a, .vip = v, \
	  .kind = k, .mode = md, .exact = true }
#define FIG_SMALL(n, kat, k) \
	{ .name = n, .katran = kat, .af = AF_INET, .vip = "192.0.2.11", \
	  .kind = k, .mode = VIPLB_MODE_TUN, .small = true, .exact = true }

static struct figure figs_tmpl[] = {
	FIG("floor (wrapper alone), IPv4 frame", false, true, AF_INET, "192.0.2.11", HIT, 0),
	FIG("floor (wrapper alone), IPv6 frame", false, true, AF_INET6, "2001:db8:a::11", HIT, 0),
	FIG("Katran tun v4 hit", true, false, AF_INET, "192.0.2.11", HIT, 0),
	FIG("viplb tun v4 hit", false, false, AF_INET, "192.0.2.11", HIT, VIPLB_MODE_TUN),
	FIG("Katran tun v4 miss", true, false, AF_INET, "192.0.2.11", MISS, 0),
	FIG("viplb tun v4 miss", false, false, AF_INET, "192.0.2.11", MISS, VIPLB_MODE_TUN),
	FIG("Katran tun v4 miss, no pin", true, false, AF_INET, "192.0.2.11", MISS_NOPIN, 0),
	FIG("viplb tun v4 miss, no pin", false, false, AF_INET, "192.0.2.11", MISS_NOPIN, VIPLB_MODE_TUN),
	FIG("Katran tun v6 hit", true, false, AF_INET6, "2001:db8:a::11", HIT, 0),
	FIG("viplb tun v6 hit", false, false, AF_INET6, "2001:db8:a::11", HIT, VIPLB_MODE_TUN),
	FIG("Katran tun v6 miss", true, false, AF_INET6, "2001:db8:a::11", MISS, 0),
	FIG("viplb tun v6 miss", false, false, AF_INET6, "2001:db8:a::11", MISS, VIPLB_MODE_TUN),
	FIG("Katran tun v6 miss, no pin", true, false, AF_INET6, "2001:db8:a::11", MISS_NOPIN, 0),
	FIG("viplb tun v6 miss, no pin", false, false, AF_INET6, "2001:db8:a::11", MISS_NOPIN, VIPLB_MODE_TUN),
	FIG("viplb dr v4 hit", false, false, AF_INET, "192.0.2.10", HIT, VIPLB_MODE_DR),
	FIG("viplb dr v4 miss", false, false, AF_INET, "192.0.2.10", MISS, VIPLB_MODE_DR),
	FIG("viplb dr v6 hit", false, false, AF_INET6, "2001:db8:a::10", HIT, VIPLB_MODE_DR),
	FIG("viplb dr v6 miss", false, false, AF_INET6, "2001:db8:a::10", MISS, VIPLB_MODE_DR),
	FIG("viplb not a VIP (pass)", false, false, AF_INET, "192.0.2.99", PASS, 0),
	FIG_SMALL("Katran tun v4 hit, small LRU", true, HIT),
	FIG_SMALL("viplb tun v4 hit, small LRU", false, HIT),
	FIG_SMALL("Katran tun v4 miss, small LRU", true, MISS),
	FIG_SMALL("viplb tun v4 miss, small LRU", false, MISS),
	FIG_SMALL("Katran tun v4 miss, no pin, small LRU", true, MISS_NOPIN),
	FIG_SMALL("viplb tun v4 miss, no pin, small LRU", false, MISS_NOPIN),
};

#define NFIGS ((int)ARRAY_SIZE(figs_tmpl))

/* The floor figure of @f's frame. */
static const struct figure *floor_of(const struct figure *figs,
				     const struct figure *f)
{
	return &figs[f->af == AF_INET ? 0 : 1];
}

/* The figure of @figs named like @f with "viplb" for "Katran". */
static const struct figure *viplb_of(const struct figure *figs,
				     const struct figure *f)
{
	int i;

	for (i = 0; i < NFIGS; i++)
		if (!strncmp(figs[i].name, "viplb", 5) &&
		    !strcmp(figs[i].name + 5, f->name + 6))
			return &figs[i];
	return NULL;
}

/* -f: only the figures whose name has this (and the floors). */
static const char *only_figs;

static bool skipped(const struct figure *f, bool katran, bool one)
{
	return (f->katran && !katran) || (f->small && (!one || !small.prog)) ||
	       (only_figs && !f->floor && !strstr(f->name, only_figs));
}

/* ROUNDS rounds of every figure, interleaved.  1 if a counter is off. */
static int phase(struct figure *figs, int rounds, int repeat,
		 struct wrapper *w, struct xdp_maps *m, int prog,
		 struct katran *k, bool only_one)
{
	double min, med, fmin, fmed;
	bool exact = true;
	int r, i;

	memcpy(figs, figs_tmpl, sizeof(figs_tmpl));
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < NFIGS; i++) {
			if (skipped(&figs[i], k != NULL, only_one))
				continue;
			if (figure_run(&figs[i], r, repeat, w, m, prog, k,
				       only_one))
				return -1;
		}
		fprintf(stderr, "xdp_bench: round %d of %d done\n", r + 1,
			rounds);
	}
	for (i = 0; i < NFIGS; i++) {
		if (skipped(&figs[i], k != NULL, only_one))
			continue;
		exact &= figs[i].exact;
		min_med(figs[i].ns, rounds, &min, &med);
		min_med(floor_of(figs, &figs[i])->ns, rounds, &fmin, &fmed);
		figs[i].net_min = min - fmin;
		figs[i].net_med = med - fmed;
	}
	return exact ? 0 : 1;
}

static void phase_table(FILE *out, struct figure *figs, int rounds,
			bool katran, bool one, const char *what)
{
	double min, med;
	int i;

	fprintf(out, "\n### %s\n\n", what);
	fprintf(out, "| program, path | wrapped min | wrapped median | net min | net median | counters = iterations |\n");
	fprintf(out, "| --- | ---: | ---: | ---: | ---: | --- |\n");
	for (i = 0; i < NFIGS; i++) {
		if (skipped(&figs[i], katran, one))
			continue;
		min_med(figs[i].ns, rounds, &min, &med);
		if (figs[i].floor)
			fprintf(out, "| %s | %.0f | %.0f | | | |\n",
				figs[i].name, min, med);
		else
			fprintf(out, "| %s | %.0f | %.0f | %.0f | %.0f | %s |\n",
				figs[i].name, min, med, figs[i].net_min,
				figs[i].net_med, figs[i].exact ? "yes" : "**NO**");
	}
}

int main(int argc, char **argv)
{
	const char *counts = "1 10000", *outfile = NULL, *kobj = NULL;
	int repeat = 1000000, rounds = 7, opt, floor_prog, prog, n, have = 0;
	static struct figure figs[2][NFIGS];
	struct lb_backend b[3];
	struct katran kat, *k = NULL;
	struct wrapper w;
	struct lb_service s;
	struct xdp_maps m;
	struct viplb *skel;
	cpu_set_t cpus;
	double t, setup = 0, upd = 0;
	char *list, *tok;
	FILE *out = stdout;
	unsigned long lru_flows = 0, flows = VIPLB_XDP_FLOWS_DEFAULT, nflows;
	__u32 flows_max;
	int rc = 0, nphase = 0, sizes[2] = { 0 }, i, j;

	while ((opt = getopt(argc, argv, "r:R:n:k:o:l:L:S:f:")) != -1) {
		switch (opt) {
		case 'r':
			repeat = atoi(optarg);
			break;
		case 'R':
			rounds = atoi(optarg);
			if (rounds < 1 || rounds > 64) {
				fprintf(stderr, "xdp_bench: -R takes 1 to 64 rounds\n");
				return 2;
			}
			break;
		case 'n':
			counts = optarg;
			break;
		case 'k':
			kobj = optarg;
			break;
		case 'f':
			only_figs = optarg;
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
		case 'L':
		case 'S':
			nflows = strtoul(optarg, NULL, 0);
			if (nflows < 1 || nflows > 4000000) {
				fprintf(stderr, "xdp_bench: -%c takes 1 to 4000000 flows\n",
					opt);
				return 2;
			}
			*(opt == 'L' ? &flows : &small.flows) = nflows;
			break;
		default:
			fprintf(stderr, "usage: xdp_bench [-r REPEAT] [-R ROUNDS] [-n COUNTS] [-k KATRAN_OBJ] [-L FLOWS] [-S FLOWS] [-f NAME] [-o FILE] [-l FLOWS]\n");
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
	flows_max = xdp_flows_map_size(flows);
	skel = load(&m, flows_max, -1);
	if (!skel || wrapper_load(&w))
		return 1;
	prog = bpf_program__fd(skel->progs.viplb_xdp);
	if (kobj && access(kobj, R_OK)) {
		fprintf(stderr, "xdp_bench: no Katran object %s: Katran skipped\n",
			kobj);
		kobj = NULL;
	}
	if (kobj) {
		if (katran_load(&kat, kobj, flows_max))
			return 1;
		k = &kat;
	}
	if (small.flows) {
		small.entries = xdp_flows_map_size(small.flows);
		small.skel = load(&small.m, small.entries, -1);
		if (!small.skel)
			return 1;
		small.prog = bpf_program__fd(small.skel->progs.viplb_xdp);
		if (kobj) {
			if (katran_load(&small.kat, kobj, small.entries))
				return 1;
			small.k = &small.kat;
		}
	}

	list = strdup(counts);
	for (tok = strtok(list, " ,"); tok && nphase < 2; tok = strtok(NULL, " ,")) {
		n = atoi(tok);
		if (n < 1 || n > VIPLB_XDP_VIPS_MAX - 1 || (n > 1 && n < 5))
			continue;
		if (n > 1) {
			/* n - 4 others, then the 4 measured. */
			xdp_svc_flush(&m);
			t = now();
			for (have = 0; have < n - 4; have++) {
				service(&s, b, have + 1);
				inet_pton(AF_INET, "192.0.2.20", &s.key.addr);
				if (xdp_svc_put(&m, &s, false)) {
					fprintf(stderr, "xdp_bench: service %d failed\n",
						have + 1);
					return 1;
				}
			}
			for (i = 0; i < 4; i++)
				if (put_measured(&m, i < 2 ? AF_INET : AF_INET6,
						 i % 2 ? VIPLB_MODE_TUN :
						 VIPLB_MODE_DR))
					return 1;
			setup = now() - t;
			/* A weight change rewrites one ring. */
			measured_service(&s, b, AF_INET, VIPLB_MODE_TUN);
			t = now();
			for (j = 0; j < 10; j++) {
				b[0].weight = 1 + j % 2 * 2;
				xdp_svc_put(&m, &s, false);
			}
			upd = (now() - t) / 10;
			b[0].weight = 1;
			xdp_svc_put(&m, &s, false);
			fprintf(stderr, "xdp_bench: %d services ready in %.1f s\n",
				n, setup);
		}
		opt = phase(figs[nphase], rounds, repeat, &w, &m, prog,
			    n == 1 ? k : NULL, n == 1);
		if (opt < 0)
			return 1;
		rc |= opt;
		sizes[nphase++] = n;
	}
	free(list);

	fprintf(out, "# XDP fast path, ns per packet (wrapped BPF_PROG_TEST_RUN, %d rounds of %d iterations, CPU 0)\n",
		rounds, repeat);
	for (i = 0; i < nphase; i++) {
		char what[128];

		snprintf(what, sizeof(what), "%d service%s%s", sizes[i],
			 sizes[i] > 1 ? "s" : "",
			 sizes[i] == 1 && k ? ", beside Katran (1 VIP)" : "");
		phase_table(out, figs[i], rounds, sizes[i] == 1 && k,
			    sizes[i] == 1, what);
	}
	if (nphase && sizes[0] == 1) {
		fprintf(out, "\n### viplb / Katran, net ns per packet, 1 service\n\n");
		if (!k) {
			fprintf(out, "Katran skipped: no object (build/katran/balancer.bpf.o, or KATRAN_OBJ=).\n");
		} else {
			fprintf(out, "| path | viplb net min | Katran net min | ratio (min) | viplb net median | Katran net median | ratio (median) |\n");
			fprintf(out, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
			for (i = 0; i < NFIGS; i++) {
				const struct figure *kf = &figs[0][i], *vf;

				vf = viplb_of(figs[0], kf);
				if (!kf->katran || !vf ||
				    skipped(kf, true, true) ||
				    skipped(vf, true, true))
					continue;
				fprintf(out, "| %s | %.0f | %.0f | %.2f | %.0f | %.0f | %.2f |\n",
					vf->name + 6, vf->net_min, kf->net_min,
					vf->net_min / kf->net_min, vf->net_med,
					kf->net_med, vf->net_med / kf->net_med);
			}
		}
	}
	if (nphase == 2) {
		fprintf(out, "\n### Scale: viplb's net median at %d services / at %d\n\n",
			sizes[1], sizes[0]);
		fprintf(out, "| path | %d | %d | ratio |\n| --- | ---: | ---: | ---: |\n",
			sizes[0], sizes[1]);
		for (i = 0; i < NFIGS; i++) {
			const struct figure *a = &figs[0][i], *z = &figs[1][i];

			if (a->katran || a->floor || a->small ||
			    skipped(a, false, false))
				continue;
			fprintf(out, "| %s | %.0f | %.0f | %.2f |\n", a->name + 6,
				a->net_med, z->net_med, z->net_med / a->net_med);
		}
		fprintf(out, "\nAt %d services: setup (writing them all from empty) %.1f s; one ring update (a weight change: a new 65537-slot table) %.2f ms; map memory (memlock of every map of the program) %.1f MiB.\n",
			sizes[1], setup, upd * 1e3, map_memory() / 1048576.0);
	}
	fprintf(out, "\nPer-path counters %s the iterations%s.\n",
		rc ? "DO NOT equal" : "equal",
		rc ? "" : " in every run: every iteration took the path named");
	fprintf(out, "\nWhat of viplb's figure any balancer with a flow table pays, and what is viplb's own: [xdp_floor.md](xdp_floor.md) (`make -C bench/xdp floor`).\n");
	fprintf(out, "\nwrapped: ns per packet of a plain BPF_PROG_TEST_RUN repeat of a wrapper that\n"
		"writes the original frame (TCP ACK, 64 bytes of payload: 118 bytes IPv4, 138 IPv6)\n"
		"back before every iteration and tail-calls the program (bench/xdp/wrap.bpf.c).\n"
		"floor: the wrapper tail-calling a program that only returns XDP_TX. net = wrapped -\n"
		"floor of the same frame (min - min, median - median). hit: one flow, pinned first;\n"
		"miss: a new flow every iteration (source port and address from a counter): a flows\n"
		"map miss, the ring, and an insert into a full LRU. \"no pin\": the miss without the\n"
		"insert (viplb: the service's backends at weight 0, draining; Katran: its flood guard\n"
		"on, primed with 105,000 new flows). Katran skips the insert above 125,000 new flows\n"
		"a second, so its \"miss\" runs in parts of 100,000 iterations, its counters (the\n"
		"guard's state) zeroed before each. viplb's services have 3 backends, maglev,\n"
		"M = 65537 (xdp_bench's maps, not pinned: nothing else runs them); Katran's VIPs one\n"
		"real each. The LRUs are the same size: viplb's flows map holds %lu flows (%u\n"
		"entries, xdp_flows_map_size()), and Katran's fallback LRU (no per-CPU LRU given;\n"
		"one LRU for all CPUs, as viplb's) gets as many entries, not its own 1,000: a miss\n"
		"costs more in a larger LRU, whose buckets and entries do not stay in the caches.\n"
		"Every figure is checked against the counters: viplb's XDP action and lru_hit,\n"
		"lru_miss or pass_not_vip; Katran's VIP packets and LRU lookups and misses (its\n"
		"stats map).\n", flows, flows_max);
	if (small.flows)
		fprintf(out, "\n\"small LRU\": the tun v4 figures again, in the same rounds, on a second\n"
			"copy of each program: viplb's flows map holding %lu flows (%u entries), Katran's\n"
			"fallback LRU as many entries (its own default: 1,000). Beside the figures above,\n"
			"what the LRU's size costs: a miss reads and evicts entries that stay in the caches.\n",
			small.flows, small.entries);
	if (out != stdout)
		fclose(out);
	xdp_maps_release(&m, false);
	viplb__destroy(skel);
	wrap__destroy(w.skel);
	if (k)
		bpf_object__close(k->obj);
	if (small.skel) {
		xdp_maps_release(&small.m, false);
		viplb__destroy(small.skel);
	}
	if (small.k)
		bpf_object__close(small.k->obj);
	if (rc)
		fprintf(stderr, "xdp_bench: a path counter differs from the iterations\n");
	return rc;
}
