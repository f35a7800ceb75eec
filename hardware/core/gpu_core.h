/*
 * One GPU core for CUDA and HIP: streams, events and the timed region,
 * module loading, launches, buffers and views, fills, the cache flush --
 * written once over a small table of vendor calls (kg_gpu_vendor). The
 * CUDA driver API and the HIP module API have the same shape; what differs
 * (contexts, error names, JIT logs, the dynamic shared-memory opt-in, the
 * compiler) is in each vendor's table.
 *
 * A backend built on the core fills its kg_backend table with its own
 * init, shutdown, device_count, device_info and device_open (which calls
 * kg_gpu_open with its vendor table), KG_GPU_CORE_MEMBERS for the rest, and
 * optionally read_clocks. The host test backend (tests/host_backend) is
 * built the same way, so the core runs in the unit tests on any machine.
 */
#ifndef KG_GPU_CORE_H
#define KG_GPU_CORE_H

#include "backend_impl.h"

#include <stdint.h>

/* A device address, whatever the vendor's type (CUdeviceptr, void *). */
typedef uint64_t kg_gpu_ptr;

/* Vendor calls: each returns the vendor's code, 0 for success. Handles
 * (context, stream, event, module, function) are the vendor's own, as
 * void pointers. */
typedef struct kg_gpu_vendor {
    const char *api;           /* "CUDA": in messages */
    kg_language native;        /* the language its compiler takes besides portable */
    const kg_language *images; /* binaries loaded as they are; ends with KG_LANG_COUNT */
    const char *languages;     /* "portable, cuda, ptx, cubin or fatbin", for messages */
    uint64_t grid_limit[3];
    /* Dynamic shared memory a function takes without opting in; 0: no
     * opt-in (set_dynamic_shared unused). */
    size_t dynamic_shared_default;
    /* OPTIONAL: source of `void kg_hold_stream(unsigned long long ns)`, a
     * kernel that spins for ns nanoseconds; launched before a timed
     * region's start event so that the region does not include the
     * host's enqueue latency. */
    const char *hold_source;

    const char *(*error_name)(int rc);
    const char *(*error_string)(int rc);
    /* KG_ERR_MEMORY or KG_ERR_LAUNCH where `rc` says so, else `fallback`. */
    int (*status_of)(int rc, int fallback);

    /* Contexts: `open` makes one for device `index` (*context may stay
     * NULL where the API has none), `select` makes it current. */
    int (*context_open)(int index, void **context);
    void (*context_close)(int index, void *context);
    int (*context_select)(int index, void *context);

    int (*stream_create)(void **stream);
    int (*stream_sync)(void *stream);
    void (*stream_destroy)(void *stream);
    int (*event_create)(void **event);
    int (*event_record)(void *event, void *stream);
    int (*event_sync)(void *event);
    int (*event_elapsed_ms)(float *ms, void *start, void *stop);
    void (*event_destroy)(void *event);

    int (*mem_alloc)(kg_gpu_ptr *ptr, size_t bytes);
    void (*mem_free)(kg_gpu_ptr ptr);
    /* Synchronous copies (the core drains the stream first). */
    int (*copy_to_device)(kg_gpu_ptr dst, const void *src, size_t bytes);
    int (*copy_to_host)(void *dst, kg_gpu_ptr src, size_t bytes);
    int (*copy_async)(kg_gpu_ptr dst, kg_gpu_ptr src, size_t bytes, void *stream);
    int (*memset8_async)(kg_gpu_ptr dst, uint8_t value, size_t count, void *stream);
    int (*memset16_async)(kg_gpu_ptr dst, uint16_t value, size_t count, void *stream);
    int (*memset32_async)(kg_gpu_ptr dst, uint32_t value, size_t count, void *stream);

    /* Loads an image (NUL-terminated after its bytes); where the API keeps
     * a JIT log, its info and error text go to the two buffers. */
    int (*module_load)(void **module, const void *image, char *info_log, size_t info_size,
                       char *error_log, size_t error_size);
    void (*module_unload)(void *module);
    int (*module_function)(void **function, void *module, const char *entry);
    /* OPTIONAL: let `function` take `bytes` of dynamic shared memory. */
    int (*set_dynamic_shared)(void *function, size_t bytes);
    int (*launch)(void *function, const unsigned grid[3], const unsigned block[3],
                  unsigned dynamic_shared, void *stream, void **params);

    /* The runtime compiler (rtc_compile.h): a portable or native source to
     * an image for `arch`. */
    int (*compile)(const kg_build_request *req, const char *arch, void **image, size_t *image_size,
                   char **log, kg_error *err);

    /* OPTIONAL: vendor state per opened device (NVML's handle), made after
     * the core's and freed before. */
    void *(*attach)(int index, void *context);
    void (*detach)(void *extra);
} kg_gpu_vendor;

