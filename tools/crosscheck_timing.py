#!/usr/bin/env python3
"""Cross-check kgrade's CUDA timings with independent timers.

For every shape record of a kgrade results file made on a CUDA device, this
script compiles the *same source* again (NVRTC through ctypes, the same
prelude, defines and architecture kgrade used), launches it with the grid,
block and arguments the record holds (ctypes cuLaunchKernel on PyTorch's
current stream), and times it with

  * triton.testing.do_bench (median; Triton's own L2 clearing between reps),
  * a plain CUDA-event loop with an explicit L2 flush before each rep,

then prints both next to kgrade's median and the relative deviation. It
exits 1 when a deviation exceeds --tolerance (default 2%).

Nothing here shares code with kgrade's C timing path: compilation, module
loading, launch, flush and timer are all done independently, so agreement
is evidence about kgrade's timer rather than about one implementation.

Usage (on a machine with an NVIDIA GPU, PyTorch and Triton):

    build/kgrade run --device cuda:0 --size-class full --out results/h100.jsonl
    python3 tools/crosscheck_timing.py results/h100.jsonl
    python3 tools/crosscheck_timing.py results/h100.jsonl --workload gemm --set candidate

Inputs are random (timings of these kernels do not depend on values);
outputs are not checked here: kgrade checked them.
"""

import argparse
import ctypes
import json
import os
import statistics
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRELUDE = os.path.join(REPO, "hardware", "cuda", "prelude.cuh")


def load_records(path):
    header, shapes = None, []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            rec = json.loads(line)
            if rec.get("type") == "run":
                header, shapes = rec, []  # the last run in the file
            elif rec.get("type") == "shape":
                shapes.append(rec)
    if header is None:
        sys.exit(f"{path}: no run header (not a kgrade results file?)")
    return header, shapes


class Nvrtc:
    def __init__(self):
        for name in ("libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"):
            try:
                self.lib = ctypes.CDLL(name)
                break
            except OSError:
                continue
        else:
            sys.exit("NVRTC not found (libnvrtc.so.13, .12 or .so)")
        self.lib.nvrtcGetErrorString.restype = ctypes.c_char_p

    def compile(self, source, name, arch, defines):
        prog = ctypes.c_void_p()
        rc = self.lib.nvrtcCreateProgram(ctypes.byref(prog), source.encode(), name.encode(),
                                         0, None, None)
        if rc:
            sys.exit(f"nvrtcCreateProgram: {self.lib.nvrtcGetErrorString(rc).decode()}")
        opts = [f"--gpu-architecture={arch}", "-lineinfo", "-std=c++17"]
        opts += [f"-D{d}" for d in defines]
        arr = (ctypes.c_char_p * len(opts))(*[o.encode() for o in opts])
        rc = self.lib.nvrtcCompileProgram(prog, len(opts), arr)
        if rc:
            size = ctypes.c_size_t()
            self.lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
            log = ctypes.create_string_buffer(size.value)
            self.lib.nvrtcGetProgramLog(prog, log)
            sys.exit(f"{name}: NVRTC failed:\n{log.value.decode(errors='replace')}")
        size = ctypes.c_size_t()
        self.lib.nvrtcGetCUBINSize(prog, ctypes.byref(size))
        cubin = ctypes.create_string_buffer(size.value)
        self.lib.nvrtcGetCUBIN(prog, cubin)
        self.lib.nvrtcDestroyProgram(ctypes.byref(prog))
        return cubin


class Driver:
    def __init__(self):
        self.lib = ctypes.CDLL("libcuda.so.1")

    def check(self, rc, what):
        if rc:
            name = ctypes.c_char_p()
            self.lib.cuGetErrorName(rc, ctypes.byref(name))
            sys.exit(f"{what}: {name.value.decode()}")

    def function(self, cubin, entry):
        module, fn = ctypes.c_void_p(), ctypes.c_void_p()
        self.check(self.lib.cuModuleLoadData(ctypes.byref(module), cubin), "cuModuleLoadData")
        self.check(self.lib.cuModuleGetFunction(ctypes.byref(fn), module, entry.encode()),
                   f"cuModuleGetFunction({entry})")
        return fn

    def launch(self, fn, grid, block, smem, stream, params):
        self.check(self.lib.cuLaunchKernel(fn, *[ctypes.c_uint(g) for g in grid],
                                           *[ctypes.c_uint(b) for b in block],
                                           ctypes.c_uint(smem), ctypes.c_void_p(stream),
                                           params, None), "cuLaunchKernel")


def kernel_source(record_set):
    """The text kgrade compiles: for .kc, the prelude and a #line directive."""
    path = record_set["source"]
    with open(path) as f:
        text = f.read()
    if record_set["language"] == "portable":
        with open(PRELUDE) as f:
            prelude = f.read()
        escaped = path.replace("\\", "\\\\").replace('"', '\\"')
        text = f'{prelude}\n#line 1 "{escaped}"\n{text}'
    elif record_set["language"] != "cuda":
        return None
    return text


