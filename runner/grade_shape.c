/* One evaluation: both kernel sets on one shape, checked, timed, re-checked. */
#include "grade_shape.h"
#include "check.h"
#include "results.h"
#include "scrub.h"
#include "sweep.h"
#include "tensors.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Integrity findings, in the order that picks a set's primary reason: the
 * first flag raised is the one its status and error describe. */
typedef enum flag {
    FLAG_OUT_OF_BOUNDS,
    FLAG_INPUT_MODIFIED,
    FLAG_NONDETERMINISTIC,
    FLAG_UNWRITTEN,
    FLAG_WRONG,
    FLAG_FRESH_INPUTS,
    FLAG_HEAVY_TAILED,
    FLAG_SOURCE_REFUSED,
    FLAG_COUNT
} flag;

static const struct {
    const char *name;
    const char *status;
} flag_info[FLAG_COUNT] = {
    [FLAG_OUT_OF_BOUNDS] = {"out_of_bounds_write", "integrity_failed"},
    [FLAG_INPUT_MODIFIED] = {"input_modified", "integrity_failed"},
    [FLAG_NONDETERMINISTIC] = {"nondeterministic", "integrity_failed"},
    [FLAG_UNWRITTEN] = {"unwritten_output", "check_failed"},
    [FLAG_WRONG] = {"wrong_output", "check_failed"},
    [FLAG_FRESH_INPUTS] = {"fresh_inputs_failed", "recheck_failed"},
    [FLAG_HEAVY_TAILED] = {"heavy_tailed_failed", "recheck_failed"},
    [FLAG_SOURCE_REFUSED] = {"source_refused", "build_failed"},
};

/* One kernel set's evaluation on the shape. */
typedef struct set_eval {
    const char *role, *name;
    kg_kernel_entry *entry;
    kg_prepared *prep;
    kg_build_info build;
    const char *status; /* "ok" or why not */
    char error[1200];
    unsigned flags; /* 1 << flag */
    char flag_detail[FLAG_COUNT][300];
    int checked, repeated, rechecked, heavy_checked;
    kg_check_result check, recheck, heavy;
    size_t repeat_disagreeing, repeat_first;
    kg_integrity integrity; /* accumulated over every checked run */
    double check_wall_s;
    kg_sample_set samples;
    cJSON *sweep; /* the autotune sweep's record, for sets that sweep */
} set_eval;

typedef struct grader {
    const kg_grade_job *job;
    const kg_shape *shape;
    kg_host_tensor *tensors;
    kg_scrubber *scrubber; /* NULL where it could not be built */
} grader;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

