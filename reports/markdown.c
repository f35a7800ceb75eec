/* Markdown report writer. */
#include "markdown.h"
#include "claims.h"
#include "profiles.h"
#include "results.h"
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
                   const cJSON *peaks, const char *claims_dir)
{
    if (!claims_dir)
        return;
    cJSON *list = kg_claims_for_workload(claims_dir, workload);
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
    const cJSON *pol = cJSON_GetObjectItemCaseSensitive(g, "policies");
    if (failed > 0) {
        /* Failures first: a failed shape is not a 1x shape to the reader. */
        char excluded[64];
        format_ratio(excluded, sizeof excluded,
                     cJSON_GetObjectItemCaseSensitive(pol, "failures_excluded"), "geomean");
        fprintf(out,
                "**candidate failed %.0f of %.0f shapes**: geomean speedup with failures as 0: 0; "
                "with failures as 1x: %s; excluding failures: %s",
                failed, num(g, "compared") + failed, r, excluded);
    } else {
        fprintf(out, "geomean speedup %s over %.0f of %.0f shapes (candidate passed %.0f)", r,
                num(g, "compared"), num(g, "shapes"), num(g, "candidate_passed"));
    }
    const cJSON *fast = cJSON_GetObjectItemCaseSensitive(g, "fast_p");
    static const char *const ps[] = {"1", "1.5", "2"};
    for (int k = 0; k < 3; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(fast, ps[k]);
        if (cJSON_IsNumber(v))
            fprintf(out, "%s fast_%s %.0f%%", k ? "," : " ·", ps[k], 100 * v->valuedouble);
    }
    fprintf(out, "\n\n");
}

/* "9f86d081884c7d65": the first 16 hex digits of a hash. */
static const char *short_hash(const char *hex, char *buf, size_t size)
{
    snprintf(buf, size, "%.16s", hex && hex[0] ? hex : "?");
    return buf;
}

/* Which files each set of the section turned out to be: the manifest by
 * its real path and hash, the source (with every file it included) by the
 * hash of what the compiler read, and the compiler options, so a reader
 * can tell a shadowed tier or a changed source from the report alone. */
static void kernel_sets(FILE *out, const cJSON *records, const char *workload, const char *baseline)
{
    static const char *const roles[] = {"baseline", "candidate"};
    for (int i = 0; i < 2; i++) {
        const cJSON *rec, *set = NULL;
        cJSON_ArrayForEach(rec, records)
        {
            const cJSON *s = cJSON_GetObjectItemCaseSensitive(rec, roles[i]);
            if (in_section(rec, workload, baseline) && str(s, "manifest", NULL)) {
                set = s;
                break;
            }
        }
        if (!set)
            continue;
        char h1[20], h2[20], with[48] = "";
        int included =
            cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(set, "source_files")) - 1;
        if (included > 0)
            snprintf(with, sizeof with, " (+%d included file%s)", included,
                     included > 1 ? "s" : "");
        const char *options = str(set, "options", "");
        const char *source = str(set, "source", "?");
        const char *slash = strrchr(source, '/');
        fprintf(out,
                "- %s `%s`: %s (sha256 %s...); source %s%s, %s, sha256 %s... as compiled; "
                "compiler options: %s\n",
                roles[i], str(set, "set", "?"), str(set, "manifest", "?"),
                short_hash(str(set, "manifest_sha256", NULL), h1, sizeof h1),
                slash ? slash + 1 : source, with, str(set, "language", "?"),
                short_hash(str(set, "source_sha256", NULL), h2, sizeof h2),
                options[0] ? options : "none");
    }
    fputc('\n', out);
}

/* The first lines a reader sees, failures first: how many shapes the
 * candidate failed and how (a crash, a wrong answer, a missing kernel), the
 * geometric mean with failures as 0 beside the 1x view, and what was not
 * graded. A candidate that fails where it would be slow must not look
 * better than one that is honestly slow there. */
