# SPDX-License-Identifier: GPL-2.0
#
# tables/lib.sh: topology and outcome recording of tables_diff.sh, the
# differential test of viplb's "small iptables" against iptables-legacy.
# Sourced after ../lib.sh.
#
# ---------------------------------------------------------- the corpus ---
#
# tables/cases/NAME.rules	a ruleset in iptables-save format; IPv6 if
#				NAME ends in "6" (loaded with the ip6tables /
#				viplb6 commands), else IPv4
# tables/cases/NAME.traffic	a bash fragment, sourced once per run, that
#				makes the connections (conn lines below)
# tables/cases/NAME.expect	what the iptables run must show: each line
#				must be a line of its outcome record, in order
#				("~ RE": a line matching the regexp RE)
#
# A case runs twice, each time on a fresh topology (new namespaces, new
# veths, new servers): once with the rules loaded by iptables-legacy-restore
# (or ip6tables-legacy-restore), once by viplb-restore (viplb6-restore), in
# the router namespace.  The namespaces are anonymous: tables/agent.py
# creates them, holds them and runs the restore and save commands in them,
# and they vanish with it, so no run can leave one behind (and, process
# spawns being slow in the VM, a topology costs none).  Each run gives an outcome record: one line per
# connection attempt, then the counter lines.  The two records must be
# identical; the iptables one must also hold NAME.expect, so that a case
# which broke the topology (every record "timeout", say) does not pass.
#
# ---------------------------------------------------------- the topology ---
#
#   client c                 router r (the rules)             servers
#   eth0 203.0.113.2/24 ---- veth0 203.0.113.1/24
#        .3 .4 .5 (secondary)      2001:db8:c::1/64
#        2001:db8:c::2/64
#        2001:db8:c::3/64 (deprecated: only when bound)
#   default via r            srv1 198.51.100.1  peer .11 ---- eth0 of s1
#                                 2001:db8:b::1/128           198.51.100.11
#                                 route ::11/128              2001:db8:b::11
#                            srv2 198.51.100.2  peer .12 ---- s2 (.12, ::12)
#                                 2001:db8:b::2, ::12
#                            srv3 198.51.100.3  peer .13 ---- s3 (.13, ::13)
#                                 2001:db8:b::3, ::13
#                                                         each: default via r
#
# The router forwards IPv4 and IPv6 and has no default route: 192.0.2.0/24
# and 2001:db8:a::/64 (the VIPs and NAT pools of the cases) exist on no
# interface, so a packet to them that is not translated is answered with
# an ICMP network unreachable.  Every namespace (c, r, s1, s2, s3) runs the
# servers of tables/agent.py (TCP 20-27, 80, 443, 2000, 8000-8002, 8080;
# UDP 53, 123, 8000-8002; IPv4 and IPv6), which answer with their name,
# the port reached and the peer address they saw.  No traffic leaves the
# namespaces: no device of them is linked to the outside.
#
# ------------------------------------------------------- traffic scripts ---
#
#   conn tcp|udp|udplite|sctp|dccp FROM DST PORT [sport=N] [src=ADDR]
#        [peerport]
#   conn icmp FROM DST [src=ADDR]
#	one connection attempt from the namespace FROM (c, r, s1, s2, s3);
#	appends its outcome line (see tables/agent.py for the format), e.g.
#	"tcp c->198.51.100.11:80 ok s1:80 saw 203.0.113.2", or "refused rst",
#	"refused icmp 3/3 from 203.0.113.1", "unreachable EHOSTUNREACH icmp
#	3/13 from 203.0.113.1", "timeout".  The timeout is TABLES_TIMEOUT
#	seconds (default 2).  sport and src bind the client's socket;
#	with sport the line tells whether the server saw that port ("sport
#	kept"/"sport changed"), with peerport which port it saw.
#	SCTP and DCCP servers listen on ports 80 and 8000-8002 only, and only
#	in the runs of a case whose traffic script has a "conn sctp" or
#	"conn dccp" line.  Where the kernel has no such sockets (the sctp
#	and dccp modules: Debian's 6.1 and the debug kernel have them, the
#	host's kernel need not), the run does not source the traffic script,
#	records "traffic not run: ..." and sets TB_NOTRAFFIC to the reason.
#   distinct_saw
#	appends "distinct saw: N ADDR..." about the addresses the servers saw
#	in this run's ok lines (sorted, each once)
#   mask_ports LO-HI
#	in the outcome lines since the last mask_ports, writes a server port
#	within LO-HI as LO-HI, and appends "ports: N distinct in LO-HI": for
#	NAT to a port range, where the kernel picks a port at random
#   counter_modes MODE...
#	how the counters of this case are compared (below)
#
# ------------------------------------------------------------ counters ---
#
# After the traffic, the router's rules are saved with -c (iptables-legacy-
# save -c or viplb-save -c: the same format) and each counter of the tables
# of the case file becomes one record line, sorted by table, chain and
# position (iptables-save lists user chains alphabetically, viplb-save in
# load order; iptables-save lists the tables that exist in the netns,
# viplb-save filter and nat always):
#
#	filter FORWARD #1 nonzero
#	filter FORWARD policy DROP nonzero
#	nat KUBE-SVC-WEB #2 [3:180]
#	nat POSTROUTING policy ACCEPT [4:240]
#
# A counter is compared either exactly ([packets:bytes]) or reduced to
# "zero" / "nonzero".  Defaults:
#
#   nat     exact.  nat chains see the first packet of each connection
#	    only, and every case makes a fixed set of connections.  (A case
#	    must not DROP TCP connections whose first packet it translates:
#	    a SYN dropped in FORWARD leaves no conntrack entry, its
#	    retransmission is a new connection to nat, and how many
#	    retransmissions fit in the timeout is timing.)
#   filter  zero/nonzero.  filter chains see every packet, and how many a
#	    TCP connection takes is timing: delayed ACKs, FIN piggybacked or
#	    not, SYNs retransmitted after 1 s towards a DROP within a 2 s
#	    timeout.  On the router's INPUT and OUTPUT, IPv6 also brings
#	    neighbour discovery (untracked, so absent from nat).
#
# A case whose traffic makes its filter counters deterministic (UDP single
# datagrams answered or rejected, single ICMP echoes, TCP only where it is
# rejected at once by REJECT, which never retransmits) says so with
# `counter_modes filter=exact`.  The modes, later ones overriding:
#	TABLE=exact|nz  TABLE:CHAIN=exact|nz  TABLE:CHAIN:N=exact|nz
#	TABLE:CHAIN:policy=exact|nz
#
# ----------------------------------------------------------- round trip ---
#
# Right after each restore, before any traffic, the run saves the rules
# without -c.  With comment lines removed, counters set to [0:0], and only
# the tables of the case file kept, in the order of their names
# (iptables-restore leaves the other tables alone, iptables-save lists
# the tables the netns has in the order it created them, viplb-save filter
# and nat always), `viplb-save` after `viplb-restore < f` must equal
# `iptables-legacy-save` after `iptables-legacy-restore < f`.

