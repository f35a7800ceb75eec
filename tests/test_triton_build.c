/* Triton launches compiled for real by the helper and Triton of the set-up
 * (no GPU needed: Triton compiles for a named target), for a CUDA sm_90
 * device described by hand. What kgrade packs for a launch (the kept
 * parameters, then the hidden ones) must match the compiled entry's
 * parameter list, one for one and by size; a parameter Triton turned
 * into a constant (an integer equal to 1) is dropped; a second compile is
 * a cache hit; a missing entry is a build error naming what exists.
 * Skipped (77) where the set-up has no Triton. */
#include "kernelset.h"
#include "kg_test.h"
#include "triton_build.h"
#include "workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char root[256];

static const char kernel_py[] =
    "import triton\n"
    "import triton.language as tl\n"
    "\n"
    "@triton.jit\n"
    "def scale_rows(x_ptr, y_ptr, n_cols, scale, BLOCK: tl.constexpr):\n"
    "    row = tl.program_id(0)\n"
    "    offs = tl.arange(0, BLOCK)\n"
    "    mask = offs < n_cols\n"
    "    x = tl.load(x_ptr + row * n_cols + offs, mask=mask, other=0.0)\n"
    "    tl.store(y_ptr + row * n_cols + offs, x * scale, mask=mask)\n";

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The width of an argument as packed, in PTX's terms. */
static int ptx_matches(kg_arg_kind kind, const char *ptx)
{
    switch (kind) {
    case KG_ARG_BUFFER:
    case KG_ARG_NULL_POINTER:
    case KG_ARG_I64:
        return strcmp(ptx + 1, "64") == 0;
    case KG_ARG_I32:
        return strcmp(ptx, "u32") == 0 || strcmp(ptx, "s32") == 0 || strcmp(ptx, "b32") == 0;
    case KG_ARG_F32:
        return strcmp(ptx, "f32") == 0 || strcmp(ptx, "b32") == 0;
    }
    return 0;
}

static kg_device_info h100(void)
{
    kg_device_info info = {0};
    snprintf(info.backend, sizeof info.backend, "cuda");
    snprintf(info.arch, sizeof info.arch, "sm_90");
    info.type = KG_DEVICE_GPU;
    info.subgroup_width = 32;
    return info;
}

/* Compiles the softmax-workload entry with n_cols = `cols` and checks the
 * packing against the compiled parameter list. Returns the binary. */
static int compile_and_check(const kg_kernel_entry *e, int64_t cols, kg_triton_binary *b,
                             double *seconds)
{
    const kg_launch_spec *l = &e->launches[0];
    kg_device_info info = h100();
    int64_t constexprs[1] = {256};
    int64_t ints[4] = {0, 0, cols, 0};
    int known[4] = {0, 0, 1, 0};
    kg_triton_request req = {.source = kernel_py,
                             .source_name = "scale.py",
                             .entry = l->entry,
                             .spec = l->triton,
                             .constexpr_values = constexprs,
                             .int_values = ints,
                             .int_known = known,
                             .num_warps = 4,
                             .num_stages = 1,
                             .info = &info};
    kg_error err = {0};
    char *log = NULL;
    double t0 = now();
    int rc = kg_triton_compile(&req, b, &log, &err);
    *seconds = now() - t0;
    KG_CHECK_MSG(rc == KG_OK, "compile: %s\n%s", err.message, log ? log : "");
    free(log);
    if (rc)
        return rc;
    KG_CHECK(strcmp(b->name, "scale_rows") == 0);
    KG_CHECK_INT(b->num_warps, 4);
    KG_CHECK_INT(b->warp_size, 32);
    KG_CHECK_INT(b->image_language, KG_LANG_CUBIN);
    KG_CHECK(b->image_size > 0);
    kg_arg args[4] = {kg_arg_buffer(NULL), kg_arg_buffer(NULL), kg_arg_i32((int32_t)cols),
                      kg_arg_f32(0.5f)};
    kg_arg packed[4 + KG_TRITON_MAX_HIDDEN];
    size_t n = 0;
    KG_CHECK_INT(kg_triton_pack_args(b, args, 4, packed, &n, &err), KG_OK);
    KG_CHECK_MSG(n == b->ptx_param_count, "packed %zu arguments, the compiled entry takes %zu", n,
                 b->ptx_param_count);
    for (size_t i = 0; i < n && i < b->ptx_param_count; i++)
        KG_CHECK_MSG(ptx_matches(packed[i].kind, b->ptx_params[i]),
                     "argument %zu: kind %d packed where the entry takes .%s", i,
                     (int)packed[i].kind, b->ptx_params[i]);
    return KG_OK;
}

