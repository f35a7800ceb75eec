/* `kgrade slurm`: a run as Slurm job arrays, one per partition, each task
 * grading a chunk of the run's evaluations into a shard of its own, and a
 * merge job after each array (docs/slurm.md). Also `--resubmit DIR`: the
 * tasks whose evaluations no shard holds, again. */
#include "cli.h"
#include "commands.h"
#include "dir_list.h"
#include "fingerprint.h"
#include "id_list.h"
#include "json_file.h"
#include "record_keys.h"
#include "run.h"
#include "shards.h"
#include "slurm.h"
#include "worker.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* At most this many partitions, one array each. */
#define KG_SLURM_MAX_PARTITIONS 8

typedef struct slurm_options {
    run_options run; /* what is graded and how: handed to every task as is */
    const char *partition, *gres, *time, *account, *dir, *resubmit, *kgrade;
    size_t array_limit, chunk;
    int no_submit;
} slurm_options;

#define RUN_OPT(name, type, field, metavar, help)                                                  \
    {                                                                                              \
        name, type, offsetof(slurm_options, run.field), metavar, help                              \
    }
#define OPT(name, type, field, metavar, help)                                                      \
    {                                                                                              \
        name, type, offsetof(slurm_options, field), metavar, help                                  \
    }
#define GRADING_OPT(name, type, field, metavar, help)                                              \
    {                                                                                              \
        name, type, offsetof(run_options, field), metavar, help                                    \
    }

static const kg_option slurm_options_table[] = {
    KG_RUN_GRADING_OPTIONS(RUN_OPT),
    OPT("partition", KG_OPT_STRING, partition, "P[,P...]",
        "the partition of the array; several (an NVIDIA and an AMD one): an array and a merge "
        "each, in DIR/<partition>/, then one job comparing the merged runs"),
    OPT("gres", KG_OPT_STRING, gres, "GRES", "each task's generic resources (gpu:1)"),
    OPT("time", KG_OPT_STRING, time, "TIME",
        "each task's time limit, as sbatch reads it (1:00:00)"),
    OPT("account", KG_OPT_STRING, account, "A", "the account the jobs are charged to"),
    OPT("array-limit", KG_OPT_SIZE, array_limit, "N",
        "at most N tasks of an array at once (sbatch --array=...%N; default: no limit)"),
    OPT("chunk", KG_OPT_SIZE, chunk, "N", "evaluations per array task (1)"),
    OPT("dir", KG_OPT_STRING, dir, "DIR",
        "the study folder: job scripts, plan, shards, logs, merged results (required)"),
    OPT("no-submit", KG_OPT_FLAG, no_submit, NULL,
        "write the scripts (or, with --resubmit, say what would run) but submit nothing"),
    OPT("resubmit", KG_OPT_STRING, resubmit, "DIR",
        "the study in DIR again: only the array tasks whose evaluations no shard holds, and a "
        "new merge; refused while the last array still has tasks queued or running"),
    OPT("kgrade", KG_OPT_STRING, kgrade, "PATH",
        "the kgrade the jobs run, as the nodes see it (default: this one's path)"),
};

static const kg_option grading_table[] = {KG_RUN_GRADING_OPTIONS(GRADING_OPT)};

/* Everything one invocation holds. */
typedef struct slurm_state {
    slurm_options o;
    run_dirs dirs;
    kg_workload **workloads;
    size_t nw;
    char partitions[512];
    const char *partition[KG_SLURM_MAX_PARTITIONS];
    size_t np;
    char cwd[PATH_MAX];
    char merge_jobs[KG_SLURM_MAX_PARTITIONS][64]; /* submitted by this invocation */
    size_t merges;
} slurm_state;

static int fail(const kg_error *e)
{
    fprintf(stderr, "kgrade slurm: %s\n", e->message);
    return KG_EXIT_USAGE;
}

