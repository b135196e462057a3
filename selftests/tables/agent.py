# SPDX-License-Identifier: GPL-2.0
#
# tables/agent.py: the network namespaces, servers and clients of
# tables_diff.sh, in one python3 process (process spawns take a quarter of
# a second and more in the TCG VM, python3 two seconds: the agent starts
# once per test, and builds each topology without a process spawn).
#
# The agent reads one command per line on stdin and answers exactly one
# line on stdout.  Its namespaces are anonymous: it creates them with
# unshare() in a short-lived thread and holds them by file descriptor, so
# nothing outlives it.  Its main thread enters a namespace (setns()) just
# to create a socket, read or write a per-netns /proc file or start a
# command there, and comes back.  Sockets stay in the namespace they were
# created in.
#
# Topology:
#   netns NAME...        fresh namespaces c, r, s1, ... (lo up in each)
#   veth NS1 IF1 NS2 IF2 a veth pair, IF1 in NS1 and IF2 in NS2
#   up NS IF             set IF up
#   addr NS IF ADDR/LEN [peer ADDR] [deprecated]
#                        add an address (never tentative: no DAD)
#   route NS DST/LEN|default [via GW] [dev IF] [onlink]
#   sysctl NS KEY=VAL... write /proc/sys/KEY (dots for slashes) in NS
#   serve NS...          start the servers in each NS (below)
#   streams [sctp] [dccp]
#                        the stream protocols besides TCP that the next
#                        serve commands serve; answers "missing PROTO..."
#                        for those this kernel has no sockets of (until
#                        forget)
#   batch FILE           the commands of FILE, one per line
#   forget               close every socket, forget every namespace
#                        (the kernel then deletes them)
# Runs:
#   run NS IN OUT ERR ARGV...
#                        run ARGV in NS, stdin from IN ("-": none), stdout
#                        to OUT, stderr to ERR; answers "rc N"
#   xtables NS           the iptables-legacy tables NS has ("none", or
#                        "ip:filter ip6:nat"...)
#   conn tcp|udp|udplite|sctp|dccp FROM DST PORT [sport=N] [src=ADDR]
#                        [peerport]
#   conn icmp FROM DST [src=ADDR]
#                        one connection attempt from the netns FROM; the
#                        answer is its outcome line (below)
# Records:
#   counters SAVE OUT MODES... TABLES...
#                        append the counter lines of an `iptables-save -c`
#                        output to OUT
#   norm SAVE OUT TABLES normalized save output, for the round trip
#   maskports RECORD LO-HI
#                        hide which port of LO-HI a server answered on
#   expect EXPECT RECORD whether RECORD holds the lines of EXPECT
#   same FILE1 FILE2 [nocomments]
#                        "same" or "differ": the files' lines (but the
#                        comment lines, with nocomments)
#
# Servers.  In each served netns NAME, on IPv4 and IPv6, every TCP port of
# TCP_PORTS accepts connections and writes one line "NAME LPORT PEER
# PEERPORT", then closes; every UDP port of UDP_PORTS answers each
# datagram with that line (from the address the datagram was sent to), and
# so does every UDP-Lite port of UDP_PORTS (conn udplite: the other
# protocol of -m multiport that needs no kernel module).  After
# "streams sctp dccp", every port of STREAM_PORTS also accepts SCTP and
# DCCP connections (one-to-one sockets, served as TCP is): the other
# protocols of -m multiport, whose sockets need the sctp and dccp modules.
# PEER and PEERPORT are the client's address and port as the server sees
# them, LPORT the port the connection reached.
#
# Outcome lines ("conn"), one per attempt:
#
#   tcp c->198.51.100.11:80 ok s1:80 saw 203.0.113.2
#   udp c->[2001:db8:a::10]:53 sport 40000 ok s2:53 saw 2001:db8:b::2 sport kept
#   icmp r->198.51.100.11 ok echoed by s2
#
# and instead of "ok ...":
#
#   refused rst                     TCP RST (ECONNREFUSED, no ICMP)
#   refused icmp 3/3 from ADDR      ECONNREFUSED from an ICMP error: its
#                                   type/code and the address that sent it
#   unreachable ERRNO icmp T/C from ADDR
#                                   EHOSTUNREACH, ENETUNREACH, EACCES...
#                                   from an ICMP error
#   unreachable ERRNO               the same without an ICMP error (the
#                                   sender had no route)
#   timeout                         no answer within TIMEOUT seconds (2)
#   error ERRNO [icmp T/C from ADDR]
#                                   any other error, e.g. EPERM from a
#                                   send() that OUTPUT dropped
#   open noreply / open reset       TCP connected, but no line came back
#   icmp: "ok echoed by NAMES" (the namespaces whose Icmp InEchos counter
#   grew), "error icmp T/C from ADDR" (the ICMP error that came back),
#   "timeout", or an error of sendto() as above.
#
# "src ADDR" follows the target when the client bound a source address,
# "sport N" when it bound a source port; with sport, the outcome ends in
# "sport kept" or "sport changed": whether the server saw that port; with
# peerport, it ends in "port N", the source port the server saw.

