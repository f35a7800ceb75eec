/* Building, allocating and launching one kernel set for one shape. */
#include "evaluate.h"
#include "json_file.h"
#include "library_tier.h"
#include "record_keys.h"
#include "source_text.h"
#include "tensors.h"
#include "triton_build.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Launches of one Triton entry, each compiled on its own. */
#define KG_MAX_LAUNCHES 16

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
    kg_triton_binary triton; /* a Triton launch's metadata (image freed once loaded) */
    cJSON *library;          /* a library tier's library (library_tier.h) */
} cache_item;

struct kg_build_cache {
    kg_device *dev;
    uint64_t global_mem_bytes, max_alloc_bytes; /* 0 = unknown */
    kg_symtab device_symbols;
    cache_item *items;
    size_t count, cap;
};

kg_build_cache *kg_build_cache_create(kg_device *dev, const kg_device_info *info)
{
    kg_build_cache *c = calloc(1, sizeof *c);
    if (c) {
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
            kg_dev_program_free(c->items[i].program);
        free(c->items[i].key);
        free(c->items[i].log);
        cJSON_Delete(c->items[i].files);
        cJSON_Delete(c->items[i].library);
        kg_triton_binary_free(&c->items[i].triton);
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
    kg_device *dev;
    const kg_workload *w;
    /* inputs[k][i]: input tensor i of input set k (the output's slot is
     * unused); one output, shared by every set. */
    guarded_buffer *inputs[KG_MAX_INPUT_SETS];
    size_t set_count, selected;
    guarded_buffer outputs[KG_MAX_OUTPUTS]; /* the workload's outputs, in its order */
    guarded_buffer *scratch;
    size_t *scratch_bytes;
    size_t scratch_count;
    const kg_kernel_entry *entry;
    resolved_launch *launches;
    size_t launch_count;
    kg_output_layout layout;
    /* A library tier: the call, enqueued instead of launches. */
    int library;
    kg_blas_gemm gemm;
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
    if (it->triton.record)
        build->triton = it->triton.record;
    if (it->library)
        build->library = it->library;
}

/* The item built under `key` (a hit: *build described, its status
 * returned), or a new empty one in *fresh (KG_OK). */
static int find_or_add(kg_build_cache *c, const char *key, kg_build_info *build, cache_item **hit,
                       cache_item **fresh, kg_error *err)
{
    *hit = *fresh = NULL;
    for (size_t i = 0; i < c->count; i++) {
        cache_item *it = &c->items[i];
        if (strcmp(it->key, key) != 0)
            continue;
        describe_build(it, 1, build);
        *hit = it;
        if (it->status != KG_OK && err)
            *err = it->error;
        return it->status;
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
    *fresh = it;
    return KG_OK;
}

static int build_cached(kg_build_cache *c, const kg_kernel_entry *e, const kg_shape_defines *defs,
                        kg_build_info *build, kg_program **program, kg_error *err)
{
    char key[1024];
    snprintf(key, sizeof key, "%s|%s|%s|%s", e->source_path, kg_language_name(e->language),
             build->defines, e->options);
    cache_item *it, *hit;
    int rc = find_or_add(c, key, build, &hit, &it, err);
    if (hit && rc == KG_OK)
        *program = hit->program;
    if (hit || rc)
        return rc;
    /* The source as the compiler reads it: includes inside the set's
     * folder inlined, anything else refused; the hash covers it all. */
    kg_source_text src;
    it->status = kg_kernel_entry_source(e, &src, &it->error);
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
        it->status = kg_dev_program_build(c->dev, &req, &it->program, &it->log, &it->error);
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

/* A library tier builds nothing: its "build" is finding the library and
 * hashing it, recorded as its source (the one file a set's code came
 * from), so that reports, replicate and compare tell versions apart. */
static int build_library(kg_build_cache *c, const kg_kernel_entry *e, kg_build_info *build,
                         kg_error *err)
{
    char key[128];
    snprintf(key, sizeof key, "library|%s", kg_blas_dtype_name(e->call->dtype));
    cache_item *it, *hit;
    int rc = find_or_add(c, key, build, &hit, &it, err);
    if (hit || rc)
        return rc;
    double t0 = now_seconds();
    it->status =
        kg_library_describe(e, kg_dev_backend(c->dev), &it->library, it->sha256, &it->error);
    it->seconds = now_seconds() - t0;
    if (it->status == KG_OK) {
        cJSON *file = cJSON_CreateObject();
        cJSON_AddStringToObject(file, KG_KEY_FILE_PATH,
                                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                                    it->library, KG_KEY_LIBRARY_PATH)));
        cJSON_AddStringToObject(file, KG_KEY_FILE_SHA256, it->sha256);
        cJSON_AddItemToObject(
            file, KG_KEY_FILE_BYTES,
            cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(it->library, KG_KEY_LIBRARY_BYTES),
                            1));
        it->files = cJSON_CreateArray();
        cJSON_AddItemToArray(it->files, file);
    }
    describe_build(it, 0, build);
    if (it->status != KG_OK && err)
        *err = it->error;
    return it->status;
}

