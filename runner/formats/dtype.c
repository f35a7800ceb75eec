/* Element types: names, sizes and host-side conversions. */
#include "dtype.h"

#include <math.h>
#include <string.h>

static const struct {
    const char *name;
    size_t size;
    int is_float;
} dtypes[KG_DTYPE_COUNT] = {
    [KG_DTYPE_F32] = {"f32", 4, 1},       [KG_DTYPE_F16] = {"f16", 2, 1},
    [KG_DTYPE_BF16] = {"bf16", 2, 1},     [KG_DTYPE_I32] = {"i32", 4, 0},
    [KG_DTYPE_I64] = {"i64", 8, 0},       [KG_DTYPE_U8] = {"u8", 1, 0},
    [KG_DTYPE_F8E4M3] = {"f8e4m3", 1, 1}, [KG_DTYPE_F8E5M2] = {"f8e5m2", 1, 1},
    [KG_DTYPE_I8] = {"i8", 1, 0},
};

/* An 8-bit float format: exponent and mantissa bits, bias, whether the
 * all-ones exponent is infinity/NaN (e5m2) or only S.1111.111 is NaN (e4m3). */
typedef struct fp8_format {
    int mant_bits, bias, ieee_specials;
    uint8_t max_code; /* the largest finite value's code, sign clear */
    uint8_t nan_code;
} fp8_format;

static const fp8_format fp8_e4m3 = {3, 7, 0, 0x7e, 0x7f};
static const fp8_format fp8_e5m2 = {2, 15, 1, 0x7b, 0x7f};

static double fp8_to_double(const fp8_format *f, uint8_t code)
{
    int sign = code >> 7, exp = (code & 0x7f) >> f->mant_bits;
    int mant = code & ((1 << f->mant_bits) - 1);
    int top = 0x7f >> f->mant_bits;
    double v;
    if (f->ieee_specials && exp == top)
        v = mant ? NAN : INFINITY;
    else if (!f->ieee_specials && (code & 0x7f) == f->nan_code)
        v = NAN;
    else if (exp == 0)
        v = ldexp(mant, 1 - f->bias - f->mant_bits);
    else
        v = ldexp(mant | (1 << f->mant_bits), exp - f->bias - f->mant_bits);
    return sign ? -v : v;
}

/* Nearest code, ties to an even mantissa; codes grow with the value, so a
 * mantissa that rounds up to 2^mant_bits carries into the exponent. */
static uint8_t double_to_fp8(const fp8_format *f, double d)
{
    if (isnan(d))
        return f->nan_code;
    uint8_t sign = signbit(d) ? 0x80 : 0;
    double a = fabs(d);
    int exp;
    frexp(a, &exp);            /* a = m * 2^exp, m in [0.5, 1) */
    int e = exp - 1 + f->bias; /* biased exponent of a's leading bit */
    double code;
    if (a == 0 || e < 1) /* subnormal: steps of 2^(1 - bias - mant_bits) */
        code = nearbyint(ldexp(a, f->bias - 1 + f->mant_bits));
    else
        code = ldexp(e, f->mant_bits) +
               nearbyint(ldexp(a, f->mant_bits - (exp - 1)) - ldexp(1, f->mant_bits));
    if (!(code <= f->max_code))
        code = f->max_code;
    return (uint8_t)(sign | (uint8_t)code);
}

const char *kg_dtype_name(kg_dtype t)
{
    return (int)t >= 0 && t < KG_DTYPE_COUNT ? dtypes[t].name : "unknown";
}

int kg_dtype_parse(const char *name)
{
    for (int i = 0; i < KG_DTYPE_COUNT; i++)
        if (strcmp(dtypes[i].name, name) == 0)
            return i;
    return -1;
}

size_t kg_dtype_size(kg_dtype t)
{
    return dtypes[t].size;
}

int kg_dtype_is_float(kg_dtype t)
{
    return dtypes[t].is_float;
}

