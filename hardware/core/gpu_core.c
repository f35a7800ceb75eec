/*
 * The GPU core (gpu_core.h): one stream per opened device, on which every
 * launch, fill and event is enqueued in the runner's order. Transfers are
 * synchronous and drain the stream first, so they are ordered after
 * everything enqueued before them. Device time is read from two events
 * recorded on the stream around the launches.
 */
#include "gpu_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Floor of the cache flush buffer, for devices that report a small cache. */
#define KG_GPU_FLUSH_MIN_BYTES ((size_t)8 << 20)
/* How long the hold kernel keeps the stream busy before a timed region. */
#define KG_GPU_HOLD_NS 50000ull
/* Launches take at most this many arguments. */
#define KG_GPU_MAX_ARGS 64

typedef struct gpu_kernel {
    void *function;
    size_t dynamic_limit; /* dynamic shared memory the function accepts now */
} gpu_kernel;

typedef struct gpu_buffer {
    kg_gpu_ptr ptr;
} gpu_buffer;

static kg_gpu_device *gpu_of(const kg_device *dev)
{
    return dev->ctx;
}

static kg_gpu_ptr ptr_of(const kg_buffer *buf)
{
    return ((const gpu_buffer *)buf->ctx)->ptr;
}

void *kg_gpu_extra(const kg_device *dev)
{
    return gpu_of(dev)->extra;
}

int kg_gpu_fail(const kg_gpu_vendor *v, kg_error *err, int fallback, int rc, const char *what)
{
    const char *name = v->error_name(rc);
    return kg_error_set_vendor(err, v->status_of(rc, fallback), rc, name, "%s: %s: %s", what, name,
                               v->error_string(rc));
}

/* Makes the device's context current: every entry point starts here. */
static int select_device(kg_gpu_device *g, kg_error *err)
{
    int rc = g->v->context_select(g->index, g->context);
    return rc ? kg_gpu_fail(g->v, err, KG_ERR_DEVICE, rc, "selecting the device failed") : KG_OK;
}

int kg_gpu_select(const kg_device *dev, kg_error *err)
{
    return select_device(gpu_of(dev), err);
}

void *kg_gpu_stream(const kg_device *dev)
{
    return gpu_of(dev)->stream;
}

kg_gpu_ptr kg_gpu_address(const kg_buffer *buf)
{
    return ptr_of(buf);
}

/* ---- devices -------------------------------------------------------------- */

static void close_gpu(kg_gpu_device *g)
{
    const kg_gpu_vendor *v = g->v;
    if (v->context_select(g->index, g->context) == 0) {
        if (g->stream)
            v->stream_sync(g->stream);
        if (g->extra && v->detach)
            v->detach(g->extra);
        if (g->flush)
            v->mem_free(g->flush);
        if (g->hold_module)
            v->module_unload(g->hold_module);
        if (g->start)
            v->event_destroy(g->start);
        if (g->stop)
            v->event_destroy(g->stop);
        if (g->stream)
            v->stream_destroy(g->stream);
    }
    v->context_close(g->index, g->context);
    free(g);
}

void kg_gpu_device_close(kg_device *dev)
{
    if (dev->ctx)
        close_gpu(gpu_of(dev));
    dev->ctx = NULL;
}

/* Without the hold kernel (no compiler here, or none defined) timing still
 * works, with the host's launch latency inside short regions. */
static void load_hold_kernel(kg_gpu_device *g, const char *arch)
{
    const kg_gpu_vendor *v = g->v;
    if (!v->hold_source)
        return;
    kg_build_request req = {
        .language = v->native, .source = v->hold_source, .source_name = "kg_hold_stream"};
    void *image = NULL;
    size_t size = 0;
    kg_error ignored;
    if (v->compile(&req, arch, &image, &size, NULL, &ignored) != KG_OK)
        return;
    if (v->module_load(&g->hold_module, image, NULL, 0, NULL, 0) == 0 &&
        v->module_function(&g->hold, g->hold_module, "kg_hold_stream") != 0) {
        v->module_unload(g->hold_module);
        g->hold_module = NULL;
        g->hold = NULL;
    }
    free(image);
}