/* The values of one Triton launch for a shape: constexprs, warps,
 * stages, and the integer arguments Triton specialises on. */
typedef struct triton_values {
    int64_t constexprs[KG_TRITON_MAX_PARAMS];
    double constexpr_floats[KG_TRITON_MAX_PARAMS];
    int64_t ints[KG_TRITON_MAX_PARAMS];
    int known[KG_TRITON_MAX_PARAMS];
    int64_t num_warps, num_stages;
    char joined[2048]; /* all of them, for the cache key */
} triton_values;

static int eval_triton(const kg_workload *w, const kg_kernel_entry *e, size_t li,
                       const kg_shape *shape, triton_values *v, kg_error *err)
{
    const kg_launch_spec *spec = &e->launches[li];
    const kg_triton_launch *t = spec->triton;
    char what[160];
    int rc = KG_OK;
    memset(v, 0, sizeof *v);
    if (t->constexpr_count > KG_TRITON_MAX_PARAMS || spec->arg_count > KG_TRITON_MAX_PARAMS)
        return kg_error_set(err, KG_ERR_INVALID, "%s: at most %d Triton parameters", e->set,
                            KG_TRITON_MAX_PARAMS);
    for (size_t i = 0; i < t->constexpr_count && !rc; i++) {
        snprintf(what, sizeof what, "%s: launches[%zu].constexprs.%s", e->set, li,
                 t->constexprs[i].name);
        if (t->constexprs[i].param >= 0)
            v->constexpr_floats[i] = kg_shape_params(w, shape)[t->constexprs[i].param].value;
        else if (t->constexprs[i].value)
            rc = kg_eval_for_shape(t->constexprs[i].value, shape, w->name, what, &v->constexprs[i],
                                   err);
    }
    for (size_t a = 0; a < spec->arg_count && !rc; a++) {
        const kg_arg_spec *as = &spec->args[a];
        if (as->source != KG_ARGSRC_I32 && as->source != KG_ARGSRC_I64)
            continue;
        snprintf(what, sizeof what, "%s: launches[%zu].args[%zu]", e->set, li, a);
        rc = kg_eval_for_shape(as->expr, shape, w->name, what, &v->ints[a], err);
        v->known[a] = 1;
    }
    snprintf(what, sizeof what, "%s: launches[%zu].num_warps", e->set, li);
    if (!rc)
        rc = kg_eval_for_shape(t->num_warps, shape, w->name, what, &v->num_warps, err);
    snprintf(what, sizeof what, "%s: launches[%zu].num_stages", e->set, li);
    if (!rc)
        rc = kg_eval_for_shape(t->num_stages, shape, w->name, what, &v->num_stages, err);
    if (rc)
        return rc;
    size_t len = (size_t)snprintf(v->joined, sizeof v->joined, "w%lld s%lld",
                                  (long long)v->num_warps, (long long)v->num_stages);
    for (size_t i = 0; i < t->constexpr_count && len < sizeof v->joined; i++) {
        if (t->constexprs[i].param >= 0)
            len += (size_t)snprintf(v->joined + len, sizeof v->joined - len, " %s=%.17g",
                                    t->constexprs[i].name, v->constexpr_floats[i]);
        else if (t->constexprs[i].dtype)
            len += (size_t)snprintf(v->joined + len, sizeof v->joined - len, " %s=dtype:%s",
                                    t->constexprs[i].name, t->constexprs[i].dtype);
        else
            len += (size_t)snprintf(v->joined + len, sizeof v->joined - len, " %s=%lld",
                                    t->constexprs[i].name,
                                    t->constexprs[i].value ? (long long)v->constexprs[i] : -1LL);
    }
    for (size_t a = 0; a < spec->arg_count && len < sizeof v->joined; a++)
        if (v->known[a])
            len += (size_t)snprintf(v->joined + len, sizeof v->joined - len, " a%zu=%lld", a,
                                    (long long)v->ints[a]);
    return KG_OK;
}

