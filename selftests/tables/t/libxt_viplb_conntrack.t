# viplb's own cases for -m conntrack (issue 16): every option, "!", the
# listing order of xt_conntrack, and what iptables refuses.  Lines ending
# ";VIPLB;OK" are refused by viplb-tables (iptables_t.py --variant VIPLB)
# and taken by Debian's iptables 1.8.9: --ctexpire 4:3 as the newer
# iptables refuses it, and protocol 0, port 65536 (taken as 0) and mask
# /33 (as /32) as -p and --dport refuse them.
:INPUT,FORWARD,OUTPUT
-m conntrack --ctstate SNAT;=;OK
-m conntrack ! --ctstate DNAT,SNAT;-m conntrack ! --ctstate SNAT,DNAT;OK
-m conntrack --ctproto udp;-m conntrack --ctproto 17;OK
-m conntrack ! --ctproto 6;=;OK
-m conntrack --ctproto all;-m conntrack --ctproto 0;FAIL;VIPLB;OK
-m conntrack ! --ctproto 0;=;FAIL;VIPLB;OK
-m conntrack --ctstatus ASSURED,SEEN_REPLY;-m conntrack --ctstatus SEEN_REPLY,ASSURED;OK
-m conntrack ! --ctstatus ASSURED;=;OK
-m conntrack --ctstatus NONE,EXPECTED;-m conntrack --ctstatus EXPECTED;OK
-m conntrack --ctstatus assured;-m conntrack --ctstatus ASSURED;OK
-m conntrack --ctstatus BOGUS;;FAIL
-m conntrack --ctexpire 5:;-m conntrack --ctexpire 5:4294967295;OK
-m conntrack --ctexpire :5;-m conntrack --ctexpire 0:5;OK
-m conntrack ! --ctexpire 10:20;=;OK
-m conntrack --ctexpire 4:3;=;FAIL;VIPLB;OK
-m conntrack --ctexpire 4294967296;;FAIL
-m conntrack --ctdir reply;-m conntrack --ctdir REPLY;OK
-m conntrack ! --ctdir REPLY;;FAIL
-m conntrack --ctdir SIDEWAYS;;FAIL
-m conntrack --ctdir ORIGINAL --ctdir REPLY;;FAIL
-m conntrack --ctorigsrcport ssh;-m conntrack --ctorigsrcport 22;OK
-m conntrack ! --ctrepldstport 1000:2000;=;OK
-m conntrack --ctorigdstport 65536;-m conntrack --ctorigdstport 0;FAIL;VIPLB;OK
-m conntrack --ctstate NEW --ctproto 6 --ctorigdstport 22 --ctstatus ASSURED --ctexpire 5 --ctdir ORIGINAL;=;OK
-m conntrack --ctdir REPLY --ctexpire 5 --ctstatus ASSURED --ctorigdstport 22 --ctproto 6 --ctstate NEW;-m conntrack --ctstate NEW --ctproto 6 --ctorigdstport 22 --ctstatus ASSURED --ctexpire 5 --ctdir REPLY;OK
-p tcp --dport 22 -m conntrack --ctstatus ASSURED -j ACCEPT;-p tcp -m tcp --dport 22 -m conntrack --ctstatus ASSURED -j ACCEPT;OK
-m conntrack --ctstatus ASSURED -p tcp --dport 22;-p tcp -m conntrack --ctstatus ASSURED -m tcp --dport 22;OK
