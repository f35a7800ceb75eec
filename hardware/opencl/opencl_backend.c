/*
 * The OpenCL backend: every platform's devices in one indexed list, one
 * in-order profiling queue per opened device, and the primitives the runner
 * times and checks kernels with (see core/backend_impl.h for the contract).
 *
 * Only OpenCL 1.2 entry points are used, so any driver from the last decade
 * (PoCL on CPUs, NVIDIA, AMD, Intel) loads the same binary through the ICD
 * loader.
 */
#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
/* clCreateCommandQueue is the 1.2 way to make a queue; newer headers mark it
 * deprecated in favour of a 2.0 call that 1.2 drivers lack. */
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <CL/cl.h>

#include "backend_impl.h"
#include "build_text.h"
#include "cl_errors.h"
#ifdef KG_HAVE_CLBLAST
#include "clblast_loader.h"
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The portable-dialect prelude (prelude.cl), embedded at build time as a
 * NUL-terminated string by scripts/embed_text.cmake. */
extern const char kg_opencl_prelude[];

/* The floor of the cache-flush buffer, for devices that report a tiny or no
 * cache size. */
#define KG_CL_FLUSH_MIN_BYTES ((size_t)8 << 20)

typedef struct kg_cl_device_slot {
    cl_platform_id platform;
    cl_device_id device;
    int subgroup_probed;     /* 1 once subgroup_width below is known (even as 0) */
    uint32_t subgroup_width; /* CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE */
} kg_cl_device_slot;

/* What init found: one flat list over all platforms. */
static struct {
    int initialized;
    kg_cl_device_slot *slots;
    int count;
} kg_cl_state;

/* One opened device (kg_device.ctx). */
typedef struct cl_dev {
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;
    /* The open timed region: every launch event since timer_start. */
    cl_event *events;
    size_t event_count;
    size_t event_cap;
    /* The cache-flush buffer, allocated on first flush. */
    cl_mem flush_buffer;
    size_t flush_bytes;
    uint32_t flush_calls;
} cl_dev;

/* One kernel (kg_kernel.ctx). */
typedef struct cl_kern {
    cl_kernel kernel;
    cl_uint arg_count;
} cl_kern;

static cl_dev *dev_of(const kg_device *dev)
{
    return dev->ctx;
}

static cl_mem mem_of(const kg_buffer *buf)
{
    return buf->ctx;
}

/* One place turns a failed CL call into a kg_error, so every message carries
 * the code and its symbolic name. */
static int kg_cl_fail(kg_error *err, int status, cl_int code, const char *what)
{
    const char *name = kg_cl_error_name(code);
    return kg_error_set_vendor(err, status, (int)code, name, "%s: %s (%d)", what, name, (int)code);
}

/* Allocation failures are KG_ERR_MEMORY whatever call reported them, so the
 * runner can tell "too big for this device" from a bug. */
static int kg_cl_is_memory_error(cl_int code)
{
    return code == CL_MEM_OBJECT_ALLOCATION_FAILURE || code == CL_OUT_OF_HOST_MEMORY ||
           code == CL_INVALID_BUFFER_SIZE;
}

/* A failed call that allocates or enqueues: KG_ERR_MEMORY when the code says
 * so, else KG_ERR_DEVICE. */
static int kg_cl_fail_call(kg_error *err, cl_int code, const char *what)
{
    return kg_cl_fail(err, kg_cl_is_memory_error(code) ? KG_ERR_MEMORY : KG_ERR_DEVICE, code, what);
}

/* ---- init / devices ------------------------------------------------------ */

/* Device ids need no release in OpenCL 1.2 (root devices); only our list. */
static void kg_cl_shutdown(void)
{
    free(kg_cl_state.slots);
    memset(&kg_cl_state, 0, sizeof kg_cl_state);
}

/* Flattens platforms x devices into one list so that "opencl:N" is stable
 * for a given machine and driver set, whatever the platform count. */
static int kg_cl_init(kg_error *err)
{
    if (kg_cl_state.initialized)
        return KG_OK;
    cl_uint platform_count = 0;
    cl_int rc = clGetPlatformIDs(0, NULL, &platform_count);
    if (rc == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || (rc == CL_SUCCESS && platform_count == 0))
        return kg_error_set_vendor(
            err, KG_ERR_UNAVAILABLE, (int)rc, rc ? kg_cl_error_name(rc) : "",
            "no OpenCL platform found (is an ICD such as pocl-opencl-icd installed?)");
    if (rc != CL_SUCCESS)
        return kg_cl_fail(err, KG_ERR_UNAVAILABLE, rc, "clGetPlatformIDs failed");
    cl_platform_id *platforms = malloc(platform_count * sizeof *platforms);
    if (!platforms)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory listing OpenCL platforms");
    rc = clGetPlatformIDs(platform_count, platforms, NULL);
    if (rc != CL_SUCCESS) {
        free(platforms);
        return kg_cl_fail(err, KG_ERR_UNAVAILABLE, rc, "clGetPlatformIDs failed");
    }
    kg_cl_device_slot *slots = NULL;
    int count = 0;
    for (cl_uint p = 0; p < platform_count; p++) {
        cl_uint n = 0;
        rc = clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 0, NULL, &n);
        /* A platform without devices (a driver installed for absent
         * hardware) is normal; it just contributes nothing. */
        if (rc != CL_SUCCESS || n == 0)
            continue;
        cl_device_id *ids = malloc(n * sizeof *ids);
        kg_cl_device_slot *grown = realloc(slots, ((size_t)count + n) * sizeof *slots);
        if (!ids || !grown) {
            free(ids);
            free(grown ? grown : slots);
            free(platforms);
            return kg_error_set(err, KG_ERR_MEMORY, "out of memory listing OpenCL devices");
        }
        slots = grown;
        rc = clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, n, ids, NULL);
        if (rc == CL_SUCCESS) {
            for (cl_uint d = 0; d < n; d++) {
                memset(&slots[count], 0, sizeof slots[count]);
                slots[count].platform = platforms[p];
                slots[count].device = ids[d];
                count++;
            }
        }
        free(ids);
    }
    free(platforms);
    kg_cl_state.slots = slots;
    kg_cl_state.count = count;
    kg_cl_state.initialized = 1;
    return KG_OK;
}

