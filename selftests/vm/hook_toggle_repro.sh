#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Reproducer of a QEMU multi-threaded TCG defect; no viplb involved.  Not
# part of the suite.  Run it with the guest's hook-key pin off:
#
#   VIPLB_VM_HOOKPIN=0 selftests/vm/run -t 900 selftests/vm/hook_toggle_repro.sh
#
# TCP traffic runs between two namespaces while a third adds and deletes an
# nf_tables table with a base chain on every inet hook, so that the
# kernel's nf_hooks_needed static keys flip under traffic.  With QEMU 7.2
# and thread=multi, both vCPUs end up trapping on the same int3 forever
# (RCU stall, soft lockups in ip_rcv or ip_local_deliver) within a few
# hundred flips; with thread=single, or with the keys pinned on (the
# default of selftests/vm/run), all flips pass.

TOGGLES=${TOGGLES:-400}
set -e
ip netns add hkr-a
ip netns add hkr-b
ip netns add hkr-t
ip link add va netns hkr-a type veth peer name vb netns hkr-b
ip -n hkr-a addr add 198.51.100.1/24 dev va
ip -n hkr-b addr add 198.51.100.2/24 dev vb
for ns in hkr-a hkr-b; do
	ip -n $ns link set lo up
	ip -n $ns link set dev "$([ $ns = hkr-a ] && echo va || echo vb)" up
done
ip netns exec hkr-b socat -T 5 TCP-LISTEN:90,bind=198.51.100.2,reuseaddr,fork \
	EXEC:cat &
sleep 1
for k in 1 2; do
	ip netns exec hkr-a python3 -S -c '
import socket
while True:
    try:
        s = socket.create_connection(("198.51.100.2", 90), timeout=1)
        s.sendall(b"y" * 64); s.recv(64); s.close()
    except OSError: pass
' &
done
set +e
cat >/tmp/hook_toggle.nft <<'X'
table inet hkr {
	chain c_pre { type filter hook prerouting priority 0; }
	chain c_in { type filter hook input priority 0; }
	chain c_fwd { type filter hook forward priority 0; }
	chain c_out { type filter hook output priority 0; }
	chain c_post { type filter hook postrouting priority 0; }
}
X
echo "1..1"
i=0
while [ $i -lt "$TOGGLES" ]; do
	ip netns exec hkr-t nft -f /tmp/hook_toggle.nft ||
		{ echo "not ok 1 nft add, flip $i"; exit 1; }
	sleep 0.05
	ip netns exec hkr-t nft delete table inet hkr ||
		{ echo "not ok 1 nft delete, flip $i"; exit 1; }
	sleep 0.05
	i=$((i + 1))
	[ $((i % 50)) != 0 ] || echo "# $i flips"
done
echo "ok 1 $TOGGLES flips of the netfilter hook keys under traffic"
