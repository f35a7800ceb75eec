/* `kgrade __worker`: the child side of worker.h. Not for people: `kgrade
 * run` starts one per kernel set of an evaluation, sends it a job line,
 * then commands, and reads its answers on fd 3.
 *
 * The worker builds and prepares its one set on its own device context,
 * with the input sets the job names, and then does what it is told:
 *
 *   run SET PERTURB FILL   one run of kg_run_once (measure.h): input set
 *                          SET, perturbation seed PERTURB (hex, 0: none),
 *                          fill seed FILL (hex)
 *                          -> ran DEVICE_S HOST_S CLOCK_MHZ THROTTLED
 *   output                 -> output NBYTES, then the output's raw bytes
 *   verify SET|all         guard zones and inputs (evaluate.h)
 *                          -> verified {"guarded", "guard_bytes", "first_damaged",
 *                                       "inputs_modified", "first_modified"}
 *                          (KG_KEY_VERIFIED_* of record_keys.h)
 *   inputs SET KIND SEED [CASE]
 *                          redraws input set SET on the host and device:
 *                          KIND fresh, heavy, stress (case CASE) or nudge
 *                          -> ok
 *
 * Any of them may answer `error STATUS MESSAGE` instead. The worker never
 * learns whether a run will be read back before the run is over: the
 * `output` command comes after `ran`. It ends at the end of its input.
 */
#include "commands.h"
#include "evaluate.h"
#include "json_file.h"
#include "measure.h"
#include "record_keys.h"
#include "sweep.h"
#include "worker.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static FILE *channel; /* fd 3 */

