/* Merging the shards of a run (shards.h). */
#include "shards.h"
#include "id_list.h"
#include "json_file.h"
#include "record_keys.h"
#include "results.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What the merge holds while it reads the shards. */
typedef struct merge_state {
    kg_merged *out;
    cJSON *ref;           /* the first shard's header */
    const char *ref_path; /* its file */
    cJSON **by_id;        /* [evaluations + 1]: the shape record kept for each id */
    const char **from;    /* [evaluations + 1]: the file it came from */
    cJSON *skipped;       /* the skipped records kept */
    cJSON *kernels; /* "workload\tset" -> "sources|file": the sources each set was built from */
    unsigned char *only; /* [evaluations + 1]: the current shard's --only */
    cJSON *shard_list;   /* merged.shards */
    size_t kept;         /* shape records kept so far */
} merge_state;

static void note(kg_merged *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(kg_merged *m, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    cJSON_AddItemToArray(m->notes, cJSON_CreateString(buf));
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static char *printed(const cJSON *v)
{
    return v ? cJSON_PrintUnformatted(v) : NULL;
}

/* The first of `keys` (NULL-ended) whose values differ between objects a
 * and b, with both values printed into what (size bytes); NULL if none. */
static const char *first_difference(const cJSON *a, const cJSON *b, const char *const *keys,
                                    char *what, size_t size)
{
    for (size_t i = 0; keys[i]; i++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, keys[i]);
        const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, keys[i]);
        if ((!x && !y) || cJSON_Compare(x, y, 1))
            continue;
        char *xs = printed(x), *ys = printed(y);
        snprintf(what, size, "%.200s there, %.200s here", xs ? xs : "nothing", ys ? ys : "nothing");
        free(xs);
        free(ys);
        return keys[i];
    }
    return NULL;
}

/* Every key of a's or b's settings but the two a shard may differ in. */
static const char *settings_difference(const cJSON *a, const cJSON *b, char *what, size_t size)
{
    const char *keys[128];
    size_t n = 0;
    const cJSON *sides[2] = {a, b}, *item;
    for (int s = 0; s < 2; s++)
        cJSON_ArrayForEach(item, sides[s])
        {
            if (n + 1 < sizeof keys / sizeof keys[0] && item->string &&
                strcmp(item->string, KG_KEY_SETTINGS_RESULTS_FILE) != 0 &&
                strcmp(item->string, KG_KEY_SETTINGS_ONLY) != 0)
                keys[n++] = item->string;
        }
    keys[n] = NULL;
    return first_difference(a, b, keys, what, size);
}

/* Is header h (of `path`) of the run of the reference header? */
static int same_run(const merge_state *st, const cJSON *h, const char *path, kg_error *err)
{
    static const char *const kgrade_keys[] = {KG_KEY_KGRADE_VERSION, KG_KEY_KGRADE_GIT_COMMIT,
                                              NULL};
    static const char *const device_keys[] = {KG_KEY_DEVICE_BACKEND, KG_KEY_DEVICE_NAME,
                                              KG_KEY_DEVICE_DRIVER_VERSION, NULL};
    const cJSON *sa = cJSON_GetObjectItemCaseSensitive(st->ref, KG_KEY_RUN_SETTINGS);
    const cJSON *sb = cJSON_GetObjectItemCaseSensitive(h, KG_KEY_RUN_SETTINGS);
    const cJSON *ka = cJSON_GetObjectItemCaseSensitive(st->ref, KG_KEY_RUN_KGRADE);
    const cJSON *kb = cJSON_GetObjectItemCaseSensitive(h, KG_KEY_RUN_KGRADE);
    const cJSON *da = cJSON_GetObjectItemCaseSensitive(st->ref, KG_KEY_RUN_DEVICE);
    const cJSON *db = cJSON_GetObjectItemCaseSensitive(h, KG_KEY_RUN_DEVICE);
    char what[512];
    const char *part = "settings";
    const char *key = settings_difference(sa, sb, what, sizeof what);
    if (!key) {
        part = "kgrade";
        key = first_difference(ka, kb, kgrade_keys, what, sizeof what);
    }
    if (!key) {
        part = "device";
        key = first_difference(da, db, device_keys, what, sizeof what);
    }
    if (!key)
        return KG_OK;
    return kg_error_set(err, KG_ERR_INVALID,
                        "%s: refused, not a shard of the run in %s: %s.%s is %s (a merged file "
                        "holds one run on one device: merge each device's shards apart and "
                        "compare the results with `kgrade compare`)",
                        path, st->ref_path, part, key, what);
}

