/* `kgrade run`: grade a candidate kernel set against a baseline on one device. */
#include "check.h"
#include "commands.h"
#include "device_select.h"
#include "dir_list.h"
#include "evaluate.h"
#include "fingerprint.h"
#include "kernelset.h"
#include "markdown.h"
#include "measure.h"
#include "results.h"
#include "peaks.h"
#include "profiles.h"
#include "summary.h"
#include "sweep.h"
#include "tensors.h"
#include "workload.h"

#include <stdarg.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    int hot;
    size_t min_samples, max_samples;
    double min_time, max_time, target;
    size_t resamples;
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
        "candidate kernel set: a tier or a submission folder (default: tuned)"),
    OPT("seed", KG_OPT_U64, seed, "N", "seed for inputs, sampled checks and bootstrap (default 1)"),
    OPT("out", KG_OPT_STRING, out, "FILE",
        "results file, JSON lines, appended (default: results/kgrade-<UTC time>.jsonl)"),
    OPT("baselines", KG_OPT_STRING, baselines_dir, "DIR",
        "folder of workloads (default: the source tree's baselines/)"),
    OPT("hot", KG_OPT_FLAG, hot, NULL, "do not flush the cache between samples (recorded)"),
    OPT("min-samples", KG_OPT_SIZE, min_samples, "N", "samples per set before stopping (10)"),
    OPT("max-samples", KG_OPT_SIZE, max_samples, "N", "cap on samples per set (1000)"),
    OPT("min-time", KG_OPT_DOUBLE, min_time, "SECONDS",
        "sampling time per shape before stopping (0.2)"),
    OPT("max-time", KG_OPT_DOUBLE, max_time, "SECONDS", "cap on sampling time per shape (10)"),
    OPT("target", KG_OPT_DOUBLE, target, "FRACTION",
        "stop when the median's 95% interval is within +-this (0.01)"),
    OPT("resamples", KG_OPT_SIZE, resamples, "N", "bootstrap resamples (10000)"),
    OPT("quiet", KG_OPT_FLAG, quiet, NULL, "no progress on stderr"),
};

/* One kernel set's evaluation on the current shape. */
typedef struct set_eval {
    const char *role;
    kg_kernel_entry *entry;
    kg_prepared *prep;
    kg_build_info build;
    const char *status; /* "ok" or why not */
    char error[1200];
    int checked, rechecked;
    kg_check_result check, recheck;
    kg_sample_set samples;
    cJSON *sweep; /* the autotune sweep's record, for sets that sweep */
} set_eval;

#define KG_MAX_BASELINES 8

typedef struct run_context {
    const run_options *opts;
    const kg_backend *backend;
    kg_device *dev;
    kg_build_cache *cache;
    kg_results_file *results;
    cJSON *records;
    kg_measure_settings measure;
    int progress;
    size_t shape_index, shape_total;
    const char *progress_label;
    int candidate_failures;
    const char *baseline; /* the baseline set being graded (one of --baseline's list) */
    kg_peaks peaks;       /* for the speed-of-light bound; have_peaks = 0 if unknown */
    int have_peaks;
} run_context;

static void fail_set(set_eval *s, const char *status, const kg_error *err)
{
    s->status = status;
    if (err->vendor_name[0])
        snprintf(s->error, sizeof s->error, "%s [%s %d]", err->message, err->vendor_name,
                 err->vendor_code);
    else
        snprintf(s->error, sizeof s->error, "%s", err->message);
}

