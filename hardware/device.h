/*
 * The device API: what the runner calls to build, check and time kernels on
 * any device (OpenCL, CUDA, HIP), and the only way it reaches a backend.
 *
 * Every kg_dev_* wrapper (device.c) owns the checks of the contract, once
 * for every backend: a timed region opened twice, closed without a launch
 * or without being opened, a flush inside it; buffer ranges, fill patterns,
 * view alignment; launch sizes and arguments (NULL buffers, buffers of
 * another device); optional operations a backend lacks (KG_ERR_UNSUPPORTED).
 * The backends behind it are tables of function pointers with private
 * contexts (core/backend_impl.h, in the manner of ggml-backend-impl.h),
 * which the runner cannot include.
 *
 * Conventions: every int-returning function returns KG_OK (0) or a negative
 * kg_status and, on failure, fills the kg_error it was given (message, and
 * the vendor's code and name where a driver refused). Handles are created
 * by the function that returns them through an out pointer and released by
 * the matching *_free / kg_dev_close, which accept NULL. Free kernels,
 * programs and views before their device; views before their parent.
 */
#ifndef KG_DEVICE_H
#define KG_DEVICE_H

#include "error.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

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
    /* .py: a @triton.jit function. No backend builds it from source: the
     * grade stage compiles it ahead of time with Triton (runner/grade/
     * triton_build.h) and hands the backend the cubin or hsaco. */
    KG_LANG_TRITON = 9,
    /* No source: a call to the backend's vendor BLAS library (CLBlast,
     * cuBLAS, rocBLAS) that a baseline tier makes instead of launching a
     * kernel (kg_dev_blas_gemm). No backend builds it. */
    KG_LANG_LIBRARY = 10,
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

/* Opaque handles. A kg_backend is one compiled-in (or test-registered)
 * device API; the others belong to one opened device. */
typedef struct kg_backend kg_backend;
typedef struct kg_device kg_device;
typedef struct kg_program kg_program;
typedef struct kg_kernel kg_kernel;
typedef struct kg_buffer kg_buffer;

