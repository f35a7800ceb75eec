/* The device API's wrappers (device.h): every check of the backend
 * contract, once, before a backend's table is called. */
#include "backend_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- devices -------------------------------------------------------------- */

int kg_dev_open(const kg_backend *b, int index, kg_device **out, kg_error *err)
{
    *out = NULL;
    kg_device *dev = calloc(1, sizeof *dev);
    if (!dev)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory opening %s device %d", b->name,
                            index);
    dev->backend = b;
    int rc = kg_backend_device_info(b, index, &dev->info, err);
    if (rc == KG_OK)
        rc = b->device_open(dev, index, err);
    if (rc != KG_OK) {
        free(dev);
        return rc;
    }
    *out = dev;
    return KG_OK;
}

void kg_dev_close(kg_device *dev)
{
    if (!dev)
        return;
    dev->backend->device_close(dev);
    free(dev);
}

const kg_backend *kg_dev_backend(const kg_device *dev)
{
    return dev->backend;
}

const kg_device_info *kg_dev_info(const kg_device *dev)
{
    return &dev->info;
}

/* ---- programs and kernels ------------------------------------------------- */

static const char *name_of(const kg_build_request *req)
{
    return req->source_name ? req->source_name : "<source>";
}

int kg_dev_program_build(kg_device *dev, const kg_build_request *req, kg_program **out, char **log,
                         kg_error *err)
{
    if (log)
        *log = NULL;
    *out = NULL;
    if (!dev || !req)
        return kg_error_set(err, KG_ERR_INVALID, "program_build: NULL device or request");
    if (!req->source)
        return kg_error_set(err, KG_ERR_INVALID, "%s: no source text", name_of(req));
    if (req->define_count && !req->defines)
        return kg_error_set(err, KG_ERR_INVALID, "%s: %zu defines but no define list", name_of(req),
                            req->define_count);
    kg_program *prog = calloc(1, sizeof *prog);
    if (!prog || !(prog->source_name = kg_strdup(name_of(req)))) {
        free(prog);
        return kg_error_set(err, KG_ERR_MEMORY, "%s: out of memory", name_of(req));
    }
    prog->dev = dev;
    prog->refs = 1;
    int rc = dev->backend->program_build(dev, req, prog, log, err);
    if (rc != KG_OK) {
        free(prog->source_name);
        free(prog);
        return rc;
    }
    *out = prog;
    return KG_OK;
}

static void program_release(kg_program *prog)
{
    if (--prog->refs)
        return;
    prog->dev->backend->program_free(prog);
    free(prog->source_name);
    free(prog);
}

void kg_dev_program_free(kg_program *prog)
{
    if (prog)
        program_release(prog);
}

static void kernel_release(kg_kernel *k)
{
    if (k->program)
        program_release(k->program);
    free(k->entry);
    free(k->source_name);
    free(k);
}

int kg_dev_kernel_create(kg_program *prog, const char *entry, kg_kernel **out, kg_error *err)
{
    *out = NULL;
    if (!prog || !entry)
        return kg_error_set(err, KG_ERR_INVALID, "kernel_create: NULL program or entry");
    kg_kernel *k = calloc(1, sizeof *k);
    if (!k || !(k->entry = kg_strdup(entry)) || !(k->source_name = kg_strdup(prog->source_name))) {
        if (k)
            kernel_release(k);
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory creating kernel '%s'", entry);
    }
    k->dev = prog->dev;
    int rc = prog->dev->backend->kernel_create(prog, k, err);
    if (rc == KG_OK) {
        k->program = prog;
        prog->refs++;
    }
    if (rc != KG_OK) {
        kernel_release(k);
        return rc;
    }
    *out = k;
    return KG_OK;
}

void kg_dev_kernel_free(kg_kernel *kernel)
{
    if (!kernel)
        return;
    kernel->dev->backend->kernel_free(kernel);
    kernel_release(kernel);
}

const char *kg_kernel_entry_name(const kg_kernel *kernel)
{
    return kernel->entry;
}

/* ---- buffers -------------------------------------------------------------- */

