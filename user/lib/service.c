// SPDX-License-Identifier: GPL-2.0
/*
 * Services in the module, over generic netlink: the request of a parsed
 * command, dumps and lookups.  See service.h.
 *
 * Requests are built from a parsed struct config_cmd, so the same code
 * serves the command line, batch files and restore.  Dumped services are
 * collected in memory first: consecutive messages with the same service
 * key are one service whose backends did not fit in one message, and an
 * interrupted dump (NLM_F_DUMP_INTR) is simply restarted.  service lookup
 * is one request whose reply names the backend a flow goes to.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <libmnl/libmnl.h>

#include <linux/viplb.h>
#include <viplb/maglev.h>

#include "errors.h"
#include "nl.h"
#include "parse.h"
#include "service.h"
#include "util.h"

#define DUMP_TRIES 5

uint8_t config_cmd_genl(const struct config_cmd *cmd)
{
	switch (cmd->op) {
	case OP_SVC_ADD:
		return VIPLB_CMD_SERVICE_NEW;
	case OP_SVC_SET:
		return VIPLB_CMD_SERVICE_SET;
	case OP_SVC_DEL:
		return VIPLB_CMD_SERVICE_DEL;
	case OP_SVC_SHOW:
		return VIPLB_CMD_SERVICE_GET;
	case OP_SVC_LOOKUP:
		return VIPLB_CMD_SERVICE_LOOKUP;
	case OP_BE_ADD:
		return VIPLB_CMD_BACKEND_NEW;
	case OP_BE_SET:
		return VIPLB_CMD_BACKEND_SET;
	case OP_BE_DEL:
		return VIPLB_CMD_BACKEND_DEL;
	case OP_FLUSH:
		return VIPLB_CMD_FLUSH;
	case OP_STATS_ZERO:
		return VIPLB_CMD_STATS_ZERO;
	case OP_NONE:
		break;
	}
	return VIPLB_CMD_UNSPEC;
}

static void put_svc_key(struct nlmsghdr *nlh, const struct svc_key *key)
{
	mnl_attr_put_u16(nlh, VIPLB_SVC_A_AF, key->af);
	mnl_attr_put_u8(nlh, VIPLB_SVC_A_PROTO, key->proto);
	mnl_attr_put(nlh, VIPLB_SVC_A_ADDR, addr_len(key->af), &key->addr);
	mnl_attr_put_u16(nlh, VIPLB_SVC_A_PORT, htons(key->port));
}

void config_cmd_put(struct nlmsghdr *nlh, const struct config_cmd *cmd)
{
	struct nlattr *nest;

	if (!(cmd->has & HAS_KEY))
		return;
	nest = mnl_attr_nest_start(nlh, VIPLB_A_SERVICE);
	put_svc_key(nlh, &cmd->svc);
	if (cmd->op == OP_SVC_ADD || cmd->op == OP_SVC_SET) {
		if (cmd->has & HAS_SCHED)
			mnl_attr_put_u32(nlh, VIPLB_SVC_A_SCHED, cmd->sched);
		if (cmd->has & HAS_MODE)
			mnl_attr_put_u32(nlh, VIPLB_SVC_A_MODE, cmd->mode);
		if (cmd->has & HAS_TABLE_SIZE && !cmd->table_size)
			mnl_attr_put(nlh, VIPLB_SVC_A_TABLE_AUTO, 0, NULL);
		else if (cmd->has & HAS_TABLE_SIZE)
			mnl_attr_put_u32(nlh, VIPLB_SVC_A_TABLE_SIZE,
					 cmd->table_size);
		if (cmd->has & HAS_FLAGS)
			mnl_attr_put_u32(nlh, VIPLB_SVC_A_FLAGS, cmd->flags);
	}
	mnl_attr_nest_end(nlh, nest);

	if (cmd->op == OP_SVC_LOOKUP) {
		nest = mnl_attr_nest_start(nlh, VIPLB_A_LOOKUP);
		mnl_attr_put(nlh, VIPLB_LOOKUP_A_SRC_ADDR,
			     addr_len(cmd->svc.af), &cmd->src.addr);
		mnl_attr_put_u16(nlh, VIPLB_LOOKUP_A_SRC_PORT,
				 htons(cmd->src.port));
		if (cmd->has & HAS_DPORT)
			mnl_attr_put_u16(nlh, VIPLB_LOOKUP_A_DST_PORT,
					 htons(cmd->dport));
		mnl_attr_nest_end(nlh, nest);
		return;
	}
	if (cmd->op != OP_BE_ADD && cmd->op != OP_BE_SET &&
	    cmd->op != OP_BE_DEL)
		return;
	nest = mnl_attr_nest_start(nlh, VIPLB_A_BACKEND);
	mnl_attr_put(nlh, VIPLB_BE_A_ADDR, addr_len(cmd->svc.af),
		     &cmd->be.addr);
	mnl_attr_put_u16(nlh, VIPLB_BE_A_PORT, htons(cmd->be.port));
	if (cmd->op != OP_BE_DEL && (cmd->has & HAS_WEIGHT))
		mnl_attr_put_u32(nlh, VIPLB_BE_A_WEIGHT, cmd->weight);
	mnl_attr_nest_end(nlh, nest);
	if (cmd->op == OP_BE_DEL && (cmd->has & HAS_FLUSH))
		mnl_attr_put(nlh, VIPLB_A_FLUSH, 0, NULL);
}

/* Dump parsing. */

