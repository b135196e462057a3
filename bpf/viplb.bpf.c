// SPDX-License-Identifier: GPL-2.0
/*
 * viplb XDP fast path.  It serves the module's dr and tun services at the
 * driver hook and picks, for every flow, the backend the module picks:
 * the same flow hash (include/viplb/hash.h) indexes the same Maglev table
 * (include/viplb/maglev.h, built in user space over the backends sorted
 * as the module sorts them).
 *
 * For each packet:
 *   1. parse Ethernet [802.1Q] IPv4|IPv6 TCP|UDP        (parsing.h)
 *   2. a pinned flow (the flows map, LRU) of an exact-port dr or tun
 *      service: its backend names the service (svcs): go to 5
 *   3. else look up the service by (af, proto, VIP, port), then port 0
 *   4. nat mode, or lc (it needs every CPU's connection counts): pass,
 *      the module serves it; then the flow found in 2, if any; on a
 *      miss the service's ring, indexed by the
 *      flow hash (maglev), the source hash (sh), or this CPU's next slot
 *      (rr, wrr: the ring is a weighted round-robin sequence); the new
 *      flow is pinned unless its backend is draining (weight 0)
 *   5. the route to the backend (next hop, egress device, MACs, MTU):
 *      this CPU's cached one (nh_cache), else bpf_fib_lookup(), cached
 *      for VIPLB_XDP_NH_JIFFIES if it found a valid neighbour
 *   6. dr: decrement the TTL; tun: encapsulate              (encap.h)
 *   7. the VLAN tag the egress wants: none, unless the route's device is
 *      a VLAN device (vlans map) on the device the frame leaves by
 *   8. XDP_TX on the ingress device, else XDP_REDIRECT through tx_ports
 *
 * Whatever XDP cannot finish goes to the stack (XDP_PASS) unchanged, with
 * its reason counted: the module, if loaded, then serves it.  But for a
 * next hop without a valid neighbour entry: the packet is finished but
 * for its MACs and passed with a struct viplb_xdp_neigh_meta in front,
 * and viplb_tc, the TC program on the device's ingress, has the stack's
 * neighbour code resolve the next hop and send it (bpf_redirect_neigh()).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include <linux/viplb.h>
#include <viplb/hash.h>
#include <viplb/maglev.h>
#include <viplb/xdp.h>

#include "csum.h"
#include "encap.h"
#include "health.h"
#include "parsing.h"

/* AF_INET and AF_INET6 for bpf_fib_lookup() (no libc here). */
#define FIB_AF_INET 2
#define FIB_AF_INET6 10
/* The loopback device: ifindex 1 in every netns. */
#define LOOPBACK_IFINDEX 1

char LICENSE[] SEC("license") = "GPL";

/*
 * Whether the kernel lets XDP call bpf_xdp_adjust_meta(): set by the
 * loader (xdp_skel_open()).  Some kernels refuse the helper and with it
 * the whole program; without it, to_neigh() passes packets unchanged, as
 * for a driver without metadata, and the verifier never sees the call.
 */
const volatile bool xdp_meta_ok;

/* The services: the first generation, and the type of every later one. */
struct vips_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VIPLB_XDP_VIPS_MAX);
	__type(key, struct viplb_xdp_vip_key);
	__type(value, struct viplb_xdp_service);
} vips SEC(".maps");

/* The current generation's vips: a restore swaps in a new one whole. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct vips_map);
} vip_gen SEC(".maps") = {
	.values = { [0] = &vips },
};

/* The template of the slot pool; user space sizes each pool. */
struct pool {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct viplb_xdp_slots));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct pool);
} pools SEC(".maps");

