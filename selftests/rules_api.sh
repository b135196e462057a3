#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The kernel's own checks of rule tables, over raw generic netlink
# (rules_api.py): loops, nesting depth, where each target may be used,
# bad specs, handles, generations, transaction scope and limits.  Runs in
# the init netns and in a fresh netns, then checks the kernel log.

. "$(dirname "$0")/lib.sh"

require_root
require_cmd python3
mod_fresh
dmesg_mark

run_api()
{
	d=$1
	shift
	"$@" python3 "$VIPLB_SELFTESTS/rules_api.py" >"$VIPLB_TMP/api" 2>&1
	r=$?
	sed 's/^/#   /' "$VIPLB_TMP/api"
	if [ $r -ne 0 ]; then
		fail "$d" "rules_api.py exit $r"
	elif ! grep -qE '^1\.\.[1-9]' "$VIPLB_TMP/api"; then
		fail "$d" "rules_api.py did not finish"
	else
		pass "$d ($(grep -c '^ok ' "$VIPLB_TMP/api") checks)"
	fi
}

run_api "rule table checks in the init netns"
ns_create NS api
run_api "rule table checks in netns $NS" ip netns exec "$NS"
ns_del "$NS"
check_ok "the module unloads with tables loaded in two netns" mod_unload
dmesg_check "the kernel log is clean"
viplb_finish
