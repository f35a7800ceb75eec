/* CPU reference for gemm: C[m][n] = sum_k A[m][k] * B[k][n], row-major, in double
 * precision, one row of C per unit. */
#include "reference.h"

#include <stdint.h>

/* One unit per row of the m x n output. */
static int gemm_layout(const kg_ref_inputs *in, size_t output, size_t *unit_count, size_t *unit_len)
{
    (void)output; /* the only one */
    int64_t m = kg_ref_symbol(in, "m"), n = kg_ref_symbol(in, "n");
    if (m < 0 || n < 0)
        return -1;
    *unit_count = (size_t)m;
    *unit_len = (size_t)n;
    return 0;
}

/* Row `unit` of C: accumulate A[unit][kk] * B[kk][:] over kk, so B is read row by row.
 * A row costs k*n multiply-adds, so f32 inputs (the usual case) are read directly
 * rather than through kg_ref_at; both paths compute the same doubles. */
static int gemm_compute(const kg_ref_inputs *in, size_t output, size_t unit, double *out)
{
    (void)output; /* the only one */
    const kg_host_tensor *a = kg_ref_tensor(in, "A");
    const kg_host_tensor *b = kg_ref_tensor(in, "B");
    size_t n = (size_t)kg_ref_symbol(in, "n"), k = (size_t)kg_ref_symbol(in, "k");
    if (!a || !b || a->count < (unit + 1) * k || b->count < k * n)
        return -1;
    for (size_t j = 0; j < n; j++)
        out[j] = 0.0;
    int fast = a->dtype == KG_DTYPE_F32 && b->dtype == KG_DTYPE_F32;
    const float *bf = fast ? (const float *)b->data : NULL;
    for (size_t kk = 0; kk < k; kk++) {
        double av = kg_ref_at(a, unit * k + kk);
        size_t brow = kk * n;
        if (fast) {
            for (size_t j = 0; j < n; j++)
                out[j] += av * (double)bf[brow + j];
        } else {
            for (size_t j = 0; j < n; j++)
                out[j] += av * kg_ref_at(b, brow + j);
        }
    }
    return 0;
}

const kg_reference kg_reference_gemm = {
    .workload = "gemm",
    .needs = "A, B, m, n, k",
    .output = "C",
    .layout = gemm_layout,
    .compute = gemm_compute,
};
