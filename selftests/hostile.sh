#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Hostile packets: malformed and unusual frames from the client, through
# every datapath of the director, while a service comes and goes.
#
#   client $LB_C (AF_PACKET) --- c0 director $LB_D --- br0 --- $LB_B1..3
#
# Services on port 80 (IPv4 and IPv6): nat (192.0.2.30, 2001:db8:a::30),
# dr (192.0.2.10, 2001:db8:a::10) and tun (192.0.2.20, 2001:db8:a::20);
# a filter and a nat rule table; XDP on c0, so the same frames also cross
# the XDP program first: generic XDP for the first four rounds, native
# (veth's driver mode) for the fifth.  192.0.2.40:80 is added and deleted
# over and over meanwhile.
#
# Rounds: nat, dr, tun, rules+flapping, and XDP native (every VIP), or
# those of VIPLB_HOSTILE_ROUNDS (e.g. "xdp-native", to run one again).  Each
# sends VIPLB_HOSTILE_N frames (default 25000; `make check-debug` sends
# 100000) built from templates (TCP SYN and ACK, UDP, ICMP and ICMPv6
# errors quoting a flow of the VIP, fragments, IPv4 options, IPv6
# extension headers) and then mangled: cut short, bad IHL, zero and huge
# lengths, random bytes, overlapping fragments, oversized frames.
# Afterwards the kernel log is clean, each service still serves a real
# connection, and the dr/tun counters agree: a service's packets are the
# sum of its backends'.

. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip jq python3
modprobe -a ipip ip6_tunnel 2>/dev/null ||
	skip_all "no ipip/ip6_tunnel modules (tun mode)"
mod_fresh
dmesg_mark

HOSTILE_N=${VIPLB_HOSTILE_N:-25000}
NAT4=192.0.2.30
NAT6=2001:db8:a::30
DR4=192.0.2.10
DR6=2001:db8:a::10
TUN4=192.0.2.20
TUN6=2001:db8:a::20

drtun_topo $DR4 $TUN4 $DR6 $TUN6
drtun_start 80 53 "$DR4" "$LB_C"

{
	for s in "nat $NAT4" "nat $NAT6" "dr $DR4" "dr $DR6" "tun $TUN4" \
		"tun $TUN6"; do
		set -- $s
		vp=$(drtun_vp "$2" 80)
		echo "service add tcp $vp mode $1"
		echo "service add udp $(drtun_vp "$2" 53) mode $1 sched rr"
		case $2 in
		*:*) f=6 ;;
		*) f=4 ;;
		esac
		for i in 1 2 3; do
			echo "backend add tcp $vp $("lb_be$f" $i)"
			echo "backend add udp $(drtun_vp "$2" 53) $("lb_be$f" $i)"
		done
	done
} >"$VIPLB_TMP/conf"
check_ok "configure nat, dr and tun services (IPv4, IPv6)" \
	"$VIPLB" -n "$LB_D" restore "$VIPLB_TMP/conf"
check_ok "rule tables: filter and nat" \
	ip netns exec "$LB_D" "$VIPLB_ROOT/user/viplb/viplb-restore" <<EOF
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -p tcp --dport 80 -m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT
-A FORWARD -p udp -m multiport --dports 53,54 -j ACCEPT
-A INPUT -p icmp -j ACCEPT
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -d 192.0.2.50/32 -p tcp --dport 80 -j DNAT --to-destination 198.51.100.11:80
COMMIT
EOF
check_ok "XDP (generic) on the director's c0" \
	"$VIPLB" -n "$LB_D" xdp attach c0 mode generic

DMAC=$(ip -n "$LB_D" -j link show c0 | jq -r '.[0].address')
SMAC=$(ip -n "$LB_C" -j link show eth0 | jq -r '.[0].address')

HOSTILE_PY='
import random, socket, struct, sys, time
from pktcsum import csum
dmac, smac, n, seed = bytes.fromhex(sys.argv[1].replace(":", "")), \
    bytes.fromhex(sys.argv[2].replace(":", "")), int(sys.argv[3]), int(sys.argv[4])
