// SPDX-License-Identifier: GPL-2.0
/*
 * What each option of viplb-tables does to the command being parsed: the
 * commands (-A, -D, -L ...), -j and -g with the targets and chain names
 * they accept, -m, and the options of the rule, its matches and its
 * target.  Part of the parser (parse.c, parse_int.h).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <viplb/chain_name.h>

#include "parse.h"
#include "parse_int.h"
#include "tables.h"
#include "util.h"

/* Targets and chain names */

/* Targets of -j: verdict and the module holding their options. */
static const struct {
	const char *name;
	uint32_t verdict;
	uint8_t mod; /* MOD_GENERAL: no options */
} targets[] = {
	{ "ACCEPT", VIPLB_V_ACCEPT, MOD_GENERAL },
	{ "DROP", VIPLB_V_DROP, MOD_GENERAL },
	{ "RETURN", VIPLB_V_RETURN, MOD_GENERAL },
	{ "REJECT", VIPLB_V_REJECT, MOD_REJECT },
	{ "DNAT", VIPLB_V_DNAT, MOD_DNAT },
	{ "SNAT", VIPLB_V_SNAT, MOD_SNAT },
	{ "MASQUERADE", VIPLB_V_MASQUERADE, MOD_MASQUERADE },
	{ "REDIRECT", VIPLB_V_REDIRECT, MOD_REDIRECT },
	{ "MARK", VIPLB_V_MARK, MOD_MARK_TARGET },
};

static int check_chain_len(const char *name)
{
	if (strlen(name) > RT_CHAIN_LEN)
		return rt_param("chain name " RT_Q
				" too long (must be under %d chars)",
				quote_arg(name), VIPLB_CHAIN_NAME_MAX);
	return 0;
}

int rt_check_new_chain_name(const char *name)
{
	const char *c;

	if (!*name)
		return rt_param("empty chain name");
	if (check_chain_len(name))
		return RT_EPARAM;
	if (name[0] == '-' || name[0] == '!')
		return rt_param("chain name " RT_Q " may not start with \"%c\"",
				quote_arg(name), name[0]);
	for (c = name; *c; c++)
		if (!viplb_chain_char_ok((unsigned char)*c))
			return rt_param("bad chain name " RT_Q
					": no blank, quote or control character",
					quote_arg(name));
	if (viplb_is_target_name(name))
		return rt_param("chain name " RT_Q
				" may not clash with a target name",
				quote_arg(name));
	return 0;
}

/* Commands */

/* The argument after the current one if it is not an option. */
const char *rtp_next_plain_arg(struct parser *p)
{
	const char *a;

	if (p->next >= p->argc)
		return NULL;
	a = p->argv[p->next];
	if (a[0] == '-' || a[0] == '!')
		return NULL;
	p->next++;
	return a;
}

const char *rtp_next_required_arg(struct parser *p)
{
	if (p->next >= p->argc)
		return NULL;
	return p->argv[p->next++];
}

static int set_chain(char *dst, const char *name)
{
	if (check_chain_len(name))
		return RT_EPARAM;
	strcpy(dst, name);
	return 0;
}

static int set_command(struct parser *p, unsigned int bit, const char *name)
{
	unsigned int both = p->cmd->cmds | bit;

	if (p->cmd->cmds && both != (RT_CMD_LIST | RT_CMD_ZERO) &&
	    both != (RT_CMD_LIST_RULES | RT_CMD_ZERO))
		return rt_param("cannot use %s with %s", name, p->cmd_name);
	if (p->env->restore && (bit & (RT_CMD_LIST | RT_CMD_LIST_RULES)))
		return rt_param("%s cannot be used in a restore file", name);
	if (!p->cmd->cmds)
		snprintf(p->cmd_name, sizeof(p->cmd_name), "%s", name);
	p->cmd->cmds = both;
	return 0;
}