TB_DIR=$VIPLB_SELFTESTS/tables
TB_CASES=$TB_DIR/cases
TB_NAMES="c r s1 s2 s3"
TB_MODES=""
TB_T=$VIPLB_TMP

# ---------------------------------------------------------------- agent ---

# tb_agent_start: start tables/agent.py, our servers and clients.
tb_agent_start()
{
	coproc TB_AGENT { exec python3 -S "$TB_DIR/agent.py" 2>>"$TB_T/agent.log"; }
	# shellcheck disable=SC2154 # set by coproc
	defer "kill $TB_AGENT_PID"
	TB_IN=${TB_AGENT[1]}
	TB_OUT=${TB_AGENT[0]}
	IFS= read -r -t 120 TB_REPLY <&"$TB_OUT"
	[ "$TB_REPLY" = ready ] ||
		bail "tables/agent.py did not start: $(cat "$TB_T/agent.log")"
}

# tb_agent CMD...: send one command, leave the answer in $TB_REPLY.
# Fails if the agent reports an error or does not answer.
tb_agent()
{
	printf '%s\n' "$*" >&"$TB_IN" || { TB_REPLY="agent gone"; return 1; }
	if ! IFS= read -r -t 60 TB_REPLY <&"$TB_OUT"; then
		TB_REPLY="agent did not answer: $*"
		return 1
	fi
	case $TB_REPLY in
	agent-error*) return 1 ;;
	esac
	return 0
}

