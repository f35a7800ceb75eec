/*
 * Integer expressions over shape symbols: a recursive-descent parser that
 * builds a small tree, and an evaluator that checks every int64 operation.
 *
 * Sums and products are stored as one "chain" node holding all of their
 * operands, evaluated left to right in a loop, so a long flat sum such as
 * "1+1+...+1" does not become a deep tree. Only parentheses, function calls
 * and unary signs nest, and the parser caps that nesting at
 * KG_EXPR_MAX_DEPTH, which bounds the recursion of parsing, evaluation,
 * visiting and freeing alike.
 */
#include "expr.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deepest nesting of parentheses, function calls and unary signs. */
#define KG_EXPR_MAX_DEPTH 256
/* Longest piece of user text quoted back in an error message. */
#define KG_EXPR_QUOTE_MAX 48

typedef enum kg_node_kind {
    KG_NODE_INTEGER,
    KG_NODE_SYMBOL,
    KG_NODE_NEGATE, /* operands[0] */
    KG_NODE_CHAIN,  /* operands[0] op operands[1] op ... (all '+'/'-' or all '*'/'/'/'%') */
    KG_NODE_CALL,   /* function(operands[0], operands[1], ...) */
} kg_node_kind;

typedef enum kg_function {
    KG_FUNC_CDIV,
    KG_FUNC_MIN,
    KG_FUNC_MAX,
    KG_FUNC_IF, /* if(c, a, b): a when c != 0, else b */
    KG_FUNC_EQ, /* comparisons: 1 or 0 */
    KG_FUNC_NE,
    KG_FUNC_LT,
    KG_FUNC_LE,
    KG_FUNC_GT,
    KG_FUNC_GE,
    KG_FUNC_POW2CEIL, /* smallest power of two >= a (1 for a <= 1) */
} kg_function;

/* Name and arity of each function; max_args 0 = no upper bound. */
static const struct {
    const char *name;
    kg_function function;
    size_t min_args, max_args;
} kg_functions[] = {
    {"cdiv", KG_FUNC_CDIV, 2, 2},
    {"min", KG_FUNC_MIN, 2, 0},
    {"max", KG_FUNC_MAX, 2, 0},
    {"if", KG_FUNC_IF, 3, 3},
    {"eq", KG_FUNC_EQ, 2, 2},
    {"ne", KG_FUNC_NE, 2, 2},
    {"lt", KG_FUNC_LT, 2, 2},
    {"le", KG_FUNC_LE, 2, 2},
    {"gt", KG_FUNC_GT, 2, 2},
    {"ge", KG_FUNC_GE, 2, 2},
    {"pow2ceil", KG_FUNC_POW2CEIL, 1, 1},
};
#define KG_FUNCTION_COUNT (sizeof kg_functions / sizeof kg_functions[0])
#define KG_FUNCTION_LIST  "cdiv, min, max, if, eq, ne, lt, le, gt, ge or pow2ceil"

typedef struct kg_node kg_node;

/* One operand of a chain, call or negation. In a chain, `op` is the
 * operator that joins it to the value accumulated so far ('\0' for the
 * first operand); `op_position` is where that operator is in the text. */
typedef struct kg_operand {
    char op;
    size_t op_position;
    kg_node *node;
} kg_operand;

struct kg_node {
    kg_node_kind kind;
    size_t position; /* start of the literal, symbol, '-' or function name */
    int64_t value;   /* KG_NODE_INTEGER */
    char *name;      /* KG_NODE_SYMBOL */
    kg_function function;
    size_t count;
    size_t capacity;
    kg_operand *operands;
};

struct kg_expr {
    char *text;
    kg_node *root;
};

/* ---- symbol table ------------------------------------------------------ */

void kg_symtab_init(kg_symtab *t)
{
    memset(t, 0, sizeof *t);
}

/* Length of `s`, but stops counting at `limit` so that an unterminated or
 * hostile name is never scanned past what could possibly fit. */
