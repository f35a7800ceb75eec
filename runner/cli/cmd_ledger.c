/* `kgrade ledger verify|summary FILE`: an agent's ledger checked, and its
 * story told (ledger.h, ledger_report.h, docs/agents.md). */
#include "cli.h"
#include "commands.h"
#include "ledger.h"
#include "ledger_report.h"

#include <stdio.h>
#include <string.h>

typedef struct ledger_options {
    const char *svg;
} ledger_options;

static const kg_option ledger_options_table[] = {
    {"svg", KG_OPT_STRING, offsetof(ledger_options, svg), "FILE",
     "summary: also draw the best speedup so far against check number into FILE"},
};

static int run_ledger(const kg_command *self, int argc, char **argv)
{
    ledger_options o = {0};
    const char *pos[2];
    size_t npos = 0;
    int prc = kg_cli_parse(self, &o, argc, argv, pos, 2, &npos);
    if (prc)
        return prc > 0 ? KG_EXIT_OK : KG_EXIT_USAGE;
    int verify = npos == 2 && strcmp(pos[0], "verify") == 0;
    int summary = npos == 2 && strcmp(pos[0], "summary") == 0;
    if (!verify && !summary) {
        fprintf(stderr, "kgrade ledger: expected `verify FILE` or `summary FILE`\n");
        return KG_EXIT_USAGE;
    }
    size_t count = 0;
    char head[65];
    int torn = 0;
    kg_error err = {0};
    if (kg_ledger_verify(pos[1], &count, head, &torn, &err) != KG_OK) {
        fprintf(stderr, "kgrade ledger: %s\n", err.message);
        return KG_EXIT_FAILED;
    }
    if (torn)
        fprintf(stderr,
                "kgrade ledger: %s: a torn last line (a check killed while writing it) is "
                "not part of the ledger; the next check cuts it\n",
                pos[1]);
    if (verify) {
        printf("%s: %zu records, chained and intact; head %s\n", pos[1], count, head);
        return KG_EXIT_OK;
    }
    cJSON *records = NULL;
    if (kg_ledger_read(pos[1], &records, &err) != KG_OK) {
        fprintf(stderr, "kgrade ledger: %s\n", err.message);
        return KG_EXIT_USAGE;
    }
    kg_ledger_markdown(stdout, records, pos[1]);
    printf("\nLedger intact: %zu records, head %s.\n", count, head);
    int rc = KG_EXIT_OK;
    if (o.svg) {
        FILE *f = fopen(o.svg, "w");
        if (f) {
            kg_ledger_svg(f, records);
            rc = fclose(f) == 0 ? KG_EXIT_OK : KG_EXIT_USAGE;
        } else {
            rc = KG_EXIT_USAGE;
        }
        if (rc)
            fprintf(stderr, "kgrade ledger: %s: cannot write\n", o.svg);
    }
    cJSON_Delete(records);
    return rc;
}

const kg_command kg_command_ledger = {
    .name = "ledger",
    .summary = "Verify an agent's ledger of checks, or summarise it.",
    .usage = "kgrade ledger verify FILE\n       kgrade ledger summary FILE [--svg FIGURE.svg]",
    .description =
        "verify: every record is a JSON object, numbered 1, 2, ... in order, holding the\n"
        "SHA-256 of the line before it, and every source file and results file it names\n"
        "is stored with that hash: a record edited, deleted, added or moved is found,\n"
        "and named. Prints the number of records and the hash of the last, the head:\n"
        "published with a re-run, it pins the last record too.\n\n"
        "summary: verifies, then prints how many checks passed, the failures by reason,\n"
        "where the time went, and every check with its geomean speedup and the best so\n"
        "far, against check number and time since the first; --svg draws the same.\n"
        "docs/agents.md has the format of the ledger.",
    .exit_status = "0 intact (and summarised), 1 the ledger was altered (the message says\n"
                   "where), 2 bad usage or an unreadable file",
    .options = ledger_options_table,
    .option_count = sizeof ledger_options_table / sizeof ledger_options_table[0],
    .run = run_ledger,
};
