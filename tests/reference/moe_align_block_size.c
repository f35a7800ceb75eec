/*
 * The moe_align_block_size CPU reference against cases worked by hand:
 * SGLang's docstring example (in 0-based experts), an expert with no
 * token, SGLang's buffer sizes, ids outside the experts refused; and the
 * routing its fill draws (distinct experts per token, skewed, seeded) and
 * its nudge changes.
 */
#include "kg_test.h"
#include "moe_routing.h"
#include "reference.h"

#include <stdint.h>
#include <stdlib.h>

extern const kg_reference kg_reference_moe_align_block_size;
static const kg_reference *ref = &kg_reference_moe_align_block_size;

static void set_sizes(kg_symtab *sym, int64_t tokens, int64_t topk, int64_t experts, int64_t block)
{
    kg_symtab_init(sym);
    kg_symtab_set(sym, "tokens", tokens);
    kg_symtab_set(sym, "topk", topk);
    kg_symtab_set(sym, "experts", experts);
    kg_symtab_set(sym, "block_size", block);
}

/* Output `output` of the reference as integers (its one unit). */
static void answer(const kg_ref_inputs *in, size_t output, size_t want_len, int32_t *got)
{
    size_t units = 0, len = 0;
    KG_CHECK_INT(ref->layout(in, output, &units, &len), 0);
    KG_CHECK_INT(units, 1);
    KG_CHECK_INT(len, want_len);
    double *out = calloc(len, sizeof *out);
    KG_CHECK_INT(ref->compute(in, output, 0, out), 0);
    for (size_t i = 0; i < len; i++)
        got[i] = (int32_t)out[i];
    free(out);
}

/* The docstring of sglang's moe_align_block_size.py, experts counted from
 * 0: topk_ids [[1,2,3],[0,1,3],[0,2,3],[0,1,2]], block 4, 4 experts. Each
 * expert has 3 pairs, padded with numel = 12 to 4: [3,6,9,12, 0,4,10,12,
 * 1,7,11,12, 2,5,8,12]; 16 in all. SGLang's buffer: numel >= experts + 1,
 * so 12 + 5 * 3 = 27 entries, cdiv(27, 4) = 7 blocks. */
static void test_docstring_example(void)
{
    int32_t ids[12] = {1, 2, 3, 0, 1, 3, 0, 2, 3, 0, 1, 2};
    kg_host_tensor t = {
        .name = "topk_ids", .dtype = KG_DTYPE_I32, .rank = 2, .count = 12, .data = ids};
    kg_symtab sym;
    set_sizes(&sym, 4, 3, 4, 4);
    kg_error err = {0};
    KG_CHECK_INT(ref->derive(&sym, &err), KG_OK);
    int64_t max_padded = 0, max_blocks = 0;
    KG_CHECK(kg_symtab_get(&sym, "max_padded", &max_padded));
    KG_CHECK(kg_symtab_get(&sym, "max_blocks", &max_blocks));
    KG_CHECK_INT(max_padded, 27);
    KG_CHECK_INT(max_blocks, 7);
    kg_ref_inputs in = {.tensors = &t, .tensor_count = 1, .symbols = &sym};
    int32_t sorted[27], experts[7], post_pad[1];
    answer(&in, 0, 27, sorted);
    answer(&in, 1, 7, experts);
    answer(&in, 2, 1, post_pad);
    const int32_t want[16] = {3, 6, 9, 12, 0, 4, 10, 12, 1, 7, 11, 12, 2, 5, 8, 12};
    for (int i = 0; i < 27; i++)
        KG_CHECK_MSG(sorted[i] == (i < 16 ? want[i] : 12), "sorted[%d] = %d", i, sorted[i]);
    const int32_t want_experts[7] = {0, 1, 2, 3, -1, -1, -1};
    for (int b = 0; b < 7; b++)
        KG_CHECK_INT(experts[b], want_experts[b]);
    KG_CHECK_INT(post_pad[0], 16);
    KG_CHECK_INT(ref->layout(&in, 3, &(size_t){0}, &(size_t){0}), -1); /* three outputs */

    ids[4] = 4; /* an expert that does not exist */
    double out[27];
    KG_CHECK_INT(ref->compute(&in, 0, 0, out), -1);
    ids[4] = -1;
    KG_CHECK_INT(ref->compute(&in, 2, 0, out), -1);
}

/* 3 tokens, top-2 of 8 experts, block 2: ids [[5,0],[5,7],[0,5]] route 2
 * pairs to expert 0 (flat 1, 4), none to 1-4 and 6, 3 to expert 5 (0, 2,
 * 5), 1 to expert 7 (3). Padded: 2 + 4 + 2 = 8; numel = 6 < 9, so the
 * buffer is 6 * 2 = 12 entries, 6 blocks: [1,4, 0,2,5,6, 3,6, 6,6,6,6],
 * expert_ids [0, 5, 5, 7, -1, -1]. */
