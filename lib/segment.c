/*
 * segment.c - the cell segmenters (segment.h), on the masks of mask.h.
 *
 * Touching cells are parted by a seeded watershed on the distance map
 * (Beucher and Meyer's flooding, with a bucket queue): blobs meet along
 * the narrow neck between them, where the distance to the background has
 * its saddle.
 *
 * The segmenters' thresholds and sizes are in one table below, tuned by
 * eye on contact sheets of every source in share/blocks.  Sizes are in
 * pixels at the 40x scale (a red cell about 38 px across) and are divided
 * by the source's scale factor before use; colour thresholds are relative
 * to the photo's background and so need no per-source tuning.
 */
#include "segment.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mask.h"
#include "util.h"

#define SEG_PI 3.14159265358979323846

/* Colour thresholds (0..255 units, see struct stain) and sizes (px at the
 * 40x scale; areas in px^2). */
static const struct {
	int nuc_purple, nuc_dark;       /* a white cell's nucleus */
	int strong_purple, strong_dark; /* the core of a platelet */
	int weak_purple, weak_dark;     /* its paler rim */
	int fg_min, fg_max;             /* clamp of the Otsu foreground level */
	double nuc_close;               /* joins the lobes of a nucleus */
	double nuc_area, nuc_reach;     /* smallest nucleus; how far off centre */
	double wbc_blur;                /* smooths granules before thresholding */
	double wbc_level;               /* cytoplasm: this times the Otsu level */
	double wbc_smooth, wbc_close;   /* outline smoothing */
	double wbc_core;                /* a blob's core: this far inside it */
	double wbc_slack;               /* disk radius over the median ray */
	double plt_area, plt_reach;     /* smallest platelet core; how far off */
	double plt_close;
	double plt_relative, plt_floor; /* pale platelets: levels vs the peak */
	double clump_close;             /* blobs closer than twice this merge */
	double rbc_open, rbc_area, rbc_reach;
} par = {
	.nuc_purple = 45, .nuc_dark = 70,
	.strong_purple = 40, .strong_dark = 40,
	.weak_purple = 35, .weak_dark = 30,
	.fg_min = 15, .fg_max = 60,
	.nuc_close = 2, .nuc_area = 30, .nuc_reach = 30,
	.wbc_blur = 1.5, .wbc_level = 0.7, .wbc_smooth = 2, .wbc_close = 4,
	.wbc_core = 10, .wbc_slack = 1.0,
	.plt_area = 3, .plt_reach = 25, .plt_close = 1,
	.plt_relative = 0.6, .plt_floor = 20,
	.clump_close = 3,
	.rbc_open = 3, .rbc_area = 100, .rbc_reach = 15,
};

const char *
seg_result_name(enum seg_result r)
{
	static const char *const names[SEG_NRESULTS] = {
		[SEG_OK] = "ok",
		[SEG_NO_CELL] = "no cell",
		[SEG_OFF_CENTRE] = "off centre",
		[SEG_LEAK] = "touches the edge",
		[SEG_TOO_SMALL] = "too small",
		[SEG_TOO_LARGE] = "too large",
		[SEG_NOT_ROUND] = "not round",
	};

	return r < SEG_NRESULTS ? names[r] : "?";
}

// --- stain measures ----------------------------------------------------------

/* The per-pixel measures of one photo, relative to its background. */
struct stain {
	int w, h;
	short *purple;          /* (B - G) minus the background's B - G */
	short *dark;            /* background minus pixel, darkest channel */
	short *darkg;           /* background minus pixel, green channel */
	int fg_level;           /* Otsu level of DARK: cells vs plasma */
};

/* Replace the W x H values V by their mean over a (2R+1)^2 box, clipped
 * at the border: smooths the granules of a cytoplasm into one level. */
