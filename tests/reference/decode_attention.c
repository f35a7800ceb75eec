/*
 * The decode-attention CPU reference against cases computed by hand, and
 * its batch structure: lengths within [ceil(ctx/2), ctx] (or exactly ctx),
 * kv_indptr their prefix sums, kv_indices a permutation of cache slots
 * 1 .. sum_len, rechecked layouts and nudges that keep every public size,
 * and the split counts of SGLang's scheduler in num_kv_splits.
 */
#include "kg_test.h"
#include "reference.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

extern const kg_reference kg_reference_decode_attention;
static const kg_reference *ref = &kg_reference_decode_attention;

static kg_host_tensor tensor(const char *name, kg_dtype dtype, size_t count, void *data)
{
    kg_host_tensor t = {.name = name, .dtype = dtype, .rank = 1, .count = count, .data = data};
    t.dims[0] = (int64_t)count;
    return t;
}

static void bf16_fill(uint16_t *dst, const double *values, size_t n)
{
    for (size_t i = 0; i < n; i++)
        kg_dtype_store(KG_DTYPE_BF16, dst, i, values[i]);
}

/* The symbols of a batch of B requests, the structure's options fixed. */
static void shape_symbols(kg_symtab *sym, int64_t B, int64_t Hq, int64_t Hkv, int64_t D, int64_t Dv,
                          int64_t sum_len)
{
    kg_symtab_init(sym);
    kg_symtab_set(sym, "B", B);
    kg_symtab_set(sym, "Hq", Hq);
    kg_symtab_set(sym, "Hkv", Hkv);
    kg_symtab_set(sym, "D", D);
    kg_symtab_set(sym, "Dv", Dv);
    kg_symtab_set(sym, "max_len", sum_len);
    kg_symtab_set(sym, "kv_slots", sum_len + 1);
}

/* One request, one head, D = 1 (a logit is q * k), Dv = 2, a context of
 * two tokens at cache slots 2 and 0; slot 1 holds 99s that must not be
 * read. The expected outputs are worked out in the comments. */
static void check_two_keys(const char *what, double q_value, double sm_scale, double cap,
                           const double want[2])
{
    const double k_slots[3] = {-2, 99, 0.5};           /* slot 0: key 1; slot 2: key 0 */
    const double v_slots[6] = {3, 0.5, 99, 99, 2, -1}; /* slot 0: (3, 0.5); slot 2: (2, -1) */
    uint16_t q[1], k[3], v[6], o[2];
    bf16_fill(q, &q_value, 1);
    bf16_fill(k, k_slots, 3);
    bf16_fill(v, v_slots, 6);
    int32_t indptr[2] = {0, 2}, indices[2] = {2, 0};
    kg_host_tensor ts[] = {
        tensor("q", KG_DTYPE_BF16, 1, q),
        tensor("k_buffer", KG_DTYPE_BF16, 3, k),
        tensor("v_buffer", KG_DTYPE_BF16, 6, v),
        tensor("kv_indptr", KG_DTYPE_I32, 2, indptr),
        tensor("kv_indices", KG_DTYPE_I32, 2, indices),
        tensor("o", KG_DTYPE_BF16, 2, o),
    };
    kg_symtab sym;
    shape_symbols(&sym, 1, 1, 1, 1, 2, 2);
    kg_param_value params[2] = {{"sm_scale", sm_scale}, {"logit_cap", cap}};
    kg_ref_inputs in = {
        .tensors = ts, .tensor_count = 6, .symbols = &sym, .params = params, .param_count = 2};
    size_t units = 0, len = 0;
    KG_CHECK_INT(ref->layout(&in, 0, &units, &len), 0);
    KG_CHECK_INT(units, 1);
    KG_CHECK_INT(len, 2);
    double out[2];
    KG_CHECK_INT(ref->compute(&in, 0, 0, out), 0);
    for (int d = 0; d < 2; d++)
        KG_CHECK_MSG(fabs(out[d] - want[d]) < 1e-12, "%s: column %d: %.15g, by hand %.15g", what, d,
                     out[d], want[d]);
}

