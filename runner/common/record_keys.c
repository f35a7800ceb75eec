/* The names of record types, set statuses and flags: one table each. */
#include "record_keys.h"

#include <string.h>

static const char *const record_type_names[KG_RECORD_TYPE_COUNT] = {
    [KG_RECORD_RUN] = "run",         [KG_RECORD_SHAPE] = "shape",
    [KG_RECORD_SKIPPED] = "skipped", [KG_RECORD_RESUMED] = "resumed",
    [KG_RECORD_SUMMARY] = "summary",
};

/* In the order docs/formats.md lists them. */
static const char *const set_status_names[KG_SET_STATUS_COUNT] = {
    [KG_SET_STATUS_OK] = "ok",
    [KG_SET_STATUS_BUILD_FAILED] = "build_failed",
    [KG_SET_STATUS_SETUP_FAILED] = "setup_failed",
    [KG_SET_STATUS_REFUSED] = "refused",
    [KG_SET_STATUS_LAUNCH_FAILED] = "launch_failed",
    [KG_SET_STATUS_CHECK_FAILED] = "check_failed",
    [KG_SET_STATUS_INTEGRITY_FAILED] = "integrity_failed",
    [KG_SET_STATUS_RECHECK_FAILED] = "recheck_failed",
    [KG_SET_STATUS_TIMING_FAILED] = "timing_failed",
    [KG_SET_STATUS_CRASHED] = "crashed",
    [KG_SET_STATUS_TIMEOUT] = "timeout",
    [KG_SET_STATUS_MISSING] = "missing",
    [KG_SET_STATUS_NOT_RUN] = "not_run",
};

static const char *const flag_names[KG_FLAG_COUNT] = {
    [KG_FLAG_CRASHED] = "crashed",
    [KG_FLAG_TIMEOUT] = "timeout",
    [KG_FLAG_SOURCE_REFUSED] = "source_refused",
    [KG_FLAG_EXCESSIVE_REQUEST] = "excessive_request",
    [KG_FLAG_OUT_OF_BOUNDS_WRITE] = "out_of_bounds_write",
    [KG_FLAG_INPUT_MODIFIED] = "input_modified",
    [KG_FLAG_NONDETERMINISTIC] = "nondeterministic",
    [KG_FLAG_UNWRITTEN_OUTPUT] = "unwritten_output",
    [KG_FLAG_WRONG_OUTPUT] = "wrong_output",
    [KG_FLAG_TIMED_RUN_WRONG] = "timed_run_wrong",
    [KG_FLAG_NUDGED_INPUTS_FAILED] = "nudged_inputs_failed",
    [KG_FLAG_FRESH_INPUTS_FAILED] = "fresh_inputs_failed",
    [KG_FLAG_HEAVY_TAILED_FAILED] = "heavy_tailed_failed",
    [KG_FLAG_STRESS_FAILED] = "stress_failed",
    [KG_FLAG_FASTER_THAN_LIGHT] = "faster_than_light",
    [KG_FLAG_MISSING_KERNEL] = "missing_kernel",
    [KG_FLAG_UNSUPPORTED_SHAPE] = "unsupported_shape",
};

/* Entry `value` of a table of `count` names (entry 0, UNKNOWN, is NULL). */
static const char *name_of(const char *const *names, int count, int value)
{
    return value > 0 && value < count ? names[value] : NULL;
}

/* The index of `name` in a table, or 0 (UNKNOWN). */
static int parse_in(const char *const *names, int count, const char *name)
{
    for (int i = 1; name && i < count; i++)
        if (names[i] && strcmp(names[i], name) == 0)
            return i;
    return 0;
}

/* A string member of `o`, or NULL. */
static const char *string_at(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *kg_record_type_name(kg_record_type type)
{
    return name_of(record_type_names, KG_RECORD_TYPE_COUNT, (int)type);
}

kg_record_type kg_record_type_parse(const char *name)
{
    return (kg_record_type)parse_in(record_type_names, KG_RECORD_TYPE_COUNT, name);
}

kg_record_type kg_record_type_of(const cJSON *record)
{
    return kg_record_type_parse(string_at(record, KG_KEY_TYPE));
}

int kg_record_is(const cJSON *record, kg_record_type type)
{
    return type != KG_RECORD_UNKNOWN && kg_record_type_of(record) == type;
}

const char *kg_set_status_name(kg_set_status status)
{
    return name_of(set_status_names, KG_SET_STATUS_COUNT, (int)status);
}

kg_set_status kg_set_status_parse(const char *name)
{
    return (kg_set_status)parse_in(set_status_names, KG_SET_STATUS_COUNT, name);
}

kg_set_status kg_set_status_of(const cJSON *set)
{
    return kg_set_status_parse(string_at(set, KG_KEY_SET_STATUS));
}

const char *kg_flag_name(kg_flag flag)
{
    return name_of(flag_names, KG_FLAG_COUNT, (int)flag);
}

kg_flag kg_flag_parse(const char *name)
{
    return (kg_flag)parse_in(flag_names, KG_FLAG_COUNT, name);
}
