#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# viplb's rule tables on nf_tables (VIPLB_DATAPATH=nft, as on a host that
# cannot load the module): the differential suite of tables_diff.sh, its
# cases run through the nft datapath in network namespaces.  Per case of
# ../tables/cases/ (see ../tables/lib.sh for the topology and records):
#
#   expect      the iptables-legacy record holds NAME.expect
#   diff        the record of viplb-restore on nf_tables equals the
#               iptables-legacy one, connections and counters
#   round trip  viplb-save (read back from nf_tables) equals
#               iptables-legacy-save, normalized as tables_diff.sh does
#   print       viplb-save, but for its comment lines, is byte for byte
#               what `viplb-restore --test --print` makes of NAME.rules
#   nft -f      `viplb-save --nft` loads with nft -f in a fresh netns
#
# Then the --nft output of each case (of NFT_TRAFFIC_CASES) is loaded
# with nft -f into a fresh topology, and the same traffic must give the
# same connection outcomes as iptables-legacy.  Then refusals (an
# untranslatable rule from viplb-tables and from viplb-restore: one line
# of error, `nft list ruleset` unchanged), a rule changed outside viplb
# (viplb-save names it, prints nothing false), services before nat
# rules, an edit that keeps the
# nth position of the other rules, random edits against the offline
# model, concurrent edits (none lost), and
# restore atomicity
# (../tables/atomic.sh: a bad last line leaves the old ruleset, its
# counters and its nth position).
#
# A case whose records disagree runs again once (all its runs): a single
# ICMP echo or SYN can be lost to timing on a loaded host, in the
# iptables-legacy run as in the others; a real difference shows twice.
#
# Environment: TABLES_CASES, TABLES_TIMEOUT as tables_diff.sh;
# NFT_TRAFFIC_CASES="a b": run only these from their --nft form (default
# "all").  About 90 s here.

. "$(dirname "$0")/../lib.sh"
# lib.sh took this directory for the selftests': the suite is one up.
VIPLB_SELFTESTS=$(cd "$VIPLB_SELFTESTS/.." && pwd -P)
VIPLB_ROOT=$(cd "$VIPLB_SELFTESTS/.." && pwd -P)
# shellcheck source=../tables/lib.sh
. "$VIPLB_SELFTESTS/tables/lib.sh"

require_root
for c in python3 nft unshare iptables-legacy-restore iptables-legacy-save \
	ip6tables-legacy-restore ip6tables-legacy-save; do
	command -v "$c" >/dev/null 2>&1 || bail "$c not found (scripts/deps.sh)"
done
for c in viplb-restore viplb-save viplb6-restore viplb6-save viplb-tables; do
	[ -x "$VIPLB_ROOT/user/viplb/$c" ] ||
		bail "$VIPLB_ROOT/user/viplb/$c not found: make -C user"
done
V=$VIPLB_ROOT/user/viplb

# The agent and every command it runs inherit it: viplb on nf_tables.
export VIPLB_DATAPATH=nft
: "${NFT_TRAFFIC_CASES:=all}"

# save_tables FILE TABLE...: FILE (save format) without comment lines and
# with only the sections of these tables.
save_tables()
{
	local f=$1
	shift
	awk -v want=" $* " '
		/^#/ { next }
		/^:/ { sub(/\[[0-9]+:[0-9]+\]$/, "[0:0]") }
		/^\*/ { keep = index(want, " " substr($0, 2) " ") > 0 }
		keep' "$f"
}

# After the nft run's save: its --nft form too.
after_save()
{
	case $2 in
	*.b) tb_rexec - "$2.nft" "$2.nfterr" "$TB_SAVE" --nft ;;
	esac
}
# shellcheck disable=SC2034 # read by tb_run
TB_AFTER_SAVE=after_save

# nftf_run CASE: CASE's traffic on a fresh topology whose router has the
# --nft form of the nft run loaded by nft -f; the record in CASE.nftf.rec.
nftf_run()
{
	local c=$1 p=$TB_T/$1.nftf
	TB_REC=$p.rec
	: >"$TB_REC"
	tb_topo || { echo "topology: $TB_REPLY" >>"$TB_REC"; return; }
	if ! tb_rexec "$TB_T/$c.b.nft" "$p.out" "$p.err" nft -f -; then
		echo "nft -f failed: $(<"$p.err")" >>"$TB_REC"
	elif [ -n "$TB_NOTRAFFIC" ]; then
		echo "traffic not run: $TB_NOTRAFFIC" >>"$TB_REC"
	else
		# shellcheck disable=SC1090 # the case's traffic
		. "$TB_CASES/$c.traffic"
	fi
	tb_teardown
}

