#!/usr/bin/env bash
# gpu-check.sh — the one prepared check for a (rarely lent) NVIDIA GPU machine.
#
#   OUT=/path/to/folder scripts/gpu-check.sh     # default OUT=./gpu-check-out
#   scripts/gpu-check.sh --prepare               # here, before the GPU call: the carry
#
# Made for a machine with a CUDA toolkit and driver, PyTorch and Triton in the
# system python3, many cores and no network (no apt, no pip: it never runs
# `make`). Carry build/upstream (the SGLang files, scripts/python-env.sh)
# and, where that machine may lack libcjson-dev, build/cjson (`--prepare`
# fills it from this machine). In order, each step under `timeout`, a
# failed step recorded and the next one run:
#
#   1 the machine: nvidia-smi, nvcc --version, torch and triton versions
#   2 configure and build kgrade (Release) in build-gpu/ with cmake
#   3 kgrade devices (and --json)
#   4 CTest: test_cuda_backend alone, then the other `gpu` label tests
#     (every workload x tier at smoke size on cuda:0), then test_nvrtc*
#     and the `triton` tests
#   5 kgrade run --size-class small on cuda:0, and kgrade report of it
#   6 where baselines/extend_attention/kernels.json has a triton-reference
#     tier: extend_attention, the port (`reference`) against SGLang's own
#     Triton kernel (`triton-reference`) on the full shapes
#   7 tools/triton_dobench.py: the same upstream kernel through SGLang's
#     launcher, timed with triton.testing.do_bench, beside kgrade's medians
#     of step 6 (within 2%?)
#   8 summary.md (device, driver, CUDA, date, every command, its exit
#     status, time and figures), printed last
#
# Everything measured goes to $OUT; the whole script keeps within
# KG_CHECK_BUDGET_S seconds (450): each step's time box is the smaller of
# its own cap and the time left less what the later steps are guaranteed,
# and a step with no time left is recorded as skipped. With no GPU
# (`nvidia-smi -L` lists none) steps 4-7 are recorded as "no GPU" at once;
# KG_CHECK_FORCE=1 runs them anyway (to test this script without a GPU).
#
# Variables: OUT, KG_CHECK_BUDGET_S (450), KG_CHECK_JOBS (nproc),
# KG_CHECK_BUILD_DIR (build-gpu), KG_CHECK_UPSTREAM_DIR (build/upstream),
# KG_CHECK_FORCE (0). Exit status: 0 when every step that ran passed, 1
# otherwise, 2 for a usage error.
set -u -o pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
ROOT=$PWD

# ---- --prepare: the carry, made on the machine that sends the command ------------
if [ "${1:-}" = "--prepare" ]; then
    status=0
    if [ -f build/upstream/upstream.json ]; then
        echo "build/upstream: $(du -sh build/upstream | cut -f1) ($(grep -c '"version"' build/upstream/upstream.json) files)"
    else
        echo "build/upstream missing: run scripts/python-env.sh build first" >&2
        status=1
    fi
    header="" lib=""
    for f in /usr/include/cjson/cJSON.h /usr/local/include/cjson/cJSON.h; do
        [ -z "$header" ] && [ -f "$f" ] && header=$f
    done
    for f in /usr/lib/x86_64-linux-gnu/libcjson.so.1.* /usr/lib64/libcjson.so.1.* \
        /usr/local/lib/libcjson.so.1.*; do
        [ -z "$lib" ] && [ -f "$f" ] && lib=$f
    done
    if [ -n "$header" ] && [ -n "$lib" ]; then
        rm -rf build/cjson && mkdir -p build/cjson/include/cjson build/cjson/lib
        # Under its soname, as a plain file (a carry may not keep links).
        cp "$header" build/cjson/include/cjson/ && cp "$lib" build/cjson/lib/libcjson.so.1
        echo "build/cjson: $header and $lib (used there only if that machine has no cJSON)"
    else
        echo "no cJSON here to copy into build/cjson (libcjson-dev)" >&2
        status=1
    fi
    echo 'carry: ["build/upstream", "build/cjson"]'
    exit $status
