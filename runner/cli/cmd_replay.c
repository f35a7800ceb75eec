/* `kgrade replay LEDGER`: the candidates an agent checked, graded again
 * under the full rules on this device, from the sources the ledger stored
 * (docs/agents.md). */
#include "cli.h"
#include "commands.h"
#include "json_file.h"
#include "ledger.h"
#include "ledger_report.h"
#include "record_keys.h"
#include "results.h"
#include "run.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct replay_options {
    size_t stride;
    int best;
    const char *out, *device, *size_class, *svg, *baselines_dir;
} replay_options;

#define OPT(name_, type_, field_, arg_, help_)                                                     \
    {                                                                                              \
        name_, type_, offsetof(replay_options, field_), arg_, help_                                \
    }

static const kg_option replay_options_table[] = {
    OPT("stride", KG_OPT_SIZE, stride, "N", "every N-th check (and the last) (default: every one)"),
    OPT("best", KG_OPT_FLAG, best, NULL,
        "only the checks that raised the best speedup so far (the run's progress)"),
    OPT("out", KG_OPT_STRING, out, "FILE",
        "the results file, one run per check replayed (default: LEDGER.replay.jsonl)"),
    OPT("size-class", KG_OPT_STRING, size_class, "CLASS",
        "the shapes to grade on (dev: the ones the agent saw)"),
    OPT("device", KG_OPT_STRING, device, "DEVICE", "as for `kgrade run` (default: best)"),
    OPT("baselines", KG_OPT_STRING, baselines_dir, "DIR", "as for `kgrade run`"),
    OPT("svg", KG_OPT_STRING, svg, "FILE",
        "draw the replayed geomeans and the best so far, check by check"),
};

/* The start record of check `k`, for its sources. */
static const cJSON *start_of(const cJSON *records, double k)
{
    const cJSON *rec;
    cJSON_ArrayForEach(rec, records)
    {
        if (strcmp(kg_json_str(rec, "type", ""), "start") == 0 && kg_json_num(rec, "check") == k)
            return rec;
    }
    return NULL;
}

/* Which finished checks to replay: all, every N-th and the last, or those
 * that raised the best passing geomean. References into `records`. */
static cJSON *select_checks(const cJSON *records, const replay_options *o)
{
    cJSON *all = cJSON_CreateArray(), *out = cJSON_CreateArray();
    const cJSON *rec;
    cJSON_ArrayForEach(rec, records)
    {
        if (strcmp(kg_json_str(rec, "type", ""), "check") == 0)
            cJSON_AddItemReferenceToArray(all, (cJSON *)rec);
    }
    int n = cJSON_GetArraySize(all), i = 0;
    double best = 0;
    cJSON_ArrayForEach(rec, all)
    {
        const cJSON *result = cJSON_GetObjectItemCaseSensitive(rec, "result");
        double g = strcmp(kg_json_str(result, "status", ""), "passed") == 0
                       ? kg_json_num(cJSON_GetObjectItemCaseSensitive(result, "geomean"), "speedup")
                       : 0;
        int take = o->best ? g > best : (o->stride <= 1 || i % (int)o->stride == 0 || i == n - 1);
        best = g > best ? g : best;
        if (take)
            cJSON_AddItemReferenceToArray(out, (cJSON *)rec);
        i++;
    }
    cJSON_Delete(all);
    return out;
}

/* One check graded again: its sources restored under OUT.candidates/,
 * `kgrade run` on them, appended to OUT as a run of its own. */
