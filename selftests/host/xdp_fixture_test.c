// SPDX-License-Identifier: GPL-2.0
/*
 * Fixture tests of the XDP program (bpf/viplb.bpf.c) through
 * BPF_PROG_TEST_RUN: each case feeds one packet, checks the XDP action and
 * the output bytes exactly, then the counters.  The services are written
 * by the CLI's own map code (user/xdp/maps.c), and the expected packets
 * are built here, independently of the program.
 *
 * bpf_fib_lookup() runs in the test's netns, a private one (unshare) with
 * static neighbours, so every route is known:
 *
 *   a0 02:00:00:00:00:a0  198.51.100.1/24  2001:db8:b::1/64   ingress
 *      backends 198.51.100.11 .12 .13  2001:db8:b::11 ::12 (static neigh)
 *      gateway  198.51.100.254 -> 192.0.2.128/25
 *   b0 02:00:00:00:00:b0  203.0.113.1/24                      other egress
 *      backend  203.0.113.11 (static neigh)
 *
 * Needs root, BPF and veth; skips otherwise.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <libmnl/libmnl.h>

#include <linux/viplb.h>
#include <viplb/hash.h>
#include <viplb/maglev.h>
#include <viplb/xdp.h>

#include "service.h"
#include "viplb.skel.h"
#include "xdp.h"

#include "kselftest_harness.h"

static const unsigned char MAC_A0[6] = { 2, 0, 0, 0, 0, 0xa0 };
static const unsigned char MAC_B0[6] = { 2, 0, 0, 0, 0, 0xb0 };
static const unsigned char MAC_CLIENT[6] = { 2, 0, 0, 0, 0xc, 1 };
static const unsigned char MAC_BE11[6] = { 2, 0, 0, 0, 1, 0x11 };
static const unsigned char MAC_BE12[6] = { 2, 0, 0, 0, 1, 0x12 };
static const unsigned char MAC_BE13[6] = { 2, 0, 0, 0, 1, 0x13 };
static const unsigned char MAC_GW[6] = { 2, 0, 0, 0, 1, 0xfe };
static const unsigned char MAC_B11[6] = { 2, 0, 0, 0, 2, 0x11 };

static int ifindex_a0, ifindex_b0;
static const char *setup_skip;
/* The CPUs the test may run on, as it started. */
static cpu_set_t test_cpus;

/* Network setup, once, in a private netns. */

static int sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc)
		fprintf(stderr, "# setup failed: %s (%d)\n", cmd, rc);
	return rc;
}

static int write_file(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (!f)
		return -1;
	rc = fputs(val, f) < 0;
	return fclose(f) || rc ? -1 : 0;
}

static void net_setup(void)
{
	static const char *const cmds[] = {
		"ip link set lo up",
		"ip link add a0 address 02:00:00:00:00:a0 type veth peer name a1 address 02:00:00:00:00:a1",
		"ip link add b0 address 02:00:00:00:00:b0 type veth peer name b1 address 02:00:00:00:00:b1",
		"ip link set a0 up && ip link set a1 up && ip link set b0 up && ip link set b1 up",
		"ip addr add 198.51.100.1/24 dev a0",
		"ip addr add 2001:db8:b::1/64 dev a0 nodad",
		"ip addr add 203.0.113.1/24 dev b0",
		"ip neigh add 198.51.100.11 lladdr 02:00:00:00:01:11 dev a0 nud permanent",
		"ip neigh add 198.51.100.12 lladdr 02:00:00:00:01:12 dev a0 nud permanent",
		"ip neigh add 198.51.100.13 lladdr 02:00:00:00:01:13 dev a0 nud permanent",
		"ip neigh add 198.51.100.254 lladdr 02:00:00:00:01:fe dev a0 nud permanent",
		"ip neigh add 2001:db8:b::11 lladdr 02:00:00:00:01:11 dev a0 nud permanent",
		"ip neigh add 2001:db8:b::12 lladdr 02:00:00:00:01:12 dev a0 nud permanent",
		"ip neigh add 203.0.113.11 lladdr 02:00:00:00:02:11 dev b0 nud permanent",
		"ip route add 192.0.2.128/25 via 198.51.100.254",
	};
	size_t i;

	if (geteuid()) {
		setup_skip = "needs root";
		return;
	}
	if (unshare(CLONE_NEWNET)) {
		setup_skip = "unshare(CLONE_NEWNET) failed";
		return;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (sh(cmds[i])) {
			setup_skip = "network setup failed (veth?)";
			return;
		}
	}
	if (write_file("/proc/sys/net/ipv4/ip_forward", "1") ||
	    write_file("/proc/sys/net/ipv6/conf/all/forwarding", "1")) {
		setup_skip = "cannot enable forwarding";
		return;
	}
	ifindex_a0 = if_nametoindex("a0");
	ifindex_b0 = if_nametoindex("b0");
}

/* Checksums, written for the test. */

static uint16_t csum16(const void *p, size_t len)
{
	const unsigned char *b = p;
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void set_ipv4_csum(unsigned char *ip)
{
	uint16_t c;

	ip[10] = ip[11] = 0;
	c = csum16(ip, (ip[0] & 0xf) * 4);
	ip[10] = c >> 8;
	ip[11] = c & 0xff;
}

/* Packets: Ethernet [VLAN] IP TCP/UDP payload, built byte by byte. */

struct pkt {
	unsigned char b[2048];
	size_t len;
	size_t l3; /* offset of the IP header */
};

struct flow_spec {
	int af;
	const char *src, *dst;
	uint8_t proto;
	uint16_t sport, dport;
	int vlan;		/* VLAN id, 0 for none */
	uint8_t ttl;		/* default 64 */
	uint8_t tos;
	uint16_t id;
	uint16_t frag;		/* IPv4 frag_off field */
	uint32_t flowlabel;	/* IPv6 */
	int options;		/* IPv4 option words */
	size_t payload;		/* default 32 */
};

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void build(struct pkt *p, const struct flow_spec *f)
{
	size_t payload = f->payload ? f->payload : 32, l4len, off = 12, i;
	unsigned char *ip, *l4;

	memset(p, 0, sizeof(*p));
	memcpy(p->b, MAC_A0, 6);
	memcpy(p->b + 6, MAC_CLIENT, 6);
	if (f->vlan) {
		put16(p->b + off, ETH_P_8021Q);
		put16(p->b + off + 2, f->vlan);
		off += 4;
	}
	put16(p->b + off, f->af == AF_INET ? ETH_P_IP : ETH_P_IPV6);
	p->l3 = off + 2;
	ip = p->b + p->l3;
	l4len = (f->proto == IPPROTO_TCP ? 20 : 8) + payload;
	if (f->proto != IPPROTO_TCP && f->proto != IPPROTO_UDP)
		l4len = 8 + payload;
	if (f->af == AF_INET) {
		size_t hl = 20 + 4 * f->options;

		ip[0] = 0x40 | hl / 4;
		ip[1] = f->tos;
		put16(ip + 2, hl + l4len);
		put16(ip + 4, f->id);
		put16(ip + 6, f->frag);
		ip[8] = f->ttl ? f->ttl : 64;
		ip[9] = f->proto;
		inet_pton(AF_INET, f->src, ip + 12);
		inet_pton(AF_INET, f->dst, ip + 16);
		for (i = 20; i < hl; i++)
			ip[i] = 1; /* NOP options */
		set_ipv4_csum(ip);
		l4 = ip + hl;
	} else {
		uint32_t w = 6U << 28 | (uint32_t)f->tos << 20 |
			     (f->flowlabel & 0xfffff);

		ip[0] = w >> 24;
		ip[1] = w >> 16;
		ip[2] = w >> 8;
		ip[3] = w;
		put16(ip + 4, l4len);
		ip[6] = f->proto;
		ip[7] = f->ttl ? f->ttl : 64;
		inet_pton(AF_INET6, f->src, ip + 8);
		inet_pton(AF_INET6, f->dst, ip + 24);
		l4 = ip + 40;
	}
	put16(l4, f->sport);
	put16(l4 + 2, f->dport);
	if (f->proto == IPPROTO_TCP) {
		l4[12] = 5 << 4;
		l4[13] = 0x02; /* SYN */
	} else {
		put16(l4 + 4, l4len);
	}
	for (i = l4len - payload; i < l4len; i++)
		l4[i] = (unsigned char)i;
	p->len = (size_t)(l4 + l4len - p->b);
}

/* What dr sends: new MACs, TTL (hop limit) one less. */
static void expect_dr(struct pkt *e, const struct pkt *in,
		      const unsigned char *smac, const unsigned char *dmac)
{
	unsigned char *ip;

	*e = *in;
	memcpy(e->b, dmac, 6);
	memcpy(e->b + 6, smac, 6);
	ip = e->b + e->l3;
	if ((ip[0] >> 4) == 4) {
		ip[8]--;
		set_ipv4_csum(ip);
	} else {
		ip[7]--;
	}
}

/* What tun sends: the dr packet wrapped in an outer header. */
static void expect_tun(struct pkt *e, const struct pkt *in,
		       const unsigned char *smac, const unsigned char *dmac,
		       const char *src, const char *dst)
{
	struct pkt inner;
	unsigned char *o, *ip;
	size_t hlen, iplen;

	expect_dr(&inner, in, smac, dmac);
	ip = inner.b + inner.l3;
	iplen = inner.len - inner.l3;
	hlen = (ip[0] >> 4) == 4 ? 20 : 40;
	memset(e, 0, sizeof(*e));
	memcpy(e->b, inner.b, inner.l3);
	e->l3 = inner.l3;
	o = e->b + e->l3;
	memcpy(o + hlen, ip, iplen);
	e->len = inner.len + hlen;
	if (hlen == 20) {
		o[0] = 0x45;
		o[1] = ip[1];			/* TOS */
		put16(o + 2, iplen + 20);
		o[4] = ip[4];			/* ID */
		o[5] = ip[5];
		o[6] = ip[6] & 0x40;		/* DF only */
		o[7] = 0;
		o[8] = ip[8];			/* decremented TTL */
		o[9] = IPPROTO_IPIP;
		inet_pton(AF_INET, src, o + 12);
		inet_pton(AF_INET, dst, o + 16);
		set_ipv4_csum(o);
	} else {
		memcpy(o, ip, 4);		/* version, class, label */
		put16(o + 4, iplen);
		o[6] = IPPROTO_IPV6;
		o[7] = ip[7];			/* decremented hop limit */
		inet_pton(AF_INET6, src, o + 8);
		inet_pton(AF_INET6, dst, o + 24);
	}
}

/* Services. */

struct be_spec {
	const char *addr;
	uint16_t port;
	uint32_t weight;
};

static void make_service(struct lb_service *s, int af, uint8_t proto,
			 const char *vip, uint16_t port, uint32_t mode,
			 uint32_t sched, uint32_t m, const struct be_spec *be,
			 size_t n)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	s->key.af = af;
	s->key.proto = proto;
	inet_pton(af, vip, &s->key.addr);
	s->key.port = port;
	s->mode = mode;
	s->sched = sched;
	s->table_size = m ? m : 251;
	s->backends = calloc(n ? n : 1, sizeof(*s->backends));
	s->nr_backends = n;
	s->cap_backends = n;
	for (i = 0; i < n; i++) {
		inet_pton(af, be[i].addr, &s->backends[i].key.addr);
		s->backends[i].key.port = be[i].port ? be[i].port : port;
		s->backends[i].weight = be[i].weight;
	}
}

FIXTURE(xdp)
{
	struct viplb *skel;
	struct xdp_maps m;
	int prog;
};

FIXTURE_SETUP(xdp)
{
	struct viplb_xdp_config cfg = { 0 };
	__u32 zero = 0;

	if (setup_skip)
		SKIP(return, "%s", setup_skip);
	/* The program must load (and pass the verifier) wherever BPF works. */
	self->skel = xdp_skel_open();
	ASSERT_NE(NULL, self->skel)
		TH_LOG("cannot open the XDP program: %s", strerror(errno));
	/* The flows map as "xdp attach" sizes it, for the default N. */
	ASSERT_EQ(0, bpf_map__set_max_entries(self->skel->maps.flows,
			xdp_flows_map_size(VIPLB_XDP_FLOWS_DEFAULT)));
	ASSERT_EQ(0, viplb__load(self->skel))
		TH_LOG("cannot load the XDP program: %s", strerror(errno));
	self->prog = bpf_program__fd(self->skel->progs.viplb_xdp);
	self->m.vip_gen = bpf_map__fd(self->skel->maps.vip_gen);
	/* Ours: a restore closes it when it swaps in a new one. */
	self->m.vips = dup(bpf_map__fd(self->skel->maps.vips));
	self->m.pools = bpf_map__fd(self->skel->maps.pools);
	self->m.backends = bpf_map__fd(self->skel->maps.backends);
	self->m.flows = bpf_map__fd(self->skel->maps.flows);
	self->m.svc_stats = bpf_map__fd(self->skel->maps.svc_stats);
	self->m.be_stats = bpf_map__fd(self->skel->maps.be_stats);
	self->m.stats = bpf_map__fd(self->skel->maps.stats);
	self->m.config = bpf_map__fd(self->skel->maps.config);
	self->m.tx_ports = bpf_map__fd(self->skel->maps.tx_ports);
	self->m.vlans = bpf_map__fd(self->skel->maps.vlans);
	self->m.rr_next = bpf_map__fd(self->skel->maps.rr_next);
	self->m.svcs = bpf_map__fd(self->skel->maps.svcs);
	ASSERT_EQ(0, xdp_maps_init(&self->m));
	cfg.tun_src4 = inet_addr("198.51.100.1");
	inet_pton(AF_INET6, "2001:db8:b::1", cfg.tun_src6);
	ASSERT_EQ(0, bpf_map_update_elem(self->m.config, &zero, &cfg, 0));
}

FIXTURE_TEARDOWN(xdp)
{
	if (self->skel) {
		xdp_maps_release(&self->m, false);
		close(self->m.vips);
		viplb__destroy(self->skel);
	}
}

/* Runs the program once on p from ingress a0; returns the action. */
static int run(struct __test_metadata *_metadata, FIXTURE_DATA(xdp) *self,
	       const struct pkt *in, struct pkt *out)
{
	struct xdp_md ctx = { .data_end = in->len,
			      .ingress_ifindex = ifindex_a0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in->b,
		    .data_size_in = in->len, .data_out = out->b,
		    .data_size_out = sizeof(out->b), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx));
	int err;

	memset(out, 0, sizeof(*out));
	err = bpf_prog_test_run_opts(self->prog, &opts);
	EXPECT_EQ(0, err) TH_LOG("BPF_PROG_TEST_RUN: %s", strerror(errno));
	out->len = opts.data_size_out;
	out->l3 = in->l3;
	return err ? -1 : (int)opts.retval;
}

static void dump(const char *what, const struct pkt *p)
{
	size_t i;

	fprintf(stderr, "# %s (%zu):", what, p->len);
	for (i = 0; i < p->len && i < 96; i++)
		fprintf(stderr, "%s%02x", i % 16 ? " " : "\n#  ", p->b[i]);
	fputc('\n', stderr);
}

#define EXPECT_PKT(want, got)                                               \
	do {                                                                \
		int same_ = (want)->len == (got)->len &&                    \
			    !memcmp((want)->b, (got)->b, (want)->len);      \
		EXPECT_TRUE(same_);                                         \
		if (!same_) {                                               \
			dump("expected", want);                             \
			dump("got", got);                                   \
		}                                                           \
	} while (0)

/*
 * After a change of routes, neighbours or forwarding: the program uses a
 * route it found for VIPLB_XDP_NH_JIFFIES jiffies (2: at most 20 ms at
 * HZ=100) before it asks the FIB again.
 */
static void route_changed(void)
{
	usleep(30 * 1000);
}

static __u64 counter(FIXTURE_DATA(xdp) *self, int i)
{
	struct viplb_xdp_stats st;

	if (xdp_stats_read(&self->m, &st))
		return ~0ULL;
	return st.c[i];
}

/* Counters of a service (id from the vips map) or backend. */
static struct viplb_xdp_counters counters(FIXTURE_DATA(xdp) *self, int fd,
					  __u32 id)
{
	struct viplb_xdp_counters sum = { 0 }, *v;
	int i, n = self->m.nr_cpus;

	v = calloc(n, sizeof(*v));
	if (v && !bpf_map_lookup_elem(fd, &id, v))
		for (i = 0; i < n; i++) {
			sum.packets += v[i].packets;
			sum.bytes += v[i].bytes;
			sum.flows += v[i].flows;
		}
	free(v);
	return sum;
}

/* The vips entry of @s; .id ~0 if none. */
static struct viplb_xdp_service svc_val(FIXTURE_DATA(xdp) *self,
					const struct lb_service *s)
{
	struct viplb_xdp_vip_key k = { 0 };
	struct viplb_xdp_service v = { .id = ~0U };

	memcpy(k.addr, &s->key.addr, s->key.af == AF_INET ? 4 : 16);
	k.port = htons(s->key.port);
	k.proto = s->key.proto;
	k.af = s->key.af;
	bpf_map_lookup_elem(self->m.vips, &k, &v);
	return v;
}

