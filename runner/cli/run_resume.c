/* Continuing an interrupted run (run.h): the run's options come from its
 * results file, must agree with the command line's, and the evaluations
 * already recorded are not run again. */
#include "record_keys.h"
#include "results.h"
#include "run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Settings that must match for a run to be resumed. */
static const char *const resume_keys[] = {
    KG_KEY_SETTINGS_BASELINE,      KG_KEY_SETTINGS_CANDIDATE,  KG_KEY_SETTINGS_SIZE_CLASS,
    KG_KEY_SETTINGS_WORKLOADS,     KG_KEY_SETTINGS_HOT,        KG_KEY_SETTINGS_MIN_SAMPLES,
    KG_KEY_SETTINGS_MAX_SAMPLES,   KG_KEY_SETTINGS_MIN_TIME_S, KG_KEY_SETTINGS_MAX_TIME_S,
    KG_KEY_SETTINGS_TARGET,        KG_KEY_SETTINGS_RESAMPLES,  KG_KEY_SETTINGS_TIMEOUT_S,
    KG_KEY_SETTINGS_BASELINES_DIR, KG_KEY_SETTINGS_ONLY,
};

void kg_run_resume_difference(const cJSON *old_header, const cJSON *new_header, char *out,
                              size_t size)
{
    out[0] = '\0';
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(old_header, KG_KEY_RUN_SETTINGS);
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(new_header, KG_KEY_RUN_SETTINGS);
    /* The seed exactly (seed_exact), also against a file from before it. */
    uint64_t seed_a = kg_results_settings_seed(a, 0), seed_b = kg_results_settings_seed(b, 1);
    if (seed_a != seed_b) {
        snprintf(out, size, "seed: the file's run has %llu, this invocation %llu",
                 (unsigned long long)seed_a, (unsigned long long)seed_b);
        return;
    }
    for (size_t i = 0; i < sizeof resume_keys / sizeof resume_keys[0]; i++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, resume_keys[i]);
        const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, resume_keys[i]);
        if ((x || y) && !cJSON_Compare(x, y, 1)) { /* absent from both: the same */
            char *xs = x ? cJSON_PrintUnformatted(x) : NULL;
            char *ys = y ? cJSON_PrintUnformatted(y) : NULL;
            snprintf(out, size, "%s: the file's run has %s, this invocation %s", resume_keys[i],
                     xs ? xs : "nothing", ys ? ys : "nothing");
            free(xs);
            free(ys);
            return;
        }
    }
    static const char *const device_keys[] = {KG_KEY_DEVICE_BACKEND, KG_KEY_DEVICE_NAME,
                                              KG_KEY_DEVICE_INDEX};
    const cJSON *da = cJSON_GetObjectItemCaseSensitive(old_header, KG_KEY_RUN_DEVICE);
    const cJSON *db = cJSON_GetObjectItemCaseSensitive(new_header, KG_KEY_RUN_DEVICE);
    for (size_t i = 0; i < 3; i++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(da, device_keys[i]);
        const cJSON *y = cJSON_GetObjectItemCaseSensitive(db, device_keys[i]);
        if ((x || y) && !cJSON_Compare(x, y, 1)) { /* absent from both: the same */
            snprintf(out, size, "device %s: the file's run used %s, this invocation %s",
                     device_keys[i], cJSON_IsString(x) ? x->valuestring : "another",
                     cJSON_IsString(y) ? y->valuestring : "another");
            return;
        }
    }
}

void kg_run_options_from_header(run_options *o, const cJSON *header, char *device, size_t size)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(header, KG_KEY_RUN_SETTINGS);
#define STR(key, field)                                                                            \
    do {                                                                                           \
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, key);                                 \
        if (cJSON_IsString(v))                                                                     \
            o->field = v->valuestring;                                                             \
    } while (0)