/*
 * rr and wrr: each CPU's next slot in the service's ring.  Per CPU, so no
 * atomics: each CPU goes round the ring on its own.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VIPLB_XDP_MAX_SERVICES);
	__type(key, __u32);
	__type(value, __u32);
} rr_next SEC(".maps");

/* The services by id: a pinned flow's service without the vips lookup. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VIPLB_XDP_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct viplb_xdp_svc_ref);
} svcs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VIPLB_XDP_MAX_BACKENDS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct viplb_xdp_backend);
} backends SEC(".maps");

/*
 * One LRU for all CPUs: per-CPU LRUs (BPF_F_NO_COMMON_LRU) would give each
 * CPU max_entries / CPUs entries, evicted even while the others are empty.
 * User space sizes it (xdp_flows_map_size()).
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VIPLB_XDP_FLOWS_DEFAULT);
	__type(key, struct viplb_flow_tuple);
	__type(value, struct viplb_xdp_flow);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VIPLB_XDP_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct viplb_xdp_counters);
} svc_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VIPLB_XDP_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct viplb_xdp_counters);
} be_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct viplb_xdp_stats);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct viplb_xdp_config);
} config SEC(".maps");

/* Per CPU: a refresh writes only this CPU's entry, never half of one. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VIPLB_XDP_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct viplb_xdp_nh);
} nh_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u32);
} tx_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VIPLB_XDP_MAX_VLANS);
	__type(key, __u32);
	__type(value, struct viplb_xdp_vlan);
} vlans SEC(".maps");

/* The decision for one packet. */
struct verdict {
	int action;	/* XDP_* */
	int reason;	/* enum viplb_xdp_stat, for XDP_PASS */
};

static __always_inline struct verdict pass(int reason)
{
	return (struct verdict){ .action = XDP_PASS, .reason = reason };
}

/* The lookup probe in the packet's metadata, if any (see xdp.h). */
static __always_inline struct viplb_xdp_probe *get_probe(struct xdp_md *ctx)
{
	struct viplb_xdp_probe *probe = (void *)(long)ctx->data_meta;

	if ((void *)(probe + 1) > (void *)(long)ctx->data)
		return NULL;
	return probe->magic == VIPLB_XDP_PROBE_MAGIC ? probe : NULL;
}

/*
 * The service of the packet's destination: exact port first, then 0,
 * both in the one generation of vips found once.
 */
static __always_inline struct viplb_xdp_service *
find_service(const struct packet *pkt)
{
	struct viplb_xdp_vip_key key = {
		.port = pkt->tuple.dport,
		.proto = pkt->tuple.proto,
		.af = pkt->af,
	};
	struct viplb_xdp_service *svc;
	__u32 zero = 0;
	void *vips_now;

	vips_now = bpf_map_lookup_elem(&vip_gen, &zero);
	if (!vips_now)
		return NULL;
	__builtin_memcpy(key.addr, pkt->tuple.daddr, sizeof(key.addr));
	svc = bpf_map_lookup_elem(vips_now, &key);
	if (svc)
		return svc;
	key.port = 0;
	return bpf_map_lookup_elem(vips_now, &key);
}

/* Whether the service's ring is a round-robin sequence (rr, wrr). */
static __always_inline bool round_robin(const struct viplb_xdp_service *svc)
{
	return svc->sched == VIPLB_SCHED_RR || svc->sched == VIPLB_SCHED_WRR;
}

/* Whether XDP serves the service (else the module does). */
static __always_inline bool served(const struct viplb_xdp_service *svc)
{
	return (svc->mode == VIPLB_MODE_DR || svc->mode == VIPLB_MODE_TUN) &&
	       (svc->sched == VIPLB_SCHED_MAGLEV ||
		svc->sched == VIPLB_SCHED_SH || round_robin(svc));
}

/*
 * The service of a pinned flow's packet, found from its backend (*@bep),
 * if that service is one XDP serves and has the packet's exact key:
 * then the vips lookup would find it too (a port-0 service might be
 * shadowed by an exact one: those take the vips lookup).  NULL if not.
 */
static __always_inline struct viplb_xdp_service *
pinned_service(const struct packet *pkt, const struct viplb_xdp_flow *flow,
	       struct viplb_xdp_backend **bep)
{
	struct viplb_xdp_svc_ref *ref;
	struct viplb_xdp_backend *be;
	__u32 backend = flow->backend, id;

	be = bpf_map_lookup_elem(&backends, &backend);
	if (!be || be->state == VIPLB_XDP_BE_FREE || be->gen != flow->gen)
		return NULL;
	id = be->svc_id;
	ref = bpf_map_lookup_elem(&svcs, &id);
	if (!ref || ref->svc.id != id || ref->key.af != pkt->af ||
	    ref->key.proto != pkt->tuple.proto ||
	    ref->key.port != pkt->tuple.dport ||
	    ((ref->key.addr[0] ^ pkt->tuple.daddr[0]) |
	     (ref->key.addr[1] ^ pkt->tuple.daddr[1]) |
	     (ref->key.addr[2] ^ pkt->tuple.daddr[2]) |
	     (ref->key.addr[3] ^ pkt->tuple.daddr[3])) ||
	    !served(&ref->svc))
		return NULL;
	*bep = be;
	return &ref->svc;
}