int kg_gpu_open(const kg_gpu_vendor *v, kg_device *dev, int index, kg_error *err)
{
    if (!dev->info.arch[0])
        return kg_error_set(err, KG_ERR_DEVICE,
                            "%s device %d reports no architecture name to compile for", v->api,
                            index);
    kg_gpu_device *g = calloc(1, sizeof *g);
    if (!g)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory opening %s device %d", v->api,
                            index);
    g->v = v;
    g->index = index;
    int rc = v->context_open(index, &g->context);
    if (rc) {
        free(g);
        return kg_gpu_fail(v, err, KG_ERR_DEVICE, rc, "creating the device context failed");
    }
    if ((rc = v->context_select(index, g->context)) || (rc = v->stream_create(&g->stream)) ||
        (rc = v->event_create(&g->start)) || (rc = v->event_create(&g->stop))) {
        close_gpu(g);
        return kg_gpu_fail(v, err, KG_ERR_DEVICE, rc, "creating the stream and events failed");
    }
    load_hold_kernel(g, dev->info.arch);
    if (v->attach)
        g->extra = v->attach(index, g->context);
    dev->ctx = g;
    return KG_OK;
}

/* ---- programs and kernels ------------------------------------------------- */

static int is_image(const kg_gpu_vendor *v, kg_language lang)
{
    for (const kg_language *l = v->images; *l != KG_LANG_COUNT; l++)
        if (*l == lang)
            return 1;
    return 0;
}

/* Appends the JIT's info and error text to *log, so that an error in a
 * loaded PTX reads like a compile error. */
static void append_jit_log(char **log, const char *error_log, const char *info_log)
{
    if (!log || (!info_log[0] && !error_log[0]))
        return;
    size_t old = *log ? strlen(*log) : 0;
    size_t add = strlen(info_log) + strlen(error_log) + 2;
    char *grown = realloc(*log, old + add + 1);
    if (!grown)
        return;
    snprintf(grown + old, add + 1, "%s%s%s", error_log, error_log[0] ? "\n" : "", info_log);
    *log = grown;
}

/* Loads an image of `size` bytes (0: NUL-terminated text), with a NUL after
 * it: PTX is text the driver reads to its end. */
static int load_module(kg_gpu_device *g, const kg_program *prog, const void *image, size_t size,
                       void **module, char **log, kg_error *err)
{
    if (!size)
        size = strlen(image);
    char *copy = malloc(size + 1);
    if (!copy)
        return kg_error_set(err, KG_ERR_MEMORY, "%s: out of memory", prog->source_name);
    memcpy(copy, image, size);
    copy[size] = '\0';
    char info[4096] = "", error_log[8192] = "";
    int rc = g->v->module_load(module, copy, info, sizeof info, error_log, sizeof error_log);
    free(copy);
    append_jit_log(log, error_log, info);
    if (rc == 0)
        return KG_OK;
    *module = NULL;
    char what[600];
    snprintf(what, sizeof what, "loading %s for %s failed%s%.400s", prog->source_name,
             prog->dev->info.arch, error_log[0] ? ": " : "", error_log);
    return kg_gpu_fail(g->v, err, KG_ERR_BUILD, rc, what);
}

int kg_gpu_program_build(kg_device *dev, const kg_build_request *req, kg_program *prog, char **log,
                         kg_error *err)
{
    kg_gpu_device *g = gpu_of(dev);
    const kg_gpu_vendor *v = g->v;
    int rc = select_device(g, err);
    if (rc)
        return rc;
    char *build_log = NULL;
    void *module = NULL;
    if (req->language == KG_LANG_PORTABLE || req->language == v->native) {
        void *image = NULL;
        size_t size = 0;
        rc = v->compile(req, dev->info.arch, &image, &size, &build_log, err);
        if (rc == KG_OK)
            rc = load_module(g, prog, image, size, &module, &build_log, err);
        free(image);
    } else if (is_image(v, req->language)) {
        rc = load_module(g, prog, req->source, req->source_size, &module, &build_log, err);
    } else {
        rc = kg_error_set(err, KG_ERR_UNSUPPORTED, "%s: the %s backend builds %s, not %s",
                          prog->source_name, dev->backend->name, v->languages,
                          kg_language_name(req->language));
    }
    if (log)
        *log = build_log;
    else
        free(build_log);
    if (rc == KG_OK)
        prog->ctx = module;
    return rc;
}

void kg_gpu_program_free(kg_program *prog)
{
    kg_gpu_device *g = gpu_of(prog->dev);
    if (prog->ctx && g->v->context_select(g->index, g->context) == 0)
        g->v->module_unload(prog->ctx);
    prog->ctx = NULL;
}