static void
box_blur(short *v, int w, int h, int r)
{
	int n = w > h ? w : h, x, y, i, lo, hi;
	long *acc = xmalloc_array(n + 1, sizeof *acc);
	short *line = xmalloc_array(n, sizeof *line);

	for (y = 0; y < h; y++) {
		short *row = v + (size_t)y * w;
		for (acc[0] = 0, x = 0; x < w; x++)
			acc[x + 1] = acc[x] + row[x];
		for (x = 0; x < w; x++) {
			lo = x - r < 0 ? 0 : x - r;
			hi = x + r >= w ? w - 1 : x + r;
			line[x] = (short)((acc[hi + 1] - acc[lo]) / (hi - lo + 1));
		}
		memcpy(row, line, w * sizeof *line);
	}
	for (x = 0; x < w; x++) {
		for (acc[0] = 0, y = 0; y < h; y++)
			acc[y + 1] = acc[y] + v[(size_t)y * w + x];
		for (y = 0; y < h; y++) {
			lo = y - r < 0 ? 0 : y - r;
			hi = y + r >= h ? h - 1 : y + r;
			line[y] = (short)((acc[hi + 1] - acc[lo]) / (hi - lo + 1));
		}
		for (i = 0; i < h; i++)
			v[(size_t)i * w + x] = line[i];
	}
	free(line);
	free(acc);
}

void
seg_background_colour(const struct img *im, double bg[3])
{
	size_t npix = (size_t)im->width * im->height, i, n = 0, acc = 0;
	long hist[766] = { 0 };
	const unsigned char *p;
	int level, k;

	for (i = 0, p = im->data; i < npix; i++, p += im->depth)
		hist[p[0] + p[1] + p[2]]++;
	for (level = 765; level > 0; level--) {
		acc += hist[level];
		if (acc * 5 >= npix)
			break;
	}
	bg[0] = bg[1] = bg[2] = 0;
	for (i = 0, p = im->data; i < npix; i++, p += im->depth)
		if (p[0] + p[1] + p[2] >= level) {
			for (k = 0; k < 3; k++)
				bg[k] += p[k];
			n++;
		}
	for (k = 0; k < 3; k++)
		bg[k] /= n;
}

/* Otsu's threshold of a 256-bin histogram: the level t that best splits
 * the values below t from those at or above it. */
int
seg_otsu(const long hist[256])
{
	double sum = 0, sum0 = 0, w0 = 0, total = 0, best = -1, var;
	int t, best_t = 128;

	for (t = 0; t < 256; t++) {
		total += hist[t];
		sum += (double)t * hist[t];
	}
	for (t = 1; t < 256; t++) {
		w0 += hist[t - 1];
		sum0 += (double)(t - 1) * hist[t - 1];
		if (w0 == 0 || w0 == total)
			continue;
		var = w0 * (total - w0) * pow(sum0 / w0 -
		    (sum - sum0) / (total - w0), 2);
		if (var > best) {
			best = var;
			best_t = t;
		}
	}
	return best_t;
}

static void
stain_compute(struct stain *s, const struct img *im)
{
	size_t npix = (size_t)im->width * im->height, i;
	const unsigned char *p;
	long hist[256] = { 0 };
	double bg[3];
	int k, d, dk;

	seg_background_colour(im, bg);
	s->w = im->width;
	s->h = im->height;
	s->purple = xmalloc_array(npix, sizeof *s->purple);
	s->dark = xmalloc_array(npix, sizeof *s->dark);
	s->darkg = xmalloc_array(npix, sizeof *s->darkg);
	for (i = 0, p = im->data; i < npix; i++, p += im->depth) {
		s->purple[i] = (short)lround((p[2] - p[1]) - (bg[2] - bg[1]));
		s->darkg[i] = (short)lround(bg[1] - p[1]);
		for (d = 0, k = 0; k < 3; k++) {
			dk = (int)lround(bg[k] - p[k]);
			if (dk > d)
				d = dk;
		}
		s->dark[i] = (short)d;
		hist[d > 255 ? 255 : d]++;
	}
	s->fg_level = seg_otsu(hist);
	if (s->fg_level < par.fg_min)
		s->fg_level = par.fg_min;
	if (s->fg_level > par.fg_max)
		s->fg_level = par.fg_max;
}

static void
stain_free(struct stain *s)
{
	free(s->purple);
	free(s->dark);
	free(s->darkg);
}