# Connection lines only: the --nft run has no iptables counters.
conn_lines()
{
	grep -vE '^(filter|nat) ' "$1"
}

# want_nftf CASE: whether CASE also runs from its --nft form.
want_nftf()
{
	case " $NFT_TRAFFIC_CASES " in
	*" $1 "* | " all ") return 0 ;;
	esac
	return 1
}

# case_runs CASE: its iptables-legacy run, its nft run, and its --nft
# run; fails (with $TB_WHY) if one could not happen.
case_runs()
{
	if ! tb_run "$1" iptables ipt; then
		TB_WHY="iptables run: $TB_WHY"
		return 1
	fi
	if ! tb_run "$1" viplb b; then
		TB_WHY="nft run: $TB_WHY"
		return 1
	fi
	! want_nftf "$1" || nftf_run "$1"
}

# case_agrees CASE: the iptables record holds CASE.expect, and the nft
# and --nft records are the iptables one.
case_agrees()
{
	local a=$TB_T/$1.ipt.rec b=$TB_T/$1.b.rec
	[ -z "$TB_NOTRAFFIC" ] || return 0
	tb_agent expect "$TB_CASES/$1.expect" "$a" && [ "$TB_REPLY" = ok ] &&
		tb_agent same "$a" "$b" && [ "$TB_REPLY" = same ] &&
		{ ! want_nftf "$1" ||
		  [ "$(conn_lines "$a")" = "$(conn_lines "$TB_T/$1.nftf.rec")" ]; }
}

# case_outcomes CASE: the iptables-legacy record holds CASE.expect, and
# the nft record is the iptables-legacy one.
case_outcomes()
{
	local A=$TB_T/$1.ipt B=$TB_T/$1.b
	if tb_agent expect "$TB_CASES/$1.expect" "$A.rec" &&
	   [ "$TB_REPLY" = ok ]; then
		pass "$1: iptables-legacy outcome as expected"
	else
		fail "$1: iptables-legacy outcome as expected" "$TB_REPLY" \
			"record:" "$(cat "$A.rec")"
	fi
	if [ "$TB_XTABLES" != none ]; then
		fail "$1: nft outcome equals iptables-legacy" \
			"iptables tables in the nft run's router: $TB_XTABLES"
	elif tb_agent same "$A.rec" "$B.rec" && [ "$TB_REPLY" = same ]; then
		pass "$1: nft outcome equals iptables-legacy ($((SECONDS - t0))s)"
	else
		fail "$1: nft outcome equals iptables-legacy" \
			"$(diff -u --label iptables --label viplb-nft "$A.rec" "$B.rec")"
	fi
}

tb_agent_start

