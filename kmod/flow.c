// SPDX-License-Identifier: GPL-2.0
/*
 * viplb: flows.
 *
 * nat mode: conntrack owns the connections; viplb keeps a reference to each
 * conntrack entry it scheduled, with its service and backend, to count the
 * active flows that the lc scheduler and `viplb stats` report.  The entries
 * sit in per-CPU-chosen shards, each with its own lock, so that new
 * connections on different CPUs do not contend.
 *
 * dr and tun modes: viplb's own flow table, an RCU hash keyed by the
 * 5-tuple, keeps each flow on its backend until it times out.  Timeouts
 * are per protocol (module parameters), and a TCP flow that saw FIN or RST
 * gets the short closing timeout.  The table is hostile-traffic safe, as
 * IPVS's connection table: its buckets are chosen by a hash with a random
 * per-netns seed (the scheduling hash, viplb_flow_hash(), is fixed and
 * public, so that every director picks the same backend), it is sized
 * from net.viplb.max_flows when the netns gets its first service, and its
 * buckets are locked in stripes.  A TCP entry is made by a SYN only, and lives
 * timeout_tcp_syn until the flow's next packet.
 *
 * One worker per netns expires both kinds while there are entries, in
 * bounded steps: each run visits at most GC_BUDGET nat entries and dr/tun
 * buckets, taking a lock for GC_BATCH of them at a time, and comes back
 * soon while a sweep is unfinished.  Both kinds are capped per netns
 * (net.viplb.max_flows) and charged to the memory cgroup of the task that
 * gave the netns its first service, though allocated in softirq.
 */
#include <linux/jhash.h>
#include <linux/memcontrol.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/tcp.h>
#include <linux/workqueue.h>
#include <net/netfilter/nf_conntrack.h>
#include "viplb.h"

#define FLOWS_GC_INTERVAL (HZ / 2)
#define FLOWS_GC_SOON (HZ / 50)	/* while a sweep is unfinished */
#define GC_BUDGET 8192		/* nat entries, dr/tun buckets per run */
#define GC_BATCH 64		/* ... per lock hold */
#define NAT_SHARDS 64
/* Buckets: max_flows / 8, within these bounds; locks: one per 64 buckets. */
#define FWD_MIN_BITS 10
#define FWD_MAX_BITS 18
#define FWD_LOCK_SHIFT 6

static unsigned int timeout_tcp __read_mostly = 900;
module_param(timeout_tcp, uint, 0644);
MODULE_PARM_DESC(timeout_tcp, "dr/tun TCP flow idle timeout (s)");

static unsigned int timeout_tcp_syn __read_mostly = 30;
module_param(timeout_tcp_syn, uint, 0644);
MODULE_PARM_DESC(timeout_tcp_syn,
		 "dr/tun TCP flow timeout after its SYN, until its next packet (s)");

static unsigned int timeout_tcp_fin __read_mostly = 120;
module_param(timeout_tcp_fin, uint, 0644);
MODULE_PARM_DESC(timeout_tcp_fin, "dr/tun TCP timeout after FIN/RST (s)");

static unsigned int timeout_udp __read_mostly = 300;
module_param(timeout_udp, uint, 0644);
MODULE_PARM_DESC(timeout_udp, "dr/tun UDP flow idle timeout (s)");
/* An entry whose conntrack never got confirmed (packet dropped) */
#define FLOWS_UNCONFIRMED_TIMEOUT (5 * HZ)

struct viplb_flow {
	struct list_head list;
	struct nf_conn *ct;
	struct viplb_service *svc;
	struct viplb_backend *be;
	unsigned long created;
};

struct viplb_fwd_flow {
	struct hlist_node hnode;	/* in fwd[], RCU */
	struct viplb_flow_tuple tuple;
	struct viplb_service *svc;
	struct viplb_backend *be;
	unsigned long expires;		/* jiffies */
	bool closing;			/* TCP FIN or RST seen */
	bool embryonic;			/* TCP: only the SYN seen so far */
	struct rcu_head rcu;
};

/* nat-mode flows of one shard. */
struct viplb_nat_shard {
	spinlock_t lock;		/* protects @list and @count */
	struct list_head list;		/* oldest visit by the GC first */
	unsigned int count;
} ____cacheline_aligned_in_smp;