/* The run's evaluation count from the reference header, checked. */
static int read_evaluations(merge_state *st, kg_error *err)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(st->ref, KG_KEY_RUN_SETTINGS);
    double e = kg_json_num(s, KG_KEY_SETTINGS_EVALUATIONS);
    if (!(e >= 1 && e <= KG_MAX_EVALUATIONS) || e != floor(e))
        return kg_error_set(err, KG_ERR_INVALID,
                            "%s: settings.evaluations is missing or not a count of 1 to %d: not "
                            "a shard (written by `kgrade run` of this version or later?)",
                            st->ref_path, KG_MAX_EVALUATIONS);
    size_t n = (size_t)e + 1;
    st->out->evaluations = (size_t)e;
    st->by_id = calloc(n, sizeof *st->by_id);
    st->from = calloc(n, sizeof *st->from);
    st->only = calloc(n, 1);
    st->out->missing = calloc(n, 1);
    if (!st->by_id || !st->from || !st->only || !st->out->missing)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    return KG_OK;
}

/* An evaluation id, or -1 when v is not a whole number in range. */
static long evaluation_id(const cJSON *v)
{
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 0 ||
        v->valuedouble > KG_MAX_EVALUATIONS)
        return -1;
    return (long)v->valuedouble;
}

/* The sources a shape record's sets were built from, against every other
 * shard's for the same workload and set. */
static int same_kernels(merge_state *st, const cJSON *rec, const char *path, kg_error *err)
{
    static const char *const roles[] = {KG_KEY_SHAPE_BASELINE, KG_KEY_SHAPE_CANDIDATE};
    for (int r = 0; r < 2; r++) {
        const cJSON *set = cJSON_GetObjectItemCaseSensitive(rec, roles[r]);
        const char *src = kg_json_str(set, KG_KEY_SET_SOURCE_SHA256, NULL);
        const char *manifest = kg_json_str(set, KG_KEY_SET_MANIFEST_SHA256, NULL);
        if (!src && !manifest) /* never loaded (missing, not run): nothing to hold */
            continue;
        char key[512], value[1024];
        snprintf(key, sizeof key, "%.200s\t%.200s", kg_json_str(rec, KG_KEY_SHAPE_WORKLOAD, "?"),
                 kg_json_str(set, KG_KEY_SET_NAME, "?"));
        snprintf(value, sizeof value, "%.64s %.64s|%.700s", src ? src : "-",
                 manifest ? manifest : "-", path);
        const cJSON *seen = cJSON_GetObjectItemCaseSensitive(st->kernels, key);
        if (!seen) {
            cJSON_AddStringToObject(st->kernels, key, value);
            continue;
        }
        const char *bar = strchr(seen->valuestring, '|');
        if (strncmp(seen->valuestring, value, (size_t)(bar - seen->valuestring)) != 0)
            return kg_error_set(err, KG_ERR_INVALID,
                                "%s: refused, the %s set %s of %s was built from other sources "
                                "than in %s (source_sha256 and manifest_sha256 %s here, %.*s "
                                "there): the shards graded different kernels",
                                path, roles[r], kg_json_str(set, KG_KEY_SET_NAME, "?"),
                                kg_json_str(rec, KG_KEY_SHAPE_WORKLOAD, "?"), bar + 1, value,
                                (int)(bar - seen->valuestring), seen->valuestring);
    }
    return KG_OK;
}

