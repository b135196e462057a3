/* SPDX-License-Identifier: GPL-2.0 */
/*
 * viplb: the maps of the XDP fast path, shared verbatim by the XDP program
 * (bpf/viplb.bpf.c) and the user tools (user/xdp/).  Keys and values are
 * declared here only, never again elsewhere.
 *
 * Maps (all pinned by name under the netns's directory of /sys/fs/bpf/viplb/):
 *
 *   vip_gen   ARRAY_OF_MAPS, one element: the current generation's vips
 *   vips      HASH  struct viplb_xdp_vip_key -> struct viplb_xdp_service
 *             (inner map of vip_gen; not pinned, it changes)
 *             A packet's (af, proto, daddr, dport) is looked up first, then
 *             (af, proto, daddr, 0): a service of port 0 takes every port.
 *             A restore writes a new generation aside (a new vips, its
 *             services under ids the current one does not use, and their
 *             rings in a new pool; new backends under free ids) and swaps it into
 *             vip_gen with one update, so the program sees the whole old
 *             configuration or the whole new one.
 *   svcs      ARRAY  service id -> struct viplb_xdp_svc_ref: each service
 *             of vips (both generations during a restore) with its key,
 *             so that a packet of a pinned flow finds its service from
 *             its backend's svc_id without the vips lookup (written with
 *             the vips entry, cleared before it goes; optional: a set of
 *             maps pinned by an older viplb has none, and the program
 *             then looks every packet up in vips)
 *   pools     ARRAY_OF_MAPS, two elements: the slot pool, an inner
 *             ARRAY of struct viplb_xdp_slots that holds every service's
 *             ring at the offset its struct viplb_xdp_service.ring names
 *             (with the pool's index; the other element is empty but
 *             while user space moves the rings into a new pool: a restore,
 *             or a pool that is full).  A ring is the Maglev table, M
 *             slots of a byte (__u16 for 255 backends or more), each an
 *             index into the service's list of backend ids that follows
 *             it (all ones: none);
 *             for rr and wrr instead a weighted round-robin sequence of
 *             M indexes (its length, at most VIPLB_TABLE_SIZE_MAX), each
 *             backend as often as its weight.  User space writes a
 *             changed ring into a free range and then the service entry
 *             that names it, so the program never sees a half-written
 *             ring, nor a ring with another ring's M; the old range is
 *             left alone until the next command.
 *   backends ARRAY  backend id -> struct viplb_xdp_backend
 *   flows     LRU_HASH, one LRU for all CPUs, sized by user space
 *             (xdp_flows_map_size() in user/xdp/maps.c)
 *             struct viplb_flow_tuple -> struct viplb_xdp_flow
 *   svc_stats PERCPU_ARRAY  service id -> struct viplb_xdp_counters
 *   be_stats  PERCPU_ARRAY  backend id -> struct viplb_xdp_counters
 *   stats     PERCPU_ARRAY  0 -> struct viplb_xdp_stats
 *   config    ARRAY  0 -> struct viplb_xdp_config
 *   tx_ports  DEVMAP_HASH  ifindex -> ifindex: devices XDP_REDIRECT may use
 *   vlans     HASH  ifindex -> struct viplb_xdp_vlan: the netns's VLAN
 *             devices, so that a route through one is sent tagged on the
 *             device below it (filled by user space from rtnetlink)
 *   rr_next   PERCPU_ARRAY  service id -> __u32: for rr and wrr, the next
 *             slot of the ring on this CPU (the program's alone)
 *   nh_cache  PERCPU_ARRAY  backend id -> struct viplb_xdp_nh: the route to
 *             the backend, cached (the program's alone; not pinned)
 *   hc_probes LRU_HASH  struct viplb_xdp_hc_key -> struct viplb_xdp_hc_probe:
 *             viplbd's tcp checks in flight that it sent outside the
 *             stack.  The program takes a reply that answers one exactly
 *             (addresses, ports and acknowledgement): a SYN-ACK becomes
 *             the reset the kernel would have sent, back out with
 *             XDP_TX, a reset is dropped, and either goes to hc_results
 *             with the entry deleted.  Anything else goes on as before.
 *             (Optional, as svcs: an older viplb's set of maps has none.)
 *   hc_results RINGBUF of struct viplb_xdp_hc_result, read by viplbd
 *
 * Only <linux/types.h> is used, so the BPF program can include this.
 */