int kg_dev_buffer_alloc(kg_device *dev, size_t bytes, kg_buffer **out, kg_error *err)
{
    *out = NULL;
    if (!dev)
        return kg_error_set(err, KG_ERR_INVALID, "buffer_alloc: NULL device");
    if (dev->info.max_alloc_bytes && bytes > dev->info.max_alloc_bytes)
        return kg_error_set(err, KG_ERR_MEMORY,
                            "buffer of %zu bytes exceeds the device's largest allocation "
                            "(%llu bytes)",
                            bytes, (unsigned long long)dev->info.max_alloc_bytes);
    kg_buffer *buf = calloc(1, sizeof *buf);
    if (!buf)
        return kg_error_set(err, KG_ERR_MEMORY, "out of host memory allocating a buffer");
    buf->dev = dev;
    buf->bytes = bytes ? bytes : 1;
    int rc = dev->backend->buffer_alloc(dev, buf, err);
    if (rc != KG_OK) {
        free(buf);
        return rc;
    }
    buf->bytes = bytes;
    *out = buf;
    return KG_OK;
}

/* KG_OK when [offset, offset + bytes) lies inside `buf`, else KG_ERR_INVALID
 * naming `op` and the sizes, so that a bad range reads as such rather than
 * as a bare driver code. */
static int check_range(const kg_device *dev, const kg_buffer *buf, size_t offset, size_t bytes,
                       const char *op, kg_error *err)
{
    if (!dev)
        return kg_error_set(err, KG_ERR_INVALID, "%s: NULL device", op);
    if (!buf)
        return kg_error_set(err, KG_ERR_INVALID, "%s: NULL buffer", op);
    if (buf->dev != dev)
        return kg_error_set(err, KG_ERR_INVALID, "%s: the buffer belongs to another device", op);
    if (offset > buf->bytes || bytes > buf->bytes - offset)
        return kg_error_set(err, KG_ERR_INVALID,
                            "%s of %zu bytes at offset %zu is outside a %zu-byte buffer", op, bytes,
                            offset, buf->bytes);
    return KG_OK;
}

int kg_dev_buffer_view(kg_device *dev, kg_buffer *parent, size_t offset, size_t bytes,
                       kg_buffer **out, kg_error *err)
{
    *out = NULL;
    int rc = check_range(dev, parent, offset, bytes, "buffer_view", err);
    if (rc)
        return rc;
    if (!dev->backend->buffer_view)
        return kg_error_set(err, KG_ERR_UNSUPPORTED, "the %s backend has no buffer views",
                            dev->backend->name);
    if (offset % KG_BUFFER_VIEW_ALIGN)
        return kg_error_set(err, KG_ERR_INVALID,
                            "buffer_view: offset %zu is not a multiple of %d bytes", offset,
                            KG_BUFFER_VIEW_ALIGN);
    kg_buffer *view = calloc(1, sizeof *view);
    if (!view)
        return kg_error_set(err, KG_ERR_MEMORY, "out of host memory");
    view->dev = dev;
    view->bytes = bytes;
    view->parent = parent;
    view->offset = offset;
    if ((rc = dev->backend->buffer_view(dev, view, err)) != KG_OK) {
        free(view);
        return rc;
    }
    *out = view;
    return KG_OK;
}

void kg_dev_buffer_free(kg_buffer *buf)
{
    if (!buf)
        return;
    buf->dev->backend->buffer_free(buf);
    free(buf);
}

size_t kg_buffer_bytes(const kg_buffer *buf)
{
    return buf->bytes;
}

int kg_dev_has_views(const kg_device *dev)
{
    return dev->backend->buffer_view != NULL;
}

int kg_dev_buffer_write(kg_device *dev, kg_buffer *buf, size_t offset, const void *src,
                        size_t bytes, kg_error *err)
{
    int rc = check_range(dev, buf, offset, bytes, "buffer_write", err);
    if (rc == KG_OK && bytes && !src)
        rc = kg_error_set(err, KG_ERR_INVALID, "buffer_write: NULL source");
    if (rc || !bytes)
        return rc;
    return dev->backend->buffer_write(dev, buf, offset, src, bytes, err);
}

