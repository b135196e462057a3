// SPDX-License-Identifier: GPL-2.0
/*
 * The checks of a whole command once its options are parsed, as
 * iptables makes them: the options each command allows, the protocol
 * matches and ports need, the matches' own options, and where a target
 * may be used; then the rule's match order.  Part of the parser (parse.c,
 * parse_int.h).
 */
#include <netinet/in.h>
#include <string.h>

#include "parse_int.h"
#include "tables.h"
#include "util.h"

/* Options each command allows: the -n, -v ... table of iptables. */
static int check_legal(const struct parser *p)
{
	static const struct {
		unsigned int opt;
		const char *name;
		unsigned int cmds; /* commands allowing it */
	} legal[] = {
#define RULE_CMDS                                                         \
	(RT_CMD_APPEND | RT_CMD_INSERT | RT_CMD_REPLACE | RT_CMD_DELETE | \
	 RT_CMD_CHECK)
		{ RT_OPT_NUMERIC, "-n", RT_CMD_LIST },
		{ RT_OPT_EXACT, "-x", RT_CMD_LIST },
		{ RT_OPT_LINE_NUMBERS, "--line-numbers", RT_CMD_LIST },
		{ RT_OPT_JSON, "--json", RT_CMD_LIST },
		{ RT_OPT_PRETTY, "--pretty", RT_CMD_LIST },
		{ RT_OPT_SOURCE, "-s", RULE_CMDS },
		{ RT_OPT_DEST, "-d", RULE_CMDS },
		{ RT_OPT_PROTO, "-p", RULE_CMDS },
		{ RT_OPT_JUMP, "-j", RULE_CMDS },
		{ RT_OPT_IN, "-i", RULE_CMDS },
		{ RT_OPT_OUT, "-o", RULE_CMDS },
		{ RT_OPT_MATCH, "-m", RULE_CMDS },
		{ RT_OPT_COUNTERS, "-c",
		  RT_CMD_APPEND | RT_CMD_INSERT | RT_CMD_REPLACE |
			  RT_CMD_POLICY },
#undef RULE_CMDS
	};
	const struct rt_cmd *cmd = p->cmd;
	unsigned int cmds = cmd->cmds;
	size_t i;

	/* Deleting by number takes no rule. */
	if ((cmds & RT_CMD_DELETE) && cmd->rulenum)
		cmds = 0;
	for (i = 0; i < ARRAY_SIZE(legal); i++) {
		bool match_opts = legal[i].opt == RT_OPT_MATCH &&
				  (p->mods || p->target_mod);

		if (!(cmd->opts & legal[i].opt) && !match_opts)
			continue;
		if (!(cmds & legal[i].cmds))
			return rt_param("option " RT_Q
					" cannot be used with %s",
					legal[i].name, p->cmd_name);
	}
	if ((cmd->opts & RT_OPT_WAIT_INTERVAL) && !(cmd->opts & RT_OPT_WAIT))
		return rt_param("--wait-interval only makes sense with --wait");
	if (p->env->restore &&
	    (cmd->opts & (RT_OPT_WAIT | RT_OPT_WAIT_INTERVAL | RT_OPT_JSON |
			  RT_OPT_PRETTY)))
		return rt_param(
			"-w, -W, --json and --pretty cannot be used in a restore file");
	if (p->env->restore && cmd->offline)
		return rt_param("--offline cannot be used in a restore file");
	return 0;
}

static bool is_proto(const struct viplb_rule_spec *spec, uint8_t proto)
{
	return (spec->match & VIPLB_M_PROTO) &&
	       !(spec->invert & VIPLB_M_PROTO) && spec->proto == proto;
}

static bool tcp_or_udp(const struct viplb_rule_spec *spec)
{
	return is_proto(spec, IPPROTO_TCP) || is_proto(spec, IPPROTO_UDP);
}

/*
 * iptables runs a rule's matches in order, viplb the statistic match
 * last: they agree only if nothing that filters comes after statistic.
 */
