/*
 * Medians, order-statistic intervals and bootstrap intervals on timing
 * samples. The bootstraps are the hot path (resamples x shapes x samples):
 * they sort each sample set once, reuse scratch buffers, and find each
 * resample's median by counting drawn indices rather than by sorting or
 * selecting among drawn values; their quantiles come from selection.
 */
#include "stats.h"
#include "rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Percentile bootstrap: the 2.5% and 97.5% quantiles of the resampled
 * statistic bound the 95% interval. */
#define KG_CI_LOWER_QUANTILE 0.025
#define KG_CI_UPPER_QUANTILE 0.975
/* Below this many samples the order-statistic interval is the whole range. */
#define KG_CI_MIN_SAMPLES 6

static void kg_swap(double *a, double *b)
{
    double t = *a;
    *a = *b;
    *b = t;
}

/* Hoare's selection (Wirth's variant with a median-of-three pivot):
 * reorders values[0..n) so that values[k] is the k-th smallest (0-based),
 * nothing before it is greater and nothing after it is smaller. Expected
 * O(n), against O(n log n) for a sort. The inner scans stop at elements
 * that are merely "not less" / "not greater" than the pivot, so they stay
 * in bounds whatever the data, NaN included. */
static double kg_select(double *values, size_t n, size_t k)
{
    ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, target = (ptrdiff_t)k;
    while (lo < hi) {
        ptrdiff_t mid = lo + (hi - lo) / 2;
        if (values[mid] < values[lo])
            kg_swap(&values[mid], &values[lo]);
        if (values[hi] < values[lo])
            kg_swap(&values[hi], &values[lo]);
        if (values[hi] < values[mid])
            kg_swap(&values[hi], &values[mid]);
        double pivot = values[mid];
        ptrdiff_t i = lo, j = hi;
        while (i <= j) {
            while (values[i] < pivot)
                i++;
            while (values[j] > pivot)
                j--;
            if (i <= j) {
                kg_swap(&values[i], &values[j]);
                i++;
                j--;
            }
        }
        if (target <= j)
            hi = j;
        else if (target >= i)
            lo = i;
        else
            break; /* between j and i every element equals the pivot */
    }
    return values[target];
}

/* Median of a scratch buffer that may be reordered. For even n the upper
 * middle is selected first; the lower middle is then the largest element
 * left before it. */
static double kg_median_in_place(double *values, size_t n)
{
    size_t upper = n / 2;
    double upper_value = kg_select(values, n, upper);
    if (n % 2 == 1)
        return upper_value;
    double lower_value = values[0];
    for (size_t i = 1; i < upper; i++)
        if (values[i] > lower_value)
            lower_value = values[i];
    return 0.5 * (lower_value + upper_value);
}

/* Quantile p of a scratch buffer that may be reordered, interpolating
 * linearly between order statistics (Hyndman-Fan type 7, the default of R
 * and NumPy). */
static double kg_quantile_in_place(double *values, size_t n, double p)
{
    double h = p * (double)(n - 1);
    size_t below = (size_t)floor(h);
    if (below >= n - 1)
        return kg_select(values, n, n - 1);
    double fraction = h - (double)below;
    double low_value = kg_select(values, n, below);
    if (fraction == 0.0)
        return low_value;
    double next_value = values[below + 1];
    for (size_t i = below + 2; i < n; i++)
        if (values[i] < next_value)
            next_value = values[i];
    return low_value + fraction * (next_value - low_value);
}

/* Ascending order with NaNs last: a total order, which qsort requires. */
static int kg_compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    int x_is_nan = isnan(x) != 0, y_is_nan = isnan(y) != 0;
    if (x_is_nan || y_is_nan)
        return x_is_nan - y_is_nan;
    return (x > y) - (x < y);
}