import ctypes
import errno
import os
import random
import re
import selectors
import socket
import struct
import subprocess
import sys
import threading

# pktcsum.py is in the selftests directory, one above this file.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pktcsum import csum  # noqa: E402

TIMEOUT = float(os.environ.get("TABLES_TIMEOUT", "2"))
TCP_PORTS = list(range(20, 28)) + [80, 443, 2000, 8000, 8001, 8002, 8080]
UDP_PORTS = [53, 123, 8000, 8001, 8002]
IPPROTO_UDPLITE = 136
IPPROTO_DCCP = 33
SOCK_DCCP = 6
# Stream protocols besides TCP: name -> (socket type, protocol).
STREAMS = {"sctp": (socket.SOCK_STREAM, socket.IPPROTO_SCTP),
           "dccp": (SOCK_DCCP, IPPROTO_DCCP)}
STREAM_PORTS = [80, 8000, 8001, 8002]

CLONE_NEWNET = 0x40000000
IP_RECVERR = 11
IP_PKTINFO = 8
IPV6_RECVERR = 25
IPV6_RECVPKTINFO = 49
IPV6_PKTINFO = 50
SO_EE_ORIGIN_ICMP = 2
SO_EE_ORIGIN_ICMP6 = 3

libc = ctypes.CDLL(None, use_errno=True)
ROOT = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
nsfd = {}		# NAME -> fd of its netns
served = {}		# NAME -> [sockets]
streams = []		# stream protocols served besides TCP (set_streams)


def setns(fd):
    if libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


class InNs:
    """with InNs(NAME): the main thread is in netns NAME."""

    def __init__(self, name):
        if name not in nsfd:
            raise ValueError("unknown netns " + name)
        self.fd = nsfd[name]

    def __enter__(self):
        setns(self.fd)

    def __exit__(self, *exc):
        setns(ROOT)


# ------------------------------------------------------- namespaces ---

def netns(names):
    """Fresh anonymous namespaces, held by file descriptor."""
    for name in names:
        if name in nsfd:
            raise ValueError("netns %s exists" % name)
        res = {}

        def worker():
            try:
                if libc.unshare(CLONE_NEWNET) != 0:
                    e = ctypes.get_errno()
                    raise OSError(e, os.strerror(e))
                res["fd"] = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
            except OSError as e:
                res["err"] = e
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        if "err" in res:
            raise res["err"]
        nsfd[name] = res["fd"]
        up(name, "lo")


AF_NETLINK = 16
NLM_F_REQUEST, NLM_F_ACK, NLM_F_EXCL, NLM_F_CREATE = 1, 4, 0x200, 0x400
NLMSG_ERROR = 2
RTM_NEWLINK, RTM_NEWADDR, RTM_NEWROUTE = 16, 20, 24
IFLA_IFNAME, IFLA_LINKINFO, IFLA_NET_NS_FD = 3, 18, 28
IFLA_INFO_KIND, IFLA_INFO_DATA, VETH_INFO_PEER = 1, 2, 1
IFA_ADDRESS, IFA_LOCAL, IFA_CACHEINFO, IFA_FLAGS = 1, 2, 6, 8
IFA_F_NODAD = 0x02
RTA_DST, RTA_OIF, RTA_GATEWAY = 1, 4, 5
RTNH_F_ONLINK = 4
IFF_UP = 1
rtnl = {}		# NAME -> rtnetlink socket in that netns


