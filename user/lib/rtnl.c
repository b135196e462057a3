// SPDX-License-Identifier: GPL-2.0
/* A route netlink socket (see rtnl.h). */
#include <errno.h>
#include <time.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#include "rtnl.h"

int rtnl_open(struct rtnl *r)
{
	r->seq = time(NULL);
	r->sock = mnl_socket_open(NETLINK_ROUTE);
	if (!r->sock)
		return -errno;
	if (mnl_socket_bind(r->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = -errno;

		rtnl_close(r);
		return err;
	}
	return 0;
}

void rtnl_close(struct rtnl *r)
{
	if (r->sock)
		mnl_socket_close(r->sock);
	r->sock = NULL;
}

struct nlmsghdr *rtnl_msg(struct rtnl *r, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(r->buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++r->seq;
	return nlh;
}

int rtnl_talk(struct rtnl *r, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	uint32_t seq = nlh->nlmsg_seq;
	int n;

	if (mnl_socket_sendto(r->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(r->sock, r->buf, sizeof(r->buf));
		if (n < 0)
			return -errno;
		n = mnl_cb_run(r->buf, n, seq, mnl_socket_get_portid(r->sock),
			       cb, data);
		if (n <= MNL_CB_STOP)
			return n < 0 ? -errno : 0;
	}
}
