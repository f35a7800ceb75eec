/*
 * The results file's names (record_keys.h): each name table round-trips,
 * unknown names parse to UNKNOWN, the statuses, record types and flags are
 * the ones the docs list (read from docs/formats.md and docs/integrity.md,
 * so the test fails when code and docs drift apart), and saved results
 * files, written by an earlier kgrade, parse to the same statuses and give
 * back their summaries byte for byte.
 */
#include "kg_test.h"
#include "record_keys.h"
#include "results.h"
#include "summary.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NAMES 64

typedef struct name_list {
    char names[MAX_NAMES][64];
    int count;
} name_list;

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)size + 1);
    if (!text || fread(text, 1, (size_t)size, f) != (size_t)size) {
        perror(path);
        exit(1);
    }
    text[size] = '\0';
    fclose(f);
    return text;
}

static void add_name(name_list *l, const char *name, size_t len)
{
    if (l->count < MAX_NAMES && len < sizeof l->names[0]) {
        memcpy(l->names[l->count], name, len);
        l->names[l->count++][len] = '\0';
    }
}

static int has_name(const name_list *l, const char *name)
{
    for (int i = 0; i < l->count; i++)
        if (strcmp(l->names[i], name) == 0)
            return 1;
    return 0;
}

/* The `names` of a Markdown list, from `p` up to `end` or a ')' closing a
 * parenthesis opened before `p`; names inside parentheses (remarks such as
 * "(no kernel for a workload `--workload` named)") are left out. */
static void backticked(const char *p, const char *end, name_list *out)
{
    int depth = 0;
    for (; *p && (!end || p < end); p++) {
        if (*p == '(')
            depth++;
        else if (*p == ')' && depth-- == 0)
            return;
        else if (*p == '`') {
            const char *close = strchr(p + 1, '`');
            if (!close)
                return;
            if (depth == 0)
                add_name(out, p + 1, (size_t)(close - p - 1));
            p = close;
        }
    }
}

/* The text from `heading` to the next heading of the same level. */
static const char *section(const char *text, const char *heading, const char **end)
{
    const char *start = strstr(text, heading);
    if (!start) {
        *end = NULL;
        return NULL;
    }
    *end = strstr(start + strlen(heading), "\n## ");
    return start;
}

static void check_round_trips(void)
{
    for (int s = KG_SET_STATUS_UNKNOWN + 1; s < KG_SET_STATUS_COUNT; s++) {
        const char *name = kg_set_status_name((kg_set_status)s);
        KG_CHECK_MSG(name != NULL, "status %d has no name", s);
        KG_CHECK_INT(kg_set_status_parse(name), s);
        for (int t = KG_SET_STATUS_UNKNOWN + 1; t < s; t++)
            KG_CHECK_MSG(strcmp(name, kg_set_status_name((kg_set_status)t)) != 0,
                         "status name %s twice", name);
    }
    for (int f = KG_FLAG_UNKNOWN + 1; f < KG_FLAG_COUNT; f++) {
        const char *name = kg_flag_name((kg_flag)f);
        KG_CHECK_MSG(name != NULL, "flag %d has no name", f);
        KG_CHECK_INT(kg_flag_parse(name), f);
        for (int g = KG_FLAG_UNKNOWN + 1; g < f; g++)
            KG_CHECK_MSG(strcmp(name, kg_flag_name((kg_flag)g)) != 0, "flag name %s twice", name);
    }
    for (int r = KG_RECORD_UNKNOWN + 1; r < KG_RECORD_TYPE_COUNT; r++) {
        const char *name = kg_record_type_name((kg_record_type)r);
        KG_CHECK_MSG(name != NULL, "record type %d has no name", r);
        KG_CHECK_INT(kg_record_type_parse(name), r);
    }
    /* UNKNOWN and out-of-range values have no name; unknown names, a
     * different case, NULL and "" parse to UNKNOWN. */
    KG_CHECK(kg_set_status_name(KG_SET_STATUS_UNKNOWN) == NULL);
    KG_CHECK(kg_set_status_name(KG_SET_STATUS_COUNT) == NULL);
    KG_CHECK(kg_flag_name(KG_FLAG_UNKNOWN) == NULL);
    KG_CHECK(kg_flag_name(KG_FLAG_COUNT) == NULL);
    KG_CHECK(kg_record_type_name(KG_RECORD_UNKNOWN) == NULL);
    KG_CHECK(kg_record_type_name(KG_RECORD_TYPE_COUNT) == NULL);
    static const char *const foreign[] = {"", "OK", "ok ", "passed", "unknown", "status"};
    for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++) {
        KG_CHECK_INT(kg_set_status_parse(foreign[i]), KG_SET_STATUS_UNKNOWN);
        KG_CHECK_INT(kg_flag_parse(foreign[i]), KG_FLAG_UNKNOWN);
        KG_CHECK_INT(kg_record_type_parse(foreign[i]), KG_RECORD_UNKNOWN);
    }
    KG_CHECK_INT(kg_set_status_parse(NULL), KG_SET_STATUS_UNKNOWN);
    KG_CHECK_INT(kg_flag_parse(NULL), KG_FLAG_UNKNOWN);
    KG_CHECK_INT(kg_record_type_parse(NULL), KG_RECORD_UNKNOWN);
}

