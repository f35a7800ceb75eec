/* rocBLAS for the HIP backend's library tiers (hardware/hip/
 * rocblas_loader.c), without a GPU and without rocBLAS:
 * - the row-major GEMM's mapping onto rocBLAS's column-major call, against
 *   hand-worked argument lists (with the ABI numbers written out here, not
 *   taken from the header) and, for a set of shapes, by running the mapped
 *   arguments through BLAS's own definition of GEMM on the CPU and
 *   comparing with the row-major product;
 * - loading refused, KG_ERR_UNSUPPORTED, with the file named: one that is
 *   not there, and a real library without rocBLAS's symbols (libm);
 * - through the device API, the reason a library tier would be skipped
 *   (in a child process: the outcome is kept for the process);
 * - where a rocBLAS is installed, every symbol resolved and the library
 *   described (version, real path); where none is, every file tried named. */
#include "kg_test.h"
#include "rocblas_loader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern const kg_backend kg_hip_backend;

/* rocBLAS's ABI numbers (rocblas-types.h), written out independently of
 * the header so that a wrong value there fails here. */
enum {
    OP_N = 111,
    OP_T = 112,
    TYPE_F16 = 150,
    TYPE_F32 = 151,
    TYPE_BF16 = 168,
};

static kg_blas_gemm gemm_of(kg_blas_dtype dtype, int b_transposed, uint64_t m, uint64_t n,
                            uint64_t k)
{
    kg_blas_gemm g = {.dtype = dtype, .b_transposed = b_transposed, .m = m, .n = n, .k = k};
    return g;
}

typedef struct expected {
    int gemm_ex;
    int trans_a, trans_b;
    int m, n, k, lda, ldb, ldc;
    int type;
} expected;

static void check_args(const char *what, const kg_blas_gemm *g, expected want)
{
    kg_rocblas_args x;
    kg_error err = {0};
    int rc = kg_rocblas_gemm_args(g, &x, &err);
    KG_CHECK_MSG(rc == KG_OK, "%s: %s", what, err.message);
    KG_CHECK_MSG(x.gemm_ex == want.gemm_ex, "%s: gemm_ex %d", what, x.gemm_ex);
    KG_CHECK_MSG((int)x.trans_a == want.trans_a && (int)x.trans_b == want.trans_b,
                 "%s: trans %d %d, want %d %d", what, (int)x.trans_a, (int)x.trans_b, want.trans_a,
                 want.trans_b);
    KG_CHECK_MSG(x.m == want.m && x.n == want.n && x.k == want.k,
                 "%s: m n k %d %d %d, want %d %d %d", what, x.m, x.n, x.k, want.m, want.n, want.k);
    KG_CHECK_MSG(x.lda == want.lda && x.ldb == want.ldb && x.ldc == want.ldc,
                 "%s: lda ldb ldc %d %d %d, want %d %d %d", what, x.lda, x.ldb, x.ldc, want.lda,
                 want.ldb, want.ldc);
    KG_CHECK_MSG((int)x.a_type == want.type && (int)x.b_type == want.type &&
                     (int)x.c_type == want.type,
                 "%s: types %d %d %d, want %d", what, (int)x.a_type, (int)x.b_type, (int)x.c_type,
                 want.type);
    KG_CHECK_MSG((int)x.compute_type == TYPE_F32, "%s: compute type %d, want f32 (%d)", what,
                 (int)x.compute_type, TYPE_F32);
}

/* Worked by hand from the rule: row-major C[m][n] = A[m][k] op(B) is
 * column-major C^T (n x m, ld n) = op(B)^T (n x k) A^T (k x m, ld k). */
static void test_hand_worked(void)
{
    /* B [k][n] read column-major is n x k with ld n: no transpose. */
    kg_blas_gemm g = gemm_of(KG_BLAS_F32, 0, 2, 3, 4);
    check_args("f32 2x3x4 kn", &g, (expected){0, OP_N, OP_N, 3, 2, 4, 3, 4, 3, TYPE_F32});
    /* B [n][k] read column-major is k x n with ld k: transposed. */
    g = gemm_of(KG_BLAS_BF16, 1, 5, 7, 3);
    check_args("bf16 5x7x3 nk", &g, (expected){1, OP_T, OP_N, 7, 5, 3, 3, 3, 7, TYPE_BF16});
    /* A decode step: one row of A. */
    g = gemm_of(KG_BLAS_F16, 0, 1, 4096, 11008);
    check_args("f16 1x4096x11008 kn", &g,
               (expected){1, OP_N, OP_N, 4096, 1, 11008, 4096, 11008, 4096, TYPE_F16});
    g = gemm_of(KG_BLAS_BF16, 1, 16, 4096, 14336);
    check_args("bf16 16x4096x14336 nk", &g,
               (expected){1, OP_T, OP_N, 4096, 16, 14336, 14336, 14336, 4096, TYPE_BF16});
    g = gemm_of(KG_BLAS_F32, 1, 64, 1, 32);
    check_args("f32 64x1x32 nk", &g, (expected){0, OP_T, OP_N, 1, 64, 32, 32, 32, 1, TYPE_F32});
}

