#!/usr/bin/env bash
# host_runs.sh CASE: the runner's logic on the host test backend, no device
# needed. $KGRADE_HOST is kgrade with the host backend (tests/host_backend);
# its kernels are C functions whose device time the test knows exactly
# (softmax_naive 2 ns per element, softmax_tuned 1 ns), so speedups, stop
# reasons, sample counts, sweep choices and failure statuses are checked as
# values, not as words. Cases:
#   pipeline   tuned vs naive: every speedup exactly 2 [2, 2], samples exact
#   stopping   converged at --min-samples; max_samples; max_time
#   readbacks  600 rounds: timed read-backs past 12, the same rounds for both sets
#   sweep      the sweep picks BLOCK=128 and records every configuration
#   failures   wrong output, abort, exit, illegal address, hang (timeout)
#   resume     a run interrupted half-way, resumed: every shape once, right
set -u
case_name=$1
src=${SOURCE_DIR:?}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

# Runs kgrade_host on softmax at smoke size; extra arguments follow.
grade() {
    "$KGRADE_HOST" run --device host:0 --workload softmax --size-class smoke --quiet \
        --baselines "$src/baselines" "$@" >"$work/stdout" 2>"$work/stderr"
}

# expect_rc WANT: the last grade's exit code.
expect_rc() {
    if [ "$rc" != "$1" ]; then
        echo "FAIL: exit code $rc, expected $1"
        cat "$work/stdout" "$work/stderr"
        exit 1
    fi
}

# check FILE PYTHON: runs PYTHON with `shapes` (the shape records of FILE)
# and `fail(msg)`; the test fails when it calls fail or raises.
check() {
    python3 - "$1" "$2" <<'EOF' || exit 1
import json, sys
records = [json.loads(line) for line in open(sys.argv[1])]
shapes = [r for r in records if r.get("type") == "shape"]
header = records[0]
def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)
def near(a, b, rel=1e-5):
    return abs(a - b) <= rel * abs(b)
exec(sys.argv[2])
EOF
}

case $case_name in
pipeline)
    grade --max-time 0.2 --out r.jsonl
    rc=$?
    expect_rc 0
    check r.jsonl '
if len(shapes) != 4: fail("%d shape records, want 4" % len(shapes))
for s in shapes:
    sp = s["speedup"]
    if (sp["value"], sp["lo"], sp["hi"]) != (2, 2, 2): fail("%s: speedup %s" % (s["shape"], sp))
    n = s["symbols"]["rows"] * s["symbols"]["cols"]
    for role, ns in (("baseline", 2), ("candidate", 1)):
        got = s[role]["samples_s"]
        if s[role]["status"] != "ok" or not got: fail("%s %s: %s" % (s["shape"], role, s[role]["status"]))
        if not all(near(t, n * ns * 1e-9) for t in got):
            fail("%s %s: samples %s, want %g s each" % (s["shape"], role, got[:3], n * ns * 1e-9))
    if len(s["sample_input_sets"]) != len(s["candidate"]["samples_s"]): fail("input set per sample")
    if sorted(set(s["sample_input_sets"])) != list(range(s["input_sets"])): fail("input sets not rotated")
'
    grep -q "geomean speedup 2x \[2, 2\] over 4 of 4 shapes" "$work/stdout" || {
        echo "FAIL: report line"
        exit 1
    }
    ;;
readbacks)
    # 600 rounds: timed rounds are read back with probability 1/4, 1/16,
    # then 1/128 (about 22 per shape), never capped: a kernel counting the
    # read-backs by the gaps between its launches never learns they are
    # over. Both sets are read back after the same rounds.
    grade --min-time 0 --min-samples 600 --max-samples 600 --max-time 100 --out readbacks.jsonl
    rc=$?
    expect_rc 0
    check readbacks.jsonl '
counts = []
for s in shapes:
    if len(s["candidate"]["samples_s"]) != 600: fail("%s: %d samples" % (s["shape"], len(s["candidate"]["samples_s"])))
    rounds = [c["round"] for c in s["candidate"]["timed_checks"]]
    if rounds != [c["round"] for c in s["baseline"]["timed_checks"]]: fail("%s: sets read back after different rounds" % s["shape"])
    if rounds != sorted(set(rounds)) or not all(c["passed"] for c in s["candidate"]["timed_checks"]):
        fail("%s: read-backs %s" % (s["shape"], s["candidate"]["timed_checks"][:3]))
    counts.append(len(rounds))
print("read-backs per shape:", counts)
if max(counts) <= 12: fail("no shape read back more than 12 timed rounds: %s" % counts)
if not 40 <= sum(counts) <= 160: fail("%d read-backs over 4 x 600 rounds, expected about 87" % sum(counts))
'
    ;;
stopping)
    # Constant times: the interval is 0 wide, so the run stops at the first
    # round past --min-samples (and --min-time 0).
    grade --min-time 0 --min-samples 12 --out converged.jsonl
    rc=$?
    expect_rc 0
    check converged.jsonl '
