#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Nothing lost under churn: real traffic while the configuration changes.
#
#   client $LB_C --- director $LB_D (viplb) --- br0 --- $LB_B1..3
#
# Six TCP services on port 90, one per mode and family, over the three
# servers (echo on every address):
#	nat  192.0.2.30, 2001:db8:a::30    (maglev, rr)
#	dr   192.0.2.10, 2001:db8:a::10    (maglev, wrr)
#	tun  192.0.2.20, 2001:db8:a::20    (maglev, sh)
#
# The client opens CHURN_LONG long-lived connections spread over the six
# and streams data on each, checking every echoed byte; it also opens new
# short connections all along.  Meanwhile, for CHURN_SECONDS, the director
# goes through: backend add, weight changes (to 0 too), backend del
# without flush, viplb restore of the same and of a changed config, Maglev
# table-size changes, viplb-restore of the rule tables, and service add
# and del of other VIPs.  Every long connection must end intact (its
# backend is never gone: a deleted backend keeps its flows), and every
# short one must succeed: each service keeps a backend of weight > 0.
# Then CHURN_UNLOADS cycles of insmod, configure, traffic and rmmod while
# the traffic flows.

. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip jq python3
modprobe -a ipip ip6_tunnel 2>/dev/null ||
	skip_all "no ipip/ip6_tunnel modules (tun mode)"
mod_fresh
dmesg_mark

CHURN_LONG=${CHURN_LONG:-200}
CHURN_SECONDS=${CHURN_SECONDS:-60}
PORT=90

NAT4=192.0.2.30
NAT6=2001:db8:a::30
DR4=192.0.2.10
DR6=2001:db8:a::10
TUN4=192.0.2.20
TUN6=2001:db8:a::20

drtun_topo $DR4 $TUN4 $DR6 $TUN6
drtun_start $PORT 91 "$DR4" "$LB_C"

# config SCHED-NAT SCHED-DR SCHED-TUN M [extra lines]: the restore file.
config()
{
	for s in "nat $NAT4 $1" "nat $NAT6 $1" "dr $DR4 $2" "dr $DR6 $2" \
		"tun $TUN4 $3" "tun $TUN6 $3"; do
		set -- $s "$4"
		vp=$(drtun_vp "$2" $PORT)
		echo "service add tcp $vp sched $3 mode $1 table-size $4"
		case $2 in
		*:*) f=6 ;;
		*) f=4 ;;
		esac
		for i in 1 2 3; do
			echo "backend add tcp $vp $("lb_be$f" $i) weight $i"
		done
	done
}

config maglev maglev maglev 65537 >"$VIPLB_TMP/conf.a"
config rr wrr sh 251 >"$VIPLB_TMP/conf.b"
check_ok "configure 6 services (nat, dr, tun; IPv4, IPv6)" \
	"$VIPLB" -n "$LB_D" restore "$VIPLB_TMP/conf.a"

# The client (streams.py): long connections streaming, every byte
# checked, and short ones all along.
STOP=$VIPLB_TMP/client
ip netns exec "$LB_C" python3 -S "$VIPLB_SELFTESTS/streams.py" \
	"$NAT4,$NAT6,$DR4,$DR6,$TUN4,$TUN6" $PORT "$CHURN_LONG" "$STOP.ready" \
	--seconds "$CHURN_SECONDS" --short-every 0.05 >"$VIPLB_TMP/client.out" \
	2>"$VIPLB_TMP/client.err" &
cpid=$!
defer "kill $cpid 2>/dev/null"
t=0
while [ ! -e "$STOP.ready" ]; do
	kill -0 $cpid 2>/dev/null && [ $t -lt 600 ] ||
		bail "the client did not connect: $(cat "$VIPLB_TMP/client.err")"
	sleep 0.1
	t=$((t + 1))
done
pass "$CHURN_LONG long connections open over the 6 services"

