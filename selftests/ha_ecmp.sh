#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Scale-out: three directors behind a router's ECMP route, announced over
# BGP by BIRD only while they can serve; connections survive a director
# failing (and coming back) when every director picks the same backend.
#
#   client $HA_C                 router $HA_R (BIRD, AS 65000)
#   eth0 203.0.113.2/24 -------- c0 203.0.113.1/24
#   default via the router       lan 198.51.100.1/24 (a bridge)
#                                  |  192.0.2.10, .20, .30: ECMP over the
#                                  |  directors that announce them, L4 hash
#                                  |  (fib_multipath_hash_policy=1)
#       +-------------+------------+-+-------------+-------------+-----...
#   $HA_D1 .2     $HA_D2 .3     $HA_D3 .4      $HA_B1 .11   $HA_B2 .12, $HA_B3 .13
#   directors: viplb (module), viplbd -a viplb0,   real servers: the VIPs on
#   BIRD (AS 65001): protocol direct on viplb0     lo, tunl0 up, echo on 8080
#   (a dummy) exported to the router               and 8081, default via the
#                                                  router
#
# The same viplb configuration on each director (one file, restored in
# each): dr 192.0.2.10:8080, tun 192.0.2.20:8080 and dr 192.0.2.30:8081,
# sched maglev (then rr), over the three servers, with tcp health checks.
# viplbd holds each VIP with a backend up as an address on viplb0, which
# BIRD announces; the real servers answer the client straight through the
# router (dr and tun), never through a director.
#
# For each scheduler, HA_LONG long connections (half to the dr VIP, half
# to the tun VIP) stream data, every byte checked (streams.py), while
#   fail: director 3's BIRD stops: the router withdraws its path, and the
#         connections it carried rehash to directors 1 and 2;
#   back: it starts again, and the connections rehash once more;
#   cut:  (maglev only) director 1's link goes down: the router drops its
#         path when the BGP hold time (3 s) runs out.
# With maglev at least 99% of each VIP's connections must end intact in
# each; the rr figures (a director without the flow has no backend for it)
# are reported, not checked.  Then: the VIP 192.0.2.30 is withdrawn when
# its servers all fail their checks, and announced again when they pass;
# and a director whose viplbd stops withdraws its VIPs.

. "$(dirname "$0")/lib.sh"

require_root
lb_need_cmd ip jq nft python3 bird
modprobe -a ipip dummy 2>/dev/null || bail "modprobe ipip dummy"
mod_fresh
dmesg_mark

HA_LONG=${HA_LONG:-600}
DR=192.0.2.10
TUN=192.0.2.20
WD=192.0.2.30
PORT=8080
ROUTER=198.51.100.1

# ---------------------------------------------------------------- topology

ha_netns HA_R:haR HA_C:haC HA_D1:haD1 HA_D2:haD2 HA_D3:haD3 LB_B1:haB1 \
	LB_B2:haB2 LB_B3:haB3
ip netns exec "$HA_R" sysctl -qw net.ipv4.ip_forward=1 \
	net.ipv4.fib_multipath_hash_policy=1 || bail "sysctl in the router"

{
	echo "link set lo up"
	echo "link add lan type bridge forward_delay 0"
	echo "addr add $ROUTER/24 dev lan"
	echo "link set lan up"
	echo "link add c0 type veth peer name eth0 netns $HA_C"
	echo "addr add 203.0.113.1/24 dev c0"
	echo "link set c0 up"
	for i in 1 2 3; do
		eval "d=\$HA_D$i b=\$LB_B$i"
		echo "link add vd$i type veth peer name eth0 netns $d"
		echo "link set vd$i master lan up"
		echo "link add vb$i type veth peer name eth0 netns $b"
		echo "link set vb$i master lan up"
	done
} | ip -n "$HA_R" -b - || bail "configure the router"
ip -n "$HA_C" -b - <<EOF || bail "configure the client"
link set lo up
addr add 203.0.113.2/24 dev eth0
link set eth0 up
route add default via 203.0.113.1
EOF
for i in 1 2 3; do
	eval "d=\$HA_D$i"
	ip -n "$d" -b - <<-EOF || bail "configure director $i"
	link set lo up
	addr add 198.51.100.$((i + 1))/24 dev eth0
	link set eth0 up
	route add default via $ROUTER
	link add viplb0 type dummy
	link set viplb0 up
	EOF
done
ha_real_servers $ROUTER $DR $TUN $WD
lb_servers

# ------------------------------------------------------------ viplb, BIRD

# config SCHED: the directors' restore file.
config()
{
	sched=$1
	for s in "dr $DR $PORT" "tun $TUN $PORT" "dr $WD 8081"; do
		set -- $s
		echo "service add tcp $2:$3 sched $sched mode $1"
		for i in 1 2 3; do
			echo "backend add tcp $2:$3 $(lb_be4 $i)"
		done
		echo "health tcp $2:$3 check tcp interval 1s timeout 500ms rise 2 fall 2"
	done
}
config maglev >"$VIPLB_TMP/maglev.conf"
config rr >"$VIPLB_TMP/rr.conf"

