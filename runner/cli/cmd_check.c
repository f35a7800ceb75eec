/* `kgrade check`: an agent's tool call (docs/agents.md). One candidate,
 * one workload, graded by `kgrade run` (a child process) on the `dev` shapes
 * with every check of a run, answered as one JSON object, and recorded in
 * the ledger (ledger.h). */
#include "cli.h"
#include "commands.h"
#include "json_file.h"
#include "ledger.h"
#include "record_keys.h"
#include "results.h"
#include "run.h"
#include "sha256.h"
#include "stats.h"
#include "worker.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct check_options {
    const char *candidate, *workload, *baseline, *ledger, *device, *baselines_dir;
    double budget;
    int json;
} check_options;

#define OPT(name_, type_, field_, arg_, help_)                                                     \
    {                                                                                              \
        name_, type_, offsetof(check_options, field_), arg_, help_                                 \
    }

static const kg_option check_options_table[] = {
    OPT("candidate", KG_OPT_STRING, candidate, "DIR", "the submission folder to check (required)"),
    OPT("workload", KG_OPT_STRING, workload, "W", "the workload (required)"),
    OPT("baseline", KG_OPT_STRING, baseline, "TIER", "the baseline tier (naive)"),
    OPT("json", KG_OPT_FLAG, json, NULL,
        "one JSON object on stdout (docs/agents.md has its schema)"),
    OPT("ledger", KG_OPT_STRING, ledger, "FILE",
        "the ledger this check is recorded in (default: kgrade-ledger.jsonl in the candidate "
        "folder's parent)"),
    OPT("budget", KG_OPT_DOUBLE, budget, "SECONDS",
        "time the check may take (60): each set's work on a shape gets a quarter of it, "
        "timing at most a tenth"),
    OPT("device", KG_OPT_STRING, device, "DEVICE", "as for `kgrade run` (default: best)"),
    OPT("baselines", KG_OPT_STRING, baselines_dir, "DIR", "as for `kgrade run`"),
};

/* What one check did, for its answer and its ledger record. */
typedef struct check_state {
    check_options o;
    char ledger_path[PATH_MAX];
    kg_ledger *ledger;
    size_t seq;
    char eval_path[PATH_MAX + 64];
    char run_errors[2048]; /* what `kgrade run` said on stderr */
    int run_exit;
    double wall_s;
} check_state;

/* The default ledger: beside the candidate's folder. */
static void default_ledger(const char *candidate, char *out, size_t size)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", candidate);
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        dir[--n] = '\0';
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        snprintf(out, size, "/kgrade-ledger.jsonl");
    else if (slash) {
        *slash = '\0';
        snprintf(out, size, "%s/kgrade-ledger.jsonl", dir);
    } else
        snprintf(out, size, "kgrade-ledger.jsonl");
}

/* `kgrade run` on the dev shapes: its report to /dev/null, its errors
 * kept for the answer. The seed is the check's number: public, and never
 * one `kgrade run --final` draws. */
static void grade(check_state *st)
{
    const check_options *o = &st->o;
    char seed[32], timeout[32], max_time[32];
    snprintf(seed, sizeof seed, "%zu", st->seq);
    snprintf(timeout, sizeof timeout, "%g", o->budget / 4);
    snprintf(max_time, sizeof max_time, "%g", o->budget / 10 < 1 ? o->budget / 10 : 1.0);
    const char *argv[KG_RUN_NESTED_ARGS] = {
        "run",         "--quiet",     "--size-class", "dev",       "--workload", o->workload,
        "--candidate", o->candidate,  "--baseline",   o->baseline, "--seed",     seed,
        "--out",       st->eval_path, "--timeout",    timeout,     "--max-time", max_time,
        "--min-time",  "0.1",         "--target",     "0.02",      "--no-bounds"};
    kg_run_args_add(argv, "--device", o->device);
    kg_run_args_add(argv, "--baselines", o->baselines_dir);
    /* Builds kept across checks, in the ledger's folder, which the agent
     * cannot write: NVRTC and hiprtc code (rtc_cache.h) and PoCL's. */
    char cache[PATH_MAX + 16], pocl[PATH_MAX + 32];
    snprintf(cache, sizeof cache, "%s.cache", st->ledger_path);
    snprintf(pocl, sizeof pocl, "%s/pocl", cache);
    mkdir(cache, 0700);
    mkdir(pocl, 0700);
    setenv("KGRADE_BUILD_CACHE", cache, 1);
    setenv("POCL_CACHE_DIR", pocl, 1);
    double t0 = kg_worker_now();
    st->run_exit = kg_run_nested(argv, st->run_errors, sizeof st->run_errors);
    st->wall_s = kg_worker_now() - t0;
}

