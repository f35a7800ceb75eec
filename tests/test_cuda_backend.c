/*
 * The CUDA backend against a real NVIDIA GPU: device properties, builds
 * (portable, cuda, cubin), transfers and fills, launches with dynamic shared
 * memory above 48 KiB, event timing against a kernel of known duration, the
 * L2 flush, clocks, and the errors of a bad build, a missing entry point and
 * an illegal address. Skips (77) where the driver or a GPU is missing; the
 * no-driver path is tested by the `cuda_no_driver` integration test.
 */
#include "device.h"
#include "kg_test.h"
#include "nvrtc_compile.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const kg_backend kg_cuda_backend;
static const kg_backend *const cu = &kg_cuda_backend;

static const char portable_source[] =
    "KG_KERNEL void iota_scaled(KG_GLOBAL float *out, int n, float scale, kg_i64 offset)\n"
    "{\n"
    "    int i = kg_global_id(0);\n"
    "    if (i < n)\n"
    "        out[i] = scale * (float)i + (float)(offset >> 32);\n"
    "}\n"
    "\n"
    "KG_KERNEL void reverse_dynamic(KG_GLOBAL const float *x, KG_GLOBAL float *y, int n\n"
    "                               KG_DYNAMIC_LOCAL_PARAM(float, tile))\n"
    "{\n"
    "    KG_DYNAMIC_LOCAL(float, tile);\n"
    "    for (int i = kg_local_id(0); i < n; i += kg_local_size(0))\n"
    "        tile[i] = x[i];\n"
    "    kg_barrier();\n"
    "    for (int i = kg_local_id(0); i < n; i += kg_local_size(0))\n"
    "        y[i] = tile[n - 1 - i];\n"
    "}\n";

static const char cuda_source[] =
    "extern \"C\" __global__ void wait_ns(unsigned long long ns)\n"
    "{\n"
    "    unsigned long long start, now;\n"
    "    asm volatile(\"mov.u64 %0, %%globaltimer;\" : \"=l\"(start));\n"
    "    do {\n"
    "        asm volatile(\"mov.u64 %0, %%globaltimer;\" : \"=l\"(now));\n"
    "    } while (now - start < ns);\n"
    "}\n"
    "extern \"C\" __global__ void write_far(float *p)\n"
    "{\n"
    "    p[1ll << 40] = 1.0f; /* far outside any allocation */\n"
    "}\n";

static kg_program *build(kg_device *dev, kg_language lang, const char *source, size_t size,
                         const char *name)
{
    kg_build_request req = {
        .language = lang, .source = source, .source_size = size, .source_name = name};
    kg_program *prog = NULL;
    char *log = NULL;
    kg_error err = {0};
    int rc = kg_dev_program_build(dev, &req, &prog, &log, &err);
    KG_CHECK_MSG(rc == KG_OK, "%s: %s\n%s", name, err.message, log ? log : "");
    free(log);
    return prog;
}

