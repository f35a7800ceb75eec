/*
 * CPU reference for prefill attention (SGLang's context attention,
 * `context_attention_fwd` in triton_ops/prefill_attention.py): causal
 * self-attention over a ragged batch with no cached prefix, in double
 * precision from the bf16 inputs; semantics in
 * baselines/prefill_attention/README.md.
 *
 * Request i of the batch has L_i tokens, rows b_start_loc[i] ..
 * b_start_loc[i] + b_seq_len[i] of q, k, v and o (the requests packed one
 * after the other, b_start_loc the exclusive prefix sum of b_seq_len, as
 * SGLang builds it). Token j of request i, query head h, attends to the
 * request's tokens 0 .. j (all L_i of them when is_causal is 0) through KV
 * head h / (Hq / Hkv), logits q.k / sqrt(D); the output is the softmax-
 * weighted sum of the values, D wide.
 *
 * The lengths are part of the shape: drawn from the shape's `length_seed`,
 * uniformly in [1, N_CTX]; with `edge_lengths` the first request is N_CTX
 * long and the second 1 token long (the extremes a kernel must handle),
 * the others drawn.
 */
#include "reference.h"
#include "rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BATCH 1024
/* Lengths stay at most 2^20 and B <= 2^10, so every token count fits the
 * int32 index tensors and every sum of squared lengths fits int64. */
#define MAX_N_CTX (1 << 20)

/* The symbols this file reads, and the drawn lengths. */
typedef struct batch {
    int64_t B, n_ctx, Hq, Hkv, D, causal, edges, seed;
    int64_t len[MAX_BATCH];
} batch;

static int get(const kg_symtab *t, const char *name, int64_t *v)
{
    return kg_symtab_get(t, name, v) ? 0 : -1;
}

static int check_sizes(const batch *b, kg_error *err)
{
    if (b->B < 1 || b->B > MAX_BATCH)
        return kg_error_set(err, KG_ERR_INVALID, "B = %lld must be in [1, %d]", (long long)b->B,
                            MAX_BATCH);
    if (b->n_ctx < 1 || b->n_ctx > MAX_N_CTX)
        return kg_error_set(err, KG_ERR_INVALID,
                            "N_CTX = %lld must be in [1, %d] (lengths are drawn from [1, N_CTX])",
                            (long long)b->n_ctx, MAX_N_CTX);
    if (b->Hkv < 1 || b->Hq < b->Hkv || b->Hq % b->Hkv != 0 || b->D < 1)
        return kg_error_set(err, KG_ERR_INVALID,
                            "Hq = %lld must be a multiple of Hkv = %lld, D = %lld >= 1",
                            (long long)b->Hq, (long long)b->Hkv, (long long)b->D);
    if (b->causal < 0 || b->causal > 1 || b->edges < 0 || b->edges > 1)
        return kg_error_set(err, KG_ERR_INVALID, "is_causal and edge_lengths must be 0 or 1");
    return KG_OK;
}

/* Reads the shape's symbols and draws the lengths; the same symbols always
 * give the same batch. */
static int read_batch(const kg_symtab *t, batch *b, kg_error *err)
{
    if (get(t, "B", &b->B) || get(t, "N_CTX", &b->n_ctx) || get(t, "Hq", &b->Hq) ||
        get(t, "Hkv", &b->Hkv) || get(t, "D", &b->D) || get(t, "is_causal", &b->causal) ||
        get(t, "edge_lengths", &b->edges) || get(t, "length_seed", &b->seed))
        return kg_error_set(err, KG_ERR_INVALID,
                            "needs B, N_CTX, Hq, Hkv, D, is_causal, edge_lengths and length_seed");
    int rc = check_sizes(b, err);
    if (rc)
        return rc;
    kg_rng rng;
    kg_rng_seed(&rng, (uint64_t)b->seed);
    for (int64_t i = 0; i < b->B; i++)
        b->len[i] = 1 + (int64_t)kg_rng_below(&rng, (uint64_t)b->n_ctx);
    if (b->edges) {
        b->len[0] = b->n_ctx;
        if (b->B > 1)
            b->len[1] = 1;
    }
    return KG_OK;
}

