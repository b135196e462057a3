// SPDX-License-Identifier: GPL-2.0
/*
 * viplb: statistics.  Counters are per CPU and summed on read.  "stats
 * zero" stores a baseline that reads subtract, so the datapath never
 * races with a reset.  A per-netns worker estimates rates every 2 seconds
 * with an exponentially weighted moving average, as IPVS does.  It takes
 * the netns mutex for a bounded chunk of objects at a time, so a big
 * configuration does not hold up its changes.
 */
#include <linux/bottom_half.h>
#include <linux/percpu.h>
#include <linux/workqueue.h>
#include "viplb.h"

#define EST_INTERVAL (2 * HZ)
#define EST_SHIFT 10		/* fixed-point bits of the averages */
#define EST_CHUNK 512		/* objects estimated per hold of the mutex */

/*
 * The datapath's updates run in softirq and, at LOCAL_OUT, in process
 * context: BH off, so that the task stays on its CPU and no softirq
 * writer nests inside its update.
 */
static struct viplb_pcpu_stats *
stats_update_begin(struct viplb_pcpu_stats __percpu *stats)
{
	struct viplb_pcpu_stats *s;

	local_bh_disable();
	s = this_cpu_ptr(stats);
	u64_stats_update_begin(&s->syncp);
	return s;
}

static void stats_update_end(struct viplb_pcpu_stats *s)
{
	u64_stats_update_end(&s->syncp);
	local_bh_enable();
}

void viplb_stats_add(struct viplb_pcpu_stats __percpu *stats, bool conn,
		     bool reply, unsigned int bytes)
{
	struct viplb_pcpu_stats *s = stats_update_begin(stats);

	if (conn)
		u64_stats_inc(&s->conns);
	if (reply) {
		u64_stats_inc(&s->pkts_out);
		u64_stats_add(&s->bytes_out, bytes);
	} else if (bytes) {
		u64_stats_inc(&s->pkts_in);
		u64_stats_add(&s->bytes_in, bytes);
	}
	stats_update_end(s);
}

void viplb_stats_reject(struct viplb_counters *cnt)
{
	atomic64_inc(&cnt->rejected);
}

void viplb_stats_untracked(struct viplb_counters *cnt)
{
	atomic64_inc(&cnt->untracked);
}

/* Sums the counters, without the baseline. */
void viplb_stats_read(const struct viplb_counters *cnt,
		      struct viplb_stats_sum *sum)
{
	int cpu;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu) {
		const struct viplb_pcpu_stats *s = per_cpu_ptr(cnt->stats, cpu);
		struct viplb_stats_sum c;
		unsigned int start;

		do {
			start = u64_stats_fetch_begin(&s->syncp);
			c.conns = u64_stats_read(&s->conns);
			c.pkts_in = u64_stats_read(&s->pkts_in);
			c.pkts_out = u64_stats_read(&s->pkts_out);
			c.bytes_in = u64_stats_read(&s->bytes_in);
			c.bytes_out = u64_stats_read(&s->bytes_out);
		} while (u64_stats_fetch_retry(&s->syncp, start));
		sum->conns += c.conns;
		sum->pkts_in += c.pkts_in;
		sum->pkts_out += c.pkts_out;
		sum->bytes_in += c.bytes_in;
		sum->bytes_out += c.bytes_out;
	}
	sum->rejected = atomic64_read(&cnt->rejected);
	sum->untracked = atomic64_read(&cnt->untracked);
	sum->active = atomic_read(&cnt->active);
}

/* The counters the rates are of, in enum VIPLB_RATE_* order. */
static void rate_counters(const struct viplb_stats_sum *sum, u64 *v)
{
	v[VIPLB_RATE_CPS] = sum->conns;
	v[VIPLB_RATE_PPS_IN] = sum->pkts_in;
	v[VIPLB_RATE_PPS_OUT] = sum->pkts_out;
	v[VIPLB_RATE_BPS_IN] = sum->bytes_in;
	v[VIPLB_RATE_BPS_OUT] = sum->bytes_out;
}

/* What users see: counters since the last zeroing, and the rates. */
void viplb_stats_view(const struct viplb_counters *cnt,
		      struct viplb_stats_sum *sum, u64 *rates)
{
	const struct viplb_stats_est *est = &cnt->est;
	const struct viplb_stats_sum *base = est->base;
	int i;

	viplb_stats_read(cnt, sum);
	if (base) {
		sum->conns -= base->conns;
		sum->pkts_in -= base->pkts_in;
		sum->pkts_out -= base->pkts_out;
		sum->bytes_in -= base->bytes_in;
		sum->bytes_out -= base->bytes_out;
		sum->rejected -= base->rejected;
		sum->untracked -= base->untracked;
	}
	for (i = 0; i < VIPLB_RATE_NUM; i++)
		rates[i] = est->avg[i] >> EST_SHIFT;
}

