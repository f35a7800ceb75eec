/*
 * CPU reference for decode attention (SGLang's decode_attention_fwd), in
 * double precision from the bf16 inputs; semantics in
 * baselines/decode_attention/README.md.
 *
 * Request i of the batch has one query token (q[i], Hq heads of D) and a
 * context of len_i tokens in the KV cache: k_buffer/v_buffer rows
 * kv_indices[kv_indptr[i] .. kv_indptr[i+1]). Head h reads KV head
 * h / (Hq / Hkv); logits (D wide) are scaled by the parameter sm_scale and,
 * when the parameter logit_cap > 0, capped as cap * tanh(logit / cap);
 * softmax over the whole context (decoding attends to every cached token);
 * values and output Dv wide.
 *
 * The context lengths are part of the shape: with `ragged` (the default)
 * drawn from the shape's `length_seed` uniformly in [ceil(ctx/2), ctx],
 * otherwise every request has exactly `ctx` tokens. The cache has
 * sum_len + 1 slots: slot 0 is never a context token (SGLang's KV pool
 * keeps it for padded tokens) and the contexts are scattered over slots
 * 1 .. sum_len in a random order, as a pool fragmented by many requests
 * hands them out.
 *
 * num_kv_splits holds the per-request split counts SGLang's scheduler
 * hands its Triton decode kernels (read by the triton-reference tier only;
 * the reference does not need it, and any value in [1, max_kv_splits]
 * gives the same attention).
 */
#include "reference.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BATCH    1024
#define MAX_CTX      (1 << 20)
#define MAX_HEAD_DIM 1024
/* Every slot index and prefix sum must fit the int32 index tensors. */
#define MAX_TOKENS (INT64_C(1) << 30)
/* SGLang 0.5.12's split-K setting on CUDA: server_args.py's default
 * triton_attention_num_kv_splits (16 on HIP; a CUDA default is the one the
 * claims' GPUs get), and the SM count get_num_kv_splits_triton scales by,
 * fixed to the H100 SXM's and H200's 132 so that the inputs do not depend
 * on the device grading them. */
#define SGLANG_MAX_KV_SPLITS 8
#define SGLANG_CORE_COUNT    132

/* The symbols this file reads, and the lengths they give. */
typedef struct batch {
    int64_t B, ctx, Hq, Hkv, D, Dv, ragged, seed;
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
    if (b->ctx < 1 || b->ctx > MAX_CTX)
        return kg_error_set(err, KG_ERR_INVALID, "ctx = %lld must be in [1, %d]", (long long)b->ctx,
                            MAX_CTX);
    if (b->Hkv < 1 || b->Hq < b->Hkv || b->Hq % b->Hkv != 0)
        return kg_error_set(err, KG_ERR_INVALID, "Hq = %lld must be a multiple of Hkv = %lld",
                            (long long)b->Hq, (long long)b->Hkv);
    if (b->Hq > 1024 || b->D < 1 || b->D > MAX_HEAD_DIM || b->Dv < 1 || b->Dv > MAX_HEAD_DIM)
        return kg_error_set(err, KG_ERR_INVALID,
                            "Hq = %lld must be at most 1024, D = %lld and Dv = %lld in [1, %d]",
                            (long long)b->Hq, (long long)b->D, (long long)b->Dv, MAX_HEAD_DIM);
    if (b->ragged < 0 || b->ragged > 1)
        return kg_error_set(err, KG_ERR_INVALID, "ragged = %lld must be 0 or 1",
                            (long long)b->ragged);
    if (b->B * b->ctx > MAX_TOKENS)
        return kg_error_set(err, KG_ERR_INVALID,
                            "B x ctx = %lld tokens: at most %lld (int32 cache slots)",
                            (long long)(b->B * b->ctx), (long long)MAX_TOKENS);
    return KG_OK;
}

/* Reads the shape's symbols and draws the lengths; the same symbols always
 * give the same batch. */