/*
 * The ring slot of a new flow: the flow hash (maglev) or the source hash
 * (sh) modulo M; for rr and wrr, this CPU's next slot, which moves on
 * unless @peek.  @m if there is none.
 */
static __always_inline __u32 ring_slot(const struct viplb_xdp_service *svc,
				       const struct packet *pkt, __u32 m,
				       bool peek)
{
	__u32 id = svc->id, slot, *next;

	if (!round_robin(svc)) {
		if (svc->sched == VIPLB_SCHED_SH)
			return viplb_maglev_slot(viplb_src_hash(&pkt->tuple), m);
		return viplb_maglev_slot(viplb_flow_hash(&pkt->tuple), m);
	}
	next = bpf_map_lookup_elem(&rr_next, &id);
	if (!next)
		return m;
	/* A ring that shrank under the cursor starts again at 0. */
	slot = *next < m ? *next : 0;
	if (!peek)
		*next = slot + 1;
	return slot;
}

/*
 * The backend the service's ring gives the flow; VIPLB_MAGLEV_NONE if
 * none.  Where the ring is and its M are one word of the service entry,
 * read once: user space writes a new ring elsewhere in the pool and then
 * switches the entry to it.  A probe (@peek) does not move a
 * round-robin cursor.
 */
static __always_inline __u32 ring_pick(const struct viplb_xdp_service *svc,
				       const struct packet *pkt, bool peek)
{
	__u64 ring = *(volatile const __u64 *)&svc->ring;
	__u32 m = VIPLB_XDP_RING_M(ring), off = VIPLB_XDP_RING_OFF(ring);
	__u32 pool_idx = VIPLB_XDP_RING_POOL(ring), slot, e, i, ids;
	struct viplb_xdp_slots *el;
	void *pool;

	if (!m)
		return VIPLB_MAGLEV_NONE;
	pool = bpf_map_lookup_elem(&pools, &pool_idx);
	if (!pool)
		return VIPLB_MAGLEV_NONE;
	slot = ring_slot(svc, pkt, m, peek);
	if (slot >= m)
		return VIPLB_MAGLEV_NONE;
	if (VIPLB_XDP_RING_WIDE(ring)) {
		e = off + slot / 4;
		ids = off + VIPLB_XDP_SLOT_ELEMS(m, 1);
	} else {
		e = off + slot / 8;
		ids = off + VIPLB_XDP_SLOT_ELEMS(m, 0);
	}
	el = bpf_map_lookup_elem(pool, &e);
	if (!el)
		return VIPLB_MAGLEV_NONE;
	if (VIPLB_XDP_RING_WIDE(ring))
		i = el->slot[slot & 3];
	else if ((i = el->slot8[slot & 7]) == VIPLB_XDP_SLOT8_NONE)
		i = VIPLB_XDP_SLOT_NONE;
	if (i == VIPLB_XDP_SLOT_NONE)
		return VIPLB_MAGLEV_NONE;
	e = ids + i / 2;
	el = bpf_map_lookup_elem(pool, &e);
	if (!el)
		return VIPLB_MAGLEV_NONE;
	return el->id[i & 1];
}

/* Counts a forwarded packet for its service and backend. */
static __always_inline void count_forward(__u32 svc_id, __u32 backend,
					  __u64 bytes, bool new_flow)
{
	struct viplb_xdp_counters *c;

	c = bpf_map_lookup_elem(&svc_stats, &svc_id);
	if (c) {
		c->packets++;
		c->bytes += bytes;
		c->flows += new_flow;
	}
	c = bpf_map_lookup_elem(&be_stats, &backend);
	if (c) {
		c->packets++;
		c->bytes += bytes;
		c->flows += new_flow;
	}
}

/*
 * Fills the FIB query for the packet's route towards backend @be.
 *
 * The director sends the packet as its own, as the module's dr and tun
 * transmitters do (an output route): the query comes from lo, and the
 * kernel then looks the route up with iif lo and no oif, as it does for
 * a locally originated packet.  BPF_FIB_LOOKUP_OUTPUT would not do: it
 * takes ifindex as the oif, which IPv4 requires the route to leave by,
 * and we do not know the egress yet.  Either way bpf_fib_lookup() wants
 * forwarding enabled on the device of ifindex (6.1 to 6.18): asking from
 * lo needs it on lo alone, which forwards nothing received from the
 * network (IPv4 checks the input device, IPv6 conf/all).
 */
