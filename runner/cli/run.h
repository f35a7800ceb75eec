/* The parts of `kgrade run` (cmd_run.c), private to runner/cli:
 *   run_plan.c    what to grade: workloads, kernel sets, data folders, the
 *                 run header
 *   run_resume.c  continuing an interrupted run from its results file
 *   run_grade.c   the grading loop: one worker pair per evaluation, each
 *                 record appended as it ends
 * cmd_run.c holds the options and runs the steps in order. */
#ifndef KG_RUN_H
#define KG_RUN_H

#include "device_select.h"
#include "kernelset.h"
#include "measure.h"
#include "peaks.h"
#include "record_keys.h"
#include "results.h"
#include "shards.h" /* KG_MAX_EVALUATIONS */
#include "workload.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>

/* The command line, as run_options_table (cmd_run.c) fills it. Strings
 * point into argv, into a resumed run's header or into run_dirs. */
typedef struct run_options {
    const char *workloads;
    const char *size_class;
    const char *device;
    const char *baseline;
    const char *candidate;
    uint64_t seed;
    const char *out;
    const char *baselines_dir;
    const char *profiles_dir;
    const char *claims_dir;
    int hot;
    size_t min_samples, max_samples;
    double min_time, max_time, target;
    size_t resamples;
    double timeout;
    const char *resume;
    int quiet;
    int list;         /* --list: print the evaluations with their ids, grade nothing */
    const char *only; /* --only: the ids to grade ("3,5-7"); NULL: all */
    int continue_run; /* --continue: resume --out's run if it is there, else start it */
    int final;        /* --final: held-out shapes and seed, then the dev shapes beside them */
    int no_bounds;    /* --no-bounds: no speed-of-light bounds, no peak probes */
} run_options;

/* The options that say what a run grades and how, shared by `kgrade run`
 * and `kgrade slurm` (which hands them to every array task): each entry is
 * OPT(name, type, run_options field, metavar, help), separated by commas. */
#define KG_RUN_GRADING_OPTIONS(OPT)                                                                \
    OPT("workload", KG_OPT_STRING, workloads, "LIST",                                              \
        "comma-separated workloads to grade (default: every workload)"),                           \
        OPT("size-class", KG_OPT_STRING, size_class, "CLASS",                                      \
            "smoke, small, full, claim (the shapes claims were measured on) or dev (what kgrade "  \
            "check grades; the last two where a workload "                                         \
            "has them) (default: full on a GPU, small otherwise)"),                                \
        OPT("device", KG_OPT_STRING, device, "DEVICE",                                             \
            "position from `kgrade devices`, BACKEND:N, or part of the name (default: best)"),     \
        OPT("baseline", KG_OPT_STRING, baseline, "SET[,SET...]",                                   \
            "baseline kernel set, or several to grade the candidate against each (default: "       \
            "naive)"),                                                                             \
        OPT("candidate", KG_OPT_STRING, candidate, "SET",                                          \
            "candidate kernel set: a tier name, or a submission folder as a path (./mine) "        \
            "(default: tuned)"),                                                                   \
        OPT("seed", KG_OPT_U64, seed, "N",                                                         \
            "seed for inputs, sampled checks and bootstrap (default 1)"),                          \
        OPT("baselines", KG_OPT_STRING, baselines_dir, "DIR",                                      \
            "folder of workloads and their baseline tiers (default: Data folders, above)"),        \
        OPT("profiles", KG_OPT_STRING, profiles_dir, "DIR",                                        \
            "folder of GPU peak profiles (default: Data folders, above)"),                         \
        OPT("claims", KG_OPT_STRING, claims_dir, "DIR",                                            \
            "folder of published claims for the report (default: Data folders, above)"),           \
        OPT("hot", KG_OPT_FLAG, hot, NULL, "do not flush the cache between samples (recorded)"),   \
        OPT("min-samples", KG_OPT_SIZE, min_samples, "N", "samples per set before stopping (10)"), \
        OPT("max-samples", KG_OPT_SIZE, max_samples, "N", "cap on samples per set (1000)"),        \
        OPT("min-time", KG_OPT_DOUBLE, min_time, "SECONDS",                                        \
            "sampling time per shape before stopping (0.2)"),                                      \
        OPT("max-time", KG_OPT_DOUBLE, max_time, "SECONDS",                                        \
            "cap on sampling time per shape (10)"),                                                \
        OPT("target", KG_OPT_DOUBLE, target, "FRACTION",                                           \
            "stop when the median's 95% interval is within +-this (0.01)"),                        \
        OPT("resamples", KG_OPT_SIZE, resamples, "N", "bootstrap resamples (10000)"),              \
        OPT("timeout", KG_OPT_DOUBLE, timeout, "SECONDS",                                          \
            "time limit of each set's own work on one shape (build, checks, its samples) before "  \
            "its worker is killed and it is recorded as `timeout` (600)")

