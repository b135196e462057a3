# --tcp-flags with any mask (issue 16); --syn is FIN,SYN,RST,ACK SYN.
:INPUT,FORWARD,OUTPUT
-p tcp --tcp-flags ALL NONE;-p tcp -m tcp --tcp-flags FIN,SYN,RST,PSH,ACK,URG NONE;OK
-p tcp -m tcp ! --tcp-flags SYN,ACK ACK;=;OK
-p tcp --tcp-flags syn,fin fin;-p tcp -m tcp --tcp-flags FIN,SYN FIN;OK
-p tcp --tcp-flags NONE NONE;-p tcp -m tcp;OK
-p tcp --syn;-p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN;OK
-p tcp --syn --tcp-flags SYN SYN;;FAIL
-p tcp --tcp-flags SYN,BOGUS SYN;;FAIL
-p udp --tcp-flags SYN SYN;;FAIL