static __always_inline void fib_query(struct bpf_fib_lookup *fib,
				      struct xdp_md *ctx,
				      const struct packet *pkt,
				      const struct viplb_xdp_service *svc,
				      const struct viplb_xdp_backend *be,
				      const struct viplb_xdp_config *cfg)
{
	bool tun = svc->mode == VIPLB_MODE_TUN;

	__builtin_memset(fib, 0, sizeof(*fib));
	fib->ifindex = LOOPBACK_IFINDEX;
	fib->l4_protocol = pkt->tuple.proto;
	fib->sport = pkt->tuple.sport;
	fib->dport = pkt->tuple.dport;
	if (pkt->af == VIPLB_FLOW_AF_INET) {
		struct iphdr *iph = l3_header(ctx, pkt, sizeof(*iph));

		fib->family = FIB_AF_INET;
		fib->tot_len = pkt->ip_len;
		if (iph)
			fib->tos = iph->tos;
		fib->ipv4_src = tun ? cfg->tun_src4 : pkt->tuple.saddr[0];
		fib->ipv4_dst = be->addr[0];
		if (tun) {
			fib->l4_protocol = IPPROTO_IPIP;
			fib->tot_len += sizeof(struct iphdr);
		}
	} else {
		struct ipv6hdr *ip6h = l3_header(ctx, pkt, sizeof(*ip6h));

		fib->family = FIB_AF_INET6;
		fib->tot_len = pkt->ip_len;
		if (ip6h)
			fib->flowinfo = *(__be32 *)ip6h & bpf_htonl(0x0fffffff);
		__builtin_memcpy(fib->ipv6_src,
				 tun ? cfg->tun_src6 : pkt->tuple.saddr,
				 sizeof(fib->ipv6_src));
		__builtin_memcpy(fib->ipv6_dst, be->addr, sizeof(fib->ipv6_dst));
		if (tun) {
			fib->l4_protocol = IPPROTO_IPV6;
			fib->tot_len += sizeof(struct ipv6hdr);
		}
	}
}

/* Whether the packet's TTL (hop limit) allows forwarding it. */
static __always_inline bool ttl_ok(struct xdp_md *ctx, const struct packet *pkt)
{
	struct ipv6hdr *ip6h;
	struct iphdr *iph;

	if (pkt->af == VIPLB_FLOW_AF_INET) {
		iph = l3_header(ctx, pkt, sizeof(*iph));
		return iph && iph->ttl > 1;
	}
	ip6h = l3_header(ctx, pkt, sizeof(*ip6h));
	return ip6h && ip6h->hop_limit > 1;
}

/* Whether the FIB's next hop is the backend itself (it is on-link). */
static __always_inline bool next_hop_is(const struct bpf_fib_lookup *fib,
					__u8 af,
					const struct viplb_xdp_backend *be)
{
	if (af == VIPLB_FLOW_AF_INET)
		return fib->ipv4_dst == be->addr[0];
	return ((fib->ipv6_dst[0] ^ be->addr[0]) |
		(fib->ipv6_dst[1] ^ be->addr[1]) |
		(fib->ipv6_dst[2] ^ be->addr[2]) |
		(fib->ipv6_dst[3] ^ be->addr[3])) == 0;
}

/* Whether a tun source address is configured for the family. */
static __always_inline bool have_tun_src(const struct viplb_xdp_config *cfg,
					 __u8 af)
{
	if (af == VIPLB_FLOW_AF_INET)
		return cfg->tun_src4 != 0;
	return (cfg->tun_src6[0] | cfg->tun_src6[1] | cfg->tun_src6[2] |
		cfg->tun_src6[3]) != 0;
}

/* The counter of a failed bpf_fib_lookup(). */
static __always_inline int fib_failure(int rc)
{
	switch (rc) {
	case BPF_FIB_LKUP_RET_NO_NEIGH:
		return VIPLB_XDP_ST_FIB_NO_NEIGH;
	case BPF_FIB_LKUP_RET_FWD_DISABLED:
		return VIPLB_XDP_ST_FIB_FWD_DISABLED;
	case BPF_FIB_LKUP_RET_FRAG_NEEDED:
		return VIPLB_XDP_ST_FRAG_NEEDED;
	case BPF_FIB_LKUP_RET_BLACKHOLE:
	case BPF_FIB_LKUP_RET_UNREACHABLE:
	case BPF_FIB_LKUP_RET_PROHIBIT:
	case BPF_FIB_LKUP_RET_NOT_FWDED:
	case BPF_FIB_LKUP_RET_UNSUPP_LWT:
		return VIPLB_XDP_ST_FIB_UNREACHABLE;
	}
	return VIPLB_XDP_ST_ERROR; /* < 0: a bad query */
}

