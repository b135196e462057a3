// SPDX-License-Identifier: GPL-2.0
/*
 * Announcements: with -a DEV, each VIP that can be served is an address
 * on DEV (a /32 or /128), which a routing daemon announces; BIRD's
 * "protocol direct" turns DEV's addresses into routes and exports them
 * over BGP.  So the announcement follows the address:
 *
 *   a VIP with a backend up (and a weight above 0) is added to DEV;
 *   a VIP whose backends have all had a result, none up, is deleted;
 *   a VIP with no result yet is left as DEV has it (a restart of viplbd
 *   does not withdraw what it announced);
 *   at exit (SIGTERM, SIGINT) every VIP is deleted: the director shuts
 *   down, its routes are withdrawn.
 *
 * A VIP is the address of services with health lines, whatever their
 * port and protocol: it is up if any of their backends is.  The addresses
 * viplbd adds carry IFA_PROTO VIPLBD_ADDR_PROTO; those are its own, and it
 * deletes those that are no VIP of its configuration.  Others on DEV are
 * left alone, a VIP among them too (someone else holds it).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "errors.h"
#include "rtnl.h"
#include "util.h"
#include "viplbd.h"

/* One VIP: what its members say, and whether DEV has it. */
struct vip {
	uint16_t af;
	union inet_addr addr;
	unsigned int up; /* members serving */
	unsigned int decided; /* members with a result */
	unsigned int total;
	bool present; /* an address of ours on DEV */
	bool foreign; /* on DEV, but not ours: left alone */
};

struct vip_set {
	struct vip *v;
	size_t nr, cap;
};

static struct rtnl *rt;
static int ifindex;
static char devname[IF_NAMESIZE];
static bool dirty;

static bool serving(const struct member *m)
{
	return m->state == STATE_UP && !m->missing &&
	       (!m->weight_known || m->weight > 0);
}

static int cmp_vip(const void *a, const void *b)
{
	const struct vip *x = a, *y = b;

	if (x->af != y->af)
		return x->af < y->af ? -1 : 1;
	return memcmp(&x->addr, &y->addr, sizeof(x->addr));
}

static struct vip *vip_find(struct vip_set *s, uint16_t af,
			    const union inet_addr *addr)
{
	struct vip key = { .af = af };

	memcpy(&key.addr, addr, addr_len(af));
	return bsearch(&key, s->v, s->nr, sizeof(*s->v), cmp_vip);
}

/* The VIPs of the members, sorted, each with its counts. */
static int collect(struct vip_set *s)
{
	const struct member *m;
	struct vip *v;
	size_t i, n = 0;

	for (i = 0; i < cfg.nr; i++) {
		m = cfg.members[i];
		if (grow_array(s->v, s->nr, s->cap, 16))
			return -ENOMEM;
		v = &s->v[s->nr++];
		memset(v, 0, sizeof(*v));
		v->af = m->key.svc.af;
		memcpy(&v->addr, &m->key.svc.addr, addr_len(v->af));
		v->up = serving(m);
		v->decided = m->state != STATE_UNKNOWN;
		v->total = 1;
	}
	qsort(s->v, s->nr, sizeof(*s->v), cmp_vip);
	/* Merge the entries of one VIP. */
	for (i = 0; i < s->nr; i++) {
		if (n && !cmp_vip(&s->v[n - 1], &s->v[i])) {
			s->v[n - 1].up += s->v[i].up;
			s->v[n - 1].decided += s->v[i].decided;
			s->v[n - 1].total += s->v[i].total;
		} else {
			s->v[n++] = s->v[i];
		}
	}
	s->nr = n;
	return 0;
}

static int addr_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (type <= IFA_MAX)
		tb[type] = a;
	return MNL_CB_OK;
}

