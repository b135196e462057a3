/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one error reporter of the user tools: "<prog>: [line N: ]<message>"
 * on stderr.  The program sets prog_name (viplb, or viplb-tables and the
 * like) and, while it runs the lines of a file, cur_line and in_batch.
 */
#ifndef VIPLB_USER_ERRORS_H
#define VIPLB_USER_ERRORS_H

#include <stdarg.h>
#include <stdbool.h>

/* Line of the batch or restore file being processed, 0 for argv. */
extern unsigned int cur_line;
/* Running the lines of a batch file (-b): no usage output on errors. */
extern bool in_batch;
/* The name errors start with: viplb, or viplb-tables and the like. */
extern const char *prog_name;

/*
 * What a command returns after reporting a grammar error: the dispatcher
 * then shows the object's usage (not in a batch) and exits 1.
 */
#define CMD_USAGE (-2)

/* "<prog>: [line N: ]<message>" on stderr (no line part if @line is 0). */
void report_error(const char *prog, unsigned int line, const char *fmt,
		  va_list ap) __attribute__((format(printf, 3, 0)));
/* report_error() with prog_name and cur_line. */
void errmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* VIPLB_USER_ERRORS_H */
