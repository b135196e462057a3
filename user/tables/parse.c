// SPDX-License-Identifier: GPL-2.0
/*
 * The iptables command-line syntax of viplb-tables and of viplb-restore
 * lines, parsed into struct rt_cmd.  See tables.h.
 *
 * Options are scanned as getopt_long() scans iptables' options: short
 * options may be bundled ("-nvL"), a required argument may be glued to
 * its option ("-tnat", "--dport=22"), and a long option may be shortened
 * to any unique prefix of the options in use.  As in iptables, the
 * options of a match or target exist only once it is loaded: with -m, or
 * for tcp and udp implicitly by -p, or with -j.  "!" before an option
 * negates it.  Each value is checked here, with the rule as a whole
 * (protocol needed by ports, targets allowed in the table and chain) at
 * the end, so that nothing reaches the kernel that iptables would refuse.
 *
 * Everything the kernel module cannot do is refused with a message naming
 * the option or value, never ignored; so is what it would do otherwise
 * than iptables: a match after -m statistic (the module evaluates
 * statistic last, iptables in order).  The order the matches were loaded
 * in, and -m state versus -m conntrack, go to the kernel as the rule's
 * VIPLB_RULES_A_MATCH_ORDER (format in tables.h) for the listings.
 *
 * This file holds the option table, the scanning of argv and the entry
 * points.  The value parsers are in parse_values.c, what each option does
 * in parse_options.c, and the checks of a whole command in
 * parse_checks.c; they share parse_int.h.
 */
#include <ctype.h>
#include <string.h>
#include <sys/socket.h>

#include "parse.h"
#include "parse_int.h"
#include "tables.h"
#include "util.h"

const char *const rtp_mod_names[NR_MODS] = {
	[MOD_TCP] = "tcp",
	[MOD_UDP] = "udp",
	[MOD_MULTIPORT] = "multiport",
	[MOD_CONNTRACK] = "conntrack",
	[MOD_STATE] = "state",
	[MOD_STATISTIC] = "statistic",
	[MOD_COMMENT] = "comment",
	[MOD_MARK] = "mark",
	[MOD_REJECT] = "REJECT",
	[MOD_DNAT] = "DNAT",
	[MOD_SNAT] = "SNAT",
	[MOD_MASQUERADE] = "MASQUERADE",
	[MOD_REDIRECT] = "REDIRECT",
	[MOD_MARK_TARGET] = "MARK",
};

/* The kind of a match module in VIPLB_RULES_A_MATCH_ORDER. */
const uint8_t rtp_mod_order_kinds[FIRST_TARGET_MOD] = {
	[MOD_TCP] = RT_ORDER_TCP,
	[MOD_UDP] = RT_ORDER_UDP,
	[MOD_MULTIPORT] = RT_ORDER_MULTIPORT,
	[MOD_CONNTRACK] = RT_ORDER_CONNTRACK,
	[MOD_STATE] = RT_ORDER_STATE,
	[MOD_STATISTIC] = RT_ORDER_STATISTIC,
	[MOD_COMMENT] = RT_ORDER_COMMENT,
	[MOD_MARK] = RT_ORDER_MARK,
};

