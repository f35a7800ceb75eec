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
