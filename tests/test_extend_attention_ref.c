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

/* B = 1 request, 1 prefix token, 2 extend tokens, D = 1: every logit and
 * weight can be written down. */
static void hand_case(int cap, int hq)
{
    uint16_t q[4], ke[2], ve[2], kb[3], vb[3];
    const float qv[4] = {1, 2, -1, 0.5f}; /* token 0 heads 0..1, token 1 heads 0..1 */
    const float kev[2] = {1, -1}, vev[2] = {4, 6}, kbv[3] = {0.5f, 9, 9}, vbv[3] = {2, 9, 9};
    /* Tokens are rows of hq heads; with hq = 1 only q[0], q[1] are used. */
    float qs[4];
    for (int i = 0; i < 4; i++)
        qs[i] = hq == 1 ? (i < 2 ? qv[i * 2] : 0) : qv[i];
    for (int i = 0; i < 4; i++)
        kg_dtype_store(KG_DTYPE_BF16, q, (size_t)i, qs[i]);
    for (int i = 0; i < 2; i++) {
        kg_dtype_store(KG_DTYPE_BF16, ke, (size_t)i, kev[i]);
        kg_dtype_store(KG_DTYPE_BF16, ve, (size_t)i, vev[i]);
    }
    for (int i = 0; i < 3; i++) {
        kg_dtype_store(KG_DTYPE_BF16, kb, (size_t)i, kbv[i]);
        kg_dtype_store(KG_DTYPE_BF16, vb, (size_t)i, vbv[i]);
    }
    int32_t qo[2] = {0, 2}, kvp[2] = {0, 1}, kvi[1] = {0};
    kg_host_tensor ts[] = {
        tensor("q_extend", KG_DTYPE_BF16, (size_t)(2 * hq), q),
        tensor("k_extend", KG_DTYPE_BF16, 2, ke),
        tensor("v_extend", KG_DTYPE_BF16, 2, ve),
        tensor("k_buffer", KG_DTYPE_BF16, 3, kb),
        tensor("v_buffer", KG_DTYPE_BF16, 3, vb),
        tensor("qo_indptr", KG_DTYPE_I32, 2, qo),
        tensor("kv_indptr", KG_DTYPE_I32, 2, kvp),
        tensor("kv_indices", KG_DTYPE_I32, 1, kvi),
    };
    kg_symtab sym;
    kg_symtab_init(&sym);
    kg_symtab_set(&sym, "B", 1);
    kg_symtab_set(&sym, "Hq", hq);
    kg_symtab_set(&sym, "Hkv", 1);
    kg_symtab_set(&sym, "D", 1);
    kg_symtab_set(&sym, "logit_cap", cap);
    kg_symtab_set(&sym, "sum_extend", 2);
    kg_ref_inputs in = {.tensors = ts, .tensor_count = 8, .symbols = &sym};
    size_t units = 0, len = 0;
    KG_CHECK_INT(ref->layout(&in, &units, &len), 0);
    KG_CHECK_INT(units, 2);
    KG_CHECK_INT(len, (size_t)hq);
    for (int token = 0; token < 2; token++) {
        double out[2];
        KG_CHECK_INT(ref->compute(&in, (size_t)token, out), 0);
        for (int h = 0; h < hq; h++) {
            double qq = qs[token * hq + h];
            /* Keys: the prefix (k 0.5, v 2), then extend tokens 0..token. */
            double logits[3] = {qq * 0.5, qq * 1, qq * -1}, values[3] = {2, 4, 6};
            int keys = 2 + token;
            double num = 0, den = 0;
            for (int k = 0; k < keys; k++) {
                double s = cap > 0 ? cap * tanh(logits[k] / cap) : logits[k];
                num += exp(s) * values[k];
                den += exp(s);
            }
            KG_CHECK_NEAR(out[h], num / den, 1e-12);
        }
    }
}

static void structure(int shuffle)
{
    kg_symtab sym;
    kg_symtab_init(&sym);
    kg_symtab_set(&sym, "B", 5);
    kg_symtab_set(&sym, "N_CTX", 20);
    kg_symtab_set(&sym, "Hq", 4);
    kg_symtab_set(&sym, "Hkv", 2);
    kg_symtab_set(&sym, "D", 8);
    kg_symtab_set(&sym, "logit_cap", 0);
    kg_symtab_set(&sym, "shuffle", shuffle);
    kg_symtab_set(&sym, "length_seed", 7);
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
    kg_symtab_init(&sym);
    kg_symtab_set(&sym, "B", 5);
    kg_symtab_set(&sym, "N_CTX", 20);
    kg_symtab_set(&sym, "Hq", 4);
    kg_symtab_set(&sym, "Hkv", 2);
    kg_symtab_set(&sym, "D", 8);
    kg_symtab_set(&sym, "logit_cap", 0);
    kg_symtab_set(&sym, "shuffle", 0);
    kg_symtab_set(&sym, "length_seed", 7);
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

int main(void)
{
    hand_case(0, 1);
    hand_case(1, 1); /* logit cap 1: logits become tanh(logit) */
    hand_case(0, 2); /* two query heads sharing one KV head */
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
    kg_symtab_set(&huge, "shuffle", 0);
    kg_symtab_set(&huge, "length_seed", 1);
    KG_CHECK(ref->derive(&huge, &why) != 0);
    KG_CHECK_CONTAINS(why.message, "must be in [4, 2097152]");
    kg_symtab_set(&huge, "N_CTX", 2097152); /* the largest allowed: every sum fits */
    KG_CHECK_MSG(ref->derive(&huge, &why) == 0, "%s", why.message);
    return kg_test_finish("test_extend_attention_ref");
}