targets = sys.argv[5].split(",")
CLI4, CLI6 = "203.0.113.2", "2001:db8:c::2"
rnd = random.Random(seed)


def ip4(dst, proto, payload, opts=b"", frag=0, ident=1, src=CLI4):
    ihl = 5 + len(opts) // 4
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 4 * ihl + len(payload),
                    ident, frag, 64, proto, 0, socket.inet_aton(src),
                    socket.inet_aton(dst)) + opts
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return b"\x08\x00", h + payload

def ip6(dst, nh, payload, ext=b"", src=CLI6):
    h = struct.pack("!IHBB16s16s", 0x60000000, len(ext) + len(payload), nh,
                    64, socket.inet_pton(socket.AF_INET6, src),
                    socket.inet_pton(socket.AF_INET6, dst))
    return b"\x86\xdd", h + ext + payload

def tcp(sport, dport, flags):
    return struct.pack("!HHIIBBHHH", sport, dport, rnd.getrandbits(32), 0,
                       5 << 4, flags, 65535, 0, 0)

def udp(sport, dport, data=b"x" * 8):
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data

def l4(sport, port):
    k = rnd.randrange(3)
    if k == 0:
        return 6, tcp(sport, port, 0x02)
    if k == 1:
        return 6, tcp(sport, port, 0x10)
    return 17, udp(sport, 53)

def template(vip):
    v6 = ":" in vip
    sport = rnd.randrange(1024, 65536)
    proto, seg = l4(sport, 80)
    k = rnd.randrange(6)
    if not v6:
        if k == 0:
            # IPv4 options: NOP padding, a record-route
            return ip4(vip, proto, seg, opts=b"\x07\x07\x04" + b"\0" * 4 + b"\x01")
        if k == 1:
            # A fragment: first or later, maybe overlapping
            off = rnd.choice([0, 0, 1, 2, 185])
            mf = rnd.choice([0x2000, 0])
            return ip4(vip, proto, seg + b"y" * rnd.randrange(0, 64),
                       frag=mf | off, ident=rnd.randrange(4))
        if k == 2:
            # ICMP error quoting a flow to the VIP (from the backend side)
            inner = ip4(CLI4, proto, seg, src=vip)[1][:rnd.randrange(0, 48)]
            icmp = struct.pack("!BBHI", 3, rnd.choice([1, 3, 4]), 0, 1400) + inner
            return ip4(vip, 1, icmp)
        return ip4(vip, proto, seg)
    if k == 0:
        # Hop-by-hop and destination options, then the segment
        ext = struct.pack("!BB", 60, 0) + b"\x01\x04\0\0\0\0" + \
              struct.pack("!BB", proto, 0) + b"\x01\x04\0\0\0\0"
        return ip6(vip, 0, seg, ext)
    if k == 1:
        # A fragment header, first or later fragment
        off = rnd.choice([0, 0, 1, 8])
        ext = struct.pack("!BBHI", proto, 0, (off << 3) | rnd.choice([0, 1]),
                          rnd.randrange(4))
        return ip6(vip, 44, seg + b"z" * rnd.randrange(0, 64), ext)
    if k == 2:
        inner = ip6(CLI6, proto, seg, src=vip)[1][:rnd.randrange(0, 80)]
        icmp = struct.pack("!BBHI", rnd.choice([1, 2, 3]), 0, 0, 1280) + inner
        return ip6(vip, 58, icmp)
    if k == 3:
        # A routing header type 0 (obsolete) before the segment
        ext = struct.pack("!BBBB", proto, 2, 0, 1) + b"\0" * 4 + \
              socket.inet_pton(socket.AF_INET6, vip)
        return ip6(vip, 43, seg, ext)
    return ip6(vip, proto, seg)

