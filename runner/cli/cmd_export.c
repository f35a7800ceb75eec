/* `kgrade export`: a results file as CSV, LaTeX or JSON. */
#include "cli.h"
#include "commands.h"
#include "export.h"
#include "export_html.h"
#include "record_keys.h"
#include "results.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define KG_EXPORT_MAX_RUNS 8

typedef struct export_options {
    const char *format;
    double claim;
} export_options;

#define OPT(name_, type_, field_, arg_, help_)                                                     \
    {                                                                                              \
        name_, type_, offsetof(export_options, field_), arg_, help_                                \
    }

static const kg_option export_options_table[] = {
    OPT("format", KG_OPT_STRING, format, "FORMAT", "csv, latex, json or html (csv)"),
    OPT("claim", KG_OPT_DOUBLE, claim, "FACTOR",
        "html: draw this claimed speedup as a line on the speedup plots"),
};

static int run_export(const kg_command *self, int argc, char **argv)
{
    export_options opts = {.format = "csv"};
    const char *pos[KG_EXPORT_MAX_RUNS];
    size_t npos = 0;
    int rc = kg_cli_parse(self, &opts, argc, argv, pos, KG_EXPORT_MAX_RUNS, &npos);
    if (rc)
        return rc > 0 ? KG_EXIT_OK : KG_EXIT_USAGE;
    int html = opts.format && strcmp(opts.format, "html") == 0;
    int format = kg_export_format_parse(opts.format);
    if (npos < 1 || (!html && (format < 0 || npos != 1))) {
        fprintf(stderr,
                "kgrade export: expected --format csv, latex or json and one results "
                "file, or --format html and 1 to %d (see `kgrade export --help`)\n",
                KG_EXPORT_MAX_RUNS);
        return KG_EXIT_USAGE;
    }
    cJSON *records[KG_EXPORT_MAX_RUNS] = {0};
    kg_compare_run runs[KG_EXPORT_MAX_RUNS];
    int status = kg_compare_read_runs(pos, npos, "kgrade export", records, runs) == KG_OK
                     ? KG_EXIT_OK
                     : KG_EXIT_USAGE;
    if (status == KG_EXIT_OK && html)
        kg_export_html(stdout, runs, npos, opts.claim);
    else if (status == KG_EXIT_OK)
        kg_export(stdout, records[0], (kg_export_format)format);
    for (size_t i = 0; i < npos; i++)
        cJSON_Delete(records[i]);
    return status;
}

const kg_command kg_command_export = {
    .name = "export",
    .summary = "Write a results file as CSV, LaTeX or JSON for other tools.",
    .usage = "kgrade export [--format csv|latex|json] RESULTS.jsonl\n"
             "       kgrade export --format html [--claim FACTOR] RESULTS.jsonl [MORE.jsonl ...]",
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
        "  html   one self-contained page (no network, no script) with inline SVG figures:\n"
        "         per-shape speedups with intervals (log scale; --claim draws the claimed\n"
        "         factor), each set's samples per shape, the samples in the order taken\n"
        "         (drift, throttling), achieved rates under the device's roofline, and with\n"
        "         more files the compare view against each\n"
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
