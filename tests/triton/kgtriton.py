"""Helpers of the Triton test scripts: find the Triton kernel entries of the
repository's manifests, load a kernel source (a submission's .py or an
upstream SGLang file) the way kgrade's helper does, and turn a launch of a
manifest into what triton.compile takes.

The upstream files import torch and sglang at top level; like
hardware/triton/kgrade_triton.py, only what Triton compiles is kept:
imports of triton and triton.language, top-level @triton.jit functions, and
module-level constants that are plain literals or tl.constexpr(...).
"""

import ast
import glob
import hashlib
import importlib.util
import os
import sys

import kgexpr


def upstream_file(upstream_dir, spec):
    return os.path.join(upstream_dir, f"{spec['package']}-{spec['version']}", spec["path"])


def source_path(manifest, entry, upstream_dir):
    if "upstream" in entry:
        return upstream_file(upstream_dir, entry["upstream"])
    return os.path.join(os.path.dirname(manifest), entry["source"])


def triton_manifests(root):
    """Every manifest of the repository that may hold Triton entries: the
    submissions under kernels/ and each baseline's kernels.json. Returns (path, workload name or None) pairs; None
    means the manifest names its workloads."""
    out = []
    for path in sorted(glob.glob(os.path.join(root, "baselines", "*", "*.json"))):
        base = os.path.basename(path)
        if base == "kernels.json":
            out.append((path, os.path.basename(os.path.dirname(path))))
    for dirpath, _, files in sorted(os.walk(os.path.join(root, "kernels"))):
        if "kernels.json" in files:
            out.append((os.path.join(dirpath, "kernels.json"), None))
    return out


def triton_entries(root):
    """(manifest, workload, name, entry) of every Triton entry."""
    out = []
    for path, workload in triton_manifests(root):
        try:
            doc = kgexpr.load_json(path)
        except ValueError:
            continue  # a deliberately broken example; not Triton's business
        if not isinstance(doc, dict):
            continue
        for name, entry in (doc.get("tiers") or {}).items():
            if isinstance(entry, dict) and entry.get("language") == "triton":
                out.append((path, workload, name, entry))
        for name, entry in (doc.get("workloads") or {}).items():
            if isinstance(entry, dict) and entry.get("language") == "triton":
                out.append((path, name, name, entry))
    return out


def _is_jit(decorator):
    text = ast.unparse(decorator)
    return text in ("triton.jit", "jit") or text.startswith(("triton.jit(", "jit("))


def _is_literal(node):
    try:
        ast.literal_eval(node)
        return True
    except ValueError:
        return False


def _is_constexpr_call(node):
    return (isinstance(node, ast.Call) and ast.unparse(node.func) in ("tl.constexpr",
                                                                       "triton.language.constexpr"))


def _reads_untriton_names(func):
    import builtins
    a = func.args
    exprs = [x.annotation for x in a.posonlyargs + a.args + a.kwonlyargs if x.annotation]
    exprs += [d for d in a.defaults + a.kw_defaults if d is not None]
    exprs += [func.returns] if func.returns is not None else []
    return any(isinstance(n, ast.Name) and n.id not in ("tl", "triton", "tle") and
               not hasattr(builtins, n.id) for e in exprs for n in ast.walk(e))


def extract(text, filename="<source>"):
    """The part of a Python source that Triton compiles, as source text."""
    tree = ast.parse(text, filename)
    keep = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names = [a for a in node.names if a.name in ("triton", "triton.language")]
            if names:
                keep.append(ast.Import(names=names))
        elif isinstance(node, ast.ImportFrom):
            if node.module in ("triton", "triton.language") and node.level == 0:
                keep.append(node)
        elif isinstance(node, ast.FunctionDef):
            # As kgrade's helper: a @jit function whose annotations read a
            # dropped name (torch.Tensor) goes too.
            if any(_is_jit(d) for d in node.decorator_list) and \
                    not _reads_untriton_names(node):
                keep.append(node)
        elif isinstance(node, ast.Assign):
            if _is_literal(node.value) or _is_constexpr_call(node.value):
                keep.append(node)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            if _is_constexpr_call(node.value) or (
                    ast.unparse(node.annotation) in ("tl.constexpr", "triton.language.constexpr")
                    and _is_literal(node.value)):
                keep.append(node)
    module = ast.Module(body=keep, type_ignores=[])
    return ast.unparse(ast.fix_missing_locations(module)) + "\n"


