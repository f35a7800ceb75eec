#!/usr/bin/env bash
# gpu_check_dry_run.sh BUILD_DIR OUT_DIR
# scripts/gpu-check.sh without a GPU, on the build at hand (KG_CHECK_PREBUILT),
# then tools/gpu_check_report.py --expect-dry-run: every GPU-only step
# skipped with "no NVIDIA GPU", every other step passed, the budget under
# 8 minutes. Skipped (77) where an NVIDIA GPU is present: there the script
# is the real check, run by hand (docs/cuda.md).
set -u
build=$1 out=$2
root=$(cd "$(dirname "$0")/.." && pwd)
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU [0-9]'; then
    echo "SKIP: an NVIDIA GPU is present; run scripts/gpu-check.sh itself"
    exit 77
fi
rm -rf "$out"
mkdir -p "$out"
KG_CHECK_PREBUILT=$build OUT=$out "$root/scripts/gpu-check.sh" >"$out.log" 2>&1
rc=$?
echo "scripts/gpu-check.sh (dry run): exit $rc; $(grep -m1 '^counts:' "$out/summary.md" 2>/dev/null)"
python3 "$root/tools/gpu_check_report.py" "$out" --expect-dry-run | grep -E '^(FAIL|dry run)'
check=${PIPESTATUS[0]}
if [ "$rc" -ne 0 ] || [ "$check" -ne 0 ]; then
    echo "---- the script's output:"
    tail -40 "$out.log"
    exit 1
fi
