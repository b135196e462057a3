#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# viplb-xdp-attach (systemd/viplb-xdp-attach.in), which viplb.service runs
# at start and reload as `viplb-xdp-attach /etc/viplb/xdp.conf viplb
# restore /etc/viplb/viplb.conf': a missing file attaches nothing; a file
# with a bad line, or naming a device that does not exist, fails with
# `FILE: line N: ...', attaches nothing and runs no command (also with
# --check, which never attaches); a good file attaches every device; run
# again, it leaves them as they are and succeeds; an attach that fails
# detaches again the devices this run attached, and only those; so does a
# command that fails after the attaches, whose exit status it returns.
#
#   netns $D: veth pairs a0 <-> a1, b0 <-> b1; XDP generic, no module.

# Pid 1 of a pid and mount namespace of our own: see xdp_ns.sh.
. "$(dirname "$0")/xdp_ns.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
: "${VIPLB:=$ROOT/user/viplb/viplb}"
. "$(dirname "$0")/../lib.sh"

require_root
require_cmd ip sed
xdp_ns_check

T=$VIPLB_TMP
# The script as make install makes it, naming the tree's viplb.
sed -e "s|@SBINDIR@|$ROOT/user/viplb|g" -e "s|@PKGLIBDIR@|$T|g" \
	"$ROOT/systemd/viplb-xdp-attach.in" >"$T/viplb-xdp-attach"
chmod +x "$T/viplb-xdp-attach"

ns_create D xa
for p in a b; do
	if ! ip -n "$D" link add ${p}0 type veth peer name ${p}1 ||
		! ip -n "$D" link set ${p}0 up || ! ip -n "$D" link set ${p}1 up; then
		bail "veth pair ${p}0/${p}1 in $D"
	fi
done

# attach_in [ARGS...]: the script in $D; sets rc, out (stdout and stderr).
attach_in()
{
	out=$(ip netns exec "$D" "$T/viplb-xdp-attach" "$@" 2>&1)
	rc=$?
}

# attached: the devices viplb's XDP is attached to in $D, sorted, one line.
attached()
{
	"$VIPLB" -n "$D" xdp show | sed -n 's/^xdp dev \([^ ]*\) .*/\1/p' |
		sort | tr '\n' ' '
}

attach_in "$T/none.conf"
check_eq "a missing file: success" "$rc" 0
check_eq "a missing file: nothing attached" "$(attached)" ""

cat >"$T/bad.conf" <<-EOF
	# two devices
	xdp attach a0 mode generic
	xdp atach b0 mode generic
EOF
attach_in "$T/bad.conf"
check_eq "a bad line: exit 1" "$rc" 1
check_eq "a bad line: its error" "$out" \
	"$T/bad.conf: line 3: not an \`xdp attach DEV' line: \`xdp atach b0 mode generic'"
check_eq "a bad line: nothing attached (not even line 2's a0)" "$(attached)" ""

printf 'xdp attach a0 mode generic\n\nxdp attach c0\n' >"$T/nodev.conf"
attach_in "$T/nodev.conf"
check_eq "no such device: the error" "$rc $out" \
	"1 $T/nodev.conf: line 3: xdp attach: no device \`c0'"
check_eq "no such device: nothing attached" "$(attached)" ""

cat >"$T/good.conf" <<-EOF
	xdp attach a0 mode generic   # the clients' side
	xdp attach b0 mode generic flows 4096
EOF
attach_in --check "$T/good.conf"
check_eq "--check of a good file: success" "$rc $out" "0 "
check_eq "--check attaches nothing" "$(attached)" ""
attach_in --check "$T/bad.conf"
check_eq "--check of a bad file: the error" "$rc $out" \
	"1 $T/bad.conf: line 3: not an \`xdp attach DEV' line: \`xdp atach b0 mode generic'"

attach_in "$T/good.conf"
check_eq "a good file: success" "$rc $out" "0 "
check_eq "a good file: both attached" "$(attached)" "a0 b0 "
attach_in "$T/good.conf"
check_eq "the same file again (reload): success, no error" "$rc $out" "0 "
check_eq "the same file again: still both" "$(attached)" "a0 b0 "

check_viplb "xdp detach b0" -n "$D" xdp detach b0
# b0 is attached, then a1's attach fails: b0 goes, a0 (there before) stays.
cat >"$T/fails.conf" <<-EOF
	xdp attach a0 mode generic
	xdp attach b0 mode generic
	xdp attach a1 mode bogus
EOF
attach_in "$T/fails.conf"
check_eq "a failing attach: exit 1" "$rc" 1
check_grep "a failing attach: viplb's error, then the line" \
	"invalid mode .bogus.*
$T/fails.conf: line 3: \`xdp attach a1 mode bogus' failed" "$out"
check_eq "a failing attach: b0, attached by this run, detached again" \
	"$(attached)" "a0 "

# The command after the attaches: it runs once they are made (b0 is not
# attached: the failing attach above took it off again).
# shellcheck disable=SC2016 # $0 of the inner sh: viplb
attach_in "$T/good.conf" sh -c '"$0" xdp show | grep -c "^xdp dev b0 "' "$VIPLB"
check_eq "a command: it runs after the attaches (it sees b0)" "$rc $out" "0 1"
check_viplb "xdp detach b0" -n "$D" xdp detach b0
# A command that fails: b0 (attached by this run) goes, a0 stays.
attach_in "$T/good.conf" sh -c 'echo "line 3: no" >&2; exit 3'
check_eq "a failing command: its status and its error" "$rc $out" "3 line 3: no"
check_eq "a failing command: b0, attached by this run, detached again" \
	"$(attached)" "a0 "
attach_in "$T/bad.conf" touch "$T/ran"
check_eq "a bad file: the command does not run" "$rc $([ -e "$T/ran" ] && echo ran)" "1 "
attach_in "$T/none.conf" true
check_eq "a missing file: the command runs" "$rc $out" "0 "

check_viplb "xdp detach a0" -n "$D" xdp detach a0
viplb_finish