static int derive(kg_symtab *t, kg_error *err)
{
    batch b;
    int rc = read_batch(t, &b, err);
    if (rc)
        return rc;
    int64_t tokens = 0, max_len = 0, causal_pairs = 0, all_pairs = 0;
    for (int64_t i = 0; i < b.B; i++) {
        tokens += b.len[i];
        max_len = b.len[i] > max_len ? b.len[i] : max_len;
        causal_pairs += b.len[i] * (b.len[i] + 1) / 2;
        all_pairs += b.len[i] * b.len[i];
    }
    if (kg_symtab_set(t, "tokens", tokens) || kg_symtab_set(t, "max_len", max_len) ||
        kg_symtab_set(t, "causal_pairs", causal_pairs) ||
        kg_symtab_set(t, "attended_pairs", b.causal ? causal_pairs : all_pairs))
        return kg_error_set(err, KG_ERR_INVALID, "too many symbols");
    return KG_OK;
}

/* The batch of a layout: the shape's own for seed 0; for any other seed
 * the requests permuted (Fisher-Yates), so that the token count and the
 * longest request, which kernels size their grids by, are unchanged. */
static int layout_batch(const kg_symtab *t, uint64_t layout_seed, batch *b)
{
    if (read_batch(t, b, NULL))
        return -1;
    if (!layout_seed)
        return 0;
    kg_rng rng;
    kg_rng_seed(&rng, layout_seed ^ 0x9f11a7ull);
    for (int64_t s = b->B - 1; s > 0; s--) {
        int64_t r = (int64_t)kg_rng_below(&rng, (uint64_t)s + 1);
        int64_t tmp = b->len[s];
        b->len[s] = b->len[r];
        b->len[r] = tmp;
    }
    return 0;
}

/* b_seq_len: each request's length; b_start_loc: where its rows start,
 * the exclusive prefix sum of the lengths (SGLang's layout). */
static int fill(const kg_symtab *t, uint64_t layout_seed, kg_host_tensor *out)
{
    batch b;
    if (layout_batch(t, layout_seed, &b) || out->count != (size_t)b.B)
        return -1;
    int32_t *v = out->data;
    if (strcmp(out->name, "b_seq_len") == 0) {
        for (int64_t i = 0; i < b.B; i++)
            v[i] = (int32_t)b.len[i];
        return 0;
    }
    if (strcmp(out->name, "b_start_loc") == 0) {
        int64_t start = 0;
        for (int64_t i = 0; i < b.B; i++) {
            v[i] = (int32_t)start;
            start += b.len[i];
        }
        return 0;
    }
    return -1;
}

/* One boundary between two neighbouring requests moved by a token, where
 * both stay within [1, max_len]: the token count and the longest request
 * are unchanged, the packing stays contiguous. */
static int nudge(const kg_ref_inputs *in, kg_host_tensor *tensors, uint64_t seed)
{
    int32_t *start = NULL, *len = NULL;
    for (size_t i = 0; i < in->tensor_count; i++) {
        if (strcmp(tensors[i].name, "b_start_loc") == 0)
            start = tensors[i].data;
        else if (strcmp(tensors[i].name, "b_seq_len") == 0)
            len = tensors[i].data;
    }
    int64_t B = kg_ref_symbol(in, "B"), max_len = kg_ref_symbol(in, "max_len");
    if (!start || !len || B < 1)
        return -1;
    if (B < 2)
        return 0;
    kg_rng rng;
    kg_rng_seed(&rng, seed ^ 0x7e11d9ull);
    int64_t at = 1 + (int64_t)kg_rng_below(&rng, (uint64_t)(B - 1)); /* an inner boundary */
    int32_t step = kg_rng_below(&rng, 2) ? 1 : -1;
    int64_t left = len[at - 1] + step, right = len[at] - step;
    if (left < 1 || right < 1 || left > max_len || right > max_len)
        step = -step; /* try the other way; two 1-token neighbours never move */
    left = len[at - 1] + step;
    right = len[at] - step;
    if (left >= 1 && right >= 1 && left <= max_len && right <= max_len) {
        len[at - 1] += step;
        len[at] -= step;
        start[at] += step;
    }
    return 0;
}