static __u32 svc_id(FIXTURE_DATA(xdp) *self, const struct lb_service *s)
{
	return svc_val(self, s).id;
}

/* The backend id holding addr (any state but free), or ~0. */
static __u32 be_id(FIXTURE_DATA(xdp) *self, int af, const char *addr)
{
	__be32 a[4] = { 0 };
	__u32 i;

	inet_pton(af, addr, a);
	for (i = 0; i < VIPLB_XDP_MAX_BACKENDS; i++)
		if (self->m.be[i].state != VIPLB_XDP_BE_FREE &&
		    !memcmp(self->m.be[i].addr, a, 16))
			return i;
	return ~0U;
}

/* The destination MAC of a forwarded packet names the backend. */
static int backend_of(const struct pkt *out)
{
	if (!memcmp(out->b, MAC_BE11, 6))
		return 11;
	if (!memcmp(out->b, MAC_BE12, 6))
		return 12;
	if (!memcmp(out->b, MAC_BE13, 6))
		return 13;
	return 0;
}

static const struct be_spec BE3[] = {
	{ "198.51.100.11", 0, 1 },
	{ "198.51.100.12", 0, 1 },
	{ "198.51.100.13", 0, 1 },
};

/*
 * A v4 or v6 service with one backend, one packet to it, the exact
 * output, and the counters.
 */
static void one_backend(struct __test_metadata *_metadata,
			FIXTURE_DATA(xdp) *self, int af, uint8_t proto,
			uint32_t mode)
{
	const char *vip = af == AF_INET ? "192.0.2.10" : "2001:db8:a::10";
	const char *cli = af == AF_INET ? "203.0.113.50" : "2001:db8:c::50";
	const char *be = af == AF_INET ? "198.51.100.11" : "2001:db8:b::11";
	const char *src = af == AF_INET ? "198.51.100.1" : "2001:db8:b::1";
	struct be_spec bs = { be, 0, 1 };
	struct flow_spec f = { .af = af, .src = cli, .dst = vip,
			       .proto = proto, .sport = 40000, .dport = 80 };
	struct viplb_xdp_counters c;
	struct lb_service s;
	struct pkt in, out, want;

	make_service(&s, af, proto, vip, 80, mode, VIPLB_SCHED_MAGLEV, 0, &bs,
		     1);
	ASSERT_EQ(0, xdp_svc_put(&self->m, &s, false));
	build(&in, &f);
	if (mode == VIPLB_MODE_DR)
		expect_dr(&want, &in, MAC_A0, MAC_BE11);
	else
		expect_tun(&want, &in, MAC_A0, MAC_BE11, src, be);
	EXPECT_EQ(XDP_TX, run(_metadata, self, &in, &out));
	EXPECT_PKT(&want, &out);
	if (mode == VIPLB_MODE_TUN && af == AF_INET)
		EXPECT_EQ(0, csum16(out.b + out.l3, 20));
	EXPECT_EQ(1, counter(self, VIPLB_XDP_ST_TX));
	EXPECT_EQ(1, counter(self, VIPLB_XDP_ST_LRU_MISS));
	c = counters(self, self->m.svc_stats, svc_id(self, &s));
	EXPECT_EQ(1, c.packets);
	EXPECT_EQ(in.len - in.l3, c.bytes);
	EXPECT_EQ(1, c.flows);
	c = counters(self, self->m.be_stats, be_id(self, af, be));
	EXPECT_EQ(1, c.packets);

	/* The same flow again: a flow-table hit, the same bytes out. */
	EXPECT_EQ(XDP_TX, run(_metadata, self, &in, &out));
	EXPECT_PKT(&want, &out);
	EXPECT_EQ(1, counter(self, VIPLB_XDP_ST_LRU_HIT));
	c = counters(self, self->m.svc_stats, svc_id(self, &s));
	EXPECT_EQ(2, c.packets);
	EXPECT_EQ(1, c.flows);
	free(s.backends);
}

TEST_F(xdp, v4_tcp_dr) { one_backend(_metadata, self, AF_INET, IPPROTO_TCP, VIPLB_MODE_DR); }
TEST_F(xdp, v4_udp_dr) { one_backend(_metadata, self, AF_INET, IPPROTO_UDP, VIPLB_MODE_DR); }
TEST_F(xdp, v6_tcp_dr) { one_backend(_metadata, self, AF_INET6, IPPROTO_TCP, VIPLB_MODE_DR); }
TEST_F(xdp, v6_udp_dr) { one_backend(_metadata, self, AF_INET6, IPPROTO_UDP, VIPLB_MODE_DR); }
TEST_F(xdp, v4_tcp_tun) { one_backend(_metadata, self, AF_INET, IPPROTO_TCP, VIPLB_MODE_TUN); }
TEST_F(xdp, v4_udp_tun) { one_backend(_metadata, self, AF_INET, IPPROTO_UDP, VIPLB_MODE_TUN); }
TEST_F(xdp, v6_tcp_tun) { one_backend(_metadata, self, AF_INET6, IPPROTO_TCP, VIPLB_MODE_TUN); }
TEST_F(xdp, v6_udp_tun) { one_backend(_metadata, self, AF_INET6, IPPROTO_UDP, VIPLB_MODE_TUN); }

/* A service with BE3 on tcp 192.0.2.10:80. */
static void add_be3(struct __test_metadata *_metadata, FIXTURE_DATA(xdp) *self,
		    uint32_t mode, uint32_t sched, struct lb_service *s)
{
	make_service(s, AF_INET, IPPROTO_TCP, "192.0.2.10", 80, mode, sched,
		     0, BE3, 3);
	ASSERT_EQ(0, xdp_svc_put(&self->m, s, false));
}

/* Outer TTL, TOS, DF and ID copied; checksum computed here, and valid. */
TEST_F(xdp, tun_ttl_tos_copy)
{
	struct flow_spec f = { .af = AF_INET, .src = "203.0.113.50",
			       .dst = "192.0.2.10", .proto = IPPROTO_TCP,
			       .sport = 1234, .dport = 80, .ttl = 33,
			       .tos = 0xb8, .id = 0xbeef, .frag = 0x4000 };
	struct be_spec bs = { "198.51.100.12", 0, 1 };
	struct pkt in, out, want;
	struct lb_service s;

	make_service(&s, AF_INET, IPPROTO_TCP, "192.0.2.10", 80,
		     VIPLB_MODE_TUN, VIPLB_SCHED_MAGLEV, 0, &bs, 1);
	ASSERT_EQ(0, xdp_svc_put(&self->m, &s, false));
	build(&in, &f);
	expect_tun(&want, &in, MAC_A0, MAC_BE12, "198.51.100.1",
		   "198.51.100.12");
	ASSERT_EQ(XDP_TX, run(_metadata, self, &in, &out));
	EXPECT_PKT(&want, &out);
	EXPECT_EQ(32, out.b[out.l3 + 8]);	/* outer TTL */
	EXPECT_EQ(32, out.b[out.l3 + 20 + 8]);	/* inner TTL */
	EXPECT_EQ(0xb8, out.b[out.l3 + 1]);	/* outer TOS */
	EXPECT_EQ(0x40, out.b[out.l3 + 6]);	/* DF */
	EXPECT_EQ(0, csum16(out.b + out.l3, 20));
	EXPECT_EQ(0, csum16(out.b + out.l3 + 20, 20));
	free(s.backends);
}

/* IP6IP6: traffic class and flow label copied, hop limit decremented. */
TEST_F(xdp, tun6_class_label_copy)
{
	struct flow_spec f = { .af = AF_INET6, .src = "2001:db8:c::50",
			       .dst = "2001:db8:a::10", .proto = IPPROTO_UDP,
			       .sport = 5353, .dport = 80, .ttl = 7,
			       .tos = 0x2e, .flowlabel = 0xabcde };
	struct be_spec bs = { "2001:db8:b::12", 0, 1 };
	struct pkt in, out, want;
	struct lb_service s;

	make_service(&s, AF_INET6, IPPROTO_UDP, "2001:db8:a::10", 80,
		     VIPLB_MODE_TUN, VIPLB_SCHED_MAGLEV, 0, &bs, 1);
	ASSERT_EQ(0, xdp_svc_put(&self->m, &s, false));
	build(&in, &f);
	expect_tun(&want, &in, MAC_A0, MAC_BE12, "2001:db8:b::1",
		   "2001:db8:b::12");
	ASSERT_EQ(XDP_TX, run(_metadata, self, &in, &out));
	EXPECT_PKT(&want, &out);
	EXPECT_EQ(6, out.b[out.l3 + 7]);
	EXPECT_EQ(0x62, out.b[out.l3]);		/* version 6, class 0x2e */
	EXPECT_EQ(0xea, out.b[out.l3 + 1]);
	free(s.backends);
}

/* Egress on another device: XDP_REDIRECT through tx_ports. */
TEST_F(xdp, redirect_other_device)
{
	struct flow_spec f = { .af = AF_INET, .src = "203.0.113.50",
			       .dst = "192.0.2.10", .proto = IPPROTO_TCP,
			       .sport = 1, .dport = 80 };
	struct be_spec bs = { "203.0.113.11", 0, 1 };
	struct pkt in, out, want;
	struct lb_service s;
	__u32 idx = ifindex_b0;

	make_service(&s, AF_INET, IPPROTO_TCP, "192.0.2.10", 80,
		     VIPLB_MODE_DR, VIPLB_SCHED_MAGLEV, 0, &bs, 1);
	ASSERT_EQ(0, xdp_svc_put(&self->m, &s, false));
	build(&in, &f);

	/* b0 is not a tx port: passed, unchanged. */
	EXPECT_EQ(XDP_PASS, run(_metadata, self, &in, &out));
	EXPECT_PKT(&in, &out);
	EXPECT_EQ(1, counter(self, VIPLB_XDP_ST_NO_TX_PORT));

	ASSERT_EQ(0, bpf_map_update_elem(self->m.tx_ports, &idx, &idx, 0));
	expect_dr(&want, &in, MAC_B0, MAC_B11);
	EXPECT_EQ(XDP_REDIRECT, run(_metadata, self, &in, &out));
	EXPECT_PKT(&want, &out);
	EXPECT_EQ(1, counter(self, VIPLB_XDP_ST_REDIRECT));
	free(s.backends);
}

/* Packets that are not for XDP: passed unchanged, each reason counted. */
static void passed(struct __test_metadata *_metadata, FIXTURE_DATA(xdp) *self,
		   const struct pkt *in, int reason)
{
	struct lb_service s;
	struct pkt out;

	add_be3(_metadata, self, VIPLB_MODE_DR, VIPLB_SCHED_MAGLEV, &s);
	EXPECT_EQ(XDP_PASS, run(_metadata, self, in, &out));
	EXPECT_PKT(in, &out);
	EXPECT_EQ(1, counter(self, reason));
	EXPECT_EQ(1, counter(self, VIPLB_XDP_ST_PASS));
	EXPECT_EQ(0, counter(self, VIPLB_XDP_ST_TX));
	free(s.backends);
}

TEST_F(xdp, pass_non_vip)
{
	struct flow_spec f = { .af = AF_INET, .src = "203.0.113.50",
			       .dst = "192.0.2.11", .proto = IPPROTO_TCP,
			       .sport = 1, .dport = 80 };
	struct pkt in;

	build(&in, &f);
	passed(_metadata, self, &in, VIPLB_XDP_ST_NOT_VIP);
}

TEST_F(xdp, pass_unknown_port)
{
	struct flow_spec f = { .af = AF_INET, .src = "203.0.113.50",
			       .dst = "192.0.2.10", .proto = IPPROTO_TCP,
			       .sport = 1, .dport = 81 };
	struct pkt in;

	build(&in, &f);
	passed(_metadata, self, &in, VIPLB_XDP_ST_NOT_VIP);
}

TEST_F(xdp, pass_udp_to_tcp_vip)
{
	struct flow_spec f = { .af = AF_INET, .src = "203.0.113.50",
			       .dst = "192.0.2.10", .proto = IPPROTO_UDP,
			       .sport = 1, .dport = 80 };
	struct pkt in;

	build(&in, &f);
	passed(_metadata, self, &in, VIPLB_XDP_ST_NOT_VIP);
}

TEST_F(xdp, pass_arp)
{
	static const unsigned char arp[42] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0xc, 1,
		0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0xc, 1,
		192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 192, 0, 2, 10,
	};
	struct pkt in = { .len = sizeof(arp) };

	memcpy(in.b, arp, sizeof(arp));
	passed(_metadata, self, &in, VIPLB_XDP_ST_NOT_IP);
}

TEST_F(xdp, pass_fragment_mf)
{
	struct flow_spec f = { .af = AF_INET, .src = "203.0.113.50",
			       .dst = "192.0.2.10", .proto = IPPROTO_TCP,
			       .sport = 1, .dport = 80, .frag = 0x2000 };
	struct pkt in;

	build(&in, &f);
	passed(_metadata, self, &in, VIPLB_XDP_ST_FRAGMENT);
}

TEST_F(xdp, pass_fragment_offset)
{
	struct flow_spec f = { .af = AF_INET, .src = "203.0.113.50",
			       .dst = "192.0.2.10", .proto = IPPROTO_TCP,
			       .sport = 1, .dport = 80, .frag = 0x00b9 };
	struct pkt in;

	build(&in, &f);
	passed(_metadata, self, &in, VIPLB_XDP_ST_FRAGMENT);
}

TEST_F(xdp, pass_ipv4_options)
{
	struct flow_spec f = { .af = AF_INET, .src = "203.0.113.50",
			       .dst = "192.0.2.10", .proto = IPPROTO_TCP,
			       .sport = 1, .dport = 80, .options = 1 };
	struct pkt in;

	build(&in, &f);
	passed(_metadata, self, &in, VIPLB_XDP_ST_IP_OPTIONS);
}

TEST_F(xdp, pass_unknown_protocol)
{
	struct flow_spec f = { .af = AF_INET, .src = "203.0.113.50",
			       .dst = "192.0.2.10", .proto = IPPROTO_ICMP };
	struct pkt in;

	build(&in, &f);
	passed(_metadata, self, &in, VIPLB_XDP_ST_NOT_L4);
}

/* An ND neighbour solicitation (ICMPv6) to a v6 VIP's address. */
TEST_F(xdp, pass_ipv6_nd)
{
	struct flow_spec f = { .af = AF_INET6, .src = "2001:db8:c::50",
			       .dst = "2001:db8:a::10", .proto = 58,
			       .ttl = 255 };
	struct pkt in;

	build(&in, &f);
	in.b[in.l3 + 40] = 135;
	passed(_metadata, self, &in, VIPLB_XDP_ST_NOT_L4);
}

TEST_F(xdp, pass_ttl_expiring)
{
	struct flow_spec f = { .af = AF_INET, .src = "203.0.113.50",
			       .dst = "192.0.2.10", .proto = IPPROTO_TCP,
			       .sport = 1, .dport = 80, .ttl = 1 };
	struct pkt in;

	build(&in, &f);
	passed(_metadata, self, &in, VIPLB_XDP_ST_TTL);
}

/* nat mode and rr belong to the module. */
TEST_F(xdp, pass_nat_mode_and_lc)
{
	struct flow_spec f = { .af = AF_INET, .src = "203.0.113.50",
			       .dst = "192.0.2.10", .proto = IPPROTO_TCP,
			       .sport = 1, .dport = 80 };
	struct lb_service s;
	struct pkt in, out;

	build(&in, &f);
	add_be3(_metadata, self, VIPLB_MODE_NAT, VIPLB_SCHED_MAGLEV, &s);
	EXPECT_EQ(XDP_PASS, run(_metadata, self, &in, &out));
	EXPECT_PKT(&in, &out);
	EXPECT_EQ(1, counter(self, VIPLB_XDP_ST_NAT_MODE));
	s.mode = VIPLB_MODE_DR;
	s.sched = VIPLB_SCHED_LC;
	ASSERT_EQ(0, xdp_svc_put(&self->m, &s, false));
	EXPECT_EQ(XDP_PASS, run(_metadata, self, &in, &out));
	EXPECT_PKT(&in, &out);
	EXPECT_EQ(1, counter(self, VIPLB_XDP_ST_SCHED));
	s.sched = VIPLB_SCHED_MAGLEV;
	ASSERT_EQ(0, xdp_svc_put(&self->m, &s, false));
	EXPECT_EQ(XDP_TX, run(_metadata, self, &in, &out));
	free(s.backends);
}

/* Inserts a VLAN tag (@tpid, @tci) after the MAC addresses of @p. */
static void add_tag(struct pkt *p, uint16_t tpid, uint16_t tci)
{
	memmove(p->b + 16, p->b + 12, p->len - 12);
	put16(p->b + 12, tpid);
	put16(p->b + 14, tci);
	p->len += 4;
	p->l3 += 4;
}