/* Median of n draws, with replacement, from sorted[0..n). Because `sorted`
 * is in order, the median of the drawn values is the value at the median of
 * the drawn indices, and indices are counted rather than compared: O(n)
 * without the mispredicted branches of a selection, about five times
 * faster than selecting among the drawn values. `counts` is scratch for n entries. */
static double kg_resampled_median(kg_rng *rng, const double *sorted, size_t n, size_t *counts)
{
    memset(counts, 0, n * sizeof *counts);
    for (size_t i = 0; i < n; i++)
        counts[kg_rng_below(rng, n)]++;
    /* 0-based ranks of the middle draw(s): n/2 - 1 and n/2 for even n. */
    size_t upper_rank = n / 2;
    size_t lower_rank = n % 2 ? upper_rank : upper_rank - 1;
    size_t index = 0, seen = counts[0];
    while (seen <= lower_rank)
        seen += counts[++index];
    double lower_value = sorted[index];
    if (n % 2)
        return lower_value;
    while (seen <= upper_rank)
        seen += counts[++index];
    return 0.5 * (lower_value + sorted[index]);
}

/* A sorted copy of values[0..n), or NULL when out of memory. */
static double *kg_sorted_copy(const double *values, size_t n)
{
    double *sorted = malloc(n * sizeof *sorted);
    if (sorted == NULL)
        return NULL;
    memcpy(sorted, values, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, kg_compare_doubles);
    return sorted;
}

/* The median of an already sorted array. */
static double kg_sorted_median(const double *sorted, size_t n)
{
    return n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
}

double kg_median(const double *values, size_t n)
{
    if (n == 0 || values == NULL)
        return NAN;
    double *copy = malloc(n * sizeof *copy);
    if (copy == NULL)
        return NAN;
    memcpy(copy, values, n * sizeof *copy);
    double median = kg_median_in_place(copy, n);
    free(copy);
    return median;
}

int kg_median_ci95(const double *values, size_t n, double *lo, double *hi)
{
    *lo = NAN;
    *hi = NAN;
    if (n == 0 || values == NULL)
        return -1;
    double *sorted = malloc(n * sizeof *sorted);
    if (sorted == NULL)
        return -1;
    memcpy(sorted, values, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, kg_compare_doubles);
    /* 1-based ranks j, k = n/2 -+ 1.96 sqrt(n) / 2: the binomial(n, 1/2)
     * normal approximation for how many samples fall below the median. */
    size_t lower_rank = 1, upper_rank = n;
    if (n >= KG_CI_MIN_SAMPLES) {
        double half = 0.98 * sqrt((double)n);
        double j = floor((double)n / 2.0 - half);
        double k = ceil((double)n / 2.0 + half);
        lower_rank = j < 1.0 ? 1 : (size_t)j;
        upper_rank = k > (double)n ? n : (size_t)k;
    }
    *lo = sorted[lower_rank - 1];
    *hi = sorted[upper_rank - 1];
    free(sorted);
    return 0;
}

double kg_median_rel_halfwidth(const double *values, size_t n)
{
    if (n < KG_CI_MIN_SAMPLES)
        return INFINITY;
    double lo, hi;
    if (kg_median_ci95(values, n, &lo, &hi) != 0)
        return INFINITY;
    double median = kg_median(values, n);
    if (median == 0.0 || !isfinite(median))
        return INFINITY;
    return (hi - lo) / 2.0 / fabs(median);
}

