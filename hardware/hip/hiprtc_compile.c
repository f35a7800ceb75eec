/* hiprtc as a runtime compiler (rtc_compile.h): portable and HIP C++
 * kernels to code objects. */
#include "hiprtc_compile.h"
#include "rtc_compile.h"
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

static int check_target(const char *name, const char *arch, kg_error *err)
{
    if (kg_hiprtc_target_known(arch) == 0)
        return kg_error_set(err, KG_ERR_UNSUPPORTED,
                            "%s: the installed ROCm compiler does not know the target %s (too "
                            "old for this GPU?); not compiled",
                            name, arch);
    return KG_OK;
}

/* The exact target, -O3 and the wavefront size as KG_WARP_SIZE. */
static void add_options(kg_build_options *o, const char *arch, char (*scratch)[96])
{
    snprintf(scratch[0], sizeof scratch[0], "--offload-arch=%s", arch);
    snprintf(scratch[1], sizeof scratch[1], "-DKG_WARP_SIZE=%d", kg_hip_wavefront_size(arch));
    kg_build_options_add(o, scratch[0]);
    kg_build_options_add(o, "-O3");
    kg_build_options_add(o, scratch[1]);
}

static const char *error_string(int rc)
{
    return rtc.hiprtcGetErrorString((hiprtcResult)rc);
}

static int create(void **prog, const char *source, const char *name)
{
    return (int)rtc.hiprtcCreateProgram((hiprtcProgram *)prog, source, name, 0, NULL, NULL);
}

static int compile(void *prog, int count, const char *const *options)
{
    return (int)rtc.hiprtcCompileProgram(prog, count, (const char **)options);
}

static int log_size(void *prog, size_t *size)
{
    return (int)rtc.hiprtcGetProgramLogSize(prog, size);
}

static int get_log(void *prog, char *out)
{
    return (int)rtc.hiprtcGetProgramLog(prog, out);
}

static int code_size(void *prog, size_t *size)
{
    return (int)rtc.hiprtcGetCodeSize(prog, size);
}

static int code(void *prog, void *out)
{
    return (int)rtc.hiprtcGetCode(prog, out);
}

static void destroy(void *prog)
{
    hiprtcProgram p = prog;
    rtc.hiprtcDestroyProgram(&p);
}

static const kg_rtc_vendor hiprtc_vendor = {
    .compiler = "hiprtc",
    .describe = kg_hiprtc_description,
    .native = KG_LANG_HIP,
    .prelude = kg_cuda_prelude,
    .native_prelude = "",
    .load = ensure_hiprtc,
    .check_target = check_target,
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

int kg_hiprtc_compile(const kg_build_request *req, const char *arch, void **image,
                      size_t *image_size, char **log, kg_error *err)
{
    return kg_rtc_compile(&hiprtc_vendor, req, arch, image, image_size, log, err);
}
