// SPDX-License-Identifier: GPL-2.0
/*
 * tcp checks outside the director's stack (viplbd -x).  Where viplb's XDP
 * program is attached to the device that the route to a backend leaves
 * by, and its pinned maps have hc_probes and hc_results, the IPv4 SYN of
 * a check goes out as an Ethernet frame on an AF_PACKET socket: no route
 * lookup, netfilter or conntrack (the device's qdisc, though: a burst
 * that the device cannot take at once waits there, as the stack's would,
 * where PACKET_QDISC_BYPASS would drop it).  Before each batch is sent, one
 * bpf() call puts its checks into hc_probes; the XDP program takes their
 * replies (bpf/health.h), resets a SYN-ACK itself, and hands each result
 * over in hc_results, which syn_drain() reads with the raw sockets.
 *
 * A frame's addresses come from the kernel (rtnetlink): the route to the
 * backend (its device and gateway), that device's address and XDP
 * program, and the next hop's neighbour entry, which must be valid.  They
 * are kept per backend.  A check sent here that got no reply sends the
 * next one through the stack (syn.c's raw socket), which makes the
 * kernel resolve the neighbour again; the one after looks it all up
 * anew.  Anything else goes through the stack as before: IPv6, another
 * device, no neighbour entry yet.  Each sync looks at the pinned
 * program again: XDP attached after viplbd started, detached, or
 * attached anew (new maps) is followed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/if_packet.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <viplb/xdp.h>

#include "rtnl.h"
#include "util.h"
#include "viplbd.h"
#include "xdp.h"

#define SXDP_BATCH 64
/* How long a device's XDP program and address are trusted (ms). */
#define LINK_TTL_MS 5000
/*
 * A backend whose addresses could not be looked up twice in a row (no
 * route, another device, no valid neighbour entry) is looked up again
 * after this long (ms), its checks through the stack meanwhile.
 */
#define RESOLVE_BACKOFF_MS 30000
#define LINKS 64

bool sxdp_wanted;

static int probes_fd = -1, afp_fd = -1;
static struct ring_buffer *results;
/* The pinned program's id that sxdp_open() took (0: none). */
static __u32 prog_id;
static struct rtnl *rt;

/* Devices looked up: whether viplb's program is on each, its address. */
static struct link_info {
	int ifindex;
	bool ours;
	uint8_t mac[ETH_ALEN];
	uint64_t at_ms;
} links[LINKS];

/* The batch: frames, their checks and members. */
static struct sxdp_queue {
	unsigned int n;
	struct member *m[SXDP_BATCH];
	struct viplb_xdp_hc_key keys[SXDP_BATCH];
	struct viplb_xdp_hc_probe vals[SXDP_BATCH];
	struct mmsghdr msgs[SXDP_BATCH];
	struct iovec iov[SXDP_BATCH];
	struct sockaddr_ll to[SXDP_BATCH];
	uint8_t frame[SXDP_BATCH][ETH_HLEN + SXDP_PKT_MAX];
} q;

void sxdp_close(void)
{
	if (results)
		ring_buffer__free(results);
	results = NULL;
	if (probes_fd >= 0)
		close(probes_fd);
	probes_fd = -1;
	if (afp_fd >= 0)
		close(afp_fd);
	afp_fd = -1;
	if (rt) {
		rtnl_close(rt);
		free(rt);
	}
	rt = NULL;
}

static int on_result(void *ctx, void *data, size_t len);

/* The id of the program pinned in this netns's XDP state: 0, or an errno. */
static int pinned_prog_id(__u32 *id)
{
	struct bpf_prog_info info = { 0 };
	__u32 info_len = sizeof(info);
	char path[PATH_MAX];
	int fd, err = 0;

	*id = 0;
	if (!xdp_pin_dir())
		return ENOENT;
	xdp_pin_path(path, sizeof(path), "prog");
	fd = bpf_obj_get(path);
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &info_len))
		err = errno;
	else
		*id = info.id;
	if (fd >= 0)
		close(fd);
	return err;
}

void sxdp_open(void)
{
	char path[PATH_MAX];
	int fd, err;

	if (!sxdp_wanted)
		return;
	if (xdp_pin_dir_check("viplbd -x")) {
		logmsg("tcp checks stay in the stack (-x): no XDP state in this netns");
		return;
	}
	err = pinned_prog_id(&prog_id);
	if (err) {
		xdp_pin_path(path, sizeof(path), "prog");
		logmsg("tcp checks stay in the stack (-x): %s: %s", path,
		       strerror(err));
		return;
	}
	xdp_pin_path(path, sizeof(path), XDP_MAP_HC_PROBES);
	probes_fd = bpf_obj_get(path);
	fd = -1;
	if (probes_fd >= 0) {
		xdp_pin_path(path, sizeof(path), XDP_MAP_HC_RESULTS);
		fd = bpf_obj_get(path);
	}
	if (fd < 0) {
		logmsg("tcp checks stay in the stack (-x): %s: %s (viplb xdp detach, then attach, pins it)",
		       path, strerror(errno));
		sxdp_close();
		return;
	}
	results = ring_buffer__new(fd, on_result, NULL, NULL);
	err = results ? 0 : errno;
	close(fd);
	afp_fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	rt = calloc(1, sizeof(*rt));
	if (!err && (afp_fd < 0 || !rt))
		err = afp_fd < 0 ? errno : ENOMEM;
	if (!err)
		err = -rtnl_open(rt);
	if (err) {
		logmsg("tcp checks stay in the stack (-x): %s", strerror(err));
		sxdp_close();
		return;
	}
	logmsg("tcp checks (IPv4) leave on AF_PACKET where viplb's XDP program (id %u) takes their replies",
	       prog_id);
}

