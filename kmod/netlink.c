// SPDX-License-Identifier: GPL-2.0
/*
 * viplb: the "viplb" generic netlink family.  The commands and their
 * attribute trees are documented in include/uapi/linux/viplb.h.
 */
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/netlink.h>
#include <linux/socket.h>
#include <linux/stringify.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/sock.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_core.h>
#include <net/netfilter/nf_conntrack_zones.h>
#include <viplb/maglev.h>
#include "viplb.h"

static int validate_addr(const struct nlattr *attr,
			 struct netlink_ext_ack *extack)
{
	if (nla_len(attr) != sizeof(struct in_addr) &&
	    nla_len(attr) != sizeof(struct in6_addr)) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "address must be 4 (IPv4) or 16 (IPv6) bytes");
		return -EINVAL;
	}
	return 0;
}

/*
 * Integer attributes use range policies, never NLA_POLICY_VALIDATE_FN: on
 * 6.1, a policy dump in an extack reply reads min/max of integer policies,
 * which would alias the function pointer.  Further checks are done in code.
 */
static struct netlink_range_validation table_size_range = {
	.min = VIPLB_TABLE_SIZE_MIN,
	.max = VIPLB_TABLE_SIZE_MAX,
};

static struct netlink_range_validation weight_range = {
	.min = 0,
	.max = VIPLB_WEIGHT_MAX,
};

static const struct nla_policy svc_policy[VIPLB_SVC_A_MAX + 1] = {
	[0] = { .strict_start_type = 1 },
	[VIPLB_SVC_A_AF] = { .type = NLA_U16 },
	[VIPLB_SVC_A_PROTO] = { .type = NLA_U8 },
	[VIPLB_SVC_A_ADDR] = NLA_POLICY_VALIDATE_FN(NLA_BINARY, validate_addr),
	[VIPLB_SVC_A_PORT] = { .type = NLA_BE16 },
	[VIPLB_SVC_A_SCHED] = NLA_POLICY_MAX(NLA_U32, VIPLB_SCHED_MAX),
	[VIPLB_SVC_A_MODE] = NLA_POLICY_MAX(NLA_U32, VIPLB_MODE_MAX),
	[VIPLB_SVC_A_TABLE_SIZE] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &table_size_range),
	[VIPLB_SVC_A_FLAGS] = NLA_POLICY_MASK(NLA_U32, __VIPLB_SVC_F_ALL),
	[VIPLB_SVC_A_STATS] = { .type = NLA_REJECT },
	[VIPLB_SVC_A_BACKEND] = { .type = NLA_REJECT },
	[VIPLB_SVC_A_TABLE_AUTO] = { .type = NLA_FLAG },
};

static const struct nla_policy be_policy[VIPLB_BE_A_MAX + 1] = {
	[0] = { .strict_start_type = 1 },
	[VIPLB_BE_A_ADDR] = NLA_POLICY_VALIDATE_FN(NLA_BINARY, validate_addr),
	[VIPLB_BE_A_PORT] = { .type = NLA_BE16 },
	[VIPLB_BE_A_WEIGHT] = NLA_POLICY_FULL_RANGE(NLA_U32, &weight_range),
	[VIPLB_BE_A_FLAGS] = NLA_POLICY_MASK(NLA_U32, 0),
	[VIPLB_BE_A_STATS] = { .type = NLA_REJECT },
};

/* Service commands carry only VIPLB_A_SERVICE. */
static const struct nla_policy svc_cmd_policy[VIPLB_A_SERVICE + 1] = {
	[VIPLB_A_SERVICE] = NLA_POLICY_NESTED(svc_policy),
};

/* Backend commands carry the service key and the backend. */
static const struct nla_policy be_cmd_policy[VIPLB_A_BACKEND + 1] = {
	[VIPLB_A_SERVICE] = NLA_POLICY_NESTED(svc_policy),
	[VIPLB_A_BACKEND] = NLA_POLICY_NESTED(be_policy),
};

/* BACKEND_DEL also takes the flush flag. */
static const struct nla_policy be_del_policy[VIPLB_A_FLUSH + 1] = {
	[VIPLB_A_SERVICE] = NLA_POLICY_NESTED(svc_policy),
	[VIPLB_A_BACKEND] = NLA_POLICY_NESTED(be_policy),
	[VIPLB_A_FLUSH] = { .type = NLA_FLAG },
};

static const struct nla_policy lookup_policy[VIPLB_LOOKUP_A_MAX + 1] = {
	[0] = { .strict_start_type = 1 },
	[VIPLB_LOOKUP_A_SRC_ADDR] =
		NLA_POLICY_VALIDATE_FN(NLA_BINARY, validate_addr),
	[VIPLB_LOOKUP_A_SRC_PORT] = { .type = NLA_BE16 },
	[VIPLB_LOOKUP_A_DST_PORT] = { .type = NLA_BE16 },
	[VIPLB_LOOKUP_A_PIN] = { .type = NLA_REJECT },
};

static const struct nla_policy lookup_cmd_policy[VIPLB_A_LOOKUP + 1] = {
	[VIPLB_A_SERVICE] = NLA_POLICY_NESTED(svc_policy),
	[VIPLB_A_LOOKUP] = NLA_POLICY_NESTED(lookup_policy),
};

static const struct nla_policy begin_policy[VIPLB_A_TXN_SCOPE + 1] = {
	[VIPLB_A_TXN_SCOPE] = NLA_POLICY_RANGE(NLA_U32, 1,
					       __VIPLB_TXN_SCOPE_ALL),
};

static const struct nla_policy commit_policy[VIPLB_A_TXN_OPS + 1] = {
	[VIPLB_A_TXN_OPS] = { .type = NLA_U32 },
};

/*
 * FLUSH and TXN_ABORT take no attribute.  Strict validation refuses types
 * above maxattr; type 1 is refused here, with a message.
 */
static const struct nla_policy no_attr_policy[VIPLB_A_SERVICE + 1] = {
	[VIPLB_A_SERVICE] = { .type = NLA_REJECT,
			      .reject_message = "this command takes no attribute" },
};

