#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check that the UAPI header and the YNL netlink spec agree.

Usage: spec_test.py [--header PATH] [--spec PATH]

The defaults are include/uapi/linux/viplb.h and
Documentation/netlink/specs/viplb.yaml, found relative to this script, so it
runs from any directory.  Output is TAP; the exit status is 1 if any check
fails (or a file cannot be parsed), 0 otherwise.

Mapping rule between the two files (the one rule, used everywhere):

    C name = upper(PREFIX + yaml-name), with every '-' turned into '_'

where PREFIX is the spec's own "name-prefix" of the group:

    operations          operations.name-prefix  "viplb-cmd-"  -> enum viplb_cmd
    attribute set S     S.name-prefix           "viplb-svc-a-" -> enum S.enum-name
    enum / flags D      D.name-prefix           "viplb-sched-" -> enum D.enum-name
    const D             "<family name>-"        "viplb-"       -> #define

so operation "service-new" is VIPLB_CMD_SERVICE_NEW and attribute
"table-size" of set "service" is VIPLB_SVC_A_TABLE_SIZE.  Each spec group
names its C enum with "enum-name".  The family name and version are the
#defines named by "c-family-name" and "c-version-name".

Every spec entry must carry an explicit "value:".  For a flags definition the
value is the bit number (YNL convention): the C value is 1 << value.

