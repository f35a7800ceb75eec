"""The requests of compile_small.py and compile_upstream.py again, on the
caches they filled: each served from the cache (cached: true) in under a
second of wall time, Python's start-up included."""

import kgtest

LIMIT_S = 1.0


def main():
    args = kgtest.parse_args()
    kgtest.require_triton()
    requests = kgtest.small_requests(args.cache + "/small")
    upstream = kgtest.upstream_requests(args.upstream, args.cache + "/upstream")
    requests += upstream or []
    fail = kgtest.Failures()
    worst = 0.0
    for label, req in requests:
        code, reply, seconds, stderr = kgtest.run_helper(args.helper, req)
        worst = max(worst, seconds)
        inside = reply.get("compile_seconds") if reply else None
        print(f"warm {seconds:6.3f} s (helper {inside} s)  {label}")
        if fail.check(code == 0, f"{label}: exit {code}: {reply} {stderr[-2000:]}"):
            kgtest.check_reply(fail, label, req, reply)
            fail.check(reply["cached"] is True, f"{label}: not served from the cache")
            fail.check(seconds < LIMIT_S, f"{label}: {seconds:.3f} s, limit {LIMIT_S} s")
    print(f"slowest warm request: {worst:.3f} s of {len(requests)}")
    fail.exit()


if __name__ == "__main__":
    main()
