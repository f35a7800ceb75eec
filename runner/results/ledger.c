/* The ledger of an agent's checks (ledger.h). */
#include "ledger.h"
#include "fingerprint.h"
#include "json_file.h"
#include "results.h"
#include "sha256.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KG_LEDGER_MAX_FILES      256
#define KG_LEDGER_MAX_FILE_BYTES (4u << 20)

static const char zero_hash[65] =
    "0000000000000000000000000000000000000000000000000000000000000000";

struct kg_ledger {
    kg_results_file *file; /* appends, synced, locked */
    char path[4096];
    size_t last_seq;
    size_t last_check; /* the highest "check" number of any record */
    char last_hash[65];
};

/* The highest "check" number in the ledger's text. */
static size_t highest_check(const char *text, size_t size)
{
    size_t best = 0;
    for (size_t at = 0; at < size;) {
        const char *nl = memchr(text + at, '\n', size - at);
        size_t len = nl ? (size_t)(nl - (text + at)) : size - at;
        cJSON *rec = cJSON_ParseWithLength(text + at, len);
        double k = kg_json_num(rec, "check");
        if (k == k && k > (double)best && k < 1e9)
            best = (size_t)k;
        cJSON_Delete(rec);
        at += len + 1;
    }
    return best;
}

/* The last line of `text` (no newline at its end: cut already). */
static const char *last_line(const char *text, size_t size, size_t *len)
{
    if (size == 0)
        return NULL;
    size_t end = size - 1; /* the final newline */
    size_t start = end;
    while (start > 0 && text[start - 1] != '\n')
        start--;
    *len = end - start;
    return text + start;
}

int kg_ledger_open(const char *path, kg_ledger **out, kg_error *err)
{
    *out = NULL;
    kg_ledger *l = calloc(1, sizeof *l);
    if (!l)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    snprintf(l->path, sizeof l->path, "%s", path);
    memcpy(l->last_hash, zero_hash, sizeof zero_hash);
    int rc = kg_results_open(path, &l->file, err);
    char *text = NULL;
    size_t size = 0;
    if (!rc)
        rc = kg_read_file(path, &text, &size, err);
    size_t len = 0;
    const char *line = rc ? NULL : last_line(text, size, &len);
    if (line) {
        l->last_check = highest_check(text, size);
        kg_sha256_hex(line, len, l->last_hash);
        cJSON *rec = cJSON_ParseWithLength(line, len);
        const cJSON *seq = cJSON_GetObjectItemCaseSensitive(rec, "seq");
        if (!cJSON_IsNumber(seq) || seq->valuedouble < 1)
            rc = kg_error_set(err, KG_ERR_INVALID,
                              "%s: its last line is not a ledger record (`kgrade ledger verify "
                              "%s` says more)",
                              path, path);
        else
            l->last_seq = (size_t)seq->valuedouble;
        cJSON_Delete(rec);
    }
    free(text);
    if (rc) {
        kg_ledger_close(l);
        return rc;
    }
    *out = l;
    return KG_OK;
}

void kg_ledger_close(kg_ledger *l)
{
    if (!l)
        return;
    kg_results_close(l->file);
    free(l);
}

size_t kg_ledger_next_check(const kg_ledger *l)
{
    return l->last_check + 1;
}

void kg_ledger_eval_path(const kg_ledger *l, char *out, size_t size, char *name, size_t name_size)
{
    snprintf(name, name_size, "%06zu.jsonl", l->last_check + 1);
    snprintf(out, size, "%s.evals/%s", l->path, name);
}

/* FILE.objects/<sha256>: written to a new file, synced and renamed, once. */
static int store_object(const kg_ledger *l, const char *data, size_t size, char hex[65],
                        kg_error *err)
{
    kg_sha256_hex(data, size, hex);
    char dir[4200], path[4300];
    snprintf(dir, sizeof dir, "%s.objects", l->path);
    snprintf(path, sizeof path, "%s/%s", dir, hex);
    if (access(path, F_OK) == 0)
        return KG_OK;
    mkdir(dir, 0777);
    return kg_write_file_atomic(path, data, size, err);
}

/* nftw has no user pointer: the walk's state, one walk at a time. */
static struct {
    const char *root;
    char *names[KG_LEDGER_MAX_FILES];
    size_t n;
} walk;