elif [ $# -gt 0 ]; then
    echo "usage: OUT=DIR $0   |   $0 --prepare" >&2
    exit 2
fi

OUT=${OUT:-./gpu-check-out}
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd) || exit 2
BUDGET=${KG_CHECK_BUDGET_S:-450}
JOBS=${KG_CHECK_JOBS:-$(nproc 2>/dev/null || echo 4)}
BUILD=${KG_CHECK_BUILD_DIR:-build-gpu}
UPSTREAM=${KG_CHECK_UPSTREAM_DIR:-$ROOT/build/upstream}
FORCE=${KG_CHECK_FORCE:-0}
KGRADE=$ROOT/$BUILD/kgrade
START=$(date +%s)
STARTED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
STEPS=$OUT/steps.md     # one table row per command
FIGURES=$OUT/figures.md # what each step measured, compact
: >"$STEPS"
: >"$FIGURES"
: >"$OUT/progress.log"
FAILED=0

# The Triton caches stay in the build folder, out of $OUT.
export KGRADE_TRITON_CACHE=$ROOT/$BUILD/triton-cache
export TRITON_CACHE_DIR=$ROOT/$BUILD/triton-py-cache
# A toolkit at /usr/local/cuda that is not on the PATH (FindCUDAToolkit
# also looks there; nvcc --version needs it).
if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then
    export PATH=/usr/local/cuda/bin:$PATH
fi

elapsed() { echo $(($(date +%s) - START)); }
log() { printf '[%s +%3ss] %s\n' "$(date -u +%H:%M:%S)" "$(elapsed)" "$*" | tee -a "$OUT/progress.log"; }
# A command as the summary shows it: $OUT and the checkout abbreviated.
show() {
    local s
    s=$(printf '%q ' "$@")
    s=${s% }
    s=${s//"$OUT"/\$OUT}
    s=${s//"$ROOT/"/}
    printf '%s' "${s//|/\\|}"
}
# shellcheck disable=SC2016 # the backquotes are Markdown
row() { printf '| %s | `%s` | %s | %s | %s |\n' "$1" "$2" "$3" "$4" "$5" >>"$STEPS"; }
fig() { printf '%s\n' "$@" >>"$FIGURES"; }

# run ID CAP RESERVE LOG -- COMMAND...
# Runs COMMAND with stdout and stderr in $OUT/LOG, under a time box of CAP
# seconds or the time left less RESERVE (kept for later steps), whichever
# is less; records a row; returns the command's exit status (124: timed
# out; 125: not run, no time left).
run() {
    local id=$1 cap=$2 reserve=$3 logf=$4
    shift 5
    local left=$((BUDGET - $(elapsed) - reserve)) box=$cap
    [ "$left" -lt "$box" ] && box=$left
    if [ "$box" -lt 5 ]; then
        row "$id" "$(show "$@")" - "skipped: no time left (budget ${BUDGET}s)" 0
        log "step $id: skipped, no time left"
        FAILED=1
        return 125
    fi
    log "step $id: $(show "$@")  [time box ${box}s, log $logf]"
    local t0 rc dt result
    t0=$(date +%s)
    timeout -k 10 "$box" "$@" >"$OUT/$logf" 2>&1 </dev/null
    rc=$?
    dt=$(($(date +%s) - t0))
    case $rc in
    0) result=ok ;;
    124 | 137) result="TIMED OUT after ${box}s" ;;
    *) result="failed (exit $rc)" ;;
    esac
    # A failure's last words, for the table.
    [ "$rc" -ne 0 ] && result="$result: $(grep -v '^[[:space:]]*$' "$OUT/$logf" | tail -n1 | cut -c1-150 |
        sed 's/|/\\|/g')"
    [ "$rc" -ne 0 ] && FAILED=1
    row "$id" "$(show "$@")" "$rc" "$result" "$dt"
    log "step $id: $result in ${dt}s"
    write_summary
    return $rc
}

# gpu_run: run, or a "no GPU" row at once where there is no GPU.
gpu_run() {
    if [ "$HAVE_GPU" = 1 ] || [ "$FORCE" = 1 ]; then
        run "$@"
        return
    fi
    local id=$1
    shift 5
    row "$id" "$(show "$@")" - "skipped: no GPU" 0
    log "step $id: skipped, no GPU"
    write_summary
    return 126
}

# The first lines of a log matching a pattern, for the figures.
grab() { grep -E -m "${3:-5}" -- "$2" "$OUT/$1" 2>/dev/null | sed 's/^/    /'; }

