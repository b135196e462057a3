#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# viplb-dkms installed on this host for real, for selftests/dkms_units.sh in
# the VM (which sees this host's root read-only and loads DKMS's build with
# modprobe).  scripts/check.sh runs it around the VM boot; it is not a
# *_test.sh, so the host runner does not run it: it changes the host.
#
#   dkms_pkg.sh install   make deb-dkms (build/deb/), then dpkg -i of
#                         viplb-dkms: its postinst has DKMS build and install
#                         viplb.ko for the kernels it picks; then dkms
#                         install -k KVER, Debian's kernel that the VM boots
#                         (scripts/kver.sh, not the running one), if the
#                         postinst did not pick it.  Checks: DKMS's build is
#                         /lib/modules/KVER/updates/dkms/viplb.ko, modinfo -k
#                         KVER finds it (depmod ran), with KVER's vermagic,
#                         VERSION and the tree's source (srcversion of
#                         kmod/viplb.ko).
#                         A viplb-dkms left installed (by an interrupted run)
#                         is purged first.  Any other viplb.ko for KVER
#                         (make install-module, a manual dkms install) is
#                         an error: modprobe could pick it instead.
#   dkms_pkg.sh purge     dpkg --purge viplb-dkms (if installed).  Checks: the
#                         package is gone, DKMS knows no viplb, /usr/src has
#                         no viplb source, no viplb.ko is left under
#                         /lib/modules/KVER and modinfo -k KVER viplb fails.
#
# What stays: DKMS's own signing key in /var/lib/dkms (made by the first
# DKMS package installed on a host, and kept by DKMS).

. "$(dirname "$0")/../lib.sh"

require_root
for c in make dpkg dpkg-query dpkg-buildpackage dkms modinfo; do
	command -v "$c" >/dev/null 2>&1 || bail "$c not found: run scripts/deps.sh"
done

# lib.sh takes the directory above this one for the top; it is one more up.
ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
VERSION=$(cat "$ROOT/VERSION")
KVER=$("$ROOT/scripts/kver.sh") || bail "no Debian kernel headers (scripts/kver.sh)"
DEB=$ROOT/build/deb/viplb-dkms_${VERSION}-1_all.deb
DKMS_KO=/lib/modules/$KVER/updates/dkms/viplb.ko

# pkg_installed: dpkg has viplb-dkms (any state but not-installed).
pkg_installed()
{
	dpkg-query -W -f='${db:Status-Status}\n' viplb-dkms 2>/dev/null |
		grep -qv '^not-installed$'
}

# purge: dpkg --purge viplb-dkms, if dpkg has it.  Its prerm has DKMS
# remove the module from every kernel (and run depmod).
purge()
{
	pkg_installed || return 0
	dpkg --purge viplb-dkms
}

# viplb_kos: every viplb.ko under /lib/modules/KVER.
viplb_kos()
{
	find "/lib/modules/$KVER" -name 'viplb.ko*' 2>/dev/null | sort
}

case ${1:-} in
install)
	if pkg_installed; then
		log "viplb-dkms is installed (an interrupted run?): purging it first"
		check_ok "dpkg --purge of the viplb-dkms left installed" purge ||
			bail "cannot purge the viplb-dkms left installed"
	fi
	other=$(viplb_kos)
	[ -z "$other" ] ||
		bail "a viplb.ko is installed for $KVER already, not by viplb-dkms: $other (make uninstall-module KVER=$KVER, or dkms remove viplb/VERSION --all)"
	[ -z "$(dkms status -m viplb 2>/dev/null)" ] ||
		bail "DKMS has a viplb already, not from viplb-dkms: $(dkms status -m viplb) (dkms remove viplb/VERSION --all)"

	if out=$(cd "$ROOT" && make --no-print-directory -s deb-dkms 2>&1) &&
		[ -r "$DEB" ]; then
		pass "make deb-dkms: $(basename "$DEB")"
	else
		fail "make deb-dkms" "$(printf '%s\n' "$out" | tail -20)"
		viplb_finish
	fi
	# The postinst builds for the running kernel and the newest one, or
	# every kernel in /lib/modules when the running one has none (a
	# container); headers missing is a skip, not an error.
	if out=$(dpkg -i "$DEB" 2>&1); then
		pass "dpkg -i viplb-dkms"
		printf '%s\n' "$out" | sed 's/^/#   /'
	else
		fail "dpkg -i viplb-dkms" "$out"
		purge >/dev/null 2>&1
		viplb_finish
	fi
	if ! dkms status -m viplb -v "$VERSION" -k "$KVER" | grep -q ': installed'; then
		log "the postinst did not build for $KVER: dkms install -k $KVER"
		check_ok "dkms install -m viplb -v $VERSION -k $KVER" \
			dkms install -m viplb -v "$VERSION" -k "$KVER"
	fi
	check_grep "dkms status: viplb $VERSION installed for $KVER" \
		"^viplb/$VERSION, $KVER, [^:]*: installed" \
		"$(dkms status -m viplb -v "$VERSION" -k "$KVER" 2>&1)"
	check_eq "modinfo -k $KVER -n viplb: DKMS's build" \
		"$(modinfo -k "$KVER" -n viplb 2>&1)" "$DKMS_KO"
	check_eq "... the only viplb.ko for $KVER" "$(viplb_kos)" "$DKMS_KO"
	check_eq "... built for $KVER (vermagic)" \
		"$(modinfo -F vermagic "$DKMS_KO" 2>&1 | cut -d' ' -f1)" "$KVER"
	check_eq "... version $VERSION (MODULE_VERSION)" \
		"$(modinfo -F version "$DKMS_KO" 2>&1)" "$VERSION"
	check_eq "... of the tree's source (srcversion of kmod/viplb.ko)" \
		"$(modinfo -F srcversion "$DKMS_KO" 2>&1)" \
		"$(modinfo -F srcversion "$ROOT/kmod/viplb.ko" 2>&1)"
	;;
purge)
	check_ok "dpkg --purge viplb-dkms" purge
	check_fail "... dpkg has no viplb-dkms" pkg_installed
	check_eq "... DKMS knows no viplb" "$(dkms status -m viplb 2>&1)" ""
	check_eq "... no viplb source in /usr/src" \
		"$(find /usr/src -maxdepth 1 -name 'viplb-*')" ""
	check_eq "... no viplb.ko under /lib/modules/$KVER" "$(viplb_kos)" ""
	check_fail "... modinfo -k $KVER viplb finds no module" \
		modinfo -k "$KVER" viplb
	;;
*)
	echo "usage: $0 install|purge" >&2
	exit 2
	;;
esac
viplb_finish
