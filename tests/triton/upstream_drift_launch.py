#!/usr/bin/env python3
"""Checks that a Triton tier launches SGLang's kernels as the release's own
Python launcher does, by running that launcher: for every tier of
TIERS_JSON that reads an upstream file, and every shape of WORKLOAD_JSON
(plus the head sizes of EXTRA_D) the tier does not refuse, on CUDA (sm_80,
sm_90) and on HIP,

 (a) the parameters of each launched @triton.jit function are exactly the
     tier's signature and constexprs keys, in the function's order
     (upstream_drift.check_parameters);
 (b) the upstream launcher (LAUNCHERS: decode_attention_fwd for
     decode_attention, context_attention_fwd for prefill_attention),
     executed from the pinned file's own source with stand-ins for torch
     tensors and for the kernels (each records its grid, arguments and
     launch options instead of running), makes the tier's launches: the
     same kernels in the same order, the same grid,
     every runtime argument the same (a tensor or scratch buffer by name,
     an integer or float by value), every constexpr, num_warps and
     num_stages the same, and on HIP the AMD options the tier's
     hip_options give.

So a change upstream to a block size, a warp count, a grid, an argument's
order or a stride fails here, naming the release, shape, target and both
values. Only the launcher's functions are executed, never the module (it
imports torch); a global they read that this test does not provide fails
loudly. Standard library only.

usage: upstream_drift_launch.py UPSTREAM_DIR TIERS_JSON WORKLOAD_JSON
Exit 0: no drift; 1: drift; 77: an upstream file is missing.
"""

import ast
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kgexpr  # noqa: E402
import upstream_drift  # noqa: E402

TARGETS = [("sm_80", 80, 0), ("sm_90", 90, 0), ("HIP", 0, 1)]


class Tensor:
    """What a launcher reads of a torch tensor: its shape, strides and
    dtype; passed to a kernel, it stands for the workload tensor `name`."""

    def __init__(self, name, shape, dtype="bf16"):
        self.name, self.shape, self.dtype = name, tuple(shape), dtype
        self._strides = [1] * len(shape)
        for i in range(len(shape) - 2, -1, -1):
            self._strides[i] = self._strides[i + 1] * shape[i + 1]

    def stride(self, dim=None):
        return tuple(self._strides) if dim is None else self._strides[dim]

    def dim(self):
        return len(self.shape)

    def numel(self):
        n = 1
        for d in self.shape:
            n *= d
        return n

    def is_contiguous(self):
        return True

    device = None

    def __repr__(self):
        return f"<tensor {self.name}>"


class Kernel:
    """A @triton.jit function as a launcher sees it: kernel[grid](...)
    records the launch."""

    def __init__(self, name, log):
        self.name, self.log = name, log

    def __getitem__(self, grid):
        def launch(*args, **kwargs):
            # A grid function gets the launch's keywords, as Triton's
            # launcher passes it the constexprs (`lambda META: ...`).
            g = grid(kwargs) if callable(grid) else grid
            self.log.append((self.name, tuple(g), args, kwargs))
        return launch


