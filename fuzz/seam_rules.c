// SPDX-License-Identifier: GPL-2.0
/*
 * Seam: user/tables/nl.c whole, for its static dump parser.  See seams.h.
 * The proposed export, in tables.h, is struct dump_state as
 * struct rt_dump_state and
 *
 *	int rt_dump_msg(const struct nlmsghdr *nlh, struct rt_dump_state *st);
 *
 * (dump_cb() renamed, without static), which rt_dump_table() passes to
 * nl_request().
 */
#include "../user/tables/nl.c"

#include "seams.h"

struct fuzz_rules_dump {
	struct dump_state st;
};

struct fuzz_rules_dump *fuzz_rules_dump_new(struct rt_table *t)
{
	struct fuzz_rules_dump *d = calloc(1, sizeof(*d));

	if (d)
		d->st.t = t;
	return d;
}

int fuzz_rules_dump_msg(const struct nlmsghdr *nlh, void *dump)
{
	struct fuzz_rules_dump *d = dump;

	return dump_cb(nlh, &d->st);
}

bool fuzz_rules_dump_bad(const struct fuzz_rules_dump *d)
{
	return d->st.bad;
}

bool fuzz_rules_dump_gen_changed(const struct fuzz_rules_dump *d)
{
	return d->st.gen_changed;
}

void fuzz_rules_dump_free(struct fuzz_rules_dump *d)
{
	free(d);
}
