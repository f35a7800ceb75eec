/*
 * Every `portable` and `cuda` kernel in the repository compiles with NVRTC
 * for sm_80 and sm_90, with the defines of every shape of every size class
 * (defines select code paths, e.g. VEC4). Runs without a GPU or a driver:
 * only the toolkit's NVRTC is needed, so CI catches CUDA compile errors.
 *
 * Kernels: each tier of baselines/<workload>/kernels.json, and each
 * workload entry of every kernels.json under kernels/.
 */
#include "kernel_walk.h"
#include "kernelset.h"
#include "kg_test.h"
#include "json_file.h"
#include "nvrtc_compile.h"
#include "peaks.h"
#include "output_fill.h"
#include "scrub.h"
#include "workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const arches[] = {"sm_80", "sm_90"};

#define N_ARCHES (sizeof arches / sizeof arches[0])
static size_t compiles;

static void compile_one(const kg_build_request *req, size_t a, const char *what)
{
    void *cubin = NULL;
    size_t cubin_size = 0;
    char *log = NULL;
    kg_error err = {0};
    int rc = kg_nvrtc_compile(req, arches[a], &cubin, &cubin_size, &log, &err);
    compiles++;
    KG_CHECK_MSG(rc == KG_OK && cubin_size > 0, "%s for %s: %s\n%s", what, arches[a], err.message,
                 log ? log : "");
    printf("  %s %7zu-byte cubin  %s\n", arches[a], cubin_size, what);
    free(cubin);
    free(log);
}

/* KGRADE_BUILD_CACHE (rtc_cache.h): a second build of the same request is
 * read back, the same bytes; another option is another entry; a folder
 * others can write is not used. */
static void build_cache_case(const kg_build_request *probe)
{
    char dir[] = "/tmp/kgrade-rtc-cache-XXXXXX";
    KG_CHECK(mkdtemp(dir) != NULL);
    setenv("KGRADE_BUILD_CACHE", dir, 1);
    void *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    kg_error err = {0};
    KG_CHECK(kg_nvrtc_compile(probe, "sm_90", &a, &na, NULL, &err) == KG_OK);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "test $(ls %s | grep -c '\\.bin$') = 1", dir);
    KG_CHECK_MSG(system(cmd) == 0, "one entry after one build in %s", dir);
    /* The entry is what the second build returns: mark it and see. */
    snprintf(cmd, sizeof cmd, "for f in %s/*.bin; do printf X >> \"$f\"; done", dir);
    KG_CHECK(system(cmd) == 0);
    KG_CHECK(kg_nvrtc_compile(probe, "sm_90", &b, &nb, NULL, &err) == KG_OK);
    KG_CHECK_MSG(nb == na + 1 && memcmp(a, b, na) == 0 && ((char *)b)[na] == 'X',
                 "the second build did not come from the cache (%zu, %zu bytes)", na, nb);
    free(b);
    KG_CHECK(kg_nvrtc_compile(probe, "sm_80", &b, &nb, NULL, &err) == KG_OK);
    snprintf(cmd, sizeof cmd, "test $(ls %s | grep -c '\\.bin$') = 2", dir);
    KG_CHECK_MSG(system(cmd) == 0, "another target, another entry");
    free(b);
    chmod(dir, 0777); /* anyone could plant a binary: not used */
    KG_CHECK(kg_nvrtc_compile(probe, "sm_90", &b, &nb, NULL, &err) == KG_OK);
    KG_CHECK_MSG(nb == na && memcmp(a, b, na) == 0, "a world-writable cache was used");
    free(a);
    free(b);
    unsetenv("KGRADE_BUILD_CACHE");
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    KG_CHECK(system(cmd) == 0);
}

/* The NVIDIA GPU an architecture stands for. */
static void describe(size_t a, kg_device_info *gpu)
{
    snprintf(gpu->backend, sizeof gpu->backend, "cuda");
    snprintf(gpu->arch, sizeof gpu->arch, "%s", arches[a]);
    gpu->subgroup_width = 32;
}

static void compile_entry(const kg_workload *w, const kg_kernel_entry *e, void *user)
{
    (void)user;
    kg_walk_define_sets(w, e, KG_LANG_PORTABLE, KG_LANG_CUDA, arches, N_ARCHES, describe,
                        compile_one);
}

