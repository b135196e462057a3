// SPDX-License-Identifier: GPL-2.0
/*
 * The XDP program's maps: services in, services out.
 *
 * Ids.  A service has an id (its slot in svcs and svc_stats), the lowest
 * one free when it is created.  A backend has an id (its slot in backends
 * and be_stats): a backend keeps its id while it stays in its service; a
 * new one takes the lowest free id, or else the lowest retired one.  A
 * deleted backend is retired, not freed, so the flows pinned to it keep
 * going there, as the module's flow table keeps them; "backend del ...
 * flush" and service deletion free it instead (a restore: see
 * xdp_svc_replace()).  Whenever an id changes hands its generation is
 * bumped, which unpins every flow pinned to the previous owner.
 *
 * Order of writes, for a program running meanwhile: new backend entries
 * first (nothing refers to them yet), then the new ring, into a range of
 * the slot pool nothing refers to, then the service entry, which names
 * the ring and its M in one word (the program reads the old ring with
 * the old M or the new with the new), and last the retirement of the
 * backends the new ring no longer names.  The old ring's range is not
 * reused by this process: a packet may still be reading it.
 *
 * The slot pool.  Every ring lives in one array (pools[idx], an inner
 * map), allocated first fit from the gaps between the rings the service
 * entries name (read from vips when a process first needs it).  A restore
 * writes its generation into a new pool sized for it, in the other
 * element of pools, and deletes the old pool once vip_gen has swapped;
 * a put that finds no gap does the same, with every service and twice
 * the room (see pool_grow_put()).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <linux/viplb.h>
#include <viplb/maglev.h>

#include "errors.h"
#include "print.h"
#include "util.h"
#include "xdp.h"

#define BACKENDS_SIZE \
	((size_t)VIPLB_XDP_MAX_BACKENDS * sizeof(struct viplb_xdp_backend))

static size_t page_round(size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (n + page - 1) / page * page;
}

static void pool_release(struct xdp_pool *p);

/*
 * The flows map is one LRU shared by every CPU, but each CPU takes free
 * entries from it in batches, up to 128 (LOCAL_FREE_TARGET in the
 * kernel's bpf_lru_list.c), and an insert on a CPU whose batch is empty
 * evicts before it takes the free entries another CPU holds.  With 128
 * more entries per possible CPU, no flow is evicted while N or fewer are
 * pinned, however they spread over the CPUs.  (An entry replaced while
 * still new goes back to its CPU's batch, which may then pass 128: a
 * re-pin soon after a pin, rare.)
 */
#define FLOWS_PER_CPU_BATCH 128

__u32 xdp_flows_map_size(__u32 flows)
{
	int cpus = libbpf_num_possible_cpus();

	return flows + FLOWS_PER_CPU_BATCH * (cpus > 0 ? cpus : 1);
}

__u32 xdp_flows_capacity(__u32 max_entries, __u32 map_flags)
{
	__u32 slack = xdp_flows_map_size(0);

	/* Per-CPU LRUs, as viplb made them before: max_entries in all. */
	if (map_flags & BPF_F_NO_COMMON_LRU || max_entries < slack)
		return max_entries;
	return max_entries - slack;
}

int xdp_maps_init(struct xdp_maps *m)
{
	void *p;

	m->be = NULL;
	m->svc_used = NULL;
	m->nr_svc_used = 0;
	m->svc_ids_aside = 0;
	m->be_free_hint = 0;
	m->be_taken = NULL;
	memset(&m->pool, 0, sizeof(m->pool));
	m->pool.fd = -1;
	m->replacing = false;
	m->pool_grow = false;
	m->nr_cpus = libbpf_num_possible_cpus();
	if (m->nr_cpus <= 0)
		return m->nr_cpus ? m->nr_cpus : -EINVAL;
	p = mmap(NULL, page_round(BACKENDS_SIZE), PROT_READ | PROT_WRITE,
		 MAP_SHARED, m->backends, 0);
	if (p == MAP_FAILED)
		return -errno;
	m->be = p;
	return 0;
}

/* m->vips: the current generation's, from vip_gen. */
static int open_current_vips(struct xdp_maps *m)
{
	__u32 zero = 0, id;

	if (bpf_map_lookup_elem(m->vip_gen, &zero, &id))
		return -errno;
	m->vips = bpf_map_get_fd_by_id(id);
	return m->vips < 0 ? -errno : 0;
}

/* svcs[id]: the service @val of key @key, or none (@key NULL). */
static int svc_ref_set(struct xdp_maps *m, __u32 id,
		       const struct viplb_xdp_vip_key *key,
		       const struct viplb_xdp_service *val)
{
	struct viplb_xdp_svc_ref ref = { 0 };

	if (m->svcs < 0 || id >= VIPLB_XDP_MAX_SERVICES)
		return 0;
	if (key) {
		ref.key = *key;
		ref.svc = *val;
	}
	return bpf_map_update_elem(m->svcs, &id, &ref, BPF_ANY) ? -errno : 0;
}

int xdp_maps_open(struct xdp_maps *m, const char *dir)
{
	static const char *const names[] = XDP_MAP_NAMES;
	int *fds[] = { &m->vip_gen,   &m->pools,    &m->backends,
		       &m->flows,     &m->svc_stats, &m->be_stats,
		       &m->stats,     &m->config,   &m->tx_ports,
		       &m->vlans,     &m->rr_next };
	char path[256];
	size_t i;
	int err;

	for (i = 0; i < ARRAY_SIZE(fds); i++)
		*fds[i] = -1;
	m->vips = -1;
	m->svcs = -1;
	m->be = NULL;
	m->svc_used = NULL;
	m->be_taken = NULL;
	m->pool.fd = -1;
	m->pool.mem = NULL;
	m->pool.used = NULL;
	for (i = 0; i < ARRAY_SIZE(fds); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		*fds[i] = bpf_obj_get(path);
		if (*fds[i] < 0) {
			err = -errno;
			xdp_maps_release(m, true);
			return err;
		}
	}
	snprintf(path, sizeof(path), "%s/%s", dir, XDP_MAP_SVCS);
	m->svcs = bpf_obj_get(path);
	err = open_current_vips(m);
	if (!err)
		err = xdp_maps_init(m);
	if (err) {
		xdp_maps_release(m, true);
		return err;
	}
	/*
	 * Best effort: with the map stale, the program passes what it
	 * cannot place (a VLAN device it does not know) to the stack.
	 */
	xdp_vlans_sync(m);
	return 0;
}

void xdp_maps_release(struct xdp_maps *m, bool close_fds)
{
	int *fds[] = { &m->vip_gen,   &m->pools,    &m->backends,
		       &m->flows,     &m->svc_stats, &m->be_stats,
		       &m->stats,     &m->config,   &m->tx_ports,
		       &m->vlans,     &m->rr_next };
	size_t i;

	if (m->be)
		munmap(m->be, page_round(BACKENDS_SIZE));
	m->be = NULL;
	free(m->svc_used);
	m->svc_used = NULL;
	free(m->be_taken);
	m->be_taken = NULL;
	pool_release(&m->pool);
	if (!close_fds)
		return;
	for (i = 0; i < ARRAY_SIZE(fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	/* Opened from vip_gen, not pinned. */
	if (m->vips >= 0)
		close(m->vips);
	m->vips = -1;
	if (m->svcs >= 0)
		close(m->svcs);
	m->svcs = -1;
}

/* Keys and addresses. */

static void vip_key(struct viplb_xdp_vip_key *k, const struct svc_key *key)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->addr, &key->addr, addr_len(key->af));
	k->port = htons(key->port);
	k->proto = key->proto;
	k->af = key->af == AF_INET ? VIPLB_FLOW_AF_INET : VIPLB_FLOW_AF_INET6;
}

