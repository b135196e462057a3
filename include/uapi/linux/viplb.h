/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * viplb: virtual-IP load balancer and NAT toolkit.
 *
 * This is the one header shared by the kernel module (kmod/), the XDP
 * program (bpf/) and the user tools (user/).
 *
 * Generic netlink family VIPLB_GENL_NAME, version VIPLB_GENL_VERSION.
 * Every request carries VIPLB_GENL_VERSION in genlmsghdr.version: the
 * module refuses another version with -EINVAL and an extack message naming
 * the version it speaks.
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
 *                                (default: automatic, see TABLE_AUTO)
 *        VIPLB_SVC_A_FLAGS: NLA_U32, enum viplb_svc_flags
 *        VIPLB_SVC_A_TABLE_AUTO: NLA_FLAG, the table size is chosen from
 *                                the number of backends by
 *                                viplb_maglev_auto_size() in
 *                                <viplb/maglev.h> (the default; not with
 *                                TABLE_SIZE)
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
 *        VIPLB_SVC_A_TABLE_SIZE (the size in use), VIPLB_SVC_A_FLAGS,
 *        VIPLB_SVC_A_TABLE_AUTO (present if that size is automatic)
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
 *
 * VIPLB_CMD_TXN_BEGIN takes an optional VIPLB_A_TXN_SCOPE (NLA_U32, enum
 * viplb_txn_scope flags, default VIPLB_TXN_SERVICES): what the transaction
 * replaces.  Without VIPLB_TXN_SERVICES the services stay as they are and
 * service commands from the owning socket fail.  With VIPLB_TXN_RULES, the
 * RULES_TABLE, RULES_CHAIN and RULES_RULE commands build rule tables aside.
 *
 * Rule tables (the "small iptables", used by viplb-tables and
 * viplb-restore):
 *
 * Each netns has, per family (AF_INET, AF_INET6), a filter table (built-in
 * chains INPUT, FORWARD, OUTPUT) and a nat table (PREROUTING, INPUT,
 * OUTPUT, POSTROUTING).  A table is always replaced whole, inside a
 * transaction of scope VIPLB_TXN_RULES; the commit swaps every table loaded
 * in the transaction in one RCU pointer update.  Every message below holds
 * one VIPLB_A_RULES nest:
 *
 * VIPLB_CMD_RULES_TABLE: start loading a table.  It starts empty: built-in
 * chains with policy ACCEPT (their packet counters carried over) and no
 * rules.  A table loaded twice in one transaction starts over.
 *
 *    VIPLB_RULES_A_AF: NLA_U16, AF_INET or AF_INET6 (required)
 *    VIPLB_RULES_A_TABLE: NLA_U32, enum viplb_rtable (required)
 *    VIPLB_RULES_A_GEN: NLA_U32, the generation the client read; the commit
 *                       fails with -EAGAIN if the rules changed since
 *
 * VIPLB_CMD_RULES_CHAIN: set a built-in chain's policy, or create a user
 * chain (in this order for dumps).
 *
 *    VIPLB_RULES_A_AF, VIPLB_RULES_A_TABLE (required)
 *    VIPLB_RULES_A_CHAIN: NLA_NUL_STRING, at most VIPLB_CHAIN_NAME_MAX - 1
 *                         bytes (required)
 *    VIPLB_RULES_A_POLICY: NLA_U32, VIPLB_V_ACCEPT or VIPLB_V_DROP; built-in
 *                          chains only (filter only for DROP)
 *    VIPLB_RULES_A_PKTS, VIPLB_RULES_A_BYTES: NLA_U64, initial policy
 *                          counters of a built-in chain
 *
 * VIPLB_CMD_RULES_RULE: append a rule to a chain of the table.
 *
 *    VIPLB_RULES_A_AF, VIPLB_RULES_A_TABLE, VIPLB_RULES_A_CHAIN (required)
 *    VIPLB_RULES_A_SPEC: struct viplb_rule_spec, exact size (required)
 *    VIPLB_RULES_A_TARGET: NLA_NUL_STRING, the user chain of a JUMP or
 *                          GOTO verdict (required for those, else absent)
 *    VIPLB_RULES_A_COMMENT: NLA_NUL_STRING, at most VIPLB_COMMENT_MAX - 1
 *                           bytes
 *    VIPLB_RULES_A_HANDLE: NLA_U64, the handle of a rule of the live table:
 *                          the new rule takes over its counters and its
 *                          nth-match state (so editing one rule keeps the
 *                          counters of the others).  -ENOENT if no live rule
 *                          of this table has it.
 *    VIPLB_RULES_A_PKTS, VIPLB_RULES_A_BYTES: NLA_U64, initial counters;
 *                          with a handle, the rule keeps that rule's
 *                          nth-match state but starts from these counters
 *    VIPLB_RULES_A_MATCH_ORDER: NLA_BINARY, at most VIPLB_MATCH_ORDER_MAX
 *                          bytes, opaque to the kernel: how the client
 *                          wrote the rule's matches (their order, "-m
 *                          state" or "-m conntrack"), stored and dumped
 *                          unchanged so that a listing can print the rule
 *                          as it was written.  Evaluation does not depend
 *                          on it: the statistic match runs after all the
 *                          rule's other matches.
 *
 * At commit, every table loaded is checked: jumps name existing user
 * chains, no chain is reachable from itself (-ELOOP), calls nest at most
 * VIPLB_JUMP_DEPTH_MAX deep, each target is used only from the built-in
 * chains it suits (DNAT and REDIRECT: PREROUTING and OUTPUT; SNAT: INPUT
 * and POSTROUTING; MASQUERADE: POSTROUTING; REJECT: filter only), and the
 * table holds at most VIPLB_RULES_MAX rules and VIPLB_CHAINS_MAX chains.
 *
 * VIPLB_CMD_RULES_GET (NLM_F_DUMP): dump a table.  The request holds
 * VIPLB_A_RULES with AF and TABLE.  The reply is one message per chain
 * (VIPLB_A_RULES: AF, TABLE, GEN, CHAIN, POLICY for built-in chains, PKTS
 * and BYTES of the policy for built-in chains, REFS: rules jumping to a
 * user chain), each followed by one message per rule of that chain
 * (VIPLB_A_RULES: AF, TABLE, GEN, CHAIN, SPEC, TARGET, COMMENT,
 * MATCH_ORDER, HANDLE, PKTS, BYTES).  Built-in chains come first, in hook
 * order, then user chains in the order they were loaded.
 *
 * Counters of the "small iptables" are per rule and per built-in chain's
 * policy: packets and bytes, counted per packet in filter and for the
 * first packet of each connection in nat (as iptables does).
 */
