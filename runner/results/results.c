/* JSON-lines results: durable appends and reading back. */
#include "results.h"
#include "json_file.h"
#include "record_keys.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct kg_results_file {
    int fd;
    char *path;
    size_t torn_bytes; /* cut from a torn last line when opened */
};

static void make_parents(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        mkdir(buf, 0777);
        *p = '/';
    }
}

/* A crash or power loss in the middle of an append leaves a last line with
 * no newline; anything appended after it would be glued to it. Cut it off
 * (it is the record that was being written, and is written again). */
static int drop_torn_tail(int fd, size_t *dropped)
{
    *dropped = 0;
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size == 0)
        return 0;
    off_t end = st.st_size, pos = end;
    char chunk[4096];
    while (pos > 0) {
        size_t n = pos > (off_t)sizeof chunk ? sizeof chunk : (size_t)pos;
        pos -= (off_t)n;
        if (pread(fd, chunk, n, pos) != (ssize_t)n)
            return -1;
        for (size_t i = n; i-- > 0;)
            if (chunk[i] == '\n') {
                off_t keep = pos + (off_t)i + 1;
                *dropped = (size_t)(end - keep);
                return keep == end ? 0 : ftruncate(fd, keep);
            }
    }
    *dropped = (size_t)end;
    return ftruncate(fd, 0);
}

int kg_results_open(const char *path, kg_results_file **out, kg_error *err)
{
    *out = NULL;
    make_parents(path);
    struct stat st;
    int existed = stat(path, &st) == 0;
    int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (fd < 0)
        return kg_error_set(err, KG_ERR_INVALID, "%s: cannot open for writing: %s", path,
                            strerror(errno));
    /* One writer per file: two processes appending to one file (a batch
     * task started twice) would interleave their runs. A file system
     * without locks is written unlocked. */
    if (flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
        close(fd);
        return kg_error_set(err, KG_ERR_INVALID,
                            "%s: another process is writing this results file (a run, or an "
                            "array task started twice); two runs never share a file",
                            path);
    }
    kg_results_file *f = calloc(1, sizeof *f);
    if (!f || drop_torn_tail(fd, &f->torn_bytes) != 0) {
        int e = errno;
        close(fd);
        free(f);
        return kg_error_set(err, KG_ERR_INVALID, "%s: cannot repair a torn last line: %s", path,
                            strerror(e));
    }
    if (!existed) {
        /* The new directory entry must survive a power loss too. */
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    f->fd = fd;
    f->path = strdup(path);
    *out = f;
    return KG_OK;
}

size_t kg_results_torn_bytes(const kg_results_file *f)
{
    return f ? f->torn_bytes : 0;
}

int kg_results_append(kg_results_file *f, const cJSON *record, kg_error *err)
{
    char *text = cJSON_PrintUnformatted(record);
    if (!text)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory serialising a record");
    size_t len = strlen(text);
    text[len] = '\n'; /* replaces the NUL; written as one line */
    size_t done = 0;
    while (done < len + 1) {
        ssize_t n = write(f->fd, text + done, len + 1 - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = errno;
            free(text);
            return kg_error_set(err, KG_ERR_INVALID, "%s: write failed: %s", f->path, strerror(e));
        }
        done += (size_t)n;
    }
    free(text);
    if (fsync(f->fd) != 0 && errno != EINVAL)
        return kg_error_set(err, KG_ERR_INVALID, "%s: fsync failed: %s", f->path, strerror(errno));
    return KG_OK;
}

void kg_results_close(kg_results_file *f)
{
    if (!f)
        return;
    close(f->fd);
    free(f->path);
    free(f);
}

int kg_results_read(const char *path, cJSON **records, kg_error *err)
{
    *records = NULL;
    char *text;
    size_t size;
    int rc = kg_read_file(path, &text, &size, err);
    if (rc)
        return rc;
    cJSON *arr = cJSON_CreateArray();
    size_t line = 0;
    for (char *p = text; p && *p;) {
        char *nl = strchr(p, '\n');
        int last = nl == NULL;
        if (nl)
            *nl = '\0';
        line++;
        if (*p) {
            cJSON *rec = cJSON_Parse(p);
            if (!rec || !cJSON_IsObject(rec)) {
                cJSON_Delete(rec);
                if (last)
                    break; /* a record cut short by a crash mid-write */
                rc = kg_error_set(err, KG_ERR_INVALID, "%s:%zu: not a JSON object", path, line);
                cJSON_Delete(arr);
                free(text);
                return rc;
            }
            cJSON_AddItemToArray(arr, rec);
        }
        p = nl ? nl + 1 : NULL;
    }
    free(text);
    *records = arr;
    return KG_OK;
}

/* The last run of `all` (its header and what follows) into *records;
 * `all` is consumed. */
static int last_run(const char *path, cJSON *all, cJSON **records, kg_error *err)
{
    int last = -1, i = 0;
    const cJSON *rec;
    cJSON_ArrayForEach(rec, all)
    {
        if (kg_record_is(rec, KG_RECORD_RUN))
            last = i;
        i++;
    }
    if (last < 0) {
        cJSON_Delete(all);
        return kg_error_set(err, KG_ERR_INVALID, "%s: no run header", path);
    }
    cJSON *out = cJSON_CreateArray();
    while (cJSON_GetArraySize(all) > last)
        cJSON_AddItemToArray(out, cJSON_DetachItemFromArray(all, last));
    cJSON_Delete(all);
    *records = out;
    return KG_OK;
}

int kg_results_read_last_run(const char *path, cJSON **records, kg_error *err)
{
    *records = NULL;
    cJSON *all;
    int rc = kg_results_read(path, &all, err);
    if (rc)
        return rc;
    return last_run(path, all, records, err);
}

static void note(cJSON *notes, const char *path, size_t line, const char *what)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s:%zu: %s", path, line, what);
    cJSON_AddItemToArray(notes, cJSON_CreateString(buf));
}

