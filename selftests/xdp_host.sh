#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The host's XDP tests without the module, run again inside the VM on
# Debian's 6.1 kernel (its verifier, FIB helper and neighbour code):
#   host/xdp_veth_test.sh     dr end to end on veth, generic and native
#   host/xdp_onearm_test.sh   a one-armed director with forwarding off,
#                             dr and tun, v4 and v6, every FIB failure reason
#   host/xdp_netns_test.sh    the pinned state from every way in, writers,
#                             stale pins
#   host/xdp_restore_test.sh  a restore with an error changes nothing
# They serve from the pinned maps alone, so the module must not be loaded.
# Each runs in a pid and mount namespace of its own (host/xdp_ns.sh) with
# network namespaces of its own, so they run in two lanes at once, one a
# vCPU: xdp_onearm_test.sh and xdp_veth_test.sh in one, the other two in
# the other.  Then xdp_onearm_test.sh once more, alone, with the module
# loaded (VIPLB_XDP_MODULE=1): the same traffic served at XDP, the
# commands taken by the module and mirrored into the maps.
# Each one's TAP output is nested under "# ", in the order above; one
# result line each.

if [ -d /sys/module/viplb ]; then
	rmmod viplb || { echo "not ok 1 - rmmod viplb"; exit 1; }
fi
# The runner reaches this directory through a symlink: go by the real path,
# from which the host tests find the repository.
here=$(cd "$(dirname "$0")" && pwd -P) || exit 1
: "${VIPLB_KO:=$here/../kmod/viplb.ko}"
export VIPLB_KO
out=$(mktemp -d /tmp/xdp_host.XXXXXX) || exit 1
trap 'rm -rf "$out"' EXIT

# run N TEST [module]: TEST's output to $out/N, its exit status to $out/N.rc.
run()
{
	if [ "${3:-}" = module ]; then
		VIPLB_XDP_MODULE=1 "$here/host/$2" >"$out/$1" 2>&1
	else
		"$here/host/$2" >"$out/$1" 2>&1
	fi
	echo $? >"$out/$1.rc"
}

{ run 1 xdp_veth_test.sh; run 2 xdp_onearm_test.sh; } &
lane1=$!
{ run 3 xdp_netns_test.sh; run 4 xdp_restore_test.sh; } &
lane2=$!
wait $lane1 $lane2
run 5 xdp_onearm_test.sh module

rc=0
n=0
for t in xdp_veth_test.sh xdp_onearm_test.sh xdp_netns_test.sh \
	 xdp_restore_test.sh "xdp_onearm_test.sh module"; do
	n=$((n + 1))
	sed 's/^/# /' "$out/$n"
	r=$(cat "$out/$n.rc" 2>/dev/null || echo 1)
	case $r in
	0) echo "ok $n - host/$t" ;;
	4) echo "ok $n - host/$t # SKIP" ;;
	*) echo "not ok $n - host/$t (exit $r)"; rc=1 ;;
	esac
done
echo "1..$n"
exit $rc
