#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The schedulers with real TCP connections through the nat datapath.
#
#   client $C                 director $D                real servers
#   203.0.113.2 (and a   ---- 203.0.113.1  198.51.100.1 -+- $B1 198.51.100.11 "b1"
#   second address for sh)    viplb, one service per     +- $B2 198.51.100.12 "b2"
#   default via $D            scheduler                  +- $B3 198.51.100.13 "b3"
#                                                        each: default via $D
#
#   tcp 192.0.2.20:80 rr       -> :8081, weights 1 1 1
#   tcp 192.0.2.21:80 wrr      -> :8081, weights 1 2 3
#   tcp 192.0.2.22:80 maglev   -> :8081, weights 1 2 3
#   tcp 192.0.2.23:80 sh       -> :8081, weights 1 1 1
#   tcp 192.0.2.24:81 lc       -> :81,   weights 1 1 1
#
# On 8081 a real server sends its name and closes; on 81 it sends its
# name and then echoes until the client closes (lb_servers in lib.sh).
# One python3 process in the client opens the connections of each step
# and prints "SOURCE-PORT NAME" per connection.
#
#   rr      300 connections: exactly 100 each; 150/150 with b1 drained
#   wrr     300 connections: 50, 100, 150 (+- 2)
#   maglev  300 connections from source ports 40000..40299, each on the
#           backend `viplb service lookup' predicts, spread 1:2:3 within
#           4 standard deviations; the 3000 flows from ports 40000..42999
#           (lookups) within 15 % of 1:2:3; one 5-tuple twice (its
#           conntrack entry deleted in between) reaches the same backend
#   sh      300 connections from one address all reach one backend; a
#           second address that hashes elsewhere reaches its own one
#   lc      new connections go to the backend with the fewest open ones,
#           as long-lived connections are opened and closed

. "$(dirname "$0")/lib.sh"

require_root
lb_need_cmd conntrack jq python3
mod_fresh
dmesg_mark
lb_topo
lb_servers

C=$LB_C
D=$LB_D
T=$VIPLB_TMP
RR=192.0.2.20
WRR=192.0.2.21
MAGLEV=192.0.2.22
SH=192.0.2.23
LC=192.0.2.24

{
	echo "service add tcp $RR:80 sched rr"
	echo "service add tcp $WRR:80 sched wrr"
	echo "service add tcp $MAGLEV:80 sched maglev"
	echo "service add tcp $SH:80 sched sh"
	echo "service add tcp $LC:81 sched lc"
	for i in 1 2 3; do
		be=$(lb_be4 $i)
		echo "backend add tcp $RR:80 $be:8081"
		echo "backend add tcp $WRR:80 $be:8081 weight $i"
		echo "backend add tcp $MAGLEV:80 $be:8081 weight $i"
		echo "backend add tcp $SH:80 $be:8081"
		echo "backend add tcp $LC:81 $be:81"
	done
} >"$T/config"
check_viplb "configure the director" -n "$D" -b "$T/config" ||
	bail "cannot configure the director"

# The client.  Commands:
#   conns HOST PORT N [SRC [SPORT]]
#	N connections, up to 8 at a time, from address SRC (default: the
#	route's) and port SPORT, SPORT + 1, ... (default: any); each reads
#	the server's reply to the end.  Prints "SPORT NAME" per connection
#	in order, NAME "ERROR:..." if it failed.
#   lc HOST PORT VIPLB DIRECTOR
#	The lc scenario below; prints "STEP NAME ACTIVE" lines, where ACTIVE
#	is "b1=N,b2=N,b3=N", the active flows viplb reported just before.
cat >"$T/client.py" <<'EOF'
import json, socket, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor

NAMES = {"198.51.100.1%d" % i: "b%d" % i for i in (1, 2, 3)}

def reply(s, line=False):
    data = b""
    while not (line and b"\n" in data):
        d = s.recv(4096)
        if not d:
            break
        data += d
    words = data.decode(errors="replace").split()
    return words[0] if words else "EMPTY"

