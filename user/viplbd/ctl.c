// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket (a unix stream socket, VIPLBD_SOCKET by default).
 * A client sends one line, "show [json] [pretty]", and reads the answer
 * until the daemon closes the connection: the members as viplb health
 * show prints them, through print.h.  An answer that starts with "error: "
 * is an error message.  Clients are non-blocking, like the probes.  At
 * most CTL_MAX_CLIENTS are served at once, and one that has not been
 * answered within CTL_CLIENT_TIMEOUT_MS is closed: idle clients must not
 * take the file descriptors that the probes need.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "errors.h"
#include "print.h"
#include "viplbd.h"

#define CTL_MAX_CLIENTS 32
#define CTL_CLIENT_TIMEOUT_MS 5000

struct client {
	enum ev_kind kind; /* EV_CLIENT */
	int fd;
	uint64_t deadline_ms;
	struct client *prev, *next;
	char in[128];
	size_t in_len;
	char *out;
	size_t out_len, out_off;
};

static enum ev_kind listen_tag = EV_LISTEN;
static struct client *clients;
static unsigned int nr_clients;
static int listen_fd = -1;
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

/* Seconds with one decimal: "12.3s". */
static const char *format_ms(char *buf, size_t len, uint64_t ms)
{
	if (ms < 1000)
		snprintf(buf, len, "%" PRIu64 "ms", ms);
	else
		snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "s", ms / 1000,
			 ms % 1000 / 100);
	return buf;
}

static void print_member(const struct member *m, uint64_t now)
{
	char addr[INET6_ADDRSTRLEN], ap[ADDRPORT_STRLEN], t[32];
	const struct member_key *k = &m->key;

	open_json_object(NULL);
	print_string(PRINT_ANY, "proto", "%s", proto_name(k->svc.proto));
	print_string(PRINT_JSON, "vip", NULL,
		     format_addr(addr, sizeof(addr), k->svc.af, &k->svc.addr));
	print_uint(PRINT_JSON, "port", NULL, k->svc.port);
	print_string(PRINT_FP, NULL, " %s",
		     format_addrport(ap, sizeof(ap), k->svc.af, &k->svc.addr,
				     k->svc.port));
	open_json_object("backend");
	print_string(PRINT_JSON, "addr", NULL,
		     format_addr(addr, sizeof(addr), k->svc.af, &k->be.addr));
	print_uint(PRINT_JSON, "port", NULL, k->be.port);
	close_json_object();
	print_string(PRINT_FP, NULL, " backend %s",
		     format_addrport(ap, sizeof(ap), k->svc.af, &k->be.addr,
				     k->be.port));
	print_string(PRINT_ANY, "check", " check %s",
		     health_type_name(m->hc.type));
	print_string(PRINT_ANY, "state", ": %s", state_name(m->state));
	/* Unknown: the weight is left as the datapath has it. */
	print_uint(PRINT_ANY, "weight", " weight %u",
		   m->state == STATE_UNKNOWN && m->applied_known ? m->applied :
								   state_weight(m));
	print_uint(PRINT_JSON, "configured_weight", NULL, m->weight);
	print_u64(PRINT_JSON, "since_ms", NULL, now - m->since_ms);
	print_string(PRINT_FP, NULL, " for %s",
		     format_ms(t, sizeof(t), now - m->since_ms));
	if (m->state == STATE_HELD) {
		uint64_t left = m->hold_until_ms > now ?
					m->hold_until_ms - now :
					0;

		print_u64(PRINT_JSON, "held_ms", NULL, left);
		print_string(PRINT_FP, NULL, " (held %s more)",
			     format_ms(t, sizeof(t), left));
	}
	if (m->missing)
		print_string(PRINT_ANY, "datapath", " (%s)",
			     "not in the datapath");
	print_u64(PRINT_ANY, "checks", ", %" PRIu64 " checks", m->nr_checks);
	print_u64(PRINT_ANY, "failed", " (%" PRIu64 " failed)", m->nr_failed);
	if (m->have_result) {
		print_string(PRINT_ANY, "last", ", last %s",
			     m->last_ok ? "ok" : "failed");
		print_u64(PRINT_JSON, "latency_us", NULL, m->latency_us);
		snprintf(t, sizeof(t), "%" PRIu64 ".%03" PRIu64 "ms",
			 m->latency_us / 1000, m->latency_us % 1000);
		print_string(PRINT_FP, NULL, " in %s", t);
		print_string(PRINT_ANY, "reason", ": %s", m->reason);
	} else {
		print_null(PRINT_ANY, "last", ", no result yet");
	}
	print_fp("\n");
	close_json_object();
}

