// SPDX-License-Identifier: GPL-2.0
/*
 * viplb: the per-netns configuration store (services and backends).
 *
 * The caller holds viplb_net.lock for every function here that changes a
 * configuration.  Lookups also work under rcu_read_lock() on the live
 * configuration.
 */
#include <linux/jhash.h>
#include <linux/slab.h>
#include <linux/percpu.h>
#include "viplb.h"

/*
 * Services and backends not yet freed.  Their RCU callbacks can queue
 * further callbacks (a flow drops its backend, a service its backends),
 * so module exit waits with rcu_barrier() until this drops to zero.
 */
static atomic_t live_objects = ATOMIC_INIT(0);

static u32 svc_key_hash(const struct viplb_svc_key *key)
{
	u32 h = jhash2((const u32 *)&key->addr, sizeof(key->addr) / 4,
		       ((u32)key->af << 8) | key->proto);

	return hash_32(h ^ (__force u32)key->port, VIPLB_SVC_HASH_BITS);
}

static bool svc_key_equal(const struct viplb_svc_key *a,
			  const struct viplb_svc_key *b)
{
	return a->af == b->af && a->proto == b->proto && a->port == b->port &&
	       !memcmp(&a->addr, &b->addr, sizeof(a->addr));
}

/*
 * The per-CPU part of counters comes from blocks that a service carves
 * for itself and its backends, so that a restore of 10,000 services of
 * 10 backends makes 20,000 per-CPU allocations, not 110,000 (each one a
 * search of the per-CPU allocator's chunks with interrupts off).  A
 * service's blocks hold 4, 8, 16, 32 and then 64 entries; an entry is
 * never reused, and a block is freed with the last counters in it and
 * its service.  So a block of at most 64 entries outlives its service
 * only while some counters in it live (adopted by a restore, or a
 * backend's flows).
 */
#define STATS_BLOCK_FIRST	4
#define STATS_BLOCK_MAX		64

struct viplb_stats_block {
	refcount_t ref;			/* counters in it, and its service */
	u32 size;
	u32 used;			/* entries handed out, under the mutex */
	struct viplb_pcpu_stats __percpu *stats;	/* @size entries */
};

static void stats_block_put(struct viplb_stats_block *blk)
{
	if (blk && refcount_dec_and_test(&blk->ref)) {
		free_percpu(blk->stats);
		kfree(blk);
	}
}

static struct viplb_stats_block *stats_block_alloc(u32 size)
{
	struct viplb_stats_block *blk;

	blk = kzalloc(sizeof(*blk), GFP_KERNEL_ACCOUNT);
	if (!blk)
		return NULL;
	blk->stats = (struct viplb_pcpu_stats __percpu *)
		__alloc_percpu_gfp(size * sizeof(struct viplb_pcpu_stats),
				   __alignof__(struct viplb_pcpu_stats),
				   GFP_KERNEL_ACCOUNT);
	if (!blk->stats) {
		kfree(blk);
		return NULL;
	}
	refcount_set(&blk->ref, 1);
	blk->size = size;
	return blk;
}

/*
 * New counters for @svc or one of its backends, in @svc's current block;
 * *@blkp is set to the block, which the caller keeps beside the counters
 * for counters_put().  Caller holds the mutex.
 */
static struct viplb_counters *counters_alloc(struct viplb_service *svc,
					     struct viplb_stats_block **blkp)
{
	struct viplb_stats_block *blk = svc->stats_block;
	struct viplb_counters *cnt;
	int cpu;

	cnt = kzalloc(sizeof(*cnt), GFP_KERNEL_ACCOUNT);
	if (!cnt)
		return NULL;
	if (!blk || blk->used == blk->size) {
		u32 size = blk ? min_t(u32, 2 * blk->size, STATS_BLOCK_MAX) :
				 STATS_BLOCK_FIRST;

		blk = stats_block_alloc(size);
		if (!blk) {
			kfree(cnt);
			return NULL;
		}
		stats_block_put(svc->stats_block);
		svc->stats_block = blk;
	}
	/* A fresh entry: zeroed by the per-CPU allocator, never used. */
	cnt->stats = blk->stats + blk->used++;
	refcount_inc(&blk->ref);
	*blkp = blk;
	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(cnt->stats, cpu)->syncp);
	refcount_set(&cnt->ref, 1);
	viplb_est_init_counters(cnt);
	return cnt;
}

/*
 * Drops a reference to @cnt, whose entry is in @blk.  Its holders are
 * freed after a grace period, so no reader is left.
 */
static void counters_put(struct viplb_counters *cnt,
			 struct viplb_stats_block *blk)
{
	if (cnt && refcount_dec_and_test(&cnt->ref)) {
		stats_block_put(blk);
		kfree(cnt->est.base);
		kfree(cnt);
	}
}

/*
 * @to (in block *@to_blk), not yet visible to readers, takes over the
 * counters @from of block @from_blk.
 */
