// SPDX-License-Identifier: GPL-2.0
/*
 * The tcp check as a SYN on a raw socket.  The SYN leaves from one of
 * SYN_PORTS source ports that viplbd holds bound but not listening, so
 * that no connect() on the host takes them; the backend's SYN-ACK is a
 * success and its reset a refusal, both read from the raw socket, and
 * the kernel answers the SYN-ACK with a reset of its own, as it does any
 * segment that no socket owns.  The check is half open, as with
 * connect() and TCP_DEFER_ACCEPT (probe.c), but the director keeps no
 * socket, port binding, timer or epoll entry per check, and sends one
 * packet from viplbd instead of a connect() and a disconnect.
 *
 * A reply is matched to its probe by the backend's address and port,
 * the source port and the acknowledgement of the probe's random initial
 * sequence number.  The probes to one address and port take the held
 * source ports in turn (one turn per hash bucket), skipping any that a
 * probe in flight to it holds: a backend never sees one connection twice
 * at a time, and a 4-tuple comes back only after SYN_PORTS checks of
 * its address and port, so a reset that was lost on the way leaves no
 * half-open connection in the way of the next check (the backend sends
 * its SYN-ACK again within 1 s, and the stack resets it).  With all of
 * them held, or without raw sockets (no CAP_NET_RAW), the check uses
 * connect().  ICMP
 * errors are read with IP_RECVERR: "connect: No route to host", as
 * connect() would say.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

#include "util.h"
#include "viplbd.h"

#define SYN_BUCKETS 4096
/* The SYN: a TCP header with one option, the MSS. */
#define SYN_LEN 24
#define SYN_PKT_LEN (sizeof(struct iphdr) + SYN_LEN)
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_ACK 0x10
/* What the filter keeps of a reply: IPv4 header and TCP header. */
#define REPLY_MAX 128
#define REPLY_BATCH 64

/* A raw socket of one family, tagged for the epoll loop. */
struct syn_sock {
	enum ev_kind kind;
	int fd;
	int af;
};

static struct syn_sock socks[2] = {
	{ .kind = EV_SYN, .fd = -1, .af = AF_INET },
	{ .kind = EV_SYN, .fd = -1, .af = AF_INET6 },
};
static int port_fds[SYN_PORTS];
static uint16_t ports[SYN_PORTS]; /* network order */
/* A UDP socket, connected to learn a route's source address. */
static int route_fd = -1;
static struct member *inflight[SYN_BUCKETS];
_Static_assert(SYN_PORTS <= 64, "the ports held in flight are a 64-bit mask");
/* Each bucket's next source port (an index into ports). */
static uint8_t next_port[SYN_BUCKETS];
static uint64_t rng_state;

/*
 * The SYNs of one turn of the timers, sent together by syn_flush() with
 * sendmmsg(), per family.
 */
#define SEND_BATCH 64
struct syn_queue {
	unsigned int n;
	struct member *m[SEND_BATCH];
	struct mmsghdr msgs[SEND_BATCH];
	struct iovec iov[SEND_BATCH];
	struct sockaddr_in6 to[SEND_BATCH];
	uint8_t pkt[SEND_BATCH][SYN_PKT_LEN];
};
static struct syn_queue queues[2];
/*
 * SYNs sent since the last syn_drain(): their replies may be waiting in
 * the raw sockets.  Above QUIET_MAX_SENT, replies wake the loop again,
 * so that they cannot overflow a socket's receive buffer (1 MiB asked,
 * which the kernel doubles: 256 replies of 8 KiB) before the timers
 * read them.
 */
#define QUIET_MAX_SENT 256
static unsigned int sent_since_drain;

static struct syn_sock *sock_of(const struct member *m)
{
	return &socks[m->dst.ss_family == AF_INET6];
}

/* The backend's address (4 or 16 bytes) and port (network order). */
static const void *dst_addr(const struct member *m, uint16_t *port)
{
	const struct sockaddr_in6 *s6 = (const void *)&m->dst;
	const struct sockaddr_in *s4 = (const void *)&m->dst;

	if (m->dst.ss_family == AF_INET6) {
		*port = s6->sin6_port;
		return &s6->sin6_addr;
	}
	*port = s4->sin_port;
	return &s4->sin_addr;
}