static int check_statistic_last(const struct parser *p)
{
	unsigned int i;
	bool stat = false;

	for (i = 0; i < p->n_order; i++) {
		if (p->order[i] == RT_ORDER_STATISTIC)
			stat = true;
		else if (stat && p->order[i] != RT_ORDER_COMMENT)
			return rt_param(
				"-m statistic must come after the rule's other matches (viplb evaluates it last)");
	}
	return 0;
}

/* VIPLB_RULES_A_MATCH_ORDER of the rule (format in tables.h). */
static void set_order(const struct parser *p, struct rt_rule *r)
{
	r->order_len = 0;
	if (!p->n_order || p->n_order > RT_ORDER_KINDS)
		return;
	r->order[0] = RT_ORDER_VERSION;
	memcpy(r->order + 1, p->order, p->n_order);
	r->order_len = p->n_order + 1;
}

static int check_matches(struct parser *p)
{
	const struct viplb_rule_spec *spec = &p->cmd->rule.spec;
	const struct rt_rule *r = &p->cmd->rule;
	const char *chain = p->cmd->chain;
	int ret;

	if ((p->mods & (1U << MOD_TCP)) && !is_proto(spec, IPPROTO_TCP))
		return rt_param("-m tcp needs -p tcp");
	if ((p->mods & (1U << MOD_UDP)) && !is_proto(spec, IPPROTO_UDP))
		return rt_param("-m udp needs -p udp");
	/* A bare -m tcp: every source port, as iptables keeps it. */
	if ((p->mods & (1U << MOD_TCP | 1U << MOD_UDP)) &&
	    !(spec->match & (VIPLB_M_SPORT | VIPLB_M_DPORT | VIPLB_M_SYN |
			 VIPLB_M_TCP_FLAGS))) {
		p->cmd->rule.spec.match |= VIPLB_M_SPORT;
		p->cmd->rule.spec.sport[1] = 65535;
	}
	if (p->mods & (1U << MOD_MULTIPORT)) {
		if (!rtp_mport_proto(spec))
			return rt_param(
				"-m multiport needs -p tcp, udp, udplite, sctp or dccp");
		if (!p->has_mport_opt)
			return rt_param(
				"-m multiport needs --sports, --dports or --ports");
	}
	if ((p->mods & (1U << MOD_CONNTRACK)) &&
	    !(spec->match & (VIPLB_M_CTSTATE | VIPLB_M_CONNTRACK)))
		return rt_param("conntrack: At least one option is required");
	if ((p->mods & (1U << MOD_STATE)) && !(spec->match & VIPLB_M_CTSTATE))
		return rt_param("-m state needs --state");
	if ((p->mods & (1U << MOD_COMMENT)) && !r->comment)
		return rt_param("-m comment needs --comment");
	if ((p->mods & (1U << MOD_MARK)) && !(spec->match & VIPLB_M_MARK))
		return rt_param("-m mark needs --mark");
	if (p->mods & (1U << MOD_STATISTIC)) {
		if (!spec->stat_mode)
			return rt_param("-m statistic needs --mode");
		if (spec->stat_mode == VIPLB_STAT_RANDOM &&
		    (!p->stat_prob || p->stat_every || p->stat_packet))
			return rt_param(
				"--mode random needs --probability (and no --every, --packet)");
		if (spec->stat_mode == VIPLB_STAT_NTH &&
		    (!p->stat_every || !p->stat_packet || p->stat_prob))
			return rt_param(
				"--mode nth needs --every and --packet (and no --probability)");
		if (spec->stat_mode == VIPLB_STAT_NTH &&
		    spec->stat_packet >= spec->stat_every)
			return rt_param(
				"--packet must be between 0 and --every minus 1");
	}
	ret = check_statistic_last(p);
	if (ret)
		return ret;
	/* As iptables, by chain name only. */
	if ((spec->match & VIPLB_M_OIF) &&
	    (!strcmp(chain, "INPUT") || !strcmp(chain, "PREROUTING")))
		return rt_param("cannot use -o with %s", chain);
	if ((spec->match & VIPLB_M_IIF) &&
	    (!strcmp(chain, "OUTPUT") || !strcmp(chain, "POSTROUTING")))
		return rt_param("cannot use -i with %s", chain);
	return 0;
}

