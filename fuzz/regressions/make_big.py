#!/usr/bin/env python3
"""Write the large regressions of FINDINGS.md. check-2.bin, check-3.bin and
check-6.bin are also kept in the repository; the others are megabytes, so
this script makes them:

    python3 fuzz/regressions/make_big.py [DIR]   # default: this folder

check-2 ... check-6: criteria files well under the 8 MiB limit that made
`thidua check` (release build, 256 MiB stack) overflow its stack instead of
reporting (F2; check-6, an `else if` chain, is F7). data_json-1: a JSON data
file whose distinct field names took the reader quadratic time before the
10 000-column limit applied (F3).
"""
import json
import pathlib, sys

HEAD = 'campaign c {\n  indicator x : number\n'

def nested_if(n):   # 5 000 unbracketed `if … then … else` (~125 KB)
    return HEAD + '  target t: ' + 'if x > 1 then ' * n + 'x > 1' + ' else x > 1' * n + '\n}\n'

def not_chain(n):   # 100 000 `not` (~400 KB)
    return HEAD + '  target t: ' + 'not ' * n + 'x > 1\n}\n'

def at_chain(n):    # 1 000 000 `@2023` postfixes (~5 MB)
    return HEAD + '  target t: x' + '@2023' * n + ' > 1\n}\n'

def let_chain(n):   # 300 000 `let`s declared before what they use (~7 MB)
    lets = ''.join(f'  let a{i} = a{i + 1}\n' for i in range(n - 1))
    return HEAD + lets + f'  let a{n - 1} = x\n  target t: a0 > 1\n}}\n'

def else_if_chain(n):   # 5 000 `… else if …` (~105 KB); nests like `if`
    return HEAD + '  let v = ' + 'if x > 1 then 1 else ' * n + '0\n  target t: v > 1\n}\n'

def wide_json(n):   # one unit with 100 000 distinct fields (~1.3 MB)
    unit = {'id': 'u'}
    unit.update({f'k{i}': 1 for i in range(n)})
    return json.dumps([unit])

CASES = {
    'check-2.bin': lambda: nested_if(5_000),
    'check-3.bin': lambda: not_chain(100_000),
    'check-4.bin': lambda: at_chain(1_000_000),
    'check-5.bin': lambda: let_chain(300_000),
    'data_json-1.bin': lambda: wide_json(100_000),
    'check-6.bin': lambda: else_if_chain(5_000),
}

if __name__ == '__main__':
    out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else pathlib.Path(__file__).parent
    out.mkdir(parents=True, exist_ok=True)
    for name, make in CASES.items():
        (out / name).write_text(make(), encoding='utf-8')
        print(name, (out / name).stat().st_size, 'bytes')
