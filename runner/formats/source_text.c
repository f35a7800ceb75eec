/* Expanding a kernel source's includes inside its set's folder. */
#include "source_text.h"
#include "str.h"
#include "json_file.h"
#include "kernelset.h"
#include "record_keys.h"
#include "sha256.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_INCLUDE_DEPTH  16
#define MAX_EXPANDED_BYTES ((size_t)4 * KG_MAX_SOURCE_BYTES)

/* Headers a CUDA or HIP source may include with <...>: the toolchain's own,
 * which the runtime compilers supply (no include path is ever passed). */
static const char *const toolchain_headers[][6] = {
    [KG_LANG_CUDA] = {"cuda_", "cuda/", "mma.h", "cooperative_groups", "vector_types.h", NULL},
    [KG_LANG_HIP] = {"hip/", "hip_", NULL},
};

typedef struct expander {
    char set_dir[PATH_MAX]; /* real path */
    kg_language language;
    kg_text out;
    cJSON *files;
    kg_error *err;
} expander;

static int is_ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* A refusal: "file:line: what". */
static int refuse(expander *x, const char *file, size_t line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static int refuse(expander *x, const char *file, size_t line, const char *fmt, ...)
{
    char what[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return kg_error_set(x->err, KG_ERR_BUILD, "%s:%zu: %s", file, line, what);
}

/* Copies a logical line with comments replaced by a space and literals
 * kept, tracking a block comment across lines in *in_comment. Returns -1
 * for a raw string literal that does not end on its line. */
static int strip_comments(const char *src, size_t n, int *in_comment, char *dst)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (*in_comment) {
            if (src[i] == '*' && i + 1 < n && src[i + 1] == '/') {
                *in_comment = 0;
                dst[o++] = ' ';
                i += 2;
            } else {
                i++;
            }
            continue;
        }
        char c = src[i];
        if (c == '/' && i + 1 < n && src[i + 1] == '*') {
            *in_comment = 1;
            i += 2;
            continue;
        }
        if (c == '/' && i + 1 < n && src[i + 1] == '/')
            break;
        if (c == '"' && o > 0 && dst[o - 1] == 'R' &&
            (o == 1 || !is_ident_char(dst[o - 2]) || dst[o - 2] == '8' || dst[o - 2] == 'u' ||
             dst[o - 2] == 'U' || dst[o - 2] == 'L')) {
            /* C++ raw string R"delim( ... )delim": copied whole. */
            size_t open = i + 1;
            while (open < n && src[open] != '(')
                open++;
            if (open >= n)
                return -1;
            char close[24];
            size_t dlen = open - (i + 1);
            if (dlen > 16)
                return -1;
            snprintf(close, sizeof close, ")%.*s\"", (int)dlen, src + i + 1);
            const char *end = NULL;
            for (size_t k = open; k + strlen(close) <= n && !end; k++)
                if (memcmp(src + k, close, strlen(close)) == 0)
                    end = src + k + strlen(close);
            if (!end)
                return -1;
            size_t len = (size_t)(end - (src + i));
            memcpy(dst + o, src + i, len);
            o += len;
            i += len;
            continue;
        }
        if (c == '"' || c == '\'') {
            dst[o++] = src[i++];
            while (i < n && src[i] != c) {
                if (src[i] == '\\' && i + 1 < n)
                    dst[o++] = src[i++];
                dst[o++] = src[i++];
            }
            if (i < n)
                dst[o++] = src[i++];
            continue;
        }
        dst[o++] = src[i++];
    }
    dst[o] = '\0';
    return 0;
}

/* The directive name of a comment-free line ("include"), or "" when the
 * line is not a directive; *rest points after the name. Recognises the
 * digraph %: as well as #. */
static void directive_of(const char *line, char *name, size_t size, const char **rest)
{
    name[0] = '\0';
    const char *p = line;
    while (*p == ' ' || *p == '\t' || *p == '\f' || *p == '\v' || *p == '\r')
        p++;
    if (*p == '#')
        p++;
    else if (p[0] == '%' && p[1] == ':')
        p += 2;
    else
        return;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = 0;
    while (is_ident_char(p[n]) && n + 1 < size) {
        name[n] = p[n];
        n++;
    }
    name[n] = '\0';
    *rest = p + n;
}

/* First use of inline assembly in a comment-free line, skipping literals. */
static const char *find_asm(const char *line)
{
    for (const char *p = line; *p;) {
        if (*p == '"' || *p == '\'') {
            char q = *p++;
            while (*p && *p != q)
                p += p[0] == '\\' && p[1] ? 2 : 1;
            if (*p)
                p++;
            continue;
        }
        if (is_ident_char(*p) && (p == line || !is_ident_char(p[-1]))) {
            size_t n = 0;
            while (is_ident_char(p[n]))
                n++;
            if ((n == 3 && strncmp(p, "asm", 3) == 0) || (n == 5 && strncmp(p, "__asm", 5) == 0) ||
                (n == 7 && strncmp(p, "__asm__", 7) == 0))
                return p;
            p += n;
            continue;
        }
        p++;
    }
    return NULL;
}

