/* Turning recorded samples into speedups and geometric means. */
#include "summary.h"
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A JSON number array as a malloc'd double array (caller frees). */
static double *numbers(const cJSON *arr, size_t *n)
{
    *n = 0;
    int count = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : 0;
    if (count <= 0)
        return NULL;
    double *v = malloc((size_t)count * sizeof *v);
    if (!v)
        return NULL;
    const cJSON *x;
    cJSON_ArrayForEach(x, arr)
    {
        /* Samples are raw 17-digit numbers in a record being written
         * (kg_json_exact_array) and plain numbers once read back. */
        if (cJSON_IsNumber(x))
            v[(*n)++] = x->valuedouble;
        else if (cJSON_IsRaw(x) && x->valuestring) {
            char *end;
            double d = strtod(x->valuestring, &end);
            if (end != x->valuestring && *end == '\0')
                v[(*n)++] = d;
        }
    }
    return v;
}

double kg_summary_median(const cJSON *arr)
{
    size_t n;
    double *v = numbers(arr, &n);
    double m = n ? kg_median(v, n) : NAN;
    free(v);
    return m;
}

static int set_usable(const cJSON *set)
{
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(set, "status");
    return cJSON_IsString(status) && strcmp(status->valuestring, "ok") == 0;
}

static const cJSON *samples_of(const cJSON *rec, const char *role)
{
    const cJSON *set = cJSON_GetObjectItemCaseSensitive(rec, role);
    return set ? cJSON_GetObjectItemCaseSensitive(set, "samples_s") : NULL;
}

int kg_summary_add_speedup(cJSON *rec, size_t resamples, uint64_t seed)
{
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(rec, "baseline");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(rec, "candidate");
    if (!b || !c || !set_usable(b) || !set_usable(c))
        return 0;
    size_t nb, nc;
    double *vb = numbers(samples_of(rec, "baseline"), &nb);
    double *vc = numbers(samples_of(rec, "candidate"), &nc);
    double s, lo, hi;
    int ok = nb && nc && kg_speedup_ci(vb, nb, vc, nc, resamples, seed, &s, &lo, &hi) == 0;
    free(vb);
    free(vc);
    if (!ok)
        return 0;
    cJSON *o = cJSON_AddObjectToObject(rec, "speedup");
    cJSON_AddNumberToObject(o, "value", s);
    cJSON_AddNumberToObject(o, "lo", lo);
    cJSON_AddNumberToObject(o, "hi", hi);
    cJSON_AddNumberToObject(o, "resamples", (double)resamples);
    return 1;
}

typedef struct group {
    const char *workload; /* NULL = every workload */
    const char *baseline; /* the baseline set of its shapes */
    size_t shapes, candidate_ok, compared;
    size_t candidate_failed; /* baseline passed, candidate did not */
    kg_sample_pair *pairs;   /* the compared shapes */
    double *ratios;          /* their point speedups (median ratio) */
    double **owned;
    size_t owned_count;
} group;

/* A failed candidate under the default policy: a shape whose speedup is 1
 * in every bootstrap resample (the user falls back to the baseline). */
static const double unit_sample = 1.0;

/* A candidate without a kernel for a workload the user named: a failure
 * of the candidate whatever the baseline did (it was not run). */
static int candidate_missing(const cJSON *c)
{
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(c, "status");
    return cJSON_IsString(status) && strcmp(status->valuestring, "missing") == 0;
}

static void group_add(group *g, const cJSON *rec)
{
    g->shapes++;
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(rec, "baseline");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(rec, "candidate");
    if (c && set_usable(c))
        g->candidate_ok++;
    if ((b && set_usable(b) && !(c && set_usable(c))) || candidate_missing(c))
        g->candidate_failed++;
    if (!b || !c || !set_usable(b) || !set_usable(c))
        return;
    kg_sample_pair *p = &g->pairs[g->compared];
    double *vb = numbers(samples_of(rec, "baseline"), &p->n_baseline);
    double *vc = numbers(samples_of(rec, "candidate"), &p->n_candidate);
    g->owned[g->owned_count++] = vb;
    g->owned[g->owned_count++] = vc;
    if (!vb || !vc)
        return;
    p->baseline = vb;
    p->candidate = vc;
    g->ratios[g->compared] = kg_median(vb, p->n_baseline) / kg_median(vc, p->n_candidate);
    g->compared++;
}

