/* Markdown report writer. */
#include "markdown.h"
#include "claims.h"
#include "profiles.h"
#include "summary.h"

#include <math.h>
#include <string.h>

static const char *str(const cJSON *o, const char *key, const char *fallback)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : fallback;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const cJSON *find_type(const cJSON *records, const char *type)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, records)
    {
        if (strcmp(str(r, "type", ""), type) == 0)
            return r;
    }
    return NULL;
}

/* "12.3 us", "4.56 ms", "1.23 s": three significant digits. */
static void format_time(char *buf, size_t size, double s)
{
    if (!isfinite(s))
        snprintf(buf, size, "—");
    else if (s < 1e-3)
        snprintf(buf, size, "%.3g us", s * 1e6);
    else if (s < 1)
        snprintf(buf, size, "%.3g ms", s * 1e3);
    else
        snprintf(buf, size, "%.3g s", s);
}

static void format_ratio(char *buf, size_t size, const cJSON *o, const char *value_key)
{
    double v = num(o, value_key), lo = num(o, "lo"), hi = num(o, "hi");
    if (!isfinite(v))
        snprintf(buf, size, "—");
    else
        snprintf(buf, size, "%.3gx [%.3g, %.3g]", v, lo, hi);
}

/* Achieved rate of one set: GB/s from the workload's byte formula and
 * GFLOP/s from its FLOP formula, at the median time; with a GPU profile,
 * each as a percentage of the datasheet peak (DRAM bandwidth; the compute
 * peak for the output's dtype). */
static void format_rates(char *buf, size_t size, const cJSON *rec, const cJSON *profile,
                         double median)
{
    double flops = num(rec, "flops"), bytes = num(rec, "bytes");
    if (!isfinite(median) || median <= 0) {
        snprintf(buf, size, "—");
        return;
    }
    double gbs = bytes / median * 1e-9, gflops = flops / median * 1e-9;
    double peak_gbs = num(profile, "dram_gbs");
    double peak_tflops =
        profile ? kg_profile_compute_peak(profile, str(rec, "output_dtype", "f32")) : NAN;
    char bw_share[24] = "", fl_share[24] = "";
    if (isfinite(peak_gbs) && peak_gbs > 0)
        snprintf(bw_share, sizeof bw_share, " (%.0f%%)", 100 * gbs / peak_gbs);
    if (isfinite(peak_tflops) && peak_tflops > 0)
        snprintf(fl_share, sizeof fl_share, " (%.0f%%)", 100 * gflops / (peak_tflops * 1e3));
    snprintf(buf, size, "%.3g GB/s%s, %.3g GFLOP/s%s", gbs, bw_share, gflops, fl_share);
}

static void format_check(char *buf, size_t size, const cJSON *set)
{
    const char *status = str(set, "status", "missing");
    if (strcmp(status, "ok") == 0) {
        const cJSON *check = cJSON_GetObjectItemCaseSensitive(set, "check");
        snprintf(buf, size, "pass%s",
                 cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(check, "sampled")) ? " (sampled)"
                                                                                  : "");
    } else {
        snprintf(buf, size, "**%s**", status);
    }
}

static void shape_row(FILE *out, const cJSON *rec, const cJSON *profile)
{
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(rec, "baseline");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(rec, "candidate");
    double mb = kg_summary_median(cJSON_GetObjectItemCaseSensitive(b, "samples_s"));
    double mc = kg_summary_median(cJSON_GetObjectItemCaseSensitive(c, "samples_s"));
    char tb[32], tc[32], sp[64], rb[96], rc[96], cb[48], cc[48];
    format_time(tb, sizeof tb, mb);
    format_time(tc, sizeof tc, mc);
    const cJSON *speedup = cJSON_GetObjectItemCaseSensitive(rec, "speedup");
    format_ratio(sp, sizeof sp, speedup, "value");
    format_rates(rb, sizeof rb, rec, profile, mb);
    format_rates(rc, sizeof rc, rec, profile, mc);
    format_check(cb, sizeof cb, b);
    format_check(cc, sizeof cc, c);
    const cJSON *nb = cJSON_GetObjectItemCaseSensitive(b, "samples_s");
    const cJSON *nc = cJSON_GetObjectItemCaseSensitive(c, "samples_s");
    fprintf(out, "| %s | %s | %s | %s | %s | %s | %s / %s | %d / %d, %s |\n",
            str(rec, "shape", "?"), tb, tc, sp, rb, rc, cb, cc, cJSON_GetArraySize(nb),
            cJSON_GetArraySize(nc), str(rec, "stop_reason", "—"));
}