static size_t kg_bounded_length(const char *s, size_t limit)
{
    size_t n = 0;
    while (n < limit && s[n] != '\0')
        n++;
    return n;
}

static long kg_symtab_find(const kg_symtab *t, const char *name)
{
    for (size_t i = 0; i < t->count; i++)
        if (strcmp(t->names[i], name) == 0)
            return (long)i;
    return -1;
}

int kg_symtab_set(kg_symtab *t, const char *name, int64_t value)
{
    if (t == NULL || name == NULL)
        return KG_ERR_INVALID;
    size_t length = kg_bounded_length(name, KG_SYMBOL_NAME_MAX);
    if (length > KG_SYMBOL_NAME_MAX - 1)
        return KG_ERR_INVALID;
    long found = kg_symtab_find(t, name);
    if (found >= 0) {
        t->values[found] = value;
        return 0;
    }
    if (t->count >= KG_SYMTAB_MAX)
        return KG_ERR_INVALID;
    memcpy(t->names[t->count], name, length + 1);
    t->values[t->count] = value;
    t->count++;
    return 0;
}

int kg_symtab_get(const kg_symtab *t, const char *name, int64_t *value)
{
    if (t == NULL || name == NULL)
        return 0;
    long found = kg_symtab_find(t, name);
    if (found < 0)
        return 0;
    if (value != NULL)
        *value = t->values[found];
    return 1;
}

/* ---- errors ------------------------------------------------------------ */

#if defined(__GNUC__)
#define KG_PRINTF_LIKE(format_index, first_arg)                                                    \
    __attribute__((format(printf, format_index, first_arg)))
#else
#define KG_PRINTF_LIKE(format_index, first_arg)
#endif

static void kg_expr_fail(kg_error *err, size_t position, const char *format, ...)
    KG_PRINTF_LIKE(3, 4);

/* Every message ends in " at position N" so that callers can show it as is;
 * the description is cut short, never the position. */
static void kg_expr_fail(kg_error *err, size_t position, const char *format, ...)
{
    char description[sizeof err->message - 48];
    va_list args;
    va_start(args, format);
    vsnprintf(description, sizeof description, format, args);
    va_end(args);
    kg_error_set(err, KG_ERR_INVALID, "%s at position %zu", description, position);
}

/* ---- tree -------------------------------------------------------------- */

static void kg_node_free(kg_node *n)
{
    if (n == NULL)
        return;
    for (size_t i = 0; i < n->count; i++)
        kg_node_free(n->operands[i].node);
    free(n->operands);
    free(n->name);
    free(n);
}

static kg_node *kg_node_new(kg_node_kind kind, size_t position)
{
    kg_node *n = calloc(1, sizeof *n);
    if (n != NULL) {
        n->kind = kind;
        n->position = position;
    }
    return n;
}

/* Appends an operand, taking ownership of `child` even on failure so that
 * callers have a single clean-up path. */
static int kg_node_append(kg_node *n, char op, size_t op_position, kg_node *child)
{
    if (n->count == n->capacity) {
        size_t capacity = n->capacity ? n->capacity * 2 : 4;
        kg_operand *grown = realloc(n->operands, capacity * sizeof *grown);
        if (grown == NULL) {
            kg_node_free(child);
            return KG_ERR_MEMORY;
        }
        n->operands = grown;
        n->capacity = capacity;
    }
    n->operands[n->count].op = op;
    n->operands[n->count].op_position = op_position;
    n->operands[n->count].node = child;
    n->count++;
    return 0;
}

/* ---- parser ------------------------------------------------------------ */

typedef struct kg_parser {
    const char *text;
    size_t pos;
    size_t depth;
    kg_error *err;
} kg_parser;

static int kg_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int kg_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int kg_is_ident_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int kg_is_ident_char(char c)
{
    return kg_is_ident_start(c) || kg_is_digit(c);
}

/* Characters that can appear somewhere in a valid expression; anything
 * else is reported as such rather than as a misplaced token. */
