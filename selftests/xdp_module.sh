#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The module and the XDP fast path together (runs in the VM):
#
#   1. one CLI, both datapaths: service/backend commands reach the module
#      and the pinned XDP maps alike;
#   2. cross-datapath agreement: for 10,000 random flows over several
#      services (maglev and sh, mixed weights, table sizes, IPv4 and IPv6,
#      dr and tun), "viplb service lookup" (the module), "viplb xdp
#      lookup" (the XDP program on a synthesized packet) and "viplb -d nft
#      service lookup" (nf_tables' jhash, in a netns of its own with the
#      same services in nat mode) name the same backend, before and after
#      a backend is removed and a weight changes.  That the nf_tables
#      lookup is where nf_tables' rules send a flow is checked with real
#      connections by selftests/host/nft_services_test.sh;
#   3. tun end to end: TCP transfers through an IPIP service served at XDP
#      (the module sees none of their packets), in generic and native mode;
#   4. the module goes (rmmod) with XDP attached: viplbd has nf_tables
#      serve the nat service the maps hold, and a connection goes through.
#
#   client $C                 director $D                  real servers
#   c0 203.0.113.2/24 ------- d0 203.0.113.1/24   (XDP)
#                             d1 198.51.100.1/28  -------- eth0 of $B1 .2
#                             d2 198.51.100.17/28 -------- eth0 of $B2 .18
#   real servers: lo 192.0.2.20/32 (the VIP), tunl0 up, default via $D
#   director: a route to the VIP (dev d1), forwarding on

. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip socat cmp jq ethtool python3
grep -q ' /sys/fs/bpf bpf ' /proc/mounts || skip_all "no bpffs on /sys/fs/bpf"
modprobe ipip 2>/dev/null || skip_all "no ipip module"
mod_fresh

VIP=192.0.2.20
NFLOWS=4
SIZE_KB=128
NLOOKUPS=${VIPLB_XDP_LOOKUPS:-10000}

ns_create C xc
ns_create D xd
ns_create B1 xb1
ns_create B2 xb2
ns_create N xn

# v ARGS...: viplb in the director's netns; a failure is a failed check.
v()
{
	viplb_in "$D" "$@"
}

# xdp_topo, then: the VIP is routed on (not the director's own), so that
# the packets XDP passes up reach the module at FORWARD; tunl0 up in the
# backends; the director knows the backends' MACs.
topo()
{
	xdp_topo "$C" "$D" "$B1" "$B2" $VIP || return 1
	ip -n "$D" route add $VIP/32 dev d1
	for b in "$B1" "$B2"; do
		ip -n "$b" link set tunl0 up
		ip netns exec "$b" sh -c \
			'echo 0 >/proc/sys/net/ipv4/conf/tunl0/rp_filter'
	done
	ip netns exec "$D" ping -c1 -W2 198.51.100.2 >/dev/null &&
	ip netns exec "$D" ping -c1 -W2 198.51.100.18 >/dev/null
}

topo || bail "veth topology"

# ------------------------------------------------- one CLI, two paths ---

for l in d0 d1 d2; do
	defer "$VIPLB -n $D xdp detach $l"
done
v xdp attach d0 mode generic && v xdp attach d1 mode generic &&
	v xdp attach d2 mode generic || bail "xdp attach"

