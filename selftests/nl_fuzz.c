// SPDX-License-Identifier: GPL-2.0
/*
 * nl_fuzz: send malformed generic netlink messages to the "viplb" family
 * over a raw netlink socket and check that every one is refused.
 *
 * Each targeted case must get an nlmsgerr with error < 0; when the error is
 * -EINVAL, the reply must carry an extack message (printed).  A request
 * with another UAPI version than VIPLB_GENL_VERSION in its genetlink header
 * is refused, with an extack naming the version the module speaks.  A few hundred
 * random mutations of valid messages follow (fixed seed): each must be
 * answered.  At the end a valid SERVICE_NEW must still succeed and GET must
 * return it.
 *
 * Needs the module loaded and CAP_NET_ADMIN; run by netlink_raw.sh.
 * Usage: nl_fuzz [-s SEED] [-n RANDOM_MESSAGES]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/viplb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "kselftest.h"

#define MSG_MAX		4096
#define RX_MAX		65536
#define NO_REPLY	1	/* nl_xfer(): nothing came back in time */

#ifndef __aligned
#define __aligned(x)	__attribute__((aligned(x)))
#endif

struct msg {
	size_t len;
	unsigned char buf[MSG_MAX] __aligned(NLMSG_ALIGNTO);
};

struct reply {
	int error;		/* 0, -errno or NO_REPLY */
	char ext_msg[256];	/* NLMSGERR_ATTR_MSG */
	int ext_offs;		/* NLMSGERR_ATTR_OFFS, -1 if none */
	int miss_type;		/* NLMSGERR_ATTR_MISS_TYPE, -1 if none */
	int nmsgs;		/* data messages before the ack / DONE */
	unsigned char data[RX_MAX];	/* first data message */
	size_t data_len;
};

static uint16_t family;
static uint32_t seq = 1000;
static struct reply rep;

/* ----------------------------------------------------- message builder */

static struct nlmsghdr *msg_nlh(struct msg *m)
{
	return (struct nlmsghdr *)m->buf;
}

static void msg_init(struct msg *m, uint16_t type, uint8_t cmd, uint16_t flags)
{
	struct nlmsghdr *nlh = msg_nlh(m);
	struct genlmsghdr *g;

	memset(m, 0, sizeof(*m));
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	g = (struct genlmsghdr *)(m->buf + NLMSG_HDRLEN);
	g->cmd = cmd;
	g->version = VIPLB_GENL_VERSION;
	m->len = NLMSG_HDRLEN + GENL_HDRLEN;
}

static void viplb_msg(struct msg *m, uint8_t cmd)
{
	msg_init(m, family, cmd, 0);
}

/* Appends raw bytes (padded to 4); returns their offset. */
static size_t put_raw(struct msg *m, const void *data, size_t len)
{
	size_t off = m->len;

	if (off + NLA_ALIGN(len) > MSG_MAX)
		ksft_exit_fail_msg("message buffer overflow\n");
	memcpy(m->buf + off, data, len);
	m->len = off + NLA_ALIGN(len);
	return off;
}

/* Appends an attribute whose nla_len is exactly HDRLEN + len. */
static size_t put_attr(struct msg *m, uint16_t type, const void *data,
		       size_t len)
{
	struct nlattr nla = { .nla_len = NLA_HDRLEN + len, .nla_type = type };
	size_t off;

	off = put_raw(m, &nla, sizeof(nla));
	if (len)
		put_raw(m, data, len);
	return off;
}

static void put_u8(struct msg *m, uint16_t type, uint8_t v)
{
	put_attr(m, type, &v, 1);
}

static void put_u16(struct msg *m, uint16_t type, uint16_t v)
{
	put_attr(m, type, &v, 2);
}

static void put_u32(struct msg *m, uint16_t type, uint32_t v)
{
	put_attr(m, type, &v, 4);
}

static size_t nest_start(struct msg *m, uint16_t type)
{
	return put_attr(m, type | NLA_F_NESTED, NULL, 0);
}

static void nest_end(struct msg *m, size_t off)
{
	struct nlattr *nla = (struct nlattr *)(m->buf + off);

	nla->nla_len = m->len - off;
}

static struct nlattr *attr_at(struct msg *m, size_t off)
{
	return (struct nlattr *)(m->buf + off);
}

/* ------------------------------------------------------ service keys */

struct key {
	uint16_t af;
	uint8_t proto;
	unsigned char addr[16];
	uint16_t port;		/* host order */
};

static struct key v4_key(const char *a, uint16_t port)
{
	struct key k = { .af = AF_INET, .proto = IPPROTO_TCP, .port = port };

	inet_pton(AF_INET, a, k.addr);
	return k;
}

static struct key v6_key(const char *a, uint16_t port)
{
	struct key k = { .af = AF_INET6, .proto = IPPROTO_UDP, .port = port };

	inet_pton(AF_INET6, a, k.addr);
	return k;
}

static size_t addr_len(uint16_t af)
{
	return af == AF_INET ? 4 : 16;
}

/* The four key attributes, inside an open nest. */
static void put_key_attrs(struct msg *m, const struct key *k)
{
	put_u16(m, VIPLB_SVC_A_AF, k->af);
	put_u8(m, VIPLB_SVC_A_PROTO, k->proto);
	put_attr(m, VIPLB_SVC_A_ADDR, k->addr, addr_len(k->af));
	put_u16(m, VIPLB_SVC_A_PORT, htons(k->port));
}

static void put_svc_key(struct msg *m, const struct key *k)
{
	size_t n = nest_start(m, VIPLB_A_SERVICE);

	put_key_attrs(m, k);
	nest_end(m, n);
}

static void put_backend(struct msg *m, uint16_t af, const char *a,
			uint16_t port)
{
	unsigned char addr[16];
	size_t n;

	inet_pton(af, a, addr);
	n = nest_start(m, VIPLB_A_BACKEND);
	put_attr(m, VIPLB_BE_A_ADDR, addr, addr_len(af));
	put_u16(m, VIPLB_BE_A_PORT, htons(port));
	nest_end(m, n);
}

/* ------------------------------------------------------------- socket */

