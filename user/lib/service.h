/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Services as the module holds them (service.c: requests of parsed
 * commands, dumps, lookups over generic netlink) and their printing
 * (service_print.c).  The XDP maps are read into the same structs.
 */
#ifndef VIPLB_USER_SERVICE_H
#define VIPLB_USER_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "parse.h"

struct nl_sock;

/* Counters, then rates (per second, averaged over 2 s intervals). */
struct lb_stats {
	uint64_t conns;
	uint64_t pkts_in;
	uint64_t pkts_out;
	uint64_t bytes_in;
	uint64_t bytes_out;
	uint64_t active;
	uint64_t rejected;
	uint64_t untracked;
	uint64_t cps;
	uint64_t pps_in;
	uint64_t pps_out;
	uint64_t bps_in;
	uint64_t bps_out;
};

struct lb_backend {
	struct be_key key;
	uint32_t weight;
	uint32_t flags;
	struct lb_stats stats;
};

struct lb_service {
	struct svc_key key;
	uint32_t sched;
	uint32_t mode;
	uint32_t table_size;	/* Maglev M as set; 0: automatic */
	uint32_t flags;
	struct lb_stats stats;
	struct lb_backend *backends;
	size_t nr_backends;
	size_t cap_backends;
};

struct lb_service_list {
	struct lb_service *svcs;
	size_t nr;
	size_t cap;
	/*
	 * service_find()'s hash of svcs[0..indexed) by key, built on demand:
	 * positions + 1 (0: empty), index_size of them (a power of 2), made
	 * for the array at indexed_svcs.  It follows appends, a shorter or
	 * moved array; whatever reorders or rewrites svcs in place must call
	 * service_list_changed().  free_services() frees it.
	 */
	size_t *index;
	size_t index_size;
	size_t indexed;
	const struct lb_service *indexed_svcs;
};

/*
 * Fetch every service (key NULL) or the one with the given key, in kernel
 * order, merging the messages a service's backends were split across.
 * what names the attempt for error messages.  Returns 0, or -1 after
 * printing an error.
 */
int fetch_services(struct nl_sock *nl, const struct svc_key *key,
		   const char *what, struct lb_service_list *list);
void free_services(struct lb_service_list *list);
/* The service of @key in @list, or NULL: a hash lookup (see above). */
struct lb_service *service_find(struct lb_service_list *list,
				const struct svc_key *key);
/* @list's services were reordered or rewritten in place. */
void service_list_changed(struct lb_service_list *list);

/*
 * Editing a service in memory as the module does, for the datapaths
 * that keep no state of their own (XDP alone, nf_tables).
 * service_init(): a new service with the module's defaults.
 * service_edit(): what a service add/set (its settings) or a backend
 * add/set/del does to @s: 0, -EEXIST, -ENOENT or -ENOMEM; any other
 * command is -EINVAL.  The caller checks what its datapath refuses.
 */
void service_init(struct lb_service *s, const struct svc_key *key);
struct lb_backend *service_find_backend(struct lb_service *s,
					const struct be_key *k);
int service_edit(struct lb_service *s, const struct config_cmd *cmd);

/* @cmd: the "service add" that makes @svc, without its backends. */
void service_add_cmd(const struct lb_service *svc, struct config_cmd *cmd);
/*
 * The Maglev table size @svc uses: its table_size, or if that is 0
 * (automatic) viplb_maglev_auto_size() of its backends, as every
 * datapath chooses it.
 */
uint32_t service_table_m(const struct lb_service *svc);
/* @cmd, of service_add_cmd(): now the "backend add" of backend @i. */
void backend_add_cmd(const struct lb_service *svc, size_t i,
		     struct config_cmd *cmd);
/* svc as batch lines (service add, then backend add), for save. */
void save_service(const struct lb_service *svc, FILE *fp);

/*
 * service_print.c: through print.h, one JSON object or a text block.
 * @served, if not NULL, says who serves it ("xdp", "module", "nft",
 * "none"): a "served" key in JSON, and " served ..." in text if
 * @served_text.
 */
void print_service(const struct lb_service *svc, bool with_stats,
		   const char *served, bool served_text);

/* The answer to a lookup (module or XDP). */
struct lookup_reply {
	bool got;
	struct svc_key key;
	struct flow_src src;
	uint16_t dport;
	uint32_t pin;
	bool has_backend;
	struct lb_backend be;
};

/* One lookup answer, as "viplb service lookup" prints it. */
void print_lookup(const struct lookup_reply *r);

/*
 * Ask the module which backend the service's scheduler picks for the flow
 * of an OP_SVC_LOOKUP command.  0, or -1 after printing an error.
 */
int lookup_service(struct nl_sock *nl, const struct config_cmd *cmd,
		   struct lookup_reply *r);

struct nlmsghdr;

/*
 * The reply parsers that fetch_services() and lookup_service() give
 * nl_request() (nl_data_cb): one VIPLB_CMD_SERVICE_GET message into the
 * struct lb_service_list at data, one lookup answer into the struct
 * lookup_reply at data.  0, or a negative errno (-EBADMSG: malformed).
 * Exported for fuzz/print_fuzz.c.
 */
int service_parse_msg(const struct nlmsghdr *nlh, void *data);
int lookup_parse_msg(const struct nlmsghdr *nlh, void *data);

/* The VIPLB_CMD_* of a parsed command, and its attributes. */
uint8_t config_cmd_genl(const struct config_cmd *cmd);
void config_cmd_put(struct nlmsghdr *nlh, const struct config_cmd *cmd);

#endif /* VIPLB_USER_SERVICE_H */
