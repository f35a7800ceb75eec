/* What a run grades: its data folders, its workloads, whether both kernel
 * sets exist for them, and the header that records the plan (run.h). */
#include "check.h"
#include "data_dirs.h"
#include "dir_list.h"
#include "fingerprint.h"
#include "kernelset.h"
#include "library_tier.h"
#include "record_keys.h"
#include "run.h"
#include "sha256.h"
#include "summary.h"
#include "triton_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int kg_run_find_data_dirs(run_options *o, const char *given_baselines, int resuming, run_dirs *d,
                          kg_error *err)
{
    kg_data_origin from;
    int rc = kg_data_dir_find(KG_DATA_BASELINES, given_baselines, "--baselines", d->baselines,
                              sizeof d->baselines, &from, err);
    int named = rc == KG_OK && from < KG_DATA_FROM_INSTALL;
    if (resuming && o->baselines_dir && !named && (rc == KG_OK || rc == KG_ERR_NOT_FOUND)) {
        snprintf(d->baselines, sizeof d->baselines, "%s", o->baselines_dir);
        rc = KG_OK;
    }
    if (rc)
        return rc;
    o->baselines_dir = d->baselines;
    rc = kg_data_dir_find(KG_DATA_PROFILES, o->profiles_dir, "--profiles", d->profiles,
                          sizeof d->profiles, NULL, err);
    if (rc)
        return rc;
    return kg_data_dir_find(KG_DATA_CLAIMS, o->claims_dir, "--claims", d->claims, sizeof d->claims,
                            NULL, err);
}

static int name_in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return 1;
        p += len + (comma ? 1 : 0);
    }
    return 0;
}

/* A folder holding a workload.json that the --workload list names. */
static int is_selected_workload(const char *dir, const char *name, void *filter)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s/workload.json", dir, name);
    return stat(path, &st) == 0 && (!filter || name_in_list(filter, name));
}

int kg_run_load_workloads(const char *dir, const char *filter, kg_workload ***out, size_t *count,
                          kg_error *err)
{
    *out = NULL;
    *count = 0;
    char **names;
    size_t n;
    if (kg_dir_list(dir, is_selected_workload, (void *)filter, &names, &n) != 0)
        return kg_error_set(err, KG_ERR_INVALID, "%s: cannot open the workloads folder", dir);
    int rc = KG_OK;
    if (filter) {
        char copy[1024];
        snprintf(copy, sizeof copy, "%s", filter);
        for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok && !rc;
             tok = strtok_r(NULL, ",", &save)) {
            int found = 0;
            for (size_t i = 0; i < n; i++)
                found |= strcmp(names[i], tok) == 0;
            if (!found)
                rc = kg_error_set(err, KG_ERR_INVALID, "--workload: no workload '%s' in %s", tok,
                                  dir);
        }
    }
    kg_workload **list = calloc(n ? n : 1, sizeof *list);
    for (size_t i = 0; i < n && !rc; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        rc = kg_workload_load(path, &list[*count], err);
        if (!rc) {
            (*count)++;
            /* Rejected here, before anything is graded: a reference under
             * which zeros pass would let a kernel that does nothing pass. */
            rc = kg_check_reference_not_degenerate(list[*count - 1], 1, err);
        }
    }
    kg_dir_list_free(names, n);
    if (!rc && *count == 0)
        rc = kg_error_set(err, KG_ERR_INVALID, "%s: no workload found", dir);
    if (rc) {
        for (size_t i = 0; i < *count; i++)
            kg_workload_free(list[i]);
        free(list);
        *count = 0;
        return rc;
    }
    *out = list;
    return KG_OK;
}

void kg_run_options_defaults(run_options *o)
{
    kg_measure_settings m = kg_measure_defaults();
    *o = (run_options){.baseline = "naive",
                       .candidate = "tuned",
                       .seed = 1,
                       .resamples = KG_DEFAULT_RESAMPLES,
                       .timeout = 600,
                       .min_samples = m.min_samples,
                       .max_samples = m.max_samples,
                       .min_time = m.min_time_s,
                       .max_time = m.max_time_s,
                       .target = m.target};
}

int kg_run_measure_settings(const run_options *o, kg_measure_settings *m, int *cls, kg_error *err)
{
    if (o->min_samples < 1 || o->max_samples < o->min_samples || o->target <= 0 ||
        o->max_time <= 0 || o->resamples < 100 || !(o->timeout > 0))
        return kg_error_set(err, KG_ERR_INVALID,
                            "need 1 <= --min-samples <= --max-samples, --target > 0, --max-time "
                            "> 0, --resamples >= 100, --timeout > 0");
    *m = kg_measure_defaults();
    m->min_samples = o->min_samples;
    m->max_samples = o->max_samples;
    m->min_time_s = o->min_time;
    m->max_time_s = o->max_time;
    m->target = o->target;
    m->hot = o->hot;
    *cls = -1;
    if (o->size_class && (*cls = kg_size_class_parse(o->size_class)) < 0)
        return kg_error_set(err, KG_ERR_INVALID,
                            "--size-class: expected smoke, small, full, claim or dev, got '%s'",
                            o->size_class);
    return KG_OK;
}

