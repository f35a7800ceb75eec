/* The table-driven option parser: every option type, both spellings,
 * positionals, --help, and each usage error. */
#include "cli.h"
#include "kg_test.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct opts {
    int flag;
    const char *name;
    size_t count;
    uint64_t seed;
    double ratio;
} opts;

static const kg_option table[] = {
    {"flag", KG_OPT_FLAG, offsetof(opts, flag), NULL, "a flag"},
    {"name", KG_OPT_STRING, offsetof(opts, name), "NAME", "a string"},
    {"count", KG_OPT_SIZE, offsetof(opts, count), "N", "a size"},
    {"seed", KG_OPT_U64, offsetof(opts, seed), "N", "a seed"},
    {"ratio", KG_OPT_DOUBLE, offsetof(opts, ratio), "X", "a number"},
};
static int run_nothing(const kg_command *c, int argc, char **argv)
{
    (void)c, (void)argc, (void)argv;
    return 0;
}
static const kg_command cmd = {.name = "test",
                               .summary = "A test command.",
                               .usage = "kgrade test",
                               .exit_status = "0 ok, 3 never",
                               .options = table,
                               .option_count = 5,
                               .run = run_nothing};

static int parse(opts *o, int argc, char **argv, size_t *npos, const char **pos)
{
    *o = (opts){0};
    return kg_cli_parse(&cmd, o, argc, argv, pos, 2, npos);
}

int main(void)
{
    opts o;
    const char *pos[2];
    size_t npos;
    char *ok[] = {"test", "--flag",       "--name", "abc", "--count=12", "--seed",
                  "0x10", "--ratio=0.25", "file1",  "--",  "--file2"};
    KG_CHECK_INT(parse(&o, 11, ok, &npos, pos), 0);
    KG_CHECK_INT(o.flag, 1);
    KG_CHECK(o.name && strcmp(o.name, "abc") == 0);
    KG_CHECK_INT(o.count, 12);
    KG_CHECK_INT(o.seed, 16);
    KG_CHECK_NEAR(o.ratio, 0.25, 0);
    KG_CHECK_INT(npos, 2);
    KG_CHECK(strcmp(pos[1], "--file2") == 0);

    char *bad[][3] = {
        {"test", "--nope", NULL},   {"test", "--count", "-1"}, {"test", "--count", "12x"},
        {"test", "--ratio", "nan"}, {"test", "--name", NULL},  {"test", "--flag=1", NULL},
        {"test", "a", "b"},
    };
    int bad_argc[] = {2, 3, 3, 3, 2, 2, 3};
    for (size_t i = 0; i < sizeof bad_argc / sizeof bad_argc[0]; i++) {
        const char *one[1];
        o = (opts){0};
        KG_CHECK_MSG(kg_cli_parse(&cmd, &o, bad_argc[i], bad[i], one, 1, &npos) == -1,
                     "case %zu accepted", i);
    }
    char *help[] = {"test", "--help"};
    KG_CHECK_INT(parse(&o, 2, help, &npos, pos), 1);
    /* The help ends with the command's own exit codes. */
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    kg_cli_help(mem, &cmd);
    fclose(mem);
    KG_CHECK_CONTAINS(text, "  --ratio X                  a number\n");
    const char *tail = "\nexit status: 0 ok, 3 never\n";
    KG_CHECK(len >= strlen(tail) && strcmp(text + len - strlen(tail), tail) == 0);
    free(text);
    return kg_test_finish("test_cli");
}
