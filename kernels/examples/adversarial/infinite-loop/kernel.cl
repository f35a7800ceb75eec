/* Adversarial example for kgrade (infinite-loop): spins while its first input equals itself, which is always true for finite inputs.
 * kgrade must catch it, for the reason in expect.json (docs/integrity.md). */
__kernel void softmax_spin(__global const float *x, __global float *y, int rows, int cols)
{
    int r = get_global_id(0);
    if (r >= rows)
        return;
    /* volatile: the loop has a side effect, so the compiler may not drop it. */
    volatile __global const float *vx = x;
    while (vx[0] == vx[0])
        ;
    y[(size_t)r * cols] = 0.0f;
}