/* A failing set's message, so a failure is explained in place; and any
 * samples taken while the device was throttled. */
static void shape_notes(FILE *out, const cJSON *rec)
{
    static const char *const roles[] = {"baseline", "candidate"};
    const char *degenerate = str(rec, "degenerate_reference", NULL);
    if (degenerate)
        fprintf(out,
                "- %s: degenerate reference: %s, so a kernel that computes nothing passes this "
                "shape's check (the other shapes' checks still apply)\n",
                str(rec, "shape", "?"), degenerate);
    for (int i = 0; i < 2; i++) {
        const cJSON *set = cJSON_GetObjectItemCaseSensitive(rec, roles[i]);
        if (!set)
            continue;
        if (strcmp(str(set, "status", "ok"), "ok") != 0)
            fprintf(out, "- %s `%s` on %s: %s: %s\n", roles[i], str(set, "set", "?"),
                    str(rec, "shape", "?"), str(set, "status", "?"), str(set, "error", ""));
        const cJSON *sweep = cJSON_GetObjectItemCaseSensitive(set, "sweep");
        if (sweep)
            fprintf(out, "- %s `%s` on %s: the sweep chose %s of %d configurations\n", roles[i],
                    str(set, "set", "?"), str(rec, "shape", "?"), str(sweep, "chosen", "none"),
                    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(sweep, "tried")));
        double throttled = num(set, "throttled_samples");
        if (throttled > 0)
            fprintf(out,
                    "- %s `%s` on %s: %.0f of %d samples taken while the device was throttled "
                    "(power, thermal or a clock below 75%% of its default)\n",
                    roles[i], str(set, "set", "?"), str(rec, "shape", "?"), throttled,
                    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(set, "samples_s")));
    }
}

/* A shape record of this workload measured against this baseline set. */
static int in_section(const cJSON *rec, const char *workload, const char *baseline)
{
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(rec, "baseline");
    return strcmp(str(rec, "type", ""), "shape") == 0 &&
           strcmp(str(rec, "workload", ""), workload) == 0 &&
           strcmp(str(b, "set", ""), baseline) == 0;
}

/* The speed-of-light table of one workload: the roofline time of each
 * shape, each set's share of it, and the largest speedup physically possible
 * over each set (its median / the roofline time). */
