#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# nat mode with real traffic.  Every host is a network namespace; the
# director runs viplb, the real servers route back through it:
#
#   client $C                 director $D                real servers
#   +------------------+      +-------------------+
#   | eth0             |      | c0                |      +---------------+
#   | 203.0.113.2      |------| 203.0.113.1       |  +---| eth0 of $B1   |
#   | 2001:db8:c::2    |      | 2001:db8:c::1     |  |   | .11  b::11    |
#   | default via $D   |      |                   |  |   +---------------+
#   +------------------+      | br0 198.51.100.1  |--+---| $B2 .12 b::12 |
#                             |     2001:db8:b::1 |  |   +---------------+
#                             | viplb (nat hooks) |  +---| $B3 .13 b::13 |
#                             +-------------------+      +---------------+
#                                                  each: default via $D
#
# The VIPs (192.0.2.0/24, 2001:db8::/64) exist on no interface: the client
# sends to them through its default route, and the director translates
# before routing.  The real servers (one python3 process, see lb_servers
# in lib.sh) echo TCP on 8080 and UDP on 8053; on 81 they say
# "NAME CLIENT-ADDRESS-THEY-SEE" and then echo.
#
# For IPv4 and IPv6:
#   tcp VIP:80 -> :8080   256 KiB of random bytes come back identical;
#                         conntrack shows the translation; stats grow
#   udp VIP:53 -> :8053   a random datagram comes back identical
#   empty service         TCP is refused with a RST at once, UDP with an
#                         ICMP port unreachable
#   tcp VIP:0 -> :0       every port, the destination port is kept
#   snat                  $B3 without a route to the client still serves
#                         it, and sees the director's address
# and for IPv4: weight 0 drains a backend: its open connection keeps
# working, new connections never reach it; the rate estimator gives
# 100 datagrams/s as that while 2,000 other services change, and
# net.viplb.run_estimation 0 holds the rates, 1 lets them move again.

. "$(dirname "$0")/lib.sh"

require_root
lb_need_cmd socat conntrack jq python3 cmp
mod_fresh
dmesg_mark
lb_topo
lb_servers

C=$LB_C
D=$LB_D
T=$VIPLB_TMP

# Per family (4, 6):
declare -A VIP=([4]=192.0.2.10 [6]=2001:db8::10)	# tcp :80, udp :53 (rr)
declare -A P0=([4]=192.0.2.11 [6]=2001:db8::11)		# tcp :0 (every port)
declare -A EMPTY=([4]=192.0.2.12 [6]=2001:db8::12)	# tcp :80, udp :53, empty
declare -A SNAT=([4]=192.0.2.14 [6]=2001:db8::14)	# tcp :81 -> $B3 only
declare -A CLI=([4]=$LB_CLI4 [6]=$LB_CLI6)
declare -A DIR_B=([4]=$LB_DIR_B4 [6]=$LB_DIR_B6)	# director, real-server side
DRAIN4=192.0.2.13	# tcp :81 (rr), IPv4 only

# cexec CMD...: run CMD in the client.
cexec()
{
	ip netns exec "$C" "$@"
}

# re TEXT: TEXT as an extended regexp matching itself (addresses).
re()
{
	printf '%s' "${1//./\\.}"
}

# sock F ADDR: ADDR as socat writes it (IPv6 in brackets).
sock()
{
	if [ "$1" = 6 ]; then echo "[$2]"; else echo "$2"; fi
}

# svc_stats PROTO VIP PORT: the service's counters, one line:
# "conns pkts_in pkts_out bytes_in bytes_out".
svc_stats()
{
	"$VIPLB" -n "$D" -j stats | jq -r --arg p "$1" --arg v "$2" \
		--argjson port "$3" '.[] |
		select(.proto == $p and .vip == $v and .port == $port) |
		.stats | "\(.conns) \(.pkts_in) \(.pkts_out) \(.bytes_in) \(.bytes_out)"'
}

