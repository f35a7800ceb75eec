/* The backend registry (device.h): which tables are compiled in or
 * registered by tests, their interface-version check, and each one's init
 * outcome; plus the names of languages and device types. */
#include "backend_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef KG_HAVE_OPENCL
extern const kg_backend kg_opencl_backend;
#endif
#ifdef KG_HAVE_CUDA
extern const kg_backend kg_cuda_backend;
#endif
#ifdef KG_HAVE_HIP
extern const kg_backend kg_hip_backend;
#endif

static const char *const language_names[KG_LANG_COUNT] = {
    [KG_LANG_PORTABLE] = "portable", [KG_LANG_OPENCL] = "opencl",   [KG_LANG_CUDA] = "cuda",
    [KG_LANG_HIP] = "hip",           [KG_LANG_PTX] = "ptx",         [KG_LANG_CUBIN] = "cubin",
    [KG_LANG_FATBIN] = "fatbin",     [KG_LANG_HSACO] = "hsaco",     [KG_LANG_SPIRV] = "spirv",
    [KG_LANG_TRITON] = "triton",     [KG_LANG_LIBRARY] = "library",
};

const char *kg_language_name(kg_language lang)
{
    if ((int)lang < 0 || lang >= KG_LANG_COUNT)
        return "unknown";
    return language_names[lang];
}

int kg_language_parse(const char *name)
{
    for (int i = 0; i < KG_LANG_COUNT; i++)
        if (strcmp(language_names[i], name) == 0)
            return i;
    return -1;
}

const char *kg_device_type_name(kg_device_type type)
{
    switch (type) {
    case KG_DEVICE_CPU:
        return "cpu";
    case KG_DEVICE_GPU:
        return "gpu";
    case KG_DEVICE_ACCELERATOR:
        return "accelerator";
    default:
        return "other";
    }
}

/* ---- registry ------------------------------------------------------------- */

enum { KG_MAX_BACKENDS = 8 };

/* Registered tables, NULL-ended, and the outcome of each one's init. */
static struct {
    int ready;
    const kg_backend *list[KG_MAX_BACKENDS + 1];
    int init_state[KG_MAX_BACKENDS]; /* 0 not tried, 1 ok, -1 failed */
    int init_status[KG_MAX_BACKENDS];
    kg_error init_error[KG_MAX_BACKENDS];
} registry;

/* The members every version of the interface has; OPTIONAL ones may be
 * NULL (device.h's wrappers answer KG_ERR_UNSUPPORTED for them). */
static const char *missing_member(const kg_backend *b)
{
#define KG_REQUIRE(member)                                                                         \
    if (!b->member)                                                                                \
        return #member;
    KG_REQUIRE(init)
    KG_REQUIRE(device_count)
    KG_REQUIRE(device_info)
    KG_REQUIRE(device_open)
    KG_REQUIRE(device_close)
    KG_REQUIRE(program_build)
    KG_REQUIRE(program_free)
    KG_REQUIRE(kernel_create)
    KG_REQUIRE(kernel_free)
    KG_REQUIRE(buffer_alloc)
    KG_REQUIRE(buffer_free)
    KG_REQUIRE(buffer_write)
    KG_REQUIRE(buffer_read)
    KG_REQUIRE(buffer_fill)
    KG_REQUIRE(buffer_copy)
    KG_REQUIRE(launch)
    KG_REQUIRE(synchronize)
    KG_REQUIRE(timer_start)
    KG_REQUIRE(timer_stop)
    KG_REQUIRE(flush_cache)
#undef KG_REQUIRE
    return NULL;
}

static size_t registered_count(void)
{
    size_t n = 0;
    while (registry.list[n])
        n++;
    return n;
}

