// SPDX-License-Identifier: GPL-2.0
/*
 * The printers of the user tools, in text and JSON, fed with what the
 * kernel replies (netlink messages through the tools' own reply parsers)
 * or with values no parser would give them.
 *
 * Input: byte 0 picks the mode, byte 1 holds options, the rest is the
 * payload.  Options: bit 0 pretty JSON, bit 1 with stats, bit 2 IPv6
 * tables, bit 3 the nat table, bits 4..7 the -L format (RT_FMT_*).
 *
 *   0 SVC_DUMP    service dump: the payload is messages, each a 16-bit
 *                 length (little endian) and that many bytes of
 *                 attributes after a genetlink header, given to the
 *                 dump parser (service_parse_msg() of user/lib/service.c) as
 *                 fetch_services() does; then print_service() of each
 *                 service, as viplb show
 *   1 LOOKUP      one lookup reply: the payload is its attributes, for
 *                 lookup_parse_msg(); then print_lookup()
 *   2 DATAGRAM    the payload is a raw datagram from the kernel, for the
 *                 receive loop of user/lib/nl.c (nl_parse_replies(): NLMSG_ERROR with extended
 *                 ACKs, NLMSG_DONE, NLM_F_DUMP_INTR...) waiting for a
 *                 service dump, a lookup or a rules dump (options bits
 *                 4..5); errors go through nl_report()
 *   3 STRUCTS     struct lb_service and struct lookup_reply filled from
 *                 the payload (any enum value, huge counters, odd address
 *                 families) for print_service() and print_lookup()
 *   4 RULES_DUMP  rules dump: messages as in SVC_DUMP, for the dump parser
 *                 of user/tables/nl.c (rt_dump_msg()); then every printer of
 *                 user/tables on the table
 *   5 RULES_SAVE  the payload is a save-format state file, read as
 *                 viplb-tables --offline reads it (rt_read_state())
 *   6 RULES_CMDS  the payload is viplb-tables command lines (as in
 *                 tables_fuzz.c, '' for an empty argument) applied to an
 *                 empty table
 *   7 RULE_SPEC   rules made from raw struct viplb_rule_spec bytes, a
 *                 target, a comment and match order bytes, kept when
 *                 rt_check_spec() accepts them, as a dump would
 *
 * Every JSON output must be valid JSON (strict, UTF-8).  Services parsed
 * from a dump (modes 0 and 2) with values the module accepts must survive
 * viplb save | viplb restore | viplb save byte for byte.  A table built by
 * parsing (modes 5 and 6) must survive a save/restore round trip too: its
 * save output (with counters) read back gives the same save output.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <libmnl/libmnl.h>

#include <viplb/maglev.h>

#include "cmdfile.h"
#include "common.h"
#include "nl.h"
#include "parse.h"
#include "print.h"
#include "service.h"
#include "tables.h"

#define MAX_INPUT (64 * 1024)
/* The family id and sequence number the replies are for. */
#define FAMILY 0x1c
#define SEQ 1
/* Bounds on the work per input. */
#define MAX_SVCS 8
#define MAX_BACKENDS 8
#define MAX_SPEC_RULES 16
#define MAX_PRINT_CHAINS 8
#define MAX_PRINT_RULES 64

enum {
	M_SVC_DUMP,
	M_LOOKUP,
	M_DATAGRAM,
	M_STRUCTS,
	M_RULES_DUMP,
	M_RULES_SAVE,
	M_RULES_CMDS,
	M_RULE_SPEC,
	NR_MODES
};

#define OPT_PRETTY 0x01
#define OPT_STATS 0x02
#define OPT_V6 0x04
#define OPT_NAT 0x08
#define OPT_FMT(o) ((o) >> 4 & 0xf)

/* A state file for rt_read_state(), which only reads files. */
static int state_fd = -1;
static char state_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_init();
	state_fd = memfd_create("viplb-fuzz-state", 0);
	if (state_fd < 0)
		fuzz_fail("memfd_create failed");
	snprintf(state_path, sizeof(state_path), "/proc/self/fd/%d", state_fd);
	return 0;
}

/* Services */

