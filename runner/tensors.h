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

/* Refills every input tensor from a new seed (the re-check after timing).
 * Tensors the workload fills itself (index tensors) depend on the shape
 * only and come out the same. */
void kg_tensors_fill_inputs(const kg_workload *w, const kg_shape *shape, kg_host_tensor *tensors,
                            uint64_t seed);

/* Like kg_tensors_fill_inputs, but every normally distributed input is
 * drawn from a heavy-tailed distribution instead (Student's t with 2
 * degrees of freedom, same centre and scale): large magnitudes expose
 * precision downgrades and shortcuts that only hold near the mean. Uniform
 * inputs (bounded by meaning, e.g. weights in [0.5, 1.5]) keep theirs. */
void kg_tensors_fill_heavy_tailed(const kg_workload *w, const kg_shape *shape,
                                  kg_host_tensor *tensors, uint64_t seed);

/* Frees what kg_tensors_create allocated; NULL is allowed. */
void kg_tensors_free(kg_host_tensor *tensors, size_t count);

/* Bytes of a host tensor's data. */
size_t kg_tensor_bytes(const kg_host_tensor *t);

/* Evaluates an expression for a shape, with the error naming `what`:
 * "softmax: shape rows=7,cols=33: launches[0].grid[0]: division by zero". */
int kg_eval_for_shape(const kg_expr *e, const kg_shape *shape, const char *workload,
                      const char *what, int64_t *value, kg_error *err);

#endif
