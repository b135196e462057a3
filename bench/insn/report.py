#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write bench/results/insn.md from the insn part's result lines.

    report.py RAW    the Markdown, on stdout

RAW holds bench.sh's "BOOT k" lines, each followed by that boot's output
of bench/run.sh (its "BENCH insn ..." and "BENCH info ..." lines; other
lines are ignored), and "HOST key value" lines.  Boot 1 makes the table;
the other boots, run the same way, give the agreement between boots.
"""
import sys

NAMES = {
    "plain": "routing only",
    "ct": "routing + conntrack (nat hook, no match)",
    "tunnel": "routing into an ipip device",
    "ipvs": "IPVS nat rr",
    "iptables-legacy": "iptables-legacy DNAT",
    "iptables": "iptables-nft DNAT",
    "nft": "nft vmap + DNAT",
    "viplb": "viplb nat rr",
    "viplb-mg": "viplb nat maglev",
    "ipvs-dr": "IPVS dr rr",
    "viplb-dr": "viplb dr rr",
    "ipvs-tun": "IPVS tun rr",
    "viplb-tun": "viplb tun rr",
}
NAT_ANCHORS = ("ipvs", "iptables-legacy", "iptables", "nft")
# References, not anchors: no ratio to an anchor.
REFERENCES = ("plain", "ct", "tunnel")
KINDS = (("new", "new flows"), ("est", "one flow"))


def mode(system):
    for m in ("dr", "tun"):
        if system.endswith("-" + m):
            return m
    return "nat"


def parse(path):
    """boots: {boot: {(system, n, kind, packets): (insns, tx, sent, cnt)}},
    info of boot 1, host lines, loads of boot 1, and idle counts of boot 1:
    {(system, n, "on" | "off"): (seconds, insns)}."""
    boots, info, host, loads, idle = {}, {}, {}, {}, {}
    boot = None
    with open(path, errors="replace") as f:
        for line in f:
            w = line.split()
            if len(w) >= 2 and w[0] == "BOOT":
                boot = int(w[1])
                boots[boot] = {}
                continue
            if len(w) >= 3 and w[0] == "HOST":
                host[w[1]] = " ".join(w[2:])
                continue
            if w and w[0] == "BENCH":
                w = w[1:]
            if boot is None or len(w) < 4:
                continue
            if w[0] == "info" and boot == 1:
                info[w[1]] = " ".join(w[3:])
            elif w[0] == "insn-load" and boot == 1:
                loads[(w[1], int(w[2]))] = w[3]
            elif w[0] == "insn-idle" and boot == 1 and len(w) >= 6:
                idle[(w[1], int(w[2]), w[3])] = (num(w[4]), num(w[5]))
            elif w[0] == "insn" and len(w) >= 8:
                key = (w[1], int(w[2]), w[3], int(w[4]))
                cnt = w[8] if len(w) > 8 else None
                boots[boot][key] = (w[5], w[6], w[7], cnt)
    return boots, info, host, loads, idle


def num(s):
    try:
        return int(s)
    except (TypeError, ValueError):
        pass
    try:
        return int(float(s))	# awk's %.6g of older runs
    except (TypeError, ValueError):
        return None


def per_pkt(v, packets):
    i = num(v[0]) if v else None
    return i / packets if i else None


def counters_ok(v, packets):
    if not v:
        return False
    ok = num(v[1]) == packets and num(v[2]) == packets
    return ok and (v[3] is None or num(v[3]) == packets)


def fmt(x, digits=0):
    if x is None:
        return "—"
    return "{:,.{}f}".format(x, digits)


def ratio(a, b):
    return "%.2f×" % (a / b) if a and b else "—"


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    boots, info, host, loads, idle = parse(argv[1])
    if 1 not in boots:
        sys.stderr.write("report.py: no BOOT 1 in %s\n" % argv[1])
        return 1
    b1 = boots[1]
    packets = int(info.get("insn_packets", "0"))
    sizes = sorted({k[1] for k in b1})
    systems = [s for s in NAMES if any(k[0] == s for k in b1)]

    def ipp(system, n, kind, boot=1, pk=packets):
        return per_pkt(boots.get(boot, {}).get((system, n, kind, pk)), pk)

    def best_anchor(system, n, kind):
        m = mode(system)
        cands = NAT_ANCHORS if m == "nat" else ("ipvs-" + m,)
        vals = [(ipp(a, n, kind), a) for a in cands if ipp(a, n, kind)]
        return min(vals) if vals else (None, None)

    def ipvs_of(system):
        m = mode(system)
        return "ipvs" if m == "nat" else "ipvs-" + m

    out = sys.stdout.write
    out("# viplb benchmark: instructions per packet (QEMU TCG plugin)\n\n")
    out("Made by `VIPLB_BENCH_ONLY=insn make bench` (bench/bench.sh, "
        "bench/run.sh part 7,\nbench/insn/), %s, on %s.\n"
        "Regenerate with `python3 bench/insn/report.py "
        "bench/results/insn.raw`.\n\n" % (info.get("date", "?"),
                                         host.get("commit", "?")))
    out("""## Method