static double median_of(const cJSON *set)
{
    const cJSON *samples = cJSON_GetObjectItemCaseSensitive(set, KG_KEY_SET_SAMPLES_S);
    double v[4096];
    size_t n = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, samples)
    {
        if (n < sizeof v / sizeof v[0] && cJSON_IsNumber(s))
            v[n++] = s->valuedouble;
    }
    return n ? kg_median(v, n) : -1;
}

/* The first thing a failed set's record says went wrong, where. */
static cJSON *failure_of(const cJSON *rec, const cJSON *set)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "shape", kg_json_str(rec, KG_KEY_SHAPE_SHAPE, "?"));
    cJSON_AddStringToObject(f, "status", kg_json_str(set, KG_KEY_SET_STATUS, "?"));
    cJSON_AddStringToObject(f, "error", kg_json_str(set, KG_KEY_SET_ERROR, ""));
    cJSON_AddItemToObject(
        f, "flags", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(set, KG_KEY_SET_FLAGS), 1));
    const char *log = kg_json_str(set, KG_KEY_SET_BUILD_LOG, "");
    size_t len = strlen(log);
    cJSON_AddStringToObject(f, "build_log", len > 2000 ? log + len - 2000 : log);
    const cJSON *worker = cJSON_GetObjectItemCaseSensitive(set, KG_KEY_SET_WORKER);
    if (kg_json_str(worker, KG_KEY_WORKER_STEP, NULL)) {
        cJSON_AddStringToObject(f, "crash_step", kg_json_str(worker, KG_KEY_WORKER_STEP, ""));
        cJSON_AddStringToObject(f, "output_tail",
                                kg_json_str(worker, KG_KEY_WORKER_OUTPUT_TAIL, ""));
    }
    return f;
}

/* Time spent building, checking and timing, over both sets. */
static void add_times(cJSON *answer, const cJSON *records)
{
    double build = 0, check = 0, timing = 0;
    const cJSON *rec;
    cJSON_ArrayForEach(rec, records)
    {
        if (!kg_record_is(rec, KG_RECORD_SHAPE))
            continue;
        static const char *const roles[] = {KG_KEY_SHAPE_BASELINE, KG_KEY_SHAPE_CANDIDATE};
        for (int r = 0; r < 2; r++) {
            double b = kg_json_num(cJSON_GetObjectItemCaseSensitive(rec, roles[r]),
                                   KG_KEY_SET_BUILD_SECONDS);
            build += b == b ? b : 0;
        }
        double c = kg_json_num(rec, KG_KEY_SHAPE_CHECKS_WALL_S);
        double s = kg_json_num(rec, KG_KEY_SHAPE_SAMPLING_WALL_S);
        check += c == c ? c : 0;
        timing += s == s ? s : 0;
    }
    cJSON *t = cJSON_AddObjectToObject(answer, "time_s");
    cJSON_AddNumberToObject(t, "build", build);
    cJSON_AddNumberToObject(t, "check", check);
    cJSON_AddNumberToObject(t, "timing", timing);
}

