"""Row-wise softmax, one program per row (kgrade workload `softmax`, f32).

A row that fits one BLOCK (ONE_TILE) is read once into registers: maximum,
exponentials, sum and the normalised write from there. A longer row is read
twice: an online pass keeps a running maximum and a sum rescaled to it, tile
by tile, then a second pass writes exp(x - max) / sum. Masked lanes load
-inf, so they add exp(-inf) = 0; -inf inputs give exactly 0 likewise.
Accumulation in fp32, as the storage.
"""
import triton
import triton.language as tl


@triton.jit
def softmax_kernel(x_ptr, y_ptr, n_cols, BLOCK: tl.constexpr, ONE_TILE: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    x_row = x_ptr + row * n_cols
    y_row = y_ptr + row * n_cols
    offs = tl.arange(0, BLOCK)
    if ONE_TILE:
        mask = offs < n_cols
        x = tl.load(x_row + offs, mask=mask, other=-float("inf"))
        e = tl.exp(x - tl.max(x, axis=0))
        total = tl.sum(e, axis=0)
        tl.store(y_row + offs, e / total, mask=mask)
    else:
        # Pass 1: running maximum m and sum s of exp(x - m) over the tiles.
        # m_safe stands in for m while it is still -inf (a tile of -inf
        # only), so that exp never sees -inf - -inf.
        m = -float("inf")
        s = 0.0
        for start in range(0, n_cols, BLOCK):
            mask = start + offs < n_cols
            x = tl.load(x_row + start + offs, mask=mask, other=-float("inf"))
            m_new = tl.maximum(m, tl.max(x, axis=0))
            m_safe = tl.where(m_new == -float("inf"), 0.0, m_new)
            s = s * tl.exp(m - m_safe) + tl.sum(tl.exp(x - m_safe), axis=0)
            m = m_new
        # Pass 2: the normalised write (a row of -inf only gives NaN, as
        # the reference's exp(-inf - -inf) does).
        inv = 1.0 / s
        for start in range(0, n_cols, BLOCK):
            mask = start + offs < n_cols
            x = tl.load(x_row + start + offs, mask=mask, other=-float("inf"))
            tl.store(y_row + start + offs, tl.exp(x - m) * inv, mask=mask)
