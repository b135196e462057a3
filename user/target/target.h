/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The target layer: where a service command goes.  Every command that
 * changes or reads the service configuration (service, backend, flush,
 * stats, show, save and restore) goes through here, and only here is the
 * datapath chosen:
 *
 *   module loaded (or loadable)  the module; with XDP attached, the XDP
 *                                maps then copy the module's view of
 *                                what changed
 *   otherwise                    nf_tables (table inet viplb, user/nft/);
 *                                with XDP attached, the XDP maps hold
 *                                every service (as they did alone) and
 *                                serve dr and tun; nf_tables follows
 *                                their nat services and serves those
 *
 * "viplb -d module|nft" (or VIPLB_DATAPATH=module|nft) forces one
 * (target_init()).  The rule tables of the iptables front end follow the
 * same choice (target_tables()), without XDP.  The choice is made
 * for each command, so a batch that attaches XDP half-way sends its later
 * lines to both.  A command that writes the XDP maps first takes their
 * lock (xdp_lock()), and keeps it until the process ends: two viplb
 * processes never write them at once.
 */
#ifndef VIPLB_USER_TARGET_H
#define VIPLB_USER_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse.h"
#include "service.h"

enum target {
	TARGET_MODULE,
	TARGET_MODULE_XDP,
	TARGET_NFT,
	TARGET_NFT_XDP,
};

/*
 * The -d option's value ("module", "nft") or NULL: then $VIPLB_DATAPATH,
 * or the automatic choice if it is unset or empty.  0 or -1 (reported).
 */
int target_init(const char *datapath);
/* Point the iptables front end (rt_datapath) at the chosen datapath. */
void target_tables(void);
enum target target_get(void);
/*
 * Who serves @svc ("module", "nft", "xdp" or "none"), and in *text
 * whether text output says so too (when XDP is attached).
 */
const char *target_served(const struct lb_service *svc, bool *text);
/* service lookup: the module's scheduler.  0 or -1 (reported). */
int target_lookup(const struct config_cmd *cmd, struct lookup_reply *r);
/* One service, backend, flush or stats-zero command.  0 or -1 (reported). */
int target_apply(const struct config_cmd *cmd);
/*
 * Commands one after the other, as target_apply() each, but on nf_tables
 * read and written once for all (with XDP attached too, if all are
 * backends' settings).  ok[i] says whether cmds[i] took; 0 if
 * all did, else -1 (each failure reported).
 */
int target_apply_many(const struct config_cmd *cmds, size_t n, bool *ok);
/* A whole restore: atomic in the module.  0 or -1 (reported). */
int target_restore(const struct config_cmd *cmds, size_t n);
/*
 * With XDP attached and no module: have nf_tables serve the nat services
 * the XDP maps hold, as every command does on its way (for a daemon that
 * sees the module go: until then, the maps' nat services are served by
 * nothing).  Takes the maps' lock (xdp_lock()).  Does nothing for the
 * other targets.  0 or -1 (reported; @what names the attempt).
 */
int target_follow(const char *what);
/*
 * Read one service (@key) or all (NULL) from where they are served.  @what
 * names the attempt in errors.  0 or -1 (reported).
 */
int target_fetch(const struct svc_key *key, bool with_stats, const char *what,
		 struct lb_service_list *list);
/*
 * A number that changes whenever what target_fetch() reads may have: on
 * nf_tables alone, the ruleset's generation.  0, or -1 if the target has
 * none (the module, XDP's maps) or it cannot be read.
 */
int target_generation(uint32_t *gen);

#endif /* VIPLB_USER_TARGET_H */
