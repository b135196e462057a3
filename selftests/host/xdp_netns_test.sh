#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Where the pinned XDP state lives, without the module (issue 11, defects
# 1, 6 and 7):
#
#   every way in    `ip netns exec NS viplb ...', `viplb -n NS ...' and a
#                   shell in the netns (`ip netns exec NS sh -c ...') see
#                   the same state, kept in the bpffs of pid 1's mount
#                   namespace, which the first attach mounts there; its
#                   flows map is one LRU for all CPUs, sized for N flows
#                   (issue 11, defect 10);
#   writers         processes looping backend add/del on one service at
#                   once (and a batch doing the same) leave the maps as
#                   the last commands say, no backend id lost or given
#                   twice;
#   stale pins      a netns deleted without `xdp detach' leaves nothing a
#                   new netns would inherit, and its directory is removed
#                   by the next attach or `xdp show'.
#
# The test is pid 1 of its own pid and mount namespaces (a private copy of
# the host's mounts, without the host's bpffs if it has one): like a fresh
# machine, no bpffs on /sys/fs/bpf of pid 1's mount namespace; whatever
# viplb mounts there goes away with the test.  Each netns has a veth pair of its own
# for XDP (generic mode); no packet is sent.

# Pid 1 of a pid and mount namespace of our own: see xdp_ns.sh.
. "$(dirname "$0")/xdp_ns.sh"

# lib.sh looks for the CLI beside selftests/; this test is one level down.
: "${VIPLB:=$(cd "$(dirname "$0")/../.." && pwd -P)/user/viplb/viplb}"
. "$(dirname "$0")/../lib.sh"

require_root
for c in bpftool ip jq stat; do
	command -v "$c" >/dev/null 2>&1 || bail "$c not found"
done
xdp_ns_check
if lsmod 2>/dev/null | grep -q '^viplb '; then
	skip_all "the viplb module is loaded: this test is for XDP alone"
fi

VIP=192.0.2.10
VIP2=192.0.2.20
VIP3=192.0.2.30

# fstype PATH: the type of the file system PATH is on.
fstype()
{
	stat -f -c %T "$1" 2>/dev/null
}

# exists PATH: "PATH: there" or "PATH: gone".
exists()
{
	if [ -e "$1" ]; then
		echo "$1: there"
	else
		echo "$1: gone"
	fi
}

# veth_pair NS A B: a veth pair A, B in NS, both up; no IPv6, so that
# nothing is sent on them (the XDP counters stay still).
veth_pair()
{
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 &&
	ip -n "$1" link add "$2" type veth peer name "$3" &&
	ip -n "$1" link set "$2" up &&
	ip -n "$1" link set "$3" up
}

# The three ways into a netns: ex (ip netns exec), nn (viplb -n) and sh
# (a shell inside, ip netns exec NS sh -c).  Each runs viplb ARGS in NS.
ex()
{
	vl_ns=$1
	shift
	ip netns exec "$vl_ns" "$VIPLB" "$@"
}

nn()
{
	vl_ns=$1
	shift
	"$VIPLB" -n "$vl_ns" "$@"
}

sh_in()
{
	vl_ns=$1
	shift
	# shellcheck disable=SC2016 # expanded by that shell
	ip netns exec "$vl_ns" sh -c '"$0" "$@"' "$VIPLB" "$@"
}

# ============================== 1. one state, whatever the way in ===

ns_create D xn
veth_pair "$D" d0 d1 || bail "veth pair in $D"

got=$(fstype /sys/fs/bpf)
check_eq "fresh: /sys/fs/bpf of pid 1's mount namespace is not a bpffs" \
	"$got" sysfs

check_ok "ip netns exec: xdp attach d0 (no bpffs anywhere)" \
	ex "$D" xdp attach d0 mode generic
defer "$VIPLB -n $D xdp detach d0"
check_eq "the attach mounted a bpffs on /sys/fs/bpf of pid 1's mount namespace" \
	"$(fstype /sys/fs/bpf)" bpf_fs
check_ok "viplb -n: xdp attach d1" nn "$D" xdp attach d1 mode generic
defer "$VIPLB -n $D xdp detach d1"

check_ok "ip netns exec: service add" \
	ex "$D" service add tcp $VIP:80 mode dr
check_ok "viplb -n: backend add" \
	nn "$D" backend add tcp $VIP:80 198.51.100.2
check_ok "shell in the netns: backend add" \
	sh_in "$D" backend add tcp $VIP:80 198.51.100.3 weight 2