/* Gives @cnt a baseline, which most counters never need. */
static int est_base_alloc(struct viplb_counters *cnt)
{
	if (!cnt->est.base)
		cnt->est.base = kzalloc(sizeof(*cnt->est.base),
					GFP_KERNEL_ACCOUNT);
	return cnt->est.base ? 0 : -ENOMEM;
}

static void est_zero(struct viplb_counters *cnt)
{
	struct viplb_stats_est *est = &cnt->est;

	viplb_stats_read(cnt, est->base);
	rate_counters(est->base, est->last);
	est->last_time = jiffies;
	memset(est->avg, 0, sizeof(est->avg));
}

/* A new object's rates start now. */
void viplb_est_init_counters(struct viplb_counters *cnt)
{
	cnt->est.last_time = jiffies;
}

/*
 * Before viplb_stats_zero(), which cannot fail then: the baselines of a
 * service and its backends.  Caller holds the netns mutex.
 */
int viplb_stats_zero_prepare(struct viplb_service *svc)
{
	struct viplb_backend *be;

	if (est_base_alloc(svc->cnt))
		return -ENOMEM;
	list_for_each_entry(be, &svc->backends, list)
		if (est_base_alloc(be->cnt))
			return -ENOMEM;
	return 0;
}

/* Zeroes a service and its backends.  Caller holds the netns mutex. */
void viplb_stats_zero(struct viplb_service *svc)
{
	struct viplb_backend *be;

	est_zero(svc->cnt);
	list_for_each_entry(be, &svc->backends, list)
		est_zero(be->cnt);
}

/*
 * One estimate, scaled by the time since the last one: a walk that starts
 * over after a config swap leaves alone what it estimated less than half
 * an interval ago, and one that came late does not misjudge the rate.
 */
static unsigned int est_update_one(struct viplb_counters *cnt,
				   unsigned long now_j)
{
	struct viplb_stats_est *est = &cnt->est;
	unsigned long elapsed = now_j - est->last_time;
	struct viplb_stats_sum sum;
	u64 now[VIPLB_RATE_NUM];
	int i;

	if (elapsed < EST_INTERVAL / 2)
		return 0;
	viplb_stats_read(cnt, &sum);
	rate_counters(&sum, now);
	est->last_time = now_j;
	for (i = 0; i < VIPLB_RATE_NUM; i++) {
		/* per second; avg += (x - avg) / 4 */
		u64 delta = now[i] - est->last[i];
		s64 x = div64_u64((delta << EST_SHIFT) * HZ, elapsed);
		s64 avg = est->avg[i];

		est->avg[i] = avg + ((x - avg) >> 2);
		est->last[i] = now[i];
	}
	return 1;
}

/*
 * Estimates about EST_CHUNK objects of the live services, from where the
 * last chunk stopped (cfg->est_next; see viplb_service_unlink()).
 * Returns true when the list has ended.
 */
static bool est_chunk(struct viplb_net *vn, unsigned long now_j)
{
	struct viplb_service *svc;
	struct viplb_backend *be;
	struct viplb_config *cfg;
	unsigned int done = 0;
	bool end = true;

	mutex_lock(&vn->lock);
	cfg = viplb_live_config(vn);
	if (!cfg)
		goto out;
	svc = cfg->est_next;
	if (!svc)
		svc = list_first_entry(&cfg->services, struct viplb_service,
				       list);
	cfg->est_next = NULL;
	list_for_each_entry_from(svc, &cfg->services, list) {
		if (done >= EST_CHUNK) {
			cfg->est_next = svc;
			end = false;
			break;
		}
		done += 1 + est_update_one(svc->cnt, now_j);
		list_for_each_entry(be, &svc->backends, list)
			done += 1 + est_update_one(be->cnt, now_j);
	}
out:
	mutex_unlock(&vn->lock);
	return end;
}

/* Every interval, a walk of the live services in chunks. */
static void est_work(struct work_struct *work)
{
	struct viplb_net *vn = container_of(to_delayed_work(work),
					    struct viplb_net, est_work);
	unsigned long now_j = jiffies;
	struct viplb_config *cfg;
	bool again;

	/* Off, rates keep their last values, as IPVS's run_estimation. */
	while (READ_ONCE(vn->limits.run_estimation) && !est_chunk(vn, now_j))
		cond_resched();

	rcu_read_lock();
	cfg = rcu_dereference(vn->cfg);
	again = cfg && READ_ONCE(cfg->n_services);
	rcu_read_unlock();
	if (again)
		queue_delayed_work(system_power_efficient_wq, &vn->est_work,
				   EST_INTERVAL);
}

/* Starts the estimator if it is idle.  Caller holds the netns mutex. */
void viplb_est_start(struct viplb_net *vn)
{
	queue_delayed_work(system_power_efficient_wq, &vn->est_work,
			   EST_INTERVAL);
}

void viplb_est_init(struct viplb_net *vn)
{
	INIT_DELAYED_WORK(&vn->est_work, est_work);
}

void viplb_est_stop(struct viplb_net *vn)
{
	cancel_delayed_work_sync(&vn->est_work);
}