static void reply(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
static void reply(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(channel, fmt, ap);
    va_end(ap);
    fputc('\n', channel);
    fflush(channel);
}

/* `error STATUS MESSAGE` on one line. */
static void reply_error(kg_set_status status, const kg_error *e)
{
    char message[1100];
    if (e->vendor_name[0])
        snprintf(message, sizeof message, "%s [%s %d]", e->message, e->vendor_name, e->vendor_code);
    else
        snprintf(message, sizeof message, "%s", e->message);
    for (char *p = message; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    reply("error %s %s", kg_set_status_name(status), message);
}

/* A JSON object on one line after `word`. */
static void reply_json(const char *word, const cJSON *o)
{
    char *text = cJSON_PrintUnformatted(o);
    reply("%s %s", word, text ? text : "{}");
    free(text);
}

static const char *job_string(const cJSON *job, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(job, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double job_number(const cJSON *job, const char *key, double fallback)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(job, key);
    return cJSON_IsNumber(v) ? v->valuedouble : fallback;
}

/* Everything the worker holds for its set. */
typedef struct worker_state {
    const kg_backend *backend;
    kg_device *dev;
    kg_device_info info;
    kg_workload *w;
    const kg_shape *shape;
    kg_build_cache *cache;
    kg_kernel_entry *entry;
    kg_input_sets inputs;
    kg_output_fills fills; /* the pool of each output the parent drew */
    kg_run_context run;
    void *output;
    size_t output_bytes;
} worker_state;

static void state_free(worker_state *s)
{
    kg_prepared_free(s->run.prepared);
    for (size_t k = 0; k < KG_MAX_OUTPUTS; k++)
        kg_output_fill_free(s->run.fill[k]);
    kg_scrubber_free(s->run.scrubber);
    kg_build_cache_free(s->cache);
    kg_kernel_entry_free(s->entry);
    if (s->w)
        kg_input_sets_free(s->w, &s->inputs);
    free(s->output);
    kg_dev_close(s->dev);
    if (s->backend)
        kg_backend_shutdown(s->backend);
    kg_workload_free(s->w);
}

/* What a library tier called: the library, and the call's sizes for the
 * shape once prepared. */
static cJSON *library_json(const worker_state *s, const cJSON *library)
{
    cJSON *o = cJSON_Duplicate(library, 1);
    const kg_blas_gemm *g = s->run.prepared ? kg_prepared_library_call(s->run.prepared) : NULL;
    if (g) {
        cJSON_AddNumberToObject(o, KG_KEY_LIBRARY_M, (double)g->m);
        cJSON_AddNumberToObject(o, KG_KEY_LIBRARY_N, (double)g->n);
        cJSON_AddNumberToObject(o, KG_KEY_LIBRARY_K, (double)g->k);
    }
    return o;
}

/* The set's description as the parent records it, with its status after
 * preparing ("ok", or why not, with any flag; KG_FLAG_UNKNOWN: none). */
static cJSON *set_info(worker_state *s, kg_set_status status, kg_flag flag,
                       const kg_build_info *build, const cJSON *sweep, const kg_error *e)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, KG_KEY_SET_STATUS, kg_set_status_name(status));
    if (e && e->message[0]) {
        char message[1100];
        if (e->vendor_name[0])
            snprintf(message, sizeof message, "%s [%s %d]", e->message, e->vendor_name,
                     e->vendor_code);
        else
            snprintf(message, sizeof message, "%s", e->message);
        cJSON_AddStringToObject(o, KG_KEY_SET_ERROR, message);
    }
    if (flag != KG_FLAG_UNKNOWN)
        cJSON_AddStringToObject(o, KG_KEY_INFO_FLAG, kg_flag_name(flag));
    if (s->entry) {
        cJSON_AddStringToObject(o, KG_KEY_SET_MANIFEST, s->entry->manifest);
        cJSON_AddStringToObject(o, KG_KEY_SET_MANIFEST_SHA256, s->entry->manifest_sha256);
        /* A library tier's source is the library it calls (below). */
        const cJSON *lib = build ? build->library : NULL;
        const char *source =
            s->entry->source_path ? s->entry->source_path
            : lib ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(lib, KG_KEY_LIBRARY_PATH))
                  : "";
        cJSON_AddStringToObject(o, KG_KEY_SET_SOURCE, source);
        cJSON_AddStringToObject(o, KG_KEY_SET_LANGUAGE, kg_language_name(s->entry->language));
        cJSON_AddStringToObject(o, KG_KEY_SET_DESCRIPTION, s->entry->description);
        cJSON_AddStringToObject(o, KG_KEY_SET_OPTIONS, s->entry->options);
    }
    if (build) {
        cJSON_AddStringToObject(o, KG_KEY_SET_SOURCE_SHA256, build->source_sha256);
        if (build->source_files)
            cJSON_AddItemToObject(o, KG_KEY_SET_SOURCE_FILES,
                                  cJSON_Duplicate(build->source_files, 1));
        cJSON_AddStringToObject(o, KG_KEY_SET_DEFINES, build->defines);
        cJSON_AddNumberToObject(o, KG_KEY_SET_BUILD_SECONDS, build->seconds);
        cJSON_AddBoolToObject(o, KG_KEY_SET_BUILD_CACHED, build->cached);
        cJSON_AddStringToObject(o, KG_KEY_SET_BUILD_LOG, build->log ? build->log : "");
        if (build->triton)
            cJSON_AddItemToObject(o, KG_KEY_SET_TRITON, cJSON_Duplicate(build->triton, 1));
        if (build->library)
            cJSON_AddItemToObject(o, KG_KEY_SET_LIBRARY, library_json(s, build->library));
    }
    if (s->run.prepared)
        cJSON_AddItemToObject(o, KG_KEY_SET_LAUNCHES, kg_prepared_launches_json(s->run.prepared));
    if (sweep)
        cJSON_AddItemToObject(o, KG_KEY_SET_SWEEP, cJSON_Duplicate(sweep, 1));
    cJSON_AddNumberToObject(o, KG_KEY_INFO_INPUT_SETS, (double)s->inputs.count);
    cJSON_AddNumberToObject(o, KG_KEY_INFO_SCRUBBED_BYTES,
                            s->run.scrubber ? (double)kg_scrubber_bytes(s->run.scrubber) : 0);
    return o;
}

static int parse_hex(const char *s, uint64_t *out)
{
    char *end;
    *out = strtoull(s, &end, 16);
    return end != s;
}

/* Answers "failed" with the set's status and the error. */
static int refuse(worker_state *s, kg_set_status status, const kg_error *e)
{
    cJSON *info = set_info(s, status, KG_FLAG_UNKNOWN, NULL, NULL, e);
    reply_json("failed", info);
    cJSON_Delete(info);
    return -1;
}

