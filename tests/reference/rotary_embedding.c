/*
 * The rotary_embedding CPU reference against cases computed by hand: NeoX
 * and GPT-J pairing, partial rotary (columns past rot_dim untouched), query
 * and key with different head counts, refusals (a position outside the
 * cache, invalid sizes); and its fill: the model's cos/sin cache, requests
 * of consecutive positions, other layouts and nudges that keep every
 * position valid.
 */
#include "kg_test.h"
#include "reference.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

extern const kg_reference kg_reference_rotary_embedding;
static const kg_reference *ref = &kg_reference_rotary_embedding;

static kg_host_tensor tensor(const char *name, kg_dtype dtype, size_t count, void *data)
{
    kg_host_tensor t = {.name = name, .dtype = dtype, .rank = 1, .count = count, .data = data};
    t.dims[0] = (int64_t)count;
    return t;
}

typedef struct rope_case {
    int64_t tokens, Hq, Hkv, head_size, rot_dim, is_neox, max_pos;
} rope_case;

static void case_symbols(kg_symtab *sym, const rope_case *c)
{
    kg_symtab_init(sym);
    kg_symtab_set(sym, "tokens", c->tokens);
    kg_symtab_set(sym, "Hq", c->Hq);
    kg_symtab_set(sym, "Hkv", c->Hkv);
    kg_symtab_set(sym, "head_size", c->head_size);
    kg_symtab_set(sym, "rot_dim", c->rot_dim);
    kg_symtab_set(sym, "is_neox", c->is_neox);
    kg_symtab_set(sym, "max_pos", c->max_pos);
}

/* Checks every token of both outputs against want_q / want_k (row-major,
 * tokens x heads x head_size). Tensors are f32: the reference reads any
 * dtype, and every value here is exact in f32. */
static void check_case(const char *what, const rope_case *c, int64_t *positions, float *query,
                       float *key, float *cache, const double *want_q, const double *want_k)
{
    size_t q_len = (size_t)(c->Hq * c->head_size), k_len = (size_t)(c->Hkv * c->head_size);
    kg_host_tensor ts[] = {
        tensor("positions", KG_DTYPE_I64, (size_t)c->tokens, positions),
        tensor("query", KG_DTYPE_F32, (size_t)c->tokens * q_len, query),
        tensor("key", KG_DTYPE_F32, (size_t)c->tokens * k_len, key),
        tensor("cos_sin_cache", KG_DTYPE_F32, (size_t)(c->max_pos * c->rot_dim), cache),
    };
    kg_symtab sym;
    case_symbols(&sym, c);
    kg_ref_inputs in = {.tensors = ts, .tensor_count = 4, .symbols = &sym};
    for (size_t output = 0; output < 2; output++) {
        size_t units = 0, len = 0;
        KG_CHECK_INT(ref->layout(&in, output, &units, &len), 0);
        KG_CHECK_INT(units, (size_t)c->tokens);
        KG_CHECK_INT(len, output == 0 ? q_len : k_len);
        const double *want = output == 0 ? want_q : want_k;
        for (size_t t = 0; t < units; t++) {
            double out[64];
            KG_CHECK_INT(ref->compute(&in, output, t, out), 0);
            for (size_t i = 0; i < len; i++)
                KG_CHECK_MSG(fabs(out[i] - want[t * len + i]) < 1e-12,
                             "%s: output %zu token %zu element %zu: %.15g, by hand %.15g", what,
                             output, t, i, out[i], want[t * len + i]);
        }
    }
    size_t units, len;
    double ignored[64];
    KG_CHECK_INT(ref->layout(&in, 2, &units, &len), -1); /* two outputs only */
    KG_CHECK_INT(ref->compute(&in, 0, (size_t)c->tokens, ignored), -1);
    positions[0] = c->max_pos; /* one past the cache */
    KG_CHECK_INT(ref->compute(&in, 0, 0, ignored), -1);
    positions[0] = -1;
    KG_CHECK_INT(ref->compute(&in, 1, 0, ignored), -1);
}

/* NeoX, full rotary: head_size = rot_dim = 4, pairs (0, 2) and (1, 3).
 * Cache rows [cos0, cos1, sin0, sin1] with dyadic values (the formula is
 * linear in them; it does not need cos^2 + sin^2 = 1). */