/* MurmurHash3's finalizer: each bit of @h moves every bit of the result. */
static uint32_t mix32(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	return h ^ h >> 16;
}

/*
 * The bucket of an address and port.  Addresses of one subnet differ in
 * their last byte, the high bits of the word loaded: a multiply alone
 * carries those up and out, and put 200 such backends into 16 buckets.
 */
static unsigned int bucket(int af, const void *addr, uint16_t port)
{
	uint32_t h = port, w;
	size_t i, len = af == AF_INET6 ? 16 : 4;

	for (i = 0; i < len; i += 4) {
		memcpy(&w, (const char *)addr + i, 4);
		h = mix32(h ^ w);
	}
	return h % SYN_BUCKETS;
}

static bool same_dst(const struct member *m, int af, const void *addr,
		     uint16_t port)
{
	uint16_t mport;
	const void *maddr = dst_addr(m, &mport);

	return m->dst.ss_family == af && mport == port &&
	       !memcmp(maddr, addr, af == AF_INET6 ? 16 : 4);
}

/* The probe in flight to @addr:@port from source port @sport. */
static struct member *lookup(int af, const void *addr, uint16_t port,
			     uint16_t sport)
{
	struct member *m;

	for (m = inflight[bucket(af, addr, port)]; m; m = m->snext)
		if (same_dst(m, af, addr, port) && ports[m->syn_port] == sport)
			return m;
	return NULL;
}

void syn_forget(struct member *m)
{
	struct syn_queue *q = &queues[m->dst.ss_family == AF_INET6];
	unsigned int i;

	if (!m->spprev)
		return;
	sxdp_forget(m);
	/* Still queued (freed before syn_flush()): sent, but for no one. */
	for (i = 0; i < q->n; i++)
		if (q->m[i] == m)
			q->m[i] = NULL;
	*m->spprev = m->snext;
	if (m->snext)
		m->snext->spprev = m->spprev;
	m->spprev = NULL;
}

bool syn_in_flight(const struct member *m)
{
	return m->spprev;
}

/* splitmix64, seeded from getrandom(): the initial sequence numbers. */
static uint32_t next_isn(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31)) >> 32;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	return sum;
}

/* A SYN's TCP header; its checksum is left 0. */
static void build_syn(uint8_t *t, uint16_t sport, uint16_t dport,
		      uint32_t isn, uint16_t mss)
{
	uint32_t seq = htonl(isn);

	memset(t, 0, SYN_LEN);
	memcpy(t, &sport, 2);
	memcpy(t + 2, &dport, 2);
	memcpy(t + 4, &seq, 4);
	t[12] = (SYN_LEN / 4) << 4;
	t[13] = TCPF_SYN;
	put16(t + 14, 65535);
	t[20] = 2; /* MSS */
	t[21] = 4;
	put16(t + 22, mss);
}

/* The source address a route to @dst gives: 0, or an errno. */
static int route_source(const struct sockaddr_in *dst, struct in_addr *src)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	if (route_fd < 0)
		route_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (route_fd < 0 ||
	    connect(route_fd, (const struct sockaddr *)dst, sizeof(*dst)) ||
	    getsockname(route_fd, (struct sockaddr *)&a, &len))
		return errno;
	*src = a.sin_addr;
	return 0;
}

/*
 * Send the SYNs queued on @s.  A message that fails is tried once more:
 * an earlier SYN's ICMP error sets the socket's pending error, which the
 * next send reports (and clears) instead of sending.  That error is also
 * queued for read_errors(), which gives it to its own probe; the retry
 * shows this SYN's own.
 */
static void flush_queue(struct syn_sock *s, struct syn_queue *q)
{
	unsigned int i = 0;
	bool retried = false;
	int n;

	while (i < q->n) {
		n = sendmmsg(s->fd, q->msgs + i, q->n - i, MSG_DONTWAIT);
		if (n > 0) {
			i += n;
			sent_since_drain += n;
			retried = false;
		} else if (!retried) {
			retried = true;
		} else {
			/* Off the queue first: probe_fail() forgets it. */
			struct member *m = q->m[i];

			q->m[i++] = NULL;
			retried = false;
			if (m)
				probe_fail(m, "connect", errno);
		}
	}
	q->n = 0;
}

