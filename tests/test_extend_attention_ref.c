/*
 * The extend-attention CPU reference against cases computed by hand, and
 * its batch structure: lengths drawn within [1, N_CTX/2), index tensors
 * consistent with them, shuffled prefixes a permutation of cache slots.
 */
#include "kg_test.h"
#include "reference.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

extern const kg_reference kg_reference_extend_attention;
static const kg_reference *ref = &kg_reference_extend_attention;

static kg_host_tensor tensor(const char *name, kg_dtype dtype, size_t count, void *data)
{
    kg_host_tensor t = {.name = name, .dtype = dtype, .rank = 1, .count = count, .data = data};
    t.dims[0] = (int64_t)count;
    return t;
}

/* The options the workload shares with SGLang's kernel, each checked on a
 * case small enough to write down: B = 1 request with 2 prefix tokens
 * (cache slots 2 and 0) and 2 extend tokens, D = 1 (a logit is q * k),
 * Dv = 2, and which keys each query sees spelled out by hand per case. */
typedef struct hand_case {
    const char *what;
    int hq, causal, mask, skip_prefix, window;
    double sm_scale, cap;
    uint8_t bits[8]; /* the custom mask: 2 rows x (2 prefix + 2 extend) */
    int sees[2][4];  /* [query][key]: keys p0, p1, e0, e1, by hand */
} hand_case;

static void set_symbols(kg_symtab *sym, const hand_case *c)
{
    kg_symtab_init(sym);
    kg_symtab_set(sym, "B", 1);
    kg_symtab_set(sym, "Hq", c->hq);
    kg_symtab_set(sym, "Hkv", 1);
    kg_symtab_set(sym, "D", 1);
    kg_symtab_set(sym, "Dv", 2);
    kg_symtab_set(sym, "is_causal", c->causal);
    kg_symtab_set(sym, "use_custom_mask", c->mask);
    kg_symtab_set(sym, "skip_prefix_custom_mask", c->skip_prefix);
    kg_symtab_set(sym, "sliding_window", c->window);
    kg_symtab_set(sym, "sum_extend", 2);
}

static void check_hand_case(const hand_case *c)
{
    const int hq = c->hq;
    const double qv[2][2] = {{1, 2}, {-1, 0.5}}; /* [token][head] */
    const double kv[4] = {0.5, -2, 1, -1};       /* p0, p1, e0, e1 */
    const double vv[4][2] = {{2, -1}, {3, 0.5}, {4, 1}, {6, -3}};
    uint16_t q[4], ke[2], ve[4], kb[3], vb[6];
    for (int t = 0; t < 2; t++)
        for (int h = 0; h < hq; h++)
            kg_dtype_store(KG_DTYPE_BF16, q, (size_t)(t * hq + h), qv[t][h]);
    /* The cache: slot 2 holds p0, slot 0 holds p1, slot 1 is never read. */
    const int slot[2] = {2, 0};
    for (int d = 0; d < 2; d++) {
        kg_dtype_store(KG_DTYPE_BF16, vb, (size_t)(1 * 2 + d), 99);
        for (int p = 0; p < 2; p++)
            kg_dtype_store(KG_DTYPE_BF16, vb, (size_t)(slot[p] * 2 + d), vv[p][d]);
        for (int e = 0; e < 2; e++)
            kg_dtype_store(KG_DTYPE_BF16, ve, (size_t)(e * 2 + d), vv[2 + e][d]);
    }
    kg_dtype_store(KG_DTYPE_BF16, kb, 1, 99);
    for (int p = 0; p < 2; p++)
        kg_dtype_store(KG_DTYPE_BF16, kb, (size_t)slot[p], kv[p]);
    for (int e = 0; e < 2; e++)
        kg_dtype_store(KG_DTYPE_BF16, ke, (size_t)e, kv[2 + e]);
    int32_t qo[2] = {0, 2}, kvp[2] = {0, 2}, kvi[2] = {2, 0};
    int64_t mip[2] = {0, 8};
    uint8_t bits[8];
    memcpy(bits, c->bits, sizeof bits);
    kg_host_tensor ts[] = {
        tensor("q_extend", KG_DTYPE_BF16, (size_t)(2 * hq), q),
        tensor("k_extend", KG_DTYPE_BF16, 2, ke),
        tensor("v_extend", KG_DTYPE_BF16, 4, ve),
        tensor("k_buffer", KG_DTYPE_BF16, 3, kb),
        tensor("v_buffer", KG_DTYPE_BF16, 6, vb),
        tensor("qo_indptr", KG_DTYPE_I32, 2, qo),
        tensor("kv_indptr", KG_DTYPE_I32, 2, kvp),
        tensor("kv_indices", KG_DTYPE_I32, 2, kvi),
        tensor("custom_mask", KG_DTYPE_U8, 8, bits),
        tensor("mask_indptr", KG_DTYPE_I64, 2, mip),
    };
    kg_symtab sym;
    set_symbols(&sym, c);
    kg_param_value params[2] = {{"sm_scale", c->sm_scale}, {"logit_cap", c->cap}};
    kg_ref_inputs in = {.tensors = ts,
                        .tensor_count = sizeof ts / sizeof ts[0],
                        .symbols = &sym,
                        .params = params,
                        .param_count = 2};
    size_t units = 0, len = 0;
    KG_CHECK_INT(ref->layout(&in, 0, &units, &len), 0);
    KG_CHECK_INT(units, 2);
    KG_CHECK_INT(len, (size_t)(2 * hq)); /* Hq x Dv */
    for (int t = 0; t < 2; t++) {
        double out[4];
        KG_CHECK_INT(ref->compute(&in, 0, (size_t)t, out), 0);
        for (int h = 0; h < hq; h++) {
            double num[2] = {0, 0}, den = 0;
            for (int k = 0; k < 4; k++) {
                if (!c->sees[t][k])
                    continue;
                double s = c->sm_scale * qv[t][h] * kv[k];
                s = c->cap > 0 ? c->cap * tanh(s / c->cap) : s;
                den += exp(s);
                for (int d = 0; d < 2; d++)
                    num[d] += exp(s) * vv[k][d];
            }
            for (int d = 0; d < 2; d++)
                KG_CHECK_MSG(fabs(out[h * 2 + d] - num[d] / den) < 1e-12,
                             "%s: token %d head %d column %d: %.15g, by hand %.15g", c->what, t, h,
                             d, out[h * 2 + d], num[d] / den);
        }
    }
}

