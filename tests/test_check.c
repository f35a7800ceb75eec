/* The correctness checker against the real softmax workload and reference:
 * an exact output passes; one element outside tolerance, a NaN where the
 * reference is finite, or an untouched (poisoned) output fail; a large
 * output is checked on a sample of rows. */
#include "check.h"
#include "kg_test.h"
#include "tensors.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Fills the output with the exact softmax of x, in float. */
static void exact_softmax(kg_host_tensor *ts, int64_t rows, int64_t cols)
{
    const float *x = ts[0].data;
    float *y = ts[1].data;
    for (int64_t r = 0; r < rows; r++) {
        double mx = -INFINITY, sum = 0;
        for (int64_t c = 0; c < cols; c++)
            mx = fmax(mx, x[r * cols + c]);
        for (int64_t c = 0; c < cols; c++)
            sum += exp(x[r * cols + c] - mx);
        for (int64_t c = 0; c < cols; c++)
            y[r * cols + c] = (float)(exp(x[r * cols + c] - mx) / sum);
    }
}

static kg_shape make_shape(int64_t rows, int64_t cols)
{
    kg_shape s = {.name = "test"};
    kg_symtab_init(&s.symbols);
    kg_symtab_set(&s.symbols, "rows", rows);
    kg_symtab_set(&s.symbols, "cols", cols);
    return s;
}

/* Two inouts (fused_add_rmsnorm): each output is checked against its own
 * answer in one block of bytes, with its own tolerance; a wrong element is
 * named with its output; an inout has no fill, so nothing in it is ever
 * counted as unwritten. */
static void two_outputs(void)
{
    kg_workload *w = NULL;
    kg_error err = {0};
    KG_CHECK_MSG(kg_workload_load(KG_SOURCE_DIR "/baselines/fused_add_rmsnorm", &w, &err) == KG_OK,
                 "%s", err.message);
    if (!w)
        return;
    KG_CHECK_INT(w->output_count, 2);
    KG_CHECK(w->tensors[w->outputs[0]].is_input && w->tensors[w->outputs[1]].is_input);
    /* The residual's own tolerance; x's is its dtype's (bf16). */
    KG_CHECK_NEAR(kg_workload_tolerance(w, w->outputs[1])->rtol, 4e-3, 0);
    KG_CHECK_NEAR(kg_workload_tolerance(w, w->outputs[0])->rtol, 1e-2, 0);
    kg_shape shape = make_shape(3, 40);
    kg_host_tensor *ts;
    KG_CHECK_INT(kg_tensors_create(w, &shape, 9, &ts, &err), KG_OK);
    kg_answer a;
    KG_CHECK_INT(kg_answer_compute(w, &shape, ts, 1, 0, &a, &err), KG_OK);
    KG_CHECK_INT(a.layout.count, 2);
    KG_CHECK_INT(a.layout.offset[1], 3 * 40 * 2); /* bf16 x, then the residual */
    KG_CHECK_INT(a.layout.bytes, 2 * 3 * 40 * 2);
    unsigned char *got = malloc(a.layout.bytes);
    for (size_t k = 0; k < 2; k++)
        for (size_t i = 0; i < 120; i++) /* the answers, rounded to bf16 */
            kg_dtype_store(KG_DTYPE_BF16, got + a.layout.offset[k], i, a.part[k].want[i]);
    /* The residual is x + residual as drawn: check one element by hand. */
    KG_CHECK_NEAR(a.part[1].want[7], kg_ref_at(&ts[0], 7) + kg_ref_at(&ts[1], 7), 0);
    kg_check_result r;
    kg_check_answer(w, &a, got, NULL, &r);
    KG_CHECK_MSG(r.passed, "%s", r.message);
    KG_CHECK_INT(r.checked, 240);
    /* The residual left as it was drawn (a kernel that never stored it). */
    memcpy(got + a.layout.offset[1], ts[1].data, 120 * 2);
    kg_check_answer(w, &a, got, NULL, &r);
    KG_CHECK(!r.passed);
    KG_CHECK_CONTAINS(r.message, "of output residual");
    KG_CHECK(strcmp(r.first_bad_output, "residual") == 0);
    static kg_output_fills none = {.count = 2};
    kg_output_at at;
    KG_CHECK_INT(kg_check_never_written(&a.layout, got, &none, got, &none, &at), 0);
    free(got);
    kg_answer_free(&a);
    kg_tensors_free(ts, w->tensor_count);
    kg_workload_free(w);
}

