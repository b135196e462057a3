#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `viplb service lookup' (VIPLB_CMD_SERVICE_LOOKUP): ask each scheduler
# which backend it gives a flow, without sending a packet and without
# changing any state.
#
#   client 203.0.113.X:SPORT ---lookup---> VIP 192.0.2.10:80 (maglev)
#                                            |-- 198.51.100.1:8080 weight 1
#                                            |-- 198.51.100.2:8080 weight 2
#                                            `-- 198.51.100.3:8080 weight 3
#
#   maglev       3000 flows spread 1:2:3 (within 15%); the same flow gets
#                the same backend; a drained backend gets none; removing
#                a backend leaves (almost) every other flow where it was
#   sh           the source address alone picks the backend
#   rr, wrr, lc  a lookup is a peek: asking again gives the same answer
#   no backend (none, or all of weight 0): backend null, exit status 0
#   IPv6 works; a source of the other family is refused
#   port 0: the destination port (dport) is part of the flow hash
#
# Thousands of lookups go through one `viplb -j -b FILE', which prints one
# JSON object per lookup line (JSON lines).  Every process costs a lot
# under TCG, so the answers are checked in bash, not with a jq or a grep
# each.  Everything happens in the init netns of the VM.

. "$(dirname "$0")/lib.sh"

NFLOWS=3000

require_root
require_cmd jq
mod_fresh
dmesg_mark

VIP=192.0.2.10:80
BE1=198.51.100.1
BE2=198.51.100.2
BE3=198.51.100.3

# setup DESC LINE...: run the batch LINEs (a service and its backends)
# with one viplb.
setup()
{
	su_d=$1
	shift
	printf '%s\n' "$@" >"$VIPLB_TMP/setup.in"
	check_viplb "$su_d" -b "$VIPLB_TMP/setup.in"
}

