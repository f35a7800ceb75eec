#!/usr/bin/env bash
# shards.sh WORK_DIR
# `kgrade run --list` and `--only`: the ids --list prints are the ones
# --only grades; two shards of a run cover its evaluations once each, carry
# the same run_id and say which ids they hold; a bad id list exits 2.
set -u
work=$1
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }
opts=(--workload softmax,rmsnorm --size-class smoke --min-samples 3 --max-samples 3 --quiet)
"$KGRADE" run "${opts[@]}" --list >"$work/list.txt" || fail "--list: exit $?"
[ "$(grep -c '^[0-9]' "$work/list.txt")" = 7 ] || fail "--list: $(cat "$work/list.txt")"
"$KGRADE" run "${opts[@]}" --only 1-3 --out "$work/a.jsonl" >/dev/null || fail "--only 1-3"
"$KGRADE" run "${opts[@]}" --only 4,5-7 --out "$work/b.jsonl" >/dev/null || fail "--only 4,5-7"
python3 - "$work" <<'PY' || exit 1
import json, sys
work = sys.argv[1]
listed = {}
for line in open(f"{work}/list.txt"):
    cells = line.rstrip("\n").split("\t")
    if cells[0].isdigit():
        listed[int(cells[0])] = (cells[1], cells[2])
seen = []
ids = {}
for name, want in (("a", "1-3"), ("b", "4,5-7")):
    recs = [json.loads(l) for l in open(f"{work}/{name}.jsonl")]
    s = recs[0]["settings"]
    if s.get("only") != want:
        print(f"FAIL: {name}: only {s.get('only')}, want {want}")
        sys.exit(1)
    ids[name] = s.get("run_id")
    seen += [(r["workload"], r["shape"]) for r in recs if r["type"] == "shape"]
if ids["a"] != ids["b"] or not ids["a"]:
    print(f"FAIL: run ids {ids}")
    sys.exit(1)
if sorted(seen) != sorted(listed.values()) or len(seen) != 7:
    print(f"FAIL: the shards hold {seen}, --list {listed}")
    sys.exit(1)
for name in ("a", "b"):
    recs = [json.loads(l) for l in open(f"{work}/{name}.jsonl")]
    if recs[0]["settings"].get("evaluations") != 7:
        print(f"FAIL: {name}: settings.evaluations {recs[0]['settings'].get('evaluations')}, want 7")
        sys.exit(1)
    for r in recs:
        if r["type"] == "shape" and listed.get(r.get("evaluation")) != (r["workload"], r["shape"]):
            print(f"FAIL: {name}: evaluation {r.get('evaluation')} is {r['workload']} {r['shape']}")
            sys.exit(1)
a = [(r["workload"], r["shape"]) for r in map(json.loads, open(f"{work}/a.jsonl")) if r["type"] == "shape"]
if a != [listed[i] for i in (1, 2, 3)]:
    print(f"FAIL: shard 1-3 holds {a}")
    sys.exit(1)
print(f"shards: 7 evaluations, ids as listed, one run_id {ids['a']}")
PY
"$KGRADE" run "${opts[@]}" --only 0 --list >/dev/null 2>&1
[ $? = 2 ] || fail "--only 0: want exit 2"
"$KGRADE" run "${opts[@]}" --only 3-1 --list >/dev/null 2>&1
[ $? = 2 ] || fail "--only 3-1: want exit 2"
# --continue: a finished shard is left as it is (exit 0); a shard cut
# after its first evaluation is continued, nothing graded twice; a missing
# file is started.
cp "$work/a.jsonl" "$work/a.before"
"$KGRADE" run "${opts[@]}" --only 1-3 --out "$work/a.jsonl" --continue >/dev/null || fail "--continue on a finished shard: exit $?"
cmp -s "$work/a.jsonl" "$work/a.before" || fail "--continue changed a finished shard"
head -n 2 "$work/b.jsonl" >"$work/c.jsonl"
"$KGRADE" run "${opts[@]}" --only 4,5-7 --out "$work/c.jsonl" --continue >/dev/null || fail "--continue on a cut shard: exit $?"
"$KGRADE" run "${opts[@]}" --only 4,5-7 --out "$work/d.jsonl" --continue >/dev/null || fail "--continue on a missing file: exit $?"
python3 - "$work" <<'PY' || exit 1
import json, sys
work = sys.argv[1]
for name in ("c", "d"):
    recs = [json.loads(l) for l in open(f"{work}/{name}.jsonl")]
    ids = [r["evaluation"] for r in recs if r["type"] == "shape"]
    types = [r["type"] for r in recs]
    if sorted(ids) != [4, 5, 6, 7] or types[-1] != "summary":
        print(f"FAIL: --continue {name}: evaluations {ids}, records {types}")
        sys.exit(1)
