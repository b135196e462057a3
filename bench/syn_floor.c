// SPDX-License-Identifier: GPL-2.0
/*
 * syn_floor: the least a prober can do for viplbd's half-open tcp checks,
 * for bench/viplbd_cpu.sh to measure beside viplbd.  It sends the same
 * SYNs as viplbd (IPv4, IP_HDRINCL, one MSS option) to the same
 * backends at the same rate, in the same 10 ms batches with one
 * sendmmsg(), from 8 held source ports taken in turn per backend, and
 * reads the replies from its raw socket with recvmmsg(), counting the
 * SYN-ACKs; the kernel sends each SYN-ACK its reset, as for viplbd.  It
 * keeps no state per check: no timers, timeouts, results or weights.
 *
 *   syn_floor SRC FIRST NADDR PORT CHECKS INTERVAL_MS [PINDIR [IFNAME SMAC DMAC]]
 *
 * checks CHECKS targets (FIRST + i % NADDR):PORT, i < CHECKS, each every
 * INTERVAL_MS, until SIGTERM or SIGINT; then it prints "sent N failed F
 * synacks M xdp X" on stdout: M SYN-ACKs in all, X of them taken at XDP.
 *
 * With PINDIR, the XDP mode: bench/syn_floor_xdp.bpf.c is attached where
 * the replies arrive, its maps pinned in PINDIR.  Before each batch's
 * sendmmsg(), one bpf(BPF_MAP_UPDATE_BATCH) puts the batch's probes into
 * "inflight"; their SYN-ACKs are reset at XDP and come back as records
 * of the ring buffer "replies", read after each batch.  The raw socket
 * is still read, for what XDP let pass.
 *
 * With IFNAME SMAC DMAC as well, the SYNs skip the IP stack too: each
 * batch goes out as Ethernet frames (SMAC to DMAC) on an AF_PACKET socket
 * bound to IFNAME, with PACKET_QDISC_BYPASS: no route, neighbour,
 * netfilter or qdisc on the way to the driver.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "syn_floor.h"

#define BATCH_MS 10
#define PORTS 8
#define SYN_LEN 24
#define PKT_LEN (sizeof(struct iphdr) + SYN_LEN)
#define MAX_BATCH 1024
#define RECV_BATCH 64

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* A reply taken at XDP: @ctx counts the SYN-ACKs among them. */
static int on_xdp_reply(void *ctx, void *data, size_t len)
{
	const struct syn_floor_reply *r = data;
	unsigned long *synacks = ctx;

	if (len >= sizeof(*r) && r->synack)
		(*synacks)++;
	return 0;
}

/* XDP mode: the maps pinned in @dir.  0, or -1 with a message. */
static int open_xdp(const char *dir, int *inflight, struct ring_buffer **rb,
		    unsigned long *synacks)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/inflight", dir);
	*inflight = bpf_obj_get(path);
	if (*inflight < 0) {
		fprintf(stderr, "syn_floor: %s: %s\n", path, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/replies", dir);
	fd = bpf_obj_get(path);
	*rb = fd < 0 ? NULL : ring_buffer__new(fd, on_xdp_reply, synacks, NULL);
	if (!*rb) {
		fprintf(stderr, "syn_floor: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int parse_mac(const char *s, uint8_t *mac)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1],
		      &mac[2], &mac[3], &mac[4], &mac[5]) == 6 ? 0 : -1;
}

/*
 * The AF_PACKET sender on @ifname, frames from @smac to @dmac: its
 * socket, with @to and @eth (the frames' Ethernet header) filled in; or
 * -1 with a message.
 */
static int open_sender(const char *ifname, const char *smac, const char *dmac,
		       struct sockaddr_ll *to, uint8_t *eth)
{
	int fd, on = 1;

	memset(to, 0, sizeof(*to));
	to->sll_family = AF_PACKET;
	to->sll_protocol = htons(ETH_P_IP);
	to->sll_ifindex = if_nametoindex(ifname);
	to->sll_halen = ETH_ALEN;
	if (!to->sll_ifindex || parse_mac(dmac, eth) ||
	    parse_mac(smac, eth + ETH_ALEN)) {
		fprintf(stderr, "syn_floor: bad IFNAME, SMAC or DMAC: %s %s %s\n",
			ifname, smac, dmac);
		return -1;
	}
	memcpy(to->sll_addr, eth, ETH_ALEN);
	eth[12] = ETH_P_IP >> 8;
	eth[13] = ETH_P_IP & 0xff;
	/* Protocol 0: it receives nothing. */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &on,
				 sizeof(on))) {
		perror("syn_floor: AF_PACKET socket");
		return -1;
	}
	return fd;
}

