#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# viplbd_cpu.sh: what viplbd costs at scale.  10,000 backends (50 nat
# services of 200 backends each, on nf_tables; or with DATAPATH=xdp, 50
# dr services on the XDP fast path) checked with tcp every 2 s against
# listeners in a network namespace; the director's CPU time over
# 60 s, as a percentage of one CPU: viplbd's (user + system, from
# /proc/PID/stat) and that of the thread that receives the replies on
# its veth end (threaded NAPI, below), apart from the backends' side.
# Run by make bench (bench.sh's health part, with PIN=1, once per
# datapath), or by hand; as root, on a host without the viplb module (it
# uses the nf_tables datapath, and with DATAPATH=xdp XDP beside it):
#
#   bench/viplbd_cpu.sh            # BACKENDS=10000 DURATION=60 INTERVAL=2s
#                                  # PIN=1: director and backends on CPUs of their own
#                                  # VIPLBD=, VIPLB=: other builds of viplbd, viplb
#                                  # DATAPATH=nft (default) or xdp
#                                  # FLOOR=0, 1 (default), xdp or bypass: below
#
#   director $D (viplbd)                      backends $B
#   d0 198.51.100.254/24 ------------------- b0 198.51.100.1-200/24
#   (xdp: viplb's XDP attached)                 one python3 listener on
#                                               0.0.0.0:8080 (xdp: :80),
#                                               accepting and closing
#
# The VIPs are 192.0.2.1-50, port 80; nothing is sent to them.
# DATAPATH=nft: nat services, backends 198.51.100.N:8080; nf_tables puts
# its nat hooks, and so conntrack, in the director's netns, and every
# probe packet goes through them.  DATAPATH=xdp: `viplb xdp attach d0`
# first (mounting a bpffs on /sys/fs/bpf if there is none, unmounted at
# exit if this run mounted it and no viplb state is pinned there), then
# dr services, backends 198.51.100.N (dr keeps the VIP's port, 80): XDP
# serves them, nf_tables gets no table, and the director's netns has no
# conntrack; the SYN-ACKs pass through the XDP and TC programs on d0.
# Both print the director's nf_tables nat chains and its conntrack
# entries (conntrack -C) at the end of the run.  Also printed: viplbd's
# user and system time apart and its voluntary context switches a
# second, the backends' NAPI thread and listener, the checks and resets
# a second (the SYNs the backends got, counted by nf_tables in their
# netns, and the director's Tcp OutRsts), drops, how many
# backends are up at the end (all should be), the checks that failed in
# the window (viplb health show's counters) and the transitions after the
# first results (there should be none of either); the director's TCP
# packets sent per check (d0's tx packets / SYNs: 2 for a half-open
# check, the SYN and the reset); the path the checks took (viplbd's log
# line on its tcp checks, and the director's Tcp ActiveOpens a second: 0
# when every SYN went out on the raw socket, one a check through
# connect()); and a "row:" line for the results
# table.  The PIDs of viplbd and of d0's NAPI thread are printed at the
# start, for perf -p.
# SYNC=N runs viplbd with -r N; XCHECKS=1 with -x (DATAPATH=xdp: its
# IPv4 tcp checks leave on AF_PACKET, their replies taken by viplb's XDP).
# KEEP_LOG=FILE keeps viplbd's log there.
#
# Then, unless FLOOR=0, the floor: viplbd is stopped and
# bench/syn_floor.c runs in its place (same netns, CPU, datapath and
# duration) and sends the same SYNs at the same rate and reads their
# SYN-ACKs, with nothing else; its figures, a "floor_row:" line, and
# viplbd's over the floor's ("viplbd / floor").  The kernel's work on a
# check's packets is in both: the ratio is what viplbd adds to it.  The
# run fails if the floor's SYNs were not all answered, or did not take
# the path named: the director's IP stack counts 44 bytes a SYN
# (IpExtOutOctets) when they leave through it, none with FLOOR=bypass.
# FLOOR=xdp: the floor of a prober whose replies never reach the network
# stack.  bench/syn_floor_xdp.bpf.c is attached to d0 (in place of
# viplb's XDP, detached first, with DATAPATH=xdp), its maps pinned under
# /sys/fs/bpf/$D-floor; syn_floor puts each batch's probes into its map
# with one bpf() call, XDP resets their SYN-ACKs itself (XDP_TX) and
# hands them over in a ring buffer.  The run fails unless XDP took the
# replies (no reset from the director's stack) and the backends got as
# many resets as SYNs, with no SYN-ACK sent again.
# FLOOR=bypass: as FLOOR=xdp, and the SYNs skip the IP stack too:
# syn_floor sends them as Ethernet frames on an AF_PACKET socket bound to
# d0 (PACKET_QDISC_BYPASS).  Neither then meets conntrack or nf_tables,
# on either datapath.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$here/.." && pwd -P)
VIPLB=${VIPLB:-$repo/user/viplb/viplb}
VIPLBD=${VIPLBD:-$repo/user/viplbd/viplbd}
PER_SERVICE=200
BACKENDS=${BACKENDS:-10000}
DURATION=${DURATION:-60}
INTERVAL=${INTERVAL:-2s}
DATAPATH=${DATAPATH:-nft}
FLOOR=${FLOOR:-1}
case $FLOOR in
0 | 1 | xdp | bypass) ;;
*)	echo "viplbd_cpu: FLOOR is 0, 1, xdp or bypass" >&2; exit 1 ;;
esac
# The SYN's conntrack entry would never see its reply: 120 s in SYN_SENT.
[ "$FLOOR:$DATAPATH" != xdp:nft ] ||
	{ echo "viplbd_cpu: FLOOR=xdp needs DATAPATH=xdp (with nft, FLOOR=bypass)" >&2; exit 1; }
