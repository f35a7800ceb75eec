/* Timing statistics and the random-number generator: medians, the
 * order-statistic interval on hand-computed ranks, bootstrap intervals on
 * constructed speedups, and the generator's determinism and moments. */
#include "kg_test.h"
#include "rng.h"
#include "stats.h"

#include <stdint.h>
#include <stdlib.h>

/* 1..n in a scrambled order (17 is coprime with every n used here that is
 * not a multiple of 17), so nothing relies on sorted input. */
static void fill_scrambled(double *values, size_t n)
{
    for (size_t i = 0; i < n; i++)
        values[i] = (double)((i * 17) % n + 1);
}

static void test_median(void)
{
    const double odd[] = {5, 1, 4, 2, 3};
    const double even[] = {10, 2, 8, 4};
    const double one[] = {7.5};
    const double ties[] = {3, 1, 3, 3, 2, 3};
    KG_CHECK_NEAR(kg_median(odd, 5), 3.0, 0);
    KG_CHECK_NEAR(kg_median(even, 4), 6.0, 0);
    KG_CHECK_NEAR(kg_median(one, 1), 7.5, 0);
    KG_CHECK_NEAR(kg_median(ties, 6), 3.0, 0);
    KG_CHECK(isnan(kg_median(odd, 0)));

    /* Input untouched. */
    KG_CHECK(odd[0] == 5 && odd[1] == 1 && odd[2] == 4 && odd[3] == 2 && odd[4] == 3);
    KG_CHECK(even[0] == 10 && even[1] == 2 && even[2] == 8 && even[3] == 4);

    /* Larger inputs against the definition, both parities, with duplicates. */
    kg_rng rng;
    kg_rng_seed(&rng, 99);
    for (size_t n = 1; n <= 64; n++) {
        double values[64], sorted[64];
        for (size_t i = 0; i < n; i++)
            values[i] = sorted[i] = (double)kg_rng_below(&rng, 10);
        for (size_t i = 1; i < n; i++) /* insertion sort: the reference */
            for (size_t j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
                double t = sorted[j];
                sorted[j] = sorted[j - 1];
                sorted[j - 1] = t;
            }
        double want = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
        KG_CHECK_NEAR(kg_median(values, n), want, 0);
    }
}

static void test_median_ci(void)
{
    double values[100];
    double lo, hi;

    /* n = 100: j = floor(50 - 9.8) = 40, k = ceil(50 + 9.8) = 60. */
    fill_scrambled(values, 100);
    KG_CHECK_INT(kg_median_ci95(values, 100, &lo, &hi), 0);
    KG_CHECK_NEAR(lo, 40, 0);
    KG_CHECK_NEAR(hi, 60, 0);

    /* n = 20: 0.98 * sqrt(20) = 4.3827; j = floor(5.617) = 5, k = ceil(14.38) = 15. */
    fill_scrambled(values, 20);
    KG_CHECK_INT(kg_median_ci95(values, 20, &lo, &hi), 0);
    KG_CHECK_NEAR(lo, 5, 0);
    KG_CHECK_NEAR(hi, 15, 0);

    /* n = 10: 0.98 * sqrt(10) = 3.099; j = floor(1.901) = 1, k = ceil(8.099) = 9. */
    fill_scrambled(values, 10);
    KG_CHECK_INT(kg_median_ci95(values, 10, &lo, &hi), 0);
    KG_CHECK_NEAR(lo, 1, 0);
    KG_CHECK_NEAR(hi, 9, 0);

    /* n = 6: j = floor(0.6) = 0 -> clamped to 1, k = ceil(5.4) = 6. */
    fill_scrambled(values, 6);
    KG_CHECK_INT(kg_median_ci95(values, 6, &lo, &hi), 0);
    KG_CHECK_NEAR(lo, 1, 0);
    KG_CHECK_NEAR(hi, 6, 0);

    /* Bounds that are exact integers (n = 2500 t^2) must not be nudged by
     * 0.98 having no exact binary form: n = 2500 gives 1250 -+ 49, n = 10000
     * gives 5000 -+ 98. */
    double *many = malloc(10000 * sizeof *many);
    KG_CHECK(many != NULL);
    if (many != NULL) {
        fill_scrambled(many, 2500);
        KG_CHECK_INT(kg_median_ci95(many, 2500, &lo, &hi), 0);
        KG_CHECK_NEAR(lo, 1201, 0);
        KG_CHECK_NEAR(hi, 1299, 0);
        for (size_t i = 0; i < 10000; i++)
            many[i] = (double)((i * 7919) % 10000 + 1);
        KG_CHECK_INT(kg_median_ci95(many, 10000, &lo, &hi), 0);
        KG_CHECK_NEAR(lo, 4902, 0);
        KG_CHECK_NEAR(hi, 5098, 0);
        free(many);
    }

    /* Fewer than 6: the whole range. */
    const double few[] = {4, 9, 1, 7, 3};
    KG_CHECK_INT(kg_median_ci95(few, 5, &lo, &hi), 0);
    KG_CHECK_NEAR(lo, 1, 0);
    KG_CHECK_NEAR(hi, 9, 0);
    KG_CHECK(few[0] == 4 && few[2] == 1); /* untouched */
    KG_CHECK_INT(kg_median_ci95(few, 1, &lo, &hi), 0);
    KG_CHECK_NEAR(lo, 4, 0);
    KG_CHECK_NEAR(hi, 4, 0);
    KG_CHECK_INT(kg_median_ci95(few, 0, &lo, &hi), -1);
}