#ifndef _UAPI_LINUX_VIPLB_H
#define _UAPI_LINUX_VIPLB_H

#include <linux/types.h>

#define VIPLB_GENL_NAME "viplb"
#define VIPLB_GENL_VERSION 1

#define VIPLB_TABLE_SIZE_MIN 251
#define VIPLB_TABLE_SIZE_MAX 131071
/* The size "table-size" suggests; a service without one is automatic. */
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
	VIPLB_CMD_RULES_TABLE,
	VIPLB_CMD_RULES_CHAIN,
	VIPLB_CMD_RULES_RULE,
	VIPLB_CMD_RULES_GET,
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
	VIPLB_A_TXN_SCOPE,
	VIPLB_A_RULES,
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
	VIPLB_SVC_A_TABLE_AUTO,
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

/* What a transaction replaces (VIPLB_A_TXN_SCOPE). */
enum viplb_txn_scope {
	VIPLB_TXN_SERVICES = 1U << 0,
	VIPLB_TXN_RULES = 1U << 1,
	__VIPLB_TXN_SCOPE_ALL = VIPLB_TXN_SERVICES | VIPLB_TXN_RULES
};

#define VIPLB_CHAIN_NAME_MAX 29		/* with the NUL, as iptables */
#define VIPLB_COMMENT_MAX 256		/* with the NUL, as xt_comment */
#define VIPLB_IFNAME_MAX 16		/* IFNAMSIZ */
#define VIPLB_MPORTS_MAX 15		/* as xt_multiport */
#define VIPLB_RULES_MAX 200000		/* rules per table */
#define VIPLB_CHAINS_MAX 20000		/* chains per table */
#define VIPLB_JUMP_DEPTH_MAX 16		/* nested jumps from a built-in chain */
#define VIPLB_MATCH_ORDER_MAX 16	/* bytes of VIPLB_RULES_A_MATCH_ORDER */