static uint32_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	return sum;
}

static void build(uint8_t *pkt, struct in_addr src, struct in_addr dst,
		  uint16_t sport, uint16_t dport, uint32_t isn)
{
	struct iphdr ip = { .version = 4, .ihl = 5, .ttl = 64 };
	uint8_t *t = pkt + sizeof(ip);
	uint32_t sum, seq = htonl(isn);

	ip.frag_off = htons(IP_DF);
	ip.protocol = IPPROTO_TCP;
	ip.saddr = src.s_addr;
	ip.daddr = dst.s_addr;
	/* The raw socket fills these in; AF_PACKET sends them as they are. */
	ip.tot_len = htons(PKT_LEN);
	ip.check = htons(~fold(sum16(0, (const uint8_t *)&ip, sizeof(ip))));
	memcpy(pkt, &ip, sizeof(ip));
	memset(t, 0, SYN_LEN);
	memcpy(t, &sport, 2);
	memcpy(t + 2, &dport, 2);
	memcpy(t + 4, &seq, 4);
	t[12] = (SYN_LEN / 4) << 4;
	t[13] = 0x02; /* SYN */
	t[14] = 0xff;
	t[15] = 0xff;
	t[20] = 2; /* MSS 1460 */
	t[21] = 4;
	t[22] = 1460 >> 8;
	t[23] = 1460 & 0xff;
	sum = sum16(IPPROTO_TCP + SYN_LEN, (const uint8_t *)&ip.saddr, 8);
	sum = fold(sum16(sum, t, SYN_LEN));
	t[16] = ~sum >> 8;
	t[17] = ~sum & 0xff;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read what the raw socket holds: the SYN-ACKs among it. */
static unsigned long drain(int fd)
{
	static uint8_t bufs[RECV_BATCH][128];
	struct mmsghdr msgs[RECV_BATCH];
	struct iovec iov[RECV_BATCH];
	unsigned long synacks = 0;
	const uint8_t *t;
	int i, n;

	do {
		memset(msgs, 0, sizeof(msgs));
		for (i = 0; i < RECV_BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = sizeof(bufs[i]);
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(fd, msgs, RECV_BATCH, MSG_DONTWAIT, NULL);
		for (i = 0; i < n; i++) {
			t = bufs[i] + (bufs[i][0] & 0xf) * 4;
			if (msgs[i].msg_len >= (unsigned int)(t - bufs[i]) + 14 &&
			    (t[13] & 0x12) == 0x12)
				synacks++;
		}
	} while (n == RECV_BATCH);
	return synacks;
}

int main(int argc, char **argv)
{
	static uint8_t pkts[MAX_BATCH][ETH_HLEN + PKT_LEN];
	static struct mmsghdr msgs[MAX_BATCH];
	static struct iovec iov[MAX_BATCH];
	static struct sockaddr_in to[MAX_BATCH];
	static struct syn_floor_key keys[MAX_BATCH];
	static uint32_t acks[MAX_BATCH];
	unsigned long xdp_synacks = 0;
	struct ring_buffer *rb = NULL;
	struct sockaddr_ll ll;
	uint8_t eth[ETH_HLEN];
	int inflight = -1, afp = -1;
	size_t l2 = 0;
	struct in_addr src, first, dst;
	uint16_t ports[PORTS], dport;
	unsigned int naddr, checks, interval, per_batch, *turn, i, k, n;
	unsigned long sent = 0, failed = 0, synacks = 0, next = 0, isn = 1;
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	struct timespec ts;
	uint64_t due;
	int fd, on = 1, rcvbuf = 1 << 20;

	if ((argc != 7 && argc != 8 && argc != 11) ||
	    !inet_aton(argv[1], &src) || !inet_aton(argv[2], &first)) {
		fprintf(stderr,
			"usage: syn_floor SRC FIRST NADDR PORT CHECKS INTERVAL_MS [PINDIR [IFNAME SMAC DMAC]]\n");
		return 2;
	}
	naddr = strtoul(argv[3], NULL, 0);
	dport = htons(strtoul(argv[4], NULL, 0));
	checks = strtoul(argv[5], NULL, 0);
	interval = strtoul(argv[6], NULL, 0);
	per_batch = checks * BATCH_MS / (interval ? interval : 1);
	if (!naddr || !checks || interval < BATCH_MS || !per_batch ||
	    per_batch > MAX_BATCH) {
		fprintf(stderr, "syn_floor: bad NADDR, CHECKS or INTERVAL_MS\n");
		return 2;
	}
	if (argc >= 8 && open_xdp(argv[7], &inflight, &rb, &xdp_synacks))
		return 1;
	if (argc == 11) {
		afp = open_sender(argv[8], argv[9], argv[10], &ll, eth);
		if (afp < 0)
			return 1;
		l2 = ETH_HLEN;
	}
	turn = calloc(naddr, sizeof(*turn));
	fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_TCP);
	if (!turn || fd < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &on, sizeof(on)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf))) {
		perror("syn_floor: raw socket");
		return 1;
	}
	/* Held, bound and not listening, as viplbd holds its ports. */
	for (k = 0; k < PORTS; k++) {
		int p = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		a.sin_port = 0;
		alen = sizeof(a);
		if (p < 0 || bind(p, (struct sockaddr *)&a, sizeof(a)) ||
		    getsockname(p, (struct sockaddr *)&a, &alen)) {
			perror("syn_floor: source port");
			return 1;
		}
		ports[k] = a.sin_port;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	due = now_ms();
	while (!stop) {
		for (n = 0; n < per_batch; n++, next = (next + 1) % checks) {
			uint32_t seq = (uint32_t)(isn++ * 2654435761u);
			uint16_t sport;

			i = next % naddr;
			sport = ports[turn[i]++ % PORTS];
			dst.s_addr = htonl(ntohl(first.s_addr) + i);
			memcpy(pkts[n], eth, l2);
			build(pkts[n] + l2, src, dst, sport, dport, seq);
			if (inflight >= 0) {
				keys[n] = (struct syn_floor_key){
					.backend = dst.s_addr,
					.local = src.s_addr,
					.backend_port = dport,
					.local_port = sport,
				};
				acks[n] = htonl(seq + 1);
			}
			iov[n].iov_base = pkts[n];
			iov[n].iov_len = l2 + PKT_LEN;
			to[n].sin_family = AF_INET;
			to[n].sin_addr = dst;
			msgs[n].msg_hdr.msg_iov = &iov[n];
			msgs[n].msg_hdr.msg_iovlen = 1;
			if (afp >= 0) {
				msgs[n].msg_hdr.msg_name = &ll;
				msgs[n].msg_hdr.msg_namelen = sizeof(ll);
			} else {
				msgs[n].msg_hdr.msg_name = &to[n];
				msgs[n].msg_hdr.msg_namelen = sizeof(to[n]);
			}
		}
		if (inflight >= 0) {
			__u32 count = n;

			if (bpf_map_update_batch(inflight, keys, acks, &count,
						 NULL) || count != n) {
				fprintf(stderr, "syn_floor: inflight: %u of %u: %s\n",
					count, n, strerror(errno));
				return 1;
			}
		}
		for (k = 0; k < n;) {
			int r = sendmmsg(afp >= 0 ? afp : fd, msgs + k, n - k,
					 0);

			if (r > 0)
				k += r;
			else if (errno != EINTR)
				k++, failed++; /* e.g. an earlier ICMP error */
		}
		sent += n;
		synacks += drain(fd);
		if (rb)
			ring_buffer__consume(rb);
		due += BATCH_MS;
		ts.tv_sec = due / 1000;
		ts.tv_nsec = due % 1000 * 1000000;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
	synacks += drain(fd);
	if (rb)
		ring_buffer__consume(rb);
	printf("sent %lu failed %lu synacks %lu xdp %lu\n", sent - failed,
	       failed, synacks + xdp_synacks, xdp_synacks);
	return 0;
}
