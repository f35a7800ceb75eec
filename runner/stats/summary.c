/* Turning recorded samples into speedups and geometric means. */
#include "summary.h"
#include "record_keys.h"
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
    return kg_set_status_of(set) == KG_SET_STATUS_OK;
}

static const cJSON *samples_of(const cJSON *rec, const char *role)
{
    const cJSON *set = cJSON_GetObjectItemCaseSensitive(rec, role);
    return set ? cJSON_GetObjectItemCaseSensitive(set, KG_KEY_SET_SAMPLES_S) : NULL;
}

int kg_summary_add_speedup(cJSON *rec, size_t resamples, uint64_t seed)
{
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_BASELINE);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_CANDIDATE);
    if (!b || !c || !set_usable(b) || !set_usable(c))
        return 0;
    size_t nb, nc;
    double *vb = numbers(samples_of(rec, KG_KEY_SHAPE_BASELINE), &nb);
    double *vc = numbers(samples_of(rec, KG_KEY_SHAPE_CANDIDATE), &nc);
    double s, lo, hi;
    int ok = nb && nc && kg_speedup_ci(vb, nb, vc, nc, resamples, seed, &s, &lo, &hi) == 0;
    free(vb);
    free(vc);
    if (!ok)
        return 0;
    cJSON *o = cJSON_AddObjectToObject(rec, KG_KEY_SHAPE_SPEEDUP);
    cJSON_AddNumberToObject(o, KG_KEY_SPEEDUP_VALUE, s);
    cJSON_AddNumberToObject(o, KG_KEY_SPEEDUP_LO, lo);
    cJSON_AddNumberToObject(o, KG_KEY_SPEEDUP_HI, hi);
    cJSON_AddNumberToObject(o, KG_KEY_SPEEDUP_RESAMPLES, (double)resamples);
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
    return kg_set_status_of(c) == KG_SET_STATUS_MISSING;
}

static void group_add(group *g, const cJSON *rec)
{
    g->shapes++;
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_BASELINE);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_CANDIDATE);
    if (c && set_usable(c))
        g->candidate_ok++;
    if ((b && set_usable(b) && !(c && set_usable(c))) || candidate_missing(c))
        g->candidate_failed++;
    if (!b || !c || !set_usable(b) || !set_usable(c))
        return;
    kg_sample_pair *p = &g->pairs[g->compared];
    double *vb = numbers(samples_of(rec, KG_KEY_SHAPE_BASELINE), &p->n_baseline);
    double *vc = numbers(samples_of(rec, KG_KEY_SHAPE_CANDIDATE), &p->n_candidate);
    g->owned[g->owned_count++] = vb;
    g->owned[g->owned_count++] = vc;
    if (!vb || !vc)
        return;
    p->baseline = vb;
    p->candidate = vc;
    g->ratios[g->compared] = kg_median(vb, p->n_baseline) / kg_median(vc, p->n_candidate);
    g->compared++;
}

/* The geomean with both intervals: the measurement interval (these
 * shapes; what verdicts use) as lo/hi, the shape-sampling one beside it. */
static void add_interval(cJSON *o, const kg_sample_pair *pairs, size_t n, size_t resamples,
                         uint64_t seed)
{
    double gm, lo, hi, slo, shi;
    if (n && kg_geomean_measurement_ci(pairs, n, resamples, seed, &gm, &lo, &hi) == 0 &&
        kg_geomean_speedup_ci(pairs, n, resamples, seed, &gm, &slo, &shi) == 0) {
        cJSON_AddNumberToObject(o, KG_KEY_GROUP_GEOMEAN, gm);
        cJSON_AddNumberToObject(o, KG_KEY_GROUP_LO, lo);
        cJSON_AddNumberToObject(o, KG_KEY_GROUP_HI, hi);
        cJSON_AddStringToObject(o, KG_KEY_GROUP_INTERVAL, "measurement");
        cJSON_AddNumberToObject(o, KG_KEY_GROUP_SHAPE_LO, slo);
        cJSON_AddNumberToObject(o, KG_KEY_GROUP_SHAPE_HI, shi);
    }
}

/* The three ways a failed candidate can enter the geometric mean: as 1x
 * (the default: fall back to the baseline), excluded (KernelBench's
 * geomean), or as 0 (fast_p semantics: any failure zeroes the mean). */
