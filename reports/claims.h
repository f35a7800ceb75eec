/*
 * Published speedup claims (the JSON files of reports/claims/, schema in
 * reports/claims/README.md), set beside the speed-of-light bound that a run
 * measured for the claim's baseline.
 */
#ifndef KG_REPORT_CLAIMS_H
#define KG_REPORT_CLAIMS_H

#include <cjson/cJSON.h>
#include <stdio.h>

/* The claims in `dir` about `workload`, as a new cJSON array (possibly
 * empty; unreadable files are skipped with a note on stderr). */
cJSON *kg_claims_for_workload(const char *dir, const char *workload);

/* For each claim about the workload of `shape_records`, a paragraph: the
 * claimed factor, and the largest geometric-mean speedup physically
 * possible on this device over the run's set named `reference` (geomean of
 * its median / speed of light). Nothing when the run has no such set or no
 * speed-of-light bounds. `measured_peaks` marks the bound as approximate. */
void kg_claims_report(FILE *out, const cJSON *claims, const cJSON *shape_records,
                      int measured_peaks);

#endif