/* 0 before init, so a caller that skipped init sees no devices, not garbage. */
static int kg_cl_device_count(void)
{
    return kg_cl_state.initialized ? kg_cl_state.count : 0;
}

/* String queries truncate instead of failing: a long driver string must not
 * make a device unusable. */
static void kg_cl_device_string(cl_device_id dev, cl_device_info what, char *out, size_t cap)
{
    size_t size = 0;
    out[0] = '\0';
    if (clGetDeviceInfo(dev, what, 0, NULL, &size) != CL_SUCCESS || size == 0)
        return;
    char *tmp = malloc(size + 1);
    if (!tmp)
        return;
    if (clGetDeviceInfo(dev, what, size, tmp, NULL) == CL_SUCCESS) {
        tmp[size] = '\0';
        snprintf(out, cap, "%s", tmp);
    }
    free(tmp);
}

/* Same truncating policy as kg_cl_device_string, for platform strings. */
static void kg_cl_platform_string(cl_platform_id platform, cl_platform_info what, char *out,
                                  size_t cap)
{
    size_t size = 0;
    out[0] = '\0';
    if (clGetPlatformInfo(platform, what, 0, NULL, &size) != CL_SUCCESS || size == 0)
        return;
    char *tmp = malloc(size + 1);
    if (!tmp)
        return;
    if (clGetPlatformInfo(platform, what, size, tmp, NULL) == CL_SUCCESS) {
        tmp[size] = '\0';
        snprintf(out, cap, "%s", tmp);
    }
    free(tmp);
}

/* Numeric queries of different widths (cl_uint, cl_ulong, size_t) through
 * one helper; an unanswered query reads as 0, which backend.h defines as
 * "not exposed". */
static uint64_t kg_cl_device_number(cl_device_id dev, cl_device_info what, size_t width)
{
    union {
        cl_uint u32;
        cl_ulong u64;
        size_t size;
    } v;
    memset(&v, 0, sizeof v);
    if (clGetDeviceInfo(dev, what, width, &v, NULL) != CL_SUCCESS)
        return 0;
    if (width == sizeof(cl_uint))
        return v.u32;
    if (width == sizeof(size_t))
        return (uint64_t)v.size;
    return v.u64;
}

/* The last-level cache the flush must exceed. Some CPU drivers (PoCL 3.1 on
 * a VM, for one) report no global-memory cache at all; their "device" is the
 * host CPU, so the host's last-level cache size is the honest answer. */
static uint64_t kg_cl_cache_bytes(cl_device_id dev, char *source, size_t source_size)
{
    uint64_t bytes = kg_cl_device_number(dev, CL_DEVICE_GLOBAL_MEM_CACHE_SIZE, sizeof(cl_ulong));
    if (bytes) {
        snprintf(source, source_size, "device");
        return bytes;
    }
    cl_device_type type = 0;
    if (clGetDeviceInfo(dev, CL_DEVICE_TYPE, sizeof type, &type, NULL) == CL_SUCCESS &&
        (type & CL_DEVICE_TYPE_CPU)) {
        const int levels[] = {_SC_LEVEL4_CACHE_SIZE, _SC_LEVEL3_CACHE_SIZE, _SC_LEVEL2_CACHE_SIZE};
        for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
            long host = sysconf(levels[i]);
            if (host > 0) {
                snprintf(source, source_size, "host");
                return (uint64_t)host;
            }
        }
    }
    snprintf(source, source_size, "none");
    return 0;
}

/* OpenCL 1.2 exposes the SIMD width only per kernel
 * (CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE), so a trivial kernel is
 * built once per device and the answer cached: 32 on NVIDIA, 64 on most AMD,
 * the vector width on PoCL. Any failure leaves 0 ("not exposed") rather than
 * failing device_info, since nothing is graded on this number. */
static uint32_t kg_cl_probe_subgroup_width(cl_device_id dev)
{
    static const char *probe_source = "__kernel void kg_probe(__global int *p) { p[0] = 1; }";
    cl_int rc;
    size_t multiple = 0;
    cl_context ctx = clCreateContext(NULL, 1, &dev, NULL, NULL, &rc);
    if (rc != CL_SUCCESS)
        return 0;
    cl_program prog = clCreateProgramWithSource(ctx, 1, &probe_source, NULL, &rc);
    if (rc == CL_SUCCESS) {
        if (clBuildProgram(prog, 1, &dev, "", NULL, NULL) == CL_SUCCESS) {
            cl_kernel k = clCreateKernel(prog, "kg_probe", &rc);
            if (rc == CL_SUCCESS) {
                if (clGetKernelWorkGroupInfo(k, dev, CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE,
                                             sizeof multiple, &multiple, NULL) != CL_SUCCESS)
                    multiple = 0;
                clReleaseKernel(k);
            }
        }
        clReleaseProgram(prog);
    }
    clReleaseContext(ctx);
    return multiple <= UINT32_MAX ? (uint32_t)multiple : 0;
}

