/* kgrade portable dialect: OpenCL C 1.2 prelude.
 * Prepended to every .kc source built by the OpenCL backend. Each backend
 * has a prelude defining the same names; see docs/portable.md. */
#define KG_OPENCL 1
#define KG_KERNEL __kernel
#define KG_DEVICE_FN static inline
#define KG_GLOBAL __global
#define KG_LOCAL __local
#define KG_LOCAL_PTR __local /* a pointer parameter into local memory */
#define KG_RESTRICT restrict
#define KG_ALIGNED(n) __attribute__((aligned(n)))

typedef long kg_i64;
typedef uint kg_u32;
typedef ushort kg_bf16_bits;

#define kg_group_id(d) ((int)get_group_id(d))
#define kg_local_id(d) ((int)get_local_id(d))
#define kg_local_size(d) ((int)get_local_size(d))
#define kg_num_groups(d) ((int)get_num_groups(d))
#define kg_global_id(d) ((int)get_global_id(d))
#define kg_barrier() barrier(CLK_LOCAL_MEM_FENCE)

/* Dynamic local memory: OpenCL passes it as a trailing __local parameter,
 * CUDA/HIP as `extern __shared__`. Write the parameter macro last in the
 * parameter list (no comma before it) and the declaration macro first in
 * the body. */
#define KG_DYNAMIC_LOCAL_PARAM(type, name) , __local type *name
#define KG_DYNAMIC_LOCAL(type, name)

#define KG_INFINITY INFINITY
#define KG_FLT_MAX FLT_MAX

#define kg_expf(x) exp(x)
#define kg_logf(x) log(x)
#define kg_sqrtf(x) sqrt(x)
#define kg_rsqrtf(x) rsqrt(x)
#define kg_tanhf(x) tanh(x)
#define kg_powf(x, y) pow((x), (y))
#define kg_fabsf(x) fabs(x)
#define kg_fmaxf(x, y) fmax((x), (y))
#define kg_fminf(x, y) fmin((x), (y))
#define kg_fmaf(a, b, c) fma((a), (b), (c))

/* Vector loads/stores of 4 floats at element offset 4*i (p 16-byte aligned). */
#define kg_load_float4(p, i) vload4((i), (p))
#define kg_store_float4(v, p, i) vstore4((v), (i), (p))

/* float4 arithmetic. OpenCL has it built in; the CUDA and HIP preludes
 * define the same names component-wise. Kernels use these rather than
 * operators so that one source builds everywhere. On CPU OpenCL they keep
 * four independent accumulation chains in one SIMD register, and kg_exp4
 * reaches the driver's vectorised exp. */
#define kg_splat4(s) ((float4)(s))
#define kg_add4(a, b) ((a) + (b))
#define kg_sub4(a, b) ((a) - (b))
#define kg_mul4(a, b) ((a) * (b))
#define kg_fma4(a, b, c) fma((a), (b), (c))
#define kg_fmax4(a, b) fmax((a), (b))
#define kg_exp4(a) exp(a)
#define kg_hsum4(a) (((a).x + (a).y) + ((a).z + (a).w))
#define kg_hmax4(a) fmax(fmax((a).x, (a).y), fmax((a).z, (a).w))

/* bf16 stored as its upper 16 bits; conversion rounds to nearest even. */
KG_DEVICE_FN float kg_bf16_to_float(kg_bf16_bits b)
{
    return as_float(((uint)b) << 16);
}
KG_DEVICE_FN kg_bf16_bits kg_float_to_bf16(float f)
{
    uint u = as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (kg_bf16_bits)((u >> 16) | 0x40u); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (kg_bf16_bits)(u >> 16);
}
#define kg_load_bf16(p, i) kg_bf16_to_float((p)[i])
#define kg_store_bf16(p, i, v) ((p)[i] = kg_float_to_bf16(v))
