#!/usr/bin/env bash
# library_tier.sh RESULTS_DIR
# gemm's library tier (CLBlast) against its tuned tier on the OpenCL device
# (PoCL in CI), end to end: tuned graded against the library on the smoke
# shapes, every shape's library record naming CLBlast and the hash of the
# file that was loaded, the report naming it; then the same run with
# CLBlast missing, where the tier is not graded and says why. Skipped (77)
# without an OpenCL device or without CLBlast.
set -u
out=$1/library_tier.jsonl none=$1/library_tier_none.jsonl
rm -f "$out" "$none"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
devices=$("$KGRADE" devices 2>&1)
case $devices in
*"opencl:0"*) ;;
*) echo "skipped: no OpenCL device"; exit 77 ;;
esac
library=$(printf '%s\n' "$devices" | sed -n 's/^ *library tiers: CLBlast [^ ]* (\(.*\))$/\1/p' | head -n 1)
[ -n "$library" ] || { echo "skipped: the OpenCL device has no CLBlast (libclblast.so.1): $devices"; exit 77; }
fail=0
"$KGRADE" run --workload gemm --size-class smoke --baseline library --candidate tuned \
    --max-time 0.3 --device opencl:0 --quiet --out "$out" >"$log" 2>&1
rc=$?
[ "$rc" = 0 ] || { echo "FAIL: exit code $rc, expected 0"; fail=1; }
grep -q 'against `library`: passed all 3 shapes' "$log" || { echo "FAIL: tuned did not pass all 3 shapes"; fail=1; }
grep -q "library CLBlast [0-9.]*, $library, sha256" "$log" || { echo "FAIL: the report does not name $library"; fail=1; }
grep -Eq '`tuned` (is weak next to the library|runs at [0-9.e+-]+x the speed of CLBlast)' "$log" ||
    { echo "FAIL: the report does not compare tuned with the library"; fail=1; }
sha=$(sha256sum "$library" | cut -d' ' -f1)
shapes=$(grep -c '"type":"shape"' "$out")
[ "$shapes" = 3 ] || { echo "FAIL: $shapes shape records, expected 3"; fail=1; }
named=$(grep -c "\"library\":{\"name\":\"CLBlast\",\"version\":\"[0-9.]*\",\"path\":\"$library\",\"sha256\":\"$sha\"" "$out")
[ "$named" = 3 ] || { echo "FAIL: $named of 3 shapes record CLBlast with the file's sha256 $sha"; fail=1; }
"$KGRADE" report "$out" >/dev/null || { echo "FAIL: kgrade report failed on the results"; fail=1; }
"$KGRADE" export --format csv "$out" | grep -q '^set,gemm,smoke,.*,baseline,library,ok,' ||
    { echo "FAIL: the CSV export has no ok row for the library"; fail=1; }

KGRADE_CLBLAST=/nonexistent/libclblast.so.1 "$KGRADE" run --workload gemm --size-class smoke \
    --baseline library --candidate tuned --device opencl:0 --quiet --out "$none" >>"$log" 2>&1
rc=$?
[ "$rc" = 0 ] || { echo "FAIL: without CLBlast, exit code $rc, expected 0"; fail=1; }
grep -q '"type":"skipped","workload":"gemm","baseline":"library","role":"baseline","set":"library","reason":"library unavailable (CLBlast not found (tried /nonexistent/libclblast.so.1' "$none" ||
    { echo "FAIL: without CLBlast, no skipped record with the reason"; fail=1; }
grep -q '"type":"shape"' "$none" && { echo "FAIL: without CLBlast, a shape was graded"; fail=1; }
[ $fail = 0 ] || { cat "$log"; exit 1; }
echo "ok: tuned graded against CLBlast ($library), and not graded without it"
