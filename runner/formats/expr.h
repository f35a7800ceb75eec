/*
 * Integer expressions over shape symbols: the one evaluator that serves
 * shapes (tensor dimensions), launch geometry (grid, block, local memory),
 * scratch sizes, build defines and FLOP/byte formulas.
 *
 * Grammar (whitespace ignored):
 *   expr    := term (('+' | '-') term)*
 *   term    := unary (('*' | '/' | '%') unary)*
 *   unary   := '-' unary | '+' unary | primary
 *   primary := INTEGER | SYMBOL | FUNC '(' expr (',' expr)* ')' | '(' expr ')'
 *   FUNC    := cdiv (2 args) | min (>= 2) | max (>= 2)
 *   SYMBOL  := [A-Za-z_][A-Za-z0-9_]*   (not a FUNC name)
 * Values are int64. '/' and '%' truncate toward zero as in C; cdiv(a, b) is
 * the ceiling of a/b for b > 0. Division or modulo by zero, cdiv by b <= 0,
 * and any int64 overflow are errors, never undefined behaviour.
 */
#ifndef KG_EXPR_H
#define KG_EXPR_H

#include "error.h"

#include <stddef.h>
#include <stdint.h>

#define KG_SYMBOL_NAME_MAX 64
#define KG_SYMTAB_MAX      64

/* A small name -> int64 table: a shape's symbols. Plain value type. */
typedef struct kg_symtab {
    size_t count;
    char names[KG_SYMTAB_MAX][KG_SYMBOL_NAME_MAX];
    int64_t values[KG_SYMTAB_MAX];
} kg_symtab;

/* Empties the table. */
void kg_symtab_init(kg_symtab *t);
/* Adds or replaces; KG_OK, or KG_ERR_INVALID when the table is full or the
 * name is longer than KG_SYMBOL_NAME_MAX-1. */
int kg_symtab_set(kg_symtab *t, const char *name, int64_t value);
/* Returns 1 and sets *value when found, 0 otherwise. */
int kg_symtab_get(const kg_symtab *t, const char *name, int64_t *value);

/* A parsed expression (opaque). */
typedef struct kg_expr kg_expr;

/* Parses `text`. On success returns KG_OK and *out is a new expression the
 * caller frees with kg_expr_free. On failure returns KG_ERR_INVALID, *out
 * is NULL and err (may be NULL) says what was expected and where, the
 * message always ending in " at position N" (the 0-based byte offset),
 * e.g. "expected ')' at position 7". */
int kg_expr_parse(const char *text, kg_expr **out, kg_error *err);

/* Frees an expression; NULL is allowed. */
void kg_expr_free(kg_expr *e);

/* Evaluates with the given symbols. Returns KG_OK and sets *value, or
 * KG_ERR_INVALID with err describing e.g. "unknown symbol 'n'" or "division by zero". */
int kg_expr_eval(const kg_expr *e, const kg_symtab *symbols, int64_t *value, kg_error *err);

/* Parse + evaluate in one call (for one-off uses). Same errors. */
int kg_expr_eval_text(const char *text, const kg_symtab *symbols, int64_t *value, kg_error *err);

/* Calls `visit` once for each symbol reference in the expression, in order
 * of appearance (repeats included), with its text position; stops and
 * returns the first non-zero value `visit` returns, else 0. Used to reject
 * unknown symbols when a manifest is loaded rather than at run time. */
int kg_expr_visit_symbols(const kg_expr *e,
                          int (*visit)(const char *name, size_t position, void *user), void *user);

/* The original text the expression was parsed from (owned by e). */
const char *kg_expr_text(const kg_expr *e);

#endif
