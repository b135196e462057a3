// SPDX-License-Identifier: GPL-2.0
/*
 * viplb: the per-netns lifecycle.  Each network namespace has a struct
 * viplb_net (pernet_operations).  This file sets it up and tears it down
 * by calling each part's init and exit, in the order written here; the
 * parts never call this file.
 */
#include <net/net_namespace.h>
#include "rules.h"
#include "viplb.h"

unsigned int viplb_net_id __read_mostly;

static int __net_init viplb_net_init(struct net *net)
{
	struct viplb_net *vn = viplb_pernet(net);
	struct viplb_config *cfg;
	int err;

	err = viplb_limits_net_init(net, vn);
	if (err)
		return err;
	cfg = viplb_config_alloc(&vn->limits);
	if (!cfg) {
		viplb_limits_net_exit(vn);
		return -ENOMEM;
	}
	err = viplb_flows_init(vn);
	if (err) {
		viplb_config_free(cfg);
		viplb_limits_net_exit(vn);
		return err;
	}
	mutex_init(&vn->lock);
	viplb_est_init(vn);
	vn->net = net;
	RCU_INIT_POINTER(vn->cfg, cfg);
	return 0;
}

/* Hooks go first, so that no packet reaches viplb in this netns. */
static void __net_exit viplb_net_pre_exit(struct net *net)
{
	struct viplb_net *vn = viplb_pernet(net);

	mutex_lock(&vn->lock);
	viplb_hooks_release(net, vn);
	viplb_rules_hooks_release(net, vn);
	mutex_unlock(&vn->lock);
}

static void __net_exit viplb_net_exit(struct net *net)
{
	struct viplb_net *vn = viplb_pernet(net);
	struct viplb_ruleset *rules;
	struct viplb_config *cfg;

	viplb_est_stop(vn);
	viplb_flows_exit(vn);
	mutex_lock(&vn->lock);
	viplb_txn_release(vn);
	cfg = viplb_live_config(vn);
	RCU_INIT_POINTER(vn->cfg, NULL);
	rules = viplb_live_rules(vn);
	RCU_INIT_POINTER(vn->rules, NULL);
	mutex_unlock(&vn->lock);

	synchronize_rcu();
	viplb_config_free(cfg);
	viplb_ruleset_free(rules);
	viplb_limits_net_exit(vn);
}

static struct pernet_operations viplb_net_ops = {
	.init = viplb_net_init,
	.pre_exit = viplb_net_pre_exit,
	.exit = viplb_net_exit,
	.id = &viplb_net_id,
	.size = sizeof(struct viplb_net),
};

int viplb_pernet_init(void)
{
	return register_pernet_subsys(&viplb_net_ops);
}

/* Module exit: every netns goes, then every object they held. */
void viplb_pernet_exit(void)
{
	unregister_pernet_subsys(&viplb_net_ops);
	viplb_objects_drain();
}
