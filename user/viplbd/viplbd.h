/* SPDX-License-Identifier: GPL-2.0 */
/*
 * viplbd: the health-check daemon.  One thread, one epoll loop:
 *
 *   main.c    options, signals (signalfd), the loop, the timer wheel
 *   config.c  the config file into members (one per checked backend),
 *             reload with the state of unchanged members kept, and the
 *             periodic sync of the weights with the datapath
 *   probe.c   the checks: tcp, http, udp (non-blocking sockets) and exec
 *             (fork/exec, waited for through a pidfd)
 *   syn.c     the tcp check as a SYN on a raw socket, when it can be
 *   state.c   results into up/down/held, and weights through the target
 *             layer (target.h), whatever datapath serves the service
 *   ctl.c     the control socket: viplb health show
 *   announce.c  with -a DEV: each VIP that can be served an address on
 *             DEV, for a routing daemon (BIRD) to announce
 */
#ifndef VIPLB_USER_VIPLBD_H
#define VIPLB_USER_VIPLBD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "health.h"
#include "parse.h"

/* What an epoll event's data.ptr points to starts with one of these. */
enum ev_kind {
	EV_SIGNAL,
	EV_TIMER,
	EV_LISTEN,
	EV_CLIENT,
	EV_PROBE,
	EV_SYN,
};

enum member_state {
	STATE_UNKNOWN, /* no result yet: its weight is left as it is */
	STATE_UP,
	STATE_DOWN,
	STATE_HELD, /* down, and kept down for flapping until hold_until */
};

/* A service and a backend: what a member checks, and sorts by. */
struct member_key {
	struct svc_key svc;
	struct be_key be;
};

/* One checked backend of one service. */
struct member {
	enum ev_kind kind; /* EV_PROBE: epoll events of its probe */
	struct member_key key;
	struct health_check hc;
	/* The weight it has when up: from the file, or the datapath. */
	uint32_t weight;
	bool weight_known;
	/* Where the probe goes. */
	struct sockaddr_storage dst;
	socklen_t dst_len;

	enum member_state state;
	unsigned int ok_run, fail_run;
	uint64_t since_ms; /* last transition (or start) */
	bool have_result, last_ok;
	/* Results since it was configured, and how many were failures. */
	uint64_t nr_checks, nr_failed;
	char reason[160];
	uint64_t latency_us;
	/* Transition times, for flap detection: a ring of HEALTH_MAX_FLAP. */
	uint64_t flips[HEALTH_MAX_FLAP];
	unsigned int nr_flips, next_flip;
	unsigned int hold_level;
	uint64_t hold_until_ms, hold_ended_ms;

	/* The weight the datapath has, as far as we know. */
	uint32_t applied;
	bool applied_known;
	bool missing; /* not in the datapath at the last sync */
	bool queued; /* its weight waits for state_flush() */

	/* The probe in flight (fd or pidfd -1 when none). */
	int fd;
	/* tcp: the last probe's socket, disconnected, for the next (or -1). */
	int spare_fd;
	int pidfd;
	pid_t pid;
	uint64_t started_us;
	/*
	 * tcp on a raw socket (syn.c): the SYN's source port (an index
	 * into the held ones) and sequence number, the route's source
	 * address (IPv4), and the list of probes in flight (spprev NULL
	 * when not in it).
	 */
	unsigned int syn_port;
	uint32_t syn_isn;
	struct in_addr syn_src;
	bool syn_src_known;
	struct member *snext, **spprev;
	/*
	 * tcp outside the stack (syn_xdp.c): the device, the next hop's and
	 * the device's MAC addresses (known: looked up and valid); whether
	 * the last SYN went that way, and got its reply.
	 */
	int sxdp_ifindex;
	uint8_t sxdp_mac[12];
	bool sxdp_known, sxdp_sent, sxdp_replied;
	/* Lookups that failed in a row, and when to try again. */
	unsigned int sxdp_misses;
	uint64_t sxdp_retry_ms;
	char *buf;
	size_t len;

	/* Its one timer: the next probe, or the timeout of this one. */
	uint64_t due_ms;
	/* Its slot's list in the timer wheel; tpprev NULL when not set. */
	struct member *tnext, **tpprev;
	bool seen; /* config.c: marks while diffing */
};

/* The running configuration. */
struct daemon_config {
	struct member **members; /* sorted by key */
	size_t nr;
	size_t cap;
	/*
	 * Health lines for every backend of a service the file lists none
	 * of: the backends are the datapath's, found at each sync.
	 */
	struct health_check *dynamic;
	size_t nr_dynamic;
	size_t cap_dynamic;
};

extern struct daemon_config cfg;
extern int epoll_fd;
/* Milliseconds between two syncs of the weights with the datapath. */
extern unsigned int sync_ms;

uint64_t now_ms(void);
uint64_t now_us(void);

/* main.c: the timer wheel. */
void timer_set(struct member *m, uint64_t due_ms);
void timer_clear(struct member *m);

