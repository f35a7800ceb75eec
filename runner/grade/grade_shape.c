/* One evaluation: two workers, one per kernel set, checked from here. */
#include "grade_shape.h"
#include "check.h"
#include "inputs.h"
#include "json_file.h"
#include "record_keys.h"
#include "rng.h"
#include "tensors.h"
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

/* Findings, in the order that picks a set's primary reason: its status and
 * error describe the first one raised in this order. */
typedef enum flag {
    FLAG_CRASHED,
    FLAG_TIMEOUT,
    FLAG_SOURCE_REFUSED,
    FLAG_EXCESSIVE_REQUEST,
    FLAG_UNSUPPORTED,
    FLAG_OUT_OF_BOUNDS,
    FLAG_INPUT_MODIFIED,
    FLAG_NONDETERMINISTIC,
    FLAG_UNWRITTEN,
    FLAG_WRONG,
    FLAG_TIMED_RUN_WRONG,
    FLAG_NUDGED,
    FLAG_FRESH_INPUTS,
    FLAG_HEAVY_TAILED,
    FLAG_STRESS,
    FLAG_COUNT
} flag;

/* Each finding's name in the results (record_keys.h) and the status it gives. */
static const struct {
    kg_flag flag;
    kg_set_status status;
} flag_info[FLAG_COUNT] = {
    [FLAG_CRASHED] = {KG_FLAG_CRASHED, KG_SET_STATUS_CRASHED},
    [FLAG_TIMEOUT] = {KG_FLAG_TIMEOUT, KG_SET_STATUS_TIMEOUT},
    [FLAG_SOURCE_REFUSED] = {KG_FLAG_SOURCE_REFUSED, KG_SET_STATUS_BUILD_FAILED},
    [FLAG_EXCESSIVE_REQUEST] = {KG_FLAG_EXCESSIVE_REQUEST, KG_SET_STATUS_SETUP_FAILED},
    [FLAG_UNSUPPORTED] = {KG_FLAG_UNSUPPORTED_SHAPE, KG_SET_STATUS_REFUSED},
    [FLAG_OUT_OF_BOUNDS] = {KG_FLAG_OUT_OF_BOUNDS_WRITE, KG_SET_STATUS_INTEGRITY_FAILED},
    [FLAG_INPUT_MODIFIED] = {KG_FLAG_INPUT_MODIFIED, KG_SET_STATUS_INTEGRITY_FAILED},
    [FLAG_NONDETERMINISTIC] = {KG_FLAG_NONDETERMINISTIC, KG_SET_STATUS_INTEGRITY_FAILED},
    [FLAG_UNWRITTEN] = {KG_FLAG_UNWRITTEN_OUTPUT, KG_SET_STATUS_CHECK_FAILED},
    [FLAG_WRONG] = {KG_FLAG_WRONG_OUTPUT, KG_SET_STATUS_CHECK_FAILED},
    [FLAG_TIMED_RUN_WRONG] = {KG_FLAG_TIMED_RUN_WRONG, KG_SET_STATUS_CHECK_FAILED},
    [FLAG_NUDGED] = {KG_FLAG_NUDGED_INPUTS_FAILED, KG_SET_STATUS_RECHECK_FAILED},
    [FLAG_FRESH_INPUTS] = {KG_FLAG_FRESH_INPUTS_FAILED, KG_SET_STATUS_RECHECK_FAILED},
    [FLAG_HEAVY_TAILED] = {KG_FLAG_HEAVY_TAILED_FAILED, KG_SET_STATUS_RECHECK_FAILED},
    [FLAG_STRESS] = {KG_FLAG_STRESS_FAILED, KG_SET_STATUS_RECHECK_FAILED},
};

/* At most this many timed rounds are read back and checked. */

/* One kernel set's evaluation, as this process sees it. */
typedef struct set_eval {
    const char *role, *name;
    kg_worker *worker; /* NULL once it ended */
    double busy_s;     /* time spent waiting on it: its share of --timeout */
    const char *step;  /* what it was last asked to do */
    cJSON *info;       /* what it said when it started (build, launches, sweep) */
    kg_set_status status;
    char error[1200];
    unsigned flags;
    char flag_detail[FLAG_COUNT][400];
    kg_worker_end end;
    int lost; /* crashed or timed out */
    int checked, repeated;
    kg_check_result check, repeat;
    size_t repeat_disagreeing, repeat_first, never_written, never_written_first;
    kg_integrity integrity;
    int verified_after_timing;
    double check_wall_s;
    kg_sample_set samples;
    uint64_t last_fill; /* of its latest run */
    void *got[2];       /* the outputs of its two first runs */
    cJSON *timed_checks, *rechecks;
} set_eval;

typedef struct grader {
    const kg_grade_job *job;
    const kg_workload *w;
    const kg_shape *shape;
    kg_input_sets inputs; /* this process's copies, kept in step with the workers' */
    uint64_t secret[2];
    kg_rng rng;            /* drawn from the secret */
    kg_output_fills pools; /* each output's fill pool; seeds set per run */
    set_eval sets[2];
    kg_output_layout layout; /* of the outputs as read back */
    int interrupted;
    char failure[1100]; /* an evaluation error (the reference rejected inputs) */
    cJSON *round_sets;  /* the input set of every timed round, in order */
    double started;     /* kg_worker_now() at the evaluation's start */
} grader;

