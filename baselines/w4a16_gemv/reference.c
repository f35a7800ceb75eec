/*
 * CPU reference for w4a16_gemv, the int4 weight-only linear layer of
 * decode: y[m][n] = sum_k x[m][k] * (q[n][k] - 8) * scales[n][k / group],
 * in double precision from the bf16 and u8 inputs, one row m of y (N
 * outputs) per unit. See baselines/w4a16_gemv/README.md.
 *
 * Weight layout: W is u8 [N, K/2], row n holding q[n][0..K) two to a
 * byte, low nibble first: byte j of the row is q[n][2j] | q[n][2j+1] << 4.
 * Symmetric quantisation with the fixed zero point 8 (GPTQ's sym=True),
 * one bf16 scale per `group` consecutive k of a row.
 */
#include "reference.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A group must fill whole 16-byte chunks of a row (32 nibbles), so that
 * kernels may read every row in 16-byte pieces with one scale each. */
#define GROUP_QUANTUM 32

typedef struct sizes {
    int64_t M, N, K, group;
} sizes;

static int read_sizes(const kg_symtab *t, sizes *s)
{
    if (!kg_symtab_get(t, "M", &s->M) || !kg_symtab_get(t, "N", &s->N) ||
        !kg_symtab_get(t, "K", &s->K) || !kg_symtab_get(t, "group", &s->group))
        return -1;
    return 0;
}

/* groups = K / group, the scales' second dimension; refuses a K that is
 * not made of whole groups, and groups not made of whole 32-nibble chunks. */
static int derive(kg_symtab *t, kg_error *err)
{
    sizes s;
    if (read_sizes(t, &s))
        return kg_error_set(err, KG_ERR_INVALID, "needs M, N, K and group");
    if (s.M < 1 || s.N < 1 || s.K < 1 || s.K > (INT64_C(1) << 24))
        return kg_error_set(err, KG_ERR_INVALID, "M, N and K must be positive, K at most 2^24");
    if (s.group < GROUP_QUANTUM || s.group % GROUP_QUANTUM != 0 || s.K % s.group != 0)
        return kg_error_set(err, KG_ERR_INVALID,
                            "group = %lld must be a multiple of %d dividing K = %lld",
                            (long long)s.group, GROUP_QUANTUM, (long long)s.K);
    if (kg_symtab_set(t, "groups", s.K / s.group))
        return kg_error_set(err, KG_ERR_INVALID, "too many symbols");
    return KG_OK;
}

/* One unit per row of the M x N output. */
static int layout(const kg_ref_inputs *in, size_t output, size_t *unit_count, size_t *unit_len)
{
    int64_t m = kg_ref_symbol(in, "M"), n = kg_ref_symbol(in, "N");
    if (output != 0 || m < 1 || n < 1)
        return -1;
    *unit_count = (size_t)m;
    *unit_len = (size_t)n;
    return 0;
}

/* Sum over one row of W of x_row[k] * (q[k] - 8) * scale[k / group]:
 * each group's sum of x times its integer nibbles (every product exact in
 * double: 8 bits of bf16 mantissa times 4 bits), then times its scale. */
static double dot_row(const double *x_row, const uint8_t *w_row, const kg_host_tensor *scales,
                      size_t scale_at, const sizes *s)
{
    double total = 0;
    for (int64_t g = 0; g < s->K / s->group; g++) {
        double part = 0;
        for (int64_t k = g * s->group; k < (g + 1) * s->group; k += 2) {
            uint8_t byte = w_row[k / 2];
            part += x_row[k] * (double)((int)(byte & 15) - 8);
            part += x_row[k + 1] * (double)((int)(byte >> 4) - 8);
        }
        total += part * kg_ref_at(scales, scale_at + (size_t)g);
    }
    return total;
}

static int compute(const kg_ref_inputs *in, size_t output, size_t unit, double *out)
{
    const kg_host_tensor *x = kg_ref_tensor(in, "x"), *w = kg_ref_tensor(in, "W"),
                         *scales = kg_ref_tensor(in, "scales");
    sizes s;
    if (output != 0 || read_sizes(in->symbols, &s) || !x || !w || !scales ||
        w->dtype != KG_DTYPE_U8 || s.group < 2 || s.group % 2 != 0 || s.K % s.group != 0 ||
        unit >= (size_t)s.M)
        return -1;
    size_t n = (size_t)s.N, k = (size_t)s.K, groups = (size_t)(s.K / s.group);
    if (x->count != (size_t)s.M * k || w->count != n * k / 2 || scales->count != n * groups)
        return -1;
    double *x_row = malloc(k * sizeof *x_row);
    if (!x_row)
        return -1;
    for (size_t kk = 0; kk < k; kk++)
        x_row[kk] = kg_ref_at(x, unit * k + kk);
    const uint8_t *bytes = w->data;
    for (size_t j = 0; j < n; j++)
        out[j] = dot_row(x_row, bytes + j * k / 2, scales, j * groups, &s);
    free(x_row);
    return 0;
}

const kg_reference kg_reference_w4a16_gemv = {
    .workload = "w4a16_gemv",
    .needs = "x, W, scales, M, N, K, group",
    .output = "y",
    .layout = layout,
    .compute = compute,
    .derive = derive,
};
