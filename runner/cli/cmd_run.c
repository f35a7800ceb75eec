/* `kgrade run`: grade a candidate kernel set against a baseline on one device.
 * Each evaluation (one shape, both sets) runs in a worker process
 * (worker.h); this process plans, keeps the results file and reports.
 * This file holds the options and the steps in order; run.h lists the
 * files that do each part. */
#include "commands.h"
#include "final_report.h"
#include "fingerprint.h"
#include "id_list.h"
#include "json_file.h"
#include "markdown.h"
#include "profiles.h"
#include "record_keys.h"
#include "run.h"
#include "summary.h"
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define OPT(name, type, field, metavar, help)                                                      \
    {                                                                                              \
        name, type, offsetof(run_options, field), metavar, help                                    \
    }

static const kg_option run_options_table[] = {
    KG_RUN_GRADING_OPTIONS(OPT),
    OPT("out", KG_OPT_STRING, out, "FILE",
        "results file, JSON lines, appended (default: results/kgrade-<UTC time>.jsonl)"),
    OPT("resume", KG_OPT_STRING, resume, "FILE",
        "continue the interrupted run in FILE: finished evaluations are kept, the rest run; "
        "refused if other options differ from the run's"),
    OPT("continue", KG_OPT_FLAG, continue_run, NULL,
        "with --out FILE: continue the run in FILE if it holds an unfinished one of these "
        "settings (as --resume), do nothing if it finished, start it if FILE is missing "
        "(a batch job that is requeued)"),
    OPT("final", KG_OPT_FLAG, final, NULL,
        "held-out final grading of an agent's candidate: full shapes (or --size-class claim), "
        "a seed drawn at random (one of 2^32 or more: never a `kgrade check` seed), then the "
        "dev shapes, and the two side by side; below the dev interval is `overfit to dev "
        "shapes` (docs/agents.md)"),
    OPT("no-bounds", KG_OPT_FLAG, no_bounds, NULL,
        "no speed-of-light bounds, so no peak probes where no profile has the peaks (what "
        "`kgrade check` does, to answer fast)"),
    OPT("quiet", KG_OPT_FLAG, quiet, NULL, "no progress on stderr"),
    OPT("list", KG_OPT_FLAG, list, NULL,
        "print the run's evaluations (workload, shape, baseline) with their ids, grade nothing"),
    OPT("only", KG_OPT_STRING, only, "IDS",
        "grade only these evaluations, ids from --list (3,5-7); the results file is a shard of "
        "the run (settings run_id and only)"),
};

/* Everything one invocation holds, released by release_run. */
typedef struct run_state {
    run_options o;
    unsigned char only[KG_MAX_EVALUATIONS + 1]; /* --only's ids */
    kg_measure_settings m;
    cJSON *resumed;       /* the resumed run's records; its header's strings back `o` */
    int finished_already; /* --continue found the run finished: nothing to grade */
    char resumed_device[64];
    run_dirs dirs;
    int cls_given; /* -1: --size-class not given */
    kg_workload **workloads;
    size_t nw;
    kg_device_list devices;
    int have_devices;
    const kg_device_entry *device;
    char baseline_list[512]; /* --baseline, split in place into `baselines` */
    const char *baselines[KG_MAX_BASELINES];
    size_t nb;
    char default_out[128];
    cJSON *header;
    run_context ctx;
} run_state;

/* Not a step: the step's result is the exit status. */
#define KG_RUN_GO_ON (-1)

static int usage_fail(const kg_error *e)
{
    fprintf(stderr, "kgrade run: %s\n", e->message);
    return KG_EXIT_USAGE;
}

/* --continue --out FILE: a requeued batch job's command. FILE missing, or
 * holding no complete line (killed before its header was synced): start
 * the run. Holding a run: continue it as --resume FILE would, the settings
 * checked alike; finished, it is only checked (make_header). */