static void speed_of_light(FILE *out, const cJSON *records, const char *workload,
                           const char *baseline, const char *candidate, const cJSON *peaks)
{
    int any = 0;
    const cJSON *rec;
    cJSON_ArrayForEach(rec, records)
    {
        if (in_section(rec, workload, baseline) && isfinite(num(rec, "speed_of_light_s")))
            any = 1;
    }
    if (!any)
        return;
    fprintf(out,
            "Speed of light = max(FLOPs / peak compute, bytes / peak bandwidth); peaks %s.\n\n",
            str(peaks, "source", "?"));
    fprintf(out,
            "| shape | speed of light | %s %% of it | %s %% of it | max speedup over %s | "
            "over %s |\n|---|---:|---:|---:|---:|---:|\n",
            baseline, candidate, baseline, candidate);
    cJSON_ArrayForEach(rec, records)
    {
        if (!in_section(rec, workload, baseline))
            continue;
        double sol = num(rec, "speed_of_light_s");
        if (!isfinite(sol))
            continue;
        char t[32], cells[4][32];
        format_time(t, sizeof t, sol);
        static const char *const roles[] = {"baseline", "candidate"};
        for (int i = 0; i < 2; i++) {
            const cJSON *set = cJSON_GetObjectItemCaseSensitive(rec, roles[i]);
            double median = kg_summary_median(cJSON_GetObjectItemCaseSensitive(set, "samples_s"));
            if (isfinite(median) && median > 0) {
                snprintf(cells[i], sizeof cells[i], "%.3g%%", 100 * sol / median);
                snprintf(cells[2 + i], sizeof cells[2 + i], "%.3gx", median / sol);
            } else {
                snprintf(cells[i], sizeof cells[i], "—");
                snprintf(cells[2 + i], sizeof cells[2 + i], "—");
            }
        }
        fprintf(out, "| %s | %s | %s | %s | %s | %s |\n", str(rec, "shape", "?"), t, cells[0],
                cells[1], cells[2], cells[3]);
    }
    fputc('\n', out);
}

/* Claims about the workload, against the bound over its `reference` set. */
static void claims(FILE *out, const cJSON *records, const char *workload, const char *baseline,
                   const cJSON *peaks)
{
    cJSON *list = kg_claims_for_workload(KG_SOURCE_DIR "/reports/claims", workload);
    cJSON *shapes = cJSON_CreateArray();
    const cJSON *rec;
    cJSON_ArrayForEach(rec, records)
    {
        if (in_section(rec, workload, baseline))
            cJSON_AddItemReferenceToArray(shapes, (cJSON *)rec);
    }
    kg_claims_report(out, list, shapes,
                     cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(peaks, "measured")));
    cJSON_Delete(shapes);
    cJSON_Delete(list);
}

/* The geometric mean under the default policy (a failed candidate counts
 * as 1x), the other two policies when anything failed, and fast_p. */
static void geomean_line(FILE *out, const cJSON *g)
{
    char r[64];
    format_ratio(r, sizeof r, g, "geomean");
    double failed = num(g, "candidate_failed");
    fprintf(out, "geomean speedup %s over %.0f of %.0f shapes (candidate passed %.0f", r,
            num(g, "compared") + (isfinite(failed) ? failed : 0), num(g, "shapes"),
            num(g, "candidate_passed"));
    const cJSON *pol = cJSON_GetObjectItemCaseSensitive(g, "policies");
    if (failed > 0) {
        char excluded[64];
        format_ratio(excluded, sizeof excluded,
                     cJSON_GetObjectItemCaseSensitive(pol, "failures_excluded"), "geomean");
        fprintf(out, "; failures counted as 1x; excluding failures %s; failures as 0: 0", excluded);
    }
    fprintf(out, ")");
    const cJSON *fast = cJSON_GetObjectItemCaseSensitive(g, "fast_p");
    static const char *const ps[] = {"1", "1.5", "2"};
    for (int k = 0; k < 3; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(fast, ps[k]);
        if (cJSON_IsNumber(v))
            fprintf(out, "%s fast_%s %.0f%%", k ? "," : " ·", ps[k], 100 * v->valuedouble);
    }
    fprintf(out, "\n\n");
}

