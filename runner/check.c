/* Comparing a device output with the CPU reference. */
#include "check.h"
#include "rng.h"
#include "tensors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t kg_poison_pattern(kg_dtype dtype, kg_poison poison, unsigned char out[4])
{
    /* Little-endian element bit patterns. f32 NaN 0x7fc0dead, f32 ~1e30;
     * bf16 NaN 0x7fde, bf16 ~1e30; f16 NaN 0x7ead, f16 65504. */
    uint32_t bits;
    size_t size;
    switch (dtype) {
    case KG_DTYPE_F32:
        bits = poison == KG_POISON_NAN ? 0x7fc0deadu : 0x7149f2cau;
        size = 4;
        break;
    case KG_DTYPE_BF16:
        bits = poison == KG_POISON_NAN ? 0x7fdeu : 0x7149u;
        size = 2;
        break;
    case KG_DTYPE_F16:
        bits = poison == KG_POISON_NAN ? 0x7eadu : 0x7bffu;
        size = 2;
        break;
    default:
        bits = poison == KG_POISON_NAN ? 0x5au : 0xa5u;
        size = 1;
    }
    for (size_t i = 0; i < size; i++)
        out[i] = (unsigned char)(bits >> (8 * i));
    return size;
}

static int holds_poison(kg_dtype dtype, kg_poison poison, const void *data, size_t index)
{
    unsigned char pattern[4];
    size_t size = kg_poison_pattern(dtype, poison, pattern);
    return size == kg_dtype_size(dtype) &&
           memcmp((const unsigned char *)data + index * size, pattern, size) == 0;
}

static int holds_nan_poison(kg_dtype dtype, const void *data, size_t index)
{
    return holds_poison(dtype, KG_POISON_NAN, data, index);
}

/* Running bounds of the reference values, for the degeneracy test. */
typedef struct want_stats {
    size_t finite, zero_ok;
    double lo, hi, min_abs;
} want_stats;

static int same_special(double got, double want)
{
    if (isnan(want))
        return isnan(got);
    if (isinf(want))
        return isinf(got) && signbit(got) == signbit(want);
    return isfinite(got);
}

static void compare_unit(const kg_tolerance *tol, const kg_host_tensor *out, const void *got,
                         size_t base, const double *want, size_t len, kg_check_result *r,
                         want_stats *ws)
{
    for (size_t j = 0; j < len; j++) {
        double g = kg_dtype_load(out->dtype, got, base + j), w = want[j];
        if (isfinite(w)) {
            if (ws->finite++ == 0)
                ws->lo = ws->hi = w, ws->min_abs = fabs(w);
            ws->lo = fmin(ws->lo, w);
            ws->hi = fmax(ws->hi, w);
            ws->min_abs = fmin(ws->min_abs, fabs(w));
            ws->zero_ok += fabs(w) <= tol->atol + tol->rtol * fabs(w);
        }
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
            r->unwritten += !isnan(w) && holds_nan_poison(out->dtype, got, base + j);
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
    want_stats ws = {0};
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
        compare_unit(tol, out, got, u * unit_len, want, unit_len, result, &ws);
    }
    free(want);
    result->passed = result->mismatches == 0;
    /* A sufficient test for "some constant passes": the midpoint of the
     * range is within tolerance of every value. */
    result->zeros_would_pass = ws.finite == result->checked && ws.zero_ok == ws.finite;
    result->constant_would_pass =
        ws.finite == result->checked && (ws.hi - ws.lo) / 2 <= tol->atol + tol->rtol * ws.min_abs;
    if (!result->passed && result->unwritten)
        snprintf(result->message, sizeof result->message,
                 "%zu of %zu checked elements wrong, %zu of them never written (still the poison "
                 "value); first wrong at index %zu: got %.9g, expected %.9g",
                 result->mismatches, result->checked, result->unwritten, result->first_bad_index,
                 result->first_bad_got, result->first_bad_want);
    else if (!result->passed)
        snprintf(result->message, sizeof result->message,
                 "%zu of %zu checked elements outside atol %g + rtol %g; first at index %zu: got "
                 "%.9g, expected %.9g",
                 result->mismatches, result->checked, tol->atol, tol->rtol, result->first_bad_index,
                 result->first_bad_got, result->first_bad_want);
    return KG_OK;
}

size_t kg_check_agreement(const kg_workload *w, const void *a, const void *b, size_t count,
                          size_t *first)
{
    kg_dtype t = w->tensors[w->output_index].dtype;
    const kg_tolerance *tol = &w->tolerance[t];
    size_t bad = 0;
    *first = 0;
    for (size_t i = 0; i < count; i++) {
        double x = kg_dtype_load(t, a, i), y = kg_dtype_load(t, b, i);
        /* Never written in either run: each still holds its own poison. */
        int both_unwritten = holds_nan_poison(t, a, i) && holds_poison(t, KG_POISON_FINITE, b, i);
        int ok = both_unwritten || (isnan(x) && isnan(y)) || x == y ||
                 (isfinite(x) && isfinite(y) && fabs(x - y) <= tol->atol + tol->rtol * fabs(x));
        if (!ok && bad++ == 0)
            *first = i;
    }
    return bad;
}

int kg_check_reference_not_degenerate(const kg_workload *w, uint64_t seed, kg_error *err)
{
    /* Zeros must fail on every smoke shape; a constant on at least one (a
     * one-column softmax is all ones, legitimately). */
    size_t constant_passes = 0;
    char constant_shape[128] = "";
    for (size_t s = 0; s < w->shape_count[KG_SIZE_SMOKE]; s++) {
        const kg_shape *shape = &w->shapes[KG_SIZE_SMOKE][s];
        kg_host_tensor *tensors;
        int rc = kg_tensors_create(w, shape, seed, &tensors, err);
        if (rc)
            return rc;
        /* The zero-filled output tensor stands in for a kernel's answer. */
        const kg_host_tensor *out = &tensors[w->output_index];
        kg_check_result r;
        rc = kg_check_output(w, shape, tensors, out->data, seed, &r, err);
        kg_tensors_free(tensors, w->tensor_count);
        if (rc)
            return rc;
        kg_dtype t = w->tensors[w->output_index].dtype;
        if (r.checked && r.zeros_would_pass)
            return kg_error_set(err, KG_ERR_INVALID,
                                "%s: smoke shape %s: the reference output is degenerate: an "
                                "all-zeros output would pass the tolerance (atol %g, rtol %g), so "
                                "a kernel that computes nothing could pass; widen the inputs or "
                                "tighten the tolerance",
                                w->name, shape->name, w->tolerance[t].atol, w->tolerance[t].rtol);
        if (r.constant_would_pass && constant_passes++ == 0)
            snprintf(constant_shape, sizeof constant_shape, "%s", shape->name);
    }
    if (w->shape_count[KG_SIZE_SMOKE] && constant_passes == w->shape_count[KG_SIZE_SMOKE])
        return kg_error_set(err, KG_ERR_INVALID,
                            "%s: the reference output is degenerate: on every smoke shape (%s, "
                            "...) a constant output would pass the tolerance, so a kernel that "
                            "computes nothing could pass; widen the inputs or tighten the "
                            "tolerance",
                            w->name, constant_shape);
    return KG_OK;
}
