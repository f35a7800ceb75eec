/*
 * The adversarial examples' harness (tests/adversarial.sh), driven by each
 * example's expect.json (kernels/examples/adversarial/<name>/expect.json):
 *
 *   {"caught_by": "flag" | null,        a flag at least one shape must raise
 *                                        first (null: none may, the example
 *                                        is correct or neutralised)
 *    "workload": "softmax",             what to run (defaults shown)
 *    "workloads": "softmax,rmsnorm",    several, instead of "workload"
 *    "size_class": "smoke",
 *    "baseline": "naive",
 *    "submission": ".",                 the candidate, relative to the example
 *    "candidate_tier": "tuned",         or a tier as the candidate
 *    "run_in": "example" | "build",     kgrade's working folder
 *    "timeout_s": 30,
 *    "exit": [0, 1],                    the exit codes kgrade may return
 *    "log_contains": ["..."],           text its stdout+stderr must contain
 *    "baseline_manifest_ends_with": "", what every shape's baseline must be
 *    "expect": [{"shape": "name" | "*", "status": "s" | ["s", ...],
 *                "flag": "first flag" | ["f", ...] | null (no flag at all)}]}
 *
 *   check_expectations plan EXPECT.json EXAMPLE_DIR
 *       prints "cwd PATH", then "arg X" lines: the kgrade command to run
 *   check_expectations check RESULTS.jsonl EXPECT.json LOG EXIT_CODE
 *       checks what the run did; prints one line per shape and a verdict;
 *       exits 0 when everything holds
 */
#include "json_file.h"
#include "results.h"

#include <stdio.h>
#include <stdlib.h>
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

/* `want` is a string or an array of strings (null in it: no value); 1 when
 * `value` is one of them. */
static int one_of(const cJSON *want, const char *value)
{
    if (cJSON_IsString(want))
        return value && strcmp(want->valuestring, value) == 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, want)
    {
        if (cJSON_IsString(s) && value && strcmp(s->valuestring, value) == 0)
            return 1;
        if (cJSON_IsNull(s) && !value)
            return 1;
    }
    return 0;
}

static int plan(const cJSON *spec, const char *dir)
{
    const char *run_in = str(spec, "run_in");
    const char *submission = str(spec, "submission");
    const char *workloads = str(spec, "workloads");
    const char *workload = str(spec, "workload");
    const char *size_class = str(spec, "size_class");
    const char *baseline = str(spec, "baseline");
    const cJSON *timeout = cJSON_GetObjectItemCaseSensitive(spec, "timeout_s");
    int in_example = run_in && strcmp(run_in, "example") == 0;
    if (in_example)
        printf("cwd %s\n", dir);
    printf("arg run\narg --workload\narg %s\n", workloads  ? workloads
                                                : workload ? workload
                                                           : "softmax");
    printf("arg --size-class\narg %s\n", size_class ? size_class : "smoke");
    if (baseline)
        printf("arg --baseline\narg %s\n", baseline);
    /* A submission is a path: from inside the example, "./x". */
    const char *tier = str(spec, "candidate_tier");
    if (tier)
        printf("arg --candidate\narg %s\n", tier);
    else if (in_example)
        printf("arg --candidate\narg ./%s\n", submission ? submission : ".");
    else
        printf("arg --candidate\narg %s/%s\n", dir, submission ? submission : ".");
    printf("arg --timeout\narg %d\n", cJSON_IsNumber(timeout) ? (int)timeout->valuedouble : 30);
    printf("arg --max-time\narg 0.3\narg --quiet\n");
    return 0;
}

