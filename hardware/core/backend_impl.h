/*
 * What a backend implements: the private side of the device API
 * (device.h), in the manner of ggml-backend-impl.h. Included by the
 * backends, by device.c and by tests that bring their own backend; the
 * runner cannot include it (it is not on kg_hardware's public path).
 *
 * A backend is one `const kg_backend` table of function pointers. The
 * handles the runner holds (kg_device, kg_program, kg_kernel, kg_buffer)
 * are defined here and owned by device.c; each carries a `ctx` the backend
 * sets when it creates the object and reads in every later call.
 *
 * What device.c has already checked when a member is called, so that no
 * backend repeats it:
 * - handles are non-NULL and belong to the device passed with them;
 * - buffer ranges lie inside their buffer, and `bytes` is never 0 for
 *   transfers, fills and copies (those return early);
 * - fill patterns are 1, 2, 4, 8 or 16 bytes and divide offset and bytes;
 * - view offsets are multiples of KG_BUFFER_VIEW_ALIGN;
 * - launches have grid and block sizes of at least 1, args present when
 *   arg_count says so, known argument kinds, and non-NULL buffers of this
 *   device;
 * - timer_start is never called with a region open, timer_stop only with
 *   one open, and flush_cache never inside one;
 * - blas_gemm gets buffers of this device holding their matrices, m, n and
 *   k of at least 1, and a dtype blas_library accepted.
 * What is left to a backend are its own limits (CUDA's grid size, OpenCL's
 * parameter count) and the driver's answers.
 *
 * Every int-returning member returns KG_OK or a negative kg_status and fills
 * the kg_error (kg_error_set_vendor with the driver's code and name where a
 * driver refused). The interface grows only at the end, and `api_version`
 * says which members a table was written for; kg_backend_register refuses a
 * table from another version.
 */
#ifndef KG_BACKEND_IMPL_H
#define KG_BACKEND_IMPL_H

#include "device.h"
#include "str.h"

#define KG_BACKEND_API_VERSION 4

struct kg_device {
    const kg_backend *backend;
    void *ctx;
    kg_device_info info; /* as device_info reported it when opened */
    int timing;          /* a timed region is open */
    size_t region_launches;
};

struct kg_program {
    kg_device *dev;
    void *ctx;
    char *source_name; /* the file the source came from, for messages */
    /* The handle and each kernel hold one: a kernel outlives the handle's
     * kg_dev_program_free (a CUDA function dies with its module). */
    size_t refs;
};

struct kg_kernel {
    kg_device *dev;
    kg_program *program;
    void *ctx;
    char *entry;
    char *source_name;
};

struct kg_buffer {
    kg_device *dev;
    void *ctx;
    size_t bytes;
    kg_buffer *parent; /* a view's parent, else NULL */
    size_t offset;     /* a view's offset in its parent */
};

struct kg_backend {
    int api_version;  /* KG_BACKEND_API_VERSION this table was written for */
    const char *name; /* "opencl" */

    /* Load the vendor libraries and enumerate devices. Called once until a
     * shutdown (device.c replays the outcome). */
    int (*init)(kg_error *err);
    /* OPTIONAL: release what init acquired. */
    void (*shutdown)(void);
    int (*device_count)(void);
    /* `index` is in [0, device_count). */
    int (*device_info)(int index, kg_device_info *out, kg_error *err);

    /* Sets dev->ctx; dev->info is already filled. Creating members release
     * what they made when they fail: nothing is freed after a failure. */
    int (*device_open)(kg_device *dev, int index, kg_error *err);
    void (*device_close)(kg_device *dev);

    /* Sets prog->ctx (prog->source_name is set). *log as in device.h. */
    int (*program_build)(kg_device *dev, const kg_build_request *req, kg_program *prog, char **log,
                         kg_error *err);
    void (*program_free)(kg_program *prog);

    /* Sets kernel->ctx for kernel->entry of `prog`. */
    int (*kernel_create)(kg_program *prog, kg_kernel *kernel, kg_error *err);
    void (*kernel_free)(kg_kernel *kernel);

    /* Sets buf->ctx for buf->bytes, which is at least 1 (an empty buffer
     * is asked for as one byte). */
    int (*buffer_alloc)(kg_device *dev, kg_buffer *buf, kg_error *err);
    void (*buffer_free)(kg_buffer *buf);
    int (*buffer_write)(kg_device *dev, kg_buffer *buf, size_t offset, const void *src,
                        size_t bytes, kg_error *err);
    int (*buffer_read)(kg_device *dev, kg_buffer *buf, size_t offset, void *dst, size_t bytes,
                       kg_error *err);
    int (*buffer_fill)(kg_device *dev, kg_buffer *buf, size_t offset, const void *pattern,
                       size_t pattern_size, size_t bytes, kg_error *err);
    int (*buffer_copy)(kg_device *dev, kg_buffer *dst, size_t dst_offset, kg_buffer *src,
                       size_t src_offset, size_t bytes, kg_error *err);

    int (*launch)(kg_device *dev, kg_kernel *kernel, const kg_launch *launch, kg_error *err);
    int (*synchronize)(kg_device *dev, kg_error *err);
    int (*timer_start)(kg_device *dev, kg_error *err);
    /* Waits, closes the region (even on failure) and says how long it took.
     * device.c reports a region without launches after this returns. */
    int (*timer_stop)(kg_device *dev, double *elapsed_seconds, kg_error *err);
    int (*flush_cache)(kg_device *dev, kg_error *err);

    /* OPTIONAL */
    int (*read_clocks)(kg_device *dev, uint32_t *sm_clock_mhz, int *throttled, kg_error *err);
    /* OPTIONAL: sets view->ctx for view->bytes at view->offset of
     * view->parent (bytes may be 0). */
    int (*buffer_view)(kg_device *dev, kg_buffer *view, kg_error *err);

    /* Version 4. OPTIONAL: loads the backend's BLAS library once (later
     * calls replay the outcome), describes it and says whether it has a
     * GEMM of `dtype`; KG_ERR_UNSUPPORTED with the reason otherwise. */
    int (*blas_library)(kg_blas_dtype dtype, kg_blas_library *out, kg_error *err);
    /* OPTIONAL, with blas_library: enqueues the GEMM on the device's queue.
     * Inside a timed region the region's time must cover every command the
     * library enqueues for it. */
    int (*blas_gemm)(kg_device *dev, const kg_blas_gemm *gemm, kg_error *err);
};

/* For messages: "kernel 'softmax' (softmax.kc), grid [..], block [..],
 * dynamic local N bytes". */
void kg_launch_describe(const kg_kernel *kernel, const kg_launch *launch, char *out, size_t size);

#endif
