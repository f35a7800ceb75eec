#!/usr/bin/env python3
"""Time SGLang's own extend_attention_fwd with Triton's do_bench, beside kgrade.

For every shape of a size class of extend_attention (default `full`), this
script builds the workload's inputs in torch with the same sizes kgrade
uses, imports the pinned upstream SGLang file from the upstream folder
(build/upstream, made by scripts/python-env.sh) and times its Python
launcher `extend_attention_fwd` with `triton.testing.do_bench` (median,
Triton's own L2 clearing before each rep). Given a kgrade results file
(`--results`, e.g. from `kgrade run --candidate triton-reference ...`), it
prints, per shape, the ratio of that median to kgrade's median for the
`triton-reference` set (the median of the set's `samples_s`) and whether it
is within --tolerance (2%).

Nothing here shares code with kgrade's Triton path: Triton's own launcher
compiles and launches the kernel (kgrade compiles ahead of time through its
helper and launches the cubin from C), and the timer is do_bench's.

The per-request lengths: P_i and E_i are drawn exactly as
baselines/extend_attention/reference.c draws them (xoshiro256** seeded by
splitmix64 with the shape's length_seed, kg_rng_below's multiply-and-reject,
prefix then extend for each request; runner/common/rng.c), and the cache
layout as its fill() does for the timed runs (each request's prefix then its
extend tokens; with shuffle = 1 a Fisher-Yates permutation of the slots
drawn with length_seed ^ 0x5eed5eed5eed). Where a results record has the
shape, the derived symbols kgrade recorded (sum_extend, sum_prefix,
max_extend, kv_tokens, prefix_pairs, causal_pairs) are compared with the
ones computed here, and a mismatch fails that shape. Values: N(0.1, 0.2)
in bf16 (timing does not depend on them; kgrade checked the outputs).

The upstream file imports sglang utilities: the `sglang` package is
replaced by stubs (sys.modules) so that only the file itself is real:
`sglang.srt.utils.is_cuda/is_hip` answer from torch, any other `is_*`
answers False, any other name is a function that raises if called (so a
launcher that needed real SGLang code would fail loudly, not silently
differ). The stubbed names used are printed.

Usage (on a machine with an NVIDIA GPU, PyTorch and Triton):

    python3 tools/triton_dobench.py --results results/triton-vs-port.jsonl
    python3 tools/triton_dobench.py --shape d128 --rep 500
    python3 tools/triton_dobench.py --lengths-only --results results/demo.jsonl  # no GPU needed

Exit status: 0 every compared shape within tolerance (or nothing to
compare), 1 a ratio outside the tolerance, 2 usage or set-up error
(no torch, no upstream file), 3 a shape could not be run or its lengths
did not match kgrade's.
"""

import argparse
import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import math
import os
import statistics
import sys
import time
import types

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKLOAD_DIR = os.path.join(REPO, "baselines", "extend_attention")
TIER = "triton-reference"
# The tier's upstream file where kernels.json does not (yet) name one.
DEFAULT_UPSTREAM = {
    "package": "sglang",
    "version": "0.5.12",
    "path": "sglang/srt/layers/attention/triton_ops/extend_attention.py",
}
DERIVED = ("sum_extend", "sum_prefix", "max_extend", "kv_tokens", "prefix_pairs", "causal_pairs",
           "mask_elements")

# ---- the workload's generator, as in runner/common/rng.c --------------------

MASK64 = (1 << 64) - 1


def _rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK64


class KgRng:
    """kg_rng: splitmix64 seeding xoshiro256**; kg_rng_below is Lemire's
    multiply-and-reject. Bit for bit the C generator."""

    def __init__(self, seed):
        state = seed & MASK64
        self.s = []
        for _ in range(4):
            state = (state + 0x9E3779B97F4A7C15) & MASK64
            z = state
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
            self.s.append(z ^ (z >> 31))

    def next(self):
        s = self.s
        result = (_rotl((s[1] * 5) & MASK64, 7) * 9) & MASK64
        t = (s[1] << 17) & MASK64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = _rotl(s[3], 45)
        return result

    def below(self, n):
        if n == 0:
            return 0
        product = self.next() * n
        if (product & MASK64) < n:
            threshold = ((1 << 64) - n) % n
            while (product & MASK64) < threshold:
                product = self.next() * n
        return product >> 64


