#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/debug-kernel.sh: build the debug kernel of `make check-debug`
# (KASAN, kmemleak, lockdep, PROVE_RCU, UBSAN, debugobjects, fault
# injection) from Debian's linux-source-6.1, and viplb.ko against it.
#
#   scripts/debug-kernel.sh [all|kernel|module]     (default: all)
#
# On success it prints the kernel directory for `selftests/vm/run -k DIR`
# (or kernel) and/or the path of the debug viplb.ko (module), one a line.
#
# Layout, all under build/debug-kernel/:
#   src/      the extracted /usr/src/linux-source-6.1.tar.xz (read-only use)
#   obj/      the kernel build tree (make O=obj): .config, vmlinux,
#             Module.symvers; external modules are built against it
#   boot/     what the VM runner boots: bzImage (a copy of obj/'s; with
#             KASAN the ELF vmlinux does not boot through PVH, as Debian's
#             does), release (uname -r), cmdline (extra kernel arguments) and
#             lib/modules/RELEASE/ (modules.builtin etc., so that the
#             guest's modprobe of a built-in module succeeds)
#   mod/      a copy of the module sources (Kbuild, kmod/, include/) and
#             the debug build of them: mod/kmod/viplb.ko.  kmod/viplb.ko,
#             which `make check` uses, is not touched.
#
# The base config is x86_64_defconfig + kvm_guest.config, with the
# fragment selftests/vm/debug.config merged on top.  Why not Debian's
# /boot/config-*: it builds ~4000 modules and every driver, hours on two
# cores even before KASAN, and trimming it safely is a long list.  The
# upstream defconfig is small, known to boot in QEMU, and the fragment
# switches off the hardware the guest lacks (DRM, sound, USB, NICs, ATA),
# so the whole build takes well under 30 minutes on 2 cores.  Everything
# the tests need is built in; viplb.ko is the only module.
#
# Caching: the kernel is rebuilt only when the key changes: a hash of the
# fragment, the base, this script, the source tarball and the compiler.
# A changed key rebuilds incrementally in the same obj/.  The module is
# rebuilt by make whenever a source file changed.
#
# Build jobs: VIPLB_DEBUG_JOBS (default 2), run under `nice -n 10`.
set -euo pipefail

cd "$(dirname "$0")/.."
repo=$(pwd -P)
top=$repo/build/debug-kernel
src=$top/src
obj=$top/obj
boot=$top/boot
mod=$top/mod
tarball=/usr/src/linux-source-6.1.tar.xz
fragment=$repo/selftests/vm/debug.config
base=(x86_64_defconfig kvm_guest.config)
jobs=${VIPLB_DEBUG_JOBS:-2}
# Extra kernel arguments for this kernel, written to boot/cmdline (the VM
# runner appends them): any WARN (UBSAN and debugobjects reports included)
# and any KASAN report panics the guest; lockdep and RCU reports, which do
# not, are caught by the runner's dmesg scan.  acpi=noirq: under TCG this
# kernel's ACPI interpreter runs the PCI _PRT methods into their 30 s loop
# timeout three times (90 s of boot); the virtio devices use MSI anyway.
cmdline="panic_on_warn=1 kasan.fault=panic acpi=noirq"

what=${1:-all}
case $what in
all | kernel | module) ;;
*)
	echo "usage: ${0##*/} [all|kernel|module]" >&2
	exit 2
	;;
esac

say() { echo "debug-kernel: $*" >&2; }
die() { say "$*"; exit 1; }

kmake() {
	nice -n 10 make -s -C "$src" O="$obj" -j"$jobs" "$@"
}

mkdir -p "$top"
exec 9>"$top/.lock"
flock 9 # concurrent runs: build once

key=$(
	echo "base: ${base[*]}"
	# Contents only: the key must not depend on where the checkout is.
	sha256sum <"$fragment"
	sha256sum <"$0"
	stat -L -c '%n %s %Y' "$tarball"
	gcc --version | head -n 1
)
key=$(sha256sum <<<"$key" | cut -d' ' -f1)

extract() {
	local id
	id=$(stat -L -c '%n %s %Y' "$tarball")
	if [ -e "$src/Makefile" ] && [ "$(cat "$top/src.stamp" 2>/dev/null)" = "$id" ]; then
		return 0
	fi
	[ -r "$tarball" ] || die "$tarball missing (run scripts/deps.sh)"
	say "extracting $tarball into $src"
	rm -rf "$src" "$src.tmp" "$top/src.stamp"
	mkdir -p "$src.tmp"
	tar -xJf "$tarball" -C "$src.tmp" --strip-components=1
	mv "$src.tmp" "$src"
	echo "$id" >"$top/src.stamp"
}

