#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh: `make bench`.  On the host: first the XDP part (below), then
# generate the configurations, boot the test VM once to run
# bench/run.sh (output in build/bench.out), then write
# bench/results/results.md and bench/results/scaling.png, and
# bench/results/rules.md with its raw lines bench/results/rules.raw (the
# cost of filter rules, run.sh part 6).
#
# The XDP part needs no VM: bench/xdp/xdp_bench runs the XDP program
# with BPF_PROG_TEST_RUN through a wrapper that restores the frame before
# every iteration (bench/xdp/wrap.bpf.c), in a private netns, on the
# host's kernel, pinned to CPU 0, before the VM starts so that the VM
# does not disturb it; beside Katran's balancer if its object is there
# (KATRAN_OBJ, default build/katran/balancer.bpf.o, built by
# `make -C bench/xdp katran` from a copy of Katran's repository in
# build/katran; without it Katran is skipped, said so), both LRUs the
# size of viplb's default flows map; with 1 service, the tun v4 figures
# of both again with LRUs of 1,000 flows (-S 1000: Katran's own size), in
# the same rounds, to show what the size costs.  It writes
# bench/results/xdp.md (its raw output in build/bench-xdp.out) and prints
# the tables.  It takes about 3 GB of memory for the 10,000-service
# phase, and about three minutes.
#
# The nf_tables restore part ("restore") needs no VM either: it runs
# bench/nft_restore.sh on the host (which cannot load viplb.ko), restores
# of 1,000 and 10,000 services of 10 backends with `viplb -d nft restore`
# beside `nft -f` of the equivalent ruleset; results.md quotes its output,
# build/bench-nft-restore.out (about a minute).  Run alone
# (VIPLB_BENCH_ONLY=restore), it leaves results.md as it is, until the
# next VM run or VIPLB_BENCH_REPORT_ONLY=1.
#
# Environment: VIPLB_BENCH_* (see run.sh) pass into the VM;
# VIPLB_BENCH_VM_TIMEOUT is the VM's time limit (default 3000 s, 1200 s
# for the rules part alone).  VIPLB_BENCH_ONLY selects parts, of "cps pkt
# rules xdp restore mem health insn" (default: all): "rules" alone runs only the rules part (a
# few minutes instead of about 16): its output goes to
# build/bench-rules.out and only rules.md and rules.raw are rewritten;
# "xdp" alone runs only the XDP part, without the VM, and rewrites only
# xdp.md; "mem" runs bench/memory.sh all (memory and setup at 10,000
# services, bench/results/memory_run.md).  VIPLB_BENCH_XDP_REPEAT (default 1000000),
# VIPLB_BENCH_XDP_ROUNDS (default 7) and VIPLB_BENCH_XDP_SIZES (default
# "1 10000") tune the XDP part.
# The health part ("health") needs no VM: bench/viplbd_cpu.sh on the
# host, with nf_tables and then with XDP, each with viplbd's checks
# through the stack and then with -x (outside it), about two and a half
# minutes each: viplbd checking 10,000 backends every 2 s beside a floor
# prober (FLOOR=bypass for -x); it writes bench/results/health.md
# (outputs in build/bench-health-*.out).
# The instructions part ("insn"): bench/run.sh part 7 in its own VM
# boots, with the QEMU plugin of bench/insn/ (VIPLB_VM_PLUGIN: one vCPU),
# VIPLB_BENCH_INSN_BOOTS (default 2) boots: the first at 1 and 10,000
# services, the others at VIPLB_BENCH_INSN_AGAIN_SIZES (default 1) for
# the agreement between boots.  Output in build/bench-insn.BOOT.out,
# gathered in bench/results/insn.raw, from which bench/insn/report.py
# writes bench/results/insn.md (about ten minutes in all).
# VIPLB_BENCH_REPORT_ONLY=1 rewrites the results from the last output
# without running the VM (or the XDP part).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$here/.." && pwd -P)
cd "$repo"

out=build/bench.out
conf=build/bench/conf
results=bench/results
sizes=${VIPLB_BENCH_SIZES:-1 100 1000 10000}
rule_sizes=${VIPLB_BENCH_RULE_SIZES:-10 1000 10000}
backends=10
vm_timeout=${VIPLB_BENCH_VM_TIMEOUT:-3000}
mkdir -p "$conf" "$results"

