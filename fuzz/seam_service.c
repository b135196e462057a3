// SPDX-License-Identifier: GPL-2.0
/*
 * Seam: user/lib/service.c whole, for its static reply parsers.  See
 * seams.h.  The proposed export is
 *
 *	int service_parse_msg(const struct nlmsghdr *nlh,
 *			      struct lb_service_list *list);
 *	int lookup_parse_msg(const struct nlmsghdr *nlh,
 *			     struct lookup_reply *r);
 *
 * in service.h: service_cb() and lookup_cb() renamed, without static.
 */
#include "../user/lib/service.c"

#include "seams.h"

int fuzz_service_msg(const struct nlmsghdr *nlh, void *list)
{
	return service_cb(nlh, list);
}

int fuzz_lookup_msg(const struct nlmsghdr *nlh, void *reply)
{
	return lookup_cb(nlh, reply);
}
