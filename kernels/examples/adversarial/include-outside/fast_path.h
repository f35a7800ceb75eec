/* Outside the include-outside example's kernel set (its folder is set/):
 * the code a submission would like to compile without it being hashed.
 * Here an honest softmax row, standing in for anything. */
static void softmax_row(const __global float *xr, __global float *yr, int cols)
{
    float m = -INFINITY, s = 0.0f;
    for (int c = 0; c < cols; c++)
        m = fmax(m, xr[c]);
    for (int c = 0; c < cols; c++)
        s += exp(xr[c] - m);
    for (int c = 0; c < cols; c++)
        yr[c] = exp(xr[c] - m) / s;
}
