#!/usr/bin/env python3
"""Rebuild fuzz/corpus/<target>/ (the committed seed corpora) from the
repository's examples, stdlib and tests/corpus. Run from anywhere:
    python3 fuzz/seed.py
"""
import csv, io, json, os, pathlib, shutil

FUZZ = pathlib.Path(__file__).resolve().parent
REPO = FUZZ.parent
OUT = FUZZ / "corpus"

def rel(p):
    return str(p.relative_to(REPO)).replace("/", "__")

def files(pattern_roots, suffix):
    out = []
    for root in pattern_roots:
        out += sorted((REPO / root).rglob("*" + suffix))
    return out

def put(target, name, data):
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)

shutil.rmtree(OUT, ignore_errors=True)

# Criteria files: parse, check, fmt.
for p in files(["examples", "stdlib", "tests/corpus"], ".thidua"):
    for t in ["parse", "check", "fmt"]:
        put(t, rel(p), p.read_bytes())

csvs = files(["examples", "tests/corpus"], ".csv")
jsons = [p for p in files(["examples", "tests/corpus"], ".json")]

# Data of the fixed plan first, then every other data file (other columns
# still exercise the reader).
for p in csvs:
    put("data_csv", rel(p), p.read_bytes())
    put("eval", rel(p), p.read_bytes())
for p in jsons:
    put("data_json", rel(p), p.read_bytes())

# The fixed plan's data as JSON too (numbers as JSON numbers, booleans as
# booleans, the rest as strings), both shapes.
def to_json_rows(path):
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    out = []
    for r in rows:
        o = {}
        for k, v in r.items():
            if v in ("true", "false"):
                o[k] = v == "true"
            else:
                try:
                    float(v)
                    o[k] = json.loads(v) if not v.startswith("0") or v.startswith("0.") or v == "0" else v
                except ValueError:
                    o[k] = v
        out.append(o)
    return out

bg = REPO / "examples/bac_giang_2024/data.csv"
rows = to_json_rows(bg)
put("data_json", "bac_giang_2024__array.json",
    json.dumps(rows, ensure_ascii=False, indent=1).encode())
put("data_json", "bac_giang_2024__units.json",
    json.dumps({"units": rows}, ensure_ascii=False).encode())

# eval_multi: first byte = plan index << 2 | vi << 1 | json.
multi = []
for line in (FUZZ / "src/lib.rs").read_text().split("MULTI_PLANS: &[&str] = &[")[1].split("];")[0].splitlines():
    line = line.strip().strip(",").strip('"')
    if line:
        multi.append(line)
for i, plan in enumerate(multi):
    plan = REPO / plan
    if plan.name == "plan.thidua":
        cands = sorted(plan.parent.glob("data*.csv")) + sorted(plan.parent.glob("data*.json"))
    else:
        cands = [plan.with_suffix(".csv")]
    for c in cands:
        if not c.exists():
            continue
        sel = (i << 2) | (2 if "-vi" in c.name else 0) | (1 if c.suffix == ".json" else 0)
        put("eval_multi", f"{i:02}_{rel(c)}", bytes([sel]) + c.read_bytes())

total = sum(f.stat().st_size for f in OUT.rglob("*") if f.is_file())
for d in sorted(OUT.iterdir()):
    print(f"{d.name}: {len(list(d.iterdir()))} files")
print(f"total {total} bytes")
