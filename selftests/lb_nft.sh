#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# viplb on nf_tables in the VM (issue 13):
#
#   1. The switch: the same configuration served by the module, then by
#      nf_tables (`viplb save | viplb -d nft restore -`, then rmmod), then
#      by the module again (`viplb save` of nf_tables, insmod, `viplb -d
#      module restore`), with the same real connections each time:
#
#	tcp 192.0.2.10:80          rr      b1 b2 b3            :8081
#	tcp [2001:db8:f::10]:80    wrr     b1:1 b2:2 b3:3      :8081
#	udp [2001:db8:f::11]:53    rr      b1:0 (drained) b2 b3 :8054
#	tcp 192.0.2.12:80          maglev  251 slots, b1:1 b2:2 b3:0 :8081
#	udp [2001:db8:f::12]:53    maglev  automatic size (509)  :8054
#	udp 192.0.2.13:53          sh      b1 b2 b3            :8054
#	tcp [2001:db8:f::13]:80    sh      b1 b2 b3            :8081
#	tcp 192.0.2.14:0           maglev  251 slots, port 0 (to :8081)
#
#      Each flow has a fixed source address and port.  The hash
#      schedulers (maglev, sh) must send every flow to the same backend
#      under every datapath; rr and wrr must give the same shares (exact
#      over whole cycles); the drained backends get nothing.  The
#      director's conntrack table is flushed before each round, so that
#      every flow is scheduled anew.
#   2. host/nft_services_test.sh with viplb.ko absent: the nat services
#      of the host's test on Debian's 6.1 kernel, the datapath chosen by
#      viplb itself (the VM blacklists viplb's aliases, so the module is
#      neither loaded nor loadable).  Its checks are nested under "# ";
#      one result here.
#
# The topology is lib.sh's lb_topo (client, director, b1..b3), with more
# client addresses for sh; the real servers are lb_servers' (8081 and 8054
# answer with the server's name).

. "$(dirname "$0")/lib.sh"

require_root
lb_need_cmd conntrack jq python3 nft

T=$VIPLB_TMP

# ---- 1. the switch ------------------------------------------------------
dmesg_mark
mod_fresh
lb_topo
lb_servers
C=$LB_C D=$LB_D

# More client addresses: sh hashes the source address only.
for i in $(seq 3 18); do
	echo "addr add 203.0.113.$i/24 dev eth0"
	echo "addr add 2001:db8:c::$i/64 dev eth0 nodad"
done | ip -n "$C" -b - || bail "client addresses"

# PROTO VIP:PORT SCHED[,OPTION,VALUE] FAMILY:BACKEND-PORT WEIGHTS(b1 b2 b3)
while read -r proto vp sched bp w1 w2 w3; do
	echo "service add $proto $vp sched ${sched//,/ }"
	i=0
	for w in $w1 $w2 $w3; do
		i=$((i + 1))
		if [ "${bp%%:*}" = 6 ]; then
			be=[$(lb_be6 $i)]
		else
			be=$(lb_be4 $i)
		fi
		echo "backend add $proto $vp $be:${bp#*:} weight $w"
	done
done >"$T/config" <<'EOT'
tcp 192.0.2.10:80 rr 4:8081 1 1 1
tcp [2001:db8:f::10]:80 wrr 6:8081 1 2 3
udp [2001:db8:f::11]:53 rr 6:8054 0 1 1
tcp 192.0.2.12:80 maglev,table-size,251 4:8081 1 2 0
udp [2001:db8:f::12]:53 maglev 6:8054 1 1 1
udp 192.0.2.13:53 sh 4:8054 1 1 1
tcp [2001:db8:f::13]:80 sh,table-size,251 6:8081 1 1 1
tcp 192.0.2.14:0 maglev,table-size,251 4:0 1 1 1
EOT
check_viplb "the module: configure 8 services" -n "$D" -b "$T/config" ||
	bail "cannot configure the module"