static int collect(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    const char *base = path + ftw->base;
    if (ftw->level > 0 && base[0] == '.')
        return type == FTW_D ? FTW_SKIP_SUBTREE : FTW_CONTINUE;
    if (type != FTW_F || !S_ISREG(st->st_mode) || st->st_size > KG_LEDGER_MAX_FILE_BYTES)
        return FTW_CONTINUE;
    if (walk.n == KG_LEDGER_MAX_FILES)
        return FTW_STOP;
    walk.names[walk.n] = strdup(path + strlen(walk.root) + 1);
    walk.n += walk.names[walk.n] != NULL;
    return FTW_CONTINUE;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int kg_ledger_store_folder(kg_ledger *l, const char *dir, cJSON **files, kg_error *err)
{
    *files = cJSON_CreateArray();
    walk.root = dir;
    walk.n = 0;
    if (nftw(dir, collect, 16, FTW_PHYS | FTW_ACTIONRETVAL) == -1)
        return kg_error_set(err, KG_ERR_INVALID, "%s: cannot read the folder: %s", dir,
                            strerror(errno));
    qsort(walk.names, walk.n, sizeof walk.names[0], cmp_name);
    int rc = KG_OK;
    for (size_t i = 0; i < walk.n; i++) {
        char path[8300], hex[65];
        snprintf(path, sizeof path, "%s/%s", dir, walk.names[i]);
        char *data = NULL;
        size_t size = 0;
        if (!rc)
            rc = kg_read_file(path, &data, &size, err);
        if (!rc)
            rc = store_object(l, data, size, hex, err);
        if (!rc) {
            cJSON *f = cJSON_CreateObject();
            cJSON_AddStringToObject(f, "path", walk.names[i]);
            cJSON_AddStringToObject(f, "sha256", hex);
            cJSON_AddNumberToObject(f, "bytes", (double)size);
            cJSON_AddItemToArray(*files, f);
        }
        free(data);
        free(walk.names[i]);
    }
    walk.n = 0;
    return rc;
}

int kg_ledger_append(kg_ledger *l, cJSON *record, char hash[65], kg_error *err)
{
    char now[32];
    kg_utc_now(now, sizeof now);
    /* seq, at and prev first, for a reader's eye. */
    cJSON *head = cJSON_CreateObject();
    cJSON_AddNumberToObject(head, "seq", (double)(l->last_seq + 1));
    cJSON_AddStringToObject(head, "at", now);
    cJSON_AddStringToObject(head, "prev", l->last_hash);
    cJSON *item;
    cJSON_ArrayForEach(item, record)
    {
        cJSON_AddItemReferenceToObject(head, item->string, item);
    }
    int rc = kg_results_append(l->file, head, err);
    char *text = rc ? NULL : cJSON_PrintUnformatted(head);
    if (text) {
        kg_sha256_hex(text, strlen(text), l->last_hash);
        memcpy(hash, l->last_hash, 65);
        l->last_seq++;
        double k = kg_json_num(record, "check");
        if (k == k && k > (double)l->last_check)
            l->last_check = (size_t)k;
    }
    free(text);
    cJSON_Delete(head);
    return rc;
}

/* Is the file at `path` there with this SHA-256? */
static int file_has_hash(const char *path, const char *want)
{
    char *data = NULL;
    size_t size = 0;
    kg_error err = {0};
    if (kg_read_file(path, &data, &size, &err) != KG_OK)
        return 0;
    char hex[65];
    kg_sha256_hex(data, size, hex);
    free(data);
    return want && strcmp(hex, want) == 0;
}

/* A record's stored sources and results file, against their hashes. */
static int check_stored(const char *path, size_t line, const cJSON *rec, kg_error *err)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(rec, "sources"))
    {
        char object[4300];
        const char *hash = kg_json_str(f, "sha256", "");
        snprintf(object, sizeof object, "%s.objects/%.64s", path, hash);
        if (strspn(hash, "0123456789abcdef") != 64 || hash[64] || !file_has_hash(object, hash))
            return kg_error_set(err, KG_ERR_INVALID,
                                "%s:%zu: source %s: its stored copy %s is missing or altered", path,
                                line, kg_json_str(f, "path", "?"), object);
    }
    const char *results = kg_json_str(rec, "results_file", NULL);
    char file[4400];
    snprintf(file, sizeof file, "%s.evals/%s", path, results ? results : "");
    if (results &&
        (strchr(results, '/') || !file_has_hash(file, kg_json_str(rec, "results_sha256", NULL))))
        return kg_error_set(err, KG_ERR_INVALID,
                            "%s:%zu: its results file %s is missing or altered (results_sha256)",
                            path, line, file);
    return KG_OK;
}

