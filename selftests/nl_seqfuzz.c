// SPDX-License-Identifier: GPL-2.0
/*
 * nl_seqfuzz: a stateful fuzzer of the "viplb" generic netlink family.
 *
 * Messages come from a grammar of every command and attribute of
 * include/uapi/linux/viplb.h.  Most are valid: random values, random
 * subsets and orders of attributes, duplicates.  Some are broken so that
 * the policy must refuse them: wrong lengths and types, cut nests, values
 * out of range, reply-only attributes, bad flags.  A few get random bytes.
 *
 * They go out in sequences over a pool of sockets: transactions begun,
 * fed, committed, aborted, or left open when their socket closes; two
 * sockets at once; batches in one datagram; sockets closed in random order
 * and reopened, sometimes on the port id of the one just closed.
 *
 * A model of the module (services, backends, rule tables, the open
 * transaction) predicts the answer to every valid message, and dumps are
 * compared with it.  A second thread dumps everything the family can dump,
 * on its own socket, all along.  Every message must be answered; an answer
 * or a dump that never comes is a hang.
 *
 * With -F the sending thread runs with failslab (nl_seqfuzz.sh sets up
 * /sys/kernel/debug/failslab with task-filter): any answer is allowed, a
 * lost answer too, and the model only reports; hangs still fail.
 *
 * Needs the module loaded and CAP_NET_ADMIN; run by nl_seqfuzz.sh.
 * Usage: nl_seqfuzz [-s SEED] [-n MESSAGES] [-t SECONDS] [-F]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/viplb.h>
#include <viplb/chain_name.h>
#include <viplb/maglev.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kselftest.h"

#ifndef __aligned
#define __aligned(x) __attribute__((aligned(x)))
#endif

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

#define NSOCK 4 /* sockets in the pool */
#define BATCH_MAX 12 /* messages in one datagram */
#define TX_MAX (64 * 1024)
#define RX_MAX (256 * 1024)
#define STORE_MAX (1024 * 1024) /* the replies of one exchange */
#define HANG_MS 60000 /* no answer for this long: a hang */
#define NOTES_MAX 24 /* differences kept for the report */

/* What an answer must be: 0 or -errno, or one of these. */
#define X_ANY 1 /* anything: the model cannot tell */
#define X_ERR 2 /* an error: the policy must refuse it */

/* Outcomes that are no answer. */
#define R_LOST 1000 /* -F: the answer was lost (ENOBUFS) */
#define R_SENDFAIL 1001 /* -F: sendto() failed */

/* ------------------------------------------------------------ random */

static uint64_t rng; /* the sender's: all follows from -s */

static uint64_t rnd_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rnd64(void)
{
	return rnd_next(&rng);
}

static uint32_t rnd(uint32_t n)
{
	return n ? rnd64() % n : 0;
}

static bool chance(unsigned int pct)
{
	return rnd(100) < pct;
}

static void rnd_bytes(void *p, size_t n)
{
	unsigned char *c = p;

	while (n--)
		*c++ = rnd64();
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
}

static uint64_t now_ms(void)
{
	return now_us() / 1000;
}

/* ----------------------------------------------------- counts, notes */

static uint16_t family;
static bool failslab; /* -F */
static uint64_t seed;
static int mif_fd = -1; /* /proc/thread-self/make-it-fail */

enum cls { C_VALID, C_POLICY, C_CHAOS, NCLS };

#define ERR_SLOTS 160

static unsigned long n_msgs; /* messages the sending thread sent */
static unsigned long cmd_sent[256], cmd_ok[256];
static uint64_t cmd_us[256]; /* time in exchanges, by first command */
static unsigned long err_cnt[ERR_SLOTS];
static unsigned long cls_cnt[NCLS], n_noack, n_batches, n_pings;
static unsigned long n_lost, n_sendfail, n_checked, n_verified;
static unsigned long n_begun, n_committed, n_aborted, n_closed_open;
static unsigned long n_closes, n_reuse, n_resync;
/* What went wrong, by kind: each fails its own TAP result. */
enum { N_ANSWER, N_BAD, N_MODEL, NKINDS };

static unsigned long n_note[NKINDS];
static char notes[NOTES_MAX][240];
static int n_notes;

/* Counts a failure of kind @kind and keeps its line for the report. */
static void note(int kind, const char *fmt, ...)
{
	va_list ap;

	n_note[kind]++;
	if (n_notes == NOTES_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(notes[n_notes++], sizeof(notes[0]), fmt, ap);
	va_end(ap);
}

static const char *const cmd_names[] = {
	[VIPLB_CMD_UNSPEC] = "UNSPEC",
	[VIPLB_CMD_SERVICE_NEW] = "SERVICE_NEW",
	[VIPLB_CMD_SERVICE_SET] = "SERVICE_SET",
	[VIPLB_CMD_SERVICE_DEL] = "SERVICE_DEL",
	[VIPLB_CMD_SERVICE_GET] = "SERVICE_GET",
	[VIPLB_CMD_BACKEND_NEW] = "BACKEND_NEW",
	[VIPLB_CMD_BACKEND_SET] = "BACKEND_SET",
	[VIPLB_CMD_BACKEND_DEL] = "BACKEND_DEL",
	[VIPLB_CMD_FLUSH] = "FLUSH",
	[VIPLB_CMD_TXN_BEGIN] = "TXN_BEGIN",
	[VIPLB_CMD_TXN_COMMIT] = "TXN_COMMIT",
	[VIPLB_CMD_TXN_ABORT] = "TXN_ABORT",
	[VIPLB_CMD_SERVICE_LOOKUP] = "SERVICE_LOOKUP",
	[VIPLB_CMD_STATS_ZERO] = "STATS_ZERO",
	[VIPLB_CMD_RULES_TABLE] = "RULES_TABLE",
	[VIPLB_CMD_RULES_CHAIN] = "RULES_CHAIN",
	[VIPLB_CMD_RULES_RULE] = "RULES_RULE",
	[VIPLB_CMD_RULES_GET] = "RULES_GET",
};

static const char *cmd_name(int cmd)
{
	static char buf[16];

	if (cmd >= 0 && cmd < (int)ARRAY_SIZE(cmd_names))
		return cmd_names[cmd];
	snprintf(buf, sizeof(buf), "cmd %d", cmd);
	return buf;
}

static const char *err_name(int e)
{
	static char buf[4][32];
	static int i;
	const char *n;

	i = (i + 1) % 4;
	if (e == 0)
		return "0";
	if (e == X_ANY)
		return "anything";
	if (e == X_ERR)
		return "an error";
	if (e == R_LOST)
		return "lost";
	if (e == R_SENDFAIL)
		return "send failed";
	n = e < 0 ? strerrorname_np(-e) : NULL;
	if (n)
		snprintf(buf[i], sizeof(buf[i]), "-%s", n);
	else
		snprintf(buf[i], sizeof(buf[i]), "%d", e);
	return buf[i];
}

static void count_answer(int cmd, int e)
{
	if (e == R_LOST) {
		n_lost++;
	} else if (e == R_SENDFAIL) {
		n_sendfail++;
	} else {
		if (!e)
			cmd_ok[cmd & 0xff]++;
		err_cnt[-e < ERR_SLOTS && e <= 0 ? -e : ERR_SLOTS - 1]++;
	}
}

/* ---------------------------------------------------- attribute trees */

/*
 * A message is built as a tree of attributes, so that one can be shuffled,
 * repeated, dropped or broken at any depth before it is encoded.
 */
enum kind {
	K_U8,
	K_U16,
	K_BE16,
	K_U32,
	K_U64,
	K_FLAG,
	K_ADDR,
	K_BIN,
	K_STR,
	K_SPEC,
	K_NEST
};

/* The attribute sets of the header, as the policies read them. */
enum aset { S_TOP, S_SVC, S_BE, S_STATS, S_LOOKUP, S_RULES, NSETS };

static const int set_max[NSETS] = {
	VIPLB_A_MAX,	   VIPLB_SVC_A_MAX,    VIPLB_BE_A_MAX,
	VIPLB_STATS_A_MAX, VIPLB_LOOKUP_A_MAX, VIPLB_RULES_A_MAX,
};

static const char *const set_names[NSETS] = {
	"VIPLB_A",	 "VIPLB_SVC_A",	   "VIPLB_BE_A",
	"VIPLB_STATS_A", "VIPLB_LOOKUP_A", "VIPLB_RULES_A",
};

/* Attributes sent, by set and type. */
static unsigned long cover[NSETS][32];

/* Values a policy limits to a range: what an out-of-range mutation breaks. */
enum range {
	R_NONE,
	R_SCHED,
	R_MODE,
	R_TSIZE,
	R_SVCFLAGS,
	R_WEIGHT,
	R_BEFLAGS,
	R_SCOPE,
	R_RTABLE,
	R_POLICY
};

#define ITEM_DATA 512
#define ITEMS_MAX 24
#define LISTS_MAX 12

struct alist;

struct item {
	uint16_t type; /* attribute type, flags apart */
	uint16_t flags; /* NLA_F_NESTED, as sent */
	uint8_t kind;
	uint8_t set; /* the set the type is read in */
	uint8_t range;
	uint8_t max; /* K_STR, K_BIN: longest valid payload */
	int len; /* payload bytes (not for nests) */
	int nla_len; /* as sent; -1: the true length */
	int junk; /* nests: junk bytes after the attributes */
	struct alist *child; /* nests */
	unsigned char data[ITEM_DATA];
};

struct alist {
	int n;
	uint8_t set;
	struct item it[ITEMS_MAX];
};

static struct alist lists[LISTS_MAX];
static int n_lists;

static struct alist *al_new(uint8_t set)
{
	struct alist *l;

	if (n_lists == LISTS_MAX)
		ksft_exit_fail_msg("too many attribute lists\n");
	l = &lists[n_lists++];
	l->n = 0;
	l->set = set;
	return l;
}

static struct item *al_add(struct alist *l, uint16_t type, uint8_t kind,
			   const void *data, int len)
{
	struct item *it;

	if (l->n == ITEMS_MAX || len > ITEM_DATA)
		ksft_exit_fail_msg("attribute list overflow\n");
	it = &l->it[l->n++];
	memset(it, 0, offsetof(struct item, data));
	it->type = type;
	it->kind = kind;
	it->set = l->set;
	it->len = len;
	it->nla_len = -1;
	if (len)
		memcpy(it->data, data, len);
	return it;
}

static struct item *al_u8(struct alist *l, uint16_t type, uint8_t v)
{
	return al_add(l, type, K_U8, &v, 1);
}

static struct item *al_u16(struct alist *l, uint16_t type, uint16_t v)
{
	return al_add(l, type, K_U16, &v, 2);
}

/* @v in network order already. */
static struct item *al_be16(struct alist *l, uint16_t type, uint16_t v)
{
	return al_add(l, type, K_BE16, &v, 2);
}

static struct item *al_u32(struct alist *l, uint16_t type, uint32_t v,
			   uint8_t range)
{
	struct item *it = al_add(l, type, K_U32, &v, 4);

	it->range = range;
	return it;
}

static struct item *al_u64(struct alist *l, uint16_t type, uint64_t v)
{
	return al_add(l, type, K_U64, &v, 8);
}

static struct item *al_flag(struct alist *l, uint16_t type)
{
	return al_add(l, type, K_FLAG, NULL, 0);
}

static struct item *al_str(struct alist *l, uint16_t type, const char *s,
			   int len, int max)
{
	struct item *it = al_add(l, type, K_STR, s, len);

	it->max = max;
	return it;
}

static struct item *al_nest(struct alist *l, uint16_t type, struct alist *child)
{
	struct item *it = al_add(l, type, K_NEST, NULL, 0);

	it->flags = NLA_F_NESTED;
	it->child = child;
	return it;
}

static void al_shuffle(struct alist *l)
{
	int i;

	for (i = l->n - 1; i > 0; i--) {
		int j = rnd(i + 1);
		struct item t;

		if (i == j)
			continue;
		t = l->it[i];
		l->it[i] = l->it[j];
		l->it[j] = t;
	}
}

static size_t enc_list(const struct alist *l, unsigned char *out, size_t room);

/* Encoding to measure: not counted as sent. */
static bool dry;
static unsigned char scratch[64 * 1024];

static size_t enc_item(const struct item *it, unsigned char *out, size_t room)
{
	struct nlattr *nla = (struct nlattr *)out;
	size_t plen, total;

	if (room < NLA_HDRLEN + ITEM_DATA)
		ksft_exit_fail_msg("message buffer overflow\n");
	if (it->child) {
		plen = enc_list(it->child, out + NLA_HDRLEN,
				room - NLA_HDRLEN - ITEM_DATA);
		memcpy(out + NLA_HDRLEN + plen, it->data, it->junk);
		plen += it->junk;
	} else {
		plen = it->len;
		memcpy(out + NLA_HDRLEN, it->data, plen);
	}
	total = NLA_HDRLEN + NLA_ALIGN(plen);
	memset(out + NLA_HDRLEN + plen, 0, total - NLA_HDRLEN - plen);
	nla->nla_len = it->nla_len >= 0 ? (size_t)it->nla_len :
					  NLA_HDRLEN + plen;
	nla->nla_type = it->type | it->flags;
	if (!dry && it->set < NSETS && it->type <= set_max[it->set])
		cover[it->set][it->type]++;
	return total;
}

static size_t enc_list(const struct alist *l, unsigned char *out, size_t room)
{
	size_t off = 0;
	int i;

	for (i = 0; i < l->n; i++)
		off += enc_item(&l->it[i], out + off, room - off);
	return off;
}

/* ------------------------------------------------------------- messages */

/* A request being built: its headers and its attribute tree. */
struct gmsg {
	uint8_t cmd;
	uint8_t version;
	uint8_t reserved;
	uint16_t flags; /* nlmsg_flags but NLM_F_REQUEST */
	int cls;
	int cut; /* bytes kept after the nlmsghdr, or -1 */
	int junk; /* junk bytes after the attributes */
	struct alist *top;
};

static void gm_init(struct gmsg *g, uint8_t cmd)
{
	n_lists = 0;
	memset(g, 0, sizeof(*g));
	g->cmd = cmd;
	g->version = VIPLB_GENL_VERSION;
	g->flags = NLM_F_ACK;
	g->cut = -1;
	g->top = al_new(S_TOP);
}

/* Encodes @g at @out; returns its length (nlmsg_len). */
static size_t enc_msg(const struct gmsg *g, unsigned char *out, size_t room,
		      uint32_t seq)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)out;
	struct genlmsghdr *gh = NLMSG_DATA(nlh);
	size_t len = NLMSG_HDRLEN + GENL_HDRLEN;

	nlh->nlmsg_type = family;
	nlh->nlmsg_flags = NLM_F_REQUEST | g->flags;
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_pid = 0;
	gh->cmd = g->cmd;
	gh->version = g->version;
	gh->reserved = g->reserved;
	len += enc_list(g->top, out + len, room - len - 16);
	rnd_bytes(out + len, g->junk);
	len += g->junk;
	if (g->cut >= 0)
		len = NLMSG_HDRLEN + g->cut;
	nlh->nlmsg_len = len;
	return len;
}

/* ------------------------------------------------------------- parsing */

static int alen(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

static const void *adata(const struct nlattr *a)
{
	return (const unsigned char *)a + NLA_HDRLEN;
}

static uint8_t a_u8(const struct nlattr *a)
{
	return *(const uint8_t *)adata(a);
}

static uint16_t a_u16(const struct nlattr *a)
{
	uint16_t v;

	memcpy(&v, adata(a), 2);
	return v;
}

static uint32_t a_u32(const struct nlattr *a)
{
	uint32_t v;

	memcpy(&v, adata(a), 4);
	return v;
}

static uint64_t a_u64(const struct nlattr *a)
{
	uint64_t v;

	memcpy(&v, adata(a), 8);
	return v;
}

/* Attributes at @p into @tb, the last of a type winning, as the kernel. */
static void parse_attrs(const void *p, int len, const struct nlattr **tb,
			int max)
{
	const unsigned char *c = p;

	memset(tb, 0, (max + 1) * sizeof(*tb));
	while (len >= NLA_HDRLEN) {
		const struct nlattr *a = (const void *)c;
		int t = a->nla_type & NLA_TYPE_MASK;

		if (a->nla_len < NLA_HDRLEN || a->nla_len > len)
			break;
		if (t <= max)
			tb[t] = a;
		len -= NLA_ALIGN(a->nla_len);
		c += NLA_ALIGN(a->nla_len);
	}
}

static void parse_nest(const struct nlattr *nest, const struct nlattr **tb,
		       int max)
{
	parse_attrs(adata(nest), alen(nest), tb, max);
}

/* The attributes of a genetlink message. */
static void parse_msg(const struct nlmsghdr *nlh, const struct nlattr **tb,
		      int max)
{
	int len = (int)nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;

	parse_attrs((const unsigned char *)NLMSG_DATA(nlh) + GENL_HDRLEN, len,
		    tb, max);
}

/* ---------------------------------------------------------------- model */

/*
 * What the module holds, as far as this program knows.  Each handler
 * below mirrors one in kmod/ and returns the answer it must give: 0, an
 * -errno, or X_ANY when the model does not know enough.  Called with
 * @apply, it also makes the change that answer means.
 */
struct skey {
	uint16_t af;
	uint8_t proto;
	uint8_t addr[16];
	uint16_t port; /* network order */
};

#define MAX_SVC 96
#define MAX_BE 32
#define SLOTS_MAX (1U << 26) /* net.viplb.max_table_slots */

struct mbe {
	uint8_t addr[16];
	uint16_t port;
	uint32_t weight;
	uint32_t flags;
};

struct msvc {
	struct skey key;
	uint32_t sched, mode, table_size, flags; /* table_size 0: auto */
	int nbe;
	struct mbe be[MAX_BE];
};

struct mcfg {
	int n;
	struct msvc s[MAX_SVC]; /* in creation order, as dumped */
};

#define MR_CHAINS 24
#define MR_RULES 48

struct mrule {
	struct viplb_rule_spec spec;
	int chain;
	int target;
	uint64_t handle; /* 0: not known yet */
	uint64_t pkts, bytes;
	int comment; /* bytes of @text, -1: none */
	char text[VIPLB_COMMENT_MAX];
	int order_len;
	uint8_t order[VIPLB_MATCH_ORDER_MAX];
};

struct mchain {
	char name[VIPLB_CHAIN_NAME_MAX];
	int hook; /* -1: a user chain */
	uint32_t policy;
	uint64_t pkts, bytes;
};

struct mtable {
	int nc, nr;
	struct mchain c[MR_CHAINS];
	struct mrule r[MR_RULES]; /* live: by chain; loading: in order */
};

enum { T_NONE, T_OPEN, T_UNKNOWN, T_MAYBE };

/*
 * The transaction: T_OPEN is known in full; T_UNKNOWN is open, owned by
 * @owner, with unknown contents; T_MAYBE may be open, owned by @owner
 * (-1: by any socket of the pool).
 */
struct mtxn {
	int st;
	int owner;
	uint32_t scope;
	bool failed;
	uint32_t ops;
	struct mcfg cfg;
	bool check_gen;
	uint32_t gen;
	bool built[2][2];
	struct mtable b[2][2];
	int ntaken[2][2];
	uint64_t taken[2][2][MR_RULES];
};

static struct mcfg live;
static bool live_known; /* else: read it back before predicting */
static bool live_check; /* compare with a dump soon */
static struct mtable rlive[2][2]; /* [afi][table] */
static bool rtab_known[2][2], rtab_check[2][2];
static bool gen_known;
static uint32_t rules_gen;
static struct mtxn txn;

static const char *const hook_names[] = {
	"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING",
};

#define HB(h) (1U << VIPLB_HOOK_##h)

static const unsigned int table_hooks[2] = {
	[VIPLB_RTABLE_FILTER] = HB(INPUT) | HB(FORWARD) | HB(OUTPUT),
	[VIPLB_RTABLE_NAT] = HB(PREROUTING) | HB(INPUT) | HB(OUTPUT) |
			     HB(POSTROUTING),
};

/* A request as the model reads it. */
struct mreq {
	int sock;
	uint8_t cmd;
	bool dump;
	const struct nlattr *tb[VIPLB_A_MAX + 1];
};

static int addr_len(uint16_t af)
{
	return af == AF_INET ? 4 : 16;
}

static bool key_eq(const struct skey *a, const struct skey *b)
{
	return a->af == b->af && a->proto == b->proto && a->port == b->port &&
	       !memcmp(a->addr, b->addr, 16);
}

static const char *key_str(const struct skey *k)
{
	static __thread char buf[2][80];
	static __thread int i;
	char a[INET6_ADDRSTRLEN] = "?";

	i ^= 1;
	if (k->af == AF_INET || k->af == AF_INET6)
		inet_ntop(k->af, k->addr, a, sizeof(a));
	snprintf(buf[i], sizeof(buf[i]), "%s %s port %u",
		 k->proto == IPPROTO_TCP ? "tcp" : "udp", a, ntohs(k->port));
	return buf[i];
}

static struct msvc *m_find(struct mcfg *c, const struct skey *k)
{
	int i;

	for (i = 0; i < c->n; i++)
		if (key_eq(&c->s[i].key, k))
			return &c->s[i];
	return NULL;
}

static bool is_prime(uint32_t m)
{
	uint32_t d;

	if (m < 2)
		return false;
	for (d = 2; d <= m / d; d++)
		if (m % d == 0)
			return false;
	return true;
}

static bool is_zero(const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n--)
		if (*c++)
			return false;
	return true;
}

/* The string of a NUL_STRING attribute (the policy saw a NUL in it). */
static void a_str(const struct nlattr *a, char *out, size_t n)
{
	size_t l = strnlen(adata(a), alen(a));

	if (l >= n)
		l = n - 1;
	memcpy(out, adata(a), l);
	out[l] = 0;
}

/* ------------------------------------------------ services, backends */

static int owns(int sock)
{
	switch (txn.st) {
	case T_OPEN:
	case T_UNKNOWN:
		return txn.owner == sock ? 1 : 0;
	case T_MAYBE:
		return txn.owner == sock || txn.owner < 0 ? -1 : 0;
	}
	return 0;
}

static void txn_release(void)
{
	txn.st = T_NONE;
	txn.owner = -1;
}

/* parse_svc() */
static int m_parse_svc(const struct nlattr *nest, struct skey *k,
		       const struct nlattr **stb)
{
	uint16_t af;

	parse_nest(nest, stb, VIPLB_SVC_A_MAX);
	if (!stb[VIPLB_SVC_A_AF] || !stb[VIPLB_SVC_A_PROTO] ||
	    !stb[VIPLB_SVC_A_ADDR] || !stb[VIPLB_SVC_A_PORT])
		return -EINVAL;
	memset(k, 0, sizeof(*k));
	af = a_u16(stb[VIPLB_SVC_A_AF]);
	k->af = af;
	k->proto = a_u8(stb[VIPLB_SVC_A_PROTO]);
	if (af != AF_INET && af != AF_INET6)
		return -EAFNOSUPPORT;
	if (k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP)
		return -EPROTONOSUPPORT;
	if (stb[VIPLB_SVC_A_TABLE_SIZE] &&
	    !is_prime(a_u32(stb[VIPLB_SVC_A_TABLE_SIZE])))
		return -EINVAL;
	if (stb[VIPLB_SVC_A_TABLE_SIZE] && stb[VIPLB_SVC_A_TABLE_AUTO])
		return -EINVAL;
	k->port = a_u16(stb[VIPLB_SVC_A_PORT]);
	if (alen(stb[VIPLB_SVC_A_ADDR]) != addr_len(af))
		return -EINVAL;
	memcpy(k->addr, adata(stb[VIPLB_SVC_A_ADDR]), addr_len(af));
	return 0;
}

/* lookup_svc() */
static int m_lookup_svc(struct mcfg *c, const struct mreq *q,
			const struct nlattr **stb, struct msvc **svc)
{
	struct skey k;
	int err;

	if (!q->tb[VIPLB_A_SERVICE])
		return -EINVAL;
	err = m_parse_svc(q->tb[VIPLB_A_SERVICE], &k, stb);
	if (err)
		return err;
	*svc = m_find(c, &k);
	return *svc ? 0 : -ENOENT;
}

static uint64_t slots_of(uint32_t sched, uint32_t size, int nbe)
{
	bool table = sched == VIPLB_SCHED_SH || sched == VIPLB_SCHED_MAGLEV;

	return table && nbe ? (size ?: viplb_maglev_auto_size(nbe)) : 0;
}

static uint64_t cfg_slots(const struct mcfg *c)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < c->n; i++)
		n += slots_of(c->s[i].sched, c->s[i].table_size, c->s[i].nbe);
	return n;
}

/* The cap viplb_service_changed() checks. */
static int slots_check(const struct mcfg *c, uint64_t old, uint64_t slots)
{
	if (slots > old && cfg_slots(c) - old + slots > SLOTS_MAX)
		return -ENOSPC;
	return 0;
}

