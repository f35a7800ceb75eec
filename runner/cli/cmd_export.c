/* `kgrade export`: a results file as CSV, LaTeX or JSON. */
#include "cli.h"
#include "commands.h"
#include "export.h"
#include "record_keys.h"
#include "results.h"

#include <stddef.h>
#include <stdio.h>

typedef struct export_options {
    const char *format;
} export_options;

#define OPT(name_, type_, field_, arg_, help_)                                                     \
    {                                                                                              \
        name_, type_, offsetof(export_options, field_), arg_, help_                                \
    }

static const kg_option export_options_table[] = {
    OPT("format", KG_OPT_STRING, format, "FORMAT", "csv, latex or json (csv)"),
};

static int run_export(const kg_command *self, int argc, char **argv)
{
    export_options opts = {.format = "csv"};
    const char *pos[1];
    size_t npos = 0;
    int rc = kg_cli_parse(self, &opts, argc, argv, pos, 1, &npos);
    if (rc)
        return rc > 0 ? KG_EXIT_OK : KG_EXIT_USAGE;
    int format = kg_export_format_parse(opts.format);
    if (npos != 1 || format < 0) {
        fprintf(stderr, "kgrade export: expected one results file and --format csv, latex or "
                        "json (see `kgrade export --help`)\n");
        return KG_EXIT_USAGE;
    }
    cJSON *records = NULL;
    kg_error err = {0};
    if (kg_results_read_last_run(pos[0], &records, &err) != KG_OK) {
        fprintf(stderr, "kgrade export: %s\n", err.message);
        return KG_EXIT_USAGE;
    }
    kg_export(stdout, records, (kg_export_format)format);
    cJSON_Delete(records);
    return KG_EXIT_OK;
}

const kg_command kg_command_export = {
    .name = "export",
    .summary = "Write a results file as CSV, LaTeX or JSON for other tools.",
    .usage = "kgrade export [--format csv|latex|json] RESULTS.jsonl",
    .description =
        "Writes the last run of RESULTS to stdout:\n"
        "  csv    one row per shape and set (kind \"set\": status, flags, samples, the median\n"
        "         and its 95% interval in seconds, stop reason, GB/s, GFLOP/s, % of the\n"
        "         device's speed-of-light bound, the shape's speedup and interval) and one per\n"
        "         workload and overall (kind \"summary\": the geomean in the speedup columns,\n"
        "         its measurement interval, and the shape-sampling interval)\n"
        "  latex  a booktabs table per workload and baseline: shape, both medians, speedup\n"
        "         [95% CI], the geomean; the device, driver and size class in the caption\n"
        "  json   one document: the run header, one object per shape and set with the\n"
        "         figures of the CSV, and the summary\n"
        "Only the file is read; where the run was stopped before its summary, the summary is\n"
        "computed from its shapes.\n\n"
        "examples:\n"
        "  kgrade export results/demo.jsonl > demo.csv\n"
        "  kgrade export --format latex results/h100.jsonl > table.tex",
    .exit_status = "0 written, 2 bad usage or an unreadable file",
    .options = export_options_table,
    .option_count = sizeof export_options_table / sizeof export_options_table[0],
    .run = run_export,
};
