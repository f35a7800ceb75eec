/* kgrade portable dialect: the GPU C++ prelude, shared by the CUDA backend
 * (NVRTC) and the HIP backend (hiprtc, which defines __HIPCC_RTC__).
 * Prepended to every .kc source they build; defines the same names as
 * hardware/opencl/prelude.cl. See docs/portable.md. */
#if defined(__HIPCC_RTC__) || defined(__HIP__)
#define KG_HIP 1
#else
#define KG_CUDA 1
#endif
/* Threads per warp (CUDA) or wavefront (HIP: 64 on CDNA, 32 on RDNA); the
 * HIP backend passes the compile target's as -DKG_WARP_SIZE. */
#ifndef KG_WARP_SIZE
#define KG_WARP_SIZE 32
#endif
#define KG_KERNEL extern "C" __global__
#define KG_DEVICE_FN static __device__ __forceinline__
#define KG_GLOBAL
#define KG_LOCAL __shared__
#define KG_LOCAL_PTR /* CUDA pointers into shared memory are generic */
#define KG_RESTRICT __restrict__
#define KG_ALIGNED(n) __align__(n)

typedef long long kg_i64;
typedef unsigned int kg_u32;
typedef unsigned short kg_bf16_bits;

/* The built-in index variables are uint3/dim3 in CUDA and proxy structs in
 * HIP: read their members, which both have. */
#define kg_dim3_at(v, d) ((int)((d) == 0 ? (v).x : (d) == 1 ? (v).y : (v).z))
#define kg_group_id(d) kg_dim3_at(blockIdx, (d))
#define kg_local_id(d) kg_dim3_at(threadIdx, (d))
#define kg_local_size(d) kg_dim3_at(blockDim, (d))
#define kg_num_groups(d) kg_dim3_at(gridDim, (d))
#define kg_global_id(d) (kg_group_id(d) * kg_local_size(d) + kg_local_id(d))
#define kg_barrier() __syncthreads()

/* Dynamic shared memory: one untyped extern array, viewed as `type`, so that
 * kernels of one program may use different types without conflicting
 * extern declarations. */
#define KG_DYNAMIC_LOCAL_PARAM(type, name)
#define KG_DYNAMIC_LOCAL(type, name)                                                               \
    extern __shared__ __align__(16) unsigned char kg_dynamic_local_[];                            \
    type *name = (type *)kg_dynamic_local_

#define KG_INFINITY __int_as_float(0x7f800000)
#define KG_FLT_MAX 3.402823466e+38f

#define kg_expf(x) expf(x)
#define kg_logf(x) logf(x)
#define kg_sqrtf(x) sqrtf(x)
#define kg_rsqrtf(x) rsqrtf(x)
#define kg_tanhf(x) tanhf(x)
#define kg_powf(x, y) powf((x), (y))
#define kg_fabsf(x) fabsf(x)
#define kg_fmaxf(x, y) fmaxf((x), (y))
#define kg_fminf(x, y) fminf((x), (y))
#define kg_fmaf(a, b, c) fmaf((a), (b), (c))

/* Vector loads/stores of 4 floats at element offset 4*i: one 16-byte
 * access, so p + 4*i must be 16-byte aligned (rows of a multiple of 4). */
#define kg_load_float4(p, i) (((const float4 *)(p))[i])
#define kg_store_float4(v, p, i) (((float4 *)(p))[i] = (v))

/* float4 arithmetic, component-wise (CUDA's float4 has no operators). */
KG_DEVICE_FN float4 kg_splat4(float s)
{
    return make_float4(s, s, s, s);
}
KG_DEVICE_FN float4 kg_add4(float4 a, float4 b)
{
    return make_float4(a.x + b.x, a.y + b.y, a.z + b.z, a.w + b.w);
}
KG_DEVICE_FN float4 kg_sub4(float4 a, float4 b)
{
    return make_float4(a.x - b.x, a.y - b.y, a.z - b.z, a.w - b.w);
}
KG_DEVICE_FN float4 kg_mul4(float4 a, float4 b)
{
    return make_float4(a.x * b.x, a.y * b.y, a.z * b.z, a.w * b.w);
}
KG_DEVICE_FN float4 kg_fma4(float4 a, float4 b, float4 c)
{
    return make_float4(fmaf(a.x, b.x, c.x), fmaf(a.y, b.y, c.y), fmaf(a.z, b.z, c.z),
                       fmaf(a.w, b.w, c.w));
}
KG_DEVICE_FN float4 kg_fmax4(float4 a, float4 b)
{
    return make_float4(fmaxf(a.x, b.x), fmaxf(a.y, b.y), fmaxf(a.z, b.z), fmaxf(a.w, b.w));
}
KG_DEVICE_FN float4 kg_exp4(float4 a)
{
    return make_float4(expf(a.x), expf(a.y), expf(a.z), expf(a.w));
}
KG_DEVICE_FN float kg_hsum4(float4 a)
{
    return (a.x + a.y) + (a.z + a.w);
}
KG_DEVICE_FN float kg_hmax4(float4 a)
{
    return fmaxf(fmaxf(a.x, a.y), fmaxf(a.z, a.w));
}

/* bf16 stored as its upper 16 bits; conversion rounds to nearest even. */
KG_DEVICE_FN float kg_bf16_to_float(kg_bf16_bits b)
{
    return __uint_as_float(((unsigned int)b) << 16);
}
KG_DEVICE_FN kg_bf16_bits kg_float_to_bf16(float f)
{
    unsigned int u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (kg_bf16_bits)((u >> 16) | 0x40u); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (kg_bf16_bits)(u >> 16);
}
#define kg_load_bf16(p, i) kg_bf16_to_float((p)[i])
#define kg_store_bf16(p, i, v) ((p)[i] = kg_float_to_bf16(v))
