#!/usr/bin/env python3
"""Three classes of cheat, made for every workload from its own naive tier,
graded at smoke size; each must be caught on every workload.

    adversarial_matrix.py KGRADE SOURCE_DIR WORK_DIR [WORKLOAD ...]

The hand-written examples of kernels/examples/adversarial/ attack softmax
(and a few others); these are generated, so a workload added later is
attacked the day it lands:

  all-zeros   one launch per output, writing zero bytes over all of it
              (nothing computed): caught as wrong_output.
  half-work   the naive tier with every odd work-item (global id 0) leaving
              at once: work skipped where a sampled check might not look.
              Caught as unwritten_output or wrong_output on some shape, or
              as a crash where a later launch indexes with values the
              skipped work-items never wrote (moe_align_block_size's
              offsets, left as the scratch's poison);
              a shape where it changes nothing (one work-item does it all)
              may pass, since the answer is then complete.
  scribble    the naive tier, then one more launch flipping a bit of the
              first drawn input: the right answer, inputs used as scratch.
              Caught as input_modified on every shape.

Each class is one submission covering every workload (a kernels.json with
one entry per workload), graded by one `kgrade run` on each workload's
first and last smoke shapes. Exit 0 when every
workload's expectation holds; otherwise each failure is printed.
"""
import json
import os
import re
import shutil
import subprocess
import sys

CHEAT_KERNELS = """
KG_KERNEL void kg_cheat_zero(KG_GLOBAL unsigned char *out, kg_i64 bytes)
{
    kg_i64 i = (kg_i64)kg_group_id(0) * kg_local_size(0) + kg_local_id(0);
    if (i < bytes)
        out[i] = 0;
}

KG_KERNEL void kg_cheat_scribble(KG_GLOBAL unsigned char *input)
{
    if (kg_global_id(0) == 0)
        input[0] = (unsigned char)(input[0] ^ 0x40);
}
"""

DTYPE_BYTES = {"f32": 4, "f16": 2, "bf16": 2, "i32": 4, "i64": 8, "u8": 1,
               "f8e4m3": 1, "f8e5m2": 1, "i8": 1}


def load(path):
    with open(path) as f:
        return json.load(f)


def naive_tier(source_dir, workload):
    """The workload's naive tier, if it is a portable one."""
    manifest = load(os.path.join(source_dir, "baselines", workload, "kernels.json"))
    tier = manifest.get("tiers", {}).get("naive")
    if not tier or tier.get("language") != "portable":
        return None
    return tier


def copy_folder_headers(src_dir, dst_dir):
    """Files a naive source may include from its own folder."""
    for name in os.listdir(src_dir):
        if name.endswith((".h", ".kch", ".inc")):
            shutil.copy(os.path.join(src_dir, name), dst_dir)


def tensor_bytes(tensor):
    dims = "*".join("(%s)" % d for d in tensor["shape"])
    return "%s*%d" % (dims, DTYPE_BYTES[tensor["dtype"]])


def all_zeros_entry(workload_json, out_dir):
    with open(os.path.join(out_dir, "cheat.kc"), "w") as f:
        f.write(CHEAT_KERNELS)
    launches = []
    for t in workload_json["tensors"]:
        if t["role"] in ("output", "inout"):
            size = tensor_bytes(t)
            launches.append({"entry": "kg_cheat_zero", "grid": ["cdiv(%s, 256)" % size],
                             "block": ["256"], "args": [t["name"], "i64:" + size]})
    return {"description": "zero bytes over every output", "source": "cheat.kc",
            "language": "portable", "launches": launches}


def with_naive_source(source_dir, workload, tier, out_dir, transform):
    src_dir = os.path.join(source_dir, "baselines", workload)
    copy_folder_headers(src_dir, out_dir)
    with open(os.path.join(src_dir, tier["source"])) as f:
        text = f.read()
    with open(os.path.join(out_dir, "naive_cheat.kc"), "w") as f:
        f.write(transform(text) + CHEAT_KERNELS)
    entry = {k: v for k, v in tier.items() if k not in ("source", "description")}
    entry["source"] = "naive_cheat.kc"
    return entry


def skip_odd_items(text, entries):
    """Inserts an early return for odd work-items at the top of each entry."""
    for name in entries:
        pattern = re.compile(r"(KG_KERNEL\s+void\s+%s\s*\([^{]*\{)" % re.escape(name))
        text, n = pattern.subn(r"\1\n    if (kg_global_id(0) % 2 == 1)\n        return;", text)
        if n != 1:
            raise SystemExit("cannot find kernel %s to rewrite" % name)
    return text


def half_work_entry(source_dir, workload, tier, out_dir):
    entries = sorted({l["entry"] for l in tier["launches"]})
    entry = with_naive_source(source_dir, workload, tier, out_dir,
                              lambda text: skip_odd_items(text, entries))
    entry["description"] = "the naive tier, odd work-items idle"
    return entry


