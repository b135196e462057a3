#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# viplbd -a DEV, the announcements, on nf_tables (no module, as on this
# host): each VIP with a backend up is an address of DEV (proto 245),
# deleted when none of its backends is up and when viplbd exits; a VIP
# with one backend of two up stays; addresses of its own that are no VIP
# (after a reload) are deleted, others are left alone; a missing DEV is
# refused.
#
#   director $D: viplb0 (a bridge: this host has no dummy module)
#                br0 198.51.100.1/24 --- b0 198.51.100.2 in $B (tcp 8081
#                                                       and 8082 listeners)
#
#   192.0.2.10: tcp 81 -> 198.51.100.2:8081 (checked with tcp)
#   192.0.2.20: tcp 82 -> 198.51.100.2:8082 and 198.51.100.3:8082 (down)
#   192.0.2.30: tcp 83 -> 198.51.100.2:8081, until a reload drops it

: "${VIPLB:=$(cd "$(dirname "$0")/../.." && pwd -P)/user/viplb/viplb}"
: "${VIPLBD:=$(cd "$(dirname "$0")/../.." && pwd -P)/user/viplbd/viplbd}"
. "$(dirname "$0")/../lib.sh"

require_root
lb_need_cmd ip jq python3 timeout
[ -x "$VIPLBD" ] || bail "$VIPLBD not built (make -C user)"
[ -e /sys/module/viplb ] && skip_all "the module is loaded: this test is for nf_tables"

T=$VIPLB_TMP
ns_create D vad
ns_create B vab

ip -n "$D" link add b0 type veth peer name b0 netns "$B"
ip -n "$D" -b - <<EOF || bail "configure the director"
link add br0 type bridge
link set b0 master br0 up
addr add 198.51.100.1/24 dev br0
link set br0 up
link add viplb0 type bridge
link set viplb0 up
addr add 192.0.2.99/32 dev viplb0
EOF
ip -n "$B" -b - <<EOF || bail "configure the backend"
addr add 198.51.100.2/24 dev b0
link set b0 up
EOF

# listen PORT: a TCP listener in $B; its PID in $lpid.
LISTEN_PY='
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(16)
while True:
    s.accept()[0].close()
'
listen()
{
	ip netns exec "$B" python3 -S -c "$LISTEN_PY" "$1" &
	lpid=$!
	defer "kill $lpid"
}
listen 8081
l81=$lpid
listen 8082

cat >"$T/viplb.conf" <<EOF
service add tcp 192.0.2.10:81
backend add tcp 192.0.2.10:81 198.51.100.2:8081
service add tcp 192.0.2.20:82
backend add tcp 192.0.2.20:82 198.51.100.2:8082
backend add tcp 192.0.2.20:82 198.51.100.3:8082
health tcp 192.0.2.10:81 check tcp interval 200ms timeout 150ms rise 1 fall 2
health tcp 192.0.2.20:82 check tcp interval 200ms timeout 150ms rise 1 fall 2
EOF
cp "$T/viplb.conf" "$T/first.conf"
cat >>"$T/first.conf" <<EOF
service add tcp 192.0.2.30:83
backend add tcp 192.0.2.30:83 198.51.100.2:8081
health tcp 192.0.2.30:83 check tcp interval 200ms timeout 150ms rise 1 fall 2
EOF
"$VIPLB" -d nft -n "$D" restore "$T/first.conf" || bail "viplb restore"

out=$(ip netns exec "$D" timeout 5 "$VIPLBD" -c "$T/viplb.conf" \
	-s "$T/none.sock" -a nodev0 2>&1)
rc=$?
check_eq "-a with no such device: exit 1" "$rc" 1
check_grep "... and the device quoted" \
	"^viplbd: no device .nodev0. to announce the VIPs on$" "$out"

ip netns exec "$D" "$VIPLBD" -c "$T/first.conf" -s "$T/viplbd.sock" -r 1 \
	-a viplb0 2>"$T/log" &
dpid=$!
defer "kill $dpid"

# addrs: viplb0's IPv4 addresses, sorted.  (Debian 12's ip does not show
# an address's protocol: which addresses viplbd takes for its own shows in
# what it deletes.)
addrs()
{
	ip -n "$D" -j addr show dev viplb0 | jq -r '[.[0].addr_info[] |
		select(.family == "inet") | .local] | sort | join(" ")'
}

# addrs_are WANT: wait (5 s) until addrs prints WANT; the last in $got.
addrs_are()
{
	t=0
	while got=$(addrs) && [ "$got" != "$1" ]; do
		[ $t -lt 50 ] || return 1
		sleep 0.1
		t=$((t + 1))
	done
}

addrs_are "192.0.2.10 192.0.2.20 192.0.2.30 192.0.2.99"
check_eq "the VIPs announced, the other address kept" \
	"$got" "192.0.2.10 192.0.2.20 192.0.2.30 192.0.2.99"
cp "$T/viplb.conf" "$T/first.conf"
kill -HUP $dpid
addrs_are "192.0.2.10 192.0.2.20 192.0.2.99"
check_eq "a VIP of ours no longer in the file is withdrawn at reload" \
	"$got" "192.0.2.10 192.0.2.20 192.0.2.99"
check_grep "... logged" \
	"^viplbd: withdrew 192.0.2.30 from viplb0: no service of the configuration$" \
	"$(cat "$T/log")"
kill $l81
addrs_are "192.0.2.20 192.0.2.99"
check_eq "192.0.2.10 withdrawn when its backend fails" "$got" \
	"192.0.2.20 192.0.2.99"
check_grep "... logged with the reason" \
	"^viplbd: withdrew 192.0.2.10 from viplb0: no backend up \\(1 checked\\)$" \
	"$(cat "$T/log")"
listen 8081
addrs_are "192.0.2.10 192.0.2.20 192.0.2.99"
check_eq "announced again when it recovers" "$got" \
	"192.0.2.10 192.0.2.20 192.0.2.99"
ip -n "$D" addr del 192.0.2.20/32 dev viplb0
addrs_are "192.0.2.10 192.0.2.20 192.0.2.99"
check_eq "an announced VIP deleted by hand comes back at the next sync" \
	"$got" "192.0.2.10 192.0.2.20 192.0.2.99"
kill $dpid
wait $dpid
check_eq "SIGTERM: viplbd exits 0" "$?" 0
check_eq "... and withdraws every VIP, the other address kept" "$(addrs)" \
	"192.0.2.99"
check_grep "... logged" "^viplbd: withdrew 192.0.2.20 from viplb0: shutting down$" \
	"$(cat "$T/log")"

viplb_finish
