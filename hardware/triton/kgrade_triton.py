#!/usr/bin/env python3
"""kgrade's Triton compile helper.

    <python> kgrade_triton.py compile  < request.json  > reply.json

Reads ONE JSON request on stdin and writes ONE JSON reply on stdout (the
contract: docs/triton.md and runner/grade/triton_build.c). Exit codes: 0
compiled (or served from the cache), 1 a compile error (the reply is still
JSON, with "error"), 2 a malformed request or command line.

It compiles for a target given in the request, not for the GPU of this
machine: no GPU, no driver and no torch are needed. Only the standard
library and triton are imported, and triton only on a cache miss, so that
a warm request costs little more than Python's start-up.

Specialisation is Triton's own: the launcher's binder, built by
triton.runtime.jit.create_function_from_signature() (which calls
triton's native_specialize_impl through the backend), is run on stand-ins
for kgrade's arguments, and JITFunction._pack_args() turns its result into
the signature, constexprs and attrs that JITFunction.run() would compile
with. See specialise().
"""

import ast
import builtins
import hashlib
import json
import os
import re
import sys
import time

import kgrade_sandbox

EXIT_COMPILE_ERROR = 1
EXIT_BAD_REQUEST = 2

# Bump when the reply or the cache layout changes: old entries are ignored.
CACHE_FORMAT = 1

# Environment knobs set for every compile, recorded in the reply and in the
# cache key. TRITON_DEFAULT_FP_FUSION=1 is Triton 3.9's default (FMA
# contraction on), the one SGLang runs with; set explicitly because 3.10
# changes the default.
TRITON_ENV = {"TRITON_DEFAULT_FP_FUSION": "1"}

# Variables that change what Triton compiles (triton/knobs.py): cleared so
# that the caller's environment cannot change a kernel behind the cache key.
ENV_PREFIXES_CLEARED = ("TRITON_", "AMDGCN_", "MLIR_", "LLVM_", "NVPTX_")
ENV_NAMES_CLEARED = ("USE_IR_LOC", "DISABLE_PTXAS_OPT", "PTXAS_OPTIONS", "DISABLE_LLVM_OPT")

REQUEST_KEYS = {
    "source": str, "source_name": str, "entry": str, "signature": dict,
    "constexprs": dict, "values": dict, "num_warps": int, "num_stages": int,
    "target": dict, "cache_dir": str, "options": dict,
}
REQUEST_OPTIONAL = {"source_name", "values", "options"}
# Backend compile options a request may pass, as a launcher passes them to
# kernel[grid](...): SGLang's AMD launch adds these three.
TARGET_OPTIONS = {"cuda": set(), "hip": {"waves_per_eu", "matrix_instr_nonkdim", "kpack"}}

SCALAR_TYPES = {"i1", "i8", "i16", "i32", "i64", "u1", "u8", "u16", "u32", "u64",
                "fp16", "bf16", "fp32", "fp64"}
ELEMENT_TYPES = SCALAR_TYPES | {"fp8e4nv", "fp8e5", "fp8e4b15", "fp8e4b8", "fp8e5b16"}
INT_RANGES = {"i8": (-2**7, 2**7), "i16": (-2**15, 2**15), "i32": (-2**31, 2**31),
              "i64": (-2**63, 2**63), "u8": (0, 2**8), "u16": (0, 2**16),
              "u32": (0, 2**32), "u64": (0, 2**64)}


class HelperError(Exception):
    """An error reply: exit code, message, and extra reply fields."""

    def __init__(self, code, message, **extra):
        super().__init__(message)
        self.code = code
        self.extra = extra


def bad_request(message):
    return HelperError(EXIT_BAD_REQUEST, "malformed request: " + message)


def compile_error(message, **extra):
    return HelperError(EXIT_COMPILE_ERROR, message, **extra)


# ---- the request ----------------------------------------------------------------