static void hand_cases(void)
{
    const hand_case cases[] = {
        {"causal", 1, 1, 0, 0, 0, 1.0, 0, {0}, {{1, 1, 1, 0}, {1, 1, 1, 1}}},
        {"two heads on one KV head", 2, 1, 0, 0, 0, 1.0, 0, {0}, {{1, 1, 1, 0}, {1, 1, 1, 1}}},
        {"sm_scale 0.7, logit_cap 0.6", 2, 1, 0, 0, 0, 0.7, 0.6, {0}, {{1, 1, 1, 0}, {1, 1, 1, 1}}},
        {"not causal", 1, 0, 0, 0, 0, 1.0, 0, {0}, {{1, 1, 1, 1}, {1, 1, 1, 1}}},
        /* Positions p0 0, p1 1, e0 2, e1 3: query j at 2 + j sees keys
         * at most 1 behind. */
        {"sliding window 1", 2, 1, 0, 0, 1, 1.0, 0, {0}, {{0, 1, 1, 0}, {0, 0, 1, 1}}},
        {"custom mask",
         1,
         1,
         1,
         0,
         0,
         1.0,
         0,
         {1, 0, 1, 0, 0, 1, 1, 1},
         {{1, 0, 1, 0}, {0, 1, 1, 1}}},
        {"custom mask, prefix skipped",
         1,
         1,
         1,
         1,
         0,
         1.0,
         0,
         {1, 0, 1, 0, 0, 1, 1, 1},
         {{1, 1, 1, 0}, {1, 1, 1, 1}}},
        {"custom mask, not causal",
         2,
         0,
         1,
         0,
         0,
         0.5,
         0,
         {0, 1, 1, 1, 1, 0, 0, 1},
         {{0, 1, 1, 1}, {1, 0, 0, 1}}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_hand_case(&cases[i]);
}

/* The symbols of a batch of 5 requests with N_CTX 20, options off. */
static void batch_symbols(kg_symtab *sym, int shuffle)
{
    kg_symtab_init(sym);
    kg_symtab_set(sym, "B", 5);
    kg_symtab_set(sym, "N_CTX", 20);
    kg_symtab_set(sym, "Hq", 4);
    kg_symtab_set(sym, "Hkv", 2);
    kg_symtab_set(sym, "D", 8);
    kg_symtab_set(sym, "Dv", 8);
    kg_symtab_set(sym, "is_causal", 1);
    kg_symtab_set(sym, "mask_kind", 0);
    kg_symtab_set(sym, "skip_prefix_custom_mask", 0);
    kg_symtab_set(sym, "sliding_window", 0);
    kg_symtab_set(sym, "shuffle", shuffle);
    kg_symtab_set(sym, "length_seed", 7);
}

static void structure(int shuffle)
{
    kg_symtab sym;
    batch_symbols(&sym, shuffle);
    kg_error why = {0};
    KG_CHECK_MSG(ref->derive(&sym, &why) == 0, "%s", why.message);
    int64_t sum_e = 0, sum_p = 0, max_e = 0, kv_tokens = 0, prefix_pairs = 0, causal_pairs = 0;
    kg_symtab_get(&sym, "sum_extend", &sum_e);
    kg_symtab_get(&sym, "sum_prefix", &sum_p);
    kg_symtab_get(&sym, "max_extend", &max_e);
    kg_symtab_get(&sym, "kv_tokens", &kv_tokens);
    kg_symtab_get(&sym, "prefix_pairs", &prefix_pairs);
    kg_symtab_get(&sym, "causal_pairs", &causal_pairs);
    KG_CHECK_INT(kv_tokens, sum_e + sum_p);

    int32_t qo[6], kvp[6];
    int32_t *kvi = calloc((size_t)sum_p, sizeof *kvi);
    kg_host_tensor tq = tensor("qo_indptr", KG_DTYPE_I32, 6, qo);
    kg_host_tensor tp = tensor("kv_indptr", KG_DTYPE_I32, 6, kvp);
    kg_host_tensor ti = tensor("kv_indices", KG_DTYPE_I32, (size_t)sum_p, kvi);
    KG_CHECK_INT(ref->fill(&sym, 0, &tq), 0);
    KG_CHECK_INT(ref->fill(&sym, 0, &tp), 0);
    KG_CHECK_INT(ref->fill(&sym, 0, &ti), 0);
    KG_CHECK_INT(qo[5], sum_e);
    KG_CHECK_INT(kvp[5], sum_p);
    int64_t max_seen = 0, pairs = 0, causal = 0;
    for (int i = 0; i < 5; i++) {
        int64_t e = qo[i + 1] - qo[i], p = kvp[i + 1] - kvp[i];
        KG_CHECK(e >= 1 && e < 10 && p >= 1 && p < 10); /* [1, N_CTX/2) */
        max_seen = e > max_seen ? e : max_seen;
        pairs += e * p;
        causal += e * (e + 1) / 2;
    }
    KG_CHECK_INT(max_e, max_seen);
    KG_CHECK_INT(prefix_pairs, pairs);
    KG_CHECK_INT(causal_pairs, causal);
    /* Every index a distinct cache slot; contiguous or not as asked. */
    char *used = calloc((size_t)kv_tokens, 1);
    int distinct = 1, in_order = 1;
    for (int64_t i = 0; i < sum_p; i++) {
        KG_CHECK(kvi[i] >= 0 && kvi[i] < kv_tokens);
        if (kvi[i] >= 0 && kvi[i] < kv_tokens) {
            distinct &= !used[kvi[i]];
            used[kvi[i]] = 1;
        }
        if (i > 0 && kvi[i] != kvi[i - 1] + 1)
            in_order = 0;
    }
    KG_CHECK(distinct);
    if (!shuffle)
        KG_CHECK_INT(kvi[0], 0); /* request 0's prefix starts the cache */
    KG_CHECK(shuffle ? !in_order : 1);
    free(used);
    free(kvi);

    /* The same symbols always give the same batch. */
    int32_t again[6];
    kg_host_tensor ta = tensor("qo_indptr", KG_DTYPE_I32, 6, again);
    KG_CHECK_INT(ref->fill(&sym, 0, &ta), 0);
    KG_CHECK(memcmp(again, qo, sizeof qo) == 0);
}

/* The recheck's layouts (another layout seed) and nudges keep every size
 * a kernel may read, and stay valid, while changing the layout. */
static void recheck_layouts(void)
{
    kg_symtab sym;
    batch_symbols(&sym, 0);
    kg_error why = {0};
    KG_CHECK_MSG(ref->derive(&sym, &why) == 0, "%s", why.message);
    int64_t sum_e = 0, sum_p = 0, max_e = 0, kv_tokens = 0;
    kg_symtab_get(&sym, "sum_extend", &sum_e);
    kg_symtab_get(&sym, "sum_prefix", &sum_p);
    kg_symtab_get(&sym, "max_extend", &max_e);
    kg_symtab_get(&sym, "kv_tokens", &kv_tokens);
    int32_t qo[2][6], kvp[2][6];
    int32_t *kvi[2] = {calloc((size_t)sum_p, sizeof(int32_t)),
                       calloc((size_t)sum_p, sizeof(int32_t))};
    kg_host_tensor ts[2][3];
    for (int k = 0; k < 2; k++) {
        uint64_t seed = k ? 9 : 0;
        ts[k][0] = tensor("qo_indptr", KG_DTYPE_I32, 6, qo[k]);
        ts[k][1] = tensor("kv_indptr", KG_DTYPE_I32, 6, kvp[k]);
        ts[k][2] = tensor("kv_indices", KG_DTYPE_I32, (size_t)sum_p, kvi[k]);
        for (int i = 0; i < 3; i++)
            KG_CHECK_INT(ref->fill(&sym, seed, &ts[k][i]), 0);
    }
    /* Same multiset of (extend, prefix) pairs, so the same sums and maxima. */
    int matched[5] = {0};
    for (int i = 0; i < 5; i++) {
        int64_t e = qo[1][i + 1] - qo[1][i], p = kvp[1][i + 1] - kvp[1][i];
        for (int j = 0; j < 5; j++)
            if (!matched[j] && qo[0][j + 1] - qo[0][j] == e && kvp[0][j + 1] - kvp[0][j] == p) {
                matched[j] = 1;
                break;
            }
    }
    for (int j = 0; j < 5; j++)
        KG_CHECK_MSG(matched[j], "request %d's lengths are missing from the redrawn layout", j);
    char *used = calloc((size_t)kv_tokens, 1);
    int distinct = 1, same_indices = 1;
    for (int64_t i = 0; i < sum_p; i++) {
        KG_CHECK(kvi[1][i] >= 0 && kvi[1][i] < kv_tokens);
        if (kvi[1][i] >= 0 && kvi[1][i] < kv_tokens) {
            distinct &= !used[kvi[1][i]];
            used[kvi[1][i]] = 1;
        }
        same_indices &= kvi[1][i] == kvi[0][i];
    }
    KG_CHECK(distinct);
    KG_CHECK(!same_indices); /* the contiguous cache is no longer contiguous */
    free(used);

    /* A nudge: a few indices re-pointed, boundaries kept valid. */
    kg_host_tensor all[3] = {ts[0][0], ts[0][1], ts[0][2]};
    int32_t before[6];
    memcpy(before, qo[0], sizeof before);
    int32_t *indices_before = malloc((size_t)sum_p * sizeof(int32_t));
    memcpy(indices_before, kvi[0], (size_t)sum_p * sizeof(int32_t));
    kg_ref_inputs in = {.tensors = all, .tensor_count = 3, .symbols = &sym};
    int changed = 0;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        KG_CHECK_INT(ref->nudge(&in, all, seed), 0);
        KG_CHECK_INT(qo[0][5], sum_e);
        KG_CHECK_INT(kvp[0][5], sum_p);
        for (int i = 0; i < 5; i++) {
            int64_t e = qo[0][i + 1] - qo[0][i], p = kvp[0][i + 1] - kvp[0][i];
            KG_CHECK(e >= 1 && e <= max_e && p >= 1);
        }
        for (int64_t i = 0; i < sum_p; i++)
            KG_CHECK(kvi[0][i] >= 0 && kvi[0][i] < kv_tokens);
    }
    changed = memcmp(before, qo[0], sizeof before) != 0 &&
              memcmp(indices_before, kvi[0], (size_t)sum_p * sizeof(int32_t)) != 0;
    KG_CHECK(changed);
    free(indices_before);
    free(kvi[0]);
    free(kvi[1]);
}

/* The custom masks, their offsets and the visible pairs: the unit test's
 * mask for the shape's own layout (the whole prefix and the causal
 * triangle), random ones elsewhere that still never show a later token to
 * a causal query and always show a query its own token. */
static void masks(int kind, int causal)
{
    kg_symtab sym;
    batch_symbols(&sym, 0);
    kg_symtab_set(&sym, "mask_kind", kind);
    kg_symtab_set(&sym, "is_causal", causal);
    kg_error why = {0};
    KG_CHECK_MSG(ref->derive(&sym, &why) == 0, "%s", why.message);
    int64_t elements = 0, use = 0, attended = 0, prefix_pairs = 0, causal_pairs = 0;
    kg_symtab_get(&sym, "mask_elements", &elements);
    kg_symtab_get(&sym, "use_custom_mask", &use);
    kg_symtab_get(&sym, "attended_pairs", &attended);
    kg_symtab_get(&sym, "prefix_pairs", &prefix_pairs);
    kg_symtab_get(&sym, "causal_pairs", &causal_pairs);
    KG_CHECK_INT(use, 1);
    int32_t qo[6], kvp[6];
    int64_t mip[6];
    uint8_t *bits[2] = {malloc((size_t)elements), malloc((size_t)elements)};
    for (int k = 0; k < 2; k++) {
        uint64_t seed = k ? 5 : 0;
        kg_host_tensor tq = tensor("qo_indptr", KG_DTYPE_I32, 6, qo);
        kg_host_tensor tp = tensor("kv_indptr", KG_DTYPE_I32, 6, kvp);
        kg_host_tensor tm = tensor("mask_indptr", KG_DTYPE_I64, 6, mip);
        kg_host_tensor tb = tensor("custom_mask", KG_DTYPE_U8, (size_t)elements, bits[k]);
        KG_CHECK_INT(ref->fill(&sym, seed, &tq), 0);
        KG_CHECK_INT(ref->fill(&sym, seed, &tp), 0);
        KG_CHECK_INT(ref->fill(&sym, seed, &tm), 0);
        KG_CHECK_INT(ref->fill(&sym, seed, &tb), 0);
        KG_CHECK_INT(mip[0], 0);
        KG_CHECK_INT(mip[5], elements);
        int64_t ones = 0, seen = 0, later = 0, diagonal = 1, test_mask = 1;
        for (int i = 0; i < 5; i++) {
            int64_t P = kvp[i + 1] - kvp[i], E = qo[i + 1] - qo[i];
            KG_CHECK_INT(mip[i + 1] - mip[i], E * (P + E));
            for (int64_t j = 0; j < E; j++)
                for (int64_t n = 0; n < P + E; n++) {
                    int bit = bits[k][mip[i] + j * (P + E) + n];
                    ones += bit;
                    seen++;
                    later += n >= P && n - P > j && bit;
                    diagonal &= n != P + j || bit;
                    test_mask &= bit == (n < P || n - P <= j);
                }
        }
        KG_CHECK(diagonal);
        if (causal)
            KG_CHECK_INT(later, 0);
        /* Kind 1 on its own layout is the unit test's mask; random
         * otherwise, about half the bits. */
        if (kind == 1 && !seed) {
            KG_CHECK(test_mask);
            KG_CHECK_INT(attended, prefix_pairs + causal_pairs);
        } else {
            KG_CHECK(!test_mask);
            KG_CHECK(ones > seen / 4 && ones < seen * 3 / 4);
        }
        if (kind == 2 && !seed)
            KG_CHECK_INT(attended, ones); /* every bit counts: the prefix is not skipped */
    }
    KG_CHECK(memcmp(bits[0], bits[1], (size_t)elements) != 0);
    free(bits[0]);
    free(bits[1]);
}

/* Sliding windows: the pairs counted without enumerating them agree with
 * the rule applied key by key. */
static void window_pairs(int window, int causal)
{
    kg_symtab sym;
    batch_symbols(&sym, 0);
    kg_symtab_set(&sym, "sliding_window", window);
    kg_symtab_set(&sym, "is_causal", causal);
    kg_error why = {0};
    KG_CHECK_MSG(ref->derive(&sym, &why) == 0, "%s", why.message);
    int64_t attended = 0;
    kg_symtab_get(&sym, "attended_pairs", &attended);
    int32_t qo[6], kvp[6];
    kg_host_tensor tq = tensor("qo_indptr", KG_DTYPE_I32, 6, qo);
    kg_host_tensor tp = tensor("kv_indptr", KG_DTYPE_I32, 6, kvp);
    KG_CHECK_INT(ref->fill(&sym, 0, &tq), 0);
    KG_CHECK_INT(ref->fill(&sym, 0, &tp), 0);
    int64_t want = 0;
    for (int i = 0; i < 5; i++) {
        int64_t P = kvp[i + 1] - kvp[i], E = qo[i + 1] - qo[i];
        for (int64_t j = 0; j < E; j++)
            for (int64_t pos = 0; pos < P + E; pos++) /* key positions */
                want += (!causal || pos <= P + j) && (window <= 0 || P + j - pos <= window);
    }
    KG_CHECK_MSG(attended == want, "window %d, causal %d: %lld pairs, by enumeration %lld", window,
                 causal, (long long)attended, (long long)want);
}

/* sm_scale 0 is upstream's default, 1/sqrt(D); a negative one is refused,
 * and so is a sliding window with a custom mask. */
static void options(void)
{
    kg_symtab sym;
    batch_symbols(&sym, 0);
    kg_error why = {0};
    KG_CHECK_MSG(ref->derive(&sym, &why) == 0, "%s", why.message);
    kg_param_value params[2] = {{"sm_scale", 0}, {"logit_cap", 2.5}};
    KG_CHECK_INT(ref->derive_params(&sym, params, 2, &why), 0);
    KG_CHECK_NEAR(params[0].value, 1 / sqrt(8.0), 1e-15);
    KG_CHECK_NEAR(params[1].value, 2.5, 0);
    params[0].value = 0.25;
    KG_CHECK_INT(ref->derive_params(&sym, params, 2, &why), 0);
    KG_CHECK_NEAR(params[0].value, 0.25, 0);
    params[1].value = -1;
    KG_CHECK(ref->derive_params(&sym, params, 2, &why) != 0);
    KG_CHECK_CONTAINS(why.message, "logit_cap = -1 must be >= 0");
    kg_symtab_set(&sym, "sliding_window", 4);
    kg_symtab_set(&sym, "mask_kind", 1);
    KG_CHECK(ref->derive(&sym, &why) != 0);
    KG_CHECK_CONTAINS(why.message, "sliding window with a custom mask");
}

int main(void)
{
    hand_cases();
    masks(1, 1);
    masks(2, 1);
    masks(2, 0);
    window_pairs(3, 1);
    window_pairs(1, 0);
    window_pairs(0, 0);
    options();
    structure(0);
    structure(1);
    recheck_layouts();

    kg_symtab bad;
    kg_symtab_init(&bad);
    kg_symtab_set(&bad, "B", 2);
    kg_error why = {0};
    KG_CHECK(ref->derive(&bad, &why) != 0);
    KG_CHECK_CONTAINS(why.message, "needs B, N_CTX");

    /* A huge N_CTX is refused, not summed into an int64 overflow (also
     * tests/fuzz/corpus/fuzz_workload/regress-extend-attention-n-ctx-9e15.json). */
    kg_symtab huge;
    kg_symtab_init(&huge);
    kg_symtab_set(&huge, "B", 1024);
    kg_symtab_set(&huge, "N_CTX", INT64_C(9000000000000000));
    kg_symtab_set(&huge, "Hq", 1);
    kg_symtab_set(&huge, "Hkv", 1);
    kg_symtab_set(&huge, "D", 1);
    kg_symtab_set(&huge, "Dv", 1);
    kg_symtab_set(&huge, "is_causal", 1);
    kg_symtab_set(&huge, "mask_kind", 0);
    kg_symtab_set(&huge, "skip_prefix_custom_mask", 0);
    kg_symtab_set(&huge, "sliding_window", 0);
    kg_symtab_set(&huge, "shuffle", 0);
    kg_symtab_set(&huge, "length_seed", 1);
    KG_CHECK(ref->derive(&huge, &why) != 0);
    KG_CHECK_CONTAINS(why.message, "must be in [4, 2097152]");
    kg_symtab_set(&huge, "N_CTX", 2097152); /* the largest allowed: every sum fits */
    KG_CHECK_MSG(ref->derive(&huge, &why) == 0, "%s", why.message);
    return kg_test_finish("test_extend_attention_ref");
}
