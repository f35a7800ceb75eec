/*
 * CPU reference for per-token cross-entropy in double precision: one unit
 * is one token's loss. loss = (max - x[label]) + log(sum exp(x - max)), 0
 * for the ignore index -100 (torch's default); +inf where the label's
 * logit is -inf (torch gives the same).
 *
 * The labels are part of the shape (`fill`): uniform over the vocabulary,
 * with one token in eight ignored (-100), as padding and prompt positions
 * are in a training or scoring batch.
 */
#include "reference.h"
#include "rng.h"

#include <math.h>
#include <string.h>

#define IGNORE_INDEX (-100)

typedef struct sizes {
    int64_t tokens, vocab;
} sizes;

static int read_sizes(const kg_symtab *t, sizes *s)
{
    if (!kg_symtab_get(t, "tokens", &s->tokens) || !kg_symtab_get(t, "vocab", &s->vocab))
        return -1;
    return s->tokens < 1 || s->vocab < 1 || s->vocab > INT32_MAX ? -1 : 0;
}

static int32_t draw_label(kg_rng *rng, int64_t vocab)
{
    if (kg_rng_below(rng, 8) == 0)
        return IGNORE_INDEX;
    return (int32_t)kg_rng_below(rng, (uint64_t)vocab);
}

static int fill(const kg_symtab *symbols, uint64_t layout_seed, kg_host_tensor *t)
{
    sizes s;
    if (read_sizes(symbols, &s) || strcmp(t->name, "labels") != 0 || t->dtype != KG_DTYPE_I32 ||
        t->count != (size_t)s.tokens)
        return -1;
    kg_rng rng;
    const int64_t parts[] = {s.tokens, s.vocab};
    kg_rng_seed(&rng,
                kg_ref_layout_seed(layout_seed, 0xce11ab5ull, 0xcbf29ce484222325ull, parts, 2));
    int32_t *labels = t->data;
    for (int64_t i = 0; i < s.tokens; i++)
        labels[i] = draw_label(&rng, s.vocab);
    return 0;
}

/* Three tokens given other labels (still in the vocabulary or ignored). */
static int nudge(const kg_ref_inputs *in, kg_host_tensor *tensors, uint64_t seed)
{
    sizes s;
    kg_host_tensor *labels;
    if (read_sizes(in->symbols, &s) ||
        !(labels = kg_ref_index_tensor(in, tensors, "labels", (size_t)s.tokens)))
        return -1;
    kg_rng rng;
    kg_rng_seed(&rng, seed ^ 0x9e3779b9ull);
    for (int k = 0; k < 3; k++)
        ((int32_t *)labels->data)[kg_rng_below(&rng, (uint64_t)s.tokens)] =
            draw_label(&rng, s.vocab);
    return 0;
}

static int layout(const kg_ref_inputs *in, size_t output, size_t *unit_count, size_t *unit_len)
{
    sizes s;
    if (output != 0 || read_sizes(in->symbols, &s))
        return -1;
    *unit_count = (size_t)s.tokens;
    *unit_len = 1;
    return 0;
}

static int compute(const kg_ref_inputs *in, size_t output, size_t unit, double *out)
{
    const kg_host_tensor *logits = kg_ref_tensor(in, "logits"),
                         *labels = kg_ref_tensor(in, "labels");
    sizes s;
    if (output != 0 || read_sizes(in->symbols, &s) || !logits || !labels ||
        logits->count != (size_t)(s.tokens * s.vocab) || labels->count != (size_t)s.tokens ||
        unit >= (size_t)s.tokens)
        return -1;
    double label = kg_ref_at(labels, unit);
    if (label == IGNORE_INDEX) {
        out[0] = 0.0;
        return 0;
    }
    if (!(label >= 0 && label < (double)s.vocab))
        return -1; /* torch raises on a label outside the vocabulary */
    size_t base = unit * (size_t)s.vocab;
    double row_max = -INFINITY;
    for (int64_t v = 0; v < s.vocab; v++) {
        double x = kg_ref_at(logits, base + (size_t)v);
        if (isnan(x))
            return -1;
        row_max = fmax(row_max, x);
    }
    if (!isfinite(row_max))
        return -1; /* no finite logit: no distribution */
    /* log(sum) as log1p of the sum without one maximal term (its exp is
     * exactly 1): where the maximum dominates, sum = 1 + 1e-44 would round
     * to 1 and the loss of a label at the maximum to 0. */
    double rest = 0.0;
    int skipped = 0;
    for (int64_t v = 0; v < s.vocab; v++) {
        double x = kg_ref_at(logits, base + (size_t)v);
        if (!skipped && x == row_max)
            skipped = 1;
        else
            rest += exp(x - row_max);
    }
    out[0] = (row_max - kg_ref_at(logits, base + (size_t)label)) + log1p(rest);
    return 0;
}

const kg_reference kg_reference_cross_entropy = {
    .workload = "cross_entropy",
    .needs = "logits, labels, tokens, vocab",
    .output = "loss",
    .layout = layout,
    .compute = compute,
    .fill = fill,
    .nudge = nudge,
};
