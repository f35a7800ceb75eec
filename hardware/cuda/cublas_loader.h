/*
 * cuBLAS, the CUDA backend's BLAS library for `library` tiers, loaded at
 * run time (dlopen, never linked: dynlink.h) from the toolkit's or the
 * system's libcublas, so that kgrade starts and grades everything else on
 * a machine without it. Types and prototypes from the toolkit's
 * cublas_api.h (the _v2 entry points, named as exported).
 */
#ifndef KG_CUBLAS_LOADER_H
#define KG_CUBLAS_LOADER_H

#include "device.h"
#include "dynlink.h"

#include <cublas_api.h>
#include <stdint.h>

/* X(member, symbol, fallback symbol or NULL). All required. */
#define KG_CUBLAS_FUNCTIONS(X)                                                                     \
    X(cublasCreate_v2, "cublasCreate_v2", NULL)                                                    \
    X(cublasDestroy_v2, "cublasDestroy_v2", NULL)                                                  \
    X(cublasSetStream_v2, "cublasSetStream_v2", NULL)                                              \
    X(cublasSetMathMode, "cublasSetMathMode", NULL)                                                \
    X(cublasSgemm_v2, "cublasSgemm_v2", NULL)                                                      \
    X(cublasGemmEx, "cublasGemmEx", NULL)                                                          \
    X(cublasGetProperty, "cublasGetProperty", NULL)                                                \
    X(cublasGetStatusString, "cublasGetStatusString", NULL)

typedef struct kg_cublas {
    void *handle;
    KG_CUBLAS_FUNCTIONS(KG_DYNLINK_MEMBER)
} kg_cublas;

/* Fills `c` from the first of libcublas.so.13, .12, libcublas.so that
 * loads (KGRADE_CUBLAS names another file), then the same names in the
 * toolkit library folder CMake found. KG_ERR_UNSUPPORTED naming every file
 * tried, or the library and its missing symbol. Needs no GPU. */
int kg_cublas_load(kg_cublas *c, kg_error *err);

/* The process's cuBLAS, loaded on first use (the outcome replayed), and
 * described: name, version from cublasGetProperty, the file's real path. */
int kg_cublas_library(kg_blas_dtype dtype, kg_blas_library *out, kg_error *err);

/* A cuBLAS handle for the current context, in its default math mode
 * (no TF32 for f32); destroyed with the context still current. */
int kg_cublas_handle_create(void **handle, kg_error *err);
void kg_cublas_handle_destroy(void *handle);

/* Enqueues the row-major GEMM `g` on `stream` with the buffers' device
 * addresses: cuBLAS is column-major, so it computes C^T = B^T A^T. */
int kg_cublas_gemm(void *handle, void *stream, const kg_blas_gemm *g, uint64_t a, uint64_t b,
                   uint64_t c, kg_error *err);

#endif
