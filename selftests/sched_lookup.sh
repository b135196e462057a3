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
# JSON object per lookup line (JSON lines).  Everything happens in the init
# netns of the VM; no packet is sent.

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

# lookups NAME: run the batch file $VIPLB_TMP/NAME.in through `viplb -j -b'
# into $VIPLB_TMP/NAME.out, one JSON object per line.  Fails (returns 1)
# unless viplb exits 0, prints nothing on stderr and prints as many lines
# as the file has lookups.
lookups()
{
	lk_in=$VIPLB_TMP/$1.in
	lk_out=$VIPLB_TMP/$1.out
	vrun -j -b "$lk_in"
	printf '%s\n' "$out" >"$lk_out"
	lk_want=$(grep -c '^service lookup' "$lk_in")
	lk_got=$(grep -c '^{' "$lk_out")
	if [ "$rc" -ne 0 ] || [ -n "$err" ] || [ "$lk_got" -ne "$lk_want" ]; then
		fail "viplb -j -b $1.in ($lk_want lookups)" \
			"exit $rc, $lk_got JSON lines, stderr: $err"
		return 1
	fi
	return 0
}

# addrs NAME: the backend address of each answer of NAME.out, one per line
# ("null" for no backend).
addrs()
{
	jq -r '.backend.addr // "null"' "$VIPLB_TMP/$1.out"
}

