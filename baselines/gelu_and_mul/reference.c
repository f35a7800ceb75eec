/* CPU reference for gelu_and_mul: out[t][i] = gelu(x[t][i]) * x[t][d + i] in double precision,
 * one token row per unit; gelu exact (erf) or, with approximate = 1, its tanh approximation. */
#include "reference.h"

#include <math.h>

/* One unit per token: a row of d outputs. */
static int gelu_and_mul_layout(const kg_ref_inputs *in, size_t output, size_t *unit_count,
                               size_t *unit_len)
{
    (void)output; /* the only one */
    int64_t tokens = kg_ref_symbol(in, "tokens"), d = kg_ref_symbol(in, "d");
    int64_t approximate = kg_ref_symbol(in, "approximate");
    if (tokens < 0 || d < 0 || approximate < 0 || approximate > 1)
        return -1;
    *unit_count = (size_t)tokens;
    *unit_len = (size_t)d;
    return 0;
}

/* 0.5*a*(1 + erf(a/sqrt(2))) written as 0.5*a*erfc(-a/sqrt(2)): the same value, without the
 * cancellation of 1 + erf near -1 that would cost even double precision its relative accuracy
 * for gates below about -8. */
static double gelu_erf(double a)
{
    const double sqrt_half = 0.70710678118654752440;
    return 0.5 * a * erfc(-a * sqrt_half);
}

/* 0.5*a*(1 + tanh(y)) = a / (1 + exp(-2y)), exactly; the second form has no cancellation for
 * negative y and stays finite when exp overflows (a / inf is the limit, -0). */
static double gelu_tanh(double a)
{
    const double sqrt_2_over_pi = 0.79788456080286535588;
    double y = sqrt_2_over_pi * (a + 0.044715 * a * a * a);
    return a / (1.0 + exp(-2.0 * y));
}

/* Row `unit`: its gate half x[unit][0 .. d) and up half x[unit][d .. 2d). */
static int gelu_and_mul_compute(const kg_ref_inputs *in, size_t output, size_t unit, double *out)
{
    (void)output; /* the only one */
    const kg_host_tensor *x = kg_ref_tensor(in, "x");
    size_t d = (size_t)kg_ref_symbol(in, "d");
    int64_t approximate = kg_ref_symbol(in, "approximate");
    if (!x || x->count < (unit + 1) * 2 * d || approximate < 0 || approximate > 1)
        return -1;
    size_t gate = unit * 2 * d, up = gate + d;
    for (size_t i = 0; i < d; i++) {
        double a = kg_ref_at(x, gate + i);
        out[i] = (approximate ? gelu_tanh(a) : gelu_erf(a)) * kg_ref_at(x, up + i);
    }
    return 0;
}

const kg_reference kg_reference_gelu_and_mul = {
    .workload = "gelu_and_mul",
    .needs = "x, tokens, d, approximate",
    .output = "out",
    .layout = gelu_and_mul_layout,
    .compute = gelu_and_mul_compute,
};
