/* The grading loop of `kgrade run` (run.h): each evaluation (one shape,
 * both sets) in a pair of workers (grade_shape.h), its record appended to
 * the results file as soon as it ends, progress on stderr. */
#include "grade_shape.h"
#include "kernelset.h"
#include "record_keys.h"
#include "run.h"
#include "sol_check.h"
#include "summary.h"
#include "worker.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

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
                            kg_dtype_name(w->tensors[w->outputs[0]].dtype));
    kg_record_shape_values(rec, w, shape);
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
    cJSON_AddNumberToObject(rec, KG_KEY_SHAPE_EVALUATION, (double)ctx->shape_index);
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
        .run_started = ctx->started,
        /* The evaluations left, this one included, at the mean time of
         * those graded so far (none yet: no estimate). */
        .eta_s = ctx->timed_done ? ctx->graded_s / (double)ctx->timed_done *
                                       (double)(ctx->shape_total - ctx->shape_index + 1)
                                 : -1,
    };
    cJSON *rec = NULL;
    double t0 = kg_worker_now();
    int rc = kg_grade_shape(&job, &rec, err);
    if (rc)
        return rc;
    ctx->graded_s += kg_worker_now() - t0;
    ctx->timed_done++;
    /* The whole evaluation: start-up, builds, checks, timing. */
    cJSON_AddNumberToObject(rec, KG_KEY_SHAPE_WORKER_WALL_S, kg_worker_now() - t0);
    rc = append_shape(ctx, label, rec, err);
    cJSON_Delete(rec);
    return rc;
}

/* A workload not graded (`role` 0 for the baseline's doing, 1 the
 * candidate's, -1 the workload's): said on the terminal and recorded, so that the
 * report says what was not graded and why (err's message; `no_kernel`: the
 * set has no kernel for the workload). */
static int record_skipped(run_context *ctx, const kg_workload *w, int role, const char *set,
                          int no_kernel, kg_error *err)
{
    size_t first = ctx->shape_index + 1;
    ctx->shape_index += w->shape_count[ctx->cls];
    if (kg_run_already_done(ctx, KG_RECORD_SKIPPED, w->name, -1))
        return KG_OK;
    if ((ctx->progress || !ctx->opts->quiet) && role < 0)
        fprintf(stderr, "%s%s: skipped, %s\n", ctx->progress ? "\r\033[K" : "", w->name,
                err->message);
    else if (ctx->progress || !ctx->opts->quiet)
        fprintf(stderr, "%s%s: skipped, the %s set %s %s\n", ctx->progress ? "\r\033[K" : "",
                w->name, role ? "candidate" : "baseline", set,
                no_kernel ? "has no kernel for it" : err->message);
    cJSON *skip = cJSON_CreateObject();
    cJSON_AddStringToObject(skip, KG_KEY_TYPE, kg_record_type_name(KG_RECORD_SKIPPED));
    cJSON_AddStringToObject(skip, KG_KEY_SKIPPED_WORKLOAD, w->name);
    cJSON_AddStringToObject(skip, KG_KEY_SKIPPED_BASELINE, ctx->baseline);
    cJSON_AddStringToObject(skip, KG_KEY_SKIPPED_ROLE,
                            role < 0 ? "workload"
                            : role   ? "candidate"
                                     : "baseline");
    cJSON_AddStringToObject(skip, KG_KEY_SKIPPED_SET, set);
    cJSON_AddStringToObject(skip, KG_KEY_SKIPPED_REASON, err->message);
    if (w->shape_count[ctx->cls]) {
        double range[2] = {(double)first, (double)ctx->shape_index};
        cJSON_AddItemToObject(skip, KG_KEY_SKIPPED_EVALUATIONS, cJSON_CreateDoubleArray(range, 2));
    }
    int written = kg_results_append(ctx->results, skip, err);
    cJSON_Delete(skip);
    return written;
}

int kg_run_selected(const run_context *ctx)
{
    return !ctx->only || (ctx->shape_index <= KG_MAX_EVALUATIONS && ctx->only[ctx->shape_index]);
}

int kg_run_grade_workload(run_context *ctx, const kg_workload *w, kg_error *err)
{
    const char *sets[2] = {ctx->baseline, ctx->opts->candidate};
    if (w->shape_count[ctx->cls] == 0) {
        kg_error_set(err, KG_ERR_UNAVAILABLE, "the workload has no %s shapes",
                     kg_size_class_name(ctx->cls));
        return record_skipped(ctx, w, -1, sets[0], 0, err);
    }
    for (int i = 0; i < 2; i++) {
        kg_kernel_entry *entry = NULL;
        int rc = kg_kernel_entry_load(w, sets[i], &entry, err);
        if (rc == KG_OK)
            rc = kg_run_set_unavailable(entry, &ctx->device->info, err);
        /* A manifest's own "not on this device" is, for a submission, no
         * kernel here: a workload the user named cannot be opted out of. */
        int refuses_device =
            rc == KG_ERR_UNAVAILABLE && kg_run_set_refuses_device(entry, &ctx->device->info);
        kg_kernel_entry_free(entry);
        run_missing_rule rule = kg_run_missing_rule(ctx->opts, i, sets[i]);
        if ((rc == KG_ERR_NOT_FOUND || refuses_device) && rule == KG_MISSING_FAILS) {
            if (ctx->progress || !ctx->opts->quiet)
                fprintf(stderr,
                        "%s%s: the candidate %s %s, and --workload names this workload: its "
                        "%zu shapes count as failed\n",
                        ctx->progress ? "\r\033[K" : "", w->name, sets[i],
                        refuses_device ? "says it is not graded on this device"
                                       : "has no kernel for this workload",
                        w->shape_count[ctx->cls]);
            rc = KG_OK;
            for (size_t s = 0; s < w->shape_count[ctx->cls] && !rc; s++) {
                ctx->shape_index++;
                if (!kg_run_selected(ctx))
                    continue;
                if (kg_run_already_done(ctx, KG_RECORD_SHAPE, w->name, (long)s)) {
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
        /* A set that has no kernel here, or one this device or set-up
         * cannot build (a Triton set without Triton): not graded, said so. */
        if ((rc == KG_ERR_NOT_FOUND && rule == KG_MISSING_SKIPS) || rc == KG_ERR_UNAVAILABLE) {
            return record_skipped(ctx, w, i, sets[i], rc == KG_ERR_NOT_FOUND, err);
        }
        if (rc)
            return rc;
    }
    for (size_t s = 0; s < w->shape_count[ctx->cls]; s++) {
        ctx->shape_index++;
        if (!kg_run_selected(ctx))
            continue;
        if (kg_run_already_done(ctx, KG_RECORD_SHAPE, w->name, (long)s)) {
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

/* No SA_RESTART, so the workers' waits return at once. */
void kg_run_catch_interrupts(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}
