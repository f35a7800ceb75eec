/* Adversarial example for kgrade (baseline-reader): looks through the
 * memory below its own input buffer for another kernel set's output -- a
 * region of exactly the output's size between two 4 KiB runs of kgrade's
 * guard byte (0xc3), holding a row that sums to 1 -- and copies it instead
 * of computing. On a CPU device every buffer of the process is plain host
 * memory, so where the baseline runs in the same process as the candidate
 * (an earlier kgrade), its answer is there to take. Finding nothing, it
 * writes nothing.
 * kgrade must catch it, for the reason in expect.json (docs/integrity.md). */
#define GUARD 0xc3c3c3c3u
#define WINDOW (256 << 10) /* bytes searched below the input */

__kernel void softmax_reader(__global const float *x, __global float *y, int rows, int cols)
{
    if (get_global_id(0) != 0)
        return;
    size_t n = (size_t)rows * cols;
    size_t bytes = n * 4;
    __global const uchar *base = (__global const uchar *)x;
    /* Candidate starts: 4-byte aligned addresses below x whose 4 KiB below
     * and 4 KiB above the region are all guard bytes. */
    for (size_t back = 4096 + bytes + 4096 + 4096; back < WINDOW; back += 4) {
        __global const uint *before = (__global const uint *)(base - back);
        __global const float *region = (__global const float *)(base - back + 4096);
        __global const uint *after = (__global const uint *)(base - back + 4096 + bytes);
        if (before[0] != GUARD || before[1023] != GUARD || after[0] != GUARD ||
            after[1023] != GUARD)
            continue;
        if (region == (__global const float *)y)
            continue;
        /* An answer has rows summing to 1; an input does not. */
        float sum = 0.0f;
        for (int c = 0; c < cols; c++)
            sum += region[c];
        if (fabs(sum - 1.0f) > 1e-3f)
            continue;
        for (size_t i = 0; i < n; i++)
            y[i] = region[i];
        return;
    }
}
