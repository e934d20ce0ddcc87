#!/usr/bin/env python3
"""Checks every #include in src/<module>/*.{h,cc} against the module table.

    check_layering.py TABLE SRC_DIR [DOC]
                                        exit 0: every include keeps the rules
                                        (and DOC's module map matches TABLE);
                                        exit 1: one line per broken rule
    check_layering.py --self-test       runs the checker on made-up trees with
                                        known violations (exit 0 when it finds them)

TABLE is BUILD/vigil_modules.txt, written by cmake/VigilModules.cmake from the
vigil_module() declarations in CMakeLists.txt (the one dependency table):
    third_party TAG [REGEX]             includes <PATH> matching REGEX belong to TAG
    module NAME deps=A,B public=T private=U
The rules, for a file of module M:
  - #include "X/..." with X a module: X is M or one of M's deps;
  - #include <PATH> of a third-party TAG: M links TAG (public or private);
  - in a header (.h), a TAG M links only privately is an error: its users
    include that header too, so TAG belongs in M's public list;
  - every directory under src/ is a module of the table.
DOC (docs/architecture.md) has the table as a Markdown table under
"## Modules": level | `module` | depends on | third-party public | private;
each row must match TABLE, and a module's level is 1 + its deepest dependency's.
The link checks (vigil_link_check_*) catch calls across undeclared edges;
this test catches what a link cannot: header-only includes.
"""
import os
import re
import sys
import tempfile

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def read_table(path):
    third_party, modules = {}, {}
    with open(path, encoding='utf-8') as f:
        for n, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith('#'):
                continue
            parts = line.split()
            if parts[0] == 'third_party' and len(parts) in (2, 3):
                if len(parts) == 3:   # a library without headers (threads) has no regex
                    third_party[parts[1]] = re.compile(parts[2])
            elif parts[0] == 'module' and len(parts) >= 2:
                fields = dict(p.split('=', 1) for p in parts[2:])
                modules[parts[1]] = {k: [v for v in fields.get(k, '').split(',') if v]
                                     for k in ('deps', 'public', 'private')}
            else:
                raise SystemExit(f'{path}:{n}: not a table line: {line!r}')
    return third_party, modules


def check(third_party, modules, src_dir):
    errors = []
    for d in sorted(os.listdir(src_dir)):
        if not os.path.isdir(os.path.join(src_dir, d)):
            continue
        if d not in modules:
            errors.append(f'src/{d}/: a directory that is no module of the table '
                          f'(declare it with vigil_module({d} ...) in CMakeLists.txt)')
            continue
        rule = modules[d]
        for name in sorted(os.listdir(os.path.join(src_dir, d))):
            if not name.endswith(('.h', '.cc')):
                continue
            rel = f'src/{d}/{name}'
            with open(os.path.join(src_dir, d, name), encoding='utf-8', errors='replace') as f:
                for n, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if m:
                        errors += check_include(rel, n, m.group(1), m.group(2), d, rule, third_party, modules,
                                                name.endswith('.h'))
    return errors


def check_include(rel, n, quote, path, module, rule, third_party, modules, is_header):
    where = f'{rel}:{n}: #include {quote}{path}{">" if quote == "<" else quote}'
    first = path.split('/', 1)[0]
    if quote == '"' and '/' in path and first in modules:
        if first == module or first in rule['deps']:
            return []
        deps = ', '.join(rule['deps']) or 'none'
        return [f'{where}: module {module} may include only {module}/ and its dependencies ({deps}); '
                f'rule: {module} -> {deps} (the vigil_module({module} DEPS ...) line in CMakeLists.txt)']
    for tag, regex in third_party.items():
        if not regex.search(path):
            continue
        linked = rule['public'] + rule['private']
        if tag not in linked:
            return [f'{where}: {tag} is not linked by module {module} (links: {", ".join(linked) or "none"}); '
                    f'rule: only modules that name {tag} in vigil_module() include its headers']
        if is_header and tag not in rule['public']:
            return [f'{where}: a header of module {module} includes {tag}, which {module} links PRIVATE; '
                    f'rule: third-party headers in a module\'s headers are PUBLIC']
        return []
    return []


def cell_names(cell):
    cell = re.sub(r'\([^)]*\)', '', cell)   # notes in parentheses
    return sorted(n.strip(' `') for n in cell.split(',') if n.strip(' `') not in ('', '–', '-'))


