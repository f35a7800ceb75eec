/* Rotating input sets, per-run perturbations and nudges. */
#include "inputs.h"
#include "rng.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int kg_input_sets_create(const kg_workload *w, const kg_shape *shape, const uint64_t *seeds,
                         size_t count, kg_input_sets *out, kg_error *err)
{
    memset(out, 0, sizeof *out);
    if (count < 1 || count > KG_MAX_INPUT_SETS)
        return kg_error_set(err, KG_ERR_INVALID, "%zu input sets; expected 1 to %d", count,
                            KG_MAX_INPUT_SETS);
    for (size_t k = 0; k < count; k++) {
        int rc = kg_tensors_create_set(w, shape, seeds[k], 0, &out->sets[k], err);
        if (rc) {
            kg_input_sets_free(w, out);
            return rc;
        }
        out->seeds[k] = seeds[k];
        out->count++;
    }
    return KG_OK;
}

void kg_input_sets_free(const kg_workload *w, kg_input_sets *s)
{
    for (size_t k = 0; k < s->count; k++)
        kg_tensors_free(s->sets[k], w->tensor_count);
    memset(s, 0, sizeof *s);
}

size_t kg_input_set_bytes(const kg_workload *w, const kg_host_tensor *set)
{
    size_t total = 0;
    for (size_t i = 0; i < w->tensor_count; i++)
        if (w->tensors[i].is_input)
            total += kg_tensor_bytes(&set[i]);
    return total;
}

size_t kg_input_set_count(size_t set_bytes, size_t processes, size_t device_copies,
                          uint64_t device_bytes)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    uint64_t host = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
    size_t k = KG_MAX_INPUT_SETS;
    while (k > 1 && ((host && (uint64_t)k * set_bytes * processes > host / 4) ||
                     (device_bytes && (uint64_t)k * set_bytes * device_copies > device_bytes / 4)))
        k--;
    return k;
}

/* A fresh value of tensor `spec`'s distribution. */
static double draw_value(const kg_init *init, kg_rng *rng)
{
    if (init->dist == KG_DIST_NORMAL)
        return init->a + init->b * kg_rng_normal(rng);
    return init->a + (init->b - init->a) * kg_rng_uniform(rng);
}

void kg_inputs_perturb(const kg_workload *w, kg_host_tensor *set, uint64_t seed,
                       kg_perturbation *out)
{
    out->count = 0;
    if (!seed)
        return;
    /* Drawn inputs only: index tensors must stay valid. An element is
     * picked uniformly over all of them, so large tensors get most. */
    size_t total = 0;
    for (size_t i = 0; i < w->tensor_count; i++)
        if (w->tensors[i].is_input && w->tensors[i].init.dist != KG_DIST_WORKLOAD)
            total += set[i].count;
    if (total == 0)
        return;
    kg_rng rng;
    kg_rng_seed(&rng, seed);
    size_t n = 1 + (size_t)kg_rng_below(&rng, KG_MAX_PERTURBED);
    for (size_t k = 0; k < n; k++) {
        size_t pick = (size_t)kg_rng_below(&rng, total);
        for (size_t i = 0; i < w->tensor_count; i++) {
            const kg_tensor_spec *spec = &w->tensors[i];
            if (!spec->is_input || spec->init.dist == KG_DIST_WORKLOAD)
                continue;
            if (pick >= set[i].count) {
                pick -= set[i].count;
                continue;
            }
            kg_dtype_store(set[i].dtype, set[i].data, pick, draw_value(&spec->init, &rng));
            out->tensor[out->count] = i;
            out->element[out->count] = pick;
            out->count++;
            break;
        }
    }
}

int kg_inputs_nudge(const kg_workload *w, const kg_shape *shape, kg_host_tensor *set, uint64_t seed,
                    kg_error *err)
{
    kg_perturbation changed;
    kg_inputs_perturb(w, set, seed, &changed);
    if (!w->reference->nudge)
        return KG_OK;
    kg_ref_inputs in = {.tensors = set,
                        .tensor_count = w->tensor_count,
                        .symbols = &shape->symbols,
                        .params = kg_shape_params(w, shape),
                        .param_count = w->param_count};
    if (w->reference->nudge(&in, set, seed ^ 0x6e75646765ull) != 0)
        return kg_error_set(err, KG_ERR_INVALID,
                            "%s: shape %s: the reference could not nudge "
                            "the index tensors",
                            w->name, shape->name);
    return KG_OK;
}