static void add_interval(cJSON *o, const kg_sample_pair *pairs, size_t n, size_t resamples,
                         uint64_t seed)
{
    double gm, lo, hi;
    if (n && kg_geomean_speedup_ci(pairs, n, resamples, seed, &gm, &lo, &hi) == 0) {
        cJSON_AddNumberToObject(o, "geomean", gm);
        cJSON_AddNumberToObject(o, "lo", lo);
        cJSON_AddNumberToObject(o, "hi", hi);
    }
}

/* The three ways a failed candidate can enter the geometric mean: as 1x
 * (the default: fall back to the baseline), excluded (KernelBench's
 * geomean), or as 0 (fast_p semantics: any failure zeroes the mean). */
static void add_policies(cJSON *o, group *g, size_t resamples, uint64_t seed)
{
    cJSON *pol = cJSON_AddObjectToObject(o, "policies");
    kg_sample_pair *with_ones = calloc(g->compared + g->candidate_failed + 1, sizeof *with_ones);
    if (with_ones) {
        memcpy(with_ones, g->pairs, g->compared * sizeof *with_ones);
        for (size_t i = 0; i < g->candidate_failed; i++)
            with_ones[g->compared + i] = (kg_sample_pair){&unit_sample, 1, &unit_sample, 1};
        add_interval(cJSON_AddObjectToObject(pol, "failures_as_1x"), with_ones,
                     g->compared + g->candidate_failed, resamples, seed);
        free(with_ones);
    }
    add_interval(cJSON_AddObjectToObject(pol, "failures_excluded"), g->pairs, g->compared,
                 resamples, seed);
    cJSON *zero = cJSON_AddObjectToObject(pol, "failures_as_0");
    if (g->candidate_failed)
        cJSON_AddNumberToObject(zero, "geomean", 0);
    else
        add_interval(zero, g->pairs, g->compared, resamples, seed);
    /* fast_p: the share of the shapes the baseline passed on which the
     * candidate is correct and more than p times faster. */
    size_t eligible = g->compared + g->candidate_failed;
    cJSON *fast = cJSON_AddObjectToObject(o, "fast_p");
    static const double ps[] = {0, 1, 1.5, 2};
    static const char *const names[] = {"0", "1", "1.5", "2"};
    for (size_t k = 0; k < 4 && eligible; k++) {
        size_t n = 0;
        for (size_t i = 0; i < g->compared; i++)
            n += ps[k] == 0 || g->ratios[i] > ps[k];
        cJSON_AddNumberToObject(fast, names[k], (double)n / (double)eligible);
    }
}

static cJSON *group_json(group *g, size_t resamples, uint64_t seed)
{
    cJSON *o = cJSON_CreateObject();
    if (g->workload)
        cJSON_AddStringToObject(o, "workload", g->workload);
    if (g->baseline)
        cJSON_AddStringToObject(o, "baseline", g->baseline);
    cJSON_AddNumberToObject(o, "shapes", (double)g->shapes);
    cJSON_AddNumberToObject(o, "candidate_passed", (double)g->candidate_ok);
    cJSON_AddNumberToObject(o, "compared", (double)g->compared);
    cJSON_AddNumberToObject(o, "candidate_failed", (double)g->candidate_failed);
    add_policies(o, g, resamples, seed);
    /* The headline numbers follow the default policy, named in "policy". */
    cJSON_AddStringToObject(o, "policy", "failures_as_1x");
    const cJSON *chosen = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(o, "policies"), "failures_as_1x");
    static const char *const keys[] = {"geomean", "lo", "hi"};
    for (int k = 0; k < 3; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(chosen, keys[k]);
        if (cJSON_IsNumber(v))
            cJSON_AddNumberToObject(o, keys[k], v->valuedouble);
    }
    return o;
}

