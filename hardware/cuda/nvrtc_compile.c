/* NVRTC compilation of portable and CUDA C++ kernels to cubin. */
#include "nvrtc_compile.h"
#include "build_text.h"
#include "cuda_dynlink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static kg_nvrtc nvrtc;
static int nvrtc_state; /* 0 not tried, 1 loaded, -1 failed */
static kg_error nvrtc_error;
static char description[96];

static int ensure_nvrtc(kg_error *err)
{
    if (nvrtc_state == 0) {
        nvrtc_state = kg_nvrtc_load(&nvrtc, &nvrtc_error) == KG_OK ? 1 : -1;
        if (nvrtc_state == 1) {
            int major = 0, minor = 0;
            nvrtc.nvrtcVersion(&major, &minor);
            snprintf(description, sizeof description, "NVRTC %d.%d (%s)", major, minor,
                     nvrtc.library);
        }
    }
    if (nvrtc_state < 0) {
        if (err)
            *err = nvrtc_error;
        return KG_ERR_UNAVAILABLE;
    }
    return KG_OK;
}

const char *kg_nvrtc_description(void)
{
    return description;
}

static char *program_log(nvrtcProgram prog)
{
    size_t size = 0;
    if (nvrtc.nvrtcGetProgramLogSize(prog, &size) != NVRTC_SUCCESS)
        size = 0;
    char *log = malloc(size + 1);
    if (!log)
        return NULL;
    log[0] = '\0';
    if (size && nvrtc.nvrtcGetProgramLog(prog, log) == NVRTC_SUCCESS)
        log[size] = '\0';
    return log;
}

static int nvrtc_fail(kg_error *err, int status, nvrtcResult rc, const char *what, const char *name)
{
    return kg_error_set_vendor(err, status, (int)rc, nvrtc.nvrtcGetErrorString(rc), "%s: %s: %s",
                               name, what, nvrtc.nvrtcGetErrorString(rc));
}

int kg_nvrtc_compile(const kg_build_request *req, const char *arch, void **image,
                     size_t *image_size, char **log, kg_error *err)
{
    *image = NULL;
    *image_size = 0;
    if (log)
        *log = NULL;
    const char *name = req->source_name ? req->source_name : "<source>";
    if (req->language != KG_LANG_PORTABLE && req->language != KG_LANG_CUDA)
        return kg_error_set(err, KG_ERR_UNSUPPORTED, "%s: NVRTC compiles portable or cuda, not %s",
                            name, kg_language_name(req->language));
    if (!req->source)
        return kg_error_set(err, KG_ERR_INVALID, "%s: no source text", name);
    int rc = ensure_nvrtc(err);
    if (rc)
        return rc;

    /* Options: the defines and the request's allowlisted options, then the
     * exact architecture (a cubin, no JIT at load time), line info for
     * profilers, and C++17 unless the request names a standard. */
    kg_build_options opts;
    char why[512];
    if (kg_build_options_make(&opts, req->defines, req->define_count, req->options, name, why,
                              sizeof why) != 0)
        return kg_error_set(err, KG_ERR_INVALID, "%s", why);
    char arch_option[48];
    snprintf(arch_option, sizeof arch_option, "--gpu-architecture=%s", arch);
    kg_build_options_add(&opts, arch_option);
    kg_build_options_add(&opts, "-lineinfo");
    if (!opts.has_std)
        kg_build_options_add(&opts, "-std=c++17");

    kg_text source = {0};
    kg_text_source(&source, req->language == KG_LANG_PORTABLE ? kg_cuda_prelude : NULL, name,
                   req->source, req->source_size);
    if (source.failed) {
        free(source.data);
        return kg_error_set(err, KG_ERR_MEMORY, "%s: out of memory preparing the build", name);
    }
    nvrtcProgram prog;
    nvrtcResult nr = nvrtc.nvrtcCreateProgram(&prog, source.data, name, 0, NULL, NULL);
    free(source.data);
    if (nr != NVRTC_SUCCESS)
        return nvrtc_fail(err, KG_ERR_BUILD, nr, "nvrtcCreateProgram failed", name);
    nr = nvrtc.nvrtcCompileProgram(prog, opts.count, opts.list);
    char *text = program_log(prog);
    if (nr != NVRTC_SUCCESS) {
        char headline[512];
        kg_log_headline(text, headline, sizeof headline);
        kg_error_set_vendor(err, KG_ERR_BUILD, (int)nr, nvrtc.nvrtcGetErrorString(nr),
                            "building %s for %s failed: %s%s%s", name, arch,
                            nvrtc.nvrtcGetErrorString(nr), headline[0] ? ": " : "", headline);
        nvrtc.nvrtcDestroyProgram(&prog);
        if (log)
            *log = text;
        else
            free(text);
        return KG_ERR_BUILD;
    }
    size_t size = 0;
    nr = nvrtc.nvrtcGetCUBINSize(prog, &size);
    void *cubin = nr == NVRTC_SUCCESS && size ? malloc(size) : NULL;
    if (cubin)
        nr = nvrtc.nvrtcGetCUBIN(prog, cubin);
    nvrtc.nvrtcDestroyProgram(&prog);
    if (!cubin || nr != NVRTC_SUCCESS) {
        free(cubin);
        free(text);
        if (nr != NVRTC_SUCCESS)
            return nvrtc_fail(err, KG_ERR_BUILD, nr, "reading the cubin failed", name);
        return kg_error_set(err, KG_ERR_MEMORY, "%s: no memory for a %zu-byte cubin", name, size);
    }
    *image = cubin;
    *image_size = size;
    if (log)
        *log = text;
    else
        free(text);
    return KG_OK;
}