# Every way in, every reader: the same output.
for cmd in "-j xdp show" "show" "save" "-j stats" "-j xdp stats" \
	"-j xdp lookup tcp $VIP:80 from 203.0.113.9:4000"; do
	# shellcheck disable=SC2086 # cmd: words
	a=$(ex "$D" $cmd 2>&1)
	# shellcheck disable=SC2086
	b=$(nn "$D" $cmd 2>&1)
	# shellcheck disable=SC2086
	c=$(sh_in "$D" $cmd 2>&1)
	if [ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" = "$c" ]; then
		pass "viplb $cmd: the same from all three ways in"
	else
		fail "viplb $cmd: the same from all three ways in" \
			"ip netns exec: $a" "viplb -n: $b" "sh in netns: $c"
	fi
done
check_jq "the state: 2 devices, 1 service, 2 backends" \
	'.[0].backends | length == 2' -n "$D"
check_eq "xdp show: 2 devices, 1 service, 2 backends" \
	"$(nn "$D" -j xdp show |
		jq -c '[(.devices | length), .services, .backends]')" "[2,1,2]"
check_eq "xdp show: 2 backend ids live, none retired" \
	"$(nn "$D" -j xdp show | jq -c '[.ids_live, .ids_retired]')" "[2,0]"
dir=$(nn "$D" -j xdp show | jq -r .pinned)
check_grep "xdp show: pinned in /sys/fs/bpf/viplb/netns-cookie-N" \
	'^/sys/fs/bpf/viplb/netns-cookie-[0-9]+$' "$dir"
# flows N, default 131072: one LRU for all CPUs, N + 128 entries per CPU.
check_eq "xdp show: flows 131072 (N, the default)" \
	"$(nn "$D" -j xdp show | jq .flows_max)" 131072
cpus=$(awk -F, '{ for (i = 1; i <= NF; i++) {
	n = split($i, r, "-"); c += n == 2 ? r[2] - r[1] + 1 : 1 } }
	END { print c }' /sys/devices/system/cpu/possible)
check_eq "the flows map: a common LRU (no flags), N + 128 * $cpus CPUs entries" \
	"$(bpftool -j map show pinned "$dir/flows" |
		jq -c '[.max_entries, .flags]')" "[$((131072 + 128 * cpus)),0]"
# count_links DIR: the XDP links pinned in DIR.
count_links()
{
	vl_n=0
	for vl_l in "$1"/link_*; do
		[ -e "$vl_l" ] && vl_n=$((vl_n + 1))
	done
	echo $vl_n
}
check_eq "the pinned directory is there in pid 1's mount namespace" \
	"$(count_links "$dir")" 2

# restore, through ip netns exec, reads and writes the same maps.
nn "$D" save >"$VIPLB_TMP/save1"
printf 'backend add tcp %s:80 198.51.100.4:80 weight 1\n' $VIP \
	>>"$VIPLB_TMP/save1"
check_ok "ip netns exec: restore" ex "$D" restore "$VIPLB_TMP/save1"
check_eq "viplb -n: save gives back what was restored" \
	"$(nn "$D" save)" "$(cat "$VIPLB_TMP/save1")"

# The state outlives every command: nothing pinned under a /sys of an
# `ip netns exec' mount namespace (gone with the command).
check_eq "ip netns exec sees no bpffs of its own (a fresh sysfs)" \
	"$(ip netns exec "$D" stat -f -c %T /sys/fs/bpf)" sysfs

# An error: one line that names what is wrong.
check_grep "xdp detach of a device not attached: one line" \
	"^viplb: xdp detach: viplb XDP is not attached to \`lo'\$" \
	"$(ex "$D" xdp detach lo 2>&1)"

# ============================================= 2. two writers at once ===

N=${VIPLB_NETNS_TEST_LOOPS:-60}
check_ok "service add for the writers" \
	nn "$D" service add tcp $VIP2:80 mode dr

# writer WAY BACKEND: N times backend add and del, then add, of BACKEND
# on $VIP2, through WAY; prints every command that failed.
writer()
{
	i=0
	while [ $i -lt "$N" ]; do
		"$1" "$D" backend add tcp $VIP2:80 "$2" 2>&1 ||
			echo "failed: backend add $2"
		"$1" "$D" backend del tcp $VIP2:80 "$2" 2>&1 ||
			echo "failed: backend del $2"
		i=$((i + 1))
	done
	"$1" "$D" backend add tcp $VIP2:80 "$2" 2>&1 ||
		echo "failed: last backend add $2"
}

# The same as one batch (-b), which takes the lock once.
i=0
while [ $i -lt "$N" ]; do
	echo "backend add tcp $VIP2:80 198.51.100.13"
	echo "backend del tcp $VIP2:80 198.51.100.13"
	i=$((i + 1))
done >"$VIPLB_TMP/batch"
echo "backend add tcp $VIP2:80 198.51.100.13" >>"$VIPLB_TMP/batch"

