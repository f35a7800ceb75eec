#!/usr/bin/env python3
"""The device properties kgrade reads, beside what nvidia-smi and PyTorch say.

kgrade reads a CUDA device's clocks, memory clock, bus width, L2 size, SM
count and memory through the driver API (`kgrade devices --json`); the
speed-of-light bounds and the cache flush depend on them. This prints them
next to `nvidia-smi --query-gpu=...` and `torch.cuda.get_device_properties`
(where torch is installed) and counts the disagreements: each is a
finding to look at (CUDA 13 may report 0 for some clock attributes), never
a crash.

usage: gpu_properties.py DEVICES_JSON [NVIDIA_SMI_CSV]

NVIDIA_SMI_CSV is the output of
    nvidia-smi --query-gpu=name,compute_cap,clocks.max.sm,clocks.max.memory,memory.total \
               --format=csv,noheader,nounits
Without a CUDA device in DEVICES_JSON (a machine with no NVIDIA GPU) it
lists the first device kgrade has and says there is nothing to compare.
Exit 0 (findings are printed, not failed on); 2 when DEVICES_JSON cannot
be read.
"""

import json
import sys

SMI_FIELDS = ("name", "compute_cap", "clocks.max.sm", "clocks.max.memory", "memory.total")
SHOWN = ("name", "arch", "compute_units", "clock_mhz", "memory_clock_mhz", "memory_bus_bits",
         "cache_bytes", "global_mem_bytes", "peak_dram_gbs")


def smi_rows(path):
    rows = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                cells = [c.strip() for c in line.split(",")]
                if len(cells) == len(SMI_FIELDS) and cells[0] != "name":
                    rows.append(dict(zip(SMI_FIELDS, cells)))
    except OSError:
        pass
    return rows


def torch_props(index):
    try:
        import torch
        if not torch.cuda.is_available():
            return None
        p = torch.cuda.get_device_properties(index)
    except Exception:  # noqa: BLE001 - no torch or no CUDA: nothing to compare
        return None
    return {name: getattr(p, name, None) for name in (
        "multi_processor_count", "L2_cache_size", "total_memory", "major", "minor",
        "memory_clock_rate", "memory_bus_width", "clock_rate")}


def number(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def compare(rows, what, ours, theirs, source, rel=0.01):
    """A row of the table; returns 1 for a disagreement."""
    a, b = number(ours), number(theirs)
    if b is None:
        verdict = "not available"
        bad = 0
    elif a is None or a == 0:
        verdict = "**kgrade reads 0 or nothing**"
        bad = 1
    else:
        bad = abs(a - b) > rel * max(abs(a), abs(b))
        verdict = "**differs**" if bad else "agrees"
    rows.append(f"| {what} | {ours} | {theirs} ({source}) | {verdict} |")
    return int(bad)


def main(argv):
    if len(argv) not in (2, 3):
        print(__doc__.split("\n\n")[-3], file=sys.stderr)
        return 2
    try:
        with open(argv[1], encoding="utf-8") as f:
            devices = json.load(f).get("devices", [])
    except (OSError, ValueError) as e:
        print(f"cannot read {argv[1]}: {e}", file=sys.stderr)
        return 2
    cuda = [d for d in devices if d.get("backend") == "cuda"]
    if not cuda:
        first = devices[0] if devices else {}
        print("no CUDA device in kgrade's list: nothing to compare")
        print("kgrade's first device: " + ", ".join(f"{k} {first.get(k)}" for k in SHOWN))
        print("findings: 0 (not compared)")
        return 0
    smi = smi_rows(argv[2]) if len(argv) == 3 else []
    findings = 0
    for d in cuda:
        i = int(d.get("index", 0))
        s = smi[i] if i < len(smi) else {}
        t = torch_props(i) or {}
        rows = ["| property | kgrade | other source | |", "|---|---|---|---|"]
        cc = (s.get("compute_cap") or "").replace(".", "")
        rows.append(f"| architecture | {d.get('arch')} | sm_{cc} (nvidia-smi) | "
                    f"{'agrees' if cc and d.get('arch') == 'sm_' + cc else '**differs**' if cc else 'not available'} |")
        findings += bool(cc) and d.get("arch") != "sm_" + cc
        findings += compare(rows, "SM clock, MHz", d.get("clock_mhz"), s.get("clocks.max.sm"),
                            "nvidia-smi clocks.max.sm")
        findings += compare(rows, "memory clock, MHz", d.get("memory_clock_mhz"),
                            s.get("clocks.max.memory"), "nvidia-smi clocks.max.memory")
        findings += compare(rows, "memory, MiB", (d.get("global_mem_bytes") or 0) / 2**20,
                            s.get("memory.total"), "nvidia-smi memory.total", rel=0.02)
        findings += compare(rows, "SMs", d.get("compute_units"), t.get("multi_processor_count"),
                            "torch")
        findings += compare(rows, "L2, bytes", d.get("cache_bytes"), t.get("L2_cache_size"),
                            "torch")
        findings += compare(rows, "memory bus, bits", d.get("memory_bus_bits"),
                            t.get("memory_bus_width"), "torch")
        print(f"cuda:{i} {d.get('name')} (driver {d.get('driver_version')}), cache size from "
              f"{d.get('cache_source')}, peak DRAM {d.get('peak_dram_gbs')} GB/s")
        print("\n".join(rows))
    print(f"findings: {findings}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
