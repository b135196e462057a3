// SPDX-License-Identifier: GPL-2.0
/*
 * viplbd: options, signals, the epoll loop and the timer heap.  See
 * viplbd.h and viplbd(8).
 *
 * Every member has one timer (its next probe, or the timeout of the probe
 * in flight) in a binary min-heap; one timerfd is armed to the earliest.
 * Signals come through a signalfd: SIGHUP reloads, SIGTERM and SIGINT
 * end the loop.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

#include "errors.h"
#include "nl.h"
#include "print.h"
#include "target.h"
#include "util.h"
#include "viplbd.h"

#ifndef VIPLB_VERSION
#define VIPLB_VERSION "0.1.0"
#endif

int epoll_fd = -1;
unsigned int sync_ms = 5000;

static enum ev_kind signal_tag = EV_SIGNAL;
static enum ev_kind timer_tag = EV_TIMER;
static int timer_fd = -1;

/* The heap of member timers, earliest first. */
static struct member **heap;
static size_t heap_nr, heap_cap;
/* The next sync of the weights with the datapath. */
static uint64_t sync_due;

static uint64_t clock_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

uint64_t now_us(void)
{
	return clock_us();
}

uint64_t now_ms(void)
{
	return clock_us() / 1000;
}

void logmsg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report_error(prog_name, 0, fmt, ap);
	va_end(ap);
}

const char *member_name(const struct member *m)
{
	static char buf[2][ADDRPORT_STRLEN * 2 + 32];
	static unsigned int next;
	char vip[ADDRPORT_STRLEN], be[ADDRPORT_STRLEN];
	char *b = buf[next++ % 2];

	snprintf(b, sizeof(buf[0]), "%s %s backend %s",
		 proto_name(m->key.svc.proto),
		 format_addrport(vip, sizeof(vip), m->key.svc.af,
				 &m->key.svc.addr, m->key.svc.port),
		 format_addrport(be, sizeof(be), m->key.svc.af, &m->key.be.addr,
				 m->key.be.port));
	return b;
}

static void heap_swap(size_t a, size_t b)
{
	struct member *t = heap[a];

	heap[a] = heap[b];
	heap[b] = t;
	heap[a]->heap_idx = a;
	heap[b]->heap_idx = b;
}

static void heap_up(size_t i)
{
	while (i && heap[(i - 1) / 2]->due_ms > heap[i]->due_ms) {
		heap_swap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(size_t i)
{
	size_t l, r, min;

	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		min = i;
		if (l < heap_nr && heap[l]->due_ms < heap[min]->due_ms)
			min = l;
		if (r < heap_nr && heap[r]->due_ms < heap[min]->due_ms)
			min = r;
		if (min == i)
			return;
		heap_swap(i, min);
		i = min;
	}
}

void timer_clear(struct member *m)
{
	size_t i = m->heap_idx;

	if (i == SIZE_MAX)
		return;
	m->heap_idx = SIZE_MAX;
	if (i != --heap_nr) {
		heap[i] = heap[heap_nr];
		heap[i]->heap_idx = i;
		heap_up(i);
		heap_down(heap[i]->heap_idx);
	}
}

void timer_set(struct member *m, uint64_t due_ms)
{
	timer_clear(m);
	if (grow_array(heap, heap_nr, heap_cap, 256)) {
		logmsg("%s: out of memory for its timer", member_name(m));
		return;
	}
	m->due_ms = due_ms;
	m->heap_idx = heap_nr;
	heap[heap_nr++] = m;
	heap_up(m->heap_idx);
}

/* Arm the timerfd to the earliest timer or sync. */
static void timer_arm(void)
{
	struct itimerspec its = { 0 };
	uint64_t due = sync_due, client_due = ctl_next_deadline();

	if (heap_nr && heap[0]->due_ms < due)
		due = heap[0]->due_ms;
	if (client_due && client_due < due)
		due = client_due;
	if (!due)
		due = 1; /* 0 would disarm it */
	its.it_value.tv_sec = due / 1000;
	its.it_value.tv_nsec = (due % 1000) * 1000000;
	timerfd_settime(timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void timers_run(void)
{
	uint64_t expirations, now = now_ms();
	struct member *m;

	if (read(timer_fd, &expirations, sizeof(expirations)) < 0 &&
	    errno != EAGAIN)
		logmsg("reading the timerfd: %s", strerror(errno));
	while (heap_nr && heap[0]->due_ms <= now) {
		m = heap[0];
		timer_clear(m);
		probe_timer(m);
	}
	ctl_expire(now);
	if (sync_due <= now) {
		config_sync();
		announce_flush(true);
		sync_due = now_ms() + sync_ms;
	}
}

static int setup_fds(void)
{
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t mask;
	int sig_fd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	/* A check to a closed socket must not kill the daemon. */
	signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &mask, NULL)) {
		errmsg("sigprocmask: %s", strerror(errno));
		return -1;
	}
	epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (epoll_fd < 0 || sig_fd < 0 || timer_fd < 0) {
		errmsg("setting up epoll, signalfd and timerfd: %s",
		       strerror(errno));
		return -1;
	}
	ev.data.ptr = &signal_tag;
	if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, sig_fd, &ev))
		return -1;
	ev.data.ptr = &timer_tag;
	if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, timer_fd, &ev))
		return -1;
	return sig_fd;
}

