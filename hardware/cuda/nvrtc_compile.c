/* NVRTC as a runtime compiler (rtc_compile.h): portable and CUDA C++ kernels
 * to cubin. */
#include "nvrtc_compile.h"
#include "rtc_compile.h"
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

static const char *error_string(int rc)
{
    return nvrtc.nvrtcGetErrorString((nvrtcResult)rc);
}

static int create(void **prog, const char *source, const char *name)
{
    return (int)nvrtc.nvrtcCreateProgram((nvrtcProgram *)prog, source, name, 0, NULL, NULL);
}

static int compile(void *prog, int count, const char *const *options)
{
    return (int)nvrtc.nvrtcCompileProgram(prog, count, options);
}

static int log_size(void *prog, size_t *size)
{
    return (int)nvrtc.nvrtcGetProgramLogSize(prog, size);
}

static int get_log(void *prog, char *out)
{
    return (int)nvrtc.nvrtcGetProgramLog(prog, out);
}

static int code_size(void *prog, size_t *size)
{
    return (int)nvrtc.nvrtcGetCUBINSize(prog, size);
}

static int code(void *prog, void *out)
{
    return (int)nvrtc.nvrtcGetCUBIN(prog, out);
}

static void destroy(void *prog)
{
    nvrtcProgram p = prog;
    nvrtc.nvrtcDestroyProgram(&p);
}

/* The exact architecture (a cubin, no JIT at load time), line info for
 * profilers, and C++17 unless the request names a standard. */
static void add_options(kg_build_options *o, const char *arch, char (*scratch)[96])
{
    snprintf(scratch[0], sizeof scratch[0], "--gpu-architecture=%s", arch);
    kg_build_options_add(o, scratch[0]);
    kg_build_options_add(o, "-lineinfo");
    if (!o->has_std)
        kg_build_options_add(o, "-std=c++17");
}

static const kg_rtc_vendor nvrtc_vendor = {
    .compiler = "NVRTC",
    .describe = kg_nvrtc_description,
    .native = KG_LANG_CUDA,
    .prelude = kg_cuda_prelude,
    .native_prelude = NULL,
    .load = ensure_nvrtc,
    .add_options = add_options,
    .error_string = error_string,
    .create = create,
    .compile = compile,
    .log_size = log_size,
    .log = get_log,
    .code_size = code_size,
    .code = code,
    .destroy = destroy,
};

int kg_nvrtc_compile(const kg_build_request *req, const char *arch, void **image,
                     size_t *image_size, char **log, kg_error *err)
{
    return kg_rtc_compile(&nvrtc_vendor, req, arch, image, image_size, log, err);
}
