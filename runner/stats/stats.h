/*
 * Statistics on timing samples: medians, distribution-free intervals for
 * the median (the adaptive stopping rule), bootstrap intervals for speedups
 * and geometric means. All functions are pure: they never keep state and
 * never modify their inputs; randomness comes from an explicit seed so that
 * every interval is reproducible.
 */
#ifndef KG_STATS_H
#define KG_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Median of n values (n >= 1); the mean of the two middle values for even
 * n. Does not modify `values`. Returns NAN for n == 0. */
double kg_median(const double *values, size_t n);

/* Distribution-free 95% confidence interval for the median from order
 * statistics (binomial ranks, normal approximation
 * j,k = n/2 -+ 1.96*sqrt(n)/2, clamped to the sample). Needs n >= 6 to be
 * meaningful; for smaller n returns the full range [min, max]. Returns 0 on
 * success, -1 if n == 0. */
int kg_median_ci95(const double *values, size_t n, double *lo, double *hi);

/* Relative half-width of the median's 95% interval: (hi - lo) / 2 / median.
 * The adaptive stopping rule stops when this is below the target (1%).
 * Returns INFINITY when n is too small or the median is 0. */
double kg_median_rel_halfwidth(const double *values, size_t n);

/* Speedup of a candidate over a baseline = median(baseline) / median(candidate),
 * with a percentile bootstrap 95% interval: each resample draws n_b values
 * from the baseline and n_c from the candidate independently, with
 * replacement, and takes the ratio of their medians. Deterministic for a
 * given seed. Returns 0, or -1 if either set is empty or resamples == 0. */
int kg_speedup_ci(const double *baseline, size_t n_b, const double *candidate, size_t n_c,
                  size_t resamples, uint64_t seed, double *speedup, double *lo, double *hi);

/* One shape's samples, for the geometric-mean interval. */
typedef struct kg_sample_pair {
    const double *baseline;
    size_t n_baseline;
    const double *candidate;
    size_t n_candidate;
} kg_sample_pair;

/* Geometric mean of the per-shape speedups with its **shape-sampling**
 * interval, a hierarchical bootstrap 95% interval: each resample draws
 * shapes with replacement, then samples within each drawn shape (both
 * sets, independently), and takes the geomean of the resampled median
 * ratios. It answers "what would the geomean be over other shapes like
 * these", so it is wide. With one shape this reduces to kg_speedup_ci.
 * Returns 0, or -1 on empty input. */
int kg_geomean_speedup_ci(const kg_sample_pair *shapes, size_t n_shapes, size_t resamples,
                          uint64_t seed, double *geomean, double *lo, double *hi);

/* The same geomean with its **measurement** interval: the shapes fixed,
 * only the samples within each resampled. It answers the question a claim
 * asks, "is the geomean over these shapes x?" (what verify, compare and
 * replicate use). Same returns. */
int kg_geomean_measurement_ci(const kg_sample_pair *shapes, size_t n_shapes, size_t resamples,
                              uint64_t seed, double *geomean, double *lo, double *hi);

/* Do two independent measurements of the same quantity agree? Each is an
 * estimate with its 95% interval (a speedup or a geomean, positive); they
 * agree when the 95% interval of their ratio, from the two intervals'
 * widths in log (normal approximation, the two errors independent),
 * contains 1, or when the ratio is within 1 +- `tolerance`. Returns 1
 * (agree) or 0, and the ratio b / a in *ratio. The rule of `kgrade
 * replicate`; its false-alarm rate is simulated in test_stats_coverage. */
int kg_estimates_agree(double a, double a_lo, double a_hi, double b, double b_lo, double b_hi,
                       double tolerance, double *ratio);

/* Geometric mean of n positive values; NAN if n == 0 or any value <= 0. */
double kg_geomean(const double *values, size_t n);

#endif
