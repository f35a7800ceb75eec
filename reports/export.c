/* A results file as CSV, LaTeX or JSON (export.h). */
#include "export.h"
#include "json_file.h"
#include "record_keys.h"
#include "stats.h"
#include "summary.h"
#include "results.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int kg_export_format_parse(const char *name)
{
    static const char *const names[] = {"csv", "latex", "json"};
    for (int i = 0; i < 3; i++)
        if (name && strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

/* The figures of one set of one shape record. */
typedef struct set_row {
    const char *workload, *size_class, *shape, *role, *set, *status, *stop;
    char flags[256];
    size_t samples;
    double median, lo, hi; /* seconds; the median's 95% interval */
    double gbs, gflops, sol_pct;
    double speedup, speedup_lo, speedup_hi; /* the shape's, on both rows */
} set_row;

static void set_row_of(const cJSON *rec, const char *role, set_row *r)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(rec, role);
    const cJSON *sp = cJSON_GetObjectItemCaseSensitive(rec, KG_KEY_SHAPE_SPEEDUP);
    *r = (set_row){.workload = kg_json_str(rec, KG_KEY_SHAPE_WORKLOAD, ""),
                   .size_class = kg_json_str(rec, KG_KEY_SHAPE_SIZE_CLASS, ""),
                   .shape = kg_json_str(rec, KG_KEY_SHAPE_SHAPE, ""),
                   .role = role,
                   .set = kg_json_str(s, KG_KEY_SET_NAME, ""),
                   .status = kg_json_str(s, KG_KEY_SET_STATUS, ""),
                   .stop = kg_json_str(rec, KG_KEY_SHAPE_STOP_REASON, ""),
                   .median = NAN,
                   .lo = NAN,
                   .hi = NAN,
                   .gbs = NAN,
                   .gflops = NAN,
                   .sol_pct = NAN,
                   .speedup = kg_json_num(sp, KG_KEY_SPEEDUP_VALUE),
                   .speedup_lo = kg_json_num(sp, KG_KEY_SPEEDUP_LO),
                   .speedup_hi = kg_json_num(sp, KG_KEY_SPEEDUP_HI)};
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(s, KG_KEY_SET_FLAGS))
    {
        size_t len = strlen(r->flags);
        if (cJSON_IsString(f))
            snprintf(r->flags + len, sizeof r->flags - len, "%s%s", len ? " " : "", f->valuestring);
    }
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(s, KG_KEY_SET_SAMPLES_S);
    size_t n = cJSON_IsArray(arr) ? (size_t)cJSON_GetArraySize(arr) : 0;
    double *v = n ? malloc(n * sizeof *v) : NULL;
    const cJSON *x;
    cJSON_ArrayForEach(x, arr)
    {
        if (v && cJSON_IsNumber(x))
            v[r->samples++] = x->valuedouble;
    }
    if (r->samples) {
        r->median = kg_median(v, r->samples);
        kg_median_ci95(v, r->samples, &r->lo, &r->hi);
        r->gbs = kg_json_num(rec, KG_KEY_SHAPE_BYTES) / r->median * 1e-9;
        r->gflops = kg_json_num(rec, KG_KEY_SHAPE_FLOPS) / r->median * 1e-9;
        r->sol_pct = 100 * kg_json_num(rec, KG_KEY_SHAPE_SPEED_OF_LIGHT_S) / r->median;
    }
    free(v);
}