writer ex 198.51.100.11 >"$VIPLB_TMP/w1" 2>&1 &
w1=$!
writer nn 198.51.100.12 >"$VIPLB_TMP/w2" 2>&1 &
w2=$!
nn "$D" -b "$VIPLB_TMP/batch" >"$VIPLB_TMP/w3" 2>&1 &
w3=$!
wait $w1 $w2 $w3
check_eq "writers: every command succeeded" \
	"$(cat "$VIPLB_TMP/w1" "$VIPLB_TMP/w2" "$VIPLB_TMP/w3" | head -5)" ""
check_eq "writers: the service has the 3 backends, once each" \
	"$(nn "$D" -j show tcp $VIP2:80 | jq -c '[.[0].backends[].addr]')" \
	'["198.51.100.11","198.51.100.12","198.51.100.13"]'
# Service 1 has 3 backends, service 2 has 3: 6 ids live, and no retired
# one (each backend added back took its retired id again).
check_eq "writers: 6 backend ids live, none retired, none lost" \
	"$(nn "$D" -j xdp show | jq -c '[.backends, .ids_live, .ids_retired]')" \
	"[6,6,0]"
check_eq "writers: xdp lookup agrees with the maps" \
	"$(nn "$D" -j xdp lookup tcp $VIP2:80 from 203.0.113.9:4000 |
		jq -r '.backend.addr | test("^198\\.51\\.100\\.1[123]$")')" true

# ========================================================= 3. stale pins ===

d_state=$(nn "$D" -j xdp show | jq -c '[.services, .backends, .ids_live]')

# A netns with XDP attached and a service, deleted without a detach.
ns_create S xs
veth_pair "$S" s0 s1 || bail "veth pair in $S"
check_ok "netns to delete: xdp attach" ex "$S" xdp attach s0 mode generic
check_ok "netns to delete: service add" \
	ex "$S" service add tcp $VIP3:80 mode dr
old=$(nn "$S" -j xdp show | jq -r .pinned)
old_ino=$(stat -L -c %i "/run/netns/$S")
ns_del "$S"

# A new netns, given the old one's inode number if the kernel reuses it
# (it does, once the old netns is freed): the old scheme named the pin
# directory by it.
t=0
while :; do
	ns_create N xnew
	[ "$(stat -L -c %i "/run/netns/$N")" = "$old_ino" ] && break
	t=$((t + 1))
	if [ $t -ge 50 ]; then
		log "the new netns did not get the old one's inode number"
		break
	fi
	ns_del "$N"
	sleep 0.1
done
veth_pair "$N" n0 n1 || bail "veth pair in $N"
check_ok "new netns: xdp attach" ex "$N" xdp attach n0 mode generic
check_eq "new netns: starts clean (no service, no backend id)" \
	"$(nn "$N" -j xdp show | jq -c '[.services, .ids_live, .ids_retired]')" \
	"[0,0,0]"
check_eq "new netns: viplb show is empty" "$(ex "$N" show)" ""
check_eq "the deleted netns's directory was removed at attach" \
	"$(exists "$old")" "$old: gone"

# Another, removed by `xdp show' in any netns, and a directory of the old
# scheme (netns-INODE) that nothing uses.
ns_create S2 xs2
veth_pair "$S2" s0 s1 || bail "veth pair in $S2"
check_ok "second netns to delete: xdp attach" \
	ex "$S2" xdp attach s0 mode generic
old2=$(nn "$S2" -j xdp show | jq -r .pinned)
ns_del "$S2"
mkdir "/sys/fs/bpf/viplb/netns-$old_ino" ||
	fail "mkdir an old-scheme directory"
t=0
while [ -e "$old2" ] && [ $t -lt 100 ]; do
	nn "$D" xdp show >/dev/null
	t=$((t + 1))
	sleep 0.1
done
check_eq "xdp show removed the deleted netns's directory" \
	"$(exists "$old2")" "$old2: gone"
check_eq "xdp show removed the unused old-scheme directory" \
	"$(exists "/sys/fs/bpf/viplb/netns-$old_ino")" \
	"/sys/fs/bpf/viplb/netns-$old_ino: gone"
check_eq "the live netns keep their state" \
	"$(nn "$D" -j xdp show | jq -c '[.services, .backends, .ids_live]') $(nn "$N" -j xdp show | jq '.devices | length')" \
	"$d_state 1"

check_ok "new netns: xdp detach" ex "$N" xdp detach n0
for l in d1 d0; do
	check_ok "xdp detach $l" sh_in "$D" xdp detach $l
done
check_eq "the last detach removed every directory" \
	"$(ls /sys/fs/bpf/viplb 2>/dev/null)" ""

viplb_finish