# count NAME ADDR: how many answers of NAME.out name backend ADDR.
count()
{
	addrs "$1" | grep -cxF "$2"
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

# flows FILE PROTO VIP N [EXTRA]: N lookup lines towards VIP from
# 203.0.113.(i % 250 + 1):(10000 + i), i = 0..N-1: N different flows.
flows()
{
	fl_n=0
	while [ "$fl_n" -lt "$4" ]; do
		echo "service lookup $2 $3 from 203.0.113.$((fl_n % 250 + 1)):$((10000 + fl_n))${5:+ $5}"
		fl_n=$((fl_n + 1))
	done >"$VIPLB_TMP/$1.in"
}

# --------------------------------------------------- output and errors ---

check_viplb "maglev service $VIP" service add tcp $VIP
check_viplb "backend $BE1:8080 weight 1" backend add tcp $VIP $BE1:8080 weight 1
check_viplb "backend $BE2:8080 weight 2" backend add tcp $VIP $BE2:8080 weight 2
check_viplb "backend $BE3:8080 weight 3" backend add tcp $VIP $BE3:8080 weight 3
BASE=$(save_config) || bail "viplb save"

check_viplb "text lookup" service lookup tcp $VIP from 203.0.113.5:40000
check_grep "text: backend, weight and why" \
	'^backend 198\.51\.100\.[123]:8080 weight [123] \(new flow: scheduler choice\)$' "$out"
check_eq "text: one line" "$(printf '%s\n' "$out" | grep -c '')" 1

check_viplb "JSON lookup" -j service lookup tcp $VIP from 203.0.113.5:40000
J=$out
check_ok "JSON: exactly the documented keys" jq -e \
	'keys == (["proto","vip","port","src","sport","dport","pin","backend"] | sort) and (.backend | keys) == ["addr","port","weight"]' <<<"$J"
check_ok "JSON: the service and the flow are echoed" jq -e \
	'.proto == "tcp" and .vip == "192.0.2.10" and .port == 80 and .src == "203.0.113.5" and .sport == 40000 and .dport == 80 and .pin == "none"' <<<"$J"
check_ok "JSON: the backend is one of the three, with its weight" jq -e \
	'[.backend.addr, .backend.weight] | IN(["198.51.100.1",1], ["198.51.100.2",2], ["198.51.100.3",3])' <<<"$J"
check_ok "JSON: backend port 8080" jq -e '.backend.port == 8080' <<<"$J"
check_eq "JSON: one line" "$(printf '%s\n' "$J" | grep -c '')" 1
vrun -j -p service lookup tcp $VIP from 203.0.113.5:40000
# shellcheck disable=SC2016 # $j is jq's
check_ok "-j -p: the same object, pretty-printed" jq -e --argjson j "$J" \
	'. == $j' <<<"$out"

vrun service lookup tcp 192.0.2.99:80 from 203.0.113.5:40000
check_eq "no such service: exit 1" "$rc" 1
check_grep "no such service: the kernel's message" \
	'^viplb: service lookup tcp 192\.0\.2\.99:80 from 203\.0\.113\.5:40000: .*\(kernel: service does not exist\)$' "$err"
check_eq "no such service: nothing on stdout" "$out" ""
vrun service lookup tcp $VIP from 203.0.113.5
check_eq "source without port: exit 1" "$rc" 1
check_grep "source without port: quoted" "missing port in source \`203\.0\.113\.5'" "$err"
vrun service lookup tcp $VIP from 203.0.113.5:1 dport 81
check_eq "dport for a VIP of port 80: exit 1" "$rc" 1
check_grep "dport for a VIP of port 80: explained" "only for a VIP of port 0" "$err"

cat >"$VIPLB_TMP/restore.in" <<EOF
service add tcp 192.0.2.77:80
service lookup tcp $VIP from 203.0.113.5:40000
EOF
vrun restore "$VIPLB_TMP/restore.in"
check_eq "service lookup in a restore file: exit 1" "$rc" 1
check_grep "service lookup in a restore file: refused" \
	"line 2: \`service lookup' not allowed in restore" "$err"

# ------------------------------------------------------------- maglev ---

flows maglev tcp $VIP $NFLOWS
t0=$(date +%s%N)
if lookups maglev; then
	t1=$(date +%s%N)
	log "$NFLOWS lookups in one viplb -j -b: $(((t1 - t0) / 1000000)) ms"
	pass "maglev: $NFLOWS lookups, one JSON line each"
	check_eq "maglev: every answer is pin none with a backend" \
		"$(jq -c 'select(.pin != "none" or .backend == null)' "$VIPLB_TMP/maglev.out")" ""
	# Answer i is about flow i: the batch keeps the order of the file.
	check_eq "maglev: the answers echo their flows, in order" \
		"$(jq -r '"service lookup tcp \(.vip):\(.port) from \(.src):\(.sport)"' "$VIPLB_TMP/maglev.out")" \
		"$(cat "$VIPLB_TMP/maglev.in")"
	within "maglev: $BE1 (weight 1)" "$(count maglev $BE1)" $((NFLOWS / 6)) 15
	within "maglev: $BE2 (weight 2)" "$(count maglev $BE2)" $((NFLOWS * 2 / 6)) 15
	within "maglev: $BE3 (weight 3)" "$(count maglev $BE3)" $((NFLOWS * 3 / 6)) 15
fi

cp "$VIPLB_TMP/maglev.in" "$VIPLB_TMP/again.in"
if lookups again; then
	check_ok "maglev: every flow asked again gets the same backend" \
		cmp "$VIPLB_TMP/maglev.out" "$VIPLB_TMP/again.out"
fi
check_eq "lookups change no configuration" "$(save_config)" "$BASE"

check_viplb "drain $BE2 (weight 0)" backend set tcp $VIP $BE2:8080 weight 0
cp "$VIPLB_TMP/maglev.in" "$VIPLB_TMP/drained.in"
if lookups drained; then
	check_eq "maglev: the drained backend gets no flow" \
		"$(count drained $BE2)" 0
	check_eq "maglev: every flow still has a backend" \
		"$(count drained null)" 0
	# Flows of the other backends do not move when one is drained.
	check_eq "maglev: draining moves only the drained backend's flows" \
		"$(paste -d' ' <(addrs maglev) <(addrs drained) |
		   awk -v d=$BE2 '$1 != d && $1 != $2' | wc -l)" 0
fi
check_viplb "undrain $BE2 (weight 2)" backend set tcp $VIP $BE2:8080 weight 2
cp "$VIPLB_TMP/maglev.in" "$VIPLB_TMP/undrained.in"
if lookups undrained; then
	check_ok "maglev: the same backends and weights give the same answers" \
		cmp "$VIPLB_TMP/maglev.out" "$VIPLB_TMP/undrained.out"