/* The grading options as `kgrade run` reads them, one per line. */
static void write_grading_args(FILE *f, const run_options *o)
{
    for (size_t i = 0; i < sizeof grading_table / sizeof grading_table[0]; i++) {
        const kg_option *opt = &grading_table[i];
        const char *field = (const char *)o + opt->offset;
        switch (opt->type) {
        case KG_OPT_STRING:
            if (*(const char *const *)field) {
                fprintf(f, " \\\n    --%s ", opt->name);
                kg_slurm_shell_quote(f, *(const char *const *)field);
            }
            break;
        case KG_OPT_FLAG:
            if (*(const int *)field)
                fprintf(f, " \\\n    --%s", opt->name);
            break;
        case KG_OPT_SIZE:
            fprintf(f, " \\\n    --%s %zu", opt->name, *(const size_t *)field);
            break;
        case KG_OPT_U64:
            fprintf(f, " \\\n    --%s %llu", opt->name,
                    (unsigned long long)*(const uint64_t *)field);
            break;
        case KG_OPT_DOUBLE: {
            /* The shortest text that reads back as the same double. */
            double v = *(const double *)field;
            char text[40];
            for (int digits = 6; digits <= 17; digits++) {
                snprintf(text, sizeof text, "%.*g", digits, v);
                if (strtod(text, NULL) == v)
                    break;
            }
            fprintf(f, " \\\n    --%s %s", opt->name, text);
            break;
        }
        }
    }
}

/* Opens DIR/<file> and writes the #SBATCH lines every job of the study
 * shares: the job's name, its log DIR/logs/<log> (appended), the folder it
 * runs in. The path goes to `path`. */
static FILE *start_script(const slurm_state *st, const char *dir, const char *partition,
                          const char *file, const char *job_name, const char *log, char *path,
                          size_t size, kg_error *err)
{
    snprintf(path, size, "%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    if (!f) {
        kg_error_set(err, KG_ERR_INVALID, "%s: cannot write: %s", path, strerror(errno));
        return NULL;
    }
    fprintf(f, "#!/bin/bash\n");
    fprintf(f, "#SBATCH --job-name=%s\n#SBATCH --partition=%s\n", job_name, partition);
    fprintf(f, "#SBATCH --output=%s/logs/%s\n#SBATCH --open-mode=append\n", dir, log);
    fprintf(f, "#SBATCH --chdir=%s\n", st->cwd);
    if (st->o.account)
        fprintf(f, "#SBATCH --account=%s\n", st->o.account);
    return f;
}

/* Ends a script whose last command's status is in $status: 1 (a candidate
 * failed) is a result, not a failed job. */
static void end_script(FILE *f, const char *why_one)
{
    fprintf(f, "status=$?\n# 1: %s\n[ \"$status\" -eq 1 ] && status=0\nexit \"$status\"\n",
            why_one);
}

static int close_script(FILE *f, const char *path, kg_error *err)
{
    if (fclose(f) != 0 || chmod(path, 0755) != 0)
        return kg_error_set(err, KG_ERR_INVALID, "%s: cannot write: %s", path, strerror(errno));
    return KG_OK;
}

/* DIR/array.sbatch: task t grades its chunk into shard-t.jsonl, continuing
 * the shard when it is there (a requeued or resubmitted task). */