/* One status line, rewritten in place; only on a TTY. */
static void progress_line(run_context *ctx, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void progress_line(run_context *ctx, const char *fmt, ...)
{
    if (!ctx->progress)
        return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\r\033[K[%zu/%zu] %s: %s", ctx->shape_index, ctx->shape_total,
            ctx->progress_label, msg);
    fflush(stderr);
}

static void on_progress(void *user, size_t samples, double worst, double elapsed)
{
    run_context *ctx = user;
    progress_line(ctx, "timing: %zu samples each, median within +-%.2f%%, %.1f s", samples,
                  isfinite(worst) ? worst * 100 : 100.0, elapsed);
}

/* Poison the output, run once, read it back, compare with the reference. */
static int run_and_check(set_eval *s, const kg_workload *w, const kg_shape *shape,
                         const kg_host_tensor *tensors, uint64_t seed, kg_check_result *result,
                         kg_error *err)
{
    size_t bytes = kg_tensor_bytes(&tensors[w->output_index]);
    void *got = malloc(bytes ? bytes : 1);
    if (!got)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory for the output copy");
    const kg_backend *b = kg_prepared_backend(s->prep);
    int rc;
    if ((rc = kg_prepared_poison_output(s->prep, err)) ||
        (rc = kg_prepared_enqueue(s->prep, err)) ||
        (rc = b->synchronize(kg_prepared_device(s->prep), err)) ||
        (rc = kg_prepared_read_output(s->prep, got, err)) ||
        (rc = kg_check_output(w, shape, tensors, got, seed, result, err))) {
        free(got);
        return rc;
    }
    free(got);
    return KG_OK;
}

static cJSON *check_json(const kg_check_result *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "passed", c->passed);
    cJSON_AddNumberToObject(o, "checked", (double)c->checked);
    cJSON_AddNumberToObject(o, "mismatches", (double)c->mismatches);
    cJSON_AddBoolToObject(o, "sampled", c->sampled);
    cJSON_AddNumberToObject(o, "max_abs_err", c->max_abs_err);
    cJSON_AddNumberToObject(o, "max_rel_err", isfinite(c->max_rel_err) ? c->max_rel_err : -1);
    if (!c->passed)
        cJSON_AddStringToObject(o, "message", c->message);
    return o;
}

/* Per-sample SM clock and throttle flag, where the backend reads clocks. */
static void add_clocks(cJSON *o, const kg_sample_set *samples)
{
    int known = 0;
    for (size_t i = 0; i < samples->count && !known; i++)
        known = samples->clock_mhz[i] != 0;
    if (!known)
        return;
    cJSON *clocks = cJSON_AddArrayToObject(o, "sm_clock_mhz");
    cJSON *flags = cJSON_AddArrayToObject(o, "throttled");
    for (size_t i = 0; i < samples->count; i++) {
        cJSON_AddItemToArray(clocks, cJSON_CreateNumber(samples->clock_mhz[i]));
        cJSON_AddItemToArray(flags, cJSON_CreateBool(samples->throttled_flags[i]));
    }
}

static cJSON *set_json(set_eval *s, const char *set_name)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "set", set_name);
    cJSON_AddStringToObject(o, "status", s->status);
    if (s->error[0])
        cJSON_AddStringToObject(o, "error", s->error);
    if (s->entry) {
        cJSON_AddStringToObject(o, "manifest", s->entry->manifest);
        cJSON_AddStringToObject(o, "source", s->entry->source_path);
        cJSON_AddStringToObject(o, "language", kg_language_name(s->entry->language));
        cJSON_AddStringToObject(o, "description", s->entry->description);
    }
    cJSON_AddStringToObject(o, "source_sha256", s->build.source_sha256);
    cJSON_AddStringToObject(o, "defines", s->build.defines);
    cJSON_AddNumberToObject(o, "build_seconds", s->build.seconds);
    cJSON_AddBoolToObject(o, "build_cached", s->build.cached);
    if (s->prep)
        cJSON_AddItemToObject(o, "launches", kg_prepared_launches_json(s->prep));
    cJSON_AddStringToObject(o, "build_log", s->build.log ? s->build.log : "");
    if (s->checked)
        cJSON_AddItemToObject(o, "check", check_json(&s->check));
    if (s->rechecked)
        cJSON_AddItemToObject(o, "recheck", check_json(&s->recheck));
    cJSON_AddNumberToObject(o, "warmup_runs", (double)s->samples.warmup_runs);
    cJSON_AddNumberToObject(o, "throttled_samples", (double)s->samples.throttled);
    cJSON_AddItemToObject(o, "samples_s",
                          kg_results_exact_array(s->samples.device_s, s->samples.count));
    cJSON_AddItemToObject(o, "host_samples_s",
                          kg_results_exact_array(s->samples.host_s, s->samples.count));
    add_clocks(o, &s->samples);
    if (s->sweep)
        cJSON_AddItemToObject(o, "sweep", s->sweep); /* the record owns it now */
    s->sweep = NULL;
    return o;
}

