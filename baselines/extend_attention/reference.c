/*
 * CPU reference for extend attention (SGLang's prefill with a cached
 * prefix), in double precision from the bf16 inputs; semantics in
 * baselines/extend_attention/README.md.
 *
 * Request i of the batch has P_i prefix tokens in the KV cache (k_buffer,
 * v_buffer, at the positions kv_indices[kv_indptr[i] ..]) and E_i new tokens
 * (rows qo_indptr[i] .. of q/k/v_extend). Query token j of request i attends
 * to the keys its masks leave visible, among the P_i prefix tokens and the
 * E_i extend tokens:
 *   - is_causal: extend token n only when n <= j;
 *   - a custom mask (mask_kind > 0): an E_i x (P_i + E_i) byte matrix at
 *     custom_mask[mask_indptr[i] ..], row j for query j, 1 = visible; its
 *     prefix columns are ignored when skip_prefix_custom_mask is set;
 *   - sliding_window W > 0: key position k (prefix n: n; extend n: P_i + n)
 *     only when P_i + j - k <= W;
 * as SGLang's `_fwd_kernel` does (extend_attention.py of sglang 0.5.12).
 * Head h reads KV head h / (Hq / Hkv); logits (D wide) are scaled by the
 * parameter sm_scale and, when the parameter logit_cap > 0, capped as
 * cap * tanh(logit / cap); values and output are Dv wide.
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
/* A random mask is drawn bit by bit, and counted when the shape is
 * loaded: small and smoke shapes only. */
#define MAX_RANDOM_MASK (1 << 26)

enum { MASK_NONE = 0, MASK_UNIT_TEST = 1, MASK_RANDOM = 2 };

/* The symbols this file reads, with the bounds the lengths need. */
typedef struct batch {
    int64_t B, n_ctx, Hq, Hkv, D, Dv, shuffle, seed;
    int64_t causal, mask_kind, skip_prefix, window;
    int64_t prefix[MAX_BATCH], extend[MAX_BATCH];
} batch;

static int get(const kg_symtab *t, const char *name, int64_t *v)
{
    return kg_symtab_get(t, name, v) ? 0 : -1;
}

static int read_options(const kg_symtab *t, batch *b, kg_error *err)
{
    if (get(t, "Dv", &b->Dv) || get(t, "is_causal", &b->causal) ||
        get(t, "mask_kind", &b->mask_kind) || get(t, "skip_prefix_custom_mask", &b->skip_prefix) ||
        get(t, "sliding_window", &b->window))
        return kg_error_set(err, KG_ERR_INVALID,
                            "needs Dv, is_causal, mask_kind, skip_prefix_custom_mask and "
                            "sliding_window");
    if (b->Dv < 1 || b->causal > 1 || b->mask_kind > MASK_RANDOM || b->skip_prefix > 1)
        return kg_error_set(err, KG_ERR_INVALID,
                            "Dv >= 1, is_causal 0 or 1, mask_kind 0 (none), 1 (the unit test's) "
                            "or 2 (random), skip_prefix_custom_mask 0 or 1");
    if (b->window > 0 && b->mask_kind != MASK_NONE)
        return kg_error_set(err, KG_ERR_INVALID,
                            "a sliding window with a custom mask is not defined here (upstream "
                            "then reads window_kv_offsets, a layout kgrade does not draw)");
    return KG_OK;
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
    int rc = read_options(t, b, err);
    if (rc)
        return rc;
    kg_rng rng;
    kg_rng_seed(&rng, (uint64_t)b->seed);
    uint64_t span = (uint64_t)(b->n_ctx / 2 - 1); /* values 1 .. N_CTX/2 - 1 */
    for (int64_t i = 0; i < b->B; i++) {
        b->prefix[i] = 1 + (int64_t)kg_rng_below(&rng, span);
        b->extend[i] = 1 + (int64_t)kg_rng_below(&rng, span);
    }
    return KG_OK;
}

/* Bit `key` of row `row` of request `req`'s custom mask (keys 0 .. P-1 the
 * prefix, P .. P+E-1 the extend tokens). With `mask_seed` 0, the unit
 * test's mask: the whole prefix and the causal triangle. Otherwise random,
 * each bit 1 with probability 1/2, except that a causal shape's mask never
 * shows a later token (so the causal bound upstream applies per query block
 * cannot change the answer) and the diagonal is always 1 (no row is empty). */