# lookups NAME LINE...: run the batch LINEs (lookups, and commands that
# print nothing) as $VIPLB_TMP/NAME.in through one `viplb -j -b', which
# prints one JSON object per lookup.  One jq turns the answers into bash
# arrays: answer i (to lookup LINES[i]) is SRC[i], SPORT[i], DPORT[i],
# PIN[i] and the backend A[i] (address, "null" for none), BPORT[i], W[i];
# N[ADDR] counts the answers per backend address.  Fails a check and
# returns 1 unless viplb exits 0, prints nothing on stderr and answers
# every lookup.
lookups()
{
	lk_name=$1
	lk=$VIPLB_TMP/$1
	shift
	printf '%s\n' "$@" >"$lk.in"
	"$VIPLB" -j -b "$lk.in" >"$lk.out" 2>"$lk.err"
	lk_rc=$?
	# shellcheck disable=SC2016 # jq, not shell
	jq -rs 'def col(n; f): "\(n)=(\(map(f | tostring) | @sh))";
		col("SRC"; .src), col("SPORT"; .sport), col("DPORT"; .dport),
		col("PIN"; .pin), col("A"; .backend.addr // "null"),
		col("BPORT"; .backend.port // "null"),
		col("W"; .backend.weight // "null"),
		"N=(\(group_by(.backend.addr // "null") |
		      map("[\(.[0].backend.addr // "null" | @sh)]=\(length)") |
		      join(" ")))"' \
		"$lk.out" >"$lk.sh" 2>>"$lk.err" || lk_rc="$lk_rc, jq failed"
	lk_err=$(<"$lk.err")
	unset N
	declare -gA N
	# shellcheck disable=SC1090 # generated above
	. "$lk.sh"
	LINES=()
	for lk_l in "$@"; do
		[[ $lk_l == "service lookup "* ]] && LINES+=("$lk_l")
	done
	if [ "$lk_rc" != 0 ] || [ -n "$lk_err" ] ||
	   [ "${#A[@]}" -ne "${#LINES[@]}" ]; then
		fail "viplb -j -b $lk_name.in: ${#LINES[@]} lookups" \
			"exit $lk_rc, ${#A[@]} answers, stderr: $lk_err"
		return 1
	fi
	return 0
}

# flows PROTO VIP COUNT: COUNT lookups towards VIP in the array FLOWS, from
# 203.0.113.(i % 250 + 1):(10000 + i), i = 0..COUNT-1: all different flows.
flows()
{
	FLOWS=()
	for ((fl_i = 0; fl_i < $3; fl_i++)); do
		FLOWS+=("service lookup $1 $2 from 203.0.113.$((fl_i % 250 + 1)):$((10000 + fl_i))")
	done
}

# within DESC GOT WANT PERCENT: GOT is WANT +- PERCENT %.
within()
{
	if [ $((100 * ($2 - $3))) -le $(($4 * $3)) ] &&
	   [ $((100 * ($3 - $2))) -le $(($4 * $3)) ]; then
		pass "$1: $2 (want $3 +- $4%)"
	else
		fail "$1: $2 (want $3 +- $4%)"
	fi
}

# same_answers DESC OLD...: A (the last lookups) equals OLD.
same_answers()
{
	sa_d=$1
	shift
	if [ "$*" = "${A[*]}" ]; then
		pass "$sa_d"
	else
		fail "$sa_d" "$(diff <(printf '%s\n' "$@") <(printf '%s\n' "${A[@]}") | head -5)"
	fi
}

# backends: the distinct backend addresses of the last lookups, sorted,
# each followed by a blank.
backends()
{
	printf '%s\n' "${!N[@]}" | sort | tr '\n' ' '
}

# --------------------------------------------------- output and errors ---

# An explicit M: the paper's properties checked below (a drain moves no
# other flow, a removal keeps >= 90%) hold for a fixed M.  An automatic M
# follows the backend count (3 -> 2 backends: 509 -> 251 slots) and a
# change of M moves most flows (bench/results/memory.md).
setup "maglev service $VIP table-size 65537, backends of weight 1, 2, 3" \
	"service add tcp $VIP table-size 65537" \
	"backend add tcp $VIP $BE1:8080 weight 1" \
	"backend add tcp $VIP $BE2:8080 weight 2" \
	"backend add tcp $VIP $BE3:8080 weight 3"
BASE=$(save_config) || bail "viplb save"

check_viplb "text lookup" service lookup tcp $VIP from 203.0.113.5:40000
check_grep "text: backend, weight and why, on one line" \
	'^backend 198\.51\.100\.[123]:8080 weight [123] \(new flow: scheduler choice\)$' "$out"

check_viplb "JSON lookup" -j service lookup tcp $VIP from 203.0.113.5:40000
J=$out
check_eq "JSON: one line" "${J//[^$'\n']/}" ""
check_ok "JSON: exactly the documented keys" jq -e \
	'keys == (["proto","vip","port","src","sport","dport","pin","backend"] | sort) and (.backend | keys) == ["addr","port","weight"]' <<<"$J"
check_ok "JSON: the service, the flow, pin none, a backend and its weight" jq -e \
	'.proto == "tcp" and .vip == "192.0.2.10" and .port == 80 and
	 .src == "203.0.113.5" and .sport == 40000 and .dport == 80 and
	 .pin == "none" and .backend.port == 8080 and
	 ([.backend.addr, .backend.weight] |
	  IN(["198.51.100.1",1], ["198.51.100.2",2], ["198.51.100.3",3]))' <<<"$J"
vrun -j -p service lookup tcp $VIP from 203.0.113.5:40000
# shellcheck disable=SC2016 # $j is jq's
check_ok "-j -p: the same object, pretty-printed" jq -e --argjson j "$J" \
	'. == $j' <<<"$out"

vrun service lookup tcp 192.0.2.99:80 from 203.0.113.5:40000
check_eq "no such service: exit 1, nothing on stdout" "$rc $out" "1 "
check_grep "no such service: the kernel's message" \
	'^viplb: service lookup tcp 192\.0\.2\.99:80 from 203\.0\.113\.5:40000: .*\(kernel: service does not exist\)$' "$err"
vrun service lookup tcp $VIP from 203.0.113.5
check_eq "source without port: exit 1" "$rc" 1
check_grep "source without port: quoted" "missing port in source \`203\.0\.113\.5'" "$err"
vrun service lookup tcp $VIP from 203.0.113.5:1 dport 81
check_eq "dport for a VIP of port 80: exit 1" "$rc" 1
check_grep "dport for a VIP of port 80: explained" "only for a VIP of port 0" "$err"

printf '%s\n' "service add tcp 192.0.2.77:80" \
	"service lookup tcp $VIP from 203.0.113.5:40000" >"$VIPLB_TMP/restore.in"
vrun restore "$VIPLB_TMP/restore.in"
check_eq "service lookup in a restore file: exit 1" "$rc" 1
check_grep "service lookup in a restore file: refused" \
	"line 2: \`service lookup' not allowed in restore" "$err"

# ------------------------------------------------------------- maglev ---

flows tcp $VIP $NFLOWS
MAGLEV_FLOWS=("${FLOWS[@]}")
t0=$EPOCHREALTIME
if lookups maglev "${MAGLEV_FLOWS[@]}"; then
	t1=$EPOCHREALTIME
	log "$NFLOWS lookups with one viplb -j -b, and their jq: $(((${t1/./} - ${t0/./}) / 1000)) ms"
	pass "maglev: $NFLOWS lookups, one JSON line each"
	MAGLEV=("${A[@]}")
	bad=""
	for ((i = 0; i < NFLOWS; i++)); do
		# Answer i is about flow i: the batch keeps the file's order.
		if [ "${PIN[i]}" != none ] || [ "${A[i]}" = null ] ||
		   [ "${BPORT[i]}" != 8080 ] || [ "${W[i]}" != "${A[i]##*.}" ] ||
		   [ "${DPORT[i]}" != 80 ] ||
		   [ "${LINES[i]}" != "service lookup tcp $VIP from ${SRC[i]}:${SPORT[i]}" ]; then
			bad="line $((i + 1)): ${LINES[i]} -> ${SRC[i]}:${SPORT[i]} dport ${DPORT[i]} pin ${PIN[i]} ${A[i]}:${BPORT[i]} weight ${W[i]}"
			break
		fi
	done
	check_eq "maglev: each answer echoes its flow, pin none, a backend and its weight" \
		"$bad" ""
	within "maglev: $BE1 (weight 1)" "${N[$BE1]:-0}" $((NFLOWS / 6)) 15
	within "maglev: $BE2 (weight 2)" "${N[$BE2]:-0}" $((NFLOWS * 2 / 6)) 15
	within "maglev: $BE3 (weight 3)" "${N[$BE3]:-0}" $((NFLOWS * 3 / 6)) 15
fi

if lookups again "${MAGLEV_FLOWS[@]}"; then
	same_answers "maglev: every flow asked again gets the same backend" \
		"${MAGLEV[@]}"
fi
check_eq "lookups change no configuration" "$(save_config)" "$BASE"

if lookups drained "backend set tcp $VIP $BE2:8080 weight 0" \
	"${MAGLEV_FLOWS[@]}"; then
	check_eq "drained $BE2: it gets no flow, every flow has a backend" \
		"${N[$BE2]:-0} ${N[null]:-0}" "0 0"
	moved=0
	for ((i = 0; i < NFLOWS; i++)); do
		if [ "${MAGLEV[i]}" != $BE2 ] && [ "${MAGLEV[i]}" != "${A[i]}" ]; then
			moved=$((moved + 1))
		fi
	done
	check_eq "maglev: draining moves only the drained backend's flows" \
		"$moved" 0
fi
if lookups undrained "backend set tcp $VIP $BE2:8080 weight 2" \
	"${MAGLEV_FLOWS[@]}"; then
	same_answers "maglev: weight 2 again: the same answers as before" \
		"${MAGLEV[@]}"
fi

if lookups deleted "backend del tcp $VIP $BE3:8080" "${MAGLEV_FLOWS[@]}"; then
	check_eq "deleted $BE3: it gets no flow, every flow has a backend" \
		"${N[$BE3]:-0} ${N[null]:-0}" "0 0"
	# Minimal disruption: flows that were on $BE1 or $BE2 stay there.
	stay=0
	was=0
	for ((i = 0; i < NFLOWS; i++)); do
		[ "${MAGLEV[i]}" = $BE3 ] && continue
		was=$((was + 1))
		[ "${MAGLEV[i]}" = "${A[i]}" ] && stay=$((stay + 1))
	done
	log "maglev: $stay of the $was flows of the surviving backends stayed"
	if [ "$was" -gt 0 ] && [ $((100 * stay)) -ge $((90 * was)) ]; then
		pass "maglev: >= 90% of the surviving backends' flows stay ($stay/$was)"
	else
		fail "maglev: >= 90% of the surviving backends' flows stay ($stay/$was)"
	fi
fi

# ----------------------------------------------------------------- sh ---

SH=192.0.2.20:80
setup "sh service $SH, 3 backends" \
	"service add tcp $SH sched sh" \
	"backend add tcp $SH $BE1:8080" \
	"backend add tcp $SH $BE2:8080" \
	"backend add tcp $SH $BE3:8080"
# 60 sources, 10 source ports each.
FLOWS=()
for ((s = 1; s <= 60; s++)); do
	for ((p = 0; p < 10; p++)); do
		FLOWS+=("service lookup tcp $SH from 203.0.113.$s:$((20000 + 997 * p))")
	done
done
if lookups sh "${FLOWS[@]}"; then
	declare -A SRC_BE=()
	bad=""
	for ((i = 0; i < ${#A[@]}; i++)); do
		: "${SRC_BE[${SRC[i]}]:=${A[i]}}"
		if [ "${SRC_BE[${SRC[i]}]}" != "${A[i]}" ] || [ "${A[i]}" = null ]; then
			bad="${SRC[i]}: ${SRC_BE[${SRC[i]}]} and ${A[i]}"
			break
		fi
	done
	check_eq "sh: every source port of a source gets the same backend" \
		"$bad" ""
	check_eq "sh: 60 sources asked" "${#SRC_BE[@]}" 60
	check_eq "sh: the sources spread over all 3 backends" \
		"$(backends)" "$BE1 $BE2 $BE3 "
fi

# ---------------------------------------------------------- rr wrr lc ---

PEEK=192.0.2.30:80
setup "service $PEEK, backends of weight 1, 2, 3" \
	"service add tcp $PEEK" \
	"backend add tcp $PEEK $BE1:8080 weight 1" \
	"backend add tcp $PEEK $BE2:8080 weight 2" \
	"backend add tcp $PEEK $BE3:8080 weight 3"
flows tcp $PEEK 10
for s in rr wrr lc; do
	# Ten different flows, asked twice: a scheduler that advanced would
	# answer differently.
	if lookups "peek-$s" "service set tcp $PEEK sched $s" \
		"${FLOWS[@]}" "${FLOWS[@]}"; then
		check_eq "$s: 20 lookups give the same backend (a peek)" \
			"${#N[@]} ${N[null]:-0}" "1 0"
	fi
done

# ---------------------------------------------------------- no backend ---

EMPTY=192.0.2.40:80
check_viplb "service $EMPTY without backends" service add tcp $EMPTY
check_viplb "lookup without backends: exit 0" \
	-j service lookup tcp $EMPTY from 203.0.113.5:40000
check_ok "lookup without backends: backend null" \
	jq -e '.backend == null and .pin == "none" and .src == "203.0.113.5"' <<<"$out"
check_viplb "lookup without backends, text: exit 0" \
	service lookup tcp $EMPTY from 203.0.113.5:40000
check_eq "lookup without backends, text" "$out" \
	"no backend: service has no backend of weight > 0"
EVERY=()
for s in maglev sh rr wrr lc; do
	EVERY+=("service set tcp $EMPTY sched $s"
		"service lookup tcp $EMPTY from 203.0.113.5:40000")
done
if lookups drained-all "backend add tcp $EMPTY $BE1:8080 weight 0" \
	"backend add tcp $EMPTY $BE2:8080 weight 0" "${EVERY[@]}"; then
	check_eq "all of weight 0: backend null for maglev, sh, rr, wrr, lc" \
		"${A[*]}" "null null null null null"
fi
if lookups one-left "backend set tcp $EMPTY $BE2:8080 weight 1" \
	"${EVERY[@]}"; then
	check_eq "one backend of weight 1: every scheduler picks it" \
		"${A[*]}" "$BE2 $BE2 $BE2 $BE2 $BE2"
fi

# ---------------------------------------------------------------- IPv6 ---

V6='[2001:db8::10]:443'
setup "service tcp $V6, 3 backends" \
	"service add tcp $V6" \
	"backend add tcp $V6 [2001:db8:1::1]:8443" \
	"backend add tcp $V6 [2001:db8:1::2]:8443" \
	"backend add tcp $V6 [2001:db8:1::3]:8443"
FLOWS=()
for ((i = 0; i < 300; i++)); do
	FLOWS+=("service lookup tcp $V6 from [2001:db8:2::$((i % 50 + 1))]:$((30000 + i))")
done
if lookups v6 "${FLOWS[@]}"; then
	bad=""
	for ((i = 0; i < ${#A[@]}; i++)); do
		if [ "${LINES[i]}" != "service lookup tcp $V6 from [${SRC[i]}]:${SPORT[i]}" ] ||
		   [ "${DPORT[i]}" != 443 ] || [ "${BPORT[i]}" != 8443 ]; then
			bad="line $((i + 1)): ${LINES[i]} -> ${SRC[i]}:${SPORT[i]} dport ${DPORT[i]} ${A[i]}:${BPORT[i]}"
			break
		fi
	done
	check_eq "IPv6: each answer echoes its flow (compressed), backend port 8443" \
		"$bad" ""
	check_eq "IPv6: the flows spread over all 3 backends" \
		"$(backends)" "2001:db8:1::1 2001:db8:1::2 2001:db8:1::3 "
fi
vrun service lookup tcp "$V6" from 203.0.113.5:40000
check_eq "IPv4 source for an IPv6 VIP: exit 1, nothing on stdout" \
	"$rc $out" "1 "
check_eq "IPv4 source for an IPv6 VIP: the message" "$err" \
	"viplb: address family of source \`203.0.113.5:40000' does not match VIP \`[2001:db8::10]:443'"
vrun service lookup tcp $VIP from '[2001:db8::5]:40000'
check_eq "IPv6 source for an IPv4 VIP: exit 1" "$rc" 1
check_grep "IPv6 source for an IPv4 VIP: the message" \
	"address family of source \`\[2001:db8::5\]:40000' does not match" "$err"

# -------------------------------------------------------------- port 0 ---

P0=192.0.2.50:0
setup "service udp $P0, 3 backends of port 0" \
	"service add udp $P0" \
	"backend add udp $P0 $BE1:0" \
	"backend add udp $P0 $BE2:0" \
	"backend add udp $P0 $BE3:0"
FLOWS=()
want=""
zeros=""
for ((d = 1; d <= 60; d++)); do
	FLOWS+=("service lookup udp $P0 from 203.0.113.5:40000 dport $d")
	want="$want $d"
	zeros="$zeros 0"
done
if lookups dport "${FLOWS[@]}"; then
	check_eq "port 0: the answers echo dport" " ${DPORT[*]}" "$want"
	check_eq "port 0: backend port 0 (keeps the destination port)" \
		" ${BPORT[*]}" "$zeros"
	if [ "${#N[@]}" -ge 2 ] && [ "${N[null]:-0}" -eq 0 ]; then
		pass "port 0: dport changes the backend of one client (${#N[@]} backends for 60 dports)"
	else
		fail "port 0: dport changes the backend of one client" \
			"backends: $(backends)"
	fi
fi
check_viplb "port 0 without dport" -j service lookup udp $P0 from 203.0.113.5:40000
check_ok "port 0 without dport: dport 0" jq -e '.dport == 0 and .port == 0' <<<"$out"

dmesg_check "no kernel warnings"
viplb_finish
