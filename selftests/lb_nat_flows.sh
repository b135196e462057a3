#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# nat mode: what happens to flows.  Same topology as lb_nat.sh (lb_topo in
# lib.sh): a client, a director running viplb, three real servers that
# echo TCP on 8080, echo UDP on 8053 and greet on 81.
#
#   UDP           successive datagrams of one flow stay on one backend
#   related ICMP  a backend's port unreachable reaches the client,
#                 translated back (ECONNREFUSED on its connected socket)
#   stats         after `stats zero`, 20 connections count exactly 20, and
#                 packets within TCP's slack
#   restore       counters, the stats zero baseline and active flows carry
#                 over to the restored services and backends
#   backend del   without flush an open TCP stream finishes intact; with
#                 flush its conntrack entry is dropped and the stream dies
#   flush         an open TCP stream of the last service finishes intact
#                 (the NAT lookups stay while connections are counted)

. "$(dirname "$0")/lib.sh"

require_root
lb_need_cmd conntrack jq python3
mod_fresh
dmesg_mark
lb_topo
lb_servers

C=$LB_C
D=$LB_D
UDP=192.0.2.30		# udp :53 -> :8053 on all three (maglev)
ICMP=192.0.2.31		# udp :54 -> :9999, where nothing listens
STATS=192.0.2.32	# tcp :81 -> :81 (rr)
DEL=192.0.2.33		# tcp :80 -> :8080 on b1 only
DELF=192.0.2.34		# tcp :80 -> :8080 on b2 only
LAST=192.0.2.35		# tcp :80 -> :8080 on b3 only, then flush

{
	echo "service add udp $UDP:53"
	echo "service add udp $ICMP:54"
	echo "service add tcp $STATS:81 sched rr"
	echo "service add tcp $DEL:80"
	echo "service add tcp $DELF:80"
	for i in 1 2 3; do
		echo "backend add udp $UDP:53 $(lb_be4 $i):8053"
		echo "backend add udp $ICMP:54 $(lb_be4 $i):9999"
		echo "backend add tcp $STATS:81 $(lb_be4 $i):81"
	done
	echo "backend add tcp $DEL:80 $(lb_be4 1):8080"
	echo "backend add tcp $DELF:80 $(lb_be4 2):8080"
} >"$VIPLB_TMP/config"
check_viplb "configure the director" -n "$D" -b "$VIPLB_TMP/config" ||
	bail "cannot configure the director"

# per-backend pkts_in of a service, as "N1 N2 N3"
be_pkts()
{
	viplb -n "$D" -j stats $1 |
		jq -r '[.[0].backends[].stats.pkts_in] | map(tostring) | join(" ")'
}