/* Parses VIPLB_A_SERVICE into @tb and the service key. */
static int parse_svc(struct nlattr *nest, struct nlattr **tb,
		     struct viplb_svc_key *key, struct netlink_ext_ack *extack)
{
	u16 af;
	int err;

	err = nla_parse_nested(tb, VIPLB_SVC_A_MAX, nest, svc_policy, extack);
	if (err)
		return err;
	if (NL_REQ_ATTR_CHECK(extack, nest, tb, VIPLB_SVC_A_AF) ||
	    NL_REQ_ATTR_CHECK(extack, nest, tb, VIPLB_SVC_A_PROTO) ||
	    NL_REQ_ATTR_CHECK(extack, nest, tb, VIPLB_SVC_A_ADDR) ||
	    NL_REQ_ATTR_CHECK(extack, nest, tb, VIPLB_SVC_A_PORT)) {
		NL_SET_ERR_MSG(extack,
			       "service key needs af, proto, addr and port");
		return -EINVAL;
	}

	memset(key, 0, sizeof(*key));
	/* Checked before it is narrowed to key->af (a u8). */
	af = nla_get_u16(tb[VIPLB_SVC_A_AF]);
	key->af = af;
	key->proto = nla_get_u8(tb[VIPLB_SVC_A_PROTO]);
	if (af != AF_INET && af != AF_INET6) {
		NL_SET_ERR_MSG_ATTR(extack, tb[VIPLB_SVC_A_AF],
				    "af must be AF_INET or AF_INET6");
		return -EAFNOSUPPORT;
	}
	if (key->proto != IPPROTO_TCP && key->proto != IPPROTO_UDP) {
		NL_SET_ERR_MSG_ATTR(extack, tb[VIPLB_SVC_A_PROTO],
				    "proto must be IPPROTO_TCP or IPPROTO_UDP");
		return -EPROTONOSUPPORT;
	}
	if (tb[VIPLB_SVC_A_TABLE_SIZE] &&
	    !viplb_maglev_is_prime(nla_get_u32(tb[VIPLB_SVC_A_TABLE_SIZE]))) {
		NL_SET_ERR_MSG_ATTR(extack, tb[VIPLB_SVC_A_TABLE_SIZE],
				    "Maglev table size must be a prime in 251..131071");
		return -EINVAL;
	}
	if (tb[VIPLB_SVC_A_TABLE_SIZE] && tb[VIPLB_SVC_A_TABLE_AUTO]) {
		NL_SET_ERR_MSG_ATTR(extack, tb[VIPLB_SVC_A_TABLE_AUTO],
				    "table-auto and table-size exclude each other");
		return -EINVAL;
	}
	key->port = nla_get_be16(tb[VIPLB_SVC_A_PORT]);
	if (nla_len(tb[VIPLB_SVC_A_ADDR]) !=
	    (key->af == AF_INET ? sizeof(struct in_addr) :
				  sizeof(struct in6_addr))) {
		NL_SET_ERR_MSG_ATTR(extack, tb[VIPLB_SVC_A_ADDR],
				    "service address length does not match af");
		return -EINVAL;
	}
	nla_memcpy(&key->addr, tb[VIPLB_SVC_A_ADDR], sizeof(key->addr));
	return 0;
}

static int get_svc_attr(struct genl_info *info, struct nlattr **tb,
			struct viplb_svc_key *key)
{
	if (GENL_REQ_ATTR_CHECK(info, VIPLB_A_SERVICE)) {
		GENL_SET_ERR_MSG(info, "missing service attribute");
		return -EINVAL;
	}
	return parse_svc(info->attrs[VIPLB_A_SERVICE], tb, key, info->extack);
}

/* Finds the service named by VIPLB_A_SERVICE, or fails with -ENOENT. */
static struct viplb_service *lookup_svc(struct viplb_config *cfg,
					struct genl_info *info,
					struct nlattr **tb)
{
	struct viplb_service *svc;
	struct viplb_svc_key key;
	int err;

	err = get_svc_attr(info, tb, &key);
	if (err)
		return ERR_PTR(err);
	svc = viplb_service_find(cfg, &key);
	if (!svc) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VIPLB_A_SERVICE],
				    "service does not exist");
		return ERR_PTR(-ENOENT);
	}
	return svc;
}

/* Sets what @tb gives of the settings of @svc, not linked yet. */
static void svc_apply_settings(struct viplb_service *svc, struct nlattr **tb)
{
	if (tb[VIPLB_SVC_A_SCHED])
		svc->sched = nla_get_u32(tb[VIPLB_SVC_A_SCHED]);
	if (tb[VIPLB_SVC_A_MODE])
		svc->mode = nla_get_u32(tb[VIPLB_SVC_A_MODE]);
	if (tb[VIPLB_SVC_A_TABLE_SIZE])
		svc->table_size = nla_get_u32(tb[VIPLB_SVC_A_TABLE_SIZE]);
	if (tb[VIPLB_SVC_A_TABLE_AUTO])
		svc->table_size = 0;
	if (tb[VIPLB_SVC_A_FLAGS])
		svc->flags = nla_get_u32(tb[VIPLB_SVC_A_FLAGS]);
}

/*
 * A live change registers the hooks a service of @af with @mode and
 * @flags needs before it changes anything, so that nothing fails after;
 * a transaction does at commit.
 */
static int svc_prepare_hooks(struct viplb_config *cfg, struct genl_info *info,
			     u8 af, u32 mode, u32 flags)
{
	struct net *net = genl_info_net(info);
	int err;

	if (cfg->deferred)
		return 0;
	err = viplb_hooks_prepare_af(net, viplb_pernet(net),
				     viplb_af_index(af),
				     viplb_service_needs(mode, flags));
	if (err)
		GENL_SET_ERR_MSG(info, "cannot register netfilter hooks");
	return err;
}

/*
 * Every configuration command runs through config_apply(): it takes the
 * netns mutex, edits the socket's open transaction if it has one and the
 * live configuration otherwise, and poisons the transaction on failure.
 */
typedef int (*config_fn)(struct viplb_config *cfg, struct genl_info *info);