/* Compiles launch `li` of a Triton entry with the helper and loads the
 * binary (cached like any build, by the values it was compiled with). */
static int build_triton(kg_build_cache *c, const kg_workload *w, const kg_kernel_entry *e,
                        size_t li, const kg_shape *shape, kg_build_info *build, size_t *built,
                        kg_error *err)
{
    triton_values v;
    int rc = eval_triton(w, e, li, shape, &v, err);
    if (rc)
        return rc;
    char key[2600];
    snprintf(key, sizeof key, "triton|%s|%zu|%s", e->source_path, li, v.joined);
    cache_item *it, *hit;
    rc = find_or_add(c, key, build, &hit, &it, err);
    /* An index: a later launch's item may move the array. */
    if (hit)
        *built = (size_t)(hit - c->items);
    if (hit || rc)
        return rc;
    *built = (size_t)(it - c->items);
    kg_source_text src;
    it->status = kg_kernel_entry_source(e, &src, &it->error);
    it->files = src.files;
    src.files = NULL;
    double t0 = now_seconds();
    if (it->status == KG_OK) {
        memcpy(it->sha256, src.sha256, sizeof src.sha256);
        kg_device_info info = *kg_dev_info(c->dev);
        kg_triton_request req = {.source = src.text,
                                 .source_name = e->source_file,
                                 .entry = e->launches[li].entry,
                                 .spec = e->launches[li].triton,
                                 .constexpr_values = v.constexprs,
                                 .constexpr_floats = v.constexpr_floats,
                                 .int_values = v.ints,
                                 .int_known = v.known,
                                 .num_warps = v.num_warps,
                                 .num_stages = v.num_stages,
                                 .info = &info};
        it->status = kg_triton_compile(&req, &it->triton, &it->log, &it->error);
        it->refused = it->triton.source_refused;
        if (it->status == KG_OK && e->upstream_package) {
            cJSON *up = cJSON_AddObjectToObject(it->triton.record, KG_KEY_TRITON_UPSTREAM);
            cJSON_AddStringToObject(up, KG_KEY_UPSTREAM_PACKAGE, e->upstream_package);
            cJSON_AddStringToObject(up, KG_KEY_UPSTREAM_VERSION, e->upstream_version);
            cJSON_AddStringToObject(up, KG_KEY_UPSTREAM_PATH, e->upstream_path);
            cJSON_AddStringToObject(up, KG_KEY_UPSTREAM_SHA256, src.sha256);
        }
    }
    kg_source_text_free(&src);
    if (it->status == KG_OK) {
        kg_build_request load = {.language = it->triton.image_language,
                                 .source = it->triton.image,
                                 .source_size = it->triton.image_size,
                                 .source_name = e->source_file};
        char *load_log = NULL;
        it->status = kg_dev_program_build(c->dev, &load, &it->program, &load_log, &it->error);
        free(load_log);
        free(it->triton.image);
        it->triton.image = NULL;
    }
    it->seconds = now_seconds() - t0;
    describe_build(it, 0, build);
    if (it->status != KG_OK && err)
        *err = it->error;
    return it->status;
}

static void guarded_free(guarded_buffer *g)
{
    if (g->view)
        kg_dev_buffer_free(g->view);
    if (g->parent)
        kg_dev_buffer_free(g->parent);
    g->view = g->parent = NULL;
}

void kg_prepared_free(kg_prepared *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->launch_count; i++) {
        if (p->launches[i].kernel)
            kg_dev_kernel_free(p->launches[i].kernel);
        free(p->launches[i].args);
    }
    free(p->launches);
    for (size_t k = 0; k < KG_MAX_INPUT_SETS; k++) {
        if (p->inputs[k])
            for (size_t i = 0; i < p->w->tensor_count; i++)
                guarded_free(&p->inputs[k][i]);
        free(p->inputs[k]);
    }
    for (size_t k = 0; k < KG_MAX_OUTPUTS; k++)
        guarded_free(&p->outputs[k]);
    if (p->scratch)
        for (size_t i = 0; i < p->scratch_count; i++)
            guarded_free(&p->scratch[i]);
    free(p->scratch);
    free(p->scratch_bytes);
    free(p);
}

/* Allocates guard + bytes + guard and hands out a view of the middle, the
 * guards filled with KG_GUARD_BYTE. Without views: a plain buffer. */
