#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# viplbd, the health-check daemon, on nf_tables (no module, as on this
# host): health lines in the restore file; http, tcp, udp and exec checks
# of 3 backends; killed servers (http and tcp) drained within fall x
# interval + timeout, then every new connection served, and their rejoin
# within rise x interval (the measured times are printed); established
# connections, one per backend, untouched throughout (echoed byte for
# byte, the drained backend's too); a flapping backend held down; the
# weights re-applied after a flush and restore; reload on SIGHUP (a bad
# line keeps the old config); a bad line at start; viplb health show in
# text and JSON; a clean SIGTERM; and tcp checks half open (at the end).
#
#   client $C                director $D (viplbd)        backends $B1..$B3
#   c0 203.0.113.2/24 ---- d0 203.0.113.1/24
#                             br0 198.51.100.1/24 ---+-- b0 198.51.100.2 (b1)
#                                                    +-- b0 198.51.100.3 (b2)
#                                                    +-- b0 198.51.100.4 (b3)
#
# VIP 192.0.2.10: port 80 -> python3's http.server on 8080 (checked with
# http), 81 -> socat echo on 8081 (tcp), udp 82 -> socat udp echo on 8082
# in b1 and b2 only (udp: b3's port is unreachable), 83 -> 8083 checked
# by an exec script that looks for a file per backend.

: "${VIPLB:=$(cd "$(dirname "$0")/../.." && pwd -P)/user/viplb/viplb}"
: "${VIPLBD:=$(cd "$(dirname "$0")/../.." && pwd -P)/user/viplbd/viplbd}"
. "$(dirname "$0")/../lib.sh"

require_root
for c in ip nft socat jq python3 timeout cmp conntrack ss nstat; do
	command -v "$c" >/dev/null 2>&1 || bail "$c not found (scripts/deps.sh)"
done
[ -x "$VIPLBD" ] || bail "$VIPLBD not built (make -C user)"
[ -e /sys/module/viplb ] && skip_all "the module is loaded: this test is for nf_tables"

T=$VIPLB_TMP
SOCK=$T/viplbd.sock
VIP=192.0.2.10
# The check timing: fall x interval + timeout = 1150 ms to drain, rise x
# interval = 600 ms to rejoin.  The timeout leaves room for a busy host.
INTERVAL=300
TIMEOUT=250
RISE=2
FALL=3
# Polls and process starts are not instant: this much on top of a bound.
SLACK=300

ns_create C vdc
ns_create D vdd
ns_create B1 vdb1
ns_create B2 vdb2
ns_create B3 vdb3
defer "ip netns pids $C | xargs -r kill"

ip -n "$C" link add c0 type veth peer name d0 netns "$D"
ip -n "$C" addr add 203.0.113.2/24 dev c0
ip -n "$C" link set c0 up
ip -n "$C" route add default via 203.0.113.1
ip -n "$D" addr add 203.0.113.1/24 dev d0
ip -n "$D" link set d0 up
ip -n "$D" link add br0 type bridge
ip -n "$D" addr add 198.51.100.1/24 dev br0
ip -n "$D" link set br0 up
ip netns exec "$D" sysctl -qw net.ipv4.ip_forward=1

# http_start I: backend I's http server (its PID in $T/http$I.pid).
http_start()
{
	eval "hs_ns=\$B$1"
	ip netns exec "$hs_ns" python3 -m http.server 8080 \
		--bind "198.51.100.$(($1 + 1))" --directory "$T/www$1" \
		>/dev/null 2>&1 &
	echo $! >"$T/http$1.pid"
	hs_n=0
	until ip netns exec "$hs_ns" ss -Hltn "sport = :8080" | grep -q .; do
		hs_n=$((hs_n + 1))
		[ $hs_n -lt 100 ] || bail "http server of b$1 did not start"
		sleep 0.05
	done
}

# echo_start I: backend I's echo server (its PID in $T/echo$I.pid).
echo_start()
{
	eval "es_ns=\$B$1"
	ip netns exec "$es_ns" socat TCP-LISTEN:8081,fork,reuseaddr PIPE \
		2>/dev/null &
	echo $! >"$T/echo$1.pid"
}

i=0
for B in "$B1" "$B2" "$B3"; do
	i=$((i + 1))
	ip -n "$B" link add b0 type veth peer name d$i netns "$D"
	ip -n "$B" addr add 198.51.100.$((i + 1))/24 dev b0
	ip -n "$B" link set b0 up
	ip -n "$B" route add default via 198.51.100.1
	ip -n "$D" link set d$i master br0
	ip -n "$D" link set d$i up
	mkdir "$T/www$i"
	echo ok >"$T/www$i/healthz"
	echo "b$i" >"$T/www$i/name"
	# The servers, and whatever they fork: every process in $B.
	defer "ip netns pids $B | xargs -r kill"
	echo_start $i
	[ $i -lt 3 ] && ip netns exec "$B" socat -T 3 \
		UDP-LISTEN:8082,fork,reuseaddr PIPE 2>/dev/null &
	http_start $i
