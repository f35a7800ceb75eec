/* Text assembly for kernel builds. */
#include "build_text.h"

#include <stdlib.h>
#include <string.h>

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

void kg_text_source(kg_text *t, const char *prelude, const char *name, const char *source,
                    size_t source_size)
{
    if (prelude) {
        kg_text_add(t, prelude);
        kg_text_add(t, "\n#line 1 \"");
        kg_text_add_escaped(t, name);
        kg_text_add(t, "\"\n");
    }
    kg_text_append(t, source, source_size ? source_size : strlen(source));
}

int kg_define_is_safe(const char *define)
{
    if (!define[0] || define[0] == '=' || define[0] == '-')
        return 0;
    for (const char *c = define; *c; c++)
        if (*c == ' ' || *c == '\t' || *c == '\n' || *c == '\r' || *c == '"' || *c == '\'' ||
            *c == '\\')
            return 0;
    return 1;
}

static void copy_line(const char *start, char *out, size_t size)
{
    size_t n = strcspn(start, "\r\n");
    if (n >= size)
        n = size - 1;
    memcpy(out, start, n);
    out[n] = '\0';
}

void kg_log_headline(const char *log, char *out, size_t size)
{
    if (!size)
        return;
    out[0] = '\0';
    if (!log)
        return;
    for (const char *line = log; *line; line += strcspn(line, "\n"), line += *line == '\n') {
        size_t n = strcspn(line, "\n");
        for (size_t i = 0; i + 5 <= n; i++)
            if (strncmp(line + i, "error", 5) == 0) {
                copy_line(line, out, size);
                return;
            }
    }
    const char *start = log;
    while (*start == '\n' || *start == '\r' || *start == ' ')
        start++;
    copy_line(start, out, size);
}
