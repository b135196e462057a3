#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Service and backend add/set/del through the CLI, checked in the JSON dump:
# IPv4 and IPv6, TCP and UDP, port 0, defaults, `service show`, `flush`;
# big dumps (5,000 services; services of 1,000 backends, which the kernel
# splits over several messages); save/restore round trips; restore
# atomicity; batch mode stopping at the first error.
#
# Everything happens in the init netns of the VM; no packet is sent.

. "$(dirname "$0")/lib.sh"

require_root
require_cmd jq
mod_fresh
dmesg_mark

# svc PROTO VIP PORT: jq selector of one service in the dump.
svc()
{
	echo "(.[] | select(.proto == \"$1\" and .vip == \"$2\" and .port == $3))"
}

ZERO_STATS='{"conns":0,"pkts_in":0,"pkts_out":0,"bytes_in":0,"bytes_out":0,"active":0,"rejected":0,"untracked":0,"cps":0,"pps_in":0,"pps_out":0,"bps_in":0,"bps_out":0}'

# ------------------------------------------------------------ IPv4 TCP ---

check_viplb "add tcp 192.0.2.1:80 with defaults" service add tcp 192.0.2.1:80
S=$(svc tcp 192.0.2.1 80)
check_jq "exactly one service" 'length == 1'
check_jq "service keys are exactly the documented ones" \
	".[0] | keys == ([\"proto\",\"vip\",\"port\",\"sched\",\"mode\",\"table_size\",\"table_auto\",\"flags\",\"served\",\"backends\",\"stats\"] | sort)"
check_jq "defaults: sched maglev, mode nat, automatic table of 251, no flags, no backend" \
	"$S | .sched == \"maglev\" and .mode == \"nat\" and .table_size == 251 and .table_auto and .flags == [] and .backends == []"
check_jq "service stats keys, all zero" "$S | .stats == $ZERO_STATS"

check_viplb "backend without port or weight" \
	backend add tcp 192.0.2.1:80 198.51.100.1
check_jq "backend port defaults to the VIP port, weight to 1" \
	"$S | .backends == [{\"addr\":\"198.51.100.1\",\"port\":80,\"weight\":1,\"stats\":$ZERO_STATS}]"
check_viplb "backend with port and weight" \
	backend add tcp 192.0.2.1:80 198.51.100.2:8080 weight 5
check_viplb "backend with port 0 and weight 65535" \
	backend add tcp 192.0.2.1:80 198.51.100.3:0 weight 65535
check_jq "three backends with their ports and weights" \
	"$S | [.backends[] | [.addr, .port, .weight]] | sort == [[\"198.51.100.1\",80,1],[\"198.51.100.2\",8080,5],[\"198.51.100.3\",0,65535]]"
check_jq "backend keys are exactly addr, port, weight, stats" \
	"$S | all(.backends[]; keys == [\"addr\",\"port\",\"stats\",\"weight\"])"

check_viplb "backend set weight 0 (drain)" \
	backend set tcp 192.0.2.1:80 198.51.100.2:8080 weight 0
check_jq "weight is now 0" \
	"$S | .backends[] | select(.addr == \"198.51.100.2\") | .weight == 0"
check_viplb "backend set of a backend given without port" \
	backend set tcp 192.0.2.1:80 198.51.100.1 weight 7
check_jq "weight is now 7" \
	"$S | .backends[] | select(.addr == \"198.51.100.1\") | .port == 80 and .weight == 7"

# The automatic size follows the backend count (include/viplb/maglev.h).
check_jq "3 backends: automatic table of 509" \
	"$S | .table_size == 509 and .table_auto"
for i in 4 5 6; do
	vrun backend add tcp 192.0.2.1:80 198.51.100.$i
done
check_jq "6 backends: automatic table of 1021" \
	"$S | .table_size == 1021 and .table_auto"
for i in 4 5 6; do
	vrun backend del tcp 192.0.2.1:80 198.51.100.$i
done
check_jq "3 backends again: automatic table of 509" \
	"$S | .table_size == 509 and .table_auto"
check_viplb "service set sched wrr mode dr table-size 251 snat" \
	service set tcp 192.0.2.1:80 sched wrr mode dr table-size 251 snat
check_jq "settings changed, backends kept" \
	"$S | .sched == \"wrr\" and .mode == \"dr\" and .table_size == 251 and (.table_auto | not) and .flags == [\"snat\"] and (.backends | length) == 3"
