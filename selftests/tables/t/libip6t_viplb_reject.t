# Every REJECT type of IPv6 (issue 16); the IPv4 ones are refused here.
:INPUT,FORWARD,OUTPUT
-j REJECT --reject-with icmp6-policy-fail;=;OK
-j REJECT --reject-with icmp6-reject-route;=;OK
-j REJECT --reject-with reject-route;-j REJECT --reject-with icmp6-reject-route;OK
-j REJECT --reject-with icmp-host-prohibited;;FAIL
