#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Per-netns configuration:
#
#   init netns        A (viplb -n A)        B (ip netns exec B)
#   tcp 192.0.2.1:80  tcp 192.0.2.1:80      tcp 192.0.2.1:80
#   sched maglev      sched rr, 2 backends  sched lc, 1 backend
#
# The same service key lives independently in each; what one netns does
# is invisible to the others; deleting a netns that still has services
# is clean, and so is unloading the module afterwards.

. "$(dirname "$0")/lib.sh"

require_root
require_cmd jq
mod_fresh
dmesg_mark

ns_create A lbA
ns_create B lbB

keys='[.[] | "\(.proto) \(.vip) \(.port) \(.sched) \(.backends | length)"]'

check_viplb "-n $A: add tcp 192.0.2.1:80 sched rr" \
	-n "$A" service add tcp 192.0.2.1:80 sched rr
check_viplb "-n $A: backend 198.51.100.1" \
	-n "$A" backend add tcp 192.0.2.1:80 198.51.100.1
check_viplb "-n $A: backend 198.51.100.2" \
	-n "$A" backend add tcp 192.0.2.1:80 198.51.100.2 weight 2
check_jq "$A has it" "$keys == [\"tcp 192.0.2.1 80 rr 2\"]" -n "$A"
check_jq "$B does not (viplb -n)" '. == []' -n "$B"
o=$(ip netns exec "$B" "$VIPLB" -j show 2>&1)
check_eq "$B does not (ip netns exec)" "$o" "[]"
check_jq "the init netns does not" '. == []'
o=$(ip netns exec "$A" "$VIPLB" -j show 2>&1 | jq -r "$keys | .[]" 2>&1)
check_eq "ip netns exec $A sees the same as viplb -n $A" \
	"$o" "tcp 192.0.2.1 80 rr 2"

# The same key in B and in the init netns, with other settings.
check_ok "ip netns exec $B: add the same key, sched lc" \
	ip netns exec "$B" "$VIPLB" service add tcp 192.0.2.1:80 sched lc
check_ok "ip netns exec $B: one backend" \
	ip netns exec "$B" "$VIPLB" backend add tcp 192.0.2.1:80 203.0.113.1
check_viplb "init netns: add the same key" service add tcp 192.0.2.1:80
check_jq "$A unchanged" "$keys == [\"tcp 192.0.2.1 80 rr 2\"]" -n "$A"
check_jq "$B has its own" "$keys == [\"tcp 192.0.2.1 80 lc 1\"]" -n "$B"
check_jq "init netns has its own" "$keys == [\"tcp 192.0.2.1 80 maglev 0\"]"

# Changes stay in their netns.
check_viplb "-n $B: backend set weight 9" \
	-n "$B" backend set tcp 192.0.2.1:80 203.0.113.1 weight 9
check_jq "$B weight 9" '.[0].backends[0].weight == 9' -n "$B"
check_jq "$A weights untouched" \
	'[.[0].backends[].weight] | sort == [1, 2]' -n "$A"
check_viplb "-n $A: flush" -n "$A" flush
check_jq "$A empty" '. == []' -n "$A"
check_jq "$B still has its service" "$keys == [\"tcp 192.0.2.1 80 lc 1\"]" -n "$B"
check_jq "init netns still has its service" \
	"$keys == [\"tcp 192.0.2.1 80 maglev 0\"]"
check_viplb "-n $A: add again after the flush" \
	-n "$A" service add udp '[2001:db8::1]:53'
check_ok "-n $A: restore replaces only $A" sh -c \
	"printf 'service add udp 192.0.2.9:53\n' | \"$VIPLB\" -n \"$A\" restore"
check_jq "$A holds the restored service" \
	"$keys == [\"udp 192.0.2.9 53 maglev 0\"]" -n "$A"
check_jq "$B untouched by the restore" \
	"$keys == [\"tcp 192.0.2.1 80 lc 1\"]" -n "$B"

# Delete a configured netns.
ns_del "$B"
check_jq "init netns untouched by deleting $B" \
	"$keys == [\"tcp 192.0.2.1 80 maglev 0\"]"
check_jq "$A untouched by deleting $B" \
	"$keys == [\"udp 192.0.2.9 53 maglev 0\"]" -n "$A"

# Many namespaces with services, deleted at once.
i=0
many=""
while [ $i -lt 10 ]; do
	ns_create n "lbM$i"
	many="$many $n"
	"$VIPLB" -n "$n" service add tcp 192.0.2.1:80 &&
		"$VIPLB" -n "$n" backend add tcp 192.0.2.1:80 198.51.100.$((i + 1)) ||
		fail "configure netns $n"
	i=$((i + 1))
done
n=0
for ns in $many; do
	[ "$(jq_val length -n "$ns")" = 1 ] && n=$((n + 1))
done
check_eq "10 more netns hold one service each" "$n" 10
for ns in $many; do
	ns_del "$ns"
done
pass "10 configured netns deleted"

# Unload with A (configured) still alive, after the deletions.
check_ok "rmmod with configured netns alive and deleted" rmmod viplb
ns_del "$A"
check_ok "reload" mod_load
check_jq "init netns empty after the reload" '. == []'
dmesg_check "no kernel warning"
viplb_finish
