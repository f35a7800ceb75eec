/* Claims beside the speed-of-light bound. */
#include "claims.h"
#include "dir_list.h"
#include "json_file.h"
#include "record_keys.h"
#include "summary.h"

#include <math.h>
#include <string.h>

cJSON *kg_claims_for_workload(const char *dir, const char *workload)
{
    cJSON *list = cJSON_CreateArray();
    char **names;
    size_t n;
    if (kg_dir_list(dir, kg_dir_is_json, NULL, &names, &n) != 0)
        return list;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        cJSON *doc = NULL;
        kg_error err = {0};
        if (kg_json_load(path, &doc, &err) != KG_OK) {
            fprintf(stderr, "kgrade: skipping claim %s\n", err.message);
            continue;
        }
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(doc, "workload");
        if (cJSON_IsString(w) && strcmp(w->valuestring, workload) == 0)
            cJSON_AddItemToArray(list, doc);
        else
            cJSON_Delete(doc);
    }
    kg_dir_list_free(names, n);
    return list;
}

static const char *text(const cJSON *o, const char *key, const char *fallback)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : fallback;
}

void kg_claims_report(FILE *out, const cJSON *claims, const cJSON *shape_records,
                      int measured_peaks)
{
    if (cJSON_GetArraySize(claims) == 0)
        return;
    /* log-mean of (reference median / speed of light) over the shapes. */
    double log_sum = 0;
    int shapes = 0;
    const cJSON *rec;
    cJSON_ArrayForEach(rec, shape_records)
    {
        const cJSON *sol = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_SPEED_OF_LIGHT_S);
        static const char *const roles[] = {KG_KEY_SHAPE_BASELINE, KG_KEY_SHAPE_CANDIDATE};
        for (int i = 0; i < 2 && cJSON_IsNumber(sol); i++) {
            const cJSON *set = cJSON_GetObjectItemCaseSensitive(rec, roles[i]);
            if (strcmp(text(set, KG_KEY_SET_NAME, ""), "reference") != 0 ||
                kg_set_status_of(set) != KG_SET_STATUS_OK)
                continue;
            double median =
                kg_summary_median(cJSON_GetObjectItemCaseSensitive(set, KG_KEY_SET_SAMPLES_S));
            if (median > 0 && sol->valuedouble > 0) {
                log_sum += log(median / sol->valuedouble);
                shapes++;
            }
        }
    }
    if (shapes == 0)
        return;
    double bound = exp(log_sum / shapes);
    fprintf(out,
            "Published claims about this workload, against the speed-of-light bound over "
            "`reference` (kgrade's port of the published Triton kernel) on this device: a kernel "
            "running at the device's peaks would be %.3gx faster than `reference` (geometric "
            "mean over %d shape%s%s). The claims were measured on other hardware; this says "
            "whether such a factor is physically possible here.\n\n",
            bound, shapes, shapes == 1 ? "" : "s",
            measured_peaks ? "; peaks measured by probes, so the bound is approximate" : "");
    const cJSON *c;
    cJSON_ArrayForEach(c, claims)
    {
        const cJSON *speedup = cJSON_GetObjectItemCaseSensitive(c, "speedup");
        if (!cJSON_IsNumber(speedup))
            continue;
        double claimed = speedup->valuedouble;
        fprintf(out,
                "- %s: %.3gx (%s over the %s, on %s, %s). Here at most %.3gx is physically "
                "possible over `reference`: the claimed factor is %s on this device.\n",
                text(c, "subject", "?"), claimed, text(c, "statistic", "?"),
                text(c, "baseline", "?"), text(c, "hardware", "?"), text(c, "grader", "?"), bound,
                claimed <= bound ? "within what is possible" : "beyond what is possible");
    }
    fputc('\n', out);
}
