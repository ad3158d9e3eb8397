/*
 * paste.c - sample patches: rotation, flip, colour gain, feathering and
 * pasting onto RGB_LABEL canvases (see paste.h for the two masks).
 *
 * Everything is integer or double arithmetic with no state outside the
 * arguments, so that two calls with the same inputs give the same bytes
 * on every machine and in every thread.
 */
#include "paste.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mask.h"
#include "util.h"

static void
patch_reserve(struct paste_patch *p, size_t npix)
{
	if (npix <= p->cap)
		return;
	p->rgb = xrealloc(p->rgb, npix * 3);
	p->mask = xrealloc(p->mask, npix);
	p->alpha = xrealloc(p->alpha, npix);
	p->label = xrealloc(p->label, npix);
	p->cap = npix;
}

/* SRC as premultiplied floats (alpha, alpha*r, alpha*g, alpha*b per
 * pixel, alpha in 0..1) with a border of one transparent pixel, so that
 * the bilinear taps need no bounds checks.  *PW gets the padded width. */
static float *
premultiply(const struct img *src, int *pw)
{
	const int w = src->width + 2, h = src->height + 2;
	float *f = xcalloc((size_t)w * h * 4, sizeof *f);
	int x, y, ch;

	for (y = 0; y < src->height; y++)
		for (x = 0; x < src->width; x++) {
			const unsigned char *q = src->data +
			    ((size_t)y * src->width + x) * 4;
			float *o = f + ((size_t)(y + 1) * w + x + 1) * 4;
			float a = q[3] / 255.0f;

			o[0] = a;
			for (ch = 0; ch < 3; ch++)
				o[ch + 1] = a * q[ch];
		}
	*pw = w;
	return f;
}

/* Resample SRC into the W x H buffers of P: pixel centres of P are mapped
 * back through the rotation (and the mirror) into SRC, where the
 * premultiplied colour and the alpha are interpolated bilinearly; the
 * colour is then divided by the alpha (so pixels outside the cell never
 * darken its edge) and the mask is the alpha thresholded at one half. */
static void
resample(struct paste_patch *p, const struct img *src, int w, int h,
    double angle, int flip, const float gain[3])
{
	const double c = cos(angle), s = sin(angle);
	const int sw = src->width, sh = src->height;
	int pw, x, y, ch;
	float *f = premultiply(src, &pw);

	for (y = 0; y < h; y++) {
		double v = y + 0.5 - h / 2.0, u = 0.5 - w / 2.0;
		double sx = c * u + s * v + sw / 2.0;
		double sy = -s * u + c * v + sh / 2.0;

		for (x = 0; x < w; x++, sx += c, sy -= s) {
			/* source position in padded pixel-centre units */
			double fx = (flip ? sw - sx : sx) + 0.5;
			double fy = sy + 0.5;
			size_t o = (size_t)y * w + x;
			const float *q;
			float ax, ay, w00, w01, w10, w11, a, col;
			int ix, iy;

			if (fx < 0 || fy < 0 || fx >= sw + 1 || fy >= sh + 1) {
				p->mask[o] = 0;
				memset(p->rgb + o * 3, 0, 3);
				continue;
			}
			ix = (int)fx;
			iy = (int)fy;
			ax = (float)(fx - ix);
			ay = (float)(fy - iy);
			w00 = (1 - ax) * (1 - ay);
			w01 = ax * (1 - ay);
			w10 = (1 - ax) * ay;
			w11 = ax * ay;
			q = f + ((size_t)iy * pw + ix) * 4;
			a = w00 * q[0] + w01 * q[4] + w10 * q[pw * 4] +
			    w11 * q[pw * 4 + 4];
			p->mask[o] = a >= 0.5f;
			for (ch = 1; ch <= 3; ch++) {
				col = a > 0 ? (w00 * q[ch] + w01 * q[4 + ch] +
				    w10 * q[pw * 4 + ch] +
				    w11 * q[pw * 4 + 4 + ch]) / a * gain[ch - 1] :
				    0;
				p->rgb[o * 3 + ch - 1] = col >= 255 ? 255 :
				    (unsigned char)(col + 0.5f);
			}
		}
	}
	free(f);
}

/* Cut the W x H buffers of P down to the bounding box of the mask. */
static void
crop_to_mask(struct paste_patch *p, int w, int h)
{
	struct mask_box b;
	int y, bw, bh;

	mask_bbox(&b, p->mask, w, h);
	p->area = (int)b.area;
	if (p->area == 0) {
		p->w = p->h = 0;
		return;
	}
	bw = b.x1 - b.x0 + 1;
	bh = b.y1 - b.y0 + 1;
	for (y = 0; y < bh; y++) {
		memmove(p->mask + (size_t)y * bw,
		    p->mask + (size_t)(y + b.y0) * w + b.x0, bw);
		memmove(p->rgb + (size_t)y * bw * 3,
		    p->rgb + ((size_t)(y + b.y0) * w + b.x0) * 3,
		    (size_t)bw * 3);
	}
	p->w = bw;
	p->h = bh;
}

/* The weight, 0..255, of a cell pixel at chamfer distance D (thirds of
 * a pixel) from the outside for a soft edge of FEATHER pixels: (d - 1/2)
 * / FEATHER, full FEATHER + 1/2 pixels inside. */