static int config_apply(struct genl_info *info, config_fn fn)
{
	struct viplb_net *vn = viplb_pernet(genl_info_net(info));
	struct viplb_config *cfg;
	bool in_txn;
	int err;

	mutex_lock(&vn->lock);
	in_txn = viplb_txn_owned(vn, info);
	cfg = in_txn ? vn->txn.cfg : viplb_live_config(vn);
	if (!cfg) {
		GENL_SET_ERR_MSG(info,
				 "the open transaction does not replace services");
		err = -EINVAL;
	} else {
		err = fn(cfg, info);
	}
	if (in_txn) {
		viplb_txn_account(vn, err);
	} else {
		/*
		 * Unregisters what is no longer needed (and what a failed
		 * service_new() registered): service_new() registered what
		 * is, so this cannot fail.
		 */
		if (!err)
			vn->generation++;
		WARN_ON_ONCE(viplb_hooks_sync(genl_info_net(info), vn));
	}
	mutex_unlock(&vn->lock);
	return err;
}

static int service_new(struct viplb_config *cfg, struct genl_info *info)
{
	struct nlattr *tb[VIPLB_SVC_A_MAX + 1];
	struct viplb_service *svc;
	struct viplb_svc_key key;
	int err;

	err = get_svc_attr(info, tb, &key);
	if (err)
		return err;
	if (viplb_service_find(cfg, &key)) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VIPLB_A_SERVICE],
				    "service already exists");
		return -EEXIST;
	}
	if (cfg->n_services >= READ_ONCE(cfg->limits->max_services)) {
		GENL_SET_ERR_MSG(info,
				 "the netns's cap net.viplb.max_services is reached");
		return -ENOSPC;
	}
	svc = viplb_service_alloc(&key);
	if (!svc)
		return -ENOMEM;
	svc_apply_settings(svc, tb);
	err = svc_prepare_hooks(cfg, info, key.af, svc->mode, svc->flags);
	if (!err)
		err = viplb_service_changed(cfg, svc, NULL, info->extack);
	if (err) {
		viplb_service_put(svc);
		return err;
	}
	viplb_service_link(cfg, svc);
	return 0;
}

static int service_set(struct viplb_config *cfg, struct genl_info *info)
{
	struct nlattr *tb[VIPLB_SVC_A_MAX + 1];
	u32 sched, table_size, mode, flags;
	struct viplb_service *svc;
	int err;

	svc = lookup_svc(cfg, info, tb);
	if (IS_ERR(svc))
		return PTR_ERR(svc);
	mode = tb[VIPLB_SVC_A_MODE] ? nla_get_u32(tb[VIPLB_SVC_A_MODE]) :
				      svc->mode;
	flags = tb[VIPLB_SVC_A_FLAGS] ? nla_get_u32(tb[VIPLB_SVC_A_FLAGS]) :
					svc->flags;
	err = svc_prepare_hooks(cfg, info, svc->key.af, mode, flags);
	if (err)
		return err;
	sched = svc->sched;
	table_size = svc->table_size;
	if (tb[VIPLB_SVC_A_SCHED])
		WRITE_ONCE(svc->sched, nla_get_u32(tb[VIPLB_SVC_A_SCHED]));
	if (tb[VIPLB_SVC_A_TABLE_SIZE])
		WRITE_ONCE(svc->table_size,
			   nla_get_u32(tb[VIPLB_SVC_A_TABLE_SIZE]));
	if (tb[VIPLB_SVC_A_TABLE_AUTO])
		WRITE_ONCE(svc->table_size, 0);
	if (sched != svc->sched || table_size != svc->table_size) {
		err = viplb_service_changed(cfg, svc, NULL, info->extack);
		if (err) {
			/* All or nothing: mode and flags are not set yet. */
			WRITE_ONCE(svc->sched, sched);
			WRITE_ONCE(svc->table_size, table_size);
			return err;
		}
	}
	viplb_service_set_mode(cfg, svc, mode, flags);
	return 0;
}

static int service_del(struct viplb_config *cfg, struct genl_info *info)
{
	struct nlattr *tb[VIPLB_SVC_A_MAX + 1];
	struct viplb_service *svc;

	svc = lookup_svc(cfg, info, tb);
	if (IS_ERR(svc))
		return PTR_ERR(svc);
	viplb_service_unlink(cfg, svc);
	viplb_service_put(svc);
	return 0;
}

static int flush(struct viplb_config *cfg, struct genl_info *info)
{
	struct viplb_service *svc, *tmp;

	list_for_each_entry_safe(svc, tmp, &cfg->services, list) {
		viplb_service_unlink(cfg, svc);
		viplb_service_put(svc);
	}
	return 0;
}

/* Parses VIPLB_A_BACKEND; checks its family against the service's. */
static int parse_backend(struct genl_info *info,
			 const struct viplb_service *svc, struct nlattr **tb,
			 union nf_inet_addr *addr, __be16 *port)
{
	struct nlattr *nest = info->attrs[VIPLB_A_BACKEND];
	struct netlink_ext_ack *extack = info->extack;
	int alen;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, VIPLB_A_BACKEND)) {
		GENL_SET_ERR_MSG(info, "missing backend attribute");
		return -EINVAL;
	}
	err = nla_parse_nested(tb, VIPLB_BE_A_MAX, nest, be_policy, extack);
	if (err)
		return err;
	if (NL_REQ_ATTR_CHECK(extack, nest, tb, VIPLB_BE_A_ADDR) ||
	    NL_REQ_ATTR_CHECK(extack, nest, tb, VIPLB_BE_A_PORT)) {
		NL_SET_ERR_MSG(extack, "backend needs addr and port");
		return -EINVAL;
	}
	alen = svc->key.af == AF_INET ? sizeof(struct in_addr) :
					sizeof(struct in6_addr);
	if (nla_len(tb[VIPLB_BE_A_ADDR]) != alen) {
		NL_SET_ERR_MSG_ATTR(extack, tb[VIPLB_BE_A_ADDR],
				    "backend address family differs from the service's");
		return -EAFNOSUPPORT;
	}
	memset(addr, 0, sizeof(*addr));
	nla_memcpy(addr, tb[VIPLB_BE_A_ADDR], sizeof(*addr));
	*port = nla_get_be16(tb[VIPLB_BE_A_PORT]);
	return 0;
}

