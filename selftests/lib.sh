# SPDX-License-Identifier: GPL-2.0
#
# lib.sh: helpers shared by the viplb selftests.  A test sources it with
#
#	. "$(dirname "$0")/lib.sh"
#
# and then calls the check helpers below, which print TAP lines
# ("ok N - what" / "not ok N - what").  The test ends with viplb_finish,
# which prints the plan and exits 0 (all passed), 1 (something failed) or
# $ksft_skip (nothing ran).  A test that dies before viplb_finish exits 1:
# success is only ever reported when it was checked.
#
# Environment:
#	VIPLB_KO	path of viplb.ko (default: ../kmod/viplb.ko beside
#			this directory)
#	VIPLB		the CLI (default: viplb from ../user, then $PATH)

ksft_pass=0
ksft_fail=1
ksft_skip=4

VIPLB_TEST=$(basename "$0" .sh)
VIPLB_SELFTESTS=$(cd "$(dirname "$0")" && pwd -P)
VIPLB_ROOT=$(cd "$VIPLB_SELFTESTS/.." && pwd -P)
: "${VIPLB_KO:=$VIPLB_ROOT/kmod/viplb.ko}"
if [ -x "$VIPLB_ROOT/user/viplb" ]; then
	PATH=$VIPLB_ROOT/user:$PATH
fi
: "${VIPLB:=viplb}"
export PATH VIPLB_KO

# Random hex suffix, so that names never collide with a leftover of an
# earlier run or with another test running at the same time.
rand_suffix()
{
	od -An -N4 -tx1 /dev/urandom | tr -d ' \n'
}

VIPLB_SUFFIX=$(rand_suffix)
VIPLB_START=$(date +%s)
VIPLB_TMP=$(mktemp -d "/tmp/viplb-$VIPLB_TEST.XXXXXX")

vl_nr=0
vl_failed=0
vl_skipped=0
vl_finished=0
vl_netns=""
vl_cleanups=""
vl_dmesg_mark=""

# ---------------------------------------------------------------- TAP ---

log()
{
	echo "# $*"
}

vl_result()
{
	vl_nr=$((vl_nr + 1))
	echo "$1 $vl_nr - $2"
}

# pass DESC / fail DESC [DETAIL...] / skip DESC REASON
pass()
{
	vl_result ok "$1"
}

fail()
{
	vl_failed=$((vl_failed + 1))
	vl_result "not ok" "$1"
	shift
	for l in "$@"; do
		printf '%s\n' "$l" | sed 's/^/#   /'
	done
}

skip()
{
	vl_skipped=$((vl_skipped + 1))
	vl_result ok "$1 # SKIP $2"
}

# Print the plan and exit.  Exit 4 only if every check was skipped.
viplb_finish()
{
	vl_finished=1
	echo "1..$vl_nr"
	if [ "$vl_failed" -gt 0 ]; then
		log "$VIPLB_TEST: $vl_failed of $vl_nr checks failed ($(($(date +%s) - VIPLB_START))s)"
		exit $ksft_fail
	fi
	if [ "$vl_nr" -eq 0 ] || [ "$vl_skipped" -eq "$vl_nr" ]; then
		exit $ksft_skip
	fi
	log "$VIPLB_TEST: all $vl_nr checks passed ($vl_skipped skipped) in $(($(date +%s) - VIPLB_START))s"
	exit $ksft_pass
}

# Skip the whole test (before any check ran, or after cleanup is safe).
skip_all()
{
	vl_finished=1
	echo "1..0 # SKIP $*"
	exit $ksft_skip
}

# Abort: the remaining checks cannot run.
bail()
{
	fail "$*"
	viplb_finish
}

# ------------------------------------------------------------ cleanup ---

# defer CMD...: run CMD at exit, last registered first.
defer()
{
	vl_cleanups="$*
$vl_cleanups"
}

vl_exit()
{
	rc=$?
	set +e
	if [ "$vl_finished" -eq 0 ]; then
		echo "not ok $((vl_nr + 1)) - $VIPLB_TEST died unexpectedly (exit $rc)"
		echo "1..$((vl_nr + 1))"
		rc=$ksft_fail
	fi
	printf '%s\n' "$vl_cleanups" | while IFS= read -r c; do
		[ -n "$c" ] && eval "$c" >/dev/null 2>&1
	done
	for ns in $vl_netns; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$VIPLB_TMP"
	exit $rc
}
trap vl_exit EXIT
trap 'exit 1' INT TERM HUP

# ------------------------------------------------------------ require ---

require_root()
{
	[ "$(id -u)" -eq 0 ] || skip_all "must run as root"
}

require_cmd()
{
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip_all "$c not found"
	done
}

# ---------------------------------------------------------- namespaces ---

# ns_create VAR PREFIX: create netns PREFIX-<suffix>, store its name in VAR,
# and delete it at exit.
ns_create()
{
	vl_n="$2-$VIPLB_SUFFIX"
	ip netns add "$vl_n" || bail "ip netns add $vl_n"
	ip -n "$vl_n" link set lo up
	vl_netns="$vl_netns $vl_n"
	eval "$1=\$vl_n"
}

ns_del()
{
	ip netns del "$1"
	vl_netns=$(printf '%s\n' $vl_netns | grep -vx "$1" | tr '\n' ' ')
}

# -------------------------------------------------------------- module ---

