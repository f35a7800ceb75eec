/* The timing loop. */
#include "measure.h"
#include "inputs.h"
#include "record_keys.h"
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

kg_measure_settings kg_measure_defaults(void)
{
    kg_measure_settings s = {
        .min_samples = 10,
        .max_samples = 1000,
        .min_time_s = 0.2,
        .max_time_s = 10.0,
        .target = 0.01,
        .warmup_s = 0.05,
        .hot = 0,
    };
    return s;
}

void kg_sample_set_free(kg_sample_set *s)
{
    free(s->device_s);
    free(s->host_s);
    free(s->clock_mhz);
    free(s->throttled_flags);
    memset(s, 0, sizeof *s);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Grows every per-sample array together. */
static int reserve(kg_sample_set *s)
{
    if (s->count < s->cap)
        return KG_OK;
    size_t cap = s->cap ? 2 * s->cap : 64;
    double *d = realloc(s->device_s, cap * sizeof *d);
    if (d)
        s->device_s = d;
    double *h = d ? realloc(s->host_s, cap * sizeof *h) : NULL;
    if (h)
        s->host_s = h;
    uint32_t *c = h ? realloc(s->clock_mhz, cap * sizeof *c) : NULL;
    if (c)
        s->clock_mhz = c;
    unsigned char *f = c ? realloc(s->throttled_flags, cap) : NULL;
    if (!f)
        return KG_ERR_MEMORY;
    s->throttled_flags = f;
    s->cap = cap;
    return KG_OK;
}

/* Clock state around one sample: the lower clock and either throttle flag.
 * *known stays 0 when the backend cannot read clocks. */
static void read_clocks(kg_device *dev, uint32_t *mhz, int *throttled, int *known)
{
    uint32_t now = 0;
    int held = 0;
    if (kg_dev_read_clocks(dev, &now, &held, NULL) != KG_OK)
        return;
    *mhz = *known && *mhz < now ? *mhz : now;
    *throttled |= held;
    *known = 1;
}

/* A 32-bit pattern for the scrubs from the run's 64-bit fill seed: every
 * bit of the seed moves it (the repeat run's seed differs from the first
 * check's in bit 63 only, and their scrubs must differ). */
static uint32_t pattern_of(uint64_t seed, uint32_t salt)
{
    uint64_t x = seed ^ salt;
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return (uint32_t)x | 1u;
}

int kg_run_once(const kg_run_context *c, const kg_run_plan *plan, kg_run_sample *out, kg_error *err)
{
    kg_prepared *p = c->prepared;
    kg_device *dev = kg_prepared_device(p);
    int rc;
    memset(out, 0, sizeof *out);
    size_t set = plan->input_set < c->inputs->count ? plan->input_set : 0;
    kg_prepared_select(p, set);
    if (plan->perturb_seed) {
        kg_perturbation changed;
        kg_inputs_perturb(kg_prepared_workload(p), c->inputs->sets[set], plan->perturb_seed,
                          &changed);
        if ((rc = kg_prepared_write_elements(p, set, c->inputs->sets[set], &changed, err)))
            return rc;
    }
    const kg_output_layout *layout = kg_prepared_layout(p);
    for (size_t k = 0; k < layout->count; k++) {
        rc = kg_prepared_output_is_inout(p, k)
                 ? kg_prepared_reset_inout(p, k, err)
                 : kg_output_fill_run(c->fill[k], kg_prepared_output(p, k), layout->elements[k],
                                      plan->fill_seed, err);
        if (rc)
            return rc;
    }
    if ((rc = kg_prepared_scrub_scratch(p, pattern_of(plan->fill_seed, 0x5c), err)) ||
        (c->scrubber &&
         (rc = kg_scrubber_run(c->scrubber, pattern_of(plan->fill_seed, 0x10ca1), err))))
        return rc;
    if (!c->hot && (rc = kg_dev_flush_cache(dev, err)))
        return rc;
    int clock_known = 0;
    read_clocks(dev, &out->clock_mhz, &out->throttled, &clock_known);
    double h0 = now_seconds();
    if ((rc = kg_dev_timer_start(dev, err)))
        return rc;
    if ((rc = kg_prepared_enqueue(p, err))) {
        double ignored;
        kg_dev_timer_stop(dev, &ignored, NULL);
        return rc;
    }
    if ((rc = kg_dev_timer_stop(dev, &out->device_s, err)))
        return rc;
    out->host_s = now_seconds() - h0;
    read_clocks(dev, &out->clock_mhz, &out->throttled, &clock_known);
    if (!clock_known)
        out->clock_mhz = 0;
    return KG_OK;
}

static int store(kg_sample_set *set, const kg_run_sample *s)
{
    if (reserve(set) != KG_OK)
        return KG_ERR_MEMORY;
    set->device_s[set->count] = s->device_s;
    set->host_s[set->count] = s->host_s;
    set->clock_mhz[set->count] = s->clock_mhz;
    set->throttled_flags[set->count] = (unsigned char)(s->throttled != 0);
    set->throttled += s->throttled != 0;
    set->count++;
    return KG_OK;
}

/* One mandatory run (first-launch costs: JIT, page faults, the flush
 * buffer's first touch), then more until warmup_s has passed, so clocks
 * ramp up. */
static int warm_up(const kg_sampler *sampler, size_t set, const kg_measure_settings *s,
                   kg_sample_set *out, kg_error *err)
{
    double start = now_seconds();
    do {
        kg_run_sample ignored;
        int rc = sampler->sample(sampler->user, set, 0, 1, &ignored, err);
        if (rc)
            return rc;
        out->warmup_runs++;
    } while (now_seconds() - start < s->warmup_s && out->warmup_runs < 1000);
    return KG_OK;
}

int kg_measure(const kg_sampler *sampler, size_t n, const kg_measure_settings *s,
               kg_sample_set *out, kg_measure_outcome *outcome, kg_error *err)
{
    memset(outcome, 0, sizeof *outcome);
    outcome->stop_reason = KG_STOP_ERROR;
    outcome->worst_rel_halfwidth = INFINITY;
    int rc;
    for (size_t i = 0; i < n; i++)
        if ((rc = warm_up(sampler, i, s, &out[i], err)))
            return rc;
    double start = now_seconds(), excluded = 0;
    for (size_t round = 0;; round++) {
        /* Alternate the order every round so neither set always runs right
         * after the other's cache flush or in the same thermal phase. */
        for (size_t k = 0; k < n; k++) {
            size_t i = round % 2 ? n - 1 - k : k;
            kg_run_sample one;
            if ((rc = sampler->sample(sampler->user, i, round, 0, &one, err)))
                return rc;
            if (store(&out[i], &one) != KG_OK)
                return kg_error_set(err, KG_ERR_MEMORY, "out of memory storing samples");
        }
        if (sampler->after_round) {
            double t0 = now_seconds();
            rc = sampler->after_round(sampler->user, round, err);
            excluded += now_seconds() - t0;
            outcome->after_round_wall_s = excluded;
            if (rc)
                return rc;
        }
        double elapsed = now_seconds() - start - excluded;
        size_t samples = out[0].count;
        double worst = 0;
        for (size_t i = 0; i < n; i++) {
            double hw = kg_median_rel_halfwidth(out[i].device_s, out[i].count);
            if (!(hw <= worst))
                worst = hw;
        }
        outcome->sampling_wall_s = elapsed;
        outcome->worst_rel_halfwidth = worst;
        if (s->progress)
            s->progress(s->progress_user, samples, worst, elapsed);
        if (samples >= s->min_samples && elapsed >= s->min_time_s && worst <= s->target) {
            outcome->stop_reason = KG_STOP_CONVERGED;
            return KG_OK;
        }
        if (samples >= s->max_samples) {
            outcome->stop_reason = KG_STOP_MAX_SAMPLES;
            return KG_OK;
        }
        if (elapsed >= s->max_time_s && samples >= 1) {
            outcome->stop_reason = KG_STOP_MAX_TIME;
            return KG_OK;
        }
    }
}

static int local_sample(void *user, size_t set, size_t round, int warmup, kg_run_sample *out,
                        kg_error *err)
{
    kg_local_sampler *s = user;
    const kg_run_context *c = &s->contexts[set];
    s->seed = s->seed * 6364136223846793005ull + 1442695040888963407ull;
    kg_run_plan plan = {.input_set = warmup ? 0 : round % c->inputs->count,
                        .perturb_seed = 0,
                        .fill_seed = s->seed ^ (s->seed >> 31)};
    return kg_run_once(c, &plan, out, err);
}

kg_sampler kg_local_sampler_make(kg_local_sampler *s)
{
    kg_sampler sampler = {.sample = local_sample, .after_round = NULL, .user = s};
    return sampler;
}