static void svc_key_of(struct svc_key *key, const struct viplb_xdp_vip_key *k)
{
	memset(key, 0, sizeof(*key));
	key->af = k->af == VIPLB_FLOW_AF_INET ? AF_INET : AF_INET6;
	key->proto = k->proto;
	memcpy(&key->addr, k->addr, addr_len(key->af));
	key->port = ntohs(k->port);
}

/* A backend's address as four words, the rest zero (as the module's). */
static void be_addr(__be32 addr[4], uint16_t af, const union inet_addr *a)
{
	memset(addr, 0, 16);
	memcpy(addr, a, addr_len(af));
}

static bool be_is(const struct viplb_xdp_backend *e, const __be32 addr[4],
		  uint16_t port)
{
	return !memcmp(e->addr, addr, 16) && e->port == htons(port);
}

/* Per-CPU counters. */

static int zero_percpu(struct xdp_maps *m, int fd, __u32 id)
{
	struct viplb_xdp_counters *v;
	int err = 0;

	v = calloc(m->nr_cpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_update_elem(fd, &id, v, BPF_ANY))
		err = -errno;
	free(v);
	return err;
}

static int sum_percpu(struct xdp_maps *m, int fd, __u32 id,
		      struct viplb_xdp_counters *sum)
{
	struct viplb_xdp_counters *v;
	int i, err = 0;

	memset(sum, 0, sizeof(*sum));
	v = calloc(m->nr_cpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &id, v)) {
		err = -errno;
	} else {
		for (i = 0; i < m->nr_cpus; i++) {
			sum->packets += v[i].packets;
			sum->bytes += v[i].bytes;
			sum->flows += v[i].flows;
		}
	}
	free(v);
	return err;
}

/* Services of the vips map, as (key, value) pairs. */
struct vip_entry {
	struct viplb_xdp_vip_key key;
	struct viplb_xdp_service val;
};

static int cmp_vip_entry(const void *a, const void *b)
{
	const struct vip_entry *x = a, *y = b;
	struct svc_key kx, ky;

	svc_key_of(&kx, &x->key);
	svc_key_of(&ky, &y->key);
	if (kx.af != ky.af)
		return kx.af < ky.af ? -1 : 1;
	if (kx.proto != ky.proto)
		return kx.proto < ky.proto ? -1 : 1;
	if (memcmp(&kx.addr, &ky.addr, addr_len(kx.af)))
		return memcmp(&kx.addr, &ky.addr, addr_len(kx.af));
	return kx.port < ky.port ? -1 : kx.port > ky.port;
}

/* Every service, with one BPF_MAP_LOOKUP_BATCH call per 1024. */
static int read_vips_batch(struct xdp_maps *m, struct vip_entry **out,
			   size_t *nr)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct viplb_xdp_vip_key *keys;
	struct viplb_xdp_service *vals;
	struct vip_entry *v = NULL, *p;
	size_t n = 0, cap = 0;
	__u32 in_batch, out_batch, count, i;
	bool first = true;
	int err = 0;

	keys = calloc(1024, sizeof(*keys));
	vals = calloc(1024, sizeof(*vals));
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		count = 1024;
		err = bpf_map_lookup_batch(m->vips, first ? NULL : &in_batch,
					   &out_batch, keys, vals, &count,
					   &opts);
		if (err && errno != ENOENT) {
			err = -errno;
			break;
		}
		if (n + count > cap) {
			cap = 2 * (n + count);
			p = realloc(v, cap * sizeof(*v));
			if (!p) {
				err = -ENOMEM;
				break;
			}
			v = p;
		}
		for (i = 0; i < count; i++) {
			v[n].key = keys[i];
			v[n++].val = vals[i];
		}
		if (err) { /* ENOENT: that was the last batch */
			err = 0;
			break;
		}
		in_batch = out_batch;
		first = false;
	}
out:
	free(keys);
	free(vals);
	if (err) {
		free(v);
		return err;
	}
	*out = v;
	*nr = n;
	return 0;
}

/* Every service, sorted by key if @sorted. */
static int read_vips(struct xdp_maps *m, struct vip_entry **out, size_t *nr,
		     bool sorted)
{
	struct viplb_xdp_vip_key cur, next;
	struct vip_entry *v = NULL, *p;
	size_t n = 0, cap = 0;
	bool first = true;

	if (!read_vips_batch(m, &v, &n))
		goto sort;
	while (!bpf_map_get_next_key(m->vips, first ? NULL : &cur, &next)) {
		first = false;
		cur = next;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			p = realloc(v, cap * sizeof(*v));
			if (!p) {
				free(v);
				return -ENOMEM;
			}
			v = p;
		}
		v[n].key = cur;
		/* A service deleted meanwhile is simply skipped. */
		if (!bpf_map_lookup_elem(m->vips, &cur, &v[n].val))
			n++;
	}
sort:
	if (v && sorted)
		qsort(v, n, sizeof(*v), cmp_vip_entry);
	*out = v;
	*nr = n;
	return 0;
}

static void set_svc_used(struct xdp_maps *m, __u32 id, bool used)
{
	if (!m->svc_used || id >= VIPLB_XDP_MAX_SERVICES ||
	    m->svc_used[id] == used)
		return;
	m->svc_used[id] = used;
	if (used)
		m->nr_svc_used++;
	else
		m->nr_svc_used--;
}

/* The service ids in use, m->svc_used: read once, then kept up to date. */
static int load_svc_ids(struct xdp_maps *m)
{
	struct vip_entry *v;
	size_t n, i;
	int err;

	if (m->svc_used)
		return 0;
	err = read_vips(m, &v, &n, false);
	if (err)
		return err;
	m->svc_used = calloc(VIPLB_XDP_MAX_SERVICES, 1);
	if (!m->svc_used) {
		free(v);
		return -ENOMEM;
	}
	m->nr_svc_used = 0;
	for (i = 0; i < n; i++)
		set_svc_used(m, v[i].val.id, true);
	free(v);
	return 0;
}

/*
 * The lowest free service id (marked used once the service is written),
 * if the configuration has fewer than VIPLB_XDP_VIPS_MAX services: the
 * ids of a generation a restore replaces do not count.
 */
static int alloc_svc_id(struct xdp_maps *m, __u32 *id)
{
	__u32 i;
	int err;

	err = load_svc_ids(m);
	if (err)
		return err;
	if (m->nr_svc_used - m->svc_ids_aside >= VIPLB_XDP_VIPS_MAX)
		return -ENOSPC;
	for (i = 0; i < VIPLB_XDP_MAX_SERVICES && m->svc_used[i]; i++)
		;
	if (i == VIPLB_XDP_MAX_SERVICES)
		return -ENOSPC;
	*id = i;
	return 0;
}


/*
 * The lowest free backend id, else the lowest retired one.  No id below
 * m->be_free_hint is free (free_backend() lowers it), so the search for a
 * free id starts there; retired ids are only looked for when none is.
 */
static int alloc_be_id(struct xdp_maps *m, const unsigned char *taken,
		       __u32 *id)
{
	__u32 i;

	for (i = m->be_free_hint; i < VIPLB_XDP_MAX_BACKENDS; i++) {
		if (!taken[i] && m->be[i].state == VIPLB_XDP_BE_FREE) {
			/* Not past i: the caller may yet fail to use it. */
			m->be_free_hint = i;
			*id = i;
			return 0;
		}
	}
	m->be_free_hint = VIPLB_XDP_MAX_BACKENDS;
	for (i = 0; i < VIPLB_XDP_MAX_BACKENDS; i++) {
		if (!taken[i] && m->be[i].state == VIPLB_XDP_BE_RETIRED) {
			*id = i;
			return 0;
		}
	}
	return -ENOSPC;
}

/* Rings. */