#ifndef _VIPLB_XDP_H
#define _VIPLB_XDP_H

#include <linux/types.h>

/* Services of one configuration: the size of vips. */
#define VIPLB_XDP_VIPS_MAX	16384
/*
 * Sizes of the maps indexed by id.  Twice as many service ids as
 * services, so that a restore's two generations always have ids.
 */
#define VIPLB_XDP_MAX_SERVICES	(2 * VIPLB_XDP_VIPS_MAX)
/*
 * Backend ids: 10,000 services of 10 backends fit, with room for the
 * new backends of a restore that changes a third of them.
 */
#define VIPLB_XDP_MAX_BACKENDS	131072
/* Size of hc_probes: checks in flight, 5,000 a second for 1 s and more. */
#define VIPLB_XDP_HC_PROBES	65536
/* Size of hc_results in bytes (a power of 2, a multiple of the page). */
#define VIPLB_XDP_HC_RESULTS	(1 << 18)
/* Size of the vlans map. */
#define VIPLB_XDP_MAX_VLANS	4096
/* Default number of flows the flows map holds ("viplb xdp attach ... flows N"). */
#define VIPLB_XDP_FLOWS_DEFAULT	131072

/**
 * struct viplb_xdp_vip_key - key of the vips map
 * @addr: the VIP; IPv4 in addr[0], addr[1..3] zero
 * @port: destination port, 0 for a service of every port
 * @proto: IPPROTO_TCP or IPPROTO_UDP
 * @af: VIPLB_FLOW_AF_INET or VIPLB_FLOW_AF_INET6
 */
struct viplb_xdp_vip_key {
	__be32 addr[4];
	__be16 port;
	__u8 proto;
	__u8 af;
};

/**
 * struct viplb_xdp_service - value of the vips map: one service
 * @id: index into svcs, svc_stats and rr_next
 * @mode: enum viplb_mode; nat-mode packets are passed to the stack
 * @sched: enum viplb_sched; XDP serves maglev, sh, rr and wrr, passes lc
 * @table_size: Maglev table size M, as configured, 0 if automatic (for
 *	"viplb show"; the program takes M from @ring, which changes with it)
 * @flags: enum viplb_svc_flags, kept for "viplb show"
 * @ring_backends: backends in the ring's list of ids (user space's alone)
 * @ring: where the ring is, read by the program in one load: pool
 *	VIPLB_XDP_RING_POOL(), element VIPLB_XDP_RING_OFF() of it,
 *	VIPLB_XDP_RING_M() slots (0: no ring), of __u16 if
 *	VIPLB_XDP_RING_WIDE(), else of __u8; see struct viplb_xdp_slots
 */
struct viplb_xdp_service {
	__u32 id;
	__u32 mode;
	__u32 sched;
	__u32 table_size;
	__u32 flags;
	__u32 ring_backends;
	__u64 ring;
};

#define VIPLB_XDP_RING(pool, off, m, wide) \
	((__u64)(wide) << 63 | (__u64)(m) << 32 | (__u64)(pool) << 31 | (off))
#define VIPLB_XDP_RING_WIDE(r)	((__u32)((r) >> 63))
#define VIPLB_XDP_RING_M(r)	((__u32)((r) >> 32) & 0x7fffffffU)
#define VIPLB_XDP_RING_POOL(r)	((__u32)((r) >> 31) & 1)
#define VIPLB_XDP_RING_OFF(r)	((__u32)(r) & 0x7fffffffU)
/* Elements of a pool, at most. */
#define VIPLB_XDP_POOL_MAX	0x80000000U

/**
 * struct viplb_xdp_svc_ref - value of the svcs map: a service by its id
 * @key: its key in vips; @key.af 0: no service has the id
 * @svc: its entry in vips (@svc.id the id)
 */
struct viplb_xdp_svc_ref {
	struct viplb_xdp_vip_key key;
	struct viplb_xdp_service svc;
};

