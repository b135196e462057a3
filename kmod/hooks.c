// SPDX-License-Identifier: GPL-2.0
/*
 * viplb: netfilter hooks.
 *
 * dr and tun modes: hooks at LOCAL_IN (a VIP that is a local address, as
 * IPVS serves it) and at FORWARD (a VIP routed through the director) look
 * up the service, keep each flow on its backend with viplb's flow table
 * (flow.c) and send the packet on (xmit.c).  Both run after routing
 * (reverse-path and martian checks) and after the filter tables, so the
 * packets are filtered as INPUT or FORWARD traffic.
 *
 * nat mode works like iptables DNAT: viplb registers NAT lookup functions
 * with the NAT core (as iptable_nat does), which calls them for the first
 * packet of each new conntrack entry.  viplb schedules a backend and binds
 * the connection to it with nf_nat_setup_info(); conntrack and the NAT
 * core then translate every later packet, replies and related ICMP errors.
 *
 * A netns has the hooks of a family only while it has services of that
 * family that need them, as IPVS does: the NAT lookups, the counting hook
 * and conntrack for nat services; the dr/tun hooks and defragmentation,
 * but not conntrack, for dr and tun services.
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/tcp.h>
#include <net/ipv6.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_nat.h>
#include <net/netfilter/nf_nat_masquerade.h>
#include <net/netfilter/ipv4/nf_defrag_ipv4.h>
#include <net/netfilter/ipv6/nf_defrag_ipv6.h>
#include <net/netfilter/ipv4/nf_reject.h>
#include <net/netfilter/ipv6/nf_reject.h>
#include "viplb.h"

/* Finds the service for a destination, falling back to a port-0 service. */
struct viplb_service *viplb_service_lookup_rcu(struct viplb_net *vn, u8 af,
					       u8 proto,
					       const union nf_inet_addr *addr,
					       __be16 port)
{
	struct viplb_config *cfg = rcu_dereference(vn->cfg);
	struct viplb_svc_key key = {
		.addr = *addr,
		.port = port,
		.proto = proto,
		.af = af,
	};
	struct viplb_service *svc;

	if (!cfg || !READ_ONCE(cfg->n_af[viplb_af_index(af)]))
		return NULL;
	if (af == AF_INET)
		memset(&key.addr.all[1], 0, sizeof(key.addr.all) - 4);
	svc = viplb_service_find(cfg, &key);
	if (svc || !port)
		return svc;
	key.port = 0;
	return viplb_service_find(cfg, &key);
}

/* The service of a connection viplb translated, from its original tuple. */
static struct viplb_service *ct_service(struct viplb_net *vn,
					const struct nf_conn *ct, u8 af)
{
	const struct nf_conntrack_tuple *ot =
		&ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple;
	struct viplb_service *svc;

	if (!(ct->status & IPS_DST_NAT))
		return NULL;
	svc = viplb_service_lookup_rcu(vn, af, ot->dst.protonum, &ot->dst.u3,
				       ot->dst.u.all);
	if (!svc || READ_ONCE(svc->mode) != VIPLB_MODE_NAT)
		return NULL;
	return svc;
}

static void flow_tuple_from_ct(struct viplb_flow_tuple *t,
			       const struct nf_conntrack_tuple *ot, u8 af)
{
	if (af == AF_INET)
		viplb_flow_tuple_v4(t, ot->src.u3.ip, ot->dst.u3.ip,
				    ot->src.u.all, ot->dst.u.all,
				    ot->dst.protonum);
	else
		viplb_flow_tuple_v6(t, ot->src.u3.ip6, ot->dst.u3.ip6,
				    ot->src.u.all, ot->dst.u.all,
				    ot->dst.protonum);
}