def scribble_entry(source_dir, workload, workload_json, tier, out_dir):
    # A drawn input first; a workload whose only inputs are index tensors
    # (moe_align_block_size) has its first index tensor flipped instead.
    inputs = [t for t in workload_json["tensors"] if t["role"] == "input"]
    drawn = [t["name"] for t in inputs if t.get("init", {}).get("dist") != "workload"]
    drawn = drawn or [t["name"] for t in inputs]
    if not drawn:
        return None
    entry = with_naive_source(source_dir, workload, tier, out_dir, lambda text: text)
    entry["launches"] = list(entry["launches"]) + [
        {"entry": "kg_cheat_scribble", "grid": ["1"], "block": ["1"], "args": [drawn[0]]}]
    entry["description"] = "the naive tier, then one bit of %s flipped" % drawn[0]
    return entry


def build_submission(kind, source_dir, work_dir, workloads):
    root = os.path.join(work_dir, kind)
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    entries = {}
    for w in workloads:
        tier = naive_tier(source_dir, w)
        workload_json = load(os.path.join(source_dir, "baselines", w, "workload.json"))
        if tier is None:
            continue
        out_dir = os.path.join(root, w)
        os.makedirs(out_dir)
        if kind == "all-zeros":
            entry = all_zeros_entry(workload_json, out_dir)
        elif kind == "half-work":
            entry = half_work_entry(source_dir, w, tier, out_dir)
        else:
            entry = scribble_entry(source_dir, w, workload_json, tier, out_dir)
        if entry is None:
            continue
        entry["source"] = "%s/%s" % (w, entry["source"])
        entries[w] = entry
    with open(os.path.join(root, "kernels.json"), "w") as f:
        json.dump({"kgrade_kernels": 1, "description": "generated cheat: " + kind,
                   "workloads": entries}, f, indent=1)
    return root, sorted(entries)


def shape_records(results):
    with open(results) as f:
        for line in f:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("type") == "shape":
                yield record


def judge(kind, records, workloads):
    """Failures, as lines: what each workload's shapes should have shown."""
    by_workload = {}
    for r in records:
        c = r.get("candidate", {})
        by_workload.setdefault(r["workload"], []).append(
            (r["shape"], c.get("status"), c.get("flags") or []))
    failures = []
    for w in workloads:
        shapes = by_workload.get(w, [])
        if not shapes:
            failures.append("%s %s: no shape graded" % (kind, w))
            continue
        for shape, status, flags in shapes:
            print("  %-10s %-22s %-24s %-18s %s" % (kind, w, shape[:24], status, ",".join(flags)))
        caught = {"all-zeros": lambda s, f: s == "check_failed" and "wrong_output" in f,
                  "half-work": lambda s, f: (s == "check_failed" and
                                             ("unwritten_output" in f or "wrong_output" in f))
                  or s == "crashed",
                  "scribble": lambda s, f: s == "integrity_failed" and "input_modified" in f}[kind]
        hits = [caught(s, f) for _, s, f in shapes]
        if kind == "half-work":
            # Caught somewhere; where it passed, it must have raised nothing.
            silent = [sh for (sh, s, f), hit in zip(shapes, hits) if not hit and s != "ok"]
            if not any(hits) or silent:
                failures.append("%s %s: caught on %d of %d shapes; other outcomes %s"
                                % (kind, w, sum(hits), len(shapes), silent))
        elif not all(hits):
            failures.append("%s %s: caught on %d of %d shapes"
                            % (kind, w, sum(hits), len(shapes)))
    return failures


def first_and_last_shapes(cmd):
    """The evaluation ids (`kgrade run --list`) of each workload's first and
    last smoke shape: the smallest and, usually, the largest, at a third of
    the time of all of them."""
    listing = subprocess.run(cmd + ["--list"], stdout=subprocess.PIPE, text=True, check=True)
    ids = {}
    for line in listing.stdout.splitlines()[1:]:
        fields = line.split("\t")
        if len(fields) >= 2 and fields[0].isdigit():
            ids.setdefault(fields[1], []).append(fields[0])
    return ",".join(sorted({i for v in ids.values() for i in (v[0], v[-1])}, key=int))


def main():
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    kgrade, source_dir, work_dir = sys.argv[1:4]
    workloads = sys.argv[4:] or sorted(
        d for d in os.listdir(os.path.join(source_dir, "baselines"))
        if os.path.isfile(os.path.join(source_dir, "baselines", d, "workload.json")))
    failures = []
    for kind in ("all-zeros", "half-work", "scribble"):
        root, covered = build_submission(kind, source_dir, work_dir, workloads)
        results = os.path.join(work_dir, kind + ".jsonl")
        if os.path.exists(results):
            os.remove(results)
        cmd = [kgrade, "run", "--workload", ",".join(covered), "--size-class", "smoke",
               "--baseline", "naive", "--candidate", root, "--max-time", "0.1", "--quiet"]
        cmd += ["--only", first_and_last_shapes(cmd), "--out", results]
        run = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        print("%s: exit %d, %d workloads" % (kind, run.returncode, len(covered)))
        if run.returncode != 1:
            failures.append("%s: kgrade exited %d (expected 1: candidates failed)\n%s"
                            % (kind, run.returncode, run.stdout[-3000:]))
            continue
        failures += judge(kind, list(shape_records(results)), covered)
    for f in failures:
        print("FAIL " + f)
    print("adversarial_matrix: %d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
