#!/usr/bin/env bash
# python_env.sh PYTHON UPSTREAM_DIR REQUIREMENTS
# The set-up of scripts/python-env.sh: PYTHON imports triton and numpy, at
# the versions pinned in REQUIREMENTS; UPSTREAM_DIR/upstream.json lists
# both SGLang files, each on disk with the sha256 it gives (and each wheel,
# where it sits beside PYTHON's venv, with its own). Skipped (77) when
# PYTHON does not exist: no venv, e.g. PyPI was unreachable at set-up.
set -u
python=$1 upstream=$2 requirements=$3
if [ ! -x "$python" ]; then
    echo "SKIP: no $python (scripts/python-env.sh makes it)"
    exit 77
fi
pin() { sed -n "s/^$1==\([^ #]*\).*/\1/p" "$requirements"; }
want="$(pin triton) $(pin numpy)"
got=$("$python" -c "import triton, numpy; print(triton.__version__, numpy.__version__)") || {
    echo "FAIL: $python cannot import triton and numpy"
    exit 1
}
if [ "$got" != "$want" ]; then
    echo "FAIL: $python has triton, numpy $got; $requirements pins $want"
    exit 1
fi
echo "PASS: triton, numpy $got"

wheels=$(dirname "$(dirname "$python")")/wheels
"$python" - "$upstream" "$wheels" <<'PY'
import hashlib, json, os, sys

upstream, wheels = sys.argv[1], sys.argv[2]
want = {("0.5.12", "sglang/srt/layers/attention/triton_ops/extend_attention.py"),
        ("0.5.23", "sglang/kernels/ops/attention/extend_attention.py")}
listing = os.path.join(upstream, "upstream.json")
try:
    with open(listing) as f:
        entries = json.load(f)
except (OSError, ValueError) as e:
    sys.exit(f"FAIL: {listing}: {e}")

def sha256_of(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()

bad = 0
found = set()
for e in entries:
    keys = {"package", "version", "wheel", "wheel_sha256", "path", "sha256"}
    if set(e) != keys:
        print(f"FAIL: {listing}: entry with keys {sorted(e)}, expected {sorted(keys)}")
        bad += 1
        continue
    if e["package"] == "sglang":
        found.add((e["version"], e["path"]))
    path = os.path.join(upstream, f"{e['package']}-{e['version']}", e["path"])
    if not os.path.isfile(path) or sha256_of(path) != e["sha256"]:
        print(f"FAIL: {path}: missing or not sha256 {e['sha256']}")
        bad += 1
    whl = os.path.join(wheels, e["wheel"])
    if os.path.isdir(wheels) and (not os.path.isfile(whl) or sha256_of(whl) != e["wheel_sha256"]):
        print(f"FAIL: {whl}: missing or not sha256 {e['wheel_sha256']}")
        bad += 1
for version, path in sorted(want - found):
    print(f"FAIL: {listing} does not list sglang {version} {path}")
    bad += 1
if bad:
    sys.exit(1)
print(f"PASS: {listing}: {len(entries)} files, each with its sha256")
PY
