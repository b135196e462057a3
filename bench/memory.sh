#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# memory.sh: memory and setup time of 10,000 services x 10 backends with
# default settings (sched maglev, automatic table size; mode dr so that
# XDP serves them), from the kernel's own accounting.
#
#   memory.sh module   in the test VM (bench.sh boots it): load
#                      kmod/viplb.ko, sample /proc/meminfo (Slab,
#                      VmallocUsed, Percpu) before and after
#                      "viplb restore", time the restore, flush and sample
#                      again (the memory must come back); then time single
#                      backend changes on a 65537-slot service and on one
#                      with 4,096 backends, one of weight 65535
#   memory.sh xdp      on the host, as root, without the module: in a
#                      private pid and mount namespace and a netns, attach
#                      XDP (generic) to a veth, time "viplb restore" into
#                      the maps, and sum the maps' memlock (bpftool's
#                      bytes_memlock, the kernel's map_mem_usage()) before
#                      and after, and each map's; 10 backends per service
#                      (VIPLB_BENCH_MEM_XDP_BACKENDS: fewer give the same
#                      automatic M down to 6, and the backend maps are
#                      arrays of a fixed size)
#
#   memory.sh all      both (the module part in the test VM, through
#                      selftests/vm/run, or $VIPLB_VM_RUN), plus
#                      bench/maglev_balance.c, prints the figures and
#                      writes them to bench/results/memory_run.md (the
#                      analysis is bench/results/memory.md); bench.sh
#                      runs this for VIPLB_BENCH_ONLY=mem
#
# Each part prints "mem: KEY VALUE" lines (bytes, seconds).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$here/.." && pwd -P)
VIPLB=${VIPLB:-$repo/user/viplb/viplb}
N=${VIPLB_BENCH_MEM_SERVICES:-10000}
B=${VIPLB_BENCH_MEM_BACKENDS:-10}
part=${1:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

say() { echo "mem: $*"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }

# N services of B backends each, default sched and table size, mode dr.
gen()
{
	awk -v n="$N" -v b="$B" 'BEGIN {
		for (i = 0; i < n; i++) {
			vip = sprintf("192.0.2.%d:%d", 1 + i % 250, 1000 + int(i / 250))
			printf "service add tcp %s mode dr\n", vip
			for (j = 0; j < b; j++)
				printf "backend add tcp %s 198.51.100.%d:8080\n", vip, 11 + j
		}
	}'
}

# Kernel memory in bytes: slab + vmalloc + percpu, from /proc/meminfo.
kmem()
{
	sync
	echo 2 >/proc/sys/vm/drop_caches 2>/dev/null || true
	awk '/^(Slab|VmallocUsed|Percpu):/ { s += $2 } END { print s * 1024 }' \
		/proc/meminfo
}

meminfo_line()
{
	awk '/^(Slab|SUnreclaim|VmallocUsed|Percpu):/ { printf "%s %s kB  ", $1, $2 }' \
		/proc/meminfo
	echo
}

# Seconds per change: K weight changes of one backend in one batch,
# minus the same on a 2-backend service, divided by K.
per_change()
{
	local svc=$1 be=$2 k=40 t0 t1 i
	for i in $(seq 1 $k); do
		echo "backend set tcp $svc $be weight $((i % 2 + 1))"
	done >"$tmp/b1"
	for i in $(seq 1 $k); do
		echo "backend set tcp 203.0.113.1:9 198.51.100.11:80 weight $((i % 2 + 1))"
	done >"$tmp/b0"
	t0=$(now)
	"$VIPLB" -b "$tmp/b0" >/dev/null
	t0=$(since "$t0")
	t1=$(now)
	"$VIPLB" -b "$tmp/b1" >/dev/null
	t1=$(since "$t1")
	awk -v a="$t0" -v b="$t1" -v k=$k 'BEGIN { printf "%.6f", (b - a) / k }'
}