done

# One shell, no other process: quick even on a busy host.
cat >"$T/check.sh" <<EOF
#!/bin/sh
echo "VIPLB_SERVICE=\$VIPLB_SERVICE VIPLB_BACKEND=\$VIPLB_BACKEND" \\
	"VIPLB_CHECK_ADDR=\$VIPLB_CHECK_ADDR VIPLB_CHECK_PORT=\$VIPLB_CHECK_PORT" \\
	>"$T/env-\$VIPLB_BACKEND_ADDR"
[ -e "$T/ok-\$VIPLB_BACKEND_ADDR" ]
EOF
chmod +x "$T/check.sh"
touch "$T/ok-198.51.100.2" "$T/ok-198.51.100.3"

TIMING="interval ${INTERVAL}ms timeout ${TIMEOUT}ms rise $RISE fall $FALL"
{
	for port in 80 81 83; do
		echo "service add tcp $VIP:$port sched rr"
		for i in 2 3 4; do
			# port 80: 8080, 81: 8081, 83: 8083
			echo "backend add tcp $VIP:$port 198.51.100.$i:80$port"
		done
	done
	echo "service add udp $VIP:82 sched rr"
	for i in 2 3 4; do
		echo "backend add udp $VIP:82 198.51.100.$i:8082"
	done
	echo "# viplbd's"
	echo "health tcp $VIP:80 check http /healthz body ok $TIMING flap 3 window 20s hold 3s"
	echo "health tcp $VIP:81 check tcp port 8081 $TIMING"
	echo "health udp $VIP:82 check udp send hello $TIMING"
	echo "health tcp $VIP:83 check exec $T/check.sh interval 500ms timeout 450ms rise 1 fall 2"
} >"$T/viplb.conf"

v()
{
	"$VIPLB" -n "$D" "$@"
}

ms()
{
	echo $(($(date +%s%N) / 1000000))
}

# state PORT ADDR: a member's state, from viplb -j health show.
state()
{
	"$VIPLB" -j health show socket "$SOCK" |
		jq -r ".[] | select(.port == $1 and .backend.addr == \"$2\") | .state"
}

