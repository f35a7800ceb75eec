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

void kg_output_layout_of(const kg_workload *w, const kg_host_tensor *tensors, kg_output_layout *out)
{
    memset(out, 0, sizeof *out);
    for (size_t k = 0; k < w->output_count; k++) {
        const kg_host_tensor *t = &tensors[w->outputs[k]];
        out->tensor[k] = w->outputs[k];
        out->dtype[k] = t->dtype;
        out->elements[k] = t->count;
        out->offset[k] = out->bytes;
        out->bytes += t->count * kg_dtype_size(t->dtype);
    }
    out->count = w->output_count;
}

void kg_answer_free(kg_answer *a)
{
    for (size_t k = 0; k < KG_MAX_OUTPUTS; k++) {
        free(a->part[k].units);
        free(a->part[k].want);
    }
    memset(a, 0, sizeof *a);
}

/* Output k's part of an answer: every unit, or a sample drawn from `rng`. */
static int answer_part(const kg_workload *w, const kg_shape *shape, const kg_ref_inputs *in,
                       size_t k, size_t elements, kg_rng *rng, size_t max_units,
                       kg_answer_part *out, kg_error *err)
{
    const char *name = w->tensors[w->outputs[k]].name;
    size_t units = 0, unit_len = 0;
    if (w->reference->layout(in, k, &units, &unit_len) != 0 || units * unit_len != elements)
        return kg_error_set(err, KG_ERR_INVALID,
                            "%s: shape %s: the reference's layout (%zu x %zu) does not cover "
                            "output %s (%zu elements)",
                            w->name, shape->name, units, unit_len, name, elements);
    out->unit_len = unit_len;
    out->sampled = elements > KG_CHECK_FULL_LIMIT && units > KG_CHECK_SAMPLE_UNITS;
    size_t todo = out->sampled ? KG_CHECK_SAMPLE_UNITS : units;
    if (max_units && todo > max_units) {
        todo = max_units;
        out->sampled = 1;
    }
    out->units = malloc((todo ? todo : 1) * sizeof *out->units);
    size_t values = todo * unit_len;
    out->want = malloc((values ? values : 1) * sizeof *out->want);
    if (!out->units || !out->want)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory for the reference's answer");
    for (size_t u = 0; u < todo; u++) {
        /* Sampling with replacement keeps this O(samples); a repeated unit
         * costs a little time and changes no verdict. */
        size_t unit = out->sampled ? (size_t)kg_rng_below(rng, units) : u;
        if (w->reference->compute(in, k, unit, out->want + u * unit_len) != 0)
            return kg_error_set(err, KG_ERR_INVALID,
                                "%s: shape %s: the CPU reference rejected these inputs (output "
                                "%s, unit %zu)",
                                w->name, shape->name, name, unit);
        out->units[u] = unit;
        out->unit_count++;
    }
    return KG_OK;
}

int kg_answer_compute(const kg_workload *w, const kg_shape *shape, const kg_host_tensor *tensors,
                      uint64_t seed, size_t max_units, kg_answer *out, kg_error *err)
{
    memset(out, 0, sizeof *out);
    kg_output_layout_of(w, tensors, &out->layout);
    kg_ref_inputs in = {.tensors = tensors,
                        .tensor_count = w->tensor_count,
                        .symbols = &shape->symbols,
                        .params = kg_shape_params(w, shape),
                        .param_count = w->param_count};
    for (size_t k = 0; k < w->output_count; k++) {
        /* Each output's sample from the same seed: where outputs share a
         * layout, the same rows of each are looked at. */
        kg_rng rng;
        kg_rng_seed(&rng, seed);
        int rc = answer_part(w, shape, &in, k, out->layout.elements[k], &rng, max_units,
                             &out->part[k], err);
        if (rc) {
            kg_answer_free(out);
            return rc;
        }
        out->sampled |= out->part[k].sampled;
    }
    return KG_OK;
}

/* The result's message: the first mismatch, in the output it is in. */
static void describe_failure(const kg_workload *w, const kg_tolerance *first_tol,
                             kg_check_result *r)
{
    char where[96] = "";
    if (w->output_count > 1)
        snprintf(where, sizeof where, " of output %s", r->first_bad_output);
    if (r->unwritten)
        snprintf(r->message, sizeof r->message,
                 "%zu of %zu checked elements wrong, %zu of them still holding the value the "
                 "output was filled with; first wrong at index %zu%s: got %.9g, expected %.9g",
                 r->mismatches, r->checked, r->unwritten, r->first_bad_index, where,
                 r->first_bad_got, r->first_bad_want);
    else
        snprintf(r->message, sizeof r->message,
                 "%zu of %zu checked elements outside atol %g + rtol %g; first at index %zu%s: "
                 "got %.9g, expected %.9g",
                 r->mismatches, r->checked, first_tol->atol, first_tol->rtol, r->first_bad_index,
                 where, r->first_bad_got, r->first_bad_want);
}

