/*
 * The embedding CPU reference against cases worked by hand: rows copied
 * exactly (repeated ids, the first and last rows, bf16 bit patterns down
 * to the smallest subnormal), ids outside the table refused, and the ids
 * its fill draws and its nudge changes staying inside [0, vocab).
 */
#include "kg_test.h"
#include "reference.h"

#include <math.h>
#include <stdint.h>

extern const kg_reference kg_reference_embedding;
static const kg_reference *ref = &kg_reference_embedding;

static void set_sizes(kg_symtab *sym, int64_t tokens, int64_t vocab, int64_t hidden)
{
    kg_symtab_init(sym);
    kg_symtab_set(sym, "tokens", tokens);
    kg_symtab_set(sym, "vocab", vocab);
    kg_symtab_set(sym, "hidden", hidden);
}

/* A 3 x 2 f32 table, ids [2, 0, 2]: rows 2, 0 and 2 again (a repeated
 * token gets the same row; the first and last rows of the table). */
static void test_f32_rows(void)
{
    int32_t ids[3] = {2, 0, 2};
    float table[6] = {1.5f, -2, 0.25f, 3, -0.125f, 7};
    kg_host_tensor ts[2] = {
        {.name = "ids", .dtype = KG_DTYPE_I32, .rank = 1, .count = 3, .data = ids},
        {.name = "table", .dtype = KG_DTYPE_F32, .rank = 2, .count = 6, .data = table},
    };
    kg_symtab sym;
    set_sizes(&sym, 3, 3, 2);
    kg_ref_inputs in = {.tensors = ts, .tensor_count = 2, .symbols = &sym};
    size_t units, len;
    KG_CHECK_INT(ref->layout(&in, 0, &units, &len), 0);
    KG_CHECK_INT(units, 3);
    KG_CHECK_INT(len, 2);
    KG_CHECK_INT(ref->layout(&in, 1, &units, &len), -1); /* one output only */
    const double want[3][2] = {{-0.125, 7}, {1.5, -2}, {-0.125, 7}};
    for (size_t t = 0; t < 3; t++) {
        double out[2] = {NAN, NAN};
        KG_CHECK_INT(ref->compute(&in, 0, t, out), 0);
        KG_CHECK_NEAR(out[0], want[t][0], 0);
        KG_CHECK_NEAR(out[1], want[t][1], 0);
    }
    double out[2];
    KG_CHECK_INT(ref->compute(&in, 0, 3, out), -1); /* past the last token */
    ids[1] = 3;                                     /* one past the table's end */
    KG_CHECK_INT(ref->compute(&in, 0, 1, out), -1);
    ids[1] = -1;
    KG_CHECK_INT(ref->compute(&in, 0, 1, out), -1);
}

/* bf16 rows read bit for bit: 0x3f80 = 1, 0xc000 = -2, 0x0001 = 2^-133
 * (the smallest subnormal: mantissa 1 of 7 bits times 2^-126 / 2^7),
 * 0x7f7f = the largest finite, (2 - 2^-7) * 2^127. */
static void test_bf16_bits(void)
{
    int32_t ids[1] = {1};
    uint16_t table[8] = {0, 0, 0, 0, 0x3f80, 0xc000, 0x0001, 0x7f7f};
    kg_host_tensor ts[2] = {
        {.name = "ids", .dtype = KG_DTYPE_I32, .rank = 1, .count = 1, .data = ids},
        {.name = "table", .dtype = KG_DTYPE_BF16, .rank = 2, .count = 8, .data = table},
    };
    kg_symtab sym;
    set_sizes(&sym, 1, 2, 4);
    kg_ref_inputs in = {.tensors = ts, .tensor_count = 2, .symbols = &sym};
    double out[4];
    KG_CHECK_INT(ref->compute(&in, 0, 0, out), 0);
    KG_CHECK_NEAR(out[0], 1, 0);
    KG_CHECK_NEAR(out[1], -2, 0);
    KG_CHECK_NEAR(out[2], ldexp(1, -133), 0);
    KG_CHECK_NEAR(out[3], (2 - ldexp(1, -7)) * ldexp(1, 127), 0);
    KG_CHECK_NEAR(out[3], 3.3895313892515355e38, 1e23);
}

/* Counts ids outside [0, vocab) and ids equal to an earlier one. */
static void scan_ids(const int32_t *ids, int64_t n, int64_t vocab, int *outside, int *repeats)
{
    *outside = *repeats = 0;
    for (int64_t i = 0; i < n; i++) {
        *outside += ids[i] < 0 || ids[i] >= vocab;
        for (int64_t j = 0; j < i; j++)
            if (ids[j] == ids[i]) {
                (*repeats)++;
                break;
            }
    }
}

/* fill: deterministic for the shape (seed 0), another batch for another
 * seed, every id in range; with 64 tokens over 10^6 ids, repeats come
 * from the quarter of tokens drawn as repeats (about 16), hardly ever by
 * chance (64^2 / 2 / 10^6 = 0.002 expected). nudge keeps ids in range. */
static void test_fill_and_nudge(void)
{
    enum { N = 64 };
    int32_t a[N], b[N], c[N];
    kg_host_tensor t = {.name = "ids", .dtype = KG_DTYPE_I32, .rank = 1, .count = N, .data = a};
    kg_symtab sym;
    set_sizes(&sym, N, 1000000, 8);
    KG_CHECK_INT(ref->fill(&sym, 0, &t), 0);
    t.data = b;
    KG_CHECK_INT(ref->fill(&sym, 0, &t), 0);
    t.data = c;
    KG_CHECK_INT(ref->fill(&sym, 5, &t), 0);
    int same_ab = 1, same_ac = 1, outside, repeats;
    for (int i = 0; i < N; i++) {
        same_ab &= a[i] == b[i];
        same_ac &= a[i] == c[i];
    }
    KG_CHECK(same_ab);
    KG_CHECK(!same_ac);
    scan_ids(a, N, 1000000, &outside, &repeats);
    KG_CHECK_INT(outside, 0);
    KG_CHECK_MSG(repeats >= 4 && repeats <= 40, "%d repeated ids of 64", repeats);
    t.count = N - 1; /* not the shape's size */
    KG_CHECK_INT(ref->fill(&sym, 0, &t), -1);

    /* A vocabulary of 3: nudged ids stay in [0, 3). */
    set_sizes(&sym, N, 3, 8);
    t.count = N;
    t.data = a;
    KG_CHECK_INT(ref->fill(&sym, 0, &t), 0);
    kg_ref_inputs in = {.tensors = &t, .tensor_count = 1, .symbols = &sym};
    for (uint64_t seed = 1; seed < 20; seed++)
        KG_CHECK_INT(ref->nudge(&in, &t, seed), 0);
    scan_ids(a, N, 3, &outside, &repeats);
    KG_CHECK_INT(outside, 0);
}

int main(void)
{
    test_f32_rows();
    test_bf16_bits();
    test_fill_and_nudge();
    return kg_test_finish("test_reference_embedding");
}