int kg_dev_buffer_read(kg_device *dev, kg_buffer *buf, size_t offset, void *dst, size_t bytes,
                       kg_error *err)
{
    int rc = check_range(dev, buf, offset, bytes, "buffer_read", err);
    if (rc == KG_OK && bytes && !dst)
        rc = kg_error_set(err, KG_ERR_INVALID, "buffer_read: NULL destination");
    if (rc || !bytes)
        return rc;
    return dev->backend->buffer_read(dev, buf, offset, dst, bytes, err);
}

int kg_dev_buffer_fill(kg_device *dev, kg_buffer *buf, size_t offset, const void *pattern,
                       size_t pattern_size, size_t bytes, kg_error *err)
{
    int rc = check_range(dev, buf, offset, bytes, "buffer_fill", err);
    if (rc)
        return rc;
    if (!pattern || (pattern_size != 1 && pattern_size != 2 && pattern_size != 4 &&
                     pattern_size != 8 && pattern_size != 16))
        return kg_error_set(err, KG_ERR_INVALID, "buffer_fill: pattern of %zu bytes", pattern_size);
    if (bytes % pattern_size || offset % pattern_size)
        return kg_error_set(err, KG_ERR_INVALID,
                            "buffer_fill: offset and size must be multiples of the pattern");
    if (!bytes)
        return KG_OK;
    return dev->backend->buffer_fill(dev, buf, offset, pattern, pattern_size, bytes, err);
}

/* The absolute byte range of a buffer in its root allocation, to refuse
 * copies between overlapping ranges (no driver promises their result). */
static const kg_buffer *root_of(const kg_buffer *b, size_t *offset)
{
    *offset = 0;
    while (b->parent) {
        *offset += b->offset;
        b = b->parent;
    }
    return b;
}

int kg_dev_buffer_copy(kg_device *dev, kg_buffer *dst, size_t dst_offset, kg_buffer *src,
                       size_t src_offset, size_t bytes, kg_error *err)
{
    int rc = check_range(dev, dst, dst_offset, bytes, "buffer_copy (destination)", err);
    if (!rc)
        rc = check_range(dev, src, src_offset, bytes, "buffer_copy (source)", err);
    if (rc || !bytes)
        return rc;
    size_t dst_base, src_base;
    if (root_of(dst, &dst_base) == root_of(src, &src_base)) {
        size_t d = dst_base + dst_offset, s = src_base + src_offset;
        if (d < s + bytes && s < d + bytes)
            return kg_error_set(err, KG_ERR_INVALID,
                                "buffer_copy: source [%zu, %zu) and destination [%zu, %zu) "
                                "overlap in the same allocation",
                                s, s + bytes, d, d + bytes);
    }
    return dev->backend->buffer_copy(dev, dst, dst_offset, src, src_offset, bytes, err);
}

/* ---- launches and timing -------------------------------------------------- */

void kg_launch_describe(const kg_kernel *kernel, const kg_launch *launch, char *out, size_t size)
{
    snprintf(out, size,
             "kernel '%s' (%s), grid [%llu, %llu, %llu], block [%u, %u, %u], dynamic local %zu "
             "bytes",
             kernel->entry, kernel->source_name, (unsigned long long)launch->grid[0],
             (unsigned long long)launch->grid[1], (unsigned long long)launch->grid[2],
             launch->block[0], launch->block[1], launch->block[2], launch->dynamic_local_bytes);
}

static int launch_refused(const kg_kernel *k, const kg_launch *l, kg_error *err, const char *what)
{
    char where[512];
    kg_launch_describe(k, l, where, sizeof where);
    return kg_error_set(err, KG_ERR_INVALID, "launch: %s for %s", what, where);
}