/* A device may report several type bits; the most capable one decides how
 * the runner ranks it. */
static kg_device_type kg_cl_device_type(cl_device_type type)
{
    if (type & CL_DEVICE_TYPE_GPU)
        return KG_DEVICE_GPU;
    if (type & CL_DEVICE_TYPE_ACCELERATOR)
        return KG_DEVICE_ACCELERATOR;
    if (type & CL_DEVICE_TYPE_CPU)
        return KG_DEVICE_CPU;
    return KG_DEVICE_OTHER;
}

/* Fills what the device reports; device_info is what results files
 * fingerprint, so every field OpenCL can answer is answered. */
static int kg_cl_device_info(int index, kg_device_info *out, kg_error *err)
{
    kg_cl_device_slot *slot = &kg_cl_state.slots[index];
    cl_device_id dev = slot->device;
    snprintf(out->backend, sizeof out->backend, "opencl");
    out->index = index;

    cl_device_type type = 0;
    cl_int rc = clGetDeviceInfo(dev, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    if (rc != CL_SUCCESS)
        return kg_cl_fail(err, KG_ERR_DEVICE, rc, "clGetDeviceInfo(CL_DEVICE_TYPE) failed");
    out->type = kg_cl_device_type(type);

    kg_cl_device_string(dev, CL_DEVICE_NAME, out->name, sizeof out->name);
    kg_cl_device_string(dev, CL_DEVICE_VENDOR, out->vendor, sizeof out->vendor);
    kg_cl_device_string(dev, CL_DRIVER_VERSION, out->driver_version, sizeof out->driver_version);
    kg_cl_device_string(dev, CL_DEVICE_VERSION, out->api_version, sizeof out->api_version);
    kg_cl_platform_string(slot->platform, CL_PLATFORM_NAME, out->platform, sizeof out->platform);

    out->compute_units =
        (uint32_t)kg_cl_device_number(dev, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof(cl_uint));
    out->clock_mhz =
        (uint32_t)kg_cl_device_number(dev, CL_DEVICE_MAX_CLOCK_FREQUENCY, sizeof(cl_uint));
    out->global_mem_bytes = kg_cl_device_number(dev, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof(cl_ulong));
    out->local_mem_bytes = kg_cl_device_number(dev, CL_DEVICE_LOCAL_MEM_SIZE, sizeof(cl_ulong));
    out->cache_bytes = kg_cl_cache_bytes(dev, out->cache_source, sizeof out->cache_source);
    out->cache_line_bytes =
        (uint32_t)kg_cl_device_number(dev, CL_DEVICE_GLOBAL_MEM_CACHELINE_SIZE, sizeof(cl_uint));
    uint64_t group = kg_cl_device_number(dev, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof(size_t));
    out->max_group_size = group <= UINT32_MAX ? (uint32_t)group : UINT32_MAX;
    out->max_alloc_bytes = kg_cl_device_number(dev, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof(cl_ulong));

    if (!slot->subgroup_probed) {
        slot->subgroup_width = kg_cl_probe_subgroup_width(dev);
        slot->subgroup_probed = 1;
    }
    out->subgroup_width = slot->subgroup_width;

    /* OpenCL has no portable architecture query; a CPU driver's device name
     * (PoCL: "pthread-skylake-avx512-...") names the ISA it compiles for. */
    if (out->type == KG_DEVICE_CPU)
        snprintf(out->arch, sizeof out->arch, "%.*s", (int)sizeof out->arch - 1, out->name);
    return KG_OK;
}

/* ---- device open / close ------------------------------------------------- */

/* Events hold driver memory; a region's events are dropped as soon as its
 * time is known (or the region is abandoned). */
static void kg_cl_release_events(cl_dev *d)
{
    for (size_t i = 0; i < d->event_count; i++)
        clReleaseEvent(d->events[i]);
    d->event_count = 0;
}

/* Waits first so that nothing still running refers to what is released;
 * also the cleanup path of a half-opened device. */
static void kg_cl_close(cl_dev *d)
{
    if (d->queue)
        clFinish(d->queue);
#ifdef KG_HAVE_CLBLAST
    /* CLBlast's cached programs hold the context: drop them first. */
    kg_clblast_clear_cache();
#endif
    kg_cl_release_events(d);
    free(d->events);
    if (d->flush_buffer)
        clReleaseMemObject(d->flush_buffer);
    if (d->queue)
        clReleaseCommandQueue(d->queue);
    if (d->context)
        clReleaseContext(d->context);
    free(d);
}

static void kg_cl_device_close(kg_device *dev)
{
    if (dev->ctx)
        kg_cl_close(dev_of(dev));
    dev->ctx = NULL;
}

/* One in-order queue with profiling: in-order so that the runner's
 * enqueue-then-time sequence needs no explicit dependencies, profiling
 * because device-side timestamps are what the runner grades on. */
static int kg_cl_device_open(kg_device *dev, int index, kg_error *err)
{
    cl_dev *d = calloc(1, sizeof *d);
    if (!d)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory opening OpenCL device %d", index);
    d->device = kg_cl_state.slots[index].device;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM,
                                     (cl_context_properties)kg_cl_state.slots[index].platform, 0};
    cl_int rc;
    d->context = clCreateContext(props, 1, &d->device, NULL, NULL, &rc);
    if (rc != CL_SUCCESS) {
        d->context = NULL;
        kg_cl_close(d);
        return kg_cl_fail_call(err, rc, "clCreateContext failed for OpenCL device");
    }
    d->queue = clCreateCommandQueue(d->context, d->device, CL_QUEUE_PROFILING_ENABLE, &rc);
    if (rc != CL_SUCCESS) {
        d->queue = NULL;
        kg_cl_close(d);
        return kg_cl_fail_call(err, rc, "clCreateCommandQueue(CL_QUEUE_PROFILING_ENABLE) failed");
    }
    dev->ctx = d;
    return KG_OK;
}

