#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# viplb's own cases in the format of iptables' extensions/*.t
# (tables/t/), through viplb-tables, viplb-save and the module, each file
# in a fresh netns (tables/iptables_t.py).  The host suite runs the same
# cases against Debian's iptables-legacy and viplb-tables --offline
# (selftests/host/tables_t_test.sh).  To compare against a whole iptables
# source tree's files:  tables/iptables_t.py --netns --allow-refused DIR

. "$(dirname "$0")/lib.sh"

require_root
require_cmd python3
U=$VIPLB_ROOT/user/viplb
[ -x "$U/viplb-tables" ] || bail "$U/viplb-tables not built (make)"
mod_fresh
dmesg_mark

# Two files at a time, each in a netns of its own: the VM has 2 CPUs.
out=$(python3 "$VIPLB_SELFTESTS/tables/iptables_t.py" --netns --jobs 2 --variant VIPLB \
	-4 "$U/viplb-tables" -6 "$U/viplb6-tables" \
	-s4 "$U/viplb-save" -s6 "$U/viplb6-save" "$VIPLB_SELFTESTS/tables/t" 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/#   /'
if [ $rc = 0 ]; then
	pass "iptables .t cases: $(sed -n 's/^# totals: //p' <<<"$out")"
else
	fail "iptables .t cases (exit $rc)"
fi
dmesg_check "no kernel warning"
viplb_finish
