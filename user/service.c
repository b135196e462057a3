// SPDX-License-Identifier: GPL-2.0
/*
 * viplb service ..., viplb backend ..., show, stats, stats zero and flush.
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

#include "nl.h"
#include "parse.h"
#include "print.h"
#include "service.h"
#include "viplb.h"
#include "xdp.h"

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
		if (cmd->has & HAS_TABLE_SIZE)
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

/*
 * Send one configuration command and wait for its ACK; then copy the
 * change into the XDP maps if XDP is attached.  Without the module, an
 * attached XDP fast path alone takes the command.
 */
static int run_config(const struct config_cmd *cmd)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], what[256];
	struct nl_error err;
	struct nlmsghdr *nlh;
	struct nl_sock *nl;

	if (!module_loaded() && xdp_attached())
		return xdp_only(cmd) ? 1 : 0;
	nl = nl_get();
	if (!nl)
		return 1;
	nlh = nl_msg_start(nl, buf, config_cmd_genl(cmd), 0);
	config_cmd_put(nlh, cmd);
	if (nl_request(nl, nlh, NULL, NULL, &err, NULL)) {
		nl_report(format_cmd(what, sizeof(what), cmd), &err);
		return 1;
	}
	return xdp_mirror(cmd) ? 1 : 0;
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
	bool has_af, has_proto, has_port, has_stats;
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
	return get_addr(m->addr, s->key.af, &s->key.addr);
}

static int top_attr(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == VIPLB_A_SERVICE)
		*(const struct nlattr **)data = attr;
	return MNL_CB_OK;
}

