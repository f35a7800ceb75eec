/* The final grading against the dev shapes (final_report.h). */
#include "final_report.h"
#include "json_file.h"
#include "record_keys.h"

#include <string.h>

static const cJSON *summary_of(const cJSON *records)
{
    const cJSON *last = cJSON_GetArrayItem(records, cJSON_GetArraySize(records) - 1);
    return kg_record_is(last, KG_RECORD_SUMMARY) ? last : NULL;
}

/* The group of `summary` for this workload and baseline, or NULL. */
static const cJSON *group_for(const cJSON *summary, const char *workload, const char *baseline)
{
    const cJSON *g;
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(summary, KG_KEY_SUMMARY_WORKLOADS))
    {
        if (strcmp(kg_json_str(g, KG_KEY_GROUP_WORKLOAD, ""), workload) == 0 &&
            strcmp(kg_json_str(g, KG_KEY_GROUP_BASELINE, ""), baseline) == 0)
            return g;
    }
    return NULL;
}

int kg_report_final_vs_dev(FILE *out, const cJSON *final_records, const cJSON *dev_records)
{
    const cJSON *fs = summary_of(final_records), *ds = summary_of(dev_records);
    fprintf(out, "\n## Final grading against the dev shapes\n\n");
    if (!fs || !ds) {
        fprintf(out, "Not compared: a run has no summary.\n");
        return 0;
    }
    fprintf(out, "The dev shapes are what `kgrade check` graded on (public seed); the final "
                 "shapes and seed were never shown. A final geomean below the dev geomean's "
                 "95%% interval is overfit to the dev shapes.\n\n"
                 "| workload | baseline | dev geomean [95%% CI] | final geomean [95%% CI] | "
                 "verdict |\n|---|---|---:|---:|---|\n");
    int overfit = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(fs, KG_KEY_SUMMARY_WORKLOADS))
    {
        const char *w = kg_json_str(f, KG_KEY_GROUP_WORKLOAD, "?");
        const char *b = kg_json_str(f, KG_KEY_GROUP_BASELINE, "?");
        const cJSON *d = group_for(ds, w, b);
        double fg = kg_json_num(f, KG_KEY_GROUP_GEOMEAN), dg = kg_json_num(d, KG_KEY_GROUP_GEOMEAN);
        double dlo = kg_json_num(d, KG_KEY_GROUP_LO), dhi = kg_json_num(d, KG_KEY_GROUP_HI);
        const char *verdict = !d || dg != dg || fg != fg ? "not compared (no dev shapes graded)"
                              : fg < dlo                 ? "**overfit to dev shapes**"
                              : fg > dhi                 ? "faster on the final shapes"
                                                         : "consistent";
        overfit += fg < dlo;
        fprintf(out, "| %s | %s | ", w, b);
        if (d && dg == dg)
            fprintf(out, "%.3gx [%.3g, %.3g] | ", dg, dlo, dhi);
        else
            fprintf(out, "- | ");
        fprintf(out, "%.3gx [%.3g, %.3g] | %s |\n", fg, kg_json_num(f, KG_KEY_GROUP_LO),
                kg_json_num(f, KG_KEY_GROUP_HI), verdict);
    }
    return overfit;
}