# A compact table of a kgrade results file: per shape, each set's median,
# status and sample count, the speedup and the stopping reason.
results_table() {
    python3 - "$1" <<'EOF' 2>&1
import json, statistics, sys
def t(s):
    return "-" if s is None else (f"{s*1e6:.1f} us" if s < 1e-3 else f"{s*1e3:.3f} ms")
rows, run, summary = [], None, None
try:
    lines = open(sys.argv[1]).read().splitlines()
except OSError as e:
    sys.exit(f"    (no results: {e.strerror})")
for line in lines:
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if r.get("type") == "run":  # the last run of the file only
        run, rows, summary = r, [], None
    elif r.get("type") == "summary":
        summary = r
    elif r.get("type") == "shape":
        cells = [f"{r['workload']}/{r['shape']}"]
        for role in ("baseline", "candidate"):
            s = r.get(role) or {}
            xs = s.get("samples_s") or []
            med = statistics.median(xs) if xs else None
            extra = ""
            if s.get("throttled_samples"):
                extra += f", {s['throttled_samples']} throttled"
            tr = s.get("triton")
            if isinstance(tr, dict):
                extra += f", {tr.get('target')} warps {tr.get('num_warps')} shared {tr.get('shared')}"
            cells.append(f"{s.get('set')}: {t(med)} (n={len(xs)}, {s.get('status')}{extra})")
        sp = r.get("speedup") or {}
        cells.append(f"{sp['value']:.3f}x [{sp['lo']:.3f}, {sp['hi']:.3f}]" if sp.get("value") else "-")
        cells.append(str(r.get("stop_reason")))
        rows.append(cells)
if run:
    d = run.get("device", {})
    print(f"    device {d.get('backend')}:{d.get('index')} {d.get('name')} ({d.get('arch')}), "
          f"driver {d.get('driver_version')}, profile {(run.get('profile') or {}).get('name')}")
print("| shape | baseline median | candidate median | speedup [95% CI] | stop |")
print("|---|---|---|---|---|")
for c in rows:
    print("| " + " | ".join(c) + " |")
if summary:
    for w in summary.get("workloads", []):
        print(f"    {w['workload']} vs {w.get('baseline')}: geomean {w.get('geomean', 0):.3f}x "
              f"[{w.get('lo', 0):.3f}, {w.get('hi', 0):.3f}], candidate passed "
              f"{w.get('candidate_passed')}/{w.get('shapes')}")
elif rows:
    print("    (no summary line: the run was stopped)")
EOF
}

# summary.md from what is recorded so far: written after every step, so that
# a run stopped from outside still leaves one.
write_summary() {
    {
        echo "# kgrade GPU check, $STARTED_AT"
        echo
        sed 's/^/- /' "$OUT/machine.txt"
        echo "- GPU (nvidia-smi -L): $(head -n1 "$OUT/nvidia-smi-L.txt" 2>/dev/null)"
        echo "- nvidia-smi: $(grep -m1 -E 'Driver Version' "$OUT/nvidia-smi.txt" 2>/dev/null | tr -s ' |' ' ')"
        echo "- query: $(sed -n 2p "$OUT/nvidia-smi-query.csv" 2>/dev/null)"
        echo "- nvcc: $(grep -m1 -E 'release' "$OUT/nvcc.txt" 2>/dev/null)"
        echo "- torch triton device: $(tail -n1 "$OUT/torch-triton.txt" 2>/dev/null)"
        echo "- wall: $(elapsed)s of a ${BUDGET}s budget; $JOBS jobs; OUT=$OUT"
        echo
        echo "| step | command | exit | result | s |"
        echo "|---|---|---|---|---|"
        cat "$STEPS"
        echo
        cat "$FIGURES"
        echo
        printf 'files:'
        for f in "$OUT"/*; do [ "${f##*/}" = summary.md.tmp ] || printf ' %s' "${f##*/}"; done
        echo
    } >"$OUT/summary.md.tmp" && mv "$OUT/summary.md.tmp" "$OUT/summary.md"
}

# ---- 1. the machine --------------------------------------------------------------
log "kgrade GPU check in $ROOT, results in $OUT, budget ${BUDGET}s, $JOBS jobs"
for f in "$OUT"/*.jsonl; do
    [ -e "$f" ] && log "warning: $OUT already holds ${f##*/}: kgrade appends to it (tables show its last run)"