static void test_rel_halfwidth(void)
{
    double values[100];
    fill_scrambled(values, 20);
    /* [5, 15] around a median of 10.5. */
    KG_CHECK_NEAR(kg_median_rel_halfwidth(values, 20), 5.0 / 10.5, 1e-15);
    fill_scrambled(values, 100);
    KG_CHECK_NEAR(kg_median_rel_halfwidth(values, 100), 10.0 / 50.5, 1e-15);

    /* Tight samples meet the 1% target; too few samples never do. */
    for (size_t i = 0; i < 100; i++)
        values[i] = 100.0 + 0.01 * (double)((i * 37) % 100);
    KG_CHECK(kg_median_rel_halfwidth(values, 100) < 0.01);
    KG_CHECK(isinf(kg_median_rel_halfwidth(values, 5)));
    KG_CHECK(isinf(kg_median_rel_halfwidth(values, 0)));
    const double zeros[] = {0, 0, 0, 0, 0, 0, 0};
    KG_CHECK(isinf(kg_median_rel_halfwidth(zeros, 7)));
}

/* Samples around `center` with relative noise `noise`. */
static void fill_noisy(double *values, size_t n, double center, double noise, kg_rng *rng)
{
    for (size_t i = 0; i < n; i++)
        values[i] = center * (1.0 + noise * kg_rng_normal(rng));
}