/* At most this many sets in --baseline's list. */
#define KG_MAX_BASELINES 8

/* What the grading loop reads and counts. */
typedef struct run_context {
    const run_options *opts;
    const kg_device_entry *device;
    kg_size_class cls;
    kg_results_file *results;
    int progress;
    size_t shape_index, shape_total, done_before, graded;
    double started;       /* kg_worker_now() when grading began, for the progress line */
    double graded_s;      /* wall time of the evaluations graded so far */
    size_t timed_done;    /* how many of them (the estimate of the time left) */
    const char *baseline; /* the baseline set being graded (one of --baseline's list) */
    kg_peaks peaks;       /* for the speed-of-light bound; have_peaks = 0 if unknown */
    int have_peaks;
    const cJSON *finished; /* resuming: the records already in the file */
    const cJSON *settings; /* the run header's settings, handed to each worker */
    kg_measure_settings measure;
    int candidate_failures;
    const unsigned char
        *only; /* [KG_MAX_EVALUATIONS + 1]: 1 for the ids --only grades; NULL: all */
} run_context;

/* ---- run_plan.c ---- */

/* The defaults of every option (kgrade run --help). */
void kg_run_options_defaults(run_options *o);

/* The measurement settings from the options, with their ranges checked,
 * and --size-class as a kg_size_class in *cls (-1: not given). */
int kg_run_measure_settings(const run_options *o, kg_measure_settings *m, int *cls, kg_error *err);

/* The run's data folders (data_dirs.h). */
typedef struct run_dirs {
    char baselines[PATH_MAX], profiles[PATH_MAX], claims[PATH_MAX];
} run_dirs;

/* Finds the data folders before anything is graded, so that a wrong one
 * is reported at once; o->baselines_dir then points into `d`.
 * `given_baselines` is --baselines as typed (NULL if not). Resuming, the
 * run's own baselines folder (already in o->baselines_dir) stands in for
 * the places found without being named. */
int kg_run_find_data_dirs(run_options *o, const char *given_baselines, int resuming, run_dirs *d,
                          kg_error *err);

/* Every folder of `dir` holding a workload.json, sorted, filtered by the
 * --workload list `filter` (NULL: all; an unknown name is an error), each
 * with a reference that zeros do not pass. *out (caller frees, with each
 * workload) and *count are set on success. */
int kg_run_load_workloads(const char *dir, const char *filter, kg_workload ***out, size_t *count,
                          kg_error *err);

/* What a set without a kernel for a workload means. With no --workload
 * list, every workload is graded where both sets have a kernel, the others
 * are skipped and reported (a tier that not every workload has, e.g.
 * `reference`). A workload the user named must have both: a submission
 * that leaves out a named workload fails its shapes (leaving out a
 * workload must not be silent, nor pay), and a missing tier is a usage
 * error. */
typedef enum run_missing_rule {
    KG_MISSING_IS_ERROR,
    KG_MISSING_SKIPS,
    KG_MISSING_FAILS
} run_missing_rule;

run_missing_rule kg_run_missing_rule(const run_options *o, int is_candidate, const char *set);

/* Loads every kernel manifest the run needs (o->baseline against
 * o->candidate) before anything is written, so that a typo in a submission
 * is reported at once, not after minutes of grading, and leaves no
 * half-written results file. */
