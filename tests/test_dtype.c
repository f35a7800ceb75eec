/* Host conversions of element types: exact values, rounding to nearest
 * even for f16 and bf16, specials, and names. */
#include "dtype.h"
#include "kg_test.h"

#include <math.h>
#include <stdint.h>

int main(void)
{
    uint16_t h[1];
    kg_dtype_store(KG_DTYPE_BF16, h, 0, 1.0);
    KG_CHECK_INT(h[0], 0x3f80);
    /* 1 + 2^-8 is half-way between two bf16 values: ties to even (1.0). */
    kg_dtype_store(KG_DTYPE_BF16, h, 0, 1.0 + 1.0 / 256);
    KG_CHECK_INT(h[0], 0x3f80);
    kg_dtype_store(KG_DTYPE_BF16, h, 0, 1.0 + 3.0 / 256);
    KG_CHECK_INT(h[0], 0x3f82);
    kg_dtype_store(KG_DTYPE_BF16, h, 0, NAN);
    KG_CHECK(isnan(kg_dtype_load(KG_DTYPE_BF16, h, 0)));
    kg_dtype_store(KG_DTYPE_F16, h, 0, 1.0);
    KG_CHECK_INT(h[0], 0x3c00);
    kg_dtype_store(KG_DTYPE_F16, h, 0, -2.5);
    KG_CHECK_NEAR(kg_dtype_load(KG_DTYPE_F16, h, 0), -2.5, 0);
    kg_dtype_store(KG_DTYPE_F16, h, 0, 65520.0); /* rounds up past the largest: inf */
    KG_CHECK(isinf(kg_dtype_load(KG_DTYPE_F16, h, 0)));
    kg_dtype_store(KG_DTYPE_F16, h, 0, 5.960464477539063e-08); /* smallest subnormal */
    KG_CHECK_INT(h[0], 0x0001);
    KG_CHECK_NEAR(kg_dtype_load(KG_DTYPE_F16, h, 0), 5.960464477539063e-08, 0);
    int32_t i[1];
    kg_dtype_store(KG_DTYPE_I32, i, 0, -7);
    KG_CHECK_INT(i[0], -7);
    KG_CHECK_INT(kg_dtype_parse("bf16"), KG_DTYPE_BF16);
    KG_CHECK_INT(kg_dtype_parse("f64"), -1);
    KG_CHECK_INT(kg_dtype_size(KG_DTYPE_I64), 8);
    uint8_t b[3];
    kg_dtype_store(KG_DTYPE_U8, b, 0, 1);
    kg_dtype_store(KG_DTYPE_U8, b, 1, 300); /* clamped, not wrapped */
    kg_dtype_store(KG_DTYPE_U8, b, 2, -4);
    KG_CHECK_INT(b[0], 1);
    KG_CHECK_INT(b[1], 255);
    KG_CHECK_INT(b[2], 0);
    KG_CHECK_NEAR(kg_dtype_load(KG_DTYPE_U8, b, 1), 255, 0);
    KG_CHECK_INT(kg_dtype_parse("u8"), KG_DTYPE_U8);
    KG_CHECK_INT(kg_dtype_size(KG_DTYPE_U8), 1);
    return kg_test_finish("test_dtype");
}
