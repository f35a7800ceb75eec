/*
 * The HIP backend (AMD GPUs through ROCm): the HIP runtime and hiprtc, both
 * loaded at run time (hip_dynlink.c), behind the kg_backend interface.
 *
 * One stream per opened device; every launch, fill and event goes to it, in
 * the order the runner enqueued. Device time is read from HIP events
 * recorded on the stream around the launches. HIP has no explicit context:
 * every entry point selects the device first (hipSetDevice).
 *
 * Exercised on real AMD hardware: not yet (docs/validation.md). What runs
 * in CI without a GPU: hiprtc compiles for gfx908, gfx90a and gfx1030, and
 * the no-device path.
 */
#include "backend.h"
#include "launch_params.h"
#include "hip_dynlink.h"
#include "hiprtc_compile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KG_HIP_FLUSH_MIN_BYTES ((size_t)8 << 20)
#define KG_HIP_MAX_ARGS        64

static struct {
    int state;  /* 0 not tried, 1 ready, -1 failed */
    int status; /* init's result, replayed on later calls */
    kg_error error;
    kg_hip_runtime rt;
    int device_count;
} hip;

struct kg_device {
    int index;
    hipStream_t stream;
    hipEvent_t start, stop;
    int timing;
    size_t region_launches;
    void *flush;
    size_t flush_bytes;
    uint32_t flush_calls;
    size_t llc_bytes;
    char arch[64]; /* gcnArchName, e.g. "gfx90a:sramecc+:xnack-" */
};

struct kg_program {
    kg_device *dev;
    hipModule_t module;
    char *source_name;
};

struct kg_kernel {
    kg_device *dev;
    hipFunction_t function;
    char *entry;
    char *source_name;
};

struct kg_buffer {
    kg_device *dev;
    char *ptr;
    size_t bytes;
    int is_view; /* aliases part of another buffer: nothing to free */
};

/* ---- errors --------------------------------------------------------------- */

static const char *hip_error_name(hipError_t rc)
{
    const char *name = hip.rt.hipGetErrorName ? hip.rt.hipGetErrorName(rc) : NULL;
    return name ? name : "hipErrorUnknown";
}

static const char *hip_error_string(hipError_t rc)
{
    const char *text = hip.rt.hipGetErrorString ? hip.rt.hipGetErrorString(rc) : NULL;
    return text ? text : "unknown error";
}

