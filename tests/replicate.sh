#!/usr/bin/env bash
# replicate.sh WORK_DIR
# `kgrade replicate` on a real results file: the replication runs with the
# recorded settings (checked in its header) and its verdict quotes both
# runs' figures. Timing on a shared CPU may or may not replicate, so the
# verdict of the plain replication is not asserted; the copies below make
# the verdict certain: a run whose candidate was recorded 4 times slower
# (not replicated, the replication higher), a recorded device of another
# name run here (not comparable, exit 3), a source that differs from its
# recorded hash (refused before running, exit 2).
set -u
work=$1
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }
"$KGRADE" run --workload softmax --size-class smoke --min-samples 15 --max-samples 15 \
    --resamples 1000 --quiet --out "$work/a.jsonl" >"$work/a.log" 2>&1 || fail "kgrade run"
python3 - "$work" <<'PY' || fail "could not edit the copies"
import json, sys
work = sys.argv[1]
lines = [json.loads(l) for l in open(f"{work}/a.jsonl")]
def write(name, edit):
    with open(f"{work}/{name}", "w") as f:
        for r in lines:
            r = json.loads(json.dumps(r))
            edit(r)
            if r["type"] != "summary":  # made again from the edited samples
                f.write(json.dumps(r) + "\n")
def slower(r):
    if r["type"] == "shape":
        r["candidate"]["samples_s"] = [x * 4 for x in r["candidate"]["samples_s"]]
def renamed(r):
    if r["type"] == "run":
        r["device"]["name"] = "Other GPU"
def changed(r):
    if r["type"] == "shape" and r["shape"] == "aligned":
        r["candidate"]["source_sha256"] = "0" * 64
write("slower.jsonl", slower)
write("renamed.jsonl", renamed)
write("changed.jsonl", changed)
PY
"$KGRADE" replicate --out "$work/again.jsonl" "$work/a.jsonl" >"$work/again.md" 2>"$work/again.err"
rc=$?
[ $rc = 0 ] || [ $rc = 1 ] || fail "replicate: exit $rc: $(cat "$work/again.err")"
python3 - "$work" <<'PY' || exit 1
import json, re, sys
work = sys.argv[1]
def header(p):
    return next(json.loads(l) for l in open(p) if json.loads(l)["type"] == "run")
a, b = header(f"{work}/a.jsonl")["settings"], header(f"{work}/again.jsonl")["settings"]
for k in ("size_class", "seed_exact", "baseline", "candidate", "workloads", "min_samples",
          "max_samples", "bootstrap_resamples", "hot"):
    if a.get(k) != b.get(k):
        print(f"FAIL: the replication's {k} is {b.get(k)}, the original's {a.get(k)}")
        sys.exit(1)
summary = next(json.loads(l) for l in open(f"{work}/a.jsonl") if json.loads(l)["type"] == "summary")
g = summary["workloads"][0]
md = open(f"{work}/again.md").read()
want = f"original {g['geomean']:.3g}x [{g['lo']:.3g}, {g['hi']:.3g}]"
if want not in md or not re.search(r"\*\*(replicated|not replicated)\*\*", md):
    print(f"FAIL: the verdict does not quote '{want}'")
    sys.exit(1)
PY
"$KGRADE" replicate --out "$work/slower-again.jsonl" "$work/slower.jsonl" >"$work/slower.md" 2>&1
[ $? = 1 ] || fail "slower: want exit 1 (not replicated)"
grep -q 'not replicated\*\* (the replication.s geomean is [0-9.]*% higher)' "$work/slower.md" ||
    fail "slower: no 'not replicated ... higher'"
"$KGRADE" replicate --device opencl:0 --out "$work/renamed-again.jsonl" "$work/renamed.jsonl" \
    >"$work/renamed.md" 2>&1
[ $? = 3 ] || fail "renamed: want exit 3 (not comparable)"
grep -q 'not comparable\*\*: device name: Other GPU there' "$work/renamed.md" || fail "renamed: reason"
"$KGRADE" replicate --out "$work/changed-again.jsonl" "$work/changed.jsonl" >"$work/changed.md" 2>&1
[ $? = 2 ] || fail "changed: want exit 2"
grep -q 'softmax, set tuned: its source differs from the one the results record' "$work/changed.md" ||
    fail "changed: the set is not named"
[ ! -e "$work/changed-again.jsonl" ] || fail "changed: it ran anyway"
echo "replicate: settings, verdict figures, not replicated, not comparable, changed source: as expected"