/* Values of struct viplb_xdp_backend.state. */
enum viplb_xdp_be_state {
	VIPLB_XDP_BE_FREE,	/* unused id */
	VIPLB_XDP_BE_LIVE,	/* a backend of service svc_id */
	VIPLB_XDP_BE_RETIRED,	/* deleted; its pinned flows still go there */
};

/*
 * An element of the slot pool: eight ring slots of a byte, four of a
 * __u16, or two backend ids.  A ring of M slots at element off: slot s is
 * .slot8[s % 8] of element off + s / 8 (wide: .slot[s % 4] of element
 * off + s / 4), an index i into the ring's backends, whose id is
 * .id[i % 2] of element off + VIPLB_XDP_SLOT_ELEMS(M, wide) + i / 2.
 * Array elements take 8 bytes at least: a slot per element would take
 * eight times the memory.
 */
struct viplb_xdp_slots {
	union {
		__u8 slot8[8];
		__u16 slot[4];
		__u32 id[2];
	};
};

/* A slot of no backend. */
#define VIPLB_XDP_SLOT8_NONE	0xffU
#define VIPLB_XDP_SLOT_NONE	0xffffU
/* Whether the slots of a ring of @n backends are __u16 (else bytes). */
#define VIPLB_XDP_SLOTS_WIDE(n)	((n) >= VIPLB_XDP_SLOT8_NONE)
/* Elements of the M slots of a ring. */
#define VIPLB_XDP_SLOT_ELEMS(m, wide) ((wide) ? ((m) + 3) / 4 : ((m) + 7) / 8)
/* Elements of a ring of @m slots and @n backends. */
#define VIPLB_XDP_RING_ELEMS(m, n) \
	(VIPLB_XDP_SLOT_ELEMS(m, VIPLB_XDP_SLOTS_WIDE(n)) + ((n) + 1) / 2)

/**
 * struct viplb_xdp_backend - value of the backends map
 * @addr: address; IPv4 in addr[0], addr[1..3] zero
 * @port: port, as configured (dr and tun do not rewrite ports)
 * @af: VIPLB_FLOW_AF_INET or VIPLB_FLOW_AF_INET6
 * @state: enum viplb_xdp_be_state
 * @weight: weight; 0 drains: no new flow is pinned to it
 * @svc_id: the service it belongs (or belonged) to
 * @gen: bumped whenever the id is given to another backend, so that a
 *	flow pinned to the old one is not sent to the new one
 */
struct viplb_xdp_backend {
	__be32 addr[4];
	__be16 port;
	__u8 af;
	__u8 state;
	__u32 weight;
	__u32 svc_id;
	__u32 gen;
};

/**
 * struct viplb_xdp_flow - value of the flows map: where a flow is pinned
 * @backend: backend id
 * @gen: the backend's @gen when the flow was pinned
 */
struct viplb_xdp_flow {
	__u32 backend;
	__u32 gen;
};

/**
 * struct viplb_xdp_counters - per-CPU counters of a service or backend
 * @packets: packets forwarded
 * @bytes: their bytes, as received (before encapsulation)
 * @flows: flows pinned (new entries of the flows map)
 */
struct viplb_xdp_counters {
	__u64 packets;
	__u64 bytes;
	__u64 flows;
};