/* Each shape's outcome, the first failure, the geomean. */
static void add_shapes(cJSON *answer, const cJSON *records)
{
    cJSON *shapes = cJSON_AddArrayToObject(answer, "shapes");
    cJSON *first = NULL;
    int failed = 0;
    const cJSON *rec;
    cJSON_ArrayForEach(rec, records)
    {
        if (!kg_record_is(rec, KG_RECORD_SHAPE))
            continue;
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_CANDIDATE);
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_BASELINE);
        const cJSON *sp = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_SPEEDUP);
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "shape", kg_json_str(rec, KG_KEY_SHAPE_SHAPE, "?"));
        cJSON_AddStringToObject(s, "status", kg_json_str(c, KG_KEY_SET_STATUS, "?"));
        cJSON_AddStringToObject(s, "baseline_status", kg_json_str(b, KG_KEY_SET_STATUS, "?"));
        if (sp) {
            cJSON_AddNumberToObject(s, "speedup", kg_json_num(sp, KG_KEY_SPEEDUP_VALUE));
            cJSON_AddNumberToObject(s, "lo", kg_json_num(sp, KG_KEY_SPEEDUP_LO));
            cJSON_AddNumberToObject(s, "hi", kg_json_num(sp, KG_KEY_SPEEDUP_HI));
        }
        cJSON_AddNumberToObject(s, "candidate_median_s", median_of(c));
        cJSON_AddNumberToObject(s, "baseline_median_s", median_of(b));
        cJSON_AddItemToArray(shapes, s);
        if (kg_set_status_of(c) != KG_SET_STATUS_OK) {
            failed++;
            if (!first)
                first = failure_of(rec, c);
        } else if (kg_set_status_of(b) != KG_SET_STATUS_OK && !first) {
            first = failure_of(rec, b); /* the baseline's: no speedup for this shape */
        }
    }
    cJSON_AddItemToObject(answer, "first_failure", first ? first : cJSON_CreateNull());
    cJSON_AddNumberToObject(answer, "shapes_failed", failed);
    const cJSON *summary = cJSON_GetArrayItem(records, cJSON_GetArraySize(records) - 1);
    const cJSON *group =
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(summary, KG_KEY_SUMMARY_WORKLOADS), 0);
    if (kg_record_is(summary, KG_RECORD_SUMMARY) && group) {
        cJSON *g = cJSON_AddObjectToObject(answer, "geomean");
        cJSON_AddNumberToObject(g, "speedup", kg_json_num(group, KG_KEY_GROUP_GEOMEAN));
        cJSON_AddNumberToObject(g, "lo", kg_json_num(group, KG_KEY_GROUP_LO));
        cJSON_AddNumberToObject(g, "hi", kg_json_num(group, KG_KEY_GROUP_HI));
        cJSON_AddStringToObject(g, "failures", kg_json_str(group, KG_KEY_GROUP_POLICY, "?"));
    } else {
        cJSON_AddNullToObject(answer, "geomean");
    }
}

/* The answer: what the agent is told, and what the ledger keeps. */
static cJSON *answer_of(const check_state *st, const cJSON *records)
{
    cJSON *a = cJSON_CreateObject();
    cJSON_AddNumberToObject(a, "kgrade_check", 1);
    cJSON_AddNumberToObject(a, "evaluation", (double)st->seq);
    cJSON_AddStringToObject(a, "workload", st->o.workload);
    cJSON_AddStringToObject(a, "baseline", st->o.baseline);
    cJSON_AddStringToObject(a, "candidate", st->o.candidate);
    const cJSON *device =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(records, 0), KG_KEY_RUN_DEVICE);
    cJSON_AddStringToObject(a, "device", kg_json_str(device, KG_KEY_DEVICE_NAME, "?"));
    const char *status = st->run_exit == KG_EXIT_OK       ? "passed"
                         : st->run_exit == KG_EXIT_FAILED ? "failed"
                         : st->run_exit == 130            ? "interrupted"
                                                          : "error";
    cJSON_AddStringToObject(a, "status", status);
    if (records) {
        add_shapes(a, records);
        add_times(a, records);
    } else {
        cJSON_AddItemToObject(a, "shapes", cJSON_CreateArray());
        cJSON_AddNullToObject(a, "first_failure");
        cJSON_AddNullToObject(a, "geomean");
    }
    if (st->run_errors[0])
        cJSON_AddStringToObject(a, "messages", st->run_errors);
    cJSON_AddNumberToObject(a, "wall_s", st->wall_s);
    return a;
}

