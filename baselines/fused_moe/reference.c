/*
 * CPU reference for fused_moe (SGLang's fused_moe_kernel, bf16, no
 * quantisation), in double precision from the values as stored; semantics
 * in baselines/fused_moe/README.md.
 *
 * One unit is one routed pair (token t, slot j), unit t*topk + j: its row
 * c[t][j][0 .. n) = weight * a[row] . w[e][col] for every col, where
 * e = topk_ids[t][j], row = t (a_per_pair 0, stage 1) or t*topk + j
 * (a_per_pair 1, stage 2), and weight = topk_weights[t][j] when
 * mul_routed_weight is 1, else 1. The reference reads the routing from
 * topk_ids, never from sorted_token_ids / expert_ids: a kernel that walks
 * the aligned layout wrongly (a row twice, a row missed, a padding slot
 * taken for a token, the wrong expert for a block) disagrees with it.
 *
 * The routing is part of the shape: kg_moe_draw_routing from a seed made
 * of the shape's sizes and `routing_seed` (layout seed 0), or from the
 * layout seed (any other, the fresh recheck); the index tensors are
 * kg_moe_align of it, drawn again for each tensor so that every tensor of
 * one seed agrees with the others.
 */
#include "moe_routing.h"
#include "reference.h"
#include "rng.h"

#include <stdlib.h>
#include <string.h>

/* Sizes beyond any model, well inside int32 indices and host memory. */
#define MAX_EXPERTS (1 << 16)
#define MAX_TOPK    64
#define MAX_FEATURE (1 << 20)

typedef struct moe_shape {
    int64_t tokens, topk, experts, n, k, block_m, a_per_pair, mul_routed_weight, routing_seed;
    int64_t numel; /* routed pairs, tokens * topk */
    int64_t max_padded, max_blocks;
} moe_shape;

static int get(const kg_symtab *t, const char *name, int64_t *v)
{
    return kg_symtab_get(t, name, v) ? 0 : -1;
}

static int check_shape(const moe_shape *s, kg_error *err)
{
    if (s->tokens < 1 || s->experts < 1 || s->experts > MAX_EXPERTS || s->topk < 1 ||
        s->topk > MAX_TOPK || s->topk > s->experts)
        return kg_error_set(err, KG_ERR_INVALID,
                            "tokens = %lld, topk = %lld, experts = %lld: need tokens >= 1 and "
                            "1 <= topk <= min(experts, %d), experts <= %d",
                            (long long)s->tokens, (long long)s->topk, (long long)s->experts,
                            MAX_TOPK, MAX_EXPERTS);
    if (s->n < 1 || s->n > MAX_FEATURE || s->k < 1 || s->k > MAX_FEATURE)
        return kg_error_set(err, KG_ERR_INVALID, "n = %lld and k = %lld must be in [1, %d]",
                            (long long)s->n, (long long)s->k, MAX_FEATURE);
    if ((s->a_per_pair != 0 && s->a_per_pair != 1) ||
        (s->mul_routed_weight != 0 && s->mul_routed_weight != 1))
        return kg_error_set(err, KG_ERR_INVALID, "a_per_pair and mul_routed_weight must be 0 or 1");
    if (s->block_m < 1 || s->max_padded < 1)
        return kg_error_set(err, KG_ERR_INVALID,
                            "block_m = %lld with %lld routed pairs: the aligned layout does not "
                            "fit int32 indices",
                            (long long)s->block_m, (long long)s->numel);
    return KG_OK;
}

/* The shape's given symbols and the aligned buffers' sizes they imply. */
static int read_shape(const kg_symtab *t, moe_shape *s, kg_error *err)
{
    if (get(t, "tokens", &s->tokens) || get(t, "topk", &s->topk) ||
        get(t, "experts", &s->experts) || get(t, "n", &s->n) || get(t, "k", &s->k) ||
        get(t, "block_m", &s->block_m) || get(t, "a_per_pair", &s->a_per_pair) ||
        get(t, "mul_routed_weight", &s->mul_routed_weight) ||
        get(t, "routing_seed", &s->routing_seed))
        return kg_error_set(err, KG_ERR_INVALID,
                            "needs tokens, topk, experts, n, k, block_m, a_per_pair, "
                            "mul_routed_weight and routing_seed");
    s->numel =
        s->tokens > 0 && s->topk > 0 && s->tokens <= INT32_MAX / s->topk ? s->tokens * s->topk : -1;
    s->max_padded = kg_moe_max_padded(s->numel, s->experts, s->block_m);
    s->max_blocks = kg_moe_max_blocks(s->numel, s->experts, s->block_m);
    return check_shape(s, err);
}

