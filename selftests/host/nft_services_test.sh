#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# viplb services on nf_tables (no module, as on this host): nat services
# end to end, TCP and UDP, IPv4 and IPv6, sched rr, wrr, sh and maglev,
# drain, snat, port 0, counters, conntrack's DNAT, backend del with and
# without flush, service lookup against where flows land, the refusals
# (lc, dr without XDP, lookup of rr), atomic
# restore and the save/restore round trip, beside a firewall table.
# Every viplb command runs in the director's netns: the host's own
# ruleset is never touched.  selftests/lb_nft.sh runs it in the VM too,
# on Debian's kernel with viplb.ko unloaded.
#
#   client $C                director $D                 backends $B1..$B3
#   c0 203.0.113.2/24 ---- d0 203.0.113.1/24
#      2001:db8:c::2/64       2001:db8:c::1/64
#                             br0 198.51.100.1/24 ---+-- b0 198.51.100.2 (b1)
#                                 2001:db8:b::1/64   +-- b0 198.51.100.3 (b2)
#                                                    +-- b0 198.51.100.4 (b3)
#                                                    (2001:db8:b::2..4)
#
# VIPs 192.0.2.10 and 2001:db8:f::10 are nowhere: the director DNATs them
# in prerouting.  Each backend runs socat servers: 8080 sends $BLOB, 8081
# says its name (TCP and UDP), 8082 echoes UDP, 8083 says its name then
# echoes (a connection kept open), 8084 says the client's address.
#
# NFT_MAGLEV_FLOWS: how many maglev connections must land where viplb
# service lookup says (default 300; lb_nft.sh, in the TCG VM, where each
# connection forks a socat, asks for 30).

: "${VIPLB:=$(cd "$(dirname "$0")/../.." && pwd -P)/user/viplb/viplb}"
. "$(dirname "$0")/../lib.sh"

require_root
# A missing tool is a failure, not a skip: deps.sh installs them all.
for c in ip nft socat conntrack jq cmp timeout; do
	command -v "$c" >/dev/null 2>&1 || bail "$c not found (scripts/deps.sh)"
done
[ -e /sys/module/viplb ] && skip_all "the module is loaded: this test is for nf_tables"

T=$VIPLB_TMP
NFLOWS=${NFT_MAGLEV_FLOWS:-300}
BLOB=$T/blob
head -c 1048576 /dev/urandom >"$BLOB"

ns_create C nftc
ns_create D nftd
ns_create B1 nftb1
ns_create B2 nftb2
ns_create B3 nftb3
defer "ip netns pids $C | xargs -r kill"

ip -n "$C" link add c0 type veth peer name d0 netns "$D"
ip -n "$C" addr add 203.0.113.2/24 dev c0
ip -n "$C" addr add 203.0.113.3/24 dev c0
ip -n "$C" addr add 2001:db8:c::2/64 dev c0 nodad
ip -n "$C" link set c0 up
ip -n "$C" route add default via 203.0.113.1
ip -n "$C" -6 route add default via 2001:db8:c::1
ip -n "$D" addr add 203.0.113.1/24 dev d0
ip -n "$D" addr add 2001:db8:c::1/64 dev d0 nodad
ip -n "$D" link set d0 up
ip -n "$D" link add br0 type bridge
ip -n "$D" addr add 198.51.100.1/24 dev br0
ip -n "$D" addr add 2001:db8:b::1/64 dev br0 nodad
ip -n "$D" link set br0 up
ip netns exec "$D" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$D" sysctl -qw net.ipv6.conf.all.forwarding=1
i=0
for B in "$B1" "$B2" "$B3"; do
	i=$((i + 1))
	ip -n "$B" link add b0 type veth peer name d$i netns "$D"
	ip -n "$B" addr add 198.51.100.$((i + 1))/24 dev b0
	ip -n "$B" addr add 2001:db8:b::$((i + 1))/64 dev b0 nodad
	ip -n "$B" link set b0 up
	ip -n "$B" route add default via 198.51.100.1
	ip -n "$B" -6 route add default via 2001:db8:b::1
	ip -n "$D" link set d$i master br0
	ip -n "$D" link set d$i up
	for srv in "TCP6-LISTEN:8080,fork,reuseaddr SYSTEM:'cat $BLOB'" \
		"TCP6-LISTEN:8081,fork,reuseaddr SYSTEM:'echo b$i'" \
		"-T 3 UDP6-LISTEN:8081,fork,reuseaddr SYSTEM:'echo b$i'" \
		"-T 3 UDP6-LISTEN:8082,fork,reuseaddr PIPE" \
		"TCP6-LISTEN:8083,fork,reuseaddr SYSTEM:'echo b$i; cat'" \
		"TCP-LISTEN:8084,fork,reuseaddr SYSTEM:'echo \$SOCAT_PEERADDR'"; do
		eval "ip netns exec $B socat $srv" 2>/dev/null &
	done
	# The servers, and the children they forked: every process in $B.
	defer "ip netns pids $B | xargs -r kill"
