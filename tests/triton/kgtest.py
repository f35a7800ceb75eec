"""Shared by the tests of hardware/triton/kgrade_triton.py (label triton).

Each test script is run by ctest through tests/triton/run.sh as
    <python> <script> --helper PATH --cache DIR [--upstream DIR]
with the Python that has triton; a script exits 77 (skipped) when
`import triton` fails there.
"""

import argparse
import ast
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time

SKIP = 77

# A small kernel with what the helper must drop (torch, a computed
# global, autotune) and keep (a constexpr global, a jit callee).
SMALL_SOURCE = '''\
"""A test module: the helper keeps only what Triton compiles."""
import torch
import triton
import triton.language as tl
from triton import jit

SCALE = tl.constexpr(2)
ON_GPU = torch.cuda.is_available()


def host_side(n):
    return triton.cdiv(n, 1024)


@jit
def _scaled(v, s):
    return v * s * SCALE


@triton.autotune(configs=[], key=["n"])
@triton.jit
def copy_kernel(x, y, n, one, s, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    o = pid * BLOCK + tl.arange(0, BLOCK)
    v = tl.load(x + o, mask=o < n).to(tl.float32)
    tl.store(y + o, (_scaled(v, s) + one).to(tl.bfloat16), mask=o < n)


@triton.jit(launch_metadata=host_side, do_not_specialize=["n"])
def copy_dns(x, y, n, BLOCK: tl.constexpr):
    o = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(y + o, tl.load(x + o, mask=o < n), mask=o < n)


@triton.jit
def cast_kernel(x, y, n, OUT: tl.constexpr, BLOCK: tl.constexpr):
    o = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(y + o, tl.load(x + o, mask=o < n).to(OUT).to(tl.float32), mask=o < n)
'''

UPSTREAM_FILES = {
    "0.5.12": "sglang/srt/layers/attention/triton_ops/extend_attention.py",
    "0.5.23": "sglang/kernels/ops/attention/extend_attention.py",
}

# The full shapes of baselines/extend_attention/workload.json: (D, logit_cap);
# B = 19, Hq = 12, Hkv = 4 in all of them.
FULL_SHAPES = [(256, 0), (128, 0), (96, 0), (80, 0), (13, 0), (128, 30)]
B, HQ, HKV = 19, 12, 4


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--helper", required=True)
    p.add_argument("--cache", required=True)
    p.add_argument("--upstream", default=None)
    args = p.parse_args()
    args.upstream = os.environ.get("KGRADE_UPSTREAM_DIR") or args.upstream
    return args


def require_triton():
    try:
        import triton  # noqa: F401
    except ImportError as e:
        print(f"SKIP: import triton fails in {sys.executable}: {e}")
        sys.exit(SKIP)


def fresh_dir(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def run_helper(helper, request, raw=None, env=None):
    """(exit code, reply, seconds of wall time, stderr) of one request."""
    text = raw if raw is not None else json.dumps(request)
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, helper, "compile"], input=text,
                       capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - t0
    try:
        reply = json.loads(r.stdout)
    except json.JSONDecodeError:
        reply = None
    return r.returncode, reply, seconds, r.stderr


class Failures:
    def __init__(self):
        self.items = []

    def check(self, ok, what):
        if not ok:
            self.items.append(what)
            print("FAIL:", what)
        return ok

    def exit(self):
        if self.items:
            print(f"{len(self.items)} failure(s)")
            sys.exit(1)
        print("all passed")
        sys.exit(0)


# ---- requests ------------------------------------------------------------------

CUDA = {80: {"backend": "cuda", "arch": 80, "warp_size": 32},
        90: {"backend": "cuda", "arch": 90, "warp_size": 32}}
HIP = {"gfx942": {"backend": "hip", "arch": "gfx942", "warp_size": 64},
       "gfx90a": {"backend": "hip", "arch": "gfx90a", "warp_size": 64}}


def small_request(cache, target, entry="copy_kernel", n=4096):
    if entry == "copy_kernel":
        sig = {"x": "*bf16", "y": "*bf16", "n": "i32", "one": "i32", "s": "fp32"}
        values = {"n": n, "one": 1}
    else:
        sig = {"x": "*bf16", "y": "*bf16", "n": "i32"}
        values = {"n": n}
    return {"source": SMALL_SOURCE, "source_name": "small.py", "entry": entry,
            "signature": sig, "constexprs": {"BLOCK": 1024}, "values": values,
            "num_warps": 4, "num_stages": 2, "target": target, "cache_dir": cache}


