/* CPU reference for silu_and_mul: out[t][i] = silu(x[t][i]) * x[t][d + i], silu(a) = a / (1 +
 * exp(-a)), in double precision, one token row per unit. */
#include "reference.h"

#include <math.h>

/* One unit per token: a row of d outputs. */
static int silu_and_mul_layout(const kg_ref_inputs *in, size_t output, size_t *unit_count,
                               size_t *unit_len)
{
    (void)output; /* the only one */
    int64_t tokens = kg_ref_symbol(in, "tokens"), d = kg_ref_symbol(in, "d");
    if (tokens < 0 || d < 0)
        return -1;
    *unit_count = (size_t)tokens;
    *unit_len = (size_t)d;
    return 0;
}

/* a / (1 + exp(-a)) stays finite for every finite a: exp(-a) overflows to +inf for a below
 * about -709, and a / inf is (minus) zero, the limit. */
static double silu(double a)
{
    return a / (1.0 + exp(-a));
}

/* Row `unit`: its gate half x[unit][0 .. d) and up half x[unit][d .. 2d). */
static int silu_and_mul_compute(const kg_ref_inputs *in, size_t output, size_t unit, double *out)
{
    (void)output; /* the only one */
    const kg_host_tensor *x = kg_ref_tensor(in, "x");
    size_t d = (size_t)kg_ref_symbol(in, "d");
    if (!x || x->count < (unit + 1) * 2 * d)
        return -1;
    size_t gate = unit * 2 * d, up = gate + d;
    for (size_t i = 0; i < d; i++)
        out[i] = silu(kg_ref_at(x, gate + i)) * kg_ref_at(x, up + i);
    return 0;
}

const kg_reference kg_reference_silu_and_mul = {
    .workload = "silu_and_mul",
    .needs = "x, tokens, d",
    .output = "out",
    .layout = silu_and_mul_layout,
    .compute = silu_and_mul_compute,
};