static unsigned char
edge_weight(int d, double feather)
{
	double a;

	if (d == 0)
		return 0;
	if (feather <= 0)
		return 255;
	a = (d / 3.0 - 0.5) / feather;
	return a >= 1 ? 255 : (unsigned char)(a * 255 + 0.5);
}

/* Image alpha and label from the mask: a chamfer (3-4) distance d to the
 * nearest pixel outside the cell, in thirds of a pixel and capped at 255;
 * alpha is edge_weight(d, FEATHER), so the outermost ring of the cell
 * (whose colour a rescaled sample often mixed with its surroundings) is
 * mostly background, and the label is set where edge_weight(d,
 * LABEL_FEATHER) is at least one half. */
static void
feather_alpha(struct paste_patch *p, double feather, double label_feather)
{
	const int w = p->w, h = p->h;
	unsigned char *d = p->alpha;
	int x, y, t;
	size_t i, n = (size_t)w * h;

#define AT(xx, yy) (((xx) < 0 || (yy) < 0 || (xx) >= w || (yy) >= h) ? 0 : \
	d[(size_t)(yy) * w + (xx)])
#define MINTO(v, e) do { int e_ = (e); if (e_ < (v)) (v) = e_; } while (0)
	if (feather <= 0 && label_feather <= 0) {
		for (i = 0; i < n; i++)
			d[i] = p->label[i] = p->mask[i] ? 255 : 0;
		return;
	}
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			if (!p->mask[(size_t)y * w + x]) {
				d[(size_t)y * w + x] = 0;
				continue;
			}
			t = 255;
			MINTO(t, AT(x - 1, y) + 3);
			MINTO(t, AT(x, y - 1) + 3);
			MINTO(t, AT(x - 1, y - 1) + 4);
			MINTO(t, AT(x + 1, y - 1) + 4);
			d[(size_t)y * w + x] = t;
		}
	for (y = h - 1; y >= 0; y--)
		for (x = w - 1; x >= 0; x--) {
			t = d[(size_t)y * w + x];
			if (t == 0)
				continue;
			MINTO(t, AT(x + 1, y) + 3);
			MINTO(t, AT(x, y + 1) + 3);
			MINTO(t, AT(x + 1, y + 1) + 4);
			MINTO(t, AT(x - 1, y + 1) + 4);
			d[(size_t)y * w + x] = t;
		}
#undef AT
#undef MINTO
	for (i = 0; i < n; i++) {
		p->label[i] = edge_weight(d[i], label_feather) >= 128;
		d[i] = edge_weight(d[i], feather);
	}
}

void
paste_transform(struct paste_patch *p, const struct img *src, double angle,
    int flip, const float gain[3], double feather)
{
	paste_transform_edge(p, src, angle, flip, gain, feather, feather);
}

void
paste_transform_edge(struct paste_patch *p, const struct img *src,
    double angle, int flip, const float gain[3], double feather,
    double label_feather)
{
	const double c = fabs(cos(angle)), s = fabs(sin(angle));
	int w, h;

	if (src->kind != IMG_RGBA)
		die("paste_transform: sample is %s, not RGB_ALPHA",
		    img_kind_name(src->kind));
	w = (int)ceil(src->width * c + src->height * s) + 2;
	h = (int)ceil(src->width * s + src->height * c) + 2;
	patch_reserve(p, (size_t)w * h);
	resample(p, src, w, h, angle, flip, gain);
	crop_to_mask(p, w, h);
	if (p->area > 0)
		feather_alpha(p, feather, label_feather);
}

int
paste_count(const struct paste_patch *p, int x0, int y0, int w, int h,
    const unsigned char *cover, int stride, int *covered)
{
	int x, y, inside = 0, cov = 0;

	for (y = 0; y < p->h; y++) {
		int cy = y0 + y;
		if (cy < 0 || cy >= h)
			continue;
		for (x = 0; x < p->w; x++) {
			int cx = x0 + x;
			if (cx < 0 || cx >= w || !p->mask[(size_t)y * p->w + x])
				continue;
			inside++;
			if (cover[((size_t)cy * w + cx) * stride])
				cov++;
		}
	}
	*covered = cov;
	return inside;
}

void
paste_apply(struct img *dst, const struct paste_patch *p, int x0, int y0,
    int cls, unsigned char *owner, unsigned char id)
{
	int x, y, ch;

	for (y = 0; y < p->h; y++) {
		int cy = y0 + y;
		if (cy < 0 || cy >= dst->height)
			continue;
		for (x = 0; x < p->w; x++) {
			int cx = x0 + x;
			size_t si = (size_t)y * p->w + x, di;
			unsigned char *q;
			unsigned a;

			if (cx < 0 || cx >= dst->width || !p->mask[si])
				continue;
			di = (size_t)cy * dst->width + cx;
			q = dst->data + di * 4;
			a = p->alpha[si];
			for (ch = 0; ch < 3; ch++)
				q[ch] = (unsigned char)((a * p->rgb[si * 3 + ch] +
				    (255 - a) * q[ch] + 127) / 255);
			if (!p->label[si])
				continue;
			q[3] = (unsigned char)cls;
			if (owner != NULL)
				owner[di] = id;
		}
	}
}

void
paste_free(struct paste_patch *p)
{
	free(p->rgb);
	free(p->mask);
	free(p->alpha);
	free(p->label);
	memset(p, 0, sizeof *p);
}