static int service_cb(const struct nlmsghdr *nlh, void *data)
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
	m.svc.table_size = VIPLB_TABLE_SIZE_DEFAULT;
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
	memset(list, 0, sizeof(*list));
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
		if (nl_request(nl, nlh, service_cb, list, &err, &intr)) {
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

/* Printing. */

/*
 * One "stats" object in JSON; in text (stats only), two lines as ipvsadm
 * --stats and --rate show them: the counters, then the rates.
 */
static void print_stats(const struct lb_stats *st, bool text,
			const char *indent)
{
	enum output_type t = text ? PRINT_ANY : PRINT_JSON;

	if (text)
		print_fp("%sstats", indent);
	open_json_object("stats");
	print_u64(t, "conns", " conns %" PRIu64, st->conns);
	print_u64(t, "pkts_in", " pkts-in %" PRIu64, st->pkts_in);
	print_u64(t, "pkts_out", " pkts-out %" PRIu64, st->pkts_out);
	print_u64(t, "bytes_in", " bytes-in %" PRIu64, st->bytes_in);
	print_u64(t, "bytes_out", " bytes-out %" PRIu64, st->bytes_out);
	print_u64(t, "active", " active %" PRIu64, st->active);
	print_u64(t, "rejected", " rejected %" PRIu64, st->rejected);
	print_u64(t, "untracked", " untracked %" PRIu64, st->untracked);
	if (text)
		print_fp("\n%srate", indent);
	print_u64(t, "cps", " cps %" PRIu64, st->cps);
	print_u64(t, "pps_in", " pps-in %" PRIu64, st->pps_in);
	print_u64(t, "pps_out", " pps-out %" PRIu64, st->pps_out);
	print_u64(t, "bps_in", " bps-in %" PRIu64, st->bps_in);
	print_u64(t, "bps_out", " bps-out %" PRIu64, st->bps_out);
	close_json_object();
	if (text)
		print_fp("\n");
}

/* A known name, or the number as text for values from a newer kernel. */
static const char *name_or_num(const char *name, uint32_t v, char *buf,
			       size_t len)
{
	if (name)
		return name;
	snprintf(buf, len, "%u", v);
	return buf;
}

static void print_backend(const struct lb_service *svc,
			  const struct lb_backend *be, bool with_stats)
{
	char addr[INET6_ADDRSTRLEN], ap[ADDRPORT_STRLEN];

	open_json_object(NULL);
	print_string(PRINT_JSON, "addr", NULL,
		     format_addr(addr, sizeof(addr), svc->key.af,
				 &be->key.addr));
	print_uint(PRINT_JSON, "port", NULL, be->key.port);
	print_string(PRINT_FP, NULL, "\tbackend %s",
		     format_addrport(ap, sizeof(ap), svc->key.af, &be->key.addr,
				     be->key.port));
	print_uint(PRINT_ANY, "weight", " weight %u", be->weight);
	print_fp("\n");
	print_stats(&be->stats, with_stats, "\t\t");
	close_json_object();
}

void print_service(const struct lb_service *svc, bool with_stats)
{
	char addr[INET6_ADDRSTRLEN], ap[ADDRPORT_STRLEN], num[16];
	uint32_t unknown = svc->flags & ~(uint32_t)__VIPLB_SVC_F_ALL;
	size_t i;

	open_json_object(NULL);
	print_string(PRINT_ANY, "proto", "service %s",
		     name_or_num(proto_name(svc->key.proto), svc->key.proto,
				 num, sizeof(num)));
	print_string(PRINT_JSON, "vip", NULL,
		     format_addr(addr, sizeof(addr), svc->key.af,
				 &svc->key.addr));
	print_uint(PRINT_JSON, "port", NULL, svc->key.port);
	print_string(PRINT_FP, NULL, " %s",
		     format_addrport(ap, sizeof(ap), svc->key.af,
				     &svc->key.addr, svc->key.port));
	print_string(PRINT_ANY, "sched", " sched %s",
		     name_or_num(sched_name(svc->sched), svc->sched, num,
				 sizeof(num)));
	print_string(PRINT_ANY, "mode", " mode %s",
		     name_or_num(mode_name(svc->mode), svc->mode, num,
				 sizeof(num)));
	print_uint(PRINT_ANY, "table_size", " table-size %u", svc->table_size);
	open_json_array("flags");
	if (svc->flags & VIPLB_SVC_F_SNAT)
		print_string(PRINT_ANY, NULL, " %s", "snat");
	if (unknown) {
		snprintf(num, sizeof(num), "0x%x", unknown);
		print_string(PRINT_ANY, NULL, " flags %s", num);
	}
	close_json_array();
	print_fp("\n");
	print_stats(&svc->stats, with_stats, "\t");
	open_json_array("backends");
	for (i = 0; i < svc->nr_backends; i++)
		print_backend(svc, &svc->backends[i], with_stats);
	close_json_array();
	close_json_object();
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

static int lookup_cb(const struct nlmsghdr *nlh, void *data)
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

/* Why the flow goes to its backend, in text output. */
static const char *pin_text(uint32_t pin, char *buf, size_t len)
{
	switch (pin) {
	case VIPLB_PIN_NONE:
		return "new flow: scheduler choice";
	case VIPLB_PIN_FLOW:
		return "pinned by flow table";
	case VIPLB_PIN_CONNTRACK:
		return "pinned by conntrack";
	}
	snprintf(buf, len, "pin %u", pin);
	return buf;
}

void print_lookup(const struct lookup_reply *r)
{
	char addr[INET6_ADDRSTRLEN], ap[ADDRPORT_STRLEN], num[16];
	uint16_t af = r->key.af;

	open_json_object(NULL);
	print_string(PRINT_JSON, "proto", NULL,
		     name_or_num(proto_name(r->key.proto), r->key.proto, num,
				 sizeof(num)));
	print_string(PRINT_JSON, "vip", NULL,
		     format_addr(addr, sizeof(addr), af, &r->key.addr));
	print_uint(PRINT_JSON, "port", NULL, r->key.port);
	print_string(PRINT_JSON, "src", NULL,
		     format_addr(addr, sizeof(addr), af, &r->src.addr));
	print_uint(PRINT_JSON, "sport", NULL, r->src.port);
	print_uint(PRINT_JSON, "dport", NULL, r->dport);
	print_string(PRINT_JSON, "pin", NULL,
		     name_or_num(pin_name(r->pin), r->pin, num, sizeof(num)));
	if (r->has_backend) {
		open_json_object("backend");
		print_string(PRINT_JSON, "addr", NULL,
			     format_addr(addr, sizeof(addr), af,
					 &r->be.key.addr));
		print_uint(PRINT_JSON, "port", NULL, r->be.key.port);
		print_string(PRINT_FP, NULL, "backend %s",
			     format_addrport(ap, sizeof(ap), af,
					     &r->be.key.addr, r->be.key.port));
		print_uint(PRINT_ANY, "weight", " weight %u", r->be.weight);
		close_json_object();
		print_fp(" (%s)\n", pin_text(r->pin, num, sizeof(num)));
	} else {
		print_null(
			PRINT_ANY, "backend",
			"no backend: service has no backend of weight > 0\n");
	}
	close_json_object();
}

/*
 * Ask the kernel which backend the service's scheduler picks for the flow.
 * No backend is an answer, not an error.
 */
static int run_lookup(const struct config_cmd *cmd)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], what[256];
	struct lookup_reply r = { 0 };
	struct nl_error err;
	struct nlmsghdr *nlh;
	struct nl_sock *nl;

	nl = nl_get();
	if (!nl)
		return 1;
	format_cmd(what, sizeof(what), cmd);
	nlh = nl_msg_start(nl, buf, VIPLB_CMD_SERVICE_LOOKUP, 0);
	config_cmd_put(nlh, cmd);
	if (nl_request(nl, nlh, lookup_cb, &r, &err, NULL)) {
		nl_report(what, &err);
		return 1;
	}
	if (!r.got) {
		errmsg("%s: no reply from the kernel", what);
		return 1;
	}
	print_lookup(&r);
	return 0;
}

