#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh: the viplb benchmark.  Runs as root INSIDE the test VM, e.g.
#
#	selftests/vm/run -t 3000 bench/run.sh
#
# (bench/bench.sh does that, then writes bench/results/).  It puts
# the same traffic through viplb nat (sched rr, plus maglev variants; on
# the module, and on viplb's nf_tables datapath, `viplb -d nft`), IPVS
# nat (rr), iptables DNAT in kube-proxy style (-m statistic, with both the
# nft and the legacy backend of iptables) and nftables (a verdict map and
# numgen), and prints one "BENCH ..." line per figure as soon as it has it
# (so that a run cut short still leaves its figures), then the tables.
#
# This is a benchmark, not a test: it fails only if it cannot run at all.
#
# Measurements
#
# 1. cps: new TCP connections per second.  Client netns -> director netns
#    -> 3 backend netns, one python3 server each (cps.py: send one byte,
#    close).  $BENCH_CLIENTS python3 clients in parallel in the client
#    netns, each doing connect/recv/close in a loop for $BENCH_CPS_SECONDS.
#    "plain" connects straight to the backends' addresses (routing only,
#    no NAT, no conntrack): the ceiling.  Director rebuilt per system.
#    "viplb-nft" is the same services as "viplb" (the module) loaded with
#    `viplb -d nft restore`: viplb's own nf_tables table (user/nft/), not
#    the hand-written ruleset of "nft".  The module stays loaded, but
#    registers its hooks only in a netns that has services of its own.
#
#      client bc                director bd                    backends
#      eth0 203.0.113.2 ----- c0 203.0.113.1
#                               br0 198.51.100.1 -+- vb1 -- eth0 of bb1 .11
#                                                 +- vb2 -- eth0 of bb2 .12
#                                                 +- vb3 -- eth0 of bb3 .13
#
# 2-4. pkt: the director alone.  A director netns "pd" with two dummy
#    devices: in0 (203.0.113.1/24), into which pktgen injects 64-byte UDP
#    packets with xmit_mode netif_receive (the packet enters the stack as
#    if received on in0; pktgen's thread does all the work of one packet
#    synchronously), and out0 (198.51.100.1/24, NOARP), where the 10
#    backends 198.51.100.11-20 live and whose xmit just frees the packet.
#    Each packet is routed (and NATed) once and then dropped by out0.
#      new: random source address (203.0.113.2-254) and port (1024-65535):
#           nearly every packet is a new flow (conntrack or IPVS entry).
#      est: one flow (established after its first packet).
#    pktgen's "Result:" pps gives ns/packet = 1e9 / pps (pktgen's own cost
#    included: subtract the "plain" figure for the NAT share).  Run for
#    N = 1, 100, 1000, 10000 services of 10 backends each; packets go to
#    the middle service (gen.py probe N).  out0's tx counter checks that
#    the packets were really forwarded (DNAT done: without it the VIP has
#    no route).  Extra baselines: "plain" (the packets are addressed to a
#    backend, no NAT, no conntrack) and "ct" (the same through an nft
#    nat chain whose one dnat rule never matches: conntrack and the NAT
#    core, no translation; an empty nat chain would not even turn
#    conntrack on).
#
# 5. load: seconds to load the N-service configuration of each system into
#    an empty director netns (viplb restore, viplb -d nft restore, ipvsadm -R,
#    iptables-{nft,legacy}-restore, nft -f), each under a time limit of
#    $BENCH_LOAD_TIMEOUT seconds.
#
# 6. rules: the cost of filter rules.  The pktgen director of 2-4, with K
#    = 10, 1000, 10000 rules in its filter FORWARD chain (gen.py rules K:
#    policy DROP, K - 1 rules that do not match, then the one that accepts
#    the flow), loaded from the same iptables-restore file by viplb-restore
#    (viplb's small iptables), iptables-legacy-restore and
#    iptables-nft-restore.  The packets are one UDP flow (pktgen "est":
#    203.0.113.2:10000 -> 198.51.100.11:8080, no NAT), so every packet
#    walks all K rules; the out0 counter checks that the last rule matched
#    (the policy drops the rest).  Measured as in 2-4, beside the
#    routing-only reference; records "rules-pkt SYSTEM K ..." and
#    "rules-load SYSTEM K SECONDS" (the time of the restore).  A system
#    without its tool (viplb-restore before the small iptables exists) is
#    recorded as "unavailable".
#
# 7. insn: guest instructions per packet, counted by a QEMU TCG plugin
#    (bench/insn/: its own boot, one vCPU, VIPLB_VM_PLUGIN; bench.sh
#    boots it).  The pktgen director of 2-4, pktgen bound to its one
#    thread with a packet count; insn_mark brackets the one write of
#    "start" to pgctrl with marker instructions, and the plugin appends
#    its running count at each to /run/vm/job/plugin.out: instructions
#    per packet = (second - first) / packets, pktgen's own work
#    included (the "plain" row).  Systems: routing only, routing with
#    conntrack ("ct": the nat hook's null binding, the floor of a nat
#    that conntrackd can carry), routing into the kernel's own ipip
#    device ("tunnel": the floor of tun), IPVS, both
#    iptables, nft, viplb rr and maglev (nat), and IPVS and viplb rr in
#    dr and tun (VIPs on lo, served at LOCAL_IN); at 1 and 10,000
#    services (the middle one probed), "est" (one flow) then "new"
#    (random sources), each after an unmeasured warm-up run whose flows
#    are then dropped.  The doubled runs go in a new director netns.  The systems of
#    VIPLB_BENCH_INSN_DOUBLE run 2 x packets too, at 1 service, to show
#    that the fixed cost between the marks is negligible.  Records
#    "insn SYSTEM N KIND PACKETS INSNS TX SENT [COUNTED]"; TX (out0) and,
#    for viplb, COUNTED (the service's packets) must equal PACKETS.
#    IPVS's and viplb's rate estimators are off while packets are
#    counted (run_estimation 0: a walk of every service every 2 s would
#    fall in a run or not), and counted on their own: the instructions
#    of VIPLB_BENCH_INSN_IDLE idle seconds with the estimator on and off,
#    "insn-idle SYSTEM N on|off SECONDS INSNS".
#
# Environment (VIPLB_* variables pass into the VM):
#	VIPLB_BENCH_ONLY	the parts to run, of "cps pkt rules" (default:
#				all; "rules" alone takes a few minutes); the
#				XDP part ("xdp") runs on the host: bench.sh
#				takes it out before starting the VM
#	VIPLB_BENCH_SIZES	service counts (default "1 100 1000 10000")
#	VIPLB_BENCH_RULE_SIZES	rule counts (default "10 1000 10000")
#	VIPLB_BENCH_RULE_SYSTEMS rules systems (default "viplb iptables-legacy
#				iptables", iptables being iptables-nft)
#	VIPLB_BENCH_SYSTEMS	pkt systems (default: all, see SYSTEMS below)
#	VIPLB_BENCH_CPS_SYSTEMS	cps systems (default: see CPS_SYSTEMS below)
#	VIPLB_BENCH_CPS_SECONDS	per cps run (default 5)
#	VIPLB_BENCH_CPS_ROUNDS	rounds over the cps systems (default 3)
#	VIPLB_BENCH_PKT_SECONDS	per pktgen run (default 3)
#	VIPLB_BENCH_PKT_PAIRS	runs per measurement, vCPUs swapped (default 2)
#	VIPLB_BENCH_LOAD_TIMEOUT per configuration load (default 600)
#	VIPLB_BENCH_BUDGET	seconds; past it, big loads are skipped
#				(default 2400)
#	VIPLB_BENCH_INSN_SIZES	insn service counts (default "1 10000")
#	VIPLB_BENCH_INSN_SYSTEMS insn systems (default: see INSN_SYSTEMS)
#	VIPLB_BENCH_INSN_PACKETS packets per insn run (default 20000)
#	VIPLB_BENCH_INSN_IDLE	idle seconds counted per estimator state
#				(default 6: three walks)
#	VIPLB_BENCH_INSN_DOUBLE	systems also run with 2 x packets (default
#				"plain ipvs viplb")
#	VIPLB_BENCH_CONF	pre-generated configurations (bench.sh makes
#				them on the host: faster than in the VM);
#				missing files are generated into /tmp