int main(void)
{
    kg_workload *workloads[64];
    size_t nw = kg_walk_load_workloads(workloads, 64);
    KG_CHECK(nw >= 3);

    /* NVRTC must load: this test exists to prove CUDA builds in CI. */
    kg_build_request probe = {.language = KG_LANG_CUDA,
                              .source = "extern \"C\" __global__ void k() {}\n",
                              .source_name = "probe.cu"};
    void *cubin = NULL;
    size_t size = 0;
    kg_error err = {0};
    int rc = kg_nvrtc_compile(&probe, "sm_90", &cubin, &size, NULL, &err);
    KG_CHECK_MSG(rc == KG_OK, "%s", err.message);
    free(cubin);
    if (rc != KG_OK)
        return kg_test_finish("test_nvrtc_compile");
    printf("%s\n", kg_nvrtc_description());

    /* kgrade's own kernels: the peak probes, the local-memory scrubber and the
     * output fill. */
    const char *own[][2] = {{"kgrade-peak-probes.kc", kg_peaks_probe_source()},
                            {"kgrade-scrub-local.kc", kg_scrub_source()},
                            {"kgrade-output-fill.kc", kg_output_fill_source()}};
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        for (size_t a = 0; a < sizeof arches / sizeof arches[0]; a++) {
            kg_build_request req = {.language = KG_LANG_PORTABLE,
                                    .source = own[i][1],
                                    .source_size = strlen(own[i][1]),
                                    .source_name = own[i][0]};
            rc = kg_nvrtc_compile(&req, arches[a], &cubin, &size, NULL, &err);
            KG_CHECK_MSG(rc == KG_OK, "%s for %s: %s", own[i][0], arches[a], err.message);
            free(cubin);
            compiles++;
        }

    build_cache_case(&probe);

    /* A compile error is reported with the file, the line and NVRTC's log. */
    kg_build_request broken = {.language = KG_LANG_PORTABLE,
                               .source = "KG_KERNEL void k(int n)\n{\n    n = undeclared;\n}\n",
                               .source_name = "broken.kc"};
    char *log = NULL;
    KG_CHECK_INT(kg_nvrtc_compile(&broken, "sm_90", &cubin, &size, &log, &err), KG_ERR_BUILD);
    KG_CHECK_CONTAINS(err.message, "broken.kc(3)");
    KG_CHECK_CONTAINS(err.message, "undeclared");
    KG_CHECK(log && strstr(log, "undeclared"));
    free(log);
    kg_build_request unsafe = probe;
    const char *bad_define[] = {"X=1 --use_fast_math"};
    unsafe.defines = bad_define;
    unsafe.define_count = 1;
    KG_CHECK_INT(kg_nvrtc_compile(&unsafe, "sm_90", &cubin, &size, NULL, &err), KG_ERR_INVALID);

    /* Every CUDA option of the manifest allowlist is one NVRTC accepts, and
     * the request's options reach it (a value NVRTC refuses fails the build;
     * "-std=c++20" replaces the default C++17 rather than repeating -std). */
    static const char *const allowed[] = {
        "--use_fast_math", "-lineinfo",       "--maxrregcount=32", "--extra-device-vectorization",
        "-ftz=true",       "-prec-div=false", "-prec-sqrt=false",  "-fmad=true",
        "-std=c++20"};
    char joined[512] = "";
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
        kg_error why = {0};
        KG_CHECK_MSG(kg_compiler_option_check(KG_LANG_CUDA, allowed[i], &why) == 0, "%s",
                     why.message);
        size_t len = strlen(joined);
        snprintf(joined + len, sizeof joined - len, "%s%s", len ? " " : "", allowed[i]);
    }
    kg_build_request with_options = probe;
    with_options.options = joined;
    rc = kg_nvrtc_compile(&with_options, "sm_90", &cubin, &size, &log, &err);
    KG_CHECK_MSG(rc == KG_OK, "%s: %s", joined, err.message);
    free(cubin);
    free(log);
    log = NULL;
    kg_build_request bad_option = probe;
    bad_option.options = "-ftz=maybe";
    KG_CHECK_INT(kg_nvrtc_compile(&bad_option, "sm_90", &cubin, &size, &log, &err), KG_ERR_BUILD);
    free(log);
    log = NULL;

    kg_walk_every_kernel(workloads, nw, compile_entry, NULL);
    printf("%zu NVRTC compiles\n", compiles);
    /* 3 workloads x 2 tiers x 2 arches at least (all of them, or those
     * KG_COMPILE_WORKLOADS names: at least one each). */
    KG_CHECK(compiles >= (getenv("KG_COMPILE_WORKLOADS") ? 2 : 12));

    for (size_t i = 0; i < nw; i++)
        kg_workload_free(workloads[i]);
    kg_walk_forget();
    return kg_test_finish("test_nvrtc_compile");
}
