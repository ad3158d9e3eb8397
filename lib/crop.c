/*
 * crop.c - cell samples from a photo and a mask (crop.h).
 *
 * The output grid is laid over the source so that output pixel u covers
 * the source interval [org + u/scale, org + (u+1)/scale).  Each axis gets
 * a table of taps (source index and weight per output pixel); a pixel is
 * then the weighted sum over the product of its row and column taps.
 * Colours clamp at the photo's edge; the mask counts as empty outside it.
 */
#include "crop.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct taps {
	int max;                /* taps per output pixel, at most */
	int *first;             /* first source index of each output pixel */
	int *count;             /* taps used by each output pixel */
	double *w;              /* MAX weights per output pixel */
};

/* Taps for NOUT output pixels starting at source position ORG: area
 * averaging for SCALE <= 1, bilinear interpolation above. */
static void
taps_make(struct taps *t, int nout, double org, double scale)
{
	double a, b, c, f;
	int u, i, i0, i1;

	t->max = scale <= 1 ? (int)ceil(1 / scale) + 1 : 2;
	t->first = xmalloc_array(nout, sizeof *t->first);
	t->count = xmalloc_array(nout, sizeof *t->count);
	t->w = xmalloc_array((size_t)nout * t->max, sizeof *t->w);
	for (u = 0; u < nout; u++) {
		double *w = t->w + (size_t)u * t->max;
		if (scale <= 1) {
			a = org + u / scale;
			b = a + 1 / scale;
			i0 = (int)floor(a);
			i1 = (int)ceil(b) - 1;
			if (i1 - i0 + 1 > t->max)
				i1 = i0 + t->max - 1;
			for (i = i0; i <= i1; i++)
				w[i - i0] = (fmin(b, i + 1) - fmax(a, i)) *
				    scale;
			t->first[u] = i0;
			t->count[u] = i1 - i0 + 1;
		} else {
			c = org + (u + 0.5) / scale - 0.5;
			i0 = (int)floor(c);
			f = c - i0;
			w[0] = 1 - f;
			w[1] = f;
			t->first[u] = i0;
			t->count[u] = 2;
		}
	}
}

static void
taps_free(struct taps *t)
{
	free(t->first);
	free(t->count);
	free(t->w);
}

static int
clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Resample IM and MASK onto the W x H grid of TX, TY: RGB into RGB (3
 * bytes a pixel) and the mask, thresholded at one half, into M.  With
 * OWN, a pixel that the mask covers in part takes the colour of the
 * covered part alone. */
static void
resample(unsigned char *rgb, unsigned char *m, int w, int h,
    const struct taps *tx, const struct taps *ty, const struct img *im,
    const unsigned char *mask, int own)
{
	int u, v, i, j, x, y, k;

	for (v = 0; v < h; v++)
		for (u = 0; u < w; u++) {
			double acc[3] = { 0, 0, 0 }, in[3] = { 0, 0, 0 };
			double cov = 0, wy, wxy;
			for (j = 0; j < ty->count[v]; j++) {
				y = ty->first[v] + j;
				wy = ty->w[(size_t)v * ty->max + j];
				for (i = 0; i < tx->count[u]; i++) {
					const unsigned char *p;
					x = tx->first[u] + i;
					wxy = wy * tx->w[(size_t)u * tx->max + i];
					p = im->data + ((size_t)clampi(y, 0,
					    im->height - 1) * im->width +
					    clampi(x, 0, im->width - 1)) *
					    im->depth;
					for (k = 0; k < 3; k++)
						acc[k] += wxy * p[k];
					if (x >= 0 && x < im->width && y >= 0 &&
					    y < im->height &&
					    mask[(size_t)y * im->width + x]) {
						cov += wxy;
						for (k = 0; k < 3; k++)
							in[k] += wxy * p[k];
					}
				}
			}
			if (own && cov > 0)
				for (k = 0; k < 3; k++)
					acc[k] = in[k] / cov;
			for (k = 0; k < 3; k++)
				rgb[((size_t)v * w + u) * 3 + k] =
				    (unsigned char)clampi((int)lround(acc[k]),
				    0, 255);
			m[(size_t)v * w + u] = cov >= 0.5;
		}
}

enum seg_result
crop_sample(struct img *out, const struct img *im, const unsigned char *mask,
    double scale, int margin, int flags, struct mask_box *cell)
{
	int w, h, bx0, by0, bx1, by1, x, y;
	double pad = (margin + 1) / scale;
	struct mask_box src, b;
	struct taps tx, ty;
	unsigned char *rgb, *m;

	if (!mask_bbox(&src, mask, im->width, im->height))
		return SEG_NO_CELL;
	w = (int)ceil((src.x1 + 1 - src.x0) * scale) + 2 * (margin + 1);
	h = (int)ceil((src.y1 + 1 - src.y0) * scale) + 2 * (margin + 1);
	taps_make(&tx, w, src.x0 - pad, scale);
	taps_make(&ty, h, src.y0 - pad, scale);
	rgb = xmalloc_array((size_t)w * h, 3);
	m = xmalloc_array(w, h);
	resample(rgb, m, w, h, &tx, &ty, im, mask, flags & CROP_OWN_COLOUR);
	taps_free(&tx);
	taps_free(&ty);

	mask_fill_holes(m, w, h);
	if (mask_keep_largest(m, w, h) == 0) {
		free(rgb);
		free(m);
		return SEG_NO_CELL;
	}
	mask_bbox(&b, m, w, h);
	bx0 = clampi(b.x0 - margin, 0, w - 1);
	by0 = clampi(b.y0 - margin, 0, h - 1);
	bx1 = clampi(b.x1 + margin, 0, w - 1);
	by1 = clampi(b.y1 + margin, 0, h - 1);
	img_alloc(out, bx1 - bx0 + 1, by1 - by0 + 1, IMG_RGBA);
	for (y = by0; y <= by1; y++)
		for (x = bx0; x <= bx1; x++) {
			unsigned char *o = out->data + ((size_t)(y - by0) *
			    out->width + x - bx0) * 4;
			memcpy(o, rgb + ((size_t)y * w + x) * 3, 3);
			o[3] = m[(size_t)y * w + x] ? 255 : 0;
		}
	if (cell != NULL)
		*cell = (struct mask_box){ b.x0 - bx0, b.y0 - by0, b.x1 - bx0,
		    b.y1 - by0, b.area };
	free(rgb);
	free(m);
	return SEG_OK;
}
