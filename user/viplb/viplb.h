/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The viplb command: its usage, its dispatcher and the handlers of its
 * command table (main.c).  The handlers get the words after the object;
 * they return the exit status, or CMD_USAGE (errors.h) after a grammar
 * error.
 */
#ifndef VIPLB_USER_VIPLB_H
#define VIPLB_USER_VIPLB_H

#include <stdio.h>

/* Usage of one object ("service" ...), or of everything if NULL. */
void print_usage(FILE *fp, const char *object);

/* Run "OBJECT COMMAND ..." (argv[0] is the object); returns the exit code. */
int run_command(int argc, char **argv);

/* service.c */
int do_service(int argc, char **argv);
int do_backend(int argc, char **argv);
int do_show(int argc, char **argv);
int do_stats(int argc, char **argv);
int do_flush(int argc, char **argv);

/* health.c */
int do_health(int argc, char **argv);

/* batch.c */
int do_save(int argc, char **argv);
int do_restore(int argc, char **argv);
int run_batch(const char *file);

#endif /* VIPLB_USER_VIPLB_H */