# weight PORT ADDR: the backend's weight in the datapath.
weight()
{
	v -j show | jq -r ".[] | select(.port == $1) | .backends[] |
		select(.addr == \"$2\") | .weight"
}

# wait_for MAX_MS CMD...: poll CMD until it succeeds; the milliseconds it
# took in $took.  1 if it did not within MAX_MS.
wait_for()
{
	wf_max=$1
	shift
	wf_t0=$(ms)
	while :; do
		took=$(($(ms) - wf_t0))
		"$@" && return 0
		[ "$took" -le "$wf_max" ] || return 1
		sleep 0.02
	done
}

weight_is()
{
	[ "$(weight "$1" "$2")" = "$3" ]
}

state_is()
{
	[ "$(state "$1" "$2")" = "$3" ]
}

# get PATH: an HTTP GET through the VIP; prints the body.
get()
{
	printf 'GET %s HTTP/1.0\r\n\r\n' "$1" |
		ip netns exec "$C" timeout 5 socat -t 2 - "TCP:$VIP:80" 2>/dev/null |
		sed '1,/^\r*$/d'
}

check_viplb "viplb restore takes a file with health lines" -n "$D" \
	restore "$T/viplb.conf"
check_eq "... and leaves them to viplbd (save has none)" \
	"$(v save | grep -c '^health')" 0

# --- a bad health line at start ---------------------------------------
cp "$T/viplb.conf" "$T/bad.conf"
echo "health tcp $VIP:81 backend 198.51.100.2:8081 check tcp interval 2y" \
	>>"$T/bad.conf"
bad_line=$(wc -l <"$T/bad.conf")
out=$(ip netns exec "$D" timeout 5 "$VIPLBD" -c "$T/bad.conf" \
	-s "$T/bad.sock" 2>&1)
rc=$?
check_eq "viplbd with a bad health line exits 1" "$rc" 1
check_grep "... with line $bad_line: and the bad value quoted" \
	"^viplbd: line $bad_line: invalid duration .2y. for .interval." "$out"
vrun -n "$D" restore "$T/bad.conf"
check_grep "viplb restore refuses it alike" \
	"^viplb: line $bad_line: invalid duration .2y." "$err"
check_eq "... and changes nothing" "$(weight 80 198.51.100.2)" 1

# --- start ----------------------------------------------------------------
ip netns exec "$D" "$VIPLBD" -c "$T/viplb.conf" -s "$SOCK" -r 1 \
	2>"$T/log" &
DPID=$!
defer "kill $DPID 2>/dev/null"
wait_for 3000 test -S "$SOCK" || bail "viplbd did not open its socket"

all_known()
{
	! "$VIPLB" health show socket "$SOCK" | grep -q ': unknown'
}
wait_for 3000 all_known
check_eq "every backend has a state within 3 s" "$?" 0
vrun health show socket "$SOCK"
check_eq "health show: 12 backends" "$(printf '%s\n' "$out" | wc -l)" 12
check_grep "health show text: http up, with weight, time, latency and reason" \
	"^tcp $VIP:80 backend 198.51.100.2:8080 check http: up weight 1 for [0-9.]+m?s, [0-9]+ checks \(0 failed\), last ok in [0-9.]+ms: status 200, body matches$" \
	"$out"
check_grep "udp: b3's port unreachable is a failure, and it starts down" \
	"^udp $VIP:82 backend 198.51.100.4:8082 check udp: down weight 0 .*last failed .*Connection refused" \
	"$out"
check_grep "udp: b1 answers" \
	"^udp $VIP:82 backend 198.51.100.2:8082 check udp: up .*reply of 5 bytes" \
	"$out"
check_grep "exec: b3 has no file: down, exit status 1" \
	"^tcp $VIP:83 backend 198.51.100.4:8083 check exec: down weight 0 .*exit status 1" \
	"$out"
check_eq "... so its weight is 0 in the datapath" "$(weight 83 198.51.100.4)" 0
check_eq "... and b1's stays 1" "$(weight 83 198.51.100.2)" 1
check_grep "exec: the script sees the backend" \
	"VIPLB_BACKEND=198.51.100.4:8083" "$(cat "$T/env-198.51.100.4")"
check_grep "exec: ... and the service and checked address" \
	"VIPLB_SERVICE=tcp $VIP:83 .* VIPLB_CHECK_ADDR=198.51.100.4 VIPLB_CHECK_PORT=8083" \
	"$(cat "$T/env-198.51.100.4")"
vrun -j health show socket "$SOCK"
check_eq "health show -j: 12 objects" "$(printf '%s' "$out" | jq length)" 12
check_eq "health show -j: the fields of a member" \
	"$(printf '%s' "$out" | jq -c '.[] | select(.port == 81 and .backend.addr == "198.51.100.3") |
		[.proto, .vip, .backend.port, .check, .state, .weight, .configured_weight, .last, .reason,
		 (.latency_us | type), (.since_ms | type)]')" \
	'["tcp","192.0.2.10",8081,"tcp","up",1,1,"ok","connected","number","number"]'
# The kernel's receive time of the SYN-ACK, not the time viplbd read it
# (it may wait for the next turn of the timers): on a veth, microseconds.
check_eq "health show -j: tcp checks' latency from the reply's receive time (0 < us < 50000)" \
	"$(printf '%s' "$out" | jq '[.[] | select(.check == "tcp" and .last == "ok") |
		.latency_us > 0 and .latency_us < 50000] | unique')" '[
  true
]'
vrun -j -p health show socket "$SOCK"
check_eq "health show -j -p: the same, pretty" \
	"$(printf '%s' "$out" | jq length)" 12
vrun health show socket "$T/none.sock"
check_grep "health show without viplbd: a clear error" \
	"cannot reach viplbd at $T/none.sock" "$err"

# Idle control clients: at most 32 at once, each closed after 5 s, so
# that they cannot take the descriptors the probes need.  An accepted
# socket is in the client's network namespace (here, this one), where
# /proc/net/unix shows it with the path of the listening socket.
ctl_clients()
{
	find "/proc/$DPID/fd" -mindepth 1 -printf '%l\n' 2>/dev/null |
		sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p' |
		awk -v path="$SOCK" 'NR == FNR { fd[$1] = 1; next }
			$8 == path && ($7 in fd) { n++ } END { print n + 0 }' \
			- /proc/net/unix
}
python3 -c '
import socket, sys, time
s = []
for i in range(40):
	c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
	c.connect(sys.argv[1])
	s.append(c)
time.sleep(9)' "$SOCK" &
idle=$!
sleep 1
check_eq "40 idle control clients: viplbd keeps 32" "$(ctl_clients)" 32
no_clients() { [ "$(ctl_clients)" = 0 ]; }
wait_for 7000 no_clients
check_eq "... and closes them after 5 s (took ${took} ms)" "$?" 0
vrun health show socket "$SOCK"
check_eq "... then health show answers while they are still connected" \
	"$(printf '%s\n' "$out" | wc -l)" 12
kill "$idle" 2>/dev/null
wait "$idle" 2>/dev/null

