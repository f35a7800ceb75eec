/* Adversarial example for kgrade (data-race): a work-group per row whose
 * sum reduction is missing a barrier, so lane 0 adds up partial sums that
 * the other lanes may not have written yet. On a GPU that is a race between
 * warps; on a CPU device, which runs the lanes of a group one after the
 * other, lane 0 reads what the previous group (or launch) left in local
 * memory. Either way two runs on the same inputs disagree.
 * kgrade must catch it, for the reason in expect.json (docs/integrity.md). */
#define BLOCK 64

__kernel void softmax_race(__global const float *x, __global float *y, int rows, int cols)
{
    __local float maxes[BLOCK];
    __local float sums[BLOCK];
    __local float row_max, row_sum;
    int r = get_group_id(0), l = get_local_id(0);
    const __global float *xr = x + (size_t)r * cols;
    __global float *yr = y + (size_t)r * cols;
    float m = -INFINITY;
    for (int c = l; c < cols; c += BLOCK)
        m = fmax(m, xr[c]);
    maxes[l] = m;
    barrier(CLK_LOCAL_MEM_FENCE);
    if (l == 0) {
        float mm = maxes[0];
        for (int i = 1; i < BLOCK; i++)
            mm = fmax(mm, maxes[i]);
        row_max = mm;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    m = row_max;
    float s = 0.0f;
    for (int c = l; c < cols; c += BLOCK)
        s += exp(xr[c] - m);
    sums[l] = s;
    /* The bug: no barrier(CLK_LOCAL_MEM_FENCE) here. */
    if (l == 0) {
        float ss = 0.0f;
        for (int i = 0; i < BLOCK; i++)
            ss += sums[i];
        row_sum = ss;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int c = l; c < cols; c += BLOCK)
        yr[c] = exp(xr[c] - m) / row_sum;
}