/*
 * One 802.1Q tag in, the route's egress the untagged ingress device: the
 * tag is popped, for dr and for tun (it used to be sent as it came).
 */
TEST_F(xdp, vlan_popped_for_untagged_egress)
{
	struct flow_spec f = { .af = AF_INET, .src = "203.0.113.50",
			       .dst = "192.0.2.10", .proto = IPPROTO_UDP,
			       .sport = 9, .dport = 80, .vlan = 42 };
	struct flow_spec f6 = { .af = AF_INET6, .src = "2001:db8:c::50",
				.dst = "2001:db8:a::10", .proto = IPPROTO_UDP,
				.sport = 9, .dport = 80, .vlan = 42 };
	struct be_spec bs = { "198.51.100.13", 0, 1 };
	struct be_spec bs6 = { "2001:db8:b::12", 0, 1 };
	struct pkt in, bare, out, want;
	struct lb_service s;

	make_service(&s, AF_INET, IPPROTO_UDP, "192.0.2.10", 80,
		     VIPLB_MODE_DR, VIPLB_SCHED_MAGLEV, 0, &bs, 1);
	ASSERT_EQ(0, xdp_svc_put(&self->m, &s, false));
	build(&in, &f);
	f.vlan = 0;
	build(&bare, &f);
	expect_dr(&want, &bare, MAC_A0, MAC_BE13);
	EXPECT_EQ(XDP_TX, run(_metadata, self, &in, &out));
	EXPECT_PKT(&want, &out);

	s.mode = VIPLB_MODE_TUN;
	ASSERT_EQ(0, xdp_svc_put(&self->m, &s, false));
	expect_tun(&want, &bare, MAC_A0, MAC_BE13, "198.51.100.1",
		   "198.51.100.13");
	EXPECT_EQ(XDP_TX, run(_metadata, self, &in, &out));
	EXPECT_PKT(&want, &out);
	EXPECT_EQ(0x08, out.b[12]);
	EXPECT_EQ(0, csum16(out.b + 14, 20));
	free(s.backends);

	make_service(&s, AF_INET6, IPPROTO_UDP, "2001:db8:a::10", 80,
		     VIPLB_MODE_TUN, VIPLB_SCHED_MAGLEV, 0, &bs6, 1);
	ASSERT_EQ(0, xdp_svc_put(&self->m, &s, false));
	build(&in, &f6);
	f6.vlan = 0;
	build(&bare, &f6);
	expect_tun(&want, &bare, MAC_A0, MAC_BE12, "2001:db8:b::1",
		   "2001:db8:b::12");
	EXPECT_EQ(XDP_TX, run(_metadata, self, &in, &out));
	EXPECT_PKT(&want, &out);
	EXPECT_EQ(3, counter(self, VIPLB_XDP_ST_TX));
	free(s.backends);
}

/*
 * The route's egress is a VLAN device.  The host kernel has no 8021q, so
 * b0 (backend 203.0.113.11) stands for one: the vlans map says it is a
 * VLAN on a0, the ingress, as user space would for a0.42.  The frame
 * leaves a0 tagged with that VLAN: a tag of that VLAN kept (priority
 * bits too), another rewritten, a missing one pushed.  A VLAN on a device
 * XDP does not send on: passed, pass_vlan.  And b0 as itself, a tx port:
 * untagged, the tag popped.
 */
TEST_F(xdp, vlan_egress_keep_rewrite_push)
{
	static const struct {
		int in_vlan;		/* tag of the input frame, 0: none */
		uint16_t vid;		/* the egress VLAN device's */
		uint16_t out_tci;	/* tag of the output frame */
	} cases[] = {
		{ 0xa000 | 42, 42, 0xa000 | 42 },	/* kept, PCP 5 too */
		{ 42, 7, 7 },				/* rewritten */
		{ 0, 7, 7 },				/* pushed */
	};
	struct be_spec bs = { "203.0.113.11", 0, 1 };
	struct viplb_xdp_vlan v = { .lower = ifindex_a0,
				    .proto = htons(ETH_P_8021Q) };
	struct flow_spec f = { .af = AF_INET, .src = "203.0.113.50",
			       .dst = "192.0.2.10", .proto = IPPROTO_TCP,
			       .dport = 80 };
	struct pkt in, bare, out, want;
	struct lb_service s;
	__u32 b0 = ifindex_b0, idx = ifindex_b0;
	uint32_t mode;
	size_t i;

	for (mode = VIPLB_MODE_DR; mode <= VIPLB_MODE_TUN; mode++) {
		make_service(&s, AF_INET, IPPROTO_TCP, "192.0.2.10", 80, mode,
			     VIPLB_SCHED_MAGLEV, 0, &bs, 1);
		ASSERT_EQ(0, xdp_svc_put(&self->m, &s, true));
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			v.vid = cases[i].vid;
			ASSERT_EQ(0, bpf_map_update_elem(self->m.vlans, &b0,
							 &v, 0));
			f.sport = 100 * mode + i;
			f.vlan = 0;
			build(&bare, &f);
			f.vlan = cases[i].in_vlan;
			build(&in, &f);
			if (mode == VIPLB_MODE_DR)
				expect_dr(&want, &bare, MAC_B0, MAC_B11);
			else
				expect_tun(&want, &bare, MAC_B0, MAC_B11,
					   "198.51.100.1", "203.0.113.11");
			add_tag(&want, ETH_P_8021Q, cases[i].out_tci);
			EXPECT_EQ(XDP_TX, run(_metadata, self, &in, &out))
				TH_LOG("mode %u case %zu", mode, i);
			EXPECT_PKT(&want, &out);
		}
		free(s.backends);
	}
	EXPECT_EQ(6, counter(self, VIPLB_XDP_ST_TX));

	/* A VLAN on a device XDP does not send on: passed as it came. */
	v.lower = if_nametoindex("b1");
	ASSERT_EQ(0, bpf_map_update_elem(self->m.vlans, &b0, &v, 0));
	EXPECT_EQ(XDP_PASS, run(_metadata, self, &in, &out));
	EXPECT_PKT(&in, &out);
	EXPECT_EQ(1, counter(self, VIPLB_XDP_ST_VLAN));

	/* b0 a tx port: itself the egress, untagged, the tag popped. */
	ASSERT_EQ(0, bpf_map_update_elem(self->m.tx_ports, &idx, &idx, 0));
	f.sport = 999;
	f.vlan = 0;
	build(&bare, &f);
	f.vlan = 42;
	build(&in, &f);
	expect_tun(&want, &bare, MAC_B0, MAC_B11, "198.51.100.1",
		   "203.0.113.11");
	EXPECT_EQ(XDP_REDIRECT, run(_metadata, self, &in, &out));
	EXPECT_PKT(&want, &out);
}

/*
 * The vlans map follows the netns's devices: an entry of a device that is
 * not a VLAN device (or no longer exists) goes; this netns has no VLAN
 * device (the host kernel has no 8021q), so the map ends empty.
 */
TEST_F(xdp, vlans_sync_drops_stale)
{
	struct viplb_xdp_vlan v = { .lower = ifindex_a0,
				    .proto = htons(ETH_P_8021Q), .vid = 5 };
	__u32 b0 = ifindex_b0, gone = 999999, key;

	ASSERT_EQ(0, bpf_map_update_elem(self->m.vlans, &b0, &v, 0));
	ASSERT_EQ(0, bpf_map_update_elem(self->m.vlans, &gone, &v, 0));
	EXPECT_EQ(0, xdp_vlans_sync(&self->m));
	EXPECT_NE(0, bpf_map_get_next_key(self->m.vlans, NULL, &key));
}

/*
 * The RTM_NEWLINK of a VLAN device, as the kernel sends it (this kernel
 * has no 8021q to dump one): IFLA_LINK, then IFLA_LINKINFO with the kind
 * and the id and protocol, possibly IFLA_LINK_NETNSID.
 */
static struct nlmsghdr *vlan_link_msg(char *buf, const char *kind,
				      __u16 proto, bool other_netns)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;
	struct nlattr *info, *data;

	nlh->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = 42;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "a0.42");
	mnl_attr_put_u32(nlh, IFLA_LINK, 7);
	if (other_netns)
		mnl_attr_put_u32(nlh, IFLA_LINK_NETNSID, 0);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, kind);
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u16(nlh, IFLA_VLAN_PROTOCOL, htons(proto));
	mnl_attr_put_u16(nlh, IFLA_VLAN_ID, 42);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return nlh;
}

TEST_F(xdp, vlan_link_parsed)
{
	char buf[1024];
	struct viplb_xdp_vlan v;
	__u32 ifindex = 0;

	ASSERT_TRUE(xdp_vlan_of_link(vlan_link_msg(buf, "vlan", ETH_P_8021Q,
						   false), &ifindex, &v));
	EXPECT_EQ(42, ifindex);
	EXPECT_EQ(7, v.lower);
	EXPECT_EQ(42, v.vid);
	EXPECT_EQ(htons(ETH_P_8021Q), v.proto);
	ASSERT_TRUE(xdp_vlan_of_link(vlan_link_msg(buf, "vlan", ETH_P_8021AD,
						   false), &ifindex, &v));
	EXPECT_EQ(htons(ETH_P_8021AD), v.proto);
	/* Not a VLAN device; a VLAN whose lower device is in another netns. */
	EXPECT_FALSE(xdp_vlan_of_link(vlan_link_msg(buf, "macvlan",
						    ETH_P_8021Q, false),
				      &ifindex, &v));
	EXPECT_FALSE(xdp_vlan_of_link(vlan_link_msg(buf, "vlan", ETH_P_8021Q,
						    true), &ifindex, &v));
}

/* A service of port 0 takes every port; an exact port wins over it. */
TEST_F(xdp, port0_wildcard)
{
	struct flow_spec f = { .af = AF_INET, .src = "203.0.113.50",
			       .dst = "192.0.2.10", .proto = IPPROTO_TCP,
			       .sport = 7 };
	struct be_spec b11 = { "198.51.100.11", 0, 1 };
	struct be_spec b12 = { "198.51.100.12", 443, 1 };
	struct lb_service any, exact;
	struct pkt in, out;
	uint16_t ports[] = { 22, 443, 65535 };
	size_t i;

	make_service(&any, AF_INET, IPPROTO_TCP, "192.0.2.10", 0,
		     VIPLB_MODE_DR, VIPLB_SCHED_MAGLEV, 0, &b11, 1);
	ASSERT_EQ(0, xdp_svc_put(&self->m, &any, false));
	for (i = 0; i < 3; i++) {
		f.dport = ports[i];
		build(&in, &f);
		EXPECT_EQ(XDP_TX, run(_metadata, self, &in, &out));
		EXPECT_EQ(11, backend_of(&out));
	}
	make_service(&exact, AF_INET, IPPROTO_TCP, "192.0.2.10", 443,
		     VIPLB_MODE_DR, VIPLB_SCHED_MAGLEV, 0, &b12, 1);
	ASSERT_EQ(0, xdp_svc_put(&self->m, &exact, false));
	f.dport = 443;
	f.sport = 8;
	build(&in, &f);
	EXPECT_EQ(XDP_TX, run(_metadata, self, &in, &out));
	EXPECT_EQ(12, backend_of(&out));
	free(any.backends);
	free(exact.backends);
}

/*
 * A pinned flow keeps its backend when the ring changes under it, while
 * a new flow of the same slot follows the new ring.
 */
TEST_F(xdp, lru_hit_survives_ring_change)
{
	struct flow_spec f = { .af = AF_INET, .src = "203.0.113.50",
			       .dst = "192.0.2.10", .proto = IPPROTO_TCP,
			       .dport = 80 };
	struct lb_service s;
	struct pkt in, out;
	int first = 0, sport;

	add_be3(_metadata, self, VIPLB_MODE_DR, VIPLB_SCHED_MAGLEV, &s);
	/* A flow on .11. */
	for (sport = 1000; sport < 1100; sport++) {
		f.sport = sport;
		build(&in, &f);
		ASSERT_EQ(XDP_TX, run(_metadata, self, &in, &out));
		first = backend_of(&out);
		if (first == 11)
			break;
	}
	ASSERT_EQ(11, first);
	/* .11 leaves the ring: drained (weight 0). */
	s.backends[0].weight = 0;
	ASSERT_EQ(0, xdp_svc_put(&self->m, &s, false));
	EXPECT_EQ(XDP_TX, run(_metadata, self, &in, &out));
	EXPECT_EQ(11, backend_of(&out));
	EXPECT_EQ(1, counter(self, VIPLB_XDP_ST_LRU_HIT));
	/* New flows follow the new ring: none goes to .11. */
	for (sport = 60000; sport < 60100; sport++) {
		f.sport = sport;
		build(&in, &f);
		EXPECT_EQ(XDP_TX, run(_metadata, self, &in, &out));
		EXPECT_NE(11, backend_of(&out));
	}
	free(s.backends);
}

/* A drained backend (weight 0) gets no new flow, and none is pinned to it. */
TEST_F(xdp, weight0_no_new_flows)
{
	struct flow_spec f = { .af = AF_INET, .src = "203.0.113.50",
			       .dst = "192.0.2.10", .proto = IPPROTO_TCP,
			       .dport = 80 };
	struct lb_service s;
	struct pkt in, out;
	int sport, seen[14] = { 0 };

	add_be3(_metadata, self, VIPLB_MODE_DR, VIPLB_SCHED_MAGLEV, &s);
	s.backends[1].weight = 0; /* .12 */
	ASSERT_EQ(0, xdp_svc_put(&self->m, &s, false));
	for (sport = 2000; sport < 2300; sport++) {
		f.sport = sport;
		build(&in, &f);
		ASSERT_EQ(XDP_TX, run(_metadata, self, &in, &out));
		seen[backend_of(&out)]++;
	}
	EXPECT_EQ(0, seen[12]);
	EXPECT_GT(seen[11], 0);
	EXPECT_GT(seen[13], 0);
	EXPECT_EQ(0, seen[0]);
	EXPECT_EQ(0, counters(self, self->m.be_stats,
			      be_id(self, AF_INET, "198.51.100.12")).packets);

	/* Every backend drained: passed, to the module. */
	s.backends[0].weight = 0;
	s.backends[2].weight = 0;
	ASSERT_EQ(0, xdp_svc_put(&self->m, &s, false));
	f.sport = 9999;
	build(&in, &f);
	EXPECT_EQ(XDP_PASS, run(_metadata, self, &in, &out));
	EXPECT_PKT(&in, &out);
	EXPECT_EQ(1, counter(self, VIPLB_XDP_ST_NO_BACKEND));
	free(s.backends);
}

/* The slot of Maglev table @table (of @m) the module gives IPv4 flow @f. */
static __u32 module_slot(const __u32 *table, __u32 m,
			 const struct flow_spec *f)
{
	struct viplb_flow_tuple t;

	viplb_flow_tuple_v4(&t, inet_addr(f->src), inet_addr(f->dst),
			    htons(f->sport), htons(f->dport), f->proto);
	return viplb_maglev_lookup(table, m, viplb_flow_hash(&t));
}

/*
 * The program's choice for 2000 flows equals a Maglev table built here by
 * include/viplb/maglev.h over the backends sorted as kmod/sched.c sorts
 * them, indexed by viplb_flow_hash(): the module's choice.  Default M,
 * mixed weights, and a backend listed out of order.
 */
TEST_F(xdp, same_choice_as_module_algorithm)
{
	static const struct be_spec be[] = {
		{ "198.51.100.13", 0, 3 },
		{ "198.51.100.11", 0, 1 },
		{ "198.51.100.12", 0, 2 },
	};
	/* Sorted by address: .11 .12 .13 */
	static const int sorted_name[3] = { 11, 12, 13 };
	static const uint32_t sorted_w[3] = { 1, 2, 3 };
	static __u32 table[VIPLB_TABLE_SIZE_DEFAULT];
	struct viplb_maglev_backend mb[3];
	struct flow_spec f = { .af = AF_INET, .src = "203.0.113.50",
			       .dst = "192.0.2.10", .proto = IPPROTO_UDP,
			       .dport = 80 };
	struct lb_service s;
	struct pkt in, out;
	int i, bad = 0;
	__be32 a[4] = { 0 };

	make_service(&s, AF_INET, IPPROTO_UDP, "192.0.2.10", 80,
		     VIPLB_MODE_DR, VIPLB_SCHED_MAGLEV,
		     VIPLB_TABLE_SIZE_DEFAULT, be, 3);
	ASSERT_EQ(0, xdp_svc_put(&self->m, &s, false));
	for (i = 0; i < 3; i++) {
		a[0] = htonl(0xc6336400 | sorted_name[i]);
		viplb_maglev_backend_init(&mb[i], a, htons(80), sorted_w[i],
					  VIPLB_TABLE_SIZE_DEFAULT);
	}
	ASSERT_EQ(VIPLB_MAGLEV_OK,
		  viplb_maglev_populate(table, VIPLB_TABLE_SIZE_DEFAULT, mb,
					3));
	for (i = 0; i < 2000; i++) {
		f.sport = 1024 + i * 7;
		f.src = i & 1 ? "203.0.113.50" : "203.0.113.51";
		build(&in, &f);
		ASSERT_EQ(XDP_TX, run(_metadata, self, &in, &out));
		if (backend_of(&out) !=
		    sorted_name[module_slot(table, VIPLB_TABLE_SIZE_DEFAULT,
					    &f)])
			bad++;
	}
	EXPECT_EQ(0, bad);
	free(s.backends);
}

