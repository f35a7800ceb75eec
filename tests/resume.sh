#!/usr/bin/env bash
# resume.sh RESULTS_FILE
# Nothing lost (docs/integrity.md): a run killed with SIGKILL in the middle,
# its results file then torn mid-line as by a power loss, is continued by
# `kgrade run --resume` without redoing what was finished; a resume with
# different settings is refused; Ctrl-C (SIGINT) stops a run with exit 130
# and says how to continue.
set -u
out=$1
rm -f "$out" "$out.int"
args=(--workload softmax,rmsnorm --size-class smoke --max-time 0.3 --quiet)
fail() { echo "FAIL: $*"; exit 1; }
shapes() { grep -c '"type":"shape"' "$1"; }

# 1. kill -9 after two evaluations.
"$KGRADE" run "${args[@]}" --out "$out" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 600); do
    [ -f "$out" ] && [ "$(shapes "$out")" -ge 2 ] && break
    sleep 0.1
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
before=$(shapes "$out")
[ "$before" -ge 2 ] || fail "the run wrote $before shape records before it was killed"
grep -q '"type":"summary"' "$out" && fail "the run finished before it could be killed"
# 2. A torn last line, as a power loss mid-append leaves.
printf '{"type":"shape","workload":"softm' >>"$out"

# 3. Different settings: refused, the file untouched.
size=$(wc -c <"$out")
"$KGRADE" run --resume "$out" --seed 7 --quiet >"$out.log" 2>&1
rc=$?
[ $rc -eq 2 ] || fail "a resume with another seed exited $rc, expected 2"
grep -q "refused, the settings differ: seed" "$out.log" || { cat "$out.log"; fail "no reason given"; }
[ "$(wc -c <"$out")" -eq "$size" ] || fail "the refused resume changed the file"

# 4. Resume: the rest runs, nothing twice.
"$KGRADE" run --resume "$out" >"$out.log" 2>&1
rc=$?
[ $rc -eq 0 ] || { cat "$out.log"; fail "resume exited $rc"; }
grep -q "cut a torn last line" "$out.log" || fail "the torn line was not reported"
total=$(shapes "$out")
# softmax 4 + rmsnorm smoke shapes, each exactly once.
dups=$(grep -o '"workload":"[a-z_]*","size_class":"smoke","shape":"[^"]*"' "$out" | sort | uniq -d)
[ -z "$dups" ] || fail "evaluations recorded twice: $dups"
grep -q '"type":"resumed"' "$out" || fail "no resumed marker"
grep -q '"type":"summary"' "$out" || fail "no summary after the resume"
[ "$total" -gt "$before" ] || fail "the resume graded nothing"
grep -q "geomean speedup [0-9]" "$out.log" || fail "no report after the resume"
"$KGRADE" run --resume "$out" >"$out.log" 2>&1
[ $? -eq 2 ] && grep -q "nothing to resume" "$out.log" || fail "resuming a finished run was not refused"

# 5. SIGINT: exit 130, what was finished kept, how to continue printed.
"$KGRADE" run "${args[@]}" --out "$out.int" >/dev/null 2>"$out.log" &
pid=$!
for _ in $(seq 600); do
    [ -f "$out.int" ] && [ "$(shapes "$out.int")" -ge 1 ] && break
    sleep 0.1
done
kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 130 ] || { cat "$out.log"; fail "SIGINT: exit $rc, expected 130"; }
grep -q "Continue with: kgrade run --resume $out.int" "$out.log" || { cat "$out.log"; fail "no hint"; }
# 6. A seed no JSON number holds (2^64 - 1): killed after one evaluation and
# resumed, the run draws exactly the inputs an uninterrupted run draws.
big=(--workload softmax --size-class smoke --max-time 0.1 --quiet --seed 18446744073709551615)
rm -f "$out.big" "$out.whole"
"$KGRADE" run "${big[@]}" --out "$out.whole" >/dev/null 2>&1
"$KGRADE" run "${big[@]}" --out "$out.big" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 600); do
    [ -f "$out.big" ] && [ "$(shapes "$out.big")" -ge 1 ] && break
    sleep 0.05
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
grep -q '"seed_exact":"18446744073709551615"' "$out.big" || fail "the header does not hold the seed exactly"
"$KGRADE" run --resume "$out.big" >"$out.log" 2>&1 || { cat "$out.log"; fail "resume with seed 2^64-1 failed"; }
seeds() { grep -o '"shape":"[^"]*","shape_index":[0-9]*' "$1" >/dev/null; grep -o '"shape_index":[0-9]*.*"input_seed":[0-9.e+]*' "$1" | sed 's/.*"shape_index":\([0-9]*\).*"input_seed":\([0-9.e+]*\)/\1 \2/' | sort; }
[ "$(seeds "$out.big")" = "$(seeds "$out.whole")" ] || fail "the resumed run drew other inputs than an uninterrupted one: $(seeds "$out.big") vs $(seeds "$out.whole")"
[ "$(seeds "$out.whole" | wc -l)" -eq 4 ] || fail "expected 4 shapes with input seeds"

echo "PASS: killed after $before evaluations, resumed to $total; refused a changed seed; SIGINT -> 130; seed 2^64-1 resumed exactly"
