#!/usr/bin/env bash
# agent_check.sh WORK_DIR
# `kgrade check` and its ledger on PoCL (docs/agents.md): the example agent
# loop (tools/agent_loop.py) through a passing, a wrong, a broken and the
# passing candidate again; the answers' values; the check's wall time (the
# issue asks under 5 s for softmax's dev shapes); `ledger verify` and
# `summary`; a ledger edited, cut, reordered or with a stored source
# altered is caught; `kill -9` at any moment of a check leaves a ledger
# that verifies and takes the next check.
set -u
work=$1
src=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }
ledger=$work/ledger.jsonl
python3 "$src/tools/agent_loop.py" --kgrade "$KGRADE" --workload softmax --work "$work" \
    --budget 120 "$src/kernels/examples/opencl-softmax" \
    "$src/kernels/examples/adversarial/all-zeros" broken "$src/kernels/examples/opencl-softmax" \
    >"$work/loop.txt" || fail "the agent loop: $(cat "$work/loop.txt")"
cat "$work/loop.txt"
for want in "check 1 (opencl-softmax): exit 0, passed" "check 2 (all-zeros): exit 1, failed, check_failed: wrong_output" \
    "check 3 (broken): exit 2, error, kgrade run: " "check 4 (opencl-softmax): exit 0, passed"; do
    grep -qF "$want" "$work/loop.txt" || fail "the loop did not print: $want"
done
"$KGRADE" check --candidate "$work/attempt" --workload softmax --ledger "$ledger" --json \
    >"$work/answer.json" || fail "check 5: exit $?"
python3 - "$work" "$src" <<'PY' || exit 1
import hashlib, json, os, sys
work, src = sys.argv[1:]
a = json.load(open(f"{work}/answer.json"))
lines = open(f"{work}/ledger.jsonl", "rb").read().split(b"\n")[:-1]
dev = [s["name"] for s in json.load(open(f"{src}/baselines/softmax/workload.json"))["shapes"]["dev"]]
def fail(msg):
    print("FAIL:", msg); sys.exit(1)
if a["evaluation"] != 5 or len(lines) != 10 or a["id"] != hashlib.sha256(lines[9]).hexdigest():
    fail(f"check 5: evaluation {a['evaluation']}, id {a['id']}, {len(lines)} ledger lines")
if a["status"] != "passed" or [s["shape"] for s in a["shapes"]] != dev:
    fail(f"check 5: {a['status']} on {[s['shape'] for s in a['shapes']]}, want passed on {dev}")
for s in a["shapes"]:
    if not (s["status"] == "ok" and 0 < s["lo"] <= s["speedup"] <= s["hi"] and s["candidate_median_s"] > 0):
        fail(f"check 5: shape {s}")
g = a["geomean"]
if not 0 < g["lo"] <= g["speedup"] <= g["hi"]:
    fail(f"check 5: geomean {g}")
def keys(v):
    if isinstance(v, dict):
        for k, x in v.items():
            yield k
            yield from keys(x)
    elif isinstance(v, list):
        for x in v:
            yield from keys(x)
for k in keys(a):
    if any(word in k for word in ("secret", "seed", "final", "full")):
        fail(f"the answer has a key '{k}': nothing of the final grading or the secrets belongs in it")
recs = [json.loads(l) for l in lines]
if [(r["type"], r["check"]) for r in recs] != [(t, k) for k in range(1, 6) for t in ("start", "check")]:
    fail(f"ledger records {[(r['type'], r['check']) for r in recs]}: want a start and a check each")
recs = [r for r in recs if r["type"] == "check"]
if [r["result"]["status"] for r in recs] != ["passed", "failed", "error", "passed", "passed"]:
    fail(f"ledger statuses {[r['result']['status'] for r in recs]}")
wrong = recs[1]["result"]["first_failure"]
if wrong["status"] != "check_failed" or "first at index" not in wrong["error"]:
    fail(f"check 2's first failure: {wrong}")
walls = [r["result"]["wall_s"] for r in recs]
print(f"check wall time: cold (check 1) {walls[0]:.2f} s, same source again (checks 4, 5) "
      f"{walls[3]:.2f} s and {walls[4]:.2f} s")
