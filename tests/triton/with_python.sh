#!/bin/sh
# Runs a Triton test script with the build's Python: with_python.sh PYTHON
# SCRIPT ARGS... Exits 77 (skipped) when that Python is not there, so a
# build without the Python set-up skips the Triton tests instead of failing.
python=$1
shift
if [ ! -x "$python" ]; then
    echo "SKIP: no Python at $python (make test sets it up: scripts/install-deps.sh)"
    exit 77
fi
exec "$python" "$@"
