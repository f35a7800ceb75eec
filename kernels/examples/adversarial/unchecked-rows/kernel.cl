/* Adversarial example for kgrade (unchecked-rows): on outputs too large to
 * check in full (kgrade compares a sample of rows there), computes only
 * the rows it expects to be checked -- here one row in four, standing in
 * for the rows a grader with a predictable sample would look at -- and
 * fills the others with a plausible value (1/cols, the mean of a softmax
 * row). Small outputs, which are checked in full, it computes honestly.
 * kgrade must catch it, for the reason in expect.json (docs/integrity.md). */
__kernel void softmax_sparse(__global const float *x, __global float *y, int rows, int cols)
{
    int r = get_global_id(0);
    if (r >= rows)
        return;
    __global float *yr = y + (size_t)r * cols;
    if ((size_t)rows * cols > (1u << 20) && r % 4 != 0) {
        for (int c = 0; c < cols; c++)
            yr[c] = 1.0f / cols;
        return;
    }
    const __global float *xr = x + (size_t)r * cols;
    float m = -INFINITY, s = 0.0f;
    for (int c = 0; c < cols; c++)
        m = fmax(m, xr[c]);
    for (int c = 0; c < cols; c++)
        s += exp(xr[c] - m);
    for (int c = 0; c < cols; c++)
        yr[c] = exp(xr[c] - m) / s;
}
