/*
 * The host test backend: the GPU core (hardware/core/gpu_core.c) over host
 * memory, with "kernels" that are C functions registered by name and a
 * clock the kernels advance. Used only by tests, to exercise the device
 * API's checks, the GPU core, and the runner's logic (the timing loop,
 * sweeps, workers and their failures, resume) on any machine, with device
 * times the test decides.
 *
 * A program "builds" from any source: its kernels are looked up by entry
 * name among the registered functions, and its defines ("NAME=VALUE") are
 * handed to them. A source containing the word HOST_BUILD_ERROR fails to
 * build, with that line in the log. Launches run at once, on the calling
 * thread; the device clock moves only when a kernel advances it.
 */
#ifndef KG_HOST_BACKEND_H
#define KG_HOST_BACKEND_H

#include "device.h"

#include <stdint.h>

/* One launch as a host kernel sees it. */
typedef struct kg_host_launch {
    unsigned grid[3], block[3];
    unsigned dynamic_shared;
    void **params; /* params[i] points at argument i's value */
    const char *const *defines;
    size_t define_count;
} kg_host_launch;

/* A kernel: 0, or an error code that fails the launch (KG_HOST_ERROR_*). */
typedef int (*kg_host_kernel_fn)(const kg_host_launch *l);

enum {
    KG_HOST_ERROR_INVALID = 1,
    KG_HOST_ERROR_OUT_OF_MEMORY = 2,
    KG_HOST_ERROR_ILLEGAL_ADDRESS = 700,
};

/* Registers the backend ("host") with the device API; idempotent. */
int kg_host_backend_register(kg_error *err);

/* Adds a kernel (names are copied; a later one of the same name wins). */
void kg_host_kernel_register(const char *name, kg_host_kernel_fn fn);

/* Argument i of a launch: a buffer's host address, or a scalar. */
void *kg_host_arg_ptr(const kg_host_launch *l, size_t i);
int32_t kg_host_arg_i32(const kg_host_launch *l, size_t i);
int64_t kg_host_arg_i64(const kg_host_launch *l, size_t i);
float kg_host_arg_f32(const kg_host_launch *l, size_t i);

/* The value of define `name` of the launch's program, or `fallback`. */
long long kg_host_define(const kg_host_launch *l, const char *name, long long fallback);

/* The device clock in nanoseconds, and a kernel's way to spend time. */
uint64_t kg_host_clock_ns(void);
void kg_host_clock_advance(uint64_t ns);

/* How many launches, cache flushes and allocations the device has seen,
 * and how many allocations are live (for tests of the core). */
typedef struct kg_host_counters {
    uint64_t launches, flushes, allocations, live_allocations;
} kg_host_counters;
kg_host_counters kg_host_counters_now(void);

#endif
