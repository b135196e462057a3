# SPDX-License-Identifier: GPL-2.0
"""Long-lived TCP streams through VIPs, every byte checked end to end.

    python3 -S streams.py VIPS PORT NLONG READY [--seconds S | --stop FILE]
                          [--short-every S] [--chunk N] [--period S]

Opens NLONG connections to the echo servers behind VIPS (comma-separated,
taken in turn) on PORT, creates the file READY, and then sends CHUNK bytes
on each every PERIOD seconds: bytes drawn from a random generator seeded
with the connection's number, so that each echoed byte is checked against
the same generator.  With --short-every it also opens a new short
connection (100 bytes echoed) every S seconds to a VIP drawn at random.
It streams for --seconds S, or until the file --stop FILE exists; then it
waits (20 s at most) until every byte sent has come back, and prints one
JSON object:

    long, intact      connections opened, and those that ended with every
                      byte back, in order, and no error
    vips              per VIP: [intact, long]
    bytes             bytes checked
    broken            up to 10 "VIP: what went wrong"
    short_ok, short_fail, short_err (up to 10)
    short_fail_at     time.time() of each short connection that failed
                      (up to 1000), to tell when a failover ended
    short_last_ok     time.time() of the last short connection that worked

Used by lb_churn.sh, ha_ecmp.sh and ha_vrrp.sh.  One process with a
selector, no thread per connection: the TCG VM is slow.
"""
import json
import os
import random
import selectors
import socket
import sys
import time


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


class Long:
    """One long connection and the two generators of its bytes."""

    def __init__(self, i, vip, port):
        self.vip = vip
        self.tx = random.Random(i)
        self.rx = random.Random(i)
        self.sent = self.got = 0
        self.want = bytearray()
        self.err = None
        self.s = socket.socket(family(vip), socket.SOCK_STREAM)
        self.s.settimeout(10)
        self.s.connect((vip, port))
        self.s.setblocking(False)


def short(vip, port):
    """One short connection: 100 bytes must come back.  None, or what
    went wrong."""
    try:
        s = socket.create_connection((vip, port), timeout=5)
        s.sendall(b"x" * 100)
        s.shutdown(socket.SHUT_WR)
        got = b""
        while len(got) < 100:
            b = s.recv(100)
            if not b:
                break
            got += b
        s.close()
        return None if got == b"x" * 100 else "%d bytes" % len(got)
    except OSError as e:
        return str(e)


def options(argv):
    opts = {"seconds": None, "stop": None, "short-every": 0.0,
            "chunk": 512, "period": 0.2}
    while argv:
        name = argv.pop(0)
        if not name.startswith("--") or name[2:] not in opts or not argv:
            sys.exit("streams.py: bad option %r" % name)
        value = argv.pop(0)
        opts[name[2:]] = value if name == "--stop" else float(value)
    if (opts["seconds"] is None) == (opts["stop"] is None):
        sys.exit("streams.py: give --seconds or --stop")
    return opts


def main():
    vips, port, nlong, ready = sys.argv[1].split(","), int(sys.argv[2]), \
        int(sys.argv[3]), sys.argv[4]
    opts = options(sys.argv[5:])
    chunk = int(opts["chunk"])

    sel = selectors.DefaultSelector()
    conns = []
    for i in range(nlong):
        c = Long(i, vips[i % len(vips)], port)
        conns.append(c)
        sel.register(c.s, selectors.EVENT_READ, c)
    open(ready, "w").close()

    short_ok = short_fail = 0
    short_err, short_fail_at, short_last_ok = [], [], None
    t_end = None if opts["seconds"] is None else time.time() + opts["seconds"]
    next_send = next_short = time.time()
    sending = True
    drain_end = 0
    while True:
        now = time.time()
        if sending and (now >= t_end if t_end is not None
                        else os.path.exists(opts["stop"])):
            sending = False
            drain_end = now + 20
        if not sending and (now >= drain_end or
                            all(c.got == c.sent or c.err for c in conns)):
            break
        if sending and now >= next_send:
            next_send = now + opts["period"]
            for c in conns:
                if c.err:
                    continue
                data = c.tx.randbytes(chunk)
                try:
                    c.s.sendall(data)
                    c.sent += len(data)
                except BlockingIOError:
                    c.err = "send buffer full"
                except OSError as e:
                    c.err = "send: %s" % e
        if sending and opts["short-every"] and now >= next_short:
            next_short = now + opts["short-every"]
            vip = random.choice(vips)
            err = short(vip, port)
            if err is None:
                short_ok += 1
                short_last_ok = time.time()
            else:
                short_fail += 1
                short_err.append("%s: %s" % (vip, err))
                short_fail_at.append(now)
        for key, _ in sel.select(timeout=0.02):
            c = key.data
            try:
                data = c.s.recv(65536)
            except BlockingIOError:
                continue
            except OSError as e:
                c.err = "recv: %s" % e
                sel.unregister(c.s)
                continue
            if not data:
                c.err = "eof after %d of %d bytes" % (c.got, c.sent)
                sel.unregister(c.s)
                continue
            # The sender draws chunk bytes at a time: so does the check.
            while len(c.want) < len(data):
                c.want += c.rx.randbytes(chunk)
            want = bytes(c.want[:len(data)])
            del c.want[:len(data)]
            if data != want:
                c.err = "corrupt at byte %d" % c.got
                sel.unregister(c.s)
                continue
            c.got += len(data)
    intact = [c for c in conns if not c.err and c.got == c.sent]
    per_vip = {v: [0, 0] for v in vips}
    for c in conns:
        per_vip[c.vip][1] += 1
        if c in intact:
            per_vip[c.vip][0] += 1
        try:
            c.s.close()
        except OSError:
            pass
    print(json.dumps({
        "long": len(conns), "intact": len(intact), "vips": per_vip,
        "bytes": sum(c.got for c in conns),
        "broken": ["%s: %s" % (c.vip,
                               c.err or "%d of %d bytes" % (c.got, c.sent))
                   for c in conns if c not in intact][:10],
        "short_ok": short_ok, "short_fail": short_fail,
        "short_err": short_err[:10], "short_fail_at": short_fail_at[:1000],
        "short_last_ok": short_last_ok}))


main()