# The flows: "NAME PROTO VIP PORT SRC SPORT", NAME the service's.
{
	for p in $(seq 30); do
		echo "rr4 tcp 192.0.2.10 80 203.0.113.2 $((41000 + p))"
		echo "rr6udp udp 2001:db8:f::11 53 2001:db8:c::2 $((41000 + p))"
		echo "p0 tcp 192.0.2.14 8081 203.0.113.2 $((42000 + p))"
	done
	for p in $(seq 60); do
		echo "wrr6 tcp 2001:db8:f::10 80 2001:db8:c::2 $((41000 + p))"
	done
	for p in $(seq 40); do
		echo "mg4 tcp 192.0.2.12 80 203.0.113.2 $((43000 + p))"
		echo "mg6udp udp 2001:db8:f::12 53 2001:db8:c::$((2 + p % 17)) $((43000 + p))"
	done
	for i in $(seq 2 18); do
		echo "sh4udp udp 192.0.2.13 53 203.0.113.$i $((44000 + i))"
		echo "sh6 tcp 2001:db8:f::13 80 2001:db8:c::$i $((44000 + i))"
	done
} >"$T/flows"
nflows=$(wc -l <"$T/flows")

# The client: one flow per line of the file, 8 at a time; prints
# "NAME SPORT ANSWER" per flow, ANSWER the server's name or ERROR:...
# TCP: the server sends its name and closes first (no TIME_WAIT on the
# client, whose ports come again); UDP: one datagram, answered with the
# name (twice more if lost).
cat >"$T/client.py" <<'EOF'
import socket, sys
from concurrent.futures import ThreadPoolExecutor

def flow(line):
    name, proto, vip, port, src, sport = line.split()
    fam = socket.AF_INET6 if ":" in vip else socket.AF_INET
    typ = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(fam, typ)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((src, int(sport)))
        s.settimeout(10 if proto == "tcp" else 2)
        s.connect((vip, int(port)))
        if proto == "udp":
            for _ in range(3):
                s.send(b"?")
                try:
                    data = s.recv(100)
                    break
                except socket.timeout:
                    data = b""
        else:
            data = b""
            while True:
                d = s.recv(100)
                if not d:
                    break
                data += d
        words = data.decode(errors="replace").split()
        answer = words[0] if words else "EMPTY"
    except OSError as e:
        answer = "ERROR:" + str(e).replace(" ", "_")
    finally:
        s.close()
    return "%s %s %s" % (name, sport, answer)

with open(sys.argv[1]) as f:
    lines = [l for l in f if l.strip()]
with ThreadPoolExecutor(max_workers=8) as pool:
    for r in pool.map(flow, lines):
        print(r)
EOF

# round WHO: flush the director's conntrack table, then every flow;
# their answers in $T/WHO.
round()
{
	ip netns exec "$D" conntrack -F >/dev/null 2>&1
	log "$1: $nflows flows (t=${SECONDS}s)"
	ip netns exec "$C" python3 -S "$T/client.py" "$T/flows" >"$T/$1"
}

# picks WHO NAME: the answers of service NAME's flows, "SPORT ANSWER".
picks()
{
	awk -v n="$2" '$1 == n { print $2, $3 }' "$T/$1"
}

# shares WHO NAME: "b1 b2 b3 other", NAME's flows per backend.
shares()
{
	picks "$1" "$2" | awk '{ c[$2]++ } END {
		printf "%d %d %d %d\n", c["b1"], c["b2"], c["b3"],
			NR - c["b1"] - c["b2"] - c["b3"] }'
}

# served WHAT: every service is served by WHAT, by viplb's own choice.
served()
{
	check_eq "viplb -j show: the 8 services served by $1" \
		"$("$VIPLB" -n "$D" -j show | jq -r '[.[].served] | unique | join(" ")') $(
			"$VIPLB" -n "$D" -j show | jq length)" "$1 8"
}

