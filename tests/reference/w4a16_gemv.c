/*
 * The w4a16_gemv CPU reference against cases worked by hand: the nibble
 * order (low nibble first), the zero point 8, one scale per group, rows of
 * x and of W, all-zero weights, the derived `groups` and the group sizes
 * it refuses.
 */
#include "kg_test.h"
#include "reference.h"

#include <stdint.h>

extern const kg_reference kg_reference_w4a16_gemv;
static const kg_reference *ref = &kg_reference_w4a16_gemv;

static void set_sizes(kg_symtab *sym, int64_t m, int64_t n, int64_t k, int64_t group)
{
    kg_symtab_init(sym);
    kg_symtab_set(sym, "M", m);
    kg_symtab_set(sym, "N", n);
    kg_symtab_set(sym, "K", k);
    kg_symtab_set(sym, "group", group);
}

/* Runs the reference on f32 x and scales (it reads any dtype) and u8 W,
 * and compares every output with `want` (M x N). */
static void run_case(int64_t m, int64_t n, int64_t k, int64_t group, const float *x,
                     const uint8_t *w, const float *scales, const double *want)
{
    kg_host_tensor ts[3] = {
        {.name = "x",
         .dtype = KG_DTYPE_F32,
         .rank = 2,
         .count = (size_t)(m * k),
         .data = (void *)x},
        {.name = "W",
         .dtype = KG_DTYPE_U8,
         .rank = 2,
         .count = (size_t)(n * k / 2),
         .data = (void *)w},
        {.name = "scales",
         .dtype = KG_DTYPE_F32,
         .rank = 2,
         .count = (size_t)(n * k / group),
         .data = (void *)scales},
    };
    kg_symtab sym;
    set_sizes(&sym, m, n, k, group);
    kg_ref_inputs in = {.tensors = ts, .tensor_count = 3, .symbols = &sym};
    size_t units, len;
    KG_CHECK_INT(ref->layout(&in, 0, &units, &len), 0);
    KG_CHECK_INT(units, (size_t)m);
    KG_CHECK_INT(len, (size_t)n);
    KG_CHECK_INT(ref->layout(&in, 1, &units, &len), -1); /* one output only */
    double out[8];
    for (int64_t row = 0; row < m; row++) {
        KG_CHECK_INT(ref->compute(&in, 0, (size_t)row, out), 0);
        for (int64_t j = 0; j < n; j++)
            KG_CHECK_NEAR(out[j], want[row * n + j], 1e-12);
    }
    KG_CHECK_INT(ref->compute(&in, 0, (size_t)m, out), -1); /* past the last row */
    ts[1].count--;                                          /* W of the wrong size */
    KG_CHECK_INT(ref->compute(&in, 0, 0, out), -1);
}

static void test_values(void)
{
    /* K = 4 in two groups of 2. Byte 0x69: low nibble 9 (k = 0, weight
     * 9 - 8 = +1), high nibble 6 (k = 1, -2); byte 0xf0: low 0 (k = 2, -8),
     * high 15 (k = 3, +7). y = 0.5 * (1 * 1 + 2 * -2)
     * + 0.25 * (-1 * -8 + 0.5 * 7) = -1.5 + 2.875 = 1.375. */
    run_case(1, 1, 4, 2, (const float[]){1, 2, -1, 0.5f}, (const uint8_t[]){0x69, 0xf0},
             (const float[]){0.5f, 0.25f}, (const double[]){1.375});

    /* Two rows of x, two rows of W, K = 2: W row 0 = 0x8f (k = 0: 15 -> +7,
     * k = 1: 8 -> 0), scale 1; row 1 = 0x08 (k = 0: 8 -> 0, k = 1: 0 -> -8),
     * scale 2. x = [1, 10], [3, -1]:
     * y[0] = [1 * 7, 2 * (10 * -8)] = [7, -160];
     * y[1] = [3 * 7, 2 * (-1 * -8)] = [21, 16]. */
    run_case(2, 2, 2, 2, (const float[]){1, 10, 3, -1}, (const uint8_t[]){0x8f, 0x08},
             (const float[]){1, 2}, (const double[]){7, -160, 21, 16});

    /* Every nibble 8 (bytes 0x88): every weight 0, whatever x and scale. */
    run_case(1, 3, 2, 2, (const float[]){1e30f, -3}, (const uint8_t[]){0x88, 0x88, 0x88},
             (const float[]){5, 6, 7}, (const double[]){0, 0, 0});
}

/* groups = K / group; a group must be a multiple of 32 dividing K. */
static void test_derive(void)
{
    kg_symtab sym;
    kg_error err = {0};
    int64_t groups = 0;
    set_sizes(&sym, 5, 65, 96, 32);
    KG_CHECK_INT(ref->derive(&sym, &err), KG_OK);
    KG_CHECK(kg_symtab_get(&sym, "groups", &groups));
    KG_CHECK_INT(groups, 3);
    set_sizes(&sym, 1, 1, 14336, 128);
    KG_CHECK_INT(ref->derive(&sym, &err), KG_OK);
    KG_CHECK(kg_symtab_get(&sym, "groups", &groups));
    KG_CHECK_INT(groups, 112);
    set_sizes(&sym, 1, 1, 96, 48); /* not a multiple of 32 */
    KG_CHECK(ref->derive(&sym, &err) != KG_OK);
    set_sizes(&sym, 1, 1, 96, 16); /* below 32 */
    KG_CHECK(ref->derive(&sym, &err) != KG_OK);
    set_sizes(&sym, 1, 1, 100, 32); /* K not whole groups */
    KG_CHECK(ref->derive(&sym, &err) != KG_OK);
    set_sizes(&sym, 0, 1, 128, 128); /* no rows */
    KG_CHECK(ref->derive(&sym, &err) != KG_OK);
}

int main(void)
{
    test_values();
    test_derive();
    return kg_test_finish("test_reference_w4a16_gemv");
}
