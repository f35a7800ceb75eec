"""Each bad input gives its error: exit 1 with "error" (and "traceback"
for Triton's compile errors) or exit 2 for a malformed request, the reply
still one JSON object, nothing written to stdout besides it."""

import json

import kgtest


def compile_errors(cache):
    """(label, request, words the error must contain, traceback wanted)."""
    base = kgtest.small_request(cache, kgtest.CUDA[90])
    src = kgtest.SMALL_SOURCE

    def req(**changes):
        return dict(base, **changes)

    reordered = {"x": "*bf16", "n": "i32", "y": "*bf16", "one": "i32", "s": "fp32"}
    missing = {"x": "*bf16", "y": "*bf16", "n": "i32", "s": "fp32"}
    return [
        ("missing entry", req(entry="softmax"),
         ["softmax", "found", "_scaled, copy_kernel, copy_dns"], False),
        ("entry not jit", req(entry="host_side"), ["host_side", "copy_kernel"], False),
        ("signature order", req(signature=reordered),
         ["order", "[x, y, n, one, s, BLOCK: constexpr]", "[x, n, y, one, s]", "[BLOCK]"], False),
        ("signature missing a parameter", req(signature=missing, values={"n": 4096}),
         ["one is missing", "[x, y, n, one, s, BLOCK: constexpr]", "[x, y, n, s]"], False),
        ("constexpr in signature", req(signature=dict(base["signature"], BLOCK="i32"),
                                       constexprs={}, values=dict(base["values"], BLOCK=1024)),
         ["BLOCK is tl.constexpr"], False),
        ("unknown constexpr", req(constexprs={"BLOCK": 1024, "BLOCKK": 2}),
         ["BLOCKK is not a parameter"], False),
        ("syntax error", req(source=src.replace("pid = tl.program_id(0)", "pid = = 0")),
         ["small.py:23:", "syntax error"], False),
        ("non-power-of-two arange", req(constexprs={"BLOCK": 1000}),
         ["small.py:24:23:", "arange's range must be a power of 2"], True),
        ("dropped name", req(source=src.replace("SCALE = tl.constexpr(2)",
                                                "SCALE = tl.constexpr(int('2'))")),
         ["SCALE", "line 7 of small.py", "dropped"], True),
        # A @jit function annotated with torch types (SGLang's fp8_kernel.py
        # has one) is dropped with its file's torch import; the others stay.
        ("entry annotated with a dropped name",
         req(source="import torch\n" + src + "\n\n@triton.jit\n"
             "def annotated(x: torch.Tensor, BLOCK: tl.constexpr):\n    pass\n",
             entry="annotated"),
         ["annotated", "dropped", "reads torch", "kept: _scaled, copy_kernel"], False),
        ("num_warps not a power of two", req(num_warps=3),
         ["num_warps must be a power of 2"], True),
        ("type error in the kernel", req(source=src.replace("tl.arange(0, BLOCK)",
                                                            "tl.arange(0, BLOCK, BLOCK, BLOCK)")),
         ["small.py:24:", "arange"], True),
    ]


def malformed(cache):
    """(label, raw stdin text, words the error must contain)."""
    base = kgtest.small_request(cache, kgtest.CUDA[90])

    def without(key):
        return json.dumps({k: v for k, v in base.items() if k != key})

    def with_(**changes):
        return json.dumps(dict(base, **changes))

    return [
        ("not JSON", "{", ["not JSON"]),
        ("not an object", "[1]", ["not a JSON object"]),
        ("missing source", without("source"), ["\"source\" is missing"]),
        ("unknown key", with_(block=[1, 1, 1]), ["unknown key \"block\""]),
        ("signature not an object", with_(signature=["x"]), ["\"signature\" must be"]),
        ("bad type", with_(signature=dict(base["signature"], x="*bfloat16")), ["*bfloat16"]),
        ("bad target", with_(target={"backend": "metal", "arch": 1, "warp_size": 32}), ["metal"]),
        ("relative cache_dir", with_(cache_dir="cache"), ["absolute"]),
        ("missing value", with_(values={"one": 1}), ["values lacks", "n"]),
        ("value too large", with_(values={"n": 2**31, "one": 1}), ["does not fit i32"]),
        ("num_warps not an integer", with_(num_warps="4"), ["num_warps"]),
        ("unknown dtype constexpr", with_(constexprs={"BLOCK": {"dtype": "bfloat16"}}),
         ["BLOCK", "a dtype is", "bf16"]),
        ("AMD option on cuda", with_(options={"kpack": 2}), ["kpack", "cuda"]),
        ("unknown hip option",
         json.dumps(dict(base, target=kgtest.HIP["gfx942"], options={"waves": 1})),
         ["waves", "waves_per_eu"]),
    ]


def main():
    args = kgtest.parse_args()
    kgtest.require_triton()
    fail = kgtest.Failures()
    cache = kgtest.fresh_dir(args.cache)
    for label, req, words, traceback in compile_errors(cache):
        check(fail, label, args.helper, req, None, 1, words, traceback)
    for label, raw, words in malformed(cache):
        check(fail, label, args.helper, None, raw, 2, words, False)
    check(fail, "no command", args.helper, {}, "", 2, ["usage"], False, argv=[])
    fail.exit()


def check(fail, label, helper, req, raw, want_code, words, traceback, argv=("compile",)):
    if list(argv) != ["compile"]:
        r = kgtest.subprocess.run([kgtest.sys.executable, helper, *argv], input="",
                                  capture_output=True, text=True)
        code, reply = r.returncode, json.loads(r.stdout)
    else:
        code, reply, _, _ = kgtest.run_helper(helper, req, raw)
    error = (reply or {}).get("error", "")
    print(f"{label}: exit {code}: {error[:300]!r}")
    fail.check(code == want_code, f"{label}: exit {code}, expected {want_code}")
    fail.check(reply is not None and reply.get("ok") is False, f"{label}: reply {reply}")
    for w in words:
        fail.check(w in error, f"{label}: {w!r} not in the error")
    if traceback:
        fail.check("File " in (reply or {}).get("traceback", ""), f"{label}: no traceback")


if __name__ == "__main__":
    main()
