// SPDX-License-Identifier: GPL-2.0
/*
 * nl_flood: far more than a netns may hold, as fast as it can be sent.
 *
 *   nl_flood services N
 *	N SERVICE_NEW in one transaction: tcp, distinct VIP:port, the
 *	default scheduler (Maglev) but no backend, so no table is due and
 *	only net.viplb.max_services can stop them.
 *   nl_flood backends N
 *	N BACKEND_NEW in one transaction, BACKENDS_PER_SVC per service, each
 *	service added before its backends (sched rr: no Maglev table, so
 *	the cap hit is net.viplb.max_backends).  The kernel's duplicate
 *	check walks a service's backend list, hence the spread.
 *   nl_flood rules N
 *	One load of the IPv4 filter table (transaction of scope RULES):
 *	RULES_TABLE, then N rules in INPUT; the cap is net.viplb.max_rules.
 *
 * The commands are generated one at a time and streamed through the
 * transaction client of user/lib/txn.h, as viplb restore sends them: in
 * batches of up to 128 KiB without NLM_F_ACK.  The kernel runs a batch before its sendmsg() returns and
 * answers only errors, which are read after each batch: the first
 * refusal stops the stream within one batch, and nothing is held in
 * memory.  Nothing is committed: the transaction is aborted (TXN_ABORT,
 * then the socket is closed), so nothing stays configured.  Prints "# "
 * lines: commands accepted, the refusal (errno and extack) and the
 * times.  Exit 0 if the kernel refused with ENOSPC and an extack naming
 * the mode's cap, 1 otherwise.
 *
 *   nl_flood udp TUN SRC DST PORT N
 *	N UDP datagrams to DST:PORT, each from its own (source address,
 *	source port): ports 1024..65535 of SRC, then of SRC + 1, ...  They
 *	are written to a tun device TUN that it creates (and that goes with
 *	it), so they enter the stack as if received from a wire:
 *	PRE_ROUTING, then LOCAL_IN where the dr/tun hook serves a local VIP.
 *	A tun write is received before it returns (netif_receive_skb()), so
 *	no input backlog can overflow and drop some.  Sent through LOCAL_OUT
 *	instead (a raw IP socket), every datagram would also leave a
 *	confirmed conntrack entry behind, and a full conntrack table drops
 *	packets before viplb sees them.  Exit 0 if all N were written.
 *
 * Needs CAP_NET_ADMIN in the netns's user namespace.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/if_tun.h>
#include <linux/viplb.h>

#include "errors.h"
#include "nl.h"
#include "txn.h"

#define BACKENDS_PER_SVC 1000
#define PORT_FIRST 1024
#define PORTS_PER_ADDR (65536 - PORT_FIRST)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static const char *errno_name(int e)
{
	switch (e) {
	case 0:
		return "0";
	case ENOSPC:
		return "ENOSPC";
	case ENOMEM:
		return "ENOMEM";
	case EINVAL:
		return "EINVAL";
	case EEXIST:
		return "EEXIST";
	case ENOENT:
		return "ENOENT";
	case EBUSY:
		return "EBUSY";
	case EPERM:
		return "EPERM";
	case ENOBUFS:
		return "ENOBUFS";
	}
	return strerror(e);
}

/* A service key, and sched rr if @rr. */
static void put_svc(struct nlmsghdr *nlh, uint32_t addr, uint16_t port, bool rr)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, VIPLB_A_SERVICE);

	mnl_attr_put_u16(nlh, VIPLB_SVC_A_AF, AF_INET);
	mnl_attr_put_u8(nlh, VIPLB_SVC_A_PROTO, IPPROTO_TCP);
	mnl_attr_put_u32(nlh, VIPLB_SVC_A_ADDR, htonl(addr));
	mnl_attr_put_u16(nlh, VIPLB_SVC_A_PORT, htons(port));
	if (rr)
		mnl_attr_put_u32(nlh, VIPLB_SVC_A_SCHED, VIPLB_SCHED_RR);
	mnl_attr_nest_end(nlh, nest);
}

/* Service i of "services": 10.0.0.0 + i / 65535, ports 1..65535. */
static void msg_service(struct nlmsghdr *nlh, uint64_t i)
{
	put_svc(nlh, 0x0a000000 + i / 65535, 1 + i % 65535, false);
}

