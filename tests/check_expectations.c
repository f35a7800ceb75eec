/*
 * check_expectations RESULTS.jsonl EXPECT.json
 *
 * Checks a kgrade run of one submission against the expectations written
 * next to it (kernels/examples/adversarial/<name>/expect.json):
 *   {"caught_by": "flag" | null,
 *    "expect": [{"shape": "name" | "*", "status": "s" | ["s", ...],
 *                "flag": "first flag" | null (no flag at all)}, ...]}
 * Each shape record's candidate is matched by the first entry naming its
 * shape (or "*"); "caught_by" must be the first flag of at least one shape
 * (null: of none, the example is correct). Prints one line per shape and a
 * verdict; exit 0 when everything holds.
 */
#include "json_file.h"
#include "results.h"

#include <stdio.h>
#include <string.h>

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const cJSON *entry_for(const cJSON *expect, const char *shape)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, expect)
    {
        const char *s = str(e, "shape");
        if (s && (strcmp(s, "*") == 0 || strcmp(s, shape) == 0))
            return e;
    }
    return NULL;
}

static int status_allowed(const cJSON *want, const char *status)
{
    if (cJSON_IsString(want))
        return strcmp(want->valuestring, status) == 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, want)
    {
        if (cJSON_IsString(s) && strcmp(s->valuestring, status) == 0)
            return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: check_expectations RESULTS.jsonl EXPECT.json\n");
        return 2;
    }
    kg_error err = {0};
    cJSON *records = NULL, *spec = NULL;
    if (kg_results_read_last_run(argv[1], &records, &err) || kg_json_load(argv[2], &spec, &err)) {
        fprintf(stderr, "check_expectations: %s\n", err.message);
        cJSON_Delete(records);
        return 2;
    }
    const cJSON *expect = cJSON_GetObjectItemCaseSensitive(spec, "expect");
    const char *caught_by = str(spec, "caught_by");
    int failures = 0, shapes = 0, caught = 0;
    const cJSON *rec;
    cJSON_ArrayForEach(rec, records)
    {
        const char *type = str(rec, "type");
        if (!type || strcmp(type, "shape") != 0)
            continue;
        shapes++;
        const char *shape = str(rec, "shape");
        const cJSON *cand = cJSON_GetObjectItemCaseSensitive(rec, "candidate");
        const char *status = str(cand, "status");
        const cJSON *flags = cJSON_GetObjectItemCaseSensitive(cand, "flags");
        const cJSON *first_item = cJSON_GetArrayItem(flags, 0);
        const char *first = cJSON_IsString(first_item) ? first_item->valuestring : NULL;
        const char *error = str(cand, "error");
        if (caught_by && first && strcmp(first, caught_by) == 0)
            caught++;
        if (!caught_by && first)
            caught++;
        const cJSON *e = entry_for(expect, shape ? shape : "");
        const char *why = NULL;
        if (!e)
            why = "no expectation names this shape";
        else if (!status || !status_allowed(cJSON_GetObjectItemCaseSensitive(e, "status"), status))
            why = "unexpected status";
        else if (cJSON_HasObjectItem(e, "flag")) {
            const char *want = str(e, "flag");
            if (want ? !first || strcmp(first, want) != 0 : first != NULL)
                why = "unexpected first flag";
        }
        printf("%-4s %-22s %-18s %-22s %.160s\n", why ? "FAIL" : "ok", shape ? shape : "?",
               status ? status : "?", first ? first : "-", error ? error : "");
        if (why) {
            printf("     ^ %s\n", why);
            failures++;
        }
    }
    if (shapes == 0) {
        printf("FAIL: no shape records in %s\n", argv[1]);
        failures++;
    }
    if (caught_by && caught == 0) {
        printf("FAIL: no shape was flagged %s\n", caught_by);
        failures++;
    }
    if (!caught_by && caught) {
        printf("FAIL: %d shape(s) of a correct example were flagged (false positives)\n", caught);
        failures++;
    }
    printf("%s: %s (%d of %d shapes flagged %s)\n", failures ? "FAIL" : "PASS", argv[2], caught,
           shapes, caught_by ? caught_by : "at all");
    cJSON_Delete(records);
    cJSON_Delete(spec);
    return failures ? 1 : 0;
}
