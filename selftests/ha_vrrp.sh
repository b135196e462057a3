#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# nat failover: two directors in nat mode, the VIP and the real servers'
# gateway held by keepalived (VRRP), conntrack (NAT bindings included)
# synced by conntrackd in FTFW mode.  No established connection is lost
# when the master fails, nor when it comes back.
#
#   client $HA_C 192.0.2.2/24          switch $HA_S: bridges front, back
#        |                                      |
#   front: 192.0.2.0/24 ---------+-------------+   VRRP VIP 192.0.2.10
#                                |             |
#                     $HA_D1 .3 (prio 150)  $HA_D2 .4 (prio 100)
#                     sync0 203.0.113.1 ----- sync0 203.0.113.2  (conntrackd)
#                     back .2                back .3
#                                |             |
#   back: 198.51.100.0/24 -------+------+------+   VRRP gateway 198.51.100.1
#                                       |
#                       $LB_B1..3 .11 .12 .13: echo on 8080, default via .1
#
# Both directors: the same viplb configuration (viplb save of director 1,
# restored in director 2): nat tcp 192.0.2.10:8080, sched rr, so that only
# the synced bindings, not the scheduler, keep a connection on its server.
# nf_conntrack_tcp_loose=0 and a rule that drops packets conntrack finds
# invalid: a packet of a connection the new master has not committed yet
# is dropped (and retransmitted) rather than answered with a reset.
#
# Each phase runs HA_LONG long connections streaming data (streams.py,
# every byte checked) and a new short connection every 0.2 s:
#   failover: keepalived stops on director 1; director 2 must be master
#             within 3 s, every long connection must end intact, and every
#             new connection started after the takeover must succeed (and
#             one must have, so that the check cannot pass on none);
#   failback: keepalived starts again on director 1, which takes the
#             master role back (priority 150, preempt); the same checks.
#
# HA_DATAPATH=nft runs the directors on viplb's nf_tables datapath instead
# of the module (for a host without it).

. "$(dirname "$0")/lib.sh"

require_root
lb_need_cmd ip jq nft python3 keepalived conntrackd
HA_DATAPATH=${HA_DATAPATH:-module}
if [ "$HA_DATAPATH" = module ]; then
	mod_fresh
	dmesg_mark
fi
modprobe -a nf_conntrack_netlink 2>/dev/null

HA_LONG=${HA_LONG:-100}
VIP=192.0.2.10
PORT=8080
GW=198.51.100.1

# ---------------------------------------------------------------- topology

ha_netns HA_S:haS HA_C:haC HA_D1:haD1 HA_D2:haD2 LB_B1:haB1 LB_B2:haB2 \
	LB_B3:haB3

{
	echo "link set lo up"
	for br in front back; do
		echo "link add $br type bridge forward_delay 0 mcast_snooping 0"
		echo "link set $br up"
	done
	echo "link add pc type veth peer name eth0 netns $HA_C"
	echo "link set pc master front up"
	for i in 1 2; do
		eval "d=\$HA_D$i"
		echo "link add pf$i type veth peer name front netns $d"
		echo "link set pf$i master front up"
		echo "link add pb$i type veth peer name back netns $d"
		echo "link set pb$i master back up"
	done
	for i in 1 2 3; do
		eval "b=\$LB_B$i"
		echo "link add pr$i type veth peer name eth0 netns $b"
		echo "link set pr$i master back up"
	done
} | ip -n "$HA_S" -b - || bail "configure the switch"
ip -n "$HA_D1" link add sync0 type veth peer name sync0 netns "$HA_D2" ||
	bail "the sync link"
ip -n "$HA_C" -b - <<EOF || bail "configure the client"
link set lo up
addr add 192.0.2.2/24 dev eth0
link set eth0 up
EOF
for i in 1 2; do
	eval "d=\$HA_D$i"
	ip -n "$d" -b - <<-EOF || bail "configure director $i"
	link set lo up
	addr add 192.0.2.$((i + 2))/24 dev front
	addr add 198.51.100.$((i + 1))/24 dev back
	addr add 203.0.113.$i/24 dev sync0
	link set front up
	link set back up
	link set sync0 up
	EOF
done
ha_real_servers $GW
lb_servers

# ---------------------------------------------------- viplb, the firewall

for i in 1 2; do
	eval "d=\$HA_D$i"
	# Conntrack first: a mid-connection packet with no entry is invalid
	# (not picked up as new), and dropped; window tracking is liberal
	# on entries made before a failover.
	ip netns exec "$d" sysctl -qw net.ipv4.ip_forward=1 \
		net.netfilter.nf_conntrack_tcp_loose=0 \
		net.netfilter.nf_conntrack_tcp_be_liberal=1 ||
		bail "sysctl in director $i"
	ip netns exec "$d" nft -f - <<-EOF || bail "the invalid-drop rule in director $i"
	table inet ha {
		chain pre {
			type filter hook prerouting priority -150;
			ct state invalid drop
		}
	}
	EOF
