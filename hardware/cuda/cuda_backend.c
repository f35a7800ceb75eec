/*
 * The CUDA backend: the driver API (libcuda.so.1), NVRTC and NVML, all
 * loaded at run time (cuda_dynlink.c), on the GPU core (gpu_core.c) that it
 * shares with HIP. What is CUDA's own is here: loading and listing devices,
 * their properties, the driver calls behind the core's vendor table, and
 * the clocks read through NVML.
 *
 * One primary context and one stream per opened device. The stream is a
 * blocking one on purpose: the synchronous host<->device copies run on the
 * legacy default stream, which then orders itself with it (a non-blocking
 * stream could start a kernel before a pageable upload's DMA had landed).
 */
#include "gpu_core.h"
#include "cublas_loader.h"
#include "cuda_dynlink.h"
#include "nvrtc_compile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct {
    kg_cuda_driver drv;
    int device_count;
    kg_nvml nvml;
    int nvml_ready;
} cu;

/* What CUDA keeps per opened device (kg_gpu_device.extra): NVML's view of
 * it, when NVML found it, and its cuBLAS handle, made on first use. */
typedef struct cu_device_extra {
    int nvml;
    kg_nvml_device handle;
    unsigned int default_sm_clock_mhz;
    void *cublas;
} cu_device_extra;

/* ---- errors --------------------------------------------------------------- */

static const char *cu_error_name(int rc)
{
    const char *name = NULL;
    if (cu.drv.cuGetErrorName && cu.drv.cuGetErrorName((CUresult)rc, &name) == CUDA_SUCCESS && name)
        return name;
    return "CUDA_ERROR_UNKNOWN";
}

static const char *cu_error_string(int rc)
{
    const char *text = NULL;
    if (cu.drv.cuGetErrorString && cu.drv.cuGetErrorString((CUresult)rc, &text) == CUDA_SUCCESS &&
        text)
        return text;
    return "unknown error";
}

/* Errors raised while a kernel runs: they surface at the next synchronising
 * call and leave the context unusable. */
static int cu_is_execution_error(int rc)
{
    switch ((CUresult)rc) {
    case CUDA_ERROR_ILLEGAL_ADDRESS:
    case CUDA_ERROR_LAUNCH_FAILED:
    case CUDA_ERROR_LAUNCH_TIMEOUT:
    case CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES:
    case CUDA_ERROR_ILLEGAL_INSTRUCTION:
    case CUDA_ERROR_MISALIGNED_ADDRESS:
    case CUDA_ERROR_INVALID_ADDRESS_SPACE:
    case CUDA_ERROR_INVALID_PC:
    case CUDA_ERROR_HARDWARE_STACK_ERROR:
    case CUDA_ERROR_ASSERT:
        return 1;
    default:
        return 0;
    }
}

static int cu_status(int rc, int fallback)
{
    if (rc == (int)CUDA_ERROR_OUT_OF_MEMORY)
        return KG_ERR_MEMORY;
    if (cu_is_execution_error(rc))
        return KG_ERR_LAUNCH;
    return fallback;
}

/* "what: CUDA_ERROR_ILLEGAL_ADDRESS: an illegal memory access was encountered" */
static int cu_fail(kg_error *err, int fallback, CUresult rc, const char *what)
{
    return kg_error_set_vendor(err, cu_status(rc, fallback), (int)rc, cu_error_name(rc),
                               "%s: %s: %s", what, cu_error_name(rc), cu_error_string(rc));
}

/* ---- init ----------------------------------------------------------------- */