case $DATAPATH in
nft)	MODE=nat LPORT=8080 BPORT=:8080 ;;
xdp)	MODE=dr LPORT=80 BPORT= ;;
*)	echo "viplbd_cpu: DATAPATH is nft or xdp" >&2; exit 1 ;;
esac

[ "$(id -u)" -eq 0 ] || { echo "viplbd_cpu: must run as root" >&2; exit 1; }
[ -x "$VIPLBD" ] || { echo "viplbd_cpu: $VIPLBD not built (make -C user)" >&2; exit 1; }
[ -e /sys/module/viplb ] && { echo "viplbd_cpu: the module is loaded: this bench is for nf_tables and XDP" >&2; exit 1; }
[ $((BACKENDS % PER_SERVICE)) -eq 0 ] ||
	{ echo "viplbd_cpu: BACKENDS must be a multiple of $PER_SERVICE" >&2; exit 1; }
SERVICES=$((BACKENDS / PER_SERVICE))

suffix=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
D=vbd-$suffix
B=vbb-$suffix
T=$(mktemp -d /tmp/viplbd_cpu.XXXXXX)
pids=""
xdp_dev=""
bpffs_mounted=""
floor_pin=""
cleanup()
{
	[ -z "$floor_pin" ] || rm -rf "$floor_pin"
	# The last detach in the netns unpins its programs and maps.
	[ -z "$xdp_dev" ] || "$VIPLB" -n "$D" xdp detach "$xdp_dev" || true
	# Another run's pinned state keeps the bpffs mounted.
	if [ -n "$bpffs_mounted" ]; then
		if [ -e /sys/fs/bpf/viplb ]; then
			echo "viplbd_cpu: /sys/fs/bpf/viplb in use: the bpffs stays mounted" >&2
		else
			umount /sys/fs/bpf || true
		fi
	fi
	for p in $pids; do
		kill "$p" 2>/dev/null || true
	done
	sleep 1
	# A daemon too busy to read its signalfd.
	for p in $pids; do
		kill -KILL "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	ip netns del "$D" 2>/dev/null || true
	ip netns del "$B" 2>/dev/null || true
	[ -z "${KEEP_LOG:-}" ] || cp "$T/log" "$KEEP_LOG" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

ip netns add "$D"
ip netns add "$B"
ip -n "$D" link set lo up
ip -n "$B" link set lo up
ip -n "$D" link add d0 type veth peer name b0 netns "$B"
ip -n "$D" addr add 198.51.100.254/24 dev d0
ip -n "$D" link set d0 up
for i in $(seq "$PER_SERVICE"); do
	echo "addr add 198.51.100.$i/24 dev b0"
done | ip -n "$B" -batch -
ip -n "$B" link set b0 up

# XCHECKS=1 with nf_tables: XDP too, for the checks' replies alone (nat
# services stay on nf_tables).
if [ "$DATAPATH" = xdp ] || [ -n "${XCHECKS:-}" ]; then
	if [ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" != bpf_fs ]; then
		mount -t bpf -o mode=0700 bpf /sys/fs/bpf
		bpffs_mounted=1
	fi
	"$VIPLB" -n "$D" xdp attach d0
	xdp_dev=d0
	"$VIPLB" -n "$D" xdp show | sed 's/^/  /'
fi

# Each end's receive in a kthread of its own, napi/DEV-ID, not in
# softirq on the sending CPU: the director's receive of the replies is
# charged to its thread, the backends' side of each handshake to theirs,
# and not to viplbd.  GRO gives a veth its NAPI, threaded NAPI runs it
# in the kthread; veth passes a TCP packet to the peer's NAPI only if
# the sending end has no TSO (veth_skb_is_eligible_for_gro()), so TSO
# is off on both ends (the checks send no data).  napi_threads NS DEV:
# the PIDs of DEV's new kthreads.
napi_threads()
{
	local before after p
	before=$(ps -e -o pid=,comm= | awk -v c="napi/$2-" 'index($2, c) == 1 { print $1 }')
	ip netns exec "$1" ethtool -K "$2" gro on tso off >/dev/null
	ip netns exec "$1" sh -c "echo 1 >/sys/class/net/$2/threaded"
	after=$(ps -e -o pid=,comm= | awk -v c="napi/$2-" 'index($2, c) == 1 { print $1 }')
	for p in $after; do
		echo "$before" | grep -qx "$p" || echo "$p"
	done
}
# Another run of this bench starts its own napi/d0 threads: one at a time.
exec 9>/tmp/viplbd_cpu.napi.lock
flock 9
DNAPI=$(napi_threads "$D" d0)
BNAPI=$(napi_threads "$B" b0)
flock -u 9
exec 9>&-
if [ -z "$DNAPI" ] || [ -z "$BNAPI" ]; then
	echo "viplbd_cpu: no threaded NAPI kthread for the veth ends" >&2
	exit 1
fi
# A veth's ring holds 256 packets: on a loaded host a NAPI thread that
# waits for a CPU for ~20 ms lets it overflow, and checks time out.  The
# threads run first (SCHED_FIFO); their time is still theirs.  And with
# a qdisc, a veth whose peer's ring is full stops its queue instead of
# dropping (as a NIC's ring does).
for p in $DNAPI $BNAPI; do
	chrt -f -p 10 "$p"
done
# PIN=1: the director (viplbd, d0's thread) on CPU 0 and the backends
# (b0's thread, the listener) on CPU 1, as if they were other machines:
# unpinned, a SYN sent by viplbd wakes b0's SCHED_FIFO thread on viplbd's
# own CPU, which preempts it, and viplbd pays that context switch.
if [ -n "${PIN:-}" ]; then
	for p in $DNAPI; do taskset -p -c 0 "$p" >/dev/null; done
	for p in $BNAPI; do taskset -p -c 1 "$p" >/dev/null; done
fi
tc -n "$D" qdisc replace dev d0 root pfifo limit 10000
tc -n "$B" qdisc replace dev b0 root pfifo limit 10000
# The checks, counted where they arrive: viplbd sends its SYNs through
# connect() or on a raw socket, which the director's Tcp counters miss.
ip netns exec "$B" nft -f - <<'EOF'
table inet vbd_count {
	counter syns {
	}
	counter resets {
	}
	chain in {
		type filter hook input priority 0; policy accept;
		tcp flags & (syn | ack) == syn counter name "syns"
		tcp flags & rst == rst counter name "resets"
	}
}
EOF

# The listener: accept and close, as fast as it can.
cat >"$T/listen.py" <<'EOF'
import socket
import sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(4096)
while True:
    c, _ = s.accept()
    c.close()
EOF
ip netns exec "$B" python3 "$T/listen.py" "$LPORT" &
LPID=$!
[ -z "${PIN:-}" ] || taskset -p -c 1 "$LPID" >/dev/null
pids="$pids $LPID"
# Listening before the first checks: one refused is a transition.
n=0
until ip netns exec "$B" ss -Hltn "sport = :$LPORT" | grep -q .; do
	n=$((n + 1))
	if [ $n -gt 100 ]; then
		echo "viplbd_cpu: the listener is not listening after 10 s" >&2
		exit 1
	fi
	sleep 0.1
done

{
	for s in $(seq "$SERVICES"); do
		echo "service add tcp 192.0.2.$s:80 sched rr mode $MODE"
		for i in $(seq "$PER_SERVICE"); do
			echo "backend add tcp 192.0.2.$s:80 198.51.100.$i$BPORT"
		done
		echo "health tcp 192.0.2.$s:80 check tcp interval $INTERVAL timeout 1s"
	done
} >"$T/viplb.conf"
"$VIPLB" -n "$D" restore "$T/viplb.conf"

ip netns exec "$D" "$VIPLBD" -c "$T/viplb.conf" -s "$T/viplbd.sock" ${SYNC:+-r "$SYNC"} ${XCHECKS:+-x} \
	2>"$T/log" &
DPID=$!
[ -z "${PIN:-}" ] || taskset -p -c 0 "$DPID" >/dev/null
pids="$DPID $pids"
echo "datapath $DATAPATH ($MODE services); viplbd pid $DPID, d0's NAPI thread ${DNAPI//$'\n'/ }"

# count STATE: how many backends viplbd has in STATE.
count()
{
	"$VIPLB" -j health show socket "$T/viplbd.sock" 2>/dev/null |
		python3 -c "import json, sys; print(sum(m['state'] == '$1' for m in json.load(sys.stdin)))"
}
# results: the checks' results so far and how many failed, over all
# backends.
results()
{
	"$VIPLB" -j health show socket "$T/viplbd.sock" |
		python3 -c "import json, sys; m = json.load(sys.stdin); print(sum(x['checks'] for x in m), sum(x['failed'] for x in m))"
}
n=0
until [ "$(count up 2>/dev/null || echo 0)" -eq "$BACKENDS" ]; do
	n=$((n + 1))
	if [ $n -gt 60 ]; then
		echo "viplbd_cpu: not every backend up after 60 s: $(count up) of $BACKENDS" >&2
		tail -5 "$T/log" >&2
		exit 1
	fi
	sleep 1
done

# ticks PID [FIELD]: user + system time of PID (or user or system alone:
# FIELD 12 or 13 after the command name, fields 14 and 15 of stat), in
# clock ticks.
ticks()
{
	sed 's/.*) //' "/proc/$1/stat" |
		awk -v f="${2:-0}" '{ print f ? $f : $12 + $13 }'
}
# sum_ticks PID...: their user + system time together.
sum_ticks()
{
	local p t=0
	for p in "$@"; do
		t=$((t + $(ticks "$p")))
	done
	echo $t
}
# tcp FIELD: the director's Tcp counter FIELD (/proc/net/snmp): OutRsts
# counts the checks' resets (sent by viplbd's connect(), or by the kernel
# for the SYN-ACK of a SYN that viplbd sent on its raw socket).
tcp()
{
	# shellcheck disable=SC2016
	ip netns exec "$D" awk -v f="$1" '/^Tcp:/ && !h { for (i = 1; i <= NF; i++) if ($i == f) c = i; h = 1; next }
		/^Tcp:/ { print $c }' /proc/net/snmp
}
# syns: the SYNs the backends received (the checks, however sent).
# syns_resets: those and the resets they received, in one read.
syns()
{
	syns_resets | cut -d' ' -f1
}
syns_resets()
{
	ip netns exec "$B" nft -j list counters table inet vbd_count |
		python3 -c 'import json, sys; c = {o["counter"]["name"]: o["counter"]["packets"] for o in json.load(sys.stdin)["nftables"] if "counter" in o}; print(c["syns"], c["resets"])'
}
# mib NS NAME: NS's counter NAME (nstat).
mib()
{
	ip netns exec "$1" nstat -az "$2" | awk -v n="$2" '$1 == n { print $2 }'
}
# tx_packets: what d0 sent.
tx_packets()
{
	ip netns exec "$D" cat /sys/class/net/d0/statistics/tx_packets
}
# vcs PID: its voluntary context switches (each wait that slept).
vcs()
{
	awk '/^voluntary_ctxt_switches:/ { print $2 }' "/proc/$1/status"
}
hz=$(getconf CLK_TCK)
v0=$(vcs $DPID)
d0=$(ticks $DPID)
u0=$(ticks $DPID 12)
l0=$(ticks $LPID)
# shellcheck disable=SC2086
dn0=$(sum_ticks $DNAPI)
# shellcheck disable=SC2086
bn0=$(sum_ticks $BNAPI)
o0=$(syns)
read -r c0 f0 <<<"$(results)"
vio0=$(mib "$D" IpExtOutOctets)
a0=$(tcp ActiveOpens)
r0=$(tcp OutRsts)
s0=$(tx_packets)
t0=$(date +%s%N)
sleep "$DURATION"
v1=$(vcs $DPID)
d1=$(ticks $DPID)
u1=$(ticks $DPID 12)
l1=$(ticks $LPID)
# shellcheck disable=SC2086
dn1=$(sum_ticks $DNAPI)
# shellcheck disable=SC2086
bn1=$(sum_ticks $BNAPI)
o1=$(syns)
read -r c1 f1 <<<"$(results)"
vio1=$(mib "$D" IpExtOutOctets)
a1=$(tcp ActiveOpens)
r1=$(tcp OutRsts)
s1=$(tx_packets)
t1=$(date +%s%N)
# Each check's conntrack entry stays 10 s in CLOSE after its reset (nat
# on nf_tables; none with XDP): about 50,000 at 5,000 checks a second
# from connect()'s ephemeral ports, at most 12,800 from the raw socket's
# 64 held ports to 200 addresses, whose tuples come back every 2.56 s
# (conntrack -C also counts expired ones not yet reaped).
ct=$(ip netns exec "$D" conntrack -C)
natchains=$(ip netns exec "$D" nft list ruleset | grep -c 'type nat hook' || true)
up=$(count up)
wall_ms=$(((t1 - t0) / 1000000))
pct()
{
	awk -v t="$1" -v hz="$hz" -v ms="$wall_ms" \
		'BEGIN { printf "%.2f", t / hz * 1000 / ms * 100 }'
}
# per_s COUNT: COUNT over the run, a second.
per_s()
{
	awk -v n="$1" -v ms="$wall_ms" 'BEGIN { printf "%.0f", n * 1000 / ms }'
}
trans=$(grep -c -- '-> .*weight' "$T/log" | awk -v b="$BACKENDS" '{ print $1 - b }')

echo "viplbd: $BACKENDS backends ($SERVICES services x $PER_SERVICE), tcp checks every $INTERVAL, over $((wall_ms / 1000)) s:"
echo "  director: $(pct $((d1 - d0 + dn1 - dn0)))% of one CPU"
echo "    viplbd user $(pct $((u1 - u0)))%, system $(pct $((d1 - d0 - u1 + u0)))%"
echo "    d0's NAPI thread (the replies received) $(pct $((dn1 - dn0)))%"
vcs_s=$(per_s $((v1 - v0)))
checks_s=$(per_s $((o1 - o0)))
echo "    viplbd's voluntary context switches: $vcs_s/s"
echo "  backends: b0's NAPI thread $(pct $((bn1 - bn0)))%, listener $(pct $((l1 - l0)))%"
echo "  checks: $checks_s/s (SYNs received in $B), resets sent $(per_s $((r1 - r0)))/s"
segs=$(awk -v s=$((s1 - s0)) -v o=$((o1 - o0)) 'BEGIN { printf "%.3f", o ? s / o : 0 }')
echo "  packets sent a check: $segs (d0's tx packets / SYNs)"
echo "  the checks' path: connect()s $(per_s $((a1 - a0)))/s (Tcp ActiveOpens in $D); $(grep -m1 '^viplbd: tcp checks ' "$T/log" || echo 'viplbd: (no line on its tcp checks)')"
echo "  the director's IP stack sent $(per_s $((vio1 - vio0))) bytes/s (IpExtOutOctets; a SYN is 44, the stack's reset 40)"
echo "  backends up at the end: $up of $BACKENDS; checks' results $((c1 - c0)), failed $((f1 - f0))"
tables=$(ip netns exec "$D" nft list tables | paste -sd ' ')
echo "  $D: conntrack entries at the end $ct (conntrack -C), nf_tables nat chains $natchains, tables: ${tables:-none}"
[ -z "$xdp_dev" ] ||
	"$VIPLB" -n "$D" xdp stats | sed -n '1,/^service/p' | grep -v '^service' | sed 's/^/    xdp: /'
echo "  viplbd's log: $(wc -l <"$T/log") lines; transitions other than the first: $trans"
{ grep -v 'unknown ->' "$T/log" | grep -- '->' | grep -v 'down -> up' || true; } | head -3 | sed 's/^/    /'
echo "  drops: $(ip -n "$D" -s -j link show d0 | python3 -c "import json,sys; s=json.load(sys.stdin)[0]['stats64']; print('d0 rx', s['rx']['dropped'], 'tx', s['tx']['dropped'])"), $(ip -n "$B" -s -j link show b0 | python3 -c "import json,sys; s=json.load(sys.stdin)[0]['stats64']; print('b0 rx', s['rx']['dropped'], 'tx', s['tx']['dropped'])")"
ip netns exec "$B" nstat -az TcpExtListenDrops TcpExtListenOverflows TcpExtTCPReqQFullDrop TcpExtTCPSynRetrans TcpPassiveOpens | grep -v '^#' | sed 's/^/    backends: /'
# One line for a table: user system dnapi director bnapi listener checks/s up transitions segments/check conntrack datapath vcs/s failed
echo "row: $(pct $((u1 - u0))) $(pct $((d1 - d0 - u1 + u0))) $(pct $((dn1 - dn0))) $(pct $((d1 - d0 + dn1 - dn0))) $(pct $((bn1 - bn0))) $(pct $((l1 - l0))) $checks_s $up $trans $segs $ct $DATAPATH $vcs_s $((f1 - f0))"
# The premise of each datapath's figures.
case $DATAPATH in
nft)	if [ -n "${XCHECKS:-}" ]; then
		# The checks' entries: only those of checks sent through the
		# stack (a backend's first ones, before its neighbour entry;
		# the one after a check that got no reply).
		want="nat chains" ok=$((natchains > 0))
	else
		want="conntrack entries and nat chains" ok=$((ct > 0 && natchains > 0))
	fi ;;
xdp)	want="no conntrack entry and no nat chain" ok=$((ct == 0 && natchains == 0)) ;;
esac
[ "$ok" -eq 1 ] || { echo "viplbd_cpu: $DATAPATH: expected $want in $D" >&2; exit 1; }
# -x: the checks left outside the stack, which then sent no reset and
# (IpExtOutOctets) almost none of their 44-byte SYNs; within 1%, for a
# reset the backends' SYN-ACK sent again gets from the stack.
if [ -n "${XCHECKS:-}" ] && { [ $((r1 - r0)) -gt $(((o1 - o0) / 100)) ] ||
	[ $((vio1 - vio0)) -gt $(((o1 - o0) * 44 / 100)) ]; }; then
	echo "viplbd_cpu: -x: the director's stack sent $((r1 - r0)) resets and $((vio1 - vio0)) bytes for $((o1 - o0)) checks" >&2
	exit 1