void sxdp_refresh(void)
{
	__u32 id;

	if (!sxdp_wanted)
		return;
	pinned_prog_id(&id);
	if (id == prog_id)
		return;
	/* Checks in flight that way end as timeouts. */
	sxdp_close();
	memset(links, 0, sizeof(links));
	if (id) {
		sxdp_open();
		return;
	}
	prog_id = 0;
	logmsg("tcp checks go through the stack (-x): viplb's XDP program is gone");
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_info *l = data;
	const struct nlattr *a, *x;

	mnl_attr_for_each(a, nlh, sizeof(struct ifinfomsg)) {
		if (mnl_attr_get_type(a) == IFLA_ADDRESS &&
		    mnl_attr_get_payload_len(a) == ETH_ALEN)
			memcpy(l->mac, mnl_attr_get_payload(a), ETH_ALEN);
		if (mnl_attr_get_type(a) != IFLA_XDP)
			continue;
		mnl_attr_for_each_nested(x, a)
			if (mnl_attr_get_type(x) == IFLA_XDP_PROG_ID &&
			    mnl_attr_get_payload_len(x) == 4)
				l->ours = mnl_attr_get_u32(x) == prog_id;
	}
	return MNL_CB_OK;
}

/* Device @ifindex, looked up at most every LINK_TTL_MS. */
static const struct link_info *link_of(int ifindex)
{
	struct link_info *l = NULL, *oldest = &links[0];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	uint64_t now = now_ms();
	unsigned int i;

	for (i = 0; i < LINKS && !l; i++) {
		if (links[i].ifindex == ifindex)
			l = &links[i];
		else if (links[i].at_ms < oldest->at_ms)
			oldest = &links[i];
	}
	if (l && now - l->at_ms < LINK_TTL_MS)
		return l;
	if (!l)
		l = oldest;
	memset(l, 0, sizeof(*l));
	nlh = rtnl_msg(rt, RTM_GETLINK, NLM_F_ACK);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = ifindex;
	if (rtnl_talk(rt, nlh, link_cb, l))
		return NULL;
	l->ifindex = ifindex;
	l->at_ms = now;
	return l;
}

struct route {
	int oif;
	struct in_addr via;
};

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route *r = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;

	if (rtm->rtm_type != RTN_UNICAST)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*rtm)) {
		if (mnl_attr_get_type(a) == RTA_OIF &&
		    mnl_attr_get_payload_len(a) == 4)
			r->oif = mnl_attr_get_u32(a);
		if (mnl_attr_get_type(a) == RTA_GATEWAY &&
		    mnl_attr_get_payload_len(a) == 4)
			memcpy(&r->via, mnl_attr_get_payload(a), 4);
	}
	return MNL_CB_OK;
}

struct neigh {
	bool valid;
	uint8_t mac[ETH_ALEN];
};

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	struct neigh *n = data;
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;

	if (!(ndm->ndm_state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY |
				NUD_PROBE | NUD_PERMANENT)))
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*ndm))
		if (mnl_attr_get_type(a) == NDA_LLADDR &&
		    mnl_attr_get_payload_len(a) == ETH_ALEN) {
			memcpy(n->mac, mnl_attr_get_payload(a), ETH_ALEN);
			n->valid = true;
		}
	return MNL_CB_OK;
}

/* @m's frame addresses, from the kernel: true if it may go here. */
static bool resolve(struct member *m)
{
	const struct sockaddr_in *dst = (const void *)&m->dst;
	const struct link_info *l;
	struct route r = { 0 };
	struct neigh n = { 0 };
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	struct ndmsg *ndm;

	nlh = rtnl_msg(rt, RTM_GETROUTE, NLM_F_ACK);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 32;
	mnl_attr_put(nlh, RTA_DST, 4, &dst->sin_addr);
	if (rtnl_talk(rt, nlh, route_cb, &r) || !r.oif)
		return false;
	l = link_of(r.oif);
	if (!l || !l->ours)
		return false;
	if (!r.via.s_addr)
		r.via = dst->sin_addr;
	nlh = rtnl_msg(rt, RTM_GETNEIGH, NLM_F_ACK);
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = AF_INET;
	ndm->ndm_ifindex = r.oif;
	mnl_attr_put(nlh, NDA_DST, 4, &r.via);
	if (rtnl_talk(rt, nlh, neigh_cb, &n) || !n.valid)
		return false;
	m->sxdp_ifindex = r.oif;
	memcpy(m->sxdp_mac, n.mac, ETH_ALEN);
	memcpy(m->sxdp_mac + ETH_ALEN, l->mac, ETH_ALEN);
	return true;
}