def load_module(text, work_dir, filename="<source>"):
    """Imports the Triton part of `text` from a file under work_dir (Triton
    reads a jit function's source back from its file)."""
    code = extract(text, filename)
    digest = hashlib.sha256(code.encode()).hexdigest()[:16]
    name = f"kg_triton_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    os.makedirs(work_dir, exist_ok=True)
    path = os.path.join(work_dir, name + ".py")
    if not os.path.exists(path):  # written once, atomically: workers share the folder
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(code)
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def jit_params(fn):
    """The parameter names of a @triton.jit function, in order."""
    return list(fn.arg_names)


def resolve_launch(workload, entry, launch, shape, device):
    """Everything of one launch for one shape and device: the evaluated
    constexprs, runtime argument values by parameter, num_warps, num_stages
    and the grid."""
    syms = kgexpr.entry_symbols(entry, kgexpr.derive_symbols(workload, shape), device)
    tensors = {t["name"] for t in workload["tensors"]} | {
        s["name"] for s in entry.get("scratch", [])}
    params = set((workload.get("params") or {}).keys())
    sig = launch["signature"]
    args = launch["args"]
    if len(args) != len(sig):
        raise kgexpr.ExprError(f"{len(args)} args for {len(sig)} signature entries")
    values = {}
    for (name, _), arg in zip(sig.items(), args):
        values[name] = kgexpr.eval_arg(arg, syms, tensors, params)
    return {
        "constexprs": kgexpr.eval_constexprs(launch, syms, kgexpr.shape_params(workload, shape)),
        "values": values,
        "num_warps": kgexpr.evaluate(launch["num_warps"], syms),
        "num_stages": kgexpr.evaluate(launch["num_stages"], syms),
        "grid": [kgexpr.evaluate(g, syms) for g in launch["grid"]],
    }


def _int_spec(kind, value):
    if kind not in ("i32", "i64"):
        return ""
    return "1" if value == 1 else ("D" if value % 16 == 0 else "")


def specialisation_key(signature, values):
    """What Triton's specialisation makes of the runtime values: two launches
    with the same key compile to the same kernel."""
    return tuple((name, ty, _int_spec(*values.get(name, (None, None))))
                 for name, ty in signature.items())


def triton_value(value):
    """A constexpr as Triton takes it: a TritonDType becomes tl's dtype."""
    if isinstance(value, kgexpr.TritonDType):
        import triton.language as tl
        return tl.str_to_ty(str(value), None)
    return value


def ast_source_args(fn, signature, constexprs, values):
    """(signature, constants, attrs) for triton.compiler.ASTSource, with
    Triton's own specialisation of the runtime values as its launcher would
    make it: an integer equal to 1 becomes the constant 1, an integer or a
    pointer divisible by 16 is marked so (device buffers are aligned)."""
    names = jit_params(fn)
    missing = [n for n in names if n not in signature and n not in constexprs]
    extra = [n for n in list(signature) + list(constexprs) if n not in names]
    if missing or extra:
        raise ValueError(f"parameters {names}; not in signature/constexprs: {missing}; "
                         f"not parameters: {extra}")
    sig, consts, attrs = {}, {}, {}
    for i, name in enumerate(names):
        if name in constexprs:
            sig[name] = "constexpr"
            consts[name] = triton_value(constexprs[name])
            continue
        ty = signature[name]
        kind, value = values.get(name, (None, None))
        if ty.startswith("*"):
            sig[name] = ty
            attrs[(i,)] = [["tt.divisibility", 16]]
        elif ty in ("i32", "i64") and kind in ("i32", "i64"):
            if value == 1:
                sig[name] = "constexpr"
                consts[name] = 1
            else:
                sig[name] = ty
                if value % 16 == 0:
                    attrs[(i,)] = [["tt.divisibility", 16]]
        else:
            sig[name] = ty
    return sig, consts, attrs