static int replay_one(const char *ledger, const cJSON *records, const cJSON *check,
                      const replay_options *o, kg_error *err)
{
    double k = kg_json_num(check, "check");
    const cJSON *start = start_of(records, k);
    if (!start)
        return kg_error_set(err, KG_ERR_INVALID, "%s: check %.0f has no start record", ledger, k);
    char dir[PATH_MAX + 64], seed[32];
    snprintf(dir, sizeof dir, "%s.candidates/check-%06.0f", o->out, k);
    snprintf(seed, sizeof seed, "%.0f", k);
    int rc = kg_ledger_restore_sources(ledger, cJSON_GetObjectItemCaseSensitive(start, "sources"),
                                       dir, err);
    if (rc)
        return rc;
    const char *argv[24] = {"run",          "--quiet",
                            "--workload",   kg_json_str(start, "workload", "?"),
                            "--baseline",   kg_json_str(start, "baseline", "naive"),
                            "--candidate",  dir,
                            "--size-class", o->size_class,
                            "--seed",       seed,
                            "--out",        o->out};
    kg_run_args_add(argv, "--device", o->device);
    kg_run_args_add(argv, "--baselines", o->baselines_dir);
    char errors[2048];
    int exit_code = kg_run_nested(argv, errors, sizeof errors);
    fprintf(stderr, "kgrade replay: check %.0f: %s\n", k,
            exit_code == KG_EXIT_OK       ? "passed"
            : exit_code == KG_EXIT_FAILED ? "failed"
                                          : "not graded");
    if (exit_code != KG_EXIT_OK && exit_code != KG_EXIT_FAILED)
        fputs(errors, stderr);
    return KG_OK;
}

static int run_replay(const kg_command *self, int argc, char **argv)
{
    replay_options o = {.stride = 1, .size_class = "dev"};
    const char *pos[1];
    size_t npos = 0;
    int prc = kg_cli_parse(self, &o, argc, argv, pos, 1, &npos);
    if (prc)
        return prc > 0 ? KG_EXIT_OK : KG_EXIT_USAGE;
    if (npos != 1) {
        fprintf(stderr, "kgrade replay: expected one ledger file\n");
        return KG_EXIT_USAGE;
    }
    char out[PATH_MAX];
    snprintf(out, sizeof out, "%s.replay.jsonl", pos[0]);
    if (!o.out)
        o.out = out;
    size_t count;
    char head[65];
    int torn;
    kg_error err = {0};
    cJSON *records = NULL, *chosen = NULL, *replayed = NULL;
    remove(o.out); /* one replay per file: its runs are the checks replayed now */
    int rc = kg_ledger_verify(pos[0], &count, head, &torn, &err);
    if (!rc)
        rc = kg_ledger_read(pos[0], &records, &err);
    if (!rc) {
        chosen = select_checks(records, &o);
        const cJSON *check;
        cJSON_ArrayForEach(check, chosen)
        {
            if (!rc)
                rc = replay_one(pos[0], records, check, &o, &err);
        }
    }
    if (!rc)
        rc = kg_results_read(o.out, &replayed, &err);
    if (!rc) {
        kg_replay_markdown(stdout, chosen, replayed, pos[0], head);
        FILE *f = o.svg ? fopen(o.svg, "w") : NULL;
        if (f) {
            kg_replay_svg(f, chosen, replayed);
            fclose(f);
        } else if (o.svg) {
            fprintf(stderr, "kgrade replay: %s: cannot write\n", o.svg);
        }
        printf("\nResults: %s\n", o.out);
    } else {
        fprintf(stderr, "kgrade replay: %s\n", err.message);
    }
    cJSON_Delete(records);
    cJSON_Delete(chosen);
    cJSON_Delete(replayed);
    return rc ? KG_EXIT_USAGE : KG_EXIT_OK;
}

const kg_command kg_command_replay = {
    .name = "replay",
    .summary = "Grade again, under the full rules, the candidates an agent's ledger recorded.",
    .usage = "kgrade replay [options] LEDGER",
    .description =
        "Verifies the ledger, then for each check chosen (all; --stride N: every N-th and\n"
        "the last; --best: those that raised the best speedup so far) writes its sources\n"
        "back from the ledger's object store under OUT.candidates/check-N/, each file\n"
        "checked against its hash, and grades them with `kgrade run` on the dev shapes\n"
        "(or --size-class) with its full measurement settings (a check shortens them),\n"
        "seed N as the check had: one run per check, appended to OUT. Then prints each\n"
        "check's recorded answer beside the replayed grading: how the speedup evolved\n"
        "over the run. A ledger recorded on one device and replayed on another asks the\n"
        "cross-hardware question again: the report says so when the devices differ.\n"
        "docs/agents.md.",
    .exit_status = "0 replayed (whatever the gradings said), 2 bad usage, an altered ledger\n"
                   "or a source that cannot be restored",
    .options = replay_options_table,
    .option_count = sizeof replay_options_table / sizeof replay_options_table[0],
    .run = run_replay,
};