/* A set's status, and a record's type, as read from JSON. */
static void check_readers(void)
{
    static const struct {
        const char *json;
        kg_set_status want;
    } sets[] = {
        {"{\"status\": \"ok\"}", KG_SET_STATUS_OK},
        {"{\"status\": \"not_run\"}", KG_SET_STATUS_NOT_RUN},
        {"{\"status\": \"a_status_from_the_future\"}", KG_SET_STATUS_UNKNOWN},
        {"{\"status\": 0}", KG_SET_STATUS_UNKNOWN},
        {"{\"Status\": \"ok\"}", KG_SET_STATUS_UNKNOWN},
        {"{}", KG_SET_STATUS_UNKNOWN},
    };
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
        cJSON *o = cJSON_Parse(sets[i].json);
        KG_CHECK_MSG(kg_set_status_of(o) == sets[i].want, "%s", sets[i].json);
        cJSON_Delete(o);
    }
    KG_CHECK_INT(kg_set_status_of(NULL), KG_SET_STATUS_UNKNOWN);
    cJSON *rec = cJSON_Parse("{\"type\": \"shape\"}");
    KG_CHECK(kg_record_is(rec, KG_RECORD_SHAPE));
    KG_CHECK(!kg_record_is(rec, KG_RECORD_RUN));
    KG_CHECK(!kg_record_is(rec, KG_RECORD_UNKNOWN));
    cJSON_Delete(rec);
    rec = cJSON_Parse("{\"type\": \"from_the_future\"}");
    KG_CHECK_INT(kg_record_type_of(rec), KG_RECORD_UNKNOWN);
    KG_CHECK(!kg_record_is(rec, KG_RECORD_UNKNOWN));
    cJSON_Delete(rec);
    KG_CHECK_INT(kg_record_type_of(NULL), KG_RECORD_UNKNOWN);
}

/* The statuses docs/formats.md lists under a shape's `status`, in the
 * table's order, and the record types it names ("type": "..."). */
static void check_formats_doc(void)
{
    char *doc = read_text(KG_SOURCE_DIR "/docs/formats.md");
    const char *end, *results = section(doc, "## Results", &end);
    KG_CHECK_MSG(results != NULL, "docs/formats.md has no Results section");
    const char *list = results ? strstr(results, "`status` (") : NULL;
    KG_CHECK_MSG(list && (!end || list < end), "no `status` (...) list in its Results section");
    name_list doc_statuses = {0};
    if (list)
        backticked(list + strlen("`status` ("), end, &doc_statuses);
    KG_CHECK_INT(doc_statuses.count, KG_SET_STATUS_COUNT - 1);
    for (int i = 0; i < doc_statuses.count; i++) {
        const char *ours = kg_set_status_name((kg_set_status)(i + 1));
        KG_CHECK_MSG((int)kg_set_status_parse(doc_statuses.names[i]) == i + 1,
                     "docs/formats.md lists status `%s` as number %d; record_keys.c has %s there",
                     doc_statuses.names[i], i + 1, ours ? ours : "none");
    }
    name_list doc_types = {0};
    for (const char *p = results; p && (p = strstr(p, "\"type\": \"")) && (!end || p < end);) {
        p += strlen("\"type\": \"");
        const char *close = strchr(p, '"');
        if (!close)
            break;
        add_name(&doc_types, p, (size_t)(close - p));
        KG_CHECK_MSG(kg_record_type_parse(doc_types.names[doc_types.count - 1]) !=
                         KG_RECORD_UNKNOWN,
                     "docs/formats.md names record type \"%s\", unknown to record_keys.c",
                     doc_types.names[doc_types.count - 1]);
    }
    for (int r = KG_RECORD_UNKNOWN + 1; r < KG_RECORD_TYPE_COUNT; r++)
        KG_CHECK_MSG(has_name(&doc_types, kg_record_type_name((kg_record_type)r)),
                     "record type \"%s\" is not in docs/formats.md",
                     kg_record_type_name((kg_record_type)r));
    free(doc);
}

/* The cells of a Markdown table row (`\|` is a pipe inside a cell). */
static int row_cells(const char *line, const char *end, const char *cells[], int max)
{
    int n = 0;
    for (const char *p = line; p < end && n < max; p++)
        if (*p == '|' && (p == line || p[-1] != '\\'))
            cells[n++] = p + 1;
    return n;
}