def parse_request(text):
    try:
        req = json.loads(text)
    except json.JSONDecodeError as e:
        raise bad_request(f"not JSON ({e})") from None
    if not isinstance(req, dict):
        raise bad_request("not a JSON object")
    for key in req:
        if key not in REQUEST_KEYS:
            raise bad_request(f"unknown key \"{key}\" (known: {', '.join(REQUEST_KEYS)})")
    for key, kind in REQUEST_KEYS.items():
        if key not in req:
            if key in REQUEST_OPTIONAL:
                continue
            raise bad_request(f"\"{key}\" is missing")
        # bool is an int to Python: refuse it where a count is wanted.
        if not isinstance(req[key], kind) or (kind is int and isinstance(req[key], bool)):
            raise bad_request(f"\"{key}\" must be a JSON {kind_name(kind)}")
    req.setdefault("source_name", "<source>")
    req.setdefault("values", {})
    req.setdefault("options", {})
    check_target(req["target"])
    check_options(req["options"], req["target"]["backend"])
    check_types(req["signature"])
    check_constexprs(req["constexprs"])
    check_values(req["values"], req["signature"])
    if not os.path.isabs(req["cache_dir"]):
        raise bad_request(f"cache_dir \"{req['cache_dir']}\" is not an absolute path")
    if req["num_warps"] < 1 or req["num_stages"] < 1:
        raise bad_request("num_warps and num_stages must be at least 1")
    return req


def kind_name(kind):
    return {str: "string", dict: "object", int: "integer"}[kind]


def check_target(target):
    backend, arch, warp = target.get("backend"), target.get("arch"), target.get("warp_size")
    if set(target) != {"backend", "arch", "warp_size"}:
        raise bad_request("target must have exactly backend, arch and warp_size")
    if backend == "cuda" and not (isinstance(arch, int) and not isinstance(arch, bool)):
        raise bad_request("a cuda target's arch is an integer (compute capability, e.g. 90)")
    if backend == "hip" and not (isinstance(arch, str) and re.fullmatch(r"gfx[0-9a-f]+", arch)):
        raise bad_request("a hip target's arch is a string such as \"gfx942\"")
    if backend not in ("cuda", "hip"):
        raise bad_request(f"target backend \"{backend}\" is not cuda or hip")
    if warp not in (32, 64) or isinstance(warp, bool):
        raise bad_request("target warp_size must be 32 or 64")


def check_options(options, backend):
    allowed = TARGET_OPTIONS.get(backend, set())
    for name, value in options.items():
        if name not in allowed:
            raise bad_request(f"option \"{name}\" is not one a {backend} target takes "
                              f"(allowed: {', '.join(sorted(allowed)) or 'none'})")
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 1024:
            raise bad_request(f"option \"{name}\" must be an integer from 0 to 1024")


def check_types(signature):
    for name, ty in signature.items():
        ok = isinstance(ty, str) and (ty in SCALAR_TYPES or
                                      (ty.startswith("*") and ty[1:] in ELEMENT_TYPES))
        if not ok:
            raise bad_request(f"signature type {json.dumps(ty)} of \"{name}\" is not one of "
                              f"{sorted(SCALAR_TYPES)} or * followed by {sorted(ELEMENT_TYPES)}")


def check_constexprs(constexprs):
    for name, value in constexprs.items():
        if isinstance(value, dict):
            if set(value) != {"dtype"} or value["dtype"] not in ELEMENT_TYPES:
                raise bad_request(f"constexpr \"{name}\": a dtype is {{\"dtype\": T}}, T one of "
                                  f"{', '.join(sorted(ELEMENT_TYPES))}")
        elif value is not None and not isinstance(value, (int, float, bool)):
            raise bad_request(f"constexpr \"{name}\" must be a number, true/false, null or "
                              f"{{\"dtype\": T}}")


def constexpr_value(value):
    """A request's constexpr as the Python caller passes it: {"dtype":
    "bf16"} is tl.bfloat16 (SGLang's fused MoE kernel takes its compute
    type so), anything else as it is."""
    if isinstance(value, dict):
        import triton.language as tl
        return tl.str_to_ty(value["dtype"], None)
    return value


def check_values(values, signature):
    for name, value in values.items():
        if signature.get(name) not in INT_RANGES and signature.get(name) not in ("i1", "u1"):
            raise bad_request(f"values names \"{name}\", not an integer parameter of the signature")
        if not isinstance(value, int):
            raise bad_request(f"value of \"{name}\" must be an integer")
        low, high = INT_RANGES.get(signature[name], (0, 2))
        if not low <= value < high:
            raise bad_request(f"value {value} of \"{name}\" does not fit {signature[name]}")
    missing = [n for n, t in signature.items() if t in INT_RANGES and n not in values]
    if missing:
        # Without the value Triton's specialisation (divisible by 16, == 1)
        # cannot be done as the launcher would: refuse rather than guess.
        raise bad_request(f"values lacks the integer parameter(s) {', '.join(missing)}")


# ---- the source: keep what Triton compiles --------------------------------------