static int check_launch(const kg_device *dev, const kg_kernel *k, const kg_launch *l, kg_error *err)
{
    if (!dev || !k || !l)
        return kg_error_set(err, KG_ERR_INVALID, "launch: NULL device, kernel or launch");
    if (k->dev != dev)
        return launch_refused(k, l, err, "the kernel was built for another device");
    if (l->arg_count && !l->args)
        return launch_refused(k, l, err, "arguments missing");
    for (int d = 0; d < 3; d++)
        if (l->grid[d] == 0 || l->block[d] == 0)
            return launch_refused(k, l, err, "grid and block sizes must be at least 1");
    char what[96];
    for (size_t i = 0; i < l->arg_count; i++) {
        const kg_arg *a = &l->args[i];
        if (a->kind != KG_ARG_BUFFER && a->kind != KG_ARG_I32 && a->kind != KG_ARG_I64 &&
            a->kind != KG_ARG_F32 && a->kind != KG_ARG_NULL_POINTER) {
            snprintf(what, sizeof what, "argument %zu has unknown kind %d", i, (int)a->kind);
            return launch_refused(k, l, err, what);
        }
        if (a->kind != KG_ARG_BUFFER)
            continue;
        if (!a->value.buffer)
            snprintf(what, sizeof what, "argument %zu is a NULL buffer", i);
        else if (a->value.buffer->dev != dev)
            snprintf(what, sizeof what, "argument %zu is a buffer of another device", i);
        else
            continue;
        return launch_refused(k, l, err, what);
    }
    return KG_OK;
}

int kg_dev_launch(kg_device *dev, kg_kernel *kernel, const kg_launch *launch, kg_error *err)
{
    int rc = check_launch(dev, kernel, launch, err);
    if (rc)
        return rc;
    if ((rc = dev->backend->launch(dev, kernel, launch, err)) != KG_OK)
        return rc;
    if (dev->timing)
        dev->region_launches++;
    return KG_OK;
}

int kg_dev_synchronize(kg_device *dev, kg_error *err)
{
    if (!dev)
        return kg_error_set(err, KG_ERR_INVALID, "synchronize: NULL device");
    return dev->backend->synchronize(dev, err);
}

/* Opening a region twice would silently merge two measurements. */
int kg_dev_timer_start(kg_device *dev, kg_error *err)
{
    if (!dev)
        return kg_error_set(err, KG_ERR_INVALID, "timer_start: NULL device");
    if (dev->timing)
        return kg_error_set(err, KG_ERR_INVALID,
                            "timer_start: a timed region is already open (missing timer_stop)");
    int rc = dev->backend->timer_start(dev, err);
    if (rc == KG_OK) {
        dev->timing = 1;
        dev->region_launches = 0;
    }
    return rc;
}

int kg_dev_timer_stop(kg_device *dev, double *elapsed_seconds, kg_error *err)
{
    if (!dev || !elapsed_seconds)
        return kg_error_set(err, KG_ERR_INVALID, "timer_stop: NULL device or result");
    *elapsed_seconds = 0;
    if (!dev->timing)
        return kg_error_set(err, KG_ERR_INVALID, "timer_stop: no timed region is open");
    dev->timing = 0;
    double seconds = 0;
    int rc = dev->backend->timer_stop(dev, &seconds, err);
    if (rc)
        return rc;
    if (dev->region_launches == 0)
        return kg_error_set(err, KG_ERR_INVALID, "timer_stop: the timed region has no launch");
    *elapsed_seconds = seconds;
    return KG_OK;
}

int kg_dev_flush_cache(kg_device *dev, kg_error *err)
{
    if (!dev)
        return kg_error_set(err, KG_ERR_INVALID, "flush_cache: NULL device");
    if (dev->timing)
        return kg_error_set(err, KG_ERR_INVALID,
                            "flush_cache: inside a timed region (the flush would be timed)");
    return dev->backend->flush_cache(dev, err);
}

int kg_dev_read_clocks(kg_device *dev, uint32_t *sm_clock_mhz, int *throttled, kg_error *err)
{
    *sm_clock_mhz = 0;
    *throttled = 0;
    if (!dev)
        return kg_error_set(err, KG_ERR_INVALID, "read_clocks: NULL device");
    if (!dev->backend->read_clocks)
        return kg_error_set(err, KG_ERR_UNSUPPORTED, "%s backend cannot read clocks",
                            dev->backend->name);
    return dev->backend->read_clocks(dev, sm_clock_mhz, throttled, err);
}

