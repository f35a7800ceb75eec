/*
 * The per_token_group_quant_fp8 CPU reference against cases computed by
 * hand (exact quotients, brackets, an outlier, an all-zero group, eps),
 * its refusals, a proof by enumeration that workload.json's tolerance for
 * q admits exactly the e4m3 values the reference means, and the kernels'
 * float -> e4m3 conversion (fp8_e4m3.h) against kgrade's host conversion.
 */
#include "kg_test.h"
#include "reference.h"

#include <math.h>
#include <stdint.h>

/* The kernels' conversion, built for the host. */
#define KG_DEVICE_FN        static inline
#define QUANT_FLOAT_BITS(f) kg_f32_bits(f)
#define kg_fminf            fminf
#define kg_fabsf            fabsf
typedef uint32_t kg_u32;
#include "../../baselines/per_token_group_quant_fp8/fp8_e4m3.h"

extern const kg_reference kg_reference_per_token_group_quant_fp8;
static const kg_reference *ref = &kg_reference_per_token_group_quant_fp8;

/* workload.json's tolerance for q. */
#define Q_ATOL 0.0009765625 /* 2^-10 */
#define Q_RTOL 0.06

#define MAX_COLS 512

typedef struct quant_case {
    kg_host_tensor x;
    kg_symtab sym;
    kg_param_value eps;
    kg_ref_inputs in;
} quant_case;

/* One token of `hidden` f32 values (the reference reads any dtype). */
static void case_init(quant_case *c, const float *x, int64_t hidden, int64_t group_size, double eps)
{
    c->x = (kg_host_tensor){
        .name = "x", .dtype = KG_DTYPE_F32, .rank = 1, .count = (size_t)hidden, .data = (void *)x};
    kg_symtab_init(&c->sym);
    kg_symtab_set(&c->sym, "tokens", 1);
    kg_symtab_set(&c->sym, "hidden", hidden);
    kg_symtab_set(&c->sym, "group_size", group_size);
    c->eps = (kg_param_value){"eps", eps};
    c->in = (kg_ref_inputs){.tensors = &c->x,
                            .tensor_count = 1,
                            .symbols = &c->sym,
                            .params = &c->eps,
                            .param_count = 1};
}

/* Output `output` of a one-token case into out; checks the layout. */
static void compute(quant_case *c, size_t output, double *out)
{
    size_t units, len;
    KG_CHECK_INT(ref->layout(&c->in, output, &units, &len), 0);
    KG_CHECK_INT(units, 1);
    KG_CHECK_INT(ref->compute(&c->in, output, 0, out), 0);
}

static void check_case(const float *x, int64_t hidden, int64_t group_size, double eps,
                       const double *want_q, const double *want_scales)
{
    quant_case c;
    case_init(&c, x, hidden, group_size, eps);
    double out[MAX_COLS];
    compute(&c, 0, out);
    for (int64_t i = 0; i < hidden; i++)
        KG_CHECK_NEAR(out[i], want_q[i], 1e-12);
    compute(&c, 1, out);
    for (int64_t g = 0; g < hidden / group_size; g++)
        KG_CHECK_NEAR(out[g], want_scales[g], fabs(want_scales[g]) * 1e-12);
}

static void hand_cases(void)
{
    /* Group 0: absmax 4, scale 4 / 448 = 1/112, q = 112 x = [112, -224, 56,
     * 448], all e4m3 values (1.75 * 2^6, 2^7, 2^5; 448 = 1.75 * 2^8), so the
     * answer is exact. Group 1 is all zero: absmax is eps as an f32
     * (1e-10f = 1.00000001335e-10), scale eps / 448, q = 0. */
    double eps_f = (double)1e-10f;
    check_case((const float[]){1, -2, 0.5f, 4, 0, 0, 0, 0}, 8, 4, 1e-10,
               (const double[]){112, -224, 56, 448, 0, 0, 0, 0},
               (const double[]){4.0 / 448, eps_f / 448});
    /* absmax 3: x = 1 gives w = 448 / 3 = 149.33, between the e4m3 values
     * 144 and 160 (steps of 16 in [128, 256)): answer their midpoint 152. */
    check_case((const float[]){3, 1}, 2, 2, 1e-10, (const double[]){448, 152},
               (const double[]){3.0 / 448});
    /* An outlier of 1000: x = 1 gives w = 0.448, between 0.4375 and 0.46875
     * (steps of 2^-5 in [0.25, 0.5)): 0.453125. x = -0.01f gives w =
     * -0.00448, subnormal: 2.29 steps of 2^-9, so between 2 and 3 steps:
     * -2.5 * 2^-9 = -0.0048828125. x = 0 stays 0. */
    check_case((const float[]){1000, 1, -0.01f, 0}, 4, 4, 1e-10,
               (const double[]){448, 0.453125, -0.0048828125, 0}, (const double[]){1000.0 / 448});
    /* Below eps: x = eps_f / 4 (exact in f32), absmax = eps_f, so w = 448 / 4
     * = 112 exactly; -eps_f / 2 gives -224. */
    float e = 1e-10f;
    check_case((const float[]){e / 4, -e / 2}, 2, 2, 1e-10, (const double[]){112, -224},
               (const double[]){eps_f / 448});
}

