#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write the same load-balancer configuration in each tool's own format.

    gen.py FORMAT PROTO N B

N services of protocol PROTO (tcp or udp), each with B backends, in the
format FORMAT:

    viplb-rr      viplb restore file, sched rr, mode nat
    viplb-mg251   viplb restore file, sched maglev table-size 251
    viplb-mg      viplb restore file, sched maglev (default table size:
                  auto, 1,021 slots for 10 backends)
    viplb-mg65537 viplb restore file, sched maglev table-size 65537
    viplb-dr      viplb restore file, sched rr, mode dr (viplb-tun: tun)
    ipvs          ipvsadm -R input, rr scheduler, masquerading (nat)
    ipvs-dr       the same, direct routing (-g) (ipvs-tun: tunnelling, -i)
    iptables      iptables-restore input for the nat table, kube-proxy
                  style: PREROUTING -> KUBE-SERVICES, one rule per service
                  jumping to KUBE-SVC-i, which picks one of the KUBE-SEP-i-j
                  chains with -m statistic --mode random, each doing DNAT
    nft           nft -f input: one verdict map keyed by
                  daddr . l4proto . dport jumping to a chain per service,
                  whose dnat picks the backend with numgen random (like
                  kube-proxy's nftables mode, so a lookup is one hash)

Service i has VIP 192.0.2.(1 + i % 250) and port 1000 + i // 250; backend
j is 198.51.100.(11 + j) port 8080.  "gen.py probe N" prints the VIP and
port of the service the benchmark sends to: the middle one, i = N // 2,
which is the mean position in a linear rule list.

    gen.py rules K

K filter rules in iptables-restore format, loaded unchanged by
viplb-restore, iptables-legacy-restore and iptables-nft-restore: FORWARD
with policy DROP, K - 1 rules that the benchmark's flow (UDP
203.0.113.2:10000 -> 198.51.100.11:8080, see run.sh) does not match,

    -A FORWARD -s 203.0.113.X/32 -p udp --dport P -j DROP

