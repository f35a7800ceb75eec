/*
 * The speed-of-light check: no kernel can finish faster than moving its
 * bytes at the device's peak bandwidth or doing its FLOPs at peak compute.
 * A set measured faster than that did not do the work (or the timing is
 * broken): its result is an integrity failure, not a speedup.
 */
#ifndef KG_SOL_CHECK_H
#define KG_SOL_CHECK_H

#include "peaks.h"

#include <cjson/cJSON.h>

/* With datasheet peaks the bound is hard. Measured peaks (probe kernels)
 * can sit below what a kernel reaches, so a set is flagged only when it
 * beats the measured bound by more than this factor. */
#define KG_SOL_MEASURED_ALLOWANCE 2.0

/* Adds "speed_of_light_s" to a shape record (from its "flops", "bytes" and
 * "output_dtype") and marks every set whose median time is below the bound
 * (divided by the allowance for measured peaks): status
 * "integrity_failed", flag "faster_than_light", an error saying by how
 * much. Returns the number of sets flagged. */
int kg_sol_check(cJSON *shape_record, const kg_peaks *peaks);

#endif
