// SPDX-License-Identifier: GPL-2.0
/*
 * viplb: transactions.  A netns has at most one open transaction, owned by
 * the netlink socket that sent TXN_BEGIN.  It holds what it replaces, built
 * aside: a configuration (scope VIPLB_TXN_SERVICES) and rule tables
 * (VIPLB_TXN_RULES).  Every command of the owning socket inside it is
 * counted, and one that fails poisons it; TXN_COMMIT checks both and swaps
 * in what was built, TXN_ABORT or a closed socket drops it.
 *
 * netlink.c parses the messages and calls this file.  The caller holds
 * viplb_net.lock where a function says so; the others take it.
 */
#include <net/genetlink.h>
#include <net/sock.h>
#include "rules.h"
#include "viplb.h"

/*
 * Does the sender of @info own the open transaction?  Its portid and its
 * socket (noted by the family's pre_doit) must match.  Caller holds
 * vn->lock.
 */
bool viplb_txn_owned(const struct viplb_net *vn, const struct genl_info *info)
{
	return vn->txn.open && vn->txn.portid == info->snd_portid &&
	       vn->txn.sk == info->user_ptr[0];
}

/*
 * Records the outcome of a command inside the transaction.  Caller holds
 * vn->lock.
 */
void viplb_txn_account(struct viplb_net *vn, int err)
{
	if (err)
		vn->txn.failed = true;
	else
		vn->txn.ops++;
}

/*
 * Runs a command that exists only inside a transaction of @scope, such as
 * loading a rule table.
 */
int viplb_txn_apply(struct genl_info *info, u32 scope, viplb_txn_fn fn)
{
	struct viplb_net *vn = viplb_pernet(genl_info_net(info));
	int err;

	mutex_lock(&vn->lock);
	if (!viplb_txn_owned(vn, info) ||
	    !(vn->txn.scope & scope)) {
		GENL_SET_ERR_MSG(
			info,
			"this command needs an open transaction of its scope (TXN_BEGIN with txn-scope)");
		err = -EINVAL;
	} else {
		err = fn(vn, info);
		viplb_txn_account(vn, err);
	}
	mutex_unlock(&vn->lock);
	return err;
}

/* Opens a transaction of @scope owned by the sender of @info. */
int viplb_txn_begin(struct viplb_net *vn, u32 scope, struct genl_info *info)
{
	struct netlink_ext_ack *extack = info->extack;
	struct viplb_rules_txn *rules = NULL;
	struct viplb_config *cfg = NULL;
	int err = 0;

	if (scope & VIPLB_TXN_SERVICES) {
		cfg = viplb_config_alloc(&vn->limits);
		if (!cfg)
			return -ENOMEM;
		cfg->deferred = true;
	}
	if (scope & VIPLB_TXN_RULES) {
		rules = viplb_rules_txn_alloc();
		if (!rules) {
			viplb_config_free(cfg);
			return -ENOMEM;
		}
	}
	mutex_lock(&vn->lock);
	if (vn->txn.open) {
		NL_SET_ERR_MSG(extack,
			       "a transaction is already open in this netns");
		err = -EBUSY;
	} else {
		vn->txn.open = true;
		vn->txn.scope = scope;
		vn->txn.cfg = cfg;
		vn->txn.rules = rules;
		vn->txn.portid = info->snd_portid;
		/* Held: the URELEASE notifier checks that it is dead. */
		vn->txn.sk = info->user_ptr[0];
		sock_hold(vn->txn.sk);
		vn->txn.failed = false;
		vn->txn.ops = 0;
		cfg = NULL;
		rules = NULL;
	}
	mutex_unlock(&vn->lock);
	viplb_config_free(cfg);
	viplb_rules_txn_free(rules);
	return err;
}

/*
 * Checks done before anything of a transaction goes live.  @ops is the
 * VIPLB_A_TXN_OPS attribute, or NULL if the message has none.
 */
static int txn_prepare(struct viplb_net *vn, const struct nlattr *ops,
		       struct netlink_ext_ack *extack)
{
	int err;