module_part()
{
	local m0 m1 m2 t
	[ -e /sys/module/viplb ] || insmod "$repo/kmod/viplb.ko"
	"$VIPLB" flush
	gen >"$tmp/conf"
	say "config $N services x $B backends, sched maglev, table-size automatic"
	meminfo_line | sed 's/^/mem: before /'
	m0=$(kmem)
	t=$(now)
	"$VIPLB" restore "$tmp/conf"
	t=$(since "$t")
	m1=$(kmem)
	meminfo_line | sed 's/^/mem: after /'
	say "module_restore_s $t"
	say "module_bytes $((m1 - m0))"
	say "module_table_size $("$VIPLB" -j service show tcp 192.0.2.1:1000 |
		jq '.[0].table_size')"
	"$VIPLB" flush
	# The module frees after an RCU grace period: sample until the
	# figure stops falling (under 1 MiB a second), for up to 30 s.
	m2=$(kmem)
	for t in $(seq 1 30); do
		sleep 1
		m1=$(kmem)
		[ $((m2 - m1)) -ge 1048576 ] || break
		m2=$m1
	done
	m2=$m1
	say "module_after_flush_bytes $((m2 - m0))"
	say "module_after_flush_s $t"
	say "module_kernel $(uname -r)"

	# One change on a 65537-slot service of 10 backends.
	{
		echo "service add tcp 203.0.113.1:9 table-size 251"
		echo "backend add tcp 203.0.113.1:9 198.51.100.11:80"
		echo "backend add tcp 203.0.113.1:9 198.51.100.12:80"
		echo "service add tcp 203.0.113.2:9 table-size 65537"
		for j in $(seq 11 20); do
			echo "backend add tcp 203.0.113.2:9 198.51.100.$j:80"
		done
		# 4,096 backends, one of weight 65535.
		echo "service add tcp 203.0.113.3:9 table-size 65537"
		echo "backend add tcp 203.0.113.3:9 198.51.100.1:1 weight 65535"
		for j in $(seq 2 4096); do
			echo "backend add tcp 203.0.113.3:9 198.51.100.1:$j"
		done
	} >"$tmp/one"
	"$VIPLB" restore "$tmp/one"
	say "module_change_65537_s $(per_change 203.0.113.2:9 198.51.100.11:80)"
	say "module_change_skewed_s $(per_change 203.0.113.3:9 198.51.100.1:2)"
	"$VIPLB" flush
	# The builder alone (built by all_parts), here under TCG.
	[ ! -x "$repo/build/maglev_balance" ] ||
		"$repo/build/maglev_balance" time | sed 's/^/mem: vm_/'
}

# viplb's maps (ids above $1).
xdp_maps()
{
	bpftool map show -j | jq --argjson min "$1" '
		[.[] | select(.id > $min and (.name | test(
		"^(vip_gen|vips|svcs|pools|backends|flows|svc_stats|be_stats|stats|config|tx_ports|vlans|rr_next|nh_cache|viplb_pool)$")))]'
}

# Sum of their bytes_memlock, and of the slot pools'.
xdp_memlock()
{
	xdp_maps "$1" | jq -r '
		"\(map(.bytes_memlock) | add // 0) \(map(select(.name == "viplb_pool") | .bytes_memlock) | add // 0) \(map(select(.name == "viplb_pool")) | length)"'
}

xdp_part()
{
	local min m0 m1 t
	if [ "${VIPLB_MEM_NS:-}" != "$0" ]; then
		export VIPLB_MEM_NS="$0" VIPLB_MEM_ID=$$
		exec unshare --pid --mount-proc --kill-child=TERM \
			--propagation private "$0" xdp
	fi
	while [ "$(stat -f -c %T /sys/fs/bpf)" = bpf_fs ]; do
		umount -l /sys/fs/bpf
	done
	[ ! -e /sys/module/viplb ] || { say "the module is loaded: XDP alone needs it absent"; exit 1; }
	ns=viplb-mem-$VIPLB_MEM_ID
	ip netns add "$ns"
	trap 'ip netns del "$ns" 2>/dev/null; rm -rf "$tmp"' EXIT
	ip -n "$ns" link add d0 type veth peer name d1
	ip -n "$ns" link set d0 up
	ip -n "$ns" link set d1 up
	min=$(bpftool map show -j | jq '[.[].id] | max // 0')
	"$VIPLB" -n "$ns" xdp attach d0 mode generic
	read -r m0 _ <<<"$(xdp_memlock "$min")"
	B=${VIPLB_BENCH_MEM_XDP_BACKENDS:-10}
	gen >"$tmp/conf"
	say "config $N services x $B backends, sched maglev, table-size automatic, mode dr"
	t=$(now)
	"$VIPLB" -n "$ns" restore "$tmp/conf"
	t=$(since "$t")
	read -r m1 pool npools <<<"$(xdp_memlock "$min")"
	say "xdp_restore_s $t"
	say "xdp_maps_empty_bytes $m0"
	say "xdp_maps_bytes $m1"
	say "xdp_maps_added_bytes $((m1 - m0))"
	say "xdp_pool_bytes $pool"
	say "xdp_pools $npools"
	xdp_maps "$min" | jq -r '.[] | "xdp_map \(.name) \(.bytes_memlock) \(.max_entries)"' |
		while read -r _ name bytes entries; do
			say "xdp_map $name $bytes $entries"
		done
	"$VIPLB" -n "$ns" xdp detach d0 >/dev/null 2>&1 || true
}

