/*
 * The inputs a shape is graded on, kept in step by the parent (which checks
 * outputs against the CPU reference) and by each worker (which uploads them
 * and runs its set):
 *
 * - several input sets, drawn independently, among which the runs rotate
 *   (as GPU MODE's leaderboard does), so a timed run never meets the inputs
 *   of the run before it;
 * - before every run, a few elements of the set it uses changed to fresh
 *   values from a per-run seed (a perturbation), so a kernel never sees the
 *   same inputs twice and cannot serve a timed run from a cache keyed on
 *   its inputs, nor from answers computed ahead for the public seed;
 * - the recheck variants: a nudge (a few elements changed, index tensors
 *   included) and the draws of tensors.h (fresh, heavy-tailed, stress).
 *
 * Every change is a deterministic function of a seed, so the parent and
 * the worker, applying the same seeds in the same order, hold the same
 * inputs without sending them.
 */
#ifndef KG_INPUTS_H
#define KG_INPUTS_H

#include "tensors.h"
#include "workload.h"

#define KG_MAX_INPUT_SETS 4
#define KG_MAX_PERTURBED  4

typedef struct kg_input_sets {
    size_t count;
    kg_host_tensor *sets[KG_MAX_INPUT_SETS]; /* each w->tensor_count tensors, output data NULL */
    uint64_t seeds[KG_MAX_INPUT_SETS];
} kg_input_sets;

/* Draws `count` sets (1 to KG_MAX_INPUT_SETS), set k from seeds[k] with
 * KG_DRAW_BASE. Free with kg_input_sets_free. KG_ERR_MEMORY when the host
 * cannot hold them. */
int kg_input_sets_create(const kg_workload *w, const kg_shape *shape, const uint64_t *seeds,
                         size_t count, kg_input_sets *out, kg_error *err);
void kg_input_sets_free(const kg_workload *w, kg_input_sets *s);

/* Bytes of one set's inputs (the output excluded). */
size_t kg_input_set_bytes(const kg_workload *w, const kg_host_tensor *set);

/* How many input sets fit: KG_MAX_INPUT_SETS, fewer when `processes`
 * copies of them would take more than a quarter of the host's memory or
 * `device_copies` copies more than a quarter of `device_bytes` (0:
 * unknown); at least 1. */
size_t kg_input_set_count(size_t set_bytes, size_t processes, size_t device_copies,
                          uint64_t device_bytes);

/* The elements a perturbation changed: tensor index and element index. */
typedef struct kg_perturbation {
    size_t count;
    size_t tensor[KG_MAX_PERTURBED];
    size_t element[KG_MAX_PERTURBED];
} kg_perturbation;

/* Changes 1 to KG_MAX_PERTURBED elements of the set's drawn (not
 * workload-filled) inputs to fresh values from their distributions,
 * chosen by `seed` (0: no change). */
void kg_inputs_perturb(const kg_workload *w, kg_host_tensor *set, uint64_t seed,
                       kg_perturbation *out);

/* The nudge recheck: a perturbation, plus a few elements of the index
 * tensors changed by the workload's reference (reference.h, nudge), from
 * `seed`. */
int kg_inputs_nudge(const kg_workload *w, const kg_shape *shape, kg_host_tensor *set, uint64_t seed,
                    kg_error *err);

#endif