/* Global counters: indexes into struct viplb_xdp_stats.c. */
enum viplb_xdp_stat {
	/* The XDP action returned, indexed by its value. */
	VIPLB_XDP_ST_ABORTED,
	VIPLB_XDP_ST_DROP,
	VIPLB_XDP_ST_PASS,
	VIPLB_XDP_ST_TX,
	VIPLB_XDP_ST_REDIRECT,
	/* Flow table. */
	VIPLB_XDP_ST_LRU_HIT,
	VIPLB_XDP_ST_LRU_MISS,
	/* Why a packet was passed to the stack. */
	VIPLB_XDP_ST_NOT_IP,		/* ARP, ND's ethertype, others */
	VIPLB_XDP_ST_NOT_L4,		/* not TCP/UDP, IPv6 ext. headers */
	VIPLB_XDP_ST_FRAGMENT,		/* IPv4 fragment */
	VIPLB_XDP_ST_IP_OPTIONS,	/* IPv4 header with options */
	VIPLB_XDP_ST_NOT_VIP,		/* no service */
	VIPLB_XDP_ST_NAT_MODE,		/* the module serves nat mode */
	VIPLB_XDP_ST_SCHED,		/* lc: the module's job */
	VIPLB_XDP_ST_NO_BACKEND,	/* empty ring, or all drained */
	VIPLB_XDP_ST_TTL,		/* TTL or hop limit would expire */
	/* bpf_fib_lookup() failed, by its reason. */
	VIPLB_XDP_ST_FIB_NO_NEIGH,	/* next hop not in the neighbour table */
	/* Of those, sent by viplb_tc through the stack's neighbour code. */
	VIPLB_XDP_ST_REDIRECT_NEIGH,
	VIPLB_XDP_ST_FIB_FWD_DISABLED,	/* forwarding off on lo (asked from) */
	VIPLB_XDP_ST_FIB_UNREACHABLE,	/* no unicast route, or an lwt one */
	VIPLB_XDP_ST_FRAG_NEEDED,	/* larger than the egress MTU */
	VIPLB_XDP_ST_DR_GATEWAY,	/* dr to a backend that is not on-link */
	VIPLB_XDP_ST_NO_TUN_SRC,	/* tun without an outer source address */
	VIPLB_XDP_ST_NO_TX_PORT,	/* egress device not in tx_ports */
	VIPLB_XDP_ST_VLAN,		/* egress a VLAN on a device not in tx_ports */
	VIPLB_XDP_ST_ERROR,		/* headroom, malformed, map trouble */
	/* bpf_fib_lookup() calls: next-hop cache refreshes and misses. */
	VIPLB_XDP_ST_FIB_LOOKUP,
	__VIPLB_XDP_ST_MAX
};
#define VIPLB_XDP_ST_MAX (__VIPLB_XDP_ST_MAX - 1)

struct viplb_xdp_stats {
	__u64 c[__VIPLB_XDP_ST_MAX];
};

/**
 * struct viplb_xdp_vlan - value of the vlans map: a VLAN device
 * @lower: ifindex of the device it sits on
 * @proto: protocol of its tag, ETH_P_8021Q or ETH_P_8021AD, network order
 * @vid: its VLAN id
 */
struct viplb_xdp_vlan {
	__u32 lower;
	__be16 proto;
	__u16 vid;
};

/**
 * struct viplb_xdp_config - value of the config map
 * @tun_src4: outer source address of IPIP packets (0: tun passes)
 * @tun_src6: outer source address of IP6IP6 packets (::: tun passes)
 */
struct viplb_xdp_config {
	__be32 tun_src4;
	__be32 tun_src6[4];
};

/*
 * The next-hop cache: a route to a backend found by bpf_fib_lookup() is
 * used, without looking it up again, for VIPLB_XDP_NH_JIFFIES jiffies
 * at most (2: 8 ms at HZ=250, 20 ms at HZ=100), on the CPU that found it.
 * Only a route with a valid neighbour entry is cached (and for dr only
 * an on-link one); any other result is looked up for every packet.
 */
#define VIPLB_XDP_NH_JIFFIES	2

/**
 * struct viplb_xdp_nh - value of the nh_cache map: a backend's route
 * @expires: bpf_jiffies64() from which it is stale; 0: empty
 * @gen: the backend's @gen it was found for
 * @ifindex: the route's device
 * @mtu: the route's MTU (bpf_fib_lookup()'s 16 bits), checked against
 *	every packet's length
 * @mode: the service's mode it was found for (dr and tun ask differently)
 * @dmac: the next hop's MAC address
 * @smac: the device's MAC address (right after @dmac: one copy)
 *
 * 32 bytes: one per backend id and CPU.
 */
struct viplb_xdp_nh {
	__u64 expires;
	__u32 gen;
	__u32 ifindex;
	__u16 mtu;
	__u8 mode;
	__u8 pad;
	__u8 dmac[6];
	__u8 smac[6];
};

/*
 * A packet whose next hop has no valid neighbour entry: the XDP program
 * finishes it but for its MACs (dr: the TTL; tun: the outer header),
 * removes any VLAN tag, puts this record in front of it as XDP metadata
 * and passes it.  The TC program on the same device's ingress (viplb_tc)
 * hands it to bpf_redirect_neigh(), which resolves the next hop, queueing
 * the packet meanwhile, and sends it.
 */