static void hand_cases(void)
{
    /* Logits 1 * 0.5 = 0.5 and 1 * -2 = -2: weights 1 / (1 + e^-2.5) =
     * 0.92414181997875636 and e^-2.5 / (1 + e^-2.5) = 0.07585818002124355;
     * 0.924... * 2 + 0.0758... * 3 and 0.924... * -1 + 0.0758... * 0.5. */
    const double plain[2] = {2.0758581800212434, -0.8862127299681347};
    check_two_keys("two keys", 1.0, 1.0, 0, plain);
    /* q = 2, sm_scale 0.7: logits 0.7 and -2.8, capped at 0.6:
     * 0.6 tanh(0.7 / 0.6) = 0.49392038735152990 and
     * 0.6 tanh(-2.8 / 0.6) = -0.59989389699597730; weights
     * 0.7495 and 0.2505 (to 4 places), so 2.2509... and -0.6236.... */
    const double capped[2] = {2.2509007044781932, -0.6236489432827101};
    check_two_keys("sm_scale 0.7, logit_cap 0.6", 2.0, 0.7, 0.6, capped);
    /* With the cap far above the logits, nothing changes (to 1e-12 the
     * cap's curvature at 0.7 / 1e6 is nil). */
    check_two_keys("logit_cap 1e6", 1.0, 1.0, 1e6, plain);
}

/* Grouped-query heads: with a context of one token the output is that
 * token's value row for the head's KV head, h / (Hq / Hkv). Two requests
 * (contexts at slots 1 and 2), Hkv = 2, v[slot][kv head] = 10 slot + kv
 * head. */
static void gqa_heads(int hq)
{
    const int hkv = 2;
    double kv_values[6], q_values[8];
    for (int s = 0; s < 3; s++)
        for (int g = 0; g < hkv; g++)
            kv_values[s * hkv + g] = 10 * s + g;
    for (int i = 0; i < 2 * hq; i++)
        q_values[i] = 0.5 * (i + 1);
    uint16_t q[8], k[6], v[6], o[8];
    bf16_fill(q, q_values, (size_t)(2 * hq));
    bf16_fill(k, kv_values, 6);
    bf16_fill(v, kv_values, 6);
    int32_t indptr[3] = {0, 1, 2}, indices[2] = {1, 2};
    kg_host_tensor ts[] = {
        tensor("q", KG_DTYPE_BF16, (size_t)(2 * hq), q),
        tensor("k_buffer", KG_DTYPE_BF16, 6, k),
        tensor("v_buffer", KG_DTYPE_BF16, 6, v),
        tensor("kv_indptr", KG_DTYPE_I32, 3, indptr),
        tensor("kv_indices", KG_DTYPE_I32, 2, indices),
        tensor("o", KG_DTYPE_BF16, (size_t)(2 * hq), o),
    };
    kg_symtab sym;
    shape_symbols(&sym, 2, hq, hkv, 1, 1, 2);
    kg_param_value params[2] = {{"sm_scale", 1.0}, {"logit_cap", 0}};
    kg_ref_inputs in = {
        .tensors = ts, .tensor_count = 6, .symbols = &sym, .params = params, .param_count = 2};
    size_t units = 0, len = 0;
    KG_CHECK_INT(ref->layout(&in, 0, &units, &len), 0);
    KG_CHECK_INT(units, (size_t)(2 * hq)); /* one unit per (request, head) */
    KG_CHECK_INT(len, 1);
    for (int req = 0; req < 2; req++)
        for (int h = 0; h < hq; h++) {
            double out = 0, want = 10 * indices[req] + h / (hq / hkv);
            KG_CHECK_INT(ref->compute(&in, 0, (size_t)(req * hq + h), &out), 0);
            KG_CHECK_MSG(out == want, "Hq %d: request %d head %d: %g, want %g", hq, req, h, out,
                         want);
        }
    /* Invalid inputs are refused, not read: a slot past the cache, an
     * empty context. */
    indices[1] = 3;
    double out = 0;
    KG_CHECK_INT(ref->compute(&in, 0, (size_t)hq, &out), -1);
    indices[1] = 2;
    indptr[1] = 0;
    KG_CHECK_INT(ref->compute(&in, 0, 0, &out), -1);
}

/* The symbols of a batch of 6 requests, context 9. */
static void batch_symbols(kg_symtab *sym, int ragged, int64_t ctx)
{
    kg_symtab_init(sym);
    kg_symtab_set(sym, "B", 6);
    kg_symtab_set(sym, "ctx", ctx);
    kg_symtab_set(sym, "Hq", 4);
    kg_symtab_set(sym, "Hkv", 2);
    kg_symtab_set(sym, "D", 8);
    kg_symtab_set(sym, "Dv", 8);
    kg_symtab_set(sym, "ragged", ragged);
    kg_symtab_set(sym, "length_seed", 7);
}

/* A permutation of slots 1 .. n (slot 0 never used)? */
static int is_slot_permutation(const int32_t *idx, int64_t n)
{
    char *seen = calloc((size_t)n + 1, 1);
    int ok = seen != NULL;
    for (int64_t i = 0; ok && i < n; i++) {
        ok = idx[i] >= 1 && idx[i] <= n && !seen[idx[i]];
        if (ok)
            seen[idx[i]] = 1;
    }
    free(seen);
    return ok;
}

