// SPDX-License-Identifier: GPL-2.0
/* Helpers shared by the fuzz targets.  See common.h. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

static FILE *real_err;

void fuzz_init(void)
{
	int fd = dup(2);

	real_err = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!real_err)
		real_err = stderr;
	setvbuf(real_err, NULL, _IONBF, 0);
	if (!getenv("VIPLB_FUZZ_VERBOSE")) {
		FILE *null = fopen("/dev/null", "w");

		if (null)
			stderr = null;
	}
}

bool fuzz_all(void)
{
	static int all = -1;

	if (all < 0)
		all = getenv("VIPLB_FUZZ_ALL") != NULL;
	return all;
}

void fuzz_fail(const char *fmt, ...)
{
	FILE *fp = real_err ? real_err : stderr;
	va_list ap;

	fputs("==viplb-fuzz== ", fp);
	va_start(ap, fmt);
	vfprintf(fp, fmt, ap);
	va_end(ap);
	fputc('\n', fp);
	fflush(fp);
	abort();
}

/* Input */

void fin_bytes(struct fuzz_in *in, void *dst, size_t n)
{
	size_t k = n < in->left ? n : in->left;

	memcpy(dst, in->p, k);
	memset((char *)dst + k, 0, n - k);
	in->p += k;
	in->left -= k;
}

uint8_t fin_u8(struct fuzz_in *in)
{
	uint8_t v;

	fin_bytes(in, &v, sizeof(v));
	return v;
}

uint16_t fin_u16(struct fuzz_in *in)
{
	uint16_t v;

	fin_bytes(in, &v, sizeof(v));
	return v;
}

uint32_t fin_u32(struct fuzz_in *in)
{
	uint32_t v;

	fin_bytes(in, &v, sizeof(v));
	return v;
}

uint64_t fin_u64(struct fuzz_in *in)
{
	uint64_t v;

	fin_bytes(in, &v, sizeof(v));
	return v;
}

uint32_t fin_enum(struct fuzz_in *in)
{
	uint8_t sel = fin_u8(in);

	switch (sel >> 6) {
	case 0:
		return sel & 0x3f;
	case 1:
		return sel & 1 ? UINT32_MAX : UINT32_MAX - (sel & 0x3e) / 2;
	case 2:
		return 1U << (sel & 31);
	}
	return fin_u32(in);
}

uint64_t fin_counter(struct fuzz_in *in)
{
	uint8_t sel = fin_u8(in);

	switch (sel & 7) {
	case 0:
		return 0;
	case 1:
		return fin_u16(in);
	case 2:
		return (1ULL << 32) + (int8_t)fin_u8(in);
	case 3:
		return UINT64_MAX - fin_u8(in);
	case 4:
		/* Around the K/M/G/T suffixes of iptables -L counters. */
		return 99999ULL * (1ULL << (10 * (sel >> 3 & 3))) +
		       (int8_t)fin_u8(in);
	}
	return fin_u64(in);
}

/* Output */

void mem_open(struct mem_out *m)
{
	m->buf = NULL;
	m->len = 0;
	m->fp = open_memstream(&m->buf, &m->len);
	if (!m->fp)
		fuzz_fail("open_memstream failed");
}

const char *mem_text(struct mem_out *m)
{
	fflush(m->fp);
	return m->buf;
}

void mem_close(struct mem_out *m)
{
	fclose(m->fp);
	free(m->buf);
	m->fp = NULL;
	m->buf = NULL;
	m->len = 0;
}

/* JSON checking */

struct json {
	const unsigned char *s;
	size_t len;
	size_t pos;
	int depth;
};

static void ws(struct json *j)
{
	while (j->pos < j->len &&
	       (j->s[j->pos] == ' ' || j->s[j->pos] == '\t' ||
		j->s[j->pos] == '\n' || j->s[j->pos] == '\r'))
		j->pos++;
}

static bool lit(struct json *j, const char *w)
{
	size_t n = strlen(w);

	if (j->len - j->pos < n || memcmp(j->s + j->pos, w, n))
		return false;
	j->pos += n;
	return true;
}

static bool is_digit(struct json *j)
{
	return j->pos < j->len && j->s[j->pos] >= '0' && j->s[j->pos] <= '9';
}

