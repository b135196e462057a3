#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/check.sh: the tests that `make check` runs once deps are
# installed and everything is built.
#
#   scripts/check.sh            make check
#   scripts/check.sh --debug    make check-debug: the VM part only, on the
#                               debug kernel (see "Debug kernel" below)
#
#   1. host unit tests:  make -C selftests/host run
#   2. viplb-dkms on the host: selftests/host/dkms_pkg.sh install builds the
#      package (make deb-dkms), installs it with dpkg, and DKMS builds
#      viplb.ko for Debian's kernel, the one the VM boots; the VM sees the
#      host's root, and dkms_units.sh loads that build with modprobe
#   3. the kselftests:   every test of selftests/Makefile, in ONE boot of
#      the QEMU VM, through the kernel's kselftest runner
#      (build/kselftest/run_kselftest.sh, made by `make -C selftests`)
#   4. dkms_pkg.sh purge: the package is purged again, and the module gone;
#      this runs whatever happened before (on INT and TERM too).  Steps 2
#      and 4 run only when dkms_units.sh does, and not with --debug.
#      Each is one result ("host: dkms_pkg.sh ..."), its checks nested.
#
# Output is one TAP stream.  Each suite's own lines are passed through as
# "# " comments, except its result lines, which are renumbered into ours
# as "ok N host: ..." / "not ok N vm: ...", each followed by "# (N s)":
# the seconds since the suite's previous result (or its start).
#
# Counting: one result per test program, on both sides.  That is one per
# TAP result line ("ok"/"not ok") at column 0 of a suite's output: the host
# runner reports one per selftests/host/*_test program and the kselftest
# runner one per kselftest; the checks inside a program are nested "# "
# lines, shown but not counted.  "ok ... # SKIP" counts as skipped, not
# passed.  Besides:
#   - a kselftest that never reported (VM crash, VM timeout) is one failure;
#   - a suite that exits non-zero is one more failure (the VM runner exits
#     non-zero on timeout, crash, or a kernel WARN/BUG in the guest dmesg);
#   - a suite that reports nothing at all is one failure.
#
# The last line is exactly "N passed, N failed, N skipped".  The exit
# status is 1 if anything failed.
#
# Debug kernel (--debug): no host tests.  scripts/debug-kernel.sh builds
# (or finds cached) the kernel with KASAN, kmemleak, lockdep, PROVE_RCU and
# UBSAN, and viplb.ko against it (build/debug-kernel/mod/kmod/viplb.ko,
# passed to the tests as VIPLB_KO; kmod/viplb.ko stays Debian's).  The
# suite runs in one boot of that kernel (selftests/vm/run -k), through a
# copy of the runner tree, build/kselftest-debug/, whose runner.sh lets
# VIPLB_KSFT_TIMEOUT replace selftests/settings' per-test timeout.  After
# the tests the guest scans kmemleak; an object leaked by viplb.ko, like any
# KASAN/UBSAN/lockdep/RCU report, fails the VM run.
#
# Environment: VIPLB_CHECK_TESTS (a space-separated subset of the VM's
# kselftests, e.g. "lb_nat.sh hostile.sh": only those run in the VM),
# VIPLB_VM_LIMIT (seconds for the whole VM run, default 2700, 9000 with
# --debug; 2700 leaves room for a run beside another QEMU, which can
# double its time), VIPLB_KSFT_TIMEOUT (--debug: seconds per test,
# default 1800); with --debug, VIPLB_HOSTILE_N (hostile.sh's frames per
# datapath, default 100000), VIPLB_SEQFUZZ_N (nl_seqfuzz.sh's messages,
# default 200000) and VIPLB_FLOOD_FLOWS (limits.sh's flows, 200000).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1

debug=
case ${1:-} in
--debug) debug=1 ;;
"") ;;
*)
	echo "usage: $0 [--debug]" >&2
	exit 2
	;;
esac

if [ -n "$debug" ]; then
	VM_LIMIT=${VIPLB_VM_LIMIT:-9000}
	KSFT=build/kselftest-debug
else
	VM_LIMIT=${VIPLB_VM_LIMIT:-2700}
	KSFT=build/kselftest
fi
vm_opts=()

total=0
passed=0
failed=0
skipped=0

