/*
 * The random-number generator every part of kgrade draws from: input
 * generation, sampled checking and the bootstrap. One seed reproduces a
 * whole run.
 */
#ifndef KG_RNG_H
#define KG_RNG_H

#include <stdint.h>

/* A small, fast, seedable generator (splitmix64 seeding a xoshiro256**),
 * shared by the bootstrap and the input generators so that one seed
 * reproduces a whole run. Plain value type. */
typedef struct kg_rng {
    uint64_t s[4];
} kg_rng;

void kg_rng_seed(kg_rng *r, uint64_t seed);
uint64_t kg_rng_next(kg_rng *r);
/* Uniform in [0, 1). */
double kg_rng_uniform(kg_rng *r);
/* Uniform integer in [0, n); n > 0. Unbiased. */
uint64_t kg_rng_below(kg_rng *r, uint64_t n);
/* Standard normal (Box-Muller, no cached second value so that the stream
 * depends only on the number of calls). */
double kg_rng_normal(kg_rng *r);

#endif