static void backend_apply_settings(struct viplb_backend *be,
				   struct nlattr **tb)
{
	if (tb[VIPLB_BE_A_WEIGHT])
		WRITE_ONCE(be->weight, nla_get_u32(tb[VIPLB_BE_A_WEIGHT]));
	if (tb[VIPLB_BE_A_FLAGS])
		WRITE_ONCE(be->flags, nla_get_u32(tb[VIPLB_BE_A_FLAGS]));
}

static int backend_new(struct viplb_config *cfg, struct genl_info *info)
{
	struct nlattr *stb[VIPLB_SVC_A_MAX + 1];
	struct nlattr *tb[VIPLB_BE_A_MAX + 1];
	struct viplb_service *svc;
	struct viplb_backend *be;
	union nf_inet_addr addr;
	__be16 port;
	int err;

	svc = lookup_svc(cfg, info, stb);
	if (IS_ERR(svc))
		return PTR_ERR(svc);
	err = parse_backend(info, svc, tb, &addr, &port);
	if (err)
		return err;
	if (viplb_backend_find(svc, &addr, port)) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VIPLB_A_BACKEND],
				    "backend already exists");
		return -EEXIST;
	}
	if (svc->n_backends >= VIPLB_MAX_BACKENDS) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VIPLB_A_BACKEND],
				    "too many backends in this service");
		return -ENOSPC;
	}
	if (cfg->n_backends >= READ_ONCE(cfg->limits->max_backends)) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VIPLB_A_BACKEND],
				    "the netns's cap net.viplb.max_backends is reached");
		return -ENOSPC;
	}
	be = viplb_backend_alloc(svc);
	if (!be)
		return -ENOMEM;
	be->addr = addr;
	be->port = port;
	backend_apply_settings(be, tb);
	viplb_backend_link(cfg, svc, be);
	err = viplb_service_changed(cfg, svc, NULL, info->extack);
	if (err)
		viplb_backend_unlink(cfg, svc, be);
	return err;
}

static struct viplb_backend *lookup_backend(struct viplb_config *cfg,
					    struct genl_info *info,
					    struct nlattr **tb,
					    struct viplb_service **svcp)
{
	struct nlattr *stb[VIPLB_SVC_A_MAX + 1];
	struct viplb_service *svc;
	struct viplb_backend *be;
	union nf_inet_addr addr;
	__be16 port;
	int err;

	svc = lookup_svc(cfg, info, stb);
	if (IS_ERR(svc))
		return ERR_CAST(svc);
	err = parse_backend(info, svc, tb, &addr, &port);
	if (err)
		return ERR_PTR(err);
	be = viplb_backend_find(svc, &addr, port);
	if (!be) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VIPLB_A_BACKEND],
				    "backend does not exist");
		return ERR_PTR(-ENOENT);
	}
	*svcp = svc;
	return be;
}

static int backend_set(struct viplb_config *cfg, struct genl_info *info)
{
	struct nlattr *tb[VIPLB_BE_A_MAX + 1];
	struct viplb_service *svc;
	struct viplb_backend *be;

	u32 weight;
	int err;

	be = lookup_backend(cfg, info, tb, &svc);
	if (IS_ERR(be))
		return PTR_ERR(be);
	weight = be->weight;
	backend_apply_settings(be, tb);
	if (weight == be->weight)
		return 0;
	err = viplb_service_changed(cfg, svc, NULL, info->extack);
	if (err)
		WRITE_ONCE(be->weight, weight);
	return err;
}

static int backend_del(struct viplb_config *cfg, struct genl_info *info)
{
	struct nlattr *tb[VIPLB_BE_A_MAX + 1];
	struct viplb_service *svc;
	struct viplb_backend *be;

	int err;

	be = lookup_backend(cfg, info, tb, &svc);
	if (IS_ERR(be))
		return PTR_ERR(be);
	/* Readers must stop seeing @be before it is unlinked and freed. */
	err = viplb_service_changed(cfg, svc, be, info->extack);
	if (err)
		return err;
	if (info->attrs[VIPLB_A_FLUSH] && !cfg->deferred) {
		struct viplb_net *vn = viplb_pernet(genl_info_net(info));

		/* @be stays allocated: flows and this reference hold it. */
		refcount_inc(&be->ref);
		viplb_backend_unlink(cfg, svc, be);
		viplb_flows_flush_backend(vn, svc, be);
		viplb_backend_put(be);
		return 0;
	}
	viplb_backend_unlink(cfg, svc, be);
	return 0;
}

static int nl_service_new(struct sk_buff *skb, struct genl_info *info)
{
	return config_apply(info, service_new);
}

static int nl_service_set(struct sk_buff *skb, struct genl_info *info)
{
	return config_apply(info, service_set);
}

static int nl_service_del(struct sk_buff *skb, struct genl_info *info)
{
	return config_apply(info, service_del);
}

static int nl_backend_new(struct sk_buff *skb, struct genl_info *info)
{
	return config_apply(info, backend_new);
}

static int nl_backend_set(struct sk_buff *skb, struct genl_info *info)
{
	return config_apply(info, backend_set);
}

static int nl_backend_del(struct sk_buff *skb, struct genl_info *info)
{
	return config_apply(info, backend_del);
}

static int nl_flush(struct sk_buff *skb, struct genl_info *info)
{
	return config_apply(info, flush);
}

static int nl_txn_begin(struct sk_buff *skb, struct genl_info *info)
{
	struct viplb_net *vn = viplb_pernet(genl_info_net(info));
	u32 scope = VIPLB_TXN_SERVICES;

	if (info->attrs[VIPLB_A_TXN_SCOPE])
		scope = nla_get_u32(info->attrs[VIPLB_A_TXN_SCOPE]);
	return viplb_txn_begin(vn, scope, info);
}

static int nl_txn_commit(struct sk_buff *skb, struct genl_info *info)
{
	struct viplb_net *vn = viplb_pernet(genl_info_net(info));

	return viplb_txn_commit(vn, info);
}

static int nl_txn_abort(struct sk_buff *skb, struct genl_info *info)
{
	struct viplb_net *vn = viplb_pernet(genl_info_net(info));

	return viplb_txn_abort(vn, info);
}

