#!/usr/bin/env bash
# compare.sh WORK_DIR
# `kgrade compare` on real results files: two runs of the same grading on
# this device (nothing differs but the timings); the first run edited to
# stand for another device twice as fast (every sample halved: each row
# `faster`, ratio 2); and with one set's source hash changed (its rows not
# comparable, the source listed as differing). Bad input exits 2.
set -u
work=$1
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }
grade() {
    "$KGRADE" run --workload softmax --size-class smoke --min-samples 15 --max-samples 15 \
        --resamples 1000 --quiet --out "$1" >"$1.log" 2>&1 || fail "kgrade run: $(tail -3 "$1.log")"
}
grade "$work/a.jsonl"
grade "$work/b.jsonl"
python3 - "$work" <<'PY' || fail "could not edit the copies"
import json, sys
work = sys.argv[1]
lines = [json.loads(l) for l in open(f"{work}/a.jsonl")]
def write(name, edit):
    with open(f"{work}/{name}", "w") as f:
        for r in lines:
            r = json.loads(json.dumps(r))
            edit(r)
            f.write(json.dumps(r) + "\n")
def faster(r):
    if r["type"] == "run":
        r["device"]["name"], r["device"]["driver_version"] = "Other GPU", "99.1"
    if r["type"] == "shape":
        for role in ("baseline", "candidate"):
            r[role]["samples_s"] = [x / 2 for x in r[role]["samples_s"]]
def changed(r):
    if r["type"] == "shape" and r["shape"] == "aligned":
        r["candidate"]["source_sha256"] = "0" * 64
write("faster.jsonl", faster)
write("changed.jsonl", changed)
PY
"$KGRADE" compare "$work/a.jsonl" "$work/b.jsonl" >"$work/ab.md" 2>&1 || fail "compare a b: exit $?"
grep -q 'What differs between the runs\*\*: nothing of the above' "$work/ab.md" || fail "a b: differences"
grep -Eq '^\| aligned \| `tuned` \| [0-9.]+ us \| [0-9.]+ us \| [0-9.]+ \[[0-9.]+, [0-9.]+\] \| (same|faster|slower|unclear) \|' \
    "$work/ab.md" || fail "a b: no row for aligned/tuned"
grep -q '^- candidate sets: A / B geomean' "$work/ab.md" || fail "a b: no overall geomean"

"$KGRADE" compare "$work/a.jsonl" "$work/faster.jsonl" >"$work/af.md" 2>&1 || fail "compare a faster"
grep -q 'What differs between the runs\*\*: device, driver\.' "$work/af.md" || fail "a faster: differences"
# Every row's ratio is 2 exactly; its interval clears the band on all but
# the noisiest shapes (15 samples each).
rows=$(grep -Ec '^\| [^|]+ \| `(naive|tuned)` \| .* \| 2 \[[0-9.]+, [0-9.]+\] \| (faster|unclear) \|' "$work/af.md")
fast=$(grep -Ec '^\| [^|]+ \| `(naive|tuned)` \| .* \| 2 \[[0-9.]+, [0-9.]+\] \| faster \|' "$work/af.md")
[ "$rows" = 8 ] && [ "$fast" -ge 4 ] || fail "a faster: $rows of 8 rows with ratio 2, $fast faster"
grep -Eq '^- candidate sets: A / B geomean \*\*2\*\* \[' "$work/af.md" || fail "a faster: overall geomean 2"
grep -Eq '^\| aligned \| [0-9.]+x .* \| holds' "$work/af.md" || fail "a faster: speedup holds"

"$KGRADE" compare "$work/a.jsonl" "$work/changed.jsonl" >"$work/ac.md" 2>&1 || fail "compare a changed"
grep -q '^| aligned | `tuned` | not comparable: the source differs (hash)' "$work/ac.md" ||
    fail "a changed: aligned/tuned paired although its source differs"
grep -q 'differ between A and `[^`]*changed.jsonl`\*\*: `softmax/tuned`' "$work/ac.md" ||
    fail "a changed: source difference not listed"

# A file from a newer kgrade with a damaged line in the middle: read where
# it can be, and what was not used said, naming the line.
python3 - "$work" <<'PY' || fail "could not damage a copy"
import json, sys
work = sys.argv[1]
lines = open(f"{work}/a.jsonl").read().splitlines()
head = json.loads(lines[0])
head["schema"] = 99
out = [json.dumps(head)] + lines[1:3] + ['{"type": "shape", "shape": '] + lines[3:]
open(f"{work}/damaged.jsonl", "w").write("\n".join(out) + "\n")
PY
"$KGRADE" compare "$work/a.jsonl" "$work/damaged.jsonl" >"$work/ad.md" 2>"$work/ad.err" ||
    fail "compare a damaged: exit $?"
grep -q 'damaged.jsonl:4: not a JSON object' "$work/ad.err" || fail "damaged: the bad line not named"
grep -q 'damaged.jsonl:1: a run of a newer results schema' "$work/ad.err" || fail "damaged: schema"
grep -q '^- candidate sets: A / B geomean' "$work/ad.md" || fail "damaged: nothing compared"

"$KGRADE" compare "$work/a.jsonl" >/dev/null 2>&1
[ $? = 2 ] || fail "one file: want exit 2"
"$KGRADE" compare "$work/a.jsonl" "$work/missing.jsonl" >/dev/null 2>&1
[ $? = 2 ] || fail "a missing file: want exit 2"
echo "compare: same device, another device (2x), a changed source, bad input: as expected"