enum viplb_rules_attr {
	VIPLB_RULES_A_UNSPEC,
	VIPLB_RULES_A_PAD,
	VIPLB_RULES_A_AF,
	VIPLB_RULES_A_TABLE,
	VIPLB_RULES_A_GEN,
	VIPLB_RULES_A_CHAIN,
	VIPLB_RULES_A_POLICY,
	VIPLB_RULES_A_SPEC,
	VIPLB_RULES_A_TARGET,
	VIPLB_RULES_A_COMMENT,
	VIPLB_RULES_A_HANDLE,
	VIPLB_RULES_A_PKTS,
	VIPLB_RULES_A_BYTES,
	VIPLB_RULES_A_REFS,
	VIPLB_RULES_A_MATCH_ORDER,
	__VIPLB_RULES_A_MAX
};
#define VIPLB_RULES_A_MAX (__VIPLB_RULES_A_MAX - 1)

enum viplb_rtable {
	VIPLB_RTABLE_FILTER,
	VIPLB_RTABLE_NAT,
	__VIPLB_RTABLE_MAX
};
#define VIPLB_RTABLE_MAX (__VIPLB_RTABLE_MAX - 1)

/* Built-in chains, numbered as the netfilter hooks (NF_INET_*). */
enum viplb_hook {
	VIPLB_HOOK_PREROUTING,
	VIPLB_HOOK_INPUT,
	VIPLB_HOOK_FORWARD,
	VIPLB_HOOK_OUTPUT,
	VIPLB_HOOK_POSTROUTING,
	__VIPLB_HOOK_MAX
};

/* Matches of a rule (viplb_rule_spec.match, and .invert for "!"). */
enum viplb_rule_match {
	VIPLB_M_PROTO = 1U << 0,	/* -p */
	VIPLB_M_SRC = 1U << 1,		/* -s */
	VIPLB_M_DST = 1U << 2,		/* -d */
	VIPLB_M_IIF = 1U << 3,		/* -i */
	VIPLB_M_OIF = 1U << 4,		/* -o */
	VIPLB_M_SPORT = 1U << 5,	/* --sport (tcp, udp) */
	VIPLB_M_DPORT = 1U << 6,	/* --dport (tcp, udp) */
	VIPLB_M_MPORTS = 1U << 7,	/* -m multiport */
	VIPLB_M_SYN = 1U << 8,		/* --syn: SYN set, ACK RST FIN clear */
	VIPLB_M_CTSTATE = 1U << 9,	/* -m conntrack --ctstate, -m state */
	VIPLB_M_MARK = 1U << 10,	/* -m mark */
	VIPLB_M_STATISTIC = 1U << 11,	/* -m statistic */
	VIPLB_M_CONNTRACK = 1U << 12,	/* -m conntrack beyond --ctstate */
	VIPLB_M_TCP_FLAGS = 1U << 13,	/* --tcp-flags other than --syn's */
	__VIPLB_M_ALL = (1U << 14) - 1
};

/* viplb_rule_spec.mport_flags: which port -m multiport compares. */
enum viplb_mport_flags {
	VIPLB_MPORT_SRC = 1U << 0,	/* --sports */
	VIPLB_MPORT_DST = 1U << 1,	/* --dports */
	/* both: --ports, either port matches */
};

/* viplb_rule_spec.ctstate bits. */
enum viplb_ctstate {
	VIPLB_CTSTATE_INVALID = 1U << 0,
	VIPLB_CTSTATE_NEW = 1U << 1,
	VIPLB_CTSTATE_ESTABLISHED = 1U << 2,
	VIPLB_CTSTATE_RELATED = 1U << 3,
	VIPLB_CTSTATE_UNTRACKED = 1U << 4,
	VIPLB_CTSTATE_SNAT = 1U << 5,	/* the entry's source is translated */
	VIPLB_CTSTATE_DNAT = 1U << 6,	/* its destination is */
	__VIPLB_CTSTATE_ALL = (1U << 7) - 1
};