static int kg_is_known_char(char c)
{
    return kg_is_space(c) || kg_is_ident_char(c) || strchr("+-*/%(),", c) != NULL;
}

static char kg_peek(kg_parser *p)
{
    while (kg_is_space(p->text[p->pos]))
        p->pos++;
    return p->text[p->pos];
}

static void kg_fail_unexpected_char(kg_parser *p)
{
    unsigned char c = (unsigned char)p->text[p->pos];
    if (c >= 0x20 && c < 0x7f)
        kg_expr_fail(p->err, p->pos, "unexpected character '%c'", c);
    else
        kg_expr_fail(p->err, p->pos, "unexpected character '\\x%02X'", c);
}

/* Reports that `expected` was wanted at the current position, unless the
 * character there is not part of the language at all, which is the more
 * useful thing to say. */
static void kg_fail_expected(kg_parser *p, const char *expected)
{
    char c = p->text[p->pos];
    if (c != '\0' && !kg_is_known_char(c))
        kg_fail_unexpected_char(p);
    else
        kg_expr_fail(p->err, p->pos, "expected %s", expected);
}

/* Nesting is counted so that hostile input ("((((...", "----...") fails
 * cleanly instead of exhausting the stack. */
static int kg_enter(kg_parser *p)
{
    if (p->depth >= KG_EXPR_MAX_DEPTH) {
        kg_expr_fail(p->err, p->pos, "expression nested deeper than %d levels", KG_EXPR_MAX_DEPTH);
        return KG_ERR_INVALID;
    }
    p->depth++;
    return 0;
}

static void kg_leave(kg_parser *p)
{
    p->depth--;
}

static kg_node *kg_parse_expr(kg_parser *p);

static kg_node *kg_parse_integer(kg_parser *p)
{
    size_t start = p->pos;
    int64_t value = 0;
    int overflow = 0;
    while (kg_is_digit(p->text[p->pos])) {
        int digit = p->text[p->pos] - '0';
        if (!overflow && (__builtin_mul_overflow(value, (int64_t)10, &value) ||
                          __builtin_add_overflow(value, (int64_t)digit, &value)))
            overflow = 1;
        p->pos++;
    }
    if (overflow) {
        int length = (int)(p->pos - start);
        kg_expr_fail(p->err, start, "integer literal '%.*s%s' does not fit in int64",
                     length > KG_EXPR_QUOTE_MAX ? KG_EXPR_QUOTE_MAX : length, p->text + start,
                     length > KG_EXPR_QUOTE_MAX ? "..." : "");
        return NULL;
    }
    kg_node *n = kg_node_new(KG_NODE_INTEGER, start);
    if (n == NULL) {
        kg_expr_fail(p->err, start, "out of memory");
        return NULL;
    }
    n->value = value;
    return n;
}

/* Parses "(arg, arg, ...)" after a function name and checks the number of
 * arguments, so arity mistakes are caught when a manifest is loaded. */
static kg_node *kg_parse_call(kg_parser *p, kg_function function, const char *name,
                              size_t name_position)
{
    kg_node *call = kg_node_new(KG_NODE_CALL, name_position);
    if (call == NULL) {
        kg_expr_fail(p->err, name_position, "out of memory");
        return NULL;
    }
    call->function = function;
    if (kg_enter(p) != 0) {
        kg_node_free(call);
        return NULL;
    }
    p->pos++; /* '(' */
    if (kg_peek(p) == ')') {
        p->pos++;
    } else {
        for (;;) {
            kg_node *argument = kg_parse_expr(p);
            if (argument == NULL)
                goto fail;
            if (kg_node_append(call, '\0', 0, argument) != 0) {
                kg_expr_fail(p->err, p->pos, "out of memory");
                goto fail;
            }
            char c = kg_peek(p);
            if (c == ',') {
                p->pos++;
                continue;
            }
            if (c == ')') {
                p->pos++;
                break;
            }
            kg_fail_expected(p, "',' or ')'");
            goto fail;
        }
    }
    kg_leave(p);
    size_t lo = kg_functions[function].min_args, hi = kg_functions[function].max_args;
    if (call->count < lo || (hi && call->count > hi)) {
        if (lo == hi)
            kg_expr_fail(p->err, name_position, "%s takes %zu argument%s, got %zu", name, lo,
                         lo == 1 ? "" : "s", call->count);
        else
            kg_expr_fail(p->err, name_position, "%s takes at least %zu arguments, got %zu", name,
                         lo, call->count);
        kg_node_free(call);
        return NULL;
    }
    return call;
fail:
    kg_leave(p);
    kg_node_free(call);
    return NULL;
}