static int mask_bit(const batch *b, uint64_t mask_seed, int64_t req, int64_t row, int64_t key)
{
    int64_t P = b->prefix[req];
    if (key == P + row)
        return 1;
    if (key >= P && b->causal && key - P > row)
        return 0;
    if (!mask_seed)
        return key < P || key - P <= row;
    uint64_t x = mask_seed ^ ((uint64_t)req << 48) ^ ((uint64_t)row << 24) ^ (uint64_t)key;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull; /* splitmix64's finaliser */
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return (int)((x ^ (x >> 31)) & 1);
}

/* The mask of a layout: the unit test's for its own layout, random for a
 * random mask or any other layout (a kernel that ignores the mask fails the
 * rechecks). */
static uint64_t mask_seed_of(const batch *b, uint64_t layout_seed)
{
    if (layout_seed)
        return layout_seed ^ 0x3a5c0ffeeull;
    return b->mask_kind == MASK_RANDOM ? (uint64_t)b->seed ^ 0x3a5cull : 0;
}

/* Is key `key` visible to query `row` of request `req`, by the causal
 * rule, the window and the mask bit `bit` (ignored without a mask)? */
static int visible(const batch *b, int64_t req, int64_t row, int64_t key, int bit)
{
    int64_t P = b->prefix[req];
    if (key >= P && b->causal && key - P > row)
        return 0;
    if (b->window > 0 && P + row - key > b->window)
        return 0;
    if (b->mask_kind != MASK_NONE && !(key < P && b->skip_prefix))
        return bit;
    return 1;
}

/* Keys visible to query `row` of request `req` without a random mask:
 * counted, not enumerated (the claim's shapes have 10^8 pairs a head). */
static int64_t visible_count(const batch *b, int64_t req, int64_t row)
{
    int64_t P = b->prefix[req], E = b->extend[req];
    /* The unit test's mask is the causal triangle over the whole prefix. */
    int64_t last = b->causal || b->mask_kind == MASK_UNIT_TEST ? row : E - 1;
    if (b->window <= 0)
        return P + last + 1;
    int64_t first_prefix = P + row - b->window; /* the window ends here */
    first_prefix = first_prefix < 0 ? 0 : first_prefix > P ? P : first_prefix;
    int64_t first_extend = row - b->window < 0 ? 0 : row - b->window;
    return (P - first_prefix) + (last - first_extend + 1);
}

/* Query-key pairs the masks leave visible, per head: the work a kernel
 * cannot skip (FLOPs). */
static int64_t attended_pairs(const batch *b)
{
    uint64_t seed = mask_seed_of(b, 0);
    int64_t pairs = 0;
    for (int64_t i = 0; i < b->B; i++) {
        int64_t P = b->prefix[i], E = b->extend[i];
        for (int64_t j = 0; j < E; j++) {
            if (b->mask_kind != MASK_RANDOM) {
                pairs += visible_count(b, i, j);
                continue;
            }
            for (int64_t k = 0; k < P + E; k++)
                pairs += visible(b, i, j, k, mask_bit(b, seed, i, j, k));
        }
    }
    return pairs;
}

static int derive(kg_symtab *t, kg_error *err)
{
    batch b;
    int rc = read_batch(t, &b, err);
    if (rc)
        return rc;
    int64_t sum_e = 0, sum_p = 0, max_e = 0, prefix_pairs = 0, causal_pairs = 0, mask = 0;
    for (int64_t i = 0; i < b.B; i++) {
        sum_e += b.extend[i];
        sum_p += b.prefix[i];
        max_e = b.extend[i] > max_e ? b.extend[i] : max_e;
        prefix_pairs += b.extend[i] * b.prefix[i];
        causal_pairs += b.extend[i] * (b.extend[i] + 1) / 2;
        mask += b.extend[i] * (b.prefix[i] + b.extend[i]);
    }
    if (b.mask_kind == MASK_RANDOM && mask > MAX_RANDOM_MASK)
        return kg_error_set(err, KG_ERR_INVALID,
                            "a random custom mask of %lld elements (at most %d: it is drawn "
                            "and counted bit by bit)",
                            (long long)mask, MAX_RANDOM_MASK);
    if (kg_symtab_set(t, "sum_extend", sum_e) || kg_symtab_set(t, "sum_prefix", sum_p) ||
        kg_symtab_set(t, "max_extend", max_e) || kg_symtab_set(t, "kv_tokens", sum_p + sum_e) ||
        kg_symtab_set(t, "prefix_pairs", prefix_pairs) ||
        kg_symtab_set(t, "causal_pairs", causal_pairs) ||
        kg_symtab_set(t, "use_custom_mask", b.mask_kind != MASK_NONE) ||
        kg_symtab_set(t, "mask_elements", b.mask_kind != MASK_NONE ? mask : 1) ||
        kg_symtab_set(t, "attended_pairs", attended_pairs(&b))) {
        return kg_error_set(err, KG_ERR_INVALID, "too many symbols");
    }
    return 0;
}

