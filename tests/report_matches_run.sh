#!/usr/bin/env bash
# report_matches_run.sh RESULTS_FILE RUN_ARGS...
# `kgrade report` on a results file must print exactly the report the run
# printed (the run's stdout without its closing "Results: FILE" line), and
# refuse a file that is not a results file.
set -u
out=$1
shift
rm -f "$out"
run_log=$(mktemp) report_log=$(mktemp)
trap 'rm -f "$run_log" "$report_log"' EXIT
"$KGRADE" run "$@" --out "$out" >"$run_log" || { echo "FAIL: kgrade run failed"; exit 1; }
"$KGRADE" report "$out" >"$report_log" || { echo "FAIL: kgrade report failed"; exit 1; }
# The run ends with an empty line and "Results: FILE".
if ! diff <(head -n -2 "$run_log") "$report_log"; then
    echo "FAIL: the report differs from the run's own (diff above)"
    exit 1
fi
if "$KGRADE" report "$0" 2>/dev/null; then
    echo "FAIL: kgrade report accepted a file that is not a results file"
    exit 1
fi
echo "report matches the run's ($(wc -l <"$report_log") lines)"