/* sh: every flow of one client goes to one backend. */
TEST_F(xdp, sh_source_hash)
{
	struct flow_spec f = { .af = AF_INET, .src = "203.0.113.77",
			       .dst = "192.0.2.10", .proto = IPPROTO_TCP,
			       .dport = 80 };
	struct lb_service s;
	struct pkt in, out;
	int sport, first = -1;

	add_be3(_metadata, self, VIPLB_MODE_DR, VIPLB_SCHED_SH, &s);
	for (sport = 100; sport < 150; sport++) {
		f.sport = sport;
		build(&in, &f);
		ASSERT_EQ(XDP_TX, run(_metadata, self, &in, &out));
		if (first < 0)
			first = backend_of(&out);
		EXPECT_EQ(first, backend_of(&out));
	}
	EXPECT_GT(first, 0);
	free(s.backends);
}

/* FIB: no route, next hop behind a gateway (dr refuses, tun uses it). */
TEST_F(xdp, fib_failure_and_gateway)
{
	struct flow_spec f = { .af = AF_INET, .src = "203.0.113.50",
			       .dst = "192.0.2.10", .proto = IPPROTO_TCP,
			       .sport = 5, .dport = 80 };
	struct be_spec nowhere = { "192.0.2.77", 0, 1 };
	struct be_spec behind = { "192.0.2.200", 0, 1 };
	struct lb_service s;
	struct pkt in, out, want;

	build(&in, &f);
	make_service(&s, AF_INET, IPPROTO_TCP, "192.0.2.10", 80,
		     VIPLB_MODE_DR, VIPLB_SCHED_MAGLEV, 0, &nowhere, 1);
	ASSERT_EQ(0, xdp_svc_put(&self->m, &s, false));
	EXPECT_EQ(XDP_PASS, run(_metadata, self, &in, &out));
	EXPECT_PKT(&in, &out);
	EXPECT_EQ(1, counter(self, VIPLB_XDP_ST_FIB_UNREACHABLE));
	free(s.backends);

	make_service(&s, AF_INET, IPPROTO_TCP, "192.0.2.10", 80,
		     VIPLB_MODE_DR, VIPLB_SCHED_MAGLEV, 0, &behind, 1);
	ASSERT_EQ(0, xdp_svc_put(&self->m, &s, true));
	EXPECT_EQ(XDP_PASS, run(_metadata, self, &in, &out));
	EXPECT_PKT(&in, &out);
	EXPECT_EQ(1, counter(self, VIPLB_XDP_ST_DR_GATEWAY));

	s.mode = VIPLB_MODE_TUN;
	ASSERT_EQ(0, xdp_svc_put(&self->m, &s, false));
	expect_tun(&want, &in, MAC_A0, MAC_GW, "198.51.100.1", "192.0.2.200");
	EXPECT_EQ(XDP_TX, run(_metadata, self, &in, &out));
	EXPECT_PKT(&want, &out);
	free(s.backends);
}

/* Sets a sysctl of the test's netns, e.g. "net/ipv4/ip_forward". */
static int set_sysctl(const char *name, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), "/proc/sys/%s", name);
	return write_file(path, val);
}

/*
 * Forwarding off, as on a director whose stack routes nothing (IPVS dr
 * and tun need no forwarding): dr and tun, IPv4 and IPv6, still sent by
 * XDP, with the same bytes as with forwarding on.
 */
TEST_F(xdp, forwarding_off_served)
{
	static const int afs[] = { AF_INET, AF_INET6 };
	static const uint32_t modes[] = { VIPLB_MODE_DR, VIPLB_MODE_TUN };
	struct lb_service s;
	struct pkt in, out, want;
	int i, j, sent = 0;

	ASSERT_EQ(0, set_sysctl("net/ipv4/ip_forward", "0"));
	ASSERT_EQ(0, set_sysctl("net/ipv6/conf/all/forwarding", "0"));
	/* The FIB is asked from lo: only lo must allow forwarding. */
	ASSERT_EQ(0, set_sysctl("net/ipv4/conf/lo/forwarding", "1"));
	ASSERT_EQ(0, set_sysctl("net/ipv6/conf/lo/forwarding", "1"));
	for (i = 0; i < 2; i++) {
		int af = afs[i];
		const char *vip = af == AF_INET ? "192.0.2.10" : "2001:db8:a::10";
		const char *be = af == AF_INET ? "198.51.100.11" : "2001:db8:b::11";
		const char *src = af == AF_INET ? "198.51.100.1" : "2001:db8:b::1";
		struct be_spec bs = { be, 0, 1 };
		struct flow_spec f = { .af = af, .src = af == AF_INET ?
				       "203.0.113.50" : "2001:db8:c::50",
				       .dst = vip, .proto = IPPROTO_TCP,
				       .sport = 6000, .dport = 80 };

		for (j = 0; j < 2; j++) {
			make_service(&s, af, IPPROTO_TCP, vip, 80, modes[j],
				     VIPLB_SCHED_MAGLEV, 0, &bs, 1);
			ASSERT_EQ(0, xdp_svc_put(&self->m, &s, false));
			f.sport++;
			build(&in, &f);
			if (modes[j] == VIPLB_MODE_DR)
				expect_dr(&want, &in, MAC_A0, MAC_BE11);
			else
				expect_tun(&want, &in, MAC_A0, MAC_BE11, src,
					   be);
			EXPECT_EQ(XDP_TX, run(_metadata, self, &in, &out));
			EXPECT_PKT(&want, &out);
			sent++;
			free(s.backends);
		}
	}
	EXPECT_EQ(sent, counter(self, VIPLB_XDP_ST_TX));

	/* Forwarding off on lo too: the FIB refuses, and says why. */
	ASSERT_EQ(0, set_sysctl("net/ipv6/conf/lo/forwarding", "0"));
	route_changed();
	EXPECT_EQ(XDP_PASS, run(_metadata, self, &in, &out));
	EXPECT_PKT(&in, &out);
	EXPECT_EQ(1, counter(self, VIPLB_XDP_ST_FIB_FWD_DISABLED));
	ASSERT_EQ(0, set_sysctl("net/ipv4/ip_forward", "1"));
	ASSERT_EQ(0, set_sysctl("net/ipv6/conf/all/forwarding", "1"));
}

/*
 * A pinned flow's packets find their service from the backend (svcs),
 * not the vips lookup: every change of the service must reach them.  The
 * flow stays pinned to its backend (same id) while the service changes
 * mode (dr, tun, nat and back), is replaced by a restore in tun mode,
 * and is deleted.
 */
TEST_F(xdp, pinned_flow_follows_service)
{
	struct be_spec bs = { "198.51.100.11", 0, 1 };
	struct flow_spec f = { .af = AF_INET, .src = "203.0.113.50",
			       .dst = "192.0.2.10", .proto = IPPROTO_TCP,
			       .sport = 7100, .dport = 80 };
	struct lb_service_list l = { 0 };
	struct pkt in, out, dr, tun;
	struct lb_service s;

	build(&in, &f);
	expect_dr(&dr, &in, MAC_A0, MAC_BE11);
	expect_tun(&tun, &in, MAC_A0, MAC_BE11, "198.51.100.1",
		   "198.51.100.11");
	make_service(&s, AF_INET, IPPROTO_TCP, "192.0.2.10", 80,
		     VIPLB_MODE_DR, VIPLB_SCHED_MAGLEV, 0, &bs, 1);
	ASSERT_EQ(0, xdp_svc_put(&self->m, &s, false));
	EXPECT_EQ(XDP_TX, run(_metadata, self, &in, &out));
	EXPECT_PKT(&dr, &out);
	EXPECT_EQ(XDP_TX, run(_metadata, self, &in, &out));
	EXPECT_PKT(&dr, &out);

	s.mode = VIPLB_MODE_TUN;
	ASSERT_EQ(0, xdp_svc_put(&self->m, &s, false));
	EXPECT_EQ(XDP_TX, run(_metadata, self, &in, &out));
	EXPECT_PKT(&tun, &out);

	s.mode = VIPLB_MODE_NAT;
	ASSERT_EQ(0, xdp_svc_put(&self->m, &s, false));
	EXPECT_EQ(XDP_PASS, run(_metadata, self, &in, &out));
	EXPECT_PKT(&in, &out);
	EXPECT_EQ(1, counter(self, VIPLB_XDP_ST_NAT_MODE));

	s.mode = VIPLB_MODE_DR;
	ASSERT_EQ(0, xdp_svc_put(&self->m, &s, false));
	EXPECT_EQ(XDP_TX, run(_metadata, self, &in, &out));
	EXPECT_PKT(&dr, &out);

	/* A restore: the service under a new id, in tun mode. */
	l.svcs = &s;
	l.nr = 1;
	s.mode = VIPLB_MODE_TUN;
	ASSERT_EQ(0, xdp_svc_replace(&self->m, &l));
	EXPECT_EQ(XDP_TX, run(_metadata, self, &in, &out));
	EXPECT_PKT(&tun, &out);

	ASSERT_EQ(0, xdp_svc_del(&self->m, &s.key));
	EXPECT_EQ(XDP_PASS, run(_metadata, self, &in, &out));
	EXPECT_PKT(&in, &out);
	EXPECT_EQ(1, counter(self, VIPLB_XDP_ST_NOT_VIP));
	/* The first packet pinned the flow; the others found it. */
	EXPECT_EQ(1, counter(self, VIPLB_XDP_ST_LRU_MISS));
	EXPECT_EQ(4, counter(self, VIPLB_XDP_ST_LRU_HIT));
	free(s.backends);
}

/*
 * The next-hop cache: a route found once serves the next packets to the
 * backend without bpf_fib_lookup() (fib_lookup counts the lookups), and
 * a changed neighbour is used once the cached route is stale.  30 dr
 * packets in one run (a plain repeat: each iteration forwards the last
 * one's output, its TTL one lower) take a few microseconds, less than a
 * jiffy, so the route is looked up once.
 */
TEST_F(xdp, next_hop_cached)
{
	static const unsigned char mac_new[6] = { 2, 0, 0, 0, 1, 0x99 };
	struct be_spec bs = { "198.51.100.11", 0, 1 };
	struct flow_spec f = { .af = AF_INET, .src = "203.0.113.50",
			       .dst = "192.0.2.10", .proto = IPPROTO_TCP,
			       .sport = 7000, .dport = 80 };
	struct xdp_md ctx = { .ingress_ifindex = ifindex_a0 };
	struct pkt in, out, want;
	struct lb_service s;
	int i;

	make_service(&s, AF_INET, IPPROTO_TCP, "192.0.2.10", 80,
		     VIPLB_MODE_DR, VIPLB_SCHED_MAGLEV, 0, &bs, 1);
	ASSERT_EQ(0, xdp_svc_put(&self->m, &s, false));
	free(s.backends);
	build(&in, &f);
	ctx.data_end = in.len;
	{
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in.b,
			    .data_size_in = in.len, .data_out = out.b,
			    .data_size_out = sizeof(out.b), .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx), .repeat = 30);

		ASSERT_EQ(0, bpf_prog_test_run_opts(self->prog, &opts));
		EXPECT_EQ(XDP_TX, opts.retval);
		out.len = opts.data_size_out;
	}
	EXPECT_EQ(30, counter(self, VIPLB_XDP_ST_TX));
	EXPECT_EQ(1, counter(self, VIPLB_XDP_ST_LRU_MISS));
	EXPECT_EQ(29, counter(self, VIPLB_XDP_ST_LRU_HIT));
	/* Once; twice or three times if the run was preempted for a jiffy. */
	EXPECT_GE(3, counter(self, VIPLB_XDP_ST_FIB_LOOKUP));
	/* The last iteration's output: 30 hops down, to the backend's MAC. */
	EXPECT_EQ(64 - 30, out.b[14 + 8]);
	EXPECT_EQ(0, memcmp(out.b, MAC_BE11, 6));

	/* The neighbour changes; the next lookup finds it. */
	ASSERT_EQ(0, system("ip neigh replace 198.51.100.11 lladdr 02:00:00:00:01:99 dev a0 nud permanent"));
	route_changed();
	expect_dr(&want, &in, MAC_A0, mac_new);
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(XDP_TX, run(_metadata, self, &in, &out));
		EXPECT_PKT(&want, &out);
	}
	EXPECT_LT(counter(self, VIPLB_XDP_ST_FIB_LOOKUP), 7);
	ASSERT_EQ(0, system("ip neigh replace 198.51.100.11 lladdr 02:00:00:00:01:11 dev a0 nud permanent"));
	route_changed();
}

/*
 * Each reason bpf_fib_lookup() fails for, counted under its name, the
 * packet passed unchanged: blackhole, unreachable and prohibit routes, no
 * route at all.  (Frag needed: frag_needed; forwarding disabled:
 * forwarding_off_served; no neighbour: no_neigh_metadata.)
 */
TEST_F(xdp, fib_failure_reasons)
{
	static const struct {
		const char *be;
		int stat;
	} cases[] = {
		{ "192.0.2.65", VIPLB_XDP_ST_FIB_UNREACHABLE },	/* blackhole */
		{ "192.0.2.97", VIPLB_XDP_ST_FIB_UNREACHABLE },	/* unreachable */
		{ "192.0.2.113", VIPLB_XDP_ST_FIB_UNREACHABLE }, /* prohibit */
		{ "2001:db8:d::1", VIPLB_XDP_ST_FIB_UNREACHABLE }, /* none */
	};
	struct lb_service s;
	struct pkt in, out;
	size_t i;

	ASSERT_EQ(0, system("ip route add blackhole 192.0.2.64/28 && "
			    "ip route add unreachable 192.0.2.96/28 && "
			    "ip route add prohibit 192.0.2.112/28"));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int af = strchr(cases[i].be, ':') ? AF_INET6 : AF_INET;
		const char *vip = af == AF_INET ? "192.0.2.10" : "2001:db8:a::10";
		struct be_spec bs = { cases[i].be, 0, 1 };
		struct flow_spec f = { .af = af, .src = af == AF_INET ?
				       "203.0.113.50" : "2001:db8:c::50",
				       .dst = vip, .proto = IPPROTO_UDP,
				       .sport = 7000 + i, .dport = 80 };
		__u64 before = counter(self, cases[i].stat);

		make_service(&s, af, IPPROTO_UDP, vip, 80, VIPLB_MODE_TUN,
			     VIPLB_SCHED_MAGLEV, 0, &bs, 1);
		ASSERT_EQ(0, xdp_svc_put(&self->m, &s, true));
		build(&in, &f);
		EXPECT_EQ(XDP_PASS, run(_metadata, self, &in, &out));
		EXPECT_PKT(&in, &out);
		EXPECT_EQ(before + 1, counter(self, cases[i].stat))
			TH_LOG("backend %s", cases[i].be);
		free(s.backends);
	}
	EXPECT_EQ(0, counter(self, VIPLB_XDP_ST_TX));
	EXPECT_EQ(0, counter(self, VIPLB_XDP_ST_ERROR));
	ASSERT_EQ(0, system("ip route del 192.0.2.64/28 && "
			    "ip route del 192.0.2.96/28 && "
			    "ip route del 192.0.2.112/28"));
}

/* Runs viplb_tc once on p (no metadata: see no_neigh_metadata). */
static int run_tc(struct __test_metadata *_metadata, FIXTURE_DATA(xdp) *self,
		  const struct pkt *in, struct pkt *out)
{
	struct __sk_buff ctx = { .ifindex = ifindex_a0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in->b,
		    .data_size_in = in->len, .data_out = out->b,
		    .data_size_out = sizeof(out->b), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx));
	int err;

	memset(out, 0, sizeof(*out));
	err = bpf_prog_test_run_opts(bpf_program__fd(self->skel->progs.viplb_tc),
				     &opts);
	EXPECT_EQ(0, err) TH_LOG("BPF_PROG_TEST_RUN: %s", strerror(errno));
	out->len = opts.data_size_out;
	out->l3 = in->l3;
	return err ? -2 : (int)opts.retval;
}

