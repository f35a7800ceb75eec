/*
 * float -> OCP fp8 e4m3 (torch.float8_e4m3fn), round to nearest even,
 * saturating at +-448: the conversion CUDA's __nv_cvt_float_to_fp8(v,
 * __NV_SATFINITE, __NV_E4M3) performs and kgrade's host conversion
 * (runner/formats/dtype.c) computes, which the portable dialect lacks.
 * Included by both tiers (and by tests/reference/per_token_group_quant_fp8.c,
 * which checks it against the host conversion).
 *
 * Branch-free, so that a CPU compiler can vectorise a loop of conversions:
 * - normal results (|v| >= 2^-6): the float's exponent and top 3 mantissa
 *   bits are the e4m3 code plus the exponent re-bias (127 - 7) << 3, once
 *   the 20 mantissa bits below are rounded to nearest even into them (a
 *   carry into the exponent is the correct rounding);
 * - subnormal results (|v| < 2^-6, steps of 2^-9): adding 2^14, whose float
 *   ulp is 2^-9, makes the float adder round |v| to a multiple of 2^-9
 *   (nearest even), and the low mantissa bits of the sum are the code
 *   (2^-6 itself comes out as code 8, the smallest normal).
 * NaN becomes 0x7f, e4m3's NaN, as on the host.
 *
 * The float's bits are read with the backend's own reinterpretation
 * (as_uint on OpenCL, __float_as_uint on CUDA and HIP): the one native
 * path of this workload's kernels.
 */
#ifndef QUANT_FP8_E4M3_H
#define QUANT_FP8_E4M3_H

#ifndef QUANT_FLOAT_BITS
#if defined(KG_OPENCL)
#define QUANT_FLOAT_BITS(f) as_uint(f)
#else
#define QUANT_FLOAT_BITS(f) __float_as_uint(f)
#endif
#endif

#define QUANT_E4M3_MAX               448.0f
#define QUANT_E4M3_MIN_NORMAL_BITS   0x3c800000u /* 2^-6 as a float */
#define QUANT_SUBNORMAL_SHIFTER      16384.0f    /* 2^14: its ulp is 2^-9 */
#define QUANT_SUBNORMAL_SHIFTER_BITS 0x46800000u
#define QUANT_REBIAS                 ((127u - 7u) << 3)

KG_DEVICE_FN unsigned char quant_float_to_e4m3(float v)
{
    kg_u32 sign = (QUANT_FLOAT_BITS(v) >> 24) & 0x80u;
    float a = kg_fminf(kg_fabsf(v), QUANT_E4M3_MAX);
    kg_u32 bits = QUANT_FLOAT_BITS(a);
    kg_u32 normal = ((bits + 0x7ffffu + ((bits >> 20) & 1u)) >> 20) - QUANT_REBIAS;
    kg_u32 subnormal = QUANT_FLOAT_BITS(a + QUANT_SUBNORMAL_SHIFTER) - QUANT_SUBNORMAL_SHIFTER_BITS;
    kg_u32 code = bits < QUANT_E4M3_MIN_NORMAL_BITS ? subnormal : normal;
    return (unsigned char)(v != v ? 0x7fu : (sign | code));
}

#endif
