/*
 * test_tileset.c - unit tests of the train-time colour augmentation
 * (lib/tileset.h): the dye-amount jitter (hed_jitter) goes into optical
 * densities and back without changing a pixel when the change is nil,
 * changes the picture when it is not, never the labels, and keeps every
 * value a pixel can have.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "tap.h"
#include "tileset.h"

#define W 16
#define H 16

/* A tile of smear-like colours: plasma, a pink red cell, a purple
 * nucleus, black and white, with labels 0..4. */
static void
make_tile(unsigned char *t)
{
	static const unsigned char col[5][3] = {
		{ 214, 210, 200 }, { 200, 140, 150 }, { 110, 60, 160 },
		{ 0, 0, 0 }, { 255, 255, 255 },
	};
	int i;

	for (i = 0; i < W * H; i++) {
		int k = (i * 7 + i / W) % 5;

		memcpy(t + i * 4, col[k], 3);
		t[i * 4 + 3] = (unsigned char)k;
	}
}

/* The largest |a - b| over N values. */
static double
maxdiff(const float *a, const float *b, size_t n)
{
	double m = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (fabs(a[i] - b[i]) > m)
			m = fabs(a[i] - b[i]);
	return m;
}

int
main(void)
{
	static const float mean[3] = { 128, 128, 128 }, std[3] = { 64, 64, 64 };
	unsigned char tile[W * H * 4];
	float x0[W * H * 3], x1[W * H * 3], lo = 1e9f, hi = -1e9f;
	uint8_t y0[W * H], y1[W * H];
	struct augment a;
	struct rng r;
	int i, moved = 0;

	make_tile(tile);
	memset(&a, 0, sizeof a);
	tile_to_input(x0, y0, tile, W, H, mean, std, &a, NULL);

	/* a change of 1e-6 in every dye: the round trip through the
	 * densities is exact to well under a level */
	a.hed = 1e-6f;
	rng_seed(&r, 1);
	tile_to_input(x1, y1, tile, W, H, mean, std, &a, &r);
	tap_ok(maxdiff(x0, x1, W * H * 3) * 64 < 0.05,
	    "hed_jitter 1e-6: every pixel within 0.05 levels (%.3g)",
	    maxdiff(x0, x1, W * H * 3) * 64);
	tap_ok(memcmp(y0, y1, sizeof y0) == 0, "hed_jitter: labels unchanged");

	/* a strong change moves the stained pixels, and every value stays
	 * in 0..255 */
	a.hed = 0.3f;
	for (int s = 1; s <= 20; s++) {
		rng_seed(&r, (uint64_t)s);
		tile_to_input(x1, y1, tile, W, H, mean, std, &a, &r);
		moved += maxdiff(x0, x1, W * H * 3) * 64 > 5;
		for (i = 0; i < W * H * 3; i++) {
			float v = x1[i] * std[i % 3] + mean[i % 3];
			lo = v < lo ? v : lo;
			hi = v > hi ? v : hi;
		}
	}
	tap_ok(moved == 20, "hed_jitter 0.3: 20 of 20 draws move a pixel by "
	    "more than 5 levels (%d)", moved);
	tap_ok(lo >= -1e-3f && hi <= 255 + 1e-3f,
	    "hed_jitter 0.3: values in 0..255 (%.3f..%.3f)", lo, hi);

	/* the same seed gives the same picture */
	rng_seed(&r, 7);
	tile_to_input(x0, y0, tile, W, H, mean, std, &a, &r);
	rng_seed(&r, 7);
	tile_to_input(x1, y1, tile, W, H, mean, std, &a, &r);
	tap_ok(memcmp(x0, x1, sizeof x0) == 0, "hed_jitter: same seed, "
	    "same picture");
	return tap_done();
}
