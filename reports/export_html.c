/* A results file as one HTML page with inline SVG figures (export_html.h). */
#include "export_html.h"
#include "export.h"
#include "json_file.h"
#include "record_keys.h"
#include "stats.h"
#include "summary.h"
#include "results.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define W      760 /* every figure's width */
#define LEFT   190 /* room for the shape names */
#define RIGHT  24
#define TOP    16
#define ROW    20 /* one row of a plot */
#define BOTTOM 44 /* the axis and its label */

static const char *const colours[2] = {"#1f6fb4", "#d9541e"}; /* baseline, candidate */

static void text(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '&')
            fputs("&amp;", out);
        else if (*s == '<')
            fputs("&lt;", out);
        else if (*s == '>')
            fputs("&gt;", out);
        else if (*s == '"')
            fputs("&quot;", out);
        else
            fputc(*s, out);
    }
}

/* A horizontal axis, linear or logarithmic, over [lo, hi]. */
typedef struct axis {
    double lo, hi;
    int log;
} axis;

static double ax(const axis *a, double v)
{
    double t =
        a->log ? (log(v) - log(a->lo)) / (log(a->hi) - log(a->lo)) : (v - a->lo) / (a->hi - a->lo);
    if (!isfinite(t))
        t = 0;
    return LEFT + (t < 0 ? 0 : t > 1 ? 1 : t) * (W - LEFT - RIGHT);
}

/* Widens [lo, hi] to take v. */
static void take(axis *a, double v)
{
    if (!isfinite(v) || (a->log && v <= 0))
        return;
    a->lo = isfinite(a->lo) && a->lo < v ? a->lo : v;
    a->hi = isfinite(a->hi) && a->hi > v ? a->hi : v;
}

/* Pads the range and never leaves it empty. */
static void settle(axis *a)
{
    if (!isfinite(a->lo) || !isfinite(a->hi)) {
        a->lo = a->log ? 0.1 : 0;
        a->hi = a->log ? 10 : 1;
    }
    if (a->log) {
        a->lo /= 1.25;
        a->hi *= 1.25;
    } else {
        double pad = (a->hi - a->lo) * 0.05 + 1e-12;
        a->lo -= pad;
        a->hi += pad;
    }
}

/* Ticks at 1, 2, 5 x 10^k on a log axis, 5 even steps on a linear one. */
static void x_axis(FILE *out, const axis *a, double y, const char *label)
{
    fprintf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#444\"/>\n", LEFT, y,
            W - RIGHT, y);
    double ticks[64];
    int n = 0;
    if (a->log) {
        for (double d = pow(10, floor(log10(a->lo))); d <= a->hi && n < 60; d *= 10)
            for (int m = 0; m < 3; m++) {
                double t = d * (m == 0 ? 1 : m == 1 ? 2 : 5);
                if (t >= a->lo && t <= a->hi)
                    ticks[n++] = t;
            }
    } else {
        for (int i = 0; i <= 4; i++)
            ticks[n++] = a->lo + (a->hi - a->lo) * i / 4;
    }
    for (int i = 0; i < n; i++)
        fprintf(out,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">%.3g</text>\n",
                ax(a, ticks[i]), y, ax(a, ticks[i]), y + 4, ax(a, ticks[i]), y + 16, ticks[i]);
    fprintf(out, "<text x=\"%d\" y=\"%.1f\" font-size=\"12\" text-anchor=\"middle\">",
            (LEFT + W) / 2, y + 34);
    text(out, label);
    fprintf(out, "</text>\n");
}

static void figure_open(FILE *out, const char *caption, int height)
{
    fprintf(out, "<figure><figcaption>");
    text(out, caption);
    fprintf(out,
            "</figcaption>\n<svg class=\"kg-plot\" xmlns=\"http://www.w3.org/2000/svg\" "
            "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">\n",
            W, height, W, height);
}

static void figure_close(FILE *out)
{
    fprintf(out, "</svg></figure>\n");
}