struct ring_be {
	__be32 addr[4];
	__be16 port;
	__u32 weight;
	__u32 id;
};

static int cmp_ring_be(const void *a, const void *b)
{
	const struct ring_be *x = a, *y = b;

	return viplb_maglev_backend_order(x->addr, x->port, y->addr, y->port);
}

/*
 * rr and wrr: each backend's share of the ring, in @w (0: absent), and
 * the ring's length L, their sum; 0 if no backend has weight > 0.  rr
 * gives every backend of weight > 0 one slot; wrr its weight, scaled
 * down proportionally if the sum passes VIPLB_TABLE_SIZE_MAX (each keeps
 * one slot at least), then divided by the weights' gcd.
 */
static __u32 rr_shares(const struct ring_be *rb, __u32 n, bool weighted,
		       __u32 *w)
{
	__u64 sum = 0, live = 0;
	__u32 i, g = 0, a, b, t;

	for (i = 0; i < n; i++) {
		w[i] = rb[i].weight && !weighted ? 1 : rb[i].weight;
		sum += w[i];
		live += !!w[i];
	}
	if (sum > VIPLB_TABLE_SIZE_MAX)
		for (i = 0; i < n; i++)
			if (w[i])
				w[i] = 1 + (__u64)w[i] *
					   (VIPLB_TABLE_SIZE_MAX - live) / sum;
	for (i = 0; i < n; i++) {
		for (a = g, b = w[i]; b; t = a % b, a = b, b = t)
			;
		g = a;
	}
	sum = 0;
	for (i = 0; g && i < n; i++) {
		w[i] /= g;
		sum += w[i];
	}
	return sum;
}

/* A backend's next turn in rr_fill(): its @k-th slot of @w. */
struct rr_turn {
	__u32 be;
	__u32 k;
	__u32 w;
};

/*
 * Whether turn @a comes before @b: the k-th of w slots falls at (2k + 1) /
 * 2w of the round, so each backend's slots are evenly spaced; ties go
 * to the backend first in order.
 */
static bool rr_before(const struct rr_turn *a, const struct rr_turn *b)
{
	__u64 x = (2ULL * a->k + 1) * b->w, y = (2ULL * b->k + 1) * a->w;

	return x < y || (x == y && a->be < b->be);
}

static void rr_sift_down(struct rr_turn *h, __u32 n, __u32 i)
{
	struct rr_turn t;
	__u32 c;

	for (; (c = 2 * i + 1) < n; i = c) {
		if (c + 1 < n && rr_before(&h[c + 1], &h[c]))
			c++;
		if (!rr_before(&h[c], &h[i]))
			break;
		t = h[i];
		h[i] = h[c];
		h[c] = t;
	}
}

/*
 * Fills @len slots, @len the sum of the shares @w of @n backends, with
 * their indexes: one round of weighted round robin, the backends' turns
 * merged in time order, each backend's @w[i] turns evenly spaced (by a heap: O(L log n)).  Each
 * backend gets exactly its share, spread evenly: for 1:2:3, C B A C B C,
 * as the module's smooth wrr, which is O(L n) to replay and not always
 * in the same order.
 */
static int rr_fill(__u32 *slots, __u32 len, const __u32 *w, __u32 n)
{
	struct rr_turn *h;
	__u32 i, s, live = 0;

	h = calloc(n ? n : 1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (w[i])
			h[live++] = (struct rr_turn){ .be = i, .w = w[i] };
	for (i = live / 2; i-- > 0;)
		rr_sift_down(h, live, i);
	for (s = 0; s < len && live; s++) {
		slots[s] = h[0].be;
		if (++h[0].k == h[0].w)
			h[0] = h[--live];
		rr_sift_down(h, live, 0);
	}
	free(h);
	return s == len ? 0 : -EINVAL;
}

/* The slot pool. */

/* A pool's elements when a put finds none: 512 KiB. */
#define POOL_MIN_ELEMS 65536

static size_t pool_bytes(__u32 size)
{
	return page_round((size_t)size * sizeof(struct viplb_xdp_slots));
}

static void pool_release(struct xdp_pool *p)
{
	if (p->mem)
		munmap(p->mem, pool_bytes(p->size));
	if (p->fd >= 0)
		close(p->fd);
	free(p->used);
	memset(p, 0, sizeof(*p));
	p->fd = -1;
}

/* A new, empty pool of @size elements, element @idx of pools once put. */
static int pool_create(struct xdp_pool *p, __u32 idx, __u32 size)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts,
		    .map_flags = BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	void *mem;

	memset(p, 0, sizeof(*p));
	p->fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "viplb_pool", sizeof(__u32),
			       sizeof(struct viplb_xdp_slots), size, &opts);
	if (p->fd < 0)
		return -errno;
	mem = mmap(NULL, pool_bytes(size), PROT_READ | PROT_WRITE, MAP_SHARED,
		   p->fd, 0);
	if (mem == MAP_FAILED) {
		int err = -errno;

		close(p->fd);
		p->fd = -1;
		return err;
	}
	p->mem = mem;
	p->idx = idx;
	p->size = size;
	return 0;
}

/* pools[idx]'s pool, mmapped, with no range in use; -ENOENT if none. */
static int pool_open(struct xdp_maps *m, struct xdp_pool *p, __u32 idx)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info), id;
	void *mem;
	int err;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	if (bpf_map_lookup_elem(m->pools, &idx, &id))
		return -errno;
	p->fd = bpf_map_get_fd_by_id(id);
	if (p->fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(p->fd, &info, &len))
		goto fail;
	mem = mmap(NULL, pool_bytes(info.max_entries), PROT_READ | PROT_WRITE,
		   MAP_SHARED, p->fd, 0);
	if (mem == MAP_FAILED)
		goto fail;
	p->mem = mem;
	p->idx = idx;
	p->size = info.max_entries;
	return 0;
fail:
	err = -errno;
	close(p->fd);
	p->fd = -1;
	return err;
}

