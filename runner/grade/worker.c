/* Worker processes: starting them, talking to them, ending them. */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
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

double kg_worker_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

struct kg_worker {
    pid_t pid;
    int command_fd; /* the worker's stdin */
    int reply_fd;   /* its fd 3 */
    int output_fd;  /* its stdout and stderr */
    int forward_output;
    char *buffer; /* replies read but not yet consumed */
    size_t start, len, cap;
    char tail[4096];
    size_t tail_len;
    double started;
};

/* Live workers, whose output every wait drains. */
#define MAX_LIVE 8
static kg_worker *live[MAX_LIVE];

static void track(kg_worker *w, int on)
{
    for (int i = 0; i < MAX_LIVE; i++)
        if (on ? !live[i] : live[i] == w) {
            live[i] = on ? w : NULL;
            return;
        }
}

/* Keeps the last bytes of the worker's output. */
static void keep_tail(kg_worker *w, const char *src, size_t n)
{
    size_t cap = sizeof w->tail - 1;
    if (n >= cap) {
        memcpy(w->tail, src + n - cap, cap);
        w->tail_len = cap;
    } else {
        size_t keep = w->tail_len + n > cap ? cap - n : w->tail_len;
        memmove(w->tail, w->tail + w->tail_len - keep, keep);
        memcpy(w->tail + keep, src, n);
        w->tail_len = keep + n;
    }
    w->tail[w->tail_len] = '\0';
}

static void drain_output(kg_worker *w)
{
    char chunk[16384];
    ssize_t got = read(w->output_fd, chunk, sizeof chunk);
    if (got <= 0) {
        close(w->output_fd);
        w->output_fd = -1;
        return;
    }
    keep_tail(w, chunk, (size_t)got);
    if (w->forward_output) {
        fwrite(chunk, 1, (size_t)got, stderr);
        fflush(stderr);
    }
}

/* Reads what the worker's channel holds into the buffer, draining every
 * live worker's output meanwhile. Returns OK once something arrived. */