static int command_option(struct parser *p, const struct rt_optdef *d,
			  const char *name, const char *arg)
{
	static const unsigned int bits[] = {
		[O_APPEND] = RT_CMD_APPEND,
		[O_CHECK] = RT_CMD_CHECK,
		[O_DELETE] = RT_CMD_DELETE,
		[O_REPLACE] = RT_CMD_REPLACE,
		[O_INSERT] = RT_CMD_INSERT,
		[O_LIST] = RT_CMD_LIST,
		[O_LIST_RULES] = RT_CMD_LIST_RULES,
		[O_FLUSH] = RT_CMD_FLUSH,
		[O_ZERO] = RT_CMD_ZERO,
		[O_NEW_CHAIN] = RT_CMD_NEW_CHAIN,
		[O_DELETE_CHAIN] = RT_CMD_DEL_CHAIN,
		[O_POLICY] = RT_CMD_POLICY,
		[O_RENAME] = RT_CMD_RENAME,
	};
	struct rt_cmd *cmd = p->cmd;
	const char *more;
	int ret;

	ret = set_command(p, bits[d->id], name);
	if (ret)
		return ret;
	if (arg) {
		/* -L -Z: both may name the chain, but only the same one. */
		if (*cmd->chain && strcmp(cmd->chain, arg))
			return rt_param(
				"cannot use %s with %s on another chain", name,
				p->cmd_name);
		ret = set_chain(cmd->chain, arg);
		if (ret)
			return ret;
	}
	switch (d->id) {
	case O_REPLACE:
		more = rtp_next_required_arg(p);
		if (!more)
			return rt_param("%s requires a rule number", name);
		return rtp_parse_rulenum(more, &cmd->rulenum);
	case O_DELETE:
	case O_INSERT:
	case O_LIST:
	case O_LIST_RULES:
	case O_ZERO:
		if (!arg)
			return 0;
		more = rtp_next_plain_arg(p);
		return more ? rtp_parse_rulenum(more, &cmd->rulenum) : 0;
	case O_POLICY:
		p->policy = rtp_next_required_arg(p);
		if (!p->policy)
			return rt_param("%s requires a chain and a policy",
					name);
		return 0;
	case O_RENAME:
		more = rtp_next_required_arg(p);
		if (!more)
			return rt_param(
				"%s requires old-chain-name and new-chain-name",
				name);
		ret = rt_check_new_chain_name(more);
		return ret ? ret : set_chain(cmd->new_name, more);
	case O_NEW_CHAIN:
		return rt_check_new_chain_name(arg);
	}
	return 0;
}

/* Rule options */

static int set_target(struct parser *p, const char *name, bool go)
{
	struct rt_rule *r = &p->cmd->rule;
	size_t i;

	if (!*name)
		return rt_param("empty target name");
	for (i = 0; i < ARRAY_SIZE(targets) && !go; i++) {
		if (!strcmp(name, targets[i].name)) {
			r->spec.verdict = targets[i].verdict;
			p->target_mod = targets[i].mod;
			return 0;
		}
	}
	if (viplb_is_target_name(name)) {
		if (go)
			return rt_param("goto " RT_Q " is not a chain",
					quote_arg(name));
		return rt_param("unsupported target " RT_Q, quote_arg(name));
	}
	if (check_chain_len(name))
		return RT_EPARAM;
	strcpy(r->target, name);
	r->spec.verdict = go ? VIPLB_V_GOTO : VIPLB_V_JUMP;
	return 0;
}

static int load_match(struct parser *p, const char *name)
{
	size_t m;

	for (m = MOD_TCP; m < FIRST_TARGET_MOD; m++)
		if (!strcmp(name, rtp_mod_names[m]))
			break;
	if (m == FIRST_TARGET_MOD)
		return rt_param("unsupported match " RT_Q, quote_arg(name));
	/* Also a second tcp match after -p tcp --dport loaded one. */
	if (p->mods & (1U << m))
		return rt_param(
			"unsupported: more than one \"-m %s\" in a rule", name);
	if ((m == MOD_STATE && (p->mods & (1U << MOD_CONNTRACK))) ||
	    (m == MOD_CONNTRACK && (p->mods & (1U << MOD_STATE))))
		return rt_param(
			"unsupported: both -m state and -m conntrack in a rule");
	p->mods |= 1U << m;
	p->order[p->n_order++] = rtp_mod_order_kinds[m];
	return 0;
}

static void set_match(struct viplb_rule_spec *spec, uint32_t bit, bool inv)
{
	spec->match |= bit;
	if (inv)
		spec->invert |= bit;
}