static void test_empty_experts(void)
{
    int32_t ids[6] = {5, 0, 5, 7, 0, 5};
    kg_host_tensor t = {
        .name = "topk_ids", .dtype = KG_DTYPE_I32, .rank = 2, .count = 6, .data = ids};
    kg_symtab sym;
    set_sizes(&sym, 3, 2, 8, 2);
    kg_error err = {0};
    KG_CHECK_INT(ref->derive(&sym, &err), KG_OK);
    kg_ref_inputs in = {.tensors = &t, .tensor_count = 1, .symbols = &sym};
    int32_t sorted[12], experts[6], post_pad[1];
    answer(&in, 0, 12, sorted);
    answer(&in, 1, 6, experts);
    answer(&in, 2, 1, post_pad);
    const int32_t want[12] = {1, 4, 0, 2, 5, 6, 3, 6, 6, 6, 6, 6};
    const int32_t want_experts[6] = {0, 5, 5, 7, -1, -1};
    for (int i = 0; i < 12; i++)
        KG_CHECK_INT(sorted[i], want[i]);
    for (int b = 0; b < 6; b++)
        KG_CHECK_INT(experts[b], want_experts[b]);
    KG_CHECK_INT(post_pad[0], 8);
}

/* SGLang's sizes and the shapes derive refuses. */
static void test_sizes(void)
{
    KG_CHECK_INT(kg_moe_max_padded(12, 4, 4), 27);
    KG_CHECK_INT(kg_moe_max_padded(4, 4, 16), 64); /* numel < experts + 1 */
    KG_CHECK_INT(kg_moe_max_padded(131072, 256, 64), 131072 + 257 * 63);
    KG_CHECK_INT(kg_moe_max_blocks(131072, 256, 64), (131072 + 257 * 63 + 63) / 64);
    KG_CHECK_INT(kg_moe_max_padded(0, 4, 4), -1);
    KG_CHECK_INT(kg_moe_max_padded(INT32_MAX, 4, 4), -1); /* beyond i32 */
    kg_symtab sym;
    kg_error err = {0};
    set_sizes(&sym, 4, 5, 4, 4); /* topk > experts */
    KG_CHECK_INT(ref->derive(&sym, &err), KG_ERR_INVALID);
    set_sizes(&sym, 4, 2, 4, 0);
    KG_CHECK_INT(ref->derive(&sym, &err), KG_ERR_INVALID);
}

/* Whether each token's experts are distinct and within [0, experts). */
static int routing_valid(const int32_t *ids, int64_t tokens, int64_t topk, int64_t experts)
{
    for (int64_t t = 0; t < tokens; t++)
        for (int64_t k = 0; k < topk; k++) {
            int32_t e = ids[t * topk + k];
            if (e < 0 || e >= experts)
                return 0;
            for (int64_t j = 0; j < k; j++)
                if (ids[t * topk + j] == e)
                    return 0;
        }
    return 1;
}

/* fill: the same routing for the same shape, another for another seed,
 * always valid, and skewed: over 4096 tokens' top-8 of 128 experts, the
 * busiest expert gets several times its even share (256) and the quietest
 * well under it. nudge keeps the routing valid and changes it. */
static void test_fill_and_nudge(void)
{
    enum { T = 4096, K = 8, E = 128, N = T * K };
    int32_t *a = malloc(N * sizeof *a), *b = malloc(N * sizeof *b), *c = malloc(N * sizeof *c);
    kg_host_tensor t = {
        .name = "topk_ids", .dtype = KG_DTYPE_I32, .rank = 2, .count = N, .data = a};
    kg_symtab sym;
    set_sizes(&sym, T, K, E, 64);
    KG_CHECK_INT(ref->fill(&sym, 0, &t), 0);
    t.data = b;
    KG_CHECK_INT(ref->fill(&sym, 0, &t), 0);
    t.data = c;
    KG_CHECK_INT(ref->fill(&sym, 9, &t), 0);
    int same_ab = 1, same_ac = 1;
    for (int i = 0; i < N; i++) {
        same_ab &= a[i] == b[i];
        same_ac &= a[i] == c[i];
    }
    KG_CHECK(same_ab);
    KG_CHECK(!same_ac);
    KG_CHECK(routing_valid(a, T, K, E));
    KG_CHECK(routing_valid(c, T, K, E));
    int counts[E] = {0};
    for (int i = 0; i < N; i++)
        counts[a[i]]++;
    int most = 0, least = N;
    for (int e = 0; e < E; e++) {
        most = counts[e] > most ? counts[e] : most;
        least = counts[e] < least ? counts[e] : least;
    }
    KG_CHECK_MSG(most > 3 * (N / E) && least < (N / E) / 2, "busiest %d, quietest %d", most, least);

    t.data = a;
    kg_ref_inputs in = {.tensors = &t, .tensor_count = 1, .symbols = &sym};
    KG_CHECK_INT(ref->nudge(&in, &t, 3), 0);
    int changed = 0;
    for (int i = 0; i < N; i++)
        changed += a[i] != b[i];
    KG_CHECK_MSG(changed >= 1 && changed <= 3, "%d pairs re-routed", changed);
    KG_CHECK(routing_valid(a, T, K, E));
    t.count = N - 1; /* not the shape's size */
    KG_CHECK_INT(ref->fill(&sym, 0, &t), -1);
    free(a);
    free(b);
    free(c);
}

int main(void)
{
    test_docstring_example();
    test_empty_experts();
    test_sizes();
    test_fill_and_nudge();
    return kg_test_finish("test_reference_moe_align_block_size");
}