static int guarded_alloc(kg_prepared *p, size_t bytes, guarded_buffer *g, kg_error *err)
{
    g->bytes = bytes ? bytes : 1;
    if (!kg_dev_has_views(p->dev))
        return kg_dev_buffer_alloc(p->dev, g->bytes, &g->view, err);
    size_t total = KG_GUARD_BYTES + g->bytes + KG_GUARD_BYTES;
    static const unsigned char guard = KG_GUARD_BYTE;
    int rc;
    if ((rc = kg_dev_buffer_alloc(p->dev, total, &g->parent, err)) ||
        (rc = kg_dev_buffer_fill(p->dev, g->parent, 0, &guard, 1, total, err)) ||
        (rc = kg_dev_buffer_view(p->dev, g->parent, KG_GUARD_BYTES, g->bytes, &g->view, err)))
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
        int rc = kg_dev_buffer_read(p->dev, g->parent, offsets[z], scratch, KG_GUARD_BYTES, err);
        if (rc)
            return rc;
        for (size_t i = 0; i < KG_GUARD_BYTES; i++)
            *damaged += scratch[i] != KG_GUARD_BYTE;
    }
    return KG_OK;
}

/* Output k of the layout that is tensor `tensor`. */
static size_t output_position(const kg_prepared *p, size_t tensor)
{
    size_t k = 0;
    while (k + 1 < p->layout.count && p->layout.tensor[k] != tensor)
        k++;
    return k;
}

static int alloc_buffers(kg_prepared *p, const kg_kernel_entry *e, const kg_shape *shape,
                         const kg_input_sets *inputs, uint64_t global_mem, uint64_t max_alloc,
                         kg_build_info *build, kg_error *err)
{
    int rc;
    const kg_host_tensor *set0 = inputs->sets[0];
    /* Sizes first, so a shape the device cannot hold is refused before
     * anything is allocated; and whether it is the shape (its tensors) or
     * the set (its scratch) that does not fit. */
    uint64_t tensors_need = 0, scratch_need = 0;
    for (size_t i = 0; i < p->w->tensor_count; i++)
        tensors_need += (kg_tensor_bytes(&set0[i]) + 2 * KG_GUARD_BYTES) *
                        ((p->w->tensors[i].is_input ? inputs->count : 0) +
                         (p->w->tensors[i].is_output ? 1 : 0));
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
        scratch_need += p->scratch_bytes[i] + 2 * KG_GUARD_BYTES;
        if (max_alloc && p->scratch_bytes[i] + 2 * KG_GUARD_BYTES > max_alloc) {
            build->refused_own_request = 1;
            return kg_error_set(err, KG_ERR_MEMORY,
                                "%s: the set asks for scratch %s of %.1f MiB, more than the "
                                "device's largest allocation (%.1f MiB)",
                                e->set, e->scratch[i].name, (double)p->scratch_bytes[i] / 1048576.0,
                                (double)max_alloc / 1048576.0);
        }
    }
    if (global_mem && tensors_need + scratch_need > global_mem) {
        build->refused_own_request = tensors_need <= global_mem;
        return kg_error_set(err, KG_ERR_MEMORY,
                            "%s: shape %s needs %.1f MiB of device memory (%zu input set(s), the "
                            "output and guard zones: %.1f MiB; the set's scratch: %.1f MiB), more "
                            "than the device's %.1f MiB; refused before allocating",
                            p->w->name, shape->name,
                            (double)(tensors_need + scratch_need) / 1048576.0, inputs->count,
                            (double)tensors_need / 1048576.0, (double)scratch_need / 1048576.0,
                            (double)global_mem / 1048576.0);
    }
    for (size_t i = 0; i < p->w->tensor_count; i++) {
        size_t bytes = kg_tensor_bytes(&set0[i]);
        if (max_alloc && bytes + 2 * KG_GUARD_BYTES > max_alloc)
            return kg_error_set(err, KG_ERR_MEMORY,
                                "%s: shape %s: tensor %s (%.1f MiB) exceeds the device's largest "
                                "allocation (%.1f MiB); refused before allocating",
                                p->w->name, shape->name, set0[i].name, (double)bytes / 1048576.0,
                                (double)max_alloc / 1048576.0);
    }
    kg_output_layout_of(p->w, set0, &p->layout);
    for (size_t k = 0; k < p->layout.count; k++)
        if ((rc = guarded_alloc(p, kg_tensor_bytes(&set0[p->layout.tensor[k]]), &p->outputs[k],
                                err)))
            return rc;
    for (size_t k = 0; k < inputs->count; k++) {
        p->inputs[k] = calloc(p->w->tensor_count, sizeof *p->inputs[k]);
        if (!p->inputs[k])
            return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
        p->set_count = k + 1;
        for (size_t i = 0; i < p->w->tensor_count; i++) {
            if (!p->w->tensors[i].is_input)
                continue;
            if ((rc = guarded_alloc(p, kg_tensor_bytes(&set0[i]), &p->inputs[k][i], err)))
                return rc;
        }
        if ((rc = kg_prepared_upload_set(p, k, inputs->sets[k], err)))
            return rc;
    }
    for (size_t i = 0; i < e->scratch_count; i++)
        if ((rc = guarded_alloc(p, p->scratch_bytes[i], &p->scratch[i], err)))
            return rc;
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

