/* Markdown report writer. */
#include "markdown.h"
#include "claims.h"
#include "profiles.h"
#include "record_keys.h"
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

static const cJSON *find_type(const cJSON *records, kg_record_type type)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, records)
    {
        if (kg_record_is(r, type))
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

static void format_interval(char *buf, size_t size, double v, double lo, double hi)
{
    if (!isfinite(v))
        snprintf(buf, size, "—");
    else
        snprintf(buf, size, "%.3gx [%.3g, %.3g]", v, lo, hi);
}

/* A shape's speedup with its interval. */
static void format_speedup(char *buf, size_t size, const cJSON *speedup)
{
    format_interval(buf, size, num(speedup, KG_KEY_SPEEDUP_VALUE), num(speedup, KG_KEY_SPEEDUP_LO),
                    num(speedup, KG_KEY_SPEEDUP_HI));
}

/* A geometric mean with its interval: a summary group, or one policy's. */
static void format_geomean(char *buf, size_t size, const cJSON *g)
{
    format_interval(buf, size, num(g, KG_KEY_GROUP_GEOMEAN), num(g, KG_KEY_GROUP_LO),
                    num(g, KG_KEY_GROUP_HI));
}

/* Achieved rate of one set: GB/s from the workload's byte formula and
 * GFLOP/s from its FLOP formula, at the median time; with a GPU profile,
 * each as a percentage of the datasheet peak (DRAM bandwidth; the compute
 * peak for the output's dtype). */
static void format_rates(char *buf, size_t size, const cJSON *rec, const cJSON *profile,
                         double median)
{
    double flops = num(rec, KG_KEY_SHAPE_FLOPS), bytes = num(rec, KG_KEY_SHAPE_BYTES);
    if (!isfinite(median) || median <= 0) {
        snprintf(buf, size, "—");
        return;
    }
    double gbs = bytes / median * 1e-9, gflops = flops / median * 1e-9;
    double peak_gbs = num(profile, KG_KEY_PROFILE_DRAM_GBS);
    double peak_tflops =
        profile ? kg_profile_compute_peak(profile, str(rec, KG_KEY_SHAPE_OUTPUT_DTYPE, "f32"))
                : NAN;
    char bw_share[24] = "", fl_share[24] = "";
    if (isfinite(peak_gbs) && peak_gbs > 0)
        snprintf(bw_share, sizeof bw_share, " (%.0f%%)", 100 * gbs / peak_gbs);
    if (isfinite(peak_tflops) && peak_tflops > 0)
        snprintf(fl_share, sizeof fl_share, " (%.0f%%)", 100 * gflops / (peak_tflops * 1e3));
    snprintf(buf, size, "%.3g GB/s%s, %.3g GFLOP/s%s", gbs, bw_share, gflops, fl_share);
}

static void format_check(char *buf, size_t size, const cJSON *set)
{
    if (kg_set_status_of(set) == KG_SET_STATUS_OK) {
        const cJSON *check = cJSON_GetObjectItemCaseSensitive(set, KG_KEY_SET_CHECK);
        snprintf(buf, size, "pass%s",
                 cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(check, KG_KEY_CHECK_SAMPLED))
                     ? " (sampled)"
                     : "");
    } else {
        /* As written, so a status this kgrade does not know still shows. */
        snprintf(buf, size, "**%s**",
                 str(set, KG_KEY_SET_STATUS, kg_set_status_name(KG_SET_STATUS_MISSING)));
    }
}

static void shape_row(FILE *out, const cJSON *rec, const cJSON *profile)
{
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_BASELINE);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_CANDIDATE);
    double mb = kg_summary_median(cJSON_GetObjectItemCaseSensitive(b, KG_KEY_SET_SAMPLES_S));
    double mc = kg_summary_median(cJSON_GetObjectItemCaseSensitive(c, KG_KEY_SET_SAMPLES_S));
    char tb[32], tc[32], sp[64], rb[96], rc[96], cb[48], cc[48];
    format_time(tb, sizeof tb, mb);
    format_time(tc, sizeof tc, mc);
    format_speedup(sp, sizeof sp, cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_SPEEDUP));
    format_rates(rb, sizeof rb, rec, profile, mb);
    format_rates(rc, sizeof rc, rec, profile, mc);
    format_check(cb, sizeof cb, b);
    format_check(cc, sizeof cc, c);
    const cJSON *nb = cJSON_GetObjectItemCaseSensitive(b, KG_KEY_SET_SAMPLES_S);
    const cJSON *nc = cJSON_GetObjectItemCaseSensitive(c, KG_KEY_SET_SAMPLES_S);
    fprintf(out, "| %s | %s | %s | %s | %s | %s | %s / %s | %d / %d, %s |\n",
            str(rec, KG_KEY_SHAPE_SHAPE, "?"), tb, tc, sp, rb, rc, cb, cc, cJSON_GetArraySize(nb),
            cJSON_GetArraySize(nc), str(rec, KG_KEY_SHAPE_STOP_REASON, "—"));
}