# Services: the tun one carries traffic; the others are for agreement.
cat >"$VIPLB_TMP/config" <<EOF
service add tcp $VIP:80 mode tun
backend add tcp $VIP:80 198.51.100.2
backend add tcp $VIP:80 198.51.100.18
service add udp 192.0.2.30:53 mode dr table-size 251
backend add udp 192.0.2.30:53 198.51.100.2 weight 3
backend add udp 192.0.2.30:53 198.51.100.18 weight 1
backend add udp 192.0.2.30:53 198.51.100.5 weight 7
service add tcp 192.0.2.31:0 mode tun sched sh table-size 1009
backend add tcp 192.0.2.31:0 198.51.100.2
backend add tcp 192.0.2.31:0 198.51.100.9 weight 2
service add tcp [2001:db8:a::31]:443 mode dr
backend add tcp [2001:db8:a::31]:443 2001:db8:b::2 weight 10
backend add tcp [2001:db8:a::31]:443 2001:db8:b::18 weight 5
backend add tcp [2001:db8:a::31]:443 [2001:db8:b::7]:8443 weight 1
backend add tcp [2001:db8:a::31]:443 2001:db8:b::3 weight 0
service add udp [2001:db8:a::32]:53 mode tun sched maglev
backend add udp [2001:db8:a::32]:53 2001:db8:b::2
backend add udp [2001:db8:a::32]:53 2001:db8:b::12 weight 4
service add tcp 192.0.2.40:80 mode nat
backend add tcp 192.0.2.40:80 198.51.100.2
EOF
check_ok "config through the CLI: module and XDP" \
	"$VIPLB" -n "$D" -b "$VIPLB_TMP/config"
# The same services on nf_tables, which serves nat only.
sed 's/ mode dr/ mode nat/; s/ mode tun/ mode nat/' "$VIPLB_TMP/config" \
	>"$VIPLB_TMP/config.nft"
check_ok "the same services on nf_tables (-d nft, another netns)" \
	"$VIPLB" -n "$N" -d nft restore "$VIPLB_TMP/config.nft"

# The XDP maps hold what the module holds.
svc_filter='[.[] | {proto, vip, port, sched, mode, table_size,
	backends: [.backends[] | {addr, port, weight}] | sort_by(.addr, .port)}]
	| sort_by(.proto, .vip, .port)'
"$VIPLB" -n "$D" -j show | jq -S "$svc_filter" >"$VIPLB_TMP/mod.json"
"$VIPLB" -n "$D" -j xdp stats | jq -S ".services | $svc_filter" \
	>"$VIPLB_TMP/xdp.json"
if cmp -s "$VIPLB_TMP/mod.json" "$VIPLB_TMP/xdp.json"; then
	pass "XDP maps mirror the module's services"
else
	fail "XDP maps mirror the module's services" \
		"$(diff "$VIPLB_TMP/mod.json" "$VIPLB_TMP/xdp.json" | head -20)"
fi

# ------------------------------------------------------- agreement ---

# agree WHEN: NLOOKUPS random flows, module, XDP and nf_tables lookups
# compared.
agree()
{
	python3 - "$NLOOKUPS" "$VIPLB_TMP" <<'EOF'
import random, sys
n, tmp = int(sys.argv[1]), sys.argv[2]
rnd = random.Random(n)
svcs = [("udp", "192.0.2.30:53", 4, None), ("tcp", "192.0.2.31:0", 4, True),
        ("tcp", "[2001:db8:a::31]:443", 6, None),
        ("udp", "[2001:db8:a::32]:53", 6, None)]
with open(tmp + "/mod.batch", "w") as m, open(tmp + "/xdp.batch", "w") as x:
    for i in range(n):
        proto, vp, fam, any_port = svcs[i % len(svcs)]
        if fam == 4:
            src = "203.0.%d.%d:%d" % (rnd.randrange(256), rnd.randrange(256),
                                      rnd.randrange(1, 65536))
        else:
            src = "[2001:db8:c:%x::%x]:%d" % (rnd.randrange(65536),
                                             rnd.randrange(1, 65536),
                                             rnd.randrange(1, 65536))
        tail = " dport %d" % rnd.randrange(1, 65536) if any_port else ""
        line = "lookup %s %s from %s%s\n" % (proto, vp, src, tail)
        m.write("service " + line)
        x.write("xdp " + line)
EOF
	"$VIPLB" -n "$D" -j -b "$VIPLB_TMP/mod.batch" |
		jq -c '[.backend.addr, .backend.port]' >"$VIPLB_TMP/mod.out"
	"$VIPLB" -n "$D" -j -b "$VIPLB_TMP/xdp.batch" |
		jq -c '[.backend.addr, .backend.port]' >"$VIPLB_TMP/xdp.out"
	"$VIPLB" -n "$N" -d nft -j -b "$VIPLB_TMP/mod.batch" |
		jq -c '[.backend.addr, .backend.port]' >"$VIPLB_TMP/nft.out"
	total=$(wc -l <"$VIPLB_TMP/mod.out")
	same=$(paste -d' ' "$VIPLB_TMP/mod.out" "$VIPLB_TMP/xdp.out" \
		"$VIPLB_TMP/nft.out" | awk '$1 == $2 && $1 == $3' | wc -l)
	if [ "$total" -eq "$NLOOKUPS" ] && [ "$same" -eq "$total" ]; then
		pass "$1: module, XDP and nf_tables agree on $same of $NLOOKUPS flows"
	else
		fail "$1: module, XDP and nf_tables agree on every flow" \
			"$same of $total agree ($NLOOKUPS asked)" \
			"$(paste -d' ' "$VIPLB_TMP/mod.out" "$VIPLB_TMP/xdp.out" \
				"$VIPLB_TMP/nft.out" |
				awk '$1 != $2 || $1 != $3' | head -5)"
	fi
}