/* What the module accepts, so what a dump can hold. */
static bool kernel_valid(const struct lb_service *s)
{
	size_t i;

	if ((s->key.af != AF_INET && s->key.af != AF_INET6) ||
	    !proto_name(s->key.proto) || s->sched > VIPLB_SCHED_MAX ||
	    s->mode > VIPLB_MODE_MAX || (s->flags & ~__VIPLB_SVC_F_ALL) ||
	    (s->table_size && /* 0: automatic */
	     (s->table_size < VIPLB_TABLE_SIZE_MIN ||
	      s->table_size > VIPLB_TABLE_SIZE_MAX ||
	      !viplb_maglev_is_prime(s->table_size))))
		return false;
	for (i = 0; i < s->nr_backends; i++)
		if (s->backends[i].flags ||
		    s->backends[i].weight > VIPLB_WEIGHT_MAX)
			return false;
	return true;
}

/* viplb save | viplb restore | viplb save must be byte-identical. */
static void save_restore_services(const struct lb_service_list *list)
{
	struct restore_cmds r = { 0 };
	struct mem_out m1, m2;
	char line[512];
	size_t i;
	FILE *f;

	for (i = 0; i < list->nr; i++)
		if (!kernel_valid(&list->svcs[i]))
			return;
	mem_open(&m1);
	for (i = 0; i < list->nr; i++)
		save_service(&list->svcs[i], m1.fp);
	mem_text(&m1);
	if (!m1.len) {
		mem_close(&m1);
		return;
	}
	f = fmemopen(m1.buf, m1.len, "r");
	if (!f)
		fuzz_fail("fmemopen failed");
	if (restore_parse(f, "save", &r))
		fuzz_fail("viplb restore refuses the output of viplb save:\n%s",
			  m1.buf);
	fclose(f);
	mem_open(&m2);
	for (i = 0; i < r.nr; i++)
		fprintf(m2.fp, "%s\n",
			format_cmd_line(line, sizeof(line), &r.cmds[i]));
	mem_text(&m2);
	if (m1.len != m2.len || memcmp(m1.buf, m2.buf, m1.len))
		fuzz_fail("save | restore | save differs:\n%s---\n%s", m1.buf,
			  m2.buf);
	restore_free(&r);
	mem_close(&m1);
	mem_close(&m2);
}

static void print_services(const struct lb_service_list *list, uint8_t opts)
{
	struct mem_out m;
	size_t i;
	int json;

	for (json = 0; json < 2; json++) {
		mem_open(&m);
		print_init(m.fp, json, opts & OPT_PRETTY);
		/* As viplb show: one JSON array of services. */
		open_json_array(NULL);
		for (i = 0; i < list->nr; i++)
			print_service(&list->svcs[i], opts & OPT_STATS,
				      i % 2 ? "xdp" : NULL, i % 4 == 1);
		close_json_array();
		if (json)
			check_json("print_service", &m);
		mem_close(&m);
	}
}

static void print_lookups(const struct lookup_reply *r, uint8_t opts)
{
	struct mem_out m;
	int json;

	for (json = 0; json < 2; json++) {
		mem_open(&m);
		print_init(m.fp, json, opts & OPT_PRETTY);
		print_lookup(r);
		if (json)
			check_json("print_lookup", &m);
		mem_close(&m);
	}
}

/* Netlink messages */

/* One reply message: headers, then len bytes of attributes. */
static struct nlmsghdr *make_msg(void *buf, uint8_t cmd, const void *attrs,
				 size_t len)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *genl;

	nlh->nlmsg_type = FAMILY;
	nlh->nlmsg_flags = NLM_F_MULTI;
	nlh->nlmsg_seq = SEQ;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = VIPLB_GENL_VERSION;
	memcpy((char *)nlh + nlh->nlmsg_len, attrs, len);
	nlh->nlmsg_len += len;
	return nlh;
}

/*
 * The messages of the payload, to cb until it fails, as nl_request()
 * stops calling back after an error.  Returns cb's first error, or 0.
 */
