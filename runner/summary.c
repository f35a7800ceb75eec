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
        if (cJSON_IsNumber(x))
            v[(*n)++] = x->valuedouble;
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
    size_t shapes, candidate_ok, compared;
    kg_sample_pair *pairs;
    double **owned;
    size_t owned_count;
} group;

static void group_add(group *g, const cJSON *rec)
{
    g->shapes++;
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(rec, "baseline");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(rec, "candidate");
    if (c && set_usable(c))
        g->candidate_ok++;
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
    g->compared++;
}

static cJSON *group_json(group *g, size_t resamples, uint64_t seed)
{
    cJSON *o = cJSON_CreateObject();
    if (g->workload)
        cJSON_AddStringToObject(o, "workload", g->workload);
    cJSON_AddNumberToObject(o, "shapes", (double)g->shapes);
    cJSON_AddNumberToObject(o, "candidate_passed", (double)g->candidate_ok);
    cJSON_AddNumberToObject(o, "compared", (double)g->compared);
    double gm, lo, hi;
    if (g->compared &&
        kg_geomean_speedup_ci(g->pairs, g->compared, resamples, seed, &gm, &lo, &hi) == 0) {
        cJSON_AddNumberToObject(o, "geomean", gm);
        cJSON_AddNumberToObject(o, "lo", lo);
        cJSON_AddNumberToObject(o, "hi", hi);
    }
    return o;
}

static void group_free(group *g)
{
    for (size_t i = 0; i < g->owned_count; i++)
        free(g->owned[i]);
    free(g->owned);
    free(g->pairs);
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
    g->owned = calloc(2 * (n ? n : 1), sizeof *g->owned);
}

cJSON *kg_summary_compute(const cJSON *records, size_t resamples, uint64_t seed)
{
    size_t n = (size_t)cJSON_GetArraySize(records);
    cJSON *summary = cJSON_CreateObject();
    cJSON_AddStringToObject(summary, "type", "summary");
    cJSON_AddStringToObject(summary, "geomean_over", "shapes where baseline and candidate passed");
    cJSON_AddNumberToObject(summary, "resamples", (double)resamples);
    cJSON *per = cJSON_AddArrayToObject(summary, "workloads");
    group all;
    group_init(&all, NULL, n);
    /* Workloads in order of first appearance. */
    const cJSON *rec;
    cJSON_ArrayForEach(rec, records)
    {
        if (!is_shape(rec))
            continue;
        const char *name = workload_of(rec);
        int seen = 0;
        const cJSON *prev;
        cJSON_ArrayForEach(prev, records)
        {
            if (prev == rec)
                break;
            if (is_shape(prev) && strcmp(workload_of(prev), name) == 0)
                seen = 1;
        }
        if (seen)
            continue;
        group g;
        group_init(&g, name, n);
        const cJSON *r;
        cJSON_ArrayForEach(r, records)
        {
            if (is_shape(r) && strcmp(workload_of(r), name) == 0) {
                group_add(&g, r);
                group_add(&all, r);
            }
        }
        cJSON_AddItemToArray(per, group_json(&g, resamples, seed));
        group_free(&g);
    }
    cJSON_AddItemToObject(summary, "overall", group_json(&all, resamples, seed));
    group_free(&all);
    return summary;
}
