#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The XDP dr end-to-end test of the host (host/xdp_veth_test.sh: veth
# pairs in namespaces, generic and native mode, socat + cmp, XDP counters)
# run again inside the VM, on Debian's 6.1 kernel.  It serves the VIP from
# the pinned maps alone, so the module must not be loaded.

if [ -d /sys/module/viplb ]; then
	rmmod viplb || { echo "not ok 1 - rmmod viplb"; exit 1; }
fi
# The runner reaches this directory through a symlink: go by the real path,
# from which the host test finds the repository.
here=$(cd "$(dirname "$0")" && pwd -P) || exit 1
exec "$here/host/xdp_veth_test.sh"