static int write_array_script(const slurm_state *st, const kg_slurm_plan *plan, kg_error *err)
{
    char path[PATH_MAX + 32], name[64];
    snprintf(name, sizeof name, "kgrade-%s", plan->run_id);
    FILE *f = start_script(st, plan->dir, plan->partition, "array.sbatch", name, "task-%a.log",
                           path, sizeof path, err);
    if (!f)
        return KG_ERR_INVALID;
    fprintf(f, "#SBATCH --array=1-%zu", plan->tasks);
    if (plan->array_limit)
        fprintf(f, "%%%zu", plan->array_limit);
    fprintf(f, "\n#SBATCH --requeue\n");
    if (st->o.gres)
        fprintf(f, "#SBATCH --gres=%s\n", st->o.gres);
    if (st->o.time)
        fprintf(f, "#SBATCH --time=%s\n", st->o.time);
    fprintf(f,
            "# kgrade slurm: run %s, %zu evaluations, %zu per task (%s).\n"
            "# Task t grades evaluations (t-1)*%zu+1 .. t*%zu into shard-t.jsonl; run\n"
            "# again, it continues that shard (kgrade run --continue).\n"
            "set -u\n"
            "task=${SLURM_ARRAY_TASK_ID:?submit as an array: sbatch --array=1-%zu %s}\n"
            "first=$(( (task - 1) * %zu + 1 ))\n"
            "last=$(( task * %zu ))\n"
            "[ \"$last\" -le %zu ] || last=%zu\n"
            "echo \"kgrade slurm: task $task, evaluations $first-$last, on $(hostname) at "
            "$(date -u +%%FT%%TZ)\"\n",
            plan->run_id, plan->evaluations, plan->chunk, KG_SLURM_PLAN_FILE, plan->chunk,
            plan->chunk, plan->tasks, path, plan->chunk, plan->chunk, plan->evaluations,
            plan->evaluations);
    kg_slurm_shell_quote(f, kg_json_str(plan->json, "kgrade", "kgrade"));
    fprintf(f, " run --continue --only \"$first-$last\" \\\n    --out ");
    kg_slurm_shell_quote(f, plan->dir);
    fprintf(f, "/shard-\"$task\".jsonl");
    write_grading_args(f, &st->o.run);
    fprintf(f, "\n");
    end_script(f, "a candidate failed a check; graded and recorded, not a failed task.");
    return close_script(f, path, err);
}

/* DIR/merge.sbatch: every shard into DIR/results.jsonl, report beside it. */
static int write_merge_script(const slurm_state *st, const kg_slurm_plan *plan, kg_error *err)
{
    char path[PATH_MAX + 32], name[64];
    snprintf(name, sizeof name, "kgrade-merge-%s", plan->run_id);
    FILE *f = start_script(st, plan->dir, plan->partition, "merge.sbatch", name, "merge.log", path,
                           sizeof path, err);
    if (!f)
        return KG_ERR_INVALID;
    fprintf(f,
            "# kgrade slurm: merges the shards of run %s once its array has ended\n"
            "# (submitted with --dependency=afterany:<array job>).\n"
            "set -u\nshopt -s nullglob\ncd ",
            plan->run_id);
    kg_slurm_shell_quote(f, plan->dir);
    fprintf(f, " || exit 2\necho \"kgrade slurm: merging at $(date -u +%%FT%%TZ)\"\n");
    kg_slurm_shell_quote(f, kg_json_str(plan->json, "kgrade", "kgrade"));
    fprintf(f, " merge shard-*.jsonl --out results.jsonl > report.md\n");
    end_script(f, "a candidate failed; 3: evaluations missing (said in this log).");
    return close_script(f, path, err);
}

/* DIR/compare.sbatch, with several partitions: the merged runs side by side. */
static int write_compare_script(const slurm_state *st, kg_error *err)
{
    char path[PATH_MAX + 32], logs[PATH_MAX + 32];
    snprintf(logs, sizeof logs, "%s/logs", st->o.dir);
    mkdir(logs, 0777);
    FILE *f = start_script(st, st->o.dir, st->partition[0], "compare.sbatch", "kgrade-compare",
                           "compare.log", path, sizeof path, err);
    if (!f)
        return KG_ERR_INVALID;
    fprintf(f, "# kgrade slurm: the partitions' merged runs side by side.\nset -u\ncd ");
    kg_slurm_shell_quote(f, st->o.dir);
    fprintf(f, " || exit 2\n");
    kg_slurm_shell_quote(f, st->o.kgrade);
    fprintf(f, " compare");
    for (size_t i = 0; i < st->np; i++) {
        fputc(' ', f);
        kg_slurm_shell_quote(f, st->partition[i]);
        fprintf(f, "/results.jsonl");
    }
    fprintf(f, " > compare.md\n");
    return close_script(f, path, err);
}

/* Submits the array (all its tasks, or those of `tasks`) and its merge
 * job, records both in the plan, and says so. */