fi
[ "$up" -eq "$BACKENDS" ] || exit 1
[ "$FLOOR" != 0 ] || exit 0
vproc=$(pct $((d1 - d0)))
vdir=$(pct $((d1 - d0 + dn1 - dn0)))

# The floor: bench/syn_floor.c sends the same SYNs to the same backends
# at the same rate, in the same 10 ms batches, and reads their SYN-ACKs,
# with nothing else (no timers, results or weights); the kernel resets
# each SYN-ACK, as for viplbd.  Same netns, CPU and datapath, for as
# long, right after viplbd: what any prober of these checks pays here.
kill -TERM "$DPID"
wait "$DPID" 2>/dev/null || true
case $INTERVAL in
*ms)	interval_ms=${INTERVAL%ms} ;;
*s)	interval_ms=$((${INTERVAL%s} * 1000)) ;;
*)	interval_ms=$((INTERVAL * 1000)) ;;
esac
cc -O2 -Wall -o "$T/syn_floor" "$here/syn_floor.c" -lbpf
floor_args=()
if [ "$FLOOR" = xdp ] || [ "$FLOOR" = bypass ]; then
	if [ -n "$xdp_dev" ]; then
		"$VIPLB" -n "$D" xdp detach d0
		xdp_dev=""
	elif [ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" != bpf_fs ]; then
		mount -t bpf -o mode=0700 bpf /sys/fs/bpf
		bpffs_mounted=1
	fi
	clang -target bpf -O2 -g -Wall -I"/usr/include/$(cc -print-multiarch)" \
		-c "$here/syn_floor_xdp.bpf.c" -o "$T/syn_floor_xdp.o"
	floor_pin=/sys/fs/bpf/$D-floor
	mkdir "$floor_pin"
	bpftool prog load "$T/syn_floor_xdp.o" "$floor_pin/prog" type xdp \
		pinmaps "$floor_pin"
	# nsenter, not ip netns exec: that mounts a /sys of its own, without
	# the bpffs.
	nsenter --net="/run/netns/$D" bpftool net attach xdpdrv \
		pinned "$floor_pin/prog" dev d0
	floor_args=("$floor_pin")
	[ "$FLOOR" != bypass ] || floor_args+=(d0
		"$(ip -n "$D" -br link show d0 | awk '{ print $3 }')"
		"$(ip -n "$B" -br link show b0 | awk '{ print $3 }')")
	echo "floor: bench/syn_floor_xdp.bpf.c on d0$([ "$DATAPATH" = nft ] || echo " in place of viplb's XDP"):"
	ip -n "$D" -d link show d0 | grep -o 'prog/xdp.*' | sed 's/^/  /'
fi
nsenter --net="/run/netns/$D" "$T/syn_floor" 198.51.100.254 198.51.100.1 \
	"$PER_SERVICE" "$LPORT" "$BACKENDS" "$interval_ms" "${floor_args[@]}" >"$T/floor" &
FPID=$!
[ -z "${PIN:-}" ] || taskset -p -c 0 "$FPID" >/dev/null
pids="$FPID $pids"
sleep 5
f0=$(ticks $FPID)
fu0=$(ticks $FPID 12)
# shellcheck disable=SC2086
dn0=$(sum_ticks $DNAPI)
# shellcheck disable=SC2086
bn0=$(sum_ticks $BNAPI)
read -r o0 br0 < <(syns_resets)
sr0=$(mib "$B" TcpExtTCPSynRetrans)
# The bytes the director's IP stack sent: each SYN's 44 on the raw
# socket, none on AF_PACKET.
io0=$(mib "$D" IpExtOutOctets)
r0=$(tcp OutRsts)
s0=$(tx_packets)
t0=$(date +%s%N)
sleep "$DURATION"
f1=$(ticks $FPID)
fu1=$(ticks $FPID 12)
# shellcheck disable=SC2086
dn1=$(sum_ticks $DNAPI)
# shellcheck disable=SC2086
bn1=$(sum_ticks $BNAPI)
read -r o1 br1 < <(syns_resets)
sr1=$(mib "$B" TcpExtTCPSynRetrans)
io1=$(mib "$D" IpExtOutOctets)
r1=$(tcp OutRsts)
s1=$(tx_packets)
t1=$(date +%s%N)
kill -TERM "$FPID"
wait "$FPID" 2>/dev/null || true
wall_ms=$(((t1 - t0) / 1000000))
read -r _ fsent _ ffailed _ fsynacks _ fxdp <"$T/floor"
fdir=$(pct $((f1 - f0 + dn1 - dn0)))
fproc=$(pct $((f1 - f0)))
mode=
case $FLOOR in
xdp) mode=", replies at XDP" ;;
bypass) mode=", SYNs on AF_PACKET, replies at XDP" ;;
esac
echo "floor (bench/syn_floor.c in place of viplbd$mode), over $((wall_ms / 1000)) s:"
echo "  director: $fdir% of one CPU"
echo "    syn_floor user $(pct $((fu1 - fu0)))%, system $(pct $((f1 - f0 - fu1 + fu0)))%"
echo "    d0's NAPI thread (the replies received) $(pct $((dn1 - dn0)))%"
echo "  backends: b0's NAPI thread $(pct $((bn1 - bn0)))%"
echo "  checks: $(per_s $((o1 - o0)))/s (SYNs received in $B), resets sent $(per_s $((r1 - r0)))/s"
echo "  the backends: resets received $(per_s $((br1 - br0)))/s, SYN-ACKs sent again $((sr1 - sr0)) (TcpExtTCPSynRetrans)"
echo "  packets sent a check: $(awk -v s=$((s1 - s0)) -v o=$((o1 - o0)) 'BEGIN { printf "%.3f", o ? s / o : 0 }')"
echo "  the director's IP stack sent $(per_s $((io1 - io0))) bytes/s (IpExtOutOctets; a SYN is 44, the stack's reset 40)"
echo "  syn_floor: $fsent SYNs sent, $ffailed failed, $fsynacks SYN-ACKs read, $fxdp of them at XDP"
ratio()
{
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'
}
echo "viplbd / floor: viplbd $vproc% / syn_floor $fproc% = $(ratio "$vproc" "$fproc"), director $vdir% / $fdir% = $(ratio "$vdir" "$fdir")"
echo "floor_row: $fproc $fdir $(per_s $((o1 - o0))) $fsent $fsynacks $fxdp"
# Every SYN answered: the floor ran the path it claims.
if [ "$ffailed" -ne 0 ] || [ "$fsynacks" -lt $((fsent - fsent / 1000)) ]; then
	echo "viplbd_cpu: syn_floor: $fsynacks SYN-ACKs for $fsent SYNs, $ffailed failed" >&2
	exit 1
