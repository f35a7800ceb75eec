#!/usr/bin/env bash
# adversarial.sh SUBMISSION_DIR RESULTS_FILE
# Grades one example submission on softmax at smoke size and checks the
# outcome against SUBMISSION_DIR/expect.json (tests/check_expectations.c):
# an adversarial example must be caught for its own reason, a correct one
# must raise no flag.
set -u
dir=$1 out=$2
mkdir -p "$(dirname "$out")"
rm -f "$out"
# An example may set its own time limit ("timeout_s" in expect.json): the
# infinite loop costs one limit per shape.
timeout=$(grep -o '"timeout_s": *[0-9]*' "$dir/expect.json" | grep -o '[0-9]*$')
"$KGRADE" run --workload softmax --size-class smoke --max-time 0.3 --timeout "${timeout:-30}" --quiet \
    --candidate "$dir" --out "$out" >"$out.log" 2>&1
rc=$?
# 0: every shape passed; 1: some failed. Anything else is kgrade failing.
if [ $rc -gt 1 ]; then
    echo "FAIL: kgrade exited with $rc"
    cat "$out.log"
    exit 1
fi
"$CHECK_EXPECTATIONS" "$out" "$dir/expect.json"
