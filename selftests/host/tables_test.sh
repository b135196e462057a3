#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host test of viplb's iptables front end (user/tables/): the parser,
# the editing commands and every output format, offline, against what
# real iptables prints.  No kernel module is involved.
#
# The expected outputs in tables/ come from iptables-legacy 1.8.9 itself
# (tables/gen-expected.sh, run as root on Debian 12), except errors.txt
# and deviations4.save, written by hand:
#
#   rulesN.rules     -> expectedN.save   viplb-restore --test --print
#   listN.state      -> countersN.save   the same with -c
#   listN.cmds       -> listN.expected   viplb-tables --offline listN.state
#   editN.cmds       -> editN.expected   viplb-tables --offline editN.state
#   deviations4.rules -> deviations4.save (intended differences)
#   errors.txt       one-line errors and exit statuses
#   order_test.c     the match order bytes as dumped, and -Z (in C)
#
# --offline FILE and --print are hidden debugging aids of viplb-tables and
# viplb-restore: the table comes from a save-format file and results are
# printed in save format instead of reaching the kernel.
#
# Environment: VALGRIND="valgrind -q --error-exitcode=99 --leak-check=full"
# runs every command under valgrind; VIPLB_USER_DIR=DIR takes the tools
# from DIR instead of user/viplb/ (for instance a -fsanitize build).
set -u

cd "$(dirname "$0")" || exit 1
D=tables
USER_DIR=${VIPLB_USER_DIR:-$(cd ../../user/viplb && pwd)}
VALGRIND=${VALGRIND:-}
TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT

for c in viplb-tables viplb6-tables viplb-restore viplb6-restore; do
	if [ ! -x "$USER_DIR/$c" ]; then
		echo "not ok 1 - $USER_DIR/$c missing (make -C user)"
		exit 1
	fi
done

n=0
failed=0
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	[ $# -gt 0 ] && printf '%s\n' "$@" | sed 's/^/#   /'
}
# check NAME EXPECTED-FILE ACTUAL-FILE
check() {
	if cmp -s "$2" "$3"; then
		ok "$1"
	else
		not_ok "$1" "$(diff -u --label expected --label actual "$2" "$3" | head -40)"
	fi
}

# run PROG ARGS...: a tool of user/viplb/ under its iptables name.
run() {
	local prog=$1
	shift
	$VALGRIND "$USER_DIR/$prog" "$@"
}
t4() { run viplb-tables --offline "$D/edit4.state" "$@"; }
t6() { run viplb6-tables --offline "$D/edit6.state" "$@"; }
r4() { run viplb-restore --test "$@"; }
r6() { run viplb6-restore --test "$@"; }

echo "TAP version 13"

# 1. Parser and save printer: whole rule files.
for f in 4 6; do
	prog=viplb-restore
	[ $f = 6 ] && prog=viplb6-restore
	run $prog --test --print <"$D/rules$f.rules" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ $rc -ne 0 ] || [ -s "$TMP/err" ]; then
		not_ok "rules$f.rules: $prog --test --print exits 0" \
			"exit $rc" "$(cat "$TMP/err")"
	else
		check "rules$f.rules: save output equals iptables-legacy-save" \
			"$D/expected$f.save" "$TMP/out"
	fi
	# Our own output restores to itself.
	run $prog --test --print <"$D/expected$f.save" >"$TMP/again" 2>&1
	check "expected$f.save: save | restore | save is stable" \
		"$D/expected$f.save" "$TMP/again"
	run $prog --test --print -c <"$D/list$f.state" >"$TMP/out" 2>&1
	check "list$f.state: restore -c keeps counters as iptables-save -c" \
		"$D/counters$f.save" "$TMP/out"
done
r4 --print <"$D/deviations4.rules" >"$TMP/out" 2>&1
check "deviations4.rules: the documented differences" \
	"$D/deviations4.save" "$TMP/out"

# 2. Commands against a state: listing and editing, with iptables' output.
for f in 4 6; do
	prog=viplb-tables
	[ $f = 6 ] && prog=viplb6-tables
	for kind in list edit; do
		[ -r "$D/$kind$f.cmds" ] || continue
		: >"$TMP/out"
		errs=""
		while IFS= read -r line; do
			case $line in '' | '#'*) continue ;; esac
			echo "== $line" >>"$TMP/out"
			eval "set -- $line"
			run $prog --offline "$D/$kind$f.state" "$@" \
				>>"$TMP/out" 2>"$TMP/err"
			rc=$?
			echo "rc=$rc" >>"$TMP/out"
			# A failure (-C of a missing rule) has its own message.
			[ $rc = 0 ] && [ -s "$TMP/err" ] &&
				errs+="$line: $(cat "$TMP/err")"$'\n'
		done <"$D/$kind$f.cmds"
		if [ -n "$errs" ]; then
			not_ok "$kind$f.cmds: no error output" "$errs"
		else
			check "$kind$f.cmds: output equals iptables-legacy" \
				"$D/$kind$f.expected" "$TMP/out"
		fi
	done
done

# 3. JSON listing: valid, and the rules are the -S lines.
if command -v python3 >/dev/null; then
	run viplb-tables --offline "$D/list4.state" --json -L >"$TMP/json" 2>&1
	run viplb-tables --offline "$D/list4.state" -S >"$TMP/S" 2>&1
	if python3 - "$TMP/json" "$TMP/S" <<'EOF'; then
