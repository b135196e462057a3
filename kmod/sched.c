// SPDX-License-Identifier: GPL-2.0
/*
 * viplb: schedulers.  Each service has an RCU-published snapshot of its
 * backends (struct viplb_sched_data), rebuilt under the netns mutex after
 * every change and read locklessly by the datapath.
 *
 *   rr      round robin over backends of weight > 0
 *   wrr     smooth weighted round robin
 *   lc      weighted least connections (active flows / weight)
 *   sh      source-address hash into the service's Maglev table
 *   maglev  5-tuple hash into the service's Maglev table
 *
 * The Maglev table is built by include/viplb/maglev.h over the backends
 * sorted by (address, port), so that any builder of the same backend set,
 * such as the XDP loader, gets the same table.
 */
#include <linux/slab.h>
#include <linux/bsearch.h>
#include <linux/sched.h>
#include <linux/sort.h>
#include <linux/spinlock.h>
#include <linux/vmalloc.h>
/* Tables are built in process context, under the netns mutex. */
#define VIPLB_MAGLEV_YIELD() cond_resched()
#include <viplb/maglev.h>
#include "viplb.h"

/* viplb_maglev_backend_order() compares 16 address bytes. */
static_assert(sizeof_field(struct viplb_backend, addr) == 16);

/* The order of sd->be, the same as every other Maglev table builder's. */
static int backend_cmp(const void *a, const void *b)
{
	const struct viplb_backend *x = *(const struct viplb_backend **)a;
	const struct viplb_backend *y = *(const struct viplb_backend **)b;

	return viplb_maglev_backend_order(&x->addr, x->port, &y->addr, y->port);
}

/**
 * struct viplb_sched_ops - a scheduler
 * @uses_table: picks through the service's Maglev table
 * @pick: chooses a backend of the snapshot @sd for the new flow @t, or
 *	NULL if none can take it; with @peek it changes no state
 */
struct viplb_sched_ops {
	bool uses_table;
	struct viplb_backend *(*pick)(struct viplb_service *svc,
				      const struct viplb_sched_data *sd,
				      const struct viplb_flow_tuple *t,
				      bool peek);
};

static const struct viplb_sched_ops sched_ops[VIPLB_SCHED_MAX + 1];

/*
 * Builds the Maglev table of @sd.  The builder fills u32 indices; they are
 * kept as u8 with fewer than U8_MAX backends (nearly always) and as u16
 * with fewer than U16_MAX, the type's maximum standing for
 * VIPLB_MAGLEV_NONE: a quarter or half of the table.
 */
static int build_table(struct viplb_sched_data *sd)
{
	struct viplb_maglev_backend *mb;
	u32 *table, i;
	int ret;

	mb = kvmalloc_array(sd->n, sizeof(*mb), GFP_KERNEL_ACCOUNT);
	table = kvmalloc_array(sd->m, sizeof(*table), GFP_KERNEL_ACCOUNT);
	if (!mb || !table) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < sd->n; i++)
		viplb_maglev_backend_init(&mb[i], sd->be[i]->addr.ip6,
					  sd->be[i]->port, sd->be[i]->weight,
					  sd->m);
	ret = viplb_maglev_populate(table, sd->m, mb, sd->n);
	/* An all-drained service keeps a table of VIPLB_MAGLEV_NONE. */
	if (ret == VIPLB_MAGLEV_INVALID) {
		ret = -EINVAL;
		goto out;
	}
	ret = 0;
	if (sd->n >= U16_MAX) {
		sd->table = table;
		table = NULL;
		goto out;
	}
	if (sd->n < U8_MAX) {
		sd->table8 = kvmalloc(sd->m, GFP_KERNEL_ACCOUNT);
		if (!sd->table8) {
			ret = -ENOMEM;
			goto out;
		}
		for (i = 0; i < sd->m; i++)
			sd->table8[i] = table[i] < sd->n ? table[i] : U8_MAX;
		goto out;
	}
	sd->table16 = kvmalloc_array(sd->m, sizeof(*sd->table16),
				     GFP_KERNEL_ACCOUNT);
	if (!sd->table16) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < sd->m; i++)
		sd->table16[i] = table[i] < sd->n ? table[i] : U16_MAX;
out:
	kvfree(table);
	kvfree(mb);
	return ret;
}

static void sched_data_free(struct viplb_sched_data *sd)
{
	if (!sd)
		return;
	kvfree(sd->table8);
	kvfree(sd->table16);
	kvfree(sd->table);
	kvfree(sd);
}

