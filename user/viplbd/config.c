// SPDX-License-Identifier: GPL-2.0
/*
 * The configuration: the restore file's health lines into members, one
 * per checked backend.
 *
 * Which backends a health line checks: with "backend ADDR[:PORT]", that
 * one; else every backend the file gives the service (its service and
 * backend lines, as viplb restore would apply them), and if it gives none,
 * every backend the datapath has for it, found at each sync.  A backend
 * line beats a service line for its backend.  The weight a backend has
 * when up is the file's, or else the datapath's when first seen (0 there
 * is taken as 1: viplbd may have drained it itself before a restart).
 *
 * A reload builds the new members aside; a bad file changes nothing.
 * Members whose service, backend and health line are unchanged carry on
 * (probe in flight, state, counters); a backend whose health line changed
 * keeps its state and starts the new check; new ones start unknown, and
 * those gone are stopped, their weight given back if the file still has
 * the backend.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdfile.h"
#include "errors.h"
#include "nft.h"
#include "nl.h"
#include "target.h"
#include "util.h"
#include "viplbd.h"
#include "xdp.h"

struct daemon_config cfg;

static void make_key(struct member_key *k, const struct svc_key *svc,
		     const struct be_key *be)
{
	unsigned int len = addr_len(svc->af);

	memset(k, 0, sizeof(*k));
	k->svc.af = svc->af;
	k->svc.proto = svc->proto;
	memcpy(&k->svc.addr, &svc->addr, len);
	k->svc.port = svc->port;
	if (be) {
		memcpy(&k->be.addr, &be->addr, len);
		k->be.port = be->port;
	}
}

static int cmp_member(const void *a, const void *b)
{
	const struct member *x = *(struct member *const *)a;
	const struct member *y = *(struct member *const *)b;

	return memcmp(&x->key, &y->key, sizeof(x->key));
}

static struct member *find_in(const struct daemon_config *c, size_t nr,
			      const struct member_key *key)
{
	struct member probe = { .key = *key }, *p = &probe, **found;

	found = bsearch(&p, c->members, nr, sizeof(*c->members), cmp_member);
	return found ? *found : NULL;
}

struct member *member_find(const struct member_key *key)
{
	return find_in(&cfg, cfg.nr, key);
}

/* Where the probe goes: connect's address or the backend's, and a port. */
static void set_dst(struct member *m)
{
	const struct health_check *hc = &m->hc;
	const union inet_addr *a = hc->has_connect ? &hc->connect.addr :
						     &m->key.be.addr;
	uint16_t port = hc->port;

	if (!port && hc->has_connect)
		port = hc->connect.port;
	if (!port)
		port = m->key.be.port ? m->key.be.port : m->key.svc.port;
	memset(&m->dst, 0, sizeof(m->dst));
	if (m->key.svc.af == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&m->dst;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, &a->v6, 16);
		s6->sin6_port = htons(port);
		m->dst_len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&m->dst;

		s4->sin_family = AF_INET;
		s4->sin_addr = a->v4;
		s4->sin_port = htons(port);
		m->dst_len = sizeof(*s4);
	}
}

static struct member *add_member(struct daemon_config *c,
				 const struct health_check *hc,
				 const struct svc_key *svc,
				 const struct be_key *be,
				 const struct lb_backend *file_be)
{
	struct member *m;

	if (grow_array(c->members, c->nr, c->cap, 64))
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->kind = EV_PROBE;
	make_key(&m->key, svc, be);
	m->hc = *hc;
	if (file_be) {
		m->weight = file_be->weight;
		m->weight_known = true;
	}
	m->fd = -1;
	m->spare_fd = -1;
	m->pidfd = -1;
	m->since_ms = now_ms();
	set_dst(m);
	c->members[c->nr++] = m;
	return m;
}

static void free_member(struct member *m)
{
	probe_cancel(m);
	timer_clear(m);
	state_forget(m);
	free(m);
}

static void free_config(struct daemon_config *c)
{
	size_t i;

	for (i = 0; i < c->nr; i++)
		free_member(c->members[i]);
	free(c->members);
	free(c->dynamic);
	memset(c, 0, sizeof(*c));
}

void config_free(void)
{
	free_config(&cfg);
}

static const struct lb_backend *find_backend(const struct lb_service *s,
					     const struct be_key *be)
{
	size_t i;

	for (i = 0; s && i < s->nr_backends; i++)
		if (s->backends[i].key.port == be->port &&
		    !memcmp(&s->backends[i].key.addr, &be->addr,
			    addr_len(s->key.af)))
			return &s->backends[i];
	return NULL;
}

/*
 * The members of a parsed file into @c: backend lines first, then service
 * lines for the backends left.  -1 out of memory.
 */