/* show, stats, service show: ctx is the command for messages. */
static int show(const struct config_cmd *cmd, const char *ctx, bool with_stats)
{
	struct lb_service_list list;
	const struct svc_key *key = NULL;
	char what[128], ap[ADDRPORT_STRLEN];
	struct nl_sock *nl;
	size_t i;

	if (!module_loaded() && xdp_attached())
		return xdp_show_services(cmd->has & HAS_KEY ? &cmd->svc : NULL,
					 with_stats);
	nl = nl_get();
	if (!nl)
		return 1;
	snprintf(what, sizeof(what), "%s", ctx);
	if (cmd->has & HAS_KEY) {
		key = &cmd->svc;
		snprintf(what, sizeof(what), "%s %s %s", ctx,
			 proto_name(key->proto),
			 format_addrport(ap, sizeof(ap), key->af, &key->addr,
					 key->port));
	}
	if (fetch_services(nl, key, what, &list))
		return 1;
	open_json_array(NULL);
	for (i = 0; i < list.nr; i++)
		print_service(&list.svcs[i], with_stats);
	close_json_array();
	free_services(&list);
	return 0;
}

int do_service(int argc, char **argv)
{
	struct config_cmd cmd;
	int ret;

	if (argc >= 1 && !strcmp(argv[0], "help")) {
		print_usage(stdout, "service");
		return 0;
	}
	ret = parse_service_cmd(argc, argv, &cmd);
	if (ret)
		return parse_failed(ret, "service");
	if (cmd.op == OP_SVC_SHOW)
		return show(&cmd, "service show", false);
	if (cmd.op == OP_SVC_LOOKUP)
		return run_lookup(&cmd);
	return run_config(&cmd);
}

int do_backend(int argc, char **argv)
{
	struct config_cmd cmd;
	int ret;

	if (argc >= 1 && !strcmp(argv[0], "help")) {
		print_usage(stdout, "backend");
		return 0;
	}
	ret = parse_backend_cmd(argc, argv, &cmd);
	if (ret)
		return parse_failed(ret, "backend");
	return run_config(&cmd);
}

int do_show(int argc, char **argv)
{
	struct config_cmd cmd;
	int ret;

	if (argc >= 1 && !strcmp(argv[0], "help")) {
		print_usage(stdout, "show");
		return 0;
	}
	ret = parse_show_args(argc, argv, "show", &cmd);
	if (ret)
		return parse_failed(ret, "show");
	return show(&cmd, "show", false);
}

int do_stats(int argc, char **argv)
{
	struct config_cmd cmd;
	int ret;

	if (argc >= 1 && !strcmp(argv[0], "help")) {
		print_usage(stdout, "stats");
		return 0;
	}
	ret = parse_stats_cmd(argc, argv, &cmd);
	if (ret)
		return parse_failed(ret, "stats");
	if (cmd.op == OP_STATS_ZERO)
		return run_config(&cmd);
	return show(&cmd, "stats", true);
}

int do_flush(int argc, char **argv)
{
	struct config_cmd cmd = { .op = OP_FLUSH };

	if (argc >= 1 && !strcmp(argv[0], "help")) {
		print_usage(stdout, "flush");
		return 0;
	}
	if (argc > 0) {
		errmsg("unexpected argument `%s' for flush",
		       quote_arg(argv[0]));
		return 1;
	}
	return run_config(&cmd);
}