/* Marks [off, off + len) in use; @p->used stays sorted. */
static int pool_take(struct xdp_pool *p, size_t at, __u32 off, __u32 len)
{
	if (grow_array(p->used, p->nr_used, p->cap_used, 64))
		return -ENOMEM;
	memmove(&p->used[at + 1], &p->used[at],
		(p->nr_used - at) * sizeof(*p->used));
	p->used[at] = (struct pool_range){ .off = off, .len = len };
	p->nr_used++;
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const struct pool_range *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/*
 * m->pool: the pool the current generation's rings are in, with the
 * ranges they take.  With no ring named, a pool left in either element
 * of pools will do, else one is made in element 0.
 */
static int pool_load(struct xdp_maps *m)
{
	struct xdp_pool *p = &m->pool;
	struct vip_entry *v;
	size_t n, k;
	__u32 idx = 0;
	int err;

	if (p->fd >= 0)
		return 0;
	err = read_vips(m, &v, &n, false);
	if (err)
		return err;
	for (k = 0; k < n; k++)
		if (VIPLB_XDP_RING_M(v[k].val.ring)) {
			idx = VIPLB_XDP_RING_POOL(v[k].val.ring);
			break;
		}
	err = pool_open(m, p, idx);
	if (err == -ENOENT && k == n) {
		/* No ring: a pool that is left over is anyone's. */
		err = pool_open(m, p, !idx);
		if (err == -ENOENT) {
			err = pool_create(p, idx, POOL_MIN_ELEMS);
			if (!err && bpf_map_update_elem(m->pools, &idx, &p->fd,
							BPF_ANY))
				err = -errno;
		}
	}
	for (k = 0; !err && k < n; k++) {
		__u64 r = v[k].val.ring;

		if (!VIPLB_XDP_RING_M(r) || VIPLB_XDP_RING_POOL(r) != p->idx)
			continue;
		err = pool_take(p, p->nr_used, VIPLB_XDP_RING_OFF(r),
				VIPLB_XDP_RING_ELEMS(VIPLB_XDP_RING_M(r),
						     v[k].val.ring_backends));
	}
	free(v);
	if (err) {
		pool_release(p);
		return err;
	}
	qsort(p->used, p->nr_used, sizeof(*p->used), cmp_range);
	return 0;
}

/* @len elements of the pool, first fit: their offset in *@off. */
static int pool_alloc(struct xdp_maps *m, __u32 len, __u32 *off)
{
	struct xdp_pool *p = &m->pool;
	__u32 at = 0;
	size_t k;
	int err;

	err = pool_load(m);
	if (err)
		return err;
	for (k = 0; k <= p->nr_used; k++) {
		__u32 end = k < p->nr_used ? p->used[k].off : p->size;

		if (end >= at && end - at >= len) {
			*off = at;
			return pool_take(p, k, at, len);
		}
		if (k < p->nr_used && p->used[k].off + p->used[k].len > at)
			at = p->used[k].off + p->used[k].len;
	}
	return -ENOSPC;
}

/*
 * The length M of the service's ring, with @rb sorted, and for rr and
 * wrr each backend's share in @w (rr_shares()); 0: no ring.
 */
static __u32 ring_length(const struct lb_service *svc, struct ring_be *rb,
			 __u32 n, __u32 *w)
{
	if (!xdp_serves(svc) || !n)
		return 0;
	if (svc->sched == VIPLB_SCHED_RR || svc->sched == VIPLB_SCHED_WRR)
		return rr_shares(rb, n, svc->sched == VIPLB_SCHED_WRR, w);
	return service_table_m(svc);
}

/* Pool elements the services of @list take, the gaps none. */
static int pool_need(const struct lb_service_list *list, size_t *need)
{
	struct ring_be *rb = NULL;
	__u32 *w = NULL, n, i, len;
	size_t k, cap = 0;

	*need = 0;
	for (k = 0; k < list->nr; k++) {
		const struct lb_service *s = &list->svcs[k];

		n = s->nr_backends;
		if (n > cap) {
			cap = n;
			free(rb);
			free(w);
			rb = calloc(cap, sizeof(*rb));
			w = calloc(cap, sizeof(*w));
			if (!rb || !w) {
				free(rb);
				free(w);
				return -ENOMEM;
			}
		}
		for (i = 0; i < n; i++)
			rb[i].weight = s->backends[i].weight;
		len = ring_length(s, rb, n, w);
		if (len)
			*need += VIPLB_XDP_RING_ELEMS(len, n);
	}
	free(rb);
	free(w);
	return 0;
}

/* Fills the @m slots of a Maglev table, as indexes into @rb. */
static int maglev_fill(__u32 *slots, __u32 m, const struct ring_be *rb,
		       __u32 n)
{
	struct viplb_maglev_backend *mb;
	__u32 i;
	int err = 0;

	mb = calloc(n ? n : 1, sizeof(*mb));
	if (!mb)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		viplb_maglev_backend_init(&mb[i], rb[i].addr, rb[i].port,
					  rb[i].weight, m);
	/* All drained (or none): every slot stays VIPLB_MAGLEV_NONE. */
	if (viplb_maglev_populate(slots, m, mb, n) == VIPLB_MAGLEV_INVALID)
		err = -EINVAL;
	free(mb);
	return err;
}

/*
 * Builds the ring of @n backends, @rb sorted, of length @m (ring_length(),
 * with @w) and writes it into the pool at element @off, whose range
 * nothing names yet: the Maglev table of size @m, or for rr and wrr the
 * round-robin sequence, as indexes into @rb, then @rb's ids.
 */
static int write_ring(struct xdp_maps *maps, __u32 off, __u32 sched,
		      __u32 m, const struct ring_be *rb, __u32 n,
		      const __u32 *w)
{
	bool rr = sched == VIPLB_SCHED_RR || sched == VIPLB_SCHED_WRR;
	struct viplb_xdp_slots *el = maps->pool.mem + off;
	bool wide = VIPLB_XDP_SLOTS_WIDE(n);
	__u32 *slots, i, se = VIPLB_XDP_SLOT_ELEMS(m, wide);
	int err;

	if (!rr && !viplb_maglev_is_prime(m))
		return -EINVAL;
	slots = malloc((size_t)m * sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	err = rr ? rr_fill(slots, m, w, n) : maglev_fill(slots, m, rb, n);
	if (err)
		goto out;
	for (i = 0; wide && i < 4 * se; i++)
		el[i / 4].slot[i % 4] = i < m && slots[i] < n ?
					(__u16)slots[i] : VIPLB_XDP_SLOT_NONE;
	for (i = 0; !wide && i < 8 * se; i++)
		el[i / 8].slot8[i % 8] = i < m && slots[i] < n ?
					 (__u8)slots[i] : VIPLB_XDP_SLOT8_NONE;
	for (i = 0; i < 2 * ((n + 1) / 2); i++)
		el[se + i / 2].id[i % 2] = i < n ? rb[i].id : VIPLB_MAGLEV_NONE;
out:
	free(slots);
	return err;
}

/* Frees backend id @i: its pinned flows are unpinned by the new gen. */
static void free_backend(struct xdp_maps *m, __u32 i)
{
	m->be[i].state = VIPLB_XDP_BE_FREE;
	m->be[i].gen++;
	if (i < m->be_free_hint)
		m->be_free_hint = i;
}

static int pool_grow_put(struct xdp_maps *m, const struct lb_service *svc);

int xdp_svc_put(struct xdp_maps *m, const struct lb_service *svc,
		bool flush_removed)
{
	__u8 af = svc->key.af == AF_INET ? VIPLB_FLOW_AF_INET :
					   VIPLB_FLOW_AF_INET6;
	struct viplb_xdp_service val = { 0 };
	struct viplb_xdp_vip_key key;
	struct ring_be *rb = NULL;
	unsigned char *taken;
	__be32 addr[4];
	__u32 i, j, id, n = svc->nr_backends, nlive = 0, *live = NULL;
	__u32 *w = NULL, len, off = 0;
	size_t k;
	bool is_new, grow = false;
	int err;

	if (svc->key.af != AF_INET && svc->key.af != AF_INET6)
		return -EAFNOSUPPORT;
	if (!viplb_maglev_is_prime(service_table_m(svc)))
		return -EINVAL;
	/* Ring slots are __u16 indexes into the service's backends. */
	if (n >= VIPLB_XDP_SLOT_NONE)
		return -ENOSPC;
	vip_key(&key, &svc->key);
	is_new = bpf_map_lookup_elem(m->vips, &key, &val) != 0;
	if (is_new) {
		err = alloc_svc_id(m, &val.id);
		if (err)
			return err;
	}
	val.mode = svc->mode;
	val.sched = svc->sched;
	val.table_size = svc->table_size;
	val.flags = svc->flags;

	/* Kept all zero between puts: a restore makes thousands. */
	if (!m->be_taken)
		m->be_taken = calloc(VIPLB_XDP_MAX_BACKENDS, 1);
	taken = m->be_taken;
	live = calloc(is_new ? 1 : VIPLB_XDP_MAX_BACKENDS, sizeof(*live));
	rb = calloc(n ? n : 1, sizeof(*rb));
	w = calloc(n ? n : 1, sizeof(*w));
	if (!taken || !live || !rb || !w) {
		err = -ENOMEM;
		goto out;
	}
	/*
	 * Backends that stay keep their ids; one deleted and added back
	 * takes its retired id again, with the flows still pinned to it.
	 */
	if (!is_new) {
		for (i = 0; i < VIPLB_XDP_MAX_BACKENDS; i++)
			if (m->be[i].state == VIPLB_XDP_BE_LIVE &&
			    m->be[i].svc_id == val.id)
				live[nlive++] = i;
		for (i = 0; i < VIPLB_XDP_MAX_BACKENDS; i++)
			if (m->be[i].state == VIPLB_XDP_BE_RETIRED &&
			    m->be[i].svc_id == val.id)
				live[nlive++] = i;
	}
	for (k = 0; k < n; k++) {
		be_addr(addr, svc->key.af, &svc->backends[k].key.addr);
		memcpy(rb[k].addr, addr, sizeof(addr));
		rb[k].port = htons(svc->backends[k].key.port);
		rb[k].weight = svc->backends[k].weight;
		rb[k].id = VIPLB_XDP_MAX_BACKENDS;
		for (j = 0; j < nlive; j++) {
			id = live[j];
			if (!taken[id] &&
			    be_is(&m->be[id], addr, svc->backends[k].key.port)) {
				rb[k].id = id;
				taken[id] = 1;
				break;
			}
		}
	}
	/* The ring's room first: a put that does not fit changes nothing. */
	qsort(rb, n, sizeof(*rb), cmp_ring_be);
	len = ring_length(svc, rb, n, w);
	if (len) {
		err = pool_alloc(m, VIPLB_XDP_RING_ELEMS(len, n), &off);
		if (err == -ENOSPC && !m->replacing) {
			grow = true;
			goto out;
		}
		if (err)
			goto out;
	}
	/* New backends: fresh ids, written before any ring names them. */
	for (k = 0; k < n; k++) {
		struct viplb_xdp_backend *e;

		if (rb[k].id != VIPLB_XDP_MAX_BACKENDS) {
			m->be[rb[k].id].weight = rb[k].weight;
			m->be[rb[k].id].state = VIPLB_XDP_BE_LIVE;
			continue;
		}
		err = alloc_be_id(m, taken, &id);
		if (err)
			goto out;
		taken[id] = 1;
		rb[k].id = id;
		e = &m->be[id];
		err = zero_percpu(m, m->be_stats, id);
		if (err)
			goto out;
		memcpy(e->addr, rb[k].addr, sizeof(e->addr));
		e->port = rb[k].port;
		e->af = af;
		e->weight = rb[k].weight;
		e->svc_id = val.id;
		e->gen++;
		e->state = VIPLB_XDP_BE_LIVE;
	}
	if (is_new) {
		err = zero_percpu(m, m->svc_stats, val.id);
		if (err)
			goto out;
	}

	if (len) {
		err = write_ring(m, off, svc->sched, len, rb, n, w);
		if (err)
			goto out;
	}
	val.ring = len ? VIPLB_XDP_RING(m->pool.idx, off, len,
					VIPLB_XDP_SLOTS_WIDE(n)) : 0;
	val.ring_backends = len ? n : 0;
	if (bpf_map_update_elem(m->vips, &key, &val, BPF_ANY)) {
		err = -errno;
		goto out;
	}
	err = svc_ref_set(m, val.id, &key, &val);
	if (err)
		goto out;
	if (is_new)
		set_svc_used(m, val.id, true);
	/*
	 * The backends the service no longer has: of those it had (live[],
	 * none for a new service), the live ones not taken again.  Not a
	 * walk of every backend id: a restore puts thousands of services.
	 */
	for (j = 0; j < nlive; j++) {
		struct viplb_xdp_backend *e = &m->be[live[j]];

		if (e->state != VIPLB_XDP_BE_LIVE || e->svc_id != val.id ||
		    taken[live[j]])
			continue;
		if (flush_removed)
			free_backend(m, live[j]);
		else
			e->state = VIPLB_XDP_BE_RETIRED;
	}
	err = 0;
out:
	/* Every id marked taken is one of rb's. */
	for (k = 0; taken && rb && k < n; k++)
		if (rb[k].id < VIPLB_XDP_MAX_BACKENDS)
			taken[rb[k].id] = 0;
	free(live);
	free(rb);
	free(w);
	return grow ? pool_grow_put(m, svc) : err;
}

/*
 * A put that found no room in the pool: every service, this one as it
 * is put, into a new pool twice as large as they need (a restore of
 * them, with m->pool_grow).  Their ids change; their backends keep
 * theirs, but for those this put removes: retired, not freed.
 */
static int pool_grow_put(struct xdp_maps *m, const struct lb_service *svc)
{
	struct lb_service_list cur, all = { 0 };
	struct viplb_xdp_vip_key a, b;
	size_t k;
	int err;

	err = xdp_svc_read(m, NULL, &cur, false);
	if (err)
		return err;
	all.svcs = calloc(cur.nr + 1, sizeof(*all.svcs));
	if (!all.svcs) {
		free_services(&cur);
		return -ENOMEM;
	}
	vip_key(&a, &svc->key);
	for (k = 0; k < cur.nr; k++) {
		vip_key(&b, &cur.svcs[k].key);
		if (memcmp(&a, &b, sizeof(a)))
			all.svcs[all.nr++] = cur.svcs[k];
	}
	all.svcs[all.nr++] = *svc;
	all.cap = all.nr;
	m->pool_grow = true;
	err = xdp_svc_replace(m, &all);
	m->pool_grow = false;
	/* The services are @cur's and the caller's: only the array goes. */
	free(all.svcs);
	free_services(&cur);
	return err;
}

int xdp_svc_del(struct xdp_maps *m, const struct svc_key *skey)
{
	struct viplb_xdp_service val;
	struct viplb_xdp_vip_key key;
	__u32 i;

	vip_key(&key, skey);
	if (bpf_map_lookup_elem(m->vips, &key, &val))
		return -errno;
	if (svc_ref_set(m, val.id, NULL, NULL) ||
	    bpf_map_delete_elem(m->vips, &key))
		return -errno;
	set_svc_used(m, val.id, false);
	for (i = 0; i < VIPLB_XDP_MAX_BACKENDS; i++) {
		struct viplb_xdp_backend *e = &m->be[i];

		if (e->state != VIPLB_XDP_BE_FREE && e->svc_id == val.id)
			free_backend(m, i);
	}
	return 0;
}

int xdp_svc_flush(struct xdp_maps *m)
{
	unsigned char *gone;
	struct vip_entry *v;
	size_t n, k;
	__u32 i;
	int err;

	err = read_vips(m, &v, &n, false);
	if (err)
		return err;
	gone = calloc(VIPLB_XDP_MAX_SERVICES, 1);
	if (!gone) {
		free(v);
		return -ENOMEM;
	}
	/* As xdp_svc_del() for each, with one pass over the backends. */
	for (k = 0; !err && k < n; k++) {
		err = svc_ref_set(m, v[k].val.id, NULL, NULL);
		if (err)
			break;
		if (bpf_map_delete_elem(m->vips, &v[k].key) && errno != ENOENT) {
			err = -errno;
			break;
		}
		set_svc_used(m, v[k].val.id, false);
		if (v[k].val.id < VIPLB_XDP_MAX_SERVICES)
			gone[v[k].val.id] = 1;
	}
	free(v);
	for (i = 0; i < VIPLB_XDP_MAX_BACKENDS; i++)
		if (m->be[i].state != VIPLB_XDP_BE_FREE &&
		    m->be[i].svc_id < VIPLB_XDP_MAX_SERVICES &&
		    gone[m->be[i].svc_id])
			free_backend(m, i);
	free(gone);
	return err;
}

/*
 * Restores: a whole new configuration, switched at once.
 *
 * The program finds vips through vip_gen, a one-element array of maps.
 * xdp_svc_replace() writes the new generation aside: a new vips map, and
 * through xdp_svc_put() on it, its services under service ids the current
 * generation does not use, with their rings in a new slot pool, in the
 * element of pools the current one is not in.  A service in both
 * generations hands its new id the backends it keeps (same address and
 * port), which thus keep their ids, their pinned flows and counters; the
 * other backends take ids no live backend has.  Nothing the program can
 * reach names the new generation until vip_gen's element is replaced, in
 * one update.  Then the old generation's service ids are freed and its
 * pool deleted; the backends it had and the new one has not are retired
 * under the new id of their service if the service stays, so that the
 * flows pinned to them go on there (as after "backend del" without
 * flush), and freed if the service is gone (as by "service del").
 */

/* A backend (of the current generation, or of @list) by service. */
struct gen_be {
	__u32 svc;	/* the service's new id */
	__be32 addr[4];
	__be16 port;
	__u8 retired;	/* sorts live ones first */
	__u32 weight;
	__u32 id;	/* current generation: its id */
};

static int cmp_gen_be_key(const struct gen_be *x, const struct gen_be *y)
{
	if (x->svc != y->svc)
		return x->svc < y->svc ? -1 : 1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return memcmp(x->addr, y->addr, sizeof(x->addr));
}

static int cmp_gen_be(const void *a, const void *b)
{
	const struct gen_be *x = a, *y = b;
	int d = cmp_gen_be_key(x, y);

	return d ? d : x->retired - y->retired;
}

/* A backend handed over to the new generation, as it was. */
struct kept_be {
	__u32 id;
	__u32 svc_id;
	__u32 weight;
	__u8 state;
};

/* The state of one xdp_svc_replace(). */
struct gen_switch {
	struct vip_entry *old;		/* the current generation's */
	size_t nr_old;
	unsigned char *is_old;		/* by service id */
	__u32 *new_of;			/* old id -> new id, or MAX */
	__u32 *new_id;			/* of list->svcs[k], or MAX */
	struct kept_be *kept;
	size_t nr_kept;
};

/*
 * The backends @list keeps of the current generation's services: under
 * the service's new id, so that xdp_svc_put() gives them their ids again.
 * A live one whose weight goes from 0 to not 0, or back, takes a new id
 * instead: the program reads whether a weight is 0 (drained), and the
 * current generation must serve on unchanged.  It reads neither svc_id
 * nor weights otherwise, and no current ring names a retired backend, so
 * one handed over is made live at once (no other service may take it).
 */
static int hand_over_backends(struct xdp_maps *m, struct gen_switch *g,
			      const struct lb_service_list *list)
{
	struct gen_be *cur = NULL, *want = NULL;
	size_t ncur = 0, nwant = 0, i, j, k;
	int err = 0, d;
	__u32 b;

	for (k = 0; k < list->nr; k++)
		if (g->new_id[k] < VIPLB_XDP_MAX_SERVICES)
			nwant += list->svcs[k].nr_backends;
	cur = calloc(VIPLB_XDP_MAX_BACKENDS, sizeof(*cur));
	want = calloc(nwant ? nwant : 1, sizeof(*want));
	g->kept = calloc(VIPLB_XDP_MAX_BACKENDS, sizeof(*g->kept));
	if (!cur || !want || !g->kept) {
		err = -ENOMEM;
		goto out;
	}
	for (b = 0; b < VIPLB_XDP_MAX_BACKENDS; b++) {
		const struct viplb_xdp_backend *e = &m->be[b];
		struct gen_be *c = &cur[ncur];

		if (e->state == VIPLB_XDP_BE_FREE ||
		    e->svc_id >= VIPLB_XDP_MAX_SERVICES ||
		    g->new_of[e->svc_id] >= VIPLB_XDP_MAX_SERVICES)
			continue;
		c->svc = g->new_of[e->svc_id];
		memcpy(c->addr, e->addr, sizeof(c->addr));
		c->port = e->port;
		c->retired = e->state != VIPLB_XDP_BE_LIVE;
		c->weight = e->weight;
		c->id = b;
		ncur++;
	}
	nwant = 0;
	for (k = 0; k < list->nr; k++) {
		const struct lb_service *s = &list->svcs[k];

		if (g->new_id[k] >= VIPLB_XDP_MAX_SERVICES)
			continue;
		for (i = 0; i < s->nr_backends; i++) {
			struct gen_be *w = &want[nwant++];

			w->svc = g->new_id[k];
			be_addr(w->addr, s->key.af, &s->backends[i].key.addr);
			w->port = htons(s->backends[i].key.port);
			w->weight = s->backends[i].weight;
		}
	}
	qsort(cur, ncur, sizeof(*cur), cmp_gen_be);
	qsort(want, nwant, sizeof(*want), cmp_gen_be);
	for (i = 0, j = 0; i < ncur && j < nwant;) {
		struct viplb_xdp_backend *e = &m->be[cur[i].id];
		struct kept_be *kb;

		d = cmp_gen_be_key(&cur[i], &want[j]);
		if (d < 0) {
			i++;
			continue;
		}
		if (d > 0) {
			j++;
			continue;
		}
		if (!cur[i].retired && !cur[i].weight != !want[j].weight) {
			i++;
			j++;
			continue;
		}
		kb = &g->kept[g->nr_kept++];
		kb->id = cur[i].id;
		kb->svc_id = e->svc_id;
		kb->weight = e->weight;
		kb->state = e->state;
		e->svc_id = cur[i].svc;
		e->state = VIPLB_XDP_BE_LIVE;
		i++;
		j++;
	}
out:
	free(cur);
	free(want);
	return err;
}

/* Gives the backends handed over back to the current generation. */
static void take_back_backends(struct xdp_maps *m, struct gen_switch *g)
{
	size_t i;

	for (i = 0; i < g->nr_kept; i++) {
		struct viplb_xdp_backend *e = &m->be[g->kept[i].id];

		e->svc_id = g->kept[i].svc_id;
		e->weight = g->kept[i].weight;
		e->state = g->kept[i].state;
	}
	g->nr_kept = 0;
}

/*
 * New ids, and entries in the new vips holding them, for the services of
 * @list the current generation has too; then their backends.
 */
static int adopt_services(struct xdp_maps *m, struct gen_switch *g,
			  int new_vips, const struct lb_service_list *list)
{
	struct viplb_xdp_service val;
	struct viplb_xdp_vip_key key;
	size_t k;
	__u32 id;
	int err;

	for (k = 0; k < list->nr; k++) {
		g->new_id[k] = VIPLB_XDP_MAX_SERVICES;
		vip_key(&key, &list->svcs[k].key);
		if (bpf_map_lookup_elem(m->vips, &key, &val) ||
		    val.id >= VIPLB_XDP_MAX_SERVICES)
			continue;
		err = alloc_svc_id(m, &id);
		if (err)
			return err;
		set_svc_used(m, id, true);
		g->new_of[val.id] = id;
		g->new_id[k] = id;
		val.id = id;
		if (bpf_map_update_elem(new_vips, &key, &val, BPF_NOEXIST))
			return -errno;
		err = svc_ref_set(m, id, &key, &val);
		if (err)
			return err;
	}
	return hand_over_backends(m, g, list);
}

static int copy_percpu(struct xdp_maps *m, int fd, __u32 from, __u32 to)
{
	struct viplb_xdp_counters *v;
	int err = 0;

	v = calloc(m->nr_cpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &from, v) ||
	    bpf_map_update_elem(fd, &to, v, BPF_ANY))
		err = -errno;
	free(v);
	return err;
}

/*
 * A new, empty vips map like @fd, with its BTF too: 6.1 lets an inner map
 * replace another only if their BTF-derived layouts (timer_off) match.
 */
static int vips_like(int fd)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	int nfd, btf_fd = -1, err;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	opts.map_flags = info.map_flags;
	if (info.btf_id) {
		btf_fd = bpf_btf_get_fd_by_id(info.btf_id);
		if (btf_fd < 0)
			return -errno;
		opts.btf_fd = btf_fd;
		opts.btf_key_type_id = info.btf_key_type_id;
		opts.btf_value_type_id = info.btf_value_type_id;
	}
	nfd = bpf_map_create(info.type, "vips", info.key_size,
			     info.value_size, info.max_entries, &opts);
	err = nfd < 0 ? -errno : nfd;
	if (btf_fd >= 0)
		close(btf_fd);
	return err;
}

