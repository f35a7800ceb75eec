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
# fills it from this machine). In order of value, each step under `timeout`,
# a failed step recorded and the next one run:
#
#   1  the machine: nvidia-smi, nvcc --version, torch and triton versions
#   2  configure and build kgrade (Release) in build-gpu/ with cmake
#   3  kgrade devices (and --json), and the properties kgrade reads beside
#      nvidia-smi's and torch's (tools/gpu_properties.py): a mismatch is a
#      finding, not a failure
#   4  CTest: test_cuda_backend alone, then the other `gpu` label tests
#      (every workload x tier at smoke size on cuda:0), test_nvrtc* and the
#      `triton` tests
#   5  every adversarial example on the GPU, each caught for its own reason
#      (portable ones on cuda:0; OpenCL C ones on an OpenCL GPU device when
#      kgrade lists one, else skipped with the reason)
#   6  the small size class on cuda:0, its report, and the timing
#      cross-check of its shapes (tools/crosscheck_timing.py: the same
#      kernels timed by do_bench and by a plain event loop)
#   7  repeatability: the same small grading five times; the coefficient of
#      variation of each geomean and the sampling time each shape needed
#      (tools/repeatability.py)
#   8  the flagship: extend_attention at the claim-date shapes (`claim`),
#      `tuned` against every baseline tier the device runs, results kept;
#      then `tuned` against SGLang's Triton kernel on the other workloads
#      that have one, at `small`
#   9  tools/triton_dobench.py: SGLang's own kernel through its launcher,
#      timed by do_bench, beside kgrade's triton-reference medians of step 8
#   10 compute-sanitizer --tool memcheck over a smoke run of every tier
#   then summary.md and summary.json (every step passed / failed / skipped /
#   timed out, with its figure), written after every step;
#   tools/gpu_check_report.py turns summary.json into docs/validation.md's
#   section.
#
# Everything measured goes to $OUT as each step finishes, so a cut-off run
# brings back what it did. The whole script keeps within KG_CHECK_BUDGET_S
# seconds (450, under 8 minutes): each step's time box is the smaller of its
# own cap and the time left, and a step with no time left is recorded as
# skipped.
#
# Without an NVIDIA GPU (`nvidia-smi -L` lists none) it is a dry run on
# kgrade's best device (PoCL in CI: `make test` runs it as
# gpu_check_dry_run): the GPU-only steps are recorded as "skipped: no
# NVIDIA GPU" and the others run at their smallest (smoke shapes, two
# adversarial examples, two repeats), so the script cannot rot between GPU
# visits. KG_CHECK_FORCE=1 runs the GPU-only steps anyway.
#
# Variables: OUT, KG_CHECK_BUDGET_S (450), KG_CHECK_JOBS (nproc),
# KG_CHECK_BUILD_DIR (build-gpu), KG_CHECK_PREBUILT (a build folder to use
# instead of building one: step 2 skipped), KG_CHECK_UPSTREAM_DIR
# (build/upstream), KG_CHECK_FORCE (0). Exit status: 0 when every step that
# ran passed, 1 otherwise, 2 for a usage error.
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
PREBUILT=${KG_CHECK_PREBUILT:-}
BUILD=${PREBUILT:-${KG_CHECK_BUILD_DIR:-build-gpu}}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
UPSTREAM=${KG_CHECK_UPSTREAM_DIR:-$ROOT/build/upstream}
FORCE=${KG_CHECK_FORCE:-0}
KGRADE=$BUILD/kgrade
START=$(date +%s)
STARTED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
STEPS=$OUT/steps.tsv     # id, command, exit, status, seconds, time box
FIGURES=$OUT/figures.tsv # id, what the step measured
: >"$STEPS"
: >"$FIGURES"
: >"$OUT/progress.log"
FAILED=0
HAVE_GPU=0

# The Triton caches stay in the build folder, out of $OUT.
export KGRADE_TRITON_CACHE=$BUILD/triton-cache
export TRITON_CACHE_DIR=$BUILD/triton-py-cache
# A toolkit at /usr/local/cuda that is not on the PATH (FindCUDAToolkit
# also looks there; nvcc --version and compute-sanitizer need it).
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
    printf '%s' "${s//$'\t'/ }"
}
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$STEPS"; }
# figure ID TEXT...: what step ID measured, on one line.
figure() {
    local id=$1
    shift
    printf '%s\t%s\n' "$id" "$(printf '%s' "$*" | tr '\t\n' '  ' | cut -c1-400)" >>"$FIGURES"
    write_summary
}

