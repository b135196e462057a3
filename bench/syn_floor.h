/* SPDX-License-Identifier: GPL-2.0 */
/*
 * syn_floor's XDP mode (bench/syn_floor_xdp.bpf.c): the maps it shares
 * with syn_floor.c.  A probe in flight is keyed by the SYN-ACK that
 * answers it, all in network order.
 */
#ifndef SYN_FLOOR_H
#define SYN_FLOOR_H

#include <linux/types.h>

struct syn_floor_key {
	__be32 backend; /* the SYN-ACK's source address */
	__be32 local; /* and destination */
	__be16 backend_port;
	__be16 local_port;
};

/* One reply taken at XDP, in the ring buffer "replies". */
struct syn_floor_reply {
	struct syn_floor_key key;
	__u32 synack; /* 1: a SYN-ACK, reset at XDP; 0: a reset, dropped */
};

#define SYN_FLOOR_INFLIGHT 65536

#endif
