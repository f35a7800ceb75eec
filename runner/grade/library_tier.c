/* What the grade stage needs of a library tier besides the call. */
#include "library_tier.h"
#include "record_keys.h"
#include "sha256.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int kg_library_unavailable(const kg_kernel_entry *e, const kg_backend *backend, kg_error *err)
{
    if (e->language != KG_LANG_LIBRARY || !backend)
        return KG_OK;
    kg_blas_library lib;
    kg_error why = {0};
    if (kg_backend_blas(backend, e->call->dtype, &lib, &why) == KG_OK)
        return KG_OK;
    return kg_error_set(err, KG_ERR_UNAVAILABLE, "library unavailable (%s)", why.message);
}

/* SHA-256 of a file, mapped rather than read: a vendor library may be
 * tens of megabytes. */
static int hash_file(const char *path, char sha256[65], size_t *bytes, kg_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return kg_error_set(err, KG_ERR_UNAVAILABLE, "%s: cannot read the library to hash it",
                            path);
    }
    *bytes = (size_t)st.st_size;
    void *data = *bytes ? mmap(NULL, *bytes, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    close(fd);
    if (*bytes && data == MAP_FAILED)
        return kg_error_set(err, KG_ERR_UNAVAILABLE, "%s: cannot map the library to hash it", path);
    kg_sha256_hex(data ? data : "", *bytes, sha256);
    if (data)
        munmap(data, *bytes);
    return KG_OK;
}

int kg_library_describe(const kg_kernel_entry *e, const kg_backend *backend, cJSON **out,
                        char sha256[65], kg_error *err)
{
    *out = NULL;
    kg_blas_library lib;
    int rc = kg_backend_blas(backend, e->call->dtype, &lib, err);
    size_t bytes = 0;
    if (rc == KG_OK)
        rc = hash_file(lib.path, sha256, &bytes, err);
    if (rc)
        return rc;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, KG_KEY_LIBRARY_NAME, lib.name);
    cJSON_AddStringToObject(o, KG_KEY_LIBRARY_VERSION, lib.version);
    cJSON_AddStringToObject(o, KG_KEY_LIBRARY_PATH, lib.path);
    cJSON_AddStringToObject(o, KG_KEY_LIBRARY_SHA256, sha256);
    cJSON_AddNumberToObject(o, KG_KEY_LIBRARY_BYTES, (double)bytes);
    cJSON_AddStringToObject(o, KG_KEY_LIBRARY_OP, "gemm");
    cJSON_AddStringToObject(o, KG_KEY_LIBRARY_DTYPE, kg_blas_dtype_name(e->call->dtype));
    cJSON_AddStringToObject(o, KG_KEY_LIBRARY_B_LAYOUT, e->call->b_transposed ? "nk" : "kn");
    *out = o;
    return KG_OK;
}

int kg_library_resolve(const kg_workload *w, const kg_kernel_entry *e, const kg_shape *shape,
                       const kg_host_tensor *tensors, kg_blas_gemm *gemm, kg_error *err)
{
    const kg_library_call *call = e->call;
    memset(gemm, 0, sizeof *gemm);
    gemm->dtype = call->dtype;
    gemm->b_transposed = call->b_transposed;
    static const char *const names[3] = {"m", "n", "k"};
    kg_expr *exprs[3] = {call->m, call->n, call->k};
    int64_t v[3];
    for (int d = 0; d < 3; d++) {
        char what[96];
        snprintf(what, sizeof what, "%s: call.%s", e->set, names[d]);
        int rc = kg_eval_for_shape(exprs[d], shape, w->name, what, &v[d], err);
        if (rc)
            return rc;
        if (v[d] < 1)
            return kg_error_set(err, KG_ERR_INVALID, "%s: shape %s: %s is %lld; at least 1",
                                w->name, shape->name, what, (long long)v[d]);
    }
    gemm->m = (uint64_t)v[0];
    gemm->n = (uint64_t)v[1];
    gemm->k = (uint64_t)v[2];
    /* The library reads and writes whole matrices of these sizes: tensors
     * of any other size would be read out of bounds or left part written. */
    const size_t operand[3] = {call->a, call->b, call->c};
    uint64_t want[3];
    int overflow = __builtin_mul_overflow(gemm->m, gemm->k, &want[0]) |
                   __builtin_mul_overflow(gemm->k, gemm->n, &want[1]) |
                   __builtin_mul_overflow(gemm->m, gemm->n, &want[2]);
    static const char *const dims[3] = {"m x k", "k x n", "m x n"};
    for (int i = 0; i < 3; i++)
        if (overflow || tensors[operand[i]].count != want[i])
            return kg_error_set(err, KG_ERR_INVALID,
                                "%s: shape %s: %s: tensor %s has %zu elements; the call's %s "
                                "is %llu",
                                w->name, shape->name, e->set, w->tensors[operand[i]].name,
                                tensors[operand[i]].count, dims[i], (unsigned long long)want[i]);
    return KG_OK;
}