def rta(typ, payload):
    n = 4 + len(payload)
    return struct.pack("=HH", n, typ) + payload + b"\0" * (-n % 4)


def nl(name, typ, flags, body):
    """One rtnetlink request in netns NAME; raises its error."""
    s = rtnl.get(name)
    if s is None:
        with InNs(name):
            s = socket.socket(AF_NETLINK, socket.SOCK_RAW, 0)
        s.bind((0, 0))
        rtnl[name] = s
    seq = random.randint(1, 1 << 30)
    s.send(struct.pack("=IHHII", 16 + len(body), typ,
                       flags | NLM_F_REQUEST | NLM_F_ACK, seq, 0) + body)
    while True:
        data = s.recv(65536)
        off = 0
        while off + 16 <= len(data):
            n, t, _, rseq, _ = struct.unpack_from("=IHHII", data, off)
            if t == NLMSG_ERROR and rseq == seq:
                err = struct.unpack_from("=i", data, off + 16)[0]
                if err:
                    raise OSError(-err, "rtnetlink: " + os.strerror(-err))
                return
            off += (n + 3) & ~3


def ifindex(name, dev):
    with InNs(name):
        return socket.if_nametoindex(dev)


def ifinfo(index=0, flags=0, change=0):
    return struct.pack("=BxHiII", socket.AF_UNSPEC, 0, index, flags, change)


def veth(ns1, if1, ns2, if2):
    peer = ifinfo() + rta(IFLA_IFNAME, if2.encode() + b"\0") + \
        rta(IFLA_NET_NS_FD, struct.pack("=I", nsfd[ns2]))
    info = rta(IFLA_INFO_KIND, b"veth\0") + \
        rta(IFLA_INFO_DATA, rta(VETH_INFO_PEER, peer))
    nl(ns1, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL,
       ifinfo() + rta(IFLA_IFNAME, if1.encode() + b"\0") +
       rta(IFLA_LINKINFO, info))


def up(name, dev):
    nl(name, RTM_NEWLINK, 0, ifinfo(ifindex(name, dev), IFF_UP, IFF_UP))


def ipaddr(a):
    fam = family(a)
    return fam, socket.inet_pton(fam, a)


def addr(name, dev, args):
    a, plen = args[0].split("/")
    fam, local = ipaddr(a)
    peer = local
    cache = b""
    i = 1
    while i < len(args):
        if args[i] == "peer":
            peer = ipaddr(args[i + 1])[1]
            i += 2
        elif args[i] == "deprecated":	# preferred_lft 0
            cache = rta(IFA_CACHEINFO,
                        struct.pack("=IIII", 0, 0xffffffff, 0, 0))
            i += 1
        else:
            raise ValueError("addr: " + args[i])
    body = struct.pack("=BBBBI", fam, int(plen), IFA_F_NODAD, 0,
                       ifindex(name, dev))
    body += rta(IFA_LOCAL, local) + rta(IFA_ADDRESS, peer) + \
        rta(IFA_FLAGS, struct.pack("=I", IFA_F_NODAD)) + cache
    nl(name, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, body)


def route(name, args):
    dst = args[0]
    gw = dev = None
    flags = 0
    i = 1
    while i < len(args):
        if args[i] == "via":
            gw = args[i + 1]
            i += 2
        elif args[i] == "dev":
            dev = args[i + 1]
            i += 2
        elif args[i] == "onlink":
            flags |= RTNH_F_ONLINK
            i += 1
        else:
            raise ValueError("route: " + args[i])
    if dst == "default":
        fam, plen, attrs = family(gw), 0, b""
    else:
        a, plen = dst.split("/")
        fam, raw = ipaddr(a)
        attrs = rta(RTA_DST, raw)
    if gw:
        attrs += rta(RTA_GATEWAY, ipaddr(gw)[1])
    if dev:
        attrs += rta(RTA_OIF, struct.pack("=i", ifindex(name, dev)))
    scope = 0 if gw or fam == socket.AF_INET6 else 253	# link
    body = struct.pack("=BBBBBBBBI", fam, int(plen), 0, 0, 254, 3, scope,
                       1, flags)
    nl(name, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, body + attrs)