static const struct rt_optdef opts[] = {
	/* Commands and general options: always there. */
	{ "append", 'A', ARG_REQUIRED, MOD_GENERAL, O_APPEND, 0 },
	{ "check", 'C', ARG_REQUIRED, MOD_GENERAL, O_CHECK, 0 },
	{ "delete", 'D', ARG_REQUIRED, MOD_GENERAL, O_DELETE, 0 },
	{ "replace", 'R', ARG_REQUIRED, MOD_GENERAL, O_REPLACE, 0 },
	{ "insert", 'I', ARG_REQUIRED, MOD_GENERAL, O_INSERT, 0 },
	{ "list", 'L', ARG_OPTIONAL, MOD_GENERAL, O_LIST, 0 },
	{ "list-rules", 'S', ARG_OPTIONAL, MOD_GENERAL, O_LIST_RULES, 0 },
	{ "flush", 'F', ARG_OPTIONAL, MOD_GENERAL, O_FLUSH, 0 },
	{ "zero", 'Z', ARG_OPTIONAL, MOD_GENERAL, O_ZERO, 0 },
	{ "new-chain", 'N', ARG_REQUIRED, MOD_GENERAL, O_NEW_CHAIN, 0 },
	{ "delete-chain", 'X', ARG_OPTIONAL, MOD_GENERAL, O_DELETE_CHAIN, 0 },
	{ "policy", 'P', ARG_REQUIRED, MOD_GENERAL, O_POLICY, 0 },
	{ "rename-chain", 'E', ARG_REQUIRED, MOD_GENERAL, O_RENAME, 0 },
	{ "help", 'h', ARG_NONE, MOD_GENERAL, O_HELP, 0 },
	{ "version", 'V', ARG_NONE, MOD_GENERAL, O_VERSION, 0 },
	{ "table", 't', ARG_REQUIRED, MOD_GENERAL, O_TABLE, 0 },
	{ "ipv4", '4', ARG_NONE, MOD_GENERAL, O_IPV4, 0 },
	{ "ipv6", '6', ARG_NONE, MOD_GENERAL, O_IPV6, 0 },
	{ "numeric", 'n', ARG_NONE, MOD_GENERAL, O_NUMERIC, 0 },
	{ "verbose", 'v', ARG_NONE, MOD_GENERAL, O_VERBOSE, 0 },
	{ "exact", 'x', ARG_NONE, MOD_GENERAL, O_EXACT, 0 },
	{ "line-numbers", 0, ARG_NONE, MOD_GENERAL, O_LINE_NUMBERS, 0 },
	{ "protocol", 'p', ARG_REQUIRED, MOD_GENERAL, O_PROTO, OPTF_INVERT },
	{ "source", 's', ARG_REQUIRED, MOD_GENERAL, O_SOURCE, OPTF_INVERT },
	{ "src", 0, ARG_REQUIRED, MOD_GENERAL, O_SOURCE, OPTF_INVERT },
	{ "destination", 'd', ARG_REQUIRED, MOD_GENERAL, O_DEST, OPTF_INVERT },
	{ "dst", 0, ARG_REQUIRED, MOD_GENERAL, O_DEST, OPTF_INVERT },
	{ "in-interface", 'i', ARG_REQUIRED, MOD_GENERAL, O_IN, OPTF_INVERT },
	{ "out-interface", 'o', ARG_REQUIRED, MOD_GENERAL, O_OUT, OPTF_INVERT },
	{ "jump", 'j', ARG_REQUIRED, MOD_GENERAL, O_JUMP, 0 },
	{ "goto", 'g', ARG_REQUIRED, MOD_GENERAL, O_GOTO, 0 },
	{ "match", 'm', ARG_REQUIRED, MOD_GENERAL, O_MATCH, 0 },
	{ "set-counters", 'c', ARG_REQUIRED, MOD_GENERAL, O_COUNTERS, 0 },
	{ "wait", 'w', ARG_OPTIONAL, MOD_GENERAL, O_WAIT, 0 },
	{ "wait-interval", 'W', ARG_REQUIRED, MOD_GENERAL, O_WAIT_INTERVAL, 0 },
	{ "json", 0, ARG_NONE, MOD_GENERAL, O_JSON, 0 },
	{ "pretty", 0, ARG_NONE, MOD_GENERAL, O_PRETTY, 0 },
	{ "offline", 0, ARG_REQUIRED, MOD_GENERAL, O_OFFLINE, 0 },
	{ "fragment", 'f', ARG_NONE, MOD_GENERAL, O_UNSUPPORTED, OPTF_INVERT },
	{ "modprobe", 'M', ARG_REQUIRED, MOD_GENERAL, O_UNSUPPORTED, 0 },
	/* -m tcp, and -p tcp implicitly */
	{ "source-port", 0, ARG_REQUIRED, MOD_TCP, O_SPORT, OPTF_INVERT },
	{ "sport", 0, ARG_REQUIRED, MOD_TCP, O_SPORT, OPTF_INVERT },
	{ "destination-port", 0, ARG_REQUIRED, MOD_TCP, O_DPORT, OPTF_INVERT },
	{ "dport", 0, ARG_REQUIRED, MOD_TCP, O_DPORT, OPTF_INVERT },
	{ "syn", 0, ARG_NONE, MOD_TCP, O_SYN, OPTF_INVERT },
	{ "tcp-flags", 0, ARG_REQUIRED, MOD_TCP, O_TCP_FLAGS, OPTF_INVERT },
	{ "tcp-option", 0, ARG_REQUIRED, MOD_TCP, O_UNSUPPORTED, OPTF_INVERT },
	/* -m udp, and -p udp implicitly */
	{ "source-port", 0, ARG_REQUIRED, MOD_UDP, O_SPORT, OPTF_INVERT },
	{ "sport", 0, ARG_REQUIRED, MOD_UDP, O_SPORT, OPTF_INVERT },
	{ "destination-port", 0, ARG_REQUIRED, MOD_UDP, O_DPORT, OPTF_INVERT },
	{ "dport", 0, ARG_REQUIRED, MOD_UDP, O_DPORT, OPTF_INVERT },
	/* -m multiport */
	{ "source-ports", 0, ARG_REQUIRED, MOD_MULTIPORT, O_SPORTS,
	  OPTF_INVERT },
	{ "sports", 0, ARG_REQUIRED, MOD_MULTIPORT, O_SPORTS, OPTF_INVERT },
	{ "destination-ports", 0, ARG_REQUIRED, MOD_MULTIPORT, O_DPORTS,
	  OPTF_INVERT },
	{ "dports", 0, ARG_REQUIRED, MOD_MULTIPORT, O_DPORTS, OPTF_INVERT },
	{ "ports", 0, ARG_REQUIRED, MOD_MULTIPORT, O_PORTS, OPTF_INVERT },
	/* -m conntrack */
	{ "ctstate", 0, ARG_REQUIRED, MOD_CONNTRACK, O_CTSTATE, OPTF_INVERT },
	{ "ctproto", 0, ARG_REQUIRED, MOD_CONNTRACK, O_CTPROTO, OPTF_INVERT },
	{ "ctorigsrc", 0, ARG_REQUIRED, MOD_CONNTRACK, O_CTORIGSRC,
	  OPTF_INVERT },
	{ "ctorigdst", 0, ARG_REQUIRED, MOD_CONNTRACK, O_CTORIGDST,
	  OPTF_INVERT },
	{ "ctreplsrc", 0, ARG_REQUIRED, MOD_CONNTRACK, O_CTREPLSRC,
	  OPTF_INVERT },
	{ "ctrepldst", 0, ARG_REQUIRED, MOD_CONNTRACK, O_CTREPLDST,
	  OPTF_INVERT },
	{ "ctorigsrcport", 0, ARG_REQUIRED, MOD_CONNTRACK, O_CTORIGSRCPORT,
	  OPTF_INVERT },
	{ "ctorigdstport", 0, ARG_REQUIRED, MOD_CONNTRACK, O_CTORIGDSTPORT,
	  OPTF_INVERT },
	{ "ctreplsrcport", 0, ARG_REQUIRED, MOD_CONNTRACK, O_CTREPLSRCPORT,
	  OPTF_INVERT },
	{ "ctrepldstport", 0, ARG_REQUIRED, MOD_CONNTRACK, O_CTREPLDSTPORT,
	  OPTF_INVERT },
	{ "ctstatus", 0, ARG_REQUIRED, MOD_CONNTRACK, O_CTSTATUS,
	  OPTF_INVERT },
	{ "ctexpire", 0, ARG_REQUIRED, MOD_CONNTRACK, O_CTEXPIRE,
	  OPTF_INVERT },
	{ "ctdir", 0, ARG_REQUIRED, MOD_CONNTRACK, O_CTDIR, 0 },
	/* -m state */
	{ "state", 0, ARG_REQUIRED, MOD_STATE, O_STATE, OPTF_INVERT },
	/* -m statistic */
	{ "mode", 0, ARG_REQUIRED, MOD_STATISTIC, O_MODE, 0 },
	{ "probability", 0, ARG_REQUIRED, MOD_STATISTIC, O_PROBABILITY,
	  OPTF_INVERT },
	{ "every", 0, ARG_REQUIRED, MOD_STATISTIC, O_EVERY, OPTF_INVERT },
	{ "packet", 0, ARG_REQUIRED, MOD_STATISTIC, O_PACKET, 0 },
	/* -m comment */
	{ "comment", 0, ARG_REQUIRED, MOD_COMMENT, O_COMMENT, 0 },
	/* -m mark */
	{ "mark", 0, ARG_REQUIRED, MOD_MARK, O_MARK, OPTF_INVERT },
	/* -j REJECT */
	{ "reject-with", 0, ARG_REQUIRED, MOD_REJECT, O_REJECT_WITH, 0 },
	/* -j DNAT */
	{ "to-destination", 0, ARG_REQUIRED, MOD_DNAT, O_TO_DEST, 0 },
	{ "random", 0, ARG_NONE, MOD_DNAT, O_RANDOM, 0 },
	{ "persistent", 0, ARG_NONE, MOD_DNAT, O_PERSISTENT, 0 },
	/* -j SNAT */
	{ "to-source", 0, ARG_REQUIRED, MOD_SNAT, O_TO_SRC, 0 },
	{ "random", 0, ARG_NONE, MOD_SNAT, O_RANDOM, 0 },
	{ "random-fully", 0, ARG_NONE, MOD_SNAT, O_RANDOM_FULLY, 0 },
	{ "persistent", 0, ARG_NONE, MOD_SNAT, O_PERSISTENT, 0 },
	/* -j MASQUERADE */
	{ "to-ports", 0, ARG_REQUIRED, MOD_MASQUERADE, O_TO_PORTS, 0 },
	{ "random", 0, ARG_NONE, MOD_MASQUERADE, O_RANDOM, 0 },
	{ "random-fully", 0, ARG_NONE, MOD_MASQUERADE, O_RANDOM_FULLY, 0 },
	/* -j REDIRECT */
	{ "to-ports", 0, ARG_REQUIRED, MOD_REDIRECT, O_TO_PORTS, 0 },
	{ "random", 0, ARG_NONE, MOD_REDIRECT, O_RANDOM, 0 },
	/* -j MARK */
	{ "set-xmark", 0, ARG_REQUIRED, MOD_MARK_TARGET, O_SET_XMARK, 0 },
	{ "set-mark", 0, ARG_REQUIRED, MOD_MARK_TARGET, O_SET_MARK, 0 },
	{ "and-mark", 0, ARG_REQUIRED, MOD_MARK_TARGET, O_AND_MARK, 0 },
	{ "or-mark", 0, ARG_REQUIRED, MOD_MARK_TARGET, O_OR_MARK, 0 },
	{ "xor-mark", 0, ARG_REQUIRED, MOD_MARK_TARGET, O_XOR_MARK, 0 },
	/* Options of other iptables extensions, named in errors only. */
	{ "icmp-type", 0, ARG_REQUIRED, MOD_OTHER, O_UNSUPPORTED, 0 },
	{ "icmpv6-type", 0, ARG_REQUIRED, MOD_OTHER, O_UNSUPPORTED, 0 },
};

