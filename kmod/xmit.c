// SPDX-License-Identifier: GPL-2.0
/*
 * viplb: transmitters of the dr and tun forwarding modes.
 *
 * dr   the packet keeps the VIP as its destination and is sent to the
 *      backend's link-layer address; the backend must be on-link and have
 *      the VIP on a local interface (usually lo).  Its route names the
 *      backend as the next hop (FLOWI_FLAG_KNOWN_NH, as IPVS), so that
 *      the packet leaves through dst_output(): fragmented as the input
 *      path's reassembly allows, GSO segmented, untracked.
 * tun  the packet is encapsulated in IPIP (IPv4) or IP6IP6 (IPv6) towards
 *      the backend, which decapsulates it and replies directly.  Once the
 *      inner packet is known to fit, the outer one may be fragmented
 *      (ignore_df, as IPVS): GSO segments too big after encapsulation are
 *      fragmented, not dropped.
 *
 * Each backend caches its route (struct viplb_route), as IPVS caches a
 * destination's: a lookup per packet, and for IPv6 a source address
 * selection, cost more than the rest of the path.  dst_check() finds a
 * route gone stale (routes or addresses changed) and the packet routes
 * afresh; a device that goes away does not wait for the cache, since the
 * kernel moves the routes of a dead device to blackhole_netdev.  Packets
 * take the cached route without a reference (skb_dst_set_noref(), under
 * the hook's RCU read lock); the cache's own reference is dropped an RCU
 * grace period after it is replaced, or when the backend is freed.
 *
 * Both are called from the LOCAL_IN or FORWARD hook.  The packet is being
 * forwarded, so its TTL (hop limit) goes down by one as in a router: here
 * for a packet from LOCAL_IN, in ip_forward() for one from FORWARD.  They
 * consume the skb and return NF_STOLEN.
 */
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <net/addrconf.h>
#include <net/dst.h>
#include <net/icmp.h>
#include <net/ip.h>
#include <net/ip6_route.h>
#include <net/ip_tunnels.h>
#include <net/ipv6.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/route.h>
#include "viplb.h"

static struct dst_entry *route6_to(struct net *net,
				   const struct viplb_backend *be,
				   union nf_inet_addr *saddr, u8 flags)
{
	struct flowi6 fl6 = { .daddr = be->addr.in6, .flowi6_flags = flags };
	struct dst_entry *dst;

	dst = ip6_route_output(net, NULL, &fl6);
	if (dst->error) {
		dst_release(dst);
		return NULL;
	}
	if (ipv6_dev_get_saddr(net, dst->dev, &be->addr.in6, 0,
			       &saddr->in6)) {
		dst_release(dst);
		return NULL;
	}
	return dst;
}

/*
 * Routes to @be; the caller owns the returned dst.  NULL on failure.
 * @flags: FLOWI_FLAG_KNOWN_NH for a route whose next hop is @be whatever
 * the packet's destination.
 */
static struct dst_entry *route_to(struct net *net, u8 af,
				  const struct viplb_backend *be,
				  union nf_inet_addr *saddr, u8 flags)
{
	if (af == AF_INET) {
		struct flowi4 fl4 = { .daddr = be->addr.ip,
				      .flowi4_flags = flags };
		struct rtable *rt;

		rt = ip_route_output_key(net, &fl4);
		if (IS_ERR(rt))
			return NULL;
		if (rt->rt_type != RTN_UNICAST) {
			ip_rt_put(rt);
			return NULL;
		}
		saddr->ip = fl4.saddr;
		return &rt->dst;
	}
	return route6_to(net, be, saddr, flags);
}

/* A backend's cached route: see the top of this file. */
struct viplb_route {
	struct dst_entry *dst;		/* holds a reference */
	u32 cookie;			/* for dst_check() (IPv6) */
	u8 flags;			/* the flowi flags it was looked up with */
	union nf_inet_addr saddr;	/* the source address it chose */
	struct rcu_head rcu;
};

static void route_free(struct viplb_route *r)
{
	dst_release(r->dst);
	kfree(r);
}

static void route_free_rcu(struct rcu_head *head)
{
	route_free(container_of(head, struct viplb_route, rcu));
}

/* Frees the cached route of @be, which no reader can reach any more. */
void viplb_route_release(struct viplb_backend *be)
{
	struct viplb_route *r = rcu_dereference_protected(be->route, true);

	if (r)
		route_free(r);
}

/*
 * The route to @be, from its cache or looked up (and cached).  Context:
 * RCU read lock.  *@noref: the caller does not own a reference (the
 * cache does; valid until rcu_read_unlock()); otherwise it owns one.
 */