/* The routing's seed: the shape's own from its sizes (so the stage-1 and
 * stage-2 shapes of one batch route alike), another for each layout seed. */
static uint64_t routing_seed(const moe_shape *s, uint64_t layout_seed)
{
    const int64_t parts[] = {s->tokens, s->topk, s->experts, s->routing_seed};
    return kg_ref_layout_seed(layout_seed, 0x6d6f6572ull, 0xcbf29ce484222325ull, parts, 4);
}

/* topk_ids of a layout into ids[numel]. 0 or -1. */
static int draw_ids(const moe_shape *s, uint64_t layout_seed, int32_t *ids)
{
    kg_rng rng;
    kg_rng_seed(&rng, routing_seed(s, layout_seed));
    return kg_moe_draw_routing(ids, s->tokens, s->topk, s->experts, &rng);
}

static int derive(kg_symtab *t, kg_error *err)
{
    moe_shape s;
    int rc = read_shape(t, &s, err);
    if (rc)
        return rc;
    /* The experts the shape's own routing reaches, for the minimum weight
     * traffic (`bytes`): the timed runs use that routing. */
    int32_t *ids = malloc((size_t)s.numel * sizeof *ids);
    char *used = calloc((size_t)s.experts, 1);
    int64_t experts_used = 0;
    if (!ids || !used || draw_ids(&s, 0, ids)) {
        free(ids);
        free(used);
        return kg_error_set(err, KG_ERR_MEMORY, "cannot draw the routing");
    }
    for (int64_t i = 0; i < s.numel; i++)
        if (!used[ids[i]]) {
            used[ids[i]] = 1;
            experts_used++;
        }
    free(ids);
    free(used);
    if (kg_symtab_set(t, "max_padded", s.max_padded) ||
        kg_symtab_set(t, "max_blocks", s.max_blocks) ||
        kg_symtab_set(t, "experts_used", experts_used))
        return kg_error_set(err, KG_ERR_INVALID, "too many symbols");
    return KG_OK;
}

/* The aligned layout of a layout's routing: ids[numel], sorted[max_padded],
 * blocks[max_blocks] and the padded total, each buffer the caller's. */
typedef struct aligned {
    int32_t *ids, *sorted, *blocks;
    int32_t post_pad;
} aligned;

static void aligned_free(aligned *al)
{
    free(al->ids);
    free(al->sorted);
    free(al->blocks);
}

static int align_layout(const moe_shape *s, uint64_t layout_seed, aligned *al)
{
    al->ids = malloc((size_t)s->numel * sizeof *al->ids);
    al->sorted = malloc((size_t)s->max_padded * sizeof *al->sorted);
    al->blocks = malloc((size_t)s->max_blocks * sizeof *al->blocks);
    if (!al->ids || !al->sorted || !al->blocks || draw_ids(s, layout_seed, al->ids) ||
        kg_moe_align(al->ids, s->numel, s->experts, s->block_m, al->sorted, s->max_padded,
                     al->blocks, s->max_blocks, &al->post_pad)) {
        aligned_free(al);
        return -1;
    }
    return 0;
}

static int copy_into(kg_host_tensor *t, const int32_t *values, int64_t count)
{
    if (t->dtype != KG_DTYPE_I32 || t->count != (size_t)count)
        return -1;
    memcpy(t->data, values, (size_t)count * sizeof *values);
    return 0;
}

static int fill(const kg_symtab *symbols, uint64_t layout_seed, kg_host_tensor *t)
{
    moe_shape s;
    aligned al;
    if (read_shape(symbols, &s, NULL) || align_layout(&s, layout_seed, &al))
        return -1;
    int rc = -1;
    if (strcmp(t->name, "topk_ids") == 0)
        rc = copy_into(t, al.ids, s.numel);
    else if (strcmp(t->name, "sorted_token_ids") == 0)
        rc = copy_into(t, al.sorted, s.max_padded);
    else if (strcmp(t->name, "expert_ids") == 0)
        rc = copy_into(t, al.blocks, s.max_blocks);
    else if (strcmp(t->name, "num_tokens_post_padded") == 0)
        rc = copy_into(t, &al.post_pad, 1);
    aligned_free(&al);
    return rc;
}

/* Three routed pairs moved to other experts, and the aligned layout
 * recomputed from the result, so the index tensors stay one consistent
 * routing; every size (max_padded, max_blocks) is unchanged. */