/* sm_scale 0 means 1/sqrt(D), as upstream's `sm_scale or 1.0 / Lq**0.5`. */
static int derive_params(const kg_symtab *t, kg_param_value *params, size_t count, kg_error *err)
{
    return kg_ref_attention_params(t, "D", params, count, err);
}

/* The batch of a layout: the shape's own for seed 0; for any other seed
 * the requests permuted (each keeps its pair of lengths, so every sum and
 * the longest extend are unchanged). */
static int layout_batch(const kg_symtab *t, uint64_t layout_seed, batch *b, kg_rng *rng)
{
    if (read_batch(t, b, NULL))
        return -1;
    kg_rng_seed(rng, layout_seed ^ 0x1a9047ull);
    if (!layout_seed)
        return 0;
    int32_t order[MAX_BATCH];
    for (int64_t i = 0; i < b->B; i++)
        order[i] = (int32_t)i;
    kg_ref_shuffle_i32(order, b->B, rng);
    batch permuted = *b;
    for (int64_t i = 0; i < b->B; i++) {
        permuted.prefix[i] = b->prefix[order[i]];
        permuted.extend[i] = b->extend[order[i]];
    }
    *b = permuted;
    return 0;
}

/* The cache holds each request's prefix then its extend tokens, request
 * after request; kv_indices point at the prefix slots. With shuffle, the
 * slots are a random permutation of the whole cache; another layout seed (a
 * recheck) scatters the cache over a fresh random permutation. */
static int fill_kv_indices(const batch *b, uint64_t layout_seed, kg_rng *rng, kg_host_tensor *out)
{
    int32_t *v = out->data;
    int64_t tokens = 0;
    for (int64_t i = 0; i < b->B; i++)
        tokens += b->prefix[i] + b->extend[i];
    int32_t *slot = malloc((size_t)tokens * sizeof *slot);
    if (!slot)
        return -1;
    for (int64_t s = 0; s < tokens; s++)
        slot[s] = (int32_t)s;
    if (layout_seed) {
        kg_ref_shuffle_i32(slot, tokens, rng);
    } else if (b->shuffle) {
        kg_rng shape_rng;
        kg_rng_seed(&shape_rng, (uint64_t)b->seed ^ 0x5eed5eed5eedull);
        kg_ref_shuffle_i32(slot, tokens, &shape_rng);
    }
    size_t n = 0;
    int64_t start = 0;
    for (int64_t i = 0; i < b->B; i++) {
        for (int64_t p = 0; p < b->prefix[i] && n < out->count; p++)
            v[n++] = slot[start + p];
        start += b->prefix[i] + b->extend[i];
    }
    free(slot);
    return n == out->count ? 0 : -1;
}

/* custom_mask: request after request, its E x (P + E) rows (a single 0
 * byte without a mask); mask_indptr (i64): where each request's rows start. */
static int fill_mask(const batch *b, uint64_t layout_seed, kg_host_tensor *out)
{
    int is_indptr = strcmp(out->name, "mask_indptr") == 0;
    if (is_indptr ? out->count < (size_t)b->B + 1 : b->mask_kind == MASK_NONE) {
        memset(out->data, 0, out->count * (is_indptr ? sizeof(int64_t) : 1));
        return is_indptr ? -1 : 0;
    }
    int64_t *ptr = out->data;
    uint8_t *bits = out->data;
    uint64_t seed = mask_seed_of(b, layout_seed);
    size_t at = 0;
    for (int64_t i = 0; i < b->B; i++) {
        int64_t width = b->prefix[i] + b->extend[i];
        if (is_indptr) {
            ptr[i] = (int64_t)at;
            at += (size_t)(b->extend[i] * width);
            continue;
        }
        for (int64_t j = 0; j < b->extend[i]; j++)
            for (int64_t k = 0; k < width && at < out->count; k++)
                bits[at++] = (uint8_t)(b->mask_kind ? mask_bit(b, seed, i, j, k) : 0);
    }
    if (is_indptr)
        ptr[b->B] = (int64_t)at;
    return is_indptr || at == out->count ? 0 : -1;
}

