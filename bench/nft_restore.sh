#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# nft_restore.sh: how long a restore takes on the nf_tables datapath,
# beside nft -f of the equivalent ruleset (issue 13: 10,000 services of
# 10 backends in at most 1 s).  Not part of make check or make bench: run
# it by hand, as root, on a host without the viplb module:
#
#   bench/nft_restore.sh              # SIZES="1000 10000" BACKENDS=10 RUNS=3
#
# For each size N, in a network namespace of its own, created and
# deleted around each run (nothing touches the host's ruleset):
#   viplb    `viplb -d nft restore` of `bench/gen.py viplb-rr tcp N 10`
#            (rr services, each its chain, slots and counters: nft.h);
#   change   then one command on that table (a backend's weight), which
#            reads the table and writes it whole, as every command does;
#   nft -f   `nft -f` of `bench/gen.py nft tcp N 10`: a verdict map of
#            the N services, a chain each with one numgen rule a backend;
# the median of RUNS wall-clock times of each, and viplb's time over nft's.
# VIPLB=path times another build of viplb (the before figures).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$here/.." && pwd -P)
VIPLB=${VIPLB:-$repo/user/viplb/viplb}
SIZES=${SIZES:-1000 10000}
BACKENDS=${BACKENDS:-10}
RUNS=${RUNS:-3}

[ "$(id -u)" -eq 0 ] || { echo "nft_restore: must run as root" >&2; exit 1; }
[ -x "$VIPLB" ] || { echo "nft_restore: $VIPLB not built (make -C user)" >&2; exit 1; }
command -v nft >/dev/null || { echo "nft_restore: nft not found (scripts/deps.sh)" >&2; exit 1; }
[ -e /sys/module/viplb ] &&
	{ echo "nft_restore: the module is loaded: this bench is for nf_tables" >&2; exit 1; }

tmp=$(mktemp -d)
ns=nftrestore-$$
cleanup()
{
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# now: nanoseconds since the epoch.
now()
{
	date +%s%N
}

# timed OUT CMD...: run CMD in a fresh $ns, its wall-clock seconds
# appended to file OUT; the netns stays for what follows.
timed()
{
	local out=$1 t0 t1
	shift
	ip netns del "$ns" 2>/dev/null || true
	ip netns add "$ns"
	t0=$(now)
	ip netns exec "$ns" "$@"
	t1=$(now)
	echo "$(((t1 - t0) / 1000000))" >>"$out"
}

# median FILE: the median of its numbers (milliseconds), in seconds.
median()
{
	sort -n "$1" | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] / 1000 }'
}

printf '%-10s %10s %10s %10s %10s\n' services viplb change "nft -f" viplb/nft
for n in $SIZES; do
	python3 "$here/gen.py" viplb-rr tcp "$n" "$BACKENDS" >"$tmp/viplb.conf"
	python3 "$here/gen.py" nft tcp "$n" "$BACKENDS" >"$tmp/nft.conf"
	: >"$tmp/viplb.ms"
	: >"$tmp/change.ms"
	: >"$tmp/nft.ms"
	for _ in $(seq "$RUNS"); do
		timed "$tmp/viplb.ms" "$VIPLB" -d nft restore <"$tmp/viplb.conf"
		lines=$(ip netns exec "$ns" "$VIPLB" -d nft save | wc -l)
		[ "$lines" -eq "$(wc -l <"$tmp/viplb.conf")" ] ||
			{ echo "nft_restore: $lines lines saved, not $(wc -l <"$tmp/viplb.conf")" >&2; exit 1; }
		t0=$(now)
		ip netns exec "$ns" "$VIPLB" -d nft backend set tcp 192.0.2.1:1000 \
			198.51.100.11:8080 weight 2
		t1=$(now)
		echo "$(((t1 - t0) / 1000000))" >>"$tmp/change.ms"
		timed "$tmp/nft.ms" nft -f "$tmp/nft.conf"
	done
	v=$(median "$tmp/viplb.ms")
	f=$(median "$tmp/nft.ms")
	printf '%-10s %9ss %9ss %9ss %10s\n' "${n}x$BACKENDS" "$v" \
		"$(median "$tmp/change.ms")" "$f" \
		"$(awk -v v="$v" -v f="$f" 'BEGIN { printf "%.2f", (f > 0 ? v / f : 0) }')"
done
