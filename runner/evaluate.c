/* Building, allocating and launching one kernel set for one shape. */
#include "evaluate.h"
#include "json_file.h"
#include "source_text.h"
#include "tensors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct cache_item {
    char *key; /* source path + language + defines */
    kg_program *program;
    char *log;
    char sha256[65];
    cJSON *files; /* every file the build read (source_text.h) */
    int refused;
    double seconds;
    int status;
    kg_error error;
} cache_item;

struct kg_build_cache {
    const kg_backend *backend;
    kg_device *dev;
    uint64_t global_mem_bytes, max_alloc_bytes; /* 0 = unknown */
    kg_symtab device_symbols;
    cache_item *items;
    size_t count, cap;
};

kg_build_cache *kg_build_cache_create(const kg_backend *backend, kg_device *dev,
                                      const kg_device_info *info)
{
    kg_build_cache *c = calloc(1, sizeof *c);
    if (c) {
        c->backend = backend;
        c->dev = dev;
        c->global_mem_bytes = info->global_mem_bytes;
        c->max_alloc_bytes = info->max_alloc_bytes;
        kg_symtab_init(&c->device_symbols);
        kg_device_symbols(info, &c->device_symbols);
    }
    return c;
}

void kg_build_cache_free(kg_build_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->count; i++) {
        if (c->items[i].program)
            c->backend->program_free(c->items[i].program);
        free(c->items[i].key);
        free(c->items[i].log);
        cJSON_Delete(c->items[i].files);
    }
    free(c->items);
    free(c);
}

typedef struct resolved_launch {
    kg_kernel *kernel;
    kg_launch launch;
    kg_arg *args;
} resolved_launch;

/* A buffer a kernel sees: with guard zones, a view into the middle of a
 * larger allocation whose guards are checked after each checked run. */
typedef struct guarded_buffer {
    kg_buffer *view;   /* what kernels and transfers use */
    kg_buffer *parent; /* guard, view, guard; NULL when the backend has no views */
    size_t bytes;      /* of the view */
} guarded_buffer;

