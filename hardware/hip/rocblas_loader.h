/*
 * rocBLAS, the HIP backend's BLAS library for `library` tiers, loaded at
 * run time (dlopen, never linked: dynlink.h), so that kgrade starts and
 * grades everything else on a machine without it (Debian packages no
 * rocBLAS; a ROCm install has it in /opt/rocm/lib).
 *
 * Building needs no rocBLAS header: the few types, values and prototypes
 * kgrade uses are declared below, as rocBLAS's public C API has them
 * (ROCm/rocBLAS, library/include/internal/rocblas-types.h for the types
 * and enum values, rocblas-auxiliary.h for the handle and stream calls,
 * rocblas-functions.h for the GEMMs, the version and the status string;
 * the same in the rocBLAS API reference of ROCm 5 to 7). The enum values
 * are ABI: numbers a caller passes, fixed across releases (the operation
 * values are CBLAS's). Nothing here may be included together with
 * rocblas.h, which declares the same names.
 */
#ifndef KG_ROCBLAS_LOADER_H
#define KG_ROCBLAS_LOADER_H

#include "device.h"
#include "dynlink.h"

#include <hip/hip_runtime_api.h> /* hipStream_t */
#include <stddef.h>
#include <stdint.h>

/* ---- rocBLAS's API, as far as kgrade uses it ----------------------------- */

/* Opaque (rocBLAS: struct _rocblas_handle *). */
typedef struct kg_rocblas_opaque *rocblas_handle;

/* int32_t: the LP64 API, whose entry points (rocblas_sgemm, not
 * rocblas_sgemm_64) take 32-bit sizes (rocblas-types.h). */
typedef int32_t rocblas_int;

/* rocblas-types.h, enum rocblas_status_. */
typedef enum {
    rocblas_status_success = 0,
    rocblas_status_invalid_handle = 1,
    rocblas_status_not_implemented = 2,
    rocblas_status_invalid_pointer = 3,
    rocblas_status_invalid_size = 4,
    rocblas_status_memory_error = 5,
    rocblas_status_internal_error = 6,
} rocblas_status;

/* rocblas-types.h, enum rocblas_operation_ (CBLAS's numbering). */
typedef enum {
    rocblas_operation_none = 111,
    rocblas_operation_transpose = 112,
} rocblas_operation;

/* rocblas-types.h, enum rocblas_datatype_. */
typedef enum {
    rocblas_datatype_f16_r = 150,
    rocblas_datatype_f32_r = 151,
    rocblas_datatype_f64_r = 152,
    rocblas_datatype_bf16_r = 168,
} rocblas_datatype;

/* rocblas-types.h, enum rocblas_gemm_algo_; rocblas_gemm_flags_none (0)
 * is the `flags` of a plain gemm_ex. */
typedef enum {
    rocblas_gemm_algo_standard = 0,
} rocblas_gemm_algo;
#define KG_ROCBLAS_GEMM_FLAGS_NONE 0u

/* rocblas-auxiliary.h. */
rocblas_status rocblas_create_handle(rocblas_handle *handle);
rocblas_status rocblas_destroy_handle(rocblas_handle handle);
rocblas_status rocblas_set_stream(rocblas_handle handle, hipStream_t stream);

/* rocblas-functions.h: column-major C = alpha op(A) op(B) + beta C, op(A)
 * m x k, op(B) k x n; scalars on the host (the default pointer mode). */
rocblas_status rocblas_sgemm(rocblas_handle handle, rocblas_operation trans_a,
                             rocblas_operation trans_b, rocblas_int m, rocblas_int n, rocblas_int k,
                             const float *alpha, const float *a, rocblas_int lda, const float *b,
                             rocblas_int ldb, const float *beta, float *c, rocblas_int ldc);

/* rocblas-functions.h: D = alpha op(A) op(B) + beta C with each matrix's
 * type, the scalars of compute_type; C and D may be one matrix when their
 * types and leading dimensions are the same. solution_index 0 and flags 0
 * for the library's own choice. */