# A tcp check keeps its socket for the next: one descriptor per member at
# most (its probe's or its kept socket), never one per check; the tcp
# checks' SYNs hold 64 source ports (SYN_PORTS).
nfds() { find "/proc/$DPID/fd" -mindepth 1 | wc -l; }
fds0=$(nfds)
sleep 3
fds1=$(nfds)
log "viplbd's descriptors: $fds0, 3 s of checks later $fds1"
check_eq "3 s of checks (10 each) later, viplbd has no more descriptors than 12 members + 64 held ports + 12" \
	"$((fds1 <= 12 + 64 + 12))" 1

# --- established connections, kept open through what follows ------------
# Three echo connections to port 81, one per backend (rr), each fed a line
# every 100 ms until $T/stop appears; all that comes back is compared.
for k in 1 2 3; do
	(
		n=0
		until [ -e "$T/stop" ]; do
			n=$((n + 1))
			echo "connection $k line $n, padded to be a little longer"
			sleep 0.1
		done | tee "$T/long$k.sent"
	) | ip netns exec "$C" socat -t 3 - "TCP:$VIP:81" >"$T/long$k.got" \
		2>/dev/null &
	echo $! >>"$T/long.pids"
done
# established_to: the backends of the established connections to port 81.
established_to()
{
	ip netns exec "$D" conntrack -L -p tcp --dport 81 --state ESTABLISHED \
		2>/dev/null | sed -n 's/.*src=\(198[0-9.]*\) .*/\1/p' | sort |
		tr '\n' ' '
}
one_per_backend()
{
	[ "$(established_to)" = "198.51.100.2 198.51.100.3 198.51.100.4 " ]
}
wait_for 3000 one_per_backend
check_eq "3 long connections to port 81, one per backend" \
	"$(established_to)" "198.51.100.2 198.51.100.3 198.51.100.4 "

# --- kill b1's servers: drained, then every connection served -----------
# Its http server (checked with http), and its echo server's listener
# (checked with tcp): the child serving b1's long connection lives on, as
# drained connections do.
DRAIN_MAX=$((FALL * INTERVAL + TIMEOUT))
t0=$(ms)
kill "$(cat "$T/http1.pid")" "$(cat "$T/echo1.pid")"
wait_for $((DRAIN_MAX + SLACK)) weight_is 80 198.51.100.2 0
rc=$?
took=$(($(ms) - t0))
log "http: b1 drained ${took} ms after its server was killed (bound $DRAIN_MAX ms + $SLACK ms polling)"
check_eq "http: killed server drained within fall x interval + timeout" "$rc" 0
wait_for $((DRAIN_MAX + SLACK - took)) weight_is 81 198.51.100.2 0
rc=$?
took=$(($(ms) - t0))
log "tcp: b1 drained ${took} ms after its listener was killed (bound $DRAIN_MAX ms + $SLACK ms polling)"
check_eq "tcp: killed listener drained within fall x interval + timeout" "$rc" 0
check_grep "its transitions are logged with their reason" \
	"^viplbd: tcp $VIP:80 backend 198.51.100.2:8080: up -> down, weight 0: $FALL failures: connect: Connection refused$" \
	"$(cat "$T/log")"
vrun -j health show socket "$SOCK"
check_eq "health show -j: b1's http member counts its $FALL failures or more" \
	"$(printf '%s' "$out" | jq '.[] | select(.port == 80 and .backend.addr == "198.51.100.2") |
		.failed >= '"$FALL"' and .checks > .failed')" true
check_eq "... and b2's no failure, in 2 or more checks" \
	"$(printf '%s' "$out" | jq '.[] | select(.port == 80 and .backend.addr == "198.51.100.3") |
		.failed == 0 and .checks >= 2')" true
: >"$T/names"
for _ in $(seq 30); do
	get /name >>"$T/names"
done
check_eq "then 30 new connections: 30 answered" "$(grep -c '^b[23]$' "$T/names")" 30
check_eq "... none by b1" "$(grep -c '^b1$' "$T/names")" 0
echoed=0
for k in $(seq 30); do
	[ "$(echo "new $k" | ip netns exec "$C" timeout 5 socat -t 2 - \
		"TCP:$VIP:81" 2>/dev/null)" = "new $k" ] && echoed=$((echoed + 1))
done
check_eq "... and 30 new echo connections to port 81: 30 echoed" "$echoed" 30