static void row_label(FILE *out, double y, const char *label)
{
    fprintf(out, "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">", LEFT - 8,
            y + 4);
    text(out, label);
    fprintf(out, "</text>\n");
}

/* A vertical reference line across the plot. */
static void mark(FILE *out, const axis *a, double v, int rows, const char *style, const char *what)
{
    if (!(v > a->lo && v < a->hi))
        return;
    fprintf(out,
            "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#888\" %s/>"
            "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" fill=\"#555\">",
            ax(a, v), TOP - 6, ax(a, v), TOP + rows * ROW, style, ax(a, v) + 3, TOP + 2);
    text(out, what);
    fprintf(out, "</text>\n");
}

/* Is `rec` a shape of `workload` graded against `baseline`? */
static int in_group(const cJSON *rec, const char *workload, const char *baseline)
{
    return kg_record_is(rec, KG_RECORD_SHAPE) &&
           strcmp(kg_json_str(rec, KG_KEY_SHAPE_WORKLOAD, ""), workload) == 0 &&
           strcmp(kg_json_str(cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_BASELINE),
                              KG_KEY_SET_NAME, ""),
                  baseline) == 0;
}

static int count_group(const cJSON *records, const char *workload, const char *baseline)
{
    int n = 0;
    const cJSON *rec;
    cJSON_ArrayForEach(rec, records)
    {
        n += in_group(rec, workload, baseline);
    }
    return n;
}

/* Per-shape speedups with intervals (log), 1x, the claim, the geomean. */
static void forest(FILE *out, const cJSON *records, const cJSON *g, double claim)
{
    const char *w = kg_json_str(g, KG_KEY_GROUP_WORKLOAD, ""),
               *b = kg_json_str(g, KG_KEY_GROUP_BASELINE, "");
    int rows = count_group(records, w, b) + 1;
    axis a = {NAN, NAN, 1};
    const cJSON *rec;
    cJSON_ArrayForEach(rec, records)
    {
        const cJSON *sp = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_SPEEDUP);
        if (in_group(rec, w, b)) {
            take(&a, kg_json_num(sp, KG_KEY_SPEEDUP_LO));
            take(&a, kg_json_num(sp, KG_KEY_SPEEDUP_HI));
        }
    }
    take(&a, 1);
    take(&a, claim > 0 ? claim : NAN);
    settle(&a);
    char caption[256];
    snprintf(caption, sizeof caption, "%s: speedup over %s per shape, 95%% intervals (log scale)",
             w, b);
    figure_open(out, caption, TOP + rows * ROW + BOTTOM);
    mark(out, &a, 1, rows, "", "1x");
    mark(out, &a, claim, rows, "stroke-dasharray=\"5 3\"", "claimed");
    int r = 0;
    cJSON_ArrayForEach(rec, records)
    {
        if (!in_group(rec, w, b))
            continue;
        const cJSON *sp = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_SPEEDUP);
        double y = TOP + ROW * (r++ + 0.5);
        row_label(out, y, kg_json_str(rec, KG_KEY_SHAPE_SHAPE, "?"));
        if (!isfinite(kg_json_num(sp, KG_KEY_SPEEDUP_VALUE)))
            continue; /* failed: no speedup to draw */
        fprintf(out,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                "stroke-width=\"2\"/><circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>\n",
                ax(&a, kg_json_num(sp, KG_KEY_SPEEDUP_LO)), y,
                ax(&a, kg_json_num(sp, KG_KEY_SPEEDUP_HI)), y, colours[1],
                ax(&a, kg_json_num(sp, KG_KEY_SPEEDUP_VALUE)), y, colours[1]);
    }
    double y = TOP + ROW * (r + 0.5);
    row_label(out, y, "geomean");
    if (isfinite(kg_json_num(g, KG_KEY_GROUP_GEOMEAN)))
        fprintf(out,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\" "
                "stroke-width=\"2\"/><rect x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"8\"/>\n",
                ax(&a, kg_json_num(g, KG_KEY_GROUP_LO)), y, ax(&a, kg_json_num(g, KG_KEY_GROUP_HI)),
                y, ax(&a, kg_json_num(g, KG_KEY_GROUP_GEOMEAN)) - 4, y - 4);
    x_axis(out, &a, TOP + rows * ROW + 4, "speedup (baseline median / candidate median)");
    figure_close(out);
}

