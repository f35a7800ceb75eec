/* `kgrade __worker`: the child side of worker.h. Not for people: `kgrade
 * run` starts it with a job on stdin and reads its lines on fd 3. */
#include "commands.h"
#include "evaluate.h"
#include "grade_shape.h"
#include "json_file.h"
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static FILE *channel; /* fd 3 */

static void send_line(const char *kind, const char *text)
{
    fprintf(channel, "%s %s\n", kind, text);
    fflush(channel);
}

static void on_phase(void *user, const char *role, const char *step)
{
    (void)user;
    char line[96];
    snprintf(line, sizeof line, "%s %s", role, step);
    send_line("phase", line);
}

static void on_checked(void *user, const char *role, const char *status)
{
    (void)user;
    char line[96];
    snprintf(line, sizeof line, "%s %s", role, status);
    send_line("done", line);
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

static int fail(const char *message)
{
    char line[1100];
    snprintf(line, sizeof line, "%s", message);
    for (char *p = line; *p; p++)
        if (*p == '\n')
            *p = ' ';
    send_line("error", line);
    return KG_EXIT_USAGE;
}

static char *read_stdin(void)
{
    size_t len = 0, cap = 4096;
    char *text = malloc(cap);
    size_t n;
    while (text && (n = fread(text + len, 1, cap - len - 1, stdin)) > 0) {
        len += n;
        if (len + 1 == cap) {
            char *bigger = realloc(text, cap *= 2);
            if (!bigger)
                free(text);
            text = bigger;
        }
    }
    if (text)
        text[len] = '\0';
    return text;
}

static int run_job(const cJSON *job)
{
    const char *dir = job_string(job, "baselines_dir"), *name = job_string(job, "workload");
    const char *baseline = job_string(job, "baseline"), *candidate = job_string(job, "candidate");
    const char *backend_name = job_string(job, "backend"),
               *cls_name = job_string(job, "size_class");
    if (!dir || !name || !baseline || !candidate || !backend_name || !cls_name)
        return fail("malformed job: a string field is missing");
    int cls = kg_size_class_parse(cls_name);
    const kg_backend *backend = kg_backend_find(backend_name);
    if (cls < 0 || !backend)
        return fail("malformed job: unknown size class or backend");
    kg_error err = {0};
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    kg_workload *w = NULL;
    if (kg_workload_load(path, &w, &err))
        return fail(err.message);
    size_t shape_no = (size_t)job_number(job, "shape_index", 0);
    if (shape_no >= w->shape_count[cls]) {
        kg_workload_free(w);
        return fail("malformed job: shape index out of range");
    }
    int index = (int)job_number(job, "device_index", 0);
    kg_device_info info;
    kg_device *dev = NULL;
    if (backend->init(&err) || backend->device_info(index, &info, &err) ||
        backend->device_open(index, &dev, &err)) {
        kg_workload_free(w);
        if (backend->shutdown)
            backend->shutdown();
        return fail(err.message);
    }
    kg_measure_settings m = kg_measure_defaults();
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(job, "settings");
    m.min_samples = (size_t)job_number(ms, "min_samples", (double)m.min_samples);
    m.max_samples = (size_t)job_number(ms, "max_samples", (double)m.max_samples);
    m.min_time_s = job_number(ms, "min_time_s", m.min_time_s);
    m.max_time_s = job_number(ms, "max_time_s", m.max_time_s);
    m.target = job_number(ms, "target_rel_halfwidth", m.target);
    m.warmup_s = job_number(ms, "warmup_s", m.warmup_s);
    m.hot = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ms, "hot"));
    /* The seed travels as a decimal string: a JSON number cannot hold 64 bits. */
    const char *seed_text = job_string(job, "seed");
    kg_grade_job gj = {
        .backend = backend,
        .dev = dev,
        .info = &info,
        .cache = kg_build_cache_create(backend, dev, &info),
        .w = w,
        .cls = (kg_size_class)cls,
        .shape_no = shape_no,
        .baseline = baseline,
        .candidate = candidate,
        .seed = seed_text ? strtoull(seed_text, NULL, 10) : 1,
        .measure = m,
        .phase = on_phase,
        .checked = on_checked,
        .progress = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(job, "progress")),
        .label = job_string(job, "label") ? job_string(job, "label") : name,
        .index = (size_t)job_number(job, "index", 0),
        .total = (size_t)job_number(job, "total", 0),
    };
    cJSON *record = NULL;
    int rc = kg_grade_shape(&gj, &record, &err);
    int exit_code = KG_EXIT_OK;
    if (rc) {
        exit_code = fail(err.message);
    } else {
        char *text = cJSON_PrintUnformatted(record);
        if (text)
            send_line("record", text);
        else
            exit_code = fail("out of memory printing the record");
        free(text);
    }
    cJSON_Delete(record);
    kg_build_cache_free(gj.cache);
    backend->device_close(dev);
    if (backend->shutdown)
        backend->shutdown();
    kg_workload_free(w);
    return exit_code;
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
    char *text = read_stdin();
    cJSON *job = text ? cJSON_Parse(text) : NULL;
    free(text);
    int rc = job ? run_job(job) : fail("malformed job: not JSON");
    cJSON_Delete(job);
    fclose(channel);
    return rc;
}

const kg_command kg_command_worker = {
    .name = "__worker",
    .summary = "internal: one evaluation in a child process of `kgrade run`",
    .usage = "kgrade __worker < job.json  (fd 3: result channel)",
    .description = "Started by `kgrade run` for each evaluation; see runner/worker.h.",
    .run = run_worker,
};
