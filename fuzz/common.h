/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the fuzz targets: a byte reader over the fuzz input,
 * an in-memory output stream, a strict JSON checker and the failure
 * report that aborts (so that libFuzzer saves the input).
 */
#ifndef VIPLB_FUZZ_COMMON_H
#define VIPLB_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Reads values off the fuzz input; zeros once it is used up. */
struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

uint8_t fin_u8(struct fuzz_in *in);
uint16_t fin_u16(struct fuzz_in *in);
uint32_t fin_u32(struct fuzz_in *in);
uint64_t fin_u64(struct fuzz_in *in);
void fin_bytes(struct fuzz_in *in, void *dst, size_t n);
/*
 * A 32-bit value biased towards the interesting: small numbers (the
 * known enum values and just past them), all ones, powers of two, or any.
 */
uint32_t fin_enum(struct fuzz_in *in);
/* A u64 counter: 0, small, near 2^32, near 2^64, or any. */
uint64_t fin_counter(struct fuzz_in *in);

/* An in-memory stream for output that is checked afterwards. */
struct mem_out {
	FILE *fp;
	char *buf;
	size_t len;
};

void mem_open(struct mem_out *m);
/* Flush and return the text (NUL-terminated, len bytes). */
const char *mem_text(struct mem_out *m);
void mem_close(struct mem_out *m);

/*
 * Whether s (len bytes) is exactly one JSON value followed by optional
 * whitespace: RFC 8259 syntax, strings in valid UTF-8 with no raw control
 * characters.  On failure *where is the offset of the problem.
 */
bool json_valid(const char *s, size_t len, size_t *where);

/*
 * Once, from LLVMFuzzerInitialize(): the tools' own messages (errmsg(),
 * rt_report() on stderr) go to /dev/null unless VIPLB_FUZZ_VERBOSE is
 * set; sanitizer and libFuzzer reports, and fuzz_fail(), still show.
 */
void fuzz_init(void);

/*
 * Whether to run inputs that hit a known, reported bug (VIPLB_FUZZ_ALL
 * set): by default they are skipped so that fuzzing finds the others.
 */
bool fuzz_all(void);

/* Print what went wrong (printf format) and abort(). */
void fuzz_fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
/* Abort if the output of what is not valid JSON, printing it. */
void check_json(const char *what, struct mem_out *m);

#endif /* VIPLB_FUZZ_COMMON_H */