def mangle(pkt):
    pkt = bytearray(pkt)
    k = rnd.randrange(8)
    if k == 0:
        pkt = pkt[:rnd.randrange(0, len(pkt) + 1)]          # cut short
    elif k == 1 and pkt and pkt[0] >> 4 == 4:
        pkt[0] = 0x40 | rnd.randrange(16)                   # bad IHL
    elif k == 2 and len(pkt) > 4:
        v = rnd.choice([0, 1, 20, 0xffff, len(pkt) + 1])
        if pkt[0] >> 4 == 4:
            pkt[2:4] = struct.pack("!H", v)                 # total length
        elif len(pkt) > 6:
            pkt[4:6] = struct.pack("!H", v)                 # payload length
    elif k == 3:
        for _ in range(rnd.randrange(1, 6)):                # random bytes
            if pkt:
                pkt[rnd.randrange(len(pkt))] = rnd.randrange(256)
    elif k == 4:
        pkt += bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 1400)))
    return bytes(pkt)

s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
sent = big = 0
for i in range(n):
    et, pkt = template(targets[i % len(targets)])
    if rnd.randrange(4):
        pkt = mangle(pkt)
    for _ in range(1000):
        try:
            s.send(dmac + smac + et + pkt)
            sent += 1
            break
        except OSError as e:
            # Frames longer than the link MTU never leave the client.
            if e.errno == 90:
                big += 1
                break
            # A full queue (native XDP on veth under TCG): wait, resend.
            if e.errno != 105:
                raise
            time.sleep(0.002)
    else:
        raise OSError(105, "queue still full after 1000 tries")
print(sent, big)
'

# The service that comes and goes.
(
	while [ ! -e "$VIPLB_TMP/flap.stop" ]; do
		"$VIPLB" -n "$LB_D" -b - >/dev/null 2>&1 <<-EOF
		service add tcp 192.0.2.40:80 mode dr
		backend add tcp 192.0.2.40:80 $(lb_be4 1)
		service del tcp 192.0.2.40:80
		EOF
	done
) &
fpid=$!
defer "touch $VIPLB_TMP/flap.stop; kill $fpid 2>/dev/null"

per=$HOSTILE_N
for d in "nat $NAT4,$NAT6" "dr $DR4,$DR6" "tun $TUN4,$TUN6" \
	"rules+flapping 192.0.2.50,192.0.2.40,203.0.113.1" \
	"xdp-native $NAT4,$NAT6,$DR4,$DR6,$TUN4,$TUN6"; do
	# shellcheck disable=SC2086 # the datapath and its targets
	set -- $d
	case " ${VIPLB_HOSTILE_ROUNDS:-$1} " in
	*" $1 "*) ;;
	*) continue ;;
	esac
	if [ "$1" = xdp-native ]; then
		"$VIPLB" -n "$LB_D" xdp detach c0 &&
			check_ok "XDP native (veth driver mode) on c0" \
				"$VIPLB" -n "$LB_D" xdp attach c0 mode native ||
			continue
	fi
	got=$(PYTHONPATH=$VIPLB_SELFTESTS ip netns exec "$LB_C" \
		python3 -S -c "$HOSTILE_PY" \
		"$DMAC" "$SMAC" "$per" "$per$#" "$2" 2>&1)
	case $got in
	*[!0-9\ ]* | "")
		fail "$1: $per hostile frames sent" "$got"
		continue
		;;
	esac
	set -- "$1" $got
	check_eq "$1: $2 hostile frames sent ($3 more were over the MTU)" \
		"$(($2 + $3))" "$per"
done
touch "$VIPLB_TMP/flap.stop"
wait $fpid

dmesg_check "no kernel warning after the hostile frames ($HOSTILE_N per round)"
# Every service still serves a real connection (through XDP for dr/tun).
for vip in $NAT4 $NAT6 $DR4 $DR6 $TUN4 $TUN6; do
	check_ok "$vip:80 still serves a connection" \
		drtun conns "$vip" 80 0 1
done
for vip in $DR4 $DR6 $TUN4 $TUN6; do
	js=$("$VIPLB" -n "$LB_D" -j stats tcp "$(drtun_vp $vip 80)")
	check_eq "$vip:80 counters agree: the service's packets are its backends'" \
		"$(jq '.[0].stats.pkts_in' <<EOF
$js
EOF
)" "$(jq '[.[0].backends[].stats.pkts_in] | add' <<EOF
$js
EOF
)"
done
check_ok "XDP detach" "$VIPLB" -n "$LB_D" xdp detach c0
check_ok "rmmod" rmmod viplb
dmesg_check "no kernel warning"
viplb_finish