/* Every sample of both sets per shape (log time), the median a bar. */
static void distributions(FILE *out, const cJSON *records, const char *w, const char *b)
{
    static const char *const roles[] = {KG_KEY_SHAPE_BASELINE, KG_KEY_SHAPE_CANDIDATE};
    int rows = 2 * count_group(records, w, b);
    axis a = {NAN, NAN, 1};
    const cJSON *rec, *x;
    cJSON_ArrayForEach(rec, records)
    {
        for (int i = 0; i < 2 && in_group(rec, w, b); i++)
            cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(
                                      cJSON_GetObjectItemCaseSensitive(rec, roles[i]),
                                      KG_KEY_SET_SAMPLES_S)) take(&a, x->valuedouble * 1e6);
    }
    settle(&a);
    char caption[256];
    snprintf(caption, sizeof caption,
             "%s: every sample of each set (baseline blue, candidate "
             "orange), the median a bar",
             w);
    figure_open(out, caption, TOP + rows * ROW + BOTTOM);
    int r = 0;
    cJSON_ArrayForEach(rec, records)
    {
        for (int i = 0; i < 2 && in_group(rec, w, b); i++) {
            const cJSON *s = cJSON_GetObjectItemCaseSensitive(rec, roles[i]);
            double y = TOP + ROW * (r++ + 0.5);
            char label[200];
            snprintf(label, sizeof label, "%s %s", kg_json_str(rec, KG_KEY_SHAPE_SHAPE, "?"),
                     kg_json_str(s, KG_KEY_SET_NAME, "?"));
            row_label(out, y, label);
            cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(s, KG_KEY_SET_SAMPLES_S))
                fprintf(out,
                        "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\" fill=\"%s\" opacity=\"0.5\"/>",
                        ax(&a, x->valuedouble * 1e6), y, colours[i]);
            double m = kg_summary_median(cJSON_GetObjectItemCaseSensitive(s, KG_KEY_SET_SAMPLES_S));
            if (isfinite(m))
                fprintf(out,
                        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\" "
                        "stroke-width=\"2\"/>\n",
                        ax(&a, m * 1e6), y - 7, ax(&a, m * 1e6), y + 7);
        }
    }
    x_axis(out, &a, TOP + rows * ROW + 4, "time per run, microseconds (log scale)");
    figure_close(out);
}

/* Each sample over its set's median, in the order taken: one line per
 * shape and set, so drift and throttling show as slopes and steps. */
static void drift(FILE *out, const cJSON *records, const char *w, const char *b)
{
    static const char *const roles[] = {KG_KEY_SHAPE_BASELINE, KG_KEY_SHAPE_CANDIDATE};
    const int h = 180;
    axis a = {0, 1, 0}, y = {NAN, NAN, 0};
    const cJSON *rec, *x;
    cJSON_ArrayForEach(rec, records)
    {
        for (int i = 0; i < 2 && in_group(rec, w, b); i++) {
            const cJSON *s = cJSON_GetObjectItemCaseSensitive(rec, roles[i]);
            const cJSON *arr = cJSON_GetObjectItemCaseSensitive(s, KG_KEY_SET_SAMPLES_S);
            double m = kg_summary_median(arr);
            take(&a, (double)cJSON_GetArraySize(arr));
            cJSON_ArrayForEach(x, arr) take(&y, x->valuedouble / m);
        }
    }
    settle(&y);
    char caption[256];
    snprintf(caption, sizeof caption, "%s: each sample over its set's median, in the order taken",
             w);
    figure_open(out, caption, h + BOTTOM);
    row_label(out, TOP, "");
    fprintf(out,
            "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%.3g</text>"
            "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%.3g</text>\n",
            LEFT - 8, TOP + 4, y.hi, LEFT - 8, h, y.lo);
    cJSON_ArrayForEach(rec, records)
    {
        for (int i = 0; i < 2 && in_group(rec, w, b); i++) {
            const cJSON *arr = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(rec, roles[i]), KG_KEY_SET_SAMPLES_S);
            double m = kg_summary_median(arr);
            int k = 0;
            fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" opacity=\"0.6\" points=\"",
                    colours[i]);
            cJSON_ArrayForEach(x, arr)
                fprintf(out, "%.1f,%.1f ", ax(&a, k++),
                        h - (x->valuedouble / m - y.lo) / (y.hi - y.lo) * (h - TOP));
            fprintf(out, "\"/>\n");
        }
    }
    x_axis(out, &a, h + 4, "sample number (baseline blue, candidate orange)");
    figure_close(out);
}

