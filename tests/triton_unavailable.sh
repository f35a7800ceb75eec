#!/usr/bin/env bash
# triton_unavailable.sh SOURCE_DIR RESULTS_DIR
# On the OpenCL device (PoCL in CI) Triton cannot run: a Triton submission's
# workloads are recorded as skipped, with the reason, and the rest of the
# run goes on (docs/triton.md). Checks the exit code, the report's line and
# the results file's "skipped" records, values included.
set -u
src=$1 out=$2/triton_unavailable.jsonl
rm -f "$out"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$KGRADE" run --workload softmax,rmsnorm --size-class smoke --quiet \
    --candidate "$src/kernels/examples/triton-softmax-rmsnorm" --out "$out" >"$log" 2>&1
rc=$?
fail=0
[ "$rc" = 0 ] || { echo "FAIL: exit code $rc, expected 0"; fail=1; }
grep -q 'nothing graded' "$log" || { echo "FAIL: the report does not say nothing was graded"; fail=1; }
for w in softmax rmsnorm; do
    line=$(grep "\"type\":\"skipped\",\"workload\":\"$w\"" "$out")
    case $line in
    *'"role":"candidate"'*'"reason":"triton unavailable (opencl device: Triton compiles for CUDA and HIP devices only)"'*) ;;
    *) echo "FAIL: no skipped record for $w with the reason: $line"; fail=1 ;;
    esac
done
grep -q '"type":"shape"' "$out" && { echo "FAIL: a shape was graded"; fail=1; }
[ $fail = 0 ] || { cat "$log"; exit 1; }
echo "ok: both workloads skipped with the reason"