/*
 * The options of -m conntrack other than --ctstate (VIPLB_M_CONNTRACK):
 * viplb_rule_spec.ct_match, and .ct_invert for "!".  As xt_conntrack, a
 * packet without a conntrack entry matches them only when the rule also
 * has VIPLB_M_CTSTATE (and its state matched).  VIPLB_CT_DIR matches the
 * original direction, and inverted the reply direction (--ctdir REPLY).
 */
enum viplb_ct_match {
	VIPLB_CT_PROTO = 1U << 0,	/* --ctproto: ct_proto */
	VIPLB_CT_ORIGSRC = 1U << 1,	/* ct_addr[VIPLB_CT_ORIG_SRC] ... */
	VIPLB_CT_ORIGDST = 1U << 2,
	VIPLB_CT_REPLSRC = 1U << 3,
	VIPLB_CT_REPLDST = 1U << 4,
	VIPLB_CT_ORIGSRC_PORT = 1U << 5, /* ct_port[VIPLB_CT_ORIG_SRC] ... */
	VIPLB_CT_ORIGDST_PORT = 1U << 6,
	VIPLB_CT_REPLSRC_PORT = 1U << 7,
	VIPLB_CT_REPLDST_PORT = 1U << 8,
	VIPLB_CT_STATUS = 1U << 9,	/* --ctstatus: ct_status */
	VIPLB_CT_EXPIRE = 1U << 10,	/* --ctexpire: ct_expire */
	VIPLB_CT_DIR = 1U << 11,	/* --ctdir */
	__VIPLB_CT_ALL = (1U << 12) - 1
};

/*
 * Index of ct_addr, ct_mask and ct_port; the bits above are 1 << (1 + i)
 * for addresses and 1 << (5 + i) for ports.
 */
enum viplb_ct_tuple {
	VIPLB_CT_ORIG_SRC,
	VIPLB_CT_ORIG_DST,
	VIPLB_CT_REPL_SRC,
	VIPLB_CT_REPL_DST,
	VIPLB_CT_TUPLES
};

/* viplb_rule_spec.ct_status bits (the kernel's IPS_*); 0 is NONE. */
enum viplb_ctstatus {
	VIPLB_CTSTATUS_EXPECTED = 1U << 0,
	VIPLB_CTSTATUS_SEEN_REPLY = 1U << 1,
	VIPLB_CTSTATUS_ASSURED = 1U << 2,
	VIPLB_CTSTATUS_CONFIRMED = 1U << 3,
	__VIPLB_CTSTATUS_ALL = (1U << 4) - 1
};

enum viplb_stat_mode {
	VIPLB_STAT_RANDOM = 1,
	VIPLB_STAT_NTH,
};

/* What a rule does when it matches (viplb_rule_spec.verdict). */
enum viplb_verdict {
	VIPLB_V_NONE,		/* no target: count and go on */
	VIPLB_V_ACCEPT,
	VIPLB_V_DROP,
	VIPLB_V_RETURN,
	VIPLB_V_JUMP,		/* to VIPLB_RULES_A_TARGET, then come back */
	VIPLB_V_GOTO,		/* to VIPLB_RULES_A_TARGET, no coming back */
	VIPLB_V_REJECT,		/* reject_with */
	VIPLB_V_DNAT,		/* nat range */
	VIPLB_V_SNAT,		/* nat range */
	VIPLB_V_MASQUERADE,	/* nat ports only */
	VIPLB_V_REDIRECT,	/* nat ports only */
	VIPLB_V_MARK,		/* mark = (mark & ~set_mark_mask) ^ set_mark */
	__VIPLB_V_MAX
};
#define VIPLB_V_MAX (__VIPLB_V_MAX - 1)

enum viplb_reject {
	VIPLB_REJECT_PORT_UNREACH,	/* icmp(6) port unreachable */
	VIPLB_REJECT_HOST_UNREACH,	/* icmp host / icmp6 address unr. */
	VIPLB_REJECT_ADMIN_PROHIBITED,	/* icmp admin / icmp6 adm prohib. */
	VIPLB_REJECT_NET_UNREACH,	/* icmp net / icmp6 no route */
	VIPLB_REJECT_TCP_RESET,		/* tcp only */
	VIPLB_REJECT_PROTO_UNREACH,	/* IPv4 only: icmp protocol unr. */
	VIPLB_REJECT_NET_PROHIBITED,	/* IPv4 only: icmp net prohibited */
	VIPLB_REJECT_HOST_PROHIBITED,	/* IPv4 only: icmp host prohibited */
	VIPLB_REJECT_POLICY_FAIL,	/* IPv6 only: icmp6 policy fail */
	VIPLB_REJECT_REJECT_ROUTE,	/* IPv6 only: icmp6 reject route */
	__VIPLB_REJECT_MAX
};
#define VIPLB_REJECT_MAX (__VIPLB_REJECT_MAX - 1)

