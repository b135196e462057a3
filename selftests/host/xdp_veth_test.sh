#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The XDP fast path end to end on veth, without the module: real TCP
# transfers through a dr service served at XDP, in generic and in native
# mode.
#
#   client $C                 director $D                  real servers
#   c0 203.0.113.2/24 ------- d0 203.0.113.1/24   (XDP: ingress)
#   default via .1            d1 198.51.100.1/28  -------- eth0 of $B1
#                             (XDP: tx port)               198.51.100.2/28
#                             d2 198.51.100.17/28 -------- eth0 of $B2
#                             (XDP: tx port)               198.51.100.18/28
#
#   every real server: lo 192.0.2.10/32 (the VIP), arp_ignore 1,
#   arp_announce 2, default via the director; socat echoes on port 80.
#
# The director has no route to the VIP, so a packet XDP passed to its
# stack could not reach a server: a transfer that completes went through
# XDP (XDP_REDIRECT from d0 to d1 or d2), and the counters say so too.
# Replies go back through the director's stack.

# Pid 1 of a pid and mount namespace of our own: see xdp_ns.sh.
. "$(dirname "$0")/xdp_ns.sh"

# lib.sh looks for the CLI beside selftests/; this test is one level down.
: "${VIPLB:=$(cd "$(dirname "$0")/../.." && pwd -P)/user/viplb/viplb}"
. "$(dirname "$0")/../lib.sh"

require_root
require_cmd ip socat cmp jq ethtool
xdp_ns_check

VIP=192.0.2.10
NFLOWS=4
SIZE_KB=256

ns_create C xc
ns_create D xd
ns_create B1 xb1
ns_create B2 xb2

# v ARGS...: viplb in the director's netns; a failure is a failed check.
v()
{
	viplb_in "$D" "$@"
}

xdp_topo "$C" "$D" "$B1" "$B2" $VIP || bail "veth topology"

pids=""
for b in "$B1" "$B2"; do
	ip netns exec "$b" socat TCP-LISTEN:80,bind=$VIP,reuseaddr,fork \
		EXEC:cat >/dev/null 2>&1 &
	pids="$pids $!"
done
defer "kill $pids"

head -c $((SIZE_KB * 1024)) /dev/urandom >"$VIPLB_TMP/in"

# transfer SPORT: send the file to the VIP from SPORT and get its echo.
transfer()
{
	rm -f "$VIPLB_TMP/out"
	ip netns exec "$C" timeout 20 socat -t 5 - \
		"TCP:$VIP:80,sourceport=$1,connect-timeout=5" \
		<"$VIPLB_TMP/in" >"$VIPLB_TMP/out" 2>"$VIPLB_TMP/err" &&
		cmp -s "$VIPLB_TMP/in" "$VIPLB_TMP/out"
}

wait_listen()
{
	for b in "$B1" "$B2"; do
		t=0
		until ip netns exec "$b" ss -ltn | grep -q "$VIP:80"; do
			t=$((t + 1))
			[ $t -gt 50 ] && return 1
			sleep 0.1
		done
	done
}
wait_listen || bail "socat servers did not start"

# xstat NAME: a global XDP counter of the director.
xstat()
{
	"$VIPLB" -n "$D" -j xdp stats | jq -r ".counters.$1"
}