/* ---- programs ------------------------------------------------------------ */

/* The log is wanted on success too (warnings are worth recording), and an
 * unreadable log is an empty one rather than a second error. */
static char *kg_cl_build_log(cl_program prog, cl_device_id dev)
{
    size_t size = 0;
    if (clGetProgramBuildInfo(prog, dev, CL_PROGRAM_BUILD_LOG, 0, NULL, &size) != CL_SUCCESS)
        size = 0;
    char *log = malloc(size + 1);
    if (!log)
        return NULL;
    log[0] = '\0';
    if (size &&
        clGetProgramBuildInfo(prog, dev, CL_PROGRAM_BUILD_LOG, size, log, NULL) == CL_SUCCESS)
        log[size] = '\0';
    return log;
}

/* Kernels created from the program retain it in OpenCL, so freeing the
 * program early is safe. */
static void kg_cl_program_free(kg_program *prog)
{
    if (prog->ctx)
        clReleaseProgram(prog->ctx);
    prog->ctx = NULL;
}

static int kg_cl_check_language(const kg_build_request *req, const char *name, kg_error *err)
{
    if (req->language == KG_LANG_SPIRV)
        return kg_error_set(err, KG_ERR_UNSUPPORTED,
                            "%s: SPIR-V needs OpenCL 2.1 (clCreateProgramWithIL); the OpenCL "
                            "backend targets OpenCL 1.2 and accepts portable (.kc) or OpenCL C "
                            "(.cl) sources",
                            name);
    if (req->language != KG_LANG_PORTABLE && req->language != KG_LANG_OPENCL)
        return kg_error_set(err, KG_ERR_UNSUPPORTED,
                            "%s: language %s is not supported by the OpenCL backend", name,
                            kg_language_name(req->language));
    return KG_OK;
}

/* "-cl-std=CL1.2", then the defines and options as the runtime compilers
 * get them (build_text.h), in one malloc'd string. */
static int kg_cl_options(const kg_build_request *req, const char *name, char **out, kg_error *err)
{
    kg_build_options opts;
    int rc = kg_build_options_make(&opts, req, err);
    if (rc)
        return rc;
    *out = kg_build_options_join(&opts, "-cl-std=CL1.2");
    if (!*out)
        return kg_error_set(err, KG_ERR_MEMORY, "%s: out of memory preparing the build", name);
    return KG_OK;
}

/* Compiles `prog` (created from source) with `options`; on failure the
 * message quotes the log's first error. The whole log goes to *log. */
static int kg_cl_compile(cl_dev *d, cl_program prog, const char *name, const char *options,
                         char **log, kg_error *err)
{
    cl_int rc = clBuildProgram(prog, 1, &d->device, options, NULL, NULL);
    char *build_log = kg_cl_build_log(prog, d->device);
    int status = KG_OK;
    if (rc != CL_SUCCESS) {
        char first_line[512];
        kg_log_headline(build_log, first_line, sizeof first_line);
        status = kg_error_set_vendor(err, KG_ERR_BUILD, (int)rc, kg_cl_error_name(rc),
                                     "building %s failed: %s (%d) with options '%s'%s%s", name,
                                     kg_cl_error_name(rc), (int)rc, options,
                                     first_line[0] ? ": " : "", first_line);
    }
    if (log)
        *log = build_log;
    else
        free(build_log);
    return status;
}

/* Builds OpenCL C, or the portable dialect with its prelude. The user's
 * source follows a `#line 1 "name"` directive so that compiler diagnostics
 * point at the user's file and line, not at the prelude-shifted text the
 * driver actually saw. */
static int kg_cl_program_build(kg_device *dev, const kg_build_request *req, kg_program *prog,
                               char **log, kg_error *err)
{
    const char *name = prog->source_name;
    int status = kg_cl_check_language(req, name, err);
    if (status)
        return status;
    char *options = NULL;
    if ((status = kg_cl_options(req, name, &options, err)))
        return status;
    kg_text source = {0};
    kg_text_source(&source, req->language == KG_LANG_PORTABLE ? kg_opencl_prelude : NULL, name,
                   req->source, req->source_size);
    if (source.failed || !source.data) {
        free(options);
        free(source.data);
        return kg_error_set(err, KG_ERR_MEMORY, "%s: out of memory preparing the build", name);
    }
    cl_int rc;
    const char *text = source.data;
    size_t text_len = source.len;
    cl_program program = clCreateProgramWithSource(dev_of(dev)->context, 1, &text, &text_len, &rc);
    free(source.data);
    if (rc != CL_SUCCESS) {
        free(options);
        return kg_cl_fail_call(err, rc, "clCreateProgramWithSource failed");
    }
    status = kg_cl_compile(dev_of(dev), program, name, options, log, err);
    free(options);
    if (status) {
        clReleaseProgram(program);
        return status;
    }
    prog->ctx = program;
    return KG_OK;
}

/* ---- kernels ------------------------------------------------------------- */

static void kg_cl_kernel_free(kg_kernel *kernel)
{
    cl_kern *k = kernel->ctx;
    if (k && k->kernel)
        clReleaseKernel(k->kernel);
    free(k);
    kernel->ctx = NULL;
}