static void counters_adopt(struct viplb_counters **to,
			   struct viplb_stats_block **to_blk,
			   struct viplb_counters *from,
			   struct viplb_stats_block *from_blk)
{
	refcount_inc(&from->ref);
	counters_put(*to, *to_blk);
	*to = from;
	*to_blk = from_blk;
}

struct viplb_config *viplb_config_alloc(const struct viplb_limits *limits)
{
	struct viplb_config *cfg;

	cfg = kvzalloc(sizeof(*cfg), GFP_KERNEL_ACCOUNT);
	if (!cfg)
		return NULL;
	cfg->limits = limits;
	INIT_LIST_HEAD(&cfg->services);
	return cfg;
}

static void backend_free_rcu_cb(struct rcu_head *head)
{
	struct viplb_backend *be = container_of(head, struct viplb_backend,
						rcu);

	viplb_route_release(be);
	counters_put(be->cnt, be->cnt_block);
	kfree(be);
	atomic_dec(&live_objects);
}

/* Drops a reference; the last one frees @be after a grace period. */
void viplb_backend_put(struct viplb_backend *be)
{
	if (refcount_dec_and_test(&be->ref))
		call_rcu(&be->rcu, backend_free_rcu_cb);
}

static void service_free_rcu_cb(struct rcu_head *head)
{
	struct viplb_service *svc = container_of(head, struct viplb_service,
						 rcu);
	struct viplb_backend *be, *tmp;

	list_for_each_entry_safe(be, tmp, &svc->backends, list)
		viplb_backend_put(be);
	viplb_sched_release(svc);
	counters_put(svc->cnt, svc->cnt_block);
	stats_block_put(svc->stats_block);
	kfree(svc);
	atomic_dec(&live_objects);
}

/*
 * Drops a reference to an unlinked service; the last one frees it and
 * drops its backends after a grace period.
 */
void viplb_service_put(struct viplb_service *svc)
{
	if (refcount_dec_and_test(&svc->ref))
		call_rcu(&svc->rcu, service_free_rcu_cb);
}

/* Drops a configuration that no reader can reach any more. */
void viplb_config_free(struct viplb_config *cfg)
{
	struct viplb_service *svc, *tmp;

	if (!cfg)
		return;
	list_for_each_entry_safe(svc, tmp, &cfg->services, list) {
		viplb_service_put(svc);
		cond_resched();
	}
	kvfree(cfg);
}

struct viplb_service *viplb_service_find(const struct viplb_config *cfg,
					 const struct viplb_svc_key *key)
{
	struct viplb_service *svc;

	hlist_for_each_entry_rcu(svc, &cfg->table[svc_key_hash(key)], hnode,
				 true) {
		if (svc_key_equal(&svc->key, key))
			return svc;
	}
	return NULL;
}

/**
 * viplb_config_adopt_counters() - carry counters over to a new config
 * @cfg: a configuration about to replace @live, not yet visible
 * @live: the live configuration
 *
 * Each service and backend of @cfg that exists in @live (same service
 * key; same address and port in that service) takes over its counters.
 * Caller holds the netns mutex.
 */
void viplb_config_adopt_counters(struct viplb_config *cfg,
				 const struct viplb_config *live)
{
	struct viplb_service *svc, *old;
	struct viplb_sched_data *sd;
	struct viplb_backend *be, *obe;

	if (!live)
		return;
	list_for_each_entry(svc, &cfg->services, list) {
		old = viplb_service_find(live, &svc->key);
		if (!old)
			continue;
		counters_adopt(&svc->cnt, &svc->cnt_block, old->cnt,
			       old->cnt_block);
		/* The live snapshot: every backend, sorted, for a search. */
		sd = rcu_dereference_protected(old->sd, true);
		if (!sd)
			continue;
		list_for_each_entry(be, &svc->backends, list) {
			obe = viplb_sched_find(sd, &be->addr, be->port);
			if (obe)
				counters_adopt(&be->cnt, &be->cnt_block,
					       obe->cnt, obe->cnt_block);
		}
		cond_resched();
	}
}

struct viplb_service *viplb_service_alloc(const struct viplb_svc_key *key)
{
	struct viplb_service *svc;

	svc = kzalloc(sizeof(*svc), GFP_KERNEL_ACCOUNT);
	if (!svc)
		return NULL;
	svc->cnt = counters_alloc(svc, &svc->cnt_block);
	if (!svc->cnt) {
		kfree(svc);
		return NULL;
	}
	refcount_set(&svc->ref, 1);
	atomic_inc(&live_objects);
	svc->key = *key;
	svc->sched = VIPLB_SCHED_MAGLEV;
	svc->mode = VIPLB_MODE_NAT;
	svc->table_size = 0;	/* automatic */
	INIT_LIST_HEAD(&svc->backends);
	spin_lock_init(&svc->sched_lock);
	return svc;
}