print("--continue: finished kept, cut continued, missing started")
PY
# kgrade merge: the shards into one run; duplicates, missing evaluations
# and hostile shards (another run, torn, ids out of range or not the
# shard's, other kernel sources, no header) refused or repaired, never a
# crash.
merge() { "$KGRADE" merge --quiet "$@" 2>"$work/merge.err"; }
merge "$work/b.jsonl" "$work/a.jsonl" --out "$work/m.jsonl"
[ $? -le 1 ] || fail "merge a b: exit $?: $(cat "$work/merge.err")"
cp "$work/a.jsonl" "$work/a2.jsonl"
merge "$work/a2.jsonl" "$work/a.jsonl" "$work/b.jsonl" --out "$work/dup.jsonl"
[ $? -le 1 ] || fail "merge with a duplicate shard: exit $?"
merge "$work/a.jsonl" --out "$work/part.jsonl"
[ $? = 3 ] || fail "merge of shard 1-3 alone: want exit 3 (evaluations missing), got $?"
grep -q "4 of 7 evaluations missing: 4-7" "$work/merge.err" || fail "missing: $(cat "$work/merge.err")"
"$KGRADE" run "${opts[@]}" --seed 2 --only 1 --out "$work/other.jsonl" >/dev/null
merge "$work/a.jsonl" "$work/other.jsonl" --out "$work/x.jsonl"
[ $? = 2 ] || fail "a shard of another run was not refused"
grep -q "other.jsonl: refused, not a shard of the run in .*a.jsonl: settings.seed is 1 there, 2 here" \
    "$work/merge.err" || fail "another run: $(cat "$work/merge.err")"
[ -e "$work/x.jsonl" ] && fail "a refused merge wrote its output"
: >"$work/empty.jsonl"
python3 - "$work" <<'PY' || exit 1
import json, sys
work = sys.argv[1]
b = open(f"{work}/b.jsonl").read().splitlines(keepends=True)
# torn: the last shape record cut in the middle, no summary after it
shapes = [i for i, l in enumerate(b) if json.loads(l)["type"] == "shape"]
open(f"{work}/torn.jsonl", "w").write("".join(b[: shapes[-1]]) + b[shapes[-1]][:300])
recs = [json.loads(l) for l in b]
def write(name, recs):
    open(f"{work}/{name}.jsonl", "w").write("".join(json.dumps(r) + "\n" for r in recs))
out = json.loads(json.dumps(recs)); [r for r in out if r["type"] == "shape"][0]["evaluation"] = 99
write("range", out)
out = json.loads(json.dumps(recs)); [r for r in out if r["type"] == "shape"][0]["evaluation"] = 2
write("notmine", out)
out = json.loads(json.dumps(recs)); [r for r in out if r["type"] == "shape"][1]["candidate"]["source_sha256"] = "0" * 64
write("source", out)
PY
merge "$work/a.jsonl" "$work/torn.jsonl" --out "$work/t.jsonl"
[ $? = 3 ] || fail "torn shard: want exit 3 (its cut evaluation missing)"
grep -q "torn.jsonl:[0-9]*: not a JSON object" "$work/merge.err" && grep -q "missing: 7 " "$work/merge.err" ||
    fail "torn shard: $(cat "$work/merge.err")"
merge "$work/a.jsonl" "$work/range.jsonl" --out "$work/r.jsonl"
[ $? = 3 ] && grep -q "range.jsonl: a shape record (.*) with no evaluation id in 1..7: not used" "$work/merge.err" ||
    fail "an id out of range: $(cat "$work/merge.err")"
merge "$work/a.jsonl" "$work/notmine.jsonl" --out "$work/n.jsonl"
[ $? = 3 ] && grep -q "notmine.jsonl: evaluation 2 is not one of the shard's (settings.only): not used" "$work/merge.err" ||
    fail "an id not the shard's: $(cat "$work/merge.err")"
merge "$work/a.jsonl" "$work/source.jsonl" --out "$work/s.jsonl"
[ $? = 2 ] && grep -q "source.jsonl: refused, the candidate set tuned of .* was built from other sources" "$work/merge.err" ||
    fail "other kernel sources: $(cat "$work/merge.err")"
merge "$work/empty.jsonl" "$work/a.jsonl" "$work/b.jsonl" --out "$work/e.jsonl"
[ $? -le 1 ] && grep -q "empty.jsonl: no run header" "$work/merge.err" ||
    fail "an empty shard: $(cat "$work/merge.err")"
python3 - "$work" <<'PY' || exit 1
import json, sys
work = sys.argv[1]
load = lambda n: [json.loads(l) for l in open(f"{work}/{n}.jsonl")]
m, dup, a, b = load("m"), load("dup"), load("a"), load("b")
ids = [r["evaluation"] for r in m if r["type"] == "shape"]
if ids != list(range(1, 8)) or m[-1]["type"] != "summary" or "only" in m[0]["settings"]:
    print(f"FAIL: merged ids {ids}, last {m[-1]['type']}, settings.only {m[0]['settings'].get('only')}")
    sys.exit(1)
if m[0]["merged"]["missing"] != "" or m[0]["merged"]["duplicates_dropped"] != 0:
    print(f"FAIL: merged: {m[0]['merged']}")
    sys.exit(1)
# Each merged record is its shard's record, unchanged.
shard = {r["evaluation"]: r for r in a + b if r["type"] == "shape"}
for r in m:
    if r["type"] == "shape" and r != shard[r["evaluation"]]:
        print(f"FAIL: evaluation {r['evaluation']} changed in the merge")
        sys.exit(1)
if dup[0]["merged"]["duplicates_dropped"] != 3 or [s["taken"] for s in dup[0]["merged"]["shards"]] != [3, 0, 4]:
    print(f"FAIL: duplicates: {dup[0]['merged']}")
    sys.exit(1)
dup_shapes = [r for r in dup if r["type"] == "shape"]
if [r["secret"] for r in dup_shapes] != [r["secret"] for r in m if r["type"] == "shape"]:
    print("FAIL: the merge with a duplicate shard kept other records")
    sys.exit(1)
print("merge: 7 evaluations unchanged, 3 duplicates dropped (a.jsonl kept, the first name)")
PY
"$KGRADE" report "$work/m.jsonl" | grep -q "Merged from 2 shards of run .*Every evaluation present" ||
    fail "the report of a merged run does not say so"
