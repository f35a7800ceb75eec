/* CPU reference for log_softmax: y[r][c] = (x[r][c] - max_r) - log(sum_c exp(x[r][c] - max_r)),
 * as torch.nn.functional.log_softmax, in double precision, one row per unit. A -inf logit gives
 * -inf and adds nothing to the sum. */
#include "reference.h"

#include <math.h>

/* One unit per row of the rows x vocab output. */
static int log_softmax_layout(const kg_ref_inputs *in, size_t output, size_t *unit_count,
                              size_t *unit_len)
{
    (void)output; /* the only one */
    int64_t rows = kg_ref_symbol(in, "rows"), vocab = kg_ref_symbol(in, "vocab");
    if (rows < 0 || vocab < 0)
        return -1;
    *unit_count = (size_t)rows;
    *unit_len = (size_t)vocab;
    return 0;
}

/* Row `unit`: the maximum, the log of the sum of exp(x - max), then (x - max) - that log. */
static int log_softmax_compute(const kg_ref_inputs *in, size_t output, size_t unit, double *out)
{
    (void)output; /* the only one */
    const kg_host_tensor *x = kg_ref_tensor(in, "x");
    size_t vocab = (size_t)kg_ref_symbol(in, "vocab");
    if (!x || x->count < (unit + 1) * vocab)
        return -1;
    size_t base = unit * vocab;
    double max = -INFINITY;
    for (size_t c = 0; c < vocab; c++) {
        double v = kg_ref_at(x, base + c);
        if (v > max)
            max = v;
    }
    double sum = 0.0;
    for (size_t c = 0; c < vocab; c++)
        sum += exp(kg_ref_at(x, base + c) - max);
    double log_sum = log(sum);
    for (size_t c = 0; c < vocab; c++)
        out[c] = (kg_ref_at(x, base + c) - max) - log_sum;
    return 0;
}

const kg_reference kg_reference_log_softmax = {
    .workload = "log_softmax",
    .needs = "x, rows, vocab",
    .output = "y",
    .layout = log_softmax_layout,
    .compute = log_softmax_compute,
};