static int continue_or_start(run_state *st)
{
    run_options *o = &st->o;
    if (!o->continue_run)
        return KG_RUN_GO_ON;
    if (!o->out || o->resume)
        return usage_fail(&(kg_error){.message = "--continue needs --out FILE, and no --resume"});
    FILE *f = fopen(o->out, "r");
    if (!f)
        return KG_RUN_GO_ON;
    int c, complete_line = 0;
    while (!complete_line && (c = fgetc(f)) != EOF)
        complete_line = c == '\n';
    fclose(f);
    if (!complete_line)
        return KG_RUN_GO_ON;
    kg_error err = {0};
    if (kg_results_read_last_run(o->out, &st->resumed, &err))
        return usage_fail(&err);
    const cJSON *last = cJSON_GetArrayItem(st->resumed, cJSON_GetArraySize(st->resumed) - 1);
    st->finished_already = kg_record_is(last, KG_RECORD_SUMMARY);
    o->resume = o->out;
    return KG_RUN_GO_ON;
}

/* The defaults, then the command line; with --resume, the resumed run's
 * settings under the command line's. */
static int parse_options(run_state *st, const kg_command *self, int argc, char **argv)
{
    run_options *o = &st->o;
    kg_run_options_defaults(o);
    const char *pos[1];
    size_t npos;
    int prc = kg_cli_parse(self, o, argc, argv, pos, 0, &npos);
    if (prc)
        return prc > 0 ? KG_EXIT_OK : KG_EXIT_USAGE;
    const char *given_baselines = o->baselines_dir;
    kg_error err = {0};
    int rc = continue_or_start(st);
    if (rc != KG_RUN_GO_ON)
        return rc;
    if (o->resume) {
        if (!st->resumed && kg_run_load_resumed(o->resume, &st->resumed, &err))
            return usage_fail(&err);
        /* The file's settings first, then whatever the command line says,
         * which must agree (checked once the header is built). */
        const char *path = o->resume;
        kg_run_options_from_header(o, cJSON_GetArrayItem(st->resumed, 0), st->resumed_device,
                                   sizeof st->resumed_device);
        kg_cli_parse(self, o, argc, argv, pos, 0, &npos);
        o->resume = o->out = path;
    }
    if (kg_run_find_data_dirs(o, given_baselines, st->resumed != NULL, &st->dirs, &err))
        return usage_fail(&err);
    return KG_RUN_GO_ON;
}

/* --final: never the dev shapes, full unless named; a seed no check
 * uses (checks use their number), drawn at random unless one of 2^32 or
 * more is given (the results record it: a final grading can be redone). */
static int final_settings(run_state *st)
{
    run_options *o = &st->o;
    if (st->cls_given == KG_SIZE_DEV)
        return usage_fail(&(kg_error){.message = "--final grades on shapes the agent never saw: "
                                                 "full (the default) or claim, not dev"});
    if (st->cls_given < 0)
        st->cls_given = KG_SIZE_FULL;
    if (o->seed < (1ull << 32)) {
        uint64_t drawn = 0;
        FILE *f = fopen("/dev/urandom", "rb");
        if (!f || fread(&drawn, sizeof drawn, 1, f) != 1) {
            if (f)
                fclose(f);
            return usage_fail(&(kg_error){.message = "--final: cannot read /dev/urandom"});
        }
        fclose(f);
        o->seed = drawn | (1ull << 63);
    }
    return KG_RUN_GO_ON;
}

/* The options' ranges, the measurement settings and the size class. */
static int check_options(run_state *st)
{
    run_options *o = &st->o;
    if (o->only && kg_id_list_parse(o->only, st->only, KG_MAX_EVALUATIONS) != 0)
        return usage_fail(&(kg_error){.message = "--only: expected evaluation ids from --list, "
                                                 "such as 3 or 3,5-7"});
    st->ctx.only = o->only ? st->only : NULL;
    kg_error err = {0};
    if (kg_run_measure_settings(o, &st->m, &st->cls_given, &err))
        return usage_fail(&err);
    return o->final ? final_settings(st) : KG_RUN_GO_ON;
}

