#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# dr and tun forwarding with real traffic, IPv4 and IPv6.
#
#   client $LB_C             director $LB_D (viplb)       real servers
#   eth0 203.0.113.2/24 ----- c0  203.0.113.1/24
#        2001:db8:c::2/64         2001:db8:c::1/64
#   default via director      br0 198.51.100.1/24 -+- vb1 --- eth0 of $LB_B1
#                                 2001:db8:b::1/64 |          198.51.100.11/24
#                                                  |          2001:db8:b::11/64
#                                                  +- vb2 --- $LB_B2 (.12, ::12)
#                                                  +- vb3 --- $LB_B3 (.13, ::13)
#
#   every real server: lo 192.0.2.10/32 192.0.2.20/32 (the VIPs)
#                         2001:db8:a::10/128 2001:db8:a::20/128
#                      tunl0 and ip6tnl0 up, default via the director
#
# dr services live on 192.0.2.10 and 2001:db8:a::10: the director sends
# the client's packet, unchanged, to the chosen server's MAC address.  tun
# services live on 192.0.2.20 and 2001:db8:a::20: the director wraps the
# packet in IPIP or IP6IP6 to the server's address.  The server answers
# from the VIP straight to the client; the answer crosses the director as
# plain forwarded traffic.  The director itself has no VIP.
#
# Services of each VIP (all sched rr):
#	tcp 80  servers 1 2 3	256 KiB both ways; sources seen; rr spread
#	udp 53  servers 1 2 3	datagram echo; path MTU; route cache (IPv4)
#	tcp 81  servers 1 2	a long flow while the pool changes under it
#	tcp 82  servers 1 2 3	a long flow while its server drains (weight
#				0) and is deleted
#	tcp 83  servers 1 2 3	flow-table timeout after FIN
#	udp 54  servers 1 2 3	UDP flow-table timeout
#	tcp 84, udp 55		no backend: refused
#	tcp 86 (dr IPv4 only)	sched maglev: TCP segments without SYN

. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip jq python3 cmp awk mkfifo
modprobe -a ipip ip6_tunnel 2>/dev/null ||
	skip_all "no ipip/ip6_tunnel modules (tun mode)"
mod_fresh
dmesg_mark

DR4=192.0.2.10
TUN4=192.0.2.20
DR6=2001:db8:a::10
TUN6=2001:db8:a::20
LOC4=192.0.2.30

drtun_topo $DR4 $TUN4 $DR6 $TUN6 $LOC4
drtun_start 80,81,82,83 53,54 "$DR4,$TUN4,$DR6,$TUN6,$LOC4" "$LB_C"

# vip MODE FAMILY / cli FAMILY / be FAMILY I: addresses.
vip()
{
	case $1$2 in
	dr4) echo $DR4 ;;
	dr6) echo $DR6 ;;
	tun4) echo $TUN4 ;;
	tun6) echo $TUN6 ;;
	esac
}

cli()
{
	eval "echo \$LB_CLI$1"
}

be()
{
	"lb_be$1" "$2"
}

# new_sport N: reserve N client source ports, the first in $sport.  Every
# flow of the test has its own, so none can hit an earlier flow's entry.
next_sport=40000
new_sport()
{
	sport=$next_sport
	next_sport=$((next_sport + $1))
}

# v ARGS...: viplb in the director's netns; a failure is a failed check.
v()
{
	if ! vl_o=$("$VIPLB" -n "$LB_D" "$@" 2>&1); then
		fail "viplb $*" "$vl_o"
		return 1
	fi
}

# wait_file FILE: wait up to 10 s for FILE to exist.
wait_file()
{
	vl_t=0
	while [ ! -e "$1" ]; do
		[ "$vl_t" -ge 100 ] && return 1
		sleep 0.1
		vl_t=$((vl_t + 1))
	done
}

# ------------------------------------------------------------- services ---

