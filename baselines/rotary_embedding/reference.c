/*
 * CPU reference for rotary_embedding (SGLang's RotaryEmbedding.forward with
 * a cos/sin cache), in double precision; semantics in
 * baselines/rotary_embedding/README.md.
 *
 * Two outputs, both updated in place: query [tokens, Hq * head_size] and
 * key [tokens, Hkv * head_size]. Token t reads row positions[t] of
 * cos_sin_cache [max_pos, rot_dim] (cos in the first rot_dim / 2 columns,
 * sin in the second) and rotates every head's pairs:
 *   (x1, x2) -> (x1 * cos_j - x2 * sin_j, x2 * cos_j + x1 * sin_j),
 * pair j being (j, j + rot_dim / 2) with is_neox (NeoX, rotate halves) or
 * (2j, 2j + 1) without (GPT-J, interleaved). Columns rot_dim .. head_size
 * of each head pass through unchanged (partial rotary).
 *
 * positions and cos_sin_cache are filled here ("dist": "workload"):
 * - layout 0 (what is timed): requests of seq_len consecutive positions
 *   (seq_len 1: a decode batch, every token its own request), each
 *   starting at a position drawn in [0, max_pos - seq_len]; the cache is
 *   the model's, cos and sin of p * rope_theta^(-2j / rot_dim).
 * - any other layout (the fresh-inputs recheck): every position drawn
 *   independently in [0, max_pos) and every cache entry the cos and sin
 *   of an angle drawn in [0, 2 pi), so a kernel computing cos and sin
 *   itself instead of reading the cache, or assuming contiguous
 *   positions, fails there.
 * Either way cos^2 + sin^2 = 1 up to the f32 rounding of the cache, as in
 * SGLang's own cache.
 */
#include "reference.h"
#include "rng.h"

#include <math.h>
#include <string.h>

enum { OUT_QUERY = 0, OUT_KEY = 1 };

/* 2 pi, spelled out: C11 does not define M_PI. */
#define TWO_PI 6.283185307179586

#define MAX_HEADS     4096
#define MAX_HEAD_SIZE 4096
/* Every cache offset pos * rot_dim must fit an int32 in kernels. */
#define MAX_CACHE_ELEMENTS (INT64_C(1) << 31)

/* The symbols this file reads. */
typedef struct rope_shape {
    int64_t tokens, Hq, Hkv, head_size, rot_dim, is_neox, max_pos, rope_theta, seq_len;
} rope_shape;

static int get(const kg_symtab *t, const char *name, int64_t *v)
{
    return kg_symtab_get(t, name, v) ? 0 : -1;
}

static int shape_valid(const rope_shape *s)
{
    return s->tokens >= 1 && s->Hq >= 1 && s->Hq <= MAX_HEADS && s->Hkv >= 1 &&
           s->Hkv <= MAX_HEADS && s->head_size >= 2 && s->head_size <= MAX_HEAD_SIZE &&
           s->rot_dim >= 2 && s->rot_dim % 2 == 0 && s->rot_dim <= s->head_size &&
           (s->is_neox == 0 || s->is_neox == 1) && s->max_pos >= 1 &&
           s->max_pos * s->rot_dim <= MAX_CACHE_ELEMENTS;
}

/* The public symbols (what the kernels and the checker use). */
static int read_public(const kg_symtab *t, rope_shape *s)
{
    memset(s, 0, sizeof *s);
    if (get(t, "tokens", &s->tokens) || get(t, "Hq", &s->Hq) || get(t, "Hkv", &s->Hkv) ||
        get(t, "head_size", &s->head_size) || get(t, "rot_dim", &s->rot_dim) ||
        get(t, "is_neox", &s->is_neox) || get(t, "max_pos", &s->max_pos))
        return -1;
    return shape_valid(s) ? 0 : -1;
}

/* Every symbol, for the fill. */
static int read_shape(const kg_symtab *t, rope_shape *s)
{
    if (read_public(t, s) || get(t, "rope_theta", &s->rope_theta) || get(t, "seq_len", &s->seq_len))
        return -1;
    return s->rope_theta >= 2 && s->seq_len >= 1 && s->seq_len <= s->max_pos ? 0 : -1;
}

