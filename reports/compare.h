/*
 * `kgrade compare`: runs (results files) side by side. Reads only the
 * records, so it works the same on files made on other machines.
 *
 * Shapes are paired by workload, shape name, baseline set and the shape's
 * symbols; a set is compared across runs only where its name and the hash
 * of its source as compiled agree. Anything else is listed as not
 * comparable, never silently paired.
 */
#ifndef KG_COMPARE_H
#define KG_COMPARE_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct kg_compare_options {
    double tolerance; /* a ratio within 1 +- this is "same" (0.02) */
    size_t resamples; /* bootstrap resamples (10000) */
    uint64_t seed;    /* bootstrap seed */
} kg_compare_options;

/* One run: its records (the header first) and a name to show (the file). */
typedef struct kg_compare_run {
    const char *name;
    const cJSON *records;
} kg_compare_run;

/* Reads the last run of each of the n `paths` (what it cannot use said
 * on stderr after `who`) into records[i] and runs[i], named by the path.
 * KG_OK, or the first error, said after `who` too; the caller deletes
 * records[0..n) either way (unread ones are NULL). */
int kg_compare_read_runs(const char *const *paths, size_t n, const char *who, cJSON **records,
                         kg_compare_run *runs);

/* Prints the comparison of runs[1..n) against runs[0] as Markdown. */
void kg_compare_markdown(FILE *out, const kg_compare_run *runs, size_t n,
                         const kg_compare_options *opts);

/* "same", "faster", "slower" or "unclear": how run B's time compares with
 * run A's, from the interval [lo, hi] of the ratio A median / B median
 * (above 1: B is faster), with `tolerance` the band taken as no change.
 * As nvbench's compare does, a change must be outside the noise and
 * outside the band to count. */
const char *kg_compare_verdict(double lo, double hi, double tolerance);

#endif