batch=$VIPLB_TMP/services
for m in dr tun; do
	for f in 4 6; do
		for s in "tcp 80 1 2 3" "udp 53 1 2 3" "tcp 81 1 2" \
			"tcp 82 1 2 3" "tcp 83 1 2 3" "udp 54 1 2 3" \
			"tcp 84" "udp 55"; do
			set -- $s
			vp=$(drtun_vp "$(vip $m $f)" "$2")
			echo "service add $1 $vp sched rr mode $m"
			p=$1
			shift 2
			for i; do
				echo "backend add $p $vp $(be $f "$i")"
			done
		done
	done
done >"$batch"
check_ok "configure 32 dr and tun services" "$VIPLB" -n "$LB_D" -b "$batch"

# ------------------------------------------------- bulk data and sources ---

BULK=$VIPLB_TMP/bulk.in
head -c 262144 /dev/urandom >"$BULK"

# rx_read: the packets each server received on tunl0 and ip6tnl0, in
# rx_b1..rx_b3 as "TUNL0 IP6TNL0".
rx_read()
{
	for i in 1 2 3; do
		eval "rx_b$i=\$(drtun_rx \$LB_B$i tunl0 ip6tnl0)"
	done
}

# bulk MODE FAMILY: 256 KiB through the tcp 80 service and back; the
# server that got the connection saw the client's address as source and
# the VIP as destination; in tun mode the packets came in through its
# tunnel device, in dr mode no packet did.  The tunnel counters are
# compared with the last rx_read: only bulk traffic may run in between.
bulk()
{
	what="$1 IPv$2 tcp"
	bmode=$1
	vip=$(vip "$1" "$2")
	cli=$(cli "$2")
	dev=tunl0
	[ "$2" = 6 ] && dev=ip6tnl0
	new_sport 1
	before="$rx_b1 $rx_b2 $rx_b3"
	t=$(lb_ms)
	o=$(drtun bulk "$vip" 80 "$sport" "$BULK" "$VIPLB_TMP/bulk.out")
	t=$(($(lb_ms) - t))
	if cmp -s "$BULK" "$VIPLB_TMP/bulk.out"; then
		pass "$what: 256 KiB echoed intact through the VIP ($t ms)"
	else
		fail "$what: 256 KiB echoed intact through the VIP" \
			"after $t ms: $o"
	fi
	seen=$(drtun_seen tcp "$cli" "$sport" "$vip" 80 | tr '\n' ' ')
	seen=${seen% }
	case $seen in
	b[123])
		pass "$what: server $seen saw source $cli and destination $vip"
		;;
	*)
		fail "$what: one server saw source $cli and destination $vip" \
			"servers that logged $cli:$sport -> $vip:80: '$seen'" \
			"$(tail -n 5 "$DRTUN_LOG")"
		;;
	esac
	rx_read
	after="$rx_b1 $rx_b2 $rx_b3"
	grown=""
	i=0
	set -f
	for n in $after; do
		set -- $before
		shift $i
		i=$((i + 1))
		# Columns: b1 tunl0, b1 ip6tnl0, b2 tunl0, ...
		[ "$n" != "$1" ] || continue
		[ $((i % 2)) = 1 ] && d=tunl0 || d=ip6tnl0
		grown="$grown b$(((i + 1) / 2))/$d"
	done
	set +f
	grown=${grown# }
	if [ "$bmode" = dr ]; then
		check_eq "$what: no packet came through a tunnel device" \
			"$grown" ""
	else
		check_eq "$what: the packets came through $dev of $seen" \
			"$grown" "$seen/$dev"
	fi
}

# udp MODE FAMILY: 3 datagrams through the udp 53 service come back; one
# server (the flow is pinned) saw all 3, from the client to the VIP.
udp()
{
	what="$1 IPv$2 udp"
	vip=$(vip "$1" "$2")
	cli=$(cli "$2")
	new_sport 1
	check_ok "$what: 3 datagrams echoed through the VIP" \
		drtun udp "$vip" 53 "$sport" 3
	seen=$(drtun_seen udp "$cli" "$sport" "$vip" 53 | sort | uniq -c |
		awk '{ printf "%s%s=%s", (NR > 1 ? " " : ""), $2, $1 }')
	case $seen in
	b[123]=3)
		pass "$what: server ${seen%=3} got all 3, from $cli to $vip"
		;;
	*)
		fail "$what: one server got all 3, from $cli to $vip" \
			"datagrams per server: '$seen'"
		;;
	esac
}

