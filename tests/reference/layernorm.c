/*
 * The layernorm CPU reference against rows computed by hand:
 * y[c] = (x[c] - mean) / sqrt(var + eps) * w[c] + b[c], var the biased
 * variance (sum of squared deviations / cols, as torch.nn.LayerNorm).
 */
#include "kg_test.h"
#include "reference.h"

extern const kg_reference kg_reference_layernorm;
static const kg_reference *ref = &kg_reference_layernorm;

#define MAX_COLS 8

/* One row of `cols` values with its weight and bias. */
typedef struct hand_row {
    const char *what;
    int cols;
    double eps;
    float x[MAX_COLS], w[MAX_COLS], b[MAX_COLS];
    double want[MAX_COLS];
} hand_row;

static kg_host_tensor tensor(const char *name, size_t count, float *data)
{
    kg_host_tensor t = {
        .name = name, .dtype = KG_DTYPE_F32, .rank = 1, .count = count, .data = data};
    t.dims[0] = (int64_t)count;
    return t;
}

/* Runs the reference on one row laid out as row 1 of a 2-row matrix (row 0
 * all zeros), so that the row offset is exercised too. */
static void check_row(const hand_row *h)
{
    float x[2 * MAX_COLS] = {0}, y[2 * MAX_COLS] = {0};
    float w[MAX_COLS], b[MAX_COLS];
    for (int c = 0; c < h->cols; c++) {
        x[h->cols + c] = h->x[c];
        w[c] = h->w[c];
        b[c] = h->b[c];
    }
    kg_host_tensor ts[] = {tensor("x", (size_t)(2 * h->cols), x), tensor("w", (size_t)h->cols, w),
                           tensor("b", (size_t)h->cols, b), tensor("y", (size_t)(2 * h->cols), y)};
    kg_symtab sym;
    kg_symtab_init(&sym);
    kg_symtab_set(&sym, "rows", 2);
    kg_symtab_set(&sym, "cols", h->cols);
    kg_param_value params[1] = {{"eps", h->eps}};
    kg_ref_inputs in = {
        .tensors = ts, .tensor_count = 4, .symbols = &sym, .params = params, .param_count = 1};
    size_t units = 0, len = 0;
    KG_CHECK_INT(ref->layout(&in, 0, &units, &len), 0);
    KG_CHECK_INT(units, 2);
    KG_CHECK_INT(len, h->cols);
    double out[MAX_COLS];
    KG_CHECK_INT(ref->compute(&in, 0, 1, out), 0);
    for (int c = 0; c < h->cols; c++)
        KG_CHECK_MSG(fabs(out[c] - h->want[c]) <= 1e-12 * (1.0 + fabs(h->want[c])),
                     "%s: column %d: %.17g, by hand %.17g", h->what, c, out[c], h->want[c]);
}

/* 1/sqrt(1.25), the inverse standard deviation of {1, 2, 3, 4}: mean 2.5,
 * squared deviations 2.25, 0.25, 0.25, 2.25, their mean 5/4. */
#define INV_STD_1234 0.89442719099991586

static const hand_row rows[] = {
    /* One column: x equals its mean, so x - mean = 0 and y = b. */
    {"cols=1", 1, 1e-5, {7}, {2}, {0.5f}, {0.5}},
    /* A constant row: every deviation 0, y = b. */
    {"constant", 4, 1e-5, {3, 3, 3, 3}, {1, 1, 1, 1}, {-1, -1, -1, -1}, {-1, -1, -1, -1}},
    /* {1, 2, 3, 4}, eps 0, w = 1, b = 0: the deviations -1.5, -0.5, 0.5, 1.5
     * times 1/sqrt(1.25). */
    {"1..4",
     4,
     0.0,
     {1, 2, 3, 4},
     {1, 1, 1, 1},
     {0, 0, 0, 0},
     {-1.5 * INV_STD_1234, -0.5 * INV_STD_1234, 0.5 * INV_STD_1234, 1.5 * INV_STD_1234}},
    /* The same row offset by 1e7 (integers below 2^24: exact in float). The
     * answer is unchanged; a one-pass E[x^2] - E[x]^2 in double would lose
     * about 1e14 * 2^-52 ~ 0.02 of the variance 1.25 here. */
    {"1..4 + 1e7",
     4,
     0.0,
     {1e7f + 1, 1e7f + 2, 1e7f + 3, 1e7f + 4},
     {1, 1, 1, 1},
     {0, 0, 0, 0},
     {-1.5 * INV_STD_1234, -0.5 * INV_STD_1234, 0.5 * INV_STD_1234, 1.5 * INV_STD_1234}},
    /* Weight and bias per column, eps 0.75: var + eps = 1.25 + 0.75 = 2, so
     * the scale is 1/sqrt(2) = 0.70710678118654752; then
     * -1.5 s * 1 + 0, -0.5 s * 2 + 1, 0.5 s * 0.5 - 1, 1.5 s * -1 + 0.25. */
    {"w, b, eps",
     4,
     0.75,
     {1, 2, 3, 4},
     {1, 2, 0.5f, -1},
     {0, 1, -1, 0.25f},
     {-1.0606601717798213, 0.29289321881345248, -0.82322330470336313, -0.81066017177982129}},
    /* {0, 2}: mean 1, biased variance (1 + 1) / 2 = 1 (the unbiased one
     * would be 2): y = -1, 1. */
    {"biased variance", 2, 0.0, {0, 2}, {1, 1}, {0, 0}, {-1, 1}},
    /* {0, 2} with eps 3: var + eps = 4, scale 1/2: y = -0.5, 0.5. */
    {"eps", 2, 3.0, {0, 2}, {1, 1}, {0, 0}, {-0.5, 0.5}},
};

int main(void)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        check_row(&rows[i]);

    /* A negative eps is not a layer norm: the reference refuses it. */
    float x[8] = {0}, w[4] = {1, 1, 1, 1}, b[4] = {0}, y[8];
    kg_host_tensor ts[] = {tensor("x", 8, x), tensor("w", 4, w), tensor("b", 4, b),
                           tensor("y", 8, y)};
    kg_symtab sym;
    kg_symtab_init(&sym);
    kg_symtab_set(&sym, "rows", 2);
    kg_symtab_set(&sym, "cols", 4);
    kg_param_value params[1] = {{"eps", -1.0}};
    kg_ref_inputs in = {
        .tensors = ts, .tensor_count = 4, .symbols = &sym, .params = params, .param_count = 1};
    double out[4];
    KG_CHECK_INT(ref->compute(&in, 0, 0, out), -1);
    return kg_test_finish("test_reference_layernorm");
}
