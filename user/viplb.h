/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the viplb command files: error reporting, usage, the shared
 * netlink socket and the command handlers of the command table.
 */
#ifndef VIPLB_USER_VIPLB_H
#define VIPLB_USER_VIPLB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

struct nl_sock;

/* Line of the batch or restore file being processed, 0 for argv. */
extern unsigned int cur_line;
/* Running the lines of a batch file (-b): no usage output on errors. */
extern bool in_batch;
/* The name errors start with: viplb, or viplb-tables and the like. */
extern const char *prog_name;

/* "<prog>: [line N: ]<message>" on stderr (no line part if @line is 0). */
void report_error(const char *prog, unsigned int line, const char *fmt,
		  va_list ap) __attribute__((format(printf, 3, 0)));
/* report_error() with prog_name and cur_line. */
void errmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Usage of one object ("service" ...), or of everything if NULL. */
void print_usage(FILE *fp, const char *object);
/* Report a parse error, followed by the object's usage for grammar errors. */
int parse_failed(int ret, const char *object);

/* The one netlink socket of this run, opened on first use; NULL on error. */
struct nl_sock *nl_get(void);

/* Run "OBJECT COMMAND ..." (argv[0] is the object); returns the exit code. */
int run_command(int argc, char **argv);

/* Handlers, argv[0] being the first word after the object. */
int do_service(int argc, char **argv);
int do_backend(int argc, char **argv);
int do_show(int argc, char **argv);
int do_stats(int argc, char **argv);
int do_flush(int argc, char **argv);
int do_save(int argc, char **argv);
int do_restore(int argc, char **argv);
int run_batch(const char *file);

#endif /* VIPLB_USER_VIPLB_H */