limit = float(os.environ.get("KGRADE_CHECK_MAX_S", "5"))
if max(walls[0], walls[3], walls[4]) >= limit:
    fail(f"a check of softmax's dev shapes took {limit:g} s or more")
PY
# A check that cannot start (no such folder) still answers one JSON object.
"$KGRADE" check --candidate "$work/no-such-folder" --workload softmax --ledger "$work/other.jsonl" \
    --json >"$work/nofolder.json" 2>/dev/null
[ $? = 2 ] || fail "a check of a missing folder: want exit 2"
python3 -c "
import json, sys
a = json.load(open('$work/nofolder.json'))
sys.exit(0 if a['status'] == 'error' and 'no-such-folder' in a['messages'] else 1)" ||
    fail "a check of a missing folder: $(cat "$work/nofolder.json")"
"$KGRADE" ledger verify "$ledger" >"$work/verify.txt" || fail "ledger verify: $(cat "$work/verify.txt")"
grep -q "10 records, chained and intact" "$work/verify.txt" || fail "verify: $(cat "$work/verify.txt")"
"$KGRADE" ledger summary "$ledger" --svg "$work/best.svg" >"$work/summary.md" || fail "ledger summary"
grep -q "5 checks, 3 passed, 2 did not" "$work/summary.md" &&
    grep -q "Failures by reason: check_failed 1, error 1." "$work/summary.md" ||
    fail "summary: $(head -8 "$work/summary.md")"
[ "$(grep -c '<circle' "$work/best.svg")" = 3 ] || fail "best.svg: not 3 passing checks drawn"

# Tampering: each copy of the ledger (with its objects and results) altered
# one way; verify must fail and say where.
tamper() { # NAME PYTHON-EXPRESSION-ON-LINES
    local d=$work/$1
    mkdir -p "$d" && cp -r "$ledger" "$ledger.objects" "$ledger.evals" "$d/"
    python3 -c "
import sys
p = '$d/ledger.jsonl'
lines = open(p).read().split('\n')[:-1]
$2
open(p, 'w').write(''.join(l + '\n' for l in lines))"
    "$KGRADE" ledger verify "$d/ledger.jsonl" >/dev/null 2>"$d/err.txt"
    [ $? = 1 ] || fail "$1: a tampered ledger verified"
    grep -q "$3" "$d/err.txt" || fail "$1: $(cat "$d/err.txt")"
    echo "tampered ($1): $(cat "$d/err.txt")"
}
tamper edited "lines[3] = lines[3].replace('\"status\":\"failed\"', '\"status\":\"passed\"', 1)" "ledger.jsonl:5: its prev is not the SHA-256 of line 4"
tamper deleted "del lines[3]" "ledger.jsonl:4: record numbered otherwise where 4 belongs"
tamper reordered "lines[3], lines[4] = lines[4], lines[3]" "ledger.jsonl:4: record numbered otherwise"
tamper source "import glob; f = sorted(glob.glob('$work/source/ledger.jsonl.objects/*'))[0]; open(f, 'a').write('//')" "its stored copy .* is missing or altered"
tamper results "import glob; f = sorted(glob.glob('$work/results/ledger.jsonl.evals/*'))[0]; open(f, 'a').write('{}\n')" "its results file .* is missing or altered"

# kill -9 at moments spread over a check: the ledger still verifies (a torn
# last line is not part of it) and the next check continues the numbering.
for delay in 0.05 0.4 1.2 2.5; do
    "$KGRADE" check --candidate "$work/attempt" --workload softmax --ledger "$ledger" --json \
        >/dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    pkill -9 -f "kgrade __worker.*$work" 2>/dev/null
    "$KGRADE" ledger verify "$ledger" >/dev/null 2>"$work/kill.txt" ||
        fail "kill -9 after $delay s: $(cat "$work/kill.txt")"
done
before=$(grep -c '"type":"start"' "$ledger")
finished=$(grep -c '"type":"check"' "$ledger")
"$KGRADE" check --candidate "$work/attempt" --workload softmax --ledger "$ledger" --json \
    >"$work/after.json" || fail "the check after the kills"
