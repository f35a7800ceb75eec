/*
 * Worker processes. Each kernel set of an evaluation runs in a worker of
 * its own (this binary, re-executed as `kgrade __worker`), with its own
 * device context: a kernel that crashes the driver, corrupts memory or
 * never returns costs its own set's evaluation, and no candidate kernel
 * runs in a process or context that holds the baseline's buffers or the
 * reference's answers (those stay in the parent, which does the checking).
 * The parent's device context, if it has one, is never inherited (exec,
 * not a bare fork).
 *
 * The conversation: the parent writes one JSON job line, then one command
 * per line, to the worker's stdin; the worker answers each with one line on
 * file descriptor 3, some followed by raw bytes (the output it read back).
 * The commands are in cmd_worker.c. The worker's stdout and stderr (kernel
 * printf, driver messages) go to the parent, which forwards them to its
 * own stderr and keeps the last few KiB for the record of a crash.
 */
#ifndef KG_WORKER_H
#define KG_WORKER_H

#include "device.h"

#include <cjson/cJSON.h>
#include <signal.h>

/* Set from a SIGINT/SIGTERM handler: every wait returns
 * KG_WORKER_INTERRUPTED. */
extern volatile sig_atomic_t kg_worker_interrupted;

typedef struct kg_worker kg_worker;

/* How a wait for a worker ended. */
typedef enum kg_worker_wait {
    KG_WORKER_OK = 0,
    KG_WORKER_GONE,        /* the worker closed its channel: exited or died */
    KG_WORKER_TIMEOUT,     /* the deadline passed */
    KG_WORKER_INTERRUPTED, /* the run was interrupted */
} kg_worker_wait;

/* How a worker ended (kg_worker_finish). */
typedef struct kg_worker_end {
    int signal;             /* killed by this signal, else 0 */
    int exit_status;        /* its exit status, else -1 */
    int killed;             /* 1 when kgrade killed it (time limit, interrupt) */
    char output_tail[4096]; /* the end of its stdout and stderr */
    double wall_s;
} kg_worker_end;

/* Starts `exe __worker` and sends it `job` as its first line. Its output
 * is copied to stderr as it comes when `forward_output`. *out is freed by
 * kg_worker_finish. An error only when no process could be started. */
int kg_worker_start(const char *exe, const cJSON *job, int forward_output, kg_worker **out,
                    kg_error *err);

/* Sends one command line (printf-style; the newline is added). Returns
 * KG_WORKER_GONE when the worker has already closed its input. */
kg_worker_wait kg_worker_send(kg_worker *w, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Waits until `deadline` (a kg_worker_now() time) for the worker's next
 * line; *line (without the newline) stays valid until the next read. While
 * waiting, the output of every live worker is drained, so none blocks on a
 * full pipe. */
kg_worker_wait kg_worker_read_line(kg_worker *w, double deadline, const char **line);

/* Reads exactly `n` raw bytes that follow a line. */
kg_worker_wait kg_worker_read_bytes(kg_worker *w, double deadline, void *dst, size_t n);

/* Ends the worker and frees it: closes its input (a worker exits at end of
 * input), waits up to 10 s (at once when `kill_now`), kills its process
 * group if it is still there, and says how it ended. NULL is allowed. */
void kg_worker_finish(kg_worker *w, int kill_now, kg_worker_end *out);

/* The worker's process id (for messages). */
int kg_worker_pid(const kg_worker *w);

/* Monotonic seconds, the clock of every deadline. */
double kg_worker_now(void);

/* The path of the running executable (/proc/self/exe), in a static buffer. */
const char *kg_worker_self_exe(void);

#endif
