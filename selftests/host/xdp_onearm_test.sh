#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A one-armed director with forwarding off, without the module, configured
# only through `ip netns exec': dr and tun services, IPv4 and IPv6, over
# three real servers, served at XDP (issue 11, defect 2), with sched
# maglev, rr and wrr (defect 3); who serves what, as show says.
#
#                        bridge br0 in $S
#        +------------------+------------------+------------------+
#   c0 of $C            d0 of $D           eth0 of $B1, $B2, $B3
#   198.51.100.100/24   198.51.100.1/24    198.51.100.2, .3, .4 /24
#   2001:db8:1::100/64  2001:db8:1::1/64   2001:db8:1::2, ::3, ::4 /64
#   VIPs via $D         XDP on d0          VIPs on lo, arp_ignore 1,
#                                          IPIP/IP6IP6 decapsulated by
#                                          ipip_decap.bpf.o (no ipip here)
#   (the bridge's port facing d0 has an XDP_PASS program, for native XDP_TX)
#
#   and a router on the bridge, eth0 of $G: 198.51.100.5/24, forwarding on,
#   the director's new gateway to 198.51.100.2 in the next-hop tests.
#
# The director: net.ipv4.ip_forward 0, net.ipv6.conf.all.forwarding 0, and
# forwarding on lo only, which bpf_fib_lookup() wants on the device it is
# asked from (the guide's "Per packet") and `viplb xdp attach' turns on.
# Nothing resolves the servers' MACs but viplb's managed neighbour entries.  Its stack routes nothing (a ping
# through it fails), and has no VIP, so a VIP packet XDP passed would go
# nowhere.  An nft counter in its prerouting hook counts the VIP packets
# its stack sees: 0 while the transfers run.  Replies go from the real
# servers straight to the client.
#
# Next hops with no neighbour entry at all, with no viplb command since:
# the route to a tun backend changed to a new gateway, and a dr backend's
# entry deleted.  XDP passes their packets, finished, with metadata, and
# viplb's TC filter has the stack resolve the next hop and send them
# (redirect_neigh); the transfers complete, the entries appear, and the
# next transfers stay in XDP.  The user's own tc filter is left alone.
#
# Then each reason bpf_fib_lookup() fails for, produced on purpose and
# counted under its name: fib_fwd_disabled (forwarding off on lo too),
# fib_no_neigh (a backend no one has resolved, sent to the neighbour code,
# which cannot), fib_unreachable (an unreachable route), fib_frag_needed
# (a tun packet over a route's MTU).

# Pid 1 of a pid and mount namespace of our own: see xdp_ns.sh.
. "$(dirname "$0")/xdp_ns.sh"

# lib.sh looks for the CLI beside selftests/; this test is one level down.
: "${VIPLB:=$(cd "$(dirname "$0")/../.." && pwd -P)/user/viplb/viplb}"
. "$(dirname "$0")/../lib.sh"

require_root
require_cmd ip socat cmp jq ethtool nft ping stat tc
xdp_ns_check

DECAP=$VIPLB_SELFTESTS/ipip_decap.bpf.o
[ -f "$DECAP" ] || bail "$DECAP not built (make -C selftests/host)"
# VIPLB_XDP_MODULE=1 (selftests/xdp_host.sh in the VM): the same with the
# module loaded, which takes every command first (the CLI mirrors it into
# the maps) and would serve what XDP passes; nat is then the module's.
if [ "${VIPLB_XDP_MODULE:-}" = 1 ]; then
	mod_fresh
	NAT_SERVED=module
elif mod_loaded; then
	skip_all "the viplb module is loaded: this test is for XDP alone"
else
	# No module: nf_tables serves nat (viplb.8, DATAPATHS).
	NAT_SERVED=nft
fi

NFLOWS=2
SIZE_KB=128

ns_create S xs
ns_create C xc
ns_create D xd
ns_create B1 xb1
ns_create B2 xb2
ns_create B3 xb3
ns_create G xg

# The director is configured as a user would from a shell: through
# `ip netns exec' (a fresh sysfs, no bpffs there), never `viplb -n'.
# vx ARGS...: viplb in the director's netns.
vx()
{
	ip netns exec "$D" "$VIPLB" "$@"
}