static void svc_settings(struct msvc *s, const struct nlattr **stb)
{
	if (stb[VIPLB_SVC_A_SCHED])
		s->sched = a_u32(stb[VIPLB_SVC_A_SCHED]);
	if (stb[VIPLB_SVC_A_MODE])
		s->mode = a_u32(stb[VIPLB_SVC_A_MODE]);
	if (stb[VIPLB_SVC_A_TABLE_SIZE])
		s->table_size = a_u32(stb[VIPLB_SVC_A_TABLE_SIZE]);
	if (stb[VIPLB_SVC_A_TABLE_AUTO])
		s->table_size = 0;
	if (stb[VIPLB_SVC_A_FLAGS])
		s->flags = a_u32(stb[VIPLB_SVC_A_FLAGS]);
}

static int m_service_new(struct mcfg *c, const struct mreq *q, bool apply)
{
	const struct nlattr *stb[VIPLB_SVC_A_MAX + 1];
	struct msvc *s;
	struct skey k;
	int err;

	if (!q->tb[VIPLB_A_SERVICE])
		return -EINVAL;
	err = m_parse_svc(q->tb[VIPLB_A_SERVICE], &k, stb);
	if (err)
		return err;
	if (m_find(c, &k))
		return -EEXIST;
	if (c->n == MAX_SVC)
		return X_ANY;
	if (!apply)
		return 0;
	s = &c->s[c->n++];
	memset(s, 0, sizeof(*s));
	s->key = k;
	s->sched = VIPLB_SCHED_MAGLEV;
	s->mode = VIPLB_MODE_NAT;
	s->table_size = 0;	/* automatic */
	svc_settings(s, stb);
	return 0;
}

static int m_service_set(struct mcfg *c, const struct mreq *q, bool apply)
{
	const struct nlattr *stb[VIPLB_SVC_A_MAX + 1];
	struct msvc *s, t;
	int err;

	err = m_lookup_svc(c, q, stb, &s);
	if (err)
		return err;
	t = *s;
	svc_settings(&t, stb);
	if (t.sched != s->sched || t.table_size != s->table_size)
		err = slots_check(c, slots_of(s->sched, s->table_size, s->nbe),
				  slots_of(t.sched, t.table_size, s->nbe));
	if (apply) {
		/* service_set() keeps mode and flags even when it fails */
		s->mode = t.mode;
		s->flags = t.flags;
		if (!err) {
			s->sched = t.sched;
			s->table_size = t.table_size;
		}
	}
	return err;
}

static int m_service_del(struct mcfg *c, const struct mreq *q, bool apply)
{
	const struct nlattr *stb[VIPLB_SVC_A_MAX + 1];
	struct msvc *s;
	int err;

	err = m_lookup_svc(c, q, stb, &s);
	if (err || !apply)
		return err;
	memmove(s, s + 1, (char *)&c->s[c->n] - (char *)(s + 1));
	c->n--;
	return 0;
}

static int m_flush(struct mcfg *c, const struct mreq *q, bool apply)
{
	(void)q;
	if (apply)
		c->n = 0;
	return 0;
}

/* parse_backend() */
static int m_parse_be(const struct mreq *q, const struct msvc *s,
		      const struct nlattr **btb, uint8_t *addr, uint16_t *port)
{
	if (!q->tb[VIPLB_A_BACKEND])
		return -EINVAL;
	parse_nest(q->tb[VIPLB_A_BACKEND], btb, VIPLB_BE_A_MAX);
	if (!btb[VIPLB_BE_A_ADDR] || !btb[VIPLB_BE_A_PORT])
		return -EINVAL;
	if (alen(btb[VIPLB_BE_A_ADDR]) != addr_len(s->key.af))
		return -EAFNOSUPPORT;
	memset(addr, 0, 16);
	memcpy(addr, adata(btb[VIPLB_BE_A_ADDR]), alen(btb[VIPLB_BE_A_ADDR]));
	*port = a_u16(btb[VIPLB_BE_A_PORT]);
	return 0;
}

static struct mbe *m_find_be(struct msvc *s, const uint8_t *addr, uint16_t port)
{
	int i;

	for (i = 0; i < s->nbe; i++)
		if (s->be[i].port == port && !memcmp(s->be[i].addr, addr, 16))
			return &s->be[i];
	return NULL;
}

static void be_settings(struct mbe *b, const struct nlattr **btb)
{
	if (btb[VIPLB_BE_A_WEIGHT])
		b->weight = a_u32(btb[VIPLB_BE_A_WEIGHT]);
	if (btb[VIPLB_BE_A_FLAGS])
		b->flags = a_u32(btb[VIPLB_BE_A_FLAGS]);
}

static int m_backend_new(struct mcfg *c, const struct mreq *q, bool apply)
{
	const struct nlattr *stb[VIPLB_SVC_A_MAX + 1];
	const struct nlattr *btb[VIPLB_BE_A_MAX + 1];
	uint8_t addr[16];
	struct msvc *s;
	struct mbe *b;
	uint16_t port;
	int err;

	err = m_lookup_svc(c, q, stb, &s);
	if (!err)
		err = m_parse_be(q, s, btb, addr, &port);
	if (err)
		return err;
	if (m_find_be(s, addr, port))
		return -EEXIST;
	if (s->nbe == MAX_BE)
		return X_ANY;
	err = slots_check(c, slots_of(s->sched, s->table_size, s->nbe),
			  slots_of(s->sched, s->table_size, s->nbe + 1));
	if (err || !apply)
		return err;
	b = &s->be[s->nbe++];
	memset(b, 0, sizeof(*b));
	memcpy(b->addr, addr, 16);
	b->port = port;
	b->weight = VIPLB_WEIGHT_DEFAULT;
	be_settings(b, btb);
	return 0;
}

static int m_lookup_be(struct mcfg *c, const struct mreq *q,
		       const struct nlattr **btb, struct msvc **s,
		       struct mbe **b)
{
	const struct nlattr *stb[VIPLB_SVC_A_MAX + 1];
	uint8_t addr[16];
	uint16_t port;
	int err;

	err = m_lookup_svc(c, q, stb, s);
	if (!err)
		err = m_parse_be(q, *s, btb, addr, &port);
	if (err)
		return err;
	*b = m_find_be(*s, addr, port);
	return *b ? 0 : -ENOENT;
}

static int m_backend_set(struct mcfg *c, const struct mreq *q, bool apply)
{
	const struct nlattr *btb[VIPLB_BE_A_MAX + 1];
	struct msvc *s;
	struct mbe *b;
	int err;

	err = m_lookup_be(c, q, btb, &s, &b);
	if (!err && apply)
		be_settings(b, btb);
	return err;
}

static int m_backend_del(struct mcfg *c, const struct mreq *q, bool apply)
{
	const struct nlattr *btb[VIPLB_BE_A_MAX + 1];
	struct msvc *s;
	struct mbe *b;
	int err;

	err = m_lookup_be(c, q, btb, &s, &b);
	if (err || !apply)
		return err;
	memmove(b, b + 1, (char *)&s->be[s->nbe] - (char *)(b + 1));
	s->nbe--;
	return 0;
}

typedef int (*mcfg_fn)(struct mcfg *c, const struct mreq *q, bool apply);

/* config_apply(): the owner's transaction, or the live configuration. */
static int m_config(const struct mreq *q, bool apply, mcfg_fn fn)
{
	int own = owns(q->sock), err;
	struct mcfg *c;

	if (own < 0)
		return X_ANY;
	if (own) {
		if (txn.st != T_OPEN)
			return X_ANY;
		c = txn.scope & VIPLB_TXN_SERVICES ? &txn.cfg : NULL;
	} else {
		if (!live_known)
			return X_ANY;
		c = &live;
	}
	err = c ? fn(c, q, apply) : -EINVAL;
	if (err == X_ANY || !apply || !own)
		return err;
	if (err)
		txn.failed = true;
	else
		txn.ops++;
	return err;
}

static int m_service_get(const struct mreq *q)
{
	const struct nlattr *stb[VIPLB_SVC_A_MAX + 1];
	struct msvc *s;

	if (!live_known)
		return X_ANY;
	return m_lookup_svc(&live, q, stb, &s);
}

static int m_service_dump(const struct mreq *q)
{
	const struct nlattr *stb[VIPLB_SVC_A_MAX + 1];
	struct skey k;
	int err;

	if (!live_known)
		return X_ANY;
	if (!q->tb[VIPLB_A_SERVICE])
		return 0;
	err = m_parse_svc(q->tb[VIPLB_A_SERVICE], &k, stb);
	if (err)
		return err;
	return m_find(&live, &k) ? 0 : -ENOENT;
}

static int m_stats_zero(const struct mreq *q)
{
	if (!q->tb[VIPLB_A_SERVICE])
		return 0;
	return m_service_get(q);
}

static int m_lookup(const struct mreq *q)
{
	const struct nlattr *stb[VIPLB_SVC_A_MAX + 1];
	const struct nlattr *ltb[VIPLB_LOOKUP_A_MAX + 1];
	struct msvc *s;
	int err;

	if (!live_known)
		return X_ANY;
	err = m_lookup_svc(&live, q, stb, &s);
	if (err)
		return err;
	if (!q->tb[VIPLB_A_LOOKUP])
		return -EINVAL;
	parse_nest(q->tb[VIPLB_A_LOOKUP], ltb, VIPLB_LOOKUP_A_MAX);
	if (!ltb[VIPLB_LOOKUP_A_SRC_ADDR] || !ltb[VIPLB_LOOKUP_A_SRC_PORT])
		return -EINVAL;
	if (alen(ltb[VIPLB_LOOKUP_A_SRC_ADDR]) != addr_len(s->key.af))
		return -EAFNOSUPPORT;
	return 0;
}

/* ------------------------------------------------------------ rules */

static bool r_addr_ok(const __be32 *a, int afi)
{
	return afi || is_zero(&a[1], 3 * sizeof(*a));
}

static bool r_ifname_ok(const char *name)
{
	size_t len = strnlen(name, VIPLB_IFNAME_MAX);

	return len > 0 && len < VIPLB_IFNAME_MAX &&
	       is_zero(name + len, VIPLB_IFNAME_MAX - len);
}

static bool r_l4(const struct viplb_rule_spec *s)
{
	return (s->match & VIPLB_M_PROTO) && !(s->invert & VIPLB_M_PROTO) &&
	       (s->proto == IPPROTO_TCP || s->proto == IPPROTO_UDP);
}

static bool r_l4_mports(const struct viplb_rule_spec *s)
{
	return (s->match & VIPLB_M_PROTO) && !(s->invert & VIPLB_M_PROTO) &&
	       (s->proto == IPPROTO_TCP || s->proto == IPPROTO_UDP ||
		s->proto == IPPROTO_UDPLITE || s->proto == IPPROTO_SCTP ||
		s->proto == IPPROTO_DCCP);
}

static bool bad_range(unsigned int match, unsigned int bit, const uint16_t *r)
{
	return (match & bit) ? r[0] > r[1] : r[0] || r[1];
}

/* check_conntrack() of kmod/rules.c */
static bool m_bad_conntrack(const struct viplb_rule_spec *s, int afi)
{
	unsigned int m = s->ct_match, i;

	if (!(s->match & VIPLB_M_CONNTRACK) != !m || (m & ~__VIPLB_CT_ALL) ||
	    (s->ct_invert & ~m) || s->ct_pad ||
	    (s->invert & VIPLB_M_CONNTRACK) ||
	    ((m & VIPLB_CT_PROTO) ? !s->ct_proto : s->ct_proto) ||
	    (s->ct_status & ~__VIPLB_CTSTATUS_ALL) ||
	    (!(m & VIPLB_CT_STATUS) && s->ct_status) ||
	    ((m & VIPLB_CT_EXPIRE) ? s->ct_expire[0] > s->ct_expire[1] :
				     s->ct_expire[0] || s->ct_expire[1]))
		return true;
	for (i = 0; i < VIPLB_CT_TUPLES; i++)
		if (!r_addr_ok(s->ct_addr[i], afi) ||
		    !r_addr_ok(s->ct_mask[i], afi) ||
		    (!(m & (VIPLB_CT_ORIGSRC << i)) &&
		     (!is_zero(s->ct_addr[i], sizeof(s->ct_addr[i])) ||
		      !is_zero(s->ct_mask[i], sizeof(s->ct_mask[i])))) ||
		    bad_range(m, VIPLB_CT_ORIGSRC_PORT << i, s->ct_port[i]))
			return true;
	return false;
}

/* check_matches() of kmod/rules.c */
static int m_check_matches(const struct viplb_rule_spec *s, int afi)
{
	unsigned int m = s->match, i, nports = 0;

	if ((m & ~__VIPLB_M_ALL) || (s->invert & ~m) ||
	    (!(m & VIPLB_M_PROTO) && s->proto) || !r_addr_ok(s->src, afi) ||
	    !r_addr_ok(s->src_mask, afi) || !r_addr_ok(s->dst, afi) ||
	    !r_addr_ok(s->dst_mask, afi) ||
	    (!(m & VIPLB_M_SRC) && !is_zero(s->src, sizeof(s->src) * 2)) ||
	    (!(m & VIPLB_M_DST) && !is_zero(s->dst, sizeof(s->dst) * 2)) ||
	    ((m & VIPLB_M_IIF) ? !r_ifname_ok(s->iif) :
				 !is_zero(s->iif, sizeof(s->iif))) ||
	    ((m & VIPLB_M_OIF) ? !r_ifname_ok(s->oif) :
				 !is_zero(s->oif, sizeof(s->oif))))
		return -EINVAL;
	for (i = 0; i < 4; i++)
		if ((s->src[i] & ~s->src_mask[i]) ||
		    (s->dst[i] & ~s->dst_mask[i]))
			return -EINVAL;
	if (((m & (VIPLB_M_SPORT | VIPLB_M_DPORT)) && !r_l4(s)) ||
	    ((m & VIPLB_M_MPORTS) && !r_l4_mports(s)) ||
	    ((m & VIPLB_M_TCP_FLAGS) ?
		     !r_l4(s) || s->proto != IPPROTO_TCP ||
			     (m & VIPLB_M_SYN) :
		     s->tcp_flags_mask || s->tcp_flags_cmp) ||
	    ((m & VIPLB_M_SYN) && (!r_l4(s) || s->proto != IPPROTO_TCP)) ||
	    bad_range(m, VIPLB_M_SPORT, s->sport) ||
	    bad_range(m, VIPLB_M_DPORT, s->dport))
		return -EINVAL;
	if (m & VIPLB_M_MPORTS) {
		if (!s->n_mports || s->n_mports > VIPLB_MPORTS_MAX ||
		    !s->mport_flags ||
		    (s->mport_flags & ~(VIPLB_MPORT_SRC | VIPLB_MPORT_DST)))
			return -EINVAL;
		for (i = 0; i < s->n_mports; i++) {
			if (s->mports[i][0] > s->mports[i][1])
				return -EINVAL;
			nports += s->mports[i][0] == s->mports[i][1] ? 1 : 2;
		}
		if (nports > VIPLB_MPORTS_MAX)
			return -EINVAL;
	} else if (s->n_mports || s->mport_flags ||
		   !is_zero(s->mports, sizeof(s->mports))) {
		return -EINVAL;
	}
	if ((m & VIPLB_M_CTSTATE) ?
		    !s->ctstate || (s->ctstate & ~__VIPLB_CTSTATE_ALL) :
		    s->ctstate)
		return -EINVAL;
	if (!(m & VIPLB_M_MARK) && (s->mark || s->mark_mask))
		return -EINVAL;
	if (m_bad_conntrack(s, afi))
		return -EINVAL;
	if (!(m & VIPLB_M_STATISTIC))
		return s->stat_mode || s->stat_prob || s->stat_every ||
				       s->stat_packet ?
			       -EINVAL :
			       0;
	if (s->stat_mode == VIPLB_STAT_RANDOM)
		return s->stat_prob > 0x80000000U || s->stat_every ||
				       s->stat_packet ?
			       -EINVAL :
			       0;
	if (s->stat_mode == VIPLB_STAT_NTH)
		return !s->stat_every || s->stat_packet >= s->stat_every ||
				       s->stat_prob ?
			       -EINVAL :
			       0;
	return -EINVAL;
}

static bool is_nat(uint32_t v)
{
	return v >= VIPLB_V_DNAT && v <= VIPLB_V_REDIRECT;
}

/* reject_in_family() of kmod/rules.c */
static bool m_reject_in_family(uint32_t with, int afi)
{
	switch (with) {
	case VIPLB_REJECT_PROTO_UNREACH:
	case VIPLB_REJECT_NET_PROHIBITED:
	case VIPLB_REJECT_HOST_PROHIBITED:
		return !afi;
	case VIPLB_REJECT_POLICY_FAIL:
	case VIPLB_REJECT_REJECT_ROUTE:
		return afi;
	}
	return true;
}

/* check_target() of kmod/rules.c */
static int m_check_target(const struct viplb_rule_spec *s, int afi, int tb)
{
	uint32_t v = s->verdict, f = s->nat_flags;

	if (v > VIPLB_V_MAX ||
	    (tb == VIPLB_RTABLE_NAT &&
	     (v == VIPLB_V_DROP || v == VIPLB_V_REJECT)) ||
	    (tb != VIPLB_RTABLE_NAT && is_nat(v)) ||
	    (v != VIPLB_V_REJECT && s->reject_with) ||
	    (v == VIPLB_V_REJECT && s->reject_with > VIPLB_REJECT_MAX) ||
	    (v == VIPLB_V_REJECT && !m_reject_in_family(s->reject_with, afi)) ||
	    (v == VIPLB_V_REJECT && s->reject_with == VIPLB_REJECT_TCP_RESET &&
	     (!r_l4(s) || s->proto != IPPROTO_TCP)) ||
	    (v != VIPLB_V_MARK && (s->set_mark || s->set_mark_mask)))
		return -EINVAL;
	if (!is_nat(v))
		return f || !is_zero(s->nat_min, sizeof(s->nat_min) * 2) ||
				       s->nat_port_min || s->nat_port_max ||
				       s->nat_port_base ?
			       -EINVAL :
			       0;
	if ((f & ~__VIPLB_NAT_F_ALL) ||
	    ((v == VIPLB_V_DNAT || v == VIPLB_V_SNAT) &&
	     !(f & (VIPLB_NAT_F_ADDR | VIPLB_NAT_F_PORTS))) ||
	    ((v == VIPLB_V_MASQUERADE || v == VIPLB_V_REDIRECT) &&
	     (f & VIPLB_NAT_F_ADDR)))
		return -EINVAL;
	if ((f & VIPLB_NAT_F_ADDR) ?
		    !r_addr_ok(s->nat_min, afi) ||
			    !r_addr_ok(s->nat_max, afi) ||
			    memcmp(s->nat_min, s->nat_max, sizeof(s->nat_min)) >
				    0 :
		    !is_zero(s->nat_min, sizeof(s->nat_min) * 2))
		return -EINVAL;
	if ((f & VIPLB_NAT_F_PORTS) ?
		    !r_l4(s) || s->nat_port_min > s->nat_port_max :
		    s->nat_port_min || s->nat_port_max)
		return -EINVAL;
	if ((f & VIPLB_NAT_F_PORT_OFFSET) ?
		    v != VIPLB_V_DNAT || !(f & VIPLB_NAT_F_PORTS) ||
			    !s->nat_port_base :
		    s->nat_port_base)
		return -EINVAL;
	return 0;
}

static unsigned int target_hooks(uint32_t v)
{
	switch (v) {
	case VIPLB_V_DNAT:
	case VIPLB_V_REDIRECT:
		return HB(PREROUTING) | HB(OUTPUT);
	case VIPLB_V_SNAT:
		return HB(INPUT) | HB(POSTROUTING);
	case VIPLB_V_MASQUERADE:
		return HB(POSTROUTING);
	}
	return ~0U;
}

static bool is_jump(uint32_t v)
{
	return v == VIPLB_V_JUMP || v == VIPLB_V_GOTO;
}

static int find_chain(const struct mtable *t, const char *name)
{
	int i;

	for (i = 0; i < t->nc; i++)
		if (!strcmp(t->c[i].name, name))
			return i;
	return -1;
}

/* A table as viplb_rules_load_table() starts it. */
static void mt_start(struct mtable *t, int tb, const struct mtable *old)
{
	int h, i;

	t->nc = 0;
	t->nr = 0;
	for (h = 0; h < (int)ARRAY_SIZE(hook_names); h++) {
		struct mchain *c;

		if (!(table_hooks[tb] & (1U << h)))
			continue;
		c = &t->c[t->nc++];
		memset(c, 0, sizeof(*c));
		strcpy(c->name, hook_names[h]);
		c->hook = h;
		c->policy = VIPLB_V_ACCEPT;
		for (i = 0; old && i < old->nc; i++) {
			if (old->c[i].hook == h) {
				c->pkts = old->c[i].pkts;
				c->bytes = old->c[i].bytes;
			}
		}
	}
}

static uint32_t chain_refs(const struct mtable *t, int ci)
{
	uint32_t n = 0;
	int i;

	for (i = 0; i < t->nr; i++)
		if (is_jump(t->r[i].spec.verdict) && t->r[i].target == ci)
			n++;
	return n;
}

/* parse_rules_nest() */
static int m_rules_nest(const struct mreq *q, const struct nlattr **rtb,
			int *afi, int *tb)
{
	uint16_t af;

	if (!q->tb[VIPLB_A_RULES])
		return -EINVAL;
	parse_nest(q->tb[VIPLB_A_RULES], rtb, VIPLB_RULES_A_MAX);
	if (!rtb[VIPLB_RULES_A_AF] || !rtb[VIPLB_RULES_A_TABLE])
		return -EINVAL;
	af = a_u16(rtb[VIPLB_RULES_A_AF]);
	if (af != AF_INET && af != AF_INET6)
		return -EAFNOSUPPORT;
	*afi = af == AF_INET6;
	*tb = a_u32(rtb[VIPLB_RULES_A_TABLE]);
	return 0;
}

typedef int (*mrules_fn)(const struct mreq *q, bool apply);

/* viplb_txn_apply(): rule commands exist only in a rules transaction. */
static int m_txn_apply(const struct mreq *q, bool apply, mrules_fn fn)
{
	int own = owns(q->sock), err;

	if (own < 0)
		return X_ANY;
	if (!own)
		return -EINVAL;
	if (txn.st != T_OPEN)
		return X_ANY;
	if (!(txn.scope & VIPLB_TXN_RULES))
		return -EINVAL;
	err = fn(q, apply);
	if (err == X_ANY || !apply)
		return err;
	if (err)
		txn.failed = true;
	else
		txn.ops++;
	return err;
}

static int m_rules_table(const struct mreq *q, bool apply)
{
	const struct nlattr *rtb[VIPLB_RULES_A_MAX + 1];
	const struct nlattr *g;
	int afi, tb, err;

	err = m_rules_nest(q, rtb, &afi, &tb);
	if (err)
		return err;
	g = rtb[VIPLB_RULES_A_GEN];
	if (g && txn.check_gen && txn.gen != a_u32(g))
		return -EINVAL;
	if (!rtab_known[afi][tb])
		return X_ANY;
	if (!apply)
		return 0;
	if (g) {
		txn.check_gen = true;
		txn.gen = a_u32(g);
	}
	mt_start(&txn.b[afi][tb], tb, &rlive[afi][tb]);
	txn.built[afi][tb] = true;
	txn.ntaken[afi][tb] = 0;
	return 0;
}

/* msg_build(): the table a CHAIN or RULE message adds to. */
static struct mtable *m_build(const struct mreq *q, const struct nlattr **rtb,
			      int *afi, int *tb, int *err)
{
	*err = m_rules_nest(q, rtb, afi, tb);
	if (*err)
		return NULL;
	if (!rtb[VIPLB_RULES_A_CHAIN] || !txn.built[*afi][*tb]) {
		*err = -EINVAL;
		return NULL;
	}
	return &txn.b[*afi][*tb];
}

static int m_rules_chain(const struct mreq *q, bool apply)
{
	const struct nlattr *rtb[VIPLB_RULES_A_MAX + 1];
	char name[VIPLB_CHAIN_NAME_MAX];
	const struct nlattr *pk, *by, *po;
	struct mtable *b;
	struct mchain *c;
	int afi, tb, err, i;

	b = m_build(q, rtb, &afi, &tb, &err);
	if (!b)
		return err;
	a_str(rtb[VIPLB_RULES_A_CHAIN], name, sizeof(name));
	po = rtb[VIPLB_RULES_A_POLICY];
	pk = rtb[VIPLB_RULES_A_PKTS];
	by = rtb[VIPLB_RULES_A_BYTES];
	i = find_chain(b, name);
	if (i >= 0 && b->c[i].hook < 0)
		return -EEXIST;
	if (i < 0) {
		if (po || pk || by || !viplb_chain_name_ok(name))
			return -EINVAL;
		if (b->nc == MR_CHAINS)
			return X_ANY;
		if (apply) {
			c = &b->c[b->nc++];
			memset(c, 0, sizeof(*c));
			strcpy(c->name, name);
			c->hook = -1;
		}
		return 0;
	}
	if (po && a_u32(po) == VIPLB_V_DROP && tb != VIPLB_RTABLE_FILTER)
		return -EINVAL;
	if (!apply)
		return 0;
	c = &b->c[i];
	if (po)
		c->policy = a_u32(po);
	if (pk || by) {
		c->pkts = pk ? a_u64(pk) : 0;
		c->bytes = by ? a_u64(by) : 0;
	}
	return 0;
}