/* The dr/tun flow table; see the top of this file. */
struct viplb_fwd_table {
	u32 seed;			/* bucket hash seed, random */
	unsigned int bits;		/* log2 of the number of buckets */
	spinlock_t *locks;		/* bucket b: locks[b >> FWD_LOCK_SHIFT] */
	struct hlist_head buckets[];
};

struct viplb_flows {
	struct viplb_nat_shard nat[NAT_SHARDS];
	atomic_t nat_count;		/* entries in @nat */
	atomic_t fwd_count;		/* entries in @fwd */
	const u32 *max;			/* net.viplb.max_flows */
	struct delayed_work gc;
	/* The GC's place in its sweeps; only the worker touches these. */
	unsigned int nat_shard;		/* shard being visited */
	unsigned int nat_todo;		/* its entries left to visit */
	bool nat_started;		/* @nat_todo is set */
	unsigned int fwd_bucket;	/* next bucket to visit */
	/* Set with @fwd; flows are charged to it */
	struct mem_cgroup *memcg;
	/* NULL until the first service; then set until the netns exits */
	struct viplb_fwd_table __rcu *fwd;
};

/* Allocates a flow entry, in softirq, charged to the netns's memcg. */
static void *flow_alloc(struct viplb_flows *fl, size_t size)
{
	struct mem_cgroup *old = set_active_memcg(fl->memcg);
	void *p = kmalloc(size, GFP_ATOMIC | __GFP_ACCOUNT);

	set_active_memcg(old);
	return p;
}

/* Is the connection still open?  TCP counts until it starts closing. */
static bool flow_active(const struct viplb_flow *f)
{
	struct nf_conn *ct = f->ct;

	if (nf_ct_is_dying(ct))
		return false;
	if (!nf_ct_is_confirmed(ct))
		return time_before(jiffies,
				   f->created + FLOWS_UNCONFIRMED_TIMEOUT);
	if (nf_ct_is_expired(ct))
		return false;
	if (nf_ct_protonum(ct) == IPPROTO_TCP) {
		u8 state = READ_ONCE(ct->proto.tcp.state);

		return state == TCP_CONNTRACK_SYN_SENT ||
		       state == TCP_CONNTRACK_SYN_RECV ||
		       state == TCP_CONNTRACK_ESTABLISHED;
	}
	return true;
}

static void flow_free(struct viplb_flow *f)
{
	atomic_dec(&f->be->cnt->active);
	atomic_dec(&f->svc->cnt->active);
	nf_ct_put(f->ct);
	viplb_backend_put(f->be);
	viplb_service_put(f->svc);
	kfree(f);
}

/*
 * Visits up to GC_BUDGET nat entries, going on from where the last run
 * stopped, and frees those no longer active.  Returns true if the sweep
 * of all shards is unfinished.
 */
static bool nat_gc(struct viplb_flows *fl)
{
	unsigned int budget = GC_BUDGET;
	struct viplb_flow *f, *tmp;

	while (budget) {
		struct viplb_nat_shard *sh = &fl->nat[fl->nat_shard];
		LIST_HEAD(dead);
		unsigned int n;

		spin_lock_bh(&sh->lock);
		if (!fl->nat_started) {
			fl->nat_todo = sh->count;
			fl->nat_started = true;
		}
		/* Only the GC removes entries: count >= todo. */
		for (n = 0; n < GC_BATCH && fl->nat_todo && budget;
		     n++, fl->nat_todo--, budget--) {
			f = list_first_entry(&sh->list, struct viplb_flow, list);
			if (flow_active(f)) {
				list_move_tail(&f->list, &sh->list);
			} else {
				list_move_tail(&f->list, &dead);
				sh->count--;
				atomic_dec(&fl->nat_count);
			}
		}
		spin_unlock_bh(&sh->lock);
		list_for_each_entry_safe(f, tmp, &dead, list)
			flow_free(f);
		if (!fl->nat_todo) {
			fl->nat_started = false;
			fl->nat_shard = (fl->nat_shard + 1) % NAT_SHARDS;
			if (!fl->nat_shard)
				return false;
		}
		cond_resched();
	}
	return true;
}