uint64_t kg_grade_seed(uint64_t seed, const char *workload, size_t shape, uint64_t purpose)
{
    uint64_t h = seed * 0x9e3779b97f4a7c15ull + purpose;
    for (const char *p = workload; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
    h ^= shape * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 31;
    return h;
}

/* 16 bytes from the system's random source: nothing a kernel author can
 * know in advance. */
static void draw_secret(uint64_t secret[2])
{
    unsigned char bytes[16];
    ssize_t got = getrandom(bytes, sizeof bytes, 0);
    if (got != (ssize_t)sizeof bytes) {
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        got = fd >= 0 ? read(fd, bytes, sizeof bytes) : -1;
        if (fd >= 0)
            close(fd);
    }
    if (got != (ssize_t)sizeof bytes) { /* no random source at all: the clock, at least */
        double t = kg_worker_now();
        memcpy(bytes, &t, sizeof t);
        pid_t pid = getpid();
        memcpy(bytes + 8, &pid, sizeof pid);
    }
    memcpy(&secret[0], bytes, 8);
    memcpy(&secret[1], bytes + 8, 8);
}

static uint64_t secret_draw(grader *g)
{
    uint64_t v = kg_rng_next(&g->rng);
    return v ? v : 1; /* 0 means "no perturbation" */
}

/* One status line, rewritten in place; only on a TTY. */
static void progress_line(const grader *g, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* "42s", "3m05s", "1h02m". */
static const char *duration(char *buf, size_t size, double s)
{
    long t = s > 0 ? (long)(s + 0.5) : 0;
    if (t < 60)
        snprintf(buf, size, "%lds", t);
    else if (t < 3600)
        snprintf(buf, size, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, size, "%ldh%02ldm", t / 3600, t % 3600 / 60);
    return buf;
}

static void progress_line(const grader *g, const char *fmt, ...)
{
    if (!g->job->progress)
        return;
    char msg[256], spent[32], left[48] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    double now = kg_worker_now();
    if (g->job->eta_s >= 0) {
        char d[32];
        double remaining = g->job->eta_s - (now - g->started);
        snprintf(left, sizeof left, ", ~%s left",
                 duration(d, sizeof d, remaining > 0 ? remaining : 0));
    }
    fprintf(stderr, "\r\033[K[%zu/%zu %s%s] %s: %s", g->job->index, g->job->total,
            duration(spent, sizeof spent, now - g->job->run_started), left, g->job->label, msg);
    fflush(stderr);
}

static int is_ok(const set_eval *s)
{
    return s->worker && s->status == KG_SET_STATUS_OK && !s->flags;
}

static void fail_set(set_eval *s, kg_set_status status, const char *message)
{
    if (s->status != KG_SET_STATUS_OK)
        return; /* the first failure is the one reported */
    s->status = status;
    snprintf(s->error, sizeof s->error, "%s", message);
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
    if (s->status != KG_SET_STATUS_OK || !s->flags)
        return;
    for (int f = 0; f < FLAG_COUNT; f++)
        if (s->flags & (1u << f)) {
            s->status = flag_info[f].status;
            snprintf(s->error, sizeof s->error, "%s: %s", kg_flag_name(flag_info[f].flag),
                     s->flag_detail[f]);
            return;
        }
}

/* The worker of `s` cannot answer any more: it died, or its time is up. */
static void lose(set_eval *s, kg_worker_wait why)
{
    int timed_out = why == KG_WORKER_TIMEOUT;
    kg_worker_finish(s->worker, timed_out, &s->end);
    s->worker = NULL;
    s->lost = 1;
    char message[400];
    if (timed_out)
        snprintf(message, sizeof message,
                 "no answer within the set's time limit (--timeout), during %s; killed", s->step);
    else if (s->end.signal)
        snprintf(message, sizeof message, "the worker died of signal %d (%s) during %s",
                 s->end.signal, strsignal(s->end.signal), s->step);
    else
        snprintf(message, sizeof message,
                 "the worker exited with status %d without answering, during %s",
                 s->end.exit_status, s->step);
    s->status = KG_SET_STATUS_OK; /* a crash outranks what was found before it */
    s->flags &= ~((1u << FLAG_CRASHED) | (1u << FLAG_TIMEOUT));
    fail_set(s, timed_out ? KG_SET_STATUS_TIMEOUT : KG_SET_STATUS_CRASHED, message);
    s->flags |= 1u << (timed_out ? FLAG_TIMEOUT : FLAG_CRASHED);
    snprintf(s->flag_detail[timed_out ? FLAG_TIMEOUT : FLAG_CRASHED], sizeof s->flag_detail[0],
             "%s", message);
}

/* Waits for the next line from `s`, within its share of the time limit. */
static int await_line(grader *g, set_eval *s, const char **line)
{
    if (!s->worker)
        return -1;
    double t0 = kg_worker_now();
    double deadline = t0 + g->job->timeout_s - s->busy_s;
    kg_worker_wait r = kg_worker_read_line(s->worker, deadline, line);
    s->busy_s += kg_worker_now() - t0;
    if (r == KG_WORKER_OK)
        return 0;
    if (r == KG_WORKER_INTERRUPTED) {
        g->interrupted = 1;
        return -1;
    }
    lose(s, r);
    return -1;
}

/* An `error STATUS MESSAGE` answer: the set failed this step. */
static void worker_error(set_eval *s, const char *line)
{
    char status[32] = "";
    const char *message = line;
    if (strncmp(line, "error ", 6) == 0) {
        size_t n = strcspn(line + 6, " ");
        if (n < sizeof status) {
            memcpy(status, line + 6, n);
            status[n] = '\0';
        }
        message = line + 6 + n + (line[6 + n] == ' ');
    }
    char text[1200];
    snprintf(text, sizeof text, "during %s: %s", s->step, message);
    kg_set_status said = kg_set_status_parse(status);
    fail_set(s,
             said == KG_SET_STATUS_SETUP_FAILED || said == KG_SET_STATUS_TIMING_FAILED
                 ? said
                 : KG_SET_STATUS_LAUNCH_FAILED,
             text);
}

/* Sends a command to `s` without waiting for its answer (so that both
 * workers can work at once); await_line reads it. */
static int tell(grader *g, set_eval *s, const char *step, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static int tell(grader *g, set_eval *s, const char *step, const char *fmt, ...)
{
    if (!s->worker || g->interrupted)
        return -1;
    s->step = step;
    char command[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(command, sizeof command, fmt, ap);
    va_end(ap);
    if (kg_worker_send(s->worker, "%s", command) != KG_WORKER_OK) {
        lose(s, KG_WORKER_GONE);
        return -1;
    }
    return 0;
}

/* Sends a command to `s` and reads the first line of its answer. */
#define ask(g, s, step, line, ...) (tell(g, s, step, __VA_ARGS__) || await_line(g, s, line))

/* One run of `s` as kg_run_once does it, in its worker. */
static int remote_run(grader *g, set_eval *s, const char *step, const kg_run_plan *plan,
                      kg_run_sample *out)
{
    const char *line;
    if (ask(g, s, step, &line, "run %zu %" PRIx64 " %" PRIx64, plan->input_set, plan->perturb_seed,
            plan->fill_seed))
        return -1;
    kg_run_sample r = {0};
    if (sscanf(line, "ran %lf %lf %" SCNu32 " %d", &r.device_s, &r.host_s, &r.clock_mhz,
               &r.throttled) == 4) {
        s->last_fill = plan->fill_seed;
        if (out)
            *out = r;
        return 0;
    }
    worker_error(s, line);
    return -1;
}

/* The output of `s`'s latest run, read back into dst. */
static int remote_output(grader *g, set_eval *s, const char *step, void *dst)
{
    const char *line;
    size_t bytes;
    if (ask(g, s, step, &line, "output"))
        return -1;
    if (sscanf(line, "output %zu", &bytes) != 1 || bytes != g->layout.bytes) {
        worker_error(s, line);
        return -1;
    }
    double t0 = kg_worker_now();
    kg_worker_wait r =
        kg_worker_read_bytes(s->worker, t0 + g->job->timeout_s - s->busy_s, dst, bytes);
    s->busy_s += kg_worker_now() - t0;
    if (r == KG_WORKER_INTERRUPTED)
        g->interrupted = 1;
    else if (r != KG_WORKER_OK)
        lose(s, r);
    return r == KG_WORKER_OK ? 0 : -1;
}

static void merge_integrity(set_eval *s, const kg_integrity *now)
{
    s->integrity.guarded = now->guarded;
    if (now->guard_bytes_damaged && !s->integrity.guard_bytes_damaged)
        memcpy(s->integrity.first_damaged, now->first_damaged, sizeof now->first_damaged);
    if (now->inputs_modified && !s->integrity.inputs_modified)
        memcpy(s->integrity.first_modified, now->first_modified, sizeof now->first_modified);
    /* Guard damage is permanent: the latest count is the total so far. */
    if (now->guard_bytes_damaged > s->integrity.guard_bytes_damaged)
        s->integrity.guard_bytes_damaged = now->guard_bytes_damaged;
    s->integrity.inputs_modified += now->inputs_modified;
}

/* Guard zones and input set `set` (or all) of `s`, checked by its worker. */
static int remote_verify(grader *g, set_eval *s, const char *step, size_t set, const char *what)
{
    const char *line;
    int rc = set == KG_ALL_INPUT_SETS ? ask(g, s, step, &line, "verify all")
                                      : ask(g, s, step, &line, "verify %zu", set);
    if (rc)
        return -1;
    cJSON *o = strncmp(line, "verified ", 9) == 0 ? cJSON_Parse(line + 9) : NULL;
    if (!o) {
        worker_error(s, line);
        return -1;
    }
    kg_integrity found = {0};
    const cJSON *v;
    found.guarded = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, KG_KEY_VERIFIED_GUARDED));
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(o, KG_KEY_VERIFIED_GUARD_BYTES)))
        found.guard_bytes_damaged = (size_t)v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(o, KG_KEY_VERIFIED_INPUTS_MODIFIED)))
        found.inputs_modified = (size_t)v->valuedouble;
    if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(o, KG_KEY_VERIFIED_FIRST_DAMAGED)))
        snprintf(found.first_damaged, sizeof found.first_damaged, "%s", v->valuestring);
    if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(o, KG_KEY_VERIFIED_FIRST_MODIFIED)))
        snprintf(found.first_modified, sizeof found.first_modified, "%s", v->valuestring);
    cJSON_Delete(o);
    merge_integrity(s, &found);
    if (found.guard_bytes_damaged)
        raise_flag(s, FLAG_OUT_OF_BOUNDS, "%zu guard bytes around %s overwritten (seen %s)",
                   found.guard_bytes_damaged, found.first_damaged, what);
    if (found.inputs_modified)
        raise_flag(s, FLAG_INPUT_MODIFIED, "input %s changed by the kernel (seen %s)",
                   found.first_modified, what);
    return 0;
}