def load_workload():
    with open(os.path.join(WORKLOAD_DIR, "workload.json")) as f:
        return json.load(f)


def complete_shape(workload, shape):
    """The shape with the symbols it leaves to symbol_defaults, and its
    parameters (the workload's, as the shape sets them; sm_scale 0 is
    1/sqrt(D), as upstream's `sm_scale or 1.0 / Lq**0.5`)."""
    full = dict(workload.get("symbol_defaults") or {}, **shape)
    params = dict(workload.get("params") or {})
    params.update({k: v for k, v in shape.items() if k in params})
    if not params.get("sm_scale"):
        params["sm_scale"] = 1.0 / math.sqrt(int(full["D"]))
    return full, params


def draw_lengths(shape):
    """(prefix, extend) per request, as reference.c's read_batch()."""
    rng = KgRng(int(shape["length_seed"]))
    span = int(shape["N_CTX"]) // 2 - 1
    prefix, extend = [], []
    for _ in range(int(shape["B"])):
        prefix.append(1 + rng.below(span))
        extend.append(1 + rng.below(span))
    return prefix, extend


def derived_symbols(prefix, extend, mask_kind=0):
    return {
        "mask_elements": sum(e * (p + e) for e, p in zip(extend, prefix)) if mask_kind else 1,
        "sum_extend": sum(extend),
        "sum_prefix": sum(prefix),
        "max_extend": max(extend),
        "kv_tokens": sum(prefix) + sum(extend),
        "prefix_pairs": sum(e * p for e, p in zip(extend, prefix)),
        "causal_pairs": sum(e * (e + 1) // 2 for e in extend),
    }


def kv_indices_layout(shape, prefix, extend):
    """kv_indices as reference.c's fill() with layout seed 0 (the timed runs)."""
    tokens = sum(prefix) + sum(extend)
    slot = list(range(tokens))
    if int(shape["shuffle"]):
        rng = KgRng((int(shape["length_seed"]) ^ 0x5EED5EED5EED) & MASK64)
        for s in range(tokens - 1, 0, -1):
            r = rng.below(s + 1)
            slot[s], slot[r] = slot[r], slot[s]
    out, start = [], 0
    for p, e in zip(prefix, extend):
        out.extend(slot[start:start + p])
        start += p + e
    return out


# ---- kgrade's results ----------------------------------------------------------


def load_kgrade(path):
    """{(size class, shape name): record} for extend_attention in the last run
    of the file."""
    records = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                continue  # a torn last line
            if rec.get("type") == "run":
                records = {}
            elif rec.get("type") == "shape" and rec.get("workload") == "extend_attention":
                records[(rec.get("size_class"), rec["shape"])] = rec
    return records


def kgrade_tier_median(rec, tier):
    """(median seconds or None, why, role) of the set named `tier` in a record."""
    for role in ("candidate", "baseline"):
        s = rec.get(role) or {}
        if s.get("set") != tier:
            continue
        samples = s.get("samples_s") or []
        if not samples:
            return None, f"no samples (status {s.get('status')}: {s.get('error', '')})", role
        return statistics.median(samples), f"{len(samples)} samples, status {s.get('status')}", role
    return None, f"no set named {tier} in the record", None


# ---- the upstream file, with sglang stubbed ------------------------------------


class _StubModule(types.ModuleType):
    """A stand-in for an sglang module: is_* answer False, anything else is a
    function that raises when called. Names handed out are recorded."""

    used = []

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        full = f"{self.__name__}.{name}"
        _StubModule.used.append(full)
        if name.startswith("is_"):
            return lambda *a, **k: False

        def stub(*args, **kwargs):
            raise RuntimeError(f"{full} is a stub (tools/triton_dobench.py): the upstream "
                               "launcher needs real SGLang code here")

        return stub


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path, target=None):
        if fullname == "sglang" or fullname.startswith("sglang."):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _StubModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