# The changes, round after round, while the client runs.
cat >"$VIPLB_TMP/rules" <<EOF
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -p tcp --dport $PORT -j ACCEPT
-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
COMMIT
EOF
v()
{
	"$VIPLB" -n "$LB_D" "$@" >>"$VIPLB_TMP/churn.log" 2>&1 ||
		echo "viplb $*: $(tail -1 "$VIPLB_TMP/churn.log")" >>"$VIPLB_TMP/churn.err"
}
vp4=$(drtun_vp $DR4 $PORT)
np6=$(drtun_vp $NAT6 $PORT)
tp4=$(drtun_vp $TUN4 $PORT)
changes=0
rounds=0
while kill -0 $cpid 2>/dev/null; do
	rounds=$((rounds + 1))
	v backend del tcp "$vp4" "$(lb_be4 2)"
	v backend add tcp "$vp4" "$(lb_be4 2)" weight 5
	v backend set tcp "$vp4" "$(lb_be4 1)" weight 0
	v backend set tcp "$vp4" "$(lb_be4 1)" weight 1
	v backend set tcp "$np6" "$(lb_be6 3)" weight 0
	v backend del tcp "$np6" "$(lb_be6 1)"
	v service set tcp "$tp4" table-size 1009
	v restore "$VIPLB_TMP/conf.b"
	v service add udp 192.0.2.99:$PORT
	v backend add udp 192.0.2.99:$PORT "$(lb_be4 1)"
	ip netns exec "$LB_D" "$VIPLB_ROOT/user/viplb/viplb-restore" \
		<"$VIPLB_TMP/rules" >>"$VIPLB_TMP/churn.log" 2>&1 ||
		echo "viplb-restore failed" >>"$VIPLB_TMP/churn.err"
	v service del udp 192.0.2.99:$PORT
	v service set tcp "$tp4" table-size 65537
	v restore "$VIPLB_TMP/conf.a"
	changes=$((changes + 14))
done
wait $cpid
log "$rounds rounds, $changes changes"
if [ -s "$VIPLB_TMP/churn.err" ]; then
	fail "every change applied" "$(head -5 "$VIPLB_TMP/churn.err")"
else
	pass "every change applied: $changes changes in $rounds rounds"
fi

out=$(cat "$VIPLB_TMP/client.out")
if ! jq -e . >/dev/null 2>&1 <<EOF
$out
EOF
then
	bail "no report from the client: $out $(cat "$VIPLB_TMP/client.err")"
fi
jv()
{
	printf '%s\n' "$out" | jq -r "$1"
}
check_eq "long connections intact: $(jv .intact) of $(jv .long), $(jv .bytes) bytes checked" \
	"$(jv .intact)" "$CHURN_LONG"
[ "$(jv '.broken | length')" = 0 ] || log "broken: $(jv '.broken | join("; ")')"
check_eq "short connections: $(jv .short_ok) ok, $(jv .short_fail) failed" \
	"$(jv .short_fail)" 0
[ "$(jv '.short_err | length')" = 0 ] ||
	log "short failures: $(jv '.short_err | join("; ")')"
check_ok "rmmod" rmmod viplb

# Module unload under traffic: CHURN_UNLOADS cycles of insmod, configure,
# traffic, and rmmod while the traffic flows.
CHURN_UNLOADS=${CHURN_UNLOADS:-50}
TRAFFIC_PY='
import socket, sys, time
vips, port, stop = sys.argv[1].split(","), int(sys.argv[2]), sys.argv[3]
n = ok = 0
while True:
    for vip in vips:
        n += 1
        try:
            s = socket.create_connection((vip, port), timeout=1)
            s.sendall(b"y" * 64)
            if s.recv(64):
                ok += 1
            s.close()
        except OSError:
            pass
        if n == 1 or n % 50 == 0:
            open(stop, "w").write("%d %d\n" % (n, ok))
'
cycles=0
while [ $cycles -lt "$CHURN_UNLOADS" ]; do
	mod_load || { fail "unload $cycles: insmod"; break; }
	"$VIPLB" -n "$LB_D" restore "$VIPLB_TMP/conf.a" ||
		{ fail "unload $cycles: configure"; break; }
	rm -f "$VIPLB_TMP/traffic"
	ip netns exec "$LB_C" python3 -S -c "$TRAFFIC_PY" \
		"$NAT4,$DR6,$TUN4" $PORT "$VIPLB_TMP/traffic" 2>/dev/null &
	tpid=$!
	t=0
	# Traffic flows once some connections made it through.
	tok=0
	until [ -s "$VIPLB_TMP/traffic" ] &&
		read -r tn tok <"$VIPLB_TMP/traffic" && [ "$tok" -gt 0 ]; do
		[ $t -lt 100 ] || break
		sleep 0.1
		t=$((t + 1))
	done
	if [ "${tok:-0}" -eq 0 ]; then
		kill $tpid
		fail "unload $cycles: traffic through the VIPs before rmmod"
		break
	fi
	if ! rmmod viplb; then
		kill $tpid
		fail "unload $cycles: rmmod under traffic"
		break
	fi
	kill $tpid
	wait $tpid 2>/dev/null
	if [ -d /sys/module/viplb ]; then
		fail "unload $cycles: the module is still there"
		break
	fi
	cycles=$((cycles + 1))
done
check_eq "$cycles cycles of insmod, configure, traffic and rmmod under traffic" \
	"$cycles" "$CHURN_UNLOADS"
dmesg_check "no kernel warning"
viplb_finish