/* A Triton launch: the program's kernel by the name Triton gave it,
 * num_warps x warp size threads, Triton's shared memory, and the
 * arguments the compiled kernel kept plus the hidden ones it appends. */
static int finish_triton_launch(resolved_launch *r, const kg_triton_binary *tb,
                                const kg_launch_spec *spec, kg_error *err)
{
    r->launch.block[0] = (uint32_t)(tb->num_warps * tb->warp_size);
    r->launch.block[1] = r->launch.block[2] = 1;
    r->launch.dynamic_local_bytes = tb->shared;
    kg_arg *packed = calloc(spec->arg_count + KG_TRITON_MAX_HIDDEN, sizeof *packed);
    if (!packed)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    size_t n = 0;
    int rc = kg_triton_pack_args(tb, r->args, spec->arg_count, packed, &n, err);
    free(r->args);
    r->args = packed;
    r->launch.args = r->args;
    r->launch.arg_count = n;
    return rc;
}

static int resolve_launch(kg_prepared *p, const kg_kernel_entry *e, size_t li,
                          const kg_shape *shape, kg_program *program, const kg_triton_binary *tb,
                          kg_error *err)
{
    const kg_launch_spec *spec = &e->launches[li];
    resolved_launch *r = &p->launches[li];
    int rc = kg_dev_kernel_create(program, tb ? tb->name : spec->entry, &r->kernel, err);
    if (rc)
        return rc;
    uint64_t block[3] = {1, 1, 1};
    if ((rc = resolve_dims(p->w, shape, e->set, li, "grid", spec->grid, spec->grid_dims,
                           r->launch.grid, err)) ||
        (!tb && (rc = resolve_dims(p->w, shape, e->set, li, "block", spec->block, spec->block_dims,
                                   block, err))))
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
            arg->value.buffer = p->w->tensors[as->index].is_output
                                    ? p->outputs[output_position(p, as->index)].view
                                    : p->inputs[p->selected][as->index].view;
            break;
        case KG_ARGSRC_SCRATCH:
            arg->kind = KG_ARG_BUFFER;
            arg->value.buffer = p->scratch[as->index].view;
            break;
        case KG_ARGSRC_PARAM:
            arg->kind = KG_ARG_F32;
            arg->value.f32 = (float)kg_shape_params(p->w, shape)[as->index].value;
            break;
        case KG_ARGSRC_F32: {
            char what[96];
            snprintf(what, sizeof what, "%s: launches[%zu].args[%zu]", e->set, li, a);
            if ((rc = kg_eval_for_shape(as->expr, shape, p->w->name, what, &v, err)))
                return rc;
            if (as->rsqrt && v <= 0)
                return kg_error_set(err, KG_ERR_INVALID, "%s: shape %s: %s: rsqrt of %lld",
                                    p->w->name, shape->name, what, (long long)v);
            arg->kind = KG_ARG_F32;
            arg->value.f32 = as->rsqrt ? (float)(1.0 / sqrt((double)v)) : (float)v;
            break;
        }
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
    return tb ? finish_triton_launch(r, tb, spec, err) : KG_OK;
}

/* A library tier's call for the shape, on the selected input set. */
static int resolve_library_call(kg_prepared *p, const kg_kernel_entry *e, const kg_shape *shape,
                                const kg_input_sets *inputs, kg_error *err)
{
    int rc = kg_library_resolve(p->w, e, shape, inputs->sets[0], &p->gemm, err);
    if (rc)
        return rc;
    p->gemm.a = p->inputs[p->selected][e->call->a].view;
    p->gemm.b = p->inputs[p->selected][e->call->b].view;
    p->gemm.c = p->outputs[output_position(p, e->call->c)].view;
    return KG_OK;
}

