#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Per-netns caps (net.viplb.max_services, max_backends, max_table_slots,
# max_flows),
# for hostile users too: any user who makes a user and network namespace
# may configure viplb there (GENL_UNS_ADMIN_PERM).  As an unprivileged
# user in such a namespace:
#	- the caps are the init netns's, and cannot be raised above them;
#	- each attempt past a cap is refused at the cap, in a restore (one
#	  transaction) and line by line, with a message naming the cap, and
#	  leaves nothing configured;
#	- 2,000 services of default Maglev tables (the memory of 13 GB of
#	  tables) stop at max_table_slots;
#	- past max_flows, new connections are served but not tracked;
#	- at the issue's sizes, streamed by nl_flood without waiting for
#	  acks: 10,000,000 services and 10,000,000 backends in one
#	  transaction, 1,000,000 rules in one table load, each refused at
#	  its cap with a message naming it and leaving nothing configured;
#	  and 1,000,000 UDP flows (VIPLB_FLOOD_FLOWS, default below) at a
#	  dr service past max_flows 100,000: each one served, 100,000
#	  tracked, the rest counted untracked;
# and the machine keeps answering a ping meanwhile.

. "$(dirname "$0")/lib.sh"

require_root
require_cmd setpriv unshare ping ip jq python3
F=$VIPLB_SELFTESTS/nl_flood
[ -x "$F" ] || skip_all "$F not built (make -C selftests)"
mod_fresh
dmesg_mark

# Flows of the dr flood: 1,000,000 took 21 to 93 s under TCG here.
FLOWS=${VIPLB_FLOOD_FLOWS:-1000000}
FLOWS_CAP=100000
# A dr flow lives 300 s without traffic: the flood must not outlast it.
echo 3600 >/sys/module/viplb/parameters/timeout_udp
# The flood's own tun device, opened as udev lets anyone (mode 0666).
modprobe -qa tun dummy
chmod 666 /dev/net/tun

P=/proc/sys/net/viplb
check_eq "init netns: max_services" "$(cat $P/max_services)" 65536
check_eq "init netns: max_backends" "$(cat $P/max_backends)" 262144
check_eq "init netns: max_table_slots (256 MiB of tables)" \
	"$(cat $P/max_table_slots)" 67108864
check_eq "init netns: max_flows" "$(cat $P/max_flows)" 1048576

# Unprivileged user namespaces, as on a default Debian system.
[ -w /proc/sys/kernel/unprivileged_userns_clone ] &&
	echo 1 >/proc/sys/kernel/unprivileged_userns_clone
W=$VIPLB_TMP/user
mkdir -p "$W" && chmod 777 "$W" "$VIPLB_TMP"

# Files for the unprivileged user.
i=0
while [ $i -le 100 ]; do
	echo "service add tcp 192.0.2.$((i % 250)):$((1000 + i))"
	i=$((i + 1))
done >"$W/services.101"
{
	echo "service add tcp 192.0.2.1:80 table-size 251"
	i=1
	while [ $i -le 51 ]; do
		echo "backend add tcp 192.0.2.1:80 198.51.100.$i"
		i=$((i + 1))
	done
} >"$W/backends.51"
i=0
while [ $i -lt 2000 ]; do
	echo "service add tcp 192.0.2.$((i % 250)):$((2000 + i)) table-size 65537"
	echo "backend add tcp 192.0.2.$((i % 250)):$((2000 + i)) 198.51.100.2"
	i=$((i + 1))
done >"$W/maglev.2000"
# The same services with the default (auto) table size: 251 slots each.
sed 's/ table-size 65537$//' "$W/maglev.2000" >"$W/auto.2000"

# The unprivileged user's session: one result file per step.
cat >"$W/session.sh" <<EOF
cd "$W" || exit 1
P=$P
V="$VIPLB"
F="$F"
cat \$P/max_services >inherited
echo 65537 2>raise.err >\$P/max_services; echo \$? >raise.rc
cat \$P/max_services >after_raise
echo 100 >\$P/max_services && echo ok >lowered
"\$V" restore services.101 >/dev/null 2>svc.err; echo \$? >svc.rc
"\$V" -j show >svc.show
echo 3 >\$P/max_services
for p in 1 2 3 4; do "\$V" service add tcp 192.0.2.9:\$p 2>>svc4.err; done
"\$V" flush
echo 50 >\$P/max_backends
"\$V" restore backends.51 >/dev/null 2>be.err; echo \$? >be.rc
"\$V" -j show >be.show
echo 65536 >\$P/max_services
echo 262144 >\$P/max_backends
echo 300 >\$P/max_table_slots
"\$V" service add tcp 192.0.2.7:80 table-size 251 &&
	"\$V" backend add tcp 192.0.2.7:80 198.51.100.7 && echo ok >slots.first
