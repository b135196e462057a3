/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Generic netlink plumbing for viplb: the socket, resolution of the
 * "viplb" family, requests with extended ACKs, dumps, and batches of
 * requests sent with few sendmsg() calls (for restore).
 */
#ifndef VIPLB_USER_NL_H
#define VIPLB_USER_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libmnl/libmnl.h>

struct nl_sock;
struct nl_batch;

/* The outcome of a request that failed, or a kernel error in a batch. */
struct nl_error {
	int error; /* positive errno */
	const char *syscall; /* failed local call, NULL if from kernel */
	uint32_t seq; /* sequence number of the failed request */
	bool has_miss_type;
	uint32_t miss_type; /* NLMSGERR_ATTR_MISS_TYPE */
	char msg[256]; /* NLMSGERR_ATTR_MSG, "" if none */
};

/* Called for each reply message of the viplb family. */
typedef int (*nl_data_cb)(const struct nlmsghdr *nlh, void *data);
/* Called for each kernel error to a request other than the awaited one. */
typedef void (*nl_err_cb)(const struct nl_error *err, void *data);

/*
 * Open a generic netlink socket and resolve the viplb family.  On error,
 * prints a message and returns NULL.
 */
struct nl_sock *nl_open(void);
void nl_close(struct nl_sock *nl);

/* Whether the viplb module is loaded (in any netns: it is global). */
bool module_loaded(void);

/* The one socket of this run, opened on first use; NULL on error. */
struct nl_sock *nl_get(void);
/*
 * Close the socket of nl_get() (an open transaction is aborted); the next
 * nl_get() opens a new one, resolving the family again (a daemon calls it
 * after each request, so a reloaded module is found).
 */
void nl_put(void);

/*
 * Start a viplb request in buf (at least MNL_SOCKET_BUFFER_SIZE bytes),
 * with NLM_F_REQUEST, the given extra flags and a fresh sequence number.
 */
struct nlmsghdr *nl_msg_start(struct nl_sock *nl, void *buf, uint8_t cmd,
			      uint16_t flags);

/*
 * Send a request and wait for its end: its ACK, or NLMSG_DONE for dumps
 * (NLM_F_DUMP).  NLM_F_ACK is added for non-dump requests.  Each reply of
 * the family goes to cb (may be NULL).  Returns 0, or -1 with *err set.
 * *intr is set if the dump was interrupted (NLM_F_DUMP_INTR).
 */
int nl_request(struct nl_sock *nl, struct nlmsghdr *nlh, nl_data_cb cb,
	       void *data, struct nl_error *err, bool *intr);

/*
 * What nl_request() does with one datagram of replies in buf: replies to
 * sequence number seq of message type type go to cb; dump: the request
 * ends with NLMSG_DONE.  Returns as nl_request() does, or 1 if the
 * datagram did not end the request.  For fuzz/print_fuzz.c.
 */
int nl_parse_replies(const void *buf, size_t len, uint32_t seq, uint16_t type,
		     bool dump, nl_data_cb cb, void *data, struct nl_error *err,
		     bool *intr);

/* Send one request as is; returns 0 or -1 with *err set. */
int nl_send(struct nl_sock *nl, const struct nlmsghdr *nlh,
	    struct nl_error *err);

/*
 * Batches: nl_batch_msg() starts a message at the end of the batch;
 * nl_batch_add() appends it, sending the batch with one sendmsg() when
 * full.  Replies (kernel errors: requests in a batch carry no NLM_F_ACK)
 * are collected after every send and passed to ecb.  nl_batch_send()
 * sends whatever is pending.  These return 0 or -1 with *err set.
 */
struct nl_batch *nl_batch_new(struct nl_sock *nl);
void nl_batch_free(struct nl_batch *b);
struct nlmsghdr *nl_batch_msg(struct nl_sock *nl, struct nl_batch *b,
			      uint8_t cmd, uint16_t flags);
int nl_batch_add(struct nl_sock *nl, struct nl_batch *b, nl_err_cb ecb,
		 void *data, struct nl_error *err);
int nl_batch_send(struct nl_sock *nl, struct nl_batch *b, nl_err_cb ecb,
		  void *data, struct nl_error *err);
/*
 * Wait for the ACK or error of request seq; errors to other requests go to
 * ecb.  Returns 0, or -1 with *err set.  *lost is set if the kernel had to
 * drop replies (ENOBUFS).
 */
int nl_wait(struct nl_sock *nl, uint32_t seq, nl_err_cb ecb, void *data,
	    struct nl_error *err, bool *lost);

/* "viplb: [line N: ]what: strerror (kernel: extack)" on stderr. */
void nl_report(const char *what, const struct nl_error *err);

#endif /* VIPLB_USER_NL_H */
