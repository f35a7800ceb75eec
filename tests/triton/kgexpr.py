"""kgrade's integer expression language (docs/formats.md, runner/formats/expr.c)
in Python, for the Triton test scripts; and the pieces of a kernel manifest
they need (defines, launches, arguments). Standard library only.

Semantics follow expr.c: 64-bit signed integers, `/` and `%` truncating
toward zero as in C, overflow and division by zero are errors, `if` evaluates
only the chosen branch, `pow2ceil(a)` is 1 for a <= 1.
"""

import json
import os
import re

INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1


class ExprError(Exception):
    pass


def _check(v, text):
    if not INT64_MIN <= v <= INT64_MAX:
        raise ExprError(f"'{text}': int64 overflow")
    return v


def _cdiv_trunc(a, b, text):
    if b == 0:
        raise ExprError(f"'{text}': division by zero")
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _pow2ceil(a):
    p = 1
    while p < a:
        p *= 2
    return p


_TOKEN = re.compile(r"\s*(?:(\d+)|([A-Za-z_][A-Za-z0-9_]*)|(.))")
_FUNCS = {"cdiv": (2, 2), "min": (2, None), "max": (2, None), "if": (3, 3),
          "eq": (2, 2), "ne": (2, 2), "lt": (2, 2), "le": (2, 2), "gt": (2, 2),
          "ge": (2, 2), "pow2ceil": (1, 1)}


def _tokens(text):
    out = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            break
        if m.group(1) is not None:
            out.append(("int", int(m.group(1)), m.start(1)))
        elif m.group(2) is not None:
            out.append(("name", m.group(2), m.start(2)))
        elif m.group(3) is not None:
            c = m.group(3)
            if c not in "+-*/%(),":
                raise ExprError(f"'{text}': unexpected character '{c}' at position {m.start(3)}")
            out.append(("op", c, m.start(3)))
        pos = m.end()
    out.append(("end", None, len(text)))
    return out


def parse(text):
    """Parses `text` into a tree of tuples; raises ExprError."""
    toks = _tokens(str(text))
    i = 0

    def peek():
        return toks[i]

    def take(kind=None, value=None):
        nonlocal i
        t = toks[i]
        if (kind and t[0] != kind) or (value is not None and t[1] != value):
            raise ExprError(f"'{text}': expected {value or kind} at position {t[2]}")
        i += 1
        return t

    def expr():
        node = term()
        while peek()[0] == "op" and peek()[1] in "+-":
            op = take()[1]
            node = (op, node, term())
        return node

    def term():
        node = unary()
        while peek()[0] == "op" and peek()[1] in "*/%":
            op = take()[1]
            node = (op, node, unary())
        return node

    def unary():
        if peek()[0] == "op" and peek()[1] in "+-":
            op = take()[1]
            inner = unary()
            return ("neg", inner) if op == "-" else inner
        return primary()

    def primary():
        t = peek()
        if t[0] == "int":
            take()
            return ("int", _check(t[1], text))
        if t[0] == "name":
            take()
            if peek()[0] == "op" and peek()[1] == "(":
                if t[1] not in _FUNCS:
                    raise ExprError(f"'{text}': unknown function '{t[1]}' at position {t[2]}")
                take("op", "(")
                args = []
                if not (peek()[0] == "op" and peek()[1] == ")"):
                    args.append(expr())
                    while peek()[0] == "op" and peek()[1] == ",":
                        take()
                        args.append(expr())
                take("op", ")")
                lo, hi = _FUNCS[t[1]]
                if len(args) < lo or (hi is not None and len(args) > hi):
                    raise ExprError(f"'{text}': {t[1]} takes {lo}{'' if hi == lo else '+'} "
                                    f"arguments, got {len(args)}")
                return ("call", t[1], args)
            if t[1] in _FUNCS:
                raise ExprError(f"'{text}': function name '{t[1]}' used as a symbol")
            return ("sym", t[1], t[2])
        if t[0] == "op" and t[1] == "(":
            take()
            node = expr()
            take("op", ")")
            return node
        raise ExprError(f"'{text}': expected a number, symbol or '(' at position {t[2]}")

    tree = expr()
    if peek()[0] != "end":
        raise ExprError(f"'{text}': unexpected '{peek()[1]}' at position {peek()[2]}")
    return tree


