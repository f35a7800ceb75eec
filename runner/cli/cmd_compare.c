/* `kgrade compare`: results files side by side. */
#include "cli.h"
#include "commands.h"
#include "compare.h"
#include "record_keys.h"
#include "results.h"

#include <stddef.h>
#include <stdio.h>

#define KG_COMPARE_MAX_RUNS 8

typedef struct compare_options {
    double tolerance;
    size_t resamples;
    size_t seed;
} compare_options;

#define OPT(name_, type_, field_, arg_, help_)                                                     \
    {                                                                                              \
        name_, type_, offsetof(compare_options, field_), arg_, help_                               \
    }

static const kg_option compare_options_table[] = {
    OPT("tolerance", KG_OPT_DOUBLE, tolerance, "FRACTION",
        "a ratio whose interval lies within 1 +- this is \"same\" (0.02)"),
    OPT("resamples", KG_OPT_SIZE, resamples, "N", "bootstrap resamples (10000)"),
    OPT("seed", KG_OPT_SIZE, seed, "N", "bootstrap seed (1)"),
};

static int run_compare(const kg_command *self, int argc, char **argv)
{
    compare_options opts = {.tolerance = 0.02, .resamples = 10000, .seed = 1};
    const char *pos[KG_COMPARE_MAX_RUNS];
    size_t npos = 0;
    int rc = kg_cli_parse(self, &opts, argc, argv, pos, KG_COMPARE_MAX_RUNS, &npos);
    if (rc)
        return rc > 0 ? KG_EXIT_OK : KG_EXIT_USAGE;
    if (npos < 2 || !(opts.tolerance >= 0 && opts.tolerance < 1) || opts.resamples < 100) {
        fprintf(stderr,
                "kgrade compare: expected 2 to %d results files, --tolerance in [0, 1) "
                "and --resamples >= 100 (see `kgrade compare --help`)\n",
                KG_COMPARE_MAX_RUNS);
        return KG_EXIT_USAGE;
    }
    cJSON *records[KG_COMPARE_MAX_RUNS] = {0};
    kg_compare_run runs[KG_COMPARE_MAX_RUNS];
    int status = kg_compare_read_runs(pos, npos, "kgrade compare", records, runs) == KG_OK
                     ? KG_EXIT_OK
                     : KG_EXIT_USAGE;
    if (status == KG_EXIT_OK) {
        kg_compare_options o = {opts.tolerance, opts.resamples, (uint64_t)opts.seed};
        kg_compare_markdown(stdout, runs, npos, &o);
    }
    for (size_t i = 0; i < npos; i++)
        cJSON_Delete(records[i]);
    return status;
}

const kg_command kg_command_compare = {
    .name = "compare",
    .summary = "Put results files side by side: devices, runs, before and after.",
    .usage = "kgrade compare [options] A.jsonl B.jsonl [C.jsonl ...]",
    .description =
        "Compares the last run of each file with the last run of A. At the top, what differs\n"
        "between the runs (device, driver, kgrade version and commit, size class, cache, seed,\n"
        "sets). Then per workload and shape, for the baseline set and the candidate set:\n"
        "each run's median, the ratio of A's median to B's with a bootstrap 95% interval (the\n"
        "two runs' samples resampled independently; above 1, B is faster), whether B is\n"
        "faster, slower, the same (the interval within 1 +- --tolerance) or unclear, and each\n"
        "run's share of its device's speed-of-light bound; the geomean of the ratios per\n"
        "workload and overall, with the measurement interval; and the candidate's speedup over\n"
        "the baseline in each run side by side (does a speedup measured on one device hold on\n"
        "another?).\n\n"
        "Shapes are paired by workload, shape name, baseline set and the shape's symbols; a set\n"
        "is compared only where its name and the hash of its source as compiled agree in both\n"
        "runs. Anything else is shown as not comparable, with the reason. Only the files are\n"
        "read: runs made on other machines compare the same way.\n\n"
        "examples:\n"
        "  kgrade compare results/h100.jsonl results/mi300x.jsonl\n"
        "  kgrade compare --tolerance 0.05 before.jsonl after.jsonl",
    .exit_status = "0 the comparison was printed, 2 bad usage or an unreadable file",
    .options = compare_options_table,
    .option_count = sizeof compare_options_table / sizeof compare_options_table[0],
    .run = run_compare,
};
