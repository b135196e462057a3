#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Module life cycle: the CLI without the module, 20 load/unload cycles,
# unloading with a live configuration (in the init netns and in another
# netns), and a reload that starts empty.  The kernel log must stay clean.

. "$(dirname "$0")/lib.sh"

CYCLES=20

require_root
require_cmd jq modinfo modprobe insmod rmmod
[ -r "$VIPLB_KO" ] || skip_all "$VIPLB_KO not found (make module)"

no_leftover()
{
	if mod_loaded; then
		fail "$1: /sys/module/viplb still present"
		return
	fi
	if grep -qw '^viplb' /proc/modules; then
		fail "$1: viplb still in /proc/modules"
		return
	fi
	if command -v genl >/dev/null 2>&1 &&
	   genl ctrl get name viplb >/dev/null 2>&1; then
		fail "$1: genetlink family viplb still registered"
		return
	fi
	pass "$1"
}

if mod_loaded; then
	"$VIPLB" flush >/dev/null 2>&1
	rmmod viplb || bail "rmmod viplb left loaded by an earlier test"
fi
defer 'mod_loaded && rmmod viplb'
dmesg_mark

# The CLI must say that the module is missing, not dump a raw errno.
vrun -d module show
check_eq "show without the module exits 1" "$rc" 1
check_grep "show without the module says the module is not loaded" \
	"not loaded|module.*loaded" "$err"
vrun -d module -j show
check_eq "-j show without the module exits 1" "$rc" 1

# Plain load/unload cycles.
i=0
bad=""
while [ $i -lt $CYCLES ]; do
	i=$((i + 1))
	if ! mod_load; then
		bad="insmod failed in cycle $i"
		break
	fi
	if ! mod_loaded; then
		bad="/sys/module/viplb missing after insmod in cycle $i"
		break
	fi
	if ! rmmod viplb; then
		bad="rmmod failed in cycle $i"
		break
	fi
done
if [ -z "$bad" ]; then
	pass "$CYCLES load/unload cycles"
else
	fail "$CYCLES load/unload cycles" "$bad"
fi
no_leftover "nothing left after the cycles"

# Unload with a configuration in place: the module frees it all.
mod_load || bail "insmod $VIPLB_KO"
ok=1
for cmd in \
	"service add tcp 192.0.2.1:80" \
	"backend add tcp 192.0.2.1:80 198.51.100.1:8080 weight 3" \
	"backend add tcp 192.0.2.1:80 198.51.100.2" \
	"service add udp 192.0.2.2:53 sched rr" \
	"backend add udp 192.0.2.2:53 198.51.100.3:53" \
	"service add tcp 192.0.2.3:0" \
	"backend add tcp 192.0.2.3:0 198.51.100.4:0" \
	"service add tcp [2001:db8::1]:443 sched wrr" \
	"backend add tcp [2001:db8::1]:443 [2001:db8:1::1]:8443 weight 10" \
	"backend add tcp [2001:db8::1]:443 [2001:db8:1::2]:8443 weight 0"; do
	# shellcheck disable=SC2086
	if ! o=$("$VIPLB" $cmd 2>&1); then
		fail "configure: viplb $cmd" "$o"
		ok=0
	fi
done
[ $ok -eq 1 ] && pass "configure 4 services and 6 backends"
check_jq "the dump holds the 4 services" \
	'length == 4 and ([.[].backends | length] | add) == 6'

ns_create NS cfg
check_viplb "configure a service in netns $NS" \
	-n "$NS" service add udp 203.0.113.1:4789
check_viplb "and a backend there" \
	-n "$NS" backend add udp 203.0.113.1:4789 203.0.113.2

refcnt=$(cat /sys/module/viplb/refcnt 2>/dev/null)
check_eq "module refcount is 0 with a configuration" "$refcnt" 0
check_ok "rmmod with a live configuration" rmmod viplb
no_leftover "nothing left after unloading a configured module"

# Reload: the configuration is gone.
check_ok "reload" mod_load
check_viplb "show works after the reload" show
check_eq "show prints nothing after the reload" "$out" ""
check_jq "-j show is an empty array after the reload" '. == []'
check_jq "netns $NS is empty after the reload" '. == []' -n "$NS"
vrun save
check_eq "save prints no command after the reload" \
	"$rc:$(printf '%s\n' "$out" | grep -v '^#' | grep -c .)" "0:0"

# Unload with a service in a netns that is then deleted.
check_viplb "configure netns $NS again" \
	-n "$NS" service add tcp 203.0.113.1:80
ns_del "$NS"
check_ok "rmmod after deleting a configured netns" rmmod viplb
no_leftover "nothing left at the end"

dmesg_check "no kernel warning"
viplb_finish
