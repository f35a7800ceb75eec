#!/usr/bin/env python3
"""Compiles every Triton kernel entry of the repository's manifests (the
submissions under kernels/ and each baseline's kernels.json) for sm_80 and sm_90, with the constexprs, num_warps and
num_stages the manifest gives for every shape of every size class, directly
with triton.compile: no GPU, no driver, no kgrade.

usage: compile_examples.py UPSTREAM_DIR [--arch 80,90] [--jobs N] [--cache-dir DIR]

UPSTREAM_DIR is laid out as <dir>/<package>-<version>/<path in wheel>, for
the entries that read an upstream file. Expressions are evaluated as kgrade
does (tests/triton/kgexpr.py) with the device symbols cuda_cc = 80 or 90,
warp_size = 32, is_gpu = 1; runtime integers are specialised as Triton's
launcher would (1 becomes a constant, multiples of 16 are marked), pointers
are taken as 16-byte aligned. Identical compiles (same source, target,
constexprs, specialisation, warps and stages) are made once. Each compile
prints its time, the shared memory it launches with and, where Triton's
cuobjdump is there, its registers and stack frame (spills); a compile that fails, or needs
more shared memory than the architecture has, fails the script.

Triton's cache is a fresh folder unless --cache-dir is given, so a run
measures cold compiles. Exit 0: all compiled; 1: a compile failed; 77:
Triton is not installed, or upstream files are missing (everything else is
still compiled and reported).
"""

import argparse
import hashlib
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kgexpr  # noqa: E402
import kgtriton  # noqa: E402

# Most dynamic shared memory a block may use (opt-in), in bytes.
SHARED_LIMIT = {80: 166912, 86: 101376, 89: 101376, 90: 232448, 100: 232448, 120: 101376}


def plan(root, upstream_dir, arches):
    """The distinct compiles, each with the (entry, shape) pairs it serves,
    and the upstream files that are missing."""
    jobs, missing = {}, []
    workloads = {}
    for manifest, wname, name, entry in kgtriton.triton_entries(root):
        rel = os.path.relpath(manifest, root)
        wpath = os.path.join(root, "baselines", wname, "workload.json")
        if wname not in workloads:
            workloads[wname] = kgexpr.load_json(wpath)
        workload = workloads[wname]
        src = kgtriton.source_path(manifest, entry, upstream_dir)
        if not os.path.isfile(src):
            missing.append(f"{rel}: {name}: {src}")
            continue
        with open(src, "rb") as f:
            text = f.read()
        src_hash = hashlib.sha256(text).hexdigest()
        for li, launch in enumerate(entry["launches"]):
            for cls, shape in kgexpr.workload_shapes(workload):
                if refused(workload, entry, shape):
                    continue  # kgrade never builds a set for a shape it refuses
                for arch in arches:
                    device = kgexpr.device_symbols(arch)
                    if any(kgexpr.evaluate(r["when"], device)
                           for r in entry.get("unsupported_devices", [])):
                        continue  # not graded there (fp8 before sm_89)
                    where = f"{rel}: {name} launches[{li}] {cls} {shape.get('name', '')}"
                    try:
                        r = kgtriton.resolve_launch(workload, entry, launch, shape, device)
                    except (kgexpr.ExprError, KeyError, ValueError) as e:
                        raise SystemExit(f"FAIL {where} sm_{arch}: {e}")
                    key = (src_hash, launch["entry"], arch,
                           tuple(sorted((k, str(v)) for k, v in r["constexprs"].items())),
                           kgtriton.specialisation_key(launch["signature"], r["values"]),
                           r["num_warps"], r["num_stages"])
                    job = jobs.setdefault(key, {
                        "src": src, "entry": launch["entry"], "arch": arch,
                        "signature": launch["signature"], "constexprs": r["constexprs"],
                        "values": r["values"], "num_warps": r["num_warps"],
                        "num_stages": r["num_stages"], "uses": []})
                    job["uses"].append(f"{rel}: {name} {cls}/{shape.get('name', '?')}")
    return list(jobs.values()), missing


def refused(workload, entry, shape):
    syms = kgexpr.derive_symbols(workload, shape)
    return any(kgexpr.evaluate(r["when"], syms) for r in entry.get("refuses", []))


_modules = {}