# v ARGS...: the same; a failure is a failed check.
v()
{
	if ! vl_o=$(vx "$@" 2>&1); then
		fail "viplb $*" "$vl_o"
		return 1
	fi
	[ -z "$vl_o" ] || printf '%s\n' "$vl_o"
}

# sysctl_w NS NAME VALUE
sysctl_w()
{
	ip netns exec "$1" sh -c "echo $3 >/proc/sys/net/$2"
}

# nft ARGS...: nft in the director's netns.
nft()
{
	ip netns exec "$D" nft "$@"
}

topo()
{
	ip -n "$S" link add br0 type bridge &&
	ip -n "$S" link set br0 up || return 1
	for p in "$C c0 sc" "$D d0 sd" "$B1 eth0 sb1" "$B2 eth0 sb2" \
		 "$B3 eth0 sb3" "$G eth0 sg"; do
		# shellcheck disable=SC2086 # netns, device, port
		set -- $p
		ip link add "$2" netns "$1" type veth peer name "$3" netns "$S" &&
		ip -n "$S" link set "$3" master br0 &&
		ip -n "$S" link set "$3" up &&
		ip -n "$1" link set "$2" up || return 1
	done
	# A veth flushes what native XDP_TX sends to its peer only if the
	# peer has NAPI (GRO) and an XDP program: one that passes all.  Not
	# GRO on the client's port: it would hand d0 64 KiB packets (generic
	# XDP sees skbs), too big to forward.
	ip netns exec "$S" ethtool -K sd gro on >/dev/null
	ip -n "$S" link set dev sd xdp obj "$DECAP" sec xdp/pass || return 1

	ip -n "$C" addr add 198.51.100.100/24 dev c0
	ip -n "$C" addr add 2001:db8:1::100/64 dev c0 nodad
	ip -n "$C" route add 192.0.2.0/24 via 198.51.100.1
	ip -n "$C" route add 203.0.113.0/24 via 198.51.100.1
	ip -n "$C" route add 2001:db8:2::/64 via 2001:db8:1::1
	# Room for the tun outer header on the director's 1500 bytes; what
	# the client sends is what a NIC puts on the wire: no TSO skbs,
	# complete checksums (see xdp_veth_test.sh).
	ip -n "$C" link set c0 mtu 1400
	ip netns exec "$C" ethtool -K c0 tx off tso off gso off >/dev/null

	ip -n "$D" addr add 198.51.100.1/24 dev d0
	ip -n "$D" addr add 2001:db8:1::1/64 dev d0 nodad
	ip -n "$D" route add 203.0.113.0/24 via 198.51.100.2
	sysctl_w "$D" ipv4/ip_forward 0
	sysctl_w "$D" ipv6/conf/all/forwarding 0

	i=1
	for b in "$B1" "$B2" "$B3"; do
		i=$((i + 1))
		ip -n "$b" addr add "198.51.100.$i/24" dev eth0
		ip -n "$b" addr add "2001:db8:1::$i/64" dev eth0 nodad
		for a in 192.0.2.10/32 192.0.2.11/32 2001:db8:2::10/128 \
			 2001:db8:2::11/128; do
			ip -n "$b" addr add "$a" dev lo
		done
		ip netns exec "$b" sh -c '
			echo 1 >/proc/sys/net/ipv4/conf/all/arp_ignore
			echo 2 >/proc/sys/net/ipv4/conf/all/arp_announce
			echo 0 >/proc/sys/net/ipv4/conf/all/rp_filter
			echo 0 >/proc/sys/net/ipv4/conf/eth0/rp_filter'
		ip -n "$b" link set dev eth0 xdpgeneric obj "$DECAP" sec xdp ||
			return 1
	done
	ip -n "$B1" addr add 203.0.113.1/32 dev lo

	# A router, for a route that changes: it does not redirect.
	ip -n "$G" addr add 198.51.100.5/24 dev eth0
	ip netns exec "$G" sh -c '
		echo 1 >/proc/sys/net/ipv4/ip_forward
		echo 0 >/proc/sys/net/ipv4/conf/all/send_redirects
		echo 0 >/proc/sys/net/ipv4/conf/eth0/send_redirects'

	# A tc filter of the user's, on the director's ingress: a classic
	# BPF filter that matches nothing.
	tc -n "$D" qdisc add dev d0 clsact &&
	tc -n "$D" filter add dev d0 ingress prio 10 bpf bytecode '1,6 0 0 0,' ||
		return 1

	# The director's prerouting: every VIP packet its stack sees.
	nft -f - <<EOF || return 1
add table inet t
add chain inet t pre { type filter hook prerouting priority -300; }
add rule inet t pre ip daddr 192.0.2.0/24 counter
add rule inet t pre ip6 daddr 2001:db8:2::/64 counter
EOF

	# Nothing talks to the servers first: viplb has the kernel resolve
	# their MACs (managed neighbour entries, user/xdp/neigh.c).
}