say() { echo "bench: $*" >&2; }

# VIPLB_BENCH_ONLY: xdp runs here on the host; the other parts are the
# VM's (run.sh), which gets VIPLB_BENCH_ONLY without xdp.  Without cps or
# pkt, the rules part alone, which leaves results.md (and build/bench.out)
# as they are; with xdp alone, no VM at all.
only=$(echo "${VIPLB_BENCH_ONLY:-}" | tr ',' ' ')
xdp=
restore=
mem=
health=
insn=
vm_only=
for p in $only; do
	case $p in
	xdp) xdp=1 ;;
	insn) insn=1 ;;
	restore) restore=1 ;;
	mem) mem=1 ;;
	health) health=1 ;;
	cps | pkt | rules) vm_only="${vm_only:+$vm_only }$p" ;;
	*) say "VIPLB_BENCH_ONLY: unknown part $p (parts: cps pkt rules xdp restore mem health insn)"; exit 2 ;;
	esac
done
vm=1
if [ -z "$only" ]; then
	xdp=1
	restore=1
	mem=1
	health=1
	insn=1
	unset VIPLB_BENCH_ONLY
elif [ -z "$vm_only" ]; then
	vm=
else
	export VIPLB_BENCH_ONLY="$vm_only"
fi
[ -z "${VIPLB_BENCH_REPORT_ONLY:-}" ] || { xdp=; restore=; health=; }
rules_only=
case " $vm_only " in
*" cps "* | *" pkt "*) ;;
*) [ -z "$vm_only" ] || rules_only=1 ;;
esac
if [ -n "$rules_only" ]; then
	out=build/bench-rules.out
	sizes=
	vm_timeout=${VIPLB_BENCH_VM_TIMEOUT:-1200}
fi

command -v python3 >/dev/null || { say "python3 missing"; exit 1; }
if { [ -n "$vm" ] || [ -n "$insn" ]; } && { [ ! -r kmod/viplb.ko ] || [ ! -x user/viplb/viplb ]; }; then
	say "build first: make all"
	exit 1
fi

qemu=$(qemu-system-x86_64 --version 2>/dev/null | head -1)
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)