def _eval(node, syms, text):
    kind = node[0]
    if kind == "int":
        return node[1]
    if kind == "sym":
        if node[1] not in syms:
            raise ExprError(f"'{text}': unknown symbol '{node[1]}' at position {node[2]}")
        return syms[node[1]]
    if kind == "neg":
        return _check(-_eval(node[1], syms, text), text)
    if kind in "+-*/%":
        a = _eval(node[1], syms, text)
        b = _eval(node[2], syms, text)
        if kind == "+":
            return _check(a + b, text)
        if kind == "-":
            return _check(a - b, text)
        if kind == "*":
            return _check(a * b, text)
        q = _cdiv_trunc(a, b, text)
        return _check(q if kind == "/" else a - b * q, text)
    name, args = node[1], node[2]
    if name == "if":
        c = _eval(args[0], syms, text)
        return _eval(args[1] if c != 0 else args[2], syms, text)
    vals = [_eval(a, syms, text) for a in args]
    if name == "cdiv":
        a, b = vals
        if b <= 0:
            raise ExprError(f"'{text}': cdiv by {b}")
        return _check(-((-a) // b), text)
    if name == "min":
        return min(vals)
    if name == "max":
        return max(vals)
    if name == "pow2ceil":
        return _check(_pow2ceil(vals[0]), text)
    a, b = vals
    return int({"eq": a == b, "ne": a != b, "lt": a < b, "le": a <= b,
                "gt": a > b, "ge": a >= b}[name])


def evaluate(text, syms):
    """The value of expression `text` (a string or an int) for `syms`."""
    if isinstance(text, bool):
        raise ExprError(f"{text!r}: not an expression")
    if isinstance(text, int):
        return text
    return _eval(parse(text), syms, text)


# ---- manifests ---------------------------------------------------------

def device_symbols(cuda_cc, warp_size=32, is_gpu=1, is_hip=0):
    return {"cuda_cc": cuda_cc, "warp_size": warp_size, "is_gpu": is_gpu, "is_hip": is_hip}


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def manifest_entries(path):
    """(name, entry) of every entry of a manifest: its tiers or workloads."""
    doc = load_json(path)
    out = []
    for key in ("tiers", "workloads"):
        for name, entry in (doc.get(key) or {}).items():
            out.append((name, entry))
    return out


def shape_symbols(shape):
    return {k: v for k, v in shape.items() if k != "name"}


def entry_symbols(entry, shape_syms, device):
    """The shape's symbols, the device symbols and the entry's defines, in order."""
    syms = dict(shape_syms)
    syms.update(device)
    for name, text in (entry.get("defines") or {}).items():
        syms[name] = evaluate(text, syms)
    return syms


class TritonDType(str):
    """A constexpr written "dtype:bf16": the Triton dtype of that name
    (kgtriton.triton_value makes it tl.bfloat16)."""


def eval_constexprs(launch, syms, params=None):
    """A constexpr naming a workload parameter is that parameter, a float;
    "dtype:T" is TritonDType(T)."""
    params = params or {}

    def value(v):
        if v is None:
            return None
        if isinstance(v, str) and v.startswith("dtype:"):
            return TritonDType(v[6:])
        return float(params[v]) if v in params else evaluate(v, syms)
    return {k: value(v) for k, v in (launch.get("constexprs") or {}).items()}


def eval_arg(arg, syms, tensors, params):
    """What an argument passes: ('tensor', name), ('param', name), ('i32'|'i64', v),
    ('f32', float)."""
    if arg in tensors:
        return ("tensor", arg)
    if arg in params:
        return ("param", arg)
    if isinstance(arg, str) and arg.startswith("i64:"):
        return ("i64", evaluate(arg[4:], syms))
    if isinstance(arg, str) and arg.startswith("f32:"):
        body = arg[4:].strip()
        m = re.fullmatch(r"rsqrt\((.*)\)", body)
        if m:
            return ("f32", 1.0 / evaluate(m.group(1), syms) ** 0.5)
        return ("f32", float(evaluate(body, syms)))
    return ("i32", evaluate(arg, syms))


def workload_shapes(workload):
    """(size class, shape dict) of every shape, smoke first; the symbols a
    shape leaves out take the workload's symbol_defaults."""
    out = []
    defaults = workload.get("symbol_defaults") or {}
    for cls in ("smoke", "small", "full", "claim"):
        for shape in workload["shapes"].get(cls, []):
            out.append((cls, dict(defaults, **shape)))
    return out


def shape_params(workload, shape):
    """The workload's parameters as `shape` sets them."""
    params = dict(workload.get("params") or {})
    params.update({k: v for k, v in shape.items() if k in params})
    return params


def reference_define(workload, name):
    """An integer #define of a workload's reference.c (one source for a
    constant its fill and a manifest share)."""
    path = os.path.join(repo_root(), "baselines", workload, "reference.c")
    with open(path, encoding="utf-8") as f:
        m = re.search(rf"^#define {name}\s+(\d+)\s*$", f.read(), re.M)
    if not m:
        raise ExprError(f"{path}: no '#define {name} <integer>'")
    return int(m.group(1))


def derive_symbols(workload, shape):
    """The derived symbols of a shape, for workloads that have them.
    extend_attention's are drawn by its reference.c (kg_rng); here only
    what the Triton launches read is needed: max_extend (a grid size, not a
    compile input) gets its upper bound N_CTX/2 - 1, and the sums a stand-in
    that keeps every expression defined. decode_attention's max_kv_splits
    is a compile input (a constexpr): the constant its reference.c sets;
    its lengths are at most ctx. prefill_attention's requests are at most
    N_CTX long."""
    syms = shape_symbols(shape)
    if workload.get("name") == "decode_attention":
        syms.setdefault("max_len", syms["ctx"])
        syms.setdefault("sum_len", syms["ctx"] * syms["B"])
        syms.setdefault("kv_slots", syms["sum_len"] + 1)
        syms.setdefault("max_kv_splits", reference_define("decode_attention",
                                                          "SGLANG_MAX_KV_SPLITS"))
    if workload.get("name") == "prefill_attention":
        syms.setdefault("max_len", syms["N_CTX"])
        syms.setdefault("tokens", syms["N_CTX"] * syms["B"])
    for name in workload.get("derived_symbols", []):
        if name not in syms:
            syms[name] = max(1, syms.get("N_CTX", 2) // 2 - 1) * syms.get("B", 1)
    if "max_extend" in syms and "N_CTX" in syms:
        syms["max_extend"] = max(1, syms["N_CTX"] // 2 - 1)
    if "mask_kind" in syms:
        syms["use_custom_mask"] = int(syms["mask_kind"] != 0)
    return syms


def repo_root():
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