/* Without --json: the answer in a few lines. */
static void print_text(const cJSON *a, const char *ledger, const char *hash)
{
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(a, "geomean");
    printf("check %.0f: %s on %s, dev shapes, against %s: %s", kg_json_num(a, "evaluation"),
           kg_json_str(a, "workload", "?"), kg_json_str(a, "device", "?"),
           kg_json_str(a, "baseline", "?"), kg_json_str(a, "status", "?"));
    if (cJSON_IsObject(g))
        printf(", geomean %.3gx [%.3g, %.3g]", kg_json_num(g, "speedup"), kg_json_num(g, "lo"),
               kg_json_num(g, "hi"));
    printf(" (%.1f s)\n", kg_json_num(a, "wall_s"));
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(a, "shapes"))
    {
        printf("  %s: %s", kg_json_str(s, "shape", "?"), kg_json_str(s, "status", "?"));
        if (cJSON_GetObjectItemCaseSensitive(s, "speedup"))
            printf(" %.3gx [%.3g, %.3g]", kg_json_num(s, "speedup"), kg_json_num(s, "lo"),
                   kg_json_num(s, "hi"));
        printf("\n");
    }
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(a, "first_failure");
    if (cJSON_IsObject(f))
        printf("first failure: %s: %s: %s\n", kg_json_str(f, "shape", "?"),
               kg_json_str(f, "status", "?"), kg_json_str(f, "error", ""));
    if (kg_json_str(a, "messages", NULL))
        printf("%s", kg_json_str(a, "messages", ""));
    printf("ledger: %s, record %.0f (%.16s)\n", ledger, kg_json_num(a, "evaluation"), hash);
}

/* The check's first record, before anything is graded: its number, what
 * it grades and every source file. A check killed from here on (an agent
 * dropping a result it did not like) still shows. */
static int record_start(check_state *st, cJSON *sources, kg_error *err)
{
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "type", "start");
    cJSON_AddNumberToObject(rec, "check", (double)st->seq);
    cJSON_AddStringToObject(rec, "workload", st->o.workload);
    cJSON_AddStringToObject(rec, "baseline", st->o.baseline);
    cJSON_AddStringToObject(rec, "candidate", st->o.candidate);
    cJSON_AddItemReferenceToObject(rec, "sources", sources);
    char hash[65];
    int rc = kg_ledger_append(st->ledger, rec, hash, err);
    cJSON_Delete(rec);
    return rc;
}

/* The check's result record: the results file and the answer. */
static int record(check_state *st, cJSON *answer, const char *eval_name, char hash[65],
                  kg_error *err)
{
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "type", "check");
    cJSON_AddNumberToObject(rec, "check", (double)st->seq);
    char *data = NULL;
    size_t size = 0;
    kg_error ignored = {0};
    if (kg_read_file(st->eval_path, &data, &size, &ignored) == KG_OK) {
        char hex[65];
        kg_sha256_hex(data, size, hex);
        cJSON_AddStringToObject(rec, "results_file", eval_name);
        cJSON_AddStringToObject(rec, "results_sha256", hex);
        free(data);
    }
    cJSON_AddItemReferenceToObject(rec, "result", answer);
    int rc = kg_ledger_append(st->ledger, rec, hash, err);
    cJSON_Delete(rec);
    return rc;
}

/* `text` as a JSON string, in a static buffer. */
static const char *quoted(const char *text)
{
    static char out[8192];
    cJSON *s = cJSON_CreateString(text);
    char *printed = s ? cJSON_PrintUnformatted(s) : NULL;
    snprintf(out, sizeof out, "%s", printed ? printed : "\"\"");
    free(printed);
    cJSON_Delete(s);
    return out;
}

