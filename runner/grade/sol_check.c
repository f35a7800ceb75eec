/* Flagging sets measured faster than the device's speed of light. */
#include "sol_check.h"
#include "summary.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static double number(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

int kg_sol_check(cJSON *rec, const kg_peaks *peaks)
{
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(rec, "output_dtype");
    double sol = kg_peaks_speed_of_light(peaks, number(rec, "flops"), number(rec, "bytes"),
                                         cJSON_IsString(dtype) ? dtype->valuestring : "f32");
    if (!isfinite(sol) || sol <= 0)
        return 0;
    cJSON_AddNumberToObject(rec, "speed_of_light_s", sol);
    double allowance = peaks->measured ? KG_SOL_MEASURED_ALLOWANCE : 1.0;
    int flagged = 0;
    static const char *const roles[] = {"baseline", "candidate"};
    for (int i = 0; i < 2; i++) {
        cJSON *set = cJSON_GetObjectItemCaseSensitive(rec, roles[i]);
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(set, "status");
        if (!cJSON_IsString(status) || strcmp(status->valuestring, "ok") != 0)
            continue;
        double median = kg_summary_median(cJSON_GetObjectItemCaseSensitive(set, "samples_s"));
        if (!(median < sol / allowance))
            continue;
        char error[400];
        snprintf(error, sizeof error,
                 "faster_than_light: median %.4g s is %.2fx faster than the speed-of-light bound "
                 "%.4g s (%s peaks%s): the kernel cannot have done the work, or its timing is "
                 "broken",
                 median, sol / median, sol, peaks->measured ? "measured" : "datasheet",
                 peaks->measured ? ", allowing 2x for probe error" : "");
        cJSON_ReplaceItemInObjectCaseSensitive(set, "status",
                                               cJSON_CreateString("integrity_failed"));
        cJSON_DeleteItemFromObjectCaseSensitive(set, "error");
        cJSON_AddStringToObject(set, "error", error);
        cJSON *flags = cJSON_GetObjectItemCaseSensitive(set, "flags");
        if (!flags)
            flags = cJSON_AddArrayToObject(set, "flags");
        cJSON_AddItemToArray(flags, cJSON_CreateString("faster_than_light"));
        flagged++;
    }
    return flagged;
}
