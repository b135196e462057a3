#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/xdp/floor.sh (root; `make -C bench/xdp floor`): the XDP program's
# cost on the tun v4 path beside the work floor of any balancer with a
# flow table, both as a ratio to Katran's cost in the same xdp_bench run.
#
# The variants (bench/xdp/floor_variants.py) are built from this tree's
# bpf/viplb.bpf.c in a scratch copy, each into its own xdp_bench:
#   viplb    the program as it is
#   floor    parse, one flows-map lookup (40-byte key), an insert on a
#            miss, IPIP to a fixed backend, fixed MACs, XDP_TX
#   floor16  the floor with a 16-byte IPv4 flows key
#   viplb16  the program with a 16-byte IPv4 flows key
# Each round runs every variant once, in turn ("tun v4 hit", then "tun v4
# miss"), beside Katran: xdp_bench's own wrapped method and checks
# (counters = iterations).  Prints a Markdown table (also to OUT).
#
# Environment: ROUNDS (3), REPEAT (1000000), KATRAN_OBJ
# (build/katran/balancer.bpf.o: `make -C bench/xdp katran`), OUT
# (bench/results/xdp_floor.md), CPU (0).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
rounds=${ROUNDS:-3}
repeat=${REPEAT:-1000000}
katran=${KATRAN_OBJ:-$top/build/katran/balancer.bpf.o}
out=${OUT:-$top/bench/results/xdp_floor.md}
cpu=${CPU:-0}
variants="viplb floor floor16 viplb16"

die() { echo "floor.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (BPF_PROG_TEST_RUN, private netns)"
[ -f "$katran" ] || die "no Katran object $katran (make -C bench/xdp katran, or KATRAN_OBJ=)"
command -v python3 >/dev/null || die "python3 is missing (scripts/deps.sh)"

work=$(mktemp -d /tmp/viplb-floor.XXXXXX)
trap 'rm -rf "$work"' EXIT
# The tracked files as they are in the work tree.
(cd "$top" && git ls-files -z | xargs -0 tar -cf - 2>/dev/null) | tar -xf - -C "$work"
for v in $variants; do
	python3 "$top/bench/xdp/floor_variants.py" "$v" \
		<"$top/bpf/viplb.bpf.c" >"$work/bpf/viplb.bpf.c"
	make -s -C "$work/bench/xdp" xdp_bench >"$work/build-$v.log" 2>&1 ||
		{ tail -20 "$work/build-$v.log" >&2; die "building variant $v failed"; }
	cp "$work/bench/xdp/xdp_bench" "$work/xdp_bench.$v"
	rm -f "$work/bench/xdp/xdp_bench"
done

raw=$work/raw
: >"$raw"
for r in $(seq "$rounds"); do
	for path in "tun v4 hit" "tun v4 miss"; do
		for v in $variants; do
			nice -n 19 taskset -c "$cpu" "$work/xdp_bench.$v" \
				-r "$repeat" -R 5 -n 1 -f "$path" -k "$katran" \
				>"$work/run.out" 2>&1 ||
				{ tail -20 "$work/run.out" >&2; die "xdp_bench of $v ($path) failed"; }
			# xdp_bench fails on a mismatch too; this is its sentence for none.
			grep -q "^Per-path counters equal the iterations in every run" "$work/run.out" ||
				die "xdp_bench of $v ($path): its counters do not show every iteration on the path"
			# | path | viplb min | Katran min | ratio | viplb med | Katran med | ratio |
			grep -E "^\| $path \|" "$work/run.out" |
				sed "s/^/$r|$v/" >>"$raw"
		done
	done
done

{
	echo "# The XDP program beside the work floor, tun v4 path (bench/xdp/floor.sh)"
	echo
	echo "$(date -u +%FT%TZ), main $(git -C "$top" describe --always --dirty), $(uname -r), $(nproc) CPUs, CPU $cpu at nice 19;"
	echo "xdp_bench's wrapped method, $repeat iterations x 5 per figure, $rounds rounds;"
	echo "Katran: $(basename "$katran"). Net ns per packet (wrapped - wrapper floor)."
	echo
	echo "Variants, each built from this tree's bpf/viplb.bpf.c by bench/xdp/floor_variants.py:"
	echo
	echo "- viplb: the program as it is."
	echo "- floor: the work any balancer with a flow table does on this path, and"
	echo "  nothing else: parse, one lookup in the flows map (viplb's 40-byte key,"
	echo "  as Katran's), an insert on a miss, IPIP to a fixed backend, fixed MACs,"
	echo "  XDP_TX. No service, ring, route, TTL check, VLAN or per-service counter."
	echo "- floor16: the floor with a flows map keyed by 16 bytes (IPv4 only)."
	echo "- viplb16: the program with a flows map keyed by 16 bytes (IPv4 only)."
	echo
	echo "| round | variant | path | net min | Katran net min | ratio (min) | net median | Katran net median | ratio (median) |"
	echo "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
	awk -F'|' '{ gsub(/^ +| +$/, "", $3);
		printf "| %s | %s | %s |%s|%s|%s|%s|%s|%s|\n", $1, $2, $3, $4, $5, $6, $7, $8, $9 }' "$raw"
	echo
	echo "Ratio (min) by variant, over the rounds (min / median / max):"
	echo
	echo "| variant | path | lowest | median | highest |"
	echo "| --- | --- | ---: | ---: | ---: |"
	for path in "tun v4 hit" "tun v4 miss"; do
		for v in $variants; do
			awk -F'|' -v v="$v" -v p="$path" '{ gsub(/^ +| +$/, "", $3); gsub(/ /, "", $6) }
				$2 == v && $3 == p { print $6 }' "$raw" | sort -n |
				awk -v v="$v" -v p="$path" '{ a[NR] = $1 }
				END { if (NR) printf "| %s | %s | %s | %s | %s |\n", v, p, a[1], a[int((NR + 1) / 2)], a[NR] }'
		done
	done
} | tee "$out"