# pmtu MODE FAMILY: a datagram that fills the client's 1500-byte MTU,
# sent with DF to the udp 53 service.  dr forwards it as it is.  In tun
# mode the outer header does not fit: the director must answer ICMP
# "fragmentation needed" (IPv4) or "packet too big" (IPv6), so that the
# client knows the path MTU under IPIP (1480) or IP6IP6 (1460), as the
# bulk transfer before needed too.
pmtu()
{
	what="$1 IPv$2 udp"
	if [ "$2" = 4 ]; then
		size=1472
		mtu=1480
	else
		size=1452
		mtu=1460
	fi
	o=$(drtun pmtu "$(vip "$1" "$2")" 53 $size)
	if [ "$1" = dr ]; then
		check_grep "$what: a full-size DF datagram crosses, path MTU 1500" \
			"^$size bytes echoed.*mtu 1500" "$(echo $o)"
	else
		check_grep "$what: a full-size DF datagram gets the client path MTU $mtu" \
			"mtu $mtu" "$o"
	fi
}

# frag MODE FAMILY: a 3000-byte datagram, fragmented by the client (no DF),
# to the udp 53 service.  The director reassembles it (conntrack's
# defragmentation), and must send it on in fragments again: for dr, to the
# server's MAC address; for tun, inside IPIP or IP6IP6.
frag()
{
	o=$(drtun pmtu "$(vip "$1" "$2")" 53 3000 dont)
	check_grep "$1 IPv$2 udp: a 3000-byte datagram in fragments is echoed" \
		"^3000 bytes echoed" "$o"
}

rx_read
for m in dr tun; do
	for f in 4 6; do
		bulk $m $f
	done
done
for m in dr tun; do
	for f in 4 6; do
		udp $m $f
		pmtu $m $f
		frag $m $f
	done
done

# ------------------------------------------------------------ ICMP errors ---

# icmp_err FROM-NS SRC DST INNER-SRC INNER-DST INNER-PROTO [SPORT DPORT]:
# send from FROM-NS an ICMP "fragmentation needed" (IPv4) or "packet too
# big" (IPv6), MTU 1400, from SRC to DST, quoting a packet INNER-SRC ->
# INNER-DST of INNER-PROTO (udp: with ports SPORT -> DPORT; ipip: an
# IPIP or IP6IP6 packet).
icmp_err()
{
	PYTHONPATH=$VIPLB_SELFTESTS ip netns exec "$1" python3 - "$@" <<-'EOF'
	import socket, struct, sys
	from pktcsum import csum
	src, dst, isrc, idst, iproto = sys.argv[2:7]
	ports = [int(p) for p in sys.argv[7:9]]
	v6 = ":" in dst
	fam = socket.AF_INET6 if v6 else socket.AF_INET
	sa, da = socket.inet_pton(fam, isrc), socket.inet_pton(fam, idst)
	if iproto == "udp":
	    proto, body = 17, struct.pack("!HHHH", ports[0], ports[1], 108, 0) + b"x" * 100
	else:
	    proto, body = (41 if v6 else 4), b"\x45" + b"\0" * 27
	if v6:
	    quoted = struct.pack("!IHBB", 6 << 28, len(body), proto, 64) + sa + da + body
	    s = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
	    s.bind((src, 0))
	    s.sendto(struct.pack("!BBHI", 2, 0, 0, 1400) + quoted, (dst, 0))
	else:
	    ih = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), 1, 0x4000, 63,
	                     proto, 0, sa, da)
	    ih = ih[:10] + struct.pack("!H", csum(ih)) + ih[12:]
	    msg = struct.pack("!BBHHH", 3, 4, 0, 0, 1400) + ih + body[:8]
	    msg = msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]
	    s = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_ICMP)
	    s.bind((src, 0))
	    s.sendto(msg, (dst, 0))
	EOF
}

