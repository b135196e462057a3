// SPDX-License-Identifier: GPL-2.0
/*
 * Printing of services and of lookup answers, in text and JSON, through
 * print.h.  The module and the XDP maps are shown alike.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>

#include <linux/viplb.h>

#include "parse.h"
#include "print.h"
#include "service.h"

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

void print_service(const struct lb_service *svc, bool with_stats,
		   const char *served, bool served_text)
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
	print_uint(PRINT_ANY, "table_size", " table-size %u",
		   service_table_m(svc));
	print_bool(PRINT_ANY, "table_auto", " (auto)", !svc->table_size);
	open_json_array("flags");
	if (svc->flags & VIPLB_SVC_F_SNAT)
		print_string(PRINT_ANY, NULL, " %s", "snat");
	if (unknown) {
		snprintf(num, sizeof(num), "0x%x", unknown);
		print_string(PRINT_ANY, NULL, " flags %s", num);
	}
	close_json_array();
	if (served)
		print_string(served_text ? PRINT_ANY : PRINT_JSON, "served",
			     " served %s", served);
	print_fp("\n");
	print_stats(&svc->stats, with_stats, "\t");
	open_json_array("backends");
	for (i = 0; i < svc->nr_backends; i++)
		print_backend(svc, &svc->backends[i], with_stats);
	close_json_array();
	close_json_object();
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
