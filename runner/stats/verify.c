/* Claims against measured results. */
#include "verify.h"
#include "record_keys.h"
#include "summary.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *kg_verdict_name(kg_verdict v)
{
    switch (v) {
    case KG_VERDICT_REPRODUCED:
        return "reproduced";
    case KG_VERDICT_REFUTED:
        return "refuted";
    case KG_VERDICT_INCONCLUSIVE:
        return "inconclusive";
    case KG_VERDICT_IMPOSSIBLE:
        return "physically impossible on this device";
    case KG_VERDICT_UNGRADED:
        return "not graded";
    default:
        return "refused";
    }
}

static const char *text(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The last path component: a submission "kernels/qwen/" matches "qwen". */
static int same_set(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    while (la > 1 && a[la - 1] == '/')
        la--;
    while (lb > 1 && b[lb - 1] == '/')
        lb--;
    const char *sa = a + la, *sb = b + lb;
    while (sa > a && sa[-1] != '/')
        sa--;
    while (sb > b && sb[-1] != '/')
        sb--;
    return (size_t)(a + la - sa) == (size_t)(b + lb - sb) &&
           strncmp(sa, sb, (size_t)(a + la - sa)) == 0;
}

/* `set` is one of the comma-separated sets of `list` (--baseline a,b). */
static int in_list(const char *list, const char *set)
{
    char copy[512];
    snprintf(copy, sizeof copy, "%s", list);
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save))
        if (same_set(tok, set))
            return 1;
    return 0;
}

/* The kgrade set standing for the claim's baseline in a run whose
 * --baseline list is `run_baselines` (NULL: unknown): "kgrade_baseline" is
 * a set, or a list in order of preference (["triton-reference",
 * "reference"]: the upstream kernel where the run has it, else the port),
 * of which the first the run has is taken, else the first. */
static const char *claim_baseline(const cJSON *claim, const char *run_baselines)
{
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(claim, "kgrade_baseline");
    if (cJSON_IsString(b))
        return b->valuestring;
    if (!cJSON_IsArray(b) || !cJSON_IsString(cJSON_GetArrayItem(b, 0)))
        return NULL;
    const cJSON *item;
    cJSON_ArrayForEach(item, b)
    {
        if (cJSON_IsString(item) && run_baselines && in_list(run_baselines, item->valuestring))
            return item->valuestring;
    }
    return cJSON_GetArrayItem(b, 0)->valuestring;
}

/* One run of the file: its header and the records up to the next header. */
typedef struct run_view {
    const cJSON *header;
    cJSON *records; /* references */
} run_view;

static int matches_run(const cJSON *claim, const run_view *run, char *why, size_t size)
{
    const cJSON *settings = cJSON_GetObjectItemCaseSensitive(run->header, KG_KEY_RUN_SETTINGS);
    const char *workload = text(claim, "workload");
    const char *run_baseline = text(settings, KG_KEY_SETTINGS_BASELINE);
    const char *baseline = claim_baseline(claim, run_baseline);
    const char *size_class = text(claim, "kgrade_size_class");
    int has_workload = 0;
    const cJSON *rec;
    cJSON_ArrayForEach(rec, run->records)
    {
        if (kg_record_is(rec, KG_RECORD_SHAPE) && text(rec, KG_KEY_SHAPE_WORKLOAD) &&
            strcmp(text(rec, KG_KEY_SHAPE_WORKLOAD), workload) == 0)
            has_workload = 1;
    }
    const char *run_class = text(settings, KG_KEY_SETTINGS_SIZE_CLASS);
    if (!has_workload)
        snprintf(why, size, "no shape of workload '%s'", workload);
    else if (!run_baseline || !in_list(run_baseline, baseline))
        snprintf(why, size, "the baseline is '%s', the claim's is '%s'",
                 run_baseline ? run_baseline : "?", baseline);
    else if (size_class && (!run_class || strcmp(run_class, size_class) != 0))
        snprintf(why, size, "size class '%s', the claim's shapes are '%s'",
                 run_class ? run_class : "?", size_class);
    else
        return 1;
    return 0;
}

/* Geometric mean over the workload's shapes of baseline median / speed of
 * light: the largest geomean speedup possible over the baseline. */
