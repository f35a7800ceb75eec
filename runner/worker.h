/*
 * Worker processes: every evaluation runs in a fresh process (this binary,
 * re-executed as `kgrade __worker`), so a kernel that crashes the driver,
 * corrupts memory or never returns costs that evaluation and nothing else.
 * The worker opens its own device context; the parent's context, if it has
 * one, is never inherited (exec, not a bare fork).
 *
 * Protocol: the parent writes one JSON job to the worker's stdin. The worker
 * writes lines to file descriptor 3:
 *   phase <role> <step>     before each step (role: baseline, candidate, both)
 *   done <role> <status>    when a set's first checks are over
 *   record <json>           the finished shape record, once
 *   error <message>         the evaluation could not be made (bad input)
 * and its stdout and stderr (kernel printf, driver messages, progress) go to
 * the parent's stderr, the last few KiB kept for the record of a crash.
 */
#ifndef KG_WORKER_H
#define KG_WORKER_H

#include "backend.h"

#include <cjson/cJSON.h>
#include <signal.h>

typedef enum kg_worker_outcome {
    KG_WORKER_FINISHED = 0, /* a record came back */
    KG_WORKER_ERROR,        /* the worker reported an error line */
    KG_WORKER_CRASHED,      /* died (signal, or exit without a record) */
    KG_WORKER_TIMEOUT,      /* killed at the time limit */
    KG_WORKER_INTERRUPTED,  /* killed because the run was interrupted */
} kg_worker_outcome;

typedef struct kg_worker_result {
    kg_worker_outcome outcome;
    cJSON *record;           /* FINISHED: the record, owned by the caller */
    char message[1024];      /* ERROR: the worker's message; else what happened */
    int signal;              /* CRASHED by a signal: its number, else 0 */
    int exit_status;         /* CRASHED by exit: the status, else -1 */
    char role[16];           /* the last phase reported: "candidate" ... */
    char step[32];           /* ... and "check" */
    char done_status[2][32]; /* per role (0 baseline, 1 candidate): "" or the status after its first
                                checks */
    char output_tail[4096];  /* the end of the worker's stdout and stderr */
    double wall_s;
} kg_worker_result;

/* Set from a SIGINT/SIGTERM handler: kg_worker_run kills the worker and
 * returns KG_WORKER_INTERRUPTED. */
extern volatile sig_atomic_t kg_worker_interrupted;

/* Runs one job in a worker and waits for it, at most `timeout_s` seconds
 * of wall time. `exe` is this binary (kg_worker_self_exe). The worker's
 * output is copied to stderr as it comes when `forward_output`. Returns
 * KG_OK with *out filled whatever the worker did; an error only when no
 * worker could be started. */
int kg_worker_run(const char *exe, const cJSON *job, double timeout_s, int forward_output,
                  kg_worker_result *out, kg_error *err);

/* The path of the running executable (/proc/self/exe), in a static buffer. */
const char *kg_worker_self_exe(void);

#endif