def conn(host, port, src="", sport=0, shut=False):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(10)
    try:
        if src or sport:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((src, sport))
        s.connect((host, port))
        sport = s.getsockname()[1]
        if shut:
            s.shutdown(socket.SHUT_WR)
        return sport, reply(s)
    except OSError as e:
        return sport, "ERROR:" + str(e).replace(" ", "_")
    finally:
        s.close()

def conns(host, port, n, src="", sport=0):
    def one(i):
        return conn(host, int(port), src, int(sport) + i if int(sport) else 0)
    # A few at a time: the VM is slow, and every one is a new flow anyway.
    with ThreadPoolExecutor(max_workers=8) as pool:
        for p, name in pool.map(one, range(int(n))):
            print(p, name)

def lc(host, port, viplb, director):
    port = int(port)

    def active():
        out = subprocess.run([viplb, "-n", director, "-j", "stats"],
                             check=True, capture_output=True).stdout
        for svc in json.loads(out):
            if svc["vip"] == host and svc["port"] == port:
                return {NAMES.get(b["addr"], b["addr"]): b["stats"]["active"]
                        for b in svc["backends"]}
        return {}

    def fmt(a):
        return ",".join("%s=%s" % (k, a[k]) for k in sorted(a))

    # Wait (up to 10 s) until viplb reports the active flows we hold:
    # closed connections are collected every 0.5 s.
    def settle():
        deadline = time.monotonic() + 10
        while True:
            a = active()
            if a == want or time.monotonic() > deadline:
                return fmt(a)
            time.sleep(0.2)

    held = {}
    want = {"b1": 0, "b2": 0, "b3": 0}

    def hold(step):
        state = settle()
        s = socket.create_connection((host, port), timeout=10)
        name = reply(s, line=True)
        held[step] = (s, name)
        if name in want:
            want[name] += 1
        print(step, name, state, flush=True)

    def short(step):
        state = settle()
        print(step, conn(host, port, shut=True)[1], state, flush=True)

    def release(step):
        s, name = held.pop(step)
        s.close()
        if name in want:
            want[name] -= 1

    hold("hold1")
    hold("hold2")
    for step in ("short1", "short2", "short3"):
        short(step)
    hold("hold3")
    release("hold2")
    short("short4")
    for step in list(held):
        release(step)
    print("final", "-", settle(), flush=True)

{"conns": conns, "lc": lc}[sys.argv[1]](*sys.argv[2:])
EOF

# client ARGS...: run the client in $C.
client()
{
	ip netns exec "$C" python3 -S "$T/client.py" "$@"
}

# counts FILE: "N1 N2 N3 NOTHER", the connections of FILE per backend.
counts()
{
	awk '{ c[$2]++ } END {
		printf "%d %d %d %d\n", c["b1"], c["b2"], c["b3"],
			NR - c["b1"] - c["b2"] - c["b3"] }' "$1"
}

# within DESC GOT WANT TOLERANCE
within()
{
	if [ "$2" -ge $(($3 - $4)) ] && [ "$2" -le $(($3 + $4)) ]; then
		pass "$1: $2 (want $3 +- $4)"
	else
		fail "$1: $2 (want $3 +- $4)"
	fi
}

# errors FILE: log the first failed connections of FILE, if any.
errors()
{
	grep -v ' b[1-3]$' "$1" | head -n 3 | while read -r l; do
		log "$l"
	done
}

# lookup_names SERVICE FILE: `viplb service lookup' for each "SRC:SPORT"
# line of FILE, printed as "SPORT NAME".
lookup_names()
{
	sed "s/^/service lookup tcp $1 from /" "$2" >"$T/lookup.batch"
	"$VIPLB" -n "$D" -j -b "$T/lookup.batch" |
		jq -r '"\(.sport) \(.backend.addr // "none")"' |
		sed 's/ 198\.51\.100\.1\([1-3]\)$/ b\1/'
}

# ---- rr
log "rr (t=${SECONDS}s)"
client conns $RR 80 300 >"$T/rr"
read -r n1 n2 n3 nx <<<"$(counts "$T/rr")"
check_eq "rr: 300 connections, 100 on each backend" "$n1 $n2 $n3 $nx" \
	"100 100 100 0" || errors "$T/rr"

