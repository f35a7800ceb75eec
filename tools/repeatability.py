#!/usr/bin/env python3
"""How much a grading moves between identical runs.

Given the results files of the same `kgrade run` repeated (same sets, size
class, seed and device), prints per workload the geometric-mean speedup of
each run and its coefficient of variation across runs (standard deviation
over mean), and per shape the sampling time kgrade needed (the median over
runs of `sampling_wall_s`, the time spent timing until the median's 95%
interval was within the target, or a cap) with the stopping reasons.

usage: repeatability.py RESULTS.jsonl RESULTS.jsonl [...]

The last run of each file is used. Exit 0; 2 when fewer than two files
hold a run with a summary.
"""

import json
import statistics
import sys


def last_run(path):
    """(summary record, shape records) of the last run of the file."""
    summary, shapes = None, []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                if r.get("type") == "run":
                    summary, shapes = None, []
                elif r.get("type") == "summary":
                    summary = r
                elif r.get("type") == "shape":
                    shapes.append(r)
    except OSError as e:
        print(f"{path}: {e.strerror}", file=sys.stderr)
    return summary, shapes


def main(argv):
    runs = [last_run(p) for p in argv[1:]]
    runs = [r for r in runs if r[0] is not None]
    if len(runs) < 2:
        print("need at least two results files with a finished run", file=sys.stderr)
        return 2
    geomeans = {}
    for summary, _ in runs:
        for w in summary.get("workloads", []):
            key = f"{w['workload']} vs {w.get('baseline')}"
            if w.get("geomean"):
                geomeans.setdefault(key, []).append(w["geomean"])
    print(f"{len(runs)} runs")
    print("| workload | geomean speedup per run | mean | CV |")
    print("|---|---|---:|---:|")
    worst = 0.0
    for key, xs in geomeans.items():
        mean = statistics.mean(xs)
        cv = statistics.stdev(xs) / mean if len(xs) > 1 and mean else 0.0
        worst = max(worst, cv)
        print(f"| {key} | {', '.join(f'{x:.3f}x' for x in xs)} | {mean:.3f}x | {cv:.2%} |")
    times, stops = {}, {}
    for _, shapes in runs:
        for r in shapes:
            key = f"{r['workload']}/{r['shape']}"
            if isinstance(r.get("sampling_wall_s"), (int, float)):
                times.setdefault(key, []).append(r["sampling_wall_s"])
            stops.setdefault(key, []).append(str(r.get("stop_reason")))
    print()
    print("| shape | sampling time to stop (median of runs) | stops |")
    print("|---|---:|---|")
    for key, ts in times.items():
        counts = {s: stops[key].count(s) for s in sorted(set(stops[key]))}
        print(f"| {key} | {statistics.median(ts):.2f} s | "
              + ", ".join(f"{s} {n}" for s, n in counts.items()) + " |")
    print(f"largest CV of a geomean: {worst:.2%}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
