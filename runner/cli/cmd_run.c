/* `kgrade run`: grade a candidate kernel set against a baseline on one device.
 * Each evaluation (one shape, both sets) runs in a worker process
 * (worker.h); this process plans, keeps the results file and reports. */
#include "check.h"
#include "commands.h"
#include "data_dirs.h"
#include "device_select.h"
#include "dir_list.h"
#include "fingerprint.h"
#include "grade_shape.h"
#include "kernelset.h"
#include "markdown.h"
#include "measure.h"
#include "peaks.h"
#include "profiles.h"
#include "record_keys.h"
#include "results.h"
#include "sol_check.h"
#include "summary.h"
#include "workload.h"
#include "worker.h"

#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct run_options {
    const char *workloads;
    const char *size_class;
    const char *device;
    const char *baseline;
    const char *candidate;
    uint64_t seed;
    const char *out;
    const char *baselines_dir;
    const char *profiles_dir;
    const char *claims_dir;
    int hot;
    size_t min_samples, max_samples;
    double min_time, max_time, target;
    size_t resamples;
    double timeout;
    const char *resume;
    int quiet;
} run_options;

#define OPT(name, type, field, metavar, help)                                                      \
    {                                                                                              \
        name, type, offsetof(run_options, field), metavar, help                                    \
    }

static const kg_option run_options_table[] = {
    OPT("workload", KG_OPT_STRING, workloads, "LIST",
        "comma-separated workloads to grade (default: every workload)"),
    OPT("size-class", KG_OPT_STRING, size_class, "CLASS",
        "smoke, small or full (default: full on a GPU, small otherwise)"),
    OPT("device", KG_OPT_STRING, device, "DEVICE",
        "position from `kgrade devices`, BACKEND:N, or part of the name (default: best)"),
    OPT("baseline", KG_OPT_STRING, baseline, "SET[,SET...]",
        "baseline kernel set, or several to grade the candidate against each (default: naive)"),
    OPT("candidate", KG_OPT_STRING, candidate, "SET",
        "candidate kernel set: a tier name, or a submission folder as a path (./mine) (default: "
        "tuned)"),
    OPT("seed", KG_OPT_U64, seed, "N", "seed for inputs, sampled checks and bootstrap (default 1)"),
    OPT("out", KG_OPT_STRING, out, "FILE",
        "results file, JSON lines, appended (default: results/kgrade-<UTC time>.jsonl)"),
    OPT("resume", KG_OPT_STRING, resume, "FILE",
        "continue the interrupted run in FILE: finished evaluations are kept, the rest run; "
        "refused if other options differ from the run's"),
    OPT("baselines", KG_OPT_STRING, baselines_dir, "DIR",
        "folder of workloads and their baseline tiers (default: Data folders, above)"),
    OPT("profiles", KG_OPT_STRING, profiles_dir, "DIR",
        "folder of GPU peak profiles (default: Data folders, above)"),
    OPT("claims", KG_OPT_STRING, claims_dir, "DIR",
        "folder of published claims for the report (default: Data folders, above)"),
    OPT("hot", KG_OPT_FLAG, hot, NULL, "do not flush the cache between samples (recorded)"),
    OPT("min-samples", KG_OPT_SIZE, min_samples, "N", "samples per set before stopping (10)"),
    OPT("max-samples", KG_OPT_SIZE, max_samples, "N", "cap on samples per set (1000)"),
    OPT("min-time", KG_OPT_DOUBLE, min_time, "SECONDS",
        "sampling time per shape before stopping (0.2)"),
    OPT("max-time", KG_OPT_DOUBLE, max_time, "SECONDS", "cap on sampling time per shape (10)"),
    OPT("target", KG_OPT_DOUBLE, target, "FRACTION",
        "stop when the median's 95% interval is within +-this (0.01)"),
    OPT("resamples", KG_OPT_SIZE, resamples, "N", "bootstrap resamples (10000)"),
    OPT("timeout", KG_OPT_DOUBLE, timeout, "SECONDS",
        "time limit of each set's own work on one shape (build, checks, its samples) before "
        "its worker is killed and it is recorded as `timeout` (600)"),
    OPT("quiet", KG_OPT_FLAG, quiet, NULL, "no progress on stderr"),
};

#define KG_MAX_BASELINES 8

typedef struct run_context {
    const run_options *opts;
    const kg_device_entry *device;
    kg_size_class cls;
    kg_results_file *results;
    int progress;
    size_t shape_index, shape_total, done_before, graded;
    const char *baseline; /* the baseline set being graded (one of --baseline's list) */
    kg_peaks peaks;       /* for the speed-of-light bound; have_peaks = 0 if unknown */
    int have_peaks;
    const cJSON *finished; /* resuming: the records already in the file */
    const cJSON *settings; /* the run header's settings, handed to each worker */
    kg_measure_settings measure;
    int candidate_failures;
} run_context;

static int name_in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return 1;
        p += len + (comma ? 1 : 0);
    }
    return 0;
}

/* A folder holding a workload.json that the --workload list names. */
static int is_selected_workload(const char *dir, const char *name, void *filter)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s/workload.json", dir, name);
    return stat(path, &st) == 0 && (!filter || name_in_list(filter, name));
}

/* Every folder of `dir` holding a workload.json, sorted, filtered by the
 * --workload list (an unknown name in the list is an error). */
