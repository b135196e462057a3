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
 * the target layer, as viplb's backend set does.
 */
#include <stdio.h>
#include <string.h>

#include "nl.h"
#include "target.h"
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

int weight_write(const struct member_key *k, uint32_t weight)
{
	struct config_cmd cmd;
	int ret;

	memset(&cmd, 0, sizeof(cmd));
	cmd.op = OP_BE_SET;
	cmd.has = HAS_KEY | HAS_WEIGHT;
	cmd.svc = k->svc;
	cmd.be = k->be;
	cmd.weight = weight;
	ret = target_apply(&cmd);
	/* Not held between changes: viplb commands may write meanwhile. */
	xdp_unlock();
	nl_put();
	return ret;
}

void state_apply(struct member *m)
{
	uint32_t want = state_weight(m);

	if (m->state == STATE_UNKNOWN || m->missing ||
	    (m->state == STATE_UP && !m->weight_known))
		return;
	if (m->applied_known && m->applied == want)
		return;
	/* Errors are reported by the target layer; the next sync retries. */
	m->applied_known = !weight_write(&m->key, want);
	m->applied = want;
}

static void go(struct member *m, enum member_state to, const char *why)
{
	enum member_state from = m->state;

	m->state = to;
	m->since_ms = now_ms();
	logmsg("%s: %s -> %s, weight %u: %s", member_name(m), state_name(from),
	       state_name(to), state_weight(m), why);
	state_apply(m);
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

	m->have_result = true;
	m->last_ok = ok;
	snprintf(m->reason, sizeof(m->reason), "%s", reason);
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
