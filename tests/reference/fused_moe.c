/*
 * The fused_moe CPU reference against cases worked by hand: two tokens
 * routed to two experts, through both of the MoE layer's GEMMs (stage 1,
 * A row per token; stage 2, A row per routed pair with the routed weight
 * applied); the aligned layout never read (garbage there changes nothing,
 * and no A row past the last is touched for a padding slot); refused
 * inputs; and the routing its fill draws and its nudge changes: every
 * index tensor of every layout seed is kg_moe_align of that seed's
 * topk_ids, experts distinct per token and in range.
 */
#include "kg_test.h"
#include "moe_routing.h"
#include "reference.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

extern const kg_reference kg_reference_fused_moe;
static const kg_reference *ref = &kg_reference_fused_moe;

typedef struct moe_sizes {
    int64_t tokens, topk, experts, n, k, block_m, a_per_pair, mul_routed_weight, routing_seed;
} moe_sizes;

/* The shape's symbols, the derived ones by the reference's own derive. */
static int set_symbols(kg_symtab *sym, const moe_sizes *s)
{
    kg_symtab_init(sym);
    kg_symtab_set(sym, "tokens", s->tokens);
    kg_symtab_set(sym, "topk", s->topk);
    kg_symtab_set(sym, "experts", s->experts);
    kg_symtab_set(sym, "n", s->n);
    kg_symtab_set(sym, "k", s->k);
    kg_symtab_set(sym, "block_m", s->block_m);
    kg_symtab_set(sym, "a_per_pair", s->a_per_pair);
    kg_symtab_set(sym, "mul_routed_weight", s->mul_routed_weight);
    kg_symtab_set(sym, "routing_seed", s->routing_seed);
    kg_error err = {0};
    return ref->derive(sym, &err);
}

static int64_t symbol(const kg_symtab *sym, const char *name)
{
    int64_t v = -1;
    kg_symtab_get(sym, name, &v);
    return v;
}

static kg_host_tensor tensor(const char *name, kg_dtype dtype, size_t count, void *data)
{
    kg_host_tensor t = {.name = name, .dtype = dtype, .rank = 1, .count = count, .data = data};
    t.dims[0] = (int64_t)count;
    return t;
}

static void bf16_fill(uint16_t *dst, const double *values, size_t n)
{
    for (size_t i = 0; i < n; i++)
        kg_dtype_store(KG_DTYPE_BF16, dst, i, values[i]);
}

/* Two experts of n = 3 outputs over k = 2 features, w[e][col][h]:
 *   expert 0: rows (1, 0), (0, 1), (1, 1):   x -> (x0, x1, x0 + x1)
 *   expert 1: rows (2, -1), (0.5, 0), (-1, 3): x -> (2x0 - x1, x0/2, -x0 + 3x1)
 * Token 0 is routed to experts (1, 0), token 1 to (0, 1), with weights
 * (0.75, 0.25) and (0.125, 2). */
static const double W_VALUES[12] = {1, 0, 0, 1, 1, 1, 2, -1, 0.5, 0, -1, 3};
static const int32_t IDS[4] = {1, 0, 0, 1};
static const float WEIGHTS[4] = {0.75f, 0.25f, 0.125f, 2.0f};

/* One routed case: a_rows rows of A (plus a NaN row after them, which a
 * padding slot would reach), the aligned layout of IDS for block_m 3, and
 * c[2][2][3] computed unit by unit against `want`. Then the same with the
 * aligned layout overwritten by garbage: the reference reads topk_ids. */