static int load_workloads(const char *dir, const char *filter, kg_workload ***out, size_t *count,
                          kg_error *err)
{
    *out = NULL;
    *count = 0;
    char **names;
    size_t n;
    if (kg_dir_list(dir, is_selected_workload, (void *)filter, &names, &n) != 0)
        return kg_error_set(err, KG_ERR_INVALID, "%s: cannot open the workloads folder", dir);
    int rc = KG_OK;
    if (filter) {
        char copy[1024];
        snprintf(copy, sizeof copy, "%s", filter);
        for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok && !rc;
             tok = strtok_r(NULL, ",", &save)) {
            int found = 0;
            for (size_t i = 0; i < n; i++)
                found |= strcmp(names[i], tok) == 0;
            if (!found)
                rc = kg_error_set(err, KG_ERR_INVALID, "--workload: no workload '%s' in %s", tok,
                                  dir);
        }
    }
    kg_workload **list = calloc(n ? n : 1, sizeof *list);
    for (size_t i = 0; i < n && !rc; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        rc = kg_workload_load(path, &list[*count], err);
        if (!rc) {
            (*count)++;
            /* Rejected here, before anything is graded: a reference under
             * which zeros pass would let a kernel that does nothing pass. */
            rc = kg_check_reference_not_degenerate(list[*count - 1], 1, err);
        }
    }
    kg_dir_list_free(names, n);
    if (!rc && *count == 0)
        rc = kg_error_set(err, KG_ERR_INVALID, "%s: no workload found", dir);
    if (rc) {
        for (size_t i = 0; i < *count; i++)
            kg_workload_free(list[i]);
        free(list);
        *count = 0;
        return rc;
    }
    *out = list;
    return KG_OK;
}

static cJSON *run_header(const run_options *o, const kg_device_info *info, cJSON *profile,
                         kg_size_class cls, const kg_measure_settings *m, const char *out_path)
{
    char now[32];
    kg_utc_now(now, sizeof now);
    cJSON *h = cJSON_CreateObject();
    cJSON_AddStringToObject(h, KG_KEY_TYPE, kg_record_type_name(KG_RECORD_RUN));
    cJSON_AddNumberToObject(h, KG_KEY_RUN_SCHEMA, KG_RESULTS_SCHEMA);
    cJSON_AddStringToObject(h, KG_KEY_RUN_STARTED, now);
    cJSON_AddItemToObject(h, KG_KEY_RUN_KGRADE, kg_fingerprint_kgrade());
    cJSON_AddItemToObject(h, KG_KEY_RUN_HOST, kg_fingerprint_host());
    cJSON_AddItemToObject(h, KG_KEY_RUN_DEVICE, kg_fingerprint_device(info));
    /* Datasheet peaks of this GPU model, or null: what reports divide by. */
    cJSON_AddItemToObject(h, KG_KEY_RUN_PROFILE, profile ? profile : cJSON_CreateNull());
    cJSON *s = cJSON_AddObjectToObject(h, KG_KEY_RUN_SETTINGS);
    cJSON_AddStringToObject(s, KG_KEY_SETTINGS_BASELINE, o->baseline);
    cJSON_AddStringToObject(s, KG_KEY_SETTINGS_CANDIDATE, o->candidate);
    cJSON_AddStringToObject(s, KG_KEY_SETTINGS_SIZE_CLASS, kg_size_class_name(cls));
    cJSON_AddStringToObject(s, KG_KEY_SETTINGS_WORKLOADS,
                            o->workloads ? o->workloads : KG_SETTINGS_ALL_WORKLOADS);
    /* "seed" as a number for readers of earlier files; "seed_exact" as a
     * decimal string, since a JSON number cannot hold every 64-bit seed. */
    cJSON_AddNumberToObject(s, KG_KEY_SETTINGS_SEED, (double)o->seed);
    char seed_text[32];
    snprintf(seed_text, sizeof seed_text, "%llu", (unsigned long long)o->seed);
    cJSON_AddStringToObject(s, KG_KEY_SETTINGS_SEED_EXACT, seed_text);
    cJSON_AddBoolToObject(s, KG_KEY_SETTINGS_HOT, o->hot);
    cJSON_AddNumberToObject(s, KG_KEY_SETTINGS_MIN_SAMPLES, (double)m->min_samples);
    cJSON_AddNumberToObject(s, KG_KEY_SETTINGS_MAX_SAMPLES, (double)m->max_samples);
    cJSON_AddNumberToObject(s, KG_KEY_SETTINGS_MIN_TIME_S, m->min_time_s);
    cJSON_AddNumberToObject(s, KG_KEY_SETTINGS_MAX_TIME_S, m->max_time_s);
    cJSON_AddNumberToObject(s, KG_KEY_SETTINGS_TARGET, m->target);
    cJSON_AddNumberToObject(s, KG_KEY_SETTINGS_WARMUP_S, m->warmup_s);
    cJSON_AddNumberToObject(s, KG_KEY_SETTINGS_RESAMPLES, (double)o->resamples);
    cJSON_AddNumberToObject(s, KG_KEY_SETTINGS_TIMEOUT_S, o->timeout);
    cJSON_AddStringToObject(s, KG_KEY_SETTINGS_BASELINES_DIR, o->baselines_dir);
    cJSON_AddStringToObject(s, KG_KEY_SETTINGS_TIMER,
                            "device events around the launches; host clock recorded");
    cJSON_AddStringToObject(s, KG_KEY_SETTINGS_RESULTS_FILE, out_path);
    return h;
}

static int usage_fail(const kg_error *e)
{
    fprintf(stderr, "kgrade run: %s\n", e->message);
    return KG_EXIT_USAGE;
}

/* Loads every kernel manifest the run needs before anything is written, so
 * that a typo in a submission is reported at once, not after minutes of
 * grading, and leaves no half-written results file. */
/* What a set without a kernel for a workload means. With no --workload
 * list, every workload is graded where both sets have a kernel, the others
 * are skipped and reported (a tier that not every workload has, e.g.
 * `reference`). A workload the user named must have both: a submission
 * that leaves out a named workload fails its shapes (leaving out a
 * workload must not be silent, nor pay), and a missing tier is a usage
 * error. */