/* The workloads, the device, and each baseline of --baseline's list
 * checked against the candidate (baseline sensitivity: the candidate is
 * graded against each in turn). */
static int plan_run(run_state *st)
{
    kg_error err = {0};
    if (kg_run_load_workloads(st->o.baselines_dir, st->o.workloads, &st->workloads, &st->nw, &err))
        return usage_fail(&err);
    kg_devices_enumerate(&st->devices);
    st->have_devices = 1;
    size_t di;
    if (kg_devices_select(&st->devices, st->o.device, &di, &err)) {
        for (size_t i = 0; i < st->devices.failure_count; i++)
            fprintf(stderr, "kgrade run: %s: %s\n",
                    kg_backend_name(st->devices.failures[i].backend),
                    st->devices.failures[i].error.message);
        return usage_fail(&err);
    }
    st->device = &st->devices.items[di];
    snprintf(st->baseline_list, sizeof st->baseline_list, "%s", st->o.baseline);
    for (char *save = NULL, *tok = strtok_r(st->baseline_list, ",", &save);
         tok && st->nb < KG_MAX_BASELINES; tok = strtok_r(NULL, ",", &save))
        st->baselines[st->nb++] = tok;
    for (size_t b = 0; b < st->nb; b++) {
        run_options one = st->o;
        one.baseline = st->baselines[b];
        if (kg_run_check_sets(&one, &st->device->info, st->workloads, st->nw, &err))
            return usage_fail(&err);
    }
    return KG_RUN_GO_ON;
}

/* The size class (given, else full on a GPU and small elsewhere), the
 * results file (given, else results/kgrade-<UTC time>.jsonl) and the run
 * header with the device's profile; resuming, the header must agree with
 * the file's. */
static int make_header(run_state *st)
{
    run_options *o = &st->o;
    const kg_device_info *info = &st->device->info;
    kg_error err = {0};
    cJSON *profile = kg_profile_find(st->dirs.profiles, info, &err);
    if (!profile && err.message[0])
        return usage_fail(&err);
    st->ctx.cls = st->cls_given >= 0            ? (kg_size_class)st->cls_given
                  : info->type == KG_DEVICE_GPU ? KG_SIZE_FULL
                                                : KG_SIZE_SMALL;
    if (!o->out) {
        char now[32];
        kg_utc_now(now, sizeof now);
        snprintf(st->default_out, sizeof st->default_out, "results/kgrade-%s.jsonl", now);
        o->out = st->default_out;
    }
    st->header =
        kg_run_header(o, info, profile, st->ctx.cls, &st->m,
                      kg_run_evaluation_count(st->workloads, st->nw, st->nb, st->ctx.cls), o->out);
    if (st->resumed) {
        char diff[600];
        kg_run_resume_difference(cJSON_GetArrayItem(st->resumed, 0), st->header, diff, sizeof diff);
        if (diff[0]) {
            kg_error_set(&err, KG_ERR_INVALID, "--resume %s: refused, the settings differ: %s",
                         o->resume, diff);
            return usage_fail(&err);
        }
    }
    if (st->finished_already) {
        if (!o->quiet)
            fprintf(stderr, "kgrade run: %s: the run finished already (`kgrade report %s`)\n",
                    o->out, o->out);
        return KG_EXIT_OK;
    }
    return KG_RUN_GO_ON;
}

/* The peaks for the speed-of-light bounds: the resumed run's, so bounds
 * stay comparable, or found now (the profile's, or probed with our own
 * kernels before any worker starts; then this process lets the device go)
 * and added to the header. */
