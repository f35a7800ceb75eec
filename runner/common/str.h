/* Small string helpers: what C11 lacks, and a growable string. */
#ifndef KG_STR_H
#define KG_STR_H

#include <stddef.h>

/* A malloc'd copy of `s` (the caller frees it); NULL when out of memory.
 * strdup is POSIX, not C11. */
char *kg_strdup(const char *s);

/* A NUL-terminated, growable string. Zero-initialise; on allocation failure
 * `failed` is set and later appends do nothing, so callers check once at
 * the end. The caller frees `data`. */
typedef struct kg_text {
    char *data;
    size_t len;
    size_t cap;
    int failed;
} kg_text;

void kg_text_append(kg_text *t, const char *s, size_t n);
void kg_text_add(kg_text *t, const char *s);
/* Adds `s` escaped for use inside a C string literal (quotes, backslashes;
 * newlines become spaces), as in `#line 1 "name"`. */
void kg_text_add_escaped(kg_text *t, const char *s);

#endif