typedef enum missing_rule { MISSING_IS_ERROR, MISSING_SKIPS, MISSING_FAILS } missing_rule;

static missing_rule missing_set_rule(const run_options *o, int is_candidate, const char *set)
{
    if (!o->workloads)
        return MISSING_SKIPS;
    if (kg_set_is_submission(set))
        return is_candidate ? MISSING_FAILS : MISSING_SKIPS;
    return MISSING_IS_ERROR;
}

static int check_sets(const run_options *o, kg_workload *const *workloads, size_t n, kg_error *err)
{
    const char *sets[2] = {o->baseline, o->candidate};
    size_t covered = 0, found[2] = {0, 0};
    kg_error missing[2] = {{0}, {0}};
    for (size_t wi = 0; wi < n; wi++) {
        int rc = KG_OK;
        for (int i = 0; i < 2 && !rc; i++) {
            kg_kernel_entry *e = NULL;
            rc = kg_kernel_entry_load(workloads[wi], sets[i], &e, err);
            kg_kernel_entry_free(e);
            if (rc == KG_ERR_NOT_FOUND) {
                missing[i] = *err;
                if (missing_set_rule(o, i, sets[i]) != MISSING_IS_ERROR)
                    break;
            }
            if (rc)
                return rc;
            found[i]++;
            covered += i == 1;
        }
    }
    /* A bare word is a tier name (kg_set_is_submission): one that no
     * selected workload has is a mistake, not a set to skip everywhere. */
    for (int i = 0; i < 2; i++)
        if (!found[i] && !kg_set_is_submission(sets[i]) && missing[i].message[0]) {
            *err = missing[i];
            return kg_error_set(err, KG_ERR_INVALID,
                                "--%s %s: no selected workload has a tier of that name (%s)",
                                i ? "candidate" : "baseline", sets[i], missing[i].message);
        }
    if (covered == 0)
        return kg_error_set(err, KG_ERR_INVALID,
                            "%s against %s: no selected workload has both kernel sets",
                            o->candidate, o->baseline);
    return KG_OK;
}

/* Has the resumed file already got this evaluation (or this skip)? */
static int already_done(const run_context *ctx, kg_record_type type, const char *workload,
                        long shape_index)
{
    int shape = type == KG_RECORD_SHAPE; /* or a skipped workload */
    const cJSON *rec;
    cJSON_ArrayForEach(rec, ctx->finished)
    {
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(rec, shape ? KG_KEY_SHAPE_WORKLOAD
                                                                     : KG_KEY_SKIPPED_WORKLOAD);
        if (!kg_record_is(rec, type) || !cJSON_IsString(w) || strcmp(w->valuestring, workload) != 0)
            continue;
        /* A shape's baseline is its set's object; a skipped workload's, its name. */
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(rec, shape ? KG_KEY_SHAPE_BASELINE
                                                                     : KG_KEY_SKIPPED_BASELINE);
        const cJSON *set =
            cJSON_IsObject(b) ? cJSON_GetObjectItemCaseSensitive(b, KG_KEY_SET_NAME) : b;
        if (!cJSON_IsString(set) || strcmp(set->valuestring, ctx->baseline) != 0)
            continue;
        const cJSON *i = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_INDEX);
        if (shape_index < 0 || (cJSON_IsNumber(i) && (long)i->valuedouble == shape_index))
            return 1;
    }
    return 0;
}

/* A shape record for a shape that was not run: the candidate has no kernel
 * for a workload the user named (class 10 of docs/integrity.md), so each
 * of its shapes counts as a failure of the candidate. */
static cJSON *missing_record(const run_context *ctx, const kg_workload *w, size_t shape_no,
                             const char *why)
{
    const kg_shape *shape = &w->shapes[ctx->cls][shape_no];
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, KG_KEY_TYPE, kg_record_type_name(KG_RECORD_SHAPE));
    cJSON_AddStringToObject(rec, KG_KEY_SHAPE_WORKLOAD, w->name);
    cJSON_AddStringToObject(rec, KG_KEY_SHAPE_SIZE_CLASS, kg_size_class_name(ctx->cls));
    cJSON_AddStringToObject(rec, KG_KEY_SHAPE_SHAPE, shape->name);
    cJSON_AddNumberToObject(rec, KG_KEY_SHAPE_INDEX, (double)shape_no);
    cJSON_AddStringToObject(rec, KG_KEY_SHAPE_OUTPUT_DTYPE,
                            kg_dtype_name(w->tensors[w->output_index].dtype));
    cJSON *sym = cJSON_AddObjectToObject(rec, KG_KEY_SHAPE_SYMBOLS);
    for (size_t i = 0; i < shape->symbols.count; i++)
        cJSON_AddNumberToObject(sym, shape->symbols.names[i], (double)shape->symbols.values[i]);
    static const char *const roles[] = {KG_KEY_SHAPE_BASELINE, KG_KEY_SHAPE_CANDIDATE};
    const char *names[] = {ctx->baseline, ctx->opts->candidate};
    for (int i = 0; i < 2; i++) {
        cJSON *set = cJSON_AddObjectToObject(rec, roles[i]);
        cJSON_AddStringToObject(set, KG_KEY_SET_NAME, names[i]);
        cJSON_AddStringToObject(
            set, KG_KEY_SET_STATUS,
            kg_set_status_name(i ? KG_SET_STATUS_MISSING : KG_SET_STATUS_NOT_RUN));
        cJSON *flags = cJSON_AddArrayToObject(set, KG_KEY_SET_FLAGS);
        if (i) {
            cJSON_AddStringToObject(set, KG_KEY_SET_ERROR, why);
            cJSON_AddItemToArray(flags, cJSON_CreateString(kg_flag_name(KG_FLAG_MISSING_KERNEL)));
        }
        cJSON_AddItemToObject(set, KG_KEY_SET_SAMPLES_S, cJSON_CreateArray());
    }
    cJSON_AddStringToObject(rec, KG_KEY_SHAPE_STOP_REASON, KG_STOP_NOT_TIMED);
    return rec;
}