# bird_router / bird_director I: BIRD's configurations.
bird_router()
{
	cat <<-EOF
	router id $ROUTER;
	protocol device { }
	protocol kernel {
		ipv4 { import none; export all; };
		merge paths on;		# equal BGP routes: one ECMP route
	}
	template bgp director {
		local $ROUTER as 65000;
		hold time 3;
		keepalive time 1;
		connect delay time 1;
		connect retry time 2;
		error wait time 1, 5;
		ipv4 { import all; export none; };
	}
	EOF
	for i in 1 2 3; do
		echo "protocol bgp d$i from director { neighbor 198.51.100.$((i + 1)) as 65001; }"
	done
}

bird_director()
{
	cat <<-EOF
	router id 198.51.100.$(($1 + 1));
	protocol device { }
	# viplbd's VIPs: the addresses on viplb0.
	protocol direct { ipv4; interface "viplb0"; }
	protocol bgp uplink {
		local 198.51.100.$(($1 + 1)) as 65001;
		neighbor $ROUTER as 65000;
		hold time 3;
		keepalive time 1;
		connect delay time 1;
		connect retry time 2;
		error wait time 1, 5;
		ipv4 { import none; export all; };
	}
	EOF
}

# bird_start NAME NS: BIRD in NS with $VIPLB_TMP/NAME.bird.conf; its PID
# in bird_NAME.
bird_start()
{
	ha_daemon "bird_$1" "$2" "$VIPLB_TMP/$1.bird.log" \
		bird -f -c "$VIPLB_TMP/$1.bird.conf" -s "$VIPLB_TMP/$1.bird.sock" \
		-P "$VIPLB_TMP/$1.bird.pid"
}

bird_router >"$VIPLB_TMP/R.bird.conf"
bird_start R "$HA_R"
for i in 1 2 3; do
	eval "d=\$HA_D$i"
	"$VIPLB" -n "$d" restore "$VIPLB_TMP/maglev.conf" ||
		bail "viplb restore in director $i"
	ha_daemon "viplbd_$i" "$d" "$VIPLB_TMP/D$i.viplbd.log" \
		"$VIPLB_ROOT/user/viplbd/viplbd" -c "$VIPLB_TMP/maglev.conf" \
		-s "$VIPLB_TMP/D$i.viplbd.sock" -a viplb0
	bird_director $i >"$VIPLB_TMP/D$i.bird.conf"
	bird_start "D$i" "$d"
done

# paths VIP: how many next hops the router's route to VIP has.
paths()
{
	vl_r=$(ip -n "$HA_R" route show "$1/32")
	if [ -z "$vl_r" ]; then
		echo 0
	elif printf '%s\n' "$vl_r" | grep -q nexthop; then
		printf '%s\n' "$vl_r" | grep -c nexthop
	else
		echo 1
	fi
}

# paths_are N VIP...: every VIP has N paths.
paths_are()
{
	vl_n=$1
	shift
	for vl_v; do
		[ "$(paths "$vl_v")" -eq "$vl_n" ] || return 1
	done
}

# expect_paths N WHAT VIP...: every VIP gets N paths within 30 s (timed
# from $ha_t0, see ha_wait).
expect_paths()
{
	vl_n=$1
	vl_what=$2
	shift 2
	if ha_wait 30 paths_are "$vl_n" "$@"; then
		pass "$vl_what: ${ha_ms} ms"
	else
		fail "$vl_what" "$(ip -n "$HA_R" route)"
	fi
}

if ha_wait 60 paths_are 3 $DR $TUN $WD; then
	pass "the router has 3 paths to each VIP (${ha_ms} ms after start)"
else
	bail "the router has 3 paths to each VIP" \
		"$(ip -n "$HA_R" route)" "$(tail -5 "$VIPLB_TMP/R.bird.log" \
		"$VIPLB_TMP"/D*.viplbd.log)"
fi

# ------------------------------------------------------ director failover