void syn_flush(void)
{
	unsigned int i;

	/* First: a check it cannot send goes to the raw socket's queue. */
	sxdp_flush();
	for (i = 0; i < ARRAY_SIZE(queues); i++)
		if (queues[i].n)
			flush_queue(&socks[i], &queues[i]);
}

/* @m's IPv4 SYN, IP header included, in @pkt (SYN_PKT_LEN bytes). */
static void build_syn4(const struct member *m, uint8_t *pkt)
{
	struct iphdr ip = { 0 };
	uint16_t dport;
	const void *addr = dst_addr(m, &dport);
	uint8_t *t = pkt + sizeof(ip);
	uint32_t sum;

	ip.version = 4;
	ip.ihl = 5;
	ip.tot_len = htons(SYN_PKT_LEN);
	ip.frag_off = htons(IP_DF);
	ip.ttl = 64;
	ip.protocol = IPPROTO_TCP;
	ip.saddr = m->syn_src.s_addr;
	memcpy(&ip.daddr, addr, 4);
	/* The raw socket would fill these in; AF_PACKET (syn_xdp.c) not. */
	sum = sum16(0, (const uint8_t *)&ip, sizeof(ip));
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ip.check = htons(~sum);
	memcpy(pkt, &ip, sizeof(ip));
	build_syn(t, ports[m->syn_port], dport, m->syn_isn, 1460);
	sum = sum16(IPPROTO_TCP + SYN_LEN, (const uint8_t *)&ip.saddr, 8);
	sum = sum16(sum, t, SYN_LEN);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(t + 16, ~sum);
}

/* @m's SYN, to the end of its family's raw socket queue. */
static void queue_raw(struct member *m)
{
	struct syn_queue *q = &queues[m->dst.ss_family == AF_INET6];
	unsigned int k;
	uint16_t dport;

	if (q->n == SEND_BATCH)
		flush_queue(sock_of(m), q);
	k = q->n;
	memset(&q->msgs[k], 0, sizeof(q->msgs[k]));
	q->msgs[k].msg_hdr.msg_iov = &q->iov[k];
	q->msgs[k].msg_hdr.msg_iovlen = 1;
	q->msgs[k].msg_hdr.msg_name = &q->to[k];
	q->iov[k].iov_base = q->pkt[k];
	if (m->dst.ss_family == AF_INET6) {
		dst_addr(m, &dport);
		/* The kernel sums it (IPV6_CHECKSUM); the port must be 0. */
		build_syn(q->pkt[k], ports[m->syn_port], dport, m->syn_isn,
			  1440);
		q->iov[k].iov_len = SYN_LEN;
		memcpy(&q->to[k], &m->dst, sizeof(q->to[k]));
		q->to[k].sin6_port = 0;
		q->msgs[k].msg_hdr.msg_namelen = sizeof(q->to[k]);
	} else {
		build_syn4(m, q->pkt[k]);
		q->iov[k].iov_len = SYN_PKT_LEN;
		memcpy(&q->to[k], &m->dst, m->dst_len);
		q->msgs[k].msg_hdr.msg_namelen = m->dst_len;
	}
	q->m[k] = m;
	q->n++;
}

/* @m's SYN, to the end of a queue: 0, or an errno. */
static int queue_syn(struct member *m)
{
	uint8_t pkt[SYN_PKT_LEN];
	int err;

	if (m->dst.ss_family == AF_INET && !m->syn_src_known) {
		err = route_source((const struct sockaddr_in *)&m->dst,
				   &m->syn_src);
		if (err)
			return err;
		m->syn_src_known = true;
	}
	if (sxdp_route(m)) {
		build_syn4(m, pkt);
		sxdp_queue(m, pkt, sizeof(pkt));
		return 0;
	}
	queue_raw(m);
	return 0;
}

void syn_requeue(struct member *m)
{
	queue_raw(m);
}

bool syn_start(struct member *m)
{
	unsigned int b, i, p;
	uint64_t held = 0;
	struct member *o;
	uint16_t dport;
	const void *addr = dst_addr(m, &dport);
	int af = m->dst.ss_family, err;

	if (sock_of(m)->fd < 0)
		return false;
	b = bucket(af, addr, dport);
	for (o = inflight[b]; o; o = o->snext)
		if (same_dst(o, af, addr, dport))
			held |= 1ull << o->syn_port;
	for (i = 0; i < SYN_PORTS; i++) {
		p = (next_port[b] + i) % SYN_PORTS;
		if (!(held & 1ull << p))
			break;
	}
	if (i == SYN_PORTS)
		return false;
	next_port[b] = (p + 1) % SYN_PORTS;
	m->syn_port = p;
	m->syn_isn = next_isn();
	err = queue_syn(m);
	if (err) {
		probe_fail(m, "connect", err);
		return true;
	}
	m->snext = inflight[b];
	if (m->snext)
		m->snext->spprev = &m->snext;
	m->spprev = &inflight[b];
	inflight[b] = m;
	return true;
}