# ---- rr with a drained backend: the others share its turns evenly
check_viplb "rr: drain b1" -n "$D" backend set tcp "$RR:80" "$(lb_be4 1):8081" weight 0
client conns $RR 80 300 >"$T/rr0"
read -r n1 n2 n3 nx <<<"$(counts "$T/rr0")"
check_eq "rr, b1 drained: 300 connections, 150 on b2 and b3" "$n1 $n2 $n3 $nx" \
	"0 150 150 0" || errors "$T/rr0"

# ---- wrr
log "wrr (t=${SECONDS}s)"
client conns $WRR 80 300 >"$T/wrr"
read -r n1 n2 n3 nx <<<"$(counts "$T/wrr")"
check_eq "wrr 1:2:3: every one of 300 connections served" "$nx" 0 ||
	errors "$T/wrr"
within "wrr 1:2:3: b1 (weight 1)" "$n1" 50 2
within "wrr 1:2:3: b2 (weight 2)" "$n2" 100 2
within "wrr 1:2:3: b3 (weight 3)" "$n3" 150 2

# ---- maglev
log "maglev (t=${SECONDS}s)"
# The flows are fixed (source ports 40000..), and so are the flow hash and
# the Maglev table: these counts only change with the code.  300 flows are too few for a 15 % bound
# (one standard deviation of a binomial draw is 13 % of b1's 50): that
# bound is checked on 3000 flows through service lookup, of which the
# first 300 go through as real connections, each checked against its
# lookup.
for i in $(seq 40000 42999); do
	echo "$LB_CLI4:$i"
done >"$T/maglev.flows"
lookup_names $MAGLEV:80 "$T/maglev.flows" >"$T/maglev.want"
read -r n1 n2 n3 nx <<<"$(counts "$T/maglev.want")"
check_eq "maglev 1:2:3: service lookup answers 3000 flows" "$nx" 0
within "maglev 1:2:3, 3000 flows (lookup): b1 (weight 1), 15 %" "$n1" 500 75
within "maglev 1:2:3, 3000 flows (lookup): b2 (weight 2), 15 %" "$n2" 1000 150
within "maglev 1:2:3, 3000 flows (lookup): b3 (weight 3), 15 %" "$n3" 1500 225
client conns $MAGLEV 80 300 "$LB_CLI4" 40000 >"$T/maglev"
read -r n1 n2 n3 nx <<<"$(counts "$T/maglev")"
check_eq "maglev 1:2:3: every one of 300 connections served" "$nx" 0 ||
	errors "$T/maglev"
within "maglev 1:2:3, 300 connections: b1 (weight 1), 4 sd" "$n1" 50 26
within "maglev 1:2:3, 300 connections: b2 (weight 2), 4 sd" "$n2" 100 33
within "maglev 1:2:3, 300 connections: b3 (weight 3), 4 sd" "$n3" 150 35
head -n 300 "$T/maglev.want" >"$T/maglev.want300"
if cmp -s "$T/maglev" "$T/maglev.want300"; then
	pass "maglev: each connection on the backend service lookup predicts"
else
	fail "maglev: each connection on the backend service lookup predicts" \
		"$(diff "$T/maglev.want300" "$T/maglev" | head -n 6)"
fi
# The same 5-tuple twice, its conntrack entry deleted in between.
client conns $MAGLEV 80 1 "$LB_CLI4" 41000 >"$T/maglev.again"
ip netns exec "$D" conntrack -D -p tcp -s "$LB_CLI4" -d $MAGLEV \
	--sport 41000 --dport 80 >/dev/null 2>&1
ct=$(ip netns exec "$D" conntrack -L -p tcp -d $MAGLEV --sport 41000 2>/dev/null)
check_eq "maglev: conntrack entry of 203.0.113.2:41000 deleted" "$ct" ""
client conns $MAGLEV 80 1 "$LB_CLI4" 41000 >>"$T/maglev.again"
echo "$LB_CLI4:41000" >"$T/again.flows"
want=$(lookup_names $MAGLEV:80 "$T/again.flows")
check_eq "maglev: the same 5-tuple twice reaches the same (predicted) backend" \
	"$(cat "$T/maglev.again")" "$want
