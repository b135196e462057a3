// SPDX-License-Identifier: GPL-2.0
/*
 * viplbd: options, signals, the epoll loop and the timer wheel.  See
 * viplbd.h and viplbd(8).
 *
 * Every member has one timer (its next probe, or the timeout of the probe
 * in flight) in a timer wheel of one slot per millisecond; one timerfd
 * is armed to the earliest.  Setting and clearing a timer is O(1) and
 * touches only the member and its slot's neighbours: with a heap, each
 * check's timers walked a dozen levels of members spread over megabytes,
 * most of viplbd's user time at 10,000 backends.
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
#include <sys/resource.h>
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
/* What timer_fd is armed to, 0 once it has fired. */
static uint64_t timer_armed;

/*
 * The timer wheel: a member due at T is in slot T % WHEEL_SLOTS (or the
 * slot of wheel_ms if T is past), with members due WHEEL_SLOTS ms later
 * or more: the slot's turn skips those.  Slots before wheel_ms are done.
 */
#define WHEEL_SLOTS 8192
/*
 * The wheel's timers run on multiples of BATCH_MS: the probes due in
 * that time start together, and when the loop is due to wake within
 * QUIET_MS, the SYNs' replies wait for it (syn_quiet()).  At 10,000
 * backends, one wake-up for a few dozen probes and their replies rather
 * than one or more each.  A probe starts at most BATCH_MS late; the
 * replies carry the kernel's receive time, so no latency or timeout is
 * made longer by the wait.
 */
#define BATCH_MS 10
#define QUIET_MS (2 * BATCH_MS)
static struct member *wheel[WHEEL_SLOTS];
static uint64_t wheel_ms;
static size_t wheel_nr;
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

void timer_clear(struct member *m)
{
	if (!m->tpprev)
		return;
	*m->tpprev = m->tnext;
	if (m->tnext)
		m->tnext->tpprev = m->tpprev;
	m->tpprev = NULL;
	wheel_nr--;
}

void timer_set(struct member *m, uint64_t due_ms)
{
	struct member **slot;

	timer_clear(m);
	if (!wheel_ms)
		wheel_ms = now_ms();
	m->due_ms = due_ms;
	slot = &wheel[(due_ms > wheel_ms ? due_ms : wheel_ms) % WHEEL_SLOTS];
	m->tnext = *slot;
	if (m->tnext)
		m->tnext->tpprev = &m->tnext;
	m->tpprev = slot;
	*slot = m;
	wheel_nr++;
}

/* The time of the first slot with a member due in this turn of the wheel. */
static uint64_t wheel_next(void)
{
	struct member *m;
	uint64_t t;

	if (!wheel_nr)
		return 0;
	for (t = wheel_ms; t < wheel_ms + WHEEL_SLOTS; t++)
		for (m = wheel[t % WHEEL_SLOTS]; m; m = m->tnext)
			if (m->due_ms <= t)
				return t;
	return wheel_ms + WHEEL_SLOTS;
}

/* Run the timers due by @now. */
static void wheel_run(uint64_t now)
{
	struct member *m, *next;
	uint64_t end;

	/* After a long stall, each slot once. */
	end = now - wheel_ms >= WHEEL_SLOTS ? wheel_ms + WHEEL_SLOTS - 1 : now;
	for (; wheel_ms <= end; wheel_ms++) {
		/*
		 * probe_timer() sets timers due now or later: at the head of
		 * this slot (not walked again until the next run, which
		 * starts at the slot of now) or in a later one.
		 */
		for (m = wheel[wheel_ms % WHEEL_SLOTS]; m; m = next) {
			next = m->tnext;
			if (m->due_ms > now)
				continue;
			timer_clear(m);
			probe_timer(m);
		}
	}
	wheel_ms = now;
}

/*
 * Arm the timerfd to the earliest timer or sync, unless it is armed to
 * that already: most turns of the loop are probes' events, which leave
 * the earliest timer as it was.
 */
static void timer_arm(void)
{
	struct itimerspec its = { 0 };
	uint64_t due = sync_due, client_due = ctl_next_deadline();
	uint64_t timer_due = wheel_next();

	timer_due = (timer_due + BATCH_MS - 1) / BATCH_MS * BATCH_MS;
	if (timer_due && timer_due < due)
		due = timer_due;
	if (client_due && client_due < due)
		due = client_due;
	if (!due)
		due = 1; /* 0 would disarm it */
	syn_quiet(due <= now_ms() + QUIET_MS);
	if (due == timer_armed)
		return;
	timer_armed = due;
	its.it_value.tv_sec = due / 1000;
	its.it_value.tv_nsec = (due % 1000) * 1000000;
	timerfd_settime(timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

/*
 * timer_fd is edge-triggered: each expiry is an edge, and a new setting
 * clears its count, so it need not be read.
 */
static void timers_run(void)
{
	uint64_t now = now_ms();

	timer_armed = 0;
	/* Replies first: a probe that ended is not taken for timed out. */
	syn_drain();
	wheel_run(now);
	syn_flush();
	ctl_expire(now);
	if (sync_due <= now) {
		config_sync();
		sxdp_refresh();
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
	ev.events = EPOLLIN | EPOLLET;
	if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, timer_fd, &ev))
		return -1;
	return sig_fd;
}

/*
 * Descriptors: as many as allowed (the soft limit up to the hard one),
 * half of them for the tcp probes' spare sockets.
 */
static void set_spare_max(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	spare_max = rl.rlim_cur / 2;
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
	      "              [-r|--sync SECONDS] [-a|--announce DEV] [-x|--xdp-checks]\n"
	      "              [-t|--check] [-V|--version]\n"
	      "  FILE defaults to /etc/viplb/viplb.conf, PATH to " VIPLBD_SOCKET "\n"
	      "  -a: each VIP with a backend up is an address on DEV (for BIRD)\n"
	      "  -x: IPv4 tcp checks outside the stack where viplb's XDP takes their replies\n"
	      "  -t: check the file's health lines and exit\n",
	      fp);
}

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "socket", required_argument, NULL, 's' },
	{ "datapath", required_argument, NULL, 'd' },
	{ "sync", required_argument, NULL, 'r' },
	{ "announce", required_argument, NULL, 'a' },
	{ "xdp-checks", no_argument, NULL, 'x' },
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
	while ((opt = getopt_long(argc, argv, "c:s:d:r:a:xtVh", long_opts,
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
		case 'x':
			sxdp_wanted = true;
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

	set_spare_max();
	sig_fd = setup_fds();
	if (sig_fd < 0 || ctl_open(sock))
		return 1;
	syn_open();
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
				 * events of this batch name: wait again, with
				 * the timerfd set anew (its edge may be among
				 * them).
				 */
				n = 0;
				timer_armed = 0;
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
			case EV_SYN:
				syn_event(kind, evs[i].events);
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
	syn_close();
	ctl_close();
	nl_put();
	logmsg("stopped");
	return 0;
}