/*
 * The probe in flight to @addr:@port from @sport whose SYN @ack (network
 * order) acknowledges, or NULL.
 */
static struct member *answered(int af, const void *addr, uint16_t port,
			       uint16_t sport, uint32_t ack)
{
	struct member *m = lookup(af, addr, port, sport);

	return m && ntohl(ack) == m->syn_isn + 1 ? m : NULL;
}

/* @m's reply, received at @at_us: a reset (@refused) or a SYN-ACK. */
static void end_probe(struct member *m, bool refused, uint64_t at_us)
{
	/* Late, if only read late: its timer fails it. */
	if (at_us > m->started_us + m->hc.timeout_ms * 1000ULL)
		return;
	if (refused)
		probe_fail_at(m, "connect", ECONNREFUSED, at_us);
	else
		probe_finish_at(m, true, "connected", at_us);
}

/*
 * A reply's TCP header @t from @addr, received at @at_us: a SYN-ACK or a
 * reset ends its probe.
 */
static void on_reply(int af, const void *addr, const uint8_t *t, size_t len,
		     uint64_t at_us)
{
	uint16_t port, sport;
	uint32_t ack;
	struct member *m;

	if (len < 20 || !(t[13] & TCPF_ACK) || !(t[13] & (TCPF_RST | TCPF_SYN)))
		return;
	memcpy(&port, t, 2);
	memcpy(&sport, t + 2, 2);
	memcpy(&ack, t + 8, 4);
	m = answered(af, addr, port, sport, ack);
	if (m)
		end_probe(m, t[13] & TCPF_RST, at_us);
}

void syn_xdp_reply(const void *addr, uint16_t port, uint16_t sport,
		   uint32_t ack, bool refused, uint64_t rtt_us)
{
	struct member *m = answered(AF_INET, addr, port, sport, ack);

	if (!m)
		return;
	m->sxdp_replied = true;
	end_probe(m, refused, m->started_us + rtt_us);
}

/*
 * When the kernel received the message, on the monotonic clock of
 * now_us(): SO_TIMESTAMPNS gives real time, @rt_to_mono_us converts.
 * Without a stamp, @fallback_us.
 */
static uint64_t received_us(struct msghdr *mh, int64_t rt_to_mono_us,
			    uint64_t fallback_us)
{
	struct cmsghdr *c;
	struct timespec ts;
	int64_t us;

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET ||
		    c->cmsg_type != SCM_TIMESTAMPNS)
			continue;
		memcpy(&ts, CMSG_DATA(c), sizeof(ts));
		us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 +
		     rt_to_mono_us;
		/* A step of the real-time clock since: now is closer. */
		return us > 0 && (uint64_t)us <= fallback_us ? (uint64_t)us :
							       fallback_us;
	}
	return fallback_us;
}