/* Our addresses on DEV: marked present in the set, or else appended. */
struct dump {
	struct vip_set *vips;
	struct vip_set stale; /* ours, but no VIP */
};

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IFA_MAX + 1] = { NULL };
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct dump *d = data;
	union inet_addr addr = { 0 };
	unsigned int len;
	struct vip *v;
	bool ours;

	if (nlh->nlmsg_type != RTM_NEWADDR || (int)ifa->ifa_index != ifindex ||
	    (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return MNL_CB_OK;
	len = addr_len(ifa->ifa_family);
	mnl_attr_parse(nlh, sizeof(*ifa), addr_attr, tb);
	if (!tb[IFA_ADDRESS] || mnl_attr_get_payload_len(tb[IFA_ADDRESS]) != len)
		return MNL_CB_OK;
	memcpy(&addr, mnl_attr_get_payload(tb[IFA_ADDRESS]), len);
	ours = tb[IFA_PROTO] &&
	       mnl_attr_get_u8(tb[IFA_PROTO]) == VIPLBD_ADDR_PROTO;
	v = vip_find(d->vips, ifa->ifa_family, &addr);
	if (v) {
		v->present |= ours;
		v->foreign |= !ours;
		return MNL_CB_OK;
	}
	if (!ours)
		return MNL_CB_OK;
	if (grow_array(d->stale.v, d->stale.nr, d->stale.cap, 4))
		return MNL_CB_ERROR;
	v = &d->stale.v[d->stale.nr++];
	memset(v, 0, sizeof(*v));
	v->af = ifa->ifa_family;
	v->addr = addr;
	v->present = true;
	return MNL_CB_OK;
}

static int addr_dump(struct dump *d)
{
	struct nlmsghdr *nlh = rtnl_msg(rt, RTM_GETADDR, NLM_F_DUMP);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

	ifa->ifa_family = AF_UNSPEC;
	return rtnl_talk(rt, nlh, addr_cb, d);
}

/* Add (a /32 or /128 of ours) or delete the address of v on DEV. */
static int addr_write(const struct vip *v, bool add)
{
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	unsigned int len = addr_len(v->af);

	nlh = rtnl_msg(rt, add ? RTM_NEWADDR : RTM_DELADDR,
		       NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_REPLACE : 0));
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = v->af;
	ifa->ifa_prefixlen = 8 * len;
	ifa->ifa_index = ifindex;
	/* No duplicate address detection: the address is the director's. */
	ifa->ifa_flags = v->af == AF_INET6 ? IFA_F_NODAD : 0;
	mnl_attr_put(nlh, IFA_LOCAL, len, &v->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, len, &v->addr);
	if (add)
		mnl_attr_put_u8(nlh, IFA_PROTO, VIPLBD_ADDR_PROTO);
	return rtnl_talk(rt, nlh, NULL, NULL);
}

static void change(const struct vip *v, bool add, const char *why)
{
	char buf[INET6_ADDRSTRLEN];
	int err = addr_write(v, add);

	format_addr(buf, sizeof(buf), v->af, &v->addr);
	if (err && !(err == -EADDRNOTAVAIL && !add))
		logmsg("%s %s %s %s: %s", add ? "announcing" : "withdrawing",
		       buf, add ? "on" : "from", devname, strerror(-err));
	else
		logmsg("%s %s %s %s: %s", add ? "announced" : "withdrew", buf,
		       add ? "on" : "from", devname, why);
}

int announce_open(const char *dev)
{
	int err;

	if (strlen(dev) >= sizeof(devname) || !(ifindex = if_nametoindex(dev))) {
		errmsg("no device `%s' to announce the VIPs on", quote_arg(dev));
		return -1;
	}
	snprintf(devname, sizeof(devname), "%s", dev);
	rt = calloc(1, sizeof(*rt));
	err = rt ? rtnl_open(rt) : -ENOMEM;
	if (err) {
		errmsg("route netlink socket: %s", strerror(-err));
		free(rt);
		rt = NULL;
		return -1;
	}
	dirty = true;
	return 0;
}

void announce_changed(void)
{
	dirty = true;
}

void announce_flush(bool reassert)
{
	struct vip_set vips = { 0 };
	struct dump d = { .vips = &vips };
	char why[96];
	struct vip *v;
	size_t i;
	int err;

	if (!rt || (!dirty && !reassert))
		return;
	dirty = false;
	err = collect(&vips);
	if (!err)
		err = addr_dump(&d);
	if (err) {
		logmsg("announcements: reading %s: %s", devname,
		       strerror(-err));
		dirty = true; /* again at the next turn */
		goto out;
	}
	for (i = 0; i < vips.nr; i++) {
		v = &vips.v[i];
		if (v->up && !v->present && !v->foreign) {
			snprintf(why, sizeof(why), "%u of %u backends up",
				 v->up, v->total);
			change(v, true, why);
		} else if (!v->up && v->present && v->decided == v->total) {
			snprintf(why, sizeof(why), "no backend up (%u checked)",
				 v->total);
			change(v, false, why);
		}
	}
	for (i = 0; i < d.stale.nr; i++)
		change(&d.stale.v[i], false, "no service of the configuration");
out:
	free(vips.v);
	free(d.stale.v);
}

void announce_close(void)
{
	struct vip_set none = { 0 };
	struct dump d = { .vips = &none };
	size_t i;
	int err;

	if (!rt)
		return;
	err = addr_dump(&d);
	if (err)
		logmsg("announcements: reading %s: %s", devname,
		       strerror(-err));
	for (i = 0; i < d.stale.nr; i++)
		change(&d.stale.v[i], false, "shutting down");
	free(d.stale.v);
	rtnl_close(rt);
	free(rt);
	rt = NULL;
}