done
{
    echo "date: $STARTED_AT"
    echo "host: $(uname -srm), $(nproc 2>/dev/null) cores, $(free -g 2>/dev/null | awk '/^Mem:/{print $2 " GiB"}')"
    echo "os: $(grep -m1 '^PRETTY_NAME=' /etc/os-release 2>/dev/null | cut -d= -f2- | tr -d '"')"
    echo "cc: $(cc --version 2>/dev/null | head -n1)"
    echo "cmake: $(cmake --version 2>/dev/null | head -n1)"
    echo "python3: $(command -v python3) $(python3 --version 2>&1)"
    echo "git: $(git rev-parse HEAD 2>/dev/null || echo 'no .git here') $(git status --porcelain 2>/dev/null | wc -l | sed 's/$/ changed files/')"
    echo "upstream: $(ls "$UPSTREAM"/upstream.json 2>/dev/null || echo "MISSING ($UPSTREAM): carry build/upstream")"
} >"$OUT/machine.txt"
run 1.1 20 0 nvidia-smi.txt -- nvidia-smi
run 1.2 15 0 nvidia-smi-L.txt -- nvidia-smi -L
HAVE_GPU=0
grep -q '^GPU [0-9]' "$OUT/nvidia-smi-L.txt" 2>/dev/null && HAVE_GPU=1
run 1.3 15 0 nvidia-smi-query.csv -- nvidia-smi \
    --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem,power.limit \
    --format=csv
run 1.4 15 0 nvcc.txt -- nvcc --version
run 1.5 90 0 torch-triton.txt -- python3 -c \
    'import torch, triton; print(torch.__version__, triton.__version__, torch.cuda.get_device_name())'
if [ "$HAVE_GPU" = 1 ]; then
    log "GPU: $(head -n1 "$OUT/nvidia-smi-L.txt")"
else
    log "no GPU (nvidia-smi -L lists none): steps 4-7 are recorded as 'no GPU'$([ "$FORCE" = 1 ] && echo ', but run: KG_CHECK_FORCE=1')"
fi

# ---- 2. configure and build --------------------------------------------------------
# -DKG_WERROR=OFF: another compiler's new warnings must not cost the session
# its build (they are counted below). The carried build/cjson is used only
# where the machine has no cJSON of its own.
cmake_args=(-S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release "-DKG_PYTHON=$(command -v python3)"
    "-DKG_UPSTREAM_DIR=$UPSTREAM" -DKG_WERROR=OFF)
if [ ! -f /usr/include/cjson/cJSON.h ] && [ ! -f /usr/local/include/cjson/cJSON.h ] &&
    [ -f build/cjson/include/cjson/cJSON.h ]; then
    cmake_args+=("-DCJSON_INCLUDE_DIR=$ROOT/build/cjson/include" "-DCJSON_LIBRARY=$ROOT/build/cjson/lib/libcjson.so.1")
    echo "cjson: the carried build/cjson (none on this machine)" >>"$OUT/machine.txt"
fi
run 2.1 90 0 configure.log -- cmake "${cmake_args[@]}"
run 2.2 300 0 build.log -- cmake --build "$BUILD" -j "$JOBS"
fig "### 2 build" "$(grab configure.log 'kgrade: (backends|CUDA|workloads)' 6)" \
    "    warnings: $(grep -c 'warning:' "$OUT/build.log" 2>/dev/null) $(grab build.log 'error:' 3)"

# ---- 3. devices --------------------------------------------------------------------
run 3.1 30 0 devices.txt -- "$KGRADE" devices
run 3.2 30 0 devices.json -- "$KGRADE" devices --json
fig "### 3 devices" "$(grab devices.txt '^\[|^(backends compiled|cuda|hip|triton):|driver |compute units|GB/s' 16)"

# Seconds kept for steps 6 and 7 while the earlier steps run (step 6 runs
# only where the workload has a triton-reference tier).
KERNELS=baselines/extend_attention/kernels.json
has_tier=0
if python3 -c 'import json, sys; sys.exit("triton-reference" not in json.load(open(sys.argv[1]))["tiers"])' \
    "$KERNELS" 2>/dev/null; then
    has_tier=1
