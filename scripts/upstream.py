#!/usr/bin/env python3
"""upstream.py BUILD_DIR

The upstream Triton sources kgrade grades against, fetched at set-up time
(scripts/python-env.sh), never at run time and never into the source tree:
for each file below, `pip download --no-deps` its release's wheel into
BUILD_DIR/python/wheels/ (kept if already there), checks the wheel's sha256
against the one PyPI publishes, extracts that one file to
BUILD_DIR/upstream/<package>-<version>/<path>, and lists them all in
BUILD_DIR/upstream/upstream.json:

  [{"package": "sglang", "version": "0.5.12", "wheel": "<file name>",
    "wheel_sha256": "<hex>", "path": "<path in wheel>", "sha256": "<hex>"}, ...]

The wheel is always the CPython 3.11 manylinux_2_34 x86_64 build, whatever
this machine is: only a Python source file is taken from it, and one wheel
everywhere gives the same file and the same hashes everywhere.

Quick when all is in place (the wheels and the files, with their hashes).
Exit 0 when every file is in place, 1 when some could not be fetched (the
list then holds the others; the message says which and why), 2 on usage.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile

# package, version, path in the wheel, sha256 of the wheel as published on
# PyPI. 0.5.12: the last release before the claim date (2026-05-20),
# uploaded 2026-05-16; 0.5.23: the newest, 2026-10-30.
FILES = [
    ("sglang", "0.5.12", "sglang/srt/layers/attention/triton_ops/extend_attention.py",
     "4ed786a38655851fd055ef57380c34d29b87753b53f63457309f51e5bf48c2e6"),
    ("sglang", "0.5.23", "sglang/kernels/ops/attention/extend_attention.py",
     "00b3cd5b265ac76c64185fbb6b95424f324ddd9f428d0306b77bc9db9d859937"),
    ("sglang", "0.5.12", "sglang/srt/layers/attention/triton_ops/decode_attention.py",
     "4ed786a38655851fd055ef57380c34d29b87753b53f63457309f51e5bf48c2e6"),
    ("sglang", "0.5.12", "sglang/srt/layers/attention/triton_ops/prefill_attention.py",
     "4ed786a38655851fd055ef57380c34d29b87753b53f63457309f51e5bf48c2e6"),
    ("sglang", "0.5.23", "sglang/kernels/ops/attention/prefill_attention.py",
     "00b3cd5b265ac76c64185fbb6b95424f324ddd9f428d0306b77bc9db9d859937"),
    ("sglang", "0.5.12", "sglang/srt/layers/quantization/fp8_kernel.py",
     "4ed786a38655851fd055ef57380c34d29b87753b53f63457309f51e5bf48c2e6"),
    ("sglang", "0.5.12", "sglang/srt/layers/elementwise.py",
     "4ed786a38655851fd055ef57380c34d29b87753b53f63457309f51e5bf48c2e6"),
    ("sglang", "0.5.12", "sglang/srt/layers/moe/moe_runner/triton_utils/fused_moe_triton_kernels.py",
     "4ed786a38655851fd055ef57380c34d29b87753b53f63457309f51e5bf48c2e6"),
    ("sglang", "0.5.12", "sglang/srt/layers/moe/moe_runner/triton_utils/fused_moe_triton_config.py",
     "4ed786a38655851fd055ef57380c34d29b87753b53f63457309f51e5bf48c2e6"),
]
PLATFORM = "manylinux_2_34_x86_64"
PY_TAG = "cp311"


def wheel_name(package, version):
    return f"{package}-{version}-{PY_TAG}-{PY_TAG}-{PLATFORM}.whl"


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_atomically(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp's file is 0600
    os.replace(tmp, path)


def in_place(listing, wheels, upstream):
    """Whether upstream.json lists every file, each on disk with its hash,
    and the wheels it came from are there with theirs."""
    try:
        with open(listing) as f:
            entries = json.load(f)
        for package, version, path, wheel_sha in FILES:
            e = next(e for e in entries if e["package"] == package and
                     e["version"] == version and e["path"] == path)
            if (e["wheel"] != wheel_name(package, version) or e["wheel_sha256"] != wheel_sha or
                    sha256_of(os.path.join(wheels, e["wheel"])) != wheel_sha or
                    sha256_of(os.path.join(upstream, f"{package}-{version}", path)) != e["sha256"]):
                return False
        return len(entries) == len(FILES)
    except (OSError, ValueError, KeyError, TypeError, StopIteration):
        return False


def download(package, version, wheels):
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--python-version", "3.11", "--implementation", "cp", "--abi", PY_TAG,
           "--platform", PLATFORM, "--dest", wheels, "--quiet", "--progress-bar", "off",
           "--disable-pip-version-check", "--retries", "2", "--timeout", "30",
           f"{package}=={version}"]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        lines = r.stdout.strip().splitlines() or ["no message"]
        errors = [line for line in lines if line.startswith("ERROR")]
        return "pip download failed: " + (errors or lines)[-1]
    return None


def fetch(package, version, path, wheel_sha, wheels, upstream):
    """The listing entry for one file, or the reason it is not available."""
    whl = os.path.join(wheels, wheel_name(package, version))
    if os.path.isfile(whl) and sha256_of(whl) != wheel_sha:
        os.remove(whl)  # not what PyPI published (a partial download?): once more
    if not os.path.isfile(whl):
        print(f"kgrade: downloading {package}=={version} ({os.path.basename(whl)})",
              file=sys.stderr)
        why = download(package, version, wheels)
        if why:
            return None, why
        if not os.path.isfile(whl):
            return None, f"pip did not save {os.path.basename(whl)}"
    got = sha256_of(whl)
    if got != wheel_sha:
        os.remove(whl)
        return None, f"{os.path.basename(whl)} has sha256 {got}, PyPI published {wheel_sha}"
    try:
        with zipfile.ZipFile(whl) as z:
            data = z.read(path)
    except (OSError, KeyError, zipfile.BadZipFile) as e:
        return None, f"cannot read {path} from {os.path.basename(whl)}: {e}"
    write_atomically(os.path.join(upstream, f"{package}-{version}", path), data)
    return {"package": package, "version": version, "wheel": os.path.basename(whl),
            "wheel_sha256": wheel_sha, "path": path,
            "sha256": hashlib.sha256(data).hexdigest()}, None


def main(argv):
    if len(argv) != 2:
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    build = os.path.abspath(argv[1])
    wheels = os.path.join(build, "python", "wheels")
    upstream = os.path.join(build, "upstream")
    listing = os.path.join(upstream, "upstream.json")
    if in_place(listing, wheels, upstream):
        return 0
    os.makedirs(wheels, exist_ok=True)
    entries, missing = [], []
    for package, version, path, wheel_sha in FILES:
        entry, why = fetch(package, version, path, wheel_sha, wheels, upstream)
        if entry:
            entries.append(entry)
        else:
            missing.append(f"{package} {version} {path}: {why}")
    write_atomically(listing, (json.dumps(entries, indent=2) + "\n").encode())
    for m in missing:
        print(f"kgrade: upstream file not available: {m}", file=sys.stderr)
    if not missing:
        print(f"kgrade: upstream sources in {upstream} (listed in upstream.json)", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