#define NUM(key, field, type)                                                                      \
    do {                                                                                           \
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, key);                                 \
        if (cJSON_IsNumber(v))                                                                     \
            o->field = (type)v->valuedouble;                                                       \
    } while (0)
    STR(KG_KEY_SETTINGS_BASELINE, baseline);
    STR(KG_KEY_SETTINGS_CANDIDATE, candidate);
    STR(KG_KEY_SETTINGS_SIZE_CLASS, size_class);
    STR(KG_KEY_SETTINGS_BASELINES_DIR, baselines_dir);
    STR(KG_KEY_SETTINGS_ONLY, only); /* a shard stays the shard it was */
    const cJSON *wl = cJSON_GetObjectItemCaseSensitive(s, KG_KEY_SETTINGS_WORKLOADS);
    if (cJSON_IsString(wl) && strcmp(wl->valuestring, KG_SETTINGS_ALL_WORKLOADS) != 0)
        o->workloads = wl->valuestring;
    o->seed = kg_results_settings_seed(s, o->seed);
    NUM(KG_KEY_SETTINGS_MIN_SAMPLES, min_samples, size_t);
    NUM(KG_KEY_SETTINGS_MAX_SAMPLES, max_samples, size_t);
    NUM(KG_KEY_SETTINGS_MIN_TIME_S, min_time, double);
    NUM(KG_KEY_SETTINGS_MAX_TIME_S, max_time, double);
    NUM(KG_KEY_SETTINGS_TARGET, target, double);
    NUM(KG_KEY_SETTINGS_RESAMPLES, resamples, size_t);
    NUM(KG_KEY_SETTINGS_TIMEOUT_S, timeout, double);
    o->hot = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, KG_KEY_SETTINGS_HOT));
    o->final = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, KG_KEY_SETTINGS_FINAL));
#undef STR
#undef NUM
    /* The device it ran on, by backend and index. */
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(header, KG_KEY_RUN_DEVICE);
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(d, KG_KEY_DEVICE_BACKEND);
    const cJSON *i = cJSON_GetObjectItemCaseSensitive(d, KG_KEY_DEVICE_INDEX);
    if (cJSON_IsString(b) && cJSON_IsNumber(i)) {
        snprintf(device, size, "%s:%d", b->valuestring, (int)i->valuedouble);
        o->device = device;
    }
}

int kg_run_load_resumed(const char *path, cJSON **records, kg_error *err)
{
    /* The torn last line of a killed run is not an error to read past. */
    int rc = kg_results_read_last_run(path, records, err);
    if (rc)
        return rc;
    const cJSON *last = cJSON_GetArrayItem(*records, cJSON_GetArraySize(*records) - 1);
    if (kg_record_is(last, KG_RECORD_SUMMARY)) {
        cJSON_Delete(*records);
        *records = NULL;
        return kg_error_set(err, KG_ERR_INVALID,
                            "%s: the run finished (it has its summary); nothing to resume "
                            "(`kgrade report %s` prints it)",
                            path, path);
    }
    return KG_OK;
}

int kg_run_already_done(const run_context *ctx, kg_record_type type, const char *workload,
                        long shape_index)
{
    int shape = type == KG_RECORD_SHAPE; /* or a skipped workload */
    const cJSON *rec;
    cJSON_ArrayForEach(rec, ctx->finished)
    {
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(rec, shape ? KG_KEY_SHAPE_WORKLOAD
                                                                     : KG_KEY_SKIPPED_WORKLOAD);
        if (!kg_record_is(rec, type) || !cJSON_IsString(w) || strcmp(w->valuestring, workload) != 0)
            continue;
        /* A shape's baseline is its set's object; a skipped workload's, its name. */
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(rec, shape ? KG_KEY_SHAPE_BASELINE
                                                                     : KG_KEY_SKIPPED_BASELINE);
        const cJSON *set =
            cJSON_IsObject(b) ? cJSON_GetObjectItemCaseSensitive(b, KG_KEY_SET_NAME) : b;
        if (!cJSON_IsString(set) || strcmp(set->valuestring, ctx->baseline) != 0)
            continue;
        const cJSON *i = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_INDEX);
        if (shape_index < 0 || (cJSON_IsNumber(i) && (long)i->valuedouble == shape_index))
            return 1;
    }
    return 0;
}