# The XDP part, on the host: bench/results/xdp.md.
xdp_rc=0
if [ -n "$xdp" ]; then
	xout=build/bench-xdp.out
	xmd=build/bench-xdp.md
	xrepeat=${VIPLB_BENCH_XDP_REPEAT:-1000000}
	xrounds=${VIPLB_BENCH_XDP_ROUNDS:-7}
	xsizes=${VIPLB_BENCH_XDP_SIZES:-1 10000}
	xkatran=${KATRAN_OBJ:-$repo/build/katran/balancer.bpf.o}
	mkdir -p build
	say "XDP part on the host: bench/xdp/xdp_bench (about 3 GB and three minutes for 10,000 services); output in $xout"
	if [ "$(id -u)" -ne 0 ]; then
		say "the XDP part needs root (BPF_PROG_TEST_RUN, a netns): skipped"
		xdp_rc=1
	elif ! make -s -C bench/xdp xdp_bench >"$xout" 2>&1; then
		say "cannot build bench/xdp/xdp_bench:"
		tail -20 "$xout" >&2
		xdp_rc=1
	else
		xload_before=$(cut -d' ' -f1-3 /proc/loadavg)
		xothers=$(pgrep -c -f '^qemu-system' || true)
		xstart=$(date +%s)
		# Katran's object from its source in build/katran, if there.
		[ -n "${KATRAN_OBJ:-}" ] ||
			make -s -C bench/xdp katran >>"$xout" 2>&1 ||
			say "cannot build Katran (see $xout): skipped"
		[ -f "$xkatran" ] || say "no Katran object ($xkatran): Katran skipped"
		nice -n 19 bench/xdp/xdp_bench -r "$xrepeat" -R "$xrounds" \
			-n "$xsizes" -S 1000 -k "$xkatran" -o "$xmd" \
			>>"$xout" 2>&1 || xdp_rc=$?
		xload_after=$(cut -d' ' -f1-3 /proc/loadavg)
		if [ "$xdp_rc" -ne 0 ] || ! grep -q '^| ' "$xmd" 2>/dev/null; then
			say "xdp_bench failed (status $xdp_rc): see $xout"
			tail -20 "$xout" >&2
			[ "$xdp_rc" -ne 0 ] || xdp_rc=1
		else
			{
				echo "# viplb benchmark: the XDP fast path"
				echo
				echo "Made by \`make bench\` (bench/bench.sh; \`VIPLB_BENCH_ONLY=xdp make bench\`"
				echo "runs only this part), $(date -u +%Y-%m-%dT%H:%M:%SZ), in $(($(date +%s) - xstart)) s. It runs"
				echo "bench/xdp/xdp_bench **on the host**, not in the TCG VM: the XDP"
				echo "program under BPF_PROG_TEST_RUN on the host's kernel and CPU. Unlike"
				echo "those of [results.md](results.md) and [rules.md](rules.md), these figures"
				echo "are not emulated: absolute values mean something."
				echo
				echo "- Host: Linux $(uname -r), $(nproc) CPUs ($cpu), the benchmark pinned to"
				echo "  CPU 0; load average $xload_before before the run, $xload_after after;"
				echo "  $xothers QEMU processes were running when it started (they share the"
				echo "  CPUs: the figures are interleaved, so that a change of load touches"
				echo "  them all)."
				echo "- Katran: \`$(basename "$xkatran")\`$( [ -f "$xkatran" ] || echo " absent: skipped"), facebookincubator/katran's"
				echo "  katran/lib/bpf/balancer.bpf.c built by \`make -C bench/xdp katran\` from a copy"
				echo "  of its repository in build/katran (clang -target bpf -O2 -D__x86_64__, its own"
				echo "  katran/lib/linux_includes and the host's UAPI headers), never committed."
				[ ! -d build/katran/.git ] || echo "  Commit $(git -C build/katran rev-parse --short HEAD)."
				[ ! -f build/katran/COMMIT ] || echo "  Commit $(cat build/katran/COMMIT)."
				echo "- Run: \`VIPLB_BENCH_ONLY=xdp make bench\` (as root), which runs"
				echo "  \`nice -n 19 bench/xdp/xdp_bench -r $xrepeat -R $xrounds -n \"$xsizes\" -S 1000 -k ${xkatran#"$repo"/}\`"
				echo "  (at nice 19: other work on the host comes first)."
				echo "- The design of the program and of its maps: [bpf/README.md](../../bpf/README.md)."
				echo
				sed '1s/^# /## /' "$xmd"
			} >"$results/xdp.md"
			say "wrote $results/xdp.md"
			sed -n '/^## /,$p' "$results/xdp.md" | sed -n '1,/^Per-path/p'
		fi
	fi
fi
# The nf_tables restore part, on the host: build/bench-nft-restore.out,
# which results.md quotes.
rout=build/bench-nft-restore.out
if [ -n "$restore" ]; then
	say "nf_tables restores on the host: bench/nft_restore.sh; output in $rout"
	rload_before=$(cut -d' ' -f1-3 /proc/loadavg)
	if nice -n 19 bench/nft_restore.sh >"$rout.tmp" 2>&1; then
		{
			echo "host: Linux $(uname -r), $(nproc) CPUs ($cpu), nice 19, load average $rload_before before, $(cut -d' ' -f1-3 /proc/loadavg) after, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
			cat "$rout.tmp"
		} >"$rout"
		cat "$rout"
	else
		say "bench/nft_restore.sh failed:"
		tail -5 "$rout.tmp" >&2
		xdp_rc=1
	fi
	rm -f "$rout.tmp"
fi
# Memory and setup at 10,000 services: bench/memory.sh, memory.md.
if [ -n "$mem" ] && [ -z "${VIPLB_BENCH_REPORT_ONLY:-}" ] &&
	! bench/memory.sh all; then
	say "bench/memory.sh all failed"
	xdp_rc=1
fi
# viplbd at 10,000 backends, on the host: bench/viplbd_cpu.sh on each
# datapath, its floor after it; bench/results/health.md.
if [ -n "$health" ] && [ "$(id -u)" -ne 0 ]; then
	say "the health part needs root (network namespaces): skipped"
	xdp_rc=1
