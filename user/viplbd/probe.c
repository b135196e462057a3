// SPDX-License-Identifier: GPL-2.0
/*
 * The probes.  Each is a non-blocking socket (or a child process) in the
 * epoll set, or a SYN on the raw socket (syn.c), with the member's timer
 * as its timeout:
 *
 *   tcp   a SYN on the raw socket (syn.c), half open: the SYN-ACK is
 *         a success, and the kernel resets it.  Without the raw socket
 *         (no CAP_NET_RAW), or with every held port in flight to this
 *         backend, connect(); writable with no error or hangup is a
 *         success (tcp and http close with a reset: SO_LINGER 0).  It is
 *         half open too: SYN, SYN-ACK, reset, without the handshake's
 *         last ACK (TCP_DEFER_ACCEPT, below), so that the backend accepts
 *         no connection.  After a success, tcp keeps its socket for the next
 *         probe: connect() to AF_UNSPEC resets the connection as close()
 *         would, and the next connect() takes a new port; no socket, file,
 *         epoll_ctl() or setsockopt() per check (spare_max at most).  Its
 *         socket is registered once, edge-triggered: epoll reports the
 *         state the socket has when epoll_wait() returns, so an edge left
 *         from the reset (EPOLLHUP) is read while it is spare and ignored,
 *         or, if still queued when the next connect() starts, not reported
 *         at all while that one is in SYN_SENT
 *   http  connect, "GET PATH HTTP/1.0", then the status line and, with
 *         body, the text somewhere in what the server sends (64 KiB at
 *         most); a success as soon as both are seen
 *   udp   a connected socket sends the payload; any reply is a success,
 *         an ICMP port unreachable (ECONNREFUSED) a failure
 *   exec  the program, forked and exec'd with VIPLB_* variables naming
 *         the service and backend; exit status 0 is a success.  Waited
 *         for through a pidfd; killed (its process group) at the timeout
 *
 * The next probe starts an interval after this one started.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "viplbd.h"

#define HTTP_MAX 65536

static void watch(struct member *m, int fd, uint32_t events, int op)
{
	struct epoll_event ev = { .events = events, .data.ptr = m };

	if (epoll_ctl(epoll_fd, op, fd, &ev))
		logmsg("%s: epoll_ctl: %s", member_name(m), strerror(errno));
}

size_t spare_max;
static size_t nr_spare;

static void drop_spare(struct member *m)
{
	if (m->spare_fd < 0)
		return;
	close(m->spare_fd);
	m->spare_fd = -1;
	nr_spare--;
}

/*
 * A tcp probe that connected: reset its connection and keep the socket
 * as the member's spare, if the budget allows.
 */
static void keep_spare(struct member *m)
{
	static const struct sockaddr unspec = { .sa_family = AF_UNSPEC };

	if (m->hc.type != HEALTH_TCP || m->spare_fd >= 0 ||
	    nr_spare >= spare_max)
		return;
	if (connect(m->fd, &unspec, sizeof(unspec)))
		return;
	m->spare_fd = m->fd;
	m->fd = -1;
	nr_spare++;
}

/* Close what the probe holds; the child, if any, is killed and reaped. */
static void probe_end(struct member *m)
{
	syn_forget(m);
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	if (m->pidfd >= 0) {
		kill(-m->pid, SIGKILL);
		waitpid(m->pid, NULL, 0);
		close(m->pidfd);
	}
	m->pidfd = -1;
	free(m->buf);
	m->buf = NULL;
	m->len = 0;
}

void probe_cancel(struct member *m)
{
	probe_end(m);
	drop_spare(m);
}

/* The probe's end: its result, and the next probe's time. */
void probe_finish_at(struct member *m, bool ok, const char *reason,
		     uint64_t end_us)
{
	uint64_t next = m->started_us / 1000 + m->hc.interval_ms;
	uint64_t now = now_ms();

	probe_end(m);
	/* The route may have changed: the next SYN looks it up again. */
	if (!ok)
		m->syn_src_known = false;
	m->latency_us = end_us > m->started_us ? end_us - m->started_us : 0;
	timer_set(m, next > now ? next : now);
	state_result(m, ok, reason);
}

