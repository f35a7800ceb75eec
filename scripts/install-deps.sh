#!/usr/bin/env bash
# Installs the Debian packages kgrade needs, if any are missing.
# Uses sudo when not root; prints what it installs; fails clearly otherwise.
set -euo pipefail

# clang and libclang-rt-14-dev (libFuzzer and the sanitizer runtimes, only
# recommended by clang, so not pulled in below) are for `make fuzz`;
# python3 and python3-venv for the venv of scripts/python-env.sh (Triton),
# whose pip comes with the venv; chromium and a font for the test that loads
# `kgrade export --format html` in a real headless browser; slurm-wlm and
# munge for the test that runs `kgrade slurm` on a Slurm it starts itself;
# libclblast-dev for the OpenCL `library` tiers (CLBlast's header at build
# time; the library is loaded at run time, and a tier without it is not
# graded).
packages=(cmake make gcc libc6-dev pkg-config git libcjson-dev
          ocl-icd-opencl-dev opencl-headers pocl-opencl-icd clinfo libclblast-dev
          clang libclang-rt-14-dev libamdhip64-dev python3 python3-venv
          chromium fonts-dejavu-core slurm-wlm munge)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "kgrade: installing missing Debian packages: ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
else
    echo "kgrade: cannot install ${missing[*]}: not root and sudo is not available." >&2
    echo "        Ask an administrator to run: apt-get install ${missing[*]}" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "kgrade: apt-get not found; install by hand: ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! "${sudo[@]}" apt-get update -qq; then
    echo "kgrade: 'apt-get update' failed (network or sources.list?)" >&2
    exit 1
fi
if ! "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
    echo "kgrade: 'apt-get install ${missing[*]}' failed" >&2
    exit 1
fi
echo "kgrade: installed ${missing[*]}" >&2
