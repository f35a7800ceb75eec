/*
 * The HIP backend (AMD GPUs through ROCm): the HIP runtime and hiprtc, both
 * loaded at run time (hip_dynlink.c), on the GPU core (gpu_core.c) that it
 * shares with CUDA. What is HIP's own is here: loading and listing devices,
 * their properties (with the Infinity Cache the runtime does not report),
 * and the runtime calls behind the core's vendor table. HIP has no
 * explicit context: selecting a device is hipSetDevice.
 *
 * Library tiers call rocBLAS (rocblas_loader.c) on the device's stream.
 *
 * Exercised on real AMD hardware: not yet (docs/validation.md). What runs
 * in CI without a GPU: hiprtc compiles for gfx908, gfx90a and gfx1030, the
 * no-device path, and rocBLAS's loading and argument mapping.
 */
#include "gpu_core.h"
#include "hip_dynlink.h"
#include "hiprtc_compile.h"
#include "rocblas_loader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct {
    kg_hip_runtime rt;
    int device_count;
} hip;

/* What HIP keeps per opened device (kg_gpu_device.extra): its rocBLAS
 * handle, made on first use. */
typedef struct hip_device_extra {
    void *rocblas;
} hip_device_extra;

/* ---- errors --------------------------------------------------------------- */

static const char *hip_error_name(int rc)
{
    const char *name = hip.rt.hipGetErrorName ? hip.rt.hipGetErrorName((hipError_t)rc) : NULL;
    return name ? name : "hipErrorUnknown";
}

static const char *hip_error_string(int rc)
{
    const char *text = hip.rt.hipGetErrorString ? hip.rt.hipGetErrorString((hipError_t)rc) : NULL;
    return text ? text : "unknown error";
}

static int hip_status(int rc, int fallback)
{
    switch ((hipError_t)rc) {
    case hipErrorOutOfMemory:
        return KG_ERR_MEMORY;
    case hipErrorIllegalAddress:
    case hipErrorLaunchFailure:
    case hipErrorLaunchTimeOut:
    case hipErrorLaunchOutOfResources:
    case hipErrorAssert:
        return KG_ERR_LAUNCH;
    default:
        return fallback;
    }
}

/* "what: hipErrorIllegalAddress: an illegal memory access was encountered" */
static int hip_fail(kg_error *err, int fallback, hipError_t rc, const char *what)
{
    return kg_error_set_vendor(err, hip_status(rc, fallback), (int)rc, hip_error_name(rc),
                               "%s: %s: %s", what, hip_error_name(rc), hip_error_string(rc));
}

/* ---- init ----------------------------------------------------------------- */

/* device.c calls init once until shutdown, and replays its outcome. */
static int hip_init(kg_error *err)
{
    int rc = kg_hip_runtime_load(&hip.rt, err);
    if (rc != KG_OK)
        return rc;
    hipError_t r = hip.rt.hipInit(0);
    if (r == hipSuccess)
        r = hip.rt.hipGetDeviceCount(&hip.device_count);
    if (r == hipSuccess && hip.device_count == 0)
        r = hipErrorNoDevice;
    if (r == hipSuccess)
        return KG_OK;
    /* Without a GPU (no /dev/kfd), ROCm 5's hipInit answers
     * hipErrorInvalidDevice; with no usable driver, the others. */
    int no_gpu = r == hipErrorNoDevice || r == hipErrorInvalidDevice ||
                 r == hipErrorInsufficientDriver || r == hipErrorNotInitialized;
    rc = no_gpu ? kg_error_set_vendor(err, KG_ERR_UNAVAILABLE, (int)r, hip_error_name(r),
                                      "no AMD GPU (hipInit: %s; runtime %s loaded)",
                                      hip_error_name(r), hip.rt.library)
                : hip_fail(err, KG_ERR_UNAVAILABLE, r, "hipInit failed");
    kg_dynlink_unload(&hip.rt.handle, &hip.rt, sizeof hip.rt);
    hip.device_count = 0;
    return rc;
}

static void hip_shutdown(void)
{
    kg_dynlink_unload(&hip.rt.handle, &hip.rt, sizeof hip.rt);
    memset(&hip, 0, sizeof hip);
}

static int hip_device_count(void)
{
    return hip.device_count;
}