uint64_t kg_grade_seed(uint64_t seed, const char *workload, size_t shape, uint64_t purpose)
{
    uint64_t h = seed * 0x9e3779b97f4a7c15ull + purpose;
    for (const char *p = workload; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
    h ^= shape * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 31;
    return h;
}

static void phase(const grader *g, const char *role, const char *step)
{
    if (g->job->phase)
        g->job->phase(g->job->phase_user, role, step);
}

/* One status line, rewritten in place; only on a TTY. */
static void progress_line(const grader *g, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void progress_line(const grader *g, const char *fmt, ...)
{
    if (!g->job->progress)
        return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\r\033[K[%zu/%zu] %s: %s", g->job->index, g->job->total, g->job->label, msg);
    fflush(stderr);
}

static void on_progress(void *user, size_t samples, double worst, double elapsed)
{
    progress_line(user, "timing: %zu samples each, median within +-%.2f%%, %.1f s", samples,
                  isfinite(worst) ? worst * 100 : 100.0, elapsed);
}

static void fail_set(set_eval *s, const char *status, const kg_error *err)
{
    s->status = status;
    if (err->vendor_name[0])
        snprintf(s->error, sizeof s->error, "%s [%s %d]", err->message, err->vendor_name,
                 err->vendor_code);
    else
        snprintf(s->error, sizeof s->error, "%s", err->message);
}

static void raise_flag(set_eval *s, flag f, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void raise_flag(set_eval *s, flag f, const char *fmt, ...)
{
    if (s->flags & (1u << f))
        return;
    s->flags |= 1u << f;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->flag_detail[f], sizeof s->flag_detail[f], fmt, ap);
    va_end(ap);
}

/* The status and error follow the highest-priority flag raised. */
static void settle_status(set_eval *s)
{
    if (strcmp(s->status, "ok") != 0 || !s->flags)
        return;
    for (int f = 0; f < FLAG_COUNT; f++)
        if (s->flags & (1u << f)) {
            s->status = flag_info[f].status;
            snprintf(s->error, sizeof s->error, "%s: %s", flag_info[f].name, s->flag_detail[f]);
            return;
        }
}

static void merge_integrity(set_eval *s, const kg_integrity *now)
{
    s->integrity.guarded = now->guarded;
    if (now->guard_bytes_damaged && !s->integrity.guard_bytes_damaged)
        memcpy(s->integrity.first_damaged, now->first_damaged, sizeof now->first_damaged);
    if (now->inputs_modified && !s->integrity.inputs_modified)
        memcpy(s->integrity.first_modified, now->first_modified, sizeof now->first_modified);
    s->integrity.guard_bytes_damaged += now->guard_bytes_damaged;
    s->integrity.inputs_modified += now->inputs_modified;
}

/* Poison the output, run once, read it back into `got`, compare with the
 * reference, then look at the guard zones and the inputs. `what` names the
 * run in flag details ("on fresh inputs"). */
static int checked_run(grader *g, set_eval *s, kg_poison poison, uint64_t seed, void *got,
                       kg_check_result *result, const char *what, kg_error *err)
{
    const kg_workload *w = g->job->w;
    double t0 = now_seconds();
    kg_integrity found;
    int rc;
    if ((rc = kg_prepared_poison_output(s->prep, poison, err)) ||
        (rc = kg_prepared_enqueue(s->prep, err)) ||
        (rc = g->job->backend->synchronize(g->job->dev, err)) ||
        (rc = kg_prepared_read_output(s->prep, got, err)) ||
        (rc = kg_check_output(w, g->shape, g->tensors, got, seed, result, err)) ||
        (rc = kg_prepared_verify(s->prep, g->tensors, &found, err)))
        return rc;
    s->check_wall_s += now_seconds() - t0;
    merge_integrity(s, &found);
    if (found.guard_bytes_damaged)
        raise_flag(s, FLAG_OUT_OF_BOUNDS, "%zu guard bytes around %s overwritten %s",
                   found.guard_bytes_damaged, found.first_damaged, what);
    if (found.inputs_modified)
        raise_flag(s, FLAG_INPUT_MODIFIED, "input %s changed by the kernel %s",
                   found.first_modified, what);
    return KG_OK;
}

static int build_set(grader *g, set_eval *s)
{
    const kg_grade_job *job = g->job;
    kg_error e = {0};
    kg_symtab chosen;
    const kg_symtab *overrides = NULL;
    if (s->entry->sweep_count) {
        phase(g, s->role, "sweep");
        progress_line(g, "sweeping %s's block sizes", s->name);
        kg_sweep_settings sweep = {.samples = 3, .max_time_s = 2.0, .hot = job->measure.hot};
        if (kg_sweep_run(job->cache, job->w, s->entry, g->shape, g->tensors, &sweep, &chosen,
                         &s->sweep, &e) != KG_OK) {
            fail_set(s, "setup_failed", &e);
            return -1;
        }
        overrides = chosen.count ? &chosen : NULL;
    }
    phase(g, s->role, "build");
    progress_line(g, "building %s", s->name);
    int rc = kg_prepare(job->cache, job->w, s->entry, g->shape, overrides, g->tensors, &s->prep,
                        &s->build, &e);
    if (rc) {
        fail_set(s,
                 rc == KG_ERR_BUILD    ? "build_failed"
                 : rc == KG_ERR_MEMORY ? "refused"
                                       : "setup_failed",
                 &e);
        if (s->build.source_refused)
            s->flags |= 1u << FLAG_SOURCE_REFUSED;
        return -1;
    }
    return 0;
}

/* The first check, and the same inputs again with the other poison: two
 * runs of a correct kernel agree; a race or a read of memory the kernel
 * did not write makes them differ. */
static void first_checks(grader *g, set_eval *s, uint64_t input_seed, void *got, void *again)
{
    const kg_workload *w = g->job->w;
    kg_error e = {0};
    phase(g, s->role, "check");
    progress_line(g, "checking %s", s->name);
    uint64_t seed = kg_grade_seed(input_seed, s->name, 0, 3);
    if ((g->scrubber && kg_scrubber_run(g->scrubber, 1, &e)) ||
        checked_run(g, s, KG_POISON_NAN, seed, got, &s->check, "in the first check", &e)) {
        fail_set(s, "launch_failed", &e);
        return;
    }
    s->checked = 1;
    if (!s->check.passed)
        raise_flag(s, s->check.unwritten ? FLAG_UNWRITTEN : FLAG_WRONG, "%s", s->check.message);
    /* The repeat starts from the original inputs even if the kernel wrote
     * them: it tests determinism, the input check has already spoken. */
    phase(g, s->role, "repeat");
    kg_check_result repeat;
    if (kg_prepared_upload_inputs(s->prep, g->tensors, &e) ||
        (g->scrubber && kg_scrubber_run(g->scrubber, 2, &e)) ||
        checked_run(g, s, KG_POISON_FINITE, seed, again, &repeat, "in the repeat run", &e)) {
        fail_set(s, "launch_failed", &e);
        return;
    }
    s->repeated = 1;
    size_t count = g->tensors[w->output_index].count;
    s->repeat_disagreeing = kg_check_agreement(w, got, again, count, &s->repeat_first);
    if (s->repeat_disagreeing)
        raise_flag(s, FLAG_NONDETERMINISTIC,
                   "two runs on the same inputs disagree on %zu of %zu elements; first at index "
                   "%zu: %.9g, then %.9g",
                   s->repeat_disagreeing, count, s->repeat_first,
                   kg_dtype_load(w->tensors[w->output_index].dtype, got, s->repeat_first),
                   kg_dtype_load(w->tensors[w->output_index].dtype, again, s->repeat_first));
}

/* After timing: inputs drawn again (same distributions, a new seed), then
 * heavy-tailed ones. Catches results cached between calls, outputs that
 * depend on the timed inputs, and shortcuts that only hold near the mean. */
static void late_checks(grader *g, set_eval *sets[2], size_t n, void *got)
{
    const kg_grade_job *job = g->job;
    static const struct {
        const char *step, *what;
        flag f;
        uint64_t purpose;
    } rounds[2] = {
        {"fresh inputs", "on fresh inputs", FLAG_FRESH_INPUTS, 2},
        {"heavy-tailed inputs", "on heavy-tailed inputs", FLAG_HEAVY_TAILED, 5},
    };
    for (int r = 0; r < 2; r++) {
        uint64_t seed = kg_grade_seed(job->seed, job->w->name, job->shape_no, rounds[r].purpose);
        if (r == 0)
            kg_tensors_fill_inputs(job->w, g->shape, g->tensors, seed);
        else
            kg_tensors_fill_heavy_tailed(job->w, g->shape, g->tensors, seed);
        for (size_t i = 0; i < n; i++) {
            set_eval *s = sets[i];
            if (strcmp(s->status, "ok") != 0 || s->flags)
                continue;
            phase(g, s->role, r == 0 ? "recheck" : "heavy-tailed check");
            progress_line(g, "checking %s %s", s->name, rounds[r].what);
            kg_check_result *res = r == 0 ? &s->recheck : &s->heavy;
            kg_error e = {0};
            if (kg_prepared_upload_inputs(s->prep, g->tensors, &e) ||
                checked_run(g, s, KG_POISON_NAN, kg_grade_seed(seed, s->name, 0, 4), got, res,
                            rounds[r].what, &e)) {
                fail_set(s, "launch_failed", &e);
                continue;
            }
            *(r == 0 ? &s->rechecked : &s->heavy_checked) = 1;
            if (!res->passed)
                raise_flag(s, rounds[r].f, "%s", res->message);
        }
    }
}

static cJSON *check_json(const kg_check_result *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "passed", c->passed);
    cJSON_AddNumberToObject(o, "checked", (double)c->checked);
    cJSON_AddNumberToObject(o, "mismatches", (double)c->mismatches);
    cJSON_AddNumberToObject(o, "unwritten", (double)c->unwritten);
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

static cJSON *integrity_json(const set_eval *s, int scrubbed)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "guard_zones", s->integrity.guarded);
    cJSON_AddNumberToObject(o, "guard_bytes_overwritten", (double)s->integrity.guard_bytes_damaged);
    if (s->integrity.guard_bytes_damaged)
        cJSON_AddStringToObject(o, "first_overwritten", s->integrity.first_damaged);
    cJSON_AddNumberToObject(o, "inputs_modified", (double)s->integrity.inputs_modified);
    if (s->integrity.inputs_modified)
        cJSON_AddStringToObject(o, "first_modified", s->integrity.first_modified);
    if (s->repeated) {
        cJSON *r = cJSON_AddObjectToObject(o, "repeat");
        cJSON_AddNumberToObject(r, "disagreeing", (double)s->repeat_disagreeing);
        if (s->repeat_disagreeing)
            cJSON_AddNumberToObject(r, "first_index", (double)s->repeat_first);
    }
    cJSON_AddNumberToObject(o, "checks_wall_s", s->check_wall_s);
    cJSON_AddBoolToObject(o, "local_memory_scrubbed", scrubbed);
    return o;
}

static cJSON *set_json(set_eval *s, int scrubbed)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "set", s->name);
    cJSON_AddStringToObject(o, "status", s->status);
    if (s->error[0])
        cJSON_AddStringToObject(o, "error", s->error);
    cJSON *flags = cJSON_AddArrayToObject(o, "flags");
    for (int f = 0; f < FLAG_COUNT; f++)
        if (s->flags & (1u << f))
            cJSON_AddItemToArray(flags, cJSON_CreateString(flag_info[f].name));
    if (s->entry) {
        cJSON_AddStringToObject(o, "manifest", s->entry->manifest);
        cJSON_AddStringToObject(o, "source", s->entry->source_path);
        cJSON_AddStringToObject(o, "language", kg_language_name(s->entry->language));
        cJSON_AddStringToObject(o, "description", s->entry->description);
    }
    cJSON_AddStringToObject(o, "source_sha256", s->build.source_sha256);
    if (s->build.source_files)
        cJSON_AddItemToObject(o, "source_files", cJSON_Duplicate(s->build.source_files, 1));
    cJSON_AddStringToObject(o, "defines", s->build.defines);
    if (s->entry)
        cJSON_AddStringToObject(o, "options", s->entry->options);
    cJSON_AddNumberToObject(o, "build_seconds", s->build.seconds);
    cJSON_AddBoolToObject(o, "build_cached", s->build.cached);
    if (s->prep)
        cJSON_AddItemToObject(o, "launches", kg_prepared_launches_json(s->prep));
    cJSON_AddStringToObject(o, "build_log", s->build.log ? s->build.log : "");
    if (s->checked)
        cJSON_AddItemToObject(o, "check", check_json(&s->check));
    if (s->rechecked)
        cJSON_AddItemToObject(o, "recheck", check_json(&s->recheck));
    if (s->heavy_checked)
        cJSON_AddItemToObject(o, "heavy_tailed_check", check_json(&s->heavy));
    if (s->checked)
        cJSON_AddItemToObject(o, "integrity", integrity_json(s, scrubbed));
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