static void check_routed(const char *what, const moe_sizes *s, const double *a_values,
                         size_t a_rows, const double want[4][3])
{
    kg_symtab sym;
    KG_CHECK_INT(set_symbols(&sym, s), KG_OK);
    int64_t max_padded = symbol(&sym, "max_padded"), max_blocks = symbol(&sym, "max_blocks");
    /* 4 pairs, 2 experts, block 3: SGLang's sizes, 4 + 3 * 2 and 4. */
    KG_CHECK_INT(max_padded, 10);
    KG_CHECK_INT(max_blocks, 4);
    uint16_t a[5 * 2], w[12], c[12];
    double with_nan_row[10];
    memcpy(with_nan_row, a_values, a_rows * 2 * sizeof(double));
    with_nan_row[a_rows * 2] = with_nan_row[a_rows * 2 + 1] = NAN;
    bf16_fill(a, with_nan_row, a_rows * 2 + 2);
    bf16_fill(w, W_VALUES, 12);
    int32_t ids[4], sorted[10], blocks[4], post = 0;
    memcpy(ids, IDS, sizeof ids);
    float weights[4];
    memcpy(weights, WEIGHTS, sizeof weights);
    KG_CHECK_INT(kg_moe_align(ids, 4, 2, 3, sorted, 10, blocks, 4, &post), 0);
    /* Expert 0: pairs 1 and 2, then a padding slot (4); expert 1: pairs 0
     * and 3, padding; two unused blocks. */
    const int32_t want_sorted[10] = {1, 2, 4, 0, 3, 4, 4, 4, 4, 4};
    KG_CHECK(memcmp(sorted, want_sorted, sizeof sorted) == 0);
    KG_CHECK_INT(post, 6);
    KG_CHECK(blocks[0] == 0 && blocks[1] == 1 && blocks[2] == -1 && blocks[3] == -1);
    kg_host_tensor ts[] = {
        tensor("a", KG_DTYPE_BF16, a_rows * 2, a),
        tensor("w", KG_DTYPE_BF16, 12, w),
        tensor("topk_weights", KG_DTYPE_F32, 4, weights),
        tensor("topk_ids", KG_DTYPE_I32, 4, ids),
        tensor("sorted_token_ids", KG_DTYPE_I32, 10, sorted),
        tensor("expert_ids", KG_DTYPE_I32, 4, blocks),
        tensor("num_tokens_post_padded", KG_DTYPE_I32, 1, &post),
        tensor("c", KG_DTYPE_BF16, 12, c),
    };
    kg_ref_inputs in = {.tensors = ts, .tensor_count = 8, .symbols = &sym};
    size_t units = 0, len = 0;
    KG_CHECK_INT(ref->layout(&in, 0, &units, &len), 0);
    KG_CHECK_INT(units, 4); /* one unit per routed pair */
    KG_CHECK_INT(len, 3);
    KG_CHECK_INT(ref->layout(&in, 1, &units, &len), -1); /* one output only */
    for (int round = 0; round < 2; round++) {
        for (size_t u = 0; u < 4; u++) {
            double out[3] = {NAN, NAN, NAN};
            KG_CHECK_INT(ref->compute(&in, 0, u, out), 0);
            for (int col = 0; col < 3; col++)
                KG_CHECK_MSG(out[col] == want[u][col], "%s%s: pair %zu column %d: %g, by hand %g",
                             what, round ? " (layout overwritten)" : "", u, col, out[col],
                             want[u][col]);
        }
        /* Every slot a padding slot or pair 0, every block expert 0. */
        for (int i = 0; i < 10; i++)
            sorted[i] = i % 2 ? 4 : 0;
        blocks[0] = blocks[1] = blocks[2] = blocks[3] = 0;
        post = 10;
    }
}

/* Stage 1 (gate/up): A is the hidden states, one row per token, no
 * routed weight. Token 0 = (1, 2), token 1 = (3, -1):
 *   pair 0 (token 0, expert 1): (2 - 2, 0.5, -1 + 6)   = (0, 0.5, 5)
 *   pair 1 (token 0, expert 0): (1, 2, 3)
 *   pair 2 (token 1, expert 0): (3, -1, 2)
 *   pair 3 (token 1, expert 1): (6 + 1, 1.5, -3 - 3)   = (7, 1.5, -6) */
static void stage1_by_hand(void)
{
    const moe_sizes s = {2, 2, 2, 3, 2, 3, 0, 0, 1};
    const double a[4] = {1, 2, 3, -1};
    const double want[4][3] = {{0, 0.5, 5}, {1, 2, 3}, {3, -1, 2}, {7, 1.5, -6}};
    check_routed("stage 1", &s, a, 2, want);
    /* The same with the routed weight applied to stage 1, as SGLang does
     * with apply_router_weight_on_input: each row times its pair's weight. */
    const moe_sizes weighted = {2, 2, 2, 3, 2, 3, 0, 1, 1};
    const double want_weighted[4][3] = {
        {0, 0.375, 3.75}, {0.25, 0.5, 0.75}, {0.375, -0.125, 0.25}, {14, 3, -12}};
    check_routed("stage 1 weighted", &weighted, a, 2, want_weighted);
}

