#!/usr/bin/env bash
# adversarial.sh EXAMPLE_DIR RESULTS_FILE
# Grades one example submission as its expect.json says (by default: its
# softmax kernel at smoke size against naive) and checks the outcome
# (tests/check_expectations.c): an adversarial example must be caught for
# its own reason or neutralised, a correct one must raise no flag. With
# KG_ADVERSARIAL_DEVICE set (cuda:0, ...), on that device
# (scripts/gpu-check.sh); else on kgrade's best device.
set -u
dir=$(cd "$1" && pwd) out=$2
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
rm -f "$out"
cwd=$PWD
args=()
while read -r kind value; do
    case $kind in
        cwd) cwd=$value ;;
        arg) args+=("$value") ;;
    esac
done < <("$CHECK_EXPECTATIONS" plan "$dir/expect.json" "$dir")
[ -n "${KG_ADVERSARIAL_DEVICE:-}" ] && args+=(--device "$KG_ADVERSARIAL_DEVICE")
(cd "$cwd" && "$KGRADE" "${args[@]}" --out "$out") >"$out.log" 2>&1
rc=$?
echo "kgrade ${args[*]} (in $cwd): exit $rc"
if ! "$CHECK_EXPECTATIONS" check "$out" "$dir/expect.json" "$out.log" "$rc"; then
    echo "---- kgrade's output:"
    tail -40 "$out.log"
    exit 1
fi
