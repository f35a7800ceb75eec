"""Extend attention (kgrade workload `extend_attention`) in Triton.

SGLang's algorithm (stage 1 over the cached prefix through kv_indices,
stage 2 over the causal triangle of the extend tokens, online softmax in
fp32, bf16 tensor-core dots), written for this workload with three changes:

- grouped-query sharing: a program serves one KV head and all GROUP = HQ/HKV
  query heads that read it. Its BLOCK_R rows are (token, head) pairs, row r
  holding token r // GROUP and head r % GROUP, TOK = BLOCK_R // GROUP tokens
  in all, so each K and V tile is loaded once for the group and feeds one
  [BLOCK_R, D] x [D, BLOCK_N] dot;
- a program whose token block starts past its request's end returns at
  once (the grid spans the longest request);
- tiles that need no mask (whole prefix tiles; extend tiles below every
  row's diagonal) run without one; only a tail tile and the tiles on the
  diagonal are masked.

Softmax in base 2: logits are scaled by sm_scale * log2(e) and exp2 taken,
which is exp of the natural logits. With LOGIT_CAP > 0 the logit s becomes
cap * tanh(s / cap) before that (tanh as 2 * sigmoid(2x) - 1, as SGLang).
Tensors are contiguous [tokens, heads, D]; HQ, HKV and D are compile-time
constants, so every stride is one.
"""
import triton
import triton.language as tl

LOG2E = tl.constexpr(1.4426950408889634)


@triton.jit
def _tanh(x):
    return 2 * tl.sigmoid(2 * x) - 1


@triton.jit
def _attend_tiles(acc, l_i, m_i, q, k_base, v_base, loc_ptr, lo, hi, n_end, row_last,
                  sm_scale, KV_STRIDE: tl.constexpr, D: tl.constexpr, BLOCK_D: tl.constexpr,
                  BLOCK_N: tl.constexpr, GATHER: tl.constexpr, MASK_END: tl.constexpr,
                  CAUSAL: tl.constexpr, LOGIT_CAP: tl.constexpr):
    """Keys lo .. hi (hi - lo a multiple of BLOCK_N, or the last tile) into the
    running (acc, l_i, m_i). Key n is row loc_ptr[n] of k_base/v_base when
    GATHER, else row n. MASK_END masks keys >= n_end; CAUSAL keeps key n for
    row r only when n <= row_last[r]."""
    offs_n = tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, BLOCK_D)
    d_ok = offs_d < D
    for start_n in range(lo, hi, BLOCK_N):
        start_n = tl.multiple_of(start_n, BLOCK_N)
        cols = start_n + offs_n
        n_ok = cols < n_end
        if GATHER:
            if MASK_END:
                row = tl.load(loc_ptr + cols, mask=n_ok, other=0)
            else:
                row = tl.load(loc_ptr + cols)
        else:
            row = cols
        row = row.to(tl.int64) * KV_STRIDE
        if MASK_END:
            kt = tl.load(k_base + row[None, :] + offs_d[:, None],
                         mask=n_ok[None, :] & d_ok[:, None], other=0.0)
        elif BLOCK_D != D:
            kt = tl.load(k_base + row[None, :] + offs_d[:, None], mask=d_ok[:, None], other=0.0)
        else:
            kt = tl.load(k_base + row[None, :] + offs_d[:, None])
        s = tl.dot(q, kt)
        if LOGIT_CAP > 0:
            s = (LOGIT_CAP * LOG2E) * _tanh(s * (sm_scale / LOGIT_CAP))
        else:
            s = s * (sm_scale * LOG2E)
        if CAUSAL:
            keep = cols[None, :] <= row_last[:, None]
            if MASK_END:
                keep = keep & n_ok[None, :]
            s = tl.where(keep, s, -float("inf"))
        elif MASK_END:
            s = tl.where(n_ok[None, :], s, -float("inf"))
        m_new = tl.maximum(m_i, tl.max(s, 1))
        m_safe = tl.where(m_new == -float("inf"), 0.0, m_new)
        alpha = tl.math.exp2(m_i - m_safe)
        p = tl.math.exp2(s - m_safe[:, None])
        l_i = l_i * alpha + tl.sum(p, 1)
        if MASK_END:
            v = tl.load(v_base + row[:, None] + offs_d[None, :],
                        mask=n_ok[:, None] & d_ok[None, :], other=0.0)
        elif BLOCK_D != D:
            v = tl.load(v_base + row[:, None] + offs_d[None, :], mask=d_ok[None, :], other=0.0)
        else:
            v = tl.load(v_base + row[:, None] + offs_d[None, :])
        acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v)
        m_i = m_new
    return acc, l_i, m_i


