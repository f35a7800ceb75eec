/* Running one evaluation in a child process, with a time limit. */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

volatile sig_atomic_t kg_worker_interrupted = 0;

const char *kg_worker_self_exe(void)
{
    static char path[4096];
    if (!path[0]) {
        ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
        path[n > 0 ? n : 0] = '\0';
    }
    return path;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A growable byte buffer for the worker's protocol lines. */
typedef struct line_buffer {
    char *data;
    size_t len, cap;
} line_buffer;

static int buffer_add(line_buffer *b, const char *src, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d)
            return -1;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, src, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

static void copy_word(char *dst, size_t size, const char *src)
{
    size_t n = strcspn(src, " \n");
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Handles each complete line of the protocol; keeps a partial last line. */
static void consume_lines(line_buffer *b, kg_worker_result *out)
{
    char *start = b->data;
    char *nl;
    while (start && (nl = memchr(start, '\n', b->len - (size_t)(start - b->data)))) {
        *nl = '\0';
        if (strncmp(start, "phase ", 6) == 0) {
            copy_word(out->role, sizeof out->role, start + 6);
            const char *step = strchr(start + 6, ' ');
            snprintf(out->step, sizeof out->step, "%s", step ? step + 1 : "");
        } else if (strncmp(start, "done ", 5) == 0) {
            int who = strncmp(start + 5, "candidate", 9) == 0;
            const char *status = strchr(start + 5, ' ');
            if (status)
                copy_word(out->done_status[who], sizeof out->done_status[who], status + 1);
        } else if (strncmp(start, "record ", 7) == 0 && !out->record) {
            out->record = cJSON_Parse(start + 7);
        } else if (strncmp(start, "error ", 6) == 0) {
            snprintf(out->message, sizeof out->message, "%s", start + 6);
            out->outcome = KG_WORKER_ERROR;
        }
        start = nl + 1;
    }
    size_t rest = b->len - (size_t)(start - b->data);
    memmove(b->data, start, rest);
    b->len = rest;
    b->data[rest] = '\0';
}

/* Keeps the last bytes of the worker's output. */
static void keep_tail(kg_worker_result *out, size_t *tail_len, const char *src, size_t n)
{
    size_t cap = sizeof out->output_tail - 1;
    if (n >= cap) {
        memcpy(out->output_tail, src + n - cap, cap);
        *tail_len = cap;
    } else {
        size_t keep = *tail_len + n > cap ? cap - n : *tail_len;
        memmove(out->output_tail, out->output_tail + *tail_len - keep, keep);
        memcpy(out->output_tail + keep, src, n);
        *tail_len = keep + n;
    }
    out->output_tail[*tail_len] = '\0';
}

static void child_exec(const char *exe, int job_fd, int result_fd, int output_fd)
{
    /* Own process group: the terminal's Ctrl-C reaches the parent only,
     * which decides; and the parent can kill the whole group. */
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (dup2(job_fd, 0) < 0 || dup2(output_fd, 1) < 0 || dup2(output_fd, 2) < 0 ||
        dup2(result_fd, 3) < 0)
        _exit(126);
    for (int fd = 4; fd < 1024; fd++)
        close(fd);
    char *const argv[] = {(char *)"kgrade", (char *)"__worker", NULL};
    execv(exe, argv);
    _exit(127);
}

static void kill_and_reap(pid_t pid, int *status)
{
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR)
        ;
}

int kg_worker_run(const char *exe, const cJSON *job, double timeout_s, int forward_output,
                  kg_worker_result *out, kg_error *err)
{
    memset(out, 0, sizeof *out);
    out->exit_status = -1;
    char *text = cJSON_PrintUnformatted(job);
    int job_pipe[2] = {-1, -1}, result_pipe[2] = {-1, -1}, output_pipe[2] = {-1, -1};
    if (!text || pipe2(job_pipe, O_CLOEXEC) || pipe2(result_pipe, O_CLOEXEC) ||
        pipe2(output_pipe, O_CLOEXEC)) {
        free(text);
        for (int i = 0; i < 2; i++) {
            if (job_pipe[i] >= 0)
                close(job_pipe[i]);
            if (result_pipe[i] >= 0)
                close(result_pipe[i]);
            if (output_pipe[i] >= 0)
                close(output_pipe[i]);
        }
        return kg_error_set(err, KG_ERR_MEMORY, "cannot create the worker's pipes: %s",
                            strerror(errno));
    }
    double t0 = now_seconds();
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        child_exec(exe, job_pipe[0], result_pipe[1], output_pipe[1]);
    close(job_pipe[0]);
    close(result_pipe[1]);
    close(output_pipe[1]);
    if (pid < 0) {
        free(text);
        close(job_pipe[1]);
        close(result_pipe[0]);
        close(output_pipe[0]);
        return kg_error_set(err, KG_ERR_DEVICE, "cannot start a worker process: %s",
                            strerror(errno));
    }
    setpgid(pid, pid); /* also here: whichever runs first */
    /* The job is small (well under a pipe's buffer): one blocking write.
     * SIGPIPE if the worker died at once is ignored by the caller. */
    size_t len = strlen(text);
    ssize_t wrote = write(job_pipe[1], text, len);
    (void)wrote;
    close(job_pipe[1]);
    free(text);

    line_buffer lines = {0};
    size_t tail_len = 0;
    int open_fds = 2, timed_out = 0, interrupted = 0, status = 0;
    struct pollfd fds[2] = {{.fd = result_pipe[0], .events = POLLIN},
                            {.fd = output_pipe[0], .events = POLLIN}};
    double deadline = t0 + timeout_s;
    while (open_fds > 0) {
        if (kg_worker_interrupted) {
            interrupted = 1;
            break;
        }
        double left = deadline - now_seconds();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        int ms = left > 0.2 ? 200 : (int)ceil(left * 1000);
        int n = poll(fds, 2, ms);
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2 && n > 0; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char chunk[16384];
            ssize_t got = read(fds[i].fd, chunk, sizeof chunk);
            if (got <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
            } else if (i == 0) {
                if (buffer_add(&lines, chunk, (size_t)got) == 0)
                    consume_lines(&lines, out);
            } else {
                keep_tail(out, &tail_len, chunk, (size_t)got);
                if (forward_output) {
                    fwrite(chunk, 1, (size_t)got, stderr);
                    fflush(stderr);
                }
            }
        }
    }
    for (int i = 0; i < 2; i++)
        if (fds[i].fd >= 0)
            close(fds[i].fd);
    free(lines.data);
    if (timed_out || interrupted) {
        kill_and_reap(pid, &status);
    } else {
        /* Both pipes closed: the worker is exiting. Give it a moment, then
         * kill it (a driver stuck in teardown is not our evaluation). */
        double until = now_seconds() + 10;
        pid_t done;
        while ((done = waitpid(pid, &status, WNOHANG)) == 0 && now_seconds() < until) {
            struct timespec pause = {0, 10 * 1000 * 1000};
            nanosleep(&pause, NULL);
        }
        if (done == 0)
            kill_and_reap(pid, &status);
    }
    out->wall_s = now_seconds() - t0;
    if (WIFSIGNALED(status))
        out->signal = WTERMSIG(status);
    else if (WIFEXITED(status))
        out->exit_status = WEXITSTATUS(status);

    if (interrupted) {
        out->outcome = KG_WORKER_INTERRUPTED;
        snprintf(out->message, sizeof out->message, "interrupted");
    } else if (timed_out) {
        out->outcome = KG_WORKER_TIMEOUT;
        snprintf(out->message, sizeof out->message,
                 "no result after %.0f s (the time limit, --timeout), during %s %s; killed",
                 timeout_s, out->role[0] ? out->role : "start-up", out->step);
    } else if (out->outcome == KG_WORKER_ERROR) {
        /* message already set */
    } else if (out->record && out->exit_status == 0) {
        out->outcome = KG_WORKER_FINISHED;
    } else {
        out->outcome = KG_WORKER_CRASHED;
        if (out->signal)
            snprintf(out->message, sizeof out->message,
                     "the worker died of signal %d (%s) during %s %s", out->signal,
                     strsignal(out->signal), out->role[0] ? out->role : "start-up", out->step);
        else
            snprintf(out->message, sizeof out->message,
                     "the worker exited with status %d without a result, during %s %s",
                     out->exit_status, out->role[0] ? out->role : "start-up", out->step);
    }
    if (out->outcome != KG_WORKER_FINISHED) {
        cJSON_Delete(out->record);
        out->record = NULL;
    }
    return KG_OK;
}
