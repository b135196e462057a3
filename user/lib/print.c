// SPDX-License-Identifier: GPL-2.0
/*
 * Text and JSON output through one path.  See print.h.
 *
 * The JSON writer keeps a small stack with the number of members written
 * at each level, to place commas and, with pretty printing, newlines and
 * four-space indentation.  Empty containers print as {} and [].
 */
#include <inttypes.h>
#include <stdarg.h>

#include "print.h"

#define MAX_DEPTH 16

static struct {
	FILE *fp;
	bool json;
	bool pretty;
	int depth;
	unsigned int count[MAX_DEPTH];
} pr = { .fp = NULL };

void print_init(FILE *fp, bool json, bool pretty)
{
	pr.fp = fp;
	pr.json = json;
	pr.pretty = pretty;
	pr.depth = 0;
}

bool print_is_json(void)
{
	return pr.json;
}

bool print_pretty(void)
{
	return pr.pretty;
}

static void newline_indent(void)
{
	int i;

	fputc('\n', pr.fp);
	for (i = 0; i < pr.depth; i++)
		fputs("    ", pr.fp);
}

/* Start a member: separator, indentation and "key": when inside an object. */
static void json_member(const char *key)
{
	if (pr.depth > 0) {
		if (pr.count[pr.depth - 1]++)
			fputc(',', pr.fp);
		if (pr.pretty)
			newline_indent();
	}
	if (key) {
		print_json_string(pr.fp, key);
		fputs(pr.pretty ? ": " : ":", pr.fp);
	}
}

static void json_open(const char *key, char c)
{
	json_member(key);
	fputc(c, pr.fp);
	if (pr.depth < MAX_DEPTH)
		pr.count[pr.depth] = 0;
	pr.depth++;
}

static void json_close(char c)
{
	pr.depth--;
	if (pr.pretty && pr.depth < MAX_DEPTH && pr.count[pr.depth])
		newline_indent();
	fputc(c, pr.fp);
	if (pr.depth == 0)
		fputc('\n', pr.fp);
}

void open_json_object(const char *key)
{
	if (pr.json)
		json_open(key, '{');
}

void close_json_object(void)
{
	if (pr.json)
		json_close('}');
}

void open_json_array(const char *key)
{
	if (pr.json)
		json_open(key, '[');
}

void close_json_array(void)
{
	if (pr.json)
		json_close(']');
}

void print_string(enum output_type t, const char *key, const char *fmt,
		  const char *val)
{
	if (pr.json) {
		if (t & PRINT_JSON) {
			json_member(key);
			print_json_string(pr.fp, val);
		}
	} else if ((t & PRINT_FP) && fmt) {
		fprintf(pr.fp, fmt, val);
	}
}

void print_uint(enum output_type t, const char *key, const char *fmt,
		unsigned int val)
{
	if (pr.json) {
		if (t & PRINT_JSON) {
			json_member(key);
			fprintf(pr.fp, "%u", val);
		}
	} else if ((t & PRINT_FP) && fmt) {
		fprintf(pr.fp, fmt, val);
	}
}

void print_u64(enum output_type t, const char *key, const char *fmt,
	       uint64_t val)
{
	if (pr.json) {
		if (t & PRINT_JSON) {
			json_member(key);
			fprintf(pr.fp, "%" PRIu64, val);
		}
	} else if ((t & PRINT_FP) && fmt) {
		fprintf(pr.fp, fmt, val);
	}
}

void print_bool(enum output_type t, const char *key, const char *text,
		bool val)
{
	if (pr.json) {
		if (t & PRINT_JSON) {
			json_member(key);
			fputs(val ? "true" : "false", pr.fp);
		}
	} else if ((t & PRINT_FP) && text && val) {
		fputs(text, pr.fp);
	}
}

void print_null(enum output_type t, const char *key, const char *text)
{
	if (pr.json) {
		if (t & PRINT_JSON) {
			json_member(key);
			fputs("null", pr.fp);
		}
	} else if ((t & PRINT_FP) && text) {
		fputs(text, pr.fp);
	}
}

void print_fp(const char *fmt, ...)
{
	va_list ap;

	if (pr.json)
		return;
	va_start(ap, fmt);
	vfprintf(pr.fp, fmt, ap);
	va_end(ap);
}

/* Length of the valid UTF-8 sequence at s, or 0 if it is not valid. */
static int utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	int n, i;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	/* Reject overlong forms, surrogates and code points > U+10FFFF. */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

void print_json_string(FILE *fp, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	int n;

	fputc('"', fp);
	while (*s) {
		switch (*s) {
		case '"':
			fputs("\\\"", fp);
			break;
		case '\\':
			fputs("\\\\", fp);
			break;
		case '\b':
			fputs("\\b", fp);
			break;
		case '\f':
			fputs("\\f", fp);
			break;
		case '\n':
			fputs("\\n", fp);
			break;
		case '\r':
			fputs("\\r", fp);
			break;
		case '\t':
			fputs("\\t", fp);
			break;
		default:
			if (*s < 0x20) {
				fprintf(fp, "\\u%04x", *s);
			} else if (*s < 0x80) {
				fputc(*s, fp);
			} else {
				n = utf8_len(s);
				if (!n) {
					fputs("\\ufffd", fp);
					break;
				}
				fwrite(s, 1, n, fp);
				s += n;
				continue;
			}
		}
		s++;
	}
	fputc('"', fp);
}
