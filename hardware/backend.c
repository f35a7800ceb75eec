/* Backend registry and the helpers every backend shares. */
#include "backend.h"

#include <stdarg.h>
#include <stdio.h>
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

/* Preference order for "best device": GPU backends first. */
static const kg_backend *const registry[] = {
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

const kg_backend *const *kg_backends(void)
{
    return registry;
}

const char *kg_backends_compiled(void)
{
    return KG_BACKENDS_BUILT;
}

const kg_backend *kg_backend_find(const char *name)
{
    for (const kg_backend *const *b = registry; *b; b++)
        if (strcmp((*b)->name, name) == 0)
            return *b;
    return NULL;
}

static const char *const language_names[KG_LANG_COUNT] = {
    [KG_LANG_PORTABLE] = "portable", [KG_LANG_OPENCL] = "opencl", [KG_LANG_CUDA] = "cuda",
    [KG_LANG_HIP] = "hip",           [KG_LANG_PTX] = "ptx",       [KG_LANG_CUBIN] = "cubin",
    [KG_LANG_FATBIN] = "fatbin",     [KG_LANG_HSACO] = "hsaco",   [KG_LANG_SPIRV] = "spirv",
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

int kg_backend_read_clocks(const kg_backend *b, kg_device *dev, uint32_t *sm_clock_mhz,
                           int *throttled, kg_error *err)
{
    if (!b->read_clocks)
        return kg_error_set(err, KG_ERR_UNSUPPORTED, "%s backend cannot read clocks", b->name);
    return b->read_clocks(dev, sm_clock_mhz, throttled, err);
}

int kg_buffer_range_check(int has_buffer, size_t buffer_bytes, size_t offset, size_t bytes,
                          const char *op, kg_error *err)
{
    if (!has_buffer)
        return kg_error_set(err, KG_ERR_INVALID, "%s: NULL buffer", op);
    if (offset > buffer_bytes || bytes > buffer_bytes - offset)
        return kg_error_set(err, KG_ERR_INVALID,
                            "%s of %zu bytes at offset %zu is outside a %zu-byte buffer", op, bytes,
                            offset, buffer_bytes);
    return KG_OK;
}
