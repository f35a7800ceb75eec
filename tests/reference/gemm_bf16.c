/*
 * The gemm_bf16 CPU reference against cases computed by hand: w is read in
 * torch's [n][k] layout (a case that would fail if it were read as [k][n]),
 * values as bf16 stores them, and a k longer than the reference's chunk.
 */
#include "kg_test.h"
#include "reference.h"

#include <stdlib.h>

extern const kg_reference kg_reference_gemm_bf16;
static const kg_reference *ref = &kg_reference_gemm_bf16;

static kg_ref_inputs inputs(kg_host_tensor *ts, kg_symtab *sym, int64_t m, int64_t n, int64_t k)
{
    kg_symtab_init(sym);
    kg_symtab_set(sym, "m", m);
    kg_symtab_set(sym, "n", n);
    kg_symtab_set(sym, "k", k);
    kg_ref_inputs in = {.tensors = ts, .tensor_count = 2, .symbols = sym};
    return in;
}

static kg_host_tensor bf16_tensor(const char *name, const double *values, size_t count)
{
    kg_host_tensor t = {.name = name, .dtype = KG_DTYPE_BF16, .rank = 1, .count = count};
    t.dims[0] = (int64_t)count;
    t.data = calloc(count, 2);
    for (size_t i = 0; i < count; i++)
        kg_dtype_store(KG_DTYPE_BF16, t.data, i, values[i]);
    return t;
}

/* x = [[1, 2], [0.5, -0.25]], w = [[3, 4], [-1, 0.5]] (rows of w are
 * outputs): y = [[1*3 + 2*4, 1*-1 + 2*0.5], [0.5*3 - 0.25*4, 0.5*-1 - 0.25*0.5]]
 * = [[11, 0], [0.5, -0.625]]. Read as [k][n], w would give y[0][0] = 1*3 +
 * 2*-1 = 1. */
static void two_by_two(void)
{
    kg_host_tensor ts[2] = {bf16_tensor("x", (const double[]){1, 2, 0.5, -0.25}, 4),
                            bf16_tensor("w", (const double[]){3, 4, -1, 0.5}, 4)};
    kg_symtab sym;
    kg_ref_inputs in = inputs(ts, &sym, 2, 2, 2);
    size_t units, len;
    KG_CHECK_INT(ref->layout(&in, 0, &units, &len), 0);
    KG_CHECK_INT(units, 2);
    KG_CHECK_INT(len, 2);
    double out[2];
    KG_CHECK_INT(ref->compute(&in, 0, 0, out), 0);
    KG_CHECK_NEAR(out[0], 11, 0);
    KG_CHECK_NEAR(out[1], 0, 0);
    KG_CHECK_INT(ref->compute(&in, 0, 1, out), 0);
    KG_CHECK_NEAR(out[0], 0.5, 0);
    KG_CHECK_NEAR(out[1], -0.625, 0);
    KG_CHECK_INT(ref->compute(&in, 0, 2, out), -1); /* no third row of x */
    free(ts[0].data);
    free(ts[1].data);
}

/* k = 5000 (past the 4096 chunk), x all ones, w all 0.5: y = 2500, and
 * 1/3 as bf16 is 0.333984375, so x = 1/3 gives 5000 * 0.333984375 * 0.5. */
static void long_k(void)
{
    double *ones = malloc(5000 * sizeof *ones), *halves = malloc(5000 * sizeof *halves);
    for (int i = 0; i < 5000; i++)
        ones[i] = 1.0, halves[i] = 0.5;
    kg_host_tensor ts[2] = {bf16_tensor("x", ones, 5000), bf16_tensor("w", halves, 5000)};
    kg_symtab sym;
    kg_ref_inputs in = inputs(ts, &sym, 1, 1, 5000);
    double out[1];
    KG_CHECK_INT(ref->compute(&in, 0, 0, out), 0);
    KG_CHECK_NEAR(out[0], 2500, 0);
    for (int i = 0; i < 5000; i++)
        kg_dtype_store(KG_DTYPE_BF16, ts[0].data, (size_t)i, 1.0 / 3.0);
    KG_CHECK_INT(ref->compute(&in, 0, 0, out), 0);
    KG_CHECK_NEAR(out[0], 5000 * 0.333984375 * 0.5, 1e-9);
    free(ts[0].data);
    free(ts[1].data);
    free(ones);
    free(halves);
}

int main(void)
{
    two_by_two();
    long_k();
    return kg_test_finish("test_reference_gemm_bf16");
}