static void print_outcome(const run_context *ctx, const char *label, const cJSON *rec)
{
    if (!ctx->progress && ctx->opts->quiet)
        return;
    const cJSON *sp = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_SPEEDUP);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_CANDIDATE);
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(c, KG_KEY_SET_STATUS);
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(c, KG_KEY_SET_ERROR);
    const char *clear = ctx->progress ? "\r\033[K" : "";
    if (sp)
        fprintf(stderr, "%s[%zu/%zu] %s: %.3gx [%.3g, %.3g]\n", clear, ctx->shape_index,
                ctx->shape_total, label,
                cJSON_GetObjectItemCaseSensitive(sp, KG_KEY_SPEEDUP_VALUE)->valuedouble,
                cJSON_GetObjectItemCaseSensitive(sp, KG_KEY_SPEEDUP_LO)->valuedouble,
                cJSON_GetObjectItemCaseSensitive(sp, KG_KEY_SPEEDUP_HI)->valuedouble);
    else
        fprintf(stderr, "%s[%zu/%zu] %s: candidate %s%s%.200s\n", clear, ctx->shape_index,
                ctx->shape_total, label, cJSON_IsString(status) ? status->valuestring : "?",
                cJSON_IsString(error) ? ": " : "", cJSON_IsString(error) ? error->valuestring : "");
}

/* Appends a finished shape record and says how it went. */
static int append_shape(run_context *ctx, const char *label, cJSON *rec, kg_error *err)
{
    if (ctx->have_peaks && cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_TENSORS))
        kg_sol_check(rec, &ctx->peaks);
    kg_summary_add_speedup(rec, ctx->opts->resamples, ctx->opts->seed);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_CANDIDATE);
    if (kg_set_status_of(c) != KG_SET_STATUS_OK)
        ctx->candidate_failures++;
    int rc = kg_results_append(ctx->results, rec, err);
    ctx->graded++;
    print_outcome(ctx, label, rec);
    return rc;
}

/* One evaluation: both sets, each in a worker of its own, coordinated and
 * checked from here (grade_shape.h); its record is appended as soon as it
 * ends. Returns KG_ERR_INTERRUPTED when the run was interrupted. */
static int grade_one(run_context *ctx, const kg_workload *w, size_t shape_no, kg_error *err)
{
    char label[256];
    snprintf(label, sizeof label, "%s %s", w->name, w->shapes[ctx->cls][shape_no].name);
    kg_grade_job job = {
        .exe = kg_worker_self_exe(),
        .backend = kg_backend_name(ctx->device->backend),
        .device_index = ctx->device->info.index,
        .info = &ctx->device->info,
        .baselines_dir = ctx->opts->baselines_dir,
        .w = w,
        .cls = ctx->cls,
        .shape_no = shape_no,
        .baseline = ctx->baseline,
        .candidate = ctx->opts->candidate,
        .seed = ctx->opts->seed,
        .measure = ctx->measure,
        .settings = ctx->settings,
        .timeout_s = ctx->opts->timeout,
        .progress = ctx->progress,
        .forward_output = 1,
        .label = label,
        .index = ctx->shape_index,
        .total = ctx->shape_total,
    };
    cJSON *rec = NULL;
    double t0 = kg_worker_now();
    int rc = kg_grade_shape(&job, &rec, err);
    if (rc)
        return rc;
    /* The whole evaluation: start-up, builds, checks, timing. */
    cJSON_AddNumberToObject(rec, KG_KEY_SHAPE_WORKER_WALL_S, kg_worker_now() - t0);
    rc = append_shape(ctx, label, rec, err);
    cJSON_Delete(rec);
    return rc;
}

