/* Adversarial example for kgrade (result-caching): computes each row once, keeps it in a scratch buffer, and copies it on later calls whatever the inputs.
 * kgrade must catch it, for the reason in expect.json (docs/integrity.md). */
#define COMPUTED 4242.0f

__kernel void softmax_cached(__global const float *x, __global float *y, int rows, int cols,
                             __global float *memo)
{
    int r = get_global_id(0);
    if (r >= rows)
        return;
    __global float *flag = memo + (size_t)rows * cols + r;
    __global float *saved = memo + (size_t)r * cols;
    if (*flag == COMPUTED) {
        for (int c = 0; c < cols; c++)
            y[(size_t)r * cols + c] = saved[c];
        return;
    }
    const __global float *xr = x + (size_t)r * cols;
    __global float *yr = y + (size_t)r * cols;
    float m = -INFINITY, s = 0.0f;
    for (int c = 0; c < cols; c++)
        m = fmax(m, xr[c]);
    for (int c = 0; c < cols; c++)
        s += exp(xr[c] - m);
    for (int c = 0; c < cols; c++)
        yr[c] = exp(xr[c] - m) / s;
    for (int c = 0; c < cols; c++)
        saved[c] = yr[c];
    *flag = COMPUTED;
}
