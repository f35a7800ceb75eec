/*
 * CPU reference for extend attention (SGLang's prefill with a cached
 * prefix), in double precision from the bf16 inputs; semantics in
 * baselines/extend_attention/README.md.
 *
 * Request i of the batch has P_i prefix tokens in the KV cache (k_buffer,
 * v_buffer, at the positions kv_indices[kv_indptr[i] ..]) and E_i new tokens
 * (rows qo_indptr[i] .. of q/k/v_extend). Query token j of request i attends
 * to all P_i prefix tokens and to extend tokens 0..j; head h reads KV head
 * h / (Hq / Hkv); logits are scaled by 1/sqrt(D) and, when logit_cap > 0,
 * capped as cap * tanh(logit / cap).
 *
 * The per-request lengths are part of the shape: drawn from the shape's
 * `length_seed`, uniformly in [1, N_CTX / 2), as SGLang's unit test draws
 * them. `shuffle` = 1 scatters the prefix tokens over the cache in a random
 * order instead of storing each request's prefix contiguously.
 */
#include "reference.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BATCH 1024
/* Lengths stay below 2^20 and B <= 2^10, so every token count fits the
 * int32 index tensors and every sum of products fits int64. */
#define MAX_N_CTX (1 << 21)

/* The symbols this file reads, with the bounds the lengths need. */
typedef struct batch {
    int64_t B, n_ctx, Hq, Hkv, D, shuffle, seed;
    int64_t prefix[MAX_BATCH], extend[MAX_BATCH];
} batch;

static int get(const kg_symtab *t, const char *name, int64_t *v)
{
    return kg_symtab_get(t, name, v) ? 0 : -1;
}

/* Reads the shape's symbols and draws the lengths; the same symbols always
 * give the same batch. */
static int read_batch(const kg_symtab *t, batch *b, kg_error *err)
{
    if (get(t, "B", &b->B) || get(t, "N_CTX", &b->n_ctx) || get(t, "Hq", &b->Hq) ||
        get(t, "Hkv", &b->Hkv) || get(t, "D", &b->D) || get(t, "shuffle", &b->shuffle) ||
        get(t, "length_seed", &b->seed)) {
        return kg_error_set(err, KG_ERR_INVALID,
                            "needs B, N_CTX, Hq, Hkv, D, shuffle and length_seed");
    }
    if (b->B < 1 || b->B > MAX_BATCH) {
        return kg_error_set(err, KG_ERR_INVALID, "B = %lld must be in [1, %d]", (long long)b->B,
                            MAX_BATCH);
    }
    if (b->n_ctx < 4 || b->n_ctx > MAX_N_CTX) {
        return kg_error_set(err, KG_ERR_INVALID,
                            "N_CTX = %lld must be in [4, %d] (lengths are drawn from "
                            "[1, N_CTX/2))",
                            (long long)b->n_ctx, MAX_N_CTX);
    }
    if (b->Hkv < 1 || b->Hq < b->Hkv || b->Hq % b->Hkv != 0 || b->D < 1) {
        return kg_error_set(err, KG_ERR_INVALID,
                            "Hq = %lld must be a multiple of Hkv = %lld, D = %lld >= 1",
                            (long long)b->Hq, (long long)b->Hkv, (long long)b->D);
    }
    kg_rng rng;
    kg_rng_seed(&rng, (uint64_t)b->seed);
    uint64_t span = (uint64_t)(b->n_ctx / 2 - 1); /* values 1 .. N_CTX/2 - 1 */
    for (int64_t i = 0; i < b->B; i++) {
        b->prefix[i] = 1 + (int64_t)kg_rng_below(&rng, span);
        b->extend[i] = 1 + (int64_t)kg_rng_below(&rng, span);
    }
    return KG_OK;
}

static int derive(kg_symtab *t, kg_error *err)
{
    batch b;
    int rc = read_batch(t, &b, err);
    if (rc)
        return rc;
    int64_t sum_e = 0, sum_p = 0, max_e = 0, prefix_pairs = 0, causal_pairs = 0;
    for (int64_t i = 0; i < b.B; i++) {
        sum_e += b.extend[i];
        sum_p += b.prefix[i];
        max_e = b.extend[i] > max_e ? b.extend[i] : max_e;
        prefix_pairs += b.extend[i] * b.prefix[i];
        causal_pairs += b.extend[i] * (b.extend[i] + 1) / 2;
    }
    if (kg_symtab_set(t, "sum_extend", sum_e) || kg_symtab_set(t, "sum_prefix", sum_p) ||
        kg_symtab_set(t, "max_extend", max_e) || kg_symtab_set(t, "kv_tokens", sum_p + sum_e) ||
        kg_symtab_set(t, "prefix_pairs", prefix_pairs) ||
        kg_symtab_set(t, "causal_pairs", causal_pairs)) {
        return kg_error_set(err, KG_ERR_INVALID, "too many symbols");
    }
    return 0;
}

