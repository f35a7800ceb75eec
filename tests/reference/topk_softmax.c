/*
 * The topk_softmax CPU reference against cases computed by hand: the
 * order of the chosen experts, the tie rule (the lower index first), both
 * outputs with and without renormalisation, rows whose probabilities
 * underflow, and refusals.
 */
#include "kg_test.h"
#include "reference.h"

#include <math.h>

extern const kg_reference kg_reference_topk_softmax;
static const kg_reference *ref = &kg_reference_topk_softmax;

enum { MAX_EXPERTS = 8 };

/* One token of `experts` f32 logits (the reference reads any dtype). */
typedef struct topk_case {
    float logits[MAX_EXPERTS];
    int64_t experts, topk, renormalize;
} topk_case;

static void set_inputs(const topk_case *c, kg_host_tensor *t, kg_symtab *sym, kg_ref_inputs *in)
{
    *t = (kg_host_tensor){.name = "gating_output",
                          .dtype = KG_DTYPE_F32,
                          .rank = 2,
                          .dims = {1, c->experts},
                          .count = (size_t)c->experts,
                          .data = (void *)c->logits};
    kg_symtab_init(sym);
    kg_symtab_set(sym, "tokens", 1);
    kg_symtab_set(sym, "experts", c->experts);
    kg_symtab_set(sym, "topk", c->topk);
    kg_symtab_set(sym, "renormalize", c->renormalize);
    *in = (kg_ref_inputs){.tensors = t, .tensor_count = 1, .symbols = sym};
}

static void run_case(const topk_case *c, const double *want_weights, const int *want_ids)
{
    kg_host_tensor t;
    kg_symtab sym;
    kg_ref_inputs in;
    set_inputs(c, &t, &sym, &in);
    for (size_t output = 0; output < 2; output++) {
        size_t units, len;
        KG_CHECK_INT(ref->layout(&in, output, &units, &len), 0);
        KG_CHECK_INT(units, 1);
        KG_CHECK_INT(len, (size_t)c->topk);
        double out[MAX_EXPERTS];
        KG_CHECK_INT(ref->compute(&in, output, 0, out), 0);
        for (int64_t k = 0; k < c->topk; k++) {
            if (output == 0)
                KG_CHECK_NEAR(out[k], want_weights[k], 1e-9);
            else
                KG_CHECK_INT(out[k], want_ids[k]);
        }
    }
}

/* Inputs the workload does not define are refused, not answered. */
static void check_refusals(void)
{
    kg_host_tensor t;
    kg_symtab sym;
    kg_ref_inputs in;
    size_t units, len;
    double out[MAX_EXPERTS];
    topk_case c = {{1, 2, 3}, 3, 4, 0}; /* topk > experts */
    set_inputs(&c, &t, &sym, &in);
    KG_CHECK_INT(ref->compute(&in, 0, 0, out), -1);
    c = (topk_case){{1, 2, 3}, 3, 2, 2}; /* renormalize is 0 or 1 */
    set_inputs(&c, &t, &sym, &in);
    KG_CHECK_INT(ref->compute(&in, 1, 0, out), -1);
    c = (topk_case){{1, NAN, 3}, 3, 2, 0}; /* a NaN logit has no rank */
    set_inputs(&c, &t, &sym, &in);
    KG_CHECK_INT(ref->compute(&in, 0, 0, out), -1);
    c = (topk_case){{1, 2, 3}, 3, 2, 0}; /* there are two outputs */
    set_inputs(&c, &t, &sym, &in);
    KG_CHECK_INT(ref->layout(&in, 2, &units, &len), -1);
    KG_CHECK_INT(ref->compute(&in, 2, 0, out), -1);
}

int main(void)
{
    /* Logits [1, 3, 2, 0]: experts 1 then 2. The softmax's denominator
     * with the maximum 3 subtracted is e^-2 + 1 + e^-1 + e^-3 =
     * 1.5530017928, so the weights are 1 / 1.5530017928 = 0.6439142599 and
     * e^-1 / 1.5530017928 = 0.2368828181. */
    run_case(&(topk_case){{1, 3, 2, 0}, 4, 2, 0}, (const double[]){0.6439142599, 0.2368828181},
             (const int[]){1, 2});
    KG_CHECK_NEAR(1 / (exp(-2) + 1 + exp(-1) + exp(-3)), 0.6439142599, 1e-10);
    /* Renormalised: 1 / (1 + e^-1) = 0.7310585786 and e^-1 / (1 + e^-1) =
     * 0.2689414214 (the denominator cancels). */
    run_case(&(topk_case){{1, 3, 2, 0}, 4, 2, 1}, (const double[]){0.7310585786, 0.2689414214},
             (const int[]){1, 2});
    /* Ties: [2, 5, 5, 2, 5], top 4. The three 5s in index order, then the
     * lower-index 2. Denominator 3 + 2 e^-3 = 3.0995741367: weights
     * 0.3226249658 for each 5 and e^-3 / 3.0995741367 = 0.0160625512. */
    run_case(&(topk_case){{2, 5, 5, 2, 5}, 5, 4, 0},
             (const double[]){0.3226249658, 0.3226249658, 0.3226249658, 0.0160625512},
             (const int[]){1, 2, 4, 0});
    /* All equal, K = E: every expert, in index order, 1/3 each. */
    run_case(&(topk_case){{-1, -1, -1}, 3, 3, 0}, (const double[]){1 / 3.0, 1 / 3.0, 1 / 3.0},
             (const int[]){0, 1, 2});
    /* Offset near 1000 (bf16 values: steps of 4 there): [1000, 996, 1000],
     * top 2: both 1000s, each 1 / (2 + e^-4) = 0.4954626426. */
    run_case(&(topk_case){{1000, 996, 1000}, 3, 2, 0}, (const double[]){0.4954626426, 0.4954626426},
             (const int[]){0, 2});
    /* Underflow: [0, -800, -900, 5], top 3. exp(-805) is 0 even in double,
     * yet -800 still ranks before -900: experts 3, 0, 1 with weights
     * 1 / (1 + e^-5) = 0.9933071491, e^-5 / (1 + e^-5) = 0.0066928509, 0. */
    run_case(&(topk_case){{0, -800, -900, 5}, 4, 3, 0},
             (const double[]){0.9933071491, 0.0066928509, 0}, (const int[]){3, 0, 1});
    /* One expert chosen and renormalised: weight 1, whatever the row. */
    run_case(&(topk_case){{0.5f, -2, 0.25f}, 3, 1, 1}, (const double[]){1}, (const int[]){0});
    check_refusals();
    return kg_test_finish("test_reference_topk_softmax");
}