static int find_peaks(run_state *st)
{
    run_context *ctx = &st->ctx;
    kg_error err = {0};
    if (st->resumed) {
        const cJSON *pk =
            cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(st->resumed, 0), KG_KEY_RUN_PEAKS);
        ctx->have_peaks = pk && kg_peaks_from_json(pk, &ctx->peaks) == KG_OK;
        return KG_RUN_GO_ON;
    }
    if (st->o.no_bounds)
        return KG_RUN_GO_ON;
    kg_device *dev = NULL;
    if (kg_dev_open(st->device->backend, st->device->info.index, &dev, &err)) {
        fprintf(stderr, "kgrade run: cannot open %s: %s\n", st->device->info.name, err.message);
        return KG_EXIT_FAILED;
    }
    const cJSON *known = cJSON_GetObjectItemCaseSensitive(st->header, KG_KEY_RUN_PROFILE);
    if (cJSON_IsNull(known))
        known = NULL;
    if (!st->o.quiet)
        fprintf(stderr, "kgrade: %s\n",
                known ? "peaks from the device's profile" : "measuring peak bandwidth and FLOP/s");
    ctx->have_peaks = kg_peaks_find(dev, known, &ctx->peaks, &err) == KG_OK;
    if (!ctx->have_peaks)
        fprintf(stderr, "kgrade run: no speed-of-light bounds: %s\n", err.message);
    kg_dev_close(dev);
    if (ctx->have_peaks)
        cJSON_AddItemToObject(st->header, KG_KEY_RUN_PEAKS, kg_peaks_json(&ctx->peaks));
    return KG_RUN_GO_ON;
}

/* Opens the results file (saying so when a torn last line was cut), finds
 * the peaks and writes the run's first line: its header, or a "resumed"
 * record. */
static int start_results(run_state *st)
{
    run_context *ctx = &st->ctx;
    const char *path = st->o.out;
    kg_error err = {0};
    if (kg_results_open(path, &ctx->results, &err))
        return usage_fail(&err);
    if (kg_results_torn_bytes(ctx->results))
        fprintf(stderr,
                "kgrade run: %s: cut a torn last line (%zu bytes, the record being "
                "written when the run stopped)\n",
                path, kg_results_torn_bytes(ctx->results));
    int step = find_peaks(st);
    if (step != KG_RUN_GO_ON)
        return step;
    int rc;
    if (st->resumed) {
        cJSON *mark = cJSON_CreateObject();
        char now[32];
        kg_utc_now(now, sizeof now);
        cJSON_AddStringToObject(mark, KG_KEY_TYPE, kg_record_type_name(KG_RECORD_RESUMED));
        cJSON_AddStringToObject(mark, KG_KEY_RESUMED_AT, now);
        cJSON_AddItemToObject(mark, KG_KEY_RESUMED_KGRADE, kg_fingerprint_kgrade());
        rc = kg_results_append(ctx->results, mark, &err);
        cJSON_Delete(mark);
    } else {
        rc = kg_results_append(ctx->results, st->header, &err);
    }
    if (rc) {
        fprintf(stderr, "kgrade run: %s\n", err.message);
        return KG_EXIT_USAGE;
    }
    return KG_RUN_GO_ON;
}