struct kg_prepared {
    const kg_backend *backend;
    kg_device *dev;
    const kg_workload *w;
    guarded_buffer *tensors; /* w->tensor_count */
    guarded_buffer *scratch;
    size_t *scratch_bytes;
    size_t scratch_count;
    const kg_kernel_entry *entry;
    resolved_launch *launches;
    size_t launch_count;
    size_t output_bytes;
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* What a cache item tells about a build, copied into *build. */
static void describe_build(const cache_item *it, int cached, kg_build_info *build)
{
    memcpy(build->source_sha256, it->sha256, sizeof it->sha256);
    build->log = it->log ? it->log : "";
    build->seconds = cached ? 0 : it->seconds;
    build->cached = cached;
    build->source_files = it->files;
    build->source_refused = it->refused;
}

static int build_cached(kg_build_cache *c, const kg_kernel_entry *e, const kg_shape_defines *defs,
                        kg_build_info *build, kg_program **program, kg_error *err)
{
    char key[1024];
    snprintf(key, sizeof key, "%s|%s|%s|%s", e->source_path, kg_language_name(e->language),
             build->defines, e->options);
    for (size_t i = 0; i < c->count; i++) {
        cache_item *it = &c->items[i];
        if (strcmp(it->key, key) != 0)
            continue;
        describe_build(it, 1, build);
        if (it->status != KG_OK) {
            if (err)
                *err = it->error;
            return it->status;
        }
        *program = it->program;
        return KG_OK;
    }
    if (c->count == c->cap) {
        size_t ncap = c->cap ? 2 * c->cap : 8;
        cache_item *items = realloc(c->items, ncap * sizeof *items);
        if (!items)
            return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
        c->items = items;
        c->cap = ncap;
    }
    cache_item *it = &c->items[c->count++];
    memset(it, 0, sizeof *it);
    it->key = strdup(key);
    /* The source as the compiler reads it: includes inside the set's
     * folder inlined, anything else refused; the hash covers it all. */
    char set_dir[4096];
    snprintf(set_dir, sizeof set_dir, "%s", e->manifest);
    char *slash = strrchr(set_dir, '/');
    if (slash)
        *slash = '\0';
    kg_source_text src;
    it->status =
        kg_source_text_load(e->source_path, slash ? set_dir : ".", e->language, &src, &it->error);
    it->refused = src.refused;
    it->files = src.files;
    src.files = NULL;
    if (it->status == KG_OK) {
        memcpy(it->sha256, src.sha256, sizeof src.sha256);
        kg_build_request req = {.language = e->language,
                                .source = src.text,
                                .source_size = src.size,
                                .source_name = e->source_path,
                                .defines = defs->list,
                                .define_count = defs->count,
                                .options = e->options};
        double t0 = now_seconds();
        it->status = c->backend->program_build(c->dev, &req, &it->program, &it->log, &it->error);
        it->seconds = now_seconds() - t0;
    }
    kg_source_text_free(&src);
    describe_build(it, 0, build);
    if (it->status != KG_OK) {
        if (err)
            *err = it->error;
        return it->status;
    }
    *program = it->program;
    return KG_OK;
}

static void guarded_free(const kg_backend *b, guarded_buffer *g)
{
    if (g->view)
        b->buffer_free(g->view);
    if (g->parent)
        b->buffer_free(g->parent);
    g->view = g->parent = NULL;
}

void kg_prepared_free(kg_prepared *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->launch_count; i++) {
        if (p->launches[i].kernel)
            p->backend->kernel_free(p->launches[i].kernel);
        free(p->launches[i].args);
    }
    free(p->launches);
    if (p->tensors)
        for (size_t i = 0; i < p->w->tensor_count; i++)
            guarded_free(p->backend, &p->tensors[i]);
    if (p->scratch)
        for (size_t i = 0; i < p->scratch_count; i++)
            guarded_free(p->backend, &p->scratch[i]);
    free(p->tensors);
    free(p->scratch);
    free(p->scratch_bytes);
    free(p);
}

/* Allocates guard + bytes + guard and hands out a view of the middle, the
 * guards filled with KG_GUARD_BYTE. Without views: a plain buffer. */
static int guarded_alloc(kg_prepared *p, size_t bytes, guarded_buffer *g, kg_error *err)
{
    const kg_backend *b = p->backend;
    g->bytes = bytes ? bytes : 1;
    if (!b->buffer_view)
        return b->buffer_alloc(p->dev, g->bytes, &g->view, err);
    size_t total = KG_GUARD_BYTES + g->bytes + KG_GUARD_BYTES;
    static const unsigned char guard = KG_GUARD_BYTE;
    int rc;
    if ((rc = b->buffer_alloc(p->dev, total, &g->parent, err)) ||
        (rc = b->buffer_fill(p->dev, g->parent, 0, &guard, 1, total, err)) ||
        (rc = b->buffer_view(p->dev, g->parent, KG_GUARD_BYTES, g->bytes, &g->view, err)))
        return rc;
    return KG_OK;
}

/* Counts bytes of the two guard zones that no longer hold KG_GUARD_BYTE. */
static int guard_damage(kg_prepared *p, const guarded_buffer *g, unsigned char *scratch,
                        size_t *damaged, kg_error *err)
{
    *damaged = 0;
    if (!g->parent)
        return KG_OK;
    size_t offsets[2] = {0, KG_GUARD_BYTES + g->bytes};
    for (int z = 0; z < 2; z++) {
        int rc =
            p->backend->buffer_read(p->dev, g->parent, offsets[z], scratch, KG_GUARD_BYTES, err);
        if (rc)
            return rc;
        for (size_t i = 0; i < KG_GUARD_BYTES; i++)
            *damaged += scratch[i] != KG_GUARD_BYTE;
    }
    return KG_OK;
}

