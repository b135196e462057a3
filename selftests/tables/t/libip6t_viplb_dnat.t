# The IPv6 forms of libipt_viplb_dnat.t (brackets around the address).
:PREROUTING
*nat
-p tcp -j DNAT --to-destination [2001:db8::1]:ssh;-p tcp -j DNAT --to-destination [2001:db8::1]:22;OK
-p tcp -j DNAT --to-destination [2001:db8::1]:ftp-data;-p tcp -j DNAT --to-destination [2001:db8::1]:20;OK
-p tcp -j DNAT --to-destination [2001:db8::1]:echo-ssh;;FAIL
-p tcp -j DNAT --to-destination [2001:db8::1]:10-ssh;;FAIL
-p tcp -j DNAT --to-destination [2001:db8::1]:1000-2000/3000;=;OK