class Triton:
    next_power_of_2 = staticmethod(upstream_drift.next_power_of_2)

    @staticmethod
    def cdiv(a, b):
        return -(-a // b)


def decode_call(syms, params):
    """decode_attention_fwd's arguments as SGLang's Triton backend passes
    them (triton_backend.py forward_decode): k_scale = v_scale = 1, no
    sinks, xai_temperature_len -1, not MLA, PDL off (kgrade launches
    without it)."""
    B, Hq, Hkv, D, Dv = (syms[n] for n in ("B", "Hq", "Hkv", "D", "Dv"))
    splits = syms["max_kv_splits"]
    args = (Tensor("q", (B, Hq, D)), Tensor("k_buffer", (syms["kv_slots"], Hkv, D)),
            Tensor("v_buffer", (syms["kv_slots"], Hkv, Dv)), Tensor("o", (B, Hq, Dv)),
            Tensor("kv_indptr", (B + 1,), "i32"), Tensor("kv_indices", (syms["sum_len"],), "i32"),
            Tensor("attn_logits", (B, Hq, splits, Dv), "f32"),
            Tensor("attn_lse", (B, Hq, splits), "f32"), Tensor("num_kv_splits", (B,), "i32"),
            splits, params["sm_scale"], 1.0, 1.0)
    kwargs = {"logit_cap": params["logit_cap"], "sinks": None, "xai_temperature_len": -1,
              "has_mla": False, "use_pdl": False}
    return args, kwargs


def prefill_call(syms, params):
    """context_attention_fwd's arguments: sm_scale left to its default,
    1/sqrt(D)."""
    T, Hq, Hkv, D, B = (syms[n] for n in ("tokens", "Hq", "Hkv", "D", "B"))
    args = (Tensor("q", (T, Hq, D)), Tensor("k", (T, Hkv, D)), Tensor("v", (T, Hkv, D)),
            Tensor("o", (T, Hq, D)), Tensor("b_start_loc", (B,), "i32"),
            Tensor("b_seq_len", (B,), "i32"), syms["max_len"])
    return args, {"is_causal": bool(syms["is_causal"])}


def prefill_env(cc, hip, tree):
    """On HIP, torch's get_device_capability() is the gfx major and minor:
    (9, 4) on gfx942 (MI300), the target the other HIP tests use."""
    return {"_is_cuda": not hip, "_is_hip": bool(hip), "triton": Triton,
            "CUDA_CAPABILITY": (9, 4) if hip else (cc // 10, cc % 10)}


class _Finfo:
    def __init__(self, lo, hi):
        self.min, self.max = lo, hi


class Torch:
    """What the launchers read of torch: dtypes, finfo, and allocations,
    which stand for the workload's outputs: EMPTY_LIKE and EMPTY name the
    tensors torch.empty_like and torch.empty make (subclasses set them)."""
    EMPTY_LIKE, EMPTY = "q", "scales"  # per_token_group_quant_8bit's
    Tensor, dtype, device = Tensor, object, object
    int8, int, float32 = "int8", "int32", "f32"
    float8_e4m3fn = "float8_e4m3fn"

    @staticmethod
    def finfo(dtype):
        return {"float8_e4m3fn": _Finfo(-448.0, 448.0)}[dtype]

    @staticmethod
    def iinfo(dtype):
        return _Finfo(-128, 127)

    @classmethod
    def empty_like(cls, x, device=None, dtype=None):
        return Tensor(cls.EMPTY_LIKE, x.shape, dtype)

    @classmethod
    def empty(cls, shape, device=None, dtype=None):
        return Tensor(cls.EMPTY, shape, dtype)


class TorchActivation(Torch):
    EMPTY = "out"  # silu_and_mul_triton's and gelu_and_mul_triton's output


class TorchNorm(Torch):
    EMPTY_LIKE = "y"  # fused_rmsnorm's output


def activation_call(syms, params):
    """silu_and_mul_triton / gelu_and_mul_triton(hidden_states), no
    quantisation."""
    return (Tensor("x", (syms["tokens"], 2 * syms["d"])),), {}


def rmsnorm_call(syms, params):
    """fused_rmsnorm(x, weight, eps), not in place."""
    x = Tensor("x", (syms["rows"], syms["cols"]), "f32")
    return (x, Tensor("w", (syms["cols"],), "f32"), params["eps"]), {}


class ServerArgs:
    enable_deterministic_inference = False


def moe_default_config(syms, release):
    """get_default_config of the same release's fused_moe_triton_config.py,
    run from its source (bf16 weights: dtype None, not Marlin), as
    try_get_optimal_moe_config falls back to it where no tuned config file
    matches the GPU."""
    path = os.path.join(UPSTREAM[0], f"sglang-{release}", "sglang/srt/layers/moe/moe_runner/"
                        "triton_utils/fused_moe_triton_config.py")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    env = {"get_global_server_args": ServerArgs, "_is_hip": False, "Optional": list,
           "List": list, "Dict": dict}
    fn, _ = launcher_functions(text, ast.parse(text, path), "get_default_config", env, release)
    return fn(syms["tokens"], syms["experts"], syms["n"], syms["k"], syms["topk"], None, False)


def moe_call(syms, params):
    """invoke_fused_moe_kernel as _fused_moe_kernel_sequence calls it for
    bf16 weights without expert parallelism (filter_expert False), TMA or
    fused reductions: stage 1 (a_per_pair 0) with top_k = topk, stage 2
    with top_k 1 and router_topk = topk."""
    T, K, n, k = syms["tokens"], syms["topk"], syms["n"], syms["k"]
    stage2 = bool(syms["a_per_pair"])
    a = Tensor("a", (T * K if stage2 else T, k))
    w = Tensor("w", (syms["experts"], n, k))
    c = Tensor("c", (T, K, n))
    args = (a, w, None, c, None, None, None, Tensor("topk_weights", (T, K), "f32"),
            Tensor("topk_ids", (T, K), "i32"), Tensor("sorted_token_ids", (syms["max_padded"],), "i32"),
            Tensor("expert_ids", (syms["max_blocks"],), "i32"),
            Tensor("num_tokens_post_padded", (1,), "i32"), bool(syms["mul_routed_weight"]),
            1 if stage2 else K, moe_default_config(syms, "0.5.12"))
    kwargs = {"compute_type": "bf16", "use_fp8_w8a8": False, "use_int8_w8a8": False,
              "use_int8_w8a16": False, "use_int4_w4a16": False, "per_channel_quant": False,
              "block_shape": None, "c_sorted": False, "filter_expert": False}
    if stage2:
        kwargs["router_topk"] = K
    return args, kwargs


UPSTREAM = [None]  # the upstream folder, for files beyond the tier's own

# Names invoke_fused_moe_kernel and the helpers it calls read only on paths
# a bf16 launch without quantisation or TMA never takes (and a few the
# free-name scan takes for globals: nested functions' parameters).
MOE_UNTAKEN = [
    "TensorDescriptor", "per_token_group_quant_fp8", "per_token_group_quant_int8",
    "per_token_quant_int8", "scaled_fp8_quant", "sglang_per_token_group_quant_fp8",
    "sglang_per_token_group_quant_int8", "functools", "is_batch_invariant_mode_enabled",
    "is_sm90_supported", "alloc_fn", "size", "_B_DESC_CACHE", "_B_DESC_CACHE_MAX"
]


def elementwise_env(torch):
    return lambda cc, hip, tree: {"_is_hip": bool(hip), "triton": Triton, "torch": torch}


def quant_call(syms, params):
    """_per_token_group_quant_8bit_raw, as per_token_group_quant_8bit calls
    it without SiLU fusion: e4m3 (float8_e4m3fn), row-major scales."""
    x = Tensor("x", (syms["tokens"], syms["hidden"]))
    return (x, syms["group_size"]), {"eps": params["eps"], "dtype": Torch.float8_e4m3fn}


# workload: (launcher function, its arguments from the shape, head sizes
# to try beyond the workload's, the module globals the launcher reads)
LAUNCHERS = {
    "decode_attention": ("decode_attention_fwd", decode_call, [64, 256, 288, 576],
                         lambda cc, hip, tree: {"_is_hip": bool(hip), "triton": Triton,
                                                "logger": None,
                                                "_MIN_BLOCK_KV": constant(tree, "_MIN_BLOCK_KV")}),
    "prefill_attention": ("context_attention_fwd", prefill_call, [64, 256], prefill_env),
    "per_token_group_quant_fp8": (
        "_per_token_group_quant_8bit_raw", quant_call, [],
        lambda cc, hip, tree: {"_is_hip": bool(hip), "triton": Triton, "torch": Torch,
                               "Tuple": tuple, "Optional": list, "fp8_dtype": "float8_e4m3fn",
                               # read only on the scale_ue8m0 path, never taken here
                               "transform_sf_into_required_layout": None,
                               "ceil_align": None}),
    "silu_and_mul": ("silu_and_mul_triton", activation_call, [], elementwise_env(TorchActivation)),
    "gelu_and_mul": ("gelu_and_mul_triton", activation_call, [], elementwise_env(TorchActivation)),
    "rmsnorm": ("fused_rmsnorm", rmsnorm_call, [], elementwise_env(TorchNorm)),
    "fused_moe": ("invoke_fused_moe_kernel", moe_call, [],
                  lambda cc, hip, tree: {"_is_cuda": not hip, "_is_hip": bool(hip),
                                         "triton": Triton, "torch": Torch, "Optional": list,
                                         "List": list, "Dict": dict, "Any": object,
                                         "tl": TritonLanguage, "padding_size": 0,
                                         # a lambda's parameter (grid = lambda META: ...)
                                         "META": None,
                                         **dict.fromkeys(MOE_UNTAKEN)}),
}


class TritonLanguage:
    dtype = object


def constant(tree, name):
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name
                                                for t in node.targets):
            return ast.literal_eval(node.value)
    raise SystemExit(f"FAIL: the upstream file no longer defines {name}")


def launcher_functions(text, tree, entry, env, release):
    """The launcher and every top-level function it calls, executed from
    the file's source with `env` and recording kernels as globals."""
    defs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    jit = {n for n, d in defs.items() if any(upstream_drift_is_jit(x) for x in d.decorator_list)}
    ns, log = dict(env), []
    for name in jit:
        ns[name] = Kernel(name, log)
    todo, done = [entry], set()
    while todo:
        name = todo.pop()
        if name in done or name in jit:
            continue
        if name not in defs:
            raise SystemExit(f"FAIL sglang {release}: no top-level function {name}")
        done.add(name)
        fn = defs[name]
        for free in upstream_drift._free_names(fn):
            if free in defs:
                todo.append(free)
            elif free not in ns:
                raise SystemExit(f"FAIL sglang {release}: {name} reads {free}, which this test "
                                 f"does not know how to set: update "
                                 f"tests/triton/upstream_drift_launch.py")
    for name in done:
        exec(compile(ast.get_source_segment(text, defs[name]), f"<{release}:{name}>", "exec"), ns)
    return ns[entry], log


def upstream_drift_is_jit(decorator):
    text = ast.unparse(decorator)
    return text in ("triton.jit", "jit") or text.startswith(("triton.jit(", "jit("))


def jit_params(tree, name):
    fn = upstream_drift.top_function(tree, name)
    args = fn.args.args
    defaults = [None] * (len(args) - len(fn.args.defaults)) + list(fn.args.defaults)
    return [(a.arg, None if d is None else ast.literal_eval(d)) for a, d in zip(args, defaults)]


def same(a, b):
    """Upstream's value `a` against the tier's `b` (bools as 0/1, floats as
    fp32 would hold them, tensors by name)."""
    if isinstance(a, Tensor):
        return b == ("tensor", a.name)
    if isinstance(b, kgexpr.TritonDType) or isinstance(a, kgexpr.TritonDType):
        return str(a) == str(b)
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        return abs(float(a) - float(b)) <= 1e-7 * max(1.0, abs(float(a)))
    return int(a) == int(b)


def compare_launch(where, tree, got, launch, syms, params, tensors, hip):
    fails = []
    name, grid, args, kwargs = got
    if name != launch["entry"]:
        return [f"{where}: upstream launches {name}, the tier {launch['entry']}"]
    tier_grid = tuple(kgexpr.evaluate(g, syms) for g in launch["grid"])
    if tuple(grid) + (1,) * (3 - len(grid)) != tier_grid + (1,) * (3 - len(tier_grid)):
        fails.append(f"{where}: {name} grid is {tuple(grid)} upstream, {tier_grid} in the tier")
    values = {}
    params_list = jit_params(tree, name)
    for (p, _), a in zip(params_list, args):
        values[p] = a
    values.update({k: v for k, v in kwargs.items() if k in dict(params_list)})
    for p, default in params_list:
        values.setdefault(p, default)
    for (p, _), arg in zip(launch["signature"].items(), launch["args"]):
        kind, v = kgexpr.eval_arg(arg, syms, tensors, set(params))
        mine = ("tensor", v) if kind == "tensor" else params[v] if kind == "param" else v
        if not same(values.get(p), mine):
            fails.append(f"{where}: {name} argument {p} is {values.get(p)!r} upstream, "
                         f"{mine!r} in the tier ({arg})")
    for p, v in kgexpr.eval_constexprs(launch, syms, params).items():
        if not same(values.get(p), v):
            fails.append(f"{where}: {name} constexpr {p} is {values.get(p)!r} upstream, "
                         f"{v!r} in the tier")
    # What a launch that does not pass them gets: Triton 3.9's defaults
    # (CUDAOptions and HIPOptions).
    defaults = {"num_warps": 4, "num_stages": 2 if hip else 3}
    for opt in ("num_warps", "num_stages"):
        mine = kgexpr.evaluate(launch[opt], syms)
        theirs = kwargs.get(opt, defaults[opt])
        if theirs != mine:
            fails.append(f"{where}: {name} {opt} is {theirs} upstream, {mine} in the tier")
    extra = {k: v for k, v in kwargs.items() if k not in dict(params_list)
             and k not in ("num_warps", "num_stages")}
    want = dict(launch.get("hip_options") or {}) if hip else {}
    if extra != want:
        fails.append(f"{where}: {name} launch options are {extra} upstream, {want} in the tier")
    return fails


def check_tier(name, entry, text, tree, workload):
    release = entry["upstream"]["version"]
    fn_name, call, extra_d, env_of = LAUNCHERS[workload["name"]]
    tensors = {t["name"] for t in workload["tensors"]} | {
        s["name"] for s in entry.get("scratch", [])}
    fails, checked = [], 0
    for launch in entry["launches"]:
        fn = upstream_drift.top_function(tree, launch["entry"])
        if fn is None:
            fails.append(f"sglang {release}: no top-level function {launch['entry']}")
            continue
        fails += upstream_drift.check_parameters(release, fn, launch)
    shapes = [(c, s) for c, s in kgexpr.workload_shapes(workload)]
    base = dict(shapes[-1][1])
    shapes += [("extra", dict(base, name=f"D={d}", D=d, Dv=d if d not in (288, 576) else d - 64))
               for d in extra_d]
    for cls, shape in shapes:
        syms0 = kgexpr.derive_symbols(workload, shape)
        params = kgexpr.shape_params(workload, shape)
        if "sm_scale" in params and not params["sm_scale"]:
            params["sm_scale"] = 1.0 / syms0["D"] ** 0.5
        for target, cc, hip in TARGETS:
            device = kgexpr.device_symbols(cc, warp_size=64 if hip else 32, is_hip=hip)
            if any(kgexpr.evaluate(r["when"], device)
                   for r in entry.get("unsupported_devices", [])):
                continue  # not graded there: nothing to compare
            syms = kgexpr.entry_symbols(entry, syms0, device)
            if any(kgexpr.evaluate(r["when"], syms) for r in entry.get("refuses", [])):
                continue
            where = f"sglang {release}, {cls} {shape.get('name')}, {target}"
            launcher, log = launcher_functions(text, tree, fn_name, env_of(cc, hip, tree),
                                               release)
            args, kwargs = call(syms, params)
            launcher(*args, **kwargs)
            if len(log) != len(entry["launches"]):
                fails.append(f"{where}: upstream makes {len(log)} launches "
                             f"({', '.join(g[0] for g in log)}), the tier "
                             f"{len(entry['launches'])}")
                continue
            for got, launch in zip(log, entry["launches"]):
                fails += compare_launch(where, tree, got, launch, syms, params, tensors, hip)
            checked += 1
    return [f"{name}: {f}" for f in fails], checked


def main(argv):
    if len(argv) != 4:
        print("usage: upstream_drift_launch.py UPSTREAM_DIR TIERS_JSON WORKLOAD_JSON",
              file=sys.stderr)
        return 2
    upstream_dir, tiers_path, workload_path = argv[1:4]
    UPSTREAM[0] = upstream_dir
    doc = kgexpr.load_json(tiers_path)
    workload = kgexpr.load_json(workload_path)
    fails, missing, tiers = [], [], 0
    for name, entry in (doc.get("tiers") or {}).items():
        spec = entry.get("upstream")
        if not spec:
            continue
        path = os.path.join(upstream_dir, f"{spec['package']}-{spec['version']}", spec["path"])
        if not os.path.isfile(path):
            missing.append(f"{name}: {path}")
            continue
        with open(path, encoding="utf-8") as f:
            text = f.read()
        tier_fails, checked = check_tier(name, entry, text, ast.parse(text, path), workload)
        print(f"{name} (sglang {spec['version']}): {checked} (shape, target) launches compared, "
              f"{'ok' if not tier_fails else '%d difference(s)' % len(tier_fails)}")
        fails += tier_fails
        tiers += 1
    for f in fails:
        print("FAIL", f)
    if fails:
        return 1
    if missing:
        print("SKIP: upstream files missing:", "; ".join(missing))
        return 77
    if not tiers:
        print(f"FAIL: {tiers_path} has no tier with an upstream file")
        return 1
    print(f"no drift: {tiers} tier(s) launch as their upstream files do")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