for s in shapes:
    if s["stop_reason"] != "converged" or len(s["candidate"]["samples_s"]) != 12:
        fail("%s: %s after %d samples" % (s["shape"], s["stop_reason"], len(s["candidate"]["samples_s"])))
'
    # 1-3 ns per element at random never gets within +-1%: the caps stop it.
    grade --candidate "$src/tests/data/host/noisy" --min-time 0 --max-samples 25 --max-time 100 \
        --out capped.jsonl
    rc=$?
    expect_rc 0
    check capped.jsonl '
for s in shapes:
    if s["stop_reason"] != "max_samples": fail("%s: %s" % (s["shape"], s["stop_reason"]))
    if len(s["candidate"]["samples_s"]) != 25 or len(s["baseline"]["samples_s"]) != 25:
        fail("%s: %d samples" % (s["shape"], len(s["candidate"]["samples_s"])))
    if not s["worst_rel_halfwidth"] > 0.01: fail("noisy samples converged")
'
    grade --candidate "$src/tests/data/host/noisy" --min-time 0 --max-samples 1000000 \
        --max-time 0.1 --out timed.jsonl
    rc=$?
    expect_rc 0
    check timed.jsonl '
for s in shapes:
    if s["stop_reason"] != "max_time": fail("%s: %s" % (s["shape"], s["stop_reason"]))
    if not 0.1 <= s["sampling_wall_s"] < 5: fail("%s: sampled %g s" % (s["shape"], s["sampling_wall_s"]))
'
    ;;
sweep)
    grade --candidate "$src/tests/data/host/swept" --max-time 0.1 --out r.jsonl
    rc=$?
    expect_rc 0
    check r.jsonl '
want = {"BLOCK=32": 4, "BLOCK=64": 2, "BLOCK=128": 1, "BLOCK=256": 2, "BLOCK=512": 4}
for s in shapes:
    sw = s["candidate"]["sweep"]
    if sw["chosen"] != "BLOCK=128": fail("%s: chose %s" % (s["shape"], sw["chosen"]))
    n = s["symbols"]["rows"] * s["symbols"]["cols"]
    got = {t["config"]: t["median_s"] for t in sw["tried"]}
    if set(got) != set(want): fail("tried %s" % sorted(got))
    for c, ns in want.items():
        if not near(got[c], n * ns * 1e-9): fail("%s %s: median %g" % (s["shape"], c, got[c]))
    if s["speedup"]["value"] != 2: fail("%s: speedup %s" % (s["shape"], s["speedup"]))
'
    ;;
failures)
    # Each misbehaving candidate fails every shape with its own status and
    # says why; the baseline is graded all the same, and the run goes on.
    for spec in "zeros:check_failed:" \
        "crash:crashed:died of signal 6" \
        "exit:crashed:exited with status 3 without answering" \
        "illegal:launch_failed:HOST_ERROR_ILLEGAL_ADDRESS" \
        "hang:timeout:no answer within the set.s time limit"; do
        IFS=: read -r name status words <<<"$spec"
        extra=()
        [ "$name" = hang ] && extra=(--timeout 2)
        grade --candidate "$src/tests/data/host/$name" --max-time 0.05 "${extra[@]}" \
            --out "$name.jsonl"
        rc=$?
        expect_rc 1
        check "$name.jsonl" "
if len(shapes) != 4: fail('$name: %d shapes' % len(shapes))
for s in shapes:
    c, b = s['candidate'], s['baseline']
    if c['status'] != '$status': fail('$name: %s is %s' % (s['shape'], c['status']))
    if b['status'] != 'ok' or not b['samples_s']: fail('$name: baseline %s' % b['status'])
    import re
    if '$words' and not re.search('$words', c.get('error', '')): fail('$name: error %r' % c.get('error'))
"
    done
    ;;
resume)
    # The candidate interrupts the grading once (as Ctrl-C would): the run
    # stops with 130 keeping what it finished; --resume completes it.
    export KG_HOST_INTERRUPT_FLAG=$work/interrupt
    touch "$KG_HOST_INTERRUPT_FLAG"
    grade --candidate "$src/tests/data/host/interrupt" --max-time 0.05 --out r.jsonl
    rc=$?
    expect_rc 130
    [ ! -e "$KG_HOST_INTERRUPT_FLAG" ] || {
        echo "FAIL: the candidate never ran"
        exit 1
    }
    check r.jsonl 'if len(shapes) >= 4: fail("interrupted run finished %d shapes" % len(shapes))'
    "$KGRADE_HOST" run --resume r.jsonl --quiet >"$work/stdout" 2>"$work/stderr"
    rc=$?
    expect_rc 0
    check r.jsonl '
names = [s["shape"] for s in shapes]
if len(names) != 4 or len(set(names)) != 4: fail("shapes after resume: %s" % names)
for s in shapes:
    if s["speedup"]["value"] != 2: fail("%s: speedup %s" % (s["shape"], s["speedup"]))
'
    ;;
*)
    echo "unknown case $case_name"
    exit 2
    ;;
esac
echo "ok: $case_name"