static int nl_open(void)
{
	struct timeval tv = { .tv_sec = 5 };
	int one = 1;
	int fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		ksft_exit_fail_msg("socket(NETLINK_GENERIC): %s\n",
				   strerror(errno));
	if (setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		ksft_exit_fail_msg("setsockopt: %s\n", strerror(errno));
	return fd;
}

/*
 * Extended ack TLVs of an NLMSG_ERROR (after the nlmsgerr and, unless
 * capped, the echoed request) or of an NLMSG_DONE (after the int).
 */
static void parse_ack_tlvs(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = NLMSG_DATA(nlh);
	const unsigned char *p, *end;
	size_t ofs = sizeof(*e);

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (nlh->nlmsg_type == NLMSG_DONE)
		ofs = NLMSG_ALIGN(sizeof(int));
	else if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		ofs += e->msg.nlmsg_len - NLMSG_HDRLEN;
	p = (const unsigned char *)e + ofs;
	end = (const unsigned char *)nlh + nlh->nlmsg_len;
	while (p + NLA_HDRLEN <= end) {
		const struct nlattr *a = (const void *)p;
		const void *d = p + NLA_HDRLEN;
		size_t dl;

		if (a->nla_len < NLA_HDRLEN || p + a->nla_len > end)
			break;
		dl = a->nla_len - NLA_HDRLEN;
		switch (a->nla_type & NLA_TYPE_MASK) {
		case NLMSGERR_ATTR_MSG:
			snprintf(rep.ext_msg, sizeof(rep.ext_msg), "%.*s",
				 (int)dl, (const char *)d);
			break;
		case NLMSGERR_ATTR_OFFS:
			if (dl == 4)
				rep.ext_offs = *(const uint32_t *)d;
			break;
		case NLMSGERR_ATTR_MISS_TYPE:
			if (dl == 4)
				rep.miss_type = *(const uint32_t *)d;
			break;
		}
		p += NLA_ALIGN(a->nla_len);
	}
}

/*
 * Sends @m and collects the answer in rep: data messages (counted, the
 * first kept), then the nlmsgerr or NLMSG_DONE of our sequence number.
 * Returns rep.error.
 */
static int nl_xfer(int fd, struct msg *m)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	static unsigned char rx[RX_MAX] __aligned(4);
	struct nlmsghdr *nlh = msg_nlh(m);
	uint32_t s = ++seq;

	nlh->nlmsg_len = m->len;
	nlh->nlmsg_seq = s;
	memset(&rep, 0, sizeof(rep));
	rep.ext_offs = -1;
	rep.miss_type = -1;

	if (sendto(fd, m->buf, m->len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0) {
		rep.error = -errno;
		return rep.error;
	}
	for (;;) {
		ssize_t n = recv(fd, rx, sizeof(rx), 0);
		struct nlmsghdr *r;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS)
				continue;
			rep.error = NO_REPLY;
			return rep.error;
		}
		for (r = (struct nlmsghdr *)rx; NLMSG_OK(r, (size_t)n);
		     r = NLMSG_NEXT(r, n)) {
			if (r->nlmsg_seq != s)
				continue;
			if (r->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(r);

				rep.error = e->error;
				parse_ack_tlvs(r);
				return rep.error;
			}
			if (r->nlmsg_type == NLMSG_DONE) {
				/* A dump: an error is in the payload. */
				if (r->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
					rep.error = *(int *)NLMSG_DATA(r);
				parse_ack_tlvs(r);
				return rep.error;
			}
			if (!rep.nmsgs && r->nlmsg_len <= sizeof(rep.data)) {
				memcpy(rep.data, r, r->nlmsg_len);
				rep.data_len = r->nlmsg_len;
			}
			rep.nmsgs++;
		}
	}
}

