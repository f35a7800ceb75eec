/* `kgrade replicate`: run again what a results file records, and say
 * whether it replicates. */
#include "cli.h"
#include "commands.h"
#include "compare.h"
#include "data_dirs.h"
#include "kernelset.h"
#include "json_file.h"
#include "record_keys.h"
#include "results.h"
#include "stats.h"
#include "summary.h"

#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Exit status of a replication that could not be compared. */
#define KG_EXIT_NOT_COMPARABLE 3

typedef struct replicate_options {
    const char *out;
    const char *device;
    double tolerance;
} replicate_options;

#define OPT(name_, type_, field_, arg_, help_)                                                     \
    {                                                                                              \
        name_, type_, offsetof(replicate_options, field_), arg_, help_                             \
    }

static const kg_option replicate_options_table[] = {
    OPT("out", KG_OPT_STRING, out, "FILE",
        "the replication's results file (default: results/kgrade-replicate-<UTC time>.jsonl)"),
    OPT("device", KG_OPT_STRING, device, "DEVICE",
        "the device to run on (default: the one named in the results, by name)"),
    OPT("tolerance", KG_OPT_DOUBLE, tolerance, "FRACTION",
        "geomeans within 1 +- this of each other replicate whatever their intervals (0.02)"),
};

/* Every set the run graded has the source it recorded, here: else the
 * replication would not run the same kernels. 0, or -1 having said which. */
static int sources_unchanged(const cJSON *records, const char *baselines)
{
    static const char *const roles[] = {KG_KEY_SHAPE_BASELINE, KG_KEY_SHAPE_CANDIDATE};
    const cJSON *rec;
    int rc = 0;
    cJSON_ArrayForEach(rec, records)
    {
        for (int r = 0; r < 2 && kg_record_is(rec, KG_RECORD_SHAPE); r++) {
            const cJSON *set = cJSON_GetObjectItemCaseSensitive(rec, roles[r]);
            const char *want = kg_json_str(set, KG_KEY_SET_SOURCE_SHA256, "");
            const char *name = kg_json_str(set, KG_KEY_SET_NAME, "?");
            const char *workload = kg_json_str(rec, KG_KEY_SHAPE_WORKLOAD, "?");
            if (!want[0])
                continue; /* never built (missing, not run): nothing to hold it to */
            char dir[PATH_MAX + 128];
            snprintf(dir, sizeof dir, "%s/%.100s", baselines, workload);
            kg_workload *w = NULL;
            kg_kernel_entry *e = NULL;
            kg_source_text src = {0};
            kg_error err = {0};
            if (kg_workload_load(dir, &w, &err) == KG_OK &&
                kg_kernel_entry_load(w, name, &e, &err) == KG_OK &&
                kg_kernel_entry_source(e, &src, &err) == KG_OK && strcmp(src.sha256, want) != 0)
                kg_error_set(&err, KG_ERR_INVALID,
                             "its source differs from the one the results record (sha256 "
                             "%.16s... there, %.16s... here)",
                             want, src.sha256);
            if (err.message[0]) {
                fprintf(stderr, "kgrade replicate: %s, set %s: %s\n", workload, name, err.message);
                rc = -1;
            }
            kg_source_text_free(&src);
            kg_kernel_entry_free(e);
            kg_workload_free(w);
            if (rc)
                return rc;
        }
    }
    return rc;
}

/* `kgrade run` with the settings the header records, its report to
 * /dev/null; returns its exit status. */