/* The live rule of table (@afi, @tb) with handle @h, NULL if none. */
static const struct mrule *live_rule(int afi, int tb, uint64_t h)
{
	int i;

	for (i = 0; i < rlive[afi][tb].nr; i++)
		if (rlive[afi][tb].r[i].handle == h)
			return &rlive[afi][tb].r[i];
	return NULL;
}

static bool handles_known(int afi, int tb)
{
	int i;

	for (i = 0; i < rlive[afi][tb].nr; i++)
		if (!rlive[afi][tb].r[i].handle)
			return false;
	return true;
}

static int m_rules_rule(const struct mreq *q, bool apply)
{
	const struct nlattr *rtb[VIPLB_RULES_A_MAX + 1];
	char name[VIPLB_CHAIN_NAME_MAX], tname[VIPLB_CHAIN_NAME_MAX];
	const struct nlattr *ha, *pk, *by, *co, *mo;
	const struct mrule *old = NULL;
	struct viplb_rule_spec spec;
	int afi, tb, err, ci, ti = 0, i;
	struct mtable *b;
	struct mrule *r;
	uint64_t h = 0;

	b = m_build(q, rtb, &afi, &tb, &err);
	if (!b)
		return err;
	if (!rtb[VIPLB_RULES_A_SPEC])
		return -EINVAL;
	memcpy(&spec, adata(rtb[VIPLB_RULES_A_SPEC]), sizeof(spec));
	a_str(rtb[VIPLB_RULES_A_CHAIN], name, sizeof(name));
	ci = find_chain(b, name);
	if (ci < 0)
		return -ENOENT;
	err = m_check_matches(&spec, afi);
	if (!err)
		err = m_check_target(&spec, afi, tb);
	if (err)
		return err;
	if (is_jump(spec.verdict) != !!rtb[VIPLB_RULES_A_TARGET])
		return -EINVAL;
	if (is_jump(spec.verdict)) {
		a_str(rtb[VIPLB_RULES_A_TARGET], tname, sizeof(tname));
		ti = find_chain(b, tname);
		if (ti < 0 || b->c[ti].hook >= 0)
			return -ENOENT;
	}
	ha = rtb[VIPLB_RULES_A_HANDLE];
	pk = rtb[VIPLB_RULES_A_PKTS];
	by = rtb[VIPLB_RULES_A_BYTES];
	if (ha) {
		h = a_u64(ha);
		if (!handles_known(afi, tb))
			return X_ANY;
		old = h ? live_rule(afi, tb, h) : NULL;
		if (!old)
			return -ENOENT;
		for (i = 0; i < txn.ntaken[afi][tb]; i++)
			if (txn.taken[afi][tb][i] == h)
				return -EINVAL;
	}
	if (b->nr == MR_RULES)
		return X_ANY;
	if (!apply)
		return 0;
	if (ha)
		txn.taken[afi][tb][txn.ntaken[afi][tb]++] = h;
	r = &b->r[b->nr++];
	memset(r, 0, sizeof(*r));
	r->spec = spec;
	r->chain = ci;
	r->target = ti;
	r->handle = h;
	if (old && !pk && !by) {
		r->pkts = old->pkts;
		r->bytes = old->bytes;
	} else {
		r->pkts = pk ? a_u64(pk) : 0;
		r->bytes = by ? a_u64(by) : 0;
	}
	co = rtb[VIPLB_RULES_A_COMMENT];
	r->comment = -1;
	if (co) {
		a_str(co, r->text, sizeof(r->text));
		r->comment = strlen(r->text);
	}
	mo = rtb[VIPLB_RULES_A_MATCH_ORDER];
	if (mo) {
		r->order_len = alen(mo);
		memcpy(r->order, adata(mo), r->order_len);
	}
	return 0;
}

/* Depth-first: true if a loop is reachable from chain @c. */
static bool dfs(const struct mtable *t, int c, int *color, int *height)
{
	int i;

	color[c] = 1;
	height[c] = 0;
	for (i = 0; i < t->nr; i++) {
		const struct mrule *r = &t->r[i];
		int h;

		if (r->chain != c || !is_jump(r->spec.verdict))
			continue;
		if (color[r->target] == 1)
			return true;
		if (!color[r->target] && dfs(t, r->target, color, height))
			return true;
		h = height[r->target] + (r->spec.verdict == VIPLB_V_JUMP);
		if (h > height[c])
			height[c] = h;
	}
	color[c] = 2;
	return false;
}

/* table_finish(): the checks of a whole table at commit. */
static int m_finish(const struct mtable *t)
{
	int color[MR_CHAINS] = { 0 }, height[MR_CHAINS];
	unsigned int reach[MR_CHAINS] = { 0 };
	int i, k;

	for (i = 0; i < t->nc; i++)
		if (!color[i] && dfs(t, i, color, height))
			return -ELOOP;
	for (i = 0; i < t->nc; i++) {
		if (t->c[i].hook < 0)
			continue;
		if (height[i] > VIPLB_JUMP_DEPTH_MAX)
			return -ELOOP;
		reach[i] |= 1U << t->c[i].hook;
	}
	for (k = 0; k < t->nc; k++)
		for (i = 0; i < t->nr; i++)
			if (is_jump(t->r[i].spec.verdict))
				reach[t->r[i].target] |= reach[t->r[i].chain];
	for (i = 0; i < t->nr; i++)
		if (reach[t->r[i].chain] & ~target_hooks(t->r[i].spec.verdict))
			return -EINVAL;
	return 0;
}

/* A loaded table as it goes live: its rules sorted by chain. */
static void mt_finish(struct mtable *live_t, const struct mtable *b)
{
	int c, i;

	live_t->nc = b->nc;
	memcpy(live_t->c, b->c, sizeof(b->c[0]) * b->nc);
	live_t->nr = 0;
	for (c = 0; c < b->nc; c++)
		for (i = 0; i < b->nr; i++)
			if (b->r[i].chain == c)
				live_t->r[live_t->nr++] = b->r[i];
}

/* ------------------------------------------------------ transactions */

static int m_begin(const struct mreq *q, bool apply)
{
	const struct nlattr *sc = q->tb[VIPLB_A_TXN_SCOPE];

	if (txn.st == T_MAYBE)
		return X_ANY;
	if (txn.st != T_NONE)
		return -EBUSY;
	if (!apply)
		return 0;
	memset(&txn, 0, offsetof(struct mtxn, cfg));
	txn.st = T_OPEN;
	txn.owner = q->sock;
	txn.scope = sc ? a_u32(sc) : VIPLB_TXN_SERVICES;
	txn.cfg.n = 0;
	txn.check_gen = false;
	memset(txn.built, 0, sizeof(txn.built));
	n_begun++;
	return 0;
}

static int m_abort(const struct mreq *q, bool apply)
{
	int own = owns(q->sock);

	if (own < 0)
		return X_ANY;
	if (!own)
		return -ENOENT;
	if (apply) {
		txn_release();
		n_aborted++;
	}
	return 0;
}

static void m_commit_apply(void)
{
	int afi, tb;

	if (txn.scope & VIPLB_TXN_SERVICES) {
		memcpy(&live, &txn.cfg, sizeof(live));
		live_known = true;
		live_check = false;
	}
	if (!(txn.scope & VIPLB_TXN_RULES))
		return;
	for (afi = 0; afi < 2; afi++) {
		for (tb = 0; tb < 2; tb++) {
			if (!txn.built[afi][tb])
				continue;
			mt_finish(&rlive[afi][tb], &txn.b[afi][tb]);
			rtab_check[afi][tb] = true;
		}
	}
	rules_gen++;
}

static int m_commit(const struct mreq *q, bool apply)
{
	const struct nlattr *ops = q->tb[VIPLB_A_TXN_OPS];
	int own = owns(q->sock), err = 0, afi, tb;

	if (own < 0)
		return X_ANY;
	if (!own)
		return -ENOENT;
	if (txn.st != T_OPEN)
		return X_ANY;
	if (!ops || txn.failed || a_u32(ops) != txn.ops) {
		err = -EINVAL;
	} else if (txn.scope & VIPLB_TXN_RULES) {
		if (!gen_known)
			return X_ANY;
		if (txn.check_gen && txn.gen != rules_gen)
			err = -EAGAIN;
		for (afi = 0; afi < 2 && !err; afi++)
			for (tb = 0; tb < 2 && !err; tb++)
				if (txn.built[afi][tb])
					err = m_finish(&txn.b[afi][tb]);
	}
	if (!apply)
		return err;
	if (!err) {
		m_commit_apply();
		n_committed++;
	}
	txn_release();
	return err;
}

/* The answer @q must get; with @apply, what it changes. */
static int m_handle(const struct mreq *q, bool apply)
{
	if (q->dump) {
		switch (q->cmd) {
		case VIPLB_CMD_SERVICE_GET:
			return m_service_dump(q);
		case VIPLB_CMD_RULES_GET: {
			const struct nlattr *rtb[VIPLB_RULES_A_MAX + 1];
			int afi, tb;

			return m_rules_nest(q, rtb, &afi, &tb);
		}
		}
		return -EOPNOTSUPP;
	}
	switch (q->cmd) {
	case VIPLB_CMD_SERVICE_NEW:
		return m_config(q, apply, m_service_new);
	case VIPLB_CMD_SERVICE_SET:
		return m_config(q, apply, m_service_set);
	case VIPLB_CMD_SERVICE_DEL:
		return m_config(q, apply, m_service_del);
	case VIPLB_CMD_SERVICE_GET:
		return m_service_get(q);
	case VIPLB_CMD_BACKEND_NEW:
		return m_config(q, apply, m_backend_new);
	case VIPLB_CMD_BACKEND_SET:
		return m_config(q, apply, m_backend_set);
	case VIPLB_CMD_BACKEND_DEL:
		return m_config(q, apply, m_backend_del);
	case VIPLB_CMD_FLUSH:
		return m_config(q, apply, m_flush);
	case VIPLB_CMD_TXN_BEGIN:
		return m_begin(q, apply);
	case VIPLB_CMD_TXN_COMMIT:
		return m_commit(q, apply);
	case VIPLB_CMD_TXN_ABORT:
		return m_abort(q, apply);
	case VIPLB_CMD_SERVICE_LOOKUP:
		return m_lookup(q);
	case VIPLB_CMD_STATS_ZERO:
		return m_stats_zero(q);
	case VIPLB_CMD_RULES_TABLE:
		return m_txn_apply(q, apply, m_rules_table);
	case VIPLB_CMD_RULES_CHAIN:
		return m_txn_apply(q, apply, m_rules_chain);
	case VIPLB_CMD_RULES_RULE:
		return m_txn_apply(q, apply, m_rules_rule);
	}
	return -EOPNOTSUPP; /* RULES_GET without NLM_F_DUMP, cmd 0 */
}

/* -------------------------------------------------------------- grammar */

static struct skey key_pool[8];
static uint8_t be_pool[2][4][16]; /* [afi][i] */
static const uint16_t be_ports[] = { 0, 8080, 8443 };
static const uint32_t primes[] = { 251,	 257,  263,   509,   1021,
				   4093, 8191, 65537, 131071 };
static const uint32_t nonprimes[] = { 253, 255, 1000, 65535, 131070 };

static void pools_init(void)
{
	static const struct {
		uint16_t af;
		uint8_t proto;
		const char *addr;
		uint16_t port;
	} keys[] = {
		{ AF_INET, IPPROTO_TCP, "198.18.0.1", 80 },
		{ AF_INET, IPPROTO_UDP, "198.18.0.1", 53 },
		{ AF_INET, IPPROTO_TCP, "198.18.0.2", 0 },
		{ AF_INET, IPPROTO_TCP, "198.18.0.3", 443 },
		{ AF_INET6, IPPROTO_TCP, "2001:db8:f::1", 80 },
		{ AF_INET6, IPPROTO_UDP, "2001:db8:f::1", 53 },
		{ AF_INET6, IPPROTO_TCP, "2001:db8:f::2", 0 },
		{ AF_INET6, IPPROTO_UDP, "2001:db8:f::3", 8080 },
	};
	char a[64];
	int i;

	for (i = 0; i < (int)ARRAY_SIZE(keys); i++) {
		memset(&key_pool[i], 0, sizeof(key_pool[i]));
		key_pool[i].af = keys[i].af;
		key_pool[i].proto = keys[i].proto;
		key_pool[i].port = htons(keys[i].port);
		inet_pton(keys[i].af, keys[i].addr, key_pool[i].addr);
	}
	for (i = 0; i < 4; i++) {
		snprintf(a, sizeof(a), "10.0.0.%d", i + 1);
		inet_pton(AF_INET, a, be_pool[0][i]);
		snprintf(a, sizeof(a), "fd00::%d", i + 1);
		inet_pton(AF_INET6, a, be_pool[1][i]);
	}
}

/*
 * Clean messages: no attribute left out, no value the module refuses, and
 * objects that exist for SET and DEL, new ones for NEW; so that
 * transactions commit with something in them.
 */
static bool gen_good;

/* The configuration a socket's service commands go to. */
static struct mcfg *gen_cfg(int sock)
{
	if (owns(sock) == 1 && txn.st == T_OPEN &&
	    (txn.scope & VIPLB_TXN_SERVICES))
		return &txn.cfg;
	return &live;
}

/* A service key; @fresh: clean messages want one not in use. */
static void pick_key(int sock, struct skey *k, bool fresh)
{
	struct mcfg *c = gen_cfg(sock);
	unsigned int r = rnd(100), i;

	if (gen_good && fresh) {
		for (i = 0; i < 8; i++) {
			*k = key_pool[rnd(ARRAY_SIZE(key_pool))];
			if (!m_find(c, k))
				return;
		}
	} else if (gen_good && c->n) {
		r = 0;
	}
	if (r < 55 && c->n) {
		*k = c->s[rnd(c->n)].key;
		return;
	}
	if (r < 96) {
		*k = key_pool[rnd(ARRAY_SIZE(key_pool))];
		return;
	}
	memset(k, 0, sizeof(*k));
	k->af = rnd(2) ? AF_INET : AF_INET6;
	k->proto = rnd(2) ? IPPROTO_TCP : IPPROTO_UDP;
	k->port = rnd(65536);
	if (k->af == AF_INET) {
		k->addr[0] = 198;
		k->addr[1] = 18;
		k->addr[2] = rnd(4);
		k->addr[3] = rnd(256);
	} else {
		inet_pton(AF_INET6, "2001:db8:f::", k->addr);
		k->addr[15] = rnd(256);
	}
}

static uint32_t pick_tsize(void)
{
	unsigned int r = rnd(100);

	if (r < 3 && !gen_good)
		return nonprimes[rnd(ARRAY_SIZE(nonprimes))];
	if (r < 6)
		return VIPLB_TABLE_SIZE_MAX;
	if (r < 12)
		return VIPLB_TABLE_SIZE_DEFAULT;
	return primes[rnd(ARRAY_SIZE(primes) - 2)];
}

static uint32_t pick_weight(void)
{
	unsigned int r = rnd(100);

	if (r < 10)
		return 0;
	if (r < 40)
		return 1;
	if (r < 70)
		return 2 + rnd(9);
	if (r < 95)
		return rnd(VIPLB_WEIGHT_MAX + 1);
	return VIPLB_WEIGHT_MAX;
}

/* Another valid value for a ranged attribute. */
static uint32_t range_value(uint8_t range)
{
	switch (range) {
	case R_SCHED:
		return rnd(VIPLB_SCHED_MAX + 1);
	case R_MODE:
		return rnd(VIPLB_MODE_MAX + 1);
	case R_TSIZE:
		return primes[rnd(ARRAY_SIZE(primes) - 2)];
	case R_SVCFLAGS:
		return rnd(2);
	case R_WEIGHT:
		return pick_weight();
	case R_SCOPE:
		return 1 + rnd(__VIPLB_TXN_SCOPE_ALL);
	case R_RTABLE:
		return rnd(VIPLB_RTABLE_MAX + 1);
	case R_POLICY:
		return VIPLB_V_ACCEPT + rnd(2);
	}
	return 0;
}

/* A required attribute is left out now and then, unless clean. */
static bool drop(void)
{
	return !gen_good && chance(3);
}

/* A value the module refuses now and then, unless clean. */
static bool spoil(void)
{
	return !gen_good && chance(2);
}

/* Finishes a list: random order, now and then an attribute twice. */
static void al_finish(struct alist *l)
{
	if (chance(50))
		al_shuffle(l);
	if (l->n && l->n < ITEMS_MAX && chance(4)) {
		struct item *it = &l->it[l->n];

		*it = l->it[rnd(l->n)];
		l->n++;
		if (it->range && it->kind == K_U32 && chance(50)) {
			uint32_t v = range_value(it->range);

			memcpy(it->data, &v, 4);
		}
	}
}

/* VIPLB_A_SERVICE: a key, with the settings of SERVICE_NEW/SET. */
static void g_svc(struct alist *top, const struct skey *k, bool settings)
{
	struct alist *l = al_new(S_SVC);
	uint16_t af = k->af;
	uint8_t proto = k->proto;
	int len = addr_len(k->af);

	if (spoil())
		af = rnd(3) ? rnd(65536) : (AF_INET | 0x100);
	if (spoil())
		proto = rnd(256);
	if (spoil())
		len = 20 - len; /* the other family's length */
	if (!drop())
		al_u16(l, VIPLB_SVC_A_AF, af);
	if (!drop())
		al_u8(l, VIPLB_SVC_A_PROTO, proto);
	if (!drop())
		al_add(l, VIPLB_SVC_A_ADDR, K_ADDR, k->addr, len);
	if (!drop())
		al_be16(l, VIPLB_SVC_A_PORT, k->port);
	if (settings || chance(10)) {
		if (chance(50))
			al_u32(l, VIPLB_SVC_A_SCHED, rnd(VIPLB_SCHED_MAX + 1),
			       R_SCHED);
		if (chance(40))
			al_u32(l, VIPLB_SVC_A_MODE, rnd(VIPLB_MODE_MAX + 1),
			       R_MODE);
		if (settings ? chance(85) : chance(20))
			al_u32(l, VIPLB_SVC_A_TABLE_SIZE, pick_tsize(),
			       R_TSIZE);
		else if (chance(20))
			al_flag(l, VIPLB_SVC_A_TABLE_AUTO);
		if (chance(30))
			al_u32(l, VIPLB_SVC_A_FLAGS, rnd(2), R_SVCFLAGS);
	}
	al_finish(l);
	al_nest(top, VIPLB_A_SERVICE, l);
}

/*
 * VIPLB_A_BACKEND of a backend of @s (NULL: not in the model); @fresh:
 * clean messages want one not in use.
 */
static void g_be(struct alist *top, const struct skey *k, struct msvc *s,
		 bool settings, bool fresh)
{
	struct alist *l = al_new(S_BE);
	int afi = k->af == AF_INET6, i;
	uint8_t addr[16] = { 0 };
	uint16_t port;

	if (s && s->nbe && (gen_good ? !fresh : chance(60))) {
		struct mbe *b = &s->be[rnd(s->nbe)];

		memcpy(addr, b->addr, 16);
		port = b->port;
	} else {
		if (spoil())
			afi = !afi;
		for (i = 0; i < 8; i++) {
			memcpy(addr, be_pool[afi][rnd(4)], 16);
			port = htons(be_ports[rnd(ARRAY_SIZE(be_ports))]);
			if (!s || !m_find_be(s, addr, port))
				break;
		}
	}
	if (!drop())
		al_add(l, VIPLB_BE_A_ADDR, K_ADDR, addr, addr_len(k->af));
	if (!drop())
		al_be16(l, VIPLB_BE_A_PORT, port);
	if (settings ? chance(70) : chance(10))
		al_u32(l, VIPLB_BE_A_WEIGHT, pick_weight(), R_WEIGHT);
	if (settings ? chance(20) : chance(5))
		al_u32(l, VIPLB_BE_A_FLAGS, 0, R_BEFLAGS);
	al_finish(l);
	al_nest(top, VIPLB_A_BACKEND, l);
}

static void g_lookup(struct alist *top, const struct skey *k)
{
	struct alist *l = al_new(S_LOOKUP);
	uint8_t src[16] = { 0 };
	int len = addr_len(k->af);

	if (k->af == AF_INET)
		inet_pton(AF_INET, "203.0.113.0", src);
	else
		inet_pton(AF_INET6, "2001:db8:c::", src);
	src[len - 1] = rnd(256);
	if (spoil())
		len = 20 - len;
	if (!drop())
		al_add(l, VIPLB_LOOKUP_A_SRC_ADDR, K_ADDR, src, len);
	if (!drop())
		al_be16(l, VIPLB_LOOKUP_A_SRC_PORT, rnd(65536));
	if (chance(40))
		al_be16(l, VIPLB_LOOKUP_A_DST_PORT, rnd(65536));
	al_finish(l);
	al_nest(top, VIPLB_A_LOOKUP, l);
}

/* ---------------------------------------------------- rule grammar */

struct rpick {
	int afi, tb;
	struct mtable *b; /* the table being loaded, if known */
};

/* A sequence loading one table sets it here for every message. */
static int force_afi = -1, force_tb;

static void pick_rtable(int sock, struct rpick *p)
{
	int tries;

	p->afi = rnd(2);
	p->tb = rnd(2);
	p->b = NULL;
	if (force_afi >= 0) {
		p->afi = force_afi;
		p->tb = force_tb;
		if (owns(sock) == 1 && txn.st == T_OPEN &&
		    txn.built[p->afi][p->tb])
			p->b = &txn.b[p->afi][p->tb];
		return;
	}
	if (owns(sock) != 1 || txn.st != T_OPEN)
		return;
	for (tries = 0; tries < 4 && !txn.built[p->afi][p->tb] && chance(80);
	     tries++) {
		p->afi = rnd(2);
		p->tb = rnd(2);
	}
	if (txn.built[p->afi][p->tb])
		p->b = &txn.b[p->afi][p->tb];
}

/* AF and TABLE, which every rules message holds. */
static struct alist *g_rules_head(const struct rpick *p)
{
	struct alist *l = al_new(S_RULES);
	uint16_t af = p->afi ? AF_INET6 : AF_INET;

	if (spoil())
		af = rnd(65536);
	if (!drop())
		al_u16(l, VIPLB_RULES_A_AF, af);
	if (!drop())
		al_u32(l, VIPLB_RULES_A_TABLE, p->tb, R_RTABLE);
	return l;
}

static void pick_name(const struct mtable *b, char *name)
{
	static const char *const pool[] = {
		"INPUT",
		"FORWARD",
		"OUTPUT",
		"PREROUTING",
		"POSTROUTING",
		"u1",
		"u2",
		"u3",
		"u4",
		"u5",
		"viplb-chain-name-of-28-bytes",
		"",
	};
	unsigned int i;

	if (b && b->nc && (gen_good || chance(85))) {
		strcpy(name, b->c[rnd(b->nc)].name);
		return;
	}
	if (chance(95)) {
		strcpy(name, pool[rnd(ARRAY_SIZE(pool) - 1)]);
		return;
	}
	if (chance(50)) {
		/* Names the module refuses for a user chain. */
		static const char *const bad[] = { "", "ACCEPT", "-x", "!x",
						   "a b", "a\"b", "TPROXY" };

		strcpy(name, bad[rnd(ARRAY_SIZE(bad))]);
		return;
	}
	for (i = 0; i < 1 + rnd(VIPLB_CHAIN_NAME_MAX - 1); i++)
		name[i] = 'a' + rnd(26);
	name[i] = 0;
}

static void gen_ifname(char *n)
{
	static const char *const names[] = {
		"lo", "eth0", "veth+", "+", "br-lan", "tun123456789012"
	};

	memset(n, 0, VIPLB_IFNAME_MAX);
	strcpy(n, names[rnd(ARRAY_SIZE(names))]);
}

static void gen_prefix(__be32 *a, __be32 *m, int afi)
{
	int bits = afi ? rnd(129) : rnd(33), i;

	for (i = 0; i < (afi ? 4 : 1); i++) {
		int b = bits - 32 * i;
		uint32_t mask = b >= 32 ? ~0U : b <= 0 ? 0 : ~0U << (32 - b);

		m[i] = htonl(mask);
		a[i] = htonl((uint32_t)rnd64() & mask);
	}
}

static void gen_range(uint16_t *r)
{
	r[0] = rnd(65536);
	r[1] = r[0] + rnd(65536 - r[0]);
}

static void gen_nat_addr(struct viplb_rule_spec *s, int afi)
{
	int n = afi ? 16 : 4;

	rnd_bytes(s->nat_min, n);
	rnd_bytes(s->nat_max, n);
	if (memcmp(s->nat_min, s->nat_max, 16) > 0 || chance(20))
		memcpy(s->nat_max, s->nat_min, 16);
}

/* The options of -m conntrack besides --ctstate, each now and then. */
static void gen_conntrack(struct viplb_rule_spec *s, int afi)
{
	unsigned int i;

	while (!s->ct_match)
		s->ct_match = rnd(__VIPLB_CT_ALL + 1);
	s->ct_invert = rnd(__VIPLB_CT_ALL + 1) & s->ct_match;
	if (s->ct_match & VIPLB_CT_PROTO)
		s->ct_proto = 1 + rnd(255);
	if (s->ct_match & VIPLB_CT_STATUS)
		s->ct_status = rnd(__VIPLB_CTSTATUS_ALL + 1);
	if (s->ct_match & VIPLB_CT_EXPIRE) {
		s->ct_expire[0] = rnd(1000);
		s->ct_expire[1] = s->ct_expire[0] + rnd(1000);
	}
	for (i = 0; i < VIPLB_CT_TUPLES; i++) {
		if (s->ct_match & (VIPLB_CT_ORIGSRC << i))
			gen_prefix(s->ct_addr[i], s->ct_mask[i], afi);
		if (s->ct_match & (VIPLB_CT_ORIGSRC_PORT << i))
			gen_range(s->ct_port[i]);
	}
}

