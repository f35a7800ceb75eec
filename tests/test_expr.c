/* The shape-expression evaluator: values, precedence and C truncation on a
 * table of good expressions; message and position on a table of bad ones;
 * symbol visiting; the symbol table. */
#include "expr.h"
#include "kg_test.h"

#include <stdint.h>
#include <stdlib.h>

typedef struct good_case {
    const char *text;
    int64_t want;
} good_case;

/* Evaluated with n = 1000, m = 7, k = -3, big = INT64_MAX, small = INT64_MIN. */
static const good_case good_cases[] = {
    {"0", 0},
    {"42", 42},
    {"9223372036854775807", INT64_MAX},
    {"n", 1000},
    {"  n  ", 1000},
    {"\tn\n+\r1 ", 1001},
    {"1+2*3", 7},
    {"(1+2)*3", 9},
    {"2*3+1", 7},
    {"10-3-2", 5},
    {"100/10/5", 2},
    {"100/(10/5)", 50},
    {"2*3%4", 2},
    {"17%5*3", 6},
    {"-5", -5},
    {"--5", 5},
    {"+5", 5},
    {"-+-5", 5},
    {"- (2+3)", -5},
    {"-2*3", -6},
    {"2*-3", -6},
    {"1 - -1", 2},
    {"-n + m", -993},
    {"k", -3},
    {"n*m+k", 6997},
    {"7/2", 3},
    {"-7/2", -3},
    {"7/-2", -3},
    {"-7/-2", 3},
    {"7%3", 1},
    {"-7%3", -1},
    {"7%-3", 1},
    {"-7%-3", -1},
    {"k/2", -1},
    {"k%2", -1},
    {"cdiv(7,2)", 4},
    {"cdiv(8,2)", 4},
    {"cdiv(0,5)", 0},
    {"cdiv(1,5)", 1},
    {"cdiv(-7,2)", -3},
    {"cdiv(n, 256)", 4},
    {"cdiv(big, 2)", INT64_MAX / 2 + 1},
    {"cdiv(big, 1)", INT64_MAX},
    {"cdiv( n , m )", 143},
    {"min(3,1,2)", 1},
    {"max(3,1,2)", 3},
    {"min(n, m)", 7},
    {"max(k, -10)", -3},
    {"max(1,2,3,4,5,6,7,8,9)", 9},
    {"min(max(n, 5), cdiv(n, 3))", 334},
    {"cdiv(max(n, m) * 2, min(m, 4) + 1)", 400},
    {"if(1, 2, 3)", 2},
    {"if(0, 2, 3)", 3},
    {"if(ge(n, 1000), 128, 64)", 128},
    {"if(gt(n, 1000), 128, 64)", 64},
    {"if(lt(m, 8), m, n / 0)", 7}, /* the branch not taken is not evaluated */
    {"eq(m, 7) + ne(m, 7) * 10 + lt(k, 0) * 100 + le(7, m) * 1000", 1101},
    {"pow2ceil(13)", 16},
    {"pow2ceil(128)", 128},
    {"pow2ceil(1)", 1},
    {"pow2ceil(0)", 1},
    {"pow2ceil(k)", 1},
    {"((((n))))", 1000},
    {"n_1", 11},
    {"_under", 12},
    {"maxim", 13},
    {"big", INT64_MAX},
    {"small", INT64_MIN},
    {"big + small", -1},
    {"-big - 1", INT64_MIN},
    {"small / 1", INT64_MIN},
    {"small % 1", 0},
    {"small / 2", INT64_MIN / 2},
    {"big * 1", INT64_MAX},
    {"small * 1", INT64_MIN},
    {"1+1+1+1+1+1+1+1+1+1", 10},
    {"2*2*2*2*2*2*2*2*2*2", 1024},
};

typedef struct bad_case {
    const char *text;
    const char *message;
    size_t position;
} bad_case;