static void sched_data_free_rcu(struct rcu_head *head)
{
	sched_data_free(container_of(head, struct viplb_sched_data, rcu));
}

/*
 * Rebuilds the snapshot of @svc after its backends or settings changed,
 * leaving out @exclude (a backend about to be removed), if not NULL.
 * Caller holds the netns mutex.  On failure the old snapshot stays.
 */
int viplb_sched_rebuild(struct viplb_service *svc,
			const struct viplb_backend *exclude)
{
	struct viplb_sched_data *sd, *old;
	struct viplb_backend *be;
	u32 i = 0;
	int err;

	sd = kvzalloc(struct_size(sd, be, 2 * svc->n_backends),
		      GFP_KERNEL_ACCOUNT);
	if (!sd)
		return -ENOMEM;
	list_for_each_entry(be, &svc->backends, list)
		if (be != exclude)
			sd->be[i++] = be;
	sd->n = i;
	sd->sched = svc->sched;
	sort(sd->be, sd->n, sizeof(sd->be[0]), backend_cmp, NULL);
	sd->up = &sd->be[sd->n];
	for (i = 0; i < sd->n; i++)
		if (sd->be[i]->weight)
			sd->up[sd->n_up++] = sd->be[i];
	if (sched_ops[sd->sched].uses_table && sd->n) {
		sd->m = viplb_service_table_m(svc, sd->n);
		err = build_table(sd);
		if (err) {
			sched_data_free(sd);
			return err;
		}
	}
	old = rcu_replace_pointer(svc->sd, sd, true);
	if (old)
		call_rcu(&old->rcu, sched_data_free_rcu);
	svc->dirty = false;
	return 0;
}

/*
 * Called after a change to @svc.  The live configuration is rebuilt at
 * once; a transaction marks the service and rebuilds it at commit.
 */
int viplb_service_changed(struct viplb_config *cfg, struct viplb_service *svc,
			  const struct viplb_backend *exclude,
			  struct netlink_ext_ack *extack)
{
	u32 n = svc->n_backends - (exclude ? 1 : 0), old = svc->slots, slots;
	int err;

	/* The Maglev slots it will hold, counted against the netns's cap. */
	slots = sched_ops[svc->sched].uses_table && n ?
		viplb_service_table_m(svc, n) : 0;
	if (slots > old && cfg->n_slots - old + slots >
				   READ_ONCE(cfg->limits->max_table_slots)) {
		NL_SET_ERR_MSG(extack,
			       "the netns's cap net.viplb.max_table_slots (Maglev table slots) is reached");
		return -ENOSPC;
	}
	/* In u64: slots - old would wrap in u32 when the table shrinks. */
	cfg->n_slots = cfg->n_slots - old + slots;
	svc->slots = slots;
	if (cfg->deferred) {
		svc->dirty = true;
		return 0;
	}
	err = viplb_sched_rebuild(svc, exclude);
	if (err) {
		cfg->n_slots = cfg->n_slots - slots + old;
		svc->slots = old;
	}
	return err;
}

/*
 * The Maglev table size of @svc with @n backends: as set, or chosen from
 * @n (automatic), the same as every other datapath chooses it.
 */
u32 viplb_service_table_m(const struct viplb_service *svc, u32 n)
{
	return READ_ONCE(svc->table_size) ?: viplb_maglev_auto_size(n);
}

/* Rebuilds every service of a transaction that changed. */
int viplb_config_rebuild_dirty(struct viplb_config *cfg)
{
	struct viplb_service *svc;
	int err;

	list_for_each_entry(svc, &cfg->services, list) {
		if (!svc->dirty)
			continue;
		err = viplb_sched_rebuild(svc, NULL);
		if (err)
			return err;
		cond_resched();
	}
	return 0;
}

/* Frees the snapshot of a service that no reader can reach. */
void viplb_sched_release(struct viplb_service *svc)
{
	sched_data_free(rcu_dereference_protected(svc->sd, true));
	RCU_INIT_POINTER(svc->sd, NULL);
}

/* Finds a backend by (addr, port) in a snapshot, by binary search. */
struct viplb_backend *viplb_sched_find(const struct viplb_sched_data *sd,
				       const union nf_inet_addr *addr,
				       __be16 port)
{
	struct viplb_backend key = { .addr = *addr, .port = port };
	const struct viplb_backend *kp = &key;
	struct viplb_backend **found;

	found = bsearch(&kp, sd->be, sd->n, sizeof(sd->be[0]), backend_cmp);
	return found ? *found : NULL;
}