/*
 * A rule for chain @ci of table @b (NULL: not known) in built-in chain
 * @hook (-1: a user chain).  Mostly valid: every match and target, within
 * what check_matches() and check_target() accept; sometimes broken.
 */
static void gen_spec(struct viplb_rule_spec *s, const struct rpick *p, int hook,
		     int ci, char *target)
{
	unsigned int m = 0, keep;
	bool l4, tcp;
	uint32_t v;
	int i, n;

	memset(s, 0, sizeof(*s));
	target[0] = 0;
	if (spoil()) {
		rnd_bytes(s, sizeof(*s));
		return;
	}
	if (chance(55)) {
		static const uint8_t protos[] = {
			IPPROTO_TCP,  IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDP,
			IPPROTO_ICMP, 58,	   0,		132
		};

		m |= VIPLB_M_PROTO;
		s->proto = protos[rnd(ARRAY_SIZE(protos))];
	}
	l4 = s->proto == IPPROTO_TCP || s->proto == IPPROTO_UDP;
	tcp = s->proto == IPPROTO_TCP;
	if (chance(25)) {
		m |= VIPLB_M_SRC;
		gen_prefix(s->src, s->src_mask, p->afi);
	}
	if (chance(25)) {
		m |= VIPLB_M_DST;
		gen_prefix(s->dst, s->dst_mask, p->afi);
	}
	if (chance(10)) {
		m |= VIPLB_M_IIF;
		gen_ifname(s->iif);
	}
	if (chance(10)) {
		m |= VIPLB_M_OIF;
		gen_ifname(s->oif);
	}
	if (l4 && chance(30)) {
		m |= VIPLB_M_SPORT;
		gen_range(s->sport);
	}
	if (l4 && chance(30)) {
		m |= VIPLB_M_DPORT;
		gen_range(s->dport);
	}
	if ((l4 || s->proto == IPPROTO_SCTP) && chance(15)) {
		m |= VIPLB_M_MPORTS;
		s->mport_flags = 1 + rnd(3);
		for (n = 0, i = 0; i < VIPLB_MPORTS_MAX && n < 14 && chance(70);
		     i++) {
			s->mports[i][0] = rnd(65536);
			s->mports[i][1] =
				chance(50) ?
					s->mports[i][0] :
					s->mports[i][0] +
						rnd(65536 - s->mports[i][0]);
			n += s->mports[i][0] == s->mports[i][1] ? 1 : 2;
		}
		if (!i) {
			s->mports[0][0] = 80;
			s->mports[0][1] = 80;
			i = 1;
		}
		s->n_mports = i;
	}
	if (tcp && chance(15)) {
		m |= VIPLB_M_SYN;
	} else if (tcp && chance(10)) {
		m |= VIPLB_M_TCP_FLAGS;
		s->tcp_flags_mask = rnd(64);
		s->tcp_flags_cmp = rnd(64) & s->tcp_flags_mask;
	}
	if (chance(15)) {
		m |= VIPLB_M_CTSTATE;
		s->ctstate = 1 + rnd(__VIPLB_CTSTATE_ALL);
	}
	if (chance(10)) {
		m |= VIPLB_M_CONNTRACK;
		gen_conntrack(s, p->afi);
	}
	if (chance(15)) {
		m |= VIPLB_M_MARK;
		s->mark = rnd64();
		s->mark_mask = rnd64();
	}
	if (chance(10)) {
		m |= VIPLB_M_STATISTIC;
		if (chance(50)) {
			s->stat_mode = VIPLB_STAT_RANDOM;
			s->stat_prob = rnd(0x80000001U);
		} else {
			s->stat_mode = VIPLB_STAT_NTH;
			s->stat_every = 1 + rnd(10);
			s->stat_packet = rnd(s->stat_every);
		}
	}
	s->match = m;

	/* The verdict: one that suits the table and, mostly, the chain. */
	v = VIPLB_V_ACCEPT;
	switch (rnd(12)) {
	case 0:
		v = VIPLB_V_NONE;
		break;
	case 1:
		v = VIPLB_V_DROP;
		break;
	case 2:
		v = VIPLB_V_RETURN;
		break;
	case 3:
	case 4:
		v = chance(75) ? VIPLB_V_JUMP : VIPLB_V_GOTO;
		break;
	case 5:
		v = VIPLB_V_REJECT;
		break;
	case 6:
		v = VIPLB_V_MARK;
		break;
	case 7:
	case 8:
	case 9:
		v = VIPLB_V_DNAT + rnd(4);
		break;
	}
	if (p->tb == VIPLB_RTABLE_NAT &&
	    (v == VIPLB_V_DROP || v == VIPLB_V_REJECT) && !spoil())
		v = VIPLB_V_ACCEPT;
	if (p->tb == VIPLB_RTABLE_FILTER && is_nat(v) && !spoil())
		v = VIPLB_V_REJECT;
	if (is_nat(v) && hook >= 0 && (gen_good || chance(90)) &&
	    !(target_hooks(v) & (1U << hook)))
		v = VIPLB_V_ACCEPT;
	if (is_nat(v) && hook < 0 && (gen_good || chance(70)))
		v = VIPLB_V_MARK;
	if (is_jump(v)) {
		/* Mostly to a later user chain, so that there is no loop. */
		const struct mtable *b = p->b;

		n = 0;
		for (i = 0; b && i < b->nc; i++)
			if (b->c[i].hook < 0 && (i > ci || spoil()))
				n++;
		if (!n) {
			v = VIPLB_V_ACCEPT;
		} else {
			n = rnd(n);
			for (i = 0; i < b->nc; i++) {
				if (b->c[i].hook < 0 && (i > ci || spoil()) &&
				    !n--) {
					strcpy(target, b->c[i].name);
					break;
				}
			}
			if (!target[0])
				v = VIPLB_V_ACCEPT;
		}
	}
	s->verdict = v;
	keep = 0;
	if (v == VIPLB_V_REJECT) {
		s->reject_with = rnd(VIPLB_REJECT_MAX + 1);
		if (s->reject_with == VIPLB_REJECT_TCP_RESET && !tcp)
			s->reject_with = VIPLB_REJECT_PORT_UNREACH;
		if (s->reject_with > VIPLB_REJECT_TCP_RESET)
			s->reject_with = p->afi ? VIPLB_REJECT_POLICY_FAIL +
							  rnd(2) :
						  VIPLB_REJECT_PROTO_UNREACH +
							  rnd(3);
		if (s->reject_with == VIPLB_REJECT_TCP_RESET)
			keep = VIPLB_M_PROTO;
	}
	if (v == VIPLB_V_MARK) {
		s->set_mark = rnd64();
		s->set_mark_mask = rnd64();
	}
	if (is_nat(v)) {
		s->nat_flags = rnd(__VIPLB_NAT_F_ALL + 1) &
			       ~(VIPLB_NAT_F_ADDR | VIPLB_NAT_F_PORTS |
				 VIPLB_NAT_F_PORT_OFFSET);
		if ((v == VIPLB_V_DNAT || v == VIPLB_V_SNAT) &&
		    (!l4 || chance(60)))
			s->nat_flags |= VIPLB_NAT_F_ADDR;
		if (l4 && (chance(40) || !(s->nat_flags & VIPLB_NAT_F_ADDR)))
			s->nat_flags |= VIPLB_NAT_F_PORTS;
		if (s->nat_flags & VIPLB_NAT_F_ADDR)
			gen_nat_addr(s, p->afi);
		if (s->nat_flags & VIPLB_NAT_F_PORTS) {
			s->nat_port_min = 1 + rnd(65535);
			s->nat_port_max =
				s->nat_port_min + rnd(65536 - s->nat_port_min);
			keep = VIPLB_M_PROTO;
			if (v == VIPLB_V_DNAT && chance(20)) {
				s->nat_flags |= VIPLB_NAT_F_PORT_OFFSET;
				s->nat_port_base = 1 + rnd(65535);
			}
		}
	}
	if (m & (VIPLB_M_SPORT | VIPLB_M_DPORT | VIPLB_M_MPORTS | VIPLB_M_SYN |
		 VIPLB_M_TCP_FLAGS))
		keep = VIPLB_M_PROTO;
	for (i = 0; i < 12; i++)
		if ((m & (1U << i)) && !(keep & (1U << i)) && chance(12))
			s->invert |= 1U << i;

	/* Now and then one thing the checks must refuse. */
	if (gen_good || !chance(8))
		return;
	switch (rnd(12)) {
	case 0:
		s->match |= 1U << (14 + rnd(18));
		break;
	case 1:
		s->invert |= ~s->match & __VIPLB_M_ALL;
		break;
	case 2:
		s->src[p->afi ? 3 : 1] |= 1;
		break;
	case 3:
		s->sport[0] = 2;
		s->sport[1] = 1;
		break;
	case 4:
		s->n_mports = s->match & VIPLB_M_MPORTS ? 16 : 1;
		break;
	case 5:
		s->ctstate = 0x20;
		break;
	case 6:
		s->stat_every = 3;
		s->stat_packet = 3;
		break;
	case 7:
		s->verdict = VIPLB_V_MAX + 1 + rnd(100);
		break;
	case 8:
		s->reject_with = VIPLB_REJECT_MAX + 1;
		break;
	case 9:
		s->nat_port_min = 7;
		break;
	case 10:
		s->iif[VIPLB_IFNAME_MAX - 1] = 'x';
		s->match |= VIPLB_M_IIF;
		break;
	default:
		s->set_mark = 1;
		break;
	}
}

/* ----------------------------------------------- one command's message */

static uint32_t pick_ops(void);

static void g_rules_table(struct gmsg *g, int sock)
{
	struct alist *l;
	struct rpick p;

	pick_rtable(sock, &p);
	l = g_rules_head(&p);
	if (chance(40)) {
		uint32_t gen = rnd(100);

		if (gen_known)
			gen = chance(80) ? rules_gen : rules_gen - 1;
		al_u32(l, VIPLB_RULES_A_GEN, gen, R_NONE);
	}
	al_finish(l);
	al_nest(g->top, VIPLB_A_RULES, l);
}

static void g_rules_chain(struct gmsg *g, int sock, const char *name)
{
	char buf[VIPLB_CHAIN_NAME_MAX];
	struct alist *l;
	struct rpick p;
	int i;

	pick_rtable(sock, &p);
	l = g_rules_head(&p);
	if (!name) {
		pick_name(p.b, buf);
		name = buf;
	}
	if (!drop())
		al_str(l, VIPLB_RULES_A_CHAIN, name, strlen(name) + 1,
		       VIPLB_CHAIN_NAME_MAX - 1);
	i = p.b ? find_chain(p.b, name) : -1;
	if (i >= 0 && p.b->c[i].hook >= 0 ? chance(60) : spoil())
		al_u32(l, VIPLB_RULES_A_POLICY,
		       p.tb == VIPLB_RTABLE_FILTER || chance(5) ?
			       VIPLB_V_ACCEPT + rnd(2) :
			       VIPLB_V_ACCEPT,
		       R_POLICY);
	if (i >= 0 && p.b->c[i].hook >= 0 ? chance(25) : spoil())
		al_u64(l, VIPLB_RULES_A_PKTS, rnd64() >> rnd(64));
	if (i >= 0 && p.b->c[i].hook >= 0 ? chance(25) : spoil())
		al_u64(l, VIPLB_RULES_A_BYTES, rnd64() >> rnd(64));
	al_finish(l);
	al_nest(g->top, VIPLB_A_RULES, l);
}

static void g_rules_rule(struct gmsg *g, int sock)
{
	char name[VIPLB_CHAIN_NAME_MAX], target[VIPLB_CHAIN_NAME_MAX];
	struct viplb_rule_spec spec;
	int ci = -1, hook = -1;
	struct alist *l;
	struct rpick p;

	pick_rtable(sock, &p);
	l = g_rules_head(&p);
	pick_name(p.b, name);
	if (p.b)
		ci = find_chain(p.b, name);
	if (ci >= 0)
		hook = p.b->c[ci].hook;
	gen_spec(&spec, &p, hook, ci, target);
	if (!drop())
		al_str(l, VIPLB_RULES_A_CHAIN, name, strlen(name) + 1,
		       VIPLB_CHAIN_NAME_MAX - 1);
	if (!drop())
		al_add(l, VIPLB_RULES_A_SPEC, K_SPEC, &spec, sizeof(spec));
	if (target[0] ? !drop() : spoil()) {
		if (!target[0])
			pick_name(p.b, target);
		al_str(l, VIPLB_RULES_A_TARGET, target, strlen(target) + 1,
		       VIPLB_CHAIN_NAME_MAX - 1);
	}
	if (chance(30)) {
		char text[VIPLB_COMMENT_MAX];
		int n = chance(80) ? rnd(40) : rnd(VIPLB_COMMENT_MAX), i;

		for (i = 0; i < n; i++)
			text[i] = ' ' + rnd(95);
		text[n] = 0;
		if (n > 2 && chance(5))
			text[rnd(n)] = 0; /* stored up to the NUL */
		al_str(l, VIPLB_RULES_A_COMMENT, text, n + 1,
		       VIPLB_COMMENT_MAX - 1);
	}
	if (chance(15) && (!gen_good || rlive[p.afi][p.tb].nr)) {
		const struct mtable *t = &rlive[p.afi][p.tb];
		uint64_t h = rnd(1000);
		int i;

		if (t->nr && (gen_good || chance(85)))
			h = t->r[rnd(t->nr)].handle;
		for (i = 0; gen_good && i < txn.ntaken[p.afi][p.tb]; i++)
			if (txn.taken[p.afi][p.tb][i] == h)
				h = 0;
		if (h || !gen_good)
			al_u64(l, VIPLB_RULES_A_HANDLE, h);
	}
	if (chance(15))
		al_u64(l, VIPLB_RULES_A_PKTS, rnd64() >> rnd(64));
	if (chance(15))
		al_u64(l, VIPLB_RULES_A_BYTES, rnd64() >> rnd(64));
	if (chance(25)) {
		uint8_t order[VIPLB_MATCH_ORDER_MAX];
		int n = rnd(VIPLB_MATCH_ORDER_MAX + 1);
		struct item *it;

		rnd_bytes(order, n);
		it = al_add(l, VIPLB_RULES_A_MATCH_ORDER, K_BIN, order, n);
		it->max = VIPLB_MATCH_ORDER_MAX;
	}
	al_finish(l);
	al_nest(g->top, VIPLB_A_RULES, l);
}

static void g_rules_get(struct gmsg *g, int afi, int tb)
{
	struct rpick p = { afi, tb, NULL };
	struct alist *l = g_rules_head(&p);

	if (chance(5))
		al_u32(l, VIPLB_RULES_A_GEN, rnd(10), R_NONE);
	al_finish(l);
	al_nest(g->top, VIPLB_A_RULES, l);
	g->flags |= NLM_F_DUMP;
}

/* A valid message of command @cmd from socket @sock. */
static void gen_cmd(struct gmsg *g, int sock, uint8_t cmd)
{
	struct skey k;
	struct msvc *s;

	gm_init(g, cmd);
	if (chance(3))
		g->flags |= NLM_F_ECHO;
	switch (cmd) {
	case VIPLB_CMD_SERVICE_NEW:
	case VIPLB_CMD_SERVICE_SET:
		pick_key(sock, &k, cmd == VIPLB_CMD_SERVICE_NEW);
		if (!drop())
			g_svc(g->top, &k, true);
		break;
	case VIPLB_CMD_SERVICE_DEL:
	case VIPLB_CMD_STATS_ZERO:
		pick_key(sock, &k, false);
		if (cmd == VIPLB_CMD_SERVICE_DEL ? !drop() : chance(60))
			g_svc(g->top, &k, false);
		break;
	case VIPLB_CMD_SERVICE_GET:
		pick_key(sock, &k, false);
		if (chance(50)) {
			g->flags |= NLM_F_DUMP;
			if (chance(30))
				g_svc(g->top, &k, false);
		} else if (!drop()) {
			g_svc(g->top, &k, false);
		}
		break;
	case VIPLB_CMD_BACKEND_NEW:
	case VIPLB_CMD_BACKEND_SET:
	case VIPLB_CMD_BACKEND_DEL:
		pick_key(sock, &k, false);
		s = m_find(gen_cfg(sock), &k);
		if (!drop())
			g_svc(g->top, &k, false);
		if (!drop())
			g_be(g->top, &k, s, cmd != VIPLB_CMD_BACKEND_DEL,
			     cmd == VIPLB_CMD_BACKEND_NEW);
		if (cmd == VIPLB_CMD_BACKEND_DEL && chance(30))
			al_flag(g->top, VIPLB_A_FLUSH);
		break;
	case VIPLB_CMD_TXN_BEGIN:
		if (chance(70)) {
			static const uint32_t scopes[] = {
				VIPLB_TXN_SERVICES,
				VIPLB_TXN_SERVICES,
				VIPLB_TXN_RULES,
				__VIPLB_TXN_SCOPE_ALL,
			};

			al_u32(g->top, VIPLB_A_TXN_SCOPE,
			       scopes[rnd(ARRAY_SIZE(scopes))], R_SCOPE);
		}
		break;
	case VIPLB_CMD_TXN_COMMIT:
		if (!drop())
			al_u32(g->top, VIPLB_A_TXN_OPS, pick_ops(), R_NONE);
		break;
	case VIPLB_CMD_SERVICE_LOOKUP:
		pick_key(sock, &k, false);
		if (!drop())
			g_svc(g->top, &k, false);
		if (!drop())
			g_lookup(g->top, &k);
		break;
	case VIPLB_CMD_RULES_TABLE:
		g_rules_table(g, sock);
		break;
	case VIPLB_CMD_RULES_CHAIN:
		g_rules_chain(g, sock, NULL);
		break;
	case VIPLB_CMD_RULES_RULE:
		g_rules_rule(g, sock);
		break;
	case VIPLB_CMD_RULES_GET:
		g_rules_get(g, rnd(2), rnd(2));
		break;
	}
	if (chance(30))
		al_shuffle(g->top);
}

/* ---------------------------------------------------------- mutations */

/* The top-level attributes each command's policy takes. */
static unsigned int cmd_attrs(uint8_t cmd)
{
	switch (cmd) {
	case VIPLB_CMD_SERVICE_NEW:
	case VIPLB_CMD_SERVICE_SET:
	case VIPLB_CMD_SERVICE_DEL:
	case VIPLB_CMD_SERVICE_GET:
	case VIPLB_CMD_STATS_ZERO:
		return 1U << VIPLB_A_SERVICE;
	case VIPLB_CMD_BACKEND_NEW:
	case VIPLB_CMD_BACKEND_SET:
		return 1U << VIPLB_A_SERVICE | 1U << VIPLB_A_BACKEND;
	case VIPLB_CMD_BACKEND_DEL:
		return 1U << VIPLB_A_SERVICE | 1U << VIPLB_A_BACKEND |
		       1U << VIPLB_A_FLUSH;
	case VIPLB_CMD_TXN_BEGIN:
		return 1U << VIPLB_A_TXN_SCOPE;
	case VIPLB_CMD_TXN_COMMIT:
		return 1U << VIPLB_A_TXN_OPS;
	case VIPLB_CMD_SERVICE_LOOKUP:
		return 1U << VIPLB_A_SERVICE | 1U << VIPLB_A_LOOKUP;
	case VIPLB_CMD_RULES_TABLE:
	case VIPLB_CMD_RULES_CHAIN:
	case VIPLB_CMD_RULES_RULE:
	case VIPLB_CMD_RULES_GET:
		return 1U << VIPLB_A_RULES;
	}
	return 0; /* FLUSH, TXN_ABORT */
}

/* Every item of the tree, depth first. */
static int collect(struct alist *l, struct item **out, int n, int max)
{
	int i;

	for (i = 0; i < l->n && n < max; i++) {
		out[n++] = &l->it[i];
		if (l->it[i].child)
			n = collect(l->it[i].child, out, n, max);
	}
	return n;
}

static void stats_nest(struct alist *l, uint16_t type)
{
	struct alist *st = al_new(S_STATS);
	int i;

	for (i = 0; i < 3; i++)
		al_u64(st, 1 + rnd(VIPLB_STATS_A_MAX), rnd64());
	al_nest(l, type, st);
}

/* Adds an attribute that only replies hold, or one of another command. */
static void add_foreign(struct gmsg *g)
{
	struct item *all[64];
	int n = collect(g->top, all, 0, 64), i;
	unsigned int have = cmd_attrs(g->cmd);
	struct alist *l = NULL;
	uint16_t t;

	if (chance(70)) {
		int nests = 0, pick;

		for (i = 0; i < n; i++)
			nests += !!all[i]->child;
		pick = rnd(nests);
		for (i = 0; i < n && !l; i++)
			if (all[i]->child && !pick--)
				l = all[i]->child;
	}
	if (l && l->n < ITEMS_MAX - 1) {
		switch (l->set) {
		case S_SVC:
			if (chance(50)) {
				stats_nest(l, VIPLB_SVC_A_STATS);
			} else {
				struct alist *b = al_new(S_BE);

				al_add(b, VIPLB_BE_A_ADDR, K_ADDR,
				       be_pool[0][0], 4);
				al_be16(b, VIPLB_BE_A_PORT, htons(80));
				al_u32(b, VIPLB_BE_A_WEIGHT, 1, R_WEIGHT);
				stats_nest(b, VIPLB_BE_A_STATS);
				al_nest(l, VIPLB_SVC_A_BACKEND, b);
			}
			return;
		case S_BE:
			stats_nest(l, VIPLB_BE_A_STATS);
			return;
		case S_LOOKUP:
			al_u32(l, VIPLB_LOOKUP_A_PIN, rnd(3), R_NONE);
			return;
		case S_RULES:
			if (chance(50))
				al_add(l, VIPLB_RULES_A_PAD, K_BIN, NULL, 0);
			else
				al_u32(l, VIPLB_RULES_A_REFS, rnd(3), R_NONE);
			return;
		}
	}
	do
		t = 1 + rnd(VIPLB_A_MAX);
	while (have & (1U << t));
	switch (t) {
	case VIPLB_A_SERVICE:
		g_svc(g->top, &key_pool[0], false);
		break;
	case VIPLB_A_BACKEND:
		g_be(g->top, &key_pool[0], NULL, true, false);
		break;
	case VIPLB_A_LOOKUP:
		g_lookup(g->top, &key_pool[0]);
		al_u32(g->top->it[g->top->n - 1].child, VIPLB_LOOKUP_A_PIN, 0,
		       R_NONE);
		break;
	case VIPLB_A_FLUSH:
		al_flag(g->top, VIPLB_A_FLUSH);
		break;
	case VIPLB_A_RULES:
		g_rules_get(g, 0, 0);
		g->flags &= ~NLM_F_DUMP;
		break;
	default:
		al_u32(g->top, t, 1, R_NONE);
		break;
	}
}

/* A length its policy refuses, for an item of kind @kind. */
static int bad_len(const struct item *it)
{
	static const int u8[] = { 0, 2, 3, 4, 8 }, u16[] = { 0, 1, 3, 4, 8 },
			 u32[] = { 0, 1, 2, 3, 5, 8 },
			 u64[] = { 0, 1, 4, 7, 12 };
	int n;

	switch (it->kind) {
	case K_U8:
		return u8[rnd(ARRAY_SIZE(u8))];
	case K_U16:
	case K_BE16:
		return u16[rnd(ARRAY_SIZE(u16))];
	case K_U32:
		return u32[rnd(ARRAY_SIZE(u32))];
	case K_U64:
		return u64[rnd(ARRAY_SIZE(u64))];
	case K_FLAG:
		return 1 + rnd(8);
	case K_ADDR:
		do
			n = rnd(21);
		while (n == 4 || n == 16);
		return n;
	case K_SPEC:
		n = rnd(3) ? (int)sizeof(struct viplb_rule_spec) - 8 + rnd(17) :
			     rnd(ITEM_DATA);
		return n == sizeof(struct viplb_rule_spec) ? 0 : n;
	case K_BIN:
		return it->max + 1 + rnd(24);
	}
	return -1;
}

/* A string the NUL_STRING policy refuses. */
static void bad_str(struct item *it)
{
	int n;

	switch (rnd(3)) {
	case 0: /* no NUL where the policy looks */
		n = 1 + rnd(it->max + 8);
		memset(it->data, 'x', n);
		it->len = n;
		break;
	case 1: /* too long */
		n = it->max + 1 + rnd(16);
		memset(it->data, 'y', n);
		it->data[n] = 0;
		it->len = n + 1;
		break;
	default: /* empty */
		it->len = 0;
		break;
	}
}

