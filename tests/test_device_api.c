/* The device API (device.h) and the GPU core (hardware/core/gpu_core.c) on
 * the host test backend: registration refuses a table of another interface
 * version or with a missing member; the wrappers refuse what the contract
 * forbids before any backend sees it; the core's fills, views, copies,
 * launches, timed regions and flush do what they say, with device times
 * the test decides. */
#include "backend_impl.h"
#include "host_backend.h"
#include "host_kernels.h"
#include "kg_test.h"

#include <stdlib.h>
#include <string.h>

/* ---- registration ------------------------------------------------------------ */

static int no_init(kg_error *err)
{
    (void)err;
    return KG_OK;
}

static void test_registration(void)
{
    kg_error err = {0};
    const kg_backend *host = kg_backend_find("host");
    KG_CHECK(host != NULL);
    /* The same name twice. */
    KG_CHECK_INT(kg_backend_register(host, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "a backend named host is already registered");

    /* A table written for another version of the interface. */
    kg_backend old = *host;
    old.name = "old";
    old.api_version = KG_BACKEND_API_VERSION - 1;
    KG_CHECK_INT(kg_backend_register(&old, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "backend old was written for device interface version 3");
    KG_CHECK(kg_backend_find("old") == NULL);

    /* A required member missing; optional ones may be. */
    kg_backend partial = *host;
    partial.name = "partial";
    partial.timer_stop = NULL;
    KG_CHECK_INT(kg_backend_register(&partial, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "backend partial lacks the required operation timer_stop");

    /* A minimal backend without views or clocks registers, and the
     * wrappers answer for what it lacks. */
    static kg_backend bare;
    bare = *host;
    bare.name = "bare";
    bare.init = no_init;
    bare.buffer_view = NULL;
    bare.read_clocks = NULL;
    bare.shutdown = NULL;
    KG_CHECK_INT(kg_backend_register(&bare, &err), KG_OK);
    KG_CHECK(kg_backend_find("bare") == &bare);
    KG_CHECK_INT(kg_backend_device_count(&bare), 0); /* not initialised yet */
    KG_CHECK_INT(kg_backend_init(&bare, &err), KG_OK);
    KG_CHECK_INT(kg_backend_device_count(&bare), 1);
    kg_device *dev = NULL;
    KG_CHECK_INT(kg_dev_open(&bare, 0, &dev, &err), KG_OK);
    KG_CHECK(!kg_dev_has_views(dev));
    kg_buffer *buf = NULL, *view = NULL;
    KG_CHECK_INT(kg_dev_buffer_alloc(dev, 2 * KG_BUFFER_VIEW_ALIGN, &buf, &err), KG_OK);
    KG_CHECK_INT(kg_dev_buffer_view(dev, buf, 0, 16, &view, &err), KG_ERR_UNSUPPORTED);
    KG_CHECK_CONTAINS(err.message, "the bare backend has no buffer views");
    uint32_t mhz = 7;
    int throttled = 7;
    KG_CHECK_INT(kg_dev_read_clocks(dev, &mhz, &throttled, &err), KG_ERR_UNSUPPORTED);
    KG_CHECK(mhz == 0 && throttled == 0);
    kg_dev_buffer_free(buf);
    kg_dev_close(dev);
    kg_backend_shutdown(&bare); /* no shutdown member: nothing to call */
    KG_CHECK_INT(kg_backend_device_count(&bare), 0);
    KG_CHECK_INT(kg_backend_device_info(&bare, 0, &(kg_device_info){0}, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "the bare backend is not initialised");
}

/* ---- the wrappers' checks ----------------------------------------------------------- */

static int add_one(const kg_host_launch *l)
{
    float *x = kg_host_arg_ptr(l, 0);
    int n = kg_host_arg_i32(l, 1);
    for (int i = 0; i < n; i++)
        x[i] += 1.0f + (float)kg_host_define(l, "EXTRA", 0);
    kg_host_clock_advance((uint64_t)n * 10);
    return 0;
}

static kg_kernel *build_kernel(kg_device *dev, const char *entry, const char *define)
{
    const char *defines[] = {define};
    kg_build_request req = {.language = KG_LANG_PORTABLE,
                            .source = "KG_KERNEL void add_one() {}",
                            .source_name = "add_one.kc",
                            .defines = defines,
                            .define_count = define ? 1 : 0};
    kg_program *prog = NULL;
    kg_kernel *k = NULL;
    kg_error err = {0};
    KG_CHECK_INT(kg_dev_program_build(dev, &req, &prog, NULL, &err), KG_OK);
    if (prog)
        KG_CHECK_INT(kg_dev_kernel_create(prog, entry, &k, &err), KG_OK);
    kg_dev_program_free(prog); /* the kernel keeps what it needs */
    return k;
}

static void test_region_checks(kg_device *dev, kg_kernel *k, kg_buffer *x)
{
    kg_error err = {0};
    double s = -1;
    KG_CHECK_INT(kg_dev_timer_stop(dev, &s, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "no timed region is open");
    KG_CHECK_INT(kg_dev_timer_start(dev, &err), KG_OK);
    KG_CHECK_INT(kg_dev_timer_start(dev, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "a timed region is already open");
    KG_CHECK_INT(kg_dev_flush_cache(dev, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "inside a timed region");
    /* Closed without a launch: an error, and the region is closed. */
    KG_CHECK_INT(kg_dev_timer_stop(dev, &s, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "the timed region has no launch");
    KG_CHECK_INT(kg_dev_flush_cache(dev, &err), KG_OK);

    /* Three launches of 100 elements at 10 ns each: 3 us of device time,
     * whatever the host took. */
    kg_arg args[] = {kg_arg_buffer(x), kg_arg_i32(100)};
    kg_launch l = {.grid = {1, 1, 1}, .block = {1, 1, 1}, .args = args, .arg_count = 2};
    KG_CHECK_INT(kg_dev_timer_start(dev, &err), KG_OK);
    for (int i = 0; i < 3; i++)
        KG_CHECK_INT(kg_dev_launch(dev, k, &l, &err), KG_OK);
    KG_CHECK_INT(kg_dev_timer_stop(dev, &s, &err), KG_OK);
    KG_CHECK_NEAR(s, 3e-6, 1e-12);
}

static void test_launch_checks(kg_device *dev, kg_kernel *k, kg_buffer *x, kg_device *other_dev)
{
    kg_error err = {0};
    kg_arg args[] = {kg_arg_buffer(x), kg_arg_i32(4)};
    kg_launch l = {.grid = {1, 1, 1}, .block = {1, 1, 1}, .args = args, .arg_count = 2};
    l.grid[1] = 0;
    KG_CHECK_INT(kg_dev_launch(dev, k, &l, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "grid and block sizes must be at least 1");
    KG_CHECK_CONTAINS(err.message, "kernel 'add_one' (add_one.kc)");
    l.grid[1] = 70000; /* over the core's limit for y */
    KG_CHECK_INT(kg_dev_launch(dev, k, &l, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "grid[1] = 70000 exceeds host's limit");
    l.grid[1] = 1;
    kg_arg bad[] = {kg_arg_buffer(NULL), kg_arg_i32(4)};
    l.args = bad;
    KG_CHECK_INT(kg_dev_launch(dev, k, &l, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "argument 0 is a NULL buffer");
    bad[0].kind = (kg_arg_kind)9;
    KG_CHECK_INT(kg_dev_launch(dev, k, &l, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "argument 0 has unknown kind 9");
    l.args = NULL;
    KG_CHECK_INT(kg_dev_launch(dev, k, &l, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "arguments missing");
    /* Buffers and kernels of another device. */
    kg_buffer *foreign = NULL;
    KG_CHECK_INT(kg_dev_buffer_alloc(other_dev, 64, &foreign, &err), KG_OK);
    kg_arg theirs[] = {kg_arg_buffer(foreign), kg_arg_i32(4)};
    l.args = theirs;
    KG_CHECK_INT(kg_dev_launch(dev, k, &l, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "argument 0 is a buffer of another device");
    l.args = args;
    KG_CHECK_INT(kg_dev_launch(other_dev, k, &l, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "the kernel was built for another device");
    float v = 0;
    KG_CHECK_INT(kg_dev_buffer_read(dev, foreign, 0, &v, 4, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "the buffer belongs to another device");
    kg_dev_buffer_free(foreign);
    /* A kernel's own failure comes back with the vendor's name. */
    kg_kernel *bad_kernel = build_kernel(dev, "host_illegal_address", NULL);
    KG_CHECK_INT(kg_dev_launch(dev, bad_kernel, &l, &err), KG_ERR_LAUNCH);
    KG_CHECK(strcmp(err.vendor_name, "HOST_ERROR_ILLEGAL_ADDRESS") == 0);
    kg_dev_kernel_free(bad_kernel);
    kg_kernel *missing = NULL;
    kg_build_request req = {.language = KG_LANG_PORTABLE, .source = "x", .source_name = "m.kc"};
    kg_program *prog = NULL;
    KG_CHECK_INT(kg_dev_program_build(dev, &req, &prog, NULL, &err), KG_OK);
    KG_CHECK_INT(kg_dev_kernel_create(prog, "nope", &missing, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "m.kc has no kernel 'nope'");
    kg_dev_program_free(prog);
}

/* Transfers, fills of every pattern size (the core writes 8- and 16-byte
 * patterns by doubling copies), views and their guards, copies. */
static void test_buffers(kg_device *dev)
{
    kg_error err = {0};
    enum { N = 3 * KG_BUFFER_VIEW_ALIGN };
    kg_buffer *a = NULL, *view = NULL;
    KG_CHECK_INT(kg_dev_buffer_alloc(dev, N, &a, &err), KG_OK);
    KG_CHECK_INT(kg_dev_buffer_alloc(dev, (size_t)2 << 30, &view, &err), KG_ERR_MEMORY);
    KG_CHECK_CONTAINS(err.message, "exceeds the device's largest allocation");
    unsigned char *got = malloc(N);
    static const unsigned char wide[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    static const size_t sizes[] = {1, 2, 4, 8, 16};
    for (size_t s = 0; s < 5; s++) {
        size_t at = 16 * s, bytes = N - 16 * 5;
        KG_CHECK_INT(kg_dev_buffer_fill(dev, a, 0, "\0\0\0\0", 4, N, &err), KG_OK);
        KG_CHECK_INT(kg_dev_buffer_fill(dev, a, at, wide, sizes[s], bytes, &err), KG_OK);
        KG_CHECK_INT(kg_dev_buffer_read(dev, a, 0, got, N, &err), KG_OK);
        size_t bad = 0;
        for (size_t i = 0; i < N; i++) {
            int inside = i >= at && i < at + bytes;
            bad += got[i] != (inside ? wide[(i - at) % sizes[s]] : 0);
        }
        KG_CHECK_MSG(bad == 0, "pattern of %zu bytes: %zu bytes wrong", sizes[s], bad);
    }
    KG_CHECK_INT(kg_dev_buffer_fill(dev, a, 0, wide, 3, 48, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "pattern of 3 bytes");
    KG_CHECK_INT(kg_dev_buffer_fill(dev, a, 2, wide, 4, 64, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "multiples of the pattern");
    KG_CHECK_INT(kg_dev_buffer_fill(dev, a, 16, wide, 16, N, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "outside a 12288-byte buffer");

    /* A view: its offset must be aligned; writes through it land in the
     * parent at its offset. */
    KG_CHECK_INT(kg_dev_buffer_view(dev, a, 64, 16, &view, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "offset 64 is not a multiple of 4096");
    KG_CHECK_INT(
        kg_dev_buffer_view(dev, a, KG_BUFFER_VIEW_ALIGN, 4 * KG_BUFFER_VIEW_ALIGN, &view, &err),
        KG_ERR_INVALID);
    KG_CHECK_INT(kg_dev_buffer_view(dev, a, KG_BUFFER_VIEW_ALIGN, 64, &view, &err), KG_OK);
    KG_CHECK_INT(kg_dev_buffer_fill(dev, view, 0, wide, 16, 64, &err), KG_OK);
    KG_CHECK_INT(kg_dev_buffer_read(dev, a, KG_BUFFER_VIEW_ALIGN, got, 64, &err), KG_OK);
    KG_CHECK(memcmp(got, wide, 16) == 0 && memcmp(got + 48, wide, 16) == 0);
    KG_CHECK_INT(kg_dev_buffer_write(dev, view, 60, wide, 8, &err), KG_ERR_INVALID);
    /* Copies: overlapping ranges of one allocation are refused, through
     * views too; the others land. */
    KG_CHECK_INT(kg_dev_buffer_copy(dev, a, KG_BUFFER_VIEW_ALIGN + 8, view, 0, 32, &err),
                 KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "overlap in the same allocation");
    KG_CHECK_INT(kg_dev_buffer_copy(dev, a, 0, view, 0, 64, &err), KG_OK);
    KG_CHECK_INT(kg_dev_synchronize(dev, &err), KG_OK);
    KG_CHECK_INT(kg_dev_buffer_read(dev, a, 0, got, 64, &err), KG_OK);
    KG_CHECK(memcmp(got + 32, wide, 16) == 0);
    kg_dev_buffer_free(view);
    kg_dev_buffer_free(a);
    free(got);
}

int main(void)
{
    kg_error err = {0};
    KG_CHECK_INT(kg_host_backend_register(&err), KG_OK);
    kg_host_register_runner_kernels();
    kg_host_kernel_register("add_one", add_one);
    kg_host_register_test_kernels();
    const kg_backend *host = kg_backend_find("host");
    KG_CHECK_INT(kg_backend_init(host, &err), KG_OK);
    test_registration();

    uint64_t live_before = kg_host_counters_now().live_allocations;
    kg_device *dev = NULL, *other = NULL;
    KG_CHECK_INT(kg_dev_open(host, 0, &dev, &err), KG_OK);
    KG_CHECK_INT(kg_dev_open(host, 1, &other, &err), KG_ERR_INVALID);
    KG_CHECK(other == NULL);
    KG_CHECK_CONTAINS(err.message, "host device 1 does not exist (1 present)");
    KG_CHECK(strcmp(kg_dev_info(dev)->name, "kgrade host test device") == 0);
    KG_CHECK_INT(kg_dev_open(host, 0, &other, &err), KG_OK);

    kg_kernel *k = build_kernel(dev, "add_one", "EXTRA=2");
    kg_buffer *x = NULL;
    KG_CHECK_INT(kg_dev_buffer_alloc(dev, 100 * sizeof(float), &x, &err), KG_OK);
    KG_CHECK_INT(kg_dev_buffer_fill(dev, x, 0, &(float){1.0f}, 4, 100 * sizeof(float), &err),
                 KG_OK);
    test_region_checks(dev, k, x);
    float back[100];
    KG_CHECK_INT(kg_dev_buffer_read(dev, x, 0, back, sizeof back, &err), KG_OK);
    KG_CHECK_NEAR(back[99], 1.0f + 3 * 3.0f, 0); /* three launches of += 1 + EXTRA */
    test_launch_checks(dev, k, x, other);
    test_buffers(dev);
    /* Programs that do not build say so, with the log. */
    char *log = NULL;
    kg_program *prog = NULL;
    kg_build_request broken = {
        .language = KG_LANG_PORTABLE, .source = "HOST_BUILD_ERROR", .source_name = "b.kc"};
    KG_CHECK_INT(kg_dev_program_build(dev, &broken, &prog, &log, &err), KG_ERR_BUILD);
    KG_CHECK(prog == NULL && log != NULL);
    KG_CHECK_CONTAINS(log, "HOST_BUILD_ERROR");
    free(log);
    kg_build_request cuda = {.language = KG_LANG_CUDA, .source = "x", .source_name = "c.cu"};
    KG_CHECK_INT(kg_dev_program_build(dev, &cuda, &prog, NULL, &err), KG_ERR_UNSUPPORTED);
    KG_CHECK_CONTAINS(err.message, "c.cu: the host backend builds portable or opencl, not cuda");

    kg_dev_buffer_free(x);
    kg_dev_kernel_free(k);
    kg_dev_close(dev);
    kg_dev_close(other);
    /* Everything the core allocated (buffers, flush buffers) is gone. */
    KG_CHECK_INT(kg_host_counters_now().live_allocations, live_before);
    return kg_test_finish("test_device_api");
}
