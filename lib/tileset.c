/*
 * tileset.c - tiles in memory and train-time augmentation (tileset.h).
 *
 * The augmentation is one inverse mapping per output pixel: undo the
 * quarter turn and flips (exact, integer), then the zoom (bilinear for the
 * picture, nearest for the label).  Colour changes act on the picture
 * alone: contrast about the tile's mean, brightness, and a per-channel
 * gain that imitates stain differences between slides; then, where the
 * config asks for them, what differs between microscopes and cameras: a
 * Gaussian blur, a change of the amount of each dye (colour deconvolution
 * into optical densities), a rotation of the hue about the grey axis and a
 * change of saturation (one 3x3 matrix), a gamma and sensor noise.  Each of these
 * draws its random numbers only when it is on, so a config without them
 * gives the same tiles as before they existed.
 */
#include "tileset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "util.h"

void
tileset_load(struct tileset *ts, const char *path, int w, int h)
{
	struct img_reader r;
	struct img im = { 0 };
	size_t cap = 0, tile = (size_t)w * h * 4;

	img_open(&r, path);
	ts->name = r.name;
	ts->n = 0;
	ts->w = w;
	ts->h = h;
	ts->data = NULL;
	while (img_read(&r, &im, IMG_LABEL)) {
		if (im.width != w || im.height != h)
			die("%s: tile %d is %dx%d, the network takes %dx%d",
			    r.name, r.count, im.width, im.height, w, h);
		if ((size_t)ts->n == cap) {
			cap = cap ? 2 * cap : 64;
			ts->data = xrealloc(ts->data, cap * tile);
		}
		memcpy(ts->data + (size_t)ts->n * tile, im.data, tile);
		ts->n++;
	}
	img_free(&im);
	img_close(&r);
}

void
tileset_free(struct tileset *ts)
{
	free(ts->data);
	ts->data = NULL;
	ts->n = 0;
}

void
tileset_class_counts(const struct tileset *ts, int nclass, uint64_t *counts)
{
	size_t i, npix = (size_t)ts->n * ts->w * ts->h;

	for (i = 0; i < npix; i++) {
		int c = ts->data[i * 4 + 3];
		if (c < nclass)
			counts[c]++;
	}
}

void
tileset_mean_std(const struct tileset *ts, float mean[3], float std[3])
{
	size_t i, npix = (size_t)ts->n * ts->w * ts->h;
	double s[3] = { 0 }, s2[3] = { 0 };
	int c;

	for (i = 0; i < npix; i++)
		for (c = 0; c < 3; c++) {
			double v = ts->data[i * 4 + c];
			s[c] += v;
			s2[c] += v * v;
		}
	for (c = 0; c < 3; c++) {
		double m = npix ? s[c] / npix : 0;
		double var = npix ? s2[c] / npix - m * m : 0;
		mean[c] = (float)m;
		std[c] = (float)(var > 1 ? sqrt(var) : 1);
	}
}

/* Uniform in [1 - f, 1 + f]. */
static float
jitter(struct rng *r, float f)
{
	return f > 0 ? (float)(1 + f * (2 * rng_uniform(r) - 1)) : 1;
}

/* The settings of the optics pass drawn for one tile. */
struct optics {
	float sigma;            /* blur, px (0: none) */
	float m[3][3];          /* hue and saturation matrix */
	int matrix;             /* whether m is not the identity */
	float gamma;            /* 1: none */
	float noise;            /* s.d., levels (0: none) */
	int hed;                /* whether the dye amounts change */
	float hed_mul[3], hed_add[3];   /* dye k: c' = c * mul + add */
};

/* Colour deconvolution (Ruifrok and Johnston, Anal Quant Cytol Histol
 * 2001): the optical density of a pixel, OD = -ln((I + 1) / 256) per
 * channel, is the sum of the dyes' amounts times their unit OD vectors.
 * These are their hematoxylin, eosin and DAB vectors; in a Romanowsky
 * stain the blue azure dyes take hematoxylin's part and eosin its own, and
 * the third direction completes the basis.  HED_INV is the inverse matrix
 * (rows: the dyes' amounts from R, G, B densities). */
