/* The speed-of-light check on real shape records: a set faster than the
 * bound is an integrity failure (hard with datasheet peaks, with a 2x
 * allowance with measured ones); a slower set is left alone. */
#include "kg_test.h"
#include "sol_check.h"

#include <string.h>

/* 1 GB moved, no FLOPs: at 1000 GB/s the bound is 1 ms. */
static cJSON *record(double baseline_s, double candidate_s)
{
    char text[600];
    snprintf(text, sizeof text,
             "{\"type\":\"shape\",\"flops\":0,\"bytes\":1e9,\"output_dtype\":\"f32\","
             "\"baseline\":{\"set\":\"naive\",\"status\":\"ok\",\"flags\":[],"
             "\"samples_s\":[%g,%g,%g]},"
             "\"candidate\":{\"set\":\"x\",\"status\":\"ok\",\"flags\":[],"
             "\"samples_s\":[%g,%g,%g]}}",
             baseline_s, baseline_s, baseline_s, candidate_s, candidate_s, candidate_s);
    return cJSON_Parse(text);
}

static const char *status_of(const cJSON *rec, const char *role)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rec, role), "status")
        ->valuestring;
}

int main(void)
{
    kg_peaks datasheet = {.dram_gbs = 1000, .compute_tflops_f32 = 50};
    kg_peaks measured = datasheet;
    measured.measured = 1;

    cJSON *fine = record(4e-3, 1.1e-3);
    KG_CHECK_INT(kg_sol_check(fine, &datasheet), 0);
    KG_CHECK_NEAR(cJSON_GetObjectItemCaseSensitive(fine, "speed_of_light_s")->valuedouble, 1e-3,
                  1e-12);
    KG_CHECK(strcmp(status_of(fine, "candidate"), "ok") == 0);
    cJSON_Delete(fine);

    /* 0.5 ms for 1 GB at 1000 GB/s: impossible. */
    cJSON *fast = record(4e-3, 0.5e-3);
    KG_CHECK_INT(kg_sol_check(fast, &datasheet), 1);
    KG_CHECK(strcmp(status_of(fast, "candidate"), "integrity_failed") == 0);
    KG_CHECK(strcmp(status_of(fast, "baseline"), "ok") == 0);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(fast, "candidate");
    KG_CHECK_CONTAINS(cJSON_GetObjectItemCaseSensitive(c, "error")->valuestring,
                      "faster than the speed-of-light bound");
    KG_CHECK(
        strcmp(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(c, "flags"), 0)->valuestring,
               "faster_than_light") == 0);
    cJSON_Delete(fast);

    /* Measured peaks may be low: 0.6 ms is allowed, 0.4 ms is not. */
    cJSON *near = record(4e-3, 0.6e-3);
    KG_CHECK_INT(kg_sol_check(near, &measured), 0);
    cJSON_Delete(near);
    cJSON *beyond = record(4e-3, 0.4e-3);
    KG_CHECK_INT(kg_sol_check(beyond, &measured), 1);
    cJSON_Delete(beyond);

    /* Unknown peaks: nothing to say. */
    kg_peaks none = {0};
    cJSON *unknown = record(4e-3, 1e-9);
    KG_CHECK_INT(kg_sol_check(unknown, &none), 0);
    KG_CHECK(!cJSON_HasObjectItem(unknown, "speed_of_light_s"));
    cJSON_Delete(unknown);
    return kg_test_finish("test_sol_check");
}