static int resolve_family(int fd)
{
	struct msg m;
	const unsigned char *p, *end;
	const struct nlmsghdr *r;

	msg_init(&m, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
	put_attr(&m, CTRL_ATTR_FAMILY_NAME, VIPLB_GENL_NAME,
		 sizeof(VIPLB_GENL_NAME));
	if (nl_xfer(fd, &m) || rep.nmsgs == 0)
		return -1;
	r = (const struct nlmsghdr *)rep.data;
	p = (const unsigned char *)NLMSG_DATA(r) + GENL_HDRLEN;
	end = rep.data + rep.data_len;
	while (p + NLA_HDRLEN <= end) {
		const struct nlattr *a = (const void *)p;

		if (a->nla_len < NLA_HDRLEN)
			break;
		if ((a->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_FAMILY_ID)
			return *(const uint16_t *)(p + NLA_HDRLEN);
		p += NLA_ALIGN(a->nla_len);
	}
	return -1;
}

/* ------------------------------------------------------ reply checks */

static const char *err_name(int e)
{
	static char buf[64];

	if (e == NO_REPLY)
		return "no reply";
	if (e == 0)
		return "success";
	snprintf(buf, sizeof(buf), "%d %s", e, strerror(-e));
	return buf;
}

static void print_ext(const char *name)
{
	char offs[32] = "", miss[48] = "";

	if (rep.ext_offs >= 0)
		snprintf(offs, sizeof(offs), ", offset %d", rep.ext_offs);
	if (rep.miss_type >= 0)
		snprintf(miss, sizeof(miss), ", missing attribute %d",
			 rep.miss_type);
	ksft_print_msg("%s: %s, extack \"%s\"%s%s\n", name,
		       err_name(rep.error), rep.ext_msg, offs, miss);
}

enum expect {
	E_REJECT,	/* error < 0; -EINVAL needs an extack message */
	E_CORE,		/* error < 0, no extack required (genetlink core) */
	E_ENOENT,
	E_EBUSY,
	E_EOPNOTSUPP,
	E_OK,
};

static bool check_reply(const char *name, enum expect ex)
{
	int e = rep.error;

	print_ext(name);
	switch (ex) {
	case E_OK:
		return e == 0;
	case E_ENOENT:
		return e == -ENOENT;
	case E_EBUSY:
		return e == -EBUSY;
	case E_EOPNOTSUPP:
		return e == -EOPNOTSUPP;
	case E_CORE:
		return e < 0;
	case E_REJECT:
		if (e >= 0 || e == NO_REPLY)
			return false;
		if (e == -EINVAL && !rep.ext_msg[0]) {
			ksft_print_msg("%s: -EINVAL without an extack message\n",
				       name);
			return false;
		}
		return true;
	}
	return false;
}

static int sock;

static void expect(const char *name, struct msg *m, enum expect ex)
{
	nl_xfer(sock, m);
	ksft_test_result(check_reply(name, ex), "%s\n", name);
}

/* ------------------------------------------------------ targeted cases */

static struct key k4, k6;

/* SERVICE_NEW with a service nest made of @fn's attributes. */
#define SVC_CASE(name, cmd, body)					\
	do {								\
		struct msg m;						\
		size_t n;						\
									\
		viplb_msg(&m, cmd);					\
		n = nest_start(&m, VIPLB_A_SERVICE);			\
		body;							\
		nest_end(&m, n);					\
		expect(name, &m, E_REJECT);				\
	} while (0)

/* BACKEND_NEW on the existing service k4 with a backend nest of @body. */
#define BE_CASE(name, cmd, body)					\
	do {								\
		struct msg m;						\
		size_t n;						\
									\
		viplb_msg(&m, cmd);					\
		put_svc_key(&m, &k4);					\
		n = nest_start(&m, VIPLB_A_BACKEND);			\
		body;							\
		nest_end(&m, n);					\
		expect(name, &m, E_REJECT);				\
	} while (0)

static const unsigned char addr3[3] = { 192, 0, 2 };
static const unsigned char addr5[5] = { 192, 0, 2, 1, 1 };
static const unsigned char addr17[17] = { 0x20, 0x01, 0x0d, 0xb8 };
static const unsigned char addr4[4] = { 198, 51, 100, 1 };
static const unsigned char addr16[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1 };

static void key_but(struct msg *m, int skip)
{
	if (skip != VIPLB_SVC_A_AF)
		put_u16(m, VIPLB_SVC_A_AF, AF_INET);
	if (skip != VIPLB_SVC_A_PROTO)
		put_u8(m, VIPLB_SVC_A_PROTO, IPPROTO_TCP);
	if (skip != VIPLB_SVC_A_ADDR)
		put_attr(m, VIPLB_SVC_A_ADDR, k4.addr, 4);
	if (skip != VIPLB_SVC_A_PORT)
		put_u16(m, VIPLB_SVC_A_PORT, htons(8080));
}

static void targeted_attrs(void)
{
	static const struct { const char *name; uint8_t cmd; } noattr[] = {
		{ "SERVICE_NEW without attributes", VIPLB_CMD_SERVICE_NEW },
		{ "SERVICE_SET without attributes", VIPLB_CMD_SERVICE_SET },
		{ "SERVICE_DEL without attributes", VIPLB_CMD_SERVICE_DEL },
		{ "SERVICE_GET without attributes", VIPLB_CMD_SERVICE_GET },
		{ "BACKEND_NEW without attributes", VIPLB_CMD_BACKEND_NEW },
		{ "BACKEND_SET without attributes", VIPLB_CMD_BACKEND_SET },
		{ "BACKEND_DEL without attributes", VIPLB_CMD_BACKEND_DEL },
	};
	unsigned char garbage[24];
	struct msg m;
	size_t n, i;

	for (i = 0; i < sizeof(garbage); i++)
		garbage[i] = 0xa5 ^ (i * 37);

	/* Unknown and reserved top-level attributes. */
	viplb_msg(&m, VIPLB_CMD_SERVICE_NEW);
	put_svc_key(&m, &k4);
	put_u32(&m, VIPLB_A_MAX + 1, 1);
	expect("unknown top-level attribute VIPLB_A_MAX+1", &m, E_REJECT);

	viplb_msg(&m, VIPLB_CMD_SERVICE_NEW);
	put_svc_key(&m, &k4);
	put_u32(&m, 0x3fff, 1);
	expect("unknown top-level attribute 0x3fff", &m, E_REJECT);

	viplb_msg(&m, VIPLB_CMD_SERVICE_NEW);
	put_u32(&m, VIPLB_A_UNSPEC, 1);
	put_svc_key(&m, &k4);
	expect("top-level attribute 0 (UNSPEC)", &m, E_REJECT);

	viplb_msg(&m, VIPLB_CMD_SERVICE_DEL);
	put_svc_key(&m, &k4);
	put_backend(&m, AF_INET, "198.51.100.1", 80);
	expect("BACKEND attribute in a service command", &m, E_REJECT);

	/* FLUSH takes no attribute (it would empty the configuration). */
	viplb_msg(&m, VIPLB_CMD_FLUSH);
	put_u32(&m, VIPLB_A_SERVICE, 1);
	expect("FLUSH with attribute 1", &m, E_REJECT);
	viplb_msg(&m, VIPLB_CMD_FLUSH);
	put_u32(&m, VIPLB_A_TXN_OPS, 1);
	expect("FLUSH with attribute TXN_OPS", &m, E_REJECT);

	/* Unknown nested attributes. */
	SVC_CASE("unknown service attribute VIPLB_SVC_A_MAX+1",
		 VIPLB_CMD_SERVICE_NEW,
		 { put_key_attrs(&m, &k4); put_u32(&m, VIPLB_SVC_A_MAX + 1, 0); });
	SVC_CASE("service attribute 0 (UNSPEC)", VIPLB_CMD_SERVICE_NEW,
		 { put_u32(&m, VIPLB_SVC_A_UNSPEC, 0); put_key_attrs(&m, &k4); });
	SVC_CASE("STATS in a SERVICE_NEW request", VIPLB_CMD_SERVICE_NEW, {
		size_t s;

		put_key_attrs(&m, &k4);
		s = nest_start(&m, VIPLB_SVC_A_STATS);
		nest_end(&m, s);
	});
	BE_CASE("unknown backend attribute VIPLB_BE_A_MAX+1",
		VIPLB_CMD_BACKEND_NEW, {
		put_attr(&m, VIPLB_BE_A_ADDR, addr4, 4);
		put_u16(&m, VIPLB_BE_A_PORT, htons(80));
		put_u32(&m, VIPLB_BE_A_MAX + 1, 0);
	});

	/* Wrong attribute lengths. */
	/* af is a u16: 0x0102 must not pass for AF_INET (0x02). */
	SVC_CASE("service af 0x0102", VIPLB_CMD_SERVICE_NEW, {
		put_u16(&m, VIPLB_SVC_A_AF, 0x0100 | AF_INET);
		put_u8(&m, VIPLB_SVC_A_PROTO, IPPROTO_TCP);
		put_attr(&m, VIPLB_SVC_A_ADDR, addr4, 4);
		put_u16(&m, VIPLB_SVC_A_PORT, htons(80));
	});
	SVC_CASE("service addr of 3 bytes", VIPLB_CMD_SERVICE_NEW, {
		put_u16(&m, VIPLB_SVC_A_AF, AF_INET);
		put_u8(&m, VIPLB_SVC_A_PROTO, IPPROTO_TCP);
		put_attr(&m, VIPLB_SVC_A_ADDR, addr3, 3);
		put_u16(&m, VIPLB_SVC_A_PORT, htons(80));
	});
	SVC_CASE("service addr of 5 bytes", VIPLB_CMD_SERVICE_NEW, {
		put_u16(&m, VIPLB_SVC_A_AF, AF_INET);
		put_u8(&m, VIPLB_SVC_A_PROTO, IPPROTO_TCP);
		put_attr(&m, VIPLB_SVC_A_ADDR, addr5, 5);
		put_u16(&m, VIPLB_SVC_A_PORT, htons(80));
	});
	SVC_CASE("service addr of 17 bytes", VIPLB_CMD_SERVICE_NEW, {
		put_u16(&m, VIPLB_SVC_A_AF, AF_INET6);
		put_u8(&m, VIPLB_SVC_A_PROTO, IPPROTO_TCP);
		put_attr(&m, VIPLB_SVC_A_ADDR, addr17, 17);
		put_u16(&m, VIPLB_SVC_A_PORT, htons(80));
	});
	SVC_CASE("service addr of 0 bytes", VIPLB_CMD_SERVICE_NEW, {
		put_u16(&m, VIPLB_SVC_A_AF, AF_INET);
		put_u8(&m, VIPLB_SVC_A_PROTO, IPPROTO_TCP);
		put_attr(&m, VIPLB_SVC_A_ADDR, NULL, 0);
		put_u16(&m, VIPLB_SVC_A_PORT, htons(80));
	});
	SVC_CASE("AF_INET with a 16-byte addr", VIPLB_CMD_SERVICE_NEW, {
		put_u16(&m, VIPLB_SVC_A_AF, AF_INET);
		put_u8(&m, VIPLB_SVC_A_PROTO, IPPROTO_TCP);
		put_attr(&m, VIPLB_SVC_A_ADDR, addr16, 16);
		put_u16(&m, VIPLB_SVC_A_PORT, htons(80));
	});
	SVC_CASE("AF_INET6 with a 4-byte addr", VIPLB_CMD_SERVICE_NEW, {
		put_u16(&m, VIPLB_SVC_A_AF, AF_INET6);
		put_u8(&m, VIPLB_SVC_A_PROTO, IPPROTO_TCP);
		put_attr(&m, VIPLB_SVC_A_ADDR, addr4, 4);
		put_u16(&m, VIPLB_SVC_A_PORT, htons(80));
	});
	SVC_CASE("af AF_PACKET", VIPLB_CMD_SERVICE_NEW, {
		put_u16(&m, VIPLB_SVC_A_AF, 17);
		put_u8(&m, VIPLB_SVC_A_PROTO, IPPROTO_TCP);
		put_attr(&m, VIPLB_SVC_A_ADDR, addr4, 4);
		put_u16(&m, VIPLB_SVC_A_PORT, htons(80));
	});
	SVC_CASE("u16 port given 4 bytes", VIPLB_CMD_SERVICE_NEW, {
		key_but(&m, VIPLB_SVC_A_PORT);
		put_u32(&m, VIPLB_SVC_A_PORT, htons(80));
	});
	SVC_CASE("u16 port given 1 byte", VIPLB_CMD_SERVICE_NEW, {
		key_but(&m, VIPLB_SVC_A_PORT);
		put_u8(&m, VIPLB_SVC_A_PORT, 80);
	});
	SVC_CASE("u16 af given 1 byte", VIPLB_CMD_SERVICE_NEW, {
		key_but(&m, VIPLB_SVC_A_AF);
		put_u8(&m, VIPLB_SVC_A_AF, AF_INET);
	});
	SVC_CASE("u8 proto given 4 bytes", VIPLB_CMD_SERVICE_NEW, {
		key_but(&m, VIPLB_SVC_A_PROTO);
		put_u32(&m, VIPLB_SVC_A_PROTO, IPPROTO_TCP);
	});
	SVC_CASE("u32 sched given 2 bytes", VIPLB_CMD_SERVICE_NEW, {
		key_but(&m, -1);
		put_u16(&m, VIPLB_SVC_A_SCHED, VIPLB_SCHED_RR);
	});
	SVC_CASE("u32 table size given 8 bytes", VIPLB_CMD_SERVICE_NEW, {
		uint64_t v = 251;

		key_but(&m, -1);
		put_attr(&m, VIPLB_SVC_A_TABLE_SIZE, &v, 8);
	});
	BE_CASE("backend addr of 3 bytes", VIPLB_CMD_BACKEND_NEW, {
		put_attr(&m, VIPLB_BE_A_ADDR, addr3, 3);
		put_u16(&m, VIPLB_BE_A_PORT, htons(80));
	});
	BE_CASE("IPv6 backend in an IPv4 service", VIPLB_CMD_BACKEND_NEW, {
		put_attr(&m, VIPLB_BE_A_ADDR, addr16, 16);
		put_u16(&m, VIPLB_BE_A_PORT, htons(80));
	});
	BE_CASE("u32 weight given 2 bytes", VIPLB_CMD_BACKEND_NEW, {
		put_attr(&m, VIPLB_BE_A_ADDR, addr4, 4);
		put_u16(&m, VIPLB_BE_A_PORT, htons(80));
		put_u16(&m, VIPLB_BE_A_WEIGHT, 1);
	});

	/* Values out of range. */
	SVC_CASE("proto ICMP", VIPLB_CMD_SERVICE_NEW, {
		key_but(&m, VIPLB_SVC_A_PROTO);
		put_u8(&m, VIPLB_SVC_A_PROTO, IPPROTO_ICMP);
	});
	SVC_CASE("sched VIPLB_SCHED_MAX+1", VIPLB_CMD_SERVICE_NEW,
		 { key_but(&m, -1); put_u32(&m, VIPLB_SVC_A_SCHED, VIPLB_SCHED_MAX + 1); });
	SVC_CASE("sched 0xffffffff", VIPLB_CMD_SERVICE_NEW,
		 { key_but(&m, -1); put_u32(&m, VIPLB_SVC_A_SCHED, 0xffffffff); });
	SVC_CASE("mode VIPLB_MODE_MAX+1", VIPLB_CMD_SERVICE_NEW,
		 { key_but(&m, -1); put_u32(&m, VIPLB_SVC_A_MODE, VIPLB_MODE_MAX + 1); });
	SVC_CASE("table size 1001 (not prime)", VIPLB_CMD_SERVICE_NEW,
		 { key_but(&m, -1); put_u32(&m, VIPLB_SVC_A_TABLE_SIZE, 1001); });
	SVC_CASE("table size 65536 (not prime)", VIPLB_CMD_SERVICE_SET,
		 { put_key_attrs(&m, &k4); put_u32(&m, VIPLB_SVC_A_TABLE_SIZE, 65536); });
	SVC_CASE("table size 241 (prime, below range)", VIPLB_CMD_SERVICE_NEW,
		 { key_but(&m, -1); put_u32(&m, VIPLB_SVC_A_TABLE_SIZE, 241); });
	SVC_CASE("table size 131101 (prime, above range)", VIPLB_CMD_SERVICE_NEW,
		 { key_but(&m, -1); put_u32(&m, VIPLB_SVC_A_TABLE_SIZE, 131101); });
	SVC_CASE("table size 0", VIPLB_CMD_SERVICE_NEW,
		 { key_but(&m, -1); put_u32(&m, VIPLB_SVC_A_TABLE_SIZE, 0); });
	SVC_CASE("service flags 0x80000000", VIPLB_CMD_SERVICE_NEW,
		 { key_but(&m, -1); put_u32(&m, VIPLB_SVC_A_FLAGS, 0x80000000); });
	SVC_CASE("service flags 0x2 on SET", VIPLB_CMD_SERVICE_SET,
		 { put_key_attrs(&m, &k4); put_u32(&m, VIPLB_SVC_A_FLAGS, 0x2); });
	BE_CASE("backend flags 1 (none defined)", VIPLB_CMD_BACKEND_NEW, {
		put_attr(&m, VIPLB_BE_A_ADDR, addr4, 4);
		put_u16(&m, VIPLB_BE_A_PORT, htons(80));
		put_u32(&m, VIPLB_BE_A_FLAGS, 1);
	});
	BE_CASE("weight 65536", VIPLB_CMD_BACKEND_NEW, {
		put_attr(&m, VIPLB_BE_A_ADDR, addr4, 4);
		put_u16(&m, VIPLB_BE_A_PORT, htons(80));
		put_u32(&m, VIPLB_BE_A_WEIGHT, VIPLB_WEIGHT_MAX + 1);
	});

	/* Missing attributes. */
	for (i = 0; i < ARRAY_SIZE(noattr); i++) {
		viplb_msg(&m, noattr[i].cmd);
		expect(noattr[i].name, &m, E_REJECT);
	}
	SVC_CASE("service key without af", VIPLB_CMD_SERVICE_NEW,
		 key_but(&m, VIPLB_SVC_A_AF));
	SVC_CASE("service key without proto", VIPLB_CMD_SERVICE_NEW,
		 key_but(&m, VIPLB_SVC_A_PROTO));
	SVC_CASE("service key without addr", VIPLB_CMD_SERVICE_DEL,
		 key_but(&m, VIPLB_SVC_A_ADDR));
	SVC_CASE("service key without port", VIPLB_CMD_SERVICE_SET,
		 key_but(&m, VIPLB_SVC_A_PORT));
	SVC_CASE("empty service nest", VIPLB_CMD_SERVICE_NEW, {});
	viplb_msg(&m, VIPLB_CMD_BACKEND_NEW);
	put_svc_key(&m, &k4);
	expect("BACKEND_NEW without a backend", &m, E_REJECT);
	BE_CASE("backend without addr", VIPLB_CMD_BACKEND_NEW,
		put_u16(&m, VIPLB_BE_A_PORT, htons(80)));
	BE_CASE("backend without port", VIPLB_CMD_BACKEND_NEW,
		put_attr(&m, VIPLB_BE_A_ADDR, addr4, 4));
	viplb_msg(&m, VIPLB_CMD_BACKEND_NEW);
	put_backend(&m, AF_INET, "198.51.100.1", 80);
	expect("BACKEND_NEW without a service", &m, E_REJECT);
	viplb_msg(&m, VIPLB_CMD_TXN_COMMIT);
	expect("TXN_COMMIT without attributes (and no transaction)", &m,
	       E_REJECT);

	/* Broken structure. */
	viplb_msg(&m, VIPLB_CMD_SERVICE_NEW);
	n = nest_start(&m, VIPLB_A_SERVICE);
	put_key_attrs(&m, &k4);
	nest_end(&m, n);
	attr_at(&m, n)->nla_len += 64;
	expect("service nest longer than the message", &m, E_REJECT);

	viplb_msg(&m, VIPLB_CMD_SERVICE_NEW);
	n = nest_start(&m, VIPLB_A_SERVICE);
	put_u16(&m, VIPLB_SVC_A_AF, AF_INET);
	put_u8(&m, VIPLB_SVC_A_PROTO, IPPROTO_TCP);
	i = put_attr(&m, VIPLB_SVC_A_ADDR, k4.addr, 4);
	nest_end(&m, n);
	attr_at(&m, i)->nla_len = 200;
	expect("attribute inside the nest longer than the nest", &m, E_REJECT);

	viplb_msg(&m, VIPLB_CMD_SERVICE_NEW);
	put_svc_key(&m, &k4);
	i = put_attr(&m, VIPLB_A_BACKEND, garbage, 4);
	attr_at(&m, i)->nla_len = 2;
	expect("attribute with nla_len 2", &m, E_REJECT);

	viplb_msg(&m, VIPLB_CMD_SERVICE_NEW);
	put_svc_key(&m, &k4);
	put_raw(&m, garbage, 3);
	expect("3 trailing bytes after the attributes", &m, E_REJECT);

	viplb_msg(&m, VIPLB_CMD_SERVICE_NEW);
	put_attr(&m, VIPLB_A_SERVICE | NLA_F_NESTED, garbage, sizeof(garbage));
	expect("service nest full of garbage", &m, E_REJECT);

	viplb_msg(&m, VIPLB_CMD_BACKEND_NEW);
	put_svc_key(&m, &k4);
	put_attr(&m, VIPLB_A_BACKEND | NLA_F_NESTED, garbage, 10);
	expect("backend nest full of garbage", &m, E_REJECT);

	viplb_msg(&m, VIPLB_CMD_SERVICE_NEW);
	n = put_attr(&m, VIPLB_A_SERVICE, NULL, 0);
	put_key_attrs(&m, &k4);
	nest_end(&m, n);
	expect("service nest without NLA_F_NESTED", &m, E_REJECT);

	viplb_msg(&m, VIPLB_CMD_SERVICE_NEW);
	put_u32(&m, VIPLB_A_SERVICE, 1);
	expect("service attribute that is a u32", &m, E_REJECT);

	SVC_CASE("NLA_F_NESTED on a u16", VIPLB_CMD_SERVICE_NEW, {
		key_but(&m, VIPLB_SVC_A_PORT);
		put_u16(&m, VIPLB_SVC_A_PORT | NLA_F_NESTED, htons(80));
	});

	viplb_msg(&m, VIPLB_CMD_SERVICE_GET);
	msg_nlh(&m)->nlmsg_flags |= NLM_F_DUMP;
	put_u32(&m, VIPLB_A_MAX + 1, 0);
	expect("dump with an unknown attribute", &m, E_REJECT);

	viplb_msg(&m, VIPLB_CMD_SERVICE_GET);
	msg_nlh(&m)->nlmsg_flags |= NLM_F_DUMP;
	put_attr(&m, VIPLB_A_SERVICE | NLA_F_NESTED, garbage, 12);
	expect("dump with a garbage service nest", &m, E_REJECT);
}

/*
 * @m with another UAPI version in its genetlink header: -EINVAL, and the
 * extack names the version the module speaks.
 */
static void version_case(const char *name, struct msg *m, uint8_t version)
{
	char want[80];

	((struct genlmsghdr *)(m->buf + NLMSG_HDRLEN))->version = version;
	snprintf(want, sizeof(want), "this module speaks version %d",
		 VIPLB_GENL_VERSION);
	nl_xfer(sock, m);
	ksft_test_result(check_reply(name, E_REJECT) && rep.error == -EINVAL &&
			 strstr(rep.ext_msg, want),
			 "%s: refused, extack says \"%s\"\n", name, want);
}

static void targeted_version(void)
{
	struct key k = v4_key("192.0.2.202", 80);
	struct msg m;

	viplb_msg(&m, VIPLB_CMD_SERVICE_NEW);
	put_svc_key(&m, &k);
	version_case("SERVICE_NEW, UAPI version VIPLB_GENL_VERSION+1", &m,
		     VIPLB_GENL_VERSION + 1);
	viplb_msg(&m, VIPLB_CMD_SERVICE_NEW);
	put_svc_key(&m, &k);
	version_case("SERVICE_NEW, UAPI version 0", &m, 0);
	viplb_msg(&m, VIPLB_CMD_SERVICE_GET);
	put_svc_key(&m, &k);
	nl_xfer(sock, &m);
	ksft_test_result(check_reply("... and no service was added", E_ENOENT),
			 "... and no service was added\n");
	viplb_msg(&m, VIPLB_CMD_FLUSH);
	version_case("FLUSH, UAPI version 255", &m, 255);
	viplb_msg(&m, VIPLB_CMD_SERVICE_GET);
	put_svc_key(&m, &k4);
	nl_xfer(sock, &m);
	ksft_test_result(check_reply("... and it flushed nothing", E_OK),
			 "... and it flushed nothing\n");

	viplb_msg(&m, VIPLB_CMD_SERVICE_GET);
	msg_nlh(&m)->nlmsg_flags |= NLM_F_DUMP;
	version_case("SERVICE_GET dump, UAPI version VIPLB_GENL_VERSION+1", &m,
		     VIPLB_GENL_VERSION + 1);
	viplb_msg(&m, VIPLB_CMD_RULES_GET);
	msg_nlh(&m)->nlmsg_flags |= NLM_F_DUMP;
	version_case("RULES_GET dump, UAPI version VIPLB_GENL_VERSION+1", &m,
		     VIPLB_GENL_VERSION + 1);
}

static void targeted_msgs(void)
{
	struct msg m;

	viplb_msg(&m, VIPLB_CMD_UNSPEC);
	put_svc_key(&m, &k4);
	nl_xfer(sock, &m);
	ksft_test_result(check_reply("cmd 0", E_EOPNOTSUPP), "cmd 0\n");

	viplb_msg(&m, 200);
	put_svc_key(&m, &k4);
	nl_xfer(sock, &m);
	ksft_test_result(check_reply("cmd 200", E_EOPNOTSUPP), "cmd 200\n");

	viplb_msg(&m, VIPLB_CMD_MAX + 1);
	nl_xfer(sock, &m);
	ksft_test_result(check_reply("cmd VIPLB_CMD_MAX+1", E_EOPNOTSUPP),
			 "cmd VIPLB_CMD_MAX+1\n");

	/* Only a netlink header: no genetlink header at all. */
	viplb_msg(&m, VIPLB_CMD_SERVICE_NEW);
	m.len = NLMSG_HDRLEN;
	expect("empty message (no genetlink header)", &m, E_CORE);

	viplb_msg(&m, VIPLB_CMD_SERVICE_NEW);
	m.len = NLMSG_HDRLEN + 2;
	expect("half a genetlink header", &m, E_CORE);

	viplb_msg(&m, VIPLB_CMD_SERVICE_GET);
	put_svc_key(&m, &k6);
	nl_xfer(sock, &m);
	ksft_test_result(check_reply("GET of a missing service", E_ENOENT),
			 "GET of a missing service\n");
}

static void put_txn_ops(struct msg *m, uint32_t n)
{
	put_u32(m, VIPLB_A_TXN_OPS, n);
}

static void targeted_txn(void)
{
	struct msg m;
	int fd2;

	viplb_msg(&m, VIPLB_CMD_TXN_COMMIT);
	put_txn_ops(&m, 0);
	nl_xfer(sock, &m);
	ksft_test_result(check_reply("TXN_COMMIT without BEGIN", E_ENOENT),
			 "TXN_COMMIT without BEGIN\n");

	viplb_msg(&m, VIPLB_CMD_TXN_BEGIN);
	nl_xfer(sock, &m);
	ksft_test_result(check_reply("TXN_BEGIN", E_OK), "TXN_BEGIN\n");
	viplb_msg(&m, VIPLB_CMD_TXN_BEGIN);
	nl_xfer(sock, &m);
	ksft_test_result(check_reply("TXN_BEGIN twice", E_EBUSY),
			 "TXN_BEGIN twice\n");

	/* Another socket cannot open a second transaction nor commit ours. */
	fd2 = nl_open();
	viplb_msg(&m, VIPLB_CMD_TXN_BEGIN);
	nl_xfer(fd2, &m);
	ksft_test_result(check_reply("TXN_BEGIN from a second socket", E_EBUSY),
			 "TXN_BEGIN from a second socket\n");
	viplb_msg(&m, VIPLB_CMD_TXN_COMMIT);
	put_txn_ops(&m, 0);
	nl_xfer(fd2, &m);
	ksft_test_result(check_reply("TXN_COMMIT from another socket", E_ENOENT),
			 "TXN_COMMIT from another socket\n");
	close(fd2);

	/* A failed command poisons the transaction. */
	viplb_msg(&m, VIPLB_CMD_SERVICE_NEW);
	put_svc_key(&m, &k6);
	nl_xfer(sock, &m);
	ksft_test_result(check_reply("SERVICE_NEW inside the transaction", E_OK),
			 "SERVICE_NEW inside the transaction\n");
	viplb_msg(&m, VIPLB_CMD_SERVICE_NEW);
	put_svc_key(&m, &k6);
	nl_xfer(sock, &m);
	ksft_test_result(check_reply("duplicate SERVICE_NEW inside the transaction",
				     E_REJECT),
			 "duplicate SERVICE_NEW inside the transaction\n");
	viplb_msg(&m, VIPLB_CMD_TXN_COMMIT);
	put_txn_ops(&m, 2);
	nl_xfer(sock, &m);
	ksft_test_result(check_reply("TXN_COMMIT of a poisoned transaction",
				     E_REJECT) && rep.error == -EINVAL,
			 "TXN_COMMIT of a poisoned transaction\n");
	viplb_msg(&m, VIPLB_CMD_TXN_COMMIT);
	put_txn_ops(&m, 0);
	nl_xfer(sock, &m);
	ksft_test_result(check_reply("TXN_COMMIT after a failed commit", E_ENOENT),
			 "TXN_COMMIT after a failed commit\n");

	/* A wrong op count makes the commit fail. */
	viplb_msg(&m, VIPLB_CMD_TXN_BEGIN);
	nl_xfer(sock, &m);
	ksft_test_result(check_reply("TXN_BEGIN again", E_OK),
			 "TXN_BEGIN again\n");
	viplb_msg(&m, VIPLB_CMD_SERVICE_NEW);
	put_svc_key(&m, &k6);
	nl_xfer(sock, &m);
	viplb_msg(&m, VIPLB_CMD_TXN_COMMIT);
	put_txn_ops(&m, 7);
	nl_xfer(sock, &m);
	ksft_test_result(check_reply("TXN_COMMIT with a wrong op count",
				     E_REJECT) && rep.error == -EINVAL,
			 "TXN_COMMIT with a wrong op count\n");

	/* The live configuration never saw the transactions: k6 absent. */
	viplb_msg(&m, VIPLB_CMD_SERVICE_GET);
	put_svc_key(&m, &k6);
	nl_xfer(sock, &m);
	ksft_test_result(check_reply("failed transactions changed nothing",
				     E_ENOENT),
			 "failed transactions changed nothing\n");

	viplb_msg(&m, VIPLB_CMD_TXN_BEGIN);
	nl_xfer(sock, &m);
	/* TXN_ABORT takes no attribute: refused, the transaction stays. */
	viplb_msg(&m, VIPLB_CMD_TXN_ABORT);
	put_u32(&m, VIPLB_A_SERVICE, 1);
	expect("TXN_ABORT with an attribute", &m, E_REJECT);
	viplb_msg(&m, VIPLB_CMD_TXN_BEGIN);
	nl_xfer(sock, &m);
	ksft_test_result(check_reply("and the transaction is still open",
				     E_EBUSY),
			 "and the transaction is still open\n");
	viplb_msg(&m, VIPLB_CMD_TXN_ABORT);
	nl_xfer(sock, &m);
	ksft_test_result(check_reply("TXN_ABORT", E_OK), "TXN_ABORT\n");
}

/* -------------------------------------------------- random mutations */

static void random_template(struct msg *m)
{
	struct key k;
	char a[64];
	size_t n;

	if (random() & 1) {
		snprintf(a, sizeof(a), "203.0.113.%ld", random() % 254 + 1);
		k = v4_key(a, random() & 0xffff);
		k.proto = random() & 1 ? IPPROTO_TCP : IPPROTO_UDP;
	} else {
		snprintf(a, sizeof(a), "2001:db8:ff::%lx", random() & 0xffff);
		k = v6_key(a, random() & 0xffff);
	}
	switch (random() % 7) {
	case 0:
		viplb_msg(m, VIPLB_CMD_SERVICE_NEW);
		n = nest_start(m, VIPLB_A_SERVICE);
		put_key_attrs(m, &k);
		put_u32(m, VIPLB_SVC_A_SCHED, random() % (VIPLB_SCHED_MAX + 1));
		put_u32(m, VIPLB_SVC_A_MODE, random() % (VIPLB_MODE_MAX + 1));
		put_u32(m, VIPLB_SVC_A_TABLE_SIZE, 251);
		put_u32(m, VIPLB_SVC_A_FLAGS, random() & 1);
		nest_end(m, n);
		break;
	case 1:
		viplb_msg(m, VIPLB_CMD_SERVICE_SET);
		n = nest_start(m, VIPLB_A_SERVICE);
		put_key_attrs(m, &k);
		put_u32(m, VIPLB_SVC_A_SCHED, VIPLB_SCHED_RR);
		nest_end(m, n);
		break;
	case 2:
	case 3:
		viplb_msg(m, random() & 1 ? VIPLB_CMD_BACKEND_NEW :
					    VIPLB_CMD_BACKEND_SET);
		put_svc_key(m, &k);
		n = nest_start(m, VIPLB_A_BACKEND);
		put_attr(m, VIPLB_BE_A_ADDR, k.addr, addr_len(k.af));
		put_u16(m, VIPLB_BE_A_PORT, htons(random() & 0xffff));
		put_u32(m, VIPLB_BE_A_WEIGHT, random() % 100);
		nest_end(m, n);
		break;
	case 4:
		viplb_msg(m, VIPLB_CMD_BACKEND_DEL);
		put_svc_key(m, &k);
		put_backend(m, k.af, a, 80);
		break;
	case 5:
		viplb_msg(m, VIPLB_CMD_SERVICE_DEL);
		put_svc_key(m, &k);
		break;
	default:
		viplb_msg(m, VIPLB_CMD_SERVICE_GET);
		if (random() & 1)
			msg_nlh(m)->nlmsg_flags |= NLM_F_DUMP;
		else
			put_svc_key(m, &k);
		break;
	}
}

static void mutate(struct msg *m)
{
	size_t body = NLMSG_HDRLEN + GENL_HDRLEN;
	int rounds = 1 + random() % 4;

	while (rounds--) {
		size_t span = m->len > body ? m->len - body : 0;
		size_t pos = span ? body + random() % span : body;

		switch (random() % 8) {
		case 0:		/* flip a bit */
		case 1:
			if (span)
				m->buf[pos] ^= 1 << (random() % 8);
			break;
		case 2:		/* random byte */
			if (span)
				m->buf[pos] = random();
			break;
		case 3:		/* bad nla_len on a 4-aligned spot */
			if (span >= 4) {
				pos = body + (random() % (span / 4)) * 4;
				((struct nlattr *)(m->buf + pos))->nla_len =
					random() % 64;
			}
			break;
		case 4:		/* bad nla_type on a 4-aligned spot */
			if (span >= 4) {
				pos = body + (random() % (span / 4)) * 4;
				((struct nlattr *)(m->buf + pos))->nla_type =
					random() & 0xffff;
			}
			break;
		case 5:		/* truncate */
			m->len = body + (span ? random() % span : 0);
			break;
		case 6: {	/* append random bytes */
			unsigned char junk[16];
			size_t i, n = random() % sizeof(junk) + 1;

			for (i = 0; i < n; i++)
				junk[i] = random();
			if (m->len + sizeof(junk) < MSG_MAX) {
				memcpy(m->buf + m->len, junk, n);
				m->len += n;
			}
			break;
		}
		default:	/* another command, any byte value */
			((struct genlmsghdr *)(m->buf + NLMSG_HDRLEN))->cmd =
				random() % 16 ? random() % (VIPLB_CMD_MAX + 2) :
						random();
			break;
		}
	}
}

static void random_phase(unsigned int seed, int count)
{
	int i, errors = 0, oks = 0, silent = 0;
	struct msg m;
	int fd = nl_open();

	srandom(seed);
	for (i = 0; i < count; i++) {
		random_template(&m);
		mutate(&m);
		nl_xfer(fd, &m);
		if (rep.error == NO_REPLY) {
			silent++;
			ksft_print_msg("random message %d: no reply\n", i);
		} else if (rep.error < 0) {
			errors++;
		} else {
			oks++;
		}
	}
	/* Drop a transaction that a mutated command may have opened. */
	close(fd);
	ksft_print_msg("random: %d messages (seed %u): %d refused, %d accepted, %d unanswered\n",
		       count, seed, errors, oks, silent);
	ksft_test_result(silent == 0, "%d random mutations all answered\n",
			 count);
}

/* ------------------------------------------------ still working? */

static bool reply_has_key(const struct key *k)
{
	const struct nlmsghdr *r = (const void *)rep.data;
	const unsigned char *p, *end;
	bool addr = false, port = false;

	if (!rep.nmsgs)
		return false;
	p = (const unsigned char *)NLMSG_DATA(r) + GENL_HDRLEN;
	end = rep.data + rep.data_len;
	while (p + NLA_HDRLEN <= end) {
		const struct nlattr *a = (const void *)p;

		if (a->nla_len < NLA_HDRLEN)
			break;
		if ((a->nla_type & NLA_TYPE_MASK) == VIPLB_A_SERVICE) {
			const unsigned char *q = p + NLA_HDRLEN;
			const unsigned char *qe = p + a->nla_len;

			while (q + NLA_HDRLEN <= qe) {
				const struct nlattr *b = (const void *)q;
				const void *d = q + NLA_HDRLEN;

				if (b->nla_len < NLA_HDRLEN)
					break;
				switch (b->nla_type & NLA_TYPE_MASK) {
				case VIPLB_SVC_A_ADDR:
					addr = (size_t)(b->nla_len - NLA_HDRLEN) ==
						       addr_len(k->af) &&
					       !memcmp(d, k->addr,
						       addr_len(k->af));
					break;
				case VIPLB_SVC_A_PORT:
					port = *(const uint16_t *)d ==
					       htons(k->port);
					break;
				}
				q += NLA_ALIGN(b->nla_len);
			}
		}
		p += NLA_ALIGN(a->nla_len);
	}
	return addr && port;
}

static void final_checks(void)
{
	struct key k = v4_key("192.0.2.201", 443);
	struct msg m;
	int fd = nl_open();

	sock = fd;
	viplb_msg(&m, VIPLB_CMD_SERVICE_NEW);
	put_svc_key(&m, &k);
	nl_xfer(fd, &m);
	ksft_test_result(check_reply("valid SERVICE_NEW after the fuzzing",
				     E_OK),
			 "valid SERVICE_NEW after the fuzzing\n");

	viplb_msg(&m, VIPLB_CMD_SERVICE_GET);
	put_svc_key(&m, &k);
	nl_xfer(fd, &m);
	ksft_test_result(rep.error == 0 && reply_has_key(&k),
			 "GET returns the new service\n");

	viplb_msg(&m, VIPLB_CMD_SERVICE_DEL);
	put_svc_key(&m, &k);
	nl_xfer(fd, &m);
	ksft_test_result(check_reply("SERVICE_DEL", E_OK), "SERVICE_DEL\n");

	viplb_msg(&m, VIPLB_CMD_FLUSH);
	nl_xfer(fd, &m);
	ksft_test_result(check_reply("FLUSH", E_OK), "FLUSH\n");

	viplb_msg(&m, VIPLB_CMD_SERVICE_GET);
	msg_nlh(&m)->nlmsg_flags |= NLM_F_DUMP;
	nl_xfer(fd, &m);
	ksft_test_result(rep.error == 0 && rep.nmsgs == 0,
			 "dump after FLUSH is empty (%d messages)\n",
			 rep.nmsgs);
	close(fd);
}

int main(int argc, char **argv)
{
	unsigned int seed = 20251129;
	int count = 400;
	struct msg m;
	int opt, id;

	while ((opt = getopt(argc, argv, "s:n:")) != -1) {
		switch (opt) {
		case 's':
			seed = strtoul(optarg, NULL, 0);
			break;
		case 'n':
			count = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [-s SEED] [-n COUNT]\n",
				argv[0]);
			return KSFT_FAIL;
		}
	}

	ksft_print_header();
	sock = nl_open();
	id = resolve_family(sock);
	if (id < 0)
		ksft_exit_skip("generic netlink family \"%s\" not found (module not loaded)\n",
			       VIPLB_GENL_NAME);
	family = id;
	ksft_print_msg("family %s has id %u\n", VIPLB_GENL_NAME, family);

	k4 = v4_key("192.0.2.200", 80);
	k6 = v6_key("2001:db8::200", 53);

	/* The service the backend cases attach to. */
	viplb_msg(&m, VIPLB_CMD_SERVICE_NEW);
	put_svc_key(&m, &k4);
	nl_xfer(sock, &m);
	if (rep.error == -EPERM)
		ksft_exit_skip("SERVICE_NEW: EPERM (needs CAP_NET_ADMIN)\n");
	ksft_test_result(check_reply("setup: SERVICE_NEW", E_OK),
			 "setup: SERVICE_NEW tcp 192.0.2.200:80\n");

	targeted_attrs();
	targeted_msgs();
	targeted_version();
	targeted_txn();
	close(sock);

	random_phase(seed, count);
	final_checks();

	ksft_set_plan(ksft_test_num());
	ksft_print_cnts();
	return ksft_get_fail_cnt() ? ksft_exit_fail() : ksft_exit_pass();
}
