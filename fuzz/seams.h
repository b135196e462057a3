/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The static reply parsers of the user tools, reached by print_fuzz.c
 * through seam_*.c: each of those files #includes one source file of
 * user/ whole and wraps its static functions, and replaces that file's
 * object in the print_fuzz link (see the Makefile).  Nothing in user/ is
 * changed.  Once user/ exports these entry points itself (README.md has
 * the proposal), the seams go and print_fuzz.c calls them directly.
 */
#ifndef VIPLB_FUZZ_SEAMS_H
#define VIPLB_FUZZ_SEAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libmnl/libmnl.h>

#include "nl.h"
#include "service.h"
#include "tables.h"

/* seam_service.c: service_cb() and lookup_cb() of user/lib/service.c. */
int fuzz_service_msg(const struct nlmsghdr *nlh, void *list);
int fuzz_lookup_msg(const struct nlmsghdr *nlh, void *reply);

/* seam_rules.c: dump_cb() of user/tables/nl.c, with its state. */
struct fuzz_rules_dump;
struct fuzz_rules_dump *fuzz_rules_dump_new(struct rt_table *t);
int fuzz_rules_dump_msg(const struct nlmsghdr *nlh, void *dump);
/* Whether the dump was bad (EBADMSG) or changed generation. */
bool fuzz_rules_dump_bad(const struct fuzz_rules_dump *d);
bool fuzz_rules_dump_gen_changed(const struct fuzz_rules_dump *d);
void fuzz_rules_dump_free(struct fuzz_rules_dump *d);

/*
 * seam_nl.c: the receive loop of user/lib/nl.c (receive() and
 * handle_msg()) on one datagram of len bytes instead of recvmsg():
 * replies to sequence number seq of message type type go to cb.  dump:
 * a dump request (ends with NLMSG_DONE).  Returns what nl_request()
 * would (0, or -1 with *err set), or 1 if the datagram did not end the
 * request, or 2 if it was skipped (a known bug, see seam_nl.c); *intr as
 * nl_request().
 */
int fuzz_nl_receive(const void *buf, size_t len, uint32_t seq, uint16_t type,
		    bool dump, nl_data_cb cb, void *data, struct nl_error *err,
		    bool *intr);

#endif /* VIPLB_FUZZ_SEAMS_H */
