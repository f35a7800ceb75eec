#!/usr/bin/env bash
# function_length.sh SOURCE_DIR [LIMIT]
# No function in runner/, hardware/ or reports/ longer than LIMIT lines
# (100), from its signature's last line to its closing brace: a reader
# should hold a function in their head (docs/architecture.md). Data tables
# (`... table[] = {`) open their brace on the signature's line and are not
# counted. clang-format puts a function's braces at column 0.
set -u
cd "$1" || exit 2
limit=${2:-100}
files=$(find runner hardware reports -name '*.c' | sort)
[ -n "$files" ] || { echo "FAIL: no C files under $1"; exit 2; }
# shellcheck disable=SC2086
awk -v limit="$limit" '
    FNR == 1 { open_at = 0 }
    /^[A-Za-z_].*\(/ { signature = $0 }
    /^\{/ { open_at = FNR; name = signature }
    /^\}/ && open_at {
        n = FNR - open_at + 2
        counted++
        if (n > limit) { printf "FAIL: %s:%d: %d lines: %s\n", FILENAME, open_at, n, name; bad++ }
        open_at = 0
    }
    END {
        if (bad) exit 1
        printf "ok: %d functions, none over %d lines\n", counted, limit
    }' $files