class Kept:
    """The filtered module: its text, its @jit functions, what was dropped."""

    def __init__(self, text, jit_functions, dropped):
        self.text = text
        self.jit_functions = jit_functions  # names, in source order
        self.dropped = dropped              # name -> (line, why)


def filter_source(source, source_name):
    """Keeps triton imports, top-level @triton.jit functions and literal
    constants. Dropped lines become empty lines, so that line numbers in
    Triton's messages are those of the caller's file."""
    try:
        tree = ast.parse(source, filename=source_name)
    except SyntaxError as e:
        raise compile_error(f"{source_name}:{e.lineno}:{e.offset or 0}: syntax error: {e.msg}") from None
    lines = source.splitlines(keepends=True)
    out = ["\n"] * len(lines)
    aliases = triton_aliases(tree)
    jit_functions, dropped = [], {}
    bound = kept_names(tree, aliases)
    for node in tree.body:
        why = keep_reason(node, aliases)
        if why is None and isinstance(node, ast.FunctionDef):
            why = signature_reads_dropped(node, bound)
        if why is None:
            keep_lines(out, lines, node)
            if isinstance(node, ast.FunctionDef):
                jit_functions.append(node.name)
                trim_decorators(out, lines, node, aliases)
        else:
            for name in bound_names(node):
                dropped.setdefault(name, (node.lineno, why))
    return Kept("".join(out), jit_functions, dropped)


def kept_names(tree, aliases):
    """Top-level names the filtered module binds (before annotation checks)."""
    names = set(aliases)
    for node in tree.body:
        if keep_reason(node, aliases) is None:
            names.update(bound_names(node))
    return names


SIGNATURE_COMPUTES = "a @triton.jit function whose signature computes"


def signature_reads_dropped(func, bound):
    """Why a @jit function must go too: its annotations or defaults read a
    name the filter drops (`x: torch.Tensor` in a file that imports torch),
    which would fail when the module is executed, or do more than name
    something or state a literal (a call there would run when the module is
    loaded: kgrade_sandbox.py). None when they do not. Such a function
    cannot be a kernel's entry anyway: Triton types its parameters from the
    launch, not from torch annotations."""
    a = func.args
    exprs = [x.annotation for x in a.posonlyargs + a.args + a.kwonlyargs if x.annotation]
    exprs += [x.annotation for x in (a.vararg, a.kwarg) if x is not None and x.annotation]
    exprs += [d for d in a.defaults + a.kw_defaults if d is not None]
    if func.returns is not None:
        exprs.append(func.returns)
    for e in exprs:
        if not (is_literal(e) or is_reference(e)):
            return (f"{SIGNATURE_COMPUTES} {ast.unparse(e)!r} "
                    "(annotations and defaults may only name something or be literals)")
        for n in ast.walk(e):
            if isinstance(n, ast.Name) and n.id not in bound and not hasattr(builtins, n.id):
                return (f"a @triton.jit function whose signature reads {n.id}, which is "
                        f"not kept")
    return None


def is_reference(node):
    """A name or a chain of attributes of one (tl.constexpr): evaluating it
    calls nothing."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


def triton_aliases(tree):
    """Top-level names bound by triton imports -> the dotted path they name."""
    aliases = {}
    for node in tree.body:
        if isinstance(node, ast.Import) and is_triton_import(node):
            for a in node.names:
                aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and is_triton_import(node):
            for a in node.names:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    return aliases


def is_triton_import(node):
    def triton(mod):
        return mod == "triton" or mod.startswith("triton.")
    if isinstance(node, ast.Import):
        return all(triton(a.name) for a in node.names)
    if isinstance(node, ast.ImportFrom):
        return node.level == 0 and node.module is not None and (
            triton(node.module) or node.module == "__future__")
    return False


def dotted(node, aliases):
    """The full dotted path of a Name/Attribute chain rooted at a triton
    alias, e.g. tl.constexpr -> triton.language.constexpr; else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in aliases:
        return None
    return ".".join([aliases[node.id]] + parts[::-1])


# What a kept decorator or constant may name: Triton's jit and constexpr,
# not anything whose dotted path merely ends in those words.
JIT_PATHS = {"triton.jit", "triton.runtime.jit", "triton.runtime.jit.jit"}
CONSTEXPR_PATHS = {"triton.language.constexpr", "triton.language.core.constexpr"}


def is_jit_decorator(dec, aliases):
    return dotted(dec.func if isinstance(dec, ast.Call) else dec, aliases) in JIT_PATHS