/* Keeps the parameter count so that a launch with the wrong number of
 * arguments is refused with a readable message. */
static int kg_cl_kernel_create(kg_program *prog, kg_kernel *kernel, kg_error *err)
{
    cl_kern *k = calloc(1, sizeof *k);
    if (!k)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory creating kernel '%s'",
                            kernel->entry);
    cl_int rc;
    k->kernel = clCreateKernel(prog->ctx, kernel->entry, &rc);
    if (rc != CL_SUCCESS) {
        free(k);
        if (rc == CL_INVALID_KERNEL_NAME)
            return kg_error_set_vendor(err, KG_ERR_INVALID, (int)rc, kg_cl_error_name(rc),
                                       "no kernel named '%s' in %s", kernel->entry,
                                       prog->source_name);
        return kg_cl_fail_call(err, rc, "clCreateKernel failed");
    }
    rc = clGetKernelInfo(k->kernel, CL_KERNEL_NUM_ARGS, sizeof k->arg_count, &k->arg_count, NULL);
    if (rc != CL_SUCCESS) {
        clReleaseKernel(k->kernel);
        free(k);
        return kg_cl_fail(err, KG_ERR_DEVICE, rc, "clGetKernelInfo(CL_KERNEL_NUM_ARGS) failed");
    }
    kernel->ctx = k;
    return KG_OK;
}

/* ---- buffers ------------------------------------------------------------- */

static int kg_cl_buffer_alloc(kg_device *dev, kg_buffer *buf, kg_error *err)
{
    cl_int rc;
    cl_mem mem = clCreateBuffer(dev_of(dev)->context, CL_MEM_READ_WRITE, buf->bytes, NULL, &rc);
    if (rc != CL_SUCCESS) {
        char what[96];
        snprintf(what, sizeof what, "clCreateBuffer of %zu bytes failed", buf->bytes);
        return kg_cl_fail_call(err, rc, what);
    }
    buf->ctx = mem;
    return KG_OK;
}

static void kg_cl_buffer_free(kg_buffer *buf)
{
    if (buf->ctx)
        clReleaseMemObject(mem_of(buf));
    buf->ctx = NULL;
}

/* A sub-buffer: the runner's guard zones sit around it in the parent. */
static int kg_cl_buffer_view(kg_device *dev, kg_buffer *view, kg_error *err)
{
    (void)dev;
    if (view->bytes == 0)
        return kg_error_set(err, KG_ERR_INVALID, "buffer_view: an OpenCL sub-buffer needs bytes");
    cl_buffer_region region = {.origin = view->offset, .size = view->bytes};
    cl_int rc;
    cl_mem mem = clCreateSubBuffer(mem_of(view->parent), CL_MEM_READ_WRITE,
                                   CL_BUFFER_CREATE_TYPE_REGION, &region, &rc);
    if (rc != CL_SUCCESS)
        return kg_cl_fail(err, KG_ERR_DEVICE, rc, "clCreateSubBuffer failed");
    view->ctx = mem;
    return KG_OK;
}

/* Blocking, so the host buffer may be reused as soon as this returns. */
static int kg_cl_buffer_write(kg_device *dev, kg_buffer *buf, size_t offset, const void *src,
                              size_t bytes, kg_error *err)
{
    cl_int rc = clEnqueueWriteBuffer(dev_of(dev)->queue, mem_of(buf), CL_TRUE, offset, bytes, src,
                                     0, NULL, NULL);
    return rc == CL_SUCCESS ? KG_OK : kg_cl_fail_call(err, rc, "clEnqueueWriteBuffer failed");
}

/* Blocking, so the runner can check results as soon as this returns. */
static int kg_cl_buffer_read(kg_device *dev, kg_buffer *buf, size_t offset, void *dst, size_t bytes,
                             kg_error *err)
{
    cl_int rc = clEnqueueReadBuffer(dev_of(dev)->queue, mem_of(buf), CL_TRUE, offset, bytes, dst, 0,
                                    NULL, NULL);
    return rc == CL_SUCCESS ? KG_OK : kg_cl_fail_call(err, rc, "clEnqueueReadBuffer failed");
}

/* Completes before returning, like the transfers: the runner poisons outputs
 * with it and then launches, and an error should surface at the fill. */
static int kg_cl_buffer_fill(kg_device *dev, kg_buffer *buf, size_t offset, const void *pattern,
                             size_t pattern_size, size_t bytes, kg_error *err)
{
    cl_dev *d = dev_of(dev);
    cl_int rc = clEnqueueFillBuffer(d->queue, mem_of(buf), pattern, pattern_size, offset, bytes, 0,
                                    NULL, NULL);
    if (rc != CL_SUCCESS)
        return kg_cl_fail_call(err, rc, "clEnqueueFillBuffer failed");
    rc = clFinish(d->queue);
    if (rc != CL_SUCCESS)
        return kg_cl_fail(err, KG_ERR_DEVICE, rc, "clFinish after clEnqueueFillBuffer failed");
    return KG_OK;
}

/* Asynchronous on the in-order queue: later commands see the copy, and a
 * copy between timed launches costs no host round trip. */
static int kg_cl_buffer_copy(kg_device *dev, kg_buffer *dst, size_t dst_offset, kg_buffer *src,
                             size_t src_offset, size_t bytes, kg_error *err)
{
    cl_int rc = clEnqueueCopyBuffer(dev_of(dev)->queue, mem_of(src), mem_of(dst), src_offset,
                                    dst_offset, bytes, 0, NULL, NULL);
    return rc == CL_SUCCESS ? KG_OK : kg_cl_fail_call(err, rc, "clEnqueueCopyBuffer failed");
}

