#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Stateful netlink fuzzing: nl_seqfuzz sends sequences of messages of
# every command and attribute over a pool of sockets (transactions left
# open when their socket closes, two sockets at once, batches, sockets
# closed in random order) while a thread dumps all along, and checks every
# answer against its model of the module.  It runs in a fresh netns, then
# again with failslab on its sending thread if the kernel has failslab.
# Afterwards the module must unload, load again and work, and the kernel
# log must be clean.
#
# Environment:
#	VIPLB_SEQFUZZ_N		messages of the first run (default 20000)
#	VIPLB_SEQFUZZ_FAILSLAB_N	messages under failslab (default 5000)
#	VIPLB_SEQFUZZ_SEED	the seed (default: a random one, printed)
#	VIPLB_SEQFUZZ_T		seconds each run may take at most (default:
#				no limit; the run stops early, and says so)
#
# Rates seen under TCG: about 1400 messages/s on Debian's kernel, 200 on
# the debug kernel (KASAN, lockdep), less when other VMs share the host.

. "$(dirname "$0")/lib.sh"

FUZZ=$VIPLB_SELFTESTS/nl_seqfuzz
FS=/sys/kernel/debug/failslab
N=${VIPLB_SEQFUZZ_N:-20000}
FN=${VIPLB_SEQFUZZ_FAILSLAB_N:-5000}
SEED=${VIPLB_SEQFUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
LIMIT=${VIPLB_SEQFUZZ_T:+-t $VIPLB_SEQFUZZ_T}

require_root
[ -x "$FUZZ" ] || skip_all "$FUZZ not built (make -C selftests)"
mod_fresh
log "seed $SEED (VIPLB_SEQFUZZ_SEED=$SEED repeats the runs)"

# run_fuzz DESC ARGS...: nl_seqfuzz ARGS in a fresh netns, which is then
# deleted with what the run left in it; its TAP is nested under ours.
run_fuzz()
{
	d=$1
	shift
	ns_create NS seqfuzz
	ip netns exec "$NS" "$FUZZ" "$@" >"$VIPLB_TMP/fuzz" 2>&1
	r=$?
	sed 's/^/#   /' "$VIPLB_TMP/fuzz"
	ns_del "$NS"
	if [ "$r" -eq "$ksft_skip" ]; then
		skip "$d" "$(sed -n 's/^1\.\.0 # SKIP //p' "$VIPLB_TMP/fuzz")"
	elif [ $r -ne 0 ]; then
		fail "$d" "nl_seqfuzz exit $r" \
			"$(grep -E '^not ok|^# (messages|seed)' "$VIPLB_TMP/fuzz")"
	elif ! grep -qE '^1\.\.[1-9]' "$VIPLB_TMP/fuzz" ||
	     grep -q '^not ok ' "$VIPLB_TMP/fuzz"; then
		fail "$d" "nl_seqfuzz output has no passing TAP plan"
	else
		pass "$d ($(sed -n 's/^# \(.* messages\/s\)$/\1/p' \
			"$VIPLB_TMP/fuzz"))"
	fi
}

dmesg_mark
# shellcheck disable=SC2086 # LIMIT is empty or two words
run_fuzz "nl_seqfuzz: $N messages" -s "$SEED" -n "$N" $LIMIT
dmesg_check "no kernel warning after nl_seqfuzz"

# failslab_set FILE VALUE: set a failslab knob; the old value comes back
# at exit.
failslab_set()
{
	defer "echo '$(cat "$FS/$1")' >$FS/$1"
	echo "$2" >"$FS/$1"
}

grep -qs ' /sys/kernel/debug debugfs ' /proc/mounts ||
	mount -t debugfs none /sys/kernel/debug 2>/dev/null
if [ ! -d "$FS" ] || [ ! -e /proc/self/make-it-fail ]; then
	skip "nl_seqfuzz under failslab" \
		"no $FS (a kernel without CONFIG_FAILSLAB; make check-debug has it)"
else
	# Only tasks that ask (make-it-fail) see failures: nl_seqfuzz's
	# sending thread.  One allocation in ten fails, sleeping ones too.
	failslab_set probability 0
	failslab_set task-filter Y
	failslab_set interval 1
	failslab_set times -1
	failslab_set verbose 0
	failslab_set ignore-gfp-wait N
	echo 10 >"$FS/probability"
	dmesg_mark
	# shellcheck disable=SC2086
	run_fuzz "nl_seqfuzz under failslab: $FN messages" -F -s "$SEED" \
		-n "$FN" $LIMIT
	echo 0 >"$FS/probability"
	# A failed vmalloc() is reported with a stack trace, kmemleak says
	# when it cannot note where to scan: expected here.
	vl_log=$(dmesg | sed -n "/$vl_dmesg_mark/,\$p" |
		grep -v 'kmemleak: Cannot allocate a scan area')
	vl_bad=$(printf '%s\n' "$vl_log" |
		grep -E "$(printf '%s' "$VL_DMESG_BAD" | sed 's/|Call Trace//')")
	if [ -n "$vl_bad" ]; then
		fail "no kernel warning under failslab" "$vl_bad"
	else
		pass "no kernel warning under failslab"
	fi
fi

dmesg_mark
check_ok "rmmod viplb" rmmod viplb
check_ok "insmod viplb again" mod_load
check_viplb "the CLI works after the reload" service add tcp 192.0.2.1:80
check_jq "and sees exactly that service" \
	'[.[] | "\(.proto) \(.vip) \(.port)"] == ["tcp 192.0.2.1 80"]'
check_viplb "flush" flush
dmesg_check "no kernel warning on unload and reload"
viplb_finish
