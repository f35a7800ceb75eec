/*
 * The backend interface: what a device API (OpenCL, CUDA, HIP) must provide
 * so that the runner can build, check and time kernels on it.
 *
 * A backend is an `extern const kg_backend` table of function pointers
 * (kg_opencl_backend, ...) plus private context types it defines (ggml's and
 * sqlite's shape); backend.c lists the compiled ones. The runner
 * owns timing, statistics and checking; backends only provide primitives, so
 * the method is identical on every backend.
 *
 * Rules for implementers:
 * - Every function returns KG_OK (0) or a negative kg_status and, on failure,
 *   fills the kg_error it was given (message + vendor code and name).
 * - Members marked OPTIONAL may be NULL; callers go through the kg_backend_*
 *   wrappers in backend.c, which check for NULL.
 * - The interface grows only at the end, and `api_version` says which
 *   members exist (sqlite's rule).
 */
#ifndef KG_BACKEND_H
#define KG_BACKEND_H

#include "error.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KG_BACKEND_API_VERSION 2

typedef enum kg_device_type {
    KG_DEVICE_OTHER = 0,
    KG_DEVICE_CPU = 1,
    KG_DEVICE_GPU = 2,
    KG_DEVICE_ACCELERATOR = 3,
} kg_device_type;

/* Languages a kernel source or binary may be written in. */
typedef enum kg_language {
    KG_LANG_PORTABLE = 0, /* .kc: the portable dialect, prelude prepended by the backend */
    KG_LANG_OPENCL = 1,   /* .cl: OpenCL C */
    KG_LANG_CUDA = 2,     /* .cu: CUDA C++ (NVRTC) */
    KG_LANG_HIP = 3,      /* .hip: HIP C++ (hiprtc) */
    KG_LANG_PTX = 4,
    KG_LANG_CUBIN = 5,
    KG_LANG_FATBIN = 6,
    KG_LANG_HSACO = 7,
    KG_LANG_SPIRV = 8,
    KG_LANG_COUNT
} kg_language;

/* Static properties of one device, as the backend reports them. Numbers the
 * API does not expose are 0 (or "" for strings). */
typedef struct kg_device_info {
    char backend[16]; /* "opencl", "cuda", "hip" */
    int index;        /* index within its backend */
    char name[256];
    char vendor[128];
    char driver_version[128];
    char api_version[128]; /* e.g. "OpenCL 3.0 PoCL 3.1" */
    char platform[128];    /* OpenCL platform; "" elsewhere */
    kg_device_type type;
    uint32_t compute_units;
    uint32_t clock_mhz;
    uint64_t global_mem_bytes;
    uint64_t local_mem_bytes; /* per work-group shared/local memory */
    uint64_t cache_bytes;     /* last-level cache the flush must exceed */
    /* Where cache_bytes came from: "device" (the driver reported it),
     * "host" (a CPU device whose driver reports none: the host's
     * last-level cache from sysconf), or "none" (flush uses its floor). */
    char cache_source[16];
    uint32_t cache_line_bytes;
    uint32_t max_group_size;
    uint32_t subgroup_width; /* warp/wavefront/preferred multiple */
    uint64_t max_alloc_bytes;
    char arch[64];             /* "sm_90", "gfx90a", CPU ISA string, ... */
    uint32_t memory_clock_mhz; /* peak DRAM clock; 0 when the API does not say */
    uint32_t memory_bus_bits;  /* DRAM bus width; 0 when the API does not say */
    double peak_dram_gbs;      /* theoretical: 2 (DDR) x clock x bus / 8; 0 if unknown */
} kg_device_info;

/* Opaque handles, defined by each backend. */
typedef struct kg_device kg_device;
typedef struct kg_program kg_program;
typedef struct kg_kernel kg_kernel;
typedef struct kg_buffer kg_buffer;

typedef enum kg_arg_kind {
    KG_ARG_BUFFER = 0,
    KG_ARG_I32 = 1,
    KG_ARG_I64 = 2,
    KG_ARG_F32 = 3,
} kg_arg_kind;