static int port_option(struct parser *p, const char *arg, bool inv,
		       uint32_t bit, uint16_t range[2])
{
	struct viplb_rule_spec *spec = &p->cmd->rule.spec;
	const char *proto = (p->mods & (1U << MOD_TCP)) ? "tcp" : "udp";

	if (rtp_parse_port_range(arg, proto, range))
		return RT_EPARAM;
	/* The whole range matches every port: nothing to match. */
	if (range[0] == 0 && range[1] == 65535 && !inv) {
		range[1] = 0;
		return 0;
	}
	set_match(spec, bit, inv);
	return 0;
}

static int tcp_flags_option(struct parser *p, const char *arg, bool inv)
{
	struct viplb_rule_spec *spec = &p->cmd->rule.spec;
	unsigned int mask, comp;
	const char *second = rtp_next_required_arg(p);

	if (!second)
		return rt_param("--tcp-flags requires two arguments");
	if (rtp_parse_tcp_flags(arg, &mask) ||
	    rtp_parse_tcp_flags(second, &comp))
		return RT_EPARAM;
	/* What --syn means (SYN set, ACK RST FIN clear) is --syn. */
	if (mask == (RT_TCPF_FIN | RT_TCPF_SYN | RT_TCPF_RST | RT_TCPF_ACK) &&
	    comp == RT_TCPF_SYN) {
		set_match(spec, VIPLB_M_SYN, inv);
		return 0;
	}
	/* No flag to look at, none wanted: every packet, as iptables. */
	if (!mask && !comp && !inv)
		return 0;
	spec->tcp_flags_mask = mask;
	spec->tcp_flags_cmp = comp;
	set_match(spec, VIPLB_M_TCP_FLAGS, inv);
	return 0;
}

static int statistic_option(struct parser *p, int id, const char *arg, bool inv)
{
	struct viplb_rule_spec *spec = &p->cmd->rule.spec;
	unsigned long long v;
	double prob;
	char *end;

	switch (id) {
	case O_MODE:
		if (!strcmp(arg, "random"))
			spec->stat_mode = VIPLB_STAT_RANDOM;
		else if (!strcmp(arg, "nth"))
			spec->stat_mode = VIPLB_STAT_NTH;
		else
			return rt_param("bad statistic mode " RT_Q,
					quote_arg(arg));
		break;
	case O_PROBABILITY:
		errno = 0;
		prob = strtod(arg, &end);
		if (!*arg || isspace((unsigned char)*arg) || *end || errno ||
		    !isfinite(prob) || prob < 0 || prob > 1)
			return rt_param("bad probability " RT_Q " (use 0..1)",
					quote_arg(arg));
		/* As libxt_statistic rounds it. */
		spec->stat_prob = lround(prob * 0x80000000);
		p->stat_prob = true;
		break;
	case O_EVERY:
		if (!rtp_parse_number(arg, 0xffffffff, &v) || v == 0)
			return rt_param("bad value " RT_Q
					" for --every (use 1..4294967295)",
					quote_arg(arg));
		spec->stat_every = v;
		p->stat_every = true;
		break;
	case O_PACKET:
		if (!rtp_parse_number(arg, 0xffffffff, &v))
			return rt_param("bad value " RT_Q " for --packet",
					quote_arg(arg));
		spec->stat_packet = v;
		p->stat_packet = true;
		break;
	}
	if (inv)
		spec->invert |= VIPLB_M_STATISTIC;
	spec->match |= VIPLB_M_STATISTIC;
	return 0;
}

static int mark_target_option(struct parser *p, int id, const char *arg)
{
	struct viplb_rule_spec *spec = &p->cmd->rule.spec;
	uint32_t v, m;

	if (p->mark_op)
		return rt_param(
			"only one of --set-xmark, --set-mark, --and-mark, --or-mark and --xor-mark may be given");
	if (rtp_parse_mark(arg, id == O_SET_XMARK || id == O_SET_MARK, &v, &m))
		return RT_EPARAM;
	p->mark_op = id;
	switch (id) {
	case O_SET_XMARK: /* mark = (mark & ~m) ^ v */
		spec->set_mark = v;
		spec->set_mark_mask = m;
		break;
	case O_SET_MARK: /* bits of m cleared, then v set */
		spec->set_mark = v;
		spec->set_mark_mask = m | v;
		break;
	case O_AND_MARK:
		spec->set_mark = 0;
		spec->set_mark_mask = ~v;
		break;
	case O_OR_MARK:
		spec->set_mark = v;
		spec->set_mark_mask = v;
		break;
	case O_XOR_MARK:
		spec->set_mark = v;
		spec->set_mark_mask = 0;
		break;
	}
	return 0;
}