/* A permutation of 0 .. n-1 drawn from `rng` (Fisher-Yates). */
static void shuffle_slots(int32_t *slot, int64_t n, kg_rng *rng)
{
    for (int64_t s = n - 1; s > 0; s--) {
        int64_t r = (int64_t)kg_rng_below(rng, (uint64_t)s + 1);
        int32_t tmp = slot[s];
        slot[s] = slot[r];
        slot[r] = tmp;
    }
}

/* The cache holds each request's prefix then its extend tokens, request
 * after request; kv_indices point at the prefix slots. With shuffle, the
 * slots are a random permutation of the whole cache.
 *
 * Another layout seed (a recheck) permutes the requests (each keeps its
 * pair of lengths, so every sum and the longest extend are unchanged) and
 * scatters the cache over a fresh random permutation, shuffled or not. */
static int fill(const kg_symtab *t, uint64_t layout_seed, kg_host_tensor *out)
{
    batch b;
    if (read_batch(t, &b, NULL))
        return -1;
    kg_rng rng;
    kg_rng_seed(&rng, layout_seed ^ 0x1a9047ull);
    if (layout_seed) {
        int32_t order[MAX_BATCH];
        for (int64_t i = 0; i < b.B; i++)
            order[i] = (int32_t)i;
        shuffle_slots(order, b.B, &rng);
        batch permuted = b;
        for (int64_t i = 0; i < b.B; i++) {
            permuted.prefix[i] = b.prefix[order[i]];
            permuted.extend[i] = b.extend[order[i]];
        }
        b = permuted;
    }
    int32_t *v = out->data;
    if (strcmp(out->name, "qo_indptr") == 0 || strcmp(out->name, "kv_indptr") == 0) {
        const int64_t *len = out->name[0] == 'q' ? b.extend : b.prefix;
        if (out->count < (size_t)b.B + 1)
            return -1;
        v[0] = 0;
        for (int64_t i = 0; i < b.B; i++)
            v[i + 1] = v[i] + (int32_t)len[i];
        return 0;
    }
    if (strcmp(out->name, "kv_indices") != 0)
        return -1;
    int64_t tokens = 0;
    for (int64_t i = 0; i < b.B; i++)
        tokens += b.prefix[i] + b.extend[i];
    int32_t *slot = malloc((size_t)tokens * sizeof *slot);
    if (!slot)
        return -1;
    for (int64_t s = 0; s < tokens; s++)
        slot[s] = (int32_t)s;
    if (layout_seed) {
        shuffle_slots(slot, tokens, &rng);
    } else if (b.shuffle) {
        kg_rng shape_rng;
        kg_rng_seed(&shape_rng, (uint64_t)b.seed ^ 0x5eed5eed5eedull);
        shuffle_slots(slot, tokens, &shape_rng);
    }
    size_t n = 0;
    int64_t start = 0;
    for (int64_t i = 0; i < b.B; i++) {
        for (int64_t p = 0; p < b.prefix[i] && n < out->count; p++)
            v[n++] = slot[start + p];
        start += b.prefix[i] + b.extend[i];
    }
    free(slot);
    return n == out->count ? 0 : -1;
}

/* A few prefix tokens re-pointed at other cache slots, and one boundary
 * between two requests moved by a token where both stay within [1, the
 * longest extend] (extend) or >= 1 (prefix): sums and the longest extend,
 * which kernels size their grids by, are unchanged. */
static int nudge(const kg_ref_inputs *in, kg_host_tensor *tensors, uint64_t seed)
{
    kg_host_tensor *qo = NULL, *kvp = NULL, *kvi = NULL;
    for (size_t i = 0; i < in->tensor_count; i++) {
        if (strcmp(tensors[i].name, "qo_indptr") == 0)
            qo = &tensors[i];
        else if (strcmp(tensors[i].name, "kv_indptr") == 0)
            kvp = &tensors[i];
        else if (strcmp(tensors[i].name, "kv_indices") == 0)
            kvi = &tensors[i];
    }
    int64_t B = kg_ref_symbol(in, "B"), kv_tokens = kg_ref_symbol(in, "kv_tokens");
    int64_t max_e = kg_ref_symbol(in, "max_extend");
    if (!qo || !kvp || !kvi || B < 1 || kv_tokens < 1)
        return -1;
    kg_rng rng;
    kg_rng_seed(&rng, seed ^ 0x2b0d6eull);
    int32_t *idx = kvi->data, *q = qo->data, *p = kvp->data;
    for (int k = 0; k < 3 && kvi->count; k++)
        idx[kg_rng_below(&rng, kvi->count)] = (int32_t)kg_rng_below(&rng, (uint64_t)kv_tokens);
    if (B >= 2) {
        int64_t at = 1 + (int64_t)kg_rng_below(&rng, (uint64_t)(B - 1)); /* an inner boundary */
        int32_t step = kg_rng_below(&rng, 2) ? 1 : -1;
        int64_t left = q[at] + step - q[at - 1], right = q[at + 1] - (q[at] + step);
        if (left >= 1 && right >= 1 && left <= max_e && right <= max_e)
            q[at] += step;
        left = p[at] + step - p[at - 1];
        right = p[at + 1] - (p[at] + step);
        if (left >= 1 && right >= 1)
            p[at] += step;
    }
    return 0;
}

