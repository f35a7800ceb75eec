/*
 * The prefill-attention CPU reference against cases computed by hand, and
 * its ragged batch: lengths drawn within [1, N_CTX], the edge lengths,
 * b_start_loc the prefix sum of b_seq_len, the recheck's layouts and
 * nudges keeping every size a kernel may read.
 */
#include "kg_test.h"
#include "reference.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

extern const kg_reference kg_reference_prefill_attention;
static const kg_reference *ref = &kg_reference_prefill_attention;

static kg_host_tensor tensor(const char *name, kg_dtype dtype, size_t count, void *data)
{
    kg_host_tensor t = {.name = name, .dtype = dtype, .rank = 1, .count = count, .data = data};
    t.dims[0] = (int64_t)count;
    return t;
}

/* A batch given by hand: q, k, v as doubles (each exact in bf16), the
 * lengths, and the sizes. */
typedef struct hand_batch {
    int B, hq, hkv, d, tokens, causal;
    const int32_t *len;
    const double *q, *k, *v;
} hand_batch;

/* Runs the reference on `hb` and compares unit (token, head) with
 * want[(token * hq + head) * d ..], to 1e-12. */
static void check_hand_batch(const char *what, const hand_batch *hb, const double *want)
{
    size_t nq = (size_t)(hb->tokens * hb->hq * hb->d), nkv = (size_t)(hb->tokens * hb->hkv * hb->d);
    uint16_t *q = malloc(nq * 2), *k = malloc(nkv * 2), *v = malloc(nkv * 2);
    for (size_t i = 0; i < nq; i++)
        kg_dtype_store(KG_DTYPE_BF16, q, i, hb->q[i]);
    for (size_t i = 0; i < nkv; i++) {
        kg_dtype_store(KG_DTYPE_BF16, k, i, hb->k[i]);
        kg_dtype_store(KG_DTYPE_BF16, v, i, hb->v[i]);
    }
    int32_t start[8], len[8];
    for (int i = 0, at = 0; i < hb->B; i++) {
        start[i] = at;
        len[i] = hb->len[i];
        at += hb->len[i];
    }
    kg_host_tensor ts[] = {
        tensor("q", KG_DTYPE_BF16, nq, q),
        tensor("k", KG_DTYPE_BF16, nkv, k),
        tensor("v", KG_DTYPE_BF16, nkv, v),
        tensor("b_start_loc", KG_DTYPE_I32, (size_t)hb->B, start),
        tensor("b_seq_len", KG_DTYPE_I32, (size_t)hb->B, len),
    };
    kg_symtab sym;
    kg_symtab_init(&sym);
    kg_symtab_set(&sym, "B", hb->B);
    kg_symtab_set(&sym, "Hq", hb->hq);
    kg_symtab_set(&sym, "Hkv", hb->hkv);
    kg_symtab_set(&sym, "D", hb->d);
    kg_symtab_set(&sym, "is_causal", hb->causal);
    kg_symtab_set(&sym, "tokens", hb->tokens);
    kg_ref_inputs in = {.tensors = ts, .tensor_count = 5, .symbols = &sym};
    size_t units = 0, unit_len = 0;
    KG_CHECK_INT(ref->layout(&in, 0, &units, &unit_len), 0);
    KG_CHECK_INT(units, (size_t)(hb->tokens * hb->hq)); /* one unit per (token, head) */
    KG_CHECK_INT(unit_len, (size_t)hb->d);
    double out[8];
    for (size_t u = 0; u < units; u++) {
        KG_CHECK_INT(ref->compute(&in, 0, u, out), 0);
        for (int c = 0; c < hb->d; c++)
            KG_CHECK_MSG(fabs(out[c] - want[u * (size_t)hb->d + (size_t)c]) < 1e-12,
                         "%s: token %zu head %zu column %d: %.17g, by hand %.17g", what,
                         u / (size_t)hb->hq, u % (size_t)hb->hq, c, out[c],
                         want[u * (size_t)hb->d + (size_t)c]);
    }
    free(q);
    free(k);
    free(v);
}

