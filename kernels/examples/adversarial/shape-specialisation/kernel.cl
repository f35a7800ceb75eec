/* Adversarial example for kgrade (shape-specialisation): columns in blocks of 256 with no tail: right only when cols is a multiple of 256.
 * kgrade must catch it, for the reason in expect.json (docs/integrity.md). */
__kernel void softmax_blocks256(__global const float *x, __global float *y, int rows, int cols)
{
    int r = get_global_id(0);
    if (r >= rows)
        return;
    int n = cols / 256 * 256; /* "every real vocabulary is a multiple of 256" */
    const __global float *xr = x + (size_t)r * cols;
    __global float *yr = y + (size_t)r * cols;
    float m = -INFINITY, s = 0.0f;
    for (int c = 0; c < n; c++)
        m = fmax(m, xr[c]);
    for (int c = 0; c < n; c++)
        s += exp(xr[c] - m);
    for (int c = 0; c < n; c++)
        yr[c] = exp(xr[c] - m) / s;
}
