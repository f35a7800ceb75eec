/* Comparing a device output with the CPU reference. */
#include "check.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int same_special(double got, double want)
{
    if (isnan(want))
        return isnan(got);
    if (isinf(want))
        return isinf(got) && signbit(got) == signbit(want);
    return isfinite(got);
}

static void compare_unit(const kg_tolerance *tol, const kg_host_tensor *out, const void *got,
                         size_t base, const double *want, size_t len, kg_check_result *r)
{
    for (size_t j = 0; j < len; j++) {
        double g = kg_dtype_load(out->dtype, got, base + j), w = want[j];
        int ok = same_special(g, w);
        if (ok && isfinite(w)) {
            double abs_err = fabs(g - w);
            double rel_err = w != 0 ? abs_err / fabs(w) : (abs_err > 0 ? INFINITY : 0);
            if (abs_err > r->max_abs_err)
                r->max_abs_err = abs_err;
            if (rel_err > r->max_rel_err)
                r->max_rel_err = rel_err;
            ok = abs_err <= tol->atol + tol->rtol * fabs(w);
        }
        r->checked++;
        if (!ok) {
            if (r->mismatches == 0) {
                r->first_bad_index = base + j;
                r->first_bad_got = g;
                r->first_bad_want = w;
            }
            r->mismatches++;
        }
    }
}

int kg_check_output(const kg_workload *w, const kg_shape *shape, const kg_host_tensor *tensors,
                    const void *got, uint64_t seed, kg_check_result *result, kg_error *err)
{
    memset(result, 0, sizeof *result);
    const kg_host_tensor *out = &tensors[w->output_index];
    kg_ref_inputs in = {.tensors = tensors,
                        .tensor_count = w->tensor_count,
                        .symbols = &shape->symbols,
                        .params = w->params,
                        .param_count = w->param_count};
    size_t units = 0, unit_len = 0;
    if (w->reference->layout(&in, &units, &unit_len) != 0 || units * unit_len != out->count)
        return kg_error_set(err, KG_ERR_INVALID,
                            "%s: shape %s: the reference's layout (%zu x %zu) does not cover the "
                            "output (%zu elements)",
                            w->name, shape->name, units, unit_len, out->count);
    double *want = malloc((unit_len ? unit_len : 1) * sizeof *want);
    if (!want)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    const kg_tolerance *tol = &w->tolerance[out->dtype];
    kg_rng rng;
    kg_rng_seed(&rng, seed);
    result->sampled = out->count > KG_CHECK_FULL_LIMIT && units > KG_CHECK_SAMPLE_UNITS;
    size_t todo = result->sampled ? KG_CHECK_SAMPLE_UNITS : units;
    for (size_t k = 0; k < todo; k++) {
        /* Sampling with replacement keeps this O(samples); a repeated unit
         * costs a little time and changes no verdict. */
        size_t u = result->sampled ? (size_t)kg_rng_below(&rng, units) : k;
        if (w->reference->compute(&in, u, want) != 0) {
            free(want);
            return kg_error_set(err, KG_ERR_INVALID,
                                "%s: shape %s: the CPU reference rejected these inputs (unit %zu)",
                                w->name, shape->name, u);
        }
        compare_unit(tol, out, got, u * unit_len, want, unit_len, result);
    }
    free(want);
    result->passed = result->mismatches == 0;
    if (!result->passed)
        snprintf(result->message, sizeof result->message,
                 "%zu of %zu checked elements outside atol %g + rtol %g; first at index %zu: got "
                 "%.9g, expected %.9g",
                 result->mismatches, result->checked, tol->atol, tol->rtol, result->first_bad_index,
                 result->first_bad_got, result->first_bad_want);
    return KG_OK;
}
