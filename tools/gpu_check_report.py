#!/usr/bin/env python3
"""docs/validation.md's section for one run of scripts/gpu-check.sh.

Reads the run's summary.json (and the logs beside it) and prints a
Markdown section: the device, driver and CUDA, the date, every step with
its command, status, time and figure, and the tables the steps left
(properties, repeatability, the small and flagship gradings). Paste it at
the top of docs/validation.md; every number in it was measured by that
run.

usage: gpu_check_report.py OUT_DIR [--expect-dry-run]

--expect-dry-run checks, instead of trusting, what a run without an
NVIDIA GPU must show (the `gpu_check_dry_run` test): every GPU-only step
skipped with "no NVIDIA GPU", every other step passed, none timed out, a
budget under 8 minutes. Exit 0; 1 when that check fails; 2 when
OUT_DIR/summary.json cannot be read.
"""

import json
import os
import sys

# Steps that need an NVIDIA GPU (or its tools): skipped in a dry run.
GPU_ONLY = {"1.2", "1.3", "1.5", "4.1", "4.2", "4.3", "6.3", "10.1"}
# Steps a dry run must pass (1.4 needs a CUDA toolkit, 2.x a build).
DRY_RUN_PASSES = {"3.1", "3.2", "3.3", "5.1", "6.1", "6.2", "7.1", "7.2", "7.9", "8.1", "8.2",
                  "9.1"}
EIGHT_MINUTES = 480


def read(out, name):
    try:
        with open(os.path.join(out, name), encoding="utf-8", errors="replace") as f:
            return f.read().strip()
    except OSError:
        return ""


def machine_value(doc, key):
    for line in doc.get("machine", []):
        if line.startswith(key + ":"):
            return line.split(":", 1)[1].strip()
    return "?"


def section(doc, out):
    steps = {s["id"]: s for s in doc["steps"]}
    gpu = (steps.get("1.1") or {}).get("figure") or "no NVIDIA GPU"
    driver = (steps.get("1.2") or {}).get("figure") or "-"
    cuda = (steps.get("1.4") or {}).get("figure") or "-"
    title = "GPU check" if doc["nvidia_gpu"] else "GPU check, dry run without a GPU"
    lines = [f"## {doc['started'][:10]} — {title} (`scripts/gpu-check.sh`)", "",
             f"- device: {gpu}", f"- driver: {driver}", f"- CUDA: {cuda}",
             f"- torch, triton: {(steps.get('1.5') or {}).get('figure') or '-'}",
             f"- host: {machine_value(doc, 'host')}; kgrade at {machine_value(doc, 'git')}",
             f"- started {doc['started']}, {doc['wall_s']} s of a {doc['budget_s']} s budget",
             "- command: `OUT=<folder> scripts/gpu-check.sh` (step commands below)", "",
             "| step | command | status | s | figure |", "|---|---|---|---:|---|"]
    for s in doc["steps"]:
        cmd = s["command"].replace("|", "\\|")
        fig = s["figure"].replace("|", "\\|")
        lines.append(f"| {s['id']} | `{cmd}` | {s['detail'].replace('|', '/')} | "
                     f"{s['seconds']} | {fig} |")
    lines += ["", "counts: " + ", ".join(f"{k} {v}" for k, v in doc["counts"].items())]
    for name, what in (("properties.md", "Device properties (step 3.3)"),
                       ("repeatability.md", "Repeatability (step 7)"),
                       ("small-table.md", "The small grading (step 6)"),
                       ("flagship-table.md", "The flagship (step 8)")):
        text = read(out, name)
        if text:
            lines += ["", f"### {what}", "", text]
    return "\n".join(lines)


def check_dry_run(doc):
    problems = []
    steps = {s["id"]: s for s in doc["steps"]}
    if doc["nvidia_gpu"]:
        problems.append("the run found an NVIDIA GPU: not a dry run")
    if doc["budget_s"] > EIGHT_MINUTES:
        problems.append(f"budget {doc['budget_s']} s is over 8 minutes")
    for sid in sorted(GPU_ONLY):
        s = steps.get(sid)
        if s is None:
            problems.append(f"step {sid} is missing")
        elif s["status"] != "skipped" or "no NVIDIA GPU" not in s["detail"]:
            problems.append(f"GPU-only step {sid}: {s['detail']} (want 'skipped: no NVIDIA GPU')")
    for sid in sorted(DRY_RUN_PASSES):
        s = steps.get(sid)
        if s is None:
            problems.append(f"step {sid} is missing")
        elif s["status"] != "passed":
            problems.append(f"step {sid}: {s['detail']}")
    if doc["counts"].get("timed out"):
        problems.append(f"{doc['counts']['timed out']} step(s) timed out")
    if not (steps.get("7.9") or {}).get("figure", "").startswith("largest CV"):
        problems.append("step 7.9 has no coefficient of variation")
    return problems


def main(argv):
    if len(argv) not in (2, 3) or (len(argv) == 3 and argv[2] != "--expect-dry-run"):
        print("usage: gpu_check_report.py OUT_DIR [--expect-dry-run]", file=sys.stderr)
        return 2
    out = argv[1]
    try:
        with open(os.path.join(out, "summary.json"), encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        print(f"cannot read {out}/summary.json: {e}", file=sys.stderr)
        return 2
    print(section(doc, out))
    if len(argv) == 3:
        problems = check_dry_run(doc)
        for p in problems:
            print(f"FAIL: {p}")
        print(f"dry run: {'as expected' if not problems else '%d problem(s)' % len(problems)}")
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