set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$here/.." && pwd -P)
PY=/usr/bin/python3

ONLY=$(echo "${VIPLB_BENCH_ONLY:-cps pkt rules}" | tr ',' ' ')
SIZES=${VIPLB_BENCH_SIZES:-1 100 1000 10000}
RULE_SIZES=${VIPLB_BENCH_RULE_SIZES:-10 1000 10000}
RULE_SYSTEMS=${VIPLB_BENCH_RULE_SYSTEMS:-viplb iptables-legacy iptables}
CPS_SECONDS=${VIPLB_BENCH_CPS_SECONDS:-5}
CPS_ROUNDS=${VIPLB_BENCH_CPS_ROUNDS:-3}
PKT_SECONDS=${VIPLB_BENCH_PKT_SECONDS:-3}
PKT_PAIRS=${VIPLB_BENCH_PKT_PAIRS:-2}
LOAD_TIMEOUT=${VIPLB_BENCH_LOAD_TIMEOUT:-600}
BUDGET=${VIPLB_BENCH_BUDGET:-2400}
CONF=${VIPLB_BENCH_CONF:-$repo/build/bench/conf}
CLIENTS=2
BACKENDS=10	# per service, in the pkt and load measurements

# The systems, in the order they run.  viplb-mg is maglev at the default
# (auto) table size, 1021 slots for 10 backends; viplb-mg65537 (tables of
# 65537 slots, built at commit) runs up to 1000 services only: 10,000
# such tables would need 1.3 GiB.
SYSTEMS=${VIPLB_BENCH_SYSTEMS:-plain ct viplb viplb-nft viplb-mg251 viplb-mg viplb-mg65537 ipvs iptables-legacy iptables nft}
CPS_SYSTEMS=${VIPLB_BENCH_CPS_SYSTEMS:-plain viplb viplb-nft ipvs iptables nft}
MG_MAX=1000

W=/tmp/viplb-bench
RAW=$W/raw.txt
START=$(date +%s)
rm -rf "$W"
mkdir -p "$W/conf"
: >"$RAW"

say()
{
	echo "# [$(($(date +%s) - START))s] $*"
}

# rec KIND SYSTEM N VALUE...: one result line, on stdout and in $RAW.
rec()
{
	echo "BENCH $*"
	echo "$*" >>"$RAW"
}

die()
{
	say "FATAL: $*"
	exit 1
}

elapsed()
{
	echo $(($(date +%s) - START))
}

# part NAME: whether VIPLB_BENCH_ONLY selects the part.
part()
{
	case " $ONLY " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

now_ns()
{
	date +%s%N
}

# ------------------------------------------------------------- systems ---

# conf_format SYSTEM: the gen.py format of its configuration.
conf_format()
{
	case $1 in
	viplb | viplb-nft) echo viplb-rr ;;
	viplb-mg251 | viplb-mg | viplb-mg65537 | viplb-dr | viplb-tun | \
		ipvs | ipvs-dr | ipvs-tun | nft) echo "$1" ;;
	iptables | iptables-legacy) echo iptables ;;
	*) echo none ;;
	esac
}

