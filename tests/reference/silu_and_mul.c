/*
 * The silu_and_mul CPU reference against cases computed by hand: its layout
 * (one unit per token, d outputs each), which half of a row is the gate and
 * which the up projection, and silu's value at zero, at moderate gates and
 * where exp overflows.
 */
#include "kg_test.h"
#include "reference.h"

#include <math.h>
#include <stdint.h>

extern const kg_reference kg_reference_silu_and_mul;
static const kg_reference *ref = &kg_reference_silu_and_mul;

/* A tokens x 2d bf16 input holding `values` (each exactly representable in bf16). */
typedef struct case_input {
    uint16_t bits[16];
    kg_host_tensor x;
    kg_symtab symbols;
    kg_ref_inputs in;
} case_input;

static void make_input(case_input *c, int tokens, int d, const double *values)
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
    c->in = (kg_ref_inputs){.tensors = &c->x, .tensor_count = 1, .symbols = &c->symbols};
}

/* Relative comparison, exact for an expected 0. */
static void check_close(double got, double want, const char *what)
{
    KG_CHECK_MSG(fabs(got - want) <= 1e-13 * fabs(want), "%s: got %.17g, want %.17g", what, got,
                 want);
}

/* Two tokens of d = 3: row 0 = gates (0, 1, -1), ups (5, 2, 1); row 1 = gates (2, 0.5, -2),
 * ups (-0.5, 0, 4). silu(a) = a / (1 + e^-a), by hand:
 *   silu(0) = 0;  silu(1) = 1 / (1 + e^-1) = 0.7310585786300049;
 *   silu(-1) = -1 / (1 + e) = -0.2689414213699951;
 *   silu(2) = 2 / (1 + e^-2) = 1.7615941559557646;
 *   silu(-2) = -2 / (1 + e^2) = -0.2384058440442351.
 * Outputs: row 0: 0*5 = 0, 0.7310585786300049*2 = 1.4621171572600098, -0.2689414213699951*1;
 * row 1: 1.7615941559557646*-0.5 = -0.8807970779778823, silu(0.5)*0 = 0,
 * -0.2384058440442351*4 = -0.9536233761769404. */
static void moderate_gates(void)
{
    const double x[] = {0, 1, -1, 5, 2, 1, 2, 0.5, -2, -0.5, 0, 4};
    const double want[2][3] = {{0, 1.4621171572600098, -0.2689414213699951},
                               {-0.8807970779778823, 0, -0.9536233761769404}};
    case_input c;
    make_input(&c, 2, 3, x);
    size_t units = 0, len = 0;
    KG_CHECK_INT(ref->layout(&c.in, 0, &units, &len), 0);
    KG_CHECK_INT(units, 2);
    KG_CHECK_INT(len, 3);
    for (size_t t = 0; t < 2; t++) {
        double out[3];
        KG_CHECK_INT(ref->compute(&c.in, 0, t, out), 0);
        for (int i = 0; i < 3; i++)
            check_close(out[i], want[t][i], "moderate gate");
    }
}

/* d = 1, one token per case: gates where exp(-a) is huge or tiny.
 *   a = 100:   silu = 100 / (1 + e^-100) = 100 (1 - 3.7e-44), 100 to double precision;
 *   a = -100:  silu = -100 e^-100 / (1 + e^-100) = -3.7200759760208363e-42;
 *   a = 1000:  e^-1000 underflows to 0: silu = 1000 exactly;
 *   a = -1000: e^1000 overflows to +inf: silu = -1000 / inf = -0, not NaN. */
static void extreme_gates(void)
{
    const struct {
        double gate, up, want;
    } cases[] = {
        {100, 1, 100},
        {-100, 1, -3.7200759760208363e-42},
        {1000, 3, 3000},
        {-1000, 3, -0.0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const double x[] = {cases[k].gate, cases[k].up};
        case_input c;
        make_input(&c, 1, 1, x);
        double out[1] = {NAN};
        KG_CHECK_INT(ref->compute(&c.in, 0, 0, out), 0);
        KG_CHECK_MSG(!isnan(out[0]), "gate %g gave NaN", cases[k].gate);
        check_close(out[0], cases[k].want, "extreme gate");
    }
}

/* A row past the end of x is refused, not read. */
static void short_input(void)
{
    const double x[] = {1, 2};
    case_input c;
    make_input(&c, 1, 1, x);
    double out[1];
    KG_CHECK_INT(ref->compute(&c.in, 0, 1, out), -1);
}

int main(void)
{
    moderate_gates();
    extreme_gates();
    short_input();
    return kg_test_finish("test_reference_silu_and_mul");
}