# same WHO: WHO's answers against the module's first round.
same()
{
	for s in mg4 mg6udp sh4udp sh6 p0; do
		if [ "$(picks "$1" $s)" = "$(picks module $s)" ]; then
			pass "$1: $s, each of its $(picks module $s | wc -l) flows on the module's backend"
		else
			fail "$1: $s, each flow on the module's backend" \
				"$(diff <(picks module $s) <(picks "$1" $s) | head -n 8)"
		fi
	done
	for s in rr4 rr6udp wrr6; do
		check_eq "$1: $s, the module's shares" "$(shares "$1" $s)" \
			"$(shares module $s)"
	done
}

served module
round module
check_eq "module: every flow answered" \
	"$(grep -c ' b[1-3]$' "$T/module")" "$nflows" ||
	log "$(grep -v ' b[1-3]$' "$T/module" | head -n 3)"
check_eq "module: rr, 30 flows, 10 each" "$(shares module rr4)" "10 10 10 0"
check_eq "module: wrr 1:2:3, 60 flows, 10 20 30" "$(shares module wrr6)" \
	"10 20 30 0"
check_eq "module: udp rr with b1 drained, 30 flows, 0 15 15" \
	"$(shares module rr6udp)" "0 15 15 0"
read -r n1 n2 n3 nx <<<"$(shares module mg4)"
check_eq "module: maglev 1:2:0, 40 flows, none to the drained b3" \
	"$n3 $nx $((n1 > 0 && n2 > 0))" "0 0 1"
for s in mg6udp sh4udp sh6 p0; do
	read -r n1 n2 n3 nx <<<"$(shares module $s)"
	check_eq "module: $s reaches all 3 backends ($n1 $n2 $n3)" \
		"$((n1 > 0 && n2 > 0 && n3 > 0)) $nx" "1 0"
done

# module -> nf_tables
"$VIPLB" -n "$D" save >"$T/save.module"
check_ok "viplb save | viplb -d nft restore -" \
	sh -c "'$VIPLB' -n '$D' save | '$VIPLB' -n '$D' -d nft restore -"
"$VIPLB" -n "$D" -d nft save >"$T/save.nft"
check_ok "nf_tables saves the lines the module saved" \
	cmp <(sort "$T/save.module") <(sort "$T/save.nft")
check_ok "rmmod viplb, services configured" mod_unload
served nft
round nft
same nft

# nf_tables -> module
"$VIPLB" -n "$D" save >"$T/save.nft2"
check_ok "insmod viplb.ko" mod_load
check_ok "viplb save of nf_tables | viplb -d module restore -" \
	sh -c "'$VIPLB' -n '$D' -d module restore - <'$T/save.nft2'"
check_ok "viplb -d nft flush: table inet viplb gone" \
	sh -c "'$VIPLB' -n '$D' -d nft flush &&
		! ip netns exec '$D' nft list table inet viplb >/dev/null 2>&1"
"$VIPLB" -n "$D" save >"$T/save.module2"
check_ok "the module saves the lines nf_tables saved" \
	cmp <(sort "$T/save.nft2") <(sort "$T/save.module2")
served module
round module2
same module2

lb_teardown || fail "delete the namespaces"
check_ok "rmmod viplb after deleting the namespaces" mod_unload
log "the switch: done at t=${SECONDS}s"

# ---- 2. the host's nf_tables service tests, the module absent -----------
if mod_loaded; then
	"$VIPLB" flush >/dev/null 2>&1
	mod_unload || bail "rmmod viplb"
fi
t0=$SECONDS
NFT_MAGLEV_FLOWS=30 "$VIPLB_SELFTESTS/host/nft_services_test.sh" \
	>"$T/host.out" 2>&1
rc=$?
sed 's/^/# /' "$T/host.out"
n=$(grep -c '^ok ' "$T/host.out")
if [ "$rc" -eq 0 ] && [ "$n" -gt 0 ]; then
	pass "host/nft_services_test.sh without the module: $n checks in $((SECONDS - t0)) s"
else
	fail "host/nft_services_test.sh without the module (exit $rc)" \
		"$(grep '^not ok' "$T/host.out" | head -n 5)"
fi
check_fail "... and viplb did not load the module" mod_loaded

dmesg_check "no kernel warning"
viplb_finish
