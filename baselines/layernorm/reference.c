/* CPU reference for layernorm: y[r][c] = (x[r][c] - mean_r) / sqrt(var_r + eps) * w[c] + b[c],
 * var_r the biased variance (divided by cols, as torch.nn.LayerNorm), in double precision, one
 * row per unit. The variance is two-pass (the mean first, then the mean squared deviation), so
 * rows with a large common offset keep every bit double precision gives them. */
#include "reference.h"

#include <math.h>

/* One unit per row of the rows x cols output. */
static int layernorm_layout(const kg_ref_inputs *in, size_t output, size_t *unit_count,
                            size_t *unit_len)
{
    (void)output; /* the only one */
    int64_t rows = kg_ref_symbol(in, "rows"), cols = kg_ref_symbol(in, "cols");
    if (rows < 0 || cols < 0)
        return -1;
    *unit_count = (size_t)rows;
    *unit_len = (size_t)cols;
    return 0;
}

/* Row `unit`: mean, variance about the mean, then normalise, scale by w and shift by b. */
static int layernorm_compute(const kg_ref_inputs *in, size_t output, size_t unit, double *out)
{
    (void)output; /* the only one */
    const kg_host_tensor *x = kg_ref_tensor(in, "x");
    const kg_host_tensor *w = kg_ref_tensor(in, "w");
    const kg_host_tensor *b = kg_ref_tensor(in, "b");
    size_t cols = (size_t)kg_ref_symbol(in, "cols");
    double eps = kg_ref_param(in, "eps");
    if (!x || !w || !b || x->count < (unit + 1) * cols || w->count < cols || b->count < cols ||
        !(eps >= 0.0))
        return -1;
    if (cols == 0)
        return 0;
    size_t base = unit * cols;
    double sum = 0.0;
    for (size_t c = 0; c < cols; c++)
        sum += kg_ref_at(x, base + c);
    double mean = sum / (double)cols;
    double sum_sq_dev = 0.0;
    for (size_t c = 0; c < cols; c++) {
        double dev = kg_ref_at(x, base + c) - mean;
        sum_sq_dev += dev * dev;
    }
    double inv_std = 1.0 / sqrt(sum_sq_dev / (double)cols + eps);
    for (size_t c = 0; c < cols; c++)
        out[c] = (kg_ref_at(x, base + c) - mean) * inv_std * kg_ref_at(w, c) + kg_ref_at(b, c);
    return 0;
}

const kg_reference kg_reference_layernorm = {
    .workload = "layernorm",
    .needs = "x, w, b, eps, rows, cols",
    .output = "y",
    .layout = layernorm_layout,
    .compute = layernorm_compute,
};