/* The options of -m conntrack besides --ctstate (VIPLB_M_CONNTRACK). */
static int conntrack_option(struct parser *p, int id, const char *arg,
			    bool inv)
{
	struct viplb_rule_spec *spec = &p->cmd->rule.spec;
	unsigned int i;
	uint16_t bit;
	int ret;

	switch (id) {
	case O_CTPROTO:
		bit = VIPLB_CT_PROTO;
		ret = rtp_parse_protocol(arg, &spec->ct_proto);
		if (!ret && !spec->ct_proto)
			ret = rt_param(inv ? "conntrack: condition would always match protocol" :
					     "conntrack: rule would never match protocol");
		break;
	case O_CTORIGSRC:
	case O_CTORIGDST:
	case O_CTREPLSRC:
	case O_CTREPLDST:
		i = id - O_CTORIGSRC;
		bit = VIPLB_CT_ORIGSRC << i;
		ret = rtp_parse_host_mask(p->af, arg, spec->ct_addr[i],
					  spec->ct_mask[i]);
		break;
	case O_CTORIGSRCPORT:
	case O_CTORIGDSTPORT:
	case O_CTREPLSRCPORT:
	case O_CTREPLDSTPORT:
		i = id - O_CTORIGSRCPORT;
		bit = VIPLB_CT_ORIGSRC_PORT << i;
		ret = rtp_parse_port_range(arg, RTP_ANY_PROTO, spec->ct_port[i]);
		break;
	case O_CTSTATUS:
		bit = VIPLB_CT_STATUS;
		ret = rtp_parse_ctstatus(arg, &spec->ct_status);
		break;
	case O_CTEXPIRE:
		bit = VIPLB_CT_EXPIRE;
		ret = rtp_parse_u32_range(arg, spec->ct_expire);
		break;
	default: /* O_CTDIR: ORIGINAL, or REPLY as the inverted bit */
		bit = VIPLB_CT_DIR;
		ret = 0;
		if (!strcasecmp(arg, "REPLY"))
			inv = true;
		else if (strcasecmp(arg, "ORIGINAL"))
			ret = rt_param("bad --ctdir " RT_Q
				       " (ORIGINAL or REPLY)",
				       quote_arg(arg));
		break;
	}
	if (ret)
		return ret;
	spec->match |= VIPLB_M_CONNTRACK;
	spec->ct_match |= bit;
	if (inv)
		spec->ct_invert |= bit;
	return 0;
}

static int counters_option(struct parser *p, const char *name, const char *arg)
{
	const char *bytes = rtp_next_required_arg(p);
	unsigned long long pk, by;

	if (!p->env->restore)
		return rt_param("unsupported option " RT_Q, name);
	if (!bytes)
		return rt_param("%s requires packet and byte counters", name);
	if (!rtp_parse_decimal(arg, UINT64_MAX, &pk) ||
	    !rtp_parse_decimal(bytes, UINT64_MAX, &by))
		return rt_param("bad counters " RT_Q " " RT_Q, quote_arg(arg),
				quote_arg(bytes));
	p->cmd->rule.pkts = pk;
	p->cmd->rule.bytes = by;
	p->cmd->rule.set_counters = true;
	return 0;
}

static int family_option(struct parser *p, uint16_t af, const char *name)
{
	p->cmd->opts |= RT_OPT_FAMILY;
	if (af == p->af)
		return 0;
	if (p->env->restore)
		return rt_param("%s does not match the family of this restore",
				name);
	if (p->env->af != p->af)
		return rt_param("-4 and -6 cannot be used together");
	p->switch_af = af;
	return RT_EFAIL; /* parse again in the other family */
}

/* Options that may be given once only. */
static int once(struct parser *p, const struct rt_optdef *d, const char *name)
{
	/* -j and -g are one option. */
	int id = d->id == O_GOTO ? O_JUMP : d->id;

	if (id == O_VERBOSE || id == O_MATCH || id == O_IPV4 || id == O_IPV6 ||
	    id <= O_RENAME)
		return 0;
	if (p->seen[id]++) {
		if (d->id == O_GOTO || d->id == O_JUMP)
			return rt_param("multiple -j or -g flags not allowed");
		return rt_param("option " RT_Q " may be given only once", name);
	}
	return 0;
}