static void add_policies(cJSON *o, group *g, size_t resamples, uint64_t seed)
{
    cJSON *pol = cJSON_AddObjectToObject(o, KG_KEY_GROUP_POLICIES);
    kg_sample_pair *with_ones = calloc(g->compared + g->candidate_failed + 1, sizeof *with_ones);
    if (with_ones) {
        memcpy(with_ones, g->pairs, g->compared * sizeof *with_ones);
        for (size_t i = 0; i < g->candidate_failed; i++)
            with_ones[g->compared + i] = (kg_sample_pair){&unit_sample, 1, &unit_sample, 1};
        add_interval(cJSON_AddObjectToObject(pol, KG_POLICY_FAILURES_AS_1X), with_ones,
                     g->compared + g->candidate_failed, resamples, seed);
        free(with_ones);
    }
    add_interval(cJSON_AddObjectToObject(pol, KG_POLICY_FAILURES_EXCLUDED), g->pairs, g->compared,
                 resamples, seed);
    cJSON *zero = cJSON_AddObjectToObject(pol, KG_POLICY_FAILURES_AS_0);
    if (g->candidate_failed)
        cJSON_AddNumberToObject(zero, KG_KEY_GROUP_GEOMEAN, 0);
    else
        add_interval(zero, g->pairs, g->compared, resamples, seed);
    /* fast_p: the share of the shapes the baseline passed on which the
     * candidate is correct and more than p times faster. */
    size_t eligible = g->compared + g->candidate_failed;
    cJSON *fast = cJSON_AddObjectToObject(o, KG_KEY_GROUP_FAST_P);
    static const double ps[] = {0, 1, 1.5, 2};
    static const char *const names[] = {KG_KEY_FAST_P_0, KG_KEY_FAST_P_1, KG_KEY_FAST_P_1_5,
                                        KG_KEY_FAST_P_2};
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
        cJSON_AddStringToObject(o, KG_KEY_GROUP_WORKLOAD, g->workload);
    if (g->baseline)
        cJSON_AddStringToObject(o, KG_KEY_GROUP_BASELINE, g->baseline);
    cJSON_AddNumberToObject(o, KG_KEY_GROUP_SHAPES, (double)g->shapes);
    cJSON_AddNumberToObject(o, KG_KEY_GROUP_CANDIDATE_PASSED, (double)g->candidate_ok);
    cJSON_AddNumberToObject(o, KG_KEY_GROUP_COMPARED, (double)g->compared);
    cJSON_AddNumberToObject(o, KG_KEY_GROUP_CANDIDATE_FAILED, (double)g->candidate_failed);
    add_policies(o, g, resamples, seed);
    /* The headline numbers follow the default policy, named in "policy". */
    cJSON_AddStringToObject(o, KG_KEY_GROUP_POLICY, KG_POLICY_FAILURES_AS_1X);
    const cJSON *chosen = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(o, KG_KEY_GROUP_POLICIES), KG_POLICY_FAILURES_AS_1X);
    static const char *const keys[] = {KG_KEY_GROUP_GEOMEAN,  KG_KEY_GROUP_LO,
                                       KG_KEY_GROUP_HI,       KG_KEY_GROUP_INTERVAL,
                                       KG_KEY_GROUP_SHAPE_LO, KG_KEY_GROUP_SHAPE_HI};
    for (int k = 0; k < 6; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(chosen, keys[k]);
        if (cJSON_IsNumber(v))
            cJSON_AddNumberToObject(o, keys[k], v->valuedouble);
        else if (cJSON_IsString(v))
            cJSON_AddStringToObject(o, keys[k], v->valuestring);
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

static const char *workload_of(const cJSON *rec)
{
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_WORKLOAD);
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
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_BASELINE);
    const cJSON *set = b ? cJSON_GetObjectItemCaseSensitive(b, KG_KEY_SET_NAME) : NULL;
    return cJSON_IsString(set) ? set->valuestring : "";
}

/* Shapes of `workload` (NULL: any) measured against `baseline`. */
static int in_group(const cJSON *rec, const char *workload, const char *baseline)
{
    return kg_record_is(rec, KG_RECORD_SHAPE) &&
           (!workload || strcmp(workload_of(rec), workload) == 0) &&
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
    cJSON_AddStringToObject(summary, KG_KEY_TYPE, kg_record_type_name(KG_RECORD_SUMMARY));
    cJSON_AddStringToObject(summary, KG_KEY_SUMMARY_GEOMEAN_OVER,
                            "shapes the baseline passed; a failed candidate counts as 1x "
                            "(policy " KG_POLICY_FAILURES_AS_1X
                            "; the others are under \"" KG_KEY_GROUP_POLICIES "\")");
    cJSON_AddNumberToObject(summary, KG_KEY_SUMMARY_RESAMPLES, (double)resamples);
    /* One group per (workload, baseline) and one overall per baseline, in
     * order of first appearance; "overall" is the first baseline's. */
    cJSON *per = cJSON_AddArrayToObject(summary, KG_KEY_SUMMARY_WORKLOADS);
    cJSON *overall = cJSON_CreateArray();
    const cJSON *rec;
    cJSON_ArrayForEach(rec, records)
    {
        if (!kg_record_is(rec, KG_RECORD_SHAPE))
            continue;
        const char *w = workload_of(rec), *b = baseline_of(rec);
        if (!seen_before(records, rec, w, b))
            cJSON_AddItemToArray(per, summarise_group(records, w, b, resamples, seed));
        if (!seen_before(records, rec, NULL, b))
            cJSON_AddItemToArray(overall, summarise_group(records, NULL, b, resamples, seed));
    }
    if (cJSON_GetArraySize(overall) == 0)
        cJSON_AddItemToArray(overall, summarise_group(records, NULL, "", resamples, seed));
    cJSON_AddItemToObject(summary, KG_KEY_SUMMARY_OVERALL,
                          cJSON_Duplicate(cJSON_GetArrayItem(overall, 0), 1));
    cJSON_AddItemToObject(summary, KG_KEY_SUMMARY_BY_BASELINE, overall);
    return summary;
}
