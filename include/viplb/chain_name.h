/* SPDX-License-Identifier: GPL-2.0 */
/*
 * viplb: the user chain names the rule tables take, one rule for the
 * module (kmod/rules.c), viplb-tables' parser and the netlink fuzzer's
 * model.  A name is taken if viplb-save can write it and viplb-restore
 * (as iptables-restore) read it back: not empty, not starting with - or !,
 * no blank, quote or control character, and not an iptables target's
 * name, since "-j NAME" reads NAME as the target when it is one.
 */
#ifndef _VIPLB_CHAIN_NAME_H
#define _VIPLB_CHAIN_NAME_H

#ifdef __KERNEL__
#include <linux/string.h>
#include <linux/types.h>
#else
#include <stdbool.h>
#include <string.h>
#endif

/* Is @name the name of an iptables target (Debian 12's xtables)? */
static inline bool viplb_is_target_name(const char *name)
{
	static const char *const names[] = {
		"ACCEPT",      "DROP",	      "RETURN",	   "REJECT",
		"DNAT",	       "SNAT",	      "MASQUERADE", "REDIRECT",
		"MARK",	       "AUDIT",	      "CHECKSUM",  "CLASSIFY",
		"CLUSTERIP",   "CONNMARK",    "CONNSECMARK", "CT",
		"DNPT",	       "DSCP",	      "ECN",	   "HL",
		"HMARK",       "IDLETIMER",   "LED",	   "LOG",
		"NETMAP",      "NFLOG",	      "NFQUEUE",   "NOTRACK",
		"QUEUE",       "RATEEST",     "SECMARK",   "SET",
		"SNPT",	       "SYNPROXY",    "TCPMSS",	   "TCPOPTSTRIP",
		"TEE",	       "TOS",	      "TPROXY",	   "TRACE",
		"TTL",	       "ULOG",	      "ERROR",
	};
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

/* May @c appear in a chain name?  Not a blank, quote or control byte. */
static inline bool viplb_chain_char_ok(unsigned char c)
{
	return c > ' ' && c != 0x7f && c != '"' && c != '\'';
}

/* Do the rule tables take @name as a user chain's name? */
static inline bool viplb_chain_name_ok(const char *name)
{
	const char *c;

	if (!*name || *name == '-' || *name == '!')
		return false;
	for (c = name; *c; c++)
		if (!viplb_chain_char_ok((unsigned char)*c))
			return false;
	return !viplb_is_target_name(name);
}

#endif /* _VIPLB_CHAIN_NAME_H */
