/*
 * CPU reference for moe_align_block_size: three outputs, sorted_token_ids
 * (output 0), expert_ids (1) and num_tokens_post_pad (2), each one unit
 * (the whole tensor): an entry depends on every expert's count before it,
 * so a unit smaller than the tensor would recount the routing for each.
 * The outputs are small (4 bytes per routed pair), so the checker reads
 * all of them on every shape.
 *
 * The routing is part of the shape (`fill`): kg_moe_draw_routing's skewed
 * draw, seeded by the sizes for the timed layout and by the layout seed
 * for a recheck. The alignment is kg_moe_align (runner/formats/
 * moe_routing.h), which fused_moe's index inputs also come from.
 */
#include "moe_routing.h"
#include "reference.h"

#include <stdlib.h>
#include <string.h>

enum { OUT_SORTED = 0, OUT_EXPERT_IDS = 1, OUT_POST_PAD = 2 };

typedef struct sizes {
    int64_t tokens, topk, experts, block, numel, max_padded, max_blocks;
} sizes;

static int read_sizes(const kg_symtab *t, sizes *s)
{
    if (!kg_symtab_get(t, "tokens", &s->tokens) || !kg_symtab_get(t, "topk", &s->topk) ||
        !kg_symtab_get(t, "experts", &s->experts) || !kg_symtab_get(t, "block_size", &s->block))
        return -1;
    if (s->tokens < 1 || s->topk < 1 || s->topk > s->experts || s->experts > 65536 ||
        s->block < 1 || s->block > 65536 || s->tokens > INT32_MAX / s->topk)
        return -1;
    s->numel = s->tokens * s->topk;
    s->max_padded = kg_moe_max_padded(s->numel, s->experts, s->block);
    s->max_blocks = kg_moe_max_blocks(s->numel, s->experts, s->block);
    return s->max_padded < 0 || s->max_blocks < 0 ? -1 : 0;
}

static int derive(kg_symtab *t, kg_error *err)
{
    sizes s;
    if (read_sizes(t, &s))
        return kg_error_set(err, KG_ERR_INVALID,
                            "needs tokens >= 1, 1 <= topk <= experts <= 65536, "
                            "1 <= block_size <= 65536 and tokens * topk < 2^31");
    if (kg_symtab_set(t, "max_padded", s.max_padded) ||
        kg_symtab_set(t, "max_blocks", s.max_blocks))
        return kg_error_set(err, KG_ERR_INVALID, "too many symbols");
    return KG_OK;
}

/* The shape's own routing comes from its sizes; any other layout seed
 * draws another routing of the same sizes. */
static uint64_t routing_seed(const sizes *s, uint64_t layout_seed)
{
    const int64_t parts[] = {s->tokens, s->topk, s->experts, s->block};
    return kg_ref_layout_seed(layout_seed, 0x6d6f65616c69676eull, 0x811c9dc5ull, parts, 4);
}

static int fill(const kg_symtab *symbols, uint64_t layout_seed, kg_host_tensor *t)
{
    sizes s;
    if (read_sizes(symbols, &s) || strcmp(t->name, "topk_ids") != 0 || t->dtype != KG_DTYPE_I32 ||
        t->count != (size_t)s.numel)
        return -1;
    kg_rng rng;
    kg_rng_seed(&rng, routing_seed(&s, layout_seed));
    return kg_moe_draw_routing(t->data, s.tokens, s.topk, s.experts, &rng);
}

/* Three tokens re-routed (kg_moe_reroute): the counts change, so every
 * output after the first changed expert moves. */
static int nudge(const kg_ref_inputs *in, kg_host_tensor *tensors, uint64_t seed)
{
    sizes s;
    kg_host_tensor *ids;
    if (read_sizes(in->symbols, &s) ||
        !(ids = kg_ref_index_tensor(in, tensors, "topk_ids", (size_t)s.numel)))
        return -1;
    kg_rng rng;
    kg_rng_seed(&rng, seed ^ 0x9e3779b9ull);
    for (int n = 0; n < 3; n++) {
        int64_t t = (int64_t)kg_rng_below(&rng, (uint64_t)s.tokens);
        kg_moe_reroute((int32_t *)ids->data + t * s.topk, s.topk, s.experts, &rng);
    }
    return 0;
}

static int layout(const kg_ref_inputs *in, size_t output, size_t *unit_count, size_t *unit_len)
{
    sizes s;
    if (read_sizes(in->symbols, &s) || output > OUT_POST_PAD)
        return -1;
    *unit_count = 1;
    *unit_len = output == OUT_SORTED       ? (size_t)s.max_padded
                : output == OUT_EXPERT_IDS ? (size_t)s.max_blocks
                                           : 1;
    return 0;
}

static int compute(const kg_ref_inputs *in, size_t output, size_t unit, double *out)
{
    const kg_host_tensor *ids = kg_ref_tensor(in, "topk_ids");
    sizes s;
    if (read_sizes(in->symbols, &s) || output > OUT_POST_PAD || unit != 0 || !ids ||
        ids->dtype != KG_DTYPE_I32 || ids->count != (size_t)s.numel)
        return -1;
    int32_t *sorted = malloc((size_t)s.max_padded * sizeof *sorted);
    int32_t *expert_ids = malloc((size_t)s.max_blocks * sizeof *expert_ids);
    int32_t post_pad = 0;
    int rc = -1;
    if (sorted && expert_ids &&
        kg_moe_align(ids->data, s.numel, s.experts, s.block, sorted, s.max_padded, expert_ids,
                     s.max_blocks, &post_pad) == 0) {
        if (output == OUT_SORTED)
            for (int64_t i = 0; i < s.max_padded; i++)
                out[i] = sorted[i];
        else if (output == OUT_EXPERT_IDS)
            for (int64_t i = 0; i < s.max_blocks; i++)
                out[i] = expert_ids[i];
        else
            out[0] = post_pad;
        rc = 0;
    }
    free(sorted);
    free(expert_ids);
    return rc;
}

const kg_reference kg_reference_moe_align_block_size = {
    .workload = "moe_align_block_size",
    .needs = "topk_ids, tokens, topk, experts, block_size",
    .output = "sorted_token_ids, expert_ids, num_tokens_post_pad",
    .layout = layout,
    .compute = compute,
    .derive = derive,
    .fill = fill,
    .nudge = nudge,
};