# --- restart it: it rejoins ----------------------------------------------
RISE_MAX=$((RISE * INTERVAL))
http_start 1
wait_for $((RISE_MAX + SLACK)) weight_is 80 198.51.100.2 1
rc=$?
log "http: b1 rejoined ${took} ms after its server listened (bound $RISE_MAX ms + $SLACK ms polling)"
check_eq "http: restarted server rejoins within rise x interval" "$rc" 0
echo_start 1
wait_for 3000 sh -c "ip netns exec $B1 ss -Hltn 'sport = :8081' | grep -q ."
wait_for $((RISE_MAX + SLACK)) weight_is 81 198.51.100.2 1
rc=$?
log "tcp: b1 rejoined ${took} ms after its listener listened (bound $RISE_MAX ms + $SLACK ms polling)"
check_eq "tcp: restarted listener rejoins within rise x interval" "$rc" 0
: >"$T/names"
for _ in $(seq 9); do
	get /name >>"$T/names"
done
log "9 connections after the rejoin, by b1 b2 b3:" \
	"$(grep -c '^b1$' "$T/names") $(grep -c '^b2$' "$T/names") $(grep -c '^b3$' "$T/names")"
check_eq "... and serves again: 9 answered, b1 among them" \
	"$(grep -c '^b[123]$' "$T/names") $([ "$(grep -c '^b1$' "$T/names")" -ge 2 ] && echo b1)" \
	"9 b1"

# --- exec: b3's file appears ------------------------------------------------
touch "$T/ok-198.51.100.4"
wait_for $((500 + SLACK)) weight_is 83 198.51.100.4 1
check_eq "exec: b3 comes up once its script succeeds" "$?" 0

# --- a flapping backend is held down ----------------------------------------
up_or_held()
{
	case $(state 80 198.51.100.3) in
	up | held) return 0 ;;
	esac
	return 1
}

# flap 3 window 20s: the 4th transition within 20 s holds it for 3 s.
flips=0
while [ $flips -lt 6 ] && ! state_is 80 198.51.100.3 held; do
	if [ -e "$T/www2/healthz" ]; then
		rm "$T/www2/healthz"
		wait_for 2000 state_is 80 198.51.100.3 down || true
	else
		echo ok >"$T/www2/healthz"
		wait_for 2000 up_or_held || true
	fi
	flips=$((flips + 1))
done
[ -e "$T/www2/healthz" ] || echo ok >"$T/www2/healthz"
check_eq "b2 flapping: held after its 4th transition" \
	"$(state 80 198.51.100.3) $flips" "held 4"
check_grep "... logged as flapping" \
	"198.51.100.3:8080: down -> held, weight 0: flapping, 4 transitions within 20000ms: held down for 3000ms" \
	"$(cat "$T/log")"
sleep 1
check_eq "... still held a second later, healthy as it is" \
	"$(state 80 198.51.100.3) $(weight 80 198.51.100.3)" "held 0"
check_grep "... health show says how long" "held [0-9.]+m?s more" \
	"$("$VIPLB" health show socket "$SOCK")"
wait_for 4000 weight_is 80 198.51.100.3 1
check_eq "... and up again once the hold is over" "$?" 0

# --- the weights it owns come back after a flush and restore -----------
# Two backends down (b3's udp, and b3's exec once its file is gone): both
# weights are found wrong at the same sync and written in one batch.
rm "$T/ok-198.51.100.4"
wait_for $((1000 + SLACK)) weight_is 83 198.51.100.4 0
check_eq "exec: b3 down again once its file is gone" "$?" 0
v flush
v restore "$T/viplb.conf"
both_drained()
{
	weight_is 82 198.51.100.4 0 && weight_is 83 198.51.100.4 0
}
wait_for 2500 both_drained
check_eq "after flush + restore, b3's udp and exec weights 0 are re-applied" "$?" 0
check_grep "... and logged" \
	"198.51.100.4:8082: re-applying weight 0 \\(the datapath has 1\\)" \
	"$(cat "$T/log")"
check_eq "... every other weight as it was" \
	"$(v -j show | jq -c '[.[] | .port as $p | .backends[] | select(.weight == 0) | [$p, .addr]] | sort')" \
	'[[82,"198.51.100.4"],[83,"198.51.100.4"]]'
touch "$T/ok-198.51.100.4"
wait_for $((1000 + SLACK)) weight_is 83 198.51.100.4 1
check_eq "exec: b3 up again with its file" "$?" 0

# --- SIGHUP --------------------------------------------------------------
since() {
	"$VIPLB" -j health show socket "$SOCK" |
		jq -r ".[] | select(.port == 81 and .backend.addr == \"198.51.100.3\") | .since_ms"
}
before=$(since)
cp "$T/viplb.conf" "$T/viplb.good"
echo "health tcp $VIP:81 check tcp interval 1s fall 0" >>"$T/viplb.conf"
bad_line=$(wc -l <"$T/viplb.conf")
kill -HUP $DPID
wait_for 2000 grep -q "reload failed" "$T/log"
check_grep "SIGHUP with a bad line: line $bad_line: error, the value quoted" \
	"^viplbd: line $bad_line: invalid count .0. for .fall." "$(cat "$T/log")"
