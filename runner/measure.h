/*
 * Timing: warm-up, then rounds in which every set is sampled once, in
 * alternating order (ABBA...), each sample timed by the device's own timer
 * around the set's launches, with the last-level cache flushed before it
 * unless `hot`. Stops adaptively: after at least min_samples and min_time,
 * when every set's median has a 95% interval within +-target, or when
 * max_samples or max_time is reached. The reason is returned.
 */
#ifndef KG_MEASURE_H
#define KG_MEASURE_H

#include "evaluate.h"

#include <stddef.h>
#include <stdint.h>

typedef struct kg_measure_settings {
    size_t min_samples; /* per set */
    size_t max_samples; /* per set */
    double min_time_s;  /* sampling wall time before stopping may be considered */
    double max_time_s;  /* sampling wall time cap per shape */
    double target;      /* relative half-width of the median's 95% interval */
    double warmup_s;    /* per set, after one mandatory untimed run */
    int hot;            /* 1: no cache flush between samples */
    /* Called after every round when non-NULL (progress display). */
    void (*progress)(void *user, size_t samples, double worst_rel_halfwidth, double elapsed_s);
    void *progress_user;
} kg_measure_settings;

/* Defaults: 10..1000 samples, 0.2 s minimum, 10 s cap, 1% target, 0.05 s warm-up, cold. */
kg_measure_settings kg_measure_defaults(void);

/* Samples of one set; device_s are the device timer's, host_s the host's
 * wall clock around the same region (a cross-check only). */
typedef struct kg_sample_set {
    double *device_s;
    double *host_s;
    /* Where the backend reads clocks (CUDA with NVML): per sample, the lower
     * of the SM clocks read just before and just after the timed region,
     * and whether either read found the device held down. NULL otherwise. */
    uint32_t *clock_mhz;
    unsigned char *throttled_flags;
    size_t count, cap;
    size_t warmup_runs;
    size_t throttled; /* samples taken while the device reported throttling */
} kg_sample_set;

void kg_sample_set_free(kg_sample_set *s);

typedef struct kg_measure_outcome {
    const char *stop_reason; /* "converged", "max_samples", "max_time" */
    double sampling_wall_s;
    double worst_rel_halfwidth;
} kg_measure_outcome;

/* Measures n prepared sets (all on the same device) with interleaving.
 * out[i] receives the samples of sets[i] (zero-initialise them first; free
 * with kg_sample_set_free). On a device error returns it, keeping the
 * samples taken so far. */
int kg_measure(kg_prepared *const *sets, size_t n, const kg_measure_settings *settings,
               kg_sample_set *out, kg_measure_outcome *outcome, kg_error *err);

#endif