- **Counter.** `bench/insn/libinsn_count.so`, a QEMU 7.2 TCG plugin: an
  inline add of each translated block's instruction count when the block
  runs, on a VM of one vCPU with one TCG thread (`VIPLB_VM_PLUGIN`:
  `-accel tcg,thread=single -smp 1 -plugin ...`), so the count needs no
  atomics. Each time the guest executes the marker instruction (`nopw
  0x7669706c(%%rax,%%rax,1)`), the plugin appends its running count to a
  file of the job directory, which the guest reads back.
- **Interval.** `bench/insn/insn_mark FILE start` executes the marker,
  writes `start` to `/proc/net/pktgen/pgctrl` (one `write(2)`, which
  returns once pktgen has sent its count), and executes the marker again.
  No process starts or ends in between. instructions/packet = (second
  count − first) / packets. Everything the one CPU runs in between is
  counted: pktgen building each packet, the whole receive path, timer
  ticks, RCU and the systems' own workers.
- **Rate estimators off.** IPVS and viplb each walk all their services
  and backends every 2 s to estimate rates, whatever the traffic; a walk
  of 10,000 services fell inside a run or not by its timing. Both run
  with `run_estimation` 0 while packets are counted, and the walks are
  counted on their own (below).
- **Traffic.** bench/run.sh's pktgen director: pktgen injects 64-byte UDP
  packets into the dummy device in0 with `xmit_mode netif_receive`. Each
  packet is routed, and NATed or forwarded, once, and then freed by
  out0's xmit. "new flows": random source address and port (nearly
  every packet creates a connection); "one flow": one source.
- **Warm state.** Before each measured run the same run goes once
  unmeasured; then its flows are dropped (`conntrack -F`, and a 1 s UDP
  idle timeout for IPVS's and viplb dr/tun's own tables, then 2 s of
  wait). Every system thus meets warm caches and the freed objects of as
  many flows. (IPVS keeps one connection, of the one-flow run, during the
  new-flow runs: it has no command to flush its connections.)
- **Check.** A row counts only the path it names if out0's tx counter
  grew by exactly the packet count, pktgen sent exactly that many, and,
  for viplb, the service's packet counter equals it: "counters =
  packets".
