#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Every viplb command needs CAP_NET_ADMIN in the user namespace that owns
# the network namespace (GENL_UNS_ADMIN_PERM), reads included:
#   - nobody, and root without CAP_NET_ADMIN, get EPERM;
#   - root of a new user namespace may configure a netns it owns
#     (unshare -Urn), and that configuration is invisible outside;
#   - root of a new user namespace gets EPERM on the init netns (unshare -Ur).

. "$(dirname "$0")/lib.sh"

require_root
require_cmd setpriv unshare nsenter jq
mod_fresh
dmesg_mark

check_viplb "root adds tcp 192.0.2.1:80" service add tcp 192.0.2.1:80
check_viplb "root adds a backend" backend add tcp 192.0.2.1:80 198.51.100.1
BASE=$(save_config)

NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all"
NOCAP="setpriv --inh-caps=-net_admin --bounding-set=-net_admin"

# eperm DESC CMD...: CMD must exit 1 saying "Operation not permitted", and
# the init netns configuration must be unchanged.
eperm()
{
	e_d=$1
	shift
	"$@" >"$VIPLB_TMP/out" 2>"$VIPLB_TMP/err"
	e_rc=$?
	e_err=$(cat "$VIPLB_TMP/err")
	if [ $e_rc -ne 1 ]; then
		fail "$e_d" "exit $e_rc, not 1: $e_err"
	elif ! grep -q "Operation not permitted" "$VIPLB_TMP/err"; then
		fail "$e_d" "no 'Operation not permitted' in: $e_err"
	elif [ "$(save_config)" != "$BASE" ]; then
		fail "$e_d" "the configuration changed"
	else
		pass "$e_d"
		log "  $e_err"
	fi
}

# Unprivileged processes.
eperm "nobody: service add -> EPERM" \
	$NOBODY "$VIPLB" service add tcp 192.0.2.2:80
eperm "nobody: backend add -> EPERM" \
	$NOBODY "$VIPLB" backend add tcp 192.0.2.1:80 198.51.100.2
eperm "nobody: service del -> EPERM" \
	$NOBODY "$VIPLB" service del tcp 192.0.2.1:80
eperm "nobody: flush -> EPERM" $NOBODY "$VIPLB" flush
eperm "nobody: show -> EPERM (reads need CAP_NET_ADMIN too)" \
	$NOBODY "$VIPLB" show
eperm "nobody: -j show -> EPERM" $NOBODY "$VIPLB" -j show
eperm "nobody: save -> EPERM" $NOBODY "$VIPLB" save
printf 'service add tcp 192.0.2.3:80\n' >"$VIPLB_TMP/r"
chmod 644 "$VIPLB_TMP/r"
chmod 755 "$VIPLB_TMP"
eperm "nobody: restore -> EPERM" $NOBODY "$VIPLB" restore "$VIPLB_TMP/r"
eperm "root without CAP_NET_ADMIN: service add -> EPERM" \
	$NOCAP "$VIPLB" service add tcp 192.0.2.2:80
eperm "root without CAP_NET_ADMIN: show -> EPERM" $NOCAP "$VIPLB" show

# Root of a user namespace, in the init netns: not the netns owner.
eperm "unshare -Ur (init netns): service add -> EPERM" \
	unshare -Ur "$VIPLB" service add tcp 192.0.2.2:80
eperm "unshare -Ur (init netns): show -> EPERM" \
	unshare -Ur "$VIPLB" show

# Root of a user namespace that owns a new netns.
o=$(unshare -Urn sh -c "\"$VIPLB\" service add tcp 192.0.2.5:80 &&
	\"$VIPLB\" backend add tcp 192.0.2.5:80 198.51.100.5 weight 4 &&
	\"$VIPLB\" -j show" 2>&1)
r=$?
check_eq "unshare -Urn: add a service and a backend" "$r" 0
if printf '%s\n' "$o" | jq -e '[.[] | "\(.vip) \(.port) \(.backends[0].weight)"] == ["192.0.2.5 80 4"]' >/dev/null 2>&1; then
	pass "unshare -Urn: -j show sees only its own service"
else
	fail "unshare -Urn: -j show sees only its own service" "$o"
fi

# Keep such a namespace alive and look at it from both sides.
ready=$VIPLB_TMP/ready
unshare -Urn sh -c "\"$VIPLB\" service add udp 192.0.2.6:53 && touch $ready && exec sleep 120" &
upid=$!
defer "kill $upid"
i=0
while [ ! -e "$ready" ] && [ $i -lt 100 ] && kill -0 $upid 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
if [ -e "$ready" ]; then
	pass "a user+net namespace configures its netns"
	check_eq "its service is not visible in the init netns" \
		"$(save_config)" "$BASE"
	o=$(nsenter -t $upid -n "$VIPLB" -j show 2>&1)
	if printf '%s\n' "$o" | jq -e '[.[].vip] == ["192.0.2.6"]' >/dev/null 2>&1; then
		pass "it is visible inside that netns, alone"
	else
		fail "it is visible inside that netns, alone" "$o"
	fi
	# Root of the init user namespace may configure that netns too.
	check_ok "init root configures the user-owned netns" \
		nsenter -t $upid -n "$VIPLB" service add udp 192.0.2.7:53
	check_eq "still invisible in the init netns" "$(save_config)" "$BASE"
else
	fail "a user+net namespace configures its netns" "never got ready"
fi
kill $upid 2>/dev/null
wait $upid 2>/dev/null

# An unprivileged user creating its own user and net namespaces.
if $NOBODY unshare -Urn true 2>/dev/null; then
	o=$($NOBODY unshare -Urn sh -c "\"$VIPLB\" service add tcp [2001:db8::5]:443 &&
		\"$VIPLB\" -j show" 2>&1)
	r=$?
	if [ $r -eq 0 ] &&
	   printf '%s\n' "$o" | jq -e '[.[].vip] == ["2001:db8::5"]' >/dev/null 2>&1; then
		pass "nobody configures a netns of its own user namespace"
	else
		fail "nobody configures a netns of its own user namespace" "exit $r: $o"
	fi
	eperm "nobody's user namespace: init netns service add -> EPERM" \
		$NOBODY unshare -Ur "$VIPLB" service add tcp 192.0.2.2:80
else
	skip "nobody configures a netns of its own user namespace" \
		"unprivileged user namespaces are disabled"
fi

check_eq "the init netns configuration is unchanged" "$(save_config)" "$BASE"
dmesg_check "no kernel warning"
viplb_finish
