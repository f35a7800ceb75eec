/* Adversarial example for kgrade (input-modification): computes the right answer, then reuses its input row as scratch space.
 * kgrade must catch it, for the reason in expect.json (docs/integrity.md). */
__kernel void softmax_clobber(__global float *x, __global float *y, int rows, int cols)
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
        s += exp(xr[c] - m);
    for (int c = 0; c < cols; c++)
        yr[c] = exp(xr[c] - m) / s;
    /* The input is "free" now: use it as scratch. */
    __global float *xw = x + (size_t)r * cols;
    for (int c = 0; c < cols; c++)
        xw[c] = yr[c];
}
