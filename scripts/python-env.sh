#!/usr/bin/env bash
# python-env.sh BUILD_DIR
# The Python side of the build, as the invoking user (no root needed):
#   BUILD_DIR/python/    a venv with the exact pins of
#                        scripts/python-requirements.txt (Triton, numpy),
#                        made again when that file changes (the stamp
#                        BUILD_DIR/python/.kgrade-requirements.sha256 holds
#                        its sha256)
#   BUILD_DIR/python/wheels/, BUILD_DIR/upstream/
#                        the SGLang wheels and the upstream files taken
#                        from them, listed in upstream.json (scripts/upstream.py)
# kgrade finds both from its build (KG_PYTHON, KG_UPSTREAM_DIR) or from
# KGRADE_PYTHON and KGRADE_UPSTREAM_DIR; nothing is downloaded at run time.
# Quick when all is in place. Without PyPI (or python3-venv) it says so and
# exits 0: the build goes on and Triton kernel sets are "triton unavailable".
# The Python that makes the venv: $KG_BASE_PYTHON, else Debian's
# /usr/bin/python3, else python3 on the PATH.
set -uo pipefail
if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1" && build=$(cd "$1" && pwd) || exit 2
venv=$build/python
requirements=$here/python-requirements.txt
stamp=$venv/.kgrade-requirements.sha256
want=$(sha256sum "$requirements" | cut -d' ' -f1)

base=${KG_BASE_PYTHON:-}
if [ -z "$base" ]; then
    if [ -x /usr/bin/python3 ]; then
        base=/usr/bin/python3
    else
        base=$(command -v python3 || true)
    fi
fi

# unavailable WHAT [CONSEQUENCE]
unavailable() {
    echo "kgrade: $1" >&2
    echo "kgrade: continuing without it: ${2:-Triton kernel sets will be reported as 'triton unavailable'};" \
        "run 'make' again once it is fixed." >&2
}

# The venv's own parts, not its wheels/ folder.
remove_venv() {
    local part
    for part in bin include lib lib64 share pyvenv.cfg; do
        rm -rf "${venv:?}/$part"
    done
    rm -f "$stamp"
}

make_venv() {
    echo "kgrade: making the Python venv $venv ($(grep -E '^[a-z]' "$requirements" | paste -sd ' '))" >&2
    remove_venv
    if [ -z "$base" ]; then
        unavailable "no python3 found to make $venv (install python3 and python3-venv)"
        return
    fi
    if ! "$base" -m venv "$venv"; then
        remove_venv
        unavailable "'$base -m venv $venv' failed (is python3-venv installed?)"
        return
    fi
    if ! "$venv/bin/python3" -m pip install --quiet --progress-bar off \
        --disable-pip-version-check --retries 2 --timeout 30 -r "$requirements"; then
        remove_venv
        unavailable "could not install $requirements into $venv (is PyPI reachable?)"
        return
    fi
    echo "$want" >"$stamp"
}

if [ ! -x "$venv/bin/python3" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    make_venv
fi

# pip comes with the venv; without one, the base Python's pip if it has one.
python=$venv/bin/python3
[ -x "$python" ] || python=$base
if [ -z "$python" ] || ! "$python" "$here/upstream.py" "$build"; then
    unavailable "the upstream SGLang files are not all in $build/upstream (see above)" \
        "the tiers that read one cannot be built"
fi
exit 0