static int check(const char *results, const cJSON *spec, const char *log_path, int exit_code)
{
    int failures = 0;
    /* The exit code: 0 or 1 unless the example says otherwise. */
    const cJSON *exits = cJSON_GetObjectItemCaseSensitive(spec, "exit");
    int exit_ok = 0;
    if (cJSON_IsArray(exits)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, exits)
        {
            exit_ok |= cJSON_IsNumber(e) && (int)e->valuedouble == exit_code;
        }
    } else {
        exit_ok = exit_code == 0 || exit_code == 1;
    }
    if (!exit_ok) {
        printf("FAIL: kgrade exited with %d\n", exit_code);
        failures++;
    }
    /* What it printed. */
    char *log = NULL;
    size_t log_size = 0;
    kg_error err = {0};
    if (kg_read_file(log_path, &log, &log_size, &err) != KG_OK) {
        printf("FAIL: %s\n", err.message);
        return 1;
    }
    const cJSON *pattern;
    cJSON_ArrayForEach(pattern, cJSON_GetObjectItemCaseSensitive(spec, "log_contains"))
    {
        int found = cJSON_IsString(pattern) && strstr(log, pattern->valuestring);
        printf("%-4s output contains \"%s\"\n", found ? "ok" : "FAIL",
               cJSON_IsString(pattern) ? pattern->valuestring : "?");
        failures += !found;
    }
    free(log);
    const cJSON *expect = cJSON_GetObjectItemCaseSensitive(spec, "expect");
    if (!expect)
        goto done; /* a refused run: nothing was graded */

    cJSON *records = NULL;
    if (kg_results_read_last_run(results, &records, &err)) {
        printf("FAIL: %s\n", err.message);
        return 1;
    }
    const char *caught_by = str(spec, "caught_by");
    const char *manifest_end = str(spec, "baseline_manifest_ends_with");
    int shapes = 0, caught = 0;
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
        const char *manifest = str(cJSON_GetObjectItemCaseSensitive(rec, "baseline"), "manifest");
        if (!e)
            why = "no expectation names this shape";
        else if (!status || !one_of(cJSON_GetObjectItemCaseSensitive(e, "status"), status))
            why = "unexpected status";
        else if (cJSON_HasObjectItem(e, "flag")) {
            const cJSON *want = cJSON_GetObjectItemCaseSensitive(e, "flag");
            if (cJSON_IsNull(want) ? first != NULL : !one_of(want, first))
                why = "unexpected first flag";
        }
        if (!why && manifest_end &&
            (!manifest || strlen(manifest) < strlen(manifest_end) ||
             strcmp(manifest + strlen(manifest) - strlen(manifest_end), manifest_end) != 0))
            why = "the baseline is not the expected manifest";
        printf("%-4s %-22s %-18s %-22s %.160s\n", why ? "FAIL" : "ok", shape ? shape : "?",
               status ? status : "?", first ? first : "-", error ? error : "");
        if (why) {
            printf("     ^ %s%s%s\n", why, manifest_end ? ": " : "", manifest_end ? manifest : "");
            failures++;
        }
    }
    if (shapes == 0) {
        printf("FAIL: no shape records in %s\n", results);
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
    printf("%d of %d shapes flagged %s\n", caught, shapes, caught_by ? caught_by : "at all");
    cJSON_Delete(records);
done:
    printf("%s\n", failures ? "FAIL" : "PASS");
    return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
    int is_plan = argc == 4 && strcmp(argv[1], "plan") == 0;
    int is_check = argc == 6 && strcmp(argv[1], "check") == 0;
    if (!is_plan && !is_check) {
        fprintf(stderr, "usage: check_expectations plan EXPECT.json EXAMPLE_DIR\n"
                        "       check_expectations check RESULTS.jsonl EXPECT.json LOG EXIT\n");
        return 2;
    }
    kg_error err = {0};
    cJSON *spec = NULL;
    if (kg_json_load(is_plan ? argv[2] : argv[3], &spec, &err)) {
        fprintf(stderr, "check_expectations: %s\n", err.message);
        return 2;
    }
    int rc = is_plan ? plan(spec, argv[3]) : check(argv[2], spec, argv[4], atoi(argv[5]));
    cJSON_Delete(spec);
    return rc;
}
