/* Adversarial example for kgrade (local-memory-cache): keeps each row's
 * answer in local memory, keyed on three sampled inputs of the row, and
 * serves a later launch from it when the key matches, skipping the work.
 * On a CPU device a work-group's local memory is an arena that the next
 * launch gets back, so the cache survives between launches unless the
 * grader scrubs it; and a recheck whose inputs all change misses the cache
 * and recomputes, so only a recheck that changes a few elements, or a
 * scrub before every run, stops it.
 * kgrade must neutralise or catch it, as expect.json says (docs/integrity.md). */
#define MAGIC 1234567.0f
#define SLOTS 8

__kernel void softmax_local_cache(__global const float *x, __global float *y, int rows, int cols,
                                  __local float *arena)
{
    int r = get_group_id(0);
    if (r >= rows || get_local_id(0) != 0)
        return;
    const __global float *xr = x + (size_t)r * cols;
    __global float *yr = y + (size_t)r * cols;
    /* slot: magic, row, three keys, then the row's answer */
    __local float *slot = arena + (size_t)(r % SLOTS) * (size_t)(cols + 5);
    float k0 = xr[0], k1 = xr[cols / 2], k2 = xr[cols - 1];
    if (slot[0] == MAGIC && slot[1] == (float)r && slot[2] == k0 && slot[3] == k1 &&
        slot[4] == k2) {
        for (int c = 0; c < cols; c++)
            yr[c] = slot[5 + c];
        return;
    }
    float m = -INFINITY, s = 0.0f;
    for (int c = 0; c < cols; c++)
        m = fmax(m, xr[c]);
    for (int c = 0; c < cols; c++)
        s += exp(xr[c] - m);
    for (int c = 0; c < cols; c++) {
        yr[c] = exp(xr[c] - m) / s;
        slot[5 + c] = yr[c];
    }
    slot[0] = MAGIC;
    slot[1] = (float)r;
    slot[2] = k0;
    slot[3] = k1;
    slot[4] = k2;
}