/* Evaluated with the same symbols as good_cases. */
static const bad_case bad_cases[] = {
    {"", "empty expression", 0},
    {"   ", "empty expression", 0},
    {"(1+2", "expected ')' at position 4", 4},
    {"(n + m  ", "expected ')' at position 8", 8},
    {"(1+2))", "found unmatched ')' at position 5", 5},
    {"rowz", "unknown symbol 'rowz' at position 0", 0},
    {"n + rowz * 2", "unknown symbol 'rowz' at position 4", 4},
    {"ceil(n)", "unknown function 'ceil' at position 0", 0},
    {"1 + foo (2)", "unknown function 'foo' at position 4", 4},
    {"cdiv(1,2,3)", "cdiv takes 2 arguments, got 3 at position 0", 0},
    {"cdiv(1)", "cdiv takes 2 arguments, got 1 at position 0", 0},
    {"2*cdiv()", "cdiv takes 2 arguments, got 0 at position 2", 2},
    {"min(1)", "min takes at least 2 arguments, got 1 at position 0", 0},
    {"max()", "max takes at least 2 arguments, got 0 at position 0", 0},
    {"if(1, 2)", "if takes 3 arguments, got 2 at position 0", 0},
    {"pow2ceil(1, 2)", "pow2ceil takes 1 argument, got 2 at position 0", 0},
    {"lt(1)", "lt takes 2 arguments, got 1 at position 0", 0},
    {"if(0, 1, n / 0)", "division by zero at position 11", 11},
    {"pow2ceil(big)", "integer overflow at position 0", 0},
    {"cdiv", "expected '(' after a function name at position 4", 4},
    {"min + 1", "expected '(' after a function name at position 4", 4},
    {"min(1 2)", "expected ',' or ')' at position 6", 6},
    {"min(1,)", "expected an operand", 6},
    {"100/0", "division by zero at position 3", 3},
    {"n / (m - 7)", "division by zero at position 2", 2},
    {"n % 0", "modulo by zero at position 2", 2},
    {"cdiv(n, 0)", "cdiv expects a positive divisor, got 0 at position 0", 0},
    {"cdiv(n, k)", "cdiv expects a positive divisor, got -3 at position 0", 0},
    {"big+1", "integer overflow at position 3", 3},
    {"small-1", "integer overflow at position 5", 5},
    {"big*2", "integer overflow at position 3", 3},
    {"small*-1", "integer overflow at position 5", 5},
    {"small/-1", "integer overflow at position 5", 5},
    {"small%-1", "integer overflow at position 5", 5},
    {"-small", "integer overflow at position 0", 0},
    {"1 + -small", "integer overflow at position 4", 4},
    {"9223372036854775808", "does not fit in int64 at position 0", 0},
    {"1 + 99999999999999999999999", "does not fit in int64 at position 4", 4},
    /* A literal, not an expression: the minus applies to 2^63. */
    {"-9223372036854775808", "does not fit in int64 at position 1", 1},
    {"1 $ 2", "unexpected character '$' at position 2", 2},
    {"12$", "unexpected character '$' at position 2", 2},
    {"(1 $", "unexpected character '$' at position 3", 3},
    {"n\x01", "unexpected character '\\x01' at position 1", 1},
    {"1 2", "found trailing input at position 2", 2},
    {"2n", "found trailing input at position 1", 1},
    {"1 +", "expected an operand (integer, symbol, function call or '(') at position 3", 3},
    {"*2", "expected an operand", 0},
    {"1 + )", "expected an operand", 4},
    {"()", "expected an operand", 1},
    {"-", "expected an operand", 1},
    {"a_symbol_name_that_is_much_too_long_to_fit_in_the_symbol_table_xx",
     "is longer than 63 characters at position 0", 0},
};

static void set_symbols(kg_symtab *t)
{
    kg_symtab_init(t);
    KG_CHECK_INT(kg_symtab_set(t, "n", 1000), 0);
    KG_CHECK_INT(kg_symtab_set(t, "m", 7), 0);
    KG_CHECK_INT(kg_symtab_set(t, "k", -3), 0);
    KG_CHECK_INT(kg_symtab_set(t, "big", INT64_MAX), 0);
    KG_CHECK_INT(kg_symtab_set(t, "small", INT64_MIN), 0);
    KG_CHECK_INT(kg_symtab_set(t, "n_1", 11), 0);
    KG_CHECK_INT(kg_symtab_set(t, "_under", 12), 0);
    KG_CHECK_INT(kg_symtab_set(t, "maxim", 13), 0);
}

static void test_good_cases(const kg_symtab *symbols)
{
    for (size_t i = 0; i < sizeof good_cases / sizeof good_cases[0]; i++) {
        const good_case *c = &good_cases[i];
        int64_t value = 0;
        kg_error err = {0};
        int rc = kg_expr_eval_text(c->text, symbols, &value, &err);
        KG_CHECK_MSG(rc == 0, "\"%s\": %s", c->text, err.message);
        KG_CHECK_MSG(value == c->want, "\"%s\" = %lld, want %lld", c->text, (long long)value,
                     (long long)c->want);

        /* Parsed once, evaluated twice: the tree is reusable and the text kept. */
        kg_expr *e = NULL;
        KG_CHECK_INT(kg_expr_parse(c->text, &e, &err), 0);
        if (e != NULL) {
            KG_CHECK(strcmp(kg_expr_text(e), c->text) == 0);
            for (int round = 0; round < 2; round++) {
                value = 0;
                KG_CHECK_INT(kg_expr_eval(e, symbols, &value, &err), 0);
                KG_CHECK_INT(value, c->want);
            }
        }
        kg_expr_free(e);
    }
}