static int build(struct daemon_config *c, const struct restore_cmds *r,
		 struct lb_service_list *model)
{
	const struct health_check *hc;
	struct lb_service *s;
	struct member_key key;
	size_t i, j, nr_first;

	for (i = 0; i < r->nr_checks; i++) {
		hc = &r->checks[i];
		if (!hc->has_backend)
			continue;
		s = nft_model_find(model, &hc->svc);
		if (!add_member(c, hc, &hc->svc, &hc->backend,
				find_backend(s, &hc->backend)))
			return -1;
	}
	qsort(c->members, c->nr, sizeof(*c->members), cmp_member);
	nr_first = c->nr;
	for (i = 0; i < r->nr_checks; i++) {
		hc = &r->checks[i];
		if (hc->has_backend)
			continue;
		s = nft_model_find(model, &hc->svc);
		if (!s || !s->nr_backends) {
			if (grow_array(c->dynamic, c->nr_dynamic,
				       c->cap_dynamic, 4))
				return -1;
			c->dynamic[c->nr_dynamic++] = *hc;
			continue;
		}
		for (j = 0; j < s->nr_backends; j++) {
			make_key(&key, &hc->svc, &s->backends[j].key);
			if (find_in(c, nr_first, &key))
				continue;
			if (!add_member(c, hc, &hc->svc, &s->backends[j].key,
					&s->backends[j]))
				return -1;
		}
	}
	qsort(c->members, c->nr, sizeof(*c->members), cmp_member);
	return 0;
}

/* The file's services, as viplb restore would leave them. */
static void file_model(const struct restore_cmds *r,
		       struct lb_service_list *model)
{
	const char *why;
	size_t i;

	memset(model, 0, sizeof(*model));
	/* Refusals are viplb restore's to report; viplbd checks health. */
	for (i = 0; i < r->nr; i++)
		nft_model_apply(model, &r->cmds[i], true, &why);
}

/*
 * The datapath's generation (target_generation()) when the last sync read
 * it, if that sync found every member and queued no weight: while the
 * generation stays and no write failed, a sync would find the same.
 */
static uint32_t synced_gen;
static bool synced;

/* A member no longer checked: its weight back, if the file keeps it. */
static void retire(struct member *m, struct lb_service_list *model)
{
	const struct lb_backend *b;

	b = find_backend(nft_model_find(model, &m->key.svc), &m->key.be);
	logmsg("%s: no longer checked%s", member_name(m),
	       b && m->state != STATE_UP && m->applied_known &&
			       m->applied != b->weight ?
		       ", its weight given back" :
		       "");
	if (b && m->state != STATE_UP && m->applied_known &&
	    m->applied != b->weight)
		weight_write(&m->key, b->weight);
	free_member(m);
}

/* The first probe somewhere in the first interval: not all at once. */
static void schedule_first(struct member *m)
{
	timer_set(m, now_ms() + (unsigned int)random() % m->hc.interval_ms);
}

int config_load(const char *file, bool dry_run)
{
	struct daemon_config next = { 0 };
	struct restore_cmds r = { 0 };
	struct lb_service_list model;
	struct member *m, *old;
	size_t i, kept = 0;
	int ret;
	FILE *f;

	f = cmdfile_open(file);
	if (!f)
		return -1;
	ret = restore_parse(f, file, &r);
	cmdfile_close(f);
	if (ret) {
		restore_free(&r);
		return -1;
	}
	file_model(&r, &model);
	if (build(&next, &r, &model)) {
		errmsg("loading %s: out of memory", file);
		ret = -1;
		goto out;
	}
	if (dry_run)
		goto out;

	for (i = 0; i < cfg.nr; i++)
		cfg.members[i]->seen = false;
	for (i = 0; i < next.nr; i++) {
		m = next.members[i];
		old = member_find(&m->key);
		if (!old) {
			schedule_first(m);
			continue;
		}
		/*
		 * The same backend: the old member goes on, with the new
		 * weight.  Its state stays; a changed check starts anew.
		 */
		old->seen = true;
		if (!health_same(&old->hc, &m->hc)) {
			probe_cancel(old);
			old->hc = m->hc;
			set_dst(old);
			old->ok_run = 0;
			old->fail_run = 0;
			schedule_first(old);
			logmsg("%s: check changed (line %u), state %s kept",
			       member_name(old), m->hc.line,
			       state_name(old->state));
		} else {
			old->hc = m->hc;
			kept++;
		}
		if (m->weight_known) {
			old->weight = m->weight;
			old->weight_known = true;
		}
		free_member(m);
		next.members[i] = old;
		state_apply(old);
	}
	for (i = 0; i < cfg.nr; i++)
		if (!cfg.members[i]->seen)
			retire(cfg.members[i], &model);
	free(cfg.members);
	free(cfg.dynamic);
	cfg = next;
	memset(&next, 0, sizeof(next));
	/* The new members' weights: the next sync reads the datapath. */
	synced = false;
	announce_changed();
	logmsg("%s: %zu backends checked (%zu with their checks unchanged), %zu health lines for the datapath's backends",
	       file, cfg.nr, kept, cfg.nr_dynamic);
out:
	free_config(&next);
	free_services(&model);
	restore_free(&r);
	return ret;
}

