"""A submitted Triton source runs none of its own Python while kgrade
compiles it (hardware/triton/kgrade_sandbox.py, docs/integrity.md).

Each hostile source below tries, by another route, to create a marker file
outside the compile's folder: from module-level code the filter keeps, from
a signature or decorator evaluated when the module loads, and from a @jit
body reaching Python through names, attributes, getattr() and calls at
compile time. Every one must leave no marker; those that reach past the
language must fail with the front end's refusal, the others compile. Then
Landlock itself: a process confined by confine_writes() cannot write
outside its folder, open TCP sockets or signal its parent, and can write
inside."""

import json
import os
import socket
import sys

import kgtest

HEADER = '''\
import triton
import triton.language as tl
'''

BODY_OK = '''\
    o = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(y + o, tl.load(x + o, mask=o < n), mask=o < n)
'''


def kernel(body_first="", signature="x, y, n, BLOCK: tl.constexpr", decorator="@triton.jit"):
    return f"{decorator}\ndef k({signature}):\n{body_first}{BODY_OK}"


def cases(touch):
    """(label, source, expected exit, words the error must contain).
    `touch` is a Python expression that creates the marker."""
    py = f"__import__('os').system({touch!r})"
    evil = f"@triton.jit\ndef evil():\n    import os\n    os.system({touch!r})\n\n\n"
    return [
        ("annotation runs at load", kernel(signature=f"x, y, n: {py}, BLOCK: tl.constexpr"), 1,
         ["dropped", "signature computes"]),
        ("default runs at load", kernel(signature=f"x, y, n, BLOCK: tl.constexpr = {py}"), 1,
         ["dropped", "signature computes"]),
        ("jit decorator argument", kernel(decorator=f"@triton.jit({py})"), 0, []),
        ("jit decorator keyword", kernel(decorator=f"@triton.jit(do_not_specialize={py})"), 0,
         []),
        ("decorator named like jit", kernel(decorator=f"@tl.core.builtins.exec({touch!r}).jit"),
         1, ["dropped", "not decorated with @triton.jit"]),
        ("annotated constant", f"X: {py} = 3\n\n\n" + kernel(), 0, []),
        ("constant through a call", f"X = tl.constexpr({py})\n\n\n" + kernel(), 0, []),
        ("module reached by attribute",
         kernel(body_first=f"    tl.core.builtins.exec({touch!r})\n"), 1,
         ["refused", "module builtins"]),
        ("module imported from inside triton",
         "from triton.knobs import os as host_os\n\n\n"
         + kernel(body_first="    sep = host_os.sep\n"), 1,
         ["refused", "the name host_os", "module os"]),
        ("__builtins__", kernel(body_first=f"    __builtins__['exec']({touch!r})\n"), 1,
         ["__builtins__"]),
        # Triton's own dependency scan refuses this one (and host_os.system)
        # before the front end sees it.
        ("raw function of a jit function", evil + kernel(body_first="    evil.fn()\n"), 1,
         ["evil"]),
        ("getattr", kernel(body_first=f"    getattr(tl.core, 'builtins').exec({touch!r})\n"), 1,
         ["refused", "getattr(..., 'builtins')"]),
        ("getattr of a jit function's function",
         evil + kernel(body_first="    getattr(evil, 'fn')()\n"), 1,
         ["refused", "getattr(..., 'fn')"]),
        ("special attributes", kernel(body_first="    c = n.__class__\n"), 1,
         ["refused", "__class__"]),
        ("triton's own modules", kernel(body_first="    d = triton.runtime.driver\n"), 1,
         ["refused", "module triton.runtime"]),
        ("with a raw function",
         evil + kernel(body_first="    with getattr(evil, 'fn')():\n        pass\n"), 1,
         ["refused"]),
    ]


def check_sources(fail, helper, cache, marker):
    touch = f"touch {marker}"
    for label, body, want_code, words in cases(touch):
        req = kgtest.small_request(cache, kgtest.CUDA[90], entry="copy_dns")
        req.update(source=HEADER + "\n\n" + body, source_name="hostile.py", entry="k")
        code, reply, _, stderr = kgtest.run_helper(helper, req)
        error = (reply or {}).get("error", "")
        print(f"{label}: exit {code}: {error[:240]!r}")
        fail.check(not os.path.exists(marker), f"{label}: the source ran code ({marker} exists)")
        if os.path.exists(marker):
            os.unlink(marker)
        fail.check(code == want_code, f"{label}: exit {code}, expected {want_code}; "
                                      f"{error[:400]} {stderr[-400:]}")
        for w in words:
            fail.check(w in error, f"{label}: {w!r} not in the error")
        # A refusal by kgrade's rules (not Triton's own errors) is marked so
        # that kgrade flags it source_refused.
        refusal = "refused" in words or "signature computes" in words
        fail.check((reply or {}).get("refused", False) is refusal,
                   f"{label}: reply's refused is {(reply or {}).get('refused')}, want {refusal}")
        if code == 0:
            fail.check("landlock" in reply.get("sandbox", "") or
                       reply.get("sandbox", "").startswith("none: "),
                       f"{label}: reply records no sandbox: {reply.get('sandbox')!r}")


