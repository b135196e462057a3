# REDIRECT --to-ports; see libipt_viplb_dnat.t.
:PREROUTING,OUTPUT
*nat
-p tcp -j REDIRECT --to-ports ssh;-p tcp -j REDIRECT --to-ports 22;OK
-p udp -j REDIRECT --to-ports ftp-data;-p udp -j REDIRECT --to-ports 20;OK
-p tcp -j REDIRECT --to-ports 42-1234;=;OK
-p tcp -j REDIRECT --to-ports ftp-ssh;;FAIL
-p tcp -j REDIRECT --to-ports 10-ssh;;FAIL
-p tcp -j REDIRECT --to-ports 10-;;FAIL
-p udp -j REDIRECT --to-ports 0;=;OK
-p tcp -j REDIRECT --to-ports 1000-2000/5;;FAIL