static int run_again(const cJSON *header, const char *device, const char *out)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(header, KG_KEY_RUN_SETTINGS);
    char nums[7][32];
    const char *keys[] = {KG_KEY_SETTINGS_MIN_SAMPLES, KG_KEY_SETTINGS_MAX_SAMPLES,
                          KG_KEY_SETTINGS_MIN_TIME_S,  KG_KEY_SETTINGS_MAX_TIME_S,
                          KG_KEY_SETTINGS_TARGET,      KG_KEY_SETTINGS_RESAMPLES,
                          KG_KEY_SETTINGS_TIMEOUT_S};
    for (int i = 0; i < 7; i++)
        snprintf(nums[i], sizeof nums[i], "%.17g", kg_json_num(s, keys[i]));
    const char *workloads = kg_json_str(s, KG_KEY_SETTINGS_WORKLOADS, "all");
    char *argv[40] = {"run",
                      "--size-class",
                      (char *)kg_json_str(s, KG_KEY_SETTINGS_SIZE_CLASS, "small"),
                      "--baseline",
                      (char *)kg_json_str(s, KG_KEY_SETTINGS_BASELINE, "naive"),
                      "--candidate",
                      (char *)kg_json_str(s, KG_KEY_SETTINGS_CANDIDATE, "tuned"),
                      "--seed",
                      (char *)kg_json_str(s, KG_KEY_SETTINGS_SEED_EXACT, "1"),
                      "--min-samples",
                      nums[0],
                      "--max-samples",
                      nums[1],
                      "--min-time",
                      nums[2],
                      "--max-time",
                      nums[3],
                      "--target",
                      nums[4],
                      "--resamples",
                      nums[5],
                      "--timeout",
                      nums[6],
                      "--device",
                      (char *)device,
                      "--out",
                      (char *)out,
                      "--quiet"};
    int argc = 28;
    if (strcmp(workloads, "all") != 0) {
        argv[argc++] = "--workload";
        argv[argc++] = (char *)workloads;
    }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, KG_KEY_SETTINGS_HOT)))
        argv[argc++] = "--hot";
    fflush(stdout);
    int saved = dup(STDOUT_FILENO), null_fd = open("/dev/null", O_WRONLY);
    if (saved >= 0 && null_fd >= 0)
        dup2(null_fd, STDOUT_FILENO);
    int rc = kg_command_run.run(&kg_command_run, argc, argv);
    fflush(stdout);
    if (saved >= 0) {
        dup2(saved, STDOUT_FILENO);
        close(saved);
    }
    if (null_fd >= 0)
        close(null_fd);
    return rc;
}

/* The run's summary with measurement intervals: its own, or computed
 * again from its shapes where it has none (or one from before them). */
static cJSON *summary_of(const cJSON *records)
{
    const cJSON *rec, *header = NULL, *summary = NULL;
    cJSON_ArrayForEach(rec, records)
    {
        header = header ? header : (kg_record_is(rec, KG_RECORD_RUN) ? rec : NULL);
        summary = kg_record_is(rec, KG_RECORD_SUMMARY) ? rec : summary;
    }
    const cJSON *overall = cJSON_GetObjectItemCaseSensitive(summary, KG_KEY_SUMMARY_OVERALL);
    if (summary && kg_json_str(overall, KG_KEY_GROUP_INTERVAL, NULL))
        return cJSON_Duplicate(summary, 1);
    return kg_summary_compute(
        records, KG_DEFAULT_RESAMPLES,
        kg_results_settings_seed(cJSON_GetObjectItemCaseSensitive(header, KG_KEY_RUN_SETTINGS), 1));
}

/* One line per workload and baseline, then the verdict; returns the exit
 * status: 0 every geomean replicated, 1 not. */
