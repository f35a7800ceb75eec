/*
 * `kgrade verify`'s verdicts against hand-built results with known
 * numbers: a measured geomean of 10x [9, 11] over `reference` and a
 * speed-of-light bound of 100x, and claims on each side of them.
 */
#include "kg_test.h"
#include "verify.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char results_text[] =
    "[{\"type\": \"run\", \"device\": {\"name\": \"Test GPU\"},"
    "  \"settings\": {\"baseline\": \"reference\", \"candidate\": \"kernels/qwen/\","
    "                \"size_class\": \"full\"}},"
    " {\"type\": \"shape\", \"workload\": \"extend_attention\", \"speed_of_light_s\": 0.01,"
    "  \"baseline\": {\"set\": \"reference\", \"status\": \"ok\", \"samples_s\": [1, 1, 1]},"
    "  \"candidate\": {\"status\": \"ok\", \"samples_s\": [0.1, 0.1, 0.1]}},"
    " {\"type\": \"shape\", \"workload\": \"extend_attention\", \"speed_of_light_s\": 0.01,"
    "  \"baseline\": {\"set\": \"reference\", \"status\": \"ok\", \"samples_s\": [1, 1, 1]},"
    "  \"candidate\": {\"status\": \"ok\", \"samples_s\": [0.1, 0.1, 0.1]}},"
    " {\"type\": \"summary\", \"workloads\": [{\"workload\": \"extend_attention\","
    "   \"interval\": \"measurement\", \"geomean\": 10, \"lo\": 9, \"hi\": 11}]}]";

static kg_claim_grade grade(const cJSON *records, const char *claim_text)
{
    cJSON *claim = cJSON_Parse(claim_text);
    kg_claim_grade g;
    kg_verify_claim(claim, records, &g);
    cJSON_Delete(claim);
    return g;
}

/* A claim of `x` over `baseline` (the claim's words), on the standard
 * fields, with `extra` JSON members. */
static kg_claim_grade claim_over(const cJSON *records, const char *baseline, double x,
                                 const char *extra)
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"workload\": \"extend_attention\", \"speedup\": %g, \"statistic\": \"geometric "
             "mean\", \"baseline\": \"%s\", \"kgrade_baseline\": "
             "\"reference\", \"kgrade_size_class\": \"full\"%s}",
             x, baseline, extra);
    return grade(records, text);
}

/* The verdict rules themselves: a claim whose baseline is not Triton's. */
static kg_claim_grade claim(const cJSON *records, double x, const char *extra)
{
    return claim_over(records, "the reference implementation", x, extra);
}

/* A claim over "the reference Triton implementation" is decided only
 * against a Triton baseline: against kgrade's port (language portable, or
 * not recorded) the same figures are inconclusive, and say why. */
static void test_triton_baseline(void)
{
    const char *qwen = ", \"kgrade_candidate\": \"qwen\"";
    static const char *const languages[] = {"portable", "triton"};
    for (int i = 0; i < 2; i++) {
        char text[2048];
        snprintf(text, sizeof text,
                 "[{\"type\": \"run\", \"device\": {\"name\": \"Test GPU\"},"
                 "  \"settings\": {\"baseline\": \"reference\", \"candidate\": \"qwen\","
                 "                \"size_class\": \"full\"}},"
                 " {\"type\": \"shape\", \"workload\": \"extend_attention\","
                 "  \"baseline\": {\"set\": \"reference\", \"language\": \"%s\", "
                 "\"status\": \"ok\"}, \"candidate\": {\"status\": \"ok\"}},"
                 " {\"type\": \"summary\", \"workloads\": [{\"workload\": \"extend_attention\","
                 "   \"interval\": \"measurement\", \"geomean\": 10, \"lo\": 9, \"hi\": 11}]}]",
                 languages[i]);
        cJSON *records = cJSON_Parse(text);
        for (double x = 8; x <= 12; x += 4) {
            kg_claim_grade g = claim_over(records, "the reference Triton implementation", x, qwen);
            kg_verdict want = !i       ? KG_VERDICT_INCONCLUSIVE
                              : x < 10 ? KG_VERDICT_REPRODUCED
                                       : KG_VERDICT_REFUTED;
            KG_CHECK_MSG(g.verdict == want, "%s baseline, claim %gx: %s (%s)", languages[i], x,
                         kg_verdict_name(g.verdict), g.reason);
            KG_CHECK_NEAR(g.geomean, 10, 0); /* the figures are shown either way */
            if (!i)
                KG_CHECK_CONTAINS(g.reason, "baseline is kgrade's port (reference, language "
                                            "portable), not the Triton kernel the claim names");
        }
        cJSON_Delete(records);
    }
}

