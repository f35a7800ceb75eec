/*
 * The fused_add_rmsnorm CPU reference against cases computed by hand: its
 * two outputs (x normalised, the residual updated), eps, a row that sums
 * to zero, and refusals.
 */
#include "kg_test.h"
#include "reference.h"

#include <math.h>

extern const kg_reference kg_reference_fused_add_rmsnorm;
static const kg_reference *ref = &kg_reference_fused_add_rmsnorm;

/* One row of `cols` f32 values each (the reference reads any dtype). */
static void run_case(const float *x, const float *residual, const float *w, int64_t cols,
                     double eps, const double *want_x, const double *want_residual)
{
    kg_host_tensor ts[3] = {
        {.name = "x", .dtype = KG_DTYPE_F32, .rank = 1, .count = (size_t)cols, .data = (void *)x},
        {.name = "residual",
         .dtype = KG_DTYPE_F32,
         .rank = 1,
         .count = (size_t)cols,
         .data = (void *)residual},
        {.name = "w", .dtype = KG_DTYPE_F32, .rank = 1, .count = (size_t)cols, .data = (void *)w},
    };
    kg_symtab sym;
    kg_symtab_init(&sym);
    kg_symtab_set(&sym, "rows", 1);
    kg_symtab_set(&sym, "cols", cols);
    kg_param_value params[1] = {{"eps", eps}};
    kg_ref_inputs in = {
        .tensors = ts, .tensor_count = 3, .symbols = &sym, .params = params, .param_count = 1};
    size_t units, len;
    for (size_t output = 0; output < 2; output++) {
        KG_CHECK_INT(ref->layout(&in, output, &units, &len), 0);
        KG_CHECK_INT(units, 1);
        KG_CHECK_INT(len, (size_t)cols);
        double out[4];
        KG_CHECK_INT(ref->compute(&in, output, 0, out), 0);
        const double *want = output == 0 ? want_x : want_residual;
        for (int64_t c = 0; c < cols; c++)
            KG_CHECK_NEAR(out[c], want[c], 1e-9);
    }
    KG_CHECK_INT(ref->layout(&in, 2, &units, &len), -1); /* there are two outputs */
    double ignored[4];
    KG_CHECK_INT(ref->compute(&in, 2, 0, ignored), -1);
    params[0].value = -1; /* a negative eps is no workload */
    KG_CHECK_INT(ref->compute(&in, 0, 0, ignored), -1);
}

int main(void)
{
    /* r = x + residual = [3, 1]; mean square (9 + 1) / 2 = 5, so x becomes
     * [3, 1 * 0.5] / sqrt(5) = [1.3416407865, 0.2236067977]. */
    run_case((const float[]){1, 2}, (const float[]){2, -1}, (const float[]){1, 0.5f}, 2, 0,
             (const double[]){3 / sqrt(5.0), 0.5 / sqrt(5.0)}, (const double[]){3, 1});
    /* A row summing to zero: eps keeps the root finite; x becomes 0. */
    run_case((const float[]){-0.5f}, (const float[]){0.5f}, (const float[]){1}, 1, 1e-6,
             (const double[]){0}, (const double[]){0});
    /* eps the size of the mean square: r = 0.001, mean square 1e-6, so
     * x = 0.001 / sqrt(2e-6) * 2 = sqrt(2) = 1.4142135624 (f32 0.001 kept
     * exactly as stored: the reference reads what the tensor holds). */
    double r = (double)0.001f;
    run_case((const float[]){0.001f}, (const float[]){0}, (const float[]){2}, 1, 1e-6,
             (const double[]){r / sqrt(r * r + 1e-6) * 2}, (const double[]){r});
    KG_CHECK_NEAR(r / sqrt(r * r + 1e-6) * 2, 1.4142135624, 1e-7);
    return kg_test_finish("test_reference_fused_add_rmsnorm");
}