/* A value out of the policy's range. */
static uint32_t bad_value(uint8_t range)
{
	switch (range) {
	case R_SCHED:
		return VIPLB_SCHED_MAX + 1 + rnd(chance(50) ? 10 : ~0U - 10);
	case R_MODE:
		return VIPLB_MODE_MAX + 1 + rnd(chance(50) ? 10 : ~0U - 10);
	case R_TSIZE:
		return chance(50) ? rnd(VIPLB_TABLE_SIZE_MIN) :
				    VIPLB_TABLE_SIZE_MAX + 1 +
					    rnd(~0U - VIPLB_TABLE_SIZE_MAX);
	case R_SVCFLAGS:
		return (2U << rnd(31)) | rnd(2);
	case R_WEIGHT:
		return VIPLB_WEIGHT_MAX + 1 + rnd(~0U - VIPLB_WEIGHT_MAX);
	case R_BEFLAGS:
		return 1U << rnd(32);
	case R_SCOPE:
		return chance(50) ? 0 : __VIPLB_TXN_SCOPE_ALL + 1 + rnd(100);
	case R_RTABLE:
		return VIPLB_RTABLE_MAX + 1 + rnd(100);
	case R_POLICY:
		return chance(50) ? VIPLB_V_NONE : VIPLB_V_DROP + 1 + rnd(100);
	}
	return 0;
}

/* A type the policy of @set refuses. */
static uint16_t bad_type(uint8_t set, uint8_t cmd)
{
	static const uint16_t rejected[NSETS][2] = {
		[S_SVC] = { VIPLB_SVC_A_STATS, VIPLB_SVC_A_BACKEND },
		[S_BE] = { VIPLB_BE_A_STATS, VIPLB_BE_A_STATS },
		[S_LOOKUP] = { VIPLB_LOOKUP_A_PIN, VIPLB_LOOKUP_A_PIN },
		[S_RULES] = { VIPLB_RULES_A_PAD, VIPLB_RULES_A_REFS },
	};
	uint16_t t;

	switch (rnd(4)) {
	case 0:
		return 0;
	case 1:
		return 0x3fff - rnd(16);
	case 2:
		if (set != S_TOP && set != S_STATS)
			return rejected[set][rnd(2)];
		break;
	}
	if (set != S_TOP)
		return set_max[set] + 1 + rnd(8);
	do
		t = rnd(VIPLB_A_MAX + 4);
	while (t && (cmd_attrs(cmd) & (1U << t)));
	return t;
}

/*
 * Cuts nest @it inside one of its attributes: its nla_len ends 1 to
 * nla_len - 1 bytes into it, so the nest's own parse has bytes left over.
 */
static size_t dry_len(const struct alist *l)
{
	size_t len;

	dry = true;
	len = enc_list(l, scratch, sizeof(scratch));
	dry = false;
	return len;
}

static bool cut_nest(struct item *it)
{
	size_t len = dry_len(it->child), off;
	unsigned char *tmp = scratch;
	int k, n = 0;

	for (off = 0; off < len;
	     off += NLA_ALIGN(((struct nlattr *)(tmp + off))->nla_len))
		n++;
	if (!n)
		return false;
	k = rnd(n);
	for (off = 0; k--;
	     off += NLA_ALIGN(((struct nlattr *)(tmp + off))->nla_len))
		;
	it->nla_len = NLA_HDRLEN + off + 1 +
		      rnd(((struct nlattr *)(tmp + off))->nla_len - 1);
	return true;
}

/* The list holding item @it of the tree of @l, or NULL. */
static struct alist *list_of(struct alist *l, const struct item *it)
{
	struct alist *found;
	int i;

	for (i = 0; i < l->n; i++) {
		if (&l->it[i] == it)
			return l;
		if (l->it[i].child) {
			found = list_of(l->it[i].child, it);
			if (found)
				return found;
		}
	}
	return NULL;
}

/*
 * Breaks @g in one way that its policy (or genetlink) must refuse, so
 * that the module sees nothing of it.  Returns false if it could not.
 */
static bool mutate_refused(struct gmsg *g)
{
	struct item *all[64], *it;
	int n = collect(g->top, all, 0, 64), i, tries;
	uint32_t v;

	for (tries = 0; tries < 8; tries++) {
		struct alist *l;

		it = n ? all[rnd(n)] : NULL;
		switch (rnd(15)) {
		case 13: /* a nest cut inside one of its attributes */
			if (!it || !it->child || !cut_nest(it))
				continue;
			return true;
		case 14: /* the last attribute of a list longer than it */
			l = it ? list_of(g->top, it) : NULL;
			if (!l || it != &l->it[l->n - 1])
				continue;
			it->nla_len = NLA_HDRLEN + 4 + rnd(64) +
				      (it->child ? dry_len(it->child) :
						   (size_t)it->len);
			return true;
		case 0: /* wrong length */
			if (!it || it->kind == K_NEST)
				continue;
			if (it->kind == K_STR) {
				bad_str(it);
				return true;
			}
			it->len = bad_len(it);
			rnd_bytes(it->data, it->len);
			return true;
		case 1: /* a type the policy refuses */
			if (!it)
				continue;
			for (i = 0; i < g->top->n; i++)
				if (&g->top->it[i] == it)
					break;
			it->type = bad_type(i < g->top->n ? S_TOP : it->set,
					    g->cmd);
			it->set = NSETS;
			return true;
		case 2: /* NLA_F_NESTED where it does not belong */
			if (!it)
				continue;
			it->flags ^= NLA_F_NESTED;
			return true;
		case 3: /* a value out of range */
			if (!it || !it->range)
				continue;
			v = bad_value(it->range);
			memcpy(it->data, &v, 4);
			return true;
		case 4: /* a nest of 1 to 3 bytes */
			if (!it || !it->child)
				continue;
			it->child->n = 0;
			it->junk = 1 + rnd(3);
			rnd_bytes(it->data, it->junk);
			return true;
		case 5: /* bytes after a nest's attributes */
			if (!it || !it->child || it->junk)
				continue;
			it->junk = 1 + rnd(3);
			rnd_bytes(it->data, it->junk);
			return true;
		case 6: /* bytes after the message's attributes */
			g->junk = 1 + rnd(3);
			return true;
		case 7:
		case 11:
		case 12:
			add_foreign(g);
			return true;
		case 8: /* header fields genetlink or the module refuse */
			if (chance(25)) {
				/* Another UAPI version than the module's. */
				g->version = VIPLB_GENL_VERSION + 1 + rnd(255);
			} else if (rnd(3)) {
				static const uint16_t bad[] = {
					NLM_F_MULTI,
					NLM_F_DUMP_INTR,
					NLM_F_DUMP_FILTERED,
					0x400,
					0x800,
					0x1000,
				};

				g->flags |= bad[rnd(ARRAY_SIZE(bad))];
			} else {
				g->reserved = 1 + rnd(255);
			}
			return true;
		case 9: /* NLM_F_DUMP where there is no dump */
			if (g->cmd == VIPLB_CMD_SERVICE_GET)
				continue;
			if (g->cmd == VIPLB_CMD_RULES_GET)
				g->flags &= ~NLM_F_DUMP;
			else
				g->flags |= NLM_F_DUMP;
			return true;
		default: /* no such command, or no genetlink header */
			if (chance(50)) {
				g->cut = rnd(GENL_HDRLEN);
			} else {
				g->cmd = chance(30) ?
						 0 :
						 VIPLB_CMD_MAX + 1 +
							 rnd(255 -
							     VIPLB_CMD_MAX);
			}
			return true;
		}
	}
	g->junk = 1 + rnd(3);
	return true;
}

/* Random damage to an encoded message, after its nlmsghdr. */
static void mutate_bytes(unsigned char *buf, size_t *len, size_t room)
{
	size_t body = NLMSG_HDRLEN, span;
	int rounds = 1 + rnd(4);

	while (rounds--) {
		size_t pos;

		span = *len - body;
		pos = body + rnd(span);
		switch (rnd(8)) {
		case 0:
		case 1:
			buf[pos] ^= 1 << rnd(8);
			break;
		case 2:
			buf[pos] = rnd64();
			break;
		case 3:
		case 4:
			pos = NLMSG_HDRLEN + GENL_HDRLEN;
			if (*len < pos + 4)
				break;
			pos += rnd((*len - pos) / 4) * 4;
			if (rnd(2))
				((struct nlattr *)(buf + pos))->nla_len =
					rnd(2) ? rnd(64) : rnd64();
			else
				((struct nlattr *)(buf + pos))->nla_type =
					rnd64();
			break;
		case 5:
			*len = body + rnd(span + 1);
			break;
		case 6:
			if (*len + 32 < room) {
				size_t n = 1 + rnd(24);

				rnd_bytes(buf + *len, n);
				*len += n;
			}
			break;
		default:
			buf[NLMSG_HDRLEN] =
				chance(80) ? 1 + rnd(VIPLB_CMD_MAX) : rnd(256);
			break;
		}
	}
	((struct nlmsghdr *)buf)->nlmsg_len = *len;
}

/* ------------------------------------------------------------ sockets */

static int sfd[NSOCK] = { -1, -1, -1, -1 };
static uint32_t sport[NSOCK];
static uint32_t last_closed; /* port id of the socket closed last */
static uint32_t seq_no = 1;

static _Atomic uint64_t wd_fuzz; /* when the sender last moved */
static _Atomic uint64_t wd_dump; /* when the dumper's request went */
static char wd_what[160];

/*
 * An error that failslab may cause: the call can be tried again.  A
 * socket that cannot be allocated is ENFILE (__sock_create()).
 */
static bool transient(int e)
{
	return failslab && (e == ENOMEM || e == ENOBUFS || e == EAGAIN ||
			    e == EINTR || e == ENFILE);
}

/*
 * A NETLINK_GENERIC socket bound to port id @bind_to (0: any), with or
 * without extended and capped acks.
 */
static int nl_socket(uint32_t bind_to, bool ext, bool cap, uint32_t *portid)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int one = 1, buf = 4 << 20, fd = -1, tries;
	socklen_t sl = sizeof(sa);

	for (tries = 0; tries < 1000; tries++) {
		if (fd < 0)
			fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
				    NETLINK_GENERIC);
		if (fd < 0)
			goto retry;
		if ((ext && setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one,
				       sizeof(one))) ||
		    (cap && setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one,
				       sizeof(one))))
			goto retry;
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf,
			       sizeof(buf)))
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf,
				   sizeof(buf));
		sa.nl_pid = bind_to;
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
			if (errno == EADDRINUSE && bind_to) {
				bind_to = 0;
				continue;
			}
			goto retry;
		}
		if (getsockname(fd, (struct sockaddr *)&sa, &sl))
			goto retry;
		*portid = sa.nl_pid;
		return fd;
retry:
		if (!transient(errno))
			break;
		if (fd >= 0 && tries % 50 == 49) {
			close(fd);
			fd = -1;
		}
	}
	ksft_exit_fail_msg("netlink socket: %s\n", strerror(errno));
	return -1;
}

static void sock_open(int i)
{
	uint32_t want = last_closed && chance(30) ? last_closed : 0;

	sfd[i] = nl_socket(want, chance(85), chance(70), &sport[i]);
	if (want && sport[i] == want)
		n_reuse++;
}

/* Closing the owner drops its transaction (NETLINK_URELEASE). */
static void sock_close(int i)
{
	int own = owns(i), j;

	wd_fuzz = now_ms();
	snprintf(wd_what, sizeof(wd_what), "close() of socket %d", i);
	close(sfd[i]);
	sfd[i] = -1;
	last_closed = sport[i];
	n_closes++;
	if (own) {
		if (own > 0)
			n_closed_open++;
		if (txn.owner == i)
			txn_release();
	}
	for (j = 0; j < NSOCK && sfd[j] < 0; j++)
		;
	if (j == NSOCK)
		txn_release(); /* no socket left to own one */
	wd_fuzz = now_ms();
}

/* An open socket of the pool but @skip (-1: none), opened if need be. */
static int any_sock(int skip)
{
	int i, n = 0, pick;

	for (i = 0; i < NSOCK; i++)
		if (sfd[i] >= 0 && i != skip)
			n++;
	if (!n) {
		for (i = 0; i < NSOCK && (sfd[i] >= 0 || i == skip); i++)
			;
		if (i == NSOCK)
			return skip;
		sock_open(i);
		return i;
	}
	pick = rnd(n);
	for (i = 0; i < NSOCK; i++)
		if (sfd[i] >= 0 && i != skip && !pick--)
			return i;
	return -1;
}

/* ------------------------------------------------------------ exchange */

/* One request of a batch and its answer. */
struct req {
	uint8_t cmd; /* as sent */
	bool dump, ack;
	int cls;
	int expect; /* the model's; X_ANY, X_ERR */
	bool applied; /* the model made its change already */
	uint32_t seq;
	size_t off; /* in txbuf */
	bool done;
	int error; /* 0, -errno, R_LOST, R_SENDFAIL */
	bool intr; /* NLM_F_DUMP_INTR */
	int nmsgs; /* data messages */
	size_t doff, dlen; /* in store (single requests) */
	char ext[128]; /* extack message */
};

static struct req rq[BATCH_MAX];
static int nrq, batch_dump; /* batch_dump: 1 running, 2 maybe */
static unsigned char txbuf[TX_MAX] __aligned(8);
static size_t txlen;
static unsigned char rxbuf[RX_MAX] __aligned(8);
static unsigned char store[STORE_MAX] __aligned(8);
static size_t store_len;
static bool store_over;

static void batch_start(void)
{
	nrq = 0;
	txlen = 0;
	batch_dump = 0;
}

static void req_parse(const struct req *r, struct mreq *q, int sock)
{
	const struct nlmsghdr *nlh = (const void *)(txbuf + r->off);

	q->sock = sock;
	q->cmd = r->cmd;
	q->dump = r->dump;
	parse_msg(nlh, q->tb, VIPLB_A_MAX);
}

/*
 * Encodes @g into the batch and asks the model for its answer; with
 * @speculate, makes the change now (for a batch: the next message may
 * depend on it).
 */
static struct req *batch_add(int sock, struct gmsg *g, bool speculate)
{
	struct req *r = &rq[nrq++];
	struct mreq q;
	size_t len;

	memset(r, 0, sizeof(*r));
	r->seq = seq_no++;
	r->off = txlen;
	r->cls = g->cls;
	len = enc_msg(g, txbuf + txlen, TX_MAX - txlen - 64, r->seq);
	if (g->cls == C_CHAOS)
		mutate_bytes(txbuf + txlen, &len, TX_MAX - txlen - 64);
	r->cmd = len > NLMSG_HDRLEN ? txbuf[txlen + NLMSG_HDRLEN] : g->cmd;
	r->ack = g->flags & NLM_F_ACK;
	r->dump = (g->flags & NLM_F_DUMP) == NLM_F_DUMP;
	txlen += NLMSG_ALIGN(len);
	cls_cnt[g->cls]++;
	if (!r->ack)
		n_noack++;
	r->expect = g->cls == C_POLICY ? X_ERR : X_ANY;
	if (g->cls == C_VALID) {
		req_parse(r, &q, sock);
		r->expect = m_handle(&q, false);
		if (speculate && r->expect <= 0) {
			m_handle(&q, true);
			r->applied = true;
		}
	}
	/* One dump at a time per socket: a second one is refused. */
	if (r->dump) {
		if (batch_dump == 1)
			r->expect = g->cls == C_VALID ? -EBUSY : X_ERR;
		else if (batch_dump == 2)
			r->expect = g->cls == C_POLICY ? X_ERR : X_ANY;
		if (g->cls == C_CHAOS || r->expect == X_ANY)
			batch_dump = 2;
		else if (!r->expect &&
			 (r->cmd == VIPLB_CMD_RULES_GET || live.n))
			batch_dump = 1;
	}
	return r;
}

static struct req *req_by_seq(uint32_t seq)
{
	int i;

	for (i = 0; i < nrq; i++)
		if (rq[i].seq == seq)
			return &rq[i];
	return NULL;
}

/* The extack message of an NLMSG_ERROR or NLMSG_DONE. */
static void ack_ext(const struct nlmsghdr *h, char *out, size_t n)
{
	const struct nlmsgerr *e = NLMSG_DATA(h);
	const unsigned char *p, *end;
	size_t ofs = sizeof(*e);

	out[0] = 0;
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (h->nlmsg_type == NLMSG_DONE)
		ofs = NLMSG_ALIGN(sizeof(int));
	else if (!(h->nlmsg_flags & NLM_F_CAPPED))
		ofs += e->msg.nlmsg_len - NLMSG_HDRLEN;
	p = (const unsigned char *)e + ofs;
	end = (const unsigned char *)h + h->nlmsg_len;
	while (p + NLA_HDRLEN <= end) {
		const struct nlattr *a = (const void *)p;

		if (a->nla_len < NLA_HDRLEN || p + a->nla_len > end)
			break;
		if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG)
			snprintf(out, n, "%.*s", alen(a),
				 (const char *)adata(a));
		p += NLA_ALIGN(a->nla_len);
	}
}

/* Pings have sequence numbers of their own, with the top bit set. */
#define PING_SEQ 0x80000000U

static uint32_t ping_seq = PING_SEQ;
static bool dump_cut; /* a dump may go on after its answer */
static uint32_t ping_first; /* first ping of this exchange, 0: none */
static bool ping_done;

/* A NOOP with NLM_F_ACK: its ack comes after every earlier answer. */
static bool send_ping(int fd)
{
	struct nlmsghdr h = { NLMSG_HDRLEN, NLMSG_NOOP,
			      NLM_F_REQUEST | NLM_F_ACK, 0, 0 };
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int tries;

	h.nlmsg_seq = ++ping_seq | PING_SEQ;
	if (!ping_first)
		ping_first = h.nlmsg_seq;
	n_pings++;
	for (tries = 0; tries < 20; tries++) {
		if (sendto(fd, &h, sizeof(h), 0, (struct sockaddr *)&sa,
			   sizeof(sa)) == sizeof(h))
			return true;
		if (!transient(errno))
			break;
	}
	return false;
}

/* Takes one message received; true if it answers a request. */
static bool take(const struct nlmsghdr *h, bool single, int sock)
{
	struct req *r;

	if (h->nlmsg_seq & PING_SEQ) {
		/* An older ping's ack may come late: it says nothing. */
		if (ping_first && h->nlmsg_seq >= ping_first &&
		    h->nlmsg_type == NLMSG_ERROR)
			ping_done = true;
		return false;
	}
	r = req_by_seq(h->nlmsg_seq);
	/* What a dump refused with ENOBUFS still sends: expected. */
	if (r && r->done && r->dump && dump_cut)
		return false;
	if (!r || r->done) {
		note(N_BAD,
		     "socket %d: message type %u for sequence %u, which waits for nothing",
		     sock, h->nlmsg_type, h->nlmsg_seq);
		return false;
	}
	if (h->nlmsg_flags & NLM_F_DUMP_INTR)
		r->intr = true;
	if (h->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(h);

		/*
		 * A dump whose first part could not be allocated is refused
		 * with ENOBUFS, yet left running (__netlink_dump_start()).
		 */
		if (r->dump && e->error == -ENOBUFS)
			dump_cut = true;
		r->error = e->error;
		r->done = true;
		ack_ext(h, r->ext, sizeof(r->ext));
		return true;
	}
	if (h->nlmsg_type == NLMSG_DONE) {
		if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
			r->error = *(const int *)NLMSG_DATA(h);
		r->done = true;
		ack_ext(h, r->ext, sizeof(r->ext));
		return true;
	}
	r->nmsgs++;
	if (!single)
		return true;
	if (store_len + NLMSG_ALIGN(h->nlmsg_len) > STORE_MAX) {
		store_over = true;
		return true;
	}
	if (!r->dlen)
		r->doff = store_len;
	memcpy(store + store_len, h, h->nlmsg_len);
	store_len += NLMSG_ALIGN(h->nlmsg_len);
	r->dlen += NLMSG_ALIGN(h->nlmsg_len);
	return true;
}

static bool all_done(void)
{
	int i;

	for (i = 0; i < nrq; i++)
		if (!rq[i].done)
			return false;
	return true;
}

/*
 * Ends what still waits: @all, or only what is not a dump (a ping came
 * back, so every other answer is in).  Without an ack, no answer means
 * success; an acked message without one is a failure unless answers may
 * have been dropped (@lossy).
 */
static bool give_up(int sock, bool all, bool lossy)
{
	bool dump = false;
	int i;

	for (i = 0; i < nrq; i++) {
		struct req *r = &rq[i];

		if (r->done || (r->dump && !all))
			continue;
		r->done = true;
		r->error = R_LOST;
		dump |= r->dump;
		if (!lossy && !r->ack && !r->dump)
			r->error = 0;
		else if (!lossy)
			note(N_ANSWER,
			     "socket %d: no answer to %s (sequence %u)", sock,
			     cmd_name(r->cmd), r->seq);
	}
	return dump;
}

static void hang(const char *what)
{
	unsigned int n = ksft_test_num() + 1;

	printf("# seed %llu, %lu messages sent\n", (unsigned long long)seed,
	       n_msgs);
	printf("not ok %u the module does not answer: %s\n", n, what);
	printf("1..%u\n", n);
	fflush(stdout);
	_exit(KSFT_FAIL);
}

/*
 * Sends the batch on @sock and collects every answer.  The module answers
 * within sendto(), and dumps as they are read, so what has not come when
 * the socket stays quiet will not come.  A ping delimits the answers when
 * a message has no NLM_F_ACK or answers were dropped, and wakes a dump
 * whose next part could not be allocated.
 */
static void exchange(int sock)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = sfd[sock], i, kicks = 0, tries;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	bool lossy = false, need_ping = false, sent = false, stalled = false;
	uint64_t t0;

	store_len = 0;
	store_over = false;
	dump_cut = false;
	ping_first = 0;
	ping_done = false;
	for (i = 0; i < nrq; i++) {
		cmd_sent[rq[i].cmd]++;
		need_ping |= !rq[i].ack;
	}
	n_msgs += nrq;
	if (nrq > 1)
		n_batches++;
	t0 = now_us();
	snprintf(
		wd_what, sizeof(wd_what),
		"sendto() of %s and %d more on socket %d (message %lu) does not return",
		cmd_name(rq[0].cmd), nrq - 1, sock, n_msgs);
	wd_fuzz = now_ms();
	for (tries = 0; tries < 3 && !sent; tries++) {
		sent = sendto(fd, txbuf, txlen, 0, (struct sockaddr *)&sa,
			      sizeof(sa)) == (ssize_t)txlen;
		if (!sent && !transient(errno)) {
			note(N_ANSWER, "sendto on socket %d: %s", sock,
			     strerror(errno));
			break;
		}
	}
	wd_fuzz = now_ms();
	if (!sent) {
		for (i = 0; i < nrq; i++) {
			rq[i].done = true;
			rq[i].error = R_SENDFAIL;
		}
		goto out;
	}
	if (need_ping && !send_ping(fd))
		lossy = true;
	for (;;) {
		ssize_t n;
		int pr;

		if (ping_done)
			give_up(sock, false, lossy);
		if (all_done())
			break;
		n = recv(fd, rxbuf, sizeof(rxbuf), MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN && (failslab || lossy)) {
			/*
			 * Nothing more is queued, so an answer was lost, or
			 * a dump waits for a read to go on: a ping wakes it
			 * and tells what is lost.
			 */
			if (kicks++ < 20 && send_ping(fd)) {
				poll(&pfd, 1, 500);
				wd_fuzz = now_ms();
				continue;
			}
			stalled = give_up(sock, true, true);
			break;
		}
		if (n < 0 && errno == EAGAIN) {
			pr = poll(&pfd, 1, 10000);
			wd_fuzz = now_ms();
			if (pr > 0 || (pr < 0 && errno == EINTR))
				continue;
			if (pr < 0)
				ksft_exit_fail_msg("poll: %s\n",
						   strerror(errno));
			if (ping_first && !ping_done)
				note(N_ANSWER, "socket %d: no answer to a ping",
				     sock);
			stalled = give_up(sock, true, false);
			break;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				/* An answer the module could not allocate. */
				if (!failslab)
					note(N_ANSWER,
					     "socket %d: ENOBUFS: an answer was dropped",
					     sock);
				lossy = true;
				send_ping(fd);
				continue;
			}
			note(N_ANSWER, "recv on socket %d: %s", sock,
			     strerror(errno));
			give_up(sock, true, true);
			break;
		}
		{
			const struct nlmsghdr *h = (const void *)rxbuf;
			size_t left = n;

			/* Kicks count while no request moves on. */
			for (; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left))
				if (take(h, nrq == 1, sock))
					kicks = 0;
		}
	}
	/* A dump given up on would go on into the next exchange. */
	if (stalled || dump_cut) {
		sock_close(sock);
		sock_open(sock);
	}
out:
	wd_fuzz = now_ms();
	cmd_us[rq[0].cmd] += now_us() - t0;
	for (i = 0; i < nrq; i++)
		count_answer(rq[i].cmd, rq[i].error);
}

/* -------------------------------------------------------- reading back */

static bool check_stats(const struct nlattr *nest)
{
	const unsigned char *p = adata(nest);
	int len = alen(nest);

	while (len >= NLA_HDRLEN) {
		const struct nlattr *a = (const void *)p;
		int t = a->nla_type & NLA_TYPE_MASK;

		if (a->nla_len < NLA_HDRLEN || a->nla_len > len)
			return false;
		if (!t || t > VIPLB_STATS_A_MAX ||
		    (t != VIPLB_STATS_A_PAD && alen(a) != 8))
			return false;
		len -= NLA_ALIGN(a->nla_len);
		p += NLA_ALIGN(a->nla_len);
	}
	return len == 0;
}

