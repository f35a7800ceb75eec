/* JSON manifests: loading with positions, typed field access with paths. */
#include "json_file.h"

#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int kg_write_file_atomic(const char *path, const void *data, size_t size, kg_error *err)
{
    char tmp[4400];
    snprintf(tmp, sizeof tmp, "%s.%ld.new", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    int ok = f && (size == 0 || fwrite(data, 1, size, f) == size) && fflush(f) == 0 &&
             fsync(fileno(f)) == 0;
    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return kg_error_set(err, KG_ERR_INVALID, "%s: cannot write: %s", path, strerror(e));
    }
    return KG_OK;
}

int kg_read_file(const char *path, char **data, size_t *size, kg_error *err)
{
    *data = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return kg_error_set(err, KG_ERR_INVALID, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
        if (cap - len - 1 == 0) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    int failed = ferror(f);
    fclose(f);
    if (!buf)
        return kg_error_set(err, KG_ERR_MEMORY, "%s: out of memory reading the file", path);
    if (failed) {
        free(buf);
        return kg_error_set(err, KG_ERR_INVALID, "%s: read error", path);
    }
    buf[len] = '\0';
    *data = buf;
    if (size)
        *size = len;
    return KG_OK;
}

int kg_json_load(const char *path, cJSON **root, kg_error *err)
{
    *root = NULL;
    char *text;
    size_t len;
    int rc = kg_read_file(path, &text, &len, err);
    if (rc != KG_OK)
        return rc;
    const char *end = NULL;
    /* The length includes the NUL kg_read_file added: with
     * require_null_terminated, cJSON looks for it inside the buffer. */
    cJSON *doc = cJSON_ParseWithLengthOpts(text, len + 1, &end, 1);
    if (!doc) {
        /* cJSON points at where it stopped; turn that into line:column. */
        size_t off = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
        size_t line = 1, col = 1;
        for (size_t i = 0; i < off; i++) {
            if (text[i] == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        /* Quote the offending line: cJSON's position is often just past the
         * culprit (a trailing comma is reported at the brace after it). */
        size_t line_start = off;
        while (line_start > 0 && text[line_start - 1] != '\n')
            line_start--;
        char near[48] = "";
        size_t k = 0;
        for (size_t i = line_start; i < len && k < sizeof near - 1 && text[i] != '\n'; i++)
            near[k++] = text[i] == '\t' ? ' ' : text[i];
        near[k] = '\0';
        if (len == 0)
            rc = kg_error_set(err, KG_ERR_INVALID, "%s: empty file, expected a JSON object", path);
        else
            rc = kg_error_set(err, KG_ERR_INVALID, "%s:%zu:%zu: invalid JSON in line '%s'", path,
                              line, col, near);
        free(text);
        return rc;
    }
    free(text);
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        return kg_error_set(err, KG_ERR_INVALID, "%s: expected a JSON object at the top level",
                            path);
    }
    *root = doc;
    return KG_OK;
}

/* Paths deeper than the buffer are cut and end in "..." rather than being
 * silently wrong: the message still names the file and the outer fields. */
static void mark_if_truncated(kg_json_where *w, int written)
{
    if (written >= (int)sizeof w->path)
        memcpy(w->path + sizeof w->path - 4, "...", 4);
}

kg_json_where kg_json_at_key(const kg_json_where *parent, const char *key)
{
    kg_json_where w = {.file = parent->file};
    int n = parent->path[0] ? snprintf(w.path, sizeof w.path, "%s.%s", parent->path, key)
                            : snprintf(w.path, sizeof w.path, "%s", key);
    mark_if_truncated(&w, n);
    return w;
}

kg_json_where kg_json_at_index(const kg_json_where *parent, size_t index)
{
    kg_json_where w = {.file = parent->file};
    int n = snprintf(w.path, sizeof w.path, "%s[%zu]", parent->path, index);
    mark_if_truncated(&w, n);
    return w;
}

int kg_json_fail(const kg_json_where *w, kg_error *err, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (w->path[0])
        return kg_error_set(err, KG_ERR_INVALID, "%s: %s: %s", w->file, w->path, msg);
    return kg_error_set(err, KG_ERR_INVALID, "%s: %s", w->file, msg);
}

/* Shared shape of the typed readers: find the key, enforce presence, then
 * let the caller's type test decide. */
static int lookup(const kg_json_where *w, const cJSON *obj, const char *key, int required,
                  const cJSON **item, kg_error *err)
{
    *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!*item && required) {
        kg_json_where at = kg_json_at_key(w, key);
        return kg_json_fail(&at, err, "missing required field");
    }
    return KG_OK;
}

static int wrong_type(const kg_json_where *w, const char *key, const char *expected, kg_error *err)
{
    kg_json_where at = kg_json_at_key(w, key);
    return kg_json_fail(&at, err, "expected %s", expected);
}

int kg_json_string(const kg_json_where *w, const cJSON *obj, const char *key, int required,
                   const char **out, kg_error *err)
{
    const cJSON *item;
    int rc = lookup(w, obj, key, required, &item, err);
    if (rc != KG_OK || !item)
        return rc;
    if (!cJSON_IsString(item))
        return wrong_type(w, key, "a string", err);
    *out = item->valuestring;
    return KG_OK;
}

int kg_json_number(const kg_json_where *w, const cJSON *obj, const char *key, int required,
                   double *out, kg_error *err)
{
    const cJSON *item;
    int rc = lookup(w, obj, key, required, &item, err);
    if (rc != KG_OK || !item)
        return rc;
    if (!cJSON_IsNumber(item))
        return wrong_type(w, key, "a number", err);
    *out = item->valuedouble;
    return KG_OK;
}

int kg_json_object(const kg_json_where *w, const cJSON *obj, const char *key, int required,
                   const cJSON **out, kg_error *err)
{
    const cJSON *item;
    int rc = lookup(w, obj, key, required, &item, err);
    if (rc != KG_OK || !item)
        return rc;
    if (!cJSON_IsObject(item))
        return wrong_type(w, key, "an object", err);
    *out = item;
    return KG_OK;
}

int kg_json_array(const kg_json_where *w, const cJSON *obj, const char *key, int required,
                  const cJSON **out, kg_error *err)
{
    const cJSON *item;
    int rc = lookup(w, obj, key, required, &item, err);
    if (rc != KG_OK || !item)
        return rc;
    if (!cJSON_IsArray(item))
        return wrong_type(w, key, "an array", err);
    *out = item;
    return KG_OK;
}

int kg_json_only_keys(const kg_json_where *w, const cJSON *obj, const char *const *allowed,
                      kg_error *err)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, obj)
    {
        int known = 0;
        for (const char *const *a = allowed; *a && !known; a++)
            known = strcmp(*a, item->string) == 0;
        if (!known) {
            char list[512] = "";
            for (const char *const *a = allowed; *a; a++) {
                strncat(list, *a, sizeof list - strlen(list) - 1);
                if (a[1])
                    strncat(list, ", ", sizeof list - strlen(list) - 1);
            }
            return kg_json_fail(w, err, "unknown field '%s' (expected one of: %s)", item->string,
                                list);
        }
    }
    return KG_OK;
}