/* "viplbd: " and the message on stderr (the journal's line). */
void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "tcp 192.0.2.10:80 backend 198.51.100.2:80" */
const char *member_name(const struct member *m);

/* config.c */
/*
 * Load @file and start its probes; on reload, keep unchanged members
 * (their probes and state) and the old configuration if the file is bad.
 * With @dry_run, only check the file.  0, or -1 (reported).
 */
int config_load(const char *file, bool dry_run);
/* Read the datapath, learn weights, re-apply the ones we own. */
void config_sync(void);
void config_free(void);
struct member *member_find(const struct member_key *key);

/* probe.c */
/* How many disconnected sockets the probes may keep (main.c sets it). */
extern size_t spare_max;
void probe_start(struct member *m);
void probe_event(struct member *m, uint32_t events);
/* The probe's timeout, or (none in flight) the time for a new one. */
void probe_timer(struct member *m);
/* End the probe in flight, if any, and close the spare socket. */
void probe_cancel(struct member *m);
/* End the probe in flight with its result, now or at @end_us. */
void probe_finish(struct member *m, bool ok, const char *reason);
void probe_finish_at(struct member *m, bool ok, const char *reason,
		     uint64_t end_us);
/* ... with "@what: " and @err's text. */
void probe_fail(struct member *m, const char *what, int err);
void probe_fail_at(struct member *m, const char *what, int err,
		   uint64_t end_us);

/* syn.c */
/*
 * How many source ports the SYNs take turns on: a 4-tuple comes back
 * after SYN_PORTS checks of one address and port (at most 64: a mask).
 */
#define SYN_PORTS 64
/* Open the raw sockets; without them, tcp checks connect(). */
void syn_open(void);
void syn_close(void);
/*
 * Start @m's tcp probe as a SYN: false if it must connect() instead.
 * The SYN is queued: syn_flush() sends the queue (main.c, after the
 * timers).
 */
bool syn_start(struct member *m);
void syn_flush(void);
bool syn_in_flight(const struct member *m);
/* Take @m's SYN out of the probes in flight, if it is there. */
void syn_forget(struct member *m);
void syn_event(void *ptr, uint32_t events);
/*
 * With @quiet, a reply does not wake the loop: it waits for the next
 * syn_drain(), which the timers call first; unless the SYNs sent since
 * the last one are too many for the socket's buffer to hold their
 * replies.
 */
void syn_quiet(bool quiet);
void syn_drain(void);

/*
 * A reply taken at XDP (syn_xdp.c): from @addr:@port to source port
 * @sport, acknowledging @ack (all network order), a reset if @refused,
 * @rtt_us after its SYN was sent.
 */
void syn_xdp_reply(const void *addr, uint16_t port, uint16_t sport,
		   uint32_t ack, bool refused, uint64_t rtt_us);
/* A SYN that syn_xdp.c could not send: through the raw socket. */
void syn_requeue(struct member *m);

/* syn_xdp.c: tcp checks outside the stack (-x) */
#define SXDP_PKT_MAX 64
extern bool sxdp_wanted;
void sxdp_open(void);
void sxdp_close(void);
/* At each sync: follow the XDP program pinned being attached or gone. */
void sxdp_refresh(void);
/* Whether @m's SYN may leave on AF_PACKET now (looked up if need be). */
bool sxdp_route(struct member *m);
/* Queue @m's SYN (@pkt, its IP packet of @len bytes) there. */
void sxdp_queue(struct member *m, const uint8_t *pkt, size_t len);
void sxdp_flush(void);
void sxdp_forget(struct member *m);
/* The results XDP took, to syn_xdp_reply(). */
void sxdp_drain(void);

/* state.c */
void state_result(struct member *m, bool ok, const char *reason);
/* Queue the weight the state wants, if the datapath may lack it. */
void state_apply(struct member *m);
/* Write the queued weights (main.c, once per turn of the loop). */
void state_flush(void);
/* A write of state_flush() failed since the last sync read the datapath. */
extern bool state_write_failed;
/* Drop a member about to be freed from the queue. */
void state_forget(struct member *m);
const char *state_name(enum member_state s);
/* A backend's weight through the target layer.  0, or -1 (reported). */
int weight_write(const struct member_key *k, uint32_t weight);
uint32_t state_weight(const struct member *m);

/* announce.c: the IFA_PROTO of viplbd's addresses ("proto 245" in ip). */
#define VIPLBD_ADDR_PROTO 245
/* Announce the VIPs on @dev.  0, or -1 (reported). */
int announce_open(const char *dev);
/* A state, a member or the datapath changed: announce_flush() looks. */
void announce_changed(void);
/* Add and delete addresses as the VIPs' states want, if something
 * changed, or always with @reassert (after each sync). */
void announce_flush(bool reassert);
/* Withdraw every VIP (the daemon exits) and close. */
void announce_close(void);

/* ctl.c */
int ctl_open(const char *path);
void ctl_event(void *ptr, uint32_t events);
void ctl_expire(uint64_t now);
uint64_t ctl_next_deadline(void);
void ctl_close(void);

#endif /* VIPLB_USER_VIPLBD_H */