static const double hed_vec[3][3] = {
	{ 0.650, 0.704, 0.286 },        /* hematoxylin (azure) */
	{ 0.072, 0.990, 0.105 },        /* eosin */
	{ 0.268, 0.570, 0.776 },        /* DAB: the rest */
};

static void
optics_draw(struct optics *o, const struct augment *a, struct rng *r)
{
	int i, j;

	memset(o, 0, sizeof *o);
	o->gamma = 1;
	for (i = 0; i < 3; i++)
		o->m[i][i] = 1;
	if (a->blur > 0 && rng_below(r, 2))
		o->sigma = (float)(a->blur * rng_uniform(r));
	if (a->hue > 0 || a->hue_any > 0 || a->saturation > 0) {
		/* rotation about (1,1,1)/sqrt(3) by th, then saturation s
		 * about the grey value: m = s * rot + (1 - s) * grey.  A
		 * share hue_any of the tiles turns by any angle, a stain
		 * unlike every one in the data (draws made only when on) */
		double deg = a->hue_any > 0 && rng_uniform(r) < a->hue_any ?
		    180 : a->hue;
		double th = deg > 0 ? (2 * rng_uniform(r) - 1) * deg *
		    3.14159265358979323846 / 180 : 0;
		double sat = a->saturation > 0 ? jitter(r, a->saturation) : 1;
		double c = cos(th), sn = sin(th), k = 1.0 / 3;

		for (i = 0; i < 3; i++)
			for (j = 0; j < 3; j++) {
				double rot = (i == j ? c : 0) + k * (1 - c) +
				    ((j - i + 3) % 3 == 1 ? -1 : (j - i + 3) %
				    3 == 2 ? 1 : 0) * sqrt(k) * sn;
				o->m[i][j] = (float)(sat * rot + (1 - sat) * k);
			}
		o->matrix = 1;
	}
	if (a->hed > 0) {
		/* Tellez et al. (IEEE TMI 2018): each dye's amount scaled
		 * by 1 +- hed and shifted by +- hed */
		for (i = 0; i < 3; i++) {
			o->hed_mul[i] = jitter(r, a->hed);
			o->hed_add[i] = (float)(a->hed * (2 * rng_uniform(r) -
			    1));
		}
		o->hed = 1;
	}
	if (a->gamma > 0)
		o->gamma = jitter(r, a->gamma);
	if (a->noise > 0)
		o->noise = (float)(a->noise * rng_uniform(r));
}

/* The inverse of hed_vec (as a matrix with the dyes in rows) into INV,
 * so that amounts = OD * INV (OD a row vector). */
static void
hed_inverse(double inv[3][3])
{
	const double (*m)[3] = hed_vec;
	double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
	    m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
	    m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
	int i, j;

	for (i = 0; i < 3; i++)
		for (j = 0; j < 3; j++) {
			/* the cofactor of m[j][i], transposed */
			int r0 = (j + 1) % 3, r1 = (j + 2) % 3;
			int c0 = (i + 1) % 3, c1 = (i + 2) % 3;
			inv[i][j] = (m[r0][c0] * m[r1][c1] -
			    m[r0][c1] * m[r1][c0]) / det;
		}
}

/* The pixel P (3 values, 0..255) with the dye amounts of O changed. */
static void
hed_apply(float *p, const struct optics *o, const double inv[3][3])
{
	double od[3], amt[3];
	int c, k;

	for (c = 0; c < 3; c++)
		od[c] = -log(((p[c] < 0 ? 0 : p[c]) + 1) / 256.0);
	for (k = 0; k < 3; k++) {
		amt[k] = od[0] * inv[0][k] + od[1] * inv[1][k] +
		    od[2] * inv[2][k];
		amt[k] = amt[k] * o->hed_mul[k] + o->hed_add[k];
	}
	for (c = 0; c < 3; c++) {
		double d = amt[0] * hed_vec[0][c] + amt[1] * hed_vec[1][c] +
		    amt[2] * hed_vec[2][c];
		p[c] = (float)(256 * exp(-d) - 1);
	}
}