static void neox_full(void)
{
    rope_case c = {
        .tokens = 2, .Hq = 1, .Hkv = 1, .head_size = 4, .rot_dim = 4, .is_neox = 1, .max_pos = 3};
    float cache[12] = {1, 1, 0, 0, 0.5f, 0, 0.75f, 1, 0, -1, 1, 0};
    int64_t positions[2] = {2, 1};
    float query[8] = {1, 2, 3, 4, 2, -4, 8, 0.5f};
    float key[8] = {1, 0, 0, 1, 4, 4, 4, 4};
    /* token 0, position 2: pair 0 (cos 0, sin 1): (1, 3) -> (1*0 - 3*1, 3*0 + 1*1) = (-3, 1);
     *   pair 1 (cos -1, sin 0): (2, 4) -> (-2, -4). Key: (1, 0) -> (0, 1); (0, 1) -> (0, -1).
     * token 1, position 1: pair 0 (cos 0.5, sin 0.75): (2, 8) -> (1 - 6, 4 + 1.5) = (-5, 5.5);
     *   pair 1 (cos 0, sin 1): (-4, 0.5) -> (-0.5, -4). Key: (4, 4) -> (2 - 3, 2 + 3) = (-1, 5);
     *   (4, 4) -> (-4, 4). */
    const double want_q[8] = {-3, -2, 1, -4, -5, -0.5, 5.5, -4};
    const double want_k[8] = {0, 0, 1, -1, -1, -4, 5, 4};
    check_case("neox", &c, positions, query, key, cache, want_q, want_k);
}

/* GPT-J, partial rotary: head_size 6, rot_dim 4, pairs (0, 1) and (2, 3);
 * columns 4 and 5 pass through. Two query heads, one key head. */
static void gptj_partial(void)
{
    rope_case c = {
        .tokens = 1, .Hq = 2, .Hkv = 1, .head_size = 6, .rot_dim = 4, .is_neox = 0, .max_pos = 2};
    float cache[8] = {1, 1, 0, 0, 0.5f, 0, 0.75f, 1};
    int64_t positions[1] = {1};
    float query[12] = {1, 2, 3, 4, 5, 6, -1, 0, 0, -1, 7, -7};
    float key[6] = {2, 2, 2, 2, 9, -9};
    /* Position 1: pair 0 cos 0.5, sin 0.75; pair 1 cos 0, sin 1.
     * head 0: (1, 2) -> (0.5 - 1.5, 1 + 0.75) = (-1, 1.75); (3, 4) -> (-4, 3).
     * head 1: (-1, 0) -> (-0.5, -0.75); (0, -1) -> (0 + 1, -0 + 0) = (1, 0).
     * key: (2, 2) -> (1 - 1.5, 1 + 1.5) = (-0.5, 2.5); (2, 2) -> (-2, 2). */
    const double want_q[12] = {-1, 1.75, -4, 3, 5, 6, -0.5, -0.75, 1, 0, 7, -7};
    const double want_k[6] = {-0.5, 2.5, -2, 2, 9, -9};
    check_case("gptj-partial", &c, positions, query, key, cache, want_q, want_k);
}

/* Sizes the workload does not define: the layout refuses them. */
static void refusals(void)
{
    const rope_case bad[] = {
        {1, 1, 1, 4, 6, 1, 2}, /* rot_dim > head_size */
        {1, 1, 1, 4, 3, 1, 2}, /* odd rot_dim */
        {1, 1, 1, 4, 4, 2, 2}, /* is_neox neither 0 nor 1 */
        {1, 1, 1, 4, 4, 1, 0}, /* an empty cache */
        {0, 1, 1, 4, 4, 1, 2}, /* no tokens */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        kg_symtab sym;
        case_symbols(&sym, &bad[i]);
        kg_ref_inputs in = {.symbols = &sym};
        size_t units, len;
        KG_CHECK_MSG(ref->layout(&in, 0, &units, &len) == -1, "bad shape %zu accepted", i);
    }
}

/* One tensor set filled as the workload fills it. */
typedef struct filled {
    int64_t positions[300];
    float cache[200 * 4];
    kg_host_tensor pos_t, cache_t;
} filled;

