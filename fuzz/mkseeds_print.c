// SPDX-License-Identifier: GPL-2.0
/*
 * The binary seeds of print_fuzz (modes 0..4 and 7, see print_fuzz.c):
 * kernel replies as the module builds them, written to DIR (corpus/print
 * by `make seeds`).  Rules dumps are made from the tables of the host
 * tests' restore files, read with rt_read_state().
 *
 * Usage: mkseeds_print DIR TOP
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <libmnl/libmnl.h>

#include <linux/viplb.h>

#include "tables.h"

#define FAMILY 0x1c
#define SEQ 1
#define BUF_SIZE (64 * 1024)

static const char *dir;
static int nr_seeds;

static void put_seed(const char *name, uint8_t mode, uint8_t opts,
		     const void *payload, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputc(mode, f);
	fputc(opts, f);
	fwrite(payload, 1, len, f);
	fclose(f);
	nr_seeds++;
}

/* A sequence of "16-bit length, attributes" records, as each_msg() reads. */
struct records {
	uint8_t buf[BUF_SIZE];
	size_t len;
};

/* The attributes of the message being built, after the genl header. */
static struct nlmsghdr *msg_begin(void *buf, uint8_t cmd, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *genl;

	nlh->nlmsg_type = FAMILY;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = SEQ;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = VIPLB_GENL_VERSION;
	return nlh;
}

static void record_add(struct records *r, const struct nlmsghdr *nlh)
{
	size_t off = NLMSG_HDRLEN + GENL_HDRLEN;
	uint16_t len = nlh->nlmsg_len - off;

	memcpy(r->buf + r->len, &len, 2);
	memcpy(r->buf + r->len + 2, (const char *)nlh + off, len);
	r->len += 2 + len;
}

/* Services */

static void put_stats(struct nlmsghdr *nlh, uint16_t type, uint64_t base)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, type);
	uint16_t t;

	for (t = VIPLB_STATS_A_CONNS; t <= VIPLB_STATS_A_MAX; t++)
		mnl_attr_put_u64(nlh, t, base * t);
	mnl_attr_nest_end(nlh, nest);
}

static void put_key(struct nlmsghdr *nlh, uint16_t af, uint8_t proto,
		    const char *addr, uint16_t port)
{
	unsigned char a[16];

	inet_pton(af, addr, a);
	mnl_attr_put_u16(nlh, VIPLB_SVC_A_AF, af);
	mnl_attr_put_u8(nlh, VIPLB_SVC_A_PROTO, proto);
	mnl_attr_put(nlh, VIPLB_SVC_A_ADDR, af == AF_INET ? 4 : 16, a);
	mnl_attr_put_u16(nlh, VIPLB_SVC_A_PORT, htons(port));
}

static void put_backend(struct nlmsghdr *nlh, uint16_t type, uint16_t af,
			const char *addr, uint16_t port, uint32_t weight,
			bool stats)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, type);
	unsigned char a[16];

	inet_pton(af, addr, a);
	mnl_attr_put(nlh, VIPLB_BE_A_ADDR, af == AF_INET ? 4 : 16, a);
	mnl_attr_put_u16(nlh, VIPLB_BE_A_PORT, htons(port));
	mnl_attr_put_u32(nlh, VIPLB_BE_A_WEIGHT, weight);
	mnl_attr_put_u32(nlh, VIPLB_BE_A_FLAGS, 0);
	if (stats)
		put_stats(nlh, VIPLB_BE_A_STATS, 1000003);
	mnl_attr_nest_end(nlh, nest);
}

/* One service message, with backends [first, first + n). */
static struct nlmsghdr *svc_msg(void *buf, uint16_t af, uint8_t proto,
				const char *vip, uint16_t port, uint32_t sched,
				uint32_t mode, uint32_t size, uint32_t flags,
				const char *const *bes, int first, int n)
{
	struct nlmsghdr *nlh =
		msg_begin(buf, VIPLB_CMD_SERVICE_GET, NLM_F_MULTI);
	struct nlattr *nest = mnl_attr_nest_start(nlh, VIPLB_A_SERVICE);
	int i;

	put_key(nlh, af, proto, vip, port);
	mnl_attr_put_u32(nlh, VIPLB_SVC_A_SCHED, sched);
	mnl_attr_put_u32(nlh, VIPLB_SVC_A_MODE, mode);
	mnl_attr_put_u32(nlh, VIPLB_SVC_A_TABLE_SIZE, size);
	mnl_attr_put_u32(nlh, VIPLB_SVC_A_FLAGS, flags);
	put_stats(nlh, VIPLB_SVC_A_STATS, 99991);
	for (i = first; i < first + n; i++)
		put_backend(nlh, VIPLB_SVC_A_BACKEND, af, bes[i], 8080 + i,
			    i + 1, i & 1);
	mnl_attr_nest_end(nlh, nest);
	return nlh;
}