fi
# The SYNs' path: 44 bytes each through the director's IP stack (within
# 1%: the counters are read apart), or none there with FLOOR=bypass.
syn_bytes=$(((o1 - o0) * 44))
if [ "$FLOOR" = bypass ]; then
	[ $((io1 - io0)) -le $((syn_bytes / 100)) ] || {
		echo "viplbd_cpu: FLOOR=bypass: the director's IP stack sent $((io1 - io0)) bytes for $((o1 - o0)) SYNs" >&2
		exit 1
	}
elif [ $((io1 - io0)) -lt $((syn_bytes - syn_bytes / 100)) ]; then
	echo "viplbd_cpu: the director's IP stack sent $((io1 - io0)) bytes for $((o1 - o0)) SYNs of 44" >&2
	exit 1
fi
# XDP mode: XDP took the replies and sent the resets (not the stack),
# and each reached its backend (else it would send its SYN-ACK again).
if [ "$FLOOR" = xdp ] || [ "$FLOOR" = bypass ]; then
	if [ "$fxdp" -lt $((fsent - fsent / 1000)) ] ||
		[ "$((r1 - r0))" -gt $(((o1 - o0) / 1000)) ] ||
		[ "$((br1 - br0))" -lt $(((o1 - o0) - (o1 - o0) / 1000)) ] ||
		[ "$((sr1 - sr0))" -ne 0 ]; then
		echo "viplbd_cpu: syn_floor's XDP mode: $fxdp of $fsent SYN-ACKs at XDP, the stack sent $((r1 - r0)) resets, the backends got $((br1 - br0)) for $((o1 - o0)) SYNs and sent $((sr1 - sr0)) SYN-ACKs again" >&2
		exit 1
	fi
fi
