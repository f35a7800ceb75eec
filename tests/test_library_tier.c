/* Library tiers (kernels.json language "library", docs/formats.md): the
 * manifest's "call" is checked against the workload with the file and
 * field named, a submission may not call a library; the device API's
 * checks of kg_dev_blas_gemm (on the host test backend, which has no
 * library); and, where the OpenCL backend finds a device and CLBlast, the
 * real call against a CPU GEMM: plain and with B transposed, into a view
 * whose guard zones stay intact, and inside a timed region. */
#include "host_backend.h"
#include "json_file.h"
#include "kernelset.h"
#include "kg_test.h"
#include "workload.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VALID_CALL                                                                                 \
    "{\"language\": \"library\", \"description\": \"d\", \"call\": {\"op\": \"gemm\", \"a\": "     \
    "\"A\", \"b\": \"B\", \"c\": \"C\", \"m\": \"m\", \"n\": \"n\", \"k\": \"k\"}}"

/* VALID_CALL with the first `from` replaced by `to`, parsed as set `set`. */
static int parse_variant(const kg_workload *w, const char *set, const char *from, const char *to,
                         kg_kernel_entry **e, kg_error *err)
{
    char text[1024];
    const char *at = from ? strstr(VALID_CALL, from) : NULL;
    if (from && !at) {
        fprintf(stderr, "fixture error: '%s' not in the valid call\n", from);
        exit(1);
    }
    if (at)
        snprintf(text, sizeof text, "%.*s%s%s", (int)(at - VALID_CALL), VALID_CALL, to,
                 at + strlen(from));
    else
        snprintf(text, sizeof text, "%s", VALID_CALL);
    cJSON *obj = cJSON_Parse(text);
    kg_json_where where = {.file = "kernels.json"};
    snprintf(where.path, sizeof where.path, "tiers.library");
    int rc = kg_kernel_entry_parse(w, &where, obj, set, "kernels.json", w->dir, e, err);
    cJSON_Delete(obj);
    return rc;
}