/* A signal: 1 to go on, 0 to exit. */
static int on_signal(int sig_fd, const char *config)
{
	struct signalfd_siginfo si;

	while (read(sig_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo != SIGHUP) {
			logmsg("signal %u: exiting", si.ssi_signo);
			return 0;
		}
		if (!strcmp(config, "-")) {
			logmsg("SIGHUP: standard input cannot be read again: keeping the configuration running");
			continue;
		}
		logmsg("SIGHUP: reloading %s", config);
		if (config_load(config, false))
			logmsg("reload failed: keeping the configuration running");
		/* The new members' first probes, and any new backend. */
		sync_due = 0;
	}
	return 1;
}

static void usage(FILE *fp)
{
	fputs("Usage: viplbd [-c|--config FILE] [-s|--socket PATH] [-d|--datapath module|nft]\n"
	      "              [-r|--sync SECONDS] [-a|--announce DEV] [-t|--check] [-V|--version]\n"
	      "  FILE defaults to /etc/viplb/viplb.conf, PATH to " VIPLBD_SOCKET "\n"
	      "  -a: each VIP with a backend up is an address on DEV (for BIRD)\n"
	      "  -t: check the file's health lines and exit\n",
	      fp);
}

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "socket", required_argument, NULL, 's' },
	{ "datapath", required_argument, NULL, 'd' },
	{ "sync", required_argument, NULL, 'r' },
	{ "announce", required_argument, NULL, 'a' },
	{ "check", no_argument, NULL, 't' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	const char *config = "/etc/viplb/viplb.conf", *sock = VIPLBD_SOCKET;
	const char *datapath = NULL, *announce_dev = NULL;
	struct epoll_event evs[64];
	bool check_only = false;
	unsigned long secs;
	int opt, sig_fd, n, i, running = 1;
	bool timer_due;

	prog_name = "viplbd";
	/* stderr is the log: one line each, whole, even to a pipe. */
	setvbuf(stderr, NULL, _IOLBF, 0);
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "c:s:d:r:a:tVh", long_opts,
				  NULL)) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'd':
			datapath = optarg;
			break;
		case 'r':
			if (parse_uint(optarg, 3600, &secs) || !secs) {
				errmsg("invalid sync interval `%s' for -r (use 1..3600 seconds)",
				       quote_arg(optarg));
				return 1;
			}
			sync_ms = secs * 1000;
			break;
		case 'a':
			announce_dev = optarg;
			break;
		case 't':
			check_only = true;
			break;
		case 'V':
			printf("viplbd %s\n", VIPLB_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			errmsg("unknown option or missing value `%s' (try viplbd -h)",
			       quote_arg(argv[optind - 1]));
			return 1;
		}
	}
	if (optind < argc) {
		errmsg("unexpected argument `%s'", quote_arg(argv[optind]));
		return 1;
	}
	if (target_init(datapath))
		return 1;
	if (check_only)
		return config_load(config, true) ? 1 : 0;

	sig_fd = setup_fds();
	if (sig_fd < 0 || ctl_open(sock))
		return 1;
	if ((announce_dev && announce_open(announce_dev)) ||
	    config_load(config, false)) {
		/* Nothing was announced yet: leave DEV as it is. */
		ctl_close();
		return 1;
	}
	logmsg("started: %zu backends checked, control socket %s", cfg.nr,
	       sock);
	while (running) {
		timer_arm();
		n = epoll_wait(epoll_fd, evs, ARRAY_SIZE(evs), -1);
		if (n < 0 && errno != EINTR) {
			logmsg("epoll_wait: %s", strerror(errno));
			break;
		}
		timer_due = false;
		for (i = 0; i < n && running; i++) {
			enum ev_kind *kind = evs[i].data.ptr;

			switch (*kind) {
			case EV_SIGNAL:
				running = on_signal(sig_fd, config);
				/*
				 * A reload may have freed members that later
				 * events of this batch name: wait again.
				 */
				n = 0;
				break;
			case EV_TIMER:
				timer_due = true;
				break;
			case EV_LISTEN:
			case EV_CLIENT:
				ctl_event(kind, evs[i].events);
				break;
			case EV_PROBE:
				probe_event((struct member *)kind,
					    evs[i].events);
				break;
			}
		}
		/*
		 * Timers after the probes' events: a probe that ended while
		 * the loop was busy is not taken for one that timed out.
		 */
		if (running && timer_due)
			timers_run();
		state_flush();
		announce_flush(false);
	}
	announce_close();
	config_free();
	ctl_close();
	nl_put();
	free(heap);
	logmsg("stopped");
	return 0;
}