# conntrack_list F: the director's conntrack table of family F.
conntrack_list()
{
	ip netns exec "$D" conntrack -L -f "ipv$1" 2>/dev/null
}

# icmp_unreach F: destination-unreachable messages received by the client.
# shellcheck disable=SC2016 # awk programs
icmp_unreach()
{
	if [ "$1" = 4 ]; then
		cexec awk '$1 == "Icmp:" {
			if (!c) { for (i = 2; i <= NF; i++)
					if ($i == "InDestUnreachs") c = i }
			else print $c }' /proc/net/snmp
	else
		cexec awk '$1 == "Icmp6InDestUnreachs" { print $2 }' /proc/net/snmp6
	fi
}

# The director's configuration, as one batch.
{
	for f in 4 6; do
		vip=$(sock $f "${VIP[$f]}")
		p0=$(sock $f "${P0[$f]}")
		empty=$(sock $f "${EMPTY[$f]}")
		snat=$(sock $f "${SNAT[$f]}")
		echo "service add tcp $vip:80 sched rr"
		echo "service add udp $vip:53 sched rr"
		echo "service add tcp $p0:0"
		echo "service add tcp $empty:80"
		echo "service add udp $empty:53"
		echo "service add tcp $snat:81"
		for i in 1 2 3; do
			be=$(sock $f "$(lb_be$f $i)")
			echo "backend add tcp $vip:80 $be:8080"
			echo "backend add udp $vip:53 $be:8053"
			echo "backend add tcp $p0:0 $be:0"
		done
		be=$(sock $f "$(lb_be$f 3)")
		echo "backend add tcp $snat:81 $be:81"
	done
	echo "service add tcp $DRAIN4:81 sched rr"
	for i in 1 2 3; do
		echo "backend add tcp $DRAIN4:81 $(lb_be4 $i):81"
	done
} >"$T/config"
check_viplb "configure the director" -n "$D" -b "$T/config" ||
	bail "cannot configure the director"

head -c 262144 /dev/urandom >"$T/tcp.in"
head -c 512 /dev/urandom >"$T/udp.in"