# conf_file SYSTEM PROTO N: the configuration file, made if missing.
conf_file()
{
	vf=$(conf_format "$1")
	[ "$vf" = none ] && { echo /dev/null; return 0; }
	vb=$BACKENDS
	[ "$2" = tcp ] && vb=3
	vfile=$CONF/$vf.$2.$3.$vb
	if [ ! -r "$vfile" ]; then
		vfile=$W/conf/$vf.$2.$3.$vb
		[ -r "$vfile" ] ||
			$PY -S "$here/gen.py" "$vf" "$2" "$3" "$vb" >"$vfile" ||
			return 1
	fi
	echo "$vfile"
}

# sys_load SYSTEM NETNS FILE: configure SYSTEM in NETNS from FILE.
sys_load()
{
	case $1 in
	plain) return 0 ;;
	tunnel)
		# The kernel's own IPIP: the probe's VIP routed into an ipip
		# device whose remote is the backend (the floor of tun).
		ip -n "$2" link add vt0 type ipip local 198.51.100.1 \
			remote 198.51.100.11 &&
			ip -n "$2" link set vt0 up &&
			ip -n "$2" route add 192.0.2.0/24 dev vt0
		;;
	ct)
		ip netns exec "$2" nft -f - <<-EOT
		table ip bench {
			chain prerouting {
				type nat hook prerouting priority dstnat; policy accept;
				ip daddr 192.0.2.255 dnat ip to 198.51.100.11
			}
		}
		EOT
		;;
	viplb-nft) ip netns exec "$2" viplb -d nft restore "$3" ;;
	viplb-dr | viplb-tun)
		# Served at LOCAL_IN, as IPVS: the VIPs are local addresses.
		ip -n "$2" route add local 192.0.2.0/24 dev lo &&
			ip netns exec "$2" viplb -d module restore "$3"
		;;
	viplb*) ip netns exec "$2" viplb -d module restore "$3" ;;
	ipvs | ipvs-dr | ipvs-tun)
		# IPVS schedules in LOCAL_IN: the VIPs must be local addresses.
		ip -n "$2" route add local 192.0.2.0/24 dev lo &&
			ip netns exec "$2" ipvsadm -R <"$3"
		;;
	iptables) ip netns exec "$2" iptables-nft-restore <"$3" ;;
	iptables-legacy) ip netns exec "$2" iptables-legacy-restore <"$3" ;;
	nft) ip netns exec "$2" nft -f "$3" ;;
	# 6. the same filter rules file for the three
	rules-viplb) ip netns exec "$2" viplb-restore <"$3" ;;
	rules-iptables) ip netns exec "$2" iptables-nft-restore <"$3" ;;
	rules-iptables-legacy) ip netns exec "$2" iptables-legacy-restore <"$3" ;;
	*) return 1 ;;
	esac
}

# sys_flush SYSTEM NETNS: remove the configuration (not timed), so that
# deleting the netns leaves no big cleanup running in the background.
sys_flush()
{
	case $1 in
	viplb-nft) ip netns exec "$2" viplb -d nft flush ;;
	viplb*) ip netns exec "$2" viplb -d module flush ;;
	ipvs | ipvs-dr | ipvs-tun) ip netns exec "$2" ipvsadm -C ;;
	iptables-legacy)
		ip netns exec "$2" iptables-legacy -t nat -F &&
			ip netns exec "$2" iptables-legacy -t nat -X
		;;
	ct | iptables | nft | rules-iptables)
		ip netns exec "$2" nft flush ruleset
		;;
	rules-viplb)
		ip netns exec "$2" viplb-restore <<-EOT
		*filter
		:INPUT ACCEPT [0:0]
		:FORWARD ACCEPT [0:0]
		:OUTPUT ACCEPT [0:0]
		COMMIT
		EOT
		;;
	rules-iptables-legacy)
		ip netns exec "$2" iptables-legacy -F &&
			ip netns exec "$2" iptables-legacy -P FORWARD ACCEPT
		;;
	esac >/dev/null 2>&1
	ip netns exec "$2" conntrack -F >/dev/null 2>&1
	return 0
}

