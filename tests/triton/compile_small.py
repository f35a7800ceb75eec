"""Cold compiles of a small kernel (tests/triton/kgtest.py SMALL_SOURCE) for
sm_80, sm_90, gfx942 and gfx90a: the reply, what the helper kept of the
source, and Triton's specialisation (pointers and ints divisible by 16
marked so, an int equal to 1 compiled away, do_not_specialize obeyed)."""

import os

import kgtest


def main():
    args = kgtest.parse_args()
    kgtest.require_triton()
    cache = kgtest.fresh_dir(args.cache)
    fail = kgtest.Failures()
    replies = {}
    for label, req in kgtest.small_requests(cache):
        code, reply, seconds, stderr = kgtest.run_helper(args.helper, req)
        print(f"cold {seconds:6.2f} s  {label}")
        if not fail.check(code == 0, f"{label}: exit {code}: {reply} {stderr[-2000:]}"):
            continue
        kgtest.check_reply(fail, label, req, reply)
        fail.check(reply["cached"] is False, f"{label}: cached on a fresh cache")
        replies[label] = reply
    check_specialisation(fail, replies)
    check_kept_source(fail, cache)
    check_no_torch(fail, args.helper, cache)
    fail.exit()


def check_no_torch(fail, helper, cache):
    """A cold compile (CUDA and HIP) with a `torch` on the path that fails
    when imported: the helper never imports torch (it may be absent, or
    slow, or want a GPU)."""
    poison = kgtest.fresh_dir(os.path.join(cache, "poisoned-path"))
    os.makedirs(os.path.join(poison, "torch"))
    with open(os.path.join(poison, "torch", "__init__.py"), "w") as f:
        f.write("raise SystemExit('the helper imported torch')\n")
    env = dict(os.environ, PYTHONPATH=poison)
    for target in (kgtest.CUDA[80], kgtest.HIP["gfx942"]):
        req = kgtest.small_request(os.path.join(cache, "no-torch"), target, "copy_dns")
        code, reply, _, stderr = kgtest.run_helper(helper, req, env=env)
        fail.check(code == 0 and reply["cached"] is False,
                   f"no torch {target['arch']}: exit {code}: {reply} {stderr[-1000:]}")


def check_specialisation(fail, replies):
    for label in ("small copy_kernel sm_90", "small copy_kernel sm_90 n=4095", "small copy_dns sm_90"):
        fail.check(label in replies, f"{label}: no reply to check")
    r = replies.get("small copy_kernel sm_90")
    if r:
        params = [p["name"] for p in r["params"]]
        fail.check(params == ["x", "y", "n", "s"], f"copy_kernel params {params}: `one` (== 1) stays")
        div = kgtest.divisibility(r)
        fail.check(div == {"x": True, "y": True, "n": True, "s": False},
                   f"copy_kernel n=4096 divisibility {div}")
        fail.check(r["ptx_params"] == ["u64", "u64", "u32", "f32", "u64", "u64"],
                   f"copy_kernel ptx_params {r['ptx_params']}")
    r = replies.get("small copy_kernel sm_90 n=4095")
    if r:
        div = kgtest.divisibility(r)
        fail.check(div.get("n") is False, f"copy_kernel n=4095 divisibility {div}")
    r = replies.get("small copy_dns sm_90")
    if r:
        div = kgtest.divisibility(r)
        fail.check(div == {"x": True, "y": True, "n": False},
                   f"copy_dns (do_not_specialize n) divisibility {div}")
    fp16, bf16 = (replies.get("small cast_kernel sm_90 fp16"),
                  replies.get("small cast_kernel sm_90 bf16"))
    fail.check(fp16 and bf16 and fp16["cache_key"] != bf16["cache_key"] and
               fp16["binary_sha256"] != bf16["binary_sha256"],
               "a dtype constexpr (fp16, bf16) does not give two kernels")
    plain, tuned = (replies.get("small copy_kernel gfx942"),
                    replies.get("small copy_kernel gfx942 sglang options"))
    if plain and tuned:
        fail.check(plain["cache_key"] != tuned["cache_key"],
                   "the AMD options do not change the cache key")
    for arch in ("gfx942", "gfx90a"):
        r = replies.get(f"small copy_kernel {arch}")
        if r:
            fail.check(r["binary"].endswith(".hsaco") and r["ptx_params"] == [],
                       f"{arch}: binary {r['binary']}, ptx_params {r['ptx_params']}")


def check_kept_source(fail, cache):
    """The module the helper wrote: the same line numbers, without torch,
    the host function, autotune, or the jit decorator's non-literal
    argument."""
    folder = os.path.join(cache, "src")
    files = os.listdir(folder) if os.path.isdir(folder) else []
    if not fail.check(len(files) == 1, f"{folder} holds {files}, expected one module"):
        return
    with open(os.path.join(folder, files[0])) as f:
        kept = f.read().splitlines()
    original = kgtest.SMALL_SOURCE.splitlines()
    fail.check(len(kept) == len(original), "kept module has other line numbers")
    rewritten = {'@triton.jit(launch_metadata=host_side, do_not_specialize=["n"])':
                 "@triton.jit(do_not_specialize=['n'])"}
    dropped = ("torch", "host_side(n)", "triton.cdiv", "autotune", '"""')
    for i, line in enumerate(original):
        want = rewritten.get(line, "" if any(d in line for d in dropped) else line)
        fail.check(i < len(kept) and kept[i] == want,
                   f"kept line {i + 1}: {kept[i] if i < len(kept) else None!r}, expected {want!r}")


if __name__ == "__main__":
    main()