/* Whether the backend ids hold both generations (handed-over ones once). */
static bool backends_fit(struct xdp_maps *m, const struct gen_switch *g,
			 const struct lb_service_list *list)
{
	size_t need = 0, room = 0, i;

	for (i = 0; i < list->nr; i++)
		need += list->svcs[i].nr_backends;
	for (i = 0; i < VIPLB_XDP_MAX_BACKENDS; i++)
		room += m->be[i].state != VIPLB_XDP_BE_LIVE;
	return need - g->nr_kept <= room;
}

/*
 * Undoes what a failed replace wrote of the new generation: every service
 * id but the old generation's (a service that failed half-way may have a
 * ring and backends, not yet its entry), and the backends they have.
 */
static void drop_new_gen(struct xdp_maps *m, const unsigned char *is_old)
{
	__u32 i;

	for (i = 0; i < VIPLB_XDP_MAX_SERVICES; i++) {
		if (is_old[i])
			continue;
		if (m->svc_used[i])
			svc_ref_set(m, i, NULL, NULL);
		set_svc_used(m, i, false);
	}
	for (i = 0; i < VIPLB_XDP_MAX_BACKENDS; i++)
		if (m->be[i].state != VIPLB_XDP_BE_FREE &&
		    (m->be[i].svc_id >= VIPLB_XDP_MAX_SERVICES ||
		     !is_old[m->be[i].svc_id]))
			free_backend(m, i);
}

