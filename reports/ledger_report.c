/* The summary of a ledger (ledger_report.h). */
#include "ledger_report.h"
#include "json_file.h"
#include "record_keys.h"
#include "results.h"

#include <math.h>
#include <string.h>
#include <time.h>

/* A check's geomean speedup when it passed, else 0. */
static double passed_speedup(const cJSON *rec, const cJSON **result)
{
    *result = cJSON_GetObjectItemCaseSensitive(rec, "result");
    if (strcmp(kg_json_str(*result, "status", ""), "passed") != 0)
        return 0;
    double v = kg_json_num(cJSON_GetObjectItemCaseSensitive(*result, "geomean"), "speedup");
    return v > 0 ? v : 0;
}

/* Seconds since the epoch of an "at" time, 2026-11-29T13:45:01Z. */
static double seconds_of(const char *at)
{
    struct tm tm = {0};
    if (!at || !strptime(at, "%Y-%m-%dT%H:%M:%SZ", &tm))
        return NAN;
    return (double)timegm(&tm);
}

/* Why a check did not pass: its first failure's status, or its own. */
static const char *reason_of(const cJSON *result)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(result, "first_failure");
    if (cJSON_IsObject(f))
        return kg_json_str(f, "status", "?");
    return kg_json_str(result, "status", "?");
}

static void failures_by_reason(FILE *out, const cJSON *records)
{
    cJSON *counts = cJSON_CreateObject();
    const cJSON *rec;
    cJSON_ArrayForEach(rec, records)
    {
        const cJSON *result;
        if (passed_speedup(rec, &result) > 0)
            continue;
        const char *why = reason_of(result);
        cJSON *n = cJSON_GetObjectItemCaseSensitive(counts, why);
        if (n)
            cJSON_SetNumberValue(n, n->valuedouble + 1);
        else
            cJSON_AddNumberToObject(counts, why, 1);
    }
    fprintf(out, "Failures by reason:");
    const cJSON *n;
    int any = 0;
    cJSON_ArrayForEach(n, counts)
    {
        fprintf(out, "%s %s %.0f", any++ ? "," : "", n->string, n->valuedouble);
    }
    fprintf(out, "%s\n\n", any ? "." : " none.");
    cJSON_Delete(counts);
}

/* The records of finished checks ("check"), as references into `all`;
 * how many checks started ("start") in *started. */
static cJSON *finished_checks(const cJSON *all, size_t *started)
{
    cJSON *out = cJSON_CreateArray();
    *started = 0;
    const cJSON *rec;
    cJSON_ArrayForEach(rec, all)
    {
        const char *type = kg_json_str(rec, "type", "");
        *started += strcmp(type, "start") == 0;
        if (strcmp(type, "check") == 0)
            cJSON_AddItemReferenceToArray(out, (cJSON *)rec);
    }
    return out;
}

void kg_ledger_markdown(FILE *out, const cJSON *all, const char *ledger_path)
{
    size_t started;
    cJSON *records = finished_checks(all, &started);
    size_t n = (size_t)cJSON_GetArraySize(records), passed = 0;
    double build = 0, check = 0, timing = 0, wall = 0;
    double t0 = seconds_of(kg_json_str(cJSON_GetArrayItem(records, 0), "at", NULL));
    const cJSON *rec, *result;
    cJSON_ArrayForEach(rec, records)
    {
        passed += passed_speedup(rec, &result) > 0;
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(result, "time_s");
        double b = kg_json_num(t, "build"), c = kg_json_num(t, "check"),
               s = kg_json_num(t, "timing"), w = kg_json_num(result, "wall_s");
        build += b == b ? b : 0;
        check += c == c ? c : 0;
        timing += s == s ? s : 0;
        wall += w == w ? w : 0;
    }
    fprintf(out, "# kgrade ledger: %s\n\n", ledger_path);
    fprintf(out, "%zu checks, %zu passed, %zu did not.", n, passed, n - passed);
    if (started > n)
        fprintf(out,
                " **%zu started and never finished** (killed or abandoned: their start "
                "records hold what they graded).",
                started - n);
    fprintf(out, "\n\n");
    failures_by_reason(out, records);
    fprintf(out,
            "Time in checks: %.1f s of wall time; of it %.1f s building, %.1f s checking "
            "outputs, %.1f s timing (both sets; the rest is start-up, inputs and the CPU "
            "reference).\n\n",
            wall, build, check, timing);
    fprintf(out, "| check | at (since the first) | workload | status | geomean speedup | best so "
                 "far |\n|---:|---:|---|---|---:|---:|\n");
    double best = 0;
    cJSON_ArrayForEach(rec, records)
    {
        double v = passed_speedup(rec, &result);
        best = v > best ? v : best;
        double at = seconds_of(kg_json_str(rec, "at", NULL)) - t0;
        fprintf(out, "| %.0f | %.0f s | %s | %s | ", kg_json_num(rec, "check"), at == at ? at : 0,
                kg_json_str(result, "workload", "?"), v > 0 ? "passed" : reason_of(result));
        if (v > 0)
            fprintf(out, "%.3gx | ", v);
        else
            fprintf(out, "- | ");
        if (best > 0)
            fprintf(out, "%.3gx |\n", best);
        else
            fprintf(out, "- |\n");
    }
    cJSON_Delete(records);
}