/* Separable Gaussian blur of the (h,w,3) picture P in place. */
static void
blur3(float *p, int w, int h, float sigma)
{
	int rad = (int)ceilf(2 * sigma), i, x, y, c, k;
	float ker[16], sum = 0;
	float *t = xmalloc_array((size_t)w * h * 3, sizeof *t);

	if (rad > 7)
		rad = 7;
	for (k = -rad; k <= rad; k++)
		sum += ker[k + rad] = expf(-0.5f * k * k / (sigma * sigma));
	for (k = 0; k <= 2 * rad; k++)
		ker[k] /= sum;
	for (y = 0; y < h; y++)         /* rows, into t */
		for (x = 0; x < w; x++)
			for (c = 0; c < 3; c++) {
				float v = 0;
				for (k = -rad; k <= rad; k++) {
					i = x + k < 0 ? -(x + k) : x + k >= w ?
					    2 * w - 2 - (x + k) : x + k;
					v += ker[k + rad] *
					    p[((size_t)y * w + i) * 3 + c];
				}
				t[((size_t)y * w + x) * 3 + c] = v;
			}
	for (y = 0; y < h; y++)         /* columns, back into p */
		for (x = 0; x < w; x++)
			for (c = 0; c < 3; c++) {
				float v = 0;
				for (k = -rad; k <= rad; k++) {
					i = y + k < 0 ? -(y + k) : y + k >= h ?
					    2 * h - 2 - (y + k) : y + k;
					v += ker[k + rad] *
					    t[((size_t)i * w + x) * 3 + c];
				}
				p[((size_t)y * w + x) * 3 + c] = v;
			}
	free(t);
}

/* The optics pass on the network input X (h,w,3, normalised): back to
 * 0..255, blur, dye amounts, matrix, gamma, noise, clip, normalise
 * again. */
static void
optics_apply(float *x, int w, int h, const float mean[3],
    const float std[3], const struct optics *o, struct rng *r)
{
	size_t i, npix = (size_t)w * h;
	double inv[3][3];
	int c;

	for (i = 0; i < npix; i++)
		for (c = 0; c < 3; c++)
			x[i * 3 + c] = x[i * 3 + c] * std[c] + mean[c];
	if (o->sigma > 0.05f)
		blur3(x, w, h, o->sigma);
	if (o->hed)
		hed_inverse(inv);
	for (i = 0; i < npix; i++) {
		float *p = x + i * 3, v[3];

		if (o->hed)
			hed_apply(p, o, inv);

		for (c = 0; c < 3; c++)
			v[c] = o->matrix ? o->m[c][0] * p[0] + o->m[c][1] *
			    p[1] + o->m[c][2] * p[2] : p[c];
		for (c = 0; c < 3; c++) {
			float u = v[c] < 0 ? 0 : v[c] > 255 ? 255 : v[c];
			if (o->gamma != 1)
				u = 255 * powf(u / 255, o->gamma);
			if (o->noise > 0)
				u += o->noise * rng_normal(r);
			u = u < 0 ? 0 : u > 255 ? 255 : u;
			p[c] = (u - mean[c]) / std[c];
		}
	}
}

