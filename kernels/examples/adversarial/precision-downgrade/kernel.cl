/* Adversarial example for kgrade (precision-downgrade): exp of a fixed-point argument (Q4.20: range [-16, 0], steps of 2^-20): within tolerance for inputs near the mean, wrong for the large magnitudes of heavy-tailed inputs.
 * kgrade must catch it, for the reason in expect.json (docs/integrity.md). */
static float exp_q4_20(float t)
{
    t = fmax(t, -16.0f); /* the format's range */
    float q = floor(t * 1048576.0f + 0.5f) / 1048576.0f;
    return exp(q);
}

__kernel void softmax_fixed_point(__global const float *x, __global float *y, int rows, int cols)
{
    int r = get_global_id(0);
    if (r >= rows)
        return;
    const __global float *xr = x + (size_t)r * cols;
    __global float *yr = y + (size_t)r * cols;
    float m = -INFINITY, s = 0.0f;
    for (int c = 0; c < cols; c++)
        m = fmax(m, xr[c]);
    for (int c = 0; c < cols; c++)
        s += exp_q4_20(xr[c] - m);
    for (int c = 0; c < cols; c++)
        yr[c] = exp_q4_20(xr[c] - m) / s;
}