static int hip_status(hipError_t rc, int fallback)
{
    switch (rc) {
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

static char *dup_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* ---- init ----------------------------------------------------------------- */

static int hip_init(kg_error *err)
{
    if (hip.state == 0) {
        kg_error e = {0};
        int rc = kg_hip_runtime_load(&hip.rt, &e);
        if (rc == KG_OK) {
            hipError_t r = hip.rt.hipInit(0);
            if (r == hipSuccess)
                r = hip.rt.hipGetDeviceCount(&hip.device_count);
            if (r == hipSuccess && hip.device_count == 0)
                r = hipErrorNoDevice;
            /* Without a GPU (no /dev/kfd), ROCm 5's hipInit answers
             * hipErrorInvalidDevice; with no usable driver, the others. */
            int no_gpu = r == hipErrorNoDevice || r == hipErrorInvalidDevice ||
                         r == hipErrorInsufficientDriver || r == hipErrorNotInitialized;
            if (r != hipSuccess) {
                rc = no_gpu ? kg_error_set_vendor(&e, KG_ERR_UNAVAILABLE, (int)r, hip_error_name(r),
                                                  "no AMD GPU (hipInit: %s; runtime %s loaded)",
                                                  hip_error_name(r), hip.rt.library)
                            : hip_fail(&e, KG_ERR_UNAVAILABLE, r, "hipInit failed");
                kg_dynlink_unload(&hip.rt.handle, &hip.rt, sizeof hip.rt);
                hip.device_count = 0;
            }
        }
        hip.state = rc == KG_OK ? 1 : -1;
        hip.status = rc;
        hip.error = e;
    }
    if (hip.state < 0) {
        if (err)
            *err = hip.error;
        return hip.status;
    }
    return KG_OK;
}

static void hip_shutdown(void)
{
    kg_dynlink_unload(&hip.rt.handle, &hip.rt, sizeof hip.rt);
    memset(&hip, 0, sizeof hip);
}

static int hip_device_count(void)
{
    return hip.state == 1 ? hip.device_count : 0;
}

static int check_index(int index, kg_error *err)
{
    if (hip.state != 1)
        return kg_error_set(err, KG_ERR_INVALID, "the HIP backend is not initialised");
    if (index < 0 || index >= hip.device_count)
        return kg_error_set(err, KG_ERR_INVALID, "HIP device %d does not exist (%d present)", index,
                            hip.device_count);
    return KG_OK;
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
    int rc = check_index(index, err);
    if (rc)
        return rc;
    memset(out, 0, sizeof *out);
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

/* ---- device open / close -------------------------------------------------- */

static int select_device(kg_device *dev, kg_error *err)
{
    if (!dev)
        return kg_error_set(err, KG_ERR_INVALID, "NULL HIP device");
    hipError_t r = hip.rt.hipSetDevice(dev->index);
    return r == hipSuccess ? KG_OK : hip_fail(err, KG_ERR_DEVICE, r, "hipSetDevice failed");
}

static void hip_device_close(kg_device *dev)
{
    if (!dev)
        return;
    hip.rt.hipSetDevice(dev->index);
    if (dev->stream)
        hip.rt.hipStreamSynchronize(dev->stream);
    if (dev->flush)
        hip.rt.hipFree(dev->flush);
    if (dev->start)
        hip.rt.hipEventDestroy(dev->start);
    if (dev->stop)
        hip.rt.hipEventDestroy(dev->stop);
    if (dev->stream)
        hip.rt.hipStreamDestroy(dev->stream);
    free(dev);
}

static int hip_device_open(int index, kg_device **out, kg_error *err)
{
    *out = NULL;
    int rc = check_index(index, err);
    if (rc)
        return rc;
    kg_device *dev = calloc(1, sizeof *dev);
    if (!dev)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory opening HIP device %d", index);
    dev->index = index;
    hipError_t r;
    if ((r = hip.rt.hipSetDevice(index)) != hipSuccess ||
        (r = hip.rt.hipStreamCreate(&dev->stream)) != hipSuccess ||
        (r = hip.rt.hipEventCreate(&dev->start)) != hipSuccess ||
        (r = hip.rt.hipEventCreate(&dev->stop)) != hipSuccess) {
        hip_device_close(dev);
        return hip_fail(err, KG_ERR_DEVICE, r, "creating the HIP stream and events failed");
    }
    arch_name(index, dev->arch, sizeof dev->arch);
    if (!dev->arch[0]) {
        hip_device_close(dev);
        return kg_error_set(err, KG_ERR_DEVICE,
                            "HIP device %d: no gcnArchName in its properties (a runtime whose "
                            "hipDeviceProp_t differs from ROCm 5's?)",
                            index);
    }
    uint64_t l2 = (uint64_t)attribute(index, hipDeviceAttributeL2CacheSize);
    uint64_t infinity = infinity_cache_bytes(dev->arch);
    dev->llc_bytes = (size_t)(infinity > l2 ? infinity : l2);
    *out = dev;
    return KG_OK;
}

/* ---- programs and kernels ------------------------------------------------- */

static void hip_program_free(kg_program *prog)
{
    if (!prog)
        return;
    if (prog->module) {
        hip.rt.hipSetDevice(prog->dev->index);
        hip.rt.hipModuleUnload(prog->module);
    }
    free(prog->source_name);
    free(prog);
}

static int load_module(kg_device *dev, const void *image, const char *name, hipModule_t *module,
                       kg_error *err)
{
    hipError_t r = hip.rt.hipModuleLoadData(module, image);
    if (r != hipSuccess) {
        *module = NULL;
        char what[300];
        snprintf(what, sizeof what, "loading %s for %s failed", name, dev->arch);
        return hip_fail(err, r == hipErrorOutOfMemory ? KG_ERR_MEMORY : KG_ERR_BUILD, r, what);
    }
    return KG_OK;
}

static int hip_program_build(kg_device *dev, const kg_build_request *req, kg_program **out,
                             char **log, kg_error *err)
{
    if (log)
        *log = NULL;
    *out = NULL;
    int rc = select_device(dev, err);
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
    if (req->language == KG_LANG_PORTABLE || req->language == KG_LANG_HIP) {
        void *code = NULL;
        size_t size = 0;
        rc = kg_hiprtc_compile(req, dev->arch, &code, &size, &build_log, err);
        if (rc == KG_OK)
            rc = load_module(dev, code, name, &prog->module, err);
        free(code);
    } else if (req->language == KG_LANG_HSACO) {
        rc = load_module(dev, req->source, name, &prog->module, err);
    } else {
        rc = kg_error_set(err, KG_ERR_UNSUPPORTED,
                          "%s: the HIP backend builds portable, hip or hsaco, not %s", name,
                          kg_language_name(req->language));
    }
    if (log)
        *log = build_log;
    else
        free(build_log);
    if (rc) {
        hip_program_free(prog);
        return rc;
    }
    *out = prog;
    return KG_OK;
}

static int hip_kernel_create(kg_program *prog, const char *entry, kg_kernel **out, kg_error *err)
{
    *out = NULL;
    int rc = select_device(prog ? prog->dev : NULL, err);
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
    hipError_t r = hip.rt.hipModuleGetFunction(&k->function, prog->module, entry);
    if (r != hipSuccess) {
        free(k->entry);
        free(k->source_name);
        free(k);
        char what[512];
        snprintf(what, sizeof what,
                 "%s has no kernel '%s' (HIP entry points need extern \"C\" to keep their name)",
                 prog->source_name, entry);
        return hip_fail(err, KG_ERR_INVALID, r, what);
    }
    *out = k;
    return KG_OK;
}

static void hip_kernel_free(kg_kernel *k)
{
    if (!k)
        return;
    free(k->entry);
    free(k->source_name);
    free(k);
}

/* ---- buffers -------------------------------------------------------------- */

static int hip_buffer_alloc(kg_device *dev, size_t bytes, kg_buffer **out, kg_error *err)
{
    *out = NULL;
    int rc = select_device(dev, err);
    if (rc)
        return rc;
    kg_buffer *b = calloc(1, sizeof *b);
    if (!b)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    b->dev = dev;
    b->bytes = bytes;
    void *p = NULL;
    hipError_t r = hip.rt.hipMalloc(&p, bytes ? bytes : 1);
    if (r != hipSuccess) {
        free(b);
        char what[96];
        snprintf(what, sizeof what, "allocating %zu bytes on the device failed", bytes);
        return hip_fail(err, KG_ERR_MEMORY, r, what);
    }
    b->ptr = p;
    *out = b;
    return KG_OK;
}

static int hip_buffer_view(kg_device *dev, kg_buffer *parent, size_t offset, size_t bytes,
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

static void hip_buffer_free(kg_buffer *b)
{
    if (!b)
        return;
    if (!b->is_view) {
        hip.rt.hipSetDevice(b->dev->index);
        hip.rt.hipFree(b->ptr);
    }
    free(b);
}

static int check_range(const kg_buffer *b, size_t offset, size_t bytes, const char *what,
                       kg_error *err)
{
    return kg_buffer_range_check(b != NULL, b ? b->bytes : 0, offset, bytes, what, err);
}

/* Synchronous copies: the stream is drained first, so they are ordered
 * after everything the runner enqueued. */
static int hip_buffer_write(kg_device *dev, kg_buffer *b, size_t offset, const void *src,
                            size_t bytes, kg_error *err)
{
    int rc = select_device(dev, err);
    if (!rc)
        rc = check_range(b, offset, bytes, "buffer_write", err);
    if (rc || !bytes)
        return rc;
    hipError_t r = hip.rt.hipStreamSynchronize(dev->stream);
    if (r == hipSuccess)
        r = hip.rt.hipMemcpyHtoD(b->ptr + offset, (void *)src, bytes);
    return r == hipSuccess ? KG_OK : hip_fail(err, KG_ERR_DEVICE, r, "host-to-device copy failed");
}

static int hip_buffer_read(kg_device *dev, kg_buffer *b, size_t offset, void *dst, size_t bytes,
                           kg_error *err)
{
    int rc = select_device(dev, err);
    if (!rc)
        rc = check_range(b, offset, bytes, "buffer_read", err);
    if (rc || !bytes)
        return rc;
    hipError_t r = hip.rt.hipStreamSynchronize(dev->stream);
    if (r == hipSuccess)
        r = hip.rt.hipMemcpyDtoH(dst, b->ptr + offset, bytes);
    return r == hipSuccess ? KG_OK : hip_fail(err, KG_ERR_DEVICE, r, "device-to-host copy failed");
}

/* 1-, 2- and 4-byte patterns map to hipMemsetD8/16/32; 8 and 16 bytes by
 * doubling copies of a first written block, as in the CUDA backend. */
static int hip_buffer_fill(kg_device *dev, kg_buffer *b, size_t offset, const void *pattern,
                           size_t pattern_size, size_t bytes, kg_error *err)
{
    int rc = select_device(dev, err);
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
    char *at = b->ptr + offset;
    hipError_t r;
    if (pattern_size == 1) {
        r = hip.rt.hipMemsetD8Async(at, *(const unsigned char *)pattern, bytes, dev->stream);
    } else if (pattern_size == 2) {
        uint16_t v;
        memcpy(&v, pattern, 2);
        r = hip.rt.hipMemsetD16Async(at, v, bytes / 2, dev->stream);
    } else if (pattern_size == 4) {
        uint32_t v;
        memcpy(&v, pattern, 4);
        r = hip.rt.hipMemsetD32Async(at, (int)v, bytes / 4, dev->stream);
    } else {
        r = hip.rt.hipStreamSynchronize(dev->stream);
        if (r == hipSuccess)
            r = hip.rt.hipMemcpyHtoD(at, (void *)pattern, pattern_size);
        for (size_t done = pattern_size; r == hipSuccess && done < bytes; done *= 2) {
            size_t n = done < bytes - done ? done : bytes - done;
            r = hip.rt.hipMemcpyDtoDAsync(at + done, at, n, dev->stream);
        }
    }
    if (r == hipSuccess)
        r = hip.rt.hipStreamSynchronize(dev->stream);
    return r == hipSuccess ? KG_OK : hip_fail(err, KG_ERR_DEVICE, r, "buffer fill failed");
}

static int hip_buffer_copy(kg_device *dev, kg_buffer *dst, size_t dst_offset, kg_buffer *src,
                           size_t src_offset, size_t bytes, kg_error *err)
{
    int rc = select_device(dev, err);
    if (!rc)
        rc = check_range(dst, dst_offset, bytes, "buffer_copy (destination)", err);
    if (!rc)
        rc = check_range(src, src_offset, bytes, "buffer_copy (source)", err);
    if (rc || !bytes)
        return rc;
    hipError_t r =
        hip.rt.hipMemcpyDtoDAsync(dst->ptr + dst_offset, src->ptr + src_offset, bytes, dev->stream);
    return r == hipSuccess ? KG_OK : hip_fail(err, KG_ERR_DEVICE, r, "device copy failed");
}

/* ---- launches, timing ----------------------------------------------------- */

/* Where a buffer's device pointer lives, for kg_launch_params. */
static void *buffer_slot(kg_buffer *b)
{
    return &b->ptr;
}

static int hip_launch(kg_device *dev, kg_kernel *k, const kg_launch *l, kg_error *err)
{
    int rc = select_device(dev, err);
    if (rc)
        return rc;
    if (!k || !l)
        return kg_error_set(err, KG_ERR_INVALID, "launch: NULL kernel or launch");
    for (int d = 0; d < 3; d++)
        if (l->grid[d] > 0x7fffffffull)
            return kg_error_set(err, KG_ERR_INVALID, "%s: grid[%d] = %llu exceeds HIP's limit",
                                k->entry, d, (unsigned long long)l->grid[d]);
    void *params[KG_HIP_MAX_ARGS];
    if ((rc = kg_launch_params(l, k->entry, buffer_slot, params, KG_HIP_MAX_ARGS, err)))
        return rc;
    hipError_t r = hip.rt.hipModuleLaunchKernel(
        k->function, (unsigned)l->grid[0], (unsigned)l->grid[1], (unsigned)l->grid[2], l->block[0],
        l->block[1], l->block[2], (unsigned)l->dynamic_local_bytes, dev->stream,
        l->arg_count ? params : NULL, NULL);
    if (r != hipSuccess) {
        char what[512];
        snprintf(what, sizeof what,
                 "launching %s (%s) with grid [%llu, %llu, %llu], block [%u, %u, %u], "
                 "%zu bytes dynamic shared memory failed",
                 k->entry, k->source_name, (unsigned long long)l->grid[0],
                 (unsigned long long)l->grid[1], (unsigned long long)l->grid[2], l->block[0],
                 l->block[1], l->block[2], l->dynamic_local_bytes);
        return hip_fail(err, KG_ERR_LAUNCH, r, what);
    }
    if (dev->timing)
        dev->region_launches++;
    return KG_OK;
}

static int hip_synchronize(kg_device *dev, kg_error *err)
{
    int rc = select_device(dev, err);
    if (rc)
        return rc;
    hipError_t r = hip.rt.hipStreamSynchronize(dev->stream);
    return r == hipSuccess
               ? KG_OK
               : hip_fail(err, KG_ERR_LAUNCH, r, "a kernel failed (stream synchronize)");
}

static int hip_timer_start(kg_device *dev, kg_error *err)
{
    int rc = select_device(dev, err);
    if (rc)
        return rc;
    if (dev->timing)
        return kg_error_set(err, KG_ERR_INVALID,
                            "timer_start: a timed region is already open (missing timer_stop)");
    hipError_t r = hip.rt.hipEventRecord(dev->start, dev->stream);
    if (r != hipSuccess)
        return hip_fail(err, KG_ERR_DEVICE, r, "starting the timed region failed");
    dev->timing = 1;
    dev->region_launches = 0;
    return KG_OK;
}

static int hip_timer_stop(kg_device *dev, double *elapsed_seconds, kg_error *err)
{
    int rc = select_device(dev, err);
    if (rc)
        return rc;
    *elapsed_seconds = 0;
    if (!dev->timing)
        return kg_error_set(err, KG_ERR_INVALID, "timer_stop: no timed region is open");
    dev->timing = 0;
    hipError_t r = hip.rt.hipEventRecord(dev->stop, dev->stream);
    if (r == hipSuccess)
        r = hip.rt.hipEventSynchronize(dev->stop);
    if (r != hipSuccess)
        return hip_fail(err, KG_ERR_LAUNCH, r, "a kernel in the timed region failed");
    if (dev->region_launches == 0)
        return kg_error_set(err, KG_ERR_INVALID, "timer_stop: the timed region has no launch");
    float ms = 0;
    r = hip.rt.hipEventElapsedTime(&ms, dev->start, dev->stop);
    if (r != hipSuccess)
        return hip_fail(err, KG_ERR_DEVICE, r, "reading the event times failed");
    *elapsed_seconds = (double)ms * 1e-3;
    return KG_OK;
}

/* Writes 2x the last-level cache (L2, or the Infinity Cache where the GPU
 * has one) with a pattern that changes every call, then waits. */
static int hip_flush_cache(kg_device *dev, kg_error *err)
{
    int rc = select_device(dev, err);
    if (rc)
        return rc;
    hipError_t r;
    if (!dev->flush) {
        size_t bytes = 2 * dev->llc_bytes;
        if (bytes < KG_HIP_FLUSH_MIN_BYTES)
            bytes = KG_HIP_FLUSH_MIN_BYTES;
        if ((r = hip.rt.hipMalloc(&dev->flush, bytes)) != hipSuccess) {
            dev->flush = NULL;
            return hip_fail(err, KG_ERR_MEMORY, r, "allocating the cache flush buffer failed");
        }
        dev->flush_bytes = bytes;
    }
    dev->flush_calls++;
    r = hip.rt.hipMemsetD32Async(dev->flush, (int)(dev->flush_calls * 0x9E3779B9u),
                                 dev->flush_bytes / 4, dev->stream);
    if (r == hipSuccess)
        r = hip.rt.hipStreamSynchronize(dev->stream);
    return r == hipSuccess ? KG_OK : hip_fail(err, KG_ERR_DEVICE, r, "the cache flush failed");
}

const kg_backend kg_hip_backend = {
    .api_version = KG_BACKEND_API_VERSION,
    .name = "hip",
    .init = hip_init,
    .shutdown = hip_shutdown,
    .device_count = hip_device_count,
    .device_info = hip_device_info,
    .device_open = hip_device_open,
    .device_close = hip_device_close,
    .program_build = hip_program_build,
    .program_free = hip_program_free,
    .kernel_create = hip_kernel_create,
    .kernel_free = hip_kernel_free,
    .buffer_alloc = hip_buffer_alloc,
    .buffer_free = hip_buffer_free,
    .buffer_view = hip_buffer_view,
    .buffer_write = hip_buffer_write,
    .buffer_read = hip_buffer_read,
    .buffer_fill = hip_buffer_fill,
    .buffer_copy = hip_buffer_copy,
    .launch = hip_launch,
    .synchronize = hip_synchronize,
    .timer_start = hip_timer_start,
    .timer_stop = hip_timer_stop,
    .flush_cache = hip_flush_cache,
};