static int read_batch(const kg_symtab *t, batch *b, kg_error *err)
{
    if (get(t, "B", &b->B) || get(t, "ctx", &b->ctx) || get(t, "Hq", &b->Hq) ||
        get(t, "Hkv", &b->Hkv) || get(t, "D", &b->D) || get(t, "Dv", &b->Dv) ||
        get(t, "ragged", &b->ragged) || get(t, "length_seed", &b->seed))
        return kg_error_set(err, KG_ERR_INVALID,
                            "needs B, ctx, Hq, Hkv, D, Dv, ragged and length_seed");
    int rc = check_sizes(b, err);
    if (rc)
        return rc;
    kg_rng rng;
    kg_rng_seed(&rng, (uint64_t)b->seed ^ 0xdec0de11ull);
    int64_t shortest = (b->ctx + 1) / 2; /* ceil(ctx / 2) */
    for (int64_t i = 0; i < b->B; i++)
        b->len[i] = b->ragged
                        ? shortest + (int64_t)kg_rng_below(&rng, (uint64_t)(b->ctx - shortest + 1))
                        : b->ctx;
    return KG_OK;
}

static int derive(kg_symtab *t, kg_error *err)
{
    batch b;
    int rc = read_batch(t, &b, err);
    if (rc)
        return rc;
    int64_t sum = 0, longest = 0;
    for (int64_t i = 0; i < b.B; i++) {
        sum += b.len[i];
        longest = b.len[i] > longest ? b.len[i] : longest;
    }
    if (kg_symtab_set(t, "sum_len", sum) || kg_symtab_set(t, "max_len", longest) ||
        kg_symtab_set(t, "kv_slots", sum + 1) ||
        kg_symtab_set(t, "max_kv_splits", SGLANG_MAX_KV_SPLITS))
        return kg_error_set(err, KG_ERR_INVALID, "too many symbols");
    return KG_OK;
}

/* sm_scale 0 means 1/sqrt(D), as upstream's callers pass `1.0 / Lq**0.5`
 * (sglang's triton_backend: layer.scaling, the model's head_dim**-0.5). */
static int derive_params(const kg_symtab *t, kg_param_value *params, size_t count, kg_error *err)
{
    return kg_ref_attention_params(t, "D", params, count, err);
}

/* The batch of a layout: the shape's own for seed 0; for any other seed
 * the requests permuted (each keeps its length, so the sum and the longest
 * are unchanged). `rng` then draws that layout's cache slots. */
static int layout_batch(const kg_symtab *t, uint64_t layout_seed, batch *b, kg_rng *rng)
{
    if (read_batch(t, b, NULL))
        return -1;
    kg_rng_seed(rng, layout_seed ? layout_seed ^ 0x1a9047ull : (uint64_t)b->seed ^ 0x5107ull);
    if (!layout_seed)
        return 0;
    int32_t order[MAX_BATCH];
    for (int64_t i = 0; i < b->B; i++)
        order[i] = (int32_t)i;
    kg_ref_shuffle_i32(order, b->B, rng);
    int64_t len[MAX_BATCH];
    for (int64_t i = 0; i < b->B; i++)
        len[i] = b->len[order[i]];
    memcpy(b->len, len, (size_t)b->B * sizeof len[0]);
    return 0;
}

/* kv_indices: slots 1 .. sum_len in a random order (slot 0 never used). */
static int fill_kv_indices(const batch *b, kg_rng *rng, kg_host_tensor *out)
{
    int64_t tokens = 0;
    for (int64_t i = 0; i < b->B; i++)
        tokens += b->len[i];
    if (out->count != (size_t)tokens)
        return -1;
    int32_t *slot = out->data;
    for (int64_t s = 0; s < tokens; s++)
        slot[s] = (int32_t)(s + 1);
    kg_ref_shuffle_i32(slot, tokens, rng);
    return 0;
}