/* Grades every workload against each baseline. */
static int grade_all(run_state *st)
{
    run_context *ctx = &st->ctx;
    const run_options *o = &st->o;
    ctx->opts = o;
    ctx->device = st->device;
    ctx->finished = st->resumed;
    ctx->settings = cJSON_GetObjectItemCaseSensitive(st->header, KG_KEY_RUN_SETTINGS);
    ctx->measure = st->m;
    ctx->progress = !o->quiet && isatty(STDERR_FILENO);
    ctx->started = kg_worker_now();
    for (size_t i = 0; i < st->nw; i++)
        ctx->shape_total += st->nb * st->workloads[i]->shape_count[ctx->cls];
    kg_run_catch_interrupts();
    if (!o->quiet)
        fprintf(stderr, "kgrade: %s %s vs %s on %s (%s), size class %s, %zu shapes -> %s\n",
                st->resumed ? "resuming" : "grading", o->candidate, o->baseline,
                st->device->info.name, st->device->info.backend, kg_size_class_name(ctx->cls),
                ctx->shape_total, o->out);
    kg_error err = {0};
    int rc = KG_OK;
    for (size_t b = 0; b < st->nb && !rc; b++) {
        ctx->baseline = st->baselines[b];
        for (size_t i = 0; i < st->nw && !rc; i++)
            rc = kg_run_grade_workload(ctx, st->workloads[i], &err);
    }
    const char *clear = ctx->progress ? "\r\033[K" : "";
    if (rc == KG_ERR_INTERRUPTED) {
        fprintf(stderr,
                "%skgrade run: interrupted. %zu of %zu evaluations are finished and saved in %s "
                "(%zu from before this invocation); the one in progress was dropped.\n"
                "Continue with: kgrade run --resume %s\n",
                clear, ctx->done_before + ctx->graded, ctx->shape_total, o->out, ctx->done_before,
                o->out);
        return 130;
    }
    if (rc) {
        fprintf(stderr, "%skgrade run: %s\n", clear, err.message);
        return KG_EXIT_USAGE;
    }
    return KG_RUN_GO_ON;
}

/* --list: the evaluations in the order the run grades them, with the ids
 * --only takes (the same options give the same ids), and nothing graded. */
static int list_evaluations(run_state *st)
{
    if (!st->o.list)
        return KG_RUN_GO_ON;
    printf("id\tworkload\tshape\tbaseline\tcandidate\t(run %s, size class %s, seed %llu)\n",
           kg_json_str(cJSON_GetObjectItemCaseSensitive(st->header, KG_KEY_RUN_SETTINGS),
                       KG_KEY_SETTINGS_RUN_ID, "?"),
           kg_size_class_name(st->ctx.cls), (unsigned long long)st->o.seed);
    size_t id = 0;
    for (size_t b = 0; b < st->nb; b++)
        for (size_t i = 0; i < st->nw; i++) {
            const kg_workload *w = st->workloads[i];
            for (size_t s = 0; s < w->shape_count[st->ctx.cls]; s++)
                printf("%zu\t%s\t%s\t%s\t%s\n", ++id, w->name, w->shapes[st->ctx.cls][s].name,
                       st->baselines[b], st->o.candidate);
        }
    return KG_EXIT_OK;
}

/* The summary and the report come from the file as written (with the
 * records of earlier invocations when resuming), so what the run prints
 * is exactly what `kgrade report` will print from it later. Failures of
 * earlier invocations count for the exit status too. */
static int summarise(run_state *st)
{
    const run_options *o = &st->o;
    cJSON *written = NULL;
    kg_error err = {0};
    if (kg_results_read_last_run(o->out, &written, &err) != KG_OK) {
        fprintf(stderr, "kgrade run: reading the results back failed: %s\n", err.message);
        return KG_EXIT_USAGE;
    }
    cJSON *summary = kg_summary_compute(written, o->resamples, o->seed);
    kg_results_append(st->ctx.results, summary, &err);
    cJSON_AddItemToArray(written, summary);
    kg_report_markdown(stdout, written, st->dirs.claims);
    int failures = 0;
    const cJSON *rec;
    cJSON_ArrayForEach(rec, written)
    {
        if (!kg_record_is(rec, KG_RECORD_SHAPE))
            continue;
        failures +=
            kg_set_status_of(cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_CANDIDATE)) !=
            KG_SET_STATUS_OK;
    }
    cJSON_Delete(written);
    printf("\nResults: %s\n", o->out);
    return failures ? KG_EXIT_FAILED : KG_EXIT_OK;
}

/* --final, once graded: the same candidate on the dev shapes (public seed
 * 1, the final run's measurement settings) into FILE.dev.jsonl, and the
 * two side by side. Exit 1 when a workload is overfit to the dev shapes. */