/* Do two shape records stand for the same evaluation (workload, shape,
 * baseline set)? */
static int same_evaluation(const cJSON *a, const cJSON *b)
{
    static const char *const keys[] = {KG_KEY_SHAPE_WORKLOAD, KG_KEY_SHAPE_SHAPE, NULL};
    char what[512];
    const cJSON *ba = cJSON_GetObjectItemCaseSensitive(a, KG_KEY_SHAPE_BASELINE);
    const cJSON *bb = cJSON_GetObjectItemCaseSensitive(b, KG_KEY_SHAPE_BASELINE);
    return !first_difference(a, b, keys, what, sizeof what) &&
           strcmp(kg_json_str(ba, KG_KEY_SET_NAME, "?"), kg_json_str(bb, KG_KEY_SET_NAME, "?")) ==
               0;
}

/* A shape record of `path`: kept, dropped with a note, or the merge
 * refused. */
static int take_shape(merge_state *st, cJSON *rec, const char *path, kg_error *err)
{
    kg_merged *m = st->out;
    long id = evaluation_id(cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_EVALUATION));
    if (id < 1 || (size_t)id > m->evaluations) {
        note(m, "%s: a shape record (%s) with no evaluation id in 1..%zu: not used", path,
             kg_json_str(rec, KG_KEY_SHAPE_SHAPE, "?"), m->evaluations);
        return KG_OK;
    }
    if (!st->only[id]) {
        note(m, "%s: evaluation %ld is not one of the shard's (settings.only): not used", path, id);
        return KG_OK;
    }
    int rc = same_kernels(st, rec, path, err);
    if (rc)
        return rc;
    if (!st->by_id[id]) {
        st->by_id[id] = cJSON_Duplicate(rec, 1);
        st->from[id] = path;
        st->kept++;
        return KG_OK;
    }
    if (!same_evaluation(st->by_id[id], rec))
        return kg_error_set(err, KG_ERR_INVALID,
                            "%s: refused, its evaluation %ld is %s %s, but %s %s in %s: the "
                            "shards number the evaluations differently (other workload folders?)",
                            path, id, kg_json_str(rec, KG_KEY_SHAPE_WORKLOAD, "?"),
                            kg_json_str(rec, KG_KEY_SHAPE_SHAPE, "?"),
                            kg_json_str(st->by_id[id], KG_KEY_SHAPE_WORKLOAD, "?"),
                            kg_json_str(st->by_id[id], KG_KEY_SHAPE_SHAPE, "?"), st->from[id]);
    m->duplicates++;
    note(m, "%s: evaluation %ld is also in %s, which is kept: not used", path, id, st->from[id]);
    return KG_OK;
}

/* A skipped workload: kept once per workload, baseline, role and set. */
static void take_skipped(merge_state *st, const cJSON *rec, const char *path)
{
    static const char *const keys[] = {KG_KEY_SKIPPED_WORKLOAD, KG_KEY_SKIPPED_BASELINE,
                                       KG_KEY_SKIPPED_ROLE, KG_KEY_SKIPPED_SET, NULL};
    const cJSON *range = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SKIPPED_EVALUATIONS);
    if (range) {
        long first = evaluation_id(cJSON_GetArrayItem(range, 0));
        long last = evaluation_id(cJSON_GetArrayItem(range, 1));
        if (!cJSON_IsArray(range) || cJSON_GetArraySize(range) != 2 || first < 1 || last < first ||
            (size_t)last > st->out->evaluations) {
            note(st->out,
                 "%s: a skipped record (%s) whose evaluations are not a range in 1..%zu: not used",
                 path, kg_json_str(rec, KG_KEY_SKIPPED_WORKLOAD, "?"), st->out->evaluations);
            return;
        }
    }
    const cJSON *kept;
    char what[512];
    cJSON_ArrayForEach(kept, st->skipped)
    {
        if (!first_difference(kept, rec, keys, what, sizeof what))
            return;
    }
    cJSON_AddItemToArray(st->skipped, cJSON_Duplicate(rec, 1));
}