cJSON *kg_json_exact_array(const double *values, size_t n)
{
    cJSON *array = cJSON_CreateArray();
    for (size_t i = 0; array && i < n; i++) {
        char text[40];
        if (isfinite(values[i]))
            snprintf(text, sizeof text, "%.17g", values[i]);
        else
            snprintf(text, sizeof text, "null"); /* JSON has no NaN or infinity */
        cJSON_AddItemToArray(array, cJSON_CreateRaw(text));
    }
    return array;
}

void kg_json_make_numbers_exact(cJSON *tree)
{
    for (cJSON *item = tree; item; item = item->next) {
        if (item->child)
            kg_json_make_numbers_exact(item->child);
        if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble))
            continue;
        char text[40];
        for (int digits = 15; digits <= 17; digits++) {
            snprintf(text, sizeof text, "%.*g", digits, item->valuedouble);
            if (strtod(text, NULL) == item->valuedouble)
                break;
        }
        char *raw = malloc(strlen(text) + 1);
        if (!raw)
            continue; /* printed as cJSON prints it */
        strcpy(raw, text);
        item->type = cJSON_Raw;
        item->valuestring = raw;
    }
}

const char *kg_json_str(const cJSON *o, const char *key, const char *fallback)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : fallback;
}

double kg_json_num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}