/* Two requests of 2 and 1 tokens, D = 4 (so the scale 1/sqrt(D) is 1/2),
 * two query heads on one KV head. Keys k0 = e1, k1 = e2 (unit vectors),
 * k2 = (3,3,3,3); values v0 = (1,2,3,4), v1 = (-1,0,1,2), v2 =
 * (5,-6,7,-8). With s1 = e/(1+e) = sigmoid(1) and s2 = e^2/(1+e^2) =
 * sigmoid(2):
 *  - token 0 (request 0, position 0), causal: it sees only key 0, both
 *    heads give v0. Not causal it also sees key 1: head 0, q = (0,4,0,0),
 *    has logits 0 and 4/2 = 2, so v0 + s2 (v1 - v0) = v0 - 2 s2 with
 *    2 s2 = 1.7615941559557646 (= 1 + tanh(1)); head 1, q = 0, has equal
 *    weights, (v0 + v1) / 2 = (0,1,2,3).
 *  - token 1 (position 1) sees keys 0 and 1 either way: head 0, q =
 *    (2,0,0,0), logits 2/2 = 1 and 0, so v1 + s1 (v0 - v1) = v1 + 2 s1 with
 *    2 s1 = 1.4621171572600098 (= 1 + tanh(1/2)); head 1, q = 0: (0,1,2,3).
 *  - token 2 (request 1, position 0) sees only itself, never request 0's
 *    keys: v2 for both heads, whatever its query. */
static void two_requests(int causal)
{
    const int32_t len[2] = {2, 1};
    const double q[3 * 2 * 4] = {0, 4, 0, 0, 0, 0, 0, 0, 2,  0, 0,   0,
                                 0, 0, 0, 0, 1, 1, 1, 1, -1, 2, 0.5, 0};
    const double k[3 * 4] = {1, 0, 0, 0, 0, 1, 0, 0, 3, 3, 3, 3};
    const double v[3 * 4] = {1, 2, 3, 4, -1, 0, 1, 2, 5, -6, 7, -8};
    const double two_s2 = 1.7615941559557646, two_s1 = 1.4621171572600098;
    double want[3 * 2 * 4] = {
        1,           2,          3,          4,          1, 2,  3, 4,  /* token 0, causal */
        -1 + two_s1, 0 + two_s1, 1 + two_s1, 2 + two_s1, 0, 1,  2, 3,  /* token 1 */
        5,           -6,         7,          -8,         5, -6, 7, -8, /* token 2 */
    };
    if (!causal) {
        const double token0[8] = {1 - two_s2, 2 - two_s2, 3 - two_s2, 4 - two_s2, 0, 1, 2, 3};
        memcpy(want, token0, sizeof token0);
    }
    hand_batch hb = {.B = 2,
                     .hq = 2,
                     .hkv = 1,
                     .d = 4,
                     .tokens = 3,
                     .causal = causal,
                     .len = len,
                     .q = q,
                     .k = k,
                     .v = v};
    check_hand_batch(causal ? "two requests, causal" : "two requests, not causal", &hb, want);
}

/* Grouped-query heads: Hq = 4 on Hkv = 2, D = 1 (scale 1), one request of
 * 2 tokens, every query 1. KV head 0 has keys 0, 0 and values 2, 4; KV
 * head 1 keys 1, 0 and values 10, 0. Token 1, heads 0 and 1 (KV head 0):
 * equal weights, (2 + 4) / 2 = 3. Heads 2 and 3 (KV head 1): logits 1 and
 * 0, 10 sigmoid(1) = 7.310585786300049. Token 0 sees key 0 only: 2, 2, 10,
 * 10. */
static void grouped_heads(void)
{
    const int32_t len[1] = {2};
    const double q[2 * 4] = {1, 1, 1, 1, 1, 1, 1, 1};
    const double k[2 * 2] = {0, 1, 0, 0}; /* [token][kv head] */
    const double v[2 * 2] = {2, 10, 4, 0};
    const double ten_s1 = 7.310585786300049;
    const double want[2 * 4] = {2, 2, 10, 10, 3, 3, ten_s1, ten_s1};
    hand_batch hb = {.B = 1,
                     .hq = 4,
                     .hkv = 2,
                     .d = 1,
                     .tokens = 2,
                     .causal = 1,
                     .len = len,
                     .q = q,
                     .k = k,
                     .v = v};
    check_hand_batch("grouped heads", &hb, want);
}

