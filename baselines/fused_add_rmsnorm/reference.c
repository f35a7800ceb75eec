/* CPU reference for fused_add_rmsnorm, in double precision: two outputs,
 * both updated in place. Output 0 is x (the normalised row), output 1 the
 * residual (x + residual as given). One unit is one row of either. */
#include "reference.h"

#include <math.h>

enum { OUT_X = 0, OUT_RESIDUAL = 1 };

static int fused_layout(const kg_ref_inputs *in, size_t output, size_t *unit_count,
                        size_t *unit_len)
{
    int64_t rows = kg_ref_symbol(in, "rows"), cols = kg_ref_symbol(in, "cols");
    if (rows < 0 || cols < 0 || output > OUT_RESIDUAL)
        return -1;
    *unit_count = (size_t)rows;
    *unit_len = (size_t)cols;
    return 0;
}

/* Row `unit` of either output. The sum x + residual is exact in double
 * (both are bf16); the norm is of that sum, not of its bf16 rounding, as
 * SGLang's kernel keeps it in float. */
static int fused_compute(const kg_ref_inputs *in, size_t output, size_t unit, double *out)
{
    const kg_host_tensor *x = kg_ref_tensor(in, "x");
    const kg_host_tensor *residual = kg_ref_tensor(in, "residual");
    const kg_host_tensor *w = kg_ref_tensor(in, "w");
    size_t cols = (size_t)kg_ref_symbol(in, "cols");
    double eps = kg_ref_param(in, "eps");
    if (!x || !residual || !w || x->count < (unit + 1) * cols ||
        residual->count < (unit + 1) * cols || w->count < cols || !(eps >= 0.0) ||
        output > OUT_RESIDUAL)
        return -1;
    size_t base = unit * cols;
    double sum_sq = 0.0;
    for (size_t c = 0; c < cols; c++) {
        double r = kg_ref_at(x, base + c) + kg_ref_at(residual, base + c);
        out[c] = r;
        sum_sq += r * r;
    }
    if (output == OUT_RESIDUAL)
        return 0;
    double inv_rms = 1.0 / sqrt(sum_sq / (double)cols + eps);
    for (size_t c = 0; c < cols; c++)
        out[c] = out[c] * inv_rms * kg_ref_at(w, c);
    return 0;
}

const kg_reference kg_reference_fused_add_rmsnorm = {
    .workload = "fused_add_rmsnorm",
    .needs = "x, residual, w, eps, rows, cols",
    .output = "x, residual",
    .layout = fused_layout,
    .compute = fused_compute,
};