/* The job's workload and shape, and the device opened. */
static int open_job(worker_state *s, const cJSON *job, kg_error *e)
{
    const char *dir = job_string(job, KG_KEY_JOB_BASELINES_DIR);
    const char *name = job_string(job, KG_KEY_JOB_WORKLOAD);
    const char *backend = job_string(job, KG_KEY_JOB_BACKEND);
    const char *cls_name = job_string(job, KG_KEY_JOB_SIZE_CLASS);
    int cls = cls_name ? kg_size_class_parse(cls_name) : -1;
    s->backend = backend ? kg_backend_find(backend) : NULL;
    if (!dir || !name || !job_string(job, KG_KEY_JOB_SET) || !s->backend || cls < 0)
        return kg_error_set(e, KG_ERR_INVALID, "malformed job");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t shape_no = (size_t)job_number(job, KG_KEY_JOB_SHAPE_INDEX, 0);
    int index = (int)job_number(job, KG_KEY_JOB_DEVICE_INDEX, 0);
    int rc = kg_workload_load(path, &s->w, e);
    if (rc == KG_OK && shape_no >= s->w->shape_count[cls])
        rc = kg_error_set(e, KG_ERR_INVALID, "malformed job: shape index out of range");
    if (rc == KG_OK)
        rc = kg_backend_init(s->backend, e);
    if (rc == KG_OK)
        rc = kg_dev_open(s->backend, index, &s->dev, e);
    if (rc == KG_OK) {
        s->info = *kg_dev_info(s->dev);
        s->shape = &s->w->shapes[cls][shape_no];
    }
    return rc;
}

/* The input sets the parent named, in its order, and the fill pool it
 * drew; then the host copies, the output's copy and the fill kernel. */
static int make_inputs(worker_state *s, const cJSON *job, kg_error *e)
{
    uint64_t seed_values[KG_MAX_INPUT_SETS];
    size_t nseeds = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(job, KG_KEY_JOB_INPUT_SEEDS))
    {
        if (nseeds < KG_MAX_INPUT_SETS && cJSON_IsString(item) &&
            parse_hex(item->valuestring, &seed_values[nseeds]))
            nseeds++;
    }
    /* One pool per output, [[...], [...]]; an inout's is empty. */
    const cJSON *pools = cJSON_GetObjectItemCaseSensitive(job, KG_KEY_JOB_FILL_POOL);
    s->fills.count = s->w->output_count;
    for (size_t k = 0; k < s->w->output_count; k++) {
        const kg_tensor_spec *out = &s->w->tensors[s->w->outputs[k]];
        kg_fill_pattern *fill = &s->fills.fill[k];
        fill->dtype = out->dtype;
        cJSON_ArrayForEach(item, cJSON_GetArrayItem(pools, (int)k))
        {
            if (cJSON_IsNumber(item) && fill->pool_count < KG_FILL_POOL_MAX)
                fill->pool[fill->pool_count++] = (uint32_t)item->valuedouble;
        }
        if (fill->pool_count == 0 && !out->is_input)
            kg_fill_pool_from_values(fill, fill->dtype, (const double[]){1.0}, 1);
    }
    int rc = kg_input_sets_create(s->w, s->shape, seed_values, nseeds ? nseeds : 1, &s->inputs, e);
    if (rc)
        return rc;
    kg_output_layout layout;
    kg_output_layout_of(s->w, s->inputs.sets[0], &layout);
    s->output_bytes = layout.bytes;
    s->output = malloc(s->output_bytes ? s->output_bytes : 1);
    if (!s->output)
        return kg_error_set(e, KG_ERR_MEMORY, "out of memory for the output copy");
    for (size_t k = 0; k < s->w->output_count && rc == KG_OK; k++)
        if (!s->w->tensors[s->w->outputs[k]].is_input)
            rc = kg_output_fill_create(s->dev, &s->fills.fill[k], &s->run.fill[k], e);
    return rc;
}

/* The status a failed kg_prepare gives the set, and its flag. */
static kg_set_status prepare_status(int rc, const kg_build_info *build, kg_flag *flag)
{
    *flag = KG_FLAG_UNKNOWN; /* none */
    if (rc == KG_OK)
        return KG_SET_STATUS_OK;
    if (rc == KG_ERR_BUILD) {
        *flag = build->source_refused ? KG_FLAG_SOURCE_REFUSED : KG_FLAG_UNKNOWN;
        return KG_SET_STATUS_BUILD_FAILED;
    }
    if (rc == KG_ERR_MEMORY && build->refused_own_request) {
        *flag = KG_FLAG_EXCESSIVE_REQUEST;
        return KG_SET_STATUS_SETUP_FAILED;
    }
    return rc == KG_ERR_MEMORY ? KG_SET_STATUS_REFUSED : KG_SET_STATUS_SETUP_FAILED;
}

/* Sweeps the set's configuration where it has a sweep, builds and uploads
 * it, and answers "ready" or "failed" with the set's description. */
