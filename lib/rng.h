/*
 * rng.h - the project's random number generator: xoshiro256** (Blackman
 * and Vigna), seeded through splitmix64.
 *
 * The whole state is the four words of struct rng, so a checkpoint saves
 * and restores it by copying the struct, and a resumed run continues the
 * same sequence.  Every function is a pure function of the state: nothing
 * is cached between calls (rng_normal included), and results are the same
 * on every platform.
 */
#ifndef SMEARSEG_RNG_H
#define SMEARSEG_RNG_H

#include <stddef.h>
#include <stdint.h>

struct rng {
	uint64_t s[4];
};

void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_u64(struct rng *r);
/* Uniform in [0, n), without modulo bias; n must be at least 1. */
uint32_t rng_below(struct rng *r, uint32_t n);
/* Uniform in [0, 1), a multiple of 2^-53. */
double rng_uniform(struct rng *r);
/* Standard normal N(0, 1) (Box-Muller, two uniforms per call). */
float rng_normal(struct rng *r);
/* Shuffle a[0..n-1] uniformly (Fisher-Yates); n must fit in uint32_t. */
void rng_shuffle(struct rng *r, uint32_t *a, size_t n);
/* Derive the generator of sub-stream STREAM (a tile, a rank, ...) from
 * PARENT without advancing it: the same parent state and stream number
 * always give the same child, different stream numbers give unrelated
 * sequences, and the order of the calls does not matter. */
void rng_split(const struct rng *parent, struct rng *child, uint64_t stream);

#endif
