/* Flagging sets measured faster than the device's speed of light. */
#include "sol_check.h"
#include "record_keys.h"
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
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_OUTPUT_DTYPE);
    double sol = kg_peaks_speed_of_light(peaks, number(rec, KG_KEY_SHAPE_FLOPS),
                                         number(rec, KG_KEY_SHAPE_BYTES),
                                         cJSON_IsString(dtype) ? dtype->valuestring : "f32");
    if (!isfinite(sol) || sol <= 0)
        return 0;
    cJSON_AddNumberToObject(rec, KG_KEY_SHAPE_SPEED_OF_LIGHT_S, sol);
    double allowance = peaks->measured ? KG_SOL_MEASURED_ALLOWANCE : 1.0;
    int flagged = 0;
    static const char *const roles[] = {KG_KEY_SHAPE_BASELINE, KG_KEY_SHAPE_CANDIDATE};
    for (int i = 0; i < 2; i++) {
        cJSON *set = cJSON_GetObjectItemCaseSensitive(rec, roles[i]);
        if (kg_set_status_of(set) != KG_SET_STATUS_OK)
            continue;
        double median =
            kg_summary_median(cJSON_GetObjectItemCaseSensitive(set, KG_KEY_SET_SAMPLES_S));
        if (!(median < sol / allowance))
            continue;
        char error[400];
        snprintf(error, sizeof error,
                 "%s: median %.4g s is %.2fx faster than the speed-of-light bound %.4g s (%s "
                 "peaks%s): the kernel cannot have done the work, or its timing is broken",
                 kg_flag_name(KG_FLAG_FASTER_THAN_LIGHT), median, sol / median, sol,
                 peaks->measured ? "measured" : "datasheet",
                 peaks->measured ? ", allowing 2x for probe error" : "");
        cJSON_ReplaceItemInObjectCaseSensitive(
            set, KG_KEY_SET_STATUS,
            cJSON_CreateString(kg_set_status_name(KG_SET_STATUS_INTEGRITY_FAILED)));
        cJSON_DeleteItemFromObjectCaseSensitive(set, KG_KEY_SET_ERROR);
        cJSON_AddStringToObject(set, KG_KEY_SET_ERROR, error);
        cJSON *flags = cJSON_GetObjectItemCaseSensitive(set, KG_KEY_SET_FLAGS);
        if (!flags)
            flags = cJSON_AddArrayToObject(set, KG_KEY_SET_FLAGS);
        cJSON_AddItemToArray(flags, cJSON_CreateString(kg_flag_name(KG_FLAG_FASTER_THAN_LIGHT)));
        flagged++;
    }
    return flagged;
}