/* M gets the pixels with purple >= P and darkg >= D. */
static void
stain_mask(unsigned char *m, const struct stain *s, int p, int d)
{
	size_t npix = (size_t)s->w * s->h, i;

	for (i = 0; i < npix; i++)
		m[i] = s->purple[i] >= p && s->darkg[i] >= d;
}

// --- the segmenters ----------------------------------------------------------

/* The component of LAB (N of them, areas AREA) with at least MINAREA
 * pixels whose nearest pixel is closest to (CX, CY); its distance goes to
 * *DIST.  Returns 0 if no component is big enough. */
static int
nearest_component(const int *lab, int n, const long *area, double minarea,
    int w, int h, double cx, double cy, double *dist)
{
	double *best = xmalloc_array(n + 1, sizeof *best), d2, bd = HUGE_VAL;
	int x, y, l, found = 0;

	for (l = 0; l <= n; l++)
		best[l] = HUGE_VAL;
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			l = lab[(size_t)y * w + x];
			d2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
			if (l && d2 < best[l])
				best[l] = d2;
		}
	for (l = 1; l <= n; l++)
		if (area[l] >= minarea && best[l] < bd) {
			bd = best[l];
			found = l;
		}
	free(best);
	*dist = sqrt(bd);
	return found;
}

/* Pick the component of M nearest (CX, CY) with at least MINAREA pixels
 * and no further than REACH; M keeps only it.  Returns SEG_NO_CELL if M
 * has no such component at all, SEG_OFF_CENTRE if none is near enough. */
static enum seg_result
pick_nearest(unsigned char *m, int w, int h, double cx, double cy,
    double minarea, double reach)
{
	size_t npix = (size_t)w * h;
	int *lab = xmalloc_array(npix, sizeof *lab);
	long *area;
	double dist;
	int n, l;
	enum seg_result r = SEG_OK;

	n = mask_label(lab, m, w, h, &area);
	l = nearest_component(lab, n, area, minarea, w, h, cx, cy, &dist);
	if (l == 0)
		r = SEG_NO_CELL;
	else if (dist > reach)
		r = SEG_OFF_CENTRE;
	mask_from_label(m, lab, npix, r == SEG_OK ? l : 0);
	free(area);
	free(lab);
	return r;
}

/* Keep the components of M that share a pixel with SEED, and add SEED. */
static void
keep_touching(unsigned char *m, const unsigned char *seed, int w, int h)
{
	size_t npix = (size_t)w * h, i;
	int *lab = xmalloc_array(npix, sizeof *lab);
	int n = mask_label(lab, m, w, h, NULL);
	unsigned char *hit = xcalloc(n + 1, 1);

	for (i = 0; i < npix; i++)
		if (seed[i])
			hit[lab[i]] = 1;
	for (i = 0; i < npix; i++)
		m[i] = seed[i] || (lab[i] && hit[lab[i]]);
	free(hit);
	free(lab);
}

/* Whether M has a pixel on the border of the image. */
static int
touches_border(const unsigned char *m, int w, int h)
{
	struct mask_box b;

	return mask_bbox(&b, m, w, h) &&
	    (b.x0 == 0 || b.y0 == 0 || b.x1 == w - 1 || b.y1 == h - 1);
}

/* A bucket queue of pixel indices keyed by small levels 0..NLEV-1. */
struct bqueue {
	int nlev;
	size_t **v, *len, *cap;
};

static void
bq_init(struct bqueue *q, int nlev)
{
	q->nlev = nlev;
	q->v = xcalloc(nlev, sizeof *q->v);
	q->len = xcalloc(nlev, sizeof *q->len);
	q->cap = xcalloc(nlev, sizeof *q->cap);
}

static void
bq_push(struct bqueue *q, int lev, size_t p)
{
	if (q->len[lev] == q->cap[lev]) {
		q->cap[lev] = q->cap[lev] ? 2 * q->cap[lev] : 64;
		q->v[lev] = xrealloc(q->v[lev], q->cap[lev] * sizeof **q->v);
	}
	q->v[lev][q->len[lev]++] = p;
}