/* One shard, read: its header checked against the run, its records taken. */
static int take_shard(merge_state *st, const char *path, const cJSON *records, kg_error *err)
{
    const cJSON *h = cJSON_GetArrayItem(records, 0);
    int rc = same_run(st, h, path, err);
    if (rc)
        return rc;
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(h, KG_KEY_RUN_SETTINGS);
    const char *only = kg_json_str(s, KG_KEY_SETTINGS_ONLY, NULL);
    memset(st->only, only ? 0 : 1, st->out->evaluations + 1);
    if (only && kg_id_list_parse(only, st->only, st->out->evaluations) != 0)
        return kg_error_set(err, KG_ERR_INVALID,
                            "%s: refused, settings.only \"%.100s\" is not a list of ids in 1..%zu",
                            path, only, st->out->evaluations);
    size_t kept_before = st->kept;
    cJSON *rec;
    cJSON_ArrayForEach(rec, records)
    {
        if (kg_record_is(rec, KG_RECORD_SHAPE))
            rc = take_shape(st, rec, path, err);
        else if (kg_record_is(rec, KG_RECORD_SKIPPED))
            take_skipped(st, rec, path);
        if (rc)
            return rc;
    }
    cJSON *entry = cJSON_CreateObject();
    cJSON_AddStringToObject(entry, KG_KEY_MERGED_SHARD_FILE, path);
    cJSON_AddStringToObject(entry, KG_KEY_MERGED_SHARD_ONLY, only ? only : "all");
    cJSON_AddStringToObject(entry, KG_KEY_MERGED_SHARD_HOST,
                            kg_json_str(cJSON_GetObjectItemCaseSensitive(h, KG_KEY_RUN_HOST),
                                        KG_KEY_HOST_HOSTNAME, "?"));
    cJSON_AddStringToObject(entry, KG_KEY_MERGED_SHARD_STARTED,
                            kg_json_str(h, KG_KEY_RUN_STARTED, "?"));
    cJSON_AddNumberToObject(entry, KG_KEY_MERGED_SHARD_TAKEN, (double)(st->kept - kept_before));
    cJSON_AddItemToArray(st->shard_list, entry);
    return KG_OK;
}

/* Reads one shard: KG_OK with *records, KG_OK with none when it holds no
 * run header (noted), or the error of a file that cannot be read. */
static int read_shard(merge_state *st, const char *path, cJSON **records, kg_error *err)
{
    *records = NULL;
    if (access(path, R_OK) != 0)
        return kg_error_set(err, KG_ERR_INVALID, "%s: cannot read it", path);
    kg_error why = {0};
    int rc = kg_results_read_last_run_tolerant(path, records, st->out->notes, &why);
    if (rc == KG_ERR_INVALID && strstr(why.message, "no run header")) {
        note(st->out,
             "%s: no run header (its task stopped before the run began?): nothing taken from it",
             path);
        return KG_OK;
    }
    if (rc)
        *err = why;
    return rc;
}

/* The merged records: header, the skipped records with no evaluations,
 * then by evaluation id each skipped record starting there and each shape;
 * the ids no one holds marked missing. */
