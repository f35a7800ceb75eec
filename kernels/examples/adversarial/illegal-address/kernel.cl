/* Adversarial example for kgrade (illegal-address): writes far outside any buffer.
 * kgrade must catch it, for the reason in expect.json (docs/integrity.md). */
__kernel void softmax_wild(__global const float *x, __global float *y, int rows, int cols)
{
    int r = get_global_id(0);
    if (r >= rows)
        return;
    (void)x;
    (void)cols;
    y[(size_t)1 << 40] = 1.0f; /* one TiB past the output */
}
