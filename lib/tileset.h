/*
 * tileset.h - labelled tiles in memory for training and validation, and
 * the train-time augmentation that turns one into network input.
 *
 * A tile set holds N RGB_LABEL tiles of one size as 8-bit samples (4 bytes
 * a pixel: R, G, B, class), 200 KB a 224x224 tile, so the default training
 * set (2,000 tiles) takes 400 MB.  Every rank of a data-parallel run holds
 * the whole set and trains on its slice of each global batch, so that the
 * data order and the augmentation of a tile depend on its place in the
 * global batch only, never on the number of ranks.
 */
#ifndef SMEARSEG_TILESET_H
#define SMEARSEG_TILESET_H

#include <stddef.h>
#include <stdint.h>

#include "rng.h"

struct tileset {
	const char *name;       /* file name, for messages */
	int n, w, h;
	unsigned char *data;    /* n,h,w,4 */
};

/* Load every tile of PATH; each must be RGB_LABEL and W x H, else die
 * naming the tile. */
void tileset_load(struct tileset *ts, const char *path, int w, int h);
void tileset_free(struct tileset *ts);
static inline const unsigned char *
tileset_tile(const struct tileset *ts, int i)
{
	return ts->data + (size_t)i * ts->w * ts->h * 4;
}
/* COUNTS[0..nclass) += scored pixels of each class. */
void tileset_class_counts(const struct tileset *ts, int nclass,
    uint64_t *counts);
/* Per-channel mean and standard deviation of the image planes (0..255). */
void tileset_mean_std(const struct tileset *ts, float mean[3], float std[3]);

struct augment {
	int flip, rot90;        /* random flips / quarter turns */
	float color;            /* brightness and contrast, +- fraction */
	float stain;            /* per-channel gain, +- fraction */
	float scale;            /* zoom about the centre, +- fraction */
	/* optics and stain beyond a gain, all 0 = off (no random draw) */
	float hue;              /* rotation about the grey axis, +- degrees */
	float hue_any;          /* share of tiles rotated by any angle */
	float hed;              /* stain amounts in optical density, +- */
	float saturation;       /* saturation, +- fraction */
	float gamma;            /* gamma, +- fraction */
	float blur;             /* Gaussian blur, sigma up to this, px */
	float noise;            /* Gaussian noise, s.d. up to this, levels */
};

/* Network input for one tile: X (h,w,3) = (jittered RGB - mean) / std and
 * Y (h,w) = labels, both through the same random geometric transform drawn
 * from R (A NULL: no augmentation).  The colour and optics changes act on
 * the picture alone, in this order: brightness, contrast and per-channel
 * gain; blur; dye amounts (hed_jitter); hue and saturation; gamma; noise.  Labels are moved, never interpolated;
 * pixels that a zoom-out brings in from outside the tile are 255. */
void tile_to_input(float *x, uint8_t *y, const unsigned char *tile,
    int w, int h, const float mean[3], const float std[3],
    const struct augment *a, struct rng *r);

#endif