static int kg_lookup_function(const char *name, size_t length, kg_function *function)
{
    for (size_t i = 0; i < KG_FUNCTION_COUNT; i++) {
        if (strlen(kg_functions[i].name) == length &&
            memcmp(kg_functions[i].name, name, length) == 0) {
            *function = kg_functions[i].function;
            return 1;
        }
    }
    return 0;
}

/* A name is a function call when followed by '(', otherwise a symbol;
 * function names are reserved and cannot be used as symbols. */
static kg_node *kg_parse_name(kg_parser *p)
{
    size_t start = p->pos;
    while (kg_is_ident_char(p->text[p->pos]))
        p->pos++;
    const char *name = p->text + start;
    size_t length = p->pos - start;
    int quoted = length > KG_EXPR_QUOTE_MAX ? KG_EXPR_QUOTE_MAX : (int)length;
    const char *ellipsis = length > KG_EXPR_QUOTE_MAX ? "..." : "";
    kg_function function;
    int is_function = kg_lookup_function(name, length, &function);
    if (kg_peek(p) == '(') {
        if (!is_function) {
            kg_expr_fail(p->err, start,
                         "expected a function (" KG_FUNCTION_LIST
                         "), found unknown function '%.*s%s'",
                         quoted, name, ellipsis);
            return NULL;
        }
        return kg_parse_call(p, function, kg_functions[function].name, start);
    }
    if (is_function) {
        kg_fail_expected(p, "'(' after a function name");
        return NULL;
    }
    if (length > KG_SYMBOL_NAME_MAX - 1) {
        kg_expr_fail(p->err, start, "symbol '%.*s%s' is longer than %d characters", quoted, name,
                     ellipsis, KG_SYMBOL_NAME_MAX - 1);
        return NULL;
    }
    kg_node *n = kg_node_new(KG_NODE_SYMBOL, start);
    char *copy = malloc(length + 1);
    if (n == NULL || copy == NULL) {
        free(n);
        free(copy);
        kg_expr_fail(p->err, start, "out of memory");
        return NULL;
    }
    memcpy(copy, name, length);
    copy[length] = '\0';
    n->name = copy;
    return n;
}

static kg_node *kg_parse_primary(kg_parser *p)
{
    char c = kg_peek(p);
    if (kg_is_digit(c))
        return kg_parse_integer(p);
    if (kg_is_ident_start(c))
        return kg_parse_name(p);
    if (c == '(') {
        if (kg_enter(p) != 0)
            return NULL;
        p->pos++;
        kg_node *inner = kg_parse_expr(p);
        if (inner != NULL && kg_peek(p) != ')') {
            kg_fail_expected(p, "')'");
            kg_node_free(inner);
            inner = NULL;
        }
        if (inner != NULL)
            p->pos++;
        kg_leave(p);
        return inner;
    }
    kg_fail_expected(p, "an operand (integer, symbol, function call or '(')");
    return NULL;
}

static kg_node *kg_parse_unary(kg_parser *p)
{
    char c = kg_peek(p);
    if (c != '-' && c != '+')
        return kg_parse_primary(p);
    size_t sign_position = p->pos;
    if (kg_enter(p) != 0)
        return NULL;
    p->pos++;
    kg_node *operand = kg_parse_unary(p);
    kg_leave(p);
    if (operand == NULL || c == '+')
        return operand;
    kg_node *negate = kg_node_new(KG_NODE_NEGATE, sign_position);
    if (negate == NULL || kg_node_append(negate, '\0', 0, operand) != 0) {
        if (negate == NULL)
            kg_node_free(operand);
        kg_node_free(negate);
        kg_expr_fail(p->err, sign_position, "out of memory");
        return NULL;
    }
    return negate;
}