def check_doc(modules, doc_path):
    """The module map in doc_path against the table: one error per difference."""
    with open(doc_path, encoding='utf-8') as f:
        text = f.read()
    m = re.search(r'^## Modules.*?(?=^## )', text, re.M | re.S)
    if not m:
        return [f'{doc_path}: no "## Modules" section with the module map']
    rows = {}
    for line in m.group(0).splitlines():
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if len(cells) == 5 and re.fullmatch(r'`\w+`', cells[1]):
            rows[cells[1].strip('`')] = cells
    errors = []
    levels = {}
    for name, rule in modules.items():   # declaration order: dependencies first
        levels[name] = 1 + max((levels[d] for d in rule['deps']), default=-1)
        if name not in rows:
            errors.append(f'{doc_path}: the module map has no row for module {name}')
            continue
        level, _, deps, public, private = rows.pop(name)
        want = {'level': str(levels[name]), 'depends on': sorted(rule['deps']),
                'third-party public': sorted(rule['public']), 'third-party private': sorted(rule['private'])}
        got = {'level': level, 'depends on': cell_names(deps),
               'third-party public': cell_names(public), 'third-party private': cell_names(private)}
        for k in want:
            if want[k] != got[k]:
                errors.append(f'{doc_path}: module map row {name}: "{k}" says {got[k]}, '
                              f'CMakeLists.txt says {want[k]}')
    for name in rows:
        errors.append(f'{doc_path}: the module map has a row for {name}, which CMakeLists.txt does not declare')
    return errors


def self_test():
    table = ('third_party onnxruntime ^onnxruntime\n'
             'third_party nlohmann_json ^nlohmann/\n'
             'module core deps= public= private=\n'
             'module inference deps=core public= private=onnxruntime,nlohmann_json\n'
             'module pipeline deps=core,inference public=nlohmann_json private=\n')
    files = {
        'core/ok.h': '#include <vector>\n#include "core/error.h"\n',
        'inference/ok.cc': '#include "inference/backend.h"\n#include <onnxruntime_cxx_api.h>\n',
        'pipeline/ok.h': '#include <nlohmann/json.hpp>\n#include "inference/backend.h"\n',
    }
    bad = {
        'core/up.h': ('\n#include "pipeline/engine.h"\n',
                      'src/core/up.h:2: #include "pipeline/engine.h": module core may include only core/'),
        'pipeline/ort.cc': ('#include <onnxruntime_cxx_api.h>\n',
                            'src/pipeline/ort.cc:1: #include <onnxruntime_cxx_api.h>: onnxruntime is not linked'),
        'inference/pub.h': ('#include <nlohmann/json.hpp>\n',
                            'src/inference/pub.h:1: #include <nlohmann/json.hpp>: a header of module inference'),
        'stray/x.cc': ('', 'src/stray/: a directory that is no module'),
    }
    with tempfile.TemporaryDirectory() as tmp:
        tpath = os.path.join(tmp, 'table.txt')
        with open(tpath, 'w') as f:
            f.write(table)
        third_party, modules = read_table(tpath)
        src = os.path.join(tmp, 'src')

        def write(rel, text):
            os.makedirs(os.path.dirname(os.path.join(src, rel)), exist_ok=True)
            with open(os.path.join(src, rel), 'w') as f:
                f.write(text)

        for rel, text in files.items():
            write(rel, text)
        clean = check(third_party, modules, src)
        if clean:
            print('self-test FAIL: a clean tree gave errors:\n  ' + '\n  '.join(clean))
            return 1
        for rel, (text, _) in bad.items():
            write(rel, text)
        found = check(third_party, modules, src)
        missing = [want for _, want in bad.values() if not any(e.startswith(want) for e in found)]
        if missing or len(found) != len(bad):
            print('self-test FAIL: expected errors not reported:\n  ' + '\n  '.join(missing) +
                  '\nreported:\n  ' + '\n  '.join(found))
            return 1
        doc = os.path.join(tmp, 'doc.md')
        rows = ('## Modules\n\n| level | module | depends on | public | private |\n|---|---|---|---|---|\n'
                '| 0 | `core` | – | – | – |\n| 1 | `inference` | core | – | onnxruntime (ORT), nlohmann_json |\n')
        with open(doc, 'w') as f:
            f.write(rows + '| 2 | `pipeline` | core, inference | nlohmann_json | – |\n\n## Next\n')
        if check_doc(modules, doc):
            print('self-test FAIL: a matching module map gave errors:\n  ' + '\n  '.join(check_doc(modules, doc)))
            return 1
        with open(doc, 'w') as f:
            f.write(rows + '| 1 | `pipeline` | core | nlohmann_json | – |\n\n## Next\n')
        doc_errors = check_doc(modules, doc)
        if len(doc_errors) != 2 or not all('module map row pipeline' in e for e in doc_errors):
            print('self-test FAIL: a wrong module map row (level, depends on) was not reported twice:\n  ' +
                  '\n  '.join(doc_errors))
            return 1
    print(f'self-test ok: a clean tree passes; {len(bad)} violations reported, e.g.\n  {found[0]}\n'
          f'a wrong module map row is reported, e.g.\n  {doc_errors[1]}')
    return 0


def main(argv):
    if argv[1:] == ['--self-test']:
        return self_test()
    if len(argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    third_party, modules = read_table(argv[1])
    errors = check(third_party, modules, argv[2])
    if len(argv) == 4:
        errors += check_doc(modules, argv[3])
    for e in errors:
        print(e)
    if errors:
        print(f'{len(errors)} include(s) break the module layering')
        return 1
    print(f'layering ok: {len(modules)} modules, every include in {argv[2]} follows the table')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
