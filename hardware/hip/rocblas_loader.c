/* dlopen/dlsym of rocBLAS, and its GEMM called with row-major semantics. */
#include "rocblas_loader.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KG_ROCBLAS_ENTRY(member, symbol, fallback) {symbol, fallback, offsetof(kg_rocblas, member)},
static const kg_dynlink_symbol rocblas_symbols[] = {KG_ROCBLAS_FUNCTIONS(KG_ROCBLAS_ENTRY)};

/* Where a ROCm install keeps its libraries, for machines whose loader
 * path does not include it. */
#define KG_ROCM_LIBDIR "/opt/rocm/lib"

/* Loaded once per process; the outcome is replayed. */
static struct {
    int tried;
    int status;
    kg_error error;
    kg_rocblas lib;
    kg_blas_library about;
} roc;

int kg_rocblas_load(kg_rocblas *r, kg_error *err)
{
    /* Newest first: .so.5 is ROCm 7's, .so.4 ROCm 6's, .so.3 ROCm 5.6 and
     * 5.7's, .so.0 older ROCm's (and Debian's librocblas0 package). */
    static const char *const bases[] = {"librocblas.so.5", "librocblas.so.4", "librocblas.so.3",
                                        "librocblas.so.0", "librocblas.so"};
    enum { nbases = sizeof bases / sizeof bases[0] };
    const char *names[2 * nbases];
    char in_rocm[nbases][64];
    size_t count = 0;
    const char *override = getenv("KGRADE_ROCBLAS");
    if (override && override[0]) {
        names[count++] = override;
    } else {
        for (size_t i = 0; i < nbases; i++)
            names[count++] = bases[i];
        for (size_t i = 0; i < nbases; i++) {
            snprintf(in_rocm[i], sizeof in_rocm[i], "%s/%s", KG_ROCM_LIBDIR, bases[i]);
            names[count++] = in_rocm[i];
        }
    }
    const char *loaded = NULL;
    int rc = kg_dynlink_load(names, count, rocblas_symbols,
                             sizeof rocblas_symbols / sizeof rocblas_symbols[0], r, sizeof *r,
                             &r->handle, &loaded, err);
    if (rc == 1) {
        char tried[900] = "";
        for (size_t i = 0; i < count; i++) {
            size_t len = strlen(tried);
            snprintf(tried + len, sizeof tried - len, "%s%s", i ? ", " : "", names[i]);
        }
        return kg_error_set(err, KG_ERR_UNSUPPORTED, "rocBLAS not found (tried %s)", tried);
    }
    return rc == KG_OK ? KG_OK : KG_ERR_UNSUPPORTED;
}

/* Version from the library itself; the file from the loader. */
static void describe(kg_blas_library *about)
{
    snprintf(about->name, sizeof about->name, "rocBLAS");
    size_t size = 0;
    if (roc.lib.rocblas_get_version_string_size(&size) == rocblas_status_success && size > 0 &&
        size < 4096) {
        char *text = calloc(1, size);
        if (text && roc.lib.rocblas_get_version_string(text, size) == rocblas_status_success)
            snprintf(about->version, sizeof about->version, "%s", text);
        free(text);
    }
    Dl_info info;
    char real[PATH_MAX];
    void *symbol;
    memcpy(&symbol, &roc.lib.rocblas_sgemm, sizeof symbol);
    if (dladdr(symbol, &info) && info.dli_fname)
        snprintf(about->path, sizeof about->path, "%s",
                 realpath(info.dli_fname, real) ? real : info.dli_fname);
}

int kg_rocblas_library(kg_blas_dtype dtype, kg_blas_library *out, kg_error *err)
{
    (void)dtype; /* f32, f16 and bf16 alike: rocblas_sgemm, rocblas_gemm_ex */
    if (!roc.tried) {
        roc.tried = 1;
        roc.status = kg_rocblas_load(&roc.lib, &roc.error);
        if (roc.status == KG_OK)
            describe(&roc.about);
    }
    if (roc.status != KG_OK) {
        if (err)
            *err = roc.error;
        return KG_ERR_UNSUPPORTED;
    }
    *out = roc.about;
    return KG_OK;
}

static int rocblas_fail(kg_error *err, rocblas_status rc, const char *what)
{
    int status = rc == rocblas_status_memory_error      ? KG_ERR_MEMORY
                 : rc == rocblas_status_not_implemented ? KG_ERR_UNSUPPORTED
                                                        : KG_ERR_DEVICE;
    const char *text =
        roc.lib.rocblas_status_to_string ? roc.lib.rocblas_status_to_string(rc) : NULL;
    return kg_error_set_vendor(err, status, (int)rc, "rocblas_status", "%s: %s (%d)", what,
                               text ? text : "unknown status", (int)rc);
}

