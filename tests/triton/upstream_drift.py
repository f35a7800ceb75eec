#!/usr/bin/env python3
"""Checks that kgrade's Triton tiers launch SGLang's kernel as each release
does: for every tier of TIERS_JSON that reads an upstream file,

 (a) the parameters of the launched @triton.jit function (`entry`, e.g.
     _fwd_kernel) are exactly the tier's signature keys and constexprs keys,
     each list in the function's order; every tl.constexpr parameter is a
     constexpr, and a constexpr that is not one is passed as null (None);
 (b) the file's block-size table, _get_block_sizes_for_extend_attention,
     run with _is_hip = False, _is_cuda = True and CUDA_CAPABILITY = (8,0),
     (8,6), (8,9), (9,0), (10,0), (12,0) (and once as HIP, not gfx950, for
     cuda_cc = 0), for every D of the workload's shapes and 64, 192, 256,
     288, 576 (Lq = Lv = D), gives the constexprs and num_warps the tier's
     expressions give with cuda_cc = major*10 + minor;
 (c) num_stages: every value extend_attention_fwd may set on CUDA (its
     constants, and _get_num_stages_for_extend_attention where the file has
     it) equals the tier's num_stages;
 (d) the grid: extend_attention_fwd still launches
     (batch_size, head_num, triton.cdiv(max_len_extend, BLOCK_M)), and the
     tier's grid is (B, Hq, cdiv(max_extend, BLOCK_M));
 (e) with PORTS (`reference,reference-tuned:triton-reference`): the ports of
     the kernel to kgrade's portable dialect, named before the colon, take
     their BLOCK_M and BLOCK_N defines from the table of the Triton tier's
     file named after it, for the same capabilities, on HIP, and on a
     device that is neither (OpenCL: the table's last branch).

usage: upstream_drift.py UPSTREAM_DIR TIERS_JSON WORKLOAD_JSON [PORTS]

UPSTREAM_DIR holds <package>-<version>/<path in wheel>. Standard library
only; the upstream file is parsed, never imported (it imports torch), and
only the table functions' own source is executed. Exit 0: no drift; 1:
drift, each difference named with the release, capability, D and both
values; 77: an upstream file is missing.
"""

import ast
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kgexpr  # noqa: E402

CAPABILITIES = [(8, 0), (8, 6), (8, 9), (9, 0), (10, 0), (12, 0)]
EXTRA_D = [64, 192, 256, 288, 576]
TABLE_FN = "_get_block_sizes_for_extend_attention"
STAGES_FN = "_get_num_stages_for_extend_attention"
LAUNCHER = "extend_attention_fwd"
UPSTREAM_GRID = "(batch_size, head_num, triton.cdiv(max_len_extend, BLOCK_M))"
TIER_GRID = ["B", "Hq", "cdiv(max_extend, BLOCK_M)"]


def next_power_of_2(n):
    """triton.next_power_of_2."""
    n -= 1
    n |= n >> 1
    n |= n >> 2
    n |= n >> 4
    n |= n >> 8
    n |= n >> 16
    n |= n >> 32
    return n + 1