- **Systems.** %(packets)s packets per row, 10 backends per service
  (`bench/gen.py`: the configurations of the timed pkt part; dr and tun
  keep the VIP's port). At 10,000 services the probed VIP is the middle
  one. IPVS and viplb dr/tun have their VIPs on `lo` (served at LOCAL_IN);
  the nat engines DNAT at PRE_ROUTING. IPVS: `conn_tab_bits=18`; conntrack
  hash 2^18 buckets.
- **Ratios.** "÷ best anchor": to the fewest instructions among IPVS,
  iptables-legacy, iptables-nft and nft for nat, to IPVS in the same mode
  for dr and tun, same services and flows. "− routing": less the routing-
  only row of the same flows (pktgen and the plain forward path).

""" % {"packets": "{:,}".format(packets)})
    out("Guest: Debian kernel %s, %s vCPU, %s MiB; host QEMU: %s; "
        "%s boot(s).\n\n" % (info.get("kernel", "?"), info.get("cpus", "?"),
                             info.get("mem_mib", "?"), host.get("qemu", "?"),
                             len(boots)))

    out("## Instructions per packet\n\n")
    others = sorted(b for b in boots if b != 1)
    hdr = ["engine", "services", "flows", "instructions/packet",
           "− routing", "÷ best anchor", "÷ IPVS"]
    hdr += ["boot %d" % b for b in others] + ["counters = packets"]
    out("| " + " | ".join(hdr) + " |\n")
    out("|---|--:|---|" + "--:|" * (4 + len(others)) + "---|\n")
    agree = []
    for n in sizes:
        for kind, kname in KINDS:
            for s in systems:
                key = (s, n, kind, packets)
                if key not in b1:
                    continue
                v = ipp(s, n, kind)
                plain = ipp("plain", 1, kind)
                best, who = best_anchor(s, n, kind)
                row = [NAMES[s], "{:,}".format(n), kname, fmt(v),
                       fmt(v - plain) if v and plain and s != "plain" else "—",
                       ratio(v, best) if s not in REFERENCES else "—",
                       ratio(v, ipp(ipvs_of(s), n, kind))
                       if s not in REFERENCES else "—"]
                for b in others:
                    w = ipp(s, n, kind, b)
                    if v and w:
                        d = 100.0 * (w - v) / v
                        agree.append((abs(d), s, n, kind))
                        row.append("%s (%+.2f%%)" % (fmt(w), d))
                    else:
                        row.append("—")
                ok = counters_ok(b1[key], packets)
                row.append("yes" if ok else "**no** (tx %s, sent %s%s)" % (
                    b1[key][1], b1[key][2],
                    ", viplb %s" % b1[key][3] if b1[key][3] else ""))
                out("| " + " | ".join(row) + " |\n")
    out("\n")
    if agree:
        agree.sort()
        mean = sum(a[0] for a in agree) / len(agree)
        worst = agree[-1]
        out("**Boots agree** on %d rows: mean |difference| %.2f%%, largest "
            "%.2f%% (%s, %s services, %s).\n\n" % (
                len(agree), mean, worst[0], NAMES[worst[1]],
                "{:,}".format(worst[2]), dict(KINDS)[worst[3]]))

    dbl = sorted({(k[0], k[1], k[2]) for k in b1 if k[3] == 2 * packets})
    if dbl:
        out("## Differencing: N and 2N packets\n\n")
        out("The same row with N = %s and 2N packets (in a new director "
            "netns), each after its own warm-up run. If the marks' fixed cost F mattered, N would "
            "show F/N more per packet than 2N; (count(2N) − count(N)) / N "
            "has no F at all.\n\n" % "{:,}".format(packets))
        out("| engine | flows | N: insn/pkt | 2N: insn/pkt | (2N − N) / N "
            "| N ÷ 2N | fixed cost F = 2·count(N) − count(2N) |\n")
        out("|---|---|--:|--:|--:|--:|--:|\n")
        for s, n, kind in dbl:
            a = num(b1.get((s, n, kind, packets), (None,))[0])
            b = num(b1.get((s, n, kind, 2 * packets), (None,))[0])
            if not a or not b:
                continue
            out("| %s | %s | %s | %s | %s | %.4f | %s |\n" % (
                NAMES[s], dict(KINDS)[kind], fmt(a / packets),
                fmt(b / (2 * packets)), fmt((b - a) / packets),
                (a / packets) / (b / (2 * packets)), fmt(2 * a - b)))
        out("\n")

    if idle:
        out("## Rate estimators, counted apart\n\n")
        out("The guest's instructions over the same idle seconds (no "
            "traffic, no flows: right after the load, before the packet "
            "runs) with the system's `run_estimation` 1 and then 0. on − off "
            "is the estimator: one walk of every service and backend every "
            "2 s.\n\n")
        out("| engine | services | seconds | on | off | on − off, per "
            "second | per service and second |\n|---|--:|--:|--:|--:|--:|--:|\n")
        for s in NAMES:
            for n in sizes:
                on, off = idle.get((s, n, "on")), idle.get((s, n, "off"))
                if not on or not off or not on[0] or not on[1] or not off[1]:
                    continue
                d = (on[1] - off[1]) / on[0]
                out("| %s | %s | %d | %s | %s | %s | %s |\n" % (
                    NAMES[s], "{:,}".format(n), on[0], fmt(on[1]),
                    fmt(off[1]), fmt(d), fmt(d / n, 1)))
        out("\n")

    out("## Against the goals of issue 12\n\n")
    out("nat: at most 0.9× the best anchor, new flows and one flow; dr and "
        "tun: at most 0.8× IPVS; 10,000 services ÷ 1 service at most "
        "1.05.\n\n")
    out("| viplb | flows | ÷ best anchor, 1 service | ÷ best anchor, "
        "10,000 | goal | 10,000 ÷ 1 |\n|---|---|--:|--:|--:|--:|\n")
    for s in systems:
        if not s.startswith("viplb"):
            continue
        for kind, kname in KINDS:
            r = []
            for n in (1, 10000):
                v = ipp(s, n, kind)
                best, _ = best_anchor(s, n, kind)
                r.append(ratio(v, best))
            one, big = ipp(s, 1, kind), ipp(s, 10000, kind)
            goal = "0.90×" if mode(s) == "nat" else "0.80×"
            out("| %s | %s | %s | %s | %s | %s |\n" % (
                NAMES[s], kname, r[0], r[1], goal, ratio(big, one)))
    out("\n")
    floors(out, ipp, best_anchor)
    big = ["%s: %s" % (NAMES.get(s, s), t)
           for (s, n), t in sorted(loads.items()) if n == 10000]
    if big:
        out("Loads of the 10,000-service configurations in the VM (s, one "
            "vCPU, not part of the counts): %s.\n" % ", ".join(big))
    return 0


def floors(out, ipp, best_anchor):
    """Each goal's instruction budget beside the work every engine of that
    mode must do: routing (dr, tun), routing and a conntrack entry with
    the nat hooks' binding (nat: viplb's nat flows are conntrack entries,
    so that conntrackd can carry them)."""
    rows = []
    for kind, kname in KINDS:
        for m, goal, ref in (("nat", 0.9, "ct"), ("dr", 0.8, "plain"),
                             ("tun", 0.8, "tunnel"), ("tun", 0.8, "plain")):
            s = "viplb" if m == "nat" else "viplb-" + m
            best, who = best_anchor(s, 1, kind)
            floor, v = ipp(ref, 1, kind), ipp(s, 1, kind)
            if not best or not floor or not v:
                continue
            rows.append("| %s | %s | %s (%s × %s) | %s: %s | %s | %s |\n" % (
                m, kname, fmt(goal * best), "%.1f" % goal, NAMES[who],
                NAMES[ref], fmt(floor), fmt(goal * best - floor), fmt(v)))
    if not rows:
        return
    out("## The goals beside the floors, 1 service\n\n")
    out("The instructions a goal allows, and those of the reference that "
        "does only the work the mode needs and no balancing: routing for "
        "dr, routing into the kernel's own ipip device for tun (and routing "
        "alone); routing with a conntrack entry and the nat hooks' "
        "binding for nat (viplb's nat flows are conntrack entries, so that "
        "conntrackd can carry them in a failover). A negative margin: "
        "the goal is below that floor.\n\n")
    out("| mode | flows | goal allows | floor | margin | viplb |\n"
        "|---|---|--:|--:|--:|--:|\n")
    for r in rows:
        out(r)
    out("\n")
    state = []
    for s in ("ct", "ipvs", "viplb", "ipvs-dr", "viplb-dr", "ipvs-tun",
              "viplb-tun"):
        new, one = ipp(s, 1, "new"), ipp(s, 1, "est")
        pnew, pone = ipp("plain", 1, "new"), ipp("plain", 1, "est")
        if new and one and pnew and pone:
            state.append("| %s | %s |\n" % (NAMES[s],
                                             fmt((new - one) - (pnew - pone))))
    if state:
        out("What a new flow costs beyond a packet of an established one, "
            "less what new sources cost routing alone (new − one flow, "
            "− the same for routing only): the flow's state, made and "
            "later freed, and its scheduling.\n\n")
        out("| engine | a new flow's state |\n|---|--:|\n")
        for r in state:
            out(r)
        out("\n")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