/* No backend can take a new connection: refuse it as IPVS does. */
static unsigned int reject_new(struct viplb_service *svc, struct sk_buff *skb,
			       const struct nf_hook_state *state, u8 proto)
{
	viplb_stats_reject(svc->cnt);
	if (state->pf == NFPROTO_IPV4) {
		if (proto == IPPROTO_TCP)
			nf_send_reset(state->net, state->sk, skb, state->hook);
		else
			nf_send_unreach(skb, ICMP_PORT_UNREACH, state->hook);
	} else {
		if (proto == IPPROTO_TCP)
			nf_send_reset6(state->net, state->sk, skb, state->hook);
		else
			nf_send_unreach6(state->net, skb, ICMPV6_PORT_UNREACH,
					 state->hook);
	}
	return NF_DROP;
}

/* NAT lookup (DST manip): schedule the first packet of a connection. */
static unsigned int nat_dst_hook(void *priv, struct sk_buff *skb,
				 const struct nf_hook_state *state)
{
	struct viplb_net *vn = viplb_pernet(state->net);
	const struct nf_conntrack_tuple *ot;
	struct nf_nat_range2 range = {};
	enum ip_conntrack_info ctinfo;
	u8 af = viplb_pf_to_af(state->pf);
	struct viplb_flow_tuple t;
	struct viplb_service *svc;
	struct viplb_backend *be;
	unsigned int verdict;
	struct nf_conn *ct;
	u8 proto;

	ct = nf_ct_get(skb, &ctinfo);
	if (!ct || ctinfo != IP_CT_NEW)
		return NF_ACCEPT;
	ot = &ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple;
	proto = ot->dst.protonum;
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return NF_ACCEPT;
	svc = viplb_service_lookup_rcu(vn, af, proto, &ot->dst.u3,
				       ot->dst.u.all);
	if (!svc || READ_ONCE(svc->mode) != VIPLB_MODE_NAT)
		return NF_ACCEPT;

	flow_tuple_from_ct(&t, ot, af);
	be = viplb_sched_pick(svc, &t, false);
	if (!be)
		return reject_new(svc, skb, state, proto);

	range.flags = NF_NAT_RANGE_MAP_IPS;
	range.min_addr = be->addr;
	range.max_addr = be->addr;
	if (be->port) {
		range.flags |= NF_NAT_RANGE_PROTO_SPECIFIED;
		range.min_proto.all = be->port;
		range.max_proto.all = be->port;
	}
	verdict = nf_nat_setup_info(ct, &range, NF_NAT_MANIP_DST);
	if (verdict != NF_ACCEPT)
		return verdict;

	viplb_stats_add(svc->cnt->stats, true, false, 0);
	viplb_stats_add(be->cnt->stats, true, false, 0);
	viplb_flow_track_nat(vn, ct, svc, be);
	return NF_ACCEPT;
}

/* NAT lookup (SRC manip): full NAT for services with the snat flag. */
static unsigned int nat_src_hook(void *priv, struct sk_buff *skb,
				 const struct nf_hook_state *state)
{
	struct viplb_net *vn = viplb_pernet(state->net);
	struct nf_nat_range2 range = {};
	enum ip_conntrack_info ctinfo;
	struct viplb_service *svc;
	struct nf_conn *ct;

	if (!viplb_config_has_snat(vn, state->pf))
		return NF_ACCEPT;
	ct = nf_ct_get(skb, &ctinfo);
	if (!ct || ctinfo != IP_CT_NEW)
		return NF_ACCEPT;
	svc = ct_service(vn, ct, viplb_pf_to_af(state->pf));
	if (!svc || !(READ_ONCE(svc->flags) & VIPLB_SVC_F_SNAT))
		return NF_ACCEPT;
	if (state->pf == NFPROTO_IPV4)
		return nf_nat_masquerade_ipv4(skb, state->hook, &range,
					      state->out);
	return nf_nat_masquerade_ipv6(skb, &range, state->out);
}