/* Service s of "backends": 198.18.0.0 + s, port 80, sched rr. */
static void msg_be_service(struct nlmsghdr *nlh, uint64_t s)
{
	put_svc(nlh, 0xc6120000 + s, 80, true);
}

/* Backend j of a service: 10.0.0.0 + j, port 8080. */
static void msg_backend(struct nlmsghdr *nlh, uint64_t s, uint64_t j)
{
	struct nlattr *nest;

	put_svc(nlh, 0xc6120000 + s, 80, false);
	nest = mnl_attr_nest_start(nlh, VIPLB_A_BACKEND);
	mnl_attr_put_u32(nlh, VIPLB_BE_A_ADDR, htonl(0x0a000000 + j));
	mnl_attr_put_u16(nlh, VIPLB_BE_A_PORT, htons(8080));
	mnl_attr_nest_end(nlh, nest);
}

static void put_table(struct nlmsghdr *nlh)
{
	mnl_attr_put_u16(nlh, VIPLB_RULES_A_AF, AF_INET);
	mnl_attr_put_u32(nlh, VIPLB_RULES_A_TABLE, VIPLB_RTABLE_FILTER);
}

/* RULES_TABLE: the IPv4 filter table starts empty. */
static void msg_table(struct nlmsghdr *nlh)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, VIPLB_A_RULES);

	put_table(nlh);
	mnl_attr_nest_end(nlh, nest);
}

/* Rule i: -A INPUT -s 10.0.0.0 + i -j ACCEPT. */
static void msg_rule(struct nlmsghdr *nlh, uint64_t i)
{
	struct viplb_rule_spec spec;
	struct nlattr *nest;

	memset(&spec, 0, sizeof(spec));
	spec.match = VIPLB_M_SRC;
	spec.src[0] = htonl(0x0a000000 + (i & 0xffffff));
	spec.src_mask[0] = htonl(0xffffffff);
	spec.verdict = VIPLB_V_ACCEPT;
	nest = mnl_attr_nest_start(nlh, VIPLB_A_RULES);
	put_table(nlh);
	mnl_attr_put_strz(nlh, VIPLB_RULES_A_CHAIN, "INPUT");
	mnl_attr_put(nlh, VIPLB_RULES_A_SPEC, sizeof(spec), &spec);
	mnl_attr_nest_end(nlh, nest);
}

enum mode { SERVICES, BACKENDS, RULES };

static const struct {
	const char *name;
	const char *what; /* what is counted */
	const char *cap; /* the sysctl that must stop it */
	uint32_t scope;
} modes[] = {
	[SERVICES] = { "services", "service adds", "max_services",
		       VIPLB_TXN_SERVICES },
	[BACKENDS] = { "backends", "backend adds", "max_backends",
		       VIPLB_TXN_SERVICES },
	[RULES] = { "rules", "rules", "max_rules", VIPLB_TXN_RULES },
};

/* Items of @mode (services, backends, rules) before command @idx. */
static uint64_t items_before(enum mode mode, uint64_t idx)
{
	switch (mode) {
	case SERVICES:
		return idx;
	case BACKENDS:
		/* A service add, then its backends. */
		return idx / (BACKENDS_PER_SVC + 1) * BACKENDS_PER_SVC +
		       max_u64(idx % (BACKENDS_PER_SVC + 1), 1) - 1;
	case RULES:
		/* The RULES_TABLE first. */
		return idx ? idx - 1 : 0;
	}
	return 0;
}

/* Starts command @k of the stream in @t, and fills it. */
static void next_msg(struct txn *t, enum mode mode, uint64_t k)
{
	struct nlmsghdr *nlh = NULL;
	uint64_t s, j;

	switch (mode) {
	case SERVICES:
		nlh = txn_msg(t, VIPLB_CMD_SERVICE_NEW);
		msg_service(nlh, k);
		break;
	case BACKENDS:
		s = k / (BACKENDS_PER_SVC + 1);
		j = k % (BACKENDS_PER_SVC + 1);
		if (!j) {
			nlh = txn_msg(t, VIPLB_CMD_SERVICE_NEW);
			msg_be_service(nlh, s);
		} else {
			nlh = txn_msg(t, VIPLB_CMD_BACKEND_NEW);
			msg_backend(nlh, s, j - 1);
		}
		break;
	case RULES:
		if (!k) {
			nlh = txn_msg(t, VIPLB_CMD_RULES_TABLE);
			msg_table(nlh);
		} else {
			nlh = txn_msg(t, VIPLB_CMD_RULES_RULE);
			msg_rule(nlh, k - 1);
		}
		break;
	}
}