static bool number(struct json *j)
{
	if (j->pos < j->len && j->s[j->pos] == '-')
		j->pos++;
	if (!is_digit(j))
		return false;
	if (j->s[j->pos] == '0')
		j->pos++;
	else
		while (is_digit(j))
			j->pos++;
	if (j->pos < j->len && j->s[j->pos] == '.') {
		j->pos++;
		if (!is_digit(j))
			return false;
		while (is_digit(j))
			j->pos++;
	}
	if (j->pos < j->len && (j->s[j->pos] == 'e' || j->s[j->pos] == 'E')) {
		j->pos++;
		if (j->pos < j->len &&
		    (j->s[j->pos] == '+' || j->s[j->pos] == '-'))
			j->pos++;
		if (!is_digit(j))
			return false;
		while (is_digit(j))
			j->pos++;
	}
	return true;
}

static bool hex4(struct json *j, unsigned int *v)
{
	unsigned int i, c;

	*v = 0;
	if (j->len - j->pos < 4)
		return false;
	for (i = 0; i < 4; i++) {
		c = j->s[j->pos++];
		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			*v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			*v |= c - 'A' + 10;
		else
			return false;
	}
	return true;
}

/* One UTF-8 sequence at j->pos (RFC 3629: no overlongs, no surrogates). */
static bool utf8(struct json *j)
{
	const unsigned char *s = j->s + j->pos;
	size_t left = j->len - j->pos;
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return false;
	if (left < n)
		return false;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return false;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return false;
	j->pos += n;
	return true;
}

static bool string(struct json *j)
{
	unsigned int v, lo;
	unsigned char c;

	if (!lit(j, "\""))
		return false;
	while (j->pos < j->len) {
		c = j->s[j->pos];
		if (c == '"') {
			j->pos++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c >= 0x80) {
			if (!utf8(j))
				return false;
			continue;
		}
		j->pos++;
		if (c != '\\')
			continue;
		if (j->pos >= j->len)
			return false;
		c = j->s[j->pos++];
		if (strchr("\"\\/bfnrt", c) && c)
			continue;
		if (c != 'u' || !hex4(j, &v))
			return false;
		if (v >= 0xdc00 && v <= 0xdfff)
			return false;
		if (v >= 0xd800 && v <= 0xdbff &&
		    (!lit(j, "\\u") || !hex4(j, &lo) || lo < 0xdc00 ||
		     lo > 0xdfff))
			return false;
	}
	return false;
}

static bool value(struct json *j);

static bool members(struct json *j, bool object)
{
	char close = object ? '}' : ']';

	ws(j);
	if (j->pos < j->len && j->s[j->pos] == close) {
		j->pos++;
		return true;
	}
	for (;;) {
		ws(j);
		if (object) {
			if (!string(j))
				return false;
			ws(j);
			if (!lit(j, ":"))
				return false;
		}
		if (!value(j))
			return false;
		ws(j);
		if (j->pos >= j->len)
			return false;
		if (j->s[j->pos] == close) {
			j->pos++;
			return true;
		}
		if (j->s[j->pos++] != ',')
			return false;
	}
}

static bool value(struct json *j)
{
	bool ok;

	ws(j);
	if (j->pos >= j->len)
		return false;
	switch (j->s[j->pos]) {
	case '{':
	case '[':
		if (++j->depth > 64)
			return false;
		ok = members(j, j->s[j->pos++] == '{');
		j->depth--;
		return ok;
	case '"':
		return string(j);
	case 't':
		return lit(j, "true");
	case 'f':
		return lit(j, "false");
	case 'n':
		return lit(j, "null");
	}
	return number(j);
}

bool json_valid(const char *s, size_t len, size_t *where)
{
	struct json j = { .s = (const unsigned char *)s, .len = len };
	bool ok = value(&j);

	if (ok) {
		ws(&j);
		ok = j.pos == j.len;
	}
	*where = j.pos;
	return ok;
}

void check_json(const char *what, struct mem_out *m)
{
	const char *text = mem_text(m);
	size_t where;

	if (!json_valid(text, m->len, &where))
		fuzz_fail("%s: invalid JSON at offset %zu of %zu:\n%s", what,
			  where, m->len, text);
}
