/* dlopen/dlsym of the HIP runtime, hiprtc and comgr into their tables. */
#include "hip_dynlink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KG_HIP_ENTRY(member, symbol, fallback)    {symbol, fallback, offsetof(kg_hip_runtime, member)},
#define KG_HIPRTC_ENTRY(member, symbol, fallback) {symbol, fallback, offsetof(kg_hiprtc, member)},

static const kg_dynlink_symbol runtime_symbols[] = {KG_HIP_RUNTIME_FUNCTIONS(KG_HIP_ENTRY)};
static const kg_dynlink_symbol hiprtc_symbols[] = {KG_HIPRTC_FUNCTIONS(KG_HIPRTC_ENTRY)};
static const kg_dynlink_symbol comgr_symbols[] = {
    {"amd_comgr_get_isa_count", NULL, offsetof(kg_comgr, amd_comgr_get_isa_count)},
    {"amd_comgr_get_isa_name", NULL, offsetof(kg_comgr, amd_comgr_get_isa_name)},
};

static void keep_name(char *dst, size_t size, const char *loaded)
{
    const char *slash = strrchr(loaded, '/');
    snprintf(dst, size, "%s", slash ? slash + 1 : loaded);
}

int kg_hip_runtime_load(kg_hip_runtime *r, kg_error *err)
{
    const char *override = getenv("KGRADE_HIP_RUNTIME");
    static const char *const defaults[] = {"libamdhip64.so.6", "libamdhip64.so.5",
                                           "libamdhip64.so"};
    const char *names[3];
    size_t count = 0;
    if (override && override[0])
        names[count++] = override;
    else
        for (size_t i = 0; i < 3; i++)
            names[count++] = defaults[i];
    const char *loaded = NULL;
    int rc = kg_dynlink_load(names, count, runtime_symbols,
                             sizeof runtime_symbols / sizeof runtime_symbols[0], r, sizeof *r,
                             &r->handle, &loaded, err);
    if (rc == 1)
        return kg_error_set(err, KG_ERR_UNAVAILABLE, "runtime not found (%s)",
                            override && override[0]
                                ? override
                                : "libamdhip64.so.6, libamdhip64.so.5, libamdhip64.so");
    if (rc == KG_OK)
        keep_name(r->library, sizeof r->library, loaded);
    return rc;
}

int kg_hiprtc_load(kg_hiprtc *h, kg_error *err)
{
    const char *override = getenv("KGRADE_HIP_RUNTIME");
    const char *names[] = {"libhiprtc.so.6", "libhiprtc.so",
                           override && override[0] ? override : "libamdhip64.so.6",
                           "libamdhip64.so.5", "libamdhip64.so"};
    const char *loaded = NULL;
    int rc = kg_dynlink_load(names, sizeof names / sizeof names[0], hiprtc_symbols,
                             sizeof hiprtc_symbols / sizeof hiprtc_symbols[0], h, sizeof *h,
                             &h->handle, &loaded, err);
    if (rc == 1)
        return kg_error_set(err, KG_ERR_UNAVAILABLE,
                            "hiprtc not found (tried libhiprtc.so.6, libhiprtc.so and the HIP "
                            "runtime libamdhip64)");
    if (rc == KG_OK)
        keep_name(h->library, sizeof h->library, loaded);
    return rc;
}

int kg_comgr_load(kg_comgr *c, kg_error *err)
{
    static const char *const names[] = {"libamd_comgr.so.3", "libamd_comgr.so.2",
                                        "libamd_comgr.so"};
    const char *loaded = NULL;
    int rc =
        kg_dynlink_load(names, 3, comgr_symbols, sizeof comgr_symbols / sizeof comgr_symbols[0], c,
                        sizeof *c, &c->handle, &loaded, err);
    if (rc == 1)
        return kg_error_set(err, KG_ERR_UNAVAILABLE, "comgr not found (libamd_comgr.so.2)");
    return rc;
}
