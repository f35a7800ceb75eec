/* The plan file, sbatch and squeue of `kgrade slurm` (slurm.h). */
#include "slurm.h"
#include "json_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static size_t count_field(const cJSON *plan, const char *key, size_t min, int *bad)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(plan, key);
    if (!cJSON_IsNumber(v) || v->valuedouble < (double)min || v->valuedouble > 1e9 ||
        v->valuedouble != (double)(size_t)v->valuedouble) {
        *bad = 1;
        return 0;
    }
    return (size_t)v->valuedouble;
}

int kg_slurm_plan_read(const char *dir, kg_slurm_plan *plan, kg_error *err)
{
    memset(plan, 0, sizeof *plan);
    snprintf(plan->dir, sizeof plan->dir, "%s", dir);
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, KG_SLURM_PLAN_FILE);
    if (access(path, F_OK) != 0)
        return kg_error_set(err, KG_ERR_NOT_FOUND, "%s: no %s here (made by `kgrade slurm`)", dir,
                            KG_SLURM_PLAN_FILE);
    int rc = kg_json_load(path, &plan->json, err);
    if (rc)
        return rc;
    int bad = !cJSON_IsObject(plan->json);
    plan->run_id = kg_json_str(plan->json, "run_id", NULL);
    plan->partition = kg_json_str(plan->json, "partition", NULL);
    plan->evaluations = count_field(plan->json, "evaluations", 1, &bad);
    plan->chunk = count_field(plan->json, "chunk", 1, &bad);
    plan->tasks = count_field(plan->json, "tasks", 1, &bad);
    plan->array_limit = count_field(plan->json, "array_limit", 0, &bad);
    if (bad || !plan->run_id || !plan->partition ||
        plan->tasks != (plan->evaluations + plan->chunk - 1) / plan->chunk) {
        kg_slurm_plan_free(plan);
        return kg_error_set(err, KG_ERR_INVALID,
                            "%s: not a plan kgrade wrote (run_id, partition, evaluations, chunk, "
                            "tasks, array_limit, with tasks = evaluations / chunk rounded up)",
                            path);
    }
    return KG_OK;
}

void kg_slurm_plan_free(kg_slurm_plan *plan)
{
    cJSON_Delete(plan->json);
    plan->json = NULL;
}

int kg_slurm_plan_write(const kg_slurm_plan *plan, kg_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", plan->dir, KG_SLURM_PLAN_FILE);
    char *text = cJSON_Print(plan->json);
    if (!text)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    size_t n = strlen(text);
    int rc = kg_write_file_atomic(path, text, n, err);
    free(text);
    return rc;
}

size_t kg_slurm_tasks_of(const kg_slurm_plan *plan, const unsigned char *missing,
                         unsigned char *tasks)
{
    size_t n = 0;
    memset(tasks, 0, plan->tasks + 1);
    for (size_t id = 1; id <= plan->evaluations; id++) {
        size_t t = (id - 1) / plan->chunk + 1;
        if (missing[id] && !tasks[t]) {
            tasks[t] = 1;
            n++;
        }
    }
    return n;
}

int kg_slurm_call(const char *const *argv, char *out, size_t size, kg_error *err)
{
    int fds[2];
    if (pipe(fds) != 0)
        return kg_error_set(err, KG_ERR_INVALID, "pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execvp(argv[0], (char *const *)argv);
        fprintf(stderr, "kgrade: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    size_t used = 0;
    for (;;) {
        char buf[512];
        ssize_t got = read(fds[0], buf, sizeof buf);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        size_t take = (size_t)got < size - 1 - used ? (size_t)got : size - 1 - used;
        memcpy(out + used, buf, take);
        used += take;
    }
    close(fds[0]);
    out[used] = '\0';
    while (used && (out[used - 1] == '\n' || out[used - 1] == '\r'))
        out[--used] = '\0';
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return kg_error_set(err, KG_ERR_INVALID, "%s: could not be started", argv[0]);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return kg_error_set(err, KG_ERR_INVALID, "%s failed (%s %d)%s", argv[0],
                            WIFEXITED(status) ? "exit status" : "signal",
                            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                            WIFEXITED(status) && WEXITSTATUS(status) == 127
                                ? ": is Slurm installed and on PATH?"
                                : "");
    return KG_OK;
}

int kg_slurm_sbatch(const char *const *extra, const char *script, char *id, size_t size,
                    kg_error *err)
{
    const char *argv[16] = {"sbatch", "--parsable"};
    size_t n = 2;
    for (size_t i = 0; extra && extra[i] && n < 14; i++)
        argv[n++] = extra[i];
    argv[n++] = script;
    argv[n] = NULL;
    int rc = kg_slurm_call(argv, id, size, err);
    if (rc)
        return rc;
    /* --parsable prints "id" or "id;cluster". */
    id[strcspn(id, ";\n")] = '\0';
    if (!id[0] || strspn(id, "0123456789") != strlen(id))
        return kg_error_set(err, KG_ERR_INVALID, "sbatch %s: expected a job id, got '%s'", script,
                            id);
    return KG_OK;
}

int kg_slurm_job_alive(const char *id)
{
    char out[4096];
    kg_error err = {0};
    const char *argv[] = {"squeue", "--noheader", "--jobs", id, "--format", "%i", NULL};
    return kg_slurm_call(argv, out, sizeof out, &err) == KG_OK && out[0] != '\0';
}

void kg_slurm_shell_quote(FILE *f, const char *text)
{
    fputc('\'', f);
    for (const char *p = text; *p; p++) {
        if (*p == '\'')
            fputs("'\\''", f);
        else
            fputc(*p, f);
    }
    fputc('\'', f);
}
