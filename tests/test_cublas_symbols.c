/* cuBLAS for the CUDA backend's library tiers (hardware/cuda/
 * cublas_loader.c), without a GPU: libcublas is found (the toolkit's, as a
 * machine without a driver has it), every symbol the CUDA path calls
 * resolves, and the library describes itself (version, real path). A
 * file that is not there is refused with what was tried. Skips (77) where
 * no libcublas is installed. */
#include "cublas_loader.h"
#include "kg_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const kg_backend kg_cuda_backend;

int main(void)
{
    kg_error err = {0};
    kg_cublas lib;
    setenv("KGRADE_CUBLAS", "/nonexistent/libcublas.so.13", 1);
    KG_CHECK_INT(kg_cublas_load(&lib, &err), KG_ERR_UNSUPPORTED);
    KG_CHECK_CONTAINS(err.message, "cuBLAS not found (tried /nonexistent/libcublas.so.13)");
    KG_CHECK(lib.handle == NULL);
    unsetenv("KGRADE_CUBLAS");

    if (kg_cublas_load(&lib, &err) != KG_OK) {
        printf("skipped: %s\n", err.message);
        return KG_TEST_SKIP;
    }
    const void *members[] = {
#define KG_MEMBER_ADDRESS(member, symbol, fallback) (const void *)lib.member,
        KG_CUBLAS_FUNCTIONS(KG_MEMBER_ADDRESS)
#undef KG_MEMBER_ADDRESS
    };
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++)
        KG_CHECK_MSG(members[i] != NULL, "member %zu not resolved", i);
    kg_dynlink_unload(&lib.handle, &lib, sizeof lib);

    /* Through the device API, as `kgrade devices` and a run ask. */
    kg_blas_library about;
    static const kg_blas_dtype dtypes[] = {KG_BLAS_F32, KG_BLAS_F16, KG_BLAS_BF16};
    for (size_t i = 0; i < 3; i++) {
        KG_CHECK_MSG(kg_backend_blas(&kg_cuda_backend, dtypes[i], &about, &err) == KG_OK, "%s: %s",
                     kg_blas_dtype_name(dtypes[i]), err.message);
    }
    KG_CHECK(strcmp(about.name, "cuBLAS") == 0);
    int major = 0;
    KG_CHECK_MSG(sscanf(about.version, "%d.", &major) == 1 && major >= 11, "version '%s'",
                 about.version);
    KG_CHECK_MSG(about.path[0] == '/' && strstr(about.path, "libcublas.so") != NULL, "path '%s'",
                 about.path);
    printf("%s %s (%s)\n", about.name, about.version, about.path);
    return kg_test_finish("test_cublas_symbols");
}
