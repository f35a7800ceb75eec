/*
 * The Markdown summary of a run: per workload, a table of shapes with both
 * sets' median times, the speedup and its interval, achieved throughput and
 * the check results; then the geometric means. Absolute times are always
 * printed beside ratios.
 */
#ifndef KG_REPORT_MARKDOWN_H
#define KG_REPORT_MARKDOWN_H

#include <cjson/cJSON.h>
#include <stdio.h>

/* Writes the report for `records` (a run header, shape records and an
 * optional summary record, as in a results file) to `out`. When no summary
 * record is present one is computed. The published claims about each
 * workload are read from `claims_dir` (data_dirs.h finds it; NULL for
 * none). */
void kg_report_markdown(FILE *out, const cJSON *records, const char *claims_dir);

#endif