static void
bq_free(struct bqueue *q)
{
	int l;

	for (l = 0; l < q->nlev; l++)
		free(q->v[l]);
	free(q->v);
	free(q->len);
	free(q->cap);
}

/* Seeded watershed of the foreground FG on its distance map DT (integer
 * px): every FG pixel joined to a seed in LAB (labels > 0) takes the label
 * of the seed that floods it first, the flood going down from high DT to
 * low, so that touching round cells part along the neck between them.
 * A queued pixel is marked -1 in LAB until it gets its label. */
static void
watershed(int *lab, const unsigned char *fg, const int *dt, int w, int h)
{
	size_t npix = (size_t)w * h, i, p, q;
	struct bqueue bq;
	int maxd = 0, cur, dx, dy, x, y;

	for (i = 0; i < npix; i++)
		if (dt[i] > maxd)
			maxd = dt[i];
	bq_init(&bq, maxd + 1);
	for (i = 0; i < npix; i++)
		if (lab[i] > 0)
			bq_push(&bq, dt[i], i);
	for (cur = maxd; cur >= 0; cur--)
		while (bq.len[cur] > 0) {
			p = bq.v[cur][--bq.len[cur]];
			x = p % w;
			y = p / w;
			for (dy = -1; dy <= 1; dy++)
				for (dx = -1; dx <= 1; dx++) {
					if (x + dx < 0 || x + dx >= w ||
					    y + dy < 0 || y + dy >= h)
						continue;
					q = (size_t)(y + dy) * w + x + dx;
					if (lab[p] < 0 && lab[q] > 0)
						lab[p] = lab[q];
				}
			for (dy = -1; dy <= 1; dy++)
				for (dx = -1; dx <= 1; dx++) {
					if (x + dx < 0 || x + dx >= w ||
					    y + dy < 0 || y + dy >= h)
						continue;
					q = (size_t)(y + dy) * w + x + dx;
					if (fg[q] && lab[q] == 0) {
						lab[q] = -1;
						bq_push(&bq, dt[q] < cur ? dt[q] :
						    cur, q);
					}
				}
		}
	bq_free(&bq);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Clip the region M, which holds the point (CX, CY), to a disk fitted to
 * it.  Rays from the centre measure the region's radius in NRAY
 * directions; the parts of neighbours still attached make a few rays long
 * but leave the median alone.  The centre moves to the mean end of the
 * rays (each capped at RAY_CAP times the median) and the rays are cast
 * again; the disk's radius is SLACK times the final median. */
static void
clip_to_disk(unsigned char *m, int w, int h, double cx, double cy,
    double slack)
{
	enum { NRAY = 72, ITER = 3 };
	const double ray_cap = 1.3;
	double len[NRAY], sorted[NRAY], a, r, med = 0, ex, ey;
	int i, it, x, y;

	for (it = 0; it < ITER; it++) {
		for (i = 0; i < NRAY; i++) {
			a = 2 * SEG_PI * i / NRAY;
			for (r = 0;; r += 0.5) {
				x = (int)lround(cx + r * cos(a));
				y = (int)lround(cy + r * sin(a));
				if (x < 0 || y < 0 || x >= w || y >= h ||
				    !m[(size_t)y * w + x])
					break;
			}
			len[i] = sorted[i] = r;
		}
		qsort(sorted, NRAY, sizeof *sorted, cmp_double);
		med = sorted[NRAY / 2];
		if (it == ITER - 1)
			break;
		for (ex = ey = 0, i = 0; i < NRAY; i++) {
			r = fmin(len[i], ray_cap * med);
			a = 2 * SEG_PI * i / NRAY;
			ex += cx + r * cos(a);
			ey += cy + r * sin(a);
		}
		cx = ex / NRAY;
		cy = ey / NRAY;
	}
	r = slack * med;
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++)
			if ((x - cx) * (x - cx) + (y - cy) * (y - cy) > r * r)
				m[(size_t)y * w + x] = 0;
}