static int submit_array(slurm_state *st, kg_slurm_plan *plan, const char *tasks, kg_error *err)
{
    char array[1200], script[PATH_MAX + 32], array_id[64], merge_id[64], dep[128];
    if (plan->array_limit)
        snprintf(array, sizeof array, "--array=%s%%%zu", tasks, plan->array_limit);
    else
        snprintf(array, sizeof array, "--array=%s", tasks);
    snprintf(script, sizeof script, "%s/array.sbatch", plan->dir);
    const char *array_args[] = {array, NULL};
    int rc = kg_slurm_sbatch(array_args, script, array_id, sizeof array_id, err);
    if (rc)
        return rc;
    snprintf(dep, sizeof dep, "--dependency=afterany:%s", array_id);
    snprintf(script, sizeof script, "%s/merge.sbatch", plan->dir);
    const char *merge_args[] = {dep, "--kill-on-invalid-dep=yes", NULL};
    rc = kg_slurm_sbatch(merge_args, script, merge_id, sizeof merge_id, err);
    if (rc)
        return rc;
    char now[32];
    kg_utc_now(now, sizeof now);
    cJSON *sub = cJSON_CreateObject();
    cJSON_AddStringToObject(sub, "at", now);
    cJSON_AddStringToObject(sub, "tasks", tasks);
    cJSON_AddStringToObject(sub, "array_job", array_id);
    cJSON_AddStringToObject(sub, "merge_job", merge_id);
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(plan->json, "submissions"), sub);
    rc = kg_slurm_plan_write(plan, err);
    printf("%s: array job %s (tasks %s), then merge job %s -> %s/results.jsonl\n", plan->partition,
           array_id, tasks, merge_id, plan->dir);
    printf("  watch: squeue --jobs %s,%s   logs: %s/logs/\n", array_id, merge_id, plan->dir);
    if (st->merges < KG_SLURM_MAX_PARTITIONS)
        snprintf(st->merge_jobs[st->merges++], sizeof st->merge_jobs[0], "%s", merge_id);
    return rc;
}

/* The compare job after every merge this invocation submitted. */
static int submit_compare(slurm_state *st, kg_error *err)
{
    char dep[64 + KG_SLURM_MAX_PARTITIONS * 66] = "--dependency=afterany";
    for (size_t i = 0; i < st->merges; i++) {
        strcat(dep, ":");
        strcat(dep, st->merge_jobs[i]);
    }
    char script[PATH_MAX + 32], id[64];
    snprintf(script, sizeof script, "%s/compare.sbatch", st->o.dir);
    const char *args[] = {dep, "--kill-on-invalid-dep=yes", NULL};
    int rc = kg_slurm_sbatch(args, script, id, sizeof id, err);
    if (rc == KG_OK)
        printf("compare job %s -> %s/compare.md\n", id, st->o.dir);
    return rc;
}