/* The fill patterns of a run with fill seed `seed` (every output's). */
static void fill_of(const grader *g, uint64_t seed, kg_output_fills *out)
{
    *out = g->pools;
    for (size_t k = 0; k < out->count; k++)
        out->fill[k].seed = seed;
}

/* The reference's answer on input set `set` as it stands now; the units
 * to check (large outputs) drawn from the secret. */
static int answer_for(grader *g, size_t set, kg_answer *a)
{
    kg_error e = {0};
    if (kg_answer_compute(g->w, g->shape, g->inputs.sets[set], secret_draw(g), 0, a, &e)) {
        snprintf(g->failure, sizeof g->failure, "%s", e.message);
        return -1;
    }
    return 0;
}

/* A run whose output is read back and checked against `answer`, and whose
 * guard zones and inputs are verified. `dst` receives the output. */
static int checked_run(grader *g, set_eval *s, const char *step, const kg_run_plan *plan,
                       const kg_answer *answer, void *dst, kg_check_result *result,
                       const char *what)
{
    if (remote_run(g, s, step, plan, NULL) || remote_output(g, s, step, dst))
        return -1;
    double t0 = kg_worker_now();
    kg_output_fills fill;
    fill_of(g, plan->fill_seed, &fill);
    kg_check_answer(g->w, answer, dst, &fill, result);
    s->check_wall_s += kg_worker_now() - t0;
    return remote_verify(g, s, step, plan->input_set, what);
}

static kg_run_plan plan_for(grader *g, size_t set, uint64_t perturb)
{
    kg_run_plan p = {.input_set = set, .perturb_seed = perturb, .fill_seed = secret_draw(g)};
    return p;
}

/* The job line a worker starts from. */
static cJSON *worker_job(const grader *g, const set_eval *s)
{
    const kg_grade_job *job = g->job;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, KG_KEY_JOB_BASELINES_DIR, job->baselines_dir);
    cJSON_AddStringToObject(o, KG_KEY_JOB_WORKLOAD, g->w->name);
    cJSON_AddStringToObject(o, KG_KEY_JOB_SIZE_CLASS, kg_size_class_name(job->cls));
    cJSON_AddNumberToObject(o, KG_KEY_JOB_SHAPE_INDEX, (double)job->shape_no);
    cJSON_AddStringToObject(o, KG_KEY_JOB_BACKEND, job->backend);
    cJSON_AddNumberToObject(o, KG_KEY_JOB_DEVICE_INDEX, job->device_index);
    cJSON_AddStringToObject(o, KG_KEY_JOB_SET, s->name);
    cJSON_AddStringToObject(o, KG_KEY_JOB_ROLE, s->role);
    cJSON *seeds = cJSON_AddArrayToObject(o, KG_KEY_JOB_INPUT_SEEDS);
    for (size_t k = 0; k < g->inputs.count; k++) {
        char hex[24];
        snprintf(hex, sizeof hex, "%" PRIx64, g->inputs.seeds[k]);
        cJSON_AddItemToArray(seeds, cJSON_CreateString(hex));
    }
    cJSON *pools = cJSON_AddArrayToObject(o, KG_KEY_JOB_FILL_POOL);
    for (size_t k = 0; k < g->pools.count; k++) {
        cJSON *pool = cJSON_CreateArray();
        for (size_t i = 0; i < g->pools.fill[k].pool_count; i++)
            cJSON_AddItemToArray(pool, cJSON_CreateNumber(g->pools.fill[k].pool[i]));
        cJSON_AddItemToArray(pools, pool);
    }
    if (job->settings)
        cJSON_AddItemToObject(o, KG_KEY_JOB_SETTINGS, cJSON_Duplicate(job->settings, 1));
    return o;
}

/* Starts both workers (they build at the same time), then waits for each
 * to say it is ready or why not. */
static int start_workers(grader *g, kg_error *err)
{
    for (int i = 0; i < 2; i++) {
        set_eval *s = &g->sets[i];
        cJSON *job = worker_job(g, s);
        int rc = kg_worker_start(g->job->exe, job, g->job->forward_output, &s->worker, err);
        cJSON_Delete(job);
        if (rc)
            return rc;
        s->step = "start-up (build)";
    }
    for (int i = 0; i < 2; i++) {
        set_eval *s = &g->sets[i];
        progress_line(g, "building %s", s->name);
        const char *line;
        if (await_line(g, s, &line))
            continue;
        int ready = strncmp(line, "ready ", 6) == 0;
        cJSON *info =
            ready || strncmp(line, "failed ", 7) == 0 ? cJSON_Parse(line + (ready ? 6 : 7)) : NULL;
        if (!info) {
            worker_error(s, line);
            continue;
        }
        s->info = info;
        kg_set_status status = kg_set_status_of(info);
        const cJSON *error = cJSON_GetObjectItemCaseSensitive(info, KG_KEY_SET_ERROR);
        const cJSON *flagname = cJSON_GetObjectItemCaseSensitive(info, KG_KEY_INFO_FLAG);
        kg_flag raised = kg_flag_parse(cJSON_IsString(flagname) ? flagname->valuestring : NULL);
        if (!ready)
            fail_set(s, status != KG_SET_STATUS_UNKNOWN ? status : KG_SET_STATUS_SETUP_FAILED,
                     cJSON_IsString(error) ? error->valuestring : "the set could not be prepared");
        for (int f = 0; f < FLAG_COUNT && raised != KG_FLAG_UNKNOWN; f++)
            if (flag_info[f].flag == raised)
                s->flags |= 1u << f;
    }
    return KG_OK;
}