def load_upstream(path, torch):
    is_hip = bool(getattr(torch.version, "hip", None))
    is_cuda = torch.cuda.is_available() and not is_hip
    sys.meta_path.insert(0, _StubFinder())
    import sglang.srt.utils as utils  # a stub

    utils.is_cuda = lambda: is_cuda
    utils.is_hip = lambda: is_hip
    _StubModule.used += [f"sglang.srt.utils.is_cuda (torch: {is_cuda})",
                         f"sglang.srt.utils.is_hip (torch: {is_hip})"]
    spec = importlib.util.spec_from_file_location("kgrade_upstream_extend_attention", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    if not hasattr(module, "extend_attention_fwd"):
        raise RuntimeError(f"{path} has no extend_attention_fwd")
    return module


def upstream_file(upstream_dir):
    """(path, pin) of the tier's upstream file: kernels.json's `upstream` for
    the tier when it has one, else DEFAULT_UPSTREAM."""
    pin = DEFAULT_UPSTREAM
    try:
        with open(os.path.join(WORKLOAD_DIR, "kernels.json")) as f:
            tier = json.load(f).get("tiers", {}).get(TIER)
        if tier and tier.get("upstream"):
            pin = tier["upstream"]
    except (OSError, ValueError):
        pass
    folder = f"{pin['package']}-{pin['version']}"
    return os.path.join(upstream_dir, folder, pin["path"]), pin


def pinned_sha256(upstream_dir, pin):
    try:
        with open(os.path.join(upstream_dir, "upstream.json")) as f:
            for entry in json.load(f):
                if (entry.get("package"), entry.get("version"), entry.get("path")) == (
                        pin["package"], pin["version"], pin["path"]):
                    return entry.get("sha256")
    except (OSError, ValueError):
        pass
    return None


# ---- one shape -----------------------------------------------------------------


def unit_test_mask(torch, shape, prefix, extend):
    """The custom mask of a shape with mask_kind 1, as SGLang's unit test
    builds it and kgrade's fill() draws it for the timed runs: each
    request's E x (P + E) rows, the whole prefix and the causal triangle;
    (None, None) without a mask. A random mask (kind 2, small shapes only)
    is not reproduced here."""
    kind = int(shape["mask_kind"])
    if kind == 0:
        return None, None
    if kind != 1:
        raise ValueError(f"mask_kind {kind}: only the unit test's mask (1) is reproduced here")
    rows, starts = [], [0]
    for p, e in zip(prefix, extend):
        m = torch.ones(e, p + e, dtype=torch.bool, device="cuda")
        m[:, p:] = torch.tril(torch.ones(e, e, dtype=torch.bool, device="cuda"))
        rows.append(m.flatten())
        starts.append(starts[-1] + p * e + e * e)
    return torch.cat(rows), torch.tensor(starts, dtype=torch.int64, device="cuda")


def make_inputs(torch, shape, prefix, extend):
    dev = "cuda"
    Hq, Hkv, D, Dv = int(shape["Hq"]), int(shape["Hkv"]), int(shape["D"]), int(shape["Dv"])
    sym = derived_symbols(prefix, extend, int(shape["mask_kind"]))

    def normal(*size):
        return (torch.randn(*size, device=dev, dtype=torch.float32) * 0.2 + 0.1).to(torch.bfloat16)

    qo = [0]
    for e in extend:
        qo.append(qo[-1] + e)
    kv = [0]
    for p in prefix:
        kv.append(kv[-1] + p)
    mask, mask_indptr = unit_test_mask(torch, shape, prefix, extend)
    return {
        "q_extend": normal(sym["sum_extend"], Hq, D),
        "k_extend": normal(sym["sum_extend"], Hkv, D),
        "v_extend": normal(sym["sum_extend"], Hkv, Dv),
        "o_extend": torch.empty(sym["sum_extend"], Hq, Dv, device=dev, dtype=torch.bfloat16),
        "k_buffer": normal(sym["kv_tokens"], Hkv, D),
        "v_buffer": normal(sym["kv_tokens"], Hkv, Dv),
        "custom_mask": mask,
        "mask_indptr": mask_indptr,
        "qo_indptr": torch.tensor(qo, device=dev, dtype=torch.int32),
        "kv_indptr": torch.tensor(kv, device=dev, dtype=torch.int32),
        "kv_indices": torch.tensor(kv_indices_layout(shape, prefix, extend), device=dev,
                                   dtype=torch.int32),
    }


def sanity_error(torch, t, shape, params, prefix, extend):
    """Largest |o - reference| over the request with the least work, in fp32
    torch: a check that the stubbed launcher computed extend attention
    (the unit test's mask is the causal rule; the window as upstream's)."""
    i = min(range(len(extend)), key=lambda r: extend[r] * (prefix[r] + extend[r]))
    Hq, Hkv = int(shape["Hq"]), int(shape["Hkv"])
    cap, window = float(params["logit_cap"]), int(shape["sliding_window"])
    q0, p0 = sum(extend[:i]), sum(prefix[:i])
    E, P = extend[i], prefix[i]
    q = t["q_extend"][q0:q0 + E].float()
    idx = t["kv_indices"][p0:p0 + P].long()
    k = torch.cat([t["k_buffer"][idx], t["k_extend"][q0:q0 + E]]).float()
    v = torch.cat([t["v_buffer"][idx], t["v_extend"][q0:q0 + E]]).float()
    group = Hq // Hkv
    k = k.repeat_interleave(group, dim=1)  # [P+E, Hq, D]
    v = v.repeat_interleave(group, dim=1)
    logits = torch.einsum("ehd,khd->hek", q, k) * float(params["sm_scale"])
    if cap > 0:
        logits = cap * torch.tanh(logits / cap)
    seen = torch.ones(E, P + E, dtype=torch.bool, device=q.device)
    if int(shape["is_causal"]) or int(shape["mask_kind"]):
        seen[:, P:] = torch.tril(torch.ones(E, E, dtype=torch.bool, device=q.device))
    if window > 0:
        pos = torch.arange(P + E, device=q.device)[None, :]
        qpos = P + torch.arange(E, device=q.device)[:, None]
        seen &= qpos - pos <= window
    logits = logits.masked_fill(~seen, float("-inf"))
    want = torch.einsum("hek,khd->ehd", torch.softmax(logits, dim=-1), v)
    got = t["o_extend"][q0:q0 + E].float()
    return float((got - want).abs().max()), i


def run_shape(torch, triton, module, workload, raw_shape, args):
    shape, params = complete_shape(workload, raw_shape)
    prefix, extend = draw_lengths(shape)
    sym = derived_symbols(prefix, extend, int(shape["mask_kind"]))
    t = make_inputs(torch, shape, prefix, extend)
    window = int(shape["sliding_window"])

    def fn():  # as SGLang calls it, every option of the shape (k/v scale 1)
        module.extend_attention_fwd(
            t["q_extend"], t["k_extend"], t["v_extend"], t["o_extend"], t["k_buffer"],
            t["v_buffer"], t["qo_indptr"], t["kv_indptr"], t["kv_indices"],
            t["custom_mask"], bool(int(shape["is_causal"])), t["mask_indptr"],
            sym["max_extend"], 1.0, 1.0, sm_scale=float(params["sm_scale"]),
            logit_cap=float(params["logit_cap"]),
            skip_prefix_custom_mask=bool(int(shape["skip_prefix_custom_mask"])),
            sliding_window_size=window if window > 0 else -1)

    t0 = time.time()
    fn()  # compiles
    torch.cuda.synchronize()
    compile_s = time.time() - t0
    err, request = sanity_error(torch, t, shape, params, prefix, extend)
    try:  # every rep, where this Triton returns them
        times_ms = triton.testing.do_bench(fn, warmup=args.warmup, rep=args.rep,
                                           return_mode="all")
    except (AssertionError, TypeError, ValueError):
        times_ms = [triton.testing.do_bench(fn, warmup=args.warmup, rep=args.rep,
                                            return_mode="median")]
    median_ms = statistics.median(times_ms)
    blocks = None
    if hasattr(module, "_get_block_sizes_for_extend_attention"):
        D, Dv = int(shape["D"]), int(shape["Dv"])
        names = ("BLOCK_DMODEL", "BLOCK_DPE", "BLOCK_DV", "BLOCK_M", "BLOCK_N", "num_warps")
        blocks = dict(zip(names, module._get_block_sizes_for_extend_attention(D, Dv)))
    del t
    return {
        "median_s": median_ms * 1e-3,
        "reps": len(times_ms),
        "min_s": min(times_ms) * 1e-3,
        "max_s": max(times_ms) * 1e-3,
        "first_call_s": round(compile_s, 3),
        "sanity_max_abs_err": err,
        "sanity_request": request,
        "launch": blocks,
        "symbols": sym,
    }


# ---- main ----------------------------------------------------------------------


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", help="kgrade results file with a triton-reference set "
                    "(compares medians); its records also confirm the lengths")
    ap.add_argument("--size-class", default="full", help="full (default), claim, small, smoke")
    ap.add_argument("--shape", action="append", help="only this shape (repeatable)")
    ap.add_argument("--upstream-dir", default=os.environ.get("KGRADE_UPSTREAM_DIR")
                    or os.path.join(REPO, "build", "upstream"))
    ap.add_argument("--warmup", type=float, default=50, help="do_bench warm-up, ms (50)")
    ap.add_argument("--rep", type=float, default=300, help="do_bench repetition time, ms (300)")
    ap.add_argument("--tolerance", type=float, default=0.02)
    ap.add_argument("--sanity-atol", type=float, default=0.02,
                    help="largest |o - fp32 torch| accepted on the sanity request (0.02)")
    ap.add_argument("--out", help="also write one JSON line per shape here")
    ap.add_argument("--lengths-only", action="store_true",
                    help="only check the drawn lengths against --results (no GPU needed)")
    return ap.parse_args()


