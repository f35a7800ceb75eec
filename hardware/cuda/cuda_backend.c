/*
 * The CUDA backend: the driver API (libcuda.so.1) and NVRTC, both loaded at
 * run time (cuda_dynlink.c), behind the kg_backend interface.
 *
 * One primary context and one stream per opened device; every launch, fill
 * and event goes to that stream, so its order is the order the runner
 * enqueued. The stream is a blocking one on purpose: the synchronous
 * host<->device copies run on the legacy default stream, which then orders
 * itself with it (a non-blocking stream could start a kernel before a
 * pageable upload's DMA had landed). Device time is read from CUDA events recorded
 * on the stream around the launches.
 */
#include "backend.h"
#include "launch_params.h"
#include "cuda_dynlink.h"
#include "nvrtc_compile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Floor of the L2 flush buffer, as for OpenCL. */
#define KG_CU_FLUSH_MIN_BYTES ((size_t)8 << 20)
/* How long the stream is held busy before a timed region starts (below). */
#define KG_CU_HOLD_NS 50000ull
/* Launches take at most this many arguments. */
#define KG_CU_MAX_ARGS 64

static struct {
    int state;  /* 0 not tried, 1 ready, -1 failed */
    int status; /* init's result, replayed on later calls */
    kg_error error;
    kg_cuda_driver drv;
    int device_count;
    kg_nvml nvml;
    int nvml_ready;
} cu;

struct kg_device {
    int index;
    CUdevice device;
    CUcontext context;
    CUstream stream;
    CUevent start, stop;
    int timing;             /* a timed region is open */
    size_t region_launches; /* launches since timer_start */
    CUdeviceptr flush;
    size_t flush_bytes;
    uint32_t flush_calls;
    size_t l2_bytes;
    char arch[16];
    /* Holds the stream busy while the host enqueues a timed region. */
    CUmodule hold_module;
    CUfunction hold;
    kg_nvml_device nvml_device;
    unsigned int default_sm_clock_mhz;
};

struct kg_program {
    kg_device *dev;
    CUmodule module;
    char *source_name;
};

struct kg_kernel {
    kg_device *dev;
    CUfunction function;
    char *entry;
    char *source_name;
    int dynamic_local_limit; /* bytes the function currently accepts */
};

struct kg_buffer {
    kg_device *dev;
    CUdeviceptr ptr;
    size_t bytes;
    int is_view; /* aliases part of another buffer: nothing to free */
};

/* ---- errors --------------------------------------------------------------- */

static const char *cu_error_name(CUresult rc)
{
    const char *name = NULL;
    if (cu.drv.cuGetErrorName && cu.drv.cuGetErrorName(rc, &name) == CUDA_SUCCESS && name)
        return name;
    return "CUDA_ERROR_UNKNOWN";
}

static const char *cu_error_string(CUresult rc)
{
    const char *text = NULL;
    if (cu.drv.cuGetErrorString && cu.drv.cuGetErrorString(rc, &text) == CUDA_SUCCESS && text)
        return text;
    return "unknown error";
}

/* Errors raised while a kernel runs: they surface at the next synchronising
 * call and leave the context unusable. */
