#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# viplb restore without the module (XDP only, as on this host): a file
# with an error anywhere changes nothing, in the maps and in what the
# program picks; a good file then switches.  sched lc, which only the
# module can serve, is refused with a clear error.  The old and the new
# configuration must fit in the maps together (a restore switches a
# second generation in at once): else one line, nothing changed.  An
# older viplb's pinned state is refused with a clear error.
#
#   director $D: d0 <-> d1 (a veth pair, XDP generic on d0), nothing else:
#   the services are only read back (viplb save) and asked of the program
#   (viplb xdp lookup runs it on a built packet with BPF_PROG_TEST_RUN).

# Pid 1 of a pid and mount namespace of our own: see xdp_ns.sh.
. "$(dirname "$0")/xdp_ns.sh"

# lib.sh looks for the CLI beside selftests/; this test is one level down.
: "${VIPLB:=$(cd "$(dirname "$0")/../.." && pwd -P)/user/viplb/viplb}"
. "$(dirname "$0")/../lib.sh"

require_root
require_cmd ip cmp stat awk jq bpftool
xdp_ns_check
if [ -e /sys/module/viplb ]; then
	skip_all "the module is loaded: this test is for XDP alone"
fi

T=$VIPLB_TMP
ns_create D xr
ip -n "$D" link add d0 type veth peer name d1
ip -n "$D" link set d0 up
ip -n "$D" link set d1 up
check_viplb "xdp attach d0 (generic), no module" -n "$D" xdp attach d0 \
	mode generic

# lookups FILE SERVICE...: what the program picks for 60 flows of each
# SERVICE ("PROTO VIP:PORT"), into FILE.
lookups()
{
	lk_out=$1
	shift
	for sport in $(seq 1000 1059); do
		for svc in "$@"; do
			echo "xdp lookup $svc from 203.0.113.2:$sport"
		done
	done >"$T/lookup.batch"
	"$VIPLB" -n "$D" -b "$T/lookup.batch" >"$lk_out" 2>&1
}

cat >"$T/a.conf" <<-EOT
	service add tcp 192.0.2.10:80 mode dr
	backend add tcp 192.0.2.10:80 198.51.100.11
	backend add tcp 192.0.2.10:80 198.51.100.12 weight 3
	service add udp 192.0.2.10:53 sched sh mode tun
	backend add udp 192.0.2.10:53 198.51.100.13
	backend add udp 192.0.2.10:53 198.51.100.14
EOT
check_viplb "restore a.conf" -n "$D" restore "$T/a.conf"
"$VIPLB" -n "$D" save >"$T/save.a"
lookups "$T/look.a" "tcp 192.0.2.10:80" "udp 192.0.2.10:53"
check_ok "save gives a.conf's 6 lines" test "$(wc -l <"$T/save.a")" -eq 6
check_ok "the program picks backends of a.conf, 120 times" \
	test "$(grep -c "198\.51\.100\.1[1-4]" "$T/look.a")" -eq 120

# Each bad file first changes a lot, then fails on its last line.
{
	echo "flush"
	echo "service add tcp 192.0.2.11:80 mode dr"
	echo "backend add tcp 192.0.2.11:80 198.51.100.21"
	echo "backend add tcp 192.0.2.11:80 198.51.100.21"
} >"$T/bad.exists"
{
	echo "service add tcp 192.0.2.10:80 mode tun"
	echo "backend add tcp 192.0.2.10:80 198.51.100.31"
	echo "backend del udp 192.0.2.10:53 198.51.100.99"
} >"$T/bad.noent"
{
	i=0
	while [ "$i" -le 16384 ]; do
		echo "service add tcp 192.0.2.$((i / 250 + 1)):$((i % 250 + 1)) sched rr"
		i=$((i + 1))
	done
} >"$T/bad.nospace"
for bad in exists noent nospace; do
	last=$(wc -l <"$T/bad.$bad")
	vrun -n "$D" restore "$T/bad.$bad"
	check_eq "restore bad.$bad fails" "$rc" 1
	check_grep "... naming its last line, $last" "^viplb: line $last: " "$err"
	"$VIPLB" -n "$D" save >"$T/save.now"
	check_ok "... and the saved config is a.conf's still" \
		cmp "$T/save.a" "$T/save.now"
	lookups "$T/look.now" "tcp 192.0.2.10:80" "udp 192.0.2.10:53"
	check_ok "... and the program picks as before, for 120 flows" \
		cmp "$T/look.a" "$T/look.now"
done

# lc needs the module: refused, in a command and in a restore.
vrun -n "$D" service add tcp 192.0.2.12:80 sched lc
check_eq "service add ... sched lc is refused" "$rc" 1
check_grep "... saying that lc needs the module" \
	"service add tcp 192.0.2.12:80: sched lc needs the module" "$err"
printf 'service add tcp 192.0.2.12:80\nservice set tcp 192.0.2.12:80 sched lc\n' \
	>"$T/bad.lc"
vrun -n "$D" restore "$T/bad.lc"
check_grep "a restore setting sched lc is refused, at line 2" \
	"^viplb: line 2: .*sched lc needs the module" "$err"
"$VIPLB" -n "$D" save >"$T/save.now"
check_ok "... and the saved config is a.conf's still" \
	cmp "$T/save.a" "$T/save.now"

cat >"$T/b.conf" <<-EOT
	service add tcp 192.0.2.11:80 mode dr
	backend add tcp 192.0.2.11:80 198.51.100.21