for f in 4 6; do
	log "IPv$f (t=${SECONDS}s)"
	vip=${VIP[$f]} p0=${P0[$f]} empty=${EMPTY[$f]}
	cli=${CLI[$f]} dir_b=${DIR_B[$f]}
	be_re="$(re "$dir_b")[1-3]"	# any real server

	# ---- TCP: 256 KiB there and back.
	read -r c0 pi0 po0 bi0 bo0 <<<"$(svc_stats tcp "$vip" 80)"
	rm -f "$T/tcp.out"
	cexec socat -t 10 -T 60 - "TCP:$(sock $f "$vip"):80" \
		<"$T/tcp.in" >"$T/tcp.out" 2>"$T/socat.err"
	if cmp -s "$T/tcp.in" "$T/tcp.out"; then
		pass "IPv$f tcp $vip:80: 256 KiB echoed back identical"
	else
		fail "IPv$f tcp $vip:80: 256 KiB echoed back identical" \
			"got $(wc -c <"$T/tcp.out") bytes; socat: $(cat "$T/socat.err")"
	fi
	ct=$(conntrack_list $f)
	check_grep "IPv$f conntrack: tcp dst=VIP:80 translated to a real server :8080" \
		"^tcp .* src=$(re "$cli") dst=$(re "$vip") sport=[0-9]+ dport=80 src=$be_re dst=$(re "$cli") sport=8080 " \
		"$ct"
	read -r c1 pi1 po1 bi1 bo1 <<<"$(svc_stats tcp "$vip" 80)"
	if [ -n "$c1" ] && [ "$c1" -eq $((c0 + 1)) ] &&
	   [ "$pi1" -gt "$pi0" ] && [ "$po1" -gt "$po0" ] &&
	   [ "$bi1" -ge $((bi0 + 262144)) ] && [ "$bo1" -ge $((bo0 + 262144)) ]; then
		pass "IPv$f stats: conns +1, pkts_in, pkts_out, bytes_in and bytes_out (>= 256 KiB) grew"
	else
		fail "IPv$f stats: conns +1, pkts_in, pkts_out, bytes_in and bytes_out (>= 256 KiB) grew" \
			"before: conns $c0 pkts_in $pi0 pkts_out $po0 bytes_in $bi0 bytes_out $bo0" \
			"after:  conns $c1 pkts_in $pi1 pkts_out $po1 bytes_in $bi1 bytes_out $bo1"
	fi

	# ---- UDP: one datagram there and back.
	rm -f "$T/udp.out"
	cexec socat -t 3 - "UDP:$(sock $f "$vip"):53" \
		<"$T/udp.in" >"$T/udp.out" 2>"$T/socat.err"
	if cmp -s "$T/udp.in" "$T/udp.out"; then
		pass "IPv$f udp $vip:53: a 512-byte datagram echoed back identical"
	else
		fail "IPv$f udp $vip:53: a 512-byte datagram echoed back identical" \
			"got $(wc -c <"$T/udp.out") bytes; socat: $(cat "$T/socat.err")"
	fi
	check_grep "IPv$f conntrack: udp dst=VIP:53 translated to a real server :8053" \
		"^udp .* src=$(re "$cli") dst=$(re "$vip") sport=[0-9]+ dport=53 src=$be_re dst=$(re "$cli") sport=8053 " \
		"$(conntrack_list $f)"

	# ---- A service without backends refuses.
	t0=$(lb_ms)
	cexec socat - "TCP:$(sock $f "$empty"):80,connect-timeout=20" \
		</dev/null >/dev/null 2>"$T/socat.err"
	rc=$?
	dt=$(($(lb_ms) - t0))
	if [ $rc -ne 0 ] && grep -q "Connection refused" "$T/socat.err" &&
	   [ $dt -lt 10000 ]; then
		pass "IPv$f tcp $empty:80 without backends: connection refused (${dt} ms)"
	else
		fail "IPv$f tcp $empty:80 without backends: connection refused" \
			"socat exit $rc after $dt ms: $(cat "$T/socat.err")"
	fi
	n0=$(icmp_unreach $f)
	echo "hello" | cexec socat -t 3 - "UDP:$(sock $f "$empty"):53" \
		>/dev/null 2>"$T/socat.err"
	rc=$?
	n1=$(icmp_unreach $f)
	if [ $rc -ne 0 ] && grep -q "Connection refused" "$T/socat.err" &&
	   [ "$n1" -gt "$n0" ]; then
		pass "IPv$f udp $empty:53 without backends: ICMP port unreachable"
	else
		fail "IPv$f udp $empty:53 without backends: ICMP port unreachable" \
			"socat exit $rc: $(cat "$T/socat.err")" \
			"client's destination-unreachable counter: $n0 -> $n1"
	fi

	# ---- Port 0: every port of the VIP, backends of port 0.
	out=$(cexec socat -T 10 - "TCP:$(sock $f "$p0"):81" </dev/null 2>"$T/socat.err")
	check_grep "IPv$f tcp $p0:81 (service port 0) reaches a real server's port 81" \
		"^b[1-3] $(re "$cli")\$" "$out$(cat "$T/socat.err")"
	check_grep "IPv$f conntrack: dst=VIP:81 translated to a real server :81" \
		"^tcp .* src=$(re "$cli") dst=$(re "$p0") sport=[0-9]+ dport=81 src=$be_re dst=$(re "$cli") sport=81 " \
		"$(conntrack_list $f)"
	out=$(echo "through port 8080" |
		cexec socat -t 5 -T 10 - "TCP:$(sock $f "$p0"):8080" 2>"$T/socat.err")
	check_eq "IPv$f tcp $p0:8080 (service port 0) reaches the echo server on 8080" \
		"$out$(cat "$T/socat.err")" "through port 8080"