/* device.c calls init once until shutdown, and replays its outcome. */
static int cu_init(kg_error *err)
{
    int rc = kg_cuda_driver_load(&cu.drv, err);
    if (rc != KG_OK)
        return rc;
    CUresult r = cu.drv.cuInit(0);
    if (r == CUDA_SUCCESS)
        r = cu.drv.cuDeviceGetCount(&cu.device_count);
    if (r != CUDA_SUCCESS) {
        rc = r == CUDA_ERROR_NO_DEVICE
                 ? kg_error_set_vendor(err, KG_ERR_UNAVAILABLE, (int)r, cu_error_name(r),
                                       "no NVIDIA GPU (%s)", cu_error_name(r))
                 : cu_fail(err, KG_ERR_UNAVAILABLE, r, "cuInit failed");
        kg_dynlink_unload(&cu.drv.handle, &cu.drv, sizeof cu.drv);
        cu.device_count = 0;
        return rc;
    }
    kg_error ignored;
    cu.nvml_ready =
        kg_nvml_load(&cu.nvml, &ignored) == KG_OK && cu.nvml.nvmlInit() == KG_NVML_SUCCESS;
    if (!cu.nvml_ready)
        kg_dynlink_unload(&cu.nvml.handle, &cu.nvml, sizeof cu.nvml);
    return KG_OK;
}

static void cu_shutdown(void)
{
    if (cu.nvml_ready)
        cu.nvml.nvmlShutdown();
    kg_dynlink_unload(&cu.nvml.handle, &cu.nvml, sizeof cu.nvml);
    kg_dynlink_unload(&cu.drv.handle, &cu.drv, sizeof cu.drv);
    memset(&cu, 0, sizeof cu);
}

static int cu_device_count(void)
{
    return cu.device_count;
}

static int attribute(CUdevice dev, CUdevice_attribute what)
{
    int value = 0;
    if (cu.drv.cuDeviceGetAttribute(&value, what, dev) != CUDA_SUCCESS)
        return 0;
    return value;
}

/* ---- device info ---------------------------------------------------------- */