# ------------------------------------------------------------- topology ---

# The topology, as agent commands (see tables/agent.py).  IPv4 legs to the
# servers are point-to-point (peer) addresses; IPv6 legs get /128
# addresses and host routes, which unlike IPv6 peer routes exist as soon
# as they are added.  Sysctls come before the links, so that the links
# get them: no duplicate address detection, no router solicitations, so
# no packet but the test's own (and neighbour discovery).
TB_TOPO="netns $TB_NAMES
sysctl c net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.router_solicitations=0 net.ipv6.conf.default.router_solicitations=0
sysctl s1 net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.router_solicitations=0 net.ipv6.conf.default.router_solicitations=0
sysctl s2 net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.router_solicitations=0 net.ipv6.conf.default.router_solicitations=0
sysctl s3 net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.router_solicitations=0 net.ipv6.conf.default.router_solicitations=0
sysctl r net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
veth r veth0 c eth0
veth r srv1 s1 eth0
veth r srv2 s2 eth0
veth r srv3 s3 eth0
addr r veth0 203.0.113.1/24
addr r veth0 2001:db8:c::1/64
addr r srv1 198.51.100.1/32 peer 198.51.100.11
addr r srv1 2001:db8:b::1/128
addr r srv2 198.51.100.2/32 peer 198.51.100.12
addr r srv2 2001:db8:b::2/128
addr r srv3 198.51.100.3/32 peer 198.51.100.13
addr r srv3 2001:db8:b::3/128
up r veth0
up r srv1
up r srv2
up r srv3
route r 2001:db8:b::11/128 dev srv1
route r 2001:db8:b::12/128 dev srv2
route r 2001:db8:b::13/128 dev srv3
addr c eth0 203.0.113.2/24
addr c eth0 203.0.113.3/24
addr c eth0 203.0.113.4/24
addr c eth0 203.0.113.5/24
addr c eth0 2001:db8:c::2/64
addr c eth0 2001:db8:c::3/64 deprecated
up c eth0
route c default via 203.0.113.1
route c default via 2001:db8:c::1 dev eth0
addr s1 eth0 198.51.100.11/32 peer 198.51.100.1
addr s1 eth0 2001:db8:b::11/128
up s1 eth0
route s1 2001:db8:b::1/128 dev eth0
route s1 default via 198.51.100.1
route s1 default via 2001:db8:b::1 dev eth0
addr s2 eth0 198.51.100.12/32 peer 198.51.100.2
addr s2 eth0 2001:db8:b::12/128
up s2 eth0
route s2 2001:db8:b::2/128 dev eth0
route s2 default via 198.51.100.2
route s2 default via 2001:db8:b::2 dev eth0
addr s3 eth0 198.51.100.13/32 peer 198.51.100.3
addr s3 eth0 2001:db8:b::13/128
up s3 eth0
route s3 2001:db8:b::3/128 dev eth0
route s3 default via 198.51.100.3
route s3 default via 2001:db8:b::3 dev eth0
serve $TB_NAMES"