# carried I: connections director I scheduled (dr and tun VIPs).
carried()
{
	eval "vl_d=\$HA_D$1"
	"$VIPLB" -n "$vl_d" -j stats | jq "[.[] |
		select(.vip == \"$DR\" or .vip == \"$TUN\") | .stats.conns] | add"
}

# phase SCHED fail|back|cut: HA_LONG connections, then director 3 fails
# (its BIRD stops) or comes back (BIRD starts), or director 1's link is
# cut (and restored after); their figures.
phase()
{
	for i in 1 2 3; do
		eval "vl_d=\$HA_D$i"
		"$VIPLB" -n "$vl_d" stats zero
	done
	ha_streams_start "$HA_C" "$DR,$TUN" $PORT "$HA_LONG" \
		--period 0.5 --chunk 256 || return 1
	sleep 2
	before="d1=$(carried 1) d2=$(carried 2) d3=$(carried 3)"
	ha_t0=$(lb_ms)
	case $2 in
	fail)
		kill "$bird_D3"
		ha_wait 30 paths_are 2 $DR $TUN
		;;
	back)
		bird_start D3 "$HA_D3"
		ha_wait 30 paths_are 3 $DR $TUN
		;;
	cut)
		# The router learns it when the BGP session's hold time ends.
		ip -n "$HA_R" link set vd1 down
		ha_wait 30 paths_are 2 $DR $TUN
		;;
	esac
	ok=$?
	log "$1 $2: connections scheduled before: $before; router's paths changed after ${ha_ms} ms"
	[ $ok -eq 0 ] || fail "$1 $2: the router's paths change" \
		"$(ip -n "$HA_R" route)"
	sleep 5
	ha_streams_end
	if [ "$2" = cut ]; then
		ip -n "$HA_R" link set vd1 up
		ha_wait 60 paths_are 3 $DR $TUN ||
			fail "director 1 back after its link came up"
	fi
	[ -n "$ha_report" ] || { fail "$1 $2: a report of the connections"; return 1; }
	dr=$(ha_jr ".vips[\"$DR\"][0]")
	drn=$(ha_jr ".vips[\"$DR\"][1]")
	tun=$(ha_jr ".vips[\"$TUN\"][0]")
	tunn=$(ha_jr ".vips[\"$TUN\"][1]")
	log "$1 $2: intact: dr $dr of $drn, tun $tun of $tunn ($(ha_jr .bytes) bytes checked)"
	[ "$(ha_jr '.broken | length')" = 0 ] ||
		log "$1 $2: broken: $(ha_jr '.broken | join("; ")')"
}

# enough GOT OF: GOT is at least 99% of OF.
enough()
{
	[ "$1" -gt 0 ] && [ $(($1 * 100)) -ge $(($2 * 99)) ]
}

for sched in maglev rr; do
	for i in 1 2 3; do
		eval "d=\$HA_D$i"
		"$VIPLB" -n "$d" restore "$VIPLB_TMP/$sched.conf" ||
			fail "viplb restore of sched $sched in director $i"
	done
	whats="fail back"
	[ $sched = rr ] || whats="fail back cut"
	for what in $whats; do
		phase $sched $what || continue
		if [ $sched = rr ]; then
			pass "rr $what: figures reported (dr $dr of $drn, tun $tun of $tunn intact)"
			continue
		fi
		if enough "$dr" "$drn"; then
			pass "maglev $what: dr connections intact: $dr of $drn"
		else
			fail "maglev $what: dr connections intact: $dr of $drn"
		fi
		if enough "$tun" "$tunn"; then
			pass "maglev $what: tun connections intact: $tun of $tunn"
		else
			fail "maglev $what: tun connections intact: $tun of $tunn"
		fi
	done
done

# ----------------------------------------------------------- withdrawals

# No backend of 192.0.2.30 passes its check: every director withdraws it.
for b in $LB_B1 $LB_B2 $LB_B3; do
	ip netns exec "$b" nft -f - <<-EOF || fail "reject port 8081 in $b"
	table inet ha {
		chain input {
			type filter hook input priority 0;
			tcp dport 8081 reject with tcp reset
		}
	}
	EOF
done
ha_t0=$(lb_ms)
expect_paths 0 "$WD withdrawn after its servers failed (interval 1s, fall 2)" $WD
check_eq "$DR and $TUN still on 3 paths" "$(paths $DR) $(paths $TUN)" "3 3"
for b in $LB_B1 $LB_B2 $LB_B3; do
	ip netns exec "$b" nft delete table inet ha
done
ha_t0=$(lb_ms)
expect_paths 3 "$WD announced again after its servers recovered (rise 2)" $WD

# A director shuts down: viplbd withdraws its VIPs as it exits.
ha_t0=$(lb_ms)
ha_stop "$viplbd_2"
expect_paths 2 "director 2's VIPs withdrawn after viplbd got SIGTERM" $DR $TUN $WD
check_grep "viplbd logged the withdrawals" "withdrew $DR from viplb0: shutting down" \
	"$(cat "$VIPLB_TMP/D2.viplbd.log")"
ha_t0=$(lb_ms)
ha_daemon viplbd_2 "$HA_D2" "$VIPLB_TMP/D2.viplbd.log" \
	"$VIPLB_ROOT/user/viplbd/viplbd" -c "$VIPLB_TMP/maglev.conf" \
	-s "$VIPLB_TMP/D2.viplbd.sock" -a viplb0
expect_paths 3 "director 2's VIPs announced again after viplbd started" \
	$DR $TUN $WD

dmesg_check "no kernel warning"
viplb_finish