/* ---- vendor BLAS libraries ------------------------------------------------ */

const char *kg_blas_dtype_name(kg_blas_dtype dtype)
{
    switch (dtype) {
    case KG_BLAS_F32:
        return "f32";
    case KG_BLAS_F16:
        return "f16";
    case KG_BLAS_BF16:
        return "bf16";
    }
    return "unknown";
}

int kg_backend_blas(const kg_backend *b, kg_blas_dtype dtype, kg_blas_library *out, kg_error *err)
{
    memset(out, 0, sizeof *out);
    if (!b)
        return kg_error_set(err, KG_ERR_INVALID, "blas: NULL backend");
    if ((unsigned)dtype > KG_BLAS_BF16)
        return kg_error_set(err, KG_ERR_INVALID, "blas: unknown dtype %d", (int)dtype);
    if (!b->blas_library || !b->blas_gemm)
        return kg_error_set(err, KG_ERR_UNSUPPORTED, "the %s backend calls no BLAS library",
                            b->name);
    /* Whatever made the library unusable, the caller's answer is the same:
     * this device cannot grade a library tier. */
    return b->blas_library(dtype, out, err) == KG_OK ? KG_OK : KG_ERR_UNSUPPORTED;
}

/* Elements in a packed rows x cols matrix, and whether `buf` holds them. */
static int holds_matrix(const kg_buffer *buf, uint64_t rows, uint64_t cols, size_t element)
{
    if (rows > SIZE_MAX / cols || rows * cols > SIZE_MAX / element)
        return 0;
    return buf->bytes >= rows * cols * element;
}

static int check_blas_gemm(const kg_device *dev, const kg_blas_gemm *g, kg_error *err)
{
    if (!dev || !g)
        return kg_error_set(err, KG_ERR_INVALID, "blas_gemm: NULL device or call");
    if (g->m == 0 || g->n == 0 || g->k == 0)
        return kg_error_set(err, KG_ERR_INVALID,
                            "blas_gemm: m, n and k must be at least 1 (m %llu, n %llu, k %llu)",
                            (unsigned long long)g->m, (unsigned long long)g->n,
                            (unsigned long long)g->k);
    const kg_buffer *buffers[3] = {g->a, g->b, g->c};
    static const char names[3] = {'A', 'B', 'C'};
    uint64_t rows[3] = {g->m, g->b_transposed ? g->n : g->k, g->m};
    uint64_t cols[3] = {g->k, g->b_transposed ? g->k : g->n, g->n};
    size_t element = g->dtype == KG_BLAS_F32 ? 4 : 2;
    for (int i = 0; i < 3; i++) {
        if (!buffers[i])
            return kg_error_set(err, KG_ERR_INVALID, "blas_gemm: %c is a NULL buffer", names[i]);
        if (buffers[i]->dev != dev)
            return kg_error_set(err, KG_ERR_INVALID, "blas_gemm: %c is a buffer of another device",
                                names[i]);
        if (!holds_matrix(buffers[i], rows[i], cols[i], element))
            return kg_error_set(err, KG_ERR_INVALID,
                                "blas_gemm: %c (%zu bytes) is smaller than its %llu x %llu %s "
                                "matrix",
                                names[i], buffers[i]->bytes, (unsigned long long)rows[i],
                                (unsigned long long)cols[i], kg_blas_dtype_name(g->dtype));
    }
    return KG_OK;
}

int kg_dev_blas_gemm(kg_device *dev, const kg_blas_gemm *g, kg_error *err)
{
    int rc = check_blas_gemm(dev, g, err);
    if (rc)
        return rc;
    kg_blas_library lib;
    if ((rc = kg_backend_blas(dev->backend, g->dtype, &lib, err)) != KG_OK)
        return rc;
    if ((rc = dev->backend->blas_gemm(dev, g, err)) != KG_OK)
        return rc;
    /* A library call is the timed region's work, as a launch is. */
    if (dev->timing)
        dev->region_launches++;
    return KG_OK;
}