elif [ -n "$health" ]; then
	hmd=$results/health.md
	hrows=
	hstart=$(date +%s)
	# Before the runs, and without bench/results: writing health.md
	# below would count as a change.
	hdirty=$(git diff --quiet HEAD -- user bench ':!bench/results' || echo '+changes')
	hload_before=$(cut -d' ' -f1-3 /proc/loadavg)
	for dp in nft xdp nft-x xdp-x; do
		hout=build/bench-health-$dp.out
		hx=()
		[ "$dp" = "${dp%-x}" ] || hx=(XCHECKS=1 FLOOR=bypass)
		say "viplbd's checks on the host ($dp): bench/viplbd_cpu.sh, about two and a half minutes; output in $hout"
		if ! nice -n 19 env PIN=1 DATAPATH="${dp%-x}" "${hx[@]}" bench/viplbd_cpu.sh >"$hout" 2>&1; then
			say "bench/viplbd_cpu.sh ($dp) failed:"
			tail -5 "$hout" >&2
			xdp_rc=1
			continue
		fi
		# row: user system dnapi director bnapi listener checks/s up
		#      transitions segments/check conntrack datapath vcs/s failed
		# floor_row: process director checks/s sent synacks
		hrows="$hrows$(awk -v dp="$dp" '
			/^row: / { vu = $2; vs = $3; vd = $5; vc = $8; up = $9; tr = $10; fl = $15 }
			/^floor_row: / { fp = $2; fd = $3; fc = $4; fs = $5; fa = $6 }
			END {
				name = dp ~ /^nft/ ? "nat, nf_tables" : "dr, XDP"
				if (dp ~ /-x$/)
					name = name ", viplbd -x (floor: bypass)"
				printf "| %s | %.2f%% | %.2f%% | %.2f%% | %.2f%% | %.2f | %.2f | %s / %s | %s, %s, %s | %s of %s |\n",
					name, vu + vs, fp, vd, fd, (fp > 0 ? (vu + vs) / fp : 0),
					(fd > 0 ? vd / fd : 0), vc, fc, up, tr, fl, fa, fs
			}' "$hout")
"
	done
	if [ -n "$hrows" ]; then
		{
			echo "# viplbd at 10,000 backends: made by \`make bench\`"
			echo
			echo "Made by \`make bench\` (\`VIPLB_BENCH_ONLY=health make bench\` runs only this"
			echo "part), $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD)$hdirty, in $(($(date +%s) - hstart)) s,"
			echo "on the host: Linux $(uname -r), $(nproc) CPUs ($cpu), load average"
			echo "$hload_before before, $(cut -d' ' -f1-3 /proc/loadavg) after. For each datapath,"
			echo "\`nice -n 19 env PIN=1 DATAPATH=nft|xdp bench/viplbd_cpu.sh\`: 10,000"
			echo "backends (50 services of 200) checked with tcp every 2 s for 60 s,"
			echo "then the floor (\`bench/syn_floor.c\`: the same SYNs at the same rate,"
			echo "their SYN-ACKs read, nothing else) in viplbd's place for as long."
			echo "The -x rows: \`XCHECKS=1 FLOOR=bypass\`, \`viplbd -x\` (IPv4 tcp checks"
			echo "on AF_PACKET, their replies taken by viplb's XDP, attached to the"
			echo "director's veth for them with nf_tables too), against the floor of"
			echo "the same design (SYNs on AF_PACKET, replies at XDP)."
			echo "CPU time as a percentage of one CPU; \"director\" adds the thread that"
			echo "receives the replies (threaded NAPI on the director's veth) to the"
			echo "prober. The narrative and earlier figures: [viplbd.md](viplbd.md)."
			echo
			echo "| datapath | viplbd | floor | director, viplbd | director, floor | viplbd / floor | director: viplbd / floor | checks/s, viplbd / floor | up at the end, transitions, failed checks | floor: SYN-ACKs of SYNs |"
			echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
			printf '%s' "$hrows"
		} >"$hmd"
		say "wrote $hmd"
		cat "$hmd"
	fi
fi
# The configurations, made here (the VM is 10-20 times slower), named
# FORMAT.PROTO.N.BACKENDS as run.sh looks for them.  Remade when gen.py
# changes.
if [ -n "${VIPLB_BENCH_REPORT_ONLY:-}" ]; then
	sizes=
	rule_sizes=