# timed_load SYSTEM NETNS FILE N [KIND]: sys_load under the time limit;
# records "KIND SYSTEM N SECONDS" (or timeout/failed), KIND by default
# "load".  Returns 0 if it loaded.
timed_load()
{
	vkind=${5:-load}
	vt0=$(now_ns)
	( sys_load "$1" "$2" "$3" ) >"$W/load.out" 2>&1 &
	vpid=$!
	vto=0
	while kill -0 "$vpid" 2>/dev/null; do
		if [ $((($(now_ns) - vt0) / 1000000000)) -ge "$LOAD_TIMEOUT" ]; then
			pkill -TERM -P "$vpid" 2>/dev/null
			kill "$vpid" 2>/dev/null
			vto=1
			break
		fi
		sleep 0.05
	done
	wait "$vpid"
	vrc=$?
	vt1=$(now_ns)
	vs=$(awk -v a="$vt0" -v b="$vt1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
	if [ "$vto" = 1 ]; then
		rec "$vkind" "$1" "$4" "timeout>$LOAD_TIMEOUT"
		return 1
	fi
	if [ "$vrc" -ne 0 ]; then
		say "load of $1 N=$4 failed: $(head -c 600 "$W/load.out")"
		rec "$vkind" "$1" "$4" failed
		return 1
	fi
	rec "$vkind" "$1" "$4" "$vs"
	return 0
}

# ------------------------------------------------------------- pktgen ---

PD=bpd		# the director under test, rebuilt for each system and N
PREF=bpref	# routing only, kept for the whole run: the reference
PG=/proc/net/pktgen

# pg NETNS CMD...: write each CMD ("FILE:command") to pktgen in NETNS.
pg()
{
	vns=$1
	shift
	vscript=
	for vc in "$@"; do
		vscript="$vscript echo '${vc#*:}' > $PG/${vc%%:*} || echo 'pktgen: ${vc#*:} failed' >&2;"
	done
	ip netns exec "$vns" sh -c "$vscript"
}

# pd_create NETNS: a director netns for pktgen.
pd_create()
{
	ip netns add "$1" || return 1
	# shellcheck disable=SC2016 # expanded by the inner shell
	# No IPv6: its router solicitations and MLD reports would go out
	# of out0 too, and out0's counter must count the test's packets only.
	ip netns exec "$1" sh -c '
		ip link set lo up &&
		sysctl -qw net.ipv4.ip_forward=1 &&
		sysctl -qw net.ipv6.conf.all.disable_ipv6=1 &&
		sysctl -qw net.ipv6.conf.default.disable_ipv6=1 &&
		ip link add in0 type dummy &&
		ip link add out0 type dummy &&
		ip addr add 203.0.113.1/24 dev in0 &&
		ip addr add 198.51.100.1/24 dev out0 &&
		ip link set in0 up &&
		ip link set out0 up
		# pktgen threads are per netns; they may take a moment.
		for i in $(seq 100); do
			[ -w '"$PG/kpktgend_$(($(nproc) - 1))"' ] && exit 0
			sleep 0.05
		done
		exit 1' || return 1
}

pd_delete()
{
	ip netns del "$1" 2>/dev/null
	sleep 1
}

# pg_setup NETNS KIND DST PORT: the packets of a run of KIND (new, est).
pg_setup()
{
	if [ "$2" = new ]; then
		set -- "$1" "$3" "$4" "203.0.113.254" 1024 65535 "" ""
	else
		set -- "$1" "$3" "$4" "203.0.113.2" 10000 10000 "!" "!"
	fi
	pg "$1" "in0:dst $2" "in0:udp_dst_min $3" "in0:udp_dst_max $3" \
		"in0:src_min 203.0.113.2" "in0:src_max $4" \
		"in0:udp_src_min $5" "in0:udp_src_max $6" \
		"in0:flag ${7}IPSRC_RND" "in0:flag ${8}UDPSRC_RND"
}

# pg_go NETNS OUT: one pktgen run of $PKT_SECONDS in NETNS; writes out0's
# tx counter before and after, and pktgen's result, to OUT.
pg_go()
{
	ip netns exec "$1" sh -c "
		tx() { cat /sys/class/net/out0/statistics/tx_packets; }
		a=\$(tx)
		echo start > $PG/pgctrl &
		sleep $PKT_SECONDS
		echo stop > $PG/pgctrl
		wait
		b=\$(tx)
		echo \"tx \$a \$b\"
		grep -A1 '^Result:' $PG/in0" >"$2" 2>&1
}

# pg_result OUT: "PPS FORWARDED-FRACTION" from pg_go's OUT, or "failed".
pg_result()
{
	# Result: OK: 3554765(c3540548+d14217) usec, 106212 (64byte,0frags)
	#   29878pps 15Mb/sec (15297536bps) errors: 0
	awk '
		$1 == "tx" { d = $3 - $2 }
		$1 == "Result:" && $2 == "OK:" { sent = $5 }
		/pps/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+pps$/) pps = $i + 0 }
		END {
			if (sent > 0 && pps > 0) printf "%d %.3f\n", pps, d / sent
			else print "failed"
		}' "$1"
}

# pg_bind NETNS THREAD: in0 of NETNS is run by its pktgen thread THREAD
# (kpktgend_THREAD, bound to that CPU).  The threads drop their devices
# asynchronously: wait until in0 is gone before adding it again.
pg_bind()
{
	ip netns exec "$1" sh -c "
		for t in $PG/kpktgend_*; do
			echo rem_device_all > \$t
		done
		i=0
		while [ -e $PG/in0 ] && [ \$i -lt 200 ]; do
			sleep 0.05
			i=\$((i + 1))
		done
		echo 'add_device in0' > $PG/kpktgend_$2" ||
		say "pktgen: cannot bind in0 of $1 to thread $2"
	pg "$1" "in0:count 0" "in0:clone_skb 0" "in0:burst 1" \
		"in0:pkt_size 64" "in0:delay 0" "in0:xmit_mode netif_receive" \
		"in0:dst_mac $(ip -n "$1" -j link show in0 | jq -r '.[0].address')"
}

# pg_sent OUT: the packets pktgen sent in pg_go's OUT.
pg_sent()
{
	awk '$1 == "Result:" && $2 == "OK:" { print $5 + 0 }' "$1"
}

# viplb_of SYSTEM ARGS...: viplb in $PD, on SYSTEM's datapath.
viplb_of()
{
	vdp=module
	[ "$1" = viplb-nft ] && vdp=nft
	shift
	ip netns exec "$PD" viplb -d "$vdp" "$@"
}