static const char *const be4[] = { "198.51.100.1", "198.51.100.2",
				   "198.51.100.3", "198.51.100.4" };
static const char *const be6[] = { "2001:db8:1::1", "2001:db8:1::2",
				   "::ffff:192.0.2.1", "fe80::1" };

static struct nlmsghdr *lookup_msg(void *buf, uint16_t af, const char *vip,
				   uint16_t port, const char *src,
				   uint16_t dport, uint32_t pin, const char *be)
{
	struct nlmsghdr *nlh = msg_begin(buf, VIPLB_CMD_SERVICE_LOOKUP, 0);
	struct nlattr *nest;
	unsigned char a[16];

	nest = mnl_attr_nest_start(nlh, VIPLB_A_SERVICE);
	put_key(nlh, af, IPPROTO_UDP, vip, port);
	mnl_attr_nest_end(nlh, nest);
	nest = mnl_attr_nest_start(nlh, VIPLB_A_LOOKUP);
	inet_pton(af, src, a);
	mnl_attr_put(nlh, VIPLB_LOOKUP_A_SRC_ADDR, af == AF_INET ? 4 : 16, a);
	mnl_attr_put_u16(nlh, VIPLB_LOOKUP_A_SRC_PORT, htons(40000));
	if (dport)
		mnl_attr_put_u16(nlh, VIPLB_LOOKUP_A_DST_PORT, htons(dport));
	mnl_attr_put_u32(nlh, VIPLB_LOOKUP_A_PIN, pin);
	mnl_attr_nest_end(nlh, nest);
	if (be)
		put_backend(nlh, VIPLB_A_BACKEND, af, be, 53, 7, false);
	return nlh;
}

static void put_msg_payload(const char *name, uint8_t mode, uint8_t opts,
			    const struct nlmsghdr *nlh)
{
	size_t off = NLMSG_HDRLEN + GENL_HDRLEN;

	put_seed(name, mode, opts, (const char *)nlh + off,
		 nlh->nlmsg_len - off);
}

/* Datagrams: messages one after the other, aligned. */
struct dgram {
	uint8_t buf[BUF_SIZE];
	size_t len;
};

static void dgram_add(struct dgram *d, const struct nlmsghdr *nlh)
{
	memcpy(d->buf + d->len, nlh, nlh->nlmsg_len);
	d->len += MNL_ALIGN(nlh->nlmsg_len);
}

static void dgram_done(struct dgram *d, int error, const char *ext)
{
	uint8_t buf[512];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_flags = NLM_F_MULTI | (ext ? NLM_F_ACK_TLVS : 0);
	nlh->nlmsg_seq = SEQ;
	memcpy(mnl_nlmsg_put_extra_header(nlh, sizeof(error)), &error,
	       sizeof(error));
	if (ext)
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, ext);
	dgram_add(d, nlh);
}

static void dgram_error(struct dgram *d, int error, bool capped,
			const char *ext, bool miss)
{
	uint8_t buf[512];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nlmsgerr *e;

	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_flags = (capped ? NLM_F_CAPPED : 0) |
			   (ext || miss ? NLM_F_ACK_TLVS : 0);
	nlh->nlmsg_seq = SEQ;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = error;
	e->msg.nlmsg_len = sizeof(e->msg);
	e->msg.nlmsg_seq = SEQ;
	if (!capped) {
		/* The request's payload echoed: a genl header. */
		e->msg.nlmsg_len += GENL_HDRLEN;
		mnl_nlmsg_put_extra_header(nlh, GENL_HDRLEN);
	}
	if (ext)
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, ext);
	if (miss)
		mnl_attr_put_u32(nlh, NLMSGERR_ATTR_MISS_TYPE,
				 VIPLB_SVC_A_ADDR);
	dgram_add(d, nlh);
}