/* "kgrade_baseline" as a list: the upstream kernel where the run has it,
 * else the port. A run against both is decided on the Triton kernel's
 * figures (10x); a run against the port alone shows the port's (20x) and
 * is inconclusive. */
static void test_baseline_preference(void)
{
    static const char *const runs[] = {"reference,triton-reference", "reference"};
    for (int i = 0; i < 2; i++) {
        char text[4096];
        snprintf(text, sizeof text,
                 "[{\"type\": \"run\", \"device\": {\"name\": \"Test GPU\"},"
                 "  \"settings\": {\"baseline\": \"%s\", \"candidate\": \"qwen\","
                 "                \"size_class\": \"claim\"}},"
                 " {\"type\": \"shape\", \"workload\": \"extend_attention\","
                 "  \"baseline\": {\"set\": \"reference\", \"language\": \"portable\", "
                 "\"status\": \"ok\"}, \"candidate\": {\"status\": \"ok\"}},"
                 " {\"type\": \"shape\", \"workload\": \"extend_attention\","
                 "  \"baseline\": {\"set\": \"triton-reference\", \"language\": \"triton\", "
                 "\"status\": \"ok\"}, \"candidate\": {\"status\": \"ok\"}},"
                 " {\"type\": \"summary\", \"workloads\": ["
                 "   {\"workload\": \"extend_attention\", \"baseline\": \"reference\","
                 "    \"interval\": \"measurement\", \"geomean\": 20, \"lo\": 19, \"hi\": 21},"
                 "   {\"workload\": \"extend_attention\", \"baseline\": \"triton-reference\","
                 "    \"interval\": \"measurement\", \"geomean\": 10, \"lo\": 9, \"hi\": 11}]}]",
                 runs[i]);
        cJSON *records = cJSON_Parse(text);
        kg_claim_grade g = grade(records, "{\"workload\": \"extend_attention\", \"speedup\": 8, "
                                          "\"statistic\": \"geometric mean\", \"baseline\": "
                                          "\"the reference Triton implementation\", "
                                          "\"kgrade_baseline\": [\"triton-reference\", "
                                          "\"reference\"], \"kgrade_candidate\": \"qwen\", "
                                          "\"kgrade_size_class\": \"claim\"}");
        KG_CHECK_MSG(g.verdict == (i ? KG_VERDICT_INCONCLUSIVE : KG_VERDICT_REPRODUCED),
                     "run against %s: %s (%s)", runs[i], kg_verdict_name(g.verdict), g.reason);
        KG_CHECK_NEAR(g.geomean, i ? 20 : 10, 0);
        cJSON_Delete(records);
    }
}

/* A summary from before measurement intervals (no "interval"): the verdict
 * is taken on the measurement interval computed again from the shapes'
 * samples (10x exactly here: every sample is the same), and says so. */
static void test_old_summary(void)
{
    cJSON *records = cJSON_Parse(
        "[{\"type\": \"run\", \"device\": {\"name\": \"Test GPU\"},"
        "  \"settings\": {\"baseline\": \"reference\", \"candidate\": \"qwen\", \"size_class\": "
        "\"full\"}},"
        " {\"type\": \"shape\", \"workload\": \"extend_attention\", \"shape\": \"a\","
        "  \"baseline\": {\"set\": \"reference\", \"status\": \"ok\", \"samples_s\": [1, 1, 1]},"
        "  \"candidate\": {\"status\": \"ok\", \"samples_s\": [0.1, 0.1, 0.1]}},"
        " {\"type\": \"shape\", \"workload\": \"extend_attention\", \"shape\": \"b\","
        "  \"baseline\": {\"set\": \"reference\", \"status\": \"ok\", \"samples_s\": [2, 2, 2]},"
        "  \"candidate\": {\"status\": \"ok\", \"samples_s\": [0.2, 0.2, 0.2]}},"
        " {\"type\": \"summary\", \"workloads\": [{\"workload\": \"extend_attention\","
        "   \"geomean\": 10, \"lo\": 2, \"hi\": 50}]}]");
    kg_claim_grade g = claim(records, 9, ", \"kgrade_candidate\": \"qwen\"");
    KG_CHECK_MSG(g.verdict == KG_VERDICT_REPRODUCED, "%s (%s)", kg_verdict_name(g.verdict),
                 g.reason);
    KG_CHECK_NEAR(g.lo, 10, 1e-9); /* not the stored 2 */
    KG_CHECK(strcmp(g.interval, "measurement") == 0);
    KG_CHECK_CONTAINS(g.reason, "(measurement interval)");
    cJSON_Delete(records);
}

