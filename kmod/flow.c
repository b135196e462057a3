// SPDX-License-Identifier: GPL-2.0
/*
 * viplb: flows.
 *
 * nat mode: conntrack owns the connections; viplb keeps a reference to each
 * conntrack entry it scheduled, with its service and backend, to count the
 * active flows that the lc scheduler and `viplb stats` report.
 *
 * dr and tun modes: viplb's own flow table, an RCU hash keyed by the
 * 5-tuple, keeps each flow on its backend until it times out.  Timeouts
 * are per protocol (module parameters), and a TCP flow that saw FIN or RST
 * gets the short closing timeout.
 *
 * One worker per netns expires both kinds while there are entries.
 */
#include <linux/jhash.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/tcp.h>
#include <linux/workqueue.h>
#include <net/netfilter/nf_conntrack.h>
#include "viplb.h"

#define FLOWS_GC_INTERVAL (HZ / 2)
#define FWD_HASH_BITS 14

static unsigned int flow_max __read_mostly = 1U << 20;
module_param(flow_max, uint, 0644);
MODULE_PARM_DESC(flow_max, "most flows tracked per netns, per kind");

static unsigned int timeout_tcp __read_mostly = 900;
module_param(timeout_tcp, uint, 0644);
MODULE_PARM_DESC(timeout_tcp, "dr/tun TCP flow idle timeout (s)");

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
	struct rcu_head rcu;
};

struct viplb_flows {
	spinlock_t lock;		/* protects all lists and counts */
	struct list_head list;		/* nat-mode flows */
	unsigned int count;
	unsigned int fwd_count;
	struct delayed_work gc;
	struct hlist_head fwd[1 << FWD_HASH_BITS];
};

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

static void fwd_flow_free_rcu(struct rcu_head *head)
{
	struct viplb_fwd_flow *f = container_of(head, struct viplb_fwd_flow,
						rcu);

	viplb_backend_put(f->be);
	viplb_service_put(f->svc);
	kfree(f);
}

static void fwd_flow_unlink(struct viplb_flows *fl, struct viplb_fwd_flow *f)
{
	hlist_del_rcu(&f->hnode);
	fl->fwd_count--;
	atomic_dec(&f->be->active);
	atomic_dec(&f->svc->active);
	call_rcu(&f->rcu, fwd_flow_free_rcu);
}

/* Removes the dr/tun flows for which @drop(flow, @arg) is true. */
static void fwd_remove_if(struct viplb_flows *fl,
			  bool (*drop)(const struct viplb_fwd_flow *f,
				       const void *arg),
			  const void *arg)
{
	struct viplb_fwd_flow *f;
	struct hlist_node *tmp;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(fl->fwd); i++) {
		if (hlist_empty(&fl->fwd[i]))
			continue;
		spin_lock_bh(&fl->lock);
		hlist_for_each_entry_safe(f, tmp, &fl->fwd[i], hnode)
			if (drop(f, arg))
				fwd_flow_unlink(fl, f);
		spin_unlock_bh(&fl->lock);
	}
}

static bool fwd_expired(const struct viplb_fwd_flow *f, const void *all)
{
	return *(const bool *)all || time_after(jiffies, READ_ONCE(f->expires));
}

static bool fwd_of_backend(const struct viplb_fwd_flow *f, const void *be)
{
	return f->be == be;
}

/* Expires dr/tun flows (all if @all). */
static void fwd_collect(struct viplb_flows *fl, bool all)
{
	fwd_remove_if(fl, fwd_expired, &all);
}

static void flows_gc_work(struct work_struct *work)
{
	struct viplb_flows *fl = container_of(to_delayed_work(work),
					      struct viplb_flows, gc);

	flows_collect(fl, false);
	fwd_collect(fl, false);
	if (READ_ONCE(fl->count) || READ_ONCE(fl->fwd_count))
		queue_delayed_work(system_power_efficient_wq, &fl->gc,
				   FLOWS_GC_INTERVAL);
}

static u32 fwd_bucket(const struct viplb_flow_tuple *t)
{
	return hash_32(viplb_flow_hash(t), FWD_HASH_BITS);
}

static bool tuple_equal(const struct viplb_flow_tuple *a,
			const struct viplb_flow_tuple *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static unsigned long fwd_timeout(u8 proto, bool closing)
{
	unsigned int secs;

	if (proto == IPPROTO_TCP)
		secs = closing ? timeout_tcp_fin : timeout_tcp;
	else
		secs = timeout_udp;
	return (unsigned long)READ_ONCE(secs) * HZ;
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
	struct viplb_flows *fl = vn->flows;
	struct viplb_fwd_flow *f;

	hlist_for_each_entry_rcu(f, &fl->fwd[fwd_bucket(t)], hnode) {
		if (!tuple_equal(&f->tuple, t))
			continue;
		if (time_after(jiffies, READ_ONCE(f->expires)))
			return NULL;
		if (fin && !READ_ONCE(f->closing))
			WRITE_ONCE(f->closing, true);
		WRITE_ONCE(f->expires,
			   jiffies + fwd_timeout(t->proto, READ_ONCE(f->closing)));
		return f->be;
	}
	return NULL;
}

/* The backend of a known dr/tun flow, without touching it.  RCU. */
struct viplb_backend *viplb_fwd_flow_peek(struct viplb_net *vn,
					  const struct viplb_flow_tuple *t)
{
	struct viplb_fwd_flow *f;

	hlist_for_each_entry_rcu(f, &vn->flows->fwd[fwd_bucket(t)], hnode) {
		if (tuple_equal(&f->tuple, t))
			return time_after(jiffies, READ_ONCE(f->expires)) ?
			       NULL : f->be;
	}
	return NULL;
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

	fwd_remove_if(vn->flows, fwd_of_backend, be);
	nf_ct_iterate_cleanup_net(ct_match_backend, &iter);
}

/**
 * viplb_fwd_flow_add() - remember the backend of a new dr/tun flow
 * @vn: the netns state
 * @t: the flow
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
	struct viplb_fwd_flow *f, *old;
	u32 b = fwd_bucket(t);

	if (READ_ONCE(fl->fwd_count) >= READ_ONCE(flow_max))
		goto untracked;
	f = kmalloc(sizeof(*f), GFP_ATOMIC);
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
	f->expires = jiffies + fwd_timeout(t->proto, false);

	spin_lock_bh(&fl->lock);
	/* Another CPU may have added the same flow meanwhile: replace it. */
	hlist_for_each_entry(old, &fl->fwd[b], hnode) {
		if (tuple_equal(&old->tuple, t)) {
			fwd_flow_unlink(fl, old);
			break;
		}
	}
	hlist_add_head_rcu(&f->hnode, &fl->fwd[b]);
	fl->fwd_count++;
	atomic_inc(&be->active);
	atomic_inc(&svc->active);
	spin_unlock_bh(&fl->lock);
	queue_delayed_work(system_power_efficient_wq, &fl->gc,
			   FLOWS_GC_INTERVAL);
	return;

free:
	kfree(f);
untracked:
	viplb_stats_untracked(svc->stats);
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

	if (READ_ONCE(fl->count) >= READ_ONCE(flow_max)) {
		viplb_stats_untracked(svc->stats);
		return;
	}
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

	fl = kvzalloc(sizeof(*fl), GFP_KERNEL_ACCOUNT);
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
	fwd_collect(fl, true);
	kvfree(fl);
	vn->flows = NULL;
}