check_viplb "service set mode tun only" service set tcp 192.0.2.1:80 mode tun
check_jq "only mode changed" \
	"$S | .sched == \"wrr\" and .mode == \"tun\" and .table_size == 251 and .flags == [\"snat\"]"
check_viplb "service set nosnat" service set tcp 192.0.2.1:80 nosnat
check_jq "snat flag cleared" "$S | .flags == [] and .mode == \"tun\""
for s in rr wrr lc sh maglev; do
	vrun service set tcp 192.0.2.1:80 sched $s
	if [ "$rc" -ne 0 ] || [ "$(jq_val "$S | .sched")" != $s ]; then
		fail "service set sched $s" "exit $rc: $err"
	else
		pass "service set sched $s"
	fi
done
check_viplb "service set table-size 131071 mode nat" \
	service set tcp 192.0.2.1:80 table-size 131071 mode nat
check_jq "table size 131071" "$S | .table_size == 131071 and .mode == \"nat\""
check_viplb "service set table-size auto" \
	service set tcp 192.0.2.1:80 table-size auto
check_jq "automatic again: 509 for 3 backends" \
	"$S | .table_size == 509 and .table_auto"

# save keeps an automatic size automatic and an explicit one explicit.
check_viplb "service add tcp 192.0.2.9:80 table-size 509" \
	service add tcp 192.0.2.9:80 table-size 509
check_viplb "backend add to it" backend add tcp 192.0.2.9:80 198.51.100.1
save_config >"$VIPLB_TMP/tsave1"
check_ok "save: the automatic service has no table-size" \
	grep -qx 'service add tcp 192.0.2.1:80 sched maglev mode nat' \
	"$VIPLB_TMP/tsave1"
check_ok "save: the explicit one keeps its table-size" \
	grep -qx 'service add tcp 192.0.2.9:80 sched maglev mode nat table-size 509' \
	"$VIPLB_TMP/tsave1"
check_viplb "restore that save" restore "$VIPLB_TMP/tsave1"
check_jq "restored: automatic still automatic" \
	"$S | .table_size == 509 and .table_auto"
check_jq "restored: explicit still explicit" \
	"$(svc tcp 192.0.2.9 80) | .table_size == 509 and (.table_auto | not)"
save_config >"$VIPLB_TMP/tsave2"
check_ok "save | restore | save is byte-identical" \
	cmp "$VIPLB_TMP/tsave1" "$VIPLB_TMP/tsave2"
check_viplb "service del tcp 192.0.2.9:80" service del tcp 192.0.2.9:80

check_viplb "backend del with the port" \
	backend del tcp 192.0.2.1:80 198.51.100.2:8080
check_viplb "backend del without the port (VIP port)" \
	backend del tcp 192.0.2.1:80 198.51.100.1
check_jq "one backend left" \
	"$S | [.backends[].addr] == [\"198.51.100.3\"]"

# ------------------------------------------- the other three families ---

check_viplb "add udp 192.0.2.1:80 (same address and port, other proto)" \
	service add udp 192.0.2.1:80 sched sh
check_viplb "add tcp [2001:db8::1]:443" \
	service add tcp '[2001:db8::1]:443' mode dr table-size 65521
check_viplb "add udp [2001:db8::10]:53" \
	service add udp '[2001:db8::10]:53' sched lc mode tun snat
check_viplb "IPv6 backend without port" \
	backend add udp '[2001:db8::10]:53' '[2001:db8:1::1]'
check_viplb "IPv6 backend with port and weight" \
	backend add udp '[2001:db8::10]:53' '[2001:db8:1::2]:5353' weight 3
check_jq "four services" 'length == 4'
check_jq "udp 192.0.2.1:80 settings" \
	"$(svc udp 192.0.2.1 80) | .sched == \"sh\" and .mode == \"nat\" and .backends == []"
check_jq "tcp [2001:db8::1]:443 settings" \
	"$(svc tcp 2001:db8::1 443) | .mode == \"dr\" and .table_size == 65521 and .sched == \"maglev\""
S6=$(svc udp 2001:db8::10 53)
check_jq "udp [2001:db8::10]:53 settings" \
	"$S6 | .sched == \"lc\" and .mode == \"tun\" and .flags == [\"snat\"]"
check_jq "IPv6 backends: compressed addresses, default port 53" \
	"$S6 | [.backends[] | [.addr, .port, .weight]] | sort == [[\"2001:db8:1::1\",53,1],[\"2001:db8:1::2\",5353,3]]"
check_viplb "backend set IPv6" \
	backend set udp '[2001:db8::10]:53' '[2001:db8:1::2]:5353' weight 9