/* dr or tun: the IP packet as it is sent, MACs aside.  0 or -1. */
static __always_inline int rewrite(struct xdp_md *ctx,
				   const struct packet *pkt,
				   const struct viplb_xdp_service *svc,
				   const struct viplb_xdp_backend *be,
				   const struct viplb_xdp_config *cfg)
{
	if (svc->mode != VIPLB_MODE_TUN)
		return dr_rewrite(ctx, pkt);
	if (pkt->af == VIPLB_FLOW_AF_INET)
		return encap_ipip(ctx, pkt, cfg->tun_src4, be->addr[0]);
	return encap_ip6ip6(ctx, pkt, cfg->tun_src6, be->addr);
}

static __always_inline struct verdict aborted(void)
{
	return (struct verdict){ .action = XDP_ABORTED,
				 .reason = VIPLB_XDP_ST_ERROR };
}

/*
 * The FIB found the route but no valid neighbour entry for its next hop:
 * the packet is rewritten, any VLAN tag removed (the route's device, a
 * VLAN device or not, tags it as it must), and passed with the route in
 * a struct viplb_xdp_neigh_meta for viplb_tc.  A driver without XDP
 * metadata, or a kernel that refuses the helper (xdp_meta_ok), gets the
 * packet unchanged, as before: the metadata comes first, so that a
 * failure changes nothing.
 */
static __always_inline struct verdict to_neigh(struct xdp_md *ctx,
					       const struct packet *pkt,
					       const struct viplb_xdp_service *svc,
					       const struct viplb_xdp_backend *be,
					       const struct viplb_xdp_config *cfg,
					       const struct bpf_fib_lookup *fib)
{
	bool tagged = pkt->l3_off > sizeof(struct ethhdr);
	struct ethhdr *eth = (void *)(long)ctx->data;
	struct viplb_xdp_neigh_meta *meta;
	unsigned char macs[2 * ETH_ALEN];

	if ((void *)(eth + 1) > (void *)(long)ctx->data_end)
		return pass(VIPLB_XDP_ST_ERROR);
	/* The stack reads them: the destination must stay unicast. */
	__builtin_memcpy(macs, eth, sizeof(macs));
	if (!xdp_meta_ok || bpf_xdp_adjust_meta(ctx, -(int)sizeof(*meta)))
		return pass(VIPLB_XDP_ST_FIB_NO_NEIGH);
	if (rewrite(ctx, pkt, svc, be, cfg) ||
	    vlan_set(ctx, tagged, false, 0, 0))
		return aborted();
	eth = (void *)(long)ctx->data;
	meta = (void *)(long)ctx->data_meta;
	if ((void *)(eth + 1) > (void *)(long)ctx->data_end ||
	    (void *)(meta + 1) > (void *)eth)
		return aborted();
	__builtin_memcpy(eth, macs, sizeof(macs));
	meta->magic = VIPLB_XDP_NEIGH_MAGIC;
	meta->ifindex = fib->ifindex;
	meta->family = fib->family;
	if (fib->family == FIB_AF_INET) {
		meta->nh[0] = fib->ipv4_dst;
		meta->nh[1] = meta->nh[2] = meta->nh[3] = 0;
	} else {
		__builtin_memcpy(meta->nh, fib->ipv6_dst, sizeof(meta->nh));
	}
	return pass(VIPLB_XDP_ST_FIB_NO_NEIGH);
}

/* Whether XDP sends frames on device @ifindex: ingress or a tx port. */
static __always_inline bool sends_on(struct xdp_md *ctx, __u32 ifindex)
{
	return ifindex == ctx->ingress_ifindex ||
	       bpf_map_lookup_elem(&tx_ports, &ifindex);
}

/*
 * The route to backend @be (id @backend) for the packet: this CPU's
 * cached one if it is still fresh and was found for this backend and
 * mode, else bpf_fib_lookup()'s (into @fib), cached if it has a valid
 * neighbour (and for dr is on-link).  Returns the cache entry holding
 * the route, with *@rc BPF_FIB_LKUP_RET_SUCCESS; or NULL, with *@rc the
 * lookup's result (the route, next hop included, in @fib) or -1 if the
 * cache is missing.
 */
