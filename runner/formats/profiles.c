/* Matching devices to the JSON files of hardware/profiles/. */
#include "profiles.h"
#include "dir_list.h"
#include "json_file.h"
#include "record_keys.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every listed substring present (`want` = 1) or absent (0). */
static int substrings(const kg_json_where *w, const cJSON *match, const char *key, const char *name,
                      int want, int *ok, kg_error *err)
{
    const cJSON *list = NULL;
    int rc = kg_json_array(w, match, key, 0, &list, err);
    if (rc || !list)
        return rc;
    const cJSON *item;
    cJSON_ArrayForEach(item, list)
    {
        if (!cJSON_IsString(item)) {
            kg_json_where at = kg_json_at_key(w, key);
            return kg_json_fail(&at, err, "expected an array of strings");
        }
        if ((strstr(name, item->valuestring) != NULL) != want)
            *ok = 0;
    }
    return KG_OK;
}

static int matches(const kg_json_where *root, const cJSON *doc, const kg_device_info *info, int *ok,
                   kg_error *err)
{
    const cJSON *match;
    int rc = kg_json_object(root, doc, "match", 1, &match, err);
    if (rc)
        return rc;
    kg_json_where w = kg_json_at_key(root, "match");
    *ok = 1;
    if ((rc = substrings(&w, match, "name_contains", info->name, 1, ok, err)) ||
        (rc = substrings(&w, match, "name_excludes", info->name, 0, ok, err)))
        return rc;
    const char *cc = NULL;
    if ((rc = kg_json_string(&w, match, "compute_capability", 0, &cc, err)))
        return rc;
    if (cc) {
        /* info->arch is "sm_90" for compute capability "9.0". */
        char arch[16];
        int major = 0, minor = 0;
        if (sscanf(cc, "%d.%d", &major, &minor) != 2) {
            kg_json_where at = kg_json_at_key(&w, "compute_capability");
            return kg_json_fail(&at, err, "expected \"major.minor\", got \"%s\"", cc);
        }
        snprintf(arch, sizeof arch, "sm_%d%d", major, minor);
        if (strcmp(arch, info->arch) != 0)
            *ok = 0;
    }
    /* SMs (CUDA) or compute units (HIP) the device reports, compared
     * exactly: tells an MI250X GCD (110) from an MI250 GCD (104) under the
     * shared name "AMD Instinct MI250X / MI250", and keeps partitions of an
     * MI300X (38, 76 or 152 of its 304 CUs) out of whole-GPU profiles. */
    double units = NAN;
    if ((rc = kg_json_number(&w, match, "compute_units", 0, &units, err)))
        return rc;
    if (!isnan(units)) {
        if (units < 1 || units != floor(units)) {
            kg_json_where at = kg_json_at_key(&w, "compute_units");
            return kg_json_fail(&at, err, "expected a positive whole number, got %g", units);
        }
        if ((double)info->compute_units != units)
            *ok = 0;
    }
    double gib = (double)info->global_mem_bytes / (1024.0 * 1024.0 * 1024.0);
    double lo = -INFINITY, hi = INFINITY;
    if ((rc = kg_json_number(&w, match, "min_memory_gib", 0, &lo, err)) ||
        (rc = kg_json_number(&w, match, "max_memory_gib", 0, &hi, err)))
        return rc;
    if (gib < lo || gib > hi)
        *ok = 0;
    return KG_OK;
}

/* {"value": N, "source": "..."} -> N; a figure without a source is refused. */
static int figure(const kg_json_where *w, const cJSON *obj, const char *key, double *out,
                  kg_error *err)
{
    const cJSON *f = NULL;
    int rc = kg_json_object(w, obj, key, 0, &f, err);
    *out = NAN;
    if (rc || !f)
        return rc;
    kg_json_where at = kg_json_at_key(w, key);
    const char *source = NULL;
    if ((rc = kg_json_number(&at, f, "value", 1, out, err)) ||
        (rc = kg_json_string(&at, f, "source", 1, &source, err)))
        return rc;
    return KG_OK;
}

static cJSON *summarise(const char *file, const kg_json_where *root, const cJSON *doc,
                        kg_error *err)
{
    const char *name;
    const cJSON *peaks;
    double dram;
    if (kg_json_string(root, doc, "name", 1, &name, err) ||
        figure(root, doc, "dram_bandwidth_gbs", &dram, err) ||
        kg_json_object(root, doc, "peak_tflops", 1, &peaks, err))
        return NULL;
    kg_json_where pw = kg_json_at_key(root, "peak_tflops");
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, KG_KEY_PROFILE_FILE, file);
    cJSON_AddStringToObject(out, KG_KEY_PROFILE_NAME, name);
    if (isfinite(dram))
        cJSON_AddNumberToObject(out, KG_KEY_PROFILE_DRAM_GBS, dram);
    cJSON *tflops = cJSON_AddObjectToObject(out, KG_KEY_PROFILE_PEAK_TFLOPS);
    /* The same names in the profile file and in the run header. */
    static const char *const kinds[] = {KG_KEY_PROFILE_FP32, KG_KEY_PROFILE_TF32_TENSOR,
                                        KG_KEY_PROFILE_FP16_TENSOR, KG_KEY_PROFILE_BF16_TENSOR};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        double v;
        if (figure(&pw, peaks, kinds[i], &v, err)) {
            cJSON_Delete(out);
            return NULL;
        }
        if (isfinite(v))
            cJSON_AddNumberToObject(tflops, kinds[i], v);
    }
    return out;
}

cJSON *kg_profile_find(const char *dir, const kg_device_info *info, kg_error *err)
{
    char **names;
    size_t n;
    if (kg_dir_list(dir, kg_dir_is_json, NULL, &names, &n) != 0)
        return NULL;
    cJSON *found = NULL;
    int failed = 0;
    for (size_t i = 0; i < n && !found && !failed; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        cJSON *doc = NULL;
        if (kg_json_load(path, &doc, err) != KG_OK) {
            failed = 1;
            break;
        }
        kg_json_where root = {.file = path};
        int ok = 0;
        if (matches(&root, doc, info, &ok, err) != KG_OK)
            failed = 1;
        else if (ok && !(found = summarise(names[i], &root, doc, err)))
            failed = 1;
        cJSON_Delete(doc);
    }
    kg_dir_list_free(names, n);
    if (failed) {
        cJSON_Delete(found);
        return NULL;
    }
    return found;
}

double kg_profile_compute_peak(const cJSON *profile, const char *dtype)
{
    const cJSON *peaks = cJSON_GetObjectItemCaseSensitive(profile, KG_KEY_PROFILE_PEAK_TFLOPS);
    const char *key = strcmp(dtype, "f16") == 0    ? KG_KEY_PROFILE_FP16_TENSOR
                      : strcmp(dtype, "bf16") == 0 ? KG_KEY_PROFILE_BF16_TENSOR
                                                   : KG_KEY_PROFILE_FP32;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(peaks, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}
