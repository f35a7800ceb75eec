/* Comparing a device output with the CPU reference. */
#include "check.h"
#include "rng.h"
#include "tensors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void compare_unit(const kg_tolerance *tol, kg_dtype dtype, const void *got, size_t base,
                         const double *want, size_t len, const kg_fill_pattern *fill,
                         kg_check_result *r, want_stats *ws)
{
    for (size_t j = 0; j < len; j++) {
        double g = kg_dtype_load(dtype, got, base + j), w = want[j];
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
            r->unwritten += fill && kg_fill_holds(fill, got, base + j);
            if (r->mismatches == 0) {
                r->first_bad_index = base + j;
                r->first_bad_got = g;
                r->first_bad_want = w;
            }
            r->mismatches++;
        }
    }
}

void kg_answer_free(kg_answer *a)
{
    free(a->units);
    free(a->want);
    memset(a, 0, sizeof *a);
}

int kg_answer_compute(const kg_workload *w, const kg_shape *shape, const kg_host_tensor *tensors,
                      uint64_t seed, size_t max_units, kg_answer *out, kg_error *err)
{
    memset(out, 0, sizeof *out);
    const kg_host_tensor *o = &tensors[w->output_index];
    kg_ref_inputs in = {.tensors = tensors,
                        .tensor_count = w->tensor_count,
                        .symbols = &shape->symbols,
                        .params = kg_shape_params(w, shape),
                        .param_count = w->param_count};
    size_t units = 0, unit_len = 0;
    if (w->reference->layout(&in, &units, &unit_len) != 0 || units * unit_len != o->count)
        return kg_error_set(err, KG_ERR_INVALID,
                            "%s: shape %s: the reference's layout (%zu x %zu) does not cover the "
                            "output (%zu elements)",
                            w->name, shape->name, units, unit_len, o->count);
    out->unit_len = unit_len;
    out->sampled = o->count > KG_CHECK_FULL_LIMIT && units > KG_CHECK_SAMPLE_UNITS;
    size_t todo = out->sampled ? KG_CHECK_SAMPLE_UNITS : units;
    if (max_units && todo > max_units) {
        todo = max_units;
        out->sampled = 1;
    }
    out->units = malloc((todo ? todo : 1) * sizeof *out->units);
    size_t values = todo * unit_len;
    out->want = malloc((values ? values : 1) * sizeof *out->want);
    if (!out->units || !out->want) {
        kg_answer_free(out);
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory for the reference's answer");
    }
    kg_rng rng;
    kg_rng_seed(&rng, seed);
    for (size_t k = 0; k < todo; k++) {
        /* Sampling with replacement keeps this O(samples); a repeated unit
         * costs a little time and changes no verdict. */
        size_t u = out->sampled ? (size_t)kg_rng_below(&rng, units) : k;
        if (w->reference->compute(&in, u, out->want + k * unit_len) != 0) {
            kg_answer_free(out);
            return kg_error_set(err, KG_ERR_INVALID,
                                "%s: shape %s: the CPU reference rejected these inputs (unit %zu)",
                                w->name, shape->name, u);
        }
        out->units[k] = u;
        out->unit_count++;
    }
    return KG_OK;
}

void kg_check_answer(const kg_workload *w, const kg_answer *a, const void *got,
                     const kg_fill_pattern *fill, kg_check_result *result)
{
    memset(result, 0, sizeof *result);
    kg_dtype dtype = w->tensors[w->output_index].dtype;
    const kg_tolerance *tol = &w->tolerance[dtype];
    want_stats ws = {0};
    result->sampled = a->sampled;
    for (size_t k = 0; k < a->unit_count; k++)
        compare_unit(tol, dtype, got, a->units[k] * a->unit_len, a->want + k * a->unit_len,
                     a->unit_len, fill, result, &ws);
    result->passed = result->mismatches == 0;
    /* A sufficient test for "some constant passes": the midpoint of the
     * range is within tolerance of every value. */
    result->zeros_would_pass = ws.finite == result->checked && ws.zero_ok == ws.finite;
    result->constant_would_pass =
        ws.finite == result->checked && (ws.hi - ws.lo) / 2 <= tol->atol + tol->rtol * ws.min_abs;
    if (!result->passed && result->unwritten)
        snprintf(result->message, sizeof result->message,
                 "%zu of %zu checked elements wrong, %zu of them still holding the value the "
                 "output was filled with; first wrong at index %zu: got %.9g, expected %.9g",
                 result->mismatches, result->checked, result->unwritten, result->first_bad_index,
                 result->first_bad_got, result->first_bad_want);
    else if (!result->passed)
        snprintf(result->message, sizeof result->message,
                 "%zu of %zu checked elements outside atol %g + rtol %g; first at index %zu: got "
                 "%.9g, expected %.9g",
                 result->mismatches, result->checked, tol->atol, tol->rtol, result->first_bad_index,
                 result->first_bad_got, result->first_bad_want);
}

int kg_check_output(const kg_workload *w, const kg_shape *shape, const kg_host_tensor *tensors,
                    const void *got, uint64_t seed, kg_check_result *result, kg_error *err)
{
    memset(result, 0, sizeof *result);
    kg_answer a;
    int rc = kg_answer_compute(w, shape, tensors, seed, 0, &a, err);
    if (rc)
        return rc;
    kg_check_answer(w, &a, got, NULL, result);
    kg_answer_free(&a);
    return KG_OK;
}

/* Never written in either run: each still holds its own fill, and the two
 * fills differ there (where they agree, nothing tells). */
static int never_written_at(const void *a, const kg_fill_pattern *fill_a, const void *b,
                            const kg_fill_pattern *fill_b, size_t i)
{
    return fill_a && fill_b && kg_fill_bits(fill_a, i) != kg_fill_bits(fill_b, i) &&
           kg_fill_holds(fill_a, a, i) && kg_fill_holds(fill_b, b, i);
}

size_t kg_check_never_written(kg_dtype dtype, const void *a, const kg_fill_pattern *fill_a,
                              const void *b, const kg_fill_pattern *fill_b, size_t count,
                              size_t *first)
{
    (void)dtype;
    size_t n = 0;
    *first = 0;
    for (size_t i = 0; i < count; i++)
        if (never_written_at(a, fill_a, b, fill_b, i) && n++ == 0)
            *first = i;
    return n;
}

size_t kg_check_agreement(const kg_workload *w, const void *a, const kg_fill_pattern *fill_a,
                          const void *b, const kg_fill_pattern *fill_b, size_t count, size_t *first)
{
    kg_dtype t = w->tensors[w->output_index].dtype;
    const kg_tolerance *tol = &w->tolerance[t];
    size_t bad = 0;
    *first = 0;
    for (size_t i = 0; i < count; i++) {
        double x = kg_dtype_load(t, a, i), y = kg_dtype_load(t, b, i);
        int ok = (isnan(x) && isnan(y)) || x == y ||
                 (isfinite(x) && isfinite(y) && fabs(x - y) <= tol->atol + tol->rtol * fabs(x)) ||
                 never_written_at(a, fill_a, b, fill_b, i);
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