/* The answer to a request line, in c->out. */
static void answer(struct client *c)
{
	bool json = false, pretty = false, bad = false;
	char *argv[8], *line = c->in;
	uint64_t now = now_ms();
	int argc, i;
	FILE *fp;

	fp = open_memstream(&c->out, &c->out_len);
	if (!fp)
		return;
	argc = tokenize_line(line, argv, 8);
	if (argc < 1 || strcmp(argv[0], "show"))
		bad = true;
	for (i = 1; !bad && i < argc; i++) {
		if (!strcmp(argv[i], "json"))
			json = true;
		else if (!strcmp(argv[i], "pretty"))
			pretty = true;
		else
			bad = true;
	}
	if (bad) {
		fprintf(fp, "error: unknown request `%s' (use show [json] [pretty])\n",
			argc > 0 ? quote_arg(argv[0]) : "");
	} else {
		print_init(fp, json, pretty);
		open_json_array(NULL);
		for (i = 0; i < (int)cfg.nr; i++)
			print_member(cfg.members[i], now);
		close_json_array();
	}
	fclose(fp);
}

static void client_close(struct client *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	nr_clients--;
	close(c->fd);
	free(c->out);
	free(c);
}

static void client_event(struct client *c)
{
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
	ssize_t n;

	if (!c->out) {
		n = read(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			client_close(c);
			return;
		}
		c->in_len += n;
		c->in[c->in_len] = '\0';
		if (!strchr(c->in, '\n') && c->in_len < sizeof(c->in) - 1)
			return;
		answer(c);
		if (!c->out) {
			client_close(c);
			return;
		}
		epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c->fd, &ev);
	}
	while (c->out_off < c->out_len) {
		n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0)
			break;
		c->out_off += n;
	}
	client_close(c);
}

static void accept_clients(void)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct client *c;
	int fd;

	while ((fd = accept4(listen_fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		c = nr_clients < CTL_MAX_CLIENTS ? calloc(1, sizeof(*c)) : NULL;
		if (!c) {
			close(fd);
			continue;
		}
		c->kind = EV_CLIENT;
		c->fd = fd;
		c->deadline_ms = now_ms() + CTL_CLIENT_TIMEOUT_MS;
		c->next = clients;
		if (clients)
			clients->prev = c;
		clients = c;
		nr_clients++;
		ev.data.ptr = c;
		if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev))
			client_close(c);
	}
}

/* Close the clients whose time is up (called from the daemon's timers). */
void ctl_expire(uint64_t now)
{
	struct client *c, *next;

	for (c = clients; c; c = next) {
		next = c->next;
		if (c->deadline_ms <= now)
			client_close(c);
	}
}

/* The earliest deadline of a client, or 0 if there is none. */
uint64_t ctl_next_deadline(void)
{
	uint64_t due = 0;
	struct client *c;

	for (c = clients; c; c = c->next)
		if (!due || c->deadline_ms < due)
			due = c->deadline_ms;
	return due;
}

void ctl_event(void *ptr, uint32_t events)
{
	(void)events;
	if (ptr == &listen_tag)
		accept_clients();
	else
		client_event(ptr);
}

int ctl_open(const char *path)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &listen_tag };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[sizeof(sock_path)], *slash;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errmsg("control socket path `%s' is too long", quote_arg(path));
		return -1;
	}
	strcpy(sun.sun_path, path);
	/* Its directory (/run/viplb), if missing. */
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0755);
	}
	/* A socket file that answers belongs to a running viplbd. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && !connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		errmsg("another viplbd listens on %s", path);
		close(fd);
		return -1;
	}
	if (fd >= 0)
		close(fd);
	unlink(path);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			   0);
	if (listen_fd < 0 ||
	    bind(listen_fd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    chmod(path, 0660) || listen(listen_fd, 16) ||
	    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listen_fd, &ev)) {
		errmsg("control socket %s: %s", path, strerror(errno));
		return -1;
	}
	strcpy(sock_path, path);
	return 0;
}

void ctl_close(void)
{
	while (clients)
		client_close(clients);
	if (listen_fd < 0)
		return;
	close(listen_fd);
	unlink(sock_path);
	listen_fd = -1;
}
