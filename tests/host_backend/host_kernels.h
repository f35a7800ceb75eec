/* The host backend's kernels (host_kernels.c). */
#ifndef KG_HOST_KERNELS_H
#define KG_HOST_KERNELS_H

/* The runner's own kernels (output fill, local-memory scrub) as host
 * kernels, so that a whole grading can run on the host backend. */
void kg_host_register_runner_kernels(void);

/* The test kernels: softmax_naive (2 ns per element), softmax_tuned (1 ns),
 * softmax_noisy (1-3 ns at random), softmax_swept (1 ns at BLOCK=128,
 * slower away from it), and the misbehaving softmax_zeros (wrong),
 * host_crash_abort, host_hang, host_exit_early, host_illegal_address and
 * host_interrupt_once (interrupts the grading once, when the file named by
 * KG_HOST_INTERRUPT_FLAG exists). */
void kg_host_register_test_kernels(void);

#endif
