/* Runs side by side (compare.h). */
#include "compare.h"
#include "json_file.h"
#include "record_keys.h"
#include "results.h"
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *kg_compare_verdict(double lo, double hi, double tolerance)
{
    if (!isfinite(lo) || !isfinite(hi))
        return "unclear";
    if (lo > 1 + tolerance)
        return "faster";
    if (hi < 1 - tolerance)
        return "slower";
    if (lo >= 1 - tolerance && hi <= 1 + tolerance)
        return "same";
    return "unclear";
}

static const cJSON *run_header(const cJSON *records)
{
    const cJSON *rec;
    cJSON_ArrayForEach(rec, records)
    {
        if (kg_record_is(rec, KG_RECORD_RUN))
            return rec;
    }
    return NULL;
}

/* The run's shape record of (workload, shape, baseline set), or NULL. */
static const cJSON *find_shape(const cJSON *records, const cJSON *like)
{
    const char *w = kg_json_str(like, KG_KEY_SHAPE_WORKLOAD, "");
    const char *s = kg_json_str(like, KG_KEY_SHAPE_SHAPE, "");
    const char *b = kg_json_str(cJSON_GetObjectItemCaseSensitive(like, KG_KEY_SHAPE_BASELINE),
                                KG_KEY_SET_NAME, "");
    const cJSON *rec;
    cJSON_ArrayForEach(rec, records)
    {
        if (kg_record_is(rec, KG_RECORD_SHAPE) &&
            strcmp(kg_json_str(rec, KG_KEY_SHAPE_WORKLOAD, ""), w) == 0 &&
            strcmp(kg_json_str(rec, KG_KEY_SHAPE_SHAPE, ""), s) == 0 &&
            strcmp(kg_json_str(cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_BASELINE),
                               KG_KEY_SET_NAME, ""),
                   b) == 0)
            return rec;
    }
    return NULL;
}

/* The samples of a set, copied (the caller frees); NULL when it has none. */
static double *samples_of(const cJSON *set, size_t *n)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(set, KG_KEY_SET_SAMPLES_S);
    *n = 0;
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0)
        return NULL;
    double *v = malloc((size_t)cJSON_GetArraySize(arr) * sizeof *v);
    const cJSON *x;
    cJSON_ArrayForEach(x, arr)
    {
        if (v && cJSON_IsNumber(x) && x->valuedouble > 0)
            v[(*n)++] = x->valuedouble;
    }
    if (v && *n == 0) {
        free(v);
        v = NULL;
    }
    return v;
}

/* Why set `role` of two shape records cannot be compared, or NULL. */
static const char *not_comparable(const cJSON *ra, const cJSON *rb, const char *role)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(ra, role);
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(rb, role);
    char *sa = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(ra, KG_KEY_SHAPE_SYMBOLS));
    char *sb = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(rb, KG_KEY_SHAPE_SYMBOLS));
    int same_shape = sa && sb && strcmp(sa, sb) == 0;
    free(sa);
    free(sb);
    if (!same_shape)
        return "the shape's symbols differ";
    if (strcmp(kg_json_str(a, KG_KEY_SET_NAME, "?"), kg_json_str(b, KG_KEY_SET_NAME, "!")) != 0)
        return "different sets";
    if (strcmp(kg_json_str(a, KG_KEY_SET_SOURCE_SHA256, ""),
               kg_json_str(b, KG_KEY_SET_SOURCE_SHA256, "")) != 0)
        return "the source differs (hash)";
    if (kg_set_status_of(a) != KG_SET_STATUS_OK || kg_set_status_of(b) != KG_SET_STATUS_OK)
        return "not measured in both (status)";
    return NULL;
}

/* "12.3 us" or "4.56 ms". */
static const char *fmt_time(char *buf, size_t size, double s)
{
    if (s < 1e-3)
        snprintf(buf, size, "%.4g us", s * 1e6);
    else
        snprintf(buf, size, "%.4g ms", s * 1e3);
    return buf;
}

/* The kernel sources that differ between run A and run B: each
 * workload/set whose source hash is not the same in both. */
