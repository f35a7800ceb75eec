/*
 * A library tier (kernels.json language "library"): whether the device at
 * hand can grade it, and what the results say it called -- the vendor
 * library as loaded (name, version, the shared object's path and hash)
 * and the call resolved for a shape. The call itself is enqueued by
 * evaluate.c through kg_dev_blas_gemm.
 */
#ifndef KG_LIBRARY_TIER_H
#define KG_LIBRARY_TIER_H

#include "device.h"
#include "kernelset.h"
#include "reference.h"

#include <cjson/cJSON.h>

/* KG_ERR_UNAVAILABLE, "library unavailable (why)", when `e` is a library
 * tier that `backend` cannot call (no library support, library not
 * installed, no GEMM of its type); KG_OK otherwise, also for every other
 * language. */
int kg_library_unavailable(const kg_kernel_entry *e, const kg_backend *backend, kg_error *err);

/* The library `backend` calls for `e`, for the results file: a new object
 * with KG_KEY_LIBRARY_NAME, _VERSION, _PATH, _SHA256, _BYTES, _OP, _DTYPE
 * and _B_LAYOUT, and the file's hash in sha256 (64 hex digits and a NUL).
 * The sizes of a shape are added by kg_library_add_sizes. */
int kg_library_describe(const kg_kernel_entry *e, const kg_backend *backend, cJSON **out,
                        char sha256[65], kg_error *err);

/* The call's m, n and k for `shape`, checked against `tensors`, the
 * shape's host tensors (A holds m x k elements, B k x n, C m x n), into
 * *gemm (buffers left to the caller). */
int kg_library_resolve(const kg_workload *w, const kg_kernel_entry *e, const kg_shape *shape,
                       const kg_host_tensor *tensors, kg_blas_gemm *gemm, kg_error *err);

#endif