log "cases: $(tb_cases | tr '\n' ' ')"
for c in $(tb_cases); do
	t0=$SECONDS
	if ! case_runs "$c"; then
		fail "$c: runs" "$TB_WHY"
		continue
	fi
	# A single ICMP echo or SYN may be lost to timing on a loaded host,
	# in any of the runs: once more, and a real difference shows again.
	if ! case_agrees "$c"; then
		log "$c: the outcomes differ: all its runs once more"
		if ! case_runs "$c"; then
			fail "$c: runs" "$TB_WHY"
			continue
		fi
	fi
	A=$TB_T/$c.ipt
	B=$TB_T/$c.b
	if [ -n "$TB_NOTRAFFIC" ]; then
		# sctp, dccp: tables_diff.sh runs this traffic in the VM.
		skip "$c: iptables-legacy outcome as expected" "$TB_NOTRAFFIC"
		skip "$c: nft outcome equals iptables-legacy" "$TB_NOTRAFFIC"
	else
		case_outcomes "$c"
	fi
	if tb_agent same "$A.rt" "$B.rt" && [ "$TB_REPLY" = same ]; then
		pass "$c: round trip: viplb-save from nf_tables equals iptables-legacy-save"
	else
		fail "$c: round trip: viplb-save from nf_tables equals iptables-legacy-save" \
			"$(diff -u --label iptables-legacy-save --label viplb-save \
				"$A.rt" "$B.rt")"
	fi
	tb_cmds viplb "$c"
	tb_tables "$TB_CASES/$c.rules"
	# shellcheck disable=SC2086 # the table names
	if "$TB_RESTORE" --test --print <"$TB_CASES/$c.rules" >"$B.print" &&
	   save_tables "$B.save" $TB_TABLES >"$B.saved" &&
	   cmp -s "$B.print" "$B.saved"; then
		pass "$c: viplb-save from nf_tables is viplb-restore --test --print, byte for byte"
	else
		fail "$c: viplb-save from nf_tables is viplb-restore --test --print, byte for byte" \
			"$(diff -u --label print --label save "$B.print" "$B.saved")"
	fi
	if [ -s "$B.nft" ] && unshare -n nft -f "$B.nft" 2>"$B.nftload"; then
		pass "$c: viplb-save --nft loads with nft -f"
	else
		fail "$c: viplb-save --nft loads with nft -f" \
			"$(cat "$B.nfterr" "$B.nftload" 2>/dev/null)"
	fi
	want_nftf "$c" || continue
	if [ -n "$TB_NOTRAFFIC" ]; then
		skip "$c: its --nft form under nft -f gives the iptables-legacy outcome" \
			"$TB_NOTRAFFIC"
	elif [ "$(conn_lines "$A.rec")" = "$(conn_lines "$TB_T/$c.nftf.rec")" ]; then
		pass "$c: its --nft form under nft -f gives the iptables-legacy outcome"
	else
		fail "$c: its --nft form under nft -f gives the iptables-legacy outcome" \
			"$(diff -u --label iptables --label nft-f \
				<(conn_lines "$A.rec") \
				<(conn_lines "$TB_T/$c.nftf.rec"))"
	fi
done

# ---- Refusals: one line, nothing changed.
ns_create N tnft
R=$TB_CASES/kube_nth.rules
ip netns exec "$N" "$V/viplb-restore" <"$R" ||
	fail "refusals: load kube_nth.rules"
before=$(ip netns exec "$N" nft list ruleset)
refused()
{
	local what=$1 err rc
	shift
	err=$("$@" 2>&1 >/dev/null)
	rc=$?
	if [ $rc -ne 0 ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] &&
	   [ -n "$err" ] &&
	   [ "$(ip netns exec "$N" nft list ruleset)" = "$before" ]; then
		pass "refusal: $what: one line, nothing changed ($err)"
	else
		fail "refusal: $what: one line, nothing changed" "exit $rc" \
			"stderr: $err"
	fi
}
refused "! -i + (viplb-tables)" \
	ip netns exec "$N" "$V/viplb-tables" -A INPUT ! -i + -j DROP
long=$(printf 'x%.0s' $(seq 250))
refused "a rule too long for nf_tables' userdata" \
	ip netns exec "$N" "$V/viplb-tables" -t nat -A OUTPUT \
	-m comment --comment "$long" -j ACCEPT
printf '*filter\n-A FORWARD -j ACCEPT\n-A FORWARD ! -o + -j DROP\nCOMMIT\n' \
	>"$TB_T/refused.rules"
refused "! -o + (viplb-restore)" \
	ip netns exec "$N" "$V/viplb-restore" "$TB_T/refused.rules"

# ---- A rule changed behind viplb's back is named, not printed.
h=$(ip netns exec "$N" nft -a list chain ip viplb_nat KUBE-SVC-WEB |
	awk '/numgen inc mod 3/ { print $NF; exit }')
if [ -n "$h" ] && ip netns exec "$N" nft replace rule ip viplb_nat \
	KUBE-SVC-WEB handle "$h" numgen inc mod 5 0 counter jump KUBE-SEP-S1 \
	comment '"-m statistic --mode nth --every 3 --packet 0 -j KUBE-SEP-S1"'; then
	err=$(ip netns exec "$N" "$V/viplb-save" 2>&1 >"$TB_T/changed.out")
	rc=$?
	if [ $rc -ne 0 ] && [[ $err == *"chain KUBE-SVC-WEB"*"changed"* ]]; then
		pass "a rule changed with nft is reported, not printed ($err)"
	else
		fail "a rule changed with nft is reported, not printed" \
			"exit $rc" "stderr: $err"
	fi
