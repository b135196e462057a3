# -m conntrack addresses, IPv4: kept as written (not masked), as
# xt_conntrack keeps them; a host mask prints bare.  ;VIPLB;OK lines:
# Debian's iptables 1.8.9 takes them (see libxt_viplb_conntrack.t).
:INPUT,FORWARD,OUTPUT
-m conntrack --ctorigsrc 192.0.2.1;=;OK
-m conntrack --ctorigsrc 192.0.2.1/32;-m conntrack --ctorigsrc 192.0.2.1;OK
-m conntrack ! --ctorigdst 192.0.2.7/24;=;OK
-m conntrack --ctreplsrc 198.51.100.0/255.255.255.0;-m conntrack --ctreplsrc 198.51.100.0/24;OK
-m conntrack --ctrepldst 0/0;-m conntrack --ctrepldst 0.0.0.0/0;OK
-m conntrack --ctorigsrc 192.0.2.1/33;-m conntrack --ctorigsrc 192.0.2.1;FAIL;VIPLB;OK
-m conntrack --ctorigsrc 2001:db8::1;;FAIL