/* The attributes nested in nest one by one, from a == NULL; NULL at the end. */
static const struct nlattr *next_nested(const struct nlattr *nest,
					const struct nlattr *a)
{
	const char *end = (const char *)mnl_attr_get_payload(nest) +
			  mnl_attr_get_payload_len(nest);

	a = a ? mnl_attr_next(a) : mnl_attr_get_payload(nest);
	return mnl_attr_ok(a, end - (const char *)a) ? a : NULL;
}

/* The field of st for a VIPLB_STATS_A_* type; NULL for padding or newer. */
static uint64_t *stats_field(struct lb_stats *st, uint16_t type)
{
	switch (type) {
	case VIPLB_STATS_A_CONNS:
		return &st->conns;
	case VIPLB_STATS_A_PKTS_IN:
		return &st->pkts_in;
	case VIPLB_STATS_A_PKTS_OUT:
		return &st->pkts_out;
	case VIPLB_STATS_A_BYTES_IN:
		return &st->bytes_in;
	case VIPLB_STATS_A_BYTES_OUT:
		return &st->bytes_out;
	case VIPLB_STATS_A_ACTIVE:
		return &st->active;
	case VIPLB_STATS_A_REJECTED:
		return &st->rejected;
	case VIPLB_STATS_A_UNTRACKED:
		return &st->untracked;
	case VIPLB_STATS_A_CPS:
		return &st->cps;
	case VIPLB_STATS_A_PPS_IN:
		return &st->pps_in;
	case VIPLB_STATS_A_PPS_OUT:
		return &st->pps_out;
	case VIPLB_STATS_A_BPS_IN:
		return &st->bps_in;
	case VIPLB_STATS_A_BPS_OUT:
		return &st->bps_out;
	}
	return NULL;
}

/* Values an older module does not send stay 0. */
static int parse_stats(const struct nlattr *nest, struct lb_stats *st)
{
	const struct nlattr *a;
	uint64_t *p;

	if (mnl_attr_validate(nest, MNL_TYPE_NESTED) < 0)
		return -EBADMSG;
	for (a = next_nested(nest, NULL); a; a = next_nested(nest, a)) {
		p = stats_field(st, mnl_attr_get_type(a));
		if (!p)
			continue;
		if (mnl_attr_validate(a, MNL_TYPE_U64) < 0)
			return -EBADMSG;
		*p = mnl_attr_get_u64(a);
	}
	return 0;
}

static int get_u32(const struct nlattr *a, uint32_t *v)
{
	if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
		return -EBADMSG;
	*v = mnl_attr_get_u32(a);
	return 0;
}

static int get_port(const struct nlattr *a, uint16_t *port)
{
	if (mnl_attr_validate(a, MNL_TYPE_U16) < 0)
		return -EBADMSG;
	*port = ntohs(mnl_attr_get_u16(a));
	return 0;
}

static int get_addr(const struct nlattr *a, uint16_t af, union inet_addr *addr)
{
	if (mnl_attr_get_payload_len(a) != addr_len(af))
		return -EBADMSG;
	memset(addr, 0, sizeof(*addr));
	memcpy(addr, mnl_attr_get_payload(a), addr_len(af));
	return 0;
}