static cJSON *record_json(grader *g, set_eval sets[2], uint64_t input_seed,
                          const kg_measure_outcome *outcome)
{
    const kg_workload *w = g->job->w;
    const kg_shape *shape = g->shape;
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "type", "shape");
    cJSON_AddStringToObject(rec, "workload", w->name);
    cJSON_AddStringToObject(rec, "size_class", kg_size_class_name(g->job->cls));
    cJSON_AddStringToObject(rec, "shape", shape->name);
    cJSON_AddNumberToObject(rec, "shape_index", (double)g->job->shape_no);
    cJSON_AddStringToObject(rec, "output_dtype", kg_dtype_name(w->tensors[w->output_index].dtype));
    cJSON *shapes = cJSON_AddArrayToObject(rec, "tensors");
    for (size_t i = 0; g->tensors && i < w->tensor_count; i++) {
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "name", g->tensors[i].name);
        cJSON_AddStringToObject(t, "dtype", kg_dtype_name(g->tensors[i].dtype));
        cJSON_AddStringToObject(t, "role", w->tensors[i].is_output ? "output" : "input");
        cJSON *dims = cJSON_AddArrayToObject(t, "shape");
        for (int d = 0; d < g->tensors[i].rank; d++)
            cJSON_AddItemToArray(dims, cJSON_CreateNumber((double)g->tensors[i].dims[d]));
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
    cJSON_AddNumberToObject(rec, "input_seed", (double)(input_seed >> 11));
    cJSON_AddNumberToObject(
        rec, "recheck_seed",
        (double)(kg_grade_seed(g->job->seed, w->name, g->job->shape_no, 2) >> 11));
    /* A shape on which zeros would pass the check: reported, since a kernel
     * that computes nothing would be graded correct on it. */
    for (int i = 0; i < 2; i++)
        if (sets[i].checked &&
            (sets[i].check.zeros_would_pass || sets[i].check.constant_would_pass)) {
            cJSON_AddStringToObject(rec, "degenerate_reference",
                                    sets[i].check.zeros_would_pass
                                        ? "an all-zeros output passes the tolerance"
                                        : "a constant output passes the tolerance");
            break;
        }
    cJSON_AddItemToObject(rec, "baseline", set_json(&sets[0], g->scrubber != NULL));
    cJSON_AddItemToObject(rec, "candidate", set_json(&sets[1], g->scrubber != NULL));
    cJSON_AddStringToObject(rec, "stop_reason", outcome->stop_reason);
    cJSON_AddNumberToObject(rec, "sampling_wall_s", outcome->sampling_wall_s);
    cJSON_AddNumberToObject(rec, "checks_wall_s", sets[0].check_wall_s + sets[1].check_wall_s);
    if (isfinite(outcome->worst_rel_halfwidth))
        cJSON_AddNumberToObject(rec, "worst_rel_halfwidth", outcome->worst_rel_halfwidth);
    return rec;
}

