#!/usr/bin/env python3
"""Shows that tests/triton/upstream_drift.py catches a change upstream: it
copies UPSTREAM_DIR, edits one thing in one release's file per case (a
block-size table entry, the num_warps rule, a kernel parameter, the grid),
and runs the drift check on the copy, which must fail and name what
changed; on the unedited copy it must pass.

usage: upstream_drift_catches.py UPSTREAM_DIR TIERS_JSON WORKLOAD_JSON [PORTS]
       upstream_drift_catches.py UPSTREAM_DIR TIERS_JSON WORKLOAD_JSON --launch
With --launch, the same for tests/triton/upstream_drift_launch.py and the
edits of LAUNCH_CASES for the workload (its upstream launchers).
Exit 0: every edit caught; 1: one was not; 77: an upstream file is missing.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

# (name, release, text to find (its first occurrence after the function
# named, if any), replacement, words the failure must contain)
TABLE, KERNEL, LAUNCHER = ("_get_block_sizes_for_extend_attention", "_fwd_kernel",
                           "extend_attention_fwd")
CASES = [
    ("hopper table entry", "0.5.12", TABLE,
     "            if Lq <= 256:\n                BLOCK_M, BLOCK_N = (128, 64)",
     "            if Lq <= 256:\n                BLOCK_M, BLOCK_N = (64, 64)",
     ["sglang 0.5.12", "capability (9, 0)", "D=128", "BLOCK_M is 64 upstream, 128 in the tier"]),
    ("sm_86 table entry", "0.5.23", TABLE,
     "                if Lq <= 128:\n                    BLOCK_M, BLOCK_N = (64, 128)",
     "                if Lq <= 128:\n                    BLOCK_M, BLOCK_N = (64, 64)",
     ["sglang 0.5.23", "capability (8, 6)", "D=64", "BLOCK_N is 64 upstream, 128 in the tier"]),
    ("num_warps rule", "0.5.23", TABLE, "num_warps = 4 if Lq <= 64 else 8",
     "num_warps = 4 if Lq <= 128 else 8",
     ["sglang 0.5.23", "D=80", "num_warps is 4 upstream, 8 in the tier"]),
    ("new kernel parameter", "0.5.12", KERNEL, "    kv_group_num,\n    stride_qbs,",
     "    kv_group_num,\n    q_scale,\n    stride_qbs,",
     ["sglang 0.5.12", "'q_scale'", "neither in the tier's signature nor its constexprs"]),
    ("parameter made constexpr", "0.5.23", KERNEL, "    compact_batch_size,\n",
     "    compact_batch_size: tl.constexpr,\n",
     ["sglang 0.5.23", "'compact_batch_size' is a tl.constexpr but in the tier's signature"]),
    ("num_stages", "0.5.12", LAUNCHER, "    num_stages = 1\n", "    num_stages = 2\n",
     ["sglang 0.5.12", "num_stages is 2 upstream, 1 in the tier"]),
    ("AMD table entry, in the port too", "0.5.12", TABLE,
     "    if _is_hip:\n        BLOCK_M, BLOCK_N = (64, 64)",
     "    if _is_hip:\n        BLOCK_M, BLOCK_N = (32, 64)",
     ["reference: sglang 0.5.12, HIP", "BLOCK_M is 32 upstream, 64 in the port"]),
    ("fallback table entry, OpenCL port", "0.5.12", TABLE,
     "BLOCK_M, BLOCK_N = (64, 64) if Lq <= 128 else (32, 32)",
     "BLOCK_M, BLOCK_N = (64, 32) if Lq <= 128 else (32, 32)",
     ["reference-tuned: sglang 0.5.12, OpenCL", "BLOCK_N is 32 upstream, 64 in the port"]),
    ("grid", "0.5.23", LAUNCHER, "grid = (batch_size, head_num, triton.cdiv(max_len_extend, BLOCK_M))",
     "grid = (batch_size * head_num, triton.cdiv(max_len_extend, BLOCK_M))",
     ["sglang 0.5.23", "no longer launches"]),
]

DECODE_STAGE1, DECODE_STAGE2 = "_decode_grouped_att_m_fwd", "_decode_softmax_reducev_fwd"
DECODE_CASES = [
    ("BLOCK_N", "0.5.12", DECODE_STAGE1, "    BLOCK = 32\n", "    BLOCK = 64\n",
     ["sglang 0.5.12", "sm_90", "constexpr BLOCK_N is 64 upstream, 32 in the tier"]),
    ("BLOCK_H", "0.5.12", DECODE_STAGE1, "    BLOCK_H = 16\n", "    BLOCK_H = 8\n",
     ["sglang 0.5.12", "HIP", "constexpr BLOCK_H is 8 upstream, 16 in the tier"]),
    ("grid", "0.5.12", DECODE_STAGE1, "        MAX_KV_SPLITS,\n    )",
     "        MAX_KV_SPLITS * 2,\n    )",
     ["sglang 0.5.12", "_fwd_grouped_kernel_stage1 grid is (3, 1, 16) upstream, (3, 1, 8)"]),
    ("stage-1 num_stages", "0.5.12", DECODE_STAGE1, "    num_stages = 2\n",
     "    num_stages = 3\n", ["sm_80", "num_stages is 3 upstream, 2 in the tier"]),
    ("AMD launch options", "0.5.12", DECODE_STAGE2, '"waves_per_eu": 4', '"waves_per_eu": 2',
     ["HIP", "_fwd_kernel_stage2 launch options are"]),
    ("stride order", "0.5.12", DECODE_STAGE2, "        o.stride(0),\n        o.stride(1),\n",
     "        o.stride(1),\n        o.stride(0),\n",
     ["_fwd_kernel_stage2 argument stride_obs is"]),
    ("new kernel parameter", "0.5.12", "_fwd_kernel_stage2", "    v_scale,\n    kv_indptr,",
     "    v_scale,\n    q_scale,\n    kv_indptr,",
     ["'q_scale'", "neither in the tier's signature nor its constexprs"]),
]
PREFILL_CASES = [
    ("BLOCK on sm_80", "0.5.12", "context_attention_fwd", "CUDA_CAPABILITY[0] > 8",
     "CUDA_CAPABILITY[0] >= 8",
     ["sglang 0.5.12", "sm_80", "constexpr BLOCK_M is 128 upstream, 64"]),
    ("num_warps rule", "0.5.23", "context_attention_fwd", "num_warps = 4 if Lk <= 64 else 8",
     "num_warps = 4 if Lk <= 128 else 8",
     ["sglang 0.5.23", "llama3-8b-b8-ctx4096", "num_warps is 4 upstream, 8 in the tier"]),
    ("causal flag", "0.5.12", "context_attention_fwd", "IS_CAUSAL=is_causal,",
     "IS_CAUSAL=True,", ["sglang 0.5.12", "d128-gqa8-not-causal", "constexpr IS_CAUSAL is True"]),
]
QUANT_RAW = "_per_token_group_quant_8bit_raw"
QUANT_CASES = [
    ("num_warps rule", "0.5.12", QUANT_RAW, "num_warps = min(max(BLOCK // 256, 1), 8)",
     "num_warps = min(max(BLOCK // 64, 1), 8)",
     ["sglang 0.5.12", "sm_90", "num_warps is 2 upstream, 1 in the tier"]),
    ("fp8 range", "0.5.12", QUANT_RAW, "bit8_max = info.max", "bit8_max = info.max / 2",
     ["sglang 0.5.12", "argument bit8_max is 224.0 upstream, 448.0 in the tier"]),
    ("new kernel parameter", "0.5.12", "_per_token_group_quant_8bit",
     "    eps,\n    # Information for float8", "    eps,\n    scale_ub,\n    # Information for float8",
     ["'scale_ub'", "neither in the tier's signature nor its constexprs"]),
]
SILU_CASES = [
    ("num_warps cap", "0.5.12", "silu_and_mul_triton", "max_warps = 16 if _is_hip else 32",
     "max_warps = 16 if _is_hip else 8",
     ["sglang 0.5.12", "d2050-pairs", "num_warps is 8 upstream, 16 in the tier"]),
    ("new kernel parameter", "0.5.12", "silu_and_mul_kernel",
     "    hidden_states_ptr,  # (bs, hidden_dim * 2)\n",
     "    hidden_states_ptr,  # (bs, hidden_dim * 2)\n    scale_ptr,\n",
     ["'scale_ptr'", "neither in the tier's signature nor its constexprs"]),
]
GELU_CASES = [
    ("BLOCK_SIZE", "0.5.12", "gelu_and_mul_triton",
     "BLOCK_SIZE=triton.next_power_of_2(hidden_dim),",
     "BLOCK_SIZE=triton.next_power_of_2(hidden_dim) * 2,",
     ["sglang 0.5.12", "gelu_and_mul_kernel constexpr BLOCK_SIZE is"]),
]
RMSNORM_CASES = [
    ("num_warps floor", "0.5.12", "fused_rmsnorm", "max_warps), 4\n", "max_warps), 8\n",
     ["sglang 0.5.12", "fused_rmsnorm_kernel num_warps is 8 upstream, 4 in the tier"]),
]
MOE_CASES = [
    ("even_Ks rule", "0.5.12", "invoke_fused_moe_kernel", 'if K % config["BLOCK_SIZE_K"] == 0:',
     'if K % (2 * config["BLOCK_SIZE_K"]) == 0:',
     ["sglang 0.5.12", "fused_moe_kernel constexpr even_Ks is False upstream, 1 in the tier"]),
    ("C strides", "0.5.12", "invoke_fused_moe_kernel",
     "            C.stride(-2),\n            C.stride(-1),\n            A_scale",
     "            C.stride(-1),\n            C.stride(-2),\n            A_scale",
     ["fused_moe_kernel argument stride_cm is 1 upstream"]),
    ("new kernel parameter", "0.5.12", "fused_moe_kernel", "    add_mask_ptr,\n    # Matrix",
     "    add_mask_ptr,\n    scale_ub,\n    # Matrix",
     ["'scale_ub'", "neither in the tier's signature nor its constexprs"]),
]
LAUNCH_CASES = {"decode_attention": DECODE_CASES, "prefill_attention": PREFILL_CASES,
                "per_token_group_quant_fp8": QUANT_CASES, "silu_and_mul": SILU_CASES,
                "gelu_and_mul": GELU_CASES, "rmsnorm": RMSNORM_CASES, "fused_moe": MOE_CASES}


def run(script, upstream, tiers, workload, ports):
    p = subprocess.run([sys.executable, os.path.join(HERE, script), upstream, tiers,
                        workload] + ports, capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def main(argv):
    script, cases = "upstream_drift.py", CASES
    if "--launch" in argv:
        argv = [a for a in argv if a != "--launch"]
        with open(argv[3], encoding="utf-8") as f:
            script, cases = "upstream_drift_launch.py", LAUNCH_CASES[json.load(f)["name"]]
    if len(argv) not in (4, 5):
        print("usage: upstream_drift_catches.py UPSTREAM_DIR TIERS_JSON WORKLOAD_JSON [PORTS]",
              file=sys.stderr)
        return 2
    upstream, tiers, workload = argv[1:4]
    ports = argv[4:]
    with open(tiers, encoding="utf-8") as f:
        specs = {t["upstream"]["version"]: t["upstream"] for t in json.load(f)["tiers"].values()
                 if "upstream" in t}
    for spec in specs.values():
        path = os.path.join(upstream, f"{spec['package']}-{spec['version']}", spec["path"])
        if not os.path.isfile(path):
            print("SKIP: upstream file missing:", path)
            return 77
    failed = 0
    with tempfile.TemporaryDirectory(prefix="kg-drift-") as tmp:
        rc, out = run(script, upstream, tiers, workload, ports)
        if rc != 0:
            print(f"FAIL: the unedited upstream files do not pass (exit {rc}):\n{out}")
            return 1
        for name, release, after, old, new, words in cases:
            copy = os.path.join(tmp, name.replace(" ", "-"))
            shutil.copytree(upstream, copy)
            spec = specs[release]
            path = os.path.join(copy, f"{spec['package']}-{release}", spec["path"])
            with open(path, encoding="utf-8") as f:
                text = f.read()
            start = text.find(f"\ndef {after}(")
            at = text.find(old, start) if start >= 0 else -1
            if at < 0:
                print(f"FAIL {name}: the text to edit is not in {after} of sglang {release}: "
                      f"update this test")
                failed += 1
                continue
            with open(path, "w", encoding="utf-8") as f:
                f.write(text[:at] + new + text[at + len(old):])
            rc, out = run(script, copy, tiers, workload, ports)
            hit = [line for line in out.splitlines() if line.startswith("FAIL")
                   and all(w in line for w in words)]
            if rc == 1 and hit:
                print(f"caught {name} (sglang {release}): {hit[0]}")
            else:
                print(f"FAIL {name} (sglang {release}) not caught as expected (exit {rc}; "
                      f"wanted a FAIL line with {words}):\n{out}")
                failed += 1
    print(f"{len(cases) - failed} of {len(cases)} edits caught")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
