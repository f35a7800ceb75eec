/*
 * Derived numbers of a run, computed from the samples in its records (never
 * stored without them): per-shape speedups with bootstrap intervals and
 * per-workload and overall geometric means with hierarchical bootstrap
 * intervals. The same code serves `kgrade run` and reading a saved file.
 */
#ifndef KG_SUMMARY_H
#define KG_SUMMARY_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define KG_DEFAULT_RESAMPLES 10000

/* Adds "speedup": {"value", "lo", "hi", "resamples"} to a shape record when
 * both sets passed their checks and have samples; otherwise adds nothing.
 * Returns 1 when a speedup was added. */
int kg_summary_add_speedup(cJSON *shape_record, size_t resamples, uint64_t seed);

/* A new "type": "summary" record over every "shape" record in `records`:
 * per workload and overall, the number of shapes, how many the candidate
 * passed, the geometric mean speedup with its interval under each failure
 * policy ("policies": failures_as_1x — the default, also in "geomean",
 * "lo", "hi" — failures_excluded, failures_as_0) and fast_p for p in
 * {0, 1, 1.5, 2}. Shapes the baseline failed are never compared; a shape
 * whose candidate is "missing" (no kernel for a workload the user named)
 * counts as a failed candidate whatever the baseline did. The caller
 * owns the result. */
cJSON *kg_summary_compute(const cJSON *records, size_t resamples, uint64_t seed);

/* Median of a JSON array of numbers (NAN when empty). */
double kg_summary_median(const cJSON *numbers);

#endif
