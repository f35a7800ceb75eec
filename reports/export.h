/*
 * `kgrade export`: a results file as a table for other tools. Reads only
 * the records (the file stays the single source of truth).
 *
 *   csv    one row per shape x set (kind "set": median and its 95%
 *          interval, samples, stop reason, rates, % of speed of light,
 *          status, flags, the shape's speedup) and one per summary group
 *          (kind "summary": geomean with its measurement and shape-sampling
 *          intervals); RFC 4180 quoting
 *   latex  a booktabs table per workload and baseline: shape, both
 *          medians, speedup [interval]; the device and baseline in the
 *          caption
 *   json   one document: the run header, one object per shape and set with
 *          the figures above, and the summary
 */
#ifndef KG_EXPORT_H
#define KG_EXPORT_H

#include <cjson/cJSON.h>
#include <stdio.h>

typedef enum kg_export_format {
    KG_EXPORT_CSV,
    KG_EXPORT_LATEX,
    KG_EXPORT_JSON,
} kg_export_format;

/* "csv", "latex", "json" -> the format; -1 otherwise. */
int kg_export_format_parse(const char *name);

/* The run's summary: its own, or one computed from its shapes (with the
 * run's seed) into *computed, which the caller deletes (NULL when the run
 * has one). */
const cJSON *kg_export_summary(const cJSON *records, cJSON **computed);

/* Writes one run's records (its header first) in `format`. The summary is
 * the run's own, or computed from its shapes when the run has none. */
void kg_export(FILE *out, const cJSON *records, kg_export_format format);

#endif