/* A failing set's message, so a failure is explained in place; and any
 * samples taken while the device was throttled. */
static void shape_notes(FILE *out, const cJSON *rec)
{
    static const char *const roles[] = {KG_KEY_SHAPE_BASELINE, KG_KEY_SHAPE_CANDIDATE};
    const char *shape = str(rec, KG_KEY_SHAPE_SHAPE, "?");
    const char *degenerate = str(rec, KG_KEY_SHAPE_DEGENERATE, NULL);
    if (degenerate)
        fprintf(out,
                "- %s: degenerate reference: %s, so a kernel that computes nothing passes this "
                "shape's check (the other shapes' checks still apply)\n",
                shape, degenerate);
    for (int i = 0; i < 2; i++) {
        const cJSON *set = cJSON_GetObjectItemCaseSensitive(rec, roles[i]);
        if (!set)
            continue;
        const char *name = str(set, KG_KEY_SET_NAME, "?");
        const char *status = str(set, KG_KEY_SET_STATUS, NULL); /* none: no note */
        if (status && kg_set_status_parse(status) != KG_SET_STATUS_OK)
            fprintf(out, "- %s `%s` on %s: %s: %s\n", roles[i], name, shape, status,
                    str(set, KG_KEY_SET_ERROR, ""));
        const cJSON *sweep = cJSON_GetObjectItemCaseSensitive(set, KG_KEY_SET_SWEEP);
        if (sweep)
            fprintf(
                out, "- %s `%s` on %s: the sweep chose %s of %d configurations\n", roles[i], name,
                shape, str(sweep, KG_KEY_SWEEP_CHOSEN, "none"),
                cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(sweep, KG_KEY_SWEEP_TRIED)));
        double throttled = num(set, KG_KEY_SET_THROTTLED_SAMPLES);
        if (throttled > 0)
            fprintf(
                out,
                "- %s `%s` on %s: %.0f of %d samples taken while the device was throttled "
                "(power, thermal or a clock below 75%% of its default)\n",
                roles[i], name, shape, throttled,
                cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(set, KG_KEY_SET_SAMPLES_S)));
    }
}

/* A shape record of this workload measured against this baseline set. */
static int in_section(const cJSON *rec, const char *workload, const char *baseline)
{
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_BASELINE);
    return kg_record_is(rec, KG_RECORD_SHAPE) &&
           strcmp(str(rec, KG_KEY_SHAPE_WORKLOAD, ""), workload) == 0 &&
           strcmp(str(b, KG_KEY_SET_NAME, ""), baseline) == 0;
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
        if (in_section(rec, workload, baseline) &&
            isfinite(num(rec, KG_KEY_SHAPE_SPEED_OF_LIGHT_S)))
            any = 1;
    }
    if (!any)
        return;
    fprintf(out,
            "Speed of light = max(FLOPs / peak compute, bytes / peak bandwidth); peaks %s.\n\n",
            str(peaks, KG_KEY_PEAKS_SOURCE, "?"));
    fprintf(out,
            "| shape | speed of light | %s %% of it | %s %% of it | max speedup over %s | "
            "over %s |\n|---|---:|---:|---:|---:|---:|\n",
            baseline, candidate, baseline, candidate);
    cJSON_ArrayForEach(rec, records)
    {
        if (!in_section(rec, workload, baseline))
            continue;
        double sol = num(rec, KG_KEY_SHAPE_SPEED_OF_LIGHT_S);
        if (!isfinite(sol))
            continue;
        char t[32], cells[4][32];
        format_time(t, sizeof t, sol);
        static const char *const roles[] = {KG_KEY_SHAPE_BASELINE, KG_KEY_SHAPE_CANDIDATE};
        for (int i = 0; i < 2; i++) {
            const cJSON *set = cJSON_GetObjectItemCaseSensitive(rec, roles[i]);
            double median =
                kg_summary_median(cJSON_GetObjectItemCaseSensitive(set, KG_KEY_SET_SAMPLES_S));
            if (isfinite(median) && median > 0) {
                snprintf(cells[i], sizeof cells[i], "%.3g%%", 100 * sol / median);
                snprintf(cells[2 + i], sizeof cells[2 + i], "%.3gx", median / sol);
            } else {
                snprintf(cells[i], sizeof cells[i], "—");
                snprintf(cells[2 + i], sizeof cells[2 + i], "—");
            }
        }
        fprintf(out, "| %s | %s | %s | %s | %s | %s |\n", str(rec, KG_KEY_SHAPE_SHAPE, "?"), t,
                cells[0], cells[1], cells[2], cells[3]);
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
                     cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(peaks, KG_KEY_PEAKS_MEASURED)));
    cJSON_Delete(shapes);
    cJSON_Delete(list);
}