static int put_stats(struct sk_buff *skb, int attrtype,
		     const struct viplb_counters *cnt)
{
	u64 rates[VIPLB_RATE_NUM];
	struct viplb_stats_sum sum;
	struct nlattr *nest;

	viplb_stats_view(cnt, &sum, rates);
	nest = nla_nest_start(skb, attrtype);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(skb, VIPLB_STATS_A_CONNS, sum.conns,
			      VIPLB_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, VIPLB_STATS_A_PKTS_IN, sum.pkts_in,
			      VIPLB_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, VIPLB_STATS_A_PKTS_OUT, sum.pkts_out,
			      VIPLB_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, VIPLB_STATS_A_BYTES_IN, sum.bytes_in,
			      VIPLB_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, VIPLB_STATS_A_BYTES_OUT, sum.bytes_out,
			      VIPLB_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, VIPLB_STATS_A_ACTIVE, sum.active,
			      VIPLB_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, VIPLB_STATS_A_REJECTED, sum.rejected,
			      VIPLB_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, VIPLB_STATS_A_UNTRACKED, sum.untracked,
			      VIPLB_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, VIPLB_STATS_A_CPS, rates[VIPLB_RATE_CPS],
			      VIPLB_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, VIPLB_STATS_A_PPS_IN,
			      rates[VIPLB_RATE_PPS_IN], VIPLB_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, VIPLB_STATS_A_PPS_OUT,
			      rates[VIPLB_RATE_PPS_OUT], VIPLB_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, VIPLB_STATS_A_BPS_IN,
			      rates[VIPLB_RATE_BPS_IN], VIPLB_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, VIPLB_STATS_A_BPS_OUT,
			      rates[VIPLB_RATE_BPS_OUT], VIPLB_STATS_A_PAD)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static size_t addr_len(const struct viplb_service *svc)
{
	return svc->key.af == AF_INET ? sizeof(struct in_addr) :
					sizeof(struct in6_addr);
}

static int put_backend(struct sk_buff *skb, const struct viplb_service *svc,
		       struct viplb_backend *be)
{
	struct nlattr *nest;

	nest = nla_nest_start(skb, VIPLB_SVC_A_BACKEND);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put(skb, VIPLB_BE_A_ADDR, addr_len(svc), &be->addr) ||
	    nla_put_be16(skb, VIPLB_BE_A_PORT, be->port) ||
	    nla_put_u32(skb, VIPLB_BE_A_WEIGHT, READ_ONCE(be->weight)) ||
	    nla_put_u32(skb, VIPLB_BE_A_FLAGS, READ_ONCE(be->flags)) ||
	    put_stats(skb, VIPLB_BE_A_STATS, be->cnt)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

/* The largest nest we build; nla_len is 16 bits. */
#define SVC_NEST_MAX (U16_MAX - 1024)

/* The attributes that name a service: its key. */
static int put_svc_key(struct sk_buff *skb, const struct viplb_service *svc)
{
	if (nla_put_u16(skb, VIPLB_SVC_A_AF, svc->key.af) ||
	    nla_put_u8(skb, VIPLB_SVC_A_PROTO, svc->key.proto) ||
	    nla_put(skb, VIPLB_SVC_A_ADDR, addr_len(svc), &svc->key.addr) ||
	    nla_put_be16(skb, VIPLB_SVC_A_PORT, svc->key.port))
		return -EMSGSIZE;
	return 0;
}

/*
 * Appends one service message to @skb, with backends from index *@be_idx
 * on.  Returns 0 when all backends were written.  Returns -EMSGSIZE when
 * the message is full: if at least one backend made it, the message is
 * kept and *@be_idx says where to continue; otherwise nothing is written.
 */
static int fill_service(struct sk_buff *skb, u32 portid, u32 seq, int flags,
			struct netlink_callback *cb,
			struct viplb_service *svc, unsigned int *be_idx)
{
	unsigned int i = 0, written = 0;
	struct viplb_backend *be;
	struct nlattr *nest;
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &viplb_genl_family, flags,
			  VIPLB_CMD_SERVICE_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (cb)
		genl_dump_check_consistent(cb, hdr);
	nest = nla_nest_start(skb, VIPLB_A_SERVICE);
	if (!nest)
		goto cancel;
	if (put_svc_key(skb, svc) ||
	    nla_put_u32(skb, VIPLB_SVC_A_SCHED, READ_ONCE(svc->sched)) ||
	    nla_put_u32(skb, VIPLB_SVC_A_MODE, READ_ONCE(svc->mode)) ||
	    nla_put_u32(skb, VIPLB_SVC_A_TABLE_SIZE,
			viplb_service_table_m(svc, svc->n_backends)) ||
	    (!READ_ONCE(svc->table_size) &&
	     nla_put_flag(skb, VIPLB_SVC_A_TABLE_AUTO)) ||
	    nla_put_u32(skb, VIPLB_SVC_A_FLAGS, READ_ONCE(svc->flags)) ||
	    put_stats(skb, VIPLB_SVC_A_STATS, svc->cnt))
		goto cancel;

	list_for_each_entry(be, &svc->backends, list) {
		if (i++ < *be_idx)
			continue;
		if (skb_tail_pointer(skb) - (unsigned char *)nest >
		    SVC_NEST_MAX || put_backend(skb, svc, be)) {
			if (!written)
				goto cancel;
			nla_nest_end(skb, nest);
			genlmsg_end(skb, hdr);
			*be_idx += written;
			return -EMSGSIZE;
		}
		written++;
	}
	nla_nest_end(skb, nest);
	genlmsg_end(skb, hdr);
	*be_idx = 0;
	return 0;

cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

static int nl_service_get(struct sk_buff *skb, struct genl_info *info)
{
	struct viplb_net *vn = viplb_pernet(genl_info_net(info));
	struct nlattr *tb[VIPLB_SVC_A_MAX + 1];
	struct viplb_service *svc;
	unsigned int be_idx = 0;
	struct sk_buff *msg;
	size_t size;
	int err;

	mutex_lock(&vn->lock);
	svc = lookup_svc(viplb_live_config(vn), info, tb);
	if (IS_ERR(svc)) {
		err = PTR_ERR(svc);
		goto unlock;
	}
	/* ~160 bytes per backend; the nest caps it at 64 KiB anyway */
	size = min_t(size_t, NLMSG_GOODSIZE + svc->n_backends * 160,
		     U16_MAX + NLMSG_GOODSIZE);
	msg = genlmsg_new(size, GFP_KERNEL);
	if (!msg) {
		err = -ENOMEM;
		goto unlock;
	}
	err = fill_service(msg, info->snd_portid, info->snd_seq, 0, NULL, svc,
			   &be_idx);
	if (err) {
		nlmsg_free(msg);
		GENL_SET_ERR_MSG(info,
				 "service too large for one message; use a dump");
		goto unlock;
	}
	mutex_unlock(&vn->lock);
	return genlmsg_reply(msg, info);

unlock:
	mutex_unlock(&vn->lock);
	return err;
}

/* Parses VIPLB_A_LOOKUP into the flow @t towards @svc. */
static int parse_lookup(struct genl_info *info,
			const struct viplb_service *svc, struct nlattr **tb,
			struct viplb_flow_tuple *t)
{
	struct nlattr *nest = info->attrs[VIPLB_A_LOOKUP];
	struct netlink_ext_ack *extack = info->extack;
	union nf_inet_addr src = {};
	__be16 dport = svc->key.port;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, VIPLB_A_LOOKUP)) {
		GENL_SET_ERR_MSG(info, "missing lookup attribute");
		return -EINVAL;
	}
	err = nla_parse_nested(tb, VIPLB_LOOKUP_A_MAX, nest, lookup_policy,
			       extack);
	if (err)
		return err;
	if (NL_REQ_ATTR_CHECK(extack, nest, tb, VIPLB_LOOKUP_A_SRC_ADDR) ||
	    NL_REQ_ATTR_CHECK(extack, nest, tb, VIPLB_LOOKUP_A_SRC_PORT)) {
		NL_SET_ERR_MSG(extack, "lookup needs src-addr and src-port");
		return -EINVAL;
	}
	if (nla_len(tb[VIPLB_LOOKUP_A_SRC_ADDR]) != addr_len(svc)) {
		NL_SET_ERR_MSG_ATTR(extack, tb[VIPLB_LOOKUP_A_SRC_ADDR],
				    "source address family differs from the service's");
		return -EAFNOSUPPORT;
	}
	nla_memcpy(&src, tb[VIPLB_LOOKUP_A_SRC_ADDR], sizeof(src));
	if (tb[VIPLB_LOOKUP_A_DST_PORT])
		dport = nla_get_be16(tb[VIPLB_LOOKUP_A_DST_PORT]);
	if (svc->key.af == AF_INET)
		viplb_flow_tuple_v4(t, src.ip, svc->key.addr.ip,
				    nla_get_be16(tb[VIPLB_LOOKUP_A_SRC_PORT]),
				    dport, svc->key.proto);
	else
		viplb_flow_tuple_v6(t, src.ip6, svc->key.addr.ip6,
				    nla_get_be16(tb[VIPLB_LOOKUP_A_SRC_PORT]),
				    dport, svc->key.proto);
	return 0;
}

static int put_lookup_reply(struct sk_buff *msg, const struct viplb_service *svc,
			    const struct viplb_flow_tuple *t,
			    const struct viplb_backend *be, u32 pin)
{
	struct nlattr *nest;

	nest = nla_nest_start(msg, VIPLB_A_SERVICE);
	if (!nest || put_svc_key(msg, svc))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);

	nest = nla_nest_start(msg, VIPLB_A_LOOKUP);
	if (!nest ||
	    nla_put(msg, VIPLB_LOOKUP_A_SRC_ADDR, addr_len(svc), t->saddr) ||
	    nla_put_be16(msg, VIPLB_LOOKUP_A_SRC_PORT, t->sport) ||
	    nla_put_be16(msg, VIPLB_LOOKUP_A_DST_PORT, t->dport) ||
	    nla_put_u32(msg, VIPLB_LOOKUP_A_PIN, pin))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);

	if (!be)
		return 0;
	nest = nla_nest_start(msg, VIPLB_A_BACKEND);
	if (!nest ||
	    nla_put(msg, VIPLB_BE_A_ADDR, addr_len(svc), &be->addr) ||
	    nla_put_be16(msg, VIPLB_BE_A_PORT, be->port) ||
	    nla_put_u32(msg, VIPLB_BE_A_WEIGHT, READ_ONCE(be->weight)))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