static void test_refusals(void)
{
    kg_rocblas_args x;
    kg_error err = {0};
    kg_blas_gemm g = gemm_of(KG_BLAS_F32, 0, 2147483647ull, 8, 8);
    KG_CHECK_INT(kg_rocblas_gemm_args(&g, &x, &err), KG_OK);
    KG_CHECK_INT(x.n, 2147483647);
    g = gemm_of(KG_BLAS_F32, 0, 8, 2147483648ull, 8);
    KG_CHECK_INT(kg_rocblas_gemm_args(&g, &x, &err), KG_ERR_UNSUPPORTED);
    KG_CHECK_CONTAINS(err.message, "rocBLAS takes sizes below 2^31 (8 x 2147483648 x 8)");
    g = gemm_of(KG_BLAS_BF16, 1, 8, 8, 1ull << 40);
    KG_CHECK_INT(kg_rocblas_gemm_args(&g, &x, &err), KG_ERR_UNSUPPORTED);
    g = gemm_of((kg_blas_dtype)3, 0, 8, 8, 8);
    KG_CHECK_INT(kg_rocblas_gemm_args(&g, &x, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "unknown dtype 3");
}

/* BLAS's GEMM as rocBLAS documents it: column-major C = op(A) op(B), op(A)
 * m x k, op(B) k x n, each matrix read through its leading dimension.
 * Returns 0 where an argument breaks BLAS's rules (a leading dimension
 * below its stored matrix's rows) or a read falls outside a buffer. */
static int blas_gemm(const kg_rocblas_args *x, const double *a, size_t a_count, const double *b,
                     size_t b_count, double *c, size_t c_count)
{
    int a_rows = x->trans_a == rocblas_operation_none ? x->m : x->k;
    int b_rows = x->trans_b == rocblas_operation_none ? x->k : x->n;
    if (x->lda < a_rows || x->ldb < b_rows || x->ldc < x->m)
        return 0;
    for (int j = 0; j < x->n; j++)
        for (int i = 0; i < x->m; i++) {
            double sum = 0;
            for (int p = 0; p < x->k; p++) {
                size_t ia = x->trans_a == rocblas_operation_none ? (size_t)i + (size_t)p * x->lda
                                                                 : (size_t)p + (size_t)i * x->lda;
                size_t ib = x->trans_b == rocblas_operation_none ? (size_t)p + (size_t)j * x->ldb
                                                                 : (size_t)j + (size_t)p * x->ldb;
                if (ia >= a_count || ib >= b_count)
                    return 0;
                sum += a[ia] * b[ib];
            }
            size_t ic = (size_t)i + (size_t)j * x->ldc;
            if (ic >= c_count)
                return 0;
            c[ic] = sum;
        }
    return 1;
}

/* The mapped call, run by the definition above on kgrade's row-major
 * buffers (rocBLAS's A is kgrade's B, its B kgrade's A), must give the
 * row-major product, element for element. */
static void test_mapping_computes_the_product(void)
{
    static const struct {
        unsigned m, n, k;
        int b_transposed;
    } shapes[] = {
        {2, 3, 4, 0}, {2, 3, 4, 1}, {5, 1, 7, 1}, {1, 6, 3, 0},
        {1, 6, 3, 1}, {3, 3, 3, 1}, {7, 5, 1, 0}, {4, 9, 6, 1},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        unsigned m = shapes[s].m, n = shapes[s].n, k = shapes[s].k;
        int bt = shapes[s].b_transposed;
        double *a = malloc(sizeof(double) * m * k), *b = malloc(sizeof(double) * k * n);
        double *c = malloc(sizeof(double) * m * n), *want = malloc(sizeof(double) * m * n);
        if (!a || !b || !c || !want)
            abort();
        for (unsigned i = 0; i < m * k; i++)
            a[i] = (double)((i * 7 + 3) % 11) - 5;
        for (unsigned i = 0; i < k * n; i++)
            b[i] = (double)((i * 5 + 1) % 13) - 6;
        for (unsigned i = 0; i < m; i++)
            for (unsigned j = 0; j < n; j++) {
                double sum = 0;
                for (unsigned p = 0; p < k; p++)
                    sum += a[i * k + p] * (bt ? b[j * k + p] : b[p * n + j]);
                want[i * n + j] = sum;
                c[i * n + j] = 1e300;
            }
        kg_blas_gemm g = gemm_of(KG_BLAS_F32, bt, m, n, k);
        kg_rocblas_args x;
        kg_error err = {0};
        KG_CHECK_MSG(kg_rocblas_gemm_args(&g, &x, &err) == KG_OK, "%s", err.message);
        int ok = blas_gemm(&x, b, (size_t)k * n, a, (size_t)m * k, c, (size_t)m * n);
        KG_CHECK_MSG(ok, "%ux%ux%u%s: arguments break BLAS's rules or read outside a matrix", m, n,
                     k, bt ? " nk" : " kn");
        int same = 1;
        for (unsigned i = 0; i < m * n; i++)
            same &= c[i] == want[i];
        KG_CHECK_MSG(same, "%ux%ux%u%s: the mapped call does not compute the product", m, n, k,
                     bt ? " nk" : " kn");
        free(a);
        free(b);
        free(c);
        free(want);
    }
}

static void test_loading_refused(void)
{
    kg_error err = {0};
    kg_rocblas lib;
    setenv("KGRADE_ROCBLAS", "/nonexistent/librocblas.so.4", 1);
    KG_CHECK_INT(kg_rocblas_load(&lib, &err), KG_ERR_UNSUPPORTED);
    KG_CHECK_CONTAINS(err.message, "rocBLAS not found (tried /nonexistent/librocblas.so.4)");
    KG_CHECK(lib.handle == NULL);

    /* A real shared library, without rocBLAS in it. */
    setenv("KGRADE_ROCBLAS", "libm.so.6", 1);
    KG_CHECK_INT(kg_rocblas_load(&lib, &err), KG_ERR_UNSUPPORTED);
    KG_CHECK_CONTAINS(err.message, "libm.so.6 lacks rocblas_create_handle");
    KG_CHECK(lib.handle == NULL && lib.rocblas_create_handle == NULL);

    unsetenv("KGRADE_ROCBLAS");
}

/* What `kgrade devices` and a run ask: the tier's reason to be skipped. The
 * outcome is kept for the process, so this runs in a child of its own. */
static void test_backend_without_rocblas(void)
{
    fflush(NULL);
    pid_t child = fork();
    if (child == 0) {
        kg_test_failures = 0; /* the child's own checks only */
        setenv("KGRADE_ROCBLAS", "/nonexistent/librocblas.so.4", 1);
        kg_error err = {0};
        kg_blas_library about;
        KG_CHECK_INT(kg_backend_blas(&kg_hip_backend, KG_BLAS_BF16, &about, &err),
                     KG_ERR_UNSUPPORTED);
        KG_CHECK_CONTAINS(err.message, "rocBLAS not found (tried /nonexistent/librocblas.so.4)");
        /* Asked again, the same answer, for every type. */
        KG_CHECK_INT(kg_backend_blas(&kg_hip_backend, KG_BLAS_F32, &about, &err),
                     KG_ERR_UNSUPPORTED);
        KG_CHECK_CONTAINS(err.message, "rocBLAS not found (tried /nonexistent/librocblas.so.4)");
        fflush(NULL);
        _exit(kg_test_failures ? 1 : 0);
    }
    int status = 0;
    KG_CHECK(child > 0 && waitpid(child, &status, 0) == child);
    KG_CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child's checks failed");
}

/* Without the variable: the files searched, in order, or the library
 * found and described. */
static void test_default_search(void)
{
    kg_error err = {0};
    kg_rocblas lib;
    int rc = kg_rocblas_load(&lib, &err);
    if (rc != KG_OK) {
        KG_CHECK_INT(rc, KG_ERR_UNSUPPORTED);
        if (strstr(err.message, "lacks")) {
            printf("note: a rocBLAS without every symbol kgrade calls: %s\n", err.message);
            return;
        }
        KG_CHECK_CONTAINS(err.message,
                          "rocBLAS not found (tried librocblas.so.5, librocblas.so.4, "
                          "librocblas.so.3, librocblas.so.0, librocblas.so, "
                          "/opt/rocm/lib/librocblas.so.5, /opt/rocm/lib/librocblas.so.4, "
                          "/opt/rocm/lib/librocblas.so.3, /opt/rocm/lib/librocblas.so.0, "
                          "/opt/rocm/lib/librocblas.so)");
        printf("no rocBLAS here: %s\n", err.message);
        return;
    }
    const void *members[] = {
#define KG_MEMBER_ADDRESS(member, symbol, fallback) (const void *)lib.member,
        KG_ROCBLAS_FUNCTIONS(KG_MEMBER_ADDRESS)
#undef KG_MEMBER_ADDRESS
    };
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++)
        KG_CHECK_MSG(members[i] != NULL, "member %zu not resolved", i);
    KG_CHECK_CONTAINS(lib.rocblas_status_to_string(rocblas_status_memory_error), "memory");
    kg_dynlink_unload(&lib.handle, &lib, sizeof lib);
    kg_blas_library about;
    KG_CHECK_MSG(kg_rocblas_library(KG_BLAS_F32, &about, &err) == KG_OK, "%s", err.message);
    KG_CHECK(strcmp(about.name, "rocBLAS") == 0);
    KG_CHECK_MSG(about.version[0] >= '0' && about.version[0] <= '9', "version '%s'", about.version);
    KG_CHECK_MSG(about.path[0] == '/' && strstr(about.path, "librocblas.so") != NULL, "path '%s'",
                 about.path);
    printf("%s %s (%s)\n", about.name, about.version, about.path);
}

int main(void)
{
    test_hand_worked();
    test_refusals();
    test_mapping_computes_the_product();
    test_loading_refused();
    test_backend_without_rocblas();
    test_default_search();
    return kg_test_finish("test_rocblas_loader");
}