static bool fixed(const struct nlattr *a, int len)
{
	return a && alen(a) == len;
}

/* One backend of a service message, checked and added to @s. */
static int read_be(const struct nlattr *a, struct msvc *s, bool *over,
		   char *why, size_t wn)
{
	const struct nlattr *btb[VIPLB_BE_A_MAX + 1];
	struct mbe b = { .port = 0 };
	int n = addr_len(s->key.af);

	parse_nest(a, btb, VIPLB_BE_A_MAX);
	if (!fixed(btb[VIPLB_BE_A_ADDR], n) ||
	    !fixed(btb[VIPLB_BE_A_PORT], 2) ||
	    !fixed(btb[VIPLB_BE_A_WEIGHT], 4) ||
	    !fixed(btb[VIPLB_BE_A_FLAGS], 4) || !btb[VIPLB_BE_A_STATS] ||
	    !check_stats(btb[VIPLB_BE_A_STATS])) {
		snprintf(why, wn, "%s: a backend lacks an attribute",
			 key_str(&s->key));
		return -1;
	}
	memcpy(b.addr, adata(btb[VIPLB_BE_A_ADDR]), n);
	b.port = a_u16(btb[VIPLB_BE_A_PORT]);
	b.weight = a_u32(btb[VIPLB_BE_A_WEIGHT]);
	b.flags = a_u32(btb[VIPLB_BE_A_FLAGS]);
	if (b.weight > VIPLB_WEIGHT_MAX || b.flags) {
		snprintf(why, wn, "%s: backend weight %u flags %u",
			 key_str(&s->key), b.weight, b.flags);
		return -1;
	}
	if (m_find_be(s, b.addr, b.port)) {
		snprintf(why, wn, "%s: a backend twice", key_str(&s->key));
		return -1;
	}
	if (s->nbe == MAX_BE) {
		*over = true;
		return 0;
	}
	s->be[s->nbe++] = b;
	return 0;
}

/*
 * The service messages of a dump or GET reply into @c, checking every
 * value; a service continued in the next message is merged.  Returns -1
 * with @why if something is wrong; sets *@over if @c is too small.
 */
static int read_services(const unsigned char *p, size_t len, struct mcfg *c,
			 bool *over, char *why, size_t wn)
{
	const struct nlmsghdr *h = (const void *)p;

	c->n = 0;
	*over = false;
	for (; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
		const struct nlattr *tb[VIPLB_A_MAX + 1];
		const struct nlattr *stb[VIPLB_SVC_A_MAX + 1];
		const struct genlmsghdr *gh = NLMSG_DATA(h);
		const struct nlattr *a;
		struct msvc t, *s;
		int rem;

		if (h->nlmsg_type != family ||
		    gh->cmd != VIPLB_CMD_SERVICE_GET) {
			snprintf(why, wn, "message type %u cmd %u",
				 h->nlmsg_type, gh->cmd);
			return -1;
		}
		parse_msg(h, tb, VIPLB_A_MAX);
		if (!tb[VIPLB_A_SERVICE]) {
			snprintf(why, wn, "a message without a service");
			return -1;
		}
		parse_nest(tb[VIPLB_A_SERVICE], stb, VIPLB_SVC_A_MAX);
		memset(&t, 0, offsetof(struct msvc, be));
		if (!fixed(stb[VIPLB_SVC_A_AF], 2) ||
		    !fixed(stb[VIPLB_SVC_A_PROTO], 1) ||
		    !stb[VIPLB_SVC_A_ADDR] ||
		    !fixed(stb[VIPLB_SVC_A_PORT], 2) ||
		    !fixed(stb[VIPLB_SVC_A_SCHED], 4) ||
		    !fixed(stb[VIPLB_SVC_A_MODE], 4) ||
		    !fixed(stb[VIPLB_SVC_A_TABLE_SIZE], 4) ||
		    !fixed(stb[VIPLB_SVC_A_FLAGS], 4) ||
		    !stb[VIPLB_SVC_A_STATS] ||
		    !check_stats(stb[VIPLB_SVC_A_STATS])) {
			snprintf(why, wn, "a service lacks an attribute");
			return -1;
		}
		t.key.af = a_u16(stb[VIPLB_SVC_A_AF]);
		t.key.proto = a_u8(stb[VIPLB_SVC_A_PROTO]);
		t.key.port = a_u16(stb[VIPLB_SVC_A_PORT]);
		if ((t.key.af != AF_INET && t.key.af != AF_INET6) ||
		    (t.key.proto != IPPROTO_TCP &&
		     t.key.proto != IPPROTO_UDP) ||
		    alen(stb[VIPLB_SVC_A_ADDR]) != addr_len(t.key.af)) {
			snprintf(why, wn, "a service key of af %u proto %u",
				 t.key.af, t.key.proto);
			return -1;
		}
		memcpy(t.key.addr, adata(stb[VIPLB_SVC_A_ADDR]),
		       addr_len(t.key.af));
		t.sched = a_u32(stb[VIPLB_SVC_A_SCHED]);
		t.mode = a_u32(stb[VIPLB_SVC_A_MODE]);
		t.table_size = a_u32(stb[VIPLB_SVC_A_TABLE_SIZE]);
		t.flags = a_u32(stb[VIPLB_SVC_A_FLAGS]);
		if (t.sched > VIPLB_SCHED_MAX || t.mode > VIPLB_MODE_MAX ||
		    t.table_size < VIPLB_TABLE_SIZE_MIN ||
		    t.table_size > VIPLB_TABLE_SIZE_MAX ||
		    !is_prime(t.table_size) || (t.flags & ~__VIPLB_SVC_F_ALL)) {
			snprintf(why, wn,
				 "%s: sched %u mode %u table %u flags %u",
				 key_str(&t.key), t.sched, t.mode, t.table_size,
				 t.flags);
			return -1;
		}
		/* An automatic size is reported as the size in use. */
		if (stb[VIPLB_SVC_A_TABLE_AUTO])
			t.table_size = 0;
		if (c->n && key_eq(&c->s[c->n - 1].key, &t.key)) {
			/* The service goes on from the previous message. */
			s = &c->s[c->n - 1];
			if (s->sched != t.sched || s->mode != t.mode ||
			    s->table_size != t.table_size ||
			    s->flags != t.flags) {
				snprintf(why, wn, "%s changed within a dump",
					 key_str(&t.key));
				return -1;
			}
		} else {
			if (m_find(c, &t.key)) {
				snprintf(why, wn, "%s twice in one dump",
					 key_str(&t.key));
				return -1;
			}
			if (c->n == MAX_SVC) {
				*over = true;
				continue;
			}
			s = &c->s[c->n++];
			memcpy(s, &t, offsetof(struct msvc, be));
		}
		a = adata(tb[VIPLB_A_SERVICE]);
		rem = alen(tb[VIPLB_A_SERVICE]);
		for (; rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
		       a->nla_len <= rem;
		     rem -= NLA_ALIGN(a->nla_len),
		     a = (const void *)((const char *)a +
					NLA_ALIGN(a->nla_len))) {
			if ((a->nla_type & NLA_TYPE_MASK) ==
				    VIPLB_SVC_A_BACKEND &&
			    read_be(a, s, over, why, wn))
				return -1;
		}
	}
	return 0;
}

static bool cfg_same(const struct mcfg *want, const struct mcfg *got, char *why,
		     size_t wn)
{
	int i, j;

	for (i = 0; i < want->n || i < got->n; i++) {
		const struct msvc *w = &want->s[i], *g = &got->s[i];

		if (i == want->n || i == got->n || !key_eq(&w->key, &g->key)) {
			snprintf(
				why, wn,
				"service %d: model has %s (of %d), the module %s (of %d)",
				i, i < want->n ? key_str(&w->key) : "none",
				want->n, i < got->n ? key_str(&g->key) : "none",
				got->n);
			return false;
		}
		if (w->sched != g->sched || w->mode != g->mode ||
		    w->table_size != g->table_size || w->flags != g->flags) {
			snprintf(
				why, wn,
				"%s: model sched %u mode %u table %u flags %u, the module %u %u %u %u",
				key_str(&w->key), w->sched, w->mode,
				w->table_size, w->flags, g->sched, g->mode,
				g->table_size, g->flags);
			return false;
		}
		for (j = 0; j < w->nbe || j < g->nbe; j++) {
			const struct mbe *x = &w->be[j], *y = &g->be[j];

			if (j == w->nbe || j == g->nbe || x->port != y->port ||
			    memcmp(x->addr, y->addr, 16) ||
			    x->weight != y->weight || x->flags != y->flags) {
				snprintf(
					why, wn,
					"%s: backend %d of %d/%d differs (weight %u/%u)",
					key_str(&w->key), j, w->nbe, g->nbe,
					j < w->nbe ? x->weight : 0,
					j < g->nbe ? y->weight : 0);
				return false;
			}
		}
	}
	return true;
}

/* What a rules dump holds, with what is needed to check it. */
struct rread {
	struct mtable t;
	char tname[MR_RULES][VIPLB_CHAIN_NAME_MAX];
	uint32_t refs[MR_CHAINS];
	uint32_t gen;
	bool over;
};

static int read_chain(const struct nlattr **rtb, int tb, struct rread *rr,
		      const char *name, char *why, size_t wn)
{
	struct mtable *t = &rr->t;
	struct mchain *c;
	int h;

	for (h = 0; h < (int)ARRAY_SIZE(hook_names); h++)
		if (!strcmp(name, hook_names[h]))
			break;
	if (find_chain(t, name) >= 0) {
		snprintf(why, wn, "chain %s twice", name);
		return -1;
	}
	if (rtb[VIPLB_RULES_A_POLICY]) {
		/* A built-in chain: they come first, in hook order. */
		if (h == (int)ARRAY_SIZE(hook_names) ||
		    !(table_hooks[tb] & (1U << h)) ||
		    (t->nc &&
		     (t->c[t->nc - 1].hook < 0 || t->c[t->nc - 1].hook > h)) ||
		    !fixed(rtb[VIPLB_RULES_A_PKTS], 8) ||
		    !fixed(rtb[VIPLB_RULES_A_BYTES], 8) ||
		    rtb[VIPLB_RULES_A_REFS]) {
			snprintf(why, wn, "built-in chain %s out of place",
				 name);
			return -1;
		}
	} else if (!fixed(rtb[VIPLB_RULES_A_REFS], 4) ||
		   rtb[VIPLB_RULES_A_PKTS] || rtb[VIPLB_RULES_A_BYTES] ||
		   t->nc < __builtin_popcount(table_hooks[tb])) {
		snprintf(why, wn, "user chain %s out of place", name);
		return -1;
	}
	if (t->nc == MR_CHAINS) {
		rr->over = true;
		return 0;
	}
	c = &t->c[t->nc];
	memset(c, 0, sizeof(*c));
	strcpy(c->name, name);
	c->hook = -1;
	if (rtb[VIPLB_RULES_A_POLICY]) {
		c->hook = h;
		c->policy = a_u32(rtb[VIPLB_RULES_A_POLICY]);
		c->pkts = a_u64(rtb[VIPLB_RULES_A_PKTS]);
		c->bytes = a_u64(rtb[VIPLB_RULES_A_BYTES]);
		if (c->policy != VIPLB_V_ACCEPT &&
		    (c->policy != VIPLB_V_DROP || tb != VIPLB_RTABLE_FILTER)) {
			snprintf(why, wn, "chain %s has policy %u", name,
				 c->policy);
			return -1;
		}
	} else {
		rr->refs[t->nc] = a_u32(rtb[VIPLB_RULES_A_REFS]);
	}
	t->nc++;
	return 0;
}

static int read_rule(const struct nlattr **rtb, struct rread *rr,
		     const char *name, char *why, size_t wn)
{
	const struct nlattr *co = rtb[VIPLB_RULES_A_COMMENT];
	const struct nlattr *mo = rtb[VIPLB_RULES_A_MATCH_ORDER];
	const struct nlattr *ta = rtb[VIPLB_RULES_A_TARGET];
	struct mtable *t = &rr->t;
	struct mrule *r;

	if (!t->nc || strcmp(t->c[t->nc - 1].name, name)) {
		snprintf(why, wn, "a rule of chain %s not after it", name);
		return -1;
	}
	if (!fixed(rtb[VIPLB_RULES_A_SPEC], sizeof(r->spec)) ||
	    !fixed(rtb[VIPLB_RULES_A_HANDLE], 8) ||
	    !a_u64(rtb[VIPLB_RULES_A_HANDLE]) ||
	    !fixed(rtb[VIPLB_RULES_A_PKTS], 8) ||
	    !fixed(rtb[VIPLB_RULES_A_BYTES], 8) ||
	    (mo && (!alen(mo) || alen(mo) > VIPLB_MATCH_ORDER_MAX)) ||
	    (co && (!alen(co) || alen(co) > VIPLB_COMMENT_MAX)) ||
	    (ta && (!alen(ta) || alen(ta) > VIPLB_CHAIN_NAME_MAX))) {
		snprintf(why, wn, "a rule of chain %s: bad attributes", name);
		return -1;
	}
	if (t->nr == MR_RULES) {
		rr->over = true;
		return 0;
	}
	r = &t->r[t->nr];
	memset(r, 0, sizeof(*r));
	memcpy(&r->spec, adata(rtb[VIPLB_RULES_A_SPEC]), sizeof(r->spec));
	if (is_jump(r->spec.verdict) != !!ta) {
		snprintf(why, wn, "a rule of chain %s: verdict %u, target %s",
			 name, r->spec.verdict, ta ? "given" : "missing");
		return -1;
	}
	rr->tname[t->nr][0] = 0;
	if (ta)
		a_str(ta, rr->tname[t->nr], VIPLB_CHAIN_NAME_MAX);
	r->chain = t->nc - 1;
	r->handle = a_u64(rtb[VIPLB_RULES_A_HANDLE]);
	r->pkts = a_u64(rtb[VIPLB_RULES_A_PKTS]);
	r->bytes = a_u64(rtb[VIPLB_RULES_A_BYTES]);
	r->comment = -1;
	if (co) {
		a_str(co, r->text, sizeof(r->text));
		r->comment = strlen(r->text);
	}
	if (mo) {
		r->order_len = alen(mo);
		memcpy(r->order, adata(mo), r->order_len);
	}
	t->nr++;
	return 0;
}

/*
 * A rules dump of table (@afi, @tb) into @rr, checking it: one generation,
 * built-in chains first, each rule after its chain, targets that exist,
 * REFS that count the jumps, handles that differ.
 */
static int read_rules(const unsigned char *p, size_t len, int afi, int tb,
		      struct rread *rr, char *why, size_t wn)
{
	const struct nlmsghdr *h = (const void *)p;
	bool first = true;
	int i, j;

	rr->t.nc = 0;
	rr->t.nr = 0;
	rr->over = false;
	for (; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
		const struct nlattr *tb_[VIPLB_A_MAX + 1];
		const struct nlattr *rtb[VIPLB_RULES_A_MAX + 1];
		const struct genlmsghdr *gh = NLMSG_DATA(h);
		char name[VIPLB_CHAIN_NAME_MAX];
		const struct nlattr *ch;

		if (h->nlmsg_type != family || gh->cmd != VIPLB_CMD_RULES_GET) {
			snprintf(why, wn, "message type %u cmd %u",
				 h->nlmsg_type, gh->cmd);
			return -1;
		}
		parse_msg(h, tb_, VIPLB_A_MAX);
		if (!tb_[VIPLB_A_RULES]) {
			snprintf(why, wn, "a message without rules");
			return -1;
		}
		parse_nest(tb_[VIPLB_A_RULES], rtb, VIPLB_RULES_A_MAX);
		ch = rtb[VIPLB_RULES_A_CHAIN];
		if (!fixed(rtb[VIPLB_RULES_A_AF], 2) ||
		    a_u16(rtb[VIPLB_RULES_A_AF]) !=
			    (afi ? AF_INET6 : AF_INET) ||
		    !fixed(rtb[VIPLB_RULES_A_TABLE], 4) ||
		    a_u32(rtb[VIPLB_RULES_A_TABLE]) != (uint32_t)tb ||
		    !fixed(rtb[VIPLB_RULES_A_GEN], 4) || !ch || !alen(ch) ||
		    alen(ch) > VIPLB_CHAIN_NAME_MAX ||
		    ((const char *)adata(ch))[alen(ch) - 1]) {
			snprintf(why, wn, "a message of the wrong table");
			return -1;
		}
		if (!first && a_u32(rtb[VIPLB_RULES_A_GEN]) != rr->gen) {
			snprintf(why, wn, "generations %u and %u in one dump",
				 rr->gen, a_u32(rtb[VIPLB_RULES_A_GEN]));
			return -1;
		}
		rr->gen = a_u32(rtb[VIPLB_RULES_A_GEN]);
		first = false;
		a_str(ch, name, sizeof(name));
		if (rtb[VIPLB_RULES_A_SPEC] ?
			    read_rule(rtb, rr, name, why, wn) :
			    read_chain(rtb, tb, rr, name, why, wn))
			return -1;
	}
	if (rr->over)
		return 0;
	if (rr->t.nc < __builtin_popcount(table_hooks[tb])) {
		snprintf(why, wn, "%d chains", rr->t.nc);
		return -1;
	}
	for (i = 0; i < rr->t.nr; i++) {
		struct mrule *r = &rr->t.r[i];

		if (is_jump(r->spec.verdict)) {
			r->target = find_chain(&rr->t, rr->tname[i]);
			if (r->target < 0 || rr->t.c[r->target].hook >= 0) {
				snprintf(why, wn, "a jump to %s", rr->tname[i]);
				return -1;
			}
		}
		for (j = 0; j < i; j++) {
			if (rr->t.r[j].handle == r->handle) {
				snprintf(why, wn, "handle %llu twice",
					 (unsigned long long)r->handle);
				return -1;
			}
		}
	}
	for (i = 0; i < rr->t.nc; i++) {
		if (rr->t.c[i].hook < 0 &&
		    rr->refs[i] != chain_refs(&rr->t, i)) {
			snprintf(why, wn, "chain %s: REFS %u, %u jumps",
				 rr->t.c[i].name, rr->refs[i],
				 chain_refs(&rr->t, i));
			return -1;
		}
	}
	return 0;
}

/* Compares a live table of the model with a dump; learns new handles. */
static bool table_same(struct mtable *want, const struct mtable *got, char *why,
		       size_t wn)
{
	int i;

	if (want->nc != got->nc || want->nr != got->nr) {
		snprintf(why, wn, "model %d chains %d rules, the module %d %d",
			 want->nc, want->nr, got->nc, got->nr);
		return false;
	}
	for (i = 0; i < want->nc; i++) {
		const struct mchain *w = &want->c[i], *g = &got->c[i];

		if (strcmp(w->name, g->name) || w->hook != g->hook ||
		    (w->hook >= 0 &&
		     (w->policy != g->policy || w->pkts != g->pkts ||
		      w->bytes != g->bytes))) {
			snprintf(
				why, wn,
				"chain %d: model %s policy %u counters %llu/%llu, the module %s %u %llu/%llu",
				i, w->name, w->policy,
				(unsigned long long)w->pkts,
				(unsigned long long)w->bytes, g->name,
				g->policy, (unsigned long long)g->pkts,
				(unsigned long long)g->bytes);
			return false;
		}
	}
	for (i = 0; i < want->nr; i++) {
		const struct mrule *w = &want->r[i], *g = &got->r[i];

		if (w->chain != g->chain ||
		    memcmp(&w->spec, &g->spec, sizeof(w->spec)) ||
		    (is_jump(w->spec.verdict) && w->target != g->target) ||
		    w->comment != g->comment ||
		    (w->comment > 0 && strcmp(w->text, g->text)) ||
		    w->order_len != g->order_len ||
		    memcmp(w->order, g->order, w->order_len) ||
		    w->pkts != g->pkts || w->bytes != g->bytes ||
		    (w->handle && w->handle != g->handle)) {
			snprintf(
				why, wn,
				"rule %d of chain %s differs (handle %llu/%llu, counters %llu/%llu)",
				i, want->c[w->chain].name,
				(unsigned long long)w->handle,
				(unsigned long long)g->handle,
				(unsigned long long)w->pkts,
				(unsigned long long)g->pkts);
			return false;
		}
	}
	for (i = 0; i < want->nr; i++)
		want->r[i].handle = got->r[i].handle;
	return true;
}

/* --------------------------------------------------- answers and model */

static bool cmd_config(uint8_t cmd)
{
	return cmd == VIPLB_CMD_SERVICE_NEW || cmd == VIPLB_CMD_SERVICE_SET ||
	       cmd == VIPLB_CMD_SERVICE_DEL || cmd == VIPLB_CMD_BACKEND_NEW ||
	       cmd == VIPLB_CMD_BACKEND_SET || cmd == VIPLB_CMD_BACKEND_DEL ||
	       cmd == VIPLB_CMD_FLUSH;
}

static bool cmd_rules(uint8_t cmd)
{
	return cmd == VIPLB_CMD_RULES_TABLE || cmd == VIPLB_CMD_RULES_CHAIN ||
	       cmd == VIPLB_CMD_RULES_RULE;
}

static void rules_unknown(void)
{
	memset(rtab_known, 0, sizeof(rtab_known));
	gen_known = false;
}

/*
 * What an answer @e to command @cmd from @sock tells when the model could
 * not predict it, or predicted something else (@odd).  @valid: the message
 * passed its policy.
 */
static void unsure(int sock, uint8_t cmd, bool dump, int e, bool valid,
		   bool odd)
{
	int own = owns(sock);
	bool lost = e == R_LOST;

	if (e == R_SENDFAIL || dump)
		return;
	switch (cmd) {
	case VIPLB_CMD_TXN_BEGIN:
		if (!e) {
			txn.st = T_UNKNOWN;
			txn.owner = sock;
		} else if (e == -EBUSY && txn.st == T_MAYBE && txn.owner >= 0) {
			txn.st = T_UNKNOWN;
		} else if (e == -EBUSY && txn.st == T_NONE) {
			txn.st = T_MAYBE;
		} else if (lost && txn.st != T_OPEN && txn.st != T_UNKNOWN) {
			txn.owner = txn.st == T_NONE || txn.owner == sock ?
					    sock :
					    -1;
			txn.st = T_MAYBE;
		}
		return;
	case VIPLB_CMD_TXN_ABORT:
		if (!e || (e == -ENOENT && txn.owner == sock)) {
			txn_release();
			n_aborted += !e;
		} else if (lost && own) {
			txn.st = T_MAYBE;
		}
		return;
	case VIPLB_CMD_TXN_COMMIT:
		if (!e || lost) {
			live_known = false;
			rules_unknown();
		}
		if (!e || (e == -ENOENT && txn.owner == sock)) {
			txn_release();
			n_committed += !e;
		} else if (own && e != -ENOENT) {
			/* A refused message left it open, a failed one not. */
			if (valid && !lost && !failslab)
				txn_release();
			else
				txn.st = T_MAYBE;
		}
		return;
	}
	if (cmd_config(cmd)) {
		if (own > 0 && txn.st == T_OPEN)
			txn.st = T_UNKNOWN;
		if (own <= 0 && (!e || lost))
			live_known = false;
		else if (!own && odd)
			live_check = true;
	} else if (cmd_rules(cmd) && own > 0 && txn.st == T_OPEN) {
		txn.st = T_UNKNOWN;
	}
}

static void odd_answer(int sock, const struct req *r, const char *what)
{
	char buf[240];

	snprintf(buf, sizeof(buf),
		 "message %lu, socket %d: %s%s: expected %s, got %s%s%s%s",
		 n_msgs, sock, cmd_name(r->cmd), r->dump ? " dump" : "",
		 err_name(r->expect), err_name(r->error), what,
		 r->ext[0] ? " extack \"" : "", r->ext);
	if (r->ext[0])
		strncat(buf, "\"", sizeof(buf) - strlen(buf) - 1);
	/* Under failslab a failed allocation explains any error. */
	if (failslab && r->error)
		n_note[N_MODEL]++;
	else
		note(N_MODEL, "%s", buf);
}

/* The module holds something else than the model says. */
static void model_differs(const char *what, const char *why)
{
	note(N_MODEL, "%s%s: %s", failslab ? "failslab: " : "", what, why);
}

/* Checks a GET reply against the model. */
static void check_get(int sock, const struct req *r, const struct mreq *q)
{
	const struct nlattr *stb[VIPLB_SVC_A_MAX + 1];
	static struct mcfg got, want;
	char why[160] = "";
	struct msvc *s;
	bool over;

	if (store_over || m_lookup_svc(&live, q, stb, &s))
		return;
	if (read_services(store + r->doff, r->dlen, &got, &over, why,
			  sizeof(why)) ||
	    r->nmsgs != 1) {
		note(N_BAD, "GET reply: %s (%d messages)", why, r->nmsgs);
		return;
	}
	want.n = 1;
	want.s[0] = *s;
	n_verified++;
	if (!cfg_same(&want, &got, why, sizeof(why)))
		odd_answer(sock, r, why);
}