/* The old generation's ids go, once the new one is in. */
static int retire_old_gen(struct xdp_maps *m, const struct gen_switch *g)
{
	size_t k;
	__u32 i;
	int err = 0;

	for (k = 0; k < g->nr_old; k++) {
		int e = svc_ref_set(m, g->old[k].val.id, NULL, NULL);

		if (e && !err)
			err = e;
		set_svc_used(m, g->old[k].val.id, false);
	}
	for (i = 0; i < VIPLB_XDP_MAX_BACKENDS; i++) {
		struct viplb_xdp_backend *e = &m->be[i];

		if (e->state == VIPLB_XDP_BE_FREE ||
		    e->svc_id >= VIPLB_XDP_MAX_SERVICES ||
		    !g->is_old[e->svc_id])
			continue;
		if (g->new_of[e->svc_id] >= VIPLB_XDP_MAX_SERVICES) {
			free_backend(m, i);
			continue;
		}
		e->state = VIPLB_XDP_BE_RETIRED;
		e->svc_id = g->new_of[e->svc_id];
	}
	return err;
}

/*
 * The new generation's pool, in the element of pools the current one is
 * not in, sized for @list (twice with m->pool_grow), with some room for
 * the puts after it; the current one is kept in @old.
 */
static int pool_switch(struct xdp_maps *m, const struct lb_service_list *list,
		       struct xdp_pool *old)
{
	size_t need, size;
	int err;