topo || bail "one-armed topology"

# stack_vip_pkts: the VIP packets the director's stack has seen.
stack_vip_pkts()
{
	nft -j list chain inet t pre |
		jq '[.nftables[].rule? | select(.) | .expr[] |
		     select(.counter) | .counter.packets] | add'
}

pids=""
for b in "$B1" "$B2" "$B3"; do
	for a in 192.0.2.10 192.0.2.11 "[2001:db8:2::10]" "[2001:db8:2::11]"; do
		case $a in
		\[*) l=TCP6-LISTEN ;;
		*) l=TCP4-LISTEN ;;
		esac
		ip netns exec "$b" socat "$l:80,bind=$a,reuseaddr,fork" \
			EXEC:cat >/dev/null 2>&1 &
		pids="$pids $!"
	done
done
defer "kill $pids"

wait_listen()
{
	for b in "$B1" "$B2" "$B3"; do
		t=0
		until [ "$(ip netns exec "$b" ss -Hltn | grep -c ':80 ')" -eq 4 ]; do
			t=$((t + 1))
			[ $t -gt 50 ] && return 1
			sleep 0.1
		done
	done
}
wait_listen || bail "socat servers did not start"

head -c $((SIZE_KB * 1024)) /dev/urandom >"$VIPLB_TMP/in"

# transfer ADDR SPORT: send the file to ADDR:80 from SPORT, get its echo.
transfer()
{
	case $1 in
	*:*) t="TCP6:[$1]:80" ;;
	*) t="TCP4:$1:80" ;;
	esac
	rm -f "$VIPLB_TMP/out"
	ip netns exec "$C" timeout 20 socat -t 5 - \
		"$t,sourceport=$2,connect-timeout=5" \
		<"$VIPLB_TMP/in" >"$VIPLB_TMP/out" 2>"$VIPLB_TMP/err" &&
		cmp -s "$VIPLB_TMP/in" "$VIPLB_TMP/out"
}

# xstat NAME: a global XDP counter of the director (0 if it has none).
xstat()
{
	vx -j xdp stats | jq -r ".counters.$1 // 0"
}

# The stack does not forward: through the director, 203.0.113.1 is out
# of reach.
if ip netns exec "$C" ping -c1 -W1 203.0.113.1 >/dev/null 2>&1; then
	fail "the director's stack forwards nothing (ip_forward 0)" \
		"a ping through it came back"
else
	pass "the director's stack forwards nothing (ip_forward 0)"
fi

