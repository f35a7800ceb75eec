/*
 * libFuzzer target: the readers of results files. The input is written as
 * a results file (JSON lines) and read as `kgrade report`, `compare` and
 * `export` read one: kg_results_read_last_run_tolerant (each line it cannot
 * use noted, naming the file), then the Markdown report,
 * the run compared with itself, and every export format, all written to
 * /dev/null. A torn line, a record of the wrong shape, a newer schema or
 * numbers where strings belong must be reported or skipped, never crash.
 * Checked besides the sanitizers: a read that fails says why and leaves no
 * records.
 */
#include "fuzz_common.h"

#include "compare.h"
#include "export.h"
#include "export_html.h"
#include "markdown.h"
#include "record_keys.h"
#include "results.h"
#include "summary.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *null_out;
    if (!null_out && !(null_out = fopen("/dev/null", "w")))
        kg_fuzz_die("cannot open", "/dev/null");
    char dir[PATH_MAX], file[PATH_MAX + 32];
    kg_fuzz_make_folder("r", dir, sizeof dir);
    snprintf(file, sizeof file, "%s/results.jsonl", dir);
    kg_fuzz_write(file, data, size);

    cJSON *records = NULL;
    kg_error err;
    err.message[0] = '\0';
    cJSON *notes = cJSON_CreateArray();
    int rc = kg_results_read_last_run_tolerant(file, &records, notes, &err);
    const cJSON *n;
    cJSON_ArrayForEach(n, notes)
    {
        if (!cJSON_IsString(n) || !strstr(n->valuestring, file))
            kg_fuzz_die("a note that does not name the file", file);
    }
    cJSON_Delete(notes);
    kg_fuzz_report("results", rc, err.message);
    if (rc == KG_OK) {
        /* The readers compute a missing summary with 10,000 resamples:
         * seconds under the sanitizers. One of 100 is added instead, which
         * they then read; it is the same code. */
        int has_summary = 0;
        const cJSON *rec;
        cJSON_ArrayForEach(rec, records) has_summary |= kg_record_is(rec, KG_RECORD_SUMMARY);
        if (!has_summary)
            cJSON_AddItemToArray(records, kg_summary_compute(records, 100, 1));
        kg_report_markdown(null_out, records, NULL);
        kg_compare_run runs[2] = {{"a", records}, {"b", records}};
        kg_compare_options o = {.tolerance = 0.02, .resamples = 100, .seed = 1};
        kg_compare_markdown(null_out, runs, 2, &o);
        for (int f = KG_EXPORT_CSV; f <= KG_EXPORT_JSON; f++)
            kg_export(null_out, records, (kg_export_format)f);
        kg_export_html(null_out, runs, 2, 10);
    } else if (records != NULL || err.message[0] == '\0') {
        kg_fuzz_die("failed read without a message or with records", file);
    }
    cJSON_Delete(records);
    unlink(file);
    return 0;
}