#define VIPLB_XDP_NEIGH_MAGIC	0x6e656967U	/* "neig" */

/**
 * struct viplb_xdp_neigh_meta - XDP metadata of a packet left to resolve
 * @magic: VIPLB_XDP_NEIGH_MAGIC; viplb_tc zeroes it once read
 * @ifindex: the route's egress device (a VLAN device tags the packet)
 * @family: the next hop's, AF_INET or AF_INET6 (an IPv4 route may have
 *	an IPv6 gateway)
 * @nh: the next hop's address; IPv4 in nh[0]
 *
 * 28 bytes: XDP metadata is at most 32, in multiples of 4.
 */
struct viplb_xdp_neigh_meta {
	__u32 magic;
	__u32 ifindex;
	__u32 family;
	__be32 nh[4];
};

/*
 * Lookup probes.  A packet that carries a struct viplb_xdp_probe with
 * @magic VIPLB_XDP_PROBE_MAGIC as XDP metadata (only BPF_PROG_TEST_RUN can
 * put metadata in front of a received packet) is looked up exactly like a
 * real one, but changes nothing: no flow is pinned and nothing is counted.
 * The program writes its decision into the probe and returns XDP_PASS.
 */
#define VIPLB_XDP_PROBE_MAGIC	0x70726f62U	/* "prob" */

enum viplb_xdp_probe_result {
	VIPLB_XDP_PROBE_NONE,		/* not looked up: not a TCP/UDP packet */
	VIPLB_XDP_PROBE_NOT_VIP,	/* no service */
	VIPLB_XDP_PROBE_PASSED,		/* service found, left to the module */
	VIPLB_XDP_PROBE_NO_BACKEND,	/* service found, no backend */
	VIPLB_XDP_PROBE_BACKEND,	/* @backend chosen */
};

/**
 * struct viplb_xdp_probe - XDP metadata of a lookup probe
 * @magic: VIPLB_XDP_PROBE_MAGIC
 * @result: enum viplb_xdp_probe_result, set by the program
 * @backend: backend id, for VIPLB_XDP_PROBE_BACKEND
 * @pin: enum viplb_pin: VIPLB_PIN_FLOW for a flows map hit, else NONE
 * @svc_id: the service's id, if one was found
 * @stat: the enum viplb_xdp_stat of a passed packet
 */
struct viplb_xdp_probe {
	__u32 magic;
	__u32 result;
	__u32 backend;
	__u32 pin;
	__u32 svc_id;
	__u32 stat;
};

/**
 * struct viplb_xdp_hc_key - a tcp check in flight, as its reply is seen
 * @backend: the reply's source address, the backend's (IPv4)
 * @local: its destination, the address the check left from
 * @backend_port: its source port, the checked port
 * @local_port: its destination port, the check's source port
 *
 * All in network order.
 */
struct viplb_xdp_hc_key {
	__be32 backend;
	__be32 local;
	__be16 backend_port;
	__be16 local_port;
};

/**
 * struct viplb_xdp_hc_probe - what the reply must acknowledge
 * @ack: the check's initial sequence number + 1, network order
 * @pad: zero
 * @sent_ns: bpf_ktime_get_ns() time the check was sent (CLOCK_MONOTONIC)
 */
struct viplb_xdp_hc_probe {
	__be32 ack;
	__u32 pad;
	__u64 sent_ns;
};

enum viplb_xdp_hc_reply {
	VIPLB_XDP_HC_SYNACK = 1,	/* listening: reset at XDP */
	VIPLB_XDP_HC_RST,		/* refused */
};

/**
 * struct viplb_xdp_hc_result - a record of hc_results
 * @key: the check
 * @reply: enum viplb_xdp_hc_reply
 * @ack: the acknowledgement it matched (network order): a late reply to
 *	an earlier check on the same ports is not the current one's
 * @rtt_ns: from @sent_ns of its entry to the reply's arrival
 */
struct viplb_xdp_hc_result {
	struct viplb_xdp_hc_key key;
	__u32 reply;
	__be32 ack;
	__u64 rtt_ns;
};

#endif /* _VIPLB_XDP_H */