/* One line of the ledger against the chain so far. */
static int check_line(const char *path, size_t line, const char *text, size_t len, const char *prev,
                      kg_error *err)
{
    cJSON *rec = cJSON_ParseWithLength(text, len);
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(rec, "seq");
    int rc = KG_OK;
    if (!cJSON_IsObject(rec))
        rc = kg_error_set(err, KG_ERR_INVALID, "%s:%zu: not a JSON object: an edited line", path,
                          line);
    else if (!cJSON_IsNumber(seq) || seq->valuedouble != (double)line)
        rc = kg_error_set(err, KG_ERR_INVALID,
                          "%s:%zu: record numbered %s where %zu belongs: records were deleted, "
                          "added or moved",
                          path, line, cJSON_IsNumber(seq) ? "otherwise" : "not at all", line);
    else if (strcmp(kg_json_str(rec, "prev", ""), prev) != 0)
        rc = kg_error_set(err, KG_ERR_INVALID,
                          "%s:%zu: its prev is not the SHA-256 of line %zu: that line was edited, "
                          "or this one moved",
                          path, line, line - 1);
    else
        rc = check_stored(path, line, rec, err);
    cJSON_Delete(rec);
    return rc;
}

int kg_ledger_verify(const char *path, size_t *count, char head[65], int *torn, kg_error *err)
{
    *count = 0;
    *torn = 0;
    memcpy(head, zero_hash, sizeof zero_hash);
    char *text = NULL;
    size_t size = 0;
    int rc = kg_read_file(path, &text, &size, err);
    for (size_t at = 0, line = 1; !rc && at < size; line++) {
        const char *nl = memchr(text + at, '\n', size - at);
        if (!nl) { /* killed mid-append: never part of the ledger */
            *torn = 1;
            break;
        }
        size_t len = (size_t)(nl - (text + at));
        rc = check_line(path, line, text + at, len, head, err);
        if (!rc) {
            kg_sha256_hex(text + at, len, head);
            *count = line;
        }
        at += len + 1;
    }
    free(text);
    return rc;
}

/* mkdir -p for the folders of `file`. */
static void make_parents(char *file)
{
    for (char *p = file + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        mkdir(file, 0777);
        *p = '/';
    }
}

int kg_ledger_restore_sources(const char *path, const cJSON *sources, const char *dir,
                              kg_error *err)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, sources)
    {
        const char *rel = kg_json_str(f, "path", ""), *hash = kg_json_str(f, "sha256", "");
        if (!rel[0] || rel[0] == '/' || strstr(rel, "..") || strlen(hash) != 64)
            return kg_error_set(err, KG_ERR_INVALID,
                                "%s: a source path '%s' outside its folder: refused", path, rel);
        char object[4300], file[8300];
        snprintf(object, sizeof object, "%s.objects/%s", path, hash);
        snprintf(file, sizeof file, "%s/%s", dir, rel);
        char *data = NULL;
        size_t size = 0;
        char hex[65] = "";
        int rc = kg_read_file(object, &data, &size, err);
        if (!rc)
            kg_sha256_hex(data, size, hex);
        if (!rc && strcmp(hex, hash) != 0)
            rc = kg_error_set(err, KG_ERR_INVALID, "%s: altered (not its SHA-256)", object);
        make_parents(file);
        if (!rc) {
            FILE *out = fopen(file, "wb");
            int ok = out && (size == 0 || fwrite(data, 1, size, out) == size);
            if (out && fclose(out) != 0)
                ok = 0;
            if (!ok)
                rc = kg_error_set(err, KG_ERR_INVALID, "%s: cannot write", file);
        }
        free(data);
        if (rc)
            return rc;
    }
    return KG_OK;
}

int kg_ledger_read(const char *path, cJSON **records, kg_error *err)
{
    return kg_results_read(path, records, err);
}
