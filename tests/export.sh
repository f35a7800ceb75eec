#!/usr/bin/env bash
# export.sh WORK_DIR
# `kgrade export` on real results files: a fresh smoke run of softmax and
# rmsnorm, and tests/data/smoke-extend-attention.jsonl (a real run whose
# names hold LaTeX specials). The CSV and JSON figures are checked against
# the samples in the results file, not against themselves.
set -u
work=$1
root=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }
"$KGRADE" run --workload softmax,rmsnorm --size-class smoke --min-samples 5 --max-samples 5 \
    --resamples 1000 --quiet --out "$work/run.jsonl" >"$work/run.log" 2>&1 ||
    fail "kgrade run: $(tail -3 "$work/run.log")"
for f in csv json tex; do
    "$KGRADE" export --format "${f/tex/latex}" "$work/run.jsonl" >"$work/run.$f" 2>"$work/$f.err" ||
        fail "export --format $f: $(cat "$work/$f.err")"
done
"$KGRADE" export --format latex "$root/tests/data/smoke-extend-attention.jsonl" >"$work/ea.tex" ||
    fail "export latex of the extend attention file"
python3 - "$work" <<'PY' || exit 1
import csv, json, statistics, sys
work = sys.argv[1]
def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)
recs = [json.loads(l) for l in open(f"{work}/run.jsonl")]
shapes = [r for r in recs if r["type"] == "shape"]
want = {(r["workload"], r["shape"], role): r[role] for r in shapes
        for role in ("baseline", "candidate")}
rows = list(csv.DictReader(open(f"{work}/run.csv", newline="")))
sets = [r for r in rows if r["kind"] == "set"]
groups = [r for r in rows if r["kind"] == "summary"]
if len(sets) != 2 * len(shapes):
    fail(f"{len(sets)} set rows for {len(shapes)} shapes")
if sorted(g["workload"] for g in groups) != ["overall", "rmsnorm", "softmax"]:
    fail(f"summary rows: {[g['workload'] for g in groups]}")
for r in sets:
    s = want[(r["workload"], r["shape"], r["role"])]
    med = statistics.median(s["samples_s"])
    if abs(float(r["median_s"]) - med) > 1e-9 * med or int(r["samples"]) != len(s["samples_s"]):
        fail(f"{r['shape']} {r['role']}: median {r['median_s']}, samples give {med}")
    if not float(r["median_lo_s"]) <= med <= float(r["median_hi_s"]):
        fail(f"{r['shape']} {r['role']}: interval does not hold the median")
    if r["status"] != s["status"] or r["set"] != s["set"]:
        fail(f"{r['shape']} {r['role']}: status/set")
summary = next(r for r in recs if r["type"] == "summary")
soft = next(g for g in summary["workloads"] if g["workload"] == "softmax")
row = next(g for g in groups if g["workload"] == "softmax")
if abs(float(row["speedup"]) - soft["geomean"]) > 1e-6 * soft["geomean"] or row["stop_reason"] != "measurement":
    fail(f"softmax summary row {row}")
doc = json.load(open(f"{work}/run.json"))
if len(doc["sets"]) != 2 * len(shapes) or doc["run"]["type"] != "run":
    fail("json: sets or run header")
for o in doc["sets"]:
    med = statistics.median(want[(o["workload"], o["shape"], o["role"])]["samples_s"])
    if abs(o["median_s"] - med) > 1e-12 * med:
        fail(f"json {o['shape']} {o['role']} median")
tex = open(f"{work}/run.tex").read()
if tex.count("\\begin{table}") != 2 or tex.count("\\toprule") != 2 or "geomean" not in tex:
    fail("latex: one booktabs table per workload")
ea = open(f"{work}/ea.tex").read()
if "extend\\_attention" not in ea or "extend_attention" in ea.replace("extend\\_attention", ""):
    fail("latex: underscores not escaped")
print(f"export: {len(sets)} set rows and {len(groups)} summary rows match the samples; json, latex as expected")
PY
"$KGRADE" export --format pdf "$work/run.jsonl" >/dev/null 2>&1
[ $? = 2 ] || fail "--format pdf: want exit 2"
"$KGRADE" export "$work/none.jsonl" >/dev/null 2>&1
[ $? = 2 ] || fail "a missing file: want exit 2"