static void structure(int ragged, int64_t ctx)
{
    kg_symtab sym;
    batch_symbols(&sym, ragged, ctx);
    kg_error why = {0};
    KG_CHECK_MSG(ref->derive(&sym, &why) == 0, "%s", why.message);
    int64_t sum = 0, longest = 0, slots = 0;
    kg_symtab_get(&sym, "sum_len", &sum);
    kg_symtab_get(&sym, "max_len", &longest);
    kg_symtab_get(&sym, "kv_slots", &slots);
    KG_CHECK_INT(slots, sum + 1);
    int32_t ptr[7];
    int32_t *idx = calloc((size_t)sum, sizeof *idx);
    kg_host_tensor tp = tensor("kv_indptr", KG_DTYPE_I32, 7, ptr);
    kg_host_tensor ti = tensor("kv_indices", KG_DTYPE_I32, (size_t)sum, idx);
    KG_CHECK_INT(ref->fill(&sym, 0, &tp), 0);
    KG_CHECK_INT(ref->fill(&sym, 0, &ti), 0);
    KG_CHECK_INT(ptr[0], 0);
    KG_CHECK_INT(ptr[6], sum);
    int64_t seen_longest = 0, distinct_lengths = 0;
    for (int i = 0; i < 6; i++) {
        int64_t len = ptr[i + 1] - ptr[i];
        KG_CHECK_MSG(ragged ? len >= (ctx + 1) / 2 && len <= ctx : len == ctx,
                     "ctx %lld, ragged %d: request %d has %lld tokens", (long long)ctx, ragged, i,
                     (long long)len);
        seen_longest = len > seen_longest ? len : seen_longest;
        distinct_lengths += i > 0 && len != ptr[i] - ptr[i - 1];
    }
    KG_CHECK_INT(longest, seen_longest);
    if (ragged && ctx > 2)
        KG_CHECK(distinct_lengths > 0); /* drawn, not all alike */
    KG_CHECK(is_slot_permutation(idx, sum));
    int in_order = 1;
    for (int64_t i = 1; i < sum; i++)
        in_order &= idx[i] == idx[i - 1] + 1;
    if (sum > 2)
        KG_CHECK(!in_order); /* scattered over the cache */
    /* The same symbols always give the same batch. */
    int32_t again[7];
    int32_t *idx_again = calloc((size_t)sum, sizeof *idx_again);
    kg_host_tensor ta = tensor("kv_indptr", KG_DTYPE_I32, 7, again);
    kg_host_tensor tb = tensor("kv_indices", KG_DTYPE_I32, (size_t)sum, idx_again);
    KG_CHECK_INT(ref->fill(&sym, 0, &ta), 0);
    KG_CHECK_INT(ref->fill(&sym, 0, &tb), 0);
    KG_CHECK(memcmp(again, ptr, sizeof ptr) == 0);
    KG_CHECK(memcmp(idx_again, idx, (size_t)sum * sizeof *idx) == 0);
    /* A tensor of the wrong size is refused. */
    kg_host_tensor short_idx = tensor("kv_indices", KG_DTYPE_I32, (size_t)sum - 1, idx_again);
    KG_CHECK_INT(ref->fill(&sym, 0, &short_idx), -1);
    free(idx_again);
    free(idx);
}

/* The recheck's layouts (another layout seed) keep the lengths as a
 * multiset, so every public size; nudges keep them valid. */