int kg_speedup_ci(const double *baseline, size_t n_b, const double *candidate, size_t n_c,
                  size_t resamples, uint64_t seed, double *speedup, double *lo, double *hi)
{
    *speedup = NAN;
    *lo = NAN;
    *hi = NAN;
    if (baseline == NULL || candidate == NULL || n_b == 0 || n_c == 0 || resamples == 0)
        return -1;
    double *sorted_baseline = kg_sorted_copy(baseline, n_b);
    double *sorted_candidate = kg_sorted_copy(candidate, n_c);
    size_t *counts = malloc((n_b > n_c ? n_b : n_c) * sizeof *counts);
    double *ratios = malloc(resamples * sizeof *ratios);
    int rc = -1;
    if (sorted_baseline == NULL || sorted_candidate == NULL || counts == NULL || ratios == NULL)
        goto done;

    *speedup = kg_sorted_median(sorted_baseline, n_b) / kg_sorted_median(sorted_candidate, n_c);
    kg_rng rng;
    kg_rng_seed(&rng, seed);
    for (size_t r = 0; r < resamples; r++) {
        double resampled_baseline = kg_resampled_median(&rng, sorted_baseline, n_b, counts);
        double resampled_candidate = kg_resampled_median(&rng, sorted_candidate, n_c, counts);
        ratios[r] = resampled_baseline / resampled_candidate;
    }
    *lo = kg_quantile_in_place(ratios, resamples, KG_CI_LOWER_QUANTILE);
    *hi = kg_quantile_in_place(ratios, resamples, KG_CI_UPPER_QUANTILE);
    rc = 0;
done:
    free(sorted_baseline);
    free(sorted_candidate);
    free(counts);
    free(ratios);
    return rc;
}

/* Sorted copies of every shape's samples, in one allocation: pair s's
 * baseline starts at offsets[2s], its candidate at offsets[2s + 1]. */
static double *kg_sorted_shapes(const kg_sample_pair *shapes, size_t n_shapes, size_t *offsets)
{
    size_t total = 0;
    for (size_t s = 0; s < n_shapes; s++) {
        offsets[2 * s] = total;
        total += shapes[s].n_baseline;
        offsets[2 * s + 1] = total;
        total += shapes[s].n_candidate;
    }
    double *sorted = malloc(total * sizeof *sorted);
    if (sorted == NULL)
        return NULL;
    for (size_t s = 0; s < n_shapes; s++) {
        double *baseline = sorted + offsets[2 * s], *candidate = sorted + offsets[2 * s + 1];
        memcpy(baseline, shapes[s].baseline, shapes[s].n_baseline * sizeof *sorted);
        memcpy(candidate, shapes[s].candidate, shapes[s].n_candidate * sizeof *sorted);
        qsort(baseline, shapes[s].n_baseline, sizeof *sorted, kg_compare_doubles);
        qsort(candidate, shapes[s].n_candidate, sizeof *sorted, kg_compare_doubles);
    }
    return sorted;
}

static int geomean_ci(const kg_sample_pair *shapes, size_t n_shapes, size_t resamples,
                      uint64_t seed, int draw_shapes, double *geomean, double *lo, double *hi);

int kg_geomean_speedup_ci(const kg_sample_pair *shapes, size_t n_shapes, size_t resamples,
                          uint64_t seed, double *geomean, double *lo, double *hi)
{
    return geomean_ci(shapes, n_shapes, resamples, seed, 1, geomean, lo, hi);
}

int kg_geomean_measurement_ci(const kg_sample_pair *shapes, size_t n_shapes, size_t resamples,
                              uint64_t seed, double *geomean, double *lo, double *hi)
{
    return geomean_ci(shapes, n_shapes, resamples, seed, 0, geomean, lo, hi);
}