rocblas_status rocblas_gemm_ex(rocblas_handle handle, rocblas_operation trans_a,
                               rocblas_operation trans_b, rocblas_int m, rocblas_int n,
                               rocblas_int k, const void *alpha, const void *a,
                               rocblas_datatype a_type, rocblas_int lda, const void *b,
                               rocblas_datatype b_type, rocblas_int ldb, const void *beta,
                               const void *c, rocblas_datatype c_type, rocblas_int ldc, void *d,
                               rocblas_datatype d_type, rocblas_int ldd,
                               rocblas_datatype compute_type, rocblas_gemm_algo algo,
                               int32_t solution_index, uint32_t flags);

/* rocblas-functions.h: the version ("4.2.4.<commit>"), the size of the
 * buffer it needs (its NUL included), and a status's name. */
rocblas_status rocblas_get_version_string_size(size_t *len);
rocblas_status rocblas_get_version_string(char *buf, size_t len);
const char *rocblas_status_to_string(rocblas_status status);

/* ---- kgrade's side ---------------------------------------------------------- */

/* X(member, symbol, fallback symbol or NULL). All required. */
#define KG_ROCBLAS_FUNCTIONS(X)                                                                    \
    X(rocblas_create_handle, "rocblas_create_handle", NULL)                                        \
    X(rocblas_destroy_handle, "rocblas_destroy_handle", NULL)                                      \
    X(rocblas_set_stream, "rocblas_set_stream", NULL)                                              \
    X(rocblas_sgemm, "rocblas_sgemm", NULL)                                                        \
    X(rocblas_gemm_ex, "rocblas_gemm_ex", NULL)                                                    \
    X(rocblas_get_version_string_size, "rocblas_get_version_string_size", NULL)                    \
    X(rocblas_get_version_string, "rocblas_get_version_string", NULL)                              \
    X(rocblas_status_to_string, "rocblas_status_to_string", NULL)

typedef struct kg_rocblas {
    void *handle;
    KG_ROCBLAS_FUNCTIONS(KG_DYNLINK_MEMBER)
} kg_rocblas;

/* Fills `r` from the first of librocblas.so.5 (ROCm 7), .so.4 (ROCm 6),
 * .so.3 (ROCm 5.6, 5.7), .so.0 (older), librocblas.so that loads, then
 * the same names in /opt/rocm/lib; KGRADE_ROCBLAS names another file,
 * tried alone.
 * KG_ERR_UNSUPPORTED naming every file tried, or the library and its
 * first missing symbol. Needs no GPU. */
int kg_rocblas_load(kg_rocblas *r, kg_error *err);

/* The process's rocBLAS, loaded on first use (the outcome replayed), and
 * described: name, version string, the file's real path. */
int kg_rocblas_library(kg_blas_dtype dtype, kg_blas_library *out, kg_error *err);

/* A rocBLAS handle for the current device (hipSetDevice'd); destroyed
 * with that device current. */
int kg_rocblas_handle_create(void **handle, kg_error *err);
void kg_rocblas_handle_destroy(void *handle);

/* The arguments of the column-major rocBLAS call that computes the
 * row-major GEMM `g`: C^T = op(B)^T A^T, so rocBLAS's first matrix ("A")
 * is g's B and its second ("B") is g's A, and C is n x m column-major. */
typedef struct kg_rocblas_args {
    int gemm_ex; /* 0: rocblas_sgemm (f32); 1: rocblas_gemm_ex */
    rocblas_operation trans_a, trans_b;
    rocblas_int m, n, k;
    rocblas_int lda, ldb, ldc; /* D is C: ldd = ldc, d_type = c_type */
    rocblas_datatype a_type, b_type, c_type, compute_type;
} kg_rocblas_args;

/* Fills *out for `g` (its buffers are not read). Pure: no library, no
 * device. KG_ERR_UNSUPPORTED for a size of 2^31 or more (rocblas_int),
 * KG_ERR_INVALID for an unknown dtype. */
int kg_rocblas_gemm_args(const kg_blas_gemm *g, kg_rocblas_args *out, kg_error *err);

/* Enqueues the row-major GEMM `g` on `stream` with the buffers' device
 * addresses, as kg_rocblas_gemm_args says; f16 and bf16 accumulate in
 * f32. */
int kg_rocblas_gemm(void *handle, void *stream, const kg_blas_gemm *g, uint64_t a, uint64_t b,
                    uint64_t c, kg_error *err);

#endif