static void assemble(merge_state *st)
{
    kg_merged *m = st->out;
    cJSON *h = cJSON_Duplicate(st->ref, 1);
    cJSON *s = cJSON_GetObjectItemCaseSensitive(h, KG_KEY_RUN_SETTINGS);
    cJSON_DeleteItemFromObjectCaseSensitive(s, KG_KEY_SETTINGS_ONLY);
    cJSON_DeleteItemFromObjectCaseSensitive(s, KG_KEY_SETTINGS_RESULTS_FILE);
    memset(m->missing, 1, m->evaluations + 1);
    m->missing[0] = 0;
    m->records = cJSON_CreateArray();
    cJSON_AddItemToArray(m->records, h);
    cJSON *rec;
    cJSON_ArrayForEach(rec, st->skipped)
    {
        if (!cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SKIPPED_EVALUATIONS))
            cJSON_AddItemToArray(m->records, cJSON_Duplicate(rec, 1));
    }
    for (size_t id = 1; id <= m->evaluations; id++) {
        cJSON_ArrayForEach(rec, st->skipped)
        {
            const cJSON *range = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SKIPPED_EVALUATIONS);
            if (range && (size_t)cJSON_GetArrayItem(range, 0)->valuedouble == id) {
                cJSON_AddItemToArray(m->records, cJSON_Duplicate(rec, 1));
                memset(m->missing + id, 0,
                       (size_t)cJSON_GetArrayItem(range, 1)->valuedouble - id + 1);
            }
        }
        if (st->by_id[id]) {
            cJSON_AddItemToArray(m->records, st->by_id[id]);
            st->by_id[id] = NULL;
            m->missing[id] = 0;
        }
    }
    for (size_t id = 1; id <= m->evaluations; id++)
        m->missing_count += m->missing[id];
    char ids[4096];
    kg_id_list_format(m->missing, m->evaluations, ids, sizeof ids);
    cJSON *merged = cJSON_AddObjectToObject(h, KG_KEY_RUN_MERGED);
    cJSON_AddItemToObject(merged, KG_KEY_MERGED_SHARDS, st->shard_list);
    st->shard_list = NULL;
    cJSON_AddStringToObject(merged, KG_KEY_MERGED_MISSING, ids);
    cJSON_AddNumberToObject(merged, KG_KEY_MERGED_DUPLICATES, (double)m->duplicates);
    cJSON_AddItemToObject(merged, KG_KEY_MERGED_NOTES, cJSON_Duplicate(m->notes, 1));
}

static int merge_sorted(merge_state *st, const char *const *sorted, size_t n, kg_error *err)
{
    int rc = KG_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        cJSON *records = NULL;
        rc = read_shard(st, sorted[i], &records, err);
        if (!rc && records && !st->ref) {
            st->ref = cJSON_Duplicate(cJSON_GetArrayItem(records, 0), 1);
            st->ref_path = sorted[i];
            rc = read_evaluations(st, err);
        }
        if (!rc && records)
            rc = take_shard(st, sorted[i], records, err);
        cJSON_Delete(records);
    }
    if (!rc && !st->ref)
        rc = kg_error_set(err, KG_ERR_INVALID, "no shard holds a run header (%zu file%s read)", n,
                          n == 1 ? "" : "s");
    if (!rc)
        assemble(st);
    return rc;
}

int kg_shards_merge(const char *const *paths, size_t n, kg_merged *out, kg_error *err)
{
    memset(out, 0, sizeof *out);
    out->notes = cJSON_CreateArray();
    const char **sorted = malloc((n ? n : 1) * sizeof *sorted);
    merge_state st = {.out = out,
                      .skipped = cJSON_CreateArray(),
                      .kernels = cJSON_CreateObject(),
                      .shard_list = cJSON_CreateArray()};
    int rc = KG_OK;
    if (!sorted || !out->notes || !st.skipped || !st.kernels || !st.shard_list)
        rc = kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    if (!rc) {
        memcpy(sorted, paths, n * sizeof *sorted);
        qsort(sorted, n, sizeof *sorted, cmp_path);
        rc = merge_sorted(&st, sorted, n, err);
    }
    for (size_t i = 0; st.by_id && i <= out->evaluations; i++)
        cJSON_Delete(st.by_id[i]);
    free(st.by_id);
    free(st.from);
    free(st.only);
    cJSON_Delete(st.ref);
    cJSON_Delete(st.skipped);
    cJSON_Delete(st.kernels);
    cJSON_Delete(st.shard_list);
    free(sorted);
    return rc;
}

void kg_merged_free(kg_merged *m)
{
    cJSON_Delete(m->records);
    cJSON_Delete(m->notes);
    free(m->missing);
    memset(m, 0, sizeof *m);
}