# route_mtu NS FAMILY DST: the path MTU that NS has learnt towards DST
# (empty if none), after waiting up to 2 s for one.
route_mtu()
{
	vl_t=0
	while :; do
		vl_m=$(ip -n "$1" -"$2" route get "$3" 2>/dev/null |
			sed -n 's/.* mtu \([0-9]*\).*/\1/p' | head -1)
		[ -n "$vl_m" ] || [ "$vl_t" -ge 20 ] && break
		sleep 0.1
		vl_t=$((vl_t + 1))
	done
	echo "$vl_m"
}

# icmp_relay MODE FAMILY: a UDP flow to the udp 53 service, then a "too
# big" error about its server's answer, sent to the VIP as a router on
# the way back would send it.  The director must pass it on to that server
# (dr or tun, as the flow's packets), which then knows the path MTU 1400
# to the client; the other servers know none.
icmp_relay()
{
	what="$1 IPv$2"
	vip=$(vip "$1" "$2")
	cli=$(cli "$2")
	new_sport 1
	if ! check_ok "$what: a UDP flow to udp 53" \
		drtun udp "$vip" 53 "$sport" 1; then
		return
	fi
	srv=$(drtun_seen udp "$cli" "$sport" "$vip" 53 | head -1)
	srv_ns=$(eval "echo \$LB_B${srv#b}")
	check_ok "$what: ICMP too big from the client side to the VIP" \
		icmp_err "$LB_C" "$cli" "$vip" "$vip" "$cli" udp 53 "$sport"
	check_eq "$what: its server $srv learnt path MTU 1400 to the client" \
		"$(route_mtu "$srv_ns" "$2" "$cli")" 1400
	others=""
	for i in 1 2 3; do
		[ "b$i" = "$srv" ] && continue
		others="$others$(ip -n "$(eval "echo \$LB_B$i")" -"$2" route get "$cli" |
			sed -n 's/.* mtu \([0-9]*\).*/ b'$i'=\1/p')"
	done
	check_eq "$what: the other servers learnt nothing" "$others" ""
	for i in 1 2 3; do
		ip -n "$(eval "echo \$LB_B$i")" -"$2" route flush cache
	done
}

icmp_relay dr 4
icmp_relay tun 6
icmp_relay dr 6
icmp_relay tun 4

# tun_pmtu FAMILY: a server's router says the director's IPIP (IP6IP6)
# packets to server 1 are too big for its MTU 1400: the director must
# lower its path MTU to that server.
tun_pmtu()
{
	if [ "$1" = 4 ]; then
		dir=$LB_DIR_B4 b=$(lb_be4 1) kind=ipip
	else
		dir=$LB_DIR_B6 b=$(lb_be6 1) kind=ip6ip6
	fi
	check_ok "tun IPv$1: ICMP too big about an $kind packet to server 1" \
		icmp_err "$LB_B1" "$b" "$dir" "$dir" "$b" ipip
	check_eq "tun IPv$1: the director's path MTU to server 1 is 1400" \
		"$(route_mtu "$LB_D" "$1" "$b")" 1400
	ip -n "$LB_D" -"$1" route flush cache
}

tun_pmtu 4
tun_pmtu 6

# ------------------------------------------------------------ rr spread ---

# spread MODE FAMILY: 30 connections to the tcp 80 service (rr over 3)
# are spread 10/10/10.
spread()
{
	what="$1 IPv$2 tcp"
	vip=$(vip "$1" "$2")
	new_sport 30
	check_ok "$what: 30 new connections echo" \
		drtun conns "$vip" 80 "$sport" 30
	check_eq "$what: rr spreads 30 connections 10/10/10" \
		"$(drtun_spread "$(cli "$2")" "$sport" $((sport + 29)) "$vip" 80)" \
		"b1=10 b2=10 b3=10"
}

spread dr 4
spread tun 6

# ------------------------------------------------------ filters and LOCAL ---