/* The chain a target is used from, if it is built-in: allowed? */
static bool hook_allowed(uint32_t table, const char *chain, unsigned int hooks)
{
	int hook = rt_builtin_hook(table, chain);

	return hook == RT_USER_CHAIN || (hooks & (1U << hook));
}

static int check_target(const struct parser *p)
{
	const struct viplb_rule_spec *spec = &p->cmd->rule.spec;
	uint32_t table = p->cmd->table;
	const char *chain = p->cmd->chain;
	const char *name = p->target_mod ? rtp_mod_names[p->target_mod] :
					   "DROP";
	bool nat_target = spec->verdict >= VIPLB_V_DNAT &&
			  spec->verdict <= VIPLB_V_REDIRECT;

	if (table == VIPLB_RTABLE_NAT &&
	    (spec->verdict == VIPLB_V_DROP || spec->verdict == VIPLB_V_REJECT))
		return rt_param(
			"the \"nat\" table is not intended for filtering, the use of %s is therefore inhibited",
			name);
	if (nat_target && table != VIPLB_RTABLE_NAT)
		return rt_param("target %s can only be used in the nat table",
				name);
	switch (spec->verdict) {
	case VIPLB_V_REJECT:
		if (spec->reject_with == VIPLB_REJECT_TCP_RESET &&
		    !is_proto(spec, IPPROTO_TCP))
			return rt_param("--reject-with tcp-reset needs -p tcp");
		break;
	case VIPLB_V_DNAT:
	case VIPLB_V_REDIRECT:
		if (!hook_allowed(table, chain,
				  1U << VIPLB_HOOK_PREROUTING |
					  1U << VIPLB_HOOK_OUTPUT))
			return rt_param(
				"target %s can only be used from PREROUTING and OUTPUT",
				name);
		break;
	case VIPLB_V_SNAT:
		if (!hook_allowed(table, chain,
				  1U << VIPLB_HOOK_INPUT |
					  1U << VIPLB_HOOK_POSTROUTING))
			return rt_param(
				"target SNAT can only be used from INPUT and POSTROUTING");
		break;
	case VIPLB_V_MASQUERADE:
		if (!hook_allowed(table, chain, 1U << VIPLB_HOOK_POSTROUTING))
			return rt_param(
				"target MASQUERADE can only be used from POSTROUTING");
		break;
	case VIPLB_V_MARK:
		if (!p->mark_op)
			return rt_param(
				"MARK needs one of --set-xmark, --set-mark, --and-mark, --or-mark, --xor-mark");
		break;
	}
	if ((spec->verdict == VIPLB_V_DNAT || spec->verdict == VIPLB_V_SNAT) &&
	    !p->nat_range)
		return rt_param("%s needs %s", name,
				spec->verdict == VIPLB_V_DNAT ?
					"--to-destination" :
					"--to-source");
	if ((spec->nat_flags & VIPLB_NAT_F_PORTS) && !tcp_or_udp(spec))
		return rt_param("%s with ports needs -p tcp or -p udp", name);
	return 0;
}

int rtp_finish(struct parser *p)
{
	struct rt_cmd *cmd = p->cmd;
	int ret;

	if (p->invert)
		return rt_param("nothing appropriate following \"!\"");
	if (cmd->help || cmd->version)
		return 0;
	if (!cmd->cmds)
		return rt_param("no command specified");
	ret = check_legal(p);
	if (ret)
		return ret;
	if (p->policy) {
		ret = rt_parse_policy(p->policy, cmd->table, &cmd->policy);
		if (ret)
			return ret;
	}
	if (!(cmd->cmds & (RT_CMD_APPEND | RT_CMD_INSERT | RT_CMD_REPLACE |
			   RT_CMD_DELETE | RT_CMD_CHECK)) ||
	    ((cmd->cmds & RT_CMD_DELETE) && cmd->rulenum))
		return 0;
	ret = check_matches(p);
	if (ret)
		return ret;
	set_order(p, &cmd->rule);
	return check_target(p);
}
