/* dlopen/dlsym of cuBLAS, and its GEMM called with row-major semantics. */
#include "cublas_loader.h"

#include <dlfcn.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KG_CUBLAS_ENTRY(member, symbol, fallback) {symbol, fallback, offsetof(kg_cublas, member)},
static const kg_dynlink_symbol cublas_symbols[] = {KG_CUBLAS_FUNCTIONS(KG_CUBLAS_ENTRY)};

/* Loaded once per process; the outcome is replayed. */
static struct {
    int tried;
    int status;
    kg_error error;
    kg_cublas lib;
    kg_blas_library about;
} cublas;

int kg_cublas_load(kg_cublas *c, kg_error *err)
{
    static const char *const bases[] = {"libcublas.so.13", "libcublas.so.12", "libcublas.so"};
    enum { nbases = sizeof bases / sizeof bases[0] };
    const char *names[2 * nbases];
    char in_toolkit[nbases][512];
    size_t count = 0;
    const char *override = getenv("KGRADE_CUBLAS");
    if (override && override[0]) {
        names[count++] = override;
    } else {
        for (size_t i = 0; i < nbases; i++)
            names[count++] = bases[i];
#ifdef KG_CUDA_TOOLKIT_LIBDIR
        /* The toolkit CMake built against, for machines whose loader path
         * does not include it. */
        for (size_t i = 0; i < nbases; i++) {
            snprintf(in_toolkit[i], sizeof in_toolkit[i], "%s/%s", KG_CUDA_TOOLKIT_LIBDIR,
                     bases[i]);
            names[count++] = in_toolkit[i];
        }
#endif
    }
    (void)in_toolkit;
    const char *loaded = NULL;
    int rc = kg_dynlink_load(names, count, cublas_symbols,
                             sizeof cublas_symbols / sizeof cublas_symbols[0], c, sizeof *c,
                             &c->handle, &loaded, err);
    if (rc == 1) {
        char tried[1200] = "";
        for (size_t i = 0; i < count; i++) {
            size_t len = strlen(tried);
            snprintf(tried + len, sizeof tried - len, "%s%s", i ? ", " : "", names[i]);
        }
        return kg_error_set(err, KG_ERR_UNSUPPORTED, "cuBLAS not found (tried %s)", tried);
    }
    return rc == KG_OK ? KG_OK : KG_ERR_UNSUPPORTED;
}

/* Version from the library itself; the file from the loader. */
static void describe(kg_blas_library *about)
{
    snprintf(about->name, sizeof about->name, "cuBLAS");
    int major = 0, minor = 0, patch = 0;
    if (cublas.lib.cublasGetProperty(MAJOR_VERSION, &major) == CUBLAS_STATUS_SUCCESS &&
        cublas.lib.cublasGetProperty(MINOR_VERSION, &minor) == CUBLAS_STATUS_SUCCESS &&
        cublas.lib.cublasGetProperty(PATCH_LEVEL, &patch) == CUBLAS_STATUS_SUCCESS)
        snprintf(about->version, sizeof about->version, "%d.%d.%d", major, minor, patch);
    Dl_info info;
    char real[PATH_MAX];
    void *symbol;
    memcpy(&symbol, &cublas.lib.cublasSgemm_v2, sizeof symbol);
    if (dladdr(symbol, &info) && info.dli_fname)
        snprintf(about->path, sizeof about->path, "%s",
                 realpath(info.dli_fname, real) ? real : info.dli_fname);
}

int kg_cublas_library(kg_blas_dtype dtype, kg_blas_library *out, kg_error *err)
{
    (void)dtype; /* f32, f16 and bf16 alike: cublasSgemm, cublasGemmEx */
    if (!cublas.tried) {
        cublas.tried = 1;
        cublas.status = kg_cublas_load(&cublas.lib, &cublas.error);
        if (cublas.status == KG_OK)
            describe(&cublas.about);
    }
    if (cublas.status != KG_OK) {
        if (err)
            *err = cublas.error;
        return KG_ERR_UNSUPPORTED;
    }
    *out = cublas.about;
    return KG_OK;
}