/* One line of a file read tolerantly: added to `arr`, or noted. */
static void tolerant_line(const char *path, size_t line, const char *text, cJSON *arr, cJSON *notes)
{
    cJSON *rec = cJSON_Parse(text);
    if (!rec || !cJSON_IsObject(rec)) {
        cJSON_Delete(rec);
        note(notes, path, line, "not a JSON object (a torn or damaged line): not used");
        return;
    }
    if (kg_record_type_of(rec) == KG_RECORD_UNKNOWN) {
        note(notes, path, line, "a record of a type this kgrade does not know: not used");
        cJSON_Delete(rec);
        return;
    }
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_RUN_SCHEMA);
    if (kg_record_is(rec, KG_RECORD_RUN) && cJSON_IsNumber(schema) &&
        schema->valuedouble > KG_RESULTS_SCHEMA)
        note(notes, path, line,
             "a run of a newer results schema: read as this kgrade's, fields it does not "
             "know ignored");
    cJSON_AddItemToArray(arr, rec);
}

int kg_results_read_last_run_tolerant(const char *path, cJSON **records, cJSON *notes,
                                      kg_error *err)
{
    *records = NULL;
    char *text;
    size_t size;
    int rc = kg_read_file(path, &text, &size, err);
    if (rc)
        return rc;
    cJSON *all = cJSON_CreateArray();
    size_t line = 0;
    for (char *p = text; p && *p;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        line++;
        if (*p)
            tolerant_line(path, line, p, all, notes);
        p = nl ? nl + 1 : NULL;
    }
    free(text);
    return last_run(path, all, records, err);
}

uint64_t kg_results_settings_seed(const cJSON *settings, uint64_t fallback)
{
    const cJSON *exact = cJSON_GetObjectItemCaseSensitive(settings, KG_KEY_SETTINGS_SEED_EXACT);
    if (cJSON_IsString(exact)) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(exact->valuestring, &end, 10);
        if (end != exact->valuestring && *end == '\0' && errno == 0)
            return (uint64_t)v;
    }
    const cJSON *number = cJSON_GetObjectItemCaseSensitive(settings, KG_KEY_SETTINGS_SEED);
    if (cJSON_IsNumber(number) && number->valuedouble >= 0 &&
        number->valuedouble < 9007199254740992.0)
        return (uint64_t)number->valuedouble;
    return fallback;
}

int kg_results_read_noting(const char *path, const char *who, cJSON **records, kg_error *err)
{
    cJSON *notes = cJSON_CreateArray();
    int rc = kg_results_read_last_run_tolerant(path, records, notes, err);
    const cJSON *n;
    cJSON_ArrayForEach(n, notes)
    {
        fprintf(stderr, "%s: %s\n", who, n->valuestring);
    }
    cJSON_Delete(notes);
    return rc;
}