static double bound_over_baseline(const cJSON *records, const char *workload, const char *baseline)
{
    double log_sum = 0;
    int n = 0;
    const cJSON *rec;
    cJSON_ArrayForEach(rec, records)
    {
        if (!kg_record_is(rec, KG_RECORD_SHAPE) ||
            strcmp(text(rec, KG_KEY_SHAPE_WORKLOAD), workload) != 0)
            continue;
        const cJSON *sol = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_SPEED_OF_LIGHT_S);
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_BASELINE);
        if (!text(b, KG_KEY_SET_NAME) || !same_set(text(b, KG_KEY_SET_NAME), baseline))
            continue;
        if (!cJSON_IsNumber(sol) || sol->valuedouble <= 0 ||
            kg_set_status_of(b) != KG_SET_STATUS_OK)
            return NAN; /* every shape must have a bound */
        double median =
            kg_summary_median(cJSON_GetObjectItemCaseSensitive(b, KG_KEY_SET_SAMPLES_S));
        if (!(median > 0))
            return NAN;
        log_sum += log(median / sol->valuedouble);
        n++;
    }
    return n ? exp(log_sum / n) : NAN;
}

/* Shapes of the workload measured against `baseline`, and how many of
 * them were not a clean comparison: the candidate failed (or had no
 * kernel), or the baseline did. */
static void count_failures(const run_view *run, const char *workload, const char *baseline,
                           kg_claim_grade *out)
{
    const cJSON *rec;
    cJSON_ArrayForEach(rec, run->records)
    {
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_BASELINE);
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_CANDIDATE);
        if (!kg_record_is(rec, KG_RECORD_SHAPE) || !text(rec, KG_KEY_SHAPE_WORKLOAD) ||
            strcmp(text(rec, KG_KEY_SHAPE_WORKLOAD), workload) != 0 || !text(b, KG_KEY_SET_NAME) ||
            !same_set(text(b, KG_KEY_SET_NAME), baseline))
            continue;
        out->shapes++;
        out->failed_shapes +=
            kg_set_status_of(c) != KG_SET_STATUS_OK || kg_set_status_of(b) != KG_SET_STATUS_OK;
    }
}

/* The run's summary entry for the workload (recomputed when the run was
 * interrupted before writing its summary). */
/* The run's geomean against `baseline` from `summary`; 1 when found. */
static int group_geomean(const cJSON *summary, const char *workload, const char *baseline,
                         kg_claim_grade *out)
{
    const cJSON *g;
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(summary, KG_KEY_SUMMARY_WORKLOADS))
    {
        /* Summaries before several-baseline runs have no "baseline". */
        const char *against = text(g, KG_KEY_GROUP_BASELINE);
        if (!text(g, KG_KEY_GROUP_WORKLOAD) || strcmp(text(g, KG_KEY_GROUP_WORKLOAD), workload) ||
            (against && !same_set(against, baseline)))
            continue;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(g, KG_KEY_GROUP_GEOMEAN);
        const cJSON *lo = cJSON_GetObjectItemCaseSensitive(g, KG_KEY_GROUP_LO);
        const cJSON *hi = cJSON_GetObjectItemCaseSensitive(g, KG_KEY_GROUP_HI);
        if (cJSON_IsNumber(v) && cJSON_IsNumber(lo) && cJSON_IsNumber(hi)) {
            out->geomean = v->valuedouble;
            out->lo = lo->valuedouble;
            out->hi = hi->valuedouble;
            snprintf(out->interval, sizeof out->interval, "%s",
                     text(g, KG_KEY_GROUP_INTERVAL) ? text(g, KG_KEY_GROUP_INTERVAL)
                                                    : "shape-sampling");
            return 1;
        }
    }
    return 0;
}

/* The measured geomean and its measurement interval: from the run's
 * summary, or, where the run has none or one from before measurement
 * intervals, computed again from its shape records (the samples are
 * there). */
static void measured_geomean(const run_view *run, const char *workload, const char *baseline,
                             kg_claim_grade *out)
{
    const cJSON *summary = NULL, *rec;
    cJSON_ArrayForEach(rec, run->records)
    {
        if (kg_record_is(rec, KG_RECORD_SUMMARY))
            summary = rec;
    }
    if (summary && group_geomean(summary, workload, baseline, out) &&
        strcmp(out->interval, "measurement") == 0)
        return;
    cJSON *computed = kg_summary_compute(run->records, KG_DEFAULT_RESAMPLES, 1);
    kg_claim_grade fresh = *out;
    if (group_geomean(computed, workload, baseline, &fresh))
        *out = fresh;
    cJSON_Delete(computed);
}

