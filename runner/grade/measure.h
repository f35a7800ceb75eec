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
#include "output_fill.h"
#include "scrub.h"

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
    const char *stop_reason; /* KG_STOP_* of record_keys.h: "converged", "max_time", ... */
    double sampling_wall_s;  /* warm-up and rounds, without after_round */
    double after_round_wall_s;
    double worst_rel_halfwidth;
} kg_measure_outcome;

/* What one run is told: which input set it uses, the seed of the few
 * elements changed in it before the run (0: none), and the seed of the
 * output fill and scrub patterns. */
typedef struct kg_run_plan {
    size_t input_set;
    uint64_t perturb_seed;
    uint64_t fill_seed;
} kg_run_plan;

/* One timed run. */
typedef struct kg_run_sample {
    double device_s, host_s;
    uint32_t clock_mhz; /* 0 when the backend reads no clocks */
    int throttled;
} kg_run_sample;

/* A kernel set ready to run, with what every run needs around it. */
typedef struct kg_run_context {
    kg_prepared *prepared;
    kg_input_sets *inputs; /* host copies, kept in step with the device */
    /* The fill of each output (output_fill.h), in the workload's order;
     * NULL for an inout, which starts from its input values instead. */
    kg_output_fill *fill[KG_MAX_OUTPUTS];
    kg_scrubber *scrubber; /* local memory; NULL where none could be built */
    int hot;               /* 1: no cache flush */
} kg_run_context;

/* The procedure every run follows, checked or timed alike, so a kernel
 * cannot tell them apart: select the input set, apply the perturbation
 * (host copy and device), fill each output with fresh plausible values
 * (an inout: copy in its input values),
 * fill the scratch buffers and the device's local memory with fresh
 * patterns, flush the cache (unless hot) -- all outside the timed region
 * and before the flush, so the cache state the kernel meets is the same
 * whatever was done -- then time the launches with the device's timer.
 * The output stays on the device for a readback. */
int kg_run_once(const kg_run_context *c, const kg_run_plan *plan, kg_run_sample *out,
                kg_error *err);

/* Where the samples come from: in this process (kg_run_once), or from
 * worker processes (grade_shape.c), one per kernel set. */
typedef struct kg_sampler {
    /* One run of set `set`: a warm-up run (`warmup` 1, its time discarded)
     * or the sample of round `round`. */
    int (*sample)(void *user, size_t set, size_t round, int warmup, kg_run_sample *out,
                  kg_error *err);
    /* OPTIONAL: called after every round, for work whose time is not
     * sampling time (checking some rounds' outputs). */
    int (*after_round)(void *user, size_t round, kg_error *err);
    void *user;
} kg_sampler;

/* Measures n sets with interleaving: warm-up, then rounds in which every
 * set is sampled once, the order alternating (ABBA...). out[i] receives
 * the samples of set i (zero-initialise them first; free with
 * kg_sample_set_free). The sampling clock leaves out after_round's time.
 * On an error returns it, keeping the samples taken so far. */
int kg_measure(const kg_sampler *sampler, size_t n, const kg_measure_settings *settings,
               kg_sample_set *out, kg_measure_outcome *outcome, kg_error *err);

/* A sampler over run contexts in this process (the autotune sweep): round
 * r of set i uses input set r mod its count and a fill seed from `seed`. */
typedef struct kg_local_sampler {
    const kg_run_context *contexts;
    uint64_t seed;
} kg_local_sampler;
kg_sampler kg_local_sampler_make(kg_local_sampler *s);

#endif
