// SPDX-License-Identifier: GPL-2.0
/*
 * nf_tables batches and dumps over one NETLINK_NETFILTER socket.  A batch
 * is built in a growing buffer and sent with one sendmsg(): the kernel
 * applies all its messages or none.  Only its last message asks for an
 * ACK; an error of any message comes back before that ACK.
 */
#include <errno.h>
#include <stdbool.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include "nft.h"

struct nft_batch {
	char *buf;
	size_t len, cap;
	uint32_t seq;
	size_t last_off; /* of the last message, 0 for none */
};

static struct mnl_socket *sock;
static uint32_t next_seq;

static struct mnl_socket *nft_sock(void)
{
	if (sock)
		return sock;
	sock = mnl_socket_open(NETLINK_NETFILTER);
	if (!sock)
		return NULL;
	if (mnl_socket_bind(sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(sock);
		sock = NULL;
		return NULL;
	}
	if (!next_seq)
		next_seq = time(NULL);
	return sock;
}

/* Make room for @len more bytes. */
static int reserve(struct nft_batch *b, size_t len)
{
	size_t cap = b->cap;
	char *p;

	while (b->len + len > cap)
		cap = cap ? 2 * cap : 1 << 16;
	if (cap == b->cap)
		return 0;
	p = realloc(b->buf, cap);
	if (!p)
		return -ENOMEM;
	b->buf = p;
	b->cap = cap;
	return 0;
}

struct nft_batch *nft_batch_new(void)
{
	struct nft_batch *b = calloc(1, sizeof(*b));

	if (!b || reserve(b, MNL_NLMSG_HDRLEN + 64)) {
		free(b);
		return NULL;
	}
	b->seq = next_seq ? next_seq : (uint32_t)time(NULL);
	nftnl_batch_begin(b->buf, b->seq++);
	b->len = MNL_ALIGN(((struct nlmsghdr *)b->buf)->nlmsg_len);
	return b;
}

int nft_batch_genid(struct nft_batch *b, uint32_t genid)
{
	struct nlmsghdr *begin = (struct nlmsghdr *)b->buf;

	if (b->last_off)
		return -EINVAL;
	mnl_attr_put_u32(begin, NFNL_BATCH_GENID, htonl(genid));
	b->len = MNL_ALIGN(begin->nlmsg_len);
	return 0;
}

void nft_batch_free(struct nft_batch *b)
{
	if (!b)
		return;
	free(b->buf);
	free(b);
}

struct nlmsghdr *nft_batch_msg_af(struct nft_batch *b, uint16_t type,
				  uint16_t family, uint16_t flags, size_t len)
{
	if (reserve(b, MNL_ALIGN(len) + 256))
		return NULL;
	return nftnl_nlmsg_build_hdr(b->buf + b->len, type, family, flags,
				     b->seq++);
}

struct nlmsghdr *nft_batch_msg(struct nft_batch *b, uint16_t type,
			       uint16_t flags, size_t len)
{
	return nft_batch_msg_af(b, type, NFPROTO_INET, flags, len);
}

void nft_batch_done(struct nft_batch *b, struct nlmsghdr *nlh)
{
	b->last_off = (char *)nlh - b->buf;
	b->len += MNL_ALIGN(nlh->nlmsg_len);
}

/* The error of an NLMSG_ERROR reply, 0 for an ACK. */
static int reply_error(const struct nlmsghdr *nlh, uint32_t *seq)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
		return -EBADMSG;
	*seq = e->msg.nlmsg_seq;
	return e->error;
}

int nft_batch_send(struct nft_batch *b)
{
	return nft_batch_send_at(b, NULL);
}

int nft_batch_send_at(struct nft_batch *b, uint32_t *err_seq)
{
	char rx[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = nft_sock();
	struct nlmsghdr *last;
	uint32_t last_seq, seq = 0;
	int bufsz, err = 0;
	ssize_t n;

	if (!nl)
		return -errno;
	if (reserve(b, MNL_NLMSG_HDRLEN + 64))
		return -ENOMEM;
	if (!b->last_off)
		return 0; /* nothing in it */
	last = (struct nlmsghdr *)(b->buf + b->last_off);
	last->nlmsg_flags |= NLM_F_ACK;
	last_seq = last->nlmsg_seq;
	nftnl_batch_end(b->buf + b->len, b->seq++);
	b->len += MNL_ALIGN(((struct nlmsghdr *)(b->buf + b->len))->nlmsg_len);
	next_seq = b->seq;

	/* The whole batch in one message: a send buffer to fit it. */
	bufsz = b->len + 4096 > (size_t)1 << 30 ? 1 << 30 : (int)b->len + 4096;
	if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDBUFFORCE,
		       &bufsz, sizeof(bufsz)) < 0)
		setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDBUF, &bufsz,
			   sizeof(bufsz));
	if (mnl_socket_sendto(nl, b->buf, b->len) < 0)
		return -errno;
	/*
	 * The kernel has run the whole batch when sendto() returns: after an
	 * error (which may be the batch's own, with no ACK to wait for), read
	 * what is queued, without waiting.
	 */
	for (;;) {
		struct nlmsghdr *nlh;
		int left;

		n = recv(mnl_socket_get_fd(nl), rx, sizeof(rx),
			 err ? MSG_DONTWAIT : 0);
		if (n < 0 && err)
			return err;
		if (n < 0)
			return -errno;
		left = n;
		for (nlh = (struct nlmsghdr *)rx; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			int e;

			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			e = reply_error(nlh, &seq);
			/* The first error the kernel reports wins. */
			if (e && !err) {
				err = e;
				if (err_seq)
					*err_seq = seq;
			}
			if (seq == last_seq)
				return err;
		}
	}
}