/* Grades every shape of one workload against ctx->baseline. */
static int grade_workload(run_context *ctx, const kg_workload *w, kg_error *err)
{
    const char *sets[2] = {ctx->baseline, ctx->opts->candidate};
    for (int i = 0; i < 2; i++) {
        kg_kernel_entry *entry = NULL;
        int rc = kg_kernel_entry_load(w, sets[i], &entry, err);
        kg_kernel_entry_free(entry);
        missing_rule rule = missing_set_rule(ctx->opts, i, sets[i]);
        if (rc == KG_ERR_NOT_FOUND && rule == MISSING_FAILS) {
            if (ctx->progress || !ctx->opts->quiet)
                fprintf(stderr,
                        "%s%s: the candidate %s has no kernel for this workload, which "
                        "--workload names: its %zu shapes count as failed\n",
                        ctx->progress ? "\r\033[K" : "", w->name, sets[i],
                        w->shape_count[ctx->cls]);
            rc = KG_OK;
            for (size_t s = 0; s < w->shape_count[ctx->cls] && !rc; s++) {
                ctx->shape_index++;
                if (already_done(ctx, KG_RECORD_SHAPE, w->name, (long)s)) {
                    ctx->done_before++;
                    continue;
                }
                char label[256];
                snprintf(label, sizeof label, "%s %s", w->name, w->shapes[ctx->cls][s].name);
                cJSON *rec = missing_record(ctx, w, s, err->message);
                kg_error append_err = {0};
                rc = append_shape(ctx, label, rec, &append_err);
                cJSON_Delete(rec);
                if (rc)
                    *err = append_err;
            }
            return rc;
        }
        if (rc == KG_ERR_NOT_FOUND && rule == MISSING_SKIPS) {
            ctx->shape_index += w->shape_count[ctx->cls];
            if (already_done(ctx, KG_RECORD_SKIPPED, w->name, -1))
                return KG_OK;
            if (ctx->progress || !ctx->opts->quiet)
                fprintf(stderr, "%s%s: skipped, the %s set %s has no kernel for it\n",
                        ctx->progress ? "\r\033[K" : "", w->name, i ? "candidate" : "baseline",
                        sets[i]);
            /* Recorded too, so the report says what was not graded. */
            cJSON *skip = cJSON_CreateObject();
            cJSON_AddStringToObject(skip, KG_KEY_TYPE, kg_record_type_name(KG_RECORD_SKIPPED));
            cJSON_AddStringToObject(skip, KG_KEY_SKIPPED_WORKLOAD, w->name);
            cJSON_AddStringToObject(skip, KG_KEY_SKIPPED_BASELINE, ctx->baseline);
            cJSON_AddStringToObject(skip, KG_KEY_SKIPPED_ROLE, i ? "candidate" : "baseline");
            cJSON_AddStringToObject(skip, KG_KEY_SKIPPED_SET, sets[i]);
            cJSON_AddStringToObject(skip, KG_KEY_SKIPPED_REASON, err->message);
            int written = kg_results_append(ctx->results, skip, err);
            cJSON_Delete(skip);
            return written;
        }
        if (rc)
            return rc;
    }
    for (size_t s = 0; s < w->shape_count[ctx->cls]; s++) {
        ctx->shape_index++;
        if (already_done(ctx, KG_RECORD_SHAPE, w->name, (long)s)) {
            ctx->done_before++;
            continue;
        }
        int rc = grade_one(ctx, w, s, err);
        if (rc)
            return rc;
    }
    return KG_OK;
}

static void on_interrupt(int sig)
{
    (void)sig;
    kg_worker_interrupted = 1;
}

/* SIGINT and SIGTERM stop the run between (or inside) evaluations, with
 * what was finished kept; no SA_RESTART, so waits return at once. */
static void catch_interrupts(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Settings that must match for a run to be resumed. */
static const char *const resume_keys[] = {
    KG_KEY_SETTINGS_BASELINE,      KG_KEY_SETTINGS_CANDIDATE,  KG_KEY_SETTINGS_SIZE_CLASS,
    KG_KEY_SETTINGS_WORKLOADS,     KG_KEY_SETTINGS_HOT,        KG_KEY_SETTINGS_MIN_SAMPLES,
    KG_KEY_SETTINGS_MAX_SAMPLES,   KG_KEY_SETTINGS_MIN_TIME_S, KG_KEY_SETTINGS_MAX_TIME_S,
    KG_KEY_SETTINGS_TARGET,        KG_KEY_SETTINGS_RESAMPLES,  KG_KEY_SETTINGS_TIMEOUT_S,
    KG_KEY_SETTINGS_BASELINES_DIR,
};

/* Names the first setting (or the device) that differs between the run in
 * the file and this invocation; "" when they agree. */
static void resume_difference(const cJSON *old_header, const cJSON *new_header, char *out,
                              size_t size)
{
    out[0] = '\0';
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(old_header, KG_KEY_RUN_SETTINGS);
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(new_header, KG_KEY_RUN_SETTINGS);
    /* The seed exactly (seed_exact), also against a file from before it. */
    uint64_t seed_a = kg_results_settings_seed(a, 0), seed_b = kg_results_settings_seed(b, 1);
    if (seed_a != seed_b) {
        snprintf(out, size, "seed: the file's run has %llu, this invocation %llu",
                 (unsigned long long)seed_a, (unsigned long long)seed_b);
        return;
    }
    for (size_t i = 0; i < sizeof resume_keys / sizeof resume_keys[0]; i++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, resume_keys[i]);
        const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, resume_keys[i]);
        if (!cJSON_Compare(x, y, 1)) {
            char *xs = x ? cJSON_PrintUnformatted(x) : NULL;
            char *ys = y ? cJSON_PrintUnformatted(y) : NULL;
            snprintf(out, size, "%s: the file's run has %s, this invocation %s", resume_keys[i],
                     xs ? xs : "nothing", ys ? ys : "nothing");
            free(xs);
            free(ys);
            return;
        }
    }
    static const char *const device_keys[] = {KG_KEY_DEVICE_BACKEND, KG_KEY_DEVICE_NAME,
                                              KG_KEY_DEVICE_INDEX};
    const cJSON *da = cJSON_GetObjectItemCaseSensitive(old_header, KG_KEY_RUN_DEVICE);
    const cJSON *db = cJSON_GetObjectItemCaseSensitive(new_header, KG_KEY_RUN_DEVICE);
    for (size_t i = 0; i < 3; i++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(da, device_keys[i]);
        const cJSON *y = cJSON_GetObjectItemCaseSensitive(db, device_keys[i]);
        if (!cJSON_Compare(x, y, 1)) {
            snprintf(out, size, "device %s: the file's run used %s, this invocation %s",
                     device_keys[i], cJSON_IsString(x) ? x->valuestring : "another",
                     cJSON_IsString(y) ? y->valuestring : "another");
            return;
        }
    }
}

/* Takes the run's options from the resumed file's header, so that
 * `kgrade run --resume FILE` alone continues it. Strings point into
 * `header`, which must outlive the options. */