static int cublas_fail(kg_error *err, cublasStatus_t rc, const char *what)
{
    int status = rc == CUBLAS_STATUS_ALLOC_FAILED       ? KG_ERR_MEMORY
                 : rc == CUBLAS_STATUS_NOT_SUPPORTED    ? KG_ERR_UNSUPPORTED
                 : rc == CUBLAS_STATUS_EXECUTION_FAILED ? KG_ERR_LAUNCH
                                                        : KG_ERR_DEVICE;
    const char *text = cublas.lib.cublasGetStatusString ? cublas.lib.cublasGetStatusString(rc) : "";
    return kg_error_set_vendor(err, status, (int)rc, "cublasStatus_t", "%s: %s (%d)", what, text,
                               (int)rc);
}

int kg_cublas_handle_create(void **handle, kg_error *err)
{
    *handle = NULL;
    if (!cublas.lib.handle)
        return kg_error_set(err, KG_ERR_UNSUPPORTED, "cuBLAS is not loaded");
    cublasHandle_t h = NULL;
    cublasStatus_t rc = cublas.lib.cublasCreate_v2(&h);
    if (rc != CUBLAS_STATUS_SUCCESS)
        return cublas_fail(err, rc, "cublasCreate failed");
    /* The default mode keeps f32 in f32 (TF32 only when asked for). */
    rc = cublas.lib.cublasSetMathMode(h, CUBLAS_DEFAULT_MATH);
    if (rc != CUBLAS_STATUS_SUCCESS) {
        cublas.lib.cublasDestroy_v2(h);
        return cublas_fail(err, rc, "cublasSetMathMode failed");
    }
    *handle = h;
    return KG_OK;
}

void kg_cublas_handle_destroy(void *handle)
{
    if (handle && cublas.lib.handle)
        cublas.lib.cublasDestroy_v2((cublasHandle_t)handle);
}

/* cuBLAS sizes are int: a larger matrix is refused, not truncated. */
static int as_int(uint64_t v, int *out)
{
    if (v > INT_MAX)
        return 0;
    *out = (int)v;
    return 1;
}

int kg_cublas_gemm(void *handle, void *stream, const kg_blas_gemm *g, uint64_t a, uint64_t b,
                   uint64_t c, kg_error *err)
{
    cublasHandle_t h = handle;
    int m, n, k;
    if (!as_int(g->m, &m) || !as_int(g->n, &n) || !as_int(g->k, &k))
        return kg_error_set(
            err, KG_ERR_UNSUPPORTED, "cuBLAS takes sizes below 2^31 (%llu x %llu x %llu)",
            (unsigned long long)g->m, (unsigned long long)g->n, (unsigned long long)g->k);
    cublasStatus_t rc = cublas.lib.cublasSetStream_v2(h, (cudaStream_t)stream);
    if (rc != CUBLAS_STATUS_SUCCESS)
        return cublas_fail(err, rc, "cublasSetStream failed");
    /* Row-major C = A op(B) is column-major C^T = op(B)^T A^T: B's matrix
     * first, n x m x k, each leading dimension its row length. */
    cublasOperation_t b_op = g->b_transposed ? CUBLAS_OP_T : CUBLAS_OP_N;
    int ldb = g->b_transposed ? k : n;
    const float one = 1.0f, zero = 0.0f;
    const void *pa = (const void *)(uintptr_t)a, *pb = (const void *)(uintptr_t)b;
    void *pc = (void *)(uintptr_t)c;
    if (g->dtype == KG_BLAS_F32) {
        rc = cublas.lib.cublasSgemm_v2(h, b_op, CUBLAS_OP_N, n, m, k, &one, pb, ldb, pa, k, &zero,
                                       pc, n);
    } else {
        cudaDataType type = g->dtype == KG_BLAS_F16 ? CUDA_R_16F : CUDA_R_16BF;
        rc =
            cublas.lib.cublasGemmEx(h, b_op, CUBLAS_OP_N, n, m, k, &one, pb, type, ldb, pa, type, k,
                                    &zero, pc, type, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    }
    if (rc != CUBLAS_STATUS_SUCCESS) {
        char what[160];
        snprintf(what, sizeof what, "cuBLAS %s GEMM (%d x %d x %d%s) failed",
                 kg_blas_dtype_name(g->dtype), m, n, k, g->b_transposed ? ", B transposed" : "");
        return cublas_fail(err, rc, what);
    }
    return KG_OK;
}