/*
 * A next hop without a neighbour entry: dr and tun, IPv4 and IPv6, an
 * on-link backend and one behind a gateway (IPv4 or IPv6 for an IPv4
 * route), a VLAN-tagged frame.  XDP
 * passes the packet as it will be sent but for its MACs (those it came
 * with), untagged, behind a struct viplb_xdp_neigh_meta naming the
 * route's device and next hop: what BPF_PROG_TEST_RUN returns from
 * data_meta on.
 *
 * viplb_tc then hands it to bpf_redirect_neigh().  That part cannot be
 * run here: BPF_PROG_TEST_RUN of a TC program takes no metadata (6.1 to
 * 6.18: a __sk_buff with data set is refused), so xdp_onearm_test.sh
 * runs it on real packets.  What can be run: a packet without metadata,
 * XDP's own output among them (data_meta is data), is left to the next
 * filter untouched.
 */
TEST_F(xdp, no_neigh_metadata)
{
	static const struct {
		int af;
		uint32_t mode;
		const char *be, *nh;
		int vlan;
	} cases[] = {
		{ AF_INET, VIPLB_MODE_DR, "198.51.100.14", "198.51.100.14", 0 },
		{ AF_INET, VIPLB_MODE_TUN, "198.51.100.14", "198.51.100.14", 0 },
		{ AF_INET, VIPLB_MODE_TUN, "192.0.2.200", "198.51.100.253", 0 },
		/* An IPv4 route with an IPv6 gateway: still an IPv4 frame. */
		{ AF_INET, VIPLB_MODE_TUN, "192.0.2.230", "2001:db8:b::253", 0 },
		{ AF_INET, VIPLB_MODE_DR, "198.51.100.14", "198.51.100.14", 42 },
		{ AF_INET6, VIPLB_MODE_DR, "2001:db8:b::14", "2001:db8:b::14", 0 },
		{ AF_INET6, VIPLB_MODE_TUN, "2001:db8:b::14", "2001:db8:b::14", 0 },
	};
	const size_t mlen = sizeof(struct viplb_xdp_neigh_meta);
	/*
	 * What the loaded program was told (xdp_skel_open()): on a kernel
	 * that refuses the helper, passed unchanged, as documented.
	 */
	bool meta_ok = self->skel->rodata->xdp_meta_ok;
	struct lb_service s;
	struct pkt in, out, want, tc_out;
	size_t i;

	if (!meta_ok)
		TH_LOG("this kernel refuses bpf_xdp_adjust_meta() to XDP: expecting packets passed unchanged");

	ASSERT_EQ(0, system("ip route add 192.0.2.192/27 via 198.51.100.253 && "
			    "ip route add 192.0.2.224/27 via inet6 2001:db8:b::253"));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int af = cases[i].af;
		const char *vip = af == AF_INET ? "192.0.2.10" : "2001:db8:a::10";
		const char *src = af == AF_INET ? "198.51.100.1" : "2001:db8:b::1";
		struct be_spec bs = { cases[i].be, 0, 1 };
		struct flow_spec f = { .af = af, .src = af == AF_INET ?
				       "203.0.113.50" : "2001:db8:c::50",
				       .dst = vip, .proto = IPPROTO_TCP,
				       .sport = 8000 + i, .dport = 80 };
		struct viplb_xdp_neigh_meta meta = {
			.magic = VIPLB_XDP_NEIGH_MAGIC,
			.ifindex = ifindex_a0,
			.family = strchr(cases[i].nh, ':') ? AF_INET6 : AF_INET,
		};
		__u64 before = counter(self, VIPLB_XDP_ST_FIB_NO_NEIGH);

		inet_pton(meta.family, cases[i].nh, meta.nh);
		make_service(&s, af, IPPROTO_TCP, vip, 80, cases[i].mode,
			     VIPLB_SCHED_MAGLEV, 0, &bs, 1);
		ASSERT_EQ(0, xdp_svc_put(&self->m, &s, true));
		/* Sent untagged: the expected bytes come from f untagged. */
		build(&in, &f);
		if (cases[i].mode == VIPLB_MODE_DR)
			expect_dr(&want, &in, MAC_CLIENT, MAC_A0);
		else
			expect_tun(&want, &in, MAC_CLIENT, MAC_A0, src,
				   cases[i].be);
		memmove(want.b + mlen, want.b, want.len);
		memcpy(want.b, &meta, mlen);
		want.len += mlen;
		f.vlan = cases[i].vlan;
		build(&in, &f);
		if (!meta_ok)
			want = in;

		EXPECT_EQ(XDP_PASS, run(_metadata, self, &in, &out))
			TH_LOG("backend %s", cases[i].be);
		EXPECT_PKT(&want, &out);
		EXPECT_EQ(before + 1, counter(self, VIPLB_XDP_ST_FIB_NO_NEIGH));
		if (!meta_ok) {
			free(s.backends);
			continue;
		}

		/* viplb_tc leaves a packet without metadata alone. */
		memmove(out.b, out.b + mlen, out.len - mlen);
		out.len -= mlen;
		EXPECT_EQ(TC_ACT_UNSPEC, run_tc(_metadata, self, &out, &tc_out));
		EXPECT_PKT(&out, &tc_out);
		free(s.backends);
	}
	EXPECT_EQ(0, counter(self, VIPLB_XDP_ST_TX));
	EXPECT_EQ(0, counter(self, VIPLB_XDP_ST_REDIRECT_NEIGH));
	EXPECT_EQ(0, counter(self, VIPLB_XDP_ST_ERROR));
	ASSERT_EQ(0, system("ip route del 192.0.2.192/27 && "
			    "ip route del 192.0.2.224/27"));
}

/* Larger than the egress MTU once encapsulated: passed, counted. */
TEST_F(xdp, frag_needed)
{
	struct flow_spec f = { .af = AF_INET, .src = "203.0.113.50",
			       .dst = "192.0.2.10", .proto = IPPROTO_TCP,
			       .sport = 5, .dport = 80, .payload = 1460 };
	struct lb_service s;
	struct pkt in, out;

	add_be3(_metadata, self, VIPLB_MODE_TUN, VIPLB_SCHED_MAGLEV, &s);
	build(&in, &f);
	EXPECT_EQ(1514, in.len);
	EXPECT_EQ(XDP_PASS, run(_metadata, self, &in, &out));
	EXPECT_PKT(&in, &out);
	EXPECT_EQ(1, counter(self, VIPLB_XDP_ST_FRAG_NEEDED));
	/* The same size in dr fits. */
	s.mode = VIPLB_MODE_DR;
	ASSERT_EQ(0, xdp_svc_put(&self->m, &s, false));
	EXPECT_EQ(XDP_TX, run(_metadata, self, &in, &out));
	free(s.backends);
}

/* tun without an outer source address: passed, counted. */
TEST_F(xdp, tun_without_source)
{
	struct flow_spec f = { .af = AF_INET, .src = "203.0.113.50",
			       .dst = "192.0.2.10", .proto = IPPROTO_TCP,
			       .sport = 5, .dport = 80 };
	struct viplb_xdp_config cfg = { 0 };
	struct lb_service s;
	struct pkt in, out;
	__u32 zero = 0;

	ASSERT_EQ(0, bpf_map_update_elem(self->m.config, &zero, &cfg, 0));
	add_be3(_metadata, self, VIPLB_MODE_TUN, VIPLB_SCHED_MAGLEV, &s);
	build(&in, &f);
	EXPECT_EQ(XDP_PASS, run(_metadata, self, &in, &out));
	EXPECT_PKT(&in, &out);
	EXPECT_EQ(1, counter(self, VIPLB_XDP_ST_NO_TUN_SRC));
	free(s.backends);
}

/*
 * A v4 VIP with a v6 backend is refused when configured, before the
 * module or the maps see it (the module also refuses it: -EAFNOSUPPORT).
 */
TEST_F(xdp, v4_vip_v6_backend_rejected)
{
	char *argv[] = { "add", "tcp", "192.0.2.10:80", "[2001:db8:b::11]:80",
			 NULL };
	struct config_cmd cmd;

	EXPECT_EQ(-1, parse_backend_cmd(4, argv, &cmd));
	EXPECT_NE(NULL, strstr(parse_error(), "does not match"));
}

/*
 * Deleting a backend: its pinned flows stay with it (as in the module);
 * "del ... flush" unpins them and they move to a live backend.
 */
TEST_F(xdp, backend_del_retire_and_flush)
{
	struct flow_spec f = { .af = AF_INET, .src = "203.0.113.50",
			       .dst = "192.0.2.10", .proto = IPPROTO_TCP,
			       .dport = 80 };
	struct lb_service s;
	struct pkt in, out;
	int sport;

	add_be3(_metadata, self, VIPLB_MODE_DR, VIPLB_SCHED_MAGLEV, &s);
	for (sport = 3000; sport < 3100; sport++) {
		f.sport = sport;
		build(&in, &f);
		ASSERT_EQ(XDP_TX, run(_metadata, self, &in, &out));
		if (backend_of(&out) == 13)
			break;
	}
	ASSERT_EQ(13, backend_of(&out));
	s.nr_backends = 2; /* .13 deleted */
	ASSERT_EQ(0, xdp_svc_put(&self->m, &s, false));
	EXPECT_EQ(XDP_TX, run(_metadata, self, &in, &out));
	EXPECT_EQ(13, backend_of(&out));
	/* Retired ids are reused last: a new backend takes a fresh id. */
	EXPECT_EQ(VIPLB_XDP_BE_RETIRED,
		  self->m.be[be_id(self, AF_INET, "198.51.100.13")].state);

	s.nr_backends = 3;
	ASSERT_EQ(0, xdp_svc_put(&self->m, &s, false));
	s.nr_backends = 2;
	ASSERT_EQ(0, xdp_svc_put(&self->m, &s, true));
	EXPECT_EQ(XDP_TX, run(_metadata, self, &in, &out));
	EXPECT_NE(13, backend_of(&out));
	EXPECT_NE(0, backend_of(&out));
	free(s.backends);
}

/* A lookup probe reports the choice and changes nothing. */
TEST_F(xdp, probe_changes_nothing)
{
	struct flow_spec f = { .af = AF_INET, .src = "203.0.113.50",
			       .dst = "192.0.2.10", .proto = IPPROTO_TCP,
			       .sport = 4242, .dport = 80 };
	struct viplb_xdp_probe probe = { .magic = VIPLB_XDP_PROBE_MAGIC };
	unsigned char buf[2048], outb[2048];
	struct xdp_md ctx = { 0 };
	struct viplb_flow_tuple t, key;
	struct lb_service s;
	struct pkt in, out;
	LIBBPF_OPTS(bpf_test_run_opts, opts);

	add_be3(_metadata, self, VIPLB_MODE_DR, VIPLB_SCHED_MAGLEV, &s);
	build(&in, &f);
	memcpy(buf, &probe, sizeof(probe));
	memcpy(buf + sizeof(probe), in.b, in.len);
	ctx.data = sizeof(probe);
	ctx.data_end = sizeof(probe) + in.len;
	opts.data_in = buf;
	opts.data_size_in = ctx.data_end;
	opts.data_out = outb;
	opts.data_size_out = sizeof(outb);
	opts.ctx_in = &ctx;
	opts.ctx_size_in = sizeof(ctx);
	ASSERT_EQ(0, bpf_prog_test_run_opts(self->prog, &opts));
	EXPECT_EQ(XDP_PASS, opts.retval);
	memcpy(&probe, outb, sizeof(probe));
	EXPECT_EQ(VIPLB_XDP_PROBE_BACKEND, probe.result);
	EXPECT_EQ(VIPLB_PIN_NONE, probe.pin);
	EXPECT_EQ(0, counter(self, VIPLB_XDP_ST_PASS));
	EXPECT_EQ(0, counter(self, VIPLB_XDP_ST_LRU_MISS));
	EXPECT_NE(0, bpf_map_get_next_key(self->m.flows, NULL, &key));

	/* The real packet goes where the probe said, and is pinned. */
	ASSERT_EQ(XDP_TX, run(_metadata, self, &in, &out));
	EXPECT_EQ(probe.backend,
		  be_id(self, AF_INET,
			backend_of(&out) == 11 ? "198.51.100.11" :
			backend_of(&out) == 12 ? "198.51.100.12" :
						 "198.51.100.13"));
	viplb_flow_tuple_v4(&t, inet_addr("203.0.113.50"),
			    inet_addr("192.0.2.10"), htons(4242), htons(80),
			    IPPROTO_TCP);
	EXPECT_EQ(0, bpf_map_get_next_key(self->m.flows, NULL, &key));
	EXPECT_EQ(0, memcmp(&t, &key, sizeof(t)));
	ASSERT_EQ(0, bpf_prog_test_run_opts(self->prog, &opts));
	memcpy(&probe, outb, sizeof(probe));
	EXPECT_EQ(VIPLB_PIN_FLOW, probe.pin);
	free(s.backends);
}

/*
 * Every map write of the CLI's map code goes through these (the test is
 * linked with --wrap), so that a test can look at what the program does
 * between two writes: after each successful write, step_check() runs.
 */
int __real_bpf_map_update_elem(int fd, const void *key, const void *value,
			       __u64 flags);
int __real_bpf_map_delete_elem(int fd, const void *key);
static void (*step_check)(void);

int __wrap_bpf_map_update_elem(int fd, const void *key, const void *value,
			       __u64 flags)
{
	int rc = __real_bpf_map_update_elem(fd, key, value, flags);

	if (!rc && step_check)
		step_check();
	return rc;
}

int __wrap_bpf_map_delete_elem(int fd, const void *key)
{
	int rc = __real_bpf_map_delete_elem(fd, key);

	if (!rc && step_check)
		step_check();
	return rc;
}

/* The backend id a lookup probe names for @in, or -1. */
static int probe_backend(FIXTURE_DATA(xdp) *self, const struct pkt *in)
{
	struct viplb_xdp_probe probe = { .magic = VIPLB_XDP_PROBE_MAGIC };
	unsigned char buf[2048], outb[2048];
	struct xdp_md ctx = { .data = sizeof(probe),
			      .data_end = sizeof(probe) + in->len };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = buf,
		    .data_size_in = sizeof(probe) + in->len, .data_out = outb,
		    .data_size_out = sizeof(outb), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx));

	memcpy(buf, &probe, sizeof(probe));
	memcpy(buf + sizeof(probe), in->b, in->len);
	if (bpf_prog_test_run_opts(self->prog, &opts))
		return -1;
	memcpy(&probe, outb, sizeof(probe));
	if (probe.result != VIPLB_XDP_PROBE_BACKEND ||
	    probe.backend >= VIPLB_XDP_MAX_BACKENDS)
		return -1;
	return probe.backend;
}

/* The backend a lookup probe names for @in (its last octet), or -1. */
static int probe_choice(FIXTURE_DATA(xdp) *self, const struct pkt *in)
{
	int id = probe_backend(self, in);

	return id < 0 ? -1 : (int)(ntohl(self->m.be[id].addr[0]) & 0xff);
}

/*
 * A ring of 300 backends has __u16 slots (bytes up to 254): the program
 * still picks the module's backend, .11 port 1..300, weight 1 + port % 3.
 */
TEST_F(xdp, wide_ring_same_choice)
{
	static __u32 table[65521];
	struct viplb_maglev_backend mb[300];
	struct flow_spec f = { .af = AF_INET, .src = "203.0.113.50",
			       .dst = "192.0.2.10", .proto = IPPROTO_TCP,
			       .dport = 80 };
	struct viplb_xdp_service v;
	struct lb_service s;
	struct pkt in;
	__be32 a[4] = { 0 };
	int i, id, bad = 0;

	make_service(&s, AF_INET, IPPROTO_TCP, "192.0.2.10", 80,
		     VIPLB_MODE_DR, VIPLB_SCHED_MAGLEV, 65521, NULL, 0);
	free(s.backends);
	s.backends = calloc(300, sizeof(*s.backends));
	s.nr_backends = s.cap_backends = 300;
	a[0] = inet_addr("198.51.100.11");
	for (i = 0; i < 300; i++) {
		s.backends[i].key.addr.v4.s_addr = a[0];
		s.backends[i].key.port = 300 - i;	/* out of order */
		s.backends[i].weight = 1 + (300 - i) % 3;
		/* Sorted: by port, as the address is the same. */
		viplb_maglev_backend_init(&mb[i], a, htons(1 + i),
					  1 + (1 + i) % 3, 65521);
	}
	ASSERT_EQ(0, xdp_svc_put(&self->m, &s, false));
	v = svc_val(self, &s);
	EXPECT_EQ(1, VIPLB_XDP_RING_WIDE(v.ring));
	EXPECT_EQ(65521, VIPLB_XDP_RING_M(v.ring));
	ASSERT_EQ(VIPLB_MAGLEV_OK, viplb_maglev_populate(table, 65521, mb, 300));
	for (i = 0; i < 2000; i++) {
		f.sport = 1024 + i * 7;
		build(&in, &f);
		id = probe_backend(self, &in);
		if (id < 0 || ntohs(self->m.be[id].port) !=
		    1 + module_slot(table, 65521, &f))
			bad++;
	}
	EXPECT_EQ(0, bad);
	free(s.backends);
}

