#!/usr/bin/env bash
# library_tier.sh RESULTS_DIR [BACKEND]
# gemm's library tier against its tuned tier on the backend's first device
# (BACKEND opencl, the default: CLBlast, on PoCL in CI; hip: rocBLAS), end
# to end: tuned graded against the library on the smoke shapes, every
# shape's library record naming the library and the hash of the file that
# was loaded, the report naming it; then the same run with the library
# missing (its variable naming a file that is not there), where the tier
# is not graded and says why. Skipped (77) without a device of the backend
# or without its library.
set -u
backend=${2:-opencl}
case $backend in
opencl) name=CLBlast variable=KGRADE_CLBLAST missing=/nonexistent/libclblast.so.1 ;;
hip) name=rocBLAS variable=KGRADE_ROCBLAS missing=/nonexistent/librocblas.so.4 ;;
*) echo "library_tier.sh: unknown backend '$backend' (opencl or hip)"; exit 2 ;;
esac
out=$1/library_tier_$backend.jsonl none=$1/library_tier_${backend}_none.jsonl
rm -f "$out" "$none"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
devices=$("$KGRADE" devices 2>&1)
case $devices in
*"$backend:0"*) ;;
*) echo "skipped: no $backend device"; exit 77 ;;
esac
# The first device's library line ("library tiers: NAME VERSION (PATH)").
library=$(printf '%s\n' "$devices" | sed -n "/^\[[0-9]*\] $backend:0 /,/library tiers:/p" |
    sed -n "s/^ *library tiers: $name [^ ]* (\(.*\))$/\1/p" | head -n 1)
[ -n "$library" ] || { echo "skipped: the $backend device has no $name: $devices"; exit 77; }
fail=0
"$KGRADE" run --workload gemm --size-class smoke --baseline library --candidate tuned \
    --max-time 0.3 --device "$backend:0" --quiet --out "$out" >"$log" 2>&1
rc=$?
[ "$rc" = 0 ] || { echo "FAIL: exit code $rc, expected 0"; fail=1; }
grep -q 'against `library`: passed all 3 shapes' "$log" || { echo "FAIL: tuned did not pass all 3 shapes"; fail=1; }
grep -q "library $name [^,]*, $library, sha256" "$log" || { echo "FAIL: the report does not name $library"; fail=1; }
grep -Eq "\`tuned\` (is weak next to the library|runs at [0-9.e+-]+x the speed of $name)" "$log" ||
    { echo "FAIL: the report does not compare tuned with the library"; fail=1; }
sha=$(sha256sum "$library" | cut -d' ' -f1)
shapes=$(grep -c '"type":"shape"' "$out")
[ "$shapes" = 3 ] || { echo "FAIL: $shapes shape records, expected 3"; fail=1; }
named=$(grep -c "\"library\":{\"name\":\"$name\",\"version\":\"[^\"]*\",\"path\":\"$library\",\"sha256\":\"$sha\"" "$out")
[ "$named" = 3 ] || { echo "FAIL: $named of 3 shapes record $name with the file's sha256 $sha"; fail=1; }
"$KGRADE" report "$out" >/dev/null || { echo "FAIL: kgrade report failed on the results"; fail=1; }
"$KGRADE" export --format csv "$out" | grep -q '^set,gemm,smoke,.*,baseline,library,ok,' ||
    { echo "FAIL: the CSV export has no ok row for the library"; fail=1; }

env "$variable=$missing" "$KGRADE" run --workload gemm --size-class smoke \
    --baseline library --candidate tuned --device "$backend:0" --quiet --out "$none" >>"$log" 2>&1
rc=$?
[ "$rc" = 0 ] || { echo "FAIL: without $name, exit code $rc, expected 0"; fail=1; }
grep -q "\"type\":\"skipped\",\"workload\":\"gemm\",\"baseline\":\"library\",\"role\":\"baseline\",\"set\":\"library\",\"reason\":\"library unavailable ($name not found (tried $missing" "$none" ||
    { echo "FAIL: without $name, no skipped record with the reason"; fail=1; }
grep -q '"type":"shape"' "$none" && { echo "FAIL: without $name, a shape was graded"; fail=1; }
[ $fail = 0 ] || { cat "$log"; exit 1; }
echo "ok: tuned graded against $name ($library) on $backend:0, and not graded without it"