check_grep "... and the old config stays" "keeping the configuration running" \
	"$(cat "$T/log")"
check_eq "... all 12 still checked" \
	"$("$VIPLB" health show socket "$SOCK" | wc -l)" 12
# A good change: the exec checks every 600 ms now.
sed "s/check exec \\(.*\\) interval 500ms/check exec \\1 interval 600ms/" \
	"$T/viplb.good" >"$T/viplb.conf"
kill -HUP $DPID
wait_for 2000 grep -q "with their checks unchanged" "$T/log"
check_grep "SIGHUP with a good file: 9 checks kept as they were" \
	"viplb.conf: 12 backends checked \\(9 with their checks unchanged\\)" \
	"$(cat "$T/log")"
check_grep "... the changed ones keep their state" \
	"$VIP:83 backend 198.51.100.4:8083: check changed \\(line [0-9]+\\), state up kept" \
	"$(cat "$T/log")"
after=$(since)
check_eq "... an unchanged one keeps its time since its last transition" \
	"$([ "$after" -gt "$before" ] && echo yes)" yes

# --- the established connections --------------------------------------------
touch "$T/stop"
for p in $(cat "$T/long.pids"); do
	wait "$p"
done
ok=0
for k in 1 2 3; do
	[ -s "$T/long$k.sent" ] && cmp -s "$T/long$k.sent" "$T/long$k.got" &&
		ok=$((ok + 1))
done
log "the long connections sent and got back: $(wc -c "$T"/long?.sent "$T"/long?.got | sed '$d' | awk '{ printf "%s %s  ", $1, $2 }' | sed "s#$T/##g")"
check_eq "3 connections open throughout ($(($(wc -l <"$T/long1.sent") / 10)) s), b1's drained one too, echoed byte for byte" \
	"$ok" 3

# --- SIGTERM ---------------------------------------------------------------
kill -TERM $DPID
wait $DPID
check_eq "SIGTERM: viplbd exits 0" "$?" 0
check_eq "... and removes its socket" "$([ -e "$SOCK" ] && echo there)" ""
check_grep "every transition was one line with a reason" \
	"^viplbd: .* -> .*, weight [0-9]+: .+" "$(cat "$T/log")"
log "viplbd's log:"
sed 's/^/#   /' "$T/log"

# --- tcp checks are half open -----------------------------------------------
# A director of its own ($D2, a second viplbd) checks 10 IPv4 and 2 IPv6
# addresses of $B4 with tcp every 100 ms, and nothing else there: first
# with SYNs on its raw socket, then without CAP_NET_RAW, with connect().
# Per check the director sends the SYN and the reset only (d0's tx
# packets: no ACK of the SYN-ACK); the reset kills the backend's request
# sock in SYN_RECV (AttemptFails; no SYN-ACK sent again, no connection
# passively opened) and the listener accepts nothing.  With connect(), a
# check that viplbd finishes more than 200 ms after its SYN-ACK sends
# the delayed ACK (a full connection, then reset): 1 in 20 may, on a busy
# host.  Then the same members fail on a timeout (SYNs dropped) and a
# refusal, and rejoin after rise checks; a 13th, routed through $B4 to a
# network it rejects, fails on the ICMP error.
ns_create D2 vdd2
ns_create B4 vdb4
defer "ip netns pids $B4 | xargs -r kill"
ip -n "$D2" link add d0 type veth peer name b0 netns "$B4"
ip -n "$D2" addr add 198.51.100.254/24 dev d0
ip -n "$D2" addr add 2001:db8:4::fe/64 dev d0 nodad
ip -n "$D2" link set d0 up
ip -n "$D2" route add 203.0.113.0/24 via 198.51.100.10
for i in $(seq 10 19); do
	ip -n "$B4" addr add 198.51.100.$i/24 dev b0
done
ip -n "$B4" addr add 2001:db8:4::10/64 dev b0 nodad
ip -n "$B4" addr add 2001:db8:4::11/64 dev b0 nodad
ip -n "$B4" link set b0 up
ip netns exec "$B4" sysctl -qw net.ipv4.ip_forward=1
# Every SYN to 203.0.113.9 gets its ICMP error: rejected by nf_tables
# (the kernel's own "no route" errors are limited to one a second), with
# no rate limit in $B4.
ip netns exec "$B4" sysctl -qw net.ipv4.icmp_ratelimit=0
ip -n "$B4" link add x0 type veth peer name x1
ip -n "$B4" link set x0 up
ip -n "$B4" link set x1 up
ip -n "$B4" route add 203.0.113.0/24 dev x0
# The SYNs that reach $B4's listener port, however they were sent.
ip netns exec "$B4" nft -f - <<'NFT' || bail "nft in $B4 failed"
table inet count {
	counter syns {
	}
	chain in {
		type filter hook input priority 0; policy accept;
		tcp dport 8090 tcp flags & (syn | ack) == syn counter name "syns"
	}
	chain reject_unrouted {
		type filter hook forward priority 0; policy accept;
		ip daddr 203.0.113.0/24 reject with icmp type net-unreachable
	}
}
NFT
# The listener (both families) accepts, counts in $T/accepted, and closes.
cat >"$T/count.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", 8090))
s.listen(128)
n = 0
while True:
    c, _ = s.accept()
    n += 1
    with open(sys.argv[1], "w") as f:
        f.write("%d\n" % n)
    c.close()