# run ID CAP LOG -- COMMAND...
# Runs COMMAND with stdout and stderr in $OUT/LOG under a time box of CAP
# seconds or the time left, whichever is less; records a row; returns the
# command's exit status (124: timed out; 125: not run, no time left).
run() {
    local id=$1 cap=$2 logf=$3
    shift 4
    local left=$((BUDGET - $(elapsed))) box=$cap
    [ "$left" -lt "$box" ] && box=$left
    if [ "$box" -lt 5 ]; then
        row "$id" "$(show "$@")" - "skipped: no time left (budget ${BUDGET}s)" 0 0
        log "step $id: skipped, no time left"
        FAILED=1
        write_summary
        return 125
    fi
    log "step $id: $(show "$@")  [time box ${box}s, log $logf]"
    local t0 rc dt result
    t0=$(date +%s)
    timeout -k 10 "$box" "$@" >"$OUT/$logf" 2>&1 </dev/null
    rc=$?
    dt=$(($(date +%s) - t0))
    case $rc in
    0) result=passed ;;
    124 | 137) result="timed out after ${box}s" ;;
    *) result="failed (exit $rc)" ;;
    esac
    # A failure's last words, for the table.
    [ "$rc" -ne 0 ] && result="$result: $(grep -v '^[[:space:]]*$' "$OUT/$logf" | tail -n1 | cut -c1-150)"
    [ "$rc" -ne 0 ] && FAILED=1
    row "$id" "$(show "$@")" "$rc" "$result" "$dt" "$box"
    log "step $id: $result in ${dt}s"
    write_summary
    return $rc
}

# skip ID WHY -- COMMAND...: a row saying why the command did not run.
skip() {
    local id=$1 why=$2
    shift 3
    row "$id" "$(show "$@")" - "skipped: $why" 0 0
    log "step $id: skipped, $why"
    write_summary
    return 0
}

# gpu_run: run, or "skipped: no NVIDIA GPU" at once where there is none.
gpu_run() {
    if [ "$HAVE_GPU" = 1 ] || [ "$FORCE" = 1 ]; then
        run "$@"
        return
    fi
    local id=$1
    shift 3
    skip "$id" "no NVIDIA GPU" "$@"
}

# The first lines of a log matching a pattern.
grab() { grep -E -m "${3:-5}" -- "$2" "$OUT/$1" 2>/dev/null; }
# CTest's tally of a log: "N% tests passed, M tests failed out of T; S skipped".
ctest_tally() {
    local f=$OUT/$1
    [ -f "$f" ] || return 0
    local line skipped
    line=$(grep -E -m1 'tests passed, [0-9]+ tests failed out of' "$f")
    skipped=$(grep -c '(Skipped)' "$f")
    printf '%s; %s skipped' "${line:-no tally}" "$skipped"
}

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