done
# The servers listen once socat has bound: wait for the last backend's.
for port in 8080 8081 8083 8084; do
	n=0
	while ! ip netns exec "$B3" ss -Hltn "sport = :$port" | grep -q .; do
		n=$((n + 1))
		[ $n -lt 50 ] || bail "socat servers did not start"
		sleep 0.1
	done
done

v()
{
	"$VIPLB" -n "$D" "$@"
}

# who ADDR PORT [tcp|udp] [SRC]: the name of the backend that answers.
who()
{
	if [ "${3:-tcp}" = udp ]; then
		echo x | ip netns exec "$C" timeout 5 socat -t 0.3 - \
			"UDP:$1:$2${4:+,bind=$4}" 2>/dev/null
	else
		ip netns exec "$C" timeout 5 socat -u \
			"TCP:$1:$2${4:+,bind=$4}" - 2>/dev/null
	fi
}

# answers PROTO ADDR PORT N [SPORT]: N connections (UDP: a datagram each)
# one after the other from one python3 in $C, from SPORT, SPORT + 1, ...
# (default: any port), each answer's first line on a line.  One process
# for all: a process per connection is slow in the VM (lb_nft.sh).
answers()
{
	ip netns exec "$C" python3 -S -c '
import socket, sys
proto, addr, port, n = sys.argv[1], sys.argv[2].strip("[]"), int(sys.argv[3]), int(sys.argv[4])
sport = int(sys.argv[5]) if len(sys.argv) > 5 else 0
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
for i in range(n):
    s = socket.socket(fam, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
    data = b""
    try:
        s.settimeout(5 if proto == "tcp" else 1)
        if sport:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("", sport + i))
        s.connect((addr, port))
        if proto == "udp":
            s.send(b"x\n")
            data = s.recv(100)
        else:
            while True:
                d = s.recv(100)
                if not d:
                    break
                data += d
    except OSError:
        pass
    s.close()
    print(data.decode(errors="replace").split("\n")[0], flush=True)
' "$@" 2>/dev/null
}

# count FILE: how many lines of FILE name each backend, as "b1 b2 b3".
count()
{
	echo "$(grep -cx b1 "$1") $(grep -cx b2 "$1") $(grep -cx b3 "$1")"
}

# shares N ADDR PORT [PROTO]: how many of N connections each backend got,
# as "b1 b2 b3".
shares()
{
	answers "${4:-tcp}" "$2" "$3" "$1" >"$T/who"
	count "$T/who"
}

# transfer ADDR PORT: $BLOB through the VIP, byte for byte.
transfer()
{
	ip netns exec "$C" timeout 10 socat -u "TCP:$1:$2" - >"$T/got" 2>/dev/null &&
		cmp -s "$BLOB" "$T/got"
}

