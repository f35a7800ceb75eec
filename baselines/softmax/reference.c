/* CPU reference for softmax: y[r][c] = exp(x[r][c] - max_r) / sum_c exp(x[r][c] - max_r),
 * in double precision, one row per unit. */
#include "reference.h"

#include <math.h>

/* One unit per row of the rows x cols output. */
static int softmax_layout(const kg_ref_inputs *in, size_t output, size_t *unit_count,
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

/* Row `unit`: subtract the row maximum, exponentiate, normalise. */
static int softmax_compute(const kg_ref_inputs *in, size_t output, size_t unit, double *out)
{
    (void)output; /* the only one */
    const kg_host_tensor *x = kg_ref_tensor(in, "x");
    size_t cols = (size_t)kg_ref_symbol(in, "cols");
    if (!x || x->count < (unit + 1) * cols)
        return -1;
    size_t base = unit * cols;
    double max = -INFINITY;
    for (size_t c = 0; c < cols; c++) {
        double v = kg_ref_at(x, base + c);
        if (v > max)
            max = v;
    }
    double sum = 0.0;
    for (size_t c = 0; c < cols; c++) {
        out[c] = exp(kg_ref_at(x, base + c) - max);
        sum += out[c];
    }
    for (size_t c = 0; c < cols; c++)
        out[c] /= sum;
    return 0;
}

const kg_reference kg_reference_softmax = {
    .workload = "softmax",
    .needs = "x, rows, cols",
    .output = "y",
    .layout = softmax_layout,
    .compute = softmax_compute,
};