static int each_msg(struct fuzz_in *in, uint8_t cmd, nl_data_cb cb, void *data)
{
	static uint32_t buf[(MAX_INPUT + 64) / 4];
	static uint8_t attrs[65536];
	size_t len;
	int ret;

	while (in->left) {
		len = fin_u16(in);
		if (len > in->left)
			len = in->left;
		fin_bytes(in, attrs, len);
		ret = cb(make_msg(buf, cmd, attrs, len), data);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static void svc_dump(struct fuzz_in *in, uint8_t opts)
{
	struct lb_service_list list;

	memset(&list, 0, sizeof(list));
	if (!each_msg(in, VIPLB_CMD_SERVICE_GET, service_parse_msg, &list)) {
		print_services(&list, opts);
		save_restore_services(&list);
	}
	free_services(&list);
}

static void lookup(struct fuzz_in *in, uint8_t opts)
{
	static uint32_t buf[(MAX_INPUT + 64) / 4];
	struct lookup_reply r;
	static uint8_t attrs[MAX_INPUT];
	size_t len = in->left;

	memset(&r, 0, sizeof(r));
	fin_bytes(in, attrs, len);
	if (lookup_parse_msg(make_msg(buf, VIPLB_CMD_SERVICE_LOOKUP, attrs, len),
			    &r))
		return;
	if (r.got)
		print_lookups(&r, opts);
}

/* Tables */

static void print_table(struct rt_table *t, uint8_t opts)
{
	unsigned int fmt = OPT_FMT(opts);
	struct rt_text tx;
	struct mem_out m;
	size_t *order, i, j, n;
	struct rt_chain *c;

	order = rt_chain_order(t);
	if (!order)
		return;

	mem_open(&m);
	rt_print_save(m.fp, t, false);
	rt_print_save(m.fp, t, true);
	rt_print_rules(m.fp, t, NULL, 0, opts & OPT_STATS);
	rt_print_list(m.fp, t, NULL, 0, fmt);
	rt_print_list(m.fp, t, NULL, 0, fmt ^ 0xf);
	n = 0;
	for (i = 0; i < t->nr_chains && i < MAX_PRINT_CHAINS; i++) {
		c = &t->chains[order[i]];
		rt_print_rules(m.fp, t, c, 0, opts & OPT_STATS);
		rt_print_list(m.fp, t, c, 0, fmt);
		rt_print_rules(m.fp, t, c, c->nr_rules, true);
		rt_print_list(m.fp, t, c, c->nr_rules + 1, fmt);
		for (j = 0; j < c->nr_rules && n < MAX_PRINT_RULES; j++, n++) {
			rt_print_rules(m.fp, t, c, j + 1, false);
			rt_print_list(m.fp, t, c, j + 1, fmt ^ RT_FMT_NUMERIC);
			rt_print_rule_verbose(m.fp, t, &c->rules[j]);
			rt_text_rule(&tx, t, c, &c->rules[j], true);
			/* A cut rule would not restore. */
			if (tx.len != strlen(tx.s) ||
			    tx.len >= sizeof(tx.s) - 1)
				fuzz_fail("rt_text_rule: length %zu for `%s'",
					  tx.len, tx.s);
		}
	}
	mem_close(&m);

	mem_open(&m);
	print_init(m.fp, true, opts & OPT_PRETTY);
	rt_print_json(t, NULL, 0);
	check_json("rt_print_json", &m);
	mem_close(&m);
	for (i = 0; i < t->nr_chains && i < MAX_PRINT_CHAINS; i++) {
		mem_open(&m);
		print_init(m.fp, true, opts & OPT_PRETTY);
		rt_print_json(t, &t->chains[order[i]], i);
		check_json("rt_print_json of a chain", &m);
		mem_close(&m);
	}
	free(order);
}

/* Write the state file and read it as viplb-tables --offline. */
static int read_state(const char *text, size_t len, uint16_t af, uint32_t id,
		      struct rt_table *t)
{
	if (ftruncate(state_fd, 0) ||
	    (len && pwrite(state_fd, text, len, 0) != (ssize_t)len))
		fuzz_fail("writing the state file failed");
	return rt_read_state("viplb-tables", state_path, af, id, t);
}

/* A blank or a double quote: viplb-restore splits or quotes there. */
static bool unsafe_word(const char *s)
{
	return strpbrk(s, "\" \t\n\r\v\f") != NULL;
}

/*
 * Finding 2 (README.md): rt_print_save() writes chain and interface names
 * as they are, so a name with a blank or a double quote, which the parser
 * accepts, does not read back.  Such tables are skipped so that fuzzing
 * goes on, unless VIPLB_FUZZ_ALL is set.
 */
static bool known_unsafe_names(const struct rt_table *t)
{
	const struct viplb_rule_spec *s;
	size_t i, j;

	for (i = 0; i < t->nr_chains; i++) {
		if (unsafe_word(t->chains[i].name))
			return true;
		for (j = 0; j < t->chains[i].nr_rules; j++) {
			s = &t->chains[i].rules[j].spec;
			if (((s->match & VIPLB_M_IIF) && unsafe_word(s->iif)) ||
			    ((s->match & VIPLB_M_OIF) && unsafe_word(s->oif)))
				return true;
		}
	}
	return false;
}

/* The save output of a parsed table must read back to itself. */
static void save_round_trip(const struct rt_table *t)
{
	struct mem_out m1, m2;
	struct rt_table t2;

	if (!fuzz_all() && known_unsafe_names(t))
		return;
	mem_open(&m1);
	rt_print_save(m1.fp, t, true);
	mem_text(&m1);
	if (read_state(m1.buf, m1.len, t->af, t->id, &t2))
		fuzz_fail("the save output does not restore (%s):\n%s",
			  rt_error(), m1.buf);
	mem_open(&m2);
	rt_print_save(m2.fp, &t2, true);
	mem_text(&m2);
	if (m1.len != m2.len || memcmp(m1.buf, m2.buf, m1.len))
		fuzz_fail("save, restore, save differs:\n%s---\n%s", m1.buf,
			  m2.buf);
	rt_table_free(&t2);
	mem_close(&m1);
	mem_close(&m2);
}

static void table_key(uint8_t opts, uint16_t *af, uint32_t *id)
{
	*af = opts & OPT_V6 ? AF_INET6 : AF_INET;
	*id = opts & OPT_NAT ? VIPLB_RTABLE_NAT : VIPLB_RTABLE_FILTER;
}

static void rules_dump(struct fuzz_in *in, uint8_t opts)
{
	struct rt_dump_state d = { 0 };
	struct rt_table t;
	uint16_t af;
	uint32_t id;
	int ret;

	table_key(opts, &af, &id);
	if (rt_table_init(&t, af, id))
		return;
	d.t = &t;
	ret = each_msg(in, VIPLB_CMD_RULES_GET, rt_dump_msg, &d);
	/* rt_dump_table() refuses bad dumps, and retries changed ones. */
	if (!ret && !d.bad && !d.gen_changed)
		print_table(&t, opts);
	rt_table_free(&t);
}

static void rules_save(struct fuzz_in *in, uint8_t opts)
{
	struct rt_table t;
	uint16_t af;
	uint32_t id;

	table_key(opts, &af, &id);
	if (read_state((const char *)in->p, in->left, af, id, &t))
		return;
	print_table(&t, opts);
	save_round_trip(&t);
	rt_table_free(&t);
}

static void rules_cmds(struct fuzz_in *in, uint8_t opts)
{
	struct rt_parse_env env = { 0 };
	char *buf, *line, *nl, *argv[257], *p;
	struct rt_table t;
	struct rt_cmd cmd;
	int argc;

	table_key(opts, &env.af, &env.table);
	if (rt_table_init(&t, env.af, env.table))
		return;
	buf = malloc(in->left + 1);
	if (!buf) {
		rt_table_free(&t);
		return;
	}
	memcpy(buf, in->p, in->left);
	buf[in->left] = '\0';
	for (line = buf; line < buf + in->left; line = nl + 1) {
		nl = memchr(line, '\n', buf + in->left - line);
		if (!nl)
			nl = buf + in->left;
		*nl = '\0';
		argc = 0;
		for (p = line; argc < 256;) {
			while (*p == ' ' || *p == '\t')
				p++;
			if (!*p)
				break;
			argv[argc++] = p;
			while (*p && *p != ' ' && *p != '\t')
				p++;
			if (*p)
				*p++ = '\0';
			if (!strcmp(argv[argc - 1], "''"))
				argv[argc - 1][0] = '\0';
		}
		argv[argc] = NULL;
		/* One table: its family and name stay. */
		if (!rt_parse_args(argc, argv, &env, &cmd) && cmd.af == t.af &&
		    cmd.table == t.id)
			rt_apply(&t, &cmd, false);
		rt_cmd_free(&cmd);
	}
	free(buf);
	rt_update_refs(&t);
	print_table(&t, opts);
	save_round_trip(&t);
	rt_table_free(&t);
}

/* A C string of at most max - 1 bytes from the input. */
static void fin_string(struct fuzz_in *in, char *s, size_t max)
{
	size_t len = fin_u8(in) % max;

	fin_bytes(in, s, len);
	s[len] = '\0';
}

static void rule_spec(struct fuzz_in *in, uint8_t opts)
{
	char comment[VIPLB_COMMENT_MAX];
	struct rt_table t;
	struct rt_chain *c;
	struct rt_rule r;
	uint16_t af;
	uint32_t id;
	int i;

	table_key(opts, &af, &id);
	if (rt_table_init(&t, af, id))
		return;
	for (i = 0; i < MAX_SPEC_RULES && in->left; i++) {
		memset(&r, 0, sizeof(r));
		fin_bytes(in, &r.spec, sizeof(r.spec));
		fin_string(in, r.target, sizeof(r.target));
		fin_string(in, comment, sizeof(comment));
		if (comment[0] || fin_u8(in) & 1)
			r.comment = comment;
		r.order_len = fin_u8(in) % (VIPLB_MATCH_ORDER_MAX + 1);
		fin_bytes(in, r.order, r.order_len);
		r.handle = fin_counter(in);
		r.has_handle = true;
		r.pkts = fin_counter(in);
		r.bytes = fin_counter(in);
		if (rt_check_spec(af, &r))
			continue;
		/* A jump target exists in a dump: a user chain of that name. */
		if (r.target[0] && !rt_find_chain(&t, r.target) &&
		    rt_builtin_hook(id, r.target) == RT_USER_CHAIN &&
		    !rt_add_chain(&t, r.target))
			break;
		c = &t.chains[fin_u8(in) % t.nr_chains];
		if (rt_insert_rule(
			    c, c->nr_rules ? fin_u8(in) % c->nr_rules : 0, &r))
			break;
	}
	rt_update_refs(&t);
	print_table(&t, opts);
	rt_table_free(&t);
}

/* Raw structs */

static uint16_t fin_af(struct fuzz_in *in)
{
	uint8_t sel = fin_u8(in);

	switch (sel & 7) {
	case 0:
	case 1:
	case 2:
		return AF_INET;
	case 3:
	case 4:
		return AF_INET6;
	case 5:
		return sel >> 3;
	}
	return fin_u16(in);
}

static void fin_stats(struct fuzz_in *in, struct lb_stats *st)
{
	st->conns = fin_counter(in);
	st->pkts_in = fin_counter(in);
	st->pkts_out = fin_counter(in);
	st->bytes_in = fin_counter(in);
	st->bytes_out = fin_counter(in);
	st->active = fin_counter(in);
	st->rejected = fin_counter(in);
	st->untracked = fin_counter(in);
	st->cps = fin_counter(in);
	st->pps_in = fin_counter(in);
	st->pps_out = fin_counter(in);
	st->bps_in = fin_counter(in);
	st->bps_out = fin_counter(in);
}

static void fin_key(struct fuzz_in *in, struct svc_key *k)
{
	k->af = fin_af(in);
	k->proto = fin_u8(in);
	fin_bytes(in, &k->addr, sizeof(k->addr));
	k->port = fin_u16(in);
}

static void structs(struct fuzz_in *in, uint8_t opts)
{
	struct lb_backend backends[MAX_SVCS][MAX_BACKENDS];
	struct lb_service svcs[MAX_SVCS];
	struct lb_service_list list = { .svcs = svcs };
	struct lookup_reply r;
	struct lb_service *s;
	struct lb_backend *be;
	size_t i, j;

	memset(svcs, 0, sizeof(svcs));
	memset(backends, 0, sizeof(backends));
	list.nr = fin_u8(in) % (MAX_SVCS + 1);
	for (i = 0; i < list.nr; i++) {
		s = &svcs[i];
		fin_key(in, &s->key);
		s->sched = fin_enum(in);
		s->mode = fin_enum(in);
		s->table_size = fin_enum(in);
		s->flags = fin_enum(in);
		fin_stats(in, &s->stats);
		s->backends = backends[i];
		s->nr_backends = fin_u8(in) % (MAX_BACKENDS + 1);
		for (j = 0; j < s->nr_backends; j++) {
			be = &backends[i][j];
			fin_bytes(in, &be->key.addr, sizeof(be->key.addr));
			be->key.port = fin_u16(in);
			be->weight = fin_enum(in);
			be->flags = fin_enum(in);
			fin_stats(in, &be->stats);
		}
	}
	print_services(&list, opts);

	memset(&r, 0, sizeof(r));
	r.got = true;
	fin_key(in, &r.key);
	fin_bytes(in, &r.src.addr, sizeof(r.src.addr));
	r.src.port = fin_u16(in);
	r.dport = fin_u16(in);
	r.pin = fin_enum(in);
	r.has_backend = fin_u8(in) & 1;
	fin_bytes(in, &r.be.key.addr, sizeof(r.be.key.addr));
	r.be.key.port = fin_u16(in);
	r.be.weight = fin_enum(in);
	r.be.flags = fin_enum(in);
	fin_stats(in, &r.be.stats);
	print_lookups(&r, opts);
}

/* The receive loop */

static void datagram(struct fuzz_in *in, uint8_t opts)
{
	static uint32_t buf[MAX_INPUT / 4 + 1];
	struct lb_service_list list;
	struct rt_dump_state d = { 0 };
	struct lookup_reply r;
	struct nl_error err;
	struct rt_table t;
	uint16_t af;
	uint32_t id;
	size_t len = in->left;
	bool intr;
	int ret;

	/* Aligned, as the socket's receive buffer is. */
	fin_bytes(in, buf, len);
	memset(&err, 0, sizeof(err));
	switch (opts >> 4 & 3) {
	case 0:
		memset(&list, 0, sizeof(list));
		ret = nl_parse_replies(buf, len, SEQ, FAMILY, true,
				       service_parse_msg, &list, &err, &intr);
		if (!ret && !intr) {
			print_services(&list, opts);
			save_restore_services(&list);
		}
		free_services(&list);
		break;
	case 1:
		memset(&r, 0, sizeof(r));
		ret = nl_parse_replies(buf, len, SEQ, FAMILY, false,
				       lookup_parse_msg, &r, &err, NULL);
		if (!ret && r.got)
			print_lookups(&r, opts);
		break;
	default:
		table_key(opts, &af, &id);
		if (rt_table_init(&t, af, id))
			return;
		d.t = &t;
		ret = nl_parse_replies(buf, len, SEQ, FAMILY, true,
				       rt_dump_msg, &d, &err, &intr);
		if (!ret && !intr && !d.bad && !d.gen_changed)
			print_table(&t, opts);
		rt_table_free(&t);
		break;
	}
	if (ret < 0) {
		nl_report("fuzz", &err);
		rt_report_nl("viplb-tables", 0, "fuzz", &err);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { .p = data, .left = size };
	uint8_t mode, opts;

	if (size < 2 || size > MAX_INPUT)
		return 0;
	mode = fin_u8(&in) % NR_MODES;
	opts = fin_u8(&in);
	switch (mode) {
	case M_SVC_DUMP:
		svc_dump(&in, opts);
		break;
	case M_LOOKUP:
		lookup(&in, opts);
		break;
	case M_DATAGRAM:
		datagram(&in, opts);
		break;
	case M_STRUCTS:
		structs(&in, opts);
		break;
	case M_RULES_DUMP:
		rules_dump(&in, opts);
		break;
	case M_RULES_SAVE:
		rules_save(&in, opts);
		break;
	case M_RULES_CMDS:
		rules_cmds(&in, opts);
		break;
	case M_RULE_SPEC:
		rule_spec(&in, opts);
		break;
	}
	return 0;
}
