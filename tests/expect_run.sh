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