float kg_f32_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

uint32_t kg_f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static double f16_to_double(uint16_t h)
{
    int sign = h >> 15, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    double v;
    if (exp == 0)
        v = ldexp(mant, -24);
    else if (exp == 31)
        v = mant ? NAN : INFINITY;
    else
        v = ldexp(mant | 0x400, exp - 25);
    return sign ? -v : v;
}

/* Round to nearest even through float, the way device conversions do. */
static uint16_t double_to_f16(double d)
{
    uint32_t x = kg_f32_bits((float)d);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    int exp = (int)((x >> 23) & 0xff) - 127 + 15;
    uint32_t mant = x & 0x7fffff;
    if (((x >> 23) & 0xff) == 0xff)
        return sign | 0x7c00 | (mant ? 0x200 : 0);
    if (exp >= 31)
        return sign | 0x7c00;
    if (exp <= 0) {
        if (exp < -10)
            return sign;
        mant |= 0x800000;
        int shift = 14 - exp;
        uint32_t half = 1u << (shift - 1), rem = mant & ((1u << shift) - 1);
        uint16_t r = (uint16_t)(mant >> shift);
        if (rem > half || (rem == half && (r & 1)))
            r++;
        return sign | r;
    }
    uint16_t r = (uint16_t)(sign | (exp << 10) | (mant >> 13));
    uint32_t rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (r & 1)))
        r++; /* may carry into the exponent, which is the correct rounding */
    return r;
}

static uint16_t double_to_bf16(double d)
{
    uint32_t u = kg_f32_bits((float)d);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

double kg_dtype_load(kg_dtype t, const void *data, size_t i)
{
    switch (t) {
    case KG_DTYPE_F32:
        return ((const float *)data)[i];
    case KG_DTYPE_F16:
        return f16_to_double(((const uint16_t *)data)[i]);
    case KG_DTYPE_BF16:
        return kg_f32_from_bits((uint32_t)((const uint16_t *)data)[i] << 16);
    case KG_DTYPE_I32:
        return ((const int32_t *)data)[i];
    case KG_DTYPE_I64:
        return (double)((const int64_t *)data)[i];
    case KG_DTYPE_U8:
        return ((const uint8_t *)data)[i];
    case KG_DTYPE_F8E4M3:
        return fp8_to_double(&fp8_e4m3, ((const uint8_t *)data)[i]);
    case KG_DTYPE_F8E5M2:
        return fp8_to_double(&fp8_e5m2, ((const uint8_t *)data)[i]);
    case KG_DTYPE_I8:
        return ((const int8_t *)data)[i];
    default:
        return NAN;
    }
}

void kg_dtype_store(kg_dtype t, void *data, size_t i, double v)
{
    switch (t) {
    case KG_DTYPE_F32:
        ((float *)data)[i] = (float)v;
        break;
    case KG_DTYPE_F16:
        ((uint16_t *)data)[i] = double_to_f16(v);
        break;
    case KG_DTYPE_BF16:
        ((uint16_t *)data)[i] = double_to_bf16(v);
        break;
    case KG_DTYPE_I32:
        ((int32_t *)data)[i] = (int32_t)v;
        break;
    case KG_DTYPE_I64:
        ((int64_t *)data)[i] = (int64_t)v;
        break;
    case KG_DTYPE_U8:
        ((uint8_t *)data)[i] = (uint8_t)(v > 255 ? 255 : v > 0 ? v : 0);
        break;
    case KG_DTYPE_F8E4M3:
        ((uint8_t *)data)[i] = double_to_fp8(&fp8_e4m3, v);
        break;
    case KG_DTYPE_F8E5M2:
        ((uint8_t *)data)[i] = double_to_fp8(&fp8_e5m2, v);
        break;
    case KG_DTYPE_I8:
        ((int8_t *)data)[i] = (int8_t)(v > 127 ? 127 : v > -128 ? v : -128);
        break;
    default:
        break;
    }
}