int kg_prepare(kg_build_cache *cache, const kg_workload *w, const kg_kernel_entry *entry,
               const kg_shape *workload_shape, const kg_symtab *overrides,
               const kg_input_sets *inputs, kg_prepared **out, kg_build_info *build, kg_error *err)
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
    int triton = entry->language == KG_LANG_TRITON;
    size_t built[KG_MAX_LAUNCHES] = {0};
    if (triton && entry->launch_count > KG_MAX_LAUNCHES)
        return kg_error_set(err, KG_ERR_INVALID, "%s: at most %d Triton launches", entry->set,
                            KG_MAX_LAUNCHES);
    for (size_t li = 0; triton && li < entry->launch_count; li++)
        if ((rc = build_triton(cache, w, entry, li, shape, build, &built[li], err)))
            return rc;
    int library = entry->language == KG_LANG_LIBRARY;
    if (library && (rc = build_library(cache, entry, build, err)))
        return rc;
    if (!triton && !library && (rc = build_cached(cache, entry, &defs, build, &program, err)))
        return rc;
    kg_prepared *p = calloc(1, sizeof *p);
    if (!p)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    p->dev = cache->dev;
    p->w = w;
    p->scratch_count = entry->scratch_count;
    p->scratch = calloc(entry->scratch_count + 1, sizeof *p->scratch);
    p->scratch_bytes = calloc(entry->scratch_count + 1, sizeof *p->scratch_bytes);
    p->entry = entry;
    p->launch_count = entry->launch_count;
    p->launches = calloc(entry->launch_count + 1, sizeof *p->launches);
    p->library = library;
    if (!p->scratch || !p->scratch_bytes || !p->launches) {
        kg_prepared_free(p);
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    }
    if ((rc = alloc_buffers(p, entry, shape, inputs, cache->global_mem_bytes,
                            cache->max_alloc_bytes, build, err))) {
        kg_prepared_free(p);
        return rc;
    }
    if (library && (rc = resolve_library_call(p, entry, shape, inputs, err))) {
        kg_prepared_free(p);
        return rc;
    }
    for (size_t li = 0; li < entry->launch_count; li++)
        if ((rc = resolve_launch(p, entry, li, shape,
                                 triton ? cache->items[built[li]].program : program,
                                 triton ? &cache->items[built[li]].triton : NULL, err))) {
            kg_prepared_free(p);
            return rc;
        }
    *out = p;
    return KG_OK;
}

int kg_prepared_enqueue(kg_prepared *p, kg_error *err)
{
    if (p->library)
        return kg_dev_blas_gemm(p->dev, &p->gemm, err);
    for (size_t i = 0; i < p->launch_count; i++) {
        int rc = kg_dev_launch(p->dev, p->launches[i].kernel, &p->launches[i].launch, err);
        if (rc)
            return rc;
    }
    return KG_OK;
}

void kg_prepared_select(kg_prepared *p, size_t set)
{
    if (set >= p->set_count || set == p->selected)
        return;
    p->selected = set;
    if (p->library) {
        p->gemm.a = p->inputs[set][p->entry->call->a].view;
        p->gemm.b = p->inputs[set][p->entry->call->b].view;
    }
    for (size_t li = 0; li < p->launch_count; li++) {
        const kg_launch_spec *spec = &p->entry->launches[li];
        for (size_t a = 0; a < spec->arg_count; a++)
            if (spec->args[a].source == KG_ARGSRC_TENSOR &&
                !p->w->tensors[spec->args[a].index].is_output)
                p->launches[li].args[a].value.buffer = p->inputs[set][spec->args[a].index].view;
    }
}

size_t kg_prepared_set_count(const kg_prepared *p)
{
    return p->set_count;
}

int kg_prepared_upload_set(kg_prepared *p, size_t set, const kg_host_tensor *tensors, kg_error *err)
{
    if (set >= KG_MAX_INPUT_SETS || !p->inputs[set])
        return kg_error_set(err, KG_ERR_INVALID, "no input set %zu", set);
    for (size_t i = 0; i < p->w->tensor_count; i++) {
        if (!p->w->tensors[i].is_input)
            continue;
        size_t bytes = kg_tensor_bytes(&tensors[i]);
        int rc = bytes ? kg_dev_buffer_write(p->dev, p->inputs[set][i].view, 0, tensors[i].data,
                                             bytes, err)
                       : KG_OK;
        if (rc)
            return rc;
    }
    return KG_OK;
}

