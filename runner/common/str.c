#include "str.h"

#include <stdlib.h>
#include <string.h>

char *kg_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy)
        memcpy(copy, s, n);
    return copy;
}

void kg_text_append(kg_text *t, const char *s, size_t n)
{
    if (t->failed)
        return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *grown = realloc(t->data, cap);
        if (!grown) {
            t->failed = 1;
            return;
        }
        t->data = grown;
        t->cap = cap;
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = '\0';
}

void kg_text_add(kg_text *t, const char *s)
{
    kg_text_append(t, s, strlen(s));
}

void kg_text_add_escaped(kg_text *t, const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            kg_text_append(t, "\\", 1);
        if (*s == '\n')
            kg_text_append(t, " ", 1);
        else
            kg_text_append(t, s, 1);
    }
}
