/*
 * The cross_entropy CPU reference against cases worked by hand: equal
 * logits (log V), three logits, a dominant label whose loss is e^-100
 * (lost by log(sum) + max - x), the ignore index, a -inf label logit
 * (+inf), labels outside the vocabulary refused; and the labels its fill
 * draws and its nudge changes.
 */
#include "kg_test.h"
#include "reference.h"

#include <math.h>
#include <stdint.h>

extern const kg_reference kg_reference_cross_entropy;
static const kg_reference *ref = &kg_reference_cross_entropy;

static void set_sizes(kg_symtab *sym, int64_t tokens, int64_t vocab)
{
    kg_symtab_init(sym);
    kg_symtab_set(sym, "tokens", tokens);
    kg_symtab_set(sym, "vocab", vocab);
}

/* Token 0: four equal logits, label 2: log 4. Token 1: [1, 2, 3, -inf],
 * label 0: (3 - 1) + log(e^-2 + e^-1 + 1 + 0) = 2.40760596444438
 * (math.log(e + e^2 + e^3) - 1; the -inf adds nothing).
 * Token 2: ignored (-100): 0. Token 3: [0, 100, 0, 0], label 1: log(1 +
 * 3 e^-100) = 3 e^-100 = 1.1160227928062508e-43 to double precision.
 * Token 4: label 3 on a -inf logit: +inf. */
static void test_hand_cases(void)
{
    float logits[5][4] = {{0.5f, 0.5f, 0.5f, 0.5f},
                          {1, 2, 3, -INFINITY},
                          {7, 7, 7, 7},
                          {0, 100, 0, 0},
                          {1, 2, 3, -INFINITY}};
    int32_t labels[5] = {2, 0, -100, 1, 3};
    kg_host_tensor ts[2] = {
        {.name = "logits", .dtype = KG_DTYPE_F32, .rank = 2, .count = 20, .data = logits},
        {.name = "labels", .dtype = KG_DTYPE_I32, .rank = 1, .count = 5, .data = labels},
    };
    kg_symtab sym;
    set_sizes(&sym, 5, 4);
    kg_ref_inputs in = {.tensors = ts, .tensor_count = 2, .symbols = &sym};
    size_t units, len;
    KG_CHECK_INT(ref->layout(&in, 0, &units, &len), 0);
    KG_CHECK_INT(units, 5);
    KG_CHECK_INT(len, 1);
    double out[1];
    KG_CHECK_INT(ref->compute(&in, 0, 0, out), 0);
    KG_CHECK_NEAR(out[0], 1.3862943611198906, 1e-15);
    KG_CHECK_INT(ref->compute(&in, 0, 1, out), 0);
    KG_CHECK_NEAR(out[0], 2.40760596444438, 1e-14);
    KG_CHECK_INT(ref->compute(&in, 0, 2, out), 0);
    KG_CHECK_NEAR(out[0], 0, 0);
    KG_CHECK_INT(ref->compute(&in, 0, 3, out), 0);
    KG_CHECK_MSG(fabs(out[0] / (3 * 3.720075976020836e-44) - 1) < 1e-12, "got %g", out[0]);
    KG_CHECK_INT(ref->compute(&in, 0, 4, out), 0);
    KG_CHECK(isinf(out[0]) && out[0] > 0);
    labels[0] = 4; /* one past the vocabulary */
    KG_CHECK_INT(ref->compute(&in, 0, 0, out), -1);
    labels[0] = -1;
    KG_CHECK_INT(ref->compute(&in, 0, 0, out), -1);
    KG_CHECK_INT(ref->compute(&in, 0, 5, out), -1); /* past the last token */
}

/* fill: the same labels for the same shape, others for another seed, all
 * in [0, vocab) or -100, about one in eight ignored; nudge keeps them so. */
static void test_fill_and_nudge(void)
{
    enum { N = 800 };
    int32_t a[N], b[N], c[N];
    kg_host_tensor t = {.name = "labels", .dtype = KG_DTYPE_I32, .rank = 1, .count = N, .data = a};
    kg_symtab sym;
    set_sizes(&sym, N, 1000);
    KG_CHECK_INT(ref->fill(&sym, 0, &t), 0);
    t.data = b;
    KG_CHECK_INT(ref->fill(&sym, 0, &t), 0);
    t.data = c;
    KG_CHECK_INT(ref->fill(&sym, 7, &t), 0);
    int same_ab = 1, same_ac = 1, ignored = 0, outside = 0;
    for (int i = 0; i < N; i++) {
        same_ab &= a[i] == b[i];
        same_ac &= a[i] == c[i];
        ignored += a[i] == -100;
        outside += a[i] != -100 && (a[i] < 0 || a[i] >= 1000);
    }
    KG_CHECK(same_ab);
    KG_CHECK(!same_ac);
    KG_CHECK_INT(outside, 0);
    KG_CHECK_MSG(ignored > 60 && ignored < 140, "%d of 800 ignored (about 100 expected)", ignored);
    t.data = a;
    kg_ref_inputs in = {.tensors = &t, .tensor_count = 1, .symbols = &sym};
    KG_CHECK_INT(ref->nudge(&in, &t, 11), 0);
    int changed = 0;
    for (int i = 0; i < N; i++) {
        changed += a[i] != b[i];
        outside += a[i] != -100 && (a[i] < 0 || a[i] >= 1000);
    }
    KG_CHECK_MSG(changed >= 1 && changed <= 3, "%d labels changed", changed);
    KG_CHECK_INT(outside, 0);
    t.count = N - 1;
    KG_CHECK_INT(ref->fill(&sym, 0, &t), -1);
}

int main(void)
{
    test_hand_cases();
    test_fill_and_nudge();
    return kg_test_finish("test_reference_cross_entropy");
}