@triton.jit
def extend_attention_gqa(Q, K_Extend, V_Extend, O, K_Buffer, V_Buffer, qo_indptr, kv_indptr,
                         kv_indices, sm_scale, HQ: tl.constexpr, HKV: tl.constexpr,
                         D: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_R: tl.constexpr,
                         BLOCK_N: tl.constexpr, LOGIT_CAP: tl.constexpr):
    GROUP: tl.constexpr = HQ // HKV
    TOK: tl.constexpr = BLOCK_R // GROUP
    seq = tl.program_id(0)
    kv_head = tl.program_id(1)
    m0 = tl.program_id(2) * TOK

    ext_start = tl.load(qo_indptr + seq)
    ext_len = tl.load(qo_indptr + seq + 1) - ext_start
    if m0 >= ext_len:
        return
    pre_start = tl.load(kv_indptr + seq)
    pre_len = tl.load(kv_indptr + seq + 1) - pre_start

    offs_r = tl.arange(0, BLOCK_R)
    tok = offs_r // GROUP
    head = kv_head * GROUP + offs_r % GROUP
    row_ok = (tok < TOK) & (m0 + tok < ext_len)
    row_last = m0 + tok  # the last extend key each row attends to
    offs_d = tl.arange(0, BLOCK_D)
    d_ok = offs_d < D

    q_rows = (ext_start + m0 + tok).to(tl.int64) * (HQ * D) + head * D
    q = tl.load(Q + q_rows[:, None] + offs_d[None, :], mask=row_ok[:, None] & d_ok[None, :],
                other=0.0)

    acc = tl.zeros([BLOCK_R, BLOCK_D], dtype=tl.float32)
    l_i = tl.zeros([BLOCK_R], dtype=tl.float32)
    m_i = tl.full([BLOCK_R], -float("inf"), dtype=tl.float32)

    kv_head_off = kv_head * D
    # Stage 1: the prefix, gathered through kv_indices; whole tiles unmasked.
    k_buf = K_Buffer + kv_head_off
    v_buf = V_Buffer + kv_head_off
    loc = kv_indices + pre_start
    pre_full = (pre_len // BLOCK_N) * BLOCK_N
    acc, l_i, m_i = _attend_tiles(acc, l_i, m_i, q, k_buf, v_buf, loc, 0, pre_full, pre_len,
                                  row_last, sm_scale, HKV * D, D, BLOCK_D, BLOCK_N, True, False,
                                  False, LOGIT_CAP)
    acc, l_i, m_i = _attend_tiles(acc, l_i, m_i, q, k_buf, v_buf, loc, pre_full, pre_len,
                                  pre_len, row_last, sm_scale, HKV * D, D, BLOCK_D, BLOCK_N, True,
                                  True, False, LOGIT_CAP)

    # Stage 2: the extend tokens 0 .. min(ext_len, m0 + TOK). Keys up to m0
    # are seen by every row of the block: those whole tiles need no mask.
    ext_off = ext_start.to(tl.int64) * (HKV * D) + kv_head_off
    k_ext = K_Extend + ext_off
    v_ext = V_Extend + ext_off
    ext_end = tl.minimum(ext_len, m0 + TOK)
    ext_full = (tl.minimum(ext_len, m0 + 1) // BLOCK_N) * BLOCK_N
    acc, l_i, m_i = _attend_tiles(acc, l_i, m_i, q, k_ext, v_ext, kv_indices, 0, ext_full,
                                  ext_end, row_last, sm_scale, HKV * D, D, BLOCK_D, BLOCK_N,
                                  False, False, False, LOGIT_CAP)
    acc, l_i, m_i = _attend_tiles(acc, l_i, m_i, q, k_ext, v_ext, kv_indices, ext_full, ext_end,
                                  ext_end, row_last, sm_scale, HKV * D, D, BLOCK_D, BLOCK_N,
                                  False, True, True, LOGIT_CAP)

    out = acc / l_i[:, None]
    tl.store(O + q_rows[:, None] + offs_d[None, :], out.to(O.dtype.element_ty),
             mask=row_ok[:, None] & d_ok[None, :])
