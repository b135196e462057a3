#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Run iptables' extension test files (extensions/*.t) against a command.

Each line of a .t file is RULE;RESULT;OK|FAIL[;VARIANT[;ALT]]: an OK rule
must be accepted and listed as RESULT ("=" means RULE itself), a FAIL rule
must be refused.  ":A,B" lines name the chains each rule is tried in, and
"*table" lines the table.  libipt_* files are IPv4, libip6t_* IPv6, and
libxt_* (or any other name) both.  In a directory, the files of
arptables (libarpt_*) and ebtables (libebt_*) are left out.

  iptables_t.py [options] FILE|DIR...

  -4 CMD, -6 CMD     the commands (default viplb-tables, viplb6-tables)
  -s4 CMD, -s6 CMD   their save commands (default viplb-save, viplb6-save)
  --offline          run CMD --offline STATE (viplb-tables' hidden option:
                     no kernel; the resulting table is printed), no save
                     command and no netns
  --netns            run each file in a fresh network namespace (root)
  --variant NAME     the variant of ;VARIANT lines we are (default LEGACY;
                     viplb's own cases mark with VIPLB what viplb-tables
                     refuses and Debian's iptables-legacy takes)
  --allow-refused    an OK line that is refused is reported, not failed
  --jobs N           run N files at once (default 1), each in a process
                     (and with --netns a netns) of its own.  Not for
                     iptables-legacy: its runs share the xtables lock, and
                     one that finds it taken fails instead of waiting

Each result is one of: as expected; refused (an OK line the command
refuses); wrong (a FAIL line accepted, or an OK line listed otherwise).
Output is TAP, one result per file and family, with a line for each
unexpected result and the totals.  Exit status 1 if a file failed.
"""
import ctypes
import multiprocessing
import os
import re
import shlex
import subprocess
import sys

CLONE_NEWNET = 0x40000000

BUILTIN = {
    "filter": ["INPUT", "FORWARD", "OUTPUT"],
    "nat": ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
    "mangle": ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
    "raw": ["PREROUTING", "OUTPUT"],
}
COUNTERS = re.compile(r"^\[\d+:\d+\] ", re.M)


class Runner:
    def __init__(self, opts):
        self.o = opts
        self.netns = None
        self.state = None

    def enter_netns(self):
        # In the child, before exec: what `ip netns exec` does for the
        # network namespace, without a shell and a mount namespace.
        fd = os.open("/run/netns/" + self.netns, os.O_RDONLY)
        if ctypes.CDLL(None, use_errno=True).setns(fd, CLONE_NEWNET):
            os._exit(126)
        os.close(fd)

    def sh(self, cmd):
        try:
            p = subprocess.run(shlex.split(cmd), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               preexec_fn=self.enter_netns if self.netns
                               else None)
        except OSError as e:
            raise SystemExit("%s: cannot run it: %s" % (cmd, e))
        if p.returncode < 0:
            raise SystemExit("%s: killed by signal %d" % (cmd, -p.returncode))
        if p.returncode in (126, 127):
            raise SystemExit("%s: cannot run it: %s" % (cmd, p.stderr.strip()))
        return p.returncode, p.stdout, p.stderr

    def offline_state(self, table):
        path = "%s/state-%d-%s" % (self.o["tmp"], os.getpid(), table)
        with open(path, "w") as f:
            f.write("*%s\n" % table)
            for c in BUILTIN.get(table, []):
                f.write(":%s ACCEPT [0:0]\n" % c)
            f.write("COMMIT\n")
        return path

    def tables_cmd(self, fam, table, args):
        cmd = self.o["cmd%d" % fam]
        if self.o["offline"]:
            if table not in self.state:	# raw, security...: refused
                self.state[table] = self.offline_state(table)
            return "%s --offline %s -t %s %s" % (cmd, self.state[table],
                                                 table, args)
        return "%s -t %s %s" % (cmd, table, args)

    # One rule in one chain: "ok", "refused", or "wrong: ...".
    def try_rule(self, fam, table, chain, rule, save, res):
        rc, out, err = self.sh(self.tables_cmd(fam, table,
                                               "-A %s %s" % (chain, rule)))
        if rc:
            if res == "FAIL":
                return "ok"
            return "refused: %s" % (err.strip().splitlines() or ["?"])[-1]
        if res == "FAIL":
            self.flush(fam, table, chain)
            return "wrong: accepted"
        if not self.o["offline"]:
            rc, out, err = self.sh("%s -t %s" % (self.o["save%d" % fam],
                                                 table))
        out = COUNTERS.sub("", out)
        self.flush(fam, table, chain)
        if ("\n-A %s\n" % save) in out:
            return "ok"
        got = [l for l in out.splitlines() if l.startswith("-A %s " % chain)]
        return "wrong: listed as %r" % (got[-1] if got else None)

    def flush(self, fam, table, chain):
        if not self.o["offline"]:
            self.sh(self.tables_cmd(fam, table, "-F %s" % chain))

    def external(self, fam, line):
        # "@iptables ..." and "%..." lines: iptables commands of the test.
        cmd = line[1:].strip()
        m = re.match(r"(ip6?tables)\s+(.*)", cmd)
        if not m or self.o["offline"]:
            return False
        return self.sh("%s %s" % (self.o["cmd%d" % fam], m.group(2)))[0] == 0

    def run_file(self, path, fam):
        name = os.path.basename(path)
        table, chains = "filter", []
        counts = {"ok": 0, "refused": 0, "wrong": 0}
        notes = []
        if self.o["netns"]:
            self.netns = "ipt-t-%d" % os.getpid()
            subprocess.run(["ip", "netns", "add", self.netns], check=True)
        self.state = {t: self.offline_state(t) for t in BUILTIN}
        try:
            with open(path) as f:
                lines = f.read().splitlines()
            for n, line in enumerate(lines, 1):
                if not line.strip() or line[0] == "#":
                    continue
                if line[0] == ":":
                    chains = line[1:].split(",")
                    continue
                if line[0] == "*":
                    table = line[1:].strip()
                    continue
                if line[0] in "@%":
                    if not self.external(fam, line):
                        notes.append("line %d: cannot run %r" % (n, line))
                    continue
                item = line.split(";")
                if len(item) < 3 or not chains:
                    notes.append("line %d: broken test line" % n)
                    counts["wrong"] += 1
                    continue
                rule, res = item[0].strip(), item[2].strip()
                if len(item) > 3 and item[3].strip():
                    if item[3].strip() != self.o["variant"]:
                        res = (item[4].strip() if len(item) > 4 else
                               {"OK": "FAIL", "FAIL": "OK"}.get(res, res))
                for chain in chains:
                    save = "%s %s" % (chain, rule if item[1] == "=" else
                                      item[1].strip())
                    r = self.try_rule(fam, table, chain, rule, save, res)
                    if r != "ok":
                        break
                kind = r.split(":")[0]
                counts[kind] += 1
                if kind != "ok":
                    notes.append("line %d [%s] %s: %s (%s)" %
                                 (n, chain, kind, rule, r.split(": ", 1)[1]
                                  if ": " in r else ""))
        finally:
            if self.netns:
                subprocess.run(["ip", "netns", "del", self.netns])
                self.netns = None
        return name, counts, notes


def main(argv):
    o = {"cmd4": "viplb-tables", "cmd6": "viplb6-tables",
         "save4": "viplb-save", "save6": "viplb6-save", "offline": False,
         "netns": False, "variant": "LEGACY", "allow_refused": False,
         "jobs": 1}
    paths = []
    args = list(argv)
    flags = {"-4": "cmd4", "-6": "cmd6", "-s4": "save4", "-s6": "save6",
             "--variant": "variant", "--jobs": "jobs"}
    while args:
        a = args.pop(0)
        if a in flags:
            if not args:
                raise SystemExit("iptables_t.py: %s needs a value" % a)
            o[flags[a]] = args.pop(0)
        elif a in ("--offline", "--netns", "--allow-refused"):
            o[a[2:].replace("-", "_")] = True
        elif a.startswith("-"):
            raise SystemExit("iptables_t.py: unknown option %r" % a)
        else:
            paths.append(a)
    files = []
    for p in paths:
        if os.path.isdir(p):
            # A directory's arptables and ebtables files are not ours.
            files += sorted(os.path.join(p, f) for f in os.listdir(p)
                            if f.endswith(".t") and
                            not f.startswith(("libarpt_", "libebt_")))
        else:
            files.append(p)
    if not files:
        raise SystemExit("iptables_t.py: no .t files given")
    if not str(o["jobs"]).isdigit() or int(o["jobs"]) < 1:
        raise SystemExit("iptables_t.py: invalid --jobs %r" % o["jobs"])
    o["jobs"] = int(o["jobs"])
    o["tmp"] = os.environ.get("TMPDIR", "/tmp") + "/iptables_t.%d" % os.getpid()
    os.makedirs(o["tmp"])
    try:
        return run_all(o, files)
    finally:
        subprocess.run(["rm", "-rf", o["tmp"]])


def run_one(o, run):
    # A pool's worker must not raise SystemExit: it would die, and the
    # pool wait for it.  The message comes back instead.
    try:
        return Runner(o).run_file(*run)
    except SystemExit as e:
        return str(e)


def run_all(o, files):
    runs = []
    for f in files:
        b = os.path.basename(f)
        fams = [4] if b.startswith("libipt_") else \
            [6] if b.startswith("libip6t_") else [4, 6]
        runs += [(f, fam) for fam in fams]
    print("1..%d" % len(runs))
    total = {"ok": 0, "refused": 0, "wrong": 0}
    failed = 0
    if o["jobs"] > 1:
        with multiprocessing.get_context("fork").Pool(o["jobs"]) as pool:
            results = pool.starmap(run_one, [(o, r) for r in runs])
    else:
        results = [run_one(o, r) for r in runs]
    for msg in results:
        if isinstance(msg, str):
            raise SystemExit(msg)
    for i, ((f, fam), (name, counts, notes)) in enumerate(zip(runs, results),
                                                          1):
        for k in total:
            total[k] += counts[k]
        lines = sum(counts.values())
        bad = counts["wrong"] + (0 if o["allow_refused"] else
                                 counts["refused"])
        failed += bad > 0
        print("%s %d - %s (IPv%d): %d of %d as expected, %d refused, "
              "%d wrong" % ("not ok" if bad else "ok", i, name, fam,
                            counts["ok"], lines, counts["refused"],
                            counts["wrong"]))
        for n in notes:
            print("#   " + n)
    print("# totals: %d of %d as expected, %d refused, %d wrong" %
          (total["ok"], sum(total.values()), total["refused"],
           total["wrong"]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
