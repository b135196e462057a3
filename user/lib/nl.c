// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink plumbing for viplb.  See nl.h.
 *
 * The socket asks for extended ACKs (NETLINK_EXT_ACK) without the echoed
 * request (NETLINK_CAP_ACK), so every kernel error can be shown with the
 * kernel's own message.  Replies are read with recvmsg() into a buffer
 * that grows to the size of the largest datagram, never silently cut.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <linux/viplb.h>

#include "nl.h"
#include "errors.h"

/* Initial receive buffer; grown for larger datagrams. */
#define RX_BUF_SIZE (64 * 1024)
/* Largest single viplb request built by this tool, with a wide margin. */
#define MSG_MAX_SIZE 4096
/* One sendmsg() of a batch carries at most this much. */
#define BATCH_MAX_SIZE (128 * 1024)
#define SNDBUF_WANT (4 * 1024 * 1024)
#define RCVBUF_WANT (8 * 1024 * 1024)

struct nl_sock {
	struct mnl_socket *sock;
	uint16_t family;
	uint32_t version;
	uint32_t portid;
	uint32_t seq;
	char *rx;
	size_t rx_size;
};

struct nl_batch {
	struct mnl_nlmsg_batch *b;
	size_t limit;
	char *buf;
};

/* What a receive loop is waiting for, and what it found. */
struct waiter {
	uint32_t seq;
	uint16_t type; /* message type of data replies */
	bool dump; /* ends with NLMSG_DONE */
	bool until_empty; /* non-blocking drain, no awaited reply */
	nl_data_cb cb;
	void *data;
	nl_err_cb ecb;
	void *edata;
	bool done;
	bool intr;
	bool lost;
	int cb_error; /* first error returned by cb */
	struct nl_error *err;
	int ret;
};

static void err_sys(struct nl_error *err, const char *syscall, int error)
{
	memset(err, 0, sizeof(*err));
	err->syscall = syscall;
	err->error = error;
}

static int ext_ack_attr(const struct nlattr *attr, void *data)
{
	struct nl_error *err = data;

	switch (mnl_attr_get_type(attr)) {
	case NLMSGERR_ATTR_MSG:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
			break;
		snprintf(err->msg, sizeof(err->msg), "%s",
			 mnl_attr_get_str(attr));
		break;
	case NLMSGERR_ATTR_MISS_TYPE:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			break;
		err->has_miss_type = true;
		err->miss_type = mnl_attr_get_u32(attr);
		break;
	}
	return MNL_CB_OK;
}

/* Extended ACK attributes start at payload offset off when present. */
static void parse_ext_ack(const struct nlmsghdr *nlh, size_t off,
			  struct nl_error *err)
{
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (MNL_ALIGN(off) >= mnl_nlmsg_get_payload_len(nlh))
		return;
	mnl_attr_parse(nlh, off, ext_ack_attr, err);
}

/* Decode NLMSG_ERROR: err->error is 0 for an ACK. */
static void parse_nlmsgerr(const struct nlmsghdr *nlh, struct nl_error *err)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t off = sizeof(*e);

	memset(err, 0, sizeof(*err));
	err->seq = nlh->nlmsg_seq;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
		err->error = EBADMSG;
		return;
	}
	err->error = e->error < 0 ? -e->error : e->error;
	/* Without NLM_F_CAPPED the request's payload is echoed first. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED) &&
	    e->msg.nlmsg_len > sizeof(struct nlmsghdr))
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	parse_ext_ack(nlh, off, err);
}

/* Decode NLMSG_DONE of a dump: an int error, then extended ACK TLVs. */
static void parse_done(const struct nlmsghdr *nlh, struct nl_error *err)
{
	int e = 0;

	memset(err, 0, sizeof(*err));
	err->seq = nlh->nlmsg_seq;
	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(e))
		memcpy(&e, mnl_nlmsg_get_payload(nlh), sizeof(e));
	err->error = e < 0 ? -e : 0;
	if (err->error)
		parse_ext_ack(nlh, sizeof(e), err);
}

static void finish(struct waiter *w, const struct nl_error *e)
{
	w->done = true;
	if (e->error) {
		*w->err = *e;
		w->ret = -1;
	} else if (e->msg[0]) {
		/* A successful request may still carry a kernel warning. */
		errmsg("warning (kernel: %s)", e->msg);
	}
}