static void services(void)
{
	static struct records r;
	static struct dgram d;
	static uint32_t buf[BUF_SIZE / 4];
	struct nlmsghdr *nlh;

	/* One IPv4 service, backends across two messages. */
	r.len = 0;
	record_add(&r, svc_msg(buf, AF_INET, IPPROTO_TCP, "192.0.2.10", 80,
			       VIPLB_SCHED_MAGLEV, VIPLB_MODE_NAT, 65537,
			       VIPLB_SVC_F_SNAT, be4, 0, 2));
	record_add(&r, svc_msg(buf, AF_INET, IPPROTO_TCP, "192.0.2.10", 80,
			       VIPLB_SCHED_MAGLEV, VIPLB_MODE_NAT, 65537,
			       VIPLB_SVC_F_SNAT, be4, 2, 2));
	record_add(&r,
		   svc_msg(buf, AF_INET6, IPPROTO_UDP, "2001:db8::10", 0,
			   VIPLB_SCHED_SH, VIPLB_MODE_TUN, 251, 0, be6, 0, 4));
	put_seed("svc-dump", 0, 0x02, r.buf, r.len);
	put_seed("svc-dump-pretty", 0, 0x01, r.buf, r.len);
	r.len = 0;
	record_add(&r, svc_msg(buf, AF_INET, IPPROTO_UDP, "0.0.0.0", 0,
			       VIPLB_SCHED_MAX + 1, VIPLB_MODE_MAX + 1, 4,
			       0x80000001, be4, 0, 1));
	put_seed("svc-dump-unknown", 0, 0x03, r.buf, r.len);
	r.len = 0;
	record_add(&r, svc_msg(buf, AF_INET, IPPROTO_TCP, "192.0.2.11", 443,
			       VIPLB_SCHED_RR, VIPLB_MODE_DR, 131071, 0, be4, 0,
			       0));
	put_seed("svc-dump-empty", 0, 0x00, r.buf, r.len);

	put_msg_payload("lookup4", 1, 0x00,
			lookup_msg(buf, AF_INET, "192.0.2.10", 80,
				   "203.0.113.5", 0, VIPLB_PIN_FLOW,
				   "198.51.100.1"));
	put_msg_payload("lookup6", 1, 0x01,
			lookup_msg(buf, AF_INET6, "2001:db8::10", 0,
				   "2001:db8::5", 53, VIPLB_PIN_CONNTRACK,
				   "2001:db8:1::11"));
	put_msg_payload("lookup-none", 1, 0x00,
			lookup_msg(buf, AF_INET, "192.0.2.10", 80,
				   "203.0.113.5", 0, VIPLB_PIN_MAX + 1, NULL));

	/* Datagrams: a dump and its end, a lookup and its ACK, errors. */
	d.len = 0;
	dgram_add(&d, svc_msg(buf, AF_INET, IPPROTO_TCP, "192.0.2.10", 80,
			      VIPLB_SCHED_WRR, VIPLB_MODE_NAT, 65537, 0, be4, 0,
			      3));
	dgram_done(&d, 0, NULL);
	put_seed("dgram-dump", 2, 0x00, d.buf, d.len);
	d.len = 0;
	dgram_add(&d, svc_msg(buf, AF_INET, IPPROTO_TCP, "192.0.2.10", 80,
			      VIPLB_SCHED_WRR, VIPLB_MODE_NAT, 65537, 0, be4, 0,
			      1));
	dgram_done(&d, -ENOENT, "service not found");
	put_seed("dgram-dump-err", 2, 0x00, d.buf, d.len);
	d.len = 0;
	nlh = lookup_msg(buf, AF_INET, "192.0.2.10", 80, "203.0.113.5", 0,
			 VIPLB_PIN_NONE, "198.51.100.2");
	dgram_add(&d, nlh);
	dgram_error(&d, 0, true, NULL, false);
	put_seed("dgram-lookup", 2, 0x10, d.buf, d.len);
	d.len = 0;
	dgram_error(&d, -EINVAL, false, "bad attribute", false);
	put_seed("dgram-error-ext", 2, 0x10, d.buf, d.len);
	d.len = 0;
	dgram_error(&d, -EINVAL, true, NULL, true);
	put_seed("dgram-error-miss", 2, 0x10, d.buf, d.len);
	d.len = 0;
	dgram_error(&d, 0, true, "warning: something", false);
	put_seed("dgram-ack-warning", 2, 0x10, d.buf, d.len);
}

