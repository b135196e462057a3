// SPDX-License-Identifier: GPL-2.0
/* The error reporter of the user tools.  See errors.h. */
#include <stdio.h>

#include "errors.h"

unsigned int cur_line;
bool in_batch;
const char *prog_name = "viplb";

void report_error(const char *prog, unsigned int line, const char *fmt,
		  va_list ap)
{
	fflush(stdout);
	fprintf(stderr, "%s: ", prog);
	if (line)
		fprintf(stderr, "line %u: ", line);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void errmsg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report_error(prog_name, cur_line, fmt, ap);
	va_end(ap);
}
