/*
 * `kgrade export --format html`: one self-contained HTML file (no network,
 * no script) with inline SVG figures drawn from results files:
 *
 *   - per workload and baseline, a forest plot of the per-shape speedups
 *     with their 95% intervals on a log scale, 1x and (with a claim) the
 *     claimed factor as lines, and the geomean;
 *   - each set's samples per shape (every sample a dot, the median a bar);
 *   - the achieved rate of each set against the device's roofline (the
 *     speed-of-light bound: compute peak and DRAM bandwidth);
 *   - the samples in the order they were taken (drift and throttling show);
 *   - with several files, the compare view: per shape and set, the ratio of
 *     the first run's median to each other run's (`kgrade compare` gives
 *     the intervals and verdicts).
 */
#ifndef KG_EXPORT_HTML_H
#define KG_EXPORT_HTML_H

#include "compare.h"

#include <stdio.h>

/* Writes the page for runs[0] (and the compare view against runs[1..n)).
 * `claim` > 0 draws that factor on the speedup plots. */
void kg_export_html(FILE *out, const kg_compare_run *runs, size_t n, double claim);

#endif
