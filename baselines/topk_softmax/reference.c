/* CPU reference for topk_softmax (MoE routing), in double precision: two
 * outputs, topk_weights (output 0) and topk_ids (output 1). One unit is one
 * token's row of `topk` entries of either.
 *
 * The experts are ordered by their logit, largest first, the lower expert
 * index first among equal logits. Softmax is strictly increasing, so this
 * is the order of the probabilities in exact arithmetic; ordering by the
 * logits keeps it exact where a probability underflows (a logit hundreds
 * below the row's maximum), where float or even double probabilities tie
 * at zero. */
#include "reference.h"

#include <math.h>

enum { OUT_WEIGHTS = 0, OUT_IDS = 1 };

static int topk_layout(const kg_ref_inputs *in, size_t output, size_t *unit_count, size_t *unit_len)
{
    int64_t tokens = kg_ref_symbol(in, "tokens"), topk = kg_ref_symbol(in, "topk");
    if (tokens < 0 || topk < 1 || output > OUT_IDS)
        return -1;
    *unit_count = (size_t)tokens;
    *unit_len = (size_t)topk;
    return 0;
}

/* 1 when expert a (logit xa) comes before expert b (logit xb). */
static int ranks_before(double xa, size_t a, double xb, size_t b)
{
    return xa > xb || (xa == xb && a < b);
}

/* The expert ranked right after `prev` (or the first, when `have_prev` is
 * 0): the best of the experts ranked after it. Ranking is a strict total
 * order, so K such steps give the top K without marking anything. */
static size_t next_expert(const kg_host_tensor *logits, size_t base, size_t experts, int have_prev,
                          size_t prev)
{
    double x_prev = have_prev ? kg_ref_at(logits, base + prev) : 0.0;
    size_t best = experts;
    double x_best = 0.0;
    for (size_t e = 0; e < experts; e++) {
        double x = kg_ref_at(logits, base + e);
        if (have_prev && !ranks_before(x_prev, prev, x, e))
            continue;
        if (best == experts || ranks_before(x, e, x_best, best)) {
            best = e;
            x_best = x;
        }
    }
    return best;
}

/* Row `unit` of either output: the K experts in rank order, then (for the
 * weights) their softmax probabilities, renormalised to sum to 1 when the
 * shape's `renormalize` is 1. */
static int topk_compute(const kg_ref_inputs *in, size_t output, size_t unit, double *out)
{
    const kg_host_tensor *logits = kg_ref_tensor(in, "gating_output");
    int64_t experts_s = kg_ref_symbol(in, "experts"), topk_s = kg_ref_symbol(in, "topk");
    int64_t renormalize = kg_ref_symbol(in, "renormalize");
    if (!logits || experts_s < 1 || topk_s < 1 || topk_s > experts_s ||
        (renormalize != 0 && renormalize != 1) || output > OUT_IDS)
        return -1;
    size_t experts = (size_t)experts_s, topk = (size_t)topk_s, base = unit * experts;
    if (logits->count < (unit + 1) * experts)
        return -1;
    double row_max = -INFINITY;
    for (size_t e = 0; e < experts; e++) {
        double x = kg_ref_at(logits, base + e);
        if (isnan(x))
            return -1;
        row_max = fmax(row_max, x);
    }
    if (!isfinite(row_max))
        return -1; /* a row with no finite logit has no softmax */
    size_t chosen = 0;
    for (size_t k = 0; k < topk; k++) {
        chosen = next_expert(logits, base, experts, k > 0, chosen);
        out[k] = output == OUT_IDS ? (double)chosen : kg_ref_at(logits, base + chosen);
    }
    if (output == OUT_IDS)
        return 0;
    double row_sum = 0.0;
    for (size_t e = 0; e < experts; e++)
        row_sum += exp(kg_ref_at(logits, base + e) - row_max);
    double chosen_sum = 0.0;
    for (size_t k = 0; k < topk; k++) {
        out[k] = exp(out[k] - row_max) / row_sum;
        chosen_sum += out[k];
    }
    if (renormalize)
        for (size_t k = 0; k < topk; k++)
            out[k] /= chosen_sum;
    return 0;
}

const kg_reference kg_reference_topk_softmax = {
    .workload = "topk_softmax",
    .needs = "gating_output, tokens, experts, topk, renormalize",
    .output = "topk_weights, topk_ids",
    .layout = topk_layout,
    .compute = topk_compute,
};