static int64_t cdiv64(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

/* num_kv_splits as SGLang 0.5.12's Triton backend computes it for a decode
 * batch (triton_backend.py, get_num_kv_splits_triton, with num_group 1):
 * enough splits to even out the batch's lengths, or to give the device's
 * cores work, whichever is more, at most max_kv_splits. The float steps
 * are fp32, as in the Triton kernel. */
static int fill_num_kv_splits(const batch *b, kg_host_tensor *out)
{
    if (out->count != (size_t)b->B)
        return -1;
    int64_t longest = 0, shortest = INT64_MAX;
    for (int64_t i = 0; i < b->B; i++) {
        longest = b->len[i] > longest ? b->len[i] : longest;
        shortest = b->len[i] < shortest ? b->len[i] : shortest;
    }
    if (longest * 8 < shortest * 10) /* lengths within 25%: no evening out */
        shortest = longest;
    int64_t splits1 = cdiv64(longest, shortest);
    splits1 = splits1 < SGLANG_MAX_KV_SPLITS ? splits1 : SGLANG_MAX_KV_SPLITS;
    int64_t chunk1 = cdiv64(longest, splits1);
    float ext_seq_len = (float)longest / 64.0f;
    float scale = fmaxf(log2f(ext_seq_len), 1.0f);
    float cores = (float)SGLANG_CORE_COUNT * scale;
    int64_t ext_cores = (int64_t)(int32_t)cores;
    int64_t group = b->Hq / b->Hkv;
    int64_t block_h = group < 16 ? group : 16;
    int64_t token_grid = group == 1 ? b->B * b->Hq : b->B * cdiv64(b->Hq, block_h);
    int64_t splits2 = cdiv64(ext_cores, token_grid);
    splits2 = splits2 < SGLANG_MAX_KV_SPLITS ? splits2 : SGLANG_MAX_KV_SPLITS;
    int64_t chunk2 = cdiv64(longest, splits2);
    int32_t *v = out->data;
    for (int64_t i = 0; i < b->B; i++) {
        int64_t a = cdiv64(b->len[i], chunk1), c = cdiv64(b->len[i], chunk2);
        v[i] = (int32_t)(a > c ? a : c);
    }
    return 0;
}

static int fill(const kg_symtab *t, uint64_t layout_seed, kg_host_tensor *out)
{
    batch b;
    kg_rng rng;
    if (layout_batch(t, layout_seed, &b, &rng))
        return -1;
    if (strcmp(out->name, "kv_indptr") == 0) {
        int32_t *v = out->data;
        if (out->count != (size_t)b.B + 1)
            return -1;
        v[0] = 0;
        for (int64_t i = 0; i < b.B; i++)
            v[i + 1] = v[i] + (int32_t)b.len[i];
        return 0;
    }
    if (strcmp(out->name, "kv_indices") == 0)
        return fill_kv_indices(&b, &rng, out);
    if (strcmp(out->name, "num_kv_splits") == 0)
        return fill_num_kv_splits(&b, out);
    return -1;
}

/* A few context tokens re-pointed at other cache slots (slot 0 included),
 * and one boundary between two requests moved by a token where both stay
 * within [1, max_len]: the sum and the longest context, which kernels size
 * their grids and scratch by, are unchanged. */
static int nudge(const kg_ref_inputs *in, kg_host_tensor *tensors, uint64_t seed)
{
    kg_host_tensor *ptr_t = NULL, *idx_t = NULL;
    for (size_t i = 0; i < in->tensor_count; i++) {
        if (strcmp(tensors[i].name, "kv_indptr") == 0)
            ptr_t = &tensors[i];
        else if (strcmp(tensors[i].name, "kv_indices") == 0)
            idx_t = &tensors[i];
    }
    int64_t B = kg_ref_symbol(in, "B"), slots = kg_ref_symbol(in, "kv_slots");
    int64_t longest = kg_ref_symbol(in, "max_len");
    if (!ptr_t || !idx_t || B < 1 || slots < 1 || ptr_t->count != (size_t)B + 1)
        return -1;
    kg_rng rng;
    kg_rng_seed(&rng, seed ^ 0xd1ce5ull);
    int32_t *idx = idx_t->data, *ptr = ptr_t->data;
    for (int k = 0; k < 3 && idx_t->count; k++)
        idx[kg_rng_below(&rng, idx_t->count)] = (int32_t)kg_rng_below(&rng, (uint64_t)slots);
    if (B >= 2) {
        int64_t at = 1 + (int64_t)kg_rng_below(&rng, (uint64_t)(B - 1)); /* an inner boundary */
        int32_t step = kg_rng_below(&rng, 2) ? 1 : -1;
        int64_t left = ptr[at] + step - ptr[at - 1], right = ptr[at + 1] - (ptr[at] + step);
        if (left >= 1 && right >= 1 && left <= longest && right <= longest)
            ptr[at] += step;
    }
    return 0;
}

/* One unit per (request, query head): its Dv output values. */
static int layout(const kg_ref_inputs *in, size_t output, size_t *unit_count, size_t *unit_len)
{
    (void)output; /* the only one */
    int64_t B = kg_ref_symbol(in, "B"), hq = kg_ref_symbol(in, "Hq");
    int64_t dv = kg_ref_symbol(in, "Dv");
    if (B < 1 || hq < 1 || dv < 1)
        return -1;
    *unit_count = (size_t)(B * hq);
    *unit_len = (size_t)dv;
    return 0;
}

/* One (request, head): where its query, its context and its KV head are. */
typedef struct unit_view {
    const kg_host_tensor *q, *k, *v;
    const int32_t *slots; /* the request's context, len cache slots */
    int64_t len, D, Dv, Hkv, kv_head, slot_count;
    size_t q_at;
} unit_view;

static int find_unit(const kg_ref_inputs *in, size_t unit, unit_view *u)
{
    const kg_host_tensor *ptr_t = kg_ref_tensor(in, "kv_indptr"),
                         *idx_t = kg_ref_tensor(in, "kv_indices");
    int64_t B = kg_ref_symbol(in, "B"), Hq = kg_ref_symbol(in, "Hq");
    *u = (unit_view){.q = kg_ref_tensor(in, "q"),
                     .k = kg_ref_tensor(in, "k_buffer"),
                     .v = kg_ref_tensor(in, "v_buffer"),
                     .D = kg_ref_symbol(in, "D"),
                     .Dv = kg_ref_symbol(in, "Dv"),
                     .Hkv = kg_ref_symbol(in, "Hkv"),
                     .slot_count = kg_ref_symbol(in, "kv_slots")};
    if (!u->q || !u->k || !u->v || !ptr_t || !idx_t || B < 1 || Hq < 1 || u->Hkv < 1 ||
        Hq % u->Hkv != 0 || u->D < 1 || u->Dv < 1 || (int64_t)unit >= B * Hq ||
        ptr_t->count != (size_t)B + 1)
        return -1;
    int64_t req = (int64_t)unit / Hq, head = (int64_t)unit % Hq;
    const int32_t *ptr = ptr_t->data;
    int64_t start = ptr[req], end = ptr[req + 1];
    if (start < 0 || end <= start || (size_t)end > idx_t->count)
        return -1; /* an empty context has no softmax */
    u->slots = (const int32_t *)idx_t->data + start;
    u->len = end - start;
    u->kv_head = head / (Hq / u->Hkv);
    u->q_at = (size_t)unit * (size_t)u->D; /* q is [B, Hq, D] */
    return 0;
}

static double logit_of(const unit_view *u, int64_t slot, double scale, double cap)
{
    size_t k_at = ((size_t)slot * (size_t)u->Hkv + (size_t)u->kv_head) * (size_t)u->D;
    double s = 0;
    for (int64_t d = 0; d < u->D; d++)
        s += kg_ref_at(u->q, u->q_at + (size_t)d) * kg_ref_at(u->k, k_at + (size_t)d);
    s *= scale;
    return cap > 0 ? cap * tanh(s / cap) : s;
}

static int compute(const kg_ref_inputs *in, size_t output, size_t unit, double *out)
{
    (void)output; /* the only one */
    unit_view u;
    if (find_unit(in, unit, &u))
        return -1;
    for (int64_t n = 0; n < u.len; n++)
        if (u.slots[n] < 0 || u.slots[n] >= u.slot_count)
            return -1;
    double scale = kg_ref_param(in, "sm_scale"), cap = kg_ref_param(in, "logit_cap");
    double *weight = malloc((size_t)u.len * sizeof *weight);
    if (!weight)
        return -1;
    double max = -INFINITY, sum = 0;
    for (int64_t n = 0; n < u.len; n++) {
        weight[n] = logit_of(&u, u.slots[n], scale, cap);
        max = weight[n] > max ? weight[n] : max;
    }
    for (int64_t n = 0; n < u.len; n++)
        sum += weight[n] = exp(weight[n] - max);
    for (int64_t d = 0; d < u.Dv; d++)
        out[d] = 0;
    for (int64_t n = 0; n < u.len; n++) {
        size_t v_at = ((size_t)u.slots[n] * (size_t)u.Hkv + (size_t)u.kv_head) * (size_t)u.Dv;
        for (int64_t d = 0; d < u.Dv; d++)
            out[d] += weight[n] / sum * kg_ref_at(u.v, v_at + (size_t)d);
    }
    free(weight);
    return 0;
}

const kg_reference kg_reference_decode_attention = {
    .workload = "decode_attention",
    .needs = "q, k_buffer, v_buffer, kv_indptr, kv_indices, B, Hq, Hkv, D, Dv, max_len, "
             "kv_slots, sm_scale, logit_cap",
    .output = "o",
    .layout = layout,
    .compute = compute,
    .derive = derive,
    .derive_params = derive_params,
    .fill = fill,
    .nudge = nudge,
};
