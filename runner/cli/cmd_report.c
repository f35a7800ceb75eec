/* `kgrade report`: the Markdown summary of a saved results file. */
#include "cli.h"
#include "commands.h"
#include "data_dirs.h"
#include "markdown.h"
#include "record_keys.h"
#include "results.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

typedef struct report_options {
    size_t run; /* 1-based run number within the file; 0 = every run */
    const char *claims_dir;
} report_options;

#define OPT(name_, type_, field_, arg_, help_)                                                     \
    {                                                                                              \
        name_, type_, offsetof(report_options, field_), arg_, help_                                \
    }

static const kg_option report_options_table[] = {
    OPT("run", KG_OPT_SIZE, run, "N",
        "only the N-th run of the file (a results file can hold several; default: all)"),
    OPT("claims", KG_OPT_STRING, claims_dir, "DIR",
        "folder of published claims for the report (default: above)"),
};

/* The records of the n-th run (1-based): from its header up to the next. */
static cJSON *run_records(const cJSON *all, size_t n)
{
    cJSON *out = cJSON_CreateArray();
    size_t seen = 0;
    const cJSON *rec;
    cJSON_ArrayForEach(rec, all)
    {
        if (kg_record_is(rec, KG_RECORD_RUN))
            seen++;
        if (seen == n)
            cJSON_AddItemReferenceToArray(out, (cJSON *)rec);
    }
    return out;
}

static int run_report(const kg_command *self, int argc, char **argv)
{
    report_options opts = {0};
    const char *pos[1];
    size_t npos = 0;
    int rc = kg_cli_parse(self, &opts, argc, argv, pos, 1, &npos);
    if (rc)
        return rc > 0 ? KG_EXIT_OK : KG_EXIT_USAGE;
    if (npos != 1) {
        fprintf(stderr, "kgrade report: expected one results file (see `kgrade report --help`)\n");
        return KG_EXIT_USAGE;
    }
    kg_error err = {0};
    char claims_dir[PATH_MAX];
    if (kg_data_dir_find(KG_DATA_CLAIMS, opts.claims_dir, "--claims", claims_dir, sizeof claims_dir,
                         NULL, &err) != KG_OK) {
        fprintf(stderr, "kgrade report: %s\n", err.message);
        return KG_EXIT_USAGE;
    }
    cJSON *all = NULL;
    if (kg_results_read(pos[0], &all, &err) != KG_OK) {
        fprintf(stderr, "kgrade report: %s\n", err.message);
        return KG_EXIT_USAGE;
    }
    size_t runs = 0;
    const cJSON *rec;
    cJSON_ArrayForEach(rec, all)
    {
        runs += kg_record_is(rec, KG_RECORD_RUN);
    }
    if (runs == 0 || opts.run > runs) {
        fprintf(stderr, "kgrade report: %s: %s\n", pos[0],
                runs == 0 ? "no run header: not a kgrade results file"
                          : "there are fewer runs in the file than --run asks for");
        cJSON_Delete(all);
        return KG_EXIT_USAGE;
    }
    for (size_t n = 1; n <= runs; n++) {
        if (opts.run && n != opts.run)
            continue;
        cJSON *records = run_records(all, n);
        if (n > 1 && !opts.run)
            printf("\n");
        kg_report_markdown(stdout, records, claims_dir);
        cJSON_Delete(records);
    }
    cJSON_Delete(all);
    return KG_EXIT_OK;
}

const kg_command kg_command_report = {
    .name = "report",
    .summary = "Print the Markdown summary of a saved results file.",
    .usage = "kgrade report [options] RESULTS.jsonl",
    .description =
        "Reads a results file written by `kgrade run --out` and prints the same report the run\n"
        "printed (the run uses this code too). A file that received several runs gives one\n"
        "report per run, in order. When a run was interrupted before its summary, the summary\n"
        "is computed from the shapes that were recorded.\n\n"
        "The published claims set beside each workload are read from the first of: --claims;\n"
        "the variable KGRADE_CLAIMS_DIR; $KGRADE_DATA_DIR/reports/claims; for an installed\n"
        "kgrade, <prefix>/share/kgrade/reports/claims; reports/claims in the source tree\n"
        "kgrade was built from. A folder named by the option or a variable must exist.\n\n"
        "examples:\n"
        "  kgrade report results/demo.jsonl\n"
        "  kgrade report --run 2 results/demo.jsonl",
    .exit_status = "0 the report was printed (whatever it says: the exit status of `kgrade run`\n"
                   "tells whether candidates failed), 2 bad usage or input",
    .options = report_options_table,
    .option_count = sizeof report_options_table / sizeof report_options_table[0],
    .run = run_report,
};
