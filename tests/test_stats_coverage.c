/*
 * The intervals are validated, not assumed: timing samples are simulated
 * with a known true speedup — log-normal noise, a slow drift shared by both
 * sets (they are sampled alternately), occasional outliers — and the 95%
 * intervals must cover the truth in at least 93% of 1,000 simulated runs,
 * for the per-shape interval and for the geometric-mean intervals; the
 * measurement interval (shapes fixed) in 93% to 97% where kgrade's stopping
 * rule puts the sample count (150 samples per set at 5% noise), and in 93%
 * to 99% at 30 samples, where the bootstrap overstates a median's spread.
 * Also measures the time to compute the statistics of a 100-shape run.
 */
#include "kg_test.h"
#include "rng.h"
#include "stats.h"

#include <math.h>
#include <stdio.h>
#include <time.h>

#define RUNS      1000
#define SAMPLES   30
#define RESAMPLES 2000
#define SHAPES    8

/* SAMPLES timings of a kernel whose noiseless time is `t`. */
/* n timings of a kernel whose noiseless time is `t`. */
static void simulate_n(kg_rng *rng, double t, double *out, int n)
{
    for (int i = 0; i < n; i++) {
        double drift = 1.0 + 0.02 * i / (n - 1);                 /* +2% over the run */
        double noise = exp(0.05 * kg_rng_normal(rng));           /* log-normal, 5% */
        double outlier = kg_rng_uniform(rng) < 0.03 ? 1.5 : 1.0; /* preemption */
        out[i] = t * drift * noise * outlier;
    }
}

static void simulate(kg_rng *rng, double t, double *out)
{
    simulate_n(rng, t, out, SAMPLES);
}

/* The measurement interval where kgrade's stopping rule puts it: with 5%
 * noise, the median's 95% interval reaches +-1% (the default --target)
 * at about (1.96 * 1.2533 * 0.05 / 0.01)^2 = 150 samples per set. There
 * it must be a 95% interval: 93% to 97% of runs. */
