/*
 * CPU reference for gemv, the decode-time linear layer: y[m][n] = sum_k
 * x[m][k] * W[n][k], with W row-major [N, K] (torch's weight layout), in
 * double precision from the bf16 inputs, one row m of y (N outputs) per
 * unit. See baselines/gemv/README.md.
 */
#include "reference.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* One unit per row of the M x N output. */
static int gemv_layout(const kg_ref_inputs *in, size_t output, size_t *unit_count, size_t *unit_len)
{
    (void)output; /* the only one */
    int64_t m = kg_ref_symbol(in, "M"), n = kg_ref_symbol(in, "N");
    if (m < 0 || n < 0)
        return -1;
    *unit_count = (size_t)m;
    *unit_len = (size_t)n;
    return 0;
}

/* A bf16 element as a double: its bits are the upper half of a float's. */
static double bf16_at(const uint16_t *bits, size_t i)
{
    uint32_t word = (uint32_t)bits[i] << 16;
    float f;
    memcpy(&f, &word, sizeof f);
    return (double)f;
}

/* Row `unit` of y. A row costs N*K multiply-adds, so bf16 weights (the
 * workload's dtype) are decoded directly rather than through kg_ref_at;
 * both paths give the same doubles. */
static int gemv_compute(const kg_ref_inputs *in, size_t output, size_t unit, double *out)
{
    (void)output; /* the only one */
    const kg_host_tensor *x = kg_ref_tensor(in, "x"), *w = kg_ref_tensor(in, "W");
    int64_t n_sym = kg_ref_symbol(in, "N"), k_sym = kg_ref_symbol(in, "K");
    if (!x || !w || n_sym < 0 || k_sym < 1)
        return -1;
    size_t n = (size_t)n_sym, k = (size_t)k_sym;
    if (x->count < (unit + 1) * k || w->count < n * k)
        return -1;
    double *xr = malloc(k * sizeof *xr);
    if (!xr)
        return -1;
    for (size_t kk = 0; kk < k; kk++)
        xr[kk] = kg_ref_at(x, unit * k + kk);
    int fast = w->dtype == KG_DTYPE_BF16;
    for (size_t j = 0; j < n; j++) {
        double s = 0.0;
        for (size_t kk = 0; kk < k; kk++)
            s += xr[kk] * (fast ? bf16_at(w->data, j * k + kk) : kg_ref_at(w, j * k + kk));
        out[j] = s;
    }
    free(xr);
    return 0;
}

const kg_reference kg_reference_gemv = {
    .workload = "gemv",
    .needs = "x, W, M, N, K",
    .output = "y",
    .layout = gemv_layout,
    .compute = gemv_compute,
};