# ---- UDP: one flow, ten datagrams, one backend
before=$(be_pkts "udp $UDP:53")
out=$(ip netns exec "$C" python3 -S -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.bind(("0.0.0.0", 40053))
s.connect((sys.argv[1], 53))
ok = 0
for i in range(10):
    s.send(b"datagram %d" % i)
    if s.recv(100) == b"datagram %d" % i:
        ok += 1
print(ok)
' "$UDP" 2>&1)
check_eq "udp: 10 datagrams of one flow answered" "$out" 10
after=$(be_pkts "udp $UDP:53")
moved=$(python3 -S -c '
import sys
b, a = sys.argv[1].split(), sys.argv[2].split()
print(sorted(int(y) - int(x) for x, y in zip(b, a)))
' "$before" "$after")
check_eq "udp: all 10 on one backend (per-backend deltas)" "$moved" "[0, 0, 10]"

# ---- related ICMP: port unreachable from the backend, translated back
out=$(ip netns exec "$C" python3 -S -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect((sys.argv[1], 54))
s.send(b"anyone?")
try:
    s.recv(100)
    print("answered")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")
' "$ICMP" 2>&1)
check_eq "related ICMP: the backend's port unreachable reaches the client" \
	"$out" refused
ct=$(ip netns exec "$D" conntrack -L -p udp --orig-dst "$ICMP" 2>/dev/null |
	grep -c "dport=54 .*sport=9999")
check_eq "related ICMP: conntrack has the translated UDP entry" "$ct" 1

# ---- stats match the traffic
check_viplb "stats zero" -n "$D" stats zero tcp "$STATS:81"
out=$(ip netns exec "$C" python3 -S -c '
import socket, sys
n = 0
for i in range(20):
    s = socket.create_connection((sys.argv[1], 81), timeout=5)
    s.shutdown(socket.SHUT_WR)
    if s.recv(100):
        n += 1
    s.close()
print(n)
' "$STATS" 2>&1)
check_eq "stats: 20 connections answered" "$out" 20
js=$(viplb -n "$D" -j stats tcp "$STATS:81")
check_eq "stats: conns is exactly 20" "$(jq '.[0].stats.conns' <<<"$js")" 20
check_eq "stats: backend conns 7+7+6" \
	"$(jq -c '[.[0].backends[].stats.conns] | sort' <<<"$js")" "[6,7,7]"
pin=$(jq '.[0].stats.pkts_in' <<<"$js")
# SYN, ACK, FIN, ACK of the reply data and FIN: 4 or 5 each, plus slack
if [ "$pin" -ge 80 ] && [ "$pin" -le 120 ]; then
	pass "stats: pkts_in $pin is 4-6 per connection"
else
	fail "stats: pkts_in $pin is not 4-6 per connection"
fi

# ---- backend del: a stream goes on without flush, dies with flush
# stream VIP DELCMD...: send 64 KiB, run DELCMD halfway, send 64 KiB more;
# prints "intact" if all 128 KiB came back, else what went wrong.
stream()
{
	local vip=$1

	shift
	ip netns exec "$C" python3 -S -c '
import os, socket, subprocess, sys
s = socket.create_connection((sys.argv[1], 80), timeout=5)
data = os.urandom(131072)
got = bytearray()
try:
    for half in (0, 1):
        chunk = data[half * 65536:(half + 1) * 65536]
        s.sendall(chunk)
        while len(got) < (half + 1) * 65536:
            b = s.recv(65536)
            if not b:
                raise ConnectionResetError("eof")
            got += b
        if half == 0:
            subprocess.run(sys.argv[2:], check=True)
    print("intact" if bytes(got) == data else "corrupt")
except OSError as e:
    print("broken: %s" % e)
' "$vip" "$@" 2>&1
}

# ---- restore: the counters, the stats zero baseline and active carry on
# viplb restore of the saved config builds new services and backends; they
# take over the counters of those they replace.  Mid-stream, the open
# connection to $DEL counts as active before and after.
viplb -n "$D" save >"$VIPLB_TMP/saved" || fail "viplb save"
out=$(stream "$DEL" ip netns exec "$D" sh -c "
	viplb -j stats tcp $DEL:80 >$VIPLB_TMP/active.before &&
	viplb restore $VIPLB_TMP/saved &&
	viplb -j stats tcp $DEL:80 >$VIPLB_TMP/active.after")
check_eq "restore: an open stream finishes intact" "$out" intact
check_eq "restore: active 1 before and after, service and backend" \
	"$(jq -c '[.[0].stats.active, .[0].backends[0].stats.active]' \
		"$VIPLB_TMP/active.before" "$VIPLB_TMP/active.after" |
		tr '\n' ' ')" "[1,1] [1,1] "
js=$(viplb -n "$D" -j stats tcp "$STATS:81")
check_eq "restore: conns still exactly 20 since stats zero" \
	"$(jq '.[0].stats.conns' <<<"$js")" 20
check_eq "restore: backend conns still 7+7+6" \
	"$(jq -c '[.[0].backends[].stats.conns] | sort' <<<"$js")" "[6,7,7]"

out=$(stream "$DEL" ip netns exec "$D" viplb backend del tcp "$DEL:80" \
	"$(lb_be4 1):8080")
check_eq "backend del: the open stream finishes intact" "$out" intact
out=$(stream "$DELF" ip netns exec "$D" viplb backend del tcp "$DELF:80" \
	"$(lb_be4 2):8080" flush)
check_grep "backend del flush: the open stream is cut" "^broken" "$out"

# ---- the last service goes (flush): its open stream is still translated
printf '%s\n' "service add tcp $LAST:80" \
	"backend add tcp $LAST:80 $(lb_be4 3):8080" >"$VIPLB_TMP/last"
check_viplb "one more service" -n "$D" -b "$VIPLB_TMP/last"
out=$(stream "$LAST" ip netns exec "$D" viplb flush)
check_eq "flush: an open stream of the last service finishes intact" \
	"$out" intact

lb_teardown || fail "delete the namespaces"
check_ok "rmmod viplb" mod_unload
dmesg_check "no kernel warning"
viplb_finish
