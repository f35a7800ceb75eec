#include "moe_routing.h"

#include <stdlib.h>

int kg_moe_draw_routing(int32_t *ids, int64_t tokens, int64_t topk, int64_t experts, kg_rng *rng)
{
    if (tokens < 1 || topk < 1 || experts < 1 || topk > experts)
        return -1;
    int32_t *order = malloc((size_t)experts * sizeof *order);
    double *cumulative = malloc((size_t)experts * sizeof *cumulative);
    if (!order || !cumulative) {
        free(order);
        free(cumulative);
        return -1;
    }
    for (int64_t e = 0; e < experts; e++)
        order[e] = (int32_t)e;
    for (int64_t s = experts - 1; s > 0; s--) {
        int64_t r = (int64_t)kg_rng_below(rng, (uint64_t)s + 1);
        int32_t tmp = order[s];
        order[s] = order[r];
        order[r] = tmp;
    }
    double total = 0.0;
    for (int64_t r = 0; r < experts; r++)
        cumulative[r] = total += 1.0 / (double)(r + 1);
    for (int64_t t = 0; t < tokens; t++) {
        int32_t *row = ids + t * topk;
        for (int64_t k = 0; k < topk; k++) {
            for (;;) { /* rejection: a token's experts are distinct */
                double u = kg_rng_uniform(rng) * total;
                int64_t lo = 0, hi = experts - 1;
                while (lo < hi) {
                    int64_t mid = (lo + hi) / 2;
                    if (cumulative[mid] > u)
                        hi = mid;
                    else
                        lo = mid + 1;
                }
                int32_t e = order[lo];
                int64_t j = 0;
                while (j < k && row[j] != e)
                    j++;
                if (j == k) {
                    row[k] = e;
                    break;
                }
            }
        }
    }
    free(order);
    free(cumulative);
    return 0;
}

void kg_moe_reroute(int32_t *row, int64_t topk, int64_t experts, kg_rng *rng)
{
    int64_t j = (int64_t)kg_rng_below(rng, (uint64_t)topk);
    if (topk < experts) {
        for (;;) {
            int32_t e = (int32_t)kg_rng_below(rng, (uint64_t)experts);
            int64_t i = 0;
            while (i < topk && row[i] != e)
                i++;
            if (i == topk) {
                row[j] = e;
                return;
            }
        }
    }
    if (topk >= 2) {
        int64_t other = (j + 1 + (int64_t)kg_rng_below(rng, (uint64_t)topk - 1)) % topk;
        int32_t tmp = row[j];
        row[j] = row[other];
        row[other] = tmp;
    }
}

int64_t kg_moe_max_padded(int64_t numel, int64_t experts, int64_t block)
{
    if (numel < 1 || experts < 1 || block < 1 || numel > INT32_MAX || experts > INT32_MAX ||
        block > INT32_MAX)
        return -1;
    /* SGLang reserves a slot for the expert-parallel "-1" expert too. */
    int64_t n = numel < experts + 1 ? numel * block : numel + (experts + 1) * (block - 1);
    return n > INT32_MAX ? -1 : n;
}

int64_t kg_moe_max_blocks(int64_t numel, int64_t experts, int64_t block)
{
    int64_t padded = kg_moe_max_padded(numel, experts, block);
    return padded < 0 ? -1 : (padded + block - 1) / block;
}

int kg_moe_align(const int32_t *ids, int64_t numel, int64_t experts, int64_t block, int32_t *sorted,
                 int64_t max_padded, int32_t *expert_ids, int64_t max_blocks, int32_t *post_pad)
{
    if (max_padded != kg_moe_max_padded(numel, experts, block) ||
        max_blocks != kg_moe_max_blocks(numel, experts, block))
        return -1;
    int64_t *start = calloc((size_t)experts + 1, sizeof *start);
    if (!start)
        return -1;
    for (int64_t i = 0; i < numel; i++) {
        if (ids[i] < 0 || ids[i] >= experts) {
            free(start);
            return -1;
        }
        start[ids[i] + 1]++;
    }
    /* start[e] becomes expert e's first slot; each count padded to the block. */
    int64_t next = 0;
    for (int64_t e = 0; e < experts; e++) {
        int64_t count = start[e + 1];
        start[e] = next;
        next += (count + block - 1) / block * block;
    }
    start[experts] = next;
    for (int64_t s = 0; s < max_padded; s++)
        sorted[s] = (int32_t)numel;
    int64_t *fill = malloc((size_t)experts * sizeof *fill);
    if (!fill) {
        free(start);
        return -1;
    }
    for (int64_t e = 0; e < experts; e++)
        fill[e] = start[e];
    for (int64_t i = 0; i < numel; i++)
        sorted[fill[ids[i]]++] = (int32_t)i;
    for (int64_t b = 0; b < max_blocks; b++)
        expert_ids[b] = -1;
    for (int64_t e = 0; e < experts; e++)
        for (int64_t s = start[e]; s < start[e + 1]; s += block)
            expert_ids[s / block] = (int32_t)e;
    *post_pad = (int32_t)next;
    free(fill);
    free(start);
    return 0;
}