run_missing_rule kg_run_missing_rule(const run_options *o, int is_candidate, const char *set)
{
    if (!o->workloads)
        return KG_MISSING_SKIPS;
    if (kg_set_is_submission(set))
        return is_candidate ? KG_MISSING_FAILS : KG_MISSING_SKIPS;
    return KG_MISSING_IS_ERROR;
}

/* Why the language's toolchain or library cannot serve the set here:
 * Triton missing, an upstream file missing, a library absent. */
static int toolchain_unavailable(const kg_kernel_entry *e, const kg_device_info *info,
                                 kg_error *err)
{
    if (e->language == KG_LANG_LIBRARY)
        return kg_library_unavailable(e, kg_backend_find(info->backend), err);
    if (e->language != KG_LANG_TRITON)
        return KG_OK;
    char why[1024];
    kg_triton_unavailable(info, why, sizeof why);
    if (!why[0] && e->upstream_package && access(e->source_path, R_OK) != 0)
        snprintf(why, sizeof why, "%s %s's file %s is missing (make extracts it)",
                 e->upstream_package, e->upstream_version, e->source_path);
    if (!why[0])
        return KG_OK;
    return kg_error_set(err, KG_ERR_UNAVAILABLE, "triton unavailable (%s)", why);
}

int kg_run_set_refuses_device(const kg_kernel_entry *e, const kg_device_info *info)
{
    kg_error ignored = {0};
    char buf[256];
    return info && toolchain_unavailable(e, info, &ignored) == KG_OK &&
           kg_kernel_entry_device_refusal(e, info, buf, sizeof buf) != NULL;
}

int kg_run_set_unavailable(const kg_kernel_entry *e, const kg_device_info *info, kg_error *err)
{
    if (!info) /* no device: `kgrade slurm` */
        return KG_OK;
    int rc = toolchain_unavailable(e, info, err);
    char buf[256];
    const char *device_why = rc ? NULL : kg_kernel_entry_device_refusal(e, info, buf, sizeof buf);
    if (device_why)
        return kg_error_set(err, KG_ERR_UNAVAILABLE, "unsupported device (%s)", device_why);
    return rc;
}

int kg_run_check_sets(const run_options *o, const kg_device_info *info,
                      kg_workload *const *workloads, size_t n, kg_error *err)
{
    const char *sets[2] = {o->baseline, o->candidate};
    size_t covered = 0, found[2] = {0, 0};
    kg_error missing[2] = {{0}, {0}};
    for (size_t wi = 0; wi < n; wi++) {
        int rc = KG_OK;
        for (int i = 0; i < 2 && !rc; i++) {
            kg_kernel_entry *e = NULL;
            rc = kg_kernel_entry_load(workloads[wi], sets[i], &e, err);
            /* A tier named on the command line that this device cannot
             * build is a usage error; a submission's Triton kernels are
             * skipped, said so, and the rest is graded; so is a library
             * tier, whose library is never required, and a tier whose
             * manifest says it is not graded on this device. */
            kg_error why = {0};
            if (rc == KG_OK && kg_run_set_unavailable(e, info, &why) &&
                !kg_set_is_submission(sets[i]) && e->language != KG_LANG_LIBRARY &&
                !kg_run_set_refuses_device(e, info))
                rc = kg_error_set(err, KG_ERR_INVALID, "--%s %s: %s", i ? "candidate" : "baseline",
                                  sets[i], why.message);
            kg_kernel_entry_free(e);
            if (rc == KG_ERR_NOT_FOUND) {
                missing[i] = *err;
                if (kg_run_missing_rule(o, i, sets[i]) != KG_MISSING_IS_ERROR)
                    break;
            }
            if (rc)
                return rc;
            found[i]++;
            covered += i == 1;
        }
    }
    /* A bare word is a tier name (kg_set_is_submission): one that no
     * selected workload has is a mistake, not a set to skip everywhere. */
    for (int i = 0; i < 2; i++)
        if (!found[i] && !kg_set_is_submission(sets[i]) && missing[i].message[0]) {
            *err = missing[i];
            return kg_error_set(err, KG_ERR_INVALID,
                                "--%s %s: no selected workload has a tier of that name (%s)",
                                i ? "candidate" : "baseline", sets[i], missing[i].message);
        }
    if (covered == 0)
        return kg_error_set(err, KG_ERR_INVALID,
                            "%s against %s: no selected workload has both kernel sets",
                            o->candidate, o->baseline);
    return KG_OK;
}

size_t kg_run_evaluation_count(kg_workload *const *workloads, size_t n, size_t baselines,
                               kg_size_class cls)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += baselines * workloads[i]->shape_count[cls];
    return total;
}

