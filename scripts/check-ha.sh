#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/check-ha.sh: the high-availability tests, `make check-ha`.
# They do not fit in `make check`'s time budget, so each runs here in a
# QEMU VM boot of its own:
#
#   selftests/ha_ecmp.sh   3 directors behind ECMP and BGP (BIRD), Maglev
#                          and rr, dr and tun: connections through a
#                          director failing and coming back
#   selftests/ha_vrrp.sh   nat failover with keepalived (VRRP) and
#                          conntrackd (FTFW)
#
# Each test's lines are shown as "# " comments; then one result line per
# test.  The last line is exactly "N passed, N failed, N skipped"; the exit
# status is 1 if anything failed.
#
# Environment: VIPLB_HA_TESTS (a space-separated subset, e.g.
# "ha_vrrp.sh"), VIPLB_HA_LIMIT (seconds per VM run, default 1200).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1

tests=${VIPLB_HA_TESTS:-ha_ecmp.sh ha_vrrp.sh}
limit=${VIPLB_HA_LIMIT:-1200}
n=0
passed=0
failed=0
skipped=0
echo "TAP version 13"
for t in $tests; do
	n=$((n + 1))
	start=$(date +%s)
	selftests/vm/run -t "$limit" "selftests/$t" 2>&1 | sed 's/^/# /'
	rc=${PIPESTATUS[0]}
	secs=$(($(date +%s) - start))
	case $rc in
	0)
		echo "ok $n $t (${secs}s)"
		passed=$((passed + 1))
		;;
	4)
		echo "ok $n $t # SKIP (${secs}s)"
		skipped=$((skipped + 1))
		;;
	*)
		echo "not ok $n $t (exit $rc, ${secs}s)"
		failed=$((failed + 1))
		;;
	esac
done
echo "1..$n"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