/* The vertical position of v on a log axis over [lo, hi], plot height h. */
static double ay(const axis *a, double v, int h)
{
    double t = (log(v) - log(a->lo)) / (log(a->hi) - log(a->lo));
    t = isfinite(t) ? (t < 0 ? 0 : t > 1 ? 1 : t) : 0;
    return h - t * (h - TOP);
}

/* Achieved GFLOP/s of every set at its median against arithmetic
 * intensity, under the roofline of the run's peaks (log-log). */
static void roofline(FILE *out, const cJSON *records, const cJSON *header)
{
    static const char *const roles[] = {KG_KEY_SHAPE_BASELINE, KG_KEY_SHAPE_CANDIDATE};
    const cJSON *peaks = cJSON_GetObjectItemCaseSensitive(header, KG_KEY_RUN_PEAKS);
    const cJSON *tflops = cJSON_GetObjectItemCaseSensitive(peaks, KG_KEY_PEAKS_COMPUTE_TFLOPS);
    double bw = kg_json_num(peaks, KG_KEY_PEAKS_DRAM_GBS), peak = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, tflops) peak =
        cJSON_IsNumber(t) && t->valuedouble * 1e3 > peak ? t->valuedouble * 1e3 : peak;
    const int h = 260;
    axis x = {NAN, NAN, 1}, y = {NAN, NAN, 1};
    const cJSON *rec;
    cJSON_ArrayForEach(rec, records)
    {
        double f = kg_json_num(rec, KG_KEY_SHAPE_FLOPS), by = kg_json_num(rec, KG_KEY_SHAPE_BYTES);
        for (int i = 0; i < 2 && kg_record_is(rec, KG_RECORD_SHAPE) && by > 0; i++) {
            double m = kg_summary_median(cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(rec, roles[i]), KG_KEY_SET_SAMPLES_S));
            take(&x, f / by);
            take(&y, f / m * 1e-9);
        }
    }
    take(&y, peak > 0 ? peak : NAN);
    settle(&x);
    settle(&y);
    figure_open(out,
                "Achieved GFLOP/s at the median against FLOPs per byte, under the "
                "device's roofline (log-log; baseline blue, candidate orange)",
                h + BOTTOM);
    fprintf(out,
            "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%.3g GFLOP/s</text>"
            "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%.3g</text>\n",
            LEFT - 8, TOP + 4, y.hi, LEFT - 8, h, y.lo);
    if (bw > 0 && peak > 0) {
        fprintf(out, "<polyline fill=\"none\" stroke=\"#000\" stroke-dasharray=\"4 2\" points=\"");
        for (int k = 0; k <= 40; k++) {
            double xi = exp(log(x.lo) + (log(x.hi) - log(x.lo)) * k / 40.0);
            double yi = bw * xi < peak ? bw * xi : peak;
            fprintf(out, "%.1f,%.1f ", ax(&x, xi), ay(&y, yi, h));
        }
        fprintf(out, "\"/>\n");
    }
    cJSON_ArrayForEach(rec, records)
    {
        double f = kg_json_num(rec, KG_KEY_SHAPE_FLOPS), by = kg_json_num(rec, KG_KEY_SHAPE_BYTES);
        for (int i = 0; i < 2 && kg_record_is(rec, KG_RECORD_SHAPE) && by > 0; i++) {
            double m = kg_summary_median(cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(rec, roles[i]), KG_KEY_SET_SAMPLES_S));
            if (!(m > 0))
                continue;
            fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"><title>",
                    ax(&x, f / by), ay(&y, f / m * 1e-9, h), colours[i]);
            text(out, kg_json_str(rec, KG_KEY_SHAPE_WORKLOAD, ""));
            fputc(' ', out);
            text(out, kg_json_str(rec, KG_KEY_SHAPE_SHAPE, ""));
            fprintf(out, "</title></circle>\n");
        }
    }
    x_axis(out, &x, h + 4, "arithmetic intensity, FLOPs per byte (log scale)");
    figure_close(out);
}