def run(name, stdin, stdout, stderr, argv):
    """ARGV in netns NAME: the child forks from this thread, and so starts
    in its namespace."""
    with open(stdin if stdin != "-" else "/dev/null") as i, \
            open(stdout, "w") as o, open(stderr, "w") as e:
        with InNs(name):
            p = subprocess.run(argv, stdin=i, stdout=o, stderr=e)
    return "rc %d" % p.returncode


# ------------------------------------------------------------ servers ---

class Servers(threading.Thread):
    """One thread serves every listening socket.  Other threads hand it
    work through call(); it owns the selector."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sel = selectors.DefaultSelector()
        self.rfd, self.wfd = os.pipe()
        self.sel.register(self.rfd, selectors.EVENT_READ, None)
        self.lock = threading.Lock()
        self.todo = []

    def call(self, fn):
        done = threading.Event()
        with self.lock:
            self.todo.append((fn, done))
        os.write(self.wfd, b"x")
        done.wait()

    def run(self):
        while True:
            for key, _ in self.sel.select():
                if key.data is None:
                    os.read(self.rfd, 4096)
                    with self.lock:
                        todo, self.todo = self.todo, []
                    for fn, done in todo:
                        try:
                            fn()
                        finally:
                            done.set()
                else:
                    try:
                        key.data(key.fileobj)
                    except OSError:
                        pass

    def add(self, socks):
        def fn():
            for s, handler in socks:
                self.sel.register(s, selectors.EVENT_READ, handler)
        self.call(fn)

    def remove(self, socks):
        def fn():
            for s in socks:
                try:
                    self.sel.unregister(s)
                except (KeyError, ValueError):
                    pass
                s.close()
        self.call(fn)


servers = Servers()


def hello(name, lport, peer):
    return ("%s %d %s %d\n" % (name, lport, peer[0], peer[1])).encode()


def tcp_handler(name, lport):
    def fn(s):
        c, peer = s.accept()
        try:
            c.settimeout(1)
            c.sendall(hello(name, lport, peer))
        finally:
            c.close()
    return fn


def udp_handler(name, lport, fam):
    def fn(s):
        data, anc, _, peer = s.recvmsg(2048, 1024)
        cmsg = []
        for level, typ, d in anc:
            if fam == socket.AF_INET and typ == IP_PKTINFO:
                # struct in_pktinfo: ifindex, spec_dst, addr (the header's
                # destination): answer from that address.
                cmsg = [(level, IP_PKTINFO,
                         struct.pack("=i4s4s", 0, d[8:12], b"\0" * 4))]
            elif fam == socket.AF_INET6 and typ == IPV6_PKTINFO:
                cmsg = [(level, IPV6_PKTINFO,
                         struct.pack("=16si", d[0:16], 0))]
        s.sendmsg([hello(name, lport, peer)], cmsg, 0, peer)
    return fn


def serve(name):
    if name in served:
        raise ValueError("already serving " + name)
    socks = []
    with InNs(name):
        for fam, anyaddr in ((socket.AF_INET, "0.0.0.0"),
                             (socket.AF_INET6, "::")):
            for p, typ, proto in \
                    [(p, socket.SOCK_STREAM, 0) for p in TCP_PORTS] + \
                    [(p,) + STREAMS[n] for n in streams for p in STREAM_PORTS]:
                s = socket.socket(fam, typ, proto)
                socks.append((s, tcp_handler(name, p)))
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if fam == socket.AF_INET6:
                    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                s.bind((anyaddr, p))
                s.listen(64)
                s.setblocking(False)
            for p, proto in [(p, proto) for p in UDP_PORTS
                             for proto in (0, IPPROTO_UDPLITE)]:
                s = socket.socket(fam, socket.SOCK_DGRAM, proto)
                socks.append((s, udp_handler(name, p, fam)))
                if fam == socket.AF_INET6:
                    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                    s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)
                else:
                    s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
                s.bind((anyaddr, p))
                s.setblocking(False)
    served[name] = [s for s, _ in socks]
    servers.add(socks)


def set_streams(names):
    """The stream protocols of the next serve commands; the names of
    those this kernel has no sockets of."""
    missing = []
    streams.clear()
    for n in names:
        if n not in STREAMS:
            raise ValueError("bad stream protocol " + n)
        try:
            socket.socket(socket.AF_INET, *STREAMS[n]).close()
            streams.append(n)
        except OSError:
            missing.append(n)
    return "missing " + " ".join(missing) if missing else "ok"


def forget():
    streams.clear()
    for name in list(served):
        servers.remove(served.pop(name))
    for sock in rtnl.values():
        sock.close()
    rtnl.clear()
    for fd in nsfd.values():
        os.close(fd)
    nsfd.clear()
    masked.clear()


# ------------------------------------------------------------ clients ---

def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def hostport(addr, port):
    return "[%s]:%s" % (addr, port) if ":" in addr else "%s:%s" % (addr, port)


def errname(e):
    return errno.errorcode.get(e, "E%d" % e)


def icmp_error(s):
    """The ICMP error queued on s (IP_RECVERR), as "icmp T/C from ADDR",
    or None."""
    s.setblocking(False)	# an empty error queue must not wait
    try:
        _, anc, _, _ = s.recvmsg(512, 1024, socket.MSG_ERRQUEUE)
    except OSError:
        return None
    for level, typ, d in anc:
        if (level, typ) not in ((socket.IPPROTO_IP, IP_RECVERR),
                                (socket.IPPROTO_IPV6, IPV6_RECVERR)):
            continue
        _, origin, etype, ecode = struct.unpack_from("=IBBB", d, 0)
        if origin not in (SO_EE_ORIGIN_ICMP, SO_EE_ORIGIN_ICMP6):
            return "local error"
        off = d[16:]
        ofam = struct.unpack_from("=H", off, 0)[0] if len(off) >= 2 else 0
        if ofam == socket.AF_INET:
            who = socket.inet_ntop(socket.AF_INET, off[4:8])
        elif ofam == socket.AF_INET6:
            who = socket.inet_ntop(socket.AF_INET6, off[8:24])
        else:
            who = "?"
        return "icmp %d/%d from %s" % (etype, ecode, who)
    return None


def failure(e, s):
    """Outcome words for the socket error e on s."""
    if isinstance(e, socket.timeout):
        return "timeout"
    icmp = icmp_error(s)
    if e.errno == errno.ECONNREFUSED:
        return "refused " + (icmp or "rst")
    if e.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EACCES,
                   errno.ENOPROTOOPT, errno.EHOSTDOWN, errno.ENONET):
        return "unreachable " + errname(e.errno) + (" " + icmp if icmp else "")
    return "error " + errname(e.errno or 0) + (" " + icmp if icmp else "")


def answer(data, sport, peerport):
    """Outcome words for a server's line."""
    w = data.decode(errors="replace").split()
    if len(w) != 4:
        return "open garbage %r" % data[:60]
    out = "ok %s:%s saw %s" % (w[0], w[1], w[2])
    if peerport:
        out += " port " + w[3]
    elif sport:
        out += " sport " + ("kept" if w[3] == str(sport) else "changed")
    return out