typedef enum kg_arg_kind {
    KG_ARG_BUFFER = 0,
    KG_ARG_I32 = 1,
    KG_ARG_I64 = 2,
    KG_ARG_F32 = 3,
    /* A null device pointer: what Triton's launcher passes for a parameter
     * it appends (scratch) when the kernel needs none of it. */
    KG_ARG_NULL_POINTER = 4,
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
static inline kg_arg kg_arg_null_pointer(void)
{
    kg_arg a = {.kind = KG_ARG_NULL_POINTER};
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

/* Alignment of view offsets: at least every device's base-address
 * alignment (OpenCL's CL_DEVICE_MEM_BASE_ADDR_ALIGN is 128 bytes on most). */
#define KG_BUFFER_VIEW_ALIGN 4096

/* Human-readable name of a language ("portable", "opencl", ...) and the
 * reverse lookup; kg_language_parse returns -1 for an unknown name. */
const char *kg_language_name(kg_language lang);
int kg_language_parse(const char *name);
const char *kg_device_type_name(kg_device_type type);

/* ---- Backends ----------------------------------------------------------- */

/* The registered backends in preference order (GPU backends first),
 * NULL-ended; static, nothing to free. The compiled-in ones register
 * themselves on first use. */
const kg_backend *const *kg_backends(void);

/* The backends compiled into this binary, "opencl, cuda, hip" (or ""). */
const char *kg_backends_compiled(void);

/* The registered backend named `name`, or NULL. */
const kg_backend *kg_backend_find(const char *name);

/* Adds a backend table (tests register their host backend this way; the
 * compiled-in ones go through it too). KG_ERR_INVALID when the table was
 * written for another interface version (its api_version), lacks a
 * required operation, or its name is taken; KG_ERR_MEMORY when the
 * registry is full. */
int kg_backend_register(const kg_backend *backend, kg_error *err);

const char *kg_backend_name(const kg_backend *backend);

/* Loads the vendor libraries and lists the devices. Idempotent: later calls
 * replay the first one's outcome. KG_ERR_UNAVAILABLE with what is missing
 * ("driver not found (libcuda.so.1)") when the backend cannot run here. */
int kg_backend_init(const kg_backend *backend, kg_error *err);
/* Releases what init acquired; init may be called again afterwards. */
void kg_backend_shutdown(const kg_backend *backend);
/* Devices found by init (0 before it, or when it failed). */
int kg_backend_device_count(const kg_backend *backend);
int kg_backend_device_info(const kg_backend *backend, int index, kg_device_info *out,
                           kg_error *err);

/* ---- Devices -------------------------------------------------------------- */

/* Opens device `index` of an initialised backend: a context and one
 * in-order queue (stream) that every operation below is ordered on. */
int kg_dev_open(const kg_backend *backend, int index, kg_device **out, kg_error *err);
void kg_dev_close(kg_device *dev);
const kg_backend *kg_dev_backend(const kg_device *dev);
/* What the backend reported when the device was opened. */
const kg_device_info *kg_dev_info(const kg_device *dev);

/* ---- Programs and kernels --------------------------------------------------- */

/* Builds a program. *log (may be NULL on return) receives the compiler log,
 * malloc'd, freed by the caller; it is filled on failure too. */
int kg_dev_program_build(kg_device *dev, const kg_build_request *req, kg_program **out, char **log,
                         kg_error *err);
void kg_dev_program_free(kg_program *prog);

/* A kernel of a built program; it stays valid after the program is freed. */
int kg_dev_kernel_create(kg_program *prog, const char *entry, kg_kernel **out, kg_error *err);
void kg_dev_kernel_free(kg_kernel *kernel);
const char *kg_kernel_entry_name(const kg_kernel *kernel);

/* ---- Buffers ------------------------------------------------------------------ */

/* Device memory of `bytes` (0 is allowed: a valid buffer with no bytes).
 * KG_ERR_MEMORY beyond the device's largest allocation or when it fails. */
int kg_dev_buffer_alloc(kg_device *dev, size_t bytes, kg_buffer **out, kg_error *err);
/* A buffer aliasing bytes [offset, offset + bytes) of `parent`, usable
 * wherever a buffer is; `offset` a multiple of KG_BUFFER_VIEW_ALIGN. The
 * runner hands kernels views of larger allocations and checks the guard
 * zones around them (out-of-bounds writes). */
int kg_dev_buffer_view(kg_device *dev, kg_buffer *parent, size_t offset, size_t bytes,
                       kg_buffer **out, kg_error *err);
void kg_dev_buffer_free(kg_buffer *buf);
size_t kg_buffer_bytes(const kg_buffer *buf);
/* 1 when the backend makes views (kg_dev_buffer_view), else 0. */
int kg_dev_has_views(const kg_device *dev);

/* Blocking transfers, ordered after everything enqueued before them. */
int kg_dev_buffer_write(kg_device *dev, kg_buffer *buf, size_t offset, const void *src,
                        size_t bytes, kg_error *err);
int kg_dev_buffer_read(kg_device *dev, kg_buffer *buf, size_t offset, void *dst, size_t bytes,
                       kg_error *err);
/* Fills `bytes` from `offset` with a repeated pattern of 1, 2, 4, 8 or 16
 * bytes; offset and bytes are multiples of the pattern. Completes before
 * returning. */
int kg_dev_buffer_fill(kg_device *dev, kg_buffer *buf, size_t offset, const void *pattern,
                       size_t pattern_size, size_t bytes, kg_error *err);
/* Device-to-device copy, enqueued (ordered before later launches). */
int kg_dev_buffer_copy(kg_device *dev, kg_buffer *dst, size_t dst_offset, kg_buffer *src,
                       size_t src_offset, size_t bytes, kg_error *err);

/* ---- Launches and timing ---------------------------------------------------- */

/* Enqueues one launch (asynchronous). Grid and block sizes are at least 1;
 * every buffer argument is a buffer of `dev`. */
int kg_dev_launch(kg_device *dev, kg_kernel *kernel, const kg_launch *launch, kg_error *err);
/* Waits for everything enqueued; a kernel's execution error surfaces here
 * (KG_ERR_LAUNCH). */
int kg_dev_synchronize(kg_device *dev, kg_error *err);

/* Device-side time of everything enqueued between timer_start and
 * timer_stop (CUDA/HIP: events; OpenCL: the commands' profiling times,
 * first start to last end). One region at a time, holding at least one
 * launch; timer_stop waits, and closes the region even when it fails. */
int kg_dev_timer_start(kg_device *dev, kg_error *err);
int kg_dev_timer_stop(kg_device *dev, double *elapsed_seconds, kg_error *err);

/* Evicts the last-level cache: writes a device buffer of at least twice
 * the cache size in kg_device_info (8 MiB at least; at most the largest
 * allocation), with a pattern that changes every call. Outside a timed
 * region; completes before returning. */
int kg_dev_flush_cache(kg_device *dev, kg_error *err);

/* ---- Vendor BLAS libraries (the `library` tier) ------------------------------ */

/* Element types of a library GEMM: inputs and output alike. */
typedef enum kg_blas_dtype {
    KG_BLAS_F32 = 0,
    KG_BLAS_F16 = 1,
    KG_BLAS_BF16 = 2,
} kg_blas_dtype;

const char *kg_blas_dtype_name(kg_blas_dtype dtype);

/* Row-major C[m][n] = sum_k A[m][k] * B[k][n] (alpha 1, beta 0), or with
 * b_transposed, B stored [n][k]: C = A * B^T (a linear layer's weight as
 * torch stores it). Each buffer holds at least its matrix, packed. */
typedef struct kg_blas_gemm {
    kg_blas_dtype dtype;
    int b_transposed;
    uint64_t m, n, k;
    kg_buffer *a, *b, *c;
} kg_blas_gemm;

/* Which library a backend calls, as loaded. */
typedef struct kg_blas_library {
    char name[32];    /* "CLBlast", "cuBLAS", "rocBLAS" */
    char version[32]; /* "1.5.3"; "" when the library does not say */
    char path[4096];  /* the shared object loaded, symlinks resolved */
} kg_blas_library;

/* The BLAS library `backend` calls for GEMMs of `dtype`, loaded at run
 * time on first use (dlopen, never linked) and described in *out.
 * KG_ERR_UNSUPPORTED, with the reason in words, where the backend has no
 * library support, the library is not installed (the message names every
 * file tried) or it has no GEMM of that type (CLBlast has no bf16). Needs
 * no device, nor the backend's init. */
int kg_backend_blas(const kg_backend *backend, kg_blas_dtype dtype, kg_blas_library *out,
                    kg_error *err);

/* Enqueues the library's GEMM on the device's queue (stream), ordered like
 * a launch; inside a timed region it counts as one, and the region's time
 * covers every kernel the library enqueues for it (docs/methodology.md).
 * Buffers are of `dev` and large enough; m, n, k at least 1.
 * KG_ERR_UNSUPPORTED as kg_backend_blas says. */
int kg_dev_blas_gemm(kg_device *dev, const kg_blas_gemm *gemm, kg_error *err);

/* The current SM clock and whether the device reports any throttle
 * reason; KG_ERR_UNSUPPORTED where the backend cannot tell (OpenCL). */
int kg_dev_read_clocks(kg_device *dev, uint32_t *sm_clock_mhz, int *throttled, kg_error *err);

#ifdef __cplusplus
}
#endif
#endif