/* What a service of @mode and @flags needs: VIPLB_NEED_* bits. */
unsigned int viplb_service_needs(u32 mode, u32 flags)
{
	if (mode != VIPLB_MODE_NAT)
		return VIPLB_NEED_FWD;
	if (flags & VIPLB_SVC_F_SNAT)
		return VIPLB_NEED_NAT | VIPLB_NEED_SNAT;
	return VIPLB_NEED_NAT;
}

/* Adds @delta (1 or -1) to @cfg's counts of services by what they need. */
static void service_count(struct viplb_config *cfg,
			  const struct viplb_service *svc, int delta)
{
	unsigned int need = viplb_service_needs(svc->mode, svc->flags);
	int afi = viplb_af_index(svc->key.af);

	/* n_af and n_snat are read by the hooks without the lock. */
	WRITE_ONCE(cfg->n_af[afi], cfg->n_af[afi] + delta);
	if (need & VIPLB_NEED_NAT)
		WRITE_ONCE(cfg->n_nat[afi], cfg->n_nat[afi] + delta);
	if (need & VIPLB_NEED_SNAT)
		WRITE_ONCE(cfg->n_snat[afi], cfg->n_snat[afi] + delta);
	if (need & VIPLB_NEED_FWD)
		WRITE_ONCE(cfg->n_fwd[afi], cfg->n_fwd[afi] + delta);
}

/*
 * Sets the mode and flags of @svc, linked in @cfg.  The hooks the new
 * ones need are registered already (live) or at commit (transaction).
 */
void viplb_service_set_mode(struct viplb_config *cfg,
			    struct viplb_service *svc, u32 mode, u32 flags)
{
	service_count(cfg, svc, -1);
	WRITE_ONCE(svc->mode, mode);
	WRITE_ONCE(svc->flags, flags);
	service_count(cfg, svc, 1);
}

void viplb_service_link(struct viplb_config *cfg, struct viplb_service *svc)
{
	hlist_add_head_rcu(&svc->hnode, &cfg->table[svc_key_hash(&svc->key)]);
	list_add_tail_rcu(&svc->list, &cfg->services);
	cfg->n_services++;
	service_count(cfg, svc, 1);
}

void viplb_service_unlink(struct viplb_config *cfg, struct viplb_service *svc)
{
	/* The estimator goes on from the next one; NULL starts it over. */
	if (cfg->est_next == svc)
		cfg->est_next = list_is_last(&svc->list, &cfg->services) ?
				NULL : list_next_entry(svc, list);
	hlist_del_rcu(&svc->hnode);
	list_del_rcu(&svc->list);
	cfg->n_services--;
	cfg->n_backends -= svc->n_backends;
	cfg->n_slots -= svc->slots;
	svc->slots = 0;
	service_count(cfg, svc, -1);
}

struct viplb_backend *viplb_backend_find(const struct viplb_service *svc,
					 const union nf_inet_addr *addr,
					 __be16 port)
{
	struct viplb_backend *be;

	list_for_each_entry_rcu(be, &svc->backends, list, true) {
		if (be->port == port && !memcmp(&be->addr, addr, sizeof(*addr)))
			return be;
	}
	return NULL;
}

/* A new backend of @svc, not linked yet.  Caller holds the mutex. */
struct viplb_backend *viplb_backend_alloc(struct viplb_service *svc)
{
	struct viplb_backend *be;

	be = kzalloc(sizeof(*be), GFP_KERNEL_ACCOUNT);
	if (!be)
		return NULL;
	be->cnt = counters_alloc(svc, &be->cnt_block);
	if (!be->cnt) {
		kfree(be);
		return NULL;
	}
	refcount_set(&be->ref, 1);
	atomic_inc(&live_objects);
	be->weight = VIPLB_WEIGHT_DEFAULT;
	return be;
}

void viplb_backend_link(struct viplb_config *cfg, struct viplb_service *svc,
			struct viplb_backend *be)
{
	list_add_tail_rcu(&be->list, &svc->backends);
	svc->n_backends++;
	cfg->n_backends++;
}

/* Unlinks a backend and drops the service's reference to it. */
void viplb_backend_unlink(struct viplb_config *cfg, struct viplb_service *svc,
			  struct viplb_backend *be)
{
	list_del_rcu(&be->list);
	svc->n_backends--;
	cfg->n_backends--;
	viplb_backend_put(be);
}

/*
 * Waits until every service and backend is freed, for module exit, once
 * no netns holds any: the call_rcu() frees can queue further frees (a flow
 * frees its service, which frees its backends: three levels).
 */
void viplb_objects_drain(void)
{
	int i = 0;

	/*
	 * At least once: every callback queued by the module (flows,
	 * scheduler snapshots) must run before its code goes away.
	 */
	do
		rcu_barrier();
	while (atomic_read(&live_objects) && ++i < 4);
	WARN(atomic_read(&live_objects), "viplb: %d objects leaked\n",
	     atomic_read(&live_objects));
}
