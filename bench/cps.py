#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Short TCP connections for the viplb benchmark.

    cps.py server PORT READY
        Listen on PORT (IPv4, every address) in the current netns.  For
        each connection: send one byte, close (the server closes first, so
        TIME_WAIT stays on the server side and the client never runs out
        of ports).  Creates the file READY once listening.

    cps.py client START SECONDS ADDR:PORT [ADDR:PORT...]
        From the wall-clock time START (seconds since the epoch, so that
        parallel clients start together) for SECONDS, open connections one
        after the other, cycling over the ADDR:PORT targets: connect, read
        until the server closes, close.  Prints "ok N failed N seconds S".

Run with python3 -S (no site imports): it starts faster in the TCG VM.
"""
import socket
import sys
import time


def server(port, ready):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(1024)
    open(ready, "w").close()
    while True:
        try:
            c, _ = s.accept()
        except OSError:
            continue
        try:
            c.send(b"x")
        except OSError:
            pass
        c.close()


def one(target):
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.settimeout(3)
    try:
        c.connect(target)
        got = 0
        while True:
            data = c.recv(64)
            if not data:
                break
            got += len(data)
        return got == 1
    except OSError:
        return False
    finally:
        c.close()


def client(start, seconds, targets):
    now = time.time()
    if start > now:
        time.sleep(start - now)
    t0 = time.monotonic()
    end = t0 + seconds
    ok = failed = i = 0
    n = len(targets)
    while time.monotonic() < end:
        if one(targets[i % n]):
            ok += 1
        else:
            failed += 1
        i += 1
    print("ok %d failed %d seconds %.3f" % (ok, failed, time.monotonic() - t0))


def main(argv):
    if len(argv) == 4 and argv[1] == "server":
        server(int(argv[2]), argv[3])
    elif len(argv) >= 5 and argv[1] == "client":
        targets = []
        for t in argv[4:]:
            addr, port = t.rsplit(":", 1)
            targets.append((addr, int(port)))
        client(float(argv[2]), float(argv[3]), targets)
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