static __always_inline struct viplb_xdp_nh *
route(struct xdp_md *ctx, const struct packet *pkt,
      const struct viplb_xdp_service *svc, const struct viplb_xdp_backend *be,
      __u32 backend, const struct viplb_xdp_config *cfg,
      struct bpf_fib_lookup *fib, struct viplb_xdp_stats *st, int *rc)
{
	bool tun = svc->mode == VIPLB_MODE_TUN;
	struct viplb_xdp_nh *nh;
	__u64 now = bpf_jiffies64();

	*rc = -1;
	nh = bpf_map_lookup_elem(&nh_cache, &backend);
	if (!nh)
		return NULL;
	if (now < nh->expires && nh->gen == be->gen && nh->mode == svc->mode) {
		*rc = BPF_FIB_LKUP_RET_SUCCESS;
		return nh;
	}
	fib_query(fib, ctx, pkt, svc, be, cfg);
	*rc = bpf_fib_lookup(ctx, fib, sizeof(*fib), 0);
	if (st)
		st->c[VIPLB_XDP_ST_FIB_LOOKUP]++;
	/* The lookup replaced the destination with the next hop. */
	if (*rc != BPF_FIB_LKUP_RET_SUCCESS ||
	    (!tun && !next_hop_is(fib, pkt->af, be)))
		return NULL;
	/* On success the lookup gives the route's MTU in place of tot_len. */
	nh->expires = now + VIPLB_XDP_NH_JIFFIES;
	nh->gen = be->gen;
	nh->mode = svc->mode;
	nh->ifindex = fib->ifindex;
	nh->mtu = fib->mtu_result;
	__builtin_memcpy(nh->dmac, fib->dmac, ETH_ALEN);
	__builtin_memcpy(nh->smac, fib->smac, ETH_ALEN);
	return nh;
}

/*
 * Sends the packet to backend @be (id @backend): routes, rewrites, and
 * picks the exit.  Nothing in the packet changes before every check has
 * passed, so a packet that is passed reaches the stack as it came.
 */
static __always_inline struct verdict forward(struct xdp_md *ctx,
					      const struct packet *pkt,
					      const struct viplb_xdp_service *svc,
					      const struct viplb_xdp_backend *be,
					      __u32 backend,
					      struct viplb_xdp_stats *st)
{
	bool tun = svc->mode == VIPLB_MODE_TUN;
	bool tagged = pkt->l3_off > sizeof(struct ethhdr), want_tag = false;
	struct viplb_xdp_config *cfg;
	struct viplb_xdp_vlan *vlan;
	struct viplb_xdp_nh *nh;
	struct bpf_fib_lookup fib;
	__u32 zero = 0, egress;
	__be16 tag_proto = 0;
	struct ethhdr *eth;
	__u16 vid = 0;
	int rc;

	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg)
		return pass(VIPLB_XDP_ST_ERROR);
	if (tun && !have_tun_src(cfg, pkt->af))
		return pass(VIPLB_XDP_ST_NO_TUN_SRC);
	if (!ttl_ok(ctx, pkt))
		return pass(VIPLB_XDP_ST_TTL);

	nh = route(ctx, pkt, svc, be, backend, cfg, &fib, st, &rc);
	if (nh) {
		/* The lookup's MTU check, as it would make it. */
		__u32 len = pkt->ip_len;

		if (tun)
			len += pkt->af == VIPLB_FLOW_AF_INET ?
				sizeof(struct iphdr) : sizeof(struct ipv6hdr);
		if (len > nh->mtu)
			return pass(VIPLB_XDP_ST_FRAG_NEEDED);
		egress = nh->ifindex;
	} else {
		/* Without a neighbour the route, next hop included, is known. */
		if (rc != BPF_FIB_LKUP_RET_SUCCESS &&
		    rc != BPF_FIB_LKUP_RET_NO_NEIGH)
			return pass(fib_failure(rc));
		if (!tun && !next_hop_is(&fib, pkt->af, be))
			return pass(VIPLB_XDP_ST_DR_GATEWAY);
		egress = fib.ifindex;
	}
	/*
	 * The route's device: one XDP sends on, untagged; or else a VLAN
	 * device on one XDP sends on, tagged.  A VLAN device user space has
	 * not entered in vlans yet is unknown: passed, not sent untagged.
	 */
	if (!sends_on(ctx, egress)) {
		vlan = bpf_map_lookup_elem(&vlans, &egress);
		if (!vlan)
			return pass(VIPLB_XDP_ST_NO_TX_PORT);
		egress = vlan->lower;
		tag_proto = vlan->proto;
		vid = vlan->vid;
		want_tag = true;
		if (!sends_on(ctx, egress))
			return pass(VIPLB_XDP_ST_VLAN);
	}
	if (!nh)
		return to_neigh(ctx, pkt, svc, be, cfg, &fib);

	if (rewrite(ctx, pkt, svc, be, cfg) ||
	    vlan_set(ctx, tagged, want_tag, tag_proto, vid))
		return aborted();

	eth = (void *)(long)ctx->data;
	if ((void *)(eth + 1) > (void *)(long)ctx->data_end)
		return aborted();
	/* h_dest then h_source, as nh holds them. */
	__builtin_memcpy(eth, nh->dmac, 2 * ETH_ALEN);
	if (egress == ctx->ingress_ifindex)
		return (struct verdict){ .action = XDP_TX };
	return (struct verdict){ .action = bpf_redirect_map(&tx_ports, egress,
							    0) };
}