/* One batch of replies: how many were read. */
static int read_replies(struct syn_sock *s)
{
	static uint8_t bufs[REPLY_BATCH][REPLY_MAX];
	static struct sockaddr_in6 from[REPLY_BATCH];
	static char ctl[REPLY_BATCH][CMSG_SPACE(sizeof(struct timespec))];
	struct mmsghdr msgs[REPLY_BATCH];
	struct iovec iov[REPLY_BATCH];
	struct timespec rt;
	int64_t rt_to_mono_us;
	uint64_t now, at;
	const uint8_t *p;
	size_t len, hl;
	int i, n;

	for (i = 0; i < REPLY_BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = REPLY_MAX;
		memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &from[i];
		msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
		msgs[i].msg_hdr.msg_control = ctl[i];
		msgs[i].msg_hdr.msg_controllen = sizeof(ctl[i]);
	}
	/* Level-triggered: what this batch leaves is reported again. */
	n = recvmmsg(s->fd, msgs, REPLY_BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return 0;
	clock_gettime(CLOCK_REALTIME, &rt);
	now = now_us();
	rt_to_mono_us = (int64_t)now -
			((int64_t)rt.tv_sec * 1000000 + rt.tv_nsec / 1000);
	for (i = 0; i < n; i++) {
		p = bufs[i];
		len = msgs[i].msg_len < REPLY_MAX ? msgs[i].msg_len : REPLY_MAX;
		at = received_us(&msgs[i].msg_hdr, rt_to_mono_us, now);
		if (s->af == AF_INET6) {
			on_reply(AF_INET6, &from[i].sin6_addr, p, len, at);
			continue;
		}
		/* IPv4: the IP header first; the filter saw the ports. */
		if (len < 20)
			continue;
		hl = (p[0] & 0xf) * 4;
		if (hl >= 20 && len > hl)
			on_reply(AF_INET, p + 12, p + hl, len - hl, at);
	}
	return n;
}

/* ICMP errors for the SYNs: the SYN as it was sent, quoted. */
static void read_errors(struct syn_sock *s)
{
	uint8_t data[REPLY_MAX], ctl[512];
	struct sockaddr_in6 to;
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	struct msghdr mh;
	struct cmsghdr *c;
	const struct sock_extended_err *ee;
	const uint8_t *t;
	struct member *m;
	const void *addr;
	uint16_t port, sport;
	uint32_t seq;
	ssize_t len;
	size_t hl;

	for (;;) {
		memset(&mh, 0, sizeof(mh));
		mh.msg_name = &to;
		mh.msg_namelen = sizeof(to);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl;
		mh.msg_controllen = sizeof(ctl);
		len = recvmsg(s->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT);
		if (len < 0)
			return;
		ee = NULL;
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if ((c->cmsg_level == SOL_IP &&
			     c->cmsg_type == IP_RECVERR) ||
			    (c->cmsg_level == SOL_IPV6 &&
			     c->cmsg_type == IPV6_RECVERR))
				ee = (const void *)CMSG_DATA(c);
		if (!ee || !ee->ee_errno)
			continue;
		/* IPv4 (IP_HDRINCL): the IP header; IPv6: the TCP header. */
		t = data;
		if (s->af == AF_INET) {
			hl = len >= 20 ? (data[0] & 0xf) * 4 : (size_t)len;
			t += hl;
			addr = &((struct sockaddr_in *)&to)->sin_addr;
		} else {
			hl = 0;
			addr = &to.sin6_addr;
		}
		if ((size_t)len < hl + 8)
			continue;
		memcpy(&sport, t, 2);
		memcpy(&port, t + 2, 2);
		memcpy(&seq, t + 4, 4);
		m = lookup(s->af, addr, port, sport);
		if (m && ntohl(seq) == m->syn_isn)
			probe_fail(m, "connect", ee->ee_errno);
	}
}

void syn_event(void *ptr, uint32_t events)
{
	struct syn_sock *s = ptr;

	if (events & EPOLLERR)
		read_errors(s);
	if (events & EPOLLIN)
		read_replies(s);
}

void syn_drain(void)
{
	unsigned int i;

	sent_since_drain = 0;
	sxdp_drain();
	for (i = 0; i < ARRAY_SIZE(socks); i++) {
		if (socks[i].fd < 0)
			continue;
		read_errors(&socks[i]);
		while (read_replies(&socks[i]) == REPLY_BATCH)
			;
	}
}

/*
 * Events 0: epoll's wake-up callback returns at once, so a reply costs
 * the loop no wake-up and no turn; the loop is due to wake soon anyway.
 */
void syn_quiet(bool quiet)
{
	static bool is_quiet;
	struct epoll_event ev = { .events = EPOLLIN };
	unsigned int i;

	if (sent_since_drain > QUIET_MAX_SENT)
		quiet = false;
	if (quiet == is_quiet)
		return;
	is_quiet = quiet;
	if (quiet)
		ev.events = 0;
	for (i = 0; i < ARRAY_SIZE(socks); i++) {
		ev.data.ptr = &socks[i];
		if (socks[i].fd >= 0)
			epoll_ctl(epoll_fd, EPOLL_CTL_MOD, socks[i].fd, &ev);
	}
}

/* Only segments to the held ports reach the socket. */
static int attach_filter(int fd, int af)
{
	struct sock_filter f[SYN_PORTS + 4];
	struct sock_fprog prog = { .filter = f };
	unsigned int i, n = 0;

	/* X: the TCP header's offset (IPv6 raw sockets get it first). */
	if (af == AF_INET)
		f[n++] = (struct sock_filter)BPF_STMT(BPF_LDX | BPF_B | BPF_MSH,
						      0);
	else
		f[n++] = (struct sock_filter)BPF_STMT(BPF_LDX | BPF_IMM, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2);
	for (i = 0; i < SYN_PORTS; i++)
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						      ntohs(ports[i]),
						      SYN_PORTS - i, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, REPLY_MAX);
	prog.len = n;
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
			  sizeof(prog));
}