PY
echo 0 >"$T/accepted"
count_start()
{
	ip netns exec "$B4" python3 "$T/count.py" "$T/accepted" &
	echo $! >"$T/count.pid"
	wait_for 3000 sh -c "ip netns exec $B4 ss -Hltn 'sport = :8090' | grep -q ." ||
		bail "the counting listener did not start"
}
{
	echo "service add tcp 192.0.2.20:80 sched rr"
	for i in $(seq 10 19); do
		echo "backend add tcp 192.0.2.20:80 198.51.100.$i:8090"
	done
	echo "health tcp 192.0.2.20:80 check tcp interval 100ms timeout 90ms rise 2 fall 3"
	echo "service add tcp [2001:db8:20::1]:80 sched rr"
	echo "backend add tcp [2001:db8:20::1]:80 [2001:db8:4::10]:8090"
	echo "backend add tcp [2001:db8:20::1]:80 [2001:db8:4::11]:8090"
	echo "health tcp [2001:db8:20::1]:80 check tcp interval 100ms timeout 90ms rise 2 fall 3"
	echo "service add tcp 192.0.2.21:80 sched rr"
	echo "backend add tcp 192.0.2.21:80 203.0.113.9:8090"
	echo "health tcp 192.0.2.21:80 check tcp interval 100ms timeout 90ms rise 2 fall 3"
} >"$T/half.conf"
# counter NS NAME: NS's SNMP counter NAME.
counter()
{
	ip netns exec "$1" nstat -az "$2" | awk -v n="$2" '$1 == n { print $2 }'
}
syns()
{
	ip netns exec "$B4" nft -j list counter inet count syns |
		jq '.nftables[] | select(.counter) | .counter.packets'
}
tx_packets()
{
	ip netns exec "$D2" cat /sys/class/net/d0/statistics/tx_packets
}
# half_count JQ_TEST N: N members of 192.0.2.20 and [2001:db8:20::1] pass
# JQ_TEST.
half_count()
{
	[ "$("$VIPLB" -j health show socket "$T/half.sock" 2>/dev/null |
		jq "[.[] | select(.vip != \"192.0.2.21\") | select($1)] | length")" = "$2" ]
}

