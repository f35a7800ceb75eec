/* Autotune sweeps over an entry's swept defines. */
#include "sweep.h"
#include "record_keys.h"
#include "stats.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* "BLOCK_M=64 BLOCK_N=32" */
static void describe(const kg_kernel_entry *e, const size_t *digit, char *out, size_t size)
{
    out[0] = '\0';
    for (size_t k = 0; k < e->sweep_count; k++) {
        size_t len = strlen(out);
        snprintf(out + len, size - len, "%s%s=%lld", k ? " " : "", e->sweep_names[k],
                 (long long)e->sweep_values[k][digit[k]]);
    }
}

/* Times one configuration; *median is NAN when it could not run. */
static void time_config(kg_build_cache *cache, const kg_workload *w, const kg_kernel_entry *e,
                        const kg_shape *shape, const kg_run_context *around,
                        const kg_symtab *overrides, const kg_sweep_settings *settings,
                        double *median, cJSON *entry)
{
    *median = NAN;
    kg_prepared *p = NULL;
    kg_build_info build;
    kg_error err = {0};
    int rc = kg_prepare(cache, w, e, shape, overrides, around->inputs, &p, &build, &err);
    kg_measure_settings m = kg_measure_defaults();
    m.min_samples = settings->samples;
    m.max_samples = settings->samples;
    m.min_time_s = 0;
    m.max_time_s = settings->max_time_s;
    m.warmup_s = 0;
    m.hot = settings->hot;
    kg_sample_set samples = {0};
    kg_measure_outcome outcome;
    kg_run_context context = *around;
    context.prepared = p;
    context.hot = settings->hot;
    kg_local_sampler local = {.contexts = &context, .seed = 0x5eedull};
    kg_sampler sampler = kg_local_sampler_make(&local);
    if (rc == KG_OK)
        rc = kg_measure(&sampler, 1, &m, &samples, &outcome, &err);
    if (rc == KG_OK && samples.count > 0) {
        *median = kg_median(samples.device_s, samples.count);
        cJSON_AddNumberToObject(entry, KG_KEY_TRIED_MEDIAN_S, *median);
    } else {
        cJSON_AddStringToObject(entry, KG_KEY_TRIED_STATUS,
                                rc == KG_ERR_BUILD ? KG_TRIED_BUILD_FAILED : KG_TRIED_FAILED);
        cJSON_AddStringToObject(entry, KG_KEY_TRIED_ERROR, err.message);
    }
    kg_sample_set_free(&samples);
    kg_prepared_free(p);
}

int kg_sweep_run(kg_build_cache *cache, const kg_workload *w, const kg_kernel_entry *e,
                 const kg_shape *shape, const kg_run_context *around,
                 const kg_sweep_settings *settings, kg_symtab *chosen, cJSON **record,
                 kg_error *err)
{
    kg_symtab_init(chosen);
    cJSON *rec = cJSON_CreateObject();
    cJSON *tried = cJSON_CreateArray();
    if (!rec || !tried) {
        cJSON_Delete(rec);
        cJSON_Delete(tried);
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    }
    cJSON_AddNumberToObject(rec, KG_KEY_SWEEP_SAMPLES_PER_CONFIG, (double)settings->samples);
    cJSON_AddBoolToObject(rec, KG_KEY_SWEEP_HOT, settings->hot);
    cJSON_AddItemToObject(rec, KG_KEY_SWEEP_TRIED, tried);
    size_t digit[KG_MAX_SWEEP_DEFINES] = {0};
    double best = INFINITY;
    char best_config[256] = "";
    for (;;) {
        kg_symtab overrides;
        kg_symtab_init(&overrides);
        for (size_t k = 0; k < e->sweep_count; k++)
            kg_symtab_set(&overrides, e->sweep_names[k], e->sweep_values[k][digit[k]]);
        char config[256];
        describe(e, digit, config, sizeof config);
        cJSON *entry = cJSON_CreateObject();
        cJSON_AddStringToObject(entry, KG_KEY_TRIED_CONFIG, config);
        double median;
        time_config(cache, w, e, shape, around, &overrides, settings, &median, entry);
        cJSON_AddItemToArray(tried, entry);
        if (median < best) {
            best = median;
            *chosen = overrides;
            snprintf(best_config, sizeof best_config, "%s", config);
        }
        /* Next combination: a mixed-radix counter over the value lists. */
        size_t k = 0;
        while (k < e->sweep_count && ++digit[k] == e->sweep_value_count[k])
            digit[k++] = 0;
        if (k == e->sweep_count)
            break;
    }
    if (best_config[0])
        cJSON_AddStringToObject(rec, KG_KEY_SWEEP_CHOSEN, best_config);
    else
        cJSON_AddNullToObject(rec, KG_KEY_SWEEP_CHOSEN);
    *record = rec;
    return KG_OK;
}
