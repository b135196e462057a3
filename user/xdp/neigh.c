// SPDX-License-Identifier: GPL-2.0
/*
 * The neighbour entries XDP needs.  bpf_fib_lookup() reads the neighbour
 * table but cannot fill it: a backend (or the gateway towards it) that no
 * one has resolved is passed to the stack (fib_no_neigh), and without the
 * module nothing would serve it.
 *
 * After every command that writes the maps, xdp_neigh_sync() makes the
 * table match the services: for the next hop of each dr or tun backend,
 * live or retired (RTM_GETROUTE, as the program's own lookup), an entry
 * flagged managed
 * (NTF_EXT_MANAGED), which the kernel resolves at once and keeps resolved
 * in the background, as Cilium has it do for the same reason.  Entries
 * viplb made carry NDA_PROTOCOL VIPLB_NEIGH_PROTO (xdp.h), so that those no
 * backend needs any more are deleted again.  Entries the administrator
 * made permanent or noarp are left as they are.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>
#include <bpf/bpf.h>

#include <linux/viplb.h>
#include <viplb/hash.h>

#include "errors.h"
#include "rtnl.h"
#include "util.h"
#include "xdp.h"

/* One next hop: an address on a device. */
struct nexthop {
	int ifindex;
	uint8_t family;
	union inet_addr addr;
	uint8_t state; /* of its entry, if any (NUD_*) */
	bool ours; /* the entry carries VIPLB_NEIGH_PROTO */
	bool managed; /* ... and NTF_EXT_MANAGED */
	bool wanted; /* a backend's next hop */
	bool added; /* viplb made its entry now */
};

struct nh_set {
	struct nexthop *v;
	size_t nr, cap;
};

static struct nexthop *nh_find(struct nh_set *s, int ifindex, uint8_t family,
			       const union inet_addr *addr)
{
	size_t len = family == AF_INET ? 4 : 16, i;

	for (i = 0; i < s->nr; i++)
		if (s->v[i].ifindex == ifindex && s->v[i].family == family &&
		    !memcmp(&s->v[i].addr, addr, len))
			return &s->v[i];
	return NULL;
}

static struct nexthop *nh_get(struct nh_set *s, int ifindex, uint8_t family,
			      const union inet_addr *addr)
{
	struct nexthop *nh = nh_find(s, ifindex, family, addr);

	if (nh)
		return nh;
	if (grow_array(s->v, s->nr, s->cap, 16))
		return NULL;
	nh = &s->v[s->nr++];
	memset(nh, 0, sizeof(*nh));
	nh->ifindex = ifindex;
	nh->family = family;
	memcpy(&nh->addr, addr, family == AF_INET ? 4 : 16);
	return nh;
}

static int route_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (type <= RTA_MAX)
		tb[type] = a;
	return MNL_CB_OK;
}

struct route_reply {
	uint8_t family;
	int ifindex;
	union inet_addr via; /* the gateway, or the address itself */
	bool ok;
};

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[RTA_MAX + 1] = { NULL };
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct route_reply *rr = data;
	size_t len = rr->family == AF_INET ? 4 : 16;

	if (rtm->rtm_type != RTN_UNICAST || rtm->rtm_family != rr->family)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*rtm), route_attr, tb);
	if (!tb[RTA_OIF] || mnl_attr_get_payload_len(tb[RTA_OIF]) != 4)
		return MNL_CB_OK;
	rr->ifindex = mnl_attr_get_u32(tb[RTA_OIF]);
	if (tb[RTA_GATEWAY]) {
		/* A gateway of the other family (RTA_VIA) is not followed. */
		if (mnl_attr_get_payload_len(tb[RTA_GATEWAY]) != len)
			return MNL_CB_OK;
		memcpy(&rr->via, mnl_attr_get_payload(tb[RTA_GATEWAY]), len);
	}
	rr->ok = true;
	return MNL_CB_OK;
}

