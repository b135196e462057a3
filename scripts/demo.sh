#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/demo.sh: the `make demo` walk-through.  It runs as root INSIDE the
# QEMU VM (make demo: selftests/vm/run -t 900 scripts/demo.sh) from the repo
# root, and builds this topology out of network namespaces and veth pairs
# (documentation addresses only; nothing leaves the VM):
#
#   demo-client               director (the VM's root netns)        demo-be1..3
#   +-----------------+       +------------------------------+
#   | 203.0.113.2/24  |--veth-| 203.0.113.1/24               |
#   +-----------------+       | VIP 192.0.2.10 (lo)          |     +------------------+
#                             | 198.51.100.1/30  ------------+-veth| 198.51.100.2:8080 |
#                             | 198.51.100.5/30  ------------+-veth| 198.51.100.6:8080 |
#                             | 198.51.100.9/30  ------------+-veth| 198.51.100.10:8080|
#                             +------------------------------+     +------------------+
#
# It loads viplb.ko, configures one VIP (tcp 192.0.2.10:80, nat mode,
# Maglev) with three backends of weights 1, 2 and 3 through the viplb CLI,
# sends 60 connections through it and shows how they were balanced, the
# per-backend stats and the conntrack entries.
#
# Then the XDP fast path: `viplb xdp attach` on the director's ingress
# veth (cli-d; be1-d..be3-d too, the devices XDP may redirect to, all in
# native veth mode), and a dr service, tcp 192.0.2.20:80, configured with
# the same viplb commands, which reach the module and the XDP maps alike.
# Its backends hold 192.0.2.20 on lo (arp_ignore) and answer on port 80;
# the director does not hold it.  30 connections to it are forwarded at
# XDP (XDP_REDIRECT to the backend's veth, with the backend's MAC from
# bpf_fib_lookup() and a per-CPU next-hop cache) and the module sees none of their packets, while the
# nat VIP is still passed to the module; `viplb xdp stats`, the
# per-backend counts and `viplb xdp lookup` beside `viplb service lookup`
# show it.  Last, the module is unloaded: XDP goes on serving the dr VIP
# from its pinned maps alone (the backends' MACs kept fresh by managed
# neighbour entries), viplb moves the nat VIP to nf_tables (its own table,
# inet viplb), XDP takes a change from the CLI (backend 3 drained) on its
# own, then is detached.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd -P)
ko=${VIPLB_KO:-$root/kmod/viplb.ko}
PATH=$root/user/viplb:$PATH
sfx=$$
CLIENT=demo-client-$sfx
BACKENDS=("demo-be1-$sfx" "demo-be2-$sfx" "demo-be3-$sfx")
VIP=192.0.2.10
DR_VIP=192.0.2.20
XDP_DEVS=(cli-d be1-d be2-d be3-d)
pids=()

step()
{
	echo
	echo "=== $* ==="
}

run()
{
	echo "\$ $*"
	"$@"
}

