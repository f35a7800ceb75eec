/* `kgrade slurm`'s files and calls, private to runner/cli (docs/slurm.md):
 * the plan a study folder keeps (what `kgrade merge` and `--resubmit`
 * read), the job scripts, and sbatch/squeue run as child processes. */
#ifndef KG_SLURM_H
#define KG_SLURM_H

#include "error.h"

#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

/* The plan of one array, in its folder beside the shards. */
#define KG_SLURM_PLAN_FILE "kgrade-slurm.json"

/* What the plan says. Strings point into `json`, which it owns. */
typedef struct kg_slurm_plan {
    cJSON *json;
    char dir[4096];        /* the folder, as named */
    const char *run_id;    /* the run's settings.run_id */
    const char *partition; /* where the array runs */
    size_t evaluations;    /* the run's (ids 1..this) */
    size_t chunk;          /* evaluations per array task */
    size_t tasks;          /* array tasks 1..this; task t grades (t-1)*chunk+1 .. t*chunk */
    size_t array_limit;    /* at most this many tasks at once (0: no limit) */
} kg_slurm_plan;

/* Reads DIR/kgrade-slurm.json. KG_ERR_NOT_FOUND when there is none. */
int kg_slurm_plan_read(const char *dir, kg_slurm_plan *plan, kg_error *err);
void kg_slurm_plan_free(kg_slurm_plan *plan);

/* Writes plan->json back to its folder (atomically: a new file renamed). */
int kg_slurm_plan_write(const kg_slurm_plan *plan, kg_error *err);

/* Marks tasks[t] = 1 (tasks has plan->tasks + 1 entries) for each task
 * holding an evaluation marked in missing[1..plan->evaluations]. Returns
 * how many tasks are marked. */
size_t kg_slurm_tasks_of(const kg_slurm_plan *plan, const unsigned char *missing,
                         unsigned char *tasks);

/* Runs `argv` (argv[0] found on PATH) with its standard output read into
 * out (size bytes, trailing newline removed); its standard error goes to
 * ours. KG_OK when it exits 0, else an error naming it and its status. */
int kg_slurm_call(const char *const *argv, char *out, size_t size, kg_error *err);

/* sbatch --parsable [extra args] script: the job id in id (size bytes). */
int kg_slurm_sbatch(const char *const *extra, const char *script, char *id, size_t size,
                    kg_error *err);

/* Has job `id` (an array or one job) tasks still pending or running? 0
 * when squeue no longer knows it. */
int kg_slurm_job_alive(const char *id);

/* Writes `text` to stdout-like `f` quoted for a POSIX shell ('...'). */
void kg_slurm_shell_quote(FILE *f, const char *text);

#endif