	if (!ops) {
		NL_SET_ERR_ATTR_MISS(extack, NULL, VIPLB_A_TXN_OPS);
		NL_SET_ERR_MSG(extack, "missing txn-ops attribute");
		return -EINVAL;
	}
	if (vn->txn.failed) {
		NL_SET_ERR_MSG(
			extack,
			"a command in the transaction failed; nothing changed");
		return -EINVAL;
	}
	if (nla_get_u32(ops) != vn->txn.ops) {
		NL_SET_ERR_MSG_ATTR(
			extack, ops,
			"txn-ops differs from the commands applied; nothing changed");
		return -EINVAL;
	}
	if (vn->txn.cfg) {
		err = viplb_config_rebuild_dirty(vn->txn.cfg);
		if (err) {
			NL_SET_ERR_MSG(extack, "cannot build scheduler state");
			return err;
		}
		/* Before the swap, so that nothing fails after it. */
		err = viplb_hooks_prepare(vn->net, vn, vn->txn.cfg);
		if (err) {
			NL_SET_ERR_MSG(extack, "cannot register netfilter hooks");
			return err;
		}
	}
	/* Last: it registers hooks, and nothing may fail after it. */
	if (vn->txn.rules)
		return viplb_rules_prepare(vn, extack);
	return 0;
}

/*
 * Commits the transaction of the sender of @info if its VIPLB_A_TXN_OPS
 * matches the commands applied and none of them failed; otherwise drops
 * it and changes nothing.
 */
int viplb_txn_commit(struct viplb_net *vn, struct genl_info *info)
{
	const struct nlattr *ops = info->attrs[VIPLB_A_TXN_OPS];
	struct netlink_ext_ack *extack = info->extack;
	struct viplb_ruleset *old_rules = NULL;
	struct viplb_config *old = NULL;
	unsigned int kept = 0;
	int err = 0;

	mutex_lock(&vn->lock);
	if (!viplb_txn_owned(vn, info)) {
		NL_SET_ERR_MSG(extack, "this socket has no open transaction");
		err = -ENOENT;
		goto out;
	}
	err = txn_prepare(vn, ops, extack);
	if (err) {
		viplb_txn_release(vn);
		/* Drops any hook the prepare registered for nothing. */
		viplb_hooks_sync(vn->net, vn);
		goto out;
	}
	if (vn->txn.rules)
		old_rules = viplb_rules_commit(vn->net, vn, &kept);
	if (vn->txn.cfg) {
		vn->txn.cfg->deferred = false;
		old = viplb_live_config(vn);
		viplb_config_adopt_counters(vn->txn.cfg, old);
		rcu_assign_pointer(vn->cfg, vn->txn.cfg);
		vn->txn.cfg = NULL;
		vn->generation++;
	}
	viplb_txn_release(vn);
	/* Only unregisters now: the prepare registered what is needed. */
	viplb_hooks_sync(vn->net, vn);
out:
	mutex_unlock(&vn->lock);
	if (old || old_rules) {
		synchronize_rcu();
		viplb_config_free(old);
		viplb_ruleset_free_except(old_rules, kept);
	}
	return err;
}

/* Drops the transaction of the sender of @info. */
int viplb_txn_abort(struct viplb_net *vn, struct genl_info *info)
{
	int err = 0;

	mutex_lock(&vn->lock);
	if (viplb_txn_owned(vn, info)) {
		viplb_txn_release(vn);
	} else {
		NL_SET_ERR_MSG(info->extack,
			       "this socket has no open transaction");
		err = -ENOENT;
	}
	mutex_unlock(&vn->lock);
	return err;
}

/* Drops the open transaction, if any.  Caller holds vn->lock. */
void viplb_txn_release(struct viplb_net *vn)
{
	viplb_config_free(vn->txn.cfg);
	vn->txn.cfg = NULL;
	viplb_rules_txn_free(vn->txn.rules);
	vn->txn.rules = NULL;
	vn->txn.open = false;
	vn->txn.scope = 0;
	vn->txn.portid = 0;
	if (vn->txn.sk)
		sock_put(vn->txn.sk);
	vn->txn.sk = NULL;
	vn->txn.failed = false;
}