check_jq "IPv6 weight changed" \
	"$S6 | .backends[] | select(.addr == \"2001:db8:1::2\") | .weight == 9"
check_viplb "service set IPv6" service set udp '[2001:db8::10]:53' sched rr
check_jq "IPv6 sched changed" "$S6 | .sched == \"rr\""
check_viplb "an uncompressed IPv6 VIP names the same service" \
	backend del udp '[2001:0db8:0000:0000:0000:0000:0000:0010]:53' '[2001:db8:1::1]:53'
check_jq "IPv6 backend deleted" "$S6 | [.backends[].addr] == [\"2001:db8:1::2\"]"

# ------------------------------------------------------------- port 0 ---

check_viplb "add tcp 192.0.2.2:0 (every port)" service add tcp 192.0.2.2:0
check_viplb "backend of a port-0 service, no port given" \
	backend add tcp 192.0.2.2:0 198.51.100.4
check_viplb "add udp [2001:db8::2]:0" service add udp '[2001:db8::2]:0'
check_viplb "IPv6 backend port 0" backend add udp '[2001:db8::2]:0' '[2001:db8:1::4]:0'
check_jq "port-0 services and their backends" \
	"($(svc tcp 192.0.2.2 0) | .backends == [{\"addr\":\"198.51.100.4\",\"port\":0,\"weight\":1,\"stats\":$ZERO_STATS}]) and ($(svc udp 2001:db8::2 0) | .backends[0].port == 0)"

# ------------------------------------------------------- service show ---

vrun service show tcp 192.0.2.1:80
check_eq "service show tcp 192.0.2.1:80 exits 0" "$rc" 0
check_grep "service show prints the VIP and the backend" \
	"192\.0\.2\.1.*80(.|$)" "$out"
check_grep "service show prints the backend" "198\.51\.100\.3" "$out"
if printf '%s\n' "$out" | grep -q "2001:db8"; then
	fail "service show prints only that service" "$out"
else
	pass "service show prints only that service"
fi
vrun -j service show udp '[2001:db8::10]:53'
if [ "$rc" -eq 0 ] &&
   printf '%s\n' "$out" | jq -e 'length == 1 and .[0].vip == "2001:db8::10" and .[0].port == 53 and .[0].proto == "udp"' >/dev/null; then
	pass "-j service show udp [2001:db8::10]:53 is that one service"
else
	fail "-j service show udp [2001:db8::10]:53 is that one service" "exit $rc: $out $err"
fi
vrun service show tcp 192.0.2.99:80
check_eq "service show of a missing service exits 1" "$rc" 1
check_viplb "show (text)" show
for v in 192.0.2.1 192.0.2.2 2001:db8::1 2001:db8::10 198.51.100.4 2001:db8:1::2; do
	check_grep "show mentions $v" "$v" "$out"
done
check_viplb "viplb without arguments"
check_viplb "stats" stats
check_viplb "stats of one service" stats tcp 192.0.2.1:80
check_viplb "-j stats" -j stats
check_ok "-j stats is JSON" jq -e . "$VIPLB_TMP/out"
check_viplb "-j -p show" -j -p show
check_ok "-j -p show is JSON" jq -e 'length == 6' "$VIPLB_TMP/out"
check_ok "-j -p show is indented" grep -q '^  ' "$VIPLB_TMP/out"

# --------------------------------------------------------- service del ---

check_viplb "service del udp [2001:db8::10]:53 (with a backend)" \
	service del udp '[2001:db8::10]:53'
check_viplb "service del tcp 192.0.2.1:80" service del tcp 192.0.2.1:80
check_jq "the others remain" \
	'[.[] | "\(.proto) \(.vip) \(.port)"] | sort == ["tcp 192.0.2.2 0", "tcp 2001:db8::1 443", "udp 192.0.2.1 80", "udp 2001:db8::2 0"]'

# --------------------------------------------------------------- flush ---

check_viplb "flush" flush
check_jq "flush leaves nothing" '. == []'
check_viplb "flush of an empty table" flush

# --------------------------------------------------- 5,000 services ---

N=5000
big=$VIPLB_TMP/services.batch
i=0
while [ $i -lt $N ]; do
	a=$((i % 250 + 1))
	p=$((i / 250 + 1000))
	if [ $((i % 2)) -eq 0 ]; then
		echo "service add tcp 192.0.2.$a:$p"
	elif [ $((i % 3)) -eq 0 ]; then
		printf 'service add udp [2001:db8::%x]:%d sched rr\n' $a $p
	else
		echo "service add udp 198.51.100.$a:$p mode dr"
	fi
	i=$((i + 1))
