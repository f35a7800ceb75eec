/*
 * The CPU reference interface. Each workload's baselines/<workload>/reference.c
 * defines `const kg_reference kg_reference_<workload>`; CMake finds every
 * baselines/<workload>/reference.c and generates the registry, so adding a
 * workload is adding a folder.
 *
 * A reference computes each tensor the workload's kernels write (its
 * outputs and inouts, in workload.json's order) in double precision, one
 * "unit" at a time: a unit is a run of `unit_len` consecutive elements of
 * one output (a row, typically) that can be computed independently. An
 * inout's answer is its value after the kernel: the reference reads the
 * tensor as drawn (its value before) from `tensors`.
 * The checker computes every unit for small outputs and a seeded random
 * sample of units for large ones, so a reference never has to compute the
 * whole output of a `full` shape.
 */
#ifndef KG_REFERENCE_H
#define KG_REFERENCE_H

#include "dtype.h"
#include "error.h"
#include "expr.h"
#include "rng.h"

#include <stddef.h>
#include <stdint.h>

#define KG_MAX_RANK 8

/* A tensor in host memory, in its storage dtype, row-major. */
typedef struct kg_host_tensor {
    const char *name;
    kg_dtype dtype;
    int rank;
    int64_t dims[KG_MAX_RANK];
    size_t count; /* product of dims */
    void *data;   /* count * kg_dtype_size(dtype) bytes */
} kg_host_tensor;

/* Named float parameter of a workload (workload.json "params"). */
typedef struct kg_param_value {
    const char *name;
    double value;
} kg_param_value;

/* Everything a reference may read: all tensors (inputs filled, outputs
 * unspecified), the shape's symbols and the workload's parameters. */
typedef struct kg_ref_inputs {
    const kg_host_tensor *tensors;
    size_t tensor_count;
    const kg_symtab *symbols;
    const kg_param_value *params;
    size_t param_count;
} kg_ref_inputs;

/* Look-ups for reference implementations. They return NULL / NAN / 0 when
 * the name is unknown, which the loader rules out before any reference runs
 * (it checks the names a reference declares in `needs`). */
const kg_host_tensor *kg_ref_tensor(const kg_ref_inputs *in, const char *name);
double kg_ref_param(const kg_ref_inputs *in, const char *name);
int64_t kg_ref_symbol(const kg_ref_inputs *in, const char *name);
/* Element i of a tensor as a double. */
double kg_ref_at(const kg_host_tensor *t, size_t i);

/* The seed a `fill` draws a workload's index tensors from. Layout seed 0
 * (the timed layout): a hash of the shape's sizes `parts[0 .. count)`
 * started from `shape_basis`, so a shape always has the same layout; any
 * other layout seed (a recheck): that seed mixed with `recheck_salt`, so
 * it draws another layout of the same sizes. */
uint64_t kg_ref_layout_seed(uint64_t layout_seed, uint64_t recheck_salt, uint64_t shape_basis,
                            const int64_t *parts, size_t count);

/* For a nudge: the i32 tensor `name` among `tensors` (the workload's, in
 * the order of `in`), or NULL when it is missing, of another dtype, or
 * not `count` elements long. */
kg_host_tensor *kg_ref_index_tensor(const kg_ref_inputs *in, kg_host_tensor *tensors,
                                    const char *name, size_t count);

/* Shuffles the n values at v into a permutation drawn from rng
 * (Fisher-Yates): cache slots scattered, requests reordered. */
void kg_ref_shuffle_i32(int32_t *v, int64_t n, kg_rng *rng);

/* A derive_params for attention workloads: a parameter "sm_scale" of 0
 * becomes 1/sqrt(the symbol `head_dim`), as SGLang's callers pass
 * `1.0 / Lq**0.5`; every parameter must be >= 0 (KG_ERR_INVALID). */
int kg_ref_attention_params(const kg_symtab *t, const char *head_dim, kg_param_value *params,
                            size_t count, kg_error *err);

typedef struct kg_reference {
    const char *workload;
    /* Tensor, symbol and parameter names the reference reads, and the
     * outputs it writes ("y", or "out, residual": every tensor with role
     * output or inout, in the file's order), comma-separated, checked
     * against workload.json at load. */
    const char *needs;
    const char *output;
    /* How output number `output` (0 .. count-1, in the order above) splits
     * into independent units. */
    int (*layout)(const kg_ref_inputs *in, size_t output, size_t *unit_count, size_t *unit_len);
    /* Computes unit `unit` of output `output` into out[0 .. unit_len).
     * Returns 0, or -1 if the inputs are invalid for this workload. */
    int (*compute)(const kg_ref_inputs *in, size_t output, size_t unit, double *out);
    /* OPTIONAL, for workloads whose sizes follow a generated structure (a
     * ragged batch): sets every name of workload.json's "derived_symbols"
     * in `symbols` from the shape's own symbols, deterministically (the
     * structure is part of the shape, not of the run's seed). KG_OK, or
     * KG_ERR_INVALID with the reason in `err`. */
    int (*derive)(kg_symtab *symbols, kg_error *err);
    /* OPTIONAL, with derive: resolves a shape's parameters once its symbols
     * are complete (a default that depends on the shape, e.g. a softmax
     * scale of 0 meaning 1/sqrt(D)), and refuses combinations the workload
     * does not define. `params` holds `count` values, the shape's own where
     * it gives them. KG_OK, or KG_ERR_INVALID with the reason. */
    int (*derive_params)(const kg_symtab *symbols, kg_param_value *params, size_t count,
                         kg_error *err);
    /* OPTIONAL: fills input tensor `t`, whose init is {"dist": "workload"}
     * (index tensors), deterministically from the symbols and `layout_seed`.
     * Seed 0 gives the shape's own layout (what is timed); any other seed a
     * different valid layout of the same sizes, in which every derived
     * symbol a kernel may read (sizes, maxima) keeps its value: a recheck
     * redraws the index tensors, so that a kernel cannot assume the layout
     * it was timed on. Every index tensor of one seed is consistent with the
     * others. 0 or -1. */
    int (*fill)(const kg_symtab *symbols, uint64_t layout_seed, kg_host_tensor *t);
    /* OPTIONAL: changes a few elements of the index tensors among
     * `tensors` (all of the workload's, in its order) so that they stay
     * valid for the shape's derived symbols, from `seed`. For the recheck
     * that changes only a few elements of the inputs: a kernel caching its
     * result under a key sampled from its inputs misses it. 0 or -1. */
    int (*nudge)(const kg_ref_inputs *in, kg_host_tensor *tensors, uint64_t seed);
} kg_reference;

/* The reference compiled in for `workload`, or NULL. */
const kg_reference *kg_reference_find(const char *workload);

#endif
