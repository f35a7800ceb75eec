/* kgrade's commands, git-style, from a table: kg_main (main.c calls it;
 * test binaries that register their own backend call it too). */
#include "cli.h"
#include "commands.h"
#include "fingerprint.h"

#include <stdio.h>
#include <string.h>

static const kg_command *const commands[] = {
    &kg_command_devices,
    &kg_command_run,
    &kg_command_report,
    &kg_command_verify,
    &kg_command_compare,
    &kg_command_export,
    &kg_command_replicate,
    &kg_command_merge,
    &kg_command_slurm,
    &kg_command_check,
    &kg_command_ledger,
    &kg_command_replay,
    NULL,
};

static void usage(FILE *out)
{
    fprintf(out, "usage: kgrade <command> [options]\n\n"
                 "kgrade grades GPU-kernel speedup claims: it builds baseline and candidate\n"
                 "kernels, checks their output against a CPU reference, times them on the\n"
                 "device and reports speedups with confidence intervals.\n\n"
                 "commands:\n");
    for (const kg_command *const *c = commands; *c; c++)
        fprintf(out, "  %-10s %s\n", (*c)->name, (*c)->summary);
    fprintf(out, "\n`kgrade <command> --help` for a command's options. kgrade %s (%s)\n",
            kg_version(), kg_git_commit);
}

int kg_main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return KG_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return KG_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("kgrade %s (%s)\n", kg_version(), kg_git_commit);
        return KG_EXIT_OK;
    }
    for (const kg_command *const *c = commands; *c; c++)
        if (strcmp(argv[1], (*c)->name) == 0)
            return (*c)->run(*c, argc - 1, argv + 1);
    if (strcmp(argv[1], kg_command_worker.name) == 0)
        return kg_command_worker.run(&kg_command_worker, argc - 1, argv + 1);
    fprintf(stderr, "kgrade: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return KG_EXIT_USAGE;
}