/* Which interval a geomean's brackets are: the measurement interval
 * (these shapes; verdicts use it), with the shape-sampling interval beside
 * it; a summary from before the two were told apart holds the latter. */
static void interval_note(FILE *out, const cJSON *g)
{
    const char *interval = str(g, KG_KEY_GROUP_INTERVAL, NULL);
    double slo = num(g, KG_KEY_GROUP_SHAPE_LO), shi = num(g, KG_KEY_GROUP_SHAPE_HI);
    if (interval && strcmp(interval, "measurement") == 0 && isfinite(slo) && isfinite(shi))
        fprintf(out, " (measurement interval; over other shapes like these [%.3g, %.3g])", slo,
                shi);
    else if (isfinite(num(g, KG_KEY_GROUP_LO)))
        fprintf(out, " (shape-sampling interval: a results file from before measurement "
                     "intervals)");
}

/* The geometric mean under the default policy (a failed candidate counts
 * as 1x), the other two policies when anything failed, and fast_p. */
static void geomean_line(FILE *out, const cJSON *g)
{
    char r[64];
    format_geomean(r, sizeof r, g);
    double failed = num(g, KG_KEY_GROUP_CANDIDATE_FAILED);
    const cJSON *pol = cJSON_GetObjectItemCaseSensitive(g, KG_KEY_GROUP_POLICIES);
    if (failed > 0) {
        /* Failures first: a failed shape is not a 1x shape to the reader. */
        char excluded[64];
        format_geomean(excluded, sizeof excluded,
                       cJSON_GetObjectItemCaseSensitive(pol, KG_POLICY_FAILURES_EXCLUDED));
        fprintf(out,
                "**candidate failed %.0f of %.0f shapes**: geomean speedup with failures as 0: 0; "
                "with failures as 1x: %s; excluding failures: %s",
                failed, num(g, KG_KEY_GROUP_COMPARED) + failed, r, excluded);
    } else {
        fprintf(out, "geomean speedup %s over %.0f of %.0f shapes (candidate passed %.0f)", r,
                num(g, KG_KEY_GROUP_COMPARED), num(g, KG_KEY_GROUP_SHAPES),
                num(g, KG_KEY_GROUP_CANDIDATE_PASSED));
    }
    interval_note(out, g);
    const cJSON *fast = cJSON_GetObjectItemCaseSensitive(g, KG_KEY_GROUP_FAST_P);
    static const char *const ps[] = {KG_KEY_FAST_P_1, KG_KEY_FAST_P_1_5, KG_KEY_FAST_P_2};
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
    static const char *const roles[] = {KG_KEY_SHAPE_BASELINE, KG_KEY_SHAPE_CANDIDATE};
    for (int i = 0; i < 2; i++) {
        const cJSON *rec, *set = NULL;
        cJSON_ArrayForEach(rec, records)
        {
            const cJSON *s = cJSON_GetObjectItemCaseSensitive(rec, roles[i]);
            if (in_section(rec, workload, baseline) && str(s, KG_KEY_SET_MANIFEST, NULL)) {
                set = s;
                break;
            }
        }
        if (!set)
            continue;
        char h1[20], h2[20], with[48] = "";
        const cJSON *lib = cJSON_GetObjectItemCaseSensitive(set, KG_KEY_SET_LIBRARY);
        if (lib) {
            /* A library tier: which library, as loaded, instead of a source. */
            fprintf(out,
                    "- %s `%s`: %s (sha256 %s...); library %s %s, %s, sha256 %s...; %s %s, B %s\n",
                    roles[i], str(set, KG_KEY_SET_NAME, "?"), str(set, KG_KEY_SET_MANIFEST, "?"),
                    short_hash(str(set, KG_KEY_SET_MANIFEST_SHA256, NULL), h1, sizeof h1),
                    str(lib, KG_KEY_LIBRARY_NAME, "?"), str(lib, KG_KEY_LIBRARY_VERSION, ""),
                    str(lib, KG_KEY_LIBRARY_PATH, "?"),
                    short_hash(str(lib, KG_KEY_LIBRARY_SHA256, NULL), h2, sizeof h2),
                    str(lib, KG_KEY_LIBRARY_OP, "?"), str(lib, KG_KEY_LIBRARY_DTYPE, "?"),
                    strcmp(str(lib, KG_KEY_LIBRARY_B_LAYOUT, "kn"), "nk") ? "[k][n]" : "[n][k]");
            continue;
        }
        int included =
            cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(set, KG_KEY_SET_SOURCE_FILES)) - 1;
        if (included > 0)
            snprintf(with, sizeof with, " (+%d included file%s)", included,
                     included > 1 ? "s" : "");
        const char *options = str(set, KG_KEY_SET_OPTIONS, "");
        const char *source = str(set, KG_KEY_SET_SOURCE, "?");
        const char *slash = strrchr(source, '/');
        fprintf(out,
                "- %s `%s`: %s (sha256 %s...); source %s%s, %s, sha256 %s... as compiled; "
                "compiler options: %s\n",
                roles[i], str(set, KG_KEY_SET_NAME, "?"), str(set, KG_KEY_SET_MANIFEST, "?"),
                short_hash(str(set, KG_KEY_SET_MANIFEST_SHA256, NULL), h1, sizeof h1),
                slash ? slash + 1 : source, with, str(set, KG_KEY_SET_LANGUAGE, "?"),
                short_hash(str(set, KG_KEY_SET_SOURCE_SHA256, NULL), h2, sizeof h2),
                options[0] ? options : "none");
    }
    fputc('\n', out);
}