# dr and tun are served after routing and filtering, as IPVS serves them:
# a VIP routed through the director at FORWARD, after the filter table's
# FORWARD chain; a VIP that is an address of the director ($LOC4, on its
# lo) at LOCAL_IN, after INPUT.  A DROP rule in the chain the packets
# pass must stop them before viplb counts or sends them.  (The servers'
# answers from $LOC4 cross the director, which owns that address: it
# accepts them on br0 with accept_local, where it would drop them as
# martians.)
T4="ip netns exec $LB_D $VIPLB_ROOT/user/viplb/viplb-tables"
T6="ip netns exec $LB_D $VIPLB_ROOT/user/viplb/viplb6-tables"
lvp=$(drtun_vp $LOC4 80)
ip -n "$LB_D" addr add $LOC4/32 dev lo || bail "$LOC4 on the director's lo"
ip netns exec "$LB_D" sysctl -qw net.ipv4.conf.br0.accept_local=1 ||
	bail "accept_local on the director's br0"
v service add tcp "$lvp" mode dr
for i in 1 2 3; do
	v backend add tcp "$lvp" "$(be 4 $i)"
done

# filtered WHAT VIP TABLES CHAIN: with a DROP rule in CHAIN for tcp to
# VIP:80, a connection fails and the service counts no packet; without
# it, connections echo.
filtered()
{
	p0=$(drtun_stat tcp "$2" 80 pkts_in)
	new_sport 1
	if ! check_ok "$1: DROP in $4 for $2 tcp 80" \
		$3 -A "$4" -p tcp -d "$2" --dport 80 -j DROP; then
		return
	fi
	check_fail "$1: no connection through the DROP rule" \
		drtun conns "$2" 80 "$sport" 1
	check_eq "$1: the service saw no packet of it" \
		"$(drtun_stat tcp "$2" 80 pkts_in)" "$p0"
	check_ok "$1: $4 rule deleted" \
		$3 -D "$4" -p tcp -d "$2" --dport 80 -j DROP
	new_sport 3
	check_ok "$1: 3 connections echo without it" \
		drtun conns "$2" 80 "$sport" 3
}

filtered "dr IPv4, VIP routed" $DR4 "$T4" FORWARD
filtered "tun IPv6, VIP routed" $TUN6 "$T6" FORWARD
filtered "dr IPv4, VIP local" $LOC4 "$T4" INPUT
check_eq "dr IPv4, VIP local: served at LOCAL_IN, 3 connections counted" \
	"$(drtun_stat tcp $LOC4 80 conns)" 3
v service del tcp "$lvp"

# ------------------------------------------------------------ long flows ---

# long_start MODE FAMILY PORT: start a long-lived flow to PORT and wait
# until it echoed; sets $lid (its agent id), $lsport, $lbe (b1..b3) and
# $lbeaddr (the server's address).
long_start()
{
	vip=$(vip "$1" "$2")
	cli=$(cli "$2")
	new_sport 1
	lsport=$sport
	rm -f "$VIPLB_TMP/long.ready" "$VIPLB_TMP/long.stop"
	drtun_bg long "$vip" "$3" "$lsport" "$VIPLB_TMP/long.ready" \
		"$VIPLB_TMP/long.stop"
	lid=$drtun_id
	if ! wait_file "$VIPLB_TMP/long.ready"; then
		touch "$VIPLB_TMP/long.stop"
		fail "$1 IPv$2 tcp $3: a long flow starts" "$(drtun_wait "$lid")"
		return 1
	fi
	lbe=$(drtun_seen tcp "$cli" "$lsport" "$vip" "$3")
	lbeaddr=$(be "$2" "${lbe#b}")
	case $lbe in
	b[123]) ;;
	*)
		touch "$VIPLB_TMP/long.stop"
		drtun_wait "$lid" >/dev/null
		fail "$1 IPv$2 tcp $3: a long flow starts" \
			"servers that logged it: '$lbe'"
		return 1
		;;
	esac
}

# long_end DESC: let the long flow end; it must have echoed every line.
long_end()
{
	touch "$VIPLB_TMP/long.stop"
	if o=$(drtun_wait "$lid"); then
		pass "$1 ($o)"
	else
		fail "$1" "$o"
	fi
}