/* Stage 2 (down): A holds one row per routed pair (the activated
 * intermediate), the routed weight applied. Rows (1, 0), (0, 2), (-1, 1),
 * (2, 2):
 *   pair 0: 0.75  * expert 1 (1, 0)  = 0.75  * (2, 0.5, -1) = (1.5, 0.375, -0.75)
 *   pair 1: 0.25  * expert 0 (0, 2)  = 0.25  * (0, 2, 2)    = (0, 0.5, 0.5)
 *   pair 2: 0.125 * expert 0 (-1, 1) = 0.125 * (-1, 1, 0)   = (-0.125, 0.125, 0)
 *   pair 3: 2     * expert 1 (2, 2)  = 2     * (2, 1, 4)    = (4, 2, 8) */
static void stage2_by_hand(void)
{
    const moe_sizes s = {2, 2, 2, 3, 2, 3, 1, 1, 1};
    const double a[8] = {1, 0, 0, 2, -1, 1, 2, 2};
    const double want[4][3] = {{1.5, 0.375, -0.75}, {0, 0.5, 0.5}, {-0.125, 0.125, 0}, {4, 2, 8}};
    check_routed("stage 2", &s, a, 4, want);
}

/* Inputs outside the workload are refused, not read. */
static void refusals(void)
{
    kg_symtab sym;
    moe_sizes s = {2, 2, 2, 3, 2, 3, 0, 0, 1};
    KG_CHECK_INT(set_symbols(&sym, &s), KG_OK);
    uint16_t a[4] = {0}, w[12] = {0}, c[12];
    float weights[4] = {1, 1, 1, 1};
    int32_t ids[4] = {0, 1, 1, 2}; /* expert 2 of 2 */
    kg_host_tensor ts[] = {
        tensor("a", KG_DTYPE_BF16, 4, a),
        tensor("w", KG_DTYPE_BF16, 12, w),
        tensor("topk_weights", KG_DTYPE_F32, 4, weights),
        tensor("topk_ids", KG_DTYPE_I32, 4, ids),
        tensor("c", KG_DTYPE_BF16, 12, c),
    };
    kg_ref_inputs in = {.tensors = ts, .tensor_count = 5, .symbols = &sym};
    double out[3];
    KG_CHECK_INT(ref->compute(&in, 0, 0, out), 0);
    KG_CHECK_INT(ref->compute(&in, 0, 3, out), -1); /* expert 2 */
    ids[3] = -1;
    KG_CHECK_INT(ref->compute(&in, 0, 3, out), -1);
    KG_CHECK_INT(ref->compute(&in, 0, 4, out), -1); /* past the last pair */
    ts[0].count = 8;                                /* A as if per pair: not this shape's */
    KG_CHECK_INT(ref->compute(&in, 0, 0, out), -1);

    const moe_sizes bad[] = {
        {2, 3, 2, 3, 2, 3, 0, 0, 1},  /* topk > experts */
        {2, 2, 2, 3, 2, 0, 0, 0, 1},  /* block_m 0 */
        {2, 2, 2, 3, 2, 3, 2, 0, 1},  /* a_per_pair 2 */
        {2, 2, 2, 3, 2, 3, 0, -1, 1}, /* mul_routed_weight -1 */
        {2, 2, 2, 0, 2, 3, 0, 0, 1},  /* n 0 */
        {0, 2, 2, 3, 2, 3, 0, 0, 1},  /* no token */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        KG_CHECK_MSG(set_symbols(&sym, &bad[i]) != KG_OK, "bad shape %zu accepted", i);
}

/* The four index tensors of one layout seed, each filled on its own. */
typedef struct layout_tensors {
    int32_t *ids, *sorted, *blocks, post;
    kg_host_tensor t[4];
} layout_tensors;

static void layout_alloc(layout_tensors *l, const kg_symtab *sym)
{
    size_t numel = (size_t)(symbol(sym, "tokens") * symbol(sym, "topk"));
    size_t padded = (size_t)symbol(sym, "max_padded"), blocks = (size_t)symbol(sym, "max_blocks");
    l->ids = malloc(numel * sizeof *l->ids);
    l->sorted = malloc(padded * sizeof *l->sorted);
    l->blocks = malloc(blocks * sizeof *l->blocks);
    l->t[0] = tensor("topk_ids", KG_DTYPE_I32, numel, l->ids);
    l->t[1] = tensor("sorted_token_ids", KG_DTYPE_I32, padded, l->sorted);
    l->t[2] = tensor("expert_ids", KG_DTYPE_I32, blocks, l->blocks);
    l->t[3] = tensor("num_tokens_post_padded", KG_DTYPE_I32, 1, &l->post);
}

static void layout_free(layout_tensors *l)
{
    free(l->ids);
    free(l->sorted);
    free(l->blocks);
}

/* The layout's index tensors are kg_moe_align of its topk_ids, every
 * expert in range and distinct within a token. */
static void check_consistent(const char *what, const kg_symtab *sym, const layout_tensors *l)
{
    int64_t tokens = symbol(sym, "tokens"), topk = symbol(sym, "topk");
    int64_t experts = symbol(sym, "experts"), block = symbol(sym, "block_m");
    int64_t padded = symbol(sym, "max_padded"), blocks = symbol(sym, "max_blocks");
    int bad_ids = 0;
    for (int64_t t = 0; t < tokens; t++)
        for (int64_t j = 0; j < topk; j++) {
            int32_t e = l->ids[t * topk + j];
            bad_ids += e < 0 || e >= experts;
            for (int64_t i = 0; i < j; i++)
                bad_ids += l->ids[t * topk + i] == e;
        }
    KG_CHECK_MSG(bad_ids == 0, "%s: %d ids out of range or repeated in a token", what, bad_ids);
    int32_t *sorted = malloc((size_t)padded * sizeof *sorted);
    int32_t *block_ids = malloc((size_t)blocks * sizeof *block_ids), post = -1;
    KG_CHECK_INT(kg_moe_align(l->ids, tokens * topk, experts, block, sorted, padded, block_ids,
                              blocks, &post),
                 0);
    KG_CHECK_MSG(memcmp(sorted, l->sorted, (size_t)padded * sizeof *sorted) == 0,
                 "%s: sorted_token_ids is not the alignment of topk_ids", what);
    KG_CHECK_MSG(memcmp(block_ids, l->blocks, (size_t)blocks * sizeof *block_ids) == 0,
                 "%s: expert_ids is not the alignment of topk_ids", what);
    KG_CHECK_MSG(post == l->post, "%s: num_tokens_post_padded %d, alignment %d", what, l->post,
                 post);
    free(sorted);
    free(block_ids);
}

/* fill, each tensor on its own, for several layout seeds: one consistent
 * routing per seed, the shape's own (seed 0) the same every time, another
 * for another seed. */
static void fill_consistent(const moe_sizes *s, int want_idle_expert)
{
    kg_symtab sym;
    KG_CHECK_INT(set_symbols(&sym, s), KG_OK);
    const uint64_t seeds[] = {0, 1, 7, 12345, 0x9e3779b97f4a7c15ull};
    size_t numel = (size_t)(s->tokens * s->topk);
    int32_t *first = malloc(numel * sizeof *first);
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        layout_tensors l;
        layout_alloc(&l, &sym);
        for (int t = 0; t < 4; t++)
            KG_CHECK_INT(ref->fill(&sym, seeds[i], &l.t[t]), 0);
        char what[96];
        snprintf(what, sizeof what, "t%lld e%lld top%lld bm%lld, layout seed %llu",
                 (long long)s->tokens, (long long)s->experts, (long long)s->topk,
                 (long long)s->block_m, (unsigned long long)seeds[i]);
        check_consistent(what, &sym, &l);
        if (i == 0) {
            memcpy(first, l.ids, numel * sizeof *first);
            /* Experts with no token have no block: fewer used blocks
             * than experts when the routing leaves some idle. */
            int used = 0;
            for (int64_t b = 0; b < symbol(&sym, "max_blocks"); b++)
                used += l.blocks[b] >= 0;
            if (want_idle_expert)
                KG_CHECK_MSG(used < s->experts, "%s: %d blocks for %lld experts", what, used,
                             (long long)s->experts);
        } else if (numel > 4) {
            KG_CHECK_MSG(memcmp(first, l.ids, numel * sizeof *first) != 0,
                         "%s: the same routing as the shape's own", what);
        }
        layout_free(&l);
    }
    layout_tensors again;
    layout_alloc(&again, &sym);
    KG_CHECK_INT(ref->fill(&sym, 0, &again.t[0]), 0);
    KG_CHECK(memcmp(first, again.ids, numel * sizeof *first) == 0);
    again.t[1].count--; /* not the shape's size */
    KG_CHECK_INT(ref->fill(&sym, 0, &again.t[1]), -1);
    kg_host_tensor other = tensor("a", KG_DTYPE_I32, numel, again.ids);
    KG_CHECK_INT(ref->fill(&sym, 0, &other), -1); /* not an index tensor */
    layout_free(&again);
    free(first);
}