/* " of output NAME" where the workload has several, else "". */
static const char *output_name_suffix(const grader *g, size_t k, char *buf, size_t size)
{
    buf[0] = '\0';
    if (g->layout.count > 1)
        snprintf(buf, size, " of output %s", g->w->tensors[g->layout.tensor[k]].name);
    return buf;
}

/* The check's two runs side by side: elements neither wrote (each still
 * holding its own fill, and the fills differ everywhere), and elements
 * where they disagree. */
static void compare_repeat(grader *g, set_eval *s, uint64_t first_seed, uint64_t second_seed)
{
    kg_output_fills *first = malloc(sizeof *first), *second = malloc(sizeof *second);
    if (!first || !second) {
        free(first);
        free(second);
        return;
    }
    fill_of(g, first_seed, first);
    fill_of(g, second_seed, second);
    kg_output_at unwritten, differs;
    s->never_written =
        kg_check_never_written(&g->layout, s->got[0], first, s->got[1], second, &unwritten);
    s->never_written_first = unwritten.index;
    s->repeat_disagreeing =
        kg_check_agreement(g->w, &g->layout, s->got[0], first, s->got[1], second, &differs);
    s->repeat_first = differs.index;
    free(first);
    free(second);
    size_t total = 0;
    for (size_t k = 0; k < g->layout.count; k++)
        total += g->layout.elements[k];
    char where[96];
    if (s->never_written)
        raise_flag(s, FLAG_UNWRITTEN,
                   "%zu of %zu output elements were never written in either checked run "
                   "(each still held what the output was filled with); first at index %zu%s",
                   s->never_written, total, unwritten.index,
                   output_name_suffix(g, unwritten.output, where, sizeof where));
    if (!s->repeat.passed)
        raise_flag(s, FLAG_WRONG, "in the repeat run: %s", s->repeat.message);
    if (s->repeat_disagreeing) {
        kg_dtype dtype = g->layout.dtype[differs.output];
        size_t at = g->layout.offset[differs.output];
        raise_flag(s, FLAG_NONDETERMINISTIC,
                   "two runs on the same inputs disagree on %zu of %zu elements; first at "
                   "index %zu%s: %.9g, then %.9g",
                   s->repeat_disagreeing, total, differs.index,
                   output_name_suffix(g, differs.output, where, sizeof where),
                   kg_dtype_load(dtype, (const unsigned char *)s->got[0] + at, differs.index),
                   kg_dtype_load(dtype, (const unsigned char *)s->got[1] + at, differs.index));
    }
}

/* The first checks: a run on the first input set (a few elements
 * perturbed), then a repeat on the same inputs with another fill and
 * scrub pattern. Two runs of a correct kernel agree; a race, a read of
 * memory the kernel did not write, or an element it never writes shows. */
static int first_checks(grader *g)
{
    /* A secret number of unread runs first: which run is the first checked
     * one is not something a kernel can count to. */
    size_t unread = (size_t)kg_rng_below(&g->rng, 3);
    for (size_t r = 0; r < unread; r++)
        for (int i = 0; i < 2; i++)
            if (is_ok(&g->sets[i])) {
                kg_run_plan plan = plan_for(g, (size_t)kg_rng_below(&g->rng, g->inputs.count), 0);
                remote_run(g, &g->sets[i], "check", &plan, NULL);
            }
    uint64_t perturb = secret_draw(g);
    kg_perturbation changed;
    kg_inputs_perturb(g->w, g->inputs.sets[0], perturb, &changed);
    kg_answer answer;
    if (answer_for(g, 0, &answer))
        return -1;
    for (int i = 0; i < 2; i++) {
        set_eval *s = &g->sets[i];
        if (!is_ok(s))
            continue;
        progress_line(g, "checking %s", s->name);
        kg_run_plan plan = plan_for(g, 0, perturb);
        plan.fill_seed &= ~(UINT64_C(1) << 63);
        if (checked_run(g, s, "check", &plan, &answer, s->got[0], &s->check,
                        "after the first check"))
            continue;
        /* A single run cannot prove an element unwritten: a wrong value may
         * equal its fill by chance (bf16 has few values). The pair of runs
         * below can, and raises unwritten_output where it applies. */
        s->checked = 1;
        if (!s->check.passed)
            raise_flag(s, FLAG_WRONG, "%s", s->check.message);
        if (s->status != KG_SET_STATUS_OK)
            continue;
        /* The repeat's fill is the first's moved one pool entry on: the two
         * differ in every element, so any element left unwritten shows. */
        uint64_t first_seed = plan.fill_seed;
        plan = plan_for(g, 0, 0);
        plan.fill_seed = kg_fill_seed_shifted(first_seed);
        if (checked_run(g, s, "repeat", &plan, &answer, s->got[1], &s->repeat,
                        "after the repeat run"))
            continue;
        s->repeated = 1;
        compare_repeat(g, s, first_seed, plan.fill_seed);
    }
    kg_answer_free(&answer);
    return 0;
}

/* ---- timing ------------------------------------------------------------ */

typedef struct timing {
    grader *g;
    set_eval *sets[2];
    size_t n;
    size_t round;           /* the round whose plan is below; SIZE_MAX before the first */
    size_t round_set;       /* its input set */
    uint64_t round_perturb; /* and perturbation, the same for every set */
    size_t checks;
    set_eval *stopped_by; /* the set whose failure ended the timing */
} timing;

static int timing_sample(void *user, size_t i, size_t round, int warmup, kg_run_sample *out,
                         kg_error *err)
{
    timing *t = user;
    grader *g = t->g;
    set_eval *s = t->sets[i];
    kg_run_plan plan;
    if (warmup) {
        plan = plan_for(g, (size_t)kg_rng_below(&g->rng, g->inputs.count), 0);
    } else {
        if (round != t->round) {
            /* A new round: its input set and perturbation, applied here
             * once and in every worker when it runs. */
            t->round = round;
            t->round_set = (size_t)kg_rng_below(&g->rng, g->inputs.count);
            cJSON_AddItemToArray(g->round_sets, cJSON_CreateNumber((double)t->round_set));
            t->round_perturb = secret_draw(g);
            kg_perturbation changed;
            kg_inputs_perturb(g->w, g->inputs.sets[t->round_set], t->round_perturb, &changed);
        }
        plan = plan_for(g, t->round_set, t->round_perturb);
    }
    if (remote_run(g, s, warmup ? "warm-up" : "timing", &plan, out) == 0)
        return KG_OK;
    t->stopped_by = s;
    return kg_error_set(err, KG_ERR_LAUNCH, "%s: %s", s->name, s->error);
}