static void source_differences(FILE *out, const kg_compare_run *A, const kg_compare_run *B)
{
    static const char *const roles[] = {KG_KEY_SHAPE_BASELINE, KG_KEY_SHAPE_CANDIDATE};
    char listed[1024] = "";
    const cJSON *ra;
    cJSON_ArrayForEach(ra, A->records)
    {
        const cJSON *rb = kg_record_is(ra, KG_RECORD_SHAPE) ? find_shape(B->records, ra) : NULL;
        for (int r = 0; rb && r < 2; r++) {
            const cJSON *a = cJSON_GetObjectItemCaseSensitive(ra, roles[r]);
            const cJSON *b = cJSON_GetObjectItemCaseSensitive(rb, roles[r]);
            if (!strcmp(kg_json_str(a, KG_KEY_SET_SOURCE_SHA256, ""),
                        kg_json_str(b, KG_KEY_SET_SOURCE_SHA256, "")))
                continue;
            char item[256];
            snprintf(item, sizeof item, "%s/%s", kg_json_str(ra, KG_KEY_SHAPE_WORKLOAD, "?"),
                     kg_json_str(a, KG_KEY_SET_NAME, "?"));
            if (!strstr(listed, item)) {
                size_t len = strlen(listed);
                snprintf(listed + len, sizeof listed - len, "%s`%s`", len ? ", " : "", item);
            }
        }
    }
    fprintf(out,
            "**Kernel sources (hash of the source as compiled) that differ between A and "
            "`%s`**: %s.\n\n",
            B->name, listed[0] ? listed : "none");
}

/* The settings and versions of each run, and which of them differ. */
static void differences(FILE *out, const kg_compare_run *runs, size_t n)
{
    static const char *const labels[] = {"device",   "driver",     "backend", "kgrade",
                                         "commit",   "size class", "cache",   "seed",
                                         "baseline", "candidate"};
    enum { ROWS = sizeof labels / sizeof labels[0] };
    fprintf(out, "| |");
    for (size_t i = 0; i < n; i++)
        fprintf(out, " %c: `%s` |", (int)('A' + i), runs[i].name);
    fprintf(out, "\n|---|");
    for (size_t i = 0; i < n; i++)
        fprintf(out, "---|");
    fprintf(out, "\n");
    char differ[256] = "";
    for (int r = 0; r < ROWS; r++) {
        const char *first = NULL;
        int differs = 0;
        fprintf(out, "| %s |", labels[r]);
        for (size_t i = 0; i < n; i++) {
            const cJSON *h = run_header(runs[i].records);
            const cJSON *d = cJSON_GetObjectItemCaseSensitive(h, KG_KEY_RUN_DEVICE);
            const cJSON *k = cJSON_GetObjectItemCaseSensitive(h, KG_KEY_RUN_KGRADE);
            const cJSON *s = cJSON_GetObjectItemCaseSensitive(h, KG_KEY_RUN_SETTINGS);
            const char *v[ROWS] = {
                kg_json_str(d, KG_KEY_DEVICE_NAME, "?"),
                kg_json_str(d, KG_KEY_DEVICE_DRIVER_VERSION, "?"),
                kg_json_str(d, KG_KEY_DEVICE_BACKEND, "?"),
                kg_json_str(k, KG_KEY_KGRADE_VERSION, "?"),
                kg_json_str(k, KG_KEY_KGRADE_GIT_COMMIT, "?"),
                kg_json_str(s, KG_KEY_SETTINGS_SIZE_CLASS, "?"),
                cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, KG_KEY_SETTINGS_HOT)) ? "hot"
                                                                                       : "cold",
                kg_json_str(s, KG_KEY_SETTINGS_SEED_EXACT, "?"),
                kg_json_str(s, KG_KEY_SETTINGS_BASELINE, "?"),
                kg_json_str(s, KG_KEY_SETTINGS_CANDIDATE, "?"),
            };
            fprintf(out, " %s |", v[r]);
            differs |= first && strcmp(first, v[r]) != 0;
            first = first ? first : v[r];
        }
        fprintf(out, "\n");
        if (differs) {
            size_t len = strlen(differ);
            snprintf(differ + len, sizeof differ - len, "%s%s", len ? ", " : "", labels[r]);
        }
    }
    fprintf(out, "\n**What differs between the runs**: %s.\n\n",
            differ[0] ? differ : "nothing of the above");
}

/* The geomean of A/B over the pairs collected for one set role. */
typedef struct pairs {
    kg_sample_pair *p;
    double **owned;
    size_t n, cap;
} pairs;

static void pairs_add(pairs *ps, double *a, size_t na, double *b, size_t nb)
{
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? 2 * ps->cap : 16;
        kg_sample_pair *p = realloc(ps->p, cap * sizeof *p);
        double **o = realloc(ps->owned, 2 * cap * sizeof *o);
        if (p)
            ps->p = p;
        if (o)
            ps->owned = o;
        if (!p || !o) {
            free(a);
            free(b);
            return;
        }
        ps->cap = cap;
    }
    ps->p[ps->n] = (kg_sample_pair){a, na, b, nb};
    ps->owned[2 * ps->n] = a;
    ps->owned[2 * ps->n + 1] = b;
    ps->n++;
}

