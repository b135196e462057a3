// SPDX-License-Identifier: GPL-2.0
/*
 * viplb: per-netns caps, the sysctls net.viplb.*.  Any user who can make a
 * user and network namespace may configure viplb in it
 * (GENL_UNS_ADMIN_PERM), so what one netns may hold is capped: services,
 * backends, Maglev table slots (4 bytes each, the bulk of the memory),
 * flows (nat-mode entries and dr/tun entries, each kind up to the cap),
 * and rules and chains per rule table (no higher than the UAPI's
 * VIPLB_RULES_MAX and VIPLB_CHAINS_MAX, whatever the sysctl says).
 * Every object is charged to the memory cgroup as well.  One switch sits
 * with them: run_estimation (0 or 1), as IPVS's, stops the rate estimator.
 *
 * The init netns starts from the defaults below; a new netns starts from
 * the init netns's values at the time.  In a netns of another user
 * namespace a cap can be lowered, never raised above the init netns's.
 */
#include <linux/sysctl.h>
#include <net/net_namespace.h>
#include "viplb.h"

static const struct viplb_limits default_limits = {
	.max_services = 65536,
	.max_backends = 262144,
	.max_table_slots = 1U << 26,	/* 256 MiB of tables */
	.max_flows = 1U << 20,
	.max_rules = VIPLB_RULES_MAX,
	.max_chains = VIPLB_CHAINS_MAX,
	.run_estimation = 1,
};

/*
 * A cap write: no higher than the entry's maximum (extra2, if set), and
 * in another user namespace no higher than init's.
 */
static int limit_handler(struct ctl_table *table, int write, void *buffer,
			 size_t *lenp, loff_t *ppos)
{
	const u32 *ceiling = table->extra1;	/* init's, NULL in init */
	const u32 *max = table->extra2;
	u32 *cap = table->data, val = READ_ONCE(*cap);
	struct ctl_table tmp = *table;
	int err;

	tmp.data = &val;
	err = proc_douintvec(&tmp, write, buffer, lenp, ppos);
	if (err || !write)
		return err;
	if (max && val > *max)
		return -EINVAL;
	if (ceiling && val > READ_ONCE(*ceiling))
		return -EPERM;
	WRITE_ONCE(*cap, val);
	return 0;
}

static const u32 switch_max = 1;

static const struct {
	const char *name;
	size_t offset;
	const u32 *max;
} caps[] = {
	{ "max_services", offsetof(struct viplb_limits, max_services) },
	{ "max_backends", offsetof(struct viplb_limits, max_backends) },
	{ "max_table_slots", offsetof(struct viplb_limits, max_table_slots) },
	{ "max_flows", offsetof(struct viplb_limits, max_flows) },
	{ "max_rules", offsetof(struct viplb_limits, max_rules) },
	{ "max_chains", offsetof(struct viplb_limits, max_chains) },
	{ "run_estimation", offsetof(struct viplb_limits, run_estimation),
	  &switch_max },
};

int viplb_limits_net_init(struct net *net, struct viplb_net *vn)
{
	struct viplb_net *init_vn = net_eq(net, &init_net) ?
					    NULL : viplb_pernet(&init_net);
	struct ctl_table *table;
	size_t i;

	vn->limits = init_vn ? init_vn->limits : default_limits;
	/* One entry per cap, and the empty one that ends the table. */
	table = kcalloc(ARRAY_SIZE(caps) + 1, sizeof(*table),
			GFP_KERNEL_ACCOUNT);
	if (!table)
		return -ENOMEM;
	for (i = 0; i < ARRAY_SIZE(caps); i++) {
		table[i].procname = caps[i].name;
		table[i].data = (char *)&vn->limits + caps[i].offset;
		table[i].maxlen = sizeof(u32);
		table[i].mode = 0644;
		table[i].proc_handler = limit_handler;
		table[i].extra2 = (void *)caps[i].max;
		if (init_vn && net->user_ns != &init_user_ns)
			table[i].extra1 =
				(char *)&init_vn->limits + caps[i].offset;
	}
	vn->sysctl = register_net_sysctl(net, "net/viplb", table);
	if (!vn->sysctl) {
		kfree(table);
		return -ENOMEM;
	}
	return 0;
}

void viplb_limits_net_exit(struct viplb_net *vn)
{
	struct ctl_table *table;

	if (!vn->sysctl)
		return;
	table = vn->sysctl->ctl_table_arg;
	unregister_net_sysctl_table(vn->sysctl);
	vn->sysctl = NULL;
	kfree(table);
}