/* The plan of one partition's array, in a folder of its own. */
static int make_plan(slurm_state *st, const char *partition, const char *run_id, size_t evaluations,
                     kg_slurm_plan *plan, kg_error *err)
{
    memset(plan, 0, sizeof *plan);
    if (st->np > 1)
        snprintf(plan->dir, sizeof plan->dir, "%s/%s", st->o.dir, partition);
    else
        snprintf(plan->dir, sizeof plan->dir, "%s", st->o.dir);
    char logs[PATH_MAX + 16], existing[PATH_MAX + 32];
    mkdir(st->o.dir, 0777);
    mkdir(plan->dir, 0777);
    snprintf(logs, sizeof logs, "%s/logs", plan->dir);
    snprintf(existing, sizeof existing, "%s/%s", plan->dir, KG_SLURM_PLAN_FILE);
    if (mkdir(logs, 0777) != 0 && errno != EEXIST)
        return kg_error_set(err, KG_ERR_INVALID, "%s: cannot make it: %s", logs, strerror(errno));
    if (access(existing, F_OK) == 0)
        return kg_error_set(err, KG_ERR_INVALID,
                            "%s holds a study already (%s): `kgrade slurm --resubmit %s` "
                            "continues it; a new study needs another --dir",
                            plan->dir, KG_SLURM_PLAN_FILE, st->o.dir);
    char now[32];
    kg_utc_now(now, sizeof now);
    cJSON *j = plan->json = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "made_by", "kgrade slurm (docs/slurm.md)");
    cJSON_AddStringToObject(j, "created", now);
    cJSON_AddStringToObject(j, "run_id", run_id);
    cJSON_AddStringToObject(j, "partition", partition);
    cJSON_AddNumberToObject(j, "evaluations", (double)evaluations);
    cJSON_AddNumberToObject(j, "chunk", (double)st->o.chunk);
    cJSON_AddNumberToObject(j, "tasks", (double)((evaluations + st->o.chunk - 1) / st->o.chunk));
    cJSON_AddNumberToObject(j, "array_limit", (double)st->o.array_limit);
    cJSON_AddStringToObject(j, "kgrade", st->o.kgrade);
    cJSON_AddStringToObject(j, "workdir", st->cwd);
    cJSON_AddItemToObject(j, "submissions", cJSON_CreateArray());
    plan->run_id = kg_json_str(j, "run_id", NULL);
    plan->partition = kg_json_str(j, "partition", NULL);
    plan->evaluations = evaluations;
    plan->chunk = st->o.chunk;
    plan->tasks = (evaluations + st->o.chunk - 1) / st->o.chunk;
    plan->array_limit = st->o.array_limit;
    int rc = write_array_script(st, plan, err);
    if (!rc)
        rc = write_merge_script(st, plan, err);
    if (!rc)
        rc = kg_slurm_plan_write(plan, err);
    return rc;
}

/* What is graded, as `kgrade run` would plan it with no device at hand:
 * the data folders, the size class (full unless named: a cluster's
 * devices are GPUs), the workloads, both sets of every baseline. */
static int plan_run(slurm_state *st, size_t *evaluations, cJSON **settings, kg_error *err)
{
    run_options *o = &st->o.run;
    int rc = kg_run_find_data_dirs(o, o->baselines_dir, 0, &st->dirs, err);
    kg_measure_settings m;
    int cls = -1;
    if (!rc)
        rc = kg_run_measure_settings(o, &m, &cls, err);
    if (!rc)
        rc = kg_run_load_workloads(o->baselines_dir, o->workloads, &st->workloads, &st->nw, err);
    if (rc)
        return rc;
    if (cls < 0)
        cls = KG_SIZE_FULL;
    o->size_class = kg_size_class_name((kg_size_class)cls);
    o->profiles_dir = st->dirs.profiles;
    o->claims_dir = st->dirs.claims;
    char list[512];
    snprintf(list, sizeof list, "%s", o->baseline);
    size_t nb = 0;
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok && !rc;
         tok = strtok_r(NULL, ",", &save), nb++) {
        run_options one = *o;
        one.baseline = tok;
        rc = kg_run_check_sets(&one, NULL, st->workloads, st->nw, err);
    }
    if (rc)
        return rc;
    *evaluations = kg_run_evaluation_count(st->workloads, st->nw, nb, (kg_size_class)cls);
    if (*evaluations < 1 || *evaluations > KG_MAX_EVALUATIONS)
        return kg_error_set(err, KG_ERR_INVALID,
                            "the run has %zu evaluations; 1 to %d can be "
                            "sharded",
                            *evaluations, KG_MAX_EVALUATIONS);
    *settings = kg_run_settings(o, (kg_size_class)cls, &m, *evaluations);
    return KG_OK;
}

/* A new study: the run planned, a plan and scripts per partition, each
 * array submitted with its merge, then the compare job. */
