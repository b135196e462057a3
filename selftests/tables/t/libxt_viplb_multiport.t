# -m multiport on every protocol xt_multiport takes (issue 16).
:INPUT,FORWARD,OUTPUT
-p sctp -m multiport --ports 53,1024:65535;=;OK
-p dccp -m multiport ! --sports 7,9;=;OK
-p udplite -m multiport --dports 1,2,3;=;OK
-p icmp -m multiport --dports 1;;FAIL
! -p sctp -m multiport --dports 1;;FAIL
-m multiport --dports 1;;FAIL
