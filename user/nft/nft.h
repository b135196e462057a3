/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The nf_tables datapath (libnftnl + libmnl): viplb's services as one
 * table, "inet viplb", that viplb owns and rewrites whole in one batch;
 * and the rule tables of viplb-tables as tables "ip/ip6 viplb_filter"
 * and "ip/ip6 viplb_nat" (rules.c, which says how).  The services table
 * (ruleset.c), with K a service's key, daddr . l4proto . dport (no dport
 * for a port-0 service: the "any" sets), B a backend's address . port as
 * conntrack sees it (the reply's source), F the family (4 or 6):
 *
 *   chain prerouting   nat hook prerouting, priority dstnat - 1 (-101)
 *   chain output       nat hook output, priority dstnat - 1 (-101)
 *                      both: K vmap @svcF / @anyF -> goto sN
 *   chain postrouting  nat hook postrouting, priority srcnat - 1 (99):
 *                      masquerade when the connection's original
 *                      destination is in @snatF / @snatanyF
 *   chain sN           one per service N (its place in the sorted list),
 *                      its save line as comment; one rule:
 *                      update @svc_connsF { K } (its connections); the
 *                      scheduler's slot (numgen, or jhash as lookup.c
 *                      computes it); dnat to slot . K map @slotsF_G; or,
 *                      with no backend of weight > 0, reject
 *   map slotsF_G       slot . K : B, for a group G of about sqrt(services)
 *                      services (anyslotsF_G, addrslotsF_G: port-0
 *                      services; B without port: the packet keeps its own)
 *   set backends_G     N . backend's index : its save line as comment, for
 *                      the services N of group G (a table written before
 *                      the groups has one set, backends, which is read)
 *   set vipsF          the addresses of the services nf_tables serves
 *   chain count_pre    filter hook prerouting, priority dstnat + 1 (-99)
 *   chain count_out    filter hook output, priority dstnat + 1 (-99)
 *                      both: accept a connection whose original
 *                      destination is not in @vipsF (none of its keys
 *                      can be counted); an unconfirmed conntrack entry (a new
 *                      connection's first packet) goto count_new, else by
 *                      direction goto count_orig / count_reply
 *   chain count_new/orig/reply  per family and kind (NFT_COUNT_*): the
 *                      conntrack key (K . B, K) in @KIND_keysF:
 *                      update @KIND_inF / @KIND_outF (and @KIND_connsF for
 *                      a backend's first packet), accept
 *
 * Every rule loads only registers it stored (recent kernels check), and
 * every rule can be listed by nft.  The counters are elements of dynamic
 * sets with a counter each, made by the rules when first counted or by
 * the batch when carried over: the kernel makes counters slowly, a
 * restore makes none.  A service's packets and bytes are its backends'
 * and its own (connections to none of its backends).  The slots of each
 * map come after all the rules: the kernel checks a map's elements
 * against each rule that looks it up, when either is added.
 *
 * Every set and non-base chain has two copies, or epochs: the names
 * above, and the same ending in "_b" (epoch.c says why).  A command
 * reads the table (fetch.c), changes the services in memory (model.c)
 * and writes the whole table again (ruleset.c, batch.c): in one batch,
 * the base chains are flushed and pointed at a new copy, which the
 * kernel swaps in at once, or changes nothing; a second batch deletes
 * the old copy.  The counters are carried over; established connections
 * keep their conntrack NAT.
 */
#ifndef VIPLB_USER_NFT_H
#define VIPLB_USER_NFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse.h"
#include "service.h"

#define NFT_TABLE "viplb"

/* Whether nf_tables serves svc (nat mode); else it only records it. */
bool nft_serves(const struct lb_service *svc);

/*
 * One service, backend, flush or stats-zero command.  With @xdp (XDP
 * attached), dr and tun services are accepted and recorded for XDP to
 * serve; without, refused.  0 or -1 (reported).
 */
int nft_apply(const struct config_cmd *cmd, bool xdp);
/*
 * Commands @cmds[0..n) in one batch, read and written once (a daemon's
 * weight changes).  A command the model refuses is reported and left
 * out; ok[i] says whether cmds[i] was written.  0 if all were, else -1.
 */
int nft_apply_many(const struct config_cmd *cmds, size_t n, bool xdp,
		   bool *ok);
/* A whole restore, from an empty config, in one batch.  0 or -1. */
int nft_restore(const struct config_cmd *cmds, size_t n, bool xdp);
/*
 * Make the table hold the services of @src that it serves (nat), with
 * the counters it has for them: nf_tables following XDP's maps, which
 * hold every service while XDP is attached.  0 or -1 (reported).
 */
int nft_replace(const struct lb_service_list *src, const char *what);
/* Services from the table (one, or all if @key is NULL).  0 or -1. */
int nft_fetch(const struct svc_key *key, bool with_stats, const char *what,
	      struct lb_service_list *list);

/*
 * conntrack.c: delete the conntrack entries of service @svc DNATed to
 * backend @be.  0 or a negative errno.
 */
int nft_ct_flush(const struct svc_key *svc, const struct be_key *be);

/*
 * lookup.c: the backend nf_tables picks for the new flow of a service
 * lookup command (sh and maglev).  0 or -1 (reported).
 */
int nft_lookup(const struct config_cmd *cmd, struct lookup_reply *r);

/* model.c: the services of a table, changed in memory. */
/* Apply @cmd to @list; 0 or a negative errno, *why set for refusals. */
int nft_model_apply(struct lb_service_list *list, const struct config_cmd *cmd,
		    bool xdp, const char **why);
/* Sort the services by key and each one's backends as Maglev orders them. */
void nft_model_sort(struct lb_service_list *list);
struct lb_service *nft_model_find(struct lb_service_list *list,
				  const struct svc_key *key);

/* ruleset.c: the base chains of the table, as it makes them. */
struct nft_base_chain {
	const char *name, *type;
	uint32_t hook;
	int32_t prio;
};

#define NFT_NR_BASE 5
extern const struct nft_base_chain nft_base_chains[NFT_NR_BASE];
/* ... and the names of its counting chains (epoch 0's). */
enum {
	NFT_COUNT_CHAIN_ORIG,
	NFT_COUNT_CHAIN_REPLY,
	NFT_COUNT_CHAIN_NEW,
	NFT_NR_COUNT_CHAINS
};
extern const char *const nft_count_chains[NFT_NR_COUNT_CHAINS];

/*
 * epoch.c: what the table holds, read at generation @genid: its sets and
 * non-base chains per epoch (0: the names above; 1: the same ending in
 * "_b"), and the epoch in use (@live).  @in_place: the table exists with
 * exactly our base chains, so a write keeps them.
 */
struct nft_obj {
	char *name;
	bool vmap; /* a set: a verdict map */
};

struct nft_objs {
	bool table, in_place;
	int live;
	uint32_t genid;
	struct nft_obj *chains[2], *sets[2];
	size_t nr_chains[2], nr_sets[2];
};

/* 0 or -errno. */
int nft_objs_read(struct nft_objs *o);
void nft_objs_free(struct nft_objs *o);
/* The suffix of epoch @epoch's names; the epoch of a name. */
const char *nft_epoch_sfx(int epoch);
int nft_epoch_of(const char *name);
/* Whether a non-base chain's name is one ruleset.c gives, in either. */
bool nft_chain_ours(const char *name);
/* Whether an object of @table and @family is of table inet viplb. */
bool nft_of_table(const char *table, uint32_t family);
/* Whether @name is a service chain sN (in either epoch); its N in *n. */
bool nft_service_chain(const char *name, size_t *n);
struct nft_batch;
/*
 * Into @b, which must carry the generation @o was read at (or the one
 * the batch that followed made): delete epoch @e's sets and chains.  0 or
 * -ENOMEM.
 */
int nft_epoch_delete(struct nft_batch *b, const struct nft_objs *o, int e);
/* Into @b: delete the base chains' rules.  0 or -ENOMEM. */
int nft_base_flush(struct nft_batch *b);

/*
 * ruleset.c: a service's slots, the backend index of each, @n of them (0
 * if no backend has a weight), malloc'ed (NULL without memory); the batch
 * that makes the table hold @list's services: written in place into
 * epoch !@o->live if @o->in_place, else the table deleted and added again
 * (epoch 0).  @o NULL: as if there were no table.
 */
uint32_t *nft_slots(const struct lb_service *s, uint32_t *n);
int nft_ruleset_build(struct nft_batch *b, const struct lb_service_list *list,
		      const struct nft_objs *o);

/*
 * The counting sets' kinds: what a packet's conntrack entry is looked up
 * by, in this order (ruleset.c): an exact service's backend, the service
 * (connections to none of its backends), a port-0 service's backend with
 * a port, one without, the port-0 service.
 */
enum {
	NFT_COUNT_BE,
	NFT_COUNT_SVC,
	NFT_COUNT_ANYBE,
	NFT_COUNT_ANYADDR,
	NFT_COUNT_ANYSVC,
	NFT_COUNT_KINDS
};

/* What a counting set counts: packets and bytes in, out; connections. */
enum { NFT_COUNT_IN, NFT_COUNT_OUT, NFT_COUNT_CONNS, NFT_COUNT_WHATS };

/* The longest key or data of the table's sets, in bytes. */
#define NFT_KEY_MAX 64

/* The kind of the counting elements of @s (@be NULL) or of backend @be. */
int nft_count_kind(const struct lb_service *s, const struct lb_backend *be);
/*
 * The name of the counting set of a family (0 ip, 1 ip6), kind and what
 * it counts, in @epoch; with @what -1, of the set of its keys.
 */
void nft_count_set_name(char *buf, size_t len, int fam, int kind, int what,
			int epoch);
/* The name of the set of backends of the services of @group, in @epoch. */
void nft_backends_set_name(char *buf, size_t len, size_t group, int epoch);
/* How many services a group has (their slot maps, their set of backends). */
size_t nft_group_size(size_t nr_services);
/* The key of @s's (or @be's) counting elements of @kind; its length. */
uint32_t nft_count_key(int kind, const struct lb_service *s,
		       const struct lb_backend *be, uint8_t *key);
/* The port a backend is DNATed to: its own, else the service's (or 0). */
uint16_t nft_backend_port(const struct lb_service *s,
			  const struct lb_backend *be);

/*
 * expr.c: append one expression to a rule; on ENOMEM, none, and
 * nft_expr_nomem is set.  Registers and data as nf_tables takes them.
 */
struct nftnl_rule;
struct nftnl_expr;
extern bool nft_expr_nomem;
struct nftnl_expr *nft_add_expr(struct nftnl_rule *r, const char *name);
void nft_add_meta(struct nftnl_rule *r, uint32_t key, uint32_t dreg);
void nft_add_payload(struct nftnl_rule *r, uint32_t base, uint32_t off,
		     uint32_t len, uint32_t dreg);
/* ct KEY into @dreg, of direction @dir (-1: a key without one). */
void nft_add_ct(struct nftnl_rule *r, uint32_t key, int dir, uint32_t dreg);
void nft_add_cmp(struct nftnl_rule *r, uint32_t sreg, uint32_t op,
		 const void *data, uint32_t len);
void nft_add_cmp_eq(struct nftnl_rule *r, uint32_t sreg, const void *data,
		    uint32_t len);
/* Look up @set: a verdict map if @vmap, else a plain match. */
void nft_add_lookup(struct nftnl_rule *r, uint32_t sreg, const char *set,
		    bool vmap);
/* Match when the key is NOT in @set. */
void nft_add_lookup_not(struct nftnl_rule *r, uint32_t sreg, const char *set);
/*
 * Update @set with the key in @sreg: the element's counter counts the
 * packet; an element of a set with a counter (put_set()) is added first
 * if absent.
 */
void nft_add_update(struct nftnl_rule *r, uint32_t sreg, const char *set);
/* Look up data map @map: its data into @dreg. */
void nft_add_lookup_data(struct nftnl_rule *r, uint32_t sreg, const char *map,
			 uint32_t dreg);
void nft_add_imm(struct nftnl_rule *r, uint32_t dreg, const void *data,
		 uint32_t len);
void nft_add_counter(struct nftnl_rule *r, uint64_t pkts, uint64_t bytes);
/* reg = (reg & mask) ^ xor, @len bytes. */
void nft_add_bitwise(struct nftnl_rule *r, uint32_t reg, const void *mask,
		     const void *xor, uint32_t len);
/* A verdict (NF_ACCEPT, NFT_JUMP...), with @chain for a jump or goto. */
void nft_add_verdict(struct nftnl_rule *r, int verdict, const char *chain);
/* The comment in the userdata of a rule or chain, or NULL. */
const char *nft_udata_comment(const void *ud, uint32_t len);

/*
 * rules.c: the rule tables of viplb-tables, viplb-save and viplb-restore
 * on nf_tables (tables.h's struct rt_datapath).
 */
struct rt_datapath;
extern const struct rt_datapath nft_rules_datapath;

/* batch.c: a growing buffer of nf_tables messages, sent as one batch. */
struct nft_batch *nft_batch_new(void);
void nft_batch_free(struct nft_batch *b);
/* Room for one more message of at most @len bytes; its header. */
struct nlmsghdr *nft_batch_msg(struct nft_batch *b, uint16_t type,
			       uint16_t flags, size_t len);
/* The same, for a table of another family (NFPROTO_IPV4, NFPROTO_IPV6). */
struct nlmsghdr *nft_batch_msg_af(struct nft_batch *b, uint16_t type,
				  uint16_t family, uint16_t flags, size_t len);
/* Account for the message nft_batch_msg() returned, now built. */
void nft_batch_done(struct nft_batch *b, struct nlmsghdr *nlh);
/*
 * Apply the batch only if the ruleset is still at generation @genid
 * (nft_genid()), else it fails with -ERESTART; before any message.
 */
int nft_batch_genid(struct nft_batch *b, uint32_t genid);
/* The ruleset's generation: 0 or -errno. */
int nft_genid(uint32_t *gen);
/*
 * Zero the counters of a rule (NFT_MSG_GETRULE_RESET), leaving the rule
 * itself alone.  0 or -errno (-EOPNOTSUPP or -EINVAL: the kernel has no
 * such request).
 */
int nft_rule_reset(uint16_t family, const char *table, const char *chain,
		   uint64_t handle);
/* Close and send the batch: 0 or a negative errno from the kernel. */
int nft_batch_send(struct nft_batch *b);
/* The same; *err_seq: the sequence number of the message that failed. */
int nft_batch_send_at(struct nft_batch *b, uint32_t *err_seq);

/* Dump requests (fetch.c): every reply message goes to @cb.  0 or -errno. */
int nft_dump(uint16_t type, int (*cb)(const struct nlmsghdr *nlh, void *data),
	     void *data);
/* The same, of the tables of one family. */
int nft_dump_af(uint16_t type, uint16_t family,
		int (*cb)(const struct nlmsghdr *nlh, void *data), void *data);
/* The elements of set @set of table inet viplb. */
int nft_dump_elems(const char *set,
		   int (*cb)(const struct nlmsghdr *nlh, void *data),
		   void *data);

#endif /* VIPLB_USER_NFT_H */