/* Where the kernel would send a packet of its own to addr. */
static int next_hop(struct rtnl *r, uint8_t family,
		    const union inet_addr *addr, struct route_reply *rr)
{
	struct nlmsghdr *nlh = rtnl_msg(r, RTM_GETROUTE, NLM_F_ACK);
	size_t len = family == AF_INET ? 4 : 16;
	struct rtmsg *rtm;
	int err;

	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = family;
	rtm->rtm_dst_len = 8 * len;
	mnl_attr_put(nlh, RTA_DST, len, addr);
	memset(rr, 0, sizeof(*rr));
	rr->family = family;
	memcpy(&rr->via, addr, len);
	err = rtnl_talk(r, nlh, route_cb, rr);
	/* No route: nothing to resolve (the program passes its packets). */
	return err == -ENETUNREACH || err == -EHOSTUNREACH ? 0 : err;
}

static int neigh_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (type <= NDA_MAX)
		tb[type] = a;
	return MNL_CB_OK;
}

/* Each IPv4 and IPv6 entry of the table, into the set (not wanted yet). */
static int neigh_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NDA_MAX + 1] = { NULL };
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	struct nh_set *s = data;
	union inet_addr addr;
	struct nexthop *nh;
	size_t len;

	if (nlh->nlmsg_type != RTM_NEWNEIGH ||
	    (ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6))
		return MNL_CB_OK;
	len = ndm->ndm_family == AF_INET ? 4 : 16;
	mnl_attr_parse(nlh, sizeof(*ndm), neigh_attr, tb);
	if (!tb[NDA_DST] || mnl_attr_get_payload_len(tb[NDA_DST]) != len)
		return MNL_CB_OK;
	memcpy(&addr, mnl_attr_get_payload(tb[NDA_DST]), len);
	nh = nh_get(s, ndm->ndm_ifindex, ndm->ndm_family, &addr);
	if (!nh)
		return MNL_CB_ERROR;
	nh->state = ndm->ndm_state;
	nh->ours = tb[NDA_PROTOCOL] &&
		   mnl_attr_get_u8(tb[NDA_PROTOCOL]) == VIPLB_NEIGH_PROTO;
	nh->managed = tb[NDA_FLAGS_EXT] &&
		      (mnl_attr_get_u32(tb[NDA_FLAGS_EXT]) & NTF_EXT_MANAGED);
	return MNL_CB_OK;
}

static int neigh_dump(struct rtnl *r, struct nh_set *s)
{
	struct nlmsghdr *nlh = rtnl_msg(r, RTM_GETNEIGH, NLM_F_DUMP);
	struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));

	ndm->ndm_family = AF_UNSPEC;
	return rtnl_talk(r, nlh, neigh_dump_cb, s);
}

/* Create (or take over) nh's entry, managed; or delete it. */
static int neigh_write(struct rtnl *r, const struct nexthop *nh, bool add)
{
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;

	nlh = rtnl_msg(r, add ? RTM_NEWNEIGH : RTM_DELNEIGH,
		       NLM_F_ACK | (add ? NLM_F_CREATE : 0));
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = nh->family;
	ndm->ndm_ifindex = nh->ifindex;
	mnl_attr_put(nlh, NDA_DST, nh->family == AF_INET ? 4 : 16, &nh->addr);
	if (add) {
		/* Resolve now (NTF_USE), and keep it resolved. */
		ndm->ndm_state = NUD_NONE;
		ndm->ndm_flags = NTF_USE;
		mnl_attr_put_u32(nlh, NDA_FLAGS_EXT, NTF_EXT_MANAGED);
		mnl_attr_put_u8(nlh, NDA_PROTOCOL, VIPLB_NEIGH_PROTO);
	}
	return rtnl_talk(r, nlh, NULL, NULL);
}

/*
 * Wait, at most a second, until the entries just made are resolved (or
 * have failed), so that a command that adds a backend returns when XDP
 * can send to it: its first packets are not passed for want of a MAC.
 */
