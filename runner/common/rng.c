/* splitmix64-seeded xoshiro256** (Blackman and Vigna): fast, small state,
 * good statistical quality, and trivially reproducible from one seed. */
#include "rng.h"

#include <math.h>

#define KG_TWO_PI 6.283185307179586476925286766559

static uint64_t kg_rotate_left(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* splitmix64 spreads any seed, including 0 or small integers, into a
 * well-mixed state that is never all zero (which xoshiro cannot leave). */
static uint64_t kg_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void kg_rng_seed(kg_rng *r, uint64_t seed)
{
    uint64_t state = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = kg_splitmix64(&state);
}

uint64_t kg_rng_next(kg_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = kg_rotate_left(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = kg_rotate_left(s[3], 45);
    return result;
}

double kg_rng_uniform(kg_rng *r)
{
    /* The top 53 bits fill a double's mantissa exactly: every value is a
     * multiple of 2^-53 in [0, 1). */
    return (double)(kg_rng_next(r) >> 11) * 0x1.0p-53;
}

/* High and low 64-bit halves of a * b. */
static void kg_multiply_wide(uint64_t a, uint64_t b, uint64_t *high, uint64_t *low)
{
#if defined(__SIZEOF_INT128__)
    __extension__ typedef unsigned __int128 kg_u128;
    kg_u128 product = (kg_u128)a * b;
    *high = (uint64_t)(product >> 64);
    *low = (uint64_t)product;
#else
    uint64_t a_lo = a & 0xffffffffu, a_hi = a >> 32;
    uint64_t b_lo = b & 0xffffffffu, b_hi = b >> 32;
    uint64_t lo_lo = a_lo * b_lo;
    uint64_t hi_lo = a_hi * b_lo;
    uint64_t lo_hi = a_lo * b_hi;
    uint64_t hi_hi = a_hi * b_hi;
    uint64_t cross = (lo_lo >> 32) + (hi_lo & 0xffffffffu) + lo_hi;
    *high = hi_hi + (hi_lo >> 32) + (cross >> 32);
    *low = (cross << 32) | (lo_lo & 0xffffffffu);
#endif
}

/* Lemire's multiply-and-reject: unbiased, and in the common case one
 * multiplication instead of a 64-bit division per draw, which matters in
 * the bootstrap's inner loop. */
uint64_t kg_rng_below(kg_rng *r, uint64_t n)
{
    if (n == 0)
        return 0;
    uint64_t high, low;
    kg_multiply_wide(kg_rng_next(r), n, &high, &low);
    if (low < n) {
        uint64_t threshold = (0 - n) % n; /* 2^64 mod n */
        while (low < threshold)
            kg_multiply_wide(kg_rng_next(r), n, &high, &low);
    }
    return high;
}

double kg_rng_normal(kg_rng *r)
{
    /* 1 - u lies in (0, 1], so the logarithm is finite. */
    double radius = sqrt(-2.0 * log(1.0 - kg_rng_uniform(r)));
    double angle = KG_TWO_PI * kg_rng_uniform(r);
    return radius * cos(angle);
}