int kg_prepared_write_elements(kg_prepared *p, size_t set, const kg_host_tensor *tensors,
                               const kg_perturbation *changed, kg_error *err)
{
    if (set >= p->set_count)
        return kg_error_set(err, KG_ERR_INVALID, "no input set %zu", set);
    for (size_t k = 0; k < changed->count; k++) {
        const kg_host_tensor *t = &tensors[changed->tensor[k]];
        size_t size = kg_dtype_size(t->dtype), at = changed->element[k] * size;
        int rc = kg_dev_buffer_write(p->dev, p->inputs[set][changed->tensor[k]].view, at,
                                     (const unsigned char *)t->data + at, size, err);
        if (rc)
            return rc;
    }
    return KG_OK;
}

int kg_prepared_scrub_scratch(kg_prepared *p, uint32_t pattern, kg_error *err)
{
    for (size_t i = 0; i < p->scratch_count; i++) {
        size_t bytes = p->scratch[i].bytes & ~(size_t)3;
        int rc = KG_OK;
        if (bytes)
            rc = kg_dev_buffer_fill(p->dev, p->scratch[i].view, 0, &pattern, 4, bytes, err);
        if (!rc && bytes < p->scratch[i].bytes) {
            unsigned char tail = (unsigned char)pattern;
            rc = kg_dev_buffer_fill(p->dev, p->scratch[i].view, bytes, &tail, 1,
                                    p->scratch[i].bytes - bytes, err);
        }
        if (rc)
            return rc;
    }
    return KG_OK;
}

const kg_output_layout *kg_prepared_layout(const kg_prepared *p)
{
    return &p->layout;
}

kg_buffer *kg_prepared_output(const kg_prepared *p, size_t k)
{
    return k < p->layout.count ? p->outputs[k].view : NULL;
}

int kg_prepared_output_is_inout(const kg_prepared *p, size_t k)
{
    return k < p->layout.count && p->w->tensors[p->layout.tensor[k]].is_input;
}

int kg_prepared_reset_inout(kg_prepared *p, size_t k, kg_error *err)
{
    size_t bytes = p->layout.elements[k] * kg_dtype_size(p->layout.dtype[k]);
    if (!kg_prepared_output_is_inout(p, k) || !bytes)
        return KG_OK;
    return kg_dev_buffer_copy(p->dev, p->outputs[k].view, 0,
                              p->inputs[p->selected][p->layout.tensor[k]].view, 0, bytes, err);
}

int kg_prepared_read_output(kg_prepared *p, void *dst, kg_error *err)
{
    for (size_t k = 0; k < p->layout.count; k++) {
        size_t bytes = p->layout.elements[k] * kg_dtype_size(p->layout.dtype[k]);
        int rc = bytes ? kg_dev_buffer_read(p->dev, p->outputs[k].view, 0,
                                            (unsigned char *)dst + p->layout.offset[k], bytes, err)
                       : KG_OK;
        if (rc)
            return rc;
    }
    return KG_OK;
}

/* Compares input set `set` on the device with its host copy. */
static int inputs_modified(kg_prepared *p, size_t set, const kg_host_tensor *tensors,
                           kg_integrity *out, kg_error *err)
{
    for (size_t i = 0; i < p->w->tensor_count; i++) {
        if (!p->w->tensors[i].is_input)
            continue;
        size_t bytes = kg_tensor_bytes(&tensors[i]);
        unsigned char *copy = malloc(bytes ? bytes : 1);
        if (!copy)
            return kg_error_set(err, KG_ERR_MEMORY, "out of memory reading back %s",
                                tensors[i].name);
        int rc =
            bytes ? kg_dev_buffer_read(p->dev, p->inputs[set][i].view, 0, copy, bytes, err) : KG_OK;
        if (!rc && bytes && memcmp(copy, tensors[i].data, bytes) != 0) {
            if (!out->inputs_modified)
                snprintf(out->first_modified, sizeof out->first_modified, "%s (input set %zu)",
                         tensors[i].name, set);
            out->inputs_modified++;
        }
        free(copy);
        if (rc)
            return rc;
    }
    return KG_OK;
}

/* Every buffer a kernel sees, for the guard check: the outputs, each set's
 * inputs (an inout's copies, which only the reset reads), the scratch
 * buffers; with a name for the report. */