/* A different, reproducible seed per (workload, shape, purpose). */
static uint64_t derive_seed(uint64_t seed, const char *workload, size_t shape, uint64_t purpose)
{
    uint64_t h = seed * 0x9e3779b97f4a7c15ull + purpose;
    for (const char *p = workload; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
    h ^= shape * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 31;
    return h;
}

/* Formats through a local buffer: the message lives in the same struct as
 * the destination, which snprintf's restrict contract forbids. */
static void set_error(set_eval *s, const char *prefix, const char *message)
{
    char text[sizeof s->error];
    snprintf(text, sizeof text, "%s%s", prefix, message);
    memcpy(s->error, text, sizeof text);
}

static int grade_shape(run_context *ctx, const kg_workload *w, kg_kernel_entry *entries[2],
                       kg_size_class cls, size_t shape_no, cJSON **record, kg_error *err)
{
    const kg_shape *shape = &w->shapes[cls][shape_no];
    const char *names[2] = {ctx->baseline, ctx->opts->candidate};
    uint64_t input_seed = derive_seed(ctx->opts->seed, w->name, shape_no, 1);
    uint64_t recheck_seed = derive_seed(ctx->opts->seed, w->name, shape_no, 2);
    kg_host_tensor *tensors;
    int rc = kg_tensors_create(w, shape, input_seed, &tensors, err);
    if (rc)
        return rc;
    set_eval sets[2] = {{.role = "baseline"}, {.role = "candidate"}};
    kg_error e;
    for (int i = 0; i < 2; i++) {
        set_eval *s = &sets[i];
        s->entry = entries[i];
        s->status = "ok";
        memset(&e, 0, sizeof e);
        kg_symtab chosen;
        const kg_symtab *overrides = NULL;
        if (s->entry->sweep_count) {
            progress_line(ctx, "sweeping %s's block sizes", names[i]);
            kg_sweep_settings sweep = {.samples = 3, .max_time_s = 2.0, .hot = ctx->measure.hot};
            if (kg_sweep_run(ctx->cache, w, s->entry, shape, tensors, &sweep, &chosen, &s->sweep,
                             &e) != KG_OK) {
                fail_set(s, "setup_failed", &e);
                continue;
            }
            overrides = chosen.count ? &chosen : NULL;
        }
        progress_line(ctx, "building %s", names[i]);
        rc =
            kg_prepare(ctx->cache, w, s->entry, shape, overrides, tensors, &s->prep, &s->build, &e);
        if (rc) {
            fail_set(s, rc == KG_ERR_BUILD ? "build_failed" : "setup_failed", &e);
            continue;
        }
        progress_line(ctx, "checking %s", names[i]);
        rc = run_and_check(s, w, shape, tensors, derive_seed(input_seed, names[i], 0, 3), &s->check,
                           &e);
        s->checked = rc == KG_OK;
        if (rc)
            fail_set(s, "launch_failed", &e);
        else if (!s->check.passed) {
            s->status = "check_failed";
            set_error(s, "", s->check.message);
        }
    }

    /* Time the sets that computed the right answer, alternately. */
    kg_prepared *timed[2];
    set_eval *timed_sets[2];
    size_t n_timed = 0;
    for (int i = 0; i < 2; i++)
        if (strcmp(sets[i].status, "ok") == 0) {
            timed[n_timed] = sets[i].prep;
            timed_sets[n_timed++] = &sets[i];
        }
    kg_measure_outcome outcome = {.stop_reason = "not_timed", .worst_rel_halfwidth = NAN};
    if (n_timed) {
        kg_sample_set samples[2] = {{0}};
        memset(&e, 0, sizeof e);
        rc = kg_measure(timed, n_timed, &ctx->measure, samples, &outcome, &e);
        for (size_t i = 0; i < n_timed; i++) {
            timed_sets[i]->samples = samples[i];
            if (rc)
                fail_set(timed_sets[i], "timing_failed", &e);
        }
    }

    /* Fresh inputs the kernels could not have seen: catches results cached
     * between calls and outputs that depend on the timed inputs. */
    kg_tensors_fill_inputs(w, shape, tensors, recheck_seed);
    for (int i = 0; i < 2; i++) {
        set_eval *s = &sets[i];
        if (strcmp(s->status, "ok") != 0)
            continue;
        progress_line(ctx, "re-checking %s on fresh inputs", names[i]);
        memset(&e, 0, sizeof e);
        rc = kg_prepared_upload_inputs(s->prep, tensors, &e);
        if (rc == KG_OK)
            rc = run_and_check(s, w, shape, tensors, derive_seed(recheck_seed, names[i], 0, 4),
                               &s->recheck, &e);
        s->rechecked = rc == KG_OK;
        if (rc)
            fail_set(s, "launch_failed", &e);
        else if (!s->recheck.passed) {
            s->status = "recheck_failed";
            set_error(s, "on fresh inputs: ", s->recheck.message);
        }
    }

    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "type", "shape");
    cJSON_AddStringToObject(rec, "workload", w->name);
    cJSON_AddStringToObject(rec, "size_class", kg_size_class_name(cls));
    cJSON_AddStringToObject(rec, "shape", shape->name);
    cJSON_AddStringToObject(rec, "output_dtype", kg_dtype_name(w->tensors[w->output_index].dtype));
    cJSON *shapes = cJSON_AddArrayToObject(rec, "tensors");
    for (size_t i = 0; i < w->tensor_count; i++) {
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "name", tensors[i].name);
        cJSON_AddStringToObject(t, "dtype", kg_dtype_name(tensors[i].dtype));
        cJSON_AddStringToObject(t, "role", w->tensors[i].is_output ? "output" : "input");
        cJSON *dims = cJSON_AddArrayToObject(t, "shape");
        for (int d = 0; d < tensors[i].rank; d++)
            cJSON_AddItemToArray(dims, cJSON_CreateNumber((double)tensors[i].dims[d]));
        cJSON_AddItemToArray(shapes, t);
    }
    cJSON *sym = cJSON_AddObjectToObject(rec, "symbols");
    for (size_t i = 0; i < shape->symbols.count; i++)
        cJSON_AddNumberToObject(sym, shape->symbols.names[i], (double)shape->symbols.values[i]);
    int64_t flops = 0, bytes = 0;
    kg_eval_for_shape(w->flops, shape, w->name, "flops", &flops, NULL);
    kg_eval_for_shape(w->bytes, shape, w->name, "bytes", &bytes, NULL);
    cJSON_AddNumberToObject(rec, "flops", (double)flops);
    cJSON_AddNumberToObject(rec, "bytes", (double)bytes);
    if (ctx->have_peaks) {
        double sol = kg_peaks_speed_of_light(&ctx->peaks, (double)flops, (double)bytes,
                                             kg_dtype_name(w->tensors[w->output_index].dtype));
        if (isfinite(sol))
            cJSON_AddNumberToObject(rec, "speed_of_light_s", sol);
    }
    cJSON_AddNumberToObject(rec, "input_seed", (double)(input_seed >> 11));
    cJSON_AddNumberToObject(rec, "recheck_seed", (double)(recheck_seed >> 11));
    cJSON_AddItemToObject(rec, "baseline", set_json(&sets[0], names[0]));
    cJSON_AddItemToObject(rec, "candidate", set_json(&sets[1], names[1]));
    cJSON_AddStringToObject(rec, "stop_reason", outcome.stop_reason);
    cJSON_AddNumberToObject(rec, "sampling_wall_s", outcome.sampling_wall_s);
    if (isfinite(outcome.worst_rel_halfwidth))
        cJSON_AddNumberToObject(rec, "worst_rel_halfwidth", outcome.worst_rel_halfwidth);
    kg_summary_add_speedup(rec, ctx->opts->resamples, ctx->opts->seed);

    if (strcmp(sets[1].status, "ok") != 0)
        ctx->candidate_failures++;
    for (int i = 0; i < 2; i++) {
        kg_prepared_free(sets[i].prep);
        kg_sample_set_free(&sets[i].samples);
    }
    kg_tensors_free(tensors, w->tensor_count);
    *record = rec;
    return KG_OK;
}

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
        if (!rc)
            (*count)++;
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
    cJSON_AddStringToObject(h, "type", "run");
    cJSON_AddNumberToObject(h, "schema", KG_RESULTS_SCHEMA);
    cJSON_AddStringToObject(h, "started", now);
    cJSON_AddItemToObject(h, "kgrade", kg_fingerprint_kgrade());
    cJSON_AddItemToObject(h, "host", kg_fingerprint_host());
    cJSON_AddItemToObject(h, "device", kg_fingerprint_device(info));
    /* Datasheet peaks of this GPU model, or null: what reports divide by. */
    cJSON_AddItemToObject(h, "profile", profile ? profile : cJSON_CreateNull());
    cJSON *s = cJSON_AddObjectToObject(h, "settings");
    cJSON_AddStringToObject(s, "baseline", o->baseline);
    cJSON_AddStringToObject(s, "candidate", o->candidate);
    cJSON_AddStringToObject(s, "size_class", kg_size_class_name(cls));
    cJSON_AddStringToObject(s, "workloads", o->workloads ? o->workloads : "all");
    cJSON_AddNumberToObject(s, "seed", (double)o->seed);
    cJSON_AddBoolToObject(s, "hot", o->hot);
    cJSON_AddNumberToObject(s, "min_samples", (double)m->min_samples);
    cJSON_AddNumberToObject(s, "max_samples", (double)m->max_samples);
    cJSON_AddNumberToObject(s, "min_time_s", m->min_time_s);
    cJSON_AddNumberToObject(s, "max_time_s", m->max_time_s);
    cJSON_AddNumberToObject(s, "target_rel_halfwidth", m->target);
    cJSON_AddNumberToObject(s, "warmup_s", m->warmup_s);
    cJSON_AddNumberToObject(s, "bootstrap_resamples", (double)o->resamples);
    cJSON_AddStringToObject(s, "timer", "device events around the launches; host clock recorded");
    cJSON_AddStringToObject(s, "results_file", out_path);
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
/* A set missing for a workload skips that workload (with a note) when the
 * set is a submission (graded on what it covers) or when no --workload list
 * was given (a tier that not every workload has, e.g. `reference`); a
 * workload the user named must have both sets. */
