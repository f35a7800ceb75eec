/* dlopen/dlsym of CLBlast, and its GEMM called with row-major semantics. */
#include "clblast_loader.h"
#include "cl_errors.h"
#include "dynlink.h"

#include <clblast_c.h>

#include <dlfcn.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* X(member, symbol, fallback symbol or NULL). All required. */
#define KG_CLBLAST_FUNCTIONS(X)                                                                    \
    X(CLBlastSgemm, "CLBlastSgemm", NULL)                                                          \
    X(CLBlastHgemm, "CLBlastHgemm", NULL)                                                          \
    X(CLBlastClearCache, "CLBlastClearCache", NULL)

typedef struct kg_clblast {
    void *handle;
    KG_CLBLAST_FUNCTIONS(KG_DYNLINK_MEMBER)
} kg_clblast;

#define KG_CLBLAST_ENTRY(member, symbol, fallback) {symbol, fallback, offsetof(kg_clblast, member)},
static const kg_dynlink_symbol clblast_symbols[] = {KG_CLBLAST_FUNCTIONS(KG_CLBLAST_ENTRY)};

/* Loaded once per process; the outcome is replayed. */
static struct {
    int tried;
    int status;
    kg_error error;
    kg_clblast lib;
    kg_blas_library about;
} clblast;

/* The real file behind the symbol (the soname is a symlink) and the
 * version its name ends with ("libclblast.so.1.5.3" -> "1.5.3"): CLBlast
 * has no call that says its version. */
static void describe(kg_blas_library *about)
{
    snprintf(about->name, sizeof about->name, "CLBlast");
    Dl_info info;
    char real[PATH_MAX];
    void *symbol;
    memcpy(&symbol, &clblast.lib.CLBlastSgemm, sizeof symbol);
    if (!dladdr(symbol, &info) || !info.dli_fname)
        return;
    const char *path = realpath(info.dli_fname, real) ? real : info.dli_fname;
    snprintf(about->path, sizeof about->path, "%s", path);
    const char *so = strstr(path, ".so.");
    if (so)
        snprintf(about->version, sizeof about->version, "%s", so + strlen(".so."));
}

static int load(kg_error *err)
{
    const char *override = getenv("KGRADE_CLBLAST");
    const char *names[2] = {"libclblast.so.1", "libclblast.so"};
    size_t count = 2;
    if (override && override[0]) {
        names[0] = override;
        count = 1;
    }
    const char *loaded = NULL;
    int rc = kg_dynlink_load(names, count, clblast_symbols,
                             sizeof clblast_symbols / sizeof clblast_symbols[0], &clblast.lib,
                             sizeof clblast.lib, &clblast.lib.handle, &loaded, err);
    if (rc == 1)
        return kg_error_set(err, KG_ERR_UNSUPPORTED,
                            "CLBlast not found (tried %s%s%s; Debian: apt-get install "
                            "libclblast-dev)",
                            names[0], count > 1 ? ", " : "", count > 1 ? names[1] : "");
    if (rc == KG_OK)
        describe(&clblast.about);
    return rc;
}

int kg_clblast_library(kg_blas_dtype dtype, kg_blas_library *out, kg_error *err)
{
    if (!clblast.tried) {
        clblast.tried = 1;
        clblast.status = load(&clblast.error);
    }
    if (clblast.status != KG_OK) {
        if (err)
            *err = clblast.error;
        return KG_ERR_UNSUPPORTED;
    }
    *out = clblast.about;
    if (dtype == KG_BLAS_BF16)
        return kg_error_set(err, KG_ERR_UNSUPPORTED, "CLBlast %s has no bf16 GEMM",
                            clblast.about.version);
    return KG_OK;
}

/* CLBlast's own codes below -1000; the others are OpenCL's. */
static const char *status_name(CLBlastStatusCode code)
{
    switch (code) {
    case CLBlastNotImplemented:
        return "CLBlastNotImplemented";
    case CLBlastInvalidDimension:
        return "CLBlastInvalidDimension";
    case CLBlastInsufficientMemoryA:
        return "CLBlastInsufficientMemoryA";
    case CLBlastInsufficientMemoryB:
        return "CLBlastInsufficientMemoryB";
    case CLBlastInsufficientMemoryC:
        return "CLBlastInsufficientMemoryC";
    case CLBlastInvalidLocalMemUsage:
        return "CLBlastInvalidLocalMemUsage";
    case CLBlastNoHalfPrecision:
        return "CLBlastNoHalfPrecision";
    case CLBlastDatabaseError:
        return "CLBlastDatabaseError";
    case CLBlastUnexpectedError:
        return "CLBlastUnexpectedError";
    default:
        return code > -1000 ? kg_cl_error_name((cl_int)code) : "CLBlastUnknownError";
    }
}

int kg_clblast_gemm(cl_command_queue queue, const kg_blas_gemm *g, cl_mem a, cl_mem b, cl_mem c,
                    cl_event *last, kg_error *err)
{
    if (!clblast.lib.handle)
        return kg_error_set(err, KG_ERR_UNSUPPORTED, "CLBlast is not loaded");
    CLBlastTranspose b_op = g->b_transposed ? CLBlastTransposeYes : CLBlastTransposeNo;
    /* Row-major with packed rows: A's leading dimension is k, C's is n,
     * B's is n ([k][n]) or k ([n][k], transposed). */
    size_t m = (size_t)g->m, n = (size_t)g->n, k = (size_t)g->k;
    size_t ldb = g->b_transposed ? k : n;
    CLBlastStatusCode rc;
    if (g->dtype == KG_BLAS_F32)
        rc = clblast.lib.CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, b_op, m, n, k,
                                      1.0f, a, 0, k, b, 0, ldb, 0.0f, c, 0, n, &queue, last);
    else if (g->dtype == KG_BLAS_F16)
        rc = clblast.lib.CLBlastHgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, b_op, m, n, k,
                                      (cl_half)0x3c00 /* 1.0 */, a, 0, k, b, 0, ldb,
                                      (cl_half)0 /* 0.0 */, c, 0, n, &queue, last);
    else
        return kg_error_set(err, KG_ERR_UNSUPPORTED, "CLBlast has no %s GEMM",
                            kg_blas_dtype_name(g->dtype));
    if (rc != CLBlastSuccess) {
        int status = rc == CLBlastNoHalfPrecision || rc == CLBlastNotImplemented
                         ? KG_ERR_UNSUPPORTED
                     : rc == CLBlastTempBufferAllocFailure || rc == CLBlastOpenCLOutOfHostMemory
                         ? KG_ERR_MEMORY
                         : KG_ERR_LAUNCH;
        return kg_error_set_vendor(err, status, (int)rc, status_name(rc),
                                   "CLBlast%cgemm (%zu x %zu x %zu%s) failed: %s (%d)",
                                   g->dtype == KG_BLAS_F32 ? 'S' : 'H', m, n, k,
                                   g->b_transposed ? ", B transposed" : "", status_name(rc),
                                   (int)rc);
    }
    return KG_OK;
}

void kg_clblast_clear_cache(void)
{
    if (clblast.lib.handle)
        clblast.lib.CLBlastClearCache();
}