/* Counts packets and bytes of translated connections, both directions. */
static unsigned int count_hook(void *priv, struct sk_buff *skb,
			       const struct nf_hook_state *state)
{
	struct viplb_net *vn = viplb_pernet(state->net);
	const struct nf_conntrack_tuple *rt;
	enum ip_conntrack_info ctinfo;
	struct viplb_sched_data *sd;
	struct viplb_service *svc;
	struct viplb_backend *be;
	struct nf_conn *ct;
	bool reply;

	ct = nf_ct_get(skb, &ctinfo);
	if (!ct)
		return NF_ACCEPT;
	svc = ct_service(vn, ct, viplb_pf_to_af(state->pf));
	if (!svc)
		return NF_ACCEPT;
	reply = CTINFO2DIR(ctinfo) == IP_CT_DIR_REPLY;
	viplb_stats_add(svc->cnt->stats, false, reply, skb->len);

	/* The backend is the source of the reply tuple. */
	rt = &ct->tuplehash[IP_CT_DIR_REPLY].tuple;
	sd = rcu_dereference(svc->sd);
	if (!sd)
		return NF_ACCEPT;
	be = viplb_sched_find(sd, &rt->src.u3, rt->src.u.all);
	if (!be)
		be = viplb_sched_find(sd, &rt->src.u3, 0);
	if (be)
		viplb_stats_add(be->cnt->stats, false, reply, skb->len);
	return NF_ACCEPT;
}

/*
 * Reads the flow of an IPv4/IPv6 TCP or UDP packet; false if not one.
 * *fin: a TCP FIN or RST.  *first: the packet can start a flow (a TCP SYN
 * without ACK, or any UDP datagram).
 */
static bool packet_flow(struct sk_buff *skb, u8 af,
			struct viplb_flow_tuple *t, bool *fin, bool *first)
{
	unsigned int thoff;
	__be16 _ports[2];
	const __be16 *ports;
	u8 proto;

	if (af == AF_INET) {
		const struct iphdr *iph = ip_hdr(skb);

		if (ip_is_fragment(iph))
			return false;
		proto = iph->protocol;
		thoff = skb_network_offset(skb) + iph->ihl * 4;
	} else {
		const struct ipv6hdr *ip6h = ipv6_hdr(skb);
		__be16 frag_off;
		int off;

		proto = ip6h->nexthdr;
		off = ipv6_skip_exthdr(skb, skb_network_offset(skb) +
					    sizeof(*ip6h), &proto, &frag_off);
		if (off < 0 || (frag_off & htons(~0x7)))
			return false;
		thoff = off;
	}
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return false;
	ports = skb_header_pointer(skb, thoff, sizeof(_ports), _ports);
	if (!ports)
		return false;

	*fin = false;
	*first = true;
	if (proto == IPPROTO_TCP) {
		struct tcphdr _th;
		const struct tcphdr *th;

		th = skb_header_pointer(skb, thoff, sizeof(_th), &_th);
		if (!th)
			return false;
		*fin = th->fin || th->rst;
		*first = th->syn && !th->ack && !th->rst;
	}
	if (af == AF_INET)
		viplb_flow_tuple_v4(t, ip_hdr(skb)->saddr, ip_hdr(skb)->daddr,
				    ports[0], ports[1], proto);
	else
		viplb_flow_tuple_v6(t, ipv6_hdr(skb)->saddr.s6_addr32,
				    ipv6_hdr(skb)->daddr.s6_addr32, ports[0],
				    ports[1], proto);
	return true;
}

/*
 * dr and tun: keep the flow on its backend and send the packet there.
 * Only the first packet of a flow (TCP SYN, UDP) makes a flow-table
 * entry.  A later packet with no entry (after a failover to this
 * director, or a spoofed one) still goes where Maglev or sh sends the
 * flow, without state; for rr, wrr and lc it has no backend and goes to
 * the stack, as IPVS does.
 */
