/* Preparing a kernel set on a real OpenCL device (PoCL here): a shape that
 * does not fit the device's memory, or half of the host's, is refused with
 * the sizes before anything is allocated; one that fits is prepared, runs,
 * and leaves its guard zones and inputs intact. */
#include "evaluate.h"
#include "kg_test.h"
#include "tensors.h"

extern const kg_backend kg_opencl_backend;

static kg_shape make_shape(int64_t rows, int64_t cols)
{
    kg_shape s = {.name = "test"};
    kg_symtab_init(&s.symbols);
    kg_symtab_set(&s.symbols, "rows", rows);
    kg_symtab_set(&s.symbols, "cols", cols);
    return s;
}

int main(void)
{
    const kg_backend *cl = &kg_opencl_backend;
    kg_error err = {0};
    if (cl->init(&err) != KG_OK || cl->device_count() < 1) {
        printf("SKIP: no OpenCL device (%s)\n", err.message);
        return KG_TEST_SKIP;
    }
    kg_workload *w = NULL;
    KG_CHECK_INT(kg_workload_load(KG_SOURCE_DIR "/baselines/softmax", &w, &err), KG_OK);
    kg_kernel_entry *naive = NULL;
    KG_CHECK_INT(kg_kernel_entry_load(w, "naive", &naive, &err), KG_OK);
    kg_device_info info;
    kg_device *dev = NULL;
    KG_CHECK_INT(cl->device_info(0, &info, &err), KG_OK);
    KG_CHECK_INT(cl->device_open(0, &dev, &err), KG_OK);
    if (!w || !naive || !dev)
        return kg_test_finish("test_evaluate");

    /* Host: 2^20 x 2^20 floats (4 TiB per tensor) is refused up front. */
    kg_shape huge = make_shape(1 << 20, 1 << 20);
    kg_host_tensor *ts = NULL;
    KG_CHECK_INT(kg_tensors_create(w, &huge, 1, &ts, &err), KG_ERR_MEMORY);
    KG_CHECK_CONTAINS(err.message, "of host memory for its tensors");
    KG_CHECK_CONTAINS(err.message, "refused before allocating");
    KG_CHECK(ts == NULL);

    /* Device: pretend it has 1 MiB; 512 x 1024 floats in and out is 4 MiB. */
    kg_device_info small = info;
    small.global_mem_bytes = 1 << 20;
    kg_build_cache *cache = kg_build_cache_create(cl, dev, &small);
    kg_shape mid = make_shape(512, 1024);
    KG_CHECK_INT(kg_tensors_create(w, &mid, 1, &ts, &err), KG_OK);
    kg_prepared *p = NULL;
    kg_build_info build;
    KG_CHECK_INT(kg_prepare(cache, w, naive, &mid, NULL, ts, &p, &build, &err), KG_ERR_MEMORY);
    KG_CHECK_CONTAINS(err.message, "needs 4.0 MiB of device memory");
    KG_CHECK_CONTAINS(err.message, "refused before allocating");
    KG_CHECK(p == NULL);
    kg_build_cache_free(cache);

    /* The real device: prepared, run, guards and inputs intact. */
    cache = kg_build_cache_create(cl, dev, &info);
    KG_CHECK_INT(kg_prepare(cache, w, naive, &mid, NULL, ts, &p, &build, &err), KG_OK);
    if (p) {
        KG_CHECK_INT(kg_prepared_poison_output(p, KG_POISON_NAN, &err), KG_OK);
        KG_CHECK_INT(kg_prepared_enqueue(p, &err), KG_OK);
        KG_CHECK_INT(cl->synchronize(dev, &err), KG_OK);
        kg_integrity found;
        KG_CHECK_INT(kg_prepared_verify(p, ts, &found, &err), KG_OK);
        KG_CHECK(found.guarded);
        KG_CHECK_INT(found.guard_bytes_damaged, 0);
        KG_CHECK_INT(found.inputs_modified, 0);
        /* The host copy changed: the device's input no longer matches it. */
        ((float *)ts[0].data)[5] += 1.0f;
        KG_CHECK_INT(kg_prepared_verify(p, ts, &found, &err), KG_OK);
        KG_CHECK_INT(found.inputs_modified, 1);
        KG_CHECK(strcmp(found.first_modified, "x") == 0);
        kg_prepared_free(p);
    }
    kg_build_cache_free(cache);
    kg_tensors_free(ts, w->tensor_count);
    kg_kernel_entry_free(naive);
    cl->device_close(dev);
    kg_workload_free(w);
    return kg_test_finish("test_evaluate");
}
