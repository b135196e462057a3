#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Kernel checks of viplb's rule tables, over raw generic netlink.

This talks to the module directly (not through viplb-restore, whose own
checks would hide the kernel's): each case loads tables in a transaction
of scope rules and checks that the kernel accepts or refuses the load with
the expected errno and an extack message, and that a refused load leaves
the live rules untouched.  Also: counters carried by handle, the
generation check (-EAGAIN), transaction scope, and limits.  TAP output.
Needs the module loaded and CAP_NET_ADMIN.
"""
import errno
import os
import socket
import struct
import sys

NETLINK_GENERIC = 16
NETLINK_EXT_ACK = 11
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 1, 4, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
GENL_ID_CTRL, CTRL_CMD_GETFAMILY = 0x10, 3
CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME = 1, 2
NLA_F_NESTED = 0x8000

# From include/uapi/linux/viplb.h (spec_test.py keeps the YAML in step;
# the header is parsed here so that a renumbering cannot go unnoticed).
HDR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                   "include", "uapi", "linux", "viplb.h")


def parse_enums(path):
    """Enumerator values of every enum in the header, in order."""
    vals, text = {}, open(path).read()
    for body in text.split("enum ")[1:]:
        if "{" not in body.split("\n")[0]:
            continue
        body = body[body.index("{") + 1:body.index("}")]
        n = 0
        for line in body.split("\n"):
            line = line.split("/*")[0].strip().rstrip(",")
            if not line:
                continue
            name, _, val = line.partition("=")
            name = name.strip()
            if val.strip():
                try:
                    n = eval(val.strip().replace("U", ""), {}, vals)
                except Exception:
                    continue
            vals[name] = n
            n += 1
    for line in text.split("\n"):
        p = line.split()
        if len(p) >= 3 and p[0] == "#define" and p[2].isdigit():
            vals[p[1]] = int(p[2])
    return vals


E = parse_enums(HDR)
AF_INET, AF_INET6 = 2, 10
FILTER, NAT = E["VIPLB_RTABLE_FILTER"], E["VIPLB_RTABLE_NAT"]


def nla(t, payload):
    n = 4 + len(payload)
    return struct.pack("=HH", n, t) + payload + b"\0" * ((4 - n % 4) % 4)


def nla_u16(t, v):
    return nla(t, struct.pack("=H", v))


def nla_u32(t, v):
    return nla(t, struct.pack("=I", v))


def nla_u64(t, v):
    return nla(t, struct.pack("=Q", v))


def nla_str(t, s):
    return nla(t, s.encode() + b"\0")


def nest(t, *attrs):
    return nla(t | NLA_F_NESTED, b"".join(attrs))


def parse_attrs(buf):
    out = {}
    while len(buf) >= 4:
        n, t = struct.unpack_from("=HH", buf)
        if n < 4:
            break
        out.setdefault(t & 0x3fff, []).append(buf[4:n])
        buf = buf[(n + 3) & ~3:]
    return out


def spec(**kw):
    """struct viplb_rule_spec; keyword names are the C field names."""
    f = dict(match=0, invert=0, src=b"", src_mask=b"", dst=b"",
             dst_mask=b"", iif=b"", oif=b"", sport=(0, 0), dport=(0, 0),
             mports=(), n_mports=0, mport_flags=0, proto=0, ctstate=0,
             mark=0, mark_mask=0, stat_mode=0, stat_prob=0, stat_every=0,
             stat_packet=0, verdict=0, reject_with=0, nat_flags=0,
             nat_min=b"", nat_max=b"", nat_port_min=0, nat_port_max=0,
             set_mark=0, set_mark_mask=0, ct_match=0, ct_invert=0,
             ct_proto=0, ct_status=0, ct_expire=(0, 0), ct_addr=b"",
             ct_mask=b"", ct_port=(0,) * 8, nat_port_base=0,
             tcp_flags_mask=0, tcp_flags_cmp=0)
    f.update(kw)
    mp = []
    for a, b in f["mports"]:
        mp += [a, b]
    mp += [0] * (30 - len(mp))
    b = struct.pack("=II16s16s16s16s16s16sHHHH30HBBBBIIIIIIIII16s16sHHII",
                    f["match"], f["invert"], f["src"], f["src_mask"],
                    f["dst"], f["dst_mask"], f["iif"], f["oif"],
                    f["sport"][0], f["sport"][1], f["dport"][0],
                    f["dport"][1], *mp, f["n_mports"], f["mport_flags"],
                    f["proto"], f["ctstate"], f["mark"], f["mark_mask"],
                    f["stat_mode"], f["stat_prob"], f["stat_every"],
                    f["stat_packet"], f["verdict"], f["reject_with"],
                    f["nat_flags"], f["nat_min"], f["nat_max"],
                    f["nat_port_min"], f["nat_port_max"], f["set_mark"],
                    f["set_mark_mask"])
    b += struct.pack("=HHBBHII64s64s8HHBB", f["ct_match"], f["ct_invert"],
                     f["ct_proto"], f["ct_status"], 0, f["ct_expire"][0],
                     f["ct_expire"][1], f["ct_addr"], f["ct_mask"],
                     *f["ct_port"], f["nat_port_base"], f["tcp_flags_mask"],
                     f["tcp_flags_cmp"])
    assert len(b) == 420, len(b)
    return b


class Genl:
    def __init__(self):
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                               NETLINK_GENERIC)
        self.s.setsockopt(270, NETLINK_EXT_ACK, 1)
        self.s.bind((0, 0))
        self.s.settimeout(30)
        self.seq = 1
        msgs, err, _ = self.req(GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                                nla_str(CTRL_ATTR_FAMILY_NAME, "viplb"))
        if err or not msgs:
            raise OSError(err, "genl family viplb not found")
        a = parse_attrs(msgs[0])
        self.fam = struct.unpack("=H", a[CTRL_ATTR_FAMILY_ID][0])[0]

    def send(self, typ, cmd, payload, flags):
        self.seq += 1
        hdr = struct.pack("=IHHII", 16 + 4 + len(payload), typ,
                          NLM_F_REQUEST | flags, self.seq, 0)
        # genetlink's control family is at version 1; ours is the UAPI's.
        ver = 1 if typ == GENL_ID_CTRL else E["VIPLB_GENL_VERSION"]
        self.s.send(hdr + struct.pack("=BBH", cmd, ver, 0) + payload)

    def recv_until_done(self):
        """(messages' attribute payloads, errno, extack message)."""
        msgs = []
        while True:
            data = self.s.recv(1 << 20)
            while data:
                n, t, fl, _, _ = struct.unpack_from("=IHHII", data)
                body = data[16:n]
                data = data[(n + 3) & ~3:]
                if t == NLMSG_ERROR:
                    err = -struct.unpack_from("=i", body)[0]
                    ext = ""
                    if fl & 0x200:  # NLM_F_ACK_TLVS
                        ol = struct.unpack_from("=I", body, 4)[0]
                        skip = 4 + (16 if fl & 0x100 else ol)
                        a = parse_attrs(body[skip:])
                        if 1 in a:
                            ext = a[1][0].rstrip(b"\0").decode()
                    return msgs, err, ext
                if t == NLMSG_DONE:
                    return msgs, 0, ""
                msgs.append(body[4:])

    def req(self, typ, cmd, payload, dump=False):
        """Requests are acked; a dump ends with NLMSG_DONE instead."""
        self.send(typ, cmd, payload, NLM_F_DUMP if dump else NLM_F_ACK)
        return self.recv_until_done()

    def cmd(self, name, *attrs):
        _, err, ext = self.req(self.fam, E["VIPLB_CMD_" + name],
                               b"".join(attrs))
        return err, ext


def rules(af, table, *attrs):
    return nest(E["VIPLB_A_RULES"], nla_u16(E["VIPLB_RULES_A_AF"], af),
                nla_u32(E["VIPLB_RULES_A_TABLE"], table), *attrs)


def chain_attr(name):
    return nla_str(E["VIPLB_RULES_A_CHAIN"], name)


def load(g, tables, scope=None, gen=None, ops_delta=0):
    """tables: [(af, table, [chain msgs], [rule msgs])].  Returns the
    first error (errno, extack) of the transaction, or of the commit."""
    scope = E["VIPLB_TXN_RULES"] if scope is None else scope
    err, ext = g.cmd("TXN_BEGIN", nla_u32(E["VIPLB_A_TXN_SCOPE"], scope))
    if err:
        return err, ext
    first, ops = (0, ""), 0
    for af, table, chains, rls in tables:
        extra = [nla_u32(E["VIPLB_RULES_A_GEN"], gen)] if gen is not None \
            else []
        msgs = [("RULES_TABLE", rules(af, table, *extra))]
        msgs += [("RULES_CHAIN", rules(af, table, *c)) for c in chains]
        msgs += [("RULES_RULE", rules(af, table, *r)) for r in rls]
        for name, m in msgs:
            ops += 1
            r = g.cmd(name, m)
            if r[0] and not first[0]:
                first = r
    r = g.cmd("TXN_COMMIT", nla_u32(E["VIPLB_A_TXN_OPS"], ops + ops_delta))
    return first if first[0] else r


def dump(g, af, table):
    """[(chain, attrs)] in dump order; rules carry their spec."""
    msgs, err, ext = g.req(g.fam, E["VIPLB_CMD_RULES_GET"],
                           rules(af, table), dump=True)
    if err:
        raise OSError(err, ext)
    out = []
    for m in msgs:
        a = parse_attrs(parse_attrs(m)[E["VIPLB_A_RULES"]][0])
        out.append(a)
    return out


def attr_u64(a, name):
    return struct.unpack("=Q", a[E[name]][0])[0]


def attr_u32(a, name):
    return struct.unpack("=I", a[E[name]][0])[0]


def attr_str(a, name):
    return a[E[name]][0].rstrip(b"\0").decode()


def rule(chain, sp, target=None, handle=None, comment=None):
    attrs = [chain_attr(chain), nla(E["VIPLB_RULES_A_SPEC"], sp)]
    if target:
        attrs.append(nla_str(E["VIPLB_RULES_A_TARGET"], target))
    if handle:
        attrs.append(nla_u64(E["VIPLB_RULES_A_HANDLE"], handle))
    if comment:
        attrs.append(nla_str(E["VIPLB_RULES_A_COMMENT"], comment))
    return attrs


V = {k[len("VIPLB_V_"):]: v for k, v in E.items() if k.startswith("VIPLB_V_")}
M = {k[len("VIPLB_M_"):]: v for k, v in E.items() if k.startswith("VIPLB_M_")}
TCP = 6
IP = socket.inet_aton

n_test = 0
n_fail = 0


def check(desc, ok, detail=""):
    global n_test, n_fail
    n_test += 1
    if ok:
        print("ok %d %s" % (n_test, desc))
    else:
        n_fail += 1
        print("not ok %d %s%s" % (n_test, desc,
                                  (" # " + detail) if detail else ""))
    sys.stdout.flush()


def expect_refused(g, desc, tables, want_err, want_ext=None, **kw):
    err, ext = load(g, tables, **kw)
    ok = err == want_err and bool(ext) and \
        (want_ext is None or want_ext in ext)
    check("%s: %s (%s)" % (desc, errno.errorcode.get(want_err, want_err),
                           ext), ok,
          "got errno %s, extack %r" % (err, ext))


def main():
    g = Genl()
    print("TAP version 13")
    acc = spec(verdict=V["ACCEPT"])
    tcp_acc = spec(match=M["PROTO"], proto=TCP, verdict=V["ACCEPT"])

    # A base ruleset that every refused load must leave in place.
    base = [(AF_INET, FILTER, [[chain_attr("A")],
                               [chain_attr("FORWARD"),
                                nla_u32(E["VIPLB_RULES_A_POLICY"],
                                        V["DROP"])]],
             [rule("FORWARD", spec(verdict=V["JUMP"]), "A"),
              rule("A", tcp_acc, comment="base")])]
    err, ext = load(g, base)
    check("a base filter table loads", err == 0, "%s %s" % (err, ext))
    before = dump(g, AF_INET, FILTER)
    check("the rule's comment is dumped",
          attr_str(before[-1], "VIPLB_RULES_A_COMMENT") == "base",
          repr(before[-1]))
    check("its dump has 4 chains and 2 rules",
          len(before) == 6 and attr_str(before[4], "VIPLB_RULES_A_CHAIN")
          == "A" and attr_u32(before[4], "VIPLB_RULES_A_REFS") == 1,
          repr(before))

    ch = [[chain_attr("A")], [chain_attr("B")]]
    expect_refused(g, "a loop A -> B -> A",
                   [(AF_INET, FILTER, ch,
                     [rule("A", spec(verdict=V["JUMP"]), "B"),
                      rule("B", spec(verdict=V["GOTO"]), "A")])],
                   errno.ELOOP, "loop")
    expect_refused(g, "a chain jumping to itself",
                   [(AF_INET, FILTER, ch[:1],
                     [rule("A", spec(verdict=V["JUMP"]), "A")])],
                   errno.ELOOP, "loop")
    deep = [[chain_attr("C%d" % i)] for i in range(18)]
    deep_rules = [rule("INPUT", spec(verdict=V["JUMP"]), "C0")]
    deep_rules += [rule("C%d" % i, spec(verdict=V["JUMP"]), "C%d" % (i + 1))
                   for i in range(17)]
    expect_refused(g, "jumps nested 18 deep", [(AF_INET, FILTER, deep,
                                                 deep_rules)],
                   errno.ELOOP, "deeper")
    gotos = [rule("INPUT", spec(verdict=V["JUMP"]), "C0")]
    gotos += [rule("C%d" % i, spec(verdict=V["GOTO"]), "C%d" % (i + 1))
              for i in range(17)]
    err, ext = load(g, [(AF_INET, FILTER, deep, gotos)])
    check("gotos do not nest: 18 chains of gotos load", err == 0,
          "%s %s" % (err, ext))
    err, ext = load(g, base)
    before = dump(g, AF_INET, FILTER)

    dnat = spec(match=M["PROTO"], proto=TCP, verdict=V["DNAT"],
                nat_flags=E["VIPLB_NAT_F_ADDR"], nat_min=IP("192.0.2.1"),
                nat_max=IP("192.0.2.1"))
    expect_refused(g, "DNAT reachable from POSTROUTING",
                   [(AF_INET, NAT, ch[:1],
                     [rule("POSTROUTING", spec(verdict=V["JUMP"]), "A"),
                      rule("A", dnat)])], errno.EINVAL, "DNAT")
    err, ext = load(g, [(AF_INET, NAT, ch[:1],
                         [rule("PREROUTING", spec(verdict=V["JUMP"]), "A"),
                          rule("A", dnat)])])
    check("DNAT reachable from PREROUTING loads", err == 0,
          "%s %s" % (err, ext))
    expect_refused(g, "DROP in the nat table",
                   [(AF_INET, NAT, [], [rule("PREROUTING",
                                             spec(verdict=V["DROP"]))])],
                   errno.EINVAL, "nat table")
    expect_refused(g, "a DROP policy in nat",
                   [(AF_INET, NAT, [[chain_attr("PREROUTING"),
                                     nla_u32(E["VIPLB_RULES_A_POLICY"],
                                             V["DROP"])]], [])],
                   errno.EINVAL, "DROP policy")
    expect_refused(g, "DNAT in the filter table",
                   [(AF_INET, FILTER, [], [rule("INPUT", dnat)])],
                   errno.EINVAL, "NAT targets")
    expect_refused(g, "a jump to a missing chain",
                   [(AF_INET, FILTER, [],
                     [rule("INPUT", spec(verdict=V["JUMP"]), "NOPE")])],
                   errno.ENOENT, "not a user chain")
    expect_refused(g, "a jump to a built-in chain",
                   [(AF_INET, FILTER, [],
                     [rule("INPUT", spec(verdict=V["JUMP"]), "OUTPUT")])],
                   errno.ENOENT, "not a user chain")
    expect_refused(g, "a rule in a missing chain",
                   [(AF_INET, FILTER, [], [rule("NOPE", acc)])],
                   errno.ENOENT, "chain does not exist")
    expect_refused(g, "a user chain created twice",
                   [(AF_INET, FILTER, [ch[0], ch[0]], [])],
                   errno.EEXIST, "exists")
    expect_refused(g, "--dport without -p tcp",
                   [(AF_INET, FILTER, [],
                     [rule("INPUT", spec(match=M["DPORT"], dport=(1, 2),
                                         verdict=V["ACCEPT"]))])],
                   errno.EINVAL, "tcp or udp")
    expect_refused(g, "an address with bits outside its mask",
                   [(AF_INET, FILTER, [],
                     [rule("INPUT", spec(match=M["SRC"],
                                         src=IP("192.0.2.1"),
                                         src_mask=IP("255.255.255.0"),
                                         verdict=V["ACCEPT"]))])],
                   errno.EINVAL, "mask")
    expect_refused(g, "nth with packet >= every",
                   [(AF_INET, FILTER, [],
                     [rule("INPUT", spec(match=M["STATISTIC"],
                                         stat_mode=E["VIPLB_STAT_NTH"],
                                         stat_every=2, stat_packet=2,
                                         verdict=V["ACCEPT"]))])],
                   errno.EINVAL, "nth")
    expect_refused(g, "an unknown verdict",
                   [(AF_INET, FILTER, [],
                     [rule("INPUT", spec(verdict=99))])],
                   errno.EINVAL, "verdict")
    expect_refused(g, "tcp-reset without -p tcp",
                   [(AF_INET, FILTER, [],
                     [rule("INPUT", spec(verdict=V["REJECT"],
                                         reject_with=E[
                                             "VIPLB_REJECT_TCP_RESET"]))])],
                   errno.EINVAL, "tcp-reset")
    expect_refused(g, "a handle no live rule has",
                   [(AF_INET, FILTER, [], [rule("INPUT", acc,
                                                handle=1 << 40)])],
                   errno.ENOENT, "handle")
    expect_refused(g, "a stale generation",
                   [(AF_INET, FILTER, [], [])], errno.EAGAIN, "try again",
                   gen=attr_u32(before[0], "VIPLB_RULES_A_GEN") + 7)
    expect_refused(g, "txn-ops that do not match",
                   [(AF_INET, FILTER, [], [])], errno.EINVAL, "txn-ops",
                   ops_delta=1)
    err, ext = g.cmd("RULES_TABLE", rules(AF_INET, FILTER))
    check("RULES_TABLE outside a transaction is refused",
          err == errno.EINVAL and "transaction" in ext, "%s %r" % (err, ext))
    err, ext = g.cmd("TXN_BEGIN", nla_u32(E["VIPLB_A_TXN_SCOPE"],
                                          E["VIPLB_TXN_SERVICES"]))
    err2, ext2 = g.cmd("RULES_TABLE", rules(AF_INET, FILTER))
    g.cmd("TXN_ABORT")
    check("RULES_TABLE in a services transaction is refused",
          err == 0 and err2 == errno.EINVAL, "%s %s %r" % (err, err2, ext2))
    err, ext = g.cmd("TXN_BEGIN", nla_u32(E["VIPLB_A_TXN_SCOPE"], 8))
    check("an unknown txn scope is refused", err == errno.ERANGE or
          err == errno.EINVAL, "%s %r" % (err, ext))
    err, ext = g.cmd("TXN_BEGIN", nla_u32(E["VIPLB_A_TXN_SCOPE"],
                                          E["VIPLB_TXN_RULES"]))
    err2, ext2 = g.cmd("SERVICE_NEW", nest(E["VIPLB_A_SERVICE"]))
    g.cmd("TXN_ABORT")
    check("service commands in a rules transaction are refused",
          err == 0 and err2 != 0, "%s %s %r" % (err, err2, ext2))

    after = dump(g, AF_INET, FILTER)
    strip = [{k: v for k, v in a.items() if k != E["VIPLB_RULES_A_GEN"]}
             for a in after]
    strip0 = [{k: v for k, v in a.items() if k != E["VIPLB_RULES_A_GEN"]}
              for a in before]
    check("every refused load left the base table as it was",
          strip == strip0, "%r\n%r" % (before, after))

    # Handles carry counters; a rule without a handle starts from zero.
    rl = [a for a in after if E["VIPLB_RULES_A_SPEC"] in a]
    h_jump = attr_u64(rl[0], "VIPLB_RULES_A_HANDLE")
    h_acc = attr_u64(rl[1], "VIPLB_RULES_A_HANDLE")
    err, ext = load(g, [(AF_INET, FILTER,
                         [[chain_attr("A")],
                          [chain_attr("INPUT"),
                           nla_u64(E["VIPLB_RULES_A_PKTS"], 5),
                           nla_u64(E["VIPLB_RULES_A_BYTES"], 500)]],
                         [rule("FORWARD", spec(verdict=V["JUMP"]), "A",
                               handle=h_jump),
                          rule("A", tcp_acc, handle=h_acc),
                          rule("A", acc,)
                          + [nla_u64(E["VIPLB_RULES_A_PKTS"], 7),
                             nla_u64(E["VIPLB_RULES_A_BYTES"], 700)]])],
                    gen=attr_u32(after[0], "VIPLB_RULES_A_GEN"))
    check("an edit with handles and the current generation loads",
          err == 0, "%s %s" % (err, ext))
    d = dump(g, AF_INET, FILTER)
    rl = [a for a in d if E["VIPLB_RULES_A_SPEC"] in a]
    check("kept rules keep their handles, the new one has a new handle",
          [attr_u64(a, "VIPLB_RULES_A_HANDLE") for a in rl[:2]] ==
          [h_jump, h_acc] and attr_u64(rl[2], "VIPLB_RULES_A_HANDLE") >
          h_acc, repr(rl))
    check("initial counters of a rule and of a policy are kept",
          attr_u64(rl[2], "VIPLB_RULES_A_PKTS") == 7 and
          attr_u64(rl[2], "VIPLB_RULES_A_BYTES") == 700 and
          attr_u64(d[0], "VIPLB_RULES_A_PKTS") == 5, repr(d))
    h_new = attr_u64(rl[2], "VIPLB_RULES_A_HANDLE")
    err, ext = load(g, [(AF_INET, FILTER, [[chain_attr("A")]],
                         [rule("FORWARD", spec(verdict=V["JUMP"]), "A",
                               handle=h_jump),
                          rule("A", acc, handle=h_new)
                          + [nla_u64(E["VIPLB_RULES_A_PKTS"], 1),
                             nla_u64(E["VIPLB_RULES_A_BYTES"], 2),
                             nla(E["VIPLB_RULES_A_MATCH_ORDER"],
                                 b"\x07\x01\x09")]])])
    d2 = dump(g, AF_INET, FILTER)
    rl2 = [a for a in d2 if E["VIPLB_RULES_A_SPEC"] in a]
    check("a handle with counters keeps the handle, restarts the counters",
          err == 0 and attr_u64(rl2[1], "VIPLB_RULES_A_HANDLE") == h_new and
          attr_u64(rl2[1], "VIPLB_RULES_A_PKTS") == 1 and
          attr_u64(rl2[1], "VIPLB_RULES_A_BYTES") == 2,
          "%s %s %r" % (err, ext, rl2))
    check("match-order comes back unchanged",
          rl2[1].get(E["VIPLB_RULES_A_MATCH_ORDER"]) == [b"\x07\x01\x09"],
          repr(rl2[1]))
    expect_refused(g, "a match-order longer than VIPLB_MATCH_ORDER_MAX",
                   [(AF_INET, FILTER, [],
                     [rule("INPUT", acc)
                      + [nla(E["VIPLB_RULES_A_MATCH_ORDER"], b"x" * 17)]])],
                   errno.ERANGE)
    check("the FORWARD policy is no longer DROP (not sent: ACCEPT)",
          attr_u32(d[1], "VIPLB_RULES_A_POLICY") == V["ACCEPT"], repr(d[1]))

    # Limits: too many chains is refused, at the limit is fine.
    n = E["VIPLB_CHAINS_MAX"]
    many = [[chain_attr("U%d" % i)] for i in range(n - 3)]
    err, ext = load(g, [(AF_INET, FILTER, many, [])])
    check("VIPLB_CHAINS_MAX chains (3 built-in) load", err == 0,
          "%s %s" % (err, ext))
    many = [[chain_attr("U%d" % i)] for i in range(n - 2)]
    expect_refused(g, "more than VIPLB_CHAINS_MAX chains",
                   [(AF_INET, FILTER, many, [])], errno.ENOSPC,
                   "net.viplb.max_chains")

    # IPv6 and both tables in one transaction.
    err, ext = load(g, [(AF_INET6, FILTER, [], [rule("INPUT", tcp_acc)]),
                        (AF_INET6, NAT, [], [])])
    check("an IPv6 filter and nat table load in one transaction", err == 0,
          "%s %s" % (err, ext))
    d6 = dump(g, AF_INET6, NAT)
    check("an empty nat table dumps its 4 built-in chains",
          [attr_str(a, "VIPLB_RULES_A_CHAIN") for a in d6] ==
          ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"], repr(d6))

    # Leave busy tables (hooks registered) behind, unless asked not to:
    # the caller then checks that netns exit and rmmod clean them up.
    if os.environ.get("RULES_API_CLEAN"):
        for af in (AF_INET, AF_INET6):
            load(g, [(af, FILTER, [], []), (af, NAT, [], [])])
    else:
        load(g, base + [(AF_INET, NAT, [], [rule("PREROUTING", dnat)])])
    print("1..%d" % n_test)
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