void kg_check_answer(const kg_workload *w, const kg_answer *a, const void *got,
                     const kg_output_fills *fills, kg_check_result *result)
{
    memset(result, 0, sizeof *result);
    result->sampled = a->sampled;
    const kg_tolerance *first_tol = NULL;
    for (size_t k = 0; k < a->layout.count; k++) {
        const kg_tolerance *tol = kg_workload_tolerance(w, a->layout.tensor[k]);
        const kg_answer_part *part = &a->part[k];
        const kg_fill_pattern *fill = fills && fills->fill[k].pool_count ? &fills->fill[k] : NULL;
        const unsigned char *base = (const unsigned char *)got + a->layout.offset[k];
        size_t bad_before = result->mismatches, checked_before = result->checked;
        want_stats ws = {0};
        for (size_t u = 0; u < part->unit_count; u++)
            compare_unit(tol, a->layout.dtype[k], base, part->units[u] * part->unit_len,
                         part->want + u * part->unit_len, part->unit_len, fill, result, &ws);
        if (!bad_before && result->mismatches) {
            first_tol = tol;
            snprintf(result->first_bad_output, sizeof result->first_bad_output, "%s",
                     w->tensors[a->layout.tensor[k]].name);
        }
        /* Any output that a kernel could leave as zeros, or as some
         * constant (the midpoint of its range is within tolerance of every
         * value), makes the check degenerate. A one-element output (a
         * count) is always "some constant": whether it can be guessed
         * without the work is the inputs' business (a recheck redraws
         * them), so only outputs of several elements are asked. */
        size_t checked = result->checked - checked_before;
        result->zeros_would_pass |= checked && ws.finite == checked && ws.zero_ok == ws.finite;
        result->constant_would_pass |= checked > 1 && ws.finite == checked &&
                                       (ws.hi - ws.lo) / 2 <= tol->atol + tol->rtol * ws.min_abs;
    }
    result->passed = result->mismatches == 0;
    if (!result->passed)
        describe_failure(w, first_tol, result);
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
    return fill_a && fill_b && fill_a->pool_count && fill_b->pool_count &&
           kg_fill_bits(fill_a, i) != kg_fill_bits(fill_b, i) && kg_fill_holds(fill_a, a, i) &&
           kg_fill_holds(fill_b, b, i);
}

static const kg_fill_pattern *fill_of_output(const kg_output_fills *fills, size_t k)
{
    return fills && k < fills->count ? &fills->fill[k] : NULL;
}

size_t kg_check_never_written(const kg_output_layout *layout, const void *a,
                              const kg_output_fills *fill_a, const void *b,
                              const kg_output_fills *fill_b, kg_output_at *first)
{
    size_t n = 0;
    memset(first, 0, sizeof *first);
    for (size_t k = 0; k < layout->count; k++) {
        const unsigned char *ak = (const unsigned char *)a + layout->offset[k];
        const unsigned char *bk = (const unsigned char *)b + layout->offset[k];
        const kg_fill_pattern *fa = fill_of_output(fill_a, k), *fb = fill_of_output(fill_b, k);
        for (size_t i = 0; i < layout->elements[k]; i++)
            if (never_written_at(ak, fa, bk, fb, i) && n++ == 0)
                *first = (kg_output_at){k, i};
    }
    return n;
}

size_t kg_check_agreement(const kg_workload *w, const kg_output_layout *layout, const void *a,
                          const kg_output_fills *fill_a, const void *b,
                          const kg_output_fills *fill_b, kg_output_at *first)
{
    size_t bad = 0;
    memset(first, 0, sizeof *first);
    for (size_t k = 0; k < layout->count; k++) {
        const kg_tolerance *tol = kg_workload_tolerance(w, layout->tensor[k]);
        kg_dtype t = layout->dtype[k];
        const unsigned char *ak = (const unsigned char *)a + layout->offset[k];
        const unsigned char *bk = (const unsigned char *)b + layout->offset[k];
        const kg_fill_pattern *fa = fill_of_output(fill_a, k), *fb = fill_of_output(fill_b, k);
        for (size_t i = 0; i < layout->elements[k]; i++) {
            double x = kg_dtype_load(t, ak, i), y = kg_dtype_load(t, bk, i);
            int ok =
                (isnan(x) && isnan(y)) || x == y ||
                (isfinite(x) && isfinite(y) && fabs(x - y) <= tol->atol + tol->rtol * fabs(x)) ||
                never_written_at(ak, fa, bk, fb, i);
            if (!ok && bad++ == 0)
                *first = (kg_output_at){k, i};
        }
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
        /* Zero-filled outputs stand in for a kernel's answer. */
        kg_output_layout layout;
        kg_output_layout_of(w, tensors, &layout);
        void *zeros = calloc(layout.bytes ? layout.bytes : 1, 1);
        kg_check_result r;
        rc = zeros ? kg_check_output(w, shape, tensors, zeros, seed, &r, err)
                   : kg_error_set(err, KG_ERR_MEMORY, "out of memory");
        free(zeros);
        kg_tensors_free(tensors, w->tensor_count);
        if (rc)
            return rc;
        if (r.checked && r.zeros_would_pass)
            return kg_error_set(err, KG_ERR_INVALID,
                                "%s: smoke shape %s: the reference output is degenerate: an "
                                "all-zeros output would pass its tolerance, so a kernel that "
                                "computes nothing could pass; widen the inputs or tighten the "
                                "tolerance",
                                w->name, shape->name);
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