/* One unit per (token, query head): its D-wide output row. */
static int layout(const kg_ref_inputs *in, size_t output, size_t *unit_count, size_t *unit_len)
{
    (void)output; /* the only one */
    int64_t tokens = kg_ref_symbol(in, "tokens");
    int64_t hq = kg_ref_symbol(in, "Hq"), d = kg_ref_symbol(in, "D");
    if (tokens < 0 || hq < 1 || d < 1)
        return -1;
    *unit_count = (size_t)(tokens * hq);
    *unit_len = (size_t)d;
    return 0;
}

static double dot(const kg_host_tensor *a, size_t ai, const kg_host_tensor *b, size_t bi, int64_t d)
{
    double s = 0;
    for (int64_t k = 0; k < d; k++)
        s += kg_ref_at(a, ai + (size_t)k) * kg_ref_at(b, bi + (size_t)k);
    return s;
}

/* One (token, head) row: where its request's keys are and how many it sees. */
typedef struct query {
    const kg_host_tensor *q, *k, *v;
    int64_t Hq, Hkv, D, token, head, first, keys;
} query;

static int find_query(const kg_ref_inputs *in, size_t unit, query *qr)
{
    const kg_host_tensor *starts = kg_ref_tensor(in, "b_start_loc"),
                         *lens = kg_ref_tensor(in, "b_seq_len");
    *qr = (query){.q = kg_ref_tensor(in, "q"),
                  .k = kg_ref_tensor(in, "k"),
                  .v = kg_ref_tensor(in, "v"),
                  .Hq = kg_ref_symbol(in, "Hq"),
                  .Hkv = kg_ref_symbol(in, "Hkv"),
                  .D = kg_ref_symbol(in, "D")};
    int64_t B = kg_ref_symbol(in, "B");
    if (!qr->q || !qr->k || !qr->v || !starts || !lens || B < 1 || qr->Hq < 1 || qr->Hkv < 1 ||
        qr->D < 1)
        return -1;
    qr->token = (int64_t)unit / qr->Hq;
    qr->head = (int64_t)unit % qr->Hq;
    const int32_t *start = starts->data, *len = lens->data;
    for (int64_t i = 0; i < B; i++) {
        if (qr->token >= start[i] && qr->token < (int64_t)start[i] + len[i]) {
            qr->first = start[i];
            qr->keys = kg_ref_symbol(in, "is_causal") ? qr->token - start[i] + 1 : len[i];
            return 0;
        }
    }
    return -1; /* a token of no request */
}

static int compute(const kg_ref_inputs *in, size_t output, size_t unit, double *out)
{
    (void)output; /* the only one */
    query qr;
    if (find_query(in, unit, &qr))
        return -1;
    double scale = 1.0 / sqrt((double)qr.D);
    size_t kv_head = (size_t)(qr.head / (qr.Hq / qr.Hkv)), D = (size_t)qr.D;
    size_t q_at = ((size_t)qr.token * (size_t)qr.Hq + (size_t)qr.head) * D;
    double *logit = malloc((size_t)qr.keys * sizeof *logit);
    if (!logit)
        return -1;
    double max = -INFINITY, sum = 0;
    for (int64_t n = 0; n < qr.keys; n++) {
        size_t kv_at = ((size_t)(qr.first + n) * (size_t)qr.Hkv + kv_head) * D;
        logit[n] = scale * dot(qr.q, q_at, qr.k, kv_at, qr.D);
        max = logit[n] > max ? logit[n] : max;
    }
    for (int64_t n = 0; n < qr.keys; n++)
        sum += logit[n] = exp(logit[n] - max);
    for (size_t d = 0; d < D; d++)
        out[d] = 0;
    for (int64_t n = 0; n < qr.keys; n++) {
        size_t kv_at = ((size_t)(qr.first + n) * (size_t)qr.Hkv + kv_head) * D;
        for (size_t d = 0; d < D; d++)
            out[d] += logit[n] / sum * kg_ref_at(qr.v, kv_at + d);
    }
    free(logit);
    return 0;
}

const kg_reference kg_reference_prefill_attention = {
    .workload = "prefill_attention",
    .needs = "q, k, v, b_start_loc, b_seq_len, B, Hq, Hkv, D, is_causal, tokens, max_len",
    .output = "o",
    .layout = layout,
    .compute = compute,
    .derive = derive,
    .fill = fill,
    .nudge = nudge,
};
