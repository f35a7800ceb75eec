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

#endif
