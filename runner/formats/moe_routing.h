/*
 * MoE routing shared by the MoE workloads' references: the routing a shape
 * draws (which experts each token goes to) and kgrade's canonical
 * moe_align_block_size (tokens grouped by expert and padded to the GEMM's
 * block size), which moe_align_block_size grades and fused_moe takes as
 * its index inputs.
 *
 * The canonical order within an expert is ascending flat index
 * (token * topk + k). SGLang's CUDA kernel places tokens with atomics, in
 * an order that changes from run to run; kgrade fixes the order so that
 * an answer can be checked element by element and a grouped GEMM over it
 * is bitwise reproducible (baselines/moe_align_block_size/README.md).
 */
#ifndef KG_MOE_ROUTING_H
#define KG_MOE_ROUTING_H

#include "rng.h"

#include <stdint.h>

/* Draws topk distinct experts of [0, experts) for each of `tokens` tokens
 * into ids[tokens * topk], skewed as trained routers are: expert weights
 * fall as 1 / (1 + rank) over a permutation of the experts drawn from
 * `rng`, so a few experts are hot and, at small batches, some get no
 * token. 0, or -1 when topk > experts or a size is < 1. */
int kg_moe_draw_routing(int32_t *ids, int64_t tokens, int64_t topk, int64_t experts, kg_rng *rng);

/* Moves one of a token's topk experts (row[0 .. topk)) to an expert the
 * token does not have yet, so they stay distinct; where it has them all,
 * swaps two of its slots instead. For the nudges of recheck inputs. */
void kg_moe_reroute(int32_t *row, int64_t topk, int64_t experts, kg_rng *rng);

/* SGLang's sizes for the aligned buffers (moe_align_block_size.py):
 * max_num_tokens_padded for `numel` = tokens * topk routed pairs, and the
 * number of blocks of `block` in it. -1 on sizes < 1 or overflow of i32. */
int64_t kg_moe_max_padded(int64_t numel, int64_t experts, int64_t block);
int64_t kg_moe_max_blocks(int64_t numel, int64_t experts, int64_t block);

/* The canonical alignment of ids[0 .. numel): expert by expert (0 first),
 * the flat indices routed to it in ascending order, then `numel` repeated
 * up to a multiple of `block`; sorted[] holds max_padded entries, numel
 * after the last expert's padding. expert_ids[b] is the expert of block b
 * of sorted, -1 past the last used block (max_blocks entries).
 * *post_pad is the padded total. 0, or -1 on an id outside [0, experts)
 * or sizes that do not match kg_moe_max_padded. */
int kg_moe_align(const int32_t *ids, int64_t numel, int64_t experts, int64_t block, int32_t *sorted,
                 int64_t max_padded, int32_t *expert_ids, int64_t max_blocks, int32_t *post_pad);

#endif