#define STEP_FLOWS 400

/* The table-size change test's state, for its step_check(). */
static struct {
	FIXTURE_DATA(xdp) *self;
	struct pkt in[STEP_FLOWS];
	int want[2][STEP_FLOWS];	/* choice with the old and new M */
	int steps, mixed;
} ts;

/* The choices of the flows are all the old M's, or all the new M's. */
static void table_size_step(void)
{
	int i, old = 0, new = 0, got;

	ts.steps++;
	for (i = 0; i < STEP_FLOWS; i++) {
		got = probe_choice(ts.self, &ts.in[i]);
		old += got == ts.want[0][i];
		new += got == ts.want[1][i];
	}
	if (old != STEP_FLOWS && new != STEP_FLOWS) {
		ts.mixed++;
		fprintf(stderr, "# step %d: %d flows as with the old M, %d as with the new\n",
			ts.steps, old, new);
	}
}

/* The module's choice for each flow of ts.in, with table size @m. */
static void expected_choices(int *want, __u32 m)
{
	static const int name[3] = { 11, 12, 13 };
	static __u32 table[VIPLB_TABLE_SIZE_MAX];
	struct viplb_maglev_backend mb[3];
	struct viplb_flow_tuple t;
	__be32 a[4] = { 0 };
	const unsigned char *ip;
	int i;

	for (i = 0; i < 3; i++) {
		a[0] = htonl(0xc6336400 | name[i]);
		viplb_maglev_backend_init(&mb[i], a, htons(80), 1, m);
	}
	viplb_maglev_populate(table, m, mb, 3);
	for (i = 0; i < STEP_FLOWS; i++) {
		ip = ts.in[i].b + ts.in[i].l3;
		viplb_flow_tuple_v4(&t, *(__be32 *)(ip + 12),
				    *(__be32 *)(ip + 16),
				    *(__be16 *)(ip + 20), *(__be16 *)(ip + 22),
				    IPPROTO_TCP);
		want[i] = name[viplb_maglev_lookup(table, m,
						   viplb_flow_hash(&t))];
	}
}

/*
 * A table-size change, back and forth: after every map write of
 * xdp_svc_put(), a new flow gets the backend of the old table with the
 * old M, or of the new table with the new M, never the new table hashed
 * with the old M (or the other way round).
 */
TEST_F(xdp, table_size_change_never_mixed)
{
	static const __u32 sizes[] = { 251, 257, 251, 65521, 251 };
	struct flow_spec f = { .af = AF_INET, .src = "203.0.113.50",
			       .dst = "192.0.2.10", .proto = IPPROTO_TCP,
			       .dport = 80 };
	struct lb_service s;
	size_t k;
	int i;

	add_be3(_metadata, self, VIPLB_MODE_DR, VIPLB_SCHED_MAGLEV, &s);
	memset(&ts, 0, sizeof(ts));
	ts.self = self;
	for (i = 0; i < STEP_FLOWS; i++) {
		f.sport = 10000 + i;
		build(&ts.in[i], &f);
	}
	for (k = 1; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		expected_choices(ts.want[0], sizes[k - 1]);
		expected_choices(ts.want[1], sizes[k]);
		/* The tables differ enough to tell a mixed pair. */
		for (i = 0; i < STEP_FLOWS && ts.want[0][i] == ts.want[1][i]; i++)
			;
		ASSERT_LT(i, STEP_FLOWS);
		table_size_step();
		s.table_size = sizes[k];
		step_check = table_size_step;
		EXPECT_EQ(0, xdp_svc_put(&self->m, &s, false));
		step_check = NULL;
		table_size_step();
		for (i = 0; i < STEP_FLOWS; i++)
			ASSERT_EQ(ts.want[1][i], probe_choice(self, &ts.in[i]));
	}
	EXPECT_EQ(0, ts.mixed);
	EXPECT_GT(ts.steps, 8);
	free(s.backends);
}

/*
 * Restores: configuration A, then B, switched by xdp_svc_replace().
 *
 *   tcp 192.0.2.10:80  A: .11 .12 .13, M 251     B: .11, .12 weight 0, M 257
 *   tcp 192.0.2.20:80  A: .11 .13                B: -
 *   tcp 192.0.2.30:80  A: -                      B: .12 .13
 *   tcp 192.0.2.40:0   A: .12, M 257             B: .11 .12 .13, M 251
 */
#define RS_SVCS 4
#define RS_FLOWS 100
#define RS_PROBES (RS_SVCS * RS_FLOWS)

static const struct be_spec RS_A10[] = { { "198.51.100.11", 0, 1 },
					 { "198.51.100.12", 0, 1 },
					 { "198.51.100.13", 0, 1 } };
static const struct be_spec RS_A20[] = { { "198.51.100.11", 0, 1 },
					 { "198.51.100.13", 0, 1 } };
static const struct be_spec RS_B10[] = { { "198.51.100.11", 0, 1 },
					 { "198.51.100.12", 0, 0 } };
static const struct be_spec RS_B30[] = { { "198.51.100.12", 0, 1 },
					 { "198.51.100.13", 0, 2 } };

/* The backend id a lookup probe names for @in, or ~0. */
static __u32 probe_id(FIXTURE_DATA(xdp) *self, const struct pkt *in)
{
	struct viplb_xdp_probe probe = { .magic = VIPLB_XDP_PROBE_MAGIC };
	unsigned char buf[2048], outb[2048];
	struct xdp_md ctx = { .data = sizeof(probe),
			      .data_end = sizeof(probe) + in->len };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = buf,
		    .data_size_in = sizeof(probe) + in->len, .data_out = outb,
		    .data_size_out = sizeof(outb), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx));

	memcpy(buf, &probe, sizeof(probe));
	memcpy(buf + sizeof(probe), in->b, in->len);
	if (bpf_prog_test_run_opts(self->prog, &opts))
		return ~0U;
	memcpy(&probe, outb, sizeof(probe));
	return probe.result == VIPLB_XDP_PROBE_BACKEND &&
	       probe.backend < VIPLB_XDP_MAX_BACKENDS ? probe.backend : ~0U;
}

/* The live backend id of @s holding v4 @addr, or ~0. */
static __u32 live_be_id(FIXTURE_DATA(xdp) *self, const struct lb_service *s,
			const char *addr)
{
	__u32 svc = svc_id(self, s), i;
	__be32 a[4] = { 0 };

	inet_pton(AF_INET, addr, a);
	for (i = 0; i < VIPLB_XDP_MAX_BACKENDS; i++)
		if (self->m.be[i].state == VIPLB_XDP_BE_LIVE &&
		    self->m.be[i].svc_id == svc &&
		    !memcmp(self->m.be[i].addr, a, 16))
			return i;
	return ~0U;
}

/* The backend ids in @state. */
static int count_state(FIXTURE_DATA(xdp) *self, __u8 state)
{
	int i, n = 0;

	for (i = 0; i < VIPLB_XDP_MAX_BACKENDS; i++)
		n += self->m.be[i].state == state;
	return n;
}

/* The id of the vips map the program uses now. */
static __u32 vips_gen_id(FIXTURE_DATA(xdp) *self)
{
	__u32 zero = 0, id = 0;

	bpf_map_lookup_elem(self->m.vip_gen, &zero, &id);
	return id;
}

/* Configuration A (@b false) or B. */
static void restore_config(struct lb_service_list *l, bool b)
{
	memset(l, 0, sizeof(*l));
	l->svcs = calloc(3, sizeof(*l->svcs));
	l->nr = l->cap = 3;
	make_service(&l->svcs[0], AF_INET, IPPROTO_TCP, "192.0.2.10", 80,
		     VIPLB_MODE_DR, VIPLB_SCHED_MAGLEV, b ? 257 : 251,
		     b ? RS_B10 : RS_A10, b ? 2 : 3);
	if (b)
		make_service(&l->svcs[1], AF_INET, IPPROTO_TCP, "192.0.2.30",
			     80, VIPLB_MODE_DR, VIPLB_SCHED_MAGLEV, 0, RS_B30,
			     2);
	else
		make_service(&l->svcs[1], AF_INET, IPPROTO_TCP, "192.0.2.20",
			     80, VIPLB_MODE_DR, VIPLB_SCHED_MAGLEV, 0, RS_A20,
			     2);
	make_service(&l->svcs[2], AF_INET, IPPROTO_TCP, "192.0.2.40", 0,
		     VIPLB_MODE_DR, VIPLB_SCHED_MAGLEV, b ? 251 : 257,
		     b ? RS_A10 : RS_A10 + 1, b ? 3 : 1);
	/* A port-0 service's backends take the packet's port: 80 here. */
	l->svcs[2].backends[0].key.port = 80;
	if (b) {
		l->svcs[2].backends[1].key.port = 80;
		l->svcs[2].backends[2].key.port = 80;
	}
}

/* The restore test's state, for its step_check(). */
static struct {
	FIXTURE_DATA(xdp) *self;
	struct pkt in[RS_PROBES];
	int want[2][RS_PROBES];	/* with A and with B; -1: passed */
	int steps, mixed;
} rs;

static void restore_probe(int *got)
{
	int i;

	for (i = 0; i < RS_PROBES; i++)
		got[i] = probe_choice(rs.self, &rs.in[i]);
}

/* The answers for every VIP are all A's, or all B's. */
static void restore_step(void)
{
	int got[RS_PROBES], i, a = 0, b = 0;

	rs.steps++;
	restore_probe(got);
	for (i = 0; i < RS_PROBES; i++) {
		a += got[i] == rs.want[0][i];
		b += got[i] == rs.want[1][i];
	}
	if (a != RS_PROBES && b != RS_PROBES) {
		rs.mixed++;
		fprintf(stderr, "# step %d: %d answers as A's, %d as B's (of %d)\n",
			rs.steps, a, b, RS_PROBES);
	}
}

/*
 * A to B and back, all at once: after every map write of the restore,
 * the program answers new flows to every VIP as A does, or to every VIP
 * as B does, never some as A and some as B; afterwards as the new one.
 */
TEST_F(xdp, restore_switches_at_once)
{
	static const char *const vip[RS_SVCS] = { "192.0.2.10", "192.0.2.20",
						  "192.0.2.30", "192.0.2.40" };
	struct flow_spec f = { .af = AF_INET, .src = "203.0.113.50",
			       .proto = IPPROTO_TCP, .dport = 80 };
	struct lb_service_list cfg[2];
	int got[RS_PROBES], i, k, differ = 0;

	memset(&rs, 0, sizeof(rs));
	rs.self = self;
	for (i = 0; i < RS_PROBES; i++) {
		f.dst = vip[i / RS_FLOWS];
		f.sport = 20000 + i % RS_FLOWS;
		build(&rs.in[i], &f);
	}
	restore_config(&cfg[0], false);
	restore_config(&cfg[1], true);
	/* Each configuration's answers, from empty maps. */
	for (k = 1; k >= 0; k--) {
		ASSERT_EQ(0, xdp_svc_replace(&self->m, &cfg[k]));
		restore_probe(rs.want[k]);
	}
	for (i = 0; i < RS_PROBES; i++)
		differ += rs.want[0][i] != rs.want[1][i];
	/* VIPs of both differ on some flows: a mix would show. */
	ASSERT_GT(differ, RS_FLOWS * 2 + 20);
	for (i = 0; i < RS_FLOWS; i++)
		ASSERT_NE(-1, rs.want[0][i]);

	for (k = 1; k < 4; k++) {
		restore_step();
		step_check = restore_step;
		EXPECT_EQ(0, xdp_svc_replace(&self->m, &cfg[k % 2]));
		step_check = NULL;
		restore_probe(got);
		for (i = 0; i < RS_PROBES; i++)
			ASSERT_EQ(rs.want[k % 2][i], got[i]);
	}
	EXPECT_EQ(0, rs.mixed);
	EXPECT_GT(rs.steps, 3 * 10);
	free_services(&cfg[0]);
	free_services(&cfg[1]);
}

/*
 * A flow established before a restore stays on its backend if its
 * service stays, even when the backend is gone from the new file (it is
 * retired); a flow of a service the file drops is unpinned.  A backend
 * in both keeps its id; the counters of a service and backend in both
 * go on.
 */
TEST_F(xdp, restore_keeps_established_flows)
{
	struct flow_spec f = { .af = AF_INET, .src = "203.0.113.50",
			       .dst = "192.0.2.10", .proto = IPPROTO_TCP,
			       .dport = 80 };
	struct viplb_xdp_counters c;
	struct lb_service_list cfg[2];
	struct pkt in, in13, in20, out;
	int sport, runs = 0, n11 = 0, n13 = 0;

	restore_config(&cfg[0], false);
	restore_config(&cfg[1], true);
	ASSERT_EQ(0, xdp_svc_replace(&self->m, &cfg[0]));
	for (sport = 3000; sport < 3300 && !(n11 && n13); sport++) {
		f.sport = sport;
		build(&in, &f);
		ASSERT_EQ(XDP_TX, run(_metadata, self, &in, &out));
		runs++;
		n11 += backend_of(&out) == 11;
		if (backend_of(&out) == 13 && !n13++)
			in13 = in;
	}
	ASSERT_LT(0, n11);
	ASSERT_LT(0, n13);
	f.dst = "192.0.2.20";
	build(&in20, &f);
	ASSERT_EQ(XDP_TX, run(_metadata, self, &in20, &out));

	ASSERT_EQ(0, xdp_svc_replace(&self->m, &cfg[1]));
	/* .13 is not a backend of 192.0.2.10:80 in B: retired, still there. */
	EXPECT_EQ(XDP_TX, run(_metadata, self, &in13, &out));
	EXPECT_EQ(13, backend_of(&out));
	EXPECT_EQ(VIPLB_XDP_BE_RETIRED,
		  self->m.be[probe_id(self, &in13)].state);
	/*
	 * Retired: .13 of 192.0.2.10:80, and .12, drained in B (a new id:
	 * A must serve on with it undrained); .11 kept its id.
	 */
	EXPECT_EQ(2, count_state(self, VIPLB_XDP_BE_RETIRED));
	EXPECT_EQ(7, count_state(self, VIPLB_XDP_BE_LIVE));
	/* 192.0.2.20:80 is gone: its flow is passed, not sent on. */
	EXPECT_EQ(XDP_PASS, run(_metadata, self, &in20, &out));
	/* The counters of 192.0.2.10:80 and of its .11 went on. */
	c = counters(self, self->m.svc_stats, svc_id(self, &cfg[1].svcs[0]));
	EXPECT_EQ(runs + 1, c.packets);
	c = counters(self, self->m.be_stats,
		     live_be_id(self, &cfg[1].svcs[0], "198.51.100.11"));
	EXPECT_EQ(n11, c.packets);
	free_services(&cfg[0]);
	free_services(&cfg[1]);
}

/* n services of sched rr (no ring) on 192.0.2.x:p, from @first. */
static void rr_services(struct lb_service_list *l, size_t n, size_t first)
{
	char vip[32];
	size_t i;

	memset(l, 0, sizeof(*l));
	l->svcs = calloc(n, sizeof(*l->svcs));
	l->nr = l->cap = n;
	for (i = 0; i < n; i++) {
		snprintf(vip, sizeof(vip), "192.0.%zu.%zu",
			 2 + (first + i) / 60000, 1 + (first + i) / 250 % 240);
		make_service(&l->svcs[i], AF_INET, IPPROTO_TCP, vip,
			     1 + (first + i) % 250, VIPLB_MODE_DR,
			     VIPLB_SCHED_RR, 0, NULL, 0);
	}
}

/*
 * Service ids are twice the services of a configuration: a restore of
 * 16,384 services over 16,384 others switches; one more service is
 * refused, changing nothing.
 */
TEST_F(xdp, restore_service_ids_for_two_generations)
{
	struct lb_service_list a, b, now, one;
	__u32 gen;

	rr_services(&a, VIPLB_XDP_VIPS_MAX, 0);
	ASSERT_EQ(0, xdp_svc_replace(&self->m, &a));
	gen = vips_gen_id(self);
	rr_services(&b, VIPLB_XDP_VIPS_MAX, 20000);
	EXPECT_EQ(0, xdp_svc_replace(&self->m, &b));
	EXPECT_NE(gen, vips_gen_id(self));
	ASSERT_EQ(0, xdp_svc_read(&self->m, NULL, &now, false));
	EXPECT_EQ(b.nr, now.nr);
	EXPECT_EQ(0, memcmp(&b.svcs[0].key, &now.svcs[0].key,
			    sizeof(now.svcs[0].key)));
	free_services(&now);
	/* The 16,385th: no id, though half of them are free. */
	rr_services(&one, 1, 40000);
	EXPECT_EQ(-ENOSPC, xdp_svc_put(&self->m, &one.svcs[0], false));
	ASSERT_EQ(0, xdp_svc_read(&self->m, NULL, &now, false));
	EXPECT_EQ(b.nr, now.nr);
	free_services(&now);
	free_services(&one);
	free_services(&a);
	free_services(&b);
}

