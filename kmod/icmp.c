// SPDX-License-Identifier: GPL-2.0
/*
 * viplb: ICMP errors that concern dr and tun flows, as IPVS's
 * ip_vs_in_icmp() handles them.
 *
 * A backend answers its clients from the VIP, so the errors that its
 * answers cause on the way (fragmentation needed, packet too big, ...)
 * come back to the VIP, that is, to the director.  The director sends
 * each one on to the backend of the flow it quotes, the same way as the
 * flow's packets (dr or tun), so that the backend learns the path MTU to
 * its client: without it, clients behind a smaller MTU hit a PMTU black
 * hole.
 *
 * tun's own IPIP or IP6IP6 packets can be too big on the way to a
 * backend; the error quoting one comes to the director's address.  The
 * director then lowers its path MTU to that backend, so that the next
 * packet of the flow that does not fit gets the client a "fragmentation
 * needed" or "packet too big" with room for the outer header.
 */
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <net/ip.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/route.h>
#include "viplb.h"

/* An ICMP error and the packet it quotes. */
struct icmp_quote {
	u8 type;
	u8 code;
	u32 info;			/* the MTU of "too big" errors */
	unsigned int off;		/* of the quoted network header */
	u8 proto;			/* of the quoted packet */
	union nf_inet_addr saddr;	/* of the quoted packet */
	union nf_inet_addr daddr;
	__be16 sport;			/* TCP and UDP only */
	__be16 dport;
};

/* Reads the quoted ports of a TCP or UDP packet at @thoff. */
static bool quote_ports(struct sk_buff *skb, unsigned int thoff,
			struct icmp_quote *q)
{
	__be16 _ports[2];
	const __be16 *ports;

	if (q->proto != IPPROTO_TCP && q->proto != IPPROTO_UDP)
		return true;
	ports = skb_header_pointer(skb, thoff, sizeof(_ports), _ports);
	if (!ports)
		return false;
	q->sport = ports[0];
	q->dport = ports[1];
	return true;
}

/* Parses an ICMP error; false if the packet is not one. */
static bool icmp4_quote(struct sk_buff *skb, struct icmp_quote *q)
{
	const struct iphdr *iph = ip_hdr(skb);
	struct icmphdr _ic;
	const struct icmphdr *ic;
	struct iphdr _ih;
	const struct iphdr *ih;
	unsigned int off;

	if (iph->protocol != IPPROTO_ICMP || ip_is_fragment(iph))
		return false;
	off = skb_network_offset(skb) + iph->ihl * 4;
	ic = skb_header_pointer(skb, off, sizeof(_ic), &_ic);
	if (!ic || !icmp_is_err(ic->type) || ic->type == ICMP_REDIRECT)
		return false;
	q->type = ic->type;
	q->code = ic->code;
	q->info = ntohs(ic->un.frag.mtu);
	q->off = off + sizeof(_ic);
	ih = skb_header_pointer(skb, q->off, sizeof(_ih), &_ih);
	if (!ih || ih->version != 4 || ih->ihl < 5 ||
	    (ih->frag_off & htons(IP_OFFSET)))
		return false;
	q->proto = ih->protocol;
	memset(&q->saddr, 0, sizeof(q->saddr));
	memset(&q->daddr, 0, sizeof(q->daddr));
	q->saddr.ip = ih->saddr;
	q->daddr.ip = ih->daddr;
	return quote_ports(skb, q->off + ih->ihl * 4, q);
}

static bool icmp6_quote(struct sk_buff *skb, struct icmp_quote *q)
{
	struct icmp6hdr _ic;
	const struct icmp6hdr *ic;
	struct ipv6hdr _ih;
	const struct ipv6hdr *ih;
	__be16 frag_off;
	u8 proto = ipv6_hdr(skb)->nexthdr;
	int off;

	off = ipv6_skip_exthdr(skb, skb_network_offset(skb) +
				    sizeof(struct ipv6hdr), &proto, &frag_off);
	if (off < 0 || proto != IPPROTO_ICMPV6 || frag_off)
		return false;
	ic = skb_header_pointer(skb, off, sizeof(_ic), &_ic);
	if (!ic || !icmpv6_is_err(ic->icmp6_type))
		return false;
	q->type = ic->icmp6_type;
	q->code = ic->icmp6_code;
	q->info = ntohl(ic->icmp6_mtu);
	q->off = off + sizeof(_ic);
	ih = skb_header_pointer(skb, q->off, sizeof(_ih), &_ih);
	if (!ih || ih->version != 6)
		return false;
	q->saddr.in6 = ih->saddr;
	q->daddr.in6 = ih->daddr;
	proto = ih->nexthdr;
	off = ipv6_skip_exthdr(skb, q->off + sizeof(_ih), &proto, &frag_off);
	if (off < 0 || (frag_off & htons(~0x7)))
		return false;
	q->proto = proto;
	return quote_ports(skb, off, q);
}