# sticky MODE FAMILY: a long flow to the tcp 81 service (rr over servers
# 1 and 2) stays on its server while a server is added, the weights
# change and the scheduler becomes maglev.
sticky()
{
	what="$1 IPv$2 tcp 81"
	long_start "$1" "$2" 81 || return
	vp=$(drtun_vp "$vip" 81)
	check_eq "$what: the long flow is pinned by the flow table" \
		"$(drtun_pin tcp "$vip" 81 "$cli" "$lsport")" "flow $lbeaddr"
	other=$(be "$2" 1)
	[ "$lbe" = b1 ] && other=$(be "$2" 2)
	v backend add tcp "$vp" "$(be "$2" 3)"
	sleep 0.4
	v backend set tcp "$vp" "$lbeaddr" weight 2
	v backend set tcp "$vp" "$other" weight 9
	sleep 0.4
	v service set tcp "$vp" sched maglev
	sleep 0.4
	new_sport 6
	check_ok "$what: new connections echo after the changes" \
		drtun conns "$vip" 81 "$sport" 6
	check_eq "$what: the long flow is still pinned to $lbe" \
		"$(drtun_pin tcp "$vip" 81 "$cli" "$lsport")" "flow $lbeaddr"
	long_end "$what: the long flow kept working through backend add, weights, sched maglev"
	check_eq "$what: only $lbe ever saw the long flow" \
		"$(drtun_seen tcp "$cli" "$lsport" "$vip" 81 | tr '\n' ' ')" \
		"$lbe "
}

# drain MODE FAMILY: a long flow to the tcp 82 service (rr over 3) keeps
# working while its server gets weight 0, which gets it no new
# connection, and after that server is deleted.
drain()
{
	what="$1 IPv$2 tcp 82"
	long_start "$1" "$2" 82 || return
	vp=$(drtun_vp "$vip" 82)
	v backend set tcp "$vp" "$lbeaddr" weight 0
	new_sport 6
	lo=$sport
	check_ok "$what: 6 new connections echo with $lbe at weight 0" \
		drtun conns "$vip" 82 "$sport" 6
	v backend del tcp "$vp" "$lbeaddr"
	new_sport 3
	check_ok "$what: 3 new connections echo with $lbe deleted" \
		drtun conns "$vip" 82 "$sport" 3
	got=$(drtun_spread "$cli" "$lo" $((sport + 2)) "$vip" 82)
	case " $got" in
	*" $lbe=0"*)
		pass "$what: no new connection went to $lbe ($got)"
		;;
	*)
		fail "$what: no new connection went to $lbe" "got: $got"
		;;
	esac
	long_end "$what: the long flow on $lbe kept working through weight 0 and backend del"
}

sticky dr 4
sticky tun 6
drain tun 4
drain dr 6

# ----------------------------------------------------------- no backend ---

rejected0=$(drtun_stat tcp $DR4 84 rejected)
for m in dr tun; do
	for f in 4 6; do
		check_ok "$m IPv$f tcp 84 (no backend): connect refused at once" \
			drtun refused tcp "$(vip $m $f)" 84
	done
done
for mf in "dr 4" "tun 6"; do
	set -- $mf
	check_ok "$1 IPv$2 udp 55 (no backend): port unreachable at once" \
		drtun refused udp "$(vip "$1" "$2")" 55
done
rejected=$(drtun_stat tcp $DR4 84 rejected)
if [ "$rejected" = null ] || [ -z "$rejected" ]; then
	skip "stats: rejected counts the refused connection" \
		"viplb -j stats does not print rejected"
else
	check_eq "stats: rejected counts the refused connection" \
		"$rejected" $((rejected0 + 1))
fi

# -------------------------------------------------- TCP without a SYN ---

# Spoofed TCP segments without SYN must not fill the flow table: only a
# SYN (or a UDP datagram) makes an entry.  A segment with no entry still
# goes where Maglev sends its flow (after a failover to this director),
# without state; for rr it has no backend and goes to the stack.
SPOOF_N=300