static void group_free(group *g)
{
    for (size_t i = 0; i < g->owned_count; i++)
        free(g->owned[i]);
    free(g->owned);
    free(g->pairs);
    free(g->ratios);
}

static int is_shape(const cJSON *rec)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(rec, "type");
    return cJSON_IsString(t) && strcmp(t->valuestring, "shape") == 0;
}

static const char *workload_of(const cJSON *rec)
{
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(rec, "workload");
    return cJSON_IsString(w) ? w->valuestring : "";
}

static void group_init(group *g, const char *workload, size_t n)
{
    memset(g, 0, sizeof *g);
    g->workload = workload;
    g->pairs = calloc(n ? n : 1, sizeof *g->pairs);
    g->ratios = calloc(n ? n : 1, sizeof *g->ratios);
    g->owned = calloc(2 * (n ? n : 1), sizeof *g->owned);
}

static const char *baseline_of(const cJSON *rec)
{
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(rec, "baseline");
    const cJSON *set = b ? cJSON_GetObjectItemCaseSensitive(b, "set") : NULL;
    return cJSON_IsString(set) ? set->valuestring : "";
}

/* Shapes of `workload` (NULL: any) measured against `baseline`. */
static int in_group(const cJSON *rec, const char *workload, const char *baseline)
{
    return is_shape(rec) && (!workload || strcmp(workload_of(rec), workload) == 0) &&
           strcmp(baseline_of(rec), baseline) == 0;
}

/* 1 when an earlier shape record already opened this group. */
static int seen_before(const cJSON *records, const cJSON *rec, const char *workload,
                       const char *baseline)
{
    const cJSON *prev;
    cJSON_ArrayForEach(prev, records)
    {
        if (prev == rec)
            return 0;
        if (in_group(prev, workload, baseline))
            return 1;
    }
    return 0;
}

static cJSON *summarise_group(const cJSON *records, const char *workload, const char *baseline,
                              size_t resamples, uint64_t seed)
{
    group g;
    group_init(&g, workload, (size_t)cJSON_GetArraySize(records));
    g.baseline = baseline;
    const cJSON *r;
    cJSON_ArrayForEach(r, records)
    {
        if (in_group(r, workload, baseline))
            group_add(&g, r);
    }
    cJSON *o = group_json(&g, resamples, seed);
    group_free(&g);
    return o;
}

cJSON *kg_summary_compute(const cJSON *records, size_t resamples, uint64_t seed)
{
    cJSON *summary = cJSON_CreateObject();
    cJSON_AddStringToObject(summary, "type", "summary");
    cJSON_AddStringToObject(summary, "geomean_over",
                            "shapes the baseline passed; a failed candidate counts as 1x (policy "
                            "failures_as_1x; the others are under \"policies\")");
    cJSON_AddNumberToObject(summary, "resamples", (double)resamples);
    /* One group per (workload, baseline) and one overall per baseline, in
     * order of first appearance; "overall" is the first baseline's. */
    cJSON *per = cJSON_AddArrayToObject(summary, "workloads");
    cJSON *overall = cJSON_CreateArray();
    const cJSON *rec;
    cJSON_ArrayForEach(rec, records)
    {
        if (!is_shape(rec))
            continue;
        const char *w = workload_of(rec), *b = baseline_of(rec);
        if (!seen_before(records, rec, w, b))
            cJSON_AddItemToArray(per, summarise_group(records, w, b, resamples, seed));
        if (!seen_before(records, rec, NULL, b))
            cJSON_AddItemToArray(overall, summarise_group(records, NULL, b, resamples, seed));
    }
    if (cJSON_GetArraySize(overall) == 0)
        cJSON_AddItemToArray(overall, summarise_group(records, NULL, "", resamples, seed));
    cJSON_AddItemToObject(summary, "overall", cJSON_Duplicate(cJSON_GetArrayItem(overall, 0), 1));
    cJSON_AddItemToObject(summary, "overall_by_baseline", overall);
    return summary;
}