fi
stamp=$conf/.gen-$(cksum <"$here/gen.py" | cut -d' ' -f1)
if [ ! -e "$stamp" ]; then
	rm -f "$conf"/* "$conf"/.gen-*
fi
gen()
{
	f=$conf/$1.$2.$3.$4
	[ -s "$f" ] || python3 "$here/gen.py" "$@" >"$f"
}
# The instructions part: its own boots, with the plugin.
if [ -n "$insn" ]; then
	iraw=$results/insn.raw
	if [ -z "${VIPLB_BENCH_REPORT_ONLY:-}" ]; then
		make -s -C bench/insn || { say "cannot build bench/insn"; exit 1; }
		for n in 1 10000; do
			for fmt in viplb-rr viplb-mg viplb-dr viplb-tun ipvs ipvs-dr ipvs-tun iptables nft; do
				gen "$fmt" udp "$n" "$backends"
			done
		done
		touch "$stamp"
		boots=${VIPLB_BENCH_INSN_BOOTS:-2}
		{
			echo "HOST qemu $qemu"
			echo "HOST commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- kmod user include bench || echo '+changes')"
		} >"$iraw.tmp"
		for b in $(seq "$boots"); do
			isizes=${VIPLB_BENCH_INSN_SIZES:-1 10000}
			[ "$b" = 1 ] || isizes=${VIPLB_BENCH_INSN_AGAIN_SIZES:-1}
			iout=build/bench-insn.$b.out
			say "instructions per packet, boot $b of $boots (services: $isizes); output in $iout"
			irc=0
			# VIPLB_BENCH_VM_LOCK: a lock file held for each boot.
			VIPLB_BENCH_ONLY=insn VIPLB_BENCH_INSN_SIZES=$isizes \
				VIPLB_BENCH_CONF=$repo/$conf \
				VIPLB_VM_PLUGIN=$repo/bench/insn/libinsn_count.so \
				${VIPLB_BENCH_VM_LOCK:+flock "$VIPLB_BENCH_VM_LOCK"} \
				selftests/vm/run -t "${VIPLB_BENCH_VM_TIMEOUT:-1800}" \
				bench/run.sh >"$iout" 2>&1 || irc=$?
			if [ "$irc" -ne 0 ]; then
				say "boot $b exited with status $irc (see $iout)"
				tail -5 "$iout" >&2
				xdp_rc=1
			fi
			echo "BOOT $b"
			grep -E '^BENCH (info|insn)' "$iout"
		done >>"$iraw.tmp"
		mv "$iraw.tmp" "$iraw"
	fi
	python3 bench/insn/report.py "$iraw" >"$results/insn.md"
	say "wrote $results/insn.md"
	sed -n '/^## Instructions/,$p' "$results/insn.md"
fi
if [ -z "$vm" ]; then
	exit "$xdp_rc"
fi

say "generating configurations in $conf"
for fmt in viplb-rr ipvs iptables nft; do
	gen "$fmt" tcp 1 3
done
for n in $sizes; do
	for fmt in viplb-rr viplb-mg251 viplb-mg ipvs iptables nft; do
		gen "$fmt" udp "$n" "$backends"
	done
	[ "$n" -gt 1000 ] || gen viplb-mg65537 udp "$n" "$backends"
done
for k in $rule_sizes; do
	[ -s "$conf/rules.$k" ] || python3 "$here/gen.py" rules "$k" >"$conf/rules.$k"
done
touch "$stamp"
# The rules part measures viplb only once the small iptables exists.
case " ${only:-rules} " in
*" rules "*)
	if [ -z "${VIPLB_BENCH_REPORT_ONLY:-}" ] &&
		{ ! grep -q VIPLB_CMD_RULES_GET kmod/*.c 2>/dev/null ||
			[ ! -e user/viplb/viplb-restore ]; }; then
		say "no rule tables in kmod/ or no user/viplb/viplb-restore yet: the rules part measures iptables only"
	fi
	;;
esac

rc=0
if [ -z "${VIPLB_BENCH_REPORT_ONLY:-}" ]; then
	load_before=$(cut -d' ' -f1-3 /proc/loadavg)
	others=$(pgrep -c -f '^qemu-system' || true)
	say "running the benchmark in the VM (up to $vm_timeout s); output in $out"
	VIPLB_BENCH_CONF=$repo/$conf selftests/vm/run \
		-t "$vm_timeout" bench/run.sh \
		>"$out" 2>&1 || rc=$?
	load_after=$(cut -d' ' -f1-3 /proc/loadavg)
	echo "$load_before|$load_after|$others|$rc" >"$out.host"
else
	# VIPLB_BENCH_REPORT_ONLY=1: only rewrite the results from $out.
	IFS='|' read -r load_before load_after others rc <"$out.host" ||
		{ load_before='?'; load_after='?'; others='?'; rc=0; }
fi
if [ "$rc" -ne 0 ]; then
	say "the VM run exited with status $rc (see $out and build/vm/last-console.log); writing what it measured"
fi
grep -q '^BENCH ' "$out" || { say "no results in $out"; tail -20 "$out" >&2; exit 1; }

info()
{
	awk -v k="$1" '$1 == "BENCH" && $2 == "info" && $3 == k {
		$1 = $2 = $3 = $4 = ""; sub(/^ +/, ""); print; exit }' "$out"
}

# The rules part: its lines and the host's details in rules.raw, from
# which report.py writes rules.md.
if grep -q '^BENCH rules-' "$out"; then
	{
		grep -E '^BENCH (info|rules-)' "$out"
		echo "BENCH info host_qemu - $qemu"
		echo "BENCH info host_cpus - $(nproc)"
		echo "BENCH info host_cpu - $cpu"
		echo "BENCH info host_load_before - $load_before"
		echo "BENCH info host_load_after - $load_after"
		echo "BENCH info host_others - $others"
		echo "BENCH info host_rc - $rc"
	} >"$results/rules.raw"
	python3 "$here/report.py" rules "$results/rules.raw" >"$results/rules.md"
	say "wrote $results/rules.md and $results/rules.raw"
fi
if [ -n "$rules_only" ]; then
	python3 "$here/report.py" rules "$out" | sed -n '/^### /,$p'
	[ "$rc" -ne 0 ] || rc=$xdp_rc
	exit "$rc"
fi

md=$results/results.md
{
	echo "# viplb benchmark results"
	echo
	echo "Made by \`make bench\` (bench/bench.sh), $(info date)."
	echo
	echo "- Guest: Debian kernel $(info kernel), $(info cpus) vCPUs, $(info mem_mib) MiB,"
	echo "  under $qemu with **TCG** (software emulation, no KVM)."
	echo "- Host: $(nproc) CPUs ($cpu); load average $load_before before the run,"
	echo "  $load_after after; $others other QEMU processes were running when it"
	echo "  started (other VMs share the host's CPUs and slow this one unevenly)."
	echo "- Run time in the VM: $(info duration_s) s$([ "$rc" -eq 0 ] || echo " (the run ended with status $rc: some figures are missing)")."
	echo
	echo "**Only the ratios matter.** Under TCG every instruction is emulated:"
	echo "absolute figures are one to two orders of magnitude below native"
	echo "hardware, and the emulation does not slow every code path by the same"
	echo "factor. Each pktgen figure comes from $(info pkt_pairs) runs of $(info pkt_seconds) s, each"
	echo "beside a simultaneous routing-only reference run; each connection rate"
	echo "is the median of $(info cps_rounds) rounds of $(info cps_seconds) s. How far the reference"
	echo "itself moved (section 2-3) shows the noise of this run: differences"
	echo "smaller than that spread are ties. Only large effects (the linear"
	echo "growth of iptables, load times that differ several-fold) are solid."
	echo
	echo "## What runs"
	echo
	echo "- **viplb**: \`viplb service add udp VIP:PORT sched rr mode nat\` (the"
	echo "  datapath rows); also \`sched maglev table-size 251\`, the default"
	echo "  \`sched maglev\` (auto-sized: 1,021 slots for 10 backends), and"
	echo "  \`table-size 65537\` (up to 1,000 services: 10,000 would need 1.3 GiB),"
	echo "  loaded with \`viplb restore\` into the module."
	echo "- **viplb on nf_tables**: the same rr services loaded with \`viplb -d nft"
	echo "  restore\` into viplb's own nf_tables table (\`inet viplb\`: a verdict map"
	echo "  to a chain per service, \`numgen\` over its backends, DNAT; user/nft/),"
	echo "  the datapath viplb takes where the module cannot be loaded. \"÷ viplb\""
	echo "  compares it with the module."
	echo "- **IPVS**: \`ipvsadm -A -u VIP:PORT -s rr\`, \`-a ... -m\` (masquerading),"
	echo "  loaded with \`ipvsadm -R\`; \`ip_vs conn_tab_bits=18\`. IPVS does not use"
	echo "  conntrack here (its own connection table), the others do."
	echo "- **iptables**: kube-proxy style nat chains: PREROUTING → KUBE-SERVICES"
	echo "  (one \`-d VIP -p udp --dport PORT -j KUBE-SVC-i\` rule per service) →"
	echo "  KUBE-SVC-i (\`-m statistic --mode random --probability 1/k\`) →"
	echo "  KUBE-SEP-i-j (\`-j DNAT\`), loaded with \`iptables-nft-restore\`"
	echo "  (Debian's default \`iptables\`) and \`iptables-legacy-restore\`."
	echo "- **nftables**: one verdict map \`ip daddr . meta l4proto . th dport vmap"
	echo "  @services\` → \`goto\` a chain per service that picks its backend with"
	echo "  \`numgen random mod k\` rules (the rule form of kube-proxy's"
	echo "  statistic chains), loaded with \`nft -f\`. The map makes the lookup one"
	echo "  hash, as in kube-proxy's nftables mode."
	echo "- Service i is 192.0.2.(1 + i mod 250), port 1000 + i div 250; backends"
	echo "  198.51.100.11-20:8080; conntrack hash 2^18 buckets."
	echo
	echo "The raw output is build/bench.out; the method is described at the top of"
	echo "bench/run.sh. The cost of filter rules (viplb's small iptables"
	echo "beside iptables-legacy and iptables-nft) is in [rules.md](rules.md), the"
	echo "XDP fast path (measured on the host, not in the VM) in [xdp.md](xdp.md)."
	echo
	python3 "$here/report.py" text "$out"
	if [ -s "$rout" ]; then
		echo "### 6. Restores on nf_tables, on the host"
		echo
		echo "\`bench/nft_restore.sh\` on the host (not in the VM: these are real"
		echo "times), each size in an empty netns: \`viplb -d nft restore\` of the"
		echo "services of section 5 over TCP (rr, 10 backends each), then one command on"
		echo "that table (\`backend set ... weight 2\`), then \`nft -f\` of the"
		echo "equivalent hand-written ruleset (\`bench/gen.py nft\`); medians of 3 runs"
		echo "in seconds. Issue 13's target: 10,000 × 10 in at most 1 s."
		echo
		echo '```'
		cat "$rout"
		echo '```'
		echo
	fi
	echo "### Scaling plot"
	echo
	echo "![new-flow ns/packet against services](scaling.png)"
} >"$md"
say "wrote $md"

if command -v gnuplot >/dev/null; then
	dat=build/bench/scaling.dat
	python3 "$here/report.py" scaling "$out" >"$dat"
	plots=
	# One colour and one point shape per system (gnuplot's default
	# palette has 8 colours: the 9th repeated the 1st).
	colors=('#9400d3' '#009e73' '#56b4e9' '#e69f00' '#c8b400' '#0072b2' '#e51e10' '#000000' '#a0522d' '#ff69b4')
	i=0
	while read -r col name; do
		plots="${plots:+$plots, }'$dat' using 1:$col with linespoints lw 2 lc rgb '${colors[i % ${#colors[@]}]}' pt $((5 + i % 5 * 2)) title '$name'"
		i=$((i + 1))
	done < <(python3 "$here/report.py" systems "$out")
	if [ -n "$plots" ]; then
		gnuplot <<-EOT
		set terminal pngcairo size 960,600 noenhanced font ",11"
		set output '$results/scaling.png'
		set title 'New-flow cost of the director against the number of services (QEMU TCG: compare ratios only)'
		set xlabel 'services configured'
		set ylabel 'ns per packet, new UDP flows (pktgen)'
		set logscale xy
		set xrange [0.7:14000]
		set xtics ('1' 1, '100' 100, '1,000' 1000, '10,000' 10000)
		set grid
		set key top left
		set datafile missing '?'
		plot $plots
		EOT
		say "wrote $results/scaling.png"
	fi
else
	say "gnuplot not found (apt-get install gnuplot-nox): no plot"
fi

python3 "$here/report.py" text "$out"
[ "$rc" -ne 0 ] || rc=$xdp_rc
exit "$rc"