/* A seed from the shape's own symbols, so layout 0 is part of the shape. */
static uint64_t shape_seed(const rope_shape *s)
{
    uint64_t h = 0x0e0b1a5ull;
    const int64_t v[] = {s->tokens, s->max_pos, s->seq_len, s->rot_dim};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        h = (h ^ (uint64_t)v[i]) * 0x100000001b3ull;
    return h;
}

static int fill_positions(const rope_shape *s, uint64_t layout_seed, kg_host_tensor *t)
{
    if (t->dtype != KG_DTYPE_I64 || t->count != (size_t)s->tokens)
        return -1;
    int64_t *pos = t->data;
    kg_rng rng;
    kg_rng_seed(&rng, layout_seed ? layout_seed ^ 0x9051ull : shape_seed(s));
    if (layout_seed) {
        for (int64_t i = 0; i < s->tokens; i++)
            pos[i] = (int64_t)kg_rng_below(&rng, (uint64_t)s->max_pos);
        return 0;
    }
    for (int64_t first = 0; first < s->tokens; first += s->seq_len) {
        int64_t len = s->tokens - first < s->seq_len ? s->tokens - first : s->seq_len;
        int64_t start = (int64_t)kg_rng_below(&rng, (uint64_t)(s->max_pos - len + 1));
        for (int64_t i = 0; i < len; i++)
            pos[first + i] = start + i;
    }
    return 0;
}

/* Row p, pair j of the cache: cos at j, sin at rot_dim / 2 + j. */
static void store_angle(kg_host_tensor *t, int64_t rot_dim, int64_t p, int64_t j, double angle)
{
    size_t row = (size_t)p * (size_t)rot_dim, half = (size_t)rot_dim / 2;
    kg_dtype_store(t->dtype, t->data, row + (size_t)j, cos(angle));
    kg_dtype_store(t->dtype, t->data, row + half + (size_t)j, sin(angle));
}

static int fill_cache(const rope_shape *s, uint64_t layout_seed, kg_host_tensor *t)
{
    if (t->dtype != KG_DTYPE_F32 || t->count != (size_t)(s->max_pos * s->rot_dim))
        return -1;
    int64_t half = s->rot_dim / 2;
    kg_rng rng;
    kg_rng_seed(&rng, layout_seed ^ 0xca5eull);
    for (int64_t j = 0; j < half; j++) {
        /* SGLang's _compute_inv_freq: base^-(2j / rot_dim). */
        double inv_freq = pow((double)s->rope_theta, -2.0 * (double)j / (double)s->rot_dim);
        for (int64_t p = 0; p < s->max_pos; p++)
            store_angle(t, s->rot_dim, p, j,
                        layout_seed ? TWO_PI * kg_rng_uniform(&rng) : (double)p * inv_freq);
    }
    return 0;
}

static int fill(const kg_symtab *symbols, uint64_t layout_seed, kg_host_tensor *t)
{
    rope_shape s;
    if (read_shape(symbols, &s))
        return -1;
    if (strcmp(t->name, "positions") == 0)
        return fill_positions(&s, layout_seed, t);
    if (strcmp(t->name, "cos_sin_cache") == 0)
        return fill_cache(&s, layout_seed, t);
    return -1;
}

static kg_host_tensor *find(const kg_ref_inputs *in, kg_host_tensor *tensors, const char *name)
{
    for (size_t i = 0; i < in->tensor_count; i++)
        if (strcmp(tensors[i].name, name) == 0)
            return &tensors[i];
    return NULL;
}

/* Three tokens moved to other positions and two cache entries turned to
 * other angles: every size stays, every position stays in [0, max_pos). */
