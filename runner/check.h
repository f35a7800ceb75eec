/*
 * Correctness: a device output against the double-precision CPU reference.
 * An element passes when |got - want| <= atol + rtol * |want|; NaN and
 * +-Inf must appear exactly where the reference has them.
 */
#ifndef KG_CHECK_H
#define KG_CHECK_H

#include "workload.h"

#include <stddef.h>
#include <stdint.h>

/* Outputs up to this many elements are checked in full; larger ones on a
 * seeded random sample of reference units. */
#define KG_CHECK_FULL_LIMIT   ((size_t)1 << 20)
#define KG_CHECK_SAMPLE_UNITS 256

/* What an output is filled with before a checked run. The first run uses
 * a NaN with a payload no arithmetic produces, so elements the kernel never
 * wrote are told apart from computed NaNs; the repeat run uses a large
 * finite value instead, so a kernel that reads its output before writing it
 * gives a different answer the second time. Integer outputs: a byte canary. */
typedef enum kg_poison {
    KG_POISON_NAN = 0,
    KG_POISON_FINITE = 1,
} kg_poison;

/* Writes the element pattern of `poison` for `dtype` to out (4 bytes of
 * room) and returns its size in bytes (1, 2 or 4). */
size_t kg_poison_pattern(kg_dtype dtype, kg_poison poison, unsigned char out[4]);

typedef struct kg_check_result {
    int passed;
    size_t checked;     /* elements compared */
    size_t mismatches;  /* elements outside tolerance or with wrong NaN/Inf */
    int sampled;        /* 1 when only a sample of units was checked */
    double max_abs_err; /* over finite pairs */
    double max_rel_err;
    size_t unwritten; /* mismatches still holding the NaN poison: never written */
    /* Whether an all-zeros output, or some constant output, would have passed
     * on the checked elements: a degenerate reference, under which a kernel
     * that computes nothing passes. */
    int zeros_would_pass, constant_would_pass;
    /* The first mismatch, for the report. */
    size_t first_bad_index;
    double first_bad_got, first_bad_want;
    char message[256]; /* "", or why the check could not run */
} kg_check_result;

/* Compares `got` (the output tensor as read back from the device, in its
 * dtype) with the reference computed from `tensors` for `shape`. `seed`
 * picks the sampled units. Returns KG_OK whether or not the output passed
 * (see result->passed); an error only when the reference itself fails. */
int kg_check_output(const kg_workload *w, const kg_shape *shape, const kg_host_tensor *tensors,
                    const void *got, uint64_t seed, kg_check_result *result, kg_error *err);

/* Compares two outputs of the same kernel on the same inputs (the repeat
 * run): elements agree when both are NaN, equal infinities, or within the
 * workload's tolerance of each other. Returns the number that disagree and
 * the first one's index in *first. */
size_t kg_check_agreement(const kg_workload *w, const void *a, const void *b, size_t count,
                          size_t *first);

/* Rejects a workload whose reference output is degenerate on its smoke
 * shapes (zeros, or a constant, would pass its tolerance), so that a kernel
 * that computes nothing can never pass. `seed` draws the inputs. */
int kg_check_reference_not_degenerate(const kg_workload *w, uint64_t seed, kg_error *err);

#endif