typedef struct kg_arg {
    kg_arg_kind kind;
    union {
        kg_buffer *buffer;
        int32_t i32;
        int64_t i64;
        float f32;
    } value;
} kg_arg;

/* Argument constructors: kg_arg_i32(n), kg_arg_buffer(b), ... */
static inline kg_arg kg_arg_buffer(kg_buffer *b)
{
    kg_arg a = {.kind = KG_ARG_BUFFER};
    a.value.buffer = b;
    return a;
}
static inline kg_arg kg_arg_i32(int32_t v)
{
    kg_arg a = {.kind = KG_ARG_I32};
    a.value.i32 = v;
    return a;
}
static inline kg_arg kg_arg_i64(int64_t v)
{
    kg_arg a = {.kind = KG_ARG_I64};
    a.value.i64 = v;
    return a;
}
static inline kg_arg kg_arg_f32(float v)
{
    kg_arg a = {.kind = KG_ARG_F32};
    a.value.f32 = v;
    return a;
}

/* One launch. Grid is in groups (blocks), block in work-items (threads) per
 * group, as in CUDA; the OpenCL backend converts to global sizes. Dynamic
 * local memory, when non-zero, is passed to OpenCL as one extra trailing
 * __local argument and to CUDA/HIP as the dynamic shared-memory size. */
typedef struct kg_launch {
    uint64_t grid[3];
    uint32_t block[3];
    size_t dynamic_local_bytes;
    const kg_arg *args;
    size_t arg_count;
} kg_launch;

/* A build request: a source (or binary) in one language plus options. */
typedef struct kg_build_request {
    kg_language language;
    const char *source; /* text for source languages, bytes for binaries */
    size_t source_size;
    const char *source_name;    /* for logs: the file the source came from */
    const char *const *defines; /* "NAME=VALUE" strings, passed as -D */
    size_t define_count;
    const char *options; /* extra compiler options (already allowlisted); may be NULL */
} kg_build_request;