def selected_shapes(args):
    with open(os.path.join(WORKLOAD_DIR, "workload.json")) as f:
        shapes = json.load(f)["shapes"].get(args.size_class)
    if not shapes:
        print(f"extend_attention has no size class {args.size_class!r}", file=sys.stderr)
        sys.exit(2)
    if args.shape:
        shapes = [s for s in shapes if s["name"] in args.shape]
    return shapes


def check_lengths(kg):
    """Compares the derived symbols of every extend_attention record of the
    results with the ones drawn here; returns how many differ."""
    workload = load_workload()
    classes = workload["shapes"]
    bad = 0
    for (size_class, name), rec in kg.items():
        shape = next((s for s in classes.get(size_class, []) if s["name"] == name), None)
        if shape is None:
            print(f"{size_class}/{name}: not in workload.json", flush=True)
            bad += 1
            continue
        shape = complete_shape(workload, shape)[0]
        mine = derived_symbols(*draw_lengths(shape), int(shape["mask_kind"]))
        theirs = {k: rec.get("symbols", {}).get(k) for k in DERIVED}
        same = mine == theirs
        bad += not same
        print(f"{size_class}/{name}: {'match' if same else 'MISMATCH'} {mine}"
              + ("" if same else f" kgrade {theirs}"), flush=True)
    if not kg:
        print("no extend_attention record in the results file", flush=True)
    return bad