static void test_speedup_ci(void)
{
    enum { n = 100 };
    double baseline[n], candidate[n];
    kg_rng rng;
    kg_rng_seed(&rng, 2024);
    fill_noisy(baseline, n, 2.0, 0.01, &rng);
    fill_noisy(candidate, n, 1.0, 0.01, &rng);

    double speedup, lo, hi;
    KG_CHECK_INT(kg_speedup_ci(baseline, n, candidate, n, 10000, 7, &speedup, &lo, &hi), 0);
    KG_CHECK_NEAR(speedup, kg_median(baseline, n) / kg_median(candidate, n), 0);
    KG_CHECK(lo <= speedup && speedup <= hi);
    KG_CHECK_MSG(lo < 2.0 && 2.0 < hi, "[%g, %g] should contain 2", lo, hi);
    KG_CHECK_MSG(lo > 1.8 && hi < 2.2, "[%g, %g] should exclude 1.8 and 2.2", lo, hi);
    KG_CHECK(hi - lo < 0.05);

    /* Same seed, same interval, bit for bit; another seed, nearly the same. */
    double speedup2, lo2, hi2;
    KG_CHECK_INT(kg_speedup_ci(baseline, n, candidate, n, 10000, 7, &speedup2, &lo2, &hi2), 0);
    KG_CHECK(speedup2 == speedup && lo2 == lo && hi2 == hi);
    KG_CHECK_INT(kg_speedup_ci(baseline, n, candidate, n, 10000, 8, &speedup2, &lo2, &hi2), 0);
    KG_CHECK(lo2 != lo || hi2 != hi);
    KG_CHECK_NEAR(lo2, lo, 0.01);
    KG_CHECK_NEAR(hi2, hi, 0.01);

    /* Different sample counts on the two sides. */
    KG_CHECK_INT(kg_speedup_ci(baseline, n, candidate, 37, 2000, 7, &speedup2, &lo2, &hi2), 0);
    KG_CHECK(lo2 < 2.0 && 2.0 < hi2);

    /* Constant samples: a degenerate but exact interval. */
    const double four[] = {4, 4, 4, 4, 4, 4, 4, 4};
    const double two[] = {2, 2, 2};
    KG_CHECK_INT(kg_speedup_ci(four, 8, two, 3, 500, 1, &speedup2, &lo2, &hi2), 0);
    KG_CHECK_NEAR(speedup2, 2.0, 0);
    KG_CHECK_NEAR(lo2, 2.0, 0);
    KG_CHECK_NEAR(hi2, 2.0, 0);

    /* Tiny sets whose resampled medians are known exactly: three draws from
     * {1, 2, 3} have median 1 or 3 with probability 7/27 each; two draws
     * from {1, 3} average to 1, 2 or 3. */
    const double one_two_three[] = {3, 1, 2};
    const double one[] = {1};
    KG_CHECK_INT(kg_speedup_ci(one_two_three, 3, one, 1, 1000, 3, &speedup2, &lo2, &hi2), 0);
    KG_CHECK_NEAR(speedup2, 2.0, 0);
    KG_CHECK_NEAR(lo2, 1.0, 0);
    KG_CHECK_NEAR(hi2, 3.0, 0);
    /* Six draws from {1..6}: the median is the mean of the middle two, so
     * the tails are 1.5 and 5.5 (P(median <= 1) = 0.009, P(<= 1.5) = 0.035);
     * taking one middle draw instead would give 2 and 6. Five draws from
     * {1, 2, 4, 5, 6}: P(median = 1) = 0.058, so the tails are the extremes. */
    const double one_to_six[] = {4, 2, 6, 1, 5, 3};
    KG_CHECK_INT(kg_speedup_ci(one_to_six, 6, one, 1, 20000, 3, &speedup2, &lo2, &hi2), 0);
    KG_CHECK_NEAR(speedup2, 3.5, 0);
    KG_CHECK_NEAR(lo2, 1.5, 0);
    KG_CHECK_NEAR(hi2, 5.5, 0);
    KG_CHECK_INT(kg_speedup_ci(one_to_six, 5, one, 1, 20000, 3, &speedup2, &lo2, &hi2), 0);
    KG_CHECK_NEAR(speedup2, 4.0, 0);
    KG_CHECK_NEAR(lo2, 1.0, 0);
    KG_CHECK_NEAR(hi2, 6.0, 0);
    const double one_three[] = {3, 1};
    const double six[] = {6};
    KG_CHECK_INT(kg_speedup_ci(six, 1, one_three, 2, 1000, 3, &speedup2, &lo2, &hi2), 0);
    KG_CHECK_NEAR(speedup2, 3.0, 0);
    KG_CHECK_NEAR(lo2, 2.0, 0);
    KG_CHECK_NEAR(hi2, 6.0, 0);

    KG_CHECK_INT(kg_speedup_ci(baseline, 0, candidate, n, 100, 1, &speedup2, &lo2, &hi2), -1);
    KG_CHECK_INT(kg_speedup_ci(baseline, n, candidate, 0, 100, 1, &speedup2, &lo2, &hi2), -1);
    KG_CHECK_INT(kg_speedup_ci(baseline, n, candidate, n, 0, 1, &speedup2, &lo2, &hi2), -1);

    /* Inputs untouched by the bootstrap. */
    kg_rng_seed(&rng, 2024);
    double again[n];
    fill_noisy(again, n, 2.0, 0.01, &rng);
    KG_CHECK(memcmp(again, baseline, sizeof again) == 0);
}

static void test_geomean(void)
{
    const double a[] = {1, 4, 16};
    const double b[] = {2, 8};
    const double c[] = {3};
    const double zero[] = {1, 0, 4};
    const double negative[] = {1, -2};
    KG_CHECK_NEAR(kg_geomean(a, 3), 4.0, 1e-12);
    KG_CHECK_NEAR(kg_geomean(b, 2), 4.0, 1e-12);
    KG_CHECK_NEAR(kg_geomean(c, 1), 3.0, 1e-12);
    KG_CHECK(isnan(kg_geomean(a, 0)));
    KG_CHECK(isnan(kg_geomean(zero, 3)));
    KG_CHECK(isnan(kg_geomean(negative, 2)));

    /* Many large values: no overflow of a running product. */
    double big[400];
    for (size_t i = 0; i < 400; i++)
        big[i] = 1e300;
    KG_CHECK_NEAR(kg_geomean(big, 400) / 1e300, 1.0, 1e-9);
}

