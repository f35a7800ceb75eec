/* Adversarial example for kgrade (stale-output): computes only the even rows; the odd ones are left to whatever the output buffer held from an earlier call.
 * kgrade must catch it, for the reason in expect.json (docs/integrity.md). */
__kernel void softmax_stale(__global const float *x, __global float *y, int rows, int cols)
{
    int r = get_global_id(0);
    if (r >= rows || (r & 1))
        return; /* odd rows: "still there from the last call" */
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