static int prepare_set(worker_state *s)
{
    kg_error e = {0};
    kg_symtab chosen;
    const kg_symtab *overrides = NULL;
    cJSON *sweep = NULL;
    char buf[256];
    const char *why = kg_kernel_entry_refusal(s->entry, s->shape, buf, sizeof buf);
    if (why) {
        /* Said by the set itself: nothing is built or run. */
        kg_error_set(&e, KG_ERR_INVALID, "the set does not support this shape: %s", why);
        cJSON *info = set_info(s, KG_SET_STATUS_REFUSED, KG_FLAG_UNSUPPORTED_SHAPE, NULL, NULL, &e);
        reply_json("failed", info);
        cJSON_Delete(info);
        return -1;
    }
    if (s->entry->sweep_count) {
        kg_sweep_settings sweep_settings = {.samples = 3, .max_time_s = 2.0, .hot = s->run.hot};
        if (kg_sweep_run(s->cache, s->w, s->entry, s->shape, &s->run, &sweep_settings, &chosen,
                         &sweep, &e) != KG_OK)
            return refuse(s, KG_SET_STATUS_SETUP_FAILED, &e);
        overrides = chosen.count ? &chosen : NULL;
    }
    kg_build_info build;
    int rc = kg_prepare(s->cache, s->w, s->entry, s->shape, overrides, &s->inputs, &s->run.prepared,
                        &build, &e);
    kg_flag flag;
    kg_set_status status = prepare_status(rc, &build, &flag);
    cJSON *info = set_info(s, status, flag, &build, sweep, rc ? &e : NULL);
    reply_json(rc ? "failed" : "ready", info);
    cJSON_Delete(info);
    cJSON_Delete(sweep);
    return rc ? -1 : 0;
}

/* The job: loads the workload and opens the device, draws the inputs,
 * loads the set's entry and builds it. Replies `ready INFO` or
 * `failed INFO`; returns 0 when ready. */
static int start(worker_state *s, const cJSON *job)
{
    kg_error e = {0};
    if (open_job(s, job, &e))
        return refuse(s, KG_SET_STATUS_SETUP_FAILED, &e);
    int rc = make_inputs(s, job, &e);
    if (rc == KG_OK) {
        kg_error ignored = {0};
        kg_scrubber_create(s->dev, &s->run.scrubber, &ignored);
        s->cache = kg_build_cache_create(s->dev, &s->info);
        s->run.inputs = &s->inputs;
        s->run.hot = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(job, KG_KEY_JOB_SETTINGS), KG_KEY_SETTINGS_HOT));
        rc = kg_kernel_entry_load(s->w, job_string(job, KG_KEY_JOB_SET), &s->entry, &e);
    }
    if (rc)
        return refuse(s, rc == KG_ERR_MEMORY ? KG_SET_STATUS_REFUSED : KG_SET_STATUS_SETUP_FAILED,
                      &e);
    return prepare_set(s);
}

static void do_run(worker_state *s, const char *args)
{
    size_t set;
    char perturb[32], fill[32];
    uint64_t p, f;
    kg_error e = {0};
    if (sscanf(args, "%zu %31s %31s", &set, perturb, fill) != 3 || !parse_hex(perturb, &p) ||
        !parse_hex(fill, &f) || set >= s->inputs.count) {
        kg_error_set(&e, KG_ERR_INVALID, "malformed run command '%s'", args);
        reply_error(KG_SET_STATUS_SETUP_FAILED, &e);
        return;
    }
    kg_run_plan plan = {.input_set = set, .perturb_seed = p, .fill_seed = f};
    kg_run_sample out;
    int rc = kg_run_once(&s->run, &plan, &out, &e);
    if (rc) {
        reply_error(rc == KG_ERR_MEMORY ? KG_SET_STATUS_TIMING_FAILED : KG_SET_STATUS_LAUNCH_FAILED,
                    &e);
        return;
    }
    reply("ran %.17g %.17g %" PRIu32 " %d", out.device_s, out.host_s, out.clock_mhz, out.throttled);
}

static void do_output(worker_state *s)
{
    kg_error e = {0};
    int rc = kg_prepared_read_output(s->run.prepared, s->output, &e);
    if (rc) {
        reply_error(KG_SET_STATUS_LAUNCH_FAILED, &e);
        return;
    }
    reply("output %zu", s->output_bytes);
    fwrite(s->output, 1, s->output_bytes, channel);
    fflush(channel);
}

