/*
 * Compiling kernels for AMD GPUs with hiprtc, without a GPU: the HIP
 * backend uses it with the device's own target (gcnArchName), and the test
 * suite compiles every kernel of the repository for gfx908, gfx90a and
 * gfx1030 on machines with only the ROCm compiler libraries.
 */
#ifndef KG_HIPRTC_COMPILE_H
#define KG_HIPRTC_COMPILE_H

#include "device.h"

#include <stddef.h>

/* The GPU prelude of the portable dialect (hardware/cuda/prelude.cuh,
 * shared by CUDA and HIP), embedded at build time. */
extern const char kg_cuda_prelude[];

/* Compiles a `portable` (.kc, the prelude prepended) or `hip` (.hip) build
 * request to a code object for `arch` ("gfx90a", or with features
 * "gfx90a:sramecc+:xnack-"). On success *image (malloc'd, *image_size
 * bytes) is the code object, for hipModuleLoadData. *log (malloc'd,
 * possibly "") receives hiprtc's log on success and failure alike.
 * Errors: KG_ERR_UNAVAILABLE when hiprtc cannot be loaded;
 * KG_ERR_UNSUPPORTED for a target the installed compiler does not know
 * (checked with comgr first, because some hiprtc versions abort the whole
 * process on one) or another language; KG_ERR_BUILD with the log's first
 * error in the message; KG_ERR_INVALID for an unsafe define. */
int kg_hiprtc_compile(const kg_build_request *req, const char *arch, void **image,
                      size_t *image_size, char **log, kg_error *err);

/* Whether the installed compiler knows `arch` (the part before any ':'):
 * 1 yes, 0 no, -1 unknown (comgr not found). */
int kg_hiprtc_target_known(const char *arch);

/* The wavefront size kernels for `arch` are compiled with: 64 on GCN and
 * CDNA (gfx9), 32 on RDNA (gfx10 and later, hiprtc's default). */
int kg_hip_wavefront_size(const char *arch);

/* "hiprtc from libamdhip64.so.5 (reports version 9.0)" once loaded; "" before. */
const char *kg_hiprtc_description(void);

#endif