# both ARGS...: a change in the director and in the nf_tables netns.
both()
{
	v "$@" && "$VIPLB" -n "$N" -d nft "$@"
}

agree "before changes"
both backend del udp 192.0.2.30:53 198.51.100.18
both backend del tcp [2001:db8:a::31]:443 2001:db8:b::18
both backend set tcp 192.0.2.31:0 198.51.100.9 weight 5
agree "after backend del and set"

# --------------------------------------------------- tun end to end ---

pids=""
for b in "$B1" "$B2"; do
	ip netns exec "$b" socat TCP-LISTEN:80,bind=$VIP,reuseaddr,fork \
		EXEC:cat >/dev/null 2>&1 &
	pids="$pids $!"
done
defer "kill $pids"
head -c $((SIZE_KB * 1024)) /dev/urandom >"$VIPLB_TMP/in"
sleep 1

transfer()
{
	rm -f "$VIPLB_TMP/out"
	ip netns exec "$C" timeout 30 socat -t 5 - \
		"TCP:$VIP:80,sourceport=$1,connect-timeout=10" \
		<"$VIPLB_TMP/in" >"$VIPLB_TMP/out" 2>"$VIPLB_TMP/err" &&
		cmp -s "$VIPLB_TMP/in" "$VIPLB_TMP/out"
}

xstat()
{
	"$VIPLB" -n "$D" -j xdp stats | jq -r ".counters.$1"
}

module_pkts()
{
	"$VIPLB" -n "$D" -j stats tcp $VIP:80 | jq '.[0].stats.pkts_in'
}

tun_round()
{
	mode=$1 base=$2
	if [ "$mode" != generic ]; then
		for l in d0 d1 d2; do
			v xdp detach $l
		done
		for l in d0 d1 d2; do
			v xdp attach $l mode "$mode"
		done
	fi
	r0=$(xstat redirect)
	f0=$(xstat fib_frag_needed)
	m0=$(module_pkts)
	ok=0
	for i in $(seq 1 $NFLOWS); do
		if transfer $((base + i)); then
			ok=$((ok + 1))
		else
			log "flow $((base + i)): $(cat "$VIPLB_TMP/err")"
		fi
	done
	if [ $ok -eq $NFLOWS ]; then
		pass "tun $mode: $NFLOWS TCP transfers intact through IPIP at XDP"
	else
		fail "tun $mode: $NFLOWS TCP transfers intact through IPIP at XDP" \
			"$ok of $NFLOWS"
	fi
	# Until the client learns the path MTU, a full-size packet does not
	# fit in IPIP: XDP passes it and the module answers "fragmentation
	# needed".  Those are the only packets the module may see.
	redir=$(($(xstat redirect) - r0))
	frag=$(($(xstat fib_frag_needed) - f0))
	mod=$(($(module_pkts) - m0))
	min=$((NFLOWS * SIZE_KB * 1024 / 1448))
	if [ "$redir" -ge "$min" ] && [ "$mod" -eq "$frag" ]; then
		pass "tun $mode: XDP forwarded $redir packets, the module only $mod too big for IPIP"
	else
		fail "tun $mode: XDP forwarded the packets, the module only those too big for IPIP" \
			"XDP redirect $redir (want >= $min), module pkts_in $mod, frag-needed passes $frag" \
			"$("$VIPLB" -n "$D" xdp stats | head -2)"
	fi
}