static int verdict(const cJSON *original, const cJSON *again, double tolerance)
{
    cJSON *a = summary_of(original), *b = summary_of(again);
    int replicated = 1, compared = 0;
    const cJSON *ga, *gb;
    printf("## Verdict\n\n");
    cJSON_ArrayForEach(ga, cJSON_GetObjectItemCaseSensitive(a, KG_KEY_SUMMARY_WORKLOADS))
    {
        cJSON_ArrayForEach(gb, cJSON_GetObjectItemCaseSensitive(b, KG_KEY_SUMMARY_WORKLOADS))
        {
            if (strcmp(kg_json_str(ga, KG_KEY_GROUP_WORKLOAD, "?"),
                       kg_json_str(gb, KG_KEY_GROUP_WORKLOAD, "!")) ||
                strcmp(kg_json_str(ga, KG_KEY_GROUP_BASELINE, ""),
                       kg_json_str(gb, KG_KEY_GROUP_BASELINE, "")))
                continue;
            double ratio;
            int ok = kg_estimates_agree(
                kg_json_num(ga, KG_KEY_GROUP_GEOMEAN), kg_json_num(ga, KG_KEY_GROUP_LO),
                kg_json_num(ga, KG_KEY_GROUP_HI), kg_json_num(gb, KG_KEY_GROUP_GEOMEAN),
                kg_json_num(gb, KG_KEY_GROUP_LO), kg_json_num(gb, KG_KEY_GROUP_HI), tolerance,
                &ratio);
            printf("- %s against `%s`: original %.3gx [%.3g, %.3g], replication %.3gx [%.3g, "
                   "%.3g]: %s",
                   kg_json_str(ga, KG_KEY_GROUP_WORKLOAD, "?"),
                   kg_json_str(ga, KG_KEY_GROUP_BASELINE, "?"),
                   kg_json_num(ga, KG_KEY_GROUP_GEOMEAN), kg_json_num(ga, KG_KEY_GROUP_LO),
                   kg_json_num(ga, KG_KEY_GROUP_HI), kg_json_num(gb, KG_KEY_GROUP_GEOMEAN),
                   kg_json_num(gb, KG_KEY_GROUP_LO), kg_json_num(gb, KG_KEY_GROUP_HI),
                   ok ? "**replicated**" : "**not replicated**");
            if (!ok && isfinite(ratio))
                printf(" (the replication's geomean is %.1f%% %s)", fabs(ratio - 1) * 100,
                       ratio < 1 ? "lower" : "higher");
            printf("\n");
            replicated &= ok;
            compared++;
        }
    }
    replicated &= compared > 0;
    printf("\n**%s**. Rule: two geomeans replicate when the 95%% interval of their ratio "
           "(from both measurement intervals) contains 1, or they are within %.3g of each other "
           "(docs/methodology.md: its false-alarm rate).\n",
           replicated ? "replicated" : "not replicated", tolerance);
    cJSON_Delete(a);
    cJSON_Delete(b);
    return replicated ? KG_EXIT_OK : KG_EXIT_FAILED;
}

/* Where the replication ran on another kind of device, or another backend:
 * what differs; NULL when the device is the same. */
static const char *other_device(const cJSON *a, const cJSON *b, char *buf, size_t size)
{
    const cJSON *da = cJSON_GetObjectItemCaseSensitive(a, KG_KEY_RUN_DEVICE);
    const cJSON *db = cJSON_GetObjectItemCaseSensitive(b, KG_KEY_RUN_DEVICE);
    const char *keys[] = {KG_KEY_DEVICE_NAME, KG_KEY_DEVICE_BACKEND};
    for (int i = 0; i < 2; i++)
        if (strcmp(kg_json_str(da, keys[i], "?"), kg_json_str(db, keys[i], "!")) != 0) {
            snprintf(buf, size, "device %s: %s there, %s here", keys[i],
                     kg_json_str(da, keys[i], "?"), kg_json_str(db, keys[i], "?"));
            return buf;
        }
    return NULL;
}