static int parse_backend_attr(const struct nlattr *nest, uint16_t af,
			      struct lb_backend *be)
{
	const struct nlattr *a;
	bool addr = false, port = false;
	int ret = 0;

	if (mnl_attr_validate(nest, MNL_TYPE_NESTED) < 0)
		return -EBADMSG;
	memset(be, 0, sizeof(*be));
	be->weight = VIPLB_WEIGHT_DEFAULT;
	for (a = next_nested(nest, NULL); a; a = next_nested(nest, a)) {
		switch (mnl_attr_get_type(a)) {
		case VIPLB_BE_A_ADDR:
			ret = get_addr(a, af, &be->key.addr);
			addr = true;
			break;
		case VIPLB_BE_A_PORT:
			ret = get_port(a, &be->key.port);
			port = true;
			break;
		case VIPLB_BE_A_WEIGHT:
			ret = get_u32(a, &be->weight);
			break;
		case VIPLB_BE_A_FLAGS:
			ret = get_u32(a, &be->flags);
			break;
		case VIPLB_BE_A_STATS:
			ret = parse_stats(a, &be->stats);
			break;
		}
		if (ret)
			return ret;
	}
	return addr && port ? 0 : -EBADMSG;
}

static bool same_key(const struct svc_key *a, const struct svc_key *b)
{
	return a->af == b->af && a->proto == b->proto && a->port == b->port &&
	       !memcmp(&a->addr, &b->addr, addr_len(a->af));
}

static int grow(void **v, size_t *cap, size_t nr, size_t size)
{
	size_t ncap = *cap ? *cap * 2 : 8;
	void *p;

	if (nr < *cap)
		return 0;
	p = realloc(*v, ncap * size);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = ncap;
	return 0;
}

/* Values present in one message, applied to a new or continued service. */
struct svc_msg {
	struct lb_service svc;
	unsigned int has;
	const struct nlattr *addr;
	bool has_af, has_proto, has_port, has_stats, table_auto;
};

static int parse_svc_attrs(const struct nlattr *nest, struct svc_msg *m)
{
	struct lb_service *s = &m->svc;
	const struct nlattr *a;
	int ret = 0;

	for (a = next_nested(nest, NULL); a; a = next_nested(nest, a)) {
		switch (mnl_attr_get_type(a)) {
		case VIPLB_SVC_A_AF:
			if (mnl_attr_validate(a, MNL_TYPE_U16) < 0)
				return -EBADMSG;
			s->key.af = mnl_attr_get_u16(a);
			m->has_af = true;
			break;
		case VIPLB_SVC_A_PROTO:
			if (mnl_attr_validate(a, MNL_TYPE_U8) < 0)
				return -EBADMSG;
			s->key.proto = mnl_attr_get_u8(a);
			m->has_proto = true;
			break;
		case VIPLB_SVC_A_ADDR:
			m->addr = a;
			break;
		case VIPLB_SVC_A_PORT:
			ret = get_port(a, &s->key.port);
			m->has_port = true;
			break;
		case VIPLB_SVC_A_SCHED:
			ret = get_u32(a, &s->sched);
			m->has |= HAS_SCHED;
			break;
		case VIPLB_SVC_A_MODE:
			ret = get_u32(a, &s->mode);
			m->has |= HAS_MODE;
			break;
		case VIPLB_SVC_A_TABLE_SIZE:
			ret = get_u32(a, &s->table_size);
			m->has |= HAS_TABLE_SIZE;
			break;
		case VIPLB_SVC_A_FLAGS:
			ret = get_u32(a, &s->flags);
			m->has |= HAS_FLAGS;
			break;
		case VIPLB_SVC_A_TABLE_AUTO:
			m->table_auto = true;
			break;
		case VIPLB_SVC_A_STATS:
			ret = parse_stats(a, &s->stats);
			m->has_stats = true;
			break;
		}
		if (ret)
			return ret;
	}
	if (!m->has_af || !m->has_proto || !m->has_port || !m->addr ||
	    (s->key.af != AF_INET && s->key.af != AF_INET6))
		return -EBADMSG;
	/* TABLE_SIZE is then the size in use: service_table_m() gives it. */
	if (m->table_auto) {
		s->table_size = 0;
		m->has |= HAS_TABLE_SIZE;
	}
	return get_addr(m->addr, s->key.af, &s->key.addr);
}