def keep_reason(node, aliases):
    """None when the statement is kept, else why it was dropped."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return None if is_triton_import(node) else "an import of something other than triton"
    if isinstance(node, ast.FunctionDef):
        if any(is_jit_decorator(d, aliases) for d in node.decorator_list):
            return None
        return "a function not decorated with @triton.jit"
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        # An annotation is evaluated when the module is loaded: a name only.
        plain = isinstance(node, ast.Assign) or is_reference(node.annotation) or is_literal(
            node.annotation)
        if plain and all(isinstance(t, ast.Name) for t in targets) and is_constant(node.value, aliases):
            return None
        return "an assignment of something other than a literal or tl.constexpr(literal)"
    return "not an import, a @triton.jit function or a constant"


def is_constant(value, aliases):
    if isinstance(value, ast.Call) and not value.keywords and len(value.args) == 1:
        if dotted(value.func, aliases) not in CONSTEXPR_PATHS:
            return False
        value = value.args[0]
    try:
        ast.literal_eval(value)
        return True
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False


def keep_lines(out, lines, node):
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    for i in range(first - 1, node.end_lineno):
        out[i] = lines[i]


def blank_lines(out, node):
    for i in range(node.lineno - 1, node.end_lineno):
        out[i] = "\n"


def trim_decorators(out, lines, func, aliases):
    """Keeps only the jit decorator (autotune/heuristics would choose
    configurations the request already fixes), and of its arguments only
    literal keywords (do_not_specialize, ...): the others name dropped code
    or would run when the module is loaded."""
    for dec in func.decorator_list:
        if not is_jit_decorator(dec, aliases):
            blank_lines(out, dec)
        elif isinstance(dec, ast.Call) and (dec.args or not all(
                k.arg is not None and is_literal(k.value) for k in dec.keywords)):
            kept = ast.Call(func=dec.func, args=[],
                            keywords=[k for k in dec.keywords
                                      if k.arg is not None and is_literal(k.value)])
            blank_lines(out, dec)
            out[dec.lineno - 1] = " " * (dec.col_offset - 1) + "@" + ast.unparse(kept) + "\n"


def is_literal(node):
    try:
        ast.literal_eval(node)
        return True
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False


def bound_names(node):
    """Names a top-level statement binds (not looking into function bodies)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [a.asname or a.name.split(".")[0] for a in node.names]
    names, todo = [], [node]
    while todo:
        n = todo.pop()
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            names.append(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(n.name)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            names += [a.asname or a.name.split(".")[0] for a in n.names]
        else:
            todo.extend(ast.iter_child_nodes(n))
    return names


# ---- the cache ------------------------------------------------------------------

def triton_version():
    # importlib.metadata reads the installed distribution's metadata
    # without importing triton (which costs seconds).
    from importlib import metadata
    try:
        return metadata.version("triton")
    except metadata.PackageNotFoundError:
        return None


def cache_key(req, kept, version):
    helper = hashlib.sha256()
    for path in (__file__, kgrade_sandbox.__file__):
        with open(path, "rb") as f:
            helper.update(f.read())
    helper = helper.hexdigest()
    material = {
        "format": CACHE_FORMAT, "helper_sha256": helper, "triton": version,
        "request": {k: v for k, v in req.items() if k != "cache_dir"},
        "filtered_source": kept.text, "env": TRITON_ENV,
    }
    # sort_keys for a canonical text, but the order of the signature
    # matters (it is the kernel's parameter order): keep it as a list.
    material["request"]["signature"] = list(req["signature"].items())
    blob = json.dumps(material, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()


def kernel_dir(req, key):
    return os.path.join(req["cache_dir"], "kernels", key)


def cached_reply(req, key):
    """The stored reply of an earlier compile of this key, if it is whole."""
    folder = kernel_dir(req, key)
    try:
        with open(os.path.join(folder, "reply.json")) as f:
            reply = json.load(f)
        binary = os.path.join(folder, reply["binary"])
        with open(binary, "rb") as f:
            if hashlib.sha256(f.read()).hexdigest() != reply["binary_sha256"]:
                return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    reply["binary"] = binary
    return reply


def store(req, key, version, staging, reply):
    """Moves a confined compile's entry folder into kernels/<key>/ with the
    reply beside it. The binary's hash is computed here, outside the
    sandbox, and the entry renamed whole (a concurrent compile of the same
    key loses the rename, harmlessly)."""
    entry = os.path.join(staging, "entry")
    name = reply.get("binary")
    if not isinstance(name, str) or os.path.basename(name) != name or not name:
        raise compile_error(f"the confined compile named no binary ({name!r})")
    try:
        with open(os.path.join(entry, name), "rb") as f:
            binary_sha256 = hashlib.sha256(f.read()).hexdigest()
    except OSError as e:
        raise compile_error(f"the confined compile left no binary: {e}") from None
    # What this process knows is written by it, not taken from the child,
    # which ran the submission's module.
    t = req["target"]
    stored = dict(reply, binary_sha256=binary_sha256, cache_key=key, env=TRITON_ENV,
                  triton_version=version, target=f"{t['backend']}:{t['arch']}",
                  warp_size=t["warp_size"], cached=False,
                  sandbox=kgrade_sandbox.recorded_confinement(reply.get("sandbox")))
    with open(os.path.join(entry, "reply.json"), "w") as f:
        json.dump(stored, f, indent=1)
    final = kernel_dir(req, key)
    try:
        os.rename(entry, final)
    except OSError:
        # Another compile of the key won, or an entry whose binary no longer
        # matches its hash is in the way: that one is replaced.
        if cached_reply(req, key) is None:
            remove_tree(final)
            try:
                os.rename(entry, final)
            except OSError:
                pass
    return dict(stored, binary=os.path.join(final, name))


def remove_tree(path):
    import shutil
    shutil.rmtree(path, ignore_errors=True)


# ---- compiling ------------------------------------------------------------------

def set_environment(work):
    for name in list(os.environ):
        if name.startswith(ENV_PREFIXES_CLEARED) or name in ENV_NAMES_CLEARED:
            del os.environ[name]
    os.environ.update(TRITON_ENV)
    # Triton's own cache, TRITON_HOME and ptxas's temporary files inside the
    # compile's own work folder, the only place the confined compile may
    # write: never in $HOME, never shared with another kernel's compile.
    for var, sub in (("TRITON_CACHE_DIR", "triton"), ("TRITON_HOME", "triton-home"),
                     ("TMPDIR", "tmp")):
        os.environ[var] = os.path.join(work, sub)
        os.makedirs(os.environ[var], exist_ok=True)
    import tempfile
    tempfile.tempdir = None


def write_module(req, kept):
    """The filtered source as a real file (Triton reads it back through
    inspect), named by its sha256 under <cache_dir>/src/."""
    sha = hashlib.sha256(kept.text.encode()).hexdigest()
    folder = os.path.join(req["cache_dir"], "src")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, sha + ".py")
    if not os.path.exists(path):
        tmp = f"{path}.tmp-{os.getpid()}"
        with open(tmp, "w") as f:
            f.write(kept.text)
        os.replace(tmp, path)
    return path, sha


def load_module(path, sha, kept, source_name):
    import importlib.util
    name = "kgrade_triton_src_" + sha[:16]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        raise explain(e, kept, source_name, f"loading the kept part of {source_name} failed") from None
    return module


def match_parameters(fn, req):
    """Every runtime parameter in signature (in order), every constexpr in
    constexprs; a parameter passed as None is in constexprs as null; a
    parameter with a default may be left out when the default makes it
    vanish from the compiled kernel (a constexpr, or None)."""
    sig, cex = req["signature"], req["constexprs"]
    problems = []
    runtime = [p.name for p in fn.params if not p.is_constexpr]
    for p in fn.params:
        if p.name in sig and p.name in cex:
            problems.append(f"{p.name} is in both signature and constexprs")
        elif p.is_constexpr and p.name in sig:
            problems.append(f"{p.name} is tl.constexpr: it belongs in constexprs")
        elif not p.is_constexpr and cex.get(p.name, None) is not None:
            problems.append(f"{p.name} is a runtime parameter: in constexprs only as null (None)")
        elif p.name not in sig and p.name not in cex and not (
                p.has_default and (p.is_constexpr or p.default is None)):
            problems.append(f"{p.name} is missing")
    names = {p.name for p in fn.params}
    problems += [f"{n} is not a parameter" for n in list(sig) + list(cex) if n not in names]
    if [n for n in runtime if n in sig] != [n for n in sig if n in runtime]:
        problems.append("signature is not in the function's order")
    if problems:
        params = [p.name + (": constexpr" if p.is_constexpr else "") for p in fn.params]
        raise compile_error(
            f"signature/constexprs do not match the parameters of {req['entry']}: "
            f"{'; '.join(problems)}. Parameters, in order: [{', '.join(params)}]. "
            f"Request signature: [{', '.join(sig)}]; constexprs: [{', '.join(cex)}]")


class Buffer:
    """A kgrade buffer as the launcher sees a tensor: kgrade allocates every
    buffer 16-byte aligned, so data_ptr() is a multiple of 16 (0, as
    triton.runtime.jit.MockTensor). ptr_range(): below 2 GiB, as
    MockTensor assumes (only AMD's buffer-op specialisation asks)."""

    def __init__(self, element_type):
        self.dtype = element_type  # Triton accepts its type names here

    @staticmethod
    def data_ptr():
        return 0

    @staticmethod
    def ptr_range():
        return 0


def stand_in(name, ty, req):
    """The Python value the launcher would see for a runtime argument."""
    if ty.startswith("*"):
        return Buffer(ty[1:])
    if ty in ("i1", "u1"):
        return bool(req["values"].get(name, False))
    if ty in INT_RANGES:
        return req["values"][name]
    return 1.5  # floats are never specialised


def specialise(fn, backend, req):
    """(signature, constexprs, attrs, options) exactly as JITFunction.run()
    computes them: Triton's binder (create_function_from_signature, which
    calls native_specialize_impl) on stand-ins, then JITFunction._pack_args."""
    from triton import knobs
    from triton.runtime.jit import JITFunction, create_function_from_signature
    args = {p.name: stand_in(p.name, req["signature"][p.name], req)
            for p in fn.params if p.name in req["signature"]}
    args.update({k: constexpr_value(v) for k, v in req["constexprs"].items()})
    # The options JITFunction.run() adds before binding.
    kwargs = dict(args, **req["options"], num_warps=req["num_warps"], num_stages=req["num_stages"],
                  debug=fn.debug or knobs.runtime.debug,
                  instrumentation_mode=knobs.compilation.instrumentation_mode,
                  fpsan_homomorphic_casts=knobs.compilation.fpsan_homomorphic_casts)
    binder = create_function_from_signature(fn.signature, fn.params, backend)
    bound, specialization, options = binder(**kwargs)
    options, signature, constexprs, attrs = JITFunction._pack_args(
        fn, backend, kwargs, bound, specialization, options)
    for name, ty in req["signature"].items():
        # Triton picks i64 for a large int, i32 otherwise: the request's
        # type, which says how kgrade packs the argument, wins.
        if signature[name] != "constexpr":
            signature[name] = ty
    return signature, constexprs, attrs, options


def compile_confined(req, kept, key, version):
    """Compiles in a child process confined to a staging folder
    (kgrade_sandbox.py): the submitted module is loaded and Triton run only
    there; this process, which runs no submitted code, files the result."""
    path, sha = write_module(req, kept)
    staging = f"{kernel_dir(req, key)}.tmp-{os.getpid()}"
    for sub in ("entry", "work"):
        os.makedirs(os.path.join(staging, sub), exist_ok=True)
    result_path = os.path.join(staging, "result.json")
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os._exit(confined_child(req, kept, key, version, staging, path, sha, result_path))
    try:
        _, status = os.waitpid(pid, 0)
        result = read_result(result_path, status)
        if not result.get("ok"):
            extra = {k: v for k, v in result.items() if k in ("traceback", "refused")}
            raise HelperError(result.get("code", EXIT_COMPILE_ERROR),
                              str(result.get("error", "the confined compile failed")), **extra)
        if not isinstance(result.get("reply"), dict):
            raise compile_error("the confined compile's result has no reply")
        return store(req, key, version, staging, result["reply"])
    finally:
        remove_tree(staging)


def confined_child(req, kept, key, version, staging, path, sha, result_path):
    """The child's whole life: confine, compile, write result.json. Returns
    its exit status (the parent reads the file, not the status)."""
    try:
        sys.dont_write_bytecode = True
        set_environment(os.path.join(staging, "work"))
        sandbox = kgrade_sandbox.confine_writes(staging)
        reply = compile_kernel(req, kept, key, version, path, sha, os.path.join(staging, "entry"))
        result = {"ok": True, "reply": dict(reply, sandbox=sandbox)}
    except HelperError as e:
        result = dict({"ok": False, "code": e.code, "error": str(e)}, **e.extra)
    except BaseException as e:  # noqa: B036 - the child must always answer
        import traceback
        result = {"ok": False, "code": EXIT_COMPILE_ERROR,
                  "error": f"kgrade_triton.py failed: {type(e).__name__}: {e}",
                  "traceback": "".join(traceback.format_tb(e.__traceback__)[-3:])}
    try:
        sys.stdout.flush()
        with open(result_path, "w") as f:
            json.dump(result, f)
        return 0
    except BaseException:  # noqa: B036
        return EXIT_COMPILE_ERROR


def read_result(result_path, status):
    try:
        with open(result_path) as f:
            result = json.load(f)
        if isinstance(result, dict):
            return result
    except (OSError, ValueError):
        pass
    how = (f"was killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
           else f"exited with {os.WEXITSTATUS(status)}")
    raise compile_error(f"the confined compile {how} without a result")


def compile_kernel(req, kept, key, version, path, sha, entry):
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource, make_backend
    from triton.runtime.jit import JITFunction
    kgrade_sandbox.police_front_end(triton)
    module = load_module(path, sha, kept, req["source_name"])
    fn = getattr(module, req["entry"], None)
    if not isinstance(fn, JITFunction):
        raise missing_entry(req, kept)
    match_parameters(fn, req)
    t = req["target"]
    target = GPUTarget(t["backend"], t["arch"], t["warp_size"])
    backend = make_backend(target)
    if t["backend"] == "hip":
        # Its buffer-op check would import torch to look at the argument.
        type(backend)._torch_available = False
    try:
        signature, constexprs, attrs, options = specialise(fn, backend, req)
    except Exception as e:  # Triton's checks of the options (num_warps a power of 2, ...)
        raise explain(e, kept, req["source_name"], "Triton refused the launch options") from None
    try:
        compiled = triton.compile(ASTSource(fn, signature, constexprs, attrs),
                                  target=target, options=options.__dict__)
    except Exception as e:
        raise explain(e, kept, req["source_name"], f"Triton could not compile {req['entry']}") from None
    return make_reply(req, key, version, compiled, signature, entry)


def missing_entry(req, kept):
    found = ", ".join(kept.jit_functions) or "none"
    if req["entry"] in kept.dropped:
        line, why = kept.dropped[req["entry"]]
        return compile_error(f"entry \"{req['entry']}\" ({req['source_name']}:{line}) was "
                             f"dropped: {why}; @triton.jit functions kept: {found}",
                             refused=why.startswith(SIGNATURE_COMPUTES))
    return compile_error(f"entry \"{req['entry']}\" is not a top-level @triton.jit function of "
                         f"{req['source_name']}; @triton.jit functions found: {found}")


def explain(exc, kept, source_name, what):
    """A compile error: Triton's message (a dropped name explained) and the
    last 3 frames of the Python traceback."""
    import traceback
    message = str(exc).strip() or type(exc).__name__
    where = error_location(exc, kept, source_name)
    if where:
        message = f"{where}: {message}"
    for name in undefined_names(exc):
        if name in kept.dropped:
            line, why = kept.dropped[name]
            message += (f"\n\"{name}\" is defined at line {line} of {source_name}, which the "
                        f"helper dropped ({why}): it keeps only triton imports, top-level "
                        f"@triton.jit functions and literal or tl.constexpr(literal) constants")
    frames = traceback.format_tb(exc.__traceback__)[-3:]
    return compile_error(f"{what}: {message}", traceback="".join(frames),
                         refused=is_refusal(exc))


def is_refusal(exc):
    """Whether the front-end policy (kgrade_sandbox.Refused) stopped the
    compile: Triton wraps the exception into its own, keeping its repr."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, kgrade_sandbox.Refused) or "Refused(" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def error_location(exc, kept, source_name):
    """file:line:col of a Triton CompilationError, whose "at L:C" counts
    lines from the function's def: found by looking for the function's
    source in the kept text (its lines are the caller's file's lines)."""
    src, node = getattr(exc, "src", None), getattr(exc, "node", None)
    if not src or not hasattr(node, "lineno"):
        return None
    start = kept.text.find(src)
    if start < 0:
        return None
    line = kept.text.count("\n", 0, start) + node.lineno
    return f"{source_name}:{line}:{node.col_offset + 1}"


def undefined_names(exc):
    """Names reported undefined anywhere in the exception chain."""
    seen, names = set(), []
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, NameError) and getattr(exc, "name", None):
            names.append(exc.name)
        names += re.findall(r"(?:name '|\b)(\w+)'? is not defined", str(exc))
        exc = exc.__cause__ or exc.__context__
    return list(dict.fromkeys(names))


def ptx_params(ptx):
    """The .param types of the .entry, in order, e.g. ["u64", "u32"]."""
    m = re.search(r"\.entry\s+[\w$]+\s*\((.*?)\)", ptx, re.S)
    if m is None:
        raise compile_error("no .entry in the PTX Triton produced")
    return re.findall(r"\.param\s+\.(\w+)", m.group(1))


def check_launchable(meta):
    """kgrade launches a plain grid of num_warps * warp_size threads: refuse
    what needs more (clusters, cooperative or PDL launches, TMA descriptors)."""
    problems = []
    if getattr(meta, "num_ctas", 1) != 1:
        problems.append(f"num_ctas={meta.num_ctas}")
    for flag in ("launch_cooperative_grid", "launch_pdl"):
        if getattr(meta, flag, False):
            problems.append(flag)
    if getattr(meta, "tensordesc_meta", None):
        problems.append("tensor descriptors")
    if problems:
        raise compile_error(f"the compiled kernel needs a launch kgrade does not do: {', '.join(problems)}")


def make_reply(req, key, version, compiled, signature, entry):
    """The reply, its binary and text forms written into the entry folder."""
    meta = compiled.metadata
    check_launchable(meta)
    t = req["target"]
    cuda = t["backend"] == "cuda"
    ext = "cubin" if cuda else "hsaco"
    binary = compiled.asm[ext]
    files = {f"{meta.name}.{ext}": binary}
    # The text forms beside the binary, for people and for the tests: the
    # TTIR shows Triton's specialisation (tt.divisibility on arguments).
    text = ("ttir", "ptx") if cuda else ("ttir", "amdgcn")
    files.update({f"kernel.{k}": compiled.asm[k].encode() for k in text})
    reply = {
        "ok": True,
        "binary": f"{meta.name}.{ext}",
        "name": meta.name,
        "shared": meta.shared,
        "num_warps": meta.num_warps, "num_stages": meta.num_stages, "warp_size": t["warp_size"],
        "params": [{"name": n, "type": ty} for n, ty in signature.items()
                   if ty != "constexpr"],
        "hidden": [{"name": "global_scratch", "size": meta.global_scratch_size,
                    "align": meta.global_scratch_align},
                   {"name": "profile_scratch", "size": meta.profile_scratch_size,
                    "align": meta.profile_scratch_align}],
        "ptx_params": ptx_params(compiled.asm["ptx"]) if cuda else [],
        "triton_version": version,
        "target": f"{t['backend']}:{t['arch']}",
        "env": TRITON_ENV,
        "cache_key": key,
        "cached": False,
    }
    for name, data in files.items():
        with open(os.path.join(entry, name), "wb") as f:
            f.write(data)
    return reply


# ---- main -----------------------------------------------------------------------

def run(stdin_text):
    t0 = time.perf_counter()
    req = parse_request(stdin_text)
    kept = filter_source(req["source"], req["source_name"])
    if req["entry"] not in kept.jit_functions:
        raise missing_entry(req, kept)
    version = triton_version()
    if version is None:
        raise compile_error("triton is not installed in this Python (" + sys.executable + ")")
    key = cache_key(req, kept, version)
    reply = cached_reply(req, key)
    if reply is not None:
        reply["cached"] = True
    else:
        reply = compile_confined(req, kept, key, version)
    reply["compile_seconds"] = round(time.perf_counter() - t0, 4)
    return reply


def main(argv):
    # Triton and ptxas may print to stdout: point file descriptor 1 at
    # stderr for the whole run and write the one reply to the saved one.
    reply_fd = os.dup(1)
    os.dup2(2, 1)
    if argv[1:] != ["compile"]:
        code, reply = EXIT_BAD_REQUEST, {"ok": False, "error": "usage: kgrade_triton.py compile < request.json"}
    else:
        try:
            code, reply = 0, run(sys.stdin.read())
        except HelperError as e:
            code, reply = e.code, dict({"ok": False, "error": str(e)}, **e.extra)
        except Exception as e:  # still one JSON reply: kgrade reads nothing else
            import traceback
            code, reply = EXIT_COMPILE_ERROR, {
                "ok": False, "error": f"kgrade_triton.py failed: {type(e).__name__}: {e}",
                "traceback": "".join(traceback.format_tb(e.__traceback__)[-3:])}
    sys.stdout.flush()
    with os.fdopen(reply_fd, "w") as out:
        json.dump(reply, out, indent=1)
        out.write("\n")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