static struct viplb_backend *pick_table(const struct viplb_sched_data *sd,
					u32 hash)
{
	u32 idx;

	if (sd->table8)
		idx = sd->table8[viplb_maglev_slot(hash, sd->m)];
	else if (sd->table16)
		idx = sd->table16[viplb_maglev_slot(hash, sd->m)];
	else if (sd->table)
		idx = viplb_maglev_lookup(sd->table, sd->m, hash);
	else
		return NULL;
	return idx < sd->n ? sd->be[idx] : NULL;
}

/* maglev: the 5-tuple hash indexes the Maglev table. */
static struct viplb_backend *pick_maglev(struct viplb_service *svc,
					 const struct viplb_sched_data *sd,
					 const struct viplb_flow_tuple *t,
					 bool peek)
{
	return pick_table(sd, viplb_flow_hash(t));
}

/* sh: the source address hash indexes the Maglev table. */
static struct viplb_backend *pick_sh(struct viplb_service *svc,
				     const struct viplb_sched_data *sd,
				     const struct viplb_flow_tuple *t,
				     bool peek)
{
	return pick_table(sd, viplb_src_hash(t));
}

/* rr: each backend of weight > 0 in turn. */
static struct viplb_backend *pick_rr(struct viplb_service *svc,
				     const struct viplb_sched_data *sd,
				     const struct viplb_flow_tuple *t,
				     bool peek)
{
	u32 pos;

	if (!sd->n_up)
		return NULL;
	pos = peek ? (u32)atomic_read(&svc->rr_pos) :
		     (u32)atomic_inc_return(&svc->rr_pos) - 1;
	return sd->up[pos % sd->n_up];
}

/*
 * wrr: smooth weighted round robin.  Every pick adds each backend's weight
 * to its current weight, takes the largest, and charges it the total.
 */
static struct viplb_backend *pick_wrr(struct viplb_service *svc,
				      const struct viplb_sched_data *sd,
				      const struct viplb_flow_tuple *t,
				      bool peek)
{
	struct viplb_backend *best = NULL;
	s64 best_cur = 0, total = 0;
	u32 i;

	spin_lock_bh(&svc->sched_lock);
	for (i = 0; i < sd->n; i++) {
		struct viplb_backend *be = sd->be[i];
		u32 w = READ_ONCE(be->weight);
		s64 cur;

		if (!w)
			continue;
		total += w;
		cur = be->wrr_cur + w;
		if (!peek)
			be->wrr_cur = cur;
		if (!best || cur > best_cur) {
			best = be;
			best_cur = cur;
		}
	}
	if (best && !peek)
		best->wrr_cur -= total;
	spin_unlock_bh(&svc->sched_lock);
	return best;
}

/* lc: the backend with the fewest active flows per unit of weight. */
static struct viplb_backend *pick_lc(struct viplb_service *svc,
				     const struct viplb_sched_data *sd,
				     const struct viplb_flow_tuple *t,
				     bool peek)
{
	struct viplb_backend *best = NULL;
	u64 best_active = 0;
	u32 best_w = 0, i;

	for (i = 0; i < sd->n; i++) {
		struct viplb_backend *be = sd->be[i];
		u32 w = READ_ONCE(be->weight);
		u64 active = atomic_read(&be->cnt->active);

		if (!w)
			continue;
		/* active / w < best_active / best_w */
		if (!best || active * best_w < best_active * w) {
			best = be;
			best_active = active;
			best_w = w;
		}
	}
	return best;
}

static const struct viplb_sched_ops sched_ops[VIPLB_SCHED_MAX + 1] = {
	[VIPLB_SCHED_RR] = { .pick = pick_rr },
	[VIPLB_SCHED_WRR] = { .pick = pick_wrr },
	[VIPLB_SCHED_LC] = { .pick = pick_lc },
	[VIPLB_SCHED_SH] = { .uses_table = true, .pick = pick_sh },
	[VIPLB_SCHED_MAGLEV] = { .uses_table = true, .pick = pick_maglev },
};

/**
 * viplb_sched_pick() - choose a backend for a new flow
 * @svc: the service
 * @t: the flow
 * @peek: report the choice without advancing rr/wrr state
 *
 * Context: rcu_read_lock().  Returns NULL if no backend can take the flow
 * (none, or all of weight 0).
 */
struct viplb_backend *viplb_sched_pick(struct viplb_service *svc,
				       const struct viplb_flow_tuple *t,
				       bool peek)
{
	struct viplb_sched_data *sd = rcu_dereference(svc->sd);

	if (!sd || !sd->n)
		return NULL;
	return sched_ops[sd->sched].pick(svc, sd, t, peek);
}