/*
 * The kernel fills a dump's messages up to the size of the reader's
 * buffer, at most 32 KiB: fewer, fuller rounds for a large table.
 */
#define DUMP_BUF_SIZE 32768

int nft_dump(uint16_t type, int (*cb)(const struct nlmsghdr *nlh, void *data),
	     void *data)
{
	return nft_dump_af(type, NFPROTO_INET, cb, data);
}

/*
 * Whether the replies in @buf (@n bytes) hold the end of request @seq,
 * and whether one says the dump was interrupted (NLM_F_DUMP_INTR).
 */
static bool reply_end(const char *buf, ssize_t n, uint32_t seq, bool *intr)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	int left = n;
	bool end = false;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
			*intr = true;
		if (nlh->nlmsg_seq == seq && (nlh->nlmsg_type == NLMSG_DONE ||
					      nlh->nlmsg_type == NLMSG_ERROR))
			end = true;
	}
	return end;
}

/*
 * Send request @nlh and give @cb each reply until the ACK or the end.
 * -EINTR if the ruleset changed during a dump: its replies are read to
 * the end, and none given to @cb from there on.
 */
static int request(struct mnl_socket *nl, char *buf, size_t size,
		   struct nlmsghdr *nlh,
		   int (*cb)(const struct nlmsghdr *nlh, void *data), void *data)
{
	uint32_t seq = nlh->nlmsg_seq, portid = mnl_socket_get_portid(nl);
	bool intr = false, end;
	ssize_t n;
	int ret;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(nl, buf, size);
		if (n < 0)
			return -errno;
		end = reply_end(buf, n, seq, &intr);
		if (intr) {
			if (end)
				return -EINTR;
			continue;
		}
		ret = mnl_cb_run(buf, n, seq, portid, cb, data);
		if (ret < 0)
			return -errno;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

int nft_dump_af(uint16_t type, uint16_t family,
		int (*cb)(const struct nlmsghdr *nlh, void *data), void *data)
{
	static char buf[DUMP_BUF_SIZE];
	struct mnl_socket *nl = nft_sock();
	struct nlmsghdr *nlh;

	if (!nl)
		return -errno;
	nlh = nftnl_nlmsg_build_hdr(buf, type, family, NLM_F_DUMP | NLM_F_ACK,
				    next_seq++);
	return request(nl, buf, sizeof(buf), nlh, cb, data);
}

int nft_dump_elems(const char *set,
		   int (*cb)(const struct nlmsghdr *nlh, void *data),
		   void *data)
{
	static char buf[DUMP_BUF_SIZE];
	struct mnl_socket *nl = nft_sock();
	struct nftnl_set *s;
	struct nlmsghdr *nlh;

	if (!nl)
		return -errno;
	s = nftnl_set_alloc();
	if (!s)
		return -ENOMEM;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NFT_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	nlh = nftnl_nlmsg_build_hdr(buf,
				    (NFNL_SUBSYS_NFTABLES << 8) |
					    NFT_MSG_GETSETELEM,
				    NFPROTO_INET, NLM_F_DUMP | NLM_F_ACK,
				    next_seq++);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	return request(nl, buf, sizeof(buf), nlh, cb, data);
}

static int gen_attr(const struct nlattr *attr, void *data)
{
	uint32_t *gen = data;

	if (mnl_attr_get_type(attr) == NFTA_GEN_ID &&
	    mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
		*gen = ntohl(mnl_attr_get_u32(attr));
	return MNL_CB_OK;
}

static int gen_cb(const struct nlmsghdr *nlh, void *data)
{
	mnl_attr_parse(nlh, sizeof(struct nfgenmsg), gen_attr, data);
	return MNL_CB_OK;
}

int nft_genid(uint32_t *gen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = nft_sock();
	struct nlmsghdr *nlh;

	if (!nl)
		return -errno;
	nlh = nftnl_nlmsg_build_hdr(buf,
				    NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_GETGEN,
				    NFPROTO_UNSPEC, NLM_F_ACK, next_seq++);
	return request(nl, buf, sizeof(buf), nlh, gen_cb, gen);
}

/* Not in older uapi headers: the kernel's value (Linux 6.3 and later). */
#ifndef NFT_MSG_GETRULE_RESET
#define NFT_MSG_GETRULE_RESET 25
#endif

static int ignore_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_OK;
}

int nft_rule_reset(uint16_t family, const char *table, const char *chain,
		   uint64_t handle)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = nft_sock();
	struct nftnl_rule *r;
	struct nlmsghdr *nlh;

	if (!nl)
		return -errno;
	r = nftnl_rule_alloc();
	if (!r)
		return -ENOMEM;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, handle);
	nlh = nftnl_nlmsg_build_hdr(buf,
				    (NFNL_SUBSYS_NFTABLES << 8) |
					    NFT_MSG_GETRULE_RESET,
				    family, NLM_F_ACK, next_seq++);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	return request(nl, buf, sizeof(buf), nlh, ignore_cb, NULL);
}