# result STATUS DESC: emit one result of ours.
result()
{
	total=$((total + 1))
	echo "$1 $total $2"
	case $1 in
	ok)
		if [[ $2 =~ \#[[:space:]]*[Ss][Kk][Ii][Pp] ]]; then
			skipped=$((skipped + 1))
		else
			passed=$((passed + 1))
		fi
		;;
	*)
		failed=$((failed + 1))
		;;
	esac
}

# run_suite NAME CMD...: run CMD, relay its output, count its results.
# Sets suite_rc, suite_results, suite_failed and suite_names (one
# description per line).
run_suite()
{
	local name=$1 line status desc last=$SECONDS
	shift
	suite_rc=
	suite_results=0
	suite_failed=0
	suite_names=
	while IFS= read -r line; do
		line=${line%$'\r'}
		if [[ $line =~ ^__CHECK_RC__\ ([0-9]+)$ ]]; then
			suite_rc=${BASH_REMATCH[1]}
		elif [[ $line =~ ^(not\ ok|ok)([[:space:]]+[0-9]+)?([[:space:]]+-)?[[:space:]]*(.*)$ ]]; then
			status=${BASH_REMATCH[1]}
			desc=${BASH_REMATCH[4]}
			suite_results=$((suite_results + 1))
			[ "$status" = ok ] || suite_failed=$((suite_failed + 1))
			suite_names+="$desc"$'\n'
			result "$status" "$name: $desc"
			echo "# ($((SECONDS - last)) s)"
			last=$SECONDS
		else
			echo "# $line"
		fi
	done < <("$@" 2>&1 </dev/null; echo "__CHECK_RC__ $?")
	: "${suite_rc:=1}"
}

# debug_setup: build (or find) the debug kernel and module, and make the
# runner tree build/kselftest-debug/ next to build/kselftest/.
debug_setup()
{
	local out fw=build/linux/tools/testing/selftests f
	out=$(scripts/debug-kernel.sh all) || return 1
	{ read -r debug_kdir; read -r VIPLB_KO; } <<<"$out"
	export VIPLB_KO VIPLB_KSFT_TIMEOUT=${VIPLB_KSFT_TIMEOUT:-1800}
	# Sized for the debug kernel's pace (1800 s a test): hostile frames
	# per datapath, fuzzed messages (about 250/s there: a million take
	# over an hour, run them alone, see the guide), flows of limits.sh.
	export VIPLB_HOSTILE_N=${VIPLB_HOSTILE_N:-100000}
	export VIPLB_SEQFUZZ_N=${VIPLB_SEQFUZZ_N:-200000}
	export VIPLB_FLOOD_FLOWS=${VIPLB_FLOOD_FLOWS:-200000}
	vm_opts=(-k "$debug_kdir")
	[ -r build/kselftest/kselftest-list.txt ] || return 1
	rm -rf "$KSFT"
	mkdir -p "$KSFT/kselftest"
	ln -s ../../selftests "$KSFT/viplb"
	ln -s ../kselftest/kselftest-list.txt "$KSFT/kselftest-list.txt"
	ln -s "../linux/tools/testing/selftests/run_kselftest.sh" "$KSFT/run_kselftest.sh"
	for f in "$fw"/kselftest/*; do
		[ "${f##*/}" = runner.sh ] || ln -s "../../../$f" "$KSFT/kselftest/${f##*/}"
	done
	# The 6.1 runner has no timeout override: add one after it reads
	# the settings file.
	# shellcheck disable=SC2016 # expanded by the runner
	sed '/^\tTEST_HDR_MSG=/i\
	kselftest_timeout=${VIPLB_KSFT_TIMEOUT:-$kselftest_timeout}' \
		"$fw/kselftest/runner.sh" >"$KSFT/kselftest/runner.sh"
	grep -q VIPLB_KSFT_TIMEOUT "$KSFT/kselftest/runner.sh"
}

echo "TAP version 13"
t0=$SECONDS

# ------------------------------------------------------------- host ---

if [ -z "$debug" ]; then
	echo "# host unit tests: make -C selftests/host run"
	run_suite host make --no-print-directory -C selftests/host run
	if [ "$suite_results" -eq 0 ]; then
		result "not ok" "host: no test results (exit $suite_rc)"
	elif [ "$suite_rc" -ne 0 ] && [ "$suite_failed" -eq 0 ]; then
		result "not ok" "host: make -C selftests/host run exited $suite_rc"
	fi