/* Option lookup */

static bool mod_active(const struct parser *p, uint8_t mod)
{
	if (mod == MOD_GENERAL)
		return true;
	if (mod >= FIRST_TARGET_MOD && mod < MOD_OTHER)
		return p->target_mod == mod;
	return mod < MOD_OTHER && (p->mods & (1U << mod));
}

/* Exact name, else a unique prefix among the active options. */
static const struct rt_optdef *find_active(const struct parser *p,
					   const char *name, size_t len,
					   bool *ambiguous)
{
	const struct rt_optdef *found = NULL;
	size_t i;

	*ambiguous = false;
	for (i = 0; i < ARRAY_SIZE(opts); i++)
		if (mod_active(p, opts[i].mod) && strlen(opts[i].name) == len &&
		    !strncmp(opts[i].name, name, len))
			return &opts[i];
	for (i = 0; i < ARRAY_SIZE(opts); i++) {
		if (!mod_active(p, opts[i].mod) ||
		    strncmp(opts[i].name, name, len))
			continue;
		if (found && found->id != opts[i].id) {
			*ambiguous = true;
			return NULL;
		}
		found = &opts[i];
	}
	return found;
}

/* Why an option is not available: which module would give it. */
static int option_unavailable(const char *name, size_t len)
{
	char needs[128] = "";
	size_t i, off = 0;

	for (i = 0; i < ARRAY_SIZE(opts); i++) {
		const struct rt_optdef *d = &opts[i];

		if (strlen(d->name) != len || strncmp(d->name, name, len))
			continue;
		if (d->id == O_UNSUPPORTED || d->mod == MOD_OTHER)
			return rt_param("unsupported option \"--%.*s\"",
					(int)len, name);
		off += snprintf(needs + off, sizeof(needs) - off, "%s%s %s",
				off ? " or " : "",
				d->mod >= FIRST_TARGET_MOD ? "-j" :
				d->mod <= MOD_UDP	   ? "-p" :
							     "-m",
				rtp_mod_names[d->mod]);
		if (off >= sizeof(needs))
			break;
	}
	if (*needs)
		return rt_param("option \"--%.*s\" needs %s", (int)len, name,
				needs);
	return rt_param("unknown option \"--%.*s\"", (int)len, name);
}

