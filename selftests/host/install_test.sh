#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Installing viplb, without changing this host:
#
#   1. make install DESTDIR=$T installs exactly the list below (tools and
#      their argv[0] links, man pages and their links, BPF object, UAPI
#      header, units, viplb.ko), the installed viplb and viplb.ko say
#      VERSION, and make uninstall DESTDIR=$T removes every file of it.
#   2. systemd-analyze verify passes on both units, installed with their
#      tools (PREFIX=$T/...), and fails on a unit whose tool is missing.
#   3. make deb in a clean git clone of HEAD (commit first: uncommitted
#      edits are not in the clone) builds viplb and viplb-dkms; lintian
#      reports no error and no warning (overrides in debian/ say why);
#      dpkg -c lists what is expected; the packages, dkms.conf and the
#      packaged viplb -V all say VERSION.
#   4. viplb.8's MODULE PARAMETERS AND SYSCTLS lists exactly the built
#      module's parameters (each with a modinfo description) and the
#      sysctls of kmod/limits.c.
#   5. DKMS, in a DKMS tree of its own (--dkmstree, --sourcetree,
#      --installtree under $T): add the packaged source, build it for
#      Debian's kernel (scripts/kver.sh, not the running one), install it
#      into $T, remove it.  The build has Debian's vermagic, VERSION, and
#      the srcversion and parameters of the tree's kmod/viplb.ko.
#      No viplb.ko appears in /lib/modules.
#
# viplb-dkms installed on the host for real, its build loaded with modprobe
# in the VM, and the units' commands against the module are
# selftests/host/dkms_pkg.sh and selftests/dkms_units.sh, which
# scripts/check.sh runs around the VM boot.

. "$(dirname "$0")/../lib.sh"

require_root
# A missing tool is a failure (scripts/deps.sh installs them), not a skip.
for c in make git dpkg-buildpackage dpkg-deb lintian dkms systemd-analyze \
	modinfo fakeroot cmp; do
	command -v "$c" >/dev/null 2>&1 || bail "$c not found: run scripts/deps.sh"
done

# lib.sh takes the directory above this one for the top; it is one more up.
ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
T=$VIPLB_TMP
VERSION=$(cat "$ROOT/VERSION")
KVER=$("$ROOT/scripts/kver.sh") || bail "no Debian kernel headers (scripts/kver.sh)"
[ -e "$ROOT/kmod/viplb.ko" ] || bail "kmod/viplb.ko is not built (make module)"
MAKE="make --no-print-directory -s"

# The .ko files under /lib/modules named viplb, now: the test must add none.
mods_before=$(find /lib/modules/ -name 'viplb.ko*' 2>/dev/null | sort)

# ------------------------------------------------- make install/uninstall ---

# What make install puts under DESTDIR with the default PREFIX: "path" for
# a file, "path -> target" for a symlink.
expected_install()
{
	cat <<-EOF
		/lib/modules/$KVER/updates/viplb.ko
		/usr/local/include/linux/viplb.h
		/usr/local/lib/systemd/system/viplb-tables.service
		/usr/local/lib/systemd/system/viplb.service
		/usr/local/lib/systemd/system/viplbd.service
		/usr/local/lib/viplb/viplb-xdp-attach
		/usr/local/lib/viplb/viplb.bpf.o
		/usr/local/sbin/viplb
		/usr/local/sbin/viplb-restore -> viplb
		/usr/local/sbin/viplb-save -> viplb
		/usr/local/sbin/viplb-tables -> viplb
		/usr/local/sbin/viplb6-restore -> viplb
		/usr/local/sbin/viplb6-save -> viplb
		/usr/local/sbin/viplb6-tables -> viplb
		/usr/local/sbin/viplbd
		/usr/local/share/man/man8/viplb-restore.8 -> viplb-tables.8
		/usr/local/share/man/man8/viplb-save.8 -> viplb-tables.8
		/usr/local/share/man/man8/viplb-tables.8
		/usr/local/share/man/man8/viplb.8
		/usr/local/share/man/man8/viplb6-restore.8 -> viplb-tables.8
		/usr/local/share/man/man8/viplb6-save.8 -> viplb-tables.8
		/usr/local/share/man/man8/viplb6-tables.8 -> viplb-tables.8
		/usr/local/share/man/man8/viplbd.8
	EOF
}