static void test_geomean_ci(void)
{
    /* Twelve shapes whose true speedups have a known geomean; 50 noisy
     * samples each, 2% noise. */
    enum { shapes = 12, samples = 50 };
    static const double true_speedups[shapes] = {1.2, 1.5, 2.0, 2.5, 3.0, 1.1,
                                                 0.9, 1.8, 2.2, 1.3, 4.0, 1.6};
    static double baselines[shapes][samples], candidates[shapes][samples];
    kg_sample_pair pairs[shapes];
    kg_rng rng;
    kg_rng_seed(&rng, 31337);
    for (size_t s = 0; s < shapes; s++) {
        double time = 1.0 + 0.25 * (double)s; /* shapes differ in absolute time */
        fill_noisy(baselines[s], samples, time * true_speedups[s], 0.02, &rng);
        fill_noisy(candidates[s], samples, time, 0.02, &rng);
        pairs[s] = (kg_sample_pair){baselines[s], samples, candidates[s], samples};
    }
    double true_geomean = kg_geomean(true_speedups, shapes);

    double geomean, lo, hi;
    KG_CHECK_INT(kg_geomean_speedup_ci(pairs, shapes, 4000, 5, &geomean, &lo, &hi), 0);
    double point[shapes];
    for (size_t s = 0; s < shapes; s++)
        point[s] = kg_median(baselines[s], samples) / kg_median(candidates[s], samples);
    KG_CHECK_NEAR(geomean, kg_geomean(point, shapes), 1e-12);
    KG_CHECK_NEAR(geomean, true_geomean, 0.02);
    KG_CHECK_MSG(lo < true_geomean && true_geomean < hi, "[%g, %g] should contain %g", lo, hi,
                 true_geomean);
    KG_CHECK(lo < geomean && geomean < hi);
    /* The spread across shapes dominates: far wider than timing noise alone,
     * yet well inside the range of the speedups. */
    KG_CHECK(hi - lo > 0.2);
    KG_CHECK(lo > 1.0 && hi < 3.0);

    double geomean2, lo2, hi2;
    KG_CHECK_INT(kg_geomean_speedup_ci(pairs, shapes, 4000, 5, &geomean2, &lo2, &hi2), 0);
    KG_CHECK(geomean2 == geomean && lo2 == lo && hi2 == hi);

    /* Identical shapes: only timing noise is left, and the interval is as
     * tight as one shape's. */
    kg_sample_pair same[shapes];
    for (size_t s = 0; s < shapes; s++)
        same[s] = pairs[2];
    KG_CHECK_INT(kg_geomean_speedup_ci(same, shapes, 4000, 5, &geomean2, &lo2, &hi2), 0);
    KG_CHECK_NEAR(geomean2, point[2], 1e-12);
    KG_CHECK(lo2 < 2.0 && 2.0 < hi2 && hi2 - lo2 < 0.1);

    /* One shape reduces to kg_speedup_ci exactly. */
    double speedup, slo, shi;
    KG_CHECK_INT(kg_geomean_speedup_ci(pairs + 4, 1, 3000, 9, &geomean2, &lo2, &hi2), 0);
    KG_CHECK_INT(
        kg_speedup_ci(baselines[4], samples, candidates[4], samples, 3000, 9, &speedup, &slo, &shi),
        0);
    KG_CHECK(geomean2 == speedup && lo2 == slo && hi2 == shi);

    KG_CHECK_INT(kg_geomean_speedup_ci(pairs, 0, 100, 1, &geomean2, &lo2, &hi2), -1);
    KG_CHECK_INT(kg_geomean_speedup_ci(pairs, shapes, 0, 1, &geomean2, &lo2, &hi2), -1);
    kg_sample_pair empty[2] = {pairs[0], {baselines[1], samples, candidates[1], 0}};
    KG_CHECK_INT(kg_geomean_speedup_ci(empty, 2, 100, 1, &geomean2, &lo2, &hi2), -1);
}

