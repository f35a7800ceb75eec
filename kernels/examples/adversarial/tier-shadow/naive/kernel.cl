/* The shadow "naive" tier of the tier-shadow example: a softmax made slow
 * on purpose (every element recomputes its row's maximum and sum), which a
 * submission would like graded as the baseline. */
__kernel void softmax_slow(__global const float *x, __global float *y, int rows, int cols)
{
    int r = get_global_id(0);
    if (r >= rows)
        return;
    const __global float *xr = x + (size_t)r * cols;
    for (int c = 0; c < cols; c++) {
        float m = -INFINITY, s = 0.0f;
        for (int k = 0; k < cols; k++)
            m = fmax(m, xr[k]);
        for (int k = 0; k < cols; k++)
            s += exp(xr[k] - m);
        y[(size_t)r * cols + c] = exp(xr[c] - m) / s;
    }
}
