/* The OpenCL backend against the real driver (PoCL on a machine without a
 * GPU): building, launching, transfers, timing and error reporting. Skips
 * (77) when no OpenCL device exists. */
#include "device.h"
#include "dtype.h"
#include "opencl/cl_errors.h"
#include "kg_test.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

extern const kg_backend kg_opencl_backend;
static const kg_backend *const cl = &kg_opencl_backend;

/* Under LeakSanitizer, ignore what the OpenCL driver itself never frees
 * (PoCL keeps its LLVM state until exit); leaks in kgrade are still
 * reported. */
#if defined(__SANITIZE_ADDRESS__)
#define KG_TEST_HAS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KG_TEST_HAS_ASAN 1
#endif
#endif
#ifdef KG_TEST_HAS_ASAN
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libpocl\nleak:libOpenCL\nleak:libLLVM\nleak:libclang\n";
}
#endif

/* Several kernels in one program: PoCL compiles through LLVM, so every
 * program costs real time and the test stays fast by building few. */
static const char portable_source[] =
    "KG_KERNEL void grid2d(KG_GLOBAL float *out, int width, kg_i64 offset, float scale)\n"
    "{\n"
    "    KG_LOCAL float tile[64];\n"
    "    int lx = kg_local_id(0), ly = kg_local_id(1);\n"
    "    int x = kg_group_id(0) * kg_local_size(0) + lx;\n"
    "    int y = kg_group_id(1) * kg_local_size(1) + ly;\n"
    "    int slot = ly * kg_local_size(0) + lx;\n"
    "    tile[slot] = (float)(y * width + x);\n"
    "    kg_barrier();\n"
    "    int other = kg_local_size(0) * kg_local_size(1) - 1 - slot;\n"
    "    out[y * width + x] = scale * tile[other] + (float)(offset >> 32)\n"
    "                         + KG_TEST_BIAS * kg_expf(0.0f);\n"
    "}\n"
    "\n"
    "KG_KERNEL void reduce_sum(KG_GLOBAL const float *x, KG_GLOBAL float *partial\n"
    "                          KG_DYNAMIC_LOCAL_PARAM(float, scratch))\n"
    "{\n"
    "    KG_DYNAMIC_LOCAL(float, scratch);\n"
    "    int t = kg_local_id(0);\n"
    "    int n = kg_local_size(0);\n"
    "    scratch[t] = x[kg_group_id(0) * n + t];\n"
    "    kg_barrier();\n"
    "    for (int s = n / 2; s > 0; s /= 2) {\n"
    "        if (t < s)\n"
    "            scratch[t] += scratch[t + s];\n"
    "        kg_barrier();\n"
    "    }\n"
    "    if (t == 0)\n"
    "        partial[kg_group_id(0)] = scratch[0];\n"
    "}\n"
    "\n"
    "KG_KERNEL void bf16_roundtrip(KG_GLOBAL const float *x, KG_GLOBAL kg_bf16_bits *bits,\n"
    "                              KG_GLOBAL float *back, int n)\n"
    "{\n"
    "    int i = kg_global_id(0);\n"
    "    if (i < n) {\n"
    "        kg_store_bf16(bits, i, x[i]);\n"
    "        back[i] = kg_load_bf16(bits, i);\n"
    "    }\n"
    "}\n"
    "\n"
    "KG_KERNEL void busy(KG_GLOBAL float *out, int iterations)\n"
    "{\n"
    "    int i = kg_global_id(0);\n"
    "    float v = out[i];\n"
    "    for (int k = 0; k < iterations; k++)\n"
    "        v = kg_fmaf(v, 0.999f, 0.001f);\n"
    "    out[i] = v;\n"
    "}\n";

static const char opencl_source[] = "__kernel void add_i64(__global long *out, long a, int b)\n"
                                    "{\n"
                                    "    size_t i = get_global_id(0);\n"
                                    "    out[i] = a + b + (long)i;\n"
                                    "}\n";

/* The error is on line 3 of the user's file: the #line directive must make
 * the log say so despite the prelude in front of it. */
static const char broken_source[] = "KG_KERNEL void broken(KG_GLOBAL float *x)\n"
                                    "{\n"
                                    "    x[0] = kg_undeclared_name;\n"
                                    "}\n";

