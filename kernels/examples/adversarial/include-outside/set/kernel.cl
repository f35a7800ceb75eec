/* Adversarial example for kgrade (include-outside): a stub whose real code
 * comes from a file outside the kernel set's folder, so that what a grader
 * hashes and records (this file) is not what runs -- the outside file can
 * change between a run and its replication.
 * kgrade must catch it, for the reason in expect.json (docs/integrity.md). */
#include "../fast_path.h"

__kernel void softmax_stub(__global const float *x, __global float *y, int rows, int cols)
{
    int r = get_global_id(0);
    if (r < rows)
        softmax_row(x + (size_t)r * cols, y + (size_t)r * cols, cols);
}