int rtp_handle_option(struct parser *p, const struct rt_optdef *d,
		      const char *name, const char *arg)
{
	struct rt_cmd *cmd = p->cmd;
	struct rt_rule *r = &cmd->rule;
	struct viplb_rule_spec *spec = &r->spec;
	bool inv = p->invert;
	unsigned long long v;
	int ret;

	p->invert = false;
	if (inv && !(d->flags & OPTF_INVERT))
		return rt_param("\"!\" is not allowed before " RT_Q, name);
	if (arg && !strcmp(arg, "!") && (d->flags & OPTF_INVERT))
		return rt_param("\"!\" must come before the option: use "
				"\"! %s VALUE\"",
				name);
	ret = once(p, d, name);
	if (ret)
		return ret;
	if (d->id <= O_RENAME)
		return command_option(p, d, name, arg);
	switch (d->id) {
	case O_HELP:
		cmd->help = true;
		return 0;
	case O_VERSION:
		cmd->version = true;
		return 0;
	case O_TABLE:
		if (p->env->restore)
			return rt_param("%s cannot be used in a restore file",
					name);
		cmd->opts |= RT_OPT_TABLE;
		return rt_table_by_name(arg, &cmd->table);
	case O_IPV4:
		return family_option(p, AF_INET, name);
	case O_IPV6:
		return family_option(p, AF_INET6, name);
	case O_NUMERIC:
		cmd->opts |= RT_OPT_NUMERIC;
		return 0;
	case O_VERBOSE:
		cmd->opts |= RT_OPT_VERBOSE;
		return 0;
	case O_EXACT:
		cmd->opts |= RT_OPT_EXACT;
		return 0;
	case O_LINE_NUMBERS:
		cmd->opts |= RT_OPT_LINE_NUMBERS;
		return 0;
	case O_JSON:
		cmd->opts |= RT_OPT_JSON;
		return 0;
	case O_PRETTY:
		cmd->opts |= RT_OPT_PRETTY;
		return 0;
	case O_OFFLINE:
		cmd->offline = arg;
		return 0;
	case O_WAIT:
		cmd->opts |= RT_OPT_WAIT;
		if (arg && !rtp_parse_decimal(arg, UINT_MAX, &v))
			return rt_param("bad wait time " RT_Q, quote_arg(arg));
		cmd->wait = arg ? v : 0;
		return 0;
	case O_WAIT_INTERVAL:
		cmd->opts |= RT_OPT_WAIT_INTERVAL;
		if (!rtp_parse_decimal(arg, ULONG_MAX, &v))
			return rt_param("bad wait interval " RT_Q,
					quote_arg(arg));
		return 0;
	case O_COUNTERS:
		cmd->opts |= RT_OPT_COUNTERS;
		return counters_option(p, name, arg);
	case O_PROTO:
		cmd->opts |= RT_OPT_PROTO;
		ret = rtp_parse_protocol(arg, &spec->proto);
		if (ret)
			return ret;
		if (spec->proto == 0 && inv)
			return rt_param("rule would never match protocol");
		if (spec->proto)
			set_match(spec, VIPLB_M_PROTO, inv);
		return 0;
	case O_SOURCE:
	case O_DEST: {
		bool src = d->id == O_SOURCE;
		__be32 *a = src ? spec->src : spec->dst;
		__be32 *m = src ? spec->src_mask : spec->dst_mask;
		static const __be32 zero[4];

		cmd->opts |= src ? RT_OPT_SOURCE : RT_OPT_DEST;
		ret = rtp_parse_addr_mask(p->af, arg, a, m);
		if (ret)
			return ret;
		/* 0/0 matches everything; "! -s 0/0" matches nothing. */
		if (!memcmp(m, zero, sizeof(zero)) && !inv)
			return 0;
		set_match(spec, src ? VIPLB_M_SRC : VIPLB_M_DST, inv);
		return 0;
	}
	case O_IN:
	case O_OUT:
		cmd->opts |= d->id == O_IN ? RT_OPT_IN : RT_OPT_OUT;
		ret = rtp_parse_iface(arg,
				      d->id == O_IN ? spec->iif : spec->oif);
		if (ret)
			return ret;
		set_match(spec, d->id == O_IN ? VIPLB_M_IIF : VIPLB_M_OIF, inv);
		return 0;
	case O_JUMP:
	case O_GOTO:
		cmd->opts |= RT_OPT_JUMP;
		return set_target(p, arg, d->id == O_GOTO);
	case O_MATCH:
		cmd->opts |= RT_OPT_MATCH;
		return load_match(p, arg);
	case O_SPORT:
		return port_option(p, arg, inv, VIPLB_M_SPORT, spec->sport);
	case O_DPORT:
		return port_option(p, arg, inv, VIPLB_M_DPORT, spec->dport);
	case O_SYN:
	case O_TCP_FLAGS:
		if (p->has_syn_opt)
			return rt_param(
				"only one of --syn and --tcp-flags allowed");
		p->has_syn_opt = true;
		if (d->id == O_TCP_FLAGS)
			return tcp_flags_option(p, arg, inv);
		set_match(spec, VIPLB_M_SYN, inv);
		return 0;
	case O_SPORTS:
	case O_DPORTS:
	case O_PORTS:
		if (p->has_mport_opt)
			return rt_param(
				"only one of --sports, --dports and --ports per -m multiport");
		p->has_mport_opt = true;
		ret = rtp_parse_mports(arg, rtp_mport_proto(spec), spec);
		if (ret)
			return ret;
		spec->mport_flags = d->id == O_SPORTS ? VIPLB_MPORT_SRC :
				    d->id == O_DPORTS ? VIPLB_MPORT_DST :
							VIPLB_MPORT_SRC |
								VIPLB_MPORT_DST;
		set_match(spec, VIPLB_M_MPORTS, inv);
		return 0;
	case O_CTPROTO:
	case O_CTORIGSRC:
	case O_CTORIGDST:
	case O_CTREPLSRC:
	case O_CTREPLDST:
	case O_CTORIGSRCPORT:
	case O_CTORIGDSTPORT:
	case O_CTREPLSRCPORT:
	case O_CTREPLDSTPORT:
	case O_CTSTATUS:
	case O_CTEXPIRE:
	case O_CTDIR:
		return conntrack_option(p, d->id, arg, inv);
	case O_CTSTATE:
	case O_STATE:
		ret = rtp_parse_ctstates(arg, d->id == O_CTSTATE,
					 &spec->ctstate);
		if (ret)
			return ret;
		set_match(spec, VIPLB_M_CTSTATE, inv);
		return 0;
	case O_MODE:
	case O_PROBABILITY:
	case O_EVERY:
	case O_PACKET:
		return statistic_option(p, d->id, arg, inv);
	case O_COMMENT:
		if (strlen(arg) > RT_COMMENT_LEN)
			return rt_param("comment " RT_Q
					" too long (max %d bytes)",
					quote_arg(arg), RT_COMMENT_LEN);
		r->comment = strdup(arg);
		return r->comment ? 0 : rt_fail("%s", strerror(ENOMEM));
	case O_MARK:
		ret = rtp_parse_mark(arg, true, &spec->mark, &spec->mark_mask);
		if (ret)
			return ret;
		set_match(spec, VIPLB_M_MARK, inv);
		return 0;
	case O_REJECT_WITH:
		return rtp_parse_reject(p->af, arg, &spec->reject_with);
	case O_TO_DEST:
	case O_TO_SRC:
		p->nat_range = true;
		return rtp_parse_nat_range(p->af, arg, spec);
	case O_TO_PORTS:
		return rtp_parse_nat_ports(arg, arg, spec);
	case O_RANDOM:
		spec->nat_flags |= VIPLB_NAT_F_RANDOM;
		return 0;
	case O_RANDOM_FULLY:
		spec->nat_flags |= VIPLB_NAT_F_RANDOM_FULLY;
		return 0;
	case O_PERSISTENT:
		spec->nat_flags |= VIPLB_NAT_F_PERSISTENT;
		return 0;
	case O_SET_XMARK:
	case O_SET_MARK:
	case O_AND_MARK:
	case O_OR_MARK:
	case O_XOR_MARK:
		return mark_target_option(p, d->id, arg);
	}
	return rt_param("unsupported option " RT_Q, name);
}