# summary.md and summary.json from what is recorded so far: written after
# every step, so that a run stopped from outside still leaves them.
write_summary() {
    python3 - "$OUT" "$STARTED_AT" "$BUDGET" "$(elapsed)" "$HAVE_GPU" "$JOBS" <<'PY' || true
import json, os, sys
out, started, budget, wall, gpu, jobs = sys.argv[1:7]
def lines(name):
    try:
        with open(os.path.join(out, name), encoding="utf-8", errors="replace") as f:
            return [l.rstrip("\n") for l in f]
    except OSError:
        return []
figures = {}
for l in lines("figures.tsv"):
    k, _, v = l.partition("\t")
    if v.strip():
        figures.setdefault(k, []).append(v.strip())
steps = []
for l in lines("steps.tsv"):
    c = (l.split("\t") + [""] * 6)[:6]
    detail = c[3]
    kind = ("passed" if detail == "passed" else "timed out" if detail.startswith("timed out")
            else "skipped" if detail.startswith("skipped") else "failed")
    steps.append({"id": c[0], "command": c[1], "exit": c[2], "status": kind, "detail": detail,
                  "seconds": int(c[4] or 0), "time_box_s": int(c[5] or 0),
                  "figure": "; ".join(figures.get(c[0], []))})
machine = lines("machine.txt")
doc = {"kgrade_gpu_check": 1, "started": started, "budget_s": int(budget),
       "wall_s": int(wall), "nvidia_gpu": gpu == "1", "jobs": int(jobs),
       "machine": machine, "steps": steps,
       "counts": {k: sum(s["status"] == k for s in steps)
                  for k in ("passed", "failed", "skipped", "timed out")}}
with open(os.path.join(out, "summary.json.tmp"), "w") as f:
    json.dump(doc, f, indent=1)
os.replace(os.path.join(out, "summary.json.tmp"), os.path.join(out, "summary.json"))
cell = lambda t: t.replace("|", "\\|")
md = [f"# kgrade GPU check, {started}", ""] + [f"- {m}" for m in machine]
md += [f"- wall: {wall}s of a {budget}s budget; {jobs} jobs; "
       + ("NVIDIA GPU" if gpu == "1" else "no NVIDIA GPU: dry run"), "",
       "| step | command | status | s | figure |", "|---|---|---|---:|---|"]
for s in steps:
    md.append(f"| {s['id']} | `{cell(s['command'])}` | {cell(s['detail'])} | {s['seconds']} | "
              f"{cell(s['figure'])} |")
md += ["", "counts: " + ", ".join(f"{k} {v}" for k, v in doc["counts"].items())]
with open(os.path.join(out, "summary.md.tmp"), "w") as f:
    f.write("\n".join(md) + "\n")
os.replace(os.path.join(out, "summary.md.tmp"), os.path.join(out, "summary.md"))
PY
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
write_summary
if command -v nvidia-smi >/dev/null 2>&1; then
    run 1.1 15 nvidia-smi-L.txt -- nvidia-smi -L
    grep -q '^GPU [0-9]' "$OUT/nvidia-smi-L.txt" 2>/dev/null && HAVE_GPU=1
    figure 1.1 "$(head -n1 "$OUT/nvidia-smi-L.txt" 2>/dev/null)"
else
    skip 1.1 "no NVIDIA GPU (no nvidia-smi)" -- nvidia-smi -L
fi
gpu_run 1.2 20 nvidia-smi.txt -- nvidia-smi
figure 1.2 "$(grep -m1 -E 'Driver Version' "$OUT/nvidia-smi.txt" 2>/dev/null | tr -s ' |' ' ')"
gpu_run 1.3 15 nvidia-smi-query.csv -- nvidia-smi \
    --query-gpu=name,compute_cap,clocks.max.sm,clocks.max.memory,memory.total \
    --format=csv,noheader,nounits
figure 1.3 "$(head -n1 "$OUT/nvidia-smi-query.csv" 2>/dev/null)"
if command -v nvcc >/dev/null 2>&1; then
    run 1.4 15 nvcc.txt -- nvcc --version
    figure 1.4 "$(grep -m1 -E 'release' "$OUT/nvcc.txt" 2>/dev/null)"
else
    skip 1.4 "no nvcc" -- nvcc --version
fi
gpu_run 1.5 90 torch-triton.txt -- python3 -c \
    'import torch, triton; print(torch.__version__, triton.__version__, torch.cuda.get_device_name())'
figure 1.5 "$(tail -n1 "$OUT/torch-triton.txt" 2>/dev/null)"
if [ "$HAVE_GPU" = 1 ]; then
    log "GPU: $(head -n1 "$OUT/nvidia-smi-L.txt")"
    DEVICE=(--device cuda:0)
    ADV_DEVICE=cuda:0
else
    log "no NVIDIA GPU: a dry run on kgrade's best device$([ "$FORCE" = 1 ] && echo ', GPU-only steps run anyway: KG_CHECK_FORCE=1')"
    DEVICE=()
    ADV_DEVICE=
fi

# ---- 2. configure and build --------------------------------------------------------
# -DKG_WERROR=OFF: another compiler's new warnings must not cost the session
# its build (they are counted). The carried build/cjson is used only where
# the machine has no cJSON of its own.
cmake_args=(-S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release "-DKG_PYTHON=$(command -v python3)"
    "-DKG_UPSTREAM_DIR=$UPSTREAM" -DKG_WERROR=OFF)
if [ ! -f /usr/include/cjson/cJSON.h ] && [ ! -f /usr/local/include/cjson/cJSON.h ] &&
    [ -f build/cjson/include/cjson/cJSON.h ]; then
    cmake_args+=("-DCJSON_INCLUDE_DIR=$ROOT/build/cjson/include" "-DCJSON_LIBRARY=$ROOT/build/cjson/lib/libcjson.so.1")
    echo "cjson: the carried build/cjson (none on this machine)" >>"$OUT/machine.txt"
fi
if [ -n "$PREBUILT" ]; then
    skip 2.1 "using the build in $PREBUILT (KG_CHECK_PREBUILT)" -- cmake "${cmake_args[@]}"
else
    run 2.1 90 configure.log -- cmake "${cmake_args[@]}"
    run 2.2 240 build.log -- cmake --build "$BUILD" -j "$JOBS"
    figure 2.2 "warnings: $(grep -c 'warning:' "$OUT/build.log" 2>/dev/null); $(grab build.log 'error:' 1)"
fi

# ---- 3. devices and their properties ---------------------------------------------
run 3.1 30 devices.txt -- "$KGRADE" devices
figure 3.1 "$(grab devices.txt '^\[' 4 | tr '\n' ';')"
run 3.2 30 devices.json -- "$KGRADE" devices --json
props=(python3 tools/gpu_properties.py "$OUT/devices.json")
[ -s "$OUT/nvidia-smi-query.csv" ] && props+=("$OUT/nvidia-smi-query.csv")
run 3.3 60 properties.md -- "${props[@]}"
figure 3.3 "$(grab properties.md '^findings' 1)"

# ---- 4. CTest's GPU tests ------------------------------------------------------------
# test_cuda_backend times spin kernels: alone on the GPU. The smoke tests
# only check results, so they share it.
gpu_run 4.1 60 ctest-cuda-backend.log -- ctest --test-dir "$BUILD" -R '^test_cuda_backend$' \
    --output-on-failure
figure 4.1 "$(ctest_tally ctest-cuda-backend.log)"
gpu_run 4.2 120 ctest-gpu.log -- ctest --test-dir "$BUILD" -L gpu -E '^test_cuda_backend$|^hip_' \
    -j 4 --output-on-failure
figure 4.2 "$(ctest_tally ctest-gpu.log)"
gpu_run 4.3 90 ctest-nvrtc-triton.log -- ctest --test-dir "$BUILD" -R 'test_nvrtc|triton' \
    -j 4 --output-on-failure
figure 4.3 "$(ctest_tally ctest-nvrtc-triton.log)"

# ---- 5. the adversarial examples on the device ---------------------------------------
# Each as its expect.json says, through tests/adversarial.sh. An example in
# OpenCL C runs on an OpenCL GPU where kgrade lists one (NVIDIA's driver
# brings one), else it is skipped, said so.
adversarial() {
    local ocl_gpu passed=0 skipped=0 failed=0 dir name lang device
    ocl_gpu=$("$KGRADE" devices 2>/dev/null | sed -n 's/^\[[0-9]*\] \(opencl:[0-9]*\) .*(gpu.*/\1/p' | head -n1)
    local examples=("$ROOT"/kernels/examples/adversarial/*/ "$ROOT"/kernels/examples/opencl-softmax/)
    [ "$HAVE_GPU" = 1 ] || examples=("$ROOT"/kernels/examples/adversarial/stale-output/
        "$ROOT"/kernels/examples/adversarial/ignores-custom-mask/)
    for dir in "${examples[@]}"; do
        name=$(basename "$dir")
        lang=$(grep -ho '"language": *"[a-z]*"' "$dir/kernels.json" 2>/dev/null | head -n1 |
            sed 's/.*"\([a-z]*\)"$/\1/')
        device=$ADV_DEVICE
        if [ "$HAVE_GPU" = 1 ] && [ "$lang" = opencl ]; then
            device=$ocl_gpu
            if [ -z "$device" ]; then
                echo "skipped $name: OpenCL C, and kgrade lists no OpenCL GPU here"
                skipped=$((skipped + 1))
                continue
            fi
        fi
        if KG_ADVERSARIAL_DEVICE=$device CHECK_EXPECTATIONS=$BUILD/check_expectations \
            KGRADE=$KGRADE tests/adversarial.sh "$dir" "$OUT/adversarial/$name.jsonl" \
            >"$OUT/adversarial/$name.log" 2>&1; then
            echo "ok $name on ${device:-the best device}"
            passed=$((passed + 1))
        else
            echo "FAIL $name on ${device:-the best device}: $(grep -m2 -E '^FAIL' "$OUT/adversarial/$name.log" | tr '\n' ' ')"
            failed=$((failed + 1))
        fi
    done
    echo "examples as expected: $passed; not: $failed; skipped: $skipped"
    [ "$failed" = 0 ]
}
mkdir -p "$OUT/adversarial"
[ -x "$BUILD/check_expectations" ] || log "no $BUILD/check_expectations: step 5 will fail"
export -f adversarial
export ROOT KGRADE BUILD OUT HAVE_GPU ADV_DEVICE
run 5.1 120 adversarial.log -- bash -c adversarial
figure 5.1 "$(grab adversarial.log '^examples as expected' 1)"

# ---- 6. a grading on the device, and the timing cross-check --------------------------
if [ "$HAVE_GPU" = 1 ]; then
    small=(--size-class small --max-time 1 --timeout 60)
else
    small=(--workload softmax --size-class smoke --max-time 0.2 --timeout 60)
fi
run 6.1 120 small.log -- "$KGRADE" run "${DEVICE[@]}" "${small[@]}" --out "$OUT/small.jsonl"
figure 6.1 "$(grab small.log 'geomean speedup' 1)"
if [ -s "$OUT/small.jsonl" ]; then
    run 6.2 30 small-report.md -- "$KGRADE" report "$OUT/small.jsonl"
    figure 6.2 "$(grab small-report.md '^\*\*' 2 | tr '\n' ' ')"
    results_table "$OUT/small.jsonl" >"$OUT/small-table.md"
fi
gpu_run 6.3 60 crosscheck.log -- python3 tools/crosscheck_timing.py "$OUT/small.jsonl"
figure 6.3 "$(grab crosscheck.log '^largest deviation' 1)"

# ---- 7. repeatability -----------------------------------------------------------------
repeats=5
[ "$HAVE_GPU" = 1 ] || repeats=2
if [ "$HAVE_GPU" = 1 ]; then
    again=(--workload softmax,rmsnorm,gemm --size-class small --max-time 1 --timeout 60)
else
    again=(--workload softmax --size-class smoke --max-time 0.2 --timeout 60)
fi
for i in $(seq 1 $repeats); do
    run "7.$i" 40 "repeat-$i.log" -- "$KGRADE" run "${DEVICE[@]}" "${again[@]}" --quiet \
        --out "$OUT/repeat-$i.jsonl"
done
run 7.9 30 repeatability.md -- python3 tools/repeatability.py "$OUT"/repeat-*.jsonl
figure 7.9 "$(grab repeatability.md '^largest CV' 1)"

# ---- 8. the flagship: extend attention at the claim's shapes ----------------------------
# Every baseline tier the device runs, the most telling first (a run cut by
# its time box keeps the baselines it finished). naive is left out on the
# GPU: at these sizes it alone would take the step's time.
# The Triton tiers only where kgrade found Triton (a named tier it cannot
# build stops the run).
has_triton=$(python3 -c 'import json, sys; print(int(bool((json.load(open(sys.argv[1])).get("triton") or {}).get("version"))))' \
    "$OUT/devices.json" 2>/dev/null || echo 0)
if [ "$HAVE_GPU" = 1 ] && [ "$has_triton" = 1 ]; then
    tiers=triton-reference,reference,reference-early-exit,triton-current,reference-tuned
else
    tiers=reference,reference-early-exit,reference-tuned
fi
if [ "$HAVE_GPU" = 1 ]; then
    flagship=(--size-class claim --baseline "$tiers" --max-time 1 --min-samples 5 --timeout 100)
else
    flagship=(--size-class smoke --baseline reference,reference-early-exit --max-time 0.2 --timeout 60)
fi
run 8.1 150 flagship.log -- "$KGRADE" run "${DEVICE[@]}" --workload extend_attention \
    --candidate tuned "${flagship[@]}" --out "$OUT/flagship.jsonl"
if [ -s "$OUT/flagship.jsonl" ]; then
    run 8.2 30 flagship-report.md -- "$KGRADE" report "$OUT/flagship.jsonl"
    figure 8.2 "$(grep -A12 -m1 'Overall, against each baseline' "$OUT/flagship-report.md" |
        grep -E '^\| `' | tr '\n' ' ')"
    results_table "$OUT/flagship.jsonl" >"$OUT/flagship-table.md"
fi

# The other workloads with SGLang's Triton kernel as a tier: kgrade's
# portable tuned tier against it at small size (a tier the device cannot
# grade, the FP8 one before sm_89, is reported not graded, the rest run).
triton_workloads=decode_attention,prefill_attention,per_token_group_quant_fp8,silu_and_mul
triton_workloads=$triton_workloads,gelu_and_mul,rmsnorm,fused_moe
if [ "$has_triton" = 1 ]; then
    gpu_run 8.3 90 triton-tiers.log -- "$KGRADE" run "${DEVICE[@]}" --workload "$triton_workloads" \
        --size-class small --baseline triton-reference --candidate tuned --max-time 0.5 \
        --timeout 60 --out "$OUT/triton-tiers.jsonl"
    figure 8.3 "$(grab triton-tiers.log 'geomean speedup' 1)"
else
    skip 8.3 "no Triton on the device" -- "$KGRADE" run --baseline triton-reference
fi

# ---- 9. do_bench on SGLang's own kernel ------------------------------------------------
bench=(python3 tools/triton_dobench.py --upstream-dir "$UPSTREAM" --out "$OUT/dobench.jsonl"
    --size-class "$([ "$HAVE_GPU" = 1 ] && echo claim || echo smoke)")
[ -s "$OUT/flagship.jsonl" ] && bench+=(--results "$OUT/flagship.jsonl")
if [ "$HAVE_GPU" = 1 ] || [ "$FORCE" = 1 ]; then
    run 9.1 90 dobench.log -- "${bench[@]}"
    figure 9.1 "$(grep -cE 'within [0-9]+%$' "$OUT/dobench.log" 2>/dev/null) shapes within tolerance, $(grep -cE 'OUTSIDE' "$OUT/dobench.log" 2>/dev/null) outside"
elif [ -s "$OUT/flagship.jsonl" ]; then
    # Without a GPU: the lengths it would draw, against kgrade's records.
    run 9.1 30 dobench-lengths.log -- "${bench[@]}" --lengths-only
    figure 9.1 "lengths: $(grep -c ': match' "$OUT/dobench-lengths.log") shapes match kgrade's, $(grep -c 'MISMATCH' "$OUT/dobench-lengths.log") differ"
fi

# ---- 10. compute-sanitizer -------------------------------------------------------------
# One smoke run of every tier under memcheck (the workers too:
# --target-processes all). Slow: the smallest settings that still run each.
sanitize() {
    local w rc=0
    for w in softmax rmsnorm gemm; do
        "$KGRADE" run --device cuda:0 --workload "$w" --size-class smoke --baseline naive \
            --candidate tuned --max-time 0.05 --min-samples 2 --timeout 60 --quiet \
            --out "$OUT/sanitized.jsonl" || rc=1
    done
    "$KGRADE" run --device cuda:0 --workload extend_attention --size-class smoke \
        --baseline "naive,reference,reference-early-exit,reference-tuned$TRITON_TIERS" \
        --candidate tuned --max-time 0.05 --min-samples 2 --timeout 60 --quiet \
        --out "$OUT/sanitized.jsonl" || rc=1
    return $rc
}
if command -v compute-sanitizer >/dev/null 2>&1 || [ "$HAVE_GPU" != 1 ]; then
    TRITON_TIERS=$([ "$has_triton" = 1 ] && echo ,triton-reference,triton-current)
    export -f sanitize
    export TRITON_TIERS
    gpu_run 10.1 90 sanitizer.log -- compute-sanitizer --tool memcheck --target-processes all \
        --error-exitcode 3 bash -c sanitize
    figure 10.1 "$(grab sanitizer.log 'ERROR SUMMARY' 1)"
else
    skip 10.1 "no compute-sanitizer on the PATH" -- compute-sanitizer --tool memcheck
fi

# ---- the end ----------------------------------------------------------------------------
write_summary
log "done in $(elapsed)s; summary follows ($OUT/summary.md, $OUT/summary.json)"
echo
cat "$OUT/summary.md"
exit $FAILED