def _resource_usage(cubin, name):
    """(registers, stack and local bytes per thread) from Triton's cuobjdump, or None."""
    import triton
    tool = os.path.join(os.path.dirname(triton.__file__), "backends", "nvidia", "bin", "cuobjdump")
    if not os.access(tool, os.X_OK):
        return None
    with tempfile.NamedTemporaryFile(suffix=".cubin") as f:
        f.write(cubin)
        f.flush()
        out = subprocess.run([tool, "-res-usage", f.name], capture_output=True, text=True).stdout
    regs, stack = None, 0
    for line in out.splitlines():
        for part in line.split():
            if part.startswith("REG:"):
                regs = int(part[4:])
            elif part.startswith(("STACK:", "LOCAL:")):  # spills live in the stack frame
                stack += int(part.split(":")[1])
    return None if regs is None else (regs, stack)


def compile_job(args):
    job, work_dir = args
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource
    try:
        if job["src"] not in _modules:
            with open(job["src"], encoding="utf-8") as f:
                _modules[job["src"]] = kgtriton.load_module(f.read(), work_dir, job["src"])
        fn = getattr(_modules[job["src"]], job["entry"], None)
        if fn is None:
            return job, None, f"no @triton.jit function '{job['entry']}' in {job['src']}"
        sig, consts, attrs = kgtriton.ast_source_args(fn, job["signature"], job["constexprs"],
                                                      job["values"])
        t0 = time.time()
        kernel = triton.compile(ASTSource(fn, sig, consts, attrs),
                                target=GPUTarget("cuda", job["arch"], 32),
                                options={"num_warps": job["num_warps"],
                                         "num_stages": job["num_stages"]})
        seconds = time.time() - t0
        usage = _resource_usage(kernel.asm["cubin"], kernel.metadata.name)
        return job, {"seconds": seconds, "shared": kernel.metadata.shared, "usage": usage}, None
    except Exception as e:  # a compile error of any kind is the finding
        lines = str(e).strip().splitlines()
        return job, None, f"{type(e).__name__}: {' / '.join(lines[-6:])}"


def describe(job):
    c = ", ".join(f"{k}={v}" for k, v in job["constexprs"].items()
                  if v is not None and k.upper() == k)
    return (f"sm_{job['arch']} {os.path.basename(job['src'])}:{job['entry']} "
            f"[{c}] warps={job['num_warps']} stages={job['num_stages']}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("upstream_dir")
    ap.add_argument("--arch", default="80,90")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--cache-dir")
    a = ap.parse_args()
    import importlib.util
    if importlib.util.find_spec("triton") is None:
        print("SKIP: triton is not installed for", sys.executable)
        return 77
    root = kgexpr.repo_root()
    arches = [int(x) for x in a.arch.split(",")]
    jobs, missing = plan(root, a.upstream_dir, arches)
    uses = sum(len(j["uses"]) for j in jobs)
    print(f"{len(jobs)} distinct compiles for {uses} (entry, shape, architecture) triples")

    tmp = tempfile.mkdtemp(prefix="kg-triton-compile-")
    os.environ["TRITON_CACHE_DIR"] = a.cache_dir or os.path.join(tmp, "cache")
    os.environ.setdefault("TRITON_DEFAULT_FP_FUSION", "1")
    failed = 0
    t0 = time.time()
    try:
        with multiprocessing.get_context("fork").Pool(max(1, a.jobs)) as pool:
            for job, res, err in pool.imap_unordered(compile_job,
                                                     [(j, os.path.join(tmp, "src")) for j in jobs]):
                if err:
                    failed += 1
                    print(f"FAIL {describe(job)}\n     for {job['uses'][0]}"
                          f"{' and %d more' % (len(job['uses']) - 1) if len(job['uses']) > 1 else ''}"
                          f"\n     {err}")
                    continue
                usage = res["usage"]
                regs = f", {usage[0]} registers, {usage[1]} B stack" if usage else ""
                limit = SHARED_LIMIT.get(job["arch"])
                line = (f"{res['seconds']:6.2f} s  {describe(job)}: shared {res['shared']} B{regs}")
                if limit is not None and res["shared"] > limit:
                    failed += 1
                    print(f"FAIL {line}: more shared memory than sm_{job['arch']} has ({limit} B)")
                else:
                    print(f"  ok {line}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(jobs) - failed} of {len(jobs)} compiled in {time.time() - t0:.1f} s wall "
          f"with {a.jobs} jobs")
    if failed:
        return 1
    if missing:
        print("SKIP: upstream files missing, those entries were not compiled:")
        for m in missing:
            print("  ", m)
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main())