# check_config: every option of the fragment ended up as written.
check_config() {
	local line opt bad=0
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*)
			if ! grep -qxF -- "$line" "$obj/.config"; then
				opt=${line%%=*}
				say "wanted $line, got: $(grep -E "^(# )?${opt}[= ]" "$obj/.config" || echo "$opt absent (dependency missing?)")"
				bad=1
			fi
			;;
		"# CONFIG_"*" is not set")
			opt=${line#\# }
			opt=${opt%% *}
			if grep -q "^$opt=" "$obj/.config"; then
				say "wanted $line, got: $(grep "^$opt=" "$obj/.config")"
				bad=1
			fi
			;;
		esac
	done <"$fragment"
	[ "$bad" = 0 ] || die "the config lacks options of $fragment (see above)"
}

build_kernel() {
	if [ -e "$boot/bzImage" ] && [ "$(cat "$top/kernel.stamp" 2>/dev/null)" = "$key" ]; then
		return 0
	fi
	extract
	rm -f "$top/kernel.stamp"
	mkdir -p "$obj"
	say "configuring: ${base[*]} + ${fragment#"$repo"/}"
	kmake "${base[@]}" >/dev/null
	"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "$fragment" >"$obj/merge_config.log" ||
		die "merge_config.sh failed, see $obj/merge_config.log"
	kmake olddefconfig >/dev/null
	check_config

	say "building $(kmake -s kernelrelease) in $obj (make -j$jobs, nice 10; about 20 minutes)"
	local t0=$SECONDS
	kmake vmlinux bzImage modules || die "kernel build failed"
	[ -s "$obj/Module.symvers" ] || die "no $obj/Module.symvers after the build"
	say "kernel built in $((SECONDS - t0))s"

	local rel
	rel=$(cat "$obj/include/config/kernel.release")
	rm -rf "$boot.tmp"
	mkdir -p "$boot.tmp"
	cp "$obj/arch/x86/boot/bzImage" "$boot.tmp/bzImage"
	echo "$rel" >"$boot.tmp/release"
	echo "$cmdline" >"$boot.tmp/cmdline"
	# modules.builtin and a depmod run: the guest's modprobe then finds
	# every built-in module (tests `modprobe ip_tables ipip ...`).
	kmake INSTALL_MOD_PATH="$boot.tmp" modules_install >/dev/null ||
		die "modules_install failed"
	rm -f "$boot.tmp/lib/modules/$rel/build" "$boot.tmp/lib/modules/$rel/source"
	[ -s "$boot.tmp/lib/modules/$rel/modules.builtin" ] ||
		die "no modules.builtin in $boot.tmp/lib/modules/$rel"
	rm -rf "$boot"
	mv "$boot.tmp" "$boot"
	echo "$key" >"$top/kernel.stamp"
}

# sync_sources: copy the module sources (and VERSION, for MODULE_VERSION)
# into mod/, keeping the copy's time stamps when a file did not change (so
# make rebuilds only what did).
sync_sources() {
	local f want=()
	mkdir -p "$mod"
	for f in VERSION Kbuild kmod/Kbuild kmod/*.[ch] include/viplb/*.h include/uapi/linux/*.h; do
		case $f in
		*.mod.c) continue ;;
		esac
		[ -e "$f" ] || continue
		want+=("$f")
		if ! cmp -s "$f" "$mod/$f"; then
			mkdir -p "$mod/$(dirname "$f")"
			cp -p "$f" "$mod/$f"
		fi
	done
	# Drop copies of sources that are gone.
	(cd "$mod" && find Kbuild kmod include -type f \( -name Kbuild -o -name '*.[ch]' \) ! -name '*.mod.c' 2>/dev/null) |
		while IFS= read -r f; do
			printf '%s\n' "${want[@]}" | grep -qxF -- "$f" || rm -f "$mod/$f"
		done
}

build_module() {
	[ -s "$obj/Module.symvers" ] || die "no debug kernel built yet ($obj)"
	sync_sources
	nice -n 10 make -s -C "$obj" M="$mod" -j"$jobs" modules >&2 ||
		die "building viplb.ko against the debug kernel failed"
	[ -s "$mod/kmod/viplb.ko" ] || die "no $mod/kmod/viplb.ko"
}

case $what in
all)
	build_kernel
	build_module
	echo "$boot"
	echo "$mod/kmod/viplb.ko"
	;;
kernel)
	build_kernel
	echo "$boot"
	;;
module)
	build_module
	echo "$mod/kmod/viplb.ko"
	;;
esac