run_mode()
{
	mode=$1
	base=$2
	v xdp attach d0 mode "$mode" || return
	defer "ip netns exec $D $VIPLB xdp detach d0"
	fwd=$(ip netns exec "$D" cat /proc/sys/net/ipv4/ip_forward \
		/proc/sys/net/ipv6/conf/all/forwarding \
		/proc/sys/net/ipv4/conf/lo/forwarding \
		/proc/sys/net/ipv6/conf/lo/forwarding | tr '\n' ' ')
	check_eq "$mode: xdp attach turned forwarding on for lo only" \
		"$fwd" "0 0 1 1 "
	for s in "192.0.2.10 dr" "192.0.2.11 tun" "[2001:db8:2::10] dr" \
		 "[2001:db8:2::11] tun"; do
		# shellcheck disable=SC2086 # VIP, mode
		set -- $s
		case $1 in
		\[*) b2="[2001:db8:1::2]" b3="[2001:db8:1::3]" b4="[2001:db8:1::4]" ;;
		*) b2=198.51.100.2 b3=198.51.100.3 b4=198.51.100.4 ;;
		esac
		v service add tcp "$1:80" mode "$2" &&
		v backend add tcp "$1:80" "$b2" &&
		v backend add tcp "$1:80" "$b3" &&
		v backend add tcp "$1:80" "$b4" || return
	done
	nft reset counters table inet t >/dev/null

	tx0=$(xstat tx)
	n=0
	for s in "192.0.2.10 dr" "192.0.2.11 tun" "2001:db8:2::10 dr" \
		 "2001:db8:2::11 tun"; do
		# shellcheck disable=SC2086 # VIP, mode
		set -- $s
		ok=0
		for i in $(seq 1 $NFLOWS); do
			n=$((n + 1))
			if transfer "$1" $((base + n)); then
				ok=$((ok + 1))
			else
				log "$1 from port $((base + n)): $(cat "$VIPLB_TMP/err")"
			fi
		done
		if [ $ok -eq $NFLOWS ]; then
			pass "$mode: $2 $1: $NFLOWS TCP transfers of $SIZE_KB KiB intact"
		else
			fail "$mode: $2 $1: $NFLOWS TCP transfers of $SIZE_KB KiB intact" \
				"$ok of $NFLOWS completed intact"
		fi
	done

	seen=$(stack_vip_pkts)
	tx=$(($(xstat tx) - tx0))
	# At least one packet per 1400 bytes of every flow, all XDP_TX.
	min=$((n * SIZE_KB * 1024 / 1400))
	if [ "$seen" -eq 0 ] && [ "$tx" -ge $min ]; then
		pass "$mode: XDP sent every VIP packet ($tx XDP_TX), the stack saw none"
	else
		fail "$mode: XDP sent every VIP packet, the stack saw none" \
			"XDP_TX $tx (want >= $min), VIP packets in prerouting $seen"
	fi
	bad=0
	for c in fib_no_neigh fib_fwd_disabled fib_unreachable \
		 fib_frag_needed pass_no_backend error aborted; do
		[ "$(xstat $c)" -eq 0 ] || bad="$bad $c=$(xstat $c)"
	done
	if [ "$bad" = 0 ]; then
		pass "$mode: no FIB failure, error or abort"
	else
		fail "$mode: no FIB failure, error or abort" "$bad"
	fi
	v flush
	v xdp detach d0
}

run_mode generic 41000
run_mode native 42000

# served SVC: who serves tcp SVC, per `viplb show -j', then per `viplb xdp
# stats -j' (two words).
served()
{
	for c in show "xdp stats"; do
		# shellcheck disable=SC2086 # show, or xdp stats
		vx -j $c |
			jq -r --arg k "${1%:*}" --arg p "${1##*:}" '
			(if type == "array" then . else .services end)[] |
			select(.vip == $k and (.port | tostring) == $p) |
			.served'
	done | tr '\n' ' '
}