static void options_from_header(run_options *o, const cJSON *header)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(header, KG_KEY_RUN_SETTINGS);
#define STR(key, field)                                                                            \
    do {                                                                                           \
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, key);                                 \
        if (cJSON_IsString(v))                                                                     \
            o->field = v->valuestring;                                                             \
    } while (0)
#define NUM(key, field, type)                                                                      \
    do {                                                                                           \
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, key);                                 \
        if (cJSON_IsNumber(v))                                                                     \
            o->field = (type)v->valuedouble;                                                       \
    } while (0)
    STR(KG_KEY_SETTINGS_BASELINE, baseline);
    STR(KG_KEY_SETTINGS_CANDIDATE, candidate);
    STR(KG_KEY_SETTINGS_SIZE_CLASS, size_class);
    STR(KG_KEY_SETTINGS_BASELINES_DIR, baselines_dir);
    const cJSON *wl = cJSON_GetObjectItemCaseSensitive(s, KG_KEY_SETTINGS_WORKLOADS);
    if (cJSON_IsString(wl) && strcmp(wl->valuestring, KG_SETTINGS_ALL_WORKLOADS) != 0)
        o->workloads = wl->valuestring;
    o->seed = kg_results_settings_seed(s, o->seed);
    NUM(KG_KEY_SETTINGS_MIN_SAMPLES, min_samples, size_t);
    NUM(KG_KEY_SETTINGS_MAX_SAMPLES, max_samples, size_t);
    NUM(KG_KEY_SETTINGS_MIN_TIME_S, min_time, double);
    NUM(KG_KEY_SETTINGS_MAX_TIME_S, max_time, double);
    NUM(KG_KEY_SETTINGS_TARGET, target, double);
    NUM(KG_KEY_SETTINGS_RESAMPLES, resamples, size_t);
    NUM(KG_KEY_SETTINGS_TIMEOUT_S, timeout, double);
    o->hot = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, KG_KEY_SETTINGS_HOT));
#undef STR
#undef NUM
    /* The device it ran on, by backend and index. */
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(header, KG_KEY_RUN_DEVICE);
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(d, KG_KEY_DEVICE_BACKEND);
    const cJSON *i = cJSON_GetObjectItemCaseSensitive(d, KG_KEY_DEVICE_INDEX);
    static char device[64];
    if (cJSON_IsString(b) && cJSON_IsNumber(i)) {
        snprintf(device, sizeof device, "%s:%d", b->valuestring, (int)i->valuedouble);
        o->device = device;
    }
}

/* Reads the run to resume: its records (header first) or an error. */
static int load_resumed(const char *path, cJSON **records, kg_error *err)
{
    /* The torn last line of a killed run is not an error to read past. */
    int rc = kg_results_read_last_run(path, records, err);
    if (rc)
        return rc;
    const cJSON *last = cJSON_GetArrayItem(*records, cJSON_GetArraySize(*records) - 1);
    if (kg_record_is(last, KG_RECORD_SUMMARY)) {
        cJSON_Delete(*records);
        *records = NULL;
        return kg_error_set(err, KG_ERR_INVALID,
                            "%s: the run finished (it has its summary); nothing to resume "
                            "(`kgrade report %s` prints it)",
                            path, path);
    }
    return KG_OK;
}

/* The run's data folders (data_dirs.h). */
typedef struct run_dirs {
    char baselines[PATH_MAX], profiles[PATH_MAX], claims[PATH_MAX];
} run_dirs;

/* Finds the data folders before anything is graded, so that a wrong one
 * is reported at once; o->baselines_dir then points into `d`. Resuming, the
 * run's own baselines folder (already in o->baselines_dir) stands in for
 * the places found without being named: only --baselines or a variable
 * names another, and resume_difference refuses it unless it agrees. */
static int find_data_dirs(run_options *o, const char *given_baselines, int resuming, run_dirs *d,
                          kg_error *err)
{
    kg_data_origin from;
    int rc = kg_data_dir_find(KG_DATA_BASELINES, given_baselines, "--baselines", d->baselines,
                              sizeof d->baselines, &from, err);
    int named = rc == KG_OK && from < KG_DATA_FROM_INSTALL;
    if (resuming && o->baselines_dir && !named && (rc == KG_OK || rc == KG_ERR_NOT_FOUND)) {
        snprintf(d->baselines, sizeof d->baselines, "%s", o->baselines_dir);
        rc = KG_OK;
    }
    if (rc)
        return rc;
    o->baselines_dir = d->baselines;
    rc = kg_data_dir_find(KG_DATA_PROFILES, o->profiles_dir, "--profiles", d->profiles,
                          sizeof d->profiles, NULL, err);
    if (rc)
        return rc;
    return kg_data_dir_find(KG_DATA_CLAIMS, o->claims_dir, "--claims", d->claims, sizeof d->claims,
                            NULL, err);
}