static int attribute(int index, hipDeviceAttribute_t what)
{
    int value = 0;
    if (hip.rt.hipDeviceGetAttribute(&value, what, index) != hipSuccess)
        return 0;
    return value;
}

/* The GPU's target name (gcnArchName). The properties struct is read into
 * a buffer larger than the one these headers describe, in case a runtime
 * writes a longer one. */
static void arch_name(int index, char *out, size_t size)
{
    union {
        hipDeviceProp_t prop;
        unsigned char room[2 * sizeof(hipDeviceProp_t)];
    } u;
    memset(&u, 0, sizeof u);
    out[0] = '\0';
    if (hip.rt.hipGetDeviceProperties(&u.prop, index) == hipSuccess &&
        strncmp(u.prop.gcnArchName, "gfx", 3) == 0) {
        size_t n = strnlen(u.prop.gcnArchName, sizeof u.prop.gcnArchName);
        if (n >= size)
            n = size - 1;
        memcpy(out, u.prop.gcnArchName, n);
        out[n] = '\0';
    }
}

/* AMD GPUs with an Infinity Cache (a memory-side last-level cache behind
 * L2, which the runtime does not report): a cold-cache flush must exceed
 * it, not just L2. Sizes per target from AMD's product specifications. */
static const struct {
    const char *arch;
    uint64_t mib;
} infinity_cache[] = {
    {"gfx942", 256},  /* MI300X / MI300A */
    {"gfx1100", 96},  /* RX 7900 XTX / XT, PRO W7900 */
    {"gfx1101", 64},  /* RX 7800 XT / 7700 XT */
    {"gfx1102", 32},  /* RX 7600 */
    {"gfx1030", 128}, /* RX 6800 / 6900, PRO W6800 */
    {"gfx1031", 96},  /* RX 6700 XT */
    {"gfx1032", 32},  /* RX 6600 */
};

static uint64_t infinity_cache_bytes(const char *arch)
{
    size_t base = strcspn(arch, ":");
    for (size_t i = 0; i < sizeof infinity_cache / sizeof infinity_cache[0]; i++)
        if (strlen(infinity_cache[i].arch) == base &&
            strncmp(arch, infinity_cache[i].arch, base) == 0)
            return infinity_cache[i].mib << 20;
    return 0;
}

/* ---- device info ---------------------------------------------------------- */

static int hip_device_info(int index, kg_device_info *out, kg_error *err)
{
    snprintf(out->backend, sizeof out->backend, "hip");
    out->index = index;
    out->type = KG_DEVICE_GPU;
    hipDevice_t device;
    hipError_t r = hip.rt.hipDeviceGet(&device, index);
    if (r != hipSuccess)
        return hip_fail(err, KG_ERR_DEVICE, r, "hipDeviceGet failed");
    hip.rt.hipDeviceGetName(out->name, (int)sizeof out->name, device);
    snprintf(out->vendor, sizeof out->vendor, "AMD");
    int driver = 0, runtime = 0;
    hip.rt.hipDriverGetVersion(&driver);
    hip.rt.hipRuntimeGetVersion(&runtime);
    snprintf(out->driver_version, sizeof out->driver_version, "HIP driver %d (%s)", driver,
             hip.rt.library);
    snprintf(out->api_version, sizeof out->api_version, "HIP %d.%d", runtime / 10000000,
             runtime / 100000 % 100);
    arch_name(index, out->arch, sizeof out->arch);
    out->compute_units = (uint32_t)attribute(index, hipDeviceAttributeMultiprocessorCount);
    out->clock_mhz = (uint32_t)(attribute(index, hipDeviceAttributeClockRate) / 1000);
    size_t total = 0;
    hip.rt.hipDeviceTotalMem(&total, device);
    out->global_mem_bytes = total;
    out->max_alloc_bytes = total;
    out->local_mem_bytes = (uint64_t)attribute(index, hipDeviceAttributeMaxSharedMemoryPerBlock);
    uint64_t l2 = (uint64_t)attribute(index, hipDeviceAttributeL2CacheSize);
    uint64_t infinity = infinity_cache_bytes(out->arch);
    out->cache_bytes = infinity > l2 ? infinity : l2;
    snprintf(out->cache_source, sizeof out->cache_source,
             infinity > l2 ? "arch table"
             : l2          ? "device"
                           : "none");
    out->cache_line_bytes = 128;
    out->max_group_size = (uint32_t)attribute(index, hipDeviceAttributeMaxThreadsPerBlock);
    out->subgroup_width = (uint32_t)attribute(index, hipDeviceAttributeWarpSize);
    out->memory_clock_mhz = (uint32_t)(attribute(index, hipDeviceAttributeMemoryClockRate) / 1000);
    out->memory_bus_bits = (uint32_t)attribute(index, hipDeviceAttributeMemoryBusWidth);
    /* Two transfers per clock (DDR); clock in kHz, bus in bits. */
    out->peak_dram_gbs = 2.0 * attribute(index, hipDeviceAttributeMemoryClockRate) * 1e3 *
                         (out->memory_bus_bits / 8.0) / 1e9;
    return KG_OK;
}

