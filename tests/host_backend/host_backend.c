/* The host test backend (host_backend.h): the GPU core's vendor calls on
 * host memory, and a registry of C kernels. */
#include "host_backend.h"
#include "gpu_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { KG_HOST_MAX_KERNELS = 128, KG_HOST_MAX_DEFINES = 64 };

static struct {
    struct {
        char name[64];
        kg_host_kernel_fn fn;
    } kernels[KG_HOST_MAX_KERNELS];
    size_t kernel_count;
    uint64_t clock_ns;
    kg_host_counters counters;
} host;

typedef struct host_function {
    kg_host_kernel_fn fn;
    const struct host_module *module;
} host_function;

/* A built program: the defines its kernels see, and the functions taken
 * from it (freed with it, as a driver's are with their module). */
typedef struct host_module {
    char *defines[KG_HOST_MAX_DEFINES];
    size_t define_count;
    host_function functions[KG_HOST_MAX_KERNELS];
    size_t function_count;
} host_module;

/* ---- kernels, arguments, clock ---------------------------------------------- */

void kg_host_kernel_register(const char *name, kg_host_kernel_fn fn)
{
    for (size_t i = 0; i < host.kernel_count; i++)
        if (strcmp(host.kernels[i].name, name) == 0) {
            host.kernels[i].fn = fn;
            return;
        }
    if (host.kernel_count == KG_HOST_MAX_KERNELS)
        return;
    snprintf(host.kernels[host.kernel_count].name, sizeof host.kernels[0].name, "%s", name);
    host.kernels[host.kernel_count++].fn = fn;
}

void *kg_host_arg_ptr(const kg_host_launch *l, size_t i)
{
    return (void *)(uintptr_t) * (const kg_gpu_ptr *)l->params[i];
}

int32_t kg_host_arg_i32(const kg_host_launch *l, size_t i)
{
    return *(const int32_t *)l->params[i];
}

int64_t kg_host_arg_i64(const kg_host_launch *l, size_t i)
{
    return *(const int64_t *)l->params[i];
}

float kg_host_arg_f32(const kg_host_launch *l, size_t i)
{
    return *(const float *)l->params[i];
}

long long kg_host_define(const kg_host_launch *l, const char *name, long long fallback)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < l->define_count; i++)
        if (strncmp(l->defines[i], name, n) == 0 && l->defines[i][n] == '=')
            return strtoll(l->defines[i] + n + 1, NULL, 0);
    return fallback;
}

uint64_t kg_host_clock_ns(void)
{
    return host.clock_ns;
}

void kg_host_clock_advance(uint64_t ns)
{
    host.clock_ns += ns;
}

kg_host_counters kg_host_counters_now(void)
{
    return host.counters;
}

/* ---- the vendor calls ---------------------------------------------------------- */

static const char *host_error_name(int rc)
{
    switch (rc) {
    case KG_HOST_ERROR_INVALID:
        return "HOST_ERROR_INVALID";
    case KG_HOST_ERROR_OUT_OF_MEMORY:
        return "HOST_ERROR_OUT_OF_MEMORY";
    case KG_HOST_ERROR_ILLEGAL_ADDRESS:
        return "HOST_ERROR_ILLEGAL_ADDRESS";
    default:
        return "HOST_ERROR_UNKNOWN";
    }
}

static const char *host_error_string(int rc)
{
    return rc == KG_HOST_ERROR_ILLEGAL_ADDRESS ? "a kernel wrote outside its buffers"
                                               : "the host backend refused";
}

static int host_status_of(int rc, int fallback)
{
    if (rc == KG_HOST_ERROR_OUT_OF_MEMORY)
        return KG_ERR_MEMORY;
    if (rc == KG_HOST_ERROR_ILLEGAL_ADDRESS)
        return KG_ERR_LAUNCH;
    return fallback;
}

static int host_context_open(int index, void **context)
{
    (void)index;
    *context = NULL;
    return 0;
}

static void host_context_close(int index, void *context)
{
    (void)index;
    (void)context;
}

static int host_context_select(int index, void *context)
{
    (void)index;
    (void)context;
    return 0;
}

/* Launches run at once: a stream is only a token, and waiting is free. */
static int host_stream_create(void **stream)
{
    static int token;
    *stream = &token;
    return 0;
}

static int host_ok(void *handle)
{
    (void)handle;
    return 0;
}

static void host_nothing(void *handle)
{
    (void)handle;
}

static int host_event_create(void **event)
{
    *event = calloc(1, sizeof(uint64_t));
    return *event ? 0 : KG_HOST_ERROR_OUT_OF_MEMORY;
}

