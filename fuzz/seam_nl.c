// SPDX-License-Identifier: GPL-2.0
/*
 * Seam: user/lib/nl.c whole, for its static receive loop.  See seams.h.
 * The proposed export, in nl.h, is the loop body of receive() on a
 * buffer:
 *
 *	int nl_parse_replies(const void *buf, size_t len, uint32_t seq,
 *			     uint16_t type, bool dump, nl_data_cb cb,
 *			     void *data, struct nl_error *err, bool *intr);
 *
 * which receive() would call for each datagram.
 */
#include <limits.h>

#include "../user/lib/nl.c"

#include "common.h"
#include "seams.h"

/*
 * Finding 1 (README.md): mnl_nlmsg_ok() of libmnl before 1.0.5 casts
 * nlmsg_len to int, so a message claiming more than INT_MAX bytes is
 * "ok" and mnl_nlmsg_next() jumps out of the buffer.  Such datagrams are
 * skipped so that fuzzing goes on, unless VIPLB_FUZZ_ALL is set.
 */
static bool huge_len(const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	size_t n = len;

	while (n >= sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh)) {
		if (nlh->nlmsg_len > INT_MAX)
			return true;
		if (nlh->nlmsg_len > n)
			break;
		n -= n < MNL_ALIGN(nlh->nlmsg_len) ? n :
						     MNL_ALIGN(nlh->nlmsg_len);
		nlh = (const void *)((const char *)nlh +
				     MNL_ALIGN(nlh->nlmsg_len));
	}
	return false;
}

int fuzz_nl_receive(const void *buf, size_t len, uint32_t seq, uint16_t type,
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
	const struct nlmsghdr *nlh;
	int n = len;

	if (!fuzz_all() && huge_len(buf, len))
		return 2;

	/* receive(): one datagram, as nl_recv() returns it. */
	for (nlh = buf; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n))
		handle_msg(nlh, &w);
	if (intr)
		*intr = w.intr;
	if (!w.done)
		return 1;
	if (w.ret == 0 && w.cb_error) {
		err_sys(w.err, "parsing the kernel's reply", w.cb_error);
		return -1;
	}
	return w.ret;
}