static int alloc_buffers(kg_prepared *p, const kg_kernel_entry *e, const kg_shape *shape,
                         const kg_host_tensor *tensors, uint64_t global_mem, uint64_t max_alloc,
                         kg_error *err)
{
    int rc;
    /* Sizes first, so a shape the device cannot hold is refused before
     * anything is allocated. */
    uint64_t need = 0;
    for (size_t i = 0; i < p->w->tensor_count; i++)
        need += kg_tensor_bytes(&tensors[i]) + 2 * KG_GUARD_BYTES;
    for (size_t i = 0; i < e->scratch_count; i++) {
        int64_t count;
        char what[96];
        snprintf(what, sizeof what, "%s: scratch %s count", e->set, e->scratch[i].name);
        if ((rc = kg_eval_for_shape(e->scratch[i].count, shape, p->w->name, what, &count, err)))
            return rc;
        if (count < 0 || (uint64_t)count > SIZE_MAX / 16)
            return kg_error_set(err, KG_ERR_INVALID, "%s: %s is out of range (%lld)", p->w->name,
                                what, (long long)count);
        p->scratch_bytes[i] = (size_t)count * kg_dtype_size(e->scratch[i].dtype);
        need += p->scratch_bytes[i] + 2 * KG_GUARD_BYTES;
    }
    if (global_mem && need > global_mem)
        return kg_error_set(err, KG_ERR_MEMORY,
                            "%s: shape %s needs %.1f MiB of device memory (tensors, scratch and "
                            "guard zones), more than the device's %.1f MiB; refused before "
                            "allocating",
                            p->w->name, shape->name, (double)need / 1048576.0,
                            (double)global_mem / 1048576.0);
    for (size_t i = 0; i < p->w->tensor_count; i++) {
        size_t bytes = kg_tensor_bytes(&tensors[i]);
        if (max_alloc && bytes + 2 * KG_GUARD_BYTES > max_alloc)
            return kg_error_set(err, KG_ERR_MEMORY,
                                "%s: shape %s: tensor %s (%.1f MiB) exceeds the device's largest "
                                "allocation (%.1f MiB); refused before allocating",
                                p->w->name, shape->name, tensors[i].name, (double)bytes / 1048576.0,
                                (double)max_alloc / 1048576.0);
    }
    for (size_t i = 0; i < p->w->tensor_count; i++) {
        size_t bytes = kg_tensor_bytes(&tensors[i]);
        if ((rc = guarded_alloc(p, bytes, &p->tensors[i], err)))
            return rc;
        if (bytes && (rc = p->backend->buffer_write(p->dev, p->tensors[i].view, 0, tensors[i].data,
                                                    bytes, err)))
            return rc;
    }
    p->output_bytes = kg_tensor_bytes(&tensors[p->w->output_index]);
    for (size_t i = 0; i < e->scratch_count; i++) {
        if ((rc = guarded_alloc(p, p->scratch_bytes[i], &p->scratch[i], err)))
            return rc;
        /* Scratch starts with a fixed canary, not whatever the allocator
         * left: runs are reproducible, and a kernel that reads scratch it
         * never wrote sees the same garbage every time. */
        static const unsigned char canary = 0x5a;
        if ((rc = p->backend->buffer_fill(p->dev, p->scratch[i].view, 0, &canary, 1,
                                          p->scratch[i].bytes, err)))
            return rc;
    }
    return KG_OK;
}

static int resolve_dims(const kg_workload *w, const kg_shape *shape, const char *set, size_t li,
                        const char *which, kg_expr *const *exprs, int n, uint64_t *out,
                        kg_error *err)
{
    for (int d = 0; d < 3; d++)
        out[d] = 1;
    for (int d = 0; d < n; d++) {
        int64_t v;
        char what[96];
        snprintf(what, sizeof what, "%s: launches[%zu].%s[%d]", set, li, which, d);
        int rc = kg_eval_for_shape(exprs[d], shape, w->name, what, &v, err);
        if (rc)
            return rc;
        if (v < 0)
            return kg_error_set(err, KG_ERR_INVALID, "%s: shape %s: %s is negative (%lld)", w->name,
                                shape->name, what, (long long)v);
        out[d] = (uint64_t)v;
    }
    return KG_OK;
}