static const struct rt_optdef *find_long(struct parser *p, const char *name,
					 size_t len)
{
	const struct rt_optdef *d;
	bool ambiguous;
	int mod;

	d = find_active(p, name, len, &ambiguous);
	if (!d && !ambiguous) {
		/* -p tcp and -p udp load their match on first use. */
		const char *proto = rtp_port_proto(&p->cmd->rule.spec);

		mod = !proto ? -1 : !strcmp(proto, "tcp") ? MOD_TCP : MOD_UDP;
		if (mod >= 0 && !(p->mods & (1U << mod))) {
			p->mods |= 1U << mod;
			d = find_active(p, name, len, &ambiguous);
			if (d)
				p->order[p->n_order++] =
					rtp_mod_order_kinds[mod];
			else
				p->mods &= ~(1U << mod);
		}
	}
	if (ambiguous) {
		rt_param("ambiguous option \"--%.*s\"", (int)len, name);
		return NULL;
	}
	if (!d)
		option_unavailable(name, len);
	return d;
}

static const struct rt_optdef *find_short(char c)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(opts); i++)
		if (opts[i].short_name == c)
			return &opts[i];
	return NULL;
}

/* One argv element holding "--name[=value]". */
static int long_option(struct parser *p, const char *word)
{
	const char *name = word + 2, *eq = strchr(name, '='), *arg = NULL;
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct rt_optdef *d;
	char spelled[72];

	d = find_long(p, name, len);
	if (!d)
		return RT_EPARAM;
	snprintf(spelled, sizeof(spelled), "--%s", d->name);
	if (d->arg == ARG_NONE && eq)
		return rt_param("option " RT_Q " takes no argument", spelled);
	if (eq) {
		arg = eq + 1;
	} else if (d->arg == ARG_REQUIRED) {
		arg = rtp_next_required_arg(p);
		if (!arg)
			return rt_param("option " RT_Q " requires an argument",
					spelled);
	} else if (d->arg == ARG_OPTIONAL) {
		arg = rtp_next_plain_arg(p);
	}
	return rtp_handle_option(p, d, spelled, arg);
}

