/*
 * CPU reference for the token embedding gather (SGLang's
 * VocabParallelEmbedding forward, F.embedding on one GPU): out[t] =
 * table[ids[t]], one row of `hidden` bf16 values per token. An exact copy;
 * semantics in baselines/embedding/README.md.
 *
 * The ids are part of the shape (the reference's `fill`): each token's id
 * is uniform over [0, vocab), except that a quarter of the tokens repeat
 * an earlier token's id, as real batches repeat common tokens (and a
 * prompt shared by several requests repeats whole runs).
 */
#include "reference.h"
#include "rng.h"

#include <stdint.h>
#include <string.h>

/* The ids are i32 tensors, and every table offset id * hidden must stay
 * within what a host size_t and a kernel's 64-bit index hold. */
#define MAX_VOCAB  INT32_MAX
#define MAX_HIDDEN (INT64_C(1) << 20)

typedef struct sizes {
    int64_t tokens, vocab, hidden;
} sizes;

static int read_sizes(const kg_symtab *t, sizes *s)
{
    if (!kg_symtab_get(t, "tokens", &s->tokens) || !kg_symtab_get(t, "vocab", &s->vocab) ||
        !kg_symtab_get(t, "hidden", &s->hidden))
        return -1;
    if (s->tokens < 1 || s->vocab < 1 || s->vocab > MAX_VOCAB || s->hidden < 1 ||
        s->hidden > MAX_HIDDEN)
        return -1;
    return 0;
}

/* The shape's own ids come from its sizes, so the same shape always has
 * the same batch; any other layout seed draws another batch. */
static uint64_t ids_seed(const sizes *s, uint64_t layout_seed)
{
    const int64_t parts[] = {s->tokens, s->vocab, s->hidden};
    return kg_ref_layout_seed(layout_seed, 0x1d5e1ec7ull, 0xe3b0c442ull, parts, 3);
}

static int fill(const kg_symtab *symbols, uint64_t layout_seed, kg_host_tensor *t)
{
    sizes s;
    if (read_sizes(symbols, &s) || strcmp(t->name, "ids") != 0 || t->dtype != KG_DTYPE_I32 ||
        t->count != (size_t)s.tokens)
        return -1;
    kg_rng rng;
    kg_rng_seed(&rng, ids_seed(&s, layout_seed));
    int32_t *ids = t->data;
    for (int64_t i = 0; i < s.tokens; i++) {
        if (i > 0 && kg_rng_below(&rng, 4) == 0)
            ids[i] = ids[kg_rng_below(&rng, (uint64_t)i)]; /* a repeated token */
        else
            ids[i] = (int32_t)kg_rng_below(&rng, (uint64_t)s.vocab);
    }
    return 0;
}

/* Three tokens re-pointed at other rows of the table: the sizes, all a
 * kernel may read, are unchanged. */
static int nudge(const kg_ref_inputs *in, kg_host_tensor *tensors, uint64_t seed)
{
    sizes s;
    kg_host_tensor *ids;
    if (read_sizes(in->symbols, &s) ||
        !(ids = kg_ref_index_tensor(in, tensors, "ids", (size_t)s.tokens)))
        return -1;
    kg_rng rng;
    kg_rng_seed(&rng, seed ^ 0x9e3779b9ull);
    for (int k = 0; k < 3; k++)
        ((int32_t *)ids->data)[kg_rng_below(&rng, (uint64_t)s.tokens)] =
            (int32_t)kg_rng_below(&rng, (uint64_t)s.vocab);
    return 0;
}

/* One unit per token: its row of `hidden` values. */
static int layout(const kg_ref_inputs *in, size_t output, size_t *unit_count, size_t *unit_len)
{
    sizes s;
    if (output != 0 || read_sizes(in->symbols, &s))
        return -1;
    *unit_count = (size_t)s.tokens;
    *unit_len = (size_t)s.hidden;
    return 0;
}

/* Row `unit` of out: the table row its id names; an id outside [0, vocab)
 * is no input of this workload (F.embedding raises on it). */
static int compute(const kg_ref_inputs *in, size_t output, size_t unit, double *out)
{
    const kg_host_tensor *ids = kg_ref_tensor(in, "ids"), *table = kg_ref_tensor(in, "table");
    sizes s;
    if (output != 0 || read_sizes(in->symbols, &s) || !ids || !table ||
        ids->count != (size_t)s.tokens || table->count != (size_t)(s.vocab * s.hidden) ||
        unit >= (size_t)s.tokens)
        return -1;
    double id = kg_ref_at(ids, unit);
    if (!(id >= 0 && id < (double)s.vocab))
        return -1;
    size_t row = (size_t)id * (size_t)s.hidden;
    for (int64_t h = 0; h < s.hidden; h++)
        out[h] = kg_ref_at(table, row + (size_t)h);
    return 0;
}

const kg_reference kg_reference_embedding = {
    .workload = "embedding",
    .needs = "ids, table, tokens, vocab, hidden",
    .output = "out",
    .layout = layout,
    .compute = compute,
    .fill = fill,
    .nudge = nudge,
};