static void test_rng(void)
{
    kg_rng a, b, c;
    /* splitmix64's published first outputs from seed 0. */
    kg_rng_seed(&a, 0);
    KG_CHECK(a.s[0] == 0xe220a8397b1dcdafull);
    KG_CHECK(a.s[1] == 0x6e789e6aa1b965f4ull);
    KG_CHECK(a.s[2] == 0x06c45d188009454full);
    KG_CHECK(a.s[3] == 0xf88bb8a8724c81ecull);
    /* xoshiro256**'s first outputs from that state (checked against an
     * independent transcription of the reference code). */
    KG_CHECK(kg_rng_next(&a) == 0x99ec5f36cb75f2b4ull);
    KG_CHECK(kg_rng_next(&a) == 0xbf6e1f784956452aull);
    KG_CHECK(kg_rng_next(&a) == 0x1a5f849d4933e6e0ull);

    kg_rng_seed(&a, 12345);
    kg_rng_seed(&b, 12345);
    kg_rng_seed(&c, 12346);
    int same = 1, differs = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = kg_rng_next(&a), y = kg_rng_next(&b), z = kg_rng_next(&c);
        same &= x == y;
        differs |= x != z;
    }
    KG_CHECK(same);
    KG_CHECK(differs);

    /* Normal draws consume a fixed two numbers each: the stream depends only
     * on the number of calls. */
    kg_rng_seed(&a, 5);
    kg_rng_seed(&b, 5);
    kg_rng_normal(&a);
    kg_rng_next(&b);
    kg_rng_next(&b);
    KG_CHECK(kg_rng_next(&a) == kg_rng_next(&b));

    enum { draws = 200000 };
    double sum = 0, sum_squares = 0, lowest = 1, highest = 0;
    kg_rng_seed(&a, 77);
    for (int i = 0; i < draws; i++) {
        double u = kg_rng_uniform(&a);
        sum += u;
        sum_squares += u * u;
        lowest = u < lowest ? u : lowest;
        highest = u > highest ? u : highest;
    }
    double mean = sum / draws;
    KG_CHECK_NEAR(mean, 0.5, 0.005);
    KG_CHECK_NEAR(sum_squares / draws - mean * mean, 1.0 / 12.0, 0.002);
    KG_CHECK(lowest >= 0.0 && highest < 1.0);
    KG_CHECK(lowest < 0.001 && highest > 0.999);

    sum = sum_squares = 0;
    double sum_cubes = 0;
    int beyond_two = 0, all_finite = 1;
    for (int i = 0; i < draws; i++) {
        double x = kg_rng_normal(&a);
        all_finite &= isfinite(x) != 0;
        sum += x;
        sum_squares += x * x;
        sum_cubes += x * x * x;
        beyond_two += fabs(x) > 1.96;
    }
    KG_CHECK(all_finite);
    mean = sum / draws;
    KG_CHECK_NEAR(mean, 0.0, 0.01);
    KG_CHECK_NEAR(sum_squares / draws - mean * mean, 1.0, 0.02);
    KG_CHECK_NEAR(sum_cubes / draws, 0.0, 0.05);
    KG_CHECK_NEAR((double)beyond_two / draws, 0.05, 0.005);

    /* below(n): always in range, and every value about equally often. */
    enum { buckets = 7 };
    int counts[buckets] = {0};
    int in_range = 1;
    for (int i = 0; i < 70000; i++) {
        uint64_t v = kg_rng_below(&a, buckets);
        in_range &= v < buckets;
        if (v < buckets)
            counts[v]++;
    }
    KG_CHECK(in_range);
    for (int i = 0; i < buckets; i++)
        KG_CHECK_MSG(counts[i] > 9500 && counts[i] < 10500, "bucket %d: %d", i, counts[i]);
    static const uint64_t bounds[] = {1, 2, 3, 1000, 1ull << 32, (1ull << 63) + 1, UINT64_MAX};
    for (size_t k = 0; k < sizeof bounds / sizeof bounds[0]; k++) {
        int ok = 1;
        for (int i = 0; i < 1000; i++)
            ok &= kg_rng_below(&a, bounds[k]) < bounds[k];
        KG_CHECK_MSG(ok, "below(%llu) out of range", (unsigned long long)bounds[k]);
    }
    /* For n just above 2^63 about half of all raw draws are rejected; the
     * result must still be uniform over [0, n), half of it at or above n/2. */
    int upper_half = 0;
    for (int i = 0; i < 10000; i++)
        upper_half += kg_rng_below(&a, (1ull << 63) + 1) >= (1ull << 62);
    KG_CHECK_MSG(upper_half > 4800 && upper_half < 5200, "upper half: %d of 10000", upper_half);
}

int main(void)
{
    test_median();
    test_median_ci();
    test_rel_halfwidth();
    test_speedup_ci();
    test_geomean();
    test_geomean_ci();
    test_rng();
    return kg_test_finish("test_stats");
}
