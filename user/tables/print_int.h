/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private to the printers of viplb-tables, print.c and print_values.c:
 * nothing else includes it (their API is in tables.h).  The value
 * formatters of print_values.c, named rtpr_*; those named rtpr_tx_*
 * append to a struct rt_text.
 */
#ifndef VIPLB_USER_TABLES_PRINT_INT_H
#define VIPLB_USER_TABLES_PRINT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tables.h"

/* The one-line form of rule commands, not the -L table. */
#define FMT_NOTABLE (1U << 8)

void rtpr_tx_add(struct rt_text *tx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void rtpr_tx_reset(struct rt_text *tx);

/* Names */
const char *rtpr_target_name(const struct rt_rule *r);
const char *rtpr_reject_name(uint16_t af, uint32_t type);
/* The protocol as iptables prints it in format fmt (RT_FMT_*). */
const char *rtpr_proto_name(uint8_t proto, unsigned int fmt, char *buf,
			    size_t len);
/* The protocol of port names: tcp, udp (multiport: udplite, sctp, dccp). */
const char *rtpr_spec_proto_str(const struct viplb_rule_spec *s);
void rtpr_tx_port(struct rt_text *tx, uint16_t port, const char *proto,
		  bool numeric);

/* Addresses */
/* Prefix length of a contiguous mask, or -1. */
int rtpr_mask_len(uint16_t af, const __be32 mask[4]);
void rtpr_tx_addr(struct rt_text *tx, uint16_t af, const __be32 a[4]);
void rtpr_tx_mask(struct rt_text *tx, uint16_t af, const __be32 mask[4],
		  bool host_bare);
void rtpr_list_addr(char *buf, size_t len, uint16_t af, const __be32 a[4],
		    const __be32 mask[4], bool numeric);
void rtpr_tx_nat_range(struct rt_text *tx, uint16_t af,
		       const struct viplb_rule_spec *s);
void rtpr_tx_nat_ports(struct rt_text *tx, const struct viplb_rule_spec *s);

/* Other values */
struct rtpr_bit_name {
	uint32_t bit;
	const char *name;
};

/* The names of the bits set, in the table's order, joined by sep. */
void rtpr_tx_bit_names(struct rt_text *tx, uint32_t bits,
		       const struct rtpr_bit_name *names, size_t n,
		       const char *sep);
void rtpr_tx_tcp_flags(struct rt_text *tx, uint8_t flags);
void rtpr_tx_ctstates(struct rt_text *tx, uint8_t states);
void rtpr_tx_ctstatus(struct rt_text *tx, uint8_t status);
const char *rtpr_mports_kind(uint8_t flags);
void rtpr_tx_mports(struct rt_text *tx, const struct viplb_rule_spec *s,
		    bool numeric);
double rtpr_probability(uint32_t prob);
void rtpr_tx_quoted(struct rt_text *tx, const char *s);

#endif /* VIPLB_USER_TABLES_PRINT_INT_H */