/* The language the run's baseline set was written in for the workload
 * ("triton", "portable", ...; "unrecorded" for files without it), and
 * whether every shape's baseline is a Triton set. */
static int baseline_is_triton(const run_view *run, const char *workload, const char *baseline,
                              char *language, size_t size)
{
    int shapes = 0, triton = 0;
    snprintf(language, size, "unrecorded");
    const cJSON *rec;
    cJSON_ArrayForEach(rec, run->records)
    {
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_BASELINE);
        if (!kg_record_is(rec, KG_RECORD_SHAPE) || !text(rec, KG_KEY_SHAPE_WORKLOAD) ||
            strcmp(text(rec, KG_KEY_SHAPE_WORKLOAD), workload) != 0 || !text(b, KG_KEY_SET_NAME) ||
            !same_set(text(b, KG_KEY_SET_NAME), baseline))
            continue;
        const char *lang = text(b, KG_KEY_SET_LANGUAGE);
        if (lang)
            snprintf(language, size, "%s", lang);
        shapes++;
        triton += lang && strcmp(lang, "triton") == 0;
    }
    return shapes > 0 && triton == shapes;
}

/* Does the claim's baseline name a Triton implementation ("over the
 * reference Triton implementation")? */
static int claim_names_triton(const cJSON *claim)
{
    const char *baseline = text(claim, "baseline");
    if (!baseline)
        return 0;
    for (const char *s = baseline; *s; s++)
        if (strncasecmp(s, "triton", 6) == 0)
            return 1;
    return 0;
}

static void refuse(kg_claim_grade *out, const char *fmt, const char *a, const char *b)
{
    out->verdict = KG_VERDICT_REFUSED;
    snprintf(out->reason, sizeof out->reason, fmt, a ? a : "", b ? b : "");
}

/* The verdict from the figures in *out, and its reason. `port_of`: the
 * claim names Triton and the measured baseline (this set, of `language`)
 * is not a Triton set; NULL otherwise. */
static void decide(kg_claim_grade *out, const char *candidate, const char *port_of,
                   const char *language)
{
    int port = port_of != NULL;
    const char *baseline = port_of;
    if (isfinite(out->bound) && out->claimed > out->bound) {
        out->verdict = KG_VERDICT_IMPOSSIBLE;
        snprintf(out->reason, sizeof out->reason,
                 "the largest geomean speedup possible over the baseline on %s is %.3gx",
                 out->device, out->bound);
    } else if (!isfinite(out->geomean)) {
        out->verdict = KG_VERDICT_UNGRADED;
        snprintf(out->reason, sizeof out->reason,
                 "the results hold no measurement of the claimed kernel (%s)%s",
                 candidate ? candidate : "no kgrade_candidate in the claim",
                 isfinite(out->bound) ? "; the claim is within the speed-of-light bound" : "");
    } else if (out->lo >= out->claimed && out->failed_shapes) {
        /* A candidate that failed a shape where it would have been slow
         * (or crashed on purpose) must not be graded on the rest alone. */
        out->verdict = KG_VERDICT_INCONCLUSIVE;
    } else if (out->lo >= out->claimed) {
        out->verdict = KG_VERDICT_REPRODUCED;
    } else if (out->hi < out->claimed) {
        out->verdict = KG_VERDICT_REFUTED;
    } else {
        out->verdict = KG_VERDICT_INCONCLUSIVE;
    }
    /* A claim over "the reference Triton implementation" is about that
     * kernel: measured against a port of it (a slower or faster rewrite),
     * the figures are shown but decide nothing. */
    if (port && out->verdict >= KG_VERDICT_REPRODUCED && out->verdict <= KG_VERDICT_INCONCLUSIVE)
        out->verdict = KG_VERDICT_INCONCLUSIVE;
    if (out->verdict >= KG_VERDICT_REPRODUCED && out->verdict <= KG_VERDICT_INCONCLUSIVE) {
        int n = 0;
        if (port)
            n = snprintf(out->reason, sizeof out->reason,
                         "baseline is kgrade's port (%s, language %s), not the Triton kernel the "
                         "claim names (the triton-reference tier); ",
                         baseline, language);
        if (n < 0 || (size_t)n >= sizeof out->reason)
            n = 0;
        n += snprintf(out->reason + n, sizeof out->reason - (size_t)n,
                      "measured %.3gx [%.3g, %.3g] (%s interval) on %s", out->geomean, out->lo,
                      out->hi, out->interval, out->device);
        if (out->failed_shapes && n > 0 && (size_t)n < sizeof out->reason)
            snprintf(out->reason + n, sizeof out->reason - (size_t)n,
                     "; %zu of the claim's %zu shapes failed (the candidate's or the baseline's), "
                     "so the claim cannot be reproduced from these results (failures count as 1x "
                     "in the geomean)",
                     out->failed_shapes, out->shapes);
    }
}

