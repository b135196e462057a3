#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# How VIP services and the rule tables interact, with real traffic through
# the nat topology of lib.sh (client -> director -> real servers b1..b3,
# whose port 81 answers "NAME CLIENT-ADDRESS").  In the director:
#
#   service  tcp 192.0.2.20:81 -> b1             (viplb service, nat mode)
#   nat      PREROUTING -d 192.0.2.20 DNAT -> b2  (same VIP: never used)
#   nat      PREROUTING -d 192.0.2.21 DNAT -> b2  (no service there)
#
# 1. nat stage: the service is chosen first; the nat rule for its VIP
#    never sees the connection (its counter stays 0); a VIP without a
#    service goes through the nat rule.
# 2. filter stage: a FORWARD rule that rejects the backend address b1
#    refuses the service's connections: filter sees the translated
#    destination, after both services and nat rules.
# 3. IPv6: the same order.

. "$(dirname "$0")/lib.sh"

require_root
lb_need_cmd socat python3
TABLES=$VIPLB_ROOT/user/viplb/viplb-restore
[ -x "$TABLES" ] || bail "$TABLES not built (make)"
mod_fresh
dmesg_mark
lb_topo
lb_servers

C=$LB_C
D=$LB_D
T=$VIPLB_TMP

# hello FAMILY VIP: the first line a connection to VIP:81 gets, or the
# error.
hello()
{
	local addr=$2

	[ "$1" = 6 ] && addr="[$addr]"
	ip netns exec "$C" socat -T 5 - "TCP:$addr:81,connect-timeout=5" \
		</dev/null 2>&1 | head -n 1
}

# counter TABLE-FAMILY RULE-REGEX: the packet counter of the rule that
# viplb-save -c prints as matching RULE-REGEX.
counter()
{
	local save=viplb-save

	[ "$1" = 6 ] && save=viplb6-save
	ip netns exec "$D" "$VIPLB_ROOT/user/viplb/$save" -c -t "$2" |
		sed -n "s/^\[\([0-9]*\):[0-9]*\] $3.*/\1/p"
}

for f in 4 6; do
	if [ $f = 4 ]; then
		svc=192.0.2.20 other=192.0.2.21 cli=$LB_CLI4 restore=viplb-restore
		b1=$(lb_be4 1) b2=$(lb_be4 2) len=32 vip_s=$svc
	else
		svc=2001:db8::20 other=2001:db8::21 cli=$LB_CLI6 \
			restore=viplb6-restore
		b1=$(lb_be6 1) b2=$(lb_be6 2) len=128 vip_s="[$svc]"
	fi
	b2_s=$b2
	[ $f = 6 ] && b2_s="[$b2]"
	check_viplb "IPv$f: a service $svc:81 with backend b1" -n "$D" \
		service add tcp "$vip_s:81"
	check_viplb "IPv$f: its backend b1" -n "$D" backend add tcp \
		"$vip_s:81" "$([ $f = 6 ] && echo "[$b1]" || echo "$b1"):81"

	ip netns exec "$D" "$VIPLB_ROOT/user/viplb/$restore" <<-EOF
	*nat
	:PREROUTING ACCEPT [0:0]
	:INPUT ACCEPT [0:0]
	:OUTPUT ACCEPT [0:0]
	:POSTROUTING ACCEPT [0:0]
	-A PREROUTING -d $svc/$len -p tcp -m tcp --dport 81 -j DNAT --to-destination $b2_s:81
	-A PREROUTING -d $other/$len -p tcp -m tcp --dport 81 -j DNAT --to-destination $b2_s:81
	COMMIT
	EOF
	check_eq "IPv$f: the nat rules load" $? 0

	check_eq "IPv$f: the service's VIP is served by the service (b1)" \
		"$(hello $f $svc)" "b1 $cli"
	check_eq "IPv$f: the nat rule for that VIP never saw the connection" \
		"$(counter $f nat "-A PREROUTING -d $svc")" 0
	check_eq "IPv$f: a VIP without a service goes through the nat rule (b2)" \
		"$(hello $f $other)" "b2 $cli"
	check_eq "IPv$f: that nat rule counted the connection" \
		"$(counter $f nat "-A PREROUTING -d $other")" 1

	ip netns exec "$D" "$VIPLB_ROOT/user/viplb/$restore" <<-EOF
	*filter
	:INPUT ACCEPT [0:0]
	:FORWARD ACCEPT [0:0]
	:OUTPUT ACCEPT [0:0]
	-A FORWARD -d $b1/$len -p tcp -m tcp --dport 81 -j REJECT --reject-with tcp-reset
	COMMIT
	EOF
	check_eq "IPv$f: a filter rule rejecting the backend address loads" $? 0
	out=$(hello $f $svc)
	check_grep "IPv$f: filter sees the service's translated destination: refused" \
		"[Cc]onnection refused" "$out"
	check_eq "IPv$f: the filter rule counted that SYN" \
		"$(counter $f filter "-A FORWARD -d $b1")" 1
	check_eq "IPv$f: the other VIP (to b2) still works" \
		"$(hello $f $other)" "b2 $cli"
done

lb_teardown
check_ok "the module unloads with rules and services loaded" mod_unload
dmesg_check "the kernel log is clean"
viplb_finish
