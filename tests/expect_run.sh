#!/usr/bin/env bash
# expect_run.sh EXIT_CODE PATTERN -- ARGS...
# Runs $KGRADE ARGS, and passes when it exits with EXIT_CODE and its stdout
# or stderr matches the extended regex PATTERN. When ARGS contain
# "--out FILE", the file is removed first and must afterwards start with a
# run header and hold at least one shape record (a "skipped" record instead
# with EXPECT_SKIPPED=1 in the environment).
# With NEEDS_BACKEND=cuda (or hip, ...) in the environment, the test is
# skipped (exit 77, CTest's SKIP_RETURN_CODE) when `kgrade devices` lists
# no device of that backend: GPU tests pass through machines without one.
# With NEEDS_LIBRARY=rocBLAS (a BLAS library's name) as well, it is also
# skipped when the backend's first device has no such library for its
# library tiers (the "library tiers:" line of `kgrade devices`).
# With ALLOW_REFUSED=1 (a tier whose manifest refuses some shapes), exit 1
# counts as 0 when the --out file shows every candidate shape passed or
# refused, and at least one passed. With ALLOW_UNSUPPORTED=1 (a tier with
# "unsupported_devices"), "unsupported device (" in the output (the tier
# not graded, with that reason) is a skip (77): the device is one the tier
# is not graded on.
set -u
if [ -n "${NEEDS_BACKEND:-}" ]; then
    devices=$("$KGRADE" devices 2>/dev/null)
    if ! printf '%s\n' "$devices" | grep -q "^\[[0-9]*\] $NEEDS_BACKEND:"; then
        echo "SKIP: no $NEEDS_BACKEND device on this machine"
        exit 77
    fi
    if [ -n "${NEEDS_LIBRARY:-}" ] &&
        ! printf '%s\n' "$devices" | sed -n "/^\[[0-9]*\] $NEEDS_BACKEND:0 /,/library tiers:/p" |
        grep -q "library tiers: $NEEDS_LIBRARY "; then
        echo "SKIP: the $NEEDS_BACKEND device has no $NEEDS_LIBRARY"
        exit 77
    fi
fi
want_rc=$1 pattern=$2
shift 2
[ "$1" = "--" ] && shift
out_file=""
prev=""
for a in "$@"; do
    [ "$prev" = "--out" ] && out_file=$a
    prev=$a
done
[ -n "$out_file" ] && rm -f "$out_file"
log=$(mktemp)
"$KGRADE" "$@" >"$log" 2>&1
rc=$?
if [ -n "${ALLOW_UNSUPPORTED:-}" ] && grep -q "unsupported device (" "$log"; then
    echo "SKIP: $(grep -m1 -o 'unsupported device (.*' "$log")"
    rm -f "$log"
    exit 77
fi
if [ -n "${ALLOW_REFUSED:-}" ] && [ "$rc" = 1 ] && [ -n "$out_file" ] &&
    python3 - "$out_file" <<'PY'
import json, sys
statuses = [json.loads(l).get("candidate", {}).get("status") for l in open(sys.argv[1])
            if '"type":"shape"' in l]
sys.exit(0 if "ok" in statuses and set(statuses) <= {"ok", "refused"} else 1)
PY
then
    echo "note: exit 1 counted as 0: every candidate shape passed or was refused by its manifest"
    rc=0
fi
status=0
if [ "$rc" != "$want_rc" ]; then
    echo "FAIL: exit code $rc, expected $want_rc"
    status=1
fi
if ! grep -Eq -- "$pattern" "$log"; then
    echo "FAIL: output does not match /$pattern/"
    status=1
fi
want_record=shape
[ -n "${EXPECT_SKIPPED:-}" ] && want_record=skipped
if [ -n "$out_file" ]; then
    if ! head -n1 "$out_file" 2>/dev/null | grep -q '"type":"run"'; then
        echo "FAIL: $out_file has no run header"
        status=1
    elif ! grep -q "\"type\":\"$want_record\"" "$out_file"; then
        echo "FAIL: $out_file has no $want_record record"
        status=1
    fi
fi
if [ $status -ne 0 ]; then
    echo "--- kgrade $* ---"
    cat "$log"
fi
rm -f "$log"
exit $status