val() { awk -v k="$2" '$1 == "mem:" && $2 == k { print $3 }' "$1"; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

all_parts()
{
	local xo=build/bench-mem-xdp.out mo=build/bench-mem-module.out
	local bo=build/bench-mem-balance.md md=bench/results/memory_run.md
	cd "$repo"
	mkdir -p build
	cc -O2 -Wall -Iinclude -Iinclude/uapi -o build/maglev_balance \
		bench/maglev_balance.c
	build/maglev_balance >"$bo"
	build/maglev_balance time | sed 's/^/mem: host_/' >build/bench-mem-builder.out
	"$here/memory.sh" xdp >"$xo" 2>&1 || { cat "$xo"; exit 1; }
	${VIPLB_VM_RUN:-selftests/vm/run} -t 1800 bench/memory.sh module \
		>"$mo" 2>&1 || { tail -20 "$mo"; exit 1; }
	{
		echo "# viplb benchmark: memory and setup at 10,000 services"
		echo
		echo "Made by \`bench/memory.sh all\` (\`VIPLB_BENCH_ONLY=mem make bench\`),"
		echo "$(date -u +%Y-%m-%dT%H:%M:%SZ). Default settings: sched maglev and the"
		echo "automatic table size (\`viplb_maglev_auto_size()\` in"
		echo "include/viplb/maglev.h: 1021 slots for 6 to 10 backends); mode dr."
		echo
		echo "## The module (test VM, Debian's $(val "$mo" module_kernel) kernel under TCG)"
		echo
		echo "Method: /proc/meminfo's Slab + VmallocUsed + Percpu before and after"
		echo "\`viplb restore\` of $N services x $B backends (page cache dropped"
		echo "before each sample), and again after \`viplb flush\`; the restore timed"
		echo "with date(1) around the command. A single change: 40 weight changes of"
		echo "one backend in one \`viplb -b\` batch, minus the same on a 2-backend"
		echo "service, divided by 40."
		echo
		echo "| figure | value |"
		echo "|---|---|"
		echo "| kernel memory added by the restore | $(mib "$(val "$mo" module_bytes)") ($(val "$mo" module_bytes) bytes) |"
		echo "| left after flush (sampled until it stops falling: $(val "$mo" module_after_flush_s) s) | $(val "$mo" module_after_flush_bytes) bytes |"
		echo "| table size M of a 10-backend service | $(val "$mo" module_table_size) |"
		echo "| restore of $N x $B | $(val "$mo" module_restore_s) s |"
		echo "| one backend change, 65537-slot service of 10 backends | $(val "$mo" module_change_65537_s) s |"
		echo "| one backend change, 65537 slots, 4,096 backends, one of weight 65535 | $(val "$mo" module_change_skewed_s) s |"
		echo
		echo '```'
		grep '^mem: \(before\|after\) ' "$mo"
		echo '```'
		echo
		echo "The Maglev builder alone (include/viplb/maglev.h, the code each"
		echo "change runs in the module), 'bench/maglev_balance time': ns per"
		echo "table, best of 5 x 20 builds, on this host and in the same TCG VM."
		echo "Their ratio is TCG's slowdown on this code; a module figure divided"
		echo "by it estimates the same on the host's CPU."
		echo
		echo "| table | host | TCG VM | TCG slowdown |"
		echo "|---|---|---|---|"
		awk '$1 == "mem:" && $2 ~ /^(host|vm)_maglev_build_ns$/ {
			k = $3 " " $4 " " $5; v[$2, k] = $6; if (!(k in seen)) { seen[k] = 1; ks[n++] = k } }
			END { for (i = 0; i < n; i++) { k = ks[i]; h = v["host_maglev_build_ns", k]; g = v["vm_maglev_build_ns", k]
				printf "| %s | %.3f ms | %.3f ms | %s |\n", k, h / 1e6, g / 1e6, h ? sprintf("%.1fx", g / h) : "-" } }' \
			build/bench-mem-builder.out "$mo"
		echo
		echo "## XDP maps (host, Linux $(uname -r), no module)"
		echo
		echo "Method: the sum of \`bytes_memlock\` (the kernel's map_mem_usage())"
		echo "of viplb's maps, from \`bpftool map show\`, after \`viplb xdp attach\`"
		echo "and after \`viplb restore\` of $N services x $(awk '/^mem: config/ { print $6 }' "$xo") backends"
		echo "(10,000 x 10 fit in XDP's 131,072 backend ids); the restore timed"
		echo "with date(1)."
		echo
		echo "| figure | value |"
		echo "|---|---|"
		echo "| maps after attach, no service | $(mib "$(val "$xo" xdp_maps_empty_bytes)") |"
		echo "| maps with the services | $(mib "$(val "$xo" xdp_maps_bytes)") |"
		echo "| added by the services | $(mib "$(val "$xo" xdp_maps_added_bytes)") |"
		echo "| of which the slot pool | $(mib "$(val "$xo" xdp_pool_bytes)") in $(val "$xo" xdp_pools) map |"
		echo "| restore | $(val "$xo" xdp_restore_s) s |"
		echo
		echo "Each map after the restore: name, bytes_memlock, max_entries."
		echo
		echo '```'
		grep '^mem: xdp_map ' "$xo"
		echo '```'
		echo
		echo "## Balance and disruption at the automatic size"
		echo
		echo "bench/maglev_balance.c, the shared builder. Share: a backend's slots / M"
		echo "over its weight / the sum of the weights (1.0 is exact); 100 sets of"
		echo "random weights 1..100 per row. Flows moved: of 1,000,000 random flow"
		echo "hashes, those whose backend changes when one backend is added."
		echo
		cat "$bo"
	} >"$md"
	cat "$md"
	echo "wrote $md"
}

case $part in
module) module_part ;;
xdp) xdp_part "$@" ;;
all) all_parts ;;
*) echo "usage: $0 module|xdp|all" >&2; exit 2 ;;
esac