/* Per shape and set, the first run's median over run B's, with its
 * interval (log): above 1, B is faster. */
static void compare_view(FILE *out, const kg_compare_run *A, const kg_compare_run *B)
{
    static const char *const roles[] = {KG_KEY_SHAPE_BASELINE, KG_KEY_SHAPE_CANDIDATE};
    int rows = 0;
    axis a = {NAN, NAN, 1};
    double ratio[256][3];
    const char *names[256][2];
    const cJSON *ra, *rb;
    cJSON_ArrayForEach(ra, A->records)
    {
        cJSON_ArrayForEach(rb, B->records)
        {
            for (int i = 0; i < 2 && rows < 256 && kg_record_is(ra, KG_RECORD_SHAPE) &&
                            kg_record_is(rb, KG_RECORD_SHAPE) &&
                            !strcmp(kg_json_str(ra, KG_KEY_SHAPE_WORKLOAD, ""),
                                    kg_json_str(rb, KG_KEY_SHAPE_WORKLOAD, "!")) &&
                            !strcmp(kg_json_str(ra, KG_KEY_SHAPE_SHAPE, ""),
                                    kg_json_str(rb, KG_KEY_SHAPE_SHAPE, "!"));
                 i++) {
                const cJSON *sa = cJSON_GetObjectItemCaseSensitive(ra, roles[i]);
                const cJSON *sb = cJSON_GetObjectItemCaseSensitive(rb, roles[i]);
                double ma =
                    kg_summary_median(cJSON_GetObjectItemCaseSensitive(sa, KG_KEY_SET_SAMPLES_S));
                double mb =
                    kg_summary_median(cJSON_GetObjectItemCaseSensitive(sb, KG_KEY_SET_SAMPLES_S));
                if (strcmp(kg_json_str(sa, KG_KEY_SET_NAME, ""),
                           kg_json_str(sb, KG_KEY_SET_NAME, "!")) ||
                    !(ma > 0 && mb > 0))
                    continue;
                ratio[rows][0] = ma / mb;
                names[rows][0] = kg_json_str(ra, KG_KEY_SHAPE_SHAPE, "?");
                names[rows][1] = kg_json_str(sa, KG_KEY_SET_NAME, "?");
                take(&a, ratio[rows][0]);
                rows++;
            }
        }
    }
    take(&a, 1);
    settle(&a);
    char caption[512];
    snprintf(caption, sizeof caption,
             "Compare: %s median over %s median per shape and set (log "
             "scale; above 1, the second is faster)",
             A->name, B->name);
    figure_open(out, caption, TOP + (rows ? rows : 1) * ROW + BOTTOM);
    mark(out, &a, 1, rows ? rows : 1, "", "same");
    for (int r = 0; r < rows; r++) {
        char label[200];
        snprintf(label, sizeof label, "%s %s", names[r][0], names[r][1]);
        row_label(out, TOP + ROW * (r + 0.5), label);
        fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>\n", ax(&a, ratio[r][0]),
                TOP + ROW * (r + 0.5), colours[0]);
    }
    x_axis(out, &a, TOP + (rows ? rows : 1) * ROW + 4, "A median / B median");
    figure_close(out);
}

