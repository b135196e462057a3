# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# units.sh: the commands of the systemd units (systemd/*.in) run as
# systemd runs them, against config files; sourced after lib.sh by
# dkms_units.sh (in the VM, on the module) and host/units_test.sh (on the
# host, on nf_tables).  Needs lib.sh's nat topology (lb_topo, lb_servers).
#
#   units_install DIR ETC    the units and viplb-xdp-attach as make install
#                            makes them, naming the tree's tools, into DIR;
#                            their /etc/viplb is ETC
#   unit_run UNIT start|reload
#                            the unit's commands in $LB_D, in order
#   units_viplb_service      the viplb.service checks (below)
#
# units_viplb_service, in the director $LB_D of the nat topology:
#   - a good viplb.conf (a nat and a dr service) and xdp.conf: start
#     attaches c0, then loads the services (save gives the file back), and
#     the nat VIP answers; start again (restart) succeeds and leaves c0 as
#     it is;
#   - from nothing loaded (as at boot), a viplb.conf with a bad line 3:
#     start fails with `viplb: line 3: ...' and loads nothing (no
#     service, and c0 detached again); a bad xdp.conf with a good
#     viplb.conf: start fails on xdp.conf's line, before the restore, and
#     loads nothing;
#   - reload under traffic: long TCP connections stream through the VIP
#     and new ones open all along while viplb.conf changes (a backend
#     added, weights changed) and reload runs again and again; every byte
#     comes back and every connection succeeds; save is the last file; a
#     reload of a broken file fails with its line and keeps the running
#     configuration.

UNITS_VIP=192.0.2.10
UNITS_DR=192.0.2.20

units_install()
{
	units_dir=$1
	units_etc=$2
	mkdir -p "$units_dir" "$units_etc" || return 1
	for f in viplb.service viplb-tables.service viplb-xdp-attach; do
		sed -e "s|@SBINDIR@|$VIPLB_ROOT/user/viplb|g" \
			-e "s|@PKGLIBDIR@|$units_dir|g" \
			-e "s|/etc/viplb/|$units_etc/|g" \
			"$VIPLB_ROOT/systemd/$f.in" >"$units_dir/$f" || return 1
	done
	chmod +x "$units_dir/viplb-xdp-attach"
}

# unit_run UNIT start|reload: the unit's commands in $LB_D, in order, as
# systemd runs them (start: ExecStartPre, then ExecStart); the first that
# fails stops.  Sets rc, and out (their stdout and stderr).
unit_run()
{
	case $2 in
	start) units_keys='ExecStartPre|ExecStart' ;;
	reload) units_keys='ExecReload' ;;
	*) bail "unit_run: $2" ;;
	esac
	out=$(sed -nE "s/^($units_keys)=//p" "$units_dir/$1" | {
		units_rc=0
		while IFS= read -r units_cmd; do
			# No /etc/default/viplb here: $VIPLB_OPTS is empty.
			ip netns exec "$LB_D" env -i PATH="$PATH" \
				sh -c "$units_cmd" || { units_rc=$?; break; }
		done
		exit $units_rc
	} 2>&1)
	rc=$?
}

# units_attached: the devices viplb's XDP is attached to in $LB_D.
units_attached()
{
	"$VIPLB" -n "$LB_D" xdp show | sed -n 's/^xdp dev \([^ ]*\) .*/\1/p' |
		tr '\n' ' '
}

# units_unload: nothing loaded in $LB_D, as at boot.
units_unload()
{
	"$VIPLB" -n "$LB_D" flush
	case " $(units_attached)" in
	*" c0 "*) "$VIPLB" -n "$LB_D" xdp detach c0 ;;
	esac
}

# units_conf W1 W2 [W3]: a viplb.conf, as viplb save writes it: tcp
# VIP:80, nat, wrr over the real servers' port 81 (lib.sh's "hello":
# "NAME PEER\n", then echo) with these weights, and a dr service (served by
# XDP without the module: loaded only if XDP is attached first).
units_conf()
{
	echo "service add tcp $UNITS_VIP:80 sched wrr mode nat table-size 65537"
	units_i=1
	for units_w in "$@"; do
		echo "backend add tcp $UNITS_VIP:80 $(lb_be4 $units_i):81 weight $units_w"
		units_i=$((units_i + 1))
	done
	echo "service add tcp $UNITS_DR:80 sched maglev mode dr table-size 65537"
	echo "backend add tcp $UNITS_DR:80 $(lb_be4 1):80 weight 1"
}

# The client of the reload test: LONG connections stream for SECONDS,
# every echo checked; a new connection every 100 ms must greet.  Prints
# "LONG_INTACT SHORT_OK SHORT_TRIED", then one line per error.
UNITS_TRAFFIC_PY='
import os, socket, sys, time
vip, secs, nlong = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
errs, longs = [], []

def greeting(s):		# "NAME CLIENT\n"
    got = b""
    while not got.endswith(b"\n"):
        b = s.recv(100)
        if not b:
            raise OSError("closed before the greeting")
        got += b
    return got

for i in range(nlong):
    s = socket.create_connection((vip, 80), timeout=10)
    greeting(s)
    longs.append(s)
short_ok = short_tried = 0
end = time.monotonic() + secs
rounds = 0
while time.monotonic() < end:
    for n, s in enumerate(longs):
        if s is None:
            continue
        data = os.urandom(512)
        try:
            s.sendall(data)
            got = b""
            while len(got) < len(data):
                b = s.recv(len(data) - len(got))
                if not b:
                    raise OSError("closed")
                got += b
            if got != data:
                raise OSError("echo differs")
        except OSError as e:
            errs.append("long %d: %s" % (n, e))
            longs[n] = None
    rounds += 1
    if rounds % 2 == 0:
        short_tried += 1
        try:
            c = socket.create_connection((vip, 80), timeout=5)
            if greeting(c).startswith(b"b"):
                short_ok += 1
            else:
                errs.append("short %d: bad greeting" % short_tried)
            c.close()
        except OSError as e:
            errs.append("short %d: %s" % (short_tried, e))
    time.sleep(0.05)