/* One unit per extend token: its Hq x D output row. */
static int layout(const kg_ref_inputs *in, size_t *unit_count, size_t *unit_len)
{
    int64_t tokens = kg_ref_symbol(in, "sum_extend");
    int64_t hq = kg_ref_symbol(in, "Hq"), d = kg_ref_symbol(in, "D");
    if (tokens < 0 || hq < 1 || d < 1)
        return -1;
    *unit_count = (size_t)tokens;
    *unit_len = (size_t)(hq * d);
    return 0;
}

static double dot(const kg_host_tensor *a, size_t ai, const kg_host_tensor *b, size_t bi, int64_t d)
{
    double s = 0;
    for (int64_t k = 0; k < d; k++)
        s += kg_ref_at(a, ai + (size_t)k) * kg_ref_at(b, bi + (size_t)k);
    return s;
}

static int compute(const kg_ref_inputs *in, size_t unit, double *out)
{
    const kg_host_tensor *q = kg_ref_tensor(in, "q_extend"), *ke = kg_ref_tensor(in, "k_extend"),
                         *ve = kg_ref_tensor(in, "v_extend"), *kb = kg_ref_tensor(in, "k_buffer"),
                         *vb = kg_ref_tensor(in, "v_buffer"), *qo = kg_ref_tensor(in, "qo_indptr"),
                         *kvp = kg_ref_tensor(in, "kv_indptr"),
                         *kvi = kg_ref_tensor(in, "kv_indices");
    int64_t B = kg_ref_symbol(in, "B"), Hq = kg_ref_symbol(in, "Hq");
    int64_t Hkv = kg_ref_symbol(in, "Hkv"), D = kg_ref_symbol(in, "D");
    double cap = (double)kg_ref_symbol(in, "logit_cap");
    if (!q || !ke || !ve || !kb || !vb || !qo || !kvp || !kvi || B < 1 || Hkv < 1 || D < 1)
        return -1;
    const int32_t *qo_ptr = qo->data, *kv_ptr = kvp->data, *kv_idx = kvi->data;
    int64_t i = 0; /* the request of this token */
    while (i < B && (int64_t)unit >= qo_ptr[i + 1])
        i++;
    if (i == B)
        return -1;
    int64_t j = (int64_t)unit - qo_ptr[i]; /* its position among the extend tokens */
    int64_t prefix = kv_ptr[i + 1] - kv_ptr[i];
    int64_t keys = prefix + j + 1;
    double *logit = malloc((size_t)keys * sizeof *logit);
    if (!logit)
        return -1;
    double scale = 1.0 / sqrt((double)D);
    for (int64_t h = 0; h < Hq; h++) {
        int64_t kvh = h / (Hq / Hkv);
        size_t q_at = ((size_t)unit * (size_t)Hq + (size_t)h) * (size_t)D;
        double max = -INFINITY;
        for (int64_t n = 0; n < keys; n++) {
            size_t row =
                n < prefix ? (size_t)kv_idx[kv_ptr[i] + n] : (size_t)(qo_ptr[i] + (n - prefix));
            const kg_host_tensor *k = n < prefix ? kb : ke;
            double s = scale * dot(q, q_at, k, (row * (size_t)Hkv + (size_t)kvh) * (size_t)D, D);
            if (cap > 0)
                s = cap * tanh(s / cap);
            logit[n] = s;
            max = s > max ? s : max;
        }
        double sum = 0;
        for (int64_t n = 0; n < keys; n++) {
            logit[n] = exp(logit[n] - max);
            sum += logit[n];
        }
        double *o = out + h * D;
        for (int64_t d = 0; d < D; d++)
            o[d] = 0;
        for (int64_t n = 0; n < keys; n++) {
            size_t row =
                n < prefix ? (size_t)kv_idx[kv_ptr[i] + n] : (size_t)(qo_ptr[i] + (n - prefix));
            const kg_host_tensor *v = n < prefix ? vb : ve;
            size_t at = (row * (size_t)Hkv + (size_t)kvh) * (size_t)D;
            double w = logit[n] / sum;
            for (int64_t d = 0; d < D; d++)
                o[d] += w * kg_ref_at(v, at + (size_t)d);
        }
    }
    free(logit);
    return 0;
}

const kg_reference kg_reference_extend_attention = {
    .workload = "extend_attention",
    .needs = "q_extend, k_extend, v_extend, k_buffer, v_buffer, qo_indptr, kv_indptr, kv_indices, "
             "kv_tokens, max_extend, "
             "B, Hq, Hkv, D, logit_cap, sum_extend",
    .output = "o_extend",
    .layout = layout,
    .compute = compute,
    .derive = derive,
    .fill = fill,
    .nudge = nudge,
};