/* The centroid of M into (*CX, *CY); M must not be empty. */
static void
nucleus_centre(const unsigned char *m, int w, int h, double *cx, double *cy)
{
	double sx = 0, sy = 0;
	long n = 0;
	int x, y;

	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++)
			if (m[(size_t)y * w + x]) {
				sx += x;
				sy += y;
				n++;
			}
	*cx = sx / n;
	*cy = sy / n;
}

/* A white cell: the nucleus nearest the centre (dark and purple) is the
 * seed of the cell, the cores of the other large blobs (red cells) seed
 * their own regions, and a watershed on the distance map shares the
 * foreground out between them, so that touching red cells fall away. */
static enum seg_result
seg_wbc(unsigned char *m, const struct stain *s, double cx, double cy,
    double k)
{
	size_t npix = (size_t)s->w * s->h, i;
	unsigned char *nuc = xmalloc(npix), *core;
	short *dark;
	double *d2;
	int *dt, *lab, *clab, n, l;
	char *hit;
	enum seg_result r;

	stain_mask(nuc, s, par.nuc_purple, par.nuc_dark);
	mask_close(nuc, s->w, s->h, par.nuc_close * k);
	r = pick_nearest(nuc, s->w, s->h, cx, cy,
	    par.nuc_area * k * k, par.nuc_reach * k);
	if (r != SEG_OK) {
		free(nuc);
		return r;
	}
	/* foreground: smoothed darkness, the nucleus, no holes */
	dark = xmalloc_array(npix, sizeof *dark);
	memcpy(dark, s->dark, npix * sizeof *dark);
	box_blur(dark, s->w, s->h, (int)lround(par.wbc_blur * k));
	for (i = 0; i < npix; i++)
		m[i] = dark[i] >= s->fg_level * par.wbc_level || nuc[i];
	free(dark);
	mask_open(m, s->w, s->h, par.wbc_smooth * k);
	mask_fill_holes(m, s->w, s->h);

	/* seeds: the nucleus (1) and the blob cores that miss it (2...) */
	d2 = xmalloc_array(npix, sizeof *d2);
	mask_edt(d2, m, s->w, s->h, 0);
	dt = xmalloc_array(npix, sizeof *dt);
	core = xmalloc(npix);
	for (i = 0; i < npix; i++) {
		dt[i] = m[i] ? (int)sqrt(d2[i]) : 0;
		core[i] = dt[i] >= par.wbc_core * k;
	}
	free(d2);
	clab = xmalloc_array(npix, sizeof *clab);
	n = mask_label(clab, core, s->w, s->h, NULL);
	hit = xcalloc(n + 1, 1);
	for (i = 0; i < npix; i++)
		if (nuc[i])
			hit[clab[i]] = 1;
	lab = xcalloc(npix, sizeof *lab);
	for (i = 0; i < npix; i++) {
		l = clab[i];
		if (nuc[i] && m[i])
			lab[i] = 1;
		else if (l && !hit[l])
			lab[i] = l + 1;
	}
	watershed(lab, m, dt, s->w, s->h);
	for (i = 0; i < npix; i++)
		m[i] = lab[i] == 1;
	nucleus_centre(nuc, s->w, s->h, &cx, &cy);
	clip_to_disk(m, s->w, s->h, cx, cy, par.wbc_slack);
	mask_open(m, s->w, s->h, par.wbc_smooth * k);
	keep_touching(m, nuc, s->w, s->h);
	mask_close(m, s->w, s->h, par.wbc_close * k);
	free(hit);
	free(lab);
	free(clab);
	free(core);
	free(dt);
	free(nuc);
	return SEG_OK;
}

/* A platelet: the strongly purple blob nearest the centre, grown into the
 * weakly purple pixels joined to it (hysteresis).  Pale platelets (a
 * blurred photo) lower the levels: they are taken relative to the most
 * purple spot near the centre, down to a floor, never above the table's. */