/*
 * Hold SYN_PORTS ports: bound, not listening.  A dual-stack IPv6
 * socket holds its port in both families.  0, or an errno.
 */
static int hold_ports(void)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	struct sockaddr_storage a;
	socklen_t len;
	int i, fd, zero = 0;

	for (i = 0; i < SYN_PORTS; i++) {
		fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 &&
		    (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
				sizeof(zero)) ||
		     bind(fd, (struct sockaddr *)&a6, sizeof(a6)))) {
			close(fd);
			fd = -1;
		}
		if (fd < 0) {
			fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (fd < 0 ||
			    bind(fd, (struct sockaddr *)&a4, sizeof(a4))) {
				if (fd >= 0)
					close(fd);
				return errno;
			}
		}
		port_fds[i] = fd;
		len = sizeof(a);
		if (getsockname(fd, (struct sockaddr *)&a, &len))
			return errno;
		ports[i] = a.ss_family == AF_INET6 ?
				   ((struct sockaddr_in6 *)&a)->sin6_port :
				   ((struct sockaddr_in *)&a)->sin_port;
	}
	return 0;
}

/* The raw socket of @s->af: 0, or an errno. */
static int open_raw(struct syn_sock *s)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = s };
	int one = 1, offset = 16, rcvbuf = 1 << 20, fd;

	fd = socket(s->af, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    IPPROTO_TCP);
	if (fd < 0)
		return errno;
	if ((s->af == AF_INET &&
	     (setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)) ||
	      setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one)))) ||
	    (s->af == AF_INET6 &&
	     (setsockopt(fd, IPPROTO_IPV6, IPV6_CHECKSUM, &offset,
			 sizeof(offset)) ||
	      setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one)))) ||
	    attach_filter(fd, s->af) ||
	    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) ||
	    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev)) {
		int err = errno;

		close(fd);
		return err;
	}
	/* Room for a burst of replies; the forced size needs CAP_NET_ADMIN. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	s->fd = fd;
	return 0;
}

void syn_open(void)
{
	char list[SYN_PORTS * 6 + 1] = "";
	int err, err6, i;

	for (i = 0; i < SYN_PORTS; i++)
		port_fds[i] = -1;
	if (getrandom(&rng_state, sizeof(rng_state), 0) != sizeof(rng_state))
		rng_state = now_us() ^ (uint64_t)getpid() << 32;
	err = hold_ports();
	if (!err)
		err = open_raw(&socks[0]);
	if (err) {
		logmsg("tcp checks use connect(): no raw socket and %d held ports for SYNs (CAP_NET_RAW needed): %s",
		       SYN_PORTS, strerror(err));
		syn_close();
		return;
	}
	err6 = open_raw(&socks[1]);
	for (i = 0; i < SYN_PORTS; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
			 " %u", ntohs(ports[i]));
	logmsg("tcp checks send SYNs on raw sockets from ports%s%s%s", list,
	       err6 ? ", IPv6 ones connect(): " : "",
	       err6 ? strerror(err6) : "");
	sxdp_open();
}

void syn_close(void)
{
	unsigned int i;

	sxdp_close();
	for (i = 0; i < ARRAY_SIZE(socks); i++) {
		if (socks[i].fd >= 0)
			close(socks[i].fd);
		socks[i].fd = -1;
	}
	for (i = 0; i < SYN_PORTS; i++) {
		if (port_fds[i] >= 0)
			close(port_fds[i]);
		port_fds[i] = -1;
	}
	if (route_fd >= 0)
		close(route_fd);
	route_fd = -1;
}