# check_viplb DESC ARGS...: lib.sh's, in the director.
cv()
{
	vl_d=$1
	shift
	check_viplb "$vl_d" -n "$D" "$@"
}

# --- the datapath, chosen without the module, and forced ---------------
cv "service add (no module: nf_tables)" service add tcp 192.0.2.10:80 sched rr
check_eq "-j show says served nft" \
	"$(v -j show | jq -r '.[0].served')" nft
check_ok "table inet viplb exists" ip netns exec "$D" nft list table inet viplb
vrun -n "$D" -d module show
check_eq "-d module without the module fails" "$rc" 1
vrun -n "$D" -d bogus show
check_grep "-d bogus is refused, quoted" "unknown datapath .bogus." "$err"
check_viplb "-d nft show" -n "$D" -d nft show

# --- rr, TCP, IPv4: transfers and exact shares ----------------------------
for i in 2 3 4; do
	v backend add tcp 192.0.2.10:80 198.51.100.$i:8081
done
check_eq "rr: 30 connections, 10 each" "$(shares 30 192.0.2.10 80)" "10 10 10"
cv "service add tcp 192.0.2.10:8080" service add tcp 192.0.2.10:8080 sched rr
for i in 2 3 4; do
	v backend add tcp 192.0.2.10:8080 198.51.100.$i
done
ok=0
for _ in 1 2 3; do
	transfer 192.0.2.10 8080 && ok=$((ok + 1))
done
check_eq "rr: 3 transfers of 1 MiB, cmp equal" "$ok" 3
check_grep "conntrack -L shows the DNAT to a backend" \
	"dst=192.0.2.10 .*dport=8080 .*src=198.51.100.[234] .*sport=8080" \
	"$(ip netns exec "$D" conntrack -L -p tcp 2>/dev/null)"

# --- counters ------------------------------------------------------------
st=$(v -j stats tcp 192.0.2.10:8080)
check_eq "stats: 3 MiB out of the transfer service, in its backends too" \
	"$(echo "$st" | jq '[.[0].stats.bytes_out >= 3145728,
		.[0].stats.pkts_in > 0,
		([.[0].backends[].stats.bytes_out] | add) == .[0].stats.bytes_out,
		([.[0].backends[].stats.pkts_in] | add) == .[0].stats.pkts_in] | all')" true
st=$(v -j stats tcp 192.0.2.10:80)
check_eq "stats: service conns" "$(echo "$st" | jq '.[0].stats.conns')" 30
check_eq "stats: backend conns" \
	"$(echo "$st" | jq -c '[.[0].backends[].stats.conns]')" "[10,10,10]"
v backend add tcp 192.0.2.10:80 198.51.100.5:8081 weight 0
check_eq "stats: counters kept across a change" \
	"$(v -j stats tcp 192.0.2.10:80 | jq '.[0].stats.conns')" 30
v backend del tcp 192.0.2.10:80 198.51.100.5:8081
cv "stats zero" stats zero tcp 192.0.2.10:80
check_eq "stats zero: zeroed" \
	"$(v -j stats tcp 192.0.2.10:80 | jq '[.[0].stats.conns, .[0].backends[].stats.conns] | add')" 0

# --- wrr: exact shares ---------------------------------------------------
cv "service set sched wrr" service set tcp 192.0.2.10:80 sched wrr
v backend set tcp 192.0.2.10:80 198.51.100.2:8081 weight 1
v backend set tcp 192.0.2.10:80 198.51.100.3:8081 weight 2
v backend set tcp 192.0.2.10:80 198.51.100.4:8081 weight 3
check_eq "wrr 1:2:3: 60 connections, 10 20 30" \
	"$(shares 60 192.0.2.10 80)" "10 20 30"

# --- drain: weight 0 gets nothing new, its connection goes on ------------
v service set tcp 192.0.2.10:80 sched rr
cv "service add tcp 192.0.2.10:83" service add tcp 192.0.2.10:83 sched rr
for i in 2 3 4; do
	v backend add tcp 192.0.2.10:83 198.51.100.$i:8083
