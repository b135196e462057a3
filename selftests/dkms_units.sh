#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# NOT IN TEST_PROGS YET: written, not yet run in the VM.  The lead adds it
# to selftests/Makefile after a first run.  It needs the .debs of
# `make deb` in build/deb/ (make them on the host before the VM boots).
#
# viplb as a Debian user runs it, in the VM (Debian's kernel):
#
# 1. DKMS.  The viplb-dkms package of `make deb` is installed with dpkg;
#    its postinst has DKMS build viplb.ko for the running kernel and
#    install it in /lib/modules/KVER/updates/dkms.  `modprobe viplb` (not
#    insmod: modprobe finds it through depmod and loads nf_nat and the
#    rest first) loads that very build: the loaded module's GNU build ID
#    is the one of DKMS's build (there is no srcversion: see below).
#    `dpkg -r viplb-dkms` removes it: modinfo viplb no longer finds it.
#    The VM's /usr (and so /lib/modules and /usr/src) is the host's,
#    read-only: an overlay on a tmpfs takes the writes, and goes at exit.
#
# 2. The units, on the module: units_viplb_service of units.sh (a good
#    viplb.conf and xdp.conf load, a broken one leaves nothing loaded,
#    reload swaps a changed file in under traffic with no connection
#    lost), with the real /etc/viplb/ (the VM's /etc is an overlay); then
#    viplb-tables.service: rules.v4 and rules.v6 load; a broken rules.v4
#    fails with `line N:' and the tables stay as they were.
#
# units.sh is sourced from here: add it to TEST_FILES with this test.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/units.sh"

require_root
lb_need_cmd dpkg dkms modprobe modinfo readelf od python3 sed socat

VERSION=$(cat "$VIPLB_ROOT/VERSION")
KVER=$(uname -r)
DEB=$VIPLB_ROOT/build/deb/viplb-dkms_${VERSION}-1_all.deb
T=$VIPLB_TMP
[ -r "$DEB" ] || bail "$DEB not found: run make deb on the host first"
[ -e /etc/viplb ] && bail "/etc/viplb exists: this test writes its own"

if mod_loaded; then
	"$VIPLB" flush >/dev/null 2>&1
	rmmod viplb || bail "rmmod viplb (left loaded by an earlier test)"
fi

# ------------------------------------------------------------- DKMS ---

# /usr, writable for dpkg and DKMS: an overlay whose upper is in $T.
mkdir -p "$T/usr/upper" "$T/usr/work"
mount -t overlay -o "lowerdir=/usr,upperdir=$T/usr/upper,workdir=$T/usr/work" \
	viplb-usr /usr || bail "overlay on /usr"
# Lazily: the umount binary itself comes from the overlay.
defer "umount -l /usr"
defer 'dpkg -r viplb-dkms'
defer 'mod_loaded && rmmod viplb'

# DKMS builds with the kernel's headers under TCG: minutes, not seconds.
check_ok "dpkg -i viplb-dkms (DKMS builds and installs viplb.ko for $KVER)" \
	dpkg -i "$DEB"
status=$(dkms status -m viplb -v "$VERSION" -k "$KVER" 2>&1)
check_grep "dkms status: installed for $KVER" "installed" "$status"
dkms_ko=/var/lib/dkms/viplb/$VERSION/$KVER/$(uname -m)/module/viplb.ko
check_eq "modinfo -n viplb: DKMS's copy in updates/dkms" \
	"$(modinfo -n viplb 2>&1)" "/lib/modules/$KVER/updates/dkms/viplb.ko"
check_ok "modprobe viplb" modprobe viplb
# The module has no srcversion (the kernel writes one only with
# MODULE_VERSION, which kmod/ lacks, or CONFIG_MODULE_SRCVERSION_ALL, which
# Debian's kernel lacks): the GNU build ID names the binary.  The loaded
# module's is in the note sysfs shows (a 16-byte header, then the ID).
loaded_id=$(od -An -tx1 -j16 /sys/module/viplb/notes/.note.gnu.build-id \
	2>&1 | tr -d ' \n')
dkms_id=$(readelf -n "$dkms_ko" 2>&1 | sed -n 's/^ *Build ID: //p')
check_grep "DKMS's build has a build ID" '^[0-9a-f]{40}$' "$dkms_id"
check_eq "the loaded viplb is DKMS's build (build ID)" "$loaded_id" "$dkms_id"
check_eq "DKMS's build has the parameters of kmod/viplb.ko" \
	"$(modinfo -p "$dkms_ko" 2>&1)" "$(modinfo -p "$VIPLB_KO" 2>&1)"
check_ok "rmmod viplb" rmmod viplb
check_ok "dpkg -r viplb-dkms" dpkg -r viplb-dkms
check_fail "after dpkg -r, modinfo viplb finds no module" modinfo viplb
check_eq "after dpkg -r, no viplb.ko under /lib/modules/$KVER" \
	"$(find "/lib/modules/$KVER" -name 'viplb.ko*')" ""

# ------------------------------------------------------------ units ---

# The rest runs on the tree's kmod/viplb.ko, as the other tests do.
mod_fresh
lb_topo
lb_servers
D=$LB_D
defer 'rm -rf /etc/viplb'
defer "\"$VIPLB\" -n $D xdp detach c0"
units_install "$T/lib" /etc/viplb || bail "the units, as make install makes them"
units_viplb_service

# viplb-tables.service.
# rules FAMILY-PROTO: a filter table dropping FAMILY-PROTO port 9 in INPUT.
rules()
{
	printf '%s\n' '*filter' ':INPUT ACCEPT [0:0]' ':FORWARD ACCEPT [0:0]' \
		':OUTPUT ACCEPT [0:0]' "-A INPUT -p $1 -m $1 --dport 9 -j DROP" COMMIT
}
rules tcp >/etc/viplb/rules.v4
rules udp >/etc/viplb/rules.v6
unit_run viplb-tables.service start
check_eq "viplb-tables.service start: success" "$rc $out" "0 "
v4=$(ip netns exec "$D" "$VIPLB_ROOT/user/viplb/viplb-save" -t filter)
v6=$(ip netns exec "$D" "$VIPLB_ROOT/user/viplb/viplb6-save" -t filter)
check_grep "rules.v4 is loaded" "^-A INPUT -p tcp -m tcp --dport 9 -j DROP$" "$v4"
check_grep "rules.v6 is loaded" "^-A INPUT -p udp -m udp --dport 9 -j DROP$" "$v6"
sed 's/--dport 9 -j DROP/--dport 99999 -j DROP/' /etc/viplb/rules.v4 >"$T/bad.v4"
cp "$T/bad.v4" /etc/viplb/rules.v4
unit_run viplb-tables.service reload
check_ok "a bad rules.v4: reload fails ($rc)" test "$rc" -ne 0
check_grep "... with its line 5 error" "line 5: .*99999" "$out"
check_eq "... and the v4 tables stay as they were" \
	"$(ip netns exec "$D" "$VIPLB_ROOT/user/viplb/viplb-save" -t filter)" "$v4"

viplb_finish