enum viplb_nat_flags {
	VIPLB_NAT_F_ADDR = 1U << 0,	/* nat_min..nat_max given */
	VIPLB_NAT_F_PORTS = 1U << 1,	/* nat_port_min..nat_port_max given */
	VIPLB_NAT_F_RANDOM = 1U << 2,	/* --random */
	VIPLB_NAT_F_RANDOM_FULLY = 1U << 3, /* --random-fully */
	VIPLB_NAT_F_PERSISTENT = 1U << 4, /* --persistent */
	/* DNAT "P-Q/B": port B maps to P, B + 1 to P + 1... (nat_port_base) */
	VIPLB_NAT_F_PORT_OFFSET = 1U << 5,
	__VIPLB_NAT_F_ALL = (1U << 6) - 1
};

/*
 * One rule: its matches and its target, sent whole as
 * VIPLB_RULES_A_SPEC.  Fields of absent matches must be zero.  Addresses
 * are in network byte order (IPv4 in the first word); ports, marks and
 * the rest in host order.  Interface names may end in '+', which matches
 * every name with that prefix.
 */
struct viplb_rule_spec {
	__u32 match;			/* enum viplb_rule_match */
	__u32 invert;			/* matches negated with "!" */
	__be32 src[4];
	__be32 src_mask[4];
	__be32 dst[4];
	__be32 dst_mask[4];
	char iif[VIPLB_IFNAME_MAX];
	char oif[VIPLB_IFNAME_MAX];
	__u16 sport[2];			/* inclusive range */
	__u16 dport[2];
	__u16 mports[VIPLB_MPORTS_MAX][2]; /* inclusive ranges */
	__u8 n_mports;
	__u8 mport_flags;		/* enum viplb_mport_flags */
	__u8 proto;			/* IPPROTO_*, 0 means all */
	__u8 ctstate;			/* enum viplb_ctstate */
	__u32 mark;			/* (skb mark & mark_mask) == mark */
	__u32 mark_mask;
	__u32 stat_mode;		/* enum viplb_stat_mode */
	__u32 stat_prob;		/* random: (rand & 0x7fffffff) < prob */
	__u32 stat_every;		/* nth: 1.. */
	__u32 stat_packet;		/* nth: 0..every-1, as xt_statistic */
	__u32 verdict;			/* enum viplb_verdict */
	__u32 reject_with;		/* enum viplb_reject */
	__u32 nat_flags;		/* enum viplb_nat_flags */
	__be32 nat_min[4];		/* DNAT/SNAT address range */
	__be32 nat_max[4];
	__u16 nat_port_min;		/* port range */
	__u16 nat_port_max;
	__u32 set_mark;			/* MARK */
	__u32 set_mark_mask;
	/* -m conntrack besides --ctstate (VIPLB_M_CONNTRACK) */
	__u16 ct_match;			/* enum viplb_ct_match */
	__u16 ct_invert;		/* of those, negated with "!" */
	__u8 ct_proto;			/* IPPROTO_*, not 0 */
	__u8 ct_status;			/* enum viplb_ctstatus */
	__u16 ct_pad;			/* zero */
	__u32 ct_expire[2];		/* seconds left, inclusive range */
	__be32 ct_addr[VIPLB_CT_TUPLES][4];
	__be32 ct_mask[VIPLB_CT_TUPLES][4];
	__u16 ct_port[VIPLB_CT_TUPLES][2]; /* inclusive ranges */
	__u16 nat_port_base;		/* VIPLB_NAT_F_PORT_OFFSET: 1.. */
	__u8 tcp_flags_mask;		/* (flags & mask) == cmp, as xt_tcp */
	__u8 tcp_flags_cmp;
};

#endif /* _UAPI_LINUX_VIPLB_H */
