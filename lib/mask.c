/*
 * mask.c - binary masks and label images (mask.h).
 *
 * The morphology goes through the exact squared Euclidean distance
 * transform of Felzenszwalb and Huttenlocher ("Distance transforms of
 * sampled functions", 2012): two 1-D passes, linear in the pixel count
 * whatever the radius.
 */
#include "mask.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

// --- components and holes ----------------------------------------------------

int
mask_label(int *lab, const unsigned char *m, int w, int h, long **area)
{
	size_t npix = (size_t)w * h, i, top;
	size_t *stack = xmalloc_array(npix, sizeof *stack);
	long *ar = NULL;
	int n = 0, cap = 0, x, y, dx, dy;

	memset(lab, 0, npix * sizeof *lab);
	for (i = 0; i < npix; i++) {
		if (!m[i] || lab[i])
			continue;
		if (++n >= cap) {
			cap = cap ? 2 * cap : 64;
			ar = xrealloc(ar, (size_t)cap * sizeof *ar);
		}
		ar[n] = 0;
		lab[i] = n;
		stack[0] = i;
		top = 1;
		while (top > 0) {
			size_t p = stack[--top];
			ar[n]++;
			x = p % w;
			y = p / w;
			for (dy = -1; dy <= 1; dy++)
				for (dx = -1; dx <= 1; dx++) {
					size_t q;
					if (x + dx < 0 || x + dx >= w ||
					    y + dy < 0 || y + dy >= h)
						continue;
					q = (size_t)(y + dy) * w + x + dx;
					if (m[q] && !lab[q]) {
						lab[q] = n;
						stack[top++] = q;
					}
				}
		}
	}
	free(stack);
	if (area != NULL)
		*area = ar;
	else
		free(ar);
	return n;
}

void
mask_from_label(unsigned char *m, const int *lab, size_t npix, int l)
{
	size_t i;

	for (i = 0; i < npix; i++)
		m[i] = lab[i] == l;
}

long
mask_keep_largest(unsigned char *m, int w, int h)
{
	size_t npix = (size_t)w * h;
	int *lab = xmalloc_array(npix, sizeof *lab);
	long *area, best = 0;
	int n, i, l = 0;

	n = mask_label(lab, m, w, h, &area);
	for (i = 1; i <= n; i++)
		if (area[i] > best) {
			best = area[i];
			l = i;
		}
	mask_from_label(m, lab, npix, l);
	free(area);
	free(lab);
	return best;
}

void
mask_fill_holes(unsigned char *m, int w, int h)
{
	size_t npix = (size_t)w * h, top = 0, i;
	size_t *stack = xmalloc_array(npix, sizeof *stack);
	unsigned char *out = xcalloc(npix, 1);
	int x, y;

	/* OUT marks the outside: 0 pixels reached from the border. */
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++)
			if ((x == 0 || y == 0 || x == w - 1 || y == h - 1) &&
			    !m[(size_t)y * w + x]) {
				out[(size_t)y * w + x] = 1;
				stack[top++] = (size_t)y * w + x;
			}
	while (top > 0) {
		size_t p = stack[--top], q[4];
		int k, nq = 0;
		x = p % w;
		y = p / w;
		if (x > 0)
			q[nq++] = p - 1;
		if (x < w - 1)
			q[nq++] = p + 1;
		if (y > 0)
			q[nq++] = p - w;
		if (y < h - 1)
			q[nq++] = p + w;
		for (k = 0; k < nq; k++)
			if (!m[q[k]] && !out[q[k]]) {
				out[q[k]] = 1;
				stack[top++] = q[k];
			}
	}
	for (i = 0; i < npix; i++)
		m[i] = !out[i];
	free(out);
	free(stack);
}

// --- boxes -------------------------------------------------------------------