int kg_gpu_kernel_create(kg_program *prog, kg_kernel *kernel, kg_error *err)
{
    kg_gpu_device *g = gpu_of(prog->dev);
    int rc = select_device(g, err);
    if (rc)
        return rc;
    gpu_kernel *k = calloc(1, sizeof *k);
    if (!k)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    int vrc = g->v->module_function(&k->function, prog->ctx, kernel->entry);
    if (vrc) {
        free(k);
        char what[512];
        snprintf(what, sizeof what,
                 "%s has no kernel '%s' (%s entry points need extern \"C\" to keep their name)",
                 prog->source_name, kernel->entry, g->v->api);
        return kg_gpu_fail(g->v, err, KG_ERR_INVALID, vrc, what);
    }
    k->dynamic_limit = g->v->dynamic_shared_default;
    kernel->ctx = k;
    return KG_OK;
}

void kg_gpu_kernel_free(kg_kernel *kernel)
{
    free(kernel->ctx);
    kernel->ctx = NULL;
}

/* ---- buffers -------------------------------------------------------------- */

int kg_gpu_buffer_alloc(kg_device *dev, kg_buffer *buf, kg_error *err)
{
    kg_gpu_device *g = gpu_of(dev);
    int rc = select_device(g, err);
    if (rc)
        return rc;
    gpu_buffer *b = calloc(1, sizeof *b);
    if (!b)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    int vrc = g->v->mem_alloc(&b->ptr, buf->bytes);
    if (vrc) {
        free(b);
        char what[96];
        snprintf(what, sizeof what, "allocating %zu bytes on the device failed", buf->bytes);
        return kg_gpu_fail(g->v, err, KG_ERR_MEMORY, vrc, what);
    }
    buf->ctx = b;
    return KG_OK;
}

int kg_gpu_buffer_view(kg_device *dev, kg_buffer *view, kg_error *err)
{
    (void)dev;
    gpu_buffer *b = calloc(1, sizeof *b);
    if (!b)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    b->ptr = ptr_of(view->parent) + view->offset;
    view->ctx = b;
    return KG_OK;
}

void kg_gpu_buffer_free(kg_buffer *buf)
{
    kg_gpu_device *g = gpu_of(buf->dev);
    if (!buf->parent && g->v->context_select(g->index, g->context) == 0)
        g->v->mem_free(ptr_of(buf));
    free(buf->ctx);
    buf->ctx = NULL;
}

int kg_gpu_buffer_write(kg_device *dev, kg_buffer *buf, size_t offset, const void *src,
                        size_t bytes, kg_error *err)
{
    kg_gpu_device *g = gpu_of(dev);
    int rc = select_device(g, err);
    if (rc)
        return rc;
    int vrc = g->v->stream_sync(g->stream);
    if (!vrc)
        vrc = g->v->copy_to_device(ptr_of(buf) + offset, src, bytes);
    return vrc ? kg_gpu_fail(g->v, err, KG_ERR_DEVICE, vrc, "host-to-device copy failed") : KG_OK;
}

int kg_gpu_buffer_read(kg_device *dev, kg_buffer *buf, size_t offset, void *dst, size_t bytes,
                       kg_error *err)
{
    kg_gpu_device *g = gpu_of(dev);
    int rc = select_device(g, err);
    if (rc)
        return rc;
    int vrc = g->v->stream_sync(g->stream);
    if (!vrc)
        vrc = g->v->copy_to_host(dst, ptr_of(buf) + offset, bytes);
    return vrc ? kg_gpu_fail(g->v, err, KG_ERR_DEVICE, vrc, "device-to-host copy failed") : KG_OK;
}

/* Patterns of 1, 2 and 4 bytes are memsets; 8 and 16 bytes (f64 NaN,
 * canaries) are one written copy of the pattern, then copies doubling the
 * filled part. */
static int fill_async(kg_gpu_device *g, kg_gpu_ptr at, const void *pattern, size_t pattern_size,
                      size_t bytes)
{
    const kg_gpu_vendor *v = g->v;
    if (pattern_size == 1)
        return v->memset8_async(at, *(const uint8_t *)pattern, bytes, g->stream);
    if (pattern_size == 2) {
        uint16_t word;
        memcpy(&word, pattern, 2);
        return v->memset16_async(at, word, bytes / 2, g->stream);
    }
    if (pattern_size == 4) {
        uint32_t word;
        memcpy(&word, pattern, 4);
        return v->memset32_async(at, word, bytes / 4, g->stream);
    }
    int vrc = v->stream_sync(g->stream);
    if (!vrc)
        vrc = v->copy_to_device(at, pattern, pattern_size);
    for (size_t done = pattern_size; !vrc && done < bytes; done *= 2)
        vrc = v->copy_async(at + done, at, done < bytes - done ? done : bytes - done, g->stream);
    return vrc;
}