static const guarded_buffer *buffer_at(const kg_prepared *p, size_t index, char *name, size_t size)
{
    if (index < p->layout.count) {
        snprintf(name, size, "tensor %s", p->w->tensors[p->layout.tensor[index]].name);
        return &p->outputs[index];
    }
    index -= p->layout.count;
    size_t per_set = p->w->tensor_count;
    if (index < p->set_count * per_set) {
        size_t k = index / per_set, i = index % per_set;
        if (!p->w->tensors[i].is_input)
            return NULL;
        snprintf(name, size, "tensor %s (input set %zu)", p->w->tensors[i].name, k);
        return &p->inputs[k][i];
    }
    index -= p->set_count * per_set;
    if (index < p->scratch_count) {
        snprintf(name, size, "scratch %s", p->entry->scratch[index].name);
        return &p->scratch[index];
    }
    return NULL;
}

int kg_prepared_verify(kg_prepared *p, const kg_input_sets *inputs, size_t set, kg_integrity *out,
                       kg_error *err)
{
    memset(out, 0, sizeof *out);
    out->guarded = kg_dev_has_views(p->dev);
    unsigned char *zone = malloc(KG_GUARD_BYTES);
    if (!zone)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    int rc = KG_OK;
    size_t buffers = p->layout.count + p->set_count * p->w->tensor_count + p->scratch_count;
    for (size_t b = 0; b < buffers && !rc; b++) {
        char name[96];
        const guarded_buffer *g = buffer_at(p, b, name, sizeof name);
        size_t damaged = 0;
        if (g)
            rc = guard_damage(p, g, zone, &damaged, err);
        if (!rc && damaged && !out->guard_bytes_damaged)
            snprintf(out->first_damaged, sizeof out->first_damaged, "%s", name);
        out->guard_bytes_damaged += damaged;
    }
    free(zone);
    /* Inputs: byte for byte against the host copy they were uploaded from. */
    for (size_t k = 0; k < p->set_count && k < inputs->count && !rc; k++)
        if (set == KG_ALL_INPUT_SETS || set == k)
            rc = inputs_modified(p, k, inputs->sets[k], out, err);
    return rc;
}

const kg_blas_gemm *kg_prepared_library_call(const kg_prepared *p)
{
    return p->library ? &p->gemm : NULL;
}

const kg_workload *kg_prepared_workload(const kg_prepared *p)
{
    return p->w;
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
        cJSON_AddStringToObject(o, KG_KEY_LAUNCH_ENTRY, spec->entry);
        cJSON *grid = cJSON_AddArrayToObject(o, KG_KEY_LAUNCH_GRID);
        cJSON *block = cJSON_AddArrayToObject(o, KG_KEY_LAUNCH_BLOCK);
        for (int d = 0; d < 3; d++) {
            cJSON_AddItemToArray(grid, cJSON_CreateNumber((double)l->grid[d]));
            cJSON_AddItemToArray(block, cJSON_CreateNumber(l->block[d]));
        }
        cJSON_AddNumberToObject(o, KG_KEY_LAUNCH_DYNAMIC_LOCAL, (double)l->dynamic_local_bytes);
        cJSON *args = cJSON_AddArrayToObject(o, KG_KEY_LAUNCH_ARGS);
        for (size_t ai = 0; ai < l->arg_count; ai++) {
            const kg_arg_spec *as = &spec->args[ai];
            const kg_arg *a = &l->args[ai];
            cJSON *arg = cJSON_CreateObject();
            switch (as->source) {
            case KG_ARGSRC_TENSOR:
                cJSON_AddStringToObject(arg, KG_KEY_ARG_TENSOR, p->w->tensors[as->index].name);
                break;
            case KG_ARGSRC_SCRATCH:
                cJSON_AddStringToObject(arg, KG_KEY_ARG_SCRATCH, p->entry->scratch[as->index].name);
                cJSON_AddNumberToObject(arg, KG_KEY_ARG_BYTES, (double)p->scratch_bytes[as->index]);
                break;
            case KG_ARGSRC_PARAM:
                cJSON_AddStringToObject(arg, KG_KEY_ARG_PARAM, p->w->params[as->index].name);
                cJSON_AddNumberToObject(arg, KG_KEY_ARG_F32, a->value.f32);
                break;
            default:
                if (a->kind == KG_ARG_I64)
                    cJSON_AddNumberToObject(arg, KG_KEY_ARG_I64, (double)a->value.i64);
                else
                    cJSON_AddNumberToObject(arg, KG_KEY_ARG_I32, a->value.i32);
            }
            cJSON_AddItemToArray(args, arg);
        }
        cJSON_AddItemToArray(list, o);
    }
    return list;
}