# half_open HOW PREFIX...: the checks of $T/half.conf by a viplbd started
# under PREFIX, which must send its SYNs HOW (raw or connect).
half_open()
{
	ho_how=$1
	shift
	"$VIPLB" -n "$D2" flush
	"$VIPLB" -n "$D2" restore "$T/half.conf"
	count_start
	ip netns exec "$D2" "$@" "$VIPLBD" -c "$T/half.conf" -s "$T/half.sock" \
		2>"$T/half.log" &
	HPID=$!
	defer "kill $HPID 2>/dev/null"
	wait_for 3000 half_count '.state == "up"' 12
	rc=$?
	check_eq "$ho_how: 12 members (10 IPv4, 2 IPv6) checked with tcp, up" "$rc" 0
	[ "$rc" -eq 0 ] || log "$("$VIPLB" health show socket "$T/half.sock" | grep -v ': up ')"
	if [ "$ho_how" = raw ]; then
		check_grep "$ho_how: viplbd sends its tcp checks' SYNs on raw sockets" \
			"^viplbd: tcp checks send SYNs on raw sockets from ports( [0-9]+){64}$" \
			"$(cat "$T/half.log")"
	else
		check_grep "$ho_how: without CAP_NET_RAW, viplbd says its tcp checks use connect()" \
			"^viplbd: tcp checks use connect\(\): .*Operation not permitted$" \
			"$(cat "$T/half.log")"
	fi
	opens0=$(counter "$D2" TcpActiveOpens)
	rsts0=$(counter "$D2" TcpOutRsts)
	tx0=$(tx_packets)
	syns0=$(syns)
	retrans0=$(counter "$B4" TcpExtTCPSynRetrans)
	passive0=$(counter "$B4" TcpPassiveOpens)
	aborted0=$(counter "$B4" TcpAttemptFails)
	accepted0=$(cat "$T/accepted")
	sleep 3
	opens=$(($(counter "$D2" TcpActiveOpens) - opens0))
	rsts=$(($(counter "$D2" TcpOutRsts) - rsts0))
	tx=$(($(tx_packets) - tx0))
	checks=$(($(syns) - syns0))
	retrans=$(($(counter "$B4" TcpExtTCPSynRetrans) - retrans0))
	passive=$(($(counter "$B4" TcpPassiveOpens) - passive0))
	aborted=$(($(counter "$B4" TcpAttemptFails) - aborted0))
	accepted=$(($(cat "$T/accepted") - accepted0))
	log "$ho_how, 3 s: $checks checks (SYNs received), $opens connect()s;" \
		"the director sent $tx packets, $rsts resets; the backends:" \
		"$aborted handshakes reset, $passive passive opens, $retrans" \
		"SYN-ACKs sent again; $accepted accepted"
	# 12 checks in flight at either end of the 3 s: +-12; the 13th
	# member's SYNs leave by d0 too (at most 30 in 3 s).
	check_eq "$ho_how: at least 240 checks in 3 s (12 members every 100 ms): $checks" \
		"$((checks >= 240))" 1
	if [ "$ho_how" = raw ]; then
		check_eq "$ho_how: ... none through connect()" "$opens" 0
	else
		check_eq "$ho_how: ... each through connect(): $opens" \
			"$((opens >= checks && opens <= checks + 12 + 30))" 1
	fi
	check_eq "$ho_how: ... the director sent 2 packets a check, the SYN and the reset: $tx for $checks" \
		"$((tx >= 2 * checks - 12 && tx <= 2 * checks + 12 + 30 + checks / 20))" 1
	check_eq "$ho_how: ... one of them a reset: $rsts" \
		"$((rsts >= checks - 12 && rsts <= checks + 12))" 1
	check_eq "$ho_how: ... the backends sent no SYN-ACK again" "$retrans" 0
	check_eq "$ho_how: ... their handshakes were reset in SYN_RECV: $aborted" \
		"$((aborted >= checks - 12 - checks / 20))" 1
	check_eq "$ho_how: ... they opened no connection: $passive" \
		"$((passive <= checks / 20))" 1
	check_eq "$ho_how: ... and the listener accepted none: $accepted" \
		"$((accepted <= checks / 20))" 1
	check_grep "$ho_how: a network $B4 rejects: down at the first check, on its ICMP error" \
		"^viplbd: tcp 192\.0\.2\.21:80 backend 203\.0\.113\.9:8090: unknown -> down, weight 0: first check: connect: Network is unreachable$" \
		"$(cat "$T/half.log")"
	check_eq "$ho_how: ... and at its last check" \
		"$("$VIPLB" -j health show socket "$T/half.sock" | jq -r '.[] | select(.vip == "192.0.2.21") | .reason')" \
		"connect: Network is unreachable"

	# The checks fail as they did: a timeout, then a refusal.
	ip netns exec "$B4" nft -f - <<'NFT'
table inet half {
	chain in {
		type filter hook input priority 0;
		tcp dport 8090 drop
	}
}
NFT
	wait_for 3000 half_count '.state == "down"' 12
	check_eq "$ho_how: SYNs dropped: all 12 down" "$?" 0
	check_eq "$ho_how: ... after 3 timeouts each" \
		"$(grep -cE '(198\.51\.100\.1[0-9]|\[2001:db8:4::1[01]\]):8090: up -> down, weight 0: 3 failures: no answer within 90ms$' "$T/half.log")" 12
	check_eq "$ho_how: ... weight 0 in the datapath" \
		"$("$VIPLB" -n "$D2" -j show | jq -c '[.[] | .backends[] | .weight] | unique')" '[0]'
	kill "$(cat "$T/count.pid")"
	ip netns exec "$B4" nft delete table inet half
	wait_for 3000 half_count '.reason == "connect: Connection refused"' 12
	check_eq "$ho_how: ... the listener gone: refused, all 12" "$?" 0
	count_start
	wait_for 3000 half_count '.state == "up"' 12
	check_eq "$ho_how: ... listening again: all 12 up" "$?" 0
	# (An IPv6 member's first SYN may wait for neighbour discovery.)
	check_eq "$ho_how: ... after 2 successes each" \
		"$(sed -n '/: up -> down, weight 0: 3 failures: no answer/,$p' "$T/half.log" |
			grep -cE '(198\.51\.100\.1[0-9]|\[2001:db8:4::1[01]\]):8090: down -> up, weight 1: 2 successes: connected$')" 12
	kill -TERM $HPID
	wait $HPID
	check_eq "$ho_how: ... that viplbd exits 0" "$?" 0
	kill "$(cat "$T/count.pid")"
	head -1 "$T/half.log" | sed 's/^/#   /'
}
half_open raw env
half_open connect setpriv --bounding-set=-net_raw

viplb_finish
