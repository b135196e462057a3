# viplb's own cases in the format of iptables' extensions/*.t, run by
# iptables_t.py (libipt_ IPv4, libip6t_ IPv6, libxt_ both).  NAT target
# ports: a number or one service name (which may hold a dash), a range of
# numbers only.  The FAIL lines with names were accepted by viplb-tables
# before (issue 16's "wrong" answers).
:PREROUTING,OUTPUT
*nat
-p tcp -j DNAT --to-destination 192.0.2.1:ssh;-p tcp -j DNAT --to-destination 192.0.2.1:22;OK
-p tcp -j DNAT --to-destination 192.0.2.1:ftp-data;-p tcp -j DNAT --to-destination 192.0.2.1:20;OK
-p tcp -j DNAT --to-destination 192.0.2.1:1000-2000;=;OK
-p tcp -j DNAT --to-destination 192.0.2.1:echo-ssh;;FAIL
-p tcp -j DNAT --to-destination 192.0.2.1:10-ssh;;FAIL
-p tcp -j DNAT --to-destination 192.0.2.1:ssh-20;;FAIL
-p tcp -j DNAT --to-destination 192.0.2.1:2000-1000;;FAIL
-p tcp -j DNAT --to-destination 192.0.2.1:nosuchservice;;FAIL
# Port 0, and DNAT's port offsets ("P-Q/B": B and up map to P and up).
-p tcp -j DNAT --to-destination 192.0.2.1:0;=;OK
-p tcp -j DNAT --to-destination 192.0.2.1:0-100;=;OK
-p tcp -j DNAT --to-destination 192.0.2.1:1000-2000/3000;=;OK
-p tcp -j DNAT --to-destination :1000-2000/ssh;-p tcp -j DNAT --to-destination :1000-2000/22;OK
-p tcp -j DNAT --to-destination 192.0.2.1:1000-2000/0;;FAIL
-p tcp -j DNAT --to-destination 192.0.2.1:1000/5;;FAIL