static int fill(const kg_symtab *t, uint64_t layout_seed, kg_host_tensor *out)
{
    batch b;
    kg_rng rng;
    if (layout_batch(t, layout_seed, &b, &rng))
        return -1;
    if (strcmp(out->name, "qo_indptr") == 0 || strcmp(out->name, "kv_indptr") == 0) {
        int32_t *v = out->data;
        const int64_t *len = out->name[0] == 'q' ? b.extend : b.prefix;
        if (out->count < (size_t)b.B + 1)
            return -1;
        v[0] = 0;
        for (int64_t i = 0; i < b.B; i++)
            v[i + 1] = v[i] + (int32_t)len[i];
        return 0;
    }
    if (strcmp(out->name, "kv_indices") == 0)
        return fill_kv_indices(&b, layout_seed, &rng, out);
    if (strcmp(out->name, "custom_mask") == 0 || strcmp(out->name, "mask_indptr") == 0)
        return fill_mask(&b, layout_seed, out);
    return -1;
}

/* A few prefix tokens re-pointed at other cache slots, and one boundary
 * between two requests moved by a token where both stay within [1, the
 * longest extend] (extend) or >= 1 (prefix): sums and the longest extend,
 * which kernels size their grids by, are unchanged. With a custom mask the
 * boundaries stay (the mask's rows follow the lengths). */
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
    if (B >= 2 && !kg_ref_symbol(in, "use_custom_mask")) {
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

/* One unit per extend token: its Hq x Dv output row. */
static int layout(const kg_ref_inputs *in, size_t output, size_t *unit_count, size_t *unit_len)
{
    (void)output; /* the only one */
    int64_t tokens = kg_ref_symbol(in, "sum_extend");
    int64_t hq = kg_ref_symbol(in, "Hq"), dv = kg_ref_symbol(in, "Dv");
    if (tokens < 0 || hq < 1 || dv < 1)
        return -1;
    *unit_count = (size_t)tokens;
    *unit_len = (size_t)(hq * dv);
    return 0;
}

static double dot(const kg_host_tensor *a, size_t ai, const kg_host_tensor *b, size_t bi, int64_t d)
{
    double s = 0;
    for (int64_t k = 0; k < d; k++)
        s += kg_ref_at(a, ai + (size_t)k) * kg_ref_at(b, bi + (size_t)k);
    return s;
}

/* One query token: where its keys are and which of them it sees. */
typedef struct query {
    const kg_ref_inputs *in;
    const kg_host_tensor *q, *ke, *ve, *kb, *vb, *mask;
    const int32_t *kv_idx;
    int64_t Hq, Hkv, D, Dv, unit, req, row, prefix, extend, kv_start, extend_start;
    int64_t mask_start;
    batch opts; /* is_causal, the window, the mask's use */
} query;

static int find_query(const kg_ref_inputs *in, size_t unit, query *qr)
{
    const kg_host_tensor *qo = kg_ref_tensor(in, "qo_indptr"),
                         *kvp = kg_ref_tensor(in, "kv_indptr"),
                         *kvi = kg_ref_tensor(in, "kv_indices"),
                         *mip = kg_ref_tensor(in, "mask_indptr");
    *qr = (query){.in = in,
                  .q = kg_ref_tensor(in, "q_extend"),
                  .ke = kg_ref_tensor(in, "k_extend"),
                  .ve = kg_ref_tensor(in, "v_extend"),
                  .kb = kg_ref_tensor(in, "k_buffer"),
                  .vb = kg_ref_tensor(in, "v_buffer"),
                  .mask = kg_ref_tensor(in, "custom_mask"),
                  .Hq = kg_ref_symbol(in, "Hq"),
                  .Hkv = kg_ref_symbol(in, "Hkv"),
                  .D = kg_ref_symbol(in, "D"),
                  .Dv = kg_ref_symbol(in, "Dv"),
                  .unit = (int64_t)unit};
    int64_t B = kg_ref_symbol(in, "B");
    if (!qr->q || !qr->ke || !qr->ve || !qr->kb || !qr->vb || !qr->mask || !qo || !kvp || !kvi ||
        !mip || B < 1 || qr->Hkv < 1 || qr->D < 1 || qr->Dv < 1)
        return -1;
    const int32_t *qo_ptr = qo->data, *kv_ptr = kvp->data;
    int64_t i = 0; /* the request of this token */
    while (i < B && (int64_t)unit >= qo_ptr[i + 1])
        i++;
    if (i == B)
        return -1;
    qr->req = i;
    qr->row = (int64_t)unit - qo_ptr[i]; /* its position among the extend tokens */
    qr->extend_start = qo_ptr[i];
    qr->extend = qo_ptr[i + 1] - qo_ptr[i];
    qr->kv_start = kv_ptr[i];
    qr->prefix = kv_ptr[i + 1] - kv_ptr[i];
    qr->kv_idx = kvi->data;
    qr->mask_start = ((const int64_t *)mip->data)[i];
    qr->opts.causal = kg_ref_symbol(in, "is_causal");
    qr->opts.window = kg_ref_symbol(in, "sliding_window");
    qr->opts.mask_kind = kg_ref_symbol(in, "use_custom_mask");
    qr->opts.skip_prefix = kg_ref_symbol(in, "skip_prefix_custom_mask");
    qr->opts.prefix[0] = qr->prefix;
    return 0;
}

/* Key n (prefix first) of the query: its K/V row offset, and whether the
 * query sees it. */
static int key_of(const query *qr, int64_t n, size_t *kv_row)
{
    *kv_row = n < qr->prefix ? (size_t)qr->kv_idx[qr->kv_start + n]
                             : (size_t)(qr->extend_start + (n - qr->prefix));
    int bit = 1;
    if (qr->opts.mask_kind) {
        size_t at = (size_t)(qr->mask_start + qr->row * (qr->prefix + qr->extend) + n);
        bit = at < qr->mask->count && ((const uint8_t *)qr->mask->data)[at] != 0;
    }
    return visible(&qr->opts, 0, qr->row, n, bit);
}

static int compute(const kg_ref_inputs *in, size_t output, size_t unit, double *out)
{
    (void)output; /* the only one */
    query qr;
    if (find_query(in, unit, &qr))
        return -1;
    double scale = kg_ref_param(in, "sm_scale"), cap = kg_ref_param(in, "logit_cap");
    int64_t keys = qr.prefix + qr.extend;
    double *logit = malloc((size_t)keys * sizeof *logit);
    if (!logit)
        return -1;
    for (int64_t h = 0; h < qr.Hq; h++) {
        size_t kvh = (size_t)(h / (qr.Hq / qr.Hkv));
        size_t q_at = ((size_t)unit * (size_t)qr.Hq + (size_t)h) * (size_t)qr.D;
        double max = -INFINITY, sum = 0;
        for (int64_t n = 0; n < keys; n++) {
            size_t row;
            logit[n] = -INFINITY;
            if (!key_of(&qr, n, &row))
                continue;
            const kg_host_tensor *k = n < qr.prefix ? qr.kb : qr.ke;
            double s =
                scale * dot(qr.q, q_at, k, (row * (size_t)qr.Hkv + kvh) * (size_t)qr.D, qr.D);
            logit[n] = cap > 0 ? cap * tanh(s / cap) : s;
            max = logit[n] > max ? logit[n] : max;
        }
        for (int64_t n = 0; n < keys; n++)
            sum += logit[n] = exp(logit[n] - max); /* masked keys: exp(-inf) = 0 */
        double *o = out + h * qr.Dv;
        for (int64_t d = 0; d < qr.Dv; d++)
            o[d] = 0;
        for (int64_t n = 0; n < keys; n++) {
            size_t row;
            if (!key_of(&qr, n, &row))
                continue;
            const kg_host_tensor *v = n < qr.prefix ? qr.vb : qr.ve;
            size_t at = (row * (size_t)qr.Hkv + kvh) * (size_t)qr.Dv;
            for (int64_t d = 0; d < qr.Dv; d++)
                o[d] += logit[n] / sum * kg_ref_at(v, at + (size_t)d);
        }
    }
    free(logit);
    return 0;
}

const kg_reference kg_reference_extend_attention = {
    .workload = "extend_attention",
    .needs = "q_extend, k_extend, v_extend, k_buffer, v_buffer, qo_indptr, kv_indptr, kv_indices, "
             "custom_mask, mask_indptr, kv_tokens, max_extend, B, Hq, Hkv, D, Dv, is_causal, "
             "sliding_window, use_custom_mask, skip_prefix_custom_mask, sum_extend, sm_scale, "
             "logit_cap",
    .output = "o_extend",
    .layout = layout,
    .compute = compute,
    .derive = derive,
    .derive_params = derive_params,
    .fill = fill,
    .nudge = nudge,
};
