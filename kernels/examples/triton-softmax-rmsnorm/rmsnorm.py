"""RMS norm with a weight, one program per row (kgrade workload `rmsnorm`,
f32): y = x / sqrt(mean(x^2) + eps) * w, eps added inside the root, the sum
of squares accumulated in fp32 and the root taken correctly rounded.

A row that fits one BLOCK (ONE_TILE) is read once and kept in registers;
a longer one is read twice (sum of squares, then the scaled write).
"""
import triton
import triton.language as tl


@triton.jit
def rmsnorm_kernel(x_ptr, w_ptr, y_ptr, eps, n_cols, BLOCK: tl.constexpr,
                   ONE_TILE: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    x_row = x_ptr + row * n_cols
    y_row = y_ptr + row * n_cols
    offs = tl.arange(0, BLOCK)
    if ONE_TILE:
        mask = offs < n_cols
        x = tl.load(x_row + offs, mask=mask, other=0.0)
        inv_rms = 1.0 / tl.sqrt_rn(tl.sum(x * x, axis=0) / n_cols + eps)
        w = tl.load(w_ptr + offs, mask=mask, other=0.0)
        tl.store(y_row + offs, x * inv_rms * w, mask=mask)
    else:
        acc = tl.zeros([BLOCK], dtype=tl.float32)
        for start in range(0, n_cols, BLOCK):
            mask = start + offs < n_cols
            x = tl.load(x_row + start + offs, mask=mask, other=0.0)
            acc += x * x
        inv_rms = 1.0 / tl.sqrt_rn(tl.sum(acc, axis=0) / n_cols + eps)
        for start in range(0, n_cols, BLOCK):
            mask = start + offs < n_cols
            x = tl.load(x_row + start + offs, mask=mask, other=0.0)
            w = tl.load(w_ptr + start + offs, mask=mask, other=0.0)
            tl.store(y_row + start + offs, x * inv_rms * w, mask=mask)
