# SPDX-License-Identifier: GPL-2.0
#
# lib.sh: helpers shared by the viplb selftests.  A test sources it with
#
#	. "$(dirname "$0")/lib.sh"
#
# and then calls the check helpers below, which print TAP lines
# ("ok N - what" / "not ok N - what").  The test ends with viplb_finish,
# which prints the plan and exits 0 (all passed), 1 (something failed) or
# $ksft_skip (nothing ran).  A test that dies before viplb_finish exits 1:
# success is only ever reported when it was checked.
#
# Environment:
#	VIPLB_KO	path of viplb.ko (default: ../kmod/viplb.ko beside
#			this directory)
#	VIPLB		the CLI (default: viplb from ../user/viplb, then $PATH)

ksft_pass=0
ksft_fail=1
ksft_skip=4

VIPLB_TEST=$(basename "$0" .sh)
VIPLB_SELFTESTS=$(cd "$(dirname "$0")" && pwd -P)
VIPLB_ROOT=$(cd "$VIPLB_SELFTESTS/.." && pwd -P)
: "${VIPLB_KO:=$VIPLB_ROOT/kmod/viplb.ko}"
if [ -x "$VIPLB_ROOT/user/viplb/viplb" ]; then
	PATH=$VIPLB_ROOT/user/viplb:$PATH
fi
: "${VIPLB:=viplb}"
export PATH VIPLB_KO

# Random hex suffix, so that names never collide with a leftover of an
# earlier run or with another test running at the same time.
rand_suffix()
{
	od -An -N4 -tx1 /dev/urandom | tr -d ' \n'
}

VIPLB_SUFFIX=$(rand_suffix)
VIPLB_START=$(date +%s)
VIPLB_TMP=$(mktemp -d "/tmp/viplb-$VIPLB_TEST.XXXXXX")

vl_nr=0
vl_failed=0
vl_skipped=0
vl_finished=0
vl_netns=""
vl_cleanups=""
vl_dmesg_mark=""

# ---------------------------------------------------------------- TAP ---

log()
{
	echo "# $*"
}

vl_result()
{
	vl_nr=$((vl_nr + 1))
	echo "$1 $vl_nr - $2"
}

# pass DESC / fail DESC [DETAIL...] / skip DESC REASON
pass()
{
	vl_result ok "$1"
}

fail()
{
	vl_failed=$((vl_failed + 1))
	vl_result "not ok" "$1"
	shift
	for l in "$@"; do
		printf '%s\n' "$l" | sed 's/^/#   /'
	done
}

skip()
{
	vl_skipped=$((vl_skipped + 1))
	vl_result ok "$1 # SKIP $2"
}

# Print the plan and exit.  Exit 4 only if every check was skipped.
viplb_finish()
{
	vl_finished=1
	echo "1..$vl_nr"
	if [ "$vl_failed" -gt 0 ]; then
		log "$VIPLB_TEST: $vl_failed of $vl_nr checks failed ($(($(date +%s) - VIPLB_START))s)"
		exit $ksft_fail
	fi
	if [ "$vl_nr" -eq 0 ] || [ "$vl_skipped" -eq "$vl_nr" ]; then
		exit $ksft_skip
	fi
	log "$VIPLB_TEST: all $vl_nr checks passed ($vl_skipped skipped) in $(($(date +%s) - VIPLB_START))s"
	exit $ksft_pass
}

# Skip the whole test (before any check ran, or after cleanup is safe).
skip_all()
{
	vl_finished=1
	echo "1..0 # SKIP $*"
	exit $ksft_skip
}

# Abort: the remaining checks cannot run.
bail()
{
	fail "$*"
	viplb_finish
}

# ------------------------------------------------------------ cleanup ---

# defer CMD...: run CMD at exit, last registered first.
defer()
{
	vl_cleanups="$*
$vl_cleanups"
}

vl_exit()
{
	rc=$?
	set +e
	if [ "$vl_finished" -eq 0 ]; then
		echo "not ok $((vl_nr + 1)) - $VIPLB_TEST died unexpectedly (exit $rc)"
		echo "1..$((vl_nr + 1))"
		rc=$ksft_fail
	fi
	printf '%s\n' "$vl_cleanups" | while IFS= read -r c; do
		[ -n "$c" ] && eval "$c" >/dev/null 2>&1
	done
	for ns in $vl_netns; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$VIPLB_TMP"
	exit $rc
}
trap vl_exit EXIT
trap 'exit 1' INT TERM HUP

# ------------------------------------------------------------ require ---

require_root()
{
	[ "$(id -u)" -eq 0 ] || skip_all "must run as root"
}

require_cmd()
{
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip_all "$c not found"
	done
}

# ---------------------------------------------------------- namespaces ---

# ns_create VAR PREFIX: create netns PREFIX-<suffix>, store its name in VAR,
# and delete it at exit.
ns_create()
{
	vl_n="$2-$VIPLB_SUFFIX"
	ip netns add "$vl_n" || bail "ip netns add $vl_n"
	ip -n "$vl_n" link set lo up
	vl_netns="$vl_netns $vl_n"
	eval "$1=\$vl_n"
}

ns_del()
{
	ip netns del "$1"
	vl_netns=$(printf '%s\n' $vl_netns | grep -vx "$1" | tr '\n' ' ')
}

# -------------------------------------------------------------- module ---

mod_loaded()
{
	[ -d /sys/module/viplb ]
}

# Load the modules viplb.ko depends on (insmod does not), then viplb.ko.
mod_load()
{
	[ -r "$VIPLB_KO" ] || return 1
	vl_deps=$(modinfo -F depends "$VIPLB_KO" 2>/dev/null | tr ',' ' ')
	if [ -n "$vl_deps" ]; then
		modprobe -a $vl_deps || return 1
	fi
	insmod "$VIPLB_KO"
}

mod_unload()
{
	rmmod viplb
}

# Start from a freshly loaded module, and unload it at exit.
mod_fresh()
{
	[ -r "$VIPLB_KO" ] || skip_all "$VIPLB_KO not found (make module)"
	if mod_loaded; then
		"$VIPLB" flush >/dev/null 2>&1
		mod_unload || bail "rmmod viplb (left loaded by an earlier test)"
	fi
	mod_load || bail "insmod $VIPLB_KO"
	defer 'mod_loaded && { "$VIPLB" flush; rmmod viplb; }'
}