/* Backends of the datapath that dynamic health lines check. */
static void add_dynamic(struct lb_service_list *list)
{
	const struct health_check *hc;
	struct member_key key;
	struct lb_service *s;
	size_t i, j, nr = cfg.nr;
	struct member *m;

	for (i = 0; i < cfg.nr_dynamic; i++) {
		hc = &cfg.dynamic[i];
		s = nft_model_find(list, &hc->svc);
		for (j = 0; s && j < s->nr_backends; j++) {
			make_key(&key, &hc->svc, &s->backends[j].key);
			if (find_in(&cfg, nr, &key))
				continue;
			m = add_member(&cfg, hc, &hc->svc,
				       &s->backends[j].key, NULL);
			if (!m) {
				logmsg("sync: out of memory");
				break;
			}
			schedule_first(m);
		}
	}
	if (cfg.nr != nr)
		qsort(cfg.members, cfg.nr, sizeof(*cfg.members), cmp_member);
}

/* A backend the datapath has, keyed as members are. */
struct dp_backend {
	struct member_key key;
	uint32_t weight;
};

static int cmp_dp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct member_key));
}

static void sync_member(struct member *m, const struct dp_backend *dp,
			size_t nr)
{
	const struct dp_backend *b;

	b = bsearch(&m->key, dp, nr, sizeof(*dp), cmp_dp);
	if (!b) {
		if (!m->missing)
			logmsg("%s: not in the datapath: its weight waits for it",
			       member_name(m));
		m->missing = true;
		m->applied_known = false;
		return;
	}
	if (m->missing)
		logmsg("%s: in the datapath again", member_name(m));
	m->missing = false;
	if (!m->weight_known) {
		m->weight = b->weight ? b->weight : 1;
		m->weight_known = true;
		if (!b->weight)
			logmsg("%s: weight 0 in the datapath, taken as 1 when up",
			       member_name(m));
	}
	m->applied = b->weight;
	m->applied_known = true;
	if (m->state != STATE_UNKNOWN && state_weight(m) != b->weight)
		logmsg("%s: re-applying weight %u (the datapath has %u)",
		       member_name(m), state_weight(m), b->weight);
	state_apply(m);
}

/*
 * With XDP attached, a module that goes (rmmod) leaves the maps' nat
 * services to nf_tables, which gets them at the next command: viplbd
 * gives them at its first sync without the module, and again each time
 * the module has been back in between.
 */
static void follow_module_gone(void)
{
	static bool followed;

	if (target_get() != TARGET_NFT_XDP) {
		followed = false;
		return;
	}
	if (followed)
		return;
	followed = !target_follow("sync: the module is gone");
	xdp_unlock();
	if (followed)
		logmsg("sync: no module, XDP attached: nf_tables serves the nat services of the XDP maps");
}

void config_sync(void)
{
	struct lb_service_list list;
	struct dp_backend *dp = NULL;
	size_t i, j, nr = 0, cap = 0;
	const struct lb_service *s;
	bool settled = true, have_gen;
	uint32_t gen;
	int ret;

	follow_module_gone();
	have_gen = !target_generation(&gen);
	if (have_gen && synced && gen == synced_gen && !state_write_failed) {
		nl_put();
		return;
	}
	synced = false;
	state_write_failed = false;
	ret = target_fetch(NULL, false, "sync", &list);
	xdp_unlock();
	nl_put();
	if (ret)
		return;
	add_dynamic(&list);
	for (i = 0; i < list.nr; i++) {
		s = &list.svcs[i];
		for (j = 0; j < s->nr_backends; j++) {
			if (grow_array(dp, nr, cap, 256)) {
				logmsg("sync: out of memory");
				goto out;
			}
			make_key(&dp[nr].key, &s->key, &s->backends[j].key);
			dp[nr++].weight = s->backends[j].weight;
		}
	}
	qsort(dp, nr, sizeof(*dp), cmp_dp);
	for (i = 0; i < cfg.nr; i++) {
		sync_member(cfg.members[i], dp, nr);
		if (cfg.members[i]->missing || cfg.members[i]->queued)
			settled = false;
	}
	/* (a change since @gen was read: the next sync reads again) */
	if (settled && have_gen) {
		synced = true;
		synced_gen = gen;
	}
out:
	free(dp);
	free_services(&list);
}
