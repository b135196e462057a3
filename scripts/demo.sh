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
# per-backend stats and the conntrack entries, then unloads the module.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd -P)
ko=${VIPLB_KO:-$root/kmod/viplb.ko}
PATH=$root/user:$PATH
sfx=$$
CLIENT=demo-client-$sfx
BACKENDS=("demo-be1-$sfx" "demo-be2-$sfx" "demo-be3-$sfx")
VIP=192.0.2.10
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
	for ns in "$CLIENT" "${BACKENDS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	ip addr del "$VIP/32" dev lo 2>/dev/null
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

step "7. Unload the module (it frees the configuration)"
run rmmod viplb
if [ -d /sys/module/viplb ]; then
	echo "demo: viplb still loaded" >&2
	exit 1
fi
echo "viplb unloaded"
echo
echo "demo done."