/*
 * The backend a nat-mode conntrack entry binds flow @t to, if there is
 * one.  @tmp holds it if it is no longer in the service.  Context: RCU.
 */
static const struct viplb_backend *ct_backend(struct net *net,
					      struct viplb_service *svc,
					      const struct viplb_flow_tuple *t,
					      struct viplb_backend *tmp)
{
	size_t alen = addr_len(svc);
	const struct viplb_backend *be = NULL;
	const struct nf_conntrack_tuple *rt;
	struct nf_conntrack_tuple tuple;
	struct nf_conntrack_tuple_hash *h;
	struct viplb_sched_data *sd;
	struct nf_conn *ct;

	memset(&tuple, 0, sizeof(tuple));
	tuple.src.l3num = svc->key.af == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6;
	memcpy(&tuple.src.u3, t->saddr, alen);
	memcpy(&tuple.dst.u3, t->daddr, alen);
	tuple.src.u.all = t->sport;
	tuple.dst.u.all = t->dport;
	tuple.dst.protonum = t->proto;
	tuple.dst.dir = IP_CT_DIR_ORIGINAL;

	h = nf_conntrack_find_get(net, &nf_ct_zone_dflt, &tuple);
	if (!h)
		return NULL;
	ct = nf_ct_tuplehash_to_ctrack(h);
	if (ct->status & IPS_DST_NAT) {
		rt = &ct->tuplehash[IP_CT_DIR_REPLY].tuple;
		sd = rcu_dereference(svc->sd);
		if (sd)
			be = viplb_sched_find(sd, &rt->src.u3, rt->src.u.all) ?:
			     viplb_sched_find(sd, &rt->src.u3, 0);
		if (!be) {
			memset(tmp, 0, sizeof(*tmp));
			tmp->addr = rt->src.u3;
			tmp->port = rt->src.u.all;
			be = tmp;
		}
	}
	nf_ct_put(ct);
	return be;
}

