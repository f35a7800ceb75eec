/*
 * The gelu_and_mul CPU reference against cases computed by hand: its layout
 * (one unit per token, d outputs each), which half of a row is the gate,
 * the exact (erf) GELU and its tanh approximation at zero, at moderate
 * gates, in the negative tail and where erf saturates or exp overflows.
 */
#include "kg_test.h"
#include "reference.h"

#include <math.h>
#include <stdint.h>

extern const kg_reference kg_reference_gelu_and_mul;
static const kg_reference *ref = &kg_reference_gelu_and_mul;

/* A tokens x 2d bf16 input holding `values` (each exactly representable in bf16). */
typedef struct case_input {
    uint16_t bits[16];
    kg_host_tensor x;
    kg_symtab symbols;
    kg_ref_inputs in;
} case_input;

static void make_input(case_input *c, int tokens, int d, int approximate, const double *values)
{
    size_t count = (size_t)tokens * 2 * (size_t)d;
    for (size_t i = 0; i < count; i++) {
        kg_dtype_store(KG_DTYPE_BF16, c->bits, i, values[i]);
        KG_CHECK_MSG(kg_dtype_load(KG_DTYPE_BF16, c->bits, i) == values[i],
                     "test value %g is not a bf16", values[i]);
    }
    c->x = (kg_host_tensor){
        .name = "x", .dtype = KG_DTYPE_BF16, .rank = 2, .count = count, .data = c->bits};
    c->x.dims[0] = tokens;
    c->x.dims[1] = 2 * d;
    kg_symtab_init(&c->symbols);
    kg_symtab_set(&c->symbols, "tokens", tokens);
    kg_symtab_set(&c->symbols, "d", d);
    kg_symtab_set(&c->symbols, "approximate", approximate);
    c->in = (kg_ref_inputs){.tensors = &c->x, .tensor_count = 1, .symbols = &c->symbols};
}

/* Relative comparison, exact for an expected 0. */
static void check_close(double got, double want, const char *what)
{
    KG_CHECK_MSG(fabs(got - want) <= 1e-13 * fabs(want), "%s: got %.17g, want %.17g", what, got,
                 want);
}

/* Two tokens of d = 3, exact GELU: gelu(a) = a * Phi(a), Phi the standard normal CDF, whose
 * values are in every table: Phi(1) = 0.8413447460685429, Phi(-1) = 1 - Phi(1) =
 * 0.15865525393145707, Phi(2) = 0.9772498680518208, Phi(-3) = 0.0013498980316300957.
 * Row 0 = gates (0, 1, -1), ups (5, 2, 1); row 1 = gates (2, -3, 0.5), ups (-0.5, 4, 0).
 * Outputs: row 0: 0, 0.8413447460685429*2 = 1.6826894921370858, -0.15865525393145707;
 * row 1: 2*0.9772498680518208*-0.5 = -0.9772498680518208,
 * -3*0.0013498980316300957*4 = -0.016198776379561148, gelu(0.5)*0 = 0. */
static void exact_moderate_gates(void)
{
    const double x[] = {0, 1, -1, 5, 2, 1, 2, -3, 0.5, -0.5, 4, 0};
    const double want[2][3] = {{0, 1.6826894921370858, -0.15865525393145707},
                               {-0.9772498680518208, -0.016198776379561148, 0}};
    case_input c;
    make_input(&c, 2, 3, 0, x);
    size_t units = 0, len = 0;
    KG_CHECK_INT(ref->layout(&c.in, 0, &units, &len), 0);
    KG_CHECK_INT(units, 2);
    KG_CHECK_INT(len, 3);
    for (size_t t = 0; t < 2; t++) {
        double out[3];
        KG_CHECK_INT(ref->compute(&c.in, 0, t, out), 0);
        for (int i = 0; i < 3; i++)
            check_close(out[i], want[t][i], "exact gelu");
    }
}

/* d = 1, one token per case, up = 1 unless noted.
 * Exact GELU (approximate 0):
 *   a = -10:  -10 * Phi(-10) = -10 * 7.619853024160593e-24 = -7.619853024160593e-23: the tail
 *             that 1 + erf(-7.07) would lose to cancellation even in double;
 *   a = 100:  Phi(100) = 1 to double precision: 100;
 *   a = -100: Phi(-100) ~ 1e-2174 underflows: -0.
 * tanh approximation (approximate 1): gelu(a) = 0.5 a (1 + tanh(y)), y = sqrt(2/pi) (a +
 * 0.044715 a^3), sqrt(2/pi) = 0.7978845608028654:
 *   a = 1:    y = 0.7978845608028654 * 1.044715 = 0.8335619689391656,
 *             tanh(y) = 0.6823839812165535, gelu = 0.8411919906082768;
 *   a = -3:   y = 0.7978845608028654 * (-3 - 1.207305) = -3.3569437020886994,
 *             1 + tanh(y) = 2 / (1 + e^(2 * 3.3569437020886994)) = 0.002424928054515346,
 *             gelu = -1.5 * that = -0.003637392081773019;
 *   a = -1000 (up 3): e^(-2y) overflows to +inf: -0, not NaN. */
static void tails_and_tanh(void)
{
    const struct {
        int approximate;
        double gate, up, want;
    } cases[] = {
        {0, -10, 1, -7.619853024160593e-23},
        {0, 100, 1, 100},
        {0, -100, 1, -0.0},
        {1, 1, 1, 0.8411919906082768},
        {1, -3, 1, -0.003637392081773019},
        {1, -1000, 3, -0.0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const double x[] = {cases[k].gate, cases[k].up};
        case_input c;
        make_input(&c, 1, 1, cases[k].approximate, x);
        double out[1] = {NAN};
        KG_CHECK_INT(ref->compute(&c.in, 0, 0, out), 0);
        KG_CHECK_MSG(!isnan(out[0]), "gate %g gave NaN", cases[k].gate);
        KG_CHECK_MSG(fabs(out[0] - cases[k].want) <= 1e-12 * fabs(cases[k].want),
                     "approximate %d, gate %g: got %.17g, want %.17g", cases[k].approximate,
                     cases[k].gate, out[0], cases[k].want);
    }
}

/* `approximate` other than 0 or 1 and a row past the end of x are refused. */
static void refusals(void)
{
    const double x[] = {1, 2};
    case_input c;
    make_input(&c, 1, 1, 2, x);
    size_t units = 0, len = 0;
    KG_CHECK_INT(ref->layout(&c.in, 0, &units, &len), -1);
    make_input(&c, 1, 1, 0, x);
    double out[1];
    KG_CHECK_INT(ref->compute(&c.in, 0, 1, out), -1);
}

int main(void)
{
    exact_moderate_gates();
    tails_and_tanh();
    refusals();
    return kg_test_finish("test_reference_gelu_and_mul");
}