static int missing_set_skips(const run_options *o, const char *set)
{
    return kg_set_is_submission(set) || !o->workloads;
}

static int check_sets(const run_options *o, kg_workload *const *workloads, size_t n, kg_error *err)
{
    const char *sets[2] = {o->baseline, o->candidate};
    size_t covered = 0;
    for (size_t wi = 0; wi < n; wi++) {
        int rc = KG_OK;
        for (int i = 0; i < 2 && !rc; i++) {
            kg_kernel_entry *e = NULL;
            rc = kg_kernel_entry_load(workloads[wi], sets[i], &e, err);
            kg_kernel_entry_free(e);
            if (rc == KG_ERR_UNAVAILABLE && missing_set_skips(o, sets[i]))
                break;
            if (rc)
                return rc;
            covered += i == 1;
        }
    }
    if (covered == 0)
        return kg_error_set(err, KG_ERR_INVALID,
                            "%s against %s: no selected workload has both kernel sets",
                            o->candidate, o->baseline);
    return KG_OK;
}

/* Grades every shape of one workload; records go to the file as they end. */
static int grade_workload(run_context *ctx, const kg_workload *w, kg_size_class cls, kg_error *err)
{
    kg_kernel_entry *entries[2] = {NULL, NULL};
    const char *sets[2] = {ctx->baseline, ctx->opts->candidate};
    for (int i = 0; i < 2; i++) {
        int rc = kg_kernel_entry_load(w, sets[i], &entries[i], err);
        if (rc == KG_ERR_UNAVAILABLE && missing_set_skips(ctx->opts, sets[i])) {
            if (ctx->progress || !ctx->opts->quiet)
                fprintf(stderr, "%s%s: skipped, the %s set %s has no kernel for it\n",
                        ctx->progress ? "\r\033[K" : "", w->name, i ? "candidate" : "baseline",
                        sets[i]);
            /* Recorded too, so the report says what was not graded. */
            cJSON *skip = cJSON_CreateObject();
            cJSON_AddStringToObject(skip, "type", "skipped");
            cJSON_AddStringToObject(skip, "workload", w->name);
            cJSON_AddStringToObject(skip, "reason", err->message);
            int written = kg_results_append(ctx->results, skip, err);
            cJSON_AddItemToArray(ctx->records, skip);
            kg_kernel_entry_free(entries[0]);
            ctx->shape_index += w->shape_count[cls];
            return written;
        }
        if (rc) {
            kg_kernel_entry_free(entries[0]);
            return rc;
        }
    }
    int rc = KG_OK;
    for (size_t s = 0; s < w->shape_count[cls] && !rc; s++) {
        ctx->shape_index++;
        char label[256];
        snprintf(label, sizeof label, "%s %s", w->name, w->shapes[cls][s].name);
        ctx->progress_label = label;
        cJSON *rec = NULL;
        rc = grade_shape(ctx, w, entries, cls, s, &rec, err);
        if (rc)
            break;
        rc = kg_results_append(ctx->results, rec, err);
        if (ctx->progress || !ctx->opts->quiet) {
            const cJSON *sp = cJSON_GetObjectItemCaseSensitive(rec, "speedup");
            const cJSON *c = cJSON_GetObjectItemCaseSensitive(rec, "candidate");
            const char *status = cJSON_GetObjectItemCaseSensitive(c, "status")->valuestring;
            if (sp)
                fprintf(stderr, "%s[%zu/%zu] %s: %.3gx [%.3g, %.3g]\n",
                        ctx->progress ? "\r\033[K" : "", ctx->shape_index, ctx->shape_total, label,
                        cJSON_GetObjectItemCaseSensitive(sp, "value")->valuedouble,
                        cJSON_GetObjectItemCaseSensitive(sp, "lo")->valuedouble,
                        cJSON_GetObjectItemCaseSensitive(sp, "hi")->valuedouble);
            else
                fprintf(stderr, "%s[%zu/%zu] %s: candidate %s\n", ctx->progress ? "\r\033[K" : "",
                        ctx->shape_index, ctx->shape_total, label, status);
        }
        cJSON_AddItemToArray(ctx->records, rec);
    }
    kg_kernel_entry_free(entries[0]);
    kg_kernel_entry_free(entries[1]);
    return rc;
}