done

# ---- snat: $B3 loses its routes back, so only full NAT can serve it.
log "snat (t=${SECONDS}s)"
ip -n "$LB_B3" -b - <<EOF
route del default via $LB_DIR_B4
route del default via $LB_DIR_B6
EOF
for f in 4 6; do
	vip=${SNAT[$f]} cli=${CLI[$f]} dir_b=${DIR_B[$f]}
	be=$(lb_be$f 3)
	check_fail "IPv$f: $LB_B3 has no route to the client" \
		ip -n "$LB_B3" route get "$cli"
	if out=$(cexec socat -T 3 - "TCP:$(sock $f "$vip"):81,connect-timeout=3" \
		</dev/null 2>&1); then
		fail "IPv$f tcp $vip:81 without snat: $LB_B3 cannot answer" \
			"unexpectedly answered: $out"
	else
		pass "IPv$f tcp $vip:81 without snat: $LB_B3 cannot answer"
	fi
	check_viplb "IPv$f: service set tcp $vip:81 snat" \
		-n "$D" service set tcp "$(sock $f "$vip"):81" snat
	out=$(cexec socat -T 10 - "TCP:$(sock $f "$vip"):81,connect-timeout=10" \
		</dev/null 2>"$T/socat.err")
	check_eq "IPv$f tcp $vip:81 with snat: served by b3, which sees the director's $dir_b" \
		"$out$(cat "$T/socat.err")" "b3 $dir_b"
	check_grep "IPv$f conntrack: snat entry replies to the director" \
		"^tcp .* src=$(re "$cli") dst=$(re "$vip") sport=[0-9]+ dport=81 src=$(re "$be") dst=$(re "$dir_b") sport=81 " \
		"$(conntrack_list $f)"
done
ip -n "$LB_B3" -b - <<EOF
route add default via $LB_DIR_B4
route add default via $LB_DIR_B6
EOF

# ---- Drain: weight 0 keeps the open connection, takes no new one.
log "drain (t=${SECONDS}s)"
mkfifo "$T/hold.in"
cexec socat -T 120 - "TCP:$DRAIN4:81" <"$T/hold.in" >"$T/hold.out" \
	2>"$T/hold.err" &
hold_pid=$!
exec 7>"$T/hold.in"
held=""
for _ in $(seq 100); do
	read -r held _ <"$T/hold.out"
	[ -n "$held" ] && break
	sleep 0.1
done
case $held in
b[1-3])	pass "tcp $DRAIN4:81: a long-lived connection to $held" ;;
*)	bail "tcp $DRAIN4:81: no long-lived connection" "$(cat "$T/hold.err")" ;;
esac
held_addr=$(lb_be4 "${held#b}")
check_viplb "drain $held: weight 0" \
	-n "$D" backend set tcp "$DRAIN4:81" "$held_addr:81" weight 0
got=""
for _ in 1 2 3 4 5 6; do
	out=$(cexec socat -T 10 - "TCP:$DRAIN4:81" </dev/null 2>&1)
	got="$got ${out%% *}"
done
got=${got# }
case " $got " in
*" $held "* | *[!b123\ ]*)
	fail "6 new connections avoid the drained $held" "backends: $got" ;;
*)
	pass "6 new connections avoid the drained $held ($got)" ;;
