/*
 * CLBlast, the OpenCL backend's BLAS library for `library` tiers, loaded at
 * run time (dlopen, never linked: dynlink.h), so that kgrade starts and
 * grades everything else on a machine without it. Its types and prototypes
 * come from its own header (clblast_c.h, found by opencl.cmake).
 *
 * Only the call is here; the OpenCL backend brackets it with its timing
 * events (opencl_backend.c).
 */
#ifndef KG_CLBLAST_LOADER_H
#define KG_CLBLAST_LOADER_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

#include "device.h"

/* Loads CLBlast on first use (libclblast.so.1, then libclblast.so;
 * KGRADE_CLBLAST names another file) and describes it. KG_ERR_UNSUPPORTED
 * naming the files tried when none loads, or the missing symbol; also for
 * bf16, which CLBlast has no GEMM for. Later calls replay the outcome. */
int kg_clblast_library(kg_blas_dtype dtype, kg_blas_library *out, kg_error *err);

/* Enqueues the row-major GEMM `g` on `queue` with the buffers given (the
 * views of g->a, g->b, g->c); *last (may be NULL) receives the event of
 * the last kernel CLBlast enqueued for it, which is not the first one. */
int kg_clblast_gemm(cl_command_queue queue, const kg_blas_gemm *g, cl_mem a, cl_mem b, cl_mem c,
                    cl_event *last, kg_error *err);

/* Drops the programs CLBlast keeps per context, before a context is
 * released (they hold a reference to it). Nothing when it is not loaded. */
void kg_clblast_clear_cache(void);

#endif