static void batch_symbols(kg_symtab *sym, int B, int n_ctx, int causal, int edges)
{
    kg_symtab_init(sym);
    kg_symtab_set(sym, "B", B);
    kg_symtab_set(sym, "N_CTX", n_ctx);
    kg_symtab_set(sym, "Hq", 4);
    kg_symtab_set(sym, "Hkv", 2);
    kg_symtab_set(sym, "D", 8);
    kg_symtab_set(sym, "is_causal", causal);
    kg_symtab_set(sym, "edge_lengths", edges);
    kg_symtab_set(sym, "length_seed", 7);
}

static int64_t symbol(const kg_symtab *sym, const char *name)
{
    int64_t v = -1;
    kg_symtab_get(sym, name, &v);
    return v;
}

/* Fills b_start_loc and b_seq_len for `seed`; checks that the starts are
 * the prefix sums of the lengths, every length within [1, max_len], and
 * the total the derived token count. */
static void fill_layout(const kg_symtab *sym, uint64_t seed, int32_t *start, int32_t *len)
{
    int64_t B = symbol(sym, "B");
    kg_host_tensor ts = tensor("b_start_loc", KG_DTYPE_I32, (size_t)B, start);
    kg_host_tensor tl = tensor("b_seq_len", KG_DTYPE_I32, (size_t)B, len);
    KG_CHECK_INT(ref->fill(sym, seed, &ts), 0);
    KG_CHECK_INT(ref->fill(sym, seed, &tl), 0);
    int64_t at = 0;
    for (int64_t i = 0; i < B; i++) {
        KG_CHECK_INT(start[i], at);
        KG_CHECK(len[i] >= 1 && len[i] <= symbol(sym, "max_len"));
        at += len[i];
    }
    KG_CHECK_INT(at, symbol(sym, "tokens"));
}

/* The derived symbols agree with the lengths; lengths cover [1, N_CTX]
 * and nothing else; the same symbols give the same batch. */
static void structure(int causal)
{
    kg_symtab sym;
    batch_symbols(&sym, 200, 5, causal, 0);
    kg_error why = {0};
    KG_CHECK_MSG(ref->derive(&sym, &why) == 0, "%s", why.message);
    int32_t start[200], len[200], again[200];
    fill_layout(&sym, 0, start, len);
    int64_t max_len = 0, causal_pairs = 0, all_pairs = 0;
    int seen[6] = {0};
    for (int i = 0; i < 200; i++) {
        KG_CHECK(len[i] >= 1 && len[i] <= 5);
        seen[len[i] >= 1 && len[i] <= 5 ? len[i] : 0] = 1;
        max_len = len[i] > max_len ? len[i] : max_len;
        causal_pairs += (int64_t)len[i] * (len[i] + 1) / 2;
        all_pairs += (int64_t)len[i] * len[i];
    }
    for (int l = 1; l <= 5; l++)
        KG_CHECK_MSG(seen[l], "no request of length %d among 200 drawn from [1, 5]", l);
    KG_CHECK_INT(symbol(&sym, "max_len"), max_len);
    KG_CHECK_INT(symbol(&sym, "causal_pairs"), causal_pairs);
    KG_CHECK_INT(symbol(&sym, "attended_pairs"), causal ? causal_pairs : all_pairs);
    kg_host_tensor tl = tensor("b_seq_len", KG_DTYPE_I32, 200, again);
    KG_CHECK_INT(ref->fill(&sym, 0, &tl), 0);
    KG_CHECK(memcmp(again, len, sizeof len) == 0);
}

/* edge_lengths: the first request N_CTX long, the second 1 token. */
static void edge_lengths(void)
{
    kg_symtab sym;
    batch_symbols(&sym, 4, 33, 1, 1);
    kg_error why = {0};
    KG_CHECK_MSG(ref->derive(&sym, &why) == 0, "%s", why.message);
    int32_t start[4], len[4];
    fill_layout(&sym, 0, start, len);
    KG_CHECK_INT(len[0], 33);
    KG_CHECK_INT(len[1], 1);
    KG_CHECK_INT(symbol(&sym, "max_len"), 33);
    batch_symbols(&sym, 1, 8192, 1, 1); /* one request of the full length */
    KG_CHECK_MSG(ref->derive(&sym, &why) == 0, "%s", why.message);
    KG_CHECK_INT(symbol(&sym, "tokens"), 8192);
    KG_CHECK_INT(symbol(&sym, "causal_pairs"), 8192 * 8193 / 2);
}