static int nudge(const kg_ref_inputs *in, kg_host_tensor *tensors, uint64_t seed)
{
    rope_shape s;
    kg_host_tensor *pos_t = find(in, tensors, "positions");
    kg_host_tensor *cache_t = find(in, tensors, "cos_sin_cache");
    if (read_public(in->symbols, &s) || !pos_t || !cache_t || pos_t->dtype != KG_DTYPE_I64 ||
        pos_t->count != (size_t)s.tokens || cache_t->count != (size_t)(s.max_pos * s.rot_dim))
        return -1;
    kg_rng rng;
    kg_rng_seed(&rng, seed ^ 0x20be5ull);
    int64_t *pos = pos_t->data;
    for (int k = 0; k < 3; k++)
        pos[kg_rng_below(&rng, pos_t->count)] = (int64_t)kg_rng_below(&rng, (uint64_t)s.max_pos);
    for (int k = 0; k < 2; k++) {
        int64_t p = (int64_t)kg_rng_below(&rng, (uint64_t)s.max_pos);
        int64_t j = (int64_t)kg_rng_below(&rng, (uint64_t)(s.rot_dim / 2));
        store_angle(cache_t, s.rot_dim, p, j, TWO_PI * kg_rng_uniform(&rng));
    }
    return 0;
}

/* One unit per token: its row of the query (output 0) or the key (1). */
static int layout(const kg_ref_inputs *in, size_t output, size_t *unit_count, size_t *unit_len)
{
    rope_shape s;
    if (read_public(in->symbols, &s) || output > OUT_KEY)
        return -1;
    *unit_count = (size_t)s.tokens;
    *unit_len = (size_t)((output == OUT_QUERY ? s.Hq : s.Hkv) * s.head_size);
    return 0;
}

/* Element offsets of pair j's two members within a head. */
static void pair_of(const rope_shape *s, int64_t j, size_t *a, size_t *b)
{
    *a = (size_t)(s->is_neox ? j : 2 * j);
    *b = (size_t)(s->is_neox ? j + s->rot_dim / 2 : 2 * j + 1);
}

static int compute(const kg_ref_inputs *in, size_t output, size_t unit, double *out)
{
    rope_shape s;
    if (read_public(in->symbols, &s) || output > OUT_KEY || unit >= (size_t)s.tokens)
        return -1;
    const kg_host_tensor *x = kg_ref_tensor(in, output == OUT_QUERY ? "query" : "key");
    const kg_host_tensor *pos_t = kg_ref_tensor(in, "positions");
    const kg_host_tensor *cache = kg_ref_tensor(in, "cos_sin_cache");
    size_t heads = (size_t)(output == OUT_QUERY ? s.Hq : s.Hkv), len = heads * (size_t)s.head_size;
    if (!x || !pos_t || !cache || x->count != (size_t)s.tokens * len ||
        pos_t->count != (size_t)s.tokens || cache->count != (size_t)(s.max_pos * s.rot_dim))
        return -1;
    double p = kg_ref_at(pos_t, unit);
    if (!(p >= 0 && p < (double)s.max_pos))
        return -1;
    size_t row = (size_t)p * (size_t)s.rot_dim, half = (size_t)s.rot_dim / 2;
    for (size_t i = 0; i < len; i++)
        out[i] = kg_ref_at(x, unit * len + i);
    for (size_t h = 0; h < heads; h++) {
        double *head = out + h * (size_t)s.head_size;
        for (size_t j = 0; j < half; j++) {
            double c = kg_ref_at(cache, row + j), sn = kg_ref_at(cache, row + half + j);
            size_t a, b;
            pair_of(&s, (int64_t)j, &a, &b);
            double x1 = head[a], x2 = head[b];
            head[a] = x1 * c - x2 * sn;
            head[b] = x2 * c + x1 * sn;
        }
    }
    return 0;
}

const kg_reference kg_reference_rotary_embedding = {
    .workload = "rotary_embedding",
    .needs = "query, key, positions, cos_sin_cache, tokens, Hq, Hkv, head_size, rot_dim, "
             "is_neox, max_pos",
    .output = "query, key",
    .layout = layout,
    .compute = compute,
    .fill = fill,
    .nudge = nudge,
};