static void test_bad_cases(const kg_symtab *symbols)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *c = &bad_cases[i];
        int64_t value = 12345;
        kg_error err = {0};
        int rc = kg_expr_eval_text(c->text, symbols, &value, &err);
        KG_CHECK_MSG(rc == KG_ERR_INVALID, "\"%s\" should fail", c->text);
        KG_CHECK_MSG(value == 12345, "\"%s\": value written on failure", c->text);
        KG_CHECK_CONTAINS(err.message, c->message);
        char suffix[48];
        snprintf(suffix, sizeof suffix, " at position %zu", c->position);
        size_t length = strlen(err.message);
        KG_CHECK_MSG(length >= strlen(suffix) &&
                         strcmp(err.message + length - strlen(suffix), suffix) == 0,
                     "\"%s\": %s, want it to end in%s", c->text, err.message, suffix);
        /* No error buffer at all must be fine too. */
        KG_CHECK_INT(kg_expr_eval_text(c->text, symbols, &value, NULL), KG_ERR_INVALID);
    }
}

/* Parse errors leave *out NULL; evaluation errors come from a good parse. */
static void test_parse_versus_eval_errors(const kg_symtab *symbols)
{
    kg_expr *e = (kg_expr *)&e; /* any non-NULL value */
    kg_error err;
    KG_CHECK_INT(kg_expr_parse("(1", &e, &err), KG_ERR_INVALID);
    KG_CHECK(e == NULL);
    KG_CHECK_INT(kg_expr_parse(NULL, &e, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "empty expression");

    KG_CHECK_INT(kg_expr_parse("rowz + 1", &e, &err), 0);
    int64_t value;
    KG_CHECK_INT(kg_expr_eval(e, symbols, &value, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "unknown symbol 'rowz' at position 0");
    KG_CHECK_INT(kg_expr_eval(e, NULL, &value, &err), KG_ERR_INVALID);
    kg_expr_free(e);
    kg_expr_free(NULL);

    KG_CHECK_INT(kg_expr_eval(NULL, symbols, &value, &err), KG_ERR_INVALID);
}

/* Hostile nesting fails cleanly instead of overflowing the stack; long flat
 * sums are not nesting and are accepted. */
static void test_depth_limits(void)
{
    enum { deep = 100000 };
    char *text = malloc(2 * deep + 2);
    KG_CHECK(text != NULL);
    if (text == NULL)
        return;
    kg_error err;
    int64_t value;

    memset(text, '(', deep);
    text[deep] = '1';
    memset(text + deep + 1, ')', deep);
    text[2 * deep + 1] = '\0';
    KG_CHECK_INT(kg_expr_eval_text(text, NULL, &value, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "nested deeper than 256 levels at position 256");

    memset(text, '-', deep);
    text[deep] = '1';
    text[deep + 1] = '\0';
    KG_CHECK_INT(kg_expr_eval_text(text, NULL, &value, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "nested deeper than 256 levels");

    for (size_t i = 0; i < deep; i++)
        memcpy(text + 2 * i, "1+", 2);
    text[2 * deep - 1] = '\0';
    KG_CHECK_INT(kg_expr_eval_text(text, NULL, &value, &err), 0);
    KG_CHECK_INT(value, deep);

    /* 256 levels exactly is allowed. */
    memset(text, '(', 256);
    text[256] = '7';
    memset(text + 257, ')', 256);
    text[513] = '\0';
    KG_CHECK_INT(kg_expr_eval_text(text, NULL, &value, &err), 0);
    KG_CHECK_INT(value, 7);

    /* A long unknown name is quoted shortened, not overflowing the message. */
    memset(text, 'x', deep);
    memcpy(text + deep, "()", 3);
    KG_CHECK_INT(kg_expr_eval_text(text, NULL, &value, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "...' at position 0");
    free(text);
}

typedef struct visit_log {
    int count;
    char names[8][16];
    size_t positions[8];
    int stop_after;
} visit_log;

static int record_symbol(const char *name, size_t position, void *user)
{
    visit_log *log = user;
    if (log->count < 8) {
        snprintf(log->names[log->count], sizeof log->names[0], "%s", name);
        log->positions[log->count] = position;
    }
    log->count++;
    return log->count == log->stop_after ? 42 : 0;
}

static void test_visit_symbols(void)
{
    kg_expr *e;
    kg_error err;
    const char *text = "cdiv(rows, 32) * cols + -rows % min(k, 2, tile)";
    KG_CHECK_INT(kg_expr_parse(text, &e, &err), 0);

    visit_log log = {0};
    KG_CHECK_INT(kg_expr_visit_symbols(e, record_symbol, &log), 0);
    static const char *want_names[] = {"rows", "cols", "rows", "k", "tile"};
    static const size_t want_positions[] = {5, 17, 25, 36, 42};
    KG_CHECK_INT(log.count, 5);
    for (int i = 0; i < 5 && i < log.count; i++) {
        KG_CHECK(strcmp(log.names[i], want_names[i]) == 0);
        KG_CHECK_INT(log.positions[i], want_positions[i]);
    }

    visit_log stopping = {.stop_after = 2};
    KG_CHECK_INT(kg_expr_visit_symbols(e, record_symbol, &stopping), 42);
    KG_CHECK_INT(stopping.count, 2);
    kg_expr_free(e);

    KG_CHECK_INT(kg_expr_parse("cdiv(8, 2) + 3", &e, &err), 0);
    visit_log none = {0};
    KG_CHECK_INT(kg_expr_visit_symbols(e, record_symbol, &none), 0);
    KG_CHECK_INT(none.count, 0);
    kg_expr_free(e);
}

static void test_symtab(void)
{
    kg_symtab t;
    kg_symtab_init(&t);
    int64_t value = 0;
    KG_CHECK_INT(t.count, 0);
    KG_CHECK_INT(kg_symtab_get(&t, "n", &value), 0);

    KG_CHECK_INT(kg_symtab_set(&t, "n", 5), 0);
    KG_CHECK_INT(kg_symtab_get(&t, "n", &value), 1);
    KG_CHECK_INT(value, 5);
    KG_CHECK_INT(kg_symtab_set(&t, "n", -9), 0); /* replaces */
    KG_CHECK_INT(t.count, 1);
    KG_CHECK_INT(kg_symtab_get(&t, "n", &value), 1);
    KG_CHECK_INT(value, -9);
    KG_CHECK_INT(kg_symtab_get(&t, "N", &value), 0); /* case-sensitive */
    KG_CHECK_INT(kg_symtab_get(&t, "n", NULL), 1);

    char name[KG_SYMBOL_NAME_MAX + 1];
    memset(name, 'a', KG_SYMBOL_NAME_MAX - 1);
    name[KG_SYMBOL_NAME_MAX - 1] = '\0';
    KG_CHECK_INT(kg_symtab_set(&t, name, 63), 0); /* longest allowed */
    KG_CHECK_INT(kg_symtab_get(&t, name, &value), 1);
    KG_CHECK_INT(value, 63);
    memset(name, 'b', KG_SYMBOL_NAME_MAX);
    name[KG_SYMBOL_NAME_MAX] = '\0';
    KG_CHECK_INT(kg_symtab_set(&t, name, 64), KG_ERR_INVALID); /* one too long */
    KG_CHECK_INT(kg_symtab_get(&t, name, &value), 0);
    KG_CHECK_INT(kg_symtab_set(&t, NULL, 1), KG_ERR_INVALID);

    kg_symtab_init(&t);
    char numbered[16];
    for (int i = 0; i < KG_SYMTAB_MAX; i++) {
        snprintf(numbered, sizeof numbered, "s%d", i);
        KG_CHECK_INT(kg_symtab_set(&t, numbered, i), 0);
    }
    KG_CHECK_INT(t.count, KG_SYMTAB_MAX);
    KG_CHECK_INT(kg_symtab_set(&t, "one_more", 1), KG_ERR_INVALID); /* full */
    KG_CHECK_INT(kg_symtab_set(&t, "s7", 700), 0);                  /* replacing still works */
    KG_CHECK_INT(kg_symtab_get(&t, "s7", &value), 1);
    KG_CHECK_INT(value, 700);
    KG_CHECK_INT(kg_symtab_get(&t, "s63", &value), 1);
    KG_CHECK_INT(value, 63);

    /* Symbols from a full table drive the evaluator like any other. */
    KG_CHECK_INT(kg_expr_eval_text("s7 + s63 * s2", &t, &value, NULL), 0);
    KG_CHECK_INT(value, 700 + 63 * 2);
}

int main(void)
{
    kg_symtab symbols;
    set_symbols(&symbols);
    test_good_cases(&symbols);
    test_bad_cases(&symbols);
    test_parse_versus_eval_errors(&symbols);
    test_depth_limits();
    test_visit_symbols();
    test_symtab();
    return kg_test_finish("test_expr");
}