# --------------------------------------------------------------- dmesg ---

# Mark the kernel log, so that dmesg_check only looks at what follows.
dmesg_mark()
{
	vl_dmesg_mark="viplb-selftest: $VIPLB_TEST $VIPLB_SUFFIX $(rand_suffix)"
	echo "$vl_dmesg_mark" > /dev/kmsg
}

VL_DMESG_BAD='WARNING:|BUG:|Oops|general protection|Call Trace|KASAN|UBSAN|kmemleak|refcount_t|list_add corruption|list_del corruption|rcu.*stall|self-detected stall|blocked for more than|Kernel panic|double free|use-after-free|possible recursive locking|circular locking|sleeping function called|still has.*references|unregister_netdevice: waiting'

# dmesg_check DESC: no kernel warning since dmesg_mark.
dmesg_check()
{
	vl_log=$(dmesg | sed -n "/$vl_dmesg_mark/,\$p")
	if [ -z "$vl_log" ]; then
		fail "$1: dmesg marker not found"
		return
	fi
	vl_bad=$(printf '%s\n' "$vl_log" | grep -E "$VL_DMESG_BAD")
	if [ -n "$vl_bad" ]; then
		fail "$1" "$vl_bad"
	else
		pass "$1"
	fi
}

# ------------------------------------------------------------- running ---

# vrun ARGS...: run the CLI, leaving stdout in $out, stderr in $err and the
# exit code in $rc.
vrun()
{
	"$VIPLB" "$@" >"$VIPLB_TMP/out" 2>"$VIPLB_TMP/err"
	rc=$?
	out=$(cat "$VIPLB_TMP/out")
	err=$(cat "$VIPLB_TMP/err")
	return 0
}

# check_ok DESC CMD...: CMD must exit 0.
check_ok()
{
	vl_d=$1
	shift
	if vl_o=$("$@" 2>&1); then
		pass "$vl_d"
	else
		fail "$vl_d" "command: $*" "exit $?: $vl_o"
		return 1
	fi
}

# check_fail DESC CMD...: CMD must exit non-zero.
check_fail()
{
	vl_d=$1
	shift
	if vl_o=$("$@" 2>&1); then
		fail "$vl_d" "command: $*" "unexpectedly succeeded: $vl_o"
		return 1
	else
		pass "$vl_d"
	fi
}

# check_eq DESC GOT WANT
check_eq()
{
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "got:  $2" "want: $3"
		return 1
	fi
}

# check_grep DESC PATTERN TEXT: extended regexp PATTERN occurs in TEXT.
check_grep()
{
	if printf '%s\n' "$3" | grep -qE -- "$2"; then
		pass "$1"
	else
		fail "$1" "pattern: $2" "text: $3"
		return 1
	fi
}

# check_viplb DESC ARGS...: the CLI must exit 0 and print nothing on stderr.
check_viplb()
{
	vl_d=$1
	shift
	vrun "$@"
	if [ "$rc" -eq 0 ] && [ -z "$err" ]; then
		pass "$vl_d"
	else
		fail "$vl_d" "command: viplb $*" "exit $rc, stderr: $err"
		return 1
	fi
}

# viplb_in NS ARGS...: viplb -n NS ARGS, its output printed; a failure is a
# failed check (returns 1).
viplb_in()
{
	vl_ns=$1
	shift
	if ! vl_o=$("$VIPLB" -n "$vl_ns" "$@" 2>&1); then
		fail "viplb $*" "$vl_o"
		return 1
	fi
	[ -z "$vl_o" ] || printf '%s\n' "$vl_o"
}

# ---------------------------------------------------------------- JSON ---

# show_json [ARGS...]: `viplb [ARGS] -j show` (the whole netns).
show_json()
{
	"$VIPLB" "$@" -j show
}

# check_jq DESC FILTER [VIPLB-ARGS...]: FILTER applied to the JSON dump must
# be true (jq -e).
check_jq()
{
	vl_d=$1
	vl_f=$2
	shift 2
	if ! vl_j=$(show_json "$@" 2>&1); then
		fail "$vl_d" "viplb $* -j show failed: $vl_j"
		return 1
	fi
	if printf '%s\n' "$vl_j" | jq -e "$vl_f" >/dev/null 2>&1; then
		pass "$vl_d"
	else
		fail "$vl_d" "filter: $vl_f" "json: $(printf '%s' "$vl_j" | head -c 600)"
		return 1
	fi
}

# jq_val FILTER [VIPLB-ARGS...]: print FILTER applied to the JSON dump.
jq_val()
{
	vl_f=$1
	shift
	show_json "$@" | jq -r "$vl_f"
}

# save_config [VIPLB-ARGS...]: the configuration as `viplb save` text.
save_config()
{
	"$VIPLB" "$@" save
}

# ============================================================ nat topology ===
# Helpers of the datapath tests (lb_nat.sh, lb_sched.sh): a client, a
# director and three real servers, each in its own netns, and background
# servers inside them.
#
#   client $LB_C            director $LB_D                  real servers
#   eth0 203.0.113.2/24 ----- c0  203.0.113.1/24
#        2001:db8:c::2/64         2001:db8:c::1/64
#   default via director      br0 198.51.100.1/24 -+- vb1 ---- eth0 of $LB_B1
#                                 2001:db8:b::1/64 |         198.51.100.11/24
#                                                  |         2001:db8:b::11/64
#                                                  +- vb2 ---- $LB_B2 (.12, ::12)
#                                                  +- vb3 ---- $LB_B3 (.13, ::13)
#                                                  each: default via director
#
# VIPs are never configured on an interface: the client routes everything
# through the director, whose viplb nat hooks translate before routing.

LB_CLI4=203.0.113.2
LB_CLI6=2001:db8:c::2
LB_DIR_C4=203.0.113.1
LB_DIR_C6=2001:db8:c::1
LB_DIR_B4=198.51.100.1
LB_DIR_B6=2001:db8:b::1

# lb_be4 I / lb_be6 I: the address of real server I (1..3).
lb_be4()
{
	echo "198.51.100.1$1"
}