/* ---- the core's vendor calls ---------------------------------------------- */

static int hip_context_open(int index, void **context)
{
    *context = NULL; /* HIP has no explicit context */
    return (int)hip.rt.hipSetDevice(index);
}

static void hip_context_close(int index, void *context)
{
    (void)index;
    (void)context;
}

static int hip_context_select(int index, void *context)
{
    (void)context;
    return (int)hip.rt.hipSetDevice(index);
}

static int hip_stream_create(void **stream)
{
    return (int)hip.rt.hipStreamCreate((hipStream_t *)stream);
}

static int hip_stream_sync(void *stream)
{
    return (int)hip.rt.hipStreamSynchronize(stream);
}

static void hip_stream_destroy(void *stream)
{
    hip.rt.hipStreamDestroy(stream);
}

static int hip_event_create(void **event)
{
    return (int)hip.rt.hipEventCreate((hipEvent_t *)event);
}

static int hip_event_record(void *event, void *stream)
{
    return (int)hip.rt.hipEventRecord(event, stream);
}

static int hip_event_sync(void *event)
{
    return (int)hip.rt.hipEventSynchronize(event);
}

static int hip_event_elapsed_ms(float *ms, void *start, void *stop)
{
    return (int)hip.rt.hipEventElapsedTime(ms, start, stop);
}

static void hip_event_destroy(void *event)
{
    hip.rt.hipEventDestroy(event);
}

static void *address(kg_gpu_ptr ptr)
{
    return (void *)(uintptr_t)ptr;
}

static int hip_mem_alloc(kg_gpu_ptr *ptr, size_t bytes)
{
    void *p = NULL;
    hipError_t r = hip.rt.hipMalloc(&p, bytes);
    *ptr = (kg_gpu_ptr)(uintptr_t)p;
    return (int)r;
}

static void hip_mem_free(kg_gpu_ptr ptr)
{
    hip.rt.hipFree(address(ptr));
}

static int hip_copy_to_device(kg_gpu_ptr dst, const void *src, size_t bytes)
{
    return (int)hip.rt.hipMemcpyHtoD(address(dst), (void *)src, bytes);
}

static int hip_copy_to_host(void *dst, kg_gpu_ptr src, size_t bytes)
{
    return (int)hip.rt.hipMemcpyDtoH(dst, address(src), bytes);
}

static int hip_copy_async(kg_gpu_ptr dst, kg_gpu_ptr src, size_t bytes, void *stream)
{
    return (int)hip.rt.hipMemcpyDtoDAsync(address(dst), address(src), bytes, stream);
}

static int hip_memset8_async(kg_gpu_ptr dst, uint8_t value, size_t count, void *stream)
{
    return (int)hip.rt.hipMemsetD8Async(address(dst), value, count, stream);
}

static int hip_memset16_async(kg_gpu_ptr dst, uint16_t value, size_t count, void *stream)
{
    return (int)hip.rt.hipMemsetD16Async(address(dst), value, count, stream);
}

static int hip_memset32_async(kg_gpu_ptr dst, uint32_t value, size_t count, void *stream)
{
    return (int)hip.rt.hipMemsetD32Async(address(dst), (int)value, count, stream);
}

/* HIP's module loader keeps no JIT log. */
static int hip_module_load(void **module, const void *image, char *info_log, size_t info_size,
                           char *error_log, size_t error_size)
{
    (void)info_log;
    (void)info_size;
    (void)error_log;
    (void)error_size;
    return (int)hip.rt.hipModuleLoadData((hipModule_t *)module, image);
}