void probe_finish(struct member *m, bool ok, const char *reason)
{
	probe_finish_at(m, ok, reason, now_us());
}

void probe_fail_at(struct member *m, const char *what, int err,
		   uint64_t end_us)
{
	char reason[128];

	snprintf(reason, sizeof(reason), "%s: %s", what, strerror(err));
	probe_finish_at(m, false, reason, end_us);
}

void probe_fail(struct member *m, const char *what, int err)
{
	probe_fail_at(m, what, err, now_us());
}

static void start_exec(struct member *m)
{
	char vip[ADDRPORT_STRLEN], be[ADDRPORT_STRLEN], addr[ADDRPORT_STRLEN];
	char svc[ADDRPORT_STRLEN + 8], port[8];
	const struct svc_key *k = &m->key.svc;
	sigset_t none;
	pid_t pid;
	int fd;

	format_addrport(vip, sizeof(vip), k->af, &k->addr, k->port);
	snprintf(svc, sizeof(svc), "%s %s", proto_name(k->proto), vip);
	format_addrport(be, sizeof(be), k->af, &m->key.be.addr, m->key.be.port);
	pid = fork();
	if (pid < 0) {
		probe_fail(m, "fork", errno);
		return;
	}
	if (!pid) {
		/* The child: its own process group, killed whole at timeout. */
		setpgid(0, 0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
		}
		closefrom(3);
		setenv("VIPLB_SERVICE", svc, 1);
		setenv("VIPLB_BACKEND", be, 1);
		format_addr(addr, sizeof(addr), k->af, &m->key.be.addr);
		setenv("VIPLB_BACKEND_ADDR", addr, 1);
		snprintf(port, sizeof(port), "%u", m->key.be.port);
		setenv("VIPLB_BACKEND_PORT", port, 1);
		format_addr(addr, sizeof(addr), k->af,
			    m->hc.has_connect ? &m->hc.connect.addr :
						&m->key.be.addr);
		setenv("VIPLB_CHECK_ADDR", addr, 1);
		snprintf(port, sizeof(port), "%u",
			 m->dst.ss_family == AF_INET6 ?
				 ntohs(((struct sockaddr_in6 *)&m->dst)->sin6_port) :
				 ntohs(((struct sockaddr_in *)&m->dst)->sin_port));
		setenv("VIPLB_CHECK_PORT", port, 1);
		execl(m->hc.arg, m->hc.arg, (char *)NULL);
		fprintf(stderr, "viplbd: exec %s: %s\n", m->hc.arg,
			strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	m->pid = pid;
	m->pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (m->pidfd < 0) {
		int err = errno;

		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
		probe_fail(m, "pidfd_open", err);
		return;
	}
	watch(m, m->pidfd, EPOLLIN, EPOLL_CTL_ADD);
}

static void exec_done(struct member *m)
{
	char reason[64];
	int status;

	if (waitpid(m->pid, &status, WNOHANG) <= 0)
		return;
	close(m->pidfd);
	m->pidfd = -1;
	if (WIFEXITED(status))
		snprintf(reason, sizeof(reason), "exit status %d",
			 WEXITSTATUS(status));
	else
		snprintf(reason, sizeof(reason), "killed by signal %d",
			 WTERMSIG(status));
	probe_finish(m, WIFEXITED(status) && !WEXITSTATUS(status), reason);
}

void probe_start(struct member *m)
{
	static const struct linger no_linger = { .l_onoff = 1, .l_linger = 0 };
	static const int one = 1;
	int type = m->hc.type == HEALTH_UDP ? SOCK_DGRAM : SOCK_STREAM;
	bool reuse = false;
	ssize_t n;

	m->started_us = now_us();
	timer_set(m, m->started_us / 1000 + m->hc.timeout_ms);
	if (m->hc.type != HEALTH_EXEC &&
	    !((struct sockaddr_in *)&m->dst)->sin_port) {
		probe_finish(m, false, "no port to check (use port N in the health line)");
		return;
	}
	if (m->hc.type == HEALTH_EXEC) {
		start_exec(m);
		return;
	}
	if (m->hc.type == HEALTH_TCP && syn_start(m))
		return;
	if (m->spare_fd >= 0 && m->hc.type == HEALTH_TCP) {
		/* Still registered, edge-triggered: nothing to re-arm. */
		m->fd = m->spare_fd;
		m->spare_fd = -1;
		nr_spare--;
		reuse = true;
	} else {
		drop_spare(m);
		m->fd = socket(m->dst.ss_family,
			       type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (m->fd < 0) {
			probe_fail(m, "socket", errno);
			return;
		}
		/*
		 * Closed with a reset, as HAProxy's checks are: no FIN
		 * exchange and no TIME_WAIT on the director for each of
		 * thousands of checks.
		 */
		if (type == SOCK_STREAM)
			setsockopt(m->fd, SOL_SOCKET, SO_LINGER, &no_linger,
				   sizeof(no_linger));
		/*
		 * Half open, as HAProxy's plain tcp checks: on a connecting
		 * socket, TCP_DEFER_ACCEPT makes the kernel delay the
		 * handshake's last ACK (tcp_rcv_synsent_state_process(),
		 * "Save one ACK") while connect() still completes at the
		 * SYN-ACK, so the reset follows the SYN-ACK and the backend
		 * never accepts a connection.  Unlike TCP_QUICKACK 0, it
		 * survives tcp_disconnect(): set once per kept socket.  If
		 * viplbd takes longer than the delayed ACK timer (200 ms),
		 * the ACK goes out and the reset closes a full connection:
		 * the same result.
		 */
		if (m->hc.type == HEALTH_TCP)
			setsockopt(m->fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &one,
				   sizeof(one));
	}
	if (connect(m->fd, (struct sockaddr *)&m->dst, m->dst_len) &&
	    errno != EINPROGRESS) {
		probe_fail(m, "connect", errno);
		return;
	}
	if (m->hc.type == HEALTH_UDP) {
		n = send(m->fd, m->hc.send, strlen(m->hc.send), 0);
		if (n < 0) {
			probe_fail(m, "send", errno);
			return;
		}
		watch(m, m->fd, EPOLLIN, EPOLL_CTL_ADD);
		return;
	}
	/*
	 * Edge-triggered for tcp: a kept socket, disconnected, would
	 * report EPOLLHUP for ever.
	 */
	if (m->hc.type == HEALTH_TCP) {
		if (!reuse)
			watch(m, m->fd, EPOLLOUT | EPOLLET, EPOLL_CTL_ADD);
	} else {
		watch(m, m->fd, EPOLLOUT, EPOLL_CTL_ADD);
	}
}

static void http_send(struct member *m)
{
	char req[ARG_MAX_LEN + ADDRPORT_STRLEN + 128], host[ADDRPORT_STRLEN];
	const union inet_addr *a = m->hc.has_connect ? &m->hc.connect.addr :
						       &m->key.be.addr;
	int len;

	format_addr(host, sizeof(host), m->key.svc.af, a);
	len = snprintf(req, sizeof(req),
		       "GET %s HTTP/1.0\r\nHost: %s%s%s\r\n"
		       "User-Agent: viplbd\r\nConnection: close\r\n\r\n",
		       m->hc.arg, m->key.svc.af == AF_INET6 ? "[" : "", host,
		       m->key.svc.af == AF_INET6 ? "]" : "");
	/* A fresh socket's buffer takes the whole request. */
	if (send(m->fd, req, len, MSG_NOSIGNAL) != len) {
		probe_fail(m, "send", errno ? errno : EMSGSIZE);
		return;
	}
	m->buf = malloc(HTTP_MAX + 1);
	if (!m->buf) {
		probe_fail(m, "http", ENOMEM);
		return;
	}
	watch(m, m->fd, EPOLLIN, EPOLL_CTL_MOD);
}

/*
 * What the server sent so far: 1 decided (probe_finish() called), 0 to read on.
 * At the end (@eof), undecided is a failure.
 */
static int http_judge(struct member *m, bool eof)
{
	char reason[ARG_MAX_LEN + 64];
	unsigned int status;
	char *eol;

	m->buf[m->len] = '\0';
	eol = strstr(m->buf, "\r\n");
	if (!eol && !eof)
		return 0;
	if (sscanf(m->buf, "HTTP/%*u.%*u %3u", &status) != 1) {
		probe_finish(m, false, "not an HTTP response");
		return 1;
	}
	if (status != m->hc.expect) {
		snprintf(reason, sizeof(reason), "status %u (expected %u)",
			 status, m->hc.expect);
		probe_finish(m, false, reason);
		return 1;
	}
	if (m->hc.body[0] && !strstr(m->buf, m->hc.body)) {
		if (!eof)
			return 0;
		snprintf(reason, sizeof(reason), "status %u, body lacks `%s'",
			 status, m->hc.body);
		probe_finish(m, false, reason);
		return 1;
	}
	snprintf(reason, sizeof(reason), "status %u%s", status,
		 m->hc.body[0] ? ", body matches" : "");
	probe_finish(m, true, reason);
	return 1;
}

static void http_read(struct member *m)
{
	ssize_t n;

	for (;;) {
		n = recv(m->fd, m->buf + m->len, HTTP_MAX - m->len, 0);
		if (n < 0) {
			if (errno == EAGAIN)
				http_judge(m, false);
			else
				probe_fail(m, "recv", errno);
			return;
		}
		m->len += n;
		if (!n || m->len == HTTP_MAX) {
			if (!http_judge(m, true))
				probe_finish(m, false, "connection closed before a status line");
			return;
		}
	}
}

void probe_event(struct member *m, uint32_t events)
{
	socklen_t len = sizeof(int);
	char reason[64];
	int err = 0;
	ssize_t n;

	if (m->pidfd >= 0) {
		exec_done(m);
		return;
	}
	/* No probe in flight: the hangup of a spare tcp socket's reset. */
	if (m->fd < 0)
		return;
	if (m->hc.type == HEALTH_UDP) {
		char buf[512];

		n = recv(m->fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			probe_fail(m, "recv", errno);
			return;
		}
		snprintf(reason, sizeof(reason), "reply of %zd bytes", n);
		probe_finish(m, true, reason);
		return;
	}
	if (m->buf) {
		http_read(m);
		return;
	}
	/*
	 * Connecting: writable (tcp_poll() says so only once established),
	 * or an error.  The events are the socket's state now: probes
	 * start after a batch's events, so none is of an earlier probe.
	 * SO_ERROR only for a failure's reason.
	 */
	if (events & (EPOLLERR | EPOLLHUP) || !(events & EPOLLOUT)) {
		getsockopt(m->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		probe_fail(m, "connect", err ? err : ECONNRESET);
		return;
	}
	if (m->hc.type == HEALTH_TCP) {
		keep_spare(m);
		probe_finish(m, true, "connected");
		return;
	}
	http_send(m);
}

void probe_timer(struct member *m)
{
	char reason[64];

	if (m->fd < 0 && m->pidfd < 0 && !syn_in_flight(m)) {
		probe_start(m);
		return;
	}
	snprintf(reason, sizeof(reason), "no answer within %ums",
		 m->hc.timeout_ms);
	probe_finish(m, false, reason);
}