void kg_verify_claim(const cJSON *claim, const cJSON *records, kg_claim_grade *out)
{
    memset(out, 0, sizeof *out);
    out->geomean = out->lo = out->hi = out->bound = NAN;
    const cJSON *speedup = cJSON_GetObjectItemCaseSensitive(claim, "speedup");
    const char *workload = text(claim, "workload");
    const char *statistic = text(claim, "statistic");
    const char *baseline = claim_baseline(claim, NULL);
    const char *candidate = text(claim, "kgrade_candidate");
    out->claimed = cJSON_IsNumber(speedup) ? speedup->valuedouble : NAN;
    if (!workload || !(out->claimed > 0)) {
        refuse(out, "the claim has no workload or no positive speedup%s%s", NULL, NULL);
        return;
    }
    if (!statistic || strcmp(statistic, "geometric mean") != 0) {
        refuse(out, "statistic '%s' is not a geometric mean; only that can be graded%s",
               statistic ? statistic : "(none)", NULL);
        return;
    }
    if (!baseline) {
        refuse(out,
               "no kgrade_baseline: which kgrade set stands for the claim's baseline "
               "'%s' is not said%s",
               text(claim, "baseline"), NULL);
        return;
    }

    /* Split the file into runs; use the first that matches. */
    char why[256] = "no run in the results";
    run_view run = {0};
    const cJSON *rec;
    cJSON_ArrayForEach(rec, records)
    {
        if (kg_record_is(rec, KG_RECORD_RUN)) {
            if (run.header && matches_run(claim, &run, why, sizeof why))
                break;
            cJSON_Delete(run.records);
            run.header = rec;
            run.records = cJSON_CreateArray();
        }
        if (run.records)
            cJSON_AddItemReferenceToArray(run.records, (cJSON *)rec);
    }
    if (!run.header || !matches_run(claim, &run, why, sizeof why)) {
        cJSON_Delete(run.records);
        refuse(out, "no run of these results matches the claim (last: %s)%s", why, NULL);
        return;
    }
    baseline = claim_baseline(
        claim, text(cJSON_GetObjectItemCaseSensitive(run.header, KG_KEY_RUN_SETTINGS),
                    KG_KEY_SETTINGS_BASELINE));
    const cJSON *device = cJSON_GetObjectItemCaseSensitive(run.header, KG_KEY_RUN_DEVICE);
    snprintf(out->device, sizeof out->device, "%s",
             text(device, KG_KEY_DEVICE_NAME) ? text(device, KG_KEY_DEVICE_NAME) : "?");
    out->bound = bound_over_baseline(run.records, workload, baseline);
    const cJSON *settings = cJSON_GetObjectItemCaseSensitive(run.header, KG_KEY_RUN_SETTINGS);
    const char *run_candidate = text(settings, KG_KEY_SETTINGS_CANDIDATE);
    if (candidate && run_candidate && same_set(run_candidate, candidate)) {
        measured_geomean(&run, workload, baseline, out);
        count_failures(&run, workload, baseline, out);
    }
    char language[32] = "";
    int port = claim_names_triton(claim) &&
               !baseline_is_triton(&run, workload, baseline, language, sizeof language);
    cJSON_Delete(run.records);

    decide(out, candidate, port ? baseline : NULL, language);
}