run_mode()
{
	mode=$1
	# Source ports of this round (the last round's are in TIME_WAIT).
	base=$2
	for l in d0 d1 d2; do
		v xdp attach $l mode "$mode" || return
		defer "$VIPLB -n $D xdp detach $l"
	done
	got=$("$VIPLB" -n "$D" -j xdp show | jq -r '[.devices[].mode] | unique | join(",")')
	if [ "$got" = "$mode" ]; then
		pass "$mode: attached to d0 d1 d2"
	else
		fail "$mode: attached to d0 d1 d2" "modes: $got"
	fi
	v service add tcp $VIP:80 mode dr &&
	v backend add tcp $VIP:80 198.51.100.2 &&
	v backend add tcp $VIP:80 198.51.100.18 || return

	ok=0
	for i in $(seq 1 $NFLOWS); do
		sport=$((base + i))
		if transfer $sport; then
			ok=$((ok + 1))
		else
			log "flow from port $sport: $(cat "$VIPLB_TMP/err")"
		fi
	done
	if [ $ok -eq $NFLOWS ]; then
		pass "$mode: $NFLOWS TCP transfers of $SIZE_KB KiB intact through XDP"
	else
		fail "$mode: $NFLOWS TCP transfers of $SIZE_KB KiB intact through XDP" \
			"$ok of $NFLOWS completed intact"
	fi

	# At least one full-size packet per 1448 bytes, all redirected.
	min=$((NFLOWS * SIZE_KB * 1024 / 1448))
	redir=$(xstat redirect)
	svc=$("$VIPLB" -n "$D" -j xdp stats | jq '.services[0].stats.pkts_in')
	if [ "$redir" -ge $min ] && [ "$svc" -ge $min ] &&
	   [ "$redir" -eq "$svc" ]; then
		pass "$mode: XDP redirected every packet of the flows ($redir)"
	else
		fail "$mode: XDP redirected every packet of the flows" \
			"redirect $redir, service pkts $svc, want >= $min"
	fi
	miss=$(xstat lru_miss)
	if [ "$miss" -eq $NFLOWS ] && [ "$(xstat lru_hit)" -gt 0 ]; then
		pass "$mode: one flow-table miss per flow ($miss)"
	else
		fail "$mode: one flow-table miss per flow" \
			"lru_miss $miss lru_hit $(xstat lru_hit)"
	fi
	bad=0
	for c in fib_no_neigh fib_fwd_disabled fib_unreachable pass_no_tx_port \
	    pass_no_backend error aborted; do
		[ "$(xstat $c)" -eq 0 ] || bad="$bad $c=$(xstat $c)"
	done
	if [ "$bad" = 0 ]; then
		pass "$mode: no FIB failure, error or abort"
	else
		fail "$mode: no FIB failure, error or abort" "$bad"
	fi

	# The backend each flow went to is the one xdp lookup names.
	n1=$("$VIPLB" -n "$D" -j xdp stats |
		jq '.services[0].backends[] | select(.addr == "198.51.100.2") | .stats.conns')
	n2=$("$VIPLB" -n "$D" -j xdp stats |
		jq '.services[0].backends[] | select(.addr == "198.51.100.18") | .stats.conns')
	l1=0
	l2=0
	for i in $(seq 1 $NFLOWS); do
		be=$("$VIPLB" -n "$D" -j xdp lookup tcp $VIP:80 \
			from 203.0.113.2:$((base + i)) | jq -r '.pin + " " + .backend.addr')
		case $be in
		"flow 198.51.100.2") l1=$((l1 + 1)) ;;
		"flow 198.51.100.18") l2=$((l2 + 1)) ;;
		esac
	done
	if [ "$l1" -eq "$n1" ] && [ "$l2" -eq "$n2" ] &&
	   [ $((l1 + l2)) -eq $NFLOWS ]; then
		pass "$mode: xdp lookup names the backends that got the flows ($l1+$l2)"
	else
		fail "$mode: xdp lookup names the backends that got the flows" \
			"lookup $l1+$l2, counters $n1+$n2"
	fi

	# Without the module, viplb show reads the pinned maps.
	if "$VIPLB" -n "$D" show | grep -q "backend 198.51.100.18:80 weight 1"; then
		pass "$mode: viplb show reads the XDP maps"
	else
		fail "$mode: viplb show reads the XDP maps" "$("$VIPLB" -n "$D" show 2>&1)"
	fi
	# ... and save too: what it writes restores to the same maps.
	if "$VIPLB" -n "$D" save >"$VIPLB_TMP/save1" &&
		grep -q "^backend add tcp $VIP:80 198.51.100.18:80 weight 1\$" \
			"$VIPLB_TMP/save1" &&
		"$VIPLB" -n "$D" restore "$VIPLB_TMP/save1" &&
		"$VIPLB" -n "$D" save >"$VIPLB_TMP/save2" &&
		cmp -s "$VIPLB_TMP/save1" "$VIPLB_TMP/save2"; then
		pass "$mode: viplb save reads the XDP maps; save | restore | save is identical"
	else
		fail "$mode: viplb save reads the XDP maps; save | restore | save is identical" \
			"$(cat "$VIPLB_TMP/save1" "$VIPLB_TMP/save2" 2>&1 | head -20)"
	fi

	for l in d0 d1 d2; do
		v xdp detach $l
	done
	if "$VIPLB" -n "$D" -j xdp show | jq -e '.devices == [] and .pinned == null' >/dev/null; then
		pass "$mode: detached, pins removed"
	else
		fail "$mode: detached, pins removed" "$("$VIPLB" -n "$D" xdp show 2>&1)"
	fi
}

if lsmod 2>/dev/null | grep -q '^viplb '; then
	skip_all "the viplb module is loaded: this test is for XDP alone"
fi

run_mode generic 41000
run_mode native 42000

viplb_finish
