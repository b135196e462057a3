/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Health lines: how viplbd checks the backends of a service.  They live in
 * the same files as viplb restore's lines (cmdfile.h), one per service or
 * per backend:
 *
 *   health PROTO VIP:PORT [backend ADDR[:PORT]] check TYPE [ARG]
 *          [connect ADDR[:PORT]] [port N] [expect STATUS] [body TEXT]
 *          [send TEXT] [interval DUR] [timeout DUR] [rise N] [fall N]
 *          [flap N] [window DUR] [hold DUR]
 *
 * TYPE is tcp, http PATH, udp or exec PROGRAM.  Pure parsing: no socket,
 * no kernel, so the parse tests and viplb restore use it as it is.
 */
#ifndef VIPLB_USER_HEALTH_H
#define VIPLB_USER_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include "parse.h"

/* viplbd's control socket, where viplb health show asks. */
#define VIPLBD_SOCKET "/run/viplb/viplbd.sock"

enum health_type {
	HEALTH_TCP,
	HEALTH_HTTP,
	HEALTH_UDP,
	HEALTH_EXEC,
};

/* One parsed health line.  Durations in milliseconds. */
struct health_check {
	struct svc_key svc;
	/* "backend ADDR[:PORT]": this backend only; else every backend. */
	bool has_backend;
	struct be_key backend;
	enum health_type type;
	/* "connect ADDR[:PORT]": check there instead of the backend. */
	bool has_connect;
	struct be_key connect;
	/* "port N": the port checked (0: the connect or backend port). */
	uint16_t port;
	/* http: the path; exec: the program. */
	char arg[ARG_MAX_LEN + 1];
	/* http: the status expected, and a text the body must contain. */
	unsigned int expect;
	char body[ARG_MAX_LEN + 1];
	/* udp: the datagram sent. */
	char send[ARG_MAX_LEN + 1];
	unsigned int interval_ms;
	unsigned int timeout_ms;
	unsigned int rise;
	unsigned int fall;
	/* Held down after more than flap transitions within window_ms. */
	unsigned int flap;
	unsigned int window_ms;
	/* The first hold; each new one within 4 windows doubles it. */
	unsigned int hold_ms;
	unsigned int line;
};

/* The flap counter keeps this many transitions at most. */
#define HEALTH_MAX_FLAP 32

/*
 * Parse a health line, argv[0] being "health".  0, or -1 with
 * parse_error() set, quoting the bad token.
 */
int parse_health(int argc, char **argv, struct health_check *hc);

/* "tcp", "http", "udp", "exec" */
const char *health_type_name(enum health_type type);

/* Whether two checks are the same, line numbers aside. */
bool health_same(const struct health_check *a, const struct health_check *b);

#endif /* VIPLB_USER_HEALTH_H */
