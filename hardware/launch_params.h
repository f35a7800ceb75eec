/*
 * Kernel arguments as the CUDA driver API and HIP's module API take them:
 * an array holding the address of each argument's value. Shared by the
 * CUDA and HIP backends.
 */
#ifndef KG_LAUNCH_PARAMS_H
#define KG_LAUNCH_PARAMS_H

#include "backend.h"

/* Fills params[0 .. l->arg_count) (at most `max`). A buffer argument's slot
 * is the address of its device pointer, which `buffer_slot` returns (each
 * backend defines kg_buffer). Scalars point into `l` itself, which must
 * outlive the launch call. KG_ERR_INVALID names `entry` and the argument
 * for a NULL buffer, an unknown kind or too many arguments. */
int kg_launch_params(const kg_launch *l, const char *entry, void *(*buffer_slot)(kg_buffer *),
                     void **params, size_t max, kg_error *err);

#endif