static int cu_is_execution_error(CUresult rc)
{
    switch (rc) {
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

static int cu_status(CUresult rc, int fallback)
{
    if (rc == CUDA_ERROR_OUT_OF_MEMORY)
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

static char *dup_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* ---- init ----------------------------------------------------------------- */

static int cu_init(kg_error *err)
{
    if (cu.state == 0) {
        kg_error e = {0};
        int rc = kg_cuda_driver_load(&cu.drv, &e);
        if (rc == KG_OK) {
            CUresult r = cu.drv.cuInit(0);
            if (r == CUDA_SUCCESS)
                r = cu.drv.cuDeviceGetCount(&cu.device_count);
            if (r != CUDA_SUCCESS) {
                rc = r == CUDA_ERROR_NO_DEVICE
                         ? kg_error_set_vendor(&e, KG_ERR_UNAVAILABLE, (int)r, cu_error_name(r),
                                               "no NVIDIA GPU (%s)", cu_error_name(r))
                         : cu_fail(&e, KG_ERR_UNAVAILABLE, r, "cuInit failed");
                kg_dynlink_unload(&cu.drv.handle, &cu.drv, sizeof cu.drv);
            }
        }
        if (rc == KG_OK) {
            kg_error ignored;
            cu.nvml_ready =
                kg_nvml_load(&cu.nvml, &ignored) == KG_OK && cu.nvml.nvmlInit() == KG_NVML_SUCCESS;
            if (!cu.nvml_ready)
                kg_dynlink_unload(&cu.nvml.handle, &cu.nvml, sizeof cu.nvml);
        }
        cu.state = rc == KG_OK ? 1 : -1;
        cu.status = rc;
        cu.error = e;
    }
    if (cu.state < 0) {
        if (err)
            *err = cu.error;
        return cu.status;
    }
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
    return cu.state == 1 ? cu.device_count : 0;
}

static int check_index(int index, kg_error *err)
{
    if (cu.state != 1)
        return kg_error_set(err, KG_ERR_INVALID, "the CUDA backend is not initialised");
    if (index < 0 || index >= cu.device_count)
        return kg_error_set(err, KG_ERR_INVALID, "CUDA device %d does not exist (%d present)",
                            index, cu.device_count);
    return KG_OK;
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
    int rc = check_index(index, err);
    if (rc)
        return rc;
    memset(out, 0, sizeof *out);
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

/* ---- device open / close -------------------------------------------------- */

static void cu_module_unload(CUmodule *module)
{
    if (*module)
        cu.drv.cuModuleUnload(*module);
    *module = NULL;
}

static void cu_device_close(kg_device *dev)
{
    if (!dev)
        return;
    if (dev->context) {
        cu.drv.cuCtxSetCurrent(dev->context);
        if (dev->stream)
            cu.drv.cuStreamSynchronize(dev->stream);
        if (dev->flush)
            cu.drv.cuMemFree(dev->flush);
        cu_module_unload(&dev->hold_module);
        if (dev->start)
            cu.drv.cuEventDestroy(dev->start);
        if (dev->stop)
            cu.drv.cuEventDestroy(dev->stop);
        if (dev->stream)
            cu.drv.cuStreamDestroy(dev->stream);
        cu.drv.cuDevicePrimaryCtxRelease(dev->device);
    }
    free(dev);
}

/* A kernel that waits `ns` nanoseconds of the GPU's global timer. Enqueued
 * before a timed region's start event, it keeps the stream busy while the
 * host enqueues the event and the launches, so the region measures the
 * kernels and not the host's launch latency (the gap a start event on an
 * idle stream would include). */
static const char hold_source[] =
    "extern \"C\" __global__ void kg_hold_stream(unsigned long long ns)\n"
    "{\n"
    "    unsigned long long start, now;\n"
    "    asm volatile(\"mov.u64 %0, %%globaltimer;\" : \"=l\"(start));\n"
    "    do {\n"
    "        asm volatile(\"mov.u64 %0, %%globaltimer;\" : \"=l\"(now));\n"
    "    } while (now - start < ns);\n"
    "}\n";

/* Without NVRTC there is no hold kernel; timing still works, with the
 * launch latency inside short regions. */
static void load_hold_kernel(kg_device *dev)
{
    kg_build_request req = {
        .language = KG_LANG_CUDA, .source = hold_source, .source_name = "kg_hold_stream.cu"};
    void *cubin = NULL;
    size_t size = 0;
    kg_error ignored;
    if (kg_nvrtc_compile(&req, dev->arch, &cubin, &size, NULL, &ignored) != KG_OK)
        return;
    if (cu.drv.cuModuleLoadDataEx(&dev->hold_module, cubin, 0, NULL, NULL) == CUDA_SUCCESS &&
        cu.drv.cuModuleGetFunction(&dev->hold, dev->hold_module, "kg_hold_stream") != CUDA_SUCCESS)
        cu_module_unload(&dev->hold_module);
    free(cubin);
}

/* NVML identifies devices by PCI bus id, not CUDA's ordinal. */
static void attach_nvml(kg_device *dev)
{
    if (!cu.nvml_ready)
        return;
    char bus_id[32];
    if (cu.drv.cuDeviceGetPCIBusId(bus_id, (int)sizeof bus_id, dev->device) != CUDA_SUCCESS ||
        cu.nvml.nvmlDeviceGetHandleByPciBusId(bus_id, &dev->nvml_device) != KG_NVML_SUCCESS) {
        dev->nvml_device = NULL;
        return;
    }
    if (cu.nvml.nvmlDeviceGetDefaultApplicationsClock(
            dev->nvml_device, KG_NVML_CLOCK_SM, &dev->default_sm_clock_mhz) != KG_NVML_SUCCESS)
        dev->default_sm_clock_mhz = 0;
}

static int cu_device_open(int index, kg_device **out, kg_error *err)
{
    *out = NULL;
    int rc = check_index(index, err);
    if (rc)
        return rc;
    kg_device *dev = calloc(1, sizeof *dev);
    if (!dev)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory opening CUDA device %d", index);
    dev->index = index;
    CUresult r = cu.drv.cuDeviceGet(&dev->device, index);
    if (r == CUDA_SUCCESS)
        r = cu.drv.cuDevicePrimaryCtxRetain(&dev->context, dev->device);
    if (r != CUDA_SUCCESS) {
        dev->context = NULL;
        cu_device_close(dev);
        return cu_fail(err, KG_ERR_DEVICE, r, "creating the CUDA context failed");
    }
    if ((r = cu.drv.cuCtxSetCurrent(dev->context)) != CUDA_SUCCESS ||
        (r = cu.drv.cuStreamCreate(&dev->stream, CU_STREAM_DEFAULT)) != CUDA_SUCCESS ||
        (r = cu.drv.cuEventCreate(&dev->start, CU_EVENT_DEFAULT)) != CUDA_SUCCESS ||
        (r = cu.drv.cuEventCreate(&dev->stop, CU_EVENT_DEFAULT)) != CUDA_SUCCESS) {
        cu_device_close(dev);
        return cu_fail(err, KG_ERR_DEVICE, r, "creating the CUDA stream and events failed");
    }
    dev->l2_bytes = (size_t)attribute(dev->device, CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE);
    snprintf(dev->arch, sizeof dev->arch, "sm_%d%d",
             attribute(dev->device, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
             attribute(dev->device, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR));
    load_hold_kernel(dev);
    attach_nvml(dev);
    *out = dev;
    return KG_OK;
}

static int make_current(kg_device *dev, kg_error *err)
{
    if (!dev)
        return kg_error_set(err, KG_ERR_INVALID, "NULL CUDA device");
    CUresult r = cu.drv.cuCtxSetCurrent(dev->context);
    return r == CUDA_SUCCESS ? KG_OK : cu_fail(err, KG_ERR_DEVICE, r, "cuCtxSetCurrent failed");
}

/* ---- programs and kernels ------------------------------------------------- */

static int is_binary_language(kg_language lang)
{
    return lang == KG_LANG_PTX || lang == KG_LANG_CUBIN || lang == KG_LANG_FATBIN;
}

/* Loads a cubin, fatbin or PTX image; for PTX the driver's JIT log is
 * appended to *log so that a PTX error reads like a compile error. */
static int load_module(kg_device *dev, const void *image, const char *name, CUmodule *module,
                       char **log, kg_error *err)
{
    char info[4096] = "", error_log[8192] = "";
    CUjit_option options[] = {CU_JIT_INFO_LOG_BUFFER, CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES,
                              CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
    void *values[] = {info, (void *)(uintptr_t)sizeof info, error_log,
                      (void *)(uintptr_t)sizeof error_log};
    CUresult r = cu.drv.cuModuleLoadDataEx(module, image, 4, options, values);
    if ((info[0] || error_log[0]) && log) {
        size_t old = *log ? strlen(*log) : 0;
        size_t add = strlen(info) + strlen(error_log) + 2;
        char *grown = realloc(*log, old + add + 1);
        if (grown) {
            snprintf(grown + old, add + 1, "%s%s%s", error_log, error_log[0] ? "\n" : "", info);
            *log = grown;
        }
    }
    if (r != CUDA_SUCCESS) {
        *module = NULL;
        char what[600];
        snprintf(what, sizeof what, "loading %s for %s failed%s%.400s", name, dev->arch,
                 error_log[0] ? ": " : "", error_log);
        return cu_fail(err, r == CUDA_ERROR_OUT_OF_MEMORY ? KG_ERR_MEMORY : KG_ERR_BUILD, r, what);
    }
    return KG_OK;
}

static void cu_program_free(kg_program *prog)
{
    if (!prog)
        return;
    if (prog->module) {
        cu.drv.cuCtxSetCurrent(prog->dev->context);
        cu_module_unload(&prog->module);
    }
    free(prog->source_name);
    free(prog);
}

static int cu_program_build(kg_device *dev, const kg_build_request *req, kg_program **out,
                            char **log, kg_error *err)
{
    if (log)
        *log = NULL;
    *out = NULL;
    int rc = make_current(dev, err);
    if (rc)
        return rc;
    const char *name = req->source_name ? req->source_name : "<source>";
    kg_program *prog = calloc(1, sizeof *prog);
    if (!prog || !(prog->source_name = dup_string(name))) {
        free(prog);
        return kg_error_set(err, KG_ERR_MEMORY, "%s: out of memory", name);
    }
    prog->dev = dev;
    char *build_log = NULL;
    if (req->language == KG_LANG_PORTABLE || req->language == KG_LANG_CUDA) {
        void *cubin = NULL;
        size_t size = 0;
        rc = kg_nvrtc_compile(req, dev->arch, &cubin, &size, &build_log, err);
        if (rc == KG_OK)
            rc = load_module(dev, cubin, name, &prog->module, &build_log, err);
        free(cubin);
    } else if (is_binary_language(req->language)) {
        /* PTX is text the driver needs NUL-terminated; binaries are used as
         * they are (their headers carry their size). */
        size_t size = req->source_size ? req->source_size : strlen(req->source);
        char *image = malloc(size + 1);
        if (!image) {
            rc = kg_error_set(err, KG_ERR_MEMORY, "%s: out of memory", name);
        } else {
            memcpy(image, req->source, size);
            image[size] = '\0';
            rc = load_module(dev, image, name, &prog->module, &build_log, err);
            free(image);
        }
    } else {
        rc =
            kg_error_set(err, KG_ERR_UNSUPPORTED,
                         "%s: the CUDA backend builds portable, cuda, ptx, cubin or fatbin, not %s",
                         name, kg_language_name(req->language));
    }
    if (log)
        *log = build_log;
    else
        free(build_log);
    if (rc) {
        cu_program_free(prog);
        return rc;
    }
    *out = prog;
    return KG_OK;
}

static int cu_kernel_create(kg_program *prog, const char *entry, kg_kernel **out, kg_error *err)
{
    *out = NULL;
    int rc = make_current(prog ? prog->dev : NULL, err);
    if (rc)
        return rc;
    kg_kernel *k = calloc(1, sizeof *k);
    if (!k || !(k->entry = dup_string(entry)) ||
        !(k->source_name = dup_string(prog->source_name))) {
        if (k)
            free(k->entry);
        free(k);
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    }
    k->dev = prog->dev;
    CUresult r = cu.drv.cuModuleGetFunction(&k->function, prog->module, entry);
    if (r != CUDA_SUCCESS) {
        free(k->entry);
        free(k->source_name);
        free(k);
        char what[512];
        snprintf(what, sizeof what,
                 "%s has no kernel '%s' (CUDA entry points need extern \"C\" to keep their name)",
                 prog->source_name, entry);
        return cu_fail(err, KG_ERR_INVALID, r, what);
    }
    k->dynamic_local_limit = 48 * 1024;
    *out = k;
    return KG_OK;
}

static void cu_kernel_free(kg_kernel *k)
{
    if (!k)
        return;
    free(k->entry);
    free(k->source_name);
    free(k);
}

/* ---- buffers -------------------------------------------------------------- */

static int cu_buffer_alloc(kg_device *dev, size_t bytes, kg_buffer **out, kg_error *err)
{
    *out = NULL;
    int rc = make_current(dev, err);
    if (rc)
        return rc;
    kg_buffer *b = calloc(1, sizeof *b);
    if (!b)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    b->dev = dev;
    b->bytes = bytes;
    /* cuMemAlloc rejects 0 bytes; an empty tensor still gets a valid pointer. */
    CUresult r = cu.drv.cuMemAlloc(&b->ptr, bytes ? bytes : 1);
    if (r != CUDA_SUCCESS) {
        free(b);
        char what[96];
        snprintf(what, sizeof what, "allocating %zu bytes on the device failed", bytes);
        return cu_fail(err, KG_ERR_MEMORY, r, what);
    }
    *out = b;
    return KG_OK;
}

static int cu_buffer_view(kg_device *dev, kg_buffer *parent, size_t offset, size_t bytes,
                          kg_buffer **out, kg_error *err)
{
    (void)dev;
    *out = NULL;
    int status = kg_buffer_range_check(parent != NULL, parent ? parent->bytes : 0, offset, bytes,
                                       "buffer_view", err);
    if (status)
        return status;
    kg_buffer *b = calloc(1, sizeof *b);
    if (!b)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    b->dev = parent->dev;
    b->ptr = parent->ptr + offset;
    b->bytes = bytes;
    b->is_view = 1;
    *out = b;
    return KG_OK;
}

static void cu_buffer_free(kg_buffer *b)
{
    if (!b)
        return;
    if (b->is_view) {
        free(b);
        return;
    }
    cu.drv.cuCtxSetCurrent(b->dev->context);
    cu.drv.cuMemFree(b->ptr);
    free(b);
}

static int check_range(const kg_buffer *b, size_t offset, size_t bytes, const char *what,
                       kg_error *err)
{
    return kg_buffer_range_check(b != NULL, b ? b->bytes : 0, offset, bytes, what, err);
}

/* Transfers go through the runner's stream order: wait for it first, since
 * the synchronous copies run on the legacy stream. */
static int cu_buffer_write(kg_device *dev, kg_buffer *b, size_t offset, const void *src,
                           size_t bytes, kg_error *err)
{
    int rc = make_current(dev, err);
    if (!rc)
        rc = check_range(b, offset, bytes, "buffer_write", err);
    if (rc || !bytes)
        return rc;
    CUresult r = cu.drv.cuStreamSynchronize(dev->stream);
    if (r == CUDA_SUCCESS)
        r = cu.drv.cuMemcpyHtoD(b->ptr + offset, src, bytes);
    return r == CUDA_SUCCESS ? KG_OK : cu_fail(err, KG_ERR_DEVICE, r, "host-to-device copy failed");
}

static int cu_buffer_read(kg_device *dev, kg_buffer *b, size_t offset, void *dst, size_t bytes,
                          kg_error *err)
{
    int rc = make_current(dev, err);
    if (!rc)
        rc = check_range(b, offset, bytes, "buffer_read", err);
    if (rc || !bytes)
        return rc;
    CUresult r = cu.drv.cuStreamSynchronize(dev->stream);
    if (r == CUDA_SUCCESS)
        r = cu.drv.cuMemcpyDtoH(dst, b->ptr + offset, bytes);
    return r == CUDA_SUCCESS ? KG_OK : cu_fail(err, KG_ERR_DEVICE, r, "device-to-host copy failed");
}

/* Patterns of 1, 2 and 4 bytes map to cuMemsetD8/16/32; 8 and 16 bytes
 * (f64 NaN, canaries) are written as 4-byte pattern words when the words are
 * equal, else by doubling copies of a first written block. */
static int cu_buffer_fill(kg_device *dev, kg_buffer *b, size_t offset, const void *pattern,
                          size_t pattern_size, size_t bytes, kg_error *err)
{
    int rc = make_current(dev, err);
    if (!rc)
        rc = check_range(b, offset, bytes, "buffer_fill", err);
    if (rc)
        return rc;
    if (pattern_size != 1 && pattern_size != 2 && pattern_size != 4 && pattern_size != 8 &&
        pattern_size != 16)
        return kg_error_set(err, KG_ERR_INVALID, "buffer_fill: pattern of %zu bytes", pattern_size);
    if (bytes % pattern_size || offset % pattern_size)
        return kg_error_set(err, KG_ERR_INVALID,
                            "buffer_fill: offset and size must be multiples of the pattern");
    if (!bytes)
        return KG_OK;
    CUdeviceptr at = b->ptr + offset;
    CUresult r;
    if (pattern_size == 1) {
        r = cu.drv.cuMemsetD8Async(at, *(const unsigned char *)pattern, bytes, dev->stream);
    } else if (pattern_size == 2) {
        uint16_t v;
        memcpy(&v, pattern, 2);
        r = cu.drv.cuMemsetD16Async(at, v, bytes / 2, dev->stream);
    } else if (pattern_size == 4) {
        uint32_t v;
        memcpy(&v, pattern, 4);
        r = cu.drv.cuMemsetD32Async(at, v, bytes / 4, dev->stream);
    } else {
        r = cu.drv.cuMemcpyHtoD(at, pattern, pattern_size);
        for (size_t done = pattern_size; r == CUDA_SUCCESS && done < bytes; done *= 2) {
            size_t n = done < bytes - done ? done : bytes - done;
            r = cu.drv.cuMemcpyDtoDAsync(at + done, at, n, dev->stream);
        }
    }
    if (r == CUDA_SUCCESS)
        r = cu.drv.cuStreamSynchronize(dev->stream);
    return r == CUDA_SUCCESS ? KG_OK : cu_fail(err, KG_ERR_DEVICE, r, "buffer fill failed");
}

static int cu_buffer_copy(kg_device *dev, kg_buffer *dst, size_t dst_offset, kg_buffer *src,
                          size_t src_offset, size_t bytes, kg_error *err)
{
    int rc = make_current(dev, err);
    if (!rc)
        rc = check_range(dst, dst_offset, bytes, "buffer_copy (destination)", err);
    if (!rc)
        rc = check_range(src, src_offset, bytes, "buffer_copy (source)", err);
    if (rc || !bytes)
        return rc;
    CUresult r =
        cu.drv.cuMemcpyDtoDAsync(dst->ptr + dst_offset, src->ptr + src_offset, bytes, dev->stream);
    return r == CUDA_SUCCESS ? KG_OK : cu_fail(err, KG_ERR_DEVICE, r, "device copy failed");
}

/* ---- launches, timing ----------------------------------------------------- */

/* Where a buffer's device pointer lives, for kg_launch_params. */
static void *buffer_slot(kg_buffer *b)
{
    return &b->ptr;
}

static int cu_launch(kg_device *dev, kg_kernel *k, const kg_launch *l, kg_error *err)
{
    int rc = make_current(dev, err);
    if (rc)
        return rc;
    if (!k || !l)
        return kg_error_set(err, KG_ERR_INVALID, "launch: NULL kernel or launch");
    for (int d = 0; d < 3; d++)
        if (l->grid[d] > (d == 0 ? 0x7fffffffull : 65535ull))
            return kg_error_set(err, KG_ERR_INVALID, "%s: grid[%d] = %llu exceeds CUDA's limit",
                                k->entry, d, (unsigned long long)l->grid[d]);
    if (l->dynamic_local_bytes > (size_t)k->dynamic_local_limit) {
        /* Above 48 KiB the function must opt in to more dynamic shared memory. */
        CUresult r =
            cu.drv.cuFuncSetAttribute(k->function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                      (int)l->dynamic_local_bytes);
        if (r != CUDA_SUCCESS) {
            char what[256];
            snprintf(what, sizeof what, "%s: %zu bytes of dynamic shared memory not available",
                     k->entry, l->dynamic_local_bytes);
            return cu_fail(err, KG_ERR_LAUNCH, r, what);
        }
        k->dynamic_local_limit = (int)l->dynamic_local_bytes;
    }
    void *params[KG_CU_MAX_ARGS];
    if ((rc = kg_launch_params(l, k->entry, buffer_slot, params, KG_CU_MAX_ARGS, err)))
        return rc;
    CUresult r = cu.drv.cuLaunchKernel(k->function, (unsigned)l->grid[0], (unsigned)l->grid[1],
                                       (unsigned)l->grid[2], l->block[0], l->block[1], l->block[2],
                                       (unsigned)l->dynamic_local_bytes, dev->stream,
                                       l->arg_count ? params : NULL, NULL);
    if (r != CUDA_SUCCESS) {
        char what[512];
        snprintf(what, sizeof what,
                 "launching %s (%s) with grid [%llu, %llu, %llu], block [%u, %u, %u], "
                 "%zu bytes dynamic shared memory failed",
                 k->entry, k->source_name, (unsigned long long)l->grid[0],
                 (unsigned long long)l->grid[1], (unsigned long long)l->grid[2], l->block[0],
                 l->block[1], l->block[2], l->dynamic_local_bytes);
        return cu_fail(err, KG_ERR_LAUNCH, r, what);
    }
    if (dev->timing)
        dev->region_launches++;
    return KG_OK;
}

static int cu_synchronize(kg_device *dev, kg_error *err)
{
    int rc = make_current(dev, err);
    if (rc)
        return rc;
    CUresult r = cu.drv.cuStreamSynchronize(dev->stream);
    return r == CUDA_SUCCESS
               ? KG_OK
               : cu_fail(err, KG_ERR_LAUNCH, r, "a kernel failed (stream synchronize)");
}

static int cu_timer_start(kg_device *dev, kg_error *err)
{
    int rc = make_current(dev, err);
    if (rc)
        return rc;
    if (dev->timing)
        return kg_error_set(err, KG_ERR_INVALID,
                            "timer_start: a timed region is already open (missing timer_stop)");
    CUresult r = CUDA_SUCCESS;
    if (dev->hold) {
        unsigned long long ns = KG_CU_HOLD_NS;
        void *params[] = {&ns};
        r = cu.drv.cuLaunchKernel(dev->hold, 1, 1, 1, 1, 1, 1, 0, dev->stream, params, NULL);
    }
    if (r == CUDA_SUCCESS)
        r = cu.drv.cuEventRecord(dev->start, dev->stream);
    if (r != CUDA_SUCCESS)
        return cu_fail(err, KG_ERR_DEVICE, r, "starting the timed region failed");
    dev->timing = 1;
    dev->region_launches = 0;
    return KG_OK;
}

static int cu_timer_stop(kg_device *dev, double *elapsed_seconds, kg_error *err)
{
    int rc = make_current(dev, err);
    if (rc)
        return rc;
    *elapsed_seconds = 0;
    if (!dev->timing)
        return kg_error_set(err, KG_ERR_INVALID, "timer_stop: no timed region is open");
    dev->timing = 0;
    CUresult r = cu.drv.cuEventRecord(dev->stop, dev->stream);
    if (r == CUDA_SUCCESS)
        r = cu.drv.cuEventSynchronize(dev->stop);
    if (r != CUDA_SUCCESS)
        return cu_fail(err, KG_ERR_LAUNCH, r, "a kernel in the timed region failed");
    if (dev->region_launches == 0)
        return kg_error_set(err, KG_ERR_INVALID, "timer_stop: the timed region has no launch");
    float ms = 0;
    r = cu.drv.cuEventElapsedTime(&ms, dev->start, dev->stop);
    if (r != CUDA_SUCCESS)
        return cu_fail(err, KG_ERR_DEVICE, r, "reading the event times failed");
    *elapsed_seconds = (double)ms * 1e-3;
    return KG_OK;
}

/* Writes 2x the L2 with a pattern that changes every call, then waits. */
static int cu_flush_cache(kg_device *dev, kg_error *err)
{
    int rc = make_current(dev, err);
    if (rc)
        return rc;
    CUresult r;
    if (!dev->flush) {
        size_t bytes = 2 * dev->l2_bytes;
        if (bytes < KG_CU_FLUSH_MIN_BYTES)
            bytes = KG_CU_FLUSH_MIN_BYTES;
        if ((r = cu.drv.cuMemAlloc(&dev->flush, bytes)) != CUDA_SUCCESS) {
            dev->flush = 0;
            return cu_fail(err, KG_ERR_MEMORY, r, "allocating the L2 flush buffer failed");
        }
        dev->flush_bytes = bytes;
    }
    dev->flush_calls++;
    r = cu.drv.cuMemsetD32Async(dev->flush, dev->flush_calls * 0x9E3779B9u, dev->flush_bytes / 4,
                                dev->stream);
    if (r == CUDA_SUCCESS)
        r = cu.drv.cuStreamSynchronize(dev->stream);
    return r == CUDA_SUCCESS ? KG_OK : cu_fail(err, KG_ERR_DEVICE, r, "the L2 flush failed");
}

/* SM clock and whether it is held down: NVML's slowdown reasons (power,
 * thermal, hardware), or a clock below 75% of the default application
 * clock. */
static int cu_read_clocks(kg_device *dev, uint32_t *sm_clock_mhz, int *throttled, kg_error *err)
{
    *sm_clock_mhz = 0;
    *throttled = 0;
    if (!dev || !dev->nvml_device)
        return kg_error_set(err, KG_ERR_UNSUPPORTED, "clocks need NVML (libnvidia-ml.so.1)");
    unsigned int mhz = 0;
    unsigned long long reasons = 0;
    int n = cu.nvml.nvmlDeviceGetClockInfo(dev->nvml_device, KG_NVML_CLOCK_SM, &mhz);
    if (n == KG_NVML_SUCCESS)
        n = cu.nvml.nvmlDeviceGetCurrentClocksEventReasons(dev->nvml_device, &reasons);
    if (n != KG_NVML_SUCCESS)
        return kg_error_set(err, KG_ERR_DEVICE, "NVML: %s", cu.nvml.nvmlErrorString(n));
    *sm_clock_mhz = mhz;
    *throttled = (reasons & KG_NVML_SLOWDOWN_REASONS) != 0 ||
                 (dev->default_sm_clock_mhz && mhz * 4 < dev->default_sm_clock_mhz * 3);
    return KG_OK;
}

const kg_backend kg_cuda_backend = {
    .api_version = KG_BACKEND_API_VERSION,
    .name = "cuda",
    .init = cu_init,
    .shutdown = cu_shutdown,
    .device_count = cu_device_count,
    .device_info = cu_device_info,
    .device_open = cu_device_open,
    .device_close = cu_device_close,
    .program_build = cu_program_build,
    .program_free = cu_program_free,
    .kernel_create = cu_kernel_create,
    .kernel_free = cu_kernel_free,
    .buffer_alloc = cu_buffer_alloc,
    .buffer_free = cu_buffer_free,
    .buffer_view = cu_buffer_view,
    .buffer_write = cu_buffer_write,
    .buffer_read = cu_buffer_read,
    .buffer_fill = cu_buffer_fill,
    .buffer_copy = cu_buffer_copy,
    .launch = cu_launch,
    .synchronize = cu_synchronize,
    .timer_start = cu_timer_start,
    .timer_stop = cu_timer_stop,
    .flush_cache = cu_flush_cache,
    .read_clocks = cu_read_clocks,
};
