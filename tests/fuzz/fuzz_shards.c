/*
 * libFuzzer target: kgrade merge's reader of shards (runner/results/
 * shards.c). The input is cut at its first form feed into two shard files
 * (one, when there is none); they are merged as they are, then with a copy
 * of the first beside them, as `kgrade merge` merges files that task logs
 * or copies left about. A shard of another run, a torn line, an evaluation
 * id out of range, a header with numbers where strings belong must be
 * refused with a message or repaired with a note, never crash. Checked
 * besides the sanitizers: a merge that succeeds has the header first and
 * a missing-id table; one that fails says why; every note names a file.
 */
#include "fuzz_common.h"

#include "record_keys.h"
#include "shards.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void merge_and_check(const char *const *paths, size_t n)
{
    kg_merged m;
    kg_error err;
    err.message[0] = '\0';
    int rc = kg_shards_merge(paths, n, &m, &err);
    kg_fuzz_report("shards", rc, err.message);
    if (rc == KG_OK) {
        if (!kg_record_is(cJSON_GetArrayItem(m.records, 0), KG_RECORD_RUN) || !m.missing ||
            m.evaluations < 1 || m.evaluations > KG_MAX_EVALUATIONS)
            kg_fuzz_die("a merge without its header or missing table", paths[0]);
        size_t missing = 0;
        for (size_t i = 1; i <= m.evaluations; i++)
            missing += m.missing[i];
        if (missing != m.missing_count)
            kg_fuzz_die("missing_count does not count the missing ids", paths[0]);
    } else if (err.message[0] == '\0') {
        kg_fuzz_die("a refused merge without a message", paths[0]);
    }
    const cJSON *note;
    cJSON_ArrayForEach(note, m.notes)
    {
        int names_one = 0;
        for (size_t i = 0; i < n; i++)
            names_one |= cJSON_IsString(note) && strstr(note->valuestring, paths[i]) != NULL;
        if (!names_one)
            kg_fuzz_die("a note that names no shard", paths[0]);
    }
    kg_merged_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char dir[PATH_MAX], a[PATH_MAX + 32], b[PATH_MAX + 32], copy[PATH_MAX + 32];
    kg_fuzz_make_folder("s", dir, sizeof dir);
    snprintf(a, sizeof a, "%s/shard-1.jsonl", dir);
    snprintf(b, sizeof b, "%s/shard-2.jsonl", dir);
    snprintf(copy, sizeof copy, "%s/shard-1-copy.jsonl", dir);
    const uint8_t *cut = memchr(data, '\f', size);
    size_t first = cut ? (size_t)(cut - data) : size;
    kg_fuzz_write(a, data, first);
    kg_fuzz_write(copy, data, first);
    if (cut)
        kg_fuzz_write(b, cut + 1, size - first - 1);
    const char *paths[3] = {a, cut ? b : copy, copy};
    merge_and_check(paths, cut ? 2 : 1);
    merge_and_check(paths, 3);
    unlink(a);
    unlink(b);
    unlink(copy);
    return 0;
}