class _Triton:
    next_power_of_2 = staticmethod(next_power_of_2)

    @staticmethod
    def cdiv(a, b):
        return -(-a // b)


def top_function(tree, name):
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    return None


def check_parameters(release, fn, launch):
    """(a): the failures, as strings."""
    fails = []
    params = [a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs]
    annotated = {a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs
                 if a.annotation is not None and ast.unparse(a.annotation).endswith("constexpr")}
    sig = list(launch.get("signature", {}))
    cons = launch.get("constexprs", {}) or {}
    where = f"sglang {release}: {fn.name}"
    for p in params:
        if p in sig and p in cons:
            fails.append(f"{where}: parameter '{p}' is both in the signature and a constexpr")
        elif p not in sig and p not in cons:
            fails.append(f"{where}: parameter '{p}' (#{params.index(p) + 1}) is neither in the "
                         f"tier's signature nor its constexprs")
    for k in sig + list(cons):
        if k not in params:
            fails.append(f"{where}: the tier passes '{k}', which is not a parameter")
    for label, keys in (("signature", sig), ("constexprs", list(cons))):
        want = [p for p in params if p in keys]
        got = [k for k in keys if k in params]
        if want != got:
            i = next(i for i, (w, g) in enumerate(zip(want, got)) if w != g)
            fails.append(f"{where}: the tier's {label} is out of the function's order at "
                         f"'{got[i]}': the function has '{want[i]}' there")
    for p in params:
        if p in annotated and p in sig:
            fails.append(f"{where}: parameter '{p}' is a tl.constexpr but in the tier's signature")
        if p in cons and p not in annotated and cons[p] is not None:
            fails.append(f"{where}: parameter '{p}' is not a tl.constexpr; the tier may only "
                         f"pass it as a constexpr when it is null (None), not {cons[p]!r}")
    return fails


def _free_names(fn):
    """Globals a function reads."""
    local = {a.arg for a in fn.args.args + fn.args.kwonlyargs + fn.args.posonlyargs}
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            local.add(node.id)
    import builtins
    return sorted({n.id for n in ast.walk(fn) if isinstance(n, ast.Name)
                   and isinstance(n.ctx, ast.Load) and n.id not in local
                   and not hasattr(builtins, n.id)})


def load_function(text, tree, name, env, release):
    """Executes one top-level function's source with `env` as its globals."""
    fn = top_function(tree, name)
    if fn is None:
        return None
    unknown = [n for n in _free_names(fn) if n not in env]
    if unknown:
        raise SystemExit(f"FAIL sglang {release}: {name} reads {', '.join(unknown)}, which this "
                         f"test does not know how to set: update tests/triton/upstream_drift.py")
    ns = dict(env)
    exec(compile(ast.get_source_segment(text, fn), f"<{release}:{name}>", "exec"), ns)
    return ns[name]


def environment(cap):
    """The module globals the table functions read: CUDA with capability
    `cap`, HIP (not gfx950 / gfx1250) when cap is None, neither when cap is
    "other"."""
    cuda = cap is not None and cap != "other"
    return {"triton": _Triton, "_is_hip": cap is None, "_is_cuda": cuda,
            "CUDA_CAPABILITY": cap if cuda else None, "_is_gfx95": False, "_is_gfx1250": False,
            "_is_triton_ge_37": True}


def return_names(tree, name):
    fn = top_function(tree, name)
    rets = [n for n in ast.walk(fn) if isinstance(n, ast.Return)]
    if len(rets) != 1 or not isinstance(rets[0].value, ast.Tuple):
        raise SystemExit(f"FAIL: {name} no longer ends in one 'return a, b, ...'")
    return [ast.unparse(e) for e in rets[0].value.elts]


def check_table(release, text, tree, entry, launch, workload):
    """(b) and (c): the failures."""
    fails = []
    names = return_names(tree, TABLE_FN)
    ds = sorted({s["D"] for _, s in kgexpr.workload_shapes(workload)} | set(EXTRA_D))
    cons = launch.get("constexprs", {})
    for n in names:
        if n != "num_warps" and n not in cons:
            fails.append(f"sglang {release}: {TABLE_FN} returns {n}, which the tier does not pass")
    shape = {k: v for k, v in kgexpr.workload_shapes(workload)[0][1].items() if k != "name"}
    for cap in CAPABILITIES + [None]:
        env = environment(cap)
        table = load_function(text, tree, TABLE_FN, env, release)
        stages_fn = load_function(text, tree, STAGES_FN, env, release)
        cc = 0 if cap is None else cap[0] * 10 + cap[1]
        label = "HIP (not gfx950), cuda_cc 0" if cap is None else f"capability {cap}, cuda_cc {cc}"
        for d in ds:
            got = dict(zip(names, table(d, d)))
            syms = kgexpr.entry_symbols(entry, dict(shape, D=d, Dv=d), kgexpr.device_symbols(
                cc, warp_size=32 if cap else 64, is_hip=int(cap is None)))
            for n, upstream in got.items():
                expr = launch["num_warps"] if n == "num_warps" else cons.get(n)
                if expr is None:
                    continue
                mine = kgexpr.evaluate(expr, syms)
                if mine != upstream:
                    fails.append(f"sglang {release}, {label}, D={d}: {n} is {upstream} upstream, "
                                 f"{mine} in the tier ({expr})")
            mine = kgexpr.evaluate(launch["num_stages"], syms)
            for upstream in stage_values(release, tree, stages_fn, d, got.get("BLOCK_N")):
                if cap is not None and upstream != mine:
                    fails.append(f"sglang {release}, {label}, D={d}: num_stages is {upstream} "
                                 f"upstream, {mine} in the tier")
    return fails


def check_port(release, text, tree, name, entry, workload):
    """(e): a portable port's BLOCK_M and BLOCK_N against the file's table."""
    fails = []
    names = return_names(tree, TABLE_FN)
    ds = sorted({s["D"] for _, s in kgexpr.workload_shapes(workload)} | set(EXTRA_D))
    shape = {k: v for k, v in kgexpr.workload_shapes(workload)[0][1].items() if k != "name"}
    for cap in CAPABILITIES + [None, "other"]:
        table = load_function(text, tree, TABLE_FN, environment(cap), release)
        cuda = cap is not None and cap != "other"
        cc = cap[0] * 10 + cap[1] if cuda else 0
        label = {None: "HIP", "other": "OpenCL (neither CUDA nor HIP)"}.get(
            cap if not cuda else "", f"capability {cap}")
        for d in ds:
            got = dict(zip(names, table(d, d)))
            syms = kgexpr.entry_symbols(entry, dict(shape, D=d, Dv=d), kgexpr.device_symbols(
                cc, warp_size=64 if cap is None else 32, is_gpu=int(cap != "other"),
                is_hip=int(cap is None)))
            for n in ("BLOCK_M", "BLOCK_N"):
                if syms.get(n) != got[n]:
                    fails.append(f"{name}: sglang {release}, {label}, D={d}: {n} is {got[n]} "
                                 f"upstream, {syms.get(n)} in the port")
    return fails


def check_ports(ports, doc, upstream_dir, workload):
    """(e) for every port PORTS names; (failures, ports checked)."""
    names, _, tier = ports.partition(":")
    spec = (doc["tiers"].get(tier) or {}).get("upstream")
    if not spec:
        return [f"PORTS: {tier} is not a tier with an upstream file"], 0
    path = os.path.join(upstream_dir, f"{spec['package']}-{spec['version']}", spec["path"])
    with open(path, encoding="utf-8") as f:
        text = f.read()
    tree = ast.parse(text, path)
    fails, checked = [], 0
    for name in names.split(","):
        entry = doc["tiers"].get(name)
        if entry is None:
            fails.append(f"PORTS: no tier {name}")
            continue
        port_fails = check_port(spec["version"], text, tree, name, entry, workload)
        print(f"{name} (port of sglang {spec['version']}'s block sizes): "
              f"{'ok' if not port_fails else '%d difference(s)' % len(port_fails)}")
        fails += port_fails
        checked += 1
    return fails, checked


def stage_values(release, tree, stages_fn, d, block_n):
    """Every num_stages extend_attention_fwd may pass on CUDA for head size d."""
    fn = top_function(tree, LAUNCHER)
    if fn is None:
        raise SystemExit(f"FAIL sglang {release}: no function {LAUNCHER}")
    values = set()
    assigns = [n for n in ast.walk(fn) if isinstance(n, ast.Assign)
               and any(isinstance(t, ast.Name) and t.id == "num_stages" for t in n.targets)]
    if not assigns:
        raise SystemExit(f"FAIL sglang {release}: {LAUNCHER} no longer sets num_stages")
    for a in assigns:
        for node in ast.walk(a.value):
            if isinstance(node, ast.Constant) and isinstance(node.value, int) \
                    and not isinstance(node.value, bool):
                values.add(node.value)
            elif isinstance(node, ast.Call) and ast.unparse(node.func) == STAGES_FN:
                if stages_fn is None:
                    raise SystemExit(f"FAIL sglang {release}: {LAUNCHER} calls {STAGES_FN}, "
                                     f"which the file does not define")
                values.add(stages_fn(d, d, block_n))
    return sorted(values)


def check_grid(release, tree, launch):
    fn = top_function(tree, LAUNCHER)
    grids = [ast.unparse(n.value) for n in ast.walk(fn) if isinstance(n, ast.Assign)
             and any(isinstance(t, ast.Name) and t.id == "grid" for t in n.targets)]
    fails = []
    if UPSTREAM_GRID not in grids:
        fails.append(f"sglang {release}: {LAUNCHER} no longer launches {UPSTREAM_GRID} "
                     f"(its grids: {'; '.join(grids) or 'none'})")
    if launch.get("grid") != TIER_GRID:
        fails.append(f"sglang {release}: the tier's grid is {launch.get('grid')}, "
                     f"not {TIER_GRID}")
    return fails


def main(argv):
    if len(argv) not in (4, 5):
        print("usage: upstream_drift.py UPSTREAM_DIR TIERS_JSON WORKLOAD_JSON [PORTS]",
              file=sys.stderr)
        return 2
    upstream_dir, tiers_path, workload_path = argv[1:4]
    doc = kgexpr.load_json(tiers_path)
    workload = kgexpr.load_json(workload_path)
    fails, missing, checked = [], [], 0
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
        tree = ast.parse(text, path)
        release = spec["version"]
        for launch in entry["launches"]:
            fn = top_function(tree, launch["entry"])
            if fn is None:
                fails.append(f"sglang {release}: no top-level function {launch['entry']}")
                continue
            tier_fails = (check_parameters(release, fn, launch)
                          + check_table(release, text, tree, entry, launch, workload)
                          + check_grid(release, tree, launch))
            fails += [f"{name}: {f}" for f in tier_fails]
            checked += 1
            print(f"{name} (sglang {release}, {launch['entry']}): "
                  f"{'ok' if not tier_fails else '%d difference(s)' % len(tier_fails)}")
    if len(argv) == 5 and not missing:
        port_fails, ports = check_ports(argv[4], doc, upstream_dir, workload)
        fails += port_fails
        checked += ports
    for f in fails:
        print("FAIL", f)
    if fails:
        return 1
    if missing:
        print("SKIP: upstream files missing:", "; ".join(missing))
        return 77
    if not checked:
        print(f"FAIL: {tiers_path} has no tier with an upstream file")
        return 1
    print(f"no drift: {checked} tier(s) match their upstream files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