static void recheck_layouts(void)
{
    kg_symtab sym;
    batch_symbols(&sym, 1, 9);
    kg_error why = {0};
    KG_CHECK_MSG(ref->derive(&sym, &why) == 0, "%s", why.message);
    int64_t sum = 0, longest = 0, slots = 0;
    kg_symtab_get(&sym, "sum_len", &sum);
    kg_symtab_get(&sym, "max_len", &longest);
    kg_symtab_get(&sym, "kv_slots", &slots);
    int32_t ptr[2][7];
    int32_t *idx[2] = {calloc((size_t)sum, sizeof(int32_t)), calloc((size_t)sum, sizeof(int32_t))};
    kg_host_tensor ts[2][2];
    for (int k = 0; k < 2; k++) {
        ts[k][0] = tensor("kv_indptr", KG_DTYPE_I32, 7, ptr[k]);
        ts[k][1] = tensor("kv_indices", KG_DTYPE_I32, (size_t)sum, idx[k]);
        KG_CHECK_INT(ref->fill(&sym, k ? 9 : 0, &ts[k][0]), 0);
        KG_CHECK_INT(ref->fill(&sym, k ? 9 : 0, &ts[k][1]), 0);
    }
    int matched[6] = {0};
    for (int i = 0; i < 6; i++) {
        int32_t len = ptr[1][i + 1] - ptr[1][i];
        for (int j = 0; j < 6; j++)
            if (!matched[j] && ptr[0][j + 1] - ptr[0][j] == len) {
                matched[j] = 1;
                break;
            }
    }
    for (int j = 0; j < 6; j++)
        KG_CHECK_MSG(matched[j], "request %d's length is missing from the redrawn layout", j);
    KG_CHECK(is_slot_permutation(idx[1], sum));
    KG_CHECK(memcmp(idx[0], idx[1], (size_t)sum * sizeof(int32_t)) != 0);

    /* Nudges: a few slots re-pointed within the cache, a boundary moved,
     * every length within [1, max_len] and the sum kept. */
    int32_t ptr_before[7];
    memcpy(ptr_before, ptr[0], sizeof ptr_before);
    int32_t *idx_before = malloc((size_t)sum * sizeof(int32_t));
    memcpy(idx_before, idx[0], (size_t)sum * sizeof(int32_t));
    kg_ref_inputs in = {.tensors = ts[0], .tensor_count = 2, .symbols = &sym};
    for (uint64_t seed = 1; seed <= 20; seed++) {
        KG_CHECK_INT(ref->nudge(&in, ts[0], seed), 0);
        KG_CHECK_INT(ptr[0][0], 0);
        KG_CHECK_INT(ptr[0][6], sum);
        for (int i = 0; i < 6; i++) {
            int64_t len = ptr[0][i + 1] - ptr[0][i];
            KG_CHECK(len >= 1 && len <= longest);
        }
        for (int64_t i = 0; i < sum; i++)
            KG_CHECK(idx[0][i] >= 0 && idx[0][i] < slots);
    }
    KG_CHECK(memcmp(ptr_before, ptr[0], sizeof ptr_before) != 0);
    KG_CHECK(memcmp(idx_before, idx[0], (size_t)sum * sizeof(int32_t)) != 0);
    free(idx_before);
    free(idx[0]);
    free(idx[1]);
}

/* num_kv_splits for B requests of exactly ctx tokens, Hq/Hkv heads. */
static int32_t uniform_splits(int64_t B, int64_t ctx, int64_t hq, int64_t hkv)
{
    kg_symtab sym;
    kg_symtab_init(&sym);
    kg_symtab_set(&sym, "B", B);
    kg_symtab_set(&sym, "ctx", ctx);
    kg_symtab_set(&sym, "Hq", hq);
    kg_symtab_set(&sym, "Hkv", hkv);
    kg_symtab_set(&sym, "D", 128);
    kg_symtab_set(&sym, "Dv", 128);
    kg_symtab_set(&sym, "ragged", 0);
    kg_symtab_set(&sym, "length_seed", 1);
    kg_error why = {0};
    KG_CHECK_MSG(ref->derive(&sym, &why) == 0, "%s", why.message);
    int64_t cap = 0;
    KG_CHECK(kg_symtab_get(&sym, "max_kv_splits", &cap));
    KG_CHECK_INT(cap, 8);
    int32_t *v = calloc((size_t)B, sizeof *v);
    kg_host_tensor t = tensor("num_kv_splits", KG_DTYPE_I32, (size_t)B, v);
    KG_CHECK_INT(ref->fill(&sym, 0, &t), 0);
    for (int64_t i = 1; i < B; i++)
        KG_CHECK_INT(v[i], v[0]);
    int32_t first = v[0];
    free(v);
    return first;
}

/* SGLang 0.5.12's get_num_kv_splits_triton by hand, 132 cores, at most 8:
 * equal lengths need no evening out (1 split), so the cores' rule decides:
 * cdiv(132 * max(log2(len / 64), 1), programs per split) splits, each
 * request cut into chunks of cdiv(len, that). */
