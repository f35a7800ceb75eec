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

    /* Options: the exact architecture (a cubin, no JIT at load time), line
     * info for profilers, C++17 unless the request names a standard, the
     * defines, then the request's options (allowlisted by the runner,
     * separated by spaces). */
    enum { max_defines = 64, max_extra = 16 };
    if (req->define_count > max_defines)
        return kg_error_set(err, KG_ERR_INVALID, "%s: at most %d defines", name, max_defines);
    char extra_text[1024];
    const char *extra[max_extra];
    int n_extra = 0, has_std = 0;
    if (snprintf(extra_text, sizeof extra_text, "%s", req->options ? req->options : "") >=
        (int)sizeof extra_text)
        return kg_error_set(err, KG_ERR_INVALID, "%s: compiler options too long", name);
    char *save = NULL;
    for (char *tok = strtok_r(extra_text, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (n_extra == max_extra)
            return kg_error_set(err, KG_ERR_INVALID, "%s: at most %d compiler options", name,
                                max_extra);
        has_std |= strncmp(tok, "-std=", 5) == 0;
        extra[n_extra++] = tok;
    }
    char arch_option[48];
    snprintf(arch_option, sizeof arch_option, "--gpu-architecture=%s", arch);
    char define_options[max_defines][160];
    const char *options[3 + max_defines + max_extra];
    int n_options = 0;
    options[n_options++] = arch_option;
    options[n_options++] = "-lineinfo";
    if (!has_std)
        options[n_options++] = "-std=c++17";
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
    nr = nvrtc.nvrtcCompileProgram(prog, n_options, options);
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