esac
# shellcheck disable=SC2086 # one backend per line
uniq=$(printf '%s\n' $got | sort -u | wc -l)
check_eq "... and are spread over both other backends" "$uniq" 2
active=$("$VIPLB" -n "$D" -j stats | jq -r --arg v "$DRAIN4" \
	--arg a "$held_addr" '.[] | select(.vip == $v and .port == 81) |
	.backends[] | select(.addr == $a) | .stats.active')
check_eq "stats: $held still has 1 active connection" "$active" 1
if kill -0 "$hold_pid" 2>/dev/null; then
	(trap '' PIPE; echo "still here" >&7)
fi
line2=""
for _ in $(seq 100); do
	line2=$(sed -n 2p "$T/hold.out")
	[ -n "$line2" ] && break
	sleep 0.1
done
check_eq "the connection to the drained $held still echoes" "$line2" "still here"
check_grep "conntrack: the connection is still bound to $held" \
	"^tcp .* ESTABLISHED src=$(re "$LB_CLI4") dst=$(re "$DRAIN4") sport=[0-9]+ dport=81 src=$(re "$held_addr") " \
	"$(conntrack_list 4)"
exec 7>&-
wait "$hold_pid"
check_eq "the long-lived connection closes cleanly" "$?" 0

# ---- Rates: the estimator walks 2,000 other services in chunks (it takes
# the mutex for a few hundred objects at a time) while they change.
log "rates (t=${SECONDS}s)"
RATE4=192.0.2.15	# udp :54 (rr), after the 2,000 below
FILL4=192.0.2.16	# udp :1000-2999 (rr), one backend each
{
	for p in $(seq 1000 2999); do
		echo "service add udp $FILL4:$p sched rr"
		echo "backend add udp $FILL4:$p $(lb_be4 1):8053"
	done
	echo "service add udp $RATE4:54 sched rr"
	for i in 1 2 3; do
		echo "backend add udp $RATE4:54 $(lb_be4 $i):8053"
	done
} >"$T/fill.batch"
check_viplb "2,001 more services" -n "$D" -b "$T/fill.batch"
# 100 datagrams a second on a fixed schedule, until told to stop (at
# most 40 s); the number sent goes to rate.sent.
rm -f "$T/rate.stop" "$T/rate.sent"
cexec python3 -c '
import os, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
t0 = time.monotonic()
n = 0
while n < 4000 and not os.path.exists(sys.argv[2]):
    d = t0 + n / 100 - time.monotonic()
    if d > 0:
        time.sleep(d)
    s.sendto(b"rate %d" % n, (sys.argv[1], 54))
    n += 1
# Read the last echoes before closing: one arriving after would draw an
# ICMP port unreachable, which the service counts as a packet in.
s.settimeout(1)
try:
    while True:
        s.recv(100)
except OSError:
    pass
open(sys.argv[3], "w").write("%d\n" % n)
' "$RATE4" "$T/rate.stop" "$T/rate.sent" &
rate_pid=$!
# Meanwhile, services in the walk go and come back (-b: one by one), and
# restores swap the whole configuration in.
"$VIPLB" -n "$D" save >"$T/rates.conf"
(
	churns=0
	restores=0
	while [ ! -e "$T/rate.stop" ]; do
		for p in $(seq $((1000 + churns % 7)) 97 2999); do
			echo "service del udp $FILL4:$p"
			echo "service add udp $FILL4:$p sched rr"
			echo "backend add udp $FILL4:$p $(lb_be4 2):8053"
		done >"$T/churn.batch"
		"$VIPLB" -n "$D" -b "$T/churn.batch" || break
		churns=$((churns + 1))
		"$VIPLB" -n "$D" restore "$T/rates.conf" || break
		restores=$((restores + 1))
		echo "$churns $restores" >"$T/churns"
	done
) &
churn_pid=$!
# The rates are read while the datagrams flow and the configuration
# changes: each estimate moves a quarter of the way to a 2 s sample, so
# 100/s reads about 70 after 10 s, later when the churn holds the mutex
# long (the debug kernel).  Poll until both rates pass 40 with at least
# one churn round done, or the sender's 40 s are up; none may pass 110.
pps_in=0 pps_out=0 max_in=0 polls=0
while kill -0 "$rate_pid" 2>/dev/null; do
	sleep 0.5
	rate=$("$VIPLB" -n "$D" -j stats | jq -r --arg v "$RATE4" \
		'.[] | select(.vip == $v and .port == 54) |
		"\(.stats.pps_in) \(.stats.pps_out)"')
	read -r pps_in pps_out <<<"$rate"
	polls=$((polls + 1))
	[ "${pps_in:-0}" -le "$max_in" ] || max_in=$pps_in
	[ "${pps_in:-0}" -ge 40 ] && [ "${pps_out:-0}" -ge 40 ] &&
		[ -s "$T/churns" ] && break
done
touch "$T/rate.stop"
wait "$rate_pid"
check_eq "datagrams sent at 100/s meanwhile" "$?" 0
wait "$churn_pid"
read -r sent <"$T/rate.sent" 2>/dev/null
read -r churns restores <"$T/churns" 2>/dev/null
log "rates read $polls times, ${sent:-0} datagrams sent"
check_ok "meanwhile: ${churns:-0} rounds of 21 services deleted and added" \
	test "${churns:-0}" -ge 1
check_ok "meanwhile: ${restores:-0} restores of the whole configuration" \
	test "${restores:-0}" -ge 1
pkts_in=$("$VIPLB" -n "$D" -j stats | jq -r --arg v "$RATE4" \
	'.[] | select(.vip == $v and .port == 54) | .stats.pkts_in')
# Every datagram, plus an ICMP error for any echo that came after all.
check_ok "udp $RATE4:54 counted every datagram ($pkts_in of ${sent:-0})" \
	test "$pkts_in" -ge "${sent:-1}" -a "$pkts_in" -le "$((${sent:-0} + 5))"
check_ok "pps_in ($pps_in) estimates 100 datagrams/s" test "${pps_in:-0}" -ge 40
check_ok "pps_in (at most $max_in) is never above it" test "$max_in" -le 110
check_ok "pps_out ($pps_out) estimates the echoes" test "${pps_out:-0}" -ge 40
# net.viplb.run_estimation 0 stops the estimator: the rates, 2 s and
# more after the last datagram, stay; 1 starts it again and they fall.
EST=/proc/sys/net/viplb/run_estimation
rate_in()
{
	"$VIPLB" -n "$D" -j stats | jq -r --arg v "$RATE4" \
		'.[] | select(.vip == $v and .port == 54) | .stats.pps_in'
}
check_eq "run_estimation is 1 by default" \
	"$(ip netns exec "$D" cat $EST)" 1
ip netns exec "$D" sh -c "echo 2 >$EST" 2>/dev/null
check_eq "run_estimation 2 is refused, it stays 1" \
	"$(ip netns exec "$D" cat $EST)" 1
check_ok "run_estimation 0" ip netns exec "$D" sh -c "echo 0 >$EST"
frozen=$(rate_in)
sleep 5
check_eq "... the rate stays ($frozen) for 5 s with no traffic" \
	"$(rate_in)" "$frozen"
check_ok "run_estimation 1" ip netns exec "$D" sh -c "echo 1 >$EST"
for _ in $(seq 30); do
	sleep 0.5
	[ "$(rate_in)" -lt "$frozen" ] && break
done
check_ok "... the rate falls again ($(rate_in) < $frozen)" \
	test "$(rate_in)" -lt "$frozen"
check_viplb "stats zero udp $RATE4:54" -n "$D" stats zero udp "$RATE4:54"
rate=$("$VIPLB" -n "$D" -j stats | jq -r --arg v "$RATE4" \
	'.[] | select(.vip == $v and .port == 54) |
	"\(.stats.pps_in) \(.stats.pkts_in)"')
check_eq "... zeroes its counters and rates" "$rate" "0 0"

# ---- Teardown: stop every process, delete the namespaces, unload.
lb_teardown || fail "delete the namespaces"
check_ok "rmmod viplb after deleting the namespaces" mod_unload
dmesg_check "no kernel warning"
viplb_finish
