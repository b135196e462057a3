#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# viplb's own cases in the format of iptables' extensions/*.t
# (selftests/tables/t/), run by selftests/tables/iptables_t.py twice:
#   1. against Debian's iptables-legacy, each file in a fresh netns: the
#      cases say what iptables itself does (this host's kernel has
#      ip_tables built in, though it cannot load modules);
#   2. against viplb-tables --offline (the parser and listing, no kernel).
# The VM runs them a third time against viplb-tables and the module
# (selftests/tables_t.sh).
set -u
cd "$(dirname "$0")" || exit 1
T=../tables/t
RUN=../tables/iptables_t.py
U=$(cd ../../user/viplb && pwd)

echo "1..2"
for c in iptables-legacy ip6tables-legacy iptables-legacy-save \
	ip6tables-legacy-save python3; do
	command -v "$c" >/dev/null ||
		{ echo "not ok 1 - $c missing (scripts/deps.sh)"; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (netns)"; exit 4; }

n=0
fail=0
# run DESC ARGS...: one result for a run of iptables_t.py.
run()
{
	local d=$1 out rc
	shift
	n=$((n + 1))
	out=$(python3 "$RUN" "$@" "$T" 2>&1)
	rc=$?
	printf '%s\n' "$out" | sed 's/^/# /'
	if [ $rc = 0 ]; then
		echo "ok $n - $d: $(sed -n 's/^# totals: //p' <<<"$out")"
	else
		echo "not ok $n - $d (exit $rc)"
		fail=1
	fi
}

run "iptables-legacy" --netns -4 iptables-legacy -6 ip6tables-legacy \
	-s4 iptables-legacy-save -s6 ip6tables-legacy-save
run "viplb-tables --offline" --offline --variant VIPLB \
	-4 "$U/viplb-tables" \
	-6 "$U/viplb6-tables"
exit $fail