static kg_launch make_launch(uint64_t gx, uint64_t gy, uint32_t bx, uint32_t by, const kg_arg *args,
                             size_t count)
{
    kg_launch l = {.grid = {gx, gy, 1}, .block = {bx, by, 1}, .args = args, .arg_count = count};
    return l;
}

static void test_error_names(void)
{
    KG_CHECK(strcmp(kg_cl_error_name(-54), "CL_INVALID_WORK_GROUP_SIZE") == 0);
    KG_CHECK(strcmp(kg_cl_error_name(CL_BUILD_PROGRAM_FAILURE), "CL_BUILD_PROGRAM_FAILURE") == 0);
    KG_CHECK(strcmp(kg_cl_error_name(CL_INVALID_DEVICE_PARTITION_COUNT),
                    "CL_INVALID_DEVICE_PARTITION_COUNT") == 0);
    KG_CHECK(strcmp(kg_cl_error_name(-1001), "CL_PLATFORM_NOT_FOUND_KHR") == 0);
    KG_CHECK(strcmp(kg_cl_error_name(-12345), "CL_UNKNOWN_ERROR") == 0);
}

static void test_device_info(int count, kg_device_info *info)
{
    kg_error err = {0};
    KG_CHECK_INT(kg_backend_device_info(cl, 0, info, &err), KG_OK);
    KG_CHECK(strcmp(info->backend, "opencl") == 0);
    KG_CHECK_INT(info->index, 0);
    KG_CHECK(info->name[0] != '\0');
    KG_CHECK(info->compute_units > 0);
    KG_CHECK(info->cache_bytes > 0);
    KG_CHECK(info->max_group_size > 0);
    KG_CHECK(info->global_mem_bytes > 0);
    KG_CHECK(info->max_alloc_bytes > 0);
    KG_CHECK_CONTAINS(info->api_version, "OpenCL");
    KG_CHECK(info->platform[0] != '\0');
    printf("device 0: %s | vendor %s | platform %s | %s | driver %s | type %s | %u CUs @ %u MHz\n"
           "  global %llu, local %llu, cache %llu (line %u), max group %u, subgroup %u, "
           "max alloc %llu, arch '%s'\n",
           info->name, info->vendor, info->platform, info->api_version, info->driver_version,
           kg_device_type_name(info->type), info->compute_units, info->clock_mhz,
           (unsigned long long)info->global_mem_bytes, (unsigned long long)info->local_mem_bytes,
           (unsigned long long)info->cache_bytes, info->cache_line_bytes, info->max_group_size,
           info->subgroup_width, (unsigned long long)info->max_alloc_bytes, info->arch);

    kg_device_info other;
    KG_CHECK_INT(kg_backend_device_info(cl, count, &other, &err), KG_ERR_INVALID);
    KG_CHECK_INT(kg_backend_device_info(cl, -1, &other, &err), KG_ERR_INVALID);
}