static int toolchain_header(kg_language lang, const char *name)
{
    if (lang >= (int)(sizeof toolchain_headers / sizeof toolchain_headers[0]) || strstr(name, ".."))
        return 0;
    for (int i = 0; toolchain_headers[lang][i]; i++)
        if (strncmp(name, toolchain_headers[lang][i], strlen(toolchain_headers[lang][i])) == 0)
            return 1;
    return 0;
}

static int path_is_inside(const char *dir, const char *file)
{
    size_t len = strlen(dir);
    return strncmp(file, dir, len) == 0 && file[len] == '/';
}

static int expand_file(expander *x, const char *path, int depth);

/* `#include "name"` from `file`: resolved against the including file's
 * folder, and inlined when it stays inside the set's folder. */
static int include_quoted(expander *x, const char *file, size_t line, const char *name, int depth)
{
    if (!name[0] || name[0] == '/')
        return refuse(x, file, line,
                      "#include \"%s\": an include must name a file inside the kernel set's "
                      "folder by a relative path",
                      name);
    char dir[PATH_MAX], candidate[PATH_MAX], real[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", file);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    if (snprintf(candidate, sizeof candidate, "%s/%s", dir, name) >= (int)sizeof candidate)
        return refuse(x, file, line, "#include \"%s\": path too long", name);
    struct stat st;
    if (stat(candidate, &st) != 0 || !realpath(candidate, real))
        return refuse(x, file, line, "#include \"%s\": not found (looked for %s)", name, candidate);
    if (!path_is_inside(x->set_dir, real))
        return refuse(x, file, line,
                      "#include \"%s\" resolves to %s, outside the kernel set's folder %s: what "
                      "is graded must be in the set (and is hashed whole)",
                      name, real, x->set_dir);
    if (!S_ISREG(st.st_mode))
        return refuse(x, file, line, "#include \"%s\": not a regular file", name);
    if (depth >= MAX_INCLUDE_DEPTH)
        return refuse(x, file, line, "#include \"%s\": includes nested deeper than %d (a cycle?)",
                      name, MAX_INCLUDE_DEPTH);
    kg_text_add(&x->out, "#line 1 \"");
    kg_text_add_escaped(&x->out, real);
    kg_text_add(&x->out, "\"\n");
    int rc = expand_file(x, real, depth + 1);
    if (rc)
        return rc;
    char resume[64];
    snprintf(resume, sizeof resume, "\n#line %zu \"", line + 1);
    kg_text_add(&x->out, resume);
    kg_text_add_escaped(&x->out, file);
    kg_text_add(&x->out, "\"\n");
    return KG_OK;
}

/* One logical line (physical lines joined at backslash-newlines) whose
 * comment-free form is `clean`: 1 when it was an include now inlined, 2 an
 * include of a toolchain header kept as written, 0 ordinary text, or a
 * (negative) error. */
static int handle_directive(expander *x, const char *file, size_t line, const char *clean,
                            int began_in_comment, int depth)
{
    char name[32];
    const char *rest = NULL;
    directive_of(clean, name, sizeof name, &rest);
    if (!name[0])
        return 0;
    int reads_files = strstr(name, "include") || strstr(name, "import") || strstr(name, "embed");
    if (!reads_files)
        return 0;
    if (began_in_comment)
        return refuse(x, file, line,
                      "#%s after a comment that began on an earlier line: write the directive "
                      "on a line of its own",
                      name);
    if (strcmp(name, "include") != 0)
        return refuse(x, file, line,
                      "#%s is not allowed in a kernel source: only #include of a file inside "
                      "the kernel set's folder",
                      name);
    while (*rest == ' ' || *rest == '\t')
        rest++;
    char close = *rest == '"' ? '"' : *rest == '<' ? '>' : 0;
    const char *end = close ? strchr(rest + 1, close) : NULL;
    const char *after = end ? end + 1 : NULL;
    while (after && (*after == ' ' || *after == '\t' || *after == '\r'))
        after++;
    if (!end || *after)
        return refuse(x, file, line,
                      "#include %.60s: a computed include (a macro, or text after the name) is "
                      "not allowed; name the file in quotes",
                      rest);
    char target[PATH_MAX];
    snprintf(target, sizeof target, "%.*s", (int)(end - rest - 1), rest + 1);
    if (close == '>') {
        if (toolchain_header(x->language, target))
            return 2; /* kept as written */
        return refuse(x, file, line,
                      "#include <%s>: only the %s toolchain's own headers may be included with "
                      "<...>; put your header in the kernel set's folder and include it in quotes",
                      target, kg_language_name(x->language));
    }
    int rc = include_quoted(x, file, line, target, depth);
    return rc ? rc : 1;
}

static int expand_file(expander *x, const char *path, int depth)
{
    char *data;
    size_t size;
    int rc = kg_read_file(path, &data, &size, x->err);
    if (rc)
        return rc;
    char hex[65];
    kg_sha256_hex(data, size, hex);
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, KG_KEY_FILE_PATH, path);
    cJSON_AddStringToObject(f, KG_KEY_FILE_SHA256, hex);
    cJSON_AddNumberToObject(f, KG_KEY_FILE_BYTES, (double)size);
    cJSON_AddItemToArray(x->files, f);
    char *clean = malloc(size + 1);
    char *logical = malloc(size + 1);
    if (!clean || !logical) {
        free(data);
        free(clean);
        free(logical);
        return kg_error_set(x->err, KG_ERR_MEMORY, "out of memory reading %s", path);
    }
    int native = x->language == KG_LANG_CUDA || x->language == KG_LANG_HIP;
    int in_comment = 0;
    size_t line = 1;
    for (size_t at = 0; at < size && rc == KG_OK;) {
        /* A logical line: physical lines joined where one ends in '\'. */
        size_t start = at, first_line = line, n = 0;
        int began_in_comment = in_comment;
        for (;;) {
            size_t eol = at;
            while (eol < size && data[eol] != '\n')
                eol++;
            size_t len = eol - at;
            int spliced =
                eol < size && ((len >= 1 && data[eol - 1] == '\\') ||
                               (len >= 2 && data[eol - 1] == '\r' && data[eol - 2] == '\\'));
            size_t keep = spliced ? len - (data[eol - 1] == '\r' ? 2 : 1) : len;
            memcpy(logical + n, data + at, keep);
            n += keep;
            at = eol < size ? eol + 1 : eol;
            if (eol < size)
                line++;
            if (!spliced)
                break;
        }
        if (strip_comments(logical, n, &in_comment, clean) != 0) {
            rc = refuse(x, path, first_line,
                        "a raw string literal must end on the line it starts (kgrade reads every "
                        "line for includes)");
            break;
        }
        if (!native) {
            const char *a = find_asm(clean);
            if (a) {
                rc = refuse(x, path, first_line,
                            "inline assembly ('%.*s') is not allowed in %s sources: on a CPU "
                            "device it is host assembly, which can read files and escape the "
                            "checks",
                            a[2] == 'm'   ? 3
                            : a[5] == '_' ? 7
                                          : 5,
                            a, kg_language_name(x->language));
                break;
            }
        }
        int handled = handle_directive(x, path, first_line, clean, began_in_comment, depth);
        if (handled < 0) {
            rc = handled;
            break;
        }
        if (handled != 1)
            kg_text_append(&x->out, data + start, at - start);
        if (x->out.len > MAX_EXPANDED_BYTES)
            rc = refuse(x, path, first_line, "the expanded source exceeds %zu MiB",
                        MAX_EXPANDED_BYTES >> 20);
    }
    if (!rc && size && data[size - 1] != '\n' && depth > 0)
        kg_text_add(&x->out, "\n");
    free(data);
    free(clean);
    free(logical);
    return rc;
}

