/* Element types: names, sizes and host-side conversions. */
#include "dtype.h"

#include <math.h>
#include <string.h>

static const struct {
    const char *name;
    size_t size;
    int is_float;
} dtypes[KG_DTYPE_COUNT] = {
    [KG_DTYPE_F32] = {"f32", 4, 1},   [KG_DTYPE_F16] = {"f16", 2, 1},
    [KG_DTYPE_BF16] = {"bf16", 2, 1}, [KG_DTYPE_I32] = {"i32", 4, 0},
    [KG_DTYPE_I64] = {"i64", 8, 0},   [KG_DTYPE_U8] = {"u8", 1, 0},
};

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
    default:
        break;
    }
}