static void pairs_free(pairs *ps)
{
    for (size_t i = 0; i < 2 * ps->n; i++)
        free(ps->owned[i]);
    free(ps->p);
    free(ps->owned);
    memset(ps, 0, sizeof *ps);
}

static void geomean_line(FILE *out, const char *what, const pairs *ps, const kg_compare_options *o)
{
    double g, lo, hi;
    if (ps->n && kg_geomean_measurement_ci(ps->p, ps->n, o->resamples, o->seed, &g, &lo, &hi) == 0)
        fprintf(out, "- %s: A / B geomean **%.3g** [%.3g, %.3g] over %zu shapes: %s\n", what, g, lo,
                hi, ps->n, kg_compare_verdict(lo, hi, o->tolerance));
    else
        fprintf(out, "- %s: no shape comparable\n", what);
}

/* One row per set of one shape present in both runs. */
static void shape_rows(FILE *out, const cJSON *ra, const cJSON *rb, pairs roles[2],
                       const kg_compare_options *o)
{
    static const char *const keys[] = {KG_KEY_SHAPE_BASELINE, KG_KEY_SHAPE_CANDIDATE};
    const char *shape = kg_json_str(ra, KG_KEY_SHAPE_SHAPE, "?");
    for (int r = 0; r < 2; r++) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(ra, keys[r]);
        const char *set = kg_json_str(a, KG_KEY_SET_NAME, "?");
        const char *why = not_comparable(ra, rb, keys[r]);
        if (why) {
            fprintf(out, "| %s | `%s` | not comparable: %s | | | | | |\n", shape, set, why);
            continue;
        }
        size_t na, nb;
        double *va = samples_of(a, &na);
        double *vb = samples_of(cJSON_GetObjectItemCaseSensitive(rb, keys[r]), &nb);
        double ratio, lo, hi;
        if (!va || !vb || kg_speedup_ci(va, na, vb, nb, o->resamples, o->seed, &ratio, &lo, &hi)) {
            fprintf(out, "| %s | `%s` | not comparable: no samples | | | | | |\n", shape, set);
            free(va);
            free(vb);
            continue;
        }
        double ma = kg_median(va, na), mb = kg_median(vb, nb);
        double sa = kg_json_num(ra, KG_KEY_SHAPE_SPEED_OF_LIGHT_S),
               sb = kg_json_num(rb, KG_KEY_SHAPE_SPEED_OF_LIGHT_S);
        char ta[32], tb[32];
        fprintf(out, "| %s | `%s` | %s | %s | %.3g [%.3g, %.3g] | %s | %.3g%% | %.3g%% |\n", shape,
                set, fmt_time(ta, sizeof ta, ma), fmt_time(tb, sizeof tb, mb), ratio, lo, hi,
                kg_compare_verdict(lo, hi, o->tolerance), 100 * sa / ma, 100 * sb / mb);
        pairs_add(&roles[r], va, na, vb, nb);
    }
}

/* Does the candidate's speedup over the baseline hold on B? */
static void speedup_row(FILE *out, const cJSON *ra, const cJSON *rb)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(ra, KG_KEY_SHAPE_SPEEDUP);
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(rb, KG_KEY_SHAPE_SPEEDUP);
    double va = kg_json_num(a, KG_KEY_SPEEDUP_VALUE), vb = kg_json_num(b, KG_KEY_SPEEDUP_VALUE);
    double blo = kg_json_num(b, KG_KEY_SPEEDUP_LO), bhi = kg_json_num(b, KG_KEY_SPEEDUP_HI);
    if (!isfinite(va) || !isfinite(vb)) {
        fprintf(out, "| %s | — | — | not measured in both |\n",
                kg_json_str(ra, KG_KEY_SHAPE_SHAPE, "?"));
        return;
    }
    fprintf(out, "| %s | %.3gx [%.3g, %.3g] | %.3gx [%.3g, %.3g] | %s |\n",
            kg_json_str(ra, KG_KEY_SHAPE_SHAPE, "?"), va, kg_json_num(a, KG_KEY_SPEEDUP_LO),
            kg_json_num(a, KG_KEY_SPEEDUP_HI), vb, blo, bhi,
            blo <= va && va <= bhi ? "holds (A's speedup is inside B's interval)"
            : vb > va              ? "larger on B"
                                   : "smaller on B");
}