/* One argv element holding short options, "-nvL" or "-tnat". */
static int short_options(struct parser *p, const char *word)
{
	const struct rt_optdef *d;
	const char *s, *arg;
	char spelled[3] = "-?";
	bool rest;
	int ret;

	for (s = word + 1; *s; s++) {
		spelled[1] = *s;
		d = find_short(*s);
		if (!d) {
			if (isprint((unsigned char)*s))
				return rt_param("unknown option " RT_Q,
						spelled);
			return rt_param("unknown option in " RT_Q,
					quote_arg(word));
		}
		arg = NULL;
		rest = d->arg != ARG_NONE && s[1];
		if (rest) {
			arg = s + 1; /* the rest of the word */
		} else if (d->arg == ARG_REQUIRED) {
			arg = rtp_next_required_arg(p);
			if (!arg)
				return rt_param("option " RT_Q
						" requires an argument",
						spelled);
		} else if (d->arg == ARG_OPTIONAL) {
			arg = rtp_next_plain_arg(p);
		}
		if (d->id == O_UNSUPPORTED)
			return rt_param("unsupported option " RT_Q, spelled);
		ret = rtp_handle_option(p, d, spelled, arg);
		if (ret || rest)
			return ret;
	}
	return 0;
}

/* Entry points */

static int parse_once(struct parser *p)
{
	const char *a;
	int ret;

	while (p->next < p->argc) {
		a = p->argv[p->next++];
		if (!strcmp(a, "!")) {
			if (p->invert)
				return rt_param(
					"multiple consecutive \"!\" not allowed");
			p->invert = true;
			continue;
		}
		if (a[0] == '-' && a[1] == '-' && a[2])
			ret = long_option(p, a);
		else if (a[0] == '-' && a[1] && a[1] != '-')
			ret = short_options(p, a);
		else
			ret = rt_param("bad argument " RT_Q, quote_arg(a));
		if (ret)
			return ret;
	}
	return rtp_finish(p);
}

