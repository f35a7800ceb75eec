/*
 * Autotune sweeps: for a kernel entry with a "sweep" (define -> values),
 * every combination is built and timed on the shape at hand, and the
 * fastest becomes the configuration that is checked and measured. The
 * sweep itself is recorded (each configuration's median or why it failed),
 * so a `reference-tuned` result says which block sizes it used and what the
 * others gave.
 */
#ifndef KG_SWEEP_H
#define KG_SWEEP_H

#include "evaluate.h"
#include "measure.h"

#include <cjson/cJSON.h>

/* Per configuration: `samples` timed runs (cold unless settings->hot), at
 * most `max_time_s` of sampling. */
typedef struct kg_sweep_settings {
    size_t samples;
    double max_time_s;
    int hot;
} kg_sweep_settings;

/* Runs the sweep of `e` for `shape`, each configuration run as every run
 * is (kg_run_once) with the inputs, output fill and scrubber of `around`
 * (its `prepared` is ignored). *chosen receives the winning define
 * values (empty when no configuration could be built and run); *record a
 * new cJSON object {"samples_per_config", "tried": [{"config", "median_s"
 * | "status", "error"}], "chosen"} owned by the caller. The winner is the
 * fastest configuration, not yet checked: the caller checks it like any
 * other kernel. Returns an error only for out-of-memory. */
int kg_sweep_run(kg_build_cache *cache, const kg_workload *w, const kg_kernel_entry *e,
                 const kg_shape *shape, const kg_run_context *around,
                 const kg_sweep_settings *settings, kg_symtab *chosen, cJSON **record,
                 kg_error *err);

#endif