/* Another layout seed permutes the requests (same lengths, so the same
 * token count and longest request); nudges move one boundary by a token,
 * keeping the packing and every size valid. */
static void recheck_layouts(void)
{
    kg_symtab sym;
    batch_symbols(&sym, 6, 20, 1, 0);
    kg_error why = {0};
    KG_CHECK_MSG(ref->derive(&sym, &why) == 0, "%s", why.message);
    int32_t start[2][6], len[2][6];
    fill_layout(&sym, 0, start[0], len[0]);
    fill_layout(&sym, 9, start[1], len[1]);
    int matched[6] = {0}, same_order = 1;
    for (int i = 0; i < 6; i++) {
        same_order &= len[0][i] == len[1][i];
        for (int j = 0; j < 6; j++)
            if (!matched[j] && len[0][j] == len[1][i]) {
                matched[j] = 1;
                break;
            }
    }
    for (int j = 0; j < 6; j++)
        KG_CHECK_MSG(matched[j], "request %d's length is missing from the redrawn layout", j);
    KG_CHECK(!same_order);

    kg_host_tensor ts[2] = {tensor("b_start_loc", KG_DTYPE_I32, 6, start[0]),
                            tensor("b_seq_len", KG_DTYPE_I32, 6, len[0])};
    kg_ref_inputs in = {.tensors = ts, .tensor_count = 2, .symbols = &sym};
    int32_t before[6];
    memcpy(before, len[0], sizeof before);
    for (uint64_t seed = 1; seed <= 20; seed++) {
        KG_CHECK_INT(ref->nudge(&in, ts, seed), 0);
        int64_t at = 0;
        for (int i = 0; i < 6; i++) {
            KG_CHECK_INT(start[0][i], at);
            KG_CHECK(len[0][i] >= 1 && len[0][i] <= symbol(&sym, "max_len"));
            at += len[0][i];
        }
        KG_CHECK_INT(at, symbol(&sym, "tokens"));
    }
    KG_CHECK(memcmp(before, len[0], sizeof before) != 0);
}

/* Shapes the workload does not define are refused with the reason. */
static void refusals(void)
{
    const struct {
        int B, n_ctx, hq, hkv, causal;
        const char *why;
    } cases[] = {
        {0, 8, 4, 2, 1, "B = 0 must be in [1, 1024]"},
        {2, 0, 4, 2, 1, "N_CTX = 0 must be in [1, 1048576]"},
        {2, 2000000, 4, 2, 1, "N_CTX = 2000000 must be in [1, 1048576]"},
        {2, 8, 6, 4, 1, "Hq = 6 must be a multiple of Hkv = 4"},
        {2, 8, 4, 2, 2, "is_causal and edge_lengths must be 0 or 1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kg_symtab sym;
        batch_symbols(&sym, cases[i].B, cases[i].n_ctx, cases[i].causal, 0);
        kg_symtab_set(&sym, "Hq", cases[i].hq);
        kg_symtab_set(&sym, "Hkv", cases[i].hkv);
        kg_error why = {0};
        KG_CHECK(ref->derive(&sym, &why) != 0);
        KG_CHECK_CONTAINS(why.message, cases[i].why);
    }
    kg_symtab bad;
    kg_symtab_init(&bad);
    kg_symtab_set(&bad, "B", 2);
    kg_error why = {0};
    KG_CHECK(ref->derive(&bad, &why) != 0);
    KG_CHECK_CONTAINS(why.message, "needs B, N_CTX");
}

int main(void)
{
    two_requests(1);
    two_requests(0);
    grouped_heads();
    structure(1);
    structure(0);
    edge_lengths();
    recheck_layouts();
    refusals();
    return kg_test_finish("test_reference_prefill_attention");
}
