#!/usr/bin/env bash
# layering.sh SOURCE_DIR
# The pipeline's stages, lowest first (docs/architecture.md): a file may
# include headers of its own stage and of the stages below it, never of a
# stage above. The build already fails on most upward includes (each stage's
# include folder reaches only the stages above it); this reads every
# include line, so the rule holds even for a header that a stage could
# reach some other way.
set -u
cd "$1" || exit 2
stages=(runner/common hardware runner/formats runner/stats runner/grade runner/results reports
        runner/cli)

# The stage of every project header, by file name.
declare -A stage_of
for i in "${!stages[@]}"; do
    while IFS= read -r h; do
        name=$(basename "$h")
        if [ -n "${stage_of[$name]:-}" ]; then
            echo "FAIL: header $name exists in two places (${stages[${stage_of[$name]}]} and ${stages[$i]})"
            exit 1
        fi
        stage_of[$name]=$i
    done < <(find "${stages[$i]}" -name '*.h')
done

bad=0 checked=0
for i in "${!stages[@]}"; do
    while IFS= read -r f; do
        while IFS= read -r inc; do
            j=${stage_of[$inc]:-}
            [ -z "$j" ] && continue # a system or generated header
            checked=$((checked + 1))
            if [ "$j" -gt "$i" ]; then
                echo "FAIL: $f (stage ${stages[$i]}) includes $inc of the higher stage ${stages[$j]}"
                bad=$((bad + 1))
            fi
        done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
    done < <(find "${stages[$i]}" -name '*.c' -o -name '*.h')
done
[ "$bad" -eq 0 ] || exit 1
echo "PASS: $checked includes of project headers, none reaching a higher stage"