# pkt_run KIND SYSTEM N DST PORT [REC]: $PKT_PAIRS runs of the system, each
# beside a run, at the same time on the other vCPU, of the reference
# director $PREF (routing only) in the same mode.  The VM's speed drifts
# with the host's load (other VMs): the twin runs see the same drift, and
# the report divides one by the other.  The pairs swap the vCPUs, so that
# a difference between the two vCPUs cancels out.  Records per pair
# "REC SYSTEM N PPS REF-PPS FORWARDED CPU [COUNTED]", REC by default
# "pkt-KIND".  For viplb's systems, COUNTED is the service's packet
# counter (viplb stats, zeroed before the run) over the packets sent.
pkt_run()
{
	vrk=${6:-pkt-$1}
	vsvc=
	case $2 in
	viplb*) vsvc="udp $4:$5" ;;
	esac
	for vi in $(seq "$PKT_PAIRS"); do
		# shellcheck disable=SC2086 # proto and VIP:PORT
		[ -z "$vsvc" ] || viplb_of "$2" stats zero $vsvc >/dev/null 2>&1
		vcpu=$(((vi + 1) % 2))
		pg_bind "$PD" "$vcpu"
		pg_bind "$PREF" $((1 - vcpu))
		pg_setup "$PREF" "$1" 198.51.100.11 8080
		pg_setup "$PD" "$1" "$4" "$5"
		pg_go "$PREF" "$W/ref.out" &
		vpid=$!
		pg_go "$PD" "$W/pg.out"
		wait "$vpid"
		vref=$(pg_result "$W/ref.out")
		vres=$(pg_result "$W/pg.out")
		if [ "$vres" = failed ] || [ "$vref" = failed ]; then
			say "pktgen $1 $2 N=$3: no result: $(cat "$W/pg.out" "$W/ref.out")"
			rec "$vrk" "$2" "$3" failed
			continue
		fi
		vcnt=
		if [ -n "$vsvc" ]; then
			# shellcheck disable=SC2086 # proto and VIP:PORT
			vcnt=$(viplb_of "$2" -j stats $vsvc |
				jq -r '.[0].stats.pkts_in' 2>/dev/null)
			vcnt=$(awk -v c="$vcnt" -v s="$(pg_sent "$W/pg.out")" \
				'BEGIN { if (s > 0 && c ~ /^[0-9]+$/) printf "%.3f", c / s; else print "?" }')
		fi
		rec "$vrk" "$2" "$3" "${vres% *}" "${vref% *}" "${vres#* }" "$vcpu" ${vcnt:+"$vcnt"}
		if awk -v f="${vres#* }" 'BEGIN { exit !(f < 0.99) }'; then
			say "WARNING: $2 N=$3 $1: only ${vres#* } of the packets were forwarded"
		fi
		if [ -n "$vcnt" ] && [ "$vcnt" != 1.000 ]; then
			say "WARNING: $2 N=$3 $1: viplb stats counted $vcnt of the packets sent"
		fi
	done
}

# pkt_system SYSTEM: every pktgen measurement of SYSTEM.
pkt_system()
{
	vsys=$1
	vsizes=$SIZES
	case $vsys in
	plain | ct) vsizes=1 ;;
	esac
	for vn in $vsizes; do
		if [ "$vsys" = viplb-mg65537 ] && [ "$vn" -gt "$MG_MAX" ]; then
			rec load "$vsys" "$vn" skipped
			continue
		fi
		if [ "$vn" -ge 10000 ] && [ "$(elapsed)" -gt "$BUDGET" ]; then
			say "over the time budget: skipping $vsys N=$vn"
			rec load "$vsys" "$vn" skipped
			continue
		fi
		vfile=$(conf_file "$vsys" udp "$vn") || {
			rec load "$vsys" "$vn" failed
			continue
		}
		pd_create "$PD" || die "cannot create the pktgen director netns"
		say "$vsys: $vn services"
		if timed_load "$vsys" "$PD" "$vfile" "$vn"; then
			case $vsys in
			plain | ct) vdst="198.51.100.11 8080" ;;
			*) vdst=$($PY -S "$here/gen.py" probe "$vn") ;;
			esac
			# shellcheck disable=SC2086 # two words: address, port
			{
				if [ "$vn" = 1 ]; then
					pkt_run est "$vsys" "$vn" $vdst
				fi
				pkt_run new "$vsys" "$vn" $vdst
			}
		fi
		sys_flush "$vsys" "$PD"
		pd_delete "$PD"
	done
}

# --------------------------------------------------------------- insn ---

# insn_udp_timeout SYSTEM [SECONDS]: the idle timeout of the UDP flows of
# IPVS's and viplb's dr/tun tables (which conntrack -F does not empty);
# without SECONDS, back to the default.
insn_udp_timeout()
{
	case $1 in
	ipvs*) ip netns exec "$PD" ipvsadm --set 0 0 "${2:-300}" ;;
	viplb-dr | viplb-tun)
		echo "${2:-$INSN_VIPLB_UDP}" >/sys/module/viplb/parameters/timeout_udp
		;;
	esac
}

# insn_estimation SYSTEM 0|1: turns the rate estimator of IPVS or viplb
# in $PD off or on (both sysctls are per netns; the other systems have
# none).  Off while packets are counted: the estimator walks every
# service and backend every 2 s, whatever the traffic, so a walk would
# add to a run's count or not by when it fell; insn_idle counts it.
insn_estimation()
{
	case $1 in
	ipvs*) ip netns exec "$PD" sysctl -qw net.ipv4.vs.run_estimation="$2" ;;
	viplb*) ip netns exec "$PD" sysctl -qw net.viplb.run_estimation="$2" ;;
	esac
}

# insn_between MARKS: the instructions between the two marks that follow
# the first MARKS marks of $INSN_FILE, or "failed".
insn_between()
{
	awk -v m="$1" '
		$1 == "mark" { n++; if (n == m + 1) a = $3; if (n == m + 2) b = $3 }
		END { if (n == m + 2 && b > a) printf "%.0f\n", b - a; else print "failed" }' "$INSN_FILE"
}

# insn_idle SYSTEM N: the guest's instructions over $INSN_IDLE_SECONDS
# with no traffic and no flows, the estimator of SYSTEM on and then off
# (2 s after each change: the load's own work is done); records
# "insn-idle SYSTEM N on|off SECONDS INSNS".  on − off is the cost of its
# walks of N services (one per 2 s).
insn_idle()
{
	for vest in 1 0; do
		insn_estimation "$1" "$vest"
		sleep 2
		vmarks=$(grep -c '^mark ' "$INSN_FILE")
		"$INSN_MARK"
		sleep "$INSN_IDLE_SECONDS"
		"$INSN_MARK"
		rec insn-idle "$1" "$2" "$([ "$vest" = 1 ] && echo on || echo off)" \
			"$INSN_IDLE_SECONDS" "$(insn_between "$vmarks")"
	done
}