# tb_topo: a fresh topology, see above: the agent's namespaces of the last
# one are forgotten first.
tb_topo()
{
	[ -e "$TB_T/topo" ] || printf '%s\n' "$TB_TOPO" >"$TB_T/topo"
	tb_agent forget || return
	# shellcheck disable=SC2086 # one protocol a word
	tb_agent streams $TB_STREAMS || return
	case $TB_REPLY in
	missing*) TB_NOTRAFFIC="this kernel has no ${TB_REPLY#missing } sockets" ;;
	esac
	tb_agent batch "$TB_T/topo"
}

# tb_case_streams CASE: the stream protocols besides TCP that the traffic
# of CASE connects with (sctp, dccp), one a line.
tb_case_streams()
{
	sed -n 's/^[[:space:]]*conn \(sctp\|dccp\) .*/\1/p' \
		"$TB_CASES/$1.traffic" | sort -u
}

# tb_teardown: close the servers and let the kernel delete the namespaces.
tb_teardown()
{
	tb_agent forget
}

# tb_rexec IN OUT ERR CMD...: run CMD in the router namespace, stdin from
# IN ("-": none), stdout to OUT, stderr to ERR; returns its exit status.
tb_rexec()
{
	tb_agent run r "$@" || { echo "$TB_REPLY" >>"$3"; return 125; }
	return "${TB_REPLY#rc }"
}

# ------------------------------------------------------- traffic helpers ---

# conn ARGS...: see above.  TB_REC is the record of the current run.
conn()
{
	if ! tb_agent conn "$@"; then
		TB_REPLY="conn $*: $TB_REPLY"
	fi
	printf '%s\n' "$TB_REPLY" >>"$TB_REC"
	[ -z "${TABLES_DEBUG:-}" ] || tb_mark "conn $*"
}

mask_ports()
{
	tb_agent maskports "$TB_REC" "$1" ||
		echo "mask_ports: $TB_REPLY" >>"$TB_REC"
}

counter_modes()
{
	TB_MODES="$TB_MODES $*"
}

distinct_saw()
{
	local l seen="" a n=0
	while IFS= read -r l; do
		case $l in
		*" ok "*" saw "*)
			a=${l#* saw }
			a=${a%% *}
			case " $seen " in
			*" $a "*) ;;
			*) seen="$seen $a" n=$((n + 1)) ;;
			esac
			;;
		esac
	done <"$TB_REC"
	# shellcheck disable=SC2086 # one address per word
	seen=$(printf '%s\n' $seen | sort | tr '\n' ' ')
	printf 'distinct saw: %d %s\n' "$n" "${seen% }" >>"$TB_REC"
}

# ------------------------------------------------------------- the runs ---

# tb_mark PHASE: with TABLES_DEBUG set, log the time since the last mark.
tb_mark()
{
	[ -n "${TABLES_DEBUG:-}" ] || return 0
	local now=${EPOCHREALTIME/./}
	log "time: $1 $(((now - ${TB_LAST:-$now}) / 1000)) ms"
	TB_LAST=$now
}

# tb_cmds LOADER CASE: set TB_RESTORE and TB_SAVE, the commands of
# LOADER (iptables or viplb) for the family of CASE (IPv6 if its name ends
# in 6).
tb_cmds()
{
	local fam=4
	case $2 in
	*6) fam=6 ;;
	esac
	case $1$fam in
	iptables4) TB_RESTORE=iptables-legacy-restore TB_SAVE=iptables-legacy-save ;;
	iptables6) TB_RESTORE=ip6tables-legacy-restore TB_SAVE=ip6tables-legacy-save ;;
	viplb4) TB_RESTORE=$VIPLB_ROOT/user/viplb/viplb-restore
		TB_SAVE=$VIPLB_ROOT/user/viplb/viplb-save ;;
	viplb6) TB_RESTORE=$VIPLB_ROOT/user/viplb/viplb6-restore
		TB_SAVE=$VIPLB_ROOT/user/viplb/viplb6-save ;;
	esac
}