# rr and wrr at XDP (issue 11, defect 3): each CPU takes the ring in turn,
# every flow pinned.  Three flows a service, over CPUs that each start at
# the ring's first slot: one CPU gets two of them, and the first two
# slots of each ring (rr, wrr 1:2) name both backends.
rr_wrr()
{
	v xdp attach d0 mode generic || return
	defer "ip netns exec $D $VIPLB xdp detach d0"
	v service add tcp 192.0.2.10:80 mode dr sched rr &&
	v backend add tcp 192.0.2.10:80 198.51.100.2 &&
	v backend add tcp 192.0.2.10:80 198.51.100.3 &&
	v service add tcp 192.0.2.11:80 mode tun sched wrr &&
	v backend add tcp 192.0.2.11:80 198.51.100.2 weight 1 &&
	v backend add tcp 192.0.2.11:80 198.51.100.3 weight 2 &&
	v service add tcp "[2001:db8:2::10]:80" mode dr sched wrr &&
	v backend add tcp "[2001:db8:2::10]:80" "[2001:db8:1::2]" weight 2 &&
	v backend add tcp "[2001:db8:2::10]:80" "[2001:db8:1::3]" weight 4 ||
		return
	nft reset counters table inet t >/dev/null
	tx0=$(xstat tx)
	n=0
	for s in "192.0.2.10 rr" "192.0.2.11 wrr" "2001:db8:2::10 wrr"; do
		# shellcheck disable=SC2086 # VIP, sched
		set -- $s
		ok=0
		for i in 1 2 3; do
			n=$((n + 1))
			if transfer "$1" $((43000 + n)); then
				ok=$((ok + 1))
			else
				log "$1 from port $((43000 + n)): $(cat "$VIPLB_TMP/err")"
			fi
		done
		check_eq "$2 $1: 3 TCP transfers of $SIZE_KB KiB intact" "$ok" 3
	done
	seen=$(stack_vip_pkts)
	tx=$(($(xstat tx) - tx0))
	min=$((n * SIZE_KB * 1024 / 1400))
	if [ "$seen" -eq 0 ] && [ "$tx" -ge $min ] &&
	   [ "$(xstat pass_sched)" -eq 0 ]; then
		pass "rr, wrr: XDP sent every VIP packet ($tx XDP_TX), none passed"
	else
		fail "rr, wrr: XDP sent every VIP packet, none passed" \
			"XDP_TX $tx (want >= $min), pass_sched $(xstat pass_sched), VIP packets in prerouting $seen"
	fi
	flows=$(vx -j xdp stats |
		jq '[.services[] | select(.sched == "rr" or .sched == "wrr") |
		     .backends[] | select(.stats.conns > 0)] | length')
	check_eq "rr, wrr: every backend got new flows" "$flows" 6

	# Who serves what: nat by the module if it is loaded, else by nf_tables.
	v service add tcp 192.0.2.20:80 mode dr sched maglev &&
	v service add tcp 192.0.2.21:80 mode nat sched rr || return
	check_eq "served: dr maglev" "$(served 192.0.2.20:80)" "xdp xdp "
	check_eq "served: dr rr" "$(served 192.0.2.10:80)" "xdp xdp "
	check_eq "served: tun wrr" "$(served 192.0.2.11:80)" "xdp xdp "
	check_eq "served: nat ($NAT_SERVED)" "$(served 192.0.2.21:80)" \
		"$NAT_SERVED $NAT_SERVED "
	line=$(vx show | grep '^service tcp 192.0.2.21:80 ')
	case $line in
	*" served $NAT_SERVED") pass "served: in show's text" ;;
	*) fail "served: in show's text" "$line" ;;
	esac
	if vx save | grep -q served; then
		fail "served: not in save" "$(vx save)"
	else
		pass "served: not in save"
	fi
	if [ "$NAT_SERVED" = nft ]; then
		# nf_tables serves the maps' nat services once a command wrote
		# them there (not yet right after the module went, for one).
		ip netns exec "$D" nft delete table inet viplb
		check_eq "served: nat, not in nf_tables" \
			"$(served 192.0.2.21:80)" "none none "
		v service set tcp 192.0.2.21:80 sched rr
		check_eq "served: nat, written to nf_tables by the next command" \
			"$(served 192.0.2.21:80)" "nft nft "
	fi
	v flush
	v xdp detach d0
}
rr_wrr

# neigh_valid NS ADDR: ADDR has a valid neighbour entry on d0 in NS.
neigh_valid()
{
	ip -n "$1" neigh show "$2" dev d0 |
		grep -qE "REACHABLE|STALE|DELAY|PROBE|PERMANENT"
}

# user_filter: the user's tc filter on d0, as tc shows it.
user_filter()
{
	tc -n "$D" filter show dev d0 ingress | grep "pref 10 .*bytecode"
}