static int resolve_launch(kg_prepared *p, const kg_kernel_entry *e, size_t li,
                          const kg_shape *shape, kg_program *program, kg_error *err)
{
    const kg_launch_spec *spec = &e->launches[li];
    resolved_launch *r = &p->launches[li];
    int rc = p->backend->kernel_create(program, spec->entry, &r->kernel, err);
    if (rc)
        return rc;
    uint64_t block[3];
    if ((rc = resolve_dims(p->w, shape, e->set, li, "grid", spec->grid, spec->grid_dims,
                           r->launch.grid, err)) ||
        (rc = resolve_dims(p->w, shape, e->set, li, "block", spec->block, spec->block_dims, block,
                           err)))
        return rc;
    for (int d = 0; d < 3; d++) {
        if (block[d] == 0 || block[d] > UINT32_MAX)
            return kg_error_set(err, KG_ERR_INVALID,
                                "%s: shape %s: %s: launches[%zu].block[%d] "
                                "= %llu is not a valid work-group size",
                                p->w->name, shape->name, e->set, li, d,
                                (unsigned long long)block[d]);
        r->launch.block[d] = (uint32_t)block[d];
    }
    if (spec->local_mem) {
        int64_t v;
        char what[96];
        snprintf(what, sizeof what, "%s: launches[%zu].local_mem", e->set, li);
        if ((rc = kg_eval_for_shape(spec->local_mem, shape, p->w->name, what, &v, err)))
            return rc;
        r->launch.dynamic_local_bytes = v > 0 ? (size_t)v : 0;
    }
    r->args = calloc(spec->arg_count ? spec->arg_count : 1, sizeof *r->args);
    if (!r->args)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    for (size_t a = 0; a < spec->arg_count; a++) {
        const kg_arg_spec *as = &spec->args[a];
        kg_arg *arg = &r->args[a];
        int64_t v = 0;
        switch (as->source) {
        case KG_ARGSRC_TENSOR:
            arg->kind = KG_ARG_BUFFER;
            arg->value.buffer = p->tensors[as->index].view;
            break;
        case KG_ARGSRC_SCRATCH:
            arg->kind = KG_ARG_BUFFER;
            arg->value.buffer = p->scratch[as->index].view;
            break;
        case KG_ARGSRC_PARAM:
            arg->kind = KG_ARG_F32;
            arg->value.f32 = (float)p->w->params[as->index].value;
            break;
        case KG_ARGSRC_I32:
        case KG_ARGSRC_I64: {
            char what[96];
            snprintf(what, sizeof what, "%s: launches[%zu].args[%zu]", e->set, li, a);
            if ((rc = kg_eval_for_shape(as->expr, shape, p->w->name, what, &v, err)))
                return rc;
            if (as->source == KG_ARGSRC_I64) {
                arg->kind = KG_ARG_I64;
                arg->value.i64 = v;
            } else {
                if (v < INT32_MIN || v > INT32_MAX)
                    return kg_error_set(err, KG_ERR_INVALID,
                                        "%s: shape %s: %s = %lld does not fit in int32 (write "
                                        "\"i64:...\" to pass 64 bits)",
                                        p->w->name, shape->name, what, (long long)v);
                arg->kind = KG_ARG_I32;
                arg->value.i32 = (int32_t)v;
            }
            break;
        }
        }
    }
    r->launch.args = r->args;
    r->launch.arg_count = spec->arg_count;
    return KG_OK;
}