static struct dst_entry *route_get(struct net *net, u8 af,
				   struct viplb_backend *be,
				   union nf_inet_addr *saddr, u8 flags,
				   bool *noref)
{
	struct viplb_route *r = rcu_dereference(be->route), *old;
	struct dst_entry *dst;

	if (r && r->flags == flags && dst_check(r->dst, r->cookie)) {
		*saddr = r->saddr;
		*noref = true;
		return r->dst;
	}
	dst = route_to(net, af, be, saddr, flags);
	*noref = false;
	if (!dst)
		return NULL;
	r = kmalloc(sizeof(*r), GFP_ATOMIC);
	if (!r)
		return dst;
	/* The caller's reference becomes the cache's. */
	r->dst = dst;
	r->cookie = af == AF_INET6 ? rt6_get_cookie((struct rt6_info *)dst) :
				     0;
	r->flags = flags;
	r->saddr = *saddr;
	old = unrcu_pointer(xchg(&be->route, RCU_INITIALIZER(r)));
	if (old)
		call_rcu(&old->rcu, route_free_rcu);
	*noref = true;
	return dst;
}

/* Gives @skb the route @dst, with a reference unless @noref. */
static void set_route(struct sk_buff *skb, struct dst_entry *dst, bool noref)
{
	skb_dst_drop(skb);
	if (noref)
		skb_dst_set_noref(skb, dst);
	else
		skb_dst_set(skb, dst);
}

/* Undoes route_get() for a packet that is not sent. */
static void put_route(struct dst_entry *dst, bool noref)
{
	if (!noref)
		dst_release(dst);
}

static bool on_link(u8 af, const struct dst_entry *dst)
{
	if (af == AF_INET)
		return !((const struct rtable *)dst)->rt_uses_gateway;
	return !(((const struct rt6_info *)dst)->rt6i_flags & RTF_GATEWAY);
}

/* Too big for @mtu, as ip_forward() judges (ip_exceeds_mtu()). */
static bool too_big4(const struct sk_buff *skb, unsigned int mtu)
{
	if (skb->len <= mtu || !(ip_hdr(skb)->frag_off & htons(IP_DF)))
		return false;
	/* A reassembled packet: its largest fragment must fit. */
	if (IPCB(skb)->frag_max_size > mtu)
		return true;
	if (skb->ignore_df)
		return false;
	return !(skb_is_gso(skb) && skb_gso_validate_network_len(skb, mtu));
}

/* Too big for @mtu, as ip6_forward() judges (ip6_pkt_too_big()). */
static bool too_big6(const struct sk_buff *skb, unsigned int mtu)
{
	if (skb->len <= mtu)
		return false;
	/* Reassembly sets frag_max_size and ignore_df. */
	if (IP6CB(skb)->frag_max_size && IP6CB(skb)->frag_max_size > mtu)
		return true;
	if (skb->ignore_df)
		return false;
	return !(skb_is_gso(skb) && skb_gso_validate_network_len(skb, mtu));
}

/*
 * Checks the packet fits in @mtu and, unless @ttl_done, decrements its
 * TTL; on failure sends the ICMP error a router would and returns false.
 * A packet that fits only in fragments (no DF, or reassembled from
 * fragments that fit) passes: the output path fragments it.
 */
static bool forward_prepare(struct sk_buff *skb, u8 af, unsigned int mtu,
			    bool ttl_done)
{
	if (af == AF_INET) {
		struct iphdr *iph;

		if (skb_ensure_writable(skb, sizeof(*iph)))
			return false;
		iph = ip_hdr(skb);
		if (too_big4(skb, mtu)) {
			icmp_send(skb, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED,
				  htonl(mtu));
			return false;
		}
		if (!ttl_done) {
			if (iph->ttl <= 1) {
				icmp_send(skb, ICMP_TIME_EXCEEDED,
					  ICMP_EXC_TTL, 0);
				return false;
			}
			ip_decrease_ttl(iph);
		}
	} else {
		struct ipv6hdr *ip6h;

		if (skb_ensure_writable(skb, sizeof(*ip6h)))
			return false;
		ip6h = ipv6_hdr(skb);
		if (too_big6(skb, mtu)) {
			icmpv6_send(skb, ICMPV6_PKT_TOOBIG, 0, mtu);
			return false;
		}
		if (!ttl_done) {
			if (ip6h->hop_limit <= 1) {
				icmpv6_send(skb, ICMPV6_TIME_EXCEED,
					    ICMPV6_EXC_HOPLIMIT, 0);
				return false;
			}
			ip6h->hop_limit--;
		}
	}
	skb_forward_csum(skb);
	/*
	 * Drop the unconfirmed conntrack entry of PRE_ROUTING (the packet
	 * leaves untracked: no conntrack or NAT on its way out), and a
	 * socket that early demux attached at LOCAL_IN (as IPVS does).
	 */
	nf_reset_ct(skb);
	nf_ct_set(skb, NULL, IP_CT_UNTRACKED);
	skb_orphan(skb);
	return true;
}