static unsigned int fwd_hook(void *priv, struct sk_buff *skb,
			     const struct nf_hook_state *state)
{
	struct viplb_net *vn = viplb_pernet(state->net);
	u8 af = viplb_pf_to_af(state->pf);
	struct viplb_flow_tuple t;
	union nf_inet_addr daddr;
	struct viplb_service *svc;
	struct viplb_backend *be;
	bool fin, first, new = false;
	u32 mode;

	if (!packet_flow(skb, af, &t, &fin, &first))
		return viplb_icmp_error(vn, skb, state);
	memset(&daddr, 0, sizeof(daddr));
	memcpy(&daddr, t.daddr, af == AF_INET ? 4 : 16);
	svc = viplb_service_lookup_rcu(vn, af, t.proto, &daddr, t.dport);
	if (!svc)
		return NF_ACCEPT;
	mode = READ_ONCE(svc->mode);
	if (mode == VIPLB_MODE_NAT)
		return NF_ACCEPT;

	be = viplb_fwd_flow_get(vn, &t, fin);
	if (!be) {
		if (!first && !viplb_sched_stateless(READ_ONCE(svc->sched)))
			return NF_ACCEPT;
		be = viplb_sched_pick(svc, &t, false);
		if (!be)
			return reject_new(svc, skb, state, t.proto);
		if (first) {
			viplb_fwd_flow_add(vn, &t, svc, be);
			new = true;
		}
	}
	viplb_stats_add(svc->cnt->stats, new, false, skb->len);
	viplb_stats_add(be->cnt->stats, new, false, skb->len);
	/* ip_forward() has checked and decremented the TTL before FORWARD. */
	return viplb_xmit(state->net, skb, af, mode, be,
			  state->hook == NF_INET_FORWARD);
}

/*
 * Hook priorities.  The NAT lookups sit just before the NAT core's own
 * priorities, where the nat table's chains run (rules.c): destination NAT
 * before routing (PRE_ROUTING) and for local clients (LOCAL_OUT), source
 * NAT after routing (POST_ROUTING).  So a VIP service is chosen before
 * the nat chains see the connection.
 * Counting runs right after destination NAT, so a new connection is
 * already bound; every packet passes exactly one of PRE_ROUTING and
 * LOCAL_OUT on this host.  dr/tun forwarding runs where IPVS serves,
 * at NF_IP_PRI_NAT_SRC - 2: after the filter tables of INPUT and FORWARD
 * (and after defragmentation, which conntrack turns on in the netns).
 * The packets leave untracked: the conntrack entry made at PRE_ROUTING is
 * never confirmed.
 */
static const struct nf_hook_ops nat_ops[2][3] = {
	{
		{
			.hook = nat_dst_hook,
			.pf = NFPROTO_IPV4,
			.hooknum = NF_INET_PRE_ROUTING,
			.priority = NF_IP_PRI_NAT_DST - 1,
		},
		{
			.hook = nat_dst_hook,
			.pf = NFPROTO_IPV4,
			.hooknum = NF_INET_LOCAL_OUT,
			.priority = NF_IP_PRI_NAT_DST - 1,
		},
		{
			.hook = nat_src_hook,
			.pf = NFPROTO_IPV4,
			.hooknum = NF_INET_POST_ROUTING,
			.priority = NF_IP_PRI_NAT_SRC - 1,
		},
	},
	{
		{
			.hook = nat_dst_hook,
			.pf = NFPROTO_IPV6,
			.hooknum = NF_INET_PRE_ROUTING,
			.priority = NF_IP6_PRI_NAT_DST - 1,
		},
		{
			.hook = nat_dst_hook,
			.pf = NFPROTO_IPV6,
			.hooknum = NF_INET_LOCAL_OUT,
			.priority = NF_IP6_PRI_NAT_DST - 1,
		},
		{
			.hook = nat_src_hook,
			.pf = NFPROTO_IPV6,
			.hooknum = NF_INET_POST_ROUTING,
			.priority = NF_IP6_PRI_NAT_SRC - 1,
		},
	},
};

static const struct nf_hook_ops count_ops[2][2] = {
	{
		VIPLB_HOOK_OP(count_hook, NFPROTO_IPV4, NF_INET_PRE_ROUTING,
			      NF_IP_PRI_NAT_DST + 1),
		VIPLB_HOOK_OP(count_hook, NFPROTO_IPV4, NF_INET_LOCAL_OUT,
			      NF_IP_PRI_NAT_DST + 1),
	},
	{
		VIPLB_HOOK_OP(count_hook, NFPROTO_IPV6, NF_INET_PRE_ROUTING,
			      NF_IP6_PRI_NAT_DST + 1),
		VIPLB_HOOK_OP(count_hook, NFPROTO_IPV6, NF_INET_LOCAL_OUT,
			      NF_IP6_PRI_NAT_DST + 1),
	},
};

