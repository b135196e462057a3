#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# viplbd with XDP attached and no module: dr services served by XDP's
# maps, nat services by nf_tables, which follows the maps.  A backend
# shared by every service fails its checks: viplbd writes its weight 0
# into the maps for all three services at once, and nf_tables follows
# them once for the batch (target_apply_many()), so that both datapaths
# agree: the maps' weights, and the nat services' slot maps without the
# backend.  When it recovers, the weights come back the same way.  Then
# real traffic: new connections to both nat VIPs, from a client
# namespace, reach only the backends whose weight is not 0.  Then
# viplbd -x (tcp checks on AF_PACKET, replies at XDP): no reset from the
# stack, 30 resets lost on the way fail no check, a refusal still takes
# a backend down, and XDP detached and attached anew is followed.
#
#   client $C                director $D (viplbd, XDP on d1)
#   c0 203.0.113.2/24 ---- d0 203.0.113.1/24
#                          d1 198.51.100.1/24 ---- b0 198.51.100.2-4 ($B)
#
# nat 192.0.2.10:81 and 192.0.2.11:81 -> 198.51.100.2-4:8081, dr
# 192.0.2.12:8081 -> 198.51.100.2-4 (checked on port 8081); an echo server
# on each backend address, port 8081, that prints its address first.

. "$(dirname "$0")/xdp_ns.sh"

: "${VIPLB:=$(cd "$(dirname "$0")/../.." && pwd -P)/user/viplb/viplb}"
VIPLBD=${VIPLBD:-$(cd "$(dirname "$0")/../.." && pwd -P)/user/viplbd/viplbd}
. "$(dirname "$0")/../lib.sh"

require_root
require_cmd ip socat jq nft
xdp_ns_check
[ -x "$VIPLBD" ] || bail "$VIPLBD not built (make -C user)"

T=$VIPLB_TMP
SOCK=$T/viplbd.sock
ns_create C vxc
ns_create D vxd
ns_create B vxb

ip -n "$C" link add c0 type veth peer name d0 netns "$D"
ip -n "$C" addr add 203.0.113.2/24 dev c0
ip -n "$C" link set c0 up
ip -n "$C" route add default via 203.0.113.1
ip -n "$D" addr add 203.0.113.1/24 dev d0
ip -n "$D" link set d0 up
ip -n "$D" link add d1 type veth peer name b0 netns "$B"
ip -n "$D" addr add 198.51.100.1/24 dev d1
ip -n "$D" link set d1 up
for i in 2 3 4; do
	ip -n "$B" addr add 198.51.100.$i/24 dev b0
done
ip -n "$B" link set b0 up
ip -n "$B" route add default via 198.51.100.1
ip netns exec "$D" sysctl -qw net.ipv4.ip_forward=1

# echo_start I: the echo server of 198.51.100.I:8081, its PID in $T/echoI.
echo_start()
{
	ip netns exec "$B" socat \
		"TCP-LISTEN:8081,bind=198.51.100.$1,reuseaddr,fork" \
		"SYSTEM:echo 198.51.100.$1; cat" 2>/dev/null &
	echo $! >"$T/echo$1"
}
defer "ip netns pids $B | xargs -r kill"
for i in 2 3 4; do
	echo_start $i
done

v()
{
	viplb_in "$D" "$@"
}

TIMING="interval 200ms timeout 150ms rise 1 fall 1"
{
	for vip in 192.0.2.10 192.0.2.11; do
		echo "service add tcp $vip:81 sched rr mode nat"
		for i in 2 3 4; do
			echo "backend add tcp $vip:81 198.51.100.$i:8081"
		done
		echo "health tcp $vip:81 check tcp $TIMING"
	done
	echo "service add tcp 192.0.2.12:8081 sched rr mode dr"
	for i in 2 3 4; do
		echo "backend add tcp 192.0.2.12:8081 198.51.100.$i"
	done
	echo "health tcp 192.0.2.12:8081 check tcp port 8081 $TIMING"
} >"$T/viplb.conf"

# As a fresh machine: no bpffs, the first attach mounts it.
check_ok "xdp attach d1 (generic)" v xdp attach d1 mode generic
defer "$VIPLB -n $D xdp detach d1"
check_ok "viplb restore: two nat services and a dr one" \
	v restore "$T/viplb.conf"