static int run_replicate(const kg_command *self, int argc, char **argv)
{
    replicate_options opts = {.tolerance = 0.02};
    const char *pos[1];
    size_t npos = 0;
    int rc = kg_cli_parse(self, &opts, argc, argv, pos, 1, &npos);
    if (rc)
        return rc > 0 ? KG_EXIT_OK : KG_EXIT_USAGE;
    if (npos != 1 || !(opts.tolerance >= 0 && opts.tolerance < 1)) {
        fprintf(stderr, "kgrade replicate: expected one results file (see `kgrade replicate "
                        "--help`)\n");
        return KG_EXIT_USAGE;
    }
    cJSON *original = NULL, *again = NULL;
    kg_error err = {0};
    char baselines[PATH_MAX], out[PATH_MAX];
    int read = kg_results_read_noting(pos[0], "kgrade replicate", &original, &err);
    if (read != KG_OK || kg_data_dir_find(KG_DATA_BASELINES, NULL, "--baselines", baselines,
                                          sizeof baselines, NULL, &err) != KG_OK) {
        fprintf(stderr, "kgrade replicate: %s\n", err.message);
        cJSON_Delete(original);
        return KG_EXIT_USAGE;
    }
    const cJSON *header = cJSON_GetArrayItem(original, 0);
    if (sources_unchanged(original, baselines) != 0) {
        cJSON_Delete(original);
        return KG_EXIT_USAGE;
    }
    time_t now = time(NULL);
    struct tm utc;
    gmtime_r(&now, &utc);
    snprintf(out, sizeof out, "results/kgrade-replicate-%04d%02d%02dT%02d%02d%02dZ.jsonl",
             utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
    const char *device =
        opts.device ? opts.device
                    : kg_json_str(cJSON_GetObjectItemCaseSensitive(header, KG_KEY_RUN_DEVICE),
                                  KG_KEY_DEVICE_NAME, "");
    fprintf(stderr, "kgrade replicate: the run of %s again on %s -> %s\n", pos[0], device,
            opts.out ? opts.out : out);
    rc = run_again(header, device, opts.out ? opts.out : out);
    if (rc == KG_EXIT_USAGE || kg_results_read_last_run(opts.out ? opts.out : out, &again, &err)) {
        fprintf(stderr, "kgrade replicate: the replication did not run (exit %d)%s%s\n", rc,
                err.message[0] ? ": " : "", err.message);
        cJSON_Delete(original);
        return KG_EXIT_USAGE;
    }
    kg_compare_run runs[2] = {{pos[0], original}, {opts.out ? opts.out : out, again}};
    kg_compare_options co = {opts.tolerance, KG_DEFAULT_RESAMPLES, 1};
    kg_compare_markdown(stdout, runs, 2, &co);
    char why[256];
    if (other_device(header, cJSON_GetArrayItem(again, 0), why, sizeof why)) {
        printf("## Verdict\n\n**not comparable**: %s.\n", why);
        rc = KG_EXIT_NOT_COMPARABLE;
    } else {
        rc = verdict(original, again, opts.tolerance);
    }
    cJSON_Delete(original);
    cJSON_Delete(again);
    return rc;
}

const kg_command kg_command_replicate = {
    .name = "replicate",
    .summary = "Run again what a results file records, and say whether it replicates.",
    .usage = "kgrade replicate [options] RESULTS.jsonl",
    .description =
        "Re-runs the last run of RESULTS exactly as recorded: the same workloads, size class,\n"
        "baseline and candidate sets, seed and measurement settings, on the device of the same\n"
        "name. First, every set's source is hashed as compiled and held to the hash the results\n"
        "record; a source that differs or is missing is named and nothing runs (exit 2). Then\n"
        "the original and the replication side by side (as `kgrade compare`), and a verdict per\n"
        "workload and baseline: `replicated` when the 95% interval of the ratio of the two\n"
        "geomeans (from their measurement intervals) contains 1, or the two are within\n"
        "--tolerance of each other; `not replicated`, with the direction and size, otherwise;\n"
        "`not comparable` when the replication ran on a device of another name or backend.\n"
        "Two runs of the same kernels disagree under this rule in about 3% of simulated pairs\n"
        "(under 2% with the 2% band): docs/methodology.md.\n\n"
        "examples:\n"
        "  kgrade replicate results/their-run.jsonl\n"
        "  kgrade replicate --out mine.jsonl --device cuda:0 results/their-run.jsonl",
    .exit_status = "0 replicated, 1 not replicated, 3 not comparable (another device), 2 bad\n"
                   "usage, an unreadable file, or a source that differs",
    .options = replicate_options_table,
    .option_count = sizeof replicate_options_table / sizeof replicate_options_table[0],
    .run = run_replicate,
};