static void test_builds(kg_device *dev)
{
    kg_error err = {0};
    kg_program *prog = NULL;
    char *log = NULL;

    /* Build failure: status, vendor code, message and a log that points at
     * the user's file and line 3. */
    kg_build_request broken = {.language = KG_LANG_PORTABLE,
                               .source = broken_source,
                               .source_size = sizeof broken_source - 1,
                               .source_name = "broken.kc"};
    KG_CHECK_INT(kg_dev_program_build(dev, &broken, &prog, &log, &err), KG_ERR_BUILD);
    KG_CHECK(prog == NULL);
    KG_CHECK(log != NULL && log[0] != '\0');
    KG_CHECK_CONTAINS(log, "broken.kc:3:");
    KG_CHECK_CONTAINS(log, "kg_undeclared_name");
    KG_CHECK_INT(err.vendor_code, CL_BUILD_PROGRAM_FAILURE);
    KG_CHECK(strcmp(err.vendor_name, "CL_BUILD_PROGRAM_FAILURE") == 0);
    KG_CHECK_CONTAINS(err.message, "broken.kc");
    free(log);
    log = NULL;

    /* Languages this backend cannot build. */
    kg_build_request cuda = broken;
    cuda.language = KG_LANG_CUDA;
    cuda.source_name = "k.cu";
    KG_CHECK_INT(kg_dev_program_build(dev, &cuda, &prog, &log, &err), KG_ERR_UNSUPPORTED);
    KG_CHECK_CONTAINS(err.message, "language cuda is not supported by the OpenCL backend");
    KG_CHECK(log == NULL);
    cuda.language = KG_LANG_SPIRV;
    KG_CHECK_INT(kg_dev_program_build(dev, &cuda, &prog, &log, &err), KG_ERR_UNSUPPORTED);
    KG_CHECK_CONTAINS(err.message, "SPIR-V");

    /* A define that would split into two options is refused. */
    const char *bad_defines[] = {"A=1 -DB=2"};
    kg_build_request spaced = broken;
    spaced.defines = bad_defines;
    spaced.define_count = 1;
    KG_CHECK_INT(kg_dev_program_build(dev, &spaced, &prog, &log, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "A=1 -DB=2");
}

static void test_grid_2d(kg_device *dev, kg_kernel *grid2d)
{
    enum { BX = 4, BY = 8, GX = 3, GY = 2, W = BX * GX, H = BY * GY };
    kg_error err = {0};
    kg_buffer *out = NULL;
    KG_CHECK_INT(kg_dev_buffer_alloc(dev, W * H * sizeof(float), &out, &err), KG_OK);
    if (!out)
        return;
    kg_arg args[] = {kg_arg_buffer(out), kg_arg_i32(W), kg_arg_i64((int64_t)5 << 32),
                     kg_arg_f32(0.5f)};
    kg_launch l = make_launch(GX, GY, BX, BY, args, 4);
    KG_CHECK_INT(kg_dev_launch(dev, grid2d, &l, &err), KG_OK);
    KG_CHECK_INT(kg_dev_synchronize(dev, &err), KG_OK);
    float got[W * H];
    KG_CHECK_INT(kg_dev_buffer_read(dev, out, 0, got, sizeof got, &err), KG_OK);
    int bad = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int gx = x / BX, gy = y / BY, lx = x % BX, ly = y % BY;
            int other = BX * BY - 1 - (ly * BX + lx);
            int ox = gx * BX + other % BX, oy = gy * BY + other / BX;
            float want = 0.5f * (float)(oy * W + ox) + 5.0f + 3.0f;
            if (fabsf(got[y * W + x] - want) > 1e-3f * (1.0f + fabsf(want)) && bad++ < 5)
                fprintf(stderr, "grid2d: (%d, %d) got %g want %g\n", x, y, got[y * W + x], want);
        }
    KG_CHECK_INT(bad, 0);

    /* Out-of-range transfers are refused before reaching the driver. */
    KG_CHECK_INT(kg_dev_buffer_read(dev, out, 8, got, sizeof got, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "outside");

    /* Zero sizes and a block larger than the device allows. */
    kg_launch zero = make_launch(0, 1, 1, 1, args, 4);
    KG_CHECK_INT(kg_dev_launch(dev, grid2d, &zero, &err), KG_ERR_INVALID);
    kg_launch short_args = make_launch(1, 1, 1, 1, args, 3);
    KG_CHECK_INT(kg_dev_launch(dev, grid2d, &short_args, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "4 parameters");
    kg_dev_buffer_free(out);
}

static void test_invalid_launch(kg_device *dev, kg_kernel *busy, const kg_device_info *info)
{
    kg_error err = {0};
    kg_buffer *out = NULL;
    uint32_t block = info->max_group_size + 1;
    KG_CHECK_INT(kg_dev_buffer_alloc(dev, (size_t)block * sizeof(float), &out, &err), KG_OK);
    if (!out)
        return;
    kg_arg args[] = {kg_arg_buffer(out), kg_arg_i32(1)};
    kg_launch l = make_launch(1, 1, block, 1, args, 2);
    KG_CHECK_INT(kg_dev_launch(dev, busy, &l, &err), KG_ERR_LAUNCH);
    KG_CHECK_MSG(strncmp(err.vendor_name, "CL_INVALID_WORK_", 16) == 0, "vendor_name '%s'",
                 err.vendor_name);
    KG_CHECK(err.vendor_code < 0);
    KG_CHECK_CONTAINS(err.message, "'busy'");
    KG_CHECK_CONTAINS(err.message, "block [");
    printf("invalid launch: %s: %s\n", err.vendor_name, err.message);
    kg_dev_buffer_free(out);
}

static void test_opencl_language(kg_device *dev)
{
    kg_error err = {0};
    kg_program *prog = NULL;
    kg_kernel *kernel = NULL;
    char *log = NULL;
    kg_build_request req = {.language = KG_LANG_OPENCL,
                            .source = opencl_source,
                            .source_size = sizeof opencl_source - 1,
                            .source_name = "add.cl"};
    KG_CHECK_INT(kg_dev_program_build(dev, &req, &prog, &log, &err), KG_OK);
    free(log);
    if (!prog)
        return;
    KG_CHECK_INT(kg_dev_kernel_create(prog, "add_i64", &kernel, &err), KG_OK);
    kg_dev_program_free(prog); /* the kernel keeps what it needs */
    if (!kernel)
        return;
    enum { N = 16 };
    kg_buffer *out = NULL;
    KG_CHECK_INT(kg_dev_buffer_alloc(dev, N * sizeof(int64_t), &out, &err), KG_OK);
    const int64_t big = (int64_t)3 << 40;
    kg_arg args[] = {kg_arg_buffer(out), kg_arg_i64(big), kg_arg_i32(-7)};
    kg_launch l = make_launch(2, 1, 8, 1, args, 3);
    KG_CHECK_INT(kg_dev_launch(dev, kernel, &l, &err), KG_OK);
    int64_t got[N];
    KG_CHECK_INT(kg_dev_buffer_read(dev, out, 0, got, sizeof got, &err), KG_OK);
    for (int i = 0; i < N; i++)
        KG_CHECK_INT(got[i], big - 7 + i);
    kg_dev_buffer_free(out);
    kg_dev_kernel_free(kernel);
}

static void test_dynamic_local(kg_device *dev, kg_kernel *reduce)
{
    enum { BLOCK = 128, GROUPS = 4, N = BLOCK * GROUPS };
    kg_error err = {0};
    float x[N];
    for (int i = 0; i < N; i++)
        x[i] = (float)(i % 97);
    kg_buffer *in = NULL, *partial = NULL;
    KG_CHECK_INT(kg_dev_buffer_alloc(dev, sizeof x, &in, &err), KG_OK);
    KG_CHECK_INT(kg_dev_buffer_alloc(dev, GROUPS * sizeof(float), &partial, &err), KG_OK);
    if (!in || !partial) {
        kg_dev_buffer_free(in);
        kg_dev_buffer_free(partial);
        return;
    }
    KG_CHECK_INT(kg_dev_buffer_write(dev, in, 0, x, sizeof x, &err), KG_OK);
    kg_arg args[] = {kg_arg_buffer(in), kg_arg_buffer(partial)};
    kg_launch l = make_launch(GROUPS, 1, BLOCK, 1, args, 2);
    /* Without the dynamic local size the parameter count does not match. */
    KG_CHECK_INT(kg_dev_launch(dev, reduce, &l, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "reduce_sum");
    l.dynamic_local_bytes = BLOCK * sizeof(float);
    KG_CHECK_INT(kg_dev_launch(dev, reduce, &l, &err), KG_OK);
    float got[GROUPS];
    KG_CHECK_INT(kg_dev_buffer_read(dev, partial, 0, got, sizeof got, &err), KG_OK);
    for (int g = 0; g < GROUPS; g++) {
        float want = 0;
        for (int i = 0; i < BLOCK; i++)
            want += x[g * BLOCK + i];
        KG_CHECK_NEAR(got[g], want, 0);
    }
    kg_dev_buffer_free(in);
    kg_dev_buffer_free(partial);
}

static void test_fill_copy(kg_device *dev)
{
    enum { BYTES = 256 };
    kg_error err = {0};
    kg_buffer *a = NULL, *b = NULL;
    KG_CHECK_INT(kg_dev_buffer_alloc(dev, BYTES, &a, &err), KG_OK);
    KG_CHECK_INT(kg_dev_buffer_alloc(dev, BYTES, &b, &err), KG_OK);
    if (!a || !b) {
        kg_dev_buffer_free(a);
        kg_dev_buffer_free(b);
        return;
    }
    uint32_t word = 0xA1B2C3D4u;
    uint8_t wide[16];
    for (int i = 0; i < 16; i++)
        wide[i] = (uint8_t)(0x10 + i);
    KG_CHECK_INT(kg_dev_buffer_fill(dev, a, 0, &word, 4, BYTES, &err), KG_OK);
    KG_CHECK_INT(kg_dev_buffer_fill(dev, a, 64, wide, 16, 128, &err), KG_OK);
    uint8_t got[BYTES];
    KG_CHECK_INT(kg_dev_buffer_read(dev, a, 0, got, BYTES, &err), KG_OK);
    int bad = 0;
    for (int i = 0; i < BYTES; i++) {
        uint8_t want = i >= 64 && i < 192 ? wide[i % 16] : ((const uint8_t *)&word)[i % 4];
        bad += got[i] != want;
    }
    KG_CHECK_INT(bad, 0);

    KG_CHECK_INT(kg_dev_buffer_fill(dev, b, 0, &word, 4, BYTES, &err), KG_OK);
    KG_CHECK_INT(kg_dev_buffer_copy(dev, b, 16, a, 64, 32, &err), KG_OK);
    uint8_t copied[BYTES];
    KG_CHECK_INT(kg_dev_buffer_read(dev, b, 0, copied, BYTES, &err), KG_OK);
    bad = 0;
    for (int i = 0; i < BYTES; i++) {
        uint8_t want = i >= 16 && i < 48 ? got[64 + i - 16] : ((const uint8_t *)&word)[i % 4];
        bad += copied[i] != want;
    }
    KG_CHECK_INT(bad, 0);

    KG_CHECK_INT(kg_dev_buffer_fill(dev, a, 0, &word, 3, 48, &err), KG_ERR_INVALID);
    KG_CHECK_INT(kg_dev_buffer_fill(dev, a, 2, &word, 4, 64, &err), KG_ERR_INVALID);
    KG_CHECK_INT(kg_dev_buffer_fill(dev, a, 0, wide, 16, BYTES + 16, &err), KG_ERR_INVALID);
    KG_CHECK_INT(kg_dev_buffer_copy(dev, a, 0, a, 16, 32, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "overlap in the same allocation");
    /* An empty buffer is a valid buffer with no bytes to touch. */
    kg_buffer *none = NULL;
    KG_CHECK_INT(kg_dev_buffer_alloc(dev, 0, &none, &err), KG_OK);
    KG_CHECK(none && kg_buffer_bytes(none) == 0);
    KG_CHECK_INT(kg_dev_buffer_read(dev, none, 0, copied, 0, &err), KG_OK);
    KG_CHECK_INT(kg_dev_buffer_read(dev, none, 0, copied, 1, &err), KG_ERR_INVALID);
    kg_dev_buffer_free(none);
    kg_dev_buffer_free(a);
    kg_dev_buffer_free(b);
}

/* Times one launch of busy() with `iterations` per work-item. */
static double time_busy(kg_device *dev, kg_kernel *busy, kg_buffer *out, int iterations)
{
    kg_error err = {0};
    kg_arg args[] = {kg_arg_buffer(out), kg_arg_i32(iterations)};
    kg_launch l = make_launch(16, 1, 64, 1, args, 2);
    double seconds = -1;
    KG_CHECK_INT(kg_dev_timer_start(dev, &err), KG_OK);
    KG_CHECK_INT(kg_dev_launch(dev, busy, &l, &err), KG_OK);
    KG_CHECK_INT(kg_dev_timer_stop(dev, &seconds, &err), KG_OK);
    return seconds;
}

static void test_timing(kg_device *dev, kg_kernel *busy)
{
    kg_error err = {0};
    kg_buffer *out = NULL;
    KG_CHECK_INT(kg_dev_buffer_alloc(dev, 1024 * sizeof(float), &out, &err), KG_OK);
    if (!out)
        return;
    float zero = 0;
    KG_CHECK_INT(kg_dev_buffer_fill(dev, out, 0, &zero, 4, 1024 * sizeof(float), &err), KG_OK);

    time_busy(dev, busy, out, 1); /* first launch compiles for this group size */
    double small = time_busy(dev, busy, out, 100);
    double large = time_busy(dev, busy, out, 100000);
    printf("timing: 100 iterations %.3g s, 100000 iterations %.3g s\n", small, large);
    KG_CHECK(small > 0);
    KG_CHECK_MSG(large > 5 * small, "large %g s, small %g s", large, small);

    /* Several launches in one region span first start to last end. */
    kg_arg args[] = {kg_arg_buffer(out), kg_arg_i32(20000)};
    kg_launch l = make_launch(16, 1, 64, 1, args, 2);
    double three = 0;
    KG_CHECK_INT(kg_dev_timer_start(dev, &err), KG_OK);
    for (int i = 0; i < 3; i++)
        KG_CHECK_INT(kg_dev_launch(dev, busy, &l, &err), KG_OK);
    KG_CHECK_INT(kg_dev_timer_stop(dev, &three, &err), KG_OK);
    double one = time_busy(dev, busy, out, 20000);
    printf("timing: one launch %.3g s, three launches %.3g s\n", one, three);
    KG_CHECK_MSG(three > 1.5 * one, "three %g s, one %g s", three, one);

    /* A region with no launch is an error, and still closes the region. */
    double seconds = 1;
    KG_CHECK_INT(kg_dev_timer_start(dev, &err), KG_OK);
    KG_CHECK_INT(kg_dev_timer_start(dev, &err), KG_ERR_INVALID);
    KG_CHECK(kg_dev_timer_stop(dev, &seconds, &err) != KG_OK);
    KG_CHECK_CONTAINS(err.message, "no launch");
    KG_CHECK(kg_dev_timer_stop(dev, &seconds, &err) != KG_OK);
    KG_CHECK_INT(kg_dev_timer_start(dev, &err), KG_OK);
    KG_CHECK(kg_dev_timer_stop(dev, &seconds, &err) != KG_OK);

    KG_CHECK_INT(kg_dev_flush_cache(dev, &err), KG_OK);
    KG_CHECK_INT(kg_dev_flush_cache(dev, &err), KG_OK);
    kg_dev_buffer_free(out);
}

static void test_bf16(kg_device *dev, kg_kernel *roundtrip)
{
    enum { N = 8 };
    const uint32_t inputs[N] = {
        0x3F800000u, /* 1.0 */
        0x3F808000u, /* halfway between 0x3F80 and 0x3F81: even is 0x3F80 */
        0x3F818000u, /* halfway between 0x3F81 and 0x3F82: even is 0x3F82 */
        0x3F808001u, /* just above halfway: up */
        0xC0200000u, /* -2.5 */
        0x7FC00000u, /* quiet NaN */
        0x7F800001u, /* signalling NaN: must not become infinity */
        0x7F7FFFFFu, /* FLT_MAX rounds to infinity */
    };
    const uint16_t want[N] = {0x3F80, 0x3F80, 0x3F82, 0x3F81, 0xC020, 0x7FC0, 0x7FC0, 0x7F80};
    float x[N];
    for (int i = 0; i < N; i++)
        x[i] = kg_f32_from_bits(inputs[i]);
    kg_error err = {0};
    kg_buffer *in = NULL, *bits = NULL, *back = NULL;
    KG_CHECK_INT(kg_dev_buffer_alloc(dev, sizeof x, &in, &err), KG_OK);
    KG_CHECK_INT(kg_dev_buffer_alloc(dev, N * sizeof(uint16_t), &bits, &err), KG_OK);
    KG_CHECK_INT(kg_dev_buffer_alloc(dev, sizeof x, &back, &err), KG_OK);
    if (in && bits && back) {
        KG_CHECK_INT(kg_dev_buffer_write(dev, in, 0, x, sizeof x, &err), KG_OK);
        kg_arg args[] = {kg_arg_buffer(in), kg_arg_buffer(bits), kg_arg_buffer(back),
                         kg_arg_i32(N)};
        kg_launch l = make_launch(1, 1, N, 1, args, 4);
        KG_CHECK_INT(kg_dev_launch(dev, roundtrip, &l, &err), KG_OK);
        uint16_t got_bits[N];
        float got_back[N];
        KG_CHECK_INT(kg_dev_buffer_read(dev, bits, 0, got_bits, sizeof got_bits, &err), KG_OK);
        KG_CHECK_INT(kg_dev_buffer_read(dev, back, 0, got_back, sizeof got_back, &err), KG_OK);
        for (int i = 0; i < N; i++) {
            KG_CHECK_MSG(got_bits[i] == want[i], "input 0x%08X: got 0x%04X want 0x%04X",
                         (unsigned)inputs[i], got_bits[i], want[i]);
            KG_CHECK_INT(kg_f32_bits(got_back[i]), (uint32_t)want[i] << 16);
        }
        KG_CHECK(isnan(got_back[5]) && isnan(got_back[6]));
    }
    kg_dev_buffer_free(in);
    kg_dev_buffer_free(bits);
    kg_dev_buffer_free(back);
}

int main(void)
{
    test_error_names();
    kg_error err = {0};
    if (kg_backend_init(cl, &err) != KG_OK) {
        printf("test_opencl_backend: skipped: %s\n", err.message);
        return KG_TEST_SKIP;
    }
    int count = kg_backend_device_count(cl);
    if (count <= 0) {
        printf("test_opencl_backend: skipped: no OpenCL device\n");
        kg_backend_shutdown(cl);
        return KG_TEST_SKIP;
    }
    KG_CHECK_INT(kg_backend_init(cl, &err), KG_OK); /* idempotent */
    KG_CHECK_INT(kg_backend_device_count(cl), count);

    kg_device_info info;
    test_device_info(count, &info);

    kg_device *dev = NULL;
    KG_CHECK_INT(kg_dev_open(cl, 0, &dev, &err), KG_OK);
    if (!dev) {
        fprintf(stderr, "device_open: %s\n", err.message);
        kg_backend_shutdown(cl);
        return kg_test_finish("test_opencl_backend");
    }
    test_builds(dev);
    /* OpenCL 1.2 cannot read clocks: the optional member is absent and the
     * wrapper says so. */
    uint32_t mhz = 1;
    int throttled = 1;
    KG_CHECK_INT(kg_dev_read_clocks(dev, &mhz, &throttled, &err), KG_ERR_UNSUPPORTED);
    KG_CHECK_CONTAINS(err.message, "opencl backend cannot read clocks");
    KG_CHECK(mhz == 0 && throttled == 0);

    const char *defines[] = {"KG_TEST_BIAS=3"};
    kg_build_request req = {.language = KG_LANG_PORTABLE,
                            .source = portable_source,
                            .source_size = sizeof portable_source - 1,
                            .source_name = "portable_test.kc",
                            .defines = defines,
                            .define_count = 1,
                            .options = "-cl-mad-enable"};
    kg_program *prog = NULL;
    char *log = NULL;
    int rc = kg_dev_program_build(dev, &req, &prog, &log, &err);
    KG_CHECK_MSG(rc == KG_OK, "%s\n%s", err.message, log ? log : "");
    free(log);
    if (prog) {
        kg_kernel *grid2d = NULL, *reduce = NULL, *roundtrip = NULL, *busy = NULL, *missing = NULL;
        KG_CHECK_INT(kg_dev_kernel_create(prog, "nope", &missing, &err), KG_ERR_INVALID);
        KG_CHECK(missing == NULL);
        KG_CHECK_CONTAINS(err.message, "no kernel named 'nope' in portable_test.kc");
        KG_CHECK(strcmp(err.vendor_name, "CL_INVALID_KERNEL_NAME") == 0);
        KG_CHECK_INT(kg_dev_kernel_create(prog, "grid2d", &grid2d, &err), KG_OK);
        KG_CHECK_INT(kg_dev_kernel_create(prog, "reduce_sum", &reduce, &err), KG_OK);
        KG_CHECK_INT(kg_dev_kernel_create(prog, "bf16_roundtrip", &roundtrip, &err), KG_OK);
        KG_CHECK_INT(kg_dev_kernel_create(prog, "busy", &busy, &err), KG_OK);
        if (grid2d && reduce && roundtrip && busy) {
            test_grid_2d(dev, grid2d);
            test_dynamic_local(dev, reduce);
            test_bf16(dev, roundtrip);
            test_timing(dev, busy);
            test_invalid_launch(dev, busy, &info);
        }
        kg_dev_kernel_free(grid2d);
        kg_dev_kernel_free(reduce);
        kg_dev_kernel_free(roundtrip);
        kg_dev_kernel_free(busy);
        kg_dev_program_free(prog);
    }
    test_opencl_language(dev);
    test_fill_copy(dev);
    KG_CHECK_INT(kg_dev_synchronize(dev, &err), KG_OK);
    kg_dev_close(dev);
    kg_backend_shutdown(cl);
    KG_CHECK_INT(kg_backend_device_count(cl), 0);
    return kg_test_finish("test_opencl_backend");
}