static int new_study(slurm_state *st, kg_error *err)
{
    size_t evaluations = 0;
    cJSON *settings = NULL;
    int rc = plan_run(st, &evaluations, &settings, err);
    const char *run_id = kg_json_str(settings, KG_KEY_SETTINGS_RUN_ID, "");
    if (!rc)
        printf("kgrade slurm: run %s: %zu evaluations, %zu per array task, %zu partition%s\n",
               run_id, evaluations, st->o.chunk, st->np, st->np == 1 ? "" : "s");
    for (size_t i = 0; i < st->np && !rc; i++) {
        kg_slurm_plan plan;
        rc = make_plan(st, st->partition[i], run_id, evaluations, &plan, err);
        if (!rc && !st->o.no_submit) {
            char all[64];
            snprintf(all, sizeof all, plan.tasks > 1 ? "1-%zu" : "%zu", plan.tasks);
            rc = submit_array(st, &plan, all, err);
        } else if (!rc) {
            printf("%s: wrote %s/array.sbatch (%zu tasks) and merge.sbatch; not submitted\n",
                   plan.partition, plan.dir, plan.tasks);
        }
        kg_slurm_plan_free(&plan);
    }
    if (!rc && st->np > 1)
        rc = write_compare_script(st, err);
    if (!rc && st->np > 1 && !st->o.no_submit)
        rc = submit_compare(st, err);
    if (!rc && !st->o.no_submit)
        printf("When the jobs end: kgrade report %s/%sresults.jsonl; evaluations missing: "
               "kgrade slurm --resubmit %s\n",
               st->o.dir, st->np > 1 ? "<partition>/" : "", st->o.dir);
    cJSON_Delete(settings);
    return rc;
}

static int is_shard(const char *dir, const char *name, void *user)
{
    (void)dir;
    (void)user;
    size_t n = strlen(name);
    return strncmp(name, "shard-", 6) == 0 && n > 12 && strcmp(name + n - 6, ".jsonl") == 0;
}

/* The tasks of one array whose evaluations no shard holds, into `tasks`
 * as an id list ("" when none). */
static int tasks_to_rerun(const kg_slurm_plan *plan, char *tasks, size_t size, kg_error *err)
{
    char **names = NULL;
    size_t n = 0;
    kg_dir_list(plan->dir, is_shard, NULL, &names, &n);
    const char **paths = calloc(n + 1, sizeof *paths);
    char(*buf)[PATH_MAX + 256] = calloc(n + 1, sizeof *buf);
    unsigned char *missing = calloc(plan->evaluations + 1, 1);
    unsigned char *marks = calloc(plan->tasks + 1, 1);
    int rc = paths && buf && missing && marks ? KG_OK : KG_ERR_MEMORY;
    for (size_t i = 0; i < n && !rc; i++) {
        snprintf(buf[i], sizeof buf[i], "%s/%s", plan->dir, names[i]);
        paths[i] = buf[i];
    }
    kg_merged m = {0};
    memset(missing, 1, plan->evaluations + 1);
    if (!rc && n) {
        rc = kg_shards_merge(paths, n, &m, err);
        const char *id =
            m.records ? kg_json_str(cJSON_GetObjectItemCaseSensitive(
                                        cJSON_GetArrayItem(m.records, 0), KG_KEY_RUN_SETTINGS),
                                    KG_KEY_SETTINGS_RUN_ID, "")
                      : NULL;
        if (!rc && (strcmp(id, plan->run_id) != 0 || m.evaluations != plan->evaluations))
            rc = kg_error_set(err, KG_ERR_INVALID,
                              "%s: its shards are of run %s, its plan of run %s: refused",
                              plan->dir, id, plan->run_id);
        else if (!rc)
            memcpy(missing, m.missing, plan->evaluations + 1);
        else if (strstr(err->message, "no shard holds a run header"))
            rc = KG_OK; /* every task again */
    }
    tasks[0] = '\0';
    if (!rc && kg_slurm_tasks_of(plan, missing, marks))
        kg_id_list_format(marks, plan->tasks, tasks, size);
    kg_merged_free(&m);
    kg_dir_list_free(names, n);
    free(paths);
    free(buf);
    free(missing);
    free(marks);
    return rc;
}

/* The last array submitted for this plan, if it still has tasks in the
 * queue: two tasks must never write one shard. */