# insn_pkt KIND SYSTEM N DST PORT PACKETS: pktgen sends PACKETS packets of
# KIND (new, est) into $PD, between the two marks of insn_mark (one
# write of "start" to pgctrl, which returns when they are all sent);
# records "insn SYSTEM N KIND PACKETS INSNS TX SENT [COUNTED]": the
# guest instructions between the marks, out0's tx delta, pktgen's count
# and, for viplb, the service's packet counter.
insn_pkt()
{
	vsvc=
	case $2 in
	viplb*) vsvc="udp $4:$5" ;;
	esac
	pg_bind "$PD" 0
	pg "$PD" "in0:count $6"
	pg_setup "$PD" "$1" "$4" "$5"
	# The same run once unmeasured, then its flows dropped: the measured
	# run finds the caches warm and the freed objects of as many flows,
	# as a director that has been running does, whichever the system.
	insn_udp_timeout "$2" 1
	pg "$PD" "pgctrl:start"
	ip netns exec "$PD" conntrack -F >/dev/null 2>&1
	sleep 2		# IPVS's and viplb dr/tun's flows expire
	insn_udp_timeout "$2"
	case $2 in
	ipvs*)
		# Only the one flow's, measured before the new flows (it
		# has the default timeout).
		vleft=$(ip netns exec "$PD" ipvsadm -Lnc | grep -c '^UDP')
		[ "$vleft" -le 1 ] || say "WARNING: insn $2: $vleft IPVS connections left"
		;;
	esac
	# shellcheck disable=SC2086 # proto and VIP:PORT
	[ -z "$vsvc" ] || viplb_of "$2" stats zero $vsvc >/dev/null 2>&1
	vmarks=$(grep -c '^mark ' "$INSN_FILE")
	vtx0=$(ip netns exec "$PD" cat /sys/class/net/out0/statistics/tx_packets)
	ip netns exec "$PD" "$INSN_MARK" "$PG/pgctrl" start ||
		say "insn: pktgen start failed in $PD"
	vtx1=$(ip netns exec "$PD" cat /sys/class/net/out0/statistics/tx_packets)
	# The two marks, numbered, right after those seen before the run.
	vins=$(insn_between "$vmarks")
	ip netns exec "$PD" cat "$PG/in0" >"$W/insn.pg"
	vsent=$(pg_sent "$W/insn.pg")
	vcnt=
	if [ -n "$vsvc" ]; then
		# shellcheck disable=SC2086 # proto and VIP:PORT
		vcnt=$(viplb_of "$2" -j stats $vsvc |
			jq -r '.[0].stats.pkts_in' 2>/dev/null)
		[ -n "$vcnt" ] || vcnt='?'
	fi
	rec insn "$2" "$3" "$1" "$6" "$vins" $((vtx1 - vtx0)) "${vsent:-?}" ${vcnt:+"$vcnt"}
}

# insn_system SYSTEM N: the instruction counts of SYSTEM with N services.
insn_system()
{
	vfile=$(conf_file "$1" udp "$2") || {
		rec insn-load "$1" "$2" failed
		return 0
	}
	pd_create "$PD" || die "cannot create the pktgen director netns"
	say "insn: $1, $2 services"
	if timed_load "$1" "$PD" "$vfile" "$2" insn-load; then
		case $1 in
		plain | ct) vdst="198.51.100.11 8080" ;;
		tunnel) vdst=$($PY -S "$here/gen.py" probe 1) ;;
		*) vdst=$($PY -S "$here/gen.py" probe "$2") ;;
		esac
		# The estimators first, with no flow yet: the flows of the
		# runs below would expire meanwhile, at a cost of their own.
		case $1 in
		ipvs* | viplb*) insn_idle "$1" "$2" ;;
		esac
		insn_estimation "$1" 0
		for vk in est new; do
			# shellcheck disable=SC2086 # two words: address, port
			insn_pkt "$vk" "$1" "$2" $vdst "$INSN_PACKETS"
		done
		# 2 x packets in a new director: nothing left of the runs
		# above (IPVS keeps its connections).
		case " $INSN_DOUBLE " in
		*" $1 "*)
			if [ "$2" = 1 ]; then
				sys_flush "$1" "$PD"
				pd_delete "$PD"
				pd_create "$PD" || die "cannot create the pktgen director netns"
				if timed_load "$1" "$PD" "$vfile" "$2" insn-reload; then
					insn_estimation "$1" 0
					for vk in est new; do
						# shellcheck disable=SC2086 # address, port
						insn_pkt "$vk" "$1" "$2" $vdst $((2 * INSN_PACKETS))
					done
				fi
			fi
			;;
		esac
	fi
	sys_flush "$1" "$PD"
	pd_delete "$PD"
}

# -------------------------------------------------------------- rules ---

# rules_system SYSTEM: load K filter rules with SYSTEM's restore tool into
# a fresh pktgen director, time it, and measure the per-packet cost of the
# one flow that goes through all of them, for each K.
rules_system()
{
	vsys=rules-$1
	case $1 in
	viplb) vtool=viplb-restore ;;
	iptables) vtool=iptables-nft-restore ;;
	iptables-legacy) vtool=iptables-legacy-restore ;;
	*) die "unknown rules system $1" ;;
	esac
	if ! command -v "$vtool" >/dev/null; then
		say "rules: $vtool not found: skipping $1"
		for vk in $RULE_SIZES; do
			rec rules-load "$vsys" "$vk" unavailable
		done
		return 0
	fi
	vwarm=1
	for vk in $RULE_SIZES; do
		vfile=$CONF/rules.$vk
		if [ ! -r "$vfile" ]; then
			vfile=$W/conf/rules.$vk
			[ -r "$vfile" ] ||
				$PY -S "$here/gen.py" rules "$vk" >"$vfile" || {
				rec rules-load "$vsys" "$vk" failed
				continue
			}
		fi
		if [ -n "$vwarm" ]; then
			# Once, untimed: the kernel modules the tool needs are
			# loaded, and its files are in the page cache.
			vwarm=
			ip netns add bwarm &&
				sys_load "$vsys" bwarm "$vfile" >/dev/null 2>&1
			sys_flush "$vsys" bwarm
			ip netns del bwarm 2>/dev/null
		fi
		pd_create "$PD" || die "cannot create the pktgen director netns"
		say "rules: $1, $vk rules"
		if timed_load "$vsys" "$PD" "$vfile" "$vk" rules-load; then
			pkt_run est "$vsys" "$vk" 198.51.100.11 8080 rules-pkt
		fi
		sys_flush "$vsys" "$PD"
		pd_delete "$PD"
	done
}