with X in 100..249 and P in 9..75 (each (X, P) once), then the one rule
that accepts it.  Every packet of the flow thus goes through all K rules,
and is forwarded only if the last one matched.  One more rule, in INPUT,
which the forwarded flow never sees, uses -m conntrack: it turns conntrack
on in the netns for the iptables tools too, as viplb's filter table always
does, so that conntrack's per-packet work is the same for the three.
"""
import sys

BE_PORT = 8080


def vip(i):
    return "192.0.2.%d" % (1 + i % 250), 1000 + i // 250


def backend(j):
    return "198.51.100.%d" % (11 + j)


def viplb(out, proto, n, b, sched, mode="nat"):
    for i in range(n):
        a, p = vip(i)
        out.write("service add %s %s:%d %s mode %s\n" %
                  (proto, a, p, sched, mode))
    for i in range(n):
        a, p = vip(i)
        for j in range(b):
            # dr and tun keep the destination port
            out.write("backend add %s %s:%d %s:%d\n" %
                      (proto, a, p, backend(j),
                       BE_PORT if mode == "nat" else p))


def ipvs(out, proto, n, b, fwd="-m"):
    flag = "-t" if proto == "tcp" else "-u"
    for i in range(n):
        a, p = vip(i)
        out.write("-A %s %s:%d -s rr\n" % (flag, a, p))
        for j in range(b):
            out.write("-a %s %s:%d -r %s:%d %s -w 1\n" %
                      (flag, a, p, backend(j),
                       BE_PORT if fwd == "-m" else p, fwd))


def iptables(out, proto, n, b):
    w = out.write
    w("*nat\n")
    for c in ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"):
        w(":%s ACCEPT [0:0]\n" % c)
    w(":KUBE-SERVICES - [0:0]\n")
    for i in range(n):
        w(":KUBE-SVC-%d - [0:0]\n" % i)
        for j in range(b):
            w(":KUBE-SEP-%d-%d - [0:0]\n" % (i, j))
    w("-A PREROUTING -j KUBE-SERVICES\n")
    for i in range(n):
        a, p = vip(i)
        w("-A KUBE-SERVICES -d %s/32 -p %s -m %s --dport %d -j KUBE-SVC-%d\n"
          % (a, proto, proto, p, i))
    for i in range(n):
        for j in range(b):
            if j < b - 1:
                w("-A KUBE-SVC-%d -m statistic --mode random "
                  "--probability %.10f -j KUBE-SEP-%d-%d\n"
                  % (i, 1.0 / (b - j), i, j))
            else:
                w("-A KUBE-SVC-%d -j KUBE-SEP-%d-%d\n" % (i, i, j))
        for j in range(b):
            w("-A KUBE-SEP-%d-%d -p %s -m %s -j DNAT --to-destination %s:%d\n"
              % (i, j, proto, proto, backend(j), BE_PORT))
    w("COMMIT\n")


def nft(out, proto, n, b, anon_map):
    w = out.write
    w("table ip lb {\n")
    bes = ", ".join("%d : %s . %d" % (j, backend(j), BE_PORT)
                    for j in range(b))
    for i in range(n):
        w("\tchain svc%d {\n" % i)
        if anon_map:
            w("\t\tmeta l4proto %s dnat ip to numgen random mod %d "
              "map { %s }\n" % (proto, b, bes))
        else:
            for j in range(b - 1):
                w("\t\tmeta l4proto %s numgen random mod %d 0 "
                  "dnat ip to %s:%d\n" % (proto, b - j, backend(j), BE_PORT))
            w("\t\tmeta l4proto %s dnat ip to %s:%d\n"
              % (proto, backend(b - 1), BE_PORT))
        w("\t}\n")
    w("\tmap services {\n\t\ttype ipv4_addr . inet_proto . inet_service "
      ": verdict\n")
    if n:
        w("\t\telements = {\n")
        for i in range(n):
            a, p = vip(i)
            w("\t\t\t%s . %s . %d : goto svc%d,\n" % (a, proto, p, i))
        w("\t\t}\n")
    w("\t}\n")
    w("\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; "
      "policy accept;\n\t\tip daddr . meta l4proto . th dport vmap "
      "@services\n\t}\n}\n")


# The flow of the rules benchmark, as run.sh's pktgen "est" runs send it.
RULES_FLOW = ("203.0.113.2", "198.51.100.11", BE_PORT)


def rules(out, k):
    w = out.write
    w("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n"
      ":OUTPUT ACCEPT [0:0]\n")
    w("-A INPUT -m conntrack --ctstate INVALID -j DROP\n")
    for i in range(k - 1):
        w("-A FORWARD -s 203.0.113.%d/32 -p udp --dport %d -j DROP\n"
          % (100 + i % 150, 9 + i // 150))
    src, dst, port = RULES_FLOW
    w("-A FORWARD -s %s/32 -d %s/32 -p udp --dport %d -j ACCEPT\n"
      % (src, dst, port))
    w("COMMIT\n")


def main(argv):
    if len(argv) == 3 and argv[1] == "probe":
        a, p = vip(int(argv[2]) // 2)
        print(a, p)
        return 0
    if len(argv) == 3 and argv[1] == "rules":
        k = int(argv[2])
        if k < 1 or k > 10050:
            sys.stderr.write("gen.py: K out of range (1..10050)\n")
            return 2
        rules(sys.stdout, k)
        return 0
    if len(argv) != 5 or argv[2] not in ("tcp", "udp"):
        sys.stderr.write(__doc__)
        return 2
    fmt, proto, n, b = argv[1], argv[2], int(argv[3]), int(argv[4])
    if n < 0 or n > 100000 or b < 1 or b > 200:
        sys.stderr.write("gen.py: N or B out of range\n")
        return 2
    out = sys.stdout
    if fmt == "viplb-rr":
        viplb(out, proto, n, b, "sched rr")
    elif fmt == "viplb-mg251":
        viplb(out, proto, n, b, "sched maglev table-size 251")
    elif fmt == "viplb-mg":
        viplb(out, proto, n, b, "sched maglev")
    elif fmt == "viplb-mg65537":
        viplb(out, proto, n, b, "sched maglev table-size 65537")
    elif fmt in ("viplb-dr", "viplb-tun"):
        viplb(out, proto, n, b, "sched rr", fmt[6:])
    elif fmt == "ipvs":
        ipvs(out, proto, n, b)
    elif fmt == "ipvs-dr":
        ipvs(out, proto, n, b, "-g")
    elif fmt == "ipvs-tun":
        ipvs(out, proto, n, b, "-i")
    elif fmt == "iptables":
        iptables(out, proto, n, b)
    elif fmt == "nft":
        nft(out, proto, n, b, False)
    elif fmt == "nft-map":
        nft(out, proto, n, b, True)
    else:
        sys.stderr.write("gen.py: unknown format %r\n" % fmt)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
