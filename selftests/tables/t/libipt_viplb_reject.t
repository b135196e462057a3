# Every REJECT type of IPv4 (issue 16); the IPv6 ones are refused here.
:INPUT,FORWARD,OUTPUT
-j REJECT --reject-with icmp-proto-unreachable;=;OK
-j REJECT --reject-with icmp-net-prohibited;=;OK
-j REJECT --reject-with icmp-host-prohibited;=;OK
-j REJECT --reject-with host-prohib;-j REJECT --reject-with icmp-host-prohibited;OK
-j REJECT --reject-with icmp6-policy-fail;;FAIL