static void test_manifest(const kg_workload *w)
{
    kg_kernel_entry *e = NULL;
    kg_error err = {0};
    KG_CHECK_MSG(parse_variant(w, "library", NULL, NULL, &e, &err) == KG_OK, "%s", err.message);
    if (e) {
        KG_CHECK_INT(e->language, KG_LANG_LIBRARY);
        KG_CHECK(e->call && e->call->op == KG_LIBRARY_GEMM && !e->call->b_transposed);
        KG_CHECK(e->call && e->call->dtype == KG_BLAS_F32);
        KG_CHECK(e->source_path == NULL && e->launch_count == 0);
        KG_CHECK(e->options && e->options[0] == '\0');
    }
    kg_kernel_entry_free(e);
    KG_CHECK_INT(parse_variant(w, "library", "\"k\"}", "\"k\", \"b_layout\": \"nk\"}", &e, &err),
                 KG_OK);
    KG_CHECK(e && e->call->b_transposed);
    kg_kernel_entry_free(e);

    static const struct {
        const char *set, *from, *to, *expect;
    } bad[] = {
        {"library", "\"op\": \"gemm\"", "\"op\": \"gemv\"",
         "kernels.json: tiers.library.call.op: unknown op 'gemv' (expected gemm)"},
        {"library", "\"a\": \"A\"", "\"a\": \"X\"",
         "tiers.library.call.a: 'X' is not a tensor of workload gemm"},
        {"library", "\"c\": \"C\"", "\"c\": \"A\"",
         "tiers.library.call.c: 'A' is not an output of workload gemm"},
        {"library", "\"b\": \"B\"", "\"b\": \"C\"",
         "tiers.library.call.b: 'C' is not an input of workload gemm"},
        {"library", "\"m\": \"m\"", "\"m\": \"mm\"", "tiers.library.call.m: unknown symbol 'mm'"},
        {"library", "\"k\": \"k\"", "\"kk\": \"k\"", "tiers.library.call: unknown field 'kk'"},
        {"library", "\"k\"}", "\"k\", \"b_layout\": \"t\"}",
         "tiers.library.call.b_layout: unknown layout 't'"},
        {"library", "\"description\"", "\"source\": \"x.kc\", \"description\"",
         "tiers.library.source: a library tier has a \"call\" and no \"source\""},
        {"library", ", \"call\": {", ", \"cal\": {", "unknown field 'cal'"},
        {"library", "\"language\": \"library\"", "\"language\": \"portable\"",
         "tiers.library.call: \"call\" is for language library"},
        {"./mine", NULL, NULL, "tiers.library.language: language library is for baseline tiers"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        e = NULL;
        err = (kg_error){0};
        int rc = parse_variant(w, bad[i].set, bad[i].from, bad[i].to, &e, &err);
        KG_CHECK_MSG(rc == KG_ERR_INVALID && !e, "case %zu parsed (rc %d)", i, rc);
        KG_CHECK_CONTAINS(err.message, bad[i].expect);
        kg_kernel_entry_free(e);
    }

    /* The shipped tier. */
    e = NULL;
    KG_CHECK_MSG(kg_kernel_entry_load(w, "library", &e, &err) == KG_OK, "%s", err.message);
    KG_CHECK(e && e->language == KG_LANG_LIBRARY);
    kg_kernel_entry_free(e);
}

/* The wrappers' checks, before any backend: the host backend has no
 * library, so a well-formed call ends in KG_ERR_UNSUPPORTED. */
static void test_contract(void)
{
    kg_error err = {0};
    KG_CHECK_INT(kg_host_backend_register(&err), KG_OK);
    const kg_backend *host = kg_backend_find("host");
    KG_CHECK_INT(kg_backend_init(host, &err), KG_OK);
    kg_blas_library lib;
    KG_CHECK_INT(kg_backend_blas(host, KG_BLAS_F32, &lib, &err), KG_ERR_UNSUPPORTED);
    KG_CHECK_CONTAINS(err.message, "the host backend calls no BLAS library");
    kg_device *dev = NULL;
    KG_CHECK_INT(kg_dev_open(host, 0, &dev, &err), KG_OK);
    if (!dev)
        return;
    kg_buffer *a = NULL, *b = NULL, *c = NULL;
    KG_CHECK_INT(kg_dev_buffer_alloc(dev, 4 * 6, &a, &err), KG_OK);
    KG_CHECK_INT(kg_dev_buffer_alloc(dev, 4 * 9, &b, &err), KG_OK);
    KG_CHECK_INT(kg_dev_buffer_alloc(dev, 4 * 3, &c, &err), KG_OK);
    kg_blas_gemm g = {.dtype = KG_BLAS_F32, .m = 2, .n = 3, .k = 3, .a = a, .b = b, .c = c};
    KG_CHECK_INT(kg_dev_blas_gemm(dev, &g, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "C (12 bytes) is smaller than its 2 x 3 f32 matrix");
    g.m = 1;
    g.a = NULL;
    KG_CHECK_INT(kg_dev_blas_gemm(dev, &g, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "A is a NULL buffer");
    g.a = a;
    g.k = 0;
    KG_CHECK_INT(kg_dev_blas_gemm(dev, &g, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "m, n and k must be at least 1");
    g.k = 2;
    KG_CHECK_INT(kg_dev_blas_gemm(dev, &g, &err), KG_ERR_UNSUPPORTED);
    /* A region whose only call failed has no launch. */
    double s = 0;
    KG_CHECK_INT(kg_dev_timer_start(dev, &err), KG_OK);
    KG_CHECK_INT(kg_dev_blas_gemm(dev, &g, &err), KG_ERR_UNSUPPORTED);
    KG_CHECK_INT(kg_dev_timer_stop(dev, &s, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "the timed region has no launch");
    kg_dev_buffer_free(a);
    kg_dev_buffer_free(b);
    kg_dev_buffer_free(c);
    kg_dev_close(dev);
}

/* Row-major C = A * B (or A * B^T, B stored [n][k]) in double. */
static void cpu_gemm(const float *a, const float *b, int bt, int m, int n, int k, double *c)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double sum = 0;
            for (int p = 0; p < k; p++)
                sum += (double)a[i * k + p] * (double)(bt ? b[j * k + p] : b[p * n + j]);
            c[i * n + j] = sum;
        }
}

/* One call on the device: C as a view in the middle of a guarded
 * allocation, compared with the CPU and the guards checked. */
static void check_gemm(kg_device *dev, int bt, int timed)
{
    enum { M = 37, N = 29, K = 43, GUARD = KG_BUFFER_VIEW_ALIGN };
    static float a[M * K], b[K * N], c[M * N];
    static double want[M * N];
    static unsigned char guard[GUARD];
    for (int i = 0; i < M * K; i++)
        a[i] = (float)((i * 37 % 101) - 50) / 25.0f;
    for (int i = 0; i < K * N; i++)
        b[i] = (float)((i * 53 % 97) - 48) / 24.0f;
    cpu_gemm(a, b, bt, M, N, K, want);
    kg_error err = {0};
    kg_buffer *ba = NULL, *bb = NULL, *parent = NULL, *bc = NULL;
    static const unsigned char pattern = 0xc3;
    size_t total = 2 * GUARD + sizeof c;
    int rc;
    if ((rc = kg_dev_buffer_alloc(dev, sizeof a, &ba, &err)) ||
        (rc = kg_dev_buffer_alloc(dev, sizeof b, &bb, &err)) ||
        (rc = kg_dev_buffer_alloc(dev, total, &parent, &err)) ||
        (rc = kg_dev_buffer_fill(dev, parent, 0, &pattern, 1, total, &err)) ||
        (rc = kg_dev_buffer_view(dev, parent, GUARD, sizeof c, &bc, &err)) ||
        (rc = kg_dev_buffer_write(dev, ba, 0, a, sizeof a, &err)) ||
        (rc = kg_dev_buffer_write(dev, bb, 0, b, sizeof b, &err)))
        KG_CHECK_MSG(0, "setting up: %s", err.message);
    kg_blas_gemm g = {.dtype = KG_BLAS_F32,
                      .b_transposed = bt,
                      .m = M,
                      .n = N,
                      .k = K,
                      .a = ba,
                      .b = bb,
                      .c = bc};
    double seconds = 0;
    if (!rc && timed)
        rc = kg_dev_timer_start(dev, &err);
    if (!rc)
        rc = kg_dev_blas_gemm(dev, &g, &err);
    if (!rc && timed)
        rc = kg_dev_timer_stop(dev, &seconds, &err);
    if (!rc)
        rc = kg_dev_buffer_read(dev, bc, 0, c, sizeof c, &err);
    KG_CHECK_MSG(rc == KG_OK, "gemm%s%s: %s", bt ? " (B transposed)" : "", timed ? ", timed" : "",
                 err.message);
    int wrong = 0;
    for (int i = 0; i < M * N && !rc; i++)
        wrong += !(fabs(c[i] - want[i]) <= 1e-4 + 1e-4 * fabs(want[i]));
    KG_CHECK_MSG(wrong == 0, "%d of %d elements of C wrong (B transposed %d)", wrong, M * N, bt);
    KG_CHECK_MSG(!timed || (seconds > 0 && seconds < 10), "timed region %g s", seconds);
    for (int z = 0; z < 2 && !rc; z++) {
        KG_CHECK_INT(kg_dev_buffer_read(dev, parent, z ? GUARD + sizeof c : 0, guard, GUARD, &err),
                     KG_OK);
        int damaged = 0;
        for (int i = 0; i < GUARD; i++)
            damaged += guard[i] != pattern;
        KG_CHECK_MSG(damaged == 0, "%d bytes of guard zone %d overwritten", damaged, z);
    }
    kg_dev_buffer_free(bc);
    kg_dev_buffer_free(parent);
    kg_dev_buffer_free(bb);
    kg_dev_buffer_free(ba);
}

static void test_opencl(void)
{
    const kg_backend *cl = kg_backend_find("opencl");
    kg_error err = {0};
    kg_blas_library lib;
    if (!cl || kg_backend_init(cl, &err) != KG_OK || kg_backend_device_count(cl) == 0) {
        printf("skipped the CLBlast calls: no OpenCL device (%s)\n", err.message);
        return;
    }
    if (kg_backend_blas(cl, KG_BLAS_F32, &lib, &err) != KG_OK) {
        printf("skipped the CLBlast calls: %s\n", err.message);
        return;
    }
    KG_CHECK(strcmp(lib.name, "CLBlast") == 0);
    KG_CHECK(lib.path[0] == '/' && strstr(lib.path, "libclblast") != NULL);
    KG_CHECK_INT(kg_backend_blas(cl, KG_BLAS_BF16, &lib, &err), KG_ERR_UNSUPPORTED);
    KG_CHECK_CONTAINS(err.message, "has no bf16 GEMM");
    kg_device *dev = NULL;
    KG_CHECK_INT(kg_dev_open(cl, 0, &dev, &err), KG_OK);
    if (!dev)
        return;
    check_gemm(dev, 0, 0);
    check_gemm(dev, 1, 0);
    check_gemm(dev, 0, 1);
    kg_dev_close(dev);
}

int main(void)
{
    kg_workload *w = NULL;
    kg_error err = {0};
    KG_CHECK_INT(kg_workload_load(KG_SOURCE_DIR "/baselines/gemm", &w, &err), KG_OK);
    if (w)
        test_manifest(w);
    kg_workload_free(w);
    test_contract();
    test_opencl();
    return kg_test_finish("test_library_tier");
}