/*
 * Two services of sched rr on @vip:80 and :81 with @n backends in all
 * (a ring indexes at most 65,534), .11 port 1..n.
 */
static void rr_backends(struct lb_service_list *l, const char *vip, size_t n)
{
	struct lb_service *s;
	size_t i, k, from;

	memset(l, 0, sizeof(*l));
	l->svcs = calloc(2, sizeof(*l->svcs));
	l->nr = l->cap = 2;
	for (k = 0; k < 2; k++) {
		s = &l->svcs[k];
		make_service(s, AF_INET, IPPROTO_TCP, vip, 80 + k,
			     VIPLB_MODE_DR, VIPLB_SCHED_RR, 0, NULL, 0);
		free(s->backends);
		from = k * (n / 2);
		s->nr_backends = s->cap_backends = k ? n - from : n / 2;
		s->backends = calloc(s->nr_backends, sizeof(*s->backends));
		for (i = 0; i < s->nr_backends; i++) {
			inet_pton(AF_INET, "198.51.100.11",
				  &s->backends[i].key.addr);
			s->backends[i].key.port = 1 + from + i;
			s->backends[i].weight = 1;
		}
	}
}

/*
 * The same for backend ids: 80,000 live, then 60,000 others do not fit;
 * and one ring indexes 65,534 backends at most.
 */
TEST_F(xdp, restore_backend_ids_must_fit)
{
	struct lb_service_list a, b;
	__u32 gen;

	rr_backends(&a, "192.0.2.10", 80000);
	ASSERT_EQ(0, xdp_svc_replace(&self->m, &a));
	gen = vips_gen_id(self);
	rr_backends(&b, "192.0.2.20", 60000);
	EXPECT_EQ(-ENOSPC, xdp_svc_replace(&self->m, &b));
	EXPECT_EQ(gen, vips_gen_id(self));
	EXPECT_EQ(80000, count_state(self, VIPLB_XDP_BE_LIVE));
	EXPECT_EQ(0, count_state(self, VIPLB_XDP_BE_RETIRED));
	b.svcs[1].nr_backends = VIPLB_XDP_MAX_BACKENDS - 80000 - 30000;
	EXPECT_EQ(0, xdp_svc_replace(&self->m, &b));
	EXPECT_NE(gen, vips_gen_id(self));
	/* A's services are gone: their backends freed, not retired. */
	EXPECT_EQ(VIPLB_XDP_MAX_BACKENDS - 80000,
		  count_state(self, VIPLB_XDP_BE_LIVE));
	EXPECT_EQ(0, count_state(self, VIPLB_XDP_BE_RETIRED));
	free_services(&a);
	free_services(&b);
	rr_backends(&a, "192.0.2.30", 2 * 65535);
	EXPECT_EQ(-ENOSPC, xdp_svc_put(&self->m, &a.svcs[0], false));
	free_services(&a);
}

/* The cpu-th CPU of test_cpus. */
static int nth_cpu(int cpu)
{
	int i;

	for (i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &test_cpus) && !cpu--)
			return i;
	return 0;
}

/*
 * The flows map holds "flows N" flows wherever they come from: all N from
 * one CPU, or from every CPU in turn.  Sends flows [from, from + n) once
 * each on the cpu-th CPU the test may use: flow i is
 * 203.0.113.(1 + i / 60000) port 1024 + i % 60000 to 192.0.2.10:80.
 */
static void send_flows(struct __test_metadata *_metadata,
		       FIXTURE_DATA(xdp) *self, int cpu, unsigned int from,
		       unsigned int n, bool newest_first)
{
	struct flow_spec f = { .af = AF_INET, .dst = "192.0.2.10",
			       .proto = IPPROTO_TCP, .dport = 80 };
	struct pkt in, out;
	cpu_set_t cpus;
	unsigned int k, i;
	char src[16];

	CPU_ZERO(&cpus);
	CPU_SET(nth_cpu(cpu), &cpus);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(cpus), &cpus));
	for (k = 0; k < n; k++) {
		i = newest_first ? from + n - 1 - k : from + k;
		snprintf(src, sizeof(src), "203.0.113.%u", 1 + i / 60000);
		f.src = src;
		f.sport = 1024 + i % 60000;
		build(&in, &f);
		ASSERT_EQ(XDP_TX, run(_metadata, self, &in, &out));
	}
}

/*
 * Sends flows [0, n) again, newest first (a flow evicted is pinned anew,
 * and may evict older ones: these were counted already), and requires
 * every one to be a flows map hit.
 */
static void expect_all_pinned(struct __test_metadata *_metadata,
			      FIXTURE_DATA(xdp) *self, unsigned int n)
{
	__u64 hit0 = counter(self, VIPLB_XDP_ST_LRU_HIT);

	send_flows(_metadata, self, 0, 0, n, true);
	EXPECT_EQ(n, counter(self, VIPLB_XDP_ST_LRU_HIT) - hit0)
		TH_LOG("of %u flows pinned, %llu were still there", n,
		       (unsigned long long)(counter(self,
						    VIPLB_XDP_ST_LRU_HIT) -
					    hit0));
}

/* N flows from one CPU: none evicted (per-CPU LRUs kept N / CPUs). */
TEST_F(xdp, flows_n_from_one_cpu)
{
	const unsigned int n = VIPLB_XDP_FLOWS_DEFAULT;
	struct lb_service s;

	add_be3(_metadata, self, VIPLB_MODE_DR, VIPLB_SCHED_MAGLEV, &s);
	send_flows(_metadata, self, 0, 0, n, false);
	EXPECT_EQ(n, counter(self, VIPLB_XDP_ST_LRU_MISS));
	expect_all_pinned(_metadata, self, n);
	free(s.backends);
}

/* N flows, 100 from each CPU in turn: none evicted. */
TEST_F(xdp, flows_n_from_every_cpu)
{
	const unsigned int n = VIPLB_XDP_FLOWS_DEFAULT;
	int ncpus = CPU_COUNT(&test_cpus);
	struct lb_service s;
	unsigned int i;

	add_be3(_metadata, self, VIPLB_MODE_DR, VIPLB_SCHED_MAGLEV, &s);
	for (i = 0; i < n; i += 100)
		send_flows(_metadata, self, i / 100 % ncpus, i,
			   n - i < 100 ? n - i : 100, false);
	EXPECT_EQ(n, counter(self, VIPLB_XDP_ST_LRU_MISS));
	expect_all_pinned(_metadata, self, n);
	free(s.backends);
}

/* A flow pinned on one CPU is found from every other. */
TEST_F(xdp, flows_found_from_any_cpu)
{
	int cpu, ncpus = CPU_COUNT(&test_cpus);
	struct lb_service s;

	add_be3(_metadata, self, VIPLB_MODE_DR, VIPLB_SCHED_MAGLEV, &s);
	send_flows(_metadata, self, 0, 0, 1000, false);
	for (cpu = 1; cpu < ncpus; cpu++)
		send_flows(_metadata, self, cpu, 0, 1000, false);
	EXPECT_EQ(1000, counter(self, VIPLB_XDP_ST_LRU_MISS));
	EXPECT_EQ(1000 * (ncpus - 1), counter(self, VIPLB_XDP_ST_LRU_HIT));
	free(s.backends);
}

/* Counters: one packet of each kind, each counted once, bytes exact. */
TEST_F(xdp, counters_exact)
{
	struct flow_spec f = { .af = AF_INET, .src = "203.0.113.50",
			       .dst = "192.0.2.10", .proto = IPPROTO_UDP,
			       .sport = 1, .dport = 80, .payload = 100 };
	struct be_spec bs = { "198.51.100.11", 0, 1 };
	struct viplb_xdp_counters c;
	struct lb_service s;
	struct pkt in, out;
	int i;

	make_service(&s, AF_INET, IPPROTO_UDP, "192.0.2.10", 80,
		     VIPLB_MODE_TUN, VIPLB_SCHED_MAGLEV, 0, &bs, 1);
	ASSERT_EQ(0, xdp_svc_put(&self->m, &s, false));
	for (i = 0; i < 5; i++) {
		f.sport = 100 + i % 2;
		build(&in, &f);
		ASSERT_EQ(XDP_TX, run(_metadata, self, &in, &out));
	}
	f.dst = "192.0.2.99";
	build(&in, &f);
	ASSERT_EQ(XDP_PASS, run(_metadata, self, &in, &out));
	EXPECT_EQ(5, counter(self, VIPLB_XDP_ST_TX));
	EXPECT_EQ(1, counter(self, VIPLB_XDP_ST_PASS));
	EXPECT_EQ(2, counter(self, VIPLB_XDP_ST_LRU_MISS));
	EXPECT_EQ(3, counter(self, VIPLB_XDP_ST_LRU_HIT));
	EXPECT_EQ(1, counter(self, VIPLB_XDP_ST_NOT_VIP));
	c = counters(self, self->m.svc_stats, svc_id(self, &s));
	EXPECT_EQ(5, c.packets);
	EXPECT_EQ(5 * (20 + 8 + 100), c.bytes);
	EXPECT_EQ(2, c.flows);
	c = counters(self, self->m.be_stats,
		     be_id(self, AF_INET, "198.51.100.11"));
	EXPECT_EQ(5, c.packets);
	EXPECT_EQ(5 * 128, c.bytes);
	free(s.backends);
}

/* rr and wrr: the ring is a round-robin sequence, one cursor per CPU. */

/*
 * Slot counts of backends .11, .12, .13 in the service's ring (live, of
 * the service); its length.
 */
static __u32 ring_counts(FIXTURE_DATA(xdp) *self, const struct lb_service *s,
			 __u32 count[14])
{
	struct viplb_xdp_service v = svc_val(self, s);
	__u32 len = VIPLB_XDP_RING_M(v.ring), off = VIPLB_XDP_RING_OFF(v.ring);
	__u32 pool = VIPLB_XDP_RING_POOL(v.ring), inner, e, k, b, i;
	const struct viplb_xdp_backend *be;
	struct viplb_xdp_slots el;
	__be32 a[14];
	int fd;

	memset(count, 0, 14 * sizeof(*count));
	for (b = 11; b <= 13; b++) {
		char s[16];

		snprintf(s, sizeof(s), "198.51.100.%u", b);
		inet_pton(AF_INET, s, &a[b]);
	}
	if (!len || bpf_map_lookup_elem(self->m.pools, &pool, &inner))
		return 0;
	fd = bpf_map_get_fd_by_id(inner);
	if (fd < 0)
		return 0;
	for (k = 0; k < len; k++) {
		e = off + k / (VIPLB_XDP_RING_WIDE(v.ring) ? 4 : 8);
		if (bpf_map_lookup_elem(fd, &e, &el))
			break;
		i = VIPLB_XDP_RING_WIDE(v.ring) ? el.slot[k % 4] :
						  el.slot8[k % 8];
		if (!VIPLB_XDP_RING_WIDE(v.ring) && i == VIPLB_XDP_SLOT8_NONE)
			i = VIPLB_XDP_SLOT_NONE;
		e = off + VIPLB_XDP_SLOT_ELEMS(len, VIPLB_XDP_RING_WIDE(v.ring)) +
		    i / 2;
		if (i == VIPLB_XDP_SLOT_NONE ||
		    bpf_map_lookup_elem(fd, &e, &el))
			continue;
		if (el.id[i % 2] >= VIPLB_XDP_MAX_BACKENDS)
			continue;
		be = &self->m.be[el.id[i % 2]];
		if (be->state != VIPLB_XDP_BE_LIVE || be->svc_id != v.id)
			continue;
		for (b = 11; b <= 13; b++)
			if (be->addr[0] == a[b])
				count[b]++;
	}
	close(fd);
	return len;
}

/* How many elements of pools hold a pool. */
static int nr_pools(FIXTURE_DATA(xdp) *self)
{
	__u32 i, id;
	int n = 0;

	for (i = 0; i < 2; i++)
		n += !bpf_map_lookup_elem(self->m.pools, &i, &id);
	return n;
}

/*
 * Puts that do not fit in the slot pool move every ring into a larger
 * one: each service keeps its whole table, of its own backends.  The
 * first pool holds 65,536 elements, a ring of 65537 slots 16,386.
 */
TEST_F(xdp, pool_grows)
{
	struct lb_service s[6];
	__u32 count[14];
	int k, r;

	for (k = 0; k < 6; k++) {
		make_service(&s[k], AF_INET, IPPROTO_TCP, "192.0.2.10", 80 + k,
			     VIPLB_MODE_DR, VIPLB_SCHED_MAGLEV, 65537, BE3, 3);
		ASSERT_EQ(0, xdp_svc_put(&self->m, &s[k], false));
	}
	/* A process reuses no range it freed: rewrites grow it too. */
	for (r = 0; r < 12; r++) {
		s[0].backends[0].weight = r % 2;
		ASSERT_EQ(0, xdp_svc_put(&self->m, &s[0], false));
	}
	EXPECT_EQ(1, nr_pools(self));
	for (k = 0; k < 6; k++) {
		EXPECT_EQ(65537, ring_counts(self, &s[k], count));
		EXPECT_EQ(65537, count[11] + count[12] + count[13]);
		EXPECT_LT(0, count[11]);
		EXPECT_LT(0, count[12]);
		EXPECT_LT(0, count[13]);
	}
	/* Another process finds the gaps and the pool in use. */
	xdp_maps_release(&self->m, false);
	ASSERT_EQ(0, xdp_maps_init(&self->m));
	s[1].backends[2].weight = 0;
	ASSERT_EQ(0, xdp_svc_put(&self->m, &s[1], false));
	EXPECT_EQ(65537, ring_counts(self, &s[1], count));
	EXPECT_EQ(0, count[13]);
	EXPECT_EQ(1, nr_pools(self));
	for (k = 0; k < 6; k++)
		free(s[k].backends);
}

/*
 * Sends flows sport [from, from + n) to 192.0.2.10:80 on one CPU, each
 * forwarded by dr to a backend of BE3 (out[i] .11 .. .13, exact bytes),
 * and counts them in seen[].
 */
static void rr_flows(struct __test_metadata *_metadata,
		     FIXTURE_DATA(xdp) *self, int from, int n, int *got,
		     int seen[14])
{
	static const unsigned char *const mac[14] = {
		[11] = MAC_BE11, [12] = MAC_BE12, [13] = MAC_BE13,
	};
	struct flow_spec f = { .af = AF_INET, .src = "203.0.113.50",
			       .dst = "192.0.2.10", .proto = IPPROTO_TCP,
			       .dport = 80 };
	struct pkt in, out, want;
	cpu_set_t cpus;
	int i, b;

	CPU_ZERO(&cpus);
	CPU_SET(nth_cpu(0), &cpus);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(cpus), &cpus));
	for (i = 0; i < n; i++) {
		f.sport = from + i;
		build(&in, &f);
		ASSERT_EQ(XDP_TX, run(_metadata, self, &in, &out));
		b = backend_of(&out);
		ASSERT_NE(0, b);
		expect_dr(&want, &in, MAC_A0, mac[b]);
		EXPECT_PKT(&want, &out);
		seen[b]++;
		if (got)
			got[i] = b;
	}
}

/* Sends the flows again: each a flows map hit, to the same backend. */
static void rr_still_pinned(struct __test_metadata *_metadata,
			    FIXTURE_DATA(xdp) *self, int from, int n,
			    const int *got)
{
	__u64 hit0 = counter(self, VIPLB_XDP_ST_LRU_HIT);
	int seen[14] = { 0 }, again[64], i;

	ASSERT_GE(64, n);
	rr_flows(_metadata, self, from, n, again, seen);
	for (i = 0; i < n; i++)
		EXPECT_EQ(got[i], again[i]) TH_LOG("flow %d moved", from + i);
	EXPECT_EQ(n, counter(self, VIPLB_XDP_ST_LRU_HIT) - hit0);
}

/* rr: one slot per backend whatever its weight, each in turn, pinned. */
TEST_F(xdp, rr_round_robin_pinned)
{
	int seen[14] = { 0 }, got[30], i;
	__u32 count[14];
	struct lb_service s;

	make_service(&s, AF_INET, IPPROTO_TCP, "192.0.2.10", 80,
		     VIPLB_MODE_DR, VIPLB_SCHED_RR, 0, BE3, 3);
	s.backends[1].weight = 5;
	ASSERT_EQ(0, xdp_svc_put(&self->m, &s, false));
	EXPECT_EQ(3, ring_counts(self, &s, count));
	EXPECT_EQ(1, count[11]);
	EXPECT_EQ(1, count[12]);
	EXPECT_EQ(1, count[13]);

	rr_flows(_metadata, self, 1000, 30, got, seen);
	EXPECT_EQ(10, seen[11]);
	EXPECT_EQ(10, seen[12]);
	EXPECT_EQ(10, seen[13]);
	for (i = 1; i < 30; i++)
		EXPECT_NE(got[i - 1], got[i]);
	EXPECT_EQ(30, counter(self, VIPLB_XDP_ST_LRU_MISS));
	EXPECT_EQ(0, counter(self, VIPLB_XDP_ST_SCHED));
	EXPECT_EQ(30, counters(self, self->m.svc_stats, svc_id(self, &s)).flows);
	rr_still_pinned(_metadata, self, 1000, 30, got);
	free(s.backends);
}