# ---------------------------------------------------------------- cps ---

BC="bc"
BD=bd
CPS_PORT=8080

cps_topology()
{
	for vns in $BC bb1 bb2 bb3; do
		ip netns add "$vns" || return 1
		ip -n "$vns" link set lo up
	done
	# The client only closes second (no TIME_WAIT), but keep ports plenty.
	ip netns exec $BC sysctl -qw net.ipv4.ip_local_port_range="10000 65000"
	for vi in 1 2 3; do
		ip netns exec "bb$vi" sysctl -qw net.ipv4.tcp_tw_reuse=1 \
			net.core.somaxconn=4096
		ip netns exec "bb$vi" $PY -S "$here/cps.py" server $CPS_PORT \
			"$W/server$vi.ready" >>"$W/servers.log" 2>&1 &
	done
	for _ in $(seq 300); do
		[ -e "$W/server1.ready" ] && [ -e "$W/server2.ready" ] &&
			[ -e "$W/server3.ready" ] && return 0
		sleep 0.1
	done
	say "servers did not start: $(cat "$W/servers.log")"
	return 1
}

# cps_director: a fresh director netns (and the veth pairs to it).
cps_director()
{
	if ip netns del $BD 2>/dev/null; then
		# The old veth ends in the client and backends go away with the
		# old director, asynchronously.
		for _ in $(seq 100); do
			ip -n $BC link show eth0 >/dev/null 2>&1 ||
				ip -n bb1 link show eth0 >/dev/null 2>&1 ||
				ip -n bb2 link show eth0 >/dev/null 2>&1 ||
				ip -n bb3 link show eth0 >/dev/null 2>&1 || break
			sleep 0.1
		done
	fi
	ip netns add $BD || return 1
	ip netns exec $BD sysctl -qw net.ipv4.ip_forward=1
	ip link add c0 netns $BD type veth peer name eth0 netns $BC || return 1
	ip -n $BC addr add 203.0.113.2/24 dev eth0
	ip -n $BC link set eth0 up
	ip -n $BC route add default via 203.0.113.1
	ip -n $BD link set lo up
	ip -n $BD link add br0 type bridge forward_delay 0
	ip -n $BD addr add 198.51.100.1/24 dev br0
	ip -n $BD link set br0 up
	ip -n $BD addr add 203.0.113.1/24 dev c0
	ip -n $BD link set c0 up
	for vi in 1 2 3; do
		ip link add "vb$vi" netns $BD type veth peer name eth0 \
			netns "bb$vi" || return 1
		ip -n $BD link set "vb$vi" master br0 up
		ip -n "bb$vi" addr add "198.51.100.1$vi/24" dev eth0
		ip -n "bb$vi" link set eth0 up
		ip -n "bb$vi" route add default via 198.51.100.1
	done
	# Wait for the bridge ports to forward (forward_delay 0).
	for _ in $(seq 50); do
		ip netns exec $BC ping -c1 -W1 198.51.100.13 >/dev/null 2>&1 &&
			return 0
		sleep 0.2
	done
	say "cps topology: no route from the client to the backends"
	return 1
}

# cps_run SYSTEM ROUND
cps_run()
{
	cps_director || { rec cps "$1" - failed; return 1; }
	vfile=$(conf_file "$1" tcp 1) || { rec cps "$1" - failed; return 1; }
	if ! sys_load "$1" $BD "$vfile" >"$W/load.out" 2>&1; then
		say "cps: load of $1 failed: $(head -c 600 "$W/load.out")"
		rec cps "$1" - failed
		return 1
	fi
	if [ "$1" = plain ]; then
		vt="198.51.100.11:$CPS_PORT 198.51.100.12:$CPS_PORT 198.51.100.13:$CPS_PORT"
	else
		vt=$($PY -S "$here/gen.py" probe 1 | tr ' ' ':')
	fi
	# One connection first: warm up (ARP, caches), and check it works.
	# shellcheck disable=SC2086 # targets
	ip netns exec $BC $PY -S "$here/cps.py" client 0 0.5 $vt >"$W/warm.out" 2>&1
	vstart=$(awk -v t="$(date +%s.%N)" 'BEGIN { printf "%.3f", t + 2 }')
	vpids=
	for vi in $(seq $CLIENTS); do
		# shellcheck disable=SC2086 # targets
		ip netns exec $BC $PY -S "$here/cps.py" client "$vstart" \
			"$CPS_SECONDS" $vt >"$W/client$vi.out" 2>&1 &
		vpids="$vpids $!"
	done
	# shellcheck disable=SC2086 # pids
	wait $vpids
	vrate=$(cat "$W"/client*.out | awk '
		$1 == "ok" { ok += $2; bad += $4; r += $2 / $6; n++ }
		END { if (n) printf "%.1f %d %d", r, ok, bad; else print "failed" }')
	# shellcheck disable=SC2086 # three numbers, or "failed"
	rec cps "$1" "$2" $vrate
	sys_flush "$1" $BD
}

# --------------------------------------------------------------- main ---

INSN_SIZES=${VIPLB_BENCH_INSN_SIZES:-1 10000}
INSN_SYSTEMS=${VIPLB_BENCH_INSN_SYSTEMS:-plain ct tunnel ipvs iptables-legacy iptables nft viplb viplb-mg ipvs-dr viplb-dr ipvs-tun viplb-tun}
INSN_PACKETS=${VIPLB_BENCH_INSN_PACKETS:-20000}
INSN_DOUBLE=${VIPLB_BENCH_INSN_DOUBLE:-plain ipvs viplb}
INSN_IDLE_SECONDS=${VIPLB_BENCH_INSN_IDLE:-6}
INSN_MARK=$here/insn/insn_mark
INSN_FILE=/run/vm/job/plugin.out

[ "$(id -u)" -eq 0 ] || die "must run as root (in the test VM)"
for vp in $ONLY; do
	case $vp in
	cps | pkt | rules | insn) ;;
	*) die "VIPLB_BENCH_ONLY: unknown part $vp (parts: cps pkt rules insn; xdp runs on the host, from bench.sh)" ;;
	esac
