#!/usr/bin/env bash
# install.sh CMAKE BUILD_DIR SAVED_RESULTS
# `cmake --install` into a fresh prefix; then the installed kgrade, run from
# an unrelated folder, grades with the data installed beside it (the results
# name those folders, not the source tree), a variable or an option moves a
# folder, and a named folder that is not there is an error (exit 2) naming
# the option or variable and the path. SAVED_RESULTS (a run of extend
# attention) shows which claims folder `kgrade report` read. Everything is
# written under one temporary folder, removed at the end.
set -u
cmake=$1 build=$2 saved=$3
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
tmp=$(cd "$tmp" && pwd -P) # canonical, as kgrade records an installed folder
prefix=$tmp/prefix work=$tmp/work log=$tmp/log
kgrade=$prefix/bin/kgrade data=$prefix/share/kgrade

fail() {
    echo "FAIL: $*"
    echo "--- output ---"
    cat "$log"
    exit 1
}

# run WANT_RC ARGS...: the installed kgrade, its output in $log.
run() {
    local want=$1
    shift
    "$kgrade" "$@" >"$log" 2>&1
    local rc=$?
    [ "$rc" = "$want" ] || fail "kgrade $*: exit code $rc, expected $want"
}

# No DESTDIR from the caller: the files must land under $prefix itself.
env -u DESTDIR "$cmake" --install "$build" --prefix "$prefix" >"$log" 2>&1 ||
    fail "cmake --install $build"
for f in bin/kgrade share/kgrade/baselines/softmax/kernels.json \
    share/kgrade/baselines/extend_attention/reference.kc share/kgrade/hardware/profiles/h100-sxm.json share/kgrade/hardware/triton/kgrade_triton.py share/kgrade/hardware/triton/kgrade_sandbox.py \
    share/kgrade/reports/claims/qwen3.7-max.json share/doc/kgrade/README.md \
    share/doc/kgrade/architecture.md share/doc/kgrade/examples/opencl-softmax/kernels.json; do
    [ -e "$prefix/$f" ] || fail "cmake --install did not install $f"
done

# Nothing from the caller's environment chooses a folder here.
unset KGRADE_BASELINES_DIR KGRADE_PROFILES_DIR KGRADE_CLAIMS_DIR KGRADE_DATA_DIR
mkdir -p "$work" && cd "$work" || exit 1
grade=(run --workload softmax --size-class smoke --max-time 0.3 --quiet --baseline naive
    --candidate tuned)

# The installed data, from a folder that is neither the source nor the build tree.
run 0 "${grade[@]}" --out installed.jsonl
grep -Eq "geomean speedup [0-9][0-9.e+-]*x" "$log" || fail "no geomean line"
grep -Fq "\"baselines_dir\":\"$data/baselines\"" installed.jsonl ||
    fail "the run header does not name $data/baselines: $(head -c 3000 installed.jsonl)"
grep -Fq "\"manifest\":\"$data/baselines/softmax/kernels.json\"" installed.jsonl ||
    fail "the shape records do not name $data/baselines/softmax/kernels.json"
grep -Fq "$data/baselines/softmax/kernels.json (sha256" "$log" ||
    fail "the report does not name the installed manifest"

# A variable moves the workloads: a copy of softmax, named relative to here.
mkdir mine && cp -r "$data/baselines/softmax" mine/
KGRADE_BASELINES_DIR=mine run 0 "${grade[@]}" --out moved.jsonl
grep -Eq "geomean speedup [0-9][0-9.e+-]*x" "$log" || fail "no geomean line (KGRADE_BASELINES_DIR)"
grep -Fq '"baselines_dir":"mine"' moved.jsonl || fail "KGRADE_BASELINES_DIR=mine not recorded"
grep -Fq "\"manifest\":\"$work/mine/softmax/kernels.json\"" moved.jsonl ||
    fail "KGRADE_BASELINES_DIR=mine: the manifests are not the copy's"

# Claims: the installed ones, then a variable, then an option over a variable.
run 0 report "$saved"
grep -q "Qwen3.7-Max: 10x" "$log" || fail "kgrade report: no claims from $data/reports/claims"
mkdir noclaims oneclaim && cp "$data/reports/claims/glm-5.1.json" oneclaim/
KGRADE_CLAIMS_DIR=noclaims run 0 report "$saved"
! grep -q "Qwen3.7-Max" "$log" || fail "KGRADE_CLAIMS_DIR=noclaims: claims still printed"
KGRADE_CLAIMS_DIR=$tmp/nowhere run 0 report --claims oneclaim "$saved"
grep -q "GLM-5.1: 7.3x" "$log" && ! grep -q "Qwen3.7-Max" "$log" ||
    fail "--claims oneclaim: not the one claim of that folder"
# The installed folder, not the source tree's: a claim removed there goes.
rm "$data/reports/claims/qwen3.7-max.json"
run 0 report "$saved"
grep -q "GLM-5.1: 7.3x" "$log" && ! grep -q "Qwen3.7-Max" "$log" ||
    fail "kgrade report read claims from elsewhere than $data/reports/claims"

# A named folder that is not there: exit 2, the option or variable and the path.
run 2 "${grade[@]}" --baselines nowhere --out bad.jsonl
grep -Fq -- "kgrade run: --baselines nowhere: no such folder" "$log" || fail "--baselines nowhere"
KGRADE_PROFILES_DIR=$tmp/nowhere run 2 "${grade[@]}" --out bad.jsonl
grep -Fq "kgrade run: KGRADE_PROFILES_DIR=$tmp/nowhere: no such folder" "$log" ||
    fail "KGRADE_PROFILES_DIR=$tmp/nowhere"
KGRADE_DATA_DIR=$work run 2 report "$saved"
grep -Fq "kgrade report: KGRADE_DATA_DIR=$work: $work/reports/claims: no such folder" "$log" ||
    fail "KGRADE_DATA_DIR=$work"
[ ! -e bad.jsonl ] || fail "a refused run wrote its results file"
echo "PASS: installed under $prefix; data found beside kgrade, by variable and by option"