	err = pool_need(list, &need);
	if (err)
		return err;
	size = (m->pool_grow ? 2 * need : need + need / 16) + POOL_MIN_ELEMS;
	if (size > VIPLB_XDP_POOL_MAX)
		return -ENOSPC;
	*old = m->pool;
	err = pool_create(&m->pool, !old->idx, size);
	if (!err && bpf_map_update_elem(m->pools, &m->pool.idx, &m->pool.fd,
					BPF_ANY)) {
		err = -errno;
		pool_release(&m->pool);
	}
	if (err)
		m->pool = *old;
	return err;
}

/* Drops pool @p from pools, and from this process. */
static int pool_drop(struct xdp_maps *m, struct xdp_pool *p)
{
	int err = 0;

	if (bpf_map_delete_elem(m->pools, &p->idx) && errno != ENOENT)
		err = -errno;
	pool_release(p);
	return err;
}

int xdp_svc_replace(struct xdp_maps *m, const struct lb_service_list *list)
{
	struct gen_switch g = { 0 };
	struct xdp_pool old_pool;
	int old_vips = m->vips, new_vips = -1, err, e;
	bool swapped = false;
	__u32 zero = 0, i;
	size_t k;

	err = load_svc_ids(m);
	if (!err)
		err = pool_load(m);
	if (!err)
		err = read_vips(m, &g.old, &g.nr_old, false);
	if (err)
		return err;
	if (g.nr_old + list->nr > VIPLB_XDP_MAX_SERVICES) {
		free(g.old);
		return -ENOSPC;
	}
	err = pool_switch(m, list, &old_pool);
	if (err) {
		free(g.old);
		return err;
	}
	g.is_old = calloc(VIPLB_XDP_MAX_SERVICES, 1);
	g.new_of = malloc(VIPLB_XDP_MAX_SERVICES * sizeof(*g.new_of));
	g.new_id = malloc((list->nr ? list->nr : 1) * sizeof(*g.new_id));
	if (!g.is_old || !g.new_of || !g.new_id) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < VIPLB_XDP_MAX_SERVICES; i++)
		g.new_of[i] = VIPLB_XDP_MAX_SERVICES;
	for (k = 0; k < g.nr_old; k++)
		if (g.old[k].val.id < VIPLB_XDP_MAX_SERVICES)
			g.is_old[g.old[k].val.id] = 1;
	new_vips = vips_like(old_vips);
	if (new_vips < 0) {
		err = new_vips;
		goto out;
	}

	/* The new generation, aside: the old one's ids do not count. */
	m->svc_ids_aside = g.nr_old;
	err = adopt_services(m, &g, new_vips, list);
	if (!err && !backends_fit(m, &g, list))
		err = -ENOSPC;
	m->vips = new_vips;
	m->replacing = true;
	for (k = 0; !err && k < list->nr; k++)
		err = xdp_svc_put(m, &list->svcs[k], false);
	m->replacing = false;
	/* Counters go on: what the old ids count from here on is lost. */
	for (i = 0; !err && i < VIPLB_XDP_MAX_SERVICES; i++)
		if (g.new_of[i] < VIPLB_XDP_MAX_SERVICES)
			err = copy_percpu(m, m->svc_stats, i, g.new_of[i]);
	if (!err && bpf_map_update_elem(m->vip_gen, &zero, &new_vips, BPF_ANY))
		err = -errno;
	if (err) {
		m->vips = old_vips;
		take_back_backends(m, &g);
		drop_new_gen(m, g.is_old);
		close(new_vips);
		goto out;
	}
	swapped = true;
	close(old_vips);
	err = retire_old_gen(m, &g);
out:
	if (swapped) {
		/* Deleting it from pools waits until no program reads it. */
		e = pool_drop(m, &old_pool);
		if (!err)
			err = e;
	} else {
		pool_drop(m, &m->pool);
		m->pool = old_pool;
	}
	m->svc_ids_aside = 0;
	free(g.old);
	free(g.is_old);
	free(g.new_of);
	free(g.new_id);
	free(g.kept);
	return err;
}

static int cmp_lb_backend(const void *a, const void *b)
{
	const struct lb_backend *x = a, *y = b;

	return viplb_maglev_backend_order(&x->key.addr, htons(x->key.port),
					  &y->key.addr, htons(y->key.port));
}

static void stats_of(struct lb_stats *st, const struct viplb_xdp_counters *c)
{
	memset(st, 0, sizeof(*st));
	st->conns = c->flows;
	st->pkts_in = c->packets;
	st->bytes_in = c->bytes;
}