static int run_check(const kg_command *self, int argc, char **argv)
{
    check_state *st = calloc(1, sizeof *st);
    if (!st)
        return KG_EXIT_USAGE;
    st->o = (check_options){.baseline = "naive", .budget = 60};
    const char *pos[1];
    size_t npos = 0;
    int prc = kg_cli_parse(self, &st->o, argc, argv, pos, 0, &npos);
    kg_error err = {0};
    int rc = prc ? KG_OK : KG_ERR_INVALID;
    if (!prc && (!st->o.candidate || !st->o.workload || !(st->o.budget > 0)))
        kg_error_set(&err, KG_ERR_INVALID,
                     "need --candidate DIR, --workload W and a --budget above 0 (see `kgrade "
                     "check --help`)");
    else if (!prc) {
        if (st->o.ledger)
            snprintf(st->ledger_path, sizeof st->ledger_path, "%s", st->o.ledger);
        else
            default_ledger(st->o.candidate, st->ledger_path, sizeof st->ledger_path);
        rc = kg_ledger_open(st->ledger_path, &st->ledger, &err);
    }
    cJSON *sources = NULL, *records = NULL, *answer = NULL;
    char eval_name[64], hash[65] = "";
    if (!prc && !rc) {
        st->seq = kg_ledger_next_check(st->ledger);
        kg_ledger_eval_path(st->ledger, st->eval_path, sizeof st->eval_path, eval_name,
                            sizeof eval_name);
        rc = kg_ledger_store_folder(st->ledger, st->o.candidate, &sources, &err);
    }
    if (!prc && !rc)
        rc = record_start(st, sources, &err);
    if (!prc && !rc) {
        grade(st);
        kg_error ignored = {0};
        kg_results_read_last_run(st->eval_path, &records, &ignored);
        answer = answer_of(st, records);
        rc = record(st, answer, eval_name, hash, &err);
    }
    int exit_code = prc > 0 ? KG_EXIT_OK : KG_EXIT_USAGE;
    if (!prc && !rc) {
        cJSON_AddStringToObject(answer, "id", hash);
        cJSON_AddStringToObject(answer, "ledger", st->ledger_path);
        char *text = cJSON_PrintUnformatted(answer);
        if (st->o.json)
            printf("%s\n", text ? text : "{}");
        else
            print_text(answer, st->ledger_path, hash);
        free(text);
        exit_code = st->run_exit == KG_EXIT_OK || st->run_exit == KG_EXIT_FAILED ? st->run_exit
                                                                                 : KG_EXIT_USAGE;
    } else if (!prc) {
        fprintf(stderr, "kgrade check: %s\n", err.message);
        if (st->o.json) /* the harness reads one object, whatever happened */
            printf("{\"kgrade_check\":1,\"status\":\"error\",\"messages\":%s}\n",
                   quoted(err.message));
    }
    cJSON_Delete(sources);
    cJSON_Delete(records);
    cJSON_Delete(answer);
    kg_ledger_close(st->ledger);
    free(st);
    return exit_code;
}

const kg_command kg_command_check = {
    .name = "check",
    .summary =
        "Grade one candidate on a workload's dev shapes, for an agent; recorded in a ledger.",
    .usage = "kgrade check --candidate DIR --workload W [--baseline TIER] [--json] [options]",
    .description =
        "An agent's tool call. Grades the submission folder DIR on the workload's `dev`\n"
        "shapes (a few that grade in seconds) against TIER, with every check of\n"
        "`kgrade run`, and answers with one JSON object (--json) or a few lines: the\n"
        "status (passed, failed, error), each shape's status, speedup and interval, the\n"
        "first failure (shape, status, the error with the first wrong index, got and\n"
        "expected; the build log's end; the step a crashed worker was in), the geomean,\n"
        "time spent building, checking and timing, and the check's number and id.\n\n"
        "Every check is appended to the ledger (--ledger): its time, number, the hash of\n"
        "the record before it, every file of DIR (copied into FILE.objects/ under its\n"
        "SHA-256, once), the results file of the grading (FILE.evals/), and the answer.\n"
        "`kgrade ledger verify FILE` finds a record edited, deleted or moved;\n"
        "`kgrade ledger summary FILE` tells the story of the run.\n\n"
        "The seed of check N is N: what a check shows is no secret. `kgrade run --final`\n"
        "grades on shapes and seeds no check uses. docs/agents.md has the JSON schema and\n"
        "how to wire this into an agent harness.\n\n"
        "examples:\n"
        "  kgrade check --candidate work/attempt --workload softmax --json\n"
        "  kgrade check --candidate work/attempt --workload extend_attention \\\n"
        "      --baseline reference --budget 120 --ledger work/ledger.jsonl",
    .exit_status = "0 the candidate passed every shape, 1 it failed one (the answer says how),\n"
                   "2 bad usage or input (the candidate's manifest, a missing tier: the answer's\n"
                   "messages say what; recorded too)",
    .options = check_options_table,
    .option_count = sizeof check_options_table / sizeof check_options_table[0],
    .run = run_check,
};