else
	fail "a rule changed with nft is reported: nft replace rule failed"
fi

# ---- An edit changes the table in place: the rules it keeps keep their
# nth position (s1, then s2 and s3, not s1 again as after a rewrite);
# so does -Z, which zeroes their counters (NFT_MSG_GETRULE_RESET).
TB_REC=$TB_T/nth.rec
if ! tb_topo; then
	fail "nth kept: topology" "$TB_REPLY"
else
	tb_rexec "$TB_CASES/kube_nth.rules" "$TB_T/nth.out" "$TB_T/nth.err" \
		"$V/viplb-restore"
	: >"$TB_REC"
	conn tcp c 192.0.2.10 80
	tb_rexec - "$TB_T/nth.out" "$TB_T/nth.err" "$V/viplb-tables" -t nat \
		-A KUBE-SVC-WEB -j KUBE-SEP-S1
	conn tcp c 192.0.2.10 80
	tb_rexec - "$TB_T/nth.out" "$TB_T/nth.err" "$V/viplb-tables" -t nat \
		-Z KUBE-SVC-WEB
	tb_rexec - "$TB_T/nth.save" "$TB_T/nth.err" "$V/viplb-save" -t nat -c
	conn tcp c 192.0.2.10 80
	check_eq "an edit and a -Z keep the nth position of the rules they keep" \
		"$(awk '{ print $4 }' "$TB_REC" | tr '\n' ' ')" \
		"s1:80 s2:80 s3:8080 "
	check_eq "... and -Z zeroed their counters" \
		"$(grep -c '^\[0:0\] -A KUBE-SVC-WEB' "$TB_T/nth.save")" 5
fi
tb_teardown

# ---- Services before nat rules, as with the module: a service of table
# inet viplb (priority -101) takes a VIP that a DNAT rule of ip viplb_nat
# (-100) also sends elsewhere; without the service, the rule does.
TB_REC=$TB_T/order.rec
if ! tb_topo; then
	fail "services before nat rules: topology" "$TB_REPLY"
else
	printf '%s\n' '*nat' \
		'-A PREROUTING -d 192.0.2.10/32 -p tcp --dport 80 -j DNAT --to-destination 198.51.100.11:80' \
		'COMMIT' >"$TB_T/order.rules"
	: >"$TB_REC"
	tb_rexec "$TB_T/order.rules" "$TB_T/order.out" "$TB_T/order.err" \
		"$V/viplb-restore"
	tb_rexec - "$TB_T/order.out" "$TB_T/order.err" "$V/viplb" \
		service add tcp 192.0.2.10:80
	tb_rexec - "$TB_T/order.out" "$TB_T/order.err" "$V/viplb" \
		backend add tcp 192.0.2.10:80 198.51.100.12:80
	conn tcp c 192.0.2.10 80
	tb_rexec - "$TB_T/order.out" "$TB_T/order.err" "$V/viplb" \
		service del tcp 192.0.2.10:80
	conn tcp c 192.0.2.10 80
	check_eq "services come before the nat rules (then the rule DNATs)" \
		"$(awk '{ print $4 }' "$TB_REC" | tr '\n' ' ')" "s2:80 s1:80 "
fi
tb_teardown

