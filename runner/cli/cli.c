/* Option parsing and help, driven by each command's option table. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void kg_cli_help(FILE *out, const kg_command *cmd)
{
    fprintf(out, "usage: %s\n\n%s\n", cmd->usage, cmd->summary);
    if (cmd->description)
        fprintf(out, "\n%s\n", cmd->description);
    fprintf(out, "\noptions:\n");
    for (size_t i = 0; i < cmd->option_count; i++) {
        const kg_option *o = &cmd->options[i];
        char left[64];
        if (o->type == KG_OPT_FLAG)
            snprintf(left, sizeof left, "--%s", o->name);
        else
            snprintf(left, sizeof left, "--%s %s", o->name, o->metavar ? o->metavar : "VALUE");
        fprintf(out, "  %-26s %s\n", left, o->help);
    }
    fprintf(out, "  %-26s %s\n", "--help", "show this help");
    if (cmd->exit_status)
        fprintf(out, "\nexit status: %s\n", cmd->exit_status);
}

static const kg_option *find_option(const kg_command *cmd, const char *name, size_t len)
{
    for (size_t i = 0; i < cmd->option_count; i++)
        if (strlen(cmd->options[i].name) == len && strncmp(cmd->options[i].name, name, len) == 0)
            return &cmd->options[i];
    return NULL;
}

static int usage_error(const kg_command *cmd, const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "kgrade %s: ", cmd->name);
    fprintf(stderr, fmt, a, b);
    fprintf(stderr, "\n(see `kgrade %s --help`)\n", cmd->name);
    return -1;
}

static int store(const kg_command *cmd, const kg_option *o, void *dest, const char *value)
{
    char *p = (char *)dest + o->offset;
    char *end = NULL;
    errno = 0;
    switch (o->type) {
    case KG_OPT_FLAG:
        *(int *)p = 1;
        return 0;
    case KG_OPT_STRING:
        *(const char **)p = value;
        return 0;
    case KG_OPT_SIZE:
    case KG_OPT_U64: {
        if (value[0] == '-')
            return usage_error(cmd, "--%s: expected a non-negative integer, got '%s'", o->name,
                               value);
        unsigned long long v = strtoull(value, &end, 0);
        if (errno || !*value || *end)
            return usage_error(cmd, "--%s: expected a non-negative integer, got '%s'", o->name,
                               value);
        if (o->type == KG_OPT_SIZE)
            *(size_t *)p = (size_t)v;
        else
            *(uint64_t *)p = (uint64_t)v;
        return 0;
    }
    case KG_OPT_DOUBLE: {
        double v = strtod(value, &end);
        if (errno || !*value || *end || !isfinite(v))
            return usage_error(cmd, "--%s: expected a number, got '%s'", o->name, value);
        *(double *)p = v;
        return 0;
    }
    }
    return -1;
}

int kg_cli_parse(const kg_command *cmd, void *dest, int argc, char **argv, const char **positional,
                 size_t max_positional, size_t *positional_count)
{
    *positional_count = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            kg_cli_help(stdout, cmd);
            return 1;
        }
        if (strcmp(arg, "--") == 0) {
            for (i++; i < argc; i++) {
                if (*positional_count == max_positional)
                    return usage_error(cmd, "unexpected argument '%s'%s", argv[i], "");
                positional[(*positional_count)++] = argv[i];
            }
            break;
        }
        if (strncmp(arg, "--", 2) != 0) {
            if (*positional_count == max_positional)
                return usage_error(cmd, "unexpected argument '%s'%s", arg, "");
            positional[(*positional_count)++] = arg;
            continue;
        }
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const kg_option *o = find_option(cmd, name, len);
        if (!o)
            return usage_error(cmd, "unknown option '%s'%s", arg, "");
        const char *value = NULL;
        if (o->type != KG_OPT_FLAG) {
            if (eq)
                value = eq + 1;
            else if (i + 1 < argc)
                value = argv[++i];
            else
                return usage_error(cmd, "--%s needs a value (%s)", o->name,
                                   o->metavar ? o->metavar : "VALUE");
        } else if (eq) {
            return usage_error(cmd, "--%s takes no value%s", o->name, "");
        }
        if (store(cmd, o, dest, value) != 0)
            return -1;
    }
    return 0;
}