def prepare(torch, nvrtc, drv, rec, record_set, arch):
    """A closure that enqueues every launch of the set once."""
    dtypes = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16,
              "i32": torch.int32, "i64": torch.int64, "u8": torch.uint8}
    tensors = {}
    for t in rec["tensors"]:
        dt = dtypes[t["dtype"]]
        if dt.is_floating_point:
            tensors[t["name"]] = torch.randn(t["shape"], dtype=dt, device="cuda")
        else:
            tensors[t["name"]] = torch.zeros(t["shape"], dtype=dt, device="cuda")
    source = kernel_source(record_set)
    if source is None:
        return None
    defines = [d[2:] for d in record_set.get("defines", "").split() if d.startswith("-D")]
    cubin = nvrtc.compile(source, record_set["source"], arch, defines)
    keep = []  # ctypes objects that must outlive the launches
    launches = []
    for launch in record_set["launches"]:
        fn = drv.function(cubin, launch["entry"])
        smem = int(launch["dynamic_local_bytes"])
        if smem > 48 * 1024:
            drv.check(drv.lib.cuFuncSetAttribute(fn, 8, smem), "cuFuncSetAttribute")
        values = []
        for a in launch["args"]:
            if "tensor" in a:
                values.append(ctypes.c_uint64(tensors[a["tensor"]].data_ptr()))
            elif "scratch" in a:
                buf = torch.empty(max(1, int(a["bytes"])), dtype=torch.uint8, device="cuda")
                keep.append(buf)
                values.append(ctypes.c_uint64(buf.data_ptr()))
            elif "f32" in a:
                values.append(ctypes.c_float(a["f32"]))
            elif "i64" in a:
                values.append(ctypes.c_int64(int(a["i64"])))
            else:
                values.append(ctypes.c_int32(int(a["i32"])))
        params = (ctypes.c_void_p * len(values))(*[ctypes.addressof(v) for v in values])
        keep += [values, params]
        launches.append((fn, launch["grid"], launch["block"], smem, params))

    def run():
        stream = torch.cuda.current_stream().cuda_stream
        for fn, grid, block, smem, params in launches:
            drv.launch(fn, grid, block, smem, stream, params)

    run.keep = (keep, tensors)
    return run


def time_with_events(torch, fn, l2_bytes, reps):
    flush = torch.empty(max(2 * l2_bytes, 8 << 20), dtype=torch.uint8, device="cuda")
    for _ in range(3):
        fn()
    times = []
    for _ in range(reps):
        flush.zero_()
        start = torch.cuda.Event(enable_timing=True)
        stop = torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop) * 1e-3)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", help="kgrade results file (JSON lines) from a CUDA device")
    ap.add_argument("--workload", help="only this workload")
    ap.add_argument("--shape", help="only this shape name")
    ap.add_argument("--set", choices=["baseline", "candidate", "both"], default="both")
    ap.add_argument("--reps", type=int, default=200, help="event-loop repetitions (200)")
    ap.add_argument("--tolerance", type=float, default=0.02,
                    help="largest accepted relative deviation (0.02)")
    args = ap.parse_args()

    header, shapes = load_records(args.results)
    device = header["device"]
    if device.get("backend") != "cuda":
        sys.exit(f"{args.results}: made on {device.get('backend')}, not cuda")
    if header["settings"].get("hot"):
        sys.exit("the run used --hot; this script compares cold-cache timings")
    import torch
    import triton.testing

    nvrtc, drv = Nvrtc(), Driver()
    torch.cuda.init()
    torch.zeros(1, device="cuda")  # makes the primary context current
    arch = device["arch"]
    l2 = int(device["cache_bytes"])
    print(f"device {device['name']} ({arch}), driver {device['driver_version']}, "
          f"torch {torch.__version__}, triton {triton.__version__}")
    print(f"{'workload':10} {'shape':18} {'set':9} {'kgrade':>11} {'do_bench':>11} "
          f"{'dev':>7} {'events':>11} {'dev':>7}")
    worst = 0.0
    roles = ["baseline", "candidate"] if args.set == "both" else [args.set]
    for rec in shapes:
        if args.workload and rec["workload"] != args.workload:
            continue
        if args.shape and rec["shape"] != args.shape:
            continue
        for role in roles:
            s = rec[role]
            if s.get("status") != "ok" or not s.get("samples_s"):
                continue
            if rec["workload"] == "extend_attention":
                # Its index tensors (and mask) would be zeros here: empty
                # requests, timing of nothing. tools/triton_dobench.py times
                # this workload with its real layout.
                print(f"{rec['workload']:10} {rec['shape']:18} {role:9} skipped: index tensors "
                      "are not reproduced here")
                continue
            fn = prepare(torch, nvrtc, drv, rec, s, arch)
            if fn is None:
                print(f"{rec['workload']:10} {rec['shape']:18} {role:9} skipped: "
                      f"language {s['language']}")
                continue
            ours = statistics.median(s["samples_s"])
            bench = triton.testing.do_bench(fn, warmup=25, rep=200, return_mode="median") * 1e-3
            events = time_with_events(torch, fn, l2, args.reps)
            d1, d2 = bench / ours - 1, events / ours - 1
            worst = max(worst, abs(d1), abs(d2))
            print(f"{rec['workload']:10} {rec['shape'][:18]:18} {role:9} "
                  f"{ours * 1e6:9.2f}us {bench * 1e6:9.2f}us {d1:+7.2%} "
                  f"{events * 1e6:9.2f}us {d2:+7.2%}")
    print(f"largest deviation {worst:.2%} (tolerance {args.tolerance:.0%})")
    return 1 if worst > args.tolerance else 0


if __name__ == "__main__":
    sys.exit(main())
