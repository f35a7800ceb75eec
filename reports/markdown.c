/* Markdown report writer. */
#include "markdown.h"
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
 * GFLOP/s from its FLOP formula, at the median time. */
static void format_rates(char *buf, size_t size, const cJSON *rec, double median)
{
    double flops = num(rec, "flops"), bytes = num(rec, "bytes");
    if (!isfinite(median) || median <= 0) {
        snprintf(buf, size, "—");
        return;
    }
    snprintf(buf, size, "%.3g GB/s, %.3g GFLOP/s", bytes / median * 1e-9, flops / median * 1e-9);
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

static void shape_row(FILE *out, const cJSON *rec)
{
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(rec, "baseline");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(rec, "candidate");
    double mb = kg_summary_median(cJSON_GetObjectItemCaseSensitive(b, "samples_s"));
    double mc = kg_summary_median(cJSON_GetObjectItemCaseSensitive(c, "samples_s"));
    char tb[32], tc[32], sp[64], rb[64], rc[64], cb[48], cc[48];
    format_time(tb, sizeof tb, mb);
    format_time(tc, sizeof tc, mc);
    const cJSON *speedup = cJSON_GetObjectItemCaseSensitive(rec, "speedup");
    format_ratio(sp, sizeof sp, speedup, "value");
    format_rates(rb, sizeof rb, rec, mb);
    format_rates(rc, sizeof rc, rec, mc);
    format_check(cb, sizeof cb, b);
    format_check(cc, sizeof cc, c);
    const cJSON *nb = cJSON_GetObjectItemCaseSensitive(b, "samples_s");
    const cJSON *nc = cJSON_GetObjectItemCaseSensitive(c, "samples_s");
    fprintf(out, "| %s | %s | %s | %s | %s | %s | %s / %s | %d / %d, %s |\n",
            str(rec, "shape", "?"), tb, tc, sp, rb, rc, cb, cc, cJSON_GetArraySize(nb),
            cJSON_GetArraySize(nc), str(rec, "stop_reason", "—"));
}

/* The first failing set's message, so a failure is explained in place. */
static void failure_notes(FILE *out, const cJSON *rec)
{
    static const char *const roles[] = {"baseline", "candidate"};
    for (int i = 0; i < 2; i++) {
        const cJSON *set = cJSON_GetObjectItemCaseSensitive(rec, roles[i]);
        if (!set || strcmp(str(set, "status", "ok"), "ok") == 0)
            continue;
        fprintf(out, "- %s `%s` on %s: %s: %s\n", roles[i], str(set, "set", "?"),
                str(rec, "shape", "?"), str(set, "status", "?"), str(set, "error", ""));
    }
}

static void geomean_line(FILE *out, const cJSON *g)
{
    char r[64];
    format_ratio(r, sizeof r, g, "geomean");
    fprintf(out, "geomean speedup %s over %.0f of %.0f shapes (candidate passed %.0f)\n\n", r,
            num(g, "compared"), num(g, "shapes"), num(g, "candidate_passed"));
}

void kg_report_markdown(FILE *out, const cJSON *records)
{
    const cJSON *head = find_type(records, "run");
    const cJSON *device = cJSON_GetObjectItemCaseSensitive(head, "device");
    const cJSON *settings = cJSON_GetObjectItemCaseSensitive(head, "settings");
    const char *baseline = str(settings, "baseline", "baseline");
    const char *candidate = str(settings, "candidate", "candidate");
    fprintf(out, "# kgrade: `%s` against `%s`\n\n", candidate, baseline);
    fprintf(out, "Device: %s (%s %s, driver %s). Size class %s, %s cache, seed %.0f.\n\n",
            str(device, "name", "?"), str(device, "backend", "?"), str(device, "type", ""),
            str(device, "driver_version", "?"), str(settings, "size_class", "?"),
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(settings, "hot")) ? "hot" : "cold",
            num(settings, "seed"));

    cJSON *computed = NULL;
    const cJSON *summary = find_type(records, "summary");
    if (!summary)
        summary = computed =
            kg_summary_compute(records, KG_DEFAULT_RESAMPLES, (uint64_t)num(settings, "seed"));
    const cJSON *g;
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(summary, "workloads"))
    {
        const char *name = str(g, "workload", "?");
        fprintf(out, "## %s\n\n", name);
        fprintf(out,
                "| shape | %s median | %s median | speedup [95%% CI] | %s rate | %s rate | "
                "check | samples, stop |\n",
                baseline, candidate, baseline, candidate);
        fprintf(out, "|---|---:|---:|---:|---:|---:|---|---|\n");
        const cJSON *rec;
        cJSON_ArrayForEach(rec, records)
        {
            if (strcmp(str(rec, "type", ""), "shape") == 0 &&
                strcmp(str(rec, "workload", ""), name) == 0)
                shape_row(out, rec);
        }
        fputc('\n', out);
        cJSON_ArrayForEach(rec, records)
        {
            if (strcmp(str(rec, "type", ""), "shape") == 0 &&
                strcmp(str(rec, "workload", ""), name) == 0)
                failure_notes(out, rec);
        }
        geomean_line(out, g);
    }
    fprintf(out, "## Overall\n\n");
    geomean_line(out, cJSON_GetObjectItemCaseSensitive(summary, "overall"));
    fprintf(out,
            "Speedup = %s median / %s median (device timer, %s cache); intervals are 95%% "
            "bootstrap intervals (%.0f resamples).\n",
            baseline, candidate,
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(settings, "hot")) ? "hot" : "cold",
            num(summary, "resamples"));
    cJSON_Delete(computed);
}