# tree_list DIR: the files and symlinks under DIR, as expected_install.
tree_list()
{
	(cd "$1" && find . \( -type f -o -type l \) -printf '/%P\t%l\n') |
		sed 's/\t$//; s/\t/ -> /' | LC_ALL=C sort
}

D=$T/destdir
mkdir -p "$D"
if out=$(cd "$ROOT" && $MAKE install DESTDIR="$D" KVER="$KVER" 2>&1); then
	pass "make install DESTDIR=\$T"
	check_eq "make install: the expected files" "$(tree_list "$D")" \
		"$(expected_install | LC_ALL=C sort)"
	check_eq "installed viplb -V says VERSION" \
		"$("$D/usr/local/sbin/viplb" -V 2>&1)" "viplb $VERSION"
	check_eq "installed viplb.ko says VERSION (modinfo version)" \
		"$(modinfo -F version "$D/lib/modules/$KVER/updates/viplb.ko" 2>&1)" \
		"$VERSION"
	# shellcheck disable=SC2016 # the unit's own $VIPLB_OPTS
	check_grep "installed unit runs the installed viplb" \
		'^ExecStart=/usr/local/lib/viplb/viplb-xdp-attach /etc/viplb/xdp.conf /usr/local/sbin/viplb \$VIPLB_OPTS restore /etc/viplb/viplb.conf$' \
		"$(cat "$D/usr/local/lib/systemd/system/viplb.service")"
	check_ok "make uninstall DESTDIR=\$T" \
		sh -c "cd '$ROOT' && $MAKE uninstall DESTDIR='$D' KVER='$KVER'"
	check_eq "make uninstall: no file left" "$(tree_list "$D")" ""
else
	fail "make install DESTDIR=\$T" "$out"
fi

# ------------------------------------------------------ systemd units ---

# Installed under $T with PREFIX there, so the units name existing tools.
P=$T/prefix
if out=$(cd "$ROOT" && $MAKE install-user PREFIX="$P" 2>&1); then
	pass "make install-user PREFIX=\$T/prefix"
	for u in viplb.service viplb-tables.service viplbd.service; do
		check_ok "systemd-analyze verify $u" env MANPATH="$P/share/man" \
			systemd-analyze verify "$P/lib/systemd/system/$u"
	done
	mkdir -p "$T/bad"
	sed "s|^ExecStart=$P/lib/viplb/viplb-xdp-attach |ExecStart=$T/nonexistent |" \
		"$P/lib/systemd/system/viplb.service" >"$T/bad/viplb.service"
	check_fail "systemd-analyze verify fails on a unit whose tool is missing" \
		env MANPATH="$P/share/man" systemd-analyze verify "$T/bad/viplb.service"
else
	fail "make install-user PREFIX=\$T/prefix" "$out"
fi

# ------------------------------------------------- module settings ---

# viplb.8's MODULE PARAMETERS AND SYSCTLS names every parameter of the
# built module (modinfo -p, each with a description) and every sysctl of
# kmod/limits.c, and nothing else.
man_section=$(sed -n '/^\.SH MODULE PARAMETERS AND SYSCTLS/,/^\.SH /p' \
	"$ROOT/Documentation/viplb.8")
check_eq "viplb.8 lists the module's parameters" \
	"$(printf '%s\n' "$man_section" | sed -n '/^\.SS Module parameters/,/^\.SS /s/^\.B \([a-z_]*\)$/\1/p' | sort)" \
	"$(modinfo -p "$ROOT/kmod/viplb.ko" | cut -d: -f1 | sort)"
check_eq "every module parameter has a description (modinfo -p)" \
	"$(modinfo -p "$ROOT/kmod/viplb.ko" | grep -v '^[a-z_]*:[^(]' || true)" ""
check_eq "viplb.8 lists the sysctls of kmod/limits.c" \
	"$(printf '%s\n' "$man_section" | grep -o 'net\.viplb\.max_[a-z_]*' | sort -u)" \
	"$(grep -o '{ "max_[a-z_]*"' "$ROOT/kmod/limits.c" | sed 's/{ "/net.viplb./; s/"//' | sort -u)"

# ------------------------------------------------------- the .debs ---