static int final_against_dev(run_state *st, int exit_code)
{
    const run_options *o = &st->o;
    char dev_out[PATH_MAX + 16], device[96], numbers[5][32];
    snprintf(dev_out, sizeof dev_out, "%s.dev.jsonl", o->out);
    snprintf(device, sizeof device, "%s:%d", st->device->info.backend, st->device->info.index);
    snprintf(numbers[0], sizeof numbers[0], "%zu", o->min_samples);
    snprintf(numbers[1], sizeof numbers[1], "%zu", o->max_samples);
    snprintf(numbers[2], sizeof numbers[2], "%g", o->min_time);
    snprintf(numbers[3], sizeof numbers[3], "%g", o->max_time);
    snprintf(numbers[4], sizeof numbers[4], "%g", o->timeout);
    const char *argv[KG_RUN_NESTED_ARGS] = {
        "run",           "--quiet",   "--size-class",  "dev",
        "--seed",        "1",         "--out",         dev_out,
        "--baseline",    o->baseline, "--candidate",   o->candidate,
        "--device",      device,      "--baselines",   o->baselines_dir,
        "--min-samples", numbers[0],  "--max-samples", numbers[1],
        "--min-time",    numbers[2],  "--max-time",    numbers[3],
        "--timeout",     numbers[4]};
    kg_run_args_add(argv, "--workload", o->workloads);
    if (!o->quiet)
        fprintf(stderr, "kgrade: --final: now the dev shapes -> %s\n", dev_out);
    kg_run_nested(argv, NULL, 0);
    cJSON *final = NULL, *dev = NULL;
    kg_error err = {0};
    int overfit = 0;
    if (kg_results_read_last_run(o->out, &final, &err) == KG_OK &&
        kg_results_read_last_run(dev_out, &dev, &err) == KG_OK)
        overfit = kg_report_final_vs_dev(stdout, final, dev);
    else
        fprintf(stderr, "kgrade run: --final: no dev grading to set beside it: %s\n", err.message);
    printf("\nDev shapes: %s\n", dev_out);
    cJSON_Delete(final);
    cJSON_Delete(dev);
    return overfit && exit_code == KG_EXIT_OK ? KG_EXIT_FAILED : exit_code;
}

static void release_run(run_state *st)
{
    cJSON_Delete(st->header);
    cJSON_Delete(st->resumed);
    kg_results_close(st->ctx.results);
    if (st->have_devices)
        kg_devices_release(&st->devices);
    for (size_t i = 0; i < st->nw; i++)
        kg_workload_free(st->workloads[i]);
    free(st->workloads);
}

static int run_run(const kg_command *self, int argc, char **argv)
{
    /* Not dumpable: a worker running a kernel as host code (a CPU device)
     * cannot read this process's memory, which holds the reference's
     * answers, through /proc or ptrace. */
    prctl(PR_SET_DUMPABLE, 0);
    run_state *st = calloc(1, sizeof *st);
    if (!st) {
        fprintf(stderr, "kgrade run: out of memory\n");
        return KG_EXIT_FAILED;
    }
    int exit_code = parse_options(st, self, argc, argv);
    int (*const steps[])(run_state *) = {check_options, plan_run,  make_header, list_evaluations,
                                         start_results, grade_all, summarise};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0] && exit_code == KG_RUN_GO_ON; i++)
        exit_code = steps[i](st);
    if (st->o.final && st->device && (exit_code == KG_EXIT_OK || exit_code == KG_EXIT_FAILED))
        exit_code = final_against_dev(st, exit_code);
    release_run(st);
    free(st);
    return exit_code;
}