done
mkfifo "$T/in"
ip netns exec "$C" socat - TCP:192.0.2.10:83 <"$T/in" >"$T/held" 2>/dev/null &
held=$!
defer "kill $held 2>/dev/null"
exec 3>"$T/in"
n=0
while [ ! -s "$T/held" ] && [ $n -lt 50 ]; do
	sleep 0.1
	n=$((n + 1))
done
b=$(head -n1 "$T/held")
case $b in
b1 | b2 | b3) pass "drain: a connection held open to $b" ;;
*) fail "drain: a connection held open" "got: $b" ;;
esac
ip=198.51.100.$((${b#b} + 1))
cv "drain: backend set weight 0" backend set tcp 192.0.2.10:83 $ip:8083 weight 0
: >"$T/who"
for _ in $(seq 12); do
	ip netns exec "$C" timeout 5 socat -t 1 - TCP:192.0.2.10:83 \
		</dev/null 2>/dev/null | head -n1 >>"$T/who"
done
check_eq "drain: 12 new connections, none to $b" "$(grep -c "$b" "$T/who")" 0
check_eq "drain: 12 new connections answered" "$(grep -c . "$T/who")" 12
echo ping >&3
n=0
while ! grep -qx ping "$T/held" && [ $n -lt 50 ]; do
	sleep 0.1
	n=$((n + 1))
done
check_ok "drain: the held connection still echoes" grep -qx ping "$T/held"
exec 3>&-
kill $held 2>/dev/null

# --- sh: one source, one backend -----------------------------------------
cv "service add sched sh table-size 251" \
	service add tcp 192.0.2.11:80 sched sh table-size 251
for i in 2 3 4; do
	v backend add tcp 192.0.2.11:80 198.51.100.$i:8081
done
s=$(shares 12 192.0.2.11 80)
case $s in
"12 0 0" | "0 12 0" | "0 0 12") pass "sh: 12 connections from one source, one backend ($s)" ;;
*) fail "sh: 12 connections from one source, one backend" "got: $s" ;;
esac

# --- maglev: spread over every backend, TCP and UDP ----------------------
cv "service add sched maglev table-size 251" \
	service add tcp 192.0.2.12:80 sched maglev table-size 251
for i in 2 3 4; do
	v backend add tcp 192.0.2.12:80 198.51.100.$i:8081
done
check_eq "maglev: 251 slots in the maps" \
	"$(ip netns exec "$D" nft list table inet viplb |
		grep -o ' \. 192\.0\.2\.12 \. tcp \. 80 : ' | wc -l)" 251
# The automatic table size: 509 slots for 3 backends.
cv "service add udp maglev (default table size)" \
	service add udp 192.0.2.12:53 sched maglev
for i in 2 3 4; do
	v backend add udp 192.0.2.12:53 198.51.100.$i:8081
done
# be_name ADDR:PORT: the name of the backend at that address.
be_name()
{
	a=${1%:*}
	echo "b$((${a##*.} - 1))"
}
# Where viplb service lookup says each flow goes (one batch), and where
# it goes.
for p in $(seq 40001 $((40000 + NFLOWS))); do
	echo "service lookup tcp 192.0.2.12:80 from 203.0.113.2:$p"
done >"$T/lookup.batch"
v -b "$T/lookup.batch" | while read -r _ want _; do
	be_name "$want"
done >"$T/want"
answers tcp 192.0.2.12 80 "$NFLOWS" 40001 >"$T/who"
ok=$(paste -d' ' "$T/want" "$T/who" | awk '$1 == $2 && $1 ~ /^b[1-3]$/' | wc -l)
check_eq "maglev: $NFLOWS of $NFLOWS flows land where service lookup says" \
	"$ok" "$NFLOWS" ||
	paste -d' ' "$T/want" "$T/who"