int kg_prepare(kg_build_cache *cache, const kg_workload *w, const kg_kernel_entry *entry,
               const kg_shape *workload_shape, const kg_symtab *overrides,
               const kg_host_tensor *tensors, kg_prepared **out, kg_build_info *build,
               kg_error *err)
{
    kg_shape with_defines = *workload_shape;
    const kg_shape *shape = &with_defines;
    *out = NULL;
    memset(build, 0, sizeof *build);
    build->log = "";
    for (size_t i = 0; i < cache->device_symbols.count; i++)
        if (kg_symtab_set(&with_defines.symbols, cache->device_symbols.names[i],
                          cache->device_symbols.values[i]) != 0)
            return kg_error_set(err, KG_ERR_INVALID, "%s: too many symbols", w->name);
    kg_shape_defines defs;
    int rc = kg_entry_eval_defines(w, entry, &with_defines, overrides, &defs, err);
    if (rc)
        return rc;
    snprintf(build->defines, sizeof build->defines, "%s", defs.joined);
    kg_program *program = NULL;
    if ((rc = build_cached(cache, entry, &defs, build, &program, err)))
        return rc;
    kg_prepared *p = calloc(1, sizeof *p);
    if (!p)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    p->backend = cache->backend;
    p->dev = cache->dev;
    p->w = w;
    p->tensors = calloc(w->tensor_count, sizeof *p->tensors);
    p->scratch_count = entry->scratch_count;
    p->scratch = calloc(entry->scratch_count + 1, sizeof *p->scratch);
    p->scratch_bytes = calloc(entry->scratch_count + 1, sizeof *p->scratch_bytes);
    p->entry = entry;
    p->launch_count = entry->launch_count;
    p->launches = calloc(entry->launch_count, sizeof *p->launches);
    if (!p->tensors || !p->scratch || !p->scratch_bytes || !p->launches) {
        kg_prepared_free(p);
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    }
    if ((rc = alloc_buffers(p, entry, shape, tensors, cache->global_mem_bytes,
                            cache->max_alloc_bytes, err))) {
        kg_prepared_free(p);
        return rc;
    }
    for (size_t li = 0; li < entry->launch_count; li++)
        if ((rc = resolve_launch(p, entry, li, shape, program, err))) {
            kg_prepared_free(p);
            return rc;
        }
    *out = p;
    return KG_OK;
}

int kg_prepared_enqueue(kg_prepared *p, kg_error *err)
{
    for (size_t i = 0; i < p->launch_count; i++) {
        int rc = p->backend->launch(p->dev, p->launches[i].kernel, &p->launches[i].launch, err);
        if (rc)
            return rc;
    }
    return KG_OK;
}

int kg_prepared_poison_output(kg_prepared *p, kg_poison poison, kg_error *err)
{
    if (p->output_bytes == 0)
        return KG_OK;
    unsigned char pattern[4];
    size_t size = kg_poison_pattern(p->w->tensors[p->w->output_index].dtype, poison, pattern);
    return p->backend->buffer_fill(p->dev, p->tensors[p->w->output_index].view, 0, pattern, size,
                                   p->output_bytes, err);
}

int kg_prepared_upload_inputs(kg_prepared *p, const kg_host_tensor *tensors, kg_error *err)
{
    for (size_t i = 0; i < p->w->tensor_count; i++) {
        if (p->w->tensors[i].is_output)
            continue;
        size_t bytes = kg_tensor_bytes(&tensors[i]);
        int rc = bytes ? p->backend->buffer_write(p->dev, p->tensors[i].view, 0, tensors[i].data,
                                                  bytes, err)
                       : KG_OK;
        if (rc)
            return rc;
    }
    return KG_OK;
}

int kg_prepared_read_output(kg_prepared *p, void *dst, kg_error *err)
{
    if (p->output_bytes == 0)
        return KG_OK;
    return p->backend->buffer_read(p->dev, p->tensors[p->w->output_index].view, 0, dst,
                                   p->output_bytes, err);
}

