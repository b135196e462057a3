// SPDX-License-Identifier: GPL-2.0
/*
 * viplb: flow accounting for nat-mode connections.
 *
 * Conntrack owns nat-mode connections; viplb keeps a reference to each
 * conntrack entry it scheduled, with its service and backend, to count the
 * active flows that the lc scheduler and `viplb stats` report.  A worker
 * drops entries once the connection is closed or gone.
 */
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <net/netfilter/nf_conntrack.h>
#include "viplb.h"

#define FLOWS_MAX (1U << 20)
#define FLOWS_GC_INTERVAL (HZ / 2)
/* An entry whose conntrack never got confirmed (packet dropped) */
#define FLOWS_UNCONFIRMED_TIMEOUT (5 * HZ)

struct viplb_flow {
	struct list_head list;
	struct nf_conn *ct;
	struct viplb_service *svc;
	struct viplb_backend *be;
	unsigned long created;
};

struct viplb_flows {
	spinlock_t lock;		/* protects @list and @count */
	struct list_head list;
	unsigned int count;
	struct delayed_work gc;
};

void viplb_stats_add(struct viplb_pcpu_stats __percpu *stats, bool conn,
		     bool reply, unsigned int bytes)
{
	struct viplb_pcpu_stats *s = this_cpu_ptr(stats);

	u64_stats_update_begin(&s->syncp);
	if (conn)
		u64_stats_inc(&s->conns);
	if (reply) {
		u64_stats_inc(&s->pkts_out);
		u64_stats_add(&s->bytes_out, bytes);
	} else if (bytes) {
		u64_stats_inc(&s->pkts_in);
		u64_stats_add(&s->bytes_in, bytes);
	}
	u64_stats_update_end(&s->syncp);
}

void viplb_stats_reject(struct viplb_pcpu_stats __percpu *stats)
{
	struct viplb_pcpu_stats *s = this_cpu_ptr(stats);

	u64_stats_update_begin(&s->syncp);
	u64_stats_inc(&s->rejected);
	u64_stats_update_end(&s->syncp);
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
	atomic_dec(&f->be->active);
	atomic_dec(&f->svc->active);
	nf_ct_put(f->ct);
	viplb_backend_put(f->be);
	viplb_service_put(f->svc);
	kfree(f);
}

/* Frees the entries that are no longer active (all if @all). */
static void flows_collect(struct viplb_flows *fl, bool all)
{
	struct viplb_flow *f, *tmp;
	LIST_HEAD(dead);

	spin_lock_bh(&fl->lock);
	list_for_each_entry_safe(f, tmp, &fl->list, list) {
		if (all || !flow_active(f)) {
			list_move(&f->list, &dead);
			fl->count--;
		}
	}
	spin_unlock_bh(&fl->lock);

	list_for_each_entry_safe(f, tmp, &dead, list)
		flow_free(f);
}

static void flows_gc_work(struct work_struct *work)
{
	struct viplb_flows *fl = container_of(to_delayed_work(work),
					      struct viplb_flows, gc);

	flows_collect(fl, false);
	if (READ_ONCE(fl->count))
		queue_delayed_work(system_power_efficient_wq, &fl->gc,
				   FLOWS_GC_INTERVAL);
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

	if (READ_ONCE(fl->count) >= FLOWS_MAX)
		return;
	f = kmalloc(sizeof(*f), GFP_ATOMIC);
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
	atomic_inc(&be->active);
	atomic_inc(&svc->active);

	spin_lock_bh(&fl->lock);
	list_add_tail(&f->list, &fl->list);
	fl->count++;
	spin_unlock_bh(&fl->lock);
	/* The collector runs while there are entries; no-op if queued. */
	queue_delayed_work(system_power_efficient_wq, &fl->gc,
			   FLOWS_GC_INTERVAL);
}

int viplb_flows_init(struct viplb_net *vn)
{
	struct viplb_flows *fl;

	fl = kzalloc(sizeof(*fl), GFP_KERNEL);
	if (!fl)
		return -ENOMEM;
	spin_lock_init(&fl->lock);
	INIT_LIST_HEAD(&fl->list);
	INIT_DELAYED_WORK(&fl->gc, flows_gc_work);
	vn->flows = fl;
	return 0;
}

/* Called once the netns hooks are gone: no new entries can appear. */
void viplb_flows_exit(struct viplb_net *vn)
{
	struct viplb_flows *fl = vn->flows;

	if (!fl)
		return;
	cancel_delayed_work_sync(&fl->gc);
	flows_collect(fl, true);
	kfree(fl);
	vn->flows = NULL;
}
