#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# viplb turns conntrack on in a netns only for its nat services: dr and
# tun services forward without it (it would make and drop an entry for
# every packet), and with no service left it is off again.  Probed with
# real packets: a ping inside the netns leaves a conntrack entry only
# while conntrack is on there.  Live changes (service add/set/del) and
# restores (transactions), IPv4 and IPv6.  The dr/tun and nat datapaths
# themselves (fragments included) are lb_drtun.sh's and lb_nat.sh's.

. "$(dirname "$0")/lib.sh"

require_root
require_cmd conntrack ping
mod_fresh
dmesg_mark
ns_create NS hooks

v()
{
	"$VIPLB" -n "$NS" "$@"
}

# ct_entries FAMILY: the conntrack entries a ping to the netns's own
# loopback address of FAMILY (4 or 6) leaves there.
ct_entries()
{
	local a=127.0.0.1

	[ "$1" = 6 ] && a=::1
	ip netns exec "$NS" conntrack -F -f "ipv$1" >/dev/null 2>&1
	ip netns exec "$NS" ping -"$1" -c 1 -W 1 "$a" >/dev/null 2>&1 ||
		echo "ping $a failed"
	ip netns exec "$NS" conntrack -L -f "ipv$1" 2>/dev/null | grep -c "src=$a"
}

# ct DESC FAMILY on|off
ct()
{
	local want=0

	[ "$3" = on ] && want=1
	check_eq "$1: conntrack $3 for IPv$2" "$(ct_entries "$2")" "$want"
}

ip -n "$NS" addr add 2001:db8::ff/128 dev lo nodad

ct "no service" 4 off
ct "no service" 6 off

check_ok "add a dr service" v service add tcp 192.0.2.1:80 mode dr
check_ok "with a backend" v backend add tcp 192.0.2.1:80 198.51.100.11
ct "dr" 4 off

check_ok "service set mode nat" v service set tcp 192.0.2.1:80 mode nat
ct "set to nat" 4 on
ct "set to nat (IPv4 service)" 6 off

check_ok "service set mode tun" v service set tcp 192.0.2.1:80 mode tun
ct "set to tun" 4 off

check_ok "a second service, nat" v service add udp 192.0.2.1:53 mode nat
ct "tun and nat" 4 on
check_ok "delete the nat service" v service del udp 192.0.2.1:53
ct "tun left" 4 off
check_ok "delete the tun service" v service del tcp 192.0.2.1:80
ct "no service left" 4 off

check_ok "add an IPv6 dr service" v service add tcp '[2001:db8::1]:80' mode dr
ct "IPv6 dr" 6 off
check_ok "set it to nat" v service set tcp '[2001:db8::1]:80' mode nat
ct "IPv6 nat" 6 on
ct "IPv6 nat" 4 off
check_ok "flush" v flush
ct "flushed" 6 off

printf 'service add tcp 192.0.2.2:80 mode dr\nbackend add tcp 192.0.2.2:80 198.51.100.12\n' \
	>"$VIPLB_TMP/dr.conf"
printf 'service add tcp 192.0.2.2:80 mode nat\nbackend add tcp 192.0.2.2:80 198.51.100.12\n' \
	>"$VIPLB_TMP/nat.conf"
check_ok "restore of a dr service" v restore "$VIPLB_TMP/dr.conf"
ct "restored dr" 4 off
check_ok "restore of the same service in nat mode" v restore "$VIPLB_TMP/nat.conf"
ct "restored nat" 4 on
check_ok "restore of nothing" v restore /dev/null
ct "empty restore" 4 off

check_ok "rmmod" rmmod viplb
dmesg_check "no kernel warning"
viplb_finish