static void check_dump(int sock, const struct req *r, const struct mreq *q)
{
	const struct nlattr *stb[VIPLB_SVC_A_MAX + 1];
	static struct mcfg got, want;
	char why[160] = "";
	struct skey k;
	bool over;

	if (store_over || r->intr)
		return;
	if (read_services(store + r->doff, r->dlen, &got, &over, why,
			  sizeof(why))) {
		note(N_BAD, "service dump: %s", why);
		return;
	}
	if (over)
		return;
	if (q->tb[VIPLB_A_SERVICE]) {
		if (m_parse_svc(q->tb[VIPLB_A_SERVICE], &k, stb))
			return;
		want.n = 1;
		want.s[0] = *m_find(&live, &k);
	} else {
		memcpy(&want, &live, sizeof(want));
	}
	n_verified++;
	if (!cfg_same(&want, &got, why, sizeof(why)))
		odd_answer(sock, r, why);
}

static void check_lookup(int sock, const struct req *r, const struct mreq *q)
{
	const struct nlattr *stb[VIPLB_SVC_A_MAX + 1];
	const struct nlattr *tb[VIPLB_A_MAX + 1], *ltb[VIPLB_LOOKUP_A_MAX + 1];
	const struct nlattr *qtb[VIPLB_LOOKUP_A_MAX + 1];
	const struct nlattr *btb[VIPLB_BE_A_MAX + 1];
	const struct nlmsghdr *h = (const void *)(store + r->doff);
	bool up = false, ok;
	struct msvc *s;
	uint16_t dport;
	int i;

	if (store_over || m_lookup_svc(&live, q, stb, &s))
		return;
	for (i = 0; i < s->nbe; i++)
		up |= s->be[i].weight > 0;
	parse_nest(q->tb[VIPLB_A_LOOKUP], qtb, VIPLB_LOOKUP_A_MAX);
	dport = qtb[VIPLB_LOOKUP_A_DST_PORT] ?
			a_u16(qtb[VIPLB_LOOKUP_A_DST_PORT]) :
			s->key.port;
	ok = r->nmsgs == 1 && r->dlen >= NLMSG_HDRLEN + GENL_HDRLEN;
	if (ok) {
		parse_msg(h, tb, VIPLB_A_MAX);
		ok = tb[VIPLB_A_SERVICE] && tb[VIPLB_A_LOOKUP];
	}
	if (ok) {
		parse_nest(tb[VIPLB_A_LOOKUP], ltb, VIPLB_LOOKUP_A_MAX);
		ok = fixed(ltb[VIPLB_LOOKUP_A_SRC_ADDR],
			   alen(qtb[VIPLB_LOOKUP_A_SRC_ADDR])) &&
		     !memcmp(adata(ltb[VIPLB_LOOKUP_A_SRC_ADDR]),
			     adata(qtb[VIPLB_LOOKUP_A_SRC_ADDR]),
			     alen(qtb[VIPLB_LOOKUP_A_SRC_ADDR])) &&
		     fixed(ltb[VIPLB_LOOKUP_A_SRC_PORT], 2) &&
		     a_u16(ltb[VIPLB_LOOKUP_A_SRC_PORT]) ==
			     a_u16(qtb[VIPLB_LOOKUP_A_SRC_PORT]) &&
		     fixed(ltb[VIPLB_LOOKUP_A_DST_PORT], 2) &&
		     a_u16(ltb[VIPLB_LOOKUP_A_DST_PORT]) == dport &&
		     fixed(ltb[VIPLB_LOOKUP_A_PIN], 4) &&
		     a_u32(ltb[VIPLB_LOOKUP_A_PIN]) <= VIPLB_PIN_MAX;
	}
	if (!ok) {
		note(N_BAD, "LOOKUP of %s: a bad reply", key_str(&s->key));
		return;
	}
	n_verified++;
	/* A new flow goes to a backend of weight > 0, if there is one. */
	if (a_u32(ltb[VIPLB_LOOKUP_A_PIN]) != VIPLB_PIN_NONE)
		return;
	if (!tb[VIPLB_A_BACKEND]) {
		if (up)
			odd_answer(sock, r, ": no backend, but one is up");
		return;
	}
	parse_nest(tb[VIPLB_A_BACKEND], btb, VIPLB_BE_A_MAX);
	for (i = 0; i < s->nbe; i++) {
		const struct mbe *b = &s->be[i];

		if (b->weight &&
		    fixed(btb[VIPLB_BE_A_ADDR], addr_len(s->key.af)) &&
		    !memcmp(adata(btb[VIPLB_BE_A_ADDR]), b->addr,
			    addr_len(s->key.af)) &&
		    fixed(btb[VIPLB_BE_A_PORT], 2) &&
		    a_u16(btb[VIPLB_BE_A_PORT]) == b->port &&
		    fixed(btb[VIPLB_BE_A_WEIGHT], 4) &&
		    a_u32(btb[VIPLB_BE_A_WEIGHT]) == b->weight)
			return;
	}
	odd_answer(sock, r, ": the backend is none of those up");
}

static bool batch_broken; /* an answer of this batch was not predicted */
static bool batch_txn; /* the batch has BEGIN, COMMIT or ABORT */

/*
 * Judges the answer to @r against the model's expectation and brings the
 * model up to date.  Replies of single requests are compared as well.
 */
static void settle(int sock, struct req *r, bool single)
{
	int e = r->error, x = r->expect;
	struct mreq q;

	if (batch_broken && r->applied)
		return;
	if (x <= 0 && e == x) {
		n_checked++;
		if (r->cls != C_VALID)
			return;
		req_parse(r, &q, sock);
		if (!r->applied)
			m_handle(&q, true);
		if (e || !single)
			return;
		if (r->dump && r->cmd == VIPLB_CMD_SERVICE_GET)
			check_dump(sock, r, &q);
		else if (!r->dump && r->cmd == VIPLB_CMD_SERVICE_GET)
			check_get(sock, r, &q);
		else if (r->cmd == VIPLB_CMD_SERVICE_LOOKUP)
			check_lookup(sock, r, &q);
		return;
	}
	if (x == X_ERR && (e < 0 || e == R_LOST || e == R_SENDFAIL)) {
		n_checked += e < 0;
		return;
	}
	if (e == R_SENDFAIL && !r->applied)
		return;
	if (x == X_ANY) {
		if (!e && r->cls == C_VALID && !r->dump &&
		    r->cmd == VIPLB_CMD_TXN_BEGIN) {
			/* A new, empty transaction of a known scope. */
			req_parse(r, &q, sock);
			txn.st = T_NONE;
			m_begin(&q, true);
			return;
		}
		unsure(sock, r->cmd, r->dump, e, r->cls == C_VALID, false);
		return;
	}
	if (e != R_LOST && e != R_SENDFAIL)
		odd_answer(sock, r, "");
	if (r->applied) {
		/*
		 * The batch went on from the predicted state: forget it.  Its
		 * transaction commands may or may not have been applied.
		 */
		batch_broken = true;
		live_known = false;
		rules_unknown();
		if (batch_txn || txn.st != T_NONE) {
			txn.owner = txn.st == T_NONE || txn.owner == sock ?
					    sock :
					    -1;
			txn.st = T_MAYBE;
		}
		return;
	}
	unsure(sock, r->cmd, r->dump, e, r->cls == C_VALID, true);
}

/* Sends the batch on @sock and settles every answer. */
static void run_batch(int sock)
{
	int i;

	if (!nrq)
		return;
	batch_broken = false;
	batch_txn = false;
	for (i = 0; i < nrq; i++)
		batch_txn |= rq[i].cmd == VIPLB_CMD_TXN_BEGIN ||
			     rq[i].cmd == VIPLB_CMD_TXN_COMMIT ||
			     rq[i].cmd == VIPLB_CMD_TXN_ABORT;
	exchange(sock);
	for (i = 0; i < nrq; i++)
		settle(sock, &rq[i], nrq == 1);
}

/* ----------------------------------------------------------- read-backs */

static bool need_reset;
static struct mcfg dumped;
static struct rread rread_main;

/* Reads the live services back, compares them with the model, takes them. */
static void refresh_services(void)
{
	int sock = any_sock(-1);
	char why[200] = "";
	struct gmsg g;
	struct req *r;
	bool over;

	gm_init(&g, VIPLB_CMD_SERVICE_GET);
	g.flags |= NLM_F_DUMP;
	batch_start();
	r = batch_add(sock, &g, false);
	exchange(sock);
	n_resync++;
	if (r->error || r->intr || store_over) {
		if (!failslab)
			note(N_BAD, "service dump: %s%s", err_name(r->error),
			     r->intr ? ", interrupted" : "");
		return;
	}
	if (read_services(store + r->doff, r->dlen, &dumped, &over, why,
			  sizeof(why))) {
		note(N_BAD, "service dump: %s", why);
		return;
	}
	if (over) {
		need_reset = true;
		return;
	}
	if (live_known) {
		n_verified++;
		if (!cfg_same(&live, &dumped, why, sizeof(why)))
			model_differs("services", why);
	}
	memcpy(&live, &dumped, sizeof(live));
	live_known = true;
	live_check = false;
}

static void rules_nest(struct gmsg *g, int afi, int tb)
{
	struct alist *l = al_new(S_RULES);

	al_u16(l, VIPLB_RULES_A_AF, afi ? AF_INET6 : AF_INET);
	al_u32(l, VIPLB_RULES_A_TABLE, tb, R_RTABLE);
	al_nest(g->top, VIPLB_A_RULES, l);
}

static void refresh_rules(int afi, int tb)
{
	int sock = any_sock(-1);
	char why[200] = "", what[32];
	struct gmsg g;
	struct req *r;

	gm_init(&g, VIPLB_CMD_RULES_GET);
	g.flags |= NLM_F_DUMP;
	rules_nest(&g, afi, tb);
	batch_start();
	r = batch_add(sock, &g, false);
	exchange(sock);
	n_resync++;
	snprintf(what, sizeof(what), "%s %s rules", afi ? "ip6" : "ip",
		 tb ? "nat" : "filter");
	if (r->error || r->intr || store_over) {
		if (!failslab)
			note(N_BAD, "%s dump: %s", what, err_name(r->error));
		return;
	}
	if (read_rules(store + r->doff, r->dlen, afi, tb, &rread_main, why,
		       sizeof(why))) {
		note(N_BAD, "%s dump: %s", what, why);
		return;
	}
	if (rread_main.over) {
		need_reset = true;
		return;
	}
	if (gen_known && rread_main.gen != rules_gen) {
		snprintf(why, sizeof(why), "generation %u, model %u",
			 rread_main.gen, rules_gen);
		model_differs(what, why);
	}
	if (rtab_known[afi][tb]) {
		n_verified++;
		if (!table_same(&rlive[afi][tb], &rread_main.t, why,
				sizeof(why)))
			model_differs(what, why);
	}
	memcpy(&rlive[afi][tb], &rread_main.t, sizeof(rlive[afi][tb]));
	rtab_known[afi][tb] = true;
	rtab_check[afi][tb] = false;
	rules_gen = rread_main.gen;
	gen_known = true;
}

/* Handles are unique in a netns, whatever table holds the rule. */
static void check_handles(void)
{
	int a, b, i, j, k;

	for (a = 0; a < 4; a++)
		for (i = 0; i < rlive[a / 2][a % 2].nr; i++)
			for (b = a; b < 4; b++)
				for (j = a == b ? i + 1 : 0, k = 0;
				     j < rlive[b / 2][b % 2].nr; j++)
					if (rlive[a / 2][a % 2].r[i].handle ==
						    rlive[b / 2][b % 2]
							    .r[j]
							    .handle &&
					    !k++)
						note(N_BAD,
						     "rule handle %llu in two places",
						     (unsigned long long)
							     rlive[a / 2][a % 2]
								     .r[i]
								     .handle);
}

/* ------------------------------------------------------------- sending */

static uint32_t client_ops; /* what the owner sent in its transaction */

static uint32_t pick_ops(void)
{
	if (txn.st == T_OPEN && chance(85))
		return txn.ops;
	if (chance(60))
		return client_ops;
	return rnd(20);
}

/* Sends @g alone on @sock; returns the answer. */
static int send_g(int sock, struct gmsg *g)
{
	struct req *r;
	int own = owns(sock);

	batch_start();
	r = batch_add(sock, g, false);
	run_batch(sock);
	if (own && (cmd_config(r->cmd) || cmd_rules(r->cmd)))
		client_ops++;
	return r->error;
}

/* Now and then, a message of another class than valid. */
static void pick_class(struct gmsg *g, bool batch)
{
	unsigned int r = rnd(100);

	if (r < 14) {
		g->cls = C_POLICY;
		mutate_refused(g);
	} else if (!batch && r < 20) {
		g->cls = C_CHAOS;
	}
	if (chance(4))
		g->flags &= ~NLM_F_ACK;
}

static int send_cmd(int sock, uint8_t cmd, bool valid)
{
	struct gmsg g;

	gen_cmd(&g, sock, cmd);
	if (!valid)
		pick_class(&g, false);
	return send_g(sock, &g);
}

static int send_plain(int sock, uint8_t cmd)
{
	struct gmsg g;

	gm_init(&g, cmd);
	return send_g(sock, &g);
}

static int send_begin(int sock, uint32_t scope)
{
	struct gmsg g;

	gm_init(&g, VIPLB_CMD_TXN_BEGIN);
	if (scope)
		al_u32(g.top, VIPLB_A_TXN_SCOPE, scope, R_SCOPE);
	client_ops = 0;
	return send_g(sock, &g);
}

static int send_commit(int sock, int64_t ops)
{
	struct gmsg g;

	gm_init(&g, VIPLB_CMD_TXN_COMMIT);
	if (ops >= 0)
		al_u32(g.top, VIPLB_A_TXN_OPS, ops, R_NONE);
	return send_g(sock, &g);
}

static int send_svc(int sock, uint8_t cmd, const struct skey *k)
{
	struct gmsg g;
	struct alist *l;

	gm_init(&g, cmd);
	l = al_new(S_SVC);
	al_u16(l, VIPLB_SVC_A_AF, k->af);
	al_u8(l, VIPLB_SVC_A_PROTO, k->proto);
	al_add(l, VIPLB_SVC_A_ADDR, K_ADDR, k->addr, addr_len(k->af));
	al_be16(l, VIPLB_SVC_A_PORT, k->port);
	al_nest(g.top, VIPLB_A_SERVICE, l);
	return send_g(sock, &g);
}

static int send_rtable(int sock, int afi, int tb)
{
	struct gmsg g;

	gm_init(&g, VIPLB_CMD_RULES_TABLE);
	rules_nest(&g, afi, tb);
	return send_g(sock, &g);
}

static int send_chain(int sock, const char *name)
{
	struct gmsg g;

	gm_init(&g, VIPLB_CMD_RULES_CHAIN);
	g_rules_chain(&g, sock, name);
	return send_g(sock, &g);
}

/* A plain JUMP from chain @from to chain @to of table (@afi, @tb). */
static int send_jump(int sock, int afi, int tb, const char *from,
		     const char *to)
{
	struct viplb_rule_spec s = { .verdict = VIPLB_V_JUMP };
	struct gmsg g;
	struct alist *l;

	gm_init(&g, VIPLB_CMD_RULES_RULE);
	l = al_new(S_RULES);
	al_u16(l, VIPLB_RULES_A_AF, afi ? AF_INET6 : AF_INET);
	al_u32(l, VIPLB_RULES_A_TABLE, tb, R_RTABLE);
	al_str(l, VIPLB_RULES_A_CHAIN, from, strlen(from) + 1,
	       VIPLB_CHAIN_NAME_MAX - 1);
	al_add(l, VIPLB_RULES_A_SPEC, K_SPEC, &s, sizeof(s));
	al_str(l, VIPLB_RULES_A_TARGET, to, strlen(to) + 1,
	       VIPLB_CHAIN_NAME_MAX - 1);
	al_nest(g.top, VIPLB_A_RULES, l);
	return send_g(sock, &g);
}

static void close_all(void)
{
	int order[NSOCK], i, j, t;

	for (i = 0; i < NSOCK; i++)
		order[i] = i;
	for (i = NSOCK - 1; i > 0; i--) {
		j = rnd(i + 1);
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < NSOCK; i++)
		if (sfd[order[i]] >= 0)
			sock_close(order[i]);
}

/* Brings the module back to what the model can hold. */
static void reset_module(void)
{
	int sock, afi, tb, err = 0;

	close_all();
	sock = any_sock(-1);
	err |= send_plain(sock, VIPLB_CMD_FLUSH);
	err |= send_begin(sock, VIPLB_TXN_RULES);
	for (afi = 0; afi < 2; afi++)
		for (tb = 0; tb < 2; tb++)
			err |= send_rtable(sock, afi, tb);
	err |= send_commit(sock, 4);
	live_known = false;
	rules_unknown();
	if (!err)
		need_reset = false;
}

/* Reads back what the model does not know, or should check. */
static void refresh(void)
{
	int afi, tb;
	bool all = true;

	if (need_reset)
		reset_module();
	if (!live_known || live_check)
		refresh_services();
	for (afi = 0; afi < 2; afi++) {
		for (tb = 0; tb < 2; tb++) {
			if (!rtab_known[afi][tb] || rtab_check[afi][tb])
				refresh_rules(afi, tb);
			all &= rtab_known[afi][tb];
		}
	}
	if (!gen_known)
		refresh_rules(0, 0);
	if (all && chance(5))
		check_handles();
}

/* ------------------------------------------------------------ sequences */

static const uint8_t svc_cmds[] = {
	VIPLB_CMD_SERVICE_NEW, VIPLB_CMD_SERVICE_NEW, VIPLB_CMD_SERVICE_NEW,
	VIPLB_CMD_SERVICE_SET, VIPLB_CMD_SERVICE_SET, VIPLB_CMD_SERVICE_DEL,
	VIPLB_CMD_BACKEND_NEW, VIPLB_CMD_BACKEND_NEW, VIPLB_CMD_BACKEND_NEW,
	VIPLB_CMD_BACKEND_NEW, VIPLB_CMD_BACKEND_SET, VIPLB_CMD_BACKEND_SET,
	VIPLB_CMD_BACKEND_DEL, VIPLB_CMD_BACKEND_DEL, VIPLB_CMD_FLUSH,
};

/* A service command; a clean one starts with a service to work on. */
static uint8_t pick_svc_cmd(int sock)
{
	if (gen_good && !gen_cfg(sock)->n)
		return VIPLB_CMD_SERVICE_NEW;
	return svc_cmds[rnd(ARRAY_SIZE(svc_cmds))];
}

static const uint8_t rule_cmds[] = {
	VIPLB_CMD_RULES_TABLE, VIPLB_CMD_RULES_CHAIN, VIPLB_CMD_RULES_CHAIN,
	VIPLB_CMD_RULES_RULE,  VIPLB_CMD_RULES_RULE,  VIPLB_CMD_RULES_RULE,
};

static uint8_t pick_cmd(void)
{
	static const uint8_t w[VIPLB_CMD_MAX + 1] = {
		[VIPLB_CMD_SERVICE_NEW] = 12, [VIPLB_CMD_SERVICE_SET] = 6,
		[VIPLB_CMD_SERVICE_DEL] = 5,  [VIPLB_CMD_SERVICE_GET] = 6,
		[VIPLB_CMD_BACKEND_NEW] = 12, [VIPLB_CMD_BACKEND_SET] = 6,
		[VIPLB_CMD_BACKEND_DEL] = 5,  [VIPLB_CMD_FLUSH] = 2,
		[VIPLB_CMD_TXN_BEGIN] = 4,    [VIPLB_CMD_TXN_COMMIT] = 3,
		[VIPLB_CMD_TXN_ABORT] = 3,    [VIPLB_CMD_SERVICE_LOOKUP] = 5,
		[VIPLB_CMD_STATS_ZERO] = 3,   [VIPLB_CMD_RULES_TABLE] = 3,
		[VIPLB_CMD_RULES_CHAIN] = 4,  [VIPLB_CMD_RULES_RULE] = 6,
		[VIPLB_CMD_RULES_GET] = 4,
	};
	unsigned int sum = 0, r, i;

	for (i = 0; i <= VIPLB_CMD_MAX; i++)
		sum += w[i];
	r = rnd(sum);
	for (i = 0; r >= w[i]; i++)
		r -= w[i];
	return i;
}

static void sc_single(void)
{
	gen_good = chance(15);
	send_cmd(any_sock(-1), pick_cmd(), gen_good);
}

/* Ends the transaction of @a in one of the ways a client can. */
static void txn_end(int a)
{
	unsigned int r = rnd(100);

	if (r < 50)
		send_commit(a, pick_ops());
	else if (r < 57)
		send_commit(a, client_ops);
	else if (r < 62)
		send_commit(a, client_ops + 1 + rnd(3));
	else if (r < 65)
		send_commit(a, -1);
	else if (r < 80)
		send_plain(a, VIPLB_CMD_TXN_ABORT);
	else if (r < 92)
		sock_close(a);
	/* else: left open, for a later sequence to find */
}

/* A transaction with commands from its owner and from another socket. */
static void sc_txn(void)
{
	static const uint32_t scopes[] = { 0, VIPLB_TXN_SERVICES,
					   VIPLB_TXN_SERVICES,
					   __VIPLB_TXN_SCOPE_ALL };
	int a = any_sock(-1), n = 1 + rnd(8), i;
	uint32_t scope = scopes[rnd(ARRAY_SIZE(scopes))];

	bool good = chance(60);

	send_begin(a, scope);
	for (i = 0; i < n; i++) {
		gen_good = false;
		if (chance(25)) {
			send_cmd(any_sock(a), pick_cmd(), false);
			continue;
		}
		gen_good = good;
		if ((scope & VIPLB_TXN_RULES) && chance(40))
			send_cmd(a, rule_cmds[rnd(ARRAY_SIZE(rule_cmds))],
				 good || chance(80));
		else
			send_cmd(a, pick_svc_cmd(a), good || chance(80));
		if (sfd[a] < 0)
			return;
	}
	txn_end(a);
}

/* Loads rule tables: chains, policies, rules, and at times deep jumps. */
static void sc_rules(void)
{
	int a = any_sock(-1), ntab = chance(10) ? 4 : 1 + rnd(2), t, i, n;
	char name[VIPLB_CHAIN_NAME_MAX], next[VIPLB_CHAIN_NAME_MAX];
	int afi, tb;

	gen_good = chance(70);
	send_begin(a, chance(75) ? VIPLB_TXN_RULES : __VIPLB_TXN_SCOPE_ALL);
	for (t = 0; t < ntab; t++) {
		afi = ntab == 4 ? t / 2 : (int)rnd(2);
		tb = ntab == 4 ? t % 2 : (int)rnd(2);
		force_afi = afi;
		force_tb = tb;
		send_cmd(a, VIPLB_CMD_RULES_TABLE, gen_good || chance(90));
		for (i = 0; i < 5; i++) {
			if ((table_hooks[tb] & (1U << i)) && chance(40))
				send_chain(a, hook_names[i]);
		}
		if (chance(6)) {
			/* A line of 15 to 17 jumps: at most 16 may nest. */
			n = 15 + rnd(3);
			for (i = 1; i <= n; i++) {
				snprintf(name, sizeof(name), "d%d", i);
				send_chain(a, name);
			}
			send_jump(a, afi, tb, tb ? "OUTPUT" : "INPUT", "d1");
			for (i = 1; i < n; i++) {
				snprintf(name, sizeof(name), "d%d", i);
				snprintf(next, sizeof(next), "d%d", i + 1);
				send_jump(a, afi, tb, name, next);
			}
		} else {
			n = rnd(5);
			for (i = 1; i <= n; i++) {
				snprintf(name, sizeof(name), "u%d", i);
				send_chain(a, name);
			}
		}
		n = rnd(12);
		for (i = 0; i < n; i++)
			send_cmd(a, VIPLB_CMD_RULES_RULE,
				 gen_good || chance(90));
		if (chance(5))
			send_cmd(a, VIPLB_CMD_RULES_TABLE, true);
		if (sfd[a] < 0)
			break;
	}
	force_afi = -1;
	if (sfd[a] >= 0 && chance(90))
		send_commit(a, chance(85) ? pick_ops() : client_ops);
	else if (sfd[a] >= 0)
		txn_end(a);
}

/* Two sockets: one holds the transaction, the other is refused it. */
static void sc_two(void)
{
	int a = any_sock(-1), b = any_sock(a);

	if (a == b)
		return;
	send_begin(a, chance(50) ? 0 : 1 + rnd(__VIPLB_TXN_SCOPE_ALL));
	send_begin(b, 0);
	send_cmd(b, pick_svc_cmd(b), true);
	send_cmd(a, pick_svc_cmd(a), true);
	send_commit(b, rnd(3));
	send_plain(b, VIPLB_CMD_TXN_ABORT);
	txn_end(a);
	send_begin(b, 0);
	send_cmd(b, pick_svc_cmd(b), true);
	if (chance(50))
		sock_close(b);
	else
		txn_end(b);
}

/* Every socket says something, then all close in random order. */
static void sc_churn(void)
{
	int i, n;

	for (i = 0; i < NSOCK; i++) {
		if (sfd[i] < 0 && chance(50))
			sock_open(i);
		if (sfd[i] >= 0)
			send_cmd(i, pick_cmd(), false);
	}
	if (chance(50))
		send_begin(any_sock(-1), 0);
	close_all();
	n = 1 + rnd(NSOCK);
	for (i = 0; i < n; i++)
		sock_open(i);
}

