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

    /* Options: the exact target, -O3, the wavefront size as KG_WARP_SIZE,
     * the defines, then the request's allowlisted options. */
    enum { max_defines = 64, max_extra = 16 };
    if (req->define_count > max_defines)
        return kg_error_set(err, KG_ERR_INVALID, "%s: at most %d defines", name, max_defines);
    char extra_text[1024];
    const char *extra[max_extra];
    int n_extra = 0;
    if (snprintf(extra_text, sizeof extra_text, "%s", req->options ? req->options : "") >=
        (int)sizeof extra_text)
        return kg_error_set(err, KG_ERR_INVALID, "%s: compiler options too long", name);
    char *save = NULL;
    for (char *tok = strtok_r(extra_text, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (n_extra == max_extra)
            return kg_error_set(err, KG_ERR_INVALID, "%s: at most %d compiler options", name,
                                max_extra);
        extra[n_extra++] = tok;
    }
    char arch_option[96], warp_option[32];
    snprintf(arch_option, sizeof arch_option, "--offload-arch=%s", arch);
    snprintf(warp_option, sizeof warp_option, "-DKG_WARP_SIZE=%d", kg_hip_wavefront_size(arch));
    char define_options[max_defines][160];
    const char *options[3 + max_defines + max_extra];
    int n_options = 0;
    options[n_options++] = arch_option;
    options[n_options++] = "-O3";
    options[n_options++] = warp_option;
    for (size_t i = 0; i < req->define_count; i++) {
        if (!req->defines[i] || !kg_define_is_safe(req->defines[i]) ||
            strlen(req->defines[i]) + 3 > sizeof define_options[i])
            return kg_error_set(err, KG_ERR_INVALID,
                                "%s: define '%s' is not NAME or NAME=VALUE without whitespace "
                                "or quotes",
                                name, req->defines[i] ? req->defines[i] : "(null)");
        snprintf(define_options[i], sizeof define_options[i], "-D%s", req->defines[i]);
        options[n_options++] = define_options[i];
    }
    for (int i = 0; i < n_extra; i++)
        options[n_options++] = extra[i];

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
    hr = rtc.hiprtcCompileProgram(prog, n_options, options);
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