# spoof PORT: SPOOF_N TCP ACKs from the client to $DR4:PORT, each from a
# source port of its own, through a raw socket.
spoof()
{
	PYTHONPATH=$VIPLB_SELFTESTS ip netns exec "$LB_C" python3 - \
		"$LB_CLI4" "$DR4" "$1" "$SPOOF_N" <<-'EOF'
	import socket, struct, sys
	from pktcsum import csum
	src, dst, dport, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
	sa, da = socket.inet_aton(src), socket.inet_aton(dst)
	sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
	for i in range(n):
	    tcp = struct.pack("!HHIIBBHHH", 21000 + i, dport, 7 + i, 1, 5 << 4,
	                      0x10, 65535, 0, 0)
	    c = csum(sa + da + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
	    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
	    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), i, 0, 64,
	                     6, 0, sa, da)
	    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
	    sock.sendto(ip + tcp, (dst, 0))
	EOF
}

mvp=$(drtun_vp $DR4 86)
v service add tcp "$mvp" mode dr sched maglev
for i in 1 2 3; do
	v backend add tcp "$mvp" "$(be 4 $i)"
done
p0=$(drtun_stat tcp $DR4 80 pkts_in)
a0=$(drtun_stat tcp $DR4 80 active)
if check_ok "spoof: $SPOOF_N TCP ACKs without SYN to dr maglev tcp 86" spoof 86 &&
	check_ok "spoof: $SPOOF_N TCP ACKs without SYN to dr rr tcp 80" spoof 80; then
	check_eq "spoof: maglev made no flow-table entry" \
		"$(drtun_stat tcp $DR4 86 active)" 0
	check_eq "spoof: maglev forwarded each segment by its Maglev choice" \
		"$(drtun_stat tcp $DR4 86 pkts_in)" "$SPOOF_N"
	check_eq "spoof: maglev counted no new connection" \
		"$(drtun_stat tcp $DR4 86 conns)" 0
	# (Earlier flows may expire meanwhile: no more than before.)
	check_ok "spoof: rr made no flow-table entry" \
		test "$(drtun_stat tcp $DR4 80 active)" -le "$a0"
	check_eq "spoof: rr left the segments to the stack" \
		"$(drtun_stat tcp $DR4 80 pkts_in)" "$p0"
fi
v service del tcp "$mvp"

# ------------------------------------------------------------- timeouts ---

# Three flows: a UDP flow on dr IPv4 and on tun IPv6 (udp 54, where
# `viplb stats` counts them as active) and a long TCP flow on tun IPv4
# (tcp 83, where `service lookup` shows its flow-table entry), made under
# the default timeouts.  Then timeout_udp goes down to 2 s and
# timeout_tcp_fin to 4 s, the TCP flow ends and each UDP flow gets one
# more datagram.  The flow table must still hold all three right after
# (if the VM was quick enough to look within the timeouts; the times are
# taken before the last packets, so they only come out too long), and
# drop all three soon after.
params=/sys/module/viplb/parameters
old_udp=$(cat $params/timeout_udp)
old_fin=$(cat $params/timeout_tcp_fin)
defer "[ -d $params ] && echo $old_udp >$params/timeout_udp"
defer "[ -d $params ] && echo $old_fin >$params/timeout_tcp_fin"

# held: which of the three flows the flow table holds, as "udp4 udp6
# tcp4" when it holds all.  One viplb batch and shell builtins only, so
# that it is quick in the VM.
held()
{
	if ! "$VIPLB" -n "$LB_D" -j -b "$VIPLB_TMP/held.batch" \
		>"$VIPLB_TMP/held.out" 2>&1; then
		echo "error: $(cat "$VIPLB_TMP/held.out")"
		return
	fi
	{
		read -r vl_u4
		read -r vl_u6
		read -r vl_t4
	} <"$VIPLB_TMP/held.out"
	vl_h=""
	# The first "active" of a service is the service's own.
	for vl_f in "udp4 $vl_u4" "udp6 $vl_u6"; do
		vl_a=${vl_f#*\"active\":}
		[ "${vl_a%%[!0-9]*}" != 0 ] && vl_h="$vl_h ${vl_f%% *}"
	done
	case $vl_t4 in
	*'"pin":"flow"'*) vl_h="$vl_h tcp4" ;;
	esac
	echo "${vl_h# }"
}