/* Read and hashed as they are: binaries, and Triton's Python (no include
 * for kgrade to expand; the helper keeps only the file's own @triton.jit
 * functions, so nothing else is read). */
static int is_read_as_is(kg_language lang)
{
    return lang == KG_LANG_PTX || lang == KG_LANG_CUBIN || lang == KG_LANG_FATBIN ||
           lang == KG_LANG_HSACO || lang == KG_LANG_SPIRV || lang == KG_LANG_TRITON;
}

int kg_source_text_load(const char *path, const char *set_dir, kg_language language,
                        kg_source_text *out, kg_error *err)
{
    memset(out, 0, sizeof *out);
    out->files = cJSON_CreateArray();
    if (!out->files)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    if (is_read_as_is(language)) {
        int rc = kg_read_file(path, &out->text, &out->size, err);
        if (rc)
            return rc;
        kg_sha256_hex(out->text, out->size, out->sha256);
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, KG_KEY_FILE_PATH, path);
        cJSON_AddStringToObject(f, KG_KEY_FILE_SHA256, out->sha256);
        cJSON_AddNumberToObject(f, KG_KEY_FILE_BYTES, (double)out->size);
        cJSON_AddItemToArray(out->files, f);
        return KG_OK;
    }
    expander x = {.language = language, .files = out->files, .err = err};
    if (!realpath(set_dir, x.set_dir))
        return kg_error_set(err, KG_ERR_INVALID, "%s: cannot resolve the kernel set's folder: %s",
                            set_dir, strerror(errno));
    int rc = expand_file(&x, path, 0);
    if (!rc && x.out.failed)
        rc = kg_error_set(err, KG_ERR_MEMORY, "out of memory expanding %s", path);
    if (rc) {
        out->refused = rc == KG_ERR_BUILD;
        free(x.out.data);
        return rc;
    }
    out->text = x.out.data ? x.out.data : strdup("");
    out->size = x.out.len;
    kg_sha256_hex(out->text, out->size, out->sha256);
    return KG_OK;
}

void kg_source_text_free(kg_source_text *s)
{
    free(s->text);
    cJSON_Delete(s->files);
    memset(s, 0, sizeof *s);
}