/* A CSV field: quoted when it holds a comma, a quote or a line break. */
static void csv_text(FILE *out, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void csv_num(FILE *out, double v)
{
    if (isfinite(v))
        fprintf(out, ",%.9g", v);
    else
        fputs(",", out);
}

static const char *const csv_columns =
    "kind,workload,size_class,shape,role,set,status,flags,samples,median_s,median_lo_s,"
    "median_hi_s,stop_reason,gb_per_s,gflop_per_s,pct_of_speed_of_light,speedup,speedup_lo,"
    "speedup_hi,shape_sampling_lo,shape_sampling_hi\n";

static void csv_group(FILE *out, const cJSON *g)
{
    fputs("summary,", out);
    csv_text(out, kg_json_str(g, KG_KEY_GROUP_WORKLOAD, "overall"));
    fputs(",,,baseline,", out);
    csv_text(out, kg_json_str(g, KG_KEY_GROUP_BASELINE, ""));
    fprintf(out, ",,,%.0f,,,,%s,,,", kg_json_num(g, KG_KEY_GROUP_COMPARED),
            kg_json_str(g, KG_KEY_GROUP_INTERVAL, "shape-sampling"));
    csv_num(out, kg_json_num(g, KG_KEY_GROUP_GEOMEAN));
    csv_num(out, kg_json_num(g, KG_KEY_GROUP_LO));
    csv_num(out, kg_json_num(g, KG_KEY_GROUP_HI));
    csv_num(out, kg_json_num(g, KG_KEY_GROUP_SHAPE_LO));
    csv_num(out, kg_json_num(g, KG_KEY_GROUP_SHAPE_HI));
    fputc('\n', out);
}

static void export_csv(FILE *out, const cJSON *records, const cJSON *summary)
{
    static const char *const roles[] = {KG_KEY_SHAPE_BASELINE, KG_KEY_SHAPE_CANDIDATE};
    fputs(csv_columns, out);
    const cJSON *rec;
    cJSON_ArrayForEach(rec, records)
    {
        for (int i = 0; kg_record_is(rec, KG_RECORD_SHAPE) && i < 2; i++) {
            set_row r;
            set_row_of(rec, roles[i], &r);
            const char *text[] = {r.workload, r.size_class, r.shape, r.role,
                                  r.set,      r.status,     r.flags};
            fputs("set", out);
            for (size_t k = 0; k < sizeof text / sizeof text[0]; k++) {
                fputc(',', out);
                csv_text(out, text[k]);
            }
            fprintf(out, ",%zu", r.samples);
            csv_num(out, r.median);
            csv_num(out, r.lo);
            csv_num(out, r.hi);
            fputc(',', out);
            csv_text(out, r.stop);
            double rest[] = {r.gbs, r.gflops, r.sol_pct, r.speedup, r.speedup_lo, r.speedup_hi};
            for (size_t k = 0; k < sizeof rest / sizeof rest[0]; k++)
                csv_num(out, rest[k]);
            fputs(",,\n", out);
        }
    }
    const cJSON *g;
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(summary, KG_KEY_SUMMARY_WORKLOADS))
        csv_group(out, g);
    csv_group(out, cJSON_GetObjectItemCaseSensitive(summary, KG_KEY_SUMMARY_OVERALL));
}

/* LaTeX's special characters escaped. */
static void tex(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '\\':
            fputs("\\textbackslash{}", out);
            break;
        case '~':
            fputs("\\textasciitilde{}", out);
            break;
        case '^':
            fputs("\\textasciicircum{}", out);
            break;
        case '_':
        case '%':
        case '&':
        case '#':
        case '$':
        case '{':
        case '}':
            fputc('\\', out);
            fputc(*s, out);
            break;
        default:
            fputc(*s, out);
        }
    }
}

static void tex_time(FILE *out, double s)
{
    if (!isfinite(s))
        fputs("--", out);
    else if (s < 1e-3)
        fprintf(out, "%.3g\\,\\textmu s", s * 1e6);
    else
        fprintf(out, "%.3g\\,ms", s * 1e3);
}

/* One table: the shapes of `workload` graded against `baseline`. */
static void latex_table(FILE *out, const cJSON *records, const char *workload, const char *baseline,
                        const cJSON *header, const cJSON *g)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(header, KG_KEY_RUN_DEVICE);
    const cJSON *settings = cJSON_GetObjectItemCaseSensitive(header, KG_KEY_RUN_SETTINGS);
    fputs("\\begin{table}[t]\n\\centering\n\\begin{tabular}{lrrr}\n\\toprule\nshape & ", out);
    tex(out, baseline);
    fputs(" & ", out);
    tex(out, kg_json_str(settings, KG_KEY_SETTINGS_CANDIDATE, "candidate"));
    fputs(" & speedup [95\\% CI] \\\\\n\\midrule\n", out);
    const cJSON *rec;
    cJSON_ArrayForEach(rec, records)
    {
        if (!kg_record_is(rec, KG_RECORD_SHAPE) ||
            strcmp(kg_json_str(rec, KG_KEY_SHAPE_WORKLOAD, ""), workload))
            continue;
        set_row b, c;
        set_row_of(rec, KG_KEY_SHAPE_BASELINE, &b);
        set_row_of(rec, KG_KEY_SHAPE_CANDIDATE, &c);
        if (strcmp(b.set, baseline) != 0)
            continue;
        tex(out, b.shape);
        fputs(" & ", out);
        tex_time(out, b.median);
        fputs(" & ", out);
        tex_time(out, c.median);
        if (isfinite(b.speedup))
            fprintf(out, " & %.3g$\\times$ [%.3g, %.3g] \\\\\n", b.speedup, b.speedup_lo,
                    b.speedup_hi);
        else
            fprintf(out, " & %s \\\\\n", strcmp(c.status, "ok") ? c.status : "--");
    }
    fputs("\\midrule\ngeomean & & & ", out);
    if (isfinite(kg_json_num(g, KG_KEY_GROUP_GEOMEAN)))
        fprintf(out, "%.3g$\\times$ [%.3g, %.3g] \\\\\n", kg_json_num(g, KG_KEY_GROUP_GEOMEAN),
                kg_json_num(g, KG_KEY_GROUP_LO), kg_json_num(g, KG_KEY_GROUP_HI));
    else
        fputs("-- \\\\\n", out);
    fputs("\\bottomrule\n\\end{tabular}\n\\caption{", out);
    tex(out, workload);
    fputs(": speedup of ", out);
    tex(out, kg_json_str(settings, KG_KEY_SETTINGS_CANDIDATE, "candidate"));
    fputs(" over ", out);
    tex(out, baseline);
    fputs(" on ", out);
    tex(out, kg_json_str(d, KG_KEY_DEVICE_NAME, "?"));
    fputs(" (", out);
    tex(out, kg_json_str(d, KG_KEY_DEVICE_BACKEND, "?"));
    fputs(", driver ", out);
    tex(out, kg_json_str(d, KG_KEY_DEVICE_DRIVER_VERSION, "?"));
    fprintf(out,
            "), size class %s; medians of the device timer; 95\\%% bootstrap intervals, "
            "the geomean's with the shapes fixed.}\n\\end{table}\n\n",
            kg_json_str(settings, KG_KEY_SETTINGS_SIZE_CLASS, "?"));
}

