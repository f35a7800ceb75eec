/* Host kernels: the runner's own (output fill, scrub) and the softmax
 * kernels and misbehaving candidates of the host tests (kgrade_host.c).
 * Device time is what each kernel adds to the host clock, so the tests
 * know the speedups and noise to expect. */
#include "host_kernels.h"
#include "host_backend.h"
#include "output_fill.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the runner's own kernels ---------------------------------------------- */

/* kg_fill_u8/u16/u32(out, count, pool, pool_n, s0, s1), as output_fill.kc. */
static int fill(const kg_host_launch *l, size_t size)
{
    unsigned char *out = kg_host_arg_ptr(l, 0);
    uint32_t count = (uint32_t)kg_host_arg_i32(l, 1);
    const uint32_t *pool = kg_host_arg_ptr(l, 2);
    uint32_t n = (uint32_t)kg_host_arg_i32(l, 3);
    uint32_t s0 = (uint32_t)kg_host_arg_i32(l, 4), s1 = (uint32_t)kg_host_arg_i32(l, 5);
    for (uint32_t i = 0; i < count; i++) {
        uint32_t bits = pool[(kg_fill_hash(i, s0, s1 & 0x7fffffffu) % n + (s1 >> 31)) % n];
        memcpy(out + (size_t)i * size, &bits, size); /* little-endian: the low bytes */
    }
    return 0;
}

static int fill_u8(const kg_host_launch *l)
{
    return fill(l, 1);
}

static int fill_u16(const kg_host_launch *l)
{
    return fill(l, 2);
}

static int fill_u32(const kg_host_launch *l)
{
    return fill(l, 4);
}

/* Host memory has no local memory to scrub. */
static int scrub_local(const kg_host_launch *l)
{
    (void)l;
    return 0;
}

void kg_host_register_runner_kernels(void)
{
    kg_host_kernel_register("kg_fill_u8", fill_u8);
    kg_host_kernel_register("kg_fill_u16", fill_u16);
    kg_host_kernel_register("kg_fill_u32", fill_u32);
    kg_host_kernel_register("kg_scrub_local", scrub_local);
}

/* ---- softmax: (x, y, rows, cols) ------------------------------------------------ */

static void softmax_rows(const kg_host_launch *l)
{
    const float *x = kg_host_arg_ptr(l, 0);
    float *y = kg_host_arg_ptr(l, 1);
    int rows = kg_host_arg_i32(l, 2), cols = kg_host_arg_i32(l, 3);
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * cols;
        float *yr = y + (size_t)r * cols;
        float max = -INFINITY, sum = 0;
        for (int c = 0; c < cols; c++)
            max = fmaxf(max, xr[c]);
        for (int c = 0; c < cols; c++)
            sum += expf(xr[c] - max);
        for (int c = 0; c < cols; c++)
            yr[c] = expf(xr[c] - max) / sum;
    }
}

static uint64_t elements(const kg_host_launch *l)
{
    return (uint64_t)kg_host_arg_i32(l, 2) * (uint64_t)kg_host_arg_i32(l, 3);
}

/* 2 ns per element. */
static int softmax_naive(const kg_host_launch *l)
{
    softmax_rows(l);
    kg_host_clock_advance(2 * elements(l));
    return 0;
}

/* 1 ns per element: exactly twice as fast as naive. */
static int softmax_tuned(const kg_host_launch *l)
{
    softmax_rows(l);
    kg_host_clock_advance(elements(l));
    return 0;
}

/* Right, and 1 to 3 ns per element at random: never within +-1%. */
static int softmax_noisy(const kg_host_launch *l)
{
    static uint64_t state = 88172645463325252ull;
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    softmax_rows(l);
    kg_host_clock_advance(elements(l) * (100 + state % 201) / 100);
    return 0;
}

/* A sweep over BLOCK: fastest (1 ns per element) at BLOCK=128, slower the
 * further away. */
static int softmax_swept(const kg_host_launch *l)
{
    long long block = kg_host_define(l, "BLOCK", 0);
    long long away = block > 128 ? block / 128 : 128 / (block > 0 ? block : 1);
    softmax_rows(l);
    kg_host_clock_advance(elements(l) * (uint64_t)away);
    return 0;
}

/* ---- candidates that misbehave ------------------------------------------------------ */

/* Wrong: writes zeros, takes no time worth mentioning. */
static int softmax_zeros(const kg_host_launch *l)
{
    float *y = kg_host_arg_ptr(l, 1);
    memset(y, 0, elements(l) * sizeof *y);
    kg_host_clock_advance(elements(l) / 4);
    return 0;
}

static int crash_abort(const kg_host_launch *l)
{
    (void)l;
    abort();
}

static int hang(const kg_host_launch *l)
{
    (void)l;
    for (;;)
        pause();
    return 0;
}

static int exit_early(const kg_host_launch *l)
{
    (void)l;
    _exit(3);
}

static int illegal_address(const kg_host_launch *l)
{
    (void)l;
    return KG_HOST_ERROR_ILLEGAL_ADDRESS;
}

/* Right and fast, but the first launch whose flag file exists deletes it
 * and interrupts the grading process (the worker's parent), as Ctrl-C
 * would: a run stopped half-way, for the resume tests. */
static int interrupt_once(const kg_host_launch *l)
{
    const char *flag = getenv("KG_HOST_INTERRUPT_FLAG");
    if (flag && unlink(flag) == 0)
        kill(getppid(), SIGINT);
    return softmax_tuned(l);
}

void kg_host_register_test_kernels(void)
{
    static const struct {
        const char *name;
        kg_host_kernel_fn fn;
    } table[] = {
        {"softmax_naive", softmax_naive},
        {"softmax_tuned", softmax_tuned},
        {"softmax_noisy", softmax_noisy},
        {"softmax_swept", softmax_swept},
        {"softmax_zeros", softmax_zeros},
        {"host_crash_abort", crash_abort},
        {"host_hang", hang},
        {"host_exit_early", exit_early},
        {"host_illegal_address", illegal_address},
        {"host_interrupt_once", interrupt_once},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        kg_host_kernel_register(table[i].name, table[i].fn);
}
