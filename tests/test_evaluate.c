/* Preparing a kernel set on a real OpenCL device (PoCL here): a shape that
 * does not fit the device's memory, or half of the host's, is refused with
 * the sizes before anything is allocated, and a set whose own scratch does
 * not fit is told apart; one that fits is prepared with two input sets, its
 * output filled exactly as the host computes the fill, run through the
 * procedure of every run on each set, and leaves its guard zones and
 * inputs intact. */
#include "evaluate.h"
#include "measure.h"
#include "kg_test.h"
#include "tensors.h"

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
    const kg_backend *cl = kg_backend_find("opencl");
    kg_error err = {0};
    if (!cl || kg_backend_init(cl, &err) != KG_OK || kg_backend_device_count(cl) < 1) {
        printf("SKIP: no OpenCL device (%s)\n", err.message);
        return KG_TEST_SKIP;
    }
    kg_workload *w = NULL;
    KG_CHECK_INT(kg_workload_load(KG_SOURCE_DIR "/baselines/softmax", &w, &err), KG_OK);
    kg_kernel_entry *naive = NULL;
    KG_CHECK_INT(kg_kernel_entry_load(w, "naive", &naive, &err), KG_OK);
    kg_device_info info;
    kg_device *dev = NULL;
    KG_CHECK_INT(kg_backend_device_info(cl, 0, &info, &err), KG_OK);
    KG_CHECK_INT(kg_dev_open(cl, 0, &dev, &err), KG_OK);
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
    kg_build_cache *cache = kg_build_cache_create(dev, &small);
    kg_shape mid = make_shape(512, 1024);
    uint64_t seeds[2] = {1, 2};
    kg_input_sets inputs;
    KG_CHECK_INT(kg_input_sets_create(w, &mid, seeds, 2, &inputs, &err), KG_OK);
    kg_prepared *p = NULL;
    kg_build_info build;
    KG_CHECK_INT(kg_prepare(cache, w, naive, &mid, NULL, &inputs, &p, &build, &err), KG_ERR_MEMORY);
    KG_CHECK_CONTAINS(err.message, "needs 6.0 MiB of device memory (2 input set(s)");
    KG_CHECK_CONTAINS(err.message, "refused before allocating");
    KG_CHECK(!build.refused_own_request); /* the shape's tensors alone do not fit */
    KG_CHECK(p == NULL);
    kg_build_cache_free(cache);

    /* A set whose own scratch request does not fit is refused as a failure
     * of the set, not of the shape. */
    cache = kg_build_cache_create(dev, &info);
    cJSON *greedy_json = cJSON_Parse(
        "{\"source\": \"naive.kc\", \"language\": \"portable\", \"defines\": {\"BLOCK\": 1},"
        " \"scratch\": [{\"name\": \"hoard\", \"dtype\": \"f32\", \"count\": "
        "\"rows * cols * 1048576\"}],"
        " \"launches\": [{\"entry\": \"softmax_naive\", \"grid\": [\"rows\"], \"block\": [1],"
        " \"args\": [\"x\", \"y\", \"rows\", \"cols\"]}]}");
    kg_json_where where = {.file = "test"};
    kg_kernel_entry *greedy = NULL;
    KG_CHECK_INT(kg_kernel_entry_parse(w, &where, greedy_json, "./greedy", "test",
                                       KG_SOURCE_DIR "/baselines/softmax", &greedy, &err),
                 KG_OK);
    cJSON_Delete(greedy_json);
    if (greedy) {
        KG_CHECK_INT(kg_prepare(cache, w, greedy, &mid, NULL, &inputs, &p, &build, &err),
                     KG_ERR_MEMORY);
        KG_CHECK(build.refused_own_request);
        KG_CHECK_CONTAINS(err.message, "the set asks for scratch hoard");
    }
    kg_kernel_entry_free(greedy);

    /* The real device, two input sets: prepared, run through the full
     * procedure, guards and inputs intact, the output right for the set
     * the run used. */
    KG_CHECK_INT(kg_prepare(cache, w, naive, &mid, NULL, &inputs, &p, &build, &err), KG_OK);
    if (p) {
        KG_CHECK_INT(kg_prepared_set_count(p), 2);
        /* The device's fill matches the host's idea of it, bit for bit. */
        double values[] = {0.001, 0.002, 0.003, 0.004, 0.5};
        kg_fill_pattern fill;
        kg_fill_pool_from_values(&fill, KG_DTYPE_F32, values, 5);
        fill.seed = 0x1234567890abcdefull;
        kg_output_fill *filler = NULL;
        KG_CHECK_INT(kg_output_fill_create(dev, &fill, &filler, &err), KG_OK);
        size_t count = kg_prepared_layout(p)->elements[0];
        kg_buffer *out = kg_prepared_output(p, 0);
        KG_CHECK_INT(count, 512 * 1024);
        float *got = malloc(count * sizeof *got);
        KG_CHECK_INT(kg_output_fill_run(filler, out, count, fill.seed, &err), KG_OK);
        KG_CHECK_INT(kg_prepared_read_output(p, got, &err), KG_OK);
        size_t held = 0;
        for (size_t i = 0; i < count; i++)
            held += kg_fill_holds(&fill, got, i);
        KG_CHECK_INT(held, count);
        /* The shifted fill (the repeat run's) too, and it differs from the
         * first in every element. */
        kg_fill_pattern shifted = fill;
        shifted.seed = kg_fill_seed_shifted(fill.seed);
        KG_CHECK_INT(kg_output_fill_run(filler, out, count, shifted.seed, &err), KG_OK);
        KG_CHECK_INT(kg_prepared_read_output(p, got, &err), KG_OK);
        size_t held_shifted = 0, alike = 0;
        for (size_t i = 0; i < count; i++) {
            held_shifted += kg_fill_holds(&shifted, got, i);
            alike += kg_fill_bits(&fill, i) == kg_fill_bits(&shifted, i);
        }
        KG_CHECK_INT(held_shifted, count);
        KG_CHECK_INT(alike, 0);

        kg_run_context run = {.prepared = p, .inputs = &inputs, .fill = {filler}, .hot = 0};
        for (size_t set = 0; set < 2; set++) {
            kg_run_plan plan = {.input_set = set, .perturb_seed = 77 + set, .fill_seed = 5};
            kg_run_sample sample;
            KG_CHECK_INT(kg_run_once(&run, &plan, &sample, &err), KG_OK);
            KG_CHECK(sample.device_s > 0);
            KG_CHECK_INT(kg_prepared_read_output(p, got, &err), KG_OK);
            kg_check_result r;
            /* The perturbed host copy of this set is what the output is of. */
            KG_CHECK_INT(kg_check_output(w, &mid, inputs.sets[set], got, 1, &r, &err), KG_OK);
            KG_CHECK_MSG(r.passed, "input set %zu: %s", set, r.message);
            KG_CHECK_INT(kg_check_output(w, &mid, inputs.sets[1 - set], got, 1, &r, &err), KG_OK);
            KG_CHECK(!r.passed);
        }
        kg_integrity found;
        KG_CHECK_INT(kg_prepared_verify(p, &inputs, KG_ALL_INPUT_SETS, &found, &err), KG_OK);
        KG_CHECK(found.guarded);
        KG_CHECK_INT(found.guard_bytes_damaged, 0);
        KG_CHECK_INT(found.inputs_modified, 0);
        /* The host copy of set 1 changed: the device's no longer matches. */
        ((float *)inputs.sets[1][0].data)[5] += 1.0f;
        KG_CHECK_INT(kg_prepared_verify(p, &inputs, 0, &found, &err), KG_OK);
        KG_CHECK_INT(found.inputs_modified, 0);
        KG_CHECK_INT(kg_prepared_verify(p, &inputs, 1, &found, &err), KG_OK);
        KG_CHECK_INT(found.inputs_modified, 1);
        KG_CHECK_CONTAINS(found.first_modified, "x (input set 1)");
        free(got);
        kg_output_fill_free(filler);
        kg_prepared_free(p);
    }
    kg_input_sets_free(w, &inputs);
    kg_build_cache_free(cache);
    kg_kernel_entry_free(naive);
    kg_dev_close(dev);
    kg_workload_free(w);
    return kg_test_finish("test_evaluate");
}
