// SPDX-License-Identifier: GPL-2.0
/*
 * service lookup on nf_tables: the backend a new flow gets, computed as
 * the kernel computes it for sh and maglev.  nft's hash expression is
 * reciprocal_scale(jhash(key, len, seed), modulus) over the registers the
 * rule loaded (ruleset.c, add_sched()); jhash is Bob Jenkins' lookup3
 * hash as the kernel's include/linux/jhash.h has it.  rr and wrr follow a
 * counter in the kernel: they have no answer here.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <linux/viplb.h>

#include "errors.h"
#include "nft.h"

#define JHASH_INITVAL 0xdeadbeefU

static uint32_t rol32(uint32_t x, unsigned int r)
{
	return (x << r) | (x >> (32 - r));
}

#define JHASH_MIX(a, b, c)         \
	do {                       \
		a -= c;            \
		a ^= rol32(c, 4);  \
		c += b;            \
		b -= a;            \
		b ^= rol32(a, 6);  \
		a += c;            \
		c -= b;            \
		c ^= rol32(b, 8);  \
		b += a;            \
		a -= c;            \
		a ^= rol32(c, 16); \
		c += b;            \
		b -= a;            \
		b ^= rol32(a, 19); \
		a += c;            \
		c -= b;            \
		c ^= rol32(b, 4);  \
		b += a;            \
	} while (0)

#define JHASH_FINAL(a, b, c)       \
	do {                       \
		c ^= b;            \
		c -= rol32(b, 14); \
		a ^= c;            \
		a -= rol32(c, 11); \
		b ^= a;            \
		b -= rol32(a, 25); \
		c ^= b;            \
		c -= rol32(b, 16); \
		a ^= c;            \
		a -= rol32(c, 4);  \
		b ^= a;            \
		b -= rol32(a, 14); \
		c ^= b;            \
		c -= rol32(b, 24); \
	} while (0)

/* jhash() of the kernel: words in host order, then the tail bytes. */
static uint32_t jhash(const uint8_t *k, uint32_t len, uint32_t seed)
{
	uint32_t a, b, c, w[3];

	a = b = c = JHASH_INITVAL + len + seed;
	while (len > 12) {
		memcpy(w, k, 12);
		a += w[0];
		b += w[1];
		c += w[2];
		JHASH_MIX(a, b, c);
		len -= 12;
		k += 12;
	}
	switch (len) {
	case 12:
		c += (uint32_t)k[11] << 24;
		/* fall through */
	case 11:
		c += (uint32_t)k[10] << 16;
		/* fall through */
	case 10:
		c += (uint32_t)k[9] << 8;
		/* fall through */
	case 9:
		c += k[8];
		/* fall through */
	case 8:
		b += (uint32_t)k[7] << 24;
		/* fall through */
	case 7:
		b += (uint32_t)k[6] << 16;
		/* fall through */
	case 6:
		b += (uint32_t)k[5] << 8;
		/* fall through */
	case 5:
		b += k[4];
		/* fall through */
	case 4:
		a += (uint32_t)k[3] << 24;
		/* fall through */
	case 3:
		a += (uint32_t)k[2] << 16;
		/* fall through */
	case 2:
		a += (uint32_t)k[1] << 8;
		/* fall through */
	case 1:
		a += k[0];
		JHASH_FINAL(a, b, c);
		break;
	default:
		break;
	}
	return c;
}

/*
 * The registers the scheduler's rule hashes for the flow: sh the source
 * address, maglev saddr . daddr . l4proto . sport . dport, each padded to
 * 4 bytes.  Their length.
 */
static uint32_t hash_key(const struct lb_service *s, const struct flow_src *src,
			 uint16_t dport, uint8_t *key)
{
	uint32_t alen = addr_len(s->key.af);
	uint16_t sp = htons(src->port), dp = htons(dport);

	memset(key, 0, 48);
	memcpy(key, &src->addr, alen);
	if (s->sched == VIPLB_SCHED_SH)
		return alen;
	memcpy(key + alen, &s->key.addr, alen);
	key[2 * alen] = s->key.proto;
	memcpy(key + 2 * alen + 4, &sp, 2);
	memcpy(key + 2 * alen + 8, &dp, 2);
	return 2 * alen + 12;
}

int nft_lookup(const struct config_cmd *cmd, struct lookup_reply *r)
{
	struct lb_service_list list;
	const struct lb_service *s;
	uint32_t *slots, n, h, len;
	char what[256];
	uint8_t key[48];

	format_cmd(what, sizeof(what), cmd);
	if (nft_fetch(&cmd->svc, false, what, &list))
		return -1;
	s = &list.svcs[0];
	if (s->sched != VIPLB_SCHED_SH && s->sched != VIPLB_SCHED_MAGLEV) {
		errmsg("%s: sched %s on nf_tables follows a counter in the kernel: only sh and maglev have an answer",
		       what, sched_name(s->sched));
		free_services(&list);
		return -1;
	}
	memset(r, 0, sizeof(*r));
	r->got = true;
	r->key = cmd->svc;
	r->src = cmd->src;
	r->dport = cmd->has & HAS_DPORT ? cmd->dport : cmd->svc.port;
	r->pin = VIPLB_PIN_NONE;
	slots = nft_slots(s, &n);
	if (!slots) {
		errmsg("%s: %s", what, strerror(ENOMEM));
		free_services(&list);
		return -1;
	}
	if (n) {
		len = hash_key(s, &cmd->src, r->dport, key);
		h = (uint32_t)(((uint64_t)jhash(key, len, NFT_HASH_SEED) * n) >>
			       32);
		r->has_backend = true;
		r->be = s->backends[slots[h]];
	}
	free(slots);
	free_services(&list);
	return 0;
}