static kg_worker_wait fill_buffer(kg_worker *w, double deadline)
{
    for (;;) {
        if (kg_worker_interrupted)
            return KG_WORKER_INTERRUPTED;
        if (w->reply_fd < 0)
            return KG_WORKER_GONE;
        double left = deadline - kg_worker_now();
        if (left <= 0)
            return KG_WORKER_TIMEOUT;
        struct pollfd fds[1 + MAX_LIVE];
        kg_worker *owner[1 + MAX_LIVE];
        int n = 0;
        fds[n] = (struct pollfd){.fd = w->reply_fd, .events = POLLIN};
        owner[n++] = NULL;
        for (int i = 0; i < MAX_LIVE; i++)
            if (live[i] && live[i]->output_fd >= 0) {
                fds[n] = (struct pollfd){.fd = live[i]->output_fd, .events = POLLIN};
                owner[n++] = live[i];
            }
        int ms = left > 0.2 ? 200 : (int)ceil(left * 1000);
        int ready = poll(fds, (nfds_t)n, ms);
        if (ready < 0 && errno != EINTR)
            return KG_WORKER_GONE;
        for (int i = 1; i < n && ready > 0; i++)
            if (fds[i].revents & (POLLIN | POLLHUP | POLLERR))
                drain_output(owner[i]);
        if (ready <= 0 || !(fds[0].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        if (w->start > 0) { /* compact */
            memmove(w->buffer, w->buffer + w->start, w->len - w->start);
            w->len -= w->start;
            w->start = 0;
        }
        if (w->cap - w->len < 65536) {
            size_t cap = w->cap ? 2 * w->cap : 131072;
            char *grown = realloc(w->buffer, cap);
            if (!grown)
                return KG_WORKER_GONE;
            w->buffer = grown;
            w->cap = cap;
        }
        ssize_t got = read(w->reply_fd, w->buffer + w->len, w->cap - w->len - 1);
        if (got <= 0) {
            close(w->reply_fd);
            w->reply_fd = -1;
            return KG_WORKER_GONE;
        }
        w->len += (size_t)got;
        return KG_WORKER_OK;
    }
}

kg_worker_wait kg_worker_read_line(kg_worker *w, double deadline, const char **line)
{
    *line = NULL;
    for (;;) {
        char *nl = w->len > w->start ? memchr(w->buffer + w->start, '\n', w->len - w->start) : NULL;
        if (nl) {
            *nl = '\0';
            *line = w->buffer + w->start;
            w->start = (size_t)(nl - w->buffer) + 1;
            return KG_WORKER_OK;
        }
        kg_worker_wait r = fill_buffer(w, deadline);
        if (r != KG_WORKER_OK)
            return r;
    }
}

kg_worker_wait kg_worker_read_bytes(kg_worker *w, double deadline, void *dst, size_t n)
{
    unsigned char *out = dst;
    while (n > 0) {
        size_t have = w->len - w->start;
        if (have) {
            size_t take = have < n ? have : n;
            memcpy(out, w->buffer + w->start, take);
            w->start += take;
            out += take;
            n -= take;
            continue;
        }
        kg_worker_wait r = fill_buffer(w, deadline);
        if (r != KG_WORKER_OK)
            return r;
    }
    return KG_WORKER_OK;
}

kg_worker_wait kg_worker_send(kg_worker *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *line = NULL;
    int n = vasprintf(&line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return KG_WORKER_GONE;
    kg_worker_wait result = KG_WORKER_OK;
    if (w->command_fd < 0)
        result = KG_WORKER_GONE;
    /* The line, then its newline; a pipe write of a long job may be
     * partial. */
    for (int part = 0; part < 2 && result == KG_WORKER_OK; part++) {
        const char *data = part ? "\n" : line;
        size_t len = part ? 1 : (size_t)n;
        for (size_t off = 0; off < len;) {
            ssize_t wrote = write(w->command_fd, data + off, len - off);
            if (wrote < 0 && errno == EINTR)
                continue;
            if (wrote <= 0) {
                result = KG_WORKER_GONE;
                break;
            }
            off += (size_t)wrote;
        }
    }
    free(line);
    return result;
}

static void child_exec(const char *exe, int command_fd, int reply_fd, int output_fd)
{
    /* Own process group: the terminal's Ctrl-C reaches the parent only,
     * which decides; and the parent can kill the whole group. */
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (dup2(command_fd, 0) < 0 || dup2(output_fd, 1) < 0 || dup2(output_fd, 2) < 0 ||
        dup2(reply_fd, 3) < 0)
        _exit(126);
    for (int fd = 4; fd < 1024; fd++)
        close(fd);
    char *const argv[] = {(char *)"kgrade", (char *)"__worker", NULL};
    execv(exe, argv);
    _exit(127);
}

int kg_worker_start(const char *exe, const cJSON *job, int forward_output, kg_worker **out,
                    kg_error *err)
{
    *out = NULL;
    signal(SIGPIPE, SIG_IGN); /* a worker that died must not take us with it */
    char *text = cJSON_PrintUnformatted(job);
    kg_worker *w = calloc(1, sizeof *w);
    int command[2] = {-1, -1}, reply[2] = {-1, -1}, output[2] = {-1, -1};
    if (!text || !w || pipe2(command, O_CLOEXEC) || pipe2(reply, O_CLOEXEC) ||
        pipe2(output, O_CLOEXEC)) {
        int saved = errno;
        free(text);
        free(w);
        for (int i = 0; i < 2; i++) {
            if (command[i] >= 0)
                close(command[i]);
            if (reply[i] >= 0)
                close(reply[i]);
            if (output[i] >= 0)
                close(output[i]);
        }
        return kg_error_set(err, KG_ERR_MEMORY, "cannot create a worker's pipes: %s",
                            strerror(saved));
    }
    w->started = kg_worker_now();
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        child_exec(exe, command[0], reply[1], output[1]);
    close(command[0]);
    close(reply[1]);
    close(output[1]);
    if (pid < 0) {
        int saved = errno;
        free(text);
        close(command[1]);
        close(reply[0]);
        close(output[0]);
        free(w);
        return kg_error_set(err, KG_ERR_DEVICE, "cannot start a worker process: %s",
                            strerror(saved));
    }
    setpgid(pid, pid); /* also here: whichever runs first */
    w->pid = pid;
    w->command_fd = command[1];
    w->reply_fd = reply[0];
    w->output_fd = output[0];
    w->forward_output = forward_output;
    track(w, 1);
    /* A worker that cannot take its job has died at once: its first read
     * says so, with how. */
    kg_worker_send(w, "%s", text);
    free(text);
    *out = w;
    return KG_OK;
}

int kg_worker_pid(const kg_worker *w)
{
    return (int)w->pid;
}

static void kill_group(pid_t pid)
{
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
}

void kg_worker_finish(kg_worker *w, int kill_now, kg_worker_end *out)
{
    memset(out, 0, sizeof *out);
    out->exit_status = -1;
    if (!w)
        return;
    if (w->command_fd >= 0)
        close(w->command_fd);
    w->command_fd = -1;
    if (kill_now) {
        kill_group(w->pid);
        out->killed = 1;
    }
    /* A worker exits at the end of its input; give it a moment (a driver's
     * teardown), draining its output, then kill it. */
    int status = 0;
    double until = kg_worker_now() + (kill_now ? 2 : 10);
    pid_t done;
    while ((done = waitpid(w->pid, &status, WNOHANG)) == 0 && kg_worker_now() < until) {
        if (w->output_fd >= 0) {
            struct pollfd p = {.fd = w->output_fd, .events = POLLIN};
            if (poll(&p, 1, 10) > 0)
                drain_output(w);
        } else {
            struct timespec pause = {0, 10 * 1000 * 1000};
            nanosleep(&pause, NULL);
        }
    }
    if (done == 0) {
        kill_group(w->pid);
        out->killed = 1;
        while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    while (w->output_fd >= 0) {
        struct pollfd p = {.fd = w->output_fd, .events = POLLIN};
        if (poll(&p, 1, 0) <= 0)
            break;
        drain_output(w);
    }
    if (WIFSIGNALED(status))
        out->signal = WTERMSIG(status);
    else if (WIFEXITED(status))
        out->exit_status = WEXITSTATUS(status);
    memcpy(out->output_tail, w->tail, sizeof out->output_tail);
    out->wall_s = kg_worker_now() - w->started;
    track(w, 0);
    if (w->reply_fd >= 0)
        close(w->reply_fd);
    if (w->output_fd >= 0)
        close(w->output_fd);
    free(w->buffer);
    free(w);
}