C=$T/clone
B=$C/build/deb
if ! git clone -q "$ROOT" "$C" 2>"$T/clone.err"; then
	bail "git clone of the tree" "$(cat "$T/clone.err")"
fi
if out=$(cd "$C" && DEB_BUILD_OPTIONS=parallel=2 $MAKE deb 2>&1); then
	pass "make deb in a clean clone of HEAD ($(git -C "$C" rev-parse --short HEAD))"
else
	printf '%s\n' "$out" | tail -30 >"$T/deb.err"
	bail "make deb in a clean clone of HEAD" "$(cat "$T/deb.err")"
fi
check_eq "make deb leaves the clone clean" \
	"$(git -C "$C" status --porcelain --ignored | grep -v '^!! build/$')" ""

DEB=$B/viplb_${VERSION}-1_$(dpkg --print-architecture).deb
DKMS_DEB=$B/viplb-dkms_${VERSION}-1_all.deb
for f in "$DEB" "$DKMS_DEB"; do
	[ -f "$f" ] || bail "$(basename "$f") was not built" "$(ls "$B")"
done

# Errors and warnings fail; overridden tags (debian/*.lintian-overrides,
# each with its reason) do not.
lt=$(lintian --fail-on error,warning "$DEB" "$DKMS_DEB" 2>&1)
lt_rc=$?
lt=$(printf '%s\n' "$lt" | grep -v '^running with root privileges')
if [ "$lt_rc" -eq 0 ] && ! printf '%s\n' "$lt" | grep -q '^[EW]:'; then
	pass "lintian: no error, no warning"
else
	fail "lintian: no error, no warning" "exit $lt_rc" "$lt"
fi

# deb_list DEB: its files and symlinks, as expected_install.
deb_list()
{
	dpkg-deb --fsys-tarfile "$1" | tar -tvf - |
		awk '$1 !~ /^d/ { p = $6; sub(/^\./, "", p);
			if ($1 ~ /^l/) p = p " -> " $8; print p }' | LC_ALL=C sort
}

check_eq "dpkg -c viplb: the expected files" "$(deb_list "$DEB")" "$(
	LC_ALL=C sort <<-EOF
		/lib/systemd/system/viplb-tables.service
		/lib/systemd/system/viplb.service
		/lib/systemd/system/viplbd.service
		/usr/include/linux/viplb.h
		/usr/lib/viplb/viplb-xdp-attach
		/usr/lib/viplb/viplb.bpf.o
		/usr/sbin/viplb
		/usr/sbin/viplb-restore -> viplb
		/usr/sbin/viplb-save -> viplb
		/usr/sbin/viplb-tables -> viplb
		/usr/sbin/viplb6-restore -> viplb
		/usr/sbin/viplb6-save -> viplb
		/usr/sbin/viplb6-tables -> viplb
		/usr/sbin/viplbd
		/usr/share/doc/viplb/README.md.gz
		/usr/share/doc/viplb/changelog.Debian.gz
		/usr/share/doc/viplb/copyright
		/usr/share/lintian/overrides/viplb
		/usr/share/man/man8/viplb-restore.8.gz -> viplb-tables.8.gz
		/usr/share/man/man8/viplb-save.8.gz -> viplb-tables.8.gz
		/usr/share/man/man8/viplb-tables.8.gz
		/usr/share/man/man8/viplb.8.gz
		/usr/share/man/man8/viplb6-restore.8.gz -> viplb-tables.8.gz
		/usr/share/man/man8/viplb6-save.8.gz -> viplb-tables.8.gz
		/usr/share/man/man8/viplb6-tables.8.gz -> viplb-tables.8.gz
		/usr/share/man/man8/viplbd.8.gz
	EOF
)"

S=/usr/src/viplb-$VERSION
check_eq "dpkg -c viplb-dkms: the expected files" "$(deb_list "$DKMS_DEB")" "$(
	{
		echo "/usr/share/doc/viplb-dkms/changelog.Debian.gz"
		echo "/usr/share/doc/viplb-dkms/copyright"
		echo "/usr/share/lintian/overrides/viplb-dkms"
		echo "$S/dkms.conf"
		echo "$S/Kbuild"
		echo "$S/VERSION"
		git -C "$ROOT" ls-files kmod include/uapi/linux/viplb.h \
			include/viplb | sed "s|^|$S/|"
	} | LC_ALL=C sort
)"