print(sum(1 for s in longs if s is not None), short_ok, short_tried)
for e in errs:
    print(e)
'

units_viplb_service()
{
	local T=$VIPLB_TMP etc=$units_etc reloads reload_errs f traffic_pid
	local traffic_rc long_ok short_ok short_tried

	units_conf 1 1 >"$T/good.conf"
	cp "$T/good.conf" "$etc/viplb.conf"
	echo "xdp attach c0 mode generic   # the clients' side" >"$etc/xdp.conf"

	unit_run viplb.service start
	check_eq "viplb.service start, good files: success" "$rc $out" "0 "
	check_eq "the services of viplb.conf (nat and dr) are loaded" \
		"$("$VIPLB" -n "$LB_D" save)" "$(cat "$T/good.conf")"
	check_eq "xdp.conf's c0 is attached" "$(units_attached)" "c0 "
	check_grep "the VIP answers" "^b[12] $LB_CLI4\$" \
		"$(ip netns exec "$LB_C" socat -T 5 - \
			"TCP:$UNITS_VIP:80,connect-timeout=5" </dev/null 2>&1 |
			head -1)"
	unit_run viplb.service start
	check_eq "start again (restart): success, c0 left as it is" \
		"$rc $out $(units_attached)" "0  c0 "

	# A broken viplb.conf, from nothing loaded.
	units_unload
	sed '3s/weight 1/weight one/' "$T/good.conf" >"$etc/viplb.conf"
	unit_run viplb.service start
	check_eq "a bad viplb.conf: start fails" "$rc" 1
	check_grep "... with viplb's line 3 error" "^viplb: line 3: .*one" "$out"
	check_eq "... and loads no service" "$("$VIPLB" -n "$LB_D" save)" ""
	check_eq "... and leaves nothing attached (c0 detached again)" \
		"$(units_attached)" ""

	# A broken xdp.conf, with a good viplb.conf.
	cp "$T/good.conf" "$etc/viplb.conf"
	printf '# the clients\nxdp attach c9 mode generic\n' >"$etc/xdp.conf"
	unit_run viplb.service start
	check_eq "a bad xdp.conf: start fails, before the restore" "$rc $out" \
		"1 $etc/xdp.conf: line 2: xdp attach: no device \`c9'"
	check_eq "... and loads no service" "$("$VIPLB" -n "$LB_D" save)" ""
	check_eq "... and attaches nothing" "$(units_attached)" ""

	# Reload under traffic.
	echo "xdp attach c0 mode generic" >"$etc/xdp.conf"
	unit_run viplb.service start
	check_eq "start for the reload test: success" "$rc $out" "0 "
	units_conf 1 1 3 >"$T/new1.conf"
	units_conf 2 1 1 >"$T/new2.conf"
	ip netns exec "$LB_C" python3 -S -c "$UNITS_TRAFFIC_PY" "$UNITS_VIP" \
		"${UNITS_TRAFFIC_SECONDS:-20}" 16 >"$T/traffic.out" 2>&1 &
	traffic_pid=$!
	defer "kill $traffic_pid"
	reloads=0
	reload_errs=
	sleep 2
	while kill -0 "$traffic_pid" 2>/dev/null && [ "$reloads" -lt 400 ]; do
		f=$T/new$((reloads % 2 + 1)).conf
		# As an editor saves it: a new file renamed over the old.
		cp "$f" "$etc/viplb.conf.new" &&
			mv "$etc/viplb.conf.new" "$etc/viplb.conf"
		unit_run viplb.service reload
		[ "$rc" -eq 0 ] || reload_errs="$reload_errs$out
"
		reloads=$((reloads + 1))
	done
	wait "$traffic_pid"
	traffic_rc=$?
	check_eq "reload under traffic: $reloads reloads, all succeeded" \
		"$reload_errs" ""
	check_ok "reload under traffic: at least 4 reloads ran" \
		test "$reloads" -ge 4
	read -r long_ok short_ok short_tried <"$T/traffic.out"
	check_eq "reload under traffic: the client ran" "$traffic_rc" 0
	check_eq "reload under traffic: every long connection intact (16)" \
		"$long_ok" 16
	check_ok "reload under traffic: every new connection answered (${short_ok:-0} of ${short_tried:-0})" \
		test "${short_tried:-0}" -gt 0 -a "$short_ok" = "$short_tried"
	if [ "$(wc -l <"$T/traffic.out")" -gt 1 ]; then
		fail "reload under traffic: no client error" \
			"$(tail -n +2 "$T/traffic.out")"
	else
		pass "reload under traffic: no client error"
	fi
	check_eq "after the reloads, save is the last file" \
		"$("$VIPLB" -n "$LB_D" save)" "$(cat "$etc/viplb.conf")"
	cp "$etc/viplb.conf" "$T/last.conf"
	sed '2s/^backend add tcp/backend ad tcp/' "$T/last.conf" >"$etc/viplb.conf"
	unit_run viplb.service reload
	check_grep "a reload of a bad file fails with its line" \
		"^viplb: line 2: " "$out"
	check_eq "... and keeps the running configuration" \
		"$("$VIPLB" -n "$LB_D" save)" "$(cat "$T/last.conf")"
}