/* Reads back and checks every set's output of the round just timed. */
static int check_round(timing *t)
{
    grader *g = t->g;
    kg_answer answer;
    if (answer_for(g, t->round_set, &answer))
        return -1;
    t->checks++;
    int failed = 0;
    for (size_t i = 0; i < t->n && !failed; i++) {
        set_eval *s = t->sets[i];
        kg_check_result r;
        char what[64];
        snprintf(what, sizeof what, "after timed round %zu", t->round);
        if (remote_output(g, s, "timing (a timed run read back)", s->got[0])) {
            t->stopped_by = s;
            failed = 1;
            break;
        }
        kg_output_fills *fill = malloc(sizeof *fill);
        if (fill)
            fill_of(g, s->last_fill, fill);
        kg_check_answer(g->w, &answer, s->got[0], fill, &r);
        free(fill);
        cJSON *entry = cJSON_CreateObject();
        cJSON_AddNumberToObject(entry, KG_KEY_TIMED_ROUND, (double)t->round);
        cJSON_AddNumberToObject(entry, KG_KEY_TIMED_INPUT_SET, (double)t->round_set);
        cJSON_AddBoolToObject(entry, KG_KEY_CHECK_PASSED, r.passed);
        cJSON_AddNumberToObject(entry, KG_KEY_CHECK_CHECKED, (double)r.checked);
        cJSON_AddNumberToObject(entry, KG_KEY_CHECK_MISMATCHES, (double)r.mismatches);
        cJSON_AddItemToArray(s->timed_checks, entry);
        if (!r.passed) {
            raise_flag(s, FLAG_TIMED_RUN_WRONG,
                       "the output of timed round %zu, read back unannounced, was wrong: %s",
                       t->round, r.message);
            t->stopped_by = s;
            failed = 1;
        }
        if (remote_verify(g, s, "timing (a timed run read back)", t->round_set, what) ||
            !is_ok(s)) {
            t->stopped_by = s;
            failed = 1;
        }
    }
    kg_answer_free(&answer);
    return failed ? -1 : 0;
}

/* After each round: read back and check it with a probability that falls
 * as rounds accumulate (most of a short run is looked at, a few of a long
 * one), drawn from the secret after the round has run. Never capped: a
 * kernel can count the read-backs so far (one lengthens the gap before its
 * next launch), and with a cap it would know when they are over. */
static int timing_after_round(void *user, size_t round, kg_error *err)
{
    timing *t = user;
    double p = round < 16 ? 0.25 : round < 256 ? 1.0 / 16 : 1.0 / 128;
    if (kg_rng_uniform(&t->g->rng) >= p)
        return KG_OK;
    if (check_round(t) == 0)
        return KG_OK;
    return kg_error_set(err, KG_ERR_LAUNCH, "a timed run failed its check");
}

static void on_progress(void *user, size_t samples, double worst, double elapsed)
{
    timing *t = user;
    progress_line(t->g, "timing: %zu samples each, median within +-%.2f%%, %.1f s", samples,
                  isfinite(worst) ? worst * 100 : 100.0, elapsed);
}

static void time_sets(grader *g, kg_measure_outcome *outcome)
{
    timing t = {.g = g, .round = SIZE_MAX};
    for (int i = 0; i < 2; i++)
        if (is_ok(&g->sets[i]))
            t.sets[t.n++] = &g->sets[i];
    if (!t.n)
        return;
    kg_sample_set samples[2] = {{0}};
    kg_error e = {0};
    kg_measure_settings m = g->job->measure;
    m.progress = g->job->progress ? on_progress : NULL;
    m.progress_user = &t;
    kg_sampler sampler = {.sample = timing_sample, .after_round = timing_after_round, .user = &t};
    int rc = kg_measure(&sampler, t.n, &m, samples, outcome, &e);
    /* At least one timed round is read back: the last, if the draw chose
     * none (its outputs are still on the devices). */
    if (rc == KG_OK && t.checks == 0 && t.round != SIZE_MAX)
        rc = check_round(&t) ? KG_ERR_LAUNCH : KG_OK;
    for (size_t i = 0; i < t.n; i++) {
        t.sets[i]->samples = samples[i];
        if (rc && !t.stopped_by && !g->interrupted)
            fail_set(t.sets[i], KG_SET_STATUS_TIMING_FAILED, e.message);
    }
    /* Guard damage is permanent and inputs should be as uploaded: one more
     * look over every buffer and every input set covers every timed run. */
    for (size_t i = 0; i < t.n; i++)
        if (t.sets[i]->worker && remote_verify(g, t.sets[i], "verify after timing",
                                               KG_ALL_INPUT_SETS, "after timing") == 0)
            t.sets[i]->verified_after_timing = 1;
}

/* ---- rechecks ---------------------------------------------------------- */

/* One recheck: the parent's copy of input set `set` changed by `change`,
 * the same change made in each set's worker (the `inputs` command), a run
 * checked against the new answer. */
static int recheck(grader *g, const char *kind, size_t stress_case, flag f, const char *what)
{
    size_t set = 0;
    uint64_t seed = secret_draw(g);
    int any = 0;
    /* The workers draw and upload the new inputs while this process draws
     * its own copy and the answer. */
    for (int i = 0; i < 2; i++)
        if (is_ok(&g->sets[i]))
            any |= tell(g, &g->sets[i], what, "inputs %zu %s %" PRIx64 " %zu", set, kind, seed,
                        stress_case) == 0;
    kg_error e = {0};
    kg_host_tensor *t = g->inputs.sets[set];
    if (strcmp(kind, KG_RECHECK_NUDGE) == 0) {
        if (kg_inputs_nudge(g->w, g->shape, t, seed, &e)) {
            snprintf(g->failure, sizeof g->failure, "%s", e.message);
            return -1;
        }
    } else {
        kg_draw draw = strcmp(kind, KG_RECHECK_FRESH) == 0   ? KG_DRAW_FRESH
                       : strcmp(kind, KG_RECHECK_HEAVY) == 0 ? KG_DRAW_HEAVY_TAILED
                                                             : KG_DRAW_STRESS;
        kg_tensors_draw(g->w, g->shape, t, draw, stress_case, seed);
    }
    if (!any)
        return 0;
    kg_answer answer;
    if (answer_for(g, set, &answer))
        return -1;
    int ready[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        set_eval *s = &g->sets[i];
        const char *line;
        if (!is_ok(s) || await_line(g, s, &line))
            continue;
        if (strcmp(line, "ok") != 0)
            worker_error(s, line);
        else
            ready[i] = 1;
    }
    for (int i = 0; i < 2; i++) {
        set_eval *s = &g->sets[i];
        if (!ready[i] || !is_ok(s))
            continue;
        progress_line(g, "checking %s %s", s->name, what);
        kg_run_plan plan = plan_for(g, set, 0);
        kg_check_result r;
        if (checked_run(g, s, what, &plan, &answer, s->got[0], &r, what))
            continue;
        cJSON *entry = cJSON_CreateObject();
        cJSON_AddStringToObject(entry, KG_KEY_RECHECK_KIND, kind);
        if (f == FLAG_STRESS)
            cJSON_AddStringToObject(entry, KG_KEY_RECHECK_CASE, g->w->stress[stress_case].name);
        cJSON_AddBoolToObject(entry, KG_KEY_CHECK_PASSED, r.passed);
        cJSON_AddNumberToObject(entry, KG_KEY_CHECK_CHECKED, (double)r.checked);
        cJSON_AddNumberToObject(entry, KG_KEY_CHECK_MISMATCHES, (double)r.mismatches);
        cJSON_AddNumberToObject(entry, KG_KEY_CHECK_MAX_ABS_ERR, r.max_abs_err);
        cJSON_AddNumberToObject(entry, KG_KEY_CHECK_MAX_REL_ERR,
                                isfinite(r.max_rel_err) ? r.max_rel_err : -1);
        if (!r.passed)
            cJSON_AddStringToObject(entry, KG_KEY_CHECK_MESSAGE, r.message);
        cJSON_AddItemToArray(s->rechecks, entry);
        if (!r.passed)
            raise_flag(s, f, "%s%s%s: %s", what, f == FLAG_STRESS ? " " : "",
                       f == FLAG_STRESS ? g->w->stress[stress_case].name : "", r.message);
    }
    kg_answer_free(&answer);
    return 0;
}