s=$(count "$T/who")
check_grep "maglev tcp: the $NFLOWS flows reach all 3 backends ($s)" \
	"^[1-9][0-9]* [1-9][0-9]* [1-9][0-9]*$" "$s"
want=$(v service lookup tcp 192.0.2.11:80 from 203.0.113.2:1 | awk '{ print $2 }')
check_eq "sh: the backend service lookup says" \
	"$(be_name "$want")" "$(who 192.0.2.11 80)"
s=$(shares 24 192.0.2.12 53 udp)
check_grep "maglev udp: 24 flows reach all 3 backends ($s)" \
	"^[1-9][0-9]* [1-9][0-9]* [1-9][0-9]*$" "$s"

# --- UDP echo, IPv4 and IPv6 ----------------------------------------------
v service add udp 192.0.2.10:82 sched rr
v backend add udp 192.0.2.10:82 198.51.100.3:8082
got=$(echo hello-v4 | ip netns exec "$C" timeout 5 socat -t 0.5 - UDP:192.0.2.10:82)
check_eq "udp echo through a v4 VIP" "$got" hello-v4
v service add udp [2001:db8:f::10]:82 sched rr
v backend add udp [2001:db8:f::10]:82 [2001:db8:b::4]:8082
got=$(echo hello-v6 | ip netns exec "$C" timeout 5 socat -t 0.5 - UDP6:[2001:db8:f::10]:82)
check_eq "udp echo through a v6 VIP" "$got" hello-v6

# --- IPv6 TCP: wrr shares and a transfer ---------------------------------
cv "service add v6 wrr" service add tcp [2001:db8:f::10]:80 sched wrr
for i in 2 3 4; do
	v backend add tcp [2001:db8:f::10]:80 [2001:db8:b::$i]:8081 weight $((i - 1))
done
check_eq "v6 wrr 1:2:3: 12 connections, 2 4 6" \
	"$(shares 12 "[2001:db8:f::10]" 80)" "2 4 6"
v service add tcp [2001:db8:f::10]:8080 sched maglev table-size 251
v backend add tcp [2001:db8:f::10]:8080 2001:db8:b::2
check_ok "v6: a 1 MiB transfer, cmp equal" transfer "[2001:db8:f::10]" 8080

# --- snat: the backend sees the director ----------------------------------
v service add tcp 192.0.2.10:84 sched rr
v backend add tcp 192.0.2.10:84 198.51.100.2:8084
check_eq "no snat: the backend sees the client" \
	"$(who 192.0.2.10 84)" 203.0.113.2
cv "service set snat" service set tcp 192.0.2.10:84 snat
check_eq "snat: the backend sees the director" \
	"$(who 192.0.2.10 84)" 198.51.100.1
check_grep "show prints snat" "192.0.2.10:84 .* snat" "$(v show)"

# --- port 0: every port, the destination port kept ------------------------
cv "service add port 0" service add tcp 192.0.2.20:0 sched rr
v backend add tcp 192.0.2.20:0 198.51.100.4:0
check_eq "port 0: :8081 reaches b3's :8081" "$(who 192.0.2.20 8081)" b3
check_eq "port 0: :8084 reaches b3's :8084" "$(who 192.0.2.20 8084)" 203.0.113.2

# --- backend del: without flush its conntrack entries stay, with flush not
v service add udp 192.0.2.10:81 sched rr
v backend add udp 192.0.2.10:81 198.51.100.2:8081
v backend add udp 192.0.2.10:81 198.51.100.3:8081
shares 4 192.0.2.10 81 udp >/dev/null
# ct_count ADDR: conntrack entries of the service DNATed to ADDR.
ct_count()
{
	ip netns exec "$D" conntrack -L -p udp --reply-src "$1" 2>/dev/null |
		grep -c "dst=192.0.2.10 .*dport=81 "
}
check_eq "conntrack: 2 entries to each backend" "$(ct_count 198.51.100.2) $(ct_count 198.51.100.3)" "2 2"
cv "backend del ... flush" backend del udp 192.0.2.10:81 198.51.100.3:8081 flush
check_eq "... deletes its conntrack entries, not the other's" \
	"$(ct_count 198.51.100.2) $(ct_count 198.51.100.3)" "2 0"