/* ---- launch -------------------------------------------------------------- */

/* For messages: which argument kind the driver rejected. */
static const char *kg_cl_arg_kind_name(kg_arg_kind kind)
{
    switch (kind) {
    case KG_ARG_BUFFER:
        return "buffer";
    case KG_ARG_I32:
        return "i32";
    case KG_ARG_I64:
        return "i64";
    case KG_ARG_NULL_POINTER:
        return "null pointer";
    default:
        return "f32";
    }
}

/* Every launch error names the kernel, its file and the sizes: that is what
 * a kernel author needs to find a bad manifest entry. `code` 0 means our
 * own check refused the launch, not the driver. */
static int kg_cl_launch_fail(kg_error *err, int status, cl_int code, const kg_kernel *kernel,
                             const kg_launch *launch, const char *what)
{
    char where[512];
    kg_launch_describe(kernel, launch, where, sizeof where);
    const char *name = code ? kg_cl_error_name(code) : "";
    if (code)
        return kg_error_set_vendor(err, status, (int)code, name, "%s: %s (%d) for %s", what, name,
                                   (int)code, where);
    return kg_error_set(err, status, "%s for %s", what, where);
}

/* Makes room for `more` events before a command is enqueued, so that a
 * failed allocation can never strand an event the driver already made. */
static int kg_cl_reserve_events(cl_dev *d, size_t more)
{
    if (d->event_count + more <= d->event_cap)
        return KG_OK;
    size_t cap = d->event_cap ? 2 * d->event_cap : 16;
    while (cap < d->event_count + more)
        cap *= 2;
    cl_event *grown = realloc(d->events, cap * sizeof *grown);
    if (!grown)
        return KG_ERR_MEMORY;
    d->events = grown;
    d->event_cap = cap;
    return KG_OK;
}

/* The launch's arguments, plus the dynamic local buffer as one trailing
 * __local parameter. Set on every launch: a kernel object may be shared by
 * launches with different arguments. */
static int kg_cl_set_args(kg_kernel *kernel, const kg_launch *launch, kg_error *err)
{
    cl_kern *k = kernel->ctx;
    size_t wanted = launch->arg_count + (launch->dynamic_local_bytes > 0 ? 1 : 0);
    char what[256];
    if (wanted != k->arg_count) {
        snprintf(what, sizeof what,
                 "the kernel has %u parameters but the launch passes %zu arguments%s",
                 (unsigned)k->arg_count, launch->arg_count,
                 launch->dynamic_local_bytes > 0
                     ? " plus the dynamic local buffer (KG_DYNAMIC_LOCAL_PARAM)"
                     : "");
        return kg_cl_launch_fail(err, KG_ERR_INVALID, 0, kernel, launch, what);
    }
    for (size_t i = 0; i < launch->arg_count; i++) {
        const kg_arg *arg = &launch->args[i];
        /* A null pointer is a cl_mem of NULL (OpenCL 1.2, clSetKernelArg). */
        int pointer = arg->kind == KG_ARG_BUFFER || arg->kind == KG_ARG_NULL_POINTER;
        cl_mem mem = arg->kind == KG_ARG_BUFFER ? mem_of(arg->value.buffer) : NULL;
        cl_int i32 = arg->value.i32;
        cl_long i64 = arg->value.i64;
        cl_float f32 = arg->value.f32;
        const void *value = pointer                   ? (const void *)&mem
                            : arg->kind == KG_ARG_I32 ? (const void *)&i32
                            : arg->kind == KG_ARG_I64 ? (const void *)&i64
                                                      : (const void *)&f32;
        size_t size = pointer                   ? sizeof mem
                      : arg->kind == KG_ARG_I32 ? sizeof i32
                      : arg->kind == KG_ARG_I64 ? sizeof i64
                                                : sizeof f32;
        cl_int rc = clSetKernelArg(k->kernel, (cl_uint)i, size, value);
        if (rc != CL_SUCCESS) {
            snprintf(what, sizeof what, "clSetKernelArg rejected argument %zu (%s)", i,
                     kg_cl_arg_kind_name(arg->kind));
            return kg_cl_launch_fail(err, KG_ERR_LAUNCH, rc, kernel, launch, what);
        }
    }
    if (launch->dynamic_local_bytes > 0) {
        cl_int rc = clSetKernelArg(k->kernel, (cl_uint)launch->arg_count,
                                   launch->dynamic_local_bytes, NULL);
        if (rc != CL_SUCCESS)
            return kg_cl_launch_fail(err, KG_ERR_LAUNCH, rc, kernel, launch,
                                     "clSetKernelArg rejected the dynamic local buffer");
    }
    return KG_OK;
}

/* Converts CUDA-style grid/block to OpenCL global/local sizes and enqueues;
 * inside a timed region the launch's event is kept for its timestamps. */