for f in "$DEB" "$DKMS_DEB"; do
	check_eq "$(basename "$f"): Version is VERSION-1" \
		"$(dpkg-deb -f "$f" Version)" "$VERSION-1"
done
check_grep "viplb Depends on libmnl, libnftnl and libbpf" \
	'libbpf1.*libmnl0.*libnftnl11|libmnl0.*libnftnl11.*libbpf1' \
	"$(dpkg-deb -f "$DEB" Depends | tr ',' '\n' | sort | tr '\n' ' ')"
check_grep "viplb-dkms Depends on dkms" '(^|, )dkms( |,|$)' \
	"$(dpkg-deb -f "$DKMS_DEB" Depends)"

X=$T/x
mkdir -p "$X"
if ! dpkg-deb -x "$DEB" "$X/viplb" || ! dpkg-deb -x "$DKMS_DEB" "$X/dkms"; then
	bail "dpkg-deb -x of the packages"
fi
check_eq "packaged viplb -V says VERSION" "$("$X/viplb/usr/sbin/viplb" -V 2>&1)" \
	"viplb $VERSION"
check_grep "packaged dkms.conf: PACKAGE_VERSION is VERSION" \
	"^PACKAGE_VERSION=\"$VERSION\"\$" "$(cat "$X/dkms$S/dkms.conf")"
# shellcheck disable=SC2016 # the unit's own $VIPLB_OPTS
check_grep "packaged viplb.service runs /usr/sbin/viplb" \
	'^ExecStart=/usr/lib/viplb/viplb-xdp-attach /etc/viplb/xdp.conf /usr/sbin/viplb \$VIPLB_OPTS restore /etc/viplb/viplb.conf$' \
	"$(cat "$X/viplb/lib/systemd/system/viplb.service")"

# ------------------------------------------------------------- DKMS ---

# dkms OP ...: dkms on trees under $T only.  DKMS's MOK signing key is
# made once in /var/lib/dkms, as any DKMS package install does.
mkdir -p "$T/dkms" "$T/lib/$KVER"
# shellcheck disable=SC2317 # called through check_ok
dk()
{
	dkms "$@" -m viplb -v "$VERSION" --sourcetree "$X/dkms/usr/src" \
		--dkmstree "$T/dkms" --installtree "$T/lib"
}

check_ok "dkms add (the packaged source)" dk add
if check_ok "dkms build -k $KVER" dk build -k "$KVER"; then
	ko=$T/dkms/viplb/$VERSION/$KVER/$(uname -m)/module/viplb.ko
	check_eq "DKMS's viplb.ko is built for $KVER" \
		"$(modinfo -F vermagic "$ko" 2>&1 | cut -d' ' -f1)" "$KVER"
	check_eq "DKMS's viplb.ko says VERSION (modinfo version)" \
		"$(modinfo -F version "$ko" 2>&1)" "$VERSION"
	# srcversion is a digest of the module's source files.
	check_eq "DKMS's viplb.ko has kmod/viplb.ko's srcversion" \
		"$(modinfo -F srcversion "$ko" 2>&1)" \
		"$(modinfo -F srcversion "$ROOT/kmod/viplb.ko")"
	check_eq "DKMS's viplb.ko has the parameters of kmod/viplb.ko" \
		"$(modinfo -p "$ko" 2>&1)" "$(modinfo -p "$ROOT/kmod/viplb.ko")"
	check_ok "dkms install -k $KVER --no-depmod (into \$T)" \
		dk install -k "$KVER" --no-depmod
	check_ok "installed under \$T/lib/$KVER/updates/dkms: DKMS's build" \
		cmp "$T/lib/$KVER/updates/dkms/viplb.ko" "$ko"
	check_ok "dkms remove -k $KVER" dk remove -k "$KVER" --no-depmod
	check_eq "dkms remove: the module is gone" \
		"$(find "$T/lib" "$T/dkms" -name 'viplb.ko*')" ""
fi
check_eq "no viplb.ko added to /lib/modules" \
	"$(find /lib/modules/ -name 'viplb.ko*' 2>/dev/null | sort)" "$mods_before"

viplb_finish