cv "backend del without flush" backend del udp 192.0.2.10:81 198.51.100.2:8081
check_eq "... keeps its conntrack entries" "$(ct_count 198.51.100.2)" 2

# --- beside a firewall of the user's: forward drops all but established
# connections and new ones to port 8081
ip netns exec "$D" nft -f - <<-EOT
	table inet fw {
		chain forward {
			type filter hook forward priority filter; policy drop;
			ct state established,related accept
			ct state new tcp dport 8081 accept
		}
	}
EOT
check_eq "a firewall table: a service to an allowed port still works" \
	"$(who 192.0.2.20 8081)" b3
got=$(ip netns exec "$C" timeout 2 socat -u TCP:192.0.2.20:8084 - 2>/dev/null)
check_eq "... and its drop applies to the backend's port after DNAT" "$got" ""
ip netns exec "$D" nft delete table inet fw

# --- no backend of weight > 0: refused as the module refuses --------------
v service add tcp 192.0.2.30:80
check_fail "no backend: the connection is reset" \
	ip netns exec "$C" timeout 5 socat -u TCP:192.0.2.30:80 -

# --- refusals: one line, nothing changed ---------------------------------
ip netns exec "$D" nft list table inet viplb >"$T/before"
vrun -n "$D" service add tcp 192.0.2.40:80 sched lc
check_eq "sched lc is refused" "$rc" 1
check_grep "... naming the datapath, in one line" \
	"^viplb: service add tcp 192.0.2.40:80: sched lc needs the module: nf_tables" "$err"
check_eq "... one line" "$(printf '%s\n' "$err" | wc -l)" 1
vrun -n "$D" service add tcp 192.0.2.40:80 mode dr
check_grep "mode dr without XDP is refused" \
	"^viplb: service add tcp 192.0.2.40:80: mode dr needs the module or XDP" "$err"
vrun -n "$D" service lookup tcp 192.0.2.10:80 from 203.0.113.2:1000
check_grep "service lookup of an rr service is refused on nf_tables" \
	"sched rr on nf_tables follows a counter" "$err"
vrun -n "$D" backend add tcp 192.0.2.10:80 198.51.100.2:8081 weight x
check_grep "a bad weight is quoted" "\`x'" "$err"
ip netns exec "$D" nft list table inet viplb >"$T/after"
check_ok "refusals changed nothing (nft list table)" cmp -s "$T/before" "$T/after"

# --- save | restore | save, and an atomic restore -------------------------
v save >"$T/save1"
check_grep "save: the service lines (automatic size: no table-size)" \
	"^service add tcp 192.0.2.10:84 sched rr mode nat snat$" \
	"$(cat "$T/save1")"
check_grep "save: a table-size that was set is kept" \
	"^service add tcp 192.0.2.12:80 sched maglev mode nat table-size 251$" \
	"$(cat "$T/save1")"
check_eq "-j show: 192.0.2.12:80 explicit 251, udp 192.0.2.12:53 automatic" \
	"$(v -j show | jq -c '[.[] | select(.vip == "192.0.2.12") |
		[.proto, .table_size, .table_auto]]')" \
	'[["tcp",251,false],["udp",509,true]]' 
v -j show >"$T/show1"
v show >"$T/text1"
cv "restore of save" restore "$T/save1"
v save >"$T/save2"
check_ok "save | restore | save is identical" cmp "$T/save1" "$T/save2"
v -j show >"$T/show2"
check_ok "-j show is identical after the restore" cmp "$T/show1" "$T/show2"
v show >"$T/text2"
check_ok "show is identical after the restore" cmp "$T/text1" "$T/text2"