lb_be6()
{
	echo "2001:db8:b::1$1"
}

# lb_ns_kill NS: kill every process running in NS (our servers and
# clients; they are not killed by deleting the netns).  Without a process
# spawn: a process is in NS if its /proc/PID/ns/net is /run/netns/NS.
lb_ns_kill()
{
	[ -e "/run/netns/$1" ] || return 0
	for vl_p in /proc/[0-9]*; do
		if [ "$vl_p/ns/net" -ef "/run/netns/$1" ]; then
			kill "${vl_p#/proc/}" 2>/dev/null
		fi
	done
	return 0
}

# lb_topo: build the topology above.  Sets LB_C, LB_D, LB_B1, LB_B2, LB_B3.
# Everything is deleted, and every process inside killed, at exit.  One
# `ip -batch' per netns, as process spawns are slow in the VM.
lb_topo()
{
	LB_C=lbC-$VIPLB_SUFFIX
	LB_D=lbD-$VIPLB_SUFFIX
	LB_B1=lbB1-$VIPLB_SUFFIX
	LB_B2=lbB2-$VIPLB_SUFFIX
	LB_B3=lbB3-$VIPLB_SUFFIX
	vl_all="$LB_C $LB_D $LB_B1 $LB_B2 $LB_B3"
	vl_netns="$vl_netns $vl_all"
	# shellcheck disable=SC2086 # one name per line
	printf 'netns add %s\n' $vl_all | ip -b - || bail "ip netns add"
	for vl_ns in $vl_all; do
		defer "lb_ns_kill $vl_ns"
		vl_fwd=""
		[ "$vl_ns" = "$LB_D" ] &&
			vl_fwd="net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1"
		# No duplicate address detection: addresses work at once.
		# shellcheck disable=SC2086 # vl_fwd: zero or two words
		ip netns exec "$vl_ns" sysctl -qw \
			net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0 $vl_fwd ||
			bail "sysctl in $vl_ns"
	done
	ip -n "$LB_D" -b - <<-EOT || bail "configure director"
	link set lo up
	link add c0 type veth peer name eth0 netns $LB_C
	link add vb1 type veth peer name eth0 netns $LB_B1
	link add vb2 type veth peer name eth0 netns $LB_B2
	link add vb3 type veth peer name eth0 netns $LB_B3
	link add br0 type bridge forward_delay 0
	addr add $LB_DIR_B4/24 dev br0
	addr add $LB_DIR_B6/64 dev br0 nodad
	link set br0 up
	link set vb1 master br0 up
	link set vb2 master br0 up
	link set vb3 master br0 up
	addr add $LB_DIR_C4/24 dev c0
	addr add $LB_DIR_C6/64 dev c0 nodad
	link set c0 up
	EOT
	for vl_i in 1 2 3; do
		eval "vl_ns=\$LB_B$vl_i"
		ip -n "$vl_ns" -b - <<-EOT || bail "configure real server $vl_i"
		link set lo up
		addr add $(lb_be4 "$vl_i")/24 dev eth0
		addr add $(lb_be6 "$vl_i")/64 dev eth0 nodad
		link set eth0 up
		route add default via $LB_DIR_B4
		route add default via $LB_DIR_B6
		EOT
	done
	ip -n "$LB_C" -b - <<-EOT || bail "configure client"
	link set lo up
	addr add $LB_CLI4/24 dev eth0
	addr add $LB_CLI6/64 dev eth0 nodad
	link set eth0 up
	route add default via $LB_DIR_C4
	route add default via $LB_DIR_C6
	EOT
}

# lb_teardown: kill every process of the topology (the real servers of
# lb_servers too) and delete its netns, in one go.
lb_teardown()
{
	vl_all="$LB_C $LB_D $LB_B1 $LB_B2 $LB_B3"
	[ -z "$lb_server_pid" ] || kill "$lb_server_pid" 2>/dev/null
	for vl_ns in $vl_all; do
		lb_ns_kill "$vl_ns"
	done
	# shellcheck disable=SC2086 # one name per line
	printf 'netns del %s\n' $vl_all | ip -b -
	vl_rc=$?
	vl_left=""
	for vl_ns in $vl_netns; do
		case " $vl_all " in
		*" $vl_ns "*) ;;
		*) vl_left="$vl_left $vl_ns" ;;
		esac
	done
	vl_netns=$vl_left
	return $vl_rc
}

# lb_ms: a clock in milliseconds.
lb_ms()
{
	echo $(($(date +%s%N) / 1000000))
}

# Real servers.  lb_servers starts one python3 process that listens, in
# each real-server netns, on:
#
#	tcp 8080   echo: sends back what it receives, closes after the
#		   client's FIN (IPv4 and IPv6)
#	udp 8053   echo: each datagram is sent back to its sender (both)
#	tcp 81     hello: sends "NAME PEER\n" (PEER: the client address it
#		   sees), then echoes like 8080 (both)
#	tcp 8081   name: sends "NAME\n" and closes at once, so the server
#		   closes first (both)
#	udp 8054   name: answers each datagram with "NAME\n" (both)
#
# NAME is b1, b2, b3 for $LB_B1, $LB_B2, $LB_B3.  One process with one
# socket per port and netns (entered with setns()), no fork per
# connection: process spawns are slow in the TCG VM.
LB_SERVER_PY='
import ctypes, os, selectors, socket, sys

sel = selectors.DefaultSelector()
libc = ctypes.CDLL(None, use_errno=True)

def enter(ns):
    fd = os.open("/run/netns/" + ns, os.O_RDONLY)
    try:
        if libc.setns(fd, 0x40000000) != 0:
            e = ctypes.get_errno()
            raise OSError(e, "setns %s: %s" % (ns, os.strerror(e)))
    finally:
        os.close(fd)

class Listener:
    def __init__(self, kind, name):
        self.kind, self.name = kind, name

class Conn:
    def __init__(self, sock, out):
        self.sock, self.out, self.eof = sock, bytearray(out), False

def bind(fam, typ, port, kind, name):
    s = socket.socket(fam, typ)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind(("::", port))
    else:
        s.bind(("0.0.0.0", port))
    if typ == socket.SOCK_STREAM:
        s.listen(128)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, Listener(kind, name))

