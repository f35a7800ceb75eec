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

typedef struct kg_check_result {
    int passed;
    size_t checked;     /* elements compared */
    size_t mismatches;  /* elements outside tolerance or with wrong NaN/Inf */
    int sampled;        /* 1 when only a sample of units was checked */
    double max_abs_err; /* over finite pairs */
    double max_rel_err;
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

#endif