/* One precedence level: operand (op operand)* with ops from `operators`,
 * collected into a single chain node (or the lone operand itself). */
static kg_node *kg_parse_chain(kg_parser *p, const char *operators,
                               kg_node *(*parse_operand)(kg_parser *))
{
    kg_node *first = parse_operand(p);
    if (first == NULL)
        return NULL;
    char c = kg_peek(p);
    if (c == '\0' || strchr(operators, c) == NULL)
        return first;
    kg_node *chain = kg_node_new(KG_NODE_CHAIN, first->position);
    if (chain == NULL || kg_node_append(chain, '\0', 0, first) != 0) {
        if (chain == NULL)
            kg_node_free(first);
        kg_node_free(chain);
        kg_expr_fail(p->err, p->pos, "out of memory");
        return NULL;
    }
    while (c != '\0' && strchr(operators, c) != NULL) {
        size_t op_position = p->pos;
        p->pos++;
        kg_node *operand = parse_operand(p);
        if (operand == NULL) {
            kg_node_free(chain);
            return NULL;
        }
        if (kg_node_append(chain, c, op_position, operand) != 0) {
            kg_node_free(chain);
            kg_expr_fail(p->err, op_position, "out of memory");
            return NULL;
        }
        c = kg_peek(p);
    }
    return chain;
}

static kg_node *kg_parse_term(kg_parser *p)
{
    return kg_parse_chain(p, "*/%", kg_parse_unary);
}

static kg_node *kg_parse_expr(kg_parser *p)
{
    return kg_parse_chain(p, "+-", kg_parse_term);
}

int kg_expr_parse(const char *text, kg_expr **out, kg_error *err)
{
    *out = NULL;

    kg_parser p = {.text = text != NULL ? text : "", .pos = 0, .depth = 0, .err = err};
    if (kg_peek(&p) == '\0') {
        kg_expr_fail(err, 0, "empty expression");
        return KG_ERR_INVALID;
    }
    p.pos = 0;
    kg_node *root = kg_parse_expr(&p);
    if (root == NULL)
        return KG_ERR_INVALID;
    char c = kg_peek(&p);
    if (c != '\0') {
        if (!kg_is_known_char(c))
            kg_fail_unexpected_char(&p);
        else if (c == ')')
            kg_expr_fail(err, p.pos, "expected an operator or end of input, found unmatched ')'");
        else
            kg_expr_fail(err, p.pos, "expected an operator or end of input, found trailing input");
        kg_node_free(root);
        return KG_ERR_INVALID;
    }

    kg_expr *e = malloc(sizeof *e);
    size_t length = strlen(p.text);
    char *copy = malloc(length + 1);
    if (e == NULL || copy == NULL) {
        free(e);
        free(copy);
        kg_node_free(root);
        kg_expr_fail(err, 0, "out of memory");
        return KG_ERR_INVALID;
    }
    memcpy(copy, p.text, length + 1);
    e->text = copy;
    e->root = root;
    *out = e;
    return 0;
}

void kg_expr_free(kg_expr *e)
{
    if (e == NULL)
        return;
    kg_node_free(e->root);
    free(e->text);
    free(e);
}

const char *kg_expr_text(const kg_expr *e)
{
    return e != NULL ? e->text : "";
}

/* ---- evaluation -------------------------------------------------------- */

/* Applies one chain operator; '/' and '%' truncate toward zero as in C, and
 * every case C leaves undefined is an error instead. */
