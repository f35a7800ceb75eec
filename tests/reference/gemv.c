/*
 * The gemv CPU reference against cases computed by hand: y[m][n] =
 * sum_k x[m][k] * W[n][k] with W stored [N, K], from the bf16 inputs in
 * double precision, one row m of y per unit.
 */
#include "kg_test.h"
#include "reference.h"

#include <stdint.h>
#include <string.h>

extern const kg_reference kg_reference_gemv;
static const kg_reference *ref = &kg_reference_gemv;

static kg_host_tensor tensor(const char *name, kg_dtype dtype, int64_t rows, int64_t cols,
                             void *data)
{
    kg_host_tensor t = {.name = name, .dtype = dtype, .rank = 2, .data = data};
    t.dims[0] = rows;
    t.dims[1] = cols;
    t.count = (size_t)(rows * cols);
    return t;
}

static void set_symbols(kg_symtab *sym, int m, int n, int k)
{
    kg_symtab_init(sym);
    kg_symtab_set(sym, "M", m);
    kg_symtab_set(sym, "N", n);
    kg_symtab_set(sym, "K", k);
}

/* M = 2, N = 3, K = 5, every value exact in bf16. W's rows are e1,
 * (1,1,1,1,1) and (0.5,-1,2,0,0.25), so y[m] = (x[m][0], sum of x[m],
 * 0.5 x0 - x1 + 2 x2 + 0.25 x4):
 *   x[0] = (1,2,3,4,5):      1, 15, 0.5 - 2 + 6 + 1.25 = 5.75
 *   x[1] = (-1,0.5,0,2,-3): -1, -1.5, -0.5 - 0.5 - 0.75 = -1.75
 * Read as [K, N] instead, W would give other numbers. `w_dtype` f32 takes
 * the reference's generic path, bf16 its direct decoding: the same doubles. */
static void by_hand(kg_dtype w_dtype)
{
    const double xv[2][5] = {{1, 2, 3, 4, 5}, {-1, 0.5, 0, 2, -3}};
    const double wv[3][5] = {{1, 0, 0, 0, 0}, {1, 1, 1, 1, 1}, {0.5, -1, 2, 0, 0.25}};
    const double want[2][3] = {{1, 15, 5.75}, {-1, -1.5, -1.75}};
    uint16_t x[10];
    float w_storage[15]; /* large enough for 15 f32 or bf16 values */
    for (int m = 0; m < 2; m++)
        for (int k = 0; k < 5; k++)
            kg_dtype_store(KG_DTYPE_BF16, x, (size_t)(m * 5 + k), xv[m][k]);
    for (int n = 0; n < 3; n++)
        for (int k = 0; k < 5; k++)
            kg_dtype_store(w_dtype, w_storage, (size_t)(n * 5 + k), wv[n][k]);
    kg_host_tensor ts[] = {tensor("x", KG_DTYPE_BF16, 2, 5, x),
                           tensor("W", w_dtype, 3, 5, w_storage)};
    kg_symtab sym;
    set_symbols(&sym, 2, 3, 5);
    kg_ref_inputs in = {.tensors = ts, .tensor_count = 2, .symbols = &sym};
    size_t units = 0, len = 0;
    KG_CHECK_INT(ref->layout(&in, 0, &units, &len), 0);
    KG_CHECK_INT(units, 2); /* one unit per row of x */
    KG_CHECK_INT(len, 3);
    for (size_t m = 0; m < 2; m++) {
        double out[3];
        KG_CHECK_INT(ref->compute(&in, 0, m, out), 0);
        for (int n = 0; n < 3; n++)
            KG_CHECK_MSG(out[n] == want[m][n], "W %s, y[%zu][%d] = %.17g, by hand %.17g",
                         kg_dtype_name(w_dtype), m, n, out[n], want[m][n]);
    }
}

/* The inputs are what is stored: 1/3 in bf16 is 1.0101011b x 2^-2 =
 * 171/512 = 0.333984375 (the ninth significant bit and the rest,
 * 1010..., round up), so x = 3 gives 1.001953125, not 1. */
static void reads_bf16_values(void)
{
    uint16_t x[1], w[1];
    kg_dtype_store(KG_DTYPE_BF16, x, 0, 3.0);
    kg_dtype_store(KG_DTYPE_BF16, w, 0, 1.0 / 3.0);
    kg_host_tensor ts[] = {tensor("x", KG_DTYPE_BF16, 1, 1, x),
                           tensor("W", KG_DTYPE_BF16, 1, 1, w)};
    kg_symtab sym;
    set_symbols(&sym, 1, 1, 1);
    kg_ref_inputs in = {.tensors = ts, .tensor_count = 2, .symbols = &sym};
    double out[1];
    KG_CHECK_INT(ref->compute(&in, 0, 0, out), 0);
    KG_CHECK_NEAR(out[0], 1.001953125, 0);
}

/* Tensors smaller than the symbols say are refused, not read past. */
static void refuses_short_tensors(void)
{
    uint16_t x[4] = {0}, w[4] = {0};
    kg_host_tensor ts[] = {tensor("x", KG_DTYPE_BF16, 1, 4, x),
                           tensor("W", KG_DTYPE_BF16, 1, 4, w)};
    kg_symtab sym;
    set_symbols(&sym, 2, 1, 4); /* x would need 2 rows */
    kg_ref_inputs in = {.tensors = ts, .tensor_count = 2, .symbols = &sym};
    double out[1];
    KG_CHECK_INT(ref->compute(&in, 0, 0, out), 0);
    KG_CHECK_INT(ref->compute(&in, 0, 1, out), -1);
    set_symbols(&sym, 1, 2, 4); /* W would need 2 rows */
    KG_CHECK_INT(ref->compute(&in, 0, 0, out), -1);
}

int main(void)
{
    by_hand(KG_DTYPE_BF16);
    by_hand(KG_DTYPE_F32);
    reads_bf16_values();
    refuses_short_tensors();
    return kg_test_finish("test_reference_gemv");
}