static const struct nf_hook_ops fwd_ops[2][2] = {
	{
		VIPLB_HOOK_OP(fwd_hook, NFPROTO_IPV4, NF_INET_LOCAL_IN,
			      NF_IP_PRI_NAT_SRC - 2),
		VIPLB_HOOK_OP(fwd_hook, NFPROTO_IPV4, NF_INET_FORWARD,
			      NF_IP_PRI_NAT_SRC - 2),
	},
	{
		VIPLB_HOOK_OP(fwd_hook, NFPROTO_IPV6, NF_INET_LOCAL_IN,
			      NF_IP6_PRI_NAT_SRC - 2),
		VIPLB_HOOK_OP(fwd_hook, NFPROTO_IPV6, NF_INET_FORWARD,
			      NF_IP6_PRI_NAT_SRC - 2),
	},
};

/* Unregisters @n NAT lookup functions (of family @afi) from the NAT core. */
void viplb_nat_fns_unregister(struct net *net, int afi,
			      const struct nf_hook_ops *ops, unsigned int n)
{
	while (n--) {
		if (afi)
			nf_nat_ipv6_unregister_fn(net, &ops[n]);
		else
			nf_nat_ipv4_unregister_fn(net, &ops[n]);
	}
}

/* Registers @n NAT lookup functions, all or none (services, nat table). */
int viplb_nat_fns_register(struct net *net, int afi,
			   const struct nf_hook_ops *ops, unsigned int n)
{
	unsigned int i;
	int err;

	for (i = 0; i < n; i++) {
		err = afi ? nf_nat_ipv6_register_fn(net, &ops[i]) :
			    nf_nat_ipv4_register_fn(net, &ops[i]);
		if (err) {
			viplb_nat_fns_unregister(net, afi, ops, i);
			return err;
		}
	}
	return 0;
}

/* nat: conntrack, the NAT lookups and the counting hook of family @afi. */
static int nat_register(struct net *net, int afi)
{
	u8 pf = afi ? NFPROTO_IPV6 : NFPROTO_IPV4;
	int err;

	err = nf_ct_netns_get(net, pf);
	if (err)
		return err;
	err = viplb_nat_fns_register(net, afi, nat_ops[afi],
				     ARRAY_SIZE(nat_ops[afi]));
	if (err)
		goto put_ct;
	err = nf_register_net_hooks(net, count_ops[afi],
				    ARRAY_SIZE(count_ops[afi]));
	if (err)
		goto unregister_fns;
	return 0;

unregister_fns:
	viplb_nat_fns_unregister(net, afi, nat_ops[afi],
				 ARRAY_SIZE(nat_ops[afi]));
put_ct:
	nf_ct_netns_put(net, pf);
	return err;
}

static void nat_unregister(struct net *net, int afi)
{
	nf_unregister_net_hooks(net, count_ops[afi],
				ARRAY_SIZE(count_ops[afi]));
	viplb_nat_fns_unregister(net, afi, nat_ops[afi],
				 ARRAY_SIZE(nat_ops[afi]));
	nf_ct_netns_put(net, afi ? NFPROTO_IPV6 : NFPROTO_IPV4);
}

/*
 * dr and tun: the forwarding hooks of family @afi, and defragmentation
 * before them (IPVS reassembles too); no conntrack, which would make and
 * drop an entry for every packet.
 */
static int fwd_register(struct net *net, struct viplb_net *vn, int afi)
{
	int err;

	err = viplb_fwd_table_alloc(vn);
	if (err)
		return err;
	err = afi ? nf_defrag_ipv6_enable(net) : nf_defrag_ipv4_enable(net);
	if (err)
		return err;
	err = nf_register_net_hooks(net, fwd_ops[afi],
				    ARRAY_SIZE(fwd_ops[afi]));
	if (err) {
		if (afi)
			nf_defrag_ipv6_disable(net);
		else
			nf_defrag_ipv4_disable(net);
	}
	return err;
}