static int kg_apply(char op, size_t op_position, int64_t left, int64_t right, int64_t *result,
                    kg_error *err)
{
    int overflow = 0;
    switch (op) {
    case '+':
        overflow = __builtin_add_overflow(left, right, result);
        break;
    case '-':
        overflow = __builtin_sub_overflow(left, right, result);
        break;
    case '*':
        overflow = __builtin_mul_overflow(left, right, result);
        break;
    case '/':
    case '%':
        if (right == 0) {
            kg_expr_fail(err, op_position, "%s by zero", op == '/' ? "division" : "modulo");
            return KG_ERR_INVALID;
        }
        if (left == INT64_MIN && right == -1) {
            overflow = 1;
            break;
        }
        *result = op == '/' ? left / right : left % right;
        break;
    default:
        kg_expr_fail(err, op_position, "internal error: unknown operator '%c'", op);
        return KG_ERR_INVALID;
    }
    if (overflow) {
        kg_expr_fail(err, op_position, "integer overflow");
        return KG_ERR_INVALID;
    }
    return 0;
}

static int kg_eval_node(const kg_node *n, const kg_symtab *symbols, int64_t *value, kg_error *err);

/* cdiv(a, b): a / b rounded up, for a positive divisor. */
static int kg_eval_cdiv(const kg_node *n, int64_t first, const kg_symtab *symbols, int64_t *value,
                        kg_error *err)
{
    int64_t divisor;
    if (kg_eval_node(n->operands[1].node, symbols, &divisor, err) != 0)
        return KG_ERR_INVALID;
    if (divisor <= 0) {
        kg_expr_fail(err, n->position, "cdiv expects a positive divisor, got %lld",
                     (long long)divisor);
        return KG_ERR_INVALID;
    }
    /* Truncation already rounds a negative quotient up; a positive one with
     * a remainder needs one more. (a + b - 1) / b would overflow near
     * INT64_MAX. */
    int64_t quotient = first / divisor;
    if (first % divisor != 0 && first > 0)
        quotient++;
    *value = quotient;
    return 0;
}

/* pow2ceil(a): the smallest power of two at least a (1 for a <= 1). */
static int kg_eval_pow2ceil(const kg_node *n, int64_t first, int64_t *value, kg_error *err)
{
    int64_t power = 1;
    while (power < first) {
        if (power > INT64_MAX / 2) {
            kg_expr_fail(err, n->position, "integer overflow");
            return KG_ERR_INVALID;
        }
        power *= 2;
    }
    *value = power;
    return 0;
}

/* eq, ne, lt, le, gt, ge: 1 or 0. */
static int kg_eval_compare(const kg_node *n, int64_t first, const kg_symtab *symbols,
                           int64_t *value, kg_error *err)
{
    int64_t second;
    if (kg_eval_node(n->operands[1].node, symbols, &second, err) != 0)
        return KG_ERR_INVALID;
    switch (n->function) {
    case KG_FUNC_EQ:
        *value = first == second;
        break;
    case KG_FUNC_NE:
        *value = first != second;
        break;
    case KG_FUNC_LT:
        *value = first < second;
        break;
    case KG_FUNC_LE:
        *value = first <= second;
        break;
    case KG_FUNC_GT:
        *value = first > second;
        break;
    default:
        *value = first >= second;
        break;
    }
    return 0;
}

/* min and max over any number of operands. */
static int kg_eval_extremum(const kg_node *n, int64_t first, const kg_symtab *symbols,
                            int64_t *value, kg_error *err)
{
    int64_t best = first;
    for (size_t i = 1; i < n->count; i++) {
        int64_t candidate;
        if (kg_eval_node(n->operands[i].node, symbols, &candidate, err) != 0)
            return KG_ERR_INVALID;
        if (n->function == KG_FUNC_MIN ? candidate < best : candidate > best)
            best = candidate;
    }
    *value = best;
    return 0;
}

/* A function call: the first operand is always evaluated; `if` evaluates
 * only the chosen branch, so the other may divide by zero or use a value
 * that is invalid in this case. */
