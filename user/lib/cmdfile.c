// SPDX-License-Identifier: GPL-2.0
/* Command files: the lines of viplb -b and viplb restore.  See cmdfile.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmdfile.h"
#include "errors.h"
#include "util.h"

FILE *cmdfile_open(const char *file)
{
	FILE *f;

	if (!strcmp(file, "-"))
		return stdin;
	f = fopen(file, "r");
	if (!f)
		errmsg("cannot open `%s': %s", quote_arg(file),
		       strerror(errno));
	return f;
}

void cmdfile_close(FILE *f)
{
	if (f != stdin)
		fclose(f);
}

int cmdfile_next(FILE *f, const char *file, char **buf, size_t *cap,
		 unsigned int *lineno, int *argc, char **argv)
{
	ssize_t n;

	for (;;) {
		n = getline(buf, cap, f);
		if (n < 0) {
			if (ferror(f)) {
				errmsg("reading `%s': %s", quote_arg(file),
				       strerror(errno));
				return -1;
			}
			return 0;
		}
		++*lineno;
		if (strlen(*buf) != (size_t)n) {
			cur_line = *lineno;
			errmsg("NUL character in line");
			return -1;
		}
		*argc = tokenize_line(*buf, argv, LINE_MAX_ARGS);
		if (*argc < 0) {
			cur_line = *lineno;
			errmsg("%s", parse_error());
			return -1;
		}
		if (*argc > 0)
			return 1;
	}
}

/* Whether two health lines name the same service and backends. */
static bool same_target(const struct health_check *a,
			const struct health_check *b)
{
	return a->svc.af == b->svc.af && a->svc.proto == b->svc.proto &&
	       a->svc.port == b->svc.port &&
	       !memcmp(&a->svc.addr, &b->svc.addr, addr_len(a->svc.af)) &&
	       a->has_backend == b->has_backend &&
	       (!a->has_backend ||
		(a->backend.port == b->backend.port &&
		 !memcmp(&a->backend.addr, &b->backend.addr,
			 addr_len(a->svc.af))));
}

/* A health line: parsed, checked against the earlier ones, kept. */
static int add_health(int argc, char **argv, unsigned int lineno,
		      struct restore_cmds *r)
{
	struct health_check *hc;
	size_t i;

	if (grow_array(r->checks, r->nr_checks, r->cap_checks, 16)) {
		errmsg("restore: %s", strerror(ENOMEM));
		return -1;
	}
	hc = &r->checks[r->nr_checks];
	cur_line = lineno;
	if (parse_health(argc, argv, hc)) {
		errmsg("%s", parse_error());
		return -1;
	}
	hc->line = lineno;
	for (i = 0; i < r->nr_checks; i++) {
		if (same_target(&r->checks[i], hc)) {
			errmsg("duplicate health line for `%s %s%s%s' (line %u has one)",
			       argv[1], argv[2], hc->has_backend ? " backend " : "",
			       hc->has_backend ? argv[4] : "", r->checks[i].line);
			return -1;
		}
	}
	r->nr_checks++;
	return 0;
}

int restore_parse(FILE *f, const char *file, struct restore_cmds *r)
{
	char *argv[LINE_MAX_ARGS], *buf = NULL;
	unsigned int lineno = 0;
	struct config_cmd *p;
	size_t cap = 0;
	int argc, ret;

	while ((ret = cmdfile_next(f, file, &buf, &cap, &lineno, &argc, argv)) >
	       0) {
		if (!strcmp(argv[0], "health")) {
			if (add_health(argc, argv, lineno, r)) {
				ret = -1;
				break;
			}
			continue;
		}
		if (r->nr == r->cap) {
			r->cap = r->cap ? 2 * r->cap : 1024;
			p = realloc(r->cmds, r->cap * sizeof(*p));
			if (!p) {
				errmsg("restore: %s", strerror(ENOMEM));
				ret = -1;
				break;
			}
			r->cmds = p;
		}
		if (parse_config_cmd(argc, argv, &r->cmds[r->nr])) {
			cur_line = lineno;
			errmsg("%s", parse_error());
			ret = -1;
			break;
		}
		r->cmds[r->nr++].line = lineno;
	}
	free(buf);
	cur_line = 0;
	return ret;
}

void restore_free(struct restore_cmds *r)
{
	free(r->cmds);
	free(r->checks);
	memset(r, 0, sizeof(*r));
}