/* Appends backend id @b to @s (and its counters, if @with_stats). */
static int add_backend(struct xdp_maps *m, struct lb_service *s, __u32 b,
		       bool with_stats)
{
	const struct viplb_xdp_backend *e = &m->be[b];
	struct viplb_xdp_counters c;
	struct lb_backend *be;

	if (grow_array(s->backends, s->nr_backends, s->cap_backends, 8))
		return -ENOMEM;
	be = &s->backends[s->nr_backends++];
	memset(be, 0, sizeof(*be));
	memcpy(&be->key.addr, e->addr, sizeof(e->addr));
	be->key.port = ntohs(e->port);
	be->weight = e->weight;
	if (with_stats && !sum_percpu(m, m->be_stats, b, &c))
		stats_of(&be->stats, &c);
	return 0;
}

/*
 * One service is looked up by its key; all of them are read at once and
 * their backends found in one pass over the backends map (not one pass
 * per service: 10,000 services would take 10,000 x 65,536 steps).
 */
int xdp_svc_read(struct xdp_maps *m, const struct svc_key *skey,
		 struct lb_service_list *list, bool with_stats)
{
	struct viplb_xdp_counters c;
	struct vip_entry *v;
	int *slot = NULL;
	size_t n, i;
	__u32 b;
	int err;

	memset(list, 0, sizeof(*list));
	if (skey) {
		v = calloc(1, sizeof(*v));
		if (!v)
			return -ENOMEM;
		vip_key(&v->key, skey);
		if (bpf_map_lookup_elem(m->vips, &v->key, &v->val)) {
			err = -errno;
			free(v);
			return err;
		}
		n = 1;
	} else {
		err = read_vips(m, &v, &n, true);
		if (err)
			return err;
	}
	list->svcs = calloc(n ? n : 1, sizeof(*list->svcs));
	slot = malloc(VIPLB_XDP_MAX_SERVICES * sizeof(*slot));
	if (!list->svcs || !slot) {
		err = -ENOMEM;
		goto fail;
	}
	list->cap = n;
	/* slot[service id]: its index in the list, or -1. */
	for (i = 0; i < VIPLB_XDP_MAX_SERVICES; i++)
		slot[i] = -1;
	for (i = 0; i < n; i++) {
		struct lb_service *s = &list->svcs[list->nr];

		svc_key_of(&s->key, &v[i].key);
		s->sched = v[i].val.sched;
		s->mode = v[i].val.mode;
		s->table_size = v[i].val.table_size;
		s->flags = v[i].val.flags;
		if (with_stats && !sum_percpu(m, m->svc_stats, v[i].val.id, &c))
			stats_of(&s->stats, &c);
		if (v[i].val.id < VIPLB_XDP_MAX_SERVICES)
			slot[v[i].val.id] = list->nr;
		list->nr++;
	}
	for (b = 0; b < VIPLB_XDP_MAX_BACKENDS; b++) {
		const struct viplb_xdp_backend *e = &m->be[b];

		if (e->state != VIPLB_XDP_BE_LIVE ||
		    e->svc_id >= VIPLB_XDP_MAX_SERVICES || slot[e->svc_id] < 0)
			continue;
		err = add_backend(m, &list->svcs[slot[e->svc_id]], b,
				  with_stats);
		if (err)
			goto fail;
	}
	for (i = 0; i < list->nr; i++)
		if (list->svcs[i].nr_backends)
			qsort(list->svcs[i].backends, list->svcs[i].nr_backends,
			      sizeof(*list->svcs[i].backends), cmp_lb_backend);
	free(slot);
	free(v);
	return 0;

fail:
	free(slot);
	free(v);
	free_services(list);
	return err;
}

int xdp_stats_zero(struct xdp_maps *m, const struct svc_key *skey)
{
	struct viplb_xdp_service val;
	struct viplb_xdp_vip_key key;
	__u32 i;
	int err;

	if (!skey) {
		for (i = 0; i < VIPLB_XDP_MAX_SERVICES; i++) {
			err = zero_percpu(m, m->svc_stats, i);
			if (err)
				return err;
		}
		for (i = 0; i < VIPLB_XDP_MAX_BACKENDS; i++) {
			if (m->be[i].state == VIPLB_XDP_BE_FREE)
				continue;
			err = zero_percpu(m, m->be_stats, i);
			if (err)
				return err;
		}
		return 0;
	}
	vip_key(&key, skey);
	if (bpf_map_lookup_elem(m->vips, &key, &val))
		return -errno;
	err = zero_percpu(m, m->svc_stats, val.id);
	for (i = 0; !err && i < VIPLB_XDP_MAX_BACKENDS; i++)
		if (m->be[i].state == VIPLB_XDP_BE_LIVE &&
		    m->be[i].svc_id == val.id)
			err = zero_percpu(m, m->be_stats, i);
	return err;
}

int xdp_stats_read(struct xdp_maps *m, struct viplb_xdp_stats *st)
{
	struct viplb_xdp_stats *v;
	__u32 zero = 0;
	int i, j, err = 0;

	memset(st, 0, sizeof(*st));
	v = calloc(m->nr_cpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(m->stats, &zero, v))
		err = -errno;
	for (i = 0; !err && i < m->nr_cpus; i++)
		for (j = 0; j < __VIPLB_XDP_ST_MAX; j++)
			st->c[j] += v[i].c[j];
	free(v);
	return err;
}

const char *xdp_stat_name(unsigned int i)
{
	static const char *const names[__VIPLB_XDP_ST_MAX] = {
		[VIPLB_XDP_ST_ABORTED] = "aborted",
		[VIPLB_XDP_ST_DROP] = "drop",
		[VIPLB_XDP_ST_PASS] = "pass",
		[VIPLB_XDP_ST_TX] = "tx",
		[VIPLB_XDP_ST_REDIRECT] = "redirect",
		[VIPLB_XDP_ST_LRU_HIT] = "lru_hit",
		[VIPLB_XDP_ST_LRU_MISS] = "lru_miss",
		[VIPLB_XDP_ST_NOT_IP] = "pass_not_ip",
		[VIPLB_XDP_ST_NOT_L4] = "pass_not_l4",
		[VIPLB_XDP_ST_FRAGMENT] = "pass_fragment",
		[VIPLB_XDP_ST_IP_OPTIONS] = "pass_ip_options",
		[VIPLB_XDP_ST_NOT_VIP] = "pass_not_vip",
		[VIPLB_XDP_ST_NAT_MODE] = "pass_nat_mode",
		[VIPLB_XDP_ST_SCHED] = "pass_sched",
		[VIPLB_XDP_ST_NO_BACKEND] = "pass_no_backend",
		[VIPLB_XDP_ST_TTL] = "pass_ttl",
		[VIPLB_XDP_ST_FIB_NO_NEIGH] = "fib_no_neigh",
		[VIPLB_XDP_ST_REDIRECT_NEIGH] = "redirect_neigh",
		[VIPLB_XDP_ST_FIB_FWD_DISABLED] = "fib_fwd_disabled",
		[VIPLB_XDP_ST_FIB_UNREACHABLE] = "fib_unreachable",
		[VIPLB_XDP_ST_FRAG_NEEDED] = "fib_frag_needed",
		[VIPLB_XDP_ST_DR_GATEWAY] = "pass_dr_gateway",
		[VIPLB_XDP_ST_NO_TUN_SRC] = "pass_no_tun_src",
		[VIPLB_XDP_ST_NO_TX_PORT] = "pass_no_tx_port",
		[VIPLB_XDP_ST_VLAN] = "pass_vlan",
		[VIPLB_XDP_ST_ERROR] = "error",
		[VIPLB_XDP_ST_FIB_LOOKUP] = "fib_lookup",
	};

	return i < __VIPLB_XDP_ST_MAX ? names[i] : NULL;
}