static int cu_device_info(int index, kg_device_info *out, kg_error *err)
{
    CUdevice dev;
    CUresult r = cu.drv.cuDeviceGet(&dev, index);
    if (r != CUDA_SUCCESS)
        return cu_fail(err, KG_ERR_DEVICE, r, "cuDeviceGet failed");
    snprintf(out->backend, sizeof out->backend, "cuda");
    out->index = index;
    out->type = KG_DEVICE_GPU;
    cu.drv.cuDeviceGetName(out->name, (int)sizeof out->name, dev);
    snprintf(out->vendor, sizeof out->vendor, "NVIDIA");
    int version = 0;
    cu.drv.cuDriverGetVersion(&version);
    snprintf(out->api_version, sizeof out->api_version, "CUDA %d.%d", version / 1000,
             version % 1000 / 10);
    char nvml_version[80] = "";
    if (cu.nvml_ready &&
        cu.nvml.nvmlSystemGetDriverVersion(nvml_version, sizeof nvml_version) == KG_NVML_SUCCESS)
        snprintf(out->driver_version, sizeof out->driver_version, "%s", nvml_version);
    else
        snprintf(out->driver_version, sizeof out->driver_version, "CUDA driver API %d", version);

    int major = attribute(dev, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
    int minor = attribute(dev, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
    snprintf(out->arch, sizeof out->arch, "sm_%d%d", major, minor);
    out->compute_units = (uint32_t)attribute(dev, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
    out->clock_mhz = (uint32_t)(attribute(dev, CU_DEVICE_ATTRIBUTE_CLOCK_RATE) / 1000);
    size_t total = 0;
    cu.drv.cuDeviceTotalMem(&total, dev);
    out->global_mem_bytes = total;
    out->max_alloc_bytes = total;
    out->local_mem_bytes =
        (uint64_t)attribute(dev, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
    out->cache_bytes = (uint64_t)attribute(dev, CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE);
    snprintf(out->cache_source, sizeof out->cache_source, out->cache_bytes ? "device" : "none");
    out->cache_line_bytes = 128;
    out->max_group_size = (uint32_t)attribute(dev, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK);
    out->subgroup_width = (uint32_t)attribute(dev, CU_DEVICE_ATTRIBUTE_WARP_SIZE);
    out->memory_clock_mhz =
        (uint32_t)(attribute(dev, CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE) / 1000);
    out->memory_bus_bits = (uint32_t)attribute(dev, CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH);
    /* Two transfers per clock (DDR); clock in kHz, bus in bits. */
    out->peak_dram_gbs = 2.0 * attribute(dev, CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE) * 1e3 *
                         (out->memory_bus_bits / 8.0) / 1e9;
    return KG_OK;
}

/* ---- the core's vendor calls ---------------------------------------------- */

static int cu_context_open(int index, void **context)
{
    CUdevice device;
    CUresult r = cu.drv.cuDeviceGet(&device, index);
    if (r == CUDA_SUCCESS)
        r = cu.drv.cuDevicePrimaryCtxRetain((CUcontext *)context, device);
    return (int)r;
}

static void cu_context_close(int index, void *context)
{
    CUdevice device;
    if (context && cu.drv.cuDeviceGet(&device, index) == CUDA_SUCCESS)
        cu.drv.cuDevicePrimaryCtxRelease(device);
}

static int cu_context_select(int index, void *context)
{
    (void)index;
    return (int)cu.drv.cuCtxSetCurrent(context);
}

static int cu_stream_create(void **stream)
{
    return (int)cu.drv.cuStreamCreate((CUstream *)stream, CU_STREAM_DEFAULT);
}

static int cu_stream_sync(void *stream)
{
    return (int)cu.drv.cuStreamSynchronize(stream);
}

static void cu_stream_destroy(void *stream)
{
    cu.drv.cuStreamDestroy(stream);
}

static int cu_event_create(void **event)
{
    return (int)cu.drv.cuEventCreate((CUevent *)event, CU_EVENT_DEFAULT);
}

static int cu_event_record(void *event, void *stream)
{
    return (int)cu.drv.cuEventRecord(event, stream);
}

static int cu_event_sync(void *event)
{
    return (int)cu.drv.cuEventSynchronize(event);
}

static int cu_event_elapsed_ms(float *ms, void *start, void *stop)
{
    return (int)cu.drv.cuEventElapsedTime(ms, start, stop);
}

static void cu_event_destroy(void *event)
{
    cu.drv.cuEventDestroy(event);
}

static int cu_mem_alloc(kg_gpu_ptr *ptr, size_t bytes)
{
    CUdeviceptr p = 0;
    CUresult r = cu.drv.cuMemAlloc(&p, bytes);
    *ptr = p;
    return (int)r;
}

static void cu_mem_free(kg_gpu_ptr ptr)
{
    cu.drv.cuMemFree((CUdeviceptr)ptr);
}

static int cu_copy_to_device(kg_gpu_ptr dst, const void *src, size_t bytes)
{
    return (int)cu.drv.cuMemcpyHtoD((CUdeviceptr)dst, src, bytes);
}

static int cu_copy_to_host(void *dst, kg_gpu_ptr src, size_t bytes)
{
    return (int)cu.drv.cuMemcpyDtoH(dst, (CUdeviceptr)src, bytes);
}

static int cu_copy_async(kg_gpu_ptr dst, kg_gpu_ptr src, size_t bytes, void *stream)
{
    return (int)cu.drv.cuMemcpyDtoDAsync((CUdeviceptr)dst, (CUdeviceptr)src, bytes, stream);
}

static int cu_memset8_async(kg_gpu_ptr dst, uint8_t value, size_t count, void *stream)
{
    return (int)cu.drv.cuMemsetD8Async((CUdeviceptr)dst, value, count, stream);
}

static int cu_memset16_async(kg_gpu_ptr dst, uint16_t value, size_t count, void *stream)
{
    return (int)cu.drv.cuMemsetD16Async((CUdeviceptr)dst, value, count, stream);
}

static int cu_memset32_async(kg_gpu_ptr dst, uint32_t value, size_t count, void *stream)
{
    return (int)cu.drv.cuMemsetD32Async((CUdeviceptr)dst, value, count, stream);
}

/* With the JIT's logs, so that an error in PTX reads like a compile error. */
static int cu_module_load(void **module, const void *image, char *info_log, size_t info_size,
                          char *error_log, size_t error_size)
{
    CUjit_option options[] = {CU_JIT_INFO_LOG_BUFFER, CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES,
                              CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
    void *values[] = {info_log, (void *)(uintptr_t)info_size, error_log,
                      (void *)(uintptr_t)error_size};
    unsigned count = info_log && error_log ? 4 : 0;
    return (int)cu.drv.cuModuleLoadDataEx((CUmodule *)module, image, count, options, values);
}

static void cu_module_unload(void *module)
{
    cu.drv.cuModuleUnload(module);
}

static int cu_module_function(void **function, void *module, const char *entry)
{
    return (int)cu.drv.cuModuleGetFunction((CUfunction *)function, module, entry);
}

static int cu_set_dynamic_shared(void *function, size_t bytes)
{
    return (int)cu.drv.cuFuncSetAttribute(function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                          (int)bytes);
}

static int cu_launch(void *function, const unsigned grid[3], const unsigned block[3],
                     unsigned dynamic_shared, void *stream, void **params)
{
    return (int)cu.drv.cuLaunchKernel(function, grid[0], grid[1], grid[2], block[0], block[1],
                                      block[2], dynamic_shared, stream, params, NULL);
}

/* NVML identifies devices by PCI bus id, not CUDA's ordinal. */
static void *cu_attach(int index, void *context)
{
    (void)context;
    cu_device_extra *x = calloc(1, sizeof *x);
    CUdevice device;
    char bus_id[32];
    if (!x || !cu.nvml_ready || cu.drv.cuDeviceGet(&device, index) != CUDA_SUCCESS ||
        cu.drv.cuDeviceGetPCIBusId(bus_id, (int)sizeof bus_id, device) != CUDA_SUCCESS ||
        cu.nvml.nvmlDeviceGetHandleByPciBusId(bus_id, &x->handle) != KG_NVML_SUCCESS)
        return x;
    x->nvml = 1;
    if (cu.nvml.nvmlDeviceGetDefaultApplicationsClock(x->handle, KG_NVML_CLOCK_SM,
                                                      &x->default_sm_clock_mhz) != KG_NVML_SUCCESS)
        x->default_sm_clock_mhz = 0;
    return x;
}

/* With the device's context current (gpu_core's close). */
static void cu_detach(void *extra)
{
    cu_device_extra *x = extra;
    kg_cublas_handle_destroy(x->cublas);
    free(x);
}

/* A kernel that waits `ns` nanoseconds of the GPU's global timer (the
 * core's hold kernel, see gpu_core.h). */
static const char hold_source[] =
    "extern \"C\" __global__ void kg_hold_stream(unsigned long long ns)\n"
    "{\n"
    "    unsigned long long start, now;\n"
    "    asm volatile(\"mov.u64 %0, %%globaltimer;\" : \"=l\"(start));\n"
    "    do {\n"
    "        asm volatile(\"mov.u64 %0, %%globaltimer;\" : \"=l\"(now));\n"
    "    } while (now - start < ns);\n"
    "}\n";

static const kg_language cu_images[] = {KG_LANG_PTX, KG_LANG_CUBIN, KG_LANG_FATBIN, KG_LANG_COUNT};

static const kg_gpu_vendor cuda_vendor = {
    .api = "CUDA",
    .native = KG_LANG_CUDA,
    .images = cu_images,
    .languages = "portable, cuda, ptx, cubin or fatbin",
    .grid_limit = {0x7fffffffull, 65535ull, 65535ull},
    .dynamic_shared_default = 48 * 1024,
    .hold_source = hold_source,
    .error_name = cu_error_name,
    .error_string = cu_error_string,
    .status_of = cu_status,
    .context_open = cu_context_open,
    .context_close = cu_context_close,
    .context_select = cu_context_select,
    .stream_create = cu_stream_create,
    .stream_sync = cu_stream_sync,
    .stream_destroy = cu_stream_destroy,
    .event_create = cu_event_create,
    .event_record = cu_event_record,
    .event_sync = cu_event_sync,
    .event_elapsed_ms = cu_event_elapsed_ms,
    .event_destroy = cu_event_destroy,
    .mem_alloc = cu_mem_alloc,
    .mem_free = cu_mem_free,
    .copy_to_device = cu_copy_to_device,
    .copy_to_host = cu_copy_to_host,
    .copy_async = cu_copy_async,
    .memset8_async = cu_memset8_async,
    .memset16_async = cu_memset16_async,
    .memset32_async = cu_memset32_async,
    .module_load = cu_module_load,
    .module_unload = cu_module_unload,
    .module_function = cu_module_function,
    .set_dynamic_shared = cu_set_dynamic_shared,
    .launch = cu_launch,
    .compile = kg_nvrtc_compile,
    .attach = cu_attach,
    .detach = cu_detach,
};

static int cu_device_open(kg_device *dev, int index, kg_error *err)
{
    return kg_gpu_open(&cuda_vendor, dev, index, err);
}

/* SM clock and whether it is held down: NVML's slowdown reasons (power,
 * thermal, hardware), or a clock below 75% of the default application
 * clock. */
static int cu_read_clocks(kg_device *dev, uint32_t *sm_clock_mhz, int *throttled, kg_error *err)
{
    *sm_clock_mhz = 0;
    *throttled = 0;
    const cu_device_extra *nv = kg_gpu_extra(dev);
    if (!nv || !nv->nvml)
        return kg_error_set(err, KG_ERR_UNSUPPORTED, "clocks need NVML (libnvidia-ml.so.1)");
    unsigned int mhz = 0;
    unsigned long long reasons = 0;
    int n = cu.nvml.nvmlDeviceGetClockInfo(nv->handle, KG_NVML_CLOCK_SM, &mhz);
    if (n == KG_NVML_SUCCESS)
        n = cu.nvml.nvmlDeviceGetCurrentClocksEventReasons(nv->handle, &reasons);
    if (n != KG_NVML_SUCCESS)
        return kg_error_set(err, KG_ERR_DEVICE, "NVML: %s", cu.nvml.nvmlErrorString(n));
    *sm_clock_mhz = mhz;
    *throttled = (reasons & KG_NVML_SLOWDOWN_REASONS) != 0 ||
                 (nv->default_sm_clock_mhz && mhz * 4 < nv->default_sm_clock_mhz * 3);
    return KG_OK;
}

/* ---- the BLAS library (cuBLAS) ------------------------------------------- */

static int cu_blas_library(kg_blas_dtype dtype, kg_blas_library *out, kg_error *err)
{
    return kg_cublas_library(dtype, out, err);
}

/* On the device's stream, between the core's timing events: a timed
 * region covers every kernel cuBLAS enqueues for the call, and the hold
 * kernel before its start event keeps cuBLAS's host-side work out, as it
 * does a launch's (docs/cuda.md). */
static int cu_blas_gemm(kg_device *dev, const kg_blas_gemm *g, kg_error *err)
{
    cu_device_extra *x = kg_gpu_extra(dev);
    int rc = kg_gpu_select(dev, err);
    if (rc)
        return rc;
    if (!x)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory opening the CUDA device");
    if (!x->cublas && (rc = kg_cublas_handle_create(&x->cublas, err)))
        return rc;
    return kg_cublas_gemm(x->cublas, kg_gpu_stream(dev), g, kg_gpu_address(g->a),
                          kg_gpu_address(g->b), kg_gpu_address(g->c), err);
}

const kg_backend kg_cuda_backend = {
    .api_version = KG_BACKEND_API_VERSION,
    .name = "cuda",
    .init = cu_init,
    .shutdown = cu_shutdown,
    .device_count = cu_device_count,
    .device_info = cu_device_info,
    .device_open = cu_device_open,
    KG_GPU_CORE_MEMBERS,
    .read_clocks = cu_read_clocks,
    .blas_library = cu_blas_library,
    .blas_gemm = cu_blas_gemm,
};
