#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# viplb's "small iptables" against real iptables (legacy), case by case.
#
# Every case of tables/cases/ (a ruleset NAME.rules in iptables-save
# format and a traffic script NAME.traffic) runs twice, each time on a
# fresh topology of network namespaces (a client, a router holding the
# rules, three servers; see tables/lib.sh): once with the ruleset loaded
# by iptables-legacy-restore (ip6tables-legacy-restore), once by
# viplb-restore (viplb6-restore).  Each run records its outcome: per
# connection attempt, whether it succeeded, which server answered on which
# port and which source address it saw, or how it failed (refused by a
# RST or an ICMP error, unreachable with which ICMP error from where, or
# timeout); then the rule counters.  Per case, three checks:
#
#   expect      the iptables record holds NAME.expect (written by hand):
#               the case tests what it claims, and the topology works
#   diff        the viplb record equals the iptables record (and no
#               iptables table exists in the viplb run's router)
#   round trip  viplb-save after viplb-restore < NAME.rules equals
#               iptables-legacy-save after iptables-legacy-restore, without
#               comments and with counters zeroed
#
# Then restore atomicity: with a working ruleset loaded, viplb-restore of
# a file whose last rule line is wrong must fail, name that line ("line
# N:") and the bad token, and change nothing: the same counters, the
# same traffic outcomes (the nth balancing goes on where it was).  A
# control load of the same file without the bad line must change the
# outcomes, or the check could not have failed.  Last, viplb.ko unloads
# once the namespaces are gone, and dmesg is clean.
#
# The viplb CLI (user/viplb/viplb-restore and the other links) and kmod/viplb.ko
# must be built: without them the test fails, it does not skip.  It takes
# 2 to 4 minutes in the TCG VM, depending on the host's load; about 50 s of
# it are the 2 s timeouts of the connections that cases expect to time out.
#
# Environment:
#   TABLES_CASES="a b"   run only these cases
#   TABLES_B=iptables    load the second run with iptables too (checks the
#                        harness: the two records must be identical) and
#                        skip the viplb-only atomicity checks
#   TABLES_TIMEOUT=S     connection timeout (default 2 s)
#   TABLES_DEBUG=1       log the time of each step and connection, and
#                        whether each case file is in iptables-save form

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tables/lib.sh
. "$(dirname "$0")/tables/lib.sh"

require_root
# The tools this test needs; missing ones are a failure of the test
# environment (scripts/deps.sh installs them), not a reason to skip.
lb_need_cmd python3 modprobe sort diff \
	iptables-legacy-restore iptables-legacy-save \
	ip6tables-legacy-restore ip6tables-legacy-save

TB_B=${TABLES_B:-viplb}
case $TB_B in
viplb | iptables) ;;
*) bail "TABLES_B=$TB_B: iptables or viplb" ;;
esac

modprobe -a ip_tables iptable_filter iptable_nat ip6_tables ip6table_filter \
	ip6table_nat ipt_REJECT ip6t_REJECT xt_nat xt_MASQUERADE xt_REDIRECT \
	xt_conntrack xt_state xt_multiport xt_mark xt_statistic xt_comment \
	xt_tcpudp || bail "modprobe of the iptables modules"
# The sockets of the sctp and dccp cases (built in, in the debug kernel).
modprobe -a sctp dccp_ipv4 dccp_ipv6 || bail "modprobe sctp dccp_ipv4 dccp_ipv6"

if [ "$TB_B" = viplb ]; then
	for c in viplb-restore viplb-save viplb6-restore viplb6-save; do
		[ -x "$VIPLB_ROOT/user/viplb/$c" ] ||
			bail "$VIPLB_ROOT/user/viplb/$c not found: the viplb tables CLI is not built"
	done
	[ -r "$VIPLB_KO" ] || bail "$VIPLB_KO not found (make module)"
	mod_fresh
fi
dmesg_mark
tb_agent_start

log "cases: $(tb_cases | tr '\n' ' ')"
for c in $(tb_cases); do
	if [ ! -r "$TB_CASES/$c.rules" ] || [ ! -r "$TB_CASES/$c.traffic" ] ||
	   [ ! -r "$TB_CASES/$c.expect" ]; then
		fail "$c: $c.rules, $c.traffic and $c.expect in $TB_CASES"
		continue
	fi
	t0=$SECONDS
	if ! tb_run "$c" iptables ipt; then
		fail "$c: iptables run" "$TB_WHY"
		continue
	fi
	A=$TB_T/$c.ipt
	if [ -n "$TB_NOTRAFFIC" ]; then
		fail "$c: iptables run" "$TB_NOTRAFFIC"
		continue
	fi
	# TABLES_DEBUG: is the case file what iptables-save prints?
	# shellcheck disable=SC2086 # the table names
	if [ -n "${TABLES_DEBUG:-}" ] &&
	   tb_agent norm "$TB_CASES/$c.rules" "$A.file" $TB_TABLES &&
	   ! diff -u "$A.file" "$A.rt" >"$A.fdiff"; then
		log "$c.rules is not in iptables-save form:"
		sed 's/^/#   /' "$A.fdiff"
	fi
	if tb_agent expect "$TB_CASES/$c.expect" "$A.rec" &&
	   [ "$TB_REPLY" = ok ]; then
		pass "$c: iptables outcome as expected"
	else
		fail "$c: iptables outcome as expected" "$TB_REPLY" \
			"record:" "$(cat "$A.rec")"
	fi
	if ! tb_run "$c" "$TB_B" b; then
		fail "$c: $TB_B run" "$TB_WHY"
		continue
	fi
	B=$TB_T/$c.b
	if [ "$TB_B" = viplb ] && [ "$TB_XTABLES" != none ]; then
		# Not viplb's doing, then.
		fail "$c: $TB_B outcome equals iptables" \
			"iptables tables in the viplb run's router: $TB_XTABLES"
	elif tb_agent same "$A.rec" "$B.rec" && [ "$TB_REPLY" = same ]; then
		pass "$c: $TB_B outcome equals iptables ($((SECONDS - t0))s)"
	else
		fail "$c: $TB_B outcome equals iptables" \
			"$(diff -u --label iptables --label "$TB_B" "$A.rec" "$B.rec")"
	fi
	if [ ! -s "$A.rt" ]; then
		fail "$c: round trip: $TB_B save equals iptables save" \
			"no iptables-legacy-save output: $(<"$A.rec")"
	elif tb_agent same "$A.rt" "$B.rt" && [ "$TB_REPLY" = same ]; then
		pass "$c: round trip: $TB_B save equals iptables save"
	else
		fail "$c: round trip: $TB_B save equals iptables save" \
			"$(diff -u --label iptables-legacy-save --label "$TB_B-save" \
				"$A.rt" "$B.rt")"
	fi
done

# ---- Restore atomicity (viplb only).
if [ "$TB_B" = viplb ]; then
	# shellcheck source=tables/atomic.sh
	. "$TB_DIR/atomic.sh"
fi

# The agent holds every namespace: once it is gone, so are they.
kill "$TB_AGENT_PID" 2>/dev/null
wait "$TB_AGENT_PID" 2>/dev/null
if [ "$TB_B" = viplb ]; then
	check_ok "rmmod viplb after the test's namespaces are gone" mod_unload
fi
dmesg_check "no kernel warning"
viplb_finish
