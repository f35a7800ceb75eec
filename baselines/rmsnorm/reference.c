/* CPU reference for rmsnorm: y[r][c] = x[r][c] / sqrt(mean_c(x[r][c]^2) + eps) * w[c],
 * in double precision, one row per unit. */
#include "reference.h"

#include <math.h>

/* One unit per row of the rows x cols output. */
static int rmsnorm_layout(const kg_ref_inputs *in, size_t output, size_t *unit_count,
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

/* Row `unit`: the root mean square of the row, then scale by 1/rms and w. */
static int rmsnorm_compute(const kg_ref_inputs *in, size_t output, size_t unit, double *out)
{
    (void)output; /* the only one */
    const kg_host_tensor *x = kg_ref_tensor(in, "x");
    const kg_host_tensor *w = kg_ref_tensor(in, "w");
    size_t cols = (size_t)kg_ref_symbol(in, "cols");
    double eps = kg_ref_param(in, "eps");
    if (!x || !w || x->count < (unit + 1) * cols || w->count < cols || !(eps >= 0.0))
        return -1;
    size_t base = unit * cols;
    double sum_sq = 0.0;
    for (size_t c = 0; c < cols; c++) {
        double v = kg_ref_at(x, base + c);
        sum_sq += v * v;
    }
    double inv_rms = 1.0 / sqrt(sum_sq / (double)cols + eps);
    for (size_t c = 0; c < cols; c++)
        out[c] = kg_ref_at(x, base + c) * inv_rms * kg_ref_at(w, c);
    return 0;
}

const kg_reference kg_reference_rmsnorm = {
    .workload = "rmsnorm",
    .needs = "x, w, eps, rows, cols",
    .output = "y",
    .layout = rmsnorm_layout,
    .compute = rmsnorm_compute,
};
