// SPDX-License-Identifier: GPL-2.0
/* The client side of a kernel transaction.  See txn.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libmnl/libmnl.h>

#include <linux/viplb.h>

#include "txn.h"

struct txn {
	struct nl_sock *nl;
	struct nl_batch *batch;
	struct nlmsghdr *cur; /* the command txn_msg() started */
	size_t nr; /* commands queued */
	uint32_t base_seq; /* sequence number of command 0 */
	bool failed;
	size_t failed_idx;
	struct nl_error first;
};

/* A kernel error to one of the queued commands: keep the first. */
static void txn_error(const struct nl_error *err, void *data)
{
	struct txn *t = data;
	size_t idx = (uint32_t)(err->seq - t->base_seq);

	if (idx >= t->nr || (t->failed && idx >= t->failed_idx))
		return;
	t->failed = true;
	t->failed_idx = idx;
	t->first = *err;
}

static int send_begin(struct nl_sock *nl, uint32_t scope, int wait,
		      struct nl_error *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	time_t start = time(NULL);
	struct nlmsghdr *nlh;

	for (;;) {
		nlh = nl_msg_start(nl, buf, VIPLB_CMD_TXN_BEGIN, 0);
		if (scope)
			mnl_attr_put_u32(nlh, VIPLB_A_TXN_SCOPE, scope);
		if (!nl_request(nl, nlh, NULL, NULL, err, NULL))
			return 0;
		if (err->syscall || err->error != EBUSY || wait < 0 ||
		    (wait > 0 && time(NULL) - start >= wait))
			return -1;
		nanosleep(&pause, NULL);
	}
}

static void set_enomem(struct nl_error *err)
{
	memset(err, 0, sizeof(*err));
	err->error = ENOMEM;
	err->syscall = "building the transaction";
}

struct txn *txn_begin(struct nl_sock *nl, uint32_t scope, int wait,
		      struct nl_error *err)
{
	struct txn *t;

	t = calloc(1, sizeof(*t));
	if (t)
		t->batch = nl_batch_new(nl);
	if (!t || !t->batch) {
		free(t);
		set_enomem(err);
		return NULL;
	}
	t->nl = nl;
	if (send_begin(nl, scope, wait, err)) {
		txn_free(t);
		return NULL;
	}
	return t;
}

struct nlmsghdr *txn_msg(struct txn *t, uint8_t cmd)
{
	t->cur = nl_batch_msg(t->nl, t->batch, cmd, 0);
	return t->cur;
}

int txn_add(struct txn *t, struct nl_error *err)
{
	/* Count it first: its error may come back while it is sent. */
	t->nr++;
	if (t->nr == 1)
		t->base_seq = t->cur->nlmsg_seq;
	return nl_batch_add(t->nl, t->batch, txn_error, t, err);
}

size_t txn_ops(const struct txn *t)
{
	return t->nr;
}

bool txn_failed(const struct txn *t, size_t *idx, struct nl_error *err)
{
	if (!t->failed)
		return false;
	*idx = t->failed_idx;
	*err = t->first;
	return true;
}

int txn_commit(struct txn *t, struct nl_error *err, bool *lost)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	if (lost)
		*lost = false;
	/* Collect errors before the commit, so its ACK has room. */
	if (nl_batch_send(t->nl, t->batch, txn_error, t, err))
		return -1;
	/* A poisoned transaction would only fail its commit. */
	if (t->failed)
		return -1;
	/* Sent alone: a drain must not swallow its ACK. */
	nlh = nl_msg_start(t->nl, buf, VIPLB_CMD_TXN_COMMIT, NLM_F_ACK);
	/* The kernel checks it applied exactly as many commands. */
	mnl_attr_put_u32(nlh, VIPLB_A_TXN_OPS, t->nr);
	if (nl_send(t->nl, nlh, err) ||
	    nl_wait(t->nl, nlh->nlmsg_seq, txn_error, t, err, lost))
		return t->failed ? -1 : -2;
	return t->failed ? -1 : 0;
}

int txn_abort(struct txn *t, struct nl_error *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	if (nl_batch_send(t->nl, t->batch, txn_error, t, err))
		return -1;
	nlh = nl_msg_start(t->nl, buf, VIPLB_CMD_TXN_ABORT, NLM_F_ACK);
	if (nl_send(t->nl, nlh, err))
		return -1;
	return nl_wait(t->nl, nlh->nlmsg_seq, txn_error, t, err, NULL);
}

void txn_free(struct txn *t)
{
	if (!t)
		return;
	nl_batch_free(t->batch);
	free(t);
}