C enumerators whose name starts with "__" (the __X_MAX counters, the
__X_ALL flag masks) and #defines computed from them (X_MAX) are helpers, not
part of the mapping; a __X_ALL mask is checked against the union of the
spec's flags.  The include guard (a #define without a value) is ignored.
"""

import argparse
import ast
import os
import re
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, '..', '..'))
DEFAULT_HEADER = os.path.join(REPO, 'include', 'uapi', 'linux', 'viplb.h')
DEFAULT_SPEC = os.path.join(REPO, 'Documentation', 'netlink', 'specs',
                            'viplb.yaml')


def c_name(prefix, name):
    return (prefix + name).upper().replace('-', '_')


# ---------------------------------------------------------------- C header

class HeaderError(Exception):
    pass


def strip_comments(text):
    text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
    text = re.sub(r'//[^\n]*', '', text)
    return text.replace('\\\n', ' ')         # line continuations


def c_eval(expr, names):
    """Evaluate an integer constant expression of the header."""
    src = re.sub(r'\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]+\b', r'\1', expr.strip())
    try:
        tree = ast.parse(src, mode='eval')
    except SyntaxError:
        raise HeaderError('cannot parse expression %r' % expr)

    binops = {
        ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
        ast.Mult: lambda a, b: a * b, ast.LShift: lambda a, b: a << b,
        ast.RShift: lambda a, b: a >> b, ast.BitOr: lambda a, b: a | b,
        ast.BitAnd: lambda a, b: a & b, ast.BitXor: lambda a, b: a ^ b,
    }

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in names:
                raise HeaderError('unknown name %s in %r' % (node.id, expr))
            return names[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in binops:
            return binops[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert):
            return ~ev(node.operand)
        raise HeaderError('unsupported expression %r' % expr)

    return ev(tree)


def parse_header(path):
    """Return (enums, defines, strings).

    enums:   {enum name: [(enumerator, value), ...]} in source order,
             "__" helpers included
    defines: {name: (int value, raw text)} for integer #defines
    strings: {name: str} for string #defines
    """
    with open(path) as f:
        text = strip_comments(f.read())

    names = {}          # every integer name seen so far, for expressions
    enums = {}
    defines = {}
    strings = {}

    # Walk the file in order so that expressions can use earlier names.
    token = re.compile(
        r'^[ \t]*#[ \t]*define[ \t]+(?P<dname>\w+)(?P<dval>[^\n]*)$'
        r'|\benum\s+(?P<ename>\w+)\s*\{(?P<ebody>[^}]*)\}\s*;',
        re.M)
    for m in token.finditer(text):
        if m.group('dname'):
            name, val = m.group('dname'), m.group('dval').strip()
            if not val:
                continue                # include guard
            s = re.fullmatch(r'"([^"]*)"', val)
            if s:
                strings[name] = s.group(1)
                continue
            v = c_eval(val, names)
            names[name] = v
            defines[name] = (v, val)
            continue
        ename, body = m.group('ename'), m.group('ebody')
        if ename in enums:
            raise HeaderError('enum %s defined twice' % ename)
        items = []
        nxt = 0
        for part in body.split(','):
            part = part.strip()
            if not part:
                continue
            em = re.fullmatch(r'(\w+)\s*(?:=\s*(.+))?', part, flags=re.S)
            if not em:
                raise HeaderError('enum %s: cannot parse %r' % (ename, part))
            ident, expr = em.group(1), em.group(2)
            v = c_eval(expr, names) if expr is not None else nxt
            if ident in names:
                raise HeaderError('%s defined twice' % ident)
            names[ident] = v
            items.append((ident, v))
            nxt = v + 1
        enums[ename] = items
    return enums, defines, strings


# ---------------------------------------------------------------- checks

class Tap:
    def __init__(self):
        self.results = []

    def check(self, ok, desc, diag=None):
        self.results.append((bool(ok), desc, diag))
        return ok

    def emit(self):
        print('TAP version 13')
        print('1..%d' % len(self.results))
        failed = 0
        for i, (ok, desc, diag) in enumerate(self.results, 1):
            print('%s %d - %s' % ('ok' if ok else 'not ok', i, desc))
            if not ok:
                failed += 1
                if diag:
                    for line in diag.splitlines():
                        print('#   ' + line)
        print('# %d passed, %d failed' % (len(self.results) - failed, failed))
        return 1 if failed else 0


def compare_group(tap, what, prefix, entries, c_enum_name, c_items,
                  as_flags=False):
    """Compare spec entries [(name, value or None)] with a C enum, by name
    and by number, in both directions."""
    c_public = [(n, v) for n, v in c_items if not n.startswith('__')]
    c_by_name = dict(c_public)

    spec_by_cname = {}
    names = [name for name, _ in entries]
    dup_names = sorted({n for n in names if names.count(n) > 1})
    tap.check(not dup_names, '%s names are unique in the spec' % what,
              ', '.join(dup_names))
    for name, value in entries:
        cn = c_name(prefix, name)
        if value is None:
            tap.check(False, '%s %s has an explicit value' % (what, name),
                      'add "value:" to the spec entry')
            continue
        cval = (1 << value) if as_flags else value
        spec_by_cname[cn] = (name, cval)

    # names: spec -> C and C -> spec, with equal numbers
    def order(cn):
        return (c_by_name[cn] if cn in c_by_name else spec_by_cname[cn][1], cn)

    for cn in sorted(set(spec_by_cname) | set(c_by_name), key=order):
        if cn not in c_by_name:
            name, cval = spec_by_cname[cn]
            tap.check(False, '%s %s (%d) is %s in enum %s'
                      % (what, name, cval, cn, c_enum_name),
                      '%s is missing from the header' % cn)
        elif cn not in spec_by_cname:
            tap.check(False, '%s = %d of enum %s is in the spec %s'
                      % (cn, c_by_name[cn], c_enum_name, what),
                      'the spec has no entry that maps to %s' % cn)
        else:
            name, cval = spec_by_cname[cn]
            tap.check(cval == c_by_name[cn],
                      '%s %s = %d <-> %s = %d'
                      % (what, name, cval, cn, c_by_name[cn]),
                      'numbers differ')

    # numbers: each number names one entry on each side
    for side, pairs in (('spec', [(v[0], v[1]) for v in spec_by_cname.values()]),
                        ('header', c_public)):
        seen = {}
        dups = []
        for n, v in pairs:
            if v in seen:
                dups.append('%d: %s and %s' % (v, seen[v], n))
            seen[v] = n
        tap.check(not dups, '%s values are unique in the %s' % (what, side),
                  '\n'.join(dups))


def run(header, spec_path):
    tap = Tap()
    try:
        enums, defines, strings = parse_header(header)
    except (OSError, HeaderError) as e:
        tap.check(False, 'parse header %s' % header, str(e))
        return tap.emit()
    try:
        with open(spec_path) as f:
            spec = yaml.safe_load(f)
        if not isinstance(spec, dict):
            raise ValueError('not a YAML mapping')
    except (OSError, ValueError, yaml.YAMLError) as e:
        tap.check(False, 'parse spec %s' % spec_path, str(e))
        return tap.emit()
    try:
        check_all(tap, enums, defines, strings, spec)
    except (KeyError, TypeError, AttributeError, ValueError) as e:
        tap.check(False, 'spec %s has the expected structure' % spec_path,
                  '%s: %s' % (type(e).__name__, e))
    return tap.emit()


def check_all(tap, enums, defines, strings, spec):
    family = spec.get('name', '')
    used_enums = set()

    # family name and version
    fam_def = c_name('', spec.get('c-family-name', family + '-genl-name'))
    ver_def = c_name('', spec.get('c-version-name', family + '-genl-version'))
    tap.check(strings.get(fam_def) == family,
              'family name "%s" == %s "%s"'
              % (family, fam_def, strings.get(fam_def)))
    version = spec.get('version', 1)
    hver = defines.get(ver_def, (None,))[0]
    tap.check(hver == version, 'family version %s == %s %s'
              % (version, ver_def, hver))

    def group(what, node, prefix, as_flags=False):
        enum_name = node.get('enum-name')
        if not enum_name or enum_name not in enums:
            tap.check(False, '%s: enum-name %s is an enum of the header'
                      % (what, enum_name),
                      'header enums: ' + ', '.join(sorted(enums)))
            return
        if enum_name in used_enums:
            tap.check(False, '%s: enum %s is described once' % (what, enum_name))
            return
        used_enums.add(enum_name)
        compare_group(tap, what, prefix, entries_of(node), enum_name,
                      enums[enum_name], as_flags)
        if as_flags:
            # a "__X_ALL" helper must be the union of the spec's flags
            mask = 0
            for _, v in entries_of(node):
                mask |= 1 << (v or 0)
            for n, v in enums[enum_name]:
                if n.startswith('__'):
                    tap.check(v == mask, '%s: %s = %#x is the union of the '
                              'spec flags %#x' % (what, n, v, mask))

    def entries_of(node):
        if 'attributes' in node:
            items = node['attributes']
        elif 'list' in node:
            items = node['list']
        else:
            items = node.get('entries', [])
        out = []
        for it in items:
            if isinstance(it, str):
                out.append((it, None))
            else:
                out.append((it['name'], it.get('value')))
        return out

    # operations
    ops = spec.get('operations', {})
    group('operation', ops, ops.get('name-prefix', family + '-cmd-'))

    # attribute sets
    for aset in spec.get('attribute-sets', []):
        group('set %s attr' % aset['name'], aset, aset.get('name-prefix', '%s-%s-a-' % (family, aset['name'])))

    # definitions: enums, flags, constants
    spec_consts = {}
    for d in spec.get('definitions', []):
        if d['type'] in ('enum', 'flags'):
            group('%s %s entry' % (d['type'], d['name']), d,
                  d.get('name-prefix', '%s-%s-' % (family, d['name'])),
                  as_flags=(d['type'] == 'flags'))
        elif d['type'] == 'const':
            spec_consts[c_name(family + '-', d['name'])] = (d['name'], d.get('value'))

    # every enum of the header is described by the spec
    for e in sorted(enums):
        tap.check(e in used_enums, 'header enum %s is described by the spec' % e)

    # constants, both ways; skip the family name/version and the X_MAX
    # defines computed from "__" helpers
    header_consts = {n: v for n, (v, raw) in defines.items()
                     if n != ver_def and '__' not in raw}
    for cn in sorted(set(spec_consts) | set(header_consts)):
        if cn not in header_consts:
            name, val = spec_consts[cn]
            tap.check(False, 'const %s (%s) is #define %s' % (name, val, cn),
                      '%s is missing from the header' % cn)
        elif cn not in spec_consts:
            tap.check(False, '#define %s %d is a const of the spec'
                      % (cn, header_consts[cn]),
                      'the spec has no const that maps to %s' % cn)
        else:
            name, val = spec_consts[cn]
            tap.check(val == header_consts[cn], 'const %s = %s <-> %s = %d'
                      % (name, val, cn, header_consts[cn]), 'values differ')

    # range checks in the spec use the header's limits
    limits = [('service', 'table-size', 'min', 'table-size-min'),
              ('service', 'table-size', 'max', 'table-size-max'),
              ('backend', 'weight', 'max', 'weight-max')]
    sets = {s['name']: s for s in spec.get('attribute-sets', [])}
    for sname, aname, key, const in limits:
        attr = next((a for a in sets.get(sname, {}).get('attributes', [])
                     if a.get('name') == aname), {})
        got = attr.get('checks', {}).get(key)
        cn = c_name(family + '-', const)
        want = header_consts.get(cn)
        tap.check(got is not None and got == want,
                  'set %s attr %s checks %s %s == %s %s'
                  % (sname, aname, key, got, cn, want))


def main():
    ap = argparse.ArgumentParser(
        description='Check include/uapi/linux/viplb.h against the YNL spec.')
    ap.add_argument('--header', default=DEFAULT_HEADER,
                    help='UAPI header (default: %(default)s)')
    ap.add_argument('--spec', default=DEFAULT_SPEC,
                    help='YNL spec (default: %(default)s)')
    args = ap.parse_args()
    return run(args.header, args.spec)


if __name__ == '__main__':
    sys.exit(main())