def conn_socket(proto, frm, dst, sport, src):
    fam = family(dst)
    with InNs(frm):
        if proto == "tcp":
            s = socket.socket(fam, socket.SOCK_STREAM)
        elif proto in STREAMS:
            s = socket.socket(fam, *STREAMS[proto])
        else:
            s = socket.socket(fam, socket.SOCK_DGRAM,
                              IPPROTO_UDPLITE if proto == "udplite" else 0)
    if fam == socket.AF_INET:
        s.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
    else:
        s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVERR, 1)
    if sport or src:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((src or ("::" if fam == socket.AF_INET6 else "0.0.0.0"),
                int(sport or 0)))
    s.settimeout(TIMEOUT)
    return s


def conn_tcp(frm, dst, port, sport, src, peerport, proto="tcp"):
    s = conn_socket(proto, frm, dst, sport, src)
    try:
        try:
            s.connect((dst, port))
        except OSError as e:
            return failure(e, s)
        data = b""
        try:
            while True:
                d = s.recv(512)
                if not d:
                    break
                data += d
        except socket.timeout:
            return "open noreply" if not data else "open partial"
        except OSError as e:
            return "open reset" if e.errno == errno.ECONNRESET \
                else "open error " + errname(e.errno)
        return answer(data, sport, peerport) if data else "open noreply"
    finally:
        s.close()