static int top_attr(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == VIPLB_A_SERVICE)
		*(const struct nlattr **)data = attr;
	return MNL_CB_OK;
}

int service_parse_msg(const struct nlmsghdr *nlh, void *data)
{
	struct lb_service_list *list = data;
	const struct nlattr *a, *nest = NULL;
	struct svc_msg m = { 0 };
	struct lb_service *s;
	struct lb_backend be;
	int ret;

	if (mnl_attr_parse(nlh, sizeof(struct genlmsghdr), top_attr, &nest) < 0)
		return -EBADMSG;
	if (!nest || mnl_attr_validate(nest, MNL_TYPE_NESTED) < 0)
		return -EBADMSG;
	m.svc.sched = VIPLB_SCHED_MAGLEV;
	m.svc.mode = VIPLB_MODE_NAT;
	ret = parse_svc_attrs(nest, &m);
	if (ret)
		return ret;

	if (list->nr && same_key(&list->svcs[list->nr - 1].key, &m.svc.key)) {
		/* Continuation: more backends of the previous service. */
		s = &list->svcs[list->nr - 1];
		if (m.has & HAS_SCHED)
			s->sched = m.svc.sched;
		if (m.has & HAS_MODE)
			s->mode = m.svc.mode;
		if (m.has & HAS_TABLE_SIZE)
			s->table_size = m.svc.table_size;
		if (m.has & HAS_FLAGS)
			s->flags = m.svc.flags;
		if (m.has_stats)
			s->stats = m.svc.stats;
	} else {
		ret = grow((void **)&list->svcs, &list->cap, list->nr,
			   sizeof(*list->svcs));
		if (ret)
			return ret;
		s = &list->svcs[list->nr++];
		*s = m.svc;
	}

	for (a = next_nested(nest, NULL); a; a = next_nested(nest, a)) {
		if (mnl_attr_get_type(a) != VIPLB_SVC_A_BACKEND)
			continue;
		ret = parse_backend_attr(a, s->key.af, &be);
		if (ret)
			return ret;
		ret = grow((void **)&s->backends, &s->cap_backends,
			   s->nr_backends, sizeof(*s->backends));
		if (ret)
			return ret;
		s->backends[s->nr_backends++] = be;
	}
	return 0;
}

void free_services(struct lb_service_list *list)
{
	size_t i;

	for (i = 0; i < list->nr; i++)
		free(list->svcs[i].backends);
	free(list->svcs);
	free(list->index);
	memset(list, 0, sizeof(*list));
}

