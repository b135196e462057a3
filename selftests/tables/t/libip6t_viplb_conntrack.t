# -m conntrack addresses, IPv6.
:INPUT,FORWARD,OUTPUT
-m conntrack --ctorigsrc 2001:db8::1;=;OK
-m conntrack ! --ctorigdst 2001:db8::7/64;=;OK
-m conntrack --ctreplsrc 2001:db8::/128;-m conntrack --ctreplsrc 2001:db8::;OK
-m conntrack --ctrepldst ::/0;=;OK
-m conntrack --ctorigsrc 192.0.2.1;;FAIL