int kg_gpu_buffer_fill(kg_device *dev, kg_buffer *buf, size_t offset, const void *pattern,
                       size_t pattern_size, size_t bytes, kg_error *err)
{
    kg_gpu_device *g = gpu_of(dev);
    int rc = select_device(g, err);
    if (rc)
        return rc;
    int vrc = fill_async(g, ptr_of(buf) + offset, pattern, pattern_size, bytes);
    if (!vrc)
        vrc = g->v->stream_sync(g->stream);
    return vrc ? kg_gpu_fail(g->v, err, KG_ERR_DEVICE, vrc, "buffer fill failed") : KG_OK;
}

int kg_gpu_buffer_copy(kg_device *dev, kg_buffer *dst, size_t dst_offset, kg_buffer *src,
                       size_t src_offset, size_t bytes, kg_error *err)
{
    kg_gpu_device *g = gpu_of(dev);
    int rc = select_device(g, err);
    if (rc)
        return rc;
    int vrc =
        g->v->copy_async(ptr_of(dst) + dst_offset, ptr_of(src) + src_offset, bytes, g->stream);
    return vrc ? kg_gpu_fail(g->v, err, KG_ERR_DEVICE, vrc, "device copy failed") : KG_OK;
}

/* ---- launches and timing -------------------------------------------------- */

/* The API's argument array: the address of each argument's value. Buffer
 * addresses go to `pointers`, scalars point into `l`; both outlive the
 * launch call. device.c has checked the kinds and buffers. */
static int pack_params(const kg_kernel *k, const kg_launch *l, kg_gpu_ptr *pointers, void **params,
                       kg_error *err)
{
    if (l->arg_count > KG_GPU_MAX_ARGS)
        return kg_error_set(err, KG_ERR_INVALID, "%s: %zu arguments (at most %d)", k->entry,
                            l->arg_count, KG_GPU_MAX_ARGS);
    for (size_t i = 0; i < l->arg_count; i++) {
        const kg_arg *a = &l->args[i];
        if (a->kind == KG_ARG_BUFFER || a->kind == KG_ARG_NULL_POINTER) {
            pointers[i] = a->kind == KG_ARG_BUFFER ? ptr_of(a->value.buffer) : 0;
            params[i] = &pointers[i];
        } else if (a->kind == KG_ARG_I32) {
            params[i] = (void *)&a->value.i32;
        } else if (a->kind == KG_ARG_I64) {
            params[i] = (void *)&a->value.i64;
        } else {
            params[i] = (void *)&a->value.f32;
        }
    }
    return KG_OK;
}

/* Above the default, a function must opt in to more dynamic shared memory
 * (CUDA, beyond 48 KiB). */
static int allow_dynamic_shared(kg_gpu_device *g, kg_kernel *kernel, const kg_launch *l,
                                kg_error *err)
{
    gpu_kernel *k = kernel->ctx;
    if (!g->v->set_dynamic_shared || l->dynamic_local_bytes <= k->dynamic_limit)
        return KG_OK;
    int vrc = g->v->set_dynamic_shared(k->function, l->dynamic_local_bytes);
    if (vrc) {
        char what[256];
        snprintf(what, sizeof what, "%s: %zu bytes of dynamic shared memory not available",
                 kernel->entry, l->dynamic_local_bytes);
        return kg_gpu_fail(g->v, err, KG_ERR_LAUNCH, vrc, what);
    }
    k->dynamic_limit = l->dynamic_local_bytes;
    return KG_OK;
}

