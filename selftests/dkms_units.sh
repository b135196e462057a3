#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# viplb as a Debian user runs it, in the VM (Debian's kernel):
#
# 1. DKMS.  scripts/check.sh installs the viplb-dkms package on the host
#    before the VM boots (selftests/host/dkms_pkg.sh install): DKMS builds
#    viplb.ko for Debian's kernel, the one this VM runs, into
#    /lib/modules/KVER/updates/dkms, which the VM sees (it mounts the
#    host's root).  Here `modprobe viplb` (not insmod: modprobe finds it
#    through the host's depmod) loads that very build: the loaded module's
#    srcversion and version are DKMS's build's (and the srcversion is the
#    tree's kmod/viplb.ko's: the same source), and so is its GNU build ID,
#    which names the binary.  The tree's viplb talks to it.  After the VM,
#    dkms_pkg.sh purge removes the package on the host and checks that the
#    module is gone.  Without the package installed this part fails (run it
#    through make check, or dkms_pkg.sh install first); on another kernel
#    than Debian's (make check-debug) it is skipped.
#
# 2. The units, on the tree's module: units_viplb_service of units.sh (a
#    good viplb.conf and xdp.conf load, a broken one leaves nothing loaded
#    and fails with its `line N:', reload swaps a changed file in under
#    traffic with no connection lost); then viplb-tables.service: rules.v4
#    and rules.v6 load, a broken rules.v4 from nothing loaded fails with
#    its line and loads nothing, and a reload of a broken rules.v4 fails
#    with its line and keeps the tables as they were.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/units.sh"

require_root
lb_need_cmd dpkg-query dkms modprobe modinfo od readelf python3 sed socat

VERSION=$(cat "$VIPLB_ROOT/VERSION")
KVER=$(uname -r)
T=$VIPLB_TMP

if mod_loaded; then
	"$VIPLB" flush >/dev/null 2>&1
	rmmod viplb || bail "rmmod viplb (left loaded by an earlier test)"
fi

# ------------------------------------------------------------- DKMS ---

dkms_modprobe()
{
	local ko=/lib/modules/$KVER/updates/dkms/viplb.ko status loaded_id id

	check_eq "viplb-dkms $VERSION-1 is installed (on the host)" \
		"$(dpkg-query -W -f='${db:Status-Status} ${Version}' viplb-dkms 2>&1)" \
		"installed $VERSION-1" ||
		bail "viplb-dkms is not installed: make check installs it before the VM boots (selftests/host/dkms_pkg.sh install)"
	status=$(dkms status -m viplb -v "$VERSION" -k "$KVER" 2>&1)
	check_grep "dkms status: viplb $VERSION installed for $KVER" \
		"^viplb/$VERSION, $KVER, [^:]*: installed" "$status"
	check_eq "modinfo -n viplb: DKMS's build" "$(modinfo -n viplb 2>&1)" "$ko"

	# The VM blacklists viplb's aliases (selftests/vm/init), so that the
	# other tests get the tree's module: a family lookup must not load
	# DKMS's build behind their back.
	modprobe -q net-pf-16-proto-16-family-viplb
	check_fail "the genetlink family alias does not load it here" mod_loaded

	check_ok "modprobe viplb" modprobe viplb || return
	defer 'mod_loaded && rmmod viplb'
	check_eq "the loaded viplb's srcversion is DKMS's build's" \
		"$(cat /sys/module/viplb/srcversion 2>&1)" \
		"$(modinfo -F srcversion "$ko" 2>&1)"
	check_eq "... which is the tree's kmod/viplb.ko's (the same source)" \
		"$(cat /sys/module/viplb/srcversion 2>&1)" \
		"$(modinfo -F srcversion "$VIPLB_ROOT/kmod/viplb.ko" 2>&1)"
	check_eq "the loaded viplb's version is VERSION ($VERSION)" \
		"$(cat /sys/module/viplb/version 2>&1)" "$VERSION"
	# The GNU build ID names the binary: the loaded one's is in the note
	# that sysfs shows (a 16-byte header, then the ID).
	loaded_id=$(od -An -tx1 -j16 /sys/module/viplb/notes/.note.gnu.build-id \
		2>&1 | tr -d ' \n')
	id=$(readelf -n "$ko" 2>&1 | sed -n 's/^ *Build ID: //p')
	check_grep "DKMS's build has a build ID" '^[0-9a-f]{40}$' "$id"
	check_eq "the loaded viplb is that very binary (build ID)" \
		"$loaded_id" "$id"
	check_viplb "the tree's viplb adds a service on it" \
		service add tcp 192.0.2.1:80
	check_grep "... and lists it" "^service add tcp 192\.0\.2\.1:80 " \
		"$("$VIPLB" save 2>&1)"
	"$VIPLB" flush
	check_ok "rmmod viplb" rmmod viplb
}

