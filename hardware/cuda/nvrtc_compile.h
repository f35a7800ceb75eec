/*
 * Compiling kernels for NVIDIA GPUs with NVRTC, without a GPU or a driver:
 * the CUDA backend uses it with the device's own architecture, and the test
 * suite uses it to compile every kernel in the repository for sm_80 and
 * sm_90 on machines that have only the toolkit.
 */
#ifndef KG_NVRTC_COMPILE_H
#define KG_NVRTC_COMPILE_H

#include "device.h"

#include <stddef.h>

/* The CUDA prelude of the portable dialect (prelude.cuh), embedded at build
 * time. */
extern const char kg_cuda_prelude[];

/* Compiles a `portable` (.kc, the prelude prepended) or `cuda` (.cu) build
 * request to a cubin for `arch` ("sm_90"). On success *image (malloc'd,
 * *image_size bytes) is the cubin. *log (malloc'd, possibly "") receives
 * NVRTC's log on success and failure alike; the caller frees both.
 * Errors: KG_ERR_UNAVAILABLE when NVRTC cannot be loaded, KG_ERR_BUILD with
 * the log's first error in the message, KG_ERR_UNSUPPORTED for another
 * language, KG_ERR_INVALID for an unsafe define. Thread-compatible: NVRTC
 * is loaded once, on first use. */
int kg_nvrtc_compile(const kg_build_request *req, const char *arch, void **image,
                     size_t *image_size, char **log, kg_error *err);

/* "NVRTC 13.0 (libnvrtc.so.13)" once loaded; "" before. */
const char *kg_nvrtc_description(void);

#endif