# Next hops with no entry at all, after the last viplb command: XDP
# passes the packets with metadata, TC sends them through the neighbour
# code, which resolves the next hop; then XDP sends on its own.
run_neigh()
{
	mode=$1
	base=$2
	uf=$(user_filter)
	v xdp attach d0 mode "$mode" || return
	defer "ip netns exec $D $VIPLB xdp detach d0"
	tcid=$(vx -j xdp show | jq '.devices[0].tc_prog_id')
	ours=$(tc -n "$D" filter show dev d0 ingress pref 1 | grep -c viplb_tc)
	if [ "$tcid" != null ] && [ "$ours" -ge 1 ] &&
	   [ "$(user_filter)" = "$uf" ]; then
		pass "$mode: xdp attach added viplb_tc at d0's ingress (prog $tcid), the user's filter kept"
	else
		fail "$mode: xdp attach added viplb_tc at d0's ingress, the user's filter kept" \
			"xdp show tc_prog_id $tcid" \
			"$(tc -n "$D" filter show dev d0 ingress)"
	fi
	v service add tcp 192.0.2.11:80 mode tun &&
	v backend add tcp 192.0.2.11:80 198.51.100.2 &&
	v service add tcp "[2001:db8:2::10]:80" mode dr &&
	v backend add tcp "[2001:db8:2::10]:80" "[2001:db8:1::2]" || return
	# Resolved by viplb (it waits for new entries), so served at XDP...
	t=0
	until neigh_valid "$D" 198.51.100.2 &&
	      neigh_valid "$D" 2001:db8:1::2; do
		t=$((t + 1))
		[ $t -gt 30 ] && break
		sleep 0.1
	done
	# ... until the route to 198.51.100.2 goes through a new gateway, and
	# the dr backend's entry is gone.
	ip -n "$D" neigh flush 198.51.100.5 dev d0 2>/dev/null
	ip -n "$D" route add 198.51.100.2/32 via 198.51.100.5 dev d0
	ip -n "$D" neigh del 2001:db8:1::2 dev d0
	if neigh_valid "$D" 198.51.100.5 || neigh_valid "$D" 2001:db8:1::2; then
		fail "$mode: the new next hops have no neighbour entry" \
			"$(ip -n "$D" neigh show dev d0)"
	fi

	nn0=$(xstat fib_no_neigh)
	rn0=$(xstat redirect_neigh)
	p0=$(stack_vip_pkts)
	n=0
	ok=0
	for a in 192.0.2.11 2001:db8:2::10; do
		n=$((n + 1))
		if transfer "$a" $((base + n)); then
			ok=$((ok + 1))
		else
			log "$a from port $((base + n)): $(cat "$VIPLB_TMP/err")"
		fi
	done
	nn=$(($(xstat fib_no_neigh) - nn0))
	rn=$(($(xstat redirect_neigh) - rn0))
	p=$(($(stack_vip_pkts) - p0))
	check_eq "$mode: tun via a new gateway, dr without an entry: TCP transfers intact" \
		$ok 2
	if [ "$rn" -ge 2 ] && [ "$nn" -ge "$rn" ] && [ "$p" -eq 0 ]; then
		pass "$mode: the first packets went through the neighbour code (redirect_neigh +$rn), not the stack's forwarding"
	else
		fail "$mode: the first packets went through the neighbour code" \
			"redirect_neigh +$rn, fib_no_neigh +$nn, VIP packets in prerouting +$p"
	fi
	if neigh_valid "$D" 198.51.100.5 && neigh_valid "$D" 2001:db8:1::2; then
		pass "$mode: the new next hops were resolved"
	else
		fail "$mode: the new next hops were resolved" \
			"$(ip -n "$D" neigh show dev d0)"
	fi

	nn0=$(xstat fib_no_neigh)
	tx0=$(xstat tx)
	ok=0
	for a in 192.0.2.11 2001:db8:2::10; do
		n=$((n + 1))
		transfer "$a" $((base + n)) && ok=$((ok + 1))
	done
	nn=$(($(xstat fib_no_neigh) - nn0))
	tx=$(($(xstat tx) - tx0))
	min=$((2 * SIZE_KB * 1024 / 1400))
	if [ $ok -eq 2 ] && [ "$nn" -eq 0 ] && [ "$tx" -ge $min ]; then
		pass "$mode: then XDP sends them itself (XDP_TX +$tx, fib_no_neigh +0)"
	else
		fail "$mode: then XDP sends them itself" \
			"$ok of 2 intact, XDP_TX +$tx (want >= $min), fib_no_neigh +$nn"
	fi
	ip -n "$D" route del 198.51.100.2/32
	v flush
	v xdp detach d0
	ours=$(tc -n "$D" filter show dev d0 ingress pref 1 | grep -c viplb_tc)
	if [ "$ours" -eq 0 ] && [ "$(user_filter)" = "$uf" ]; then
		pass "$mode: xdp detach removed viplb_tc alone"
	else
		fail "$mode: xdp detach removed viplb_tc alone" \
			"$(tc -n "$D" filter show dev d0 ingress)"
	fi
}

