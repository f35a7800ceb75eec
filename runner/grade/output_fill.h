/*
 * What an output buffer holds before every run, checked or timed: for each
 * element, a value drawn from a pool of plausible output values (the
 * reference's answers on inputs drawn only for this purpose), picked by a
 * hash of the element's index and a per-run seed. Every run gets a fresh
 * seed, so
 *
 * - the output never holds the answer of an earlier run (a kernel that
 *   finds its previous result in place, or recomputes a little and compares,
 *   learns nothing);
 * - checked and timed runs look alike: no NaN or 1e30 poison to sniff, the
 *   same kind of values in both;
 * - yet kgrade can still tell which elements a kernel never wrote: it knows
 *   the value each element was filled with (kg_fill_bits), and two runs with
 *   different seeds cannot both leave their own fill in a written element.
 *
 * The fill runs on the device (a kernel of the portable dialect, built
 * with the set's backend), so it costs one pass over the output per run,
 * outside the timed region.
 */
#ifndef KG_OUTPUT_FILL_H
#define KG_OUTPUT_FILL_H

#include "device.h"
#include "dtype.h"

#include <stddef.h>
#include <stdint.h>

#define KG_FILL_POOL_MAX 1024

/* The pattern of one run: pool of element bit patterns (in the low bits of
 * each word) and the run's seed. Plain data, shared with the worker as hex. */
typedef struct kg_fill_pattern {
    kg_dtype dtype;
    uint32_t pool[KG_FILL_POOL_MAX];
    size_t pool_count; /* >= 1 */
    uint64_t seed;
} kg_fill_pattern;

/* The element hash both the device kernel and the host use. */
uint32_t kg_fill_hash(uint32_t index, uint32_t seed_lo, uint32_t seed_hi);

/* The bit pattern element `index` holds after a fill with `p`: pool
 * entry hash(index, seed) mod the pool's size, moved one entry on when bit
 * 63 of the seed is set. */
uint32_t kg_fill_bits(const kg_fill_pattern *p, size_t index);

/* The seed whose fill puts in every element the pool's next value after
 * the one `seed` (with bit 63 clear) puts there. Neighbouring pool values
 * always differ, so the two fills differ in every element: two runs with
 * them show every element a kernel never wrote, however small the output. */
uint64_t kg_fill_seed_shifted(uint64_t seed);

/* 1 when element `index` of `data` (an output in p->dtype) still holds the
 * fill of `p`. */
int kg_fill_holds(const kg_fill_pattern *p, const void *data, size_t index);

/* The pool from `count` reference values (doubles, converted to the dtype),
 * each moved by 1% to 3% so that no fill is exactly an answer: duplicates
 * kept, so the pool has the values' distribution. Values that are not
 * finite are skipped; with none left the pool is {1.0}. */
void kg_fill_pool_from_values(kg_fill_pattern *p, kg_dtype dtype, const double *values,
                              size_t count);

/* The device side: a built fill kernel for one device. */
typedef struct kg_output_fill kg_output_fill;

/* Builds the fill kernels and uploads the pool of `p` (its seed is
 * ignored here). Free with kg_output_fill_free (NULL allowed). */
int kg_output_fill_create(kg_device *dev, const kg_fill_pattern *p, kg_output_fill **out,
                          kg_error *err);
void kg_output_fill_free(kg_output_fill *f);

/* Fills `count` elements of `buf` with the pool values picked by `seed`,
 * and waits. */
int kg_output_fill_run(kg_output_fill *f, kg_buffer *buf, size_t count, uint64_t seed,
                       kg_error *err);

/* The kernels' source, in the portable dialect (compile tests). */
const char *kg_output_fill_source(void);

#endif