/* Workload `w` of run B against run A. */
static void workload_section(FILE *out, const char *w, const kg_compare_run *A,
                             const kg_compare_run *B, pairs overall[2], const kg_compare_options *o)
{
    fprintf(out, "## %s: B (`%s`) against A (`%s`)\n\n", w, B->name, A->name);
    fprintf(out, "| shape | set | A median | B median | A / B [95%% CI] | B is | A %% of speed "
                 "of light | B %% of it |\n|---|---|---:|---:|---:|---|---:|---:|\n");
    pairs roles[2] = {{0}};
    const cJSON *ra;
    cJSON_ArrayForEach(ra, A->records)
    {
        if (!kg_record_is(ra, KG_RECORD_SHAPE) ||
            strcmp(kg_json_str(ra, KG_KEY_SHAPE_WORKLOAD, ""), w))
            continue;
        const cJSON *rb = find_shape(B->records, ra);
        if (!rb)
            fprintf(out, "| %s | | not comparable: not in B | | | | | |\n",
                    kg_json_str(ra, KG_KEY_SHAPE_SHAPE, "?"));
        else
            shape_rows(out, ra, rb, roles, o);
    }
    cJSON_ArrayForEach(ra, B->records)
    {
        if (kg_record_is(ra, KG_RECORD_SHAPE) &&
            !strcmp(kg_json_str(ra, KG_KEY_SHAPE_WORKLOAD, ""), w) && !find_shape(A->records, ra))
            fprintf(out, "| %s | | not comparable: only in B | | | | | |\n",
                    kg_json_str(ra, KG_KEY_SHAPE_SHAPE, "?"));
    }
    fprintf(out, "\n");
    geomean_line(out, "baseline set", &roles[0], o);
    geomean_line(out, "candidate set", &roles[1], o);
    fprintf(out, "\nThe candidate's speedup over the baseline in each run:\n\n| shape | in A | "
                 "in B | |\n|---|---:|---:|---|\n");
    cJSON_ArrayForEach(ra, A->records)
    {
        const cJSON *rb = kg_record_is(ra, KG_RECORD_SHAPE) &&
                                  !strcmp(kg_json_str(ra, KG_KEY_SHAPE_WORKLOAD, ""), w)
                              ? find_shape(B->records, ra)
                              : NULL;
        if (rb)
            speedup_row(out, ra, rb);
    }
    fprintf(out, "\n");
    for (int r = 0; r < 2; r++) {
        for (size_t i = 0; i < roles[r].n; i++)
            pairs_add(&overall[r], roles[r].owned[2 * i], roles[r].p[i].n_baseline,
                      roles[r].owned[2 * i + 1], roles[r].p[i].n_candidate);
        free(roles[r].p);
        free(roles[r].owned);
    }
}

void kg_compare_markdown(FILE *out, const kg_compare_run *runs, size_t n,
                         const kg_compare_options *o)
{
    fprintf(out, "# kgrade compare\n\n");
    differences(out, runs, n);
    fprintf(out,
            "A / B is A's median over B's: above 1, B is faster. \"B is\" `faster` or "
            "`slower` when the 95%% interval lies outside 1 ± %.3g, `same` when it lies "
            "inside, `unclear` otherwise. Geomeans use the measurement interval (these "
            "shapes fixed, samples resampled).\n\n",
            o->tolerance);
    for (size_t j = 1; j < n; j++)
        source_differences(out, &runs[0], &runs[j]);
    for (size_t j = 1; j < n; j++) {
        pairs overall[2] = {{0}};
        /* Each workload of A, in the order of its first shape. */
        const char *seen[64];
        size_t nseen = 0;
        const cJSON *rec;
        cJSON_ArrayForEach(rec, runs[0].records)
        {
            const char *w = kg_record_is(rec, KG_RECORD_SHAPE)
                                ? kg_json_str(rec, KG_KEY_SHAPE_WORKLOAD, NULL)
                                : NULL;
            size_t k = 0;
            while (w && k < nseen && strcmp(seen[k], w) != 0)
                k++;
            if (!w || k < nseen || nseen == 64)
                continue;
            seen[nseen++] = w;
            workload_section(out, w, &runs[0], &runs[j], overall, o);
        }
        fprintf(out, "## Overall: B (`%s`) against A (`%s`)\n\n", runs[j].name, runs[0].name);
        geomean_line(out, "baseline sets", &overall[0], o);
        geomean_line(out, "candidate sets", &overall[1], o);
        fprintf(out, "\n");
        pairs_free(&overall[0]);
        pairs_free(&overall[1]);
    }
}

int kg_compare_read_runs(const char *const *paths, size_t n, const char *who, cJSON **records,
                         kg_compare_run *runs)
{
    for (size_t i = 0; i < n; i++) {
        kg_error err = {0};
        records[i] = NULL;
        if (kg_results_read_noting(paths[i], who, &records[i], &err) != KG_OK) {
            fprintf(stderr, "%s: %s\n", who, err.message);
            return KG_ERR_INVALID;
        }
        runs[i] = (kg_compare_run){.name = paths[i], .records = records[i]};
    }
    return KG_OK;
}