static int host_event_record(void *event, void *stream)
{
    (void)stream;
    *(uint64_t *)event = host.clock_ns;
    return 0;
}

static int host_event_elapsed_ms(float *ms, void *start, void *stop)
{
    *ms = (float)((double)(*(uint64_t *)stop - *(uint64_t *)start) * 1e-6);
    return 0;
}

static int host_mem_alloc(kg_gpu_ptr *ptr, size_t bytes)
{
    /* Views sit at multiples of KG_BUFFER_VIEW_ALIGN in their parent. */
    size_t rounded =
        (bytes + KG_BUFFER_VIEW_ALIGN - 1) / KG_BUFFER_VIEW_ALIGN * KG_BUFFER_VIEW_ALIGN;
    void *p = aligned_alloc(KG_BUFFER_VIEW_ALIGN, rounded);
    if (!p)
        return KG_HOST_ERROR_OUT_OF_MEMORY;
    memset(p, 0xA5, rounded); /* device memory is not zeroed */
    *ptr = (kg_gpu_ptr)(uintptr_t)p;
    host.counters.allocations++;
    host.counters.live_allocations++;
    return 0;
}

static void host_mem_free(kg_gpu_ptr ptr)
{
    free((void *)(uintptr_t)ptr);
    host.counters.live_allocations--;
}

static int host_copy_to_device(kg_gpu_ptr dst, const void *src, size_t bytes)
{
    memcpy((void *)(uintptr_t)dst, src, bytes);
    return 0;
}

static int host_copy_to_host(void *dst, kg_gpu_ptr src, size_t bytes)
{
    memcpy(dst, (const void *)(uintptr_t)src, bytes);
    return 0;
}

static int host_copy_async(kg_gpu_ptr dst, kg_gpu_ptr src, size_t bytes, void *stream)
{
    (void)stream;
    memmove((void *)(uintptr_t)dst, (const void *)(uintptr_t)src, bytes);
    return 0;
}

static int host_memset8(kg_gpu_ptr dst, uint8_t value, size_t count, void *stream)
{
    (void)stream;
    memset((void *)(uintptr_t)dst, value, count);
    return 0;
}

static int host_memset16(kg_gpu_ptr dst, uint16_t value, size_t count, void *stream)
{
    (void)stream;
    uint16_t *p = (uint16_t *)(uintptr_t)dst;
    for (size_t i = 0; i < count; i++)
        p[i] = value;
    return 0;
}

static int host_memset32(kg_gpu_ptr dst, uint32_t value, size_t count, void *stream)
{
    (void)stream;
    uint32_t *p = (uint32_t *)(uintptr_t)dst;
    for (size_t i = 0; i < count; i++)
        p[i] = value;
    return 0;
}

/* The "image" compile made: the defines, one per line. */
static int host_module_load(void **module, const void *image, char *info_log, size_t info_size,
                            char *error_log, size_t error_size)
{
    (void)info_log;
    (void)info_size;
    (void)error_log;
    (void)error_size;
    host_module *m = calloc(1, sizeof *m);
    if (!m)
        return KG_HOST_ERROR_OUT_OF_MEMORY;
    const char *line = image;
    while (*line && m->define_count < KG_HOST_MAX_DEFINES) {
        size_t n = strcspn(line, "\n");
        char *d = malloc(n + 1);
        if (d) {
            memcpy(d, line, n);
            d[n] = '\0';
            m->defines[m->define_count++] = d;
        }
        line += n + (line[n] == '\n');
    }
    *module = m;
    return 0;
}

static void host_module_unload(void *module)
{
    host_module *m = module;
    for (size_t i = 0; i < m->define_count; i++)
        free(m->defines[i]);
    free(m);
}

static int host_module_function(void **function, void *module, const char *entry)
{
    host_module *m = module;
    for (size_t i = 0; i < host.kernel_count; i++)
        if (strcmp(host.kernels[i].name, entry) == 0) {
            if (m->function_count == KG_HOST_MAX_KERNELS)
                return KG_HOST_ERROR_OUT_OF_MEMORY;
            host_function *f = &m->functions[m->function_count++];
            f->fn = host.kernels[i].fn;
            f->module = m;
            *function = f;
            return 0;
        }
    return KG_HOST_ERROR_INVALID;
}

static int host_launch(void *function, const unsigned grid[3], const unsigned block[3],
                       unsigned dynamic_shared, void *stream, void **params)
{
    (void)stream;
    const host_function *f = function;
    kg_host_launch l = {.grid = {grid[0], grid[1], grid[2]},
                        .block = {block[0], block[1], block[2]},
                        .dynamic_shared = dynamic_shared,
                        .params = params,
                        .defines = (const char *const *)f->module->defines,
                        .define_count = f->module->define_count};
    host.counters.launches++;
    return f->fn(&l);
}