cJSON *kg_run_settings(const run_options *o, kg_size_class cls, const kg_measure_settings *m,
                       size_t evaluations)
{
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, KG_KEY_SETTINGS_BASELINE, o->baseline);
    cJSON_AddStringToObject(s, KG_KEY_SETTINGS_CANDIDATE, o->candidate);
    cJSON_AddStringToObject(s, KG_KEY_SETTINGS_SIZE_CLASS, kg_size_class_name(cls));
    cJSON_AddStringToObject(s, KG_KEY_SETTINGS_WORKLOADS,
                            o->workloads ? o->workloads : KG_SETTINGS_ALL_WORKLOADS);
    /* "seed" as a number for readers of earlier files; "seed_exact" as a
     * decimal string, since a JSON number cannot hold every 64-bit seed. */
    cJSON_AddNumberToObject(s, KG_KEY_SETTINGS_SEED, (double)o->seed);
    char seed_text[32];
    snprintf(seed_text, sizeof seed_text, "%llu", (unsigned long long)o->seed);
    cJSON_AddStringToObject(s, KG_KEY_SETTINGS_SEED_EXACT, seed_text);
    cJSON_AddBoolToObject(s, KG_KEY_SETTINGS_HOT, o->hot);
    cJSON_AddNumberToObject(s, KG_KEY_SETTINGS_MIN_SAMPLES, (double)m->min_samples);
    cJSON_AddNumberToObject(s, KG_KEY_SETTINGS_MAX_SAMPLES, (double)m->max_samples);
    cJSON_AddNumberToObject(s, KG_KEY_SETTINGS_MIN_TIME_S, m->min_time_s);
    cJSON_AddNumberToObject(s, KG_KEY_SETTINGS_MAX_TIME_S, m->max_time_s);
    cJSON_AddNumberToObject(s, KG_KEY_SETTINGS_TARGET, m->target);
    cJSON_AddNumberToObject(s, KG_KEY_SETTINGS_WARMUP_S, m->warmup_s);
    cJSON_AddNumberToObject(s, KG_KEY_SETTINGS_RESAMPLES, (double)o->resamples);
    cJSON_AddNumberToObject(s, KG_KEY_SETTINGS_TIMEOUT_S, o->timeout);
    cJSON_AddStringToObject(s, KG_KEY_SETTINGS_BASELINES_DIR, o->baselines_dir);
    cJSON_AddStringToObject(s, KG_KEY_SETTINGS_TIMER,
                            "device events around the launches; host clock recorded");
    cJSON_AddNumberToObject(s, KG_KEY_SETTINGS_EVALUATIONS, (double)evaluations);
    if (o->final)
        cJSON_AddBoolToObject(s, KG_KEY_SETTINGS_FINAL, 1);
    /* Which run this is, whatever file it goes to and whichever of its
     * evaluations it grades: shards of one run share it. */
    char *text = cJSON_PrintUnformatted(s);
    char hex[65] = "";
    if (text)
        kg_sha256_hex(text, strlen(text), hex);
    free(text);
    hex[16] = '\0';
    cJSON_AddStringToObject(s, KG_KEY_SETTINGS_RUN_ID, hex);
    if (o->only)
        cJSON_AddStringToObject(s, KG_KEY_SETTINGS_ONLY, o->only);
    return s;
}

cJSON *kg_run_header(const run_options *o, const kg_device_info *info, cJSON *profile,
                     kg_size_class cls, const kg_measure_settings *m, size_t evaluations,
                     const char *out_path)
{
    char now[32];
    kg_utc_now(now, sizeof now);
    cJSON *h = cJSON_CreateObject();
    cJSON_AddStringToObject(h, KG_KEY_TYPE, kg_record_type_name(KG_RECORD_RUN));
    cJSON_AddNumberToObject(h, KG_KEY_RUN_SCHEMA, KG_RESULTS_SCHEMA);
    cJSON_AddStringToObject(h, KG_KEY_RUN_STARTED, now);
    cJSON_AddItemToObject(h, KG_KEY_RUN_KGRADE, kg_fingerprint_kgrade());
    cJSON_AddItemToObject(h, KG_KEY_RUN_HOST, kg_fingerprint_host());
    cJSON_AddItemToObject(h, KG_KEY_RUN_DEVICE, kg_fingerprint_device(info));
    /* Datasheet peaks of this GPU model, or null: what reports divide by. */
    cJSON_AddItemToObject(h, KG_KEY_RUN_PROFILE, profile ? profile : cJSON_CreateNull());
    cJSON *s = kg_run_settings(o, cls, m, evaluations);
    cJSON_AddStringToObject(s, KG_KEY_SETTINGS_RESULTS_FILE, out_path);
    cJSON_AddItemToObject(h, KG_KEY_RUN_SETTINGS, s);
    return h;
}