elif ! debug_setup; then
	result "not ok" "vm: cannot set up the debug kernel run (scripts/debug-kernel.sh, make -C selftests)"
	echo "1..$total"
	echo "$passed passed, $failed failed, $skipped skipped"
	exit 1
else
	echo "# debug kernel: $debug_kdir ($(cat "$debug_kdir/release")), VIPLB_KO=$VIPLB_KO, $VIPLB_KSFT_TIMEOUT s per test"
fi

# VIPLB_CHECK_TESTS: only these kselftests (names as in the list).
only=${VIPLB_CHECK_TESTS:-}

# --------------------------------------------------------------- VM ---

ksft_args=
for t in $only; do
	if ! grep -qxF "viplb:$t" "$KSFT/kselftest-list.txt" 2>/dev/null; then
		result "not ok" "vm: VIPLB_CHECK_TESTS names \`$t', not in $KSFT/kselftest-list.txt"
		echo "1..$total"
		echo "$passed passed, $failed failed, $skipped skipped"
		exit 1
	fi
	ksft_args+=" -t viplb:$t"
done

# ------------------------------------------------------ DKMS, host ---

# host_step DESC CMD...: one result for a host-side program of its own,
# its TAP nested as comments.
host_step()
{
	local desc=$1 t=$SECONDS out rc
	shift
	out=$("$@" 2>&1 </dev/null)
	rc=$?
	[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/# /'
	echo "# $* took $((SECONDS - t))s"
	case $rc in
	0) result ok "host: $desc" ;;
	4) result ok "host: $desc # SKIP" ;;
	*) result "not ok" "host: $desc # exit=$rc" ;;
	esac
}

dkms_pkg=
if [ -z "$debug" ] && { [ -z "$only" ] || [[ " $only " == *" dkms_units.sh "* ]]; }; then
	dkms_pkg=selftests/host/dkms_pkg.sh
	# Purged at the end, also when interrupted.
	trap '$dkms_pkg purge >/dev/null 2>&1' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM HUP
	host_step "dkms_pkg.sh install: viplb-dkms on this host, DKMS's viplb.ko for the VM's kernel" \
		"$dkms_pkg" install
fi

# The VM run.
echo "# kselftests in the VM: selftests/vm/run ${vm_opts[*]}${vm_opts[*]:+ }-t $VM_LIMIT $KSFT/run_kselftest.sh"
if [ ! -x "$KSFT/run_kselftest.sh" ] || [ ! -r "$KSFT/kselftest-list.txt" ]; then
	result "not ok" "vm: $KSFT is missing (make -C selftests)"
else
	# The runner reopens /dev/stdout (runner.sh: 4>>/dev/stdout), which
	# the VM's virtio serial port refuses: give it a pipe.
	run_suite vm selftests/vm/run "${vm_opts[@]}" -t "$VM_LIMIT" bash -c \
		"set -o pipefail; $KSFT/run_kselftest.sh $ksft_args 2>&1 | cat"
	# Every kselftest listed (or chosen) must have reported.
	while IFS=: read -r coll test; do
		[ -n "$test" ] || continue
		[ -z "$only" ] || [[ " $only " == *" $test "* ]] || continue
		if ! grep -qE "(^|[[:space:]])$coll: $test( |\$)" <<<"$suite_names"; then
			result "not ok" "vm: selftests: $coll: $test # no result (VM died or timed out)"
		fi
	done <"$KSFT/kselftest-list.txt"
	case $suite_rc in
	0) ;;
	124) result "not ok" "vm: the VM timed out after ${VM_LIMIT}s" ;;
	125) result "not ok" "vm: the VM died (crash, panic or boot failure)" ;;
	126)
		if [ -n "$debug" ]; then
			result "not ok" "vm: kernel problem (WARN/BUG/Oops/KASAN/UBSAN/lockdep/RCU, or an object leaked by viplb.ko) in the guest, see build/vm/last-dmesg.log and last-kmemleak.log"
		else
			result "not ok" "vm: kernel problem (WARN/BUG/Oops) in the guest dmesg, see build/vm/last-dmesg.log"
		fi
		;;
	*) result "not ok" "vm: selftests/vm/run exited $suite_rc" ;;
	esac
fi

if [ -n "$dkms_pkg" ]; then
	host_step "dkms_pkg.sh purge: viplb-dkms purged, the module gone" \
		"$dkms_pkg" purge
	trap - EXIT
fi

echo "1..$total"
echo "# check took $((SECONDS - t0))s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
