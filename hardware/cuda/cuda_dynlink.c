/* dlopen/dlsym of libcuda, NVRTC and NVML into their function tables. */
#include "cuda_dynlink.h"

#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct symbol_entry {
    const char *symbol;
    const char *fallback;
    size_t offset;
} symbol_entry;

#define KG_DRIVER_ENTRY(member, symbol, fallback)                                                  \
    {symbol, fallback, offsetof(kg_cuda_driver, member)},
#define KG_NVRTC_ENTRY(member, symbol, fallback) {symbol, fallback, offsetof(kg_nvrtc, member)},

static const symbol_entry driver_symbols[] = {KG_CUDA_DRIVER_FUNCTIONS(KG_DRIVER_ENTRY)};
static const symbol_entry nvrtc_symbols[] = {KG_NVRTC_FUNCTIONS(KG_NVRTC_ENTRY)};
static const symbol_entry nvml_symbols[] = {
    {"nvmlInit_v2", NULL, offsetof(kg_nvml, nvmlInit)},
    {"nvmlShutdown", NULL, offsetof(kg_nvml, nvmlShutdown)},
    {"nvmlErrorString", NULL, offsetof(kg_nvml, nvmlErrorString)},
    {"nvmlSystemGetDriverVersion", NULL, offsetof(kg_nvml, nvmlSystemGetDriverVersion)},
    {"nvmlDeviceGetHandleByPciBusId_v2", NULL, offsetof(kg_nvml, nvmlDeviceGetHandleByPciBusId)},
    {"nvmlDeviceGetClockInfo", NULL, offsetof(kg_nvml, nvmlDeviceGetClockInfo)},
    {"nvmlDeviceGetDefaultApplicationsClock", NULL,
     offsetof(kg_nvml, nvmlDeviceGetDefaultApplicationsClock)},
    /* Renamed in newer drivers; the old name has the same signature. */
    {"nvmlDeviceGetCurrentClocksEventReasons", "nvmlDeviceGetCurrentClocksThrottleReasons",
     offsetof(kg_nvml, nvmlDeviceGetCurrentClocksEventReasons)},
};

void kg_dynlink_unload(void **handle, void *table_struct, size_t struct_size)
{
    if (*handle)
        dlclose(*handle);
    memset(table_struct, 0, struct_size);
}

/* Resolves every entry into `base`; on a missing symbol names it and the
 * library, and leaves the caller to unload. */
static int resolve(void *handle, const char *library, const symbol_entry *entries, size_t count,
                   void *base, kg_error *err)
{
    for (size_t i = 0; i < count; i++) {
        void *fn = dlsym(handle, entries[i].symbol);
        if (!fn && entries[i].fallback)
            fn = dlsym(handle, entries[i].fallback);
        if (!fn)
            return kg_error_set(err, KG_ERR_UNAVAILABLE,
                                "%s lacks %s: the library is older than this kgrade needs", library,
                                entries[i].symbol);
        /* POSIX guarantees a dlsym result converts to a function pointer;
         * memcpy keeps the conversion free of aliasing warnings. */
        memcpy((char *)base + entries[i].offset, &fn, sizeof fn);
    }
    return KG_OK;
}

/* dlopen the first name that loads; `loaded` receives it. */
static void *open_first(const char *const *names, size_t count, const char **loaded)
{
    for (size_t i = 0; i < count; i++) {
        void *h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (h) {
            *loaded = names[i];
            return h;
        }
    }
    return NULL;
}

/* Opens the first of `names` that loads and resolves `entries` into the
 * table (whose first member is the handle). Returns 1 when no name loaded
 * (the caller says what was missing), else KG_OK or resolve's error; on any
 * failure the table is left zeroed and nothing stays open. */
static int load(const char *const *names, size_t count, const symbol_entry *entries, size_t n,
                void *table, size_t table_size, void **handle, const char **loaded, kg_error *err)
{
    memset(table, 0, table_size);
    *handle = open_first(names, count, loaded);
    if (!*handle)
        return 1;
    const char *slash = strrchr(*loaded, '/');
    int rc = resolve(*handle, slash ? slash + 1 : *loaded, entries, n, table, err);
    if (rc)
        kg_dynlink_unload(handle, table, table_size);
    return rc;
}

int kg_cuda_driver_load(kg_cuda_driver *d, kg_error *err)
{
    /* KGRADE_CUDA_DRIVER names another libcuda (a path or a soname): for a
     * driver outside the loader's path, and for testing the no-driver path
     * on a machine that has one. */
    const char *override = getenv("KGRADE_CUDA_DRIVER");
    const char *names[] = {override && override[0] ? override : "libcuda.so.1"};
    const char *loaded = NULL;
    int rc = load(names, 1, driver_symbols, sizeof driver_symbols / sizeof driver_symbols[0], d,
                  sizeof *d, &d->handle, &loaded, err);
    if (rc == 1)
        return kg_error_set(err, KG_ERR_UNAVAILABLE, "driver not found (%s)", names[0]);
    return rc;
}

int kg_nvrtc_load(kg_nvrtc *n, kg_error *err)
{
    static const char *const bases[] = {"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"};
    enum { nbases = sizeof bases / sizeof bases[0] };
    const char *names[2 * nbases];
    size_t count = 0;
    char in_toolkit[nbases][512];
    for (size_t i = 0; i < nbases; i++)
        names[count++] = bases[i];
#ifdef KG_CUDA_TOOLKIT_LIBDIR
    /* The toolkit CMake built against, for machines whose loader path
     * does not include it. */
    for (size_t i = 0; i < nbases; i++) {
        snprintf(in_toolkit[i], sizeof in_toolkit[i], "%s/%s", KG_CUDA_TOOLKIT_LIBDIR, bases[i]);
        names[count++] = in_toolkit[i];
    }
#else
    (void)in_toolkit;
#endif
    const char *loaded = NULL;
    int rc = load(names, count, nvrtc_symbols, sizeof nvrtc_symbols / sizeof nvrtc_symbols[0], n,
                  sizeof *n, &n->handle, &loaded, err);
    if (rc == 1)
        return kg_error_set(err, KG_ERR_UNAVAILABLE,
                            "NVRTC not found (tried libnvrtc.so.13, libnvrtc.so.12, libnvrtc.so)");
    if (rc == KG_OK) {
        const char *slash = strrchr(loaded, '/');
        snprintf(n->library, sizeof n->library, "%s", slash ? slash + 1 : loaded);
    }
    return rc;
}

int kg_nvml_load(kg_nvml *m, kg_error *err)
{
    static const char *const names[] = {"libnvidia-ml.so.1"};
    const char *loaded = NULL;
    int rc = load(names, 1, nvml_symbols, sizeof nvml_symbols / sizeof nvml_symbols[0], m,
                  sizeof *m, &m->handle, &loaded, err);
    if (rc == 1)
        return kg_error_set(err, KG_ERR_UNAVAILABLE, "NVML not found (libnvidia-ml.so.1)");
    return rc;
}