/* Reports a probe's outcome; the probe changes nothing. */
static __always_inline void probe_result(struct viplb_xdp_probe *probe,
					 __u32 result, __u32 backend,
					 __u32 pin, int stat)
{
	probe->result = result;
	probe->backend = backend;
	probe->pin = pin;
	probe->stat = stat;
}

/* Forwards the packet to backend @be (id @backend) and counts it. */
static __always_inline struct verdict send(struct xdp_md *ctx,
					   const struct packet *pkt,
					   const struct viplb_xdp_service *svc,
					   const struct viplb_xdp_backend *be,
					   __u32 backend, bool new_flow,
					   struct viplb_xdp_stats *st)
{
	struct verdict v = forward(ctx, pkt, svc, be, backend, st);

	if (v.action == XDP_TX || v.action == XDP_REDIRECT)
		count_forward(svc->id, backend, pkt->ip_len, new_flow);
	return v;
}

static __always_inline struct verdict balance(struct xdp_md *ctx,
					      struct viplb_xdp_probe *probe,
					      struct viplb_xdp_stats *st)
{
	struct viplb_xdp_backend *be = NULL;
	struct viplb_xdp_service *svc;
	struct viplb_xdp_flow *flow;
	struct viplb_xdp_flow pin;
	struct packet pkt;
	bool new_flow = false;
	__u32 backend;
	int reason;

	reason = parse_packet(ctx, &pkt);
	if (reason != PARSE_OK)
		return pass(reason);
	/* A reply to one of viplbd's checks (health.h). */
	if (!probe && pkt.af == VIPLB_FLOW_AF_INET &&
	    pkt.tuple.proto == IPPROTO_TCP) {
		int action = hc_reply(ctx, &pkt);

		if (action != XDP_PASS)
			return (struct verdict){ .action = action };
	}

	/*
	 * A pinned flow first: its backend names its service, so that most
	 * packets need no vips lookup.  Any doubt: the lookups below.
	 */
	flow = bpf_map_lookup_elem(&flows, &pkt.tuple);
	if (flow && !probe) {
		svc = pinned_service(&pkt, flow, &be);
		if (svc) {
			if (st)
				st->c[VIPLB_XDP_ST_LRU_HIT]++;
			return send(ctx, &pkt, svc, be, flow->backend, false,
				    st);
		}
	}

	svc = find_service(&pkt);
	if (!svc) {
		if (probe)
			probe_result(probe, VIPLB_XDP_PROBE_NOT_VIP, 0, 0,
				     VIPLB_XDP_ST_NOT_VIP);
		return pass(VIPLB_XDP_ST_NOT_VIP);
	}
	if (probe)
		probe->svc_id = svc->id;
	if (svc->mode == VIPLB_MODE_NAT || svc->mode > VIPLB_MODE_MAX)
		reason = VIPLB_XDP_ST_NAT_MODE;
	else if (svc->sched != VIPLB_SCHED_MAGLEV &&
		 svc->sched != VIPLB_SCHED_SH && !round_robin(svc))
		reason = VIPLB_XDP_ST_SCHED;
	if (reason != PARSE_OK) {
		if (probe)
			probe_result(probe, VIPLB_XDP_PROBE_PASSED, 0, 0,
				     reason);
		return pass(reason);
	}