int kg_rocblas_handle_create(void **handle, kg_error *err)
{
    *handle = NULL;
    if (!roc.lib.handle)
        return kg_error_set(err, KG_ERR_UNSUPPORTED, "rocBLAS is not loaded");
    rocblas_handle h = NULL;
    rocblas_status rc = roc.lib.rocblas_create_handle(&h);
    if (rc != rocblas_status_success)
        return rocblas_fail(err, rc, "rocblas_create_handle failed");
    /* The handle's defaults are what the call needs: scalars on the host,
     * and rocblas_default_math (f32 stays f32: XF32 is opt-in). */
    *handle = h;
    return KG_OK;
}

void kg_rocblas_handle_destroy(void *handle)
{
    if (handle && roc.lib.handle)
        roc.lib.rocblas_destroy_handle((rocblas_handle)handle);
}

/* rocBLAS sizes are rocblas_int: a larger matrix is refused, not
 * truncated. */
static int as_int(uint64_t v, rocblas_int *out)
{
    if (v > INT32_MAX)
        return 0;
    *out = (rocblas_int)v;
    return 1;
}

int kg_rocblas_gemm_args(const kg_blas_gemm *g, kg_rocblas_args *out, kg_error *err)
{
    static const rocblas_datatype types[] = {
        [KG_BLAS_F32] = rocblas_datatype_f32_r,
        [KG_BLAS_F16] = rocblas_datatype_f16_r,
        [KG_BLAS_BF16] = rocblas_datatype_bf16_r,
    };
    memset(out, 0, sizeof *out);
    if ((unsigned)g->dtype >= sizeof types / sizeof types[0])
        return kg_error_set(err, KG_ERR_INVALID, "rocBLAS GEMM: unknown dtype %d", (int)g->dtype);
    rocblas_int m, n, k;
    if (!as_int(g->m, &m) || !as_int(g->n, &n) || !as_int(g->k, &k))
        return kg_error_set(
            err, KG_ERR_UNSUPPORTED, "rocBLAS takes sizes below 2^31 (%llu x %llu x %llu)",
            (unsigned long long)g->m, (unsigned long long)g->n, (unsigned long long)g->k);
    /* Row-major C = A op(B) is column-major C^T = op(B)^T A^T: B's matrix
     * first, n x m x k, each leading dimension its row length. B stored
     * [k][n] is, read column-major, the n x k matrix op(B)^T needs; stored
     * [n][k] it is k x n, hence transposed. */
    out->gemm_ex = g->dtype != KG_BLAS_F32;
    out->trans_a = g->b_transposed ? rocblas_operation_transpose : rocblas_operation_none;
    out->trans_b = rocblas_operation_none;
    out->m = n;
    out->n = m;
    out->k = k;
    out->lda = g->b_transposed ? k : n;
    out->ldb = k;
    out->ldc = n;
    out->a_type = out->b_type = out->c_type = types[g->dtype];
    /* f16 and bf16 accumulate in f32, as cuBLAS's CUBLAS_COMPUTE_32F. */
    out->compute_type = rocblas_datatype_f32_r;
    return KG_OK;
}

int kg_rocblas_gemm(void *handle, void *stream, const kg_blas_gemm *g, uint64_t a, uint64_t b,
                    uint64_t c, kg_error *err)
{
    rocblas_handle h = handle;
    kg_rocblas_args x;
    int status = kg_rocblas_gemm_args(g, &x, err);
    if (status)
        return status;
    rocblas_status rc = roc.lib.rocblas_set_stream(h, (hipStream_t)stream);
    if (rc != rocblas_status_success)
        return rocblas_fail(err, rc, "rocblas_set_stream failed");
    const float one = 1.0f, zero = 0.0f; /* f32 scalars: the compute type */
    const void *pa = (const void *)(uintptr_t)a, *pb = (const void *)(uintptr_t)b;
    void *pc = (void *)(uintptr_t)c;
    if (!x.gemm_ex)
        rc = roc.lib.rocblas_sgemm(h, x.trans_a, x.trans_b, x.m, x.n, x.k, &one, pb, x.lda, pa,
                                   x.ldb, &zero, pc, x.ldc);
    else
        rc = roc.lib.rocblas_gemm_ex(h, x.trans_a, x.trans_b, x.m, x.n, x.k, &one, pb, x.a_type,
                                     x.lda, pa, x.b_type, x.ldb, &zero, pc, x.c_type, x.ldc, pc,
                                     x.c_type, x.ldc, x.compute_type, rocblas_gemm_algo_standard, 0,
                                     KG_ROCBLAS_GEMM_FLAGS_NONE);
    if (rc != rocblas_status_success) {
        char what[160];
        snprintf(what, sizeof what, "rocBLAS %s GEMM (%d x %d x %d%s) failed",
                 kg_blas_dtype_name(g->dtype), x.n, x.m, x.k,
                 g->b_transposed ? ", B transposed" : "");
        return rocblas_fail(err, rc, what);
    }
    return KG_OK;
}