done
{
	echo "service add tcp $VIP:$PORT sched rr mode nat"
	for i in 1 2 3; do
		echo "backend add tcp $VIP:$PORT $(lb_be4 "$i"):$PORT"
	done
} >"$VIPLB_TMP/viplb.conf"
dp="-d $HA_DATAPATH"
[ "$HA_DATAPATH" = nft ] || dp=
# shellcheck disable=SC2086 # dp: zero or two words
"$VIPLB" $dp -n "$HA_D1" restore "$VIPLB_TMP/viplb.conf" ||
	bail "viplb restore in director 1"
# shellcheck disable=SC2086
"$VIPLB" $dp -n "$HA_D1" save >"$VIPLB_TMP/saved.conf" &&
	"$VIPLB" $dp -n "$HA_D2" restore "$VIPLB_TMP/saved.conf" ||
	bail "viplb save | viplb restore into director 2"
# shellcheck disable=SC2086
check_eq "the same viplb configuration on both directors" \
	"$("$VIPLB" $dp -n "$HA_D2" save)" "$(cat "$VIPLB_TMP/saved.conf")"

# ----------------------------------------------- conntrackd, keepalived

# conntrackd_conf I: director I's conntrackd.conf (FTFW over UDP on sync0).
conntrackd_conf()
{
	cat <<-EOF
	Sync {
		Mode FTFW {
			DisableExternalCache Off
			PurgeTimeout 3
		}
		UDP {
			IPv4_address 203.0.113.$1
			IPv4_Destination_Address 203.0.113.$((3 - $1))
			Port 3780
			Interface sync0
			SndSocketBuffer 1249280
			RcvSocketBuffer 1249280
			Checksum on
		}
	}
	General {
		HashSize 8192
		HashLimit 65536
		LogFile $VIPLB_TMP/D$1.conntrackd.log
		Syslog off
		LockFile $VIPLB_TMP/D$1.conntrackd.lock
		UNIX {
			Path $VIPLB_TMP/D$1.conntrackd.ctl
		}
		NetlinkBufferSize 2097152
		NetlinkBufferSizeMaxGrowth 8388608
		Filter From Userspace {
			Protocol Accept {
				TCP
			}
			Address Ignore {
				IPv4_address 127.0.0.1
				IPv4_address 192.0.2.$(($1 + 2))
				IPv4_address 198.51.100.$(($1 + 1))
				IPv4_address 203.0.113.$1
			}
		}
	}
	EOF
}

# keepalived_conf I PRIORITY: director I's keepalived.conf.
keepalived_conf()
{
	cat <<-EOF
	global_defs {
		router_id director$1
	}
	vrrp_instance viplb {
		state BACKUP
		interface front
		track_interface {
			back
		}
		virtual_router_id 51
		priority $2
		advert_int 1
		virtual_ipaddress {
			$VIP/24 dev front
			$GW/24 dev back
		}
		notify "$VIPLB_TMP/notify.sh $1"
	}
	EOF
}

# keepalived's notify script: NAME, then keepalived's TYPE NAME STATE
# PRIORITY.  It logs the transition with its time (ms), then moves the
# conntrack state as conntrackd's primary-backup.sh does: a new master
# commits the external cache to the kernel and resyncs; a backup (or a
# fault, or a stop) shortens the kernel's timers and asks the other node
# for a resync.
cat >"$VIPLB_TMP/notify.sh" <<EOF
#!/bin/sh
conf=$VIPLB_TMP/D\$1.conntrackd.conf
echo "\$(date +%s%3N) \$4" >>$VIPLB_TMP/D\$1.vrrp.log
case \$4 in
MASTER)
	conntrackd -C \$conf -c
	conntrackd -C \$conf -f
	conntrackd -C \$conf -R
	conntrackd -C \$conf -B
	;;
BACKUP | FAULT | STOP)
	conntrackd -C \$conf -t
	conntrackd -C \$conf -n
	;;
esac
EOF
chmod 0755 "$VIPLB_TMP/notify.sh"

# keepalived_start I: director I's keepalived; its PID in keepalived_I.
keepalived_start()
{
	eval "vl_d=\$HA_D$1"
	ha_daemon "keepalived_$1" "$vl_d" "$VIPLB_TMP/D$1.keepalived.log" \
		keepalived -n -l -D -G -P -f "$VIPLB_TMP/D$1.keepalived.conf" \
		-p "$VIPLB_TMP/D$1.keepalived.pid" -r "$VIPLB_TMP/D$1.vrrp.pid"
}

for i in 1 2; do
	eval "d=\$HA_D$i"
	conntrackd_conf $i >"$VIPLB_TMP/D$i.conntrackd.conf"
	ha_daemon "conntrackd_$i" "$d" "$VIPLB_TMP/D$i.conntrackd.out" \
		conntrackd -C "$VIPLB_TMP/D$i.conntrackd.conf"
	keepalived_conf $i $((200 - 50 * i)) >"$VIPLB_TMP/D$i.keepalived.conf"
	: >"$VIPLB_TMP/D$i.vrrp.log"
done
keepalived_start 1
keepalived_start 2

# state I: director I's last VRRP state.
state()
{
	vl_s=$(tail -n 1 "$VIPLB_TMP/D$1.vrrp.log")
	echo "${vl_s#* }"
}