EOT
# An automatic table size stays automatic through save and restore, an
# explicit one explicit (the maps keep 0 for automatic).
cat >"$T/t.conf" <<-EOT
	service add tcp 192.0.2.12:80 sched maglev mode dr
	backend add tcp 192.0.2.12:80 198.51.100.31:80 weight 1
	service add tcp 192.0.2.13:80 sched maglev mode dr table-size 509
	backend add tcp 192.0.2.13:80 198.51.100.32:80 weight 1
EOT
check_viplb "restore t.conf (automatic and explicit table-size)" \
	-n "$D" restore "$T/t.conf"
"$VIPLB" -n "$D" save >"$T/save.t"
check_ok "save | restore | save of table sizes: t.conf as written" \
	cmp "$T/t.conf" "$T/save.t"
check_eq "-j show: automatic 251 for one backend, explicit 509" \
	"$("$VIPLB" -n "$D" -j show | jq -c '[.[] | [.table_size, .table_auto]]')" \
	'[[251,true],[509,false]]'

check_viplb "restore b.conf" -n "$D" restore "$T/b.conf"
"$VIPLB" -n "$D" save >"$T/save.b"
check_ok "save gives b.conf's 2 lines" test "$(wc -l <"$T/save.b")" -eq 2
lookups "$T/look.b" "tcp 192.0.2.11:80"
check_ok "the program picks b.conf's backend, 60 times" \
	test "$(grep -c "198\.51\.100\.21" "$T/look.b")" -eq 60
vrun -n "$D" xdp lookup tcp 192.0.2.10:80 from 203.0.113.2:1000
check_eq "... and a.conf's tcp 192.0.2.10:80 is gone" "$rc" 1

# backends FILE FIRST N: N services of sched rr numbered from FIRST, 250
# backends each.
backends()
{
	awk -v f="$2" -v n="$3" 'BEGIN {
		for (i = f; i < f + n; i++) {
			s = sprintf("tcp 192.0.2.%d:%d", 1 + i % 250,
				80 + int(i / 250))
			printf "service add %s sched rr mode dr\n", s
			for (b = 1; b <= 250; b++)
				printf "backend add %s 198.51.100.%d:%d\n",
					s, 1 + i % 200, b
		}
	}' >"$1"
}

# The old and the new configuration share the 131,072 backend ids during
# the switch (service ids are twice the services: those always fit).
backends "$T/big.a" 0 320
backends "$T/big.b" 320 240
check_viplb "restore 80,000 backends" -n "$D" restore "$T/big.a"
"$VIPLB" -n "$D" save >"$T/save.big"
vrun -n "$D" restore "$T/big.b"
check_eq "restore 60,000 others over them fails" "$rc" 1
check_grep "... in one line: both do not fit, nothing changed" \
	"^viplb: restore: the XDP maps cannot hold the old and the new configuration at once .*nothing changed; flush first\$" \
	"$err"
check_eq "... one line only" "$(printf '%s\n' "$err" | wc -l)" 1
"$VIPLB" -n "$D" save >"$T/save.now"
check_ok "... and the saved config is the 80,000 backends still" \
	cmp "$T/save.big" "$T/save.now"
check_viplb "restore b.conf over them" -n "$D" restore "$T/b.conf"
"$VIPLB" -n "$D" save >"$T/save.now"
check_ok "... gives b.conf" cmp "$T/save.b" "$T/save.now"

# State pinned by an older viplb, map $1 missing and $2 pinned in its
# place: save says to detach first, and detach removes that state too.
old_state()
{
	dir=$("$VIPLB" -n "$D" -j xdp show | jq -r .pinned)
	rm "$dir/$1"
	bpftool map create "$dir/$2" type hash key 4 value 4 entries 1 name "$2"
	vrun -n "$D" save
	check_grep "$2 pinned, no $1: detach first, says save" \
		"made by an older viplb \(no vip_gen or no pools map\): detach it from every device" \
		"$err"
	check_viplb "xdp detach d0" -n "$D" xdp detach d0
	check_ok "... removes that state too" test ! -e "$dir"
}

old_state vip_gen vips
# The rings before the slot pool.
check_viplb "xdp attach d0 again" -n "$D" xdp attach d0 mode generic
old_state pools rings

# A nat service on nf_tables before XDP is attached: the maps adopt it, so
# that nf_tables, which follows them, keeps serving it.
ns_create A xa
ip -n "$A" link add d0 type veth peer name d1
ip -n "$A" link set d0 up
check_viplb "nat service on nf_tables, no XDP" -n "$A" service add \
	tcp 192.0.2.30:80 sched rr
check_viplb "... with a backend" -n "$A" backend add tcp 192.0.2.30:80 \
	198.51.100.30
check_viplb "xdp attach after it" -n "$A" xdp attach d0 mode generic
check_eq "show lists it, served nft" \
	"$("$VIPLB" -n "$A" -j show | jq -r '.[] | "\(.vip) \(.served) \(.backends | length)"')" \
	"192.0.2.30 nft 1"
check_viplb "a dr service added after the attach" -n "$A" service add \
	tcp 192.0.2.31:80 mode dr
check_eq "... and the nat one is still on nf_tables and in the maps" \
	"$("$VIPLB" -n "$A" save | grep -c 192.0.2.30) $(ip netns exec "$A" nft list table inet viplb | grep -c '192.0.2.30 . tcp . 80 : goto')" \
	"2 1"
check_viplb "stats zero of the dr service (XDP's only)" -n "$A" stats zero \
	tcp 192.0.2.31:80
check_viplb "stats zero of the nat service (both)" -n "$A" stats zero \
	tcp 192.0.2.30:80
check_viplb "xdp detach d0 ($A)" -n "$A" xdp detach d0
viplb_finish