fi

check_viplb "delete $BE3" backend del tcp $VIP $BE3:8080
cp "$VIPLB_TMP/maglev.in" "$VIPLB_TMP/deleted.in"
if lookups deleted; then
	check_eq "maglev: the deleted backend gets no flow" \
		"$(count deleted $BE3)" 0
	# Minimal disruption: flows that were on $BE1 or $BE2 stay there.
	stay=$(paste -d' ' <(addrs maglev) <(addrs deleted) |
	       awk -v d=$BE3 '$1 != d { n++; if ($1 == $2) s++ }
			      END { printf "%d %d\n", s, n }')
	# shellcheck disable=SC2086 # two numbers
	set -- $stay
	log "maglev: $1 of $2 flows of the surviving backends stayed"
	if [ "$2" -gt 0 ] && [ $((100 * $1)) -ge $((90 * $2)) ]; then
		pass "maglev: >= 90% of the surviving backends' flows stay ($1/$2)"
	else
		fail "maglev: >= 90% of the surviving backends' flows stay ($1/$2)"
	fi
fi

# ----------------------------------------------------------------- sh ---

SH=192.0.2.20:80
check_viplb "sh service $SH" service add tcp $SH sched sh
for b in $BE1 $BE2 $BE3; do
	"$VIPLB" backend add tcp $SH "$b:8080" || bail "backend add tcp $SH $b:8080"
done
# 60 sources, 10 source ports each.
for s in $(seq 1 60); do
	for p in $(seq 0 9); do
		echo "service lookup tcp $SH from 203.0.113.$s:$((20000 + 997 * p))"
	done
done >"$VIPLB_TMP/sh.in"
if lookups sh; then
	check_eq "sh: every source port of a source gets the same backend" \
		"$(jq -rs 'group_by(.src) | map(select(([.[].backend.addr] | unique | length) != 1) | .[0].src) | .[]' "$VIPLB_TMP/sh.out")" ""
	check_eq "sh: the sources spread over all 3 backends" \
		"$(addrs sh | sort -u | tr '\n' ' ')" "$BE1 $BE2 $BE3 "
fi

# ---------------------------------------------------------- rr wrr lc ---

PEEK=192.0.2.30:80
check_viplb "service $PEEK" service add tcp $PEEK
for w in 1 2 3; do
	"$VIPLB" backend add tcp $PEEK 198.51.100.$w:8080 weight $w ||
		bail "backend add tcp $PEEK 198.51.100.$w:8080 weight $w"
done
for s in rr wrr lc; do
	check_viplb "service set sched $s" service set tcp $PEEK sched $s
	# Ten different flows: a scheduler that advanced would answer
	# differently.
	flows "peek-$s" tcp $PEEK 10
	if lookups "peek-$s"; then
		check_eq "$s: 10 lookups give one backend (a peek)" \
			"$(addrs "peek-$s" | sort -u | grep -c .) $(count "peek-$s" null)" "1 0"
	fi
	cp "$VIPLB_TMP/peek-$s.in" "$VIPLB_TMP/peek2-$s.in"
	if lookups "peek2-$s"; then
		check_ok "$s: asking 10 times more gives the same answer" \
			cmp "$VIPLB_TMP/peek-$s.out" "$VIPLB_TMP/peek2-$s.out"
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
check_viplb "two backends of weight 0" -b - <<EOF
backend add tcp $EMPTY $BE1:8080 weight 0
backend add tcp $EMPTY $BE2:8080 weight 0
EOF
{
	for s in maglev sh rr wrr lc; do
		echo "service set tcp $EMPTY sched $s"
		echo "service lookup tcp $EMPTY from 203.0.113.5:40000"
	done
} >"$VIPLB_TMP/drained-all.in"
if lookups drained-all; then
	check_eq "all of weight 0: backend null for maglev, sh, rr, wrr, lc" \
		"$(count drained-all null)" 5
fi
check_viplb "one backend back to weight 1" \
	backend set tcp $EMPTY $BE2:8080 weight 1
cp "$VIPLB_TMP/drained-all.in" "$VIPLB_TMP/one-left.in"
if lookups one-left; then
	check_eq "one backend of weight 1: every scheduler picks it" \
		"$(count one-left $BE2)" 5
fi

# ---------------------------------------------------------------- IPv6 ---

V6='[2001:db8::10]:443'
check_viplb "service tcp $V6" service add tcp "$V6"
for i in 1 2 3; do
	"$VIPLB" backend add tcp "$V6" "[2001:db8:1::$i]:8443" ||
		bail "backend add tcp $V6 [2001:db8:1::$i]:8443"
done
for i in $(seq 0 299); do
	echo "service lookup tcp $V6 from [2001:db8:2::$((i % 50 + 1))]:$((30000 + i))"
done >"$VIPLB_TMP/v6.in"
if lookups v6; then
	check_eq "IPv6: the sources are echoed compressed" \
		"$(jq -r 'select(.src | test("^2001:db8:2::[0-9]+$") | not) | .src' "$VIPLB_TMP/v6.out")" ""
	check_eq "IPv6: the flows spread over all 3 backends" \
		"$(addrs v6 | sort -u | tr '\n' ' ')" "2001:db8:1::1 2001:db8:1::2 2001:db8:1::3 "
	check_eq "IPv6: backend port 8443, VIP port 443" \
		"$(jq -c 'select(.backend.port != 8443 or .port != 443 or .vip != "2001:db8::10")' "$VIPLB_TMP/v6.out")" ""
fi
vrun service lookup tcp "$V6" from 203.0.113.5:40000
check_eq "IPv4 source for an IPv6 VIP: exit 1" "$rc" 1
check_eq "IPv4 source for an IPv6 VIP: nothing on stdout" "$out" ""
check_eq "IPv4 source for an IPv6 VIP: the message" "$err" \
	"viplb: address family of source \`203.0.113.5:40000' does not match VIP \`[2001:db8::10]:443'"
vrun service lookup tcp $VIP from '[2001:db8::5]:40000'
check_eq "IPv6 source for an IPv4 VIP: exit 1" "$rc" 1
check_grep "IPv6 source for an IPv4 VIP: the message" \
	"address family of source \`\[2001:db8::5\]:40000' does not match" "$err"

# -------------------------------------------------------------- port 0 ---

P0=192.0.2.50:0
check_viplb "service udp $P0" service add udp $P0
for b in $BE1 $BE2 $BE3; do
	"$VIPLB" backend add udp $P0 "$b:0" || bail "backend add udp $P0 $b:0"
done
for d in $(seq 1 60); do
	echo "service lookup udp $P0 from 203.0.113.5:40000 dport $d"
done >"$VIPLB_TMP/dport.in"
if lookups dport; then
	check_eq "port 0: the answers echo dport" \
		"$(jq -r .dport "$VIPLB_TMP/dport.out" | tr '\n' ' ')" \
		"$(seq 1 60 | tr '\n' ' ')"
	n=$(addrs dport | sort -u | grep -c .)
	if [ "$n" -ge 2 ] && [ "$(count dport null)" -eq 0 ]; then
		pass "port 0: dport changes the backend of one client ($n backends for 60 dports)"
	else
		fail "port 0: dport changes the backend of one client" \
			"backends: $(addrs dport | sort | uniq -c | tr '\n' ' ')"
	fi
	# The backend port is 0: it keeps the packet's destination port.
	check_eq "port 0: backend port 0" \
		"$(jq -c 'select(.backend.port != 0)' "$VIPLB_TMP/dport.out")" ""
fi
check_viplb "port 0 without dport" -j service lookup udp $P0 from 203.0.113.5:40000
check_ok "port 0 without dport: dport 0" jq -e '.dport == 0 and .port == 0' <<<"$out"

dmesg_check "no kernel warnings"
viplb_finish