/* After timing: a few elements nudged (index tensors included), then
 * fresh inputs in another layout, heavy-tailed inputs and each stress
 * input. Catches results cached between calls, outputs that depend on the
 * timed inputs or layout, and shortcuts that only hold near the mean. */
static int rechecks(grader *g)
{
    if (recheck(g, KG_RECHECK_NUDGE, 0, FLAG_NUDGED, "on nudged inputs") ||
        recheck(g, KG_RECHECK_FRESH, 0, FLAG_FRESH_INPUTS, "on fresh inputs") ||
        recheck(g, KG_RECHECK_HEAVY, 0, FLAG_HEAVY_TAILED, "on heavy-tailed inputs"))
        return -1;
    for (size_t c = 0; c < g->w->stress_count; c++)
        if (recheck(g, KG_RECHECK_STRESS, c, FLAG_STRESS, "on stress input"))
            return -1;
    return 0;
}

/* ---- the record -------------------------------------------------------- */

static cJSON *check_json(const kg_check_result *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, KG_KEY_CHECK_PASSED, c->passed);
    cJSON_AddNumberToObject(o, KG_KEY_CHECK_CHECKED, (double)c->checked);
    cJSON_AddNumberToObject(o, KG_KEY_CHECK_MISMATCHES, (double)c->mismatches);
    cJSON_AddNumberToObject(o, KG_KEY_CHECK_UNWRITTEN, (double)c->unwritten);
    cJSON_AddBoolToObject(o, KG_KEY_CHECK_SAMPLED, c->sampled);
    cJSON_AddNumberToObject(o, KG_KEY_CHECK_MAX_ABS_ERR, c->max_abs_err);
    cJSON_AddNumberToObject(o, KG_KEY_CHECK_MAX_REL_ERR,
                            isfinite(c->max_rel_err) ? c->max_rel_err : -1);
    if (!c->passed)
        cJSON_AddStringToObject(o, KG_KEY_CHECK_MESSAGE, c->message);
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
    cJSON *clocks = cJSON_AddArrayToObject(o, KG_KEY_SET_SM_CLOCK_MHZ);
    cJSON *flags = cJSON_AddArrayToObject(o, KG_KEY_SET_THROTTLED);
    for (size_t i = 0; i < samples->count; i++) {
        cJSON_AddItemToArray(clocks, cJSON_CreateNumber(samples->clock_mhz[i]));
        cJSON_AddItemToArray(flags, cJSON_CreateBool(samples->throttled_flags[i]));
    }
}

static cJSON *integrity_json(const set_eval *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, KG_KEY_INTEGRITY_GUARD_ZONES, s->integrity.guarded);
    cJSON_AddNumberToObject(o, KG_KEY_INTEGRITY_GUARD_BYTES,
                            (double)s->integrity.guard_bytes_damaged);
    if (s->integrity.guard_bytes_damaged)
        cJSON_AddStringToObject(o, KG_KEY_INTEGRITY_FIRST_OVERWRITTEN, s->integrity.first_damaged);
    cJSON_AddNumberToObject(o, KG_KEY_INTEGRITY_INPUTS_MODIFIED,
                            (double)s->integrity.inputs_modified);
    if (s->integrity.inputs_modified)
        cJSON_AddStringToObject(o, KG_KEY_INTEGRITY_FIRST_MODIFIED, s->integrity.first_modified);
    if (s->repeated) {
        cJSON *r = cJSON_AddObjectToObject(o, KG_KEY_INTEGRITY_REPEAT);
        cJSON_AddNumberToObject(r, KG_KEY_REPEAT_DISAGREEING, (double)s->repeat_disagreeing);
        if (s->repeat_disagreeing)
            cJSON_AddNumberToObject(r, KG_KEY_REPEAT_FIRST_INDEX, (double)s->repeat_first);
        cJSON_AddNumberToObject(r, KG_KEY_REPEAT_NEVER_WRITTEN, (double)s->never_written);
        if (s->never_written)
            cJSON_AddNumberToObject(r, KG_KEY_REPEAT_NEVER_WRITTEN_FIRST,
                                    (double)s->never_written_first);
    }
    cJSON_AddBoolToObject(o, KG_KEY_INTEGRITY_VERIFIED_AFTER, s->verified_after_timing);
    cJSON_AddNumberToObject(o, KG_KEY_INTEGRITY_CHECKS_WALL_S, s->check_wall_s);
    const cJSON *scrubbed = cJSON_GetObjectItemCaseSensitive(s->info, KG_KEY_INFO_SCRUBBED_BYTES);
    cJSON_AddBoolToObject(o, KG_KEY_INTEGRITY_SCRUBBED,
                          cJSON_IsNumber(scrubbed) && scrubbed->valuedouble > 0);
    if (cJSON_IsNumber(scrubbed))
        cJSON_AddNumberToObject(o, KG_KEY_INTEGRITY_SCRUBBED_BYTES, scrubbed->valuedouble);
    return o;
}