typedef struct kg_backend {
    int api_version;  /* KG_BACKEND_API_VERSION this table was written for */
    const char *name; /* "opencl" */

    /* Load the vendor libraries and enumerate devices. Idempotent. On
     * failure `err` says what was missing (e.g. "driver not found
     * (libcuda.so.1)"); the backend is then reported and skipped. */
    int (*init)(kg_error *err);
    /* OPTIONAL: release what init acquired. */
    void (*shutdown)(void);

    int (*device_count)(void);
    int (*device_info)(int index, kg_device_info *out, kg_error *err);

    /* Open a device: context and one in-order queue/stream the runner owns.
     * The caller closes it with device_close. */
    int (*device_open)(int index, kg_device **out, kg_error *err);
    void (*device_close)(kg_device *dev);

    /* Build a program. *log (may be NULL on return) receives the compiler
     * log, malloc'd, freed by the caller; it is filled on failure too. */
    int (*program_build)(kg_device *dev, const kg_build_request *req, kg_program **out, char **log,
                         kg_error *err);
    void (*program_free)(kg_program *prog);

    int (*kernel_create)(kg_program *prog, const char *entry, kg_kernel **out, kg_error *err);
    void (*kernel_free)(kg_kernel *kernel);

    int (*buffer_alloc)(kg_device *dev, size_t bytes, kg_buffer **out, kg_error *err);
    void (*buffer_free)(kg_buffer *buf);
    /* Blocking host<->device transfers. */
    int (*buffer_write)(kg_device *dev, kg_buffer *buf, size_t offset, const void *src,
                        size_t bytes, kg_error *err);
    int (*buffer_read)(kg_device *dev, kg_buffer *buf, size_t offset, void *dst, size_t bytes,
                       kg_error *err);
    /* Fill `bytes` starting at `offset` with a repeated pattern of 1, 2, 4, 8
     * or 16 bytes; bytes and offset are multiples of pattern_size. Completes
     * before returning (the runner poisons outputs with it, then launches). */
    int (*buffer_fill)(kg_device *dev, kg_buffer *buf, size_t offset, const void *pattern,
                       size_t pattern_size, size_t bytes, kg_error *err);
    /* Device-to-device copy, enqueued on the runner's queue (asynchronous:
     * ordered before later launches; synchronize to wait for it). */
    int (*buffer_copy)(kg_device *dev, kg_buffer *dst, size_t dst_offset, kg_buffer *src,
                       size_t src_offset, size_t bytes, kg_error *err);

    /* Enqueue one launch on the runner's queue (asynchronous). */
    int (*launch)(kg_device *dev, kg_kernel *kernel, const kg_launch *launch, kg_error *err);
    /* Wait until everything enqueued has finished. */
    int (*synchronize)(kg_device *dev, kg_error *err);

    /* Device-side timing of everything enqueued between timer_start and
     * timer_stop (CUDA/HIP: events; OpenCL: profiling info of the commands,
     * first start to last end). timer_stop synchronizes first and always
     * closes the region, even when it fails, so a new one can start. */
    int (*timer_start)(kg_device *dev, kg_error *err);
    int (*timer_stop)(kg_device *dev, double *elapsed_seconds, kg_error *err);

    /* Evict the last-level cache: write a device buffer of at least twice
     * the cache size in kg_device_info (8 MiB at least; at most the largest
     * allocation the device allows). Called outside any timed region;
     * completes before returning. Some drivers report a wrong size (OpenCL
     * on NVIDIA reports the L1); backends correct it where they can and
     * say where the size came from in cache_source. */
    int (*flush_cache)(kg_device *dev, kg_error *err);

    /* OPTIONAL: current clock and throttle state. `throttled` is set to 1
     * when the device reports any throttle reason. */
    int (*read_clocks)(kg_device *dev, uint32_t *sm_clock_mhz, int *throttled, kg_error *err);

    /* OPTIONAL (api 2): a buffer aliasing bytes [offset, offset + bytes) of
     * `parent`, usable wherever a buffer is (kernel arguments, transfers),
     * freed with buffer_free before its parent. `offset` is a multiple of
     * KG_BUFFER_VIEW_ALIGN. The runner hands kernels such views of larger
     * allocations and checks the guard zones around them after each run
     * (out-of-bounds writes). */
    int (*buffer_view)(kg_device *dev, kg_buffer *parent, size_t offset, size_t bytes,
                       kg_buffer **out, kg_error *err);
} kg_backend;

/* Alignment of buffer_view offsets: at least every device's base-address
 * alignment (OpenCL's CL_DEVICE_MEM_BASE_ADDR_ALIGN is 128 bytes on most). */
#define KG_BUFFER_VIEW_ALIGN 4096

/* ---- Registry and NULL-checking wrappers (backend.c) ---- */

/* The backends compiled into this binary, in preference order; NULL-ended.
 * The array is static: nothing to free. */
const kg_backend *const *kg_backends(void);

/* The backends compiled into this binary, "opencl, cuda, hip" (or ""). */
const char *kg_backends_compiled(void);

/* The compiled-in backend named `name`, or NULL. */
const kg_backend *kg_backend_find(const char *name);

/* Human-readable name of a language ("portable", "opencl", ...) and the
 * reverse lookup; kg_language_parse returns -1 for an unknown name. */
const char *kg_language_name(kg_language lang);
int kg_language_parse(const char *name);
const char *kg_device_type_name(kg_device_type type);

/* For backends' buffer operations: KG_OK when [offset, offset + bytes) lies
 * inside a buffer of `buffer_bytes` (has_buffer 0: the buffer was NULL),
 * else KG_ERR_INVALID with a message naming `op` and the sizes, so that a
 * bad range is reported as such rather than as a bare driver code. */
int kg_buffer_range_check(int has_buffer, size_t buffer_bytes, size_t offset, size_t bytes,
                          const char *op, kg_error *err);

/* Optional-member wrapper: KG_ERR_UNSUPPORTED when the backend lacks it. */
int kg_backend_read_clocks(const kg_backend *b, kg_device *dev, uint32_t *sm_clock_mhz,
                           int *throttled, kg_error *err);

#ifdef __cplusplus
}
#endif
#endif