# states S1 S2: director 1 is S1 and director 2 is S2.
states()
{
	[ "$(state 1)" = "$1" ] && [ "$(state 2)" = "$2" ]
}

# is_master I: director I's last VRRP state is MASTER.
is_master()
{
	[ "$(state "$1")" = MASTER ]
}

# became I STATE: the time (ms) of director I's last move to STATE.
became()
{
	grep " $2\$" "$VIPLB_TMP/D$1.vrrp.log" | tail -n 1 | cut -d' ' -f1
}

if ha_wait 30 states MASTER BACKUP; then
	pass "director 1 is master, director 2 backup (${ha_ms} ms after start)"
else
	bail "director 1 master, director 2 backup" \
		"$(cat "$VIPLB_TMP"/D*.vrrp.log "$VIPLB_TMP/D1.keepalived.log")"
fi
check_ok "the client reaches $VIP:$PORT" \
	ip netns exec "$HA_C" python3 -S "$VIPLB_SELFTESTS/streams.py" \
	"$VIP" $PORT 3 "$VIPLB_TMP/probe.ready" --seconds 1

# synced I: director I's external cache has N entries (conntrackd -e).
synced()
{
	vl_n=$(ip netns exec "$2" conntrackd -C "$VIPLB_TMP/D$1.conntrackd.conf" \
		-e 2>/dev/null | grep -c "dport=$PORT")
	[ "$vl_n" -ge "$3" ]
}

# phase NAME FROM TO ACTION...: HA_LONG connections and new ones while
# ACTION moves the master role from director FROM to director TO.
phase()
{
	vl_name=$1
	vl_from=$2
	vl_to=$3
	shift 3
	eval "vl_dto=\$HA_D$vl_to"
	ha_streams_start "$HA_C" "$VIP" $PORT "$HA_LONG" --period 0.5 \
		--chunk 256 --short-every 0.2 || return 1
	# The backup must hold the bindings before the master goes.
	if ha_wait 60 synced "$vl_to" "$vl_dto" "$HA_LONG"; then
		pass "$vl_name: director $vl_to's conntrackd holds the $HA_LONG connections (${ha_ms} ms)"
	else
		fail "$vl_name: director $vl_to's conntrackd holds the $HA_LONG connections" \
			"$(tail -5 "$VIPLB_TMP/D$vl_to.conntrackd.log")"
	fi
	sleep 2
	t_kill=$(lb_ms)
	"$@"
	ha_t0=$t_kill
	ha_wait 30 is_master "$vl_to" ||
		fail "$vl_name: director $vl_to becomes master" \
			"$(cat "$VIPLB_TMP"/D*.vrrp.log)"
	took=$(($(became "$vl_to" MASTER) - t_kill))
	log "$vl_name: the master role from director $vl_from to $vl_to: master $took ms after the change (seen after ${ha_ms} ms)"
	sleep 5
	ha_streams_end
	[ -n "$ha_report" ] || { fail "$vl_name: a report of the connections"; return 1; }
	intact=$(ha_jr .intact)
	# The new connections that failed, and those of them started after
	# the takeover (plus a second for the gratuitous ARPs).
	t_master=$(became "$vl_to" MASTER)
	late=$(ha_jr "[.short_fail_at[] | select(. * 1000 > $t_master + 1000)] | length")
	log "$vl_name: long connections intact: $intact of $HA_LONG ($(ha_jr .bytes) bytes checked); new connections: $(ha_jr .short_ok) ok, $(ha_jr .short_fail) failed, $late of them started after the takeover"
	[ "$(ha_jr '.broken | length')" = 0 ] ||
		log "$vl_name: broken: $(ha_jr '.broken | join("; ")')"
	[ "$(ha_jr '.short_err | length')" = 0 ] ||
		log "$vl_name: failed: $(ha_jr '.short_err | join("; ")')"
	if [ "$vl_to" = 2 ] && [ "$took" -le 3000 ]; then
		pass "$vl_name: takeover within 3 s: $took ms"
	elif [ "$vl_to" = 2 ]; then
		fail "$vl_name: takeover within 3 s: $took ms"
	else
		pass "$vl_name: director 1 master again after $took ms (preempt)"
	fi
	check_eq "$vl_name: long connections intact: $intact of $HA_LONG" \
		"$intact" "$HA_LONG"
	check_eq "$vl_name: new connections after the takeover all succeed ($(ha_jr .short_ok) ok in all)" \
		"$late" 0
	# ... and there were some: the last one that worked came after it.
	after=$(ha_jr "if .short_last_ok then (.short_last_ok * 1000 | floor) - $t_master - 1000 else -1 end")
	if [ "$after" -gt 0 ]; then
		pass "$vl_name: new connections succeed after the takeover (the last one $after ms after it and the ARPs' second)"
	else
		fail "$vl_name: new connections succeed after the takeover" \
			"the last one that worked: $(ha_jr .short_last_ok), master at $t_master ms"
	fi
}

phase failover 1 2 ha_stop "$keepalived_1"
phase failback 2 1 keepalived_start 1

[ "$HA_DATAPATH" = nft ] || dmesg_check "no kernel warning"
viplb_finish
