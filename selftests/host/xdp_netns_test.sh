#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Where the pinned XDP state lives, without the module (issue 11, defect
# 1):
#
#   every way in    `ip netns exec NS viplb ...', `viplb -n NS ...' and a
#                   shell in the netns (`ip netns exec NS sh -c ...') see
#                   the same state, kept in the bpffs of pid 1's mount
#                   namespace, which the first attach mounts there.
#
# The test is pid 1 of its own pid and mount namespaces (a private copy of
# the host's mounts, without the host's bpffs if it has one): like a fresh
# machine, no bpffs on /sys/fs/bpf of pid 1's mount namespace; whatever
# viplb mounts there goes away with the test.  Each netns has a veth pair of its own
# for XDP (generic mode); no packet is sent.

# The pid and mount namespaces, before lib.sh makes its temporary files.
if [ "${VIPLB_NETNS_TEST_PID1:-}" != 1 ]; then
	export VIPLB_NETNS_TEST_PID1=1
	exec unshare --pid --mount-proc --kill-child=TERM \
		--propagation private "$0" "$@"
fi

# lib.sh looks for the CLI beside selftests/; this test is one level down.
: "${VIPLB:=$(cd "$(dirname "$0")/../.." && pwd -P)/user/viplb/viplb}"
. "$(dirname "$0")/../lib.sh"

require_root
for c in ip jq stat; do
	command -v "$c" >/dev/null 2>&1 || bail "$c not found"
done
[ $$ -eq 1 ] || bail "not pid 1 of a pid namespace (unshare --pid)"
# A bpffs the host has on /sys/fs/bpf: out of this (private) copy only.
while [ "$(stat -f -c %T /sys/fs/bpf)" = bpf_fs ]; do
	umount -l /sys/fs/bpf || bail "umount our copy of /sys/fs/bpf"
done
if lsmod 2>/dev/null | grep -q '^viplb '; then
	skip_all "the viplb module is loaded: this test is for XDP alone"
fi

VIP=192.0.2.10

# fstype PATH: the type of the file system PATH is on.
fstype()
{
	stat -f -c %T "$1" 2>/dev/null
}

# veth_pair NS A B: a veth pair A, B in NS, both up.
veth_pair()
{
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
check_grep "xdp show: pinned in /sys/fs/bpf/viplb/netns-N" \
	'^/sys/fs/bpf/viplb/netns-[0-9]+$' "$dir"
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

for l in d1 d0; do
	check_ok "xdp detach $l" sh_in "$D" xdp detach $l
done
check_eq "the last detach removed the directory" \
	"$(ls /sys/fs/bpf/viplb 2>/dev/null)" ""

viplb_finish
