/* `kgrade merge`: the shards of one run (kgrade run --only, kgrade slurm)
 * into one results file, checked to be of one run (shards.h). */
#include "cli.h"
#include "commands.h"
#include "data_dirs.h"
#include "id_list.h"
#include "json_file.h"
#include "markdown.h"
#include "record_keys.h"
#include "results.h"
#include "shards.h"
#include "slurm.h"
#include "summary.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* At most this many shard files on one command line. */
#define KG_MERGE_MAX_SHARDS 8192

enum { KG_EXIT_MISSING = 3 };

typedef struct merge_options {
    const char *out;
    const char *claims_dir;
    int quiet;
} merge_options;

#define OPT(name_, type_, field_, arg_, help_)                                                     \
    {                                                                                              \
        name_, type_, offsetof(merge_options, field_), arg_, help_                                 \
    }

static const kg_option merge_options_table[] = {
    OPT("out", KG_OPT_STRING, out, "FILE",
        "the merged results file (required); replaced if it exists, never appended to"),
    OPT("claims", KG_OPT_STRING, claims_dir, "DIR",
        "folder of published claims for the report (default: as `kgrade report`)"),
    OPT("quiet", KG_OPT_FLAG, quiet, NULL,
        "no report on stdout (what was repaired or is missing still goes to stderr)"),
};

/* Writes the merged run and its summary to a new file renamed onto
 * `path`, so that a reader never sees half of it and a merge run again
 * replaces the last one. */
static int write_merged(const char *path, cJSON *records, kg_error *err)
{
    char tmp[PATH_MAX + 16];
    snprintf(tmp, sizeof tmp, "%s.merging", path);
    unlink(tmp);
    kg_results_file *f = NULL;
    int rc = kg_results_open(tmp, &f, err);
    const cJSON *rec;
    cJSON_ArrayForEach(rec, records)
    {
        /* As read, every sample exactly as the shard has it. */
        cJSON *exact = rc ? NULL : cJSON_Duplicate(rec, 1);
        kg_json_make_numbers_exact(exact ? exact->child : NULL);
        if (!rc)
            rc = exact ? kg_results_append(f, exact, err)
                       : kg_error_set(err, KG_ERR_MEMORY, "out of memory");
        cJSON_Delete(exact);
    }
    kg_results_close(f);
    if (!rc && rename(tmp, path) != 0)
        rc = kg_error_set(err, KG_ERR_INVALID, "%s: cannot replace it with %s", path, tmp);
    if (rc)
        unlink(tmp);
    return rc;
}

/* Which array tasks hold the missing evaluations, when the shards sit in a
 * `kgrade slurm` folder of this run. */
static void say_tasks_to_resubmit(const char *first_shard, const kg_merged *m, const char *run_id)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", first_shard);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    char full[PATH_MAX];
    if (realpath(dir, full))
        snprintf(dir, sizeof dir, "%s", full);
    kg_slurm_plan plan;
    kg_error err = {0};
    if (kg_slurm_plan_read(dir, &plan, &err) != KG_OK)
        return;
    if (strcmp(plan.run_id, run_id) == 0 && plan.evaluations == m->evaluations) {
        unsigned char *tasks = calloc(plan.tasks + 1, 1);
        char list[1024];
        if (tasks && kg_slurm_tasks_of(&plan, m->missing, tasks)) {
            kg_id_list_format(tasks, plan.tasks, list, sizeof list);
            fprintf(stderr,
                    "kgrade merge: array tasks to run again: %s (`kgrade slurm --resubmit %s` "
                    "submits only those, then merges again)\n",
                    list, dir);
        }
        free(tasks);
    }
    kg_slurm_plan_free(&plan);
}

/* Notes, missing evaluations and the report. */
static void tell(const merge_options *o, const char *first_shard, const kg_merged *m,
                 const cJSON *settings, const char *claims_dir)
{
    const cJSON *n;
    cJSON_ArrayForEach(n, m->notes) fprintf(stderr, "kgrade merge: %s\n", n->valuestring);
    if (!o->quiet) {
        kg_report_markdown(stdout, m->records, claims_dir);
        printf("\nResults: %s\n", o->out);
    }
    if (m->missing_count) {
        char ids[1024];
        kg_id_list_format(m->missing, m->evaluations, ids, sizeof ids);
        fprintf(stderr,
                "kgrade merge: %zu of %zu evaluations missing: %s (their shards were cut short "
                "or never ran)\n",
                m->missing_count, m->evaluations, ids);
        say_tasks_to_resubmit(first_shard, m, kg_json_str(settings, KG_KEY_SETTINGS_RUN_ID, ""));
    }
}

