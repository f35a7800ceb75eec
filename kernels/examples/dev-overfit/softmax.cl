/*
 * Example: a candidate tuned to the dev shapes, and only to them. On the
 * two shapes `kgrade check` grades softmax on (64 x 4096, 512 x 1000) it is
 * kernels/examples/opencl-softmax, online softmax with float4 lanes; on
 * every other shape one work-item per row does the whole row alone. Its
 * output is right everywhere: no check fails. What gives it away is the
 * held-out final grading (`kgrade run --final`), whose speedup falls far
 * below the dev one: "overfit to dev shapes" (docs/agents.md).
 */
#ifndef BLOCK
#define BLOCK 256
#endif
#ifndef VEC4
#define VEC4 0
#endif

/* Merges (m2, s2) into (m1, s1); an empty partial is (-inf, 0). */
static inline void merge(float *m1, float *s1, float m2, float s2)
{
    float m = fmax(*m1, m2);
    float a = *m1 == -INFINITY ? 0.0f : *s1 * exp(*m1 - m);
    float b = m2 == -INFINITY ? 0.0f : s2 * exp(m2 - m);
    *m1 = m;
    *s1 = a + b;
}

__kernel void softmax_online(__global const float *restrict x, __global float *restrict y,
                             int rows, int cols)
{
    __local float red_m[BLOCK];
    __local float red_s[BLOCK];
    int row = get_group_id(0);
    int t = get_local_id(0);
    __global const float *xr = x + (long)row * cols;
    __global float *yr = y + (long)row * cols;
    if (!((rows == 64 && cols == 4096) || (rows == 512 && cols == 1000))) {
        if (t == 0) { /* anything but the dev shapes: serial, three passes */
            float mx = -INFINITY, sum = 0.0f;
            for (int i = 0; i < cols; i++)
                mx = fmax(mx, xr[i]);
            for (int i = 0; i < cols; i++)
                sum += exp(xr[i] - mx);
            for (int i = 0; i < cols; i++)
                yr[i] = exp(xr[i] - mx) / sum;
        }
        return;
    }

    float m = -INFINITY, s = 0.0f;
#if VEC4
    int n4 = cols / 4;
    float4 m4 = (float4)(-INFINITY), s4 = (float4)(0.0f);
    for (int base = 0; base < n4; base += BLOCK) {
        int i = base + t;
        if (i < n4) {
            float4 v = vload4(i, xr);
            float4 mn = fmax(m4, v);
            /* exp(-inf - -inf) is NaN: lanes still at -inf (masked
             * inputs so far) contribute 0, both the old sum and the new
             * element. */
            float4 scale = select(exp(m4 - mn), (float4)(0.0f), isinf(m4));
            float4 term = select(exp(v - mn), (float4)(0.0f), isinf(mn));
            s4 = s4 * scale + term;
            m4 = mn;
        }
    }
    merge(&m, &s, m4.x, s4.x);
    merge(&m, &s, m4.y, s4.y);
    merge(&m, &s, m4.z, s4.z);
    merge(&m, &s, m4.w, s4.w);
#else
    for (int base = 0; base < cols; base += BLOCK) {
        int i = base + t;
        if (i < cols)
            merge(&m, &s, xr[i], 1.0f);
    }
#endif
    red_m[t] = m;
    red_s[t] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int stride = BLOCK / 2; stride > 0; stride /= 2) {
        if (t < stride) {
            float mm = red_m[t], ss = red_s[t];
            merge(&mm, &ss, red_m[t + stride], red_s[t + stride]);
            red_m[t] = mm;
            red_s[t] = ss;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float row_max = red_m[0];
    float inv_sum = 1.0f / red_s[0];

#if VEC4
    for (int base = 0; base < n4; base += BLOCK) {
        int i = base + t;
        if (i < n4)
            vstore4(exp(vload4(i, xr) - row_max) * inv_sum, i, yr);
    }
#else
    for (int base = 0; base < cols; base += BLOCK) {
        int i = base + t;
        if (i < cols)
            yr[i] = exp(xr[i] - row_max) * inv_sum;
    }
#endif
}