# A kernel that refuses bpf_xdp_adjust_meta() to XDP programs (some
# hosts' do; Debian's, in the VM, does not): XDP passes such packets
# unchanged, with no metadata for viplb_tc (bpf/README.md).
v xdp attach d0 mode generic || bail "xdp attach"
neigh_meta=$(vx -j xdp show | jq -r .neigh_meta)
v xdp detach d0
if [ "$neigh_meta" = on ]; then
	run_neigh generic 45000
	run_neigh native 46000
else
	skip "next hops without a neighbour entry, through viplb_tc" \
		"this kernel ($(uname -r)) refuses bpf_xdp_adjust_meta() to XDP programs (xdp show: neigh_meta $neigh_meta)"
fi

# probe PROTO ADDR: one connection attempt (TCP4) or datagram (UDP4) of
# 1,300 bytes to ADDR:80 from the client; it is not expected to succeed.
probe()
{
	case $1 in
	TCP4) o=,connect-timeout=1 ;;
	*) o= ;;
	esac
	head -c 1300 /dev/zero |
		ip netns exec "$C" timeout 3 socat -u - "$1:$2:80$o" \
			>/dev/null 2>&1
}

# reason NAME WHAT PROTO ADDR: one packet to ADDR is counted as NAME.
reason()
{
	r0=$(xstat "$1")
	p0=$(stack_vip_pkts)
	probe "$3" "$4"
	r=$(($(xstat "$1") - r0))
	p=$(($(stack_vip_pkts) - p0))
	if [ "$r" -ge 1 ] && [ "$p" -ge 1 ]; then
		pass "$1: $2 ($r counted, passed to the stack)"
	else
		fail "$1: $2" "$1 +$r, VIP packets in prerouting +$p"
	fi
}

# One service per reason, each with one backend.
v xdp attach d0 mode generic || bail "xdp attach"
for s in "tcp 192.0.2.10 dr 198.51.100.2" "tcp 192.0.2.20 dr 198.51.100.50" \
	 "tcp 192.0.2.21 dr 198.51.100.60" "udp 192.0.2.22 tun 198.51.100.3"; do
	# shellcheck disable=SC2086 # proto, VIP, mode, backend
	set -- $s
	if ! v service add "$1" "$2:80" mode "$3" ||
	   ! v backend add "$1" "$2:80" "$4"; then
		bail "services for the FIB failure reasons"
	fi
done

sysctl_w "$D" ipv4/conf/lo/forwarding 0
reason fib_fwd_disabled "forwarding off on lo too" TCP4 192.0.2.10
sysctl_w "$D" ipv4/conf/lo/forwarding 1

# Sent to the neighbour code, which cannot resolve it: lost there.
neigh=$(ip -n "$D" neigh show 198.51.100.50 |
	grep -E "REACHABLE|STALE|DELAY|PROBE|PERMANENT|NOARP")
r0=$(xstat fib_no_neigh)
rn0=$(xstat redirect_neigh)
probe TCP4 192.0.2.20
r=$(($(xstat fib_no_neigh) - r0))
rn=$(($(xstat redirect_neigh) - rn0))
if [ -z "$neigh" ] && [ "$r" -ge 1 ] && [ "$neigh_meta" != on ] &&
   [ "$rn" -eq 0 ]; then
	pass "fib_no_neigh: a backend without a neighbour entry ($r counted, passed unchanged: neigh_meta off)"
elif [ -z "$neigh" ] && [ "$r" -ge 1 ] && [ "$rn" -eq "$r" ]; then
	pass "fib_no_neigh: a backend without a neighbour entry ($r counted, all redirect_neigh)"
else
	fail "fib_no_neigh: a backend without a neighbour entry" \
		"fib_no_neigh +$r, redirect_neigh +$rn, entry: $neigh"
fi

ip -n "$D" route add unreachable 198.51.100.60/32
reason fib_unreachable "an unreachable route to the backend" TCP4 192.0.2.21

# Locked: the FIB's MTU check, made for forwarding, ignores an unlocked
# route MTU (unless ip_forward_use_pmtu).
ip -n "$D" route add 198.51.100.3/32 dev d0 mtu lock 1300
reason fib_frag_needed "a tun packet over the route's MTU of 1300" UDP4 \
	192.0.2.22

v flush
v xdp detach d0

viplb_finish
