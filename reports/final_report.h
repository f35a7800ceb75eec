/*
 * `kgrade run --final`: the held-out grading set beside what the agent saw
 * (docs/agents.md). Per workload and baseline, the geomean speedup on the
 * dev shapes and on the final shapes, and a verdict: a final geomean below
 * the dev one's 95% interval is `overfit to dev shapes`.
 */
#ifndef KG_FINAL_REPORT_H
#define KG_FINAL_REPORT_H

#include <stdio.h>

#include <cjson/cJSON.h>

/* Writes the Markdown section; returns how many groups are overfit. Both
 * runs' records must end in their summary. */
int kg_report_final_vs_dev(FILE *out, const cJSON *final_records, const cJSON *dev_records);

#endif