static int add_backend(const kg_backend *b, kg_error *err)
{
    if (!b || !b->name || !b->name[0])
        return kg_error_set(err, KG_ERR_INVALID, "a backend table without a name");
    if (b->api_version != KG_BACKEND_API_VERSION)
        return kg_error_set(err, KG_ERR_INVALID,
                            "backend %s was written for device interface version %d; this "
                            "kgrade has version %d",
                            b->name, b->api_version, KG_BACKEND_API_VERSION);
    const char *missing = missing_member(b);
    if (missing)
        return kg_error_set(err, KG_ERR_INVALID, "backend %s lacks the required operation %s",
                            b->name, missing);
    size_t n = registered_count();
    for (size_t i = 0; i < n; i++)
        if (strcmp(registry.list[i]->name, b->name) == 0)
            return kg_error_set(err, KG_ERR_INVALID, "a backend named %s is already registered",
                                b->name);
    if (n == KG_MAX_BACKENDS)
        return kg_error_set(err, KG_ERR_MEMORY, "no room to register backend %s (%d at most)",
                            b->name, KG_MAX_BACKENDS);
    registry.list[n] = b;
    registry.list[n + 1] = NULL;
    return KG_OK;
}

/* The compiled-in tables, GPU backends first (the "best device" order).
 * A table that fails the checks is a build defect: said once, left out. */
static void register_compiled(void)
{
    if (registry.ready)
        return;
    registry.ready = 1;
    static const kg_backend *const compiled[] = {
#ifdef KG_HAVE_CUDA
        &kg_cuda_backend,
#endif
#ifdef KG_HAVE_HIP
        &kg_hip_backend,
#endif
#ifdef KG_HAVE_OPENCL
        &kg_opencl_backend,
#endif
        NULL,
    };
    for (const kg_backend *const *b = compiled; *b; b++) {
        kg_error err = {0};
        if (add_backend(*b, &err) != KG_OK)
            fprintf(stderr, "kgrade: backend left out: %s\n", err.message);
    }
}

const kg_backend *const *kg_backends(void)
{
    register_compiled();
    return registry.list;
}

const char *kg_backends_compiled(void)
{
    return KG_BACKENDS_BUILT;
}

const kg_backend *kg_backend_find(const char *name)
{
    for (const kg_backend *const *b = kg_backends(); *b; b++)
        if (strcmp((*b)->name, name) == 0)
            return *b;
    return NULL;
}

int kg_backend_register(const kg_backend *backend, kg_error *err)
{
    register_compiled();
    return add_backend(backend, err);
}

const char *kg_backend_name(const kg_backend *backend)
{
    return backend->name;
}

static int slot_of(const kg_backend *b)
{
    for (int i = 0; registry.list[i]; i++)
        if (registry.list[i] == b)
            return i;
    return -1;
}

int kg_backend_init(const kg_backend *b, kg_error *err)
{
    register_compiled();
    int slot = slot_of(b);
    if (slot < 0)
        return kg_error_set(err, KG_ERR_INVALID, "backend %s is not registered", b->name);
    if (registry.init_state[slot] == 0) {
        kg_error e = {0};
        registry.init_status[slot] = b->init(&e);
        registry.init_state[slot] = registry.init_status[slot] == KG_OK ? 1 : -1;
        registry.init_error[slot] = e;
    }
    if (registry.init_state[slot] < 0 && err)
        *err = registry.init_error[slot];
    return registry.init_status[slot];
}

void kg_backend_shutdown(const kg_backend *b)
{
    int slot = slot_of(b);
    if (slot < 0 || registry.init_state[slot] == 0)
        return;
    if (b->shutdown)
        b->shutdown();
    registry.init_state[slot] = 0;
}

static int is_ready(const kg_backend *b)
{
    int slot = slot_of(b);
    return slot >= 0 && registry.init_state[slot] == 1;
}

int kg_backend_device_count(const kg_backend *b)
{
    return is_ready(b) ? b->device_count() : 0;
}

int kg_backend_device_info(const kg_backend *b, int index, kg_device_info *out, kg_error *err)
{
    if (!is_ready(b))
        return kg_error_set(err, KG_ERR_INVALID, "the %s backend is not initialised", b->name);
    int count = b->device_count();
    if (index < 0 || index >= count)
        return kg_error_set(err, KG_ERR_INVALID, "%s device %d does not exist (%d present)",
                            b->name, index, count);
    memset(out, 0, sizeof *out);
    return b->device_info(index, out, err);
}