/* FNV-1a over the key's fields. */
static size_t key_hash(const struct svc_key *k)
{
	const unsigned char *p = (const unsigned char *)&k->addr;
	uint32_t h = 2166136261u ^ k->af ^ ((uint32_t)k->proto << 8) ^
		     ((uint32_t)k->port << 16);
	size_t i;

	for (i = 0; i < addr_len(k->af); i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

void service_list_changed(struct lb_service_list *list)
{
	list->indexed = 0;
	list->indexed_svcs = NULL;
}

/* Bring the index up to date: false if out of memory. */
static bool index_update(struct lb_service_list *list)
{
	size_t mask, i, h;

	if (list->indexed_svcs != list->svcs || list->indexed > list->nr)
		list->indexed = 0;
	if (2 * list->nr > list->index_size) {
		size_t size = list->index_size ? list->index_size : 64;
		size_t *p;

		while (2 * list->nr > size)
			size *= 2;
		p = realloc(list->index, size * sizeof(*p));
		if (!p)
			return false;
		list->index = p;
		list->index_size = size;
		list->indexed = 0;
	}
	if (!list->indexed)
		memset(list->index, 0, list->index_size * sizeof(*list->index));
	mask = list->index_size - 1;
	for (i = list->indexed; i < list->nr; i++) {
		for (h = key_hash(&list->svcs[i].key) & mask; list->index[h];
		     h = (h + 1) & mask)
			;
		list->index[h] = i + 1;
	}
	list->indexed = list->nr;
	list->indexed_svcs = list->svcs;
	return true;
}

struct lb_service *service_find(struct lb_service_list *list,
				const struct svc_key *key)
{
	size_t i, h, mask;

	if (!list->nr)
		return NULL;
	if (!index_update(list)) {
		for (i = 0; i < list->nr; i++)
			if (same_key(&list->svcs[i].key, key))
				return &list->svcs[i];
		return NULL;
	}
	mask = list->index_size - 1;
	for (h = key_hash(key) & mask; list->index[h]; h = (h + 1) & mask) {
		i = list->index[h] - 1;
		if (same_key(&list->svcs[i].key, key))
			return &list->svcs[i];
	}
	return NULL;
}

void service_init(struct lb_service *s, const struct svc_key *key)
{
	memset(s, 0, sizeof(*s));
	s->key = *key;
	s->sched = VIPLB_SCHED_MAGLEV;
	s->mode = VIPLB_MODE_NAT;
	s->table_size = 0;	/* automatic */
}

struct lb_backend *service_find_backend(struct lb_service *s,
					const struct be_key *k)
{
	size_t i;

	for (i = 0; i < s->nr_backends; i++)
		if (s->backends[i].key.port == k->port &&
		    !memcmp(&s->backends[i].key.addr, &k->addr,
			    addr_len(s->key.af)))
			return &s->backends[i];
	return NULL;
}

int service_edit(struct lb_service *s, const struct config_cmd *cmd)
{
	struct lb_backend *be = NULL;

	switch (cmd->op) {
	case OP_SVC_ADD:
	case OP_SVC_SET:
		if (cmd->has & HAS_SCHED)
			s->sched = cmd->sched;
		if (cmd->has & HAS_MODE)
			s->mode = cmd->mode;
		if (cmd->has & HAS_TABLE_SIZE)
			s->table_size = cmd->table_size;
		if (cmd->has & HAS_FLAGS)
			s->flags = cmd->flags;
		return 0;
	case OP_BE_ADD:
	case OP_BE_SET:
	case OP_BE_DEL:
		be = service_find_backend(s, &cmd->be);
		break;
	default:
		return -EINVAL;
	}
	if (cmd->op == OP_BE_ADD) {
		if (be)
			return -EEXIST;
		if (grow_array(s->backends, s->nr_backends, s->cap_backends,
			       8))
			return -ENOMEM;
		be = &s->backends[s->nr_backends++];
		memset(be, 0, sizeof(*be));
		be->key = cmd->be;
		be->weight = cmd->has & HAS_WEIGHT ? cmd->weight :
						     VIPLB_WEIGHT_DEFAULT;
		return 0;
	}
	if (!be)
		return -ENOENT;
	if (cmd->op == OP_BE_SET) {
		if (cmd->has & HAS_WEIGHT)
			be->weight = cmd->weight;
	} else {
		*be = s->backends[--s->nr_backends];
	}
	return 0;
}

void service_add_cmd(const struct lb_service *svc, struct config_cmd *cmd)
{
	*cmd = (struct config_cmd){
		.op = OP_SVC_ADD,
		.has = HAS_KEY | HAS_SCHED | HAS_MODE |
		       (svc->table_size ? HAS_TABLE_SIZE : 0) | HAS_FLAGS,
		.svc = svc->key,
		.sched = svc->sched,
		.mode = svc->mode,
		.table_size = svc->table_size,
		.flags = svc->flags,
	};
}

uint32_t service_table_m(const struct lb_service *svc)
{
	return svc->table_size ?: viplb_maglev_auto_size(svc->nr_backends);
}

void backend_add_cmd(const struct lb_service *svc, size_t i,
		     struct config_cmd *cmd)
{
	cmd->op = OP_BE_ADD;
	cmd->has = HAS_KEY | HAS_WEIGHT;
	cmd->be = svc->backends[i].key;
	cmd->weight = svc->backends[i].weight;
}

void save_service(const struct lb_service *svc, FILE *fp)
{
	struct config_cmd cmd;
	char line[512];
	size_t i;

	service_add_cmd(svc, &cmd);
	fprintf(fp, "%s\n", format_cmd_line(line, sizeof(line), &cmd));
	for (i = 0; i < svc->nr_backends; i++) {
		backend_add_cmd(svc, i, &cmd);
		fprintf(fp, "%s\n", format_cmd_line(line, sizeof(line), &cmd));
	}
}

int fetch_services(struct nl_sock *nl, const struct svc_key *key,
		   const char *what, struct lb_service_list *list)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nl_error err;
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	bool intr;
	int i;

	memset(list, 0, sizeof(*list));
	for (i = 0; i < DUMP_TRIES; i++) {
		/*
		 * Always a dump, filtered by the key if given: a single
		 * service can have more backends than fit in one message.
		 */
		nlh = nl_msg_start(nl, buf, VIPLB_CMD_SERVICE_GET, NLM_F_DUMP);
		if (key) {
			nest = mnl_attr_nest_start(nlh, VIPLB_A_SERVICE);
			put_svc_key(nlh, key);
			mnl_attr_nest_end(nlh, nest);
		}
		if (nl_request(nl, nlh, service_parse_msg, list, &err, &intr)) {
			nl_report(what, &err);
			free_services(list);
			return -1;
		}
		if (!intr)
			return 0;
		/* The configuration changed under the dump: start over. */
		free_services(list);
	}
	errmsg("%s: dump interrupted, retry", what);
	return -1;
}

/* service lookup */

static int lookup_top_attr(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type <= VIPLB_A_MAX)
		tb[type] = attr;
	return MNL_CB_OK;
}

