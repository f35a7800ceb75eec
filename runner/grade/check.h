/*
 * Correctness: what a kernel wrote against the double-precision CPU
 * reference, output by output (a workload may have several, and inouts:
 * workload.h). An element passes when |got - want| <= atol + rtol * |want|
 * with its output's tolerance; NaN and +-Inf must appear exactly where the
 * reference has them.
 *
 * A run's outputs travel as one block of bytes: each output tensor in its
 * dtype, in the workload's order, one after another (kg_output_layout).
 */
#ifndef KG_CHECK_H
#define KG_CHECK_H

#include "output_fill.h"
#include "workload.h"

#include <stddef.h>
#include <stdint.h>

/* Outputs up to this many elements are checked in full; larger ones on a
 * seeded random sample of reference units. */
#define KG_CHECK_FULL_LIMIT   ((size_t)1 << 20)
#define KG_CHECK_SAMPLE_UNITS 256

/* Where each output sits in a run's block of output bytes. */
typedef struct kg_output_layout {
    size_t count;                  /* = the workload's output_count */
    size_t tensor[KG_MAX_OUTPUTS]; /* index among the workload's tensors */
    kg_dtype dtype[KG_MAX_OUTPUTS];
    size_t elements[KG_MAX_OUTPUTS];
    size_t offset[KG_MAX_OUTPUTS]; /* bytes from the block's start */
    size_t bytes;                  /* the whole block */
} kg_output_layout;

/* The layout for a shape's tensors (host tensors of any input set: only
 * their sizes are read). */
void kg_output_layout_of(const kg_workload *w, const kg_host_tensor *tensors,
                         kg_output_layout *out);

/* The fill of every output before one run: fills[k] for output k; an
 * inout's has pool_count 0 (it starts from its input values, not a fill). */
typedef struct kg_output_fills {
    size_t count;
    kg_fill_pattern fill[KG_MAX_OUTPUTS];
} kg_output_fills;

typedef struct kg_check_result {
    int passed;
    size_t checked;     /* elements compared */
    size_t mismatches;  /* elements outside tolerance or with wrong NaN/Inf */
    int sampled;        /* 1 when only a sample of units was checked */
    double max_abs_err; /* over finite pairs */
    double max_rel_err;
    size_t unwritten; /* mismatches still holding the run's fill: never written */
    /* Whether an all-zeros output, or some constant output, would have passed
     * on the checked elements: a degenerate reference, under which a kernel
     * that computes nothing passes. */
    int zeros_would_pass, constant_would_pass;
    /* The first mismatch, for the report: its output's name (when the
     * workload has several) and its index within that output. */
    char first_bad_output[64];
    size_t first_bad_index;
    double first_bad_got, first_bad_want;
    char message[384]; /* "", or why the check could not run */
} kg_check_result;

/* The reference's answer on the units to check. Outputs up to
 * KG_CHECK_FULL_LIMIT elements are checked in full; larger ones on
 * KG_CHECK_SAMPLE_UNITS units drawn from `seed`, which the grader keeps
 * secret until the evaluation ends (a kernel cannot know which rows will
 * be looked at). `max_units` > 0 caps the units (a sample of values). */
typedef struct kg_answer_part {
    size_t unit_len, unit_count;
    size_t *units; /* the units computed */
    double *want;  /* unit_count * unit_len values */
    int sampled;   /* 1 when not every unit was computed */
} kg_answer_part;

/* One part per output; each output is sampled on its own (its units
 * drawn from the same seed). */
typedef struct kg_answer {
    kg_output_layout layout;
    kg_answer_part part[KG_MAX_OUTPUTS];
    int sampled; /* any part sampled */
} kg_answer;

int kg_answer_compute(const kg_workload *w, const kg_shape *shape, const kg_host_tensor *tensors,
                      uint64_t seed, size_t max_units, kg_answer *out, kg_error *err);
void kg_answer_free(kg_answer *a);

/* Compares `got` (the outputs as read back from the device: a block laid
 * out as a->layout) with an answer. `fills` (may be NULL) is what the
 * outputs held before the run: wrong elements still holding it are counted
 * as never written. */
void kg_check_answer(const kg_workload *w, const kg_answer *a, const void *got,
                     const kg_output_fills *fills, kg_check_result *result);

/* kg_answer_compute then kg_check_answer, without a fill (`got` laid out
 * as kg_output_layout_of(w, tensors) says). Returns KG_OK
 * whether or not the output passed (see result->passed); an error only
 * when the reference itself fails. */
int kg_check_output(const kg_workload *w, const kg_shape *shape, const kg_host_tensor *tensors,
                    const void *got, uint64_t seed, kg_check_result *result, kg_error *err);

/* Where a scan of two runs' outputs found its first element. */
typedef struct kg_output_at {
    size_t output; /* 0 .. layout count - 1 */
    size_t index;  /* within that output */
} kg_output_at;

/* Elements that two runs on the same inputs both left holding their own
 * fill, where the fills differ: never written by the kernel (a written
 * element holds the kernel's value in both runs, which cannot equal two
 * different fills). Scans every filled output (not inouts); returns the
 * count and the first in *first. */
size_t kg_check_never_written(const kg_output_layout *layout, const void *a,
                              const kg_output_fills *fill_a, const void *b,
                              const kg_output_fills *fill_b, kg_output_at *first);

/* Compares two runs' outputs of the same kernel on the same inputs (the
 * repeat run): elements agree when both are NaN, equal infinities, or
 * within their output's tolerance of each other; never-written elements
 * (above) are left to their own count. Returns the number that disagree
 * and the first in *first. */
size_t kg_check_agreement(const kg_workload *w, const kg_output_layout *layout, const void *a,
                          const kg_output_fills *fill_a, const void *b,
                          const kg_output_fills *fill_b, kg_output_at *first);

/* Rejects a workload whose reference output is degenerate on its smoke
 * shapes (zeros, or a constant, would pass its tolerance), so that a kernel
 * that computes nothing can never pass. `seed` draws the inputs. */
int kg_check_reference_not_degenerate(const kg_workload *w, uint64_t seed, kg_error *err);

#endif