static void handle_msg(const struct nlmsghdr *nlh, struct waiter *w)
{
	bool ours = !w->until_empty && nlh->nlmsg_seq == w->seq;
	struct nl_error e;
	int ret;

	if (ours && (nlh->nlmsg_flags & NLM_F_DUMP_INTR))
		w->intr = true;
	switch (nlh->nlmsg_type) {
	case NLMSG_NOOP:
		return;
	case NLMSG_ERROR:
		parse_nlmsgerr(nlh, &e);
		if (ours)
			finish(w, &e);
		else if (e.error && w->ecb)
			w->ecb(&e, w->edata);
		return;
	case NLMSG_DONE:
		if (ours && w->dump) {
			parse_done(nlh, &e);
			finish(w, &e);
		}
		return;
	case NLMSG_OVERRUN:
		w->lost = true;
		return;
	}
	if (!ours || nlh->nlmsg_type != w->type || !w->cb || w->cb_error)
		return;
	ret = w->cb(nlh, w->data);
	if (ret < 0)
		w->cb_error = -ret;
}

/*
 * Receive one datagram from the kernel into nl->rx, growing the buffer to
 * the datagram's size first (a peek with MSG_TRUNC tells it), so that no
 * reply is ever cut.
 */
static ssize_t nl_recv(struct nl_sock *nl, bool nonblock)
{
	int fd = mnl_socket_get_fd(nl->sock);
	struct sockaddr_nl sa;
	struct iovec iov;
	struct msghdr msg = {
		.msg_name = &sa,
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	int flags = nonblock ? MSG_DONTWAIT : 0;
	ssize_t n;
	char *p;

	for (;;) {
		iov.iov_base = nl->rx;
		iov.iov_len = nl->rx_size;
		msg.msg_namelen = sizeof(sa);
		n = recvmsg(fd, &msg, flags | MSG_PEEK | MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if ((size_t)n > nl->rx_size) {
			p = realloc(nl->rx, n);
			if (!p) {
				errno = ENOMEM;
				return -1;
			}
			nl->rx = p;
			nl->rx_size = n;
			continue;
		}
		do {
			iov.iov_base = nl->rx;
			iov.iov_len = nl->rx_size;
			msg.msg_namelen = sizeof(sa);
			n = recvmsg(fd, &msg, flags);
		} while (n < 0 && errno == EINTR);
		if (n < 0)
			return -1;
		if (msg.msg_flags & MSG_TRUNC) {
			errno = EMSGSIZE;
			return -1;
		}
		if (sa.nl_pid == 0)
			return n;
		/* Not from the kernel: ignore. */
	}
}

/*
 * mnl_nlmsg_ok() of libmnl before 1.0.5 compares nlmsg_len as an int: a
 * length over INT_MAX passed, and the next message was out of the buffer.
 */
static bool msg_fits(const struct nlmsghdr *nlh, int len)
{
	return len >= (int)sizeof(*nlh) && nlh->nlmsg_len <= (unsigned int)len &&
	       mnl_nlmsg_ok(nlh, len);
}

/* Hand each message of one datagram to w. */
static void dispatch(struct waiter *w, const void *buf, int len)
{
	const struct nlmsghdr *nlh;

	for (nlh = buf; msg_fits(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
		handle_msg(nlh, w);
}

/* What a finished wait returns: a reply parser's error is the request's. */
static int wait_result(struct waiter *w)
{
	if (w->ret == 0 && w->cb_error) {
		err_sys(w->err, "parsing the kernel's reply", w->cb_error);
		return -1;
	}
	return w->ret;
}

/* Read and dispatch replies until w is done (or, draining, until empty). */
static int receive(struct nl_sock *nl, struct waiter *w)
{
	ssize_t n;

	while (!w->done) {
		n = nl_recv(nl, w->until_empty);
		if (n < 0) {
			if (w->until_empty &&
			    (errno == EAGAIN || errno == EWOULDBLOCK))
				return 0;
			if (errno == ENOBUFS && !w->dump) {
				/* Replies were dropped; keep going. */
				w->lost = true;
				continue;
			}
			err_sys(w->err, "recvmsg", errno);
			return -1;
		}
		dispatch(w, nl->rx, n);
	}
	return wait_result(w);
}

int nl_parse_replies(const void *buf, size_t len, uint32_t seq, uint16_t type,
		     bool dump, nl_data_cb cb, void *data, struct nl_error *err,
		     bool *intr)
{
	struct waiter w = {
		.seq = seq,
		.type = type,
		.dump = dump,
		.cb = cb,
		.data = data,
		.err = err,
	};

	dispatch(&w, buf, len > INT_MAX ? INT_MAX : (int)len);
	if (intr)
		*intr = w.intr;
	return w.done ? wait_result(&w) : 1;
}

static int send_buf(struct nl_sock *nl, const void *buf, size_t len,
		    struct nl_error *err)
{
	ssize_t n;

	do
		n = mnl_socket_sendto(nl->sock, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		err_sys(err, "sendmsg", errno);
		return -1;
	}
	if ((size_t)n != len) {
		err_sys(err, "sendmsg", EMSGSIZE);
		return -1;
	}
	return 0;
}

int nl_send(struct nl_sock *nl, const struct nlmsghdr *nlh,
	    struct nl_error *err)
{
	return send_buf(nl, nlh, nlh->nlmsg_len, err);
}

static int request(struct nl_sock *nl, struct nlmsghdr *nlh, uint16_t type,
		   nl_data_cb cb, void *data, struct nl_error *err, bool *intr)
{
	struct waiter w = {
		.seq = nlh->nlmsg_seq,
		.type = type,
		.dump = (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP,
		.cb = cb,
		.data = data,
		.err = err,
	};
	int ret;

	if (!w.dump)
		nlh->nlmsg_flags |= NLM_F_ACK;
	if (send_buf(nl, nlh, nlh->nlmsg_len, err))
		return -1;
	ret = receive(nl, &w);
	if (intr)
		*intr = w.intr;
	return ret;
}

int nl_request(struct nl_sock *nl, struct nlmsghdr *nlh, nl_data_cb cb,
	       void *data, struct nl_error *err, bool *intr)
{
	return request(nl, nlh, nl->family, cb, data, err, intr);
}

static struct nlmsghdr *msg_start(struct nl_sock *nl, void *buf, uint16_t type,
				  uint8_t cmd, uint8_t version, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *genl;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nl->seq;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = version;
	return nlh;
}

struct nlmsghdr *nl_msg_start(struct nl_sock *nl, void *buf, uint8_t cmd,
			      uint16_t flags)
{
	return msg_start(nl, buf, nl->family, cmd, VIPLB_GENL_VERSION, flags);
}

static int family_attr(const struct nlattr *attr, void *data)
{
	struct nl_sock *nl = data;

	switch (mnl_attr_get_type(attr)) {
	case CTRL_ATTR_FAMILY_ID:
		if (mnl_attr_validate(attr, MNL_TYPE_U16) >= 0)
			nl->family = mnl_attr_get_u16(attr);
		break;
	case CTRL_ATTR_VERSION:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
			nl->version = mnl_attr_get_u32(attr);
		break;
	}
	return MNL_CB_OK;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	if (mnl_attr_parse(nlh, sizeof(struct genlmsghdr), family_attr, data) <
	    0)
		return -EBADMSG;
	return 0;
}

static int resolve_family(struct nl_sock *nl)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nl_error err;
	struct nlmsghdr *nlh;

	nlh = msg_start(nl, buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, 0);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, VIPLB_GENL_NAME);
	if (request(nl, nlh, GENL_ID_CTRL, family_cb, nl, &err, NULL)) {
		if (!err.syscall && err.error == ENOENT) {
			errmsg("generic netlink family `%s' not found: is the module loaded? (try: modprobe viplb, or insmod kmod/viplb.ko)",
			       VIPLB_GENL_NAME);
			return -1;
		}
		nl_report("resolving generic netlink family `" VIPLB_GENL_NAME
			  "'",
			  &err);
		return -1;
	}
	if (!nl->family) {
		errmsg("resolving generic netlink family `%s': no family id in the reply",
		       VIPLB_GENL_NAME);
		return -1;
	}
	if (nl->version < VIPLB_GENL_VERSION) {
		errmsg("the kernel module speaks viplb netlink version %u, this tool needs version %u: update the module",
		       nl->version, VIPLB_GENL_VERSION);
		return -1;
	}
	return 0;
}

struct nl_sock *nl_open(void)
{
	struct nl_sock *nl;
	int one = 1;

	nl = calloc(1, sizeof(*nl));
	if (nl)
		nl->rx = malloc(RX_BUF_SIZE);
	if (!nl || !nl->rx) {
		errmsg("opening netlink socket: %s", strerror(ENOMEM));
		goto err_free;
	}
	nl->rx_size = RX_BUF_SIZE;
	nl->sock = mnl_socket_open(NETLINK_GENERIC);
	if (!nl->sock) {
		errmsg("opening generic netlink socket: %s", strerror(errno));
		goto err_free;
	}
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		errmsg("binding generic netlink socket: %s", strerror(errno));
		goto err_close;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = time(NULL);
	/* Both are optional: without them errors just lose the details. */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	if (resolve_family(nl))
		goto err_close;
	return nl;

err_close:
	mnl_socket_close(nl->sock);
err_free:
	if (nl)
		free(nl->rx);
	free(nl);
	return NULL;
}

void nl_close(struct nl_sock *nl)
{
	if (!nl)
		return;
	mnl_socket_close(nl->sock);
	free(nl->rx);
	free(nl);
}

bool module_loaded(void)
{
	return !access("/sys/module/viplb", F_OK);
}

static struct nl_sock *shared_sock;

/* nl_get() failed (reported once): no retry until nl_put(). */
static bool shared_failed;

struct nl_sock *nl_get(void)
{
	if (!shared_sock && !shared_failed) {
		shared_sock = nl_open();
		shared_failed = !shared_sock;
	}
	return shared_sock;
}

void nl_put(void)
{
	nl_close(shared_sock);
	shared_sock = NULL;
	shared_failed = false;
}

/* Grow a socket buffer, beyond the sysctl limit if we may (root). */
static void grow_buf(int fd, int force_opt, int opt, int size)
{
	if (!setsockopt(fd, SOL_SOCKET, force_opt, &size, sizeof(size)))
		return;
	setsockopt(fd, SOL_SOCKET, opt, &size, sizeof(size));
}

struct nl_batch *nl_batch_new(struct nl_sock *nl)
{
	int fd = mnl_socket_get_fd(nl->sock);
	socklen_t len;
	struct nl_batch *b;
	int sndbuf = 0;

	grow_buf(fd, SO_SNDBUFFORCE, SO_SNDBUF, SNDBUF_WANT);
	grow_buf(fd, SO_RCVBUFFORCE, SO_RCVBUF, RCVBUF_WANT);
	/* The kernel refuses a sendmsg() larger than the send buffer. */
	len = sizeof(sndbuf);
	getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len);

	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->limit = BATCH_MAX_SIZE;
	if (sndbuf > 0 && (size_t)sndbuf / 2 < b->limit)
		b->limit = (size_t)sndbuf / 2;
	if (b->limit < 2 * MSG_MAX_SIZE)
		b->limit = 2 * MSG_MAX_SIZE;
	/* Room past the limit for the message that overflows it. */
	b->buf = malloc(b->limit + MSG_MAX_SIZE);
	if (!b->buf)
		goto err;
	b->b = mnl_nlmsg_batch_start(b->buf, b->limit);
	if (!b->b)
		goto err;
	return b;
err:
	free(b->buf);
	free(b);
	return NULL;
}

void nl_batch_free(struct nl_batch *b)
{
	if (!b)
		return;
	mnl_nlmsg_batch_stop(b->b);
	free(b->buf);
	free(b);
}

struct nlmsghdr *nl_batch_msg(struct nl_sock *nl, struct nl_batch *b,
			      uint8_t cmd, uint16_t flags)
{
	return nl_msg_start(nl, mnl_nlmsg_batch_current(b->b), cmd, flags);
}

/* Collect the replies queued so far, without blocking. */
static int drain(struct nl_sock *nl, nl_err_cb ecb, void *data,
		 struct nl_error *err)
{
	struct waiter w = {
		.until_empty = true,
		.ecb = ecb,
		.edata = data,
		.err = err,
	};

	return receive(nl, &w);
}

static int batch_flush(struct nl_sock *nl, struct nl_batch *b, nl_err_cb ecb,
		       void *data, struct nl_error *err)
{
	size_t len = mnl_nlmsg_batch_size(b->b);

	if (len && send_buf(nl, mnl_nlmsg_batch_head(b->b), len, err))
		return -1;
	mnl_nlmsg_batch_reset(b->b);
	return drain(nl, ecb, data, err);
}

int nl_batch_add(struct nl_sock *nl, struct nl_batch *b, nl_err_cb ecb,
		 void *data, struct nl_error *err)
{
	if (mnl_nlmsg_batch_next(b->b))
		return 0;
	/* Full: send all but the last message, which moves to the front. */
	return batch_flush(nl, b, ecb, data, err);
}

int nl_batch_send(struct nl_sock *nl, struct nl_batch *b, nl_err_cb ecb,
		  void *data, struct nl_error *err)
{
	if (batch_flush(nl, b, ecb, data, err))
		return -1;
	/* A message moved to the front by the last reset is still pending. */
	if (!mnl_nlmsg_batch_is_empty(b->b))
		return batch_flush(nl, b, ecb, data, err);
	return 0;
}

int nl_wait(struct nl_sock *nl, uint32_t seq, nl_err_cb ecb, void *data,
	    struct nl_error *err, bool *lost)
{
	struct waiter w = {
		.seq = seq,
		.ecb = ecb,
		.edata = data,
		.err = err,
	};
	int ret;

	ret = receive(nl, &w);
	if (lost)
		*lost = w.lost;
	return ret;
}

void nl_report(const char *what, const struct nl_error *err)
{
	const char *s = strerror(err->error);

	if (err->syscall)
		errmsg("%s: %s: %s", what, err->syscall, s);
	else if (err->msg[0])
		errmsg("%s: %s (kernel: %s)", what, s, err->msg);
	else if (err->has_miss_type)
		errmsg("%s: %s (kernel: missing attribute %u)", what, s,
		       err->miss_type);
	else
		errmsg("%s: %s", what, s);
}