/* Rules dumps */

static void put_rules_key(struct nlmsghdr *nlh, const struct rt_table *t)
{
	mnl_attr_put_u16(nlh, VIPLB_RULES_A_AF, t->af);
	mnl_attr_put_u32(nlh, VIPLB_RULES_A_TABLE, t->id);
	mnl_attr_put_u32(nlh, VIPLB_RULES_A_GEN, 7);
}

static void chain_msg(void *buf, const struct rt_table *t,
		      const struct rt_chain *c)
{
	struct nlmsghdr *nlh = msg_begin(buf, VIPLB_CMD_RULES_GET, NLM_F_MULTI);
	struct nlattr *nest = mnl_attr_nest_start(nlh, VIPLB_A_RULES);

	put_rules_key(nlh, t);
	mnl_attr_put_strz(nlh, VIPLB_RULES_A_CHAIN, c->name);
	if (c->hook != RT_USER_CHAIN) {
		mnl_attr_put_u32(nlh, VIPLB_RULES_A_POLICY, c->policy);
		mnl_attr_put_u64(nlh, VIPLB_RULES_A_PKTS, c->pkts);
		mnl_attr_put_u64(nlh, VIPLB_RULES_A_BYTES, c->bytes);
	} else {
		mnl_attr_put_u32(nlh, VIPLB_RULES_A_REFS, c->refs);
	}
	mnl_attr_nest_end(nlh, nest);
}

static void rule_msg(void *buf, const struct rt_table *t,
		     const struct rt_chain *c, const struct rt_rule *r,
		     uint64_t handle)
{
	struct nlmsghdr *nlh = msg_begin(buf, VIPLB_CMD_RULES_GET, NLM_F_MULTI);
	struct nlattr *nest = mnl_attr_nest_start(nlh, VIPLB_A_RULES);

	put_rules_key(nlh, t);
	mnl_attr_put_strz(nlh, VIPLB_RULES_A_CHAIN, c->name);
	mnl_attr_put(nlh, VIPLB_RULES_A_SPEC, sizeof(r->spec), &r->spec);
	if (r->target[0])
		mnl_attr_put_strz(nlh, VIPLB_RULES_A_TARGET, r->target);
	if (r->comment)
		mnl_attr_put_strz(nlh, VIPLB_RULES_A_COMMENT, r->comment);
	if (r->order_len)
		mnl_attr_put(nlh, VIPLB_RULES_A_MATCH_ORDER, r->order_len,
			     r->order);
	mnl_attr_put_u64(nlh, VIPLB_RULES_A_HANDLE, handle);
	mnl_attr_put_u64(nlh, VIPLB_RULES_A_PKTS, r->pkts);
	mnl_attr_put_u64(nlh, VIPLB_RULES_A_BYTES, r->bytes);
	mnl_attr_nest_end(nlh, nest);
}

/* The RULE_SPEC mode's record of one rule (see rule_spec()). */
static size_t spec_record(uint8_t *out, const struct rt_rule *r, uint8_t sel)
{
	size_t n = 0, len;

	memcpy(out, &r->spec, sizeof(r->spec));
	n += sizeof(r->spec);
	len = strlen(r->target);
	out[n++] = len;
	memcpy(out + n, r->target, len);
	n += len;
	len = r->comment ? strlen(r->comment) : 0;
	out[n++] = len;
	memcpy(out + n, r->comment ? r->comment : "", len);
	n += len;
	if (!len)
		out[n++] = r->comment ? 1 : 0;
	out[n++] = r->order_len;
	memcpy(out + n, r->order, r->order_len);
	n += r->order_len;
	/* handle, pkts, bytes: fin_counter() selectors 1 (u16), 0, 0. */
	out[n++] = 1;
	out[n++] = 1;
	out[n++] = 0;
	out[n++] = 0;
	out[n++] = 0;
	/* Chain and position. */
	out[n++] = sel;
	out[n++] = 0;
	return n;
}