static int nudge(const kg_ref_inputs *in, kg_host_tensor *tensors, uint64_t seed)
{
    moe_shape s;
    if (read_shape(in->symbols, &s, NULL))
        return -1;
    kg_host_tensor *ids = kg_ref_index_tensor(in, tensors, "topk_ids", (size_t)s.numel);
    kg_host_tensor *sorted =
        kg_ref_index_tensor(in, tensors, "sorted_token_ids", (size_t)s.max_padded);
    kg_host_tensor *blocks = kg_ref_index_tensor(in, tensors, "expert_ids", (size_t)s.max_blocks);
    kg_host_tensor *post = kg_ref_index_tensor(in, tensors, "num_tokens_post_padded", 1);
    if (!ids || !sorted || !blocks || !post)
        return -1;
    kg_rng rng;
    kg_rng_seed(&rng, seed ^ 0x3e7a11ull);
    int32_t *routing = ids->data;
    for (int c = 0; c < 3; c++) {
        int64_t t = (int64_t)kg_rng_below(&rng, (uint64_t)s.tokens);
        kg_moe_reroute(routing + t * s.topk, s.topk, s.experts, &rng);
    }
    return kg_moe_align(routing, s.numel, s.experts, s.block_m, sorted->data, s.max_padded,
                        blocks->data, s.max_blocks, post->data);
}

/* One unit per routed pair: its row of n outputs. */
static int layout(const kg_ref_inputs *in, size_t output, size_t *unit_count, size_t *unit_len)
{
    moe_shape s;
    if (output != 0 || read_shape(in->symbols, &s, NULL))
        return -1;
    *unit_count = (size_t)s.numel;
    *unit_len = (size_t)s.n;
    return 0;
}

/* len elements of t from `start` as doubles; bf16 converted by its bits
 * (the checker calls this n + 1 times per unit). */
static void row_values(const kg_host_tensor *t, size_t start, size_t len, double *out)
{
    if (t->dtype == KG_DTYPE_BF16) {
        const uint16_t *bits = (const uint16_t *)t->data + start;
        for (size_t i = 0; i < len; i++) {
            uint32_t word = (uint32_t)bits[i] << 16;
            float f;
            memcpy(&f, &word, sizeof f);
            out[i] = f;
        }
        return;
    }
    for (size_t i = 0; i < len; i++)
        out[i] = kg_ref_at(t, start + i);
}

static int compute(const kg_ref_inputs *in, size_t output, size_t unit, double *out)
{
    moe_shape s;
    const kg_host_tensor *a = kg_ref_tensor(in, "a"), *w = kg_ref_tensor(in, "w");
    const kg_host_tensor *weights = kg_ref_tensor(in, "topk_weights");
    const kg_host_tensor *ids = kg_ref_tensor(in, "topk_ids");
    if (output != 0 || read_shape(in->symbols, &s, NULL) || !a || !w || !weights || !ids ||
        (int64_t)unit >= s.numel || ids->count != (size_t)s.numel ||
        weights->count != (size_t)s.numel ||
        a->count != (size_t)((s.a_per_pair ? s.numel : s.tokens) * s.k) ||
        w->count != (size_t)(s.experts * s.n * s.k))
        return -1;
    double e_value = kg_ref_at(ids, unit);
    if (!(e_value >= 0 && e_value < (double)s.experts))
        return -1;
    size_t expert = (size_t)e_value, n = (size_t)s.n, k = (size_t)s.k;
    size_t row = s.a_per_pair ? unit : unit / (size_t)s.topk;
    double scale = s.mul_routed_weight ? kg_ref_at(weights, unit) : 1.0;
    double *a_row = malloc(2 * k * sizeof *a_row);
    if (!a_row)
        return -1;
    double *w_row = a_row + k;
    row_values(a, row * k, k, a_row);
    for (size_t col = 0; col < n; col++) {
        row_values(w, (expert * n + col) * k, k, w_row);
        /* Four partial sums, so the adds overlap: a unit costs n * k of
         * them, seconds per check at the full shapes (README.md). */
        double sum[4] = {0.0, 0.0, 0.0, 0.0};
        size_t h = 0;
        for (; h + 4 <= k; h += 4)
            for (int lane = 0; lane < 4; lane++)
                sum[lane] += a_row[h + lane] * w_row[h + lane];
        for (; h < k; h++)
            sum[0] += a_row[h] * w_row[h];
        out[col] = scale * ((sum[0] + sum[1]) + (sum[2] + sum[3]));
    }
    free(a_row);
    return 0;
}

const kg_reference kg_reference_fused_moe = {
    .workload = "fused_moe",
    .needs = "a, w, topk_weights, topk_ids, sorted_token_ids, expert_ids, "
             "num_tokens_post_padded, tokens, topk, experts, n, k, block_m, a_per_pair, "
             "mul_routed_weight, routing_seed",
    .output = "c",
    .layout = layout,
    .compute = compute,
    .derive = derive,
    .fill = fill,
    .nudge = nudge,
};