/* nudge: a few pairs moved, the layout realigned to match, all sizes kept;
 * with topk = experts (no expert left to move to) slots are swapped. */
static void nudge_consistent(const moe_sizes *s)
{
    kg_symtab sym;
    KG_CHECK_INT(set_symbols(&sym, s), KG_OK);
    layout_tensors l;
    layout_alloc(&l, &sym);
    for (int t = 0; t < 4; t++)
        KG_CHECK_INT(ref->fill(&sym, 0, &l.t[t]), 0);
    size_t numel = (size_t)(s->tokens * s->topk);
    int32_t *before = malloc(numel * sizeof *before);
    kg_ref_inputs in = {.tensors = l.t, .tensor_count = 4, .symbols = &sym};
    int nudges_that_changed = 0;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        memcpy(before, l.ids, numel * sizeof *before);
        KG_CHECK_INT(ref->nudge(&in, l.t, seed), 0);
        size_t changed = 0;
        for (size_t i = 0; i < numel; i++)
            changed += before[i] != l.ids[i];
        /* Three moves of one slot each (a swap moves two); a later move
         * may undo an earlier one. */
        KG_CHECK_MSG(changed <= 6, "seed %llu: %zu pairs changed", (unsigned long long)seed,
                     changed);
        nudges_that_changed += changed > 0;
        check_consistent("nudged", &sym, &l);
    }
    /* One expert: nowhere to move a pair, so nothing changes. */
    if (s->experts == 1)
        KG_CHECK_INT(nudges_that_changed, 0);
    else
        KG_CHECK_MSG(nudges_that_changed >= 35, "%d of 40 nudges changed the routing",
                     nudges_that_changed);
    l.t[2].count--; /* a tensor of the wrong size: refused */
    KG_CHECK_INT(ref->nudge(&in, l.t, 1), -1);
    free(before);
    layout_free(&l);
}

int main(void)
{
    stage1_by_hand();
    stage2_by_hand();
    refusals();
    /* Fewer pairs than experts (idle experts guaranteed); block sizes that
     * divide no count; one block per expert at most; topk = experts. */
    const moe_sizes shapes[] = {
        {3, 2, 8, 5, 5, 4, 0, 0, 1},      {17, 3, 5, 5, 5, 8, 1, 1, 3},
        {64, 8, 128, 5, 5, 16, 0, 0, 11}, {512, 2, 8, 5, 5, 64, 1, 1, 12},
        {4, 4, 4, 5, 5, 3, 0, 1, 1},      {1, 1, 1, 5, 5, 1, 0, 0, 1},
        {40, 4, 16, 5, 5, 64, 1, 1, 4},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        fill_consistent(&shapes[i], i == 0 || i == 2);
        nudge_consistent(&shapes[i]);
    }
    return kg_test_finish("test_reference_fused_moe");
}