def conn_udp(frm, dst, port, sport, src, peerport, proto="udp"):
    s = conn_socket(proto, frm, dst, sport, src)
    try:
        try:
            s.connect((dst, port))
            s.send(b"hello\n")
            data = s.recv(512)
        except OSError as e:
            return failure(e, s)
        return answer(data, sport, peerport)
    finally:
        s.close()


def snmp_echos(name, fam):
    """Icmp InEchos (IPv4) or Icmp6InEchos (IPv6) of netns NAME."""
    with InNs(name):
        if fam == socket.AF_INET:
            with open("/proc/thread-self/net/snmp") as f:
                rows = [l.split() for l in f if l.startswith("Icmp:")]
            return int(dict(zip(rows[0], rows[1]))["InEchos"])
        with open("/proc/thread-self/net/snmp6") as f:
            for l in f:
                k, v = l.split()
                if k == "Icmp6InEchos":
                    return int(v)
    return 0




def conn_icmp(frm, dst, src):
    """One echo request, like ping -c1 (56 bytes of data)."""
    fam = family(dst)
    before = {n: snmp_echos(n, fam) for n in nsfd}
    ident = random.randint(1, 0xfffe)
    payload = bytes(range(56))
    with InNs(frm):
        if fam == socket.AF_INET:
            s = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        else:
            s = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    try:
        if src:
            s.bind((src, 0))
        s.settimeout(TIMEOUT)
        if fam == socket.AF_INET:
            hdr = struct.pack("!BBHHH", 8, 0, 0, ident, 1)
            hdr = struct.pack("!BBHHH", 8, 0, csum(hdr + payload), ident, 1)
            etype, errs = 0, (3, 11, 12)
        else:	# the kernel computes ICMPv6 checksums of raw sockets
            hdr = struct.pack("!BBHHH", 128, 0, 0, ident, 1)
            etype, errs = 129, (1, 2, 3, 4)
        try:
            s.sendto(hdr + payload, (dst, 0))
        except OSError as e:
            return failure(e, s)
        while True:
            try:
                data, peer = s.recvfrom(2048)
            except socket.timeout:
                return "timeout"
            except OSError as e:
                return failure(e, s)
            if fam == socket.AF_INET:
                data = data[(data[0] & 0xf) * 4:]
            if len(data) < 8:
                continue
            t, c = data[0], data[1]
            if t == etype and struct.unpack_from("!H", data, 4)[0] == ident:
                got = [n for n in sorted(nsfd)
                       if snmp_echos(n, fam) > before[n]]
                return "ok echoed by " + (",".join(got) or "nobody")
            if t in errs:
                inner = data[8:]
                if fam == socket.AF_INET:
                    inner = inner[(inner[0] & 0xf) * 4:] if inner else b""
                else:
                    inner = inner[40:]
                if len(inner) >= 6 and \
                   struct.unpack_from("!H", inner, 4)[0] == ident:
                    return "error icmp %d/%d from %s" % (t, c, peer[0])
    finally:
        s.close()


def conn(args):
    proto, frm, dst = args[0], args[1], args[2]
    rest = args[3:]
    port = None
    if proto != "icmp":
        port = int(rest[0])
        rest = rest[1:]
    opt = {}
    for a in rest:
        k, _, v = a.partition("=")
        opt[k] = v
    sport, src, peerport = opt.get("sport"), opt.get("src"), "peerport" in opt
    line = "%s %s->%s" % (proto, frm, hostport(dst, port) if port else dst)
    if src:
        line += " src " + src
    if sport:
        line += " sport " + sport
    if proto == "tcp" or proto in STREAMS:
        out = conn_tcp(frm, dst, port, sport, src, peerport, proto)
    elif proto in ("udp", "udplite"):
        out = conn_udp(frm, dst, port, sport, src, peerport, proto)
    elif proto == "icmp":
        out = conn_icmp(frm, dst, src)
    else:
        raise ValueError("bad protocol " + proto)
    return line + " " + out