static int parse_lookup_attr(const struct nlattr *nest, struct lookup_reply *r)
{
	const struct nlattr *a;
	bool addr = false, sport = false;
	int ret = 0;

	if (mnl_attr_validate(nest, MNL_TYPE_NESTED) < 0)
		return -EBADMSG;
	r->dport = r->key.port;
	r->pin = VIPLB_PIN_NONE;
	for (a = next_nested(nest, NULL); a; a = next_nested(nest, a)) {
		switch (mnl_attr_get_type(a)) {
		case VIPLB_LOOKUP_A_SRC_ADDR:
			ret = get_addr(a, r->key.af, &r->src.addr);
			addr = true;
			break;
		case VIPLB_LOOKUP_A_SRC_PORT:
			ret = get_port(a, &r->src.port);
			sport = true;
			break;
		case VIPLB_LOOKUP_A_DST_PORT:
			ret = get_port(a, &r->dport);
			break;
		case VIPLB_LOOKUP_A_PIN:
			ret = get_u32(a, &r->pin);
			break;
		}
		if (ret)
			return ret;
	}
	return addr && sport ? 0 : -EBADMSG;
}

int lookup_parse_msg(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[VIPLB_A_MAX + 1] = { NULL };
	struct lookup_reply *r = data;
	struct svc_msg m = { 0 };
	int ret;

	if (mnl_attr_parse(nlh, sizeof(struct genlmsghdr), lookup_top_attr,
			   tb) < 0)
		return -EBADMSG;
	if (!tb[VIPLB_A_SERVICE] || !tb[VIPLB_A_LOOKUP] ||
	    mnl_attr_validate(tb[VIPLB_A_SERVICE], MNL_TYPE_NESTED) < 0)
		return -EBADMSG;
	ret = parse_svc_attrs(tb[VIPLB_A_SERVICE], &m);
	if (ret)
		return ret;
	r->key = m.svc.key;
	ret = parse_lookup_attr(tb[VIPLB_A_LOOKUP], r);
	if (ret)
		return ret;
	if (tb[VIPLB_A_BACKEND]) {
		ret = parse_backend_attr(tb[VIPLB_A_BACKEND], r->key.af,
					 &r->be);
		if (ret)
			return ret;
		r->has_backend = true;
	}
	r->got = true;
	return 0;
}

int lookup_service(struct nl_sock *nl, const struct config_cmd *cmd,
		   struct lookup_reply *r)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], what[256];
	struct nl_error err;
	struct nlmsghdr *nlh;

	memset(r, 0, sizeof(*r));
	format_cmd(what, sizeof(what), cmd);
	nlh = nl_msg_start(nl, buf, VIPLB_CMD_SERVICE_LOOKUP, 0);
	config_cmd_put(nlh, cmd);
	if (nl_request(nl, nlh, lookup_parse_msg, r, &err, NULL)) {
		nl_report(what, &err);
		return -1;
	}
	if (!r->got) {
		errmsg("%s: no reply from the kernel", what);
		return -1;
	}
	return 0;
}