done >"$big"
t0=$(date +%s)
check_viplb "$N services with viplb -b" -b "$big"
log "viplb -b of $N services took $(($(date +%s) - t0))s"
check_jq "the dump has $N services" "length == $N"
check_jq "the $N dumped keys are unique" \
	"[.[] | \"\(.proto) \(.vip) \(.port)\"] | unique | length == $N"
check_eq "save prints $N commands" "$(save_config | grep -v '^#' | grep -c .)" $N

save_config >"$VIPLB_TMP/save1"
t0=$(date +%s)
check_ok "restore $N services from stdin" \
	sh -c "\"$VIPLB\" restore <\"$VIPLB_TMP/save1\""
log "restore of $N services took $(($(date +%s) - t0))s"
save_config >"$VIPLB_TMP/save2"
check_ok "save | restore round-trips $N services byte for byte" \
	cmp "$VIPLB_TMP/save1" "$VIPLB_TMP/save2"
check_viplb "flush $N services" flush
check_jq "empty again" '. == []'

# --------------------------------------------- services of 1,000 backends ---

bb=$VIPLB_TMP/backends.batch
{
	echo "# a service of 1000 IPv4 backends, one of 3, one of 1000 IPv6"
	echo "service add tcp 192.0.2.1:80 sched wrr"
	echo "service add tcp 192.0.2.2:80 snat"
	echo "service add udp [2001:db8::1]:4789 mode tun table-size 131071"
	i=0
	while [ $i -lt 1000 ]; do
		echo "backend add tcp 192.0.2.1:80 198.51.100.$((i % 250 + 1)):$((8000 + i / 250)) weight $((i + 1))"
		printf 'backend add udp [2001:db8::1]:4789 [2001:db8:1::%x]\n' $((i + 1))
		i=$((i + 1))
	done
	echo "backend add tcp 192.0.2.2:80 203.0.113.1"
	echo "backend add tcp 192.0.2.2:80 203.0.113.2:8080 weight 2"
	echo "backend add tcp 192.0.2.2:80 203.0.113.3:8080 weight 0"
} >"$bb"
check_viplb "2,003 backends with viplb -b" -b "$bb"
check_jq "three services in the dump" 'length == 3'
check_jq "tcp 192.0.2.1:80 dumps its 1000 distinct backends" \
	"$(svc tcp 192.0.2.1 80) | (.backends | length) == 1000 and ([.backends[] | \"\(.addr) \(.port)\"] | unique | length) == 1000 and ([.backends[].weight] | add) == 500500"
check_jq "udp [2001:db8::1]:4789 dumps its 1000 distinct backends" \
	"$(svc udp 2001:db8::1 4789) | (.backends | length) == 1000 and ([.backends[].addr] | unique | length) == 1000 and all(.backends[]; .port == 4789)"
check_jq "tcp 192.0.2.2:80 dumps its 3 backends" \
	"$(svc tcp 192.0.2.2 80) | [.backends[] | [.addr, .port, .weight]] | sort == [[\"203.0.113.1\",80,1],[\"203.0.113.2\",8080,2],[\"203.0.113.3\",8080,0]]"
vrun -j service show tcp 192.0.2.1:80
if [ "$rc" -eq 0 ] &&
   printf '%s\n' "$out" | jq -e 'length == 1 and (.[0].backends | length) == 1000' >/dev/null; then
	pass "service show of one service with 1000 backends is complete"
else
	fail "service show of one service with 1000 backends is complete" "exit $rc: $err"
fi

save_config >"$VIPLB_TMP/save3"
check_eq "save prints 3 + 2003 commands" \
	"$(grep -v '^#' "$VIPLB_TMP/save3" | grep -c .)" 2006
check_ok "restore from a file argument" \
	"$VIPLB" restore "$VIPLB_TMP/save3"
save_config >"$VIPLB_TMP/save4"
check_ok "save | restore round-trips 2003 backends byte for byte" \
	cmp "$VIPLB_TMP/save3" "$VIPLB_TMP/save4"
check_viplb "flush" flush
check_viplb "-b of a save file" -b "$VIPLB_TMP/save3"
save_config >"$VIPLB_TMP/save5"
check_ok "flush; -b of the save file gives the same save output" \
	cmp "$VIPLB_TMP/save3" "$VIPLB_TMP/save5"