def emit(line, out):
    print(json.dumps(line), flush=True)
    if out:
        out.write(json.dumps(line) + "\n")
        out.flush()


def main():
    args = parse_args()
    shapes = selected_shapes(args)
    kg = load_kgrade(args.results) if args.results else {}
    if args.lengths_only:
        if not args.results:
            print("--lengths-only needs --results", file=sys.stderr)
            return 2
        return 3 if check_lengths(kg) else 0

    path, pin = upstream_file(args.upstream_dir)
    if not os.path.isfile(path):
        print(f"upstream file not found: {path} (scripts/python-env.sh makes it; carry "
              "build/upstream)", file=sys.stderr)
        return 2
    with open(path, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    pinned = pinned_sha256(args.upstream_dir, pin)
    os.environ.setdefault("TRITON_DEFAULT_FP_FUSION", "1")  # as kgrade's helper compiles
    try:
        import torch
        import triton
        import triton.testing
    except ImportError as e:
        print(f"needs torch and triton: {e}", file=sys.stderr)
        return 2
    if not torch.cuda.is_available():
        print("no CUDA device visible to torch", file=sys.stderr)
        return 2
    module = load_upstream(path, torch)
    out = open(args.out, "a") if args.out else None
    emit({"type": "setup", "device": torch.cuda.get_device_name(),
          "capability": list(torch.cuda.get_device_capability()), "torch": torch.__version__,
          "triton": triton.__version__, "upstream": dict(pin, file=path, sha256=sha,
                                                         sha256_pinned=pinned),
          "stubs_used": sorted(set(_StubModule.used)), "do_bench": {
              "warmup_ms": args.warmup, "rep_ms": args.rep, "statistic": "median of the reps"},
          "TRITON_DEFAULT_FP_FUSION": os.environ["TRITON_DEFAULT_FP_FUSION"]}, out)
    same = "matches upstream.json" if pinned == sha else (
        f"DIFFERS from upstream.json's {pinned}" if pinned else "not in upstream.json")
    print(f"setup: {torch.cuda.get_device_name()}, torch {torch.__version__}, triton "
          f"{triton.__version__}; {pin['package']} {pin['version']} {pin['path']} sha256 "
          f"{sha[:16]}... {same}; stubbed: {', '.join(sorted(set(_StubModule.used)))}", flush=True)

    rows, failed, outside = [], 0, 0
    # The shapes kgrade measured first, in case this is stopped from outside.
    shapes.sort(key=lambda sh: (args.size_class, sh["name"]) not in kg)
    for shape in shapes:
        name = shape["name"]
        line = {"type": "shape", "shape": name}
        try:
            r = run_shape(torch, triton, module, load_workload(), shape, args)
        except Exception as e:  # noqa: BLE001 - one shape's failure is reported, the rest go on
            failed += 1
            line["error"] = f"{type(e).__name__}: {e}"
            emit(line, out)
            print(f"shape {name}: FAILED {line['error'][:300]}", flush=True)
            rows.append((name, None, None, None, line["error"], line["error"]))
            continue
        line.update(r)
        if r["sanity_max_abs_err"] > args.sanity_atol or math.isnan(r["sanity_max_abs_err"]):
            failed += 1
            line["error"] = "sanity check failed"
        rec = kg.get((args.size_class, name))
        ours = note = None
        if rec is not None:
            theirs = {k: rec.get("symbols", {}).get(k) for k in DERIVED}
            if any(theirs[k] != r["symbols"][k] for k in DERIVED):
                failed += 1
                line["error"] = f"lengths differ from kgrade's record: {theirs}"
            ours, note, role = kgrade_tier_median(rec, TIER)
            line["kgrade"] = {"median_s": ours, "note": note, "role": role}
            if ours:
                ratio = r["median_s"] / ours
                line["ratio"] = ratio
                line["within_tolerance"] = abs(ratio - 1) <= args.tolerance
                outside += not line["within_tolerance"]
        elif args.results:
            note = "not in the results file"
        emit(line, out)
        rows.append((name, r["median_s"], ours, line.get("ratio"), line.get("error") or note,
                     line.get("error")))
        print(f"shape {name}: do_bench median {r['median_s'] * 1e3:.4f} ms ({r['reps']} reps), "
              + (f"kgrade {ours * 1e3:.4f} ms ({note}), ratio {line['ratio']:.4f}, "
                 + ("within" if line["within_tolerance"] else "OUTSIDE")
                 + f" {args.tolerance:.0%}" if ours else f"no kgrade figure ({note})")
              + (f"; {line['error']}" if line.get("error") else "")
              + f"; sanity max abs err {r['sanity_max_abs_err']:.2e}", flush=True)

    print(f"\n{'shape':15} {'do_bench':>11} {'kgrade':>11} {'ratio':>7}  verdict")
    for name, bench, ours, ratio, note, error in rows:
        b = f"{bench * 1e3:9.3f}ms" if bench else "-"
        o = f"{ours * 1e3:9.3f}ms" if ours else "-"
        if ratio is None:
            verdict = note or "no kgrade figure"
        else:
            ok = abs(ratio - 1) <= args.tolerance
            verdict = (f"within {args.tolerance:.0%}" if ok else f"OUTSIDE {args.tolerance:.0%}")
            if error:
                verdict += f"; {error}"
        print(f"{name:15} {b:>11} {o:>11} {(f'{ratio:.4f}' if ratio else '-'):>7}  {verdict}")
    if out:
        out.close()
    if failed:
        return 3
    return 1 if outside else 0


if __name__ == "__main__":
    sys.exit(main())