/* Several messages in one datagram, often a whole transaction. */
static void sc_batch(void)
{
	int s = any_sock(-1), n = 2 + rnd(BATCH_MAX - 2), i;
	bool whole = txn.st == T_NONE && chance(40);
	struct gmsg g;
	struct req *r;

	gen_good = whole && chance(70);
	batch_start();
	if (whole) {
		gm_init(&g, VIPLB_CMD_TXN_BEGIN);
		if (chance(50))
			al_u32(g.top, VIPLB_A_TXN_SCOPE,
			       1 + rnd(__VIPLB_TXN_SCOPE_ALL), R_SCOPE);
		batch_add(s, &g, true);
	}
	for (i = 0; i < n - 2 * whole; i++) {
		uint8_t cmd = whole ? pick_svc_cmd(s) : pick_cmd();

		if (whole && (txn.scope & VIPLB_TXN_RULES) && chance(50))
			cmd = rule_cmds[rnd(ARRAY_SIZE(rule_cmds))];
		gen_cmd(&g, s, cmd);
		if (!gen_good)
			pick_class(&g, true);
		r = batch_add(s, &g, true);
		/* What follows an unpredictable answer is unpredictable. */
		if (r->expect == X_ANY)
			break;
	}
	if (whole && i == n - 2) {
		gm_init(&g, VIPLB_CMD_TXN_COMMIT);
		al_u32(g.top, VIPLB_A_TXN_OPS, pick_ops(), R_NONE);
		batch_add(s, &g, true);
	}
	run_batch(s);
}

/* Compares the module with the model: dumps, GET, stats. */
static void sc_verify(void)
{
	unsigned int r = rnd(100);
	int s = any_sock(-1);

	if (r < 30) {
		live_check = true;
		refresh_services();
	} else if (r < 55) {
		int afi = rnd(2), tb = rnd(2);

		rtab_check[afi][tb] = true;
		refresh_rules(afi, tb);
	} else if (r < 80 && live.n) {
		send_svc(s, VIPLB_CMD_SERVICE_GET, &live.s[rnd(live.n)].key);
	} else {
		send_cmd(s, VIPLB_CMD_STATS_ZERO, true);
		send_cmd(s, VIPLB_CMD_SERVICE_GET, true);
	}
}

static void sc_lookups(void)
{
	int s = any_sock(-1), n = 1 + rnd(5), i;

	for (i = 0; i < n; i++)
		send_cmd(s, VIPLB_CMD_SERVICE_LOOKUP, chance(90));
}

/* A transaction the model is unsure of: find out. */
static void sc_resolve(void)
{
	int o = txn.owner;

	if (o < 0 || sfd[o] < 0) {
		close_all();
		sock_open(0);
		return;
	}
	switch (rnd(4)) {
	case 0:
	case 1:
		send_plain(o, VIPLB_CMD_TXN_ABORT);
		break;
	case 2:
		send_commit(o, rnd(4));
		break;
	default:
		sock_close(o);
		break;
	}
}

/*
 * Adds reply-only attribute @i of the sweep to its nest in @g; false if
 * @g has no such nest.
 */
static bool add_reply_only(struct gmsg *g, int i)
{
	static const uint8_t sets[] = { S_SVC,	  S_SVC,   S_BE,
					S_LOOKUP, S_RULES, S_RULES };
	struct alist *l = NULL, *st;
	int t;

	for (t = 0; t < g->top->n && !l; t++)
		if (g->top->it[t].child && g->top->it[t].child->set == sets[i])
			l = g->top->it[t].child;
	if (!l)
		return false;
	switch (i) {
	case 0: /* every counter, in the service's stats */
		st = al_new(S_STATS);
		for (t = 1; t <= VIPLB_STATS_A_MAX; t++)
			al_u64(st, t, rnd64());
		al_nest(l, VIPLB_SVC_A_STATS, st);
		break;
	case 1:
		st = al_new(S_BE);
		al_add(st, VIPLB_BE_A_ADDR, K_ADDR, be_pool[0][0], 4);
		al_be16(st, VIPLB_BE_A_PORT, htons(80));
		al_nest(l, VIPLB_SVC_A_BACKEND, st);
		break;
	case 2:
		stats_nest(l, VIPLB_BE_A_STATS);
		break;
	case 3:
		al_u32(l, VIPLB_LOOKUP_A_PIN, VIPLB_PIN_NONE, R_NONE);
		break;
	case 4:
		al_add(l, VIPLB_RULES_A_PAD, K_BIN, NULL, 0);
		break;
	default:
		al_u32(l, VIPLB_RULES_A_REFS, 0, R_NONE);
		break;
	}
	return true;
}

/*
 * Before the random sequences: every command once, clean, then each
 * attribute that only replies hold once, which the policy must refuse.
 */
static void sweep(void)
{
	static const uint8_t hosts[] = {
		VIPLB_CMD_SERVICE_NEW, VIPLB_CMD_SERVICE_NEW,
		VIPLB_CMD_BACKEND_NEW, VIPLB_CMD_SERVICE_LOOKUP,
		VIPLB_CMD_RULES_GET,   VIPLB_CMD_RULES_GET,
	};
	int s = any_sock(-1), i;
	struct gmsg g;

	gen_good = true;
	for (i = 1; i <= VIPLB_CMD_MAX; i++)
		send_cmd(s, i, true);
	for (i = 0; i < (int)ARRAY_SIZE(hosts); i++) {
		do
			gen_cmd(&g, s, hosts[i]);
		while (!add_reply_only(&g, i));
		g.cls = C_POLICY;
		send_g(s, &g);
	}
	gen_good = false;
}

static void step(void)
{
	unsigned int r;

	refresh();
	/* A transaction left open blocks the others: end it, mostly. */
	if (txn.st != T_NONE && chance(txn.st == T_OPEN ? 30 : 40)) {
		sc_resolve();
		return;
	}
	gen_good = false;
	r = rnd(100);
	if (r < 38)
		sc_single();
	else if (r < 52)
		sc_txn();
	else if (r < 60)
		sc_rules();
	else if (r < 64)
		sc_two();
	else if (r < 67)
		sc_churn();
	else if (r < 80)
		sc_batch();
	else if (r < 93)
		sc_verify();
	else
		sc_lookups();
	gen_good = false;
}

/* -------------------------------------------------------------- dumper */

/*
 * The dumper dumps everything the family dumps, on a socket of its own,
 * while the sender changes it: services (all, or one), rule tables, and
 * GETs and lookups.  Answers must be ones the code can give; a dump must
 * be consistent unless flagged NLM_F_DUMP_INTR; any must end.
 */
static atomic_bool dumper_stop;
static unsigned long d_svc, d_filtered, d_rules, d_gets, d_intr, d_fail;
static char d_note[240];

static size_t d_put(unsigned char *buf, size_t off, uint16_t type,
		    const void *data, int len)
{
	struct nlattr *a = (struct nlattr *)(buf + off);

	a->nla_len = NLA_HDRLEN + len;
	a->nla_type = type;
	memcpy(buf + off + NLA_HDRLEN, data, len);
	memset(buf + off + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
	return off + NLA_HDRLEN + NLA_ALIGN(len);
}

static size_t d_key(unsigned char *buf, size_t off, const struct skey *k)
{
	size_t n = off;
	uint16_t af = k->af;

	off = d_put(buf, off, VIPLB_A_SERVICE | NLA_F_NESTED, NULL, 0);
	off = d_put(buf, off, VIPLB_SVC_A_AF, &af, 2);
	off = d_put(buf, off, VIPLB_SVC_A_PROTO, &k->proto, 1);
	off = d_put(buf, off, VIPLB_SVC_A_ADDR, k->addr, addr_len(k->af));
	off = d_put(buf, off, VIPLB_SVC_A_PORT, &k->port, 2);
	((struct nlattr *)(buf + n))->nla_len = off - n;
	return off;
}

static void d_fail_note(const char *fmt, ...)
{
	va_list ap;

	if (!d_fail++) {
		va_start(ap, fmt);
		vsnprintf(d_note, sizeof(d_note), fmt, ap);
		va_end(ap);
	}
}

static void *dumper(void *arg)
{
	static unsigned char tx[4096] __aligned(8);
	static unsigned char rx[RX_MAX] __aligned(8);
	static unsigned char st[STORE_MAX] __aligned(8);
	static struct rread rr;
	static struct mcfg c;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	uint64_t rs = seed ^ 0x6a09e667f3bcc909ULL;
	uint32_t seq = 1, portid;
	int fd = nl_socket(0, true, true, &portid);

	(void)arg;
	while (!dumper_stop) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)tx;
		struct genlmsghdr *gh = NLMSG_DATA(nlh);
		const struct skey *k = &key_pool[rnd_next(&rs) % 8];
		unsigned int kind = rnd_next(&rs) % 8, afi = 0, tb = 0;
		size_t off = NLMSG_HDRLEN + GENL_HDRLEN, slen = 0, n;
		bool done = false, intr = false, over = false;
		int err = 0, nmsgs = 0;
		char why[200] = "";
		uint16_t af;

		memset(tx, 0, off);
		nlh->nlmsg_type = family;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP;
		nlh->nlmsg_seq = ++seq;
		gh->version = VIPLB_GENL_VERSION;
		gh->cmd = VIPLB_CMD_SERVICE_GET;
		switch (kind) {
		case 2:
			off = d_key(tx, off, k);
			break;
		case 3:
		case 4:
		case 5:
			afi = rnd_next(&rs) % 2;
			tb = rnd_next(&rs) % 2;
			af = afi ? AF_INET6 : AF_INET;
			gh->cmd = VIPLB_CMD_RULES_GET;
			n = off;
			off = d_put(tx, off, VIPLB_A_RULES | NLA_F_NESTED, NULL,
				    0);
			off = d_put(tx, off, VIPLB_RULES_A_AF, &af, 2);
			off = d_put(tx, off, VIPLB_RULES_A_TABLE, &tb, 4);
			((struct nlattr *)(tx + n))->nla_len = off - n;
			break;
		case 6:
			nlh->nlmsg_flags &= ~NLM_F_DUMP;
			off = d_key(tx, off, k);
			break;
		case 7: {
			uint8_t src[16] = { 203, 0, 113, 7 };
			uint16_t port = htons(40000);

			nlh->nlmsg_flags &= ~NLM_F_DUMP;
			gh->cmd = VIPLB_CMD_SERVICE_LOOKUP;
			off = d_key(tx, off, k);
			n = off;
			off = d_put(tx, off, VIPLB_A_LOOKUP | NLA_F_NESTED,
				    NULL, 0);
			off = d_put(tx, off, VIPLB_LOOKUP_A_SRC_ADDR, src,
				    addr_len(k->af));
			off = d_put(tx, off, VIPLB_LOOKUP_A_SRC_PORT, &port, 2);
			((struct nlattr *)(tx + n))->nla_len = off - n;
			break;
		}
		}
		nlh->nlmsg_len = off;
		wd_dump = now_ms();
		if (sendto(fd, tx, off, 0, (struct sockaddr *)&sa,
			   sizeof(sa)) != (ssize_t)off) {
			d_fail_note("dump thread: sendto: %s", strerror(errno));
			break;
		}
		while (!done) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			const struct nlmsghdr *h = (const void *)rx;
			ssize_t got;

			if (poll(&pfd, 1, HANG_MS) == 0)
				hang("a request of the dump thread gets no answer");
			got = recv(fd, rx, sizeof(rx), MSG_DONTWAIT);
			if (got < 0) {
				if (errno == EAGAIN || errno == EINTR)
					continue;
				d_fail_note("dump thread: recv: %s",
					    strerror(errno));
				done = true;
				err = -errno;
				break;
			}
			n = got;
			for (; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
				if (h->nlmsg_seq != seq) {
					d_fail_note(
						"dump thread: sequence %u, not %u",
						h->nlmsg_seq, seq);
					continue;
				}
				intr |= h->nlmsg_flags & NLM_F_DUMP_INTR;
				if (h->nlmsg_type == NLMSG_ERROR ||
				    h->nlmsg_type == NLMSG_DONE) {
					if (h->nlmsg_len >=
					    NLMSG_LENGTH(sizeof(int)))
						err = *(const int *)NLMSG_DATA(
							h);
					done = true;
					continue;
				}
				nmsgs++;
				if (slen + NLMSG_ALIGN(h->nlmsg_len) >
				    STORE_MAX) {
					over = true;
					continue;
				}
				memcpy(st + slen, h, h->nlmsg_len);
				slen += NLMSG_ALIGN(h->nlmsg_len);
			}
		}
		wd_dump = 0;
		if (intr)
			d_intr++;
		if (err && !((kind == 2 || kind >= 6) && err == -ENOENT)) {
			d_fail_note("dump thread: %s%s: %s", cmd_names[gh->cmd],
				    nlh->nlmsg_flags & NLM_F_DUMP ? " dump" :
								    "",
				    strerrorname_np(-err) ?: "?");
			continue;
		}
		switch (kind) {
		case 0:
		case 1:
		case 2:
			d_svc += kind < 2;
			d_filtered += kind == 2;
			if (!intr && !over &&
			    read_services(st, slen, &c, &over, why,
					  sizeof(why)))
				d_fail_note("dump thread: service dump: %s",
					    why);
			if (kind == 2 && !err && !intr && !over &&
			    (c.n != 1 || !key_eq(&c.s[0].key, k)))
				d_fail_note(
					"dump thread: filtered dump of %s gave %d services",
					key_str(k), c.n);
			break;
		case 3:
		case 4:
		case 5:
			d_rules++;
			if (!intr && !over &&
			    read_rules(st, slen, afi, tb, &rr, why,
				       sizeof(why)))
				d_fail_note("dump thread: rules dump: %s", why);
			break;
		default:
			d_gets++;
			if (kind == 6 && !err &&
			    (nmsgs != 1 ||
			     read_services(st, slen, &c, &over, why,
					   sizeof(why)) ||
			     c.n != 1))
				d_fail_note(
					"dump thread: GET: %s (%d messages)",
					why, nmsgs);
			if (kind == 7 && !err && nmsgs != 1)
				d_fail_note("dump thread: LOOKUP: %d messages",
					    nmsgs);
			break;
		}
	}
	close(fd);
	return NULL;
}

/* Fails the run when the sender or the dumper stops moving. */
static void *watchdog(void *arg)
{
	(void)arg;
	for (;;) {
		uint64_t now, f, d;

		sleep(1);
		now = now_ms();
		f = wd_fuzz;
		d = wd_dump;
		if (f && now > f + HANG_MS)
			hang(wd_what);
		if (d && now > d + HANG_MS)
			hang("a dump of the dump thread does not end");
	}
	return NULL;
}

/* ---------------------------------------------------------------- main */

static void make_it_fail(bool on)
{
	if (mif_fd >= 0 && write(mif_fd, on ? "1" : "0", 1) != 1)
		ksft_exit_fail_msg("make-it-fail: %s\n", strerror(errno));
}

static int resolve_family(void)
{
	struct {
		struct nlmsghdr h;
		struct genlmsghdr g;
		unsigned char a[32];
	} m;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	uint32_t portid;
	int fd = nl_socket(0, false, true, &portid), id = -1;
	ssize_t n;

	memset(&m, 0, sizeof(m));
	m.h.nlmsg_type = GENL_ID_CTRL;
	m.h.nlmsg_flags = NLM_F_REQUEST;
	m.h.nlmsg_seq = 1;
	m.g.cmd = CTRL_CMD_GETFAMILY;
	m.g.version = 1;
	m.h.nlmsg_len = d_put((unsigned char *)&m, NLMSG_HDRLEN + GENL_HDRLEN,
			      CTRL_ATTR_FAMILY_NAME, VIPLB_GENL_NAME,
			      sizeof(VIPLB_GENL_NAME));
	if (sendto(fd, &m, m.h.nlmsg_len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0)
		ksft_exit_fail_msg("sendto: %s\n", strerror(errno));
	n = recv(fd, rxbuf, sizeof(rxbuf), 0);
	if (n > 0 && ((struct nlmsghdr *)rxbuf)->nlmsg_type == GENL_ID_CTRL) {
		const struct nlattr *tb[CTRL_ATTR_MAX + 1];

		parse_msg((const struct nlmsghdr *)rxbuf, tb, CTRL_ATTR_MAX);
		if (fixed(tb[CTRL_ATTR_FAMILY_ID], 2))
			id = a_u16(tb[CTRL_ATTR_FAMILY_ID]);
	}
	close(fd);
	return id;
}

static bool got_key(const struct req *r, const struct skey *k)
{
	static struct mcfg c;
	char why[160];
	bool over;

	return !r->error && r->nmsgs == 1 &&
	       !read_services(store + r->doff, r->dlen, &c, &over, why,
			      sizeof(why)) &&
	       c.n == 1 && key_eq(&c.s[0].key, k);
}

/* After the storm: the module must still do what it is asked. */
static void final_checks(void)
{
	struct skey k1, k2;
	int s, e, afi, tb;
	bool ok;

	close_all();
	s = any_sock(-1);
	k1 = key_pool[0];
	k2 = key_pool[5];

	e = send_plain(s, VIPLB_CMD_FLUSH);
	ksft_test_result(!e, "FLUSH after the fuzzing (%s)\n", err_name(e));

	e = send_svc(s, VIPLB_CMD_SERVICE_NEW, &k1);
	ok = !e && !send_svc(s, VIPLB_CMD_SERVICE_GET, &k1) &&
	     got_key(&rq[0], &k1);
	ksft_test_result(ok, "a valid SERVICE_NEW, then GET returns it\n");

	ok = !send_begin(s, 0) && !send_svc(s, VIPLB_CMD_SERVICE_NEW, &k2) &&
	     !send_commit(s, 1) && !send_svc(s, VIPLB_CMD_SERVICE_GET, &k2) &&
	     got_key(&rq[0], &k2) &&
	     send_svc(s, VIPLB_CMD_SERVICE_GET, &k1) == -ENOENT;
	ksft_test_result(ok, "a transaction replaces the configuration\n");

	ok = !send_begin(s, VIPLB_TXN_RULES);
	for (afi = 0; afi < 2; afi++)
		for (tb = 0; tb < 2; tb++)
			ok &= !send_rtable(s, afi, tb);
	ok &= !send_commit(s, 4);
	ksft_test_result(ok, "empty rule tables load\n");

	ok = !send_plain(s, VIPLB_CMD_FLUSH);
	if (ok) {
		struct gmsg g;

		gm_init(&g, VIPLB_CMD_SERVICE_GET);
		g.flags |= NLM_F_DUMP;
		ok = !send_g(s, &g) && !rq[0].nmsgs;
	}
	ksft_test_result(ok, "the dump after FLUSH is empty\n");
	close_all();
}

static void report(double secs)
{
	int i, j, missing = 0;
	char buf[200];

	for (i = 0; i <= VIPLB_CMD_MAX; i++)
		ksft_print_msg("%-15s %8lu sent %8lu ok %8.1f s\n",
			       cmd_names[i], cmd_sent[i], cmd_ok[i],
			       cmd_us[i] / 1e6);
	for (i = 0, j = 0; i < 256; i++)
		if (i > VIPLB_CMD_MAX)
			j += cmd_sent[i];
	ksft_print_msg("%-15s %8d sent\n", "other commands", j);
	for (i = 0; i < ERR_SLOTS; i++)
		if (err_cnt[i])
			ksft_print_msg("answer %-16s %8lu\n", err_name(-i),
				       err_cnt[i]);
	ksft_print_msg("answers lost %lu, sends failed %lu\n", n_lost,
		       n_sendfail);
	ksft_print_msg(
		"messages: %lu valid, %lu refused by policy, %lu random bytes; %lu without NLM_F_ACK; %lu batches, %lu pings\n",
		cls_cnt[C_VALID], cls_cnt[C_POLICY], cls_cnt[C_CHAOS], n_noack,
		n_batches, n_pings);
	ksft_print_msg(
		"transactions: %lu begun, %lu committed, %lu aborted, %lu open when their socket closed\n",
		n_begun, n_committed, n_aborted, n_closed_open);
	ksft_print_msg(
		"sockets: %lu closed, %lu reopened on the port id just freed\n",
		n_closes, n_reuse);
	ksft_print_msg(
		"model: %lu answers predicted, %lu replies and dumps compared, %lu read-backs\n",
		n_checked, n_verified, n_resync);
	ksft_print_msg(
		"dump thread: %lu service dumps, %lu filtered, %lu rules dumps, %lu gets and lookups, %lu interrupted\n",
		d_svc, d_filtered, d_rules, d_gets, d_intr);
	for (i = 0; i < NSETS; i++) {
		buf[0] = 0;
		for (j = 1; j <= set_max[i]; j++) {
			if (cover[i][j])
				continue;
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
				 " %d", j);
			missing++;
		}
		if (buf[0])
			ksft_print_msg("never sent: %s_*%s\n", set_names[i],
				       buf);
	}
	for (i = 1; i <= VIPLB_CMD_MAX; i++) {
		if (!cmd_sent[i]) {
			ksft_print_msg("never sent: %s\n", cmd_names[i]);
			missing++;
		}
	}
	for (i = 0; i < n_notes; i++)
		ksft_print_msg("%s\n", notes[i]);
	if (d_fail)
		ksft_print_msg("%s\n", d_note);
	ksft_print_msg("messages %lu seed %llu dumps %lu\n", n_msgs,
		       (unsigned long long)seed, d_svc + d_filtered + d_rules);
	ksft_print_msg("%.1f s, %.0f messages/s\n", secs,
		       secs > 0 ? n_msgs / secs : 0.0);

	ksft_test_result(!n_note[N_ANSWER], "every message answered (%lu)\n",
			 n_msgs);
	ksft_test_result(!n_note[N_BAD], "every reply and dump well formed\n");
	if (failslab)
		ksft_test_result_pass(
			"model: %lu answers under failslab differed (not counted)\n",
			n_note[N_MODEL]);
	else
		ksft_test_result(!n_note[N_MODEL],
				 "the model predicted every answer (%lu)\n",
				 n_checked);
	ksft_test_result(
		!d_fail && d_svc + d_filtered + d_rules,
		"the dump thread: %lu dumps, %lu gets, no unexpected answer\n",
		d_svc + d_filtered + d_rules, d_gets);
	if (n_msgs < 5000)
		ksft_test_result_skip("coverage needs 5000 messages\n");
	else
		ksft_test_result(!missing,
				 "every command and attribute was sent\n");
}

int main(int argc, char **argv)
{
	unsigned long max_msgs = 20000;
	unsigned int max_secs = 0;
	pthread_t dt, wt;
	bool seeded = false;
	uint64_t t0;
	int opt, id;

	while ((opt = getopt(argc, argv, "s:n:t:F")) != -1) {
		switch (opt) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			seeded = true;
			break;
		case 'n':
			max_msgs = strtoul(optarg, NULL, 0);
			break;
		case 't':
			max_secs = strtoul(optarg, NULL, 0);
			break;
		case 'F':
			failslab = true;
			break;
		default:
			fprintf(stderr,
				"usage: %s [-s SEED] [-n MESSAGES] [-t SECONDS] [-F]\n",
				argv[0]);
			return KSFT_FAIL;
		}
	}
	if (!seeded)
		seed = (uint64_t)time(NULL) * 1000003 ^ getpid();
	rng = seed;

	ksft_print_header();
	ksft_print_msg("seed %llu\n", (unsigned long long)seed);
	pools_init();
	id = resolve_family();
	if (id < 0)
		ksft_exit_skip(
			"generic netlink family \"%s\" not found (module not loaded)\n",
			VIPLB_GENL_NAME);
	family = id;
	if (failslab) {
		mif_fd = open("/proc/thread-self/make-it-fail",
			      O_WRONLY | O_CLOEXEC);
		if (mif_fd < 0)
			ksft_exit_skip(
				"no /proc/thread-self/make-it-fail: no fault injection in this kernel\n");
	}
	ksft_print_msg("family %s has id %u; %lu messages%s\n", VIPLB_GENL_NAME,
		       family, max_msgs, failslab ? ", under failslab" : "");

	sock_open(0);
	{
		struct gmsg g;

		gm_init(&g, VIPLB_CMD_SERVICE_GET);
		g.flags |= NLM_F_DUMP;
		if (send_g(0, &g) == -EPERM)
			ksft_exit_skip("EPERM: needs CAP_NET_ADMIN\n");
	}
	if (pthread_create(&dt, NULL, dumper, NULL) ||
	    pthread_create(&wt, NULL, watchdog, NULL))
		ksft_exit_fail_msg("pthread_create\n");
	pthread_detach(wt);

	t0 = now_ms();
	make_it_fail(true);
	sweep();
	while (n_msgs < max_msgs &&
	       (!max_secs || now_ms() - t0 < max_secs * 1000ULL))
		step();
	make_it_fail(false);
	if (n_msgs < max_msgs)
		ksft_print_msg("the time limit of %u s stopped the run\n",
			       max_secs);

	dumper_stop = true;
	pthread_join(dt, NULL);
	final_checks();
	wd_fuzz = 0;
	report((now_ms() - t0) / 1000.0);
	ksft_set_plan(ksft_test_num());
	ksft_print_cnts();
	return ksft_get_fail_cnt() ? ksft_exit_fail() : ksft_exit_pass();
}
