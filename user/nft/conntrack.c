// SPDX-License-Identifier: GPL-2.0
/*
 * backend del ... flush on nf_tables: delete the backend's conntrack
 * entries over ctnetlink.  The entries of the service (original
 * destination VIP, protocol, port) that were DNATed to the backend (reply
 * source the backend) are dumped first, then deleted one by one by their
 * original tuple; the next packet of such a flow is a new connection.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "nft.h"

/* The original tuples (raw nested attributes) to delete, and the zones. */
struct victims {
	const struct svc_key *svc;
	const struct be_key *be;
	char **tuples;
	uint16_t *lens;
	uint16_t *zones;
	bool *has_zone;
	size_t nr, cap;
	int err;
};

/* The attributes of a nest, by type, up to @max. */
static void nest_parse(const struct nlattr *nest, const struct nlattr **tb,
		       unsigned int max)
{
	const struct nlattr *a;

	memset(tb, 0, (max + 1) * sizeof(*tb));
	mnl_attr_for_each_nested(a, nest)
		if (mnl_attr_get_type(a) <= max)
			tb[mnl_attr_get_type(a)] = a;
}

/* A tuple's address (@dst or source), protocol and port, if present. */
static bool tuple_get(const struct nlattr *tuple, uint16_t af, bool dst,
		      union inet_addr *addr, uint8_t *proto, uint16_t *port)
{
	const struct nlattr *t[CTA_TUPLE_MAX + 1], *ip[CTA_IP_MAX + 1],
		*pr[CTA_PROTO_MAX + 1], *a, *p;

	nest_parse(tuple, t, CTA_TUPLE_MAX);
	if (!t[CTA_TUPLE_IP] || !t[CTA_TUPLE_PROTO])
		return false;
	nest_parse(t[CTA_TUPLE_IP], ip, CTA_IP_MAX);
	nest_parse(t[CTA_TUPLE_PROTO], pr, CTA_PROTO_MAX);
	if (af == AF_INET)
		a = ip[dst ? CTA_IP_V4_DST : CTA_IP_V4_SRC];
	else
		a = ip[dst ? CTA_IP_V6_DST : CTA_IP_V6_SRC];
	p = pr[dst ? CTA_PROTO_DST_PORT : CTA_PROTO_SRC_PORT];
	if (!a || mnl_attr_get_payload_len(a) != addr_len(af) ||
	    !pr[CTA_PROTO_NUM] || !p)
		return false;
	memset(addr, 0, sizeof(*addr));
	memcpy(addr, mnl_attr_get_payload(a), addr_len(af));
	*proto = mnl_attr_get_u8(pr[CTA_PROTO_NUM]);
	*port = ntohs(mnl_attr_get_u16(p));
	return true;
}

static int add_victim(struct victims *v, const struct nlattr *orig,
		      const struct nlattr *zone)
{
	uint16_t len = mnl_attr_get_payload_len(orig);

	if (v->nr == v->cap) {
		size_t cap = v->cap ? 2 * v->cap : 64;
		void *t = realloc(v->tuples, cap * sizeof(*v->tuples));
		void *l = t ? realloc(v->lens, cap * sizeof(*v->lens)) : NULL;
		void *z = l ? realloc(v->zones, cap * sizeof(*v->zones)) : NULL;
		void *h = z ? realloc(v->has_zone, cap * sizeof(*v->has_zone)) :
			      NULL;

		if (t)
			v->tuples = t;
		if (l)
			v->lens = l;
		if (z)
			v->zones = z;
		if (!h)
			return -ENOMEM;
		v->has_zone = h;
		v->cap = cap;
	}
	v->tuples[v->nr] = malloc(len);
	if (!v->tuples[v->nr])
		return -ENOMEM;
	memcpy(v->tuples[v->nr], mnl_attr_get_payload(orig), len);
	v->lens[v->nr] = len;
	v->has_zone[v->nr] = zone;
	v->zones[v->nr] = zone ? mnl_attr_get_u16(zone) : 0;
	v->nr++;
	return 0;
}

static int entry_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[CTA_MAX + 1] = { 0 }, *a;
	struct victims *v = data;
	union inet_addr oaddr, raddr;
	uint16_t oport, rport, want;
	uint8_t oproto, rproto;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) <= CTA_MAX)
			tb[mnl_attr_get_type(a)] = a;
	if (!tb[CTA_TUPLE_ORIG] || !tb[CTA_TUPLE_REPLY] ||
	    !tuple_get(tb[CTA_TUPLE_ORIG], v->svc->af, true, &oaddr, &oproto,
		       &oport) ||
	    !tuple_get(tb[CTA_TUPLE_REPLY], v->svc->af, false, &raddr,
		       &rproto, &rport))
		return MNL_CB_OK;
	want = v->be->port ? v->be->port : oport;
	if (oproto != v->svc->proto ||
	    memcmp(&oaddr, &v->svc->addr, addr_len(v->svc->af)) ||
	    (v->svc->port && oport != v->svc->port) ||
	    memcmp(&raddr, &v->be->addr, addr_len(v->svc->af)) ||
	    rport != want)
		return MNL_CB_OK;
	if (!v->err)
		v->err = add_victim(v, tb[CTA_TUPLE_ORIG], tb[CTA_ZONE]);
	return MNL_CB_OK;
}

static struct nlmsghdr *ct_msg(char *buf, uint8_t type, uint16_t flags,
			       uint16_t af, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = af;
	g->version = NFNETLINK_V0;
	g->res_id = 0;
	return nlh;
}

/* Send @nlh and run the replies through @cb until done.  0 or -errno. */
static int ct_talk(struct mnl_socket *nl, struct nlmsghdr *nlh,
		   mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t portid = mnl_socket_get_portid(nl);
	ssize_t n;
	int ret;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(buf, n, nlh->nlmsg_seq, portid, cb, data);
		if (ret < 0)
			return -errno;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

int nft_ct_flush(const struct svc_key *svc, const struct be_key *be)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct victims v = { .svc = svc, .be = be };
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	uint32_t seq = time(NULL);
	int err;
	size_t i;

	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto out;
	}
	nlh = ct_msg(buf, IPCTNL_MSG_CT_GET, NLM_F_DUMP | NLM_F_ACK, svc->af,
		     seq++);
	err = ct_talk(nl, nlh, entry_cb, &v);
	if (!err)
		err = v.err;
	for (i = 0; !err && i < v.nr; i++) {
		struct nlattr *nest;

		nlh = ct_msg(buf, IPCTNL_MSG_CT_DELETE, NLM_F_ACK, svc->af,
			     seq++);
		nest = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
		memcpy(mnl_nlmsg_get_payload_tail(nlh), v.tuples[i], v.lens[i]);
		nlh->nlmsg_len += MNL_ALIGN(v.lens[i]);
		mnl_attr_nest_end(nlh, nest);
		if (v.has_zone[i])
			mnl_attr_put_u16(nlh, CTA_ZONE, v.zones[i]);
		err = ct_talk(nl, nlh, NULL, NULL);
		/* Gone meanwhile (timed out, closed): as good as deleted. */
		if (err == -ENOENT)
			err = 0;
	}
out:
	for (i = 0; i < v.nr; i++)
		free(v.tuples[i]);
	free(v.tuples);
	free(v.lens);
	free(v.zones);
	free(v.has_zone);
	mnl_socket_close(nl);
	return err;
}
