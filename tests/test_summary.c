/*
 * Summaries from hand-built records, against hand-computed expectations:
 * each failure policy and fast_p.
 */
#include "kg_test.h"
#include "json_file.h"
#include "summary.h"

#include <math.h>
#include <string.h>

static const char records_text[] =
    "[{\"type\": \"run\"},"
    /* A: speedup 4 */
    " {\"type\": \"shape\", \"workload\": \"w\", \"shape\": \"A\","
    "  \"baseline\": {\"status\": \"ok\", \"samples_s\": [4, 4, 4]},"
    "  \"candidate\": {\"status\": \"ok\", \"samples_s\": [1, 1, 1]}},"
    /* B: speedup 0.5 */
    " {\"type\": \"shape\", \"workload\": \"w\", \"shape\": \"B\","
    "  \"baseline\": {\"status\": \"ok\", \"samples_s\": [1, 1, 1]},"
    "  \"candidate\": {\"status\": \"ok\", \"samples_s\": [2, 2, 2]}},"
    /* C: the candidate failed its check */
    " {\"type\": \"shape\", \"workload\": \"w\", \"shape\": \"C\","
    "  \"baseline\": {\"status\": \"ok\", \"samples_s\": [1, 1]},"
    "  \"candidate\": {\"status\": \"check_failed\", \"samples_s\": []}},"
    /* D: the baseline failed: not comparable under any policy */
    " {\"type\": \"shape\", \"workload\": \"w\", \"shape\": \"D\","
    "  \"baseline\": {\"status\": \"build_failed\", \"samples_s\": []},"
    "  \"candidate\": {\"status\": \"ok\", \"samples_s\": [1]}}]";

static double get(const cJSON *o, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b)
        x = cJSON_GetObjectItemCaseSensitive(x, b);
    return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

int main(void)
{
    cJSON *records = cJSON_Parse(records_text);
    KG_CHECK(records != NULL);
    cJSON *summary = kg_summary_compute(records, 2000, 1);
    const cJSON *w = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(summary, "workloads"), 0);
    const cJSON *overall = cJSON_GetObjectItemCaseSensitive(summary, "overall");
    for (int i = 0; i < 2; i++) {
        const cJSON *g = i ? overall : w;
        KG_CHECK_NEAR(get(g, "shapes", NULL), 4, 0);
        KG_CHECK_NEAR(get(g, "compared", NULL), 2, 0);
        KG_CHECK_NEAR(get(g, "candidate_failed", NULL), 1, 0);
        KG_CHECK_NEAR(get(g, "candidate_passed", NULL), 3, 0);
        const cJSON *pol = cJSON_GetObjectItemCaseSensitive(g, "policies");
        /* Excluded: sqrt(4 x 0.5). As 1x: cbrt(4 x 0.5 x 1). As 0: 0. */
        KG_CHECK_NEAR(get(pol, "failures_excluded", "geomean"), sqrt(2.0), 1e-12);
        KG_CHECK_NEAR(get(pol, "failures_as_1x", "geomean"), cbrt(2.0), 1e-12);
        KG_CHECK_NEAR(get(pol, "failures_as_0", "geomean"), 0, 0);
        /* The headline follows the named default policy. */
        KG_CHECK(strcmp(cJSON_GetObjectItemCaseSensitive(g, "policy")->valuestring,
                        "failures_as_1x") == 0);
        KG_CHECK_NEAR(get(g, "geomean", NULL), cbrt(2.0), 1e-12);
        KG_CHECK(get(g, "lo", NULL) <= get(g, "geomean", NULL) &&
                 get(g, "geomean", NULL) <= get(g, "hi", NULL));
        /* fast_p over the 3 shapes the baseline passed: only A (4x) counts
         * above 1, 1.5 and 2; A and B are correct. */
        const cJSON *fast = cJSON_GetObjectItemCaseSensitive(g, "fast_p");
        KG_CHECK_NEAR(get(fast, "0", NULL), 2.0 / 3, 1e-12);
        KG_CHECK_NEAR(get(fast, "1", NULL), 1.0 / 3, 1e-12);
        KG_CHECK_NEAR(get(fast, "1.5", NULL), 1.0 / 3, 1e-12);
        KG_CHECK_NEAR(get(fast, "2", NULL), 1.0 / 3, 1e-12);
    }
    cJSON_Delete(summary);
    cJSON_Delete(records);

    /* A workload the user named and the candidate left out: its shapes
     * count as failures although the baseline was never run, so leaving a
     * workload out cannot raise the geomean. */
    records = cJSON_Parse("[{\"type\": \"run\"},"
                          " {\"type\": \"shape\", \"workload\": \"w\", \"shape\": \"A\","
                          "  \"baseline\": {\"status\": \"ok\", \"samples_s\": [4, 4, 4]},"
                          "  \"candidate\": {\"status\": \"ok\", \"samples_s\": [1, 1, 1]}},"
                          " {\"type\": \"shape\", \"workload\": \"v\", \"shape\": \"E\","
                          "  \"baseline\": {\"status\": \"not_run\", \"samples_s\": []},"
                          "  \"candidate\": {\"status\": \"missing\", \"samples_s\": []}}]");
    summary = kg_summary_compute(records, 2000, 1);
    overall = cJSON_GetObjectItemCaseSensitive(summary, "overall");
    KG_CHECK_NEAR(get(overall, "candidate_failed", NULL), 1, 0);
    KG_CHECK_NEAR(get(overall, "geomean", NULL), 2.0, 1e-12); /* sqrt(4 x 1) */
    KG_CHECK_NEAR(
        get(cJSON_GetObjectItemCaseSensitive(overall, "policies"), "failures_as_0", "geomean"), 0,
        0);
    cJSON_Delete(summary);
    cJSON_Delete(records);

    /* Samples as the run writes them (raw 17-digit numbers) give the same
     * medians as once read back, to the last bit. */
    const double samples[3] = {2.6e-6, 2.61e-6, 0.1 + 0.2};
    cJSON *exact = kg_json_exact_array(samples, 3);
    KG_CHECK(kg_summary_median(exact) == 2.61e-6);
    char *text = cJSON_PrintUnformatted(exact);
    cJSON *back = cJSON_Parse(text);
    KG_CHECK(cJSON_GetArrayItem(back, 2)->valuedouble == 0.1 + 0.2);
    KG_CHECK(kg_summary_median(back) == kg_summary_median(exact));
    cJSON_free(text);
    cJSON_Delete(back);
    cJSON_Delete(exact);
    return kg_test_finish("test_summary");
}
