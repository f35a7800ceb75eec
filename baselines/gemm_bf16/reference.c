/* CPU reference for gemm_bf16: y[m][n] = sum_k x[m][k] * w[n][k] (w in
 * torch's [out, in] layout), in double precision from the bf16 values as
 * stored, one row of y per unit. */
#include "reference.h"

#include <stdint.h>

static int gemm_bf16_layout(const kg_ref_inputs *in, size_t output, size_t *unit_count,
                            size_t *unit_len)
{
    (void)output; /* the only one */
    int64_t m = kg_ref_symbol(in, "m"), n = kg_ref_symbol(in, "n");
    if (m < 0 || n < 0)
        return -1;
    *unit_count = (size_t)m;
    *unit_len = (size_t)n;
    return 0;
}

/* Row `unit` of y: a dot product of x's row with each row of w, the row of x
 * converted to double once. */
static int gemm_bf16_compute(const kg_ref_inputs *in, size_t output, size_t unit, double *out)
{
    (void)output; /* the only one */
    const kg_host_tensor *x = kg_ref_tensor(in, "x");
    const kg_host_tensor *w = kg_ref_tensor(in, "w");
    size_t n = (size_t)kg_ref_symbol(in, "n"), k = (size_t)kg_ref_symbol(in, "k");
    if (!x || !w || x->count < (unit + 1) * k || w->count < n * k)
        return -1;
    double row[4096];
    for (size_t j = 0; j < n; j++)
        out[j] = 0.0;
    /* In chunks of 4096 values of k, so any k fits the stack buffer. */
    for (size_t k0 = 0; k0 < k; k0 += 4096) {
        size_t len = k - k0 < 4096 ? k - k0 : 4096;
        for (size_t kk = 0; kk < len; kk++)
            row[kk] = kg_ref_at(x, unit * k + k0 + kk);
        for (size_t j = 0; j < n; j++) {
            double acc = 0.0;
            for (size_t kk = 0; kk < len; kk++)
                acc += row[kk] * kg_ref_at(w, j * k + k0 + kk);
            out[j] += acc;
        }
    }
    return 0;
}

const kg_reference kg_reference_gemm_bf16 = {
    .workload = "gemm_bf16",
    .needs = "x, w, m, n, k",
    .output = "y",
    .layout = gemm_bf16_layout,
    .compute = gemm_bf16_compute,
};