void
tile_to_input(float *x, uint8_t *y, const unsigned char *tile,
    int w, int h, const float mean[3], const float std[3],
    const struct augment *a, struct rng *r)
{
	int flipx = 0, flipy = 0, rot = 0, xx, yy, c, k;
	float zoom = 1, bright = 1, contrast = 1, gain[3] = { 1, 1, 1 };
	float tmean[3] = { 0 }, mul[3], add[3];
	size_t i, npix = (size_t)w * h;
	struct optics opt;
	int optics = a != NULL && (a->hue > 0 || a->hue_any > 0 ||
	    a->hed > 0 || a->saturation > 0 ||
	    a->gamma > 0 || a->blur > 0 || a->noise > 0);

	if (a != NULL) {
		flipx = a->flip && rng_below(r, 2);
		flipy = a->flip && rng_below(r, 2);
		rot = a->rot90 && w == h ? (int)rng_below(r, 4) : 0;
		zoom = jitter(r, a->scale);
		bright = jitter(r, a->color);
		contrast = jitter(r, a->color);
		for (c = 0; c < 3; c++)
			gain[c] = jitter(r, a->stain);
		if (optics)
			optics_draw(&opt, a, r);
	}
	/* colour: v' = ((v - m) * contrast + m) * bright * gain, folded into
	 * one multiply-add per channel with the normalisation */
	if (contrast != 1) {
		for (i = 0; i < npix; i++)
			for (c = 0; c < 3; c++)
				tmean[c] += tile[i * 4 + c];
		for (c = 0; c < 3; c++)
			tmean[c] /= npix;
	}
	for (c = 0; c < 3; c++) {
		float g = bright * gain[c];
		mul[c] = contrast * g / std[c];
		add[c] = ((1 - contrast) * tmean[c] * g - mean[c]) / std[c];
	}

	for (yy = 0; yy < h; yy++)
		for (xx = 0; xx < w; xx++) {
			/* undo the quarter turn and the flips: integer, exact */
			int u = xx, v = yy, t;
			for (k = 0; k < rot; k++) {
				t = u;
				u = v;
				v = w - 1 - t;
			}
			if (flipx)
				u = w - 1 - u;
			if (flipy)
				v = h - 1 - v;
			float *px = x + ((size_t)yy * w + xx) * 3;
			uint8_t *py = y + (size_t)yy * w + xx;
			if (zoom == 1) {
				const unsigned char *s = tile +
				    ((size_t)v * w + u) * 4;
				for (c = 0; c < 3; c++)
					px[c] = s[c] * mul[c] + add[c];
				*py = s[3];
				continue;
			}
			/* undo the zoom about the centre */
			float fu = (u + 0.5f - w / 2.0f) / zoom + w / 2.0f - 0.5f;
			float fv = (v + 0.5f - h / 2.0f) / zoom + h / 2.0f - 0.5f;
			int nu = (int)floorf(fu + 0.5f), nv = (int)floorf(fv + 0.5f);
			if (nu < 0 || nv < 0 || nu >= w || nv >= h) {
				for (c = 0; c < 3; c++)
					px[c] = 0;
				*py = 255;
				continue;
			}
			*py = tile[((size_t)nv * w + nu) * 4 + 3];
			int u0 = (int)floorf(fu), v0 = (int)floorf(fv);
			float du = fu - u0, dv = fv - v0;
			int u1 = u0 + 1, v1 = v0 + 1;
			u0 = u0 < 0 ? 0 : u0, v0 = v0 < 0 ? 0 : v0;
			u1 = u1 >= w ? w - 1 : u1, v1 = v1 >= h ? h - 1 : v1;
			for (c = 0; c < 3; c++) {
				float p00 = tile[((size_t)v0 * w + u0) * 4 + c];
				float p01 = tile[((size_t)v0 * w + u1) * 4 + c];
				float p10 = tile[((size_t)v1 * w + u0) * 4 + c];
				float p11 = tile[((size_t)v1 * w + u1) * 4 + c];
				float s = (p00 * (1 - du) + p01 * du) * (1 - dv) +
				    (p10 * (1 - du) + p11 * du) * dv;
				px[c] = s * mul[c] + add[c];
			}
		}
	if (optics)
		optics_apply(x, w, h, mean, std, &opt, r);
}
