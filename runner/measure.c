/* The timing loop. */
#include "measure.h"
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
static void read_clocks(const kg_backend *b, kg_device *dev, uint32_t *mhz, int *throttled,
                        int *known)
{
    uint32_t now = 0;
    int held = 0;
    if (kg_backend_read_clocks(b, dev, &now, &held, NULL) != KG_OK)
        return;
    *mhz = *known && *mhz < now ? *mhz : now;
    *throttled |= held;
    *known = 1;
}

static int run_untimed(kg_prepared *p, kg_error *err)
{
    int rc = kg_prepared_enqueue(p, err);
    return rc ? rc : kg_prepared_backend(p)->synchronize(kg_prepared_device(p), err);
}

/* One mandatory run (first-launch costs: JIT, page faults, caches of the
 * runtime), then more until warmup_s has passed, so clocks ramp up. */
static int warm_up(kg_prepared *p, const kg_measure_settings *s, kg_sample_set *out, kg_error *err)
{
    double start = now_seconds();
    do {
        int rc = run_untimed(p, err);
        if (rc)
            return rc;
        out->warmup_runs++;
    } while (now_seconds() - start < s->warmup_s && out->warmup_runs < 1000);
    return KG_OK;
}

static int sample_once(kg_prepared *p, const kg_measure_settings *s, kg_sample_set *out,
                       kg_error *err)
{
    const kg_backend *b = kg_prepared_backend(p);
    kg_device *dev = kg_prepared_device(p);
    int rc;
    if (!s->hot && (rc = b->flush_cache(dev, err)))
        return rc;
    uint32_t clock_mhz = 0;
    int throttled = 0, clock_known = 0;
    read_clocks(b, dev, &clock_mhz, &throttled, &clock_known);
    double elapsed = 0, h0 = now_seconds();
    if ((rc = b->timer_start(dev, err)))
        return rc;
    if ((rc = kg_prepared_enqueue(p, err))) {
        double ignored;
        b->timer_stop(dev, &ignored, NULL);
        return rc;
    }
    if ((rc = b->timer_stop(dev, &elapsed, err)))
        return rc;
    double host = now_seconds() - h0;
    read_clocks(b, dev, &clock_mhz, &throttled, &clock_known);
    if (reserve(out) != KG_OK)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory storing samples");
    out->device_s[out->count] = elapsed;
    out->host_s[out->count] = host;
    out->clock_mhz[out->count] = clock_known ? clock_mhz : 0;
    out->throttled_flags[out->count] = (unsigned char)throttled;
    out->throttled += throttled != 0;
    out->count++;
    return KG_OK;
}

int kg_measure(kg_prepared *const *sets, size_t n, const kg_measure_settings *s, kg_sample_set *out,
               kg_measure_outcome *outcome, kg_error *err)
{
    memset(outcome, 0, sizeof *outcome);
    outcome->stop_reason = "error";
    outcome->worst_rel_halfwidth = INFINITY;
    int rc;
    /* The first flush allocates and first-touches the flush buffer (on a
     * CPU device, up to a GiB of page faults): pay that before the clock
     * of the sampling budget starts, not inside the first sample round. */
    if (n > 0 && !s->hot) {
        const kg_backend *b = kg_prepared_backend(sets[0]);
        if ((rc = b->flush_cache(kg_prepared_device(sets[0]), err)))
            return rc;
    }
    for (size_t i = 0; i < n; i++)
        if ((rc = warm_up(sets[i], s, &out[i], err)))
            return rc;
    double start = now_seconds();
    for (size_t round = 0;; round++) {
        /* Alternate the order every round so neither set always runs right
         * after the other's cache flush or in the same thermal phase. */
        for (size_t k = 0; k < n; k++) {
            size_t i = round % 2 ? n - 1 - k : k;
            if ((rc = sample_once(sets[i], s, &out[i], err)))
                return rc;
        }
        double elapsed = now_seconds() - start;
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
            outcome->stop_reason = "converged";
            return KG_OK;
        }
        if (samples >= s->max_samples) {
            outcome->stop_reason = "max_samples";
            return KG_OK;
        }
        if (elapsed >= s->max_time_s && samples >= 1) {
            outcome->stop_reason = "max_time";
            return KG_OK;
        }
    }
}