mod_loaded()
{
	[ -d /sys/module/viplb ]
}

# Load the modules viplb.ko depends on (insmod does not), then viplb.ko.
mod_load()
{
	[ -r "$VIPLB_KO" ] || return 1
	vl_deps=$(modinfo -F depends "$VIPLB_KO" 2>/dev/null | tr ',' ' ')
	if [ -n "$vl_deps" ]; then
		modprobe -a $vl_deps || return 1
	fi
	insmod "$VIPLB_KO"
}

mod_unload()
{
	rmmod viplb
}

# Start from a freshly loaded module, and unload it at exit.
mod_fresh()
{
	[ -r "$VIPLB_KO" ] || skip_all "$VIPLB_KO not found (make module)"
	if mod_loaded; then
		"$VIPLB" flush >/dev/null 2>&1
		mod_unload || bail "rmmod viplb (left loaded by an earlier test)"
	fi
	mod_load || bail "insmod $VIPLB_KO"
	defer 'mod_loaded && { "$VIPLB" flush; rmmod viplb; }'
}

# --------------------------------------------------------------- dmesg ---

# Mark the kernel log, so that dmesg_check only looks at what follows.
dmesg_mark()
{
	vl_dmesg_mark="viplb-selftest: $VIPLB_TEST $VIPLB_SUFFIX $(rand_suffix)"
	echo "$vl_dmesg_mark" > /dev/kmsg
}

VL_DMESG_BAD='WARNING:|BUG:|Oops|general protection|Call Trace|KASAN|UBSAN|kmemleak|refcount_t|list_add corruption|list_del corruption|rcu.*stall|self-detected stall|blocked for more than|Kernel panic|double free|use-after-free|possible recursive locking|circular locking|sleeping function called|still has.*references|unregister_netdevice: waiting'

# dmesg_check DESC: no kernel warning since dmesg_mark.
dmesg_check()
{
	vl_log=$(dmesg | sed -n "/$vl_dmesg_mark/,\$p")
	if [ -z "$vl_log" ]; then
		fail "$1: dmesg marker not found"
		return
	fi
	vl_bad=$(printf '%s\n' "$vl_log" | grep -E "$VL_DMESG_BAD")
	if [ -n "$vl_bad" ]; then
		fail "$1" "$vl_bad"
	else
		pass "$1"
	fi
}

# ------------------------------------------------------------- running ---

# vrun ARGS...: run the CLI, leaving stdout in $out, stderr in $err and the
# exit code in $rc.
vrun()
{
	"$VIPLB" "$@" >"$VIPLB_TMP/out" 2>"$VIPLB_TMP/err"
	rc=$?
	out=$(cat "$VIPLB_TMP/out")
	err=$(cat "$VIPLB_TMP/err")
	return 0
}

# check_ok DESC CMD...: CMD must exit 0.
check_ok()
{
	vl_d=$1
	shift
	if vl_o=$("$@" 2>&1); then
		pass "$vl_d"
	else
		fail "$vl_d" "command: $*" "exit $?: $vl_o"
		return 1
	fi
}

# check_fail DESC CMD...: CMD must exit non-zero.
check_fail()
{
	vl_d=$1
	shift
	if vl_o=$("$@" 2>&1); then
		fail "$vl_d" "command: $*" "unexpectedly succeeded: $vl_o"
		return 1
	else
		pass "$vl_d"
	fi
}

# check_eq DESC GOT WANT
check_eq()
{
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "got:  $2" "want: $3"
		return 1
	fi
}

# check_grep DESC PATTERN TEXT: extended regexp PATTERN occurs in TEXT.
check_grep()
{
	if printf '%s\n' "$3" | grep -qE -- "$2"; then
		pass "$1"
	else
		fail "$1" "pattern: $2" "text: $3"
		return 1
	fi
}

# check_viplb DESC ARGS...: the CLI must exit 0 and print nothing on stderr.
check_viplb()
{
	vl_d=$1
	shift
	vrun "$@"
	if [ "$rc" -eq 0 ] && [ -z "$err" ]; then
		pass "$vl_d"
	else
		fail "$vl_d" "command: viplb $*" "exit $rc, stderr: $err"
		return 1
	fi
}

# ---------------------------------------------------------------- JSON ---

# show_json [ARGS...]: `viplb [ARGS] -j show` (the whole netns).
show_json()
{
	"$VIPLB" "$@" -j show
}

# check_jq DESC FILTER [VIPLB-ARGS...]: FILTER applied to the JSON dump must
# be true (jq -e).
check_jq()
{
	vl_d=$1
	vl_f=$2
	shift 2
	if ! vl_j=$(show_json "$@" 2>&1); then
		fail "$vl_d" "viplb $* -j show failed: $vl_j"
		return 1
	fi
	if printf '%s\n' "$vl_j" | jq -e "$vl_f" >/dev/null 2>&1; then
		pass "$vl_d"
	else
		fail "$vl_d" "filter: $vl_f" "json: $(printf '%s' "$vl_j" | head -c 600)"
		return 1
	fi
}

# jq_val FILTER [VIPLB-ARGS...]: print FILTER applied to the JSON dump.
jq_val()
{
	vl_f=$1
	shift
	show_json "$@" | jq -r "$vl_f"
}

# save_config [VIPLB-ARGS...]: the configuration as `viplb save` text.
save_config()
{
	"$VIPLB" "$@" save
}
