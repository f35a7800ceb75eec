/*
 * The log_softmax CPU reference against rows computed by hand:
 * y[c] = (x[c] - max) - log(sum_c exp(x[c] - max)).
 */
#include "kg_test.h"
#include "reference.h"

extern const kg_reference kg_reference_log_softmax;
static const kg_reference *ref = &kg_reference_log_softmax;

#define MAX_VOCAB 4

/* One row of `vocab` logits and its log-probabilities by hand. */
typedef struct hand_row {
    const char *what;
    int vocab;
    float x[MAX_VOCAB];
    double want[MAX_VOCAB];
} hand_row;

static kg_host_tensor tensor(const char *name, size_t count, float *data)
{
    kg_host_tensor t = {
        .name = name, .dtype = KG_DTYPE_F32, .rank = 1, .count = count, .data = data};
    t.dims[0] = (int64_t)count;
    return t;
}

/* Runs the reference on the row laid out as row 1 of a 2-row matrix (row 0
 * all zeros), so that the row offset is exercised too. */
static void check_row(const hand_row *h)
{
    float x[2 * MAX_VOCAB] = {0}, y[2 * MAX_VOCAB] = {0};
    for (int c = 0; c < h->vocab; c++)
        x[h->vocab + c] = h->x[c];
    kg_host_tensor ts[] = {tensor("x", (size_t)(2 * h->vocab), x),
                           tensor("y", (size_t)(2 * h->vocab), y)};
    kg_symtab sym;
    kg_symtab_init(&sym);
    kg_symtab_set(&sym, "rows", 2);
    kg_symtab_set(&sym, "vocab", h->vocab);
    kg_ref_inputs in = {.tensors = ts, .tensor_count = 2, .symbols = &sym};
    size_t units = 0, len = 0;
    KG_CHECK_INT(ref->layout(&in, 0, &units, &len), 0);
    KG_CHECK_INT(units, 2);
    KG_CHECK_INT(len, h->vocab);
    double out[MAX_VOCAB];
    KG_CHECK_INT(ref->compute(&in, 0, 1, out), 0);
    for (int c = 0; c < h->vocab; c++) {
        if (isinf(h->want[c])) {
            KG_CHECK_MSG(out[c] == h->want[c], "%s: column %d: %.17g, want %g", h->what, c, out[c],
                         h->want[c]);
            continue;
        }
        KG_CHECK_MSG(fabs(out[c] - h->want[c]) <= 1e-12 * (1.0 + fabs(h->want[c])),
                     "%s: column %d: %.17g, by hand %.17g", h->what, c, out[c], h->want[c]);
    }
}

/* log 2, log 3, log 4 and log(1 + e^-1 + e^-2), by hand:
 * 1 + 0.36787944117144233 + 0.1353352832366127 = 1.5032147244080551,
 * whose log is 0.40760596444438041. */
#define LOG2        0.69314718055994531
#define LOG3        1.0986122886681098
#define LOG4        1.3862943611198906
#define LOG_1_E1_E2 0.40760596444438041

static const hand_row rows[] = {
    /* One logit: probability 1, log-probability 0 whatever its value. */
    {"vocab=1", 1, {-123.5f}, {0}},
    /* Equal logits: each has probability 1/vocab, so -log(vocab). */
    {"constant", 4, {7, 7, 7, 7}, {-LOG4, -LOG4, -LOG4, -LOG4}},
    /* {0, -1, -2}: the max is 0, the sum 1 + e^-1 + e^-2. */
    {"0,-1,-2", 3, {0, -1, -2}, {-LOG_1_E1_E2, -1 - LOG_1_E1_E2, -2 - LOG_1_E1_E2}},
    /* The same row shifted by +1e4 and by -1e4 (exact in float): log-softmax
     * does not change under a common shift, and exp(1e4) or exp(-1e4)
     * without the maximum subtracted would overflow or give a zero sum. */
    {"+1e4", 3, {1e4f, 1e4f - 1, 1e4f - 2}, {-LOG_1_E1_E2, -1 - LOG_1_E1_E2, -2 - LOG_1_E1_E2}},
    {"-1e4", 3, {-1e4f, -1e4f - 1, -1e4f - 2}, {-LOG_1_E1_E2, -1 - LOG_1_E1_E2, -2 - LOG_1_E1_E2}},
    /* One logit dominates: {0, -800}: exp(-800) underflows even in double
     * (below 4.9e-324), so the sum is exactly 1: log-probabilities 0 and
     * -800. */
    {"dominant", 2, {0, -800}, {0, -800}},
    /* A -inf logit (a masked token): probability 0, log-probability -inf,
     * and nothing added to the sum: {-inf, 5, 5} gives -inf, -log 2, -log 2. */
    {"masked", 3, {-INFINITY, 5, 5}, {-INFINITY, -LOG2, -LOG2}},
    /* {3, 3, 3} with the first one 3 less: {0, 3, 3}: max 3, sum
     * e^-3 + 2 = 0.049787068367863944 + 2 = 2.0497870683678639, log 0.71773591866670261. */
    {"0,3,3", 3, {0, 3, 3}, {-3 - 0.71773591866670261, -0.71773591866670261, -0.71773591866670261}},
};

int main(void)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        check_row(&rows[i]);
    KG_CHECK_NEAR(LOG3, log(3.0), 1e-15); /* the constants above, once more */
    KG_CHECK_NEAR(LOG_1_E1_E2, log(1 + exp(-1.0) + exp(-2.0)), 1e-15);
    KG_CHECK_NEAR(0.71773591866670261, log(2 + exp(-3.0)), 1e-15);
    return kg_test_finish("test_reference_log_softmax");
}