/* info NULL: the device is not known here (`kgrade slurm`). */
int kg_run_check_sets(const run_options *o, const kg_device_info *info,
                      kg_workload *const *workloads, size_t n, kg_error *err);

/* KG_ERR_UNAVAILABLE ("triton unavailable (why)") when `e` is a Triton
 * set that this device or set-up cannot build, or ("library unavailable
 * (why)") a library tier whose library this device's backend cannot call;
 * else KG_OK, also with no device (info NULL). */
int kg_run_set_unavailable(const kg_kernel_entry *e, const kg_device_info *info, kg_error *err);

/* Whether the set could be built here but its own manifest says it is not
 * graded on this device (`unsupported_devices`; its toolchain is present:
 * Triton missing is not this). A submission saying so of a workload that
 * --workload names fails its shapes, as one without a kernel does. */
int kg_run_set_refuses_device(const kg_kernel_entry *e, const kg_device_info *info);

/* How many evaluations the run has: every shape of the class of every
 * workload, against each of `baselines` baseline sets. Their ids run from
 * 1 in that order (baseline-major), skipped workloads included, so that
 * the same options give the same ids on any device. */
size_t kg_run_evaluation_count(kg_workload *const *workloads, size_t n, size_t baselines,
                               kg_size_class cls);

/* The run's settings (docs/formats.md), with its run_id (a hash of them:
 * every shard of the run has the same) and --only; no results_file.
 * Caller deletes. */
cJSON *kg_run_settings(const run_options *o, kg_size_class cls, const kg_measure_settings *m,
                       size_t evaluations);

/* The run's header record; takes `profile` (may be NULL). Caller deletes. */
cJSON *kg_run_header(const run_options *o, const kg_device_info *info, cJSON *profile,
                     kg_size_class cls, const kg_measure_settings *m, size_t evaluations,
                     const char *out_path);

/* ---- run_resume.c ---- */

/* Reads the run to resume: its records (header first) into *records
 * (caller deletes), or an error when there is none or it has finished. */
int kg_run_load_resumed(const char *path, cJSON **records, kg_error *err);

/* Takes the run's options from the resumed file's header, so that
 * `kgrade run --resume FILE` alone continues it. Strings point into
 * `header` (and, for the device, into `device`, `size` bytes), which must
 * outlive the options. */
void kg_run_options_from_header(run_options *o, const cJSON *header, char *device, size_t size);

/* Names the first setting (or the device) that differs between the run in
 * the file and this invocation, in `out`; "" when they agree. */
void kg_run_resume_difference(const cJSON *old_header, const cJSON *new_header, char *out,
                              size_t size);

/* Has the resumed file already got this evaluation (a shape record of
 * ctx->baseline) or this skip (shape_index -1)? */
int kg_run_already_done(const run_context *ctx, kg_record_type type, const char *workload,
                        long shape_index);

/* ---- run_nested.c ---- */

/* At most this many arguments in a nested run's argv, the NULL included. */
#define KG_RUN_NESTED_ARGS 40

/* Appends "--name value" to the NULL-ended argv (KG_RUN_NESTED_ARGS
 * entries) when value is set. */
void kg_run_args_add(const char **argv, const char *name, const char *value);

/* Runs `kgrade run` with the NULL-ended argv (argv[0] "run") as a child
 * process of this executable, its report (stdout) thrown away and, when
 * `errors` is given, what it says on stderr kept there (size bytes)
 * instead of printed. Returns its exit status (128 + the signal that
 * ended it). */
int kg_run_nested(const char *const *argv, char *errors, size_t size);

/* ---- run_grade.c ---- */

/* SIGINT and SIGTERM stop the run between (or inside) evaluations, with
 * what was finished kept. */
void kg_run_catch_interrupts(void);

/* Is the evaluation ctx->shape_index one this invocation grades (--only)? */
int kg_run_selected(const run_context *ctx);

/* Grades every shape of one workload against ctx->baseline, appending a
 * record for each (or one for a skipped workload). Returns
 * KG_ERR_INTERRUPTED when the run was interrupted. */
int kg_run_grade_workload(run_context *ctx, const kg_workload *w, kg_error *err);

#endif