def update(c):
    if c.eof and not c.out:
        sel.unregister(c.sock)
        c.sock.close()
        return
    mask = 0 if c.eof else selectors.EVENT_READ
    if c.out:
        mask |= selectors.EVENT_WRITE
    sel.modify(c.sock, mask, c)

def drop(c):
    sel.unregister(c.sock)
    c.sock.close()

def on_listener(s, l):
    if l.kind in ("udp", "uname"):
        try:
            data, peer = s.recvfrom(65536)
            if l.kind == "uname":
                data = (l.name + "\n").encode()
            s.sendto(data, peer)
        except OSError:
            pass
        return
    try:
        c, peer = s.accept()
    except OSError:
        return
    if l.kind == "name":
        try:
            c.setblocking(True)
            c.sendall((l.name + "\n").encode())
        except OSError:
            pass
        c.close()
        return
    c.setblocking(False)
    out = (l.name + " " + peer[0] + "\n").encode() if l.kind == "hello" else b""
    conn = Conn(c, out)
    sel.register(c, selectors.EVENT_READ, conn)
    update(conn)

def on_conn(c, ev):
    try:
        if ev & selectors.EVENT_READ:
            data = c.sock.recv(65536)
            if data:
                c.out += data
            else:
                c.eof = True
        if c.out:
            n = c.sock.send(c.out)
            del c.out[:n]
    except (BlockingIOError, InterruptedError):
        pass
    except OSError:
        drop(c)
        return
    update(c)

ready = sys.argv[1]
args = sys.argv[2:]
for name, ns in zip(args[0::2], args[1::2]):
    enter(ns)
    for fam in (socket.AF_INET, socket.AF_INET6):
        bind(fam, socket.SOCK_STREAM, 8080, "echo", name)
        bind(fam, socket.SOCK_DGRAM, 8053, "udp", name)
        bind(fam, socket.SOCK_STREAM, 81, "hello", name)
        bind(fam, socket.SOCK_STREAM, 8081, "name", name)
        bind(fam, socket.SOCK_DGRAM, 8054, "uname", name)
open(ready, "w").close()
while True:
    for key, ev in sel.select():
        if isinstance(key.data, Listener):
            on_listener(key.fileobj, key.data)
        else:
            on_conn(key.data, ev)
'

# lb_servers: start the real servers described above in $LB_B1..3 and
# wait (up to 60 s) until they listen.  Their errors go to
# $VIPLB_TMP/servers.log.
lb_servers()
{
	vl_ready=$VIPLB_TMP/servers.ready
	python3 -S -c "$LB_SERVER_PY" "$vl_ready" b1 "$LB_B1" b2 "$LB_B2" \
		b3 "$LB_B3" >>"$VIPLB_TMP/servers.log" 2>&1 &
	lb_server_pid=$!
	defer "kill $lb_server_pid"
	vl_t=0
	while [ ! -e "$vl_ready" ]; do
		if ! kill -0 "$lb_server_pid" 2>/dev/null || [ "$vl_t" -ge 600 ]; then
			bail "real servers did not start: $(cat "$VIPLB_TMP/servers.log")"
		fi
		sleep 0.1
		vl_t=$((vl_t + 1))
	done
}

# lb_need_cmd CMD...: the datapath tests need these tools; their absence
# is a failure of the test environment, not a reason to skip.
lb_need_cmd()
{
	for vl_c in "$@"; do
		command -v "$vl_c" >/dev/null 2>&1 || bail "$vl_c not found"
	done
}
# ===================================================== end of nat topology ===

# ============================================================ dr/tun helpers ===
# Helpers of lb_drtun.sh: the nat topology above (lb_topo) made fit for
# the dr and tun modes, echo servers that log what they see, and a client
# agent that runs the test's clients without a process spawn each (python
# and `ip netns exec` take seconds to start in the TCG VM).

# xdp_topo C D B1 B2 VIP: the veth topology of the XDP tests, in the
# namespaces C (client), D (director), B1 and B2 (backends):
#   C c0 203.0.113.2/24 (default via D) -- d0 203.0.113.1/24 D
#   D d1 198.51.100.1/28  -- B1 eth0 198.51.100.2/28  (default via D)
#   D d2 198.51.100.17/28 -- B2 eth0 198.51.100.18/28 (default via D)
# D forwards IPv4.  Each backend holds VIP on lo for dr and tun, does not
# answer ARP for it (arp_ignore, arp_announce), filters no reverse path
# (tun packets come in on tunl0), and has GRO on eth0: frames redirected
# into a veth need NAPI at the peer.  Nothing talks to the backends first:
# viplb has the kernel resolve their MACs (user/xdp/neigh.c).  What c0
# sends is what a NIC would put on the wire: no 64 KiB TSO skbs (generic
# XDP sees skbs), and complete checksums (native XDP frames lose the
# skb's "checksum partial" mark).
xdp_topo()
{
	local c=$1 d=$2 vip=$5 b i=0

	ip link add c0 netns "$c" type veth peer name d0 netns "$d" &&
	ip link add eth0 netns "$3" type veth peer name d1 netns "$d" &&
	ip link add eth0 netns "$4" type veth peer name d2 netns "$d" ||
		return 1
	ip -n "$c" addr add 203.0.113.2/24 dev c0
	ip -n "$c" link set c0 up
	ip -n "$c" route add default via 203.0.113.1
	ip -n "$d" addr add 203.0.113.1/24 dev d0
	ip -n "$d" addr add 198.51.100.1/28 dev d1
	ip -n "$d" addr add 198.51.100.17/28 dev d2
	for l in d0 d1 d2; do
		ip -n "$d" link set "$l" up
	done
	ip netns exec "$d" sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward'
	for b in "$3" "$4"; do
		i=$((i + 1))
		ip -n "$b" addr add "198.51.100.$((i * 16 - 14))/28" dev eth0
		ip -n "$b" addr add "$vip/32" dev lo
		ip -n "$b" link set eth0 up
		ip -n "$b" route add default via "198.51.100.$((i * 16 - 15))"
		ip netns exec "$b" sh -c '
			for c in all default eth0; do
				echo 0 >/proc/sys/net/ipv4/conf/$c/rp_filter
			done
			echo 1 >/proc/sys/net/ipv4/conf/all/arp_ignore
			echo 2 >/proc/sys/net/ipv4/conf/all/arp_announce'
		ip netns exec "$b" ethtool -K eth0 gro on >/dev/null
	done
	ip netns exec "$c" ethtool -K c0 tx off tso off gso off >/dev/null
}

