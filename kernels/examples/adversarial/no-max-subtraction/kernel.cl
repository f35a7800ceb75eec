/* Adversarial example for kgrade (no-max-subtraction): softmax as
 * exp(x) / sum(exp(x)), without subtracting the row's maximum first: one
 * pass fewer, and right whenever the inputs stay near zero, as inputs
 * centred at the same mean always do. Overflows for large inputs and
 * underflows for very negative ones.
 * kgrade must catch it, for the reason in expect.json (docs/integrity.md). */
__kernel void softmax_unstable(__global const float *x, __global float *y, int rows, int cols)
{
    int r = get_global_id(0);
    if (r >= rows)
        return;
    const __global float *xr = x + (size_t)r * cols;
    __global float *yr = y + (size_t)r * cols;
    float s = 0.0f;
    for (int c = 0; c < cols; c++)
        s += exp(xr[c]);
    float inv = 1.0f / s;
    for (int c = 0; c < cols; c++)
        yr[c] = exp(xr[c]) * inv;
}