int main(void)
{
    kg_error err = {0};
    if (kg_backend_init(cu, &err) != KG_OK || kg_backend_device_count(cu) == 0) {
        printf("SKIP: no CUDA device: %s\n", err.message);
        return KG_TEST_SKIP;
    }
    kg_device_info info;
    KG_CHECK_INT(kg_backend_device_info(cu, 0, &info, &err), KG_OK);
    printf("%s, %s, %s, %s, %u SMs, L2 %llu bytes, %.0f GB/s theoretical\n", info.name, info.arch,
           info.api_version, info.driver_version, info.compute_units,
           (unsigned long long)info.cache_bytes, info.peak_dram_gbs);
    KG_CHECK(strncmp(info.arch, "sm_", 3) == 0);
    KG_CHECK(info.compute_units > 0 && info.cache_bytes > 0 && info.subgroup_width == 32);
    KG_CHECK(info.peak_dram_gbs > 100);
    KG_CHECK(info.local_mem_bytes >= 48 * 1024);

    kg_device *dev = NULL;
    KG_CHECK_INT(kg_dev_open(cu, 0, &dev, &err), KG_OK);
    if (!dev)
        return kg_test_finish("test_cuda_backend");

    /* Portable build, launch with i32/f32/i64 arguments, read back. */
    kg_program *p = build(dev, KG_LANG_PORTABLE, portable_source, 0, "portable_test.kc");
    kg_kernel *iota = NULL, *rev = NULL;
    KG_CHECK_INT(kg_dev_kernel_create(p, "iota_scaled", &iota, &err), KG_OK);
    KG_CHECK_INT(kg_dev_kernel_create(p, "reverse_dynamic", &rev, &err), KG_OK);
    kg_kernel *missing = NULL;
    KG_CHECK(kg_dev_kernel_create(p, "no_such_kernel", &missing, &err) != KG_OK);
    KG_CHECK_CONTAINS(err.message, "extern \"C\"");

    enum { n = 20000 };
    kg_buffer *a = NULL, *b = NULL;
    KG_CHECK_INT(kg_dev_buffer_alloc(dev, n * sizeof(float), &a, &err), KG_OK);
    KG_CHECK_INT(kg_dev_buffer_alloc(dev, n * sizeof(float), &b, &err), KG_OK);
    kg_arg args[4] = {kg_arg_buffer(a), kg_arg_i32(n), kg_arg_f32(0.5f),
                      kg_arg_i64((int64_t)7 << 32)};
    kg_launch l = {
        .grid = {(n + 255) / 256, 1, 1}, .block = {256, 1, 1}, .args = args, .arg_count = 4};
    KG_CHECK_INT(kg_dev_launch(dev, iota, &l, &err), KG_OK);
    KG_CHECK_INT(kg_dev_synchronize(dev, &err), KG_OK);
    static float host[n];
    KG_CHECK_INT(kg_dev_buffer_read(dev, a, 0, host, sizeof host, &err), KG_OK);
    KG_CHECK_NEAR(host[0], 7.0, 0);
    KG_CHECK_NEAR(host[n - 1], 0.5 * (n - 1) + 7, 0);

    /* 64 KiB of dynamic shared memory needs the opt-in attribute. */
    enum { m = 16384 };
    kg_arg rargs[3] = {kg_arg_buffer(a), kg_arg_buffer(b), kg_arg_i32(m)};
    kg_launch rl = {.grid = {1, 1, 1},
                    .block = {256, 1, 1},
                    .args = rargs,
                    .arg_count = 3,
                    .dynamic_local_bytes = m * sizeof(float)};
    KG_CHECK_MSG(kg_dev_launch(dev, rev, &rl, &err) == KG_OK, "%s", err.message);
    KG_CHECK_INT(kg_dev_synchronize(dev, &err), KG_OK);
    KG_CHECK_INT(kg_dev_buffer_read(dev, b, 0, host, m * sizeof(float), &err), KG_OK);
    KG_CHECK_NEAR(host[0], 0.5 * (m - 1) + 7, 0);
    KG_CHECK_NEAR(host[m - 1], 7.0, 0);

    /* Fills of every pattern size, and a device copy. */
    const uint8_t pattern[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    static const size_t sizes[] = {1, 2, 4, 8, 16};
    for (size_t s = 0; s < 5; s++) {
        KG_CHECK_INT(kg_dev_buffer_fill(dev, a, 16, pattern, sizes[s], 4096, &err), KG_OK);
        uint8_t got[4096];
        KG_CHECK_INT(kg_dev_buffer_read(dev, a, 16, got, sizeof got, &err), KG_OK);
        int same = 1;
        for (size_t i = 0; i < sizeof got; i++)
            same &= got[i] == pattern[i % sizes[s]];
        KG_CHECK_MSG(same, "fill with a %zu-byte pattern", sizes[s]);
    }
    KG_CHECK_INT(kg_dev_buffer_copy(dev, b, 0, a, 16, 4096, &err), KG_OK);
    KG_CHECK_INT(kg_dev_synchronize(dev, &err), KG_OK);
    uint8_t copied[4096];
    KG_CHECK_INT(kg_dev_buffer_read(dev, b, 0, copied, sizeof copied, &err), KG_OK);
    KG_CHECK(copied[0] == 1 && copied[4095] == 16);
    KG_CHECK(kg_dev_buffer_fill(dev, a, 0, pattern, 3, 9, &err) == KG_ERR_INVALID);

    /* A cubin from NVRTC loads as a binary kernel set. */
    kg_build_request creq = {
        .language = KG_LANG_CUDA, .source = cuda_source, .source_name = "timing.cu"};
    void *cubin = NULL;
    size_t cubin_size = 0;
    KG_CHECK_INT(kg_nvrtc_compile(&creq, info.arch, &cubin, &cubin_size, NULL, &err), KG_OK);
    kg_program *bin = build(dev, KG_LANG_CUBIN, cubin, cubin_size, "timing.cubin");
    free(cubin);
    kg_kernel *wait = NULL, *far = NULL;
    KG_CHECK_INT(kg_dev_kernel_create(bin, "wait_ns", &wait, &err), KG_OK);
    KG_CHECK_INT(kg_dev_kernel_create(bin, "write_far", &far, &err), KG_OK);

    /* Event timing of kernels of known length: 10 us, 1 ms, 10 ms. */
    static const unsigned long long waits[] = {10000, 1000000, 10000000};
    for (size_t w = 0; w < 3; w++) {
        kg_arg warg = kg_arg_i64((int64_t)waits[w]);
        kg_launch wl = {.grid = {1, 1, 1}, .block = {1, 1, 1}, .args = &warg, .arg_count = 1};
        double best = INFINITY;
        for (int rep = 0; rep < 5; rep++) {
            double t = 0;
            KG_CHECK_INT(kg_dev_flush_cache(dev, &err), KG_OK);
            KG_CHECK_INT(kg_dev_timer_start(dev, &err), KG_OK);
            KG_CHECK_INT(kg_dev_launch(dev, wait, &wl, &err), KG_OK);
            KG_CHECK_INT(kg_dev_timer_stop(dev, &t, &err), KG_OK);
            best = t < best ? t : best;
        }
        double want = waits[w] * 1e-9;
        printf("wait %llu ns: best event time %.2f us\n", waits[w], best * 1e6);
        /* At least the wait; at most the wait plus a few us of launch. */
        KG_CHECK_MSG(best >= want * 0.99 && best <= want * 1.02 + 5e-6,
                     "timed %.3g s for a %.3g s kernel", best, want);
    }
    double t = 0;
    KG_CHECK_INT(kg_dev_timer_start(dev, &err), KG_OK);
    KG_CHECK(kg_dev_timer_start(dev, &err) == KG_ERR_INVALID);
    KG_CHECK(kg_dev_timer_stop(dev, &t, &err) == KG_ERR_INVALID); /* no launch */
    KG_CHECK(kg_dev_timer_stop(dev, &t, &err) == KG_ERR_INVALID); /* none open */

    uint32_t mhz = 0;
    int throttled = 0;
    if (kg_dev_read_clocks(dev, &mhz, &throttled, &err) == KG_OK) {
        printf("SM clock %u MHz, throttled %d\n", mhz, throttled);
        KG_CHECK(mhz > 100);
    } else {
        printf("no clocks: %s\n", err.message);
    }

    /* Build errors carry NVRTC's message with the file and line. */
    kg_build_request bad = {.language = KG_LANG_PORTABLE,
                            .source = "KG_KERNEL void k(int n)\n{\n    n = nope;\n}\n",
                            .source_name = "bad.kc"};
    kg_program *none = NULL;
    char *log = NULL;
    KG_CHECK_INT(kg_dev_program_build(dev, &bad, &none, &log, &err), KG_ERR_BUILD);
    KG_CHECK_CONTAINS(err.message, "bad.kc(3)");
    free(log);

    /* Last: an illegal address poisons the context. */
    kg_arg farg = kg_arg_buffer(a);
    kg_launch fl = {.grid = {1, 1, 1}, .block = {1, 1, 1}, .args = &farg, .arg_count = 1};
    KG_CHECK_INT(kg_dev_launch(dev, far, &fl, &err), KG_OK);
    KG_CHECK_INT(kg_dev_synchronize(dev, &err), KG_ERR_LAUNCH);
    KG_CHECK_CONTAINS(err.message, "CUDA_ERROR_ILLEGAL_ADDRESS");
    KG_CHECK(strcmp(err.vendor_name, "CUDA_ERROR_ILLEGAL_ADDRESS") == 0);

    kg_dev_kernel_free(iota);
    kg_dev_kernel_free(rev);
    kg_dev_kernel_free(wait);
    kg_dev_kernel_free(far);
    kg_dev_program_free(p);
    kg_dev_program_free(bin);
    kg_dev_buffer_free(a);
    kg_dev_buffer_free(b);
    kg_dev_close(dev);
    kg_backend_shutdown(cu);
    return kg_test_finish("test_cuda_backend");
}