	/* A pinned flow stays on its backend while that id is its own. */
	if (flow) {
		backend = flow->backend;
		be = bpf_map_lookup_elem(&backends, &backend);
		if (be && (be->state == VIPLB_XDP_BE_FREE ||
			   be->gen != flow->gen))
			be = NULL;
	}
	if (be) {
		if (probe) {
			probe_result(probe, VIPLB_XDP_PROBE_BACKEND, backend,
				     VIPLB_PIN_FLOW, 0);
			return pass(0);
		}
		if (st)
			st->c[VIPLB_XDP_ST_LRU_HIT]++;
	} else {
		backend = ring_pick(svc, &pkt, probe != NULL);
		be = bpf_map_lookup_elem(&backends, &backend);
		if (!be || be->state != VIPLB_XDP_BE_LIVE || be->af != pkt.af) {
			if (probe)
				probe_result(probe, VIPLB_XDP_PROBE_NO_BACKEND,
					     0, 0, VIPLB_XDP_ST_NO_BACKEND);
			return pass(VIPLB_XDP_ST_NO_BACKEND);
		}
		if (probe) {
			probe_result(probe, VIPLB_XDP_PROBE_BACKEND, backend,
				     VIPLB_PIN_NONE, 0);
			return pass(0);
		}
		if (st)
			st->c[VIPLB_XDP_ST_LRU_MISS]++;
		/* A draining backend finishes its flows but gains none. */
		if (be->weight) {
			pin.backend = backend;
			pin.gen = be->gen;
			bpf_map_update_elem(&flows, &pkt.tuple, &pin, BPF_ANY);
			new_flow = true;
		}
	}

	return send(ctx, &pkt, svc, be, backend, new_flow, st);
}

/* Counts one event; @idx is checked where the verifier sees it. */
static __always_inline void stat_inc(struct viplb_xdp_stats *st, __u32 idx)
{
	asm volatile("" : "+r"(idx));
	if (idx < __VIPLB_XDP_ST_MAX)
		st->c[idx]++;
}

SEC("xdp")
int viplb_xdp(struct xdp_md *ctx)
{
	struct viplb_xdp_probe *probe = get_probe(ctx);
	struct viplb_xdp_stats *st;
	struct verdict v;
	__u32 zero = 0;

	/* Two copies of balance(), one with a probe and one without. */
	if (probe) {
		v = balance(ctx, probe, NULL);
		if (!probe->result)
			probe->stat = v.reason;
		return XDP_PASS;
	}
	st = bpf_map_lookup_elem(&stats, &zero);
	v = balance(ctx, NULL, st);
	if (st) {
		stat_inc(st, v.action);
		if (v.action == XDP_PASS || v.action == XDP_ABORTED)
			stat_inc(st, v.reason);
	}
	return v.action;
}

/*
 * TC ingress, on every device viplb_xdp is attached to: a packet that
 * viplb_xdp passed for want of a neighbour entry (a valid struct
 * viplb_xdp_neigh_meta in front) goes to its next hop through the stack's
 * neighbour code, which resolves it, queueing the packet meanwhile.  The
 * next packets of its flow then find the entry and stay in XDP.  Any
 * other packet goes on to the next filter, untouched.
 */
SEC("tc")
int viplb_tc(struct __sk_buff *skb)
{
	struct viplb_xdp_neigh_meta *meta = (void *)(long)skb->data_meta;
	struct viplb_xdp_stats *st;
	struct bpf_redir_neigh nh;
	__u32 zero = 0, ifindex;
	long rc;

	if ((void *)(meta + 1) > (void *)(long)skb->data ||
	    meta->magic != VIPLB_XDP_NEIGH_MAGIC)
		return TC_ACT_UNSPEC;
	/* Read once: it is not for another hook the packet may reach. */
	meta->magic = 0;
	ifindex = meta->ifindex;
	nh.nh_family = meta->family;
	__builtin_memcpy(nh.ipv6_nh, meta->nh, sizeof(nh.ipv6_nh));
	/* viplb_xdp removed the frame's tag; an offloaded one is here. */
	if (skb->vlan_present && bpf_skb_vlan_pop(skb))
		return TC_ACT_SHOT;
	rc = bpf_redirect_neigh(ifindex, &nh, sizeof(nh), 0);
	st = bpf_map_lookup_elem(&stats, &zero);
	if (st && rc == TC_ACT_REDIRECT)
		st->c[VIPLB_XDP_ST_REDIRECT_NEIGH]++;
	return rc;
}
