/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The client side of a kernel transaction (VIPLB_CMD_TXN_BEGIN ...
 * VIPLB_CMD_TXN_COMMIT), shared by viplb restore and the iptables front
 * end.
 *
 * txn_begin() opens the transaction and waits for its ACK, so nothing can
 * reach the live configuration if it fails.  Each command is then started
 * with txn_msg(), filled by the caller and queued with txn_add(); queued
 * commands go out in large batches without NLM_F_ACK (the kernel answers
 * only errors).  Command i of the transaction (from 0) has sequence
 * number base + i, which maps a kernel error back to it: txn_failed()
 * tells the first command the kernel refused.  Errors arrive in order, so
 * once one is seen the caller stops queueing: the transaction is poisoned
 * and its commit would fail.  txn_commit() sends what is queued, then the
 * commit with the number of commands (VIPLB_A_TXN_OPS), so that a command
 * lost or refused before it reached viplb fails the commit too.  On any
 * error the caller closes the socket (nl_put()), which aborts the
 * transaction: the live configuration never changes halfway.
 */
#ifndef VIPLB_USER_TXN_H
#define VIPLB_USER_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nl.h"

struct txn;

/*
 * Open a transaction of @scope (enum viplb_txn_scope; 0 sends none, the
 * kernel's default).  While another one is open (EBUSY), retry for up to
 * @wait seconds (0: forever, < 0: never).  Returns the transaction, or
 * NULL with *err set (ENOMEM with err->syscall set if out of memory).
 */
struct txn *txn_begin(struct nl_sock *nl, uint32_t scope, int wait,
		      struct nl_error *err);
/* Start the next command of the transaction, to be filled by the caller. */
struct nlmsghdr *txn_msg(struct txn *t, uint8_t cmd);
/* Queue the command txn_msg() started.  0, or -1 with *err set. */
int txn_add(struct txn *t, struct nl_error *err);
/* Commands queued so far. */
size_t txn_ops(const struct txn *t);
/*
 * Whether the kernel refused a command; if so, *idx is the first refused
 * command's index and *err its error.
 */
bool txn_failed(const struct txn *t, size_t *idx, struct nl_error *err);
/*
 * Send what is queued, then commit.  Returns 0; -1 if a command was
 * refused (txn_failed()) or sending failed (*err set); -2 with *err set if
 * the commit itself failed.  *lost (may be NULL) is set if the kernel had
 * to drop replies.
 */
int txn_commit(struct txn *t, struct nl_error *err, bool *lost);
/*
 * Send what is queued (so that txn_failed() has every error), then abort
 * the transaction and wait until the kernel has dropped it.  0, or -1
 * with *err set.
 */
int txn_abort(struct txn *t, struct nl_error *err);
void txn_free(struct txn *t);

#endif /* VIPLB_USER_TXN_H */