static int array_still_queued(const kg_slurm_plan *plan, kg_error *err)
{
    const cJSON *subs = cJSON_GetObjectItemCaseSensitive(plan->json, "submissions");
    const cJSON *last = cJSON_GetArrayItem(subs, cJSON_GetArraySize(subs) - 1);
    const char *id = kg_json_str(last, "array_job", NULL);
    if (!id || !kg_slurm_job_alive(id))
        return KG_OK;
    return kg_error_set(err, KG_ERR_INVALID,
                        "%s: array job %s still has tasks queued or running; wait for it to end "
                        "(squeue --jobs %s) or cancel it (scancel %s), then resubmit",
                        plan->dir, id, id, id);
}

static int is_study_folder(const char *dir, const char *name, void *user)
{
    (void)user;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s/%s", dir, name, KG_SLURM_PLAN_FILE);
    return access(path, F_OK) == 0;
}

static int resubmit_one(slurm_state *st, const char *dir, kg_error *err)
{
    kg_slurm_plan plan;
    int rc = kg_slurm_plan_read(dir, &plan, err);
    char tasks[1024];
    if (!rc && !st->o.no_submit)
        rc = array_still_queued(&plan, err);
    if (!rc)
        rc = tasks_to_rerun(&plan, tasks, sizeof tasks, err);
    if (!rc && !tasks[0])
        printf("%s: nothing to resubmit, every evaluation is in a shard\n", dir);
    else if (!rc && st->o.no_submit)
        printf("%s: would resubmit array tasks %s of %zu\n", dir, tasks, plan.tasks);
    else if (!rc)
        rc = submit_array(st, &plan, tasks, err);
    kg_slurm_plan_free(&plan);
    return rc;
}

/* --resubmit DIR: DIR's array, or each partition's under it. */
static int resubmit(slurm_state *st, kg_error *err)
{
    const char *dir = st->o.resubmit;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, KG_SLURM_PLAN_FILE);
    if (access(path, F_OK) == 0)
        return resubmit_one(st, dir, err);
    char **names = NULL;
    size_t n = 0;
    kg_dir_list(dir, is_study_folder, NULL, &names, &n);
    int rc = n ? KG_OK
               : kg_error_set(err, KG_ERR_NOT_FOUND,
                              "%s: no %s in it or in its folders: not a `kgrade slurm --dir`", dir,
                              KG_SLURM_PLAN_FILE);
    for (size_t i = 0; i < n && !rc; i++) {
        char sub[PATH_MAX];
        snprintf(sub, sizeof sub, "%s/%s", dir, names[i]);
        if (i < KG_SLURM_MAX_PARTITIONS)
            st->partition[st->np++] = names[i];
        rc = resubmit_one(st, sub, err);
    }
    st->o.dir = dir;
    snprintf(path, sizeof path, "%s/compare.sbatch", dir);
    if (!rc && st->merges && access(path, F_OK) == 0)
        rc = submit_compare(st, err);
    kg_dir_list_free(names, n);
    return rc;
}