/* Where one side of the section is a library tier: how the other set
 * stands against what a vendor library achieves on these shapes. A set
 * whose whole interval is below half the library's speed is named weak:
 * speedups claimed over it say more about it than about the kernel. */
static void library_comparison(FILE *out, const cJSON *records, const char *workload,
                               const char *baseline, const cJSON *g)
{
    const cJSON *rec, *lib = NULL, *other = NULL;
    int library_is_baseline = 1;
    cJSON_ArrayForEach(rec, records)
    {
        if (!in_section(rec, workload, baseline))
            continue;
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_BASELINE);
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_CANDIDATE);
        library_is_baseline = cJSON_HasObjectItem(b, KG_KEY_SET_LIBRARY);
        lib = cJSON_GetObjectItemCaseSensitive(library_is_baseline ? b : c, KG_KEY_SET_LIBRARY);
        other = library_is_baseline ? c : b;
        if (lib)
            break;
    }
    double v = num(g, KG_KEY_GROUP_GEOMEAN), lo = num(g, KG_KEY_GROUP_LO),
           hi = num(g, KG_KEY_GROUP_HI);
    if (!lib || !(v > 0) || !(lo > 0) || !(hi > 0))
        return;
    /* The other set's speed as a share of the library's. */
    double share = library_is_baseline ? v : 1 / v, share_hi = library_is_baseline ? hi : 1 / lo;
    const char *name = str(other, KG_KEY_SET_NAME, "?");
    char library[96];
    snprintf(library, sizeof library, "%s %s", str(lib, KG_KEY_LIBRARY_NAME, "?"),
             str(lib, KG_KEY_LIBRARY_VERSION, ""));
    if (share_hi < 0.5)
        fprintf(out,
                "**`%s` is weak next to the library**: %.2gx the speed of %s on these shapes "
                "(at most %.2gx within the interval); a speedup over `%s` says more about "
                "`%s` than about the kernel compared with it.\n\n",
                name, share, library, share_hi, name, name);
    else
        fprintf(out, "`%s` runs at %.2gx the speed of %s on these shapes.\n\n", name, share,
                library);
}

/* The first lines a reader sees, failures first: how many shapes the
 * candidate failed and how (a crash, a wrong answer, a missing kernel), the
 * geometric mean with failures as 0 beside the 1x view, and what was not
 * graded. A candidate that fails where it would be slow must not look
 * better than one that is honestly slow there. */
