# SPDX-License-Identifier: GPL-2.0
#
# tables/atomic.sh: restore atomicity, sourced by tables_diff.sh (viplb
# runs only; iptables-restore commits table by table, so it is no
# reference here).
#
# atomic_old.rules is loaded and traffic runs: four connections to the
# nth-balanced service (s1 s2 s3 s1), SSH reset, HTTPS dropped.  Then
# viplb-restore < atomic_bad.rules, whose filter table is complete and
# committed in the file before the nat table's last rule line goes wrong,
# must exit non-zero and report "line N:" with N that line and the bad
# token; `viplb-save -c` must be byte for byte what it was; and the same
# traffic again must still see the old rules, the nth counters going on
# where they were (s2 s3).  Last, the control: atomic_bad.rules without
# its bad line loads, and the same traffic changes (s3 s3, SSH and HTTPS
# answered): the checks above could have failed.

at_bad=$TB_DIR/atomic_bad.rules
at_good=$TB_T/atomic_good.rules
at_token=203.0.113.300
at_n=0
at_line=0
while IFS= read -r l; do
	at_n=$((at_n + 1))
	case $l in
	*"$at_token"*) at_line=$at_n ;;
	*) printf '%s\n' "$l" ;;
	esac
done <"$at_bad" >"$at_good"

# at_traffic N: N connections to the service, then SSH and HTTPS to s1;
# the outcome lines in $TB_REC, emptied first.
at_traffic()
{
	local i
	: >"$TB_REC"
	for ((i = 0; i < $1; i++)); do
		conn tcp c 192.0.2.10 80
	done
	conn tcp c 198.51.100.11 22
	conn tcp c 198.51.100.11 443
}

# at_restore FILE: viplb-restore FILE in the router; $at_rc, $at_err.
at_restore()
{
	tb_rexec "$1" "$TB_T/atomic.out" "$TB_T/atomic.err" \
		"$VIPLB_ROOT/user/viplb/viplb-restore"
	at_rc=$?
	at_err=$(<"$TB_T/atomic.err")
}

TB_REC=$TB_T/atomic.rec
if ! tb_topo; then
	fail "atomic: topology" "$TB_REPLY"
	tb_teardown
else
	at_restore "$TB_DIR/atomic_old.rules"
	check_eq "atomic: viplb-restore of the working ruleset" \
		"exit $at_rc $at_err" "exit 0 "
	at_traffic 4
	check_eq "atomic: the working ruleset works" "$(<"$TB_REC")" \
"tcp c->192.0.2.10:80 ok s1:80 saw 203.0.113.2
tcp c->192.0.2.10:80 ok s2:80 saw 203.0.113.2
tcp c->192.0.2.10:80 ok s3:80 saw 203.0.113.2
tcp c->192.0.2.10:80 ok s1:80 saw 203.0.113.2
tcp c->198.51.100.11:22 refused rst
tcp c->198.51.100.11:443 timeout"
	tb_rexec - "$TB_T/atomic.before" "$TB_T/atomic.err2" \
		"$VIPLB_ROOT/user/viplb/viplb-save" -c
	at_restore "$at_bad"
	if [ "$at_rc" -ne 0 ]; then
		pass "atomic: viplb-restore with an error on line $at_line fails (exit $at_rc)"
	else
		fail "atomic: viplb-restore with an error on line $at_line fails" \
			"exit 0, stderr: $at_err"
	fi
	case $at_err in
	*"line $at_line:"*"$at_token"*)
		pass "atomic: the error names line $at_line and $at_token" ;;
	*)
		fail "atomic: the error names line $at_line and $at_token" \
			"stderr: $at_err" ;;
	esac
	tb_rexec - "$TB_T/atomic.after" "$TB_T/atomic.err3" \
		"$VIPLB_ROOT/user/viplb/viplb-save" -c
	if [ -s "$TB_T/atomic.before" ] &&
	   tb_agent same "$TB_T/atomic.before" "$TB_T/atomic.after" nocomments &&
	   [ "$TB_REPLY" = same ]; then
		pass "atomic: rules and counters unchanged after the failed restore"
	else
		fail "atomic: rules and counters unchanged after the failed restore" \
			"viplb-save -c before: $(<"$TB_T/atomic.before")" \
			"$(<"$TB_T/atomic.err2")" \
			"viplb-save -c after: $(<"$TB_T/atomic.after")" \
			"$(<"$TB_T/atomic.err3")"
	fi
	at_traffic 2
	check_eq "atomic: the old rules still in force, nth going on" \
		"$(<"$TB_REC")" \
"tcp c->192.0.2.10:80 ok s2:80 saw 203.0.113.2
tcp c->192.0.2.10:80 ok s3:80 saw 203.0.113.2
tcp c->198.51.100.11:22 refused rst
tcp c->198.51.100.11:443 timeout"
	at_restore "$at_good"
	check_eq "atomic: control: the same file without line $at_line loads" \
		"exit $at_rc $at_err" "exit 0 "
	at_traffic 2
	check_eq "atomic: control: ... and changes the outcome" "$(<"$TB_REC")" \
"tcp c->192.0.2.10:80 ok s3:80 saw 203.0.113.2
tcp c->192.0.2.10:80 ok s3:80 saw 203.0.113.2
tcp c->198.51.100.11:22 ok s1:22 saw 203.0.113.2
tcp c->198.51.100.11:443 ok s1:443 saw 203.0.113.2"
	tb_teardown
fi