static void split_counts(void)
{
    /* 1 x 8192, 32/8: 924 core-units, 8 programs -> 116, capped at 8. */
    KG_CHECK_INT(uniform_splits(1, 8192, 32, 8), 8);
    /* 64 x 4096, 32/8: 792 over 64 * 8 programs -> 2. */
    KG_CHECK_INT(uniform_splits(64, 4096, 32, 8), 2);
    /* 256 x 1024, 32/8: 528 over 2048 -> 1. */
    KG_CHECK_INT(uniform_splits(256, 1024, 32, 8), 1);
    /* 2 x 33, 8/2 (a smoke shape): log2 < 1 counts as 1: 132 over 2 * 2 -> 8,
     * chunks of cdiv(33, 8) = 5 keys, 7 of them. */
    KG_CHECK_INT(uniform_splits(2, 33, 8, 2), 7);
    /* MHA: programs are B x Hq. 4 x 640, 8/8: 132 * log2(10) = 438 over 32
     * -> 14, capped at 8. */
    KG_CHECK_INT(uniform_splits(4, 640, 8, 8), 8);

    /* Ragged: shortest 5, longest 9 (within 25%? no: 72 >= 50), so splits
     * even out the lengths too; every request's count depends on its
     * length alone, so a redrawn layout permutes them with the requests. */
    kg_symtab sym;
    batch_symbols(&sym, 1, 9);
    kg_error why = {0};
    KG_CHECK_MSG(ref->derive(&sym, &why) == 0, "%s", why.message);
    int32_t ptr[2][7], split[2][6];
    for (int k = 0; k < 2; k++) {
        kg_host_tensor tp = tensor("kv_indptr", KG_DTYPE_I32, 7, ptr[k]);
        kg_host_tensor ts = tensor("num_kv_splits", KG_DTYPE_I32, 6, split[k]);
        KG_CHECK_INT(ref->fill(&sym, k ? 9 : 0, &tp), 0);
        KG_CHECK_INT(ref->fill(&sym, k ? 9 : 0, &ts), 0);
    }
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++) {
            KG_CHECK(split[0][i] >= 1 && split[0][i] <= 8);
            if (ptr[0][i + 1] - ptr[0][i] == ptr[1][j + 1] - ptr[1][j])
                KG_CHECK_INT(split[0][i], split[1][j]);
        }
    kg_host_tensor wrong = tensor("num_kv_splits", KG_DTYPE_I32, 5, split[0]);
    KG_CHECK_INT(ref->fill(&sym, 0, &wrong), -1);
}

/* sm_scale 0 is upstream's default, 1/sqrt(D); negative parameters and
 * impossible shapes are refused. */
static void options(void)
{
    kg_symtab sym;
    batch_symbols(&sym, 1, 9);
    kg_error why = {0};
    KG_CHECK_MSG(ref->derive(&sym, &why) == 0, "%s", why.message);
    kg_param_value params[2] = {{"sm_scale", 0}, {"logit_cap", 30}};
    KG_CHECK_INT(ref->derive_params(&sym, params, 2, &why), 0);
    KG_CHECK_NEAR(params[0].value, 1 / sqrt(8.0), 1e-15);
    KG_CHECK_NEAR(params[1].value, 30, 0);
    params[1].value = -1;
    KG_CHECK(ref->derive_params(&sym, params, 2, &why) != 0);
    KG_CHECK_CONTAINS(why.message, "logit_cap = -1 must be >= 0");

    kg_symtab_set(&sym, "ctx", 0);
    KG_CHECK(ref->derive(&sym, &why) != 0);
    KG_CHECK_CONTAINS(why.message, "ctx = 0 must be in [1, ");
    kg_symtab_set(&sym, "ctx", 9);
    kg_symtab_set(&sym, "Hq", 3);
    KG_CHECK(ref->derive(&sym, &why) != 0);
    KG_CHECK_CONTAINS(why.message, "must be a multiple of Hkv");
    kg_symtab_set(&sym, "Hq", 4);
    kg_symtab_set(&sym, "B", 1024);
    kg_symtab_set(&sym, "ctx", 1 << 20); /* 2^30 tokens: the most int32 slots allow here */
    KG_CHECK_MSG(ref->derive(&sym, &why) == 0, "%s", why.message);
    kg_symtab_set(&sym, "B", 1025);
    KG_CHECK(ref->derive(&sym, &why) != 0);
    KG_CHECK_CONTAINS(why.message, "B = 1025 must be in [1, 1024]");

    kg_symtab bad;
    kg_symtab_init(&bad);
    kg_symtab_set(&bad, "B", 2);
    KG_CHECK(ref->derive(&bad, &why) != 0);
    KG_CHECK_CONTAINS(why.message, "needs B, ctx");
}

int main(void)
{
    hand_cases();
    gqa_heads(2); /* one query head per KV head */
    gqa_heads(4); /* two per KV head */
    structure(1, 9);
    structure(0, 9);
    structure(1, 1); /* a context of one token */
    structure(0, 33);
    recheck_layouts();
    split_counts();
    options();
    return kg_test_finish("test_reference_decode_attention");
}