static void wait_resolved(struct rtnl *r, const struct nh_set *set)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	struct nh_set now = { 0 };
	const struct nexthop *nh, *cur;
	bool pending = true;
	int tries;
	size_t i;

	for (tries = 0; pending && tries < 50; tries++) {
		now.nr = 0;
		if (neigh_dump(r, &now))
			break;
		pending = false;
		for (i = 0; i < set->nr && !pending; i++) {
			nh = &set->v[i];
			if (!nh->added)
				continue;
			cur = nh_find(&now, nh->ifindex, nh->family, &nh->addr);
			pending = cur && (cur->state == NUD_NONE ||
					  (cur->state & NUD_INCOMPLETE));
		}
		if (pending)
			nanosleep(&pause, NULL);
	}
	free(now.v);
}

static void warn_once(bool *warned, const char *what, int err)
{
	if (*warned)
		return;
	*warned = true;
	errmsg("warning: XDP neighbour entries: %s: %s", what, strerror(-err));
}

/* The ids of the dr and tun services, from the vips map. */
static int forwarded_services(struct xdp_maps *m, unsigned char *fwd)
{
	struct viplb_xdp_vip_key key, next;
	struct viplb_xdp_service val;
	void *prev = NULL;

	while (!bpf_map_get_next_key(m->vips, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(m->vips, &key, &val))
			continue; /* deleted meanwhile */
		if (val.id < VIPLB_XDP_MAX_SERVICES &&
		    (val.mode == VIPLB_MODE_DR || val.mode == VIPLB_MODE_TUN))
			fwd[val.id] = 1;
	}
	return errno == ENOENT ? 0 : -errno;
}

void xdp_neigh_sync(struct xdp_maps *m)
{
	unsigned char *fwd = calloc(VIPLB_XDP_MAX_SERVICES, 1);
	struct rtnl *r = calloc(1, sizeof(*r));
	struct nh_set set = { 0 };
	struct route_reply rr;
	union inet_addr addr;
	struct nexthop *nh;
	bool warned = false;
	uint8_t family;
	size_t i;
	int err;

	if (!r || !fwd) {
		warn_once(&warned, "memory", -ENOMEM);
		goto out;
	}
	err = rtnl_open(r);
	if (err) {
		warn_once(&warned, "rtnetlink socket", err);
		goto out;
	}
	err = neigh_dump(r, &set);
	if (!err && m)
		err = forwarded_services(m, fwd);
	if (err) {
		warn_once(&warned, "reading the table and the services", err);
		goto out;
	}
	/* Retired backends too: their pinned flows still go to them. */
	for (i = 0; m && i < VIPLB_XDP_MAX_BACKENDS; i++) {
		const struct viplb_xdp_backend *e = &m->be[i];

		if ((e->state != VIPLB_XDP_BE_LIVE &&
		     e->state != VIPLB_XDP_BE_RETIRED) ||
		    e->svc_id >= VIPLB_XDP_MAX_SERVICES || !fwd[e->svc_id])
			continue;
		family = e->af == VIPLB_FLOW_AF_INET ? AF_INET : AF_INET6;
		memcpy(&addr, e->addr, sizeof(addr));
		err = next_hop(r, family, &addr, &rr);
		if (err) {
			warn_once(&warned, "route lookup", err);
			continue;
		}
		if (!rr.ok)
			continue;
		nh = nh_get(&set, rr.ifindex, family, &rr.via);
		if (!nh) {
			warn_once(&warned, "memory", -ENOMEM);
			goto out;
		}
		nh->wanted = true;
	}
	for (i = 0; i < set.nr; i++) {
		nh = &set.v[i];
		err = 0;
		if (nh->wanted && !(nh->ours && nh->managed) &&
		    !(nh->state & (NUD_PERMANENT | NUD_NOARP))) {
			err = neigh_write(r, nh, true);
			nh->added = !err;
		} else if (!nh->wanted && nh->ours) {
			err = neigh_write(r, nh, false);
		}
		if (err && err != -ENOENT)
			warn_once(&warned, "writing an entry", err);
	}
	wait_resolved(r, &set);
out:
	if (r)
		rtnl_close(r);
	free(r);
	free(fwd);
	free(set.v);
}