int main(void)
{
    kg_workload *w = NULL;
    kg_error err = {0};
    if (kg_workload_load(KG_SOURCE_DIR "/baselines/softmax", &w, &err) != KG_OK) {
        fprintf(stderr, "cannot load softmax: %s\n", err.message);
        return 1;
    }
    KG_CHECK_INT(kg_workload_tensor_index(w, "x"), 0);
    KG_CHECK_INT(w->outputs[0], 1);

    kg_shape shape = make_shape(5, 37);
    kg_host_tensor *ts;
    KG_CHECK_INT(kg_tensors_create(w, &shape, 7, &ts, &err), KG_OK);
    exact_softmax(ts, 5, 37);
    float *y = ts[1].data;
    kg_check_result r;
    KG_CHECK_INT(kg_check_output(w, &shape, ts, y, 1, &r, &err), KG_OK);
    KG_CHECK(r.passed);
    KG_CHECK_INT(r.checked, 5 * 37);
    KG_CHECK(!r.sampled);

    /* One element off by 1% of the row's largest value fails and is named. */
    float *bad = malloc(ts[1].count * sizeof *bad);
    memcpy(bad, y, ts[1].count * sizeof *bad);
    bad[77] = bad[77] * 1.01f + 1e-3f;
    KG_CHECK_INT(kg_check_output(w, &shape, ts, bad, 1, &r, &err), KG_OK);
    KG_CHECK(!r.passed);
    KG_CHECK_INT(r.mismatches, 1);
    KG_CHECK_INT(r.first_bad_index, 77);
    KG_CHECK_CONTAINS(r.message, "index 77");

    /* A NaN where the reference is finite fails. */
    memcpy(bad, y, ts[1].count * sizeof *bad);
    bad[3] = NAN;
    kg_check_output(w, &shape, ts, bad, 1, &r, &err);
    KG_CHECK(!r.passed);
    KG_CHECK_INT(r.first_bad_index, 3);

    /* An output left as the NaN poison fails everywhere. */
    for (size_t i = 0; i < ts[1].count; i++)
        bad[i] = NAN;
    kg_check_output(w, &shape, ts, bad, 1, &r, &err);
    KG_CHECK_INT(r.mismatches, ts[1].count);
    free(bad);
    kg_tensors_free(ts, w->tensor_count);

    /* Same seed, same inputs; another seed, other inputs. */
    kg_host_tensor *a, *b, *c;
    kg_tensors_create(w, &shape, 11, &a, &err);
    kg_tensors_create(w, &shape, 11, &b, &err);
    kg_tensors_create(w, &shape, 12, &c, &err);
    KG_CHECK(memcmp(a[0].data, b[0].data, kg_tensor_bytes(&a[0])) == 0);
    KG_CHECK(memcmp(a[0].data, c[0].data, kg_tensor_bytes(&a[0])) != 0);
    kg_tensors_free(a, 2);
    kg_tensors_free(b, 2);
    kg_tensors_free(c, 2);

    /* Above 2^20 elements only a sample of rows is checked, and an error in
     * every row is still found. */
    kg_shape big = make_shape(2048, 1024);
    KG_CHECK_INT(kg_tensors_create(w, &big, 3, &ts, &err), KG_OK);
    exact_softmax(ts, 2048, 1024);
    KG_CHECK_INT(kg_check_output(w, &big, ts, ts[1].data, 5, &r, &err), KG_OK);
    KG_CHECK(r.passed);
    KG_CHECK(r.sampled);
    KG_CHECK_INT(r.checked, KG_CHECK_SAMPLE_UNITS * 1024);
    float *yb = ts[1].data;
    for (int64_t row = 0; row < 2048; row++)
        yb[row * 1024 + 5] += 0.5f;
    kg_check_output(w, &big, ts, yb, 5, &r, &err);
    KG_CHECK(!r.passed);
    KG_CHECK_INT(r.mismatches, KG_CHECK_SAMPLE_UNITS);
    kg_tensors_free(ts, w->tensor_count);

    /* Fills: an element still holding what the output was filled with is
     * counted as never written; in two runs with different fills, an
     * element both left alone is never written (not a disagreement), and a
     * written one cannot hold both fills. */
    KG_CHECK_INT(kg_tensors_create(w, &shape, 7, &ts, &err), KG_OK);
    exact_softmax(ts, 5, 37);
    size_t n = ts[1].count;
    float *first = malloc(n * sizeof *first), *second = malloc(n * sizeof *second);
    double pool_values[] = {0.01, 0.02, 0.03, 0.5, 0.25, 0.125};
    static kg_output_fills fills_a = {.count = 1}, fills_b = {.count = 1};
    kg_fill_pattern *fill_a = &fills_a.fill[0], *fill_b = &fills_b.fill[0];
    kg_fill_pool_from_values(fill_a, KG_DTYPE_F32, pool_values, 6);
    *fill_b = *fill_a;
    fill_a->seed = 11;
    fill_b->seed = 12;
    memcpy(first, ts[1].data, n * sizeof *first);
    memcpy(second, ts[1].data, n * sizeof *second);
    size_t alike = 0;
    for (size_t i = 0; i < 37; i++) { /* row 0 never written */
        uint32_t bits_a = kg_fill_bits(fill_a, i), bits_b = kg_fill_bits(fill_b, i);
        memcpy(&first[i], &bits_a, 4);
        memcpy(&second[i], &bits_b, 4);
        alike += bits_a == bits_b;
    }
    KG_CHECK(kg_fill_holds(fill_a, first, 3) && !kg_fill_holds(fill_a, first, 40));
    KG_CHECK(alike < 37); /* the two fills differ almost everywhere */
    kg_answer answer;
    KG_CHECK_INT(kg_answer_compute(w, &shape, ts, 1, 0, &answer, &err), KG_OK);
    kg_check_answer(w, &answer, first, &fills_a, &r);
    KG_CHECK_INT(r.mismatches, 37);
    KG_CHECK_INT(r.unwritten, 37);
    KG_CHECK_CONTAINS(r.message, "37 of them still holding the value the output was filled with");
    kg_check_answer(w, &answer, first, NULL, &r); /* no fill known: only wrong */
    KG_CHECK_INT(r.unwritten, 0);
    kg_output_at at;
    const kg_output_layout *layout = &answer.layout;
    KG_CHECK_INT(layout->bytes, n * sizeof(float));
    KG_CHECK_INT(kg_check_never_written(layout, first, &fills_a, second, &fills_b, &at),
                 37 - alike);
    KG_CHECK_INT(kg_check_agreement(w, layout, first, &fills_a, second, &fills_b, &at), 0);
    /* A changed element disagrees; a computed NaN in both runs agrees. */
    first[40] = NAN;
    second[40] = NAN;
    second[41] *= 1.01f;
    KG_CHECK_INT(kg_check_agreement(w, layout, first, &fills_a, second, &fills_b, &at), 1);
    KG_CHECK_INT(at.index, 41);
    /* Without fills, the untouched row is a disagreement. */
    KG_CHECK_INT(kg_check_agreement(w, layout, first, NULL, second, NULL, &at), 1 + 37 - alike);
    /* With the repeat's fill shifted one pool entry on, every unwritten
     * element shows, even with a tiny pool whose values repeat: softmax
     * over one column is all ones. */
    double ones[] = {1, 1, 1, 1, 1};
    kg_fill_pattern *tiny_a = fill_a, *tiny_b = fill_b;
    kg_fill_pool_from_values(tiny_a, KG_DTYPE_F32, ones, 5);
    tiny_a->seed = 0x0123456789abcdefull;
    *tiny_b = *tiny_a;
    tiny_b->seed = kg_fill_seed_shifted(tiny_a->seed);
    float run_a[5], run_b[5];
    for (size_t i = 0; i < 5; i++) {
        uint32_t bits_a = kg_fill_bits(tiny_a, i), bits_b = kg_fill_bits(tiny_b, i);
        KG_CHECK(bits_a != bits_b);
        memcpy(&run_a[i], &bits_a, 4);
        memcpy(&run_b[i], &bits_b, 4);
        KG_CHECK(fabsf(run_a[i] - 1.0f) > 0.005f && fabsf(run_a[i] - 1.0f) < 0.035f);
    }
    run_a[0] = run_b[0] = 1.0f; /* element 0 written (the answer), 1..4 not */
    kg_output_layout five = *layout;
    five.elements[0] = 5;
    KG_CHECK_INT(kg_check_never_written(&five, run_a, &fills_a, run_b, &fills_b, &at), 4);
    KG_CHECK_INT(at.index, 1);
    kg_answer_free(&answer);
    free(first);
    free(second);
    kg_tensors_free(ts, w->tensor_count);

    /* Degenerate references: softmax's smoke shapes are not (zeros fail
     * everywhere; the one-column shape is constant, the others are not). */
    KG_CHECK_INT(kg_check_reference_not_degenerate(w, 1, &err), KG_OK);
    /* With a tolerance wider than every output, zeros would pass. */
    kg_tolerance saved = w->tolerance[KG_DTYPE_F32];
    w->tolerance[KG_DTYPE_F32].atol = 2.0;
    KG_CHECK_INT(kg_check_reference_not_degenerate(w, 1, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "an all-zeros output would pass");
    w->tolerance[KG_DTYPE_F32] = saved;
    /* Heavy-tailed inputs: same seed, same values; larger magnitudes. */
    kg_shape wide = make_shape(64, 1000);
    kg_host_tensor *normal, *heavy;
    KG_CHECK_INT(kg_tensors_create(w, &wide, 9, &normal, &err), KG_OK);
    KG_CHECK_INT(kg_tensors_create(w, &wide, 9, &heavy, &err), KG_OK);
    kg_tensors_draw(w, &wide, heavy, KG_DRAW_HEAVY_TAILED, 0, 9);
    float max_normal = 0, max_heavy = 0;
    for (size_t i = 0; i < normal[0].count; i++) {
        max_normal = fmaxf(max_normal, fabsf(((float *)normal[0].data)[i]));
        max_heavy = fmaxf(max_heavy, fabsf(((float *)heavy[0].data)[i]));
    }
    KG_CHECK_MSG(max_normal < 6 && max_heavy > 50, "max |x|: normal %g, heavy-tailed %g",
                 max_normal, max_heavy);
    kg_tensors_free(normal, w->tensor_count);
    kg_tensors_free(heavy, w->tensor_count);

    kg_workload_free(w);
    two_outputs();
    /* Integer answers (expert ids) are moved by 1 or 2, not by a few per
     * cent that truncation would undo: no pool value is the answer it was
     * made from. */
    double ids[] = {0, 1, 2, 3, 5, 7};
    kg_fill_pattern int_pool;
    kg_fill_pool_from_values(&int_pool, KG_DTYPE_I32, ids, 6);
    KG_CHECK_INT(int_pool.pool_count, 6);
    for (size_t i = 0; i < int_pool.pool_count; i++)
        KG_CHECK_MSG((int32_t)int_pool.pool[i] != (int32_t)ids[i], "pool[%zu] = answer %g", i,
                     ids[i]);
    double sevens[] = {7, 7, 7, 7, 7};
    kg_fill_pool_from_values(&int_pool, KG_DTYPE_I32, sevens, 5);
    for (size_t i = 0; i < int_pool.pool_count; i++)
        KG_CHECK_MSG((int32_t)int_pool.pool[i] != 7, "pool[%zu] = the only answer", i);
    return kg_test_finish("test_check");
}