static int geomean_ci(const kg_sample_pair *shapes, size_t n_shapes, size_t resamples,
                      uint64_t seed, int draw_shapes, double *geomean, double *lo, double *hi)
{
    *geomean = NAN;
    *lo = NAN;
    *hi = NAN;
    if (shapes == NULL || n_shapes == 0 || resamples == 0)
        return -1;
    size_t largest = 0;
    for (size_t s = 0; s < n_shapes; s++) {
        const kg_sample_pair *pair = &shapes[s];
        if (pair->baseline == NULL || pair->candidate == NULL || pair->n_baseline == 0 ||
            pair->n_candidate == 0)
            return -1;
        if (pair->n_baseline > largest)
            largest = pair->n_baseline;
        if (pair->n_candidate > largest)
            largest = pair->n_candidate;
    }
    /* One shape: the geomean is that shape's speedup, and delegating makes
     * the two intervals identical rather than equal up to exp(log(x)). */
    if (n_shapes == 1) {
        double speedup;
        int rc = kg_speedup_ci(shapes[0].baseline, shapes[0].n_baseline, shapes[0].candidate,
                               shapes[0].n_candidate, resamples, seed, &speedup, lo, hi);
        *geomean = speedup;
        return rc;
    }

    size_t *offsets = malloc(2 * n_shapes * sizeof *offsets);
    double *sorted = offsets != NULL ? kg_sorted_shapes(shapes, n_shapes, offsets) : NULL;
    size_t *counts = malloc(largest * sizeof *counts);
    double *geomeans = malloc(resamples * sizeof *geomeans);
    double *speedups = malloc(n_shapes * sizeof *speedups);
    int rc = -1;
    if (sorted == NULL || counts == NULL || geomeans == NULL || speedups == NULL)
        goto done;

    for (size_t s = 0; s < n_shapes; s++)
        speedups[s] = kg_sorted_median(sorted + offsets[2 * s], shapes[s].n_baseline) /
                      kg_sorted_median(sorted + offsets[2 * s + 1], shapes[s].n_candidate);
    *geomean = kg_geomean(speedups, n_shapes);

    /* Shape sampling: two levels of resampling, which shapes (the variation
     * across the suite), then which samples within each drawn shape (the
     * timing noise). Measurement: every shape once, its samples resampled
     * (the timing noise alone: the question "is the geomean over these
     * shapes x?"). */
    kg_rng rng;
    kg_rng_seed(&rng, seed);
    for (size_t r = 0; r < resamples; r++) {
        double log_sum = 0.0;
        for (size_t s = 0; s < n_shapes; s++) {
            size_t drawn = draw_shapes ? (size_t)kg_rng_below(&rng, n_shapes) : s;
            double resampled_baseline = kg_resampled_median(&rng, sorted + offsets[2 * drawn],
                                                            shapes[drawn].n_baseline, counts);
            double resampled_candidate = kg_resampled_median(&rng, sorted + offsets[2 * drawn + 1],
                                                             shapes[drawn].n_candidate, counts);
            log_sum += log(resampled_baseline / resampled_candidate);
        }
        geomeans[r] = exp(log_sum / (double)n_shapes);
    }
    *lo = kg_quantile_in_place(geomeans, resamples, KG_CI_LOWER_QUANTILE);
    *hi = kg_quantile_in_place(geomeans, resamples, KG_CI_UPPER_QUANTILE);
    rc = 0;
done:
    free(offsets);
    free(sorted);
    free(counts);
    free(geomeans);
    free(speedups);
    return rc;
}

double kg_geomean(const double *values, size_t n)
{
    if (n == 0 || values == NULL)
        return NAN;
    /* A sum of logarithms cannot overflow or underflow the way a running
     * product of many speedups can. */
    double log_sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!(values[i] > 0.0))
            return NAN;
        log_sum += log(values[i]);
    }
    return exp(log_sum / (double)n);
}

int kg_estimates_agree(double a, double a_lo, double a_hi, double b, double b_lo, double b_hi,
                       double tolerance, double *ratio)
{
    *ratio = b / a;
    if (!(a > 0 && b > 0 && a_lo > 0 && b_lo > 0 && a_hi >= a_lo && b_hi >= b_lo))
        return 0;
    /* Each interval's half-width in log, as a standard error. */
    double se_a = (log(a_hi) - log(a_lo)) / (2 * 1.959964);
    double se_b = (log(b_hi) - log(b_lo)) / (2 * 1.959964);
    double diff = fabs(log(*ratio)), se = sqrt(se_a * se_a + se_b * se_b);
    return diff <= 1.959964 * se || fabs(*ratio - 1) <= tolerance;
}