static void headline(FILE *out, const cJSON *records, const cJSON *summary, const char *candidate)
{
    const cJSON *g;
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(summary, KG_KEY_SUMMARY_BY_BASELINE))
    {
        const char *against = str(g, KG_KEY_GROUP_BASELINE, "?");
        double shapes = num(g, KG_KEY_GROUP_SHAPES), failed = num(g, KG_KEY_GROUP_CANDIDATE_FAILED);
        /* How the failures went, by status, in order of first appearance. */
        const char *statuses[16];
        int counts[16], kinds = 0, baseline_failed = 0;
        const cJSON *rec;
        cJSON_ArrayForEach(rec, records)
        {
            const cJSON *b = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_BASELINE);
            if (!kg_record_is(rec, KG_RECORD_SHAPE) || strcmp(str(b, KG_KEY_SET_NAME, ""), against))
                continue;
            /* The candidate's status as written: counted by name, known or not. */
            const char *cs = str(cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_CANDIDATE),
                                 KG_KEY_SET_STATUS, "");
            kg_set_status candidate_status = kg_set_status_parse(cs);
            if (candidate_status != KG_SET_STATUS_MISSING &&
                kg_set_status_of(b) != KG_SET_STATUS_OK) {
                baseline_failed++;
                continue;
            }
            if (candidate_status == KG_SET_STATUS_OK)
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
        format_geomean(r1, sizeof r1, g);
        const cJSON *pol = cJSON_GetObjectItemCaseSensitive(g, KG_KEY_GROUP_POLICIES);
        format_geomean(rx, sizeof rx,
                       cJSON_GetObjectItemCaseSensitive(pol, KG_POLICY_FAILURES_EXCLUDED));
        if (shapes == 0) {
            /* Every workload skipped (no kernel, or Triton unavailable):
             * "passed all 0 shapes" would read as a pass. */
            fprintf(out,
                    "**`%s`: nothing graded.** Every workload was skipped; the reasons are "
                    "below.",
                    candidate);
        } else if (failed > 0) {
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
        if (kg_record_is(rec, KG_RECORD_SKIPPED))
            fprintf(out, "**Not graded**: workload `%s` against `%s`: %s\n\n",
                    str(rec, KG_KEY_SKIPPED_WORKLOAD, "?"), str(rec, KG_KEY_SKIPPED_BASELINE, "?"),
                    str(rec, KG_KEY_SKIPPED_REASON, ""));
    }
}

/* Where the run's records came from when it is not one whole process's
 * run: a shard (kgrade run --only) or shards merged (kgrade merge). */
static void provenance(FILE *out, const cJSON *head, const cJSON *settings)
{
    const char *only = str(settings, KG_KEY_SETTINGS_ONLY, NULL);
    const cJSON *merged = cJSON_GetObjectItemCaseSensitive(head, KG_KEY_RUN_MERGED);
    if (only)
        fprintf(out, "A shard of run %s: evaluations %s of %.0f.\n\n",
                str(settings, KG_KEY_SETTINGS_RUN_ID, "?"), only,
                num(settings, KG_KEY_SETTINGS_EVALUATIONS));
    if (!cJSON_IsObject(merged))
        return;
    const cJSON *shards = cJSON_GetObjectItemCaseSensitive(merged, KG_KEY_MERGED_SHARDS);
    const char *missing = str(merged, KG_KEY_MERGED_MISSING, "");
    fprintf(out, "Merged from %d shard%s of run %s (hosts:", cJSON_GetArraySize(shards),
            cJSON_GetArraySize(shards) == 1 ? "" : "s", str(settings, KG_KEY_SETTINGS_RUN_ID, "?"));
    const cJSON *sh;
    int n = 0;
    cJSON_ArrayForEach(sh, shards)
    {
        const char *host = str(sh, KG_KEY_MERGED_SHARD_HOST, "?");
        int seen = 0; /* each host once */
        for (const cJSON *p = shards->child; p != sh && !seen; p = p->next)
            seen = strcmp(str(p, KG_KEY_MERGED_SHARD_HOST, "?"), host) == 0;
        if (!seen)
            fprintf(out, "%s %s", n++ ? "," : "", host);
    }
    fprintf(out, "); %.0f duplicate%s dropped. ", num(merged, KG_KEY_MERGED_DUPLICATES),
            num(merged, KG_KEY_MERGED_DUPLICATES) == 1 ? "" : "s");
    if (missing[0])
        fprintf(out, "**Evaluations missing: %s** (of %.0f; `kgrade slurm --resubmit`).\n\n",
                missing, num(settings, KG_KEY_SETTINGS_EVALUATIONS));
    else
        fprintf(out, "Every evaluation present.\n\n");
}

