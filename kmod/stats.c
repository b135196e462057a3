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

void viplb_stats_reject(struct viplb_pcpu_stats __percpu *stats)
{
	struct viplb_pcpu_stats *s = stats_update_begin(stats);

	u64_stats_inc(&s->rejected);
	stats_update_end(s);
}

void viplb_stats_untracked(struct viplb_pcpu_stats __percpu *stats)
{
	struct viplb_pcpu_stats *s = stats_update_begin(stats);

	u64_stats_inc(&s->untracked);
	stats_update_end(s);
}

/* Sums the per-CPU counters, without the baseline. */
void viplb_stats_read(struct viplb_pcpu_stats __percpu *stats,
		      const atomic_t *active, struct viplb_stats_sum *sum)
{
	int cpu;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu) {
		const struct viplb_pcpu_stats *s = per_cpu_ptr(stats, cpu);
		struct viplb_stats_sum c;
		unsigned int start;

		do {
			start = u64_stats_fetch_begin(&s->syncp);
			c.conns = u64_stats_read(&s->conns);
			c.pkts_in = u64_stats_read(&s->pkts_in);
			c.pkts_out = u64_stats_read(&s->pkts_out);
			c.bytes_in = u64_stats_read(&s->bytes_in);
			c.bytes_out = u64_stats_read(&s->bytes_out);
			c.rejected = u64_stats_read(&s->rejected);
			c.untracked = u64_stats_read(&s->untracked);
		} while (u64_stats_fetch_retry(&s->syncp, start));
		sum->conns += c.conns;
		sum->pkts_in += c.pkts_in;
		sum->pkts_out += c.pkts_out;
		sum->bytes_in += c.bytes_in;
		sum->bytes_out += c.bytes_out;
		sum->rejected += c.rejected;
		sum->untracked += c.untracked;
	}
	sum->active = atomic_read(active);
}

/* What users see: counters since the last zeroing, and the rates. */
void viplb_stats_view(const struct viplb_counters *cnt,
		      struct viplb_stats_sum *sum, u64 *rates)
{
	const struct viplb_stats_est *est = &cnt->est;
	int i;

	viplb_stats_read(cnt->stats, &cnt->active, sum);
	sum->conns -= est->base.conns;
	sum->pkts_in -= est->base.pkts_in;
	sum->pkts_out -= est->base.pkts_out;
	sum->bytes_in -= est->base.bytes_in;
	sum->bytes_out -= est->base.bytes_out;
	sum->rejected -= est->base.rejected;
	sum->untracked -= est->base.untracked;
	for (i = 0; i < VIPLB_RATE_NUM; i++)
		rates[i] = est->avg[i] >> EST_SHIFT;
}

static void est_zero(struct viplb_counters *cnt)
{
	struct viplb_stats_est *est = &cnt->est;

	viplb_stats_read(cnt->stats, &cnt->active, &est->base);
	est->last = est->base;
	est->last_time = jiffies;
	memset(est->avg, 0, sizeof(est->avg));
}

/* A new object's rates start now. */
void viplb_est_init_counters(struct viplb_counters *cnt)
{
	cnt->est.last_time = jiffies;
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
	struct viplb_stats_sum now;
	u64 delta[VIPLB_RATE_NUM];
	int i;

	if (elapsed < EST_INTERVAL / 2)
		return 0;
	viplb_stats_read(cnt->stats, &cnt->active, &now);
	delta[VIPLB_RATE_CPS] = now.conns - est->last.conns;
	delta[VIPLB_RATE_PPS_IN] = now.pkts_in - est->last.pkts_in;
	delta[VIPLB_RATE_PPS_OUT] = now.pkts_out - est->last.pkts_out;
	delta[VIPLB_RATE_BPS_IN] = now.bytes_in - est->last.bytes_in;
	delta[VIPLB_RATE_BPS_OUT] = now.bytes_out - est->last.bytes_out;
	est->last = now;
	est->last_time = now_j;
	for (i = 0; i < VIPLB_RATE_NUM; i++) {
		/* per second; avg += (x - avg) / 4 */
		s64 x = div64_u64((delta[i] << EST_SHIFT) * HZ, elapsed);
		s64 avg = est->avg[i];

		est->avg[i] = avg + ((x - avg) >> 2);
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

	while (!est_chunk(vn, now_j))
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