new_sport 2
usport=$sport
check_ok "timeouts: a UDP flow on dr IPv4 udp 54" \
	drtun udp $DR4 54 $usport 1
check_ok "timeouts: a UDP flow on tun IPv6 udp 54" \
	drtun udp $TUN6 54 $((usport + 1)) 1
if long_start tun 4 83; then
	cat >"$VIPLB_TMP/held.batch" <<-EOF
	stats udp $DR4:54
	stats udp [$TUN6]:54
	service lookup tcp $TUN4:83 from $LB_CLI4:$lsport
	EOF
	check_eq "timeouts: the flow table holds the 3 flows" "$(held)" \
		"udp4 udp6 tcp4"
	echo 2 >$params/timeout_udp && echo 4 >$params/timeout_tcp_fin ||
		fail "set timeout_udp to 2 s and timeout_tcp_fin to 4 s"
	t0=$(lb_ms)
	long_end "timeouts: the long tun IPv4 TCP flow closes"
	t1=$(lb_ms)
	drtun_bg udp $DR4 54 $usport 1
	id1=$drtun_id
	o=$(drtun udp $TUN6 54 $((usport + 1)) 1 && drtun_wait $id1) ||
		fail "timeouts: one more datagram on each UDP flow" "$o"
	h=$(held)
	t=$(lb_ms)
	ms=$((t - t1))
	if [ "$ms" -lt 2000 ]; then
		check_eq "timeouts: both UDP flows still held $ms ms after their last datagram" \
			"${h% tcp4}" "udp4 udp6"
	else
		skip "timeouts: both UDP flows still held within timeout_udp" \
			"the VM took $ms ms to look"
	fi
	ms=$((t - t0))
	if [ "$ms" -lt 4000 ]; then
		check_grep "timeouts: the closed TCP flow still held $ms ms after it began to close" \
			"tcp4" "$h"
	else
		skip "timeouts: the closed TCP flow still held within timeout_tcp_fin" \
			"the VM took $ms ms to look"
	fi
	while [ -n "$h" ] && [ $(($(lb_ms) - t0)) -lt 20000 ]; do
		sleep 0.25
		h=$(held)
	done
	check_eq "timeouts: all 3 left the flow table in $(($(lb_ms) - t0)) ms" \
		"$h" ""
fi
echo "$old_udp" >$params/timeout_udp && echo "$old_fin" >$params/timeout_tcp_fin ||
	fail "restore timeout_udp and timeout_tcp_fin"

# ----------------------------------------------------------- route cache ---

# route_cache MODE: each backend caches its route (kmod/xmit.c); a route
# change must take effect at the next packet.  A UDP flow to the IPv4 udp
# 53 service, pinned to its backend; a blackhole route to that backend
# stops it, and deleting the route lets it through again.
route_cache()
{
	what="$1 IPv4 udp 53"
	new_sport 1
	check_ok "$what: a datagram is echoed (its backend's route cached)" \
		drtun udp "$(vip "$1" 4)" 53 "$sport" 1 || return
	rc_be=$(drtun_pin udp "$(vip "$1" 4)" 53 "$(cli 4)" "$sport")
	rc_be=${rc_be#* }
	ip -n "$LB_D" route add blackhole "$rc_be/32" ||
		{ fail "$what: ip route add blackhole $rc_be/32"; return; }
	check_fail "$what: a blackhole route to its backend $rc_be stops the flow" \
		drtun udp "$(vip "$1" 4)" 53 "$sport" 1
	ip -n "$LB_D" route del blackhole "$rc_be/32"
	check_ok "$what: the blackhole route deleted, echoed again" \
		drtun udp "$(vip "$1" 4)" 53 "$sport" 1
}

for m in dr tun; do
	route_cache $m
done

# ---------------------------------------------------------------- unload ---

new_sport 1
check_ok "a last UDP flow (left in the flow table)" \
	drtun udp $DR6 53 "$sport" 1
check_ok "rmmod with dr/tun services and flows in place" rmmod viplb
dmesg_check "no kernel warning"
viplb_finish