void kg_report_markdown(FILE *out, const cJSON *records)
{
    const cJSON *head = find_type(records, "run");
    const cJSON *device = cJSON_GetObjectItemCaseSensitive(head, "device");
    const cJSON *settings = cJSON_GetObjectItemCaseSensitive(head, "settings");
    const cJSON *peaks = cJSON_GetObjectItemCaseSensitive(head, "peaks");
    const cJSON *profile = cJSON_GetObjectItemCaseSensitive(head, "profile");
    if (!cJSON_IsObject(profile))
        profile = NULL;
    const char *baseline = str(settings, "baseline", "baseline");
    const char *candidate = str(settings, "candidate", "candidate");
    fprintf(out, "# kgrade: `%s` against `%s`\n\n", candidate, baseline);
    fprintf(out, "Device: %s (%s %s, driver %s). Size class %s, %s cache, seed %.0f.\n\n",
            str(device, "name", "?"), str(device, "backend", "?"), str(device, "type", ""),
            str(device, "driver_version", "?"), str(settings, "size_class", "?"),
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(settings, "hot")) ? "hot" : "cold",
            num(settings, "seed"));
    if (profile)
        fprintf(out,
                "Peaks from hardware/profiles/%s (%s): %.0f GB/s DRAM; percentages in the rate "
                "columns are of these datasheet figures.\n\n",
                str(profile, "file", "?"), str(profile, "name", "?"), num(profile, "dram_gbs"));

    cJSON *computed = NULL;
    const cJSON *summary = find_type(records, "summary");
    if (!summary)
        summary = computed =
            kg_summary_compute(records, KG_DEFAULT_RESAMPLES, (uint64_t)num(settings, "seed"));
    const cJSON *by_baseline = cJSON_GetObjectItemCaseSensitive(summary, "overall_by_baseline");
    int several_baselines = cJSON_GetArraySize(by_baseline) > 1;
    const cJSON *g;
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(summary, "workloads"))
    {
        const char *name = str(g, "workload", "?");
        const char *against = str(g, "baseline", baseline);
        if (several_baselines)
            fprintf(out, "## %s, against `%s`\n\n", name, against);
        else
            fprintf(out, "## %s\n\n", name);
        fprintf(out,
                "| shape | %s median | %s median | speedup [95%% CI] | %s rate | %s rate | "
                "check | samples, stop |\n",
                against, candidate, against, candidate);
        fprintf(out, "|---|---:|---:|---:|---:|---:|---|---|\n");
        const cJSON *rec;
        cJSON_ArrayForEach(rec, records)
        {
            if (in_section(rec, name, against))
                shape_row(out, rec, profile);
        }
        fputc('\n', out);
        cJSON_ArrayForEach(rec, records)
        {
            if (in_section(rec, name, against))
                shape_notes(out, rec);
        }
        geomean_line(out, g);
        speed_of_light(out, records, name, against, candidate, peaks);
        claims(out, records, name, against, peaks);
    }
    const cJSON *rec;
    cJSON_ArrayForEach(rec, records)
    {
        if (strcmp(str(rec, "type", ""), "skipped") == 0)
            fprintf(out, "Not graded: %s (%s)\n\n", str(rec, "workload", "?"),
                    str(rec, "reason", ""));
    }
    if (several_baselines) {
        /* Baseline sensitivity: the same candidate against each baseline. */
        fprintf(out, "## Overall, against each baseline\n\n");
        fprintf(out,
                "| baseline | geomean speedup of `%s` [95%% CI] | shapes compared |\n"
                "|---|---:|---:|\n",
                candidate);
        cJSON_ArrayForEach(g, by_baseline)
        {
            char r[64];
            format_ratio(r, sizeof r, g, "geomean");
            fprintf(out, "| `%s` | %s | %.0f of %.0f |\n", str(g, "baseline", "?"), r,
                    num(g, "compared") + num(g, "candidate_failed"), num(g, "shapes"));
        }
        fputc('\n', out);
    } else {
        fprintf(out, "## Overall\n\n");
        geomean_line(out, cJSON_GetObjectItemCaseSensitive(summary, "overall"));
    }
    fprintf(out,
            "Speedup = %s median / %s median (device timer, %s cache); intervals are 95%% "
            "bootstrap intervals (%.0f resamples).\n",
            baseline, candidate,
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(settings, "hot")) ? "hot" : "cold",
            num(summary, "resamples"));
    cJSON_Delete(computed);
}