void rt_cmd_free(struct rt_cmd *cmd)
{
	rt_rule_free(&cmd->rule);
}

static void cmd_init(struct rt_cmd *cmd, const struct rt_parse_env *env,
		     uint16_t af)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->af = af;
	cmd->table = env->table;
	cmd->policy = VIPLB_V_NONE;
}

int rt_parse_args(int argc, char **argv, const struct rt_parse_env *env,
		  struct rt_cmd *cmd)
{
	struct parser p = {
		.env = env,
		.cmd = cmd,
		.argc = argc,
		.argv = argv,
		.af = env->af,
	};
	int ret;

	cmd_init(cmd, env, p.af);
	ret = parse_once(&p);
	if (ret == RT_EFAIL && p.switch_af) {
		/* -4 or -6 came after family-dependent values: again. */
		uint16_t af = p.switch_af;

		rt_cmd_free(cmd);
		memset(&p, 0, sizeof(p));
		p.env = env;
		p.cmd = cmd;
		p.argc = argc;
		p.argv = argv;
		p.af = af;
		cmd_init(cmd, env, af);
		ret = parse_once(&p);
	}
	if (ret)
		return ret;
	return 0;
}

/* Dumped rules */

int rt_check_spec(uint16_t af, const struct rt_rule *r)
{
	const struct viplb_rule_spec *s = &r->spec;
	bool ok = true;

	ok &= !(s->match & ~__VIPLB_M_ALL) && !(s->invert & ~s->match);
	ok &= s->verdict <= VIPLB_V_MAX;
	ok &= s->reject_with <= VIPLB_REJECT_MAX;
	ok &= !(s->nat_flags & ~__VIPLB_NAT_F_ALL);
	ok &= !(s->ctstate & ~__VIPLB_CTSTATE_ALL);
	ok &= !(s->ct_match & ~__VIPLB_CT_ALL) &&
	      !(s->ct_invert & ~s->ct_match) &&
	      !(s->ct_status & ~__VIPLB_CTSTATUS_ALL);
	ok &= !(s->match & VIPLB_M_CONNTRACK) == !s->ct_match;
	ok &= s->n_mports <= VIPLB_MPORTS_MAX;
	ok &= memchr(s->iif, 0, sizeof(s->iif)) &&
	      memchr(s->oif, 0, sizeof(s->oif));
	if (s->match & VIPLB_M_MPORTS)
		ok &= s->n_mports > 0 && s->mport_flags >= 1 &&
		      s->mport_flags <= 3;
	if (s->match & VIPLB_M_STATISTIC)
		ok &= s->stat_mode == VIPLB_STAT_RANDOM ||
		      s->stat_mode == VIPLB_STAT_NTH;
	if (s->verdict == VIPLB_V_JUMP || s->verdict == VIPLB_V_GOTO)
		ok &= r->target[0] != '\0';
	ok &= af == AF_INET || af == AF_INET6;
	if (!ok)
		return rt_fail(
			"the kernel sent a rule this viplb cannot show (newer module?)");
	return 0;
}