static cJSON *set_json(set_eval *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, KG_KEY_SET_NAME, s->name);
    cJSON_AddStringToObject(o, KG_KEY_SET_STATUS, kg_set_status_name(s->status));
    if (s->error[0])
        cJSON_AddStringToObject(o, KG_KEY_SET_ERROR, s->error);
    cJSON *flags = cJSON_AddArrayToObject(o, KG_KEY_SET_FLAGS);
    for (int f = 0; f < FLAG_COUNT; f++)
        if (s->flags & (1u << f))
            cJSON_AddItemToArray(flags, cJSON_CreateString(kg_flag_name(flag_info[f].flag)));
    /* What the worker said of its set: manifest, sources and their hashes,
     * options, defines, build, launches, sweep. */
    static const char *const copied[] = {KG_KEY_SET_MANIFEST,     KG_KEY_SET_MANIFEST_SHA256,
                                         KG_KEY_SET_SOURCE,       KG_KEY_SET_LANGUAGE,
                                         KG_KEY_SET_DESCRIPTION,  KG_KEY_SET_SOURCE_SHA256,
                                         KG_KEY_SET_SOURCE_FILES, KG_KEY_SET_DEFINES,
                                         KG_KEY_SET_OPTIONS,      KG_KEY_SET_BUILD_SECONDS,
                                         KG_KEY_SET_BUILD_CACHED, KG_KEY_SET_LAUNCHES,
                                         KG_KEY_SET_BUILD_LOG,    KG_KEY_SET_SWEEP,
                                         KG_KEY_SET_LIBRARY,      NULL};
    for (int k = 0; copied[k]; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(s->info, copied[k]);
        if (v)
            cJSON_AddItemToObject(o, copied[k], cJSON_Duplicate(v, 1));
    }
    if (s->checked)
        cJSON_AddItemToObject(o, KG_KEY_SET_CHECK, check_json(&s->check));
    if (s->repeated)
        cJSON_AddItemToObject(o, KG_KEY_SET_REPEAT_CHECK, check_json(&s->repeat));
    if (cJSON_GetArraySize(s->timed_checks))
        cJSON_AddItemToObject(o, KG_KEY_SET_TIMED_CHECKS, cJSON_Duplicate(s->timed_checks, 1));
    if (cJSON_GetArraySize(s->rechecks))
        cJSON_AddItemToObject(o, KG_KEY_SET_RECHECKS, cJSON_Duplicate(s->rechecks, 1));
    if (s->checked)
        cJSON_AddItemToObject(o, KG_KEY_SET_INTEGRITY, integrity_json(s));
    cJSON_AddNumberToObject(o, KG_KEY_SET_WARMUP_RUNS, (double)s->samples.warmup_runs);
    cJSON_AddNumberToObject(o, KG_KEY_SET_THROTTLED_SAMPLES, (double)s->samples.throttled);
    cJSON_AddItemToObject(o, KG_KEY_SET_SAMPLES_S,
                          kg_json_exact_array(s->samples.device_s, s->samples.count));
    cJSON_AddItemToObject(o, KG_KEY_SET_HOST_SAMPLES_S,
                          kg_json_exact_array(s->samples.host_s, s->samples.count));
    add_clocks(o, &s->samples);
    cJSON *worker = cJSON_AddObjectToObject(o, KG_KEY_SET_WORKER);
    cJSON_AddNumberToObject(worker, KG_KEY_WORKER_BUSY_S, s->busy_s);
    cJSON_AddNumberToObject(worker, KG_KEY_WORKER_WALL_S, s->end.wall_s);
    if (s->end.signal) {
        cJSON_AddNumberToObject(worker, KG_KEY_WORKER_SIGNAL, s->end.signal);
        cJSON_AddStringToObject(worker, KG_KEY_WORKER_SIGNAL_NAME, strsignal(s->end.signal));
    } else if (s->end.exit_status >= 0) {
        cJSON_AddNumberToObject(worker, KG_KEY_WORKER_EXIT_STATUS, s->end.exit_status);
    }
    if (s->lost) {
        cJSON_AddStringToObject(worker, KG_KEY_WORKER_STEP, s->step);
        cJSON_AddStringToObject(worker, KG_KEY_WORKER_OUTPUT_TAIL, s->end.output_tail);
    }
    return o;
}

static cJSON *record_json(grader *g, const kg_measure_outcome *outcome)
{
    const kg_workload *w = g->w;
    const kg_shape *shape = g->shape;
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, KG_KEY_TYPE, kg_record_type_name(KG_RECORD_SHAPE));
    cJSON_AddStringToObject(rec, KG_KEY_SHAPE_WORKLOAD, w->name);
    cJSON_AddStringToObject(rec, KG_KEY_SHAPE_SIZE_CLASS, kg_size_class_name(g->job->cls));
    cJSON_AddStringToObject(rec, KG_KEY_SHAPE_SHAPE, shape->name);
    cJSON_AddNumberToObject(rec, KG_KEY_SHAPE_INDEX, (double)g->job->shape_no);
    cJSON_AddStringToObject(rec, KG_KEY_SHAPE_OUTPUT_DTYPE,
                            kg_dtype_name(w->tensors[w->outputs[0]].dtype));
    const kg_host_tensor *set0 = g->inputs.count ? g->inputs.sets[0] : NULL;
    cJSON *shapes = cJSON_AddArrayToObject(rec, KG_KEY_SHAPE_TENSORS);
    for (size_t i = 0; set0 && i < w->tensor_count; i++) {
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, KG_KEY_TENSOR_NAME, set0[i].name);
        cJSON_AddStringToObject(t, KG_KEY_TENSOR_DTYPE, kg_dtype_name(set0[i].dtype));
        cJSON_AddStringToObject(t, KG_KEY_TENSOR_ROLE, kg_tensor_role_name(&w->tensors[i]));
        cJSON *dims = cJSON_AddArrayToObject(t, KG_KEY_TENSOR_SHAPE);
        for (int d = 0; d < set0[i].rank; d++)
            cJSON_AddItemToArray(dims, cJSON_CreateNumber((double)set0[i].dims[d]));
        cJSON_AddItemToArray(shapes, t);
    }
    kg_record_shape_values(rec, w, shape);
    int64_t flops = 0, bytes = 0;
    kg_eval_for_shape(w->flops, shape, w->name, "flops", &flops, NULL);
    kg_eval_for_shape(w->bytes, shape, w->name, "bytes", &bytes, NULL);
    cJSON_AddNumberToObject(rec, KG_KEY_SHAPE_FLOPS, (double)flops);
    cJSON_AddNumberToObject(rec, KG_KEY_SHAPE_BYTES, (double)bytes);
    cJSON_AddNumberToObject(
        rec, KG_KEY_SHAPE_INPUT_SEED,
        (double)(kg_grade_seed(g->job->seed, w->name, g->job->shape_no, 1) >> 11));
    cJSON_AddNumberToObject(rec, KG_KEY_SHAPE_INPUT_SETS, (double)g->inputs.count);
    /* Which input set each timed round used (sample i of each set). */
    cJSON_AddItemToObject(rec, KG_KEY_SHAPE_SAMPLE_INPUT_SETS, cJSON_Duplicate(g->round_sets, 1));
    /* Written now that the evaluation is over: with it, every input, fill,
     * checked unit and recheck of this evaluation can be drawn again. */
    char secret[40];
    snprintf(secret, sizeof secret, "%016" PRIx64 "%016" PRIx64, g->secret[0], g->secret[1]);
    cJSON_AddStringToObject(rec, KG_KEY_SHAPE_SECRET, secret);
    size_t pool_values = 0;
    for (size_t k = 0; k < g->pools.count; k++)
        pool_values += g->pools.fill[k].pool_count;
    cJSON_AddNumberToObject(rec, KG_KEY_SHAPE_FILL_POOL_VALUES, (double)pool_values);
    /* A shape on which zeros would pass the check: reported, since a kernel
     * that computes nothing would be graded correct on it. */
    for (int i = 0; i < 2; i++)
        if (g->sets[i].checked &&
            (g->sets[i].check.zeros_would_pass || g->sets[i].check.constant_would_pass)) {
            cJSON_AddStringToObject(rec, KG_KEY_SHAPE_DEGENERATE,
                                    g->sets[i].check.zeros_would_pass
                                        ? "an all-zeros output passes the tolerance"
                                        : "a constant output passes the tolerance");
            break;
        }
    cJSON_AddItemToObject(rec, KG_KEY_SHAPE_BASELINE, set_json(&g->sets[0]));
    cJSON_AddItemToObject(rec, KG_KEY_SHAPE_CANDIDATE, set_json(&g->sets[1]));
    cJSON_AddStringToObject(rec, KG_KEY_SHAPE_STOP_REASON, outcome->stop_reason);
    cJSON_AddNumberToObject(rec, KG_KEY_SHAPE_SAMPLING_WALL_S, outcome->sampling_wall_s);
    cJSON_AddNumberToObject(rec, KG_KEY_SHAPE_TIMED_CHECKS_WALL_S, outcome->after_round_wall_s);
    cJSON_AddNumberToObject(rec, KG_KEY_SHAPE_CHECKS_WALL_S,
                            g->sets[0].check_wall_s + g->sets[1].check_wall_s);
    if (isfinite(outcome->worst_rel_halfwidth))
        cJSON_AddNumberToObject(rec, KG_KEY_SHAPE_WORST_HALFWIDTH, outcome->worst_rel_halfwidth);
    return rec;
}

