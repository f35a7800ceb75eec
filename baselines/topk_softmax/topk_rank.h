/*
 * The expert order both tiers use: the larger logit first, the lower
 * expert index first among equal logits (the tie rule of sgl-kernel's
 * topkGatingSoftmax argmax). Experts are compared by logit, not by float
 * probability: softmax is increasing, so the order is the same where the
 * probabilities are exact, and stays exact where they underflow to zero.
 * Logits are bf16, so their float values are exact and equal logits are
 * exact ties.
 */
#ifndef TOPK_RANK_H
#define TOPK_RANK_H

/* 1 when expert a (logit xa) ranks before expert b (logit xb). */
KG_DEVICE_FN int topk_ranks_before(float xa, int a, float xb, int b)
{
    return xa > xb || (xa == xb && a < b);
}

/* The same order as one unsigned comparison: the larger key ranks first.
 * The upper 16 bits are the bf16 logit mapped to an integer that orders
 * as the logit does (sign bit flipped for positives, all bits for
 * negatives; -0 folded onto +0, since they are equal logits), the lower
 * 16 bits 0xffff - index, so the lower index wins a tie. Needs fewer than
 * 65536 experts; 0 ranks after every expert (an empty slot). */
KG_DEVICE_FN kg_u32 topk_key(kg_bf16_bits bits, int expert)
{
    kg_u32 b = bits == 0x8000u ? 0u : (kg_u32)bits;
    kg_u32 ordered = (b & 0x8000u) ? (~b & 0xffffu) : (b | 0x8000u);
    return (ordered << 16) | (kg_u32)(0xffff - expert);
}

KG_DEVICE_FN float topk_key_logit(kg_u32 key)
{
    kg_u32 ordered = key >> 16;
    kg_u32 b = (ordered & 0x8000u) ? (ordered & 0x7fffu) : (~ordered & 0xffffu);
    return kg_bf16_to_float((kg_bf16_bits)b);
}

KG_DEVICE_FN int topk_key_expert(kg_u32 key)
{
    return 0xffff - (int)(key & 0xffffu);
}

#endif