static int nl_service_lookup(struct sk_buff *skb, struct genl_info *info)
{
	struct viplb_net *vn = viplb_pernet(genl_info_net(info));
	struct nlattr *ltb[VIPLB_LOOKUP_A_MAX + 1];
	struct nlattr *tb[VIPLB_SVC_A_MAX + 1];
	const struct viplb_backend *be;
	struct viplb_backend gone;
	struct viplb_flow_tuple t;
	struct viplb_service *svc;
	u32 pin = VIPLB_PIN_NONE;
	struct sk_buff *msg;
	void *hdr;
	int err;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &viplb_genl_family, 0,
				VIPLB_CMD_SERVICE_LOOKUP);
	if (!hdr) {
		err = -EMSGSIZE;
		goto free;
	}

	mutex_lock(&vn->lock);
	svc = lookup_svc(viplb_live_config(vn), info, tb);
	if (IS_ERR(svc)) {
		err = PTR_ERR(svc);
		goto unlock;
	}
	err = parse_lookup(info, svc, ltb, &t);
	if (err)
		goto unlock;
	rcu_read_lock();
	if (READ_ONCE(svc->mode) == VIPLB_MODE_NAT) {
		be = ct_backend(genl_info_net(info), svc, &t, &gone);
		if (be)
			pin = VIPLB_PIN_CONNTRACK;
	} else {
		be = viplb_fwd_flow_peek(vn, &t);
		if (be)
			pin = VIPLB_PIN_FLOW;
	}
	if (!be)
		be = viplb_sched_pick(svc, &t, true);
	err = put_lookup_reply(msg, svc, &t, be, pin);
	rcu_read_unlock();
unlock:
	mutex_unlock(&vn->lock);
	if (err)
		goto free;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
free:
	nlmsg_free(msg);
	return err;
}

/* Dump position, kept in netlink_callback.ctx between calls. */
struct dump_ctx {
	unsigned int svc_idx;
	unsigned int be_idx;
	bool started;
	bool filtered;
	struct viplb_svc_key key;
};

static_assert(sizeof(struct dump_ctx) <=
	      sizeof_field(struct netlink_callback, ctx));

/*
 * Parses the optional key filter on the first call.  This is not done in
 * a .start callback because 6.1 gives .start no extack.
 */
static int dump_parse_filter(struct netlink_callback *cb,
			     struct dump_ctx *ctx)
{
	struct nlattr *nest = genl_dumpit_info(cb)->attrs[VIPLB_A_SERVICE];
	struct nlattr *tb[VIPLB_SVC_A_MAX + 1];
	int err;

	ctx->started = true;
	if (!nest)
		return 0;
	err = parse_svc(nest, tb, &ctx->key, cb->extack);
	if (err)
		return err;
	ctx->filtered = true;
	return 0;
}

static int nl_stats_zero(struct sk_buff *skb, struct genl_info *info)
{
	struct viplb_net *vn = viplb_pernet(genl_info_net(info));
	struct nlattr *tb[VIPLB_SVC_A_MAX + 1];
	struct viplb_service *svc;
	int err = 0;

	mutex_lock(&vn->lock);
	if (info->attrs[VIPLB_A_SERVICE]) {
		svc = lookup_svc(viplb_live_config(vn), info, tb);
		if (IS_ERR(svc)) {
			err = PTR_ERR(svc);
		} else {
			err = viplb_stats_zero_prepare(svc);
			if (!err)
				viplb_stats_zero(svc);
		}
	} else {
		/* All or nothing: the baselines first. */
		list_for_each_entry(svc, &viplb_live_config(vn)->services, list) {
			err = viplb_stats_zero_prepare(svc);
			if (err)
				break;
		}
		if (!err)
			list_for_each_entry(svc,
					    &viplb_live_config(vn)->services,
					    list)
				viplb_stats_zero(svc);
	}
	if (err == -ENOMEM)
		GENL_SET_ERR_MSG(info, "out of memory; no counter zeroed");
	mutex_unlock(&vn->lock);
	return err;
}

static int nl_service_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct viplb_net *vn = viplb_pernet(sock_net(skb->sk));
	struct dump_ctx *ctx = (struct dump_ctx *)cb->ctx;
	u32 portid = NETLINK_CB(cb->skb).portid;
	u32 seq = cb->nlh->nlmsg_seq;
	struct viplb_service *svc;
	struct viplb_config *cfg;
	unsigned int i = 0;
	int err = 0;

	if (!ctx->started) {
		err = viplb_nl_check_version(nlmsg_data(cb->nlh), cb->extack);
		if (err)
			return err;
		err = dump_parse_filter(cb, ctx);
		if (err)
			return err;
	}

	mutex_lock(&vn->lock);
	cfg = viplb_live_config(vn);
	cb->seq = vn->generation + 1;
	if (ctx->filtered) {
		if (ctx->svc_idx)
			goto out;
		svc = viplb_service_find(cfg, &ctx->key);
		if (!svc) {
			if (!ctx->be_idx) {
				NL_SET_ERR_MSG(cb->extack,
					       "service does not exist");
				err = -ENOENT;
			}
			goto out;
		}
		if (!fill_service(skb, portid, seq, NLM_F_MULTI, cb, svc,
				  &ctx->be_idx))
			ctx->svc_idx = 1;
		goto out;
	}
	list_for_each_entry(svc, &cfg->services, list) {
		if (i++ < ctx->svc_idx)
			continue;
		if (fill_service(skb, portid, seq, NLM_F_MULTI, cb, svc,
				 &ctx->be_idx))
			break;
		ctx->svc_idx++;
	}
out:
	mutex_unlock(&vn->lock);
	return err ?: skb->len;
}

