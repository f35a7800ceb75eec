/* Host tensors and seeded input generation. */
#include "tensors.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

size_t kg_tensor_bytes(const kg_host_tensor *t)
{
    return t->count * kg_dtype_size(t->dtype);
}

/* Each tensor gets its own stream derived from the run seed and its name,
 * so adding a tensor to a workload does not change the others' values. */
static uint64_t tensor_seed(uint64_t seed, const char *name)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *name; name++)
        h = (h ^ (unsigned char)*name) * 1099511628211ull;
    return seed ^ h;
}

/* Student's t with 2 degrees of freedom: infinite variance, so a few
 * elements of every tensor are tens or hundreds of standard deviations out.
 * Clamped at 1000 so that f16 sums stay finite. */
static double heavy_tailed(kg_rng *rng)
{
    double z = kg_rng_normal(rng);
    double u = kg_rng_uniform(rng);
    double chi2 = -2.0 * log(1.0 - u); /* chi-squared with 2 dof */
    double t = z / sqrt(chi2 / 2.0 + 1e-300);
    return t > 1000 ? 1000 : t < -1000 ? -1000 : t;
}

/* Draws tensor `t` as `init` says, from `seed`; a workload-filled tensor
 * (index tensors) from the reference with `layout_seed`. */
static void draw_one(const kg_workload *w, const kg_shape *shape, const kg_tensor_spec *spec,
                     const kg_init *init, kg_host_tensor *t, uint64_t seed, int heavy,
                     uint64_t layout_seed)
{
    if (init->dist == KG_DIST_WORKLOAD) {
        /* Checked at load: the reference has a fill function. */
        w->reference->fill(&shape->symbols, layout_seed, t);
        return;
    }
    kg_rng rng;
    kg_rng_seed(&rng, tensor_seed(seed, spec->name));
    size_t row = t->rank > 0 && t->dims[t->rank - 1] > 0 ? (size_t)t->dims[t->rank - 1] : 1;
    double offset = 0;
    for (size_t i = 0; i < t->count; i++) {
        if (i % row == 0 && init->row_offset_hi > init->row_offset_lo)
            offset = init->row_offset_lo +
                     (init->row_offset_hi - init->row_offset_lo) * kg_rng_uniform(&rng);
        double v;
        if (init->dist == KG_DIST_NORMAL)
            v = init->a + init->b * (heavy ? heavy_tailed(&rng) : kg_rng_normal(&rng));
        else
            v = init->a + (init->b - init->a) * kg_rng_uniform(&rng);
        v += offset;
        if (init->neg_inf_fraction > 0 && i % row != 0 &&
            kg_rng_uniform(&rng) < init->neg_inf_fraction)
            v = -INFINITY;
        kg_dtype_store(t->dtype, t->data, i, v);
    }
}

void kg_tensors_draw(const kg_workload *w, const kg_shape *shape, kg_host_tensor *tensors,
                     kg_draw kind, size_t stress_case, uint64_t seed)
{
    for (size_t i = 0; i < w->tensor_count; i++) {
        const kg_tensor_spec *spec = &w->tensors[i];
        if (!spec->is_input)
            continue;
        const kg_init *init = &spec->init;
        if (kind == KG_DRAW_STRESS && stress_case < w->stress_count &&
            w->stress[stress_case].inits[i].dist != KG_DIST_NONE)
            init = &w->stress[stress_case].inits[i];
        draw_one(w, shape, spec, init, &tensors[i], seed, kind == KG_DRAW_HEAVY_TAILED,
                 kind == KG_DRAW_FRESH ? seed | 1 : 0);
    }
}

void kg_tensors_fill_inputs(const kg_workload *w, const kg_shape *shape, kg_host_tensor *tensors,
                            uint64_t seed)
{
    kg_tensors_draw(w, shape, tensors, KG_DRAW_BASE, 0, seed);
}

void kg_tensors_free(kg_host_tensor *tensors, size_t count)
{
    if (!tensors)
        return;
    for (size_t i = 0; i < count; i++)
        free(tensors[i].data);
    free(tensors);
}

int kg_tensors_create(const kg_workload *w, const kg_shape *shape, uint64_t seed,
                      kg_host_tensor **out, kg_error *err)
{
    return kg_tensors_create_set(w, shape, seed, 1, out, err);
}

int kg_tensors_create_set(const kg_workload *w, const kg_shape *shape, uint64_t seed,
                          int with_output, kg_host_tensor **out, kg_error *err)
{
    *out = NULL;
    kg_host_tensor *ts = calloc(w->tensor_count, sizeof *ts);
    if (!ts)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    for (size_t i = 0; i < w->tensor_count; i++) {
        const kg_tensor_spec *spec = &w->tensors[i];
        kg_host_tensor *t = &ts[i];
        t->name = spec->name;
        t->dtype = spec->dtype;
        t->rank = spec->rank;
        size_t count = 1;
        for (int d = 0; d < spec->rank; d++) {
            char what[96];
            snprintf(what, sizeof what, "tensor %s dimension %d", spec->name, d);
            int rc = kg_eval_for_shape(spec->dims[d], shape, w->name, what, &t->dims[d], err);
            if (rc) {
                kg_tensors_free(ts, w->tensor_count);
                return rc;
            }
            if (t->dims[d] < 0 || __builtin_mul_overflow(count, (size_t)t->dims[d], &count) ||
                count > SIZE_MAX / 16) {
                kg_tensors_free(ts, w->tensor_count);
                return kg_error_set(err, KG_ERR_INVALID,
                                    "%s: shape %s: tensor %s has an invalid size (dimension %d "
                                    "= %lld)",
                                    w->name, shape->name, spec->name, d, (long long)t->dims[d]);
            }
        }
        t->count = count;
    }
    /* Refused before allocating: with overcommit a huge calloc succeeds and
     * the process is killed later, while filling it. */
    uint64_t total = 0;
    for (size_t i = 0; i < w->tensor_count; i++)
        total += kg_tensor_bytes(&ts[i]);
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    uint64_t host = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
    if (host && total > host / 2) {
        kg_tensors_free(ts, w->tensor_count);
        return kg_error_set(err, KG_ERR_MEMORY,
                            "%s: shape %s needs %.1f MiB of host memory for its tensors, more than "
                            "half of this machine's %.1f MiB; refused before allocating",
                            w->name, shape->name, (double)total / 1048576.0,
                            (double)host / 1048576.0);
    }
    for (size_t i = 0; i < w->tensor_count; i++) {
        kg_host_tensor *t = &ts[i];
        size_t count = t->count;
        if (!w->tensors[i].is_input && !with_output)
            continue; /* data stays NULL: the reference never reads it */
        /* At least one byte so that an empty tensor still has a buffer. */
        t->data = calloc(count ? count : 1, kg_dtype_size(t->dtype));
        if (!t->data) {
            kg_tensors_free(ts, w->tensor_count);
            return kg_error_set(err, KG_ERR_MEMORY,
                                "%s: shape %s: cannot allocate %zu bytes on the host for %s",
                                w->name, shape->name, count * kg_dtype_size(t->dtype), t->name);
        }
    }
    kg_tensors_fill_inputs(w, shape, ts, seed);
    *out = ts;
    return KG_OK;
}