void
mask_boxes(struct mask_box *box, int n, const void *lab, size_t size,
    int w, int h)
{
	const unsigned char *lab8 = lab;
	const int *labi = lab;
	struct mask_box *b;
	int l, x, y;
	size_t i;

	if (n < 1)
		return;
	for (l = 1; l <= n; l++)
		box[l] = (struct mask_box){ w, h, -1, -1, 0 };
	for (y = 0, i = 0; y < h; y++)
		for (x = 0; x < w; x++, i++) {
			l = size == 1 ? lab8[i] : labi[i];
			if (l < 1 || l > n)
				continue;
			b = &box[l];
			b->area++;
			if (x < b->x0)
				b->x0 = x;
			if (x > b->x1)
				b->x1 = x;
			if (y < b->y0)
				b->y0 = y;
			b->y1 = y;
		}
}

int
mask_bbox(struct mask_box *b, const unsigned char *m, int w, int h)
{
	struct mask_box box[2];

	mask_boxes(box, 1, m, 1, w, h);
	*b = box[1];
	return b->area > 0;
}

// --- distance transform and morphology ---------------------------------------

/* Squared distance transform of the N samples F (stride FS) into D
 * (stride DS); V and Z are scratch of N and N + 1 entries. */
static void
edt_1d(const double *f, size_t fs, double *d, size_t ds, int n, int *v,
    double *z)
{
	int k = 0, q;
	double s;

	v[0] = 0;
	z[0] = -HUGE_VAL;
	z[1] = HUGE_VAL;
	for (q = 1; q < n; q++) {
		for (;;) {
			s = ((f[q * fs] + (double)q * q) -
			    (f[v[k] * fs] + (double)v[k] * v[k])) /
			    (2.0 * q - 2.0 * v[k]);
			if (s > z[k])
				break;
			k--;
		}
		k++;
		v[k] = q;
		z[k] = s;
		z[k + 1] = HUGE_VAL;
	}
	for (k = 0, q = 0; q < n; q++) {
		while (z[k + 1] < q)
			k++;
		d[q * ds] = (double)(q - v[k]) * (q - v[k]) + f[v[k] * fs];
	}
}

void
mask_edt(double *d, const unsigned char *m, int w, int h, int feature)
{
	size_t npix = (size_t)w * h, i;
	int n = w > h ? w : h, x, y;
	double *f = xmalloc_array(npix, sizeof *f);
	double *z = xmalloc_array(n + 1, sizeof *z);
	int *v = xmalloc_array(n, sizeof *v);

	for (i = 0; i < npix; i++)
		f[i] = m[i] == feature ? 0 : MASK_FAR;
	for (x = 0; x < w; x++)
		edt_1d(f + x, w, d + x, w, h, v, z);
	memcpy(f, d, npix * sizeof *f);
	for (y = 0; y < h; y++)
		edt_1d(f + (size_t)y * w, 1, d + (size_t)y * w, 1, w, v, z);
	free(v);
	free(z);
	free(f);
}

/* Dilate M (GROW = 1) or erode it (GROW = 0) with a disk of radius R:
 * a pixel is inside a dilation when the nearest inside pixel is within R,
 * and inside an erosion when the nearest outside pixel is beyond R. */
static void
morph(unsigned char *m, int w, int h, double r, int grow)
{
	size_t npix = (size_t)w * h, i;
	double *d = xmalloc_array(npix, sizeof *d);

	mask_edt(d, m, w, h, grow);
	for (i = 0; i < npix; i++)
		m[i] = (d[i] <= r * r) == grow;
	free(d);
}

void
mask_dilate(unsigned char *m, int w, int h, double r)
{
	morph(m, w, h, r, 1);
}

void
mask_erode(unsigned char *m, int w, int h, double r)
{
	morph(m, w, h, r, 0);
}

void
mask_open(unsigned char *m, int w, int h, double r)
{
	mask_erode(m, w, h, r);
	mask_dilate(m, w, h, r);
}

void
mask_close(unsigned char *m, int w, int h, double r)
{
	mask_dilate(m, w, h, r);
	mask_erode(m, w, h, r);
}