void kg_ledger_svg(FILE *out, const cJSON *all)
{
    const double W = 640, H = 320, L = 60, R = 20, T = 20, B = 40;
    size_t started;
    cJSON *records = finished_checks(all, &started);
    size_t n = (size_t)cJSON_GetArraySize(records);
    double lo = 1, hi = 1;
    const cJSON *rec, *result;
    cJSON_ArrayForEach(rec, records)
    {
        double v = passed_speedup(rec, &result);
        if (v > 0) {
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
    }
    lo /= 1.5;
    hi *= 1.5;
#define X(i) (L + (W - L - R) * ((n > 1 ? (double)(i)-1 : 0.5) / (n > 1 ? (double)n - 1 : 1)))
#define Y(v) (T + (H - T - B) * (1 - (log(v) - log(lo)) / (log(hi) - log(lo))))
    fprintf(out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
            "font-family=\"sans-serif\" font-size=\"11\">\n"
            "<title>Best geomean speedup so far against check number</title>\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
            "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#999\" "
            "stroke-dasharray=\"4 3\"/><text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">1x</text>\n",
            W, H, L, Y(1.0), W - R, Y(1.0), L - 4, Y(1.0) + 4);
    fprintf(out,
            "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">checks in order (%zu)</text>\n",
            (L + W - R) / 2, H - 8, n);
    fprintf(out, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%.3gx</text>\n", L - 4, Y(hi) + 4,
            hi);
    fprintf(out, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%.3gx</text>\n", L - 4, Y(lo) + 4,
            lo);
    fprintf(out, "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"");
    double best = 0;
    size_t i = 0;
    cJSON_ArrayForEach(rec, records)
    {
        i++;
        double v = passed_speedup(rec, &result);
        if (v > best) {
            if (best > 0)
                fprintf(out, "%.1f,%.1f ", X(i), Y(best));
            best = v;
        }
        if (best > 0)
            fprintf(out, "%.1f,%.1f ", X(i), Y(best));
    }
    fprintf(out, "\"/>\n");
    i = 0;
    cJSON_ArrayForEach(rec, records)
    {
        i++;
        double v = passed_speedup(rec, &result);
        if (v > 0)
            fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#1f77b4\"/>\n", X(i),
                    Y(v));
        else
            fprintf(out,
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#d62728\">x"
                    "<title>check %zu: %s</title></text>\n",
                    X(i), H - B + 4, i, reason_of(result));
    }
#undef X
#undef Y
    fprintf(out, "</svg>\n");
    cJSON_Delete(records);
}

/* The replayed run of check k: its header, and through *summary its
 * summary (NULL when it has none); NULL when it was not replayed. */
static const cJSON *replayed_run(const cJSON *replayed, double k, const cJSON **summary,
                                 int *failed)
{
    const cJSON *head = NULL, *rec;
    *summary = NULL;
    *failed = 0;
    cJSON_ArrayForEach(rec, replayed)
    {
        if (kg_record_is(rec, KG_RECORD_RUN)) {
            if (head)
                break; /* the next run */
            const cJSON *s = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_RUN_SETTINGS);
            if ((double)kg_results_settings_seed(s, 0) == k)
                head = rec;
        } else if (head && kg_record_is(rec, KG_RECORD_SUMMARY)) {
            *summary = rec;
        } else if (head && kg_record_is(rec, KG_RECORD_SHAPE)) {
            *failed +=
                kg_set_status_of(cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_CANDIDATE)) !=
                KG_SET_STATUS_OK;
        }
    }
    return head;
}

