/* Text assembly for kernel builds. */
#include "build_text.h"
#include "str.h"

#include <stdio.h>

#include <stdlib.h>
#include <string.h>

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

int kg_build_options_make(kg_build_options *o, const kg_build_request *req, kg_error *err)
{
    const char *const *defines = req->defines;
    size_t define_count = req->define_count;
    const char *options = req->options;
    const char *name = req->source_name ? req->source_name : "<source>";
    o->count = 0;
    o->has_std = 0;
    if (define_count > KG_BUILD_MAX_DEFINES) {
        return kg_error_set(err, KG_ERR_INVALID, "%s: at most %d defines", name,
                            KG_BUILD_MAX_DEFINES);
    }
    for (size_t i = 0; i < define_count; i++) {
        if (!defines[i] || !kg_define_is_safe(defines[i]) ||
            strlen(defines[i]) + 3 > sizeof o->defines[i]) {
            return kg_error_set(
                err, KG_ERR_INVALID,
                "%s: define '%s' is not NAME or NAME=VALUE without whitespace or quotes", name,
                defines[i] ? defines[i] : "(null)");
        }
        snprintf(o->defines[i], sizeof o->defines[i], "-D%s", defines[i]);
        o->list[o->count++] = o->defines[i];
    }
    if (snprintf(o->extra, sizeof o->extra, "%s", options ? options : "") >= (int)sizeof o->extra) {
        return kg_error_set(err, KG_ERR_INVALID, "%s: compiler options too long", name);
    }
    int extra = 0;
    char *save = NULL;
    for (char *tok = strtok_r(o->extra, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (extra++ == KG_BUILD_MAX_EXTRA) {
            return kg_error_set(err, KG_ERR_INVALID, "%s: at most %d compiler options", name,
                                KG_BUILD_MAX_EXTRA);
        }
        o->has_std |= strncmp(tok, "-std=", 5) == 0;
        o->list[o->count++] = tok;
    }
    return KG_OK;
}

void kg_build_options_add(kg_build_options *o, const char *option)
{
    if ((size_t)o->count < sizeof o->list / sizeof o->list[0])
        o->list[o->count++] = option;
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

char *kg_build_options_join(const kg_build_options *o, const char *first)
{
    kg_text t = {0};
    kg_text_add(&t, first ? first : "");
    for (int i = 0; i < o->count; i++) {
        if (t.len)
            kg_text_add(&t, " ");
        kg_text_add(&t, o->list[i]);
    }
    if (t.failed) {
        free(t.data);
        return NULL;
    }
    return t.data ? t.data : kg_strdup("");
}