import json, sys
doc = json.load(open(sys.argv[1]))
rules = [l.rstrip("\n") for l in open(sys.argv[2]) if l.startswith("-A ")]
assert doc["family"] == "ipv4" and doc["table"] == "filter"
names = [c["name"] for c in doc["chains"]]
assert names == ["INPUT", "FORWARD", "OUTPUT", "ALPHA", "empty", "zeta"], names
assert doc["chains"][0]["policy"] == "DROP"
assert doc["chains"][0]["packets"] == 123456789
assert doc["chains"][3]["policy"] is None
assert doc["chains"][5]["references"] == 4
got = [r["rule"] for c in doc["chains"] for r in c["rules"]]
assert got == rules, (got, rules)
first = doc["chains"][0]["rules"][0]
assert first["num"] == 1 and first["packets"] == 1 and first["bytes"] == 2
assert first["handle"] is None
EOF
		ok "--json -L: valid JSON, rules as -S prints them"
	else
		not_ok "--json -L: valid JSON, rules as -S prints them" \
			"$(head -c 2000 "$TMP/json")"
	fi
else
	echo "ok $((n + 1)) - --json -L # SKIP no python3"
	n=$((n + 1))
fi

# 4. Errors: one line, the exact message, the exit status, no stdout.
bad=""
cases=0
while IFS='|' read -r status msg cmd; do
	case $status in '' | '#'*) continue ;; esac
	cases=$((cases + 1))
	eval "$cmd" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	got=$(cat "$TMP/err")
	if [ "$rc" != "$status" ] || [ "$got" != "$msg" ] || [ -s "$TMP/out" ]; then
		bad+="$cmd"$'\n'"  want $status: $msg"$'\n'"  got  $rc: $got"$'\n'
	fi
done <"$D/errors.txt"
if [ -z "$bad" ] && [ $cases -gt 100 ]; then
	ok "errors.txt: $cases error cases"
else
	not_ok "errors.txt: $cases error cases" "$bad"
fi

# 5. The restore tokenizer: quotes as iptables-restore splits them.
printf '%s\n' '*filter' \
	'-A INPUT -m comment --comment a"b c" -j ACCEPT' \
	'-A INPUT -m comment --comment "x"-j ACCEPT' \
	'-A INPUT -m comment --comment "a\"b\\c\n" -j ACCEPT' \
	'-A INPUT -m comment --comment x"" -j ACCEPT' \
	'	-A  INPUT	-j  DROP  ' 'COMMIT' | r4 --print >"$TMP/out" 2>&1
printf '%s\n' '*filter' ':INPUT ACCEPT [0:0]' ':FORWARD ACCEPT [0:0]' \
	':OUTPUT ACCEPT [0:0]' \
	'-A INPUT -m comment --comment "ab c" -j ACCEPT' \
	'-A INPUT -m comment --comment x -j ACCEPT' \
	'-A INPUT -m comment --comment "a\"b\\cn" -j ACCEPT' \
	'-A INPUT -m comment --comment x -j ACCEPT' \
	'-A INPUT -j DROP' 'COMMIT' >"$TMP/want"
check "restore tokenizer: quotes and blanks" "$TMP/want" "$TMP/out"

# 6. Restore semantics: tables replaced whole or with --noflush, -T.
printf '%s\n' '*filter' ':INPUT DROP [1:2]' ':X - [0:0]' '-A X -j ACCEPT' \
	'COMMIT' '*filter' '-A INPUT -j ACCEPT' 'COMMIT' '*nat' \
	':POSTROUTING ACCEPT [3:4]' 'COMMIT' >"$TMP/in"
r4 --print -T filter -c <"$TMP/in" >"$TMP/out" 2>&1
printf '%s\n' '*filter' ':INPUT ACCEPT [0:0]' ':FORWARD ACCEPT [0:0]' \
	':OUTPUT ACCEPT [0:0]' '[0:0] -A INPUT -j ACCEPT' 'COMMIT' >"$TMP/want"
check "restore: a table given twice starts over; -T keeps one table" \
	"$TMP/want" "$TMP/out"

# 7. The match order bytes (VIPLB_RULES_A_MATCH_ORDER) and -Z, in C:
# dumped bytes that no save-format file can hold.
CC=${CC:-cc}
if command -v "$CC" >/dev/null; then
	src=../../user
	if "$CC" -O2 -g -Wall -Wextra -I../../include/uapi \
		-I../../include -I$src/lib -I$src/tables \
		-o "$TMP/order_test" "$D/order_test.c" \
		$src/tables/libviplb-tables.a $src/lib/libviplb.a \
		-lmnl -lm >"$TMP/err" 2>&1; then
		if $VALGRIND "$TMP/order_test" >"$TMP/out" 2>&1; then
			ok "order_test.c: $(grep -c '^ok' "$TMP/out") checks of the match order and -Z"
		else
			not_ok "order_test.c: the match order and -Z" \
				"$(grep -v '^ok' "$TMP/out")"
		fi
	else
		not_ok "order_test.c builds" "$(head -20 "$TMP/err")"
	fi
else
	n=$((n + 1))
	echo "ok $n - order_test.c # SKIP no C compiler"
fi

if [ $failed -eq 0 ]; then
	echo "# $n checks passed"
	exit 0
fi
echo "# $failed of $n checks failed"
exit 1