bool sxdp_route(struct member *m)
{
	if (probes_fd < 0 || m->dst.ss_family != AF_INET)
		return false;
	/* The last check sent here got no reply: this one takes the stack. */
	if (m->sxdp_sent && !m->sxdp_replied) {
		m->sxdp_sent = false;
		m->sxdp_known = false;
		return false;
	}
	if (!m->sxdp_known) {
		if (m->sxdp_misses >= 2 && now_ms() < m->sxdp_retry_ms)
			return false;
		m->sxdp_known = resolve(m);
		if (m->sxdp_known)
			m->sxdp_misses = 0;
		else if (++m->sxdp_misses >= 2)
			m->sxdp_retry_ms = now_ms() + RESOLVE_BACKOFF_MS;
	}
	/* The device's program may have gone since. */
	if (m->sxdp_known) {
		const struct link_info *l = link_of(m->sxdp_ifindex);

		m->sxdp_known = l && l->ours;
	}
	return m->sxdp_known;
}

void sxdp_queue(struct member *m, const uint8_t *pkt, size_t len)
{
	const struct iphdr *ip = (const void *)pkt;
	unsigned int k;

	if (q.n == SXDP_BATCH)
		sxdp_flush();
	k = q.n++;
	q.m[k] = m;
	memcpy(q.frame[k], m->sxdp_mac, 2 * ETH_ALEN);
	q.frame[k][12] = ETH_P_IP >> 8;
	q.frame[k][13] = ETH_P_IP & 0xff;
	memcpy(q.frame[k] + ETH_HLEN, pkt, len);
	q.keys[k] = (struct viplb_xdp_hc_key){
		.backend = ip->daddr,
		.local = ip->saddr,
	};
	memcpy(&q.keys[k].local_port, pkt + sizeof(*ip), 2);
	memcpy(&q.keys[k].backend_port, pkt + sizeof(*ip) + 2, 2);
	q.vals[k] = (struct viplb_xdp_hc_probe){
		.ack = htonl(m->syn_isn + 1),
		.sent_ns = m->started_us * 1000,
	};
	memset(&q.to[k], 0, sizeof(q.to[k]));
	q.to[k].sll_family = AF_PACKET;
	q.to[k].sll_protocol = htons(ETH_P_IP);
	q.to[k].sll_ifindex = m->sxdp_ifindex;
	q.to[k].sll_halen = ETH_ALEN;
	memcpy(q.to[k].sll_addr, m->sxdp_mac, ETH_ALEN);
	q.iov[k].iov_base = q.frame[k];
	q.iov[k].iov_len = ETH_HLEN + len;
	memset(&q.msgs[k], 0, sizeof(q.msgs[k]));
	q.msgs[k].msg_hdr.msg_iov = &q.iov[k];
	q.msgs[k].msg_hdr.msg_iovlen = 1;
	q.msgs[k].msg_hdr.msg_name = &q.to[k];
	q.msgs[k].msg_hdr.msg_namelen = sizeof(q.to[k]);
	m->sxdp_sent = true;
	m->sxdp_replied = false;
}

/* A queued check that cannot go here: through the stack. */
static void fall_back(unsigned int k)
{
	struct member *m = q.m[k];

	q.m[k] = NULL;
	if (!m)
		return;
	m->sxdp_sent = false;
	m->sxdp_known = false;
	syn_requeue(m);
}

void sxdp_flush(void)
{
	__u32 count = q.n;
	unsigned int i = 0;
	int n;

	if (!q.n)
		return;
	/* The checks first, so that no reply comes before its entry. */
	if (bpf_map_update_batch(probes_fd, q.keys, q.vals, &count, NULL) &&
	    count < q.n) {
		for (i = count; i < q.n; i++)
			fall_back(i);
		q.n = count;
	}
	i = 0;
	while (i < q.n) {
		n = sendmmsg(afp_fd, q.msgs + i, q.n - i, MSG_DONTWAIT);
		if (n > 0) {
			i += n;
			continue;
		}
		fall_back(i++);
	}
	q.n = 0;
}

void sxdp_forget(struct member *m)
{
	unsigned int i;

	for (i = 0; i < q.n; i++)
		if (q.m[i] == m)
			q.m[i] = NULL;
}

static int on_result(void *ctx, void *data, size_t len)
{
	const struct viplb_xdp_hc_result *r = data;

	(void)ctx;
	if (len < sizeof(*r))
		return 0;
	syn_xdp_reply(&r->key.backend, r->key.backend_port, r->key.local_port,
		      r->ack, r->reply != VIPLB_XDP_HC_SYNACK,
		      r->rtt_ns / 1000);
	return 0;
}

void sxdp_drain(void)
{
	if (results)
		ring_buffer__consume(results);
}