static int kg_cl_launch(kg_device *dev, kg_kernel *kernel, const kg_launch *launch, kg_error *err)
{
    cl_dev *d = dev_of(dev);
    size_t global[3], local[3];
    cl_uint work_dim = 1;
    for (int d3 = 0; d3 < 3; d3++) {
        if (launch->grid[d3] > SIZE_MAX / launch->block[d3])
            return kg_cl_launch_fail(err, KG_ERR_INVALID, 0, kernel, launch,
                                     "launch: grid * block overflows size_t");
        global[d3] = (size_t)launch->grid[d3] * launch->block[d3];
        local[d3] = launch->block[d3];
        if (launch->grid[d3] != 1 || launch->block[d3] != 1)
            work_dim = (cl_uint)d3 + 1;
    }
    int status = kg_cl_set_args(kernel, launch, err);
    if (status)
        return status;
    cl_event *event = NULL;
    if (dev->timing) {
        if (kg_cl_reserve_events(d, 1) != KG_OK)
            return kg_cl_launch_fail(err, KG_ERR_MEMORY, 0, kernel, launch,
                                     "out of memory recording the launch event");
        event = &d->events[d->event_count];
    }
    cl_kern *k = kernel->ctx;
    cl_int rc =
        clEnqueueNDRangeKernel(d->queue, k->kernel, work_dim, NULL, global, local, 0, NULL, event);
    if (rc != CL_SUCCESS)
        return kg_cl_launch_fail(err, KG_ERR_LAUNCH, rc, kernel, launch,
                                 "clEnqueueNDRangeKernel failed");
    if (event)
        d->event_count++;
    return KG_OK;
}

/* Execution errors surface at the wait, so they count as launch failures. */
static int kg_cl_synchronize(kg_device *dev, kg_error *err)
{
    cl_int rc = clFinish(dev_of(dev)->queue);
    if (rc != CL_SUCCESS)
        return kg_cl_fail(err, KG_ERR_LAUNCH, rc, "clFinish failed (a queued command failed)");
    return KG_OK;
}

/* ---- timing -------------------------------------------------------------- */

static int kg_cl_timer_start(kg_device *dev, kg_error *err)
{
    (void)err;
    kg_cl_release_events(dev_of(dev));
    return KG_OK;
}

/* The span of one event, or the launch's failure. */
static int kg_cl_event_span(cl_event event, cl_ulong *start, cl_ulong *end, kg_error *err)
{
    cl_int exec_status = CL_COMPLETE;
    cl_int rc = clGetEventInfo(event, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof exec_status,
                               &exec_status, NULL);
    if (rc == CL_SUCCESS && exec_status < 0)
        return kg_cl_fail(err, KG_ERR_LAUNCH, exec_status, "a launch in the timed region failed");
    if (rc == CL_SUCCESS)
        rc = clGetEventProfilingInfo(event, CL_PROFILING_COMMAND_START, sizeof *start, start, NULL);
    if (rc == CL_SUCCESS)
        rc = clGetEventProfilingInfo(event, CL_PROFILING_COMMAND_END, sizeof *end, end, NULL);
    if (rc != CL_SUCCESS)
        return kg_cl_fail(err, KG_ERR_DEVICE, rc, "reading profiling timestamps failed");
    return KG_OK;
}

/* Device time from the first launch's start to the last launch's end, taken
 * from the driver's profiling timestamps, so host scheduling and enqueue
 * overhead are excluded. Min/max over all events rather than first/last so a
 * driver that reorders despite the in-order queue still gets the full span.
 * A region without events is reported by device.c. */
static int kg_cl_timer_stop(kg_device *dev, double *elapsed_seconds, kg_error *err)
{
    cl_dev *d = dev_of(dev);
    int status = KG_OK;
    cl_int rc = clFinish(d->queue);
    if (rc != CL_SUCCESS)
        status = kg_cl_fail(err, KG_ERR_LAUNCH, rc, "clFinish failed in the timed region");
    cl_ulong first_start = UINT64_MAX, last_end = 0;
    for (size_t i = 0; i < d->event_count && status == KG_OK; i++) {
        cl_ulong start = 0, end = 0;
        status = kg_cl_event_span(d->events[i], &start, &end, err);
        first_start = start < first_start ? start : first_start;
        last_end = end > last_end ? end : last_end;
    }
    if (status == KG_OK && d->event_count && last_end < first_start)
        status = kg_error_set(err, KG_ERR_DEVICE,
                              "the driver reported an end timestamp (%llu ns) before the "
                              "start (%llu ns)",
                              (unsigned long long)last_end, (unsigned long long)first_start);
    if (status == KG_OK && d->event_count)
        *elapsed_seconds = (double)(last_end - first_start) * 1e-9;
    kg_cl_release_events(d);
    return status;
}

/* ---- cache flush --------------------------------------------------------- */

/* The flush buffer: twice the reported cache (8 MiB at least, for drivers
 * that report little or nothing), at most the largest allocation. */
static int kg_cl_flush_buffer(const kg_device *dev, cl_dev *d, kg_error *err)
{
    const kg_device_info *info = &dev->info;
    uint64_t bytes = info->cache_bytes > UINT64_MAX / 2 ? UINT64_MAX : 2 * info->cache_bytes;
    if (bytes < KG_CL_FLUSH_MIN_BYTES)
        bytes = KG_CL_FLUSH_MIN_BYTES;
    if (info->max_alloc_bytes && bytes > info->max_alloc_bytes)
        bytes = info->max_alloc_bytes;
    if (bytes > SIZE_MAX)
        bytes = SIZE_MAX;
    bytes -= bytes % 4;
    cl_int rc;
    d->flush_buffer = clCreateBuffer(d->context, CL_MEM_READ_WRITE, (size_t)bytes, NULL, &rc);
    if (rc != CL_SUCCESS) {
        d->flush_buffer = NULL;
        char what[128];
        snprintf(what, sizeof what, "allocating the %llu-byte cache-flush buffer failed",
                 (unsigned long long)bytes);
        return kg_cl_fail_call(err, rc, what);
    }
    d->flush_bytes = (size_t)bytes;
    return KG_OK;
}

