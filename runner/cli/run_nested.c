/* `kgrade run` called from another command in the same process (run.h):
 * `kgrade check` and `kgrade run --final`'s dev pass. */
#include "commands.h"
#include "run.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int kg_run_nested(const char *const *argv, int argc, char *errors, size_t size)
{
    fflush(NULL);
    FILE *err_file = errors ? tmpfile() : NULL;
    int out = dup(STDOUT_FILENO), err = dup(STDERR_FILENO);
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null >= 0)
        dup2(null, STDOUT_FILENO);
    if (err_file)
        dup2(fileno(err_file), STDERR_FILENO);
    int rc = kg_command_run.run(&kg_command_run, argc, (char **)argv);
    fflush(NULL);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    close(out);
    close(err);
    if (null >= 0)
        close(null);
    if (err_file) {
        rewind(err_file);
        size_t n = fread(errors, 1, size - 1, err_file);
        errors[n] = '\0';
        fclose(err_file);
    }
    return rc;
}
