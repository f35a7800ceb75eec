/*
 * Every `portable` and `hip` kernel in the repository compiles with hiprtc
 * for gfx90a (MI200) with the defines of every shape of every size class,
 * for gfx908 (MI100) and gfx1030 (RDNA2) with one define set per source
 * (KG_WALK_SAMPLED_TARGETS below), and kgrade's own kernels (peak probes,
 * local-memory scrubber) too. No AMD GPU needed: only the ROCm compiler
 * libraries (Debian: libamdhip64-dev). Prints each compile's target, time
 * and code-object size (the figures in docs/validation.md).
 *
 * Also: a target the installed compiler does not know is refused with a
 * clear error before hiprtc is called (some hiprtc versions abort the
 * process on one), and a compile error comes back with hiprtc's log.
 */
#include "hiprtc_compile.h"
/* gfx90a (MI200, the CDNA target of the issue) compiles every define set;
 * gfx908 (CDNA, the same ISA family) and gfx1030 (RDNA2, wave32) one set
 * per source: each kernel is still seen by each compiler target, at a
 * third of the time. */
#define KG_WALK_SAMPLED_TARGETS "gfx908,gfx1030"
#include "kernel_walk.h"
#include "kg_test.h"
#include "peaks.h"
#include "output_fill.h"
#include "scrub.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const targets[] = {"gfx908", "gfx90a", "gfx1030"};
#define N_TARGETS (sizeof targets / sizeof targets[0])

static size_t compiles;
static double seconds[N_TARGETS];

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void compile_one(const kg_build_request *req, size_t t, const char *what)
{
    void *code = NULL;
    size_t size = 0;
    char *log = NULL;
    kg_error err = {0};
    double t0 = now();
    int rc = kg_hiprtc_compile(req, targets[t], &code, &size, &log, &err);
    double dt = now() - t0;
    seconds[t] += dt;
    compiles++;
    KG_CHECK_MSG(rc == KG_OK && size > 0, "%s for %s: %s\n%s", what, targets[t], err.message,
                 log ? log : "");
    printf("  %-8s %6.2f s %7zu bytes  %s\n", targets[t], dt, size, what);
    free(code);
    free(log);
}

/* The AMD GPU a target stands for. */
static void describe(size_t t, kg_device_info *gpu)
{
    snprintf(gpu->backend, sizeof gpu->backend, "hip");
    snprintf(gpu->arch, sizeof gpu->arch, "%s", targets[t]);
    gpu->subgroup_width = (uint32_t)kg_hip_wavefront_size(targets[t]);
}

static void compile_entry(const kg_workload *w, const kg_kernel_entry *e, void *user)
{
    (void)user;
    kg_walk_define_sets(w, e, KG_LANG_PORTABLE, KG_LANG_HIP, targets, N_TARGETS, describe,
                        compile_one);
}

int main(void)
{
    /* hiprtc must load where the HIP backend was built: this test exists to
     * prove AMD builds in CI. */
    kg_build_request probe = {.language = KG_LANG_HIP,
                              .source = "extern \"C\" __global__ void k(float *x)\n"
                                        "{\n    x[threadIdx.x] *= 2.0f;\n}\n",
                              .source_name = "probe.hip"};
    void *code = NULL;
    size_t size = 0;
    kg_error err = {0};
    int rc = kg_hiprtc_compile(&probe, "gfx90a", &code, &size, NULL, &err);
    KG_CHECK_MSG(rc == KG_OK, "%s", err.message);
    free(code);
    if (rc != KG_OK)
        return kg_test_finish("test_hiprtc_compile");
    printf("%s\n", kg_hiprtc_description());

    /* Known and unknown targets: refused before hiprtc sees them. */
    KG_CHECK_INT(kg_hiprtc_target_known("gfx90a:sramecc+:xnack-"), 1);
    KG_CHECK_INT(kg_hiprtc_target_known("gfx9999"), 0);
    KG_CHECK_INT(kg_hiprtc_compile(&probe, "gfx9999", &code, &size, NULL, &err),
                 KG_ERR_UNSUPPORTED);
    KG_CHECK_CONTAINS(err.message, "does not know the target gfx9999");
    KG_CHECK_INT(kg_hip_wavefront_size("gfx90a"), 64);
    KG_CHECK_INT(kg_hip_wavefront_size("gfx1030"), 32);

    /* A compile error names the file and line, with hiprtc's log. */
    kg_build_request broken = {.language = KG_LANG_PORTABLE,
                               .source = "KG_KERNEL void k(int n)\n{\n    n = undeclared;\n}\n",
                               .source_name = "broken.kc"};
    char *log = NULL;
    KG_CHECK_INT(kg_hiprtc_compile(&broken, "gfx90a", &code, &size, &log, &err), KG_ERR_BUILD);
    KG_CHECK_CONTAINS(err.message, "broken.kc:3");
    KG_CHECK_CONTAINS(err.message, "undeclared");
    KG_CHECK(log && strstr(log, "undeclared"));
    free(log);

    kg_build_request broken_hip = {.language = KG_LANG_HIP,
                                   .source = "extern \"C\" __global__ void k(int n)\n{\n"
                                             "    n = undeclared;\n}\n",
                                   .source_name = "broken.hip"};
    KG_CHECK_INT(kg_hiprtc_compile(&broken_hip, "gfx90a", &code, &size, NULL, &err), KG_ERR_BUILD);
    KG_CHECK_CONTAINS(err.message, "broken.hip:3");

    /* kgrade's own kernels. */
    const char *own[][2] = {{"kgrade-peak-probes.kc", kg_peaks_probe_source()},
                            {"kgrade-scrub-local.kc", kg_scrub_source()},
                            {"kgrade-output-fill.kc", kg_output_fill_source()}};
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        for (size_t t = 0; t < N_TARGETS; t++) {
            kg_build_request req = {.language = KG_LANG_PORTABLE,
                                    .source = own[i][1],
                                    .source_size = strlen(own[i][1]),
                                    .source_name = own[i][0]};
            compile_one(&req, t, own[i][0]);
        }

    kg_workload *workloads[64];
    size_t nw = kg_walk_load_workloads(workloads, 64);
    KG_CHECK(nw >= 3);
    kg_walk_every_kernel(workloads, nw, compile_entry, NULL);
    printf("%zu hiprtc compiles;", compiles);
    for (size_t t = 0; t < N_TARGETS; t++)
        printf(" %s %.1f s", targets[t], seconds[t]);
    printf("\n");
    KG_CHECK(compiles >= (getenv("KG_COMPILE_WORKLOADS") ? 3 : 20));
    for (size_t i = 0; i < nw; i++)
        kg_workload_free(workloads[i]);
    kg_walk_forget();
    return kg_test_finish("test_hiprtc_compile");
}