int kg_grade_shape(const kg_grade_job *job, cJSON **record, kg_error *err)
{
    *record = NULL;
    const kg_workload *w = job->w;
    grader g = {.job = job, .shape = &w->shapes[job->cls][job->shape_no]};
    uint64_t input_seed = kg_grade_seed(job->seed, w->name, job->shape_no, 1);
    set_eval sets[2] = {{.role = "baseline", .name = job->baseline, .status = "ok"},
                        {.role = "candidate", .name = job->candidate, .status = "ok"}};
    for (int i = 0; i < 2; i++) {
        int rc = kg_kernel_entry_load(w, sets[i].name, &sets[i].entry, err);
        if (rc) {
            kg_kernel_entry_free(sets[0].entry);
            return rc;
        }
    }
    int rc = kg_tensors_create(w, g.shape, input_seed, &g.tensors, err);
    kg_measure_outcome outcome = {.stop_reason = "not_timed", .worst_rel_halfwidth = NAN};
    void *got = NULL, *again = NULL;
    if (rc == KG_ERR_MEMORY) {
        /* A shape this machine cannot hold is a recorded refusal. */
        for (int i = 0; i < 2; i++)
            fail_set(&sets[i], "refused", err);
        memset(err, 0, sizeof *err);
        rc = KG_OK;
        goto record;
    }
    if (rc)
        goto out;
    size_t out_bytes = kg_tensor_bytes(&g.tensors[w->output_index]);
    got = malloc(out_bytes ? out_bytes : 1);
    again = malloc(out_bytes ? out_bytes : 1);
    if (!got || !again) {
        rc = kg_error_set(err, KG_ERR_MEMORY, "out of memory for the output copies");
        goto out;
    }
    if (job->info) {
        kg_error ignored = {0};
        kg_scrubber_create(job->backend, job->dev, job->info, &g.scrubber, &ignored);
    }
    for (int i = 0; i < 2; i++) {
        if (build_set(&g, &sets[i]) == 0)
            first_checks(&g, &sets[i], input_seed, got, again);
        if (job->checked) {
            set_eval now = sets[i];
            settle_status(&now);
            job->checked(job->phase_user, sets[i].role, now.status);
        }
    }

    /* Time the sets that passed every check so far, alternately. */
    kg_prepared *timed[2];
    set_eval *timed_sets[2];
    size_t n_timed = 0;
    for (int i = 0; i < 2; i++)
        if (strcmp(sets[i].status, "ok") == 0 && !sets[i].flags) {
            timed[n_timed] = sets[i].prep;
            timed_sets[n_timed++] = &sets[i];
        }
    if (n_timed) {
        kg_sample_set samples[2] = {{0}};
        kg_error e = {0};
        kg_measure_settings m = job->measure;
        if (job->progress) {
            m.progress = on_progress;
            m.progress_user = &g;
        }
        phase(&g, n_timed == 2 ? "both" : timed_sets[0]->role, "timing");
        int trc = kg_measure(timed, n_timed, &m, samples, &outcome, &e);
        for (size_t i = 0; i < n_timed; i++) {
            timed_sets[i]->samples = samples[i];
            if (trc)
                fail_set(timed_sets[i], "timing_failed", &e);
        }
    }
    late_checks(&g, timed_sets, n_timed, got);
    for (int i = 0; i < 2; i++)
        settle_status(&sets[i]);
record:
    *record = record_json(&g, sets, input_seed, &outcome);
out:
    for (int i = 0; i < 2; i++) {
        kg_prepared_free(sets[i].prep);
        kg_sample_set_free(&sets[i].samples);
        cJSON_Delete(sets[i].sweep);
        kg_kernel_entry_free(sets[i].entry);
    }
    free(got);
    free(again);
    kg_scrubber_free(g.scrubber);
    kg_tensors_free(g.tensors, w->tensor_count);
    return rc;
}
