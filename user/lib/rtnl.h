/* SPDX-License-Identifier: GPL-2.0 */
/* A route netlink (rtnetlink) socket: requests and their answers. */
#ifndef VIPLB_USER_RTNL_H
#define VIPLB_USER_RTNL_H

#include <stdint.h>
#include <libmnl/libmnl.h>

/* A route netlink socket; its buffer holds any datagram (32 KiB). */
struct rtnl {
	struct mnl_socket *sock;
	uint32_t seq;
	char buf[32768];
};

/* Open and bind r's socket.  0, or -errno. */
int rtnl_open(struct rtnl *r);
void rtnl_close(struct rtnl *r);
/* A request of @type in r's buffer, with NLM_F_REQUEST, @flags, a new seq. */
struct nlmsghdr *rtnl_msg(struct rtnl *r, uint16_t type, uint16_t flags);
/*
 * Send nlh (built in r's buffer) and run cb on each answer until its ACK
 * or NLMSG_DONE.  0, or -errno (the kernel's error for the request).
 */
int rtnl_talk(struct rtnl *r, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);

#endif /* VIPLB_USER_RTNL_H */
