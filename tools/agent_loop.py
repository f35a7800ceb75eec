#!/usr/bin/env python3
"""An example agent loop for `kgrade check` (docs/agents.md), with no model
inside: it "edits" a candidate by copying prepared variants into one working
folder in turn, calls `kgrade check --json` after each edit, reads the
answer the way an agent harness would, and stops when the variants or the
time budget run out. Every check lands in the ledger.

    tools/agent_loop.py --kgrade build/kgrade --workload softmax \
        --work /tmp/agent --budget 60 VARIANT_DIR [VARIANT_DIR ...]

A variant is a submission folder (kernels.json and sources), or the word
`broken`, which writes a kernels.json that does not parse. Prints one line
per check; exits 0 when the loop ran (whatever the checks said).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time


def edit(attempt, variant):
    """Replace the working candidate with the variant's files."""
    shutil.rmtree(attempt, ignore_errors=True)
    if variant == "broken":
        os.makedirs(attempt)
        with open(os.path.join(attempt, "kernels.json"), "w") as f:
            f.write('{"kernels": [ \n')
    else:
        shutil.copytree(variant, attempt)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--kgrade", required=True)
    p.add_argument("--workload", required=True)
    p.add_argument("--baseline", default="naive")
    p.add_argument("--work", required=True, help="folder for the attempt and the ledger")
    p.add_argument("--budget", type=float, default=60, help="seconds for the whole loop")
    p.add_argument("variants", nargs="+")
    a = p.parse_args()
    os.makedirs(a.work, exist_ok=True)
    attempt = os.path.join(a.work, "attempt")
    ledger = os.path.join(a.work, "ledger.jsonl")
    started, best = time.monotonic(), None
    for n, variant in enumerate(a.variants, 1):
        left = a.budget - (time.monotonic() - started)
        if left < 5:
            print(f"budget spent after {n - 1} checks")
            break
        edit(attempt, variant)
        out = subprocess.run(
            [a.kgrade, "check", "--candidate", attempt, "--workload", a.workload,
             "--baseline", a.baseline, "--ledger", ledger, "--json", "--budget", str(min(left, 60))],
            capture_output=True, text=True)
        answer = json.loads(out.stdout)  # one object, whatever the exit status
        g = answer.get("geomean") or {}
        if answer["status"] == "passed" and (best is None or g["speedup"] > best):
            best = g["speedup"]
        why = answer.get("first_failure") or {}
        print(f"check {answer['evaluation']} ({os.path.basename(variant.rstrip('/'))}): "
              f"exit {out.returncode}, {answer['status']}"
              + (f", {g['speedup']:.3g}x [{g['lo']:.3g}, {g['hi']:.3g}]" if answer["status"] == "passed" else "")
              + (f", {why.get('status')}: {why.get('error', '')[:80]}" if why else "")
              + (f", {answer.get('messages', '').strip()[:80]}" if answer["status"] == "error" else "")
              + f", {answer['wall_s']:.2f} s")
    print(f"best passing geomean: {best if best is None else f'{best:.3g}x'}; ledger {ledger}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