def check_changed_entry(fail, helper, cache):
    """A cached binary changed after it was stored is not served: the helper
    compiles again and replaces the entry, and the reply's hash is the
    file's."""
    import hashlib
    req = kgtest.small_request(cache, kgtest.CUDA[90], entry="copy_dns")
    code, first, _, _ = kgtest.run_helper(helper, req)
    if not fail.check(code == 0, f"changed entry: first compile failed: {first}"):
        return
    with open(first["binary"], "r+b") as f:
        f.seek(64)
        byte = f.read(1)
        f.seek(64)
        f.write(bytes([byte[0] ^ 0xFF]))
    code, again, _, _ = kgtest.run_helper(helper, req)
    with open(again["binary"], "rb") as f:
        on_disk = hashlib.sha256(f.read()).hexdigest()
    print(f"changed entry: exit {code}, cached {again.get('cached')}, "
          f"hash {again.get('binary_sha256', '')[:12]}, file {on_disk[:12]}")
    fail.check(code == 0 and again["cached"] is False, f"changed entry served: {again}")
    fail.check(on_disk == again["binary_sha256"] == first["binary_sha256"],
               "the changed entry was not replaced by the compiled binary")


def confined_probe(inside, outside):
    """In a child confined to `inside`: what it could do, as a dict."""
    import kgrade_sandbox
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        seen = {"sandbox": kgrade_sandbox.confine_writes(inside)}
        for label, path in (("write inside", inside), ("write outside", outside)):
            try:
                with open(os.path.join(path, "probe"), "w") as f:
                    f.write("x")
                seen[label] = "allowed"
            except OSError as e:
                seen[label] = f"denied: {e.strerror}"
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
            seen["tcp bind"] = "allowed"
        except OSError as e:
            seen["tcp bind"] = f"denied: {e.strerror}"
        try:
            os.kill(os.getppid(), 0)
            seen["signal parent"] = "allowed"
        except OSError as e:
            seen["signal parent"] = f"denied: {e.strerror}"
        os.write(write_end, json.dumps(seen).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as f:
        text = f.read()
    os.waitpid(pid, 0)
    return json.loads(text)


def check_landlock(fail, helper, cache):
    sys.path.insert(0, os.path.dirname(helper))
    import kgrade_sandbox
    abi, why = kgrade_sandbox.landlock_abi()
    inside, outside = kgtest.fresh_dir(os.path.join(cache, "in")), kgtest.fresh_dir(
        os.path.join(cache, "out"))
    seen = confined_probe(inside, outside)
    print(f"landlock ABI {abi}: {json.dumps(seen)}")
    if abi <= 0:
        fail.check(seen["sandbox"].startswith("none: "), f"no Landlock ({why}) but {seen}")
        print("this kernel has no Landlock: only the front-end policy was tested")
        return
    fail.check(seen["write inside"] == "allowed", f"confined child could not write inside: {seen}")
    fail.check(seen["write outside"].startswith("denied"), f"confined child wrote outside: {seen}")
    fail.check(not os.path.exists(os.path.join(outside, "probe")), "the probe file exists")
    if abi >= 4:
        fail.check(seen["tcp bind"].startswith("denied"), f"confined child bound TCP: {seen}")
    if abi >= 6:
        fail.check(seen["signal parent"].startswith("denied"),
                   f"confined child could signal its parent: {seen}")


def main():
    args = kgtest.parse_args()
    kgtest.require_triton()
    fail = kgtest.Failures()
    cache = kgtest.fresh_dir(args.cache)
    marker = os.path.join(kgtest.fresh_dir(os.path.join(args.cache + "-marker")), "ran")
    check_sources(fail, args.helper, cache, marker)
    check_changed_entry(fail, args.helper, cache)
    check_landlock(fail, args.helper, cache)
    fail.exit()


if __name__ == "__main__":
    sys.exit(main())
