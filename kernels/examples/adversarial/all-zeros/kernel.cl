/* Adversarial example for kgrade (all-zeros): writes zeros.
 * kgrade must catch it, for the reason in expect.json (docs/integrity.md). */
__kernel void softmax_zeros(__global const float *x, __global float *y, int rows, int cols)
{
    int r = get_global_id(0);
    if (r >= rows)
        return;
    (void)x;
    for (int c = 0; c < cols; c++)
        y[(size_t)r * cols + c] = 0.0f;
}