/* ---- the evaluation ---------------------------------------------------- */

/* A fill pool of at most KG_FILL_POOL_MAX of the answer's values, picked
 * at random among them. */
static int pool_from_answer(grader *g, const kg_answer_part *part, kg_dtype dtype,
                            kg_fill_pattern *pool, kg_error *err)
{
    size_t n = part->unit_count * part->unit_len;
    size_t take = n < KG_FILL_POOL_MAX ? n : KG_FILL_POOL_MAX;
    double *values = malloc((take ? take : 1) * sizeof *values);
    if (!values)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    for (size_t i = 0; i < take; i++)
        values[i] = part->want[take == n ? i : (size_t)kg_rng_below(&g->rng, n)];
    kg_fill_pool_from_values(pool, dtype, values, take);
    free(values);
    return KG_OK;
}

/* The inputs: set 0 from the run's seed (reproducible from --seed), the
 * others from the secret, as many as memory allows; and the fill pool,
 * the reference's values on inputs drawn only for it. */
static int draw_inputs(grader *g, kg_error *err)
{
    const kg_grade_job *job = g->job;
    uint64_t seeds[KG_MAX_INPUT_SETS];
    seeds[0] = kg_grade_seed(job->seed, g->w->name, job->shape_no, 1);
    int rc = kg_input_sets_create(g->w, g->shape, seeds, 1, &g->inputs, err);
    if (rc)
        return rc;
    size_t count = kg_input_set_count(kg_input_set_bytes(g->w, g->inputs.sets[0]), 3, 2,
                                      job->info ? job->info->global_mem_bytes : 0);
    for (size_t k = 1; k < count; k++)
        seeds[k] = secret_draw(g);
    if (count > 1) {
        kg_input_sets_free(g->w, &g->inputs);
        if ((rc = kg_input_sets_create(g->w, g->shape, seeds, count, &g->inputs, err)))
            return rc;
    }
    kg_input_sets throwaway;
    uint64_t pool_seed = secret_draw(g);
    if ((rc = kg_input_sets_create(g->w, g->shape, &pool_seed, 1, &throwaway, err)))
        return rc;
    kg_answer a;
    rc = kg_answer_compute(g->w, g->shape, throwaway.sets[0], secret_draw(g), 16, &a, err);
    kg_input_sets_free(g->w, &throwaway);
    if (rc)
        return rc;
    kg_output_layout_of(g->w, g->inputs.sets[0], &g->layout);
    g->pools.count = g->layout.count;
    for (size_t k = 0; k < g->layout.count && !rc; k++)
        if (!g->w->tensors[g->layout.tensor[k]].is_input) /* an inout starts from its input */
            rc = pool_from_answer(g, &a.part[k], g->layout.dtype[k], &g->pools.fill[k], err);
    kg_answer_free(&a);
    return rc;
}

static void finish_workers(grader *g)
{
    for (int i = 0; i < 2; i++) {
        set_eval *s = &g->sets[i];
        if (s->worker) {
            kg_worker_finish(s->worker, g->interrupted, &s->end);
            s->worker = NULL;
        }
    }
}

void kg_record_shape_values(cJSON *rec, const kg_workload *w, const kg_shape *shape)
{
    cJSON *sym = cJSON_AddObjectToObject(rec, KG_KEY_SHAPE_SYMBOLS);
    for (size_t i = 0; i < shape->symbols.count; i++)
        cJSON_AddNumberToObject(sym, shape->symbols.names[i], (double)shape->symbols.values[i]);
    if (!w->param_count)
        return;
    const kg_param_value *params = kg_shape_params(w, shape);
    cJSON *par = cJSON_AddObjectToObject(rec, KG_KEY_SHAPE_PARAMS);
    for (size_t i = 0; i < w->param_count; i++)
        cJSON_AddNumberToObject(par, params[i].name, params[i].value);
}

int kg_grade_shape(const kg_grade_job *job, cJSON **record, kg_error *err)
{
    *record = NULL;
    grader g = {.job = job,
                .started = kg_worker_now(),
                .w = job->w,
                .shape = &job->w->shapes[job->cls][job->shape_no],
                .round_sets = cJSON_CreateArray()};
    draw_secret(g.secret);
    kg_rng_seed(&g.rng, g.secret[0] ^ (g.secret[1] * 0x9e3779b97f4a7c15ull));
    const char *names[2] = {job->baseline, job->candidate};
    static const char *const roles[2] = {"baseline", "candidate"};
    for (int i = 0; i < 2; i++) {
        g.sets[i] =
            (set_eval){.role = roles[i], .name = names[i], .status = KG_SET_STATUS_OK, .step = ""};
        g.sets[i].end.exit_status = -1;
        g.sets[i].timed_checks = cJSON_CreateArray();
        g.sets[i].rechecks = cJSON_CreateArray();
    }
    kg_measure_outcome outcome = {.stop_reason = KG_STOP_NOT_TIMED, .worst_rel_halfwidth = NAN};
    int rc = draw_inputs(&g, err);
    if (rc == KG_ERR_MEMORY) {
        /* A shape this machine cannot hold is a recorded refusal. */
        for (int i = 0; i < 2; i++)
            fail_set(&g.sets[i], KG_SET_STATUS_REFUSED, err->message);
        memset(err, 0, sizeof *err);
        rc = KG_OK;
        goto record;
    }
    if (rc)
        goto out;
    for (int i = 0; i < 2 && !rc; i++)
        for (int k = 0; k < 2 && !rc; k++)
            if (!(g.sets[i].got[k] = malloc(g.layout.bytes ? g.layout.bytes : 1)))
                rc = kg_error_set(err, KG_ERR_MEMORY, "out of memory for the output copies");
    if (rc || (rc = start_workers(&g, err)))
        goto out;
    if (!g.interrupted && first_checks(&g) == 0 && !g.interrupted) {
        time_sets(&g, &outcome);
        if (!g.interrupted)
            rechecks(&g);
    }
    if (g.failure[0]) {
        rc = kg_error_set(err, KG_ERR_INVALID, "%s", g.failure);
        goto out;
    }
    if (g.interrupted) {
        rc = kg_error_set(err, KG_ERR_INTERRUPTED, "interrupted");
        goto out;
    }
    finish_workers(&g);
    for (int i = 0; i < 2; i++)
        settle_status(&g.sets[i]);
record:
    *record = record_json(&g, &outcome);
out:
    finish_workers(&g);
    for (int i = 0; i < 2; i++) {
        kg_sample_set_free(&g.sets[i].samples);
        cJSON_Delete(g.sets[i].info);
        cJSON_Delete(g.sets[i].timed_checks);
        cJSON_Delete(g.sets[i].rechecks);
        free(g.sets[i].got[0]);
        free(g.sets[i].got[1]);
    }
    kg_input_sets_free(g.w, &g.inputs);
    cJSON_Delete(g.round_sets);
    return rc;
}
