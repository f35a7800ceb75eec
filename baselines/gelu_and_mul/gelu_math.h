/*
 * gelu_and_mul: the activation, included by both tiers so that they compute
 * the same function and differ only in how the work is laid out.
 * APPROXIMATE is the workload's `approximate` symbol: 0 for the exact (erf)
 * GELU, 1 for the tanh approximation.
 */
#ifndef APPROXIMATE
#define APPROXIMATE 0
#endif

/*
 * erfc(z) for z >= 0. The portable dialect has no erf, so this is Numerical
 * Recipes' erfcc (Press et al., Numerical Recipes in C, 2nd ed., 1992,
 * section 6.2): a Chebyshev fit whose *relative* error is below 1.2e-7 for
 * every z >= 0 (1.04e-7 measured in double; 9.3e-6 in this single-precision
 * form up to z = 9.1, from the rounding of -z*z; beyond z of about 9.2 the
 * value underflows single precision, where gelu is below 1e-36). Relative
 * accuracy is the point: gelu's negative tail is 0.5*a*erfc(|a|/sqrt(2)),
 * and a fit with only an absolute bound (Abramowitz-Stegun 7.1.26: 1.5e-7)
 * would leave the tail's relative error unbounded.
 */
KG_DEVICE_FN float erfc_nonneg(float z)
{
    float t = 1.0f / (1.0f + 0.5f * z);
    float p = 0.17087277f;
    p = p * t - 0.82215223f;
    p = p * t + 1.48851587f;
    p = p * t - 1.13520398f;
    p = p * t + 0.27886807f;
    p = p * t - 0.18628806f;
    p = p * t + 0.09678418f;
    p = p * t + 0.37409196f;
    p = p * t + 1.00002368f;
    p = p * t - 1.26551223f;
    return t * kg_expf(p - z * z);
}

KG_DEVICE_FN float gelu(float a)
{
#if APPROXIMATE
    /* 0.5*a*(1 + tanh(y)) = a / (1 + exp(-2y)) exactly: no cancellation of 1 + tanh for
     * negative y, and exp overflowing to +inf gives a / inf = -0, the limit. */
    float y = 0.7978845608f * (a + 0.044715f * a * a * a);
    return a / (1.0f + kg_expf(-2.0f * y));
#else
    /* 0.5*a*(1 + erf(a/sqrt(2))) = 0.5*a*erfc(-a/sqrt(2)): for a < 0 that is erfc of a
     * positive argument, computed to full relative accuracy; for a >= 0, 2 - erfc(...). */
    float e = erfc_nonneg(kg_fabsf(a) * 0.70710678f);
    return 0.5f * a * (a >= 0.0f ? 2.0f - e : e);
#endif
}
