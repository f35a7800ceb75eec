/* dlopen/dlsym of libcuda, NVRTC and NVML into their function tables. */
#include "cuda_dynlink.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KG_DRIVER_ENTRY(member, symbol, fallback)                                                  \
    {symbol, fallback, offsetof(kg_cuda_driver, member)},
#define KG_NVRTC_ENTRY(member, symbol, fallback) {symbol, fallback, offsetof(kg_nvrtc, member)},

static const kg_dynlink_symbol driver_symbols[] = {KG_CUDA_DRIVER_FUNCTIONS(KG_DRIVER_ENTRY)};
static const kg_dynlink_symbol nvrtc_symbols[] = {KG_NVRTC_FUNCTIONS(KG_NVRTC_ENTRY)};
static const kg_dynlink_symbol nvml_symbols[] = {
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

int kg_cuda_driver_load(kg_cuda_driver *d, kg_error *err)
{
    /* KGRADE_CUDA_DRIVER names another libcuda (a path or a soname): for a
     * driver outside the loader's path, and for testing the no-driver path
     * on a machine that has one. */
    const char *override = getenv("KGRADE_CUDA_DRIVER");
    const char *names[] = {override && override[0] ? override : "libcuda.so.1"};
    const char *loaded = NULL;
    int rc =
        kg_dynlink_load(names, 1, driver_symbols, sizeof driver_symbols / sizeof driver_symbols[0],
                        d, sizeof *d, &d->handle, &loaded, err);
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
    int rc =
        kg_dynlink_load(names, count, nvrtc_symbols, sizeof nvrtc_symbols / sizeof nvrtc_symbols[0],
                        n, sizeof *n, &n->handle, &loaded, err);
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
    int rc = kg_dynlink_load(names, 1, nvml_symbols, sizeof nvml_symbols / sizeof nvml_symbols[0],
                             m, sizeof *m, &m->handle, &loaded, err);
    if (rc == 1)
        return kg_error_set(err, KG_ERR_UNAVAILABLE, "NVML not found (libnvidia-ml.so.1)");
    return rc;
}