static void hip_module_unload(void *module)
{
    hip.rt.hipModuleUnload(module);
}

static int hip_module_function(void **function, void *module, const char *entry)
{
    return (int)hip.rt.hipModuleGetFunction((hipFunction_t *)function, module, entry);
}

static int hip_launch(void *function, const unsigned grid[3], const unsigned block[3],
                      unsigned dynamic_shared, void *stream, void **params)
{
    return (int)hip.rt.hipModuleLaunchKernel(function, grid[0], grid[1], grid[2], block[0],
                                             block[1], block[2], dynamic_shared, stream, params,
                                             NULL);
}

static void *hip_attach(int index, void *context)
{
    (void)index;
    (void)context;
    return calloc(1, sizeof(hip_device_extra));
}

/* With the device current (gpu_core's close). */
static void hip_detach(void *extra)
{
    hip_device_extra *x = extra;
    kg_rocblas_handle_destroy(x->rocblas);
    free(x);
}

static const kg_language hip_images[] = {KG_LANG_HSACO, KG_LANG_COUNT};

static const kg_gpu_vendor hip_vendor = {
    .api = "HIP",
    .native = KG_LANG_HIP,
    .images = hip_images,
    .languages = "portable, hip or hsaco",
    .grid_limit = {0x7fffffffull, 0x7fffffffull, 0x7fffffffull},
    .dynamic_shared_default = 0,
    .hold_source = NULL,
    .error_name = hip_error_name,
    .error_string = hip_error_string,
    .status_of = hip_status,
    .context_open = hip_context_open,
    .context_close = hip_context_close,
    .context_select = hip_context_select,
    .stream_create = hip_stream_create,
    .stream_sync = hip_stream_sync,
    .stream_destroy = hip_stream_destroy,
    .event_create = hip_event_create,
    .event_record = hip_event_record,
    .event_sync = hip_event_sync,
    .event_elapsed_ms = hip_event_elapsed_ms,
    .event_destroy = hip_event_destroy,
    .mem_alloc = hip_mem_alloc,
    .mem_free = hip_mem_free,
    .copy_to_device = hip_copy_to_device,
    .copy_to_host = hip_copy_to_host,
    .copy_async = hip_copy_async,
    .memset8_async = hip_memset8_async,
    .memset16_async = hip_memset16_async,
    .memset32_async = hip_memset32_async,
    .module_load = hip_module_load,
    .module_unload = hip_module_unload,
    .module_function = hip_module_function,
    .launch = hip_launch,
    .compile = kg_hiprtc_compile,
    .attach = hip_attach,
    .detach = hip_detach,
};

static int hip_device_open(kg_device *dev, int index, kg_error *err)
{
    return kg_gpu_open(&hip_vendor, dev, index, err);
}

/* ---- the BLAS library (rocBLAS) ------------------------------------------ */

static int hip_blas_library(kg_blas_dtype dtype, kg_blas_library *out, kg_error *err)
{
    return kg_rocblas_library(dtype, out, err);
}

/* On the device's stream, between the core's timing events: a timed
 * region covers every kernel rocBLAS enqueues for the call. Without a hold
 * kernel on HIP (docs/hip.md) it also covers rocBLAS's host-side work
 * before its first kernel, as it does a launch's latency. */
static int hip_blas_gemm(kg_device *dev, const kg_blas_gemm *g, kg_error *err)
{
    hip_device_extra *x = kg_gpu_extra(dev);
    int rc = kg_gpu_select(dev, err);
    if (rc)
        return rc;
    if (!x)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory opening the HIP device");
    if (!x->rocblas && (rc = kg_rocblas_handle_create(&x->rocblas, err)))
        return rc;
    return kg_rocblas_gemm(x->rocblas, kg_gpu_stream(dev), g, kg_gpu_address(g->a),
                           kg_gpu_address(g->b), kg_gpu_address(g->c), err);
}

const kg_backend kg_hip_backend = {
    .api_version = KG_BACKEND_API_VERSION,
    .name = "hip",
    .init = hip_init,
    .shutdown = hip_shutdown,
    .device_count = hip_device_count,
    .device_info = hip_device_info,
    .device_open = hip_device_open,
    KG_GPU_CORE_MEMBERS,
    .blas_library = hip_blas_library,
    .blas_gemm = hip_blas_gemm,
};