/* dr: rewrite L2 only, towards the backend's link-layer address. */
static int xmit_dr(struct net *net, struct sk_buff *skb, u8 af,
		   struct viplb_backend *be, bool ttl_done)
{
	union nf_inet_addr saddr;
	struct dst_entry *dst;
	bool noref;

	dst = route_get(net, af, be, &saddr, FLOWI_FLAG_KNOWN_NH, &noref);
	if (!dst)
		return -EHOSTUNREACH;
	if (!on_link(af, dst)) {
		put_route(dst, noref);
		return -EHOSTUNREACH;
	}
	if (!forward_prepare(skb, af, dst_mtu(dst), ttl_done)) {
		put_route(dst, noref);
		return -EMSGSIZE;
	}
	set_route(skb, dst, noref);
	/* ip_output()/ip6_output(): POST_ROUTING, fragments, neighbour. */
	dst_output(net, NULL, skb);
	return 0;
}

/* tun: encapsulate in IPIP or IP6IP6, copying TTL and TOS inward out. */
static int xmit_tun(struct net *net, struct sk_buff *skb, u8 af,
		    struct viplb_backend *be, bool ttl_done)
{
	size_t hlen = af == AF_INET ? sizeof(struct iphdr) :
				      sizeof(struct ipv6hdr);
	union nf_inet_addr saddr;
	struct dst_entry *dst;
	int err = -EMSGSIZE;
	bool noref;

	dst = route_get(net, af, be, &saddr, 0, &noref);
	if (!dst)
		return -EHOSTUNREACH;
	if (!forward_prepare(skb, af, dst_mtu(dst) - hlen, ttl_done) ||
	    skb_cow_head(skb, LL_RESERVED_SPACE(dst->dev) + hlen))
		goto err;
	err = iptunnel_handle_offloads(skb, af == AF_INET ? SKB_GSO_IPXIP4 :
							    SKB_GSO_IPXIP6);
	if (err)
		goto err;
	set_route(skb, dst, noref);
	skb->ignore_df = 1;

	if (af == AF_INET) {
		const struct iphdr *inner = ip_hdr(skb);
		struct iphdr *iph;

		skb_push(skb, hlen);
		skb_reset_network_header(skb);
		memset(IPCB(skb), 0, sizeof(*IPCB(skb)));
		iph = ip_hdr(skb);
		iph->version = 4;
		iph->ihl = hlen / 4;
		iph->tos = inner->tos;
		iph->ttl = inner->ttl;
		iph->frag_off = inner->frag_off & htons(IP_DF);
		iph->protocol = IPPROTO_IPIP;
		iph->saddr = saddr.ip;
		iph->daddr = be->addr.ip;
		skb->protocol = htons(ETH_P_IP);
		ip_select_ident(net, skb, NULL);
		ip_local_out(net, NULL, skb);
	} else {
		const struct ipv6hdr *inner = ipv6_hdr(skb);
		struct ipv6hdr *ip6h;

		skb_push(skb, hlen);
		skb_reset_network_header(skb);
		memset(IP6CB(skb), 0, sizeof(*IP6CB(skb)));
		ip6h = ipv6_hdr(skb);
		ip6_flow_hdr(ip6h, ip6_tclass(ip6_flowinfo(inner)),
			     ip6_flowlabel(inner));
		ip6h->hop_limit = inner->hop_limit;
		ip6h->nexthdr = IPPROTO_IPV6;
		ip6h->saddr = saddr.in6;
		ip6h->daddr = be->addr.in6;
		skb->protocol = htons(ETH_P_IPV6);
		ip6_local_out(net, NULL, skb);
	}
	return 0;

err:
	put_route(dst, noref);
	return err;
}

/**
 * viplb_xmit() - send a packet to a backend in dr or tun mode
 * @net: the netns
 * @skb: the packet, at its network header; always consumed
 * @af: AF_INET or AF_INET6
 * @mode: VIPLB_MODE_DR or VIPLB_MODE_TUN
 * @be: the backend
 * @ttl_done: ip_forward() has already checked and decremented the TTL
 *
 * Return: NF_STOLEN.  A packet that cannot be sent is freed.
 */
unsigned int viplb_xmit(struct net *net, struct sk_buff *skb, u8 af,
			u32 mode, struct viplb_backend *be, bool ttl_done)
{
	int err;

	if (mode == VIPLB_MODE_DR)
		err = xmit_dr(net, skb, af, be, ttl_done);
	else
		err = xmit_tun(net, skb, af, be, ttl_done);
	if (err)
		kfree_skb(skb);
	return NF_STOLEN;
}
