#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the raw lines of bench/run.sh into tables and plot data.

    report.py text RAW       the Markdown tables, on stdout
    report.py scaling RAW    gnuplot data of the scaling curve: one line
                             per service count, one column per system
                             (ns/packet, new flows; "?" where missing)
    report.py systems RAW    the systems of the scaling data, one per line,
                             as "COLUMN NAME" (for the plot's legend)
    report.py rules RAW      the whole of bench/results/rules.md: the cost
                             of filter rules (run.sh part 6), with the run's
                             details from the "info" lines (bench.sh adds
                             the host's as host_* and saves the lines in
                             bench/results/rules.raw, so that
                             "report.py rules bench/results/rules.raw"
                             regenerates rules.md)

RAW holds run.sh's result lines, with or without their "BENCH " prefix;
other lines are ignored, so the whole VM output may be given.
"""
import sys

NAMES = {
    "plain": "routing only, no NAT (ceiling)",
    "ct": "conntrack + nft nat chain, no match",
    "viplb": "viplb nat, sched rr",
    "viplb-nft": "viplb nat, sched rr, on nf_tables (-d nft)",
    "viplb-mg251": "viplb nat, maglev M=251",
    "viplb-mg": "viplb nat, maglev, default M (auto: 1021)",
    "viplb-mg65537": "viplb nat, maglev M=65537",
    "ipvs": "IPVS nat, rr",
    "iptables-legacy": "iptables-legacy, kube-proxy chains",
    "iptables": "iptables-nft, kube-proxy chains",
    "nft": "nftables vmap + numgen",
}
ORDER = list(NAMES)
REF = "viplb"
SIZES = [1, 100, 1000, 10000]

RULE_NAMES = {
    "rules-viplb": "viplb small iptables (viplb-restore)",
    "rules-iptables-legacy": "iptables-legacy (iptables-legacy-restore)",
    "rules-iptables": "iptables-nft (iptables-nft-restore)",
}
RULE_REF = "rules-viplb"
RULE_SIZES = [10, 1000, 10000]


def parse(path):
    res = {"info": {}, "cps": {}, "pkt-new": {}, "pkt-est": {}, "load": {},
           "rules-pkt": {}, "rules-load": {}, "fwd": {}, "counted": {}}
    with open(path, errors="replace") as f:
        for line in f:
            w = line.split()
            if w and w[0] == "BENCH":
                w = w[1:]
            if len(w) < 4 or w[0] not in res:
                continue
            kind, system, n, vals = w[0], w[1], w[2], w[3:]
            if kind == "info":
                res["info"][system] = " ".join(vals)
            elif kind == "cps":
                if vals[0] != "failed":
                    res["cps"].setdefault(system, []).append(
                        (float(vals[0]), int(vals[1]), int(vals[2])))
                else:
                    res["cps"].setdefault(system, [])
            elif kind in ("pkt-new", "pkt-est", "rules-pkt"):
                # one line per pair: PPS REF-PPS FORWARDED CPU [COUNTED]
                pairs = res[kind].setdefault((system, int(n)), [])
                try:
                    pairs.append((float(vals[0]), float(vals[1])))
                    res["fwd"].setdefault((kind, system, int(n)), []).append(
                        float(vals[2]))
                except (ValueError, IndexError):
                    pass
                if len(vals) > 4:
                    res["counted"].setdefault(system, []).append(vals[4])
            elif kind in ("load", "rules-load"):
                res[kind][(system, int(n))] = vals[0]
    return res


def num(x, digits=0):
    if x is None:
        return "—"
    if digits == 0:
        return "{:,.0f}".format(x)
    return "{:,.{}f}".format(x, digits)


def ratio(x, ref):
    if x is None or not ref:
        return "—"
    return "%.2f×" % (x / ref)


def systems_with(d, fn=lambda k: k):
    seen = {fn(k) for k in d}
    return [s for s in ORDER if s in seen] + sorted(seen - set(ORDER))


def table(head, rows):
    out = ["| " + " | ".join(head) + " |",
           "|" + "|".join("---" if i == 0 else "--:"
                          for i in range(len(head))) + "|"]
    for r in rows:
        out.append("| " + " | ".join(r) + " |")
    return "\n".join(out)


def pps(res, kind, system, n):
    """pkt/s of the system: the mean of its runs."""
    v = res[kind].get((system, n))
    return sum(p[0] for p in v) / len(v) if v else None


def raw_ns(res, kind, system, n):
    """ns/packet as measured (1e9 / pktgen's pkt/s)."""
    p = pps(res, kind, system, n)
    return 1e9 / p if p else None


def factor(res, kind, system, n):
    """Cost of a packet relative to routing only, measured side by side:
    the geometric mean over the pairs of REF-PPS / PPS."""
    v = [p for p in res[kind].get((system, n), []) if p[0] > 0 and p[1] > 0]
    if not v:
        return None
    f = 1.0
    for p in v:
        f *= p[1] / p[0]
    return f ** (1.0 / len(v))


def median(xs):
    xs = sorted(xs)
    if not xs:
        return None
    m = len(xs) // 2
    return xs[m] if len(xs) % 2 else (xs[m - 1] + xs[m]) / 2


def ref_pps(res, kind):
    return [p[1] for v in res[kind].values() for p in v if p[1] > 0]


def base_ns(res, kind):
    """The median ns/packet of every routing-only reference run."""
    m = median(ref_pps(res, kind))
    return 1e9 / m if m else None


def ns(res, kind, system, n):
    """ns/packet corrected for the VM's speed at the time of the run:
    factor() times the median reference."""
    f, b = factor(res, kind, system, n), base_ns(res, kind)
    return f * b if f is not None and b else None


def ref_spread(res, kind):
    p = ref_pps(res, kind)
    return (min(p), max(p), len(p)) if p else None


def cps_table(res):
    cps = res["cps"]
    if not cps:
        return None
    mean = {}
    for s, runs in cps.items():
        mean[s] = median([r[0] for r in runs])
    ref, plain = mean.get(REF), mean.get("plain")
    rows = []
    for s in systems_with(cps):
        runs = cps[s]
        rows.append([NAMES.get(s, s), num(mean[s]),
                     " / ".join(num(r[0]) for r in runs) or "failed",
                     ratio(mean[s], ref),
                     "%.0f%%" % (100 * mean[s] / plain)
                     if mean[s] and plain else "—",
                     str(sum(r[2] for r in runs))])
    return table(["system", "conn/s (median)", "each round",
                  "÷ viplb (module)", "of plain routing", "failed conns"], rows)


def pkt_table(res):
    keys = [k for k in list(res["pkt-new"]) + list(res["pkt-est"])
            if k[1] == 1]
    if not keys:
        return None
    rows = []
    for s in systems_with(keys, lambda k: k[0]):
        r = [NAMES.get(s, s)]
        for kind in ("pkt-new", "pkt-est"):
            f, t, b = factor(res, kind, s, 1), ns(res, kind, s, 1), \
                base_ns(res, kind)
            r += [num(pps(res, kind, s, 1)), num(raw_ns(res, kind, s, 1)),
                  "%.2f×" % f if f is not None else "—",
                  num(t - b) if t is not None and b else "—",
                  ratio(f, factor(res, kind, REF, 1))]
        rows.append(r)
    return table(["system", "new flows: pkt/s", "ns/pkt", "× routing",
                  "NAT ns/pkt", "÷ viplb (module)", "established: pkt/s", "ns/pkt",
                  "× routing", "NAT ns/pkt", "÷ viplb (module)"], rows)


def scaling_table(res):
    new = res["pkt-new"]
    systems = [s for s in systems_with(new, lambda k: k[0])
               if s not in ("plain", "ct")]
    if not systems:
        return None, None
    rows, rrows = [], []
    for s in systems:
        r, rr = [NAMES.get(s, s)], [NAMES.get(s, s)]
        for n in SIZES:
            t = ns(res, "pkt-new", s, n)
            if t is None:
                load = res["load"].get((s, n))
                r.append("(%s)" % load if load and not
                         load[0].isdigit() else "—")
            else:
                r.append(num(t))
            rr.append(ratio(factor(res, "pkt-new", s, n),
                            factor(res, "pkt-new", REF, n)))
        a, b = factor(res, "pkt-new", s, 1), factor(res, "pkt-new", s, 10000)
        r.append(ratio(b, a))
        rows.append(r)
        rrows.append(rr)
    head = ["system"] + ["N=%s" % num(n) for n in SIZES]
    return (table(head + ["N=10,000 ÷ N=1"], rows),
            table(head, rrows))


def load_secs(res, s, n, kind="load"):
    v = res[kind].get((s, n))
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def load_table(res):
    load = res["load"]
    systems = [s for s in systems_with(load, lambda k: k[0])
               if s not in ("plain", "ct")]
    if not systems:
        return None
    sizes = [n for n in SIZES if n >= 100]
    rows = []
    for s in systems:
        r = [NAMES.get(s, s)]
        for n in sizes:
            v = load.get((s, n))
            t = load_secs(res, s, n)
            r.append(num(t, 2) if t is not None else (v or "—"))
        for n in (1000, 10000):
            r.append(ratio(load_secs(res, s, n), load_secs(res, REF, n)))
        r.append(ratio(load_secs(res, s, 10000), load_secs(res, "nft",
                                                           10000)))
        rows.append(r)
    return table(["system"] + ["N=%s (s)" % num(n) for n in sizes] +
                 ["÷ viplb rr, N=1,000", "÷ viplb rr, N=10,000",
                  "÷ nft -f, N=10,000"], rows)


def text(res):
    info = res["info"]
    out = []
    t = cps_table(res)
    if t:
        out += ["### 1. New TCP connections per second",
                "",
                "Client netns → director netns → 3 backend netns, %s "
                "python3 clients in parallel (connect, read 1 byte, close), "
                "%s s per run. Plain routing connects to the backends "
                "directly." % (info.get("cps_clients", "?"),
                               info.get("cps_seconds", "?")),
                "", t, ""]
    t = pkt_table(res)
    if t:
        spread = []
        for kind, what in (("pkt-new", "new flows"),
                           ("pkt-est", "established")):
            sp = ref_spread(res, kind)
            if sp:
                spread.append("%s %s to %s pkt/s (%d runs)" %
                              (what, num(sp[0]), num(sp[1]), sp[2]))
        out += ["### 2-3. Per-packet cost of the director (pktgen)",
                "",
                "64-byte UDP injected by pktgen (`xmit_mode netif_receive`) "
                "into the director netns and forwarded to a dummy device; "
                "1 service with %s backends; %s s per run. \"new flows\": "
                "random source address and port, so every packet creates a "
                "flow; \"established\": one flow, so its pkt/s is the "
                "established-UDP-flow rate (item 3). ns/pkt = 1e9 / (pkt/s) "
                "as measured, pktgen's own work included."
                % (info.get("backends", "?"), info.get("pkt_seconds", "?")),
                "",
                "Every run has a twin: at the same time, pktgen's other "
                "thread (other vCPU) drives a routing-only reference "
                "director (same mode, no NAT, no conntrack), because the "
                "VM's speed drifts with the host's load. The routing-only "
                "row (\"plain\") measured this way shows how even the two "
                "vCPUs are. "
                "\"× routing\" is the run's ns/pkt divided by that "
                "reference's: the figure to compare. \"NAT ns/pkt\" is "
                "(× routing − 1) times the median reference ns/pkt: the "
                "cost the system adds to routing. \"÷ viplb\" divides the "
                "× routing figures. The reference itself ranged over: %s."
                % "; ".join(spread),
                "", t, "", counted_note(res), ""]
    t, r = scaling_table(res)
    if t:
        out += ["### 4. New-flow cost (ns/packet) against the number of "
                "services",
                "", "New-flow pktgen runs as above, to the middle service "
                "of the list (the mean position in a linear rule list). "
                "ns/pkt corrected for the VM's speed: × routing times the "
                "median reference ns/pkt. In parentheses: why a point is "
                "missing.", "", t, "",
                "Ratio to viplb (rr) at the same N (× routing figures):",
                "", r, ""]
    t = load_table(res)
    if t:
        out += ["### 5. Time to configure N services × %s backends "
                "(empty netns, seconds)" % info.get("backends", "?"),
                "", t, ""]
    return "\n".join(out)


def counted_note(res):
    """What out0's counter and viplb's own counters saw, per system."""
    out = []
    fwd = {}
    for (kind, s, _), v in res["fwd"].items():
        if kind in ("pkt-new", "pkt-est"):
            fwd.setdefault(s, []).extend(v)
    if fwd:
        out.append("Share of the packets forwarded (out0's counter over "
                   "pktgen's count), lowest and highest over every run: " +
                   "; ".join("%s %.3f to %.3f" % (s, min(fwd[s]),
                                                  max(fwd[s]))
                             for s in systems_with(fwd)) + ".")
    cnt = res["counted"]
    if cnt:
        def span(v):
            f = [float(x) for x in v if x != "?"]
            bad = len(v) - len(f)
            return ("%.3f to %.3f" % (min(f), max(f)) if f else "none") + \
                (" (%d runs unread)" % bad if bad else "")
        out.append("viplb's own counter of the service (`viplb stats`, "
                   "packets in, zeroed before each run) over pktgen's "
                   "count: " + "; ".join("%s %s" % (s, span(cnt[s]))
                                         for s in systems_with(cnt)) + ".")
    return " ".join(out)


def scaling(res):
    systems = [s for s in systems_with(res["pkt-new"], lambda k: k[0])
               if s not in ("plain", "ct")]
    lines = ["# N " + " ".join(systems)]
    for n in SIZES:
        row = [str(n)]
        for s in systems:
            t = ns(res, "pkt-new", s, n)
            row.append("%.1f" % t if t is not None else "?")
        lines.append(" ".join(row))
    return "\n".join(lines), systems


def rules_systems(res):
    seen = {k[0] for k in list(res["rules-pkt"]) + list(res["rules-load"])}
    return [s for s in RULE_NAMES if s in seen] + sorted(seen - set(RULE_NAMES))


def rules_pkt_table(res):
    kind = "rules-pkt"
    systems = rules_systems(res)
    if not systems:
        return None, None
    rows, rrows = [], []
    for s in systems:
        r, rr = [RULE_NAMES.get(s, s)], [RULE_NAMES.get(s, s)]
        for k in RULE_SIZES:
            t = ns(res, kind, s, k)
            if t is None:
                load = res["rules-load"].get((s, k))
                r.append("(%s)" % load if load and not load[0].isdigit()
                         else "—")
            else:
                r.append(num(t))
            rr.append(ratio(factor(res, kind, s, k),
                            factor(res, kind, RULE_REF, k)))
        lo, hi = ns(res, kind, s, RULE_SIZES[0]), ns(res, kind, s,
                                                     RULE_SIZES[-1])
        r.append(num((hi - lo) / (RULE_SIZES[-1] - RULE_SIZES[0]), 1)
                 if lo is not None and hi is not None else "—")
        r.append(ratio(factor(res, kind, s, RULE_SIZES[-1]),
                       factor(res, kind, s, RULE_SIZES[0])))
        rows.append(r)
        rrows.append(rr)
    head = ["system"] + ["K=%s" % num(k) for k in RULE_SIZES]
    return (table(head + ["ns per extra rule", "K=%s ÷ K=%s" %
                          (num(RULE_SIZES[-1]), num(RULE_SIZES[0]))], rows),
            table(head, rrows))


def rules_load_table(res):
    systems = rules_systems(res)
    if not systems:
        return None
    rows = []
    big = RULE_SIZES[-1]
    for s in systems:
        r = [RULE_NAMES.get(s, s)]
        for k in RULE_SIZES:
            t = load_secs(res, s, k, "rules-load")
            r.append(num(t, 2) if t is not None
                     else (res["rules-load"].get((s, k)) or "—"))
        r.append(ratio(load_secs(res, s, big, "rules-load"),
                       load_secs(res, RULE_REF, big, "rules-load")))
        rows.append(r)
    return table(["system"] + ["K=%s (s)" % num(k) for k in RULE_SIZES] +
                 ["÷ viplb, K=%s" % num(big)], rows)


def rules_md(res):
    """The whole of bench/results/rules.md."""
    info = res["info"]

    def i(k):
        return info.get(k, "?")
    out = ["# viplb benchmark: filter rules", "",
           "Made by `VIPLB_BENCH_ONLY=rules make bench` (bench/"
           "bench.sh; a full `make bench` runs it too), %s. Regenerate this "
           "file from the saved result lines with" % i("date"), "",
           "    python3 bench/report.py rules "
           "bench/results/rules.raw > bench/results/rules.md", "",
           "The other figures (services: IPVS, iptables, nftables) are in "
           "[results.md](results.md).", "",
           "- Guest: Debian kernel %s, %s vCPUs, %s MiB, under %s with "
           "**TCG** (software emulation, no KVM)."
           % (i("kernel"), i("cpus"), i("mem_mib"), i("host_qemu")),
           "- Host: %s CPUs (%s); load average %s before the run, %s after; "
           "%s other QEMU processes were running when it started."
           % (i("host_cpus"), i("host_cpu"), i("host_load_before"),
              i("host_load_after"), i("host_others")),
           "- Run time in the VM: %s s (parts: %s)%s."
           % (i("duration_s"), i("parts"),
              "" if info.get("host_rc", "0") == "0" else
              "; the run ended with status %s: some figures are missing"
              % info.get("host_rc")), "",
           "**Only the ratios matter.** Under TCG every instruction is "
           "emulated: absolute figures are one to two orders of magnitude "
           "below native hardware, and the emulation does not slow every "
           "code path by the same factor.", "",
           "## What runs", "",
           "- One file in iptables-restore format (`bench/gen.py "
           "rules K`), loaded unchanged by each system into an empty "
           "director netns: filter FORWARD with policy DROP, K − 1 rules "
           "that do not match the flow,",
           "  `-A FORWARD -s 203.0.113.X/32 -p udp --dport P -j DROP` "
           "(X in 100..249, P in 9..75), then the one rule that accepts it,",
           "  `-A FORWARD -s 203.0.113.2/32 -d 198.51.100.11/32 -p udp "
           "--dport 8080 -j ACCEPT`.",
           "- **viplb**: the module's own filter table (the small iptables), "
           "loaded with `viplb-restore`; **iptables-legacy**: x_tables, "
           "`iptables-legacy-restore`; **iptables-nft**: nf_tables rules, "
           "`iptables-nft-restore` (Debian's default `iptables`).",
           "- Conntrack is on for the three: viplb's filter table always "
           "turns it on, and one more rule of the file, in INPUT (which the "
           "forwarded flow never sees), `-m conntrack --ctstate INVALID -j "
           "DROP`, turns it on for iptables.",
           "- Traffic: pktgen injects one UDP flow (203.0.113.2:10000 → "
           "198.51.100.11:8080, 64-byte packets, `xmit_mode "
           "netif_receive`) into the director, which routes it to a dummy "
           "device; no NAT. Every packet walks all K rules, and is forwarded "
           "only if the last one matched (out0's counter checks it: %s)."
           % fwd_note(res),
           "- Each figure: %s runs of %s s, each beside a simultaneous run "
           "of a routing-only reference director on the other vCPU, as for "
           "the services (results.md, section 2-3). ns/pkt = × routing "
           "times the median reference ns/pkt; pktgen's own work is "
           "included, so differences matter more than levels."
           % (i("pkt_pairs"), i("pkt_seconds")), ""]
    t, r = rules_pkt_table(res)
    if t:
        sp = ref_spread(res, "rules-pkt")
        out += ["### Per-packet cost of K filter rules (ns/packet)", "",
                "In parentheses: why a point is missing. \"ns per extra "
                "rule\" is (ns(K=%s) − ns(K=%s)) / %s, the cost of one more "
                "non-matching rule in front of the matching one. The "
                "reference ran at %s."
                % (num(RULE_SIZES[-1]), num(RULE_SIZES[0]),
                   num(RULE_SIZES[-1] - RULE_SIZES[0]),
                   "%s to %s pkt/s (%d runs)" % (num(sp[0]), num(sp[1]),
                                                 sp[2]) if sp else "—"),
                "", t, "",
                "Ratio to viplb at the same K (× routing figures; below "
                "1.00× is cheaper than viplb):", "",
                r, ""]
    t = rules_load_table(res)
    if t:
        out += ["### Time to load K filter rules into an empty netns "
                "(seconds)", "",
                "The wall-clock time of the restore command, the same file "
                "for the three (each tool ran once before, untimed, so that "
                "its kernel modules were loaded). Below 1.00× is faster "
                "than viplb.", "", t, ""]
    return "\n".join(out)


def fwd_note(res):
    f = [x for (kind, _, _), v in res["fwd"].items() if kind == "rules-pkt"
         for x in v]
    if not f:
        return "no runs"
    return ("the share of the packets forwarded was %.3f to %.3f in every "
            "run" % (min(f), max(f)))


def main(argv):
    if len(argv) != 3 or argv[1] not in ("text", "scaling", "systems",
                                         "rules"):
        sys.stderr.write(__doc__)
        return 2
    res = parse(argv[2])
    if argv[1] == "text":
        print(text(res))
    elif argv[1] == "rules":
        print(rules_md(res))
    elif argv[1] == "scaling":
        print(scaling(res)[0])
    else:
        for i, s in enumerate(scaling(res)[1]):
            print(i + 2, NAMES.get(s, s))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