"\$V" service add tcp 192.0.2.8:80 table-size 251 &&
	"\$V" backend add tcp 192.0.2.8:80 198.51.100.8 2>slots.over ||
	echo refused >slots.second
"\$V" service set tcp 192.0.2.7:80 sched rr &&
	"\$V" backend add tcp 192.0.2.8:80 198.51.100.8 && echo ok >slots.freed
"\$V" flush
echo 67108864 >\$P/max_table_slots
"\$V" restore maglev.2000 >/dev/null 2>mg.err; echo \$? >mg.rc
"\$V" -j show >mg.show
"\$V" restore auto.2000 >/dev/null 2>auto.err; echo \$? >auto.rc
"\$V" -j show | jq -c '[length, ([.[].table_size] | unique)]' >auto.show
"\$V" flush
# The issue's sizes, in one transaction each, at the default caps.
"\$F" services 10000000 >flood.svc 2>&1; echo "rc=\$?" >>flood.svc
"\$F" backends 10000000 >flood.be 2>&1; echo "rc=\$?" >>flood.be
"\$F" rules 1000000 >flood.rules 2>&1; echo "rc=\$?" >>flood.rules
"\$V" -j show >flood.show
"\$V" tables-save >flood.save 2>&1
echo 5 >\$P/max_flows
ip link set lo up
ip addr add 192.0.2.5/32 dev lo
ip addr add 192.0.2.6/32 dev lo
"\$V" service add udp 192.0.2.5:53 sched rr
"\$V" backend add udp 192.0.2.5:53 192.0.2.6
python3 -c '
import socket
for i in range(20):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"x", ("192.0.2.5", 53))
    s.close()
' 2>flows.err
"\$V" -j stats udp 192.0.2.5:53 >flows.stats
"\$V" flush
# dr to a backend behind a dummy device, which drops what it is sent.
ip link add d0 type dummy
ip addr add 198.51.100.1/24 dev d0
ip link set d0 up
# The flood's sources have no route back through its tun device.
echo 0 >/proc/sys/net/ipv4/conf/all/rp_filter
echo 0 >/proc/sys/net/ipv4/conf/default/rp_filter
echo $FLOWS_CAP >\$P/max_flows
"\$V" service add udp 192.0.2.5:53 mode dr sched rr
"\$V" backend add udp 192.0.2.5:53 198.51.100.2
ip -j -s link show d0 >flood.d0.before
"\$F" udp vt0 203.0.113.1 192.0.2.5 53 $FLOWS >flood.udp 2>&1
echo "rc=\$?" >>flood.udp
"\$V" -j stats udp 192.0.2.5:53 >flood.udp.stats
ip -j -s link show d0 >flood.d0.after
"\$V" flush
"\$V" -j show >flood.udp.show
echo done >done
EOF
chmod 755 "$W/session.sh"

# A ping between two other namespaces all along.
ns_create PA pa
ns_create PB pb
ip link add pa0 netns "$PA" type veth peer name pb0 netns "$PB"
ip -n "$PA" addr add 203.0.113.1/24 dev pa0
ip -n "$PB" addr add 203.0.113.2/24 dev pb0
ip -n "$PA" link set pa0 up
ip -n "$PB" link set pb0 up
ip netns exec "$PA" ping -i 0.2 -W 1 203.0.113.2 >"$VIPLB_TMP/ping" 2>&1 &
ppid=$!
defer "kill $ppid 2>/dev/null"

check_ok "an unprivileged user runs viplb in its own user and network namespace" \
	setpriv --reuid=65534 --regid=65534 --clear-groups \
	unshare -Urn sh "$W/session.sh"
kill -INT $ppid 2>/dev/null
wait $ppid 2>/dev/null

r()
{
	cat "$W/$1" 2>/dev/null
}
# A result file on one line.
flat()
{
	tr '\n' ' ' <"$W/$1" 2>/dev/null
}
check_eq "the namespace starts from the init netns's cap" "$(r inherited)" 65536
check_ok "raising a cap above init's is refused" test "$(r raise.rc)" != 0
check_eq "and changes nothing" "$(r after_raise)" 65536
check_eq "lowering a cap is allowed" "$(r lowered)" ok
check_eq "restore: service 101 past max_services 100 fails" "$(r svc.rc)" 1
check_grep "restore: at line 101, naming net.viplb.max_services" \
	"line 101: .*net.viplb.max_services" "$(r svc.err)"