# tb_tables FILE: set TB_TABLES to the tables of a ruleset file.
tb_tables()
{
	local l
	TB_TABLES=""
	while IFS= read -r l; do
		case $l in
		\**) TB_TABLES="$TB_TABLES ${l#\*}" ;;
		esac
	done <"$1"
}

# tb_run CASE LOADER TAG: one run of CASE on a fresh topology, loaded by
# LOADER.  Leaves the outcome record in $TB_T/CASE.TAG.rec and the round-
# trip form of the save in $TB_T/CASE.TAG.rt; the restore's stderr in
# $TB_T/CASE.TAG.err; in $TB_XTABLES the iptables-legacy tables that exist
# in the router after the traffic ("none" is what a viplb run must show).  Fails (with $TB_WHY) if the run could not happen;
# a failing restore is recorded, not a failure of the run.
tb_run()
{
	local c=$1 loader=$2 tag=$3 f rc p
	f=$TB_CASES/$c.rules
	p=$TB_T/$c.$tag
	tb_cmds "$loader" "$c"
	tb_tables "$f"
	TB_REC=$p.rec
	: >"$TB_REC"
	: >"$p.rt"
	TB_MODES="nat=exact filter=nz"
	TB_STREAMS=$(tb_case_streams "$c")
	TB_NOTRAFFIC=""
	tb_mark start
	if ! tb_topo; then
		# shellcheck disable=SC2034 # for tables_diff.sh
		TB_WHY="cannot build the topology: $TB_REPLY"
		tb_teardown
		return 1
	fi
	tb_mark topology
	tb_rexec "$f" "$p.out" "$p.err" "$TB_RESTORE"
	rc=$?
	tb_mark restore
	if [ $rc -ne 0 ]; then
		echo "$TB_RESTORE failed (exit $rc): $(<"$p.err")" >>"$TB_REC"
		tb_teardown
		return 0
	fi
	tb_rexec - "$p.save" "$p.err2" "$TB_SAVE"
	rc=$?
	# shellcheck disable=SC2086 # the table names
	if [ $rc -ne 0 ] || ! tb_agent norm "$p.save" "$p.rt" $TB_TABLES; then
		echo "$TB_SAVE failed (exit $rc): $TB_REPLY $(<"$p.err2")" >"$p.rt"
	fi
	tb_mark save
	# TB_AFTER_SAVE, if set: a function called with CASE and the run's
	# file prefix, right after the save (tables_nft_test.sh saves --nft).
	[ -z "${TB_AFTER_SAVE:-}" ] || "$TB_AFTER_SAVE" "$c" "$p"
	if [ -n "$TB_NOTRAFFIC" ]; then
		echo "traffic not run: $TB_NOTRAFFIC" >>"$TB_REC"
	else
		# shellcheck disable=SC1090 # the case's traffic
		. "$TB_CASES/$c.traffic"
	fi
	tb_mark traffic
	tb_agent xtables r
	# shellcheck disable=SC2034 # for tables_diff.sh
	TB_XTABLES=$TB_REPLY
	# shellcheck disable=SC2086 # the modes and tables, one word each
	if ! tb_rexec - "$p.savec" "$p.err3" "$TB_SAVE" -c; then
		echo "$TB_SAVE -c failed: $(<"$p.err3")" >>"$TB_REC"
	elif ! tb_agent counters "$p.savec" "$TB_REC" $TB_MODES $TB_TABLES; then
		echo "counters: $TB_REPLY" >>"$TB_REC"
	fi
	tb_mark counters
	tb_teardown
	tb_mark teardown
	return 0
}

# tb_cases: the case names, sorted (TABLES_CASES, if set, chooses some).
tb_cases()
{
	local f
	if [ -n "${TABLES_CASES:-}" ]; then
		echo "$TABLES_CASES"
		return
	fi
	for f in "$TB_CASES"/*.rules; do
		f=${f##*/}
		echo "${f%.rules}"
	done
}