static void fill_all(const kg_symtab *sym, uint64_t layout_seed, filled *f, size_t tokens,
                     size_t max_pos)
{
    f->pos_t = tensor("positions", KG_DTYPE_I64, tokens, f->positions);
    f->cache_t = tensor("cos_sin_cache", KG_DTYPE_F32, max_pos * 4, f->cache);
    KG_CHECK_INT(ref->fill(sym, layout_seed, &f->pos_t), 0);
    KG_CHECK_INT(ref->fill(sym, layout_seed, &f->cache_t), 0);
}

static void check_valid(const char *what, const filled *f, size_t tokens, size_t max_pos)
{
    for (size_t t = 0; t < tokens; t++)
        KG_CHECK_MSG(f->positions[t] >= 0 && f->positions[t] < (int64_t)max_pos,
                     "%s: position %zu = %lld outside [0, %zu)", what, t,
                     (long long)f->positions[t], max_pos);
    for (size_t p = 0; p < max_pos; p++)
        for (size_t j = 0; j < 2; j++) {
            double c = f->cache[p * 4 + j], s = f->cache[p * 4 + 2 + j];
            KG_CHECK_MSG(fabs(c * c + s * s - 1) < 1e-6, "%s: cache row %zu pair %zu: %g^2 + %g^2",
                         what, p, j, c, s);
        }
}

/* 300 tokens in requests of 64 consecutive positions (the last one 44),
 * rot_dim 4, theta 10000: inv_freq is 1 for pair 0 and 10000^-0.5 = 0.01
 * for pair 1, so row 100 holds cos(100), cos(1), sin(100), sin(1). */
static void fill_layouts(void)
{
    kg_symtab sym;
    rope_case c = {.tokens = 300,
                   .Hq = 1,
                   .Hkv = 1,
                   .head_size = 4,
                   .rot_dim = 4,
                   .is_neox = 1,
                   .max_pos = 200};
    case_symbols(&sym, &c);
    kg_symtab_set(&sym, "rope_theta", 10000);
    kg_symtab_set(&sym, "seq_len", 64);
    filled *f = calloc(1, sizeof *f), *again = calloc(1, sizeof *again);
    KG_CHECK(f && again);
    if (!f || !again)
        return;
    fill_all(&sym, 0, f, 300, 200);
    check_valid("layout 0", f, 300, 200);
    const float *row = f->cache + 100 * 4;
    KG_CHECK_NEAR(row[0], cos(100.0), 1e-7);
    KG_CHECK_NEAR(row[1], 0.5403023059, 1e-7); /* cos(1) */
    KG_CHECK_NEAR(row[2], sin(100.0), 1e-7);
    KG_CHECK_NEAR(row[3], 0.8414709848, 1e-7); /* sin(1) */
    for (size_t t = 1; t < 300; t++)
        if (t % 64 != 0) /* within a request: consecutive */
            KG_CHECK_INT(f->positions[t], f->positions[t - 1] + 1);
    fill_all(&sym, 0, again, 300, 200); /* layout 0 is the shape's: the same every time */
    KG_CHECK_INT(memcmp(f->positions, again->positions, sizeof f->positions), 0);
    fill_all(&sym, 7, again, 300, 200); /* another layout: valid, and not layout 0 */
    check_valid("layout 7", again, 300, 200);
    KG_CHECK(memcmp(f->positions, again->positions, sizeof f->positions) != 0);
    KG_CHECK(memcmp(f->cache, again->cache, sizeof f->cache) != 0);
    kg_host_tensor ts[2] = {f->pos_t, f->cache_t};
    kg_ref_inputs in = {.tensors = ts, .tensor_count = 2, .symbols = &sym};
    for (uint64_t seed = 1; seed < 20; seed++)
        KG_CHECK_INT(ref->nudge(&in, ts, seed), 0);
    check_valid("nudged", f, 300, 200);
    kg_symtab_set(&sym, "seq_len", 201); /* a request longer than the cache */
    KG_CHECK_INT(ref->fill(&sym, 0, &f->pos_t), -1);
    free(f);
    free(again);
}

int main(void)
{
    neox_full();
    gptj_partial();
    refusals();
    fill_layouts();
    return kg_test_finish("test_reference_rotary_embedding");
}
