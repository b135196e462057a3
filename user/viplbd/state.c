// SPDX-License-Identifier: GPL-2.0
/*
 * Results into states, states into weights.
 *
 *   unknown  no result yet; the weight is left as the datapath has it.
 *            The first result decides: up or down (an unreachable
 *            backend starts down).
 *   up       the configured weight; fall failures in a row: down.
 *   down     weight 0 (a drain: established flows go on); rise successes
 *            in a row: up.
 *   held     down for flapping: more than flap transitions within window.
 *            Held for hold, doubled for each new hold that starts within
 *            4 windows of the end of the last (up to 64 times, 1 h at
 *            most); probes go on, and when the hold is over the backend
 *            is down, and comes up after rise successes.
 *
 * Each transition is one log line with its reason.  Weights go through
 * the target layer, as viplb's backend set does: queued by state_apply(),
 * and written by state_flush() once per turn of the loop, all in one
 * batch on nf_tables (where each write reads and rewrites the table).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nl.h"
#include "target.h"
#include "util.h"
#include "viplbd.h"
#include "xdp.h"

#define HOLD_MAX_LEVEL 6
#define HOLD_MAX_MS 3600000ULL

static const char *const state_names[] = {
	[STATE_UNKNOWN] = "unknown",
	[STATE_UP] = "up",
	[STATE_DOWN] = "down",
	[STATE_HELD] = "held",
};

const char *state_name(enum member_state s)
{
	return state_names[s];
}

uint32_t state_weight(const struct member *m)
{
	return m->state == STATE_UP ? m->weight : 0;
}

static void make_cmd(struct config_cmd *cmd, const struct member_key *k,
		     uint32_t weight)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->op = OP_BE_SET;
	cmd->has = HAS_KEY | HAS_WEIGHT;
	cmd->svc = k->svc;
	cmd->be = k->be;
	cmd->weight = weight;
}

/* The datapath is not held between changes: viplb commands may write. */
static void let_go(void)
{
	xdp_unlock();
	nl_put();
}

int weight_write(const struct member_key *k, uint32_t weight)
{
	struct config_cmd cmd;
	int ret;

	make_cmd(&cmd, k, weight);
	ret = target_apply(&cmd);
	let_go();
	return ret;
}

bool state_write_failed;

/* Members whose weight waits for state_flush(); NULL where one was freed. */
static struct member **queue;
static size_t queue_nr, queue_cap;

void state_apply(struct member *m)
{
	if (m->state == STATE_UNKNOWN || m->missing ||
	    (m->state == STATE_UP && !m->weight_known))
		return;
	if (m->applied_known && m->applied == state_weight(m))
		return;
	if (m->queued)
		return;
	if (grow_array(queue, queue_nr, queue_cap, 64)) {
		logmsg("%s: out of memory for its weight", member_name(m));
		return;
	}
	m->queued = true;
	queue[queue_nr++] = m;
}

void state_forget(struct member *m)
{
	size_t i;

	for (i = 0; m->queued && i < queue_nr; i++)
		if (queue[i] == m)
			queue[i] = NULL;
	m->queued = false;
}

void state_flush(void)
{
	struct config_cmd *cmds;
	struct member **ms;
	size_t i, n = 0;
	bool *ok;

	if (!queue_nr)
		return;
	cmds = calloc(queue_nr, sizeof(*cmds));
	ms = calloc(queue_nr, sizeof(*ms));
	ok = calloc(queue_nr, sizeof(*ok));
	if (!cmds || !ms || !ok) {
		/* The next sync queues them again. */
		logmsg("writing %zu weights: out of memory", queue_nr);
		state_write_failed = true;
		goto out;
	}
	for (i = 0; i < queue_nr; i++) {
		if (!queue[i])
			continue;
		ms[n] = queue[i];
		make_cmd(&cmds[n++], &queue[i]->key, state_weight(queue[i]));
	}
	/* Errors are reported by the target layer; the next sync retries. */
	target_apply_many(cmds, n, ok);
	let_go();
	for (i = 0; i < n; i++) {
		ms[i]->applied_known = ok[i];
		ms[i]->applied = cmds[i].weight;
		if (!ok[i])
			state_write_failed = true;
	}
out:
	for (i = 0; i < queue_nr; i++)
		if (queue[i])
			queue[i]->queued = false;
	queue_nr = 0;
	free(cmds);
	free(ms);
	free(ok);
}