check_eq "restore: nothing configured" "$(r svc.show)" "[]"
check_grep "line by line: service 4 past max_services 3, naming it" \
	"net.viplb.max_services" "$(r svc4.err)"
check_eq "restore: backend 51 past max_backends 50 fails" "$(r be.rc)" 1
check_grep "restore: at line 52, naming net.viplb.max_backends" \
	"line 52: .*net.viplb.max_backends" "$(r be.err)"
check_eq "restore: nothing configured" "$(r be.show)" "[]"
check_eq "max_table_slots 300: a table of 251 slots" "$(r slots.first)" ok
check_eq "a second one is refused" "$(r slots.second)" refused
check_eq "sched rr frees the first one's slots: the second fits" \
	"$(r slots.freed)" ok
check_eq "2,000 services of 65,537-slot Maglev tables fail" "$(r mg.rc)" 1
# 1,023 tables of 65,537 slots fit in 2^26; the 1,024th is refused.
check_grep "at the 1,024th table (line 2048), naming net.viplb.max_table_slots" \
	"line 2048: .*net.viplb.max_table_slots" "$(r mg.err)"
check_eq "restore: nothing configured" "$(r mg.show)" "[]"
check_eq "the same 2,000 services with auto-sized tables fit: 251 slots each" \
	"$(r auto.rc) $(r auto.show) $(r auto.err)" "0 [2000,[251]] "
check_eq "max_flows 5: 20 new nat flows, 5 tracked (active), 15 untracked" \
	"$(jq -c '[.[0].stats.conns, .[0].stats.active, .[0].stats.untracked]' \
		"$W/flows.stats" 2>&1) $(r flows.err)" "[20,5,15] "
# The floods' own lines: what was accepted, the refusal, the times.
for f in flood.svc flood.be flood.rules flood.udp; do
	sed -n 's/^# \(.*\)/\1/p' "$W/$f" 2>/dev/null | while IFS= read -r l; do
		log "$l"
	done
done
check_grep "10,000,000 services in one transaction: 65,536 accepted, then ENOSPC naming net.viplb.max_services" \
	"accepted 65536 service adds, refused command 65537: ENOSPC: .*net\.viplb\.max_services.* rc=0 $" "$(flat flood.svc)"
check_grep "10,000,000 backends in one transaction: 262,144 accepted, then ENOSPC naming net.viplb.max_backends" \
	"accepted 262144 backend adds, refused command [0-9]+: ENOSPC: .*net\.viplb\.max_backends.* rc=0 $" "$(flat flood.be)"
check_grep "1,000,000 rules in one table load: 200,000 accepted, then ENOSPC naming net.viplb.max_rules" \
	"accepted 200000 rules, refused command 200002: ENOSPC: .*net\.viplb\.max_rules.* rc=0 $" "$(flat flood.rules)"
check_eq "after the floods: no service configured" "$(r flood.show)" "[]"
check_eq "after the floods: the filter and nat tables hold no rule" \
	"$(grep -c '^\*' "$W/flood.save") $(grep -c '^-A' "$W/flood.save")" "2 0"
tracked=$((FLOWS < FLOWS_CAP ? FLOWS : FLOWS_CAP))
check_grep "$FLOWS UDP datagrams, each a new flow, written to the dr service" \
	" rc=0 $" "$(flat flood.udp)"
check_eq "dr, max_flows $FLOWS_CAP: $FLOWS new flows served, $tracked tracked (active), $((FLOWS - tracked)) untracked" \
	"$(jq -c '[.[0].stats.conns, .[0].stats.active, .[0].stats.untracked]' \
		"$W/flood.udp.stats" 2>&1)" "[$FLOWS,$tracked,$((FLOWS - tracked))]"
tx()
{
	jq '.[0].stats64.tx.packets' "$W/$1" 2>/dev/null || echo 0
}
check_ok "each one sent on to the backend (packets out of its device)" \
	test $(($(tx flood.d0.after) - $(tx flood.d0.before))) -ge "$FLOWS"
check_eq "flush: nothing configured" "$(r flood.udp.show)" "[]"
check_eq "the session ran to its end" "$(r done)" done
lost=$(sed -n 's/.* \([0-9]*\)% packet loss.*/\1/p' "$VIPLB_TMP/ping")
check_eq "a ping between two other namespaces lost nothing meanwhile" \
	"$lost" 0
check_ok "rmmod" rmmod viplb
dmesg_check "no kernel warning"
viplb_finish
