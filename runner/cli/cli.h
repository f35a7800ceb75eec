/*
 * The command line as data (git's command table, curl's option table): each
 * command has a table of long options that both the parser and --help read,
 * so the help can never disagree with what is accepted.
 */
#ifndef KG_CLI_H
#define KG_CLI_H

#include <stddef.h>
#include <stdio.h>

/* Exit codes of every command. */
enum {
    KG_EXIT_OK = 0,
    KG_EXIT_FAILED = 1, /* something graded failed (a check, a build) */
    KG_EXIT_USAGE = 2,  /* bad usage or bad input */
};

typedef enum kg_opt_type {
    KG_OPT_FLAG,   /* int, set to 1 */
    KG_OPT_STRING, /* const char *, points into argv */
    KG_OPT_SIZE,   /* size_t, non-negative integer */
    KG_OPT_U64,    /* uint64_t */
    KG_OPT_DOUBLE, /* double */
} kg_opt_type;

typedef struct kg_option {
    const char *name; /* without the leading "--" */
    kg_opt_type type;
    size_t offset; /* offsetof the destination in the command's options struct */
    const char *metavar;
    const char *help;
} kg_option;

typedef struct kg_command {
    const char *name;
    const char *summary;
    const char *usage;       /* "kgrade run [options]" */
    const char *description; /* paragraphs printed by --help */
    const char *exit_status; /* what each exit code means for this command */
    const kg_option *options;
    size_t option_count;
    int (*run)(const struct kg_command *self, int argc, char **argv);
} kg_command;

/* Parses argv[1..] of a command into `dest`. Positional arguments are
 * collected into positional[] (at most max_positional). Returns 0 to go on,
 * 1 when --help was printed (the command should exit 0), or -1 after
 * printing a usage error to stderr (exit 2). */
int kg_cli_parse(const kg_command *cmd, void *dest, int argc, char **argv, const char **positional,
                 size_t max_positional, size_t *positional_count);

/* Prints a command's --help. */
void kg_cli_help(FILE *out, const kg_command *cmd);

#endif