/*
 * wrr 2:4:6: a ring of 6 (the gcd divided out), and every round of 6 new
 * flows gives exactly 1, 2 and 3 to .11, .12, .13; each flow pinned.
 */
TEST_F(xdp, wrr_weight_ratio_pinned)
{
	static const int order[6] = { 13, 12, 11, 13, 12, 13 };
	int seen[14] = { 0 }, round[14], got[60], i, r;
	__u32 count[14];
	struct lb_service s;

	make_service(&s, AF_INET, IPPROTO_TCP, "192.0.2.10", 80,
		     VIPLB_MODE_DR, VIPLB_SCHED_WRR, 0, BE3, 3);
	s.backends[0].weight = 2;
	s.backends[1].weight = 4;
	s.backends[2].weight = 6;
	ASSERT_EQ(0, xdp_svc_put(&self->m, &s, false));
	EXPECT_EQ(6, ring_counts(self, &s, count));
	EXPECT_EQ(1, count[11]);
	EXPECT_EQ(2, count[12]);
	EXPECT_EQ(3, count[13]);

	rr_flows(_metadata, self, 2000, 60, got, seen);
	/* Each backend's turns evenly spaced: C B A C B C. */
	for (i = 0; i < 6; i++)
		EXPECT_EQ(order[i], got[i]);
	EXPECT_EQ(10, seen[11]);
	EXPECT_EQ(20, seen[12]);
	EXPECT_EQ(30, seen[13]);
	for (r = 0; r < 60; r += 6) {
		memset(round, 0, sizeof(round));
		for (i = r; i < r + 6; i++)
			round[got[i]]++;
		EXPECT_EQ(1, round[11]) TH_LOG("round at flow %d", r);
		EXPECT_EQ(2, round[12]);
		EXPECT_EQ(3, round[13]);
	}
	EXPECT_EQ(60, counter(self, VIPLB_XDP_ST_LRU_MISS));
	EXPECT_EQ(0, counter(self, VIPLB_XDP_ST_SCHED));
	rr_still_pinned(_metadata, self, 2000, 60, got);
	free(s.backends);
}

/*
 * wrr 1:2:3, then .12 drained: its pinned flows stay, new flows go 1:3 to
 * .11 and .13; all drained: no ring, passed (no backend), pinned stay.
 */
TEST_F(xdp, wrr_weight0_drains)
{
	int seen[14] = { 0 }, got[6], more[8];
	struct flow_spec f = { .af = AF_INET, .src = "203.0.113.50",
			       .dst = "192.0.2.10", .proto = IPPROTO_TCP,
			       .sport = 9999, .dport = 80 };
	__u32 count[14];
	struct lb_service s;
	struct pkt in, out;

	make_service(&s, AF_INET, IPPROTO_TCP, "192.0.2.10", 80,
		     VIPLB_MODE_DR, VIPLB_SCHED_WRR, 0, BE3, 3);
	s.backends[1].weight = 2;
	s.backends[2].weight = 3;
	ASSERT_EQ(0, xdp_svc_put(&self->m, &s, false));
	rr_flows(_metadata, self, 3000, 6, got, seen);
	EXPECT_EQ(2, seen[12]);

	s.backends[1].weight = 0;
	ASSERT_EQ(0, xdp_svc_put(&self->m, &s, false));
	EXPECT_EQ(4, ring_counts(self, &s, count));
	EXPECT_EQ(0, count[12]);
	memset(seen, 0, sizeof(seen));
	rr_flows(_metadata, self, 4000, 8, more, seen);
	EXPECT_EQ(2, seen[11]);
	EXPECT_EQ(0, seen[12]);
	EXPECT_EQ(6, seen[13]);
	rr_still_pinned(_metadata, self, 3000, 6, got);

	s.backends[0].weight = 0;
	s.backends[2].weight = 0;
	ASSERT_EQ(0, xdp_svc_put(&self->m, &s, false));
	EXPECT_EQ(0, ring_counts(self, &s, count));
	build(&in, &f);
	EXPECT_EQ(XDP_PASS, run(_metadata, self, &in, &out));
	EXPECT_PKT(&in, &out);
	EXPECT_EQ(1, counter(self, VIPLB_XDP_ST_NO_BACKEND));
	rr_still_pinned(_metadata, self, 3000, 6, got);
	free(s.backends);
}

/*
 * wrr weights summing past VIPLB_TABLE_SIZE_MAX: scaled down in
 * proportion to a ring of at most that, every backend in it.
 */
TEST_F(xdp, wrr_ring_scaled_to_max)
{
	__u32 count[14], len;
	struct lb_service s;

	make_service(&s, AF_INET, IPPROTO_TCP, "192.0.2.10", 80,
		     VIPLB_MODE_DR, VIPLB_SCHED_WRR, 0, BE3, 3);
	s.backends[0].weight = 100000;
	s.backends[1].weight = 200000;
	s.backends[2].weight = 1;
	ASSERT_EQ(0, xdp_svc_put(&self->m, &s, false));
	len = ring_counts(self, &s, count);
	EXPECT_GE(VIPLB_TABLE_SIZE_MAX, len);
	/* 1 + w * (MAX - 3) / 300001 slots each. */
	EXPECT_EQ(43690, count[11]);
	EXPECT_EQ(87379, count[12]);
	EXPECT_EQ(1, count[13]);
	EXPECT_EQ(count[11] + count[12] + count[13], len);
	free(s.backends);
}

/* A lookup probe shows this CPU's next rr slot, and does not take it. */
TEST_F(xdp, rr_probe_does_not_advance)
{
	struct flow_spec f = { .af = AF_INET, .src = "203.0.113.50",
			       .dst = "192.0.2.10", .proto = IPPROTO_TCP,
			       .sport = 5000, .dport = 80 };
	int seen[14] = { 0 }, got, next;
	struct lb_service s;
	struct pkt in;

	add_be3(_metadata, self, VIPLB_MODE_DR, VIPLB_SCHED_RR, &s);
	rr_flows(_metadata, self, 0, 0, NULL, seen); /* onto one CPU */
	build(&in, &f);
	next = probe_choice(self, &in);
	ASSERT_LT(0, next);
	EXPECT_EQ(next, probe_choice(self, &in));
	f.sport = 5001;
	build(&in, &f);
	EXPECT_EQ(next, probe_choice(self, &in));
	rr_flows(_metadata, self, 5001, 1, &got, seen);
	EXPECT_EQ(next, got);
	f.sport = 5002;
	build(&in, &f);
	EXPECT_NE(next, probe_choice(self, &in));
	EXPECT_EQ(1, counter(self, VIPLB_XDP_ST_LRU_MISS));
	free(s.backends);
}

/* Who serves a service: one rule (user/xdp/served.c), as the program does. */
TEST_F(xdp, served_rule)
{
	static const struct {
		uint32_t mode, sched;
		const char *both, *xdp_only, *module_only;
	} c[] = {
		{ VIPLB_MODE_DR, VIPLB_SCHED_MAGLEV, "xdp", "xdp", "module" },
		{ VIPLB_MODE_TUN, VIPLB_SCHED_SH, "xdp", "xdp", "module" },
		{ VIPLB_MODE_DR, VIPLB_SCHED_RR, "xdp", "xdp", "module" },
		{ VIPLB_MODE_TUN, VIPLB_SCHED_WRR, "xdp", "xdp", "module" },
		{ VIPLB_MODE_DR, VIPLB_SCHED_LC, "module", "none", "module" },
		{ VIPLB_MODE_NAT, VIPLB_SCHED_MAGLEV, "module", "none", "module" },
		{ VIPLB_MODE_NAT, VIPLB_SCHED_RR, "module", "none", "module" },
	};
	struct lb_service s = { 0 };
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		s.mode = c[i].mode;
		s.sched = c[i].sched;
		EXPECT_STREQ(c[i].both, xdp_served_by(&s, true, true));
		EXPECT_STREQ(c[i].xdp_only, xdp_served_by(&s, false, true));
		EXPECT_STREQ(c[i].module_only, xdp_served_by(&s, true, false));
		EXPECT_STREQ("none", xdp_served_by(&s, false, false));
	}
}

/*
 * The replies to viplbd's checks sent outside the stack (bpf/health.h):
 * a SYN-ACK or a reset from backend 198.51.100.11:80 to the director's
 * 198.51.100.1:40000, acknowledging HC_ISN + 1.
 */
#define HC_ISN 0x10203040u

static void hc_put32(unsigned char *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* One of viplbd's checks in flight: the entry it puts in hc_probes. */
static void hc_probe_put(struct __test_metadata *_metadata,
			 FIXTURE_DATA(xdp) *self, struct viplb_xdp_hc_key *k)
{
	struct viplb_xdp_hc_probe v = { .ack = htonl(HC_ISN + 1) };
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	v.sent_ns = (__u64)ts.tv_sec * 1000000000 + ts.tv_nsec;
	k->backend = inet_addr("198.51.100.11");
	k->local = inet_addr("198.51.100.1");
	k->backend_port = htons(80);
	k->local_port = htons(40000);
	ASSERT_EQ(0, bpf_map_update_elem(
			     bpf_map__fd(self->skel->maps.hc_probes), k, &v, 0));
}

/* A backend's reply: TCP @flags, ack HC_ISN + 1, an MSS option. */
static void hc_reply_build(struct pkt *p, uint8_t flags, int vlan)
{
	struct flow_spec f = { .af = AF_INET, .src = "198.51.100.11",
			       .dst = "198.51.100.1", .proto = IPPROTO_TCP,
			       .sport = 80, .dport = 40000, .vlan = vlan,
			       .payload = 4 };
	unsigned char *th;

	build(p, &f);
	th = p->b + p->l3 + 20;
	memcpy(th + 4, "\x55\x66\x77\x88", 4); /* seq */
	hc_put32(th + 8, HC_ISN + 1);
	th[12] = 6 << 4;
	th[13] = flags;
	memcpy(th + 20, "\x02\x04\x05\xb4", 4); /* MSS 1460 */
}

struct hc_seen {
	int n;
	struct viplb_xdp_hc_result r;
};

static int hc_record(void *ctx, void *data, size_t len)
{
	struct hc_seen *seen = ctx;

	if (len == sizeof(seen->r))
		memcpy(&seen->r, data, len);
	seen->n++;
	return 0;
}

/* The records of hc_results since the last call. */
static struct hc_seen hc_results(struct __test_metadata *_metadata,
				 FIXTURE_DATA(xdp) *self)
{
	struct hc_seen seen = { 0 };
	struct ring_buffer *rb;

	rb = ring_buffer__new(bpf_map__fd(self->skel->maps.hc_results),
			      hc_record, &seen, NULL);
	EXPECT_NE(NULL, rb);
	if (rb) {
		ring_buffer__consume(rb);
		ring_buffer__free(rb);
	}
	return seen;
}

static bool hc_probe_there(FIXTURE_DATA(xdp) *self,
			   const struct viplb_xdp_hc_key *k)
{
	struct viplb_xdp_hc_probe v;

	return !bpf_map_lookup_elem(bpf_map__fd(self->skel->maps.hc_probes),
				    k, &v);
}

/* A SYN-ACK that answers a check becomes its reset, sent back. */
static void hc_synack(struct __test_metadata *_metadata,
		      FIXTURE_DATA(xdp) *self, int vlan)
{
	struct viplb_xdp_hc_key k;
	struct pkt in, out, want;
	struct hc_seen seen;
	unsigned char *ip, *th, pseudo[12 + 20];

	hc_probe_put(_metadata, self, &k);
	hc_reply_build(&in, 0x12, vlan);
	ASSERT_EQ(XDP_TX, run(_metadata, self, &in, &out));

	/* Built here byte by byte: the frame the program must send. */
	memset(&want, 0, sizeof(want));
	memcpy(want.b, in.b + 6, 6);
	memcpy(want.b + 6, in.b, 6);
	memcpy(want.b + 12, in.b + 12, in.l3 - 12); /* tag, ethertype */
	want.l3 = in.l3;
	want.len = in.l3 + 40;
	ip = want.b + want.l3;
	ip[0] = 0x45;
	put16(ip + 2, 40);
	put16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	inet_pton(AF_INET, "198.51.100.1", ip + 12);
	inet_pton(AF_INET, "198.51.100.11", ip + 16);
	set_ipv4_csum(ip);
	th = ip + 20;
	put16(th, 40000);
	put16(th + 2, 80);
	hc_put32(th + 4, HC_ISN + 1);
	th[12] = 5 << 4;
	th[13] = 0x04; /* RST */
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_TCP;
	put16(pseudo + 10, 20);
	memcpy(pseudo + 12, th, 20);
	put16(th + 16, csum16(pseudo, sizeof(pseudo)));
	EXPECT_PKT(&want, &out);

	seen = hc_results(_metadata, self);
	EXPECT_EQ(1, seen.n);
	EXPECT_EQ(VIPLB_XDP_HC_SYNACK, seen.r.reply);
	EXPECT_EQ(0, memcmp(&k, &seen.r.key, sizeof(k)));
	EXPECT_GT(1000000000ULL, seen.r.rtt_ns);
	EXPECT_FALSE(hc_probe_there(self, &k));
	/* Its result is taken once: the same SYN-ACK again passes. */
	EXPECT_EQ(XDP_PASS, run(_metadata, self, &in, &out));
	EXPECT_PKT(&in, &out);
	EXPECT_EQ(0, hc_results(_metadata, self).n);
}

TEST_F(xdp, hc_synack_reset) { hc_synack(_metadata, self, 0); }
TEST_F(xdp, hc_synack_reset_vlan) { hc_synack(_metadata, self, 7); }

/* A reset that answers a check (a refusal) is dropped, its result kept. */
TEST_F(xdp, hc_rst_refused)
{
	struct viplb_xdp_hc_key k;
	struct pkt in, out;
	struct hc_seen seen;

	hc_probe_put(_metadata, self, &k);
	hc_reply_build(&in, 0x14, 0);
	EXPECT_EQ(XDP_DROP, run(_metadata, self, &in, &out));
	seen = hc_results(_metadata, self);
	EXPECT_EQ(1, seen.n);
	EXPECT_EQ(VIPLB_XDP_HC_RST, seen.r.reply);
	EXPECT_FALSE(hc_probe_there(self, &k));
}

/*
 * Anything that does not answer a check exactly passes untouched, and
 * the check stays in flight: another acknowledgement, another port,
 * other flags, or no check at all.
 */
TEST_F(xdp, hc_others_pass)
{
	struct viplb_xdp_hc_key k;
	struct pkt in, out;

	/* No check in flight. */
	hc_reply_build(&in, 0x12, 0);
	EXPECT_EQ(XDP_PASS, run(_metadata, self, &in, &out));
	EXPECT_PKT(&in, &out);

	hc_probe_put(_metadata, self, &k);
	/* Another acknowledgement. */
	in.b[in.l3 + 20 + 11] ^= 1;
	EXPECT_EQ(XDP_PASS, run(_metadata, self, &in, &out));
	EXPECT_PKT(&in, &out);
	in.b[in.l3 + 20 + 11] ^= 1;
	/* Another destination port. */
	in.b[in.l3 + 20 + 3] ^= 1;
	EXPECT_EQ(XDP_PASS, run(_metadata, self, &in, &out));
	EXPECT_PKT(&in, &out);
	in.b[in.l3 + 20 + 3] ^= 1;
	/* An ACK, a FIN, a SYN, a bare RST. */
	in.b[in.l3 + 20 + 13] = 0x10;
	EXPECT_EQ(XDP_PASS, run(_metadata, self, &in, &out));
	in.b[in.l3 + 20 + 13] = 0x11;
	EXPECT_EQ(XDP_PASS, run(_metadata, self, &in, &out));
	in.b[in.l3 + 20 + 13] = 0x02;
	EXPECT_EQ(XDP_PASS, run(_metadata, self, &in, &out));
	in.b[in.l3 + 20 + 13] = 0x04;
	EXPECT_EQ(XDP_PASS, run(_metadata, self, &in, &out));
	EXPECT_PKT(&in, &out);

	EXPECT_EQ(0, hc_results(_metadata, self).n);
	EXPECT_TRUE(hc_probe_there(self, &k));
	/* Then the real one. */
	in.b[in.l3 + 20 + 13] = 0x12;
	EXPECT_EQ(XDP_TX, run(_metadata, self, &in, &out));
	EXPECT_EQ(1, hc_results(_metadata, self).n);
}

int main(int argc, char **argv)
{
	sched_getaffinity(0, sizeof(test_cpus), &test_cpus);
	net_setup();
	return test_harness_run(argc, argv);
}