# -------------------------------------------------------- save output ---

CNT = re.compile(r"^\[(\d+):(\d+)\]$")


def counters(path, out, args):
    """Counter lines of an `iptables-save -c` dump, appended to OUT,
    sorted by table,
    chain, then rules in order before the policy:
        TABLE CHAIN #N VALUE
        TABLE CHAIN policy POLICY VALUE
    VALUE is [pkts:bytes] where the counter is compared exactly, else
    "nonzero" or "zero".  MODES: TABLE=exact|nz, then overrides
    TABLE:CHAIN[:N|:policy]=exact|nz (see tables/lib.sh).  ARGS: the
    modes, and the names of the tables to count (those of the case file:
    iptables-save lists the tables the netns has, viplb-save both)."""
    mode = {}
    keep = set(a for a in args if "=" not in a)
    for m in (a for a in args if "=" in a):
        k, v = m.split("=", 1)
        if v not in ("exact", "nz"):
            raise ValueError("bad counter mode " + m)
        mode[k] = v

    def value(cnt, table, chain, what):
        m = CNT.match(cnt)
        if not m:
            raise ValueError("bad counters " + cnt)
        how = "exact"
        for k in (table, table + ":" + chain, table + ":" + chain + ":" + what):
            how = mode.get(k, how)
        if how == "exact":
            return cnt
        return "nonzero" if int(m.group(1)) else "zero"

    lines = []
    table = None
    idx = {}
    with open(path) as f:
        for l in f:
            l = l.rstrip("\n")
            if l.startswith("*"):
                table, idx = l[1:], {}
            elif table not in keep:
                continue
            elif l.startswith(":"):
                chain, pol, cnt = l[1:].split(" ", 2)
                if pol != "-":
                    lines.append(((table, chain, 1, 0),
                                  "%s %s policy %s %s" % (table, chain, pol,
                                  value(cnt, table, chain, "policy"))))
            elif l.startswith("["):
                cnt, rest = l.split(" ", 1)
                w = rest.split()
                if w[0] != "-A":
                    raise ValueError("bad rule line " + l)
                chain = w[1]
                idx[chain] = idx.get(chain, 0) + 1
                n = idx[chain]
                lines.append(((table, chain, 0, n), "%s %s #%d %s" % (
                    table, chain, n, value(cnt, table, chain, str(n)))))
    lines.sort()
    with open(out, "a") as f:
        for _, l in lines:
            f.write(l + "\n")
    return "%d" % len(lines)


def norm(path, out, tables):
    """The round-trip form of a save dump: no comment lines, counters
    [0:0], only the tables named (those of the case file), in the order
    of their names (iptables-save lists them in the order the netns
    created them)."""
    keep = set(tables)
    blocks = {}
    cur = None
    with open(path) as f:
        for l in f:
            l = l.rstrip("\n")
            if l.startswith("#") or not l.strip():
                continue
            if l.startswith("*"):
                cur = l[1:]
                if cur in keep:
                    blocks[cur] = []
            if cur in keep:
                blocks[cur].append(re.sub(r"\[\d+:\d+\]", "[0:0]", l))
            if l == "COMMIT":
                cur = None
    res = [l for t in sorted(blocks) for l in blocks[t]]
    with open(out, "w") as f:
        f.write("".join(l + "\n" for l in res))
    return "%d" % len(res)


masked = {}		# record -> lines already seen by maskports