/* Frees every nat entry (netns exit: no new ones can appear). */
static void nat_free_all(struct viplb_flows *fl)
{
	struct viplb_flow *f, *tmp;
	unsigned int i;

	for (i = 0; i < NAT_SHARDS; i++) {
		struct viplb_nat_shard *sh = &fl->nat[i];
		LIST_HEAD(dead);

		spin_lock_bh(&sh->lock);
		list_splice_init(&sh->list, &dead);
		atomic_sub(sh->count, &fl->nat_count);
		sh->count = 0;
		spin_unlock_bh(&sh->lock);
		list_for_each_entry_safe(f, tmp, &dead, list) {
			flow_free(f);
			cond_resched();
		}
	}
}

static void fwd_flow_free_rcu(struct rcu_head *head)
{
	struct viplb_fwd_flow *f = container_of(head, struct viplb_fwd_flow,
						rcu);

	viplb_backend_put(f->be);
	viplb_service_put(f->svc);
	kfree(f);
}

/* Caller holds the bucket's lock. */
static void fwd_flow_unlink(struct viplb_flows *fl, struct viplb_fwd_flow *f)
{
	hlist_del_rcu(&f->hnode);
	atomic_dec(&fl->fwd_count);
	atomic_dec(&f->be->cnt->active);
	atomic_dec(&f->svc->cnt->active);
	call_rcu(&f->rcu, fwd_flow_free_rcu);
}

/* Removes the dr/tun flows for which @drop(flow, @arg) is true. */
static void fwd_remove_if(struct viplb_flows *fl,
			  bool (*drop)(const struct viplb_fwd_flow *f,
				       const void *arg),
			  const void *arg)
{
	/* Process context: the table outlives every caller. */
	struct viplb_fwd_table *ft = rcu_dereference_protected(fl->fwd, true);
	struct viplb_fwd_flow *f;
	struct hlist_node *tmp;
	unsigned int i;

	if (!ft)
		return;
	for (i = 0; i < (1U << ft->bits); i++) {
		spinlock_t *lock = &ft->locks[i >> FWD_LOCK_SHIFT];

		if (hlist_empty(&ft->buckets[i]))
			continue;
		spin_lock_bh(lock);
		hlist_for_each_entry_safe(f, tmp, &ft->buckets[i], hnode)
			if (drop(f, arg))
				fwd_flow_unlink(fl, f);
		spin_unlock_bh(lock);
		if (!(i & 1023))
			cond_resched();
	}
}

static bool fwd_of_backend(const struct viplb_fwd_flow *f, const void *be)
{
	return f->be == be;
}

/*
 * Visits up to GC_BUDGET dr/tun buckets, GC_BATCH (one lock stripe) at a
 * time, going on from where the last run stopped, and drops the expired
 * entries.  Returns true if the sweep of the table is unfinished.
 */
static bool fwd_gc(struct viplb_flows *fl)
{
	/* Process context: the table outlives the worker. */
	struct viplb_fwd_table *ft = rcu_dereference_protected(fl->fwd, true);
	unsigned int budget = GC_BUDGET, i, end;
	struct viplb_fwd_flow *f;
	struct hlist_node *tmp;

	BUILD_BUG_ON(GC_BATCH != 1 << FWD_LOCK_SHIFT);
	if (!ft)
		return false;
	for (; budget; budget -= GC_BATCH) {
		spinlock_t *lock = &ft->locks[fl->fwd_bucket >> FWD_LOCK_SHIFT];

		end = fl->fwd_bucket + GC_BATCH;
		spin_lock_bh(lock);
		for (i = fl->fwd_bucket; i < end; i++)
			hlist_for_each_entry_safe(f, tmp, &ft->buckets[i], hnode)
				if (time_after(jiffies, READ_ONCE(f->expires)))
					fwd_flow_unlink(fl, f);
		spin_unlock_bh(lock);
		fl->fwd_bucket = end & ((1U << ft->bits) - 1);
		if (!fl->fwd_bucket)
			return false;
		cond_resched();
	}
	return true;
}

static bool fwd_any(const struct viplb_fwd_flow *f, const void *arg)
{
	return true;
}