/* "Compiling" checks the source for HOST_BUILD_ERROR and keeps the
 * defines as the image. */
static int host_compile(const kg_build_request *req, const char *arch, void **image,
                        size_t *image_size, char **log, kg_error *err)
{
    (void)arch;
    const char *name = req->source_name ? req->source_name : "<source>";
    size_t size = req->source_size ? req->source_size : strlen(req->source);
    int broken = 0;
    for (size_t i = 0; i + 16 <= size && !broken; i++)
        broken = memcmp(req->source + i, "HOST_BUILD_ERROR", 16) == 0;
    if (log) {
        *log = malloc(128);
        if (*log)
            snprintf(*log, 128, "%s", broken ? "host.kc:1: error: HOST_BUILD_ERROR" : "");
    }
    if (broken)
        return kg_error_set(err, KG_ERR_BUILD, "building %s failed: HOST_BUILD_ERROR", name);
    kg_text t = {0};
    for (size_t i = 0; i < req->define_count; i++) {
        kg_text_add(&t, req->defines[i]);
        kg_text_add(&t, "\n");
    }
    if (t.failed)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    *image = t.data ? t.data : kg_strdup("");
    *image_size = t.len;
    return KG_OK;
}

static const kg_language host_images[] = {KG_LANG_COUNT};

static const kg_gpu_vendor host_vendor = {
    .api = "host",
    .native = KG_LANG_OPENCL, /* any source is taken: portable and OpenCL C alike */
    .images = host_images,
    .languages = "portable or opencl",
    .grid_limit = {0x7fffffffull, 65535ull, 65535ull},
    .dynamic_shared_default = 48 * 1024,
    .error_name = host_error_name,
    .error_string = host_error_string,
    .status_of = host_status_of,
    .context_open = host_context_open,
    .context_close = host_context_close,
    .context_select = host_context_select,
    .stream_create = host_stream_create,
    .stream_sync = host_ok,
    .stream_destroy = host_nothing,
    .event_create = host_event_create,
    .event_record = host_event_record,
    .event_sync = host_ok,
    .event_elapsed_ms = host_event_elapsed_ms,
    .event_destroy = free,
    .mem_alloc = host_mem_alloc,
    .mem_free = host_mem_free,
    .copy_to_device = host_copy_to_device,
    .copy_to_host = host_copy_to_host,
    .copy_async = host_copy_async,
    .memset8_async = host_memset8,
    .memset16_async = host_memset16,
    .memset32_async = host_memset32,
    .module_load = host_module_load,
    .module_unload = host_module_unload,
    .module_function = host_module_function,
    .launch = host_launch,
    .compile = host_compile,
};

/* ---- the backend table ----------------------------------------------------- */

static int host_init(kg_error *err)
{
    (void)err;
    return KG_OK;
}

static int host_device_count(void)
{
    return 1;
}

/* A small device that is never the "best" one (type other). */
static int host_device_info(int index, kg_device_info *out, kg_error *err)
{
    (void)err;
    snprintf(out->backend, sizeof out->backend, "host");
    out->index = index;
    snprintf(out->name, sizeof out->name, "kgrade host test device");
    snprintf(out->vendor, sizeof out->vendor, "kgrade tests");
    snprintf(out->driver_version, sizeof out->driver_version, "1");
    snprintf(out->api_version, sizeof out->api_version, "host 1");
    snprintf(out->arch, sizeof out->arch, "host");
    snprintf(out->cache_source, sizeof out->cache_source, "device");
    out->type = KG_DEVICE_OTHER;
    out->compute_units = 1;
    out->clock_mhz = 1000;
    out->global_mem_bytes = (uint64_t)4 << 30;
    out->max_alloc_bytes = (uint64_t)1 << 30;
    out->local_mem_bytes = 48 * 1024;
    out->cache_bytes = 1 << 20;
    out->cache_line_bytes = 64;
    out->max_group_size = 1024;
    out->subgroup_width = 32;
    return KG_OK;
}

static int host_device_open(kg_device *dev, int index, kg_error *err)
{
    return kg_gpu_open(&host_vendor, dev, index, err);
}

static const kg_backend host_backend = {
    .api_version = KG_BACKEND_API_VERSION,
    .name = "host",
    .init = host_init,
    .device_count = host_device_count,
    .device_info = host_device_info,
    .device_open = host_device_open,
    KG_GPU_CORE_MEMBERS,
};

int kg_host_backend_register(kg_error *err)
{
    if (kg_backend_find("host"))
        return KG_OK;
    return kg_backend_register(&host_backend, err);
}