# ------------------------------------------------ restore is atomic ---

# A syntax error on the last line.
n=$(($(wc -l <"$VIPLB_TMP/save3") + 1))
cp "$VIPLB_TMP/save3" "$VIPLB_TMP/bad1"
echo "service add tcp 192.0.2.300:80" >>"$VIPLB_TMP/bad1"
"$VIPLB" restore "$VIPLB_TMP/bad1" >"$VIPLB_TMP/out" 2>"$VIPLB_TMP/err"
rc=$?
check_eq "restore with a bad address on its last line exits 1" "$rc" 1
check_grep "and reports line $n" "line $n\b" "$(cat "$VIPLB_TMP/err")"
check_grep "and quotes the bad value" "192\.0\.2\.300" "$(cat "$VIPLB_TMP/err")"
save_config >"$VIPLB_TMP/save6"
check_ok "the old configuration is intact" cmp "$VIPLB_TMP/save3" "$VIPLB_TMP/save6"

# A command the kernel rejects (EEXIST) on the last line.
cp "$VIPLB_TMP/save3" "$VIPLB_TMP/bad2"
echo "service add tcp 192.0.2.1:80" >>"$VIPLB_TMP/bad2"
"$VIPLB" restore <"$VIPLB_TMP/bad2" >"$VIPLB_TMP/out" 2>"$VIPLB_TMP/err"
rc=$?
check_eq "restore with a duplicate service on its last line exits 1" "$rc" 1
check_grep "and reports line $n" "line $n\b" "$(cat "$VIPLB_TMP/err")"
save_config >"$VIPLB_TMP/save6"
check_ok "the old configuration is intact" cmp "$VIPLB_TMP/save3" "$VIPLB_TMP/save6"

# A backend of a service that the file does not create (ENOENT).
{
	echo "service add tcp 192.0.2.7:80"
	echo "backend add tcp 192.0.2.8:80 198.51.100.1"
} >"$VIPLB_TMP/bad3"
"$VIPLB" restore "$VIPLB_TMP/bad3" >"$VIPLB_TMP/out" 2>"$VIPLB_TMP/err"
rc=$?
check_eq "restore with a backend of a missing service exits 1" "$rc" 1
check_grep "and reports line 2" "line 2\b" "$(cat "$VIPLB_TMP/err")"
save_config >"$VIPLB_TMP/save6"
check_ok "the old configuration is intact" cmp "$VIPLB_TMP/save3" "$VIPLB_TMP/save6"

# A restore replaces everything: an empty file empties the table.
check_ok "restore of a small file" sh -c \
	"printf 'service add tcp 192.0.2.9:80\n' | \"$VIPLB\" restore"
check_jq "restore replaced the whole configuration" \
	'[.[] | "\(.proto) \(.vip) \(.port)"] == ["tcp 192.0.2.9 80"]'
check_ok "restore of an empty file" "$VIPLB" restore /dev/null
check_jq "empty configuration" '. == []'

# -------------------------------------------- -b stops at the first error ---

check_viplb "flush before the batch" flush

cat >"$VIPLB_TMP/batch" <<EOF
# comment on line 1

service add tcp 192.0.2.50:80
backend add tcp 192.0.2.50:80 198.51.100.50 weight 2
service add tcp 192.0.2.50:80
service add tcp 192.0.2.52:80
EOF
"$VIPLB" -b "$VIPLB_TMP/batch" >"$VIPLB_TMP/out" 2>"$VIPLB_TMP/err"
rc=$?
check_eq "-b with a duplicate service on line 5 exits 1" "$rc" 1
check_grep "and reports line 5" "line 5\b" "$(cat "$VIPLB_TMP/err")"
check_jq "lines before the error are applied, the rest is not" \
	'[.[] | "\(.vip) \(.backends | length)"] == ["192.0.2.50 1"]'

printf 'service add tcp 192.0.2.60:80\nservice frobnicate\nservice add tcp 192.0.2.61:80\n' |
	"$VIPLB" -b - >"$VIPLB_TMP/out" 2>"$VIPLB_TMP/err"
rc=$?
check_eq "-b - with an unknown command on line 2 exits 1" "$rc" 1
check_grep "and reports line 2" "line 2\b" "$(cat "$VIPLB_TMP/err")"
check_jq "line 1 applied, line 3 not" \
	'[.[].vip] | sort == ["192.0.2.50", "192.0.2.60"]'

check_viplb "final flush" flush
check_jq "empty at the end" '. == []'
dmesg_check "no kernel warning"
viplb_finish