ha_daemon vdpid "$D" "$T/viplbd.log" "$VIPLBD" -c "$T/viplb.conf" \
	-s "$SOCK" -r 1

# weights ADDR: the backend's weight in each service, from the maps
# (with XDP attached, viplb reads them), in the order of the services.
weights()
{
	"$VIPLB" -n "$D" -j show |
		jq -r "sort_by(.addr) | [.[] | .backends[] |
			select(.addr == \"$1\") | .weight] | map(tostring) |
			join(\" \")"
}

# slots ADDR: how many elements of the nat services' slot maps point at
# backend ADDR in nf_tables.
slots()
{
	ip netns exec "$D" nft -j list table inet viplb |
		jq "[.nftables[] | select(.map) | .map |
			select(.name | startswith(\"slots\")) | .elem // [] |
			.[] | tostring | select(contains(\"\\\"$1\\\"\"))] | length"
}

# wait_until MAX_S CMD...: poll CMD until it succeeds, for MAX_S seconds.
wait_until()
{
	wu_max=$(($1 * 20))
	shift
	wu_n=0
	until "$@"; do
		wu_n=$((wu_n + 1))
		[ $wu_n -le $wu_max ] || return 1
		sleep 0.05
	done
}

weights_are()
{
	[ "$(weights "$1")" = "$2" ]
}

# up N: N members up in viplb health show.
up()
{
	[ "$("$VIPLB" -j health show socket "$SOCK" 2>/dev/null |
		jq '[.[] | select(.state == "up")] | length')" = "$1" ]
}

if wait_until 10 up 9; then
	pass "viplbd: all 9 members up"
else
	fail "viplbd: all 9 members up" "$(cat "$T/viplbd.log")"
fi
check_eq "198.51.100.3: weight 1 in all three services (maps)" \
	"$(weights 198.51.100.3)" "1 1 1"
n3=$(slots 198.51.100.3)
n2=$(slots 198.51.100.2)
if [ "$n3" -ge 2 ] && [ "$n3" = "$n2" ]; then
	pass "nf_tables: 198.51.100.3 in the nat services' slots ($n3, as .2)"
else
	fail "nf_tables: 198.51.100.3 in the nat services' slots" \
		"slots of .3: $n3, of .2: $n2"
fi

# connect VIP: one connection through the VIP; prints the backend's
# address, which its echo server sends first.
connect()
{
	echo |
		ip netns exec "$C" timeout 5 socat -t 2 - "TCP:$1:81" 2>/dev/null |
		head -1
}

# spread VIP N: how many of N new connections were answered, and by
# which backends ("6: 198.51.100.2 198.51.100.4").
spread()
{
	for _ in $(seq "$2"); do
		connect "$1"
	done | grep . | sort | uniq -c |
		awk '{ n += $1; s = s " " $2 } END { print n + 0 ":" s }'
}

# phase DESC WEIGHTS SLOTS REACHED: .3's weights in the maps become
# WEIGHTS within 10 s, its slots in nf_tables number SLOTS, and of 6 new
# connections to each nat VIP, REACHED (see spread) are answered.
phase()
{
	if wait_until 10 weights_are 198.51.100.3 "$2"; then
		pass "$1: .3's weights in the three services (maps): $2"
	else
		fail "$1: .3's weights in the three services (maps): $2" \
			"weights: $(weights 198.51.100.3)" \
			"$(tail -5 "$T/viplbd.log")"
	fi
	check_eq "$1: nf_tables followed: .3's slots in the nat services" \
		"$(slots 198.51.100.3)" "$3"
	check_eq "$1: nf_tables: .2's slots as before" "$(slots 198.51.100.2)" \
		"$n2"
	for vip in 192.0.2.10 192.0.2.11; do
		check_eq "$1: $vip: 6 new connections, answered (by): $4" \
			"$(spread $vip 6)" "$4"
	done
}

kill "$(cat "$T/echo3")"
phase "198.51.100.3 fails" "0 0 0" 0 "6: 198.51.100.2 198.51.100.4"
echo_start 3
phase "198.51.100.3 recovers" "1 1 1" "$n3" \
	"6: 198.51.100.2 198.51.100.3 198.51.100.4"
check_eq "viplbd's log: 3 members down, then up again, and no other change" \
	"$(grep -c -- ' -> down' "$T/viplbd.log") $(grep -c -- 'down -> up' "$T/viplbd.log")" \
	"3 3"

if ha_stop "$vdpid"; then
	pass "viplbd stops on SIGTERM"
else
	fail "viplbd stops on SIGTERM" "$(tail -3 "$T/viplbd.log")"
fi

# viplbd -x: the same checks leave on AF_PACKET and viplb's XDP on d1
# takes their replies: the director's stack sends no reset (XDP does,
# XDP_TX), no backend sends a SYN-ACK again (each reset got there), and
# a refusal (.3's server killed) still takes .3 down, at XDP.
# tcp_mib NS FIELD: the Tcp counter FIELD of NS (/proc/net/snmp).
tcp_mib()
{
	# shellcheck disable=SC2016 # awk's, not the shell's
	ip netns exec "$1" awk -v f="$2" '/^Tcp:/ && !h { for (i = 1; i <= NF; i++) if ($i == f) c = i; h = 1; next }
		/^Tcp:/ { print $c }' /proc/net/snmp
}
synretrans()
{
	ip netns exec "$B" nstat -az TcpExtTCPSynRetrans |
		awk '$1 == "TcpExtTCPSynRetrans" { print $2 }'
}
xdp_tx()
{
	"$VIPLB" -n "$D" -j xdp stats | jq '.counters.tx // .tx // 0'
}
ha_daemon vdpid "$D" "$T/viplbd-x.log" "$VIPLBD" -x -c "$T/viplb.conf" \
	-s "$SOCK" -r 1
if wait_until 10 up 9; then
	pass "viplbd -x: all 9 members up"
else
	fail "viplbd -x: all 9 members up" "$(cat "$T/viplbd-x.log")"
fi
check_ok "viplbd -x: its log says the checks leave on AF_PACKET" \
	grep -q 'leave on AF_PACKET' "$T/viplbd-x.log"
r0=$(tcp_mib "$D" OutRsts)
a0=$(tcp_mib "$D" ActiveOpens)
s0=$(synretrans)
x0=$(xdp_tx)
sleep 2
# 9 members every 200 ms: about 90 checks in 2 s.
check_eq "viplbd -x: resets from the director's stack in 2 s" \
	"$(($(tcp_mib "$D" OutRsts) - r0))" 0
check_eq "viplbd -x: connect()s in 2 s" "$(($(tcp_mib "$D" ActiveOpens) - a0))" 0
check_eq "viplbd -x: SYN-ACKs sent again by the backends" \
	"$(($(synretrans) - s0))" 0
tx=$(($(xdp_tx) - x0))
if [ "$tx" -ge 45 ]; then
	pass "viplbd -x: resets sent by XDP in 2 s: $tx"
else
	fail "viplbd -x: resets sent by XDP in 2 s: $tx (want >= 45)" \
		"$("$VIPLB" -n "$D" xdp stats)"
fi
# Resets lost on the way (a full ring drops XDP_TX frames): the backends
# drop the first 30 that reach them.  Each leaves a half-open connection
# until the backend sends its SYN-ACK again, 1 s later; the three
# services' checks of one backend (15 a second, fall 1) take the held
# ports in turn, so none meets it: no check fails.
failed_sum()
{
	"$VIPLB" -j health show socket "$SOCK" | jq '[.[].failed] | add'
}
lost_rsts()
{
	ip netns exec "$B" nft -j list chain ip lossy pre |
		jq '[.nftables[] | select(.rule) | .rule.expr[] | select(.counter) | .counter.packets] | add'
}
lost_30()
{
	[ "$(lost_rsts)" -ge 30 ]
}
f0=$(failed_sum)
s0=$(synretrans)
d0=$(grep -c -- ' -> down' "$T/viplbd-x.log")
ip netns exec "$B" nft -f - <<EOF
table ip lossy {
	chain pre {
		type filter hook prerouting priority -300;
		tcp flags & rst == rst quota until 1200 bytes counter drop
	}
}
EOF
defer "ip netns exec $B nft delete table ip lossy 2>/dev/null"
wait_until 10 lost_30
sleep 3
check_eq "viplbd -x: resets dropped on the way to the backends" "$(lost_rsts)" 30
sr=$(($(synretrans) - s0))
if [ "$sr" -ge 1 ]; then
	pass "viplbd -x: ... the backends sent their SYN-ACKs again: $sr"
else
	fail "viplbd -x: ... the backends sent their SYN-ACKs again: $sr (want >= 1)"
fi
check_eq "viplbd -x: ... and no check failed" "$(($(failed_sum) - f0))" 0
check_eq "viplbd -x: ... no member went down" \
	"$(($(grep -c -- ' -> down' "$T/viplbd-x.log") - d0))" 0
ip netns exec "$B" nft delete table ip lossy
kill "$(cat "$T/echo3")"
if wait_until 10 weights_are 198.51.100.3 "0 0 0"; then
	pass "viplbd -x: .3 refused: weight 0 in the three services"
else
	fail "viplbd -x: .3 refused: weight 0 in the three services" \
		"$(tail -5 "$T/viplbd-x.log")"
fi
check_eq "viplbd -x: .3's checks failed as refused" \
	"$(grep -c -- '198.51.100.3:8081.* -> down.*refused' "$T/viplbd-x.log")" 3
echo_start 3
if wait_until 10 weights_are 198.51.100.3 "1 1 1"; then
	pass "viplbd -x: .3 back: weight 1 in the three services"
else
	fail "viplbd -x: .3 back: weight 1 in the three services" \
		"$(tail -5 "$T/viplbd-x.log")"
fi
# XDP detached under viplbd -x, then attached anew (new maps, the
# services restored): at its next sync (-r 1) viplbd sends its checks
# through the stack, then on AF_PACKET again, through the new maps.
gone_logged()
{
	grep -q "XDP program is gone" "$T/viplbd-x.log"
}
afpacket_twice()
{
	[ "$(grep -c 'leave on AF_PACKET' "$T/viplbd-x.log")" -eq 2 ]
}
check_ok "viplb xdp detach d1, under viplbd -x" v xdp detach d1
if wait_until 5 gone_logged; then
	pass "viplbd -x: logs that the XDP program is gone"
else
	fail "viplbd -x: logs that the XDP program is gone" \
		"$(tail -3 "$T/viplbd-x.log")"
fi
r0=$(tcp_mib "$D" OutRsts)
sleep 1
r=$(($(tcp_mib "$D" OutRsts) - r0))
if [ "$r" -ge 20 ]; then
	pass "viplbd -x: ... its checks go through the stack (its resets in 1 s: $r)"
else
	fail "viplbd -x: ... its checks go through the stack (its resets in 1 s: $r, want >= 20)"
fi
check_ok "viplb xdp attach d1 again, and restore" \
	sh -c "$VIPLB -n $D xdp attach d1 mode generic && $VIPLB -n $D restore $T/viplb.conf"
if wait_until 5 afpacket_twice; then
	pass "viplbd -x: logs that its checks leave on AF_PACKET again"
else
	fail "viplbd -x: logs that its checks leave on AF_PACKET again" \
		"$(tail -3 "$T/viplbd-x.log")"
fi
# A member whose check was in flight through the old maps sends its next
# one through the stack (no reply came that way): a round first.
sleep 1
r0=$(tcp_mib "$D" OutRsts)
x0=$(xdp_tx)
sleep 2
check_eq "viplbd -x: ... resets from the director's stack in 2 s" \
	"$(($(tcp_mib "$D" OutRsts) - r0))" 0
tx=$(($(xdp_tx) - x0))
if [ "$tx" -ge 45 ]; then
	pass "viplbd -x: ... resets sent by the new XDP program in 2 s: $tx"
else
	fail "viplbd -x: ... resets sent by the new XDP program in 2 s: $tx (want >= 45)"
fi
if wait_until 10 up 9 && wait_until 10 weights_are 198.51.100.3 "1 1 1"; then
	pass "viplbd -x: ... all 9 members up, weights in the new maps"
else
	fail "viplbd -x: ... all 9 members up, weights in the new maps" \
		"$("$VIPLB" health show socket "$SOCK" | grep -v ': up ')"
fi
if ha_stop "$vdpid"; then
	pass "viplbd -x stops on SIGTERM"
else
	fail "viplbd -x stops on SIGTERM" "$(tail -3 "$T/viplbd-x.log")"
fi
viplb_finish