const kg_command kg_command_run = {
    .name = "run",
    .summary = "Build, check and time a candidate kernel set against a baseline.",
    .usage = "kgrade run [options]",
    .description =
        "For every shape of the size class: each kernel set in a worker process of its own\n"
        "(its own device context and time limit), this process holding the inputs and the\n"
        "double-precision CPU reference and checking every output the workers read back.\n"
        "Every run, checked or timed, is prepared alike: inputs rotating among several\n"
        "sets with a few elements changed, the output filled with fresh plausible values,\n"
        "scratch and local memory scrubbed, the cache flushed. Each set is checked twice\n"
        "on the same inputs (guard zones around every buffer, inputs compared, elements\n"
        "never written, a repeat that must agree), timed alternately with the other until\n"
        "the median's 95% interval is within +-1% (or a cap), some timed runs read back and\n"
        "checked, then checked on nudged, fresh, heavy-tailed and stress inputs. What a\n"
        "kernel must not predict comes from a per-evaluation secret, recorded at the end.\n"
        "Each shape's record is appended to the results file (JSON lines, synced). A\n"
        "crash or a hang fails that set (`crashed`, `timeout`) and the run goes on. A\n"
        "Markdown summary goes to stdout, failures first; progress to stderr: on a\n"
        "terminal one line updated in place ([evaluation/total, time spent, ~time left]\n"
        "workload shape: phase; the estimate from the evaluations done so far), in a pipe\n"
        "or file one line per finished shape.\n"
        "docs/integrity.md lists every check and flag.\n\n"
        "Kernel sets: a baseline tier by name (naive, tuned, ...), found in\n"
        "baselines/<workload>/kernels.json, or a submission folder holding kernels.json,\n"
        "always written as a path (kernels/examples/opencl-softmax, ./mine): a bare word is\n"
        "a tier even where a folder of that name exists. A submission is graded on the\n"
        "workloads it covers; one that lacks a workload named with --workload fails its\n"
        "shapes.\n\n"
        "Data folders: the workloads with their baseline tiers (--baselines), the GPU\n"
        "profiles (--profiles) and the published claims (--claims) are each found, first\n"
        "of: the option; the variable KGRADE_BASELINES_DIR, KGRADE_PROFILES_DIR or\n"
        "KGRADE_CLAIMS_DIR; the variable KGRADE_DATA_DIR, a folder laid out like the source\n"
        "tree (baselines/, hardware/profiles/, reports/claims/); share/kgrade/ beside an\n"
        "installed kgrade (<prefix>/bin/kgrade reads <prefix>/share/kgrade/); the source tree\n"
        "kgrade was built from. A folder named by an option or a variable must exist. The\n"
        "results record the baselines folder (settings.baselines_dir); a resumed run keeps\n"
        "its own unless one is named.\n\n"
        "Ctrl-C (or SIGTERM) stops the run, keeping every finished evaluation;\n"
        "`kgrade run --resume FILE` continues it with the same settings.\n\n"
        "Shards: --list prints the run's evaluations with ids (the same options give\n"
        "the same ids on any device); --only grades some of them into a results file\n"
        "that is a shard of the run (settings run_id, only, evaluations); `kgrade merge`\n"
        "joins the shards, `kgrade slurm` runs them as a job array (docs/slurm.md).\n\n"
        "examples:\n"
        "  kgrade run                                    # tuned vs naive, every workload\n"
        "  kgrade run --workload softmax --size-class smoke\n"
        "  kgrade run --candidate kernels/examples/opencl-softmax --out my.jsonl\n"
        "  kgrade run --resume my.jsonl                  # after Ctrl-C, a crash or a reboot\n"
        "  kgrade run --only 5-8 --out shard-2.jsonl --continue   # a batch task, requeued or not",
    .exit_status = "0 every candidate evaluation passed (this invocation's and, resuming,\n"
                   "the earlier ones'), 1 some failed (or, --final, a workload is overfit to\n"
                   "the dev shapes), 2 bad usage or input, 130 interrupted",
    .options = run_options_table,
    .option_count = sizeof run_options_table / sizeof run_options_table[0],
    .run = run_run,
};
