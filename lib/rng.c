/*
 * rng.c - xoshiro256** seeded through splitmix64, after the public-domain
 * reference code at prng.di.unimi.it.  See rng.h for the guarantees.
 */
#include "rng.h"

#include <assert.h>
#include <math.h>

#define RNG_PI 3.14159265358979323846

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* splitmix64: advance *x and return a well-mixed word of it. */
static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void
rng_seed(struct rng *r, uint64_t seed)
{
	int i;

	/* splitmix64 never yields four zero words in a row from one seed,
	 * so the all-zero state that xoshiro must avoid cannot occur. */
	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

uint64_t
rng_u64(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Lemire's multiply-and-reject: take the high half of x * n, rejecting the
 * few low halves that would make some results more likely than others. */
uint32_t
rng_below(struct rng *r, uint32_t n)
{
	uint64_t m;
	uint32_t threshold;

	assert(n > 0);
	m = (rng_u64(r) >> 32) * n;
	if ((uint32_t)m < n) {
		threshold = -n % n;             /* 2^32 mod n */
		while ((uint32_t)m < threshold)
			m = (rng_u64(r) >> 32) * n;
	}
	return m >> 32;
}

double
rng_uniform(struct rng *r)
{
	return (rng_u64(r) >> 11) * 0x1.0p-53;
}

float
rng_normal(struct rng *r)
{
	double u1 = 1.0 - rng_uniform(r);       /* (0, 1]: log() is finite */
	double u2 = rng_uniform(r);

	return (float)(sqrt(-2.0 * log(u1)) * cos(2.0 * RNG_PI * u2));
}

void
rng_shuffle(struct rng *r, uint32_t *a, size_t n)
{
	size_t i, j;
	uint32_t t;

	assert(n <= UINT32_MAX);
	for (i = n; i > 1; i--) {
		j = rng_below(r, (uint32_t)i);
		t = a[i - 1];
		a[i - 1] = a[j];
		a[j] = t;
	}
}

void
rng_split(const struct rng *parent, struct rng *child, uint64_t stream)
{
	uint64_t key = stream;
	int i;

	/* Each child word mixes one parent word with a splitmix64 sequence
	 * keyed by the stream number; splitmix64's output is a bijection of
	 * its counter, so different streams get unrelated keys. */
	key = splitmix64(&key);
	for (i = 0; i < 4; i++) {
		uint64_t w = parent->s[i] ^ splitmix64(&key);

		child->s[i] = splitmix64(&w);
	}
	if ((child->s[0] | child->s[1] | child->s[2] | child->s[3]) == 0)
		child->s[0] = 1;
}
