/* Adversarial example for kgrade (out-of-bounds-write): the right answer, plus one element written past the end of the output.
 * kgrade must catch it, for the reason in expect.json (docs/integrity.md). */
__kernel void softmax_oob(__global const float *x, __global float *y, int rows, int cols)
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
    if (r == rows - 1)
        y[(size_t)rows * cols + 3] = 0.0f; /* "padding" */
}