cleanup()
{
	local rc=$?

	set +e
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	# Detach before the devices go: a deleted device leaves its pins.
	for d in "${XDP_DEVS[@]}"; do
		viplb xdp detach "$d" >/dev/null 2>&1
	done
	for ns in "$CLIENT" "${BACKENDS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	ip addr del "$VIP/32" dev lo 2>/dev/null
	ip route del "$DR_VIP/32" 2>/dev/null
	if [ -d /sys/module/viplb ]; then
		viplb flush 2>/dev/null
		rmmod viplb 2>/dev/null
	fi
	if [ $rc -ne 0 ]; then
		echo
		echo "demo FAILED (exit $rc)" >&2
	fi
	exit $rc
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || { echo "demo: must run as root (in the VM)" >&2; exit 1; }
[ -r "$ko" ] || { echo "demo: $ko missing: run make" >&2; exit 1; }

step "1. Load the module"
deps=$(modinfo -F depends "$ko" | tr ',' ' ')
if [ -n "$deps" ]; then
	run modprobe -a $deps
fi
run insmod "$ko"
echo '$ lsmod | grep viplb'
lsmod | grep -E '^(Module|viplb)'

step "2. Build the topology: a client, the director and three backends"
sysctl -qw net.ipv4.ip_forward=1
ip netns add "$CLIENT"
ip link add cli-d type veth peer name eth0 netns "$CLIENT"
ip addr add 203.0.113.1/24 dev cli-d
ip link set cli-d up
ip -n "$CLIENT" addr add 203.0.113.2/24 dev eth0
ip -n "$CLIENT" link set lo up
ip -n "$CLIENT" link set eth0 up
ip -n "$CLIENT" route add default via 203.0.113.1
ip addr add "$VIP/32" dev lo
for i in 0 1 2; do
	ns=${BACKENDS[$i]}
	d=$((4 * i + 1))
	ip netns add "$ns"
	ip link add "be$((i + 1))-d" type veth peer name eth0 netns "$ns"
	ip addr add "198.51.100.$d/30" dev "be$((i + 1))-d"
	ip link set "be$((i + 1))-d" up
	ip -n "$ns" addr add "198.51.100.$((d + 1))/30" dev eth0
	ip -n "$ns" link set lo up
	ip -n "$ns" link set eth0 up
	ip -n "$ns" route add default via "198.51.100.$d"
	# A tiny server on port 8080 that names its backend.
	ip netns exec "$ns" socat TCP-LISTEN:8080,fork,reuseaddr \
		SYSTEM:"echo hello from backend $((i + 1))",nofork &
	pids+=($!)
done
# The dr VIP is not the director's: it routes it on towards the backends,
# so that what XDP passes up reaches the module at FORWARD.
ip route add "$DR_VIP/32" dev be1-d
echo "client    $CLIENT: 203.0.113.2, default via the director"
echo "director  root netns: 203.0.113.1, VIP $VIP on lo"
for i in 0 1 2; do
	echo "backend $((i + 1)) ${BACKENDS[$i]}: 198.51.100.$((4 * i + 2)):8080"
done

step "3. Check the plumbing: the client reaches each backend directly"
for i in 0 1 2; do
	a=198.51.100.$((4 * i + 2))
	n=0
	until out=$(ip netns exec "$CLIENT" socat -T 2 - "TCP:$a:8080,connect-timeout=2" </dev/null 2>/dev/null) &&
	      [ -n "$out" ]; do
		n=$((n + 1))
		[ $n -lt 20 ] || { echo "demo: backend $a:8080 unreachable" >&2; exit 1; }
		sleep 0.2
	done
	echo "client -> $a:8080: $out"
done

step "4. Configure the VIP with the viplb CLI"
run viplb service add tcp "$VIP:80"
run viplb backend add tcp "$VIP:80" 198.51.100.2:8080 weight 1
run viplb backend add tcp "$VIP:80" 198.51.100.6:8080 weight 2
run viplb backend add tcp "$VIP:80" 198.51.100.10:8080 weight 3

step "5. Show the configuration"
run viplb show
echo
run viplb stats
echo
run viplb -j -p show
n=$(viplb -j show | jq '.[0].backends | length')
[ "$n" = 3 ] || { echo "demo: expected 3 backends, got $n" >&2; exit 1; }

step "6. Traffic: 60 new connections from the client to the VIP"
declare -A hits=()
for n in $(seq 60); do
	out=$(ip netns exec "$CLIENT" socat -T 5 - "TCP:$VIP:80,connect-timeout=5" </dev/null 2>/dev/null) || true
	hits[${out:-no answer}]=$(( ${hits[${out:-no answer}]:-0} + 1 ))
done
for k in "${!hits[@]}"; do
	printf '%4d  %s\n' "${hits[$k]}" "$k"
done | sort -k5
echo "(weights 1:2:3, Maglev: expect about 10/20/30)"
for i in 1 2 3; do
	[ -n "${hits[hello from backend $i]:-}" ] ||
		{ echo "demo: backend $i got no connection" >&2; exit 1; }
done
echo
run viplb stats
echo
echo '$ conntrack -L -d '"$VIP"' | head -3'
conntrack -L -d "$VIP" 2>/dev/null | head -3 || true
echo
run viplb service lookup tcp "$VIP:80" from 203.0.113.2:40000

# connect_n N ADDR PORT: N connections from the client, then one line per
# distinct answer with its count.
connect_n()
{
	local n out
	declare -A got=()

	for n in $(seq "$1"); do
		out=$(ip netns exec "$CLIENT" socat -T 5 - "TCP:$2:$3,connect-timeout=5" </dev/null 2>/dev/null) || true
		got[${out:-no answer}]=$(( ${got[${out:-no answer}]:-0} + 1 ))
	done
	for out in "${!got[@]}"; do
		printf '%4d  %s\n' "${got[$out]}" "$out"
	done | sort -k5
}

# xdp_counter NAME: one global counter of `viplb -j xdp stats`.
xdp_counter()
{
	viplb -j xdp stats | jq ".counters.$1"
}

step "7. The XDP fast path: a dr VIP served at the driver"
# The backends take a dr VIP: 192.0.2.20 on lo, not answering ARP for it,
# and a server on port 80 (dr does not rewrite the port).
for i in 0 1 2; do
	ns=${BACKENDS[$i]}
	ip -n "$ns" addr add "$DR_VIP/32" dev lo
	ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.arp_ignore=1 \
		net.ipv4.conf.all.arp_announce=2
	# Frames redirected into a veth need NAPI at its peer: GRO on.
	ip netns exec "$ns" ethtool -K eth0 gro on >/dev/null
	ip netns exec "$ns" socat TCP-LISTEN:80,bind=$DR_VIP,fork,reuseaddr \
		SYSTEM:"echo hello from backend $((i + 1)) at XDP",nofork &
	pids+=($!)
	# The replies (from the VIP) come back through the director.
	sysctl -qw "net.ipv4.conf.be$((i + 1))-d.rp_filter=0"
done
sysctl -qw net.ipv4.conf.all.rp_filter=0
# What the client's veth sends is what a NIC puts on the wire: complete
# checksums (a native XDP frame loses the skb's "checksum partial" mark).
ip netns exec "$CLIENT" ethtool -K eth0 tx off tso off gso off >/dev/null
echo "backends 1-3: $DR_VIP on lo (arp_ignore 1), a server on $DR_VIP:80"
echo
run viplb xdp attach cli-d mode native flows 16384
for d in be1-d be2-d be3-d; do
	run viplb xdp attach "$d" mode native
done
run viplb xdp show
echo
echo "# One command, both datapaths: the module and the XDP maps."
run viplb service add tcp "$DR_VIP:80" mode dr
run viplb backend add tcp "$DR_VIP:80" 198.51.100.2 weight 1
run viplb backend add tcp "$DR_VIP:80" 198.51.100.6 weight 2
run viplb backend add tcp "$DR_VIP:80" 198.51.100.10 weight 3
run viplb show tcp "$DR_VIP:80"
filter='.services[] | [.proto, .vip, .port, .mode, [.backends[] | "\(.addr) w\(.weight)"]]'
echo "\$ viplb -j xdp stats | jq -c '$filter'"
viplb -j xdp stats | jq -c "$filter"
# Wait for the servers.
for i in 0 1 2; do
	n=0
	until ip netns exec "${BACKENDS[$i]}" ss -ltn | grep -q "$DR_VIP:80"; do
		n=$((n + 1))
		[ $n -lt 50 ] || { echo "demo: backend $((i + 1)) not listening on $DR_VIP:80" >&2; exit 1; }
		sleep 0.1
	done
done

echo
echo "# 30 connections to the dr VIP, 6 to the nat VIP, with XDP attached:"
run viplb stats zero
m0=$(viplb -j stats tcp "$DR_VIP:80" | jq '.[0].stats.pkts_in')
echo "\$ (30 x) socat - TCP:$DR_VIP:80"
xhits=$(connect_n 30 "$DR_VIP" 80)
printf '%s\n' "$xhits"
echo "(weights 1:2:3, Maglev at XDP: expect about 5/10/15)"
echo "\$ (6 x) socat - TCP:$VIP:80"
connect_n 6 "$VIP" 80
echo
run viplb xdp stats
echo
echo "# Per backend at XDP (packets, flows) and what the module saw of the dr VIP:"
viplb -j xdp stats | jq -r --arg vip "$DR_VIP" \
	'.services[] | select(.vip == $vip) | .backends[] |
	 "  \(.addr):\(.port) weight \(.weight): \(.stats.pkts_in) packets, \(.stats.conns) flows at XDP"'
m1=$(viplb -j stats tcp "$DR_VIP:80" | jq '.[0].stats.pkts_in')
echo "  the module: $((m1 - m0)) packets of $DR_VIP:80 (XDP forwarded them all)"
# Every connection answered, by at least two backends (with weights
# 1:2:3, backend 1 misses all 30 new flows once in about 240 runs).
if grep -q "no answer" <<<"$xhits" ||
   [ "$(grep -c "at XDP" <<<"$xhits")" -lt 2 ]; then
	echo "demo: the dr VIP was not served through XDP" >&2
	exit 1
fi
redir=$(xdp_counter redirect)
natp=$(xdp_counter pass_nat_mode)
if [ "$redir" -eq 0 ] || [ "$natp" -eq 0 ]; then
	echo "demo: XDP redirected $redir packets, passed $natp nat-mode packets" >&2
	exit 1
fi
echo
echo "# The same Maglev decision: the module's lookup and the XDP program's"
echo "# (run on a synthesized packet with BPF_PROG_TEST_RUN):"
for src in 203.0.113.2:40000 203.0.113.77:51234 203.0.113.200:33333; do
	run viplb service lookup tcp "$DR_VIP:80" from "$src"
	run viplb xdp lookup tcp "$DR_VIP:80" from "$src"
done

step "8. Unload the module (it frees the configuration)"
run rmmod viplb
if [ -d /sys/module/viplb ]; then
	echo "demo: viplb still loaded" >&2
	exit 1
fi
echo "viplb unloaded"

step "9. Without the module: XDP serves dr from its pinned maps, nf_tables serves nat"
run viplb show
# The backends' MACs: viplb keeps a managed neighbour entry for each (the
# kernel resolves it and keeps it fresh), not the module.
run ip neigh show proto 245
# connect_10 VIP BAD WHAT: 10 connections to VIP:80; fail with WHAT if an
# answer matches the pattern BAD.
connect_10()
{
	echo "\$ (10 x) socat - TCP:$1:80"
	xhits=$(connect_n 10 "$1" 80)
	printf '%s\n' "$xhits"
	if grep -q "$2" <<<"$xhits"; then
		echo "demo: $3" >&2
		exit 1
	fi
}
connect_10 "$DR_VIP" "no answer" "the dr VIP was not served without the module"
echo
echo "# Changes go to the maps now: drain backend 3 (weight 0).  Each command"
echo "# also writes the maps' nat services to nf_tables (table inet viplb)."
run viplb backend set tcp "$DR_VIP:80" 198.51.100.10 weight 0
connect_10 "$DR_VIP" "no answer\|backend 3" \
	"a new connection reached the drained backend 3 (or none was served)"
run viplb show
run nft list chains
connect_10 "$VIP" "no answer" "the nat VIP was not served by nf_tables"
echo "\$ viplb xdp stats | sed -n 1,2p"
viplb xdp stats | sed -n 1,2p
for d in "${XDP_DEVS[@]}"; do
	run viplb xdp detach "$d"
done
run viplb xdp show
echo
echo "demo done."
