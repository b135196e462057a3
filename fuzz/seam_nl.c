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

	/* receive(): one datagram, as nl_recv() returns it (finding 1 fixed). */
	for (nlh = buf; msg_fits(nlh, n); nlh = mnl_nlmsg_next(nlh, &n))
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