static void flows_gc_work(struct work_struct *work)
{
	struct viplb_flows *fl = container_of(to_delayed_work(work),
					      struct viplb_flows, gc);
	bool more = nat_gc(fl);

	more |= fwd_gc(fl);
	if (more)
		queue_delayed_work(system_power_efficient_wq, &fl->gc,
				   FLOWS_GC_SOON);
	else if (atomic_read(&fl->nat_count) || atomic_read(&fl->fwd_count))
		queue_delayed_work(system_power_efficient_wq, &fl->gc,
				   FLOWS_GC_INTERVAL);
}

/* The bucket of @t: a hash with the table's own random seed. */
static u32 fwd_bucket(const struct viplb_fwd_table *ft,
		      const struct viplb_flow_tuple *t)
{
	BUILD_BUG_ON(sizeof(*t) % sizeof(u32));
	return jhash2((const u32 *)t, sizeof(*t) / sizeof(u32), ft->seed) &
	       ((1U << ft->bits) - 1);
}

static bool tuple_equal(const struct viplb_flow_tuple *a,
			const struct viplb_flow_tuple *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static unsigned long fwd_timeout(u8 proto, bool closing, bool embryonic)
{
	unsigned int secs;

	if (proto != IPPROTO_TCP)
		secs = READ_ONCE(timeout_udp);
	else if (closing)
		secs = READ_ONCE(timeout_tcp_fin);
	else if (embryonic)
		secs = READ_ONCE(timeout_tcp_syn);
	else
		secs = READ_ONCE(timeout_tcp);
	return (unsigned long)secs * HZ;
}

/* The live entry of @t, or NULL.  RCU. */
static struct viplb_fwd_flow *fwd_find_rcu(struct viplb_flows *fl,
					   const struct viplb_flow_tuple *t)
{
	struct viplb_fwd_table *ft = rcu_dereference(fl->fwd);
	struct viplb_fwd_flow *f;

	if (!ft)
		return NULL;
	hlist_for_each_entry_rcu(f, &ft->buckets[fwd_bucket(ft, t)], hnode) {
		if (tuple_equal(&f->tuple, t))
			return time_after(jiffies, READ_ONCE(f->expires)) ?
				       NULL : f;
	}
	return NULL;
}

/**
 * viplb_fwd_flow_get() - the backend of a known dr/tun flow
 * @vn: the netns state
 * @t: the flow
 * @fin: the packet is a TCP FIN or RST
 *
 * Context: rcu_read_lock().  Refreshes the flow's timeout.  Returns NULL
 * if the flow is unknown or expired.
 */
struct viplb_backend *viplb_fwd_flow_get(struct viplb_net *vn,
					 const struct viplb_flow_tuple *t,
					 bool fin)
{
	struct viplb_fwd_flow *f = fwd_find_rcu(vn->flows, t);
	bool closing;

	if (!f)
		return NULL;
	if (fin && !READ_ONCE(f->closing))
		WRITE_ONCE(f->closing, true);
	/* Past the SYN: the flow is established (or a spoofer's). */
	if (READ_ONCE(f->embryonic))
		WRITE_ONCE(f->embryonic, false);
	closing = READ_ONCE(f->closing);
	WRITE_ONCE(f->expires, jiffies + fwd_timeout(t->proto, closing, false));
	return f->be;
}

/* The backend of a known dr/tun flow, without touching it.  RCU. */
struct viplb_backend *viplb_fwd_flow_peek(struct viplb_net *vn,
					  const struct viplb_flow_tuple *t)
{
	struct viplb_fwd_flow *f = fwd_find_rcu(vn->flows, t);

	return f ? f->be : NULL;
}

struct flush_match {
	const struct viplb_service *svc;
	const struct viplb_backend *be;
};

/* Is @ct a connection of service m->svc translated to backend m->be? */
static int ct_match_backend(struct nf_conn *ct, void *data)
{
	const struct flush_match *m = data;
	const struct viplb_svc_key *key = &m->svc->key;
	const struct nf_conntrack_tuple *ot, *rt;
	size_t alen = key->af == AF_INET ? 4 : 16;

	if (!(ct->status & IPS_DST_NAT) ||
	    nf_ct_l3num(ct) != (key->af == AF_INET ? NFPROTO_IPV4 :
						     NFPROTO_IPV6))
		return 0;
	ot = &ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple;
	rt = &ct->tuplehash[IP_CT_DIR_REPLY].tuple;
	if (ot->dst.protonum != key->proto ||
	    memcmp(&ot->dst.u3, &key->addr, alen) ||
	    (key->port && ot->dst.u.all != key->port))
		return 0;
	return !memcmp(&rt->src.u3, &m->be->addr, alen) &&
	       (!m->be->port || rt->src.u.all == m->be->port);
}

/**
 * viplb_flows_flush_backend() - drop the flows of a removed backend
 * @vn: the netns state
 * @svc: its service
 * @be: the backend, already unlinked from @svc
 *
 * Drops its dr/tun flow-table entries and kills the conntrack entries of
 * its nat-mode connections.  Context: process.
 */
void viplb_flows_flush_backend(struct viplb_net *vn,
			       const struct viplb_service *svc,
			       const struct viplb_backend *be)
{
	struct flush_match m = { .svc = svc, .be = be };
	struct nf_ct_iter_data iter = { .net = vn->net, .data = &m };

	/* Packets that still see @be in the old snapshot are done. */
	synchronize_rcu();
	fwd_remove_if(vn->flows, fwd_of_backend, be);
	nf_ct_iterate_cleanup_net(ct_match_backend, &iter);
}

/**
 * viplb_fwd_flow_add() - remember the backend of a new dr/tun flow
 * @vn: the netns state
 * @t: the flow, from its first packet: a TCP SYN or a UDP datagram
 * @svc: its service
 * @be: the backend chosen
 *
 * Context: rcu_read_lock().  A full table or no memory leaves the flow
 * untracked (counted); its packets are then scheduled one by one.
 */
void viplb_fwd_flow_add(struct viplb_net *vn, const struct viplb_flow_tuple *t,
			struct viplb_service *svc, struct viplb_backend *be)
{
	struct viplb_flows *fl = vn->flows;
	struct viplb_fwd_table *ft = rcu_dereference(fl->fwd);
	struct viplb_fwd_flow *f, *old;
	spinlock_t *lock;
	u32 b;

	if (!ft || atomic_read(&fl->fwd_count) >= READ_ONCE(*fl->max))
		goto untracked;
	f = flow_alloc(fl, sizeof(*f));
	if (!f)
		goto untracked;
	if (!refcount_inc_not_zero(&svc->ref))
		goto free;
	if (!refcount_inc_not_zero(&be->ref)) {
		viplb_service_put(svc);
		goto free;
	}
	f->tuple = *t;
	f->svc = svc;
	f->be = be;
	f->closing = false;
	f->embryonic = t->proto == IPPROTO_TCP;
	f->expires = jiffies + fwd_timeout(t->proto, false, f->embryonic);

	b = fwd_bucket(ft, t);
	lock = &ft->locks[b >> FWD_LOCK_SHIFT];
	spin_lock_bh(lock);
	/* Another CPU may have added the same flow meanwhile: replace it. */
	hlist_for_each_entry(old, &ft->buckets[b], hnode) {
		if (tuple_equal(&old->tuple, t)) {
			fwd_flow_unlink(fl, old);
			break;
		}
	}
	hlist_add_head_rcu(&f->hnode, &ft->buckets[b]);
	atomic_inc(&fl->fwd_count);
	atomic_inc(&be->cnt->active);
	atomic_inc(&svc->cnt->active);
	spin_unlock_bh(lock);
	queue_delayed_work(system_power_efficient_wq, &fl->gc,
			   FLOWS_GC_INTERVAL);
	return;

free:
	kfree(f);
untracked:
	viplb_stats_untracked(svc->cnt);
}

/**
 * viplb_fwd_table_alloc() - give the netns its dr/tun flow table
 * @vn: the netns state
 *
 * Sized from net.viplb.max_flows, with a random seed.  Called before the first hooks
 * of the netns are registered; the table then stays until the netns
 * exits.  Context: process, vn->lock held.  Return: 0 or -ENOMEM.
 */
int viplb_fwd_table_alloc(struct viplb_net *vn)
{
	struct viplb_flows *fl = vn->flows;
	struct viplb_fwd_table *ft;
	unsigned int max = READ_ONCE(*fl->max) / 8, bits, i, nlocks;

	if (rcu_access_pointer(fl->fwd))
		return 0;
	bits = max ? ilog2(max) : 0;
	bits = clamp_t(unsigned int, bits, FWD_MIN_BITS, FWD_MAX_BITS);
	ft = kvzalloc(struct_size(ft, buckets, 1UL << bits),
		      GFP_KERNEL_ACCOUNT);
	if (!ft)
		return -ENOMEM;
	nlocks = 1U << (bits - FWD_LOCK_SHIFT);
	ft->locks = kvmalloc_array(nlocks, sizeof(*ft->locks),
				   GFP_KERNEL_ACCOUNT);
	if (!ft->locks) {
		kvfree(ft);
		return -ENOMEM;
	}
	for (i = 0; i < nlocks; i++)
		spin_lock_init(&ft->locks[i]);
	ft->bits = bits;
	ft->seed = get_random_u32();
	/* The configuring task's memcg (NULL for a kernel thread: root). */
	fl->memcg = get_mem_cgroup_from_mm(current->mm);
	rcu_assign_pointer(fl->fwd, ft);
	return 0;
}

/**
 * viplb_flow_track_nat() - count a nat-mode connection as active
 * @vn: the netns state
 * @ct: its conntrack entry, just bound to @be
 * @svc: the service
 * @be: the backend chosen
 *
 * Context: softirq or process, under rcu_read_lock().  Over the limit or
 * out of memory the connection is served but not counted.
 */
void viplb_flow_track_nat(struct viplb_net *vn, struct nf_conn *ct,
			  struct viplb_service *svc, struct viplb_backend *be)
{
	struct viplb_flows *fl = vn->flows;
	struct viplb_flow *f;

	struct viplb_nat_shard *sh;

	if (atomic_read(&fl->nat_count) >= READ_ONCE(*fl->max)) {
		viplb_stats_untracked(svc->cnt);
		return;
	}
	f = flow_alloc(fl, sizeof(*f));
	if (!f)
		return;
	if (!refcount_inc_not_zero(&svc->ref)) {
		kfree(f);
		return;
	}
	if (!refcount_inc_not_zero(&be->ref)) {
		viplb_service_put(svc);
		kfree(f);
		return;
	}
	nf_conntrack_get(&ct->ct_general);
	f->ct = ct;
	f->svc = svc;
	f->be = be;
	f->created = jiffies;
	atomic_inc(&be->cnt->active);
	atomic_inc(&svc->cnt->active);

	sh = &fl->nat[raw_smp_processor_id() % NAT_SHARDS];
	spin_lock_bh(&sh->lock);
	list_add_tail(&f->list, &sh->list);
	sh->count++;
	atomic_inc(&fl->nat_count);
	spin_unlock_bh(&sh->lock);
	/* The collector runs while there are entries; no-op if queued. */
	queue_delayed_work(system_power_efficient_wq, &fl->gc,
			   FLOWS_GC_INTERVAL);
}

/* Does the netns count nat-mode connections (of any service)? */
bool viplb_nat_flows_active(struct viplb_net *vn)
{
	return atomic_read(&vn->flows->nat_count) != 0;
}

int viplb_flows_init(struct viplb_net *vn)
{
	struct viplb_flows *fl;
	unsigned int i;

	fl = kvzalloc(sizeof(*fl), GFP_KERNEL_ACCOUNT);
	if (!fl)
		return -ENOMEM;
	for (i = 0; i < NAT_SHARDS; i++) {
		spin_lock_init(&fl->nat[i].lock);
		INIT_LIST_HEAD(&fl->nat[i].list);
	}
	fl->max = &vn->limits.max_flows;
	INIT_DELAYED_WORK(&fl->gc, flows_gc_work);
	vn->flows = fl;
	return 0;
}

/* Called once the netns hooks are gone: no new entries can appear. */
void viplb_flows_exit(struct viplb_net *vn)
{
	struct viplb_flows *fl = vn->flows;
	struct viplb_fwd_table *ft;

	if (!fl)
		return;
	cancel_delayed_work_sync(&fl->gc);
	nat_free_all(fl);
	fwd_remove_if(fl, fwd_any, NULL);
	ft = rcu_dereference_protected(fl->fwd, true);
	if (ft) {
		kvfree(ft->locks);
		kvfree(ft);
	}
	mem_cgroup_put(fl->memcg);
	kvfree(fl);
	vn->flows = NULL;
}