int main(void)
{
    cJSON *records = cJSON_Parse(results_text);
    KG_CHECK(records != NULL);
    const char *qwen = ", \"kgrade_candidate\": \"qwen\"";

    kg_claim_grade g = claim(records, 8, qwen);
    KG_CHECK_INT(g.verdict, KG_VERDICT_REPRODUCED); /* lower bound 9 >= 8 */
    KG_CHECK_NEAR(g.geomean, 10, 0);
    KG_CHECK_NEAR(g.bound, 100, 1e-9); /* baseline 1 s / speed of light 0.01 s */
    KG_CHECK_CONTAINS(g.reason, "Test GPU");

    KG_CHECK_INT(claim(records, 12, qwen).verdict, KG_VERDICT_REFUTED);      /* 11 < 12 */
    KG_CHECK_INT(claim(records, 10, qwen).verdict, KG_VERDICT_INCONCLUSIVE); /* 9 <= 10 <= 11 */
    KG_CHECK_INT(claim(records, 9, qwen).verdict, KG_VERDICT_REPRODUCED);    /* lo == claim */

    g = claim(records, 200, qwen); /* beyond the speed of light, measured or not */
    KG_CHECK_INT(g.verdict, KG_VERDICT_IMPOSSIBLE);
    KG_CHECK_CONTAINS(g.reason, "100x");
    g = claim(records, 200, ", \"kgrade_candidate\": null");
    KG_CHECK_INT(g.verdict, KG_VERDICT_IMPOSSIBLE);

    g = claim(records, 5, ", \"kgrade_candidate\": \"kimi\""); /* kernels not measured */
    KG_CHECK_INT(g.verdict, KG_VERDICT_UNGRADED);
    KG_CHECK_CONTAINS(g.reason, "within the speed-of-light bound");

    /* Refusals name what does not match. */
    g = grade(records, "{\"workload\": \"gemm\", \"speedup\": 2, \"statistic\": \"geometric "
                       "mean\", \"kgrade_baseline\": \"reference\"}");
    KG_CHECK_INT(g.verdict, KG_VERDICT_REFUSED);
    KG_CHECK_CONTAINS(g.reason, "no shape of workload 'gemm'");
    g = grade(records, "{\"workload\": \"extend_attention\", \"speedup\": 2, \"statistic\": "
                       "\"geometric mean\", \"kgrade_baseline\": \"naive\"}");
    KG_CHECK_INT(g.verdict, KG_VERDICT_REFUSED);
    KG_CHECK_CONTAINS(g.reason, "the baseline is 'reference', the claim's is 'naive'");
    g = grade(records, "{\"workload\": \"extend_attention\", \"speedup\": 2, \"statistic\": "
                       "\"geometric mean\", \"kgrade_baseline\": \"reference\", "
                       "\"kgrade_size_class\": \"small\"}");
    KG_CHECK_INT(g.verdict, KG_VERDICT_REFUSED);
    KG_CHECK_CONTAINS(g.reason, "size class 'full', the claim's shapes are 'small'");
    g = grade(records, "{\"workload\": \"extend_attention\", \"speedup\": 2, \"statistic\": "
                       "\"mean\", \"kgrade_baseline\": \"reference\"}");
    KG_CHECK_INT(g.verdict, KG_VERDICT_REFUSED);
    KG_CHECK_CONTAINS(g.reason, "statistic 'mean' is not a geometric mean");
    g = grade(records, "{\"workload\": \"extend_attention\", \"speedup\": 2, \"statistic\": "
                       "\"geometric mean\", \"baseline\": \"x\"}");
    KG_CHECK_INT(g.verdict, KG_VERDICT_REFUSED);
    KG_CHECK_CONTAINS(g.reason, "no kgrade_baseline");

    cJSON_Delete(records);

    /* A run against several baselines: the claim's baseline is picked out
     * of the list, and so are its summary entry and its shapes. */
    records = cJSON_Parse(
        "[{\"type\": \"run\", \"device\": {\"name\": \"Test GPU\"},"
        "  \"settings\": {\"baseline\": \"naive,reference\", \"candidate\": \"qwen\","
        "                \"size_class\": \"full\"}},"
        " {\"type\": \"shape\", \"workload\": \"extend_attention\", \"speed_of_light_s\": 0.5,"
        "  \"baseline\": {\"set\": \"naive\", \"status\": \"ok\", \"samples_s\": [100]},"
        "  \"candidate\": {\"status\": \"ok\", \"samples_s\": [1]}},"
        " {\"type\": \"shape\", \"workload\": \"extend_attention\", \"speed_of_light_s\": 0.5,"
        "  \"baseline\": {\"set\": \"reference\", \"status\": \"ok\", \"samples_s\": [2]},"
        "  \"candidate\": {\"status\": \"ok\", \"samples_s\": [1]}},"
        " {\"type\": \"summary\", \"workloads\": ["
        "   {\"workload\": \"extend_attention\", \"baseline\": \"naive\", \"interval\": "
        "\"measurement\", \"geomean\": 100,"
        "    \"lo\": 90, \"hi\": 110},"
        "   {\"workload\": \"extend_attention\", \"baseline\": \"reference\", \"interval\": "
        "\"measurement\", \"geomean\": 2,"
        "    \"lo\": 1.8, \"hi\": 2.2}]}]");
    g = claim(records, 3, qwen);
    KG_CHECK_INT(g.verdict, KG_VERDICT_REFUTED); /* against reference: 2x [1.8, 2.2] */
    KG_CHECK_NEAR(g.geomean, 2, 0);
    KG_CHECK_NEAR(g.bound, 4, 1e-12); /* reference 2 s / speed of light 0.5 s */
    KG_CHECK_INT(claim(records, 5, qwen).verdict, KG_VERDICT_IMPOSSIBLE);
    cJSON_Delete(records);

    /* Failing on purpose does not pay: the same 10x [9, 11] with one of
     * three shapes crashed (it counts as 1x in the geomean, which the
     * summary below leaves high) is never "reproduced"; the reason says
     * how many shapes failed. A shape the baseline failed is the same. */
    static const char *const failing[] = {
        "\"candidate\": {\"status\": \"crashed\", \"samples_s\": []}",
        "\"candidate\": {\"status\": \"missing\", \"samples_s\": []}",
    };
    for (int f = 0; f < 3; f++) {
        char text[2048];
        snprintf(text, sizeof text,
                 "[{\"type\": \"run\", \"device\": {\"name\": \"Test GPU\"},"
                 "  \"settings\": {\"baseline\": \"reference\", \"candidate\": \"qwen\","
                 "                \"size_class\": \"full\"}},"
                 " {\"type\": \"shape\", \"workload\": \"extend_attention\","
                 "  \"baseline\": {\"set\": \"reference\", \"status\": \"ok\"},"
                 "  \"candidate\": {\"status\": \"ok\"}},"
                 " {\"type\": \"shape\", \"workload\": \"extend_attention\","
                 "  \"baseline\": {\"set\": \"reference\", \"status\": \"ok\"},"
                 "  \"candidate\": {\"status\": \"ok\"}},"
                 " {\"type\": \"shape\", \"workload\": \"extend_attention\","
                 "  \"baseline\": {\"set\": \"reference\", \"status\": \"%s\"}, %s},"
                 " {\"type\": \"summary\", \"workloads\": [{\"workload\": \"extend_attention\","
                 "   \"interval\": \"measurement\", \"geomean\": 10, \"lo\": 9, \"hi\": 11}]}]",
                 f == 2 ? "crashed" : "ok",
                 f == 2 ? "\"candidate\": {\"status\": \"ok\"}" : failing[f]);
        records = cJSON_Parse(text);
        KG_CHECK(records != NULL);
        g = claim(records, 8, qwen);
        KG_CHECK_MSG(g.verdict == KG_VERDICT_INCONCLUSIVE, "case %d: verdict %s", f,
                     kg_verdict_name(g.verdict));
        KG_CHECK_INT(g.failed_shapes, 1);
        KG_CHECK_INT(g.shapes, 3);
        KG_CHECK_CONTAINS(g.reason, "1 of the claim's 3 shapes failed");
        KG_CHECK_INT(claim(records, 12, qwen).verdict, KG_VERDICT_REFUTED); /* still refuted */
        cJSON_Delete(records);
    }
    test_triton_baseline();
    test_baseline_preference();
    test_old_summary();
    return kg_test_finish("test_verify");
}