/* docs/integrity.md: the statuses under "Reading the results", and the
 * flag and status columns of the table of checks. */
static void check_integrity_doc(void)
{
    char *doc = read_text(KG_SOURCE_DIR "/docs/integrity.md");
    const char *list = strstr(doc, "- `status`: ");
    KG_CHECK_MSG(list != NULL, "docs/integrity.md has no `status` list");
    name_list statuses = {0};
    if (list)
        backticked(list + strlen("- `status`: "), strstr(list, "\n- "), &statuses);
    KG_CHECK_INT(statuses.count, KG_SET_STATUS_COUNT - 1);
    for (int s = KG_SET_STATUS_UNKNOWN + 1; s < KG_SET_STATUS_COUNT; s++)
        KG_CHECK_MSG(has_name(&statuses, kg_set_status_name((kg_set_status)s)),
                     "status %s is not in docs/integrity.md's list",
                     kg_set_status_name((kg_set_status)s));
    const char *table = strstr(doc, "| # | check | cheat or bug it targets | flag | status |");
    KG_CHECK_MSG(table != NULL, "docs/integrity.md has no table of checks");
    int rows = 0;
    for (const char *line = table ? strstr(table, "\n| ") : NULL; line && line[1] == '|';
         line = strchr(line + 1, '\n')) {
        const char *eol = strchr(line + 1, '\n');
        const char *cells[8];
        if (!eol || row_cells(line + 1, eol, cells, 8) < 6)
            break;
        name_list flags = {0}, row_statuses = {0};
        backticked(cells[3], cells[4] - 1, &flags);
        backticked(cells[4], cells[5] - 1, &row_statuses);
        KG_CHECK_MSG(flags.count > 0 && row_statuses.count > 0, "a row of checks without a flag");
        for (int i = 0; i < flags.count; i++)
            KG_CHECK_MSG(kg_flag_parse(flags.names[i]) != KG_FLAG_UNKNOWN,
                         "docs/integrity.md's flag `%s` is unknown to record_keys.c",
                         flags.names[i]);
        for (int i = 0; i < row_statuses.count; i++)
            KG_CHECK_MSG(kg_set_status_parse(row_statuses.names[i]) != KG_SET_STATUS_UNKNOWN,
                         "docs/integrity.md's status `%s` is unknown to record_keys.c",
                         row_statuses.names[i]);
        rows++;
    }
    KG_CHECK_MSG(rows >= 13, "read %d rows of the table of checks", rows);
    /* Every flag kgrade raises is explained there. */
    for (int f = KG_FLAG_UNKNOWN + 1; f < KG_FLAG_COUNT; f++) {
        char quoted[80];
        snprintf(quoted, sizeof quoted, "`%s`", kg_flag_name((kg_flag)f));
        KG_CHECK_MSG(strstr(doc, quoted) != NULL, "flag %s is not in docs/integrity.md", quoted);
    }
    free(doc);
}

/* Every record of a saved results file has a known type, every set a known
 * status (whose name is the one in the file) and known flags; the statuses
 * are counted into `counts`. */
static void check_saved_statuses(const cJSON *records, const char *file, int counts[])
{
    const cJSON *rec;
    cJSON_ArrayForEach(rec, records)
    {
        kg_record_type type = kg_record_type_of(rec);
        KG_CHECK_MSG(type != KG_RECORD_UNKNOWN, "%s: a record of unknown type", file);
        if (type != KG_RECORD_SHAPE)
            continue;
        static const char *const roles[] = {KG_KEY_SHAPE_BASELINE, KG_KEY_SHAPE_CANDIDATE};
        for (int i = 0; i < 2; i++) {
            const cJSON *set = cJSON_GetObjectItemCaseSensitive(rec, roles[i]);
            const cJSON *written = cJSON_GetObjectItemCaseSensitive(set, KG_KEY_SET_STATUS);
            kg_set_status s = kg_set_status_of(set);
            KG_CHECK_MSG(s != KG_SET_STATUS_UNKNOWN && cJSON_IsString(written) &&
                             strcmp(kg_set_status_name(s), written->valuestring) == 0,
                         "%s: status %s", file,
                         cJSON_IsString(written) ? written->valuestring : "(none)");
            counts[s]++;
            const cJSON *flag;
            cJSON_ArrayForEach(flag, cJSON_GetObjectItemCaseSensitive(set, KG_KEY_SET_FLAGS))
            {
                KG_CHECK_MSG(cJSON_IsString(flag) && kg_flag_parse(flag->valuestring),
                             "%s: flag %s", file, cJSON_IsString(flag) ? flag->valuestring : "?");
            }
        }
    }
}

/* 1 when `a` and `b` have the same keys in the same order, the same
 * strings and the same numbers (to 1e-12, relative: the last digit of a
 * bootstrap bound may differ with the C library's exp and log). */