def maskports(record, rng):
    """In the lines of RECORD since the last maskports, write a server
    port within LO-HI as LO-HI; append "ports: N distinct in LO-HI"."""
    lo, hi = (int(x) for x in rng.split("-"))
    with open(record) as f:
        rec = [l.rstrip("\n") for l in f]
    seen = set()
    for i in range(masked.get(record, 0), len(rec)):
        m = re.match(r"^(.* ok [^ :]+:)(\d+)( .*)$", rec[i])
        if m and lo <= int(m.group(2)) <= hi:
            seen.add(m.group(2))
            rec[i] = m.group(1) + rng + m.group(3)
    rec.append("ports: %d distinct in %s" % (len(seen), rng))
    masked[record] = len(rec)
    with open(record, "w") as f:
        f.write("".join(l + "\n" for l in rec))


def expect(path, record):
    """Each line of EXPECT must be a line of RECORD, in the same order; a
    line "~ RE" matches a whole record line against the regexp RE; blank
    lines and lines starting with "#" are ignored."""
    with open(record) as f:
        rec = [l.rstrip("\n") for l in f]
    i = 0
    with open(path) as f:
        for l in f:
            l = l.rstrip("\n")
            if not l.strip() or l.startswith("#"):
                continue
            if l.startswith("~ "):
                rx = re.compile(l[2:])
                ok = lambda r: rx.fullmatch(r) is not None
            else:
                ok = lambda r: r == l
            while i < len(rec) and not ok(rec[i]):
                i += 1
            if i == len(rec):
                return "missing: " + l
            i += 1
    return "ok"


# --------------------------------------------------------------- main ---

def sysctl(name, kvs):
    with InNs(name):
        for kv in kvs:
            k, v = kv.split("=", 1)
            with open("/proc/sys/" + k.replace(".", "/"), "w") as f:
                f.write(v)


def batch(path):
    """Each line of PATH as a command; stops at the first error."""
    with open(path) as f:
        for n, l in enumerate(f, 1):
            w = l.split()
            if w:
                try:
                    handle(w)
                except Exception as e:
                    setns(ROOT)
                    raise type(e)("%s line %d (%s): %s" % (path, n, l.strip(), e))


def xtables(name):
    """The iptables (legacy) tables that exist in netns NAME."""
    out = []
    with InNs(name):
        for f in ("ip_tables_names", "ip6_tables_names"):
            try:
                with open("/proc/thread-self/net/" + f) as h:
                    out += [f[:3].replace("_", "") + ":" + l.strip()
                            for l in h if l.strip()]
            except FileNotFoundError:
                pass
    return " ".join(sorted(out)) or "none"


def same(a, b, opts):
    """Whether files A and B hold the same lines (but comment lines, with
    nocomments)."""
    def lines(p):
        with open(p) as f:
            return [l for l in f
                    if "nocomments" not in opts or not l.startswith("#")]
    return "same" if lines(a) == lines(b) else "differ"


def handle(words):
    cmd, a = words[0], words[1:]
    if cmd == "batch":
        batch(a[0])
    elif cmd == "xtables":
        return xtables(a[0])
    elif cmd == "same":
        return same(a[0], a[1], a[2:])
    elif cmd == "netns":
        netns(a)
    elif cmd == "veth":
        veth(*a)
    elif cmd == "up":
        up(*a)
    elif cmd == "addr":
        addr(a[0], a[1], a[2:])
    elif cmd == "route":
        route(a[0], a[1:])
    elif cmd == "sysctl":
        sysctl(a[0], a[1:])
    elif cmd == "streams":
        return set_streams(a)
    elif cmd == "serve":
        for n in a:
            serve(n)
    elif cmd == "run":
        return run(a[0], a[1], a[2], a[3], a[4:])
    elif cmd == "forget":
        forget()
    elif cmd == "conn":
        return conn(a)
    elif cmd == "counters":
        return counters(a[0], a[1], a[2:])
    elif cmd == "norm":
        return norm(a[0], a[1], a[2:])
    elif cmd == "expect":
        return expect(a[0], a[1])
    elif cmd == "maskports":
        maskports(a[0], a[1])
    else:
        raise ValueError("unknown command " + cmd)
    return "ok"


def main():
    servers.start()
    print("ready", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        try:
            out = handle(words)
        except Exception as e:		# report, and go on
            setns(ROOT)
            out = "agent-error %s: %s" % (type(e).__name__, e)
        print(out.replace("\n", " "), flush=True)


main()
