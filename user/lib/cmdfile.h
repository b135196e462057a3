/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Command files: the lines of viplb -b FILE and of viplb restore, read
 * and tokenized one by one ('#' comments, blank lines skipped), and a
 * whole restore file parsed into commands.  No kernel involved, so a test
 * or a fuzzer can call them on any bytes.
 */
#ifndef VIPLB_USER_CMDFILE_H
#define VIPLB_USER_CMDFILE_H

#include <stddef.h>
#include <stdio.h>

#include "health.h"
#include "parse.h"

/* FILE "-" is stdin.  NULL after an error naming the file. */
FILE *cmdfile_open(const char *file);
void cmdfile_close(FILE *f);

/*
 * Read the next non-blank line of @f into *argc/argv (LINE_MAX_ARGS
 * entries, pointing into *buf), counting lines in *lineno.  Returns 1 for
 * a line, 0 at the end, -1 on error (reported; cur_line names the line).
 */
int cmdfile_next(FILE *f, const char *file, char **buf, size_t *cap,
		 unsigned int *lineno, int *argc, char **argv);

/*
 * The commands of a restore file, each with its line number, and its
 * health lines (viplbd's; viplb restore checks them, then leaves them).
 */
struct restore_cmds {
	struct config_cmd *cmds;
	size_t nr;
	size_t cap;
	struct health_check *checks;
	size_t nr_checks;
	size_t cap_checks;
};

/*
 * Parse a restore file (@file names it in errors) into @r, appending.
 * Returns 0, or -1 after reporting the first bad line (a health line for
 * the same service and backend as an earlier one is bad too).  The caller
 * frees both arrays: restore_free().
 */
int restore_parse(FILE *f, const char *file, struct restore_cmds *r);
void restore_free(struct restore_cmds *r);

#endif /* VIPLB_USER_CMDFILE_H */