void kg_report_markdown(FILE *out, const cJSON *records, const char *claims_dir)
{
    const cJSON *head = find_type(records, KG_RECORD_RUN);
    const cJSON *device = cJSON_GetObjectItemCaseSensitive(head, KG_KEY_RUN_DEVICE);
    const cJSON *settings = cJSON_GetObjectItemCaseSensitive(head, KG_KEY_RUN_SETTINGS);
    const cJSON *peaks = cJSON_GetObjectItemCaseSensitive(head, KG_KEY_RUN_PEAKS);
    const cJSON *profile = cJSON_GetObjectItemCaseSensitive(head, KG_KEY_RUN_PROFILE);
    if (!cJSON_IsObject(profile))
        profile = NULL;
    const char *baseline = str(settings, KG_KEY_SETTINGS_BASELINE, "baseline");
    const char *candidate = str(settings, KG_KEY_SETTINGS_CANDIDATE, "candidate");
    int hot = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(settings, KG_KEY_SETTINGS_HOT));
    fprintf(out, "# kgrade: `%s` against `%s`\n\n", candidate, baseline);
    fprintf(out, "Device: %s (%s %s, driver %s). Size class %s, %s cache, seed %llu.\n\n",
            str(device, KG_KEY_DEVICE_NAME, "?"), str(device, KG_KEY_DEVICE_BACKEND, "?"),
            str(device, KG_KEY_DEVICE_TYPE, ""), str(device, KG_KEY_DEVICE_DRIVER_VERSION, "?"),
            str(settings, KG_KEY_SETTINGS_SIZE_CLASS, "?"), hot ? "hot" : "cold",
            (unsigned long long)kg_results_settings_seed(settings, 1));
    provenance(out, head, settings);
    if (profile)
        fprintf(out,
                "Peaks from hardware/profiles/%s (%s): %.0f GB/s DRAM; percentages in the rate "
                "columns are of these datasheet figures.\n\n",
                str(profile, KG_KEY_PROFILE_FILE, "?"), str(profile, KG_KEY_PROFILE_NAME, "?"),
                num(profile, KG_KEY_PROFILE_DRAM_GBS));

    cJSON *computed = NULL;
    const cJSON *summary = find_type(records, KG_RECORD_SUMMARY);
    if (!summary)
        summary = computed = kg_summary_compute(records, KG_DEFAULT_RESAMPLES,
                                                kg_results_settings_seed(settings, 1));
    headline(out, records, summary, candidate);
    const cJSON *by_baseline =
        cJSON_GetObjectItemCaseSensitive(summary, KG_KEY_SUMMARY_BY_BASELINE);
    int several_baselines = cJSON_GetArraySize(by_baseline) > 1;
    const cJSON *g;
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(summary, KG_KEY_SUMMARY_WORKLOADS))
    {
        const char *name = str(g, KG_KEY_GROUP_WORKLOAD, "?");
        const char *against = str(g, KG_KEY_GROUP_BASELINE, baseline);
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
        library_comparison(out, records, name, against, g);
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
            format_geomean(r, sizeof r, g);
            fprintf(out, "| `%s` | %s | %.0f of %.0f |\n", str(g, KG_KEY_GROUP_BASELINE, "?"), r,
                    num(g, KG_KEY_GROUP_COMPARED) + num(g, KG_KEY_GROUP_CANDIDATE_FAILED),
                    num(g, KG_KEY_GROUP_SHAPES));
        }
        fputc('\n', out);
    } else {
        fprintf(out, "## Overall\n\n");
        geomean_line(out, cJSON_GetObjectItemCaseSensitive(summary, KG_KEY_SUMMARY_OVERALL));
    }
    fprintf(out,
            "Speedup = %s median / %s median (device timer, %s cache); intervals are 95%% "
            "bootstrap intervals (%.0f resamples). A geomean's measurement interval keeps its "
            "shapes and resamples their samples (the question a claim about these shapes "
            "asks; verdicts use it); \"over other shapes like these\" resamples the shapes "
            "too.\n",
            baseline, candidate, hot ? "hot" : "cold", num(summary, KG_KEY_SUMMARY_RESAMPLES));
    cJSON_Delete(computed);
}