/* The replayed geomean of check k (0 when it did not pass). */
static double replayed_geomean(const cJSON *replayed, double k, double *lo, double *hi,
                               const char **device)
{
    const cJSON *summary;
    int failed;
    const cJSON *head = replayed_run(replayed, k, &summary, &failed);
    *device = kg_json_str(cJSON_GetObjectItemCaseSensitive(head, KG_KEY_RUN_DEVICE),
                          KG_KEY_DEVICE_NAME, NULL);
    const cJSON *g =
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(summary, KG_KEY_SUMMARY_WORKLOADS), 0);
    if (!head || !g || failed)
        return 0;
    *lo = kg_json_num(g, KG_KEY_GROUP_LO);
    *hi = kg_json_num(g, KG_KEY_GROUP_HI);
    return kg_json_num(g, KG_KEY_GROUP_GEOMEAN);
}

void kg_replay_markdown(FILE *out, const cJSON *checks, const cJSON *replayed, const char *ledger,
                        const char *head)
{
    fprintf(out, "# kgrade replay: %s\n\nLedger verified, head %s.\n\n", ledger, head);
    const char *recorded_on = NULL, *replayed_on = NULL;
    const cJSON *rec;
    cJSON_ArrayForEach(rec, checks)
    {
        const cJSON *result = cJSON_GetObjectItemCaseSensitive(rec, "result");
        double lo, hi;
        const char *dev = NULL;
        replayed_geomean(replayed, kg_json_num(rec, "check"), &lo, &hi, &dev);
        recorded_on = recorded_on ? recorded_on : kg_json_str(result, "device", NULL);
        replayed_on = replayed_on ? replayed_on : dev;
    }
    fprintf(out, "Recorded on %s; replayed on %s, under the full rules.",
            recorded_on ? recorded_on : "?", replayed_on ? replayed_on : "?");
    if (recorded_on && replayed_on && strcmp(recorded_on, replayed_on) != 0)
        fprintf(out, " **Another device**: whether the speedups the agent saw hold here is the "
                     "cross-hardware question; the recorded column is the other device's.");
    fprintf(out, "\n\n| check | recorded | recorded geomean [95%% CI] | replayed | replayed "
                 "geomean [95%% CI] |\n|---:|---|---:|---|---:|\n");
    cJSON_ArrayForEach(rec, checks)
    {
        const cJSON *result = cJSON_GetObjectItemCaseSensitive(rec, "result");
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(result, "geomean");
        double lo = 0, hi = 0;
        const char *dev;
        double k = kg_json_num(rec, "check");
        double v = replayed_geomean(replayed, k, &lo, &hi, &dev);
        fprintf(out, "| %.0f | %s | ", k, kg_json_str(result, "status", "?"));
        if (strcmp(kg_json_str(result, "status", ""), "passed") == 0)
            fprintf(out, "%.3gx [%.3g, %.3g] | ", kg_json_num(g, "speedup"), kg_json_num(g, "lo"),
                    kg_json_num(g, "hi"));
        else
            fprintf(out, "- | ");
        if (v > 0)
            fprintf(out, "passed | %.3gx [%.3g, %.3g] |\n", v, lo, hi);
        else
            fprintf(out, "%s | - |\n", dev ? "failed" : "not graded");
    }
}

void kg_replay_svg(FILE *out, const cJSON *checks, const cJSON *replayed)
{
    /* The ledger figure's frame, with the replayed geomeans as a second
     * series: built as check records whose answers are the replayed ones. */
    cJSON *as_ledger = cJSON_CreateArray();
    const cJSON *rec;
    cJSON_ArrayForEach(rec, checks)
    {
        double lo, hi;
        const char *dev;
        double v = replayed_geomean(replayed, kg_json_num(rec, "check"), &lo, &hi, &dev);
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "type", "check");
        cJSON_AddNumberToObject(r, "check", kg_json_num(rec, "check"));
        cJSON *result = cJSON_AddObjectToObject(r, "result");
        cJSON_AddStringToObject(result, "status", v > 0 ? "passed" : "failed");
        cJSON_AddNumberToObject(cJSON_AddObjectToObject(result, "geomean"), "speedup", v);
        cJSON_AddItemToArray(as_ledger, r);
    }
    kg_ledger_svg(out, as_ledger);
    cJSON_Delete(as_ledger);
}