static void fwd_unregister(struct net *net, int afi)
{
	nf_unregister_net_hooks(net, fwd_ops[afi], ARRAY_SIZE(fwd_ops[afi]));
	if (afi)
		nf_defrag_ipv6_disable(net);
	else
		nf_defrag_ipv4_disable(net);
}

/*
 * Registers the hooks that the services of family @afi with @need
 * (VIPLB_NEED_NAT and/or VIPLB_NEED_FWD) use, unless registered already.
 * Caller holds vn->lock.
 */
int viplb_hooks_prepare_af(struct net *net, struct viplb_net *vn, int afi,
			   unsigned int need)
{
	int err;

	if ((need & VIPLB_NEED_NAT) && !vn->nat_hooks[afi]) {
		err = nat_register(net, afi);
		if (err)
			return err;
		vn->nat_hooks[afi] = true;
	}
	if ((need & VIPLB_NEED_FWD) && !vn->fwd_hooks[afi]) {
		err = fwd_register(net, vn, afi);
		if (err)
			return err;
		vn->fwd_hooks[afi] = true;
	}
	return 0;
}

/* What the services of family @afi in @cfg need: VIPLB_NEED_* bits. */
static unsigned int config_needs(const struct viplb_config *cfg, int afi)
{
	unsigned int need = 0;

	if (cfg && cfg->n_nat[afi])
		need |= VIPLB_NEED_NAT;
	if (cfg && cfg->n_fwd[afi])
		need |= VIPLB_NEED_FWD;
	return need;
}

/*
 * Registers the hooks that the services in @cfg need and that are not
 * registered yet.  Caller holds vn->lock.
 */
int viplb_hooks_prepare(struct net *net, struct viplb_net *vn,
			const struct viplb_config *cfg)
{
	int afi, err;

	for (afi = 0; afi < 2; afi++) {
		err = viplb_hooks_prepare_af(net, vn, afi,
					     config_needs(cfg, afi));
		if (err)
			return err;
	}
	return 0;
}

/*
 * Registers the hooks that the live configuration needs, and unregisters
 * the others.  The nat hooks stay while viplb counts nat connections:
 * the NAT core translates the established connections of deleted nat
 * services only while some NAT function of the family is registered.
 * After viplb_hooks_prepare() of the live configuration it only
 * unregisters, and cannot fail.  Caller holds vn->lock.
 */
int viplb_hooks_sync(struct net *net, struct viplb_net *vn)
{
	struct viplb_config *cfg = viplb_live_config(vn);
	unsigned int need;
	int afi, err;

	err = viplb_hooks_prepare(net, vn, cfg);
	if (err)
		return err;
	for (afi = 0; afi < 2; afi++) {
		need = config_needs(cfg, afi);
		if (vn->fwd_hooks[afi] && !(need & VIPLB_NEED_FWD)) {
			fwd_unregister(net, afi);
			vn->fwd_hooks[afi] = false;
		}
		if (vn->nat_hooks[afi] && !(need & VIPLB_NEED_NAT) &&
		    !viplb_nat_flows_active(vn)) {
			nat_unregister(net, afi);
			vn->nat_hooks[afi] = false;
		}
	}
	if (cfg && cfg->n_services)
		viplb_est_start(vn);
	return 0;
}

/* Unregisters every hook of the netns (netns exit). */
void viplb_hooks_release(struct net *net, struct viplb_net *vn)
{
	int afi;

	for (afi = 0; afi < 2; afi++) {
		if (vn->fwd_hooks[afi])
			fwd_unregister(net, afi);
		if (vn->nat_hooks[afi])
			nat_unregister(net, afi);
		vn->fwd_hooks[afi] = false;
		vn->nat_hooks[afi] = false;
	}
}