static int kg_eval_call(const kg_node *n, const kg_symtab *symbols, int64_t *value, kg_error *err)
{
    int64_t first;
    if (kg_eval_node(n->operands[0].node, symbols, &first, err) != 0)
        return KG_ERR_INVALID;
    switch (n->function) {
    case KG_FUNC_CDIV:
        return kg_eval_cdiv(n, first, symbols, value, err);
    case KG_FUNC_IF:
        return kg_eval_node(n->operands[first != 0 ? 1 : 2].node, symbols, value, err);
    case KG_FUNC_POW2CEIL:
        return kg_eval_pow2ceil(n, first, value, err);
    case KG_FUNC_MIN:
    case KG_FUNC_MAX:
        return kg_eval_extremum(n, first, symbols, value, err);
    default:
        return kg_eval_compare(n, first, symbols, value, err);
    }
}

static int kg_eval_node(const kg_node *n, const kg_symtab *symbols, int64_t *value, kg_error *err)
{
    switch (n->kind) {
    case KG_NODE_INTEGER:
        *value = n->value;
        return 0;
    case KG_NODE_SYMBOL:
        if (!kg_symtab_get(symbols, n->name, value)) {
            kg_expr_fail(err, n->position, "unknown symbol '%s'", n->name);
            return KG_ERR_INVALID;
        }
        return 0;
    case KG_NODE_NEGATE: {
        int64_t operand;
        if (kg_eval_node(n->operands[0].node, symbols, &operand, err) != 0)
            return KG_ERR_INVALID;
        if (__builtin_sub_overflow((int64_t)0, operand, value)) {
            kg_expr_fail(err, n->position, "integer overflow");
            return KG_ERR_INVALID;
        }
        return 0;
    }
    case KG_NODE_CHAIN: {
        int64_t accumulated;
        if (kg_eval_node(n->operands[0].node, symbols, &accumulated, err) != 0)
            return KG_ERR_INVALID;
        for (size_t i = 1; i < n->count; i++) {
            int64_t right;
            if (kg_eval_node(n->operands[i].node, symbols, &right, err) != 0)
                return KG_ERR_INVALID;
            if (kg_apply(n->operands[i].op, n->operands[i].op_position, accumulated, right,
                         &accumulated, err) != 0)
                return KG_ERR_INVALID;
        }
        *value = accumulated;
        return 0;
    }
    case KG_NODE_CALL:
        return kg_eval_call(n, symbols, value, err);
    }
    kg_expr_fail(err, n->position, "internal error: unknown node kind %d", (int)n->kind);
    return KG_ERR_INVALID;
}

int kg_expr_eval(const kg_expr *e, const kg_symtab *symbols, int64_t *value, kg_error *err)
{
    if (e == NULL || e->root == NULL) {
        kg_expr_fail(err, 0, "empty expression");
        return KG_ERR_INVALID;
    }
    int64_t result;
    if (kg_eval_node(e->root, symbols, &result, err) != 0)
        return KG_ERR_INVALID;
    *value = result;
    return 0;
}

int kg_expr_eval_text(const char *text, const kg_symtab *symbols, int64_t *value, kg_error *err)
{
    kg_expr *e;
    if (kg_expr_parse(text, &e, err) != 0)
        return KG_ERR_INVALID;
    int rc = kg_expr_eval(e, symbols, value, err);
    kg_expr_free(e);
    return rc;
}

/* ---- visiting ---------------------------------------------------------- */

static int kg_visit_node(const kg_node *n,
                         int (*visit)(const char *name, size_t position, void *user), void *user)
{
    if (n->kind == KG_NODE_SYMBOL)
        return visit(n->name, n->position, user);
    for (size_t i = 0; i < n->count; i++) {
        int rc = kg_visit_node(n->operands[i].node, visit, user);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int kg_expr_visit_symbols(const kg_expr *e,
                          int (*visit)(const char *name, size_t position, void *user), void *user)
{
    if (e == NULL || e->root == NULL || visit == NULL)
        return 0;
    return kg_visit_node(e->root, visit, user);
}