int kg_gpu_launch(kg_device *dev, kg_kernel *kernel, const kg_launch *l, kg_error *err)
{
    kg_gpu_device *g = gpu_of(dev);
    int rc = select_device(g, err);
    if (rc)
        return rc;
    unsigned grid[3], block[3];
    for (int d = 0; d < 3; d++) {
        if (l->grid[d] > g->v->grid_limit[d])
            return kg_error_set(err, KG_ERR_INVALID, "%s: grid[%d] = %llu exceeds %s's limit",
                                kernel->entry, d, (unsigned long long)l->grid[d], g->v->api);
        grid[d] = (unsigned)l->grid[d];
        block[d] = l->block[d];
    }
    if ((rc = allow_dynamic_shared(g, kernel, l, err)))
        return rc;
    kg_gpu_ptr pointers[KG_GPU_MAX_ARGS];
    void *params[KG_GPU_MAX_ARGS];
    if ((rc = pack_params(kernel, l, pointers, params, err)))
        return rc;
    gpu_kernel *k = kernel->ctx;
    int vrc = g->v->launch(k->function, grid, block, (unsigned)l->dynamic_local_bytes, g->stream,
                           l->arg_count ? params : NULL);
    if (vrc) {
        char what[600];
        kg_launch_describe(kernel, l, what, sizeof what);
        return kg_gpu_fail(g->v, err, KG_ERR_LAUNCH, vrc, what);
    }
    return KG_OK;
}

int kg_gpu_synchronize(kg_device *dev, kg_error *err)
{
    kg_gpu_device *g = gpu_of(dev);
    int rc = select_device(g, err);
    if (rc)
        return rc;
    int vrc = g->v->stream_sync(g->stream);
    return vrc ? kg_gpu_fail(g->v, err, KG_ERR_LAUNCH, vrc, "a kernel failed (stream synchronize)")
               : KG_OK;
}

int kg_gpu_timer_start(kg_device *dev, kg_error *err)
{
    kg_gpu_device *g = gpu_of(dev);
    int rc = select_device(g, err);
    if (rc)
        return rc;
    int vrc = 0;
    if (g->hold) {
        unsigned long long ns = KG_GPU_HOLD_NS;
        void *params[] = {&ns};
        static const unsigned one[3] = {1, 1, 1};
        vrc = g->v->launch(g->hold, one, one, 0, g->stream, params);
    }
    if (!vrc)
        vrc = g->v->event_record(g->start, g->stream);
    return vrc ? kg_gpu_fail(g->v, err, KG_ERR_DEVICE, vrc, "starting the timed region failed")
               : KG_OK;
}

int kg_gpu_timer_stop(kg_device *dev, double *elapsed_seconds, kg_error *err)
{
    kg_gpu_device *g = gpu_of(dev);
    int rc = select_device(g, err);
    if (rc)
        return rc;
    int vrc = g->v->event_record(g->stop, g->stream);
    if (!vrc)
        vrc = g->v->event_sync(g->stop);
    if (vrc)
        return kg_gpu_fail(g->v, err, KG_ERR_LAUNCH, vrc, "a kernel in the timed region failed");
    float ms = 0;
    vrc = g->v->event_elapsed_ms(&ms, g->start, g->stop);
    if (vrc)
        return kg_gpu_fail(g->v, err, KG_ERR_DEVICE, vrc, "reading the event times failed");
    *elapsed_seconds = (double)ms * 1e-3;
    return KG_OK;
}

/* Writes 2x the last-level cache (at least the floor, at most the largest
 * allocation) with a pattern that changes every call, then waits. */
int kg_gpu_flush_cache(kg_device *dev, kg_error *err)
{
    kg_gpu_device *g = gpu_of(dev);
    int rc = select_device(g, err);
    if (rc)
        return rc;
    int vrc;
    if (!g->flush) {
        uint64_t bytes = 2 * dev->info.cache_bytes;
        if (bytes < KG_GPU_FLUSH_MIN_BYTES)
            bytes = KG_GPU_FLUSH_MIN_BYTES;
        if (dev->info.max_alloc_bytes && bytes > dev->info.max_alloc_bytes)
            bytes = dev->info.max_alloc_bytes;
        bytes -= bytes % 4;
        if ((vrc = g->v->mem_alloc(&g->flush, (size_t)bytes))) {
            g->flush = 0;
            return kg_gpu_fail(g->v, err, KG_ERR_MEMORY, vrc,
                               "allocating the cache flush buffer failed");
        }
        g->flush_bytes = (size_t)bytes;
    }
    g->flush_calls++;
    vrc =
        g->v->memset32_async(g->flush, g->flush_calls * 0x9E3779B9u, g->flush_bytes / 4, g->stream);
    if (!vrc)
        vrc = g->v->stream_sync(g->stream);
    return vrc ? kg_gpu_fail(g->v, err, KG_ERR_DEVICE, vrc, "the cache flush failed") : KG_OK;
}