static const struct genl_ops viplb_genl_ops[] = {
	{
		.cmd = VIPLB_CMD_SERVICE_NEW,
		.doit = nl_service_new,
		.policy = svc_cmd_policy,
		.maxattr = ARRAY_SIZE(svc_cmd_policy) - 1,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = VIPLB_CMD_SERVICE_SET,
		.doit = nl_service_set,
		.policy = svc_cmd_policy,
		.maxattr = ARRAY_SIZE(svc_cmd_policy) - 1,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = VIPLB_CMD_SERVICE_DEL,
		.doit = nl_service_del,
		.policy = svc_cmd_policy,
		.maxattr = ARRAY_SIZE(svc_cmd_policy) - 1,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = VIPLB_CMD_SERVICE_GET,
		.doit = nl_service_get,
		.dumpit = nl_service_dump,
		.policy = svc_cmd_policy,
		.maxattr = ARRAY_SIZE(svc_cmd_policy) - 1,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = VIPLB_CMD_BACKEND_NEW,
		.doit = nl_backend_new,
		.policy = be_cmd_policy,
		.maxattr = ARRAY_SIZE(be_cmd_policy) - 1,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = VIPLB_CMD_BACKEND_SET,
		.doit = nl_backend_set,
		.policy = be_cmd_policy,
		.maxattr = ARRAY_SIZE(be_cmd_policy) - 1,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = VIPLB_CMD_BACKEND_DEL,
		.doit = nl_backend_del,
		.policy = be_del_policy,
		.maxattr = ARRAY_SIZE(be_del_policy) - 1,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = VIPLB_CMD_FLUSH,
		.doit = nl_flush,
		.policy = no_attr_policy,
		.maxattr = ARRAY_SIZE(no_attr_policy) - 1,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = VIPLB_CMD_TXN_BEGIN,
		.doit = nl_txn_begin,
		.policy = begin_policy,
		.maxattr = ARRAY_SIZE(begin_policy) - 1,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = VIPLB_CMD_TXN_COMMIT,
		.doit = nl_txn_commit,
		.policy = commit_policy,
		.maxattr = ARRAY_SIZE(commit_policy) - 1,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = VIPLB_CMD_TXN_ABORT,
		.doit = nl_txn_abort,
		.policy = no_attr_policy,
		.maxattr = ARRAY_SIZE(no_attr_policy) - 1,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = VIPLB_CMD_STATS_ZERO,
		.doit = nl_stats_zero,
		.policy = svc_cmd_policy,
		.maxattr = ARRAY_SIZE(svc_cmd_policy) - 1,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = VIPLB_CMD_SERVICE_LOOKUP,
		.doit = nl_service_lookup,
		.policy = lookup_cmd_policy,
		.maxattr = ARRAY_SIZE(lookup_cmd_policy) - 1,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = VIPLB_CMD_RULES_TABLE,
		.doit = viplb_nl_rules_table,
		.policy = viplb_rules_cmd_policy,
		.maxattr = VIPLB_A_RULES,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = VIPLB_CMD_RULES_CHAIN,
		.doit = viplb_nl_rules_chain,
		.policy = viplb_rules_cmd_policy,
		.maxattr = VIPLB_A_RULES,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = VIPLB_CMD_RULES_RULE,
		.doit = viplb_nl_rules_rule,
		.policy = viplb_rules_cmd_policy,
		.maxattr = VIPLB_A_RULES,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = VIPLB_CMD_RULES_GET,
		.dumpit = viplb_nl_rules_dump,
		.policy = viplb_rules_cmd_policy,
		.maxattr = VIPLB_A_RULES,
		.flags = GENL_UNS_ADMIN_PERM,
	},
};

/*
 * A request carries the UAPI version it was written for in its genetlink
 * header: any other than this module's is refused, not guessed at.  (6.1
 * has no formatted extack, so the message cannot quote the one received.)
 */
int viplb_nl_check_version(const struct genlmsghdr *hdr,
			   struct netlink_ext_ack *extack)
{
	if (hdr->version == VIPLB_GENL_VERSION)
		return 0;
	NL_SET_ERR_MSG(extack,
		       "unknown viplb UAPI version in genlmsghdr.version: this module speaks version "
		       __stringify(VIPLB_GENL_VERSION));
	return -EINVAL;
}

/*
 * Checks the UAPI version, and notes the sending socket for the
 * transaction owner check (txn.c): a portid alone can be taken by a new
 * socket while the old one's release is still on its way to the URELEASE
 * notifier.
 */
static int viplb_pre_doit(const struct genl_ops *ops, struct sk_buff *skb,
			  struct genl_info *info)
{
	info->user_ptr[0] = NETLINK_CB(skb).sk;
	return viplb_nl_check_version(info->genlhdr, info->extack);
}

struct genl_family viplb_genl_family __ro_after_init = {
	.name = VIPLB_GENL_NAME,
	.pre_doit = viplb_pre_doit,
	.version = VIPLB_GENL_VERSION,
	.module = THIS_MODULE,
	.netnsok = true,
	.parallel_ops = true,	/* serialised per netns by viplb_net.lock */
	.ops = viplb_genl_ops,
	.n_ops = ARRAY_SIZE(viplb_genl_ops),
};

/*
 * A closed socket aborts the transaction it had open.  The notifier runs
 * after the port id is free again, so a new socket may hold it by now,
 * with a transaction of its own: only a dead owner's goes.
 */
static int viplb_netlink_notify(struct notifier_block *nb,
				unsigned long event, void *ptr)
{
	struct netlink_notify *n = ptr;
	struct viplb_net *vn;

	if (event != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC)
		return NOTIFY_DONE;
	vn = viplb_pernet(n->net);
	mutex_lock(&vn->lock);
	/* Its socket is held (txn.c): is it the one going away? */
	if (vn->txn.open && vn->txn.portid == n->portid &&
	    sock_flag(vn->txn.sk, SOCK_DEAD))
		viplb_txn_release(vn);
	mutex_unlock(&vn->lock);
	return NOTIFY_DONE;
}

static struct notifier_block viplb_netlink_notifier = {
	.notifier_call = viplb_netlink_notify,
};

int viplb_genl_init(void)
{
	int err;

	err = netlink_register_notifier(&viplb_netlink_notifier);
	if (err)
		return err;
	err = genl_register_family(&viplb_genl_family);
	if (err)
		netlink_unregister_notifier(&viplb_netlink_notifier);
	return err;
}

void viplb_genl_exit(void)
{
	genl_unregister_family(&viplb_genl_family);
	netlink_unregister_notifier(&viplb_netlink_notifier);
}