done
for vc in ip jq nft iptables-nft-restore iptables-legacy-restore ipvsadm \
	conntrack viplb /usr/bin/python3; do
	command -v "$vc" >/dev/null || die "$vc not found"
done

if part insn; then
	# Its own boot (bench.sh): one vCPU, bench/insn's plugin loaded.
	if [ -z "${VIPLB_VM_PLUGIN:-}" ] || [ ! -r "$INSN_FILE" ]; then
		die "the insn part needs the VM booted with VIPLB_VM_PLUGIN (bench/insn/libinsn_count.so)"
	fi
	[ "$(nproc)" = 1 ] || die "the insn part needs one vCPU"
	[ -x "$INSN_MARK" ] || die "$INSN_MARK not found (make -C bench/insn)"
fi

say "viplb benchmark: $(uname -r), $(nproc) CPUs, parts: $ONLY, sizes: $SIZES, rules: $RULE_SIZES"
rec info kernel - "$(uname -r)"
rec info cpus - "$(nproc)"
rec info mem_mib - "$(awk '/MemTotal/ { printf "%d", $2 / 1024 }' /proc/meminfo)"
rec info date - "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
rec info pkt_seconds - "$PKT_SECONDS"
rec info pkt_pairs - "$PKT_PAIRS"
rec info cps_seconds - "$CPS_SECONDS"
rec info cps_clients - "$CLIENTS"
rec info cps_rounds - "$CPS_ROUNDS"
rec info backends - "$BACKENDS"
rec info parts - "$ONLY"
if part insn; then
	rec info insn_packets - "$INSN_PACKETS"
	rec info insn_double - "$INSN_DOUBLE"
	rec info insn_idle_seconds - "$INSN_IDLE_SECONDS"
fi

# Modules.  viplb.ko needs nf_conntrack and nf_nat, which insmod does not
# load.  IPVS gets a connection table of 2^18 buckets (the default 2^12
# would make its new-flow runs walk long chains), conntrack a hash of
# 2^18 buckets and room for every flow of a run.
vko=$repo/kmod/viplb.ko
[ -r "$vko" ] || die "$vko not found (make module)"
vdeps=$(modinfo -F depends "$vko" | tr ',' ' ')
# shellcheck disable=SC2086 # module list
modprobe -a $vdeps nf_conntrack nf_nat || die "modprobe $vdeps"
insmod "$vko" || die "insmod $vko"
# 10,000 services of default Maglev tables pass viplb's per-netns caps;
# every netns made after this starts from these values.
sysctl -qw net.viplb.max_table_slots=4294967295 \
	net.viplb.max_backends=4294967295 net.viplb.max_services=4294967295 ||
	die "raise viplb's net.viplb caps"
modprobe ip_vs conn_tab_bits=18 || die "modprobe ip_vs"
modprobe ip_vs_rr || die "modprobe ip_vs_rr"
modprobe -a pktgen dummy veth bridge || die "modprobe pktgen dummy veth bridge"
modprobe ipip || die "modprobe ipip"
echo 262144 >/sys/module/nf_conntrack/parameters/hashsize
sysctl -qw net.netfilter.nf_conntrack_max=2097152
INSN_VIPLB_UDP=$(cat /sys/module/viplb/parameters/timeout_udp)
rec info conntrack_buckets - "$(cat /sys/module/nf_conntrack/parameters/hashsize)"

# 1. cps
if part cps && [ "$CPS_ROUNDS" -gt 0 ]; then
	say "connections per second: $CPS_ROUNDS rounds of $CPS_SYSTEMS"
	cps_topology || die "cannot build the cps topology"
	for vr in $(seq "$CPS_ROUNDS"); do
		for vs in $CPS_SYSTEMS; do
			cps_run "$vs" "$vr"
		done
	done
	for vns in $BC $BD bb1 bb2 bb3; do
		for vp in $(ip netns pids "$vns" 2>/dev/null); do
			kill "$vp" 2>/dev/null
		done
		ip netns del "$vns" 2>/dev/null
	done
fi

# 2-5. pktgen and loads
if part pkt || part rules; then
	pd_create "$PREF" || die "cannot create the reference netns"
fi
if part pkt; then
	for vs in $SYSTEMS; do
		say "pktgen and load: $vs"
		pkt_system "$vs"
	done
fi

# 7. insn: instructions per packet (the plugin's own boot)
if part insn; then
	for vn in $INSN_SIZES; do
		for vs in $INSN_SYSTEMS; do
			case $vs in
			plain | ct | tunnel) [ "$vn" = 1 ] || continue ;;
			esac
			insn_system "$vs" "$vn"
		done
	done
fi

# 6. rules
if part rules; then
	for vs in $RULE_SYSTEMS; do
		say "rules: $vs"
		rules_system "$vs"
	done
fi

say "done in $(elapsed)s"
rec info duration_s - "$(elapsed)"
$PY -S "$here/report.py" text "$RAW"
$PY -S "$here/report.py" rules "$RAW"
exit 0