def small_requests(cache):
    """(label, request) of every small-kernel compile of the tests."""
    out = []
    for arch, target in CUDA.items():
        out.append((f"small copy_kernel sm_{arch}", small_request(cache, target)))
    for arch, target in HIP.items():
        out.append((f"small copy_kernel {arch}", small_request(cache, target)))
    out.append(("small copy_dns sm_90", small_request(cache, CUDA[90], "copy_dns")))
    # A dtype constexpr ({"dtype": T}: tl's dtype, as SGLang's fused MoE
    # kernel takes its compute type), two dtypes: two kernels.
    for dtype in ("fp16", "bf16"):
        cast = small_request(cache, CUDA[90], "cast_kernel")
        cast["signature"] = {"x": "*fp32", "y": "*fp32", "n": "i32"}
        cast["constexprs"] = {"OUT": {"dtype": dtype}, "BLOCK": 1024}
        out.append((f"small cast_kernel sm_90 {dtype}", cast))
    out.append(("small copy_kernel sm_90 n=4095", small_request(cache, CUDA[90], n=4095)))
    # SGLang's AMD launch options, which a HIP target takes.
    amd = small_request(cache, HIP["gfx942"])
    amd["options"] = {"waves_per_eu": 1, "matrix_instr_nonkdim": 16, "kpack": 2}
    out.append(("small copy_kernel gfx942 sglang options", amd))
    return out


def block_sizes(source, target, D):
    """The file's own _get_block_sizes_for_extend_attention(D, D), run with
    the module globals it reads set as on that target."""
    import triton
    tree = ast.parse(source)
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef)
              and n.name == "_get_block_sizes_for_extend_attention")
    hip = target["backend"] == "hip"
    scope = {"triton": triton, "_is_hip": hip, "_is_cuda": not hip,
             "CUDA_CAPABILITY": (target["arch"] // 10, target["arch"] % 10) if not hip else None,
             "_is_gfx95": hip and target["arch"].startswith("gfx95"),
             "_is_gfx1250": hip and target["arch"] == "gfx1250", "_is_triton_ge_37": True}
    exec(compile(ast.Module(body=[fn], type_ignores=[]), "<block sizes>", "exec"), scope)
    return scope["_get_block_sizes_for_extend_attention"](D, D)


def fwd_kernel_params(source):
    """[(name, is_constexpr, has_default)] of _fwd_kernel, in order."""
    tree = ast.parse(source)
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "_fwd_kernel")
    args = fn.args.args
    defaults = [None] * (len(args) - len(fn.args.defaults)) + fn.args.defaults
    return [(a.arg, a.annotation is not None and "constexpr" in ast.unparse(a.annotation),
             d is not None) for a, d in zip(args, defaults)]


def fwd_request(cache, version, source, target, D, cap):
    """extend_attention's _fwd_kernel as SGLang's extend_attention_fwd calls
    it for a full shape of the workload (no mask, no sink, no window,
    causal, bf16, page size 1), parameter by parameter."""
    dmodel, dpe, dv, bm, bn, warps = block_sizes(source, target, D)
    ints = {"kv_group_num": HQ // HKV, "compact_batch_size": B,
            "stride_qbs": HQ * D, "stride_qh": D, "stride_kbs": HKV * D, "stride_kh": D,
            "stride_vbs": HKV * D, "stride_vh": D, "stride_obs": HQ * D, "stride_oh": D,
            "stride_lse_bs": 0, "stride_lse_h": 0,
            "stride_buf_kbs": HKV * D, "stride_buf_kh": D, "stride_buf_vbs": HKV * D,
            "stride_buf_vh": D, "stride_buf_kpage": HKV * D, "stride_buf_ktok": HKV * D,
            "stride_buf_vpage": HKV * D, "stride_buf_vtok": HKV * D,
            "aux0_stride_t": 0, "aux0_stride_h": 0, "aux0_len": 0}
    pointers = {"Q_Extend": "*bf16", "K_Extend": "*bf16", "V_Extend": "*bf16",
                "O_Extend": "*bf16", "K_Buffer": "*bf16", "V_Buffer": "*bf16",
                "qo_indptr": "*i32", "kv_indptr": "*i32", "kv_indices": "*i32"}
    floats = {"sm_scale", "k_scale", "v_scale"}
    nones = {"mask_ptr", "mask_indptr", "sink_ptr", "window_kv_offset_ptr",
             "LSE_Extend", "Aux0"}
    hip = target["backend"] == "hip"
    consts = {"SLIDING_WINDOW_SIZE": -1, "logit_cap": cap, "xai_temperature_len": -1,
              "Lq": D, "Lv": D, "BLOCK_DMODEL": dmodel, "BLOCK_DPE": dpe, "BLOCK_DV": dv,
              "BLOCK_M": bm, "BLOCK_N": bn, "BLOCK_N_PREFIX": bn,
              "USE_CUSTOM_MASK": False, "IS_CAUSAL": True, "SKIP_PREFIX_CUSTOM_MASK": True,
              "STORE_TRANSPOSE": hip, "HAS_SINK": False, "STORE_LSE": False,
              "SKIP_PREFIX": False, "SKIP_EXTEND": False, "USE_COMPACT_TILE_GRID": False,
              "USE_EXP2": False, "USE_FP8_PREFIX": False, "USE_FP8_EXTEND": False,
              "FP8_MAX": 1.0}
    sig, cex, values = {}, {}, {}
    for name, is_constexpr, has_default in fwd_kernel_params(source):
        if name in nones:
            cex[name] = None
        elif is_constexpr and name in consts:
            cex[name] = consts[name]
        elif is_constexpr and has_default:
            continue  # IS_GFX1250, PAGE_SIZE, ...: SGLang passes the default
        elif name in pointers:
            sig[name] = pointers[name]
        elif name in floats:
            sig[name] = "fp32"
        elif name in ints:
            sig[name], values[name] = "i32", ints[name]
        else:
            raise SystemExit(f"_fwd_kernel of sglang {version} has a parameter {name} "
                             f"these tests do not know: add it to tests/triton/kgtest.py")
    return {"source": source, "source_name": f"sglang-{version}/extend_attention.py",
            "entry": "_fwd_kernel", "signature": sig, "constexprs": cex, "values": values,
            "num_warps": warps, "num_stages": 1, "target": target, "cache_dir": cache}


