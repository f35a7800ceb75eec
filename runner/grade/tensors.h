/*
 * Host copies of a workload's tensors for one shape: dimensions evaluated
 * from the shape's symbols, inputs drawn from their distributions with a
 * seed, so that one seed reproduces every input of a run.
 */
#ifndef KG_TENSORS_H
#define KG_TENSORS_H

#include "workload.h"

#include <stdint.h>

/* Allocates every tensor of `w` for `shape` (kg_host_tensor array, in the
 * workload's order, names borrowed from w) and fills the inputs from `seed`.
 * Output tensors are zero-filled. On success *out has w->tensor_count
 * entries; free with kg_tensors_free. Fails with KG_ERR_INVALID naming the
 * tensor when a dimension evaluates to a negative number or the size
 * overflows, KG_ERR_MEMORY when the host cannot hold it. */
int kg_tensors_create(const kg_workload *w, const kg_shape *shape, uint64_t seed,
                      kg_host_tensor **out, kg_error *err);

/* The same, the output tensor's data left NULL unless `with_output` (the
 * extra input sets of a shape need no output of their own). */
int kg_tensors_create_set(const kg_workload *w, const kg_shape *shape, uint64_t seed,
                          int with_output, kg_host_tensor **out, kg_error *err);

/* How kg_tensors_draw draws the inputs. */
typedef enum kg_draw {
    /* Every input from its distribution; index tensors in the shape's own
     * layout (what is timed). */
    KG_DRAW_BASE = 0,
    /* The same, and index tensors in another valid layout drawn from the
     * seed (reference.h, fill): the fresh-inputs recheck. */
    KG_DRAW_FRESH,
    /* Normally distributed inputs from Student's t with 2 degrees of
     * freedom instead (same centre and scale): large magnitudes expose
     * precision downgrades and shortcuts that only hold near the mean.
     * Uniform inputs (bounded by meaning, e.g. weights in [0.5, 1.5]) keep
     * theirs. */
    KG_DRAW_HEAVY_TAILED,
    /* The workload's stress input number `stress_case` (workload.json
     * "stress"); tensors it does not name keep their usual init. */
    KG_DRAW_STRESS,
} kg_draw;

/* Draws every input tensor of `tensors` anew from `seed`, as `kind` says. */
void kg_tensors_draw(const kg_workload *w, const kg_shape *shape, kg_host_tensor *tensors,
                     kg_draw kind, size_t stress_case, uint64_t seed);

/* kg_tensors_draw(..., KG_DRAW_BASE, 0, seed). */
void kg_tensors_fill_inputs(const kg_workload *w, const kg_shape *shape, kg_host_tensor *tensors,
                            uint64_t seed);

/* Frees what kg_tensors_create allocated; NULL is allowed. */
void kg_tensors_free(kg_host_tensor *tensors, size_t count);

/* Bytes of a host tensor's data. */
size_t kg_tensor_bytes(const kg_host_tensor *t);

#endif