int kg_prepared_verify(kg_prepared *p, const kg_host_tensor *tensors, kg_integrity *out,
                       kg_error *err)
{
    memset(out, 0, sizeof *out);
    out->guarded = p->backend->buffer_view != NULL;
    unsigned char *zone = malloc(KG_GUARD_BYTES);
    if (!zone)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    int rc = KG_OK;
    for (size_t i = 0; i < p->w->tensor_count + p->scratch_count && !rc; i++) {
        int is_tensor = i < p->w->tensor_count;
        const guarded_buffer *g = is_tensor ? &p->tensors[i] : &p->scratch[i - p->w->tensor_count];
        size_t damaged;
        rc = guard_damage(p, g, zone, &damaged, err);
        if (!rc && damaged && !out->guard_bytes_damaged) {
            snprintf(out->first_damaged, sizeof out->first_damaged, "%s %s",
                     is_tensor ? "tensor" : "scratch",
                     is_tensor ? p->w->tensors[i].name
                               : p->entry->scratch[i - p->w->tensor_count].name);
        }
        out->guard_bytes_damaged += damaged;
    }
    free(zone);
    /* Inputs: byte for byte against the host copy they were uploaded from. */
    for (size_t i = 0; i < p->w->tensor_count && !rc; i++) {
        if (p->w->tensors[i].is_output)
            continue;
        size_t bytes = kg_tensor_bytes(&tensors[i]);
        unsigned char *copy = malloc(bytes ? bytes : 1);
        if (!copy)
            return kg_error_set(err, KG_ERR_MEMORY, "out of memory reading back %s",
                                tensors[i].name);
        rc = bytes ? p->backend->buffer_read(p->dev, p->tensors[i].view, 0, copy, bytes, err)
                   : KG_OK;
        if (!rc && bytes && memcmp(copy, tensors[i].data, bytes) != 0) {
            if (!out->inputs_modified)
                snprintf(out->first_modified, sizeof out->first_modified, "%s", tensors[i].name);
            out->inputs_modified++;
        }
        free(copy);
    }
    return rc;
}

const kg_backend *kg_prepared_backend(const kg_prepared *p)
{
    return p->backend;
}

kg_device *kg_prepared_device(const kg_prepared *p)
{
    return p->dev;
}

cJSON *kg_prepared_launches_json(const kg_prepared *p)
{
    cJSON *list = cJSON_CreateArray();
    for (size_t li = 0; li < p->launch_count; li++) {
        const kg_launch *l = &p->launches[li].launch;
        const kg_launch_spec *spec = &p->entry->launches[li];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "entry", spec->entry);
        cJSON *grid = cJSON_AddArrayToObject(o, "grid");
        cJSON *block = cJSON_AddArrayToObject(o, "block");
        for (int d = 0; d < 3; d++) {
            cJSON_AddItemToArray(grid, cJSON_CreateNumber((double)l->grid[d]));
            cJSON_AddItemToArray(block, cJSON_CreateNumber(l->block[d]));
        }
        cJSON_AddNumberToObject(o, "dynamic_local_bytes", (double)l->dynamic_local_bytes);
        cJSON *args = cJSON_AddArrayToObject(o, "args");
        for (size_t ai = 0; ai < l->arg_count; ai++) {
            const kg_arg_spec *as = &spec->args[ai];
            const kg_arg *a = &l->args[ai];
            cJSON *arg = cJSON_CreateObject();
            switch (as->source) {
            case KG_ARGSRC_TENSOR:
                cJSON_AddStringToObject(arg, "tensor", p->w->tensors[as->index].name);
                break;
            case KG_ARGSRC_SCRATCH:
                cJSON_AddStringToObject(arg, "scratch", p->entry->scratch[as->index].name);
                cJSON_AddNumberToObject(arg, "bytes", (double)p->scratch_bytes[as->index]);
                break;
            case KG_ARGSRC_PARAM:
                cJSON_AddStringToObject(arg, "param", p->w->params[as->index].name);
                cJSON_AddNumberToObject(arg, "f32", a->value.f32);
                break;
            default:
                if (a->kind == KG_ARG_I64)
                    cJSON_AddNumberToObject(arg, "i64", (double)a->value.i64);
                else
                    cJSON_AddNumberToObject(arg, "i32", a->value.i32);
            }
            cJSON_AddItemToArray(args, arg);
        }
        cJSON_AddItemToArray(list, o);
    }
    return list;
}