static enum seg_result
seg_platelet(unsigned char *m, const struct stain *s, double cx, double cy,
    double k)
{
	size_t npix = (size_t)s->w * s->h;
	unsigned char *core = xmalloc(npix);
	short *pur = xmalloc_array(npix, sizeof *pur);
	double reach = par.plt_reach * k, f;
	int x, y, peak = 0, peak_dark = 0, sp, sd;
	enum seg_result r;

	memcpy(pur, s->purple, npix * sizeof *pur);
	box_blur(pur, s->w, s->h, 1);
	for (y = 0; y < s->h; y++)
		for (x = 0; x < s->w; x++)
			if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <=
			    reach * reach && pur[(size_t)y * s->w + x] > peak) {
				peak = pur[(size_t)y * s->w + x];
				peak_dark = s->darkg[(size_t)y * s->w + x];
			}
	free(pur);
	f = par.plt_relative;
	sp = (int)fmin(par.strong_purple, fmax(par.plt_floor, f * peak));
	sd = (int)fmin(par.strong_dark, fmax(par.plt_floor, f * peak_dark));
	stain_mask(core, s, sp, sd);
	r = pick_nearest(core, s->w, s->h, cx, cy, par.plt_area * k * k,
	    reach);
	if (r == SEG_OK) {
		stain_mask(m, s, sp * par.weak_purple / par.strong_purple,
		    sd * par.weak_dark / par.strong_dark);
		keep_touching(m, core, s->w, s->h);
		mask_close(m, s->w, s->h, par.plt_close * k);
	}
	free(core);
	return r;
}

/* A platelet clump: strongly purple blobs closer than twice the closing
 * radius merge; the group with the most purple pixels wins. */
static enum seg_result
seg_clump(unsigned char *m, const struct stain *s, double k)
{
	size_t npix = (size_t)s->w * s->h, i;
	unsigned char *core = xmalloc(npix);
	int *lab = xmalloc_array(npix, sizeof *lab);
	long *score;
	int n, l, best = 0;

	stain_mask(core, s, par.strong_purple, par.strong_dark);
	memcpy(m, core, npix);
	mask_close(m, s->w, s->h, par.clump_close * k);
	n = mask_label(lab, m, s->w, s->h, NULL);
	score = xcalloc(n + 1, sizeof *score);
	for (i = 0; i < npix; i++)
		if (core[i])
			score[lab[i]]++;
	for (l = 1; l <= n; l++)
		if (score[l] > score[best])
			best = l;
	mask_from_label(m, lab, npix, best);
	free(score);
	free(lab);
	free(core);
	return best ? SEG_OK : SEG_NO_CELL;
}

/* A red cell: the foreground blob nearest the centre. */
static enum seg_result
seg_rbc(unsigned char *m, const struct stain *s, double cx, double cy,
    double k)
{
	size_t npix = (size_t)s->w * s->h, i;

	for (i = 0; i < npix; i++)
		m[i] = s->dark[i] >= s->fg_level;
	mask_open(m, s->w, s->h, par.rbc_open * k);
	return pick_nearest(m, s->w, s->h, cx, cy, par.rbc_area * k * k,
	    par.rbc_reach * k);
}

enum seg_result
seg_cell(unsigned char *mask, const struct img *im, enum seg_kind kind,
    double cx, double cy, double scale)
{
	struct stain s;
	double k = 1 / scale;   /* 40x pixels to source pixels */
	enum seg_result r = SEG_NO_CELL;

	stain_compute(&s, im);
	switch (kind) {
	case SEG_WBC:
		r = seg_wbc(mask, &s, cx, cy, k);
		break;
	case SEG_PLATELET:
		r = seg_platelet(mask, &s, cx, cy, k);
		break;
	case SEG_CLUMP:
		r = seg_clump(mask, &s, k);
		break;
	case SEG_RBC:
		r = seg_rbc(mask, &s, cx, cy, k);
		break;
	}
	stain_free(&s);
	if (r != SEG_OK)
		return r;
	mask_fill_holes(mask, im->width, im->height);
	if (mask_keep_largest(mask, im->width, im->height) == 0)
		return SEG_NO_CELL;
	if (touches_border(mask, im->width, im->height))
		return SEG_LEAK;
	return SEG_OK;
}