static void export_latex(FILE *out, const cJSON *records, const cJSON *summary)
{
    fputs("% kgrade export --format latex: needs \\usepackage{booktabs}\n", out);
    const cJSON *header = NULL, *rec, *g;
    cJSON_ArrayForEach(rec, records)
    {
        if (kg_record_is(rec, KG_RECORD_RUN))
            header = rec;
    }
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(summary, KG_KEY_SUMMARY_WORKLOADS))
        latex_table(
            out, records, kg_json_str(g, KG_KEY_GROUP_WORKLOAD, ""),
            kg_json_str(g, KG_KEY_GROUP_BASELINE,
                        kg_json_str(cJSON_GetObjectItemCaseSensitive(header, KG_KEY_RUN_SETTINGS),
                                    KG_KEY_SETTINGS_BASELINE, "")),
            header, g);
}

static void json_number(cJSON *o, const char *key, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

static void export_json(FILE *out, const cJSON *records, const cJSON *summary)
{
    static const char *const roles[] = {KG_KEY_SHAPE_BASELINE, KG_KEY_SHAPE_CANDIDATE};
    cJSON *doc = cJSON_CreateObject(), *rows = cJSON_CreateArray();
    cJSON_AddStringToObject(doc, "kgrade_export", "1");
    const cJSON *rec;
    cJSON_ArrayForEach(rec, records)
    {
        if (kg_record_is(rec, KG_RECORD_RUN))
            cJSON_AddItemToObject(doc, "run", cJSON_Duplicate(rec, 1));
        for (int i = 0; kg_record_is(rec, KG_RECORD_SHAPE) && i < 2; i++) {
            set_row r;
            set_row_of(rec, roles[i], &r);
            cJSON *o = cJSON_CreateObject();
            const char *keys[] = {"workload", "size_class", "shape", "role",
                                  "set",      "status",     "flags", "stop_reason"};
            const char *vals[] = {r.workload, r.size_class, r.shape, r.role,
                                  r.set,      r.status,     r.flags, r.stop};
            for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
                cJSON_AddStringToObject(o, keys[k], vals[k]);
            cJSON_AddNumberToObject(o, "samples", (double)r.samples);
            const char *nkeys[] = {"median_s", "median_lo_s", "median_hi_s",
                                   "gb_per_s", "gflop_per_s", "pct_of_speed_of_light",
                                   "speedup",  "speedup_lo",  "speedup_hi"};
            double nvals[] = {r.median,  r.lo,      r.hi,         r.gbs,       r.gflops,
                              r.sol_pct, r.speedup, r.speedup_lo, r.speedup_hi};
            for (size_t k = 0; k < sizeof nkeys / sizeof nkeys[0]; k++)
                json_number(o, nkeys[k], nvals[k]);
            cJSON_AddItemToArray(rows, o);
        }
    }
    cJSON_AddItemToObject(doc, "sets", rows);
    cJSON_AddItemToObject(doc, "summary", cJSON_Duplicate(summary, 1));
    char *text = cJSON_Print(doc);
    if (text)
        fprintf(out, "%s\n", text);
    free(text);
    cJSON_Delete(doc);
}

const cJSON *kg_export_summary(const cJSON *records, cJSON **computed)
{
    const cJSON *header = NULL, *summary = NULL, *rec;
    cJSON_ArrayForEach(rec, records)
    {
        if (kg_record_is(rec, KG_RECORD_RUN) && !header)
            header = rec;
        if (kg_record_is(rec, KG_RECORD_SUMMARY))
            summary = rec;
    }
    *computed = NULL;
    if (!summary)
        summary = *computed = kg_summary_compute(
            records, KG_DEFAULT_RESAMPLES,
            kg_results_settings_seed(cJSON_GetObjectItemCaseSensitive(header, KG_KEY_RUN_SETTINGS),
                                     1));
    return summary;
}

void kg_export(FILE *out, const cJSON *records, kg_export_format format)
{
    cJSON *computed;
    const cJSON *summary = kg_export_summary(records, &computed);
    if (format == KG_EXPORT_CSV)
        export_csv(out, records, summary);
    else if (format == KG_EXPORT_LATEX)
        export_latex(out, records, summary);
    else
        export_json(out, records, summary);
    cJSON_Delete(computed);
}