/* An error that tells the path MTU, and the MTU it tells. */
static bool too_big(u8 af, const struct icmp_quote *q)
{
	if (af == AF_INET)
		return q->type == ICMP_DEST_UNREACH &&
		       q->code == ICMP_FRAG_NEEDED;
	return q->type == ICMPV6_PKT_TOOBIG;
}

/*
 * An error about a tun packet of ours: lower the path MTU to the backend
 * it went to.  ipv4_update_pmtu() and ip6_update_pmtu() read the route
 * from the quoted header at skb->data.
 */
static void tun_pmtu(struct net *net, struct sk_buff *skb, u8 af,
		     const struct icmp_quote *q)
{
	unsigned int off = q->off;	/* from skb->data: the outer header */
	size_t hlen = af == AF_INET ? sizeof(struct iphdr) :
				      sizeof(struct ipv6hdr);

	if (skb_network_offset(skb) || !pskb_may_pull(skb, off + hlen))
		return;
	__skb_pull(skb, off);
	if (af == AF_INET)
		ipv4_update_pmtu(skb, net, q->info, 0, IPPROTO_IPIP);
	else
		ip6_update_pmtu(skb, net, htonl(q->info), 0, 0,
				sock_net_uid(net, NULL));
	__skb_push(skb, off);
}

/**
 * viplb_icmp_error() - handle an ICMP error concerning a dr/tun flow
 * @vn: the netns state
 * @skb: the packet, at LOCAL_IN or FORWARD
 * @state: the hook state
 *
 * Context: rcu_read_lock(), from the dr/tun hook.  Return: NF_STOLEN if
 * the error went on to a backend, NF_ACCEPT otherwise (the stack then
 * handles it as any other).
 */
unsigned int viplb_icmp_error(struct viplb_net *vn, struct sk_buff *skb,
			      const struct nf_hook_state *state)
{
	u8 af = viplb_pf_to_af(state->pf);
	struct viplb_flow_tuple t;
	struct viplb_service *svc;
	struct viplb_backend *be;
	struct icmp_quote q;
	u32 mode;

	if (!(af == AF_INET ? icmp4_quote(skb, &q) : icmp6_quote(skb, &q)))
		return NF_ACCEPT;

	if (q.proto == (af == AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6)) {
		/* To this host (LOCAL_IN): one of our tunnel packets. */
		if (too_big(af, &q) && state->hook == NF_INET_LOCAL_IN)
			tun_pmtu(state->net, skb, af, &q);
		return NF_ACCEPT;
	}
	if (q.proto != IPPROTO_TCP && q.proto != IPPROTO_UDP)
		return NF_ACCEPT;

	/* The quoted packet went from the VIP to a client. */
	svc = viplb_service_lookup_rcu(vn, af, q.proto, &q.saddr, q.sport);
	if (!svc)
		return NF_ACCEPT;
	mode = READ_ONCE(svc->mode);
	if (mode == VIPLB_MODE_NAT)
		return NF_ACCEPT;
	if (af == AF_INET)
		viplb_flow_tuple_v4(&t, q.daddr.ip, q.saddr.ip, q.dport,
				    q.sport, q.proto);
	else
		viplb_flow_tuple_v6(&t, q.daddr.in6.s6_addr32,
				    q.saddr.in6.s6_addr32, q.dport, q.sport,
				    q.proto);
	be = viplb_fwd_flow_peek(vn, &t);
	if (!be && viplb_sched_stateless(READ_ONCE(svc->sched)))
		be = viplb_sched_pick(svc, &t, false);
	if (!be)
		return NF_ACCEPT;
	return viplb_xmit(state->net, skb, af, mode, be,
			  state->hook == NF_INET_FORWARD);
}
