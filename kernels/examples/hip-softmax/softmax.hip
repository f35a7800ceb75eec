// Example submission in native HIP C++: a row-wise softmax with wavefront
// shuffles. One work-group of BLOCK threads per row; each reduction (max,
// then sum) runs within each wavefront with __shfl_xor, then across the
// wavefronts through shared memory. KG_WARP_SIZE is the compile target's
// wavefront size (64 on CDNA, 32 on RDNA), passed by kgrade.
#include <hip/hip_runtime.h>

#ifndef KG_WARP_SIZE
#define KG_WARP_SIZE 64
#endif
#define WAVES (BLOCK / KG_WARP_SIZE)

__device__ static float wave_max(float v)
{
    for (int offset = KG_WARP_SIZE / 2; offset > 0; offset /= 2)
        v = fmaxf(v, __shfl_xor(v, offset, KG_WARP_SIZE));
    return v;
}

__device__ static float wave_sum(float v)
{
    for (int offset = KG_WARP_SIZE / 2; offset > 0; offset /= 2)
        v += __shfl_xor(v, offset, KG_WARP_SIZE);
    return v;
}

// Reduces one value per thread to one per group, every thread gets it.
template <bool IsMax> __device__ static float group_reduce(float v, float *partial)
{
    int lane = threadIdx.x % KG_WARP_SIZE, wave = threadIdx.x / KG_WARP_SIZE;
    v = IsMax ? wave_max(v) : wave_sum(v);
    if (lane == 0)
        partial[wave] = v;
    __syncthreads();
    float r = partial[0];
    for (int w = 1; w < WAVES; w++)
        r = IsMax ? fmaxf(r, partial[w]) : r + partial[w];
    __syncthreads(); // partial is reused by the next reduction
    return r;
}

extern "C" __global__ void softmax_waves(const float *__restrict__ x, float *__restrict__ y,
                                         int rows, int cols)
{
    __shared__ float partial[WAVES];
    int row = blockIdx.x;
    if (row >= rows)
        return;
    const float *xr = x + (size_t)row * cols;
    float *yr = y + (size_t)row * cols;
    float m = -__builtin_huge_valf(); // hiprtc has no INFINITY macro
    for (int c = threadIdx.x; c < cols; c += BLOCK)
        m = fmaxf(m, xr[c]);
    m = group_reduce<true>(m, partial);
    float s = 0.0f;
    for (int c = threadIdx.x; c < cols; c += BLOCK)
        s += expf(xr[c] - m);
    s = group_reduce<false>(s, partial);
    float inv = 1.0f / s;
    for (int c = threadIdx.x; c < cols; c += BLOCK)
        yr[c] = expf(xr[c] - m) * inv;
}
