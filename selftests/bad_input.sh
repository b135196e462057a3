#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Malformed commands.  Each one must
#   - exit with status 1,
#   - print nothing on stdout and exactly one line on stderr,
#   - quote the rejected value in that line (where there is one),
#   - leave the configuration unchanged (`viplb save` before == after).

. "$(dirname "$0")/lib.sh"

require_root
mod_fresh
dmesg_mark

for cmd in \
	"service add tcp 192.0.2.1:80" \
	"backend add tcp 192.0.2.1:80 198.51.100.1" \
	"backend add tcp 192.0.2.1:80 198.51.100.2:8080 weight 3" \
	"service add udp [2001:db8::1]:53 sched rr" \
	"backend add udp [2001:db8::1]:53 [2001:db8:1::1]"; do
	# shellcheck disable=SC2086
	"$VIPLB" $cmd || bail "setup: viplb $cmd"
done
BASE=$(save_config) || bail "setup: viplb save"
[ "$(printf '%s\n' "$BASE" | grep -v '^#' | grep -c .)" -eq 5 ] ||
	bail "setup: save prints 5 lines" "$BASE"

# bad TOKEN REGEX ARGS...: `viplb ARGS` must be rejected.  TOKEN ("-" for
# none) must appear literally in the error line; REGEX ("-" for none) must
# match it too (case-insensitive).
bad()
{
	b_tok=$1
	b_re=$2
	shift 2
	b_desc="viplb $*"
	[ ${#b_desc} -gt 90 ] && b_desc="${b_desc:0:87}..."
	vrun "$@"
	b_why=""
	[ "$rc" -eq 1 ] || b_why="$b_why exit $rc, not 1;"
	[ -z "$out" ] || b_why="$b_why stdout not empty;"
	b_lines=$(printf '%s' "$err" | grep -c '')
	[ "$b_lines" -eq 1 ] || b_why="$b_why $b_lines lines on stderr, not 1;"
	if [ "$b_tok" != - ] && ! printf '%s\n' "$err" | grep -qF -- "$b_tok"; then
		b_why="$b_why error does not quote '$b_tok';"
	fi
	if [ "$b_re" != - ] && ! printf '%s\n' "$err" | grep -qiE -- "$b_re"; then
		b_why="$b_why error does not match /$b_re/;"
	fi
	b_now=$(save_config 2>&1)
	[ "$b_now" = "$BASE" ] || b_why="$b_why configuration changed;"
	if [ -z "$b_why" ]; then
		pass "$b_desc"
		log "  $err"
	else
		fail "$b_desc" "$b_why" "stderr: $err" "stdout: $out"
		if [ "$b_now" != "$BASE" ]; then
			# Put the baseline back so one failure does not
			# cascade into every later case.
			printf '%s\n' "$BASE" | "$VIPLB" restore
		fi
	fi
}

ENOENT='no such|not found|not exist|does not exist'
EEXIST='exist'
LONG=$(printf 'a%.0s' $(seq 300))
LONGX=$(printf 'x%.0s' $(seq 300))

# Ports.
bad 80a - service add tcp 192.0.2.5:80a
bad 65536 - service add tcp 192.0.2.5:65536
bad -1 - service add tcp 192.0.2.5:-1
bad 70000 - backend add tcp 192.0.2.1:80 198.51.100.5:70000
bad 192.0.2.5 - service add tcp 192.0.2.5
# Addresses.
bad 192.0.2.300 - service add tcp 192.0.2.300:80
bad 2001:db8::zz - service add tcp '[2001:db8::zz]:80'
bad 2001:db8::5:80 - service add tcp 2001:db8::5:80
bad 2001:db8::5 - backend add tcp 192.0.2.1:80 '[2001:db8::5]:80'
bad 198.51.100.5 - backend add udp '[2001:db8::1]:53' 198.51.100.5
bad "${LONG:0:40}" - service add tcp "$LONG:80"
# Keywords: unknown, abbreviated, misplaced.
bad bogus - service add tcp 192.0.2.5:80 bogus 1
bad sch - service add tcp 192.0.2.5:80 sch maglev
bad mag - service add tcp 192.0.2.5:80 sched mag
bad ser - ser add tcp 192.0.2.5:80
bad ad - service ad tcp 192.0.2.5:80
bad nosnat - service add tcp 192.0.2.5:80 nosnat
bad extra - service del tcp 192.0.2.1:80 extra
bad frobnicate - frobnicate show
bad frob - service frob
bad frob - backend frob
bad -x - -x show
# Values.
bad foo 'rr.*wrr.*lc.*sh.*maglev' service add tcp 192.0.2.5:80 sched foo
bad "${LONGX:0:40}" - service add tcp 192.0.2.5:80 sched "$LONGX"
bad foo 'nat.*dr.*tun' service add tcp 192.0.2.5:80 mode foo
bad sctp - service add sctp 192.0.2.5:80
bad TCP - service add TCP 192.0.2.5:80
bad 100 - service add tcp 192.0.2.5:80 table-size 100
bad 250 - service add tcp 192.0.2.5:80 table-size 250
bad 65536 - service add tcp 192.0.2.5:80 table-size 65536
bad 1001 - service set tcp 192.0.2.1:80 table-size 1001
bad 131072 - service add tcp 192.0.2.5:80 table-size 131072
bad 262147 - service add tcp 192.0.2.5:80 table-size 262147
bad 131071x - service add tcp 192.0.2.5:80 table-size 131071x
bad 65536 - backend add tcp 192.0.2.1:80 198.51.100.5 weight 65536
bad -1 - backend add tcp 192.0.2.1:80 198.51.100.5 weight -1
bad abc - backend add tcp 192.0.2.1:80 198.51.100.5 weight abc
bad 65536 - backend set tcp 192.0.2.1:80 198.51.100.1 weight 65536
# Missing arguments.
bad - - service add tcp
bad - - service add
bad - - backend add tcp 192.0.2.1:80
bad - sched service add tcp 192.0.2.5:80 sched
bad - weight backend add tcp 192.0.2.1:80 198.51.100.5 weight
bad - weight backend set tcp 192.0.2.1:80 198.51.100.1
bad - - service set tcp 192.0.2.1:80
# The kernel says no.
bad - "$EEXIST" service add tcp 192.0.2.1:80
bad - "$EEXIST" service add udp '[2001:db8::1]:53' sched maglev
bad - "$EEXIST" backend add tcp 192.0.2.1:80 198.51.100.1
bad - "$EEXIST" backend add tcp 192.0.2.1:80 198.51.100.1:80 weight 9
bad - "$ENOENT" service del tcp 192.0.2.99:80
bad - "$ENOENT" service del udp 192.0.2.1:80
bad - "$ENOENT" service set tcp 192.0.2.99:80 sched rr
bad - "$ENOENT" backend add tcp 192.0.2.99:80 198.51.100.1
bad - "$ENOENT" backend del tcp 192.0.2.1:80 198.51.100.99
bad - "$ENOENT" backend set tcp 192.0.2.1:80 198.51.100.2 weight 1
bad - "$ENOENT" service show tcp 192.0.2.99:80
# A missing netns.
bad "viplb-nonexistent-$VIPLB_SUFFIX" - -n "viplb-nonexistent-$VIPLB_SUFFIX" show

check_eq "the configuration is the baseline at the end" "$(save_config)" "$BASE"
dmesg_check "no kernel warning"
viplb_finish