/* DESIGN: a cold-cache measurement starts with the last-level cache holding
 * none of the kernel's data. Writing a buffer of at least twice the reported
 * cache size evicts every line under any common replacement policy. The
 * fill pattern changes on every call so that no driver can recognise a
 * repeated fill as a no-op and skip it. Allocated on first use so that
 * hot-cache runs and `kgrade devices` never pay for it. */
static int kg_cl_flush_cache(kg_device *dev, kg_error *err)
{
    cl_dev *d = dev_of(dev);
    int status = d->flush_buffer ? KG_OK : kg_cl_flush_buffer(dev, d, err);
    if (status)
        return status;
    d->flush_calls++;
    cl_uint pattern = d->flush_calls * 0x9E3779B9u; /* never the same twice in a row */
    cl_int rc = clEnqueueFillBuffer(d->queue, d->flush_buffer, &pattern, sizeof pattern, 0,
                                    d->flush_bytes, 0, NULL, NULL);
    if (rc != CL_SUCCESS)
        return kg_cl_fail_call(err, rc, "cache flush (clEnqueueFillBuffer) failed");
    rc = clFinish(d->queue);
    if (rc != CL_SUCCESS)
        return kg_cl_fail(err, KG_ERR_DEVICE, rc, "clFinish after the cache flush failed");
    return KG_OK;
}

/* ---- the BLAS library (CLBlast) ------------------------------------------ */

#ifdef KG_HAVE_CLBLAST
static int kg_cl_blas_library(kg_blas_dtype dtype, kg_blas_library *out, kg_error *err)
{
    return kg_clblast_library(dtype, out, err);
}

/* DESIGN: a timed region's time is the span of its commands' profiling
 * events, but CLBlast may enqueue several kernels for one GEMM (padding,
 * transposes, the main kernel) and returns the event of the last one only.
 * So the call is bracketed by two markers, and the first marker waits on
 * a user event that is completed only once CLBlast has enqueued
 * everything: the queue is held while CLBlast does its host-side work
 * (argument checks, kernel lookup, compiling on first use), so that work
 * stays out of the region as a launch's enqueue latency does, and the
 * span runs from the first marker to the last. The user event is
 * completed on every path, so the queue never stays held. */
static int kg_cl_timed_blas_gemm(cl_dev *d, const kg_blas_gemm *g, kg_error *err)
{
    if (kg_cl_reserve_events(d, 3) != KG_OK)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory recording the CLBlast events");
    cl_int rc;
    cl_event gate = clCreateUserEvent(d->context, &rc);
    if (rc != CL_SUCCESS)
        return kg_cl_fail_call(err, rc, "clCreateUserEvent (holding the queue for CLBlast) failed");
    int status = KG_OK;
    rc = clEnqueueMarkerWithWaitList(d->queue, 1, &gate, &d->events[d->event_count]);
    if (rc != CL_SUCCESS)
        status = kg_cl_fail_call(err, rc, "clEnqueueMarkerWithWaitList before CLBlast failed");
    else
        d->event_count++;
    cl_event last = NULL;
    if (status == KG_OK)
        status = kg_clblast_gemm(d->queue, g, mem_of(g->a), mem_of(g->b), mem_of(g->c), &last, err);
    if (last)
        d->events[d->event_count++] = last;
    if (status == KG_OK) {
        rc = clEnqueueMarkerWithWaitList(d->queue, 0, NULL, &d->events[d->event_count]);
        if (rc != CL_SUCCESS)
            status = kg_cl_fail_call(err, rc, "clEnqueueMarkerWithWaitList after CLBlast failed");
        else
            d->event_count++;
    }
    clSetUserEventStatus(gate, CL_COMPLETE);
    clReleaseEvent(gate);
    return status;
}

static int kg_cl_blas_gemm(kg_device *dev, const kg_blas_gemm *g, kg_error *err)
{
    cl_dev *d = dev_of(dev);
    if (dev->timing)
        return kg_cl_timed_blas_gemm(d, g, err);
    return kg_clblast_gemm(d->queue, g, mem_of(g->a), mem_of(g->b), mem_of(g->c), NULL, err);
}
#endif

const kg_backend kg_opencl_backend = {
    .api_version = KG_BACKEND_API_VERSION,
    .name = "opencl",
    .init = kg_cl_init,
    .shutdown = kg_cl_shutdown,
    .device_count = kg_cl_device_count,
    .device_info = kg_cl_device_info,
    .device_open = kg_cl_device_open,
    .device_close = kg_cl_device_close,
    .program_build = kg_cl_program_build,
    .program_free = kg_cl_program_free,
    .kernel_create = kg_cl_kernel_create,
    .kernel_free = kg_cl_kernel_free,
    .buffer_alloc = kg_cl_buffer_alloc,
    .buffer_free = kg_cl_buffer_free,
    .buffer_view = kg_cl_buffer_view,
    .buffer_write = kg_cl_buffer_write,
    .buffer_read = kg_cl_buffer_read,
    .buffer_fill = kg_cl_buffer_fill,
    .buffer_copy = kg_cl_buffer_copy,
    .launch = kg_cl_launch,
    .synchronize = kg_cl_synchronize,
    .timer_start = kg_cl_timer_start,
    .timer_stop = kg_cl_timer_stop,
    .flush_cache = kg_cl_flush_cache,
    .read_clocks = NULL, /* OpenCL 1.2 has no clock or throttle query */
#ifdef KG_HAVE_CLBLAST
    .blas_library = kg_cl_blas_library,
    .blas_gemm = kg_cl_blas_gemm,
#endif
};
