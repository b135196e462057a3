#!/bin/bash
# Build the boot files for selftests/vm/run in build/vm/ and print their
# paths, one a line: the initramfs, then the kernel to boot.
#
#   selftests/vm/mkinitramfs.sh [KVER]
#   selftests/vm/mkinitramfs.sh -k DIR
#
# -k DIR: a kernel directory made by scripts/debug-kernel.sh (DIR/bzImage,
#   DIR/release, DIR/lib/modules/RELEASE/).  Its virtio and 9p drivers are
#   built in, so its initramfs-RELEASE.cpio holds no modules, and the kernel
#   printed is DIR/bzImage.
#
# initramfs-KVER.cpio: static busybox, the Debian modules needed to mount the
#   host root over virtio-9p, and selftests/vm/init as /init.  Uncompressed:
#   loading a few MB is quicker than decompressing them under TCG.
# vmlinux-KVER: the ELF kernel unpacked from /boot/vmlinuz-KVER.  QEMU boots
#   it directly through its PVH entry point, which skips the several seconds
#   the bzImage decompressor takes under TCG.  If unpacking fails, the
#   bzImage itself is printed instead.
#
# Both are cached and rebuilt only when one of their inputs (kernel, module
# files, busybox, init, this script) changes.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
die() { echo "mkinitramfs: $*" >&2; exit 1; }

kdir=
modprobe_root=()
if [ "${1:-}" = -k ]; then
	[ $# -eq 2 ] || die "usage: ${0##*/} [KVER | -k DIR]"
	kdir=$(cd "$2" && pwd -P) || die "no kernel directory $2"
	if [ ! -r "$kdir/bzImage" ] || [ ! -r "$kdir/release" ]; then
		die "$kdir is not a kernel directory (scripts/debug-kernel.sh)"
	fi
	kver=$(cat "$kdir/release")
	modprobe_root=(-d "$kdir")
else
	kver=${1:-$("$repo/scripts/kver.sh")}
fi
out_dir=$repo/build/vm
out=$out_dir/initramfs-$kver.cpio
bzimage=/boot/vmlinuz-$kver
vmlinux=$out_dir/vmlinux-$kver
busybox=/bin/busybox
# Modules the guest needs before it can see the host's /lib/modules.
mods=(virtio_pci 9pnet_virtio 9p virtio_console overlay)

[ -x "$busybox" ] || die "$busybox missing (apt-get install busybox-static)"
if ldd "$busybox" >/dev/null 2>&1; then
	die "$busybox is dynamically linked (apt-get install busybox-static)"
fi
# init relies on the shell running applets without links in PATH.
PATH=/nonexistent "$busybox" sh -c 'true | cat' 2>/dev/null ||
	die "$busybox sh cannot run applets standalone"

# Resolve the modules and their dependencies, in load order, without repeats.
deps=$(for m in "${mods[@]}"; do
	modprobe "${modprobe_root[@]}" -S "$kver" --show-depends "$m" || exit 1
done) || die "cannot resolve modules ${mods[*]} for $kver"
files=()
while read -r cmd path _; do
	[ "$cmd" = insmod ] || continue	# "builtin X" lines need nothing
	for f in "${files[@]}"; do
		[ "$f" = "$path" ] && continue 2
	done
	files+=("$path")
done <<<"$deps"
# Debian's kernel has them as modules; a -k kernel has them built in.
[ ${#files[@]} -gt 0 ] || [ -n "$kdir" ] || die "no modules found for $kver"

# Cache key: every input's identity.
stamp=$(
	echo "$kver"
	sha256sum "$here/init" "$here/mkinitramfs.sh"
	stat -L -c '%n %s %Y' "$busybox" "${files[@]}"
)
stamp=$(sha256sum <<<"$stamp" | cut -d' ' -f1)

build_initramfs() {
	stage=$(mktemp -d "$out_dir/.initramfs.XXXXXX")
	trap 'rm -rf "$stage"' EXIT
	mkdir -p "$stage/bin" "$stage/dev" "$stage/proc" "$stage/sys" \
		"$stage/newroot" "$stage/modules"
	cp "$busybox" "$stage/bin/busybox"
	ln -s busybox "$stage/bin/sh"
	install -m 0755 "$here/init" "$stage/init"

	# Modules are numbered so that the guest loads them in dependency
	# order.  Compressed ones are unpacked: busybox insmod may not read them.
	n=100
	for f in "${files[@]}"; do
		name=$(basename "$f")
		case $name in
		*.ko) cp "$f" "$stage/modules/$n-$name" ;;
		*.ko.xz) xz -dc "$f" >"$stage/modules/$n-${name%.xz}" ;;
		*.ko.gz) gzip -dc "$f" >"$stage/modules/$n-${name%.gz}" ;;
		*.ko.zst) zstd -qdc "$f" >"$stage/modules/$n-${name%.zst}" ;;
		*) die "unknown module format: $f" ;;
		esac
		n=$((n + 1))
	done

	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
		"$busybox" cpio -o -H newc -R 0:0 2>/dev/null) >"$out.tmp"
	mv "$out.tmp" "$out"
	echo "$stamp" >"$out.stamp"
}

# unpack_vmlinux: find the compressed payload in the bzImage and unpack it.
unpack_vmlinux() {
	local magic tool off
	for magic in $'\xfd7zXZ' $'\x1f\x8b\x08' $'\x28\xb5\x2f\xfd'; do
		case $magic in
		$'\xfd7zXZ') tool=(xz -dcq --single-stream) ;;
		$'\x1f\x8b\x08') tool=(gzip -dcq) ;;
		*) tool=(zstd -dcq) ;;
		esac
		command -v "${tool[0]}" >/dev/null || continue
		# Try each match: the magic bytes may also occur by chance.
		while IFS=: read -r off _; do
			tail -c +$((off + 1)) "$bzimage" | "${tool[@]}" >"$vmlinux.tmp" 2>/dev/null
			if [ "$(head -c 4 "$vmlinux.tmp")" = $'\x7fELF' ]; then
				mv "$vmlinux.tmp" "$vmlinux"
				return 0
			fi
		done < <(LC_ALL=C grep -obUa "$magic" "$bzimage")
	done
	rm -f "$vmlinux.tmp"
	return 1
}

mkdir -p "$out_dir"
exec 9>"$out_dir/.initramfs.lock"
flock 9	# concurrent runs: build once
if [ ! -e "$out" ] || [ "$(cat "$out.stamp" 2>/dev/null)" != "$stamp" ]; then
	build_initramfs
fi
echo "$out"

if [ -n "$kdir" ]; then
	echo "$kdir/bzImage"
	exit 0
fi
kstamp=$(stat -L -c '%n %s %Y' "$bzimage" "$here/mkinitramfs.sh")
if [ -e "$vmlinux" ] && [ "$(cat "$vmlinux.stamp" 2>/dev/null)" = "$kstamp" ]; then
	echo "$vmlinux"
elif unpack_vmlinux; then
	echo "$kstamp" >"$vmlinux.stamp"
	echo "$vmlinux"
else
	echo "mkinitramfs: cannot unpack $bzimage, booting it as is (slower)" >&2
	echo "$bzimage"
fi
