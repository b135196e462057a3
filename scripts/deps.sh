#!/bin/bash
# Install every Debian package that building, testing and the demo need.
# Idempotent: does nothing when everything is already installed.
set -euo pipefail

PKGS=(
	gcc make libc6-dev
	linux-headers-amd64 linux-image-amd64 linux-source-6.1
	libmnl-dev libnftnl-dev libbpf-dev bpftool clang llvm pkg-config
	qemu-system-x86 busybox-static
	iproute2 iptables nftables ipvsadm socat conntrack kmod iputils-ping
	ethtool
	python3 python3-yaml jq xz-utils sparse gnuplot-nox
	# make check-debug builds a kernel from linux-source-6.1.
	bc bison flex libelf-dev libssl-dev cpio
	# make fuzz: libFuzzer's runtime for clang 14.
	libclang-rt-14-dev
	# selftests/limits.sh: setpriv and unshare.
	util-linux
	# make deb, make install and their tests (selftests/host/install_test.sh,
	# selftests/host/dkms_pkg.sh, selftests/dkms_units.sh): the Debian
	# packages, DKMS, lintian, systemd-analyze; readelf for build IDs.
	git dpkg-dev debhelper dh-dkms dkms lintian fakeroot systemd binutils
	# make check-ha (selftests/ha_ecmp.sh, ha_vrrp.sh): BGP, VRRP and
	# conntrack sync.
	bird2 keepalived conntrackd
)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

echo "deps: installing ${missing[*]}"
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# Daemons the tests start themselves (bird2, keepalived, conntrackd) must
# not start on the host with their packaged configs (conntrackd's would
# sync over the host's network): policy-rc.d tells their postinst not to
# start them (invoke-rc.d / deb-systemd-invoke), while apt-get runs.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# viplb scripts/deps.sh: start no service\nexit 101\n' |
		$SUDO tee "$policy" >/dev/null
	$SUDO chmod 755 "$policy"
	trap '$SUDO rm -f "$policy"' EXIT
fi
if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; then
	$SUDO apt-get update
	$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
# ... nor at the next boot: the tests run them with their own configs.
for pu in bird2:bird keepalived:keepalived conntrackd:conntrackd; do
	case " ${missing[*]} " in
	*" ${pu%%:*} "*)
		[ ! -e "/lib/systemd/system/${pu#*:}.service" ] ||
			$SUDO systemctl disable "${pu#*:}.service" >/dev/null 2>&1 || true
		;;
	esac
done
