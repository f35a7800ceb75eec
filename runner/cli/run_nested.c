/* `kgrade run` called from another command (run.h): `kgrade check`,
 * `kgrade run --final`'s dev pass, `kgrade replay`. A child process of its
 * own, this same executable: nothing of one grading (a device context, a
 * vendor library's state, a crash) reaches the caller or the next. */
#include "run.h"
#include "worker.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

void kg_run_args_add(const char **argv, const char *name, const char *value)
{
    int n = 0;
    while (argv[n])
        n++;
    if (!value || n + 2 >= KG_RUN_NESTED_ARGS)
        return;
    argv[n] = name;
    argv[n + 1] = value;
    argv[n + 2] = NULL;
}

int kg_run_nested(const char *const *argv, char *errors, size_t size)
{
    const char *args[KG_RUN_NESTED_ARGS + 1] = {"kgrade"};
    for (int i = 0; i < KG_RUN_NESTED_ARGS - 1 && argv[i]; i++)
        args[i + 1] = argv[i];
    fflush(NULL);
    FILE *err_file = errors ? tmpfile() : NULL;
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, STDOUT_FILENO);
        if (err_file)
            dup2(fileno(err_file), STDERR_FILENO);
        execv(kg_worker_self_exe(), (char *const *)args);
        _exit(127);
    }
    int status = 0, rc = 127;
    if (pid > 0 && waitpid(pid, &status, 0) == pid)
        rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (err_file) {
        rewind(err_file);
        size_t n = fread(errors, 1, size - 1, err_file);
        errors[n] = '\0';
        fclose(err_file);
    }
    return rc;
}
