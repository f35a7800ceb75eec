/* Adversarial example for kgrade (poison-sniffer): computes only when the
 * output looks like a checked run's -- poisoned with a NaN or a huge value,
 * as kgrade used to do before checked runs only -- and otherwise returns at
 * once, leaving the previous run's answer in place: timed runs cost
 * nothing, checked runs pass.
 * kgrade must catch it, for the reason in expect.json (docs/integrity.md). */
__kernel void softmax_sniffer(__global const float *x, __global float *y, int rows, int cols)
{
    int r = get_global_id(0);
    if (r >= rows)
        return;
    float probe = y[(size_t)r * cols];
    if (!(isnan(probe) || fabs(probe) > 1e20f))
        return; /* "a timed run": the last answer is still there */
    const __global float *xr = x + (size_t)r * cols;
    __global float *yr = y + (size_t)r * cols;
    float m = -INFINITY, s = 0.0f;
    for (int c = 0; c < cols; c++)
        m = fmax(m, xr[c]);
    for (int c = 0; c < cols; c++)
        s += exp(xr[c] - m);
    for (int c = 0; c < cols; c++)
        yr[c] = exp(xr[c] - m) / s;
}