# drtun_topo VIP...: lb_topo, then what dr and tun need.  Each real server
# holds every VIP on lo, does not answer ARP for it on eth0 (arp_ignore,
# arp_announce), has the fallback tunnel devices tunl0 and ip6tnl0 up (the
# ipip and ip6_tunnel modules must be loaded), and does no reverse-path
# filtering (tun packets from the client come in on tunl0, the route back
# is on eth0).  The director does not filter either: the servers' answers
# come from the VIPs.  The director routes the VIPs (to br0), so that the
# client's packets to them are forwarded and reach viplb at FORWARD; it
# holds no VIP itself.
drtun_topo()
{
	lb_topo
	vl_norpf='for f in /proc/sys/net/ipv4/conf/*/rp_filter; do
		echo 0 >"$f" || exit 1
	done'
	for vl_ns in $LB_B1 $LB_B2 $LB_B3; do
		for vl_v in "$@"; do
			case $vl_v in
			*:*) echo "addr add $vl_v/128 dev lo nodad" ;;
			*) echo "addr add $vl_v/32 dev lo" ;;
			esac
		done | ip -n "$vl_ns" -b - || bail "VIPs on lo of $vl_ns"
		ip -n "$vl_ns" -b - <<-EOT || bail "tunl0/ip6tnl0 up in $vl_ns"
		link set tunl0 up
		link set ip6tnl0 up
		EOT
		ip netns exec "$vl_ns" sh -c "$vl_norpf
			echo 1 >/proc/sys/net/ipv4/conf/all/arp_ignore &&
			echo 2 >/proc/sys/net/ipv4/conf/all/arp_announce" ||
			bail "sysctl rp_filter/arp in $vl_ns"
	done
	ip netns exec "$LB_D" sh -c "$vl_norpf" || bail "rp_filter off in $LB_D"
	for vl_v in "$@"; do
		echo "route add $vl_v dev br0"
	done | ip -n "$LB_D" -b - || bail "routes to the VIPs in $LB_D"
}

# drtun_vp ADDR PORT: ADDR:PORT, with brackets around an IPv6 ADDR.
drtun_vp()
{
	case $1 in
	*:*) echo "[$1]:$2" ;;
	*) echo "$1:$2" ;;
	esac
}

# The echo servers and the client agent, in python3 (-S: no site imports,
# it starts faster).
#
#   server LOG TCPPORTS UDPPORTS VIPS NAME NETNS [NAME NETNS...]
#	in each NETNS (entered with setns()), listen on TCP TCPPORTS
#	(comma-separated, IPv4 and IPv6 wildcard) and on UDP UDPPORTS bound
#	to each of VIPS (comma-separated; bound, so that answers come from
#	the VIP); echo everything.  Appends to LOG one line per TCP
#	connection and per datagram:
#		NAME tcp|udp PEER-ADDR PEER-PORT LOCAL-ADDR LOCAL-PORT
#	i.e. the source the server sees and the destination the packet had.
#	Creates LOG.ready once it listens.
#   agent DIR
#	reads "ID COMMAND ARGS..." lines from the FIFO DIR/cmd, runs each
#	command in a thread, writes its report to DIR/ID.out and then its
#	exit status to DIR/ID.rc.  Creates DIR/ready once it reads.
#
# The agent's commands:
#   bulk VIP PORT SPORT IN OUT
#	one TCP connection from SPORT: send the file IN, then half-close;
#	meanwhile write what comes back to OUT.  Gives up after 10 s
#	without progress.
#   conns VIP PORT SPORT N
#	N TCP connections one after the other, from source ports SPORT..,
#	each echoing one line.  Status 0 if all worked.
#   long VIP PORT SPORT READY STOP
#	one TCP connection from SPORT, echoing a line every 0.2 s; creates
#	READY after the first echo, and ends 5 lines after STOP exists (at
#	most after 120 s).  Status 0 if every line came back.
#   udp VIP PORT SPORT N
#	N datagrams from SPORT, each must come back.
#   pmtu VIP PORT SIZE
#	a datagram of SIZE bytes with DF (path MTU discovery on); reports
#	what happened and the path MTU the client then knows ("mtu N").
#   refused tcp|udp VIP PORT
#	the connection (or a datagram) must be refused (RST or ICMP port
#	unreachable) within a second.
DRTUN_PY='
import ctypes, errno, os, socket, sys, threading, time

def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET

def server(log, tports, uports, vips, pairs):
    libc = ctypes.CDLL(None, use_errno=True)
    lock = threading.Lock()
    logf = open(log, "a")

    def note(*words):
        with lock:
            logf.write(" ".join(str(w) for w in words) + "\n")
            logf.flush()

    def echo(name, c, peer):
        local = c.getsockname()
        note(name, "tcp", peer[0], peer[1], local[0], local[1])
        try:
            while True:
                data = c.recv(65536)
                if not data:
                    break
                c.sendall(data)
        except OSError as e:
            note(name, "error", peer[0], peer[1], e)
        c.close()

    def accept(name, s):
        while True:
            c, peer = s.accept()
            threading.Thread(target=echo, args=(name, c, peer),
                             daemon=True).start()

    def datagrams(name, s):
        local = s.getsockname()
        while True:
            data, peer = s.recvfrom(65536)
            note(name, "udp", peer[0], peer[1], local[0], local[1])
            s.sendto(data, peer)

    loops = []
    for name, ns in pairs:
        fd = os.open("/run/netns/" + ns, os.O_RDONLY)
        if libc.setns(fd, 0x40000000) != 0:
            raise OSError(ctypes.get_errno(), "setns " + ns)
        os.close(fd)
        for port in tports:
            for fam, any_addr in ((socket.AF_INET, "0.0.0.0"),
                                  (socket.AF_INET6, "::")):
                s = socket.socket(fam, socket.SOCK_STREAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if fam == socket.AF_INET6:
                    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                s.bind((any_addr, port))
                s.listen(128)
                loops.append((accept, name, s))
        for vip in vips:
            for port in uports:
                s = socket.socket(family(vip), socket.SOCK_DGRAM)
                s.bind((vip, port))
                loops.append((datagrams, name, s))
    for fn, name, s in loops:
        threading.Thread(target=fn, args=(name, s), daemon=True).start()
    open(log + ".ready", "w").close()
    threading.Event().wait()

def connect(vip, port, sport, timeout=5):
    s = socket.socket(family(vip), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("", int(sport)))
    s.settimeout(timeout)
    s.connect((vip, int(port)))
    return s

def roundtrip(s, msg):
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        data = s.recv(65536)
        if not data:
            raise EOFError("closed by the peer")
        got += data
    if got != msg:
        raise ValueError("echo %r for %r" % (got, msg))

def bulk(out, vip, port, sport, src, dst):
    data = open(src, "rb").read()
    got = bytearray()
    errs = []
    s = connect(vip, port, sport, 10)

    def send():
        try:
            for i in range(0, len(data), 65536):
                s.sendall(data[i:i + 65536])
            s.shutdown(socket.SHUT_WR)
        except Exception as e:
            errs.append("send: %r" % e)

    t = threading.Thread(target=send)
    t.start()
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except Exception as e:
        errs.append("receive: %r" % e)
    t.join()
    s.close()
    open(dst, "wb").write(got)
    out.append("%d bytes sent, %d back %s" % (len(data), len(got),
                                              " ".join(errs)))
    return 1 if errs else 0

def conns(out, vip, port, sport, n):
    bad = 0
    for i in range(int(n)):
        try:
            s = connect(vip, port, int(sport) + i)
            roundtrip(s, b"connection %d\n" % i)
            s.close()
        except Exception as e:
            out.append("connection from port %d: %r" % (int(sport) + i, e))
            bad += 1
    out.append("%d of %s connections echoed" % (int(n) - bad, n))
    return 1 if bad else 0

def long(out, vip, port, sport, ready, stop):
    n = 0
    end = time.monotonic() + 120
    try:
        s = connect(vip, port, sport)
        s.settimeout(3)
        roundtrip(s, b"line 0\n")
        n = 1
        open(ready, "w").close()
        after = 0
        while after < 5:
            if time.monotonic() > end:
                raise TimeoutError("no stop file")
            time.sleep(0.2)
            roundtrip(s, b"line %d\n" % n)
            n += 1
            if after or os.path.exists(stop):
                after += 1
        s.close()
    except Exception as e:
        out.append("failed after %d lines: %r" % (n, e))
        return 1
    out.append("%d lines echoed" % n)
    return 0

def udp(out, vip, port, sport, n):
    s = socket.socket(family(vip), socket.SOCK_DGRAM)
    s.bind(("", int(sport)))
    s.settimeout(3)
    s.connect((vip, int(port)))
    for i in range(int(n)):
        msg = b"datagram %d" % i
        try:
            s.send(msg)
            got = s.recv(65536)
        except Exception as e:
            out.append("datagram %d: %r" % (i, e))
            return 1
        if got != msg:
            out.append("datagram %d: echo %r" % (i, got))
            return 1
    out.append("%s datagrams echoed" % n)
    return 0

def pmtu(out, vip, port, size, df="do"):
    fam = family(vip)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if fam == socket.AF_INET:
        level, discover, mtu = socket.IPPROTO_IP, 10, 14
    else:
        level, discover, mtu = socket.IPPROTO_IPV6, 23, 24
    # PMTUDISC_DO, or DONT: the client fragments a datagram too big
    s.setsockopt(level, discover, 2 if df == "do" else 0)
    s.settimeout(2)
    s.connect((vip, int(port)))
    try:
        s.send(b"x" * int(size))
        out.append("%d bytes echoed" % len(s.recv(65536)))
    except OSError as e:
        out.append("%s: %s" % (errno.errorcode.get(e.errno, "timeout"), e))
    out.append("mtu %d" % s.getsockopt(level, mtu))
    return 0

def refused(out, proto, vip, port):
    t = time.monotonic()
    try:
        if proto == "tcp":
            s = socket.socket(family(vip), socket.SOCK_STREAM)
            s.settimeout(5)
            s.connect((vip, int(port)))
        else:
            s = socket.socket(family(vip), socket.SOCK_DGRAM)
            s.settimeout(5)
            s.connect((vip, int(port)))
            s.send(b"anyone?")
            s.recv(100)
    except ConnectionRefusedError:
        ms = (time.monotonic() - t) * 1000
        out.append("refused after %d ms" % ms)
        return 0 if ms < 1000 else 1
    except Exception as e:
        out.append("not refused: %r" % e)
        return 1
    out.append("not refused: answered")
    return 1

COMMANDS = { "bulk": bulk, "conns": conns, "long": long, "udp": udp,
             "pmtu": pmtu, "refused": refused }

def agent(d):
    def run(ident, words):
        out = []
        try:
            rc = COMMANDS[words[0]](out, *words[1:])
        except Exception as e:
            out.append("%s: %r" % (" ".join(words), e))
            rc = 2
        with open(os.path.join(d, ident + ".out"), "w") as f:
            f.write("\n".join(out) + "\n")
        tmp = os.path.join(d, ident + ".tmp")
        with open(tmp, "w") as f:
            f.write("%d\n" % rc)
        os.rename(tmp, os.path.join(d, ident + ".rc"))

    cmds = os.fdopen(os.open(os.path.join(d, "cmd"), os.O_RDWR), "r")
    open(os.path.join(d, "ready"), "w").close()
    for line in cmds:
        words = line.split()
        if len(words) >= 2:
            threading.Thread(target=run, args=(words[0], words[1:]),
                             daemon=True).start()

a = sys.argv[2:]
if sys.argv[1] == "server":
    server(a[0], [int(p) for p in a[1].split(",")],
           [int(p) for p in a[2].split(",")], a[3].split(","),
           list(zip(a[4::2], a[5::2])))
elif sys.argv[1] == "agent":
    agent(a[0])
'

# drtun_start TCPPORTS UDPPORTS VIPS CLIENT-NS: start the echo servers
# (one process) in $LB_B1..3, named b1..b3, logging to $DRTUN_LOG, and the
# client agent in CLIENT-NS; wait (up to 60 s) until both are ready.
drtun_start()
{
	DRTUN_LOG=$VIPLB_TMP/drtun-servers.log
	DRTUN_AGENT=$VIPLB_TMP/drtun-agent
	: >"$DRTUN_LOG"
	mkdir -p "$DRTUN_AGENT" && mkfifo "$DRTUN_AGENT/cmd" &&
		echo 0 >"$DRTUN_AGENT/seq" || bail "make $DRTUN_AGENT/cmd"
	python3 -S -c "$DRTUN_PY" server "$DRTUN_LOG" "$1" "$2" "$3" \
		b1 "$LB_B1" b2 "$LB_B2" b3 "$LB_B3" >>"$DRTUN_LOG.err" 2>&1 &
	vl_spid=$!
	defer "kill $vl_spid"
	ip netns exec "$4" python3 -S -c "$DRTUN_PY" agent "$DRTUN_AGENT" \
		>>"$DRTUN_AGENT/err" 2>&1 &
	vl_apid=$!
	defer "kill $vl_apid"
	vl_t=0
	while [ ! -e "$DRTUN_LOG.ready" ] || [ ! -e "$DRTUN_AGENT/ready" ]; do
		if ! kill -0 "$vl_spid" 2>/dev/null ||
		   ! kill -0 "$vl_apid" 2>/dev/null || [ "$vl_t" -ge 600 ]; then
			bail "echo servers or client agent did not start:" \
				"$(cat "$DRTUN_LOG.err" "$DRTUN_AGENT/err")"
		fi
		sleep 0.1
		vl_t=$((vl_t + 1))
	done
}

# drtun_bg COMMAND ARGS...: hand a command to the agent; its id is left
# in $drtun_id.  drtun_wait ID: wait (up to 150 s) until it is done,
# print its report and return its status.  drtun COMMAND ARGS...: both.
# The ids count in a file, so that they stay unique when drtun runs in a
# subshell (check_ok, $(...)); only shell builtins, no process spawns.
drtun_bg()
{
	read -r drtun_id <"$DRTUN_AGENT/seq"
	drtun_id=$((drtun_id + 1))
	echo "$drtun_id" >"$DRTUN_AGENT/seq"
	echo "$drtun_id $*" >"$DRTUN_AGENT/cmd"
}

drtun_wait()
{
	vl_t=0
	while [ ! -e "$DRTUN_AGENT/$1.rc" ]; do
		if [ "$vl_t" -ge 1500 ]; then
			echo "no answer from the client agent after 150 s"
			return 1
		fi
		sleep 0.1
		vl_t=$((vl_t + 1))
	done
	while IFS= read -r vl_l; do
		printf '%s\n' "$vl_l"
	done <"$DRTUN_AGENT/$1.out"
	read -r vl_rc <"$DRTUN_AGENT/$1.rc"
	return "$vl_rc"
}

drtun()
{
	drtun_bg "$@"
	drtun_wait "$drtun_id"
}

# drtun_seen PROTO PEER PEERPORT LOCAL LOCALPORT: the names (b1..b3) of the
# servers that logged this TCP connection or datagram, one per line.
drtun_seen()
{
	awk -v p="$1" -v a="$2" -v ap="$3" -v l="$4" -v lp="$5" \
		'$2 == p && $3 == a && $4 == ap && $5 == l && $6 == lp { print $1 }' \
		"$DRTUN_LOG"
}

# drtun_spread PEER LO HI LOCAL LOCALPORT: how many TCP connections from
# PEER, source ports LO..HI, to LOCAL:LOCALPORT each server logged, as
# "b1=N b2=N b3=N".
drtun_spread()
{
	awk -v a="$1" -v lo="$2" -v hi="$3" -v l="$4" -v lp="$5" '
		$2 == "tcp" && $3 == a && $4 >= lo + 0 && $4 <= hi + 0 &&
		$5 == l && $6 == lp { n[$1]++ }
		END { printf "b1=%d b2=%d b3=%d\n", n["b1"], n["b2"], n["b3"] }
	' "$DRTUN_LOG"
}

# drtun_rx NS DEV...: the packets received by each DEV in NS, on one
# line.  One `ip` for all, read in its one-line form
# "N: DEV[@LINK]: ... RX: bytes packets ... \ BYTES PACKETS ..." by
# shell builtins.
drtun_rx()
{
	vl_ns=$1
	shift
	ip -n "$vl_ns" -s -o link show >"$VIPLB_TMP/drtun-rx" || return 1
	vl_out=""
	for vl_d; do
		vl_n="?"
		while read -r vl_i vl_name vl_rest; do
			vl_name=${vl_name%:}
			[ "${vl_name%@*}" = "$vl_d" ] || continue
			set -f
			set -- $vl_rest
			set +f
			while [ $# -gt 0 ] && [ "$1" != "RX:" ]; do
				shift
			done
			while [ $# -gt 0 ] && [ "$1" != "\\" ]; do
				shift
			done
			vl_n=${3:-?}
		done <"$VIPLB_TMP/drtun-rx"
		vl_out="$vl_out $vl_n"
	done
	echo "${vl_out# }"
}

# drtun_stat PROTO VIP PORT KEY: the counter KEY of a service of $LB_D,
# as `viplb -j stats` shows it ("null" if the CLI does not print it).
drtun_stat()
{
	"$VIPLB" -n "$LB_D" -j stats "$1" "$(drtun_vp "$2" "$3")" |
		jq -r ".[0].stats.$4"
}

# drtun_pin PROTO VIP PORT SRC SPORT: what `viplb service lookup` of
# $LB_D says about a flow, as "PIN BACKEND-ADDR" (BACKEND-ADDR is null if
# there is no backend).
drtun_pin()
{
	"$VIPLB" -n "$LB_D" -j service lookup "$1" "$(drtun_vp "$2" "$3")" \
		from "$(drtun_vp "$4" "$5")" |
		jq -r '"\(.pin) \(.backend.addr)"'
}
# ===================================================== end of dr/tun helpers ===

# ============================================================ HA helpers ===
# Helpers of ha_ecmp.sh and ha_vrrp.sh: daemons (BIRD, keepalived,
# conntrackd, viplbd) in namespaces, each killed by its PID, and waits
# that time what they wait for.  The VM's root is read-only: every
# configuration, socket, PID and log file of theirs is under $VIPLB_TMP.

# ha_netns VAR:PREFIX...: a netns PREFIX-<suffix> for each pair, its name
# in VAR, with no reverse-path filter (real servers answer from VIPs); at
# exit, every process inside is killed and the netns deleted.
ha_netns()
{
	vl_all=""
	for vl_p; do
		vl_n=${vl_p#*:}-$VIPLB_SUFFIX
		eval "${vl_p%%:*}=\$vl_n"
		vl_all="$vl_all $vl_n"
	done
	vl_netns="$vl_netns$vl_all"
	# shellcheck disable=SC2086 # one name per line
	printf 'netns add %s\n' $vl_all | ip -b - || bail "ip netns add"
	for vl_n in $vl_all; do
		defer "lb_ns_kill $vl_n"
		ip netns exec "$vl_n" sh -c 'for f in /proc/sys/net/ipv4/conf/*/rp_filter; do
			echo 0 >"$f" || exit 1
		done' || bail "rp_filter off in $vl_n"
	done
}

# ha_real_servers GW [VIP...]: $LB_B1..3 get lb_be4 1..3 on eth0 and a
# default route via GW; with VIPs (dr and tun), each VIP on lo, tunl0 up
# (the ipip module loaded) and no ARP answers for the VIPs.
ha_real_servers()
{
	vl_gw=$1
	shift
	for vl_i in 1 2 3; do
		eval "vl_ns=\$LB_B$vl_i"
		{
			echo "link set lo up"
			echo "addr add $(lb_be4 "$vl_i")/24 dev eth0"
			echo "link set eth0 up"
			echo "route add default via $vl_gw"
			for vl_v; do
				echo "addr add $vl_v/32 dev lo"
			done
			[ $# -eq 0 ] || echo "link set tunl0 up"
		} | ip -n "$vl_ns" -b - || bail "configure real server $vl_i"
		[ $# -eq 0 ] || ip netns exec "$vl_ns" sysctl -qw \
			net.ipv4.conf.all.arp_ignore=1 \
			net.ipv4.conf.all.arp_announce=2 ||
			bail "arp sysctls in real server $vl_i"
	done
}

# ha_daemon VAR NS LOG CMD...: start CMD in NS (in the foreground of a
# background job: `ip netns exec' execs it, so $! is its PID), its output
# appended to LOG; store the PID in VAR and kill it at exit.
ha_daemon()
{
	vl_var=$1
	vl_ns=$2
	vl_log=$3
	shift 3
	ip netns exec "$vl_ns" "$@" >>"$vl_log" 2>&1 &
	eval "$vl_var=\$!"
	defer "kill $!"
}

# ha_stop PID: stop a daemon of ha_daemon (SIGTERM), and wait (up to 10 s)
# until it is gone.  Call it in this shell, not through check_ok: in a
# command substitution the daemon's zombie, which only this shell reaps,
# looks alive for the whole 10 s.
ha_stop()
{
	kill "$1" 2>/dev/null || return 0
	vl_t=0
	while kill -0 "$1" 2>/dev/null && [ "$vl_t" -lt 200 ]; do
		sleep 0.05
		vl_t=$((vl_t + 1))
	done
	! kill -0 "$1" 2>/dev/null
}

# ha_wait SECONDS CMD...: run CMD every 50 ms until it succeeds, for at
# most SECONDS.  Leaves the time it took, in ms, in $ha_ms (counted from
# $ha_t0, in ms since the epoch, if the caller set it, else from now);
# returns 1 on timeout.
ha_wait()
{
	vl_max=$1
	shift
	: "${ha_t0:=$(lb_ms)}"
	vl_end=$(($(lb_ms) + vl_max * 1000))
	until "$@"; do
		if [ "$(lb_ms)" -ge "$vl_end" ]; then
			ha_ms=$(($(lb_ms) - ha_t0))
			ha_t0=
			return 1
		fi
		sleep 0.05
	done
	ha_ms=$(($(lb_ms) - ha_t0))
	ha_t0=
	return 0
}

# ha_streams_start NS VIPS PORT N [OPTIONS...]: run streams.py (N long
# connections over VIPS, see there) in NS until ha_streams_end, and wait
# (up to 300 s) until its connections are open.
ha_streams_start()
{
	vl_ns=$1
	vl_vips=$2
	vl_port=$3
	vl_n=$4
	shift 4
	ha_streams=$VIPLB_TMP/streams.$(rand_suffix)
	ip netns exec "$vl_ns" python3 -S "$VIPLB_SELFTESTS/streams.py" \
		"$vl_vips" "$vl_port" "$vl_n" "$ha_streams.ready" \
		--stop "$ha_streams.stop" \
		"$@" >"$ha_streams.out" 2>"$ha_streams.err" &
	ha_streams_pid=$!
	defer "kill $ha_streams_pid"
	vl_t=0
	while [ ! -e "$ha_streams.ready" ]; do
		if ! kill -0 "$ha_streams_pid" 2>/dev/null || [ "$vl_t" -ge 3000 ]; then
			fail "open $vl_n connections to $vl_vips" \
				"$(cat "$ha_streams.err")"
			return 1
		fi
		sleep 0.1
		vl_t=$((vl_t + 1))
	done
}

# ha_streams_end: tell streams.py to stop, wait for its report, and leave
# it in $ha_report (JSON; empty if there is none).
ha_streams_end()
{
	: >"$ha_streams.stop"
	wait "$ha_streams_pid"
	ha_report=$(cat "$ha_streams.out")
	if ! printf '%s\n' "$ha_report" | jq -e . >/dev/null 2>&1; then
		log "no report from streams.py: $ha_report $(cat "$ha_streams.err")"
		ha_report=
	fi
}

# ha_jr FILTER: FILTER applied to $ha_report.
ha_jr()
{
	printf '%s\n' "$ha_report" | jq -r "$1"
}
# ======================================================== end of HA helpers ===