static void refusals(void)
{
    const float x[6] = {1, 2, 3, 4, 5, 6};
    quant_case c;
    size_t units, len;
    double out[8];
    case_init(&c, x, 6, 4, 1e-10); /* 6 is no multiple of 4 */
    KG_CHECK_INT(ref->layout(&c.in, 0, &units, &len), -1);
    KG_CHECK_INT(ref->compute(&c.in, 0, 0, out), -1);
    case_init(&c, x, 6, 3, 1e-10);
    KG_CHECK_INT(ref->layout(&c.in, 1, &units, &len), 0);
    KG_CHECK_INT(len, 2);                                  /* two scales per token */
    KG_CHECK_INT(ref->layout(&c.in, 2, &units, &len), -1); /* there are two outputs */
    KG_CHECK_INT(ref->compute(&c.in, 2, 0, out), -1);
    KG_CHECK_INT(ref->compute(&c.in, 0, 1, out), -1); /* one token only */
    c.eps.value = 0;                                  /* eps must keep 0 / 0 away */
    KG_CHECK_INT(ref->compute(&c.in, 0, 0, out), -1);
}

/* Every finite e4m3 value, ascending: -448 .. -2^-9, 0, 2^-9 .. 448. */
#define E4M3_FINITE 253
static double e4m3_values[E4M3_FINITE];

static void e4m3_values_init(void)
{
    for (int code = 0; code <= 0x7e; code++) {
        uint8_t byte = (uint8_t)code;
        double v = kg_dtype_load(KG_DTYPE_F8E4M3, &byte, 0);
        e4m3_values[126 + code] = v;
        e4m3_values[126 - code] = -v;
    }
}

/* The reference's answer for an exact quotient w: a group [448, w]. */
static double answer_for(float w)
{
    quant_case c;
    const float x[2] = {448, w};
    double out[2];
    case_init(&c, x, 2, 2, 1e-10);
    compute(&c, 0, out);
    return out[1];
}

/* The e4m3 values the tolerance admits around the answer for w must be
 * the two bracketing w (lo < w < hi, neighbours in e4m3_values) or, for w
 * an e4m3 value, w alone where |w| > 0.25 and otherwise w and values at
 * most one step from it. */
static void check_admitted(float w)
{
    double v = answer_for(w);
    int lo = 0;
    while (lo + 1 < E4M3_FINITE && e4m3_values[lo + 1] <= w)
        lo++;
    int exact = e4m3_values[lo] == w, hi = exact ? lo : lo + 1;
    int admitted_lo = E4M3_FINITE, admitted_hi = -1;
    for (int i = 0; i < E4M3_FINITE; i++)
        if (fabs(e4m3_values[i] - v) <= Q_ATOL + Q_RTOL * fabs(v)) {
            admitted_lo = admitted_lo < i ? admitted_lo : i;
            admitted_hi = i;
        }
    if (!exact || fabs(w) > 0.25) {
        KG_CHECK_MSG(admitted_lo == lo && admitted_hi == hi,
                     "w %.9g: admitted e4m3 [%g, %g], want [%g, %g]", (double)w,
                     e4m3_values[admitted_lo], e4m3_values[admitted_hi], e4m3_values[lo],
                     e4m3_values[hi]);
    } else {
        KG_CHECK_MSG(admitted_lo >= lo - 1 && admitted_lo <= lo && admitted_hi >= lo &&
                         admitted_hi <= lo + 1,
                     "w %.9g: admitted e4m3 [%g, %g], more than one step", (double)w,
                     e4m3_values[admitted_lo], e4m3_values[admitted_hi]);
    }
}

/* Every e4m3 value, the points a float ulp either side of it, and the
 * quarter points between neighbours, of both signs. */
static void tolerance_admits_the_bracket(void)
{
    for (int i = 126; i < E4M3_FINITE; i++) {
        float c = (float)e4m3_values[i];
        float probes[3] = {c, nextafterf(c, 0), nextafterf(c, 448)};
        for (int p = 0; p < 3; p++)
            if (probes[p] <= 448) {
                check_admitted(probes[p]);
                check_admitted(-probes[p]);
            }
        if (i + 1 < E4M3_FINITE)
            for (int quarter = 1; quarter < 4; quarter++) {
                float w =
                    (float)(e4m3_values[i] + (e4m3_values[i + 1] - e4m3_values[i]) * quarter / 4);
                check_admitted(w);
                check_admitted(-w);
            }
    }
}

/* The kernels' conversion equals the host's on a sweep of float bit
 * patterns (every 257th from 0 to +inf, both signs), every e4m3 value, the
 * midpoints between neighbours and a float ulp either side of them. */
static void check_conversion(float f)
{
    uint8_t want;
    kg_dtype_store(KG_DTYPE_F8E4M3, &want, 0, (double)f);
    unsigned got = quant_float_to_e4m3(f);
    KG_CHECK_MSG(got == want, "%.9g (bits %08x): got e4m3 0x%02x, want 0x%02x", (double)f,
                 (unsigned)kg_f32_bits(f), got, (unsigned)want);
}

static void conversion_matches_host(void)
{
    int before = kg_test_failures;
    for (uint32_t bits = 0; bits <= 0x7f800000u && kg_test_failures - before < 10; bits += 257) {
        check_conversion(kg_f32_from_bits(bits));
        check_conversion(kg_f32_from_bits(bits | 0x80000000u));
    }
    for (int i = 0; i + 1 < E4M3_FINITE; i++) {
        float mid = (float)((e4m3_values[i] + e4m3_values[i + 1]) / 2);
        float probes[4] = {(float)e4m3_values[i], mid, nextafterf(mid, -INFINITY),
                           nextafterf(mid, INFINITY)};
        for (int p = 0; p < 4; p++)
            check_conversion(probes[p]);
    }
    check_conversion(464.0f); /* halfway to the (missing) 480: saturates */
    check_conversion(1e30f);
    check_conversion(INFINITY);
    check_conversion(-INFINITY);
    KG_CHECK_INT(quant_float_to_e4m3(NAN), 0x7f);
}

int main(void)
{
    e4m3_values_init();
    hand_cases();
    refusals();
    tolerance_admits_the_bracket();
    conversion_matches_host();
    return kg_test_finish("test_reference_per_token_group_quant_fp8");
}