elif ! command -v python3 >/dev/null && grep -q '"triton-reference" *:' "$KERNELS"; then
    has_tier=1
fi
R67=$((has_tier ? 200 : 100))

# ---- 4. CTest ----------------------------------------------------------------------
# test_cuda_backend times spin kernels: alone on the GPU. The smoke tests
# only check results, so they share it.
gpu_run 4.1 60 $R67 ctest-cuda-backend.log -- ctest --test-dir "$BUILD" -R '^test_cuda_backend$' \
    --output-on-failure
gpu_run 4.2 120 $R67 ctest-gpu.log -- ctest --test-dir "$BUILD" -L gpu -E '^test_cuda_backend$|^hip_' \
    -j 4 --output-on-failure
gpu_run 4.3 90 $R67 ctest-nvrtc-triton.log -- ctest --test-dir "$BUILD" -R 'test_nvrtc|triton' \
    -j 4 --output-on-failure
for f in ctest-cuda-backend.log ctest-gpu.log ctest-nvrtc-triton.log; do
    [ -f "$OUT/$f" ] || continue
    fig "### 4 $f" "$(grab "$f" 'tests passed|Total Test time|\*\*\*|No tests were found' 30)"
done

# ---- 5. the small size class on the GPU --------------------------------------------
gpu_run 5.1 180 $R67 small.log -- "$KGRADE" run --device cuda:0 --size-class small \
    --max-time 1 --timeout 60 --out "$OUT/small.jsonl"
if [ -s "$OUT/small.jsonl" ]; then
    run 5.2 30 0 small-report.md -- "$KGRADE" report "$OUT/small.jsonl"
    fig "### 5 small (tuned vs naive)" "$(grab small-report.md '^\*\*' 8)" "$(results_table "$OUT/small.jsonl")"
fi

# ---- 6. the port against SGLang's own Triton kernel, full shapes ----------------------
if [ "$has_tier" = 1 ]; then
    gpu_run 6.1 150 80 triton-vs-port.log -- "$KGRADE" run --device cuda:0 --workload extend_attention \
        --baseline reference --candidate triton-reference --size-class full \
        --max-time 2 --min-samples 5 --timeout 100 --out "$OUT/triton-vs-port.jsonl"
    if [ -s "$OUT/triton-vs-port.jsonl" ]; then
        run 6.2 30 0 triton-vs-port-report.md -- "$KGRADE" report "$OUT/triton-vs-port.jsonl"
        fig "### 6 extend_attention full: reference (port) vs triton-reference" \
            "$(grab triton-vs-port-report.md '^\*\*' 4)" "$(results_table "$OUT/triton-vs-port.jsonl")"
    fi
else
    row 6.1 "kgrade run ... --candidate triton-reference" - "skipped: $KERNELS has no triton-reference tier" 0
    log "step 6.1: skipped, $KERNELS has no triton-reference tier"
fi

# ---- 7. do_bench on the same upstream kernel -----------------------------------------
bench=(python3 tools/triton_dobench.py --upstream-dir "$UPSTREAM" --out "$OUT/dobench.jsonl")
[ -s "$OUT/triton-vs-port.jsonl" ] && bench+=(--results "$OUT/triton-vs-port.jsonl")
if [ "$HAVE_GPU" = 1 ]; then
    nvidia-smi --query-compute-apps=pid,process_name --format=csv,noheader >"$OUT/gpu-apps-before-7.txt" 2>&1
    [ -s "$OUT/gpu-apps-before-7.txt" ] && log "processes still on the GPU before step 7: $(tr '\n' ' ' <"$OUT/gpu-apps-before-7.txt")"
fi
gpu_run 7.1 120 5 dobench.log -- "${bench[@]}"
if [ -f "$OUT/dobench.log" ]; then
    fig "### 7 do_bench (SGLang's launcher) vs kgrade, triton-reference" \
        "$(grab dobench.log '^(setup: |shape [^ ])' 20)" \
        "$(grab dobench.log 'Error|needs torch|not found|no CUDA' 3)"
fi

# ---- 8. summary ------------------------------------------------------------------------
write_summary
log "done in $(elapsed)s; summary follows ($OUT/summary.md)"
echo
cat "$OUT/summary.md"
exit $FAILED
