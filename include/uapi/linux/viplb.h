/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * viplb: virtual-IP load balancer and NAT toolkit.
 *
 * This is the one header shared by the kernel module (kmod/), the XDP
 * program (bpf/) and the user tools (user/).
 *
 * Generic netlink family VIPLB_GENL_NAME, version VIPLB_GENL_VERSION.
 * Every command needs CAP_NET_ADMIN in the user namespace owning the
 * network namespace of the socket, and acts on that network namespace only.
 *
 * A service is keyed by (af, proto, addr, port).  A backend is keyed by
 * (addr, port) inside its service.  Addresses are raw 4-byte (IPv4) or
 * 16-byte (IPv6) attributes in network byte order; ports are big endian.
 * Unknown attributes, unknown flag bits and out-of-range values are
 * rejected with an extack message naming the attribute.
 *
 * VIPLB_CMD_SERVICE_NEW: add a service.  Fails with -EEXIST if present.
 *
 *    VIPLB_A_SERVICE: NLA_NESTED
 *        VIPLB_SVC_A_AF: NLA_U16, AF_INET or AF_INET6 (required)
 *        VIPLB_SVC_A_PROTO: NLA_U8, IPPROTO_TCP or IPPROTO_UDP (required)
 *        VIPLB_SVC_A_ADDR: 4 or 16 bytes, matching af (required)
 *        VIPLB_SVC_A_PORT: NLA_BE16, 0 means every port (required)
 *        VIPLB_SVC_A_SCHED: NLA_U32, enum viplb_sched (default MAGLEV)
 *        VIPLB_SVC_A_MODE: NLA_U32, enum viplb_mode (default NAT)
 *        VIPLB_SVC_A_TABLE_SIZE: NLA_U32, Maglev table size, a prime in
 *                                VIPLB_TABLE_SIZE_MIN..VIPLB_TABLE_SIZE_MAX
 *                                (default VIPLB_TABLE_SIZE_DEFAULT)
 *        VIPLB_SVC_A_FLAGS: NLA_U32, enum viplb_svc_flags
 *
 * VIPLB_CMD_SERVICE_SET: change sched, mode, table size or flags of an
 * existing service.  Fails with -ENOENT if absent.  Same attributes as
 * SERVICE_NEW; the key attributes select the service, and only the
 * attributes present are changed.
 *
 * VIPLB_CMD_SERVICE_DEL: delete a service and all its backends.
 *
 *    VIPLB_A_SERVICE: NLA_NESTED
 *        VIPLB_SVC_A_AF, VIPLB_SVC_A_PROTO, VIPLB_SVC_A_ADDR,
 *        VIPLB_SVC_A_PORT (all required)
 *
 * VIPLB_CMD_SERVICE_GET: with NLM_F_DUMP, dump every service of the netns,
 * or only the service whose key is given in VIPLB_A_SERVICE (-ENOENT if it
 * does not exist).  The dump resumes across messages.  A service with more
 * backends than fit in one message is continued in the next message, which
 * repeats the service attributes; readers merge consecutive messages with
 * the same key.  Without NLM_F_DUMP, the request carries a service key as
 * for SERVICE_DEL and the reply is that one service (-EMSGSIZE if its
 * backends do not fit in one message: use the dump).
 * Each reply message holds (STATS and BACKEND appear in replies only):
 *
 *    VIPLB_A_SERVICE: NLA_NESTED
 *        VIPLB_SVC_A_AF, VIPLB_SVC_A_PROTO, VIPLB_SVC_A_ADDR,
 *        VIPLB_SVC_A_PORT, VIPLB_SVC_A_SCHED, VIPLB_SVC_A_MODE,
 *        VIPLB_SVC_A_TABLE_SIZE, VIPLB_SVC_A_FLAGS
 *        VIPLB_SVC_A_STATS: NLA_NESTED
 *            VIPLB_STATS_A_*: NLA_U64 counters
 *        VIPLB_SVC_A_BACKEND: NLA_NESTED, one per backend (multi-attr)
 *            VIPLB_BE_A_ADDR, VIPLB_BE_A_PORT, VIPLB_BE_A_WEIGHT,
 *            VIPLB_BE_A_FLAGS
 *            VIPLB_BE_A_STATS: NLA_NESTED
 *                VIPLB_STATS_A_*: NLA_U64 counters
 *
 * VIPLB_CMD_BACKEND_NEW: add a backend to a service.  -EEXIST if present.
 *
 *    VIPLB_A_SERVICE: NLA_NESTED, the service key (as SERVICE_DEL)
 *    VIPLB_A_BACKEND: NLA_NESTED
 *        VIPLB_BE_A_ADDR: 4 or 16 bytes, same family as the service
 *                         (required)
 *        VIPLB_BE_A_PORT: NLA_BE16, 0 keeps the packet's destination port
 *                         (required)
 *        VIPLB_BE_A_WEIGHT: NLA_U32, 0..VIPLB_WEIGHT_MAX
 *                           (default VIPLB_WEIGHT_DEFAULT);
 *                           0 drains the backend
 *        VIPLB_BE_A_FLAGS: NLA_U32, no flags are defined yet (must be 0)
 *
 * VIPLB_CMD_BACKEND_SET: change the weight or flags of a backend.  Same
 * attributes as BACKEND_NEW.  -ENOENT if the backend is absent.
 *
 * VIPLB_CMD_BACKEND_DEL: remove a backend.  VIPLB_A_SERVICE and
 * VIPLB_A_BACKEND carrying ADDR and PORT only.  Established flows go on
 * to the removed backend until they end, unless VIPLB_A_FLUSH (NLA_FLAG)
 * is given: then its dr/tun flow-table entries and nat-mode conntrack
 * entries are dropped too.
 *
 * VIPLB_CMD_FLUSH: delete every service of the netns.  No attributes.
 *
 * VIPLB_CMD_STATS_ZERO: zero the counters (not ACTIVE) of one service and
 * its backends (VIPLB_A_SERVICE, the key) or of every service (no
 * attributes).  Rates restart from zero too.
 *
 * VIPLB_CMD_SERVICE_LOOKUP: ask which backend the service's scheduler
 * chooses for a flow from a client.  Changes nothing (rr and wrr do not
 * advance).  -ENOENT if the service does not exist.
 *
 *    VIPLB_A_SERVICE: NLA_NESTED, the service key (as SERVICE_DEL)
 *    VIPLB_A_LOOKUP: NLA_NESTED
 *        VIPLB_LOOKUP_A_SRC_ADDR: 4 or 16 bytes, the service's family
 *                                 (required)
 *        VIPLB_LOOKUP_A_SRC_PORT: NLA_BE16 (required)
 *        VIPLB_LOOKUP_A_DST_PORT: NLA_BE16, the destination port, for a
 *                                 service of port 0 (default: the
 *                                 service's port)
 *
 * The reply holds VIPLB_A_SERVICE (the key), VIPLB_A_LOOKUP (the request's
 * attributes plus VIPLB_LOOKUP_A_PIN, NLA_U32, enum viplb_pin: what pins
 * the flow to its backend) and, unless no backend can take the flow (none,
 * or all of weight 0), VIPLB_A_BACKEND with ADDR, PORT and WEIGHT.
 *
 * Transactions (used by "viplb restore"):
 *
 * VIPLB_CMD_TXN_BEGIN: open a replace transaction owned by the sending
 * socket.  The transaction starts from an empty configuration.  Until it is
 * committed or aborted, every SERVICE_NEW/SET/DEL, BACKEND_NEW/SET/DEL and
 * FLUSH sent from that socket edits the transaction instead of the live
 * configuration; reads still see the live configuration.  Only one
 * transaction may be open per netns (-EBUSY).  If any command inside the
 * transaction fails, the transaction is poisoned and COMMIT fails.
 * Closing the socket aborts the transaction.  No attributes.
 *
 * VIPLB_CMD_TXN_COMMIT: replace the live configuration with the
 * transaction's in one RCU pointer update.
 *
 *    VIPLB_A_TXN_OPS: NLA_U32, how many configuration commands the client
 *                     sent inside the transaction (required)
 *
 * The commit fails with -ENOENT if this socket has no transaction, and with
 * -EINVAL if a command inside it failed or if the kernel applied a number
 * of commands other than VIPLB_A_TXN_OPS (a message rejected before it
 * reached viplb, for example by attribute validation, is caught this way).
 * In every failure the live configuration is unchanged and the transaction
 * is gone.
 *
 * VIPLB_CMD_TXN_ABORT: drop the transaction of this socket.  No attributes.
 */
#ifndef _UAPI_LINUX_VIPLB_H
#define _UAPI_LINUX_VIPLB_H

#define VIPLB_GENL_NAME "viplb"
#define VIPLB_GENL_VERSION 1

#define VIPLB_TABLE_SIZE_MIN 251
#define VIPLB_TABLE_SIZE_MAX 131071
#define VIPLB_TABLE_SIZE_DEFAULT 65537
#define VIPLB_WEIGHT_MAX 65535
#define VIPLB_WEIGHT_DEFAULT 1

enum viplb_cmd {
	VIPLB_CMD_UNSPEC,
	VIPLB_CMD_SERVICE_NEW,
	VIPLB_CMD_SERVICE_SET,
	VIPLB_CMD_SERVICE_DEL,
	VIPLB_CMD_SERVICE_GET,
	VIPLB_CMD_BACKEND_NEW,
	VIPLB_CMD_BACKEND_SET,
	VIPLB_CMD_BACKEND_DEL,
	VIPLB_CMD_FLUSH,
	VIPLB_CMD_TXN_BEGIN,
	VIPLB_CMD_TXN_COMMIT,
	VIPLB_CMD_TXN_ABORT,
	VIPLB_CMD_SERVICE_LOOKUP,
	VIPLB_CMD_STATS_ZERO,
	__VIPLB_CMD_MAX
};
#define VIPLB_CMD_MAX (__VIPLB_CMD_MAX - 1)

enum viplb_attr {
	VIPLB_A_UNSPEC,
	VIPLB_A_SERVICE,
	VIPLB_A_BACKEND,
	VIPLB_A_TXN_OPS,
	VIPLB_A_LOOKUP,
	VIPLB_A_FLUSH,
	__VIPLB_A_MAX
};
#define VIPLB_A_MAX (__VIPLB_A_MAX - 1)

enum viplb_lookup_attr {
	VIPLB_LOOKUP_A_UNSPEC,
	VIPLB_LOOKUP_A_SRC_ADDR,
	VIPLB_LOOKUP_A_SRC_PORT,
	VIPLB_LOOKUP_A_DST_PORT,
	VIPLB_LOOKUP_A_PIN,
	__VIPLB_LOOKUP_A_MAX
};
#define VIPLB_LOOKUP_A_MAX (__VIPLB_LOOKUP_A_MAX - 1)

/* What keeps a flow on its backend, as reported by SERVICE_LOOKUP. */
enum viplb_pin {
	VIPLB_PIN_NONE,		/* a new flow: the scheduler's choice */
	VIPLB_PIN_FLOW,		/* an entry in viplb's flow table */
	VIPLB_PIN_CONNTRACK,	/* a conntrack entry (nat mode) */
	__VIPLB_PIN_MAX
};
#define VIPLB_PIN_MAX (__VIPLB_PIN_MAX - 1)

enum viplb_svc_attr {
	VIPLB_SVC_A_UNSPEC,
	VIPLB_SVC_A_AF,
	VIPLB_SVC_A_PROTO,
	VIPLB_SVC_A_ADDR,
	VIPLB_SVC_A_PORT,
	VIPLB_SVC_A_SCHED,
	VIPLB_SVC_A_MODE,
	VIPLB_SVC_A_TABLE_SIZE,
	VIPLB_SVC_A_FLAGS,
	VIPLB_SVC_A_STATS,
	VIPLB_SVC_A_BACKEND,
	__VIPLB_SVC_A_MAX
};
#define VIPLB_SVC_A_MAX (__VIPLB_SVC_A_MAX - 1)

enum viplb_be_attr {
	VIPLB_BE_A_UNSPEC,
	VIPLB_BE_A_ADDR,
	VIPLB_BE_A_PORT,
	VIPLB_BE_A_WEIGHT,
	VIPLB_BE_A_FLAGS,
	VIPLB_BE_A_STATS,
	__VIPLB_BE_A_MAX
};
#define VIPLB_BE_A_MAX (__VIPLB_BE_A_MAX - 1)

/*
 * Statistics of a service or backend, in replies only: counters since it
 * was created, and ACTIVE, the number of flows currently active.  REJECTED
 * counts new connections refused because no backend could take them;
 * UNTRACKED counts flows served without a flow-table entry (table full).
 * CPS, PPS_* and BPS_* are rates (connections, packets and bytes per
 * second) averaged over the last few 2-second intervals, as IPVS shows.
 */
enum viplb_stats_attr {
	VIPLB_STATS_A_UNSPEC,
	VIPLB_STATS_A_PAD,
	VIPLB_STATS_A_CONNS,
	VIPLB_STATS_A_PKTS_IN,
	VIPLB_STATS_A_PKTS_OUT,
	VIPLB_STATS_A_BYTES_IN,
	VIPLB_STATS_A_BYTES_OUT,
	VIPLB_STATS_A_ACTIVE,
	VIPLB_STATS_A_REJECTED,
	VIPLB_STATS_A_UNTRACKED,
	VIPLB_STATS_A_CPS,
	VIPLB_STATS_A_PPS_IN,
	VIPLB_STATS_A_PPS_OUT,
	VIPLB_STATS_A_BPS_IN,
	VIPLB_STATS_A_BPS_OUT,
	__VIPLB_STATS_A_MAX
};
#define VIPLB_STATS_A_MAX (__VIPLB_STATS_A_MAX - 1)

enum viplb_sched {
	VIPLB_SCHED_RR,
	VIPLB_SCHED_WRR,
	VIPLB_SCHED_LC,
	VIPLB_SCHED_SH,
	VIPLB_SCHED_MAGLEV,
	__VIPLB_SCHED_MAX
};
#define VIPLB_SCHED_MAX (__VIPLB_SCHED_MAX - 1)

enum viplb_mode {
	VIPLB_MODE_NAT,
	VIPLB_MODE_DR,
	VIPLB_MODE_TUN,
	__VIPLB_MODE_MAX
};
#define VIPLB_MODE_MAX (__VIPLB_MODE_MAX - 1)

enum viplb_svc_flags {
	/* nat mode: also SNAT to the director's egress address */
	VIPLB_SVC_F_SNAT = 1U << 0,
	__VIPLB_SVC_F_ALL = VIPLB_SVC_F_SNAT
};

#endif /* _UAPI_LINUX_VIPLB_H */
