#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Raw generic netlink: nl_fuzz sends malformed messages (targeted cases and
# random mutations from a fixed seed) to the viplb family; every one must
# be refused, the module must keep working and the kernel log stay clean.
# nl_fuzz runs twice: in the init netns and in a fresh netns that is then
# deleted with whatever the random messages configured in it.

. "$(dirname "$0")/lib.sh"

FUZZ=$VIPLB_SELFTESTS/nl_fuzz

require_root
[ -x "$FUZZ" ] || skip_all "$FUZZ not built (make -C selftests)"
mod_fresh
dmesg_mark

# run_fuzz DESC [ip netns exec NS]: nl_fuzz's TAP is nested under ours.
run_fuzz()
{
	d=$1
	shift
	"$@" "$FUZZ" >"$VIPLB_TMP/fuzz" 2>&1
	r=$?
	sed 's/^/#   /' "$VIPLB_TMP/fuzz"
	if [ $r -ne 0 ]; then
		fail "$d" "nl_fuzz exit $r"
	elif ! grep -q '^ok ' "$VIPLB_TMP/fuzz" ||
	     grep -q '^not ok ' "$VIPLB_TMP/fuzz" ||
	     ! grep -qE '^1\.\.[1-9]' "$VIPLB_TMP/fuzz"; then
		fail "$d" "nl_fuzz output has no passing TAP results"
	else
		pass "$d ($(grep -c '^ok ' "$VIPLB_TMP/fuzz") checks)"
	fi
}

run_fuzz "nl_fuzz in the init netns"
check_viplb "the CLI still works" service add tcp 192.0.2.1:80
check_jq "and sees exactly that service" \
	'[.[] | "\(.proto) \(.vip) \(.port)"] == ["tcp 192.0.2.1 80"]'

ns_create NS fuzz
run_fuzz "nl_fuzz in netns $NS" ip netns exec "$NS"
# Leave something behind in the netns, then delete it.
check_viplb "configure netns $NS" -n "$NS" service add udp 203.0.113.9:53
ns_del "$NS"
check_jq "the init netns is untouched" \
	'[.[] | "\(.proto) \(.vip) \(.port)"] == ["tcp 192.0.2.1 80"]'
check_viplb "flush" flush
check_ok "rmmod" rmmod viplb
dmesg_check "no kernel warning"
viplb_finish