static void header_table(FILE *out, const kg_compare_run *run, const cJSON *header)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(header, KG_KEY_RUN_DEVICE);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(header, KG_KEY_RUN_SETTINGS);
    const char *rows[][2] = {
        {"file", run->name},
        {"device", kg_json_str(d, KG_KEY_DEVICE_NAME, "?")},
        {"backend", kg_json_str(d, KG_KEY_DEVICE_BACKEND, "?")},
        {"driver", kg_json_str(d, KG_KEY_DEVICE_DRIVER_VERSION, "?")},
        {"size class", kg_json_str(s, KG_KEY_SETTINGS_SIZE_CLASS, "?")},
        {"baseline", kg_json_str(s, KG_KEY_SETTINGS_BASELINE, "?")},
        {"candidate", kg_json_str(s, KG_KEY_SETTINGS_CANDIDATE, "?")},
        {"seed", kg_json_str(s, KG_KEY_SETTINGS_SEED_EXACT, "?")},
        {"started", kg_json_str(header, KG_KEY_RUN_STARTED, "?")},
    };
    fprintf(out, "<table>\n");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        fprintf(out, "<tr><th>%s</th><td>", rows[i][0]);
        text(out, rows[i][1]);
        fprintf(out, "</td></tr>\n");
    }
    fprintf(out, "</table>\n");
}

void kg_export_html(FILE *out, const kg_compare_run *runs, size_t n, double claim)
{
    const cJSON *records = runs[0].records, *header = cJSON_GetArrayItem(records, 0);
    cJSON *computed;
    const cJSON *summary = kg_export_summary(records, &computed);
    fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                 "<title>kgrade results</title>\n<style>body{font-family:sans-serif;margin:2em;"
                 "max-width:820px}figure{margin:1.5em 0}figcaption{font-size:0.9em;margin-bottom:"
                 "0.3em}table{border-collapse:collapse}th,td{text-align:left;padding:2px 10px;"
                 "border-bottom:1px solid #ddd}</style>\n</head><body>\n<h1>kgrade results</h1>\n");
    header_table(out, &runs[0], header);
    const cJSON *g;
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(summary, KG_KEY_SUMMARY_WORKLOADS))
    {
        fprintf(out, "<h2>");
        text(out, kg_json_str(g, KG_KEY_GROUP_WORKLOAD, "?"));
        fprintf(out, " against ");
        text(out, kg_json_str(g, KG_KEY_GROUP_BASELINE, "?"));
        fprintf(out,
                "</h2>\n<p>Geomean speedup %.3gx [%.3g, %.3g] (measurement interval) over "
                "%.0f shapes.</p>\n",
                kg_json_num(g, KG_KEY_GROUP_GEOMEAN), kg_json_num(g, KG_KEY_GROUP_LO),
                kg_json_num(g, KG_KEY_GROUP_HI), kg_json_num(g, KG_KEY_GROUP_COMPARED));
        forest(out, records, g, claim);
        distributions(out, records, kg_json_str(g, KG_KEY_GROUP_WORKLOAD, ""),
                      kg_json_str(g, KG_KEY_GROUP_BASELINE, ""));
        drift(out, records, kg_json_str(g, KG_KEY_GROUP_WORKLOAD, ""),
              kg_json_str(g, KG_KEY_GROUP_BASELINE, ""));
    }
    fprintf(out, "<h2>Roofline</h2>\n");
    roofline(out, records, header);
    for (size_t j = 1; j < n; j++) {
        fprintf(out, "<h2>Compared with ");
        text(out, runs[j].name);
        fprintf(out, "</h2>\n");
        header_table(out, &runs[j], cJSON_GetArrayItem(runs[j].records, 0));
        compare_view(out, &runs[0], &runs[j]);
    }
    fprintf(out, "<p>Made by kgrade export --format html from the results file(s) above: every "
                 "figure is drawn from their samples.</p>\n</body></html>\n");
    cJSON_Delete(computed);
}
