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
 *   syn_floor SRC FIRST NADDR PORT CHECKS INTERVAL_MS
 *
 * checks CHECKS targets (FIRST + i % NADDR):PORT, i < CHECKS, each every
 * INTERVAL_MS, until SIGTERM or SIGINT; then it prints "sent N failed F
 * synacks M" on stdout.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
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
	static uint8_t pkts[MAX_BATCH][PKT_LEN];
	static struct mmsghdr msgs[MAX_BATCH];
	static struct iovec iov[MAX_BATCH];
	static struct sockaddr_in to[MAX_BATCH];
	struct in_addr src, first, dst;
	uint16_t ports[PORTS], dport;
	unsigned int naddr, checks, interval, per_batch, *turn, i, k, n;
	unsigned long sent = 0, failed = 0, synacks = 0, next = 0, isn = 1;
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	struct timespec ts;
	uint64_t due;
	int fd, on = 1, rcvbuf = 1 << 20;

	if (argc != 7 || !inet_aton(argv[1], &src) ||
	    !inet_aton(argv[2], &first)) {
		fprintf(stderr,
			"usage: syn_floor SRC FIRST NADDR PORT CHECKS INTERVAL_MS\n");
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
			i = next % naddr;
			dst.s_addr = htonl(ntohl(first.s_addr) + i);
			build(pkts[n], src, dst, ports[turn[i]++ % PORTS],
			      dport, (uint32_t)(isn++ * 2654435761u));
			iov[n].iov_base = pkts[n];
			iov[n].iov_len = PKT_LEN;
			to[n].sin_family = AF_INET;
			to[n].sin_addr = dst;
			msgs[n].msg_hdr.msg_iov = &iov[n];
			msgs[n].msg_hdr.msg_iovlen = 1;
			msgs[n].msg_hdr.msg_name = &to[n];
			msgs[n].msg_hdr.msg_namelen = sizeof(to[n]);
		}
		for (k = 0; k < n;) {
			int r = sendmmsg(fd, msgs + k, n - k, 0);

			if (r > 0)
				k += r;
			else if (errno != EINTR)
				k++, failed++; /* e.g. an earlier ICMP error */
		}
		sent += n;
		synacks += drain(fd);
		due += BATCH_MS;
		ts.tv_sec = due / 1000;
		ts.tv_nsec = due % 1000 * 1000000;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
	synacks += drain(fd);
	printf("sent %lu failed %lu synacks %lu\n", sent - failed, failed,
	       synacks);
	return 0;
}
