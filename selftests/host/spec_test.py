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
spec's flags, and the X_MAX helpers against "render-max" (enums) and
"max-by-define" (attribute sets, operations).  The include guard (a #define
without a value) is ignored.

A struct definition D is "struct <family name>_<D.name>" (with '_' for
'-'); its members map to the C members of the same name ('-' -> '_'), in
the same order, with the same offset and size:

    C __uN / __sN           spec uN / sN, no byte-order
    C __beN / __leN         spec uN with byte-order big- / little-endian
    C char x[L]             spec string, len L
    C any other array       spec binary, len = the array's size in bytes

Spec offsets follow the natural alignment of the scalars, binary and string
members being byte arrays, so a C member behind padding does not match.  A
C member commented /* enum NAME */ must carry "enum:" naming the definition
whose enum-name is NAME, and the other way round.  The C layout is computed
here and, when a C compiler is found, checked against the compiler's
offsetof() and sizeof().  An attribute with "struct:" must name a struct
definition, and its "exact-len" check must be that struct's size.

References are checked too: "enum:", "nested-attributes", "struct:",
"flags-mask" and the attribute lists of the operations must name things
the spec defines.
"""

import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile

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
    """Return (enums, defines, strings, structs).

    enums:   {enum name: [(enumerator, value), ...]} in source order,
             "__" helpers included
    defines: {name: (int value, raw text)} for integer #defines
    strings: {name: str} for string #defines
    structs: {struct name: [member dict]}, see parse_structs()
    """
    with open(path) as f:
        raw = f.read()
    text = strip_comments(raw)

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
    return enums, defines, strings, parse_structs(raw, names)


# C scalar types of the header: (size, signed, byte order or None)
C_TYPES = {
    'char': (1, False, None),
    '__u8': (1, False, None), '__s8': (1, True, None),
    '__u16': (2, False, None), '__s16': (2, True, None),
    '__u32': (4, False, None), '__s32': (4, True, None),
    '__u64': (8, False, None), '__s64': (8, True, None),
    '__be16': (2, False, 'big-endian'), '__be32': (4, False, 'big-endian'),
    '__be64': (8, False, 'big-endian'),
    '__le16': (2, False, 'little-endian'), '__le32': (4, False, 'little-endian'),
    '__le64': (8, False, 'little-endian'),
}


def align(off, a):
    return (off + a - 1) // a * a


def parse_structs(raw, names):
    """{struct name: [member]} for every "struct NAME { ... };" of the header.

    A member is a dict: name, ctype, dims (list of ints), size (bytes),
    offset, enum (the NAME of a trailing /* enum NAME */ comment on the
    same line, or None).  Offsets and sizes use natural alignment, as the
    C ABI of every Linux architecture does for these types; struct_size()
    gives the size of the whole struct.
    """
    # Keep "/* enum NAME */" comments as tokens, drop the others.
    def comment(m):
        e = re.fullmatch(r'\s*enum\s+(\w+)\s*', m.group(1))
        body = ' @enum:%s ' % e.group(1) if e else ' '
        return body + '\n' * m.group(1).count('\n')
    text = re.sub(r'/\*(.*?)\*/', comment, raw, flags=re.S)
    text = re.sub(r'//[^\n]*', '', text)

    structs = {}
    for m in re.finditer(r'\bstruct\s+(\w+)\s*\{(?P<body>[^}]*)\}\s*;',
                         text):
        sname, body = m.group(1), m.group('body')
        if sname in structs:
            raise HeaderError('struct %s defined twice' % sname)
        members = []
        tok = re.compile(
            r'(?P<type>\w+)\s+(?P<name>\w+)\s*(?P<dims>(?:\[[^\]]*\]\s*)*);'
            r'(?P<tail>[ \t]*(?:@enum:(?P<enum>\w+))?)'
            r'|(?P<junk>\S+)')
        off = 0
        for t in tok.finditer(body):
            if t.group('junk'):
                raise HeaderError('struct %s: cannot parse %r'
                                  % (sname, t.group('junk')))
            ctype = t.group('type')
            if ctype not in C_TYPES:
                raise HeaderError('struct %s: unknown type %s'
                                  % (sname, ctype))
            dims = [c_eval(d, names) for d in
                    re.findall(r'\[([^\]]*)\]', t.group('dims'))]
            esize = C_TYPES[ctype][0]
            size = esize
            for d in dims:
                size *= d
            off = align(off, esize)
            members.append({'name': t.group('name'), 'ctype': ctype,
                            'dims': dims, 'size': size, 'offset': off,
                            'enum': t.group('enum')})
            off += size
        structs[sname] = members
    return structs


def struct_size(members):
    a = max([C_TYPES[m['ctype']][0] for m in members] or [1])
    end = max([m['offset'] + m['size'] for m in members] or [0])
    return align(end, a)


def cc_layout(header, sname, members):
    """(sizeof, [offsetof of each member]) from the C compiler, or None if
    there is no compiler; raises HeaderError if it cannot compile."""
    cc = os.environ.get('CC') or shutil.which('cc') or shutil.which('gcc')
    if not cc or not shutil.which(cc):
        return None
    src = ['#include <stddef.h>', '#include <stdio.h>',
           '#include "%s"' % os.path.abspath(header),
           'int main(void)', '{',
           '\tprintf("%%zu\\n", sizeof(struct %s));' % sname]
    for m in members:
        src.append('\tprintf("%%zu\\n", offsetof(struct %s, %s));'
                   % (sname, m['name']))
    src += ['\treturn 0;', '}']
    with tempfile.TemporaryDirectory() as d:
        c, exe = os.path.join(d, 'layout.c'), os.path.join(d, 'layout')
        with open(c, 'w') as f:
            f.write('\n'.join(src) + '\n')
        r = subprocess.run([cc, '-o', exe, c], capture_output=True, text=True)
        if r.returncode:
            raise HeaderError('cannot compile the layout check of struct %s:'
                              '\n%s' % (sname, r.stderr))
        out = subprocess.run([exe], capture_output=True, text=True,
                             check=True).stdout.split()
    nums = [int(x) for x in out]
    return nums[0], nums[1:]


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
        enums, defines, strings, structs = parse_header(header)
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
        check_all(tap, enums, defines, strings, spec, structs, header)
    except (KeyError, TypeError, AttributeError, ValueError) as e:
        tap.check(False, 'spec %s has the expected structure' % spec_path,
                  '%s: %s' % (type(e).__name__, e))
    return tap.emit()


def check_all(tap, enums, defines, strings, spec, structs=None,
              header=None):
    structs = structs or {}
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

    def max_helpers(what, node, prefix, want):
        """want: the spec renders __PREFIX_MAX and PREFIX_MAX (render-max,
        max-by-define); then the header must have both, right; if not,
        the header must not have PREFIX_MAX."""
        items = enums.get(node.get('enum-name'))
        if items is None:
            return              # reported by group()
        counter, define = c_name('__' + prefix, 'max'), c_name(prefix, 'max')
        cval = dict(items).get(counter)
        dval = defines.get(define, (None,))[0]
        if not want:
            tap.check(dval is None, '%s: no render-max, and the header has no '
                      '%s' % (what, define),
                      'the header defines %s: add "render-max: true"' % define)
            return
        last = max([v for n, v in items if not n.startswith('__')] or [-1])
        tap.check(cval == last + 1 and dval == last,
                  '%s: %s = %s and %s = %s follow the last value %d'
                  % (what, counter, cval, define, dval, last),
                  'the spec renders %s and %s; the header must have both'
                  % (counter, define))

    # operations
    ops = spec.get('operations', {})
    ops_prefix = ops.get('name-prefix', family + '-cmd-')
    group('operation', ops, ops_prefix)
    if spec.get('max-by-define'):
        max_helpers('operations', ops, ops_prefix, True)

    # attribute sets
    for aset in spec.get('attribute-sets', []):
        aprefix = aset.get('name-prefix', '%s-%s-a-' % (family, aset['name']))
        group('set %s attr' % aset['name'], aset, aprefix)
        if spec.get('max-by-define'):
            max_helpers('set %s' % aset['name'], aset, aprefix, True)

    # definitions: enums, flags, constants
    spec_consts = {}
    spec_structs = {}
    for d in spec.get('definitions', []):
        if d['type'] in ('enum', 'flags'):
            dprefix = d.get('name-prefix', '%s-%s-' % (family, d['name']))
            group('%s %s entry' % (d['type'], d['name']), d, dprefix,
                  as_flags=(d['type'] == 'flags'))
            if d['type'] == 'enum':
                max_helpers('enum %s' % d['name'], d, dprefix,
                            bool(d.get('render-max')))
        elif d['type'] == 'const':
            spec_consts[c_name(family + '-', d['name'])] = (d['name'], d.get('value'))
        elif d['type'] == 'struct':
            spec_structs[d['name']] = d
        else:
            tap.check(False, 'definition %s has a known type' % d['name'],
                      'type %r' % d['type'])
    defs = {d['name']: d for d in spec.get('definitions', [])}

    # structs, both ways, member by member
    sizes = {}
    for sname, d in spec_structs.items():
        cname = c_name(family + '-', sname).lower()
        if not tap.check(cname in structs, 'struct %s is struct %s of the '
                         'header' % (sname, cname),
                         'header structs: ' + ', '.join(sorted(structs))):
            continue
        sizes[sname] = check_struct(tap, sname, d, cname, structs[cname],
                                    defs, header)
    for cname in sorted(structs):
        tap.check(any(c_name(family + '-', n).lower() == cname
                      for n in spec_structs),
                  'header struct %s is described by the spec' % cname)

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

    # range checks in the spec use the header's limits (#defines and enum
    # values, by C name; strings: the size with the NUL, less one)
    P = c_name(family + '-', '')
    limits = [('service', 'table-size', 'min', P + 'TABLE_SIZE_MIN', 0),
              ('service', 'table-size', 'max', P + 'TABLE_SIZE_MAX', 0),
              ('backend', 'weight', 'max', P + 'WEIGHT_MAX', 0),
              ('viplb', 'txn-scope', 'max', '__' + P + 'TXN_SCOPE_ALL', 0),
              ('rules', 'table', 'max', P + 'RTABLE_MAX', 0),
              ('rules', 'policy', 'min', P + 'V_ACCEPT', 0),
              ('rules', 'policy', 'max', P + 'V_DROP', 0),
              ('rules', 'chain', 'max-len', P + 'CHAIN_NAME_MAX', -1),
              ('rules', 'target', 'max-len', P + 'CHAIN_NAME_MAX', -1),
              ('rules', 'comment', 'max-len', P + 'COMMENT_MAX', -1)]
    header_names = {n: v for n, (v, _) in defines.items()}
    for items in enums.values():
        header_names.update(items)
    sets = {s['name']: s for s in spec.get('attribute-sets', [])}
    for sname, aname, key, cn, delta in limits:
        attr = next((a for a in sets.get(sname, {}).get('attributes', [])
                     if a.get('name') == aname), {})
        got = attr.get('checks', {}).get(key)
        want = header_names.get(cn)
        if want is not None:
            want += delta
        tap.check(got is not None and got == want,
                  'set %s attr %s checks %s %s == %s%s = %s'
                  % (sname, aname, key, got, cn,
                     ' - %d' % -delta if delta else '', want))

    # references: enum, nested-attributes, struct, flags-mask, op attrs
    enum_defs = {n for n, d in defs.items() if d['type'] in ('enum', 'flags')}
    bad = []
    for aset in spec.get('attribute-sets', []):
        for a in aset.get('attributes', []):
            where = 'set %s attr %s' % (aset['name'], a['name'])
            if 'enum' in a and a['enum'] not in enum_defs:
                bad.append('%s: enum %s' % (where, a['enum']))
            flags_mask = a.get('checks', {}).get('flags-mask')
            if flags_mask is not None and \
                    defs.get(flags_mask, {}).get('type') != 'flags':
                bad.append('%s: flags-mask %s' % (where, flags_mask))
            if 'nested-attributes' in a and a['nested-attributes'] not in sets:
                bad.append('%s: nested-attributes %s'
                           % (where, a['nested-attributes']))
            if 'struct' in a:
                st = a['struct']
                if st not in spec_structs:
                    bad.append('%s: struct %s' % (where, st))
                elif st in sizes and a.get('checks', {}).get('exact-len') \
                        is not None:
                    got = a['checks']['exact-len']
                    tap.check(got == sizes[st], '%s checks exact-len %s == '
                              'sizeof struct %s %s'
                              % (where, got, st, sizes[st]))
    for d in spec_structs.values():
        for m in d.get('members', []):
            if 'enum' in m and m['enum'] not in enum_defs:
                bad.append('struct %s member %s: enum %s'
                           % (d['name'], m['name'], m['enum']))
    for op in ops.get('list', []):
        aset = sets.get(op.get('attribute-set'), {})
        names = {a['name'] for a in aset.get('attributes', [])}
        for kind in ('do', 'dump'):
            for msg in ('request', 'reply'):
                for an in ((op.get(kind) or {}).get(msg) or {}).get(
                        'attributes', []):
                    if an not in names:
                        bad.append('operation %s %s %s: attribute %s of set '
                                   '%s' % (op['name'], kind, msg, an,
                                           op.get('attribute-set')))
    tap.check(not bad, 'every reference of the spec names a definition, '
              'set or attribute it has', 'undefined:\n' + '\n'.join(bad))


# spec member type -> (size, signed); binary and string take "len"
SPEC_SCALARS = {'u8': (1, False), 'u16': (2, False), 'u32': (4, False),
                'u64': (8, False), 's8': (1, True), 's16': (2, True),
                's32': (4, True), 's64': (8, True)}


def check_struct(tap, sname, d, cname, cmembers, defs, header):
    """Compare spec struct definition d with the header's struct cname,
    member by member; returns the header's sizeof (or None)."""
    what = 'struct %s' % sname
    consts = {n: x.get('value') for n, x in defs.items()
              if x['type'] == 'const'}
    enum_of = {x.get('enum-name'): n for n, x in defs.items()
               if x['type'] in ('enum', 'flags')}

    # the spec's own layout
    smembers = []
    off = 0
    for m in d.get('members', []):
        t = m.get('type')
        if t in SPEC_SCALARS:
            size = a = SPEC_SCALARS[t][0]
        elif t in ('binary', 'string'):
            ln = m.get('len')
            size = consts.get(ln, ln) if isinstance(ln, str) else ln
            if not isinstance(size, int):
                tap.check(False, '%s member %s has a len' % (what, m['name']),
                          'len %r' % ln)
                size = 0
            a = 1
        else:
            tap.check(False, '%s member %s has a struct member type'
                      % (what, m['name']), 'type %r' % t)
            size = a = 1
        off = align(off, a)
        smembers.append((m, off, size))
        off += size

    # member by member, in order
    for i in range(max(len(smembers), len(cmembers))):
        if i >= len(cmembers):
            m = smembers[i][0]
            tap.check(False, '%s member %s is in %s' % (what, m['name'], cname),
                      'the header has only %d members' % len(cmembers))
            continue
        c = cmembers[i]
        if i >= len(smembers):
            tap.check(False, '%s.%s is a member of the spec %s'
                      % (cname, c['name'], what),
                      'the spec has only %d members' % len(smembers))
            continue
        m, soff, ssize = smembers[i]
        problems = []
        if m['name'].replace('-', '_') != c['name']:
            problems.append('name: spec %s, header %s' % (m['name'], c['name']))
        csize, csigned, corder = C_TYPES[c['ctype']]
        t = m.get('type')
        if c['dims']:
            want = 'string' if c['ctype'] == 'char' and \
                len(c['dims']) == 1 else 'binary'
            if t != want:
                problems.append('type: %s %s%s is spec %s, not %s'
                                % (c['ctype'], c['name'],
                                   ''.join('[%d]' % x for x in c['dims']),
                                   want, t))
            if 'byte-order' in m:
                problems.append('byte-order on an array')
        else:
            st = SPEC_SCALARS.get(t)
            if st != (csize, csigned) and \
                    not (c['ctype'] == 'char' and t in ('u8', 's8')):
                problems.append('type: %s is not %s' % (c['ctype'], t))
            if m.get('byte-order') != corder:
                problems.append('byte-order: spec %s, header %s (%s)'
                                % (m.get('byte-order'), corder, c['ctype']))
        if ssize != c['size']:
            problems.append('size: spec %d, header %d' % (ssize, c['size']))
        if soff != c['offset']:
            problems.append('offset: spec %d, header %d'
                            % (soff, c['offset']))
        want_enum = enum_of.get(c['enum']) if c['enum'] else None
        if c['enum'] and want_enum is None:
            problems.append('the header says enum %s, which no definition '
                            'of the spec has as enum-name' % c['enum'])
        elif m.get('enum') != want_enum:
            problems.append('enum: spec %s, header %s'
                            % (m.get('enum'), c['enum'] and
                               'enum %s (spec %s)' % (c['enum'], want_enum)))
        tap.check(not problems, '%s member %s <-> %s.%s (offset %d, %d '
                  'bytes)' % (what, m['name'], cname, c['name'],
                              c['offset'], c['size']), '\n'.join(problems))

    csize = struct_size(cmembers)
    ssize = align(off, max([SPEC_SCALARS.get(m.get('type'), (1,))[0]
                            for m in d.get('members', [])] or [1]))
    tap.check(ssize == csize, '%s size %d == sizeof(struct %s) %d'
              % (what, ssize, cname, csize))

    # the compiler's view of the header, when there is a compiler
    if header is not None:
        try:
            got = cc_layout(header, cname, cmembers)
        except (HeaderError, OSError, subprocess.SubprocessError,
                ValueError) as e:
            tap.check(False, 'the C compiler lays out struct %s' % cname,
                      str(e))
            return csize
        if got is None:
            tap.check(True, 'the C compiler lays out struct %s as computed '
                      '# SKIP no C compiler' % cname)
        else:
            want = (csize, [c['offset'] for c in cmembers])
            tap.check(got == want, 'the C compiler lays out struct %s as '
                      'computed (sizeof %d)' % (cname, got[0]),
                      'compiler %s, computed %s' % (got, want))
    return csize


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