static void do_verify(worker_state *s, const char *args)
{
    size_t set =
        strncmp(args, "all", 3) == 0 ? KG_ALL_INPUT_SETS : (size_t)strtoull(args, NULL, 10);
    kg_integrity found;
    kg_error e = {0};
    if (kg_prepared_verify(s->run.prepared, &s->inputs, set, &found, &e)) {
        reply_error(KG_SET_STATUS_LAUNCH_FAILED, &e);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, KG_KEY_VERIFIED_GUARDED, found.guarded);
    cJSON_AddNumberToObject(o, KG_KEY_VERIFIED_GUARD_BYTES, (double)found.guard_bytes_damaged);
    cJSON_AddStringToObject(o, KG_KEY_VERIFIED_FIRST_DAMAGED, found.first_damaged);
    cJSON_AddNumberToObject(o, KG_KEY_VERIFIED_INPUTS_MODIFIED, (double)found.inputs_modified);
    cJSON_AddStringToObject(o, KG_KEY_VERIFIED_FIRST_MODIFIED, found.first_modified);
    reply_json("verified", o);
    cJSON_Delete(o);
}

static void do_inputs(worker_state *s, const char *args)
{
    size_t set, stress_case = 0;
    char kind[16], seed_text[32];
    uint64_t seed;
    kg_error e = {0};
    int n = sscanf(args, "%zu %15s %31s %zu", &set, kind, seed_text, &stress_case);
    if (n < 3 || !parse_hex(seed_text, &seed) || set >= s->inputs.count) {
        kg_error_set(&e, KG_ERR_INVALID, "malformed inputs command '%s'", args);
        reply_error(KG_SET_STATUS_SETUP_FAILED, &e);
        return;
    }
    kg_host_tensor *t = s->inputs.sets[set];
    int rc = KG_OK;
    if (strcmp(kind, KG_RECHECK_FRESH) == 0)
        kg_tensors_draw(s->w, s->shape, t, KG_DRAW_FRESH, 0, seed);
    else if (strcmp(kind, KG_RECHECK_HEAVY) == 0)
        kg_tensors_draw(s->w, s->shape, t, KG_DRAW_HEAVY_TAILED, 0, seed);
    else if (strcmp(kind, KG_RECHECK_STRESS) == 0 && stress_case < s->w->stress_count)
        kg_tensors_draw(s->w, s->shape, t, KG_DRAW_STRESS, stress_case, seed);
    else if (strcmp(kind, KG_RECHECK_NUDGE) == 0)
        rc = kg_inputs_nudge(s->w, s->shape, t, seed, &e);
    else
        rc = kg_error_set(&e, KG_ERR_INVALID, "unknown inputs kind '%s'", kind);
    if (!rc)
        rc = kg_prepared_upload_set(s->run.prepared, set, t, &e);
    if (rc) {
        reply_error(KG_SET_STATUS_SETUP_FAILED, &e);
        return;
    }
    reply("ok");
}

static int run_worker(const kg_command *self, int argc, char **argv)
{
    (void)self;
    (void)argc;
    (void)argv;
    channel = fdopen(3, "w");
    if (!channel) {
        fprintf(stderr, "kgrade __worker: internal command of `kgrade run` (needs fd 3)\n");
        return KG_EXIT_USAGE;
    }
    /* Not dumpable: another process of this user (the other set's worker,
     * on a CPU device running kernels as host code) cannot read this one's
     * memory through /proc or ptrace. */
    prctl(PR_SET_DUMPABLE, 0);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len = getline(&line, &cap, stdin);
    cJSON *job = len > 0 ? cJSON_Parse(line) : NULL;
    worker_state s = {0};
    int ready = job && start(&s, job) == 0;
    if (!job) {
        kg_error e = {0};
        kg_error_set(&e, KG_ERR_INVALID, "malformed job: not JSON");
        reply_error(KG_SET_STATUS_SETUP_FAILED, &e);
    }
    cJSON_Delete(job);
    while (ready && (len = getline(&line, &cap, stdin)) > 0) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "run ", 4) == 0)
            do_run(&s, line + 4);
        else if (strcmp(line, "output") == 0)
            do_output(&s);
        else if (strncmp(line, "verify ", 7) == 0)
            do_verify(&s, line + 7);
        else if (strncmp(line, "inputs ", 7) == 0)
            do_inputs(&s, line + 7);
        else {
            kg_error e = {0};
            kg_error_set(&e, KG_ERR_INVALID, "unknown command '%.60s'", line);
            reply_error(KG_SET_STATUS_SETUP_FAILED, &e);
        }
    }
    free(line);
    state_free(&s);
    fclose(channel);
    return KG_EXIT_OK;
}

const kg_command kg_command_worker = {
    .name = "__worker",
    .summary = "internal: one kernel set of an evaluation, in a child process of `kgrade run`",
    .usage = "kgrade __worker < job-and-commands  (fd 3: answers)",
    .description = "Started by `kgrade run` for each kernel set; see runner/cmd_worker.c.",
    .run = run_worker,
};