static void headline(FILE *out, const cJSON *records, const cJSON *summary, const char *candidate)
{
    const cJSON *g;
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(summary, "overall_by_baseline"))
    {
        const char *against = str(g, "baseline", "?");
        double shapes = num(g, "shapes"), failed = num(g, "candidate_failed");
        /* How the failures went, by status, in order of first appearance. */
        const char *statuses[16];
        int counts[16], kinds = 0, baseline_failed = 0;
        const cJSON *rec;
        cJSON_ArrayForEach(rec, records)
        {
            const cJSON *b = cJSON_GetObjectItemCaseSensitive(rec, "baseline");
            if (strcmp(str(rec, "type", ""), "shape") != 0 || strcmp(str(b, "set", ""), against))
                continue;
            const char *bs = str(b, "status", "");
            const char *cs = str(cJSON_GetObjectItemCaseSensitive(rec, "candidate"), "status", "");
            if (strcmp(cs, "missing") != 0 && strcmp(bs, "ok") != 0) {
                baseline_failed++;
                continue;
            }
            if (strcmp(cs, "ok") == 0)
                continue;
            int k = 0;
            while (k < kinds && strcmp(statuses[k], cs) != 0)
                k++;
            if (k == kinds && kinds < 16) {
                statuses[kinds] = cs;
                counts[kinds++] = 0;
            }
            if (k < kinds)
                counts[k]++;
        }
        char r1[64], rx[64];
        format_ratio(r1, sizeof r1, g, "geomean");
        const cJSON *pol = cJSON_GetObjectItemCaseSensitive(g, "policies");
        format_ratio(rx, sizeof rx, cJSON_GetObjectItemCaseSensitive(pol, "failures_excluded"),
                     "geomean");
        if (failed > 0) {
            fprintf(out, "**`%s` against `%s`: failed %.0f of %.0f shapes** (", candidate, against,
                    failed, shapes - baseline_failed);
            for (int k = 0; k < kinds; k++)
                fprintf(out, "%s%s %d", k ? ", " : "", statuses[k], counts[k]);
            fprintf(out,
                    "). Geomean speedup with failures as 0: **0**; with failures as 1x: %s; "
                    "excluding them: %s.",
                    r1, rx);
        } else {
            fprintf(out, "**`%s` against `%s`: passed all %.0f shapes.** Geomean speedup %s.",
                    candidate, against, shapes - baseline_failed, r1);
        }
        if (baseline_failed)
            fprintf(out, " %d shape%s not compared: the baseline failed %s.", baseline_failed,
                    baseline_failed > 1 ? "s" : "", baseline_failed > 1 ? "them" : "it");
        fputs("\n\n", out);
    }
    const cJSON *rec;
    cJSON_ArrayForEach(rec, records)
    {
        if (strcmp(str(rec, "type", ""), "skipped") == 0)
            fprintf(out, "**Not graded**: workload `%s` against `%s`: %s\n\n",
                    str(rec, "workload", "?"), str(rec, "baseline", "?"), str(rec, "reason", ""));
    }
}

void kg_report_markdown(FILE *out, const cJSON *records, const char *claims_dir)
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
    fprintf(out, "Device: %s (%s %s, driver %s). Size class %s, %s cache, seed %llu.\n\n",
            str(device, "name", "?"), str(device, "backend", "?"), str(device, "type", ""),
            str(device, "driver_version", "?"), str(settings, "size_class", "?"),
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(settings, "hot")) ? "hot" : "cold",
            (unsigned long long)kg_results_settings_seed(settings, 1));
    if (profile)
        fprintf(out,
                "Peaks from hardware/profiles/%s (%s): %.0f GB/s DRAM; percentages in the rate "
                "columns are of these datasheet figures.\n\n",
                str(profile, "file", "?"), str(profile, "name", "?"), num(profile, "dram_gbs"));

    cJSON *computed = NULL;
    const cJSON *summary = find_type(records, "summary");
    if (!summary)
        summary = computed = kg_summary_compute(records, KG_DEFAULT_RESAMPLES,
                                                kg_results_settings_seed(settings, 1));
    headline(out, records, summary, candidate);
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
        kernel_sets(out, records, name, against);
        speed_of_light(out, records, name, against, candidate, peaks);
        claims(out, records, name, against, peaks, claims_dir);
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