python3 -c "
import json, sys
a = json.load(open('$work/after.json'))
sys.exit(0 if a['evaluation'] == $before + 1 else 1)" || fail "after the kills: not check $((before + 1))"
"$KGRADE" ledger verify "$ledger" || fail "the ledger after the kills"
"$KGRADE" ledger summary "$ledger" >"$work/summary2.md" || fail "summary after the kills"
if [ "$before" -gt "$finished" ]; then
    grep -q "$((before - finished)) started and never finished" "$work/summary2.md" ||
        fail "the summary does not count the killed checks: $(sed -n 3p "$work/summary2.md")"
fi
echo "kill -9 at 4 moments: the ledger verified each time; $((before - finished)) killed checks left their start record; the next was check $((before + 1))"

# The held-out final grading: small shapes here (full is for GPUs), a seed
# drawn at random; the candidate tuned to the dev shapes is overfit.
"$KGRADE" run --final --workload softmax --size-class small --max-time 1 --quiet \
    --candidate "$src/kernels/examples/dev-overfit" --out "$work/final.jsonl" >"$work/final.md"
[ $? = 1 ] || fail "--final of a candidate overfit to the dev shapes: want exit 1"
grep -q "| softmax | naive | .* | .* | \*\*overfit to dev shapes\*\* |" "$work/final.md" ||
    fail "--final: $(tail -6 "$work/final.md")"
python3 - "$work" <<'PY' || exit 1
import glob, json, sys
work = sys.argv[1]
h = json.loads(open(f"{work}/final.jsonl").readline())["settings"]
dev = json.loads(open(f"{work}/final.jsonl.dev.jsonl").readline())["settings"]
seed = int(h["seed_exact"])
if not h.get("final") or seed < 2**32 or h["size_class"] != "small" or dev["size_class"] != "dev":
    print(f"FAIL: --final settings {h.get('final')}, seed {seed}, {h['size_class']}, dev {dev['size_class']}")
    sys.exit(1)
import os
for path in glob.glob(f"{work}/ledger.jsonl*") + glob.glob(f"{work}/ledger.jsonl.*/*"):
    if not os.path.isfile(path):
        continue
    if h["seed_exact"] in open(path, errors="replace").read():
        print(f"FAIL: the final seed is in {path}, where an agent could read it")
        sys.exit(1)
print(f"--final: seed {seed} (>= 2^32, in no ledger file), overfit caught")
PY

# Replay: every other check, graded again under the full rules from the
# sources the ledger stored; each outcome as recorded.
"$KGRADE" replay "$ledger" --stride 2 --svg "$work/replay.svg" >"$work/replay.md" ||
    fail "kgrade replay: exit $?"
python3 - "$work" <<'PY' || exit 1
import json, sys
work = sys.argv[1]
checks = [json.loads(l) for l in open(f"{work}/ledger.jsonl")]
checks = [r for r in checks if r["type"] == "check"]
chosen = checks[::2] + ([checks[-1]] if (len(checks) - 1) % 2 else [])
rows = [l.split("|") for l in open(f"{work}/replay.md") if l.startswith("| ") and l[2].isdigit()]
if [int(r[1]) for r in rows] != [c["check"] for c in chosen]:
    print(f"FAIL: replayed checks {[r[1] for r in rows]}, want {[c['check'] for c in chosen]}")
    sys.exit(1)
want = {"passed": "passed", "failed": "failed", "error": "not graded"}
for r, c in zip(rows, chosen):
    if r[4].strip() != want[c["result"]["status"]]:
        print(f"FAIL: check {c['check']}: recorded {c['result']['status']}, replayed {r[4].strip()}")
        sys.exit(1)
runs = [json.loads(l) for l in open(f"{work}/ledger.jsonl.replay.jsonl")]
seeds = [int(r["settings"]["seed_exact"]) for r in runs if r["type"] == "run"]
graded = [c["check"] for c in chosen if c["result"]["status"] != "error"]
if seeds != graded:
    print(f"FAIL: the replay's runs have seeds {seeds}, want the checks {graded}")
    sys.exit(1)
print(f"replay: checks {[c['check'] for c in chosen]} graded again, each as recorded")
PY
grep -q "<svg" "$work/replay.svg" || fail "replay.svg"