/* Commands in the stream of @n items. */
static uint64_t stream_len(enum mode mode, uint64_t n)
{
	switch (mode) {
	case SERVICES:
		return n;
	case BACKENDS:
		return n + (n + BACKENDS_PER_SVC - 1) / BACKENDS_PER_SVC;
	case RULES:
		return n + 1;
	}
	return 0;
}

static long read_cap(const char *name)
{
	char path[128];
	long val = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/viplb/%s", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &val) != 1)
		val = -1;
	fclose(f);
	return val;
}

static int flood_config(enum mode mode, uint64_t n)
{
	const char *name = modes[mode].name;
	uint64_t total = stream_len(mode, n), k, items;
	struct nl_error err, first;
	struct nl_sock *nl;
	double t0, t1, t2;
	struct txn *t;
	char want[64];
	size_t failed;
	int ret = 1;
	long cap;

	cap = read_cap(modes[mode].cap);
	printf("# %s: %llu %s (%llu commands) in one transaction, net.viplb.%s = %ld\n",
	       name, (unsigned long long)n, modes[mode].what,
	       (unsigned long long)total, modes[mode].cap, cap);
	nl = nl_open();
	if (!nl)
		return 1;
	t0 = now();
	t = txn_begin(nl, modes[mode].scope, -1, &err);
	if (!t) {
		nl_report("TXN_BEGIN", &err);
		goto out_close;
	}
	for (k = 0; k < total && !txn_failed(t, &failed, &first); k++) {
		next_msg(t, mode, k);
		if (txn_add(t, &err)) {
			nl_report("sending", &err);
			goto out_free;
		}
	}
	t1 = now();
	/* Sends what is still queued, so every error is in. */
	if (txn_abort(t, &err)) {
		nl_report("TXN_ABORT", &err);
		goto out_free;
	}
	t2 = now();

	if (!txn_failed(t, &failed, &first)) {
		printf("# %s: all %llu accepted in %.1f s: no refusal\n", name,
		       (unsigned long long)n, t1 - t0);
		goto out_free;
	}
	items = items_before(mode, failed);
	printf("# %s: accepted %llu %s, refused command %llu: %s: %s\n", name,
	       (unsigned long long)items, modes[mode].what,
	       (unsigned long long)failed + 1, errno_name(first.error),
	       first.msg[0] ? first.msg : "(no extack message)");
	printf("# %s: %zu commands queued in %.2f s (%.0f/s), TXN_ABORT in %.2f s\n",
	       name, txn_ops(t), t1 - t0,
	       txn_ops(t) / (t1 - t0 > 0 ? t1 - t0 : 1e-9), t2 - t1);
	snprintf(want, sizeof(want), "net.viplb.%s", modes[mode].cap);
	ret = first.error == ENOSPC && strstr(first.msg, want) ? 0 : 1;
out_free:
	txn_free(t);
out_close:
	nl_close(nl);
	return ret;
}

/* Adds @len bytes, as big-endian 16-bit words, to a one's complement sum. */
static uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len > 1) {
		sum += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons(~sum & 0xffff);
}

struct datagram {
	struct {
		uint8_t vihl, tos;
		uint16_t len, id, frag;
		uint8_t ttl, proto;
		uint16_t csum;
		uint32_t saddr, daddr;
	} __attribute__((packed)) ip;
	struct {
		uint16_t sport, dport, len, csum;
	} __attribute__((packed)) udp;
	uint8_t payload[4];
} __attribute__((packed));