def upstream_requests(upstream, cache):
    """(label, request) of every _fwd_kernel compile of the tests, or None
    when the extracted upstream files are not there."""
    out = []
    for version, path in UPSTREAM_FILES.items():
        file = os.path.join(upstream or "", f"sglang-{version}", path)
        if not upstream or not os.path.isfile(file):
            print(f"no {file}: the upstream sglang files are extracted by the "
                  f"Python setup (scripts/install-deps.sh)")
            return None
        with open(file) as f:
            source = f.read()
        for arch in (80, 90):
            for D, cap in FULL_SHAPES:
                label = f"sglang {version} _fwd_kernel sm_{arch} D={D} cap={cap}"
                out.append((label, fwd_request(cache, version, source, CUDA[arch], D, cap)))
        label = f"sglang {version} _fwd_kernel gfx942 D=128 cap=0"
        out.append((label, fwd_request(cache, version, source, HIP["gfx942"], 128, 0)))
    return out


# ---- checking replies ----------------------------------------------------------

PTX_OF = {"i32": "u32", "u32": "u32", "i64": "u64", "u64": "u64", "fp32": "f32",
          "fp64": "f64", "i1": "pred", "u1": "pred"}


def check_reply(fail, label, request, reply):
    """What every successful reply must hold, whatever the kernel."""
    ok = fail.check(reply and reply.get("ok") is True, f"{label}: not ok: {reply}")
    if not ok:
        return False
    binary = reply["binary"]
    fail.check(os.path.isfile(binary) and os.path.getsize(binary) > 0,
               f"{label}: binary {binary} missing or empty")
    with open(binary, "rb") as f:
        fail.check(hashlib.sha256(f.read()).hexdigest() == reply["binary_sha256"],
                   f"{label}: binary_sha256 does not match the file")
    fail.check(reply["name"] == request["entry"], f"{label}: name {reply['name']}")
    names = [p["name"] for p in reply["params"]]
    fail.check(all(n in request["signature"] for n in names)
               and names == [n for n in request["signature"] if n in names],
               f"{label}: params {names} not a subsequence of the signature")
    fail.check([h["name"] for h in reply["hidden"]] == ["global_scratch", "profile_scratch"],
               f"{label}: hidden {reply['hidden']}")
    t = request["target"]
    fail.check(reply["target"] == f"{t['backend']}:{t['arch']}", f"{label}: target {reply['target']}")
    fail.check(reply["warp_size"] == t["warp_size"] and reply["num_warps"] == request["num_warps"],
               f"{label}: warps {reply['num_warps']} x {reply['warp_size']}")
    fail.check(reply["env"] == {"TRITON_DEFAULT_FP_FUSION": "1"}, f"{label}: env {reply.get('env')}")
    if t["backend"] == "cuda":
        want = [("u64" if p["type"].startswith("*") else PTX_OF.get(p["type"], "?"))
                for p in reply["params"]] + ["u64", "u64"]
        fail.check(reply["ptx_params"] == want,
                   f"{label}: ptx_params {reply['ptx_params']}, expected {want}")
    return True


def divisibility(reply):
    """{argument: divisible by 16?} from the TTIR stored beside the binary."""
    with open(os.path.join(os.path.dirname(reply["binary"]), "kernel.ttir")) as f:
        ttir = f.read()
    head = re.search(r"tt\.func public @\w+\((.*?)\) attributes", ttir).group(1)
    return {m.group(1): "tt.divisibility = 16" in m.group(2)
            for m in re.finditer(r"%(\w+): (.*?)loc\(", head)}