tun_round generic 41000
tun_round native 42000

# ------------------------------------------------ the module goes ---

# With XDP attached, rmmod leaves the maps' nat service (192.0.2.40:80,
# backend $B1's port 80) to nf_tables, which only a viplb command or
# viplbd writes: viplbd (syncing every second) does at its first sync
# without the module (the VM keeps the module from loading on demand).
VIPLBD=${VIPLBD:-$VIPLB_ROOT/user/viplbd/viplbd}
NATVIP=192.0.2.40
ip netns exec "$B1" socat TCP-LISTEN:80,bind=198.51.100.2,reuseaddr,fork EXEC:cat &
defer "kill $!"
echo "health tcp $NATVIP:80 check tcp interval 1s timeout 500ms rise 1 fall 2" \
	>"$VIPLB_TMP/viplbd.conf"
ha_daemon vdpid "$D" "$VIPLB_TMP/viplbd.log" "$VIPLBD" \
	-c "$VIPLB_TMP/viplbd.conf" -s "$VIPLB_TMP/viplbd.sock" -r 1

# nat_echo: a line through the nat VIP comes back.
nat_echo()
{
	[ "$(echo natline | ip netns exec "$C" timeout 5 \
		socat -T 2 - TCP:$NATVIP:80,connect-timeout=2 2>/dev/null)" = natline ]
}

# nft_serves_nat: nf_tables holds the nat service, and viplb says so.
nft_serves_nat()
{
	ip netns exec "$D" nft list table inet viplb >/dev/null 2>&1 &&
		"$VIPLB" -n "$D" -j show tcp $NATVIP:80 2>/dev/null |
		jq -e '.[0].served == "nft"' >/dev/null
}

check_ok "viplbd up, its backend checked up" \
	ha_wait 20 grep -q -- "-> up" "$VIPLB_TMP/viplbd.log"
check_ok "nat through the module: a line echoed via $NATVIP:80" nat_echo
check_ok "rmmod viplb, XDP attached, viplbd running" mod_unload
ha_t0=$(lb_ms)
if ha_wait 10 nft_serves_nat; then
	pass "viplbd: nf_tables serves the nat service $ha_ms ms after rmmod"
else
	fail "viplbd: nf_tables serves the nat service within 10 s of rmmod" \
		"$("$VIPLB" -n "$D" show 2>&1 | head -5)" \
		"$(tail -5 "$VIPLB_TMP/viplbd.log")"
fi
check_ok "nat through nf_tables: a line echoed via $NATVIP:80" nat_echo
check_grep "viplbd logged it" "nf_tables serves the nat services" \
	"$(cat "$VIPLB_TMP/viplbd.log")"
if ha_stop "$vdpid"; then
	pass "viplbd stops on SIGTERM"
else
	fail "viplbd stops on SIGTERM" "$(tail -3 "$VIPLB_TMP/viplbd.log")" \
		"state $(grep State /proc/"$vdpid"/status 2>/dev/null), wchan $(cat /proc/"$vdpid"/wchan 2>/dev/null)" \
		"$(cat /proc/"$vdpid"/stack 2>/dev/null | head -8)"
fi

viplb_finish