/* The options, checked; the partitions split. */
static int check_options(slurm_state *st, kg_error *err)
{
    slurm_options *o = &st->o;
    if (!o->resubmit && (!o->dir || !o->partition))
        return kg_error_set(err, KG_ERR_INVALID,
                            "need --dir DIR and --partition P (or --resubmit DIR); see `kgrade "
                            "slurm --help`");
    if (o->chunk < 1 || o->chunk > KG_MAX_EVALUATIONS)
        return kg_error_set(err, KG_ERR_INVALID, "--chunk: expected 1 to %d evaluations",
                            KG_MAX_EVALUATIONS);
    if (!getcwd(st->cwd, sizeof st->cwd))
        return kg_error_set(err, KG_ERR_INVALID, "cannot read the current folder");
    if (!o->kgrade)
        o->kgrade = kg_worker_self_exe();
    snprintf(st->partitions, sizeof st->partitions, "%s", o->partition ? o->partition : "");
    for (char *save = NULL, *tok = strtok_r(st->partitions, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (st->np == KG_SLURM_MAX_PARTITIONS || strpbrk(tok, "/ '\"\\"))
            return kg_error_set(err, KG_ERR_INVALID,
                                "--partition: at most %d names, without / or quotes",
                                KG_SLURM_MAX_PARTITIONS);
        st->partition[st->np++] = tok;
    }
    return KG_OK;
}

static int run_slurm(const kg_command *self, int argc, char **argv)
{
    slurm_state *st = calloc(1, sizeof *st);
    if (!st)
        return KG_EXIT_USAGE;
    kg_run_options_defaults(&st->o.run);
    st->o.chunk = 1;
    const char *pos[1];
    size_t npos;
    int prc = kg_cli_parse(self, &st->o, argc, argv, pos, 0, &npos);
    kg_error err = {0};
    int rc = prc ? KG_OK : check_options(st, &err);
    if (!prc && !rc)
        rc = st->o.resubmit ? resubmit(st, &err) : new_study(st, &err);
    int exit_code = prc > 0 ? KG_EXIT_OK : prc < 0 ? KG_EXIT_USAGE : rc ? fail(&err) : KG_EXIT_OK;
    for (size_t i = 0; i < st->nw; i++)
        kg_workload_free(st->workloads[i]);
    free(st->workloads);
    free(st);
    return exit_code;
}

const kg_command kg_command_slurm = {
    .name = "slurm",
    .summary = "Grade a run as Slurm job arrays, merged into one results file per device.",
    .usage = "kgrade slurm [run options] --partition P[,P...] --dir DIR [slurm options]\n"
             "       kgrade slurm --resubmit DIR [--no-submit]",
    .description =
        "Writes into DIR a job-array script (array.sbatch: task t grades evaluations\n"
        "(t-1)*chunk+1 .. t*chunk of the run, ids as `kgrade run --list` prints them, into\n"
        "DIR/shard-t.jsonl, continuing that file when the task runs again), a merge job\n"
        "(merge.sbatch: `kgrade merge` of every shard into DIR/results.jsonl, its report\n"
        "in DIR/report.md), the plan (kgrade-slurm.json: the run's id, the chunking, each\n"
        "submission's job ids) and logs/; then submits the array and the merge with\n"
        "--dependency=afterany:<array> --kill-on-invalid-dep=yes, and prints the job ids.\n\n"
        "The run options are `kgrade run`'s and mean the same; every task gets them all\n"
        "written out, so every shard's header carries the same settings and run_id. The\n"
        "jobs run in this folder (--chdir) with this kgrade (--kgrade), so both must be\n"
        "on a file system the nodes share. With no device here, the size class is full\n"
        "unless named, and Triton sets are checked on the nodes.\n\n"
        "Several partitions (an NVIDIA and an AMD one): an array and a merge each, in\n"
        "DIR/<partition>/, then compare.sbatch: `kgrade compare` of the merged runs into\n"
        "DIR/compare.md. A killed or failed task loses at most the evaluation it was\n"
        "grading: `--resubmit DIR` merges what is there, submits only the tasks whose\n"
        "evaluations are missing, and a merge (and compare) after them.\n"
        "docs/slurm.md: the files, a real cluster, how it is tested.\n\n"
        "Data folders: as `kgrade run --help` says.\n\n"
        "examples:\n"
        "  kgrade slurm --candidate ./mine --partition gpu --gres gpu:1 --time 2:00:00 \\\n"
        "      --array-limit 8 --dir study\n"
        "  kgrade slurm --workload extend_attention --size-class claim \\\n"
        "      --partition h100,mi300x --gres gpu:1 --dir cross\n"
        "  kgrade slurm --resubmit study",
    .exit_status = "0 written (and submitted), 2 bad usage, a refused study folder, or sbatch\n"
                   "failed (its message above)",
    .options = slurm_options_table,
    .option_count = sizeof slurm_options_table / sizeof slurm_options_table[0],
    .run = run_slurm,
};