static void go(struct member *m, enum member_state to, const char *why)
{
	enum member_state from = m->state;

	m->state = to;
	m->since_ms = now_ms();
	logmsg("%s: %s -> %s, weight %u: %s", member_name(m), state_name(from),
	       state_name(to), state_weight(m), why);
	state_apply(m);
	announce_changed();
}

/* Transitions within the window, this one counted. */
static unsigned int count_flips(struct member *m, uint64_t now)
{
	unsigned int i, n = 0;

	m->flips[m->next_flip] = now;
	m->next_flip = (m->next_flip + 1) % HEALTH_MAX_FLAP;
	if (m->nr_flips < HEALTH_MAX_FLAP)
		m->nr_flips++;
	for (i = 0; i < m->nr_flips; i++)
		n += now - m->flips[i] <= m->hc.window_ms;
	return n;
}

/* Between up and down: held instead if it flaps. */
static void flip(struct member *m, enum member_state to, const char *why)
{
	uint64_t now = now_ms(), hold;
	unsigned int n = count_flips(m, now);
	char buf[sizeof(m->reason) + 160];

	if (n <= m->hc.flap) {
		go(m, to, why);
		return;
	}
	if (m->hold_ended_ms &&
	    now - m->hold_ended_ms <= 4ULL * m->hc.window_ms) {
		if (m->hold_level < HOLD_MAX_LEVEL)
			m->hold_level++;
	} else {
		m->hold_level = 0;
	}
	hold = (uint64_t)m->hc.hold_ms << m->hold_level;
	if (hold > HOLD_MAX_MS)
		hold = HOLD_MAX_MS;
	m->hold_until_ms = now + hold;
	m->nr_flips = 0;
	m->next_flip = 0;
	snprintf(buf, sizeof(buf),
		 "flapping, %u transitions within %ums: held down for %llums; last: %s",
		 n, m->hc.window_ms, (unsigned long long)hold, why);
	go(m, STATE_HELD, buf);
}

void state_result(struct member *m, bool ok, const char *reason)
{
	char why[sizeof(m->reason) + 64];
	uint64_t now = now_ms();
	size_t n;

	m->have_result = true;
	m->last_ok = ok;
	m->nr_checks++;
	m->nr_failed += !ok;
	/* Each check's: a copy, not snprintf(). */
	n = strnlen(reason, sizeof(m->reason) - 1);
	memcpy(m->reason, reason, n);
	m->reason[n] = '\0';
	if (ok) {
		m->ok_run++;
		m->fail_run = 0;
	} else {
		m->fail_run++;
		m->ok_run = 0;
	}
	switch (m->state) {
	case STATE_UNKNOWN:
		snprintf(why, sizeof(why), "first check: %s", reason);
		go(m, ok ? STATE_UP : STATE_DOWN, why);
		return;
	case STATE_HELD:
		if (now < m->hold_until_ms)
			return;
		m->hold_ended_ms = now;
		go(m, STATE_DOWN, "hold over");
		/* It may come up at once. */
		__attribute__((fallthrough));
	case STATE_DOWN:
		if (m->ok_run >= m->hc.rise) {
			snprintf(why, sizeof(why), "%u success%s: %s",
				 m->ok_run, m->ok_run == 1 ? "" : "es", reason);
			flip(m, STATE_UP, why);
		}
		return;
	case STATE_UP:
		if (m->fail_run >= m->hc.fall) {
			snprintf(why, sizeof(why), "%u failure%s: %s",
				 m->fail_run, m->fail_run == 1 ? "" : "s",
				 reason);
			flip(m, STATE_DOWN, why);
		}
		return;
	}
}