static int run_run(const kg_command *self, int argc, char **argv)
{
    run_options o = {.baseline = "naive",
                     .candidate = "tuned",
                     .seed = 1,
                     .baselines_dir = KG_SOURCE_DIR "/baselines",
                     .resamples = KG_DEFAULT_RESAMPLES};
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
    if (o.min_samples < 1 || o.max_samples < o.min_samples || o.target <= 0 || o.max_time <= 0 ||
        o.resamples < 100)
        return usage_fail(&(kg_error){.message = "need 1 <= --min-samples <= --max-samples, "
                                                 "--target > 0, --max-time > 0, --resamples >= "
                                                 "100"});
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
        return usage_fail(&err);
    }

    kg_workload **workloads;
    size_t nw;
    if (load_workloads(o.baselines_dir, o.workloads, &workloads, &nw, &err))
        return usage_fail(&err);

    int exit_code = KG_EXIT_OK;
    cJSON *profile = NULL; /* owned here until the run header takes it */
    kg_device_list devices;
    kg_devices_enumerate(&devices);
    size_t di;
    kg_device *dev = NULL;
    run_context ctx = {.opts = &o, .measure = m};
    if (kg_devices_select(&devices, o.device, &di, &err)) {
        for (size_t i = 0; i < devices.failure_count; i++)
            fprintf(stderr, "kgrade run: %s: %s\n", devices.failures[i].backend->name,
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
    profile = kg_profile_find(KG_SOURCE_DIR "/hardware/profiles", &de->info, &err);
    if (!profile && err.message[0]) {
        exit_code = usage_fail(&err);
        goto out;
    }
    kg_size_class cls = cls_given >= 0                   ? (kg_size_class)cls_given
                        : de->info.type == KG_DEVICE_GPU ? KG_SIZE_FULL
                                                         : KG_SIZE_SMALL;
    if (de->backend->device_open(de->info.index, &dev, &err)) {
        fprintf(stderr, "kgrade run: cannot open %s: %s\n", de->info.name, err.message);
        exit_code = KG_EXIT_FAILED;
        goto out;
    }
    char default_out[128];
    if (!o.out) {
        char now[32];
        kg_utc_now(now, sizeof now);
        snprintf(default_out, sizeof default_out, "results/kgrade-%s.jsonl", now);
        o.out = default_out;
    }
    ctx.backend = de->backend;
    ctx.dev = dev;
    ctx.cache = kg_build_cache_create(de->backend, dev, &de->info);
    ctx.records = cJSON_CreateArray();
    ctx.progress = !o.quiet && isatty(STDERR_FILENO);
    if (ctx.progress) {
        ctx.measure.progress = on_progress;
        ctx.measure.progress_user = &ctx;
    }
    for (size_t i = 0; i < nw; i++)
        ctx.shape_total += nb * workloads[i]->shape_count[cls];
    if (kg_results_open(o.out, &ctx.results, &err)) {
        exit_code = usage_fail(&err);
        goto out;
    }
    memset(&err, 0, sizeof err);
    if (!o.quiet)
        fprintf(stderr, "kgrade: %s\n",
                profile ? "peaks from the device's profile"
                        : "measuring peak bandwidth and FLOP/s");
    ctx.have_peaks = kg_peaks_find(de->backend, dev, &de->info, profile, &ctx.peaks, &err) == KG_OK;
    if (!ctx.have_peaks)
        fprintf(stderr, "kgrade run: no speed-of-light bounds: %s\n", err.message);
    cJSON *header = run_header(&o, &de->info, profile, cls, &m, o.out);
    profile = NULL;
    if (ctx.have_peaks)
        cJSON_AddItemToObject(header, "peaks", kg_peaks_json(&ctx.peaks));
    int rc = kg_results_append(ctx.results, header, &err);
    cJSON_AddItemToArray(ctx.records, header);
    if (!o.quiet)
        fprintf(stderr, "kgrade: %s vs %s on %s (%s), size class %s, %zu shapes -> %s\n",
                o.candidate, o.baseline, de->info.name, de->info.backend, kg_size_class_name(cls),
                ctx.shape_total, o.out);
    for (size_t b = 0; b < nb && !rc; b++) {
        ctx.baseline = baselines[b];
        for (size_t i = 0; i < nw && !rc; i++)
            rc = grade_workload(&ctx, workloads[i], cls, &err);
    }
    if (rc) {
        fprintf(stderr, "%skgrade run: %s\n", ctx.progress ? "\r\033[K" : "", err.message);
        exit_code = KG_EXIT_USAGE;
        goto out;
    }
    cJSON *summary = kg_summary_compute(ctx.records, o.resamples, o.seed);
    kg_results_append(ctx.results, summary, &err);
    cJSON_AddItemToArray(ctx.records, summary);
    /* The report is made from the file as written, so what the run prints
     * is exactly what `kgrade report` will print from it later. */
    cJSON *written = NULL;
    memset(&err, 0, sizeof err);
    if (kg_results_read_last_run(o.out, &written, &err) == KG_OK) {
        kg_report_markdown(stdout, written);
        cJSON_Delete(written);
    } else {
        fprintf(stderr, "kgrade run: reading the results back failed (%s); report from memory\n",
                err.message);
        kg_report_markdown(stdout, ctx.records);
    }
    printf("\nResults: %s\n", o.out);
    if (ctx.candidate_failures)
        exit_code = KG_EXIT_FAILED;
out:
    cJSON_Delete(profile);
    kg_results_close(ctx.results);
    cJSON_Delete(ctx.records);
    kg_build_cache_free(ctx.cache);
    if (dev)
        devices.items[di].backend->device_close(dev);
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
        "For every shape of the size class: generate seeded inputs, build both sets, check each\n"
        "output against the double-precision CPU reference (outputs poisoned with NaN first),\n"
        "time baseline and candidate alternately with a cold cache until the median's 95%\n"
        "interval is within +-1% (or a cap), check again on fresh inputs, and append the\n"
        "record to the results file (JSON lines, synced as each shape ends). A Markdown\n"
        "summary goes to stdout, progress to stderr.\n\n"
        "Kernel sets: a baseline tier by name (naive, tuned, ...), found in\n"
        "baselines/<workload>/kernels.json, or a submission folder holding kernels.json\n"
        "(e.g. kernels/examples/opencl-softmax). A submission is graded on the workloads it\n"
        "covers.\n\n"
        "examples:\n"
        "  kgrade run                                    # tuned vs naive, every workload\n"
        "  kgrade run --workload softmax --size-class smoke\n"
        "  kgrade run --candidate kernels/examples/opencl-softmax --out my.jsonl",
    .options = run_options_table,
    .option_count = sizeof run_options_table / sizeof run_options_table[0],
    .run = run_run,
};