static void datagram_fill(struct datagram *d, uint32_t saddr, uint32_t daddr,
			  uint16_t sport, uint16_t dport, uint16_t id)
{
	uint16_t udp_len = sizeof(d->udp) + sizeof(d->payload);
	uint32_t sum;

	memset(d, 0, sizeof(*d));
	d->ip.vihl = 0x45;
	d->ip.len = htons(sizeof(*d));
	d->ip.id = htons(id);
	d->ip.ttl = 64;
	d->ip.proto = IPPROTO_UDP;
	d->ip.saddr = htonl(saddr);
	d->ip.daddr = htonl(daddr);
	d->ip.csum = csum_fold(csum_add(0, &d->ip, sizeof(d->ip)));
	d->udp.sport = htons(sport);
	d->udp.dport = htons(dport);
	d->udp.len = htons(udp_len);
	memcpy(d->payload, "vlb", 4);
	/* Pseudo-header, then the datagram. */
	sum = csum_add(0, &d->ip.saddr, 8);
	sum += IPPROTO_UDP + udp_len;
	sum = csum_add(sum, &d->udp, udp_len);
	d->udp.csum = csum_fold(sum);
	if (!d->udp.csum)
		d->udp.csum = 0xffff;
}

/* Packets the CPUs' input backlogs dropped, from /proc/net/softnet_stat. */
static unsigned long long backlog_drops(void)
{
	unsigned long long drops = 0;
	unsigned int processed, dropped;
	char line[512];
	FILE *f;

	f = fopen("/proc/net/softnet_stat", "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%x %x", &processed, &dropped) == 2)
			drops += dropped;
	fclose(f);
	return drops;
}

/* Creates tun device @name (gone when @fd closes), up.  The fd or -1. */
static int tun_open(const char *name)
{
	struct ifreq ifr;
	int fd, s;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	fd = open("/dev/net/tun", O_RDWR);
	if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr)) {
		errmsg("udp: tun device %s: %s", name, strerror(errno));
		goto err;
	}
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr)) {
		errmsg("udp: %s: %s", name, strerror(errno));
		goto err_s;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr)) {
		errmsg("udp: %s up: %s", name, strerror(errno));
		goto err_s;
	}
	close(s);
	return fd;
err_s:
	if (s >= 0)
		close(s);
err:
	if (fd >= 0)
		close(fd);
	return -1;
}

static int flood_udp(const char *dev, const char *src, const char *dst,
		     unsigned int dport, uint64_t n)
{
	struct in_addr s_in, d_in;
	unsigned long long drops;
	struct datagram d;
	double t0, t1;
	uint64_t i;
	ssize_t r;
	int fd;

	if (inet_pton(AF_INET, src, &s_in) != 1 ||
	    inet_pton(AF_INET, dst, &d_in) != 1 || !dport || dport > 65535) {
		errmsg("udp: bad address or port");
		return 1;
	}
	fd = tun_open(dev);
	if (fd < 0)
		return 1;
	printf("# udp: %llu datagrams to %s:%u from ports %u..65535 of %s and up, in through tun %s\n",
	       (unsigned long long)n, dst, dport, PORT_FIRST, src, dev);
	drops = backlog_drops();
	t0 = now();
	for (i = 0; i < n; i++) {
		datagram_fill(&d, ntohl(s_in.s_addr) + i / PORTS_PER_ADDR,
			      ntohl(d_in.s_addr),
			      PORT_FIRST + i % PORTS_PER_ADDR, dport, i);
		do
			r = write(fd, &d, sizeof(d));
		while (r < 0 && errno == EINTR);
		if (r != sizeof(d)) {
			errmsg("udp: write after %llu: %s",
			       (unsigned long long)i,
			       r < 0 ? strerror(errno) : "short write");
			close(fd);
			return 1;
		}
	}
	t1 = now();
	close(fd);
	drops = backlog_drops() - drops;
	printf("# udp: %llu sent in %.1f s (%.0f/s), %llu dropped by input backlogs meanwhile\n",
	       (unsigned long long)n, t1 - t0, n / (t1 - t0), drops);
	return 0;
}

static int parse_count(const char *s, uint64_t *n)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || !v)
		return -1;
	*n = v;
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: nl_flood services|backends|rules N\n"
			"       nl_flood udp TUN SRC DST PORT N\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t n;
	int m;

	prog_name = "nl_flood";
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 7 && !strcmp(argv[1], "udp")) {
		if (parse_count(argv[6], &n))
			usage();
		return flood_udp(argv[2], argv[3], argv[4], atoi(argv[5]), n);
	}
	if (argc != 3 || parse_count(argv[2], &n))
		usage();
	for (m = 0; m < (int)(sizeof(modes) / sizeof(modes[0])); m++)
		if (!strcmp(argv[1], modes[m].name))
			return flood_config(m, n);
	usage();
	return 2;
}
