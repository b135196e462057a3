#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write the text seeds of the fuzz corpora from the repository's tests.

corpus/grammar: viplb command lines and restore files, from
  selftests/host/parse_test.c, selftests/bad_input.sh,
  selftests/service_crud.sh and Documentation/viplb.8.
corpus/tables: restore files (*.rules, *.save, *.state), command files
  (*.cmds) and the commands of errors.txt, from selftests/host/tables/,
  each behind tables_fuzz.c's selector byte.
corpus/print: the state and command files again, behind print_fuzz.c's
  mode and option bytes (modes 5 and 6).  The binary seeds of the other
  modes come from mkseeds_print.c (make seeds).

Usage: mkseeds.py [TOP]  (run from fuzz/; TOP defaults to ..)
"""
import hashlib
import os
import re
import shlex
import sys

TOP = sys.argv[1] if len(sys.argv) > 1 else ".."
TABLES = "selftests/host/tables"


def read(path):
    with open(os.path.join(TOP, path), encoding="utf-8") as f:
        return f.read()


def write(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join("corpus", target)
    os.makedirs(d, exist_ok=True)
    if not name:
        name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def c_unescape(s):
    return (s.replace("\\n", "\n").replace("\\t", "\t")
            .replace('\\"', '"').replace("\\\\", "\\"))


def grammar():
    lines = set()
    # parse_test.c: every string literal that looks like a command.
    words = ("service", "backend", "flush", "stats", "show", "save",
             "restore")
    for lit in re.findall(r'"((?:[^"\\]|\\.)*)"', read(
            "selftests/host/parse_test.c")):
        s = c_unescape(lit)
        if s.split(" ", 1)[0] in words and "%" not in s and ":" != s[-1:]:
            lines.add(s.rstrip("\n"))
    # bad_input.sh: bad TOKEN REGEX ARGS...
    for m in re.finditer(r"^bad (.*)$", read("selftests/bad_input.sh"), re.M):
        try:
            args = shlex.split(m.group(1))[2:]
        except ValueError:
            continue
        if args and not any("$" in a for a in args):
            lines.add(" ".join(args))
    # viplb.8 examples.
    for m in re.finditer(r"^viplb ((?:service|backend) .*)$",
                         read("Documentation/viplb.8"), re.M):
        lines.add(m.group(1).replace("\\-", "-"))
    for i, line in enumerate(sorted(lines)):
        write("grammar", "line-%03d" % i, line + "\n")

    # Restore and batch files.
    m = re.search(r'<<EOF\n(.*?)\nEOF', read("selftests/service_crud.sh"),
                  re.S)
    if m:
        write("grammar", "batch-crud", m.group(1) + "\n")
    write("grammar", "restore-base",
          "service add tcp 192.0.2.1:80 sched maglev mode nat "
          "table-size 65537\n"
          "backend add tcp 192.0.2.1:80 198.51.100.1:80 weight 1\n"
          "backend add tcp 192.0.2.1:80 198.51.100.2:8080 weight 3\n"
          "service add udp [2001:db8::1]:53 sched rr mode nat "
          "table-size 65537\n"
          "backend add udp [2001:db8::1]:53 [2001:db8:1::1]:53 weight 1\n")
    write("grammar", "restore-mixed",
          "# viplb save\n\nflush\n"
          "service add udp [2001:db8::10]:0 sched sh mode tun "
          "table-size 251 snat\n"
          "backend add udp [2001:db8::10]:0 [2001:db8:1::11]:0 weight 0\n"
          "service set udp [2001:db8::10]:0 nosnat sched rr\n"
          "backend set udp [2001:db8::10]:0 2001:db8:1::11 weight 65535\n"
          "backend del udp [2001:db8::10]:0 [2001:db8:1::11]\n"
          "service del udp [2001:db8::10]:0 # gone\n"
          "service add tcp 0.0.0.0:0 mode dr sched lc\tsnat\n")
    write("grammar", "restore-bad",
          "service add tcp 192.0.2.1:80\nservice show\n"
          "backend del tcp 192.0.2.1:80 198.51.100.1 flush\n"
          "stats zero\nservice lookup tcp 192.0.2.1:80 from 1.2.3.4:5\n")


def tables():
    # Restore files, behind the selector: '4' IPv4, '6' IPv6 (restore
    # lines for filter); the same files as command lines need '4'/'6' too.
    for f in sorted(os.listdir(os.path.join(TOP, TABLES))):
        if not re.search(r"\.(rules|save|state)$", f):
            continue
        sel = "6" if "6" in f else "4"
        write("tables", f, sel + read(os.path.join(TABLES, f)))
    # viplb-tables command lines: '0' IPv4, '2' IPv6 (filter); '1' nat.
    for f in sorted(os.listdir(os.path.join(TOP, TABLES))):
        if f.endswith(".cmds"):
            sel = "2" if "6" in f else "0"
            write("tables", f, sel + read(os.path.join(TABLES, f)))
    t4, t6, restore = [], [], []
    for line in read(os.path.join(TABLES, "errors.txt")).splitlines():
        if line.startswith("#") or line.count("|") < 2:
            continue
        cmd = line.split("|", 2)[2]
        if cmd.startswith("t4 "):
            t4.append(cmd[3:])
        elif cmd.startswith("t6 "):
            t6.append(cmd[3:])
        else:
            m = re.match(r"printf (?:-- )?'((?:[^']|'\\'')*)'", cmd)
            if m:
                restore.append(c_unescape(m.group(1).replace("'\\''", "'")))
    # Small groups: short inputs, and not too many files.
    for i in range(0, len(t4), 4):
        write("tables", "errors4-%03d" % i, "0" + "\n".join(t4[i:i + 4]) + "\n")
    write("tables", "errors6", "2" + "\n".join(t6) + "\n")
    write("tables", "errors-nat", "1" + "\n".join(
        l for l in t4 if "nat" in l) + "\n")
    for i, text in enumerate(restore):
        write("tables", "errors-restore-%03d" % i,
              ("6" if "ip6" in text or "::" in text else "4") + text)


def print_text():
    # Mode 5 (RULES_SAVE) and 6 (RULES_CMDS): mode byte, option byte
    # (bit 2 IPv6, bit 3 nat, bits 4..7 -L format), then the text.
    for f in sorted(os.listdir(os.path.join(TOP, TABLES))):
        if re.search(r"\.(rules|save|state)$", f):
            v6 = 0x04 if "6" in f else 0
            for opts in (v6, v6 | 0x03 | 0x10 | 0x40, v6 | 0x08 | 0xf0):
                write("print", "save-%s-%02x" % (f, opts),
                      bytes([5, opts]) + read(os.path.join(TABLES, f))
                      .encode())
        if f.endswith(".cmds"):
            v6 = 0x04 if "6" in f else 0
            write("print", "cmds-" + f,
                  bytes([6, v6 | 0x20]) + read(os.path.join(TABLES, f))
                  .encode())


grammar()
tables()
print_text()