#define OPERATING_SAMPLES 150
static void operating_point(kg_rng *rng, const double *truth, double true_geomean)
{
    static double bo[SHAPES][OPERATING_SAMPLES], co[SHAPES][OPERATING_SAMPLES];
    int covered = 0;
    for (int run = 0; run < RUNS; run++) {
        kg_sample_pair pairs[SHAPES];
        for (int i = 0; i < SHAPES; i++) {
            simulate_n(rng, 1e-4 * (1 + i), bo[i], OPERATING_SAMPLES);
            simulate_n(rng, 1e-4 * (1 + i) / truth[i], co[i], OPERATING_SAMPLES);
            pairs[i] = (kg_sample_pair){bo[i], OPERATING_SAMPLES, co[i], OPERATING_SAMPLES};
        }
        double g, lo, hi;
        KG_CHECK_INT(
            kg_geomean_measurement_ci(pairs, SHAPES, RESAMPLES, (uint64_t)run, &g, &lo, &hi), 0);
        covered += lo <= true_geomean && true_geomean <= hi;
    }
    printf("at %d samples per set (where the +-1%% stopping rule lands with 5%% noise), the "
           "measurement interval covered the true geomean in %d of %d runs\n",
           OPERATING_SAMPLES, covered, RUNS);
    KG_CHECK_MSG(covered >= RUNS * 93 / 100 && covered <= RUNS * 97 / 100,
                 "measurement coverage at the operating point %d / %d, outside 93-97%%", covered,
                 RUNS);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int main(void)
{
    kg_rng rng;
    kg_rng_seed(&rng, 20261125);
    double b[SHAPES][SAMPLES], c[SHAPES][SAMPLES];

    /* Per shape: true speedup 1.7. */
    int covered = 0;
    for (int run = 0; run < RUNS; run++) {
        simulate(&rng, 1e-3, b[0]);
        simulate(&rng, 1e-3 / 1.7, c[0]);
        double s, lo, hi;
        KG_CHECK_INT(
            kg_speedup_ci(b[0], SAMPLES, c[0], SAMPLES, RESAMPLES, (uint64_t)run, &s, &lo, &hi), 0);
        covered += lo <= 1.7 && 1.7 <= hi;
    }
    printf("per-shape 95%% interval covered the true speedup in %d of %d runs\n", covered, RUNS);
    KG_CHECK_MSG(covered >= RUNS * 93 / 100, "coverage %d / %d", covered, RUNS);

    /* Geometric mean over SHAPES shapes with different true speedups. */
    const double truth[SHAPES] = {0.8, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 10.0};
    double log_sum = 0;
    for (int i = 0; i < SHAPES; i++)
        log_sum += log(truth[i]);
    double true_geomean = exp(log_sum / SHAPES);
    covered = 0;
    int measured = 0;
    double width_ratio = 0;
    double t0 = now();
    for (int run = 0; run < RUNS; run++) {
        kg_sample_pair pairs[SHAPES];
        for (int i = 0; i < SHAPES; i++) {
            double base = 1e-4 * (1 + i); /* shapes of different sizes */
            simulate(&rng, base, b[i]);
            simulate(&rng, base / truth[i], c[i]);
            pairs[i] = (kg_sample_pair){b[i], SAMPLES, c[i], SAMPLES};
        }
        double g, lo, hi, mlo, mhi;
        KG_CHECK_INT(kg_geomean_speedup_ci(pairs, SHAPES, RESAMPLES, (uint64_t)run, &g, &lo, &hi),
                     0);
        KG_CHECK_INT(
            kg_geomean_measurement_ci(pairs, SHAPES, RESAMPLES, (uint64_t)run, &g, &mlo, &mhi), 0);
        covered += lo <= true_geomean && true_geomean <= hi;
        measured += mlo <= true_geomean && true_geomean <= mhi;
        width_ratio += (log(hi) - log(lo)) / (log(mhi) - log(mlo)) / RUNS;
    }
    printf("geomean 95%% shape-sampling interval covered the true geomean (%.4g) in %d of %d "
           "runs (%.1f s)\n",
           true_geomean, covered, RUNS, now() - t0);
    KG_CHECK_MSG(covered >= RUNS * 93 / 100, "coverage %d / %d", covered, RUNS);
    /* The measurement interval (these shapes, their samples resampled) is
     * the one a claim about these shapes needs: near 95%, not 100%. It is
     * a little conservative (about 98% here, 97% at 100 samples): the
     * bootstrap overstates the variance of a median of few samples by
     * about 10% in standard deviation (docs/methodology.md). */
    printf("geomean 95%% measurement interval covered it in %d of %d runs; the shape-sampling "
           "interval is %.1f times as wide (in log)\n",
           measured, RUNS, width_ratio);
    KG_CHECK_MSG(measured >= RUNS * 93 / 100 && measured <= RUNS * 99 / 100,
                 "measurement coverage %d / %d, outside 93-99%%", measured, RUNS);
    KG_CHECK_MSG(width_ratio > 3, "the shape-sampling interval is only %.1f times as wide",
                 width_ratio);

    operating_point(&rng, truth, true_geomean);

    /* kgrade replicate's rule: two runs of the same kernels (same truth)
     * must agree; the share that does not is its false-alarm rate, at
     * most about the 5% a 95% interval allows without the tolerance band
     * (the rule alone), fewer with the default 2% band. */
    int alarms = 0, alarms_no_band = 0;
    for (int run = 0; run < RUNS / 2; run++) {
        double g[2], lo[2], hi[2];
        for (int k = 0; k < 2; k++) {
            kg_sample_pair pairs[SHAPES];
            for (int i = 0; i < SHAPES; i++) {
                double base = 1e-4 * (1 + i);
                simulate(&rng, base, b[i]);
                simulate(&rng, base / truth[i], c[i]);
                pairs[i] = (kg_sample_pair){b[i], SAMPLES, c[i], SAMPLES};
            }
            kg_geomean_measurement_ci(pairs, SHAPES, RESAMPLES, (uint64_t)(run * 2 + k), &g[k],
                                      &lo[k], &hi[k]);
        }
        double ratio;
        alarms += !kg_estimates_agree(g[0], lo[0], hi[0], g[1], lo[1], hi[1], 0.02, &ratio);
        alarms_no_band += !kg_estimates_agree(g[0], lo[0], hi[0], g[1], lo[1], hi[1], 0, &ratio);
    }
    printf("replicate: two runs of the same kernels disagreed in %d of %d pairs (%d without "
           "the 2%% band)\n",
           alarms, RUNS / 2, alarms_no_band);
    KG_CHECK_MSG(alarms_no_band <= RUNS / 2 * 6 / 100, "false alarms %d / %d", alarms_no_band,
                 RUNS / 2);
    /* And it does see a real change: the candidate 10% slower in run B. */
    double g0, lo0, hi0, g1, lo1, hi1, ratio;
    {
        kg_sample_pair pairs[SHAPES];
        for (int i = 0; i < SHAPES; i++) {
            simulate(&rng, 1e-4 * (1 + i), b[i]);
            simulate(&rng, 1e-4 * (1 + i) / truth[i], c[i]);
            pairs[i] = (kg_sample_pair){b[i], SAMPLES, c[i], SAMPLES};
        }
        kg_geomean_measurement_ci(pairs, SHAPES, RESAMPLES, 7, &g0, &lo0, &hi0);
        for (int i = 0; i < SHAPES; i++) {
            simulate(&rng, 1e-4 * (1 + i), b[i]);
            simulate(&rng, 1.1e-4 * (1 + i) / truth[i], c[i]);
        }
        kg_geomean_measurement_ci(pairs, SHAPES, RESAMPLES, 8, &g1, &lo1, &hi1);
    }
    KG_CHECK_MSG(!kg_estimates_agree(g0, lo0, hi0, g1, lo1, hi1, 0.02, &ratio),
                 "a 10%% slower candidate was taken as a replication (ratio %.3f)", ratio);

    /* The statistics of a 100-shape run with the default 10,000 resamples. */
    static double bb[100][SAMPLES], cc[100][SAMPLES];
    kg_sample_pair pairs[100];
    for (int i = 0; i < 100; i++) {
        simulate(&rng, 1e-3, bb[i]);
        simulate(&rng, 1e-3 / 1.3, cc[i]);
        pairs[i] = (kg_sample_pair){bb[i], SAMPLES, cc[i], SAMPLES};
    }
    t0 = now();
    for (int i = 0; i < 100; i++) {
        double s, lo, hi;
        kg_speedup_ci(bb[i], SAMPLES, cc[i], SAMPLES, 10000, (uint64_t)i, &s, &lo, &hi);
    }
    double g, lo, hi;
    kg_geomean_speedup_ci(pairs, 100, 10000, 1, &g, &lo, &hi);
    printf("100 shapes x %d samples, 10000 resamples: per-shape and geomean intervals in %.2f s\n",
           SAMPLES, now() - t0);
    return kg_test_finish("test_stats_coverage");
}
