// SPDX-License-Identifier: GPL-2.0
/*
 * The vlans map: the VLAN devices of this netns, read from rtnetlink, so
 * that the XDP program can send a packet whose route leaves by a VLAN
 * device tagged on the device below it (bpf_fib_lookup() names the VLAN
 * device and says nothing of its tag).  A VLAN device created since the
 * last refresh is not in the map: the program passes its packets to the
 * stack (pass_no_tx_port) rather than send them untagged.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>
#include <bpf/bpf.h>

#include "util.h"
#include "xdp.h"

/* Room for one message of a link dump (libmnl's own wants 32 KiB too). */
#define DUMP_BUF_SIZE 32768

struct vlan_dev {
	__u32 ifindex;
	struct viplb_xdp_vlan v;
};

struct vlan_list {
	struct vlan_dev *dev;
	size_t nr, cap;
};

/* The VLAN data of IFLA_LINKINFO into @v; false if not a VLAN device. */
static bool parse_linkinfo(const struct nlattr *info, struct viplb_xdp_vlan *v)
{
	const struct nlattr *a, *d;
	bool is_vlan = false, has_id = false;

	mnl_attr_for_each_nested(a, info) {
		if (mnl_attr_get_type(a) == IFLA_INFO_KIND)
			is_vlan = !strcmp(mnl_attr_get_str(a), "vlan");
	}
	if (!is_vlan)
		return false;
	v->proto = htons(0x8100); /* ETH_P_8021Q, unless it says otherwise */
	mnl_attr_for_each_nested(a, info) {
		if (mnl_attr_get_type(a) != IFLA_INFO_DATA)
			continue;
		mnl_attr_for_each_nested(d, a) {
			if (mnl_attr_get_type(d) == IFLA_VLAN_ID) {
				v->vid = mnl_attr_get_u16(d);
				has_id = true;
			} else if (mnl_attr_get_type(d) == IFLA_VLAN_PROTOCOL) {
				v->proto = mnl_attr_get_u16(d); /* network order */
			}
		}
	}
	return has_id;
}

bool xdp_vlan_of_link(const struct nlmsghdr *nlh, __u32 *ifindex,
		      struct viplb_xdp_vlan *v)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	bool vlan = false, lower = false, other_netns = false;

	memset(v, 0, sizeof(*v));
	mnl_attr_for_each(a, nlh, sizeof(*ifi)) {
		switch (mnl_attr_get_type(a)) {
		case IFLA_LINK:
			v->lower = mnl_attr_get_u32(a);
			lower = true;
			break;
		case IFLA_LINK_NETNSID:
			other_netns = true;
			break;
		case IFLA_LINKINFO:
			vlan = parse_linkinfo(a, v);
			break;
		}
	}
	*ifindex = ifi->ifi_index;
	/* Its lower device elsewhere: no device here sends its frames. */
	return vlan && lower && !other_netns;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct vlan_list *list = data;
	struct viplb_xdp_vlan v;
	__u32 ifindex;

	if (!xdp_vlan_of_link(nlh, &ifindex, &v))
		return MNL_CB_OK;
	if (grow_array(list->dev, list->nr, list->cap, 16))
		return MNL_CB_ERROR;
	list->dev[list->nr].ifindex = ifindex;
	list->dev[list->nr++].v = v;
	return MNL_CB_OK;
}

/* Every VLAN device of the netns, by an RTM_GETLINK dump. */
static int read_vlans(struct vlan_list *list)
{
	char buf[DUMP_BUF_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	unsigned int seq, portid;
	int n, err = 0;

	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq = 1;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			err = -errno;
			break;
		}
		n = mnl_cb_run(buf, n, seq, portid, link_cb, list);
		if (n <= MNL_CB_STOP) {
			err = n < 0 ? -errno : 0;
			break;
		}
	}
out:
	mnl_socket_close(nl);
	return err;
}

int xdp_vlans_sync(struct xdp_maps *m)
{
	struct vlan_list list = { 0 };
	__u32 key, next, *stale = NULL;
	size_t nstale = 0, i, j;
	bool first = true;
	int err;

	if (m->vlans < 0)
		return 0;
	err = read_vlans(&list);
	if (err)
		goto out;
	/* Entries of devices gone, then the devices there are now. */
	stale = calloc(VIPLB_XDP_MAX_VLANS, sizeof(*stale));
	if (!stale) {
		err = -ENOMEM;
		goto out;
	}
	while (nstale < VIPLB_XDP_MAX_VLANS &&
	       !bpf_map_get_next_key(m->vlans, first ? NULL : &key, &next)) {
		first = false;
		key = next;
		for (j = 0; j < list.nr && list.dev[j].ifindex != key; j++)
			;
		if (j == list.nr)
			stale[nstale++] = key;
	}
	for (i = 0; i < nstale; i++)
		if (bpf_map_delete_elem(m->vlans, &stale[i]) && errno != ENOENT)
			err = -errno;
	for (i = 0; i < list.nr; i++)
		if (bpf_map_update_elem(m->vlans, &list.dev[i].ifindex,
					&list.dev[i].v, BPF_ANY))
			err = -errno;
out:
	free(stale);
	free(list.dev);
	return err;
}
