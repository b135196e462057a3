/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One print path for text and JSON output.  Callers describe each value
 * once: print_uint(PRINT_ANY, "port", ":%u", port) prints ":80" in text
 * mode and "port":80 in JSON mode.  PRINT_FP values only appear in text,
 * PRINT_JSON values only in JSON.  JSON objects and arrays nest with
 * open_json_object()/open_json_array(); they print nothing in text mode.
 */
#ifndef VIPLB_USER_PRINT_H
#define VIPLB_USER_PRINT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum output_type {
	PRINT_FP = 1,
	PRINT_JSON = 2,
	PRINT_ANY = PRINT_FP | PRINT_JSON,
};

void print_init(FILE *fp, bool json, bool pretty);
bool print_is_json(void);
/* Whether JSON is pretty-printed (-p). */
bool print_pretty(void);

/* key is NULL for array elements and for the top-level value. */
void open_json_object(const char *key);
void close_json_object(void);
void open_json_array(const char *key);
void close_json_array(void);

void print_string(enum output_type t, const char *key, const char *fmt,
		  const char *val);
void print_uint(enum output_type t, const char *key, const char *fmt,
		unsigned int val);
void print_u64(enum output_type t, const char *key, const char *fmt,
	       uint64_t val);
/* JSON true or false for key; in text mode, text if val (may be NULL). */
void print_bool(enum output_type t, const char *key, const char *text,
		bool val);
/* JSON null for key; in text mode, text as is (may be NULL). */
void print_null(enum output_type t, const char *key, const char *text);
/* Free text, text mode only (newlines, separators). */
void print_fp(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Write s as a quoted, escaped JSON string (invalid UTF-8 -> U+FFFD). */
void print_json_string(FILE *fp, const char *s);

#endif /* VIPLB_USER_PRINT_H */