static void rules(const char *top, const char *file, uint16_t af, uint32_t id,
		  const char *name)
{
	static struct records r;
	static struct dgram d;
	static uint8_t spec[BUF_SIZE];
	static uint32_t buf[BUF_SIZE / 4];
	char path[512], seed[128];
	uint8_t opts = (af == AF_INET6 ? 0x04 : 0) |
		       (id == VIPLB_RTABLE_NAT ? 0x08 : 0);
	struct rt_table t;
	size_t *order, i, j, n_spec = 0, n_rules = 0;
	uint64_t handle = 1;

	snprintf(path, sizeof(path), "%s/selftests/host/tables/%s", top, file);
	if (rt_read_state("mkseeds", path, af, id, &t)) {
		fprintf(stderr, "mkseeds: %s: %s\n", path, rt_error());
		exit(1);
	}
	order = rt_chain_order(&t);
	r.len = 0;
	d.len = 0;
	for (i = 0; i < t.nr_chains; i++) {
		const struct rt_chain *c = &t.chains[order[i]];

		chain_msg(buf, &t, c);
		record_add(&r, (struct nlmsghdr *)buf);
		dgram_add(&d, (struct nlmsghdr *)buf);
		for (j = 0; j < c->nr_rules; j++) {
			rule_msg(buf, &t, c, &c->rules[j], handle++);
			/* Keep seeds small: 40 rules at most. */
			if (n_rules++ < 40) {
				record_add(&r, (struct nlmsghdr *)buf);
				dgram_add(&d, (struct nlmsghdr *)buf);
			}
			if (n_spec < 8 * 300 && j % 3 == 0)
				n_spec += spec_record(spec + n_spec,
						      &c->rules[j], order[i]);
		}
	}
	dgram_done(&d, 0, NULL);
	snprintf(seed, sizeof(seed), "rules-dump-%s", name);
	put_seed(seed, 4, opts | 0x02, r.buf, r.len);
	snprintf(seed, sizeof(seed), "rules-dgram-%s", name);
	put_seed(seed, 2, opts | 0x20, d.buf, d.len);
	snprintf(seed, sizeof(seed), "rules-spec-%s", name);
	put_seed(seed, 7, opts | 0x50, spec, n_spec);
	free(order);
	rt_table_free(&t);
}

int main(int argc, char **argv)
{
	const char *top;

	if (argc != 3) {
		fprintf(stderr, "usage: mkseeds_print DIR TOP\n");
		return 2;
	}
	dir = argv[1];
	top = argv[2];
	services();
	rules(top, "rules4.rules", AF_INET, VIPLB_RTABLE_FILTER, "filter4");
	rules(top, "rules4.rules", AF_INET, VIPLB_RTABLE_NAT, "nat4");
	rules(top, "rules6.rules", AF_INET6, VIPLB_RTABLE_FILTER, "filter6");
	rules(top, "rules6.rules", AF_INET6, VIPLB_RTABLE_NAT, "nat6");
	rules(top, "counters4.save", AF_INET, VIPLB_RTABLE_FILTER, "counters4");
	rules(top, "list4.state", AF_INET, VIPLB_RTABLE_FILTER, "list4");
	/* A few raw struct seeds: any bytes make a service. */
	put_seed("structs-a", 3, 0x02, "\x02\x00\x06\x00\x00\x00", 6);
	put_seed("structs-b", 3, 0x03,
		 "\x03\x03\x11\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00"
		 "\x00\x00\x00\x00\x00\x10\x00\x35\x41\x42\x80\xc1\x04",
		 26);
	put_seed("structs-c", 3, 0x00,
		 "\x01\x05\x07\x2a\x2a\x2a\x2a\x2a\x2a\x2a\x2a\x2a\x2a\x2a"
		 "\x2a\x2a\x2a\x2a\x2a\x00\x00\xff\xff\xff\xff\xff\xff\x03"
		 "\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x08",
		 42);
	printf("%d binary seeds in %s\n", nr_seeds, dir);
	return 0;
}
