#!/usr/bin/env bash
# run.sh KG_PYTHON SCRIPT ARGS...
# Runs a Triton test script (tests/triton/) with the Python that has
# triton: KG_PYTHON (CMake's) when that file exists, else $KGRADE_PYTHON;
# with neither, the test is skipped (77). Decided at test time, not at
# configure time, as the venv may be made after cmake ran.
set -u
kg_python=$1
shift
python=$kg_python
if [ ! -x "$python" ]; then
    python=${KGRADE_PYTHON:-}
fi
if [ -z "$python" ] || [ ! -x "$python" ]; then
    echo "SKIP: no Python with triton: neither KG_PYTHON ($kg_python) nor KGRADE_PYTHON names one"
    exit 77
fi
# No __pycache__ in the source tree.
export PYTHONDONTWRITEBYTECODE=1
exec "$python" "$@"
