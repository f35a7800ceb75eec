/*
 * libFuzzer target: the integer expression parser and evaluator (expr.h).
 * The input is the expression text (up to its first NUL), so a corpus file
 * is a plain expression. Each parsed expression is evaluated with three
 * symbol tables: typical shape values, int64 extremes, and one that gives
 * every symbol the expression uses a value picked from its name. Checked
 * besides the sanitizers:
 *   - a failure leaves no expression and says where, at a position inside
 *     the text, in a message ending " at position N";
 *   - the expression keeps its text, and the visitor reports each symbol
 *     at a position where the text spells it;
 *   - with every symbol defined, evaluation never reports an unknown one;
 *   - kg_expr_eval_text agrees with kg_expr_parse + kg_expr_eval.
 */
#include "fuzz_common.h"

#include "expr.h"

#include <inttypes.h>

static void check(int ok, const char *what, const char *text)
{
    if (!ok) {
        fprintf(stderr, "fuzz_expr: %s for \"%s\"\n", what, text);
        abort();
    }
}

static void check_error(const kg_error *err, const char *text)
{
    /* Every message ends in " at position N", N within the text. */
    const char *at = strstr(err->message, " at position ");
    while (at && strstr(at + 1, " at position "))
        at = strstr(at + 1, " at position ");
    char *end = NULL;
    unsigned long long position = at ? strtoull(at + 13, &end, 10) : 0;
    check(at && end && *end == '\0' && end != at + 13, "error message without its position", text);
    check(position <= strlen(text), "error position past the end", text);
}

static const int64_t interesting[] = {0, 1, -1, 2, 7, 64, 1000, INT32_MAX, INT64_MAX, INT64_MIN};
#define INTERESTING_COUNT (sizeof interesting / sizeof interesting[0])

typedef struct visit_state {
    const char *text;
    size_t length;
    kg_symtab *table;
    int full;
} visit_state;

static int visit(const char *name, size_t position, void *user)
{
    visit_state *s = user;
    size_t n = strlen(name);
    check(n > 0 && n < KG_SYMBOL_NAME_MAX, "symbol name length", s->text);
    check(position + n <= s->length && memcmp(s->text + position, name, n) == 0, "symbol position",
          s->text);
    uint32_t hash = 2166136261u;
    for (size_t i = 0; i < n; i++)
        hash = (hash ^ (unsigned char)name[i]) * 16777619u;
    if (kg_symtab_set(s->table, name, interesting[hash % INTERESTING_COUNT]) != 0)
        s->full = 1;
    return 0;
}

static void evaluate(const kg_expr *e, const kg_symtab *table, const char *text, int all_known)
{
    int64_t value = 0, again = 0;
    kg_error err, err_again;
    int rc = kg_expr_eval(e, table, &value, &err);
    if (rc != 0) {
        check_error(&err, text);
        check(!all_known || strstr(err.message, "unknown symbol") == NULL,
              "unknown symbol reported with every symbol defined", text);
    }
    int rc_again = kg_expr_eval_text(text, table, &again, &err_again);
    check(rc == rc_again && (rc != 0 || value == again), "eval_text disagrees with parse + eval",
          text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = kg_fuzz_string(data, size);
    size_t length = strlen(text);
    kg_expr *e = (kg_expr *)1;
    kg_error err;
    if (kg_expr_parse(text, &e, &err) != 0) {
        check(e == NULL, "failed parse left an expression", text);
        check_error(&err, text);
        free(text);
        return 0;
    }
    check(strcmp(kg_expr_text(e), text) == 0, "expression lost its text", text);

    kg_symtab typical, extremes, named;
    kg_symtab_init(&typical);
    kg_symtab_set(&typical, "n", 1000);
    kg_symtab_set(&typical, "d", 64);
    kg_symtab_set(&typical, "rows", 7);
    kg_symtab_set(&typical, "cols", 33);
    kg_symtab_set(&typical, "cuda_cc", 90);
    kg_symtab_set(&typical, "is_gpu", 1);
    kg_symtab_init(&extremes);
    kg_symtab_set(&extremes, "n", INT64_MAX);
    kg_symtab_set(&extremes, "d", INT64_MIN);
    kg_symtab_set(&extremes, "rows", -1);
    kg_symtab_set(&extremes, "cols", 0);
    kg_symtab_set(&extremes, "cuda_cc", 0);
    kg_symtab_set(&extremes, "is_gpu", 0);
    kg_symtab_init(&named);
    visit_state state = {.text = text, .length = length, .table = &named};
    check(kg_expr_visit_symbols(e, visit, &state) == 0, "visitor result", text);

    evaluate(e, &typical, text, 0);
    evaluate(e, &extremes, text, 0);
    evaluate(e, &named, text, !state.full);
    kg_expr_free(e);
    free(text);
    return 0;
}
