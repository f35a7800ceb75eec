"""Cold compiles of SGLang's extend-attention _fwd_kernel, from the files of
sglang 0.5.12 and 0.5.23 extracted by the Python setup, for sm_80 and sm_90
with the constexprs of every full shape of the extend_attention workload
(block sizes and warps from each file's own
_get_block_sizes_for_extend_attention), and one gfx942 compile. Prints
each cold compile time; skipped (77) when the files are not there."""

import json
import os

import kgtest


def main():
    args = kgtest.parse_args()
    kgtest.require_triton()
    cache = kgtest.fresh_dir(args.cache)
    requests = kgtest.upstream_requests(args.upstream, cache)
    if requests is None:
        kgtest.sys.exit(kgtest.SKIP)
    fail = kgtest.Failures()
    times = {}
    for label, req in requests:
        code, reply, seconds, stderr = kgtest.run_helper(args.helper, req)
        times[label] = round(seconds, 2)
        shared = reply.get("shared") if reply else None
        print(f"cold {seconds:6.2f} s  {label}  warps={req['num_warps']} "
              f"BLOCK_M={req['constexprs']['BLOCK_M']} BLOCK_N={req['constexprs']['BLOCK_N']} "
              f"shared={shared}")
        if fail.check(code == 0, f"{label}: exit {code}: {reply} {stderr[-2000:]}"):
            kgtest.check_reply(fail, label, req, reply)
            fail.check(reply["cached"] is False, f"{label}: cached on a fresh cache")
            check_divisibility(fail, label, req, reply)
    with open(os.path.join(cache, "cold-times.json"), "w") as f:
        json.dump(times, f, indent=1)
    print(f"total cold: {sum(times.values()):.1f} s for {len(times)} compiles")
    fail.exit()


def check_divisibility(fail, label, req, reply):
    """Every pointer, and exactly the ints divisible by 16, marked so."""
    div = kgtest.divisibility(reply)
    for p in reply["params"]:
        name, ty = p["name"], p["type"]
        if ty.startswith("*"):
            want = True
        elif ty == "i32":
            want = req["values"][name] % 16 == 0
        else:
            want = False
        fail.check(div.get(name) == want, f"{label}: {name} divisibility {div.get(name)}, expected {want}")


if __name__ == "__main__":
    main()
