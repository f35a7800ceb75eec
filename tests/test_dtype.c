/* Host conversions of element types: exact values, rounding to nearest
 * even for f16 and bf16, specials, and names. */
#include "dtype.h"
#include "kg_test.h"

#include <math.h>
#include <stdint.h>

/* One store-and-load of an 8-bit float: the code stored, and the value
 * it reads back as. */
static void fp8_case(kg_dtype t, double v, int code, double back)
{
    uint8_t b[1];
    kg_dtype_store(t, b, 0, v);
    KG_CHECK_MSG(b[0] == code, "%s %g: code 0x%02x, expected 0x%02x", kg_dtype_name(t), v, b[0],
                 code);
    if (isnan(back))
        KG_CHECK(isnan(kg_dtype_load(t, b, 0)));
    else
        KG_CHECK_NEAR(kg_dtype_load(t, b, 0), back, 0);
}

/* Codes worked out from the formats' fields (sign | exponent | mantissa):
 * e4m3 1.0 = 0.0111.000, e5m2 1.0 = 0.01111.00. */
static void fp8_cases(void)
{
    fp8_case(KG_DTYPE_F8E4M3, 1.0, 0x38, 1.0);
    fp8_case(KG_DTYPE_F8E4M3, -2.0, 0xc0, -2.0);
    fp8_case(KG_DTYPE_F8E4M3, 448.0, 0x7e, 448.0);             /* largest: 1.75 * 2^8 */
    fp8_case(KG_DTYPE_F8E4M3, 1e6, 0x7e, 448.0);               /* saturates, never NaN */
    fp8_case(KG_DTYPE_F8E4M3, -INFINITY, 0xfe, -448.0);        /* no infinities in e4m3 */
    fp8_case(KG_DTYPE_F8E4M3, 1.0625, 0x38, 1.0);              /* tie: to the even mantissa 0 */
    fp8_case(KG_DTYPE_F8E4M3, 1.1875, 0x3a, 1.25);             /* tie: to the even mantissa 2 */
    fp8_case(KG_DTYPE_F8E4M3, 0.001953125, 0x01, 0.001953125); /* 2^-9, smallest subnormal */
    fp8_case(KG_DTYPE_F8E4M3, 0.0009765625, 0x00, 0.0);        /* 2^-10: tie, to even (zero) */
    fp8_case(KG_DTYPE_F8E4M3, 0.0146484375, 0x08, 0.015625);   /* 7.5 * 2^-9: rounds to 2^-6 */
    fp8_case(KG_DTYPE_F8E5M2, 1.0, 0x3c, 1.0);
    fp8_case(KG_DTYPE_F8E5M2, 57344.0, 0x7b, 57344.0);                    /* largest: 1.75 * 2^15 */
    fp8_case(KG_DTYPE_F8E5M2, 1.5258789062e-05, 0x01, 1.52587890625e-05); /* 2^-16 */
    fp8_case(KG_DTYPE_F8E5M2, 3.0, 0x42, 3.0);
    uint8_t special[2] = {0x7f, 0x7c};
    KG_CHECK(isnan(kg_dtype_load(KG_DTYPE_F8E4M3, special, 0)));
    KG_CHECK(isnan(kg_dtype_load(KG_DTYPE_F8E5M2, special, 0)));
    KG_CHECK(isinf(kg_dtype_load(KG_DTYPE_F8E5M2, special, 1)));
    KG_CHECK_NEAR(kg_dtype_load(KG_DTYPE_F8E4M3, special, 1), 384.0, 0); /* 0.1111.100: 1.5 * 2^8 */
    fp8_case(KG_DTYPE_F8E4M3, NAN, 0x7f, NAN);
    int8_t i8[2];
    kg_dtype_store(KG_DTYPE_I8, i8, 0, -200);
    kg_dtype_store(KG_DTYPE_I8, i8, 1, 5);
    KG_CHECK_INT(i8[0], -128);
    KG_CHECK_NEAR(kg_dtype_load(KG_DTYPE_I8, i8, 1), 5, 0);
    KG_CHECK_INT(kg_dtype_parse("f8e4m3"), KG_DTYPE_F8E4M3);
}

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
    fp8_cases();
    return kg_test_finish("test_dtype");
}
