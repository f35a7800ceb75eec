/* hiprtc compilation of portable and HIP C++ kernels to code objects. */
#include "hiprtc_compile.h"
#include "build_text.h"
#include "hip_dynlink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static kg_hiprtc rtc;
static int rtc_state; /* 0 not tried, 1 loaded, -1 failed */
static kg_error rtc_error;
static kg_comgr comgr;
static int comgr_state;
static char description[160];

static int ensure_hiprtc(kg_error *err)
{
    if (rtc_state == 0) {
        rtc_state = kg_hiprtc_load(&rtc, &rtc_error) == KG_OK ? 1 : -1;
        if (rtc_state == 1) {
            int major = 0, minor = 0;
            rtc.hiprtcVersion(&major, &minor);
            /* ROCm 5's hiprtc reports 9.0 whatever the release: say where
             * it came from too. */
            snprintf(description, sizeof description, "hiprtc from %s (reports version %d.%d)",
                     rtc.library, major, minor);
        }
    }
    if (rtc_state < 0) {
        if (err)
            *err = rtc_error;
        return KG_ERR_UNAVAILABLE;
    }
    return KG_OK;
}

const char *kg_hiprtc_description(void)
{
    return description;
}

int kg_hiprtc_target_known(const char *arch)
{
    if (comgr_state == 0) {
        kg_error ignored;
        comgr_state = kg_comgr_load(&comgr, &ignored) == KG_OK ? 1 : -1;
    }
    if (comgr_state < 0)
        return -1;
    size_t base = strcspn(arch, ":");
    size_t count = 0;
    if (comgr.amd_comgr_get_isa_count(&count) != 0)
        return -1;
    for (size_t i = 0; i < count; i++) {
        const char *isa = NULL; /* "amdgcn-amd-amdhsa--gfx90a" */
        if (comgr.amd_comgr_get_isa_name(i, &isa) != 0 || !isa)
            continue;
        const char *target = strrchr(isa, '-');
        target = target ? target + 1 : isa;
        if (strlen(target) == base && strncmp(target, arch, base) == 0)
            return 1;
    }
    return 0;
}

int kg_hip_wavefront_size(const char *arch)
{
    return strncmp(arch, "gfx9", 4) == 0 || strncmp(arch, "gfx8", 4) == 0 ? 64 : 32;
}

static char *program_log(hiprtcProgram prog)
{
    size_t size = 0;
    if (rtc.hiprtcGetProgramLogSize(prog, &size) != HIPRTC_SUCCESS)
        size = 0;
    char *log = malloc(size + 1);
    if (!log)
        return NULL;
    log[0] = '\0';
    if (size && rtc.hiprtcGetProgramLog(prog, log) == HIPRTC_SUCCESS)
        log[size] = '\0';
    return log;
}

int kg_hiprtc_compile(const kg_build_request *req, const char *arch, void **image,
                      size_t *image_size, char **log, kg_error *err)
{
    *image = NULL;
    *image_size = 0;
    if (log)
        *log = NULL;
    const char *name = req->source_name ? req->source_name : "<source>";
    if (req->language != KG_LANG_PORTABLE && req->language != KG_LANG_HIP)
        return kg_error_set(err, KG_ERR_UNSUPPORTED, "%s: hiprtc compiles portable or hip, not %s",
                            name, kg_language_name(req->language));
    if (!req->source)
        return kg_error_set(err, KG_ERR_INVALID, "%s: no source text", name);
    if (kg_hiprtc_target_known(arch) == 0)
        return kg_error_set(err, KG_ERR_UNSUPPORTED,
                            "%s: the installed ROCm compiler does not know the target %s (too "
                            "old for this GPU?); not compiled",
                            name, arch);
    int rc = ensure_hiprtc(err);
    if (rc)
        return rc;

    /* Options: the defines and the request's allowlisted options, then the
     * exact target, -O3 and the wavefront size as KG_WARP_SIZE. */
    kg_build_options opts;
    char why[512];
    if (kg_build_options_make(&opts, req->defines, req->define_count, req->options, name, why,
                              sizeof why) != 0)
        return kg_error_set(err, KG_ERR_INVALID, "%s", why);
    char arch_option[96], warp_option[32];
    snprintf(arch_option, sizeof arch_option, "--offload-arch=%s", arch);
    snprintf(warp_option, sizeof warp_option, "-DKG_WARP_SIZE=%d", kg_hip_wavefront_size(arch));
    kg_build_options_add(&opts, arch_option);
    kg_build_options_add(&opts, "-O3");
    kg_build_options_add(&opts, warp_option);

    kg_text source = {0};
    /* An empty prelude still adds the #line naming the file: hiprtc's own
     * diagnostics name a temporary file instead. */
    kg_text_source(&source, req->language == KG_LANG_PORTABLE ? kg_cuda_prelude : "", name,
                   req->source, req->source_size);
    if (source.failed) {
        free(source.data);
        return kg_error_set(err, KG_ERR_MEMORY, "%s: out of memory preparing the build", name);
    }
    hiprtcProgram prog;
    hiprtcResult hr = rtc.hiprtcCreateProgram(&prog, source.data, name, 0, NULL, NULL);
    free(source.data);
    if (hr != HIPRTC_SUCCESS)
        return kg_error_set_vendor(err, KG_ERR_BUILD, (int)hr, rtc.hiprtcGetErrorString(hr),
                                   "%s: hiprtcCreateProgram failed: %s", name,
                                   rtc.hiprtcGetErrorString(hr));
    hr = rtc.hiprtcCompileProgram(prog, opts.count, opts.list);
    char *text = program_log(prog);
    size_t size = 0;
    if (hr == HIPRTC_SUCCESS && (rtc.hiprtcGetCodeSize(prog, &size) != HIPRTC_SUCCESS || !size))
        hr = HIPRTC_ERROR_COMPILATION;
    if (hr != HIPRTC_SUCCESS) {
        char headline[512];
        kg_log_headline(text, headline, sizeof headline);
        kg_error_set_vendor(err, KG_ERR_BUILD, (int)hr, rtc.hiprtcGetErrorString(hr),
                            "building %s for %s failed: %s%s%s", name, arch,
                            rtc.hiprtcGetErrorString(hr), headline[0] ? ": " : "", headline);
        rtc.hiprtcDestroyProgram(&prog);
        if (log)
            *log = text;
        else
            free(text);
        return KG_ERR_BUILD;
    }
    void *code = malloc(size);
    if (code)
        hr = rtc.hiprtcGetCode(prog, code);
    rtc.hiprtcDestroyProgram(&prog);
    if (!code || hr != HIPRTC_SUCCESS) {
        free(code);
        free(text);
        return code ? kg_error_set(err, KG_ERR_BUILD, "%s: reading the code object failed", name)
                    : kg_error_set(err, KG_ERR_MEMORY, "%s: no memory for %zu bytes", name, size);
    }
    *image = code;
    *image_size = size;
    if (log)
        *log = text;
    else
        free(text);
    return KG_OK;
}