static int candidate_failures(const cJSON *records)
{
    int failures = 0;
    const cJSON *rec;
    cJSON_ArrayForEach(rec, records)
    {
        if (kg_record_is(rec, KG_RECORD_SHAPE))
            failures +=
                kg_set_status_of(cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_CANDIDATE)) !=
                KG_SET_STATUS_OK;
    }
    return failures;
}

static int run_merge(const kg_command *self, int argc, char **argv)
{
    merge_options o = {0};
    static const char *shards[KG_MERGE_MAX_SHARDS];
    size_t n = 0;
    int prc = kg_cli_parse(self, &o, argc, argv, shards, KG_MERGE_MAX_SHARDS, &n);
    if (prc)
        return prc > 0 ? KG_EXIT_OK : KG_EXIT_USAGE;
    if (n == 0 || !o.out) {
        fprintf(stderr, "kgrade merge: expected shard files and --out FILE (see `kgrade merge "
                        "--help`)\n");
        return KG_EXIT_USAGE;
    }
    kg_error err = {0};
    char claims_dir[PATH_MAX];
    if (kg_data_dir_find(KG_DATA_CLAIMS, o.claims_dir, "--claims", claims_dir, sizeof claims_dir,
                         NULL, &err) != KG_OK) {
        fprintf(stderr, "kgrade merge: %s\n", err.message);
        return KG_EXIT_USAGE;
    }
    kg_merged m;
    int rc = kg_shards_merge(shards, n, &m, &err);
    if (rc == KG_OK) {
        cJSON *settings =
            cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(m.records, 0), KG_KEY_RUN_SETTINGS);
        cJSON_AddStringToObject(settings, KG_KEY_SETTINGS_RESULTS_FILE, o.out);
        double resamples = kg_json_num(settings, KG_KEY_SETTINGS_RESAMPLES);
        cJSON_AddItemToArray(m.records, kg_summary_compute(m.records,
                                                           resamples >= 100 && resamples <= 1e7
                                                               ? (size_t)resamples
                                                               : KG_DEFAULT_RESAMPLES,
                                                           kg_results_settings_seed(settings, 1)));
        rc = write_merged(o.out, m.records, &err);
        if (rc == KG_OK)
            tell(&o, shards[0], &m, settings, claims_dir);
    }
    if (rc) {
        fprintf(stderr, "kgrade merge: %s\n", err.message);
        kg_merged_free(&m);
        return KG_EXIT_USAGE;
    }
    int exit_code = m.missing_count                 ? KG_EXIT_MISSING
                    : candidate_failures(m.records) ? KG_EXIT_FAILED
                                                    : KG_EXIT_OK;
    kg_merged_free(&m);
    return exit_code;
}

const kg_command kg_command_merge = {
    .name = "merge",
    .summary = "Merge the shards of one run (kgrade run --only, kgrade slurm) into one file.",
    .usage = "kgrade merge [options] --out RESULTS SHARD.jsonl [SHARD.jsonl ...]",
    .description =
        "Reads each shard (a results file of `kgrade run --only IDS`), checks that all\n"
        "are of one run, and writes one results file whose report is that of a single\n"
        "process grading the same evaluations, then prints the report.\n\n"
        "Refused, naming both files and the first difference: a shard of another run\n"
        "(settings other than results_file and only, kgrade's version or commit, the\n"
        "device's name, backend or driver: one merged file holds one device; merge each\n"
        "device's shards apart and set them side by side with `kgrade compare`), kernel\n"
        "sources that differ between shards, an evaluation id that stands for another\n"
        "shape elsewhere. Repaired, with a note on stderr and under the header's\n"
        "merged.notes: a shard with no run header (its task never began), torn or\n"
        "damaged lines, records whose evaluation id is out of range or not the shard's,\n"
        "and duplicates: the shards are taken in the order of their names and the\n"
        "first copy of an evaluation is kept.\n\n"
        "Evaluations no shard holds are listed (merged.missing), with the array tasks\n"
        "that hold them when the shards are in a `kgrade slurm` folder; `kgrade slurm\n"
        "--resubmit DIR` runs those again. docs/slurm.md has the whole procedure.\n\n"
        "examples:\n"
        "  kgrade run --only 1-4 --out a.jsonl; kgrade run --only 5-7 --out b.jsonl\n"
        "  kgrade merge a.jsonl b.jsonl --out run.jsonl\n"
        "  kgrade merge study/shard-*.jsonl --out study/results.jsonl",
    .exit_status = "0 merged, every evaluation present and every candidate passed; 1 some\n"
                   "candidate failed; 2 bad usage, an unreadable file or a shard refused;\n"
                   "3 merged, but evaluations are missing",
    .options = merge_options_table,
    .option_count = sizeof merge_options_table / sizeof merge_options_table[0],
    .run = run_merge,
};