static int same_json(const cJSON *a, const cJSON *b, char *where, size_t size)
{
    if (!a || !b || (a->type & 0xff) != (b->type & 0xff)) {
        snprintf(where, size, "%s: types differ", a && a->string ? a->string : "?");
        return 0;
    }
    if (cJSON_IsNumber(a)) {
        double x = a->valuedouble, y = b->valuedouble;
        if (fabs(x - y) <= 1e-12 * fmax(fabs(x), fabs(y)))
            return 1;
        snprintf(where, size, "%s: %.17g, then %.17g", a->string ? a->string : "?", x, y);
        return 0;
    }
    if (cJSON_IsString(a) && strcmp(a->valuestring, b->valuestring) != 0) {
        snprintf(where, size, "%s: \"%s\", then \"%s\"", a->string ? a->string : "?",
                 a->valuestring, b->valuestring);
        return 0;
    }
    const cJSON *x = a->child, *y = b->child;
    for (; x && y; x = x->next, y = y->next) {
        if ((x->string || y->string) &&
            (!x->string || !y->string || strcmp(x->string, y->string) != 0)) {
            snprintf(where, size, "key \"%s\", then \"%s\"", x->string ? x->string : "",
                     y->string ? y->string : "");
            return 0;
        }
        if (!same_json(x, y, where, size))
            return 0;
    }
    if (x || y)
        snprintf(where, size, "%s: \"%s\" has no counterpart", a->string ? a->string : "?",
                 x ? (x->string ? x->string : "an item") : (y->string ? y->string : "an item"));
    return !x && !y;
}

/* Each run's summary, computed again from its records, is the one the run
 * wrote: the summary's keys, their order and its numbers are unchanged. */
static void check_saved_summaries(const cJSON *records, const char *file)
{
    cJSON *run = NULL;
    int summaries = 0;
    const cJSON *rec;
    cJSON_ArrayForEach(rec, records)
    {
        if (kg_record_is(rec, KG_RECORD_RUN)) {
            cJSON_Delete(run);
            run = cJSON_CreateArray();
        }
        if (!kg_record_is(rec, KG_RECORD_SUMMARY)) {
            if (run)
                cJSON_AddItemReferenceToArray(run, (cJSON *)rec);
            continue;
        }
        KG_CHECK_MSG(run != NULL, "%s: a summary before any run header", file);
        if (!run)
            continue;
        const cJSON *settings =
            cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(run, 0), KG_KEY_RUN_SETTINGS);
        const cJSON *resamples = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SUMMARY_RESAMPLES);
        cJSON *again = kg_summary_compute(run, (size_t)cJSON_GetNumberValue(resamples),
                                          kg_results_settings_seed(settings, 1));
        char where[256] = "";
        KG_CHECK_MSG(same_json(rec, again, where, sizeof where),
                     "%s: summary %d, computed again, differs: %s", file, summaries + 1, where);
        cJSON_Delete(again);
        summaries++;
    }
    cJSON_Delete(run);
    KG_CHECK_MSG(summaries > 0, "%s: no summary", file);
}

/* `summaries`: also compute each run's summary again (a file written by a
 * kgrade whose summary had the keys it has now). */
static void check_saved_file(const char *name, const int want[], int summaries)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/%s", KG_SOURCE_DIR, name);
    cJSON *records = NULL;
    kg_error err = {0};
    KG_CHECK_MSG(kg_results_read(path, &records, &err) == KG_OK, "%s", err.message);
    int counts[KG_SET_STATUS_COUNT] = {0};
    check_saved_statuses(records, name, counts);
    for (int s = 0; s < KG_SET_STATUS_COUNT; s++)
        KG_CHECK_MSG(counts[s] == want[s], "%s: %d sets %s, want %d", name, counts[s],
                     s ? kg_set_status_name((kg_set_status)s) : "of unknown status", want[s]);
    if (summaries)
        check_saved_summaries(records, name);
    cJSON_Delete(records);
}

int main(void)
{
    check_round_trips();
    check_readers();
    check_formats_doc();
    check_integrity_doc();
    /* tests/data/README.md says how each file was made. */
    int attention[KG_SET_STATUS_COUNT] = {[KG_SET_STATUS_OK] = 6};
    check_saved_file("smoke-extend-attention.jsonl", attention, 0);
    int statuses[KG_SET_STATUS_COUNT] = {[KG_SET_STATUS_OK] = 12,
                                         [KG_SET_STATUS_CHECK_FAILED] = 4,
                                         [KG_SET_STATUS_MISSING] = 3,
                                         [KG_SET_STATUS_NOT_RUN] = 3};
    check_saved_file("smoke-statuses.jsonl", statuses, 1);
    return kg_test_finish("test_record_keys");
}