static int run_run(const kg_command *self, int argc, char **argv)
{
    run_options o = {.baseline = "naive",
                     .candidate = "tuned",
                     .seed = 1,
                     .resamples = KG_DEFAULT_RESAMPLES,
                     .timeout = 600};
    kg_measure_settings m = kg_measure_defaults();
    o.min_samples = m.min_samples;
    o.max_samples = m.max_samples;
    o.min_time = m.min_time_s;
    o.max_time = m.max_time_s;
    o.target = m.target;
    const char *pos[1];
    size_t npos;
    int prc = kg_cli_parse(self, &o, argc, argv, pos, 0, &npos);
    if (prc)
        return prc > 0 ? KG_EXIT_OK : KG_EXIT_USAGE;
    kg_error err = {0};
    const char *given_baselines = o.baselines_dir;
    /* Not dumpable: a worker running a kernel as host code (a CPU device)
     * cannot read this process's memory, which holds the reference's
     * answers, through /proc or ptrace. */
    prctl(PR_SET_DUMPABLE, 0);
    cJSON *resumed = NULL; /* the resumed run's records; its header's strings back `o` */
    if (o.resume) {
        if (load_resumed(o.resume, &resumed, &err))
            return usage_fail(&err);
        /* The file's settings first, then whatever the command line says,
         * which must agree (checked below, once the header is built). */
        const char *path = o.resume;
        run_options from_file = o;
        options_from_header(&from_file, cJSON_GetArrayItem(resumed, 0));
        o = from_file;
        kg_cli_parse(self, &o, argc, argv, pos, 0, &npos);
        o.resume = o.out = path;
    }
    run_dirs dirs;
    if (find_data_dirs(&o, given_baselines, resumed != NULL, &dirs, &err)) {
        cJSON_Delete(resumed);
        return usage_fail(&err);
    }
    if (o.min_samples < 1 || o.max_samples < o.min_samples || o.target <= 0 || o.max_time <= 0 ||
        o.resamples < 100 || !(o.timeout > 0)) {
        cJSON_Delete(resumed);
        return usage_fail(&(kg_error){.message = "need 1 <= --min-samples <= --max-samples, "
                                                 "--target > 0, --max-time > 0, --resamples >= "
                                                 "100, --timeout > 0"});
    }
    m.min_samples = o.min_samples;
    m.max_samples = o.max_samples;
    m.min_time_s = o.min_time;
    m.max_time_s = o.max_time;
    m.target = o.target;
    m.hot = o.hot;
    int cls_given = -1;
    if (o.size_class && (cls_given = kg_size_class_parse(o.size_class)) < 0) {
        kg_error_set(&err, KG_ERR_INVALID, "--size-class: expected smoke, small or full, got '%s'",
                     o.size_class);
        cJSON_Delete(resumed);
        return usage_fail(&err);
    }

    kg_workload **workloads;
    size_t nw;
    if (load_workloads(o.baselines_dir, o.workloads, &workloads, &nw, &err)) {
        cJSON_Delete(resumed);
        return usage_fail(&err);
    }

    int exit_code = KG_EXIT_OK;
    cJSON *profile = NULL; /* owned here until the run header takes it */
    cJSON *header = NULL;
    kg_device_list devices;
    kg_devices_enumerate(&devices);
    size_t di;
    kg_device *dev = NULL;
    run_context ctx = {.opts = &o};
    if (kg_devices_select(&devices, o.device, &di, &err)) {
        for (size_t i = 0; i < devices.failure_count; i++)
            fprintf(stderr, "kgrade run: %s: %s\n", kg_backend_name(devices.failures[i].backend),
                    devices.failures[i].error.message);
        exit_code = usage_fail(&err);
        goto out;
    }
    /* --baseline may list several sets: the candidate is graded against
     * each in turn (baseline sensitivity; tiers side by side). */
    char baseline_list[512];
    const char *baselines[KG_MAX_BASELINES];
    size_t nb = 0;
    snprintf(baseline_list, sizeof baseline_list, "%s", o.baseline);
    for (char *save = NULL, *tok = strtok_r(baseline_list, ",", &save);
         tok && nb < KG_MAX_BASELINES; tok = strtok_r(NULL, ",", &save))
        baselines[nb++] = tok;
    for (size_t b = 0; b < nb; b++) {
        run_options one = o;
        one.baseline = baselines[b];
        if (check_sets(&one, workloads, nw, &err)) {
            exit_code = usage_fail(&err);
            goto out;
        }
    }
    const kg_device_entry *de = &devices.items[di];
    memset(&err, 0, sizeof err);
    profile = kg_profile_find(dirs.profiles, &de->info, &err);
    if (!profile && err.message[0]) {
        exit_code = usage_fail(&err);
        goto out;
    }
    ctx.cls = cls_given >= 0                   ? (kg_size_class)cls_given
              : de->info.type == KG_DEVICE_GPU ? KG_SIZE_FULL
                                               : KG_SIZE_SMALL;
    char default_out[128];
    if (!o.out) {
        char now[32];
        kg_utc_now(now, sizeof now);
        snprintf(default_out, sizeof default_out, "results/kgrade-%s.jsonl", now);
        o.out = default_out;
    }
    header = run_header(&o, &de->info, profile, ctx.cls, &m, o.out);
    profile = NULL;
    if (resumed) {
        char diff[600];
        resume_difference(cJSON_GetArrayItem(resumed, 0), header, diff, sizeof diff);
        if (diff[0]) {
            kg_error_set(&err, KG_ERR_INVALID, "--resume %s: refused, the settings differ: %s",
                         o.resume, diff);
            exit_code = usage_fail(&err);
            goto out;
        }
        ctx.finished = resumed;
    }
    ctx.device = de;
    ctx.settings = cJSON_GetObjectItemCaseSensitive(header, KG_KEY_RUN_SETTINGS);
    ctx.measure = m;
    ctx.progress = !o.quiet && isatty(STDERR_FILENO);
    for (size_t i = 0; i < nw; i++)
        ctx.shape_total += nb * workloads[i]->shape_count[ctx.cls];
    if (kg_results_open(o.out, &ctx.results, &err)) {
        exit_code = usage_fail(&err);
        goto out;
    }
    if (kg_results_torn_bytes(ctx.results))
        fprintf(stderr,
                "kgrade run: %s: cut a torn last line (%zu bytes, the record being "
                "written when the run stopped)\n",
                o.out, kg_results_torn_bytes(ctx.results));
    memset(&err, 0, sizeof err);
    if (resumed) {
        /* The peaks the run started with, so bounds stay comparable. */
        const cJSON *pk =
            cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(resumed, 0), KG_KEY_RUN_PEAKS);
        ctx.have_peaks = pk && kg_peaks_from_json(pk, &ctx.peaks) == KG_OK;
    } else {
        /* Peaks are probed here, with our own kernels, before any worker
         * starts; then this process lets the device go. */
        if (kg_dev_open(de->backend, de->info.index, &dev, &err)) {
            fprintf(stderr, "kgrade run: cannot open %s: %s\n", de->info.name, err.message);
            exit_code = KG_EXIT_FAILED;
            goto out;
        }
        const cJSON *known = cJSON_GetObjectItemCaseSensitive(header, KG_KEY_RUN_PROFILE);
        if (cJSON_IsNull(known))
            known = NULL;
        if (!o.quiet)
            fprintf(stderr, "kgrade: %s\n",
                    known ? "peaks from the device's profile"
                          : "measuring peak bandwidth and FLOP/s");
        ctx.have_peaks = kg_peaks_find(dev, known, &ctx.peaks, &err) == KG_OK;
        if (!ctx.have_peaks)
            fprintf(stderr, "kgrade run: no speed-of-light bounds: %s\n", err.message);
        kg_dev_close(dev);
        dev = NULL;
        if (ctx.have_peaks)
            cJSON_AddItemToObject(header, KG_KEY_RUN_PEAKS, kg_peaks_json(&ctx.peaks));
    }
    int rc;
    if (resumed) {
        cJSON *mark = cJSON_CreateObject();
        char now[32];
        kg_utc_now(now, sizeof now);
        cJSON_AddStringToObject(mark, KG_KEY_TYPE, kg_record_type_name(KG_RECORD_RESUMED));
        cJSON_AddStringToObject(mark, KG_KEY_RESUMED_AT, now);
        cJSON_AddItemToObject(mark, KG_KEY_RESUMED_KGRADE, kg_fingerprint_kgrade());
        rc = kg_results_append(ctx.results, mark, &err);
        cJSON_Delete(mark);
    } else {
        rc = kg_results_append(ctx.results, header, &err);
    }
    catch_interrupts();
    if (!o.quiet)
        fprintf(stderr, "kgrade: %s %s vs %s on %s (%s), size class %s, %zu shapes -> %s\n",
                resumed ? "resuming" : "grading", o.candidate, o.baseline, de->info.name,
                de->info.backend, kg_size_class_name(ctx.cls), ctx.shape_total, o.out);
    for (size_t b = 0; b < nb && !rc; b++) {
        ctx.baseline = baselines[b];
        for (size_t i = 0; i < nw && !rc; i++)
            rc = grade_workload(&ctx, workloads[i], &err);
    }
    if (rc == KG_ERR_INTERRUPTED) {
        fprintf(stderr,
                "%skgrade run: interrupted. %zu of %zu evaluations are finished and saved in %s "
                "(%zu from before this invocation); the one in progress was dropped.\n"
                "Continue with: kgrade run --resume %s\n",
                ctx.progress ? "\r\033[K" : "", ctx.done_before + ctx.graded, ctx.shape_total,
                o.out, ctx.done_before, o.out);
        exit_code = 130;
        goto out;
    }
    if (rc) {
        fprintf(stderr, "%skgrade run: %s\n", ctx.progress ? "\r\033[K" : "", err.message);
        exit_code = KG_EXIT_USAGE;
        goto out;
    }
    /* The summary and the report come from the file as written (with the
     * records of earlier invocations when resuming), so what the run
     * prints is exactly what `kgrade report` will print from it later. */
    cJSON *written = NULL;
    memset(&err, 0, sizeof err);
    if (kg_results_read_last_run(o.out, &written, &err) != KG_OK) {
        fprintf(stderr, "kgrade run: reading the results back failed: %s\n", err.message);
        exit_code = KG_EXIT_USAGE;
        goto out;
    }
    cJSON *summary = kg_summary_compute(written, o.resamples, o.seed);
    kg_results_append(ctx.results, summary, &err);
    cJSON_AddItemToArray(written, summary);
    kg_report_markdown(stdout, written, dirs.claims);
    /* Failures of earlier invocations count for the exit code too. */
    ctx.candidate_failures = 0;
    const cJSON *rec;
    cJSON_ArrayForEach(rec, written)
    {
        if (!kg_record_is(rec, KG_RECORD_SHAPE))
            continue;
        ctx.candidate_failures +=
            kg_set_status_of(cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_CANDIDATE)) !=
            KG_SET_STATUS_OK;
    }
    cJSON_Delete(written);
    printf("\nResults: %s\n", o.out);
    if (ctx.candidate_failures)
        exit_code = KG_EXIT_FAILED;
out:
    cJSON_Delete(profile);
    cJSON_Delete(header);
    cJSON_Delete(resumed);
    kg_results_close(ctx.results);
    kg_dev_close(dev);
    kg_devices_release(&devices);
    for (size_t i = 0; i < nw; i++)
        kg_workload_free(workloads[i]);
    free(workloads);
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
        "Markdown summary goes to stdout, failures first; progress to stderr.\n"
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
        "exit status: 0 every candidate evaluation passed, 1 some failed, 2 bad usage or\n"
        "input, 130 interrupted.\n\n"
        "examples:\n"
        "  kgrade run                                    # tuned vs naive, every workload\n"
        "  kgrade run --workload softmax --size-class smoke\n"
        "  kgrade run --candidate kernels/examples/opencl-softmax --out my.jsonl\n"
        "  kgrade run --resume my.jsonl                  # after Ctrl-C, a crash or a reboot",
    .options = run_options_table,
    .option_count = sizeof run_options_table / sizeof run_options_table[0],
    .run = run_run,
};