ip netns exec "$D" nft list table inet viplb >"$T/before"
{
	echo "flush"
	echo "service add tcp 192.0.2.50:80 sched rr"
	echo "backend add tcp 192.0.2.50:80 198.51.100.2"
	echo "service add tcp 192.0.2.51:80 sched lc"
} >"$T/bad1"
vrun -n "$D" restore "$T/bad1"
check_grep "restore: a refused line fails, naming line 4" "^viplb: line 4: " "$err"
{
	echo "service add tcp 192.0.2.50:80 sched rr"
	echo "backend add tcp 192.0.2.50:80 198.51.100.2 weight 70000"
} >"$T/bad2"
vrun -n "$D" restore "$T/bad2"
check_grep "restore: a bad value fails, quoted" "70000" "$err"
{
	echo "service add tcp 192.0.2.50:80 sched rr"
	echo "backend add tcp 192.0.2.51:80 198.51.100.2"
} >"$T/bad3"
vrun -n "$D" restore "$T/bad3"
check_eq "restore: a backend of no service fails" "$rc" 1
ip netns exec "$D" nft list table inet viplb >"$T/after"
check_ok "failed restores changed nothing (nft list table)" \
	cmp -s "$T/before" "$T/after"
check_eq "traffic still flows after the failed restores" \
	"$(who 192.0.2.20 8081)" b3

# --- a write keeps the base chains, and one copy of the rest -------------
# (epoch.c: a base chain deleted and added again, or a map deleted in the
# batch that switches to its successor, let a first packet crossing the
# commit go untranslated.)
base_handles()
{
	ip netns exec "$D" nft -a list table inet viplb |
		sed -n -e 's/^table inet viplb { # handle \([0-9]*\)$/table \1/p' \
			-e 's/^\tchain \(prerouting\|output\|postrouting\|count_pre\|count_out\) { # handle \([0-9]*\)$/\1 \2/p' |
		tr '\n' ' '
}
copies()
{
	ip netns exec "$D" nft list table inet viplb |
		sed -n 's/^\t\(chain\|set\|map\) \([^ ]*\) {$/\2/p' |
		sed 's/_b$//' | sort | uniq -d | wc -l
}
dispatch()
{
	ip netns exec "$D" nft list chain inet viplb prerouting |
		sed -n 's/.* th dport vmap @\(svc4[_b]*\)$/\1/p'
}
cv "a service for the writes" service add tcp 192.0.2.99:80 sched wrr
bh=$(base_handles) vm=$(dispatch)
check_eq "the table and its five base chains" "$(echo "$bh" | wc -w)" 12
cv "a backend (a write)" backend add tcp 192.0.2.99:80 198.51.100.3:8081
check_eq "... keeps the table and base chains (same handles)" \
	"$(base_handles)" "$bh"
check_ok "... whose rules use the other copy ($vm, then $(dispatch))" \
	test "$(dispatch)" != "$vm" -a -n "$(dispatch)"
check_eq "... and leaves one copy of each set and chain" "$(copies)" 0
vm=$(dispatch)
cv "a second write" backend set tcp 192.0.2.99:80 198.51.100.3:8081 weight 2
check_eq "... keeps them too" "$(base_handles)" "$bh"
check_ok "... back to the first copy ($vm, then $(dispatch))" \
	test "$(dispatch)" != "$vm" -a -n "$(dispatch)"
check_eq "... and one copy" "$(copies)" 0
cv "service del" service del tcp 192.0.2.99:80

# --- other tables are never touched --------------------------------------
ip netns exec "$D" nft add table inet other
ip netns exec "$D" nft add chain inet other c
v flush
check_ok "flush leaves table inet other" \
	ip netns exec "$D" nft list chain inet other c
check_eq "flush empties viplb's" "$(v save | wc -l)" 0
check_fail "... and with no service, table inet viplb is gone" \
	ip netns exec "$D" nft list table inet viplb

viplb_finish