$want"

# ---- sh
log "sh (t=${SECONDS}s)"
for i in $(seq 3 40); do
	echo "203.0.113.$i:1"
done >"$T/sh.flows"
echo "$LB_CLI4:1" >>"$T/sh.flows"
lookup_names $SH:80 "$T/sh.flows" >"$T/sh.want"
want1=$(tail -n 1 "$T/sh.want" | cut -d' ' -f2)
# A second client address that sh sends to another backend.
n=3
while read -r _ name; do
	[ "$name" != "$want1" ] && break
	n=$((n + 1))
done <"$T/sh.want"
cli2=203.0.113.$n
want2=$(sed -n "$((n - 2))p" "$T/sh.want" | cut -d' ' -f2)
if [ "$n" -gt 40 ] || [ -z "$want2" ] || [ "$want2" = none ]; then
	fail "sh: a second client address hashed to another backend" \
		"service lookup answers: $(tr '\n' ' ' <"$T/sh.want")"
else
	pass "sh: lookup sends $LB_CLI4 to $want1, $cli2 to $want2"
fi
ip -n "$C" addr add "$cli2/24" dev eth0
client conns $SH 80 300 >"$T/sh1"
got=$(awk '{ print $2 }' "$T/sh1" | sort | uniq -c | awk '{ print $2 "=" $1 }' |
	tr '\n' ' ')
check_eq "sh: 300 connections from $LB_CLI4 all on $want1" "${got% }" "$want1=300"
client conns $SH 80 100 "$cli2" >"$T/sh2"
got=$(awk '{ print $2 }' "$T/sh2" | sort | uniq -c | awk '{ print $2 "=" $1 }' |
	tr '\n' ' ')
check_eq "sh: 100 connections from $cli2 all on $want2" "${got% }" "$want2=100"

# ---- lc
log "lc (t=${SECONDS}s)"
# hold1, hold2: two long-lived connections, on two different backends;
# short1..3 (closed at once) must then go to the third one, which is the
# least loaded; hold3 too.  Closing hold2 makes its backend the least
# loaded, so short4 goes there.
client lc $LC 81 "$VIPLB" "$D" >"$T/lc"
declare -A lc_name lc_state
while read -r step name state; do
	lc_name[$step]=$name
	lc_state[$step]=$state
done <"$T/lc"
h1=${lc_name[hold1]} h2=${lc_name[hold2]}
case "$h1 $h2" in
b[1-3]\ b[1-3])
	if [ "$h1" != "$h2" ]; then
		pass "lc: two long-lived connections on two backends ($h1, $h2)"
	else
		fail "lc: two long-lived connections on two backends" "both on $h1"
	fi ;;
*)
	fail "lc: two long-lived connections on two backends" "$(cat "$T/lc")" ;;
esac
third=$(printf '%s\n' b1 b2 b3 | grep -vx -e "$h1" -e "$h2" | head -n 1)
st=$(for b in b1 b2 b3; do
	case $b in "$h1" | "$h2") printf '%s=1,' $b ;; *) printf '%s=0,' $b ;; esac
done)
check_eq "lc: stats show them active" "${lc_state[short1]}" "${st%,}"
for step in short1 short2 short3 hold3; do
	check_eq "lc: $step goes to the least loaded $third" \
		"${lc_name[$step]}" "$third"
done
st=$(for b in b1 b2 b3; do
	case $b in "$h2") printf '%s=0,' $b ;; *) printf '%s=1,' $b ;; esac
done)
check_eq "lc: after closing hold2, stats show $h2 idle" \
	"${lc_state[short4]}" "${st%,}"
check_eq "lc: short4 goes to $h2, now the least loaded" \
	"${lc_name[short4]}" "$h2"
check_eq "lc: every connection closed, stats show none active" \
	"${lc_state[final]}" "b1=0,b2=0,b3=0"

# ---- Teardown: stop every process, delete the namespaces, unload.
lb_teardown || fail "delete the namespaces"
check_ok "rmmod viplb after deleting the namespaces" mod_unload
dmesg_check "no kernel warning"
viplb_finish