if [ "$KVER" != "$("$VIPLB_ROOT/scripts/kver.sh" 2>/dev/null)" ]; then
	skip "DKMS's viplb.ko, loaded by modprobe" \
		"kernel $KVER is not Debian's: make check installs viplb-dkms for Debian's"
else
	dkms_modprobe
fi

# ------------------------------------------------------------ units ---

# The rest runs on the tree's kmod/viplb.ko, as the other tests do.
mod_fresh
lb_topo
lb_servers
D=$LB_D
defer "\"$VIPLB\" -n $D xdp detach c0"
units_install "$T/lib" "$T/etc" || bail "the units, as make install makes them"
units_viplb_service

# viplb-tables.service.  rules FAMILY-PROTO: a filter table dropping
# FAMILY-PROTO port 9 in INPUT, as viplb-save writes it.
rules()
{
	printf '%s\n' '*filter' ':INPUT ACCEPT [0:0]' ':FORWARD ACCEPT [0:0]' \
		':OUTPUT ACCEPT [0:0]' "-A INPUT -p $1 -m $1 --dport 9 -j DROP" COMMIT
}
# save4 / save6: the filter table as the datapath has it (without the
# comments, which carry the time).
save4()
{
	ip netns exec "$D" "$VIPLB_ROOT/user/viplb/viplb-save" -t filter 2>&1 |
		grep -v '^#'
}
save6()
{
	ip netns exec "$D" "$VIPLB_ROOT/user/viplb/viplb6-save" -t filter 2>&1 |
		grep -v '^#'
}
E=$T/etc
empty4=$(save4)
empty6=$(save6)
rules tcp | sed 's/--dport 9 -j DROP/--dport 99999 -j DROP/' >"$E/rules.v4"
rules udp >"$E/rules.v6"
unit_run viplb-tables.service start
check_ok "a bad rules.v4: start fails ($rc)" test "$rc" -ne 0
check_grep "... with its line 5 error" "line 5: .*99999" "$out"
check_eq "... and loads nothing (v4)" "$(save4)" "$empty4"
check_eq "... and nothing (v6: not reached)" "$(save6)" "$empty6"

rules tcp >"$E/rules.v4"
unit_run viplb-tables.service start
check_eq "viplb-tables.service start: success" "$rc $out" "0 "
v4=$(save4)
v6=$(save6)
check_grep "rules.v4 is loaded" "^-A INPUT -p tcp -m tcp --dport 9 -j DROP$" "$v4"
check_grep "rules.v6 is loaded" "^-A INPUT -p udp -m udp --dport 9 -j DROP$" "$v6"
sed 's/--dport 9 -j DROP/--dport 99999 -j DROP/' "$E/rules.v4" >"$T/bad.v4"
cp "$T/bad.v4" "$E/rules.v4"
unit_run viplb-tables.service reload
check_ok "a bad rules.v4: reload fails ($rc)" test "$rc" -ne 0
check_grep "... with its line 5 error" "line 5: .*99999" "$out"
check_eq "... and the v4 tables stay as they were" "$(save4)" "$v4"

viplb_finish