/* The core's state of one opened device (kg_device.ctx). */
typedef struct kg_gpu_device {
    const kg_gpu_vendor *v;
    int index;
    void *context;
    void *stream;
    void *start, *stop;
    kg_gpu_ptr flush;
    size_t flush_bytes;
    uint32_t flush_calls;
    void *hold_module, *hold;
    void *extra; /* from the vendor's attach */
} kg_gpu_device;

/* The vendor's error as a kg_error: "what: NAME: text". */
int kg_gpu_fail(const kg_gpu_vendor *v, kg_error *err, int fallback, int rc, const char *what);

/* device_open for a vendor: context, stream, events, the hold kernel. */
int kg_gpu_open(const kg_gpu_vendor *v, kg_device *dev, int index, kg_error *err);

void kg_gpu_device_close(kg_device *dev);
int kg_gpu_program_build(kg_device *dev, const kg_build_request *req, kg_program *prog, char **log,
                         kg_error *err);
void kg_gpu_program_free(kg_program *prog);
int kg_gpu_kernel_create(kg_program *prog, kg_kernel *kernel, kg_error *err);
void kg_gpu_kernel_free(kg_kernel *kernel);
int kg_gpu_buffer_alloc(kg_device *dev, kg_buffer *buf, kg_error *err);
int kg_gpu_buffer_view(kg_device *dev, kg_buffer *view, kg_error *err);
void kg_gpu_buffer_free(kg_buffer *buf);
int kg_gpu_buffer_write(kg_device *dev, kg_buffer *buf, size_t offset, const void *src,
                        size_t bytes, kg_error *err);
int kg_gpu_buffer_read(kg_device *dev, kg_buffer *buf, size_t offset, void *dst, size_t bytes,
                       kg_error *err);
int kg_gpu_buffer_fill(kg_device *dev, kg_buffer *buf, size_t offset, const void *pattern,
                       size_t pattern_size, size_t bytes, kg_error *err);
int kg_gpu_buffer_copy(kg_device *dev, kg_buffer *dst, size_t dst_offset, kg_buffer *src,
                       size_t src_offset, size_t bytes, kg_error *err);
int kg_gpu_launch(kg_device *dev, kg_kernel *kernel, const kg_launch *launch, kg_error *err);
int kg_gpu_synchronize(kg_device *dev, kg_error *err);
int kg_gpu_timer_start(kg_device *dev, kg_error *err);
int kg_gpu_timer_stop(kg_device *dev, double *elapsed_seconds, kg_error *err);
int kg_gpu_flush_cache(kg_device *dev, kg_error *err);

/* The vendor's per-device state (kg_gpu_device.extra) of an opened device. */
void *kg_gpu_extra(const kg_device *dev);

/* For a vendor library that works on the device's stream (cuBLAS,
 * rocBLAS): the device's context made current, its stream, and the
 * device address of a buffer (a view's included). */
int kg_gpu_select(const kg_device *dev, kg_error *err);
void *kg_gpu_stream(const kg_device *dev);
kg_gpu_ptr kg_gpu_address(const kg_buffer *buf);

/* Every kg_backend member after device_open that the core implements. */
#define KG_GPU_CORE_MEMBERS                                                                        \
    .device_close = kg_gpu_device_close, .program_build = kg_gpu_program_build,                    \
    .program_free = kg_gpu_program_free, .kernel_create = kg_gpu_kernel_create,                    \
    .kernel_free = kg_gpu_kernel_free, .buffer_alloc = kg_gpu_buffer_alloc,                        \
    .buffer_free = kg_gpu_buffer_free, .buffer_write = kg_gpu_buffer_write,                        \
    .buffer_read = kg_gpu_buffer_read, .buffer_fill = kg_gpu_buffer_fill,                          \
    .buffer_copy = kg_gpu_buffer_copy, .launch = kg_gpu_launch, .synchronize = kg_gpu_synchronize, \
    .timer_start = kg_gpu_timer_start, .timer_stop = kg_gpu_timer_stop,                            \
    .flush_cache = kg_gpu_flush_cache, .buffer_view = kg_gpu_buffer_view

#endif