static void test_compile(const kg_workload *w)
{
    kg_kernel_entry *e = NULL;
    kg_error err = {0};
    KG_CHECK_MSG(kg_kernel_entry_load(w, root, &e, &err) == KG_OK, "%s", err.message);
    if (!e)
        return;
    kg_triton_binary b;
    double cold = 0, warm = 0;
    if (compile_and_check(e, 1000, &b, &cold) == KG_OK) {
        KG_CHECK_INT(b.kept_count, 4); /* 1000 is not 1: n_cols stays a parameter */
        kg_triton_binary_free(&b);
    }
    /* The same request again: from the helper's cache, in well under 1 s. */
    if (compile_and_check(e, 1000, &b, &warm) == KG_OK) {
        const cJSON *cached = cJSON_GetObjectItemCaseSensitive(b.record, "cached");
        KG_CHECK(cJSON_IsTrue(cached));
        KG_CHECK_MSG(warm < 1.0, "a cached compile took %.2f s", warm);
        kg_triton_binary_free(&b);
    }
    printf("scale_rows for sm_90: %.2f s cold (or from an earlier run's cache), %.2f s warm\n",
           cold, warm);
    /* n_cols = 1: Triton's launcher makes it a constant, and so does the
     * helper; kgrade must then not pass it. */
    if (compile_and_check(e, 1, &b, &cold) == KG_OK) {
        KG_CHECK_INT(b.kept_count, 3);
        kg_triton_binary_free(&b);
    }
    kg_kernel_entry_free(e);
}

/* A compile of `source`'s `entry` that must fail: KG_ERR_BUILD with
 * `words` in the message, and source_refused as `refused` says. */
static void expect_failure(const kg_workload *w, const char *source, const char *entry,
                           const char *words, int refused)
{
    kg_kernel_entry *e = NULL;
    kg_error err = {0};
    if (kg_kernel_entry_load(w, root, &e, &err) != KG_OK)
        return;
    kg_device_info info = h100();
    int64_t constexprs[1] = {256}, ints[4] = {0, 0, 1000, 0};
    int known[4] = {0, 0, 1, 0};
    kg_triton_request req = {.source = source,
                             .source_name = "scale.py",
                             .entry = entry,
                             .spec = e->launches[0].triton,
                             .constexpr_values = constexprs,
                             .int_values = ints,
                             .int_known = known,
                             .num_warps = 4,
                             .num_stages = 1,
                             .info = &info};
    kg_triton_binary b;
    KG_CHECK_INT(kg_triton_compile(&req, &b, NULL, &err), KG_ERR_BUILD);
    KG_CHECK_CONTAINS(err.message, words);
    KG_CHECK_INT(b.source_refused, refused);
    kg_kernel_entry_free(e);
}

/* A missing entry is an error naming what there is; a body reaching
 * Python outside Triton's language is refused, and said to be. */
static void test_failures(const kg_workload *w)
{
    expect_failure(w, kernel_py, "no_such_kernel", "scale_rows", 0);
    char escape[sizeof kernel_py + 128];
    snprintf(escape, sizeof escape, "%s    tl.core.builtins.exec('x = 1')\n", kernel_py);
    expect_failure(w, escape, "scale_rows", "attribute .builtins is module builtins", 1);
}

int main(void)
{
    char why[1100];
    if (!kg_triton_version(why, sizeof why)) {
        printf("skipped: no Triton: %s\n", why);
        return 77;
    }
    snprintf(root, sizeof root, "/tmp/kgrade-test-triton-build-XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    kg_test_write_file(root, "scale.py", kernel_py);
    kg_test_write_file(
        root, "kernels.json",
        "{\"kgrade_kernels\": 1, \"workloads\": {\"softmax\": {\n"
        "  \"source\": \"scale.py\", \"language\": \"triton\",\n"
        "  \"launches\": [{\"entry\": \"scale_rows\", \"grid\": [\"rows\"],\n"
        "    \"args\": [\"x\", \"y\", \"cols\", \"f32:rsqrt(cols)\"],\n"
        "    \"signature\": {\"x_ptr\": \"*fp32\", \"y_ptr\": \"*fp32\", \"n_cols\": \"i32\",\n"
        "                  \"scale\": \"fp32\"},\n"
        "    \"constexprs\": {\"BLOCK\": \"pow2ceil(cols)\"},\n"
        "    \"num_warps\": 4, \"num_stages\": 1}]}}}\n");
    kg_workload *w = NULL;
    kg_error err = {0};
    KG_CHECK_MSG(kg_workload_load(KG_SOURCE_DIR "/baselines/softmax", &w, &err) == KG_OK, "%s",
                 err.message);
    if (w) {
        test_compile(w);
        test_failures(w);
    }
    kg_workload_free(w);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", root);
    return kg_test_finish("test_triton_build");
}
