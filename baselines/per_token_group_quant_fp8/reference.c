/* CPU reference for per_token_group_quant_fp8, in double precision. Two
 * outputs: q (the e4m3 codes) and scales (one f32 per group); one unit is
 * one token's row of either.
 *
 * For each group: absmax = max(max |x|, eps), scale = absmax / 448 and the
 * exact quotient w = x / scale = 448 x / absmax (448 x is exact in double
 * and the division rounds once, so w is on the correct side of every e4m3
 * value: an exact tie of bf16 data with an e4m3 value is equality of
 * short-significand products, never a double rounding away).
 *
 * A kernel divides in f32 (x / fl(absmax / 448), or multiplies by a
 * reciprocal): a relative error of a few 2^-24 before its e4m3 rounding, so
 * it may store either e4m3 value around w, not only the nearest. The
 * answer for q is therefore the midpoint of the two e4m3 values bracketing
 * w (w itself where w is an e4m3 value), and workload.json's tolerance
 * (rtol 0.06, atol 2^-10) admits exactly those two values around it (see
 * README.md; tests/reference/per_token_group_quant_fp8.c checks this for
 * every e4m3 bracket). */
#include "reference.h"

#include <math.h>

enum { OUT_Q = 0, OUT_SCALES = 1 };

#define E4M3_MAX 448.0

typedef struct quant_shape {
    size_t tokens, hidden, group_size;
} quant_shape;

static int quant_shape_of(const kg_ref_inputs *in, quant_shape *s)
{
    int64_t tokens = kg_ref_symbol(in, "tokens"), hidden = kg_ref_symbol(in, "hidden");
    int64_t group_size = kg_ref_symbol(in, "group_size");
    if (tokens < 0 || hidden < 0 || group_size <= 0 || hidden % group_size != 0)
        return -1;
    s->tokens = (size_t)tokens;
    s->hidden = (size_t)hidden;
    s->group_size = (size_t)group_size;
    return 0;
}

static int quant_layout(const kg_ref_inputs *in, size_t output, size_t *unit_count,
                        size_t *unit_len)
{
    quant_shape s;
    if (quant_shape_of(in, &s) != 0 || output > OUT_SCALES)
        return -1;
    *unit_count = s.tokens;
    *unit_len = output == OUT_Q ? s.hidden : s.hidden / s.group_size;
    return 0;
}

/* The midpoint of the two e4m3 values around w (|w| <= 448), or w where w
 * is one: kgrade's host conversion gives the nearest value, and the e4m3
 * codes of one sign grow with the value, so the other is the next code up
 * or down. */
static double e4m3_bracket_midpoint(double w)
{
    double a = fabs(w);
    uint8_t code, other;
    kg_dtype_store(KG_DTYPE_F8E4M3, &code, 0, a);
    double nearest = kg_dtype_load(KG_DTYPE_F8E4M3, &code, 0);
    if (nearest == a)
        return w;
    other = (uint8_t)(nearest < a ? code + 1 : code - 1);
    return copysign((nearest + kg_dtype_load(KG_DTYPE_F8E4M3, &other, 0)) / 2, w);
}

/* Token `unit`'s row of output `output`. Kernels receive eps as an f32, so
 * the clamp uses eps rounded to f32 (1e-10 is not a float). */
static int quant_compute(const kg_ref_inputs *in, size_t output, size_t unit, double *out)
{
    const kg_host_tensor *x = kg_ref_tensor(in, "x");
    double eps = (double)(float)kg_ref_param(in, "eps");
    quant_shape s;
    if (quant_shape_of(in, &s) != 0 || !x || unit >= s.tokens || x->count < (unit + 1) * s.hidden ||
        !(eps > 0) || output > OUT_SCALES)
        return -1;
    size_t groups = s.hidden / s.group_size;
    for (size_t g = 0; g < groups; g++) {
        size_t base = unit * s.hidden + g * s.group_size;
        double absmax = eps;
        for (size_t i = 0; i < s.group_size; i++)
            absmax = fmax(absmax, fabs(kg_ref_at(x, base + i)));
        if (output == OUT_SCALES) {
            out[g] = absmax / E4M3_MAX;
            continue;
        }
        for (size_t i = 0; i < s.group_size; i++) {
            double w = E4M3_MAX * kg_ref_at(x, base + i) / absmax;
            out[g * s.group_size + i] = e4m3_bracket_midpoint(fmin(fmax(w, -E4M3_MAX), E4M3_MAX));
        }
    }
    return 0;
}

const kg_reference kg_reference_per_token_group_quant_fp8 = {
    .workload = "per_token_group_quant_fp8",
    .needs = "x, eps, tokens, hidden, group_size",
    .output = "q, scales",
    .layout = quant_layout,
    .compute = quant_compute,
};