# ---- Random edits (-A -I -D -R -N -F -Z -P, jumps), each applied in place
# on nf_tables and to the offline model (viplb-tables --offline STATE):
# after each, viplb-save -c equals the model's table.
ns_create E tnfte
RANDOM=7
st=$TB_T/edit.state
printf '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n' >"$st"
chains=(INPUT FORWARD OUTPUT)
rand_rule()
{
	case $((RANDOM % 5)) in
	0) echo "-p tcp --dport $((RANDOM % 100 + 1)) -j ACCEPT" ;;
	1) echo "-s 192.0.2.$((RANDOM % 250))/32 -j DROP" ;;
	2) echo "-m statistic --mode nth --every 3 --packet $((RANDOM % 3)) -j RETURN" ;;
	3) echo "-p udp -m multiport --dports 53,$((RANDOM % 100 + 100)) -j ACCEPT" ;;
	4) echo "-m comment --comment c$RANDOM" ;;
	esac
}
edit_why=""
for i in $(seq 1 80); do
	c=${chains[$((RANDOM % ${#chains[@]}))]}
	n=$(ip netns exec "$E" "$V/viplb-tables" -S "$c" | grep -c '^-A')
	case $((RANDOM % 11)) in
	0 | 1 | 2) cmd="-A $c $(rand_rule)" ;;
	3) cmd="-I $c $((RANDOM % (n + 1) + 1)) $(rand_rule)" ;;
	4) cmd="-D $c $((RANDOM % (n + 1) + 1))" ;;
	5) cmd="-R $c $((RANDOM % (n + 1) + 1)) $(rand_rule)" ;;
	6) cmd="-N U$((RANDOM % 4))" ;;
	7) cmd="-A ${chains[0]} -j ${chains[$((RANDOM % ${#chains[@]}))]}" ;;
	8) cmd="-F $c" ;;
	9) cmd="-Z $c" ;;
	10) cmd="-P FORWARD $( ((RANDOM % 2)) && echo DROP || echo ACCEPT)" ;;
	esac
	# shellcheck disable=SC2086 # the command's words
	if "$V/viplb-tables" --offline "$st" $cmd >"$st.new" 2>/dev/null; then
		mv "$st.new" "$st"
		case $cmd in -N*) chains+=("${cmd#-N }") ;; esac
		ip netns exec "$E" "$V/viplb-tables" $cmd ||
			{ edit_why="nf_tables refused: $cmd"; break; }
	elif ip netns exec "$E" "$V/viplb-tables" $cmd 2>/dev/null; then
		edit_why="nf_tables took what the model refused: $cmd"
		break
	fi
	if ! diff -u <(grep -v '^#' "$st") \
		<(ip netns exec "$E" "$V/viplb-save" -t filter -c | grep -v '^#') \
		>"$TB_T/edit.diff"; then
		edit_why="after $cmd: $(cat "$TB_T/edit.diff")"
		break
	fi
done
check_eq "80 random edits in place on nf_tables equal the offline model" \
	"$edit_why" ""
# Several new rules before one kept rule, and after the last, in one
# restore --noflush: what --test --print said it would make.
printf '%s\n' '*filter' '-I INPUT 1 -p tcp --dport 1 -j ACCEPT' \
	'-I INPUT 2 -p tcp --dport 2 -j ACCEPT' \
	'-A INPUT -p tcp --dport 3 -j ACCEPT' \
	'-A INPUT -p tcp --dport 4 -j ACCEPT' 'COMMIT' >"$TB_T/noflush.rules"
ip netns exec "$E" "$V/viplb-tables" -A INPUT -j ACCEPT
ip netns exec "$E" "$V/viplb-restore" --noflush --test --print \
	<"$TB_T/noflush.rules" >"$TB_T/noflush.want"
ip netns exec "$E" "$V/viplb-restore" --noflush <"$TB_T/noflush.rules"
check_eq "restore --noflush inserts in place where --test --print says" \
	"$(ip netns exec "$E" "$V/viplb-save" -t filter | grep -v '^#')" \
	"$(cat "$TB_T/noflush.want")"

# ---- Concurrent edits lose nothing: each batch carries the ruleset
# generation its table was read at, and a command whose table changed
# meanwhile reads it again (without, about half the rules get lost).
ns_create M tnftc
pids=()
for i in $(seq 1 10); do
	ip netns exec "$M" "$V/viplb-tables" -A INPUT -s "192.0.2.$i" -j ACCEPT &
	pids+=($!)
done
wait "${pids[@]}"
check_eq "10 concurrent viplb-tables -A make 10 rules" \
	"$(ip netns exec "$M" "$V/viplb-save" | grep -c '^-A INPUT')" 10

# ---- Restore atomicity, as tables_diff.sh checks it for the module.
# shellcheck source=../tables/atomic.sh
. "$TB_DIR/atomic.sh"

kill "$TB_AGENT_PID" 2>/dev/null
wait "$TB_AGENT_PID" 2>/dev/null
viplb_finish
